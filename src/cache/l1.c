/* l1.c: the in-memory cache tier (cache_l1.h): refcounted entries in
 * type-stable slab memory, one table per shard read under a seqlock and
 * written under a mutex, byte capacity reserved before linking, CLOCK
 * eviction per shard.
 *
 * Read protocol (cs__rbegin/cs__rvalid): a reader loads the shard's sequence
 * (even = no writer inside), probes the table and reads the entry with
 * relaxed atomic loads, then checks that the sequence did not move; if it
 * did, it starts again. Nothing a reader touches is ever freed while the
 * cache lives: replaced tables are kept until cs_l1_free, and entries live
 * in slabs of one size class each that are never returned to malloc, so a
 * reader that races a writer reads stale (never unmapped) memory and throws
 * it away. A reader that returns a reference takes it with an
 * increment-if-not-zero (a freed entry has no references) before checking
 * the sequence; a copying reader of an inline value takes none. */
#include "couchestor/cache_l1.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

typedef _Atomic uint64_t cs__word_t;

/* A 48-byte header, the key (zero-padded to 8 bytes) and, when everything
 * fits in CS__CLASS_MAX bytes, the value at a 16-byte boundary; a larger
 * value has its own allocation (read only by holders of a reference). Every
 * field is atomic: a racing reader may read an entry that a writer is
 * reusing (see above). */
struct cs_l1_entry_s {
    _Atomic uint32_t refs; /* 0 = free */
    _Atomic uint32_t clock;
    _Atomic uint32_t klen;
    _Atomic uint32_t flags;
    _Atomic uint32_t cls; /* size class of the slab slot: never changes */
    uint32_t unused;
    _Atomic uint64_t vlen;
    _Atomic(uint8_t *) value;
    _Atomic(struct cs_l1_entry_s *) next_free;
    cs__word_t w[];
};

#define CS__HDR sizeof(cs_l1_entry_t)
#define CS__CLASSES 6
#define CS__CLASS_MIN 64u
#define CS__CLASS_MAX (CS__CLASS_MIN << (CS__CLASSES - 1)) /* 2048 */
#define CS__CHUNK (64u << 10)
#define CS__CHUNK_HDR 128u /* so that 128-byte entries sit on 128-byte boundaries (line pairs) */

/* Offset of an inline value from the start of the entry. */
static inline size_t cs__voff(size_t klen)
{
    return (CS__HDR + ((klen + 7) & ~(size_t)7) + 15) & ~(size_t)15;
}

static inline bool cs__inline(size_t klen, size_t vlen)
{
    return cs__voff(klen) + vlen <= CS__CLASS_MAX;
}

static inline uint32_t cs__class(size_t klen, size_t vlen)
{
    size_t bytes = cs__inline(klen, vlen) ? cs__voff(klen) + vlen : cs__voff(klen);
    uint32_t c = 0;
    while ((CS__CLASS_MIN << c) < bytes)
        c++;
    return c;
}

/* ---- slabs: type-stable entry memory ---- */

typedef struct cs__chunk_s {
    struct cs__pool_s *pool;
    struct cs__chunk_s *next;
    uint32_t cls;
} cs__chunk_t;

typedef struct cs__class_s {
    pthread_mutex_t lock;
    cs_l1_entry_t *free;
    uint8_t *bump, *end;
    cs__chunk_t *chunks;
} __attribute__((aligned(64))) cs__class_t;

typedef struct cs__pool_s {
    cs__class_t cls[CS__CLASSES];
    /* Allocated entries, plus one while the cache lives: the last of
     * cs_l1_free and the release of the last outstanding reference frees
     * the pool. */
    _Atomic uint64_t live;
} cs__pool_t;

static void cs__pool_destroy(cs__pool_t *p)
{
    for (int c = 0; c < CS__CLASSES; c++) {
        cs__chunk_t *ch = p->cls[c].chunks;
        while (ch) {
            cs__chunk_t *next = ch->next;
            free(ch);
            ch = next;
        }
        pthread_mutex_destroy(&p->cls[c].lock);
    }
    free(p);
}

