/* client.c: the Kubernetes client: a pool of HTTP connections shared by
 * threads, bearer-token rotation from a token file, and the request loop
 * with bounded retries of 429/5xx honouring Retry-After. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/json.h"
#include "couchestor/log.h"
#include "couchestor/yaml.h"
#include "kube/internal.h"

#define CS__KUBE_DEFAULT_TIMEOUT_MS 30000
#define CS__KUBE_DEFAULT_MAX_RESPONSE (16u << 20)
#define CS__KUBE_DEFAULT_RETRIES 5
#define CS__KUBE_DEFAULT_RETRY_WAIT_MS 10000
/* Backoff between retries when the server gave no Retry-After. */
#define CS__KUBE_RETRY_BASE_NS (INT64_C(100) * 1000000)
#define CS__KUBE_RETRY_CAP_NS (INT64_C(5) * 1000000000)

static char *cs__dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *p = strdup(s);
    if (!p)
        *ok = false;
    return p;
}

static int cs__config_copy(const cs_kube_config_t *src, cs_kube_config_t *dst)
{
    bool ok = true;
    memset(dst, 0, sizeof *dst);
    dst->server = cs__dup_or_null(src->server, &ok);
    dst->ca_file = cs__dup_or_null(src->ca_file, &ok);
    dst->ca_pem = cs__dup_or_null(src->ca_pem, &ok);
    dst->client_cert_file = cs__dup_or_null(src->client_cert_file, &ok);
    dst->client_key_file = cs__dup_or_null(src->client_key_file, &ok);
    dst->client_cert_pem = cs__dup_or_null(src->client_cert_pem, &ok);
    dst->client_key_pem = cs__dup_or_null(src->client_key_pem, &ok);
    dst->token = cs__dup_or_null(src->token, &ok);
    dst->token_file = cs__dup_or_null(src->token_file, &ok);
    dst->username = cs__dup_or_null(src->username, &ok);
    dst->password = cs__dup_or_null(src->password, &ok);
    dst->insecure_skip_verify = src->insecure_skip_verify;
    dst->namespace = cs__dup_or_null(src->namespace ? src->namespace : "default", &ok);
    dst->source = cs__dup_or_null(src->source ? src->source : "explicit configuration", &ok);
    if (!ok) {
        cs_kube_config_free(dst);
        return CS_ENOMEM;
    }
    return 0;
}

/* Reads the token file; on success replaces the token when it changed.
 * A read failure keeps the old token (client-go does the same) and is
 * returned so that the first read can report it. */
static int cs__token_read(cs_kube_client_t *c, cs_err_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cs_file_read_all(c->cfg.token_file, CS_KUBE_CONFIG_MAX_BYTES, &text, &len, err);
    int64_t now = cs_clock_mono_ns();
    if (rc != 0) {
        pthread_mutex_lock(&c->lock);
        c->token_read_ns = now; /* do not hammer a missing file */
        c->token_stale = false;
        pthread_mutex_unlock(&c->lock);
        return rc;
    }
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' || text[len - 1] == '\t'))
        text[--len] = '\0';
    size_t skip = strspn(text, " \t\r\n");
    if (skip)
        memmove(text, text + skip, len - skip + 1);
    pthread_mutex_lock(&c->lock);
    if (*text && (!c->token || strcmp(c->token, text) != 0)) {
        free(c->token);
        c->token = text;
        text = NULL;
        c->token_gen++;
    }
    c->token_read_ns = now;
    c->token_stale = false;
    pthread_mutex_unlock(&c->lock);
    free(text);
    return 0;
}

/* Re-reads the token file when due; returns true when the token changed. */
static bool cs__token_refresh(cs_kube_client_t *c)
{
    if (!c->cfg.token_file)
        return false;
    pthread_mutex_lock(&c->lock);
    bool due = c->token_stale || cs_clock_mono_ns() - c->token_read_ns >= c->opts.token_max_age_ns;
    uint64_t gen = c->token_gen;
    pthread_mutex_unlock(&c->lock);
    if (!due)
        return false;
    cs_err_t e = {0};
    if (cs__token_read(c, &e) != 0)
        CS_WARN("kube: cannot re-read the token file; keeping the old token", "error", e.msg);
    pthread_mutex_lock(&c->lock);
    bool changed = c->token_gen != gen;
    pthread_mutex_unlock(&c->lock);
    return changed;
}

