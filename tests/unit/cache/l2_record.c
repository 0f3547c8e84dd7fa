/* Tests for the L2 record format: encode/parse round trip, every bound, and
 * that the fuzz seed corpus holds the valid records it claims to. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/l2_record.h"
#include "couchestor/compress.h"
#include "couchestor/crc32c.h"

static size_t build(uint8_t *buf, const char *key, const uint8_t *val, uint32_t vlen, uint64_t seq)
{
    size_t klen = strlen(key);
    uint32_t vcrc = cs_crc32c(cs_crc32c(0, key, klen), val, vlen);
    size_t total = cs__l2_rec_size(klen, vlen);
    memset(buf, 0, total);
    cs__l2_rec_header(buf, CS__L2_REC_PUT, CS_CODEC_RAW, (const uint8_t *)key, (uint16_t)klen,
                      vlen, vlen, seq, vcrc);
    memcpy(buf + 32, key, klen);
    memcpy(buf + 32 + klen, val, vlen);
    return total;
}

Test(l2_record, round_trip_and_damage)
{
    uint8_t val[100], buf[256], out[100];
    for (int i = 0; i < 100; i++)
        val[i] = (uint8_t)i;
    size_t total = build(buf, "key", val, sizeof val, 42);
    cr_expect_eq(total, 136u);
    cs__l2_rec_t r;
    cr_assert_eq(cs__l2_rec_parse(buf, total, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.seq, 42u);
    cr_expect_eq(r.klen, 3u);
    cr_expect_eq(r.vlen, 100u);
    cr_expect_eq(r.total, total);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    cr_expect_eq(memcmp(out, val, sizeof val), 0);
    /* Every truncation is TRUNCATED, never OK or an overrun. */
    for (size_t n = 0; n < total; n++)
        cr_expect_eq(cs__l2_rec_parse(buf, n, &r), CS__L2_PARSE_TRUNCATED, "length %zu", n);
    /* Any flipped header or key byte is BAD (or, for the length fields, TRUNCATED). */
    for (size_t i = 0; i < 32 + 3; i++) {
        if (i >= 24 && i < 28)
            continue; /* the value CRC is checked by verify, not parse */
        buf[i] ^= 0x40;
        int p = cs__l2_rec_parse(buf, total, &r);
        cr_expect_neq(p, CS__L2_PARSE_OK, "flip at %zu parsed", i);
        buf[i] ^= 0x40;
    }
    buf[24] ^= 1;
    cr_assert_eq(cs__l2_rec_parse(buf, total, &r), CS__L2_PARSE_BAD, "value CRC is in the header CRC");
    buf[24] ^= 1;
    buf[40] ^= 1; /* a value byte */
    cr_assert_eq(cs__l2_rec_parse(buf, total, &r), CS__L2_PARSE_OK);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), CS_ECORRUPT);
}

Test(l2_record, segment_header)
{
    uint8_t h[32];
    uint64_t id = 0;
    cs__l2_seg_header(h, 0x1234);
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &id), 0);
    cr_expect_eq(id, 0x1234u);
    cr_expect_eq(cs__l2_seg_header_check(h, 31, &id), CS_ECORRUPT);
    h[10] ^= 1;
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &id), CS_ECORRUPT);
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/l2_record/%s", getenv("CS_SOURCE_DIR"),
             name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    static uint8_t buf[65536];
    *len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    return buf;
}

Test(l2_record, fuzz_seeds_are_what_they_say)
{
    cr_assert_not_null(getenv("CS_SOURCE_DIR"));
    size_t n;
    uint8_t *b = slurp("segment_put_raw", &n);
    uint64_t id;
    cr_expect_eq(cs__l2_seg_header_check(b, n, &id), 0);
    cs__l2_rec_t r;
    static uint8_t out[8192];
    cr_assert_eq(cs__l2_rec_parse(b + 32, n - 32, &r), CS__L2_PARSE_OK);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    b = slurp("records_put_lz4_delete", &n);
    cr_assert_eq(cs__l2_rec_parse(b, n, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.codec, CS_CODEC_LZ4);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    size_t first = r.total;
    cr_assert_eq(cs__l2_rec_parse(b + first, n - first, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.type, CS__L2_REC_DEL);
    b = slurp("bad_value", &n);
    cr_assert_eq(cs__l2_rec_parse(b, n, &r), CS__L2_PARSE_OK);
    cr_expect_neq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
}
