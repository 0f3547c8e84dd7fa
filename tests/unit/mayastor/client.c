/* Tests for the Mayastor REST client against a scripted HTTP server: the
 * exact request paths (percent-encoding of label keys and child URIs,
 * pagination), error kinds, transport failures, 204 deletes. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/mayastor.h"
#include "prom/fake_http.h"

typedef struct {
    int pages;      /* volume pages to serve */
    int loop_token; /* serve the same next_token forever */
    int target;     /* volumes with a nexus and one child */
} script_t;

static const char VOL[] = "{\"spec\":{\"uuid\":\"%08d-0000-0000-0000-000000000000\",\"num_replicas\":1,\"size\":1024},"
                          "\"state\":{\"status\":\"Online\"}}";

static const char VOL_T[] =
    "{\"spec\":{\"uuid\":\"%08d-0000-0000-0000-000000000000\",\"num_replicas\":1,\"size\":1024},"
    "\"state\":{\"status\":\"Online\",\"target\":{\"uuid\":\"99999999-0000-0000-0000-000000000000\","
    "\"children\":[{\"uri\":\"nvmf://h/n?uuid=88888888-0000-0000-0000-000000000000\",\"state\":\"Online\"}]}}}";

static void handler(void *ctx, const fake_req_t *req, fake_resp_t *resp)
{
    script_t *s = ctx;
    const char *p = req->path;
    if (s->target && strncmp(p, "/v0/volumes?", 12) == 0) {
        char buf[1024], v1[400];
        snprintf(v1, sizeof v1, VOL_T, 1);
        snprintf(buf, sizeof buf, "{\"entries\":[%s]}", v1);
        fake_reply(resp, 200, buf);
    } else if (strncmp(p, "/v0/volumes?", 12) == 0) {
        int tok = 0;
        const char *t = strstr(p, "starting_token=");
        if (t)
            tok = atoi(t + 15);
        char buf[1024], v1[200], v2[200];
        snprintf(v1, sizeof v1, VOL, tok * 2);
        snprintf(v2, sizeof v2, VOL, tok * 2 + 1);
        if (s->loop_token)
            snprintf(buf, sizeof buf, "{\"entries\":[%s],\"next_token\":1}", v1);
        else if (tok + 1 < s->pages)
            snprintf(buf, sizeof buf, "{\"entries\":[%s,%s],\"next_token\":%d}", v1, v2, tok + 1);
        else
            snprintf(buf, sizeof buf, "{\"entries\":[%s,%s]}", v1, v2);
        fake_reply(resp, 200, buf);
    } else if (strcmp(req->method, "PUT") == 0 && strstr(p, "/replica_count/")) {
        fake_reply(resp, 412,
                   "{\"details\":\"Volume 'x': replica count can only change by 1 (ReplicaChangeCount)\","
                   "\"message\":\"SvcError :: FailedPrecondition\",\"kind\":\"FailedPrecondition\"}");
    } else if (strstr(p, "/label/")) {
        if (strcmp(req->method, "DELETE") == 0)
            fake_reply(resp, 200, "{\"id\":\"p 1\",\"spec\":{\"labels\":{}}}");
        else
            fake_reply(resp, 200, "{\"id\":\"p 1\",\"spec\":{\"labels\":{\"openebs.io/created-by\":\"x y\"}}}");
    } else if (strstr(p, "/children/")) {
        resp->status = 204;
    } else if (strcmp(p, "/v0/nodes") == 0) {
        fake_reply(resp, 502, "<html>bad gateway</html>");
    } else {
        fake_reply(resp, 404, "{\"details\":\"nothing\",\"message\":\"SvcError :: NotFound\",\"kind\":\"NotFound\"}");
    }
}

static cs_mayastor_t *client(const char *url, unsigned page)
{
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    o.url = url;
    o.page_size = page;
    cs_mayastor_t *ms = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_new(&o, &ms, &err), 0, "%s", err.msg);
    return ms;
}

Test(client, options)
{
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    cr_expect_eq(o.page_size, 500);
    cr_expect_eq(o.timeout_ms, 15000);
    cs_mayastor_t *ms = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_mayastor_new(&o, &ms, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "mayastor url: empty (set MAYASTOR_URL or discover the api-rest Service)");
    o.url = "ftp://x";
    cr_expect_eq(cs_mayastor_new(&o, &ms, &err), CS_EINVAL);
    o.url = "http://h:8081/v0/";
    cr_assert_eq(cs_mayastor_new(&o, &ms, &err), 0);
    cr_expect_str_eq(cs_mayastor_url(ms), "http://h:8081", "the /v0 suffix is the client's");
    cs_mayastor_free(ms);
    cs_mayastor_free(NULL);
}

