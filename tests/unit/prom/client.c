/* Tests for the Prometheus client against a scripted HTTP server: options,
 * the PromQL it sends, health, error mapping, per-volume IOPS with cache and
 * fallbacks, the batch form, unknown vs zero, auth headers. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "couchestor/prom.h"

/* The IOPS query: rate() of each counter summed per volume, the sums added,
 * e.g. S("rate(a[60s])") " + " S("rate(b[60s])"); and its coverage query
 * (the series already had a sample 0.8 windows ago). */
#define S(T) "sum by (pv_name) (" T ")"
#define COV_Q(SEL, OFF) "count by (pv_name) (" SEL " offset " OFF ")"
#include "prom/fake_http.h"

/* ---- scripted Prometheus ---- */

typedef struct {
    const char *primary;  /* reply for queries of volume_num_read_ops */
    const char *fallback; /* reply for queries of fallback_ops */
    const char *cover;    /* reply for coverage queries; NULL = as the rates (all covered) */
    const char *start;    /* startTime of /api/v1/status/runtimeinfo; NULL = 404 */
    int status;           /* HTTP status of every reply (default 200) */
    const char *raw;      /* when set, replied to every /api/v1/query */
} script_t;

static const char EMPTY[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";

static void handler(void *ctx, const fake_req_t *req, fake_resp_t *resp)
{
    script_t *s = ctx;
    if (strcmp(req->path, "/-/healthy") == 0) {
        fake_reply(resp, 200, "Prometheus Server is Healthy.\n");
        return;
    }
    if (strcmp(req->path, "/-/ready") == 0) {
        fake_reply(resp, 503, "Service Unavailable");
        return;
    }
    if (strcmp(req->path, "/api/v1/status/runtimeinfo") == 0 && s->start && !s->raw) {
        char body[256];
        snprintf(body, sizeof body, "{\"status\":\"success\",\"data\":{\"startTime\":\"%s\",\"CWD\":\"/\"}}", s->start);
        fake_reply(resp, 200, body);
        return;
    }
    if (strcmp(req->path, "/api/v1/query") != 0 || strcmp(req->method, "POST") != 0) {
        fake_reply(resp, 404, "404 page not found\n");
        return;
    }
    int status = s->status ? s->status : 200;
    if (s->raw) {
        fake_reply(resp, status, s->raw);
        return;
    }
    char *q = fake_form_value(req->body, "query");
    const char *body = EMPTY;
    if (q && strstr(q, "count by") && s->cover)
        body = s->cover;
    else if (q && strstr(q, "volume_num_read_ops") && s->primary)
        body = s->primary;
    else if (q && strstr(q, "fallback_ops") && s->fallback)
        body = s->fallback;
    free(q);
    fake_reply(resp, status, body);
}

static int64_t fake_now;
static int64_t test_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static cs_prom_t *client(const char *url, const char *fallbacks)
{
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = url;
    o.fallbacks = fallbacks;
    o.now_ns = test_clock;
    o.timeout_ms = 5000;
    cs_prom_t *p = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0, "%s", err.msg);
    return p;
}

/* The queries sent (POST /api/v1/query), not the other requests. */
static size_t query_count(fake_http_t *s)
{
    size_t n = 0;
    for (size_t i = 0; i < fake_http_count(s); i++)
        n += strcmp(s->reqs[i].path, "/api/v1/query") == 0;
    return n;
}

/* The k-th query's PromQL (malloc'd). */
static char *query_at(fake_http_t *s, size_t k)
{
    for (size_t i = 0; i < fake_http_count(s); i++)
        if (strcmp(s->reqs[i].path, "/api/v1/query") == 0 && k-- == 0)
            return fake_form_value(s->reqs[i].body, "query");
    cr_assert_fail("no query %zu", k);
    return NULL;
}

static char *last_query(fake_http_t *s)
{
    size_t n = fake_http_count(s);
    cr_assert_gt(n, 0);
    return fake_form_value(s->reqs[n - 1].body, "query");
}

