/* crc32c.c: standard CRC32C over ISA-L crc32_iscsi (which neither pre- nor
 * post-inverts, and takes an int length). */
#include "couchestor/crc32c.h"

#include <isa-l/crc.h>

uint32_t cs_crc32c(uint32_t crc, const void *data, size_t len)
{
    unsigned char *p = (unsigned char *)(uintptr_t)data; /* ISA-L's prototype is not const */
    uint32_t c = ~crc;
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        c = crc32_iscsi(p, n, c);
        p += n;
        len -= (size_t)n;
    }
    return ~c;
}
