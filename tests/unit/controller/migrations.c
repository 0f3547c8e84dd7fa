/* Tests of the operator's migration manager (src/controller/migrations.c)
 * against the Kubernetes API stand-in (Lease, PersistentVolumes, Events) and
 * a scripted Mayastor REST server:
 *   - every write is bounded by the Lease: it ends by the renew deadline and
 *     is refused when too little of the term is left (review item M9);
 *   - a migration refused before any change is no failed migration: counted
 *     by reason, not in migrations_total, the status history or the PV's
 *     backoff, no immediate requeue, its Event not repeated. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "controller/migrations.h"
#include "couchestor/kube_events.h"
#include "couchestor/kube_lease.h"
#include "couchestor/metrics.h"
#include "kube/standin.h"
#include "prom/fake_http.h"

#define MS (INT64_C(1000000))
#define VOLUME "01a315f9-fef2-5f4c-b35a-3c06113475a2"

static standin_t S;

static void up(void)
{
    signal(SIGPIPE, SIG_IGN); /* the scripted server answers clients that gave up */
    standin_start(&S, NULL);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(migrations, .init = up, .fini = down, .timeout = 60);

/* ---- the scripted Mayastor ---- */

typedef struct {
    atomic_int slow_ms; /* PUT replica_count answers after this long */
    atomic_int writes;  /* PUT/DELETE requests seen */
    const char *target_status;
} ms_script_t;

/* The recorded 2-replica volume: replicas on pool-warm-2 (node-2) and
 * pool-cold-3 (node-3), topology including the placement label. */
static const char VOL_JSON[] =
    "{\"spec\":{\"uuid\":\"" VOLUME "\",\"size\":2147483648,\"num_replicas\":2,\"status\":\"Created\","
    "\"topology\":{\"pool_topology\":{\"labelled\":{\"inclusion\":{\"couchestor.io/placement\":\"\"},"
    "\"exclusion\":{}}}},\"target\":{\"node\":\"node-2\",\"protocol\":\"nvmf\"}},"
    "\"state\":{\"uuid\":\"" VOLUME "\",\"size\":2147483648,\"status\":\"Online\","
    "\"target\":{\"uuid\":\"85eacdff-6881-52f5-96ae-741f2ac370a0\",\"node\":\"node-2\",\"size\":2147483648,"
    "\"state\":\"Online\",\"children\":["
    "{\"uri\":\"bdev:///02b60030-93b1-5861-95a8-f67027a8139b?uuid=02b60030-93b1-5861-95a8-f67027a8139b\","
    "\"state\":\"Online\"},"
    "{\"uri\":\"nvmf://10.1.0.3:8420/nqn.2019-05.io.openebs:a11eee55-75a5-5d12-baa3-ea86cfd039f2?uuid="
    "a11eee55-75a5-5d12-baa3-ea86cfd039f2\",\"state\":\"Online\"}],\"rebuilds\":0,\"protocol\":\"nvmf\"},"
    "\"replica_topology\":{"
    "\"02b60030-93b1-5861-95a8-f67027a8139b\":{\"node\":\"node-2\",\"pool\":\"pool-warm-2\",\"state\":\"Online\","
    "\"child-status\":\"Online\"},"
    "\"a11eee55-75a5-5d12-baa3-ea86cfd039f2\":{\"node\":\"node-3\",\"pool\":\"pool-cold-3\",\"state\":\"Online\","
    "\"child-status\":\"Online\"}}}}";

static char *pool_json(const char *id, const char *node, const char *status)
{
    char *out = NULL;
    cr_assert_geq(asprintf(&out,
                           "{\"id\":\"%s\",\"spec\":{\"id\":\"%s\",\"node\":\"%s\",\"disks\":[],\"status\":\"Created\","
                           "\"labels\":{\"couchestor.io/placement\":\"eligible\"}},\"state\":{\"id\":\"%s\","
                           "\"node\":\"%s\",\"disks\":[],\"status\":\"%s\",\"capacity\":1099511627776,\"used\":0}}",
                           id, id, node, id, node, status),
                  0);
    return out;
}

