/* reconcile_sp.c: one StoragePolicy reconcile, in five steps: load (the
 * policy and the status to start from), gather (cs_gather: its volumes, one
 * observation, the plan input), decide (cs_plan_compute), apply (start the
 * planned migrations, Events) and report (status, metrics), with one
 * cleanup path. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/duration.h"
#include "couchestor/labels.h"
#include "couchestor/log.h"
#include "operator.h"

/* One reconcile: what each step reads and leaves for the next. */
typedef struct {
    cs__op_t *op;
    const char *name;
    cs_kube_object_t *obj; /* the policy, from the informer cache */
    cs_storage_policy_t pol;
    int64_t generation, now;
    cs_storage_policy_status_t st;                      /* the status this reconcile writes */
    cs__op_held_t pvs, dps, pvcs, namespaces, policies; /* the informers' objects this reconcile reads */
    cs_policy_set_t owners;                             /* the policies that own volumes */
    cs_gathered_t in;
    cs_plan_t plan;
    double t0, t_gather, t_apply, t_report;
    cs_err_t err;
} cs__sp_run_t;

typedef enum {
    CS__SP_GONE,   /* deleted: forget it */
    CS__SP_REPORT, /* invalid or disabled: write the status and stop */
    CS__SP_DECIDE, /* go on: gather, decide, apply, report */
} cs__sp_load_t;

/* ---- status memory ---- */

/* The slot of name (mem_lock held), created when asked and one is free. */
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

static void cs__memory_clear(cs__memory_t *mem)
{
    if (mem->have)
        cs_storage_policy_status_free(&mem->status);
    memset(mem, 0, sizeof *mem);
}

void cs__sp_memory_forget_all(cs__op_t *op)
{
    pthread_mutex_lock(&op->mem_lock);
    for (size_t i = 0; i < CS__MAX_POLICIES; i++)
        cs__memory_clear(&op->memory[i]);
    pthread_mutex_unlock(&op->mem_lock);
}

