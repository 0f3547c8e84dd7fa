/* Tests for the work queue: de-duplication, re-queue of a key added while
 * it is processed, never one key in two workers at once (many producers
 * and workers), per-key exponential backoff, the overall token bucket,
 * delayed adds, bounds and shutdown. Also runs under ThreadSanitizer. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/kube_workqueue.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static cs_workqueue_t *mk(const cs_workqueue_options_t *o)
{
    cs_workqueue_t *q = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_workqueue_new(o, &q, &err), 0, "%s", err.msg);
    return q;
}

static char *get_now(cs_workqueue_t *q)
{
    char *k = NULL;
    cr_assert_eq(cs_workqueue_get(q, &k, 0), 0);
    return k;
}

Test(workqueue, dedup_and_fifo)
{
    cs_workqueue_t *q = mk(NULL);
    cr_expect_eq(cs_workqueue_add(q, "a"), 0);
    cr_expect_eq(cs_workqueue_add(q, "b"), 0);
    cr_expect_eq(cs_workqueue_add(q, "a"), 0);
    cr_expect_eq(cs_workqueue_len(q), 2, "a is queued once");
    char *k = get_now(q);
    cr_expect_str_eq(k, "a");
    char *k2 = get_now(q);
    cr_expect_str_eq(k2, "b");
    char *none = NULL;
    cr_expect_eq(cs_workqueue_get(q, &none, 0), CS_ETIMEOUT);
    cr_expect_null(none);
    cs_workqueue_done(q, k);
    cs_workqueue_done(q, k2);
    free(k);
    free(k2);
    cr_expect_eq(cs_workqueue_add(q, ""), CS_EINVAL);
    cs_workqueue_free(q);
    cs_workqueue_free(NULL);
}

Test(workqueue, add_while_processing_requeues_at_done)
{
    cs_workqueue_t *q = mk(NULL);
    cs_workqueue_add(q, "k");
    char *k = get_now(q);
    cs_workqueue_add(q, "k");
    cs_workqueue_add(q, "k");
    cr_expect_eq(cs_workqueue_len(q), 0, "not handed out while a worker holds it");
    char *none = NULL;
    cr_expect_eq(cs_workqueue_get(q, &none, 1000000), CS_ETIMEOUT);
    cs_workqueue_done(q, k);
    free(k);
    cr_expect_eq(cs_workqueue_len(q), 1, "queued again, once");
    k = get_now(q);
    cs_workqueue_done(q, k);
    free(k);
    cr_expect_eq(cs_workqueue_len(q), 0);
    cs_workqueue_free(q);
}

Test(workqueue, per_key_exponential_backoff_and_forget)
{
    cs_workqueue_options_t o = {
        .base_delay_ns = 5 * 1000000, .max_delay_ns = 40 * 1000000, .qps = 1e6, .burst = 1000000};
    cs_workqueue_t *q = mk(&o);
    int64_t want[] = {5, 10, 20, 40, 40};
    for (int i = 0; i < 5; i++) {
        int64_t t0 = now_ns();
        cr_assert_eq(cs_workqueue_add_rate_limited(q, "k"), 0);
        /* waiting() first: len() hands due keys over to the FIFO, and a
         * thread descheduled for the few ms of the delay finds it due. */
        cr_expect_eq(cs_workqueue_waiting(q), 1);
        size_t len = cs_workqueue_len(q);
        if (now_ns() - t0 < want[i] * 1000000)
            cr_expect_eq(len, 0, "failure %d: handed out before its delay", i);
        char *k = NULL;
        cr_assert_eq(cs_workqueue_get(q, &k, 2000000000), 0);
        int64_t waited = (now_ns() - t0) / 1000000;
        cr_expect_geq(waited, want[i], "failure %d: waited %lld ms, want >= %lld", i, (long long)waited,
                      (long long)want[i]);
        cr_expect_lt(waited, want[i] + 200);
        cs_workqueue_done(q, k);
        free(k);
        cr_expect_eq(cs_workqueue_num_requeues(q, "k"), i + 1);
    }
    cs_workqueue_forget(q, "k");
    cr_expect_eq(cs_workqueue_num_requeues(q, "k"), 0);
    cs_workqueue_add_rate_limited(q, "k");
    cr_expect_eq(cs_workqueue_num_requeues(q, "k"), 1);
    /* Due after the base delay (5 ms), not the cap (40 ms): a get that
     * waits 30 ms has it, however late this thread runs (timing the get
     * against 40 ms fails when the thread is descheduled meanwhile). */
    char *k = NULL;
    cr_assert_eq(cs_workqueue_get(q, &k, 30 * 1000000), 0, "backoff starts over after forget");
    cs_workqueue_done(q, k);
    free(k);
    cs_workqueue_free(q);
}

