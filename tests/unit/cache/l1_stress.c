/* Concurrent stress of L1 alone: writers put, replace and delete keys in a
 * tiny cache (few shards, evicting all the time, so entry memory is reused
 * constantly) while readers get (by reference) and get_copy the same keys.
 * Every value is made of 8-byte words that all encode (key, version, length):
 * a lookup racing a writer must never return a torn value (words of two
 * versions), another key's value, or a value of the wrong length. Also built
 * and run under ThreadSanitizer, where the seqlock's readers must not be
 * flagged (everything they read racily is atomic). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/cache_l1.h"

#define WRITERS 2
#define READERS 2
#define KEYS 48
#ifndef OPS
#define OPS 30000
#endif

static atomic_int failures;
static atomic_int writers_done;

static void fail(const char *what, int k, uint64_t a, uint64_t b)
{
    if (atomic_fetch_add(&failures, 1) < 10)
        fprintf(stderr, "l1_stress: %s: key %d (%llu, %llu)\n", what, k, (unsigned long long)a, (unsigned long long)b);
}

/* Small values stay in the entry's slab slot, some are out of line. */
static size_t value_len(uint32_t version)
{
    static const size_t lens[] = {8, 24, 64, 136, 512, 1800, 3000};
    return lens[version % (sizeof lens / sizeof lens[0])];
}

static uint64_t word(int k, uint32_t version, size_t len)
{
    return (uint64_t)k << 48 | (uint64_t)len << 32 | version;
}

static void key_of(int k, char *buf, size_t *klen)
{
    /* Key lengths 3..20: both inline-compare paths of the key. */
    int n = snprintf(buf, 32, "key-%d-%.*s", k, k % 12, "abcdefghijkl");
    *klen = (size_t)n;
}

static void check(int k, const uint8_t *v, size_t n)
{
    if (n % 8 != 0 || n == 0) {
        fail("length not a whole number of words", k, n, 0);
        return;
    }
    uint64_t w0;
    memcpy(&w0, v, 8);
    uint32_t version = (uint32_t)w0;
    if ((int)(w0 >> 48) != k || (w0 >> 32 & 0xffff) != n || value_len(version) != n) {
        fail("value of another key or length", k, w0, n);
        return;
    }
    for (size_t i = 8; i < n; i += 8) {
        uint64_t w;
        memcpy(&w, v + i, 8);
        if (w != w0) {
            fail("torn value", k, w0, w);
            return;
        }
    }
}

typedef struct {
    cs_l1_t *l1;
    int id;
} arg_t;

static void *writer(void *p)
{
    arg_t *a = p;
    unsigned seed = 1000u + (unsigned)a->id;
    uint64_t *v = malloc(4096);
    for (uint32_t op = 1; op <= OPS; op++) {
        int k = rand_r(&seed) % KEYS;
        char key[32];
        size_t klen;
        key_of(k, key, &klen);
        if (rand_r(&seed) % 10 == 0) {
            cs_l1_delete(a->l1, key, klen);
            continue;
        }
        uint32_t version = op * WRITERS + (uint32_t)a->id;
        size_t n = value_len(version);
        for (size_t i = 0; i < n / 8; i++)
            v[i] = word(k, version, n);
        int rc = rand_r(&seed) % 4 == 0 ? cs_l1_put_if_absent(a->l1, key, klen, v, n, version, NULL)
                                        : cs_l1_put(a->l1, key, klen, v, n, version, NULL);
        if (rc != 0 && rc != CS_EEXISTS)
            fail("put failed", k, (uint64_t)-rc, version);
    }
    free(v);
    atomic_fetch_add(&writers_done, 1);
    return NULL;
}

static void *reader(void *p)
{
    arg_t *a = p;
    unsigned seed = 2000u + (unsigned)a->id;
    uint8_t *buf = malloc(4096);
    while (atomic_load(&writers_done) < WRITERS) {
        int k = rand_r(&seed) % KEYS;
        char key[32];
        size_t klen;
        key_of(k, key, &klen);
        size_t n = 0;
        int rc = cs_l1_get_copy(a->l1, key, klen, buf, 4096, &n);
        if (rc == 0)
            check(k, buf, n);
        else if (rc != CS_ENOTFOUND)
            fail("get_copy failed", k, (uint64_t)-rc, 0);
        cs_l1_entry_t *e = NULL;
        rc = cs_l1_get(a->l1, key, klen, &e);
        if (rc == 0) {
            size_t kl = 0;
            const void *kp = cs_l1_entry_key(e, &kl);
            if (kl != klen || memcmp(kp, key, klen) != 0)
                fail("reference to another key", k, kl, klen);
            const uint8_t *v = cs_l1_entry_value(e, &n);
            check(k, v, n);
            uint64_t w0;
            memcpy(&w0, v, 8);
            if (cs_l1_entry_flags(e) != (uint32_t)w0)
                fail("flags of another version", k, cs_l1_entry_flags(e), w0);
            cs_l1_entry_release(&e);
        } else if (rc != CS_ENOTFOUND) {
            fail("get failed", k, (uint64_t)-rc, 0);
        }
    }
    free(buf);
    return NULL;
}

/* No Criterion assertion inside, so it can also run without Criterion's
 * runner (see main below). */
static int run_stress(void)
{
    /* About 16 small entries: every put evicts, slab slots are reused. */
    cs_l1_config_t cfg = {.capacity_bytes = 16 * cs_l1_charge(16, 136) + cs_l1_charge(16, 3000), .shards = 2};
    cs_l1_t *l1 = NULL;
    if (cs_l1_new(&cfg, &l1, NULL) != 0)
        return 1;
    atomic_store(&writers_done, 0);
    pthread_t th[WRITERS + READERS];
    arg_t args[WRITERS + READERS];
    for (int i = 0; i < WRITERS + READERS; i++) {
        args[i] = (arg_t){l1, i};
        if (pthread_create(&th[i], NULL, i < WRITERS ? writer : reader, &args[i]) != 0) {
            fail("pthread_create", i, 0, 0);
            atomic_fetch_add(&writers_done, i < WRITERS ? 1 : 0);
            th[i] = 0;
        }
    }
    for (int i = 0; i < WRITERS + READERS; i++)
        if (th[i])
            pthread_join(th[i], NULL);
    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    if (st.bytes > st.capacity_bytes)
        fail("over capacity", 0, st.bytes, st.capacity_bytes);
    if (st.evictions == 0 || st.hits == 0)
        fail("the run did not evict or hit", 0, st.evictions, st.hits);
    /* A reference outlives the cache. */
    cs_l1_put(l1, "last", 4, "12345678", 8, 0, NULL);
    cs_l1_entry_t *e = NULL;
    if (cs_l1_get(l1, "last", 4, &e) != 0)
        fail("last put not found", 0, 0, 0);
    cs_l1_free(&l1);
    if (e && memcmp(cs_l1_entry_value(e, NULL), "12345678", 8) != 0)
        fail("reference changed after free", 0, 0, 0);
    cs_l1_entry_release(&e);
    return atomic_load(&failures);
}

Test(l1_stress, lookups_racing_writers_never_return_torn_or_foreign_values, .timeout = 120)
{
    cr_expect_eq(run_stress(), 0);
}

/* Criterion's runner cannot start under ThreadSanitizer (see stress.c): a
 * TSan build runs the same check as a plain program. */
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
