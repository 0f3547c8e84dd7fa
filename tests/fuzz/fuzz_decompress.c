/* Fuzz target: cs_decompress on arbitrary blocks. Input: codec byte, 4-byte
 * little-endian expected length (bounded to 1 MiB), then the block. Round
 * trips the block's own bytes through cs_compress as well. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/compress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    cs_codec_t codec = (cs_codec_t)(data[0] & 3); /* includes unknown codecs */
    uint32_t raw_len =
        (uint32_t)data[1] | ((uint32_t)data[2] << 8) | ((uint32_t)data[3] << 16) | ((uint32_t)data[4] << 24);
    raw_len &= (1u << 20) - 1;
    const uint8_t *src = data + 5;
    size_t n = size - 5;
    uint8_t *out = malloc(raw_len ? raw_len : 1);
    if (!out)
        return 0;
    cs_err_t err = {0};
    (void)cs_decompress(codec, src, n, out, raw_len, raw_len, &err);
    free(out);

    /* Compression of the same bytes must round-trip exactly. */
    cs_compress_config_t cfg = {.algorithm = CS_COMPRESS_LZ4, .min_size = 0};
    size_t bound = cs_compress_bound(n);
    uint8_t *c = malloc(bound ? bound : 1), *back = malloc(n ? n : 1);
    if (c && back) {
        size_t clen = 0;
        int used = cs_compress(&cfg, src, n, c, bound, &clen, NULL);
        if (used == CS_CODEC_LZ4) {
            if (cs_decompress(CS_CODEC_LZ4, c, clen, back, n, n, NULL) != 0 || memcmp(back, src, n) != 0)
                abort();
        } else if (used != CS_CODEC_RAW) {
            abort();
        }
    }
    free(c);
    free(back);
    return 0;
}