Test(client, pagination_follows_next_token)
{
    script_t s = {.pages = 3};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_mayastor_t *ms = client(srv->url, 2);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_volumes_list(ms, &vols, &err), 0, "%s", err.err.msg);
    cr_expect_eq(vols.count, 6);
    cr_assert_eq(fake_http_count(srv), 3);
    cr_expect_str_eq(srv->reqs[0].path, "/v0/volumes?max_entries=2");
    cr_expect_str_eq(srv->reqs[1].path, "/v0/volumes?max_entries=2&starting_token=1");
    cr_expect_str_eq(srv->reqs[2].path, "/v0/volumes?max_entries=2&starting_token=2");
    cs_mayastor_uuid_t u;
    cs_mayastor_uuid_parse("00000005-0000-0000-0000-000000000000", 36, &u);
    cr_expect_eq(cs_mayastor_volumes_find(&vols, &u), &vols.items[5]);
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_free(ms);
    fake_http_stop(srv);
}

Test(client, a_token_that_does_not_advance_is_refused)
{
    script_t s = {.loop_token = 1};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_mayastor_t *ms = client(srv->url, 1);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_expect_eq(cs_mayastor_volumes_list(ms, &vols, &err), CS_EPARSE);
    cr_expect_str_eq(err.err.msg, "Mayastor GET /v0/volumes?max_entries=1&starting_token=1: next_token 1 does not "
                                  "advance the listing (2 volumes so far); refusing to loop");
    cr_expect_eq(fake_http_count(srv), 2);
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_free(ms);
    fake_http_stop(srv);
}

Test(client, errors_come_back_with_their_kind)
{
    script_t s = {0};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_mayastor_t *ms = client(srv->url, 0);
    cs_mayastor_uuid_t u;
    cs_mayastor_uuid_parse("01a315f9-fef2-5f4c-b35a-3c06113475a2", 36, &u);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_expect_eq(cs_mayastor_volume_set_replica_count(ms, &u, 3, &vols, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 412);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_FAILED_PRECONDITION);
    cr_expect_str_eq(err.err.msg, "Mayastor PUT /v0/volumes/01a315f9-fef2-5f4c-b35a-3c06113475a2/replica_count/3: "
                                  "HTTP 412 FailedPrecondition: SvcError :: FailedPrecondition (Volume 'x': replica "
                                  "count can only change by 1 (ReplicaChangeCount))");
    cr_expect_eq(vols.count, 0);
    cs_mayastor_volumes_free(&vols);
    cr_expect_eq(cs_mayastor_volume_set_replica_count(ms, &u, 0, NULL, &err), CS_EINVAL);
    cr_expect_eq(cs_mayastor_volume_set_replica_count(ms, &u, 256, NULL, &err), CS_EINVAL);

    cr_expect_eq(cs_mayastor_volume_get(ms, &u, &vols, &err), CS_EMAYASTOR);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NOT_FOUND);
    cr_expect_eq(err.http_status, 404);
    cr_expect_str_eq(err.details, "nothing");
    cs_mayastor_volumes_free(&vols);

    cs_mayastor_nodes_t nodes;
    cr_expect_eq(cs_mayastor_nodes_list(ms, &nodes, &err), CS_EMAYASTOR);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_OTHER);
    cr_expect_str_eq(err.err.msg,
                     "Mayastor GET /v0/nodes: HTTP 502, not a Mayastor error reply: <html>bad gateway</html>");
    cs_mayastor_nodes_free(&nodes);
    cs_mayastor_free(ms);
    fake_http_stop(srv);
}

