/* Tests for the little-endian loads and stores: the exact byte layout every
 * on-disk format relies on, at every alignment, touching nothing else. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "couchestor/endian.h"

/* A buffer filled with a canary, so that a store writing a byte too many
 * or too few shows. */
#define CANARY 0xa5

static const uint8_t bytes16[2] = {0x34, 0x12};
static const uint8_t bytes32[4] = {0x78, 0x56, 0x34, 0x12};
static const uint8_t bytes64[8] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};

static void expect_only(const uint8_t *buf, size_t cap, size_t off, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < cap; i++) {
        uint8_t expect = i >= off && i < off + n ? want[i - off] : CANARY;
        cr_expect_eq(buf[i], expect, "offset %zu, byte %zu: 0x%02x, expected 0x%02x", off, i, buf[i], expect);
    }
}

Test(endian, stores_write_least_significant_byte_first_at_every_alignment)
{
    uint8_t buf[24];
    for (size_t off = 0; off < 8; off++) {
        memset(buf, CANARY, sizeof buf);
        cs_le16_store(buf + off, 0x1234);
        expect_only(buf, sizeof buf, off, bytes16, 2);

        memset(buf, CANARY, sizeof buf);
        cs_le32_store(buf + off, 0x12345678u);
        expect_only(buf, sizeof buf, off, bytes32, 4);

        memset(buf, CANARY, sizeof buf);
        cs_le64_store(buf + off, UINT64_C(0x0123456789abcdef));
        expect_only(buf, sizeof buf, off, bytes64, 8);
    }
}

Test(endian, loads_read_least_significant_byte_first_at_every_alignment)
{
    uint8_t buf[24];
    for (size_t off = 0; off < 8; off++) {
        memset(buf, 0xff, sizeof buf); /* neighbours must not leak in */
        memcpy(buf + off, bytes16, 2);
        cr_expect_eq(cs_le16_load(buf + off), 0x1234, "offset %zu", off);
        memcpy(buf + off, bytes32, 4);
        cr_expect_eq(cs_le32_load(buf + off), 0x12345678u, "offset %zu", off);
        memcpy(buf + off, bytes64, 8);
        cr_expect_eq(cs_le64_load(buf + off), UINT64_C(0x0123456789abcdef), "offset %zu", off);
    }
}

Test(endian, extremes_and_high_bits)
{
    uint8_t b[8];
    cs_le16_store(b, 0x8001);
    cr_expect(b[0] == 0x01 && b[1] == 0x80);
    cs_le32_store(b, 0x80000001u);
    cr_expect(b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0x80);
    cs_le64_store(b, UINT64_C(0x8000000000000001));
    cr_expect(b[0] == 0x01 && b[7] == 0x80);
    for (int i = 1; i < 7; i++)
        cr_expect_eq(b[i], 0);

    static const uint8_t ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cr_expect_eq(cs_le16_load(ones), UINT16_MAX);
    cr_expect_eq(cs_le32_load(ones), UINT32_MAX);
    cr_expect_eq(cs_le64_load(ones), UINT64_MAX);
    static const uint8_t zeros[8] = {0};
    cr_expect_eq(cs_le16_load(zeros), 0);
    cr_expect_eq(cs_le32_load(zeros), 0u);
    cr_expect_eq(cs_le64_load(zeros), UINT64_C(0));
}

Test(endian, round_trips_at_unaligned_addresses)
{
    /* A pseudo-random walk over values (xorshift64), each stored at an odd
     * address and read back. */
    uint8_t buf[32];
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    for (int i = 0; i < 10000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t off = 1 + (size_t)(x % 7) * 2; /* 1, 3, ..., 13 */
        cs_le64_store(buf + off, x);
        cr_assert_eq(cs_le64_load(buf + off), x);
        cr_assert_eq(cs_le32_load(buf + off), (uint32_t)x, "the low half comes first");
        cr_assert_eq(cs_le32_load(buf + off + 4), (uint32_t)(x >> 32));
        cs_le32_store(buf + off, (uint32_t)x);
        cr_assert_eq(cs_le32_load(buf + off), (uint32_t)x);
        cr_assert_eq(cs_le16_load(buf + off + 2), (uint16_t)(x >> 16));
        cs_le16_store(buf + off, (uint16_t)x);
        cr_assert_eq(cs_le16_load(buf + off), (uint16_t)x);
    }
}