static cs_l1_entry_t *cs__pool_alloc(cs__pool_t *p, uint32_t c)
{
    cs__class_t *k = &p->cls[c];
    size_t size = CS__CLASS_MIN << c;
    cs_l1_entry_t *e = NULL;
    pthread_mutex_lock(&k->lock);
    if (k->free) {
        e = k->free;
        k->free = atomic_load_explicit(&e->next_free, memory_order_relaxed);
    } else {
        if (!k->bump || k->bump + size > k->end) {
            cs__chunk_t *ch = aligned_alloc(CS__CHUNK, CS__CHUNK);
            if (!ch) {
                pthread_mutex_unlock(&k->lock);
                return NULL;
            }
            ch->pool = p;
            ch->cls = c;
            ch->next = k->chunks;
            k->chunks = ch;
            k->bump = (uint8_t *)ch + CS__CHUNK_HDR;
            k->end = (uint8_t *)ch + CS__CHUNK;
            /* Fresh memory: give every atomic a defined value once. */
            memset(k->bump, 0, CS__CHUNK - CS__CHUNK_HDR);
        }
        e = (cs_l1_entry_t *)(void *)k->bump;
        k->bump += size;
    }
    pthread_mutex_unlock(&k->lock);
    atomic_store_explicit(&e->cls, c, memory_order_relaxed);
    atomic_fetch_add_explicit(&p->live, 1, memory_order_relaxed);
    return e;
}

static inline cs__chunk_t *cs__chunk_of(const cs_l1_entry_t *e)
{
    return (cs__chunk_t *)((uintptr_t)e & ~(uintptr_t)(CS__CHUNK - 1));
}

static inline size_t cs__class_size(cs_l1_entry_t *e)
{
    return (size_t)CS__CLASS_MIN << (atomic_load_explicit(&e->cls, memory_order_relaxed) % CS__CLASSES);
}

static void cs__entry_free(cs_l1_entry_t *e)
{
    cs__chunk_t *ch = cs__chunk_of(e);
    cs__pool_t *p = ch->pool;
    size_t klen = atomic_load_explicit(&e->klen, memory_order_relaxed);
    uint8_t *v = atomic_load_explicit(&e->value, memory_order_relaxed);
    if (v != (uint8_t *)e + cs__voff(klen))
        free(v);
    cs__class_t *k = &p->cls[ch->cls];
    pthread_mutex_lock(&k->lock);
    atomic_store_explicit(&e->next_free, k->free, memory_order_relaxed);
    k->free = e;
    pthread_mutex_unlock(&k->lock);
    if (atomic_fetch_sub_explicit(&p->live, 1, memory_order_acq_rel) == 1)
        cs__pool_destroy(p);
}

static void cs__entry_unref(cs_l1_entry_t *e)
{
    if (atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1)
        cs__entry_free(e);
}

/* A reference unless the entry is free (it may be reused meanwhile: the
 * caller checks its read section before trusting the entry). */
static inline bool cs__ref_try(cs_l1_entry_t *e)
{
    uint32_t r = atomic_load_explicit(&e->refs, memory_order_relaxed);
    while (r != 0)
        if (atomic_compare_exchange_weak_explicit(&e->refs, &r, r + 1, memory_order_acquire, memory_order_relaxed))
            return true;
    return false;
}

static void cs__words_store(cs__word_t *w, const void *src, size_t n)
{
    const uint8_t *s = src;
    size_t full = n / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t x;
        memcpy(&x, s + 8 * i, 8);
        atomic_store_explicit(&w[i], x, memory_order_relaxed);
    }
    if (n & 7) {
        uint64_t x = 0;
        memcpy(&x, s + 8 * full, n & 7);
        atomic_store_explicit(&w[full], x, memory_order_relaxed);
    }
}

static void cs__words_load(void *dst, cs__word_t *w, size_t n)
{
    uint8_t *d = dst;
    size_t full = n / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t x = atomic_load_explicit(&w[i], memory_order_relaxed);
        memcpy(d + 8 * i, &x, 8);
    }
    if (n & 7) {
        uint64_t x = atomic_load_explicit(&w[full], memory_order_relaxed);
        memcpy(d + 8 * full, &x, n & 7);
    }
}

static inline bool cs__key_eq(cs_l1_entry_t *e, const uint8_t *key, size_t klen)
{
    if (atomic_load_explicit(&e->klen, memory_order_relaxed) != klen)
        return false;
    size_t full = klen / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t q;
        memcpy(&q, key + 8 * i, 8);
        if (atomic_load_explicit(&e->w[i], memory_order_relaxed) != q)
            return false;
    }
    if (klen & 7) {
        uint64_t q = 0;
        memcpy(&q, key + 8 * full, klen & 7);
        if (atomic_load_explicit(&e->w[full], memory_order_relaxed) != q)
            return false;
    }
    return true;
}

/* ---- shards: an open-addressing table under a seqlock ---- */

typedef struct cs__slot_s {
    _Atomic uint64_t hash;
    _Atomic(cs_l1_entry_t *) e; /* NULL = empty */
} cs__slot_t;

/* A table: a 64-byte header, then the slots (64-byte aligned, so that the
 * shard can keep the slots' address and log2 of their count in one word). */
typedef struct cs__tab_s {
    struct cs__tab_s *retired; /* the table this one replaced */
    uint8_t pad[56];
    cs__slot_t slots[];
} cs__tab_t;

