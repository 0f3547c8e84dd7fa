/* Tests for the migration state machine against an in-memory fake of the
 * Mayastor control plane that follows reference/mayastor.md sections 2 and
 * 7: the control plane picks the pool (label inclusion, unused node) and the
 * victim (unhealthy / not-in-nexus first). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/log.h"
#include "couchestor/migrator.h"

#define GiB (UINT64_C(1) << 30)
#define KEY "couchestor.io/placement"

typedef struct {
    cs_mig_volume_t vol;
    cs_mig_pool_t pools[6];
    size_t npools;
    int rebuild_polls; /* polls until a new replica is in sync; <0 = never */
    int polls_left;
    const char *force_pool; /* the control plane ignores labels and uses this pool */
    bool wrong_victim;      /* the decrease removes the new replica */
    int next_id;
    char journal[8192];
    bool has_journal;
    int64_t last_end;
    int64_t now;
    int label_deletes, label_puts, child_deletes;
    int max_replicas_seen;
    int min_healthy_seen;
    int crash_after_calls; /* >0: the Nth mutating call sets *stop */
    int calls;
    atomic_int *stop;
    int events;
    bool fault_other_on_scale_up; /* cold-n2's replica faults when the new one is added */
    char faulted[40];
    int flaps_left;       /* times the in-sync new replica drops out of sync again */
    bool flap_was_synced; /* the new replica was in sync at the previous read */
    int journal_writes;
    char list_key[64];       /* the label key of the last list_pools */
    int deleted_after_reads; /* the volume is deleted at this get_volume (0 = never) */
    bool deleted;
    char last_target[128]; /* the last_target of the last completed migration */
    /* A rebuild that advances with time: slow_pct percent every slow_step_ms
     * after the new replica was added (at rebuild_start), never beyond
     * stall_at (when > 0). Off when slow_step_ms is 0. */
    int64_t slow_step_ms;
    int slow_pct;
    int stall_at;
    int64_t rebuild_start;
    int64_t decreased_at;   /* when replica_count last went down, 0 = never */
    bool stop_at_wait_sync; /* set *stop once the WAIT SYNC step is journaled */
    int fail_reads;         /* the next reads of the volume fail (the API is away) */
} fake_t;

static fake_t F;

static int healthy(const cs_mig_volume_t *v)
{
    int n = 0;
    for (size_t i = 0; i < v->replica_count; i++) {
        const cs_mig_replica_t *r = &v->replicas[i];
        n += r->online && r->in_nexus && r->child_online && (r->rebuild_progress < 0 || r->rebuild_progress >= 100);
    }
    return n;
}

static void observe(void)
{
    if (F.vol.num_replicas > F.max_replicas_seen)
        F.max_replicas_seen = F.vol.num_replicas;
    int h = healthy(&F.vol);
    if (h < F.min_healthy_seen)
        F.min_healthy_seen = h;
}

static void mutated(void)
{
    F.calls++;
    if (F.crash_after_calls > 0 && F.calls >= F.crash_after_calls && F.stop)
        atomic_store(F.stop, 1);
    observe();
}

static cs_mig_pool_t *pool(const char *id)
{
    for (size_t i = 0; i < F.npools; i++)
        if (strcmp(F.pools[i].id, id) == 0)
            return &F.pools[i];
    return NULL;
}

static void add_replica(const char *pool_id, bool synced)
{
    cs_mig_replica_t *r = &F.vol.replicas[F.vol.replica_count++];
    memset(r, 0, sizeof *r);
    char id[16];
    snprintf(id, sizeof id, "r%d", F.next_id++);
    snprintf(r->uuid, sizeof r->uuid, "%s", id);
    snprintf(r->pool, sizeof r->pool, "%s", pool_id);
    snprintf(r->node, sizeof r->node, "%s", pool(pool_id)->node);
    r->online = true;
    r->in_nexus = true;
    r->child_online = synced;
    r->rebuild_progress = synced ? -1 : 0;
    snprintf(r->child_uri, sizeof r->child_uri, "nvmf://10.0.0.1:8420/nqn:%s?uuid=%s", id, id);
}

static void remove_replica(size_t i)
{
    memmove(&F.vol.replicas[i], &F.vol.replicas[i + 1], (F.vol.replica_count - i - 1) * sizeof F.vol.replicas[0]);
    F.vol.replica_count--;
}

