/* Tests for RFC 3339 parsing and formatting (metav1.Time and MicroTime).
 * Expected Unix times come from Python's calendar.timegm, not from this code. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/rfc3339.h"

static int64_t parse_ok(const char *text)
{
    int64_t t = 12345;
    cs_err_t err = {0};
    cr_assert_eq(cs_rfc3339_parse(text, &t, &err), 0, "parse(\"%s\") failed: %s", text, err.msg);
    return t;
}

static int64_t parse_ns_ok(const char *text)
{
    int64_t ns = 12345;
    cs_err_t err = {0};
    cr_assert_eq(cs_rfc3339_parse_ns(text, &ns, &err), 0, "parse_ns(\"%s\") failed: %s", text, err.msg);
    return ns;
}

/* The nanosecond reader rejects text with exactly this message and leaves
 * the output untouched. */
static void parse_ns_bad(const char *text, const char *message)
{
    int64_t ns = 12345;
    cs_err_t err = {0};
    cr_assert_eq(cs_rfc3339_parse_ns(text, &ns, &err), CS_EPARSE, "parse_ns(\"%s\") should fail",
                 text ? text : "(null)");
    cr_expect_eq(err.code, CS_EPARSE);
    cr_expect_str_eq(err.msg, message);
    cr_expect_eq(ns, 12345, "output must be untouched on error");
}

/* Both readers do. */
static void parse_bad(const char *text, const char *message)
{
    int64_t t = 12345;
    cs_err_t err = {0};
    cr_assert_eq(cs_rfc3339_parse(text, &t, &err), CS_EPARSE, "parse(\"%s\") should fail", text ? text : "(null)");
    cr_expect_eq(err.code, CS_EPARSE);
    cr_expect_str_eq(err.msg, message);
    cr_expect_eq(t, 12345, "output must be untouched on error");
    parse_ns_bad(text, message);
}

static const char *fmt(int64_t unix_s)
{
    static char buf[CS_RFC3339_SIZE];
    return cs_rfc3339_format(unix_s, buf, sizeof buf);
}

static const char *fmt_micro(int64_t unix_ns)
{
    static char buf[CS_RFC3339_MICRO_SIZE];
    return cs_rfc3339_format_micro(unix_ns, buf, sizeof buf);
}