static void cs__memory_forget(cs__op_t *op, const char *name)
{
    pthread_mutex_lock(&op->mem_lock);
    cs__memory_t *mem = cs__memory(op, name, false);
    if (mem)
        cs__memory_clear(mem);
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

static void cs__memory_remember(cs__op_t *op, const char *name, const cs_storage_policy_status_t *st)
{
    pthread_mutex_lock(&op->mem_lock);
    cs__memory_t *mem = cs__memory(op, name, true);
    if (mem) {
        if (mem->have)
            cs_storage_policy_status_free(&mem->status);
        mem->have = cs__status_copy(st, &mem->status) == 0;
    }
    pthread_mutex_unlock(&op->mem_lock);
}

static bool cs__memory_recall(cs__op_t *op, const char *name, cs_storage_policy_status_t *st)
{
    pthread_mutex_lock(&op->mem_lock);
    cs__memory_t *mem = cs__memory(op, name, false);
    bool have = mem && mem->have && cs__status_copy(&mem->status, st) == 0;
    pthread_mutex_unlock(&op->mem_lock);
    return have;
}

/* ---- helpers ---- */

static void cs__set_cond(cs__sp_run_t *r, const char *type, bool ok, const char *reason, const char *message)
{
    cs_conditions_set(&r->st.conditions, type, ok ? CS_CONDITION_TRUE : CS_CONDITION_FALSE, reason, message,
                      r->generation, r->now, NULL);
}

static void cs__set_message(cs__sp_run_t *r, const char *message)
{
    free(r->st.message);
    r->st.message = strdup(message);
}

/* Writes r->st and remembers it (the informer may lag behind the write). */
static int cs__write_status(cs__sp_run_t *r)
{
    json_t *js;
    int rc = cs_storage_policy_status_encode(&r->st, &js, &r->err);
    if (rc != 0)
        return rc;
    rc = cs__op_patch_status(r->op, CS_STORAGE_POLICY_RESOURCE, r->name, js, &r->err);
    json_decref(js);
    if (rc == 0)
        cs__memory_remember(r->op, r->name, &r->st);
    return rc;
}

/* ---- load ---- */

/* status.ecPolicy and its condition: reported, never acted on (Mayastor
 * volumes are replicated). */
static void cs__load_ec_ref(cs__sp_run_t *r)
{
    cs_ec_policy_ref_status_t *ecs = &r->st.ec_policy;
    const char *ref = r->pol.spec.ec_policy_ref;
    free(ecs->name);
    free(ecs->message);
    memset(ecs, 0, sizeof *ecs);
    if (!ref) {
        if (cs_conditions_find(&r->st.conditions, CS_CONDITION_EC_POLICY_RESOLVED))
            cs__set_cond(r, CS_CONDITION_EC_POLICY_RESOLVED, true, "NotReferenced", "spec.ecPolicyRef is not set");
        return;
    }
    ecs->present = true;
    ecs->name = strdup(ref);
    cs_kube_object_t *eo = cs_informer_get(r->op->ec, NULL, ref);
    char why[256] = "";
    if (!eo) {
        snprintf(why, sizeof why, "ErasureCodingPolicy '%s' does not exist", ref);
    } else {
        cs_ec_policy_t ec;
        cs_err_t eerr = {0};
        if (cs_ec_policy_decode(cs_json_tree_root(eo->data), &ec, NULL, &eerr) != 0 ||
            cs_ec_policy_validate(&ec, NULL, &eerr) != 0)
            snprintf(why, sizeof why, "ErasureCodingPolicy '%s' is invalid: %s", ref, eerr.msg);
        cs_ec_policy_free(&ec);
        cs_kube_object_unref(eo);
    }
    ecs->resolved = why[0] == '\0';
    ecs->message = ecs->resolved ? NULL : strdup(why);
    cs__set_cond(r, CS_CONDITION_EC_POLICY_RESOLVED, ecs->resolved, ecs->resolved ? "Resolved" : "NotResolved",
                 ecs->resolved ? "the referenced ErasureCodingPolicy exists and is valid (informational: "
                                 "Mayastor volumes are replicated, never erasure-coded)"
                               : why);
}

/* The policy, the status to start from (what this process last wrote,
 * else the object's), and whether there is anything to decide. */
static cs__sp_load_t cs__load(cs__sp_run_t *r)
{
    r->obj = cs_informer_get(r->op->sp, NULL, r->name);
    if (!r->obj)
        return CS__SP_GONE;
    r->now = cs_clock_real_s();
    r->generation = cs__op_generation(r->obj);
    cs_crd_problems_t problems = {0};
    int drc = cs_storage_policy_decode(cs_json_tree_root(r->obj->data), &r->pol, &problems, &r->err);
    if (!cs__memory_recall(r->op, r->name, &r->st) && drc == 0)
        cs__status_copy(&r->pol.status, &r->st);
    r->st.observed_generation = r->generation;
    r->st.last_reconcile_time = r->now;
    if (drc == 0)
        drc = cs_storage_policy_validate(&r->pol, &problems, &r->err);
    if (drc != 0) {
        char *joined = cs_crd_problems_join(&problems);
        const char *why = joined ? joined : r->err.msg;
        r->st.phase = CS_SP_PHASE_ERROR;
        cs__set_cond(r, CS_CONDITION_SPEC_VALID, false, "InvalidSpec", why);
        cs__set_cond(r, CS_CONDITION_READY, false, "InvalidSpec", "the spec is invalid; see SpecValid");
        CS_WARN("StoragePolicy is invalid", "policy", r->name, "problems", why);
        cs__set_message(r, why);
        free(joined);
        cs_crd_problems_free(&problems);
        return CS__SP_REPORT;
    }
    cs_crd_problems_free(&problems);
    cs__set_cond(r, CS_CONDITION_SPEC_VALID, true, "Valid", "the spec is valid");
    cs__load_ec_ref(r);
    if (!r->pol.spec.enabled) {
        const char *why = "spec.enabled is false: no volume is moved";
        r->st.phase = CS_SP_PHASE_DISABLED;
        cs__set_cond(r, CS_CONDITION_READY, false, "Disabled", why);
        cs__set_message(r, why);
        return CS__SP_REPORT;
    }
    return CS__SP_DECIDE;
}

/* ---- gather ---- */

static int cs__gather(cs__sp_run_t *r)
{
    cs__op_t *op = r->op;
    /* Journaled migrations first: they count against the limits. */
    if (cs__op_is_leader(op))
        cs__op_resume_orphans(op);
    r->t_gather = cs_clock_mono_s();
    if (cs_informer_foreach(op->pv, NULL, cs__op_hold, &r->pvs) != 0 ||
        cs_informer_foreach(op->dp, NULL, cs__op_hold, &r->dps) != 0 ||
        cs_informer_foreach(op->pvc, NULL, cs__op_hold, &r->pvcs) != 0 ||
        cs_informer_foreach(op->ns, NULL, cs__op_hold, &r->namespaces) != 0 ||
        cs_informer_foreach(op->sp, NULL, cs__op_hold, &r->policies) != 0)
        return cs_err_set(&r->err, CS_ENOMEM, "policy '%s': out of memory listing the cached objects", r->name);
    const json_t *trees[r->policies.n + 1];
    for (size_t i = 0; i < r->policies.n; i++)
        trees[i] = cs_json_tree_root(r->policies.data[i]);
    if (cs_policy_set_build(trees, r->policies.n, &r->owners) != 0)
        return cs_err_set(&r->err, CS_ENOMEM, "policy '%s': out of memory reading the StoragePolicies", r->name);
    cs_gather_source_t src = {.clients = &op->clients,
                              .cfg = op->cfg,
                              .pvs = (const cs_pv_t *const *)r->pvs.data,
                              .pv_count = r->pvs.n,
                              .diskpools = (const cs_diskpool_ref_t *const *)r->dps.data,
                              .diskpool_count = r->dps.n,
                              .pvcs = (const cs_pvc_t *const *)r->pvcs.data,
                              .pvc_count = r->pvcs.n,
                              .namespaces = (const cs_namespace_ref_t *const *)r->namespaces.data,
                              .namespace_count = r->namespaces.n,
                              .migrations = op->migrations,
                              .policies = r->owners.refs,
                              .policy_count = r->owners.count};
    int rc = cs_gather(&src, r->name, &r->pol.spec, r->now, &r->in, &r->err);
    /* after the gather: a probe needs a Mayastor that just answered */
    if (rc == 0)
        r->in.facts.in.no_label_endpoints = !cs__op_pool_labels_served(op, r->in.obs.mayastor_ok);
    if (!r->in.obs.mayastor_ok)
        cs__op_count_error(op, "mayastor");
    if (!r->in.obs.metrics_ok)
        cs__op_count_error(op, "prometheus");
    /* Once per outage, not per reconcile: the client says which query
     * failed first after a success, and which answered first after. */
    if (r->in.obs.metrics_batch.outage_begins)
        CS_WARN("Prometheus cannot be read: every IOPS is unknown and no volume is moved until it answers", "policy",
                r->name, "error", r->in.obs.metrics_err.msg);
    else if (r->in.obs.metrics_batch.outage_ends)
        CS_INFO("Prometheus answers again", "policy", r->name);
    return rc;
}

/* ---- apply ---- */

static void cs__start_move(cs__sp_run_t *r, const cs_plan_item_t *it, const cs_pv_t *pv)
{
    const cs_plan_input_t *in = &r->in.facts.in;
    const cs_plan_volume_t *v = &in->volumes[it->volume];
    char uuid[37], detail[CS_PLAN_DETAIL_MAX];
    cs_mayastor_uuid_format(&pv->volume, uuid);
    const char *accept[32];
    size_t naccept = 0;
    for (size_t p = 0; p < in->pool_count && naccept < 32; p++)
        if (cs_plan_pool_tier(&r->pol.spec, in->pools[p].labels) == it->wanted)
            accept[naccept++] = in->pools[p].id;
    cs_mig_request_t req = {.policy = r->name,
                            .pv_name = v->name,
                            .volume = uuid,
                            .source_pool = it->source_pool >= 0 ? in->pools[it->source_pool].id : "",
                            .target_pool = in->pools[it->target_pool].id,
                            .accept_pools = accept,
                            .accept_count = naccept,
                            .from_tier = it->current,
                            .to_tier = it->wanted,
                            .trigger_iops = v->iops,
                            .placement_key = v->steering == CS_PLAN_STEER_CREATED_BY ? CS_LABEL_CREATED_BY : NULL,
                            .timeout_ms = cs_storage_policy_migration_timeout_ms(
                                &r->pol.spec, r->op->cfg->migration_timeout_minutes * 60 * 1000)};
    cs_err_t merr = {0};
    CS_INFO("starting a migration", "policy", r->name, "pv", v->name, "detail",
            cs_plan_item_detail(in, it, detail, sizeof detail));
    if (cs_migrations_start(r->op->migrations, &req, (size_t)r->pol.spec.max_concurrent_migrations,
                            (size_t)r->op->cfg->max_concurrent_migrations, pv->failures, &merr) != 0)
        CS_WARN("cannot start a migration", "pv", v->name, "error", merr.msg);
}

/* Starts the planned moves and tells people of the skips that need them.
 * Only a leader acts, and only on what Mayastor answered this time. */
static void cs__apply(cs__sp_run_t *r)
{
    if (!cs__op_is_leader(r->op) || !r->in.obs.mayastor_ok)
        return;
    for (size_t i = 0; i < r->plan.count; i++) {
        const cs_plan_item_t *it = &r->plan.items[i];
        const cs_pv_t *pv = r->in.pvs[r->in.facts.pv_of[it->volume]];
        cs_plan_event_t ev = cs_plan_reason_event(it->reason);
        if (it->action == CS_PLAN_SKIP && ev != CS_PLAN_EVENT_NONE) {
            char detail[CS_PLAN_DETAIL_MAX];
            cs__op_pv_event(r->op, pv, ev == CS_PLAN_EVENT_WARNING, cs_plan_reason_name(it->reason),
                            cs_plan_item_detail(&r->in.facts.in, it, detail, sizeof detail));
        }
        if (it->action == CS_PLAN_MOVE)
            cs__start_move(r, it, pv);
    }
}

/* ---- report ---- */

static size_t cs__blocked(const cs_plan_t *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->count; i++)
        n += cs_plan_reason_blocks(plan->items[i].reason);
    return n;
}

