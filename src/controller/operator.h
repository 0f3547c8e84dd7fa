/* operator.h: the operator's shared state and the helpers its reconcilers
 * use (operator.c runs the process; reconcile_sp.c and reconcile_ec.c
 * reconcile one object each). Internal to the controller module. */
#ifndef COUCHESTOR_CONTROLLER_OPERATOR_H
#define COUCHESTOR_CONTROLLER_OPERATOR_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "couchestor/controller.h"
#include "couchestor/kube_events.h"
#include "couchestor/kube_informer.h"
#include "couchestor/kube_lease.h"
#include "couchestor/kube_workqueue.h"
#include "couchestor/metrics.h"
#include "couchestor/server.h"
#include "migrations.h"

#define CS__WORKERS 2
#define CS__MAX_POLICIES 256

/* The last status this process wrote for a policy: the informer may lag
 * behind our own writes, so a reconcile starts from this one. */
typedef struct {
    char name[254];
    bool have;
    cs_storage_policy_status_t status;
} cs__memory_t;

typedef struct cs__op_s {
    const cs_config_t *cfg;
    const atomic_int *stop;
    char identity[160];
    cs_clients_t clients;
    cs_metrics_t *metrics;
    cs_metric_t *m_reconcile, *m_reconcile_seconds, *m_phase_seconds, *m_migrations, *m_active, *m_mig_seconds,
        *m_volumes, *m_errors, *m_leader, *m_refusals;
    cs_server_t *server;
    cs_informer_t *sp, *ec, *pv, *dp, *pvc, *ns;
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
    atomic_int leading;
    pthread_mutex_t mem_lock;
    cs__memory_t memory[CS__MAX_POLICIES];
    /* What the Mayastor control plane can do (cs_mayastor_capabilities),
     * probed once it answers and again after it was unreachable; guarded
     * by caps_lock, so one worker probes while the other waits. */
    pthread_mutex_t caps_lock;
    int caps_pool_labels; /* -1 unknown (probe), 0 absent, 1 present */
} cs__op_t;

/* Whether Mayastor serves the pool-label endpoints a migration steers with:
 * probes when the answer is unknown (first call, or after reachable was
 * false: a reconnect may be an upgrade), logs a change once. A probe that
 * gets no answer leaves it unknown and counts as present (the migration's
 * own label calls then say what is wrong). */
bool cs__op_pool_labels_served(cs__op_t *op, bool reachable);

/* True while this process may write (always without leader election). */
bool cs__op_is_leader(cs__op_t *op);
/* Counts a failed request to target ("kubernetes", "mayastor", "prometheus"). */
void cs__op_count_error(cs__op_t *op, const char *target);
/* An Event about a PV (with its uid: `kubectl describe pv` selects by it),
 * for a state reported at every reconcile while it holds: one Event per
 * PV and reason, its repeats written on the series heartbeat
 * (cs_event_record_repeating). */
void cs__op_pv_event(cs__op_t *op, const cs_pv_t *pv, bool warning, const char *reason, const char *note);
/* Resumes every journaled migration that nothing in this process runs. */
void cs__op_resume_orphans(cs__op_t *op);
/* metadata.generation of an object held as a JSON tree (0 when absent). */
int64_t cs__op_generation(const cs_kube_object_t *obj);
/* Merge-patches the status subresource of res/name with {"status": status}
 * (borrowed), within the Lease's write gate: a slow write of a leader must
 * not land after its term. */
int cs__op_patch_status(cs__op_t *op, const cs_kube_resource_t *res, const char *name, json_t *status, cs_err_t *err);

/* Informer objects held (referenced) for the length of one reconcile;
 * data[i] is objs[i]->data. cs__op_hold is an informer foreach callback. */
typedef struct {
    cs_kube_object_t **objs;
    const void **data;
    size_t n, cap;
} cs__op_held_t;
int cs__op_hold(void *ctx, const cs_kube_object_t *obj);
void cs__op_held_free(cs__op_held_t *h);

/* Reconcile one object by name. 0 (requeue after the resync period), 1
 * (gone: no requeue), or a negative code (retry with backoff). A
 * StoragePolicy reconcile may ask for its next one sooner than the resync
 * period (*requeue_ns, when it returns 0; 0 = the period): when Mayastor or
 * Prometheus did not answer, or some volumes' series do not cover the
 * window yet. */
int cs__reconcile_sp(cs__op_t *op, const char *name, int64_t *requeue_ns);
int cs__reconcile_ec(cs__op_t *op, const char *name);
/* Forgets every status this process wrote (a new term: another leader may
 * have written since), and frees them. */
void cs__sp_memory_forget_all(cs__op_t *op);

#endif