static void sync_progress(void)
{
    for (size_t i = 0; i < F.vol.replica_count; i++) {
        cs_mig_replica_t *r = &F.vol.replicas[i];
        if (F.faulted[0] && strcmp(r->uuid, F.faulted) == 0)
            continue; /* faulted: never heals */
        if (r->in_nexus && !r->child_online && F.slow_step_ms > 0) {
            int64_t pct = (F.now - F.rebuild_start) / F.slow_step_ms * F.slow_pct;
            if (F.stall_at > 0 && pct > F.stall_at)
                pct = F.stall_at;
            r->child_online = pct >= 100;
            r->rebuild_progress = pct >= 100 ? -1 : (int)pct;
        } else if (r->in_nexus && !r->child_online && F.rebuild_polls >= 0) {
            if (F.polls_left > 0) {
                F.polls_left--;
                r->rebuild_progress = 50;
            } else {
                r->child_online = true;
                r->rebuild_progress = -1;
            }
        }
    }
    F.vol.online = (int)F.vol.replica_count == F.vol.num_replicas && healthy(&F.vol) == F.vol.num_replicas;
}

/* A flap: the new replica (on hot-n3), in sync at the previous read, is
 * out of sync at this one (its child rebuilds again); sync_progress puts it
 * back in sync at the next read. So while flaps are left, reads alternate
 * between in sync and out of sync, without any time passing. */
static void flap(void)
{
    cs_mig_replica_t *r = NULL;
    for (size_t i = 0; i < F.vol.replica_count; i++)
        if (strcmp(F.vol.replicas[i].pool, "hot-n3") == 0)
            r = &F.vol.replicas[i];
    bool synced = r && r->child_online;
    if (synced && F.flap_was_synced && F.flaps_left > 0) {
        r->child_online = false;
        r->rebuild_progress = 0;
        F.vol.online = false;
        F.flaps_left--;
        synced = false;
    }
    F.flap_was_synced = synced;
}

static int f_get_volume(void *ctx, const char *uuid, cs_mig_volume_t *out, cs_err_t *err)
{
    if (F.deleted_after_reads > 0 && --F.deleted_after_reads == 0)
        F.deleted = true;
    if (F.deleted)
        return cs_err_set(err, CS_ENOTFOUND, "volume %s not found", uuid);
    if (F.fail_reads > 0) {
        F.fail_reads--;
        return cs_err_set(err, CS_EUNAVAILABLE, "api-rest is away");
    }
    sync_progress();
    flap();
    observe();
    *out = F.vol;
    return 0;
}

static int f_list_pools(void *ctx, const char *label_key, cs_mig_pool_t **out, size_t *count, cs_err_t *err)
{
    snprintf(F.list_key, sizeof F.list_key, "%s", label_key);
    *out = malloc(F.npools * sizeof **out);
    memcpy(*out, F.pools, F.npools * sizeof **out);
    *count = F.npools;
    return 0;
}

static int f_set_replica_count(void *ctx, const char *uuid, int n, cs_err_t *err)
{
    if (n == F.vol.num_replicas)
        return cs_err_set(err, CS_ECONFLICT, "ReplicaCountAchieved");
    if (n == F.vol.num_replicas + 1) {
        if (!F.vol.online)
            return cs_err_set(err, CS_EMAYASTOR, "ReplicaIncrease: volume not Online");
        const cs_mig_pool_t *chosen = NULL;
        for (size_t i = 0; i < F.npools && !chosen; i++) {
            const cs_mig_pool_t *p = &F.pools[i];
            bool node_used = false;
            for (size_t r = 0; r < F.vol.replica_count; r++)
                node_used |= strcmp(F.vol.replicas[r].node, p->node) == 0;
            if (F.force_pool ? strcmp(p->id, F.force_pool) == 0 : (!node_used && p->online && p->has_placement_label))
                chosen = p;
        }
        if (!chosen)
            return cs_err_set(err, CS_EMAYASTOR, "no pool");
        F.vol.num_replicas = n;
        add_replica(chosen->id, false);
        F.polls_left = F.rebuild_polls;
        F.rebuild_start = F.now;
        if (F.fault_other_on_scale_up) {
            F.vol.replicas[1].child_online = false;
            snprintf(F.faulted, sizeof F.faulted, "%s", F.vol.replicas[1].uuid);
        }
        F.vol.online = false;
        mutated();
        return 0;
    }
    if (n == F.vol.num_replicas - 1) {
        /* victim: not in nexus first, then not synced, else the last */
        size_t victim = F.vol.replica_count - 1;
        bool found = false;
        for (size_t i = 0; i < F.vol.replica_count && !found; i++)
            if (!F.vol.replicas[i].in_nexus) {
                victim = i;
                found = true;
            }
        for (size_t i = 0; i < F.vol.replica_count && !found; i++)
            if (!F.vol.replicas[i].child_online) {
                victim = i;
                found = true;
            }
        if (F.wrong_victim)
            victim = F.vol.replica_count - 1; /* the newest */
        F.vol.num_replicas = n;
        F.decreased_at = F.now;
        remove_replica(victim);
        for (size_t i = 0; i < F.vol.replica_count; i++)
            F.vol.replicas[i].in_nexus = true; /* hot spare re-attaches */
        mutated();
        return 0;
    }
    return cs_err_set(err, CS_EMAYASTOR, "ReplicaChangeCount");
}

