/* Integration tests of the Mayastor REST client against the Mayastor
 * simulator (and the Kubernetes API stand-in for DiskPools and PVs), in a
 * world started once by the mayastor_world fixture. Each test works on its
 * own volume or pool so they can run in any order. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/mayastor.h"
#include "prom/world.h"

#define GiB (UINT64_C(1) << 30)

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

/* The volume of the scenario with this size (each test volume has its own). */
static cs_mayastor_uuid_t volume_of_size(cs_mayastor_t *ms, uint64_t size)
{
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_volumes_list(ms, &vols, &err), 0, "%s", err.err.msg);
    cs_mayastor_uuid_t u = {{0}};
    for (size_t i = 0; i < vols.count; i++)
        if (vols.items[i].size == size)
            u = vols.items[i].uuid;
    cs_mayastor_volumes_free(&vols);
    cr_assert_not(cs_mayastor_uuid_is_nil(&u), "no volume of %llu bytes", (unsigned long long)size);
    return u;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

Test(live, list_matches_the_simulator_and_pages_agree)
{
    world_t w;
    world_load(&w);
    long status = 0;
    json_t *st = world_request("GET", w.control_url, "/state", NULL, NULL, &status);
    json_t *svols = json_object_get(st, "volumes");
    cs_mayastor_t *one = client(w.mayastor_url, 0), *paged = client(w.mayastor_url, 7);
    cs_mayastor_volumes_t a, b;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_volumes_list(one, &a, &err), 0, "%s", err.err.msg);
    cr_assert_eq(cs_mayastor_volumes_list(paged, &b, &err), 0, "%s", err.err.msg);
    cr_expect_eq(a.count, 40);
    cr_expect_eq(a.count, json_array_size(svols));
    cr_expect_eq(b.count, a.count, "7 per page gives the same volumes");
    size_t i;
    json_t *sv;
    json_array_foreach(svols, i, sv)
    {
        const char *u = json_string_value(json_object_get(json_object_get(sv, "spec"), "uuid"));
        cs_mayastor_uuid_t id;
        cr_assert_eq(cs_mayastor_uuid_parse(u, strlen(u), &id), 0);
        const cs_mayastor_volume_t *va = cs_mayastor_volumes_find(&a, &id), *vb = cs_mayastor_volumes_find(&b, &id);
        cr_assert_not_null(va, "%s missing from the list", u);
        cr_assert_not_null(vb, "%s missing from the paged list", u);
        json_t *spec = json_object_get(sv, "spec"), *state = json_object_get(sv, "state");
        /* The tests run two at a time (--jobs 2): the replica-count and
         * nexus-child tests change their volumes between the snapshot and
         * the lists. */
        uint64_t size = (uint64_t)json_integer_value(json_object_get(spec, "size"));
        if (size == 3 * GiB || size == 5 * GiB)
            continue;
        cr_expect_eq(va->num_replicas, json_integer_value(json_object_get(spec, "num_replicas")));
        cr_expect_eq(va->size, (uint64_t)json_integer_value(json_object_get(spec, "size")));
        cr_expect_eq(va->replica_count, json_object_size(json_object_get(state, "replica_topology")));
        cr_expect_str_eq(cs_mayastor_volume_status_name(va->status),
                         json_string_value(json_object_get(state, "status")));
        const char *rk;
        json_t *rv;
        json_object_foreach(json_object_get(state, "replica_topology"), rk, rv)
        {
            cs_mayastor_uuid_t ru;
            cs_mayastor_uuid_parse(rk, strlen(rk), &ru);
            const cs_mayastor_replica_t *r = cs_mayastor_volume_replica(va, &ru);
            cr_assert_not_null(r);
            cr_expect_str_eq(r->pool, json_string_value(json_object_get(rv, "pool")));
            cr_expect_str_eq(r->node, json_string_value(json_object_get(rv, "node")));
        }
        cr_expect_eq(vb->num_replicas, va->num_replicas);
    }
    cs_mayastor_volumes_free(&a);
    cs_mayastor_volumes_free(&b);
    json_decref(st);

    cs_mayastor_pools_t pools;
    cr_assert_eq(cs_mayastor_pools_list(one, NULL, &pools, &err), 0, "%s", err.err.msg);
    cr_expect_eq(pools.count, 5);
    const cs_mayastor_pool_t *p = cs_mayastor_pools_find(&pools, "pool-3");
    cr_assert_not_null(p);
    cr_expect_str_eq(p->node, "node-3");
    cr_expect_str_eq(cs_mayastor_pool_label(p, "storage-tier"), "cold");
    cr_expect_eq(p->status, CS_MAYASTOR_STATE_ONLINE);
    cr_expect_eq(p->capacity, UINT64_C(1) << 40);
    cs_mayastor_pools_free(&pools);
    cs_mayastor_nodes_t nodes;
    cr_assert_eq(cs_mayastor_nodes_list(one, &nodes, &err), 0, "%s", err.err.msg);
    cr_expect_eq(nodes.count, 4);
    cr_expect_eq(nodes.items[0].status, CS_MAYASTOR_NODE_ONLINE);
    cs_mayastor_nodes_free(&nodes);
    cr_assert_eq(cs_mayastor_node_get(one, "node-2", &nodes, &err), 0, "%s", err.err.msg);
    cr_expect_str_eq(nodes.items[0].id, "node-2");
    cs_mayastor_nodes_free(&nodes);
    cs_mayastor_free(one);
    cs_mayastor_free(paged);
}

