/* bench_cache_l1: L1 get throughput and latency against the strongest simple
 * unlocked design, built in the same run on the same keys:
 *   floor - a plain unlocked open-addressing table: 8-byte slots (32-bit tag,
 *           32-bit index into one contiguous array of 88-byte entries that
 *           hold key and value), linear probing at 1/2 load, a keyed 64-bit
 *           multiply-mix hash (the one L1 uses, specialised to 16-byte keys).
 *           No synchronisation at all. Its get returns the value's address.
 * 1M entries, 16-byte keys, 64-byte values, 90% hits, 1 and 2 threads; then
 * a 95% get / 5% put mix with L1 at capacity (evicting) beside the floor's
 * gets. With "parts" as the third argument it first prices each part of a
 * locked, reference-counted get by adding it alone to the floor (SipHash-1-3,
 * a read-write lock per shard, a reference count, a hit counter) and all of
 * them together.
 * Throughput is measured in ROUNDS rounds, the tables in a rotating order
 * within each round, so that load from other processes hits all alike; prints
 * the median of each and the ratios' median and spread (min..max).
 * Usage: bench_cache_l1 [seconds per table and thread count] [entries, power of two] [parts] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "bench_common.h"
#include "couchestor/cache_l1.h"
#include "couchestor/cache_map.h"

/* 1M entries by default; argv[2] may choose another power of two. */
static uint32_t N_KEYS = 1u << 20;
#define N_LOOKUP_KEYS (N_KEYS + N_KEYS / 9) /* 90% of lookups hit */
#define KLEN 16
#define IDX_PER_THREAD (1u << 22)
#define PART_SHARDS 1024u

static double run_seconds = 1.0;

/* ---- the floor ---- */

/* The keyed multiply-mix of src/cache/l1.c for a 16-byte key. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t mix16(const uint64_t seed[2], const uint8_t *k)
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    uint64_t s = seed[0] ^ (16 * 0x9e3779b97f4a7c15ull);
    return mum(0xe7037ed1a0b428dbull ^ 16, mum(a ^ seed[1] ^ 0xa0761d6478bd642full, b ^ s));
}

/* An entry holds its key and its value, as a cache must (the value is not
 * read by a get, which returns its address). */
#define VLEN 64
typedef struct bent_s {
    uint8_t key[KLEN];
    uint32_t vlen;
    _Atomic uint32_t refs; /* only the "refcount" part touches it */
    uint8_t value[VLEN];
} bent_t;

typedef struct part_lock_s {
    pthread_rwlock_t lock;
    _Atomic uint64_t hits;
} __attribute__((aligned(128))) part_lock_t;

typedef struct btable_s {
    uint64_t *slots; /* tag << 32 | entry index + 1; 0 = empty */
    uint64_t mask;
    bent_t *ents;
    uint32_t n;
    uint64_t seed[2];
    part_lock_t *parts; /* PART_SHARDS, for the cost variants */
} btable_t;

enum {
    P_SIP = 1,
    P_RWLOCK = 2,
    P_REF = 4,
    P_COUNT = 8
};

static inline uint64_t bt_hash(const btable_t *t, const uint8_t *key, unsigned parts)
{
    return (parts & P_SIP) ? cs_siphash13(t->seed, key, KLEN) : mix16(t->seed, key);
}

static void bt_insert(btable_t *t, const uint8_t *key, const void *v, size_t vlen)
{
    uint64_t h = mix16(t->seed, key);
    uint64_t i = (h >> 32) & t->mask;
    while (t->slots[i])
        i = (i + 1) & t->mask;
    bent_t *e = &t->ents[t->n];
    memcpy(e->key, key, KLEN);
    memcpy(e->value, v, vlen);
    e->vlen = (uint32_t)vlen;
    atomic_init(&e->refs, 1);
    t->slots[i] = (h >> 32) << 32 | (uint64_t)(++t->n);
}

/* The floor's get, with `parts` of a locked, reference-counted get added
 * (0 = the floor itself). With P_SIP the table is probed at the SipHash
 * position of a second slot array (see bt_build). */
