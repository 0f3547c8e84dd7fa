/* operator.c: `couchestor operator`: informers, work queue, leader
 * election, the StoragePolicy and ErasureCodingPolicy reconcilers, status,
 * metrics and clean shutdown. */
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "couchestor/controller.h"
#include "couchestor/duration.h"
#include "couchestor/kube_events.h"
#include "couchestor/kube_informer.h"
#include "couchestor/kube_lease.h"
#include "couchestor/kube_workqueue.h"
#include "couchestor/log.h"
#include "couchestor/metrics.h"
#include "couchestor/migrator.h"
#include "couchestor/server.h"
#include "migrations.h"

#define CS__WORKERS 2
#define CS__REQUEUE_NS (INT64_C(60) * CS_NSEC_PER_SEC) /* the seed's periodic requeue */
#define CS__COALESCE_NS (INT64_C(2) * CS_NSEC_PER_SEC) /* PV/DiskPool churn -> one reconcile */
#define CS__MAX_POLICIES 256

typedef struct {
    char name[254];
    bool have;
    cs_storage_policy_status_t status; /* the last status this process wrote */
} cs__memory_t;

typedef struct cs__op_s {
    const cs_config_t *cfg;
    const atomic_int *stop;
    char identity[160];
    cs_kube_client_t *kube;
    cs_mayastor_t *ms;
    cs_prom_t *prom;
    cs_metrics_t *metrics;
    cs_metric_t *m_reconcile, *m_reconcile_seconds, *m_phase_seconds, *m_migrations, *m_active, *m_mig_seconds,
        *m_volumes, *m_errors, *m_leader, *m_refusals;
    cs_server_t *server;
    cs_informer_t *sp, *ec, *pv, *dp;
    cs_workqueue_t *queue;
    cs_lease_elector_t *elector;
    cs_event_recorder_t *events;
    cs_migrations_t *migrations;
    pthread_t workers[CS__WORKERS];
    size_t nworkers;
    pthread_t prober;
    bool prober_started;
    atomic_int api_ok; /* the last probe of the API server answered */
    atomic_int quit;   /* ends the probe thread */
    cs_kube_client_t *probe_kube;
    atomic_int leading;
    pthread_mutex_t mem_lock;
    cs__memory_t memory[CS__MAX_POLICIES];
} cs__op_t;

static int64_t cs__now_s(void)
{
    return (int64_t)time(NULL);
}

static double cs__mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool cs__is_leader(cs__op_t *op)
{
    return !op->elector || cs_lease_elector_is_leader(op->elector);
}

static void cs__count_error(cs__op_t *op, const char *target)
{
    const char *l[] = {target};
    cs_metric_inc(op->m_errors, l, 1);
}

/* ---- enqueueing ---- */

static void cs__enqueue(cs__op_t *op, const char *kind, const char *name, int64_t delay_ns)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%s", kind, name);
    if (delay_ns > 0)
        cs_workqueue_add_after(op->queue, key, delay_ns);
    else
        cs_workqueue_add(op->queue, key);
}

static int cs__enqueue_sp(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    cs__enqueue(op, "sp", obj->name, CS__COALESCE_NS);
    return 0;
}

static void cs__enqueue_all_sp(cs__op_t *op)
{
    cs_informer_foreach(op->sp, NULL, cs__enqueue_sp, op);
}

static void cs__sp_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue(ctx, "sp", obj->name, 0);
}
static json_int_t cs__generation(const cs_kube_object_t *obj)
{
    return json_integer_value(json_object_get(json_object_get(cs_json_tree_root(obj->data), "metadata"), "generation"));
}

/* Our own status writes change the object too: only a resync (old == obj)
 * or a spec change (generation) calls for a reconcile. */
static void cs__sp_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    if (old == obj || cs__generation(old) != cs__generation(obj))
        cs__enqueue(ctx, "sp", obj->name, 0);
}
static void cs__sp_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__enqueue(ctx, "sp", obj->name, 0);
}
static void cs__ec_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue(ctx, "ec", obj->name, 0);
    cs__enqueue_all_sp(ctx);
}
static void cs__ec_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    cs__ec_add(ctx, obj);
}
static void cs__ec_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__ec_add(ctx, obj);
}
static void cs__churn_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue_all_sp(ctx);
}
static void cs__churn_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    if (old != obj) /* a resync calls with old == obj: the SP informer's resync covers it */
        cs__enqueue_all_sp(ctx);
}
static void cs__churn_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__enqueue_all_sp(ctx);
}

static void cs__migration_finished(void *ctx, const char *policy)
{
    cs__enqueue(ctx, "sp", policy, 0);
}

/* ---- status memory ---- */

static cs__memory_t *cs__memory(cs__op_t *op, const char *name, bool create)
{
    cs__memory_t *free_slot = NULL;
    for (size_t i = 0; i < CS__MAX_POLICIES; i++) {
        if (op->memory[i].name[0] && strcmp(op->memory[i].name, name) == 0)
            return &op->memory[i];
        if (!op->memory[i].name[0] && !free_slot)
            free_slot = &op->memory[i];
    }
    if (create && free_slot) {
        memset(free_slot, 0, sizeof *free_slot);
        snprintf(free_slot->name, sizeof free_slot->name, "%s", name);
        return free_slot;
    }
    return NULL;
}

static void cs__memory_forget_all(cs__op_t *op)
{
    pthread_mutex_lock(&op->mem_lock);
    for (size_t i = 0; i < CS__MAX_POLICIES; i++) {
        if (op->memory[i].have)
            cs_storage_policy_status_free(&op->memory[i].status);
        memset(&op->memory[i], 0, sizeof op->memory[i]);
    }
    pthread_mutex_unlock(&op->mem_lock);
}

/* Deep copy via JSON: statuses are small. */
static int cs__status_copy(const cs_storage_policy_status_t *src, cs_storage_policy_status_t *dst)
{
    memset(dst, 0, sizeof *dst);
    json_t *j;
    int rc = cs_storage_policy_status_encode(src, &j, NULL);
    if (rc != 0)
        return rc;
    rc = cs_storage_policy_status_decode(j, dst, NULL);
    json_decref(j);
    return rc;
}

