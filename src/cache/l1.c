/* l1.c: the in-memory cache tier (cache_l1.h): refcounted entries in the
 * sharded map, byte capacity reserved before linking, CLOCK eviction. */
#include "couchestor/cache_l1.h"

#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A 56-byte header, then the key; a small value follows the key in the
 * same allocation, a large one (over CS__L1_INLINE_MAX) has its own. A hit
 * then reads the header and key from one dense allocation, as a plain hash
 * table would, and never touches the pages of a large value it does not
 * read (each would cost a TLB miss and a page walk). */
struct cs_l1_entry_s {
    cs_cache_node_t node; /* key points at data[0] */
    _Atomic uint32_t refs;
    _Atomic uint8_t clock; /* CLOCK reference bit, set by readers */
    uint32_t flags;
    size_t vlen;
    uint8_t *value;             /* into data[] (inline) or its own allocation */
    _Alignas(8) uint8_t data[]; /* key, then an inline value (16-byte aligned) */
};

#define CS__L1_INLINE_MAX 512u

/* Offset of an inline value in data[]: after the key, 16-byte aligned from
 * the start of the entry. */
static inline size_t cs__voff(size_t klen)
{
    size_t at = offsetof(cs_l1_entry_t, data) + klen;
    return ((at + 15u) & ~(size_t)15u) - offsetof(cs_l1_entry_t, data);
}

static inline bool cs__inline(size_t vlen)
{
    return vlen <= CS__L1_INLINE_MAX;
}

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
    uint32_t nshards, shard_mask;
    uint64_t capacity;
    cs_l1_evict_fn on_evict;
    void *evict_ctx;
    cs__l1_counters_t *counters;
    /* The one shared word a put writes: the capacity reservation. */
    _Alignas(64) _Atomic uint64_t size;
    /* Only for evictions from other shards when a put's own is empty. */
    _Alignas(64) _Atomic uint32_t evict_cursor;
};

#define CS__ENTRY(n) ((cs_l1_entry_t *)(void *)(n))

size_t cs_l1_charge(size_t klen, size_t vlen)
{
    return sizeof(cs_l1_entry_t) + cs__voff(klen) + vlen; /* the same either way */
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
    l1->shard_mask = l1->nshards - 1;
    l1->on_evict = c.on_evict;
    l1->evict_ctx = c.evict_ctx;
    *out = l1;
    return 0;
}

static void cs__entry_free(cs_l1_entry_t *e)
{
    if (e->value != e->data + cs__voff(e->node.klen))
        free(e->value);
    free(e);
}

static void cs__entry_unref(cs_l1_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        cs__entry_free(e);
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
    atomic_fetch_add_explicit(n ? &l1->counters[s].hits : &l1->counters[s].misses, 1, memory_order_relaxed);
    return n ? 0 : CS_ENOTFOUND;
}

int cs_l1_get_copy(cs_l1_t *l1, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen)
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
            memcpy(buf, e->value, e->vlen);
            rc = 0;
        } else {
            rc = CS_ETOOBIG;
        }
    }
    cs_cache_map_read_unlock(l1->map, s);
    atomic_fetch_add_explicit(n ? &l1->counters[s].hits : &l1->counters[s].misses, 1, memory_order_relaxed);
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

/* Shard s write-locked: evicts one entry of s by CLOCK (a second chance for
 * entries whose bit is set). Returns false when s is empty. */