static int f_label_put(void *ctx, const char *p, const char *key, const char *value, cs_err_t *err)
{
    F.label_puts++;
    pool(p)->has_placement_label = true;
    mutated();
    return 0;
}

static int f_label_delete(void *ctx, const char *p, const char *key, cs_err_t *err)
{
    F.label_deletes++;
    if (!pool(p)->has_placement_label)
        return cs_err_set(err, CS_ENOTFOUND, "LabelNotFound");
    pool(p)->has_placement_label = false;
    mutated();
    return 0;
}

static int f_child_delete(void *ctx, const char *nexus, const char *uri, cs_err_t *err)
{
    F.child_deletes++;
    for (size_t i = 0; i < F.vol.replica_count; i++)
        if (strcmp(F.vol.replicas[i].child_uri, uri) == 0)
            F.vol.replicas[i].in_nexus = false;
    mutated();
    return 0;
}

static int f_journal(void *ctx, const char *pv, const char *json, int64_t end, const char *last_target, cs_err_t *err)
{
    F.journal_writes++;
    if (end > 0)
        snprintf(F.last_target, sizeof F.last_target, "%s", last_target ? last_target : "");
    if (json) {
        snprintf(F.journal, sizeof F.journal, "%s", json);
        F.has_journal = true;
        if (F.stop_at_wait_sync && F.stop && strstr(json, "\"step\":\"WaitSync\""))
            atomic_store(F.stop, 1);
    } else {
        F.has_journal = false;
    }
    if (end)
        F.last_end = end;
    mutated();
    return 0;
}

static void f_event(void *ctx, const char *pv, bool warning, const char *reason, const char *message)
{
    F.events++;
}
static int64_t f_now(void *ctx)
{
    return F.now;
}
static int f_sleep(void *ctx, int64_t ms, const atomic_int *stop)
{
    F.now += ms;
    return stop && atomic_load(stop);
}
static void f_lock(void *ctx)
{
}

static const cs_migrator_ops_t ops = {
    .get_volume = f_get_volume,
    .list_pools = f_list_pools,
    .set_replica_count = f_set_replica_count,
    .pool_label_put = f_label_put,
    .pool_label_delete = f_label_delete,
    .nexus_child_delete = f_child_delete,
    .journal_write = f_journal,
    .event = f_event,
    .now_ms = f_now,
    .sleep_ms = f_sleep,
    .placement_lock = f_lock,
    .placement_unlock = f_lock,
};

static void add_pool(const char *id, const char *node)
{
    cs_mig_pool_t *p = &F.pools[F.npools++];
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->node, sizeof p->node, "%s", node);
    p->online = true;
    p->capacity = 100 * GiB;
    p->has_placement_label = true;
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    add_pool("cold-n1", "n1");
    add_pool("cold-n2", "n2");
    add_pool("cold-n3", "n3");
    add_pool("hot-n1", "n1");
    add_pool("hot-n2", "n2");
    add_pool("hot-n3", "n3");
    snprintf(F.vol.uuid, sizeof F.vol.uuid, "vol-1");
    F.vol.size = 10 * GiB;
    F.vol.published = true;
    snprintf(F.vol.nexus, sizeof F.vol.nexus, "nexus-1");
    F.vol.inclusion_count = 2;
    snprintf(F.vol.inclusion_key[0], sizeof F.vol.inclusion_key[0], "openebs.io/created-by");
    snprintf(F.vol.inclusion_value[0], sizeof F.vol.inclusion_value[0], "operator-diskpool");
    snprintf(F.vol.inclusion_key[1], sizeof F.vol.inclusion_key[1], KEY);
    add_replica("cold-n1", true);
    add_replica("cold-n2", true);
    F.vol.num_replicas = 2;
    F.vol.online = true;
    F.rebuild_polls = 3;
    F.now = 1000000;
    F.min_healthy_seen = 2;
}

TestSuite(migration, .init = setup);

static const char *accept[] = {"hot-n1", "hot-n2", "hot-n3"};

static cs_mig_request_t request(void)
{
    return (cs_mig_request_t){.policy = "p",
                              .pv_name = "pvc-vol-1",
                              .volume = "vol-1",
                              .source_pool = "cold-n1",
                              .target_pool = "hot-n3",
                              .accept_pools = accept,
                              .accept_count = 3,
                              .from_tier = CS_TIER_COLD,
                              .to_tier = CS_TIER_HOT,
                              .trigger_iops = 9000,
                              .timeout_ms = 60000,
                              .poll_ms = 1000};
}

static bool has_replica_on(const char *pool_id)
{
    for (size_t i = 0; i < F.vol.replica_count; i++)
        if (strcmp(F.vol.replicas[i].pool, pool_id) == 0)
            return true;
    return false;
}

