/* l2_record.h: the on-disk format of L2 segment files (internal; the format
 * is documented in docs/cache.md). All integers are little-endian.
 *
 * Segment header (32 bytes):
 *   0 magic "CSL2SEG1" | 8 u64 segment id | 16 u32 version (1 or 2) |
 *   20 u32 log area size (v2; 0 in v1) | 24 u32 reserved (0) |
 *   28 u32 CRC32C of bytes 0..27
 *
 * Version 1 (read only): records back to back after the segment header,
 * each a 32-byte header, then key, payload, zero padding to 8 bytes:
 *   0 u32 magic 0x3152534C ("LSR1") | 4 u8 type (1 put, 2 delete) |
 *   5 u8 codec (0 raw, 1 LZ4) | 6 u16 key length (1..1024) |
 *   8 u32 payload length | 12 u32 value length (uncompressed) |
 *   16 u64 sequence | 24 u32 CRC32C(key || value) |
 *   28 u32 CRC32C(header bytes 0..27 || key)
 *
 * Version 2 (written): the file is split in two areas so that a payload
 * never shares a 4 KiB block it does not need (an O_DIRECT read of a 4 KiB
 * value reads one block, not two). The log area [32, log_area) holds the
 * records back to back, each a 40-byte header, then key, zero padding to 8
 * bytes; a zero magic ends the log. The payload area [log_area, ...) holds
 * the payloads: one of 4 KiB or more starts on a 4 KiB boundary, a smaller
 * one never crosses a boundary. v2 record header:
 *   0 u32 magic 0x3252534C ("LSR2") | 4 u8 type | 5 u8 codec |
 *   6 u16 key length | 8 u32 payload length | 12 u32 value length |
 *   16 u64 sequence | 24 u32 CRC32C(key || value) |
 *   28 u32 payload offset in the file (0 for a delete) | 32 u32 reserved (0) |
 *   36 u32 CRC32C(header bytes 0..35 || key)
 * The payload is written before its record, so a record whose payload is
 * missing is a torn write.
 */
#ifndef CS_CACHE_L2_RECORD_H
#define CS_CACHE_L2_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS__L2_SEG_MAGIC "CSL2SEG1"
#define CS__L2_SEG_HDR 32u
#define CS__L2_SEG_VERSION 2u /* the version written */
#define CS__L2_REC_MAGIC_V1 0x3152534Cu
#define CS__L2_REC_MAGIC_V2 0x3252534Cu
#define CS__L2_REC_HDR_V1 32u
#define CS__L2_REC_HDR_V2 40u
#define CS__L2_REC_PUT 1u
#define CS__L2_REC_DEL 2u
#define CS__L2_BLOCK 4096u
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
    uint32_t poff;          /* v2: payload offset in the file; v1: 0 */
    const uint8_t *key;     /* into the parsed buffer */
    const uint8_t *payload; /* v1: into the parsed buffer; v2: NULL until the caller sets it */
    size_t total;           /* bytes of the record in the log, including padding */
} cs__l2_rec_t;

/* A checked segment header. */
typedef struct cs__l2_seg_info_s {
    uint64_t id;
    uint32_t version;  /* 1 or 2 */
    uint32_t log_area; /* v2: offset where the payload area begins */
} cs__l2_seg_info_t;

enum {
    CS__L2_PARSE_OK = 0,
    CS__L2_PARSE_TRUNCATED = 1, /* a header that claims more bytes than remain */
    CS__L2_PARSE_BAD = 2,       /* not a valid record header */
};

/* Bytes a record takes in the log: v1 carries the payload inline, v2 not. */
static inline size_t cs__l2_rec_size(uint32_t version, size_t klen, size_t plen)
{
    if (version == 1)
        return (CS__L2_REC_HDR_V1 + klen + plen + 7u) & ~(size_t)7u;
    return (CS__L2_REC_HDR_V2 + klen + 7u) & ~(size_t)7u;
}

static inline uint32_t cs__l2_rec_magic(uint32_t version)
{
    return version == 1 ? CS__L2_REC_MAGIC_V1 : CS__L2_REC_MAGIC_V2;
}

/* v2: the log area of a new segment of seg_size bytes: 1/16 of it, in whole
 * 4 KiB blocks (at least one). */
static inline uint32_t cs__l2_log_area(uint32_t seg_size)
{
    uint32_t a = (seg_size / 16u) & ~(CS__L2_BLOCK - 1u);
    return a < CS__L2_BLOCK ? CS__L2_BLOCK : a;
}

/* v2: where a payload of plen bytes goes when the payload area ends at end:
 * a payload of a block or more starts on a block boundary, a smaller one
 * moves to the next block only if it would cross a boundary. */
static inline uint64_t cs__l2_payload_place(uint64_t end, uint32_t plen)
{
    uint64_t next = (end + CS__L2_BLOCK - 1u) & ~(uint64_t)(CS__L2_BLOCK - 1u);
    if (plen >= CS__L2_BLOCK)
        return next;
    if ((end & (CS__L2_BLOCK - 1u)) + plen > CS__L2_BLOCK)
        return next;
    return end;
}

/* Parses the record of format `version` (1 or 2) at buf[0..len). Untrusted
 * input: every length is bounded against len and the format limits before
 * use, and the header CRC is checked. The payload is not verified (see
 * cs__l2_rec_verify); a v2 payload offset is not checked against the file
 * (the caller does, then sets rec->payload). */
int cs__l2_rec_parse(const uint8_t *buf, size_t len, uint32_t version, cs__l2_rec_t *out);
/* Decodes rec->payload into out (out_cap >= rec->vlen) and checks the value
 * CRC: 0, CS_ECORRUPT, or CS_EDECOMPRESSION_FAILED. */
int cs__l2_rec_verify(const cs__l2_rec_t *rec, uint8_t *out, size_t out_cap, cs_err_t *err);
/* Writes the record header of format `version` (with header CRC) for rec's
 * type, codec, key, lengths, sequence, value CRC and (v2) payload offset
 * into hdr; returns the header size (32 or 40). The key is not copied. */
size_t cs__l2_rec_header(uint8_t *hdr, uint32_t version, const cs__l2_rec_t *rec);
/* Segment header encode (log_area is 0 for version 1) and check. The check
 * returns CS_ECORRUPT for a damaged header and CS_EINVAL for a version it
 * does not know. */
void cs__l2_seg_header(uint8_t hdr[CS__L2_SEG_HDR], uint64_t id, uint32_t version, uint32_t log_area);
int cs__l2_seg_header_check(const uint8_t *buf, size_t len, cs__l2_seg_info_t *out);

#endif