static bool cs__evict_locked(cs_l1_t *l1, uint32_t s, cs_l1_entry_t **out)
{
    size_t count = cs_cache_map_count_locked(l1->map, s);
    /* Two sweeps at most: the first clears every bit it passes. */
    for (size_t step = 0; step <= 2 * count; step++) {
        cs_cache_node_t *n = cs_cache_map_clock_hand_locked(l1->map, s);
        if (!n)
            return false;
        cs_l1_entry_t *e = CS__ENTRY(n);
        if (atomic_load_explicit(&e->clock, memory_order_relaxed)) {
            atomic_store_explicit(&e->clock, 0, memory_order_relaxed);
            cs_cache_map_clock_advance_locked(l1->map, s);
            continue;
        }
        cs_cache_map_unlink_locked(l1->map, s, &e->node);
        atomic_fetch_sub_explicit(&l1->size, cs_l1_charge(e->node.klen, e->vlen), memory_order_relaxed);
        /* Only written under the shard's write lock: no RMW needed. */
        atomic_store_explicit(&l1->counters[s].evictions,
                              atomic_load_explicit(&l1->counters[s].evictions, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        if (l1->on_evict)
            l1->on_evict(l1->evict_ctx, e);
        *out = e;
        return true;
    }
    return false;
}

/* Evicts one entry from the next non-empty shard in round-robin order other
 * than `skip` (whose lock the caller does not hold). Returns false when
 * every other shard is empty. */
static bool cs__evict_elsewhere(cs_l1_t *l1, uint32_t skip)
{
    for (uint32_t tries = 0; tries < l1->nshards; tries++) {
        uint32_t s = atomic_fetch_add_explicit(&l1->evict_cursor, 1, memory_order_relaxed) & l1->shard_mask;
        if (s == skip && l1->nshards > 1)
            continue;
        cs_l1_entry_t *victim = NULL;
        cs_cache_map_write_lock(l1->map, s);
        bool ok = cs__evict_locked(l1, s, &victim);
        cs_cache_map_write_unlock(l1->map, s);
        if (ok) {
            cs__entry_unref(victim);
            return true;
        }
    }
    return false;
}

static inline bool cs__try_reserve(cs_l1_t *l1, size_t charge)
{
    uint64_t cur = atomic_load_explicit(&l1->size, memory_order_relaxed);
    while (cur + charge <= l1->capacity)
        if (atomic_compare_exchange_weak_explicit(&l1->size, &cur, cur + charge, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

/* Victims are unreferenced after the shard lock is dropped: their memory
 * (cold, by CLOCK) is not touched while other threads wait for the lock. */
#define CS__L1_VICTIMS_MAX 8

static int cs__put(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen, uint32_t flags,
                   bool if_absent, cs_err_t *err)
{
    if (!cs__key_ok(key, klen))
        return cs_err_set(err, CS_EINVAL, "L1 put: key length %zu must be 1..%u", klen, CS_CACHE_KEY_MAX);
    if (!value && vlen)
        return cs_err_set(err, CS_EINVAL, "L1 put: value is NULL");
    size_t charge = cs_l1_charge(klen, vlen);
    if (vlen > l1->capacity || charge > l1->capacity)
        return cs_err_set(err, CS_ETOOBIG, "L1 put: entry of %zu bytes exceeds the L1 capacity of %llu bytes", charge,
                          (unsigned long long)l1->capacity);
    uint64_t h = cs_cache_map_hash(l1->map, key, klen);
    uint32_t s = cs_cache_map_shard_of(l1->nshards, h);
    if (if_absent) {
        cs_cache_map_read_lock(l1->map, s);
        bool found = cs_cache_map_find_locked(l1->map, s, h, key, klen) != NULL;
        cs_cache_map_read_unlock(l1->map, s);
        if (found)
            return CS_EEXISTS;
    }
    bool inl = cs__inline(vlen);
    cs_l1_entry_t *e = malloc(sizeof *e + (inl ? cs__voff(klen) + vlen : klen));
    uint8_t *vbuf = NULL;
    if (e && !inl && !(vbuf = malloc(vlen))) {
        free(e);
        e = NULL;
    }
    if (!e)
        return cs_err_set(err, CS_ENOMEM, "L1 put: out of memory for %zu bytes", charge);
    memcpy(e->data, key, klen);
    e->value = inl ? e->data + cs__voff(klen) : vbuf;
    if (vlen)
        memcpy(e->value, value, vlen);
    e->node.hash = h;
    e->node.key = e->data;
    e->node.klen = (uint32_t)klen;
    atomic_init(&e->refs, 1);
    atomic_init(&e->clock, 1);
    e->flags = flags;
    e->vlen = vlen;

    /* Reserve the charge before linking, evicting from this shard under the
     * lock the insert needs anyway: the size never exceeds the capacity, and
     * puts on different shards never meet on an eviction structure. */
    cs_l1_entry_t *victims[CS__L1_VICTIMS_MAX];
    size_t nvictims = 0;
    cs_cache_node_t *old = NULL;
    int rc;
    cs_cache_map_write_lock(l1->map, s);
    for (;;) {
        if (cs__try_reserve(l1, charge))
            break;
        if (nvictims < CS__L1_VICTIMS_MAX && cs__evict_locked(l1, s, &victims[nvictims])) {
            nvictims++;
            continue;
        }
        /* This shard is empty (or the victim list is full): evict elsewhere
         * without holding our lock, so two puts never wait on each other. */
        cs_cache_map_write_unlock(l1->map, s);
        while (nvictims > 0)
            cs__entry_unref(victims[--nvictims]);
        /* Nothing linked anywhere means other puts hold reservations they
         * are about to link; let them run. */
        if (!cs__try_reserve(l1, charge)) {
            if (!cs__evict_elsewhere(l1, s))
                sched_yield();
            cs_cache_map_write_lock(l1->map, s);
            continue;
        }
        cs_cache_map_write_lock(l1->map, s);
        break;
    }
    if (if_absent && cs_cache_map_find_locked(l1->map, s, h, key, klen)) {
        rc = CS_EEXISTS;
    } else {
        rc = cs_cache_map_insert_locked(l1->map, s, &e->node, &old);
        if (rc == 0) {
            atomic_store_explicit(&l1->counters[s].inserts,
                                  atomic_load_explicit(&l1->counters[s].inserts, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            if (old)
                atomic_fetch_sub_explicit(&l1->size, cs_l1_charge(old->klen, CS__ENTRY(old)->vlen),
                                          memory_order_relaxed);
        }
    }
    cs_cache_map_write_unlock(l1->map, s);
    while (nvictims > 0)
        cs__entry_unref(victims[--nvictims]);
    if (rc != 0) {
        atomic_fetch_sub_explicit(&l1->size, charge, memory_order_relaxed);
        cs__entry_free(e);
        if (rc == CS_ENOMEM)
            return cs_err_set(err, rc, "L1 put: out of memory growing shard %u", s);
        return rc;
    }
    if (old)
        cs__entry_unref(CS__ENTRY(old));
    return 0;
}

int cs_l1_put(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen, uint32_t flags, cs_err_t *err)
{
    return cs__put(l1, key, klen, value, vlen, flags, false, err);
}

int cs_l1_put_if_absent(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen, uint32_t flags,
                        cs_err_t *err)
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
    if (n)
        atomic_fetch_sub_explicit(&l1->size, cs_l1_charge(n->klen, CS__ENTRY(n)->vlen), memory_order_relaxed);
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
    return e->value;
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
    out->entries = cs_cache_map_count(l1->map);
    out->capacity_bytes = l1->capacity;
}
