/* bench_cache_l1: L1 get throughput and latency beside two baselines built in
 * the same run on the same keys and the same seeded hash:
 *   floor  - an unlocked open-addressing table (no synchronisation at all);
 *   mutex  - the same table behind one global mutex (the naive design).
 * 1M entries, 16-byte keys, 90% hits, 64-byte and 4 KiB values, 1 and 2
 * threads; then a 95% get / 5% put mix with L1 at capacity (evicting).
 * Throughput is measured in ROUNDS rounds, the tables in a rotating order
 * within each round, so that load from other processes hits all alike;
 * prints the median of each and the ratios' median and spread (min..max).
 * Usage: bench_cache_l1 [seconds per table and thread count] [entries, power of two] */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "bench_common.h"
#include "couchestor/cache_l1.h"

/* 1M entries by default; argv[2] may choose another power of two. */
static uint32_t N_KEYS = 1u << 20;
#define N_LOOKUP_KEYS (N_KEYS + N_KEYS / 9) /* 90% of lookups hit */
#define KLEN 16
#define IDX_PER_THREAD (1u << 22)

static double run_seconds = 1.0;

/* ---- baseline table: open addressing, same hash ---- */
typedef struct bent_s {
    uint8_t key[KLEN];
    const void *value;
    size_t vlen;
} bent_t;
typedef struct bslot_s {
    uint64_t hash;
    bent_t *e;
} bslot_t;
typedef struct btable_s {
    bslot_t *slots;
    uint64_t mask;
    uint64_t seed[2];
    pthread_mutex_t lock;
} btable_t;

static void bt_insert(btable_t *t, const uint8_t *key, const void *v, size_t vlen)
{
    uint64_t h = cs_siphash13(t->seed, key, KLEN);
    uint64_t i = (h >> 32) & t->mask;
    while (t->slots[i].e)
        i = (i + 1) & t->mask;
    bent_t *e = malloc(sizeof *e);
    memcpy(e->key, key, KLEN);
    e->value = v;
    e->vlen = vlen;
    t->slots[i].hash = h;
    t->slots[i].e = e;
}

static inline const void *bt_get(btable_t *t, const uint8_t *key)
{
    uint64_t h = cs_siphash13(t->seed, key, KLEN);
    uint64_t i = (h >> 32) & t->mask;
    for (;;) {
        bslot_t *s = &t->slots[i];
        if (!s->e)
            return NULL;
        if (s->hash == h && memcmp(s->e->key, key, KLEN) == 0)
            return s->e->value;
        i = (i + 1) & t->mask;
    }
}

/* ---- workload ---- */
static uint8_t (*keys)[KLEN];
static uint32_t *idx[2];

typedef enum {
    IMPL_FLOOR,
    IMPL_MUTEX,
    IMPL_L1,
    IMPL_L1_MIX
} impl_t;
static const char *impl_name[] = {"floor (unlocked)", "global mutex", "L1", "L1 95/5 mix"};

typedef struct ctx_s {
    impl_t impl;
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
    uint32_t put_keyspace;
} ctx_t;