static int cs__write_sp_status(cs__op_t *op, const char *name, const cs_storage_policy_status_t *st, cs_err_t *err)
{
    json_t *js;
    int rc = cs_storage_policy_status_encode(st, &js, err);
    if (rc != 0)
        return rc;
    json_t *patch = json_pack("{s:o}", "status", js);
    int64_t gate; /* a slow status write of a leader must not land after its term */
    rc = cs_lease_write_begin(op->elector, 0, &gate, err);
    if (rc != 0) {
        json_decref(patch);
        return rc;
    }
    rc = cs_kube_patch_status(op->kube, CS_STORAGE_POLICY_RESOURCE, NULL, name, CS_KUBE_PATCH_MERGE, patch, NULL, err);
    cs_lease_write_end(gate);
    json_decref(patch);
    if (rc != 0) {
        cs__count_error(op, "kubernetes");
        return rc;
    }
    pthread_mutex_lock(&op->mem_lock);
    cs__memory_t *mem = cs__memory(op, name, true);
    if (mem) {
        if (mem->have)
            cs_storage_policy_status_free(&mem->status);
        mem->have = cs__status_copy(st, &mem->status) == 0;
    }
    pthread_mutex_unlock(&op->mem_lock);
    return 0;
}

static void cs__set_cond(cs_storage_policy_status_t *st, const char *type, bool ok, const char *reason,
                         const char *message, int64_t gen, int64_t now)
{
    cs_conditions_set(&st->conditions, type, ok ? CS_CONDITION_TRUE : CS_CONDITION_FALSE, reason, message, gen, now,
                      NULL);
}

/* ---- gathering ---- */

typedef struct {
    cs__op_t *op;
    const char *storage_class;
    cs_kube_object_t **objs;
    const cs_pv_t **pvs;
    size_t n, cap;
} cs__pv_collect_t;

static int cs__collect_pv(void *ctx, const cs_kube_object_t *obj)
{
    cs__pv_collect_t *c = ctx;
    const cs_pv_t *pv = obj->data;
    if (c->storage_class && (!pv->storage_class || strcmp(pv->storage_class, c->storage_class) != 0))
        return 0;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        cs_kube_object_t **o = realloc(c->objs, cap * sizeof *o);
        if (!o)
            return CS_ENOMEM;
        c->objs = o;
        const cs_pv_t **p = realloc(c->pvs, cap * sizeof *p);
        if (!p)
            return CS_ENOMEM;
        c->pvs = p;
        c->cap = cap;
    }
    c->objs[c->n] = cs_kube_object_ref((cs_kube_object_t *)obj);
    c->pvs[c->n] = pv;
    c->n++;
    return 0;
}

typedef struct {
    cs_kube_object_t **objs;
    const cs_diskpool_ref_t **dps;
    size_t n, cap;
} cs__dp_collect_t;

static int cs__collect_dp(void *ctx, const cs_kube_object_t *obj)
{
    cs__dp_collect_t *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cs_kube_object_t **o = realloc(c->objs, cap * sizeof *o);
        if (!o)
            return CS_ENOMEM;
        c->objs = o;
        const cs_diskpool_ref_t **d = realloc(c->dps, cap * sizeof *d);
        if (!d)
            return CS_ENOMEM;
        c->dps = d;
        c->cap = cap;
    }
    c->objs[c->n] = cs_kube_object_ref((cs_kube_object_t *)obj);
    c->dps[c->n] = obj->data;
    c->n++;
    return 0;
}

/* Reasons worth an Event on the volume: a person would want to know. */
static bool cs__reason_is_news(cs_plan_reason_t r)
{
    return r == CS_PLAN_REASON_NO_ELIGIBLE_POOL || r == CS_PLAN_REASON_UNPUBLISHED || r == CS_PLAN_REASON_NOT_ONLINE ||
           r == CS_PLAN_REASON_UNKNOWN_TIER || r == CS_PLAN_REASON_NO_TIER_SELECTOR || r == CS_PLAN_REASON_NOT_FOUND ||
           r == CS_PLAN_REASON_DRY_RUN;
}

/* An Event about a PV. Its uid goes in involvedObject: `kubectl describe
 * pv` selects Events by involvedObject.uid and shows none without it. */
static void cs__pv_event(cs__op_t *op, const cs_pv_t *pv, bool warning, const char *reason, const char *note)
{
    if (!op->events)
        return;
    cs_kube_object_ref_t ref = {.api_version = "v1", .kind = "PersistentVolume", .name = pv->name, .uid = pv->uid};
    cs_event_record(op->events, &ref, warning ? CS_EVENT_WARNING : CS_EVENT_NORMAL, reason, "Plan", "%s", note);
}

/* The migration manager's way to the uid of a PV (cs_migrations_options_t). */
static int cs__pv_uid(void *ctx, const char *pv_name, char *uid, size_t len)
{
    cs__op_t *op = ctx;
    cs_kube_object_t *obj = op->pv ? cs_informer_get(op->pv, NULL, pv_name) : NULL;
    const cs_pv_t *pv = obj ? obj->data : NULL;
    int rc = pv && pv->uid && strlen(pv->uid) < len ? 0 : -1;
    if (rc == 0)
        memcpy(uid, pv->uid, strlen(pv->uid) + 1);
    cs_kube_object_unref(obj);
    return rc;
}

/* Resumes every journaled migration that nothing in this process runs
 * (after a restart, a Lease takeover, or an interrupted step), whatever its
 * policy: a policy may have been disabled, edited or deleted since, and a
 * half-done migration (placement labels removed, an extra replica) must be
 * finished or rolled back regardless. */
