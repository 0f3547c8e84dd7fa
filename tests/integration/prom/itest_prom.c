/* Integration tests of the Prometheus client against a real Prometheus
 * 2.42 scraping the Mayastor simulator's exporter (volume_num_read_ops /
 * volume_num_write_ops per pv_name), started by the prom_world fixture. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "couchestor/prom.h"
#include "prom/world.h"

#define WINDOW_NS (INT64_C(5) * 1000000000) /* 5 x the 1 s scrape interval */
#define MAX_VOLS 256

typedef struct {
    size_t n;
    char names[MAX_VOLS][48];
    const char *ptrs[MAX_VOLS];
    double want[MAX_VOLS];
    char uuid[MAX_VOLS][40];
} scripted_t;

/* The scripted load of every volume, from the simulator's control state. */
static void scripted(const world_t *w, scripted_t *s)
{
    long status = 0;
    json_t *st = world_request("GET", w->control_url, "/state", NULL, NULL, &status);
    cr_assert_eq(status, 200);
    json_t *vols = json_object_get(st, "volumes");
    s->n = 0;
    size_t i;
    json_t *v;
    json_array_foreach(vols, i, v)
    {
        cr_assert_lt(s->n, MAX_VOLS);
        const char *u = json_string_value(json_object_get(json_object_get(v, "spec"), "uuid"));
        json_t *load = json_object_get(v, "load");
        snprintf(s->uuid[s->n], sizeof s->uuid[0], "%s", u);
        snprintf(s->names[s->n], sizeof s->names[0], "pvc-%s", u);
        s->ptrs[s->n] = s->names[s->n];
        s->want[s->n] = json_number_value(json_object_get(load, "iops"));
        s->n++;
    }
    json_decref(st);
    cr_assert_gt(s->n, 100);
}

static cs_prom_t *client(const world_t *w, const char *metrics, const char *fallbacks, int64_t ttl)
{
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = w->prom_url;
    o.cache_ttl_ns = ttl;
    if (metrics)
        o.metrics = metrics;
    o.fallbacks = fallbacks;
    cs_prom_t *p = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0, "%s", err.msg);
    return p;
}

static bool close_enough(double got, double want)
{
    return want == 0 ? got == 0 : fabs(got - want) <= 0.1 * want;
}

/* Polls the batch until every volume reads its scripted IOPS (Prometheus
 * needs ~5 s for the first scrape and a full window of samples). */
