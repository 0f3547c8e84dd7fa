/* quantity.c: Kubernetes quantity parsing with exact 128-bit arithmetic. */
#include "couchestor/quantity.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef __int128 cs__i128;

#define CS__Q_SHOW 64
#define CS__Q_MAX_DIGITS 36
#define CS__Q_MAX_EXP 38

static int cs__pow10(int e, cs__i128 *out)
{
    cs__i128 v = 1;
    for (int i = 0; i < e; i++) {
        if (__builtin_mul_overflow(v, 10, &v))
            return -1;
    }
    *out = v;
    return 0;
}

int cs_quantity_parse(const char *text, int64_t *out, cs_err_t *err)
{
    if (!text || !*text)
        return cs_err_set(err, CS_EPARSE,
                          "empty quantity: use a number with an optional suffix, e.g. \"10Gi\" or \"500M\"");
    const char *s = text;
    int negative = 0;
    if (*s == '+' || *s == '-') {
        negative = *s == '-';
        s++;
    }
    cs__i128 mantissa = 0;
    int digits = 0, frac_digits = 0, significant = 0;
    while (*s >= '0' && *s <= '9') {
        if (significant || *s != '0')
            significant++;
        mantissa = mantissa * 10 + (*s - '0');
        digits++;
        s++;
        if (significant > CS__Q_MAX_DIGITS)
            goto too_long;
    }
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            if (significant || *s != '0')
                significant++;
            mantissa = mantissa * 10 + (*s - '0');
            frac_digits++;
            s++;
            if (significant > CS__Q_MAX_DIGITS || frac_digits > CS__Q_MAX_EXP)
                goto too_long;
        }
    }
    if (digits == 0 && frac_digits == 0)
        return cs_err_set(err, CS_EPARSE, "invalid quantity \"%.*s\": expected a number", CS__Q_SHOW, text);

    int dec_exp = 0; /* value = mantissa * 10^dec_exp * 2^bin_exp / 10^frac_digits */
    int bin_exp = 0;
    const char *suffix = s;
    if ((*s == 'e' || *s == 'E') && s[1] != 'i') {
        /* "E" alone is exa; "e"/"E" followed by a signed integer is an exponent. */
        const char *p = s + 1;
        int esign = 1;
        if (*p == '+' || *p == '-') {
            esign = *p == '-' ? -1 : 1;
            p++;
        }
        if (*p >= '0' && *p <= '9') {
            int e = 0;
            while (*p >= '0' && *p <= '9') {
                e = e * 10 + (*p - '0');
                if (e > 1000)
                    e = 1000;
                p++;
            }
            if (*p)
                goto bad_suffix;
            dec_exp = esign * e;
            s = p;
        } else if (*s == 'E' && *p == '\0') {
            dec_exp = 18;
            s = p;
        } else {
            goto bad_suffix;
        }
    } else if (*s) {
        static const struct {
            const char *name;
            int dec, bin;
        } sfx[] = {
            {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60}, {"n", -9, 0},
            {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},   {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},
        };
        size_t i;
        for (i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
            if (strcmp(s, sfx[i].name) == 0) {
                dec_exp = sfx[i].dec;
                bin_exp = sfx[i].bin;
                break;
            }
        }
        if (i == sizeof sfx / sizeof sfx[0])
            goto bad_suffix;
    }

    if (mantissa == 0) {
        *out = 0;
        return 0;
    }
    int den_exp = frac_digits - dec_exp;
    cs__i128 num = mantissa;
    if (den_exp < 0) {
        cs__i128 p;
        if (-den_exp > CS__Q_MAX_EXP || cs__pow10(-den_exp, &p) || __builtin_mul_overflow(num, p, &num))
            goto too_big;
        den_exp = 0;
    }
    for (int i = 0; i < bin_exp; i++)
        if (__builtin_mul_overflow(num, 2, &num))
            goto too_big;
    if (den_exp > 0) {
        cs__i128 den;
        if (den_exp > CS__Q_MAX_EXP || cs__pow10(den_exp, &den) || num % den != 0)
            return cs_err_set(err, CS_EPARSE,
                              "quantity \"%.*s\" is not a whole number; use a larger unit or no fraction", CS__Q_SHOW,
                              text);
        num /= den;
    }
    if (num > (cs__i128)INT64_MAX)
        goto too_big;
    *out = negative ? -(int64_t)num : (int64_t)num;
    return 0;

bad_suffix:
    return cs_err_set(err, CS_EPARSE,
                      "invalid quantity \"%.*s\": unknown suffix \"%.*s\" (use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, "
                      "E, m or an exponent like e3)",
                      CS__Q_SHOW, text, 16, suffix);
too_long:
    return cs_err_set(err, CS_EPARSE, "invalid quantity \"%.*s\": too many digits", CS__Q_SHOW, text);
too_big:
    return cs_err_set(err, CS_EPARSE, "quantity \"%.*s\" is too large (the maximum is 2^63-1)", CS__Q_SHOW, text);
}

const char *cs_quantity_format(int64_t value, char *buf, size_t len)
{
    static const char *const names[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    uint64_t u = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    int i = 0;
    while (u != 0 && i < 6 && (u & 1023) == 0) {
        u >>= 10;
        i++;
    }
    snprintf(buf, len, "%s%" PRIu64 "%s", value < 0 ? "-" : "", u, names[i]);
    return buf;
}

const char *cs_bytes_human(uint64_t bytes, char *buf, size_t len)
{
    static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    int i = 0;
    while (v >= 1024.0 && i < 6) {
        v /= 1024.0;
        i++;
    }
    if (i == 0)
        snprintf(buf, len, "%" PRIu64 " B", bytes);
    else
        snprintf(buf, len, "%.1f %s", v, names[i]);
    return buf;
}
