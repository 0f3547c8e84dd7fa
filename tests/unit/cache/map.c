/* Tests for the sharded map: shard selection, insert/replace/remove, growth,
 * backward-shift deletion, CLOCK hand, seeded hashing. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/cache_map.h"

typedef struct item_s {
    cs_cache_node_t node;
    int value;
    char key[32];
} item_t;

static item_t *item_new(cs_cache_map_t *m, const char *key, int value)
{
    item_t *it = calloc(1, sizeof *it);
    snprintf(it->key, sizeof it->key, "%s", key);
    it->node.key = (const uint8_t *)it->key;
    it->node.klen = (uint32_t)strlen(it->key);
    it->node.hash = cs_cache_map_hash(m, it->key, it->node.klen);
    it->value = value;
    return it;
}

static void free_item(cs_cache_node_t *n, void *ctx)
{
    (*(int *)ctx)++;
    free(n);
}

static item_t *find(cs_cache_map_t *m, const char *key)
{
    uint64_t h = cs_cache_map_hash(m, key, strlen(key));
    uint32_t s = cs_cache_map_shard(m, h);
    cs_cache_map_read_lock(m, s);
    cs_cache_node_t *n = cs_cache_map_find_locked(m, s, h, key, strlen(key));
    cs_cache_map_read_unlock(m, s);
    return (item_t *)n;
}

static void insert(cs_cache_map_t *m, item_t *it, item_t **replaced)
{
    uint32_t s = cs_cache_map_shard(m, it->node.hash);
    cs_cache_map_write_lock(m, s);
    cr_assert_eq(cs_cache_map_insert_locked(m, s, &it->node, (cs_cache_node_t **)replaced), 0);
    cs_cache_map_write_unlock(m, s);
}

Test(map, defaults_to_1024_shards_and_rejects_bad_counts)
{
    cs_cache_map_t *m = NULL;
    cr_assert_eq(cs_cache_map_new(NULL, &m, NULL), 0);
    cr_expect_eq(cs_cache_map_shard_count(m), 1024u);
    cr_expect_eq(cs_cache_map_shard(m, 0x12345678abcdull), 0x12345678abcdull & 1023u);
    cr_expect_eq(cs_cache_map_free(&m), 0);
    cr_expect_null(m);

    cs_err_t err = {0};
    cs_cache_map_config_t bad = {.shards = 1000};
    cr_expect_eq(cs_cache_map_new(&bad, &m, &err), CS_EINVAL);
    cr_expect(strstr(err.msg, "power of two") != NULL, "%s", err.msg);
    bad.shards = 1u << 20;
    cr_expect_eq(cs_cache_map_new(&bad, &m, &err), CS_EINVAL);
    cr_expect_eq(cs_cache_map_free(NULL), 0);
}

Test(map, siphash13_known_answer)
{
    /* Deterministic for a fixed seed, sensitive to length and seed. */
    uint64_t k[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint64_t a = cs_siphash13(k, msg, 15);
    cr_expect_eq(a, cs_siphash13(k, msg, 15));
    cr_expect_neq(a, cs_siphash13(k, msg, 14));
    uint64_t k2[2] = {k[0] ^ 1, k[1]};
    cr_expect_neq(a, cs_siphash13(k2, msg, 15), "the seed must change the hash");
    /* Empty input with a zero key: SipHash-1-3 reference value (the one
     * Rust's SipHasher13 gives for new_with_keys(0, 0).finish()). */
    uint64_t z[2] = {0, 0};
    cr_expect_eq(cs_siphash13(z, "", 0), 0xd1fba762150c532cull);
}

Test(map, insert_find_replace_remove)
{
    cs_cache_map_t *m = NULL;
    cs_cache_map_config_t cfg = {.shards = 4, .seed = {1, 2}};
    cr_assert_eq(cs_cache_map_new(&cfg, &m, NULL), 0);
    item_t *a = item_new(m, "alpha", 1), *b = item_new(m, "beta", 2);
    item_t *a2 = item_new(m, "alpha", 3), *rep = NULL;
    insert(m, a, &rep);
    cr_expect_null(rep);
    insert(m, b, &rep);
    cr_expect_null(rep);
    cr_expect_eq(find(m, "alpha")->value, 1);
    cr_expect_eq(find(m, "beta")->value, 2);
    cr_expect_null(find(m, "gamma"));
    cr_expect_null(find(m, "alph"));
    insert(m, a2, &rep);
    cr_expect_eq(rep, a);
    cr_expect_eq(find(m, "alpha")->value, 3);
    cr_expect_eq(cs_cache_map_count(m), 2u);
    free(a);

    cr_expect_eq(cs_cache_map_free(&m), CS_EBUSY, "free refuses while nodes are linked");
    cr_expect_not_null(m);

    uint64_t h = cs_cache_map_hash(m, "beta", 4);
    uint32_t s = cs_cache_map_shard(m, h);
    cs_cache_map_write_lock(m, s);
    cr_expect_eq(cs_cache_map_remove_locked(m, s, h, "beta", 4), &b->node);
    cr_expect_null(cs_cache_map_remove_locked(m, s, h, "beta", 4));
    cs_cache_map_write_unlock(m, s);
    free(b);
    int freed = 0;
    cs_cache_map_drain(m, free_item, &freed);
    cr_expect_eq(freed, 1);
    cr_expect_eq(cs_cache_map_free(&m), 0);
}

