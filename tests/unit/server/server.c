/* Tests for /metrics, /healthz and /readyz over real HTTP. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "couchestor/http.h"
#include "couchestor/server.h"

static atomic_int ready_flag;

static bool ready(void *ctx, char *reason, size_t len)
{
    if (atomic_load(&ready_flag))
        return true;
    snprintf(reason, len, "informer caches not synced");
    return false;
}

static long get(int port, const char *path, char *body, size_t len)
{
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    cs_http_options_t o = {.base_url = base, .timeout_ms = 5000};
    cs_http_client_t *c;
    cr_assert_eq(cs_http_client_new(&o, &c, NULL), 0);
    cs_http_request_t req = {.path = path};
    cs_http_response_t r;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_do(c, &req, &r, &err), 0, "%s", err.msg);
    snprintf(body, len, "%s", r.body);
    long status = r.status;
    cs_http_response_free(&r);
    cs_http_client_free(c);
    return status;
}

Test(server, separate_addresses)
{
    cs_metrics_t *reg = cs_metrics_new();
    cs_metric_t *m = cs_metrics_counter(reg, "couchestor_reconcile_total", "Reconciles.", 0, NULL, NULL);
    cs_metric_inc(m, NULL, 2);
    /* different texts: two listeners (equal texts share one) */
    cs_server_options_t o = {
        .metrics_addr = "127.0.0.1:0", .health_addr = "localhost:0", .metrics = reg, .ready = ready};
    cs_server_t *s;
    cs_err_t err = {0};
    cr_assert_eq(cs_server_start(&o, &s, &err), 0, "%s", err.msg);
    char body[4096];
    int mp = cs_server_metrics_port(s), hp = cs_server_health_port(s);
    cr_expect_neq(mp, hp);
    cr_expect_eq(get(mp, "/metrics", body, sizeof body), 200);
    cr_expect(strstr(body, "couchestor_reconcile_total 2\n") != NULL, "%s", body);
    cr_expect_eq(get(hp, "/healthz", body, sizeof body), 200);
    cr_expect_str_eq(body, "ok\n");
    atomic_store(&ready_flag, 0);
    cr_expect_eq(get(hp, "/readyz", body, sizeof body), 503, "readyz reflects the state, unlike the original");
    cr_expect_str_eq(body, "not ready: informer caches not synced\n");
    atomic_store(&ready_flag, 1);
    cr_expect_eq(get(hp, "/readyz", body, sizeof body), 200);
    cr_expect_eq(get(hp, "/metrics", body, sizeof body), 404);
    cr_expect_eq(get(mp, "/nope", body, sizeof body), 404);
    cs_server_stop(s);
    cs_metrics_free(reg);
}

Test(server, one_address_and_errors)
{
    cs_metrics_t *reg = cs_metrics_new();
    cs_server_options_t o = {.metrics_addr = "127.0.0.1:0", .health_addr = "127.0.0.1:0", .metrics = reg};
    o.health_addr = o.metrics_addr;
    cs_server_t *s;
    cs_err_t err = {0};
    cr_assert_eq(cs_server_start(&o, &s, &err), 0, "%s", err.msg);
    char body[256];
    cr_expect_eq(get(cs_server_metrics_port(s), "/healthz", body, sizeof body), 200);
    cr_expect_eq(get(cs_server_metrics_port(s), "/readyz", body, sizeof body), 503, "no readiness callback: not ready");
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", cs_server_metrics_port(s));
    cs_server_options_t clash = {.metrics_addr = addr, .health_addr = addr, .metrics = reg};
    cs_server_t *s2;
    cr_expect_eq(cs_server_start(&clash, &s2, &err), CS_EIO);
    cr_expect(strstr(err.msg, "cannot listen on") != NULL);
    cs_server_options_t bad = {.metrics_addr = "nohost:80", .health_addr = "nohost:80", .metrics = reg};
    cr_expect_eq(cs_server_start(&bad, &s2, &err), CS_EINVAL);
    cs_server_stop(s);
    cs_server_stop(NULL);
    cs_metrics_free(reg);
}
