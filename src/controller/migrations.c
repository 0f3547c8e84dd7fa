/* migrations.c: migration threads, limits, Lease-gated effects. */
#include "migrations.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/clock.h"
#include "couchestor/log.h"
#include "couchestor/rfc3339.h"

#define CS__MAX_FINISHED 256
/* After a migration ends, the informer may still show its journal for a
 * moment (the watch lags our own patch): such a PV is not an orphan. */
#define CS__RECENT 64
#define CS__RECENT_MS 30000
/* A refused move is held for CS__REFUSED_HOLD_MS (the plan skips it with
 * reason REFUSED, so the next candidate gets the slot instead of the same
 * volume being refused at every reconcile), then planned again while the
 * cluster calls for it; its Event is repeated only after
 * CS__REFUSED_EVENT_MS. */
#define CS__REFUSED 256
#define CS__REFUSED_EVENT_MS (INT64_C(10) * 60 * 1000)
#define CS__REFUSED_HOLD_MS (INT64_C(5) * 60 * 1000)

typedef struct cs__run_s {
    cs_migrations_t *m;
    int previous_failures;
    char policy[254];
    char pv[254];
    bool resume;
    cs_mig_request_t req;
    char volume[40], source[128], target[128], key[254];
    char accept[CS_MIG_MAX_POOLS][128];
    const char *accept_ptrs[CS_MIG_MAX_POOLS];
    cs_mig_journal_t journal;
    pthread_t thread;
    bool done;
    struct cs__run_s *next;
} cs__run_t;

typedef struct {
    char policy[254];
    cs_migration_record_t rec;
} cs__finished_t;

struct cs_migrations_s {
    cs_migrations_options_t o;
    char placement_key[254];
    pthread_mutex_t lock;
    pthread_cond_t cond;       /* signalled on stop and when a run ends */
    pthread_mutex_t placement; /* the serialized placement window */
    atomic_int stop;
    bool refusing;
    cs__run_t *runs;
    cs__finished_t finished[CS__MAX_FINISHED];
    size_t nfinished;
    struct {
        char pv[254];
        int64_t at_ms;
    } recent[CS__RECENT];
    size_t recent_next;
    struct {
        char pv[254];
        cs_mig_refusal_t why;
        int64_t at_ms;       /* its MigrationRefused Event */
        int64_t last_ms;     /* the latest refusal for this reason */
    } refused[CS__REFUSED];  /* recent refusals, by volume and reason */
    int64_t refused_last_ms; /* the latest of them */
    size_t refused_next;
    cs_migrator_ops_t ops;
};

/* ---- effects ---- */

/* The write gate, right before each write: refuses it (CS_ECANCELED) unless
 * this replica leads with enough of its term left, and otherwise bounds
 * every request of the write by the renew deadline, so that a slow write of
 * an old leader never lands after another replica took over. A refused
 * write fails this call only: the migration returns with its journal
 * intact, and whoever leads next (maybe this replica again) resumes it.
 * Close with cs__write_end(token) after a 0. */
static int cs__write_begin(cs_migrations_t *m, int64_t *token, cs_err_t *err)
{
    return cs_lease_write_begin(m->o.elector, m->o.min_write_margin_ns, token, err);
}

static void cs__write_end(int64_t token)
{
    cs_lease_write_end(token);
}

static int cs__ms_err(const cs_mayastor_err_t *e, cs_err_t *err)
{
    cs_err_set(err, e->err.code ? e->err.code : CS_EMAYASTOR, "%s", e->err.msg);
    return e->err.code ? e->err.code : CS_EMAYASTOR;
}