static void ms_handler(void *ctx, const fake_req_t *req, fake_resp_t *resp)
{
    ms_script_t *s = ctx;
    const char *p = req->path;
    if (strcmp(req->method, "GET") != 0)
        atomic_fetch_add(&s->writes, 1);
    if (strcmp(req->method, "GET") == 0 && strcmp(p, "/v0/volumes/" VOLUME) == 0) {
        fake_reply(resp, 200, VOL_JSON);
    } else if (strcmp(req->method, "GET") == 0 && strncmp(p, "/v0/pools", 9) == 0) {
        char *a = pool_json("pool-hot-1", "node-1", s->target_status ? s->target_status : "Online");
        char *b = pool_json("pool-warm-2", "node-2", "Online");
        char *c = pool_json("pool-cold-3", "node-3", "Online");
        char *body = NULL;
        cr_assert_geq(asprintf(&body, "[%s,%s,%s]", a, b, c), 0);
        fake_reply(resp, 200, body);
        free(a);
        free(b);
        free(c);
        free(body);
    } else if (strcmp(req->method, "PUT") == 0 && strstr(p, "/replica_count/")) {
        int ms = atomic_load(&s->slow_ms);
        if (ms > 0)
            usleep((useconds_t)ms * 1000);
        fake_reply(resp, 200, VOL_JSON);
    } else if (strstr(p, "/label/")) {
        fake_reply(resp, 200, "{\"id\":\"pool-hot-1\",\"spec\":{\"labels\":{}}}");
    } else {
        fake_reply(resp, 404, "{\"details\":\"nothing\",\"message\":\"SvcError :: NotFound\",\"kind\":\"NotFound\"}");
    }
}

static cs_mayastor_t *ms_client(const fake_http_t *srv)
{
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    o.url = srv->url;
    cs_mayastor_t *ms = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_new(&o, &ms, &err), 0, "%s", err.msg);
    return ms;
}

static void pv_create(cs_kube_client_t *c, const char *name)
{
    /* a volume source, as the API server requires of every PV */
    json_t *pv =
        json_pack("{s:s,s:s,s:{s:s},s:{s:{s:s},s:[s],s:{s:s,s:s}}}", "apiVersion", "v1", "kind", "PersistentVolume",
                  "metadata", "name", name, "spec", "capacity", "storage", "2Gi", "accessModes", "ReadWriteOnce", "csi",
                  "driver", "io.openebs.csi-mayastor", "volumeHandle", name);
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_create(c, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, pv, NULL, &err), 0, "%s", err.msg);
    json_decref(pv);
}

static cs_lease_elector_t *leader(cs_kube_client_t *c)
{
    cs_lease_options_t o = {.namespace = "kube-system",
                            .name = "couchestor",
                            .identity = "op-a",
                            .lease_duration_ns = 2000 * MS,
                            .renew_deadline_ns = 1200 * MS,
                            .retry_period_ns = 200 * MS};
    cs_lease_elector_t *e = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_lease_elector_new(c, &o, &e, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_lease_elector_start(e, &err), 0, "%s", err.msg);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(e), 5000));
    return e;
}

/* ---- M9: writes do not outlive the Lease ---- */

Test(migrations, writes_end_by_the_renew_deadline)
{
    ms_script_t script = {0};
    fake_http_t *srv = fake_http_start(ms_handler, &script);
    cs_kube_client_t *kc = standin_client(&S, NULL, NULL);
    cs_mayastor_t *ms = ms_client(srv);
    cs_lease_elector_t *e = leader(kc);
    pv_create(kc, "pv-1");
    cs_migrations_options_t o = {.mayastor = ms, .kube = kc, .elector = e, .min_write_margin_ns = 100 * MS};
    cs_migrations_t *m = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_migrations_new(&o, &m, &err), 0, "%s", err.msg);
    const cs_migrator_ops_t *ops = cs_migrations_ops(m);

    /* Mayastor takes 3 s to raise replica_count; the Lease's term has at
     * most 1.2 s left: the request is cut at the renew deadline. */
    atomic_store(&script.slow_ms, 3000);
    /* As for the journal below: most of the term left. With little left, a
     * renewal landing between reading `left` and the write's start lets the
     * write take up to the full 1.2 s, more than left + 800 ms. */
    cr_assert(STANDIN_WAIT(cs_lease_elector_remaining_ns(e) > 900 * MS, 3000));
    int64_t left = cs_lease_elector_remaining_ns(e) / MS;
    int64_t t0 = standin_now_ms();
    int rc = ops->set_replica_count(ops->ctx, VOLUME, 3, &err);
    int64_t took = standin_now_ms() - t0;
    cr_expect_neq(rc, 0, "the slow write did not end in time");
    cr_expect_geq(took, left / 2, "the write was sent and waited for (not refused): %lld ms", (long long)took);
    cr_expect_leq(took, left + 800, "replica_count write took %lld ms with %lld ms of the term left", (long long)took,
                  (long long)left);

    /* The journal (a PV PATCH) likewise. */
    standin_fault(&S, "{\"type\":\"delay\",\"seconds\":3,\"method\":\"PATCH\",\"path\":\"/persistentvolumes\"}");
    cr_assert(STANDIN_WAIT(cs_lease_elector_remaining_ns(e) > 900 * MS, 3000));
    left = cs_lease_elector_remaining_ns(e) / MS;
    t0 = standin_now_ms();
    rc = ops->journal_write(ops->ctx, "pv-1", "{}", 0, NULL, &err);
    took = standin_now_ms() - t0;
    cr_expect_neq(rc, 0, "the slow journal write did not end in time");
    cr_expect_geq(took, left / 2, "the journal write was sent and waited for (not refused): %lld ms", (long long)took);
    cr_expect_leq(took, left + 800, "journal write took %lld ms with %lld ms of the term left", (long long)took,
                  (long long)left);
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);
    cr_expect_eq(cs_http_thread_deadline(0), 0, "no deadline is left behind on the thread");

    cs_migrations_free(m);
    cs_lease_elector_free(e);
    cs_mayastor_free(ms);
    cs_kube_client_free(kc);
    fake_http_stop(srv);
}

