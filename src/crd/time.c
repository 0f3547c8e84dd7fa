/* time.c: RFC 3339 times as Kubernetes writes them (metav1.Time: UTC, whole
 * seconds), without the C library's time zone state. */
#include <stdio.h>
#include <string.h>

#include "crd/crd_internal.h"

#define CS__MIN_UNIX INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define CS__MAX_UNIX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
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

int cs_crd_time_parse(const char *text, int64_t *out, cs_err_t *err)
{
    char shown[80];
    if (!text || !*text)
        return cs_err_set(err, CS_EPARSE, "empty time: expected RFC 3339, e.g. \"2024-05-01T10:00:00Z\"");
    cs__printable(text, 40, shown, sizeof shown);
    const char *s = text;
    int64_t y, mo, d, h, mi, sec;
    size_t n = strnlen(s, 64);
    if (n < 20 || !cs__digits(s, 4, &y) || s[4] != '-' || !cs__digits(s + 5, 2, &mo) || s[7] != '-' ||
        !cs__digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !cs__digits(s + 11, 2, &h) || s[13] != ':' ||
        !cs__digits(s + 14, 2, &mi) || s[16] != ':' || !cs__digits(s + 17, 2, &sec))
        return cs_err_set(err, CS_EPARSE, "time \"%s\" is not RFC 3339 (expected e.g. \"2024-05-01T10:00:00Z\")",
                          shown);
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || sec > 59)
        return cs_err_set(err, CS_EPARSE, "time \"%s\": date or time of day out of range", shown);
    s += 19;
    if (*s == '.') {
        int digits = 0;
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
        if (digits == 0 || digits > 9)
            return cs_err_set(err, CS_EPARSE, "time \"%s\": fraction must have 1 to 9 digits", shown);
    }
    int64_t offset = 0;
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        offset = 0;
    } else if ((*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':') {
        int64_t oh, om;
        if (!cs__digits(s + 1, 2, &oh) || !cs__digits(s + 4, 2, &om) || oh > 23 || om > 59)
            return cs_err_set(err, CS_EPARSE, "time \"%s\": bad UTC offset", shown);
        offset = (oh * 60 + om) * 60 * (*s == '-' ? -1 : 1);
    } else {
        return cs_err_set(err, CS_EPARSE, "time \"%s\": expected 'Z' or a UTC offset like +02:00", shown);
    }
    int64_t t = cs__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    if (t < CS__MIN_UNIX || t > CS__MAX_UNIX)
        return cs_err_set(err, CS_EPARSE, "time \"%s\" is outside years 0001-9999 in UTC", shown);
    *out = t;
    return 0;
}

const char *cs_crd_time_format(int64_t unix_seconds, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (unix_seconds < CS__MIN_UNIX || unix_seconds > CS__MAX_UNIX || len < 21)
        return buf;
    int64_t days = unix_seconds / 86400, rem = unix_seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y, m, d;
    cs__civil_from_days(days, &y, &m, &d);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60));
    return buf;
}
