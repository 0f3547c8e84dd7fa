/* http.c: libcurl-backed HTTP client with bounded buffering and streaming. */
#include "couchestor/http.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "couchestor/clock.h"

#ifndef CS_VERSION
#define CS_VERSION "0.1.0"
#endif

#define CS__HTTP_DEFAULT_MAX ((size_t)64 * 1024 * 1024)
/* Error bodies are decoded for messages only; keep them small. */
#define CS__HTTP_ERROR_BODY_MAX ((size_t)256 * 1024)

struct cs_http_client_s {
    CURL *curl;
    cs_http_options_t opts; /* strings below are owned copies */
    char *base_url, *ca_file, *ca_pem, *cert_file, *key_file, *cert_pem, *key_pem;
    char *token, *basic_user, *basic_password, *user_agent;
};

static pthread_once_t cs__curl_once = PTHREAD_ONCE_INIT;
static void cs__curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static char *cs__dup(const char *s)
{
    return s ? strdup(s) : NULL;
}

void cs_http_client_free(cs_http_client_t *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    free(c->ca_file);
    free(c->ca_pem);
    free(c->cert_file);
    free(c->key_file);
    free(c->cert_pem);
    free(c->key_pem);
    free(c->token);
    free(c->basic_user);
    free(c->basic_password);
    free(c->user_agent);
    free(c);
}

int cs_http_client_new(const cs_http_options_t *opts, cs_http_client_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!opts || !opts->base_url ||
        (strncmp(opts->base_url, "http://", 7) != 0 && strncmp(opts->base_url, "https://", 8) != 0))
        return cs_err_set(err, CS_EINVAL, "HTTP client: base URL \"%.200s\" must start with http:// or https://",
                          opts && opts->base_url ? opts->base_url : "");
    pthread_once(&cs__curl_once, cs__curl_init);
    cs_http_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "HTTP client: out of memory");
    c->opts = *opts;
    c->base_url = strdup(opts->base_url);
    /* drop trailing slashes so that base + "/path" is well-formed */
    if (c->base_url) {
        size_t n = strlen(c->base_url);
        while (n > 8 && c->base_url[n - 1] == '/')
            c->base_url[--n] = '\0';
    }
    c->ca_file = cs__dup(opts->ca_file);
    c->ca_pem = cs__dup(opts->ca_pem);
    c->cert_file = cs__dup(opts->client_cert_file);
    c->key_file = cs__dup(opts->client_key_file);
    c->cert_pem = cs__dup(opts->client_cert_pem);
    c->key_pem = cs__dup(opts->client_key_pem);
    c->token = cs__dup(opts->bearer_token);
    c->basic_user = cs__dup(opts->basic_user);
    c->basic_password = cs__dup(opts->basic_password);
    c->user_agent = opts->user_agent ? strdup(opts->user_agent) : strdup("couchestor/" CS_VERSION);
    c->curl = curl_easy_init();
    if (!c->base_url || !c->user_agent || !c->curl) {
        cs_http_client_free(c);
        return cs_err_set(err, CS_ENOMEM, "HTTP client: out of memory");
    }
    if (c->opts.connect_timeout_ms <= 0)
        c->opts.connect_timeout_ms = 5000;
    if (c->opts.timeout_ms <= 0)
        c->opts.timeout_ms = 30000;
    if (c->opts.max_response_bytes == 0)
        c->opts.max_response_bytes = CS__HTTP_DEFAULT_MAX;
    *out = c;
    return 0;
}

int cs_http_client_clone(const cs_http_client_t *c, cs_http_client_t **out, cs_err_t *err)
{
    cs_http_options_t o = c->opts;
    o.base_url = c->base_url;
    o.ca_file = c->ca_file;
    o.ca_pem = c->ca_pem;
    o.client_cert_file = c->cert_file;
    o.client_key_file = c->key_file;
    o.client_cert_pem = c->cert_pem;
    o.client_key_pem = c->key_pem;
    o.bearer_token = c->token;
    o.basic_user = c->basic_user;
    o.basic_password = c->basic_password;
    o.user_agent = c->user_agent;
    return cs_http_client_new(&o, out, err);
}

int cs_http_client_set_token(cs_http_client_t *c, const char *token)
{
    char *t = cs__dup(token);
    if (token && !t)
        return CS_ENOMEM;
    free(c->token);
    c->token = t;
    return 0;
}