Test(migrations, writes_refused_when_the_term_is_about_to_end)
{
    ms_script_t script = {0};
    fake_http_t *srv = fake_http_start(ms_handler, &script);
    cs_kube_client_t *kc = standin_client(&S, NULL, NULL);
    cs_mayastor_t *ms = ms_client(srv);
    cs_lease_elector_t *e = leader(kc);
    /* The minimum margin (default 1 s) against a 1.2 s renew deadline: */
    cs_migrations_options_t o = {.mayastor = ms, .kube = kc, .elector = e, .min_write_margin_ns = 1150 * MS};
    cs_migrations_t *m = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_migrations_new(&o, &m, &err), 0, "%s", err.msg);
    const cs_migrator_ops_t *ops = cs_migrations_ops(m);
    /* Renewals fail from now on: the term runs out while this replica still
     * leads; once less than the margin is left, no write starts. */
    standin_fault(&S, "{\"type\":\"error\",\"code\":503,\"path\":\"/leases\",\"count\":-1}");
    cr_assert(STANDIN_WAIT(cs_lease_elector_remaining_ns(e) < 1100 * MS, 1500));
    cr_assert(cs_lease_elector_is_leader(e), "still leading");
    cr_expect_eq(ops->pool_label_put(ops->ctx, "pool-hot-1", "couchestor.io/placement", "eligible", &err),
                 CS_ECANCELED);
    cr_expect(strstr(err.msg, "too soon for a write") != NULL, "%s", err.msg);
    cr_expect_eq(ops->set_replica_count(ops->ctx, VOLUME, 3, &err), CS_ECANCELED);
    cr_expect_eq(ops->nexus_child_delete(ops->ctx, "85eacdff-6881-52f5-96ae-741f2ac370a0", "bdev:///x", &err),
                 CS_ECANCELED);
    cr_expect_eq(ops->journal_write(ops->ctx, "pv-1", "{}", 0, NULL, &err), CS_ECANCELED);
    cr_expect_eq(atomic_load(&script.writes), 0, "no write reached Mayastor");
    cr_expect_eq(standin_count_requests(&S, "PATCH", "/persistentvolumes"), 0, "no write reached Kubernetes");
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);
    cs_migrations_free(m);
    cs_lease_elector_free(e);
    cs_mayastor_free(ms);
    cs_kube_client_free(kc);
    fake_http_stop(srv);
}

/* ---- refusals are not failures ---- */

static atomic_int finished_calls;

static void on_finished(void *ctx, const char *policy)
{
    atomic_fetch_add(&finished_calls, 1);
}

static int event_writes(void)
{
    return standin_count_requests(&S, "POST", "/events") + standin_count_requests(&S, "PATCH", "/events");
}

