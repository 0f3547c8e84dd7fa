/* Concurrent stress of the tiered cache: threads put/delete the keys they
 * own and get every key, verifying each value read: it must be well formed,
 * belong to its key, be no older than the last put or delete completed
 * before the get began, and no newer than the last one started. L1 and L2
 * are tiny so eviction, demotion, promotion and segment eviction run all the
 * time. Also built and run under ThreadSanitizer. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/cache.h"
#include "mem_tier.h"

#define THREADS 4
#define KEYS 64
#ifndef OPS
#define OPS 20000
#endif

/* version << 1 | is_delete, per key */
static _Atomic uint64_t started[KEYS], completed[KEYS];
static atomic_int failures;

static char dir[64];

static size_t value_len(int k, uint64_t version)
{
    /* Half small (L1 only), half L2-sized. */
    return (k + version) % 2 ? 64 + (size_t)(version % 50) : 4096 + (size_t)(version % 3) * 1000;
}

static void make_value(uint8_t *v, int k, uint64_t version, size_t len)
{
    uint32_t hdr[3] = {(uint32_t)k, (uint32_t)version, (uint32_t)len};
    memcpy(v, hdr, sizeof hdr);
    for (size_t i = sizeof hdr; i < len; i++)
        v[i] = (uint8_t)(k * 131 + version * 17 + i);
}

static void fail(const char *what, int k, uint64_t a, uint64_t b)
{
    if (atomic_fetch_add(&failures, 1) < 10)
        fprintf(stderr, "stress: %s: key %d (%llu, %llu)\n", what, k, (unsigned long long)a, (unsigned long long)b);
}

static void check_get(cs_cache_t *c, int k)
{
    char key[16];
    snprintf(key, sizeof key, "k%d", k);
    uint64_t before = atomic_load(&completed[k]);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = cs_cache_get(c, key, strlen(key), &data, &len, NULL, NULL);
    uint64_t after = atomic_load(&started[k]);
    if (rc == CS_ENOTFOUND) {
        /* Legit only if the last completed op was a delete, or one ran meanwhile. */
        if (before != 0 && !(before & 1) && after == before)
            fail("completed put not visible", k, before >> 1, after >> 1);
        return;
    }
    if (rc != 0) {
        fail("get failed", k, (uint64_t)-rc, 0);
        return;
    }
    uint32_t hdr[3];
    if (len < sizeof hdr) {
        fail("short value", k, len, 0);
        free(data);
        return;
    }
    memcpy(hdr, data, sizeof hdr);
    uint64_t version = hdr[1];
    uint8_t *want = malloc(len);
    make_value(want, k, version, value_len(k, version));
    if (hdr[0] != (uint32_t)k || hdr[2] != len || len != value_len(k, version) || memcmp(want, data, len) != 0)
        fail("wrong bytes", k, version, len);
    else if (version < (before >> 1) || (version == (before >> 1) && (before & 1)))
        fail("value older than a completed write", k, version, before >> 1);
    else if (version > (after >> 1))
        fail("value from the future", k, version, after >> 1);
    free(want);
    free(data);
}

static void *worker(void *arg)
{
    cs_cache_t *c = arg;
    static _Atomic int next_id;
    int id = atomic_fetch_add(&next_id, 1);
    unsigned seed = (unsigned)id * 7919u + 1;
    uint8_t v[8192];
    for (int op = 0; op < OPS; op++) {
        int r = rand_r(&seed) % 100;
        if (r < 25) {
            /* put or delete a key this thread owns */
            int k = (rand_r(&seed) % (KEYS / THREADS)) * THREADS + id;
            uint64_t version = (atomic_load(&started[k]) >> 1) + 1;
            char key[16];
            snprintf(key, sizeof key, "k%d", k);
            bool del = r < 5;
            atomic_store(&started[k], version << 1 | del);
            int rc;
            if (del) {
                rc = cs_cache_delete(c, key, strlen(key), NULL);
                if (rc == CS_ENOTFOUND)
                    rc = 0;
            } else {
                size_t len = value_len(k, version);
                make_value(v, k, version, len);
                rc = cs_cache_put(c, key, strlen(key), v, len, NULL);
            }
            if (rc != 0)
                fail(del ? "delete failed" : "put failed", k, (uint64_t)-rc, version);
            atomic_store(&completed[k], version << 1 | del);
        } else {
            check_get(c, rand_r(&seed) % KEYS);
        }
    }
    return NULL;
}