/* PoolLabelsConsistent: whether each pool's label sources agree on the keys
 * the pool selectors read; unchanged while Mayastor's labels are unknown. */
static void cs__report_pool_labels(cs__sp_run_t *r)
{
    const cs_plan_facts_t *f = &r->in.facts;
    if (f->label_disagreements == 0) {
        cs__set_cond(r, CS_CONDITION_POOL_LABELS, true, "PoolLabelsAgree",
                     "every pool's DiskPool and Mayastor labels agree on the keys the pool selectors read");
        return;
    }
    char why[CS_POOL_LABELS_NOTE_MAX + 256];
    snprintf(why, sizeof why,
             "the labels of %zu pools disagree; the tier is read from DiskPool metadata.labels first, then "
             "Mayastor's pool labels (REST), then spec.topology.labelled: %s",
             f->label_disagreements, f->label_note);
    cs__set_cond(r, CS_CONDITION_POOL_LABELS, false, "PoolLabelsDisagree", why);
}

/* Steerable: whether every volume of the policy can be moved, and what
 * to do about the ones that cannot (docs/operator.md, "Adopting
 * CoucheStor on an existing cluster"). */
static void cs__report_steering(cs__sp_run_t *r)
{
    const cs_plan_t *plan = &r->plan;
    size_t none = plan->steering[CS_PLAN_STEER_NONE], created_by = plan->steering[CS_PLAN_STEER_CREATED_BY];
    bool allowed = r->pol.spec.created_by_steering;
    size_t stuck = none + (allowed ? 0 : created_by);
    char why[768];
    if (stuck == 0) {
        snprintf(why, sizeof why, "every volume can be steered (%zu by the placement label, %zu by created-by)",
                 plan->steering[CS_PLAN_STEER_PLACEMENT], created_by);
        cs__set_cond(r, CS_CONDITION_STEERABLE, true, "AllSteerable", why);
        return;
    }
    int n = snprintf(why, sizeof why, "%zu of %zu volumes cannot be moved:", stuck, plan->watched);
    if (!allowed && created_by > 0 && n > 0 && (size_t)n < sizeof why)
        n += snprintf(
            why + n, sizeof why - (size_t)n,
            " %zu were created from StorageClass %s without poolHasTopologyKey: %s (set spec.createdBySteering "
            "to move them, or recreate them from a class that has it);",
            created_by, r->pol.spec.storage_class_name, CS_LABEL_PLACEMENT);
    if (none > 0 && n > 0 && (size_t)n < sizeof why)
        snprintf(why + n, sizeof why - (size_t)n,
                 " %zu have a pool topology that requires no pool label (not provisioned by Mayastor's CSI "
                 "driver): nothing can steer them;",
                 none);
    cs__set_cond(r, CS_CONDITION_STEERABLE, false, "VolumesNotSteerable", why);
}

