/* workqueue.c: the client-go work queue: de-duplicated FIFO of keys, a
 * processing set, a delay heap, per-key exponential backoff and a token
 * bucket, under one mutex. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/kube_workqueue.h"
#include "kube/internal.h"

#define CS__WQ_BASE_NS (INT64_C(5) * 1000000)
#define CS__WQ_MAX_NS (INT64_C(1000) * 1000000000)

typedef struct cs__wq_entry_s {
    char *key;
    bool dirty;      /* wants processing (queued, or re-queue at done) */
    bool queued;     /* in the FIFO */
    bool processing; /* handed to a worker */
    bool waiting;    /* in the delay heap */
    int failures;
    int64_t ready_at; /* heap: monotonic ns */
    size_t heap_idx;
    struct cs__wq_entry_s *next; /* FIFO link */
} cs__wq_entry_t;

struct cs_workqueue_s {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    cs__kube_map_t keys;         /* key -> entry */
    cs__wq_entry_t *head, *tail; /* FIFO */
    size_t queued;
    cs__wq_entry_t **heap;
    size_t heap_len, heap_cap;
    bool shutdown;
    /* options */
    int64_t base_ns, max_ns;
    double qps;
    double burst;
    size_t max_keys, max_key_len;
    /* token bucket */
    double tokens;
    int64_t last_ns;
};

int cs_workqueue_new(const cs_workqueue_options_t *opts, cs_workqueue_t **out, cs_err_t *err)
{
    *out = NULL;
    static const cs_workqueue_options_t none = {0};
    if (!opts)
        opts = &none;
    cs_workqueue_t *q = calloc(1, sizeof *q);
    if (!q || cs__kube_map_init(&q->keys, 64) != 0) {
        free(q);
        return cs_err_set(err, CS_ENOMEM, "work queue: out of memory");
    }
    q->base_ns = opts->base_delay_ns > 0 ? opts->base_delay_ns : CS__WQ_BASE_NS;
    q->max_ns = opts->max_delay_ns > 0 ? opts->max_delay_ns : CS__WQ_MAX_NS;
    q->qps = opts->qps > 0 ? opts->qps : 10.0;
    q->burst = opts->burst > 0 ? opts->burst : 100;
    q->max_keys = opts->max_keys ? opts->max_keys : 1000000;
    q->max_key_len = opts->max_key_len ? opts->max_key_len : 512;
    q->tokens = q->burst;
    q->last_ns = cs_clock_mono_ns();
    pthread_mutex_init(&q->mu, NULL);
    cs__kube_condattr_mono(&q->cond);
    *out = q;
    return 0;
}

static void cs__wq_entry_free(void *ctx, void *v)
{
    cs__wq_entry_t *e = v;
    free(e->key);
    free(e);
}

void cs_workqueue_free(cs_workqueue_t *q)
{
    if (!q)
        return;
    cs__kube_map_each(&q->keys, cs__wq_entry_free, NULL);
    cs__kube_map_free(&q->keys);
    free(q->heap);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cond);
    free(q);
}

/* ---- heap ordered by ready_at ------------------------------------------------ */

static void cs__heap_swap(cs_workqueue_t *q, size_t a, size_t b)
{
    cs__wq_entry_t *t = q->heap[a];
    q->heap[a] = q->heap[b];
    q->heap[b] = t;
    q->heap[a]->heap_idx = a;
    q->heap[b]->heap_idx = b;
}

static void cs__heap_up(cs_workqueue_t *q, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (q->heap[p]->ready_at <= q->heap[i]->ready_at)
            break;
        cs__heap_swap(q, p, i);
        i = p;
    }
}

static void cs__heap_down(cs_workqueue_t *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->heap_len && q->heap[l]->ready_at < q->heap[m]->ready_at)
            m = l;
        if (r < q->heap_len && q->heap[r]->ready_at < q->heap[m]->ready_at)
            m = r;
        if (m == i)
            return;
        cs__heap_swap(q, i, m);
        i = m;
    }
}

static cs__wq_entry_t *cs__heap_pop(cs_workqueue_t *q)
{
    cs__wq_entry_t *top = q->heap[0];
    q->heap_len--;
    if (q->heap_len > 0) {
        q->heap[0] = q->heap[q->heap_len];
        q->heap[0]->heap_idx = 0;
        cs__heap_down(q, 0);
    }
    top->waiting = false;
    return top;
}