/* What a lookup needs of a table, from the shard's one word. */
typedef struct cs__tv_s {
    cs__slot_t *slots;
    uint32_t mask;
} cs__tv_t;

/* A lookup reads the shard's line (its sequence and table word), one slot
 * and one entry. */
typedef struct cs__shard_s {
    _Atomic uint32_t seq;  /* odd while a writer changes the table */
    _Atomic uintptr_t tab; /* slots address | log2 of their count */
    pthread_mutex_t lock;  /* writers */
    _Atomic uint32_t count;
    uint32_t hand;
    _Atomic uint64_t inserts, evictions; /* written under the lock */
} __attribute__((aligned(128))) cs__shard_t;

/* Hit and miss counters in stripes, one per thread (round-robin): a hit is a
 * plain load and store of the thread's own stripe, not an atomic
 * read-modify-write, which would stall the lookups around it. */
#define CS__STRIPES 64u
typedef struct cs__stripe_s {
    _Atomic uint64_t hits, misses;
} __attribute__((aligned(128))) cs__stripe_t;

static _Thread_local uint32_t cs__my_stripe; /* 0 = not given yet */
static _Atomic uint32_t cs__next_stripe;

struct cs_l1_s {
    cs__shard_t *shards;
    uint32_t nshards, shard_mask;
    uint64_t seed[2]; /* key of cs__hash, random per cache unless configured */
    uint64_t capacity;
    cs_l1_evict_fn on_evict;
    void *evict_ctx;
    cs__pool_t *pool;
    cs__stripe_t *stripes;
    /* The one shared word a put writes: the capacity reservation. */
    _Alignas(64) _Atomic uint64_t size;
    /* Only for evictions from other shards when a put's own is empty. */
    _Alignas(64) _Atomic uint32_t evict_cursor;
};