/* OwnsSelectedVolumes: False when an older policy selects some of this
 * one's volumes (cs_plan_volume_owner): they are left to it. */
static void cs__report_ownership(cs__sp_run_t *r)
{
    const cs_plan_t *plan = &r->plan;
    if (plan->other_policy == 0) {
        cs__set_cond(r, CS_CONDITION_OWNS_VOLUMES, true, "NoOverlap", "no older StoragePolicy selects its volumes");
        return;
    }
    const char *owner = "?";
    for (size_t i = 0; i < plan->count; i++)
        if (plan->items[i].reason == CS_PLAN_REASON_OTHER_POLICY) {
            owner = r->in.facts.in.volumes[plan->items[i].volume].owner;
            break;
        }
    char why[512];
    snprintf(why, sizeof why,
             "%zu volumes it selects are also selected by an older StoragePolicy (e.g. %s), which decides for them; "
             "narrow volumeSelector or namespaceSelector to end the overlap",
             plan->other_policy, owner);
    cs__set_cond(r, CS_CONDITION_OWNS_VOLUMES, false, "OverlapsOlderPolicy", why);
}

/* MetricsAvailable (cs_metrics_verdict), and an Event on the policy when
 * its reason changes to one a person must hear of: Prometheus unreadable,
 * a metric set matching nothing, a fallback set in use. */