static void expect_invariants(void)
{
    cr_expect_geq(F.min_healthy_seen, 2, "never fewer healthy replicas than before (saw %d)", F.min_healthy_seen);
    for (size_t i = 0; i < F.npools; i++)
        cr_expect(F.pools[i].has_placement_label, "placement label restored on %s", F.pools[i].id);
}

Test(migration, moves_the_old_replica_to_the_target)
{
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_SUCCEEDED, "%s", res.message);
    cr_expect_eq(res.refusal, CS_MIG_REFUSAL_NONE);
    cr_expect_eq(F.vol.num_replicas, 2);
    cr_expect(has_replica_on("hot-n3"));
    cr_expect_not(has_replica_on("cold-n1"), "the old replica is the one removed");
    cr_expect(has_replica_on("cold-n2"));
    cr_expect_eq(F.max_replicas_seen, 3);
    cr_expect_not(F.has_journal, "the journal is cleared");
    cr_expect_eq(F.last_end, F.now / 1000, "cooldown stamp written");
    cr_expect_eq(F.label_deletes, 5, "every other pool was steered away");
    cr_expect_geq(F.child_deletes, 1, "the old child was detached before the decrease");
    expect_invariants();
    cr_expect_geq(F.events, 3);
}

Test(migration, preservation_mode_keeps_the_old_replica)
{
    cs_mig_request_t req = request();
    req.preservation_mode = true;
    cs_mig_result_t res;
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, NULL), 0);
    cr_expect_eq(res.outcome, CS_MIGRATION_SUCCEEDED);
    cr_expect_eq(F.vol.num_replicas, 3);
    cr_expect(has_replica_on("cold-n1"));
    cr_expect(has_replica_on("hot-n3"));
    expect_invariants();
}

Test(migration, timeout_rolls_back_the_new_replica)
{
    F.rebuild_polls = -1; /* the rebuild stalls */
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, NULL), 0);
    cr_expect_eq(res.outcome, CS_MIGRATION_TIMED_OUT);
    cr_expect_str_eq(res.message,
                     "the new replica was not in sync and made no progress for the migration timeout of 60 s "
                     "(rebuild at 0%)");
    cr_expect_eq(F.decreased_at, 1000000 + 60000, "rolled back when the 60 s without progress were up");
    cr_expect_eq(F.vol.num_replicas, 2);
    cr_expect_eq(F.vol.replica_count, 2);
    cr_expect(has_replica_on("cold-n1"));
    cr_expect(has_replica_on("cold-n2"));
    cr_expect_not(has_replica_on("hot-n3"));
    cr_expect_not(F.has_journal);
    cr_expect_eq(F.last_end, 0, "a failed migration starts no cooldown");
    expect_invariants();
}

Test(migration, replica_placed_elsewhere_is_undone)
{
    F.force_pool = "cold-n3";
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, NULL), 0);
    cr_expect_eq(res.outcome, CS_MIGRATION_FAILED);
    cr_expect(strstr(res.message, "placed the new replica on pool cold-n3, not on a hot pool") != NULL, "%s",
              res.message);
    cr_expect_eq(F.vol.num_replicas, 2);
    cr_expect_not(has_replica_on("cold-n3"));
    expect_invariants();
}

Test(migration, wrong_victim_is_reported)
{
    F.wrong_victim = true;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, NULL), 0);
    cr_expect_eq(res.outcome, CS_MIGRATION_FAILED);
    cr_expect(strstr(res.message, "removed the new replica") != NULL, "%s", res.message);
    cr_expect(has_replica_on("cold-n1"), "the old replicas are intact");
    cr_expect_not(F.has_journal);
}

Test(migration, analyze_refuses_without_changing_anything)
{
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    req.target_pool = "hot-n1"; /* node n1 holds a replica */
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_ENO_SUITABLE_POOL);
    cr_expect(strstr(err.msg, "target pool hot-n1 is on node n1, which already holds replica") != NULL, "%s", err.msg);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "target_node_has_replica");
    req = request();
    F.pools[5].online = false;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_ENO_SUITABLE_POOL);
    cr_expect(strstr(err.msg, "hot-n3 is not Online") != NULL);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "target_not_online");
    F.pools[5].online = true;
    F.pools[5].used = 95 * GiB;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_ENO_SUITABLE_POOL);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "target_full");
    F.pools[5].used = 0;
    F.vol.published = false;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_EMIGRATION_FAILED);
    cr_expect(strstr(err.msg, "not published") != NULL);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "unpublished");
    F.vol.published = true;
    F.vol.inclusion_count = 1;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_EMIGRATION_FAILED);
    cr_expect(strstr(err.msg, "poolHasTopologyKey: couchestor.io/placement") != NULL, "%s", err.msg);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "not_steerable");
    F.vol.inclusion_count = 2;
    F.rebuild_polls = -1;
    F.vol.replicas[1].child_online = false;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_EMIGRATION_FAILED);
    cr_expect(strstr(err.msg, "the volume is not Online") != NULL, "a rebuilding child makes it Degraded: %s", err.msg);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "volume_not_online");
    req.source_pool = "cold-n3"; /* no replica there */
    F.vol.replicas[1].child_online = true;
    F.vol.online = true;
    cr_expect_eq(cs_migration_run(&ops, &req, NULL, &res, &err), CS_EMIGRATION_FAILED);
    cr_expect_str_eq(cs_mig_refusal_name(res.refusal), "no_source_replica", "%s", err.msg);
    cr_expect_eq(F.calls, 0, "no mutating call was made");
    cr_expect_not(F.has_journal);
}

