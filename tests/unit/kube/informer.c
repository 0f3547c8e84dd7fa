/* Integration tests of the informer against the API stand-in: initial list
 * in pages, the cache and its namespace index, watch events delivered once
 * each through dropped watches (closed and aborted), re-list after a 410
 * (ERROR event and HTTP 410) that reports the difference without repeating
 * anything, and periodic resync. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube.h"
#include "couchestor/kube_informer.h"
#include "kube/standin.h"

static standin_t S;

static void up(void)
{
    standin_start(&S, NULL);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(informer, .init = up, .fini = down, .timeout = 60);

/* What the handlers saw, per key. */
#define MAXK 128
typedef struct rec_s {
    pthread_mutex_t mu;
    int adds, updates, deletes, resyncs, unknown_deletes;
    struct {
        char key[64];
        long last_rv;
        int adds, updates, deletes;
        bool dup;
    } k[MAXK];
    int nk;
} rec_t;

static rec_t R = {.mu = PTHREAD_MUTEX_INITIALIZER};

static int slot(const char *key)
{
    for (int i = 0; i < R.nk; i++)
        if (strcmp(R.k[i].key, key) == 0)
            return i;
    cr_assert_lt(R.nk, MAXK);
    snprintf(R.k[R.nk].key, sizeof R.k[R.nk].key, "%s", key);
    return R.nk++;
}

static void seen(const cs_kube_object_t *o)
{
    int i = slot(o->key);
    long rv = strtol(o->resource_version, NULL, 10);
    if (rv <= R.k[i].last_rv)
        R.k[i].dup = true; /* the same or an older version again */
    R.k[i].last_rv = rv;
}

static void on_add(void *ctx, const cs_kube_object_t *o)
{
    pthread_mutex_lock(&R.mu);
    seen(o);
    R.k[slot(o->key)].adds++;
    R.adds++;
    pthread_mutex_unlock(&R.mu);
}

static void on_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *o)
{
    pthread_mutex_lock(&R.mu);
    if (old == o) {
        R.resyncs++;
    } else {
        seen(o);
        R.k[slot(o->key)].updates++;
        R.updates++;
    }
    pthread_mutex_unlock(&R.mu);
}

static void on_delete(void *ctx, const cs_kube_object_t *o, bool unknown)
{
    pthread_mutex_lock(&R.mu);
    int i = slot(o->key);
    if (!unknown)
        seen(o);
    R.k[i].deletes++;
    R.deletes++;
    R.unknown_deletes += unknown;
    pthread_mutex_unlock(&R.mu);
}

static int counts(int *a, int *u, int *d)
{
    pthread_mutex_lock(&R.mu);
    *a = R.adds, *u = R.updates, *d = R.deletes;
    pthread_mutex_unlock(&R.mu);
    return 0;
}

static bool have(int a, int u, int d)
{
    int x, y, z;
    counts(&x, &y, &z);
    return x >= a && y >= u && z >= d;
}

static const cs_informer_handlers_t H = {on_add, on_update, on_delete, NULL};

static cs_kube_client_t *C;

static void api(const char *method, const char *path, const char *body, long want)
{
    long st = standin_raw(&S, method, path, body, NULL, NULL);
    cr_assert_eq(st, want, "%s %s -> %ld", method, path, st);
}

static void create(const char *ns, const char *name)
{
    char path[128], body[256];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps", ns);
    snprintf(body, sizeof body, "{\"metadata\":{\"name\":\"%s\",\"labels\":{\"app\":\"x\"}},\"data\":{\"v\":\"0\"}}",
             name);
    api("POST", path, body, 201);
}

static void modify(const char *ns, const char *name, int v)
{
    char path[128], body[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/%s", ns, name);
    snprintf(body, sizeof body, "{\"data\":{\"v\":\"%d\"}}", v);
    cs_http_options_t o = {.base_url = S.url};
    cs_http_client_t *h;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_client_new(&o, &h, &err), 0);
    cs_http_request_t r = {.method = "PATCH",
                           .path = path,
                           .body = body,
                           .body_len = strlen(body),
                           .content_type = "application/merge-patch+json"};
    cs_http_response_t resp;
    cr_assert_eq(cs_http_do(h, &r, &resp, &err), 0, "%s", err.msg);
    cr_assert_eq(resp.status, 200, "%s", resp.body);
    cs_http_response_free(&resp);
    cs_http_client_free(h);
}