static inline const void *bt_get(btable_t *t, const uint64_t *slots, const uint8_t *key, unsigned parts)
{
    uint64_t h = bt_hash(t, key, parts);
    part_lock_t *pl = &t->parts[h & (PART_SHARDS - 1)];
    if (parts & P_RWLOCK)
        pthread_rwlock_rdlock(&pl->lock);
    uint32_t tag = (uint32_t)(h >> 32);
    uint64_t i = tag & t->mask;
    const void *v = NULL;
    for (;;) {
        uint64_t s = slots[i];
        if (!s)
            break;
        if ((uint32_t)(s >> 32) == tag) {
            bent_t *e = &t->ents[(uint32_t)s - 1];
            if (memcmp(e->key, key, KLEN) == 0) {
                if (parts & P_REF)
                    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
                v = e->value;
                if (parts & P_REF)
                    atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel);
                break;
            }
        }
        i = (i + 1) & t->mask;
    }
    if (parts & P_RWLOCK)
        pthread_rwlock_unlock(&pl->lock);
    if (parts & P_COUNT)
        atomic_fetch_add_explicit(&pl->hits, 1, memory_order_relaxed);
    return v;
}

/* A second slot array over the same entries, placed by SipHash, so the
 * SipHash variants probe exactly like the floor. */
static uint64_t *sip_slots;

static void bt_build(btable_t *t, uint32_t n, const uint8_t (*ks)[KLEN], const void *v, size_t vlen)
{
    t->mask = 2 * (uint64_t)n - 1;
    t->seed[0] = 0x1234;
    t->seed[1] = 0x5678;
    t->slots = calloc(2 * (size_t)n, sizeof *t->slots);
    t->ents = calloc(n, sizeof *t->ents);
    t->parts = aligned_alloc(128, sizeof(part_lock_t) * PART_SHARDS);
    memset(t->parts, 0, sizeof(part_lock_t) * PART_SHARDS);
    for (uint32_t i = 0; i < PART_SHARDS; i++)
        pthread_rwlock_init(&t->parts[i].lock, NULL);
    for (uint32_t i = 0; i < n; i++)
        bt_insert(t, ks[i], v, vlen);
    sip_slots = calloc(2 * (size_t)n, sizeof *sip_slots);
    for (uint32_t j = 0; j < n; j++) {
        uint64_t h = cs_siphash13(t->seed, ks[j], KLEN);
        uint64_t i = (h >> 32) & t->mask;
        while (sip_slots[i])
            i = (i + 1) & t->mask;
        sip_slots[i] = (h >> 32) << 32 | (uint64_t)(j + 1);
    }
}

static void bt_free(btable_t *t)
{
    for (uint32_t i = 0; i < PART_SHARDS; i++)
        pthread_rwlock_destroy(&t->parts[i].lock);
    free(t->parts);
    free(t->slots);
    free(t->ents);
    free(sip_slots);
    sip_slots = NULL;
}

/* ---- workload ---- */
static uint8_t (*keys)[KLEN];
static uint32_t *idx[2];

typedef enum {
    IMPL_FLOOR,
    IMPL_L1,
    IMPL_L1_COPY,
    IMPL_L1_MIX,
    IMPL_PART, /* floor + parts */
} impl_t;

typedef struct ctx_s {
    impl_t impl;
    unsigned parts;
    btable_t *bt;
    cs_l1_t *l1;
    int tid;
    atomic_int *go;
    double seconds;
    uint64_t ops, hits;
    uint32_t *lat; /* latency samples in TSC ticks, or NULL */
    size_t nlat;
    const uint8_t *value;
    size_t vlen;
} ctx_t;

static inline int do_get(ctx_t *c, const uint8_t *key)
{
    switch (c->impl) {
    case IMPL_FLOOR:
        return bt_get(c->bt, c->bt->slots, key, 0) != NULL;
    case IMPL_PART:
        return bt_get(c->bt, (c->parts & P_SIP) ? sip_slots : c->bt->slots, key, c->parts) != NULL;
    case IMPL_L1_COPY: {
        uint8_t buf[64];
        size_t n;
        return cs_l1_get_copy(c->l1, key, KLEN, buf, sizeof buf, &n) == 0;
    }
    default: {
        cs_l1_entry_t *e;
        if (cs_l1_get(c->l1, key, KLEN, &e) != 0)
            return 0;
        cs_l1_entry_release(&e);
        return 1;
    }
    }
}