const char *cs_http_client_base_url(const cs_http_client_t *c)
{
    return c->base_url;
}

typedef struct {
    cs_http_client_t *c;
    const cs_http_request_t *req;
    cs_http_response_t *resp;
    size_t cap;
    int sink_rc; /* non-zero when the sink aborted */
    int too_big;
    int streaming; /* decided on the first body byte from the status */
    int decided;
} cs__xfer_t;

static int cs__buffer(cs__xfer_t *x, const char *data, size_t len, size_t limit)
{
    cs_http_response_t *r = x->resp;
    if (r->body_len + len > limit) {
        x->too_big = 1;
        return -1;
    }
    if (r->body_len + len + 1 > x->cap) {
        size_t ncap = x->cap ? x->cap : 4096;
        while (ncap < r->body_len + len + 1)
            ncap *= 2;
        char *nb = realloc(r->body, ncap);
        if (!nb)
            return -1;
        r->body = nb;
        x->cap = ncap;
    }
    memcpy(r->body + r->body_len, data, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

static size_t cs__write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    cs__xfer_t *x = userdata;
    size_t len = size * nmemb;
    if (!x->decided) {
        long status = 0;
        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &status);
        x->resp->status = status;
        x->streaming = x->req->sink && status >= 200 && status < 300;
        x->decided = 1;
    }
    if (x->streaming) {
        int rc = x->req->sink(x->req->sink_ctx, data, len);
        if (rc != 0) {
            x->sink_rc = rc;
            return 0;
        }
        return len;
    }
    size_t limit = x->req->sink ? CS__HTTP_ERROR_BODY_MAX : x->c->opts.max_response_bytes;
    return cs__buffer(x, data, len, limit) == 0 ? len : 0;
}

static size_t cs__header_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
    cs__xfer_t *x = userdata;
    size_t len = size * nmemb;
    /* A new status line (redirects, 100-continue) resets what we know. */
    if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
        x->resp->content_type[0] = '\0';
        x->resp->retry_after_s = -1;
        return len;
    }
    char line[512];
    size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, data, n);
    line[n] = '\0';
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == '\n'))
        line[--n] = '\0';
    if (strncasecmp(line, "content-type:", 13) == 0) {
        const char *v = line + 13;
        while (*v == ' ')
            v++;
        snprintf(x->resp->content_type, sizeof x->resp->content_type, "%.127s", v);
    } else if (strncasecmp(line, "retry-after:", 12) == 0) {
        long v = strtol(line + 12, NULL, 10);
        x->resp->retry_after_s = v >= 0 && v < 86400 ? v : -1;
    }
    return len;
}

static int cs__progress_cb(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const cs__xfer_t *x = userdata;
    return x->req->stop && atomic_load(x->req->stop) ? 1 : 0;
}