/* Stop the migration after each possible mutating call, then resume from
 * the journal as a restarted operator would: every run must end with the
 * volume moved or intact, never fewer healthy replicas, labels restored. */
Test(migration, resume_after_stop_at_every_point)
{
    for (int k = 1; k <= 24; k++) {
        setup();
        atomic_int stop = 0;
        F.stop = &stop;
        F.crash_after_calls = k;
        cs_mig_request_t req = request();
        cs_mig_result_t res;
        cs_err_t err = {0};
        int rc = cs_migration_run(&ops, &req, &stop, &res, &err);
        cr_assert_eq(rc, 0, "kill point %d: %s", k, err.msg);
        F.crash_after_calls = 0;
        if (F.has_journal) {
            cs_mig_journal_t j;
            cr_assert_eq(cs_mig_journal_decode(F.journal, &j, &err), 0, "kill point %d: %s", k, err.msg);
            cs_mig_result_t res2;
            cr_assert_eq(cs_migration_resume(&ops, &j, 1000, false, NULL, &res2, &err), 0, "kill point %d: %s", k,
                         err.msg);
            res = res2;
        }
        cr_expect_not(F.has_journal, "kill point %d: journal cleared", k);
        cr_expect_eq(F.vol.num_replicas, 2, "kill point %d", k);
        bool moved = has_replica_on("hot-n3") && !has_replica_on("cold-n1");
        bool intact = has_replica_on("cold-n1") && !has_replica_on("hot-n3");
        cr_expect(moved || intact, "kill point %d: neither moved nor intact (outcome %d)", k, res.outcome);
        expect_invariants();
    }
}

Test(migration, journal_round_trip_and_rejects)
{
    cs_mig_journal_t j = {0}, back;
    snprintf(j.policy, sizeof j.policy, "p");
    snprintf(j.pv_name, sizeof j.pv_name, "pvc-1");
    snprintf(j.volume, sizeof j.volume, "1");
    j.from_tier = CS_TIER_COLD;
    j.to_tier = CS_TIER_HOT;
    j.step = CS_MIG_STEP_WAIT_SYNC;
    j.replicas_before = 2;
    j.healthy_before = 2;
    j.before_count = 2;
    snprintf(j.before[0], sizeof j.before[0], "a");
    snprintf(j.before[1], sizeof j.before[1], "b");
    j.steered_count = 1;
    snprintf(j.steered[0], sizeof j.steered[0], "pool-x");
    j.timeout_ms = 5000;
    j.started_ms = 123;
    j.progress_ms = 4567;
    j.last_progress = 42;
    j.last_healthy = 3;
    j.trigger_iops = 42.5;
    char *text;
    cs_err_t err = {0};
    cr_assert_eq(cs_mig_journal_encode(&j, &text, &err), 0);
    cr_assert_eq(cs_mig_journal_decode(text, &back, &err), 0, "%s", err.msg);
    cr_expect_eq(memcmp(&j, &back, sizeof j), 0, "round trip");
    free(text);
    cr_expect_eq(cs_mig_journal_decode("{\"version\":2}", &back, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "version 2 is not supported") != NULL, "%s", err.msg);
    cr_expect_eq(cs_mig_journal_decode("not json", &back, &err), CS_EPARSE);
    cr_expect_eq(cs_mig_journal_decode("{\"version\":1}", &back, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "journal.policy: required field is missing") != NULL, "%s", err.msg);
}

/* Another replica faults while the new one rebuilds: the new replica syncs
 * but the volume never gets Online. At the timeout neither the new replica
 * nor the old one may be removed: each is one of the healthy ones. */
Test(migration, timeout_with_a_faulted_replica_keeps_the_synced_new_one)
{
    F.fault_other_on_scale_up = true;
    F.min_healthy_seen = 2;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_TIMED_OUT);
    cr_expect(strstr(res.message, "is in sync but the volume was not Online") != NULL, "%s", res.message);
    cr_expect(has_replica_on("hot-n3"), "the synced new replica is kept");
    cr_expect(has_replica_on("cold-n1"), "the old replica is kept");
    cr_expect_eq(F.vol.num_replicas, 3);
    cr_expect_not(F.has_journal);
    /* healthy: cold-n1 + hot-n3 = 2 throughout the end state */
    int healthy_now = 0;
    for (size_t i = 0; i < F.vol.replica_count; i++)
        healthy_now += F.vol.replicas[i].child_online && F.vol.replicas[i].in_nexus;
    cr_expect_eq(healthy_now, 2);
}