static void wait_batch(cs_prom_t *p, const scripted_t *s, cs_prom_iops_t *out, int64_t deadline_ms)
{
    char why[256] = "";
    for (;;) {
        cs_err_t err = {0};
        int rc = cs_prom_volumes_iops(p, s->ptrs, s->n, WINDOW_NS, out, &err);
        size_t ok = 0;
        if (rc == 0) {
            for (size_t i = 0; i < s->n; i++) {
                if (cs_prom_iops_known(&out[i]) && close_enough(out[i].iops, s->want[i]))
                    ok++;
                else
                    snprintf(why, sizeof why, "%s: %s %.3f, scripted %.0f", s->names[i],
                             cs_prom_iops_state_name(out[i].state), out[i].iops, s->want[i]);
            }
        } else {
            snprintf(why, sizeof why, "%s", err.msg);
        }
        if (ok == s->n)
            return;
        cr_assert_lt(world_now_ms(), deadline_ms, "batch IOPS never matched the script: %s", why);
        struct timespec ts = {0, 250 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* A window far longer than this world has lived: every series is younger
 * than 80% of it, so every volume is YOUNG (rate() would under-read it),
 * never a low KNOWN value; the same volumes are KNOWN over a window the
 * world covers. Also shows that Prometheus 2.42 takes the coverage query. */
Test(live, batch_series_younger_than_the_window_are_young)
{
    world_t w;
    world_load(&w);
    scripted_t s;
    scripted(&w, &s);
    cs_prom_t *p = client(&w, NULL, NULL, 0);
    static cs_prom_iops_t out[MAX_VOLS];
    wait_batch(p, &s, out, world_now_ms() + 45000);
    cs_prom_batch_t info;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops_report(p, s.ptrs, s.n, INT64_C(24) * 3600 * 1000000000, out, &info, &err), 0,
                 "%s", err.msg);
    for (size_t i = 0; i < s.n; i++)
        cr_expect_eq(out[i].state, CS_PROM_IOPS_YOUNG, "%s: %s", s.names[i], cs_prom_iops_state_name(out[i].state));
    cr_expect_eq(info.young, s.n);
    cr_expect_eq(info.answered[0], s.n);
    cs_prom_free(p);
}

Test(live, batch_returns_the_scripted_iops_of_every_volume)
{
    world_t w;
    world_load(&w);
    scripted_t s;
    scripted(&w, &s);
    cs_prom_t *p = client(&w, NULL, NULL, 0);
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_health(p, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_prom_ready(p, &err), 0, "%s", err.msg);
    static cs_prom_iops_t out[MAX_VOLS];
    wait_batch(p, &s, out, world_now_ms() + 45000);
    size_t zeros = 0;
    for (size_t i = 0; i < s.n; i++) {
        cr_expect_eq(out[i].source, 0);
        if (s.want[i] == 0) {
            zeros++;
            cr_expect_eq(out[i].state, CS_PROM_IOPS_KNOWN, "an idle volume is 0, not unknown");
            cr_expect_float_eq(out[i].iops, 0.0, 1e-12);
        }
    }
    cr_expect_eq(zeros, 20);

    /* the raw batch: one query, every volume */
    cs_prom_vector_t *vec = NULL;
    cr_assert_eq(cs_prom_iops_all(p, 0, WINDOW_NS, &vec, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_prom_vector_count(vec), s.n);
    cs_prom_vector_free(vec);

    /* the seed's single-volume form agrees */
    for (size_t i = 0; i < 6; i++) {
        cs_prom_iops_t v;
        cr_assert_eq(cs_prom_volume_iops(p, s.names[i], WINDOW_NS, &v, &err), 0, "%s", err.msg);
        cr_expect_eq(v.state, CS_PROM_IOPS_KNOWN);
        cr_expect(close_enough(v.iops, s.want[i]), "%s: %.2f vs %.0f", s.names[i], v.iops, s.want[i]);
    }
    /* a volume Prometheus has never seen is unknown, never zero */
    cs_prom_iops_t v;
    cr_assert_eq(cs_prom_volume_iops(p, "pvc-00000000-0000-0000-0000-000000000000", WINDOW_NS, &v, &err), 0);
    cr_expect_eq(v.state, CS_PROM_IOPS_NO_DATA);
    cr_expect(isnan(v.iops));
    cs_prom_free(p);
}

Test(live, fallback_metric_set_answers_when_the_primary_has_no_series)
{
    world_t w;
    world_load(&w);
    scripted_t s;
    scripted(&w, &s);
    cs_prom_t *p = client(&w, "mayastor_volume_iops_old", "volume_num_read_ops+volume_num_write_ops", 0);
    static cs_prom_iops_t out[MAX_VOLS];
    wait_batch(p, &s, out, world_now_ms() + 45000);
    for (size_t i = 0; i < s.n; i++)
        cr_expect_eq(out[i].source, 1, "%s answered by the fallback", s.names[i]);
    cs_prom_free(p);
}

Test(live, a_load_change_shows_up_and_the_cache_holds_for_its_ttl)
{
    world_t w;
    world_load(&w);
    scripted_t s;
    scripted(&w, &s);
    cs_prom_t *fresh = client(&w, NULL, NULL, 0);
    static cs_prom_iops_t out[MAX_VOLS];
    wait_batch(fresh, &s, out, world_now_ms() + 45000);
    /* a client with a long TTL: the batch fills its cache */
    cs_prom_t *p = client(&w, NULL, NULL, INT64_C(3600) * 1000000000);
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_volumes_iops(p, s.ptrs, s.n, WINDOW_NS, out, &err), 0, "%s", err.msg);
    /* volume 1 is scripted at 250 IOPS: raise it to 2000 */
    size_t k = 1;
    cr_assert_float_eq(s.want[k], 250.0, 1e-9);
    char body[256];
    snprintf(body, sizeof body, "{\"volume\":\"%s\",\"profile\":{\"kind\":\"steady\",\"iops\":2000}}", s.uuid[k]);
    long status = 0;
    json_decref(world_request("POST", w.control_url, "/load", body, NULL, &status));
    cr_assert_eq(status, 200);
    /* the cached answer stays for the TTL */
    cs_prom_iops_t v;
    cr_assert_eq(cs_prom_volume_iops(p, s.names[k], WINDOW_NS, &v, &err), 0);
    cr_expect(v.cached);
    cr_expect(close_enough(v.iops, 250), "%.2f", v.iops);
    /* without the cache the new rate arrives within a window or two */
    cs_prom_cache_clear(p);
    cr_assert_eq(cs_prom_volume_iops(p, s.names[k], WINDOW_NS, &v, &err), 0);
    cr_expect_not(v.cached);
    s.want[k] = 2000;
    wait_batch(fresh, &s, out, world_now_ms() + 30000);
    cs_prom_free(fresh);
    /* restore for the other tests */
    snprintf(body, sizeof body, "{\"volume\":\"%s\",\"profile\":{\"kind\":\"steady\",\"iops\":250,\"read_ratio\":0.7}}",
             s.uuid[k]);
    json_decref(world_request("POST", w.control_url, "/load", body, NULL, &status));
    cs_prom_free(p);
}

Test(live, prometheus_errors_are_precise)
{
    world_t w;
    world_load(&w);
    cs_prom_t *p = client(&w, NULL, NULL, 0);
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_query(p, "rate(volume_num_read_ops[5s", "pv_name", &r, &err), CS_EPROM_QUERY);
    cr_expect(strstr(err.msg, "(HTTP 400, errorType bad_data): invalid parameter \"query\"") != NULL, "%s", err.msg);
    /* rate() over two names keeps identical label sets: Prometheus refuses */
    cr_expect_eq(
        cs_prom_query(p, "rate({__name__=~\"volume_num_read_ops|volume_num_write_ops\"}[5s])", "pv_name", &r, &err),
        CS_EPROM_QUERY);
    cr_expect(strstr(err.msg, "(HTTP 422, errorType execution): vector cannot contain metrics with the same "
                              "labelset") != NULL,
              "%s", err.msg);
    cr_assert_eq(cs_prom_query(p, "scalar(vector(1))/0", NULL, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_SCALAR);
    cr_expect(isinf(r.scalar));
    cs_prom_result_free(&r);
    cs_prom_free(p);

    /* a wrong base path is a 404 from Prometheus, named as such */
    char url[300];
    snprintf(url, sizeof url, "%s/prefix", w.prom_url);
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = url;
    cr_assert_eq(cs_prom_new(&o, &p, &err), 0);
    cr_expect_eq(cs_prom_query(p, "up", NULL, &r, &err), CS_EPROM_QUERY);
    cr_expect(strstr(err.msg, "HTTP 404") != NULL, "%s", err.msg);
    cs_prom_free(p);
}

/* Runs last (CTest DEPENDS): stops the world's Prometheus. */
Test(down, prometheus_down_is_a_connection_error_and_unknown)
{
    world_t w;
    world_load(&w);
    scripted_t s;
    scripted(&w, &s);
    cs_prom_t *p = client(&w, NULL, NULL, 0);
    long status = 0;
    json_decref(world_request("POST", w.prom_url, "/-/quit", NULL, NULL, &status));
    cr_assert_eq(status, 200);
    cs_err_t err = {0};
    int64_t deadline = world_now_ms() + 20000;
    while (cs_prom_health(p, &err) == 0) {
        cr_assert_lt(world_now_ms(), deadline, "Prometheus still answers after /-/quit");
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_expect_eq(err.code, CS_EPROM_CONNECTION, "%s", err.msg);
    static cs_prom_iops_t out[MAX_VOLS];
    cr_expect_eq(cs_prom_volumes_iops(p, s.ptrs, s.n, WINDOW_NS, out, &err), CS_EPROM_CONNECTION);
    cr_expect(strstr(err.msg, "is unreachable") != NULL, "%s", err.msg);
    for (size_t i = 0; i < s.n; i++) {
        cr_expect_eq(out[i].state, CS_PROM_IOPS_UNAVAILABLE);
        cr_expect(isnan(out[i].iops), "unknown, never zero");
    }
    cs_prom_iops_t v;
    cr_expect_eq(cs_prom_volume_iops(p, s.names[0], WINDOW_NS, &v, &err), CS_EPROM_CONNECTION);
    cr_expect_eq(v.state, CS_PROM_IOPS_UNAVAILABLE);
    cs_prom_free(p);
}