void cs_http_response_free(cs_http_response_t *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

static _Thread_local int64_t cs__thread_deadline_ns;

int64_t cs_http_thread_deadline(int64_t deadline_mono_ns)
{
    int64_t prev = cs__thread_deadline_ns;
    cs__thread_deadline_ns = deadline_mono_ns > 0 ? deadline_mono_ns : 0;
    return prev;
}

int cs_http_do(cs_http_client_t *c, const cs_http_request_t *req, cs_http_response_t *resp, cs_err_t *err)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after_s = -1;
    const char *method = req->method ? req->method : "GET";
    const char *path = req->path ? req->path : "";
    long timeout = req->timeout_ms == 0 ? c->opts.timeout_ms : req->timeout_ms;
    if (cs__thread_deadline_ns > 0) {
        int64_t left_ms = (cs__thread_deadline_ns - cs_clock_mono_ns()) / 1000000;
        if (left_ms <= 0)
            return cs_err_set(err, CS_ETIMEOUT, "%s %s: not sent: the caller's deadline has passed", method, path);
        if (timeout <= 0 || timeout > left_ms)
            timeout = (long)left_ms;
    }
    size_t url_len = strlen(c->base_url) + strlen(path) + 2;
    char *url = malloc(url_len);
    if (!url)
        return cs_err_set(err, CS_ENOMEM, "%s %s: out of memory", method, path);
    snprintf(url, url_len, "%s%s%s", c->base_url, (*path && *path != '/') ? "/" : "", path);

    CURL *h = c->curl;
    curl_easy_reset(h);
    cs__xfer_t x = {.c = c, .req = req, .resp = resp};
    struct curl_slist *headers = NULL;
    char hdr[8192];
    char errbuf[CURL_ERROR_SIZE] = "";
    int rc = 0;

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
    if (timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout);
    else {
        /* no overall limit: a dead peer is still noticed by low-speed limits */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 600L);
    }
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cs__write_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, cs__header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    if (req->stop) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, cs__progress_cb);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    if (c->ca_file)
        curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
    if (c->ca_pem) {
        struct curl_blob blob = {.data = c->ca_pem, .len = strlen(c->ca_pem), .flags = CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (c->opts.insecure_skip_verify) {
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (c->cert_file)
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
    if (c->key_file)
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
    if (c->cert_pem) {
        struct curl_blob blob = {.data = c->cert_pem, .len = strlen(c->cert_pem), .flags = CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (c->key_pem) {
        struct curl_blob blob = {.data = c->key_pem, .len = strlen(c->key_pem), .flags = CURL_BLOB_COPY};
        curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (c->basic_user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->basic_user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->basic_password ? c->basic_password : "");
    }
    headers = curl_slist_append(headers, "Accept: application/json, */*");
    if (c->token) {
        snprintf(hdr, sizeof hdr, "Authorization: Bearer %s", c->token);
        headers = curl_slist_append(headers, hdr);
    }
    if (req->content_type) {
        snprintf(hdr, sizeof hdr, "Content-Type: %s", req->content_type);
        headers = curl_slist_append(headers, hdr);
    }
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);

    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (req->body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 || strcmp(method, "PATCH") == 0) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(req->body ? req->body_len : 0));
        }
        if (strcmp(method, "HEAD") == 0)
            curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    }

    CURLcode cr = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;
    if (cr != CURLE_OK) {
        if (x.sink_rc) {
            rc = x.sink_rc > 0 ? CS_ECANCELED : x.sink_rc;
            if (err && err->code == 0)
                cs_err_set(err, rc, "%s %s: stream consumer stopped the transfer", method, url);
        } else if (x.too_big) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s %s: response is larger than %zu bytes", method, url,
                            req->sink ? CS__HTTP_ERROR_BODY_MAX : c->opts.max_response_bytes);
        } else if (cr == CURLE_ABORTED_BY_CALLBACK) {
            rc = cs_err_set(err, CS_ECANCELED, "%s %s: canceled", method, url);
        } else if (cr == CURLE_OPERATION_TIMEDOUT) {
            rc = cs_err_set(err, CS_ETIMEOUT, "%s %s: timed out: %s", method, url,
                            *errbuf ? errbuf : curl_easy_strerror(cr));
        } else if (cr == CURLE_COULDNT_CONNECT || cr == CURLE_COULDNT_RESOLVE_HOST || cr == CURLE_RECV_ERROR ||
                   cr == CURLE_SEND_ERROR || cr == CURLE_GOT_NOTHING || cr == CURLE_SSL_CONNECT_ERROR ||
                   cr == CURLE_PEER_FAILED_VERIFICATION || cr == CURLE_PARTIAL_FILE) {
            rc = cs_err_set(err, CS_EUNAVAILABLE, "%s %s: %s", method, url, *errbuf ? errbuf : curl_easy_strerror(cr));
        } else if (cr == CURLE_OUT_OF_MEMORY) {
            rc = cs_err_set(err, CS_ENOMEM, "%s %s: out of memory", method, url);
        } else {
            rc = cs_err_set(err, CS_EIO, "%s %s: %s", method, url, *errbuf ? errbuf : curl_easy_strerror(cr));
        }
    }
    if (rc == 0 && !resp->body) {
        resp->body = calloc(1, 1); /* callers may always read body as a string */
        if (!resp->body)
            rc = cs_err_set(err, CS_ENOMEM, "%s %s: out of memory", method, url);
    }
    curl_slist_free_all(headers);
    free(url);
    return rc;
}

char *cs_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *p = out;
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') || *q == '-' ||
            *q == '_' || *q == '.' || *q == '~') {
            *p++ = (char)*q;
        } else {
            *p++ = '%';
            *p++ = hex[*q >> 4];
            *p++ = hex[*q & 15];
        }
    }
    *p = '\0';
    return out;
}
