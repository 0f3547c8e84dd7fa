/* Tests for Go-style duration parsing and formatting. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/duration.h"

static int64_t parse_ok(const char *s)
{
    int64_t v = -1;
    cs_err_t err = {0};
    int rc = cs_duration_parse(s, &v, &err);
    cr_assert_eq(rc, 0, "parse(\"%s\") failed: %s", s, err.msg);
    return v;
}

static void parse_bad(const char *s, const char *expect_in_msg)
{
    int64_t v = 12345;
    cs_err_t err = {0};
    int rc = cs_duration_parse(s, &v, &err);
    cr_assert_eq(rc, CS_EPARSE, "parse(\"%s\") should fail", s ? s : "(null)");
    cr_expect_eq(v, 12345, "output must be untouched on error");
    cr_expect(strstr(err.msg, expect_in_msg) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect_in_msg);
}

Test(duration, units)
{
    cr_expect_eq(parse_ok("500ms"), 500 * CS_NSEC_PER_MSEC);
    cr_expect_eq(parse_ok("90s"), 90 * CS_NSEC_PER_SEC);
    cr_expect_eq(parse_ok("30m"), 30 * CS_NSEC_PER_MIN);
    cr_expect_eq(parse_ok("24h"), 24 * CS_NSEC_PER_HOUR);
    cr_expect_eq(parse_ok("1h30m"), 90 * CS_NSEC_PER_MIN);
    cr_expect_eq(parse_ok("1h30m15s250ms"), 5415 * CS_NSEC_PER_SEC + 250 * CS_NSEC_PER_MSEC);
    cr_expect_eq(parse_ok("7ns"), 7);
    cr_expect_eq(parse_ok("3us"), 3000);
    cr_expect_eq(parse_ok("3\xc2\xb5s"), 3000);
    cr_expect_eq(parse_ok("3\xce\xbcs"), 3000);
    cr_expect_eq(parse_ok("0"), 0);
    cr_expect_eq(parse_ok("0s"), 0);
    cr_expect_eq(parse_ok("+5s"), 5 * CS_NSEC_PER_SEC);
}

Test(duration, fractions)
{
    cr_expect_eq(parse_ok("1.5h"), 90 * CS_NSEC_PER_MIN);
    cr_expect_eq(parse_ok("0.5s"), 500 * CS_NSEC_PER_MSEC);
    cr_expect_eq(parse_ok(".5s"), 500 * CS_NSEC_PER_MSEC);
    cr_expect_eq(parse_ok("1.s"), CS_NSEC_PER_SEC);
    cr_expect_eq(parse_ok("1.000000001s"), CS_NSEC_PER_SEC + 1);
    /* digits below a nanosecond are dropped, as Go does */
    cr_expect_eq(parse_ok("1.0000000019s"), CS_NSEC_PER_SEC + 1);
}

Test(duration, boundaries)
{
    cr_expect_eq(parse_ok("9223372036854775807ns"), INT64_MAX);
    cr_expect_eq(parse_ok("2562047h47m16.854775807s"), INT64_MAX);
    parse_bad("9223372036854775808ns", "too large");
    parse_bad("2562048h", "too large");
    parse_bad("99999999999999999999999h", "too large");
    parse_bad("2562047h47m16.854775808s", "too large");
}

Test(duration, rejects)
{
    parse_bad("", "empty duration");
    parse_bad(NULL, "empty duration");
    parse_bad("-1s", "negative");
    parse_bad("10", "missing unit");
    parse_bad("1h30", "missing unit");
    parse_bad("10d", "unknown unit \"d\"");
    parse_bad("5 s", "unknown unit");
    parse_bad("s", "expected a number");
    parse_bad(".s", "expected a number");
    parse_bad("+", "no number");
    parse_bad("1hh", "unknown unit \"hh\"");
}

static void fmt(int64_t ns, const char *want)
{
    char buf[32];
    cr_expect_str_eq(cs_duration_format(ns, buf, sizeof buf), want);
}

Test(duration, format_like_go)
{
    fmt(0, "0s");
    fmt(1, "1ns");
    fmt(1500, "1.5\xc2\xb5s");
    fmt(500 * CS_NSEC_PER_MSEC, "500ms");
    fmt(90 * CS_NSEC_PER_SEC, "1m30s");
    fmt(90 * CS_NSEC_PER_MIN, "1h30m0s");
    fmt(24 * CS_NSEC_PER_HOUR, "24h0m0s");
    fmt(CS_NSEC_PER_SEC + 1, "1.000000001s");
    fmt(INT64_MAX, "2562047h47m16.854775807s");
    fmt(-2 * CS_NSEC_PER_SEC, "-2s");
}

Test(duration, format_parse_round_trip)
{
    int64_t samples[] = {
        0, 1, 999, 1000, 123456789, CS_NSEC_PER_SEC, 61 * CS_NSEC_PER_SEC, 3 * CS_NSEC_PER_HOUR + 7, INT64_MAX};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        char buf[32];
        cs_duration_format(samples[i], buf, sizeof buf);
        cr_expect_eq(parse_ok(buf), samples[i], "round trip of %s", buf);
    }
}