/* ---- entries --------------------------------------------------------------------- */

/* Drops an entry nobody needs any more (lock held). */
static void cs__maybe_forget(cs_workqueue_t *q, cs__wq_entry_t *e)
{
    if (e->dirty || e->queued || e->processing || e->waiting || e->failures)
        return;
    cs__kube_map_remove(&q->keys, e->key);
    cs__wq_entry_free(NULL, e);
}

static int cs__entry(cs_workqueue_t *q, const char *key, cs__wq_entry_t **out)
{
    if (!key || !*key)
        return CS_EINVAL;
    if (strnlen(key, q->max_key_len + 1) > q->max_key_len)
        return CS_ETOOBIG;
    cs__wq_entry_t *e = cs__kube_map_get(&q->keys, key);
    if (!e) {
        if (q->keys.count >= q->max_keys)
            return CS_ETOOBIG;
        e = calloc(1, sizeof *e);
        if (!e || !(e->key = cs__kube_strdup(key))) {
            free(e);
            return CS_ENOMEM;
        }
        if (cs__kube_map_put(&q->keys, e->key, e, NULL) != 0) {
            cs__wq_entry_free(NULL, e);
            return CS_ENOMEM;
        }
    }
    *out = e;
    return 0;
}

static void cs__enqueue(cs_workqueue_t *q, cs__wq_entry_t *e)
{
    e->queued = true;
    e->next = NULL;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    q->queued++;
    pthread_cond_signal(&q->cond);
}

/* The add of client-go (lock held). */
static void cs__add_locked(cs_workqueue_t *q, cs__wq_entry_t *e)
{
    if (e->dirty)
        return;
    e->dirty = true;
    if (!e->processing)
        cs__enqueue(q, e);
}

/* Moves keys whose delay has passed to the FIFO; returns the time until
 * the next one (or -1). Lock held. */
static int64_t cs__promote(cs_workqueue_t *q)
{
    int64_t now = cs_clock_mono_ns();
    while (q->heap_len > 0 && q->heap[0]->ready_at <= now)
        cs__add_locked(q, cs__heap_pop(q));
    return q->heap_len > 0 ? q->heap[0]->ready_at - now : -1;
}