int cs_kube_client_new(const cs_kube_config_t *cfg, const cs_kube_client_options_t *opts, cs_kube_client_t **out,
                       cs_err_t *err)
{
    *out = NULL;
    if (!cfg || !cfg->server)
        return cs_err_set(err, CS_EINVAL, "Kubernetes client: the configuration has no server URL");
    cs_kube_client_t *c = calloc(1, sizeof *c);
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "Kubernetes client: out of memory");
    if (cs__config_copy(cfg, &c->cfg) != 0) {
        free(c);
        return cs_err_set(err, CS_ENOMEM, "Kubernetes client: out of memory");
    }
    if (opts)
        c->opts = *opts;
    if (c->opts.timeout_ms <= 0)
        c->opts.timeout_ms = CS__KUBE_DEFAULT_TIMEOUT_MS;
    if (c->opts.connect_timeout_ms <= 0)
        c->opts.connect_timeout_ms = 5000;
    if (c->opts.max_response_bytes == 0)
        c->opts.max_response_bytes = CS__KUBE_DEFAULT_MAX_RESPONSE;
    if (c->opts.max_json_depth == 0)
        c->opts.max_json_depth = 64;
    if (c->opts.max_string_bytes == 0)
        c->opts.max_string_bytes = 1u << 20;
    if (c->opts.max_retries == 0)
        c->opts.max_retries = CS__KUBE_DEFAULT_RETRIES;
    if (c->opts.max_retries < 0)
        c->opts.max_retries = 0;
    if (c->opts.max_retry_wait_ms <= 0)
        c->opts.max_retry_wait_ms = CS__KUBE_DEFAULT_RETRY_WAIT_MS;
    if (c->opts.token_max_age_ns <= 0)
        c->opts.token_max_age_ns = CS_KUBE_TOKEN_MAX_AGE_NS;
    c->opts.user_agent = strdup(c->opts.user_agent ? c->opts.user_agent : "couchestor/kube");
    pthread_mutex_init(&c->lock, NULL);
    int rc = 0;
    if (!c->opts.user_agent) {
        rc = cs_err_set(err, CS_ENOMEM, "Kubernetes client: out of memory");
        goto fail;
    }
    if (c->cfg.token) {
        c->token = strdup(c->cfg.token);
        if (!c->token) {
            rc = cs_err_set(err, CS_ENOMEM, "Kubernetes client: out of memory");
            goto fail;
        }
        c->token_gen = 1;
    }
    if (c->cfg.token_file) {
        rc = cs__token_read(c, err);
        if (rc != 0 && !c->token) {
            cs_err_prefix(err, "Kubernetes client (%s): cannot read the token file: ", c->cfg.source);
            goto fail;
        }
    }
    cs_http_options_t *h = &c->hopts;
    h->base_url = c->cfg.server;
    h->ca_file = c->cfg.ca_file;
    h->ca_pem = c->cfg.ca_pem;
    h->insecure_skip_verify = c->cfg.insecure_skip_verify;
    h->client_cert_file = c->cfg.client_cert_file;
    h->client_key_file = c->cfg.client_key_file;
    h->client_cert_pem = c->cfg.client_cert_pem;
    h->client_key_pem = c->cfg.client_key_pem;
    h->basic_user = c->cfg.username;
    h->basic_password = c->cfg.password;
    h->connect_timeout_ms = c->opts.connect_timeout_ms;
    h->timeout_ms = c->opts.timeout_ms;
    h->max_response_bytes = c->opts.max_response_bytes;
    h->user_agent = c->opts.user_agent;
    /* Validate the URL and options now rather than at the first request. */
    cs_http_client_t *first = NULL;
    rc = cs_http_client_new(h, &first, err);
    if (rc != 0) {
        cs_err_prefix(err, "Kubernetes client (%s): ", c->cfg.source);
        goto fail;
    }
    c->pool[c->pool_len++] = first;
    c->pool_gen[0] = 0;
    *out = c;
    return 0;
