/* Tests for the compression wrapper: raw below min_size, raw when LZ4 does
 * not shrink, round trips, damaged input gives CompressionFailed. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/compress.h"

static const cs_compress_config_t lz4 = {.algorithm = CS_COMPRESS_LZ4, .min_size = 64};

Test(compress, names_and_parse)
{
    cs_compress_algo_t a;
    cr_expect_eq(cs_compress_algo_parse("LZ4", &a, NULL), 0);
    cr_expect_eq(a, CS_COMPRESS_LZ4);
    cr_expect_eq(cs_compress_algo_parse("none", &a, NULL), 0);
    cr_expect_eq(a, CS_COMPRESS_NONE);
    cs_err_t err = {0};
    cr_expect_eq(cs_compress_algo_parse("zstd", &a, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "unknown compression algorithm 'zstd': use none or lz4");
    cr_expect_str_eq(cs_compress_algo_name(CS_COMPRESS_LZ4), "LZ4");
    cr_expect_eq(cs_compress_bound(0xFFFFFFFFull), 0u);
}

Test(compress, round_trip_compressible)
{
    char src[4096], dst[8192], out[4096];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)("abcdefgh"[i % 8]);
    size_t n = 0;
    int codec = cs_compress(&lz4, src, sizeof src, dst, sizeof dst, &n, NULL);
    cr_assert_eq(codec, CS_CODEC_LZ4);
    cr_expect_lt(n, 200u);
    cr_assert_eq(cs_decompress(CS_CODEC_LZ4, dst, n, out, sizeof out, sizeof src, NULL), 0);
    cr_expect_eq(memcmp(src, out, sizeof src), 0);
}

Test(compress, raw_when_small_disabled_or_incompressible)
{
    char src[4096], dst[8192];
    memset(src, 'a', sizeof src);
    size_t n = 0;
    cr_expect_eq(cs_compress(&lz4, src, 63, dst, sizeof dst, &n, NULL), CS_CODEC_RAW);
    cr_expect_eq(n, 63u);
    cs_compress_config_t none = {.algorithm = CS_COMPRESS_NONE};
    cr_expect_eq(cs_compress(&none, src, sizeof src, dst, sizeof dst, &n, NULL), CS_CODEC_RAW);
    cr_expect_eq(n, sizeof src);
    srand(42);
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)rand();
    cr_expect_eq(cs_compress(&lz4, src, sizeof src, dst, sizeof dst, &n, NULL), CS_CODEC_RAW,
                 "random bytes do not shrink, so they are stored raw");
    cr_expect_eq(n, sizeof src);
    /* A destination too small for any gain also means raw. */
    memset(src, 'a', sizeof src);
    cr_expect_eq(cs_compress(&lz4, src, sizeof src, dst, 4, &n, NULL), CS_CODEC_RAW);
}

Test(compress, damaged_input_is_an_error_not_a_crash)
{
    char src[4096], dst[8192], out[4096];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (char)(i * 7 % 13);
    size_t n = 0;
    cr_assert_eq(cs_compress(&lz4, src, sizeof src, dst, sizeof dst, &n, NULL), CS_CODEC_LZ4);
    cs_err_t err = {0};
    /* Truncated block. */
    cr_expect_eq(cs_decompress(CS_CODEC_LZ4, dst, n / 2, out, sizeof out, sizeof src, &err), CS_EDECOMPRESSION_FAILED);
    cr_expect(strncmp(err.msg, "CompressionFailed {algorithm: LZ4, reason: ", 43) == 0, "%s", err.msg);
    /* Wrong expected length (block decodes to more than raw_len). */
    cr_expect_eq(cs_decompress(CS_CODEC_LZ4, dst, n, out, sizeof out, 100, &err), CS_EDECOMPRESSION_FAILED);
    /* Garbage. */
    char junk[64];
    memset(junk, 0xff, sizeof junk);
    cr_expect_eq(cs_decompress(CS_CODEC_LZ4, junk, sizeof junk, out, sizeof out, 4096, &err), CS_EDECOMPRESSION_FAILED);
    cr_expect_eq(cs_decompress(CS_CODEC_LZ4, junk, 0, out, sizeof out, 4096, &err), CS_EDECOMPRESSION_FAILED);
    /* Raw with the wrong length, unknown codec, small destination. */
    cr_expect_eq(cs_decompress(CS_CODEC_RAW, junk, 10, out, sizeof out, 11, &err), CS_EDECOMPRESSION_FAILED);
    cr_expect_eq(cs_decompress((cs_codec_t)9, junk, 10, out, sizeof out, 10, &err), CS_EINVAL);
    cr_expect_eq(cs_decompress(CS_CODEC_RAW, junk, 10, out, 5, 10, &err), CS_EINVAL);
    cr_expect_eq(cs_decompress(CS_CODEC_RAW, junk, 10, out, sizeof out, 10, &err), 0);
}