static inline void cs__count(cs_l1_t *l1, bool hit)
{
    uint32_t id = cs__my_stripe;
    if (id == 0) {
        id = atomic_fetch_add_explicit(&cs__next_stripe, 1, memory_order_relaxed) % CS__STRIPES + 1;
        cs__my_stripe = id;
    }
    cs__stripe_t *st = &l1->stripes[id - 1];
    _Atomic uint64_t *c = hit ? &st->hits : &st->misses;
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static inline uint32_t cs__rbegin(cs__shard_t *s)
{
    for (unsigned spins = 0;; spins++) {
        uint32_t q = atomic_load_explicit(&s->seq, memory_order_acquire);
        if (!(q & 1))
            return q;
        if (spins >= 64) {
            sched_yield();
            spins = 0;
        } else {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        }
    }
}

static inline bool cs__rvalid(cs__shard_t *s, uint32_t q)
{
    atomic_thread_fence(memory_order_acquire);
    return atomic_load_explicit(&s->seq, memory_order_relaxed) == q;
}

static inline void cs__wbegin(cs__shard_t *s)
{
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static inline void cs__wend(cs__shard_t *s)
{
    uint32_t q = atomic_load_explicit(&s->seq, memory_order_relaxed);
    atomic_store_explicit(&s->seq, q + 1, memory_order_release);
}

static inline cs__tv_t cs__tv(cs__shard_t *s)
{
    uintptr_t w = atomic_load_explicit(&s->tab, memory_order_acquire);
    return (cs__tv_t){(cs__slot_t *)(w & ~(uintptr_t)63), (uint32_t)((1ull << (w & 63)) - 1)};
}

static inline cs__tab_t *cs__tab_of(cs__tv_t t)
{
    return (cs__tab_t *)(void *)((uint8_t *)t.slots - offsetof(cs__tab_t, slots));
}

static inline uintptr_t cs__tab_word(cs__tab_t *t, uint32_t nslots)
{
    return (uintptr_t)t->slots | (uintptr_t)__builtin_ctz(nslots);
}

static inline uint32_t cs__home(cs__tv_t t, uint64_t hash)
{
    return (uint32_t)(hash >> 32) & t.mask;
}

static inline cs_l1_entry_t *cs__slot_e(cs__tv_t t, uint32_t i)
{
    return atomic_load_explicit(&t.slots[i].e, memory_order_relaxed);
}

static inline uint64_t cs__slot_hash(cs__tv_t t, uint32_t i)
{
    return atomic_load_explicit(&t.slots[i].hash, memory_order_relaxed);
}

/* The slot holding the key, or -1; *out = its entry. Readers call it
 * inside a read section (the answer is checked by cs__rvalid), writers
 * under the shard lock. */
static inline int64_t cs__find(cs__tv_t t, uint64_t h, const void *key, size_t klen, cs_l1_entry_t **out)
{
    uint32_t i = cs__home(t, h);
    for (uint32_t n = 0; n <= t.mask; n++) {
        cs_l1_entry_t *e = cs__slot_e(t, i);
        if (!e)
            return -1;
        /* The line after the header, where a small value starts: fetched
         * beside the header's instead of after it. */
        __builtin_prefetch((const uint8_t *)e + 64);
        if (cs__slot_hash(t, i) == h && cs__key_eq(e, key, klen)) {
            *out = e;
            return i;
        }
        i = (i + 1) & t.mask;
    }
    return -1;
}

static cs__tab_t *cs__tab_new(uint32_t nslots)
{
    size_t bytes = sizeof(cs__tab_t) + sizeof(cs__slot_t) * nslots;
    cs__tab_t *t = aligned_alloc(64, bytes);
    if (t)
        memset(t, 0, bytes);
    return t;
}

/* Shard locked: doubles the table. The old one is kept (readers may still
 * be probing it) until cs_l1_free. */
static int cs__grow(cs__shard_t *s)
{
    cs__tv_t old = cs__tv(s);
    uint32_t nslots = (old.mask + 1) * 2;
    if (nslots == 0 || nslots > (1u << 30))
        return CS_ENOMEM;
    cs__tab_t *nt = cs__tab_new(nslots);
    if (!nt)
        return CS_ENOMEM;
    cs__tv_t t = {nt->slots, nslots - 1};
    for (uint32_t i = 0; i <= old.mask; i++) {
        cs_l1_entry_t *e = cs__slot_e(old, i);
        if (!e)
            continue;
        uint64_t h = cs__slot_hash(old, i);
        uint32_t j = cs__home(t, h);
        while (cs__slot_e(t, j))
            j = (j + 1) & t.mask;
        atomic_store_explicit(&t.slots[j].hash, h, memory_order_relaxed);
        atomic_store_explicit(&t.slots[j].e, e, memory_order_relaxed);
    }
    nt->retired = cs__tab_of(old);
    s->hand = (uint32_t)(((uint64_t)s->hand * nslots) / (old.mask + 1));
    cs__wbegin(s);
    atomic_store_explicit(&s->tab, cs__tab_word(nt, nslots), memory_order_release);
    cs__wend(s);
    return 0;
}

/* Shard locked, inside a write section: backward-shift deletion. */
static void cs__delete_slot(cs__shard_t *s, cs__tv_t t, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        atomic_store_explicit(&t.slots[i].e, NULL, memory_order_relaxed);
        for (;;) {
            j = (j + 1) & t.mask;
            if (!cs__slot_e(t, j))
                goto done;
            uint32_t home = cs__home(t, cs__slot_hash(t, j));
            bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        atomic_store_explicit(&t.slots[i].hash, cs__slot_hash(t, j), memory_order_relaxed);
        atomic_store_explicit(&t.slots[i].e, cs__slot_e(t, j), memory_order_relaxed);
        i = j;
    }
done:
    atomic_store_explicit(&s->count, atomic_load_explicit(&s->count, memory_order_relaxed) - 1, memory_order_relaxed);
}

static inline void cs__add(_Atomic uint64_t *c, int64_t d)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + (uint64_t)d, memory_order_relaxed);
}

/* ---- the keyed hash ----
 * A 64-bit multiply-mix (the folded 128-bit product of wyhash's final step)
 * keyed by a 128-bit seed drawn from getrandom() per cache. About 3 ns for a
 * 16-byte key where SipHash-1-3 takes about 15 ns. It is not a PRF: it
 * resists hash flooding by someone who does not know the seed (keys chosen
 * offline spread over the shards and slots like any others), not by someone
 * who learns the seed or can measure enough timings to search for it
 * (docs/cache.md, "L1's hash"). The shard is taken from its low bits, the
 * slot from its high 32 bits. */
#define CS__P0 0x9e3779b97f4a7c15ull
#define CS__P1 0xa0761d6478bd642full
#define CS__P2 0xe7037ed1a0b428dbull

static inline uint64_t cs__mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t cs__ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t cs__ld32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t cs__hash(const cs_l1_t *l1, const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t s = l1->seed[0] ^ (len * CS__P0), a, b;
    if (len <= 16) {
        if (len >= 8) {
            a = cs__ld64(p);
            b = cs__ld64(p + len - 8);
        } else if (len >= 4) {
            a = cs__ld32(p);
            b = cs__ld32(p + len - 4);
        } else {
            a = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
            b = 0;
        }
    } else {
        const uint8_t *q = p;
        for (size_t left = len; left > 16; left -= 16, q += 16)
            s = cs__mum(cs__ld64(q) ^ l1->seed[1] ^ CS__P1, cs__ld64(q + 8) ^ s);
        a = cs__ld64(p + len - 16);
        b = cs__ld64(p + len - 8);
    }
    return cs__mum(CS__P2 ^ len, cs__mum(a ^ l1->seed[1] ^ CS__P1, b ^ s));
}

