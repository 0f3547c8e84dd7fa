/* compress.c: None/LZ4 value compression for the cache (compress.h). */
#include "couchestor/compress.h"

#include <lz4.h>
#include <string.h>
#include <strings.h>

const char *cs_compress_algo_name(cs_compress_algo_t algo)
{
    switch (algo) {
    case CS_COMPRESS_NONE:
        return "None";
    case CS_COMPRESS_LZ4:
        return "LZ4";
    }
    return NULL;
}

int cs_compress_algo_parse(const char *text, cs_compress_algo_t *out, cs_err_t *err)
{
    if (text && strcasecmp(text, "none") == 0) {
        *out = CS_COMPRESS_NONE;
        return 0;
    }
    if (text && strcasecmp(text, "lz4") == 0) {
        *out = CS_COMPRESS_LZ4;
        return 0;
    }
    return cs_err_set(err, CS_EINVAL, "unknown compression algorithm '%s': use none or lz4", text ? text : "(null)");
}

size_t cs_compress_bound(size_t n)
{
    if (n > CS_COMPRESS_MAX_INPUT)
        return 0;
    return (size_t)LZ4_COMPRESSBOUND(n);
}

int cs_compress(const cs_compress_config_t *cfg, const void *src, size_t n, void *dst, size_t dst_cap, size_t *out_len,
                cs_err_t *err)
{
    if (!cfg || (!src && n) || !out_len)
        return cs_err_set(err, CS_EINVAL, "compress: NULL argument");
    if (n > CS_COMPRESS_MAX_INPUT)
        return cs_err_set(err, CS_ECOMPRESSION_FAILED,
                          "CompressionFailed {algorithm: %s, reason: input of %zu bytes exceeds "
                          "the limit of %u}",
                          cs_compress_algo_name(cfg->algorithm) ? cs_compress_algo_name(cfg->algorithm) : "?", n,
                          CS_COMPRESS_MAX_INPUT);
    *out_len = n;
    if (cfg->algorithm != CS_COMPRESS_LZ4 || n < cfg->min_size || n == 0 || !dst)
        return CS_CODEC_RAW;
    /* Only a result strictly smaller than the input is worth keeping. */
    size_t cap = dst_cap < n - 1 ? dst_cap : n - 1;
    /* The macro, not the library call: one call into liblz4 per compress. */
    size_t bound = (size_t)LZ4_COMPRESSBOUND(n);
    /* LZ4 takes its faster unchecked path when dst can hold the worst case. */
    if (dst_cap >= bound)
        cap = bound;
    if (cap == 0)
        return CS_CODEC_RAW;
    int r = LZ4_compress_default(src, dst, (int)n, (int)cap);
    if (r <= 0 || (size_t)r >= n)
        return CS_CODEC_RAW;
    *out_len = (size_t)r;
    return CS_CODEC_LZ4;
}

int cs_decompress(cs_codec_t codec, const void *src, size_t n, void *dst, size_t dst_cap, size_t raw_len, cs_err_t *err)
{
    if ((!src && n) || (!dst && raw_len))
        return cs_err_set(err, CS_EINVAL, "decompress: NULL buffer");
    if (dst_cap < raw_len)
        return cs_err_set(err, CS_EINVAL, "decompress: output buffer of %zu bytes is smaller than %zu", dst_cap,
                          raw_len);
    switch (codec) {
    case CS_CODEC_RAW:
        if (n != raw_len)
            return cs_err_set(err, CS_EDECOMPRESSION_FAILED,
                              "CompressionFailed {algorithm: None, reason: stored length %zu "
                              "differs from the recorded length %zu}",
                              n, raw_len);
        if (n)
            memcpy(dst, src, n);
        return 0;
    case CS_CODEC_LZ4: {
        if (n > CS_COMPRESS_MAX_INPUT || raw_len > CS_COMPRESS_MAX_INPUT)
            return cs_err_set(err, CS_EDECOMPRESSION_FAILED,
                              "CompressionFailed {algorithm: LZ4, reason: %zu -> %zu bytes "
                              "exceeds the limit of %u}",
                              n, raw_len, CS_COMPRESS_MAX_INPUT);
        if (n == 0)
            return cs_err_set(err, CS_EDECOMPRESSION_FAILED, "CompressionFailed {algorithm: LZ4, reason: empty block}");
        int r = LZ4_decompress_safe(src, dst, (int)n, (int)raw_len);
        if (r < 0)
            return cs_err_set(err, CS_EDECOMPRESSION_FAILED,
                              "CompressionFailed {algorithm: LZ4, reason: malformed block of %zu "
                              "bytes (error at input offset %d)}",
                              n, -r - 1);
        if ((size_t)r != raw_len)
            return cs_err_set(err, CS_EDECOMPRESSION_FAILED,
                              "CompressionFailed {algorithm: LZ4, reason: block decodes to %d "
                              "bytes, expected %zu}",
                              r, raw_len);
        return 0;
    }
    }
    return cs_err_set(err, CS_EINVAL, "decompress: unknown codec %d", (int)codec);
}