/* The last second of a month and the first of the next. */
static const struct {
    const char *last;
    int64_t last_s;
    const char *first;
    int64_t first_s;
} boundaries[] = {
    /* 2023: a common year */
    {"2022-12-31T23:59:59Z", INT64_C(1672531199), "2023-01-01T00:00:00Z", INT64_C(1672531200)},
    {"2023-01-31T23:59:59Z", INT64_C(1675209599), "2023-02-01T00:00:00Z", INT64_C(1675209600)},
    {"2023-02-28T23:59:59Z", INT64_C(1677628799), "2023-03-01T00:00:00Z", INT64_C(1677628800)},
    {"2023-03-31T23:59:59Z", INT64_C(1680307199), "2023-04-01T00:00:00Z", INT64_C(1680307200)},
    {"2023-04-30T23:59:59Z", INT64_C(1682899199), "2023-05-01T00:00:00Z", INT64_C(1682899200)},
    {"2023-05-31T23:59:59Z", INT64_C(1685577599), "2023-06-01T00:00:00Z", INT64_C(1685577600)},
    {"2023-06-30T23:59:59Z", INT64_C(1688169599), "2023-07-01T00:00:00Z", INT64_C(1688169600)},
    {"2023-07-31T23:59:59Z", INT64_C(1690847999), "2023-08-01T00:00:00Z", INT64_C(1690848000)},
    {"2023-08-31T23:59:59Z", INT64_C(1693526399), "2023-09-01T00:00:00Z", INT64_C(1693526400)},
    {"2023-09-30T23:59:59Z", INT64_C(1696118399), "2023-10-01T00:00:00Z", INT64_C(1696118400)},
    {"2023-10-31T23:59:59Z", INT64_C(1698796799), "2023-11-01T00:00:00Z", INT64_C(1698796800)},
    {"2023-11-30T23:59:59Z", INT64_C(1701388799), "2023-12-01T00:00:00Z", INT64_C(1701388800)},
    /* 2024: a leap year */
    {"2023-12-31T23:59:59Z", INT64_C(1704067199), "2024-01-01T00:00:00Z", INT64_C(1704067200)},
    {"2024-01-31T23:59:59Z", INT64_C(1706745599), "2024-02-01T00:00:00Z", INT64_C(1706745600)},
    {"2024-02-29T23:59:59Z", INT64_C(1709251199), "2024-03-01T00:00:00Z", INT64_C(1709251200)},
    {"2024-03-31T23:59:59Z", INT64_C(1711929599), "2024-04-01T00:00:00Z", INT64_C(1711929600)},
    {"2024-04-30T23:59:59Z", INT64_C(1714521599), "2024-05-01T00:00:00Z", INT64_C(1714521600)},
    {"2024-05-31T23:59:59Z", INT64_C(1717199999), "2024-06-01T00:00:00Z", INT64_C(1717200000)},
    {"2024-06-30T23:59:59Z", INT64_C(1719791999), "2024-07-01T00:00:00Z", INT64_C(1719792000)},
    {"2024-07-31T23:59:59Z", INT64_C(1722470399), "2024-08-01T00:00:00Z", INT64_C(1722470400)},
    {"2024-08-31T23:59:59Z", INT64_C(1725148799), "2024-09-01T00:00:00Z", INT64_C(1725148800)},
    {"2024-09-30T23:59:59Z", INT64_C(1727740799), "2024-10-01T00:00:00Z", INT64_C(1727740800)},
    {"2024-10-31T23:59:59Z", INT64_C(1730419199), "2024-11-01T00:00:00Z", INT64_C(1730419200)},
    {"2024-11-30T23:59:59Z", INT64_C(1733011199), "2024-12-01T00:00:00Z", INT64_C(1733011200)},
    {"2024-12-31T23:59:59Z", INT64_C(1735689599), "2025-01-01T00:00:00Z", INT64_C(1735689600)},
    /* centuries: 1900 and 2100 are not leap years, 2000 is */
    {"1899-12-31T23:59:59Z", INT64_C(-2208988801), "1900-01-01T00:00:00Z", INT64_C(-2208988800)},
    {"1900-02-28T23:59:59Z", INT64_C(-2203891201), "1900-03-01T00:00:00Z", INT64_C(-2203891200)},
    {"1999-12-31T23:59:59Z", INT64_C(946684799), "2000-01-01T00:00:00Z", INT64_C(946684800)},
    {"2000-02-29T23:59:59Z", INT64_C(951868799), "2000-03-01T00:00:00Z", INT64_C(951868800)},
    {"2099-12-31T23:59:59Z", INT64_C(4102444799), "2100-01-01T00:00:00Z", INT64_C(4102444800)},
    {"2100-02-28T23:59:59Z", INT64_C(4107542399), "2100-03-01T00:00:00Z", INT64_C(4107542400)},
};

Test(rfc3339, month_boundaries_parse)
{
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        cr_expect_eq(parse_ok(boundaries[i].last), boundaries[i].last_s, "%s", boundaries[i].last);
        cr_expect_eq(parse_ok(boundaries[i].first), boundaries[i].first_s, "%s", boundaries[i].first);
        cr_expect_eq(boundaries[i].first_s - boundaries[i].last_s, 1);
        cr_expect_eq(parse_ns_ok(boundaries[i].first), boundaries[i].first_s * INT64_C(1000000000), "%s",
                     boundaries[i].first);
    }
}

Test(rfc3339, month_boundaries_format)
{
    for (size_t i = 0; i < sizeof boundaries / sizeof boundaries[0]; i++) {
        cr_expect_str_eq(fmt(boundaries[i].last_s), boundaries[i].last);
        cr_expect_str_eq(fmt(boundaries[i].first_s), boundaries[i].first);
    }
    cr_expect_str_eq(fmt_micro(INT64_C(1709251199999999999)), "2024-02-29T23:59:59.999999Z");
    cr_expect_str_eq(fmt_micro(INT64_C(1709251200000000000)), "2024-03-01T00:00:00.000000Z");
    cr_expect_str_eq(fmt_micro(INT64_C(-2203891201000000000)), "1900-02-28T23:59:59.000000Z");
}

Test(rfc3339, february_29_only_in_leap_years)
{
    cr_expect_eq(parse_ok("2024-02-29T00:00:00Z"), INT64_C(1709164800));
    cr_expect_eq(parse_ok("2000-02-29T00:00:00Z"), INT64_C(951782400));
    parse_bad("2023-02-29T00:00:00Z", "time \"2023-02-29T00:00:00Z\": date or time of day out of range");
    parse_bad("1900-02-29T00:00:00Z", "time \"1900-02-29T00:00:00Z\": date or time of day out of range");
    parse_bad("2100-02-29T00:00:00Z", "time \"2100-02-29T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-02-30T00:00:00Z", "time \"2024-02-30T00:00:00Z\": date or time of day out of range");
    /* The day after the 30th of a 30-day month does not roll into the next. */
    parse_bad("2024-04-31T00:00:00Z", "time \"2024-04-31T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-06-31T00:00:00Z", "time \"2024-06-31T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-09-31T00:00:00Z", "time \"2024-09-31T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-11-31T00:00:00Z", "time \"2024-11-31T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-01-32T00:00:00Z", "time \"2024-01-32T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-01-00T00:00:00Z", "time \"2024-01-00T00:00:00Z\": date or time of day out of range");
}