static int cs__resume_one(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    const cs_pv_t *pv = obj->data;
    if (!pv->journal || cs_migrations_is_active(op->migrations, pv->name))
        return 0;
    cs_mig_journal_t j;
    cs_err_t err = {0};
    if (cs_mig_journal_decode(pv->journal, &j, &err) != 0) {
        CS_ERROR("unreadable migration journal: check the volume's replicas and the pools' placement label, then "
                 "remove the annotation " CS_ANNOTATION_MIGRATION,
                 "pv", pv->name, "error", err.msg);
        cs__pv_event(op, pv, true, "MigrationJournalInvalid", err.msg);
        return 0;
    }
    CS_INFO("resuming a journaled migration", "pv", pv->name, "step", cs_mig_step_name(j.step));
    if (cs_migrations_resume(op->migrations, &j, &err) != 0)
        CS_WARN("cannot resume the migration", "pv", pv->name, "error", err.msg);
    return 0;
}

static void cs__resume_orphans(cs__op_t *op)
{
    cs_informer_foreach(op->pv, NULL, cs__resume_one, op);
}

/* ---- StoragePolicy reconcile ---- */

static int cs__reconcile_sp(cs__op_t *op, const char *name)
{
    double t0 = cs__mono();
    cs_kube_object_t *obj = cs_informer_get(op->sp, NULL, name);
    if (!obj) {
        /* Deleted: forget it. Running migrations finish on their own. */
        pthread_mutex_lock(&op->mem_lock);
        cs__memory_t *mem = cs__memory(op, name, false);
        if (mem) {
            if (mem->have)
                cs_storage_policy_status_free(&mem->status);
            memset(mem, 0, sizeof *mem);
        }
        pthread_mutex_unlock(&op->mem_lock);
        cs_metric_remove_matching(op->m_volumes, name);
        cs_migrations_ack(op->migrations, name, SIZE_MAX);
        return 1; /* gone: no periodic requeue */
    }
    int64_t now = cs__now_s();
    cs_storage_policy_t pol;
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    const json_t *root = cs_json_tree_root(obj->data);
    int drc = cs_storage_policy_decode(root, &pol, &problems, &err);
    int64_t generation = 0;
    json_int_t g = json_integer_value(json_object_get(json_object_get(root, "metadata"), "generation"));
    generation = (int64_t)g;

    /* The status to start from: what this process last wrote, else the
     * object's (the informer may lag behind our own writes). */
    cs_storage_policy_status_t st;
    memset(&st, 0, sizeof st);
    pthread_mutex_lock(&op->mem_lock);
    cs__memory_t *mem = cs__memory(op, name, false);
    bool have_mem = mem && mem->have && cs__status_copy(&mem->status, &st) == 0;
    pthread_mutex_unlock(&op->mem_lock);
    if (!have_mem && drc == 0)
        cs__status_copy(&pol.status, &st);
    st.observed_generation = generation;
    st.last_reconcile_time = now;

    if (drc == 0)
        drc = cs_storage_policy_validate(&pol, &problems, &err);
    if (drc != 0) {
        char *why = cs_crd_problems_join(&problems);
        st.phase = CS_SP_PHASE_ERROR;
        free(st.message);
        st.message = strdup(why ? why : err.msg);
        cs__set_cond(&st, CS_CONDITION_SPEC_VALID, false, "InvalidSpec", st.message, generation, now);
        cs__set_cond(&st, CS_CONDITION_READY, false, "InvalidSpec", "the spec is invalid; see SpecValid", generation,
                     now);
        CS_WARN("StoragePolicy is invalid", "policy", name, "problems", st.message);
        int rc = cs__write_sp_status(op, name, &st, &err);
        free(why);
        cs_crd_problems_free(&problems);
        cs_storage_policy_status_free(&st);
        cs_storage_policy_free(&pol);
        cs_kube_object_unref(obj);
        return rc;
    }
    cs_crd_problems_free(&problems);
    cs__set_cond(&st, CS_CONDITION_SPEC_VALID, true, "Valid", "the spec is valid", generation, now);

    /* ecPolicyRef: reported, never acted on (Mayastor volumes are replicated). */
    cs_ec_policy_ref_status_t *ecs = &st.ec_policy;
    free(ecs->name);
    free(ecs->message);
    memset(ecs, 0, sizeof *ecs);
    if (!pol.spec.ec_policy_ref && cs_conditions_find(&st.conditions, CS_CONDITION_EC_POLICY_RESOLVED))
        cs__set_cond(&st, CS_CONDITION_EC_POLICY_RESOLVED, true, "NotReferenced", "spec.ecPolicyRef is not set",
                     generation, now);
    if (pol.spec.ec_policy_ref) {
        ecs->present = true;
        ecs->name = strdup(pol.spec.ec_policy_ref);
        cs_kube_object_t *eo = cs_informer_get(op->ec, NULL, pol.spec.ec_policy_ref);
        char why[256] = "";
        if (!eo) {
            snprintf(why, sizeof why, "ErasureCodingPolicy '%s' does not exist", pol.spec.ec_policy_ref);
        } else {
            cs_ec_policy_t ec;
            cs_err_t eerr = {0};
            if (cs_ec_policy_decode(cs_json_tree_root(eo->data), &ec, NULL, &eerr) != 0 ||
                cs_ec_policy_validate(&ec, NULL, &eerr) != 0)
                snprintf(why, sizeof why, "ErasureCodingPolicy '%s' is invalid: %s", pol.spec.ec_policy_ref, eerr.msg);
            cs_ec_policy_free(&ec);
            cs_kube_object_unref(eo);
        }
        ecs->resolved = why[0] == '\0';
        ecs->message = ecs->resolved ? NULL : strdup(why);
        cs__set_cond(&st, CS_CONDITION_EC_POLICY_RESOLVED, ecs->resolved, ecs->resolved ? "Resolved" : "NotResolved",
                     ecs->resolved ? "the referenced ErasureCodingPolicy exists and is valid (informational: "
                                     "Mayastor volumes are replicated, never erasure-coded)"
                                   : why,
                     generation, now);
    }

    if (!pol.spec.enabled) {
        st.phase = CS_SP_PHASE_DISABLED;
        free(st.message);
        st.message = strdup("spec.enabled is false: no volume is moved");
        cs__set_cond(&st, CS_CONDITION_READY, false, "Disabled", st.message, generation, now);
        int rc = cs__write_sp_status(op, name, &st, &err);
        cs_storage_policy_status_free(&st);
        cs_storage_policy_free(&pol);
        cs_kube_object_unref(obj);
        return rc;
    }

    /* Journaled migrations first: they count against the limits below. */
    if (cs__is_leader(op))
        cs__resume_orphans(op);

    /* Gather. */
    double t_list = cs__mono();
    cs__pv_collect_t pvs = {.op = op, .storage_class = pol.spec.storage_class_name};
    cs__dp_collect_t dps = {0};
    cs_informer_foreach(op->pv, NULL, cs__collect_pv, &pvs);
    cs_informer_foreach(op->dp, NULL, cs__collect_dp, &dps);
    cs_observation_t obs;
    cs_observe(op->ms, op->prom, pvs.pvs, pvs.n, pol.spec.sampling_window_ns, &obs);
    bool mayastor_ok = obs.mayastor_ok, metrics_ok = obs.metrics_ok;
    if (!mayastor_ok)
        cs__count_error(op, "mayastor");
    if (!metrics_ok)
        cs__count_error(op, "prometheus");
    /* the lists and the query overlap (cs_observe) */
    double t_decide = t_list + obs.seconds, obs_list_seconds = obs.list_seconds, obs_query_seconds = obs.query_seconds;
    cs_cluster_view_t view = cs_observation_view(&obs, pvs.pvs, pvs.n, dps.dps, dps.n);
    cs_plan_facts_t facts;
    cs_plan_t plan;
    memset(&plan, 0, sizeof plan);
    int rc = cs_plan_facts_build(&view, name, &pol.spec, now, &facts, &err);
    size_t active_all = cs_migrations_active(op->migrations, NULL);
    if (rc == 0) {
        /* A migration started by an earlier reconcile may not have its
         * journal in the cache yet; a refused one is held for a while. */
        for (size_t i = 0; i < facts.in.volume_count; i++) {
            bool active;
            cs_migrations_hold(op->migrations, facts.volumes[i].name, &active, &facts.volumes[i].refused_until);
            if (active)
                facts.volumes[i].migrating = true;
        }
        facts.in.global_dry_run = op->cfg->dry_run;
        facts.in.preservation_mode = op->cfg->preservation_mode;
        facts.in.active_migrations = cs_migrations_active(op->migrations, name);
        facts.in.global_slots = (size_t)op->cfg->max_concurrent_migrations > active_all
                                    ? (size_t)op->cfg->max_concurrent_migrations - active_all
                                    : 0;
        rc = cs_plan_compute(&facts.in, &plan, &err);
    }
    double t_apply = cs__mono();
    size_t blocked = 0;
    if (rc == 0 && cs__is_leader(op) && mayastor_ok) {
        for (size_t i = 0; i < plan.count; i++) {
            const cs_plan_item_t *it = &plan.items[i];
            const cs_plan_volume_t *v = &facts.in.volumes[it->volume];
            const cs_pv_t *pv = pvs.pvs[facts.pv_of[it->volume]];
            if (it->reason == CS_PLAN_REASON_NO_ELIGIBLE_POOL || it->reason == CS_PLAN_REASON_NOT_ONLINE ||
                it->reason == CS_PLAN_REASON_UNKNOWN_TIER || it->reason == CS_PLAN_REASON_NO_TIER_SELECTOR)
                blocked++;
            char detail[CS_PLAN_DETAIL_MAX];
            if (it->action == CS_PLAN_SKIP && cs__reason_is_news(it->reason))
                cs__pv_event(op, pv, it->reason != CS_PLAN_REASON_DRY_RUN, cs_plan_reason_name(it->reason),
                             cs_plan_item_detail(&facts.in, it, detail, sizeof detail));
            if (it->action != CS_PLAN_MOVE)
                continue;
            char uuid[37];
            cs_mayastor_uuid_format(&pv->volume, uuid);
            const char *accept[32];
            size_t naccept = 0;
            for (size_t p = 0; p < facts.in.pool_count && naccept < 32; p++)
                if (cs_plan_pool_tier(&pol.spec, facts.in.pools[p].labels) == it->wanted)
                    accept[naccept++] = facts.in.pools[p].id;
            cs_mig_request_t req = {.policy = name,
                                    .pv_name = v->name,
                                    .volume = uuid,
                                    .source_pool = it->source_pool >= 0 ? facts.in.pools[it->source_pool].id : "",
                                    .target_pool = facts.in.pools[it->target_pool].id,
                                    .accept_pools = accept,
                                    .accept_count = naccept,
                                    .from_tier = it->current,
                                    .to_tier = it->wanted,
                                    .trigger_iops = v->iops,
                                    .timeout_ms = pol.spec.migration_timeout_ns / 1000000};
            cs_err_t merr = {0};
            CS_INFO("starting a migration", "policy", name, "pv", v->name, "detail",
                    cs_plan_item_detail(&facts.in, it, detail, sizeof detail));
            if (cs_migrations_start(op->migrations, &req, (size_t)pol.spec.max_concurrent_migrations,
                                    (size_t)op->cfg->max_concurrent_migrations, pv->failures, &merr) != 0)
                CS_WARN("cannot start a migration", "pv", v->name, "error", merr.msg);
        }
    }

    /* Status. */
    double t_status = cs__mono();
    if (rc == 0) {
        cs_migration_record_t *recs = NULL;
        size_t nrec = 0;
        cs_migrations_finished(op->migrations, name, &recs, &nrec);
        for (size_t i = 0; i < nrec; i++) {
            cs_migration_history_append(&st.migration_history, &recs[i], NULL);
            st.total_migrations++;
            if (recs[i].outcome != CS_MIGRATION_SUCCEEDED)
                st.failed_migrations++;
        }
        st.phase = CS_SP_PHASE_ACTIVE;
        if (mayastor_ok) { /* without Mayastor nothing is known: keep the last counts */
            st.watched_volumes = (int64_t)plan.watched;
            st.hot_volumes = (int64_t)plan.hot;
            st.warm_volumes = (int64_t)plan.warm;
            st.cold_volumes = (int64_t)plan.cold;
        }
        st.active_migrations = (int64_t)cs_migrations_active(op->migrations, name);
        char msg[512];
        snprintf(msg, sizeof msg, "%zu volumes: %zu hot, %zu warm, %zu cold; %lld migrating%s", plan.watched, plan.hot,
                 plan.warm, plan.cold, (long long)st.active_migrations,
                 (op->cfg->dry_run || pol.spec.dry_run) ? " (dry run)" : "");
        free(st.message);
        st.message = strdup(msg);
        if (mayastor_ok)
            cs__set_cond(&st, CS_CONDITION_READY, true, "Reconciled", msg, generation, now);
        else
            cs__set_cond(&st, CS_CONDITION_READY, false, "MayastorUnavailable",
                         "the Mayastor API did not answer: nothing is decided until it does", generation, now);
        char why[512];
        if (!metrics_ok) {
            snprintf(why, sizeof why, "Prometheus query failed, no volume is moved: %s", obs.metrics_err.msg);
            cs__set_cond(&st, "MetricsAvailable", false, "PrometheusUnavailable", why, generation, now);
        } else if (obs.unknown > 0) {
            snprintf(why, sizeof why, "%zu of %zu volumes have no IOPS series; they are not moved", obs.unknown, pvs.n);
            cs__set_cond(&st, "MetricsAvailable", true, "SomeSeriesMissing", why, generation, now);
        } else {
            cs__set_cond(&st, "MetricsAvailable", true, "Available", "every volume has an IOPS series", generation,
                         now);
        }
        if (!mayastor_ok) {
            snprintf(why, sizeof why, "Mayastor API unavailable, no volume is moved: %s", obs.mayastor_err.err.msg);
            cs__set_cond(&st, "Degraded", true, "MayastorUnavailable", why, generation, now);
        } else if (blocked > 0) {
            snprintf(why, sizeof why, "%zu volumes cannot reach their tier (see their Events)", blocked);
            cs__set_cond(&st, "Degraded", true, "VolumesBlocked", why, generation, now);
        } else {
            cs__set_cond(&st, "Degraded", false, "AsExpected", "every volume can reach its tier", generation, now);
        }
        const char *tiers[] = {"hot", "warm", "cold"};
        size_t counts[] = {plan.hot, plan.warm, plan.cold};
        for (int t = 0; t < 3 && mayastor_ok; t++) {
            const char *l[] = {name, tiers[t]};
            cs_metric_set(op->m_volumes, l, (double)counts[t]);
        }
        if (cs__is_leader(op)) {
            rc = cs__write_sp_status(op, name, &st, &err);
            if (rc == 0)
                cs_migrations_ack(op->migrations, name, nrec);
        }
        for (size_t i = 0; i < nrec; i++)
            cs_migration_record_free(&recs[i]);
        free(recs);
    }
    double t_end = cs__mono();
    const char *ph[] = {"list"}, *pq[] = {"query"}, *pd[] = {"decide"}, *ps[] = {"status"};
    cs_metric_observe(op->m_phase_seconds, ph, obs_list_seconds);
    cs_metric_observe(op->m_phase_seconds, pq, obs_query_seconds);
    cs_metric_observe(op->m_phase_seconds, pd, t_apply - t_decide);
    cs_metric_observe(op->m_phase_seconds, ps, t_end - t_status);
    cs_metric_observe(op->m_reconcile_seconds, NULL, t_end - t0);
    char took[32];
    snprintf(took, sizeof took, "%.3f", t_end - t0);
    CS_DEBUG("reconciled StoragePolicy", "policy", name, "seconds", took, (const char *)NULL);
    if (rc != 0)
        CS_WARN("reconcile failed", "policy", name, "error", err.msg);

    cs_plan_free(&plan);
    cs_plan_facts_free(&facts);
    cs_observation_free(&obs);
    for (size_t i = 0; i < pvs.n; i++)
        cs_kube_object_unref(pvs.objs[i]);
    for (size_t i = 0; i < dps.n; i++)
        cs_kube_object_unref(dps.objs[i]);
    free(pvs.objs);
    free(pvs.pvs);
    free(dps.objs);
    free(dps.dps);
    cs_storage_policy_status_free(&st);
    cs_storage_policy_free(&pol);
    cs_kube_object_unref(obj);
    return rc;
}