Test(live, not_found_comes_back_with_its_kind)
{
    world_t w;
    world_load(&w);
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_uuid_t u;
    cs_mayastor_uuid_parse("00000000-0000-0000-0000-00000000beef", 36, &u);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_expect_eq(cs_mayastor_volume_get(ms, &u, &vols, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 404);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NOT_FOUND);
    cr_expect_str_eq(err.kind_text, "NotFound");
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_pools_t pools;
    cr_expect_eq(cs_mayastor_pool_get(ms, "no-such-pool", &pools, &err), CS_EMAYASTOR);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NOT_FOUND);
    cr_expect(strstr(err.err.msg, "no-such-pool") != NULL, "%s", err.err.msg);
    cs_mayastor_free(ms);
}

Test(live, replica_count_up_rebuild_and_down)
{
    world_t w;
    world_load(&w);
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_uuid_t id = volume_of_size(ms, 3 * GiB);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_volume_get(ms, &id, &vols, &err), 0, "%s", err.err.msg);
    cr_assert_eq(vols.items[0].num_replicas, 1);
    cr_assert_eq(vols.items[0].replica_count, 1);
    cs_mayastor_uuid_t old = vols.items[0].replicas[0].uuid;
    cs_mayastor_volumes_free(&vols);

    /* +1: the reply is the volume with its new spec */
    cr_assert_eq(cs_mayastor_volume_set_replica_count(ms, &id, 2, &vols, &err), 0, "%s", err.err.msg);
    cr_expect_eq(vols.items[0].num_replicas, 2);
    cs_mayastor_volumes_free(&vols);
    /* +2 at once is refused with its kind */
    cr_expect_eq(cs_mayastor_volume_set_replica_count(ms, &id, 4, NULL, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 412);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_FAILED_PRECONDITION);
    cr_expect(strstr(err.details, "ReplicaChangeCount") != NULL, "%s", err.details);

    /* wait until the new replica is rebuilt: child Online, volume Online */
    long status;
    json_decref(world_request("POST", w.control_url, "/time", "{\"advance\":30}", NULL, &status));
    cs_mayastor_uuid_t added = {{0}};
    int64_t deadline = world_now_ms() + 30000;
    for (;;) {
        cr_assert_eq(cs_mayastor_volume_get(ms, &id, &vols, &err), 0, "%s", err.err.msg);
        const cs_mayastor_volume_t *v = &vols.items[0];
        bool synced = v->status == CS_MAYASTOR_VOLUME_ONLINE && v->replica_count == 2;
        for (size_t i = 0; i < v->replica_count; i++) {
            if (cs_mayastor_uuid_eq(&v->replicas[i].uuid, &old))
                continue;
            added = v->replicas[i].uuid;
            synced = synced && v->replicas[i].child_status == CS_MAYASTOR_CHILD_ONLINE &&
                     v->replicas[i].rebuild_progress == -1;
        }
        for (size_t i = 0; i < v->target.child_count; i++)
            synced = synced && v->target.children[i].state == CS_MAYASTOR_CHILD_ONLINE;
        cs_mayastor_volumes_free(&vols);
        if (synced)
            break;
        cr_assert_lt(world_now_ms(), deadline, "the new replica never finished rebuilding");
        sleep_ms(200);
    }
    /* the finished rebuild is in the history */
    cs_mayastor_rebuild_history_t h;
    cr_assert_eq(cs_mayastor_volume_rebuild_history(ms, &id, &h, &err), 0, "%s", err.err.msg);
    bool found = false;
    char au[37];
    cs_mayastor_uuid_format(&added, au);
    for (size_t i = 0; i < h.count; i++)
        if (h.records[i].child_uri && strstr(h.records[i].child_uri, au)) {
            found = true;
            cr_expect_eq(h.records[i].state, CS_MAYASTOR_REBUILD_COMPLETED);
            cr_expect_eq(h.records[i].blocks_remaining, 0);
        }
    cr_expect(found, "no rebuild record for the new child %s", au);
    cs_mayastor_rebuild_history_free(&h);

    /* -1 back */
    cr_assert_eq(cs_mayastor_volume_set_replica_count(ms, &id, 1, &vols, &err), 0, "%s", err.err.msg);
    cr_expect_eq(vols.items[0].num_replicas, 1);
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_free(ms);
}

