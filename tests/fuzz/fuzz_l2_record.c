/* Fuzz target: the L2 segment header check, record parser and value check,
 * walked as L2's rebuild walks them. An input that starts with a valid
 * segment header is read as that segment (v1: records after the header; v2:
 * the log area, payloads by offset); any other input is walked as a bare
 * record stream in both formats. */
#include <stdint.h>
#include <stdlib.h>

#include "cache/l2_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const uint8_t *data, size_t size, size_t off, size_t limit, uint32_t version)
{
    while (off + 4 <= limit) {
        cs__l2_rec_t r;
        int p = cs__l2_rec_parse(data + off, limit - off, version, &r);
        if (p == CS__L2_PARSE_TRUNCATED)
            break;
        if (p == CS__L2_PARSE_BAD) {
            off = (off + 8) & ~(size_t)7;
            continue;
        }
        if (r.total == 0 || r.total > limit - off)
            abort(); /* the parser promised a record inside the buffer */
        if (version == 2 && r.payload != NULL)
            abort(); /* a v2 payload is never inline */
        if (version == 2 && r.type == CS__L2_REC_PUT) {
            /* As the rebuild does: a payload outside the file is torn. */
            if ((size_t)r.poff + r.plen <= size)
                r.payload = data + r.poff;
        }
        if (r.type == CS__L2_REC_PUT && r.payload && r.vlen <= (1u << 20)) {
            uint8_t *out = malloc(r.vlen ? r.vlen : 1);
            if (out) {
                (void)cs__l2_rec_verify(&r, out, r.vlen, NULL);
                free(out);
            }
        }
        off += r.total;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs__l2_seg_info_t info;
    if (cs__l2_seg_header_check(data, size, &info) == 0) {
        size_t limit = size;
        if (info.version == 2 && info.log_area < limit)
            limit = info.log_area;
        walk(data, size, CS__L2_SEG_HDR, limit, info.version);
        return 0;
    }
    walk(data, size, 0, size, 1);
    walk(data, size, 0, size, 2);
    return 0;
}