/* ---- ErasureCodingPolicy reconcile (LLD 1.1.2) ---- */

static int cs__reconcile_ec(cs__op_t *op, const char *name)
{
    cs_kube_object_t *obj = cs_informer_get(op->ec, NULL, name);
    if (!obj)
        return 0;
    cs_ec_policy_t ec;
    cs_err_t err = {0};
    const json_t *root = cs_json_tree_root(obj->data);
    int rc = cs_ec_policy_decode(root, &ec, NULL, &err);
    cs_ec_policy_status_t st;
    memset(&st, 0, sizeof st);
    if (rc == 0) {
        rc = cs_ec_policy_status_compute(&ec, &st, &err);
    } else {
        st.phase = CS_EC_PHASE_INVALID;
        st.message = strdup(err.msg);
        st.observed_generation =
            (int64_t)json_integer_value(json_object_get(json_object_get(root, "metadata"), "generation"));
        rc = 0;
    }
    if (rc == 0) {
        json_t *current = json_object_get(root, "status");
        json_t *js;
        js = NULL;
        rc = cs_ec_policy_status_encode(&st, &js, &err);
        if (rc == 0 && !(current && json_equal(current, js))) {
            json_t *patch = json_pack("{s:O}", "status", js);
            int64_t gate;
            rc = cs_lease_write_begin(op->elector, 0, &gate, &err);
            if (rc == 0) {
                rc = cs_kube_patch_status(op->kube, CS_EC_POLICY_RESOURCE, NULL, name, CS_KUBE_PATCH_MERGE, patch, NULL,
                                          &err);
                cs_lease_write_end(gate);
                if (rc != 0)
                    cs__count_error(op, "kubernetes");
            }
            json_decref(patch);
            if (rc == 0)
                CS_INFO("ErasureCodingPolicy status", "policy", name, "phase", cs_ec_policy_phase_name(st.phase));
        }
        json_decref(js);
    }
    if (rc != 0)
        CS_WARN("reconcile failed", "ecpolicy", name, "error", err.msg);
    cs_ec_policy_status_free(&st);
    cs_ec_policy_free(&ec);
    cs_kube_object_unref(obj);
    return rc;
}