static void *worker(void *arg)
{
    ctx_t *c = arg;
    uint32_t *ix = idx[c->tid];
    while (!atomic_load(c->go))
        ;
    uint64_t ops = 0, hits = 0;
    double t0 = now_s(), deadline = t0 + c->seconds;
    uint32_t j = (uint32_t)c->tid * 7919u;
    uint32_t rnd = 12345u + (uint32_t)c->tid * 7u;
    for (;;) {
        for (int b = 0; b < 1024; b++) {
            const uint8_t *key = keys[ix[j++ & (IDX_PER_THREAD - 1)]];
            if (c->impl == IMPL_L1_MIX) {
                rnd = rnd * 1664525u + 1013904223u;
                if ((rnd >> 8) % 100 < 5) {
                    /* put a key from a wider space: at capacity, this evicts */
                    uint8_t k[KLEN];
                    memcpy(k, key, KLEN);
                    k[0] ^= (uint8_t)(rnd >> 24 & 1) << 7;
                    cs_l1_put(c->l1, k, KLEN, c->value, c->vlen, 0, NULL);
                    continue;
                }
            }
            if (c->lat && c->nlat < (1u << 20)) {
                _mm_lfence();
                uint64_t a = __rdtsc();
                hits += do_get(c, key);
                _mm_lfence();
                c->lat[c->nlat++] = (uint32_t)(__rdtsc() - a);
            } else {
                hits += do_get(c, key);
            }
        }
        ops += 1024;
        if (now_s() >= deadline)
            break;
    }
    c->seconds = now_s() - t0;
    c->ops = ops;
    c->hits = hits;
    return NULL;
}

static double tsc_ghz;
#define ROUNDS 5

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct result_s {
    double mops, hit_rate, p50_ns, p99_ns;
} result_t;

static result_t run(impl_t impl, unsigned parts, btable_t *bt, cs_l1_t *l1, int threads, bool latency,
                    const uint8_t *value, size_t vlen, double seconds)
{
    pthread_t th[2];
    ctx_t ctx[2];
    atomic_int go = 0;
    for (int i = 0; i < threads; i++) {
        ctx[i] = (ctx_t){.impl = impl,
                         .parts = parts,
                         .bt = bt,
                         .l1 = l1,
                         .tid = i,
                         .go = &go,
                         .seconds = seconds,
                         .value = value,
                         .vlen = vlen};
        if (latency)
            ctx[i].lat = malloc(sizeof(uint32_t) << 20);
        if (pthread_create(&th[i], NULL, worker, &ctx[i]) != 0) {
            perror("pthread_create");
            exit(1);
        }
    }
    atomic_store(&go, 1);
    uint64_t ops = 0, hits = 0;
    double secs = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        ops += ctx[i].ops;
        hits += ctx[i].hits;
        secs = ctx[i].seconds > secs ? ctx[i].seconds : secs;
    }
    result_t r = {.mops = (double)ops / secs / 1e6, .hit_rate = (double)hits / (double)ops};
    if (latency) {
        size_t n = 0;
        uint32_t *all = malloc(sizeof(uint32_t) << 21);
        for (int i = 0; i < threads; i++) {
            memcpy(all + n, ctx[i].lat, ctx[i].nlat * sizeof(uint32_t));
            n += ctx[i].nlat;
            free(ctx[i].lat);
        }
        qsort(all, n, sizeof *all, cmp_u32);
        size_t i50 = n / 2, i99 = n * 99 / 100;
        r.p50_ns = (double)all[i50] / tsc_ghz;
        r.p99_ns = (double)all[i99] / tsc_ghz;
        free(all);
    }
    return r;
}

static void calibrate_tsc(void)
{
    double t0 = now_s();
    uint64_t a = __rdtsc();
    while (now_s() - t0 < 0.1)
        ;
    tsc_ghz = (double)(__rdtsc() - a) / ((now_s() - t0) * 1e9);
}

/* What each part of a locked, reference-counted get costs on its own, at 2
 * threads: the floor with one part added, interleaved with the floor. */
