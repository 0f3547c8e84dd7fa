/* Tests for the tiered manager: lookup order, promotion policies, demotion
 * on L1 eviction, write-through, invalidation, L3 failures, restart, metrics,
 * and L3 on the real erasure-coded store. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "couchestor/cache.h"
#include "couchestor/ec_store.h"
#include "mem_tier.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-tiered-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(tiered, .init = setup, .fini = teardown);

#define VLEN 4096

static cs_l2_config_t l2cfg;

/* L1 holding `l1_entries` 4 KiB values; L2 in dir; L3 = t (may be NULL). */
static cs_cache_t *make(mem_tier_t *t, int l1_entries, bool with_l2, cs_cache_promote_t promote)
{
    l2cfg = (cs_l2_config_t){.dir = dir,
                             .capacity_bytes = 4 << 20,
                             .segment_size = 256 << 10,
                             .compression = {.algorithm = CS_COMPRESS_LZ4, .min_size = 512}};
    cs_cache_config_t cfg = {
        .l1 = {.capacity_bytes = cs_l1_charge(16, VLEN) * (size_t)l1_entries, .shards = 1},
        .l2 = with_l2 ? &l2cfg : NULL,
        .l3_ops = t ? &mem_tier_ops : NULL,
        .l3_ctx = t,
        .promote = promote,
    };
    cs_cache_t *c = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_cache_new(&cfg, &c, &err), 0, "%s", err.msg);
    return c;
}

static void value(uint8_t *v, int i, int version)
{
    for (int j = 0; j < VLEN; j++)
        v[j] = (uint8_t)(i * 31 + version * 7 + j / 16);
}

static void put(cs_cache_t *c, int i, int version)
{
    char key[17];
    snprintf(key, sizeof key, "key-%012d", i);
    uint8_t v[VLEN];
    value(v, i, version);
    cs_err_t err = {0};
    cr_assert_eq(cs_cache_put(c, key, 16, v, VLEN, &err), 0, "%s", err.msg);
}

/* Returns the tier the value came from, asserting the bytes. */
static cs_cache_tier_t get(cs_cache_t *c, int i, int version)
{
    char key[17];
    snprintf(key, sizeof key, "key-%012d", i);
    uint8_t want[VLEN], *data = NULL;
    size_t len = 0;
    cs_cache_tier_t tier = CS_CACHE_TIER_L3;
    int rc = cs_cache_get(c, key, 16, &data, &len, &tier, NULL);
    if (rc == CS_ENOTFOUND) {
        cr_assert_eq(tier, CS_CACHE_TIER_NONE);
        cr_assert_null(data);
        return CS_CACHE_TIER_NONE;
    }
    cr_assert_eq(rc, 0);
    value(want, i, version);
    cr_assert_eq(len, (size_t)VLEN);
    cr_assert_eq(memcmp(data, want, VLEN), 0, "key %d: wrong bytes from tier %d", i, tier);
    free(data);
    return tier;
}

Test(tiered, put_writes_through_and_get_hits_l1)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 8, true, CS_CACHE_PROMOTE_ALL);
    cr_expect_eq(get(c, 1, 0), CS_CACHE_TIER_NONE);
    put(c, 1, 0);
    cr_expect_eq(atomic_load(&t->puts), 1);
    cr_expect_eq(get(c, 1, 0), CS_CACHE_TIER_L1);
    put(c, 1, 1);
    cr_expect_eq(get(c, 1, 1), CS_CACHE_TIER_L1);
    cs_cache_stats_t st;
    cs_cache_stats(c, &st);
    cr_expect_eq(st.tier[CS_CACHE_TIER_L1].hits, 2u);
    cr_expect_eq(st.tier[CS_CACHE_TIER_L1].misses, 1u);
    cr_expect_eq(st.tier[CS_CACHE_TIER_L3].misses, 1u);
    cr_expect_eq(st.puts, 2u);
    cs_cache_free(&c);
    cr_expect_null(c);
    mem_tier_free(t);
}

