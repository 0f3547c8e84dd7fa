/* Tests of the Mayastor capability probe (cs_mayastor_capabilities) against
 * a scripted HTTP server playing each kind of control plane: 2.7.1 and
 * newer (the pool-label route exists: a Mayastor error body), 2.7.0 and
 * older (unrouted: actix-web's empty 404), and answers that say neither.
 * The test world's simulator plays both versions too (tests/integration/
 * cli/test_doctor.py). */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/mayastor.h"
#include "prom/fake_http.h"

typedef enum {
    V271,
    V270,
    V270_HTML,
    POOL_EXISTS,
    UNAVAILABLE
} ms_version_t;

static void handler(void *ctx, const fake_req_t *req, fake_resp_t *resp)
{
    ms_version_t m = *(ms_version_t *)ctx;
    switch (m) {
    case V271:
        fake_reply(resp, 404,
                   "{\"details\":\"Pool 'couchestor_Capability_Probe' not found\",\"message\":\"SvcError :: "
                   "PoolNotFound\",\"kind\":\"NotFound\"}");
        break;
    case POOL_EXISTS:
        fake_reply(resp, 412, "{\"details\":\"no key\",\"message\":\"x\",\"kind\":\"FailedPrecondition\"}");
        break;
    case V270:
        resp->status = 404;
        break;
    case V270_HTML:
        fake_reply(resp, 404, "<html>404 page not found</html>");
        break;
    case UNAVAILABLE:
        fake_reply(resp, 503, "{\"details\":\"core agent down\",\"message\":\"x\",\"kind\":\"Unavailable\"}");
        break;
    }
    (void)req;
}

static int probe(ms_version_t m, cs_mayastor_caps_t *caps, cs_mayastor_err_t *err, char *path, size_t len)
{
    fake_http_t *srv = fake_http_start(handler, &m);
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    o.url = srv->url;
    cs_mayastor_t *ms = NULL;
    cs_err_t e = {0};
    cr_assert_eq(cs_mayastor_new(&o, &ms, &e), 0, "%s", e.msg);
    int rc = cs_mayastor_capabilities(ms, caps, err);
    cr_assert_eq(fake_http_count(srv), 1, "the probe is one request, never retried");
    snprintf(path, len, "%s %s", srv->reqs[0].method, srv->reqs[0].path);
    cs_mayastor_free(ms);
    fake_http_stop(srv);
    return rc;
}

Test(caps, a_control_plane_with_the_route_answers_with_its_own_error)
{
    cs_mayastor_caps_t caps;
    cs_mayastor_err_t err = {0};
    char path[256];
    cr_assert_eq(probe(V271, &caps, &err, path, sizeof path), 0, "%s", err.err.msg);
    cr_expect(caps.pool_labels);
    cr_expect_eq(caps.probe_status, 404);
    /* a DELETE of a key nobody sets, on a pool id no DiskPool can have */
    cr_expect_str_eq(path, "DELETE /v0/pools/couchestor_Capability_Probe/label/couchestor.io%2Fcapability-probe");
    cr_assert_eq(probe(POOL_EXISTS, &caps, &err, path, sizeof path), 0, "%s", err.err.msg);
    cr_expect(caps.pool_labels);
    cr_expect_eq(caps.probe_status, 412);
}

Test(caps, an_unrouted_path_means_no_pool_label_endpoints)
{
    cs_mayastor_caps_t caps;
    cs_mayastor_err_t err = {0};
    char path[256];
    cr_assert_eq(probe(V270, &caps, &err, path, sizeof path), 0, "%s", err.err.msg);
    cr_expect_not(caps.pool_labels);
    cr_expect_eq(caps.probe_status, 404);
    cr_assert_eq(probe(V270_HTML, &caps, &err, path, sizeof path), 0, "%s", err.err.msg);
    cr_expect_not(caps.pool_labels);
}

Test(caps, other_answers_leave_it_unknown)
{
    cs_mayastor_caps_t caps;
    cs_mayastor_err_t err = {0};
    char path[256];
    cr_expect_eq(probe(UNAVAILABLE, &caps, &err, path, sizeof path), CS_EMAYASTOR);
    cr_expect_not(caps.pool_labels);
    cr_expect_eq(err.http_status, 503);
    cr_expect(strstr(err.err.msg, "capability probe") != NULL, "%s", err.err.msg);

    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fake_closed_port());
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    o.url = url;
    cs_mayastor_t *ms = NULL;
    cs_err_t e = {0};
    cr_assert_eq(cs_mayastor_new(&o, &ms, &e), 0, "%s", e.msg);
    cr_expect_eq(cs_mayastor_capabilities(ms, &caps, &err), CS_EUNAVAILABLE);
    cr_expect_not(caps.pool_labels);
    cs_mayastor_free(ms);
}
