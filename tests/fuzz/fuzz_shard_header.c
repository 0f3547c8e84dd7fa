/* Fuzz target: the shard header parser (bytes read from disk). A header
 * that parses must re-serialise to the same bytes and parse again to the
 * same fields; the layout helpers must stay within the file it describes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/ec_shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t hs = 0;
    cs_err_t err = {0};
    if (cs_ec_shard_header_peek(data, size, &hs, &err) != 0)
        return 0;
    if (hs > CS_EC_HEADER_MAX || hs % 4096 != 0)
        abort();
    cs_ec_shard_header_t h;
    if (cs_ec_shard_header_parse(data, size, &h, &err) != 0)
        return 0;
    if (h.header_size != hs || h.index >= h.k + h.m || h.name_len > CS_EC_NAME_MAX)
        abort();
    uint64_t end = hs;
    for (uint64_t j = 0; j < h.stripe_count; j++) {
        uint32_t cl = cs_ec_shard_chunk_len(&h, j);
        if (cl == 0 || cl > h.chunk_size || cs_ec_shard_chunk_offset(&h, j) != end)
            abort();
        end += cl;
        (void)cs_ec_shard_stripe_crc(&h, j);
    }
    if (end != cs_ec_shard_file_size(&h))
        abort();
    uint32_t *crcs = malloc((h.stripe_count ? h.stripe_count : 1) * sizeof *crcs);
    uint8_t *out = calloc(1, hs);
    if (!crcs || !out)
        abort();
    for (uint64_t j = 0; j < h.stripe_count; j++)
        crcs[j] = cs_ec_shard_stripe_crc(&h, j);
    if (cs_ec_shard_header_write(&h, crcs, out, hs, &err) != 0)
        abort();
    size_t used = CS_EC_SHARD_FIXED + h.name_len + 4 * (size_t)h.stripe_count;
    if (memcmp(out, data, used) != 0)
        abort();
    cs_ec_shard_header_t h2;
    if (cs_ec_shard_header_parse(out, hs, &h2, &err) != 0)
        abort();
    if (h2.k != h.k || h2.m != h.m || h2.index != h.index || h2.generation != h.generation ||
        h2.object_length != h.object_length || h2.stripe_count != h.stripe_count || h2.name_len != h.name_len ||
        memcmp(h2.name, h.name, h.name_len) != 0 ||
        memcmp(out + CS_EC_SHARD_FIXED, data + CS_EC_SHARD_FIXED, used - CS_EC_SHARD_FIXED) != 0)
        abort();
    free(crcs);
    free(out);
    return 0;
}
