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
    cs__l2_rec_t r = {.type = CS__L2_REC_PUT,
                      .codec = CS_CODEC_RAW,
                      .klen = (uint16_t)klen,
                      .plen = vlen,
                      .vlen = vlen,
                      .seq = seq,
                      .vcrc = cs_crc32c(cs_crc32c(0, key, klen), val, vlen),
                      .key = (const uint8_t *)key};
    size_t total = cs__l2_rec_size(1, klen, vlen);
    memset(buf, 0, total);
    cs__l2_rec_header(buf, 1, &r);
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
    cr_assert_eq(cs__l2_rec_parse(buf, total, 1, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.seq, 42u);
    cr_expect_eq(r.klen, 3u);
    cr_expect_eq(r.vlen, 100u);
    cr_expect_eq(r.total, total);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    cr_expect_eq(memcmp(out, val, sizeof val), 0);
    /* Every truncation is TRUNCATED, never OK or an overrun. */
    for (size_t n = 0; n < total; n++)
        cr_expect_eq(cs__l2_rec_parse(buf, n, 1, &r), CS__L2_PARSE_TRUNCATED, "length %zu", n);
    /* Any flipped header or key byte is BAD (or, for the length fields, TRUNCATED). */
    for (size_t i = 0; i < 32 + 3; i++) {
        if (i >= 24 && i < 28)
            continue; /* the value CRC is checked by verify, not parse */
        buf[i] ^= 0x40;
        int p = cs__l2_rec_parse(buf, total, 1, &r);
        cr_expect_neq(p, CS__L2_PARSE_OK, "flip at %zu parsed", i);
        buf[i] ^= 0x40;
    }
    buf[24] ^= 1;
    cr_assert_eq(cs__l2_rec_parse(buf, total, 1, &r), CS__L2_PARSE_BAD, "value CRC is in the header CRC");
    buf[24] ^= 1;
    buf[40] ^= 1; /* a value byte */
    cr_assert_eq(cs__l2_rec_parse(buf, total, 1, &r), CS__L2_PARSE_OK);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), CS_ECORRUPT);
}