Test(map, many_keys_grow_and_delete_keeps_every_other_key_findable)
{
    cs_cache_map_t *m = NULL;
    cs_cache_map_config_t cfg = {.shards = 2, .seed = {7, 9}, .initial_slots = 4};
    cr_assert_eq(cs_cache_map_new(&cfg, &m, NULL), 0);
    enum {
        N = 5000
    };
    item_t **items = calloc(N, sizeof *items);
    char key[32];
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        items[i] = item_new(m, key, i);
        item_t *rep = NULL;
        insert(m, items[i], &rep);
        cr_assert_null(rep);
    }
    cr_expect_eq(cs_cache_map_count(m), (size_t)N);
    /* Remove every third key: backward shifting must keep the rest reachable. */
    for (int i = 0; i < N; i += 3) {
        uint32_t s = cs_cache_map_shard(m, items[i]->node.hash);
        cs_cache_map_write_lock(m, s);
        cr_assert(cs_cache_map_unlink_locked(m, s, &items[i]->node));
        cr_assert(!cs_cache_map_unlink_locked(m, s, &items[i]->node));
        cs_cache_map_write_unlock(m, s);
        free(items[i]);
        items[i] = NULL;
    }
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "key-%d", i);
        item_t *it = find(m, key);
        if (i % 3 == 0)
            cr_assert_null(it, "%s should be gone", key);
        else
            cr_assert(it && it->value == i, "%s lost", key);
    }
    int freed = 0;
    cs_cache_map_drain(m, free_item, &freed);
    cr_expect_eq(freed, N - (N + 2) / 3);
    cr_expect_eq(cs_cache_map_free(&m), 0);
    free(items);
}

Test(map, clock_hand_visits_every_node)
{
    cs_cache_map_t *m = NULL;
    cs_cache_map_config_t cfg = {.shards = 1, .seed = {3, 4}};
    cr_assert_eq(cs_cache_map_new(&cfg, &m, NULL), 0);
    cs_cache_map_write_lock(m, 0);
    cr_expect_null(cs_cache_map_clock_hand_locked(m, 0));
    cs_cache_map_write_unlock(m, 0);
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        item_t *rep = NULL;
        insert(m, item_new(m, key, i), &rep);
    }
    /* Evicting at the hand without advancing drains the shard. */
    int seen = 0, mask = 0;
    cs_cache_map_write_lock(m, 0);
    cs_cache_node_t *n;
    while ((n = cs_cache_map_clock_hand_locked(m, 0)) != NULL) {
        mask |= 1 << ((item_t *)n)->value;
        cr_assert(cs_cache_map_unlink_locked(m, 0, n));
        free(n);
        seen++;
    }
    cs_cache_map_write_unlock(m, 0);
    cr_expect_eq(seen, 10);
    cr_expect_eq(mask, 0x3ff);
    cr_expect_eq(cs_cache_map_free(&m), 0);
}

Test(map, keys_spread_over_shards)
{
    cs_cache_map_t *m = NULL;
    cr_assert_eq(cs_cache_map_new(NULL, &m, NULL), 0);
    /* Keys that differ only in their last byte, as crafted keys would. */
    static unsigned counts[1024];
    char key[24];
    for (int i = 0; i < 102400; i++) {
        snprintf(key, sizeof key, "obj/%015d", i);
        counts[cs_cache_map_shard(m, cs_cache_map_hash(m, key, strlen(key)))]++;
    }
    unsigned max = 0;
    for (int i = 0; i < 1024; i++)
        max = counts[i] > max ? counts[i] : max;
    cr_expect_lt(max, 200u, "expected ~100 keys per shard, worst shard has %u", max);
    cs_cache_map_free(&m);
}