/* The stack of the thread a flapping migration runs on: twice what the
 * step loop needs. The public call's frame holds the migration (its journal
 * is 84 KB), the step below it one volume snapshot (cs_mig_volume_t, 15 KB),
 * the deepest call below that logs an Event; measured, 128 KiB is enough and
 * 112 KiB is not, optimised or unoptimised under ASan. When the steps called
 * each other (WAIT SYNC -> SCALE DOWN -> WAIT SYNC ...), every flap added
 * two frames with a snapshot each, about 30 KB: that code overflowed this
 * stack at flap 8 (4 under ASan), and a default 8 MiB stack at flap 528. */
#define SMALL_STACK (256 * 1024)
#define FLAPS 10000

typedef struct {
    const cs_mig_request_t *req;     /* a fresh run, */
    const cs_mig_journal_t *journal; /* or (when set) a resume */
    atomic_int *stop;
    int rc;
    cs_mig_result_t res;
    cs_err_t err;
} small_stack_run_t;

static void *small_stack_main(void *arg)
{
    small_stack_run_t *r = arg;
    r->rc = r->journal ? cs_migration_resume(&ops, r->journal, 1000, false, r->stop, &r->res, &r->err)
                       : cs_migration_run(&ops, r->req, r->stop, &r->res, &r->err);
    return NULL;
}

static void run_on_small_stack(small_stack_run_t *r)
{
    pthread_attr_t attr;
    pthread_t thread;
    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
    cr_assert_eq(pthread_create(&thread, &attr, small_stack_main, r), 0);
    cr_assert_eq(pthread_join(thread, NULL), 0);
    pthread_attr_destroy(&attr);
}

/* The Events go to a sink that discards them, but through the whole
 * logging path: its frames are part of what the small stack must hold. */
static FILE *quiet_log(void)
{
    FILE *sink = fopen("/dev/null", "w");
    cr_assert_not_null(sink);
    cs_log_configure(CS_LOG_INFO, false, sink);
    return sink;
}

static void restore_log(FILE *sink)
{
    cs_log_configure(CS_LOG_INFO, false, NULL);
    fclose(sink);
}

static void expect_moved_after_flaps(const cs_mig_result_t *res)
{
    cr_expect_eq(res->outcome, CS_MIGRATION_SUCCEEDED, "%s", res->message);
    cr_expect_str_eq(res->message, "");
    cr_expect_eq(res->reached, CS_MIG_STEP_DONE);
    cr_expect_eq(F.flaps_left, 0, "every flap was seen");
    cr_expect_eq(F.vol.num_replicas, 2, "back at the replica count it had");
    cr_expect_eq(F.vol.replica_count, 2);
    cr_expect(has_replica_on("hot-n3"));
    cr_expect_not(has_replica_on("cold-n1"), "the old replica is the one removed");
    cr_expect(has_replica_on("cold-n2"));
    cr_expect_eq(F.max_replicas_seen, 3);
    cr_expect_not(F.has_journal, "the journal is cleared");
    cr_expect_eq(F.last_end, F.now / 1000, "cooldown stamp written");
    /* Time passes only while the new replica first rebuilds (two polls of
     * 1 s) and in the poll after the decrease: a flap costs none, so the
     * migration timeout never comes near. */
    cr_expect_eq(F.now, 1000000 + 3000, "now %lld", (long long)F.now);
    expect_invariants();
}

/* The new replica drops out of sync 10,000 times after it first synced,
 * then stays in sync: every flap sends SCALE DOWN back to WAIT SYNC (each
 * way journaled first), and the migration then completes as if it had
 * never flapped, on a stack far too small for one frame per step taken. */
Test(migration, flapping_new_replica_completes_on_a_small_stack)
{
    F.flaps_left = FLAPS;
    FILE *sink = quiet_log();
    cs_mig_request_t req = request();
    small_stack_run_t r = {.req = &req};
    run_on_small_stack(&r);
    restore_log(sink);
    cr_assert_eq(r.rc, 0, "%s", r.err.msg);
    cr_expect_eq(r.res.duration_ms, 3000, "%lld", (long long)r.res.duration_ms);
    expect_moved_after_flaps(&r.res);
    /* Without flaps: SCALE_UP, its labels restored, WAIT_SYNC, SCALE_DOWN,
     * the attempt, the clear. Each flap: WAIT_SYNC and SCALE_DOWN again. */
    cr_expect_eq(F.journal_writes, 6 + 2 * FLAPS);
    /* Started, ReplicaAdded, Synced (once more per flap), Completed. */
    cr_expect_eq(F.events, 4 + FLAPS);
    cr_expect_eq(F.child_deletes, 1, "the old child was detached once");
}

