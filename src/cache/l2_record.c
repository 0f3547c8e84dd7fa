/* l2_record.c: encoding and bounded parsing of L2 segment records. */
#include "l2_record.h"

#include <string.h>

#include "couchestor/cache_map.h"
#include "couchestor/compress.h"
#include "couchestor/crc32c.h"
#include "couchestor/endian.h"

/* CS__L2_SEG_MAGIC as the 8 bytes written, without the string's NUL; the
 * reader compares with the macro, so a drift fails every round trip. */
static const uint8_t cs__l2_seg_magic[8] = {'C', 'S', 'L', '2', 'S', 'E', 'G', '1'};

size_t cs__l2_rec_header(uint8_t *hdr, uint32_t version, const cs__l2_rec_t *r)
{
    size_t n = version == 1 ? CS__L2_REC_HDR_V1 : CS__L2_REC_HDR_V2;
    cs_le32_store(hdr, cs__l2_rec_magic(version));
    hdr[4] = r->type;
    hdr[5] = r->codec;
    cs_le16_store(hdr + 6, r->klen);
    cs_le32_store(hdr + 8, r->plen);
    cs_le32_store(hdr + 12, r->vlen);
    cs_le64_store(hdr + 16, r->seq);
    cs_le32_store(hdr + 24, r->vcrc);
    if (version != 1) {
        cs_le32_store(hdr + 28, r->poff);
        cs_le32_store(hdr + 32, 0);
    }
    uint32_t hcrc = cs_crc32c(cs_crc32c(0, hdr, n - 4), r->key, r->klen);
    cs_le32_store(hdr + n - 4, hcrc);
    return n;
}

int cs__l2_rec_parse(const uint8_t *buf, size_t len, uint32_t version, cs__l2_rec_t *out)
{
    size_t hdr = version == 1 ? CS__L2_REC_HDR_V1 : CS__L2_REC_HDR_V2;
    if (len < 4)
        return CS__L2_PARSE_TRUNCATED;
    if ((version != 1 && version != 2) || cs_le32_load(buf) != cs__l2_rec_magic(version))
        return CS__L2_PARSE_BAD;
    if (len < hdr)
        return CS__L2_PARSE_TRUNCATED;
    uint8_t type = buf[4], codec = buf[5];
    uint16_t klen = cs_le16_load(buf + 6);
    uint32_t plen = cs_le32_load(buf + 8), vlen = cs_le32_load(buf + 12);
    uint32_t poff = version == 1 ? 0 : cs_le32_load(buf + 28);
    if (klen == 0 || klen > CS_CACHE_KEY_MAX || plen > CS__L2_VALUE_MAX || vlen > CS__L2_VALUE_MAX)
        return CS__L2_PARSE_BAD;
    if (version != 1 && cs_le32_load(buf + 32) != 0)
        return CS__L2_PARSE_BAD;
    if (type == CS__L2_REC_PUT) {
        if (codec == CS_CODEC_RAW && plen != vlen)
            return CS__L2_PARSE_BAD;
        if (codec == CS_CODEC_LZ4 && (plen == 0 || plen > cs_compress_bound(vlen)))
            return CS__L2_PARSE_BAD;
        if (codec != CS_CODEC_RAW && codec != CS_CODEC_LZ4)
            return CS__L2_PARSE_BAD;
        /* v2 payloads live in the payload area, past at least one log block. */
        if (version != 1 && poff < CS__L2_BLOCK)
            return CS__L2_PARSE_BAD;
    } else if (type == CS__L2_REC_DEL) {
        if (plen != 0 || vlen != 0 || codec != 0 || poff != 0)
            return CS__L2_PARSE_BAD;
    } else {
        return CS__L2_PARSE_BAD;
    }
    size_t total = cs__l2_rec_size(version, klen, plen);
    /* The key is needed to check the header CRC. */
    if (len < hdr + (size_t)klen)
        return CS__L2_PARSE_TRUNCATED;
    uint32_t hcrc = cs_crc32c(cs_crc32c(0, buf, hdr - 4), buf + hdr, klen);
    if (hcrc != cs_le32_load(buf + hdr - 4))
        return CS__L2_PARSE_BAD;
    if (len < total)
        return CS__L2_PARSE_TRUNCATED;
    out->type = type;
    out->codec = codec;
    out->klen = klen;
    out->plen = plen;
    out->vlen = vlen;
    out->seq = cs_le64_load(buf + 16);
    out->vcrc = cs_le32_load(buf + 24);
    out->poff = poff;
    out->key = buf + hdr;
    out->payload = version == 1 ? buf + hdr + klen : NULL;
    out->total = total;
    return CS__L2_PARSE_OK;
}

int cs__l2_rec_verify(const cs__l2_rec_t *rec, uint8_t *out, size_t out_cap, cs_err_t *err)
{
    int rc = cs_decompress((cs_codec_t)rec->codec, rec->payload, rec->plen, out, out_cap, rec->vlen, err);
    if (rc != 0)
        return rc;
    uint32_t crc = cs_crc32c(cs_crc32c(0, rec->key, rec->klen), out, rec->vlen);
    if (crc != rec->vcrc)
        return cs_err_set(err, CS_ECORRUPT, "L2 record seq %llu: value CRC32C %08x does not match the recorded %08x",
                          (unsigned long long)rec->seq, crc, rec->vcrc);
    return 0;
}

void cs__l2_seg_header(uint8_t hdr[CS__L2_SEG_HDR], uint64_t id, uint32_t version, uint32_t log_area)
{
    memset(hdr, 0, CS__L2_SEG_HDR);
    memcpy(hdr, cs__l2_seg_magic, sizeof cs__l2_seg_magic);
    cs_le64_store(hdr + 8, id);
    cs_le32_store(hdr + 16, version);
    cs_le32_store(hdr + 20, version == 1 ? 0 : log_area);
    cs_le32_store(hdr + 28, cs_crc32c(0, hdr, 28));
}

int cs__l2_seg_header_check(const uint8_t *buf, size_t len, cs__l2_seg_info_t *out)
{
    if (len < CS__L2_SEG_HDR || memcmp(buf, CS__L2_SEG_MAGIC, 8) != 0 ||
        cs_le32_load(buf + 28) != cs_crc32c(0, buf, 28))
        return CS_ECORRUPT;
    uint32_t version = cs_le32_load(buf + 16), log_area = cs_le32_load(buf + 20);
    if (version == 1) {
        if (log_area != 0)
            return CS_ECORRUPT;
    } else if (version == 2) {
        /* Whole blocks, and bounded by the largest segment. */
        if (log_area < CS__L2_BLOCK || (log_area & (CS__L2_BLOCK - 1u)) != 0 || log_area > CS__L2_VALUE_MAX)
            return CS_ECORRUPT;
    } else {
        return CS_EINVAL;
    }
    out->id = cs_le64_load(buf + 8);
    out->version = version;
    out->log_area = log_area;
    return 0;
}
