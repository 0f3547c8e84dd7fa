/* crc32c.h: CRC32C (Castagnoli, the iSCSI polynomial 0x1EDC6F41, reflected)
 * over ISA-L's run-time dispatched crc32_iscsi (SSE4.2/PCLMUL/AVX-512).
 *
 * Standard semantics: cs_crc32c(0, "123456789", 9) == 0xE3069283, and CRCs
 * chain: cs_crc32c(cs_crc32c(0, a, na), b, nb) == CRC of a followed by b.
 * Safe on any input; len may exceed INT_MAX. */
#ifndef COUCHESTOR_CRC32C_H
#define COUCHESTOR_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t cs_crc32c(uint32_t crc, const void *data, size_t len);

#endif