/* ---- workers ---- */

static void *cs__worker(void *arg)
{
    cs__op_t *op = arg;
    for (;;) {
        char *key = NULL;
        int rc = cs_workqueue_get(op->queue, &key, -1);
        if (rc != 0 || !key)
            break;
        if (!cs__is_leader(op)) {
            /* A standby keeps its caches warm and does nothing else; taking
             * the Lease enqueues every policy again. */
            cs_workqueue_forget(op->queue, key);
            cs_workqueue_done(op->queue, key);
            free(key);
            continue;
        }
        const char *name = key + 3;
        if (strncmp(key, "jr/", 3) == 0) {
            /* Journals of any policy, even when no policy reconciles; once
             * the PV cache is complete, so that none is missed. */
            bool synced = cs_informer_has_synced(op->pv);
            if (synced)
                cs__resume_orphans(op);
            cs_workqueue_forget(op->queue, key);
            cs_workqueue_add_after(op->queue, key, synced ? CS__REQUEUE_NS : CS_NSEC_PER_SEC);
            cs_workqueue_done(op->queue, key);
            free(key);
            continue;
        }
        bool sp = strncmp(key, "sp/", 3) == 0;
        rc = sp ? cs__reconcile_sp(op, name) : cs__reconcile_ec(op, name);
        const char *l[] = {sp ? "storagepolicy" : "erasurecodingpolicy", rc >= 0 ? "success" : "error"};
        cs_metric_inc(op->m_reconcile, l, 1);
        if (rc < 0) {
            cs_workqueue_add_rate_limited(op->queue, key);
        } else {
            cs_workqueue_forget(op->queue, key);
            if (sp && rc == 0)
                cs_workqueue_add_after(op->queue, key, CS__REQUEUE_NS);
        }
        cs_workqueue_done(op->queue, key);
        free(key);
    }
    return NULL;
}

