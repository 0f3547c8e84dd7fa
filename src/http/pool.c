/* pool.c: a bounded pool of HTTP connections lent to the threads of one
 * API client (http.h). */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "couchestor/http.h"

struct cs_http_pool_s {
    pthread_mutex_t lock;
    /* Only ever cloned, and never changed after new: a take may clone it
     * without the lock. */
    cs_http_client_t *proto;
    size_t max_idle;
    size_t out;
    /* Set by free while connections are out: the last give frees the pool. */
    bool closing;
    size_t idle_n;
    cs_http_client_t *idle[]; /* max_idle slots; the last given back is on top */
};

int cs_http_pool_new(const cs_http_options_t *opts, size_t max_idle, cs_http_pool_t **out, cs_err_t *err)
{
    *out = NULL;
    if (max_idle > CS_HTTP_POOL_MAX_IDLE)
        return cs_err_set(err, CS_EINVAL, "HTTP connection pool: %zu idle connections is above the limit of %d",
                          max_idle, CS_HTTP_POOL_MAX_IDLE);
    if (max_idle == 0)
        max_idle = CS_HTTP_POOL_DEFAULT_IDLE;
    cs_http_pool_t *pool = calloc(1, sizeof *pool + max_idle * sizeof(cs_http_client_t *));
    if (!pool)
        return cs_err_set(err, CS_ENOMEM, "HTTP connection pool: out of memory");
    int rc = cs_http_client_new(opts, &pool->proto, err);
    if (rc) {
        free(pool);
        return rc;
    }
    pthread_mutex_init(&pool->lock, NULL);
    pool->max_idle = max_idle;
    *out = pool;
    return 0;
}

static void cs__pool_destroy(cs_http_pool_t *pool)
{
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}

void cs_http_pool_free(cs_http_pool_t *pool)
{
    if (!pool)
        return;
    cs_http_client_t *idle[CS_HTTP_POOL_MAX_IDLE];
    pthread_mutex_lock(&pool->lock);
    pool->closing = true;
    size_t n = pool->idle_n;
    for (size_t i = 0; i < n; i++)
        idle[i] = pool->idle[i];
    pool->idle_n = 0;
    cs_http_client_t *proto = pool->proto;
    pool->proto = NULL;
    bool last = pool->out == 0;
    pthread_mutex_unlock(&pool->lock);
    /* From here a give on another thread may free the pool (when !last):
     * only the local copies are touched. */
    for (size_t i = 0; i < n; i++)
        cs_http_client_free(idle[i]);
    cs_http_client_free(proto);
    if (last)
        cs__pool_destroy(pool);
}

int cs_http_pool_take(cs_http_pool_t *pool, cs_http_client_t **out, cs_err_t *err)
{
    *out = NULL;
    pthread_mutex_lock(&pool->lock);
    cs_http_client_t *c = pool->idle_n > 0 ? pool->idle[--pool->idle_n] : NULL;
    pool->out++;
    pthread_mutex_unlock(&pool->lock);
    if (!c) {
        int rc = cs_http_client_clone(pool->proto, &c, err);
        if (rc) {
            pthread_mutex_lock(&pool->lock);
            pool->out--;
            pthread_mutex_unlock(&pool->lock);
            return rc;
        }
    }
    *out = c;
    return 0;
}

void cs_http_pool_give(cs_http_pool_t *pool, cs_http_client_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->out--;
    if (!pool->closing && pool->idle_n < pool->max_idle) {
        pool->idle[pool->idle_n++] = c;
        c = NULL;
    }
    bool last = pool->closing && pool->out == 0;
    pthread_mutex_unlock(&pool->lock);
    /* curl_easy_cleanup may say goodbye to a TLS peer: not under the lock. */
    cs_http_client_free(c);
    if (last)
        cs__pool_destroy(pool);
}

void cs_http_pool_stats(cs_http_pool_t *pool, cs_http_pool_stats_t *out)
{
    pthread_mutex_lock(&pool->lock);
    out->idle = pool->idle_n;
    out->out = pool->out;
    pthread_mutex_unlock(&pool->lock);
}
