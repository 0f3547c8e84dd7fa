/* kube_lease.h: leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection does it: lease duration 15 s, renew deadline
 * 10 s, retry period 2 s; holderIdentity, leaseDurationSeconds,
 * acquireTime/renewTime as MicroTime, leaseTransitions; optimistic
 * concurrency through resourceVersion (a 409 means someone else wrote
 * first); expiry judged by the local clock from when a change of the
 * record was observed, never from the record's own timestamps.
 *
 * Safety: cs_lease_elector_is_leader() turns false by itself the moment the
 * renew deadline passes without a successful renewal, whatever the elector
 * thread is doing; other candidates may take the Lease only lease duration
 * after they last saw it change, which is later. Every write that needs
 * leadership must check it just before writing, and must not outlive it:
 * cs_lease_write_begin bounds the write's requests by the renew deadline.
 *
 * The callbacks follow is_leader exactly: once the renew deadline passes
 * without a successful renewal, on_stopped_leading runs (at the deadline,
 * not at the end of a slow request), and only a later successful
 * acquisition runs on_started_leading again; a renewal whose answer came
 * after the deadline counts as a lost term, not as a renewal. */
#ifndef COUCHESTOR_KUBE_LEASE_H
#define COUCHESTOR_KUBE_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/kube.h"

#define CS_LEASE_DEFAULT_DURATION_NS (INT64_C(15) * 1000000000)
#define CS_LEASE_DEFAULT_RENEW_DEADLINE_NS (INT64_C(10) * 1000000000)
#define CS_LEASE_DEFAULT_RETRY_PERIOD_NS (INT64_C(2) * 1000000000)

typedef struct cs_lease_elector_s cs_lease_elector_t;

typedef struct cs_lease_options_s {
    const char *namespace;     /* NULL = the client's namespace */
    const char *name;          /* the Lease's name (required) */
    const char *identity;      /* this candidate, unique (e.g. pod name + "_" + uuid; required) */
    int64_t lease_duration_ns; /* 0 = 15 s; whole seconds are written */
    int64_t renew_deadline_ns; /* 0 = 10 s */
    int64_t retry_period_ns;   /* 0 = 2 s */
    bool keep_on_stop;         /* false (default): release the Lease on a clean stop */
    /* Called on the elector's thread. on_stopped_leading also runs when the
     * renew deadline passed (the elector then tries to acquire again). */
    void (*on_started_leading)(void *ctx);
    void (*on_stopped_leading)(void *ctx);
    void (*on_new_leader)(void *ctx, const char *identity); /* any observed change of holder */
    void *ctx;
} cs_lease_options_t;

/* Validates (lease duration > renew deadline > 1.2 x retry period, as
 * client-go requires) and copies the options. The client must outlive the
 * elector. */
int cs_lease_elector_new(cs_kube_client_t *c, const cs_lease_options_t *opts, cs_lease_elector_t **out, cs_err_t *err);
/* Starts campaigning on a thread of its own. CS_EBUSY when running. */
int cs_lease_elector_start(cs_lease_elector_t *e, cs_err_t *err);
/* Stops: leadership ends at once (is_leader is false when this returns),
 * the Lease is released (holderIdentity cleared, leaseDurationSeconds 1)
 * unless keep_on_stop, and the thread is joined. Idempotent. */
void cs_lease_elector_stop(cs_lease_elector_t *e);
/* Stops and frees. NULL is a no-op. */
void cs_lease_elector_free(cs_lease_elector_t *e);

/* True while this candidate holds the Lease and its last successful
 * renewal began less than the renew deadline ago. Lock-free. */
bool cs_lease_elector_is_leader(const cs_lease_elector_t *e);
/* How long this candidate still leads (until its renew deadline) if no
 * renewal succeeds meanwhile, in ns; 0 when it does not lead. Lock-free. */
int64_t cs_lease_elector_remaining_ns(const cs_lease_elector_t *e);

/* The write gate. Below this margin a write is refused (it could not finish
 * before the renew deadline). */
#define CS_LEASE_MIN_WRITE_MARGIN_NS (INT64_C(1) * 1000000000)
/* Opens a Lease-bounded write section on the calling thread: 0 when e is
 * NULL (no leader election) or this candidate leads with at least
 * min_margin_ns (0 = CS_LEASE_MIN_WRITE_MARGIN_NS) left before its renew
 * deadline; then every HTTP request the thread makes until
 * cs_lease_write_end has its timeout capped to the time left
 * (cs_http_thread_deadline), so a slow write ends before the deadline, and
 * lease duration - renew deadline (5 s by default) before any other
 * candidate may take the Lease. CS_ECANCELED (err says why) otherwise:
 * refuse the write. *token is for cs_lease_write_end, which must be called
 * after a 0 (and is a no-op after a refusal). */
int cs_lease_write_begin(const cs_lease_elector_t *e, int64_t min_margin_ns, int64_t *token, cs_err_t *err);
void cs_lease_write_end(int64_t token);

/* The holder last observed ("" when none), copied into buf. */
void cs_lease_elector_holder(cs_lease_elector_t *e, char *buf, size_t len);

#endif