Test(workqueue, default_backoff_is_client_go)
{
    cs_workqueue_t *q = mk(NULL);
    /* 5 ms * 2^n: after 20 failures 5 ms * 2^20 = 5243 s is capped at 1000 s. */
    for (int i = 0; i < 20; i++) {
        cs_workqueue_add_rate_limited(q, "x");
    }
    cr_expect_eq(cs_workqueue_num_requeues(q, "x"), 20);
    cr_expect_eq(cs_workqueue_waiting(q), 1, "one entry, at its earliest time");
    cs_workqueue_free(q);
}

Test(workqueue, token_bucket_limits_overall_rate)
{
    cs_workqueue_options_t o = {.base_delay_ns = 1, .qps = 100, .burst = 5};
    cs_workqueue_t *q = mk(&o);
    int64_t t0 = now_ns();
    for (int i = 0; i < 15; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        cs_workqueue_add_rate_limited(q, key);
    }
    for (int i = 0; i < 15; i++) {
        char *k = NULL;
        cr_assert_eq(cs_workqueue_get(q, &k, 2000000000), 0);
        cs_workqueue_done(q, k);
        free(k);
    }
    int64_t ms = (now_ns() - t0) / 1000000;
    cr_expect_geq(ms, 95, "burst 5, then 10 more at 100/s take >= 100 ms (took %lld)", (long long)ms);
    cs_workqueue_free(q);
}

Test(workqueue, add_after_keeps_the_earlier_time)
{
    cs_workqueue_t *q = mk(NULL);
    cs_workqueue_add_after(q, "late", 5000 * 1000000LL);
    cs_workqueue_add_after(q, "late", 20 * 1000000LL);
    cs_workqueue_add_after(q, "later", 50 * 1000000LL);
    cr_expect_eq(cs_workqueue_waiting(q), 2);
    int64_t t0 = now_ns();
    char *k = NULL;
    cr_assert_eq(cs_workqueue_get(q, &k, 2000000000), 0);
    cr_expect_str_eq(k, "late");
    cr_expect_lt((now_ns() - t0) / 1000000, 1000);
    cs_workqueue_done(q, k);
    free(k);
    cr_assert_eq(cs_workqueue_get(q, &k, 2000000000), 0);
    cr_expect_str_eq(k, "later");
    cs_workqueue_done(q, k);
    free(k);
    cs_workqueue_add_after(q, "now", 0);
    cr_expect_eq(cs_workqueue_len(q), 1);
    cs_workqueue_free(q);
}

Test(workqueue, bounds)
{
    cs_workqueue_options_t o = {.max_keys = 3, .max_key_len = 8};
    cs_workqueue_t *q = mk(&o);
    cr_expect_eq(cs_workqueue_add(q, "a"), 0);
    cr_expect_eq(cs_workqueue_add(q, "b"), 0);
    cr_expect_eq(cs_workqueue_add(q, "c"), 0);
    cr_expect_eq(cs_workqueue_add(q, "d"), CS_ETOOBIG);
    cr_expect_eq(cs_workqueue_add(q, "a"), 0, "a known key is fine");
    char *k = get_now(q);
    cs_workqueue_done(q, k);
    free(k);
    cr_expect_eq(cs_workqueue_add(q, "d"), 0, "a finished key no longer counts");
    cr_expect_eq(cs_workqueue_add(q, "123456789"), CS_ETOOBIG);
    cs_workqueue_free(q);
}

/* ---- concurrency ------------------------------------------------------------ */

#define NKEYS 32
#define NWORKERS 6
#define NPRODUCERS 3
#define ADDS_PER_PRODUCER 3000

typedef struct shared_s {
    cs_workqueue_t *q;
    atomic_int in_flight[NKEYS];
    atomic_int processed[NKEYS];
    atomic_int overlaps;
    atomic_int last_add_gen[NKEYS]; /* bumped by producers */
    atomic_int seen_gen[NKEYS];     /* gen observed at the start of processing */
} shared_t;

static int key_index(const char *k)
{
    return atoi(k + 1);
}