static void bench_parts(btable_t *bt)
{
    static const struct {
        unsigned parts;
        const char *name;
    } v[] = {{0, "floor"},
             {P_SIP, "+ SipHash-1-3"},
             {P_RWLOCK, "+ rwlock (1024 shards)"},
             {P_REF, "+ refcount inc/dec"},
             {P_COUNT, "+ hit counter (atomic add)"},
             {P_RWLOCK | P_REF | P_COUNT, "+ rwlock+ref+counter"},
             {P_SIP | P_RWLOCK | P_REF | P_COUNT, "+ all four"}};
    enum {
        NV = sizeof v / sizeof v[0]
    };
    printf("\n== cost of each part of a locked get, 2 threads (floor + part; ns per get per thread) ==\n");
    double mops[NV][ROUNDS];
    for (int round = 0; round < ROUNDS; round++)
        for (int k = 0; k < NV; k++) {
            int i = (k + round) % NV;
            mops[i][round] =
                run(i ? IMPL_PART : IMPL_FLOOR, v[i].parts, bt, NULL, 2, false, NULL, 0, run_seconds / ROUNDS).mops;
        }
    double base = 0;
    for (int i = 0; i < NV; i++) {
        double m = median(mops[i], ROUNDS), ns = 2e3 / m;
        if (i == 0)
            base = ns;
        printf("%-28s %8.2f Mgets/s %7.1f ns/get  (+%.1f ns)\n", v[i].name, m, ns, ns - base);
    }
}

static void bench_gets(btable_t *bt, cs_l1_t *l1)
{
    static const char *name[] = {"floor (unlocked)", "L1 get", "L1 get_copy"};
    printf("%-18s %7s %10s %8s %8s %8s\n", "table", "threads", "Mgets/s", "hit%", "p50 ns", "p99 ns");
    for (int threads = 1; threads <= 2; threads++) {
        double mops[3][ROUNDS], rg[ROUNDS], rc[ROUNDS];
        result_t r[3], lat[3];
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < 3; k++) {
                int impl = (k + round) % 3;
                r[impl] = run((impl_t)impl, 0, bt, l1, threads, false, NULL, 0, run_seconds / ROUNDS);
                mops[impl][round] = r[impl].mops;
            }
            rg[round] = mops[1][round] / mops[0][round];
            rc[round] = mops[2][round] / mops[0][round];
        }
        for (int impl = 0; impl < 3; impl++) {
            lat[impl] = run((impl_t)impl, 0, bt, l1, threads, true, NULL, 0, run_seconds / ROUNDS);
            printf("%-18s %7d %10.2f %8.1f %8.0f %8.0f\n", name[impl], threads, median(mops[impl], ROUNDS),
                   r[impl].hit_rate * 100, lat[impl].p50_ns, lat[impl].p99_ns);
        }
        double mg = median(rg, ROUNDS), mc = median(rc, ROUNDS);
        printf("threads=%d: L1 get/floor = %.2fx (%.2f..%.2f; target >= 0.55x on 2 threads); "
               "get_copy/floor = %.2fx (%.2f..%.2f); p99 L1/floor = %.2fx (target <= 2x)\n",
               threads, mg, rg[0], rg[ROUNDS - 1], mc, rc[0], rc[ROUNDS - 1], lat[1].p99_ns / lat[0].p99_ns);
    }
}