Test(tiered, l1_eviction_demotes_to_l2_and_l2_hits_promote)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 4, true, CS_CACHE_PROMOTE_ALL);
    for (int i = 0; i < 20; i++)
        put(c, i, 0);
    cs_cache_stats_t st;
    cs_cache_stats(c, &st);
    cr_expect_eq(st.l1.entries, 4u);
    cr_expect_eq(st.demotions, 16u);
    cr_expect_eq(st.l2.entries, 16u);
    int from_l2 = 0;
    for (int i = 0; i < 20; i++)
        from_l2 += get(c, i, 0) == CS_CACHE_TIER_L2;
    cr_expect_geq(from_l2, 16);
    cs_cache_stats(c, &st);
    cr_expect_eq(st.tier[CS_CACHE_TIER_L3].hits, 0u, "L3 is never read while L2 has the data");
    cr_expect_eq(atomic_load(&t->gets), 0);
    cr_expect_geq(st.promotions_l1, 15u);
    /* Promoted entries carry "already in L2": evicting them again costs no
     * write; only the four put straight into L1 (keys 16..19) can be demoted
     * now. */
    cr_expect_leq(st.demotions, 20u);
    cr_expect_eq(st.l2.puts, st.demotions);
    cs_cache_free(&c);
    mem_tier_free(t);
}

Test(tiered, l3_hits_promote_per_policy)
{
    for (int p = 0; p < 3; p++) {
        mem_tier_t *t = mem_tier_new();
        cs_cache_t *c = make(t, 2, true, (cs_cache_promote_t)p);
        /* Values written straight into L3 (another node, or before a wipe). */
        uint8_t v[VLEN];
        value(v, 5, 0);
        cr_assert_eq(mem_put(t, "key-000000000005", 16, v, VLEN, NULL), 0);
        cr_expect_eq(get(c, 5, 0), CS_CACHE_TIER_L3);
        cs_cache_tier_t second = get(c, 5, 0);
        cs_cache_stats_t st;
        cs_cache_stats(c, &st);
        if (p == CS_CACHE_PROMOTE_ALL) {
            cr_expect_eq(second, CS_CACHE_TIER_L1);
            cr_expect_eq(st.promotions_l2, 1u);
            cr_expect_eq(st.l2.entries, 1u);
        } else if (p == CS_CACHE_PROMOTE_L1) {
            cr_expect_eq(second, CS_CACHE_TIER_L1);
            cr_expect_eq(st.promotions_l2, 0u);
        } else {
            cr_expect_eq(second, CS_CACHE_TIER_L3);
            cr_expect_eq(st.promotions_l1, 0u);
        }
        cs_cache_free(&c);
        mem_tier_free(t);
        teardown();
        setup();
    }
}

Test(tiered, delete_invalidates_every_tier)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 2, true, CS_CACHE_PROMOTE_ALL);
    for (int i = 0; i < 6; i++)
        put(c, i, 0); /* 0..3 demoted to L2, 4..5 in L1, all in L3 */
    for (int i = 0; i < 6; i++) {
        char key[17];
        snprintf(key, sizeof key, "key-%012d", i);
        cr_expect_eq(cs_cache_delete(c, key, 16, NULL), 0);
        cr_expect_eq(cs_cache_delete(c, key, 16, NULL), CS_ENOTFOUND);
        cr_expect_eq(get(c, i, 0), CS_CACHE_TIER_NONE);
    }
    cs_cache_stats_t st;
    cs_cache_stats(c, &st);
    cr_expect_eq(st.l1.entries, 0u);
    cr_expect_eq(st.l2.entries, 0u);
    cr_expect_eq(st.deletes, 6u);
    cs_cache_free(&c);
    /* And nothing comes back from L2 after a restart. */
    c = make(t, 2, true, CS_CACHE_PROMOTE_ALL);
    for (int i = 0; i < 6; i++)
        cr_expect_eq(get(c, i, 0), CS_CACHE_TIER_NONE);
    cs_cache_free(&c);
    mem_tier_free(t);
}