/* ---- the cache ---- */

size_t cs_l1_charge(size_t klen, size_t vlen)
{
    /* The slab slot, the table slot, and an out-of-line value. */
    return ((size_t)CS__CLASS_MIN << cs__class(klen, vlen)) + sizeof(cs__slot_t) + (cs__inline(klen, vlen) ? 0 : vlen);
}

static void cs__l1_destroy(cs_l1_t *l1)
{
    for (uint32_t i = 0; l1->shards && i < l1->nshards; i++) {
        cs__shard_t *s = &l1->shards[i];
        cs__tv_t t = cs__tv(s);
        for (uint32_t j = 0; j <= t.mask; j++) {
            cs_l1_entry_t *e = cs__slot_e(t, j);
            if (e)
                cs__entry_unref(e);
        }
        cs__tab_t *tab = cs__tab_of(t);
        while (tab) {
            cs__tab_t *r = tab->retired;
            free(tab);
            tab = r;
        }
        pthread_mutex_destroy(&s->lock);
    }
    if (l1->pool && atomic_fetch_sub_explicit(&l1->pool->live, 1, memory_order_acq_rel) == 1)
        cs__pool_destroy(l1->pool);
    free(l1->shards);
    free(l1->stripes);
    free(l1);
}

int cs_l1_new(const cs_l1_config_t *cfg, cs_l1_t **out, cs_err_t *err)
{
    cs_l1_config_t c = {0};
    if (cfg)
        c = *cfg;
    if (!out)
        return cs_err_set(err, CS_EINVAL, "L1: out is NULL");
    *out = NULL;
    if (c.shards == 0)
        c.shards = CS_CACHE_MAP_SHARDS_DEFAULT;
    if (c.shards > CS_CACHE_MAP_SHARDS_MAX || (c.shards & (c.shards - 1)) != 0)
        return cs_err_set(err, CS_EINVAL, "L1: shard count %u must be a power of two between 1 and %u", c.shards,
                          CS_CACHE_MAP_SHARDS_MAX);
    cs_l1_t *l1 = aligned_alloc(64, (sizeof *l1 + 63) & ~(size_t)63);
    if (!l1)
        return cs_err_set(err, CS_ENOMEM, "L1: out of memory");
    memset(l1, 0, sizeof *l1);
    l1->seed[0] = c.seed[0];
    l1->seed[1] = c.seed[1];
    if ((c.seed[0] | c.seed[1]) == 0 && getrandom(l1->seed, sizeof l1->seed, 0) != (ssize_t)sizeof l1->seed) {
        free(l1);
        return cs_err_set(err, CS_EIO, "L1: getrandom for the hash seed failed: %s", strerror(errno));
    }
    l1->nshards = c.shards;
    l1->shard_mask = c.shards - 1;
    l1->capacity = c.capacity_bytes ? c.capacity_bytes : CS_L1_CAPACITY_DEFAULT;
    l1->on_evict = c.on_evict;
    l1->evict_ctx = c.evict_ctx;
    l1->shards = aligned_alloc(128, sizeof(cs__shard_t) * c.shards);
    l1->stripes = aligned_alloc(128, sizeof(cs__stripe_t) * CS__STRIPES);
    l1->pool = calloc(1, sizeof *l1->pool);
    if (!l1->shards || !l1->stripes || !l1->pool) {
        free(l1->shards);
        free(l1->stripes);
        free(l1->pool);
        free(l1);
        return cs_err_set(err, CS_ENOMEM, "L1: out of memory for %u shards", c.shards);
    }
    memset(l1->shards, 0, sizeof(cs__shard_t) * c.shards);
    memset(l1->stripes, 0, sizeof(cs__stripe_t) * CS__STRIPES);
    atomic_init(&l1->pool->live, 1);
    for (int k = 0; k < CS__CLASSES; k++)
        pthread_mutex_init(&l1->pool->cls[k].lock, NULL);
    uint32_t i;
    for (i = 0; i < c.shards; i++) {
        cs__tab_t *t = cs__tab_new(16);
        if (!t)
            break;
        atomic_init(&l1->shards[i].tab, cs__tab_word(t, 16));
        pthread_mutex_init(&l1->shards[i].lock, NULL);
    }
    if (i < c.shards) {
        l1->nshards = i;
        cs__l1_destroy(l1);
        return cs_err_set(err, CS_ENOMEM, "L1: out of memory for shard tables");
    }
    *out = l1;
    return 0;
}

void cs_l1_free(cs_l1_t **l1p)
{
    if (!l1p || !*l1p)
        return;
    cs__l1_destroy(*l1p);
    *l1p = NULL;
}

