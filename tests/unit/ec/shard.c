/* Tests for the shard header format against shard files already on disk:
 * the headers in the fuzz seed corpus were written by earlier builds, so
 * reading them and writing them again must give back the same bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/ec_shard.h"

static size_t slurp(const char *name, uint8_t *buf, size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/shard_header/%s", getenv("CS_SOURCE_DIR"), name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

Test(shard, seed_headers_rewrite_to_the_same_bytes)
{
    cr_assert_not_null(getenv("CS_SOURCE_DIR"));
    static uint8_t file[4096], again[4096];
    static uint32_t crcs[1024];
    for (int i = 1; i <= 9; i++) {
        char name[16];
        snprintf(name, sizeof name, "valid%d", i);
        size_t n = slurp(name, file, sizeof file);
        cr_assert_eq(n, 4096u, "%s", name);
        cs_ec_shard_header_t h;
        cs_err_t err = {0};
        cr_assert_eq(cs_ec_shard_header_parse(file, n, &h, &err), 0, "%s: %s", name, err.msg);
        cr_assert_leq(h.stripe_count, 1024u);
        for (uint64_t j = 0; j < h.stripe_count; j++)
            crcs[j] = cs_ec_shard_stripe_crc(&h, j);
        memset(again, 0xee, sizeof again);
        cr_assert_eq(cs_ec_shard_header_write(&h, crcs, again, sizeof again, &err), 0, "%s: %s", name, err.msg);
        cr_expect_eq(memcmp(again, file, sizeof file), 0, "%s: rewritten header differs", name);
    }
}

Test(shard, seed_header_fields)
{
    cr_assert_not_null(getenv("CS_SOURCE_DIR"));
    static uint8_t file[4096];
    size_t n = slurp("valid1", file, sizeof file);
    cs_ec_shard_header_t h;
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_shard_header_parse(file, n, &h, &err), 0, "%s", err.msg);
    cr_expect_eq(h.version, 1u);
    cr_expect_eq(h.header_size, 4096u);
    cr_expect_eq(h.k, 1);
    cr_expect_eq(h.m, 2);
    cr_expect_eq(h.index, 0);
    cr_expect_eq(h.flags, 0);
    cr_expect_eq(h.stripe_size, 4096u);
    cr_expect_eq(h.chunk_size, 4096u);
    cr_expect_eq(h.object_length, UINT64_C(300000));
    cr_expect_eq(h.generation, UINT64_C(0x18eb74b801cc5872));
    cr_expect_eq(h.stripe_count, UINT64_C(74));
    cr_expect_eq(h.name_len, 1009u);
    cr_expect_eq(h.name[0], 'x');
    cr_expect_eq(h.crc_table, file + 128 + 1009);
}
