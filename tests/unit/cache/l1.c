/* Tests for L1: get/put/delete, references outliving eviction, counters,
 * CLOCK second chance, capacity bound under concurrency. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "couchestor/cache_l1.h"

static cs_l1_t *make(uint64_t cap, uint32_t shards)
{
    cs_l1_config_t cfg = {.capacity_bytes = cap, .shards = shards, .seed = {11, 12}};
    cs_l1_t *l1 = NULL;
    cr_assert_eq(cs_l1_new(&cfg, &l1, NULL), 0);
    return l1;
}

Test(l1, put_get_replace_delete_and_counters)
{
    cs_l1_t *l1 = make(1 << 20, 0);
    cs_l1_entry_t *e = NULL;
    cr_expect_eq(cs_l1_get(l1, "k", 1, &e), CS_ENOTFOUND);
    cr_expect_null(e);
    cr_assert_eq(cs_l1_put(l1, "k", 1, "hello", 5, 7, NULL), 0);
    cr_assert_eq(cs_l1_get(l1, "k", 1, &e), 0);
    size_t n = 0;
    cr_expect_eq(memcmp(cs_l1_entry_value(e, &n), "hello", 5), 0);
    cr_expect_eq(n, 5u);
    cr_expect_eq(cs_l1_entry_flags(e), 7u);
    cr_expect_eq(memcmp(cs_l1_entry_key(e, &n), "k", 1), 0);
    cr_expect_eq(n, 1u);

    /* Replacing keeps the old value alive for the holder of a reference. */
    cr_assert_eq(cs_l1_put(l1, "k", 1, "world!", 6, 0, NULL), 0);
    cr_expect_eq(memcmp(cs_l1_entry_value(e, NULL), "hello", 5), 0);
    cs_l1_entry_release(&e);
    cr_expect_null(e);
    cs_l1_entry_release(&e);

    char buf[8];
    cr_expect_eq(cs_l1_get_copy(l1, "k", 1, buf, sizeof buf, &n), 0);
    cr_expect_eq(n, 6u);
    cr_expect_eq(memcmp(buf, "world!", 6), 0);
    cr_expect_eq(cs_l1_get_copy(l1, "k", 1, buf, 3, &n), CS_ETOOBIG);
    cr_expect_eq(n, 6u);
    cr_expect_eq(cs_l1_put_if_absent(l1, "k", 1, "x", 1, 0, NULL), CS_EEXISTS);
    cr_expect(cs_l1_contains(l1, "k", 1));

    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    cr_expect_eq(st.hits, 3u);
    cr_expect_eq(st.misses, 1u);
    cr_expect_eq(st.inserts, 2u);
    cr_expect_eq(st.entries, 1u);
    cr_expect_eq(st.bytes, cs_l1_charge(1, 6));
    cr_expect_eq(st.evictions, 0u);

    cr_expect_eq(cs_l1_delete(l1, "k", 1), 0);
    cr_expect_eq(cs_l1_delete(l1, "k", 1), CS_ENOTFOUND);
    cr_expect(!cs_l1_contains(l1, "k", 1));
    cs_l1_stats(l1, &st);
    cr_expect_eq(st.bytes, 0u);
    cr_expect_eq(st.entries, 0u);
    cs_l1_free(&l1);
    cr_expect_null(l1);
    cs_l1_free(&l1);
}

Test(l1, rejects_bad_keys_and_oversized_entries)
{
    cs_l1_t *l1 = make(4096, 4);
    cs_err_t err = {0};
    static char big[CS_CACHE_KEY_MAX + 1];
    cr_expect_eq(cs_l1_put(l1, "", 0, "v", 1, 0, &err), CS_EINVAL);
    cr_expect_eq(cs_l1_put(l1, big, sizeof big, "v", 1, 0, &err), CS_EINVAL);
    cr_expect_eq(cs_l1_put(l1, big, 10, big, 4096, 0, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "exceeds the L1 capacity") != NULL, "%s", err.msg);
    cs_l1_entry_t *e;
    cr_expect_eq(cs_l1_get(l1, big, sizeof big, &e), CS_EINVAL);
    cs_l1_free(&l1);
}