static void cs__fill_volume(const cs_mayastor_volume_t *mv, cs_mig_volume_t *out)
{
    memset(out, 0, sizeof *out);
    cs_mayastor_uuid_format(&mv->uuid, out->uuid);
    out->size = mv->size;
    out->num_replicas = mv->num_replicas;
    out->online = mv->status == CS_MAYASTOR_VOLUME_ONLINE;
    out->published = mv->has_target;
    if (mv->has_target)
        cs_mayastor_uuid_format(&mv->target.uuid, out->nexus);
    for (size_t i = 0; i < mv->replica_count && out->replica_count < CS_MIG_MAX_REPLICAS; i++) {
        const cs_mayastor_replica_t *r = &mv->replicas[i];
        cs_mig_replica_t *o = &out->replicas[out->replica_count++];
        cs_mayastor_uuid_format(&r->uuid, o->uuid);
        snprintf(o->pool, sizeof o->pool, "%s", r->pool ? r->pool : "");
        snprintf(o->node, sizeof o->node, "%s", r->node ? r->node : "");
        o->online = r->state == CS_MAYASTOR_STATE_ONLINE;
        o->rebuild_progress = r->rebuild_progress;
        for (size_t c = 0; mv->has_target && c < mv->target.child_count; c++) {
            const cs_mayastor_child_t *ch = &mv->target.children[c];
            if (!cs_mayastor_uuid_eq(&ch->replica, &r->uuid))
                continue;
            o->in_nexus = true;
            o->child_online = ch->state == CS_MAYASTOR_CHILD_ONLINE;
            if (ch->rebuild_progress >= 0)
                o->rebuild_progress = ch->rebuild_progress;
            snprintf(o->child_uri, sizeof o->child_uri, "%s", ch->uri ? ch->uri : "");
        }
    }
    for (size_t i = 0; i < mv->inclusion_count && out->inclusion_count < 8; i++) {
        snprintf(out->inclusion_key[out->inclusion_count], sizeof out->inclusion_key[0], "%s", mv->inclusion[i].key);
        snprintf(out->inclusion_value[out->inclusion_count], sizeof out->inclusion_value[0], "%s",
                 mv->inclusion[i].value ? mv->inclusion[i].value : "");
        out->inclusion_count++;
    }
}

static int cs__get_volume(void *ctx, const char *uuid, cs_mig_volume_t *out, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    cs_mayastor_uuid_t id;
    if (cs_mayastor_uuid_parse(uuid, strlen(uuid), &id) != 0)
        return cs_err_set(err, CS_EINVAL, "\"%s\" is not a volume uuid", uuid);
    cs_mayastor_volumes_t vols;
    cs_mayastor_err_t me = {0};
    int rc = cs_mayastor_volume_get(m->o.mayastor, &id, &vols, &me);
    if (rc == 0 && vols.count == 1)
        cs__fill_volume(&vols.items[0], out);
    else if (rc == 0 || me.kind == CS_MAYASTOR_KIND_NOT_FOUND)
        rc = cs_err_set(err, CS_ENOTFOUND, "volume %s not found", uuid);
    else
        rc = cs__ms_err(&me, err);
    cs_mayastor_volumes_free(&vols);
    return rc;
}

static int cs__list_pools(void *ctx, const char *label_key, cs_mig_pool_t **out, size_t *count, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    cs_mayastor_pools_t pools;
    cs_mayastor_err_t me = {0};
    *out = NULL;
    *count = 0;
    int rc = cs_mayastor_pools_list(m->o.mayastor, NULL, &pools, &me);
    if (rc != 0) {
        cs_mayastor_pools_free(&pools);
        return cs__ms_err(&me, err);
    }
    *out = calloc(pools.count + 1, sizeof **out);
    if (!*out) {
        cs_mayastor_pools_free(&pools);
        return cs_err_set(err, CS_ENOMEM, "out of memory listing pools");
    }
    for (size_t i = 0; i < pools.count; i++) {
        const cs_mayastor_pool_t *p = &pools.items[i];
        cs_mig_pool_t *o = &(*out)[i];
        snprintf(o->id, sizeof o->id, "%s", p->id);
        snprintf(o->node, sizeof o->node, "%s", p->node ? p->node : "");
        o->online = p->status == CS_MAYASTOR_STATE_ONLINE;
        o->capacity = p->capacity;
        o->used = p->used;
        const char *v = cs_mayastor_pool_label(p, label_key);
        o->has_placement_label = v != NULL;
        snprintf(o->placement_value, sizeof o->placement_value, "%s", v ? v : "");
    }
    *count = pools.count;
    cs_mayastor_pools_free(&pools);
    return 0;
}