/* ---- options and PromQL ---- */

Test(client, defaults_are_the_real_mayastor_names)
{
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    cr_expect_str_eq(o.metrics, "volume_num_read_ops+volume_num_write_ops");
    cr_expect_str_eq(o.label, "pv_name");
    cr_expect_eq(o.window_ns, INT64_C(300) * 1000000000);
    cr_expect_eq(o.cache_ttl_ns, INT64_C(30) * 1000000000);
    cr_expect_null(o.fallbacks);
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_options_validate(&o, &err), 0, "%s", err.msg);
}

Test(client, options_are_validated_with_the_field_named)
{
    static const struct {
        const char *field, *value, *msg;
    } cases[] = {
        {"url", "prometheus:9090", "prometheus url: \"prometheus:9090\" must start with http:// or https://"},
        {"metrics", "volume-ops",
         "prometheus metrics: \"volume-ops\" is not a valid metric name (expected "
         "counters like volume_num_read_ops+volume_num_write_ops)"},
        {"metrics", "a++b",
         "prometheus metrics: \"\" is not a valid metric name (expected counters like "
         "volume_num_read_ops+volume_num_write_ops)"},
        {"fallbacks", "ok_ops,9bad",
         "prometheus fallback metrics: \"9bad\" is not a valid metric name "
         "(expected counters like volume_num_read_ops+volume_num_write_ops)"},
        {"label", "pv-name", "prometheus label: \"pv-name\" is not a valid label name (default pv_name)"},
        {"label", "__name__", "prometheus label: \"__name__\" is not a valid label name (default pv_name)"},
        {"selector", "job=\"x\"} or vector(1",
         "prometheus selector: '}' is not allowed outside quotes (give "
         "label matchers only, like job=\"mayastor\",namespace=\"mayastor\")"},
        {"selector", "job=\"x", "prometheus selector: unterminated quoted value in \"job=\"x\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_prom_options_t o;
        cs_prom_options_default(&o);
        if (strcmp(cases[i].field, "url") == 0)
            o.url = cases[i].value;
        else if (strcmp(cases[i].field, "metrics") == 0)
            o.metrics = cases[i].value;
        else if (strcmp(cases[i].field, "fallbacks") == 0)
            o.fallbacks = cases[i].value;
        else if (strcmp(cases[i].field, "label") == 0)
            o.label = cases[i].value;
        else
            o.selector = cases[i].value;
        cs_err_t err = {0};
        cs_prom_t *p = NULL;
        cr_expect_eq(cs_prom_new(&o, &p, &err), CS_EINVAL, "case %zu", i);
        cr_expect_null(p);
        cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
    }
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.window_ns = 1000;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_options_validate(&o, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "prometheus window: must be at least 1ms (use >= 4 scrape intervals)");
}

Test(client, promql_of_the_batch_and_single_forms)
{
    cs_prom_t *p = client("http://127.0.0.1:1", " fallback_ops , a_ops + b_ops ");
    char q[1024];
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_set_count(p), 3);
    cr_assert_eq(cs_prom_iops_promql(p, 0, NULL, INT64_C(120) * 1000000000, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, S("rate(volume_num_read_ops[120s])") " + " S("rate(volume_num_write_ops[120s])"),
                     "plain rate(), no deriv() union");
    cr_assert_eq(cs_prom_iops_promql(p, 0, "pvc-1\"x", 1500000000, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, S("rate(volume_num_read_ops{pv_name=\"pvc-1\\\"x\"}[1500ms])") " + " S(
                            "rate(volume_num_write_ops{pv_name=\"pvc-1\\\"x\"}[1500ms])"));
    cr_assert_eq(cs_prom_iops_promql(p, 1, NULL, 0, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, S("rate(fallback_ops[300s])"), "default window 5m");
    cr_assert_eq(cs_prom_iops_promql(p, 2, "v", 60000000000, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, S("rate(a_ops{pv_name=\"v\"}[60s])") " + " S("rate(b_ops{pv_name=\"v\"}[60s])"));
    /* coverage: a sample 0.8 windows ago, of the set's first counter */
    cr_assert_eq(cs_prom_coverage_promql(p, 0, NULL, INT64_C(3600) * 1000000000, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, COV_Q("volume_num_read_ops", "2880s"));
    cr_assert_eq(cs_prom_coverage_promql(p, 2, "v", 1500000000, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, COV_Q("a_ops{pv_name=\"v\"}", "1200ms"));
    cr_expect_eq(cs_prom_coverage_promql(p, 3, NULL, 0, q, sizeof q, &err), CS_EINVAL);
    cr_expect_eq(cs_prom_iops_promql(p, 3, NULL, 0, q, sizeof q, &err), CS_EINVAL);
    cr_expect_eq(cs_prom_iops_promql(p, 0, NULL, 0, q, 20, &err), CS_ETOOBIG);
    cs_prom_free(p);

    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = "http://x:1";
    o.label = "volume";
    o.metrics = "iops_total";
    o.selector = "job=\"mayastor\"";
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cr_assert_eq(cs_prom_iops_promql(p, 0, "v1", 0, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, "sum by (volume) (rate(iops_total{job=\"mayastor\",volume=\"v1\"}[300s]))");
    cr_assert_eq(cs_prom_iops_promql(p, 0, NULL, 0, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, "sum by (volume) (rate(iops_total{job=\"mayastor\"}[300s]))");
    cr_assert_eq(cs_prom_coverage_promql(p, 0, NULL, 0, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, "count by (volume) (iops_total{job=\"mayastor\"} offset 240s)");
    cs_prom_free(p);
    /* coverage 0: no coverage query */
    o.min_coverage = 0;
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cr_assert_eq(cs_prom_coverage_promql(p, 0, NULL, 0, q, sizeof q, &err), 0);
    cr_expect_str_eq(q, "");
    cs_prom_free(p);
    cs_prom_free(NULL);
}

Test(client, quote)
{
    char buf[32];
    size_t pos = 0;
    cr_expect_eq(cs_prom_quote("a\\b\"c\nd\x01", buf, sizeof buf, &pos), 0);
    cr_expect_str_eq(buf, "\"a\\\\b\\\"c\\nd\\x01\"");
    pos = 0;
    cr_expect_eq(cs_prom_quote("0123456789", buf, 8, &pos), CS_ETOOBIG);
}

/* ---- health and errors ---- */

Test(client, health_and_ready)
{
    script_t s = {0};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, NULL);
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_health(p, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_prom_ready(p, &err), CS_EPROM_CONNECTION);
    char want[256];
    snprintf(want, sizeof want, "Prometheus at %s answered HTTP 503 to GET /-/ready: Service Unavailable", srv->url);
    cr_expect_str_eq(err.msg, want);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, unreachable_is_a_connection_error_and_iops_unknown)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fake_closed_port());
    cs_prom_t *p = client(url, NULL);
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_health(p, &err), CS_EPROM_CONNECTION);
    cr_expect(strstr(err.msg, "is unreachable (EUNAVAILABLE)") != NULL, "%s", err.msg);
    cs_prom_iops_t v;
    cr_expect_eq(cs_prom_volume_iops(p, "pvc-1", 0, &v, &err), CS_EPROM_CONNECTION);
    cr_expect_eq(v.state, CS_PROM_IOPS_UNAVAILABLE);
    cr_expect(isnan(v.iops), "unknown is never zero");
    cr_expect_not(cs_prom_iops_known(&v));
    const char *vols[] = {"pvc-1", "pvc-2"};
    cs_prom_iops_t out[2];
    cr_expect_eq(cs_prom_volumes_iops(p, vols, 2, 0, out, &err), CS_EPROM_CONNECTION);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_UNAVAILABLE);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_UNAVAILABLE);
    cs_prom_free(p);
}

Test(client, query_sends_a_form_and_maps_errors)
{
    script_t s = {.status = 400,
                  .raw = "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error\"}"};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, NULL);
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_query(p, "rate(x[", "pv_name", &r, &err), CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg,
                     "query `rate(x[`: Prometheus rejected the query (HTTP 400, errorType bad_data): 1:5: parse error");
    cr_assert_eq(fake_http_count(srv), 1);
    cr_expect_str_eq(srv->reqs[0].method, "POST");
    cr_expect_str_eq(srv->reqs[0].body, "query=rate%28x%5B&timeout=5000ms");
    s.status = 200;
    s.raw = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"2.5\"]}}";
    cr_assert_eq(cs_prom_query(p, "2.5", NULL, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_SCALAR);
    cr_expect_float_eq(r.scalar, 2.5, 1e-12);
    cs_prom_result_free(&r);
    /* an IOPS query that comes back as a scalar is a parse error */
    cs_prom_iops_t v;
    cr_expect_eq(cs_prom_volume_iops(p, "pvc-1", 0, &v, &err), CS_EPROM_RESPONSE_PARSE);
    cr_expect_str_eq(err.msg, "IOPS query for metrics volume_num_read_ops returned a scalar, expected a vector");
    cr_expect_eq(v.state, CS_PROM_IOPS_UNAVAILABLE);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, auth_headers)
{
    script_t s = {0};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = srv->url;
    o.basic_user = "alice";
    o.basic_password = "secret";
    cs_prom_t *p = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cr_expect_eq(cs_prom_health(p, &err), 0);
    cs_prom_free(p);
    o.basic_user = o.basic_password = NULL;
    o.bearer_token = "tok123";
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cr_expect_eq(cs_prom_health(p, &err), 0);
    cs_prom_free(p);
    cr_assert_eq(fake_http_count(srv), 2);
    cr_expect_str_eq(srv->reqs[0].auth, "Basic YWxpY2U6c2VjcmV0");
    cr_expect_str_eq(srv->reqs[1].auth, "Bearer tok123");
    fake_http_stop(srv);
}

/* ---- IOPS ---- */

static const char PRIMARY[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                              "{\"metric\":{\"pv_name\":\"pvc-a\"},\"value\":[1,\"120.5\"]},"
                              "{\"metric\":{\"pv_name\":\"pvc-b\"},\"value\":[1,\"0\"]},"
                              "{\"metric\":{\"pv_name\":\"pvc-nan\"},\"value\":[1,\"NaN\"]}]}}";
static const char FALLBACK[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                               "{\"metric\":{\"pv_name\":\"pvc-c\"},\"value\":[1,\"7\"]},"
                               "{\"metric\":{\"pv_name\":\"pvc-a\"},\"value\":[1,\"999\"]}]}}";

Test(client, volume_iops_cache_and_fallback)
{
    script_t s = {.primary = PRIMARY, .fallback = FALLBACK};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, "fallback_ops");
    fake_now = 1000;
    cs_prom_iops_t v;
    cs_err_t err = {0};

    cr_assert_eq(cs_prom_volume_iops(p, "pvc-a", 0, &v, &err), 0, "%s", err.msg);
    cr_expect_eq(v.state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(v.iops, 120.5, 1e-9);
    cr_expect_eq(v.source, 0);
    cr_expect_not(v.cached);
    cr_expect_eq(fake_http_count(srv), 2, "the rates, then their coverage");
    char *q = fake_form_value(srv->reqs[0].body, "query");
    cr_expect_str_eq(q, S("rate(volume_num_read_ops{pv_name=\"pvc-a\"}[300s])") " + " S(
                            "rate(volume_num_write_ops{pv_name=\"pvc-a\"}[300s])"));
    free(q);
    q = last_query(srv);
    cr_expect_str_eq(q, COV_Q("volume_num_read_ops{pv_name=\"pvc-a\"}", "240s"));
    free(q);

    /* within the TTL: from the cache, no request */
    fake_now += INT64_C(29) * 1000000000;
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-a", 0, &v, &err), 0);
    cr_expect(v.cached);
    cr_expect_float_eq(v.iops, 120.5, 1e-9);
    cr_expect_eq(fake_http_count(srv), 2);
    /* another window is another question */
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-a", INT64_C(60) * 1000000000, &v, &err), 0);
    cr_expect_not(v.cached);
    cr_expect_eq(fake_http_count(srv), 4);
    /* after the TTL: asked again */
    fake_now += INT64_C(2) * 1000000000;
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-a", 0, &v, &err), 0);
    cr_expect_not(v.cached);
    cr_expect_eq(fake_http_count(srv), 6);

    /* zero is a value, not unknown */
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-b", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(v.iops, 0.0, 1e-12);

    /* not in the primary set: the fallback answers */
    size_t before = fake_http_count(srv);
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-c", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(v.iops, 7.0, 1e-12);
    cr_expect_eq(v.source, 1);
    cr_expect_eq(fake_http_count(srv), before + 4);
    q = fake_form_value(srv->reqs[before + 2].body, "query");
    cr_expect_str_eq(q, S("rate(fallback_ops{pv_name=\"pvc-c\"}[300s])"));
    free(q);

    /* in no set: unknown (NO_DATA), and that answer is cached too */
    before = fake_http_count(srv);
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-zzz", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_NO_DATA);
    cr_expect(isnan(v.iops));
    cr_expect_eq(fake_http_count(srv), before + 4);
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-zzz", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_NO_DATA);
    cr_expect(v.cached);
    cr_expect_eq(fake_http_count(srv), before + 4);

    /* NaN is not a rate */
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-nan", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_INVALID);
    cr_expect_str_eq(cs_prom_iops_state_name(v.state), "invalid");

    cs_prom_cache_clear(p);
    before = fake_http_count(srv);
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-zzz", 0, &v, &err), 0);
    cr_expect_not(v.cached);
    cr_expect_eq(fake_http_count(srv), before + 4);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, batch_is_two_queries_per_set_and_never_cached)
{
    script_t s = {.primary = PRIMARY, .fallback = FALLBACK};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, "fallback_ops");
    fake_now = 5000;
    const char *vols[] = {"pvc-a", "pvc-b", "pvc-c", "pvc-none", "pvc-nan"};
    cs_prom_iops_t out[5];
    cs_err_t err = {0};
    cs_prom_batch_t info;
    cr_assert_eq(cs_prom_volumes_iops_report(p, vols, 5, INT64_C(120) * 1000000000, out, &info, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(query_count(srv), 4, "primary for all, then the fallback for the rest, each with its coverage");
    char *q0 = query_at(srv, 0), *q1 = query_at(srv, 1), *q2 = query_at(srv, 2), *q3 = query_at(srv, 3);
    cr_expect_str_eq(q0, S("rate(volume_num_read_ops[120s])") " + " S("rate(volume_num_write_ops[120s])"));
    cr_expect_str_eq(q1, COV_Q("volume_num_read_ops{pv_name=~\"pvc-a|pvc-b|pvc-nan\"}", "96s"),
                     "the coverage of the few volumes asked for, by name");
    cr_expect_str_eq(q2, S("rate(fallback_ops[120s])"));
    cr_expect_str_eq(q3, COV_Q("fallback_ops{pv_name=~\"pvc-c\"}", "96s"));
    free(q0);
    free(q1);
    free(q2);
    free(q3);
    cr_expect_eq(info.sets, 2);
    cr_expect(info.asked[0] && info.asked[1]);
    cr_expect_eq(info.series[0], 3);
    cr_expect_eq(info.answered[0], 3, "a, b and nan");
    cr_expect_eq(info.answered[1], 1, "the fallback is in use for c");
    cr_expect_eq(info.young, 0);
    cr_expect_not(info.failed);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(out[0].iops, 120.5, 1e-9, "the primary set wins over the fallback");
    cr_expect_eq(out[0].source, 0);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(out[1].iops, 0.0, 1e-12);
    cr_expect_eq(out[2].state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(out[2].iops, 7.0, 1e-12);
    cr_expect_eq(out[2].source, 1);
    cr_expect_eq(out[3].state, CS_PROM_IOPS_NO_DATA);
    cr_expect_eq(out[4].state, CS_PROM_IOPS_INVALID);

    /* a decision rests on a query answered now: the batch asks again */
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 5, INT64_C(120) * 1000000000, out, &err), 0);
    cr_expect_eq(query_count(srv), 8, "no start time: the coverage memo lasts one batch");
    for (int i = 0; i < 5; i++)
        cr_expect_not(out[i].cached, "volume %d", i);
    cr_expect_float_eq(out[2].iops, 7.0, 1e-12);
    /* a single-volume question for a volume the batch saw is cached */
    cs_prom_iops_t v;
    size_t before = fake_http_count(srv);
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-b", INT64_C(120) * 1000000000, &v, &err), 0);
    cr_expect(v.cached);
    cr_expect_eq(fake_http_count(srv), before);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, batch_query_error_in_primary_tries_fallback_and_reports_unknown)
{
    script_t s = {
        .status = 422,
        .raw = "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"many-to-many matching not allowed\"}"};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, "fallback_ops");
    const char *vols[] = {"pvc-a"};
    cs_prom_iops_t out[1];
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_volumes_iops(p, vols, 1, 0, out, &err), CS_EPROM_QUERY);
    cr_expect_eq(fake_http_count(srv), 2, "a query error lets the next set be tried (no coverage without rates)");
    cr_expect_eq(out[0].state, CS_PROM_IOPS_UNAVAILABLE);
    cr_expect(strstr(err.msg, "many-to-many matching not allowed") != NULL, "%s", err.msg);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, stop_flag_cancels)
{
    script_t s = {.primary = PRIMARY};
    fake_http_t *srv = fake_http_start(handler, &s);
    atomic_int stop = 1;
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = srv->url;
    o.stop = &stop;
    cs_prom_t *p = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cs_prom_iops_t v;
    cr_expect_eq(cs_prom_volume_iops(p, "pvc-a", 0, &v, &err), CS_ECANCELED);
    cr_expect_eq(v.state, CS_PROM_IOPS_UNAVAILABLE);
    cs_prom_free(p);
    fake_http_stop(srv);
}

/* ---- window coverage, outages, volume keys ---- */

static const char COVER_A[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                              "{\"metric\":{\"pv_name\":\"pvc-a\"},\"value\":[1,\"1\"]}]}}";

Test(client, a_series_younger_than_the_window_is_young_not_known)
{
    script_t s = {.primary = PRIMARY, .cover = COVER_A};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, NULL);
    const char *vols[] = {"pvc-a", "pvc-b", "pvc-none"};
    cs_prom_iops_t out[3];
    cs_prom_batch_t info;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops_report(p, vols, 3, INT64_C(60) * 1000000000, out, &info, &err), 0, "%s", err.msg);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cr_expect_float_eq(out[0].iops, 120.5, 1e-9);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_YOUNG, "a rate, but no sample 0.8 windows ago");
    cr_expect(isnan(out[1].iops));
    cr_expect_not(cs_prom_iops_known(&out[1]));
    cr_expect_str_eq(cs_prom_iops_state_name(out[1].state), "young");
    cr_expect_eq(out[2].state, CS_PROM_IOPS_NO_DATA, "young is not the same as no series");
    cr_expect_eq(info.young, 1);
    cr_expect_eq(info.answered[0], 2);
    /* the single-volume form agrees */
    cs_prom_cache_clear(p);
    cs_prom_iops_t v;
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-b", 0, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_YOUNG);
    cs_prom_free(p);
    /* min_coverage 0: no coverage query, every rate counts */
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = srv->url;
    o.min_coverage = 0;
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    size_t before = fake_http_count(srv);
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 3, 0, out, &err), 0);
    cr_expect_eq(fake_http_count(srv), before + 1);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_KNOWN);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, nothing_known_outlives_a_failure_and_an_outage_is_reported_once)
{
    script_t s = {.primary = PRIMARY};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, NULL);
    fake_now = 1000;
    const char *vols[] = {"pvc-a", "pvc-b"};
    cs_prom_iops_t out[2];
    cs_prom_batch_t info;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops_report(p, vols, 2, 0, out, &info, &err), 0, "%s", err.msg);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cr_expect_not(info.outage_begins);
    cr_expect_not(info.outage_ends);
    /* Prometheus goes away (a gateway's 503) within the cache TTL */
    s.status = 503;
    s.raw = "Service Unavailable";
    fake_now += 1000000000;
    cr_expect_eq(cs_prom_volumes_iops_report(p, vols, 2, 0, out, &info, &err), CS_EPROM_CONNECTION);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_UNAVAILABLE, "not the value cached a second ago");
    cr_expect_eq(out[1].state, CS_PROM_IOPS_UNAVAILABLE);
    cr_expect(info.failed);
    cr_expect(info.outage_begins, "the first failure starts the outage");
    cr_expect_eq(cs_prom_volumes_iops_report(p, vols, 2, 0, out, &info, &err), CS_EPROM_CONNECTION);
    cr_expect_not(info.outage_begins, "once per outage");
    /* the failure emptied the cache of the single-volume form too */
    cs_prom_iops_t v;
    cr_expect_eq(cs_prom_volume_iops(p, "pvc-a", 0, &v, &err), CS_EPROM_CONNECTION);
    cr_expect_eq(v.state, CS_PROM_IOPS_UNAVAILABLE);
    s.status = 0;
    s.raw = NULL;
    cr_assert_eq(cs_prom_volumes_iops_report(p, vols, 2, 0, out, &info, &err), 0);
    cr_expect(info.outage_ends);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, a_metric_set_matching_nothing_is_reported)
{
    script_t s = {.fallback = FALLBACK}; /* the primary set matches no series */
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, "fallback_ops");
    const char *vols[] = {"pvc-c", "pvc-x"};
    cs_prom_iops_t out[2];
    cs_prom_batch_t info;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops_report(p, vols, 2, 0, out, &info, &err), 0, "%s", err.msg);
    cr_expect(info.asked[0]);
    cr_expect_eq(info.series[0], 0, "the primary set matches no series");
    cr_expect_eq(info.answered[1], 1, "the fallback answers c");
    cr_expect_eq(info.series[1], 2);
    cr_expect_eq(out[0].source, 1);
    char buf[64];
    cr_expect_str_eq(cs_prom_set_text(p, 0, buf, sizeof buf), "volume_num_read_ops+volume_num_write_ops");
    cr_expect_str_eq(cs_prom_set_text(p, 1, buf, sizeof buf), "fallback_ops");
    cr_expect_str_eq(cs_prom_set_text(p, 2, buf, sizeof buf), "");
    cs_prom_free(p);
    fake_http_stop(srv);
}