static inline bool cs__key_ok(const void *key, size_t klen)
{
    return key && klen > 0 && klen <= CS_CACHE_KEY_MAX;
}

static inline void cs__touch(cs_l1_entry_t *e)
{
    /* Test before set: a hot entry's line is not dirtied on every hit. */
    if (!atomic_load_explicit(&e->clock, memory_order_relaxed))
        atomic_store_explicit(&e->clock, 1, memory_order_relaxed);
}

/* The lookup every read starts with, inside a read section of shard s:
 * false on a miss that a consistent section saw; true with the entry (*e)
 * and the section's sequence number (*q), which the caller validates again
 * once it has what it wanted from the entry (and calls this again when
 * the section turned out stale). */
static inline bool cs__read_find(cs__shard_t *s, uint64_t h, const void *key, size_t klen, uint32_t *q,
                                 cs_l1_entry_t **e)
{
    for (;;) {
        *q = cs__rbegin(s);
        cs__tv_t t = cs__tv(s);
        *e = NULL;
        if (cs__find(t, h, key, klen, e) >= 0)
            return true;
        if (cs__rvalid(s, *q))
            return false;
    }
}

int cs_l1_get(cs_l1_t *l1, const void *key, size_t klen, cs_l1_entry_t **out)
{
    *out = NULL;
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs__hash(l1, key, klen);
    cs__shard_t *s = &l1->shards[h & l1->shard_mask];
    for (;;) {
        uint32_t q;
        cs_l1_entry_t *e;
        if (!cs__read_find(s, h, key, klen, &q, &e)) {
            cs__count(l1, false);
            return CS_ENOTFOUND;
        }
        if (!cs__ref_try(e))
            continue; /* freed since: the section is stale */
        if (!cs__rvalid(s, q)) {
            cs__entry_unref(e);
            continue;
        }
        cs__touch(e);
        cs__count(l1, true);
        *out = e;
        return 0;
    }
}

int cs_l1_get_copy(cs_l1_t *l1, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen)
{
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs__hash(l1, key, klen);
    cs__shard_t *s = &l1->shards[h & l1->shard_mask];
    for (;;) {
        uint32_t q;
        cs_l1_entry_t *e;
        if (!cs__read_find(s, h, key, klen, &q, &e)) {
            cs__count(l1, false);
            return CS_ENOTFOUND;
        }
        size_t n = atomic_load_explicit(&e->vlen, memory_order_relaxed);
        uint8_t *v = atomic_load_explicit(&e->value, memory_order_relaxed);
        if (v == (uint8_t *)e + cs__voff(klen)) {
            /* Inline: copy under the read section, no reference. A stale
             * length may not fit the slab slot: then the section is stale. */
            if (cs__voff(klen) + n > cs__class_size(e))
                continue;
            if (n <= cap)
                cs__words_load(buf, (cs__word_t *)(void *)v, n);
            if (!cs__rvalid(s, q))
                continue;
        } else {
            if (!cs__ref_try(e))
                continue;
            if (!cs__rvalid(s, q)) {
                cs__entry_unref(e);
                continue;
            }
            n = atomic_load_explicit(&e->vlen, memory_order_relaxed);
            v = atomic_load_explicit(&e->value, memory_order_relaxed);
            if (n <= cap)
                memcpy(buf, v, n);
            cs__entry_unref(e);
        }
        cs__touch(e);
        cs__count(l1, true);
        *vlen = n;
        return n <= cap ? 0 : CS_ETOOBIG;
    }
}

bool cs_l1_contains(cs_l1_t *l1, const void *key, size_t klen)
{
    if (!cs__key_ok(key, klen))
        return false;
    uint64_t h = cs__hash(l1, key, klen);
    cs__shard_t *s = &l1->shards[h & l1->shard_mask];
    for (;;) {
        uint32_t q = cs__rbegin(s);
        cs__tv_t t = cs__tv(s);
        cs_l1_entry_t *e = NULL;
        bool found = cs__find(t, h, key, klen, &e) >= 0;
        if (cs__rvalid(s, q))
            return found;
    }
}

static inline size_t cs__entry_charge(cs_l1_entry_t *e)
{
    return cs_l1_charge(atomic_load_explicit(&e->klen, memory_order_relaxed),
                        atomic_load_explicit(&e->vlen, memory_order_relaxed));
}

/* Shard s locked: evicts one entry of s by CLOCK (a second chance for
 * entries whose bit is set). Returns false when s is empty. */
