/* l1.c: the in-memory cache tier (cache_l1.h): refcounted entries in the
 * sharded map, byte capacity reserved before linking, CLOCK eviction. */
#include "couchestor/cache_l1.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct cs_l1_entry_s {
    cs_cache_node_t node; /* key points into data[] after the value */
    _Atomic uint32_t refs;
    _Atomic uint8_t clock; /* CLOCK reference bit, set by readers */
    uint32_t flags;
    size_t vlen;
    size_t charge;
    _Alignas(16) uint8_t data[]; /* value, then key */
};

/* Per-shard counters on their own cache line: readers of different shards
 * never write the same line. */
typedef struct cs__l1_counters_s {
    _Atomic uint64_t hits;
    _Atomic uint64_t misses;
    _Atomic uint64_t inserts;
    _Atomic uint64_t evictions;
} __attribute__((aligned(64))) cs__l1_counters_t;

struct cs_l1_s {
    cs_cache_map_t *map;
    uint32_t nshards;
    uint64_t capacity;
    cs_l1_evict_fn on_evict;
    void *evict_ctx;
    cs__l1_counters_t *counters;
    _Alignas(64) _Atomic uint64_t size;
    _Atomic uint64_t entries;
    _Alignas(64) _Atomic uint32_t evict_cursor;
};

#define CS__ENTRY(n) ((cs_l1_entry_t *)(void *)(n))

size_t cs_l1_charge(size_t klen, size_t vlen)
{
    return sizeof(cs_l1_entry_t) + klen + vlen;
}

int cs_l1_new(const cs_l1_config_t *cfg, cs_l1_t **out, cs_err_t *err)
{
    cs_l1_config_t c = {0};
    if (cfg)
        c = *cfg;
    if (!out)
        return cs_err_set(err, CS_EINVAL, "L1: out is NULL");
    *out = NULL;
    cs_l1_t *l1 = aligned_alloc(64, (sizeof *l1 + 63) & ~(size_t)63);
    if (!l1)
        return cs_err_set(err, CS_ENOMEM, "L1: out of memory");
    memset(l1, 0, sizeof *l1);
    cs_cache_map_config_t mc = {.shards = c.shards, .seed = {c.seed[0], c.seed[1]}};
    int rc = cs_cache_map_new(&mc, &l1->map, err);
    if (rc != 0) {
        free(l1);
        return cs_err_prefix(err, "L1: ");
    }
    l1->nshards = cs_cache_map_shard_count(l1->map);
    l1->counters = aligned_alloc(64, sizeof(cs__l1_counters_t) * l1->nshards);
    if (!l1->counters) {
        cs_cache_map_free(&l1->map);
        free(l1);
        return cs_err_set(err, CS_ENOMEM, "L1: out of memory for counters");
    }
    memset(l1->counters, 0, sizeof(cs__l1_counters_t) * l1->nshards);
    l1->capacity = c.capacity_bytes ? c.capacity_bytes : CS_L1_CAPACITY_DEFAULT;
    l1->on_evict = c.on_evict;
    l1->evict_ctx = c.evict_ctx;
    *out = l1;
    return 0;
}

static void cs__entry_unref(cs_l1_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        free(e);
}

static void cs__drain_one(cs_cache_node_t *n, void *ctx)
{
    (void)ctx;
    cs__entry_unref(CS__ENTRY(n));
}

void cs_l1_free(cs_l1_t **l1p)
{
    if (!l1p || !*l1p)
        return;
    cs_l1_t *l1 = *l1p;
    cs_cache_map_drain(l1->map, cs__drain_one, NULL);
    cs_cache_map_free(&l1->map);
    free(l1->counters);
    free(l1);
    *l1p = NULL;
}

static inline bool cs__key_ok(const void *key, size_t klen)
{
    return key && klen > 0 && klen <= CS_CACHE_KEY_MAX;
}