Test(client, volume_key_and_coverage_options)
{
    cs_prom_volume_key_t k = CS_PROM_KEY_PV_NAME;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_volume_key_parse("volume-handle", &k, &err), 0);
    cr_expect_eq(k, CS_PROM_KEY_VOLUME_HANDLE);
    cr_expect_str_eq(cs_prom_volume_key_name(k), "volume-handle");
    cr_expect_eq(cs_prom_volume_key_parse("pv-name", &k, &err), 0);
    cr_expect_eq(k, CS_PROM_KEY_PV_NAME);
    cr_expect_eq(cs_prom_volume_key_parse("uuid", &k, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "prometheus volume key: \"uuid\" is neither pv-name (the label carries the PV name, "
                              "\"pvc-<uuid>\") nor volume-handle (it carries the CSI volume handle, for Mayastor the "
                              "uuid)");
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    cr_expect_float_eq(o.min_coverage, 0.8, 1e-12);
    cr_expect_eq(o.volume_key, CS_PROM_KEY_PV_NAME);
    static const double bad[] = {1.0, -0.1, NAN};
    for (size_t i = 0; i < 3; i++) {
        o.min_coverage = bad[i];
        cr_expect_eq(cs_prom_options_validate(&o, &err), CS_EINVAL, "case %zu", i);
        cr_expect(strstr(err.msg, "prometheus min coverage: ") == err.msg, "%s", err.msg);
        cr_expect(strstr(err.msg, "is not in [0, 1)") != NULL, "%s", err.msg);
    }
    o.min_coverage = 0.5;
    o.volume_key = CS_PROM_KEY_VOLUME_HANDLE;
    cs_prom_t *p = NULL;
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_prom_volume_key(p), CS_PROM_KEY_VOLUME_HANDLE);
    cr_expect_float_eq(cs_prom_min_coverage(p), 0.5, 1e-12);
    cs_prom_free(p);
}