static int cs__set_replica_count(void *ctx, const char *uuid, int n, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    cs_mayastor_uuid_t id;
    if (cs_mayastor_uuid_parse(uuid, strlen(uuid), &id) != 0)
        return cs_err_set(err, CS_EINVAL, "\"%s\" is not a volume uuid", uuid);
    int64_t gate;
    if (cs__write_begin(m, &gate, err) != 0)
        return CS_ECANCELED;
    cs_mayastor_err_t me = {0};
    int rc = cs_mayastor_volume_set_replica_count(m->o.mayastor, &id, (unsigned)n, NULL, &me);
    cs__write_end(gate);
    if (rc == 0)
        return 0;
    if (me.kind == CS_MAYASTOR_KIND_FAILED_PRECONDITION) {
        /* ReplicaCountAchieved is a 412 too: tell it apart by looking. */
        cs_mig_volume_t v = {0};
        if (cs__get_volume(ctx, uuid, &v, NULL) == 0 && v.num_replicas == n)
            return cs_err_set(err, CS_ECONFLICT, "volume %s already has %d replicas", uuid, n);
    }
    return cs__ms_err(&me, err);
}

static int cs__label_put(void *ctx, const char *pool, const char *key, const char *value, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    int64_t gate;
    if (cs__write_begin(m, &gate, err) != 0)
        return CS_ECANCELED;
    cs_mayastor_err_t me = {0};
    int rc = cs_mayastor_pool_label_put(m->o.mayastor, pool, key, value, true, NULL, &me);
    cs__write_end(gate);
    if (rc != 0)
        return cs__ms_err(&me, err);
    return 0;
}

static int cs__label_delete(void *ctx, const char *pool, const char *key, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    int64_t gate;
    if (cs__write_begin(m, &gate, err) != 0)
        return CS_ECANCELED;
    cs_mayastor_err_t me = {0};
    int rc = cs_mayastor_pool_label_delete(m->o.mayastor, pool, key, NULL, &me);
    cs__write_end(gate);
    if (rc != 0) {
        if (me.kind == CS_MAYASTOR_KIND_NOT_FOUND || me.kind == CS_MAYASTOR_KIND_FAILED_PRECONDITION) {
            cs_err_set(err, CS_ENOTFOUND, "%s", me.err.msg);
            return CS_ENOTFOUND;
        }
        return cs__ms_err(&me, err);
    }
    return 0;
}

static int cs__child_delete(void *ctx, const char *nexus, const char *uri, cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    cs_mayastor_uuid_t id;
    if (cs_mayastor_uuid_parse(nexus, strlen(nexus), &id) != 0)
        return cs_err_set(err, CS_EINVAL, "\"%s\" is not a nexus uuid", nexus);
    int64_t gate;
    if (cs__write_begin(m, &gate, err) != 0)
        return CS_ECANCELED;
    cs_mayastor_err_t me = {0};
    int rc = cs_mayastor_nexus_child_delete(m->o.mayastor, &id, uri, &me);
    cs__write_end(gate);
    if (rc != 0) {
        if (me.kind == CS_MAYASTOR_KIND_NOT_FOUND) {
            cs_err_set(err, CS_ENOTFOUND, "%s", me.err.msg);
            return CS_ENOTFOUND;
        }
        return cs__ms_err(&me, err);
    }
    return 0;
}

static int cs__journal_write(void *ctx, const char *pv, const char *json, int64_t last_end, const char *last_target,
                             cs_err_t *err)
{
    cs_migrations_t *m = ctx;
    int64_t gate;
    if (cs__write_begin(m, &gate, err) != 0)
        return CS_ECANCELED;
    json_t *ann = json_object();
    json_object_set_new(ann, CS_ANNOTATION_MIGRATION, json ? json_string(json) : json_null());
    if (last_end > 0) {
        char t[32];
        json_object_set_new(ann, CS_ANNOTATION_LAST_MIGRATION, json_string(cs_rfc3339_format(last_end, t, sizeof t)));
        json_object_set_new(ann, CS_ANNOTATION_LAST_TARGET,
                            last_target && *last_target ? json_string(last_target) : json_null());
    }
    json_t *patch = json_pack("{s:{s:o}}", "metadata", "annotations", ann);
    int rc =
        patch ? cs_kube_patch(m->o.kube, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, pv, CS_KUBE_PATCH_MERGE, patch, NULL, err)
              : cs_err_set(err, CS_ENOMEM, "out of memory");
    cs__write_end(gate);
    json_decref(patch);
    /* Clearing the journal of a PV that was deleted: nothing is left to clear. */
    return rc == CS_ENOTFOUND && !json ? 0 : rc;
}