/* Stopped in the middle of the flapping, the migration is resumed from its
 * journal (the other way into the same step loop) on a small stack, while
 * the replica keeps flapping. */
Test(migration, resume_in_the_middle_of_flapping_completes_on_a_small_stack)
{
    F.flaps_left = FLAPS;
    atomic_int stop = 0;
    F.stop = &stop;
    F.crash_after_calls = FLAPS; /* ~half way: every flap is two journal writes */
    FILE *sink = quiet_log();
    cs_mig_request_t req = request();
    small_stack_run_t first = {.req = &req, .stop = &stop};
    run_on_small_stack(&first);
    cr_assert_eq(first.rc, 0, "%s", first.err.msg);
    cr_expect_eq(first.res.outcome, CS_MIGRATION_ABORTED);
    cr_expect(first.res.reached == CS_MIG_STEP_WAIT_SYNC || first.res.reached == CS_MIG_STEP_SCALE_DOWN,
              "stopped in step %s", cs_mig_step_name(first.res.reached));
    cr_expect(F.flaps_left > 0 && F.flaps_left < FLAPS, "stopped while flapping (%d flaps left)", F.flaps_left);
    cr_assert(F.has_journal);
    cs_mig_journal_t j;
    cr_assert_eq(cs_mig_journal_decode(F.journal, &j, &first.err), 0, "%s", first.err.msg);
    cr_expect_eq(j.step, first.res.reached);
    F.crash_after_calls = 0;
    small_stack_run_t second = {.journal = &j};
    run_on_small_stack(&second);
    restore_log(sink);
    cr_assert_eq(second.rc, 0, "%s", second.err.msg);
    expect_moved_after_flaps(&second.res);
    /* The resume goes on from the journaled step without writing it again. */
    cr_expect_eq(F.journal_writes, 6 + 2 * FLAPS);
    cr_expect_eq(F.events, 5 + FLAPS, "one more: MigrationResumed");
}

/* ---- the migration timeout is a stall timeout under a hard cap ---------- */

/* The volume is exactly as before the migration: two replicas, on cold-n1
 * and cold-n2, none left behind on the target, no journal. */
static void expect_rolled_back(void)
{
    cr_expect_eq(F.vol.num_replicas, 2);
    cr_expect_eq(F.vol.replica_count, 2, "no extra replica is left behind");
    cr_expect(has_replica_on("cold-n1"));
    cr_expect(has_replica_on("cold-n2"));
    cr_expect_not(has_replica_on("hot-n3"));
    cr_expect_eq(F.max_replicas_seen, 3);
    cr_expect_not(F.has_journal, "the journal is cleared");
    cr_expect_eq(F.last_end, 0, "a timed-out migration starts no cooldown");
    expect_invariants();
}

static void expect_moved(void)
{
    cr_expect_eq(F.vol.num_replicas, 2);
    cr_expect_eq(F.vol.replica_count, 2, "no extra replica is left behind");
    cr_expect(has_replica_on("hot-n3"));
    cr_expect_not(has_replica_on("cold-n1"), "the old replica is the one removed");
    cr_expect(has_replica_on("cold-n2"));
    cr_expect_not(F.has_journal, "the journal is cleared");
    cr_expect_eq(F.last_end, F.now / 1000, "cooldown stamp written");
    expect_invariants();
}

/* 20% every 30 s: the rebuild takes 150 s, more than twice the 60 s
 * timeout, but never goes 60 s without progress, and ends before the hard
 * cap (240 s). Counted from the start, it would have been rolled back. */
Test(migration, slow_steady_rebuild_past_the_timeout_completes)
{
    F.slow_step_ms = 30000;
    F.slow_pct = 20;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_SUCCEEDED, "%s", res.message);
    cr_expect_eq(F.rebuild_start, 1000000, "the replica was added at the start");
    cr_expect_eq(F.decreased_at, 1000000 + 150000, "scaled down once in sync, at %lld", (long long)F.decreased_at);
    cr_expect_gt(res.duration_ms, req.timeout_ms);
    expect_moved();
    /* Without progress: SCALE_UP, its labels restored, WAIT_SYNC, SCALE_DOWN,
     * the attempt, the clear; and one write per progress (20, 40, 60, 80%). */
    cr_expect_eq(F.journal_writes, 6 + 4);
}

/* The rebuild reaches 40% in 40 s and stalls there: rolled back 60 s after
 * the last progress, with the existing TimedOut outcome. */
Test(migration, rebuild_stalled_after_progress_times_out_and_rolls_back)
{
    F.slow_step_ms = 10000;
    F.slow_pct = 10;
    F.stall_at = 40;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_TIMED_OUT);
    cr_expect_str_eq(res.message,
                     "the new replica was not in sync and made no progress for the migration timeout of 60 s "
                     "(rebuild at 40%)");
    cr_expect_eq(F.decreased_at, 1000000 + 40000 + 60000, "rolled back at %lld", (long long)F.decreased_at);
    expect_rolled_back();
}