Test(migrations, a_refusal_is_not_a_failed_migration)
{
    ms_script_t script = {.target_status = "Faulted"};
    fake_http_t *srv = fake_http_start(ms_handler, &script);
    cs_kube_client_t *kc = standin_client(&S, NULL, NULL);
    cs_mayastor_t *ms = ms_client(srv);
    pv_create(kc, "pv-1");
    cs_event_recorder_options_t eo = {.reporting_controller = "storage.billyronks.io/couchestor",
                                      .reporting_instance = "test"};
    cs_event_recorder_t *events = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_event_recorder_new(kc, &eo, &events, &err), 0, "%s", err.msg);
    cs_metrics_t *reg = cs_metrics_new();
    const char *st[] = {"status"}, *rs[] = {"reason"};
    double mb[] = {1, 10};
    cs_metric_t *total = cs_metrics_counter(reg, "couchestor_migrations_total", "x", 1, st, &err);
    cs_metric_t *refusals = cs_metrics_counter(reg, "couchestor_migration_refusals_total", "x", 1, rs, &err);
    cs_metric_t *active = cs_metrics_gauge(reg, "couchestor_active_migrations", "x", 0, NULL, &err);
    cs_metric_t *dur = cs_metrics_histogram(reg, "couchestor_migration_duration_seconds", "x", 0, NULL, 2, mb, &err);
    cs_migrations_options_t o = {.mayastor = ms,
                                 .kube = kc,
                                 .events = events,
                                 .poll_ms = 100,
                                 .migrations_total = total,
                                 .refusals = refusals,
                                 .active = active,
                                 .duration = dur,
                                 .on_finished = on_finished};
    cs_migrations_t *m = NULL;
    cr_assert_eq(cs_migrations_new(&o, &m, &err), 0, "%s", err.msg);
    atomic_store(&finished_calls, 0);

    const char *accept[] = {"pool-hot-1"};
    cs_mig_request_t req = {.policy = "demo",
                            .pv_name = "pv-1",
                            .volume = VOLUME,
                            .source_pool = "pool-cold-3",
                            .target_pool = "pool-hot-1",
                            .accept_pools = accept,
                            .accept_count = 1,
                            .from_tier = CS_TIER_COLD,
                            .to_tier = CS_TIER_HOT,
                            .trigger_iops = 9000,
                            .timeout_ms = 60000};
    /* Twice: the next reconcile plans the same move again. */
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(cs_migrations_start(m, &req, 0, 0, 3, &err), 0, "%s", err.msg);
        cr_assert(STANDIN_WAIT(cs_migrations_active(m, NULL) == 0, 10000));
    }
    const char *refused[] = {"target_not_online"}, *failed[] = {"failed"}, *aborted[] = {"aborted"};
    cr_expect_eq(cs_metric_value(refusals, refused), 2.0, "each refusal counted by its reason");
    cr_expect_eq(cs_metric_value(total, failed), 0.0, "a refusal is no failed migration");
    cr_expect_eq(cs_metric_value(total, aborted), 0.0);
    cs_migration_record_t *recs = NULL;
    size_t n = 99;
    cr_assert_eq(cs_migrations_finished(m, "demo", &recs, &n), 0);
    cr_expect_eq(n, 0, "nothing for the status: not in totalMigrations, failedMigrations or the history");
    free(recs);
    cr_expect_eq(atomic_load(&finished_calls), 0, "no immediate requeue (it would refuse again at once)");
    /* The move is held so that the plan gives the slot to another volume. */
    int64_t now = (int64_t)time(NULL), until = 0, other = -1;
    bool held_active = true, other_active = true;
    cs_migrations_hold(m, "pv-1", &held_active, &until);
    cs_migrations_hold(m, "pv-2", &other_active, &other);
    cr_expect(until >= now + 290 && until <= now + 301, "held until %lld, now %lld", (long long)until, (long long)now);
    cr_expect_eq(other, 0, "another volume is not held");
    cr_expect_not(held_active, "nothing holds the volume back from the next reconcile");
    cr_expect_eq(held_active, cs_migrations_is_active(m, "pv-1"));
    cr_expect_eq(atomic_load(&script.writes), 0, "nothing was changed in Mayastor");
    cs_event_recorder_flush(events, 5000 * MS);
    cr_expect_eq(standin_count_requests(&S, "PATCH", "/persistentvolumes"), 0,
                 "no backoff annotations (couchestor.io/retry-after) and no journal on the PV");
    cr_expect_eq(event_writes(), 1, "one MigrationRefused Event, not one per attempt");

    cs_migrations_free(m);
    cs_event_recorder_free(events);
    cs_metrics_free(reg);
    cs_mayastor_free(ms);
    cs_kube_client_free(kc);
    fake_http_stop(srv);
}
