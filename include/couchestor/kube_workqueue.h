/* kube_workqueue.h: a work queue of string keys in the client-go model
 * (util/workqueue): a key is queued at most once however often it is
 * added; a key being processed is never handed to a second worker (an add
 * meanwhile re-queues it when the first worker calls done); failed keys
 * come back after a per-key exponential backoff (5 ms doubling to 1000 s),
 * and rate-limited adds also pass an overall token bucket (10/s, burst
 * 100); delayed adds; shutdown.
 *
 * Thread-safe: any number of producers and workers. No call blocks except
 * cs_workqueue_get. Typical worker:
 *
 *     char *key;
 *     while (cs_workqueue_get(q, &key, -1) == 0) {
 *         int rc = reconcile(key);
 *         if (rc == 0) cs_workqueue_forget(q, key);
 *         else cs_workqueue_add_rate_limited(q, key);
 *         cs_workqueue_done(q, key);
 *         free(key);
 *     }
 */
#ifndef COUCHESTOR_KUBE_WORKQUEUE_H
#define COUCHESTOR_KUBE_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

typedef struct cs_workqueue_s cs_workqueue_t;

typedef struct cs_workqueue_options_s {
    int64_t base_delay_ns; /* first per-key backoff; 0 = 5 ms */
    int64_t max_delay_ns;  /* per-key backoff cap; 0 = 1000 s */
    double qps;            /* overall rate of rate-limited adds; 0 = 10 */
    int burst;             /* token bucket size; 0 = 100 */
    size_t max_keys;       /* distinct keys tracked at once; 0 = 1,000,000 */
    size_t max_key_len;    /* 0 = 512 bytes */
} cs_workqueue_options_t;

/* opts may be NULL. Free with cs_workqueue_free. */
int cs_workqueue_new(const cs_workqueue_options_t *opts, cs_workqueue_t **out, cs_err_t *err);
/* Frees the queue. Workers must have returned from cs_workqueue_get (shut
 * the queue down and join them first). NULL is a no-op. */
void cs_workqueue_free(cs_workqueue_t *q);

/* Queues key (copied) unless it is already queued. 0; CS_ECANCELED after
 * shutdown; CS_ETOOBIG when max_keys keys are tracked or the key is too
 * long; CS_EINVAL for an empty key; CS_ENOMEM. */
int cs_workqueue_add(cs_workqueue_t *q, const char *key);
/* Queues key after delay_ns (<= 0: now). A key already waiting keeps the
 * earlier of the two times. */
int cs_workqueue_add_after(cs_workqueue_t *q, const char *key, int64_t delay_ns);
/* Queues key after max(its exponential backoff, the token bucket's delay)
 * and counts a failure for it. */
int cs_workqueue_add_rate_limited(cs_workqueue_t *q, const char *key);
/* Clears key's failure count (its backoff starts over). */
void cs_workqueue_forget(cs_workqueue_t *q, const char *key);
/* Failures counted for key since the last forget. */
int cs_workqueue_num_requeues(cs_workqueue_t *q, const char *key);

/* Waits for a key: 0 with *key (malloc'd: the caller frees it after
 * cs_workqueue_done); CS_ETIMEOUT after timeout_ns (negative = wait
 * forever); CS_ECANCELED when the queue is shut down and empty. */
int cs_workqueue_get(cs_workqueue_t *q, char **key, int64_t timeout_ns);
/* Marks key processed; if it was added meanwhile it is queued again. */
void cs_workqueue_done(cs_workqueue_t *q, const char *key);

/* Refuses further adds, drops delayed keys and wakes every worker; keys
 * already queued are still handed out. Idempotent. */
void cs_workqueue_shutdown(cs_workqueue_t *q);
bool cs_workqueue_shutting_down(cs_workqueue_t *q);
/* Keys ready to be handed out now. */
size_t cs_workqueue_len(cs_workqueue_t *q);
/* Keys waiting for their delay. */
size_t cs_workqueue_waiting(cs_workqueue_t *q);

#endif