/* The whole run; returns the number of failures (reported on stderr). No
 * Criterion assertion inside, so it can also run without Criterion's runner
 * (see main below). */
static int run_stress(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-stress-XXXXXX");
    if (!mkdtemp(dir)) {
        fail("mkdtemp", 0, 0, 0);
        return 1;
    }
    mem_tier_t *t = mem_tier_new();
    cs_l2_config_t l2 = {.dir = dir,
                         .capacity_bytes = 256 << 10,
                         .segment_size = 64 << 10,
                         .compression = {.algorithm = CS_COMPRESS_LZ4, .min_size = 512},
                         .shards = 8};
    uint64_t l1cap = 24 * 1024;
    cs_cache_config_t cfg = {
        .l1 = {.capacity_bytes = l1cap, .shards = 8}, .l2 = &l2, .l3_ops = &mem_tier_ops, .l3_ctx = t, .key_locks = 16};
    cs_cache_t *c = NULL;
    cs_err_t err = {0};
    if (cs_cache_new(&cfg, &c, &err) != 0) {
        fprintf(stderr, "stress: %s\n", err.msg);
        mem_tier_free(t);
        return 1;
    }
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, c);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);

    /* Quiescent: every key reads back exactly its last completed write. */
    for (int k = 0; k < KEYS; k++) {
        uint64_t last = atomic_load(&completed[k]);
        char key[16];
        snprintf(key, sizeof key, "k%d", k);
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = cs_cache_get(c, key, strlen(key), &data, &len, NULL, NULL);
        if (last == 0 || (last & 1)) {
            if (rc != CS_ENOTFOUND)
                fail("deleted key found at the end", k, (uint64_t)-rc, last >> 1);
        } else if (rc != 0) {
            fail("last write lost", k, (uint64_t)-rc, last >> 1);
        } else {
            uint32_t version;
            memcpy(&version, data + 4, 4);
            if (version != (uint32_t)(last >> 1))
                fail("final value is not the last write", k, version, last >> 1);
        }
        free(data);
    }
    cs_cache_stats_t st;
    cs_cache_stats(c, &st);
    if (st.l1.bytes > l1cap)
        fail("L1 over capacity", 0, st.l1.bytes, l1cap);
    if (st.l2.bytes > (256u << 10))
        fail("L2 over capacity", 0, st.l2.bytes, 256u << 10);
    if (st.l1.evictions == 0 || st.demotions == 0 || st.tier[CS_CACHE_TIER_L2].hits == 0)
        fail("the run did not exercise eviction, demotion and L2 hits", 0, st.demotions,
             st.tier[CS_CACHE_TIER_L2].hits);
    if (st.l2.corrupt != 0)
        fail("L2 reported corruption", 0, st.l2.corrupt, 0);
    cs_cache_free(&c);
    mem_tier_free(t);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fail("cleanup", 0, 0, 0);
    return atomic_load(&failures);
}

Test(stress, concurrent_get_put_delete_never_return_wrong_or_stale_data, .timeout = 120)
{
    cr_expect_eq(run_stress(), 0);
}

/* Criterion's runner cannot start under ThreadSanitizer (its shared arena
 * cannot be mapped), so a TSan build runs the same check as a plain program
 * and prints the plain "N passed, N failed" line. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CS_STRESS_PLAIN_MAIN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CS_STRESS_PLAIN_MAIN 1
#endif
#ifdef CS_STRESS_PLAIN_MAIN
int main(void)
{
    int f = run_stress();
    printf("%d passed, %d failed\n", f == 0, f != 0);
    return f != 0;
}
#endif