static void cs__report_metrics(cs__sp_run_t *r)
{
    cs_metrics_verdict_t v;
    cs_metrics_verdict(r->op->clients.prom, &r->in.obs, r->in.pv_count, &v);
    const cs_condition_t *was = cs_conditions_find(&r->st.conditions, CS_CONDITION_METRICS);
    bool changed = !was || !was->reason || strcmp(was->reason, v.reason) != 0;
    cs__set_cond(r, CS_CONDITION_METRICS, v.ok, v.reason, v.message);
    bool quiet = strcmp(v.reason, "Available") == 0 || strcmp(v.reason, "SomeSeriesMissing") == 0;
    if (!changed || quiet || !r->op->events || !cs__op_is_leader(r->op))
        return;
    cs_kube_object_ref_t ref = {
        .api_version = CS_CRD_API_VERSION, .kind = CS_STORAGE_POLICY_KIND, .name = r->name, .uid = r->pol.meta.uid};
    cs_event_record(r->op->events, &ref, v.ok ? CS_EVENT_NORMAL : CS_EVENT_WARNING, v.reason, "Observe", "%s",
                    v.message);
}

static void cs__report_conditions(cs__sp_run_t *r, const char *message)
{
    const cs_observation_t *obs = &r->in.obs;
    char why[512];
    if (obs->mayastor_ok)
        cs__set_cond(r, CS_CONDITION_READY, true, "Reconciled", message);
    else
        cs__set_cond(r, CS_CONDITION_READY, false, "MayastorUnavailable",
                     "the Mayastor API did not answer: nothing is decided until it does");
    cs__report_metrics(r);
    size_t blocked = cs__blocked(&r->plan);
    if (!obs->mayastor_ok) {
        snprintf(why, sizeof why, "Mayastor API unavailable, no volume is moved: %s", obs->mayastor_err.err.msg);
        cs__set_cond(r, "Degraded", true, "MayastorUnavailable", why);
    } else if (r->in.facts.in.no_label_endpoints) {
        cs__set_cond(r, "Degraded", true, "NoPoolLabelEndpoints",
                     "Mayastor serves no pool-label endpoints (older than 2.7.1): no volume can be steered, so none is "
                     "moved; upgrade Mayastor to 2.7.1 or newer");
    } else if (blocked > 0) {
        snprintf(why, sizeof why, "%zu volumes cannot reach their tier (see their Events)", blocked);
        cs__set_cond(r, "Degraded", true, "VolumesBlocked", why);
    } else {
        cs__set_cond(r, "Degraded", false, "AsExpected", "every volume can reach its tier");
    }
    if (obs->mayastor_ok) {
        cs__report_pool_labels(r);
        cs__report_steering(r);
    }
    cs__report_ownership(r);
}