/* An Event about a PV, with its uid when the operator can tell it. */
static void cs__pv_event(cs_migrations_t *m, const char *pv, bool warning, const char *reason, const char *message)
{
    if (!m->o.events)
        return;
    char uid[64];
    cs_kube_object_ref_t ref = {.api_version = "v1", .kind = "PersistentVolume", .name = pv};
    if (m->o.pv_uid && m->o.pv_uid(m->o.ctx, pv, uid, sizeof uid) == 0)
        ref.uid = uid;
    cs_event_record(m->o.events, &ref, warning ? CS_EVENT_WARNING : CS_EVENT_NORMAL, reason, "Migrate", "%s", message);
}

static void cs__event(void *ctx, const char *pv, bool warning, const char *reason, const char *message)
{
    cs__pv_event(ctx, pv, warning, reason, message);
}

static int64_t cs__now_ms(void *ctx)
{
    return cs_clock_real_ms();
}

static int cs__sleep_ms(void *ctx, int64_t ms, const atomic_int *stop)
{
    cs_migrations_t *m = ctx;
    struct timespec until = cs_clock_deadline(CLOCK_REALTIME, ms * 1000000);
    pthread_mutex_lock(&m->lock);
    while (!(stop && atomic_load(stop)) && !atomic_load(&m->stop))
        if (pthread_cond_timedwait(&m->cond, &m->lock, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&m->lock);
    return (stop && atomic_load(stop)) || atomic_load(&m->stop);
}

static void cs__placement_lock(void *ctx)
{
    pthread_mutex_lock(&((cs_migrations_t *)ctx)->placement);
}

static void cs__placement_unlock(void *ctx)
{
    pthread_mutex_unlock(&((cs_migrations_t *)ctx)->placement);
}

/* ---- threads ---- */

static size_t cs__count_active(cs_migrations_t *m, const char *policy);

static void cs__record(cs_migrations_t *m, cs__run_t *run, const cs_mig_result_t *res)
{
    const char *status = res->outcome == CS_MIGRATION_SUCCEEDED ? "success"
                         : res->outcome == CS_MIGRATION_ABORTED ? "aborted"
                                                                : "failed";
    const char *labels[] = {status};
    cs_metric_inc(m->o.migrations_total, labels, 1);
    if (res->outcome != CS_MIGRATION_ABORTED || res->reached == CS_MIG_STEP_DONE)
        cs_metric_observe(m->o.duration, NULL, (double)res->duration_ms / 1000.0);
    /* A suspended migration (operator stopping, Lease lost) is not finished:
     * its journal resumes it. */
    if (res->outcome == CS_MIGRATION_ABORTED && res->reached != CS_MIG_STEP_DONE)
        return;
    pthread_mutex_lock(&m->lock);
    if (m->nfinished == CS__MAX_FINISHED) {
        cs_migration_record_free(&m->finished[0].rec);
        memmove(&m->finished[0], &m->finished[1], (CS__MAX_FINISHED - 1) * sizeof m->finished[0]);
        m->nfinished--;
    }
    cs__finished_t *f = &m->finished[m->nfinished++];
    memset(f, 0, sizeof *f);
    snprintf(f->policy, sizeof f->policy, "%s", run->policy);
    const cs_mig_journal_t *j = &run->journal;
    f->rec.volume_name = strdup(run->pv);
    f->rec.timestamp = cs__now_ms(m) / 1000;
    f->rec.from_tier = run->resume ? j->from_tier : run->req.from_tier;
    f->rec.to_tier = run->resume ? j->to_tier : run->req.to_tier;
    f->rec.trigger_iops = run->resume ? j->trigger_iops : run->req.trigger_iops;
    f->rec.duration_ns = res->duration_ms * 1000000;
    f->rec.outcome = res->outcome;
    f->rec.message = res->message[0] ? strdup(res->message) : NULL;
    pthread_mutex_unlock(&m->lock);
}

/* Remembers a refusal (which holds the move, cs_migrations_hold).
 * True when no MigrationRefused Event for this volume and reason was
 * recorded in the last 10 minutes. */
static bool cs__refusal_is_news(cs_migrations_t *m, const char *pv, cs_mig_refusal_t why)
{
    int64_t now = cs__now_ms(m);
    bool news = true;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < CS__REFUSED && news; i++)
        if (m->refused[i].why == why && now - m->refused[i].at_ms < CS__REFUSED_EVENT_MS &&
            strcmp(m->refused[i].pv, pv) == 0) {
            news = false;
            m->refused[i].last_ms = now;
        }
    m->refused_last_ms = now;
    if (news) {
        snprintf(m->refused[m->refused_next].pv, sizeof m->refused[0].pv, "%s", pv);
        m->refused[m->refused_next].why = why;
        m->refused[m->refused_next].at_ms = now;
        m->refused[m->refused_next].last_ms = now;
        m->refused_next = (m->refused_next + 1) % CS__REFUSED;
    }
    pthread_mutex_unlock(&m->lock);
    return news;
}