static void del(const char *ns, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/namespaces/%s/configmaps/%s", ns, name);
    api("DELETE", path, NULL, 200);
}

static void drop_watches(const char *mode)
{
    char body[64];
    snprintf(body, sizeof body, "{\"mode\":\"%s\"}", mode);
    api("POST", "/_control/drop-watches", body, 200);
}

static cs_informer_t *start(const char *ns, int64_t resync_ns)
{
    C = standin_client(&S, NULL, NULL);
    cs_informer_options_t o = {.resource = CS_KUBE_RES_CONFIGMAPS,
                               .namespace = ns,
                               .handlers = H,
                               .page_size = 7,
                               .backoff_initial_ns = 300 * 1000000LL,
                               .backoff_max_ns = 1000 * 1000000LL,
                               .resync_period_ns = resync_ns,
                               .watch_timeout_ns = 30 * 1000000000LL};
    cs_informer_t *inf = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_informer_new(C, &o, &inf, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_informer_start(inf, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_informer_start(inf, &err), CS_EBUSY);
    cr_assert_eq(cs_informer_wait_synced(inf, 10 * 1000000000LL), 0, "informer did not sync");
    return inf;
}

static void finish(cs_informer_t *inf)
{
    cs_informer_free(inf);
    cs_kube_client_free(C);
}

static int count_ns(void *ctx, const cs_kube_object_t *o)
{
    (*(int *)ctx)++;
    return 0;
}

static bool watching(void)
{
    char *body = NULL;
    standin_raw(&S, "GET", "/_control/state", NULL, NULL, &body);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    bool w = json_integer_value(json_object_get(j, "watchers")) > 0;
    json_decref(j);
    return w;
}

Test(informer, lists_in_pages_and_indexes_by_namespace)
{
    api("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"other\"}}", 201);
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        create(i < 15 ? "default" : "other", name);
    }
    cs_informer_t *inf = start(NULL, 0);
    cr_expect(cs_informer_has_synced(inf));
    cr_expect_eq(cs_informer_count(inf), 20);
    cr_expect_eq(R.adds, 20, "one add per listed object");
    cs_kube_object_t *o = cs_informer_get(inf, "other", "cm-17");
    cr_assert_not_null(o);
    cr_expect_str_eq(o->namespace, "other");
    cr_expect_str_eq(o->key, "other/cm-17");
    cs_kube_meta_t *m = o->data;
    cr_expect_str_eq(cs_labels_get(&m->labels, "app"), "x");
    cs_kube_object_unref(o);
    cr_expect_null(cs_informer_get(inf, "default", "cm-17"));
    int n = 0;
    cr_expect_eq(cs_informer_foreach(inf, "other", count_ns, &n), 0);
    cr_expect_eq(n, 5);
    n = 0;
    cs_informer_foreach(inf, NULL, count_ns, &n);
    cr_expect_eq(n, 20);
    cs_informer_stats_t st;
    cs_informer_stats(inf, &st);
    cr_expect_eq(st.lists, 1);
    cr_expect_eq(st.relists, 0);
    char rv[64];
    cs_informer_resource_version(inf, rv, sizeof rv);
    cr_expect_gt(strtol(rv, NULL, 10), 20);

    /* A watch event moves an object between namespace buckets' counts. */
    del("other", "cm-15");
    cr_assert(STANDIN_WAIT(have(20, 0, 1), 10000));
    n = 0;
    cs_informer_foreach(inf, "other", count_ns, &n);
    cr_expect_eq(n, 4);
    finish(inf);
}