/* Counts, phase and the message (into msg); without Mayastor nothing is
 * known, so the last counts stay. */
static void cs__report_counts(cs__sp_run_t *r, char *msg, size_t len)
{
    const cs_plan_t *plan = &r->plan;
    bool known = r->in.obs.mayastor_ok;
    r->st.phase = CS_SP_PHASE_ACTIVE;
    if (known) {
        r->st.watched_volumes = (int64_t)plan->watched;
        r->st.hot_volumes = (int64_t)plan->hot;
        r->st.warm_volumes = (int64_t)plan->warm;
        r->st.cold_volumes = (int64_t)plan->cold;
    }
    r->st.active_migrations = (int64_t)cs_migrations_active(r->op->migrations, r->name);
    snprintf(msg, len, "%zu volumes: %zu hot, %zu warm, %zu cold; %lld migrating%s", plan->watched, plan->hot,
             plan->warm, plan->cold, (long long)r->st.active_migrations,
             (r->op->cfg->dry_run || r->pol.spec.dry_run) ? " (dry run)" : "");
    const char *tiers[] = {"hot", "warm", "cold"};
    size_t counts[] = {plan->hot, plan->warm, plan->cold};
    for (int t = 0; t < 3 && known; t++) {
        const char *l[] = {r->name, tiers[t]};
        cs_metric_set(r->op->m_volumes, l, (double)counts[t]);
    }
}

/* The status of a decided reconcile: finished migrations into the history
 * (acknowledged once the status holding them is written), counts,
 * conditions; written only by a leader. */
static int cs__report(cs__sp_run_t *r)
{
    cs_migration_record_t *recs = NULL;
    size_t nrec = 0;
    cs_migrations_finished(r->op->migrations, r->name, &recs, &nrec);
    for (size_t i = 0; i < nrec; i++) {
        cs_migration_history_append(&r->st.migration_history, &recs[i], NULL);
        r->st.total_migrations++;
        if (recs[i].outcome != CS_MIGRATION_SUCCEEDED)
            r->st.failed_migrations++;
    }
    char msg[512];
    cs__report_counts(r, msg, sizeof msg);
    cs__report_conditions(r, msg);
    cs__set_message(r, msg);
    int rc = 0;
    if (cs__op_is_leader(r->op)) {
        rc = cs__write_status(r);
        if (rc == 0)
            cs_migrations_ack(r->op->migrations, r->name, nrec);
    }
    for (size_t i = 0; i < nrec; i++)
        cs_migration_record_free(&recs[i]);
    free(recs);
    return rc;
}