Test(live, pool_labels)
{
    world_t w;
    world_load(&w);
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_pools_t pools;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(
        cs_mayastor_pool_label_put(ms, "pool-labels", "couchestor.io/placement", "target", false, &pools, &err), 0,
        "%s", err.err.msg);
    cr_expect_str_eq(cs_mayastor_pool_label(&pools.items[0], "couchestor.io/placement"), "target");
    cs_mayastor_pools_free(&pools);
    /* same key, same value: no change, success */
    cr_expect_eq(cs_mayastor_pool_label_put(ms, "pool-labels", "couchestor.io/placement", "target", false, NULL, &err),
                 0, "%s", err.err.msg);
    /* another value without overwrite: 412 */
    cr_expect_eq(cs_mayastor_pool_label_put(ms, "pool-labels", "couchestor.io/placement", "other", false, NULL, &err),
                 CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 412);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_FAILED_PRECONDITION);
    /* with overwrite */
    cr_assert_eq(cs_mayastor_pool_label_put(ms, "pool-labels", "couchestor.io/placement", "other", true, &pools, &err),
                 0, "%s", err.err.msg);
    cr_expect_str_eq(cs_mayastor_pool_label(&pools.items[0], "couchestor.io/placement"), "other");
    cs_mayastor_pools_free(&pools);
    /* the created-by value can be overwritten but not removed */
    cr_expect_eq(cs_mayastor_pool_label_delete(ms, "pool-labels", "openebs.io/created-by", NULL, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 400);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_INVALID_ARGUMENT);
    cr_assert_eq(cs_mayastor_pool_label_delete(ms, "pool-labels", "couchestor.io/placement", &pools, &err), 0, "%s",
                 err.err.msg);
    cs_mayastor_pools_free(&pools);
    cr_assert_eq(cs_mayastor_pool_get(ms, "pool-labels", &pools, &err), 0, "%s", err.err.msg);
    cr_expect_null(cs_mayastor_pool_label(&pools.items[0], "couchestor.io/placement"));
    cr_expect_str_eq(cs_mayastor_pool_label(&pools.items[0], "storage-tier"), "warm");
    cs_mayastor_pools_free(&pools);
    /* an absent key: 412 */
    cr_expect_eq(cs_mayastor_pool_label_delete(ms, "pool-labels", "couchestor.io/placement", NULL, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 412);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_FAILED_PRECONDITION);
    cs_mayastor_free(ms);
}