Test(rfc3339, offsets)
{
    cr_expect_eq(parse_ok("2024-05-01T12:00:00+02:00"), INT64_C(1714557600));
    cr_expect_eq(parse_ok("2024-05-01T05:30:00-04:30"), INT64_C(1714557600));
    cr_expect_eq(parse_ok("2024-05-01T10:00:00+00:00"), INT64_C(1714557600));
    cr_expect_eq(parse_ok("2024-05-01T10:00:00-00:00"), INT64_C(1714557600));
    cr_expect_eq(parse_ok("2024-05-01T10:00:00+23:59"), INT64_C(1714557600) - 86340);
    cr_expect_eq(parse_ok("2024-05-01T10:00:00-23:59"), INT64_C(1714557600) + 86340);
    /* Offsets that move the time across a day, a leap day and a year. */
    cr_expect_eq(parse_ok("2024-03-01T00:30:00+01:00"), INT64_C(1709249400)); /* 2024-02-29T23:30:00Z */
    cr_expect_eq(parse_ok("2024-01-01T01:00:00+02:00"), INT64_C(1704063600)); /* 2023-12-31T23:00:00Z */
    cr_expect_eq(parse_ok("2023-12-31T22:00:00-02:00"), INT64_C(1704067200)); /* 2024-01-01T00:00:00Z */
    cr_expect_eq(parse_ns_ok("2024-05-01T12:00:00.5+02:00"), INT64_C(1714557600500000000));
    /* Lower-case separators, as RFC 3339 allows. */
    cr_expect_eq(parse_ok("2024-05-01t10:00:00z"), INT64_C(1714557600));
}

Test(rfc3339, fractions)
{
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.1Z"), INT64_C(1714557600100000000));
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.12Z"), INT64_C(1714557600120000000));
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.123456Z"), INT64_C(1714557600123456000));
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.123456789Z"), INT64_C(1714557600123456789));
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.000000001Z"), INT64_C(1714557600000000001));
    cr_expect_eq(parse_ns_ok("2024-05-01T10:00:00.000000000Z"), INT64_C(1714557600000000000));
    cr_expect_eq(parse_ns_ok("1969-12-31T23:59:59.75Z"), INT64_C(-250000000));
    /* Whole seconds round down, before 1970 too. */
    cr_expect_eq(parse_ok("2024-05-01T10:00:00.999999999Z"), INT64_C(1714557600));
    cr_expect_eq(parse_ok("1969-12-31T23:59:59.5Z"), INT64_C(-1));
    /* MicroTime is exactly six digits, rounded down. */
    cr_expect_str_eq(fmt_micro(INT64_C(1714557600123456789)), "2024-05-01T10:00:00.123456Z");
    cr_expect_str_eq(fmt_micro(0), "1970-01-01T00:00:00.000000Z");
    cr_expect_str_eq(fmt_micro(999), "1970-01-01T00:00:00.000000Z");
    cr_expect_str_eq(fmt_micro(1000), "1970-01-01T00:00:00.000001Z");
    cr_expect_str_eq(fmt_micro(-1), "1969-12-31T23:59:59.999999Z");
    cr_expect_str_eq(fmt_micro(INT64_C(-1000000000)), "1969-12-31T23:59:59.000000Z");
    parse_bad("2024-05-01T10:00:00.Z", "time \"2024-05-01T10:00:00.Z\": fraction must have 1 to 9 digits");
    parse_bad("2024-05-01T10:00:00.1234567890Z",
              "time \"2024-05-01T10:00:00.1234567890Z\": fraction must have 1 to 9 digits");
    parse_bad("2024-05-01T10:00:00,5Z", "time \"2024-05-01T10:00:00,5Z\": expected 'Z' or a UTC offset like +02:00");
}