static void cs__observe_timings(cs__sp_run_t *r)
{
    cs__op_t *op = r->op;
    double end = cs_clock_mono_s();
    /* the lists and the query overlap (cs_observe): decide runs from the
     * end of the observation to the start of apply */
    double decided = r->t_gather + r->in.obs.seconds;
    const char *ph[] = {"list"}, *pq[] = {"query"}, *pd[] = {"decide"}, *ps[] = {"status"};
    cs_metric_observe(op->m_phase_seconds, ph, r->in.obs.list_seconds);
    cs_metric_observe(op->m_phase_seconds, pq, r->in.obs.query_seconds);
    cs_metric_observe(op->m_phase_seconds, pd, r->t_apply - decided);
    cs_metric_observe(op->m_phase_seconds, ps, end - r->t_report);
    cs_metric_observe(op->m_reconcile_seconds, NULL, end - r->t0);
    char took[32];
    snprintf(took, sizeof took, "%.3f", end - r->t0);
    CS_DEBUG("reconciled StoragePolicy", "policy", r->name, "seconds", took, (const char *)NULL);
}

/* ---- the reconcile ---- */

static int cs__decide_apply_report(cs__sp_run_t *r)
{
    int rc = cs__gather(r);
    if (rc == 0)
        rc = cs_plan_compute(&r->in.facts.in, &r->plan, &r->err);
    r->t_apply = cs_clock_mono_s();
    if (rc == 0)
        cs__apply(r);
    r->t_report = cs_clock_mono_s();
    if (rc == 0)
        rc = cs__report(r);
    cs__observe_timings(r);
    return rc;
}

static void cs__run_free(cs__sp_run_t *r)
{
    cs_plan_free(&r->plan);
    cs_gathered_free(&r->in);
    cs__op_held_free(&r->pvs);
    cs__op_held_free(&r->dps);
    cs__op_held_free(&r->pvcs);
    cs__op_held_free(&r->namespaces);
    cs__op_held_free(&r->policies);
    cs_policy_set_free(&r->owners);
    cs_storage_policy_status_free(&r->st);
    cs_storage_policy_free(&r->pol);
    cs_kube_object_unref(r->obj);
}

/* When the next reconcile should come sooner than the 60 s period: 10 s
 * after Mayastor or Prometheus did not answer (no faster: a control plane
 * that is down gets no storm), and every fifth of samplingWindow (at least
 * 5 s) while some volumes' series are too young to judge, which is how fast
 * their coverage can grow. 0: the period. */
static int64_t cs__requeue_ns(const cs__sp_run_t *r)
{
    const cs_observation_t *obs = &r->in.obs;
    if (!obs->mayastor_ok || (obs->metrics_asked && !obs->metrics_ok))
        return INT64_C(10) * CS_NSEC_PER_SEC;
    if (obs->young > 0) {
        int64_t fifth = r->pol.spec.sampling_window_ns / 5;
        return fifth > INT64_C(5) * CS_NSEC_PER_SEC ? fifth : INT64_C(5) * CS_NSEC_PER_SEC;
    }
    return 0;
}

int cs__reconcile_sp(cs__op_t *op, const char *name, int64_t *requeue_ns)
{
    cs__sp_run_t r = {.op = op, .name = name, .t0 = cs_clock_mono_s()};
    int rc;
    switch (cs__load(&r)) {
    case CS__SP_GONE: /* running migrations finish on their own */
        cs__memory_forget(op, name);
        cs_metric_remove_matching(op->m_volumes, name);
        cs_migrations_ack(op->migrations, name, SIZE_MAX);
        rc = 1;
        break;
    case CS__SP_REPORT:
        rc = cs__write_status(&r);
        break;
    case CS__SP_DECIDE:
    default:
        rc = cs__decide_apply_report(&r);
        if (rc != 0)
            CS_WARN("reconcile failed", "policy", name, "error", r.err.msg);
        else
            *requeue_ns = cs__requeue_ns(&r);
        break;
    }
    cs__run_free(&r);
    return rc;
}
