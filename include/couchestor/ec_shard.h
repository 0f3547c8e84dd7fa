/* ec_shard.h: the on-disk shard file format (version 1) and its parser.
 *
 * A shard file holds shard `index` of every stripe of one object generation:
 *
 *   [0, header_size)   header, zero padded to a multiple of 4096:
 *        0  magic "CSECSHRD"            8 bytes
 *        8  version (1)                 u32
 *       12  header_size                 u32  multiple of 4096
 *       16  k, m, index, flags (0)      u16 x 4
 *       24  stripe_size                 u32  object bytes per full stripe = k * chunk_size
 *       28  chunk_size                  u32  shard bytes per full stripe, multiple of 4096
 *       32  object_length               u64
 *       40  generation                  u64  non-zero; newer puts have larger values
 *       48  stripe_count                u64  ceil(object_length / stripe_size)
 *       56  name_hash                   16 bytes, cs_ec_name_hash(name)
 *       72  name_len                    u32  1..CS_EC_NAME_MAX
 *       76  reserved (0)                48 bytes
 *      124  header_crc                  u32  CRC32C of [0, 128 + name_len + 4 * stripe_count)
 *                                            computed with this field zero
 *      128  name                        name_len bytes (any bytes)
 *           payload CRC32C table        stripe_count x u32, CRC32C of each stripe's chunk
 *   [header_size, ...) the chunks: stripe j at header_size + j * chunk_size, chunk_size
 *        bytes except the last stripe's, which is the 4096-rounded ceil(tail / k).
 *
 * All integers are little endian. Every offset and length is a multiple of
 * 4096, so files can be written and read with O_DIRECT. */
#ifndef COUCHESTOR_EC_SHARD_H
#define COUCHESTOR_EC_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS_EC_SHARD_MAGIC "CSECSHRD"
#define CS_EC_SHARD_VERSION 1u
#define CS_EC_SHARD_FIXED 128u
#define CS_EC_CHUNK_ALIGN 4096u
#define CS_EC_NAME_MAX 1024u
#define CS_EC_MAX_STRIPES (1u << 22)
/* The largest header any valid shard can have. */
#define CS_EC_HEADER_MAX (((CS_EC_SHARD_FIXED + CS_EC_NAME_MAX + 4u * CS_EC_MAX_STRIPES) + 4095u) / 4096u * 4096u)

typedef struct cs_ec_shard_header_s {
    uint32_t version;
    uint32_t header_size;
    uint16_t k, m, index, flags;
    uint32_t stripe_size;
    uint32_t chunk_size;
    uint64_t object_length;
    uint64_t generation;
    uint64_t stripe_count;
    uint8_t name_hash[16];
    uint32_t name_len;
    const uint8_t *name;      /* borrowed from the parsed buffer */
    const uint8_t *crc_table; /* borrowed: stripe_count little-endian u32 */
} cs_ec_shard_header_t;

/* 128-bit hash of an object name; its hex form names the object's
 * directory. Not cryptographic: the name is stored in every shard and
 * compared on read, so a collision is detected, never confused. */
void cs_ec_name_hash(const void *name, size_t len, uint8_t out[16]);
/* The 32 lower-case hex digits of a name hash, NUL terminated. */
void cs_ec_name_hex(const uint8_t hash[16], char out[33]);

/* Layout of an object: chunk_size (multiple of 4096) from the requested
 * stripe size, the effective stripe size k * chunk_size, and the stripe
 * count. CS_EEC_POLICY when the stripe size is out of range (4096 .. 1 GiB)
 * or the object needs more than CS_EC_MAX_STRIPES stripes. */
int cs_ec_layout(unsigned k, uint64_t requested_stripe_size, uint64_t object_length, uint32_t *chunk_size,
                 uint32_t *stripe_size, uint64_t *stripe_count, cs_err_t *err);
/* header_size for a name length and stripe count. */
uint32_t cs_ec_shard_header_size(uint32_t name_len, uint64_t stripe_count);
/* Length of stripe j's chunk (the last one may be shorter). */
uint32_t cs_ec_shard_chunk_len(const cs_ec_shard_header_t *h, uint64_t stripe);
/* Bytes of object data in stripe j. */
uint64_t cs_ec_shard_stripe_data_len(const cs_ec_shard_header_t *h, uint64_t stripe);
/* File offset of stripe j's chunk. */
uint64_t cs_ec_shard_chunk_offset(const cs_ec_shard_header_t *h, uint64_t stripe);
/* The size a complete shard file has. */
uint64_t cs_ec_shard_file_size(const cs_ec_shard_header_t *h);
/* CRC32C recorded for stripe j. */
uint32_t cs_ec_shard_stripe_crc(const cs_ec_shard_header_t *h, uint64_t stripe);

/* Reads header_size from the first CS_EC_SHARD_FIXED bytes after checking
 * magic, version and bounds (not the CRC), so that the caller knows how
 * much to read. Safe on untrusted input. */
int cs_ec_shard_header_peek(const uint8_t *buf, size_t len, uint32_t *header_size, cs_err_t *err);
/* Parses and fully validates a header (every field's range and relation,
 * the name hash and the header CRC). buf must hold at least the used part
 * of the header (128 + name_len + 4 * stripe_count bytes); out borrows name
 * and crc_table from buf. Safe on untrusted input: CS_EPARSE for a
 * malformed header, CS_ECORRUPT for a CRC mismatch. */
int cs_ec_shard_header_parse(const uint8_t *buf, size_t len, cs_ec_shard_header_t *out, cs_err_t *err);
/* Serialises h (its name and the given crcs, h->stripe_count of them; the
 * header's own crc_table is ignored) into buf of cap >= h->header_size
 * bytes, zero padded, computing name_hash, header_size and header_crc. */
int cs_ec_shard_header_write(const cs_ec_shard_header_t *h, const uint32_t *crcs, uint8_t *buf, size_t cap,
                             cs_err_t *err);

#endif