static void bench_mix(btable_t *bt, const uint8_t *value, size_t vlen)
{
    /* Capacity for exactly 1M entries, filled: every put evicts. */
    cs_l1_config_t cfg = {.capacity_bytes = (uint64_t)cs_l1_charge(KLEN, vlen) * N_KEYS};
    cs_l1_t *l1 = NULL;
    if (cs_l1_new(&cfg, &l1, NULL) != 0)
        exit(1);
    for (uint32_t i = 0; i < N_LOOKUP_KEYS; i++)
        cs_l1_put(l1, keys[i], KLEN, value, vlen, 0, NULL);
    printf("\n== 95%% get / 5%% put, 64-byte values, L1 at capacity (%u entries) ==\n", N_KEYS);
    for (int threads = 1; threads <= 2; threads++) {
        double mix[ROUNDS], flo[ROUNDS], ratio[ROUNDS], hit = 0;
        for (int round = 0; round < ROUNDS; round++) {
            result_t r = run(IMPL_L1_MIX, 0, NULL, l1, threads, false, value, vlen, run_seconds / ROUNDS);
            result_t f = run(IMPL_FLOOR, 0, bt, NULL, threads, false, NULL, 0, run_seconds / ROUNDS);
            mix[round] = r.mops;
            flo[round] = f.mops;
            ratio[round] = r.mops / f.mops;
            hit = r.hit_rate;
        }
        result_t lat = run(IMPL_L1_MIX, 0, NULL, l1, threads, true, value, vlen, run_seconds / ROUNDS);
        cs_l1_stats_t st;
        cs_l1_stats(l1, &st);
        double mr = median(ratio, ROUNDS);
        printf("L1 mix  threads=%d  %.2f Mops/s; floor gets %.2f Mgets/s; mix/floor %.2fx (%.2f..%.2f; target "
               ">= 0.6x on 2 threads); get p50 %.0f ns p99 %.0f ns; get hit%% %.1f; evictions %llu; "
               "bytes/capacity %.3f\n",
               threads, median(mix, ROUNDS), median(flo, ROUNDS), mr, ratio[0], ratio[ROUNDS - 1], lat.p50_ns,
               lat.p99_ns, hit * 100, (unsigned long long)st.evictions, (double)st.bytes / (double)st.capacity_bytes);
    }
    cs_l1_free(&l1);
}

int main(int argc, char **argv)
{
    bench_machine_print();
    if (argc > 1)
        run_seconds = atof(argv[1]);
    if (argc > 2)
        N_KEYS = (uint32_t)strtoul(argv[2], NULL, 0);
    bool parts = argc > 3 && strcmp(argv[3], "parts") == 0;
    if (N_KEYS < 1024 || (N_KEYS & (N_KEYS - 1)) != 0) {
        fprintf(stderr, "entries must be a power of two >= 1024\n");
        return 2;
    }
    calibrate_tsc();
    keys = malloc((size_t)N_LOOKUP_KEYS * KLEN);
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < N_LOOKUP_KEYS; i++) {
        for (int b = 0; b < KLEN; b += 8) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            memcpy(keys[i] + b, &x, 8);
        }
    }
    const uint32_t nlook = N_LOOKUP_KEYS;
    if (nlook == 0)
        return 2;
    for (int t = 0; t < 2; t++) {
        idx[t] = malloc(sizeof(uint32_t) * IDX_PER_THREAD);
        for (uint32_t j = 0; j < IDX_PER_THREAD; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            idx[t][j] = (uint32_t)(x % nlook);
        }
    }
    uint32_t ov[1001];
    for (int i = 0; i < 1001; i++) {
        _mm_lfence();
        uint64_t a = __rdtsc();
        _mm_lfence();
        ov[i] = (uint32_t)(__rdtsc() - a);
    }
    qsort(ov, 1001, sizeof ov[0], cmp_u32);
    printf("bench_cache_l1: %.1f s per table and thread count, TSC %.2f GHz; latencies include ~%.0f ns of "
           "rdtsc/lfence overhead\n",
           run_seconds, tsc_ghz, ov[500] / tsc_ghz);

    size_t vlen = 64;
    uint8_t *value = calloc(1, vlen);
    memset(value, 0xab, vlen);
    btable_t bt = {0};
    double t0 = now_s();
    bt_build(&bt, N_KEYS, (const uint8_t(*)[KLEN])keys, value, vlen);
    cs_l1_config_t cfg = {.capacity_bytes = (uint64_t)cs_l1_charge(KLEN, vlen) * N_KEYS * 2};
    cs_l1_t *l1 = NULL;
    if (cs_l1_new(&cfg, &l1, NULL) != 0)
        return 1;
    for (uint32_t i = 0; i < N_KEYS; i++)
        cs_l1_put(l1, keys[i], KLEN, value, vlen, 0, NULL);
    printf("\n== gets, %zu-byte values: %u entries loaded in %.1f s; L1 with a random seed ==\n", vlen, N_KEYS,
           now_s() - t0);
    if (parts)
        bench_parts(&bt);
    bench_gets(&bt, l1);
    cs_l1_free(&l1);
    bench_mix(&bt, value, vlen);
    bt_free(&bt);
    free(value);
    return 0;
}
