/* Tests for Kubernetes quantity parsing with exact integer arithmetic. */
#include <criterion/criterion.h>
#include <stdbool.h>
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

static uint64_t b_ok(const char *s)
{
    uint64_t v = 777;
    cs_err_t err = {0};
    cr_assert_eq(cs_quantity_parse_bytes(s, &v, &err), 0, "parse_bytes(\"%s\"): %s", s, err.msg);
    return v;
}

static void b_bad(const char *s, const char *expect)
{
    uint64_t v = 777;
    cs_err_t err = {0};
    cr_assert_eq(cs_quantity_parse_bytes(s, &v, &err), CS_EPARSE, "parse_bytes(\"%s\") should fail", s ? s : "(null)");
    cr_expect_eq(v, 777u);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

Test(quantity, bytes_accepts_what_ec_stripe_size_always_accepted)
{
    /* The units `couchestor ec --stripe-size` read before it used this
     * parser: one letter k/m/g in either case, an optional i, an optional B. */
    cr_expect_eq(b_ok("65536"), 65536u);
    cr_expect_eq(b_ok("64Ki"), 65536u);
    cr_expect_eq(b_ok("1Mi"), 1048576u);
    cr_expect_eq(b_ok("4M"), 4000000u);
    cr_expect_eq(b_ok("4m"), 4000000u);
    cr_expect_eq(b_ok("512k"), 512000u);
    cr_expect_eq(b_ok("512K"), 512000u);
    cr_expect_eq(b_ok("1G"), 1000000000u);
    cr_expect_eq(b_ok("1g"), 1000000000u);
    cr_expect_eq(b_ok("4MB"), 4000000u);
    cr_expect_eq(b_ok("4mb"), 4000000u);
    cr_expect_eq(b_ok("64KiB"), 65536u);
    cr_expect_eq(b_ok("64kib"), 65536u);
    cr_expect_eq(b_ok("64KI"), 65536u);
    cr_expect_eq(b_ok("1GiB"), UINT64_C(1) << 30);
    cr_expect_eq(b_ok("1gIb"), UINT64_C(1) << 30);
    cr_expect_eq(b_ok("+8k"), 8000u);
    cr_expect_eq(b_ok("  8Ki"), 8192u);
    cr_expect_eq(b_ok("0"), 0u);
    cr_expect_eq(b_ok("18446744073709551615"), UINT64_MAX);
}

Test(quantity, bytes_accepts_quantity_numbers_and_more_units)
{
    cr_expect_eq(b_ok("1.5Mi"), 3u << 19);
    cr_expect_eq(b_ok("0.5Ki"), 512u);
    cr_expect_eq(b_ok("1e6"), 1000000u);
    cr_expect_eq(b_ok("1E3"), 1000u);
    cr_expect_eq(b_ok("20e-1"), 2u);
    cr_expect_eq(b_ok("3T"), UINT64_C(3000000000000));
    cr_expect_eq(b_ok("3ti"), UINT64_C(3) << 40);
    cr_expect_eq(b_ok("2P"), UINT64_C(2000000000000000));
    cr_expect_eq(b_ok("2Pi"), UINT64_C(2) << 50);
    cr_expect_eq(b_ok("1E"), UINT64_C(1000000000000000000));
    cr_expect_eq(b_ok("1e"), UINT64_C(1000000000000000000));
    cr_expect_eq(b_ok("1EB"), UINT64_C(1000000000000000000));
    cr_expect_eq(b_ok("15Ei"), UINT64_C(15) << 60);
    cr_expect_eq(b_ok("100B"), 100u);
    cr_expect_eq(b_ok("100b"), 100u);
    cr_expect_eq(b_ok("007"), 7u);
}

Test(quantity, bytes_rejects)
{
    b_bad(NULL, "empty size");
    b_bad("", "empty size");
    b_bad("   ", "expected a number");
    b_bad("Mi", "expected a number");
    b_bad("-1", "cannot be negative");
    b_bad("-0", "cannot be negative");
    b_bad("1.5", "not a whole number of bytes");
    b_bad("1.0001k", "not a whole number of bytes");
    b_bad("100n", "unknown unit \"n\"");
    b_bad("100u", "unknown unit \"u\"");
    b_bad("1i", "unknown unit \"i\"");
    b_bad("1Zi", "unknown unit \"Zi\"");
    b_bad("1 Mi", "unknown unit \" Mi\"");
    b_bad("1Mi ", "unknown unit");
    b_bad("1MiBB", "unknown unit");
    b_bad("1e3B", "unknown unit");
    b_bad("0x10", "unknown unit \"x10\"");
    b_bad("18446744073709551616", "too large");
    b_bad("16Ei", "too large");
    b_bad("1e20", "too large");
    b_bad("1234567890123456789012345678901234567", "too many digits");
}

Test(quantity, bytes_human)
{
    char buf[32];
    cr_expect_str_eq(cs_bytes_human(0, buf, sizeof buf), "0 B");
    cr_expect_str_eq(cs_bytes_human(1023, buf, sizeof buf), "1023 B");
    cr_expect_str_eq(cs_bytes_human(1024, buf, sizeof buf), "1.0 KiB");
    cr_expect_str_eq(cs_bytes_human(UINT64_C(3840755982336), buf, sizeof buf), "3.5 TiB");
    cr_expect_str_eq(cs_bytes_human(UINT64_C(480103981056), buf, sizeof buf), "447 GiB");
    cr_expect_str_eq(cs_bytes_human(UINT64_C(99) << 20, buf, sizeof buf), "99.0 MiB");
    cr_expect_str_eq(cs_bytes_human(UINT64_C(100) << 20, buf, sizeof buf), "100 MiB");
    cr_expect_str_eq(cs_bytes_human(UINT64_MAX, buf, sizeof buf), "16.0 EiB");
    char small[5];
    cr_expect_str_eq(cs_bytes_human(1536, small, sizeof small), "1.5 ", "truncated to the buffer, terminated");
}

/* Every short string over the characters sizes are made of: the byte parser
 * never reads past the text (ASan) and, where a quantity means the same
 * number of bytes (no milli/micro/nano, not negative), agrees with it. */
Test(quantity, bytes_agrees_with_quantity_on_every_short_string)
{
    static const char alphabet[] = "019.eEkKmMGiIB+- ";
    const size_t na = sizeof alphabet - 1;
    char s[5];
    size_t agreed = 0;
    for (size_t len = 1; len <= 4; len++) {
        size_t total = 1;
        for (size_t i = 0; i < len; i++)
            total *= na;
        for (size_t n = 0; n < total; n++) {
            size_t x = n;
            for (size_t i = 0; i < len; i++, x /= na)
                s[i] = alphabet[x % na];
            s[len] = '\0';
            int64_t q;
            uint64_t b;
            bool q_ok = cs_quantity_parse(s, &q, NULL) == 0;
            bool b_ok = cs_quantity_parse_bytes(s, &b, NULL) == 0;
            if (q_ok && q >= 0 && !strpbrk(s, "mun-")) {
                cr_assert(b_ok, "\"%s\" is the quantity %lld but not a size", s, (long long)q);
                cr_assert_eq(b, (uint64_t)q, "\"%s\"", s);
                agreed++;
            }
        }
    }
    cr_expect_eq(agreed, 794u, "%zu strings are quantities of bytes", agreed);
}