Test(client, label_and_child_paths_are_percent_encoded)
{
    script_t s = {0};
    fake_http_t *srv = fake_http_start(handler, &s);
    cs_mayastor_t *ms = client(srv->url, 0);
    cs_mayastor_pools_t pools;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_pool_label_put(ms, "p 1", "openebs.io/created-by", "x y", true, &pools, &err), 0, "%s",
                 err.err.msg);
    cr_expect_str_eq(cs_mayastor_pool_label(&pools.items[0], "openebs.io/created-by"), "x y");
    cs_mayastor_pools_free(&pools);
    cr_assert_eq(cs_mayastor_pool_label_put(ms, "p", "tier", "hot", false, NULL, &err), 0);
    cr_assert_eq(cs_mayastor_pool_label_delete(ms, "p", "couchestor.io/placement", NULL, &err), 0);
    cs_mayastor_uuid_t nx;
    cs_mayastor_uuid_parse("85eacdff-6881-52f5-96ae-741f2ac370a0", 36, &nx);
    const char *uri = "nvmf://10.1.0.3:8420/nqn.2019-05.io.openebs:a11e?uuid=a11eee55-75a5-5d12-baa3-ea86cfd039f2";
    cr_assert_eq(cs_mayastor_nexus_child_delete(ms, &nx, uri, &err), 0, "%s", err.err.msg);
    cr_assert_eq(fake_http_count(srv), 4);
    cr_expect_str_eq(srv->reqs[0].path, "/v0/pools/p%201/label/openebs.io%2Fcreated-by=x%20y?overwrite=true");
    cr_expect_str_eq(srv->reqs[1].path, "/v0/pools/p/label/tier=hot");
    cr_expect_str_eq(srv->reqs[2].method, "DELETE");
    cr_expect_str_eq(srv->reqs[2].path, "/v0/pools/p/label/couchestor.io%2Fplacement");
    cr_expect_str_eq(srv->reqs[3].method, "DELETE");
    cr_expect_str_eq(srv->reqs[3].path, "/v0/nexuses/85eacdff-6881-52f5-96ae-741f2ac370a0/children/"
                                        "nvmf%3A%2F%2F10.1.0.3%3A8420%2Fnqn.2019-05.io.openebs%3Aa11e%3Fuuid%3D"
                                        "a11eee55-75a5-5d12-baa3-ea86cfd039f2");
    cs_mayastor_free(ms);
    fake_http_stop(srv);
}

Test(client, unreachable)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", fake_closed_port());
    cs_mayastor_t *ms = client(url, 0);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_expect_eq(cs_mayastor_volumes_list(ms, &vols, &err), CS_EUNAVAILABLE);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NONE);
    cr_expect_eq(err.http_status, 0);
    cr_expect(strstr(err.err.msg, "Mayastor REST API at http://127.0.0.1:") != NULL, "%s", err.err.msg);
    cr_expect(strstr(err.err.msg, "check mayastor_url or the api-rest Service") != NULL, "%s", err.err.msg);
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_free(ms);
}

Test(client, lists_keep_nexus_children_only_when_asked)
{
    script_t s = {.target = 1};
    fake_http_t *srv = fake_http_start(handler, &s);
    for (int mode = 0; mode < 3; mode++) {
        cs_mayastor_options_t o;
        cs_mayastor_options_default(&o);
        cr_expect_not(o.list_children);
        cr_expect_not(o.list_child_uris);
        o.url = srv->url;
        o.list_children = mode == 1;
        o.list_child_uris = mode == 2; /* implies list_children */
        cs_mayastor_t *ms = NULL;
        cs_err_t e = {0};
        cr_assert_eq(cs_mayastor_new(&o, &ms, &e), 0, "%s", e.msg);
        cs_mayastor_volumes_t vols;
        cs_mayastor_err_t err = {0};
        cr_assert_eq(cs_mayastor_volumes_list(ms, &vols, &err), 0, "%s", err.err.msg);
        cr_assert_eq(vols.count, 1);
        const cs_mayastor_volume_t *v = &vols.items[0];
        cr_expect(v->has_target);
        cr_expect_eq(v->target.uuid.b[0], 0x99);
        cr_expect_eq(v->target.child_count, mode == 0 ? 0 : 1, "mode %d", mode);
        if (mode > 0) {
            cr_expect_eq(v->target.children[0].state, CS_MAYASTOR_CHILD_ONLINE);
            cr_expect_eq(v->target.children[0].replica.b[0], 0x88);
            if (mode == 1)
                cr_expect_null(v->target.children[0].uri);
            else
                cr_expect_str_eq(v->target.children[0].uri, "nvmf://h/n?uuid=88888888-0000-0000-0000-000000000000");
        }
        cs_mayastor_volumes_free(&vols);
        cs_mayastor_free(ms);
    }
    fake_http_stop(srv);
}
