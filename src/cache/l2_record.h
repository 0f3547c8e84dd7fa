/* l2_record.h: the on-disk format of L2 segment files (internal; the format
 * is documented in docs/cache.md). All integers are little-endian.
 *
 * Segment header (32 bytes):
 *   0 magic "CSL2SEG1" | 8 u64 segment id | 16 u32 version (1) |
 *   20 u32 reserved (0) | 24 u32 reserved (0) | 28 u32 CRC32C of bytes 0..27
 * Record (32-byte header, then key, payload, zero padding to 8 bytes):
 *   0 u32 magic 0x3152534C ("LSR1") | 4 u8 type (1 put, 2 delete) |
 *   5 u8 codec (0 raw, 1 LZ4) | 6 u16 key length (1..1024) |
 *   8 u32 payload length | 12 u32 value length (uncompressed) |
 *   16 u64 sequence | 24 u32 CRC32C(key || value) |
 *   28 u32 CRC32C(header bytes 0..27 || key)
 */
#ifndef CS_CACHE_L2_RECORD_H
#define CS_CACHE_L2_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS__L2_SEG_MAGIC "CSL2SEG1"
#define CS__L2_SEG_HDR 32u
#define CS__L2_SEG_VERSION 1u
#define CS__L2_REC_MAGIC 0x3152534Cu
#define CS__L2_REC_HDR 32u
#define CS__L2_REC_PUT 1u
#define CS__L2_REC_DEL 2u
/* Largest value a record may describe: bounds every allocation made from a
 * length read from disk. */
#define CS__L2_VALUE_MAX (1u << 30)

typedef struct cs__l2_rec_s {
    uint8_t type;
    uint8_t codec;
    uint16_t klen;
    uint32_t plen;
    uint32_t vlen;
    uint64_t seq;
    uint32_t vcrc;
    const uint8_t *key;     /* into the parsed buffer */
    const uint8_t *payload; /* into the parsed buffer */
    size_t total;           /* bytes including padding */
} cs__l2_rec_t;

enum {
    CS__L2_PARSE_OK = 0,
    CS__L2_PARSE_TRUNCATED = 1, /* a header that claims more bytes than remain */
    CS__L2_PARSE_BAD = 2,       /* not a valid record header */
};

static inline size_t cs__l2_rec_size(size_t klen, size_t plen)
{
    return (CS__L2_REC_HDR + klen + plen + 7u) & ~(size_t)7u;
}

/* Parses the record at buf[0..len). Untrusted input: every length is
 * bounded against len and the format limits before use, and the header CRC
 * is checked. The payload is not verified (see cs__l2_rec_verify). */
int cs__l2_rec_parse(const uint8_t *buf, size_t len, cs__l2_rec_t *out);
/* Decodes the payload into out (out_cap >= rec->vlen) and checks the value
 * CRC: 0, CS_ECORRUPT, or CS_EDECOMPRESSION_FAILED. */
int cs__l2_rec_verify(const cs__l2_rec_t *rec, uint8_t *out, size_t out_cap, cs_err_t *err);
/* Writes a record header (with header CRC) for key into hdr[32]. */
void cs__l2_rec_header(uint8_t hdr[CS__L2_REC_HDR], uint8_t type, uint8_t codec,
                       const uint8_t *key, uint16_t klen, uint32_t plen, uint32_t vlen,
                       uint64_t seq, uint32_t vcrc);
/* Segment header encode/check. */
void cs__l2_seg_header(uint8_t hdr[CS__L2_SEG_HDR], uint64_t id);
int cs__l2_seg_header_check(const uint8_t *buf, size_t len, uint64_t *id);

#endif