/* Unix seconds until which a move of pv is held after a refusal, or 0;
 * called with the lock held. */
static int64_t cs__refused_until(cs_migrations_t *m, const char *pv, int64_t now)
{
    /* Called for every volume of a policy: only refusals still holding
     * are compared by name. */
    int64_t since = now - CS__REFUSED_HOLD_MS, last = 0;
    for (size_t i = 0; i < CS__REFUSED && m->refused_last_ms > since; i++)
        if (m->refused[i].last_ms > since && m->refused[i].last_ms > last && strcmp(m->refused[i].pv, pv) == 0)
            last = m->refused[i].last_ms;
    return last ? (last + CS__REFUSED_HOLD_MS + 999) / 1000 : 0;
}

/* Backoff after a failed migration: 5 min doubling per failure in a row,
 * at most 6 h; a success clears it. Stored on the PV so restarts keep it. */
#define CS__BACKOFF_BASE_S INT64_C(300)
#define CS__BACKOFF_MAX_S (INT64_C(6) * 3600)

static void cs__stamp_outcome(cs_migrations_t *m, cs__run_t *run, const cs_mig_result_t *res)
{
    json_t *ann = json_object();
    if (res->outcome == CS_MIGRATION_SUCCEEDED) {
        json_object_set_new(ann, CS_ANNOTATION_FAILURES, json_null());
        json_object_set_new(ann, CS_ANNOTATION_RETRY_AFTER, json_null());
    } else {
        int n = run->previous_failures + 1;
        int64_t wait = CS__BACKOFF_BASE_S;
        for (int i = 1; i < n && wait < CS__BACKOFF_MAX_S; i++)
            wait *= 2;
        if (wait > CS__BACKOFF_MAX_S)
            wait = CS__BACKOFF_MAX_S;
        char count[16], t[32];
        snprintf(count, sizeof count, "%d", n);
        json_object_set_new(ann, CS_ANNOTATION_FAILURES, json_string(count));
        json_object_set_new(ann, CS_ANNOTATION_RETRY_AFTER,
                            json_string(cs_rfc3339_format(cs__now_ms(m) / 1000 + wait, t, sizeof t)));
    }
    json_t *patch = json_pack("{s:{s:o}}", "metadata", "annotations", ann);
    cs_err_t err = {0};
    int64_t gate;
    if (cs__write_begin(m, &gate, &err) != 0) {
        CS_WARN("the migration outcome is not recorded on the PV", "pv", run->pv, "error", err.msg);
    } else {
        if (!patch || cs_kube_patch(m->o.kube, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, run->pv, CS_KUBE_PATCH_MERGE, patch,
                                    NULL, &err) != 0)
            CS_WARN("cannot record the migration outcome on the PV", "pv", run->pv, "error", err.msg);
        cs__write_end(gate);
    }
    json_decref(patch);
}

