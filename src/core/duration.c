/* duration.c: Go-style duration parsing and formatting in exact integers. */
#include "couchestor/duration.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int64_t ns;
} cs__units[] = {
    {"ns", 1},
    {"us", CS_NSEC_PER_USEC},
    {"\xc2\xb5s", CS_NSEC_PER_USEC}, /* U+00B5 micro sign */
    {"\xce\xbcs", CS_NSEC_PER_USEC}, /* U+03BC Greek mu */
    {"ms", CS_NSEC_PER_MSEC},
    {"s", CS_NSEC_PER_SEC},
    {"m", CS_NSEC_PER_MIN},
    {"h", CS_NSEC_PER_HOUR},
};

#define CS__DURATION_SHOW 64

int cs_duration_parse(const char *text, int64_t *out_ns, cs_err_t *err)
{
    if (!text || !*text)
        return cs_err_set(err, CS_EPARSE, "empty duration: use a number and a unit, e.g. \"90s\" or \"1h30m\"");
    const char *s = text;
    if (*s == '-')
        return cs_err_set(err, CS_EPARSE, "duration \"%.*s\" is negative", CS__DURATION_SHOW, text);
    if (*s == '+')
        s++;
    if (strcmp(s, "0") == 0) {
        *out_ns = 0;
        return 0;
    }
    if (!*s)
        return cs_err_set(err, CS_EPARSE, "invalid duration \"%.*s\": no number", CS__DURATION_SHOW, text);
    uint64_t total = 0;
    while (*s) {
        /* integer part */
        uint64_t whole = 0;
        int digits = 0;
        int overflow = 0;
        while (*s >= '0' && *s <= '9') {
            if (whole > (UINT64_MAX - 9) / 10)
                overflow = 1;
            else
                whole = whole * 10 + (uint64_t)(*s - '0');
            s++;
            digits++;
        }
        /* fraction: keep up to 18 digits, ignore the rest (sub-nanosecond) */
        uint64_t frac = 0, scale = 1;
        int frac_digits = 0;
        if (*s == '.') {
            s++;
            while (*s >= '0' && *s <= '9') {
                if (scale < UINT64_C(1000000000000000000)) {
                    frac = frac * 10 + (uint64_t)(*s - '0');
                    scale *= 10;
                }
                s++;
                frac_digits++;
            }
        }
        if (digits == 0 && frac_digits == 0)
            return cs_err_set(err, CS_EPARSE, "invalid duration \"%.*s\": expected a number at \"%.*s\"",
                              CS__DURATION_SHOW, text, 16, s);
        const char *unit_start = s;
        while (*s && !(*s >= '0' && *s <= '9') && *s != '.')
            s++;
        size_t unit_len = (size_t)(s - unit_start);
        if (unit_len == 0)
            return cs_err_set(err, CS_EPARSE, "invalid duration \"%.*s\": missing unit (use ns, us, ms, s, m or h)",
                              CS__DURATION_SHOW, text);
        int64_t unit = 0;
        for (size_t i = 0; i < sizeof cs__units / sizeof cs__units[0]; i++) {
            if (strlen(cs__units[i].name) == unit_len && memcmp(cs__units[i].name, unit_start, unit_len) == 0) {
                unit = cs__units[i].ns;
                break;
            }
        }
        if (!unit)
            return cs_err_set(err, CS_EPARSE,
                              "invalid duration \"%.*s\": unknown unit \"%.*s\" (use ns, us, ms, s, m or h)",
                              CS__DURATION_SHOW, text, (int)(unit_len > 16 ? 16 : unit_len), unit_start);
        uint64_t part;
        if (overflow || __builtin_mul_overflow(whole, (uint64_t)unit, &part))
            goto too_big;
        if (frac) {
            /* frac/scale * unit, exact enough: unit <= 3.6e12, frac < 1e18 */
            unsigned __int128 f = (unsigned __int128)frac * (uint64_t)unit / scale;
            if (__builtin_add_overflow(part, (uint64_t)f, &part))
                goto too_big;
        }
        if (__builtin_add_overflow(total, part, &total) || total > (uint64_t)INT64_MAX)
            goto too_big;
    }
    *out_ns = (int64_t)total;
    return 0;
too_big:
    return cs_err_set(err, CS_EPARSE, "duration \"%.*s\" is too large (the maximum is 2562047h47m16.854775807s)",
                      CS__DURATION_SHOW, text);
}

/* Writes v/10^prec with trailing zeros (and a bare '.') removed. */
static int cs__fmt_frac(char *buf, size_t len, uint64_t v, int prec)
{
    uint64_t p10 = 1;
    for (int i = 0; i < prec; i++)
        p10 *= 10;
    uint64_t whole = v / p10, frac = v % p10;
    if (frac == 0)
        return snprintf(buf, len, "%" PRIu64, whole);
    char digits[24];
    snprintf(digits, sizeof digits, "%0*" PRIu64, prec, frac);
    size_t n = strlen(digits);
    while (n > 0 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return snprintf(buf, len, "%" PRIu64 ".%s", whole, digits);
}

const char *cs_duration_format(int64_t ns, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    uint64_t u = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    const char *sign = ns < 0 ? "-" : "";
    char num[40];
    if (u == 0) {
        snprintf(buf, len, "0s");
    } else if (u < (uint64_t)CS_NSEC_PER_USEC) {
        snprintf(buf, len, "%s%" PRIu64 "ns", sign, u);
    } else if (u < (uint64_t)CS_NSEC_PER_MSEC) {
        cs__fmt_frac(num, sizeof num, u, 3);
        snprintf(buf, len, "%s%s\xc2\xb5s", sign, num);
    } else if (u < (uint64_t)CS_NSEC_PER_SEC) {
        cs__fmt_frac(num, sizeof num, u, 6);
        snprintf(buf, len, "%s%sms", sign, num);
    } else {
        uint64_t hours = u / (uint64_t)CS_NSEC_PER_HOUR;
        uint64_t rest = u % (uint64_t)CS_NSEC_PER_HOUR;
        uint64_t mins = rest / (uint64_t)CS_NSEC_PER_MIN;
        rest %= (uint64_t)CS_NSEC_PER_MIN;
        cs__fmt_frac(num, sizeof num, rest, 9);
        if (hours)
            snprintf(buf, len, "%s%" PRIu64 "h%" PRIu64 "m%ss", sign, hours, mins, num);
        else if (mins)
            snprintf(buf, len, "%s%" PRIu64 "m%ss", sign, mins, num);
        else
            snprintf(buf, len, "%s%ss", sign, num);
    }
    return buf;
}