/* ---- leadership ---- */

/* A standby reports no per-policy gauges: only the leader knows them. */
static int cs__forget_policy_metrics(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    cs_metric_remove_matching(op->m_volumes, obj->name);
    return 0;
}

static void cs__started_leading(void *ctx)
{
    cs__op_t *op = ctx;
    atomic_store(&op->leading, 1);
    cs_metric_set(op->m_leader, NULL, 1);
    CS_INFO("acquired the Lease: reconciling", "identity", op->identity);
    cs__memory_forget_all(op); /* statuses written by another leader meanwhile */
    cs_migrations_resume_starts(op->migrations);
    cs__enqueue(op, "jr", "all", 0); /* never block the elector's thread here */
    cs__enqueue_all_sp(op);
}

static void cs__stopped_leading(void *ctx)
{
    cs__op_t *op = ctx;
    atomic_store(&op->leading, 0);
    cs_metric_set(op->m_leader, NULL, 0);
    CS_WARN("lost the Lease: every write stops; migrations stay journaled for the next leader", "identity",
            op->identity);
    cs_migrations_stop_all(op->migrations);
    cs_informer_foreach(op->sp, NULL, cs__forget_policy_metrics, op);
}

/* Probes the API server every 5 s so that /readyz can say whether it is
 * reachable now, not only whether the caches once synced. The probe is a
 * one-item list of what the operator reads (it has the RBAC for it, and it
 * exercises the same path as the informers), not /version, which a broken
 * API server may still answer. */
static void *cs__probe_api(void *arg)
{
    cs__op_t *op = arg;
    while (!atomic_load(&op->quit)) {
        json_t *v = NULL;
        int rc = cs_kube_get_path(op->probe_kube, "/api/v1/persistentvolumes?limit=1", &v, NULL);
        json_decref(v);
        atomic_store(&op->api_ok, rc == 0);
        for (int i = 0; i < 50 && !atomic_load(&op->quit); i++)
            usleep(100 * 1000);
    }
    return NULL;
}

static bool cs__ready(void *ctx, char *reason, size_t len)
{
    cs__op_t *op = ctx;
    if (!atomic_load(&op->api_ok)) {
        snprintf(reason, len, "the Kubernetes API server is not reachable");
        return false;
    }
    if (!op->sp || !cs_informer_has_synced(op->sp) || !cs_informer_has_synced(op->pv) ||
        !cs_informer_has_synced(op->dp) || !cs_informer_has_synced(op->ec)) {
        snprintf(reason, len, "informer caches not synced yet");
        return false;
    }
    return true;
}

/* ---- setup ---- */

static int cs__kube_get(void *ctx, const char *path, json_t **out, cs_err_t *err)
{
    return cs_kube_get_path(ctx, path, out, err);
}