Test(tiered, failed_l3_put_leaves_no_stale_copy)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 4, true, CS_CACHE_PROMOTE_ALL);
    put(c, 1, 0);
    atomic_store(&t->fail_puts, 1);
    char key[17];
    snprintf(key, sizeof key, "key-%012d", 1);
    uint8_t v[VLEN];
    value(v, 1, 1);
    cs_err_t err = {0};
    cr_expect_eq(cs_cache_put(c, key, 16, v, VLEN, &err), CS_EIO);
    cr_expect_str_eq(err.msg, "cache put: L3 (mem): injected failure");
    /* L3 still has version 0, and so does every answer. */
    cr_expect_eq(get(c, 1, 0), CS_CACHE_TIER_L3);
    cr_expect_eq(get(c, 1, 0), CS_CACHE_TIER_L1);
    cs_cache_free(&c);
    mem_tier_free(t);
}

Test(tiered, l2_survives_a_restart_of_the_cache)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 2, true, CS_CACHE_PROMOTE_ALL);
    for (int i = 0; i < 10; i++)
        put(c, i, 3);
    cs_cache_free(&c);
    c = make(t, 2, true, CS_CACHE_PROMOTE_ALL);
    /* L1 holds 2 entries, so 8 of the 10 were evicted to L2 and survive the
     * restart; the 2 still in L1 at the end are gone with it. Which 2 is up
     * to CLOCK (its hand follows the seeded hash's slot order), so count. */
    int from_l2 = 0, from_l3 = 0;
    for (int i = 0; i < 10; i++) {
        cs_cache_tier_t tier = get(c, i, 3);
        from_l2 += tier == CS_CACHE_TIER_L2;
        from_l3 += tier == CS_CACHE_TIER_L3;
    }
    cr_expect_eq(from_l2, 8);
    cr_expect_eq(from_l3, 2);
    cr_expect_eq(atomic_load(&t->gets), 2);
    cs_cache_free(&c);
    mem_tier_free(t);
}

Test(tiered, without_l3_the_cache_is_the_only_copy)
{
    cs_cache_t *c = make(NULL, 2, false, CS_CACHE_PROMOTE_ALL);
    put(c, 1, 0);
    cr_expect_eq(get(c, 1, 0), CS_CACHE_TIER_L1);
    for (int i = 2; i <= 5; i++)
        put(c, i, 0);
    int gone = 0;
    for (int i = 1; i <= 5; i++)
        gone += get(c, i, 0) == CS_CACHE_TIER_NONE;
    cr_expect_eq(gone, 3, "L1 holds two entries; the rest had nowhere to go");
    /* A value bigger than L1 cannot be kept anywhere: the put fails. */
    uint8_t *big = calloc(1, 3 * VLEN);
    cs_err_t err = {0};
    cr_expect_eq(cs_cache_put(c, "big", 3, big, 3 * VLEN, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "no L3 is configured") != NULL, "%s", err.msg);
    free(big);
    cs_cache_free(&c);
}

Test(tiered, bad_arguments)
{
    cs_cache_t *c = make(NULL, 2, false, CS_CACHE_PROMOTE_ALL);
    uint8_t *d;
    size_t n;
    cs_err_t err = {0};
    cr_expect_eq(cs_cache_get(c, "", 0, &d, &n, NULL, &err), CS_EINVAL);
    cr_expect_eq(cs_cache_put(c, "k", 1, NULL, 5, &err), CS_EINVAL);
    cr_expect_eq(cs_cache_delete(c, "k", 1, &err), CS_ENOTFOUND);
    cs_cache_free(&c);
    cs_cache_config_t cfg = {.key_locks = 3};
    cr_expect_eq(cs_cache_new(&cfg, &c, &err), CS_EINVAL);
    cs_cache_free(NULL);
}