int cs_workqueue_add(cs_workqueue_t *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    int rc = CS_ECANCELED;
    cs__wq_entry_t *e = NULL;
    if (!q->shutdown && (rc = cs__entry(q, key, &e)) == 0)
        cs__add_locked(q, e);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

static int cs__add_after_locked(cs_workqueue_t *q, const char *key, int64_t delay_ns)
{
    if (q->shutdown)
        return CS_ECANCELED;
    cs__wq_entry_t *e = NULL;
    int rc = cs__entry(q, key, &e);
    if (rc != 0)
        return rc;
    if (delay_ns <= 0) {
        cs__add_locked(q, e);
        return 0;
    }
    int64_t at = cs_clock_mono_ns() + delay_ns;
    if (e->waiting) {
        if (at < e->ready_at) {
            e->ready_at = at;
            cs__heap_up(q, e->heap_idx);
        }
    } else {
        if (q->heap_len == q->heap_cap) {
            size_t cap = q->heap_cap ? q->heap_cap * 2 : 64;
            cs__wq_entry_t **h = realloc(q->heap, cap * sizeof(cs__wq_entry_t *));
            if (!h) {
                cs__maybe_forget(q, e);
                return CS_ENOMEM;
            }
            q->heap = h;
            q->heap_cap = cap;
        }
        e->ready_at = at;
        e->waiting = true;
        e->heap_idx = q->heap_len;
        q->heap[q->heap_len++] = e;
        cs__heap_up(q, e->heap_idx);
    }
    /* A worker may be sleeping until a later time. */
    pthread_cond_broadcast(&q->cond);
    return 0;
}

int cs_workqueue_add_after(cs_workqueue_t *q, const char *key, int64_t delay_ns)
{
    pthread_mutex_lock(&q->mu);
    int rc = cs__add_after_locked(q, key, delay_ns);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

int cs_workqueue_add_rate_limited(cs_workqueue_t *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    if (q->shutdown) {
        pthread_mutex_unlock(&q->mu);
        return CS_ECANCELED;
    }
    cs__wq_entry_t *e = NULL;
    int rc = cs__entry(q, key, &e);
    if (rc != 0) {
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    /* Per-key: base * 2^failures, capped. */
    int64_t per_key = q->base_ns;
    for (int i = 0; i < e->failures && per_key < q->max_ns; i++)
        per_key *= 2;
    if (per_key > q->max_ns)
        per_key = q->max_ns;
    if (e->failures < 1000000)
        e->failures++;
    /* Overall: reserve a token (golang.org/x/time/rate semantics). */
    int64_t now = cs_clock_mono_ns();
    q->tokens += (double)(now - q->last_ns) / 1e9 * q->qps;
    if (q->tokens > q->burst)
        q->tokens = q->burst;
    q->last_ns = now;
    q->tokens -= 1;
    int64_t bucket = q->tokens >= 0 ? 0 : (int64_t)(-q->tokens / q->qps * 1e9);
    rc = cs__add_after_locked(q, key, per_key > bucket ? per_key : bucket);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void cs_workqueue_forget(cs_workqueue_t *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    cs__wq_entry_t *e = key ? cs__kube_map_get(&q->keys, key) : NULL;
    if (e) {
        e->failures = 0;
        cs__maybe_forget(q, e);
    }
    pthread_mutex_unlock(&q->mu);
}

int cs_workqueue_num_requeues(cs_workqueue_t *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    cs__wq_entry_t *e = key ? cs__kube_map_get(&q->keys, key) : NULL;
    int n = e ? e->failures : 0;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int cs_workqueue_get(cs_workqueue_t *q, char **key, int64_t timeout_ns)
{
    *key = NULL;
    int64_t deadline = timeout_ns >= 0 ? cs_clock_mono_ns() + timeout_ns : INT64_MAX;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        int64_t next = q->shutdown ? -1 : cs__promote(q);
        if (q->head)
            break;
        if (q->shutdown) {
            pthread_mutex_unlock(&q->mu);
            return CS_ECANCELED;
        }
        int64_t now = cs_clock_mono_ns();
        if (now >= deadline) {
            pthread_mutex_unlock(&q->mu);
            return CS_ETIMEOUT;
        }
        int64_t wait = deadline == INT64_MAX ? INT64_C(3600) * 1000000000 : deadline - now;
        if (next >= 0 && next < wait)
            wait = next;
        struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, wait);
        pthread_cond_timedwait(&q->cond, &q->mu, &dl);
    }
    cs__wq_entry_t *e = q->head;
    char *copy = cs__kube_strdup(e->key);
    if (!copy) {
        pthread_mutex_unlock(&q->mu);
        return CS_ENOMEM;
    }
    q->head = e->next;
    if (!q->head)
        q->tail = NULL;
    q->queued--;
    e->queued = false;
    e->next = NULL;
    e->dirty = false;
    e->processing = true;
    pthread_mutex_unlock(&q->mu);
    *key = copy;
    return 0;
}

void cs_workqueue_done(cs_workqueue_t *q, const char *key)
{
    pthread_mutex_lock(&q->mu);
    cs__wq_entry_t *e = key ? cs__kube_map_get(&q->keys, key) : NULL;
    if (e && e->processing) {
        e->processing = false;
        if (e->dirty)
            cs__enqueue(q, e);
        else
            cs__maybe_forget(q, e);
    }
    pthread_mutex_unlock(&q->mu);
}

void cs_workqueue_shutdown(cs_workqueue_t *q)
{
    pthread_mutex_lock(&q->mu);
    if (!q->shutdown) {
        q->shutdown = true;
        while (q->heap_len > 0) {
            cs__wq_entry_t *e = cs__heap_pop(q);
            cs__maybe_forget(q, e);
        }
    }
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->mu);
}

bool cs_workqueue_shutting_down(cs_workqueue_t *q)
{
    pthread_mutex_lock(&q->mu);
    bool s = q->shutdown;
    pthread_mutex_unlock(&q->mu);
    return s;
}

size_t cs_workqueue_len(cs_workqueue_t *q)
{
    pthread_mutex_lock(&q->mu);
    if (!q->shutdown)
        cs__promote(q);
    size_t n = q->queued;
    pthread_mutex_unlock(&q->mu);
    return n;
}

size_t cs_workqueue_waiting(cs_workqueue_t *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->heap_len;
    pthread_mutex_unlock(&q->mu);
    return n;
}