/* The coverage of a volume found covered holds for (1-c)*w: the batch asks
 * only for the rates until then, unless Prometheus restarted or failed. */
Test(client, coverage_is_remembered_while_it_must_hold)
{
    script_t s = {.primary = PRIMARY, .start = "2026-12-07T22:43:07.491238984Z"};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_prom_t *p = client(srv->url, NULL);
    fake_now = INT64_C(1000) * 1000000000;
    const int64_t w = INT64_C(100) * 1000000000; /* (1 - 0.8) * 100 s = 20 s */
    const char *vols[] = {"pvc-a", "pvc-b"};
    cs_prom_iops_t out[2];
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0, "%s", err.msg);
    cr_expect_eq(query_count(srv), 2);
    fake_now += INT64_C(19) * 1000000000;
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0, "%s", err.msg);
    cr_expect_eq(query_count(srv), 3, "the rates only: both were covered 19 s ago");
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_KNOWN);
    fake_now += INT64_C(2) * 1000000000;
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(query_count(srv), 5, "21 s later the coverage is asked again");
    /* another window is another question */
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, 2 * w, out, &err), 0);
    cr_expect_eq(query_count(srv), 7);
    /* a restarted Prometheus may have lost its samples */
    s.start = "2026-12-07T23:00:00Z";
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(query_count(srv), 9, "a new start time empties the memo");
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(query_count(srv), 10);
    /* a failure empties it too */
    s.status = 503;
    s.raw = "Service Unavailable";
    cr_expect_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), CS_EPROM_CONNECTION);
    s.status = 0;
    s.raw = NULL;
    size_t before = query_count(srv);
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(query_count(srv), before + 2);
    /* a volume the coverage query does not name stays young, and is asked again */
    s.cover = COVER_A;
    fake_now += INT64_C(30) * 1000000000;
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(out[0].state, CS_PROM_IOPS_KNOWN);
    cr_expect_eq(out[1].state, CS_PROM_IOPS_YOUNG);
    before = query_count(srv);
    cr_assert_eq(cs_prom_volumes_iops(p, vols, 2, w, out, &err), 0);
    cr_expect_eq(query_count(srv), before + 2);
    char *q = last_query(srv);
    cr_expect_str_eq(q, COV_Q("volume_num_read_ops{pv_name=~\"pvc-b\"}", "80s"), "only the young one");
    free(q);
    cs_prom_free(p);
    fake_http_stop(srv);
}
