/* bufpool.c: a bounded, mutex-guarded free list of equal-sized cs_buf_t. */
#include "couchestor/buf.h"

#include <pthread.h>
#include <stdlib.h>

struct cs_bufpool_s {
    pthread_mutex_t lock;
    size_t buf_size;
    unsigned flags;
    size_t max_cached;
    size_t ncached;
    size_t outstanding;
    cs_buf_t **cached; /* max_cached slots */
};

int cs_bufpool_new(size_t buf_size, size_t max_cached, unsigned flags, cs_bufpool_t **out, cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_bufpool_new: out is NULL");
    *out = NULL;
    cs_bufpool_t *p = calloc(1, sizeof *p);
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "buffer pool: out of memory");
    p->cached = calloc(max_cached ? max_cached : 1, sizeof(cs_buf_t *));
    if (!p->cached) {
        free(p);
        return cs_err_set(err, CS_ENOMEM, "buffer pool: out of memory");
    }
    pthread_mutex_init(&p->lock, NULL);
    p->buf_size = buf_size;
    p->flags = flags;
    p->max_cached = max_cached;
    *out = p;
    return 0;
}

int cs_bufpool_get(cs_bufpool_t *pool, cs_buf_t **out, cs_err_t *err)
{
    if (!pool || !out)
        return cs_err_set(err, CS_EINVAL, "cs_bufpool_get: NULL argument");
    pthread_mutex_lock(&pool->lock);
    if (pool->ncached > 0) {
        *out = pool->cached[--pool->ncached];
        pool->outstanding++;
        pthread_mutex_unlock(&pool->lock);
        return 0;
    }
    pthread_mutex_unlock(&pool->lock);
    /* Allocate outside the lock: it may take a while (mlock, huge pages). */
    int rc = cs_buf_alloc(pool->buf_size, pool->flags, out, err);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&pool->lock);
    pool->outstanding++;
    pthread_mutex_unlock(&pool->lock);
    return 0;
}

void cs_bufpool_put(cs_bufpool_t *pool, cs_buf_t *buf)
{
    if (!pool || !buf)
        return;
    pthread_mutex_lock(&pool->lock);
    if (pool->outstanding > 0)
        pool->outstanding--;
    if (pool->ncached < pool->max_cached) {
        pool->cached[pool->ncached++] = buf;
        buf = NULL;
    }
    pthread_mutex_unlock(&pool->lock);
    cs_buf_free(&buf);
}

size_t cs_bufpool_outstanding(cs_bufpool_t *pool)
{
    if (!pool)
        return 0;
    pthread_mutex_lock(&pool->lock);
    size_t n = pool->outstanding;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

int cs_bufpool_free(cs_bufpool_t **pool)
{
    if (!pool || !*pool)
        return 0;
    cs_bufpool_t *p = *pool;
    pthread_mutex_lock(&p->lock);
    size_t outstanding = p->outstanding;
    pthread_mutex_unlock(&p->lock);
    if (outstanding > 0)
        return CS_EBUSY;
    for (size_t i = 0; i < p->ncached; i++)
        cs_buf_free(&p->cached[i]);
    free(p->cached);
    pthread_mutex_destroy(&p->lock);
    free(p);
    *pool = NULL;
    return 0;
}
