/* rfc3339.c: RFC 3339 parsing and formatting (rfc3339.h). */
#include "couchestor/rfc3339.h"

#include <stdbool.h>
#include <stdio.h>

#include "couchestor/duration.h"

/* Bytes of the text quoted in a message, and the size of the quote with
 * "..." and the NUL. */
#define CS__RFC3339_SHOW 40
#define CS__RFC3339_SHOWN_SIZE (CS__RFC3339_SHOW + 4)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), exact for every int64_t year this file passes. */
static int64_t cs__days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void cs__civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s. Stops at the first non-digit, so a short string
 * is never read past its NUL. */
static bool cs__digits(const char *s, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* The text as a message quotes it: bounded, and printable on a terminal. */
static const char *cs__shown(const char *text, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    for (; text[i] && i < CS__RFC3339_SHOW && o + 1 < len; i++) {
        unsigned char ch = (unsigned char)text[i];
        buf[o++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
    }
    if (text[i] && o + 4 <= len) {
        buf[o++] = '.';
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o] = '\0';
    return buf;
}

/* Reads text into UTC seconds and nanoseconds (0..999999999) without any
 * range check on the result: each public reader has its own. */
static int cs__read(const char *text, int64_t *secs, int64_t *nsec, cs_err_t *err)
{
    char shown[CS__RFC3339_SHOWN_SIZE];
    if (!text || !*text)
        return cs_err_set(err, CS_EPARSE, "empty time: expected RFC 3339, e.g. \"2024-05-01T10:00:00Z\"");
    const char *s = text;
    int64_t y, mo, d, h, mi, sec;
    /* Each test reads one more byte only when the ones before matched. */
    if (!cs__digits(s, 4, &y) || s[4] != '-' || !cs__digits(s + 5, 2, &mo) || s[7] != '-' ||
        !cs__digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !cs__digits(s + 11, 2, &h) || s[13] != ':' ||
        !cs__digits(s + 14, 2, &mi) || s[16] != ':' || !cs__digits(s + 17, 2, &sec))
        return cs_err_set(err, CS_EPARSE, "time \"%s\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")",
                          cs__shown(text, shown, sizeof shown));
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || sec > 59)
        return cs_err_set(err, CS_EPARSE, "time \"%s\": date or time of day out of range",
                          cs__shown(text, shown, sizeof shown));
    s += 19;
    int64_t frac = 0;
    if (*s == '.') {
        int digits = 0;
        /* A tenth digit is already an error: stop there. */
        for (s++; *s >= '0' && *s <= '9' && digits < 10; s++, digits++)
            frac = frac * 10 + (*s - '0');
        if (digits == 0 || digits > 9)
            return cs_err_set(err, CS_EPARSE, "time \"%s\": fraction must have 1 to 9 digits",
                              cs__shown(text, shown, sizeof shown));
        for (; digits < 9; digits++)
            frac *= 10;
    }
    int64_t offset = 0;
    if (*s == '\0') {
        return cs_err_set(err, CS_EPARSE, "time \"%s\": missing zone (Z or +hh:mm)",
                          cs__shown(text, shown, sizeof shown));
    } else if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        int64_t oh, om;
        if (!cs__digits(s + 1, 2, &oh) || s[3] != ':' || !cs__digits(s + 4, 2, &om) || oh > 23 || om > 59)
            return cs_err_set(err, CS_EPARSE, "time \"%s\": bad UTC offset", cs__shown(text, shown, sizeof shown));
        offset = (oh * 60 + om) * 60 * (*s == '-' ? -1 : 1);
        s += 6;
    } else {
        return cs_err_set(err, CS_EPARSE, "time \"%s\": expected 'Z' or a UTC offset like +02:00",
                          cs__shown(text, shown, sizeof shown));
    }
    if (*s)
        return cs_err_set(err, CS_EPARSE, "time \"%s\": unexpected text after the zone",
                          cs__shown(text, shown, sizeof shown));
    *secs = cs__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    *nsec = frac;
    return 0;
}

int cs_rfc3339_parse(const char *text, int64_t *out, cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_rfc3339_parse: out is NULL");
    int64_t secs = 0, nsec = 0;
    int result = cs__read(text, &secs, &nsec, err);
    if (result != 0)
        return result;
    if (secs < CS_RFC3339_MIN || secs > CS_RFC3339_MAX) {
        char shown[CS__RFC3339_SHOWN_SIZE];
        return cs_err_set(err, CS_EPARSE, "time \"%s\" is outside years 0001-9999 in UTC",
                          cs__shown(text, shown, sizeof shown));
    }
    *out = secs;
    return 0;
}

int cs_rfc3339_parse_ns(const char *text, int64_t *out_ns, cs_err_t *err)
{
    if (!out_ns)
        return cs_err_set(err, CS_EINVAL, "cs_rfc3339_parse_ns: out_ns is NULL");
    int64_t secs = 0, nsec = 0, ns;
    int result = cs__read(text, &secs, &nsec, err);
    if (result != 0)
        return result;
    /* Borrow a second so that the earliest representable time, whose whole
     * seconds alone are below INT64_MIN nanoseconds, still fits. */
    if (secs < 0 && nsec > 0) {
        secs++;
        nsec -= CS_NSEC_PER_SEC;
    }
    if (__builtin_mul_overflow(secs, CS_NSEC_PER_SEC, &ns) || __builtin_add_overflow(ns, nsec, &ns)) {
        char shown[CS__RFC3339_SHOWN_SIZE];
        return cs_err_set(err, CS_EPARSE, "time \"%s\": outside the years 1678-2261",
                          cs__shown(text, shown, sizeof shown));
    }
    *out_ns = ns;
    return 0;
}

/* "YYYY-MM-DDThh:mm:ss" of secs (in range) followed by tail into buf, whose
 * size the caller has checked. */
static void cs__write(int64_t secs, const char *tail, char *buf, size_t len)
{
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y, m, d;
    cs__civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%s", (int)y, (int)m, (int)d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), tail);
}

const char *cs_rfc3339_format(int64_t unix_s, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (unix_s < CS_RFC3339_MIN || unix_s > CS_RFC3339_MAX || len < CS_RFC3339_SIZE)
        return buf;
    cs__write(unix_s, "Z", buf, len);
    return buf;
}

const char *cs_rfc3339_format_micro(int64_t unix_ns, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (len < CS_RFC3339_MICRO_SIZE)
        return buf;
    int64_t secs = unix_ns / CS_NSEC_PER_SEC, frac = unix_ns % CS_NSEC_PER_SEC;
    if (frac < 0) {
        frac += CS_NSEC_PER_SEC;
        secs--;
    }
    char tail[9];
    snprintf(tail, sizeof tail, ".%06dZ", (int)(frac / CS_NSEC_PER_USEC));
    cs__write(secs, tail, buf, len);
    return buf;
}
