/* shard.c: shard file header encoding, validation and layout arithmetic. */
#include "couchestor/ec_shard.h"

#include <string.h>

#include "couchestor/crc32c.h"
#include "couchestor/ec.h"
#include "couchestor/endian.h"

/* CS_EC_SHARD_MAGIC as the 8 bytes written, without the string's NUL; the
 * reader compares with the macro, so a drift fails every round trip. */
static const uint8_t cs__shard_magic[8] = {'C', 'S', 'E', 'C', 'S', 'H', 'R', 'D'};

static uint64_t cs__mix(uint64_t h)
{
    /* splitmix64 finaliser */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

void cs_ec_name_hash(const void *name, size_t len, uint8_t out[16])
{
    const uint8_t *p = name;
    uint64_t a = 0xcbf29ce484222325ULL ^ len, b = 0x84222325cbf29ce4ULL + len * 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i < len; i++) {
        a = (a ^ p[i]) * 0x100000001b3ULL;
        b = (b + p[i] + 1) * 0xff51afd7ed558ccdULL;
        b ^= b >> 29;
    }
    a = cs__mix(a ^ cs__mix(b));
    b = cs__mix(b + a);
    cs_le64_store(out, a);
    cs_le64_store(out + 8, b);
}

void cs_ec_name_hex(const uint8_t hash[16], char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < 16; i++) {
        out[2 * i] = digits[hash[i] >> 4];
        out[2 * i + 1] = digits[hash[i] & 15];
    }
    out[32] = '\0';
}

int cs_ec_layout(unsigned k, uint64_t requested_stripe_size, uint64_t object_length, uint32_t *chunk_size,
                 uint32_t *stripe_size, uint64_t *stripe_count, cs_err_t *err)
{
    if (k < 1 || k >= CS_EC_MAX_SHARDS)
        return cs_err_set(err, CS_EEC_POLICY, "invalid k %u", k);
    if (requested_stripe_size < CS_EC_CHUNK_ALIGN || requested_stripe_size > (1ULL << 30))
        return cs_err_set(err, CS_EEC_POLICY, "stripe size %llu is out of range: use 4096 bytes .. 1 GiB",
                          (unsigned long long)requested_stripe_size);
    uint64_t c = (requested_stripe_size + k - 1) / k;
    c = (c + CS_EC_CHUNK_ALIGN - 1) / CS_EC_CHUNK_ALIGN * CS_EC_CHUNK_ALIGN;
    uint64_t s = c * k;
    if (s > UINT32_MAX)
        return cs_err_set(err, CS_EEC_POLICY, "stripe size %llu with k=%u rounds up to %llu bytes, above 4 GiB",
                          (unsigned long long)requested_stripe_size, k, (unsigned long long)s);
    uint64_t n = object_length / s + (object_length % s != 0);
    if (n > CS_EC_MAX_STRIPES)
        return cs_err_set(err, CS_EEC_POLICY,
                          "object of %llu bytes needs %llu stripes of %llu bytes, above the "
                          "limit of %u: use a larger stripe size",
                          (unsigned long long)object_length, (unsigned long long)n, (unsigned long long)s,
                          CS_EC_MAX_STRIPES);
    *chunk_size = (uint32_t)c;
    *stripe_size = (uint32_t)s;
    *stripe_count = n;
    return 0;
}

uint32_t cs_ec_shard_header_size(uint32_t name_len, uint64_t stripe_count)
{
    uint64_t used = CS_EC_SHARD_FIXED + (uint64_t)name_len + 4 * stripe_count;
    return (uint32_t)((used + 4095) / 4096 * 4096);
}

uint64_t cs_ec_shard_stripe_data_len(const cs_ec_shard_header_t *h, uint64_t stripe)
{
    if (stripe >= h->stripe_count)
        return 0;
    if (stripe + 1 < h->stripe_count)
        return h->stripe_size;
    return h->object_length - stripe * h->stripe_size;
}

uint32_t cs_ec_shard_chunk_len(const cs_ec_shard_header_t *h, uint64_t stripe)
{
    if (stripe + 1 < h->stripe_count)
        return h->chunk_size;
    uint64_t tail = cs_ec_shard_stripe_data_len(h, stripe);
    uint64_t c = (tail + h->k - 1) / h->k;
    return (uint32_t)((c + CS_EC_CHUNK_ALIGN - 1) / CS_EC_CHUNK_ALIGN * CS_EC_CHUNK_ALIGN);
}