/* 3% every 10 s: always progressing, but 100% would take 340 s, past the
 * hard cap of 4 x 60 s. */
Test(migration, progressing_rebuild_past_the_hard_cap_times_out)
{
    F.slow_step_ms = 10000;
    F.slow_pct = 3;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_TIMED_OUT);
    cr_expect_str_eq(res.message,
                     "the new replica was not in sync by the hard cap of 240 s (4 x the migration timeout of 60 s) "
                     "(rebuild at 72%)");
    cr_expect_eq(F.decreased_at, 1000000 + 240000, "rolled back at the cap, at %lld", (long long)F.decreased_at);
    expect_rolled_back();
}

/* Runs until WAIT SYNC is journaled, then returns that journal as an
 * operator of the previous version wrote it: without progressMs,
 * rebuildProgress and healthySeen. */
static void old_journal_in_wait_sync(cs_mig_journal_t *j)
{
    atomic_int stop = 0;
    F.stop = &stop;
    F.stop_at_wait_sync = true;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_run(&ops, &req, &stop, &res, &err), 0, "%s", err.msg);
    cr_assert_eq(res.outcome, CS_MIGRATION_ABORTED, "%s", res.message);
    cr_assert(F.has_journal);
    F.stop = NULL;
    F.stop_at_wait_sync = false;
    json_error_t jerr;
    json_t *o = json_loads(F.journal, 0, &jerr);
    cr_assert_not_null(o, "%s", jerr.text);
    cr_assert_not_null(json_object_get(o, "progressMs"), "this version journals the progress");
    json_object_del(o, "progressMs");
    json_object_del(o, "rebuildProgress");
    json_object_del(o, "healthySeen");
    char *old = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    cr_assert_eq(cs_mig_journal_decode(old, j, &err), 0, "%s", err.msg);
    free(old);
    cr_expect_eq(j->step, CS_MIG_STEP_WAIT_SYNC);
    cr_expect_eq(j->started_ms, 1000000);
    cr_expect_eq(j->progress_ms, 0, "absent: unknown");
    cr_expect_eq(j->last_progress, -1);
    cr_expect_eq(j->last_healthy, -1);
}

/* An old journal resumed 100 s after the start (past the 60 s timeout,
 * within the 240 s cap) on a stalled rebuild, and the first read of the
 * volume fails: the stall counts from the resume ("now"), so the migration
 * keeps waiting; its first successful look (1 s later) is the baseline, and
 * the rollback comes 60 s after that, not at once. */
Test(migration, old_journal_without_progress_resumes_counting_from_now)
{
    F.rebuild_polls = -1; /* stalled */
    cs_mig_journal_t j;
    old_journal_in_wait_sync(&j);
    F.now = 1000000 + 100000;
    F.fail_reads = 1;
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_resume(&ops, &j, 1000, false, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_TIMED_OUT, "%s", res.message);
    cr_expect(strstr(res.message, "made no progress for the migration timeout of 60 s") != NULL, "%s", res.message);
    cr_expect_eq(F.fail_reads, 0);
    cr_expect_eq(F.decreased_at, 1000000 + 100000 + 1000 + 60000, "rolled back at %lld", (long long)F.decreased_at);
    expect_rolled_back();
}

Test(migration, old_journal_without_progress_resumes_and_completes)
{
    cs_mig_journal_t j;
    old_journal_in_wait_sync(&j);
    F.now = 1000000 + 100000;
    cs_mig_result_t res;
    cs_err_t err = {0};
    cr_assert_eq(cs_migration_resume(&ops, &j, 1000, false, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_SUCCEEDED, "%s", res.message);
    expect_moved();
}

Test(migration, a_volume_deleted_while_rebuilding_ends_the_migration_at_once)
{
    /* The rebuild stalls, then the volume is deleted: the migration ends
     * with that reason at once (its slot is free), not at the timeout. */
    F.rebuild_polls = -1;
    F.deleted_after_reads = 5;
    cs_mig_request_t req = request();
    cs_mig_result_t res;
    cs_err_t err = {0};
    int64_t t0 = F.now;
    cr_assert_eq(cs_migration_run(&ops, &req, NULL, &res, &err), 0, "%s", err.msg);
    cr_expect_eq(res.outcome, CS_MIGRATION_ABORTED);
    cr_expect_str_eq(res.message, "the volume was deleted during the migration");
    cr_expect_lt(F.now - t0, 60000, "before the 60 s timeout");
    cr_expect_not(F.has_journal, "the journal is cleared");
    cr_expect_eq(F.last_end, 0, "no cooldown stamp");
    for (size_t i = 0; i < F.npools; i++)
        cr_expect(F.pools[i].has_placement_label, "placement label restored on %s", F.pools[i].id);
}