static int evicted_count;
static void on_evict(void *ctx, const cs_l1_entry_t *e)
{
    (void)e;
    (*(int *)ctx)++;
}

Test(l1, evicts_to_stay_within_capacity_and_calls_back)
{
    size_t charge = cs_l1_charge(8, 100);
    int evicted = 0;
    cs_l1_config_t cfg = {
        .capacity_bytes = charge * 10, .shards = 4, .seed = {1, 1}, .on_evict = on_evict, .evict_ctx = &evicted};
    cs_l1_t *l1 = NULL;
    cr_assert_eq(cs_l1_new(&cfg, &l1, NULL), 0);
    char key[9], val[100] = {0};
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof key, "key%05d", i);
        cr_assert_eq(cs_l1_put(l1, key, 8, val, 100, 0, NULL), 0);
        cs_l1_stats_t st;
        cs_l1_stats(l1, &st);
        cr_assert_leq(st.bytes, charge * 10);
    }
    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    cr_expect_eq(st.entries, 10u);
    cr_expect_eq(st.evictions, 40u);
    cr_expect_eq(evicted, 40);
    cr_expect_eq(st.bytes, charge * 10);
    cs_l1_free(&l1);
    (void)evicted_count;
}

Test(l1, clock_gives_recently_read_entries_a_second_chance)
{
    size_t charge = cs_l1_charge(4, 10);
    cs_l1_t *l1 = make(charge * 4, 1);
    const char *keys[] = {"aaaa", "bbbb", "cccc", "dddd"};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(cs_l1_put(l1, keys[i], 4, "0123456789", 10, 0, NULL), 0);
    /* A first insert sweeps every bit clear and evicts one entry; then read
     * "aaaa" (or whatever survives) repeatedly so it is always referenced. */
    cr_assert_eq(cs_l1_put(l1, "eeee", 4, "0123456789", 10, 0, NULL), 0);
    const char *hot = cs_l1_contains(l1, "aaaa", 4) ? "aaaa" : "bbbb";
    for (int i = 0; i < 20; i++) {
        char k[5];
        snprintf(k, sizeof k, "x%03d", i);
        char buf[16];
        size_t n;
        cr_assert_eq(cs_l1_get_copy(l1, hot, 4, buf, sizeof buf, &n), 0);
        cr_assert_eq(cs_l1_put(l1, k, 4, "0123456789", 10, 0, NULL), 0);
    }
    cr_expect(cs_l1_contains(l1, hot, 4), "a key read before every insert must survive");
    cs_l1_free(&l1);
}

typedef struct {
    cs_l1_t *l1;
    int id;
    uint64_t cap;
    atomic_int *over;
} worker_t;

static void *hammer(void *arg)
{
    worker_t *w = arg;
    char key[16], val[300];
    memset(val, w->id, sizeof val);
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "t%d-%d", w->id, i % 500);
        cs_l1_put(w->l1, key, strlen(key), val, 64 + (size_t)(i % 200), 0, NULL);
        cs_l1_stats_t st;
        cs_l1_stats(w->l1, &st);
        if (st.bytes > w->cap)
            atomic_fetch_add(w->over, 1);
        cs_l1_entry_t *e;
        if (cs_l1_get(w->l1, key, strlen(key), &e) == 0) {
            size_t n;
            const uint8_t *v = cs_l1_entry_value(e, &n);
            for (size_t j = 0; j < n; j++)
                if (v[j] != (uint8_t)w->id)
                    atomic_fetch_add(w->over, 1000);
            cs_l1_entry_release(&e);
        }
        if (i % 7 == 0)
            cs_l1_delete(w->l1, key, strlen(key));
    }
    return NULL;
}