static void *cs__run_main(void *arg)
{
    cs__run_t *run = arg;
    cs_migrations_t *m = run->m;
    cs_mig_result_t res = {0};
    cs_err_t err = {0};
    int rc = run->resume ? cs_migration_resume(&m->ops, &run->journal, m->o.poll_ms, m->o.preservation_mode, &m->stop,
                                               &res, &err)
                         : cs_migration_run(&m->ops, &run->req, &m->stop, &res, &err);
    bool refused = rc != 0 && !run->resume && res.refusal != CS_MIG_REFUSAL_NONE;
    if (refused) {
        /* Refused before any change: not a migration, so no outcome, no
         * history, no backoff; the next reconcile plans it again (when the
         * cluster still calls for it), and the Event is not repeated. */
        const char *labels[] = {cs_mig_refusal_name(res.refusal)};
        cs_metric_inc(m->o.refusals, labels, 1);
        bool news = cs__refusal_is_news(m, run->pv, res.refusal);
        cs_log(news ? CS_LOG_WARN : CS_LOG_DEBUG, "migration refused", "pv", run->pv, "policy", run->policy, "reason",
               cs_mig_refusal_name(res.refusal), "error", err.msg, (const char *)NULL);
        if (news)
            cs__pv_event(m, run->pv, true, "MigrationRefused", err.msg);
    } else if (rc != 0) {
        /* An error mid-way (API unreachable, Lease lost): the journal on
         * the PV stays, and the next reconcile resumes it. */
        CS_WARN("migration interrupted; its journal will resume it", "pv", run->pv, "policy", run->policy, "error",
                err.msg);
        res.outcome = CS_MIGRATION_ABORTED;
        res.reached = CS_MIG_STEP_ANALYZE;
        snprintf(res.message, sizeof res.message, "%s", err.msg);
    }
    if (!refused) {
        cs__record(m, run, &res);
        /* Only a real outcome moves the backoff: an operator killed or
         * stopped mid-way (resumed later as Aborted) says nothing about the
         * volume. */
        bool real = res.outcome == CS_MIGRATION_SUCCEEDED || res.outcome == CS_MIGRATION_FAILED ||
                    res.outcome == CS_MIGRATION_TIMED_OUT;
        if (real && res.reached == CS_MIG_STEP_DONE)
            cs__stamp_outcome(m, run, &res);
    }
    pthread_mutex_lock(&m->lock);
    run->done = true;
    if (!refused) { /* no journal was written: the cache cannot lag behind one */
        snprintf(m->recent[m->recent_next].pv, sizeof m->recent[0].pv, "%s", run->pv);
        m->recent[m->recent_next].at_ms = cs__now_ms(m);
        m->recent_next = (m->recent_next + 1) % CS__RECENT;
    }
    pthread_cond_broadcast(&m->cond);
    cs_metric_set(m->o.active, NULL, (double)cs__count_active(m, NULL));
    pthread_mutex_unlock(&m->lock);
    /* After a refusal nothing changed: requeueing the policy now would plan
     * the same move again at once, in a loop. */
    if (m->o.on_finished && !refused)
        m->o.on_finished(m->o.ctx, run->policy);
    return NULL;
}

/* Joins finished runs; called with the lock held. */
static void cs__reap(cs_migrations_t *m)
{
    cs__run_t **pp = &m->runs;
    while (*pp) {
        cs__run_t *r = *pp;
        if (r->done) {
            *pp = r->next;
            pthread_join(r->thread, NULL);
            free(r);
        } else {
            pp = &r->next;
        }
    }
}

static size_t cs__count_active(cs_migrations_t *m, const char *policy)
{
    size_t n = 0;
    for (cs__run_t *r = m->runs; r; r = r->next)
        n += !r->done && (!policy || strcmp(r->policy, policy) == 0);
    return n;
}

/* Starts run's thread. policy_max / global_max (0 = no limit) are checked
 * here, under the lock, so that two reconciles cannot both take the last
 * slot. Resumes pass 0: finishing started work is never refused. */