fail:
    cs_kube_client_free(c);
    return rc;
}

void cs_kube_client_free(cs_kube_client_t *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->pool_len; i++)
        cs_http_client_free(c->pool[i]);
    free(c->token);
    free((char *)c->opts.user_agent);
    cs_kube_config_free(&c->cfg);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const char *cs_kube_client_namespace(const cs_kube_client_t *c)
{
    return c->cfg.namespace;
}

const char *cs_kube_client_server(const cs_kube_client_t *c)
{
    return c->cfg.server;
}

/* Takes an idle connection (or makes one) carrying the current token. */
static int cs__pool_take(cs_kube_client_t *c, cs_http_client_t **out, uint64_t *gen_out, cs_err_t *err)
{
    cs_http_client_t *h = NULL;
    uint64_t gen = 0;
    pthread_mutex_lock(&c->lock);
    if (c->pool_len > 0) {
        c->pool_len--;
        h = c->pool[c->pool_len];
        gen = c->pool_gen[c->pool_len];
    }
    pthread_mutex_unlock(&c->lock);
    if (!h) {
        int rc = cs_http_client_new(&c->hopts, &h, err);
        if (rc != 0)
            return rc;
        gen = 0;
    }
    pthread_mutex_lock(&c->lock);
    int rc = 0;
    if (gen != c->token_gen)
        rc = cs_http_client_set_token(h, c->token);
    *gen_out = c->token_gen;
    pthread_mutex_unlock(&c->lock);
    if (rc != 0) {
        cs_http_client_free(h);
        return cs_err_set(err, CS_ENOMEM, "Kubernetes client: out of memory");
    }
    *out = h;
    return 0;
}