int cs_l1_get(cs_l1_t *l1, const void *key, size_t klen, cs_l1_entry_t **out)
{
    *out = NULL;
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    cs_cache_map_read_lock(l1->map, s);
    cs_cache_node_t *n = cs_cache_map_find_locked(l1->map, s, h, key, klen);
    if (n) {
        cs_l1_entry_t *e = CS__ENTRY(n);
        /* Test before set: a hot entry's line is not dirtied on every hit. */
        if (!atomic_load_explicit(&e->clock, memory_order_relaxed))
            atomic_store_explicit(&e->clock, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
        *out = e;
    }
    cs_cache_map_read_unlock(l1->map, s);
    atomic_fetch_add_explicit(n ? &l1->counters[s].hits : &l1->counters[s].misses, 1,
                              memory_order_relaxed);
    return n ? 0 : CS_ENOTFOUND;
}

int cs_l1_get_copy(cs_l1_t *l1, const void *key, size_t klen, void *buf, size_t cap,
                   size_t *vlen)
{
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    int rc = CS_ENOTFOUND;
    cs_cache_map_read_lock(l1->map, s);
    cs_cache_node_t *n = cs_cache_map_find_locked(l1->map, s, h, key, klen);
    if (n) {
        cs_l1_entry_t *e = CS__ENTRY(n);
        if (!atomic_load_explicit(&e->clock, memory_order_relaxed))
            atomic_store_explicit(&e->clock, 1, memory_order_relaxed);
        *vlen = e->vlen;
        if (e->vlen <= cap) {
            memcpy(buf, e->data, e->vlen);
            rc = 0;
        } else {
            rc = CS_ETOOBIG;
        }
    }
    cs_cache_map_read_unlock(l1->map, s);
    atomic_fetch_add_explicit(n ? &l1->counters[s].hits : &l1->counters[s].misses, 1,
                              memory_order_relaxed);
    return rc;
}

bool cs_l1_contains(cs_l1_t *l1, const void *key, size_t klen)
{
    if (!cs__key_ok(key, klen))
        return false;
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    cs_cache_map_read_lock(l1->map, s);
    bool found = cs_cache_map_find_locked(l1->map, s, h, key, klen) != NULL;
    cs_cache_map_read_unlock(l1->map, s);
    return found;
}

/* Evicts one entry by CLOCK from the next shard in round-robin order that
 * has any. Returns false when every shard is empty. */
static bool cs__evict_one(cs_l1_t *l1)
{
    for (uint32_t tries = 0; tries < l1->nshards; tries++) {
        uint32_t s = atomic_fetch_add_explicit(&l1->evict_cursor, 1, memory_order_relaxed) &
                     (l1->nshards - 1);
        cs_cache_map_write_lock(l1->map, s);
        size_t count = cs_cache_map_count_locked(l1->map, s);
        cs_l1_entry_t *victim = NULL;
        /* Two sweeps at most: the first clears every bit it passes. */
        for (size_t step = 0; step <= 2 * count; step++) {
            cs_cache_node_t *n = cs_cache_map_clock_hand_locked(l1->map, s);
            if (!n)
                break;
            cs_l1_entry_t *e = CS__ENTRY(n);
            if (atomic_load_explicit(&e->clock, memory_order_relaxed)) {
                atomic_store_explicit(&e->clock, 0, memory_order_relaxed);
                cs_cache_map_clock_advance_locked(l1->map, s);
                continue;
            }
            victim = e;
            break;
        }
        if (victim) {
            cs_cache_map_unlink_locked(l1->map, s, &victim->node);
            atomic_fetch_sub_explicit(&l1->size, victim->charge, memory_order_relaxed);
            atomic_fetch_sub_explicit(&l1->entries, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&l1->counters[s].evictions, 1, memory_order_relaxed);
            if (l1->on_evict)
                l1->on_evict(l1->evict_ctx, victim);
        }
        cs_cache_map_write_unlock(l1->map, s);
        if (victim) {
            cs__entry_unref(victim);
            return true;
        }
    }
    return false;
}

/* Reserves charge bytes of capacity, evicting until they fit. */
static void cs__reserve(cs_l1_t *l1, size_t charge)
{
    uint64_t cur = atomic_load_explicit(&l1->size, memory_order_relaxed);
    for (;;) {
        if (cur + charge <= l1->capacity) {
            if (atomic_compare_exchange_weak_explicit(&l1->size, &cur, cur + charge,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed))
                return;
            continue;
        }
        /* Nothing linked to evict means other puts hold reservations they
         * are about to link; let them run. */
        if (!cs__evict_one(l1))
            sched_yield();
        cur = atomic_load_explicit(&l1->size, memory_order_relaxed);
    }
}

static int cs__put(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen,
                   uint32_t flags, bool if_absent, cs_err_t *err)
{
    if (!cs__key_ok(key, klen))
        return cs_err_set(err, CS_EINVAL, "L1 put: key length %zu must be 1..%u", klen,
                          CS_CACHE_KEY_MAX);
    if (!value && vlen)
        return cs_err_set(err, CS_EINVAL, "L1 put: value is NULL");
    size_t charge = cs_l1_charge(klen, vlen);
    if (vlen > l1->capacity || charge > l1->capacity)
        return cs_err_set(err, CS_ETOOBIG,
                          "L1 put: entry of %zu bytes exceeds the L1 capacity of %llu bytes",
                          charge, (unsigned long long)l1->capacity);
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    if (if_absent) {
        cs_cache_map_read_lock(l1->map, s);
        bool found = cs_cache_map_find_locked(l1->map, s, h, key, klen) != NULL;
        cs_cache_map_read_unlock(l1->map, s);
        if (found)
            return CS_EEXISTS;
    }
    cs_l1_entry_t *e = malloc(sizeof *e + vlen + klen);
    if (!e)
        return cs_err_set(err, CS_ENOMEM, "L1 put: out of memory for %zu bytes", charge);
    if (vlen)
        memcpy(e->data, value, vlen);
    memcpy(e->data + vlen, key, klen);
    e->node.hash = h;
    e->node.key = e->data + vlen;
    e->node.klen = (uint32_t)klen;
    atomic_init(&e->refs, 1);
    atomic_init(&e->clock, 1);
    e->flags = flags;
    e->vlen = vlen;
    e->charge = charge;

    cs__reserve(l1, charge);
    cs_cache_map_write_lock(l1->map, s);
    cs_cache_node_t *old = NULL;
    int rc;
    if (if_absent && cs_cache_map_find_locked(l1->map, s, h, key, klen)) {
        rc = CS_EEXISTS;
    } else {
        rc = cs_cache_map_insert_locked(l1->map, s, &e->node, &old);
        if (rc == 0) {
            atomic_fetch_add_explicit(&l1->counters[s].inserts, 1, memory_order_relaxed);
            if (old)
                atomic_fetch_sub_explicit(&l1->size, CS__ENTRY(old)->charge,
                                          memory_order_relaxed);
            else
                atomic_fetch_add_explicit(&l1->entries, 1, memory_order_relaxed);
        }
    }
    cs_cache_map_write_unlock(l1->map, s);
    if (rc != 0) {
        atomic_fetch_sub_explicit(&l1->size, charge, memory_order_relaxed);
        free(e);
        if (rc == CS_ENOMEM)
            return cs_err_set(err, rc, "L1 put: out of memory growing shard %u", s);
        return rc;
    }
    if (old)
        cs__entry_unref(CS__ENTRY(old));
    return 0;
}

int cs_l1_put(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen,
              uint32_t flags, cs_err_t *err)
{
    return cs__put(l1, key, klen, value, vlen, flags, false, err);
}

int cs_l1_put_if_absent(cs_l1_t *l1, const void *key, size_t klen, const void *value,
                        size_t vlen, uint32_t flags, cs_err_t *err)
{
    return cs__put(l1, key, klen, value, vlen, flags, true, err);
}

int cs_l1_delete(cs_l1_t *l1, const void *key, size_t klen)
{
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    cs_cache_map_write_lock(l1->map, s);
    cs_cache_node_t *n = cs_cache_map_remove_locked(l1->map, s, h, key, klen);
    if (n) {
        atomic_fetch_sub_explicit(&l1->size, CS__ENTRY(n)->charge, memory_order_relaxed);
        atomic_fetch_sub_explicit(&l1->entries, 1, memory_order_relaxed);
    }
    cs_cache_map_write_unlock(l1->map, s);
    if (!n)
        return CS_ENOTFOUND;
    cs__entry_unref(CS__ENTRY(n));
    return 0;
}

const void *cs_l1_entry_value(const cs_l1_entry_t *e, size_t *vlen)
{
    if (vlen)
        *vlen = e->vlen;
    return e->data;
}

const void *cs_l1_entry_key(const cs_l1_entry_t *e, size_t *klen)
{
    if (klen)
        *klen = e->node.klen;
    return e->node.key;
}

uint32_t cs_l1_entry_flags(const cs_l1_entry_t *e)
{
    return e->flags;
}

void cs_l1_entry_release(cs_l1_entry_t **e)
{
    if (!e || !*e)
        return;
    cs__entry_unref(*e);
    *e = NULL;
}

void cs_l1_stats(cs_l1_t *l1, cs_l1_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t i = 0; i < l1->nshards; i++) {
        out->hits += atomic_load_explicit(&l1->counters[i].hits, memory_order_relaxed);
        out->misses += atomic_load_explicit(&l1->counters[i].misses, memory_order_relaxed);
        out->inserts += atomic_load_explicit(&l1->counters[i].inserts, memory_order_relaxed);
        out->evictions += atomic_load_explicit(&l1->counters[i].evictions, memory_order_relaxed);
    }
    out->bytes = atomic_load_explicit(&l1->size, memory_order_relaxed);
    out->entries = atomic_load_explicit(&l1->entries, memory_order_relaxed);
    out->capacity_bytes = l1->capacity;
}
