/* client.c: the Prometheus client: options, health/ready checks and instant
 * queries streamed into the decoder, over a pool of HTTP connections. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/log.h"
#include "prom/internal.h"

int64_t cs__prom_now(const cs_prom_t *p)
{
    if (p->now_ns)
        return p->now_ns(p->now_ctx);
    return cs_clock_mono_ns();
}

void cs_prom_free(cs_prom_t *p)
{
    if (!p)
        return;
    cs_http_pool_free(p->conns);
    for (size_t i = 0; i < p->set_count; i++)
        cs__prom_set_free(&p->sets[i]);
    cs__prom_cache_free(p);
    cs_prom_vector_free(p->covered);
    pthread_mutex_destroy(&p->cache_lock);
    free(p->url);
    free(p->label);
    free(p->selector);
    free(p);
}

int cs_prom_new(const cs_prom_options_t *opts, cs_prom_t **out, cs_err_t *err)
{
    *out = NULL;
    int rc = cs_prom_options_validate(opts, err);
    if (rc)
        return rc;
    cs_prom_t *p = calloc(1, sizeof *p);
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "prometheus client: out of memory");
    pthread_mutex_init(&p->cache_lock, NULL);
    p->url = strdup(opts->url);
    p->label = strdup(opts->label);
    p->selector = opts->selector && *opts->selector ? strdup(opts->selector) : NULL;
    p->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : CS_PROM_DEFAULT_TIMEOUT_MS;
    p->window_ns = opts->window_ns;
    p->min_coverage = opts->min_coverage;
    p->volume_key = opts->volume_key;
    p->ttl_ns = opts->cache_ttl_ns;
    p->cache_max = opts->cache_max_entries ? opts->cache_max_entries : CS_PROM_DEFAULT_CACHE_MAX;
    p->max_series = opts->max_series ? opts->max_series : CS_PROM_DEFAULT_MAX_SERIES;
    p->now_ns = opts->now_ns;
    p->now_ctx = opts->now_ctx;
    p->stop = opts->stop;
    if (!p->url || !p->label || (opts->selector && *opts->selector && !p->selector)) {
        cs_prom_free(p);
        return cs_err_set(err, CS_ENOMEM, "prometheus client: out of memory");
    }
    rc = cs__prom_set_parse(opts->metrics, strlen(opts->metrics), "prometheus metrics", &p->sets[0], err);
    if (rc == 0) {
        p->set_count = 1;
        size_t n = 0;
        rc = cs__prom_sets_parse(opts->fallbacks, "prometheus fallback metrics", &p->sets[1], CS_PROM_MAX_SETS - 1, &n,
                                 err);
        p->set_count += n;
    }
    if (rc) {
        cs_prom_free(p);
        return rc;
    }
    cs_http_options_t ho = {
        .base_url = opts->url,
        .ca_file = opts->ca_file,
        .insecure_skip_verify = opts->insecure_skip_verify,
        .bearer_token = opts->bearer_token,
        .basic_user = opts->basic_user,
        .basic_password = opts->basic_password,
        .connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 3000,
        .timeout_ms = p->timeout_ms,
        /* buffered bodies are error replies and /-/healthy: small */
        .max_response_bytes = (size_t)1024 * 1024,
    };
    rc = cs_http_pool_new(&ho, CS_HTTP_POOL_DEFAULT_IDLE, &p->conns, err);
    if (rc) {
        cs_err_prefix(err, "prometheus url: ");
        cs_prom_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

const char *cs_prom_url(const cs_prom_t *p)
{
    return p->url;
}

size_t cs_prom_set_count(const cs_prom_t *p)
{
    return p->set_count;
}

const char *cs_prom_set_text(const cs_prom_t *p, size_t set, char *buf, size_t len)
{
    size_t pos = 0;
    if (len == 0)
        return buf;
    buf[0] = '\0';
    for (size_t i = 0; set < p->set_count && i < p->sets[set].count && pos < len; i++) {
        int n = snprintf(buf + pos, len - pos, "%s%s", i ? "+" : "", p->sets[set].names[i]);
        if (n < 0)
            break;
        pos += (size_t)n;
    }
    return buf;
}

cs_prom_volume_key_t cs_prom_volume_key(const cs_prom_t *p)
{
    return p->volume_key;
}

double cs_prom_min_coverage(const cs_prom_t *p)
{
    return p->min_coverage;
}

/* Transport failures are connection errors; a raised stop flag stays
 * CS_ECANCELED. */
static int cs__transport_error(const cs_prom_t *p, int rc, const cs_err_t *herr, cs_err_t *err)
{
    if (rc == CS_ECANCELED)
        return cs_err_set(err, CS_ECANCELED, "Prometheus request canceled (shutting down)");
    if (rc == CS_ENOMEM)
        return cs_err_set(err, CS_ENOMEM, "Prometheus request: out of memory");
    return cs_err_set(err, CS_EPROM_CONNECTION,
                      "Prometheus at %s is unreachable (%s): %s; check prometheus_url and that "
                      "Prometheus is running",
                      p->url, cs_err_name(rc), herr->msg);
}

/* GET path; 0 on HTTP 200. body (NULL = not wanted) receives the start of
 * the reply, NUL-terminated. */
static int cs__get(cs_prom_t *p, const char *path, char *body, size_t body_len, cs_err_t *err)
{
    cs_http_client_t *c = NULL;
    int rc = cs_http_pool_take(p->conns, &c, err);
    if (rc)
        return rc;
    cs_http_request_t req = {.method = "GET", .path = path, .stop = p->stop};
    cs_http_response_t resp;
    cs_err_t herr = {0};
    rc = cs_http_do(c, &req, &resp, &herr);
    cs_http_pool_give(p->conns, c);
    if (rc) {
        cs_http_response_free(&resp);
        return cs__transport_error(p, rc, &herr, err);
    }
    if (resp.status != 200) {
        char snip[160];
        cs__prom_snippet(resp.body, resp.body_len, snip, sizeof snip);
        rc = cs_err_set(err, CS_EPROM_CONNECTION, "Prometheus at %s answered HTTP %ld to GET %s: %s", p->url,
                        resp.status, path, *snip ? snip : "(empty body)");
    } else if (body && body_len > 0) {
        size_t n = resp.body_len < body_len - 1 ? resp.body_len : body_len - 1;
        if (n > 0)
            memcpy(body, resp.body, n);
        body[n] = '\0';
    }
    cs_http_response_free(&resp);
    return rc;
}

int cs_prom_health(cs_prom_t *p, cs_err_t *err)
{
    return cs__get(p, "/-/healthy", NULL, 0, err);
}

int cs_prom_ready(cs_prom_t *p, cs_err_t *err)
{
    return cs__get(p, "/-/ready", NULL, 0, err);
}

int cs__prom_start_time(cs_prom_t *p, char *out, size_t len)
{
    /* {"status":"success","data":{"startTime":"2026-12-07T22:43:07.491238984Z",...}}: the value is
     * all that is read, so a plain search is enough (a reply without it is not used). */
    char body[1024];
    if (len == 0 || cs__get(p, "/api/v1/status/runtimeinfo", body, sizeof body, NULL) != 0)
        return CS_ENOTFOUND;
    static const char key[] = "\"startTime\":\"";
    const char *at = strstr(body, key);
    const char *end = at ? strchr(at + sizeof key - 1, '"') : NULL;
    if (!end || (size_t)(end - at) - (sizeof key - 1) >= len)
        return CS_ENOTFOUND;
    size_t n = (size_t)(end - at) - (sizeof key - 1);
    memcpy(out, at + sizeof key - 1, n);
    out[n] = '\0';
    return n > 0 ? 0 : CS_ENOTFOUND;
}

/* ---- queries ---- */

typedef struct {
    cs_prom_decoder_t *dec;
    cs_err_t err;
    int rc;
} cs__sink_t;

static int cs__sink(void *ctx, const char *data, size_t len)
{
    cs__sink_t *s = ctx;
    int rc = cs_prom_decoder_feed(s->dec, data, len, &s->err);
    if (rc) {
        s->rc = rc;
        return rc;
    }
    return 0;
}

int cs_prom_query(cs_prom_t *p, const char *promql, const char *key_label, cs_prom_result_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!promql || !*promql)
        return cs_err_set(err, CS_EINVAL, "Prometheus query: empty PromQL");
    size_t qlen = strlen(promql);
    if (qlen > CS_PROM_MAX_QUERY)
        return cs_err_set(err, CS_EINVAL, "Prometheus query: %zu bytes of PromQL exceed the limit of %d", qlen,
                          CS_PROM_MAX_QUERY);
    char *q = cs_http_escape(promql);
    if (!q)
        return cs_err_set(err, CS_ENOMEM, "Prometheus query: out of memory");
    size_t blen = strlen(q) + 64;
    char *body = malloc(blen);
    if (!body) {
        free(q);
        return cs_err_set(err, CS_ENOMEM, "Prometheus query: out of memory");
    }
    /* Ask Prometheus to give up when we do, so an abandoned query does not
     * keep evaluating. */
    int blen_used = snprintf(body, blen, "query=%s&timeout=%ldms", q, p->timeout_ms);
    free(q);

    cs__sink_t sink = {0};
    int rc = cs_prom_decoder_new(key_label, p->max_series, &sink.dec, err);
    cs_http_client_t *c = NULL;
    if (rc == 0)
        rc = cs_http_pool_take(p->conns, &c, err);
    if (rc) {
        cs_prom_decoder_free(sink.dec);
        free(body);
        return rc;
    }
    cs_http_request_t req = {
        .method = "POST",
        .path = "/api/v1/query",
        .content_type = "application/x-www-form-urlencoded",
        .body = body,
        .body_len = (size_t)blen_used,
        .sink = cs__sink,
        .sink_ctx = &sink,
        .stop = p->stop,
    };
    cs_http_response_t resp;
    cs_err_t herr = {0};
    rc = cs_http_do(c, &req, &resp, &herr);
    cs_http_pool_give(p->conns, c);
    free(body);
    if (rc) {
        if (sink.rc) {
            rc = sink.rc;
            if (err)
                *err = sink.err;
        } else {
            rc = cs__transport_error(p, rc, &herr, err);
        }
    } else if (resp.status >= 200 && resp.status <= 299) {
        rc = cs__prom_decoder_finish(sink.dec, resp.status, out, err);
    } else {
        cs_prom_result_t ignored;
        rc = cs_prom_decode(resp.status, resp.body, resp.body_len, key_label, p->max_series, &ignored, err);
        if (rc == 0) { /* cannot happen for a non-2xx status; be safe */
            cs_prom_result_free(&ignored);
            rc = cs_err_set(err, CS_EPROM_QUERY, "Prometheus answered HTTP %ld", resp.status);
        }
    }
    cs_http_response_free(&resp);
    cs_prom_decoder_free(sink.dec);
    if (rc && rc != CS_ECANCELED && err)
        cs_err_prefix(err, "query `%.160s%s`: ", promql, qlen > 160 ? "..." : "");
    return rc;
}
