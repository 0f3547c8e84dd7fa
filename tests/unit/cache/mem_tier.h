/* mem_tier.h: an in-memory L3 for the cache tests (cs_cache_tier_ops_t), with
 * call counters and failure injection. Header-only; one per test program. */
#ifndef CS_TEST_MEM_TIER_H
#define CS_TEST_MEM_TIER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/cache.h"

#define MEM_TIER_MAX 4096

typedef struct mem_obj_s {
    char key[64];
    size_t klen;
    uint8_t *data;
    size_t len;
    int used;
} mem_obj_t;

typedef struct mem_tier_s {
    pthread_mutex_t lock;
    mem_obj_t obj[MEM_TIER_MAX];
    atomic_int gets, puts, dels;
    atomic_int fail_puts; /* > 0: that many next puts fail with CS_EIO */
} mem_tier_t;

static mem_obj_t *mem_find(mem_tier_t *t, const void *key, size_t klen)
{
    for (int i = 0; i < MEM_TIER_MAX; i++)
        if (t->obj[i].used && t->obj[i].klen == klen && memcmp(t->obj[i].key, key, klen) == 0)
            return &t->obj[i];
    return NULL;
}

static int mem_get(void *ctx, const void *key, size_t klen, size_t max_len, uint8_t **data, size_t *len, cs_err_t *err)
{
    mem_tier_t *t = ctx;
    atomic_fetch_add(&t->gets, 1);
    pthread_mutex_lock(&t->lock);
    mem_obj_t *o = mem_find(t, key, klen);
    int rc = CS_ENOTFOUND;
    if (o && o->len > max_len) {
        rc = cs_err_set(err, CS_ETOOBIG, "too big");
    } else if (o) {
        *data = malloc(o->len ? o->len : 1);
        memcpy(*data, o->data, o->len);
        *len = o->len;
        rc = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static int mem_put(void *ctx, const void *key, size_t klen, const void *data, size_t len, cs_err_t *err)
{
    mem_tier_t *t = ctx;
    atomic_fetch_add(&t->puts, 1);
    if (atomic_load(&t->fail_puts) > 0) {
        atomic_fetch_sub(&t->fail_puts, 1);
        return cs_err_set(err, CS_EIO, "injected failure");
    }
    if (klen > 64)
        return cs_err_set(err, CS_EINVAL, "key too long for the test tier");
    pthread_mutex_lock(&t->lock);
    mem_obj_t *o = mem_find(t, key, klen);
    for (int i = 0; !o && i < MEM_TIER_MAX; i++)
        if (!t->obj[i].used)
            o = &t->obj[i];
    int rc = 0;
    if (!o) {
        rc = cs_err_set(err, CS_ENOMEM, "test tier full");
    } else {
        free(o->data);
        o->data = malloc(len ? len : 1);
        memcpy(o->data, data, len);
        o->len = len;
        memcpy(o->key, key, klen);
        o->klen = klen;
        o->used = 1;
    }
    pthread_mutex_unlock(&t->lock);
    return rc;
}

static int mem_del(void *ctx, const void *key, size_t klen, cs_err_t *err)
{
    (void)err;
    mem_tier_t *t = ctx;
    atomic_fetch_add(&t->dels, 1);
    pthread_mutex_lock(&t->lock);
    mem_obj_t *o = mem_find(t, key, klen);
    if (o) {
        free(o->data);
        o->data = NULL;
        o->used = 0;
    }
    pthread_mutex_unlock(&t->lock);
    return o ? 0 : CS_ENOTFOUND;
}

static const cs_cache_tier_ops_t mem_tier_ops = {.name = "mem", .get = mem_get, .put = mem_put, .del = mem_del};

static mem_tier_t *mem_tier_new(void)
{
    mem_tier_t *t = calloc(1, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

static void mem_tier_free(mem_tier_t *t)
{
    for (int i = 0; i < MEM_TIER_MAX; i++)
        free(t->obj[i].data);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

#endif