static int cs__metrics_setup(cs__op_t *op, cs_err_t *err)
{
    op->metrics = cs_metrics_new();
    if (!op->metrics)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    const char *kr[] = {"kind", "result"}, *st[] = {"status"}, *pt[] = {"policy", "tier"}, *tg[] = {"target"},
               *ph[] = {"phase"};
    double rb[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    double mb[] = {10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
    op->m_reconcile =
        cs_metrics_counter(op->metrics, "couchestor_reconcile_total", "Reconciles by kind and result.", 2, kr, err);
    op->m_reconcile_seconds = cs_metrics_histogram(op->metrics, "couchestor_reconcile_duration_seconds",
                                                   "Wall time of a StoragePolicy reconcile.", 0, NULL, 10, rb, err);
    op->m_phase_seconds = cs_metrics_histogram(
        op->metrics, "couchestor_reconcile_phase_duration_seconds",
        "Wall time of each reconcile phase (list, query, decide, status; list and query overlap).", 1, ph, 10, rb, err);
    op->m_migrations = cs_metrics_counter(op->metrics, "couchestor_migrations_total",
                                          "Migrations by outcome (aborted = suspended, resumed later).", 1, st, err);
    op->m_active =
        cs_metrics_gauge(op->metrics, "couchestor_active_migrations", "Migrations running now.", 0, NULL, err);
    op->m_mig_seconds = cs_metrics_histogram(op->metrics, "couchestor_migration_duration_seconds",
                                             "Wall time of a migration.", 0, NULL, 10, mb, err);
    op->m_volumes =
        cs_metrics_gauge(op->metrics, "couchestor_volumes", "Volumes of a policy per current tier.", 2, pt, err);
    op->m_errors = cs_metrics_counter(op->metrics, "couchestor_request_errors_total",
                                      "Failed requests to Prometheus, Kubernetes and Mayastor.", 1, tg, err);
    op->m_leader =
        cs_metrics_gauge(op->metrics, "couchestor_leader", "1 while this replica holds the Lease.", 0, NULL, err);
    const char *rs[] = {"reason"};
    op->m_refusals = cs_metrics_counter(op->metrics, "couchestor_migration_refusals_total",
                                        "Migrations refused before any change, by reason (not failures).", 1, rs, err);
    if (!op->m_reconcile || !op->m_reconcile_seconds || !op->m_phase_seconds || !op->m_migrations || !op->m_active ||
        !op->m_mig_seconds || !op->m_volumes || !op->m_errors || !op->m_leader || !op->m_refusals)
        return err && err->code ? err->code : CS_ENOMEM;
    /* Every known series from the start, so rate() and alerts see the first event. */
    const char *outcomes[] = {"success", "failed", "aborted"};
    for (int i = 0; i < 3; i++) {
        const char *l[] = {outcomes[i]};
        cs_metric_touch(op->m_migrations, l);
    }
    for (int r = CS_MIG_REFUSAL_NONE + 1; r < CS_MIG_REFUSAL_COUNT_; r++) {
        const char *l[] = {cs_mig_refusal_name((cs_mig_refusal_t)r)};
        cs_metric_touch(op->m_refusals, l);
    }
    const char *targets[] = {"prometheus", "kubernetes", "mayastor"};
    for (int i = 0; i < 3; i++) {
        const char *l[] = {targets[i]};
        cs_metric_touch(op->m_errors, l);
    }
    const char *kinds[] = {"storagepolicy", "erasurecodingpolicy"}, *results[] = {"success", "error"};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 2; r++) {
            const char *l[] = {kinds[k], results[r]};
            cs_metric_touch(op->m_reconcile, l);
        }
    cs_metric_set(op->m_active, NULL, 0);
    cs_metric_set(op->m_leader, NULL, 0);
    return 0;
}

static int cs__informer(cs__op_t *op, const cs_kube_resource_t *res, const char *ns, cs_kube_decoder_t dec,
                        cs_informer_handlers_t h, int64_t resync, cs_informer_t **out, cs_err_t *err)
{
    cs_informer_options_t o = {
        .resource = res, .namespace = ns, .decoder = dec, .handlers = h, .resync_period_ns = resync};
    int rc = cs_informer_new(op->kube, &o, out, err);
    if (rc == 0)
        rc = cs_informer_start(*out, err);
    return rc;
}

static void cs__teardown(cs__op_t *op)
{
    atomic_store(&op->quit, 1);
    if (op->prober_started)
        pthread_join(op->prober, NULL);
    if (op->queue)
        cs_workqueue_shutdown(op->queue);
    for (size_t i = 0; i < op->nworkers; i++)
        pthread_join(op->workers[i], NULL);
    if (op->migrations)
        cs_migrations_stop_all(op->migrations); /* journals stay: resumable */
    if (op->elector) {
        cs_lease_elector_stop(op->elector); /* releases the Lease */
        cs_lease_elector_free(op->elector);
    }
    cs_informer_free(op->sp);
    cs_informer_free(op->ec);
    cs_informer_free(op->pv);
    cs_informer_free(op->dp);
    cs_migrations_free(op->migrations);
    if (op->events) {
        cs_event_recorder_flush(op->events, 2 * CS_NSEC_PER_SEC);
        cs_event_recorder_free(op->events);
    }
    cs_server_stop(op->server);
    cs_workqueue_free(op->queue);
    cs_prom_free(op->prom);
    cs_mayastor_free(op->ms);
    cs_kube_client_free(op->kube);
    cs_kube_client_free(op->probe_kube);
    cs_metrics_free(op->metrics);
    for (size_t i = 0; i < CS__MAX_POLICIES; i++)
        if (op->memory[i].have)
            cs_storage_policy_status_free(&op->memory[i].status);
    pthread_mutex_destroy(&op->mem_lock);
}

void cs_operator_malloc_setup(void)
{
    mallopt(M_ARENA_MAX, 1);
}

int cs_operator_run(const cs_config_t *cfg, const atomic_int *stop, cs_err_t *err)
{
    cs_operator_malloc_setup();
    cs__op_t *op = calloc(1, sizeof *op);
    if (!op)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    op->cfg = cfg;
    op->stop = stop;
    pthread_mutex_init(&op->mem_lock, NULL);
    char host[100] = "couchestor";
    gethostname(host, sizeof host - 1);
    snprintf(op->identity, sizeof op->identity, "%s_%ld", host, (long)getpid());
    int rc;
    if ((rc = cs__metrics_setup(op, err)) != 0)
        goto out;

    cs_kube_config_t kc;
    cs_kube_config_load_options_t lo = {.kubeconfig = cfg->kubeconfig && *cfg->kubeconfig ? cfg->kubeconfig : NULL};
    if ((rc = cs_kube_config_load(&lo, &kc, err)) != 0)
        goto out;
    CS_INFO("Kubernetes API", "server", kc.server, "source", kc.source);
    rc = cs_kube_client_new(&kc, NULL, &op->kube, err);
    /* The readiness probe asks once, quickly: no retries behind its back. */
    cs_kube_client_options_t probe_opts = {.timeout_ms = 3000, .connect_timeout_ms = 2000, .max_retries = -1};
    if (rc == 0)
        rc = cs_kube_client_new(&kc, &probe_opts, &op->probe_kube, err);
    cs_kube_config_free(&kc);
    if (rc != 0)
        goto out;

    char *ms_url = NULL;
    if (cfg->mayastor_url && *cfg->mayastor_url) {
        ms_url = strdup(cfg->mayastor_url);
    } else if ((rc = cs_mayastor_discover_url(cs__kube_get, op->kube, cfg->mayastor_namespace, &ms_url, err)) != 0) {
        cs_err_prefix(err, "finding the Mayastor REST API (set --mayastor-url to skip this): ");
        goto out;
    }
    cs_mayastor_options_t mo;
    cs_mayastor_options_default(&mo);
    mo.url = ms_url;
    mo.list_child_uris = false;
    rc = cs_mayastor_new(&mo, &op->ms, err);
    CS_INFO("Mayastor REST API", "url", ms_url);
    free(ms_url);
    if (rc != 0)
        goto out;

    cs_prom_options_t po;
    char *prom_token = NULL;
    rc = cs_prom_options_from_config(cfg, &po, &prom_token, err);
    if (rc == 0)
        rc = cs_prom_new(&po, &op->prom, err);
    free(prom_token);
    if (rc != 0)
        goto out;
    if (cs_prom_health(op->prom, NULL) != 0)
        CS_WARN("Prometheus is not healthy yet; volumes stay put until it answers", "url", cfg->prometheus_url);

    cs_workqueue_options_t qo = {0};
    if ((rc = cs_workqueue_new(&qo, &op->queue, err)) != 0)
        goto out;
    cs_event_recorder_options_t eo = {.reporting_controller = "storage.billyronks.io/couchestor",
                                      .reporting_instance = op->identity};
    if ((rc = cs_event_recorder_new(op->kube, &eo, &op->events, err)) != 0)
        goto out;

    if (cfg->leader_election) {
        cs_lease_options_t lopt = {.namespace = cfg->lease_namespace,
                                   .name = cfg->lease_name,
                                   .identity = op->identity,
                                   .on_started_leading = cs__started_leading,
                                   .on_stopped_leading = cs__stopped_leading,
                                   .ctx = op};
        if ((rc = cs_lease_elector_new(op->kube, &lopt, &op->elector, err)) != 0)
            goto out;
    }
    cs_migrations_options_t mgo = {.mayastor = op->ms,
                                   .kube = op->kube,
                                   .events = op->events,
                                   .elector = op->elector,
                                   .poll_ms = cfg->sync_poll_interval_seconds * 1000,
                                   .preservation_mode = cfg->preservation_mode,
                                   .migrations_total = op->m_migrations,
                                   .refusals = op->m_refusals,
                                   .active = op->m_active,
                                   .duration = op->m_mig_seconds,
                                   .on_finished = cs__migration_finished,
                                   .pv_uid = cs__pv_uid,
                                   .ctx = op};
    if ((rc = cs_migrations_new(&mgo, &op->migrations, err)) != 0)
        goto out;
    if (op->elector)
        cs_migrations_stop_all(op->migrations); /* no migration before the Lease */

    atomic_store(&op->api_ok, 0);
    if (pthread_create(&op->prober, NULL, cs__probe_api, op) != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "cannot start the API probe thread");
        goto out;
    }
    op->prober_started = true;
    cs_server_options_t so = {.metrics_addr = cfg->metrics_addr,
                              .health_addr = cfg->health_addr,
                              .metrics = op->metrics,
                              .ready = cs__ready,
                              .ready_ctx = op};
    if ((rc = cs_server_start(&so, &op->server, err)) != 0)
        goto out;
    char mport[16], hport[16];
    snprintf(mport, sizeof mport, "%d", cs_server_metrics_port(op->server));
    snprintf(hport, sizeof hport, "%d", cs_server_health_port(op->server));
    CS_INFO("serving metrics and probes", "metrics_port", mport, "health_port", hport);

    cs_informer_handlers_t sp_h = {cs__sp_add, cs__sp_update, cs__sp_delete, op};
    cs_informer_handlers_t ec_h = {cs__ec_add, cs__ec_update, cs__ec_delete, op};
    cs_informer_handlers_t churn_h = {cs__churn_add, cs__churn_update, cs__churn_delete, op};
    if ((rc = cs__informer(op, CS_STORAGE_POLICY_RESOURCE, NULL, cs_json_tree_decoder(), sp_h, CS__REQUEUE_NS, &op->sp,
                           err)) != 0 ||
        (rc = cs__informer(op, CS_EC_POLICY_RESOURCE, NULL, cs_json_tree_decoder(), ec_h, 0, &op->ec, err)) != 0 ||
        (rc = cs__informer(op, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, cs_pv_decoder(), churn_h, 0, &op->pv, err)) != 0 ||
        (rc = cs__informer(op, CS_DISKPOOL_RESOURCE, cfg->mayastor_namespace, cs_diskpool_decoder(), churn_h, 0,
                           &op->dp, err)) != 0)
        goto out;
    for (; op->nworkers < CS__WORKERS; op->nworkers++)
        if (pthread_create(&op->workers[op->nworkers], NULL, cs__worker, op) != 0) {
            rc = cs_err_set(err, CS_ENOMEM, "cannot start worker threads");
            goto out;
        }
    if (op->elector) {
        if ((rc = cs_lease_elector_start(op->elector, err)) != 0)
            goto out;
        CS_INFO("waiting for the Lease", "lease", cfg->lease_name, "namespace", cfg->lease_namespace, "identity",
                op->identity);
    } else {
        atomic_store(&op->leading, 1);
        cs_metric_set(op->m_leader, NULL, 1);
        cs__enqueue(op, "jr", "all", 0);
    }
    CS_INFO("operator running", "dry_run", cfg->dry_run ? "true" : "false", "preservation_mode",
            cfg->preservation_mode ? "true" : "false");
    while (!atomic_load(stop))
        usleep(100 * 1000);
    CS_INFO("stopping: no new work; in-flight migrations stay journaled; releasing the Lease", (const char *)NULL);
    rc = 0;
out:
    cs__teardown(op);
    free(op);
    return rc;
}