uint64_t cs_ec_shard_chunk_offset(const cs_ec_shard_header_t *h, uint64_t stripe)
{
    return (uint64_t)h->header_size + stripe * h->chunk_size;
}

uint64_t cs_ec_shard_file_size(const cs_ec_shard_header_t *h)
{
    if (h->stripe_count == 0)
        return h->header_size;
    return cs_ec_shard_chunk_offset(h, h->stripe_count - 1) + cs_ec_shard_chunk_len(h, h->stripe_count - 1);
}

uint32_t cs_ec_shard_stripe_crc(const cs_ec_shard_header_t *h, uint64_t stripe)
{
    return cs_le32_load(h->crc_table + 4 * stripe);
}

int cs_ec_shard_header_peek(const uint8_t *buf, size_t len, uint32_t *header_size, cs_err_t *err)
{
    if (!buf || len < CS_EC_SHARD_FIXED)
        return cs_err_set(err, CS_EPARSE, "shard header: %zu bytes, need at least %u", len, CS_EC_SHARD_FIXED);
    if (memcmp(buf, CS_EC_SHARD_MAGIC, 8) != 0)
        return cs_err_set(err, CS_EPARSE, "shard header: bad magic (not a CoucheStor shard)");
    uint32_t version = cs_le32_load(buf + 8);
    if (version != CS_EC_SHARD_VERSION)
        return cs_err_set(err, CS_EPARSE, "shard header: format version %u, this build reads %u", version,
                          CS_EC_SHARD_VERSION);
    uint32_t hs = cs_le32_load(buf + 12);
    if (hs < 4096 || hs % 4096 != 0 || hs > CS_EC_HEADER_MAX)
        return cs_err_set(err, CS_EPARSE, "shard header: header size %u out of range", hs);
    *header_size = hs;
    return 0;
}

int cs_ec_shard_header_parse(const uint8_t *buf, size_t len, cs_ec_shard_header_t *out, cs_err_t *err)
{
    uint32_t hs = 0;
    int rc = cs_ec_shard_header_peek(buf, len, &hs, err);
    if (rc != 0)
        return rc;
    cs_ec_shard_header_t h;
    memset(&h, 0, sizeof h);
    h.version = cs_le32_load(buf + 8);
    h.header_size = hs;
    h.k = cs_le16_load(buf + 16);
    h.m = cs_le16_load(buf + 18);
    h.index = cs_le16_load(buf + 20);
    h.flags = cs_le16_load(buf + 22);
    h.stripe_size = cs_le32_load(buf + 24);
    h.chunk_size = cs_le32_load(buf + 28);
    h.object_length = cs_le64_load(buf + 32);
    h.generation = cs_le64_load(buf + 40);
    h.stripe_count = cs_le64_load(buf + 48);
    memcpy(h.name_hash, buf + 56, 16);
    h.name_len = cs_le32_load(buf + 72);
    uint32_t crc = cs_le32_load(buf + 124);

    /* First what the CRC's extent depends on, then the CRC, then the rest:
     * random damage is reported as a CRC mismatch. */
    if (h.name_len < 1 || h.name_len > CS_EC_NAME_MAX)
        return cs_err_set(err, CS_EPARSE, "shard header: name length %u out of range", h.name_len);
    if (h.stripe_count > CS_EC_MAX_STRIPES)
        return cs_err_set(err, CS_EPARSE, "shard header: stripe count %llu out of range",
                          (unsigned long long)h.stripe_count);
    if (cs_ec_shard_header_size(h.name_len, h.stripe_count) != hs)
        return cs_err_set(err, CS_EPARSE, "shard header: header size %u, expected %u", hs,
                          cs_ec_shard_header_size(h.name_len, h.stripe_count));
    size_t used = CS_EC_SHARD_FIXED + h.name_len + 4 * (size_t)h.stripe_count;
    if (len < used)
        return cs_err_set(err, CS_EPARSE, "shard header: truncated (%zu of %zu bytes)", len, used);
    /* The CRC over the used bytes with the CRC field taken as zero. */
    static const uint8_t zero4[4] = {0};
    uint32_t c = cs_crc32c(0, buf, 124);
    c = cs_crc32c(c, zero4, 4);
    c = cs_crc32c(c, buf + 128, used - 128);
    if (c != crc)
        return cs_err_set(err, CS_ECORRUPT, "shard header: CRC32C mismatch (stored %08x, computed %08x)", crc, c);
    if (h.k < 1 || h.m < 1 || (unsigned)h.k + h.m > CS_EC_MAX_SHARDS)
        return cs_err_set(err, CS_EPARSE, "shard header: invalid code %u+%u", h.k, h.m);
    if (h.index >= h.k + h.m)
        return cs_err_set(err, CS_EPARSE, "shard header: index %u out of range for %u+%u", h.index, h.k, h.m);
    if (h.flags != 0)
        return cs_err_set(err, CS_EPARSE, "shard header: unknown flags 0x%x", h.flags);
    if (h.generation == 0)
        return cs_err_set(err, CS_EPARSE, "shard header: generation 0");
    for (unsigned i = 76; i < 124; i++)
        if (buf[i] != 0)
            return cs_err_set(err, CS_EPARSE, "shard header: reserved byte %u is not zero", i);
    if (h.chunk_size == 0 || h.chunk_size % CS_EC_CHUNK_ALIGN != 0 || (uint64_t)h.chunk_size * h.k != h.stripe_size)
        return cs_err_set(err, CS_EPARSE, "shard header: chunk size %u and stripe size %u do not agree with k=%u",
                          h.chunk_size, h.stripe_size, h.k);
    uint64_t n = h.object_length / h.stripe_size + (h.object_length % h.stripe_size != 0);
    if (h.stripe_count != n)
        return cs_err_set(err, CS_EPARSE, "shard header: stripe count %llu does not match length %llu / stripe %u",
                          (unsigned long long)h.stripe_count, (unsigned long long)h.object_length, h.stripe_size);
    h.name = buf + CS_EC_SHARD_FIXED;
    h.crc_table = h.name + h.name_len;
    uint8_t hash[16];
    cs_ec_name_hash(h.name, h.name_len, hash);
    if (memcmp(hash, h.name_hash, 16) != 0)
        return cs_err_set(err, CS_EPARSE, "shard header: name hash does not match the name");
    *out = h;
    return 0;
}