Test(informer, survives_dropped_watches_without_losing_or_repeating)
{
    cs_informer_t *inf = start("default", 0);
    cr_assert(STANDIN_WAIT(watching(), 10000));
    const char *modes[] = {"close", "abort"};
    for (int i = 0; i < 20; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        create("default", name);
        if (i % 4 == 3)
            drop_watches(modes[(i / 4) % 2]);
    }
    for (int i = 0; i < 10; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        modify("default", name, i + 1);
        if (i % 3 == 2)
            drop_watches(modes[i % 2]);
    }
    for (int i = 10; i < 15; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        del("default", name);
        drop_watches("abort");
    }
    cr_assert(STANDIN_WAIT(have(20, 10, 5), 15000), "adds %d updates %d deletes %d", R.adds, R.updates, R.deletes);
    /* Events arrive in order: once the sentinel is seen, any repeat of an
     * earlier event would have been seen too. */
    create("default", "sentinel");
    cr_assert(STANDIN_WAIT(have(21, 10, 5), 10000));
    pthread_mutex_lock(&R.mu);
    cr_expect_eq(R.adds, 21);
    cr_expect_eq(R.updates, 10);
    cr_expect_eq(R.deletes, 5);
    for (int i = 0; i < R.nk; i++) {
        cr_expect_not(R.k[i].dup, "%s seen twice at one version", R.k[i].key);
        cr_expect_eq(R.k[i].adds, 1, "%s", R.k[i].key);
    }
    pthread_mutex_unlock(&R.mu);
    cr_expect_eq(cs_informer_count(inf), 16);
    cs_informer_stats_t st;
    cs_informer_stats(inf, &st);
    cr_expect_eq(st.lists, 1, "dropped watches never re-list");
    cr_expect_geq(st.watches, 2, "at least one watch was resumed");
    finish(inf);
}

static bool fault_fired(void)
{
    char *body = NULL;
    standin_raw(&S, "GET", "/_control/faults", NULL, NULL, &body);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    /* Spent (count 1, removed) or fired at least once (count -1). */
    json_t *rules = json_object_get(j, "faults");
    bool fired =
        json_array_size(rules) == 0 || json_integer_value(json_object_get(json_array_get(rules, 0), "fired")) > 0;
    json_decref(j);
    return fired;
}

static uint64_t relists(cs_informer_t *inf)
{
    cs_informer_stats_t st;
    cs_informer_stats(inf, &st);
    return st.relists;
}