static void *worker(void *arg)
{
    shared_t *s = arg;
    char *k;
    while (cs_workqueue_get(s->q, &k, -1) == 0) {
        int i = key_index(k);
        if (atomic_fetch_add(&s->in_flight[i], 1) != 0)
            atomic_fetch_add(&s->overlaps, 1);
        atomic_store(&s->seen_gen[i], atomic_load(&s->last_add_gen[i]));
        for (volatile int spin = 0; spin < 2000; spin++) {
        }
        atomic_fetch_sub(&s->in_flight[i], 1);
        atomic_fetch_add(&s->processed[i], 1);
        if (i % 7 == 0 && atomic_load(&s->processed[i]) % 5 == 0)
            cs_workqueue_add_rate_limited(s->q, k);
        else
            cs_workqueue_forget(s->q, k);
        cs_workqueue_done(s->q, k);
        free(k);
    }
    return NULL;
}

static void *producer(void *arg)
{
    shared_t *s = arg;
    unsigned seed = (unsigned)(uintptr_t)&seed;
    for (int n = 0; n < ADDS_PER_PRODUCER; n++) {
        int i = (int)(rand_r(&seed) % NKEYS);
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        atomic_fetch_add(&s->last_add_gen[i], 1);
        cr_assert_eq(cs_workqueue_add(s->q, key), 0);
    }
    return NULL;
}

static bool drained(shared_t *s)
{
    if (cs_workqueue_len(s->q) || cs_workqueue_waiting(s->q))
        return false;
    for (int i = 0; i < NKEYS; i++)
        if (atomic_load(&s->in_flight[i]))
            return false;
    return true;
}

Test(workqueue, one_key_never_in_two_workers, .timeout = 30)
{
    cs_workqueue_options_t o = {.base_delay_ns = 100000, .max_delay_ns = 2000000, .qps = 1e6, .burst = 1000000};
    shared_t s = {.q = mk(&o)};
    pthread_t w[NWORKERS], p[NPRODUCERS];
    for (int i = 0; i < NWORKERS; i++)
        pthread_create(&w[i], NULL, worker, &s);
    for (int i = 0; i < NPRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, &s);
    for (int i = 0; i < NPRODUCERS; i++)
        pthread_join(p[i], NULL);
    int64_t deadline = now_ns() + 20 * 1000000000LL;
    while (!drained(&s) && now_ns() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert(drained(&s), "queue did not drain");
    cs_workqueue_shutdown(s.q);
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(w[i], NULL);
    cr_expect_eq(atomic_load(&s.overlaps), 0, "a key was processed by two workers at once");
    int total = 0;
    for (int i = 0; i < NKEYS; i++) {
        total += atomic_load(&s.processed[i]);
        /* Level-triggered: the last add of every key was followed by a processing that saw it. */
        cr_expect_eq(atomic_load(&s.seen_gen[i]), atomic_load(&s.last_add_gen[i]), "k%d missed its last add", i);
    }
    cr_expect_leq(total, NPRODUCERS * ADDS_PER_PRODUCER + NKEYS * 400, "adds are de-duplicated");
    cr_expect_geq(total, NKEYS);
    cs_workqueue_free(s.q);
}

static void *blocked_get(void *arg)
{
    char *k = NULL;
    int rc = cs_workqueue_get(arg, &k, -1);
    free(k);
    return (void *)(intptr_t)rc;
}

Test(workqueue, shutdown_wakes_workers_and_refuses_adds)
{
    cs_workqueue_t *q = mk(NULL);
    pthread_t t;
    pthread_create(&t, NULL, blocked_get, q);
    cs_workqueue_add_after(q, "delayed", 60 * 1000000000LL);
    cs_workqueue_shutdown(q);
    void *rc;
    pthread_join(t, &rc);
    cr_expect_eq((int)(intptr_t)rc, CS_ECANCELED);
    cr_expect(cs_workqueue_shutting_down(q));
    cr_expect_eq(cs_workqueue_add(q, "x"), CS_ECANCELED);
    cr_expect_eq(cs_workqueue_waiting(q), 0, "delayed keys are dropped");
    cs_workqueue_shutdown(q);
    cs_workqueue_free(q);
}

Test(workqueue, queued_keys_are_still_handed_out_after_shutdown)
{
    cs_workqueue_t *q = mk(NULL);
    cs_workqueue_add(q, "a");
    cs_workqueue_shutdown(q);
    char *k = NULL;
    cr_assert_eq(cs_workqueue_get(q, &k, 0), 0);
    cr_expect_str_eq(k, "a");
    cs_workqueue_done(q, k);
    free(k);
    cr_expect_eq(cs_workqueue_get(q, &k, 0), CS_ECANCELED);
    cs_workqueue_free(q);
}
