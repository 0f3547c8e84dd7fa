/* migration.c: the journaled replica-migration state machine. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/log.h"
#include "couchestor/migrator.h"

/* The value written over openebs.io/created-by to exclude a pool when the
 * placement key is that label (it cannot be deleted, reference 7.1). */
#define CS__CREATED_BY CS_LABEL_CREATED_BY
#define CS__STEERED_VALUE "couchestor-steering"
#define CS__MAX_SCALE_DOWN_ATTEMPTS 3
/* How long to wait for the new replica to appear in the volume's topology. */
#define CS__PLACEMENT_WAIT_MS 10000
/* The longest migration timeout taken (a year): with it, a time plus the
 * hard cap cannot overflow. Longer ones are clamped. */
#define CS__TIMEOUT_MAX_MS (INT64_C(366) * 24 * 3600 * 1000)

/* What the driver (cs__drive) runs next. A step function returns it instead
 * of calling the next step itself, so the stack stays one step deep however
 * often a replica flaps between WAIT SYNC and SCALE DOWN. */
typedef enum {
    CS__GO_ANALYZE,          /* a fresh start */
    CS__GO_SCALE_UP,         /* open the placement window */
    CS__GO_RESUME_SCALE_UP,  /* a resume: put back the labels a stopped window left steered */
    CS__GO_VERIFY_PLACEMENT, /* find the new replica */
    CS__GO_WAIT_SYNC,
    CS__GO_SCALE_DOWN,
    CS__GO_ROLLBACK, /* rb_outcome and rb_why say how it ends */
    CS__GO_ABANDON,  /* a resume before anything changed */
    CS__GO_END,      /* rc is what the public call returns */
} cs__go_t;

typedef struct {
    const cs_migrator_ops_t *ops;
    cs_mig_journal_t j;
    int64_t poll_ms;
    bool preserve;
    const atomic_int *stop;
    cs_mig_result_t *res;
    int rc;
    /* Set by the step that decided to roll back; read once the rollback
     * starts (a resumed rollback has its reason in j.failure already). */
    cs_migration_outcome_t rb_outcome;
    char rb_why[256];
} cs__mig_t;

static const cs_mig_replica_t *cs__replica(const cs_mig_volume_t *v, const char *uuid)
{
    for (size_t i = 0; i < v->replica_count; i++)
        if (strcmp(v->replicas[i].uuid, uuid) == 0)
            return &v->replicas[i];
    return NULL;
}

static bool cs__healthy(const cs_mig_replica_t *r)
{
    return r->online && r->in_nexus && r->child_online && (r->rebuild_progress < 0 || r->rebuild_progress >= 100);
}

static int cs__healthy_count(const cs_mig_volume_t *v)
{
    int n = 0;
    for (size_t i = 0; i < v->replica_count; i++)
        n += cs__healthy(&v->replicas[i]);
    return n;
}

static bool cs__was_before(const cs_mig_journal_t *j, const char *uuid)
{
    for (size_t i = 0; i < j->before_count; i++)
        if (strcmp(j->before[i], uuid) == 0)
            return true;
    return false;
}

static bool cs__acceptable(const cs_mig_journal_t *j, const char *pool)
{
    if (strcmp(pool, j->target_pool) == 0)
        return true;
    for (size_t i = 0; i < j->accept_count; i++)
        if (strcmp(j->accept[i], pool) == 0)
            return true;
    return false;
}