/* Server list vs cache: same keys, same versions. */
static void same_as_server(cs_informer_t *inf)
{
    char *body = NULL;
    cr_assert_eq(standin_raw(&S, "GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(j, "items"), i, it)
    {
        json_t *m = json_object_get(it, "metadata");
        cs_kube_object_t *o = cs_informer_get(inf, "default", json_string_value(json_object_get(m, "name")));
        cr_assert_not_null(o, "%s missing from the cache", json_string_value(json_object_get(m, "name")));
        cr_expect_str_eq(o->resource_version, json_string_value(json_object_get(m, "resourceVersion")));
        cs_kube_object_unref(o);
    }
    cr_expect_eq(cs_informer_count(inf), json_array_size(json_object_get(j, "items")));
    json_decref(j);
}

Test(informer, relists_on_410_and_reports_only_the_difference)
{
    for (int i = 0; i < 6; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        create("default", name);
    }
    cs_informer_t *inf = start("default", 0);
    cr_assert(STANDIN_WAIT(watching(), 10000));
    cr_assert_eq(R.adds, 6);

    /* Keep the informer away (503s on its watches) while things change
     * and the history is compacted: its resourceVersion is now too old,
     * and the stand-in answers with an ERROR 410 event. (A single 503 kept
     * it away for one 300-600 ms backoff only: under load it could watch
     * again before the compaction, and then never needed a re-list.) */
    standin_fault(&S, "{\"type\":\"error\",\"code\":503,\"method\":\"GET\",\"path\":\"/configmaps$\",\"count\":-1}");
    drop_watches("close");
    cr_assert(STANDIN_WAIT(fault_fired(), 10000));
    modify("default", "cm-00", 7);
    del("default", "cm-01");
    create("default", "cm-new");
    api("POST", "/_control/compact", "{}", 200);
    api("DELETE", "/_control/faults", NULL, 200);
    cr_assert(STANDIN_WAIT(relists(inf) >= 1, 15000), "no re-list after 410");
    cr_assert(STANDIN_WAIT(have(7, 1, 1), 10000));
    create("default", "sentinel");
    cr_assert(STANDIN_WAIT(have(8, 1, 1), 10000));
    pthread_mutex_lock(&R.mu);
    cr_expect_eq(R.adds, 8, "6 listed + cm-new + sentinel");
    cr_expect_eq(R.updates, 1, "only cm-00 changed");
    cr_expect_eq(R.deletes, 1);
    cr_expect_eq(R.unknown_deletes, 1, "a delete found by re-list has an unknown final state");
    for (int i = 0; i < R.nk; i++)
        cr_expect_not(R.k[i].dup, "%s repeated", R.k[i].key);
    pthread_mutex_unlock(&R.mu);
    same_as_server(inf);

    /* An HTTP 410 on a watch request re-lists too. */
    uint64_t before = relists(inf);
    standin_fault(&S, "{\"type\":\"error\",\"code\":410,\"reason\":\"Gone\",\"method\":\"GET\",\"path\":\"/"
                      "configmaps$\",\"count\":1}");
    drop_watches("abort");
    cr_assert(STANDIN_WAIT(relists(inf) > before, 15000));
    create("default", "sentinel2");
    cr_assert(STANDIN_WAIT(have(9, 1, 1), 10000));
    pthread_mutex_lock(&R.mu);
    cr_expect_eq(R.adds, 9);
    cr_expect_eq(R.updates, 1, "a re-list of unchanged objects reports nothing");
    cr_expect_eq(R.deletes, 1);
    pthread_mutex_unlock(&R.mu);
    same_as_server(inf);
    finish(inf);
}

Test(informer, bookmarks_advance_the_resource_version)
{
    api("POST", "/_control/history", "{\"bookmarkInterval\":0.05}", 200);
    cs_informer_t *inf = start("default", 0);
    char rv0[64], rv1[64];
    cs_informer_resource_version(inf, rv0, sizeof rv0);
    /* A change in another namespace is not an event here, but the
     * bookmark after it carries the newer resourceVersion. */
    api("POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"elsewhere\"}}", 201);
    create("elsewhere", "x");
    cs_informer_stats_t st;
    cr_assert(STANDIN_WAIT((cs_informer_stats(inf, &st), cs_informer_resource_version(inf, rv1, sizeof rv1),
                            strtol(rv1, NULL, 10) > strtol(rv0, NULL, 10)),
                           10000));
    cr_expect_gt(st.bookmarks + 1, 0);
    cr_expect_eq(R.adds, 0);
    finish(inf);
}

Test(informer, periodic_resync)
{
    create("default", "a");
    create("default", "b");
    cs_informer_t *inf = start("default", 300 * 1000000LL);
    cr_assert(STANDIN_WAIT(({
                               pthread_mutex_lock(&R.mu);
                               int r = R.resyncs;
                               pthread_mutex_unlock(&R.mu);
                               r >= 4;
                           }),
                           10000));
    cr_expect_eq(R.updates, 0, "a resync is not a change");
    finish(inf);
}

Test(informer, stop_is_prompt_and_restart_works)
{
    cs_informer_t *inf = start("default", 0);
    cr_assert(STANDIN_WAIT(watching(), 10000));
    int64_t t0 = standin_now_ms();
    cs_informer_stop(inf);
    cr_expect_lt(standin_now_ms() - t0, 2000, "stopping aborts the watch in flight");
    cs_informer_stop(inf);
    create("default", "later");
    cs_err_t err = {0};
    cr_assert_eq(cs_informer_start(inf, &err), 0, "%s", err.msg);
    cr_assert(STANDIN_WAIT(have(1, 0, 0), 10000));
    finish(inf);
}
