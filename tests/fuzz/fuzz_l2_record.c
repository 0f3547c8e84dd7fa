/* Fuzz target: the L2 segment record parser and value check, fed a segment
 * body (the bytes after the segment header) as L2's rebuild walks it. */
#include <stdint.h>
#include <stdlib.h>

#include "cache/l2_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t id;
    (void)cs__l2_seg_header_check(data, size, &id);
    size_t off = 0;
    while (off + 4 <= size) {
        cs__l2_rec_t r;
        int p = cs__l2_rec_parse(data + off, size - off, &r);
        if (p == CS__L2_PARSE_TRUNCATED)
            break;
        if (p == CS__L2_PARSE_BAD) {
            off = (off + 8) & ~(size_t)7;
            continue;
        }
        if (r.total == 0 || r.total > size - off)
            abort(); /* the parser promised a record inside the buffer */
        if (r.type == CS__L2_REC_PUT && r.vlen <= (1u << 20)) {
            uint8_t *out = malloc(r.vlen ? r.vlen : 1);
            if (out) {
                (void)cs__l2_rec_verify(&r, out, r.vlen, NULL);
                free(out);
            }
        }
        off += r.total;
    }
    return 0;
}