static bool cs__evict_locked(cs_l1_t *l1, cs__shard_t *s, cs_l1_entry_t **out)
{
    cs__tv_t t = cs__tv(s);
    size_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
    if (count == 0)
        return false;
    /* Two sweeps at most: the first clears every bit it passes. */
    for (size_t step = 0; step <= 2 * count; step++) {
        s->hand &= t.mask;
        while (!cs__slot_e(t, s->hand))
            s->hand = (s->hand + 1) & t.mask;
        cs_l1_entry_t *e = cs__slot_e(t, s->hand);
        if (atomic_load_explicit(&e->clock, memory_order_relaxed)) {
            atomic_store_explicit(&e->clock, 0, memory_order_relaxed);
            s->hand = (s->hand + 1) & t.mask;
            continue;
        }
        cs__wbegin(s);
        cs__delete_slot(s, t, s->hand);
        cs__wend(s);
        atomic_fetch_sub_explicit(&l1->size, cs__entry_charge(e), memory_order_relaxed);
        cs__add(&s->evictions, 1);
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
        uint32_t i = atomic_fetch_add_explicit(&l1->evict_cursor, 1, memory_order_relaxed) & l1->shard_mask;
        if (i == skip && l1->nshards > 1)
            continue;
        cs__shard_t *s = &l1->shards[i];
        cs_l1_entry_t *victim = NULL;
        pthread_mutex_lock(&s->lock);
        bool ok = cs__evict_locked(l1, s, &victim);
        pthread_mutex_unlock(&s->lock);
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

/* A new entry holding one reference (the table's), or NULL. */
static cs_l1_entry_t *cs__entry_new(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen,
                                    uint32_t flags)
{
    bool inl = cs__inline(klen, vlen);
    uint8_t *vbuf = NULL;
    if (!inl && !(vbuf = malloc(vlen > 0 ? vlen : 1)))
        return NULL;
    cs_l1_entry_t *e = cs__pool_alloc(l1->pool, cs__class(klen, vlen));
    if (!e) {
        free(vbuf);
        return NULL;
    }
    atomic_store_explicit(&e->clock, 1, memory_order_relaxed);
    atomic_store_explicit(&e->klen, (uint32_t)klen, memory_order_relaxed);
    atomic_store_explicit(&e->flags, flags, memory_order_relaxed);
    atomic_store_explicit(&e->vlen, vlen, memory_order_relaxed);
    cs__words_store(e->w, key, klen);
    uint8_t *v = inl ? (uint8_t *)e + cs__voff(klen) : vbuf;
    if (inl)
        cs__words_store((cs__word_t *)(void *)v, value, vlen);
    else if (vlen)
        memcpy(v, value, vlen);
    atomic_store_explicit(&e->value, v, memory_order_relaxed);
    atomic_store_explicit(&e->refs, 1, memory_order_release);
    return e;
}

/* Shard locked: links e, replacing the entry with its key (*old). */
static int cs__link_locked(cs__shard_t *s, cs_l1_entry_t *e, uint64_t h, const void *key, size_t klen,
                           cs_l1_entry_t **old)
{
    cs__tv_t t = cs__tv(s);
    cs_l1_entry_t *cur = NULL;
    int64_t i = cs__find(t, h, key, klen, &cur);
    if (i >= 0) {
        *old = cur;
        cs__wbegin(s);
        atomic_store_explicit(&t.slots[i].e, e, memory_order_relaxed);
        cs__wend(s);
        return 0;
    }
    uint32_t count = atomic_load_explicit(&s->count, memory_order_relaxed);
    /* Grow at 3/4 load so that probe sequences stay short. */
    if ((uint64_t)(count + 1) * 4 > (uint64_t)(t.mask + 1) * 3) {
        int rc = cs__grow(s);
        if (rc != 0)
            return rc;
        t = cs__tv(s);
    }
    uint32_t j = cs__home(t, h);
    while (cs__slot_e(t, j))
        j = (j + 1) & t.mask;
    cs__wbegin(s);
    atomic_store_explicit(&t.slots[j].hash, h, memory_order_relaxed);
    atomic_store_explicit(&t.slots[j].e, e, memory_order_relaxed);
    atomic_store_explicit(&s->count, count + 1, memory_order_relaxed);
    cs__wend(s);
    return 0;
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
    if (vlen > l1->capacity || cs_l1_charge(klen, vlen) > l1->capacity)
        return cs_err_set(err, CS_ETOOBIG, "L1 put: entry of %zu bytes exceeds the L1 capacity of %llu bytes",
                          cs_l1_charge(klen, vlen), (unsigned long long)l1->capacity);
    size_t charge = cs_l1_charge(klen, vlen);
    if (if_absent && cs_l1_contains(l1, key, klen))
        return CS_EEXISTS;
    uint64_t h = cs__hash(l1, key, klen);
    uint32_t si = (uint32_t)(h & l1->shard_mask);
    cs__shard_t *s = &l1->shards[si];
    cs_l1_entry_t *e = cs__entry_new(l1, key, klen, value, vlen, flags);
    if (!e)
        return cs_err_set(err, CS_ENOMEM, "L1 put: out of memory for %zu bytes", charge);

    /* Reserve the charge before linking, evicting from this shard under the
     * lock the insert needs anyway: the size never exceeds the capacity, and
     * puts on different shards never meet on an eviction structure. */
    cs_l1_entry_t *victims[CS__L1_VICTIMS_MAX];
    size_t nvictims = 0;
    cs_l1_entry_t *old = NULL;
    int rc;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        if (cs__try_reserve(l1, charge))
            break;
        if (nvictims < CS__L1_VICTIMS_MAX && cs__evict_locked(l1, s, &victims[nvictims])) {
            nvictims++;
            continue;
        }
        /* This shard is empty (or the victim list is full): evict elsewhere
         * without holding our lock, so two puts never wait on each other. */
        pthread_mutex_unlock(&s->lock);
        while (nvictims > 0)
            cs__entry_unref(victims[--nvictims]);
        /* Nothing linked anywhere means other puts hold reservations they
         * are about to link; let them run. */
        if (!cs__try_reserve(l1, charge)) {
            if (!cs__evict_elsewhere(l1, si))
                sched_yield();
            pthread_mutex_lock(&s->lock);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        break;
    }
    cs_l1_entry_t *cur = NULL;
    if (if_absent && cs__find(cs__tv(s), h, key, klen, &cur) >= 0) {
        rc = CS_EEXISTS;
    } else {
        rc = cs__link_locked(s, e, h, key, klen, &old);
        if (rc == 0) {
            cs__add(&s->inserts, 1);
            if (old)
                atomic_fetch_sub_explicit(&l1->size, cs__entry_charge(old), memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&s->lock);
    while (nvictims > 0)
        cs__entry_unref(victims[--nvictims]);
    if (rc != 0) {
        atomic_fetch_sub_explicit(&l1->size, charge, memory_order_relaxed);
        cs__entry_unref(e);
        if (rc == CS_ENOMEM)
            return cs_err_set(err, rc, "L1 put: out of memory growing shard %u", si);
        return rc;
    }
    if (old)
        cs__entry_unref(old);
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
    uint64_t h = cs__hash(l1, key, klen);
    cs__shard_t *s = &l1->shards[h & l1->shard_mask];
    cs_l1_entry_t *e = NULL;
    pthread_mutex_lock(&s->lock);
    cs__tv_t t = cs__tv(s);
    int64_t i = cs__find(t, h, key, klen, &e);
    if (i >= 0) {
        cs__wbegin(s);
        cs__delete_slot(s, t, (uint32_t)i);
        cs__wend(s);
        atomic_fetch_sub_explicit(&l1->size, cs__entry_charge(e), memory_order_relaxed);
    }
    pthread_mutex_unlock(&s->lock);
    if (!e)
        return CS_ENOTFOUND;
    cs__entry_unref(e);
    return 0;
}

/* Accessors: the caller holds a reference, so the entry does not change. */
const void *cs_l1_entry_value(const cs_l1_entry_t *e, size_t *vlen)
{
    cs_l1_entry_t *m = (cs_l1_entry_t *)e;
    if (vlen)
        *vlen = atomic_load_explicit(&m->vlen, memory_order_relaxed);
    return atomic_load_explicit(&m->value, memory_order_relaxed);
}

const void *cs_l1_entry_key(const cs_l1_entry_t *e, size_t *klen)
{
    cs_l1_entry_t *m = (cs_l1_entry_t *)e;
    if (klen)
        *klen = atomic_load_explicit(&m->klen, memory_order_relaxed);
    return (const void *)m->w;
}

uint32_t cs_l1_entry_flags(const cs_l1_entry_t *e)
{
    return atomic_load_explicit(&((cs_l1_entry_t *)e)->flags, memory_order_relaxed);
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
    for (uint32_t i = 0; i < CS__STRIPES; i++) {
        out->hits += atomic_load_explicit(&l1->stripes[i].hits, memory_order_relaxed);
        out->misses += atomic_load_explicit(&l1->stripes[i].misses, memory_order_relaxed);
    }
    for (uint32_t i = 0; i < l1->nshards; i++) {
        out->inserts += atomic_load_explicit(&l1->shards[i].inserts, memory_order_relaxed);
        out->evictions += atomic_load_explicit(&l1->shards[i].evictions, memory_order_relaxed);
        out->entries += atomic_load_explicit(&l1->shards[i].count, memory_order_relaxed);
    }
    out->bytes = atomic_load_explicit(&l1->size, memory_order_relaxed);
    out->capacity_bytes = l1->capacity;
}