static void cs__pool_put(cs_kube_client_t *c, cs_http_client_t *h, uint64_t gen)
{
    pthread_mutex_lock(&c->lock);
    if (c->pool_len < CS__KUBE_POOL_MAX) {
        c->pool[c->pool_len] = h;
        c->pool_gen[c->pool_len] = gen; /* the token this handle carries */
        c->pool_len++;
        h = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    cs_http_client_free(h);
}

typedef struct cs__sinkwrap_s {
    cs_http_sink_fn fn;
    void *ctx;
    bool got;
} cs__sinkwrap_t;

static int cs__sink(void *ctx, const char *data, size_t len)
{
    cs__sinkwrap_t *w = ctx;
    w->got = true;
    return w->fn(w->ctx, data, len);
}

static bool cs__retryable_status(long s)
{
    return s == 429 || s == 500 || s == 502 || s == 503 || s == 504;
}

/* Exponential backoff with equal jitter: half of the capped step is always
 * waited, the other half is random. Whole nanoseconds, so halving an odd
 * step drops at most 1 ns, which does not matter. */
static int64_t cs__backoff_ns(int attempt, cs__kube_rand_t *rnd)
{
    int64_t step = CS__KUBE_RETRY_BASE_NS << (attempt < 6 ? attempt : 6);
    if (step > CS__KUBE_RETRY_CAP_NS)
        step = CS__KUBE_RETRY_CAP_NS;
    int64_t half = step / 2;
    return half + (int64_t)(cs__kube_rand_unit(rnd) * (double)half);
}

int cs__kube_do(cs_kube_client_t *c, const cs__kube_req_t *r, cs_http_response_t *resp, cs_err_t *err)
{
    int max_retries = r->max_retries < 0 ? 0 : (r->max_retries == 0 ? c->opts.max_retries : r->max_retries);
    bool is_get = strcmp(r->method, "GET") == 0;
    bool is_post = strcmp(r->method, "POST") == 0;
    bool token_retried = false;
    cs__kube_rand_t rnd;
    cs__kube_rand_seed(&rnd, (uintptr_t)&rnd);
    memset(resp, 0, sizeof *resp);
    char rname[160];
    for (int attempt = 0;; attempt++) {
        cs__token_refresh(c);
        cs_http_client_t *h = NULL;
        uint64_t gen_used = 0;
        int rc = cs__pool_take(c, &h, &gen_used, err);
        if (rc != 0)
            return rc;
        cs__sinkwrap_t w = {r->sink, r->sink_ctx, false};
        cs_http_request_t hr = {
            .method = r->method,
            .path = r->path,
            .content_type = r->content_type,
            .body = r->body,
            .body_len = r->body_len,
            .timeout_ms = r->timeout_ms,
            .sink = r->sink ? cs__sink : NULL,
            .sink_ctx = &w,
            .stop = r->stop,
        };
        cs_err_t e = {0};
        cs_http_response_free(resp);
        rc = cs_http_do(h, &hr, resp, &e);
        cs__pool_put(c, h, gen_used);
        bool stopped = r->stop && atomic_load(r->stop);
        if (rc != 0) {
            /* A read that never reached the server (or never got bytes)
             * is safe to try again; a write may have been applied. */
            bool retry = !stopped && attempt < max_retries && is_get && !w.got &&
                         (rc == CS_EUNAVAILABLE || rc == CS_ETIMEOUT) && r->timeout_ms >= 0;
            if (retry) {
                if (!cs__kube_sleep(cs__backoff_ns(attempt, &rnd), r->stop) &&
                    (!r->reset || r->reset(r->sink_ctx) == 0))
                    continue;
            }
            if (err) {
                *err = e;
                if (!e.code)
                    cs_err_set(err, rc, "%s", cs_strerror(rc));
                cs_err_prefix(err, "%s %s: ", r->verb, cs__kube_res_name(r->res, rname, sizeof rname));
            }
            return rc;
        }
        if (resp->status >= 200 && resp->status < 300)
            return 0;
        if (resp->status == 401 && c->cfg.token_file && !token_retried) {
            /* The token may have rotated under us: re-read the file once. */
            token_retried = true;
            pthread_mutex_lock(&c->lock);
            c->token_stale = true;
            pthread_mutex_unlock(&c->lock);
            cs__token_refresh(c);
            pthread_mutex_lock(&c->lock);
            bool changed = c->token_gen != gen_used;
            pthread_mutex_unlock(&c->lock);
            if (changed && (!r->reset || r->reset(r->sink_ctx) == 0)) {
                attempt--;
                continue;
            }
        }
        if (cs__retryable_status(resp->status) && attempt < max_retries && !stopped &&
            (!is_post || resp->status == 429 || resp->retry_after_s >= 0)) {
            int64_t wait;
            if (resp->retry_after_s >= 0) {
                wait = (int64_t)resp->retry_after_s * 1000000000;
                if (wait > (int64_t)c->opts.max_retry_wait_ms * 1000000)
                    wait = (int64_t)c->opts.max_retry_wait_ms * 1000000;
            } else {
                wait = cs__backoff_ns(attempt, &rnd);
            }
            CS_DEBUG("kube: retrying", "verb", r->verb, "path", r->path);
            if (!cs__kube_sleep(wait, r->stop) && (!r->reset || r->reset(r->sink_ctx) == 0))
                continue;
        }
        int code =
            cs_kube_error_from_response(r->verb, r->res, r->ns, r->name, resp->status, resp->body, resp->body_len, err);
        if (attempt > 0 && err) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n, " (after %d %s)", attempt, attempt == 1 ? "retry" : "retries");
        }
        return code;
    }
}

int cs__kube_do_json(cs_kube_client_t *c, const cs__kube_req_t *r, json_t **out, cs_err_t *err)
{
    if (out)
        *out = NULL;
    cs_http_response_t resp;
    int rc = cs__kube_do(c, r, &resp, err);
    if (rc == 0 && out) {
        char what[200];
        snprintf(what, sizeof what, "response of %s %.150s", r->method, r->path);
        if (resp.body_len == 0)
            rc = cs_err_set(err, CS_EPARSE, "%s: empty body", what);
        else
            rc = cs_json_parse(resp.body, resp.body_len, what, out, err);
    }
    cs_http_response_free(&resp);
    return rc;
}