Test(tiered, prometheus_text)
{
    mem_tier_t *t = mem_tier_new();
    cs_cache_t *c = make(t, 4, true, CS_CACHE_PROMOTE_ALL);
    put(c, 1, 0);
    get(c, 1, 0);
    get(c, 2, 0);
    char buf[16384];
    size_t len = 0;
    cr_assert_eq(cs_cache_metrics_text(c, buf, sizeof buf, &len), 0);
    cr_expect_eq(strlen(buf), len);
    cr_expect(strstr(buf, "# TYPE couchestor_cache_hits_total counter\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_hits_total{tier=\"l1\"} 1\n") != NULL, "%s", buf);
    cr_expect(strstr(buf, "couchestor_cache_misses_total{tier=\"l1\"} 1\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_misses_total{tier=\"l3\"} 1\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_get_duration_seconds_count{tier=\"l1\"} 2\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_get_duration_seconds_bucket{tier=\"l1\",le=\"+Inf\"} 2\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_entries{tier=\"l1\"} 1\n") != NULL);
    cr_expect(strstr(buf, "couchestor_cache_puts_total 1\n") != NULL);
    /* Too small a buffer says how much is needed. */
    size_t need = 0;
    cr_expect_eq(cs_cache_metrics_text(c, buf, 100, &need), CS_ETOOBIG);
    cr_expect_eq(need, len);
    cs_cache_free(&c);
    mem_tier_free(t);
}

Test(tiered, l3_on_the_erasure_coded_store)
{
    char dirs[3][96];
    const char *dp[3];
    for (int i = 0; i < 3; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/disk%d", dir, i);
        cr_assert_eq(mkdir(dirs[i], 0700), 0);
        dp[i] = dirs[i];
    }
    cs_ec_store_t *store = NULL;
    cs_ec_store_opts_t opts = {.io_flags = 0};
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_store_open(dp, 3, &opts, &store, &err), 0, "%s", err.msg);
    cs_cache_ec_tier_t ec = {.store = store, .k = 2, .m = 1};
    char l2dir[96];
    snprintf(l2dir, sizeof l2dir, "%s/l2", dir);
    cs_l2_config_t l2c = {.dir = l2dir, .capacity_bytes = 4 << 20, .segment_size = 256 << 10};
    cs_cache_config_t cfg = {.l1 = {.capacity_bytes = cs_l1_charge(16, VLEN) * 2, .shards = 1},
                             .l2 = &l2c,
                             .l3_ops = &cs_cache_ec_tier_ops,
                             .l3_ctx = &ec};
    cs_cache_t *c = NULL;
    cr_assert_eq(cs_cache_new(&cfg, &c, &err), 0, "%s", err.msg);
    for (int i = 0; i < 4; i++)
        put(c, i, 9);
    /* The durable copy is in the EC store. */
    uint8_t *data = NULL;
    size_t len = 0;
    cr_assert_eq(cs_ec_store_get(store, "key-000000000000", 16, 1 << 20, &data, &len, NULL, &err), 0, "%s", err.msg);
    uint8_t want[VLEN];
    value(want, 0, 9);
    cr_expect_eq(len, (size_t)VLEN);
    cr_expect_eq(memcmp(data, want, VLEN), 0);
    free(data);
    cs_cache_free(&c);
    /* A new cache with an empty L2 reads from the EC store. */
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", l2dir);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(cs_cache_new(&cfg, &c, &err), 0, "%s", err.msg);
    cr_expect_eq(get(c, 2, 9), CS_CACHE_TIER_L3);
    cr_expect_eq(get(c, 2, 9), CS_CACHE_TIER_L1);
    cr_expect_eq(cs_cache_delete(c, "key-000000000002", 16, &err), 0);
    cr_expect_eq(cs_ec_store_get(store, "key-000000000002", 16, 1 << 20, &data, &len, NULL, &err), CS_ENOTFOUND);
    cr_expect_eq(get(c, 2, 9), CS_CACHE_TIER_NONE);
    cs_cache_free(&c);
    cs_ec_store_close(&store);
}
