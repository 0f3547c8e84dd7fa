/* Tests for Kubernetes quantity parsing with exact integer arithmetic. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/quantity.h"

static int64_t q_ok(const char *s)
{
    int64_t v = -777;
    cs_err_t err = {0};
    cr_assert_eq(cs_quantity_parse(s, &v, &err), 0, "parse(\"%s\"): %s", s, err.msg);
    return v;
}

static void q_bad(const char *s, const char *expect)
{
    int64_t v = -777;
    cs_err_t err = {0};
    cr_assert_eq(cs_quantity_parse(s, &v, &err), CS_EPARSE, "parse(\"%s\") should fail", s ? s : "(null)");
    cr_expect_eq(v, -777);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

Test(quantity, binary_suffixes)
{
    cr_expect_eq(q_ok("1Ki"), 1024);
    cr_expect_eq(q_ok("10Gi"), INT64_C(10) << 30);
    cr_expect_eq(q_ok("1.5Ti"), INT64_C(3) << 39);
    cr_expect_eq(q_ok("0.5Ki"), 512);
    cr_expect_eq(q_ok("7Ei"), INT64_C(7) << 60);
    cr_expect_eq(q_ok("1Pi"), INT64_C(1) << 50);
    cr_expect_eq(q_ok("3Mi"), 3 << 20);
}

Test(quantity, decimal_suffixes_and_exponents)
{
    cr_expect_eq(q_ok("500M"), 500000000);
    cr_expect_eq(q_ok("1k"), 1000);
    cr_expect_eq(q_ok("2G"), 2000000000);
    cr_expect_eq(q_ok("1T"), INT64_C(1000000000000));
    cr_expect_eq(q_ok("1E"), INT64_C(1000000000000000000));
    cr_expect_eq(q_ok("1e3"), 1000);
    cr_expect_eq(q_ok("1E3"), 1000);
    cr_expect_eq(q_ok("1.5e3"), 1500);
    cr_expect_eq(q_ok("20e-1"), 2);
    cr_expect_eq(q_ok("2000m"), 2);
    cr_expect_eq(q_ok("3000000u"), 3);
    cr_expect_eq(q_ok("4000000000n"), 4);
}

Test(quantity, plain_and_signs)
{
    cr_expect_eq(q_ok("4096"), 4096);
    cr_expect_eq(q_ok("0"), 0);
    cr_expect_eq(q_ok("+12"), 12);
    cr_expect_eq(q_ok("-12Ki"), -12288);
    cr_expect_eq(q_ok("0.0"), 0);
    cr_expect_eq(q_ok("007"), 7);
    cr_expect_eq(q_ok("9223372036854775807"), INT64_MAX);
    cr_expect_eq(q_ok("0e999"), 0);
}

Test(quantity, rejects)
{
    q_bad("", "empty quantity");
    q_bad(NULL, "empty quantity");
    q_bad("Gi", "expected a number");
    q_bad("1.5", "not a whole number");
    q_bad("100m", "not a whole number");
    q_bad("15e-1", "not a whole number");
    q_bad("1Zi", "unknown suffix \"Zi\"");
    q_bad("1 Gi", "unknown suffix");
    q_bad("1gi", "unknown suffix");
    q_bad("1e", "unknown suffix");
    q_bad("1e3Gi", "unknown suffix");
    q_bad("9223372036854775808", "too large");
    q_bad("8Ei", "too large");
    q_bad("1e19", "too large");
    q_bad("1e400", "too large");
    q_bad("1234567890123456789012345678901234567", "too many digits");
}

Test(quantity, format)
{
    char buf[32];
    cr_expect_str_eq(cs_quantity_format(INT64_C(10) << 30, buf, sizeof buf), "10Gi");
    cr_expect_str_eq(cs_quantity_format(1536 << 20, buf, sizeof buf), "1536Mi");
    cr_expect_str_eq(cs_quantity_format(4097, buf, sizeof buf), "4097");
    cr_expect_str_eq(cs_quantity_format(0, buf, sizeof buf), "0");
    cr_expect_str_eq(cs_quantity_format(-2048, buf, sizeof buf), "-2Ki");
    cr_expect_str_eq(cs_bytes_human(1536, buf, sizeof buf), "1.5 KiB");
    cr_expect_str_eq(cs_bytes_human(12, buf, sizeof buf), "12 B");
}

Test(quantity, format_parse_round_trip)
{
    int64_t samples[] = {0, 1, 1023, 1024, 1 << 20, INT64_C(3) << 40, INT64_MAX, -5 * 1024};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char buf[32];
        cs_quantity_format(samples[i], buf, sizeof buf);
        cr_expect_eq(q_ok(buf), samples[i], "round trip of %s", buf);
    }
}