Test(l2_record, v2_round_trip_and_damage)
{
    uint8_t buf[128];
    const char *key = "key";
    cs__l2_rec_t w = {.type = CS__L2_REC_PUT,
                      .codec = CS_CODEC_RAW,
                      .klen = 3,
                      .plen = 4096,
                      .vlen = 4096,
                      .seq = 7,
                      .vcrc = 0x1234,
                      .poff = 8192,
                      .key = (const uint8_t *)key};
    size_t total = cs__l2_rec_size(2, 3, 4096);
    cr_expect_eq(total, 48u, "the payload is not in the log");
    memset(buf, 0, sizeof buf);
    cr_assert_eq(cs__l2_rec_header(buf, 2, &w), 40u);
    memcpy(buf + 40, key, 3);
    cs__l2_rec_t r;
    cr_assert_eq(cs__l2_rec_parse(buf, total, 2, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.poff, 8192u);
    cr_expect_eq(r.plen, 4096u);
    cr_expect_eq(r.seq, 7u);
    cr_expect_null(r.payload);
    cr_expect_eq(r.total, 48u);
    cr_expect_eq(cs__l2_rec_parse(buf, total, 1, &r), CS__L2_PARSE_BAD, "v2 is not v1");
    for (size_t n = 0; n < total; n++)
        cr_expect_eq(cs__l2_rec_parse(buf, n, 2, &r), CS__L2_PARSE_TRUNCATED, "length %zu", n);
    for (size_t i = 0; i < 40 + 3; i++) {
        buf[i] ^= 0x40;
        cr_expect_neq(cs__l2_rec_parse(buf, total, 2, &r), CS__L2_PARSE_OK, "flip at %zu", i);
        buf[i] ^= 0x40;
    }
    /* A payload inside the first (log) block is malformed. */
    w.poff = 100;
    cs__l2_rec_header(buf, 2, &w);
    cr_expect_eq(cs__l2_rec_parse(buf, total, 2, &r), CS__L2_PARSE_BAD);
    /* A tombstone has no payload. */
    cs__l2_rec_t d = {.type = CS__L2_REC_DEL, .klen = 3, .seq = 8, .key = (const uint8_t *)key};
    cs__l2_rec_header(buf, 2, &d);
    cr_expect_eq(cs__l2_rec_parse(buf, total, 2, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.type, CS__L2_REC_DEL);
    d.poff = 4096;
    cs__l2_rec_header(buf, 2, &d);
    cr_expect_eq(cs__l2_rec_parse(buf, total, 2, &r), CS__L2_PARSE_BAD);
    cr_expect_eq(cs__l2_rec_parse(buf, total, 3, &r), CS__L2_PARSE_BAD, "unknown version");
}

Test(l2_record, payload_placement)
{
    cr_expect_eq(cs__l2_payload_place(65536, 4096), 65536u);
    cr_expect_eq(cs__l2_payload_place(65544, 4096), 69632u);
    cr_expect_eq(cs__l2_payload_place(65544, 10000), 69632u);
    cr_expect_eq(cs__l2_payload_place(65544, 4088), 65544u, "fits the rest of the block");
    cr_expect_eq(cs__l2_payload_place(65544, 4089), 69632u, "would cross a boundary");
    cr_expect_eq(cs__l2_payload_place(65536 + 4000, 96), 65536u + 4000u);
    cr_expect_eq(cs__l2_log_area(64u << 20), 4u << 20);
    cr_expect_eq(cs__l2_log_area(64u << 10), 4096u);
    cr_expect_eq(cs__l2_log_area(128u << 10), 8192u);
}

Test(l2_record, segment_header)
{
    uint8_t h[32];
    cs__l2_seg_info_t info = {0};
    cs__l2_seg_header(h, 0x1234, 2, 8192);
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &info), 0);
    cr_expect_eq(info.id, 0x1234u);
    cr_expect_eq(info.version, 2u);
    cr_expect_eq(info.log_area, 8192u);
    cr_expect_eq(cs__l2_seg_header_check(h, 31, &info), CS_ECORRUPT);
    h[10] ^= 1;
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &info), CS_ECORRUPT);
    cs__l2_seg_header(h, 5, 1, 0);
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &info), 0);
    cr_expect_eq(info.version, 1u);
    cr_expect_eq(info.log_area, 0u);
    cs__l2_seg_header(h, 5, 2, 100); /* not whole blocks */
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &info), CS_ECORRUPT);
    cs__l2_seg_header(h, 5, 9, 4096);
    cr_expect_eq(cs__l2_seg_header_check(h, 32, &info), CS_EINVAL, "a version we do not know");
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/l2_record/%s", getenv("CS_SOURCE_DIR"), name);
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
    cs__l2_seg_info_t info;
    cr_expect_eq(cs__l2_seg_header_check(b, n, &info), 0);
    cr_expect_eq(info.version, 1u);
    cs__l2_rec_t r;
    static uint8_t out[8192];
    cr_assert_eq(cs__l2_rec_parse(b + 32, n - 32, 1, &r), CS__L2_PARSE_OK);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    b = slurp("records_put_lz4_delete", &n);
    cr_assert_eq(cs__l2_rec_parse(b, n, 1, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.codec, CS_CODEC_LZ4);
    cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    size_t first = r.total;
    cr_assert_eq(cs__l2_rec_parse(b + first, n - first, 1, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.type, CS__L2_REC_DEL);
    b = slurp("bad_value", &n);
    cr_assert_eq(cs__l2_rec_parse(b, n, 1, &r), CS__L2_PARSE_OK);
    cr_expect_neq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
    /* v2: a whole segment, log area of one block, raw put, LZ4 put, delete. */
    b = slurp("segment_v2_put_raw_lz4_delete", &n);
    cr_assert_eq(cs__l2_seg_header_check(b, n, &info), 0);
    cr_expect_eq(info.version, 2u);
    cr_expect_eq(info.log_area, 4096u);
    size_t off = 32;
    uint8_t codecs[2] = {CS_CODEC_RAW, CS_CODEC_LZ4};
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(cs__l2_rec_parse(b + off, info.log_area - off, 2, &r), CS__L2_PARSE_OK);
        cr_expect_eq(r.codec, codecs[i]);
        cr_assert_leq((size_t)r.poff + r.plen, n);
        r.payload = b + r.poff;
        cr_expect_eq(cs__l2_rec_verify(&r, out, sizeof out, NULL), 0);
        off += r.total;
    }
    cr_assert_eq(cs__l2_rec_parse(b + off, info.log_area - off, 2, &r), CS__L2_PARSE_OK);
    cr_expect_eq(r.type, CS__L2_REC_DEL);
    off += r.total;
    cr_expect_eq(b[off], 0, "the log ends with a zero magic");
}