static inline int do_get(ctx_t *c, const uint8_t *key)
{
    switch (c->impl) {
    case IMPL_FLOOR:
        return bt_get(c->bt, key) != NULL;
    case IMPL_MUTEX: {
        pthread_mutex_lock(&c->bt->lock);
        int hit = bt_get(c->bt, key) != NULL;
        pthread_mutex_unlock(&c->bt->lock);
        return hit;
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
    uint32_t j = 0;
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

static result_t run(impl_t impl, btable_t *bt, cs_l1_t *l1, int threads, bool latency, const uint8_t *value,
                    size_t vlen, double seconds)
{
    pthread_t th[2];
    ctx_t ctx[2];
    atomic_int go = 0;
    for (int i = 0; i < threads; i++) {
        ctx[i] = (ctx_t){
            .impl = impl, .bt = bt, .l1 = l1, .tid = i, .go = &go, .seconds = seconds, .value = value, .vlen = vlen};
        if (latency)
            ctx[i].lat = malloc(sizeof(uint32_t) << 20);
        pthread_create(&th[i], NULL, worker, &ctx[i]);
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
        r.p50_ns = all[n / 2] / tsc_ghz;
        r.p99_ns = all[n * 99 / 100] / tsc_ghz;
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

static void bench_size(size_t vlen)
{
    uint8_t *value = calloc(1, vlen);
    memset(value, 0xab, vlen);
    uint64_t seed[2] = {0x1234, 0x5678};
    btable_t bt = {.mask = (2 * N_KEYS) - 1, .seed = {seed[0], seed[1]}};
    bt.slots = calloc(2 * N_KEYS, sizeof *bt.slots);
    pthread_mutex_init(&bt.lock, NULL);
    cs_l1_config_t cfg = {.capacity_bytes = (uint64_t)cs_l1_charge(KLEN, vlen) * N_KEYS * 2,
                          .seed = {seed[0], seed[1]}};
    cs_l1_t *l1 = NULL;
    if (cs_l1_new(&cfg, &l1, NULL) != 0)
        exit(1);
    double t0 = now_s();
    for (uint32_t i = 0; i < N_KEYS; i++) {
        bt_insert(&bt, keys[i], value, vlen);
        cs_l1_put(l1, keys[i], KLEN, value, vlen, 0, NULL);
    }
    printf("\n== %zu-byte values: %u entries loaded in %.1f s ==\n", vlen, N_KEYS, now_s() - t0);
    printf("%-18s %7s %10s %8s %8s %8s\n", "table", "threads", "Mgets/s", "hit%", "p50 ns", "p99 ns");
    for (int threads = 1; threads <= 2; threads++) {
        double mops[3][ROUNDS], rf[ROUNDS], rm[ROUNDS];
        result_t r[3];
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < 3; k++) {
                int impl = (k + round) % 3;
                r[impl] = run((impl_t)impl, &bt, l1, threads, false, NULL, 0, run_seconds / ROUNDS);
                mops[impl][round] = r[impl].mops;
            }
            rf[round] = mops[2][round] / mops[0][round];
            rm[round] = mops[2][round] / mops[1][round];
        }
        for (int impl = 0; impl < 3; impl++) {
            result_t lat = run((impl_t)impl, &bt, l1, threads, true, NULL, 0, run_seconds / ROUNDS);
            printf("%-18s %7d %10.2f %8.1f %8.0f %8.0f\n", impl_name[impl], threads, median(mops[impl], ROUNDS),
                   r[impl].hit_rate * 100, lat.p50_ns, lat.p99_ns);
        }
        double mf = median(rf, ROUNDS), mm = median(rm, ROUNDS);
        printf("ratio L1/floor = %.2fx (%.2f..%.2f; target >= 0.55x on 2 threads), "
               "L1/mutex = %.2fx (%.2f..%.2f)\n",
               mf, rf[0], rf[ROUNDS - 1], mm, rm[0], rm[ROUNDS - 1]);
    }
    cs_l1_free(&l1);
    for (uint64_t i = 0; i <= bt.mask; i++)
        free(bt.slots[i].e);
    free(bt.slots);
    free(value);
}

static void bench_mix(void)
{
    size_t vlen = 64;
    uint8_t value[64];
    memset(value, 0xcd, sizeof value);
    /* The floor on the same keys, for scale: what this machine's memory
     * allows for plain gets. */
    uint64_t seed[2] = {0x1234, 0x5678};
    btable_t bt = {.mask = (2 * N_KEYS) - 1, .seed = {seed[0], seed[1]}};
    bt.slots = calloc(2 * N_KEYS, sizeof *bt.slots);
    for (uint32_t i = 0; i < N_KEYS; i++)
        bt_insert(&bt, keys[i], value, vlen);
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
            result_t r = run(IMPL_L1_MIX, NULL, l1, threads, false, value, vlen, run_seconds / ROUNDS);
            result_t f = run(IMPL_FLOOR, &bt, NULL, threads, false, NULL, 0, run_seconds / ROUNDS);
            mix[round] = r.mops;
            flo[round] = f.mops;
            ratio[round] = r.mops / f.mops;
            hit = r.hit_rate;
        }
        result_t lat = run(IMPL_L1_MIX, NULL, l1, threads, true, value, vlen, run_seconds / ROUNDS);
        cs_l1_stats_t st;
        cs_l1_stats(l1, &st);
        double mr = median(ratio, ROUNDS);
        printf("L1 mix  threads=%d  %.2f Mops/s (target >= 15 on 2 threads); floor gets %.2f "
               "Mgets/s; mix/floor %.2fx (%.2f..%.2f); get p50 %.0f ns p99 %.0f ns; get hit%% "
               "%.1f; evictions %llu; bytes/capacity %.3f\n",
               threads, median(mix, ROUNDS), median(flo, ROUNDS), mr, ratio[0], ratio[ROUNDS - 1], lat.p50_ns,
               lat.p99_ns, hit * 100, (unsigned long long)st.evictions, (double)st.bytes / (double)st.capacity_bytes);
    }
    cs_l1_free(&l1);
    for (uint64_t i = 0; i <= bt.mask; i++)
        free(bt.slots[i].e);
    free(bt.slots);
}

int main(int argc, char **argv)
{
    bench_machine_print();
    if (argc > 1)
        run_seconds = atof(argv[1]);
    if (argc > 2)
        N_KEYS = (uint32_t)strtoul(argv[2], NULL, 0);
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
    for (int t = 0; t < 2; t++) {
        idx[t] = malloc(sizeof(uint32_t) * IDX_PER_THREAD);
        for (uint32_t j = 0; j < IDX_PER_THREAD; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            idx[t][j] = (uint32_t)(x % N_LOOKUP_KEYS);
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
    printf("bench_cache_l1: %.1f s per run, TSC %.2f GHz; latencies include ~%.0f ns of "
           "rdtsc/lfence overhead\n",
           run_seconds, tsc_ghz, ov[500] / tsc_ghz);
    bench_size(64);
    bench_size(4096);
    bench_mix();
    return 0;
}