Test(live, nexus_children_by_percent_encoded_uri)
{
    world_t w;
    world_load(&w);
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_uuid_t id = volume_of_size(ms, 5 * GiB);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_assert_eq(cs_mayastor_volume_get(ms, &id, &vols, &err), 0, "%s", err.err.msg);
    const cs_mayastor_volume_t *v = &vols.items[0];
    cr_assert(v->has_target);
    cr_assert_eq(v->target.child_count, 2);
    cs_mayastor_uuid_t nexus = v->target.uuid;
    cs_mayastor_children_t kids;
    cr_assert_eq(cs_mayastor_nexus_children(ms, &nexus, &kids, &err), 0, "%s", err.err.msg);
    cr_assert_eq(kids.count, 2);
    /* pick the remote (nvmf) child: its URI has ':', '/', '?' and '=' */
    size_t k = strncmp(kids.items[0].uri, "nvmf://", 7) == 0 ? 0 : 1;
    cr_assert(strncmp(kids.items[k].uri, "nvmf://", 7) == 0, "%s", kids.items[k].uri);
    char *uri = strdup(kids.items[k].uri);
    cs_mayastor_uuid_t replica = kids.items[k].replica;
    cr_expect_not_null(cs_mayastor_volume_replica(v, &replica), "the child's uuid= names a replica of the volume");
    cs_mayastor_children_free(&kids);
    cs_mayastor_volumes_free(&vols);

    cr_assert_eq(cs_mayastor_nexus_child_get(ms, &nexus, uri, &kids, &err), 0, "%s", err.err.msg);
    cr_expect_str_eq(kids.items[0].uri, uri);
    cr_expect_eq(kids.items[0].state, CS_MAYASTOR_CHILD_ONLINE);
    cs_mayastor_children_free(&kids);
    cr_assert_eq(cs_mayastor_nexus_child_delete(ms, &nexus, uri, &err), 0, "%s", err.err.msg);
    cr_assert_eq(cs_mayastor_nexus_children(ms, &nexus, &kids, &err), 0, "%s", err.err.msg);
    cr_expect_eq(kids.count, 1);
    cr_expect_str_neq(kids.items[0].uri, uri);
    cs_mayastor_children_free(&kids);
    cr_expect_eq(cs_mayastor_nexus_child_get(ms, &nexus, uri, &kids, &err), CS_EMAYASTOR);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NOT_FOUND);
    cs_mayastor_children_free(&kids);
    free(uri);
    cs_mayastor_free(ms);
}

Test(live, injected_faults)
{
    world_t w;
    world_load(&w);
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_uuid_t id = volume_of_size(ms, 7 * GiB);
    char u[37], rule[256];
    cs_mayastor_uuid_format(&id, u);
    long status;
    snprintf(rule, sizeof rule, "{\"type\":\"error\",\"code\":503,\"path\":\"/volumes/%s$\",\"count\":1}", u);
    json_decref(world_request("POST", w.control_url, "/faults", rule, NULL, &status));
    cr_assert_eq(status, 200);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t err = {0};
    cr_expect_eq(cs_mayastor_volume_get(ms, &id, &vols, &err), CS_EMAYASTOR);
    cr_expect_eq(err.http_status, 503);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_UNAVAILABLE);
    cs_mayastor_volumes_free(&vols);
    snprintf(rule, sizeof rule, "{\"type\":\"drop\",\"path\":\"/volumes/%s$\",\"count\":1}", u);
    json_decref(world_request("POST", w.control_url, "/faults", rule, NULL, &status));
    /* a fresh client: libcurl silently retries a request whose reused
     * connection died before any reply, which is what a drop looks like */
    cs_mayastor_t *fresh = client(w.mayastor_url, 0);
    int rc = cs_mayastor_volume_get(fresh, &id, &vols, &err);
    cs_mayastor_free(fresh);
    cr_expect_eq(rc, CS_EUNAVAILABLE, "%d: %s", rc, err.err.msg);
    cr_expect_eq(err.kind, CS_MAYASTOR_KIND_NONE);
    cs_mayastor_volumes_free(&vols);
    /* the rules are spent: the next call succeeds */
    cr_expect_eq(cs_mayastor_volume_get(ms, &id, &vols, &err), 0, "%s", err.err.msg);
    cs_mayastor_volumes_free(&vols);
    cs_mayastor_free(ms);
}