Test(l1, capacity_holds_under_concurrent_puts)
{
    uint64_t cap = (uint64_t)64 * 1024;
    cs_l1_t *l1 = make(cap, 16);
    atomic_int over = 0;
    pthread_t t[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){l1, i + 1, cap, &over};
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(atomic_load(&over), 0, "size went over capacity or a value was wrong");
    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    cr_expect_leq(st.bytes, cap);
    cr_expect_gt(st.evictions, 0u);
    cs_l1_free(&l1);
}

/* Small values live after the key in the entry, large ones in their own
 * allocation: both round trip at every size boundary, keep 16-byte value
 * alignment when inline, and are charged by cs_l1_charge exactly. */
Test(l1, values_round_trip_inline_and_out_of_line)
{
    size_t sizes[] = {0, 1, 15, 16, 511, 512, 513, 4096, 70000};
    size_t nsizes = sizeof sizes / sizeof sizes[0];
    cs_l1_t *l1 = make(8 << 20, 4);
    static uint8_t val[70000], buf[70000];
    uint64_t charged = 0;
    for (size_t i = 0; i < nsizes; i++) {
        char key[32];
        int klen = snprintf(key, sizeof key, "value-of-%zu-bytes%.*s", sizes[i], (int)(i % 7), "abcdefg");
        for (size_t j = 0; j < sizes[i]; j++)
            val[j] = (uint8_t)(j * 31 + i);
        cr_assert_eq(cs_l1_put(l1, key, (size_t)klen, val, sizes[i], (uint32_t)i, NULL), 0);
        charged += cs_l1_charge((size_t)klen, sizes[i]);
        cs_l1_entry_t *e = NULL;
        cr_assert_eq(cs_l1_get(l1, key, (size_t)klen, &e), 0);
        size_t n = 99;
        const uint8_t *v = cs_l1_entry_value(e, &n);
        cr_expect_eq(n, sizes[i]);
        cr_expect_eq(memcmp(v, val, sizes[i]), 0, "size %zu", sizes[i]);
        if (sizes[i] <= 512)
            cr_expect_eq((uintptr_t)v % 16, 0u, "inline value of %zu bytes", sizes[i]);
        size_t kl = 0;
        cr_expect_eq(memcmp(cs_l1_entry_key(e, &kl), key, (size_t)klen), 0);
        cr_expect_eq(kl, (size_t)klen);
        cr_expect_eq(cs_l1_entry_flags(e), (uint32_t)i);
        cs_l1_entry_release(&e);
        cr_expect_eq(cs_l1_get_copy(l1, key, (size_t)klen, buf, sizeof buf, &n), 0);
        cr_expect_eq(n, sizes[i]);
        cr_expect_eq(memcmp(buf, val, sizes[i]), 0);
    }
    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    cr_expect_eq(st.bytes, charged);
    cr_expect_eq(st.entries, nsizes);
    cs_l1_free(&l1);
}

/* With out-of-line values at capacity, every put evicts exactly what it
 * needs (from its own shard, or another when its own is empty): the size is
 * always the sum of the linked charges and never above the capacity. */
Test(l1, eviction_is_exact_with_out_of_line_values)
{
    size_t charge = cs_l1_charge(8, 4096);
    cs_l1_t *l1 = make(charge * 3, 2);
    char key[9];
    static uint8_t val[4096];
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "big%05d", i);
        memset(val, i, sizeof val);
        cr_assert_eq(cs_l1_put(l1, key, 8, val, sizeof val, 0, NULL), 0);
        cs_l1_stats_t st;
        cs_l1_stats(l1, &st);
        cr_assert_leq(st.bytes, charge * 3);
        cr_assert_eq(st.bytes, st.entries * charge);
        cs_l1_entry_t *e = NULL;
        cr_assert_eq(cs_l1_get(l1, key, 8, &e), 0, "the key just put is present");
        cr_expect_eq(((const uint8_t *)cs_l1_entry_value(e, NULL))[4095], (uint8_t)i);
        cs_l1_entry_release(&e);
    }
    cs_l1_stats_t st;
    cs_l1_stats(l1, &st);
    cr_expect_eq(st.entries, 3u);
    cr_expect_eq(st.evictions, 37u);
    cs_l1_free(&l1);
}