Test(rfc3339, range_limits_seconds)
{
    cr_expect_eq(parse_ok("0001-01-01T00:00:00Z"), CS_RFC3339_MIN);
    cr_expect_eq(parse_ok("9999-12-31T23:59:59Z"), CS_RFC3339_MAX);
    cr_expect_eq(CS_RFC3339_MIN, INT64_C(-62135596800));
    cr_expect_eq(CS_RFC3339_MAX, INT64_C(253402300799));
    cr_expect_eq(parse_ok("0001-01-01T00:00:00-00:01"), CS_RFC3339_MIN + 60);
    cr_expect_eq(parse_ok("9999-12-31T23:59:59+23:59"), CS_RFC3339_MAX - 86340);
    int64_t t = 7;
    cs_err_t err = {0};
    cr_expect_eq(cs_rfc3339_parse("0001-01-01T00:00:00+00:01", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"0001-01-01T00:00:00+00:01\" is outside years 0001-9999 in UTC");
    cr_expect_eq(cs_rfc3339_parse("9999-12-31T23:59:59-00:01", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"9999-12-31T23:59:59-00:01\" is outside years 0001-9999 in UTC");
    cr_expect_eq(t, 7);
    parse_bad("0000-01-01T00:00:00Z", "time \"0000-01-01T00:00:00Z\": date or time of day out of range");

    char buf[CS_RFC3339_SIZE];
    cr_expect_str_eq(cs_rfc3339_format(CS_RFC3339_MIN, buf, sizeof buf), "0001-01-01T00:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format(CS_RFC3339_MAX, buf, sizeof buf), "9999-12-31T23:59:59Z");
    strcpy(buf, "x");
    cr_expect_str_eq(cs_rfc3339_format(CS_RFC3339_MIN - 1, buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(CS_RFC3339_MAX + 1, buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(INT64_MIN, buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(INT64_MAX, buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(0, buf, CS_RFC3339_SIZE - 1), "");
    cr_expect_str_eq(cs_rfc3339_format(0, buf, CS_RFC3339_SIZE), "1970-01-01T00:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format(0, NULL, 64), "");
    cr_expect_str_eq(cs_rfc3339_format(0, buf, 0), "");
}

Test(rfc3339, range_limits_nanoseconds)
{
    cr_expect_eq(parse_ns_ok("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
    cr_expect_eq(parse_ns_ok("1677-09-21T00:12:43.145224192Z"), INT64_MIN);
    cr_expect_eq(parse_ns_ok("1677-09-21T00:12:44Z"), INT64_C(-9223372036000000000));
    parse_ns_bad("2262-04-11T23:47:16.854775808Z",
                 "time \"2262-04-11T23:47:16.854775808Z\": outside the years 1678-2261");
    parse_ns_bad("1677-09-21T00:12:43.145224191Z",
                 "time \"1677-09-21T00:12:43.145224191Z\": outside the years 1678-2261");
    parse_ns_bad("9999-12-31T23:59:59Z", "time \"9999-12-31T23:59:59Z\": outside the years 1678-2261");
    parse_ns_bad("0001-01-01T00:00:00Z", "time \"0001-01-01T00:00:00Z\": outside the years 1678-2261");
    /* The seconds reader has the wider range. */
    cr_expect_eq(parse_ok("2262-04-11T23:47:16.854775808Z"), INT64_C(9223372036));
    cr_expect_eq(parse_ok("1677-09-21T00:12:43.145224191Z"), INT64_C(-9223372037));

    char buf[CS_RFC3339_MICRO_SIZE];
    cr_expect_str_eq(cs_rfc3339_format_micro(INT64_MAX, buf, sizeof buf), "2262-04-11T23:47:16.854775Z");
    cr_expect_str_eq(cs_rfc3339_format_micro(INT64_MIN, buf, sizeof buf), "1677-09-21T00:12:43.145224Z");
    cr_expect_str_eq(cs_rfc3339_format_micro(0, buf, CS_RFC3339_MICRO_SIZE - 1), "");
    cr_expect_str_eq(cs_rfc3339_format_micro(0, buf, CS_RFC3339_MICRO_SIZE), "1970-01-01T00:00:00.000000Z");
    cr_expect_str_eq(cs_rfc3339_format_micro(0, NULL, 64), "");
}

Test(rfc3339, rejections)
{
    parse_bad(NULL, "empty time: expected RFC 3339, e.g. \"2024-05-01T10:00:00Z\"");
    parse_bad("", "empty time: expected RFC 3339, e.g. \"2024-05-01T10:00:00Z\"");
    parse_bad("yesterday", "time \"yesterday\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-05-01 10:00:00Z",
              "time \"2024-05-01 10:00:00Z\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-5-01T10:00:00Z",
              "time \"2024-5-01T10:00:00Z\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-05-01T10:00Z",
              "time \"2024-05-01T10:00Z\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-05-01", "time \"2024-05-01\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("-2024-05-01T10:00:00Z",
              "time \"-2024-05-01T10:00:00Z\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-13-01T00:00:00Z", "time \"2024-13-01T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-00-01T00:00:00Z", "time \"2024-00-01T00:00:00Z\": date or time of day out of range");
    parse_bad("2024-01-01T24:00:00Z", "time \"2024-01-01T24:00:00Z\": date or time of day out of range");
    parse_bad("2024-01-01T23:60:00Z", "time \"2024-01-01T23:60:00Z\": date or time of day out of range");
    /* No leap seconds, as Go's time.Parse. */
    parse_bad("2016-12-31T23:59:60Z", "time \"2016-12-31T23:59:60Z\": date or time of day out of range");
    parse_bad("2024-05-01T10:00:00", "time \"2024-05-01T10:00:00\": missing zone (Z or +hh:mm)");
    parse_bad("2024-05-01T10:00:00.5", "time \"2024-05-01T10:00:00.5\": missing zone (Z or +hh:mm)");
    parse_bad("2024-05-01T10:00:00X", "time \"2024-05-01T10:00:00X\": expected 'Z' or a UTC offset like +02:00");
    parse_bad("2024-05-01T10:00:00+0200", "time \"2024-05-01T10:00:00+0200\": bad UTC offset");
    parse_bad("2024-05-01T10:00:00+02", "time \"2024-05-01T10:00:00+02\": bad UTC offset");
    parse_bad("2024-05-01T10:00:00+24:00", "time \"2024-05-01T10:00:00+24:00\": bad UTC offset");
    parse_bad("2024-05-01T10:00:00-02:60", "time \"2024-05-01T10:00:00-02:60\": bad UTC offset");
    parse_bad("2024-05-01T10:00:00Zjunk", "time \"2024-05-01T10:00:00Zjunk\": unexpected text after the zone");
    parse_bad("2024-05-01T10:00:00+02:00 ", "time \"2024-05-01T10:00:00+02:00 \": unexpected text after the zone");
    /* The quote in a message is bounded and printable. */
    parse_bad("2024-05-01\t10:00:00Z\x01",
              "time \"2024-05-01?10:00:00Z?\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")");
    parse_bad("2024-05-01T10:00:00.123456789+02:00 and then much more text",
              "time \"2024-05-01T10:00:00.123456789+02:00 and ...\": unexpected text after the zone");
    parse_bad("2024-05-01T10:00:00\xc3\xa9",
              "time \"2024-05-01T10:00:00??\": expected 'Z' or a UTC offset like +02:00");

    /* A missing output is the caller's mistake, not the text's. */
    cs_err_t err = {0};
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00Z", NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "cs_rfc3339_parse: out is NULL");
    cr_expect_eq(cs_rfc3339_parse_ns("2024-05-01T10:00:00Z", NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "cs_rfc3339_parse_ns: out_ns is NULL");
    /* err is optional. */
    int64_t t = 3;
    cr_expect_eq(cs_rfc3339_parse("nope", &t, NULL), CS_EPARSE);
    cr_expect_eq(t, 3);
}

Test(rfc3339, round_trips)
{
    /* Format then parse gives the value back, across the whole range, on
     * steps that visit every time of day and every day of a 400-year cycle. */
    char buf[CS_RFC3339_MICRO_SIZE];
    for (int64_t t = CS_RFC3339_MIN; t <= CS_RFC3339_MAX - 86400 * 97 - 3601; t += 86400 * 97 + 3601) {
        int64_t back = 0;
        cr_assert_eq(cs_rfc3339_parse(cs_rfc3339_format(t, buf, sizeof buf), &back, NULL), 0, "%s", buf);
        cr_assert_eq(back, t, "%s", buf);
    }
    for (int64_t t = 946684800 - 86400 * 400; t < 946684800 + 86400 * 400; t += 86399) {
        int64_t back = 0;
        cr_assert_eq(cs_rfc3339_parse(cs_rfc3339_format(t, buf, sizeof buf), &back, NULL), 0, "%s", buf);
        cr_assert_eq(back, t, "%s", buf);
    }
    /* MicroTime keeps microseconds: parse gives the value rounded down. */
    const int64_t step = INT64_C(3000000000123457);
    for (int64_t ns = INT64_C(-9223372036854775000);; ns += step) {
        int64_t back = 0, floor_us = ns - ((ns % 1000) + 1000) % 1000;
        cr_assert_eq(cs_rfc3339_parse_ns(cs_rfc3339_format_micro(ns, buf, sizeof buf), &back, NULL), 0, "%s", buf);
        cr_assert_eq(back, floor_us, "%s", buf);
        if (ns > INT64_MAX - step)
            break;
    }
}