static int cs__launch(cs_migrations_t *m, cs__run_t *run, size_t policy_max, size_t global_max, cs_err_t *err)
{
    pthread_mutex_lock(&m->lock);
    cs__reap(m);
    int rc = 0;
    if (m->refusing)
        rc = cs_err_set(err, CS_ECANCELED, "the operator is stopping or not leading: no new migrations");
    for (cs__run_t *r = m->runs; r && rc == 0; r = r->next)
        if (!r->done && strcmp(r->pv, run->pv) == 0)
            rc = cs_err_set(err, CS_EBUSY, "a migration of %s is already running", run->pv);
    if (rc == 0 && policy_max && cs__count_active(m, run->policy) >= policy_max)
        rc = cs_err_set(err, CS_EBUSY, "policy '%s' already runs %zu migrations (maxConcurrentMigrations)", run->policy,
                        policy_max);
    if (rc == 0 && global_max && cs__count_active(m, NULL) >= global_max)
        rc = cs_err_set(err, CS_EBUSY, "%zu migrations already run (max_concurrent_migrations)", global_max);
    if (rc == 0) {
        run->m = m;
        if (pthread_create(&run->thread, NULL, cs__run_main, run) != 0)
            rc = cs_err_set(err, CS_ENOMEM, "cannot start a migration thread");
    }
    if (rc != 0) {
        pthread_mutex_unlock(&m->lock);
        free(run);
        return rc;
    }
    run->next = m->runs;
    m->runs = run;
    cs_metric_set(m->o.active, NULL, (double)cs__count_active(m, NULL));
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int cs_migrations_start(cs_migrations_t *m, const cs_mig_request_t *req, size_t policy_max, size_t global_max,
                        int previous_failures, cs_err_t *err)
{
    cs__run_t *run = calloc(1, sizeof *run);
    if (!run)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    run->previous_failures = previous_failures;
    snprintf(run->policy, sizeof run->policy, "%s", req->policy ? req->policy : "");
    snprintf(run->pv, sizeof run->pv, "%s", req->pv_name);
    snprintf(run->volume, sizeof run->volume, "%s", req->volume);
    snprintf(run->source, sizeof run->source, "%s", req->source_pool);
    snprintf(run->target, sizeof run->target, "%s", req->target_pool);
    snprintf(run->key, sizeof run->key, "%s", req->placement_key ? req->placement_key : m->placement_key);
    run->req = *req;
    run->req.policy = run->policy;
    run->req.pv_name = run->pv;
    run->req.volume = run->volume;
    run->req.source_pool = run->source;
    run->req.target_pool = run->target;
    run->req.placement_key = run->key;
    run->req.preservation_mode = m->o.preservation_mode;
    run->req.poll_ms = m->o.poll_ms;
    size_t n = req->accept_count < CS_MIG_MAX_POOLS ? req->accept_count : CS_MIG_MAX_POOLS;
    for (size_t i = 0; i < n; i++) {
        snprintf(run->accept[i], sizeof run->accept[i], "%s", req->accept_pools[i]);
        run->accept_ptrs[i] = run->accept[i];
    }
    run->req.accept_pools = run->accept_ptrs;
    run->req.accept_count = n;
    return cs__launch(m, run, policy_max, global_max, err);
}

int cs_migrations_resume(cs_migrations_t *m, const cs_mig_journal_t *j, cs_err_t *err)
{
    cs__run_t *run = calloc(1, sizeof *run);
    if (!run)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    run->resume = true;
    run->journal = *j;
    snprintf(run->policy, sizeof run->policy, "%s", j->policy);
    snprintf(run->pv, sizeof run->pv, "%s", j->pv_name);
    return cs__launch(m, run, 0, 0, err);
}

const cs_migrator_ops_t *cs_migrations_ops(cs_migrations_t *m)
{
    return &m->ops;
}

size_t cs_migrations_active(cs_migrations_t *m, const char *policy)
{
    pthread_mutex_lock(&m->lock);
    size_t n = cs__count_active(m, policy);
    pthread_mutex_unlock(&m->lock);
    return n;
}

/* True while a migration of pv runs, or ended less than CS__RECENT_MS ago;
 * called with the lock held. */
static bool cs__is_active(cs_migrations_t *m, const char *pv, int64_t now)
{
    for (cs__run_t *r = m->runs; r; r = r->next)
        if (!r->done && strcmp(r->pv, pv) == 0)
            return true;
    for (size_t i = 0; i < CS__RECENT; i++)
        if (m->recent[i].pv[0] && now - m->recent[i].at_ms < CS__RECENT_MS && strcmp(m->recent[i].pv, pv) == 0)
            return true;
    return false;
}

bool cs_migrations_is_active(cs_migrations_t *m, const char *pv)
{
    int64_t now = cs__now_ms(m);
    pthread_mutex_lock(&m->lock);
    bool active = cs__is_active(m, pv, now);
    pthread_mutex_unlock(&m->lock);
    return active;
}

void cs_migrations_hold(cs_migrations_t *m, const char *pv, bool *active, int64_t *refused_until)
{
    int64_t now = cs__now_ms(m);
    pthread_mutex_lock(&m->lock);
    *active = cs__is_active(m, pv, now);
    *refused_until = cs__refused_until(m, pv, now);
    pthread_mutex_unlock(&m->lock);
}

int cs_migrations_finished(cs_migrations_t *m, const char *policy, cs_migration_record_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&m->lock);
    size_t count = 0;
    for (size_t i = 0; i < m->nfinished; i++)
        count += strcmp(m->finished[i].policy, policy) == 0;
    if (count) {
        *out = calloc(count, sizeof **out);
        if (!*out) {
            pthread_mutex_unlock(&m->lock);
            return CS_ENOMEM;
        }
        for (size_t i = 0; i < m->nfinished; i++) {
            if (strcmp(m->finished[i].policy, policy) != 0)
                continue;
            cs_migration_record_t *d = &(*out)[(*n)++];
            *d = m->finished[i].rec;
            d->volume_name = m->finished[i].rec.volume_name ? strdup(m->finished[i].rec.volume_name) : NULL;
            d->message = m->finished[i].rec.message ? strdup(m->finished[i].rec.message) : NULL;
        }
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

void cs_migrations_ack(cs_migrations_t *m, const char *policy, size_t n)
{
    pthread_mutex_lock(&m->lock);
    size_t w = 0;
    for (size_t i = 0; i < m->nfinished; i++) {
        if (n > 0 && strcmp(m->finished[i].policy, policy) == 0) {
            cs_migration_record_free(&m->finished[i].rec);
            n--;
            continue;
        }
        m->finished[w++] = m->finished[i];
    }
    m->nfinished = w;
    pthread_mutex_unlock(&m->lock);
}

int cs_migrations_new(const cs_migrations_options_t *opts, cs_migrations_t **out, cs_err_t *err)
{
    *out = NULL;
    cs_migrations_t *m = calloc(1, sizeof *m);
    if (!m)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    m->o = *opts;
    snprintf(m->placement_key, sizeof m->placement_key, "%s",
             opts->placement_key ? opts->placement_key : CS_DEFAULT_PLACEMENT_KEY);
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->placement, NULL);
    pthread_cond_init(&m->cond, NULL);
    m->ops = (cs_migrator_ops_t){.ctx = m,
                                 .get_volume = cs__get_volume,
                                 .list_pools = cs__list_pools,
                                 .set_replica_count = cs__set_replica_count,
                                 .pool_label_put = cs__label_put,
                                 .pool_label_delete = cs__label_delete,
                                 .nexus_child_delete = cs__child_delete,
                                 .journal_write = cs__journal_write,
                                 .event = cs__event,
                                 .now_ms = cs__now_ms,
                                 .sleep_ms = cs__sleep_ms,
                                 .placement_lock = cs__placement_lock,
                                 .placement_unlock = cs__placement_unlock};
    *out = m;
    return 0;
}

void cs_migrations_stop_all(cs_migrations_t *m)
{
    pthread_mutex_lock(&m->lock);
    m->refusing = true;
    atomic_store(&m->stop, 1);
    pthread_cond_broadcast(&m->cond);
    for (;;) {
        bool running = false;
        for (cs__run_t *r = m->runs; r; r = r->next)
            running |= !r->done;
        if (!running)
            break;
        pthread_cond_wait(&m->cond, &m->lock);
    }
    cs__reap(m);
    pthread_mutex_unlock(&m->lock);
}

void cs_migrations_resume_starts(cs_migrations_t *m)
{
    pthread_mutex_lock(&m->lock);
    m->refusing = false;
    atomic_store(&m->stop, 0);
    pthread_mutex_unlock(&m->lock);
}

void cs_migrations_free(cs_migrations_t *m)
{
    if (!m)
        return;
    cs_migrations_stop_all(m);
    for (size_t i = 0; i < m->nfinished; i++)
        cs_migration_record_free(&m->finished[i].rec);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->placement);
    pthread_cond_destroy(&m->cond);
    free(m);
}
