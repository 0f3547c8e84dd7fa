/* migrations.h: the operator's migration manager: runs migrations on their
 * own threads (never inside a reconcile), enforces the limits, binds the
 * migrator's effects to the Mayastor and Kubernetes clients, gates every
 * write on holding the Lease, and keeps finished migrations for the
 * policies' status history. Internal to the controller module. */
#ifndef COUCHESTOR_CONTROLLER_MIGRATIONS_H
#define COUCHESTOR_CONTROLLER_MIGRATIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "couchestor/kube.h"
#include "couchestor/kube_events.h"
#include "couchestor/kube_lease.h"
#include "couchestor/mayastor.h"
#include "couchestor/metrics.h"
#include "couchestor/migrator.h"

typedef struct cs_migrations_s cs_migrations_t;

typedef struct cs_migrations_options_s {
    cs_mayastor_t *mayastor;     /* borrowed, thread-safe */
    cs_kube_client_t *kube;      /* borrowed, thread-safe */
    cs_event_recorder_t *events; /* borrowed; may be NULL */
    cs_lease_elector_t *elector; /* borrowed; NULL = no leader election */
    const char *placement_key;   /* NULL = CS_DEFAULT_PLACEMENT_KEY */
    int64_t poll_ms;             /* syncPollInterval */
    bool preservation_mode;
    int64_t min_write_margin_ns;   /* the write gate's minimum; 0 = CS_LEASE_MIN_WRITE_MARGIN_NS */
    cs_metric_t *migrations_total; /* {status}: success|failed|aborted */
    cs_metric_t *refusals;         /* {reason} (cs_mig_refusal_name); may be NULL */
    cs_metric_t *active;           /* gauge, no labels */
    cs_metric_t *duration;         /* histogram, seconds */
    /* A migration ended (not after a refusal: nothing changed, so the policy
     * is retried at its next reconcile, not at once). E.g. requeue it. */
    void (*on_finished)(void *ctx, const char *policy);
    /* The PV's metadata.uid into uid (0), for the involvedObject of its
     * Events: `kubectl describe pv` shows only Events whose uid matches.
     * May be NULL (Events then carry no uid). */
    int (*pv_uid)(void *ctx, const char *pv_name, char *uid, size_t len);
    void *ctx;
} cs_migrations_options_t;

int cs_migrations_new(const cs_migrations_options_t *opts, cs_migrations_t **out, cs_err_t *err);
/* Stops every migration (they suspend; journals stay) and frees. */
void cs_migrations_free(cs_migrations_t *m);
/* Asks every running migration to suspend and waits for them. New starts
 * are refused until cs_migrations_resume_starts. */
void cs_migrations_stop_all(cs_migrations_t *m);
void cs_migrations_resume_starts(cs_migrations_t *m);

/* Starts a migration on a new thread; the request's strings are copied.
 * previous_failures (from the PV) sets the backoff written if it fails.
 * policy_max and global_max (0 = none) are enforced here, atomically with
 * the start. CS_EBUSY when the volume is already migrating or a limit is
 * reached, CS_ECANCELED when stopping or not leading. A migration refused
 * before any change (cs_mig_result_t.refusal) is no failure: it is counted
 * in `refusals`, not in migrations_total, the finished list or the PV's
 * backoff, and its MigrationRefused Event is not repeated for the same
 * volume and reason within 10 minutes. */
int cs_migrations_start(cs_migrations_t *m, const cs_mig_request_t *req, size_t policy_max, size_t global_max,
                        int previous_failures, cs_err_t *err);
/* Resumes a journaled migration on a new thread. */
int cs_migrations_resume(cs_migrations_t *m, const cs_mig_journal_t *j, cs_err_t *err);

size_t cs_migrations_active(cs_migrations_t *m, const char *policy);
/* The effects bound to the clients, each write behind the Lease gate (for
 * tests). Valid while m lives. */
const cs_migrator_ops_t *cs_migrations_ops(cs_migrations_t *m);
/* True while a migration of the PV runs here, and for 30 s after it ended
 * (the cache may still show its journal). */
bool cs_migrations_is_active(cs_migrations_t *m, const char *pv_name);
/* For each volume of a reconcile, in one lock round trip: *active as
 * cs_migrations_is_active, and *refused_until the Unix seconds until which
 * a move of this PV is held after it was refused at Analyze (5 minutes
 * after the latest refusal), or 0. The plan skips it until then
 * (CS_PLAN_REASON_REFUSED) so that another volume gets the slot. */
void cs_migrations_hold(cs_migrations_t *m, const char *pv_name, bool *active, int64_t *refused_until);

/* Copies of the finished migrations of policy not yet acknowledged (oldest
 * first); *out is malloc'd (free each with cs_migration_record_free, then
 * the array). cs_migrations_ack drops the first n of them. */
int cs_migrations_finished(cs_migrations_t *m, const char *policy, cs_migration_record_t **out, size_t *n);
void cs_migrations_ack(cs_migrations_t *m, const char *policy, size_t n);

#endif