/* ---- Kubernetes side through the API stand-in ---- */

typedef struct {
    const world_t *w;
} kctx_t;

static int kube_get(void *ctx, const char *path, json_t **out, cs_err_t *err)
{
    const world_t *w = ((kctx_t *)ctx)->w;
    cs_http_options_t ho = {.base_url = w->kube_url, .bearer_token = w->kube_token, .timeout_ms = 20000};
    cs_http_client_t *c = NULL;
    int rc = cs_http_client_new(&ho, &c, err);
    if (rc)
        return rc;
    cs_http_request_t req = {.method = "GET", .path = path};
    cs_http_response_t resp;
    rc = cs_http_do(c, &req, &resp, err);
    if (rc == 0 && resp.status == 404)
        rc = cs_err_set(err, CS_ENOTFOUND, "GET %s: 404", path);
    else if (rc == 0 && resp.status != 200)
        rc = cs_err_set(err, CS_EKUBE, "GET %s: HTTP %ld", path, resp.status);
    if (rc == 0)
        rc = cs_json_parse(resp.body, resp.body_len, path, out, err);
    cs_http_response_free(&resp);
    cs_http_client_free(c);
    return rc;
}

Test(live, persistent_volumes_and_diskpools_map_to_mayastor)
{
    world_t w;
    world_load(&w);
    kctx_t k = {&w};
    cs_mayastor_t *ms = client(w.mayastor_url, 0);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t merr = {0};
    cr_assert_eq(cs_mayastor_volumes_list(ms, &vols, &merr), 0, "%s", merr.err.msg);
    json_t *pvs = NULL;
    cs_err_t err = {0};
    cr_assert_eq(kube_get(&k, "/api/v1/persistentvolumes", &pvs, &err), 0, "%s", err.msg);
    json_t *items = json_object_get(pvs, "items");
    cr_expect_eq(json_array_size(items), vols.count, "one PV per volume");
    size_t i;
    json_t *pv;
    json_array_foreach(items, i, pv)
    {
        cs_mayastor_uuid_t u;
        cr_assert_eq(cs_mayastor_pv_volume_json(pv, &u, &err), 0, "%s", err.msg);
        cr_expect_not_null(cs_mayastor_volumes_find(&vols, &u), "PV %zu has no Mayastor volume", i);
        char name[41];
        cr_expect_str_eq(json_string_value(json_object_get(json_object_get(pv, "metadata"), "name")),
                         cs_mayastor_pv_name(&u, name));
    }
    json_decref(pvs);
    cs_mayastor_volumes_free(&vols);

    cs_mayastor_pools_t pools;
    cr_assert_eq(cs_mayastor_pools_list(ms, NULL, &pools, &merr), 0, "%s", merr.err.msg);
    for (size_t p = 0; p < pools.count; p++) {
        cs_mayastor_diskpool_t d;
        cr_assert_eq(cs_mayastor_diskpool_get(kube_get, &k, w.ns, pools.items[p].id, &d, &err), 0, "%s", err.msg);
        cr_expect_str_eq(d.name, pools.items[p].id);
        cr_expect_str_eq(d.node, pools.items[p].node);
        cs_mayastor_diskpool_free(&d);
    }
    cs_mayastor_diskpool_t d;
    cr_expect_eq(cs_mayastor_diskpool_get(kube_get, &k, w.ns, "no-such-pool", &d, &err), CS_ENOTFOUND);
    cs_mayastor_pools_free(&pools);
    cs_mayastor_free(ms);
}

/* Discovery of the api-rest Service is covered by tests/unit/mayastor/kube.c:
 * the Kubernetes API stand-in serves no Services (core/v1 services), so it
 * cannot be exercised live yet. */
