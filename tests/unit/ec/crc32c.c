/* Tests for cs_crc32c: RFC 3720 (iSCSI) vectors, chaining, long inputs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/crc32c.h"

/* Bitwise reference, independent of ISA-L. */
static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
    }
    return ~c;
}

Test(crc32c, check_value)
{
    cr_expect_eq(cs_crc32c(0, "123456789", 9), 0xE3069283u);
    cr_expect_eq(cs_crc32c(0, "", 0), 0u);
}

Test(crc32c, rfc3720_vectors)
{
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    cr_expect_eq(cs_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xFF, sizeof buf);
    cr_expect_eq(cs_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    cr_expect_eq(cs_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    cr_expect_eq(cs_crc32c(0, buf, 32), 0x113FDB5Cu);
}

Test(crc32c, chains_and_matches_reference)
{
    size_t n = 100000;
    uint8_t *buf = malloc(n);
    srand(7);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)rand();
    uint32_t whole = cs_crc32c(0, buf, n);
    cr_expect_eq(whole, ref_crc32c(buf, n));
    for (size_t cut = 0; cut < n; cut += 9973)
        cr_expect_eq(cs_crc32c(cs_crc32c(0, buf, cut), buf + cut, n - cut), whole, "cut %zu", cut);
    for (size_t len = 0; len < 300; len++)
        cr_expect_eq(cs_crc32c(0, buf + 3, len), ref_crc32c(buf + 3, len), "len %zu", len);
    free(buf);
}
