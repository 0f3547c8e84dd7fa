/* compress.h: the cache's value compression: None or LZ4 block format, with a
 * minimum size below which data is stored raw and raw storage whenever LZ4
 * does not make the data smaller. The codec actually used is returned so the
 * caller can record it (the L2 record's codec byte).
 *
 * The caller allocates every buffer; nothing here allocates. cs_decompress()
 * is safe on untrusted input: it never reads or writes outside the buffers
 * it is given and reports damage as CS_EDECOMPRESSION_FAILED with the message
 * "CompressionFailed {algorithm: LZ4, reason: ...}". */
#ifndef COUCHESTOR_COMPRESS_H
#define COUCHESTOR_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

typedef enum cs_compress_algo {
    CS_COMPRESS_NONE = 0,
    CS_COMPRESS_LZ4 = 1,
} cs_compress_algo_t;

/* What a stored payload is: raw bytes or an LZ4 block. Values are on disk. */
typedef enum cs_codec {
    CS_CODEC_RAW = 0,
    CS_CODEC_LZ4 = 1,
} cs_codec_t;

/* Largest input either direction accepts (LZ4's own limit). */
#define CS_COMPRESS_MAX_INPUT 0x7E000000u
/* Default minimum size worth compressing. */
#define CS_COMPRESS_MIN_SIZE_DEFAULT 512u

typedef struct cs_compress_config_s {
    cs_compress_algo_t algorithm; /* default (zero) NONE */
    size_t min_size;              /* inputs shorter than this stay raw */
} cs_compress_config_t;

/* "None" / "LZ4"; NULL for an unknown value. */
const char *cs_compress_algo_name(cs_compress_algo_t algo);
/* Parses "none" or "lz4" (any case). */
int cs_compress_algo_parse(const char *text, cs_compress_algo_t *out, cs_err_t *err);

/* Worst-case compressed size of n input bytes (LZ4_compressBound); 0 when n
 * is above CS_COMPRESS_MAX_INPUT. A dst of this size makes LZ4 fastest. */
size_t cs_compress_bound(size_t n);

/* Compresses src[0..n) into dst[0..dst_cap) under cfg. On success returns
 * the codec used (>= 0):
 *   CS_CODEC_LZ4: dst holds *out_len (< n) bytes of LZ4 block;
 *   CS_CODEC_RAW: dst is untouched and the caller stores src as is
 *                 (*out_len = n): algorithm NONE, n < min_size, or LZ4 did
 *                 not shrink the data (or it did not fit in dst_cap).
 * CS_EINVAL for NULL arguments or n > CS_COMPRESS_MAX_INPUT. */
int cs_compress(const cs_compress_config_t *cfg, const void *src, size_t n, void *dst, size_t dst_cap, size_t *out_len,
                cs_err_t *err);

/* Restores exactly raw_len bytes into dst (dst_cap >= raw_len) from the n
 * bytes at src stored with codec. Safe on untrusted input. Errors:
 * CS_EDECOMPRESSION_FAILED ("CompressionFailed {algorithm: LZ4, reason: ...}")
 * when the block is damaged or does not decode to raw_len bytes, or when a
 * RAW payload's length differs from raw_len; CS_EINVAL for an unknown codec
 * or dst_cap < raw_len. dst contents are unspecified after an error. */
int cs_decompress(cs_codec_t codec, const void *src, size_t n, void *dst, size_t dst_cap, size_t raw_len,
                  cs_err_t *err);

#endif