int cs_ec_shard_header_write(const cs_ec_shard_header_t *h, const uint32_t *crcs, uint8_t *buf, size_t cap,
                             cs_err_t *err)
{
    if (h->name_len < 1 || h->name_len > CS_EC_NAME_MAX || !h->name)
        return cs_err_set(err, CS_EINVAL, "shard header: name length %u out of range", h->name_len);
    uint32_t hs = cs_ec_shard_header_size(h->name_len, h->stripe_count);
    if (cap < hs)
        return cs_err_set(err, CS_EINVAL, "shard header: buffer of %zu bytes, need %u", cap, hs);
    memset(buf, 0, hs);
    memcpy(buf, cs__shard_magic, sizeof cs__shard_magic);
    cs_le32_store(buf + 8, CS_EC_SHARD_VERSION);
    cs_le32_store(buf + 12, hs);
    cs_le16_store(buf + 16, h->k);
    cs_le16_store(buf + 18, h->m);
    cs_le16_store(buf + 20, h->index);
    cs_le16_store(buf + 22, 0);
    cs_le32_store(buf + 24, h->stripe_size);
    cs_le32_store(buf + 28, h->chunk_size);
    cs_le64_store(buf + 32, h->object_length);
    cs_le64_store(buf + 40, h->generation);
    cs_le64_store(buf + 48, h->stripe_count);
    cs_ec_name_hash(h->name, h->name_len, buf + 56);
    cs_le32_store(buf + 72, h->name_len);
    memcpy(buf + CS_EC_SHARD_FIXED, h->name, h->name_len);
    uint8_t *t = buf + CS_EC_SHARD_FIXED + h->name_len;
    for (uint64_t j = 0; j < h->stripe_count; j++)
        cs_le32_store(t + 4 * j, crcs[j]);
    size_t used = CS_EC_SHARD_FIXED + h->name_len + 4 * (size_t)h->stripe_count;
    cs_le32_store(buf + 124, cs_crc32c(0, buf, used));
    return 0;
}