static void cs__event(cs__mig_t *m, bool warning, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cs__event(cs__mig_t *m, bool warning, const char *reason, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_log(warning ? CS_LOG_WARN : CS_LOG_INFO, msg, "pv", m->j.pv_name, "reason", reason, "step",
           cs_mig_step_name(m->j.step), (const char *)NULL);
    if (m->ops->event)
        m->ops->event(m->ops->ctx, m->j.pv_name, warning, reason, msg);
}

static int cs__save(cs__mig_t *m, cs_err_t *err)
{
    char *text;
    int rc = cs_mig_journal_encode(&m->j, &text, err);
    if (rc != 0)
        return rc;
    rc = m->ops->journal_write(m->ops->ctx, m->j.pv_name, text, 0, NULL, err);
    free(text);
    if (rc != 0)
        cs_err_prefix(err, "writing the migration journal of %s: ", m->j.pv_name);
    return rc;
}

const char *cs_mig_refusal_name(cs_mig_refusal_t r)
{
    switch (r) {
    case CS_MIG_REFUSAL_NONE:
        break;
    case CS_MIG_REFUSAL_UNPUBLISHED:
        return "unpublished";
    case CS_MIG_REFUSAL_VOLUME_NOT_ONLINE:
        return "volume_not_online";
    case CS_MIG_REFUSAL_DEGRADED:
        return "degraded";
    case CS_MIG_REFUSAL_REPLICA_LIMIT:
        return "replica_limit";
    case CS_MIG_REFUSAL_NOT_STEERABLE:
        return "not_steerable";
    case CS_MIG_REFUSAL_NO_SOURCE_REPLICA:
        return "no_source_replica";
    case CS_MIG_REFUSAL_TARGET_MISSING:
        return "target_missing";
    case CS_MIG_REFUSAL_TARGET_NOT_ONLINE:
        return "target_not_online";
    case CS_MIG_REFUSAL_TARGET_FULL:
        return "target_full";
    case CS_MIG_REFUSAL_TARGET_NODE_HAS_REPLICA:
        return "target_node_has_replica";
    case CS_MIG_REFUSAL_COUNT_:
        break;
    }
    return "none";
}

/* A refusal: nothing has been changed; err says why. */
static int cs__refuse(cs__mig_t *m, cs_mig_refusal_t why, int code, cs_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int cs__refuse(cs__mig_t *m, cs_mig_refusal_t why, int code, cs_err_t *err, const char *fmt, ...)
{
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    m->res->refusal = why;
    return cs_err_set(err, code, "%s", msg);
}

static bool cs__stopped(const cs__mig_t *m)
{
    return m->stop && atomic_load(m->stop);
}

/* Ends the migration: removes the journal (with the cooldown stamp when it
 * succeeded) and fills the result. */
static int cs__finish(cs__mig_t *m, cs_migration_outcome_t outcome, const char *message, cs_err_t *err)
{
    int64_t now = m->ops->now_ms(m->ops->ctx);
    int64_t end_s = outcome == CS_MIGRATION_SUCCEEDED ? now / 1000 : 0;
    int rc = m->ops->journal_write(m->ops->ctx, m->j.pv_name, NULL, end_s, m->j.target_pool, err);
    if (rc != 0)
        return cs_err_prefix(err, "clearing the migration journal of %s: ", m->j.pv_name);
    m->j.step = CS_MIG_STEP_DONE;
    m->res->outcome = outcome;
    m->res->duration_ms = now - m->j.started_ms;
    snprintf(m->res->message, sizeof m->res->message, "%s", message ? message : "");
    return 0;
}

/* Stops for a later resume: the journal stays as it is. */
static int cs__suspend(cs__mig_t *m)
{
    m->res->outcome = CS_MIGRATION_ABORTED;
    m->res->reached = m->j.step;
    m->res->duration_ms = m->ops->now_ms(m->ops->ctx) - m->j.started_ms;
    snprintf(m->res->message, sizeof m->res->message, "stopped in step %s; the journal on %s resumes it",
             cs_mig_step_name(m->j.step), m->j.pv_name);
    return 0;
}

/* Puts back the placement labels the journal says were removed, each with
 * its own value. Idempotent: putting a label that is already there with the
 * same value is a no-op; a pool that no longer exists needs nothing. The
 * pools that could not be restored stay in the journal. */
static int cs__restore_labels(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    size_t kept = 0;
    char failed[256] = "";
    int rc = 0;
    for (size_t i = 0; i < m->j.steered_count; i++) {
        cs_err_t e = {0};
        int r = ops->pool_label_put(ops->ctx, m->j.steered[i], m->j.placement_key, m->j.steered_value[i], &e);
        if (r == 0 || r == CS_ENOTFOUND)
            continue;
        if (rc == 0) {
            rc = r;
            cs_err_set(err, r, "%s", e.msg);
        }
        size_t n = strlen(failed);
        snprintf(failed + n, sizeof failed - n, "%s%s", n ? ", " : "", m->j.steered[i]);
        if (kept != i) {
            memcpy(m->j.steered[kept], m->j.steered[i], sizeof m->j.steered[0]);
            memcpy(m->j.steered_value[kept], m->j.steered_value[i], sizeof m->j.steered_value[0]);
        }
        kept++;
    }
    m->j.steered_count = kept;
    if (rc != 0)
        return cs_err_prefix(err,
                             "%s: the placement label %s is still missing on pool(s) %s (the journal keeps them "
                             "for a retry): ",
                             m->j.pv_name, m->j.placement_key, failed);
    return 0;
}

/* Healthy replicas of v other than `except` (NULL: all). */
static int cs__healthy_without(const cs_mig_volume_t *v, const char *except)
{
    int n = 0;
    for (size_t i = 0; i < v->replica_count; i++)
        if (!except || strcmp(v->replicas[i].uuid, except) != 0)
            n += cs__healthy(&v->replicas[i]);
    return n;
}

static int cs__get_volume(cs__mig_t *m, cs_mig_volume_t *v, cs_err_t *err)
{
    int rc = m->ops->get_volume(m->ops->ctx, m->j.volume, v, err);
    if (rc != 0)
        cs_err_prefix(err, "volume %s: ", m->j.volume);
    return rc;
}

/* The hard cap of the migration, from its start. */
static int64_t cs__cap_ms(const cs_mig_journal_t *j)
{
    return j->timeout_ms * CS_MIG_HARD_CAP_FACTOR;
}

/* When the wait for the rebuild ends: the migration timeout after the last
 * progress, or the hard cap after the start, whichever comes first. *capped
 * says which. (Both terms are bounded by the journal decoder and the
 * request, so the sums cannot overflow.) */
static int64_t cs__deadline(const cs_mig_journal_t *j, bool *capped)
{
    int64_t stall = j->progress_ms + j->timeout_ms;
    int64_t cap = j->started_ms + cs__cap_ms(j);
    *capped = cap <= stall;
    return *capped ? cap : stall;
}

/* What v says of the rebuild: the new replica's progress (100 once in sync,
 * -1 when none is reported or the replica is missing) and the healthy
 * replicas. */
static void cs__rebuild_state(const cs__mig_t *m, const cs_mig_volume_t *v, int *progress, int *healthy)
{
    const cs_mig_replica_t *nr = m->j.new_replica[0] ? cs__replica(v, m->j.new_replica) : NULL;
    *progress = !nr ? -1 : cs__healthy(nr) ? 100 : nr->rebuild_progress;
    *healthy = cs__healthy_count(v);
}

/* Records a look at the volume: true when the rebuild progressed since the
 * last look (the new replica's progress went up, or more replicas are
 * healthy), which restarts the stall timeout. A rebuild that starts over
 * (lower progress) is remembered but is not progress. Only memory is
 * changed; the caller journals it. */
static bool cs__progressed(cs__mig_t *m, const cs_mig_volume_t *v, int64_t now)
{
    int progress, healthy;
    cs__rebuild_state(m, v, &progress, &healthy);
    bool better = progress > m->j.last_progress || healthy > m->j.last_healthy;
    m->j.last_progress = progress;
    m->j.last_healthy = healthy;
    if (better)
        m->j.progress_ms = now;
    return better;
}

/* Journals a progress so that a resume keeps counting from it. Progress is
 * an integer percent or a replica count, so this writes at most about a
 * hundred times per rebuild. A failed write only costs a resume some of its
 * stall time (it counts from an older progress), so it is not fatal. */
static void cs__save_progress(cs__mig_t *m)
{
    cs_err_t e = {0};
    if (cs__save(m, &e) != 0)
        CS_WARN("journaling the rebuild progress failed", "pv", m->j.pv_name, "error", e.msg);
}

/* The migration is over for this call (finished, suspended or failed):
 * rc is what cs_migration_run or cs_migration_resume returns. */
static cs__go_t cs__end(cs__mig_t *m, int rc)
{
    m->rc = rc;
    return CS__GO_END;
}

static cs__go_t cs__to_rollback(cs__mig_t *m, cs_migration_outcome_t outcome, const char *why)
{
    m->rb_outcome = outcome;
    snprintf(m->rb_why, sizeof m->rb_why, "%s", why);
    return CS__GO_ROLLBACK;
}

/* The rollback keeps the new replica: the volume needs it. */
static cs__go_t cs__rollback_kept(cs__mig_t *m, const char *msg, cs_err_t *err)
{
    cs__event(m, true, "MigrationRollbackKept", "%s", msg);
    return cs__end(m, cs__finish(m, CS_MIGRATION_FAILED, msg, err));
}

/* One attempt to remove the new replica. CS__GO_ROLLBACK: it is still
 * there, try again after a poll. */
static cs__go_t cs__rollback_attempt(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    cs_mig_volume_t v;
    int rc = cs__get_volume(m, &v, err);
    if (rc != 0)
        return cs__end(m, rc);
    const cs_mig_replica_t *nr = m->j.new_replica[0] ? cs__replica(&v, m->j.new_replica) : NULL;
    if (!nr && v.num_replicas <= m->j.replicas_before)
        return cs__end(m, cs__finish(m, m->rb_outcome, m->j.failure, err));
    char msg[256];
    if (nr && v.num_replicas <= m->j.replicas_before) {
        snprintf(msg, sizeof msg, "%s; the control plane removed another replica, so the new replica %s is kept",
                 m->j.failure, m->j.new_replica);
        return cs__rollback_kept(m, msg, err);
    }
    if (nr && cs__healthy(nr) && cs__healthy_without(&v, nr->uuid) < m->j.healthy_before) {
        snprintf(msg, sizeof msg,
                 "%s; the new replica %s is kept: without it the volume would have %d healthy "
                 "replicas, fewer than the %d it had",
                 m->j.failure, nr->uuid, cs__healthy_without(&v, nr->uuid), m->j.healthy_before);
        return cs__rollback_kept(m, msg, err);
    }
    if (nr && nr->in_nexus && nr->child_uri[0] && v.nexus[0])
        ops->nexus_child_delete(ops->ctx, v.nexus, nr->child_uri, err);
    if (v.num_replicas > m->j.replicas_before) {
        rc = ops->set_replica_count(ops->ctx, m->j.volume, m->j.replicas_before, err);
        if (rc != 0 && rc != CS_ECONFLICT)
            CS_WARN("rollback: lowering replica_count failed", "pv", m->j.pv_name, "error", err ? err->msg : "");
    }
    rc = cs__get_volume(m, &v, err);
    if (rc != 0)
        return cs__end(m, rc);
    nr = m->j.new_replica[0] ? cs__replica(&v, m->j.new_replica) : NULL;
    if (!nr && v.num_replicas <= m->j.replicas_before)
        return cs__end(m, cs__finish(m, m->rb_outcome, m->j.failure, err));
    return CS__GO_ROLLBACK;
}

/* ROLLBACK: removes the new replica again: detaching its child makes it the
 * first victim of the decrease (reference 7.4). Never removes a replica the
 * volume needs: when the new one is healthy and taking it away would leave
 * fewer healthy replicas than before the migration, every replica is kept
 * and the migration ends Failed with a message saying so. */
static cs__go_t cs__rollback(cs__mig_t *m, cs_err_t *err)
{
    if (m->j.step != CS_MIG_STEP_ROLLBACK) {
        snprintf(m->j.failure, sizeof m->j.failure, "%s", m->rb_why);
        m->j.step = CS_MIG_STEP_ROLLBACK;
        int rc = cs__save(m, err);
        if (rc != 0)
            return cs__end(m, rc);
        cs__event(m, true, "MigrationRollback", "rolling back the migration of %s: %s", m->j.pv_name, m->rb_why);
    }
    for (int attempt = 0; attempt < CS__MAX_SCALE_DOWN_ATTEMPTS; attempt++) {
        if (cs__stopped(m))
            return cs__end(m, cs__suspend(m));
        cs__go_t go = cs__rollback_attempt(m, err);
        if (go != CS__GO_ROLLBACK)
            return go;
        if (m->ops->sleep_ms(m->ops->ctx, m->poll_ms, m->stop))
            return cs__end(m, cs__suspend(m));
    }
    /* The journal stays in ROLLBACK: the next resume tries again. */
    cs__event(m, true, "MigrationRollbackPending",
              "the new replica %s could not be removed after %d attempts; retrying later", m->j.new_replica,
              CS__MAX_SCALE_DOWN_ATTEMPTS);
    return cs__end(
        m, cs_err_set(err, CS_EMIGRATION_FAILED,
                      "volume %s: the new replica %s could not be removed after %d attempts; the journal keeps the "
                      "rollback pending",
                      m->j.pv_name, m->j.new_replica, CS__MAX_SCALE_DOWN_ATTEMPTS));
}

/* Another replica is unhealthy: removing the old one now would leave fewer
 * healthy replicas than before. Wait, bounded as WAIT SYNC is: the migration
 * timeout from the last progress (a replica healing), under the hard cap. */
static cs__go_t cs__scale_down_wait(cs__mig_t *m, const cs_mig_volume_t *v, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    int64_t now = ops->now_ms(ops->ctx);
    if (cs__progressed(m, v, now))
        cs__save_progress(m);
    bool capped;
    if (now >= cs__deadline(&m->j, &capped)) {
        char why[256];
        snprintf(why, sizeof why,
                 "the volume has too few healthy replicas to remove the old one %s; "
                 "every replica is kept (%d)",
                 m->j.old_replica, v->num_replicas);
        cs__event(m, true, "MigrationScaleDownFailed", "%s", why);
        return cs__end(m, cs__finish(m, CS_MIGRATION_FAILED, why, err));
    }
    if (ops->sleep_ms(ops->ctx, m->poll_ms, m->stop))
        return cs__end(m, cs__suspend(m));
    return CS__GO_SCALE_DOWN;
}

/* One decrease: the attempt is counted (and journaled) before it is made,
 * so a resume never makes more than CS__MAX_SCALE_DOWN_ATTEMPTS. */
static cs__go_t cs__scale_down_attempt(cs__mig_t *m, const cs_mig_volume_t *v, const cs_mig_replica_t *old,
                                       cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    m->j.scale_down_attempts++;
    int rc = cs__save(m, err);
    if (rc != 0)
        return cs__end(m, rc);
    /* Detach the old child just before the decrease: it becomes the
     * first victim. The hot-spare reconciler would re-attach it within
     * its period, hence "immediately" (reference 7.4). */
    if (old && old->in_nexus && old->child_uri[0] && v->nexus[0]) {
        rc = ops->nexus_child_delete(ops->ctx, v->nexus, old->child_uri, err);
        if (rc != 0 && rc != CS_ENOTFOUND)
            CS_WARN("detaching the old replica failed", "pv", m->j.pv_name, "error", err ? err->msg : "");
    }
    if (v->num_replicas > m->j.replicas_before) {
        rc = ops->set_replica_count(ops->ctx, m->j.volume, m->j.replicas_before, err);
        if (rc != 0 && rc != CS_ECONFLICT)
            CS_WARN("lowering replica_count failed", "pv", m->j.pv_name, "error", err ? err->msg : "");
    }
    if (ops->sleep_ms(ops->ctx, m->poll_ms > 1000 ? 1000 : m->poll_ms, m->stop))
        return cs__end(m, cs__suspend(m));
    return CS__GO_SCALE_DOWN;
}

/* One look at the volume during SCALE DOWN. CS__GO_SCALE_DOWN: look again. */
static cs__go_t cs__scale_down_poll(cs__mig_t *m, cs_err_t *err)
{
    cs_mig_volume_t v;
    int rc = cs__get_volume(m, &v, err);
    if (rc != 0)
        return cs__end(m, rc);
    const cs_mig_replica_t *old = cs__replica(&v, m->j.old_replica);
    const cs_mig_replica_t *nr = cs__replica(&v, m->j.new_replica);
    if (!old && nr && v.num_replicas <= m->j.replicas_before) {
        cs__event(m, false, "MigrationCompleted", "%s moved from %s pool %s to %s pool %s", m->j.pv_name,
                  cs_tier_name(m->j.from_tier), m->j.source_pool, cs_tier_name(m->j.to_tier), m->j.target_pool);
        return cs__end(m, cs__finish(m, CS_MIGRATION_SUCCEEDED, NULL, err));
    }
    if (!nr) {
        /* The control plane removed the new replica, not the old one. The
         * volume has its old replicas, so nothing is lost, but the move
         * did not happen. */
        char why[256];
        snprintf(why, sizeof why, "the control plane removed the new replica %s instead of the old one %s",
                 m->j.new_replica, m->j.old_replica);
        cs__event(m, true, "MigrationWrongVictim", "%s", why);
        return cs__end(m, cs__finish(m, CS_MIGRATION_FAILED, why, err));
    }
    if (!cs__healthy(nr)) {
        /* The new replica is not (or no longer) in sync: wait for it
         * again rather than remove the old one. */
        m->j.step = CS_MIG_STEP_WAIT_SYNC;
        if ((rc = cs__save(m, err)) != 0)
            return cs__end(m, rc);
        return CS__GO_WAIT_SYNC;
    }
    if (old && cs__healthy_without(&v, old->uuid) < m->j.healthy_before)
        return cs__scale_down_wait(m, &v, err);
    return cs__scale_down_attempt(m, &v, old, err);
}

/* SCALE DOWN: remove the old replica, verifying it is the one that went. */
static cs__go_t cs__scale_down(cs__mig_t *m, cs_err_t *err)
{
    if (m->j.step != CS_MIG_STEP_SCALE_DOWN) {
        m->j.step = CS_MIG_STEP_SCALE_DOWN;
        int rc = cs__save(m, err);
        if (rc != 0)
            return cs__end(m, rc);
    }
    while (m->j.scale_down_attempts < CS__MAX_SCALE_DOWN_ATTEMPTS) {
        if (cs__stopped(m))
            return cs__end(m, cs__suspend(m));
        cs__go_t go = cs__scale_down_poll(m, err);
        if (go != CS__GO_SCALE_DOWN)
            return go;
    }
    char why[256];
    snprintf(why, sizeof why, "the old replica %s was still attached after %d scale-down attempts", m->j.old_replica,
             CS__MAX_SCALE_DOWN_ATTEMPTS);
    cs__event(m, true, "MigrationScaleDownFailed", "%s; the volume keeps %d replicas", why, m->j.replicas_before + 1);
    /* The extra replica is healthy: keeping it loses nothing. Record the
     * failure and clear the journal so a person can decide. */
    return cs__end(m, cs__finish(m, CS_MIGRATION_FAILED, why, err));
}

/* The wait for the rebuild ended during WAIT SYNC: no progress for the
 * migration timeout, or the hard cap (capped). nr: the new replica as last
 * seen, NULL when the volume could not be read. */
static cs__go_t cs__sync_timed_out(cs__mig_t *m, const cs_mig_replica_t *nr, bool capped, cs_err_t *err)
{
    char why[256], when[160];
    long long timeout_s = (long long)(m->j.timeout_ms / 1000);
    if (capped)
        snprintf(when, sizeof when, "by the hard cap of %lld s (%d x the migration timeout of %lld s)",
                 (long long)(cs__cap_ms(&m->j) / 1000), CS_MIG_HARD_CAP_FACTOR, timeout_s);
    else
        snprintf(when, sizeof when, "and made no progress for the migration timeout of %lld s", timeout_s);
    if (nr && cs__healthy(nr)) {
        /* The new replica is in sync; the volume is not Online because
         * of another replica. Removing either would cost a healthy one. */
        snprintf(why, sizeof why,
                 "the new replica %s is in sync but the volume was not Online %s; every replica is kept", nr->uuid,
                 when);
        cs__event(m, true, "MigrationTimedOut", "%s", why);
        return cs__end(m, cs__finish(m, CS_MIGRATION_TIMED_OUT, why, err));
    }
    if (m->j.last_progress >= 0)
        snprintf(why, sizeof why, "the new replica was not in sync %s (rebuild at %d%%)", when, m->j.last_progress);
    else
        snprintf(why, sizeof why, "the new replica was not in sync %s (no rebuild progress reported)", when);
    return cs__to_rollback(m, CS_MIGRATION_TIMED_OUT, why);
}

/* The new replica is in sync: done in preservation mode, else scale down. */
static cs__go_t cs__synced(cs__mig_t *m, cs_err_t *err)
{
    if (!m->preserve)
        return CS__GO_SCALE_DOWN;
    cs__event(m, false, "MigrationCompleted",
              "%s now has a replica on %s pool %s; the old replica %s is kept (preservation mode)", m->j.pv_name,
              cs_tier_name(m->j.to_tier), m->j.target_pool, m->j.old_replica);
    return cs__end(m, cs__finish(m, CS_MIGRATION_SUCCEEDED, NULL, err));
}

/* WAIT SYNC: poll until the new replica is in sync and the volume Online. */
static cs__go_t cs__wait_sync(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    for (;;) {
        if (cs__stopped(m))
            return cs__end(m, cs__suspend(m));
        int64_t now = ops->now_ms(ops->ctx);
        cs_mig_volume_t v;
        memset(&v, 0, sizeof v);
        int rc = cs__get_volume(m, &v, err);
        if (rc == CS_ENOTFOUND) {
            /* Deleted (the PV and its claim with it, as a rule): nothing
             * is left to move or to roll back, and its slot is freed now,
             * not when the timeout would come. */
            cs__event(m, true, "MigrationAborted", "the volume was deleted while its new replica was rebuilding");
            return cs__end(m, cs__finish(m, CS_MIGRATION_ABORTED, "the volume was deleted during the migration", err));
        }
        if (rc != 0) {
            /* A flaky API is not a failed rebuild: retry until the deadline. */
            CS_WARN("reading the volume during sync failed", "pv", m->j.pv_name, "error", err ? err->msg : "");
        } else {
            const cs_mig_replica_t *nr = cs__replica(&v, m->j.new_replica);
            if (!nr)
                return cs__to_rollback(m, CS_MIGRATION_FAILED, "the new replica disappeared while rebuilding");
            bool better = cs__progressed(m, &v, now);
            if (cs__healthy(nr) && v.online) {
                /* The next step's journal write (or the clear) carries the progress. */
                cs__event(m, false, "MigrationSynced", "new replica %s on pool %s is in sync", nr->uuid, nr->pool);
                return cs__synced(m, err);
            }
            if (better)
                cs__save_progress(m);
        }
        bool capped;
        int64_t deadline = cs__deadline(&m->j, &capped);
        if (now >= deadline)
            return cs__sync_timed_out(m, rc == 0 ? cs__replica(&v, m->j.new_replica) : NULL, capped, err);
        int64_t left = deadline - now;
        if (ops->sleep_ms(ops->ctx, m->poll_ms < left ? m->poll_ms : left, m->stop))
            return cs__end(m, cs__suspend(m));
    }
}

/* After the increase: find the new replica and check where it landed. */
static cs__go_t cs__verify_placement(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    int64_t deadline = ops->now_ms(ops->ctx) + CS__PLACEMENT_WAIT_MS;
    for (;;) {
        cs_mig_volume_t v;
        int rc = cs__get_volume(m, &v, err);
        if (rc != 0)
            return cs__end(m, rc);
        if (v.num_replicas <= m->j.replicas_before)
            return cs__end(m, cs__finish(m, CS_MIGRATION_ABORTED, "replica_count was never raised", err));
        for (size_t i = 0; i < v.replica_count; i++) {
            const cs_mig_replica_t *r = &v.replicas[i];
            if (cs__was_before(&m->j, r->uuid))
                continue;
            snprintf(m->j.new_replica, sizeof m->j.new_replica, "%s", r->uuid);
            if (!cs__acceptable(&m->j, r->pool)) {
                char why[256];
                snprintf(why, sizeof why, "the control plane placed the new replica on pool %s, not on a %s pool",
                         r->pool, cs_tier_name(m->j.to_tier));
                return cs__to_rollback(m, CS_MIGRATION_FAILED, why);
            }
            m->j.step = CS_MIG_STEP_WAIT_SYNC;
            /* The stall timeout starts with the replica: what it shows now is the baseline. */
            cs__rebuild_state(m, &v, &m->j.last_progress, &m->j.last_healthy);
            m->j.progress_ms = ops->now_ms(ops->ctx);
            if ((rc = cs__save(m, err)) != 0)
                return cs__end(m, rc);
            cs__event(m, false, "MigrationReplicaAdded", "new replica %s placed on pool %s; waiting for its rebuild",
                      r->uuid, r->pool);
            return CS__GO_WAIT_SYNC;
        }
        if (ops->now_ms(ops->ctx) >= deadline)
            return cs__to_rollback(m, CS_MIGRATION_FAILED, "replica_count was raised but no new replica appeared");
        if (ops->sleep_ms(ops->ctx, 200, m->stop))
            return cs__end(m, cs__suspend(m));
    }
}

/* Lists the pools that carry the placement label and records every one but
 * the target in the journal (steered). Called inside the placement window,
 * so two migrations never see each other's half-steered pools. On failure
 * nothing is recorded. */
static int cs__plan_steering(cs__mig_t *m, bool *target_labelled, cs_err_t *err)
{
    cs_mig_pool_t *pools = NULL;
    size_t npools = 0;
    int rc = m->ops->list_pools(m->ops->ctx, m->j.placement_key, &pools, &npools, err);
    if (rc != 0)
        return cs_err_prefix(err, "%s: listing pools: ", m->j.pv_name);
    *target_labelled = false;
    m->j.steered_count = 0;
    for (size_t i = 0; i < npools && rc == 0; i++) {
        if (!pools[i].has_placement_label)
            continue;
        if (strcmp(pools[i].id, m->j.target_pool) == 0) {
            *target_labelled = true;
            continue;
        }
        if (m->j.steered_count == CS_MIG_MAX_POOLS) {
            rc = cs__refuse(m, CS_MIG_REFUSAL_NOT_STEERABLE, CS_EMIGRATION_FAILED, err,
                            "%s: more than %d pools carry %s; this operator steers at most %d", m->j.pv_name,
                            CS_MIG_MAX_POOLS, m->j.placement_key, CS_MIG_MAX_POOLS);
            break;
        }
        snprintf(m->j.steered[m->j.steered_count], sizeof m->j.steered[0], "%s", pools[i].id);
        snprintf(m->j.steered_value[m->j.steered_count], sizeof m->j.steered_value[0], "%s", pools[i].placement_value);
        m->j.steered_count++;
    }
    free(pools);
    if (rc != 0)
        m->j.steered_count = 0;
    return rc;
}

/* Leaves the placement label on the target pool only and raises
 * replica_count by one. Returns the first failure; labels already changed
 * are the caller's to restore. */
static int cs__steer_and_raise(cs__mig_t *m, bool target_labelled, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    bool created_by = strcmp(m->j.placement_key, CS__CREATED_BY) == 0;
    int rc = 0;
    if (!target_labelled)
        rc = ops->pool_label_put(ops->ctx, m->j.target_pool, m->j.placement_key,
                                 m->j.placement_value[0] ? m->j.placement_value : CS_LABEL_PLACEMENT_VALUE, err);
    for (size_t i = 0; rc == 0 && i < m->j.steered_count; i++) {
        if (created_by)
            rc = ops->pool_label_put(ops->ctx, m->j.steered[i], m->j.placement_key, CS__STEERED_VALUE, err);
        else {
            rc = ops->pool_label_delete(ops->ctx, m->j.steered[i], m->j.placement_key, err);
            if (rc == CS_ENOTFOUND)
                rc = 0;
        }
    }
    if (rc != 0)
        return rc;
    rc = ops->set_replica_count(ops->ctx, m->j.volume, m->j.replicas_before + 1, err);
    return rc == CS_ECONFLICT ? 0 : rc; /* CONFLICT: already n+1 */
}

/* After the placement window closed: up is how raising replica_count went. */
static cs__go_t cs__raised(cs__mig_t *m, int up, cs_err_t *err)
{
    if (up == CS_EUNAVAILABLE || up == CS_ETIMEOUT || up == CS_ECANCELED) {
        /* No definite answer: the increase may still happen. The journal
         * stays at SCALE_UP; a resume looks at the volume again. */
        return cs__end(m, up);
    }
    if (up != 0) {
        char why[256];
        snprintf(why, sizeof why, "raising replica_count failed: %s", err ? err->msg : "");
        cs__event(m, true, "MigrationFailed", "%s", why);
        cs_mig_volume_t v;
        if (cs__get_volume(m, &v, err) == 0 && v.num_replicas <= m->j.replicas_before)
            return cs__end(m, cs__finish(m, CS_MIGRATION_FAILED, why, err));
        /* It went up after all: check where the replica landed. */
    }
    return CS__GO_VERIFY_PLACEMENT;
}

/* SCALE UP, the placement window: only the target pool keeps the placement
 * label while replica_count goes up by one. */
static cs__go_t cs__scale_up(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    ops->placement_lock(ops->ctx);
    bool target_labelled = false;
    int rc = cs__plan_steering(m, &target_labelled, err);
    if (rc == 0) {
        m->j.step = CS_MIG_STEP_SCALE_UP;
        rc = cs__save(m, err); /* the pools to restore are durable before any is touched */
        if (rc != 0)
            m->j.steered_count = 0;
    }
    if (rc != 0) {
        ops->placement_unlock(ops->ctx);
        return cs__end(m, rc);
    }
    cs__event(m, false, "MigrationStarted", "moving %s from %s pool %s to %s pool %s (IOPS %.1f)", m->j.pv_name,
              cs_tier_name(m->j.from_tier), m->j.source_pool, cs_tier_name(m->j.to_tier), m->j.target_pool,
              m->j.trigger_iops);
    int up = cs__steer_and_raise(m, target_labelled, err);
    cs_err_t rerr = {0};
    int restored = cs__restore_labels(m, &rerr);
    int saved = cs__save(m, restored == 0 ? &rerr : NULL); /* the restored pools leave the journal */
    ops->placement_unlock(ops->ctx);
    if (restored != 0 || saved != 0) {
        /* The journal still lists the pools left to restore: a resume does. */
        cs_err_set(err, restored ? restored : saved, "%s", rerr.msg);
        return cs__end(m, restored ? restored : saved);
    }
    return cs__raised(m, up, err);
}

/* A resume of SCALE UP: the window may have stopped with pools steered. */
static cs__go_t cs__resume_scale_up(cs__mig_t *m, cs_err_t *err)
{
    const cs_migrator_ops_t *ops = m->ops;
    ops->placement_lock(ops->ctx);
    int rc = cs__restore_labels(m, err);
    ops->placement_unlock(ops->ctx);
    if (rc == 0)
        rc = cs__save(m, err);
    return rc == 0 ? CS__GO_VERIFY_PLACEMENT : cs__end(m, rc);
}

/* The ANALYZE checks of the volume; fills the journal's picture of it. */
static int cs__check_volume(cs__mig_t *m, const cs_mig_volume_t *v, cs_err_t *err)
{
    cs_mig_journal_t *j = &m->j;
    if (!v->published)
        return cs__refuse(m, CS_MIG_REFUSAL_UNPUBLISHED, CS_EMIGRATION_FAILED, err,
                          "%s: the volume is not published; a new replica would not be rebuilt", j->pv_name);
    if (!v->online)
        return cs__refuse(m, CS_MIG_REFUSAL_VOLUME_NOT_ONLINE, CS_EMIGRATION_FAILED, err,
                          "%s: the volume is not Online", j->pv_name);
    int healthy = cs__healthy_count(v);
    if (healthy < (int)v->replica_count || (int)v->replica_count < v->num_replicas)
        return cs__refuse(m, CS_MIG_REFUSAL_DEGRADED, CS_EMIGRATION_FAILED, err,
                          "%s: only %d of %zu replicas are healthy (%d wanted); not moving a degraded volume",
                          j->pv_name, healthy, v->replica_count, v->num_replicas);
    if (v->num_replicas >= 255)
        return cs__refuse(m, CS_MIG_REFUSAL_REPLICA_LIMIT, CS_EMIGRATION_FAILED, err, "%s: already 255 replicas",
                          j->pv_name);
    bool key_included = false;
    for (size_t i = 0; i < v->inclusion_count; i++)
        if (strcmp(v->inclusion_key[i], j->placement_key) == 0) {
            key_included = true;
            snprintf(j->placement_value, sizeof j->placement_value, "%s", v->inclusion_value[i]);
        }
    if (!key_included)
        return cs__refuse(m, CS_MIG_REFUSAL_NOT_STEERABLE, CS_EMIGRATION_FAILED, err,
                          "%s cannot be steered: its pool topology does not include the placement label \"%s\" (give "
                          "its StorageClass poolHasTopologyKey: %s)",
                          j->pv_name, j->placement_key, j->placement_key);
    const cs_mig_replica_t *old = NULL;
    for (size_t i = 0; i < v->replica_count; i++) {
        snprintf(j->before[j->before_count++], sizeof j->before[0], "%s", v->replicas[i].uuid);
        if (!old && strcmp(v->replicas[i].pool, j->source_pool) == 0)
            old = &v->replicas[i];
    }
    if (!old)
        return cs__refuse(m, CS_MIG_REFUSAL_NO_SOURCE_REPLICA, CS_EMIGRATION_FAILED, err,
                          "%s has no replica on pool %s", j->pv_name, j->source_pool);
    snprintf(j->old_replica, sizeof j->old_replica, "%s", old->uuid);
    j->replicas_before = v->num_replicas;
    j->healthy_before = healthy;
    return 0;
}

/* The ANALYZE checks of the target pool. */
static int cs__check_target(cs__mig_t *m, const cs_mig_volume_t *v, cs_err_t *err)
{
    const cs_mig_journal_t *j = &m->j;
    cs_mig_pool_t *pools = NULL;
    size_t npools = 0;
    int rc = m->ops->list_pools(m->ops->ctx, m->j.placement_key, &pools, &npools, err);
    if (rc != 0)
        return cs_err_prefix(err, "%s: listing pools: ", j->pv_name);
    const cs_mig_pool_t *target = NULL;
    for (size_t i = 0; i < npools; i++)
        if (strcmp(pools[i].id, j->target_pool) == 0)
            target = &pools[i];
    if (!target)
        rc = cs__refuse(m, CS_MIG_REFUSAL_TARGET_MISSING, CS_ENO_SUITABLE_POOL, err,
                        "%s: target pool %s does not exist", j->pv_name, j->target_pool);
    else if (!target->online)
        rc = cs__refuse(m, CS_MIG_REFUSAL_TARGET_NOT_ONLINE, CS_ENO_SUITABLE_POOL, err,
                        "%s: target pool %s is not Online", j->pv_name, j->target_pool);
    else if (target->used > target->capacity || target->capacity - target->used < v->size)
        rc = cs__refuse(m, CS_MIG_REFUSAL_TARGET_FULL, CS_ENO_SUITABLE_POOL, err,
                        "%s: target pool %s has %llu bytes free, the volume needs %llu", j->pv_name, j->target_pool,
                        (unsigned long long)(target->used > target->capacity ? 0 : target->capacity - target->used),
                        (unsigned long long)v->size);
    else
        for (size_t i = 0; i < v->replica_count && rc == 0; i++)
            if (strcmp(v->replicas[i].node, target->node) == 0)
                rc = cs__refuse(m, CS_MIG_REFUSAL_TARGET_NODE_HAS_REPLICA, CS_ENO_SUITABLE_POOL, err,
                                "%s: target pool %s is on node %s, which already holds replica %s of the volume",
                                j->pv_name, j->target_pool, target->node, v->replicas[i].uuid);
    free(pools);
    return rc;
}

/* ANALYZE: nothing has changed yet; a refusal leaves no trace. */
static cs__go_t cs__analyze(cs__mig_t *m, cs_err_t *err)
{
    cs_mig_volume_t v;
    int rc = cs__get_volume(m, &v, err);
    if (rc == 0)
        rc = cs__check_volume(m, &v, err);
    if (rc == 0)
        rc = cs__check_target(m, &v, err);
    return rc == 0 ? CS__GO_SCALE_UP : cs__end(m, rc);
}

/* Where a resume picks up the journaled step. */
static cs__go_t cs__resume_at(cs__mig_t *m)
{
    switch (m->j.step) {
    case CS_MIG_STEP_ANALYZE:
    case CS_MIG_STEP_DONE:
        return CS__GO_ABANDON;
    case CS_MIG_STEP_SCALE_UP:
        return CS__GO_RESUME_SCALE_UP;
    case CS_MIG_STEP_WAIT_SYNC:
        return CS__GO_WAIT_SYNC;
    case CS_MIG_STEP_SCALE_DOWN:
        return CS__GO_SCALE_DOWN;
    case CS_MIG_STEP_ROLLBACK:
        m->rb_outcome = CS_MIGRATION_FAILED;
        return CS__GO_ROLLBACK;
    }
    return cs__end(m, 0); /* a step this version does not know: leave the journal alone */
}

/* Runs steps until one ends the migration for this call. The only loop
 * between steps: no step calls another, so the depth of the stack does not
 * depend on how many steps were taken. */
static int cs__drive(cs__mig_t *m, cs__go_t go, cs_err_t *err)
{
    for (;;) {
        switch (go) {
        case CS__GO_ANALYZE:
            go = cs__analyze(m, err);
            break;
        case CS__GO_SCALE_UP:
            go = cs__scale_up(m, err);
            break;
        case CS__GO_RESUME_SCALE_UP:
            go = cs__resume_scale_up(m, err);
            break;
        case CS__GO_VERIFY_PLACEMENT:
            go = cs__verify_placement(m, err);
            break;
        case CS__GO_WAIT_SYNC:
            go = cs__wait_sync(m, err);
            break;
        case CS__GO_SCALE_DOWN:
            go = cs__scale_down(m, err);
            break;
        case CS__GO_ROLLBACK:
            go = cs__rollback(m, err);
            break;
        case CS__GO_ABANDON:
            go = cs__end(m, cs__finish(m, CS_MIGRATION_ABORTED, "nothing had changed yet", err));
            break;
        case CS__GO_END:
            m->res->reached = m->j.step;
            return m->rc;
        }
    }
}

static int cs__nop_sleep_guard(const cs_migrator_ops_t *ops, cs_err_t *err)
{
    if (!ops || !ops->get_volume || !ops->list_pools || !ops->set_replica_count || !ops->pool_label_put ||
        !ops->pool_label_delete || !ops->nexus_child_delete || !ops->journal_write || !ops->now_ms || !ops->sleep_ms ||
        !ops->placement_lock || !ops->placement_unlock)
        return cs_err_set(err, CS_EINVAL, "migrator: every operation must be provided");
    return 0;
}

static void cs__journal_from_request(cs_mig_journal_t *j, const cs_migrator_ops_t *ops, const cs_mig_request_t *req)
{
    snprintf(j->policy, sizeof j->policy, "%s", req->policy ? req->policy : "");
    snprintf(j->pv_name, sizeof j->pv_name, "%s", req->pv_name);
    snprintf(j->volume, sizeof j->volume, "%s", req->volume);
    snprintf(j->source_pool, sizeof j->source_pool, "%s", req->source_pool);
    snprintf(j->target_pool, sizeof j->target_pool, "%s", req->target_pool);
    snprintf(j->placement_key, sizeof j->placement_key, "%s",
             req->placement_key ? req->placement_key : CS_DEFAULT_PLACEMENT_KEY);
    for (size_t i = 0; i < req->accept_count && i < CS_MIG_MAX_POOLS; i++)
        snprintf(j->accept[j->accept_count++], sizeof j->accept[0], "%s", req->accept_pools[i]);
    j->from_tier = req->from_tier;
    j->to_tier = req->to_tier;
    j->trigger_iops = req->trigger_iops;
    j->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : INT64_C(30) * 60 * 1000;
    if (j->timeout_ms > CS__TIMEOUT_MAX_MS)
        j->timeout_ms = CS__TIMEOUT_MAX_MS;
    j->started_ms = ops->now_ms(ops->ctx);
    j->progress_ms = j->started_ms;
    j->last_progress = -1;
    j->last_healthy = -1;
    j->step = CS_MIG_STEP_ANALYZE;
}

int cs_migration_run(const cs_migrator_ops_t *ops, const cs_mig_request_t *req, const atomic_int *stop,
                     cs_mig_result_t *result, cs_err_t *err)
{
    memset(result, 0, sizeof *result);
    int rc = cs__nop_sleep_guard(ops, err);
    if (rc != 0)
        return rc;
    cs__mig_t m = {.ops = ops,
                   .poll_ms = req->poll_ms > 0 ? req->poll_ms : 10000,
                   .preserve = req->preservation_mode,
                   .stop = stop,
                   .res = result};
    cs__journal_from_request(&m.j, ops, req);
    return cs__drive(&m, CS__GO_ANALYZE, err);
}

int cs_migration_resume(const cs_migrator_ops_t *ops, const cs_mig_journal_t *journal, int64_t poll_ms,
                        bool preservation_mode, const atomic_int *stop, cs_mig_result_t *result, cs_err_t *err)
{
    memset(result, 0, sizeof *result);
    int rc = cs__nop_sleep_guard(ops, err);
    if (rc != 0)
        return rc;
    cs__mig_t m = {.ops = ops,
                   .j = *journal,
                   .poll_ms = poll_ms > 0 ? poll_ms : 10000,
                   .preserve = preservation_mode,
                   .stop = stop,
                   .res = result};
    if (m.j.progress_ms <= 0) /* a journal from before the stall timeout: count from now */
        m.j.progress_ms = ops->now_ms(ops->ctx);
    if (m.j.timeout_ms <= 0 || m.j.timeout_ms > CS__TIMEOUT_MAX_MS)
        m.j.timeout_ms = m.j.timeout_ms <= 0 ? INT64_C(30) * 60 * 1000 : CS__TIMEOUT_MAX_MS;
    cs__event(&m, false, "MigrationResumed", "resuming the migration of %s at step %s", m.j.pv_name,
              cs_mig_step_name(m.j.step));
    return cs__drive(&m, cs__resume_at(&m), err);
}
