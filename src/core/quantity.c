/* quantity.c: Kubernetes quantity parsing with exact 128-bit arithmetic. */
#include "couchestor/quantity.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
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

/* "e"/"E" and a signed integer, to the end of s: a decimal exponent. */
static bool cs__exponent(const char *s, int *dec_exp)
{
    const char *p = s + 1;
    int esign = 1;
    if (*p == '+' || *p == '-') {
        esign = *p == '-' ? -1 : 1;
        p++;
    }
    if (*p < '0' || *p > '9')
        return false;
    int e = 0;
    while (*p >= '0' && *p <= '9') {
        e = e * 10 + (*p - '0');
        if (e > 1000)
            e = 1000;
        p++;
    }
    if (*p)
        return false;
    *dec_exp = esign * e;
    return true;
}

static bool cs__k8s_suffix(const char *s, int *dec_exp, int *bin_exp)
{
    static const struct {
        const char *name;
        int dec, bin;
    } sfx[] = {
        {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50},
        {"Ei", 0, 60}, {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"k", 3, 0},
        {"M", 6, 0},   {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
    };
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        if (strcmp(s, sfx[i].name) == 0) {
            *dec_exp = sfx[i].dec;
            *bin_exp = sfx[i].bin;
            return true;
        }
    }
    return false;
}

/* A byte unit in either case: [kmgtpe][i][b], or a lone b. */
static bool cs__byte_unit(const char *s, int *dec_exp, int *bin_exp)
{
    static const char letters[] = "kmgtpe";
    int power = 0;
    const char *l = *s ? strchr(letters, tolower((unsigned char)*s)) : NULL;
    if (l) {
        power = (int)(l - letters) + 1;
        s++;
    }
    bool binary = power && (*s == 'i' || *s == 'I');
    if (binary)
        s++;
    if (*s == 'b' || *s == 'B')
        s++;
    if (*s)
        return false;
    if (binary)
        *bin_exp = 10 * power;
    else
        *dec_exp = 3 * power;
    return true;
}

/* The exact value of text as a Kubernetes quantity (bytes false) or as a
 * byte count typed by a person (bytes true), at most max in magnitude. */
static int cs__parse(const char *text, bool bytes, cs__i128 max, cs__i128 *out, cs_err_t *err)
{
    const char *what = bytes ? "size" : "quantity";
    if (!text || !*text)
        return bytes ? cs_err_set(err, CS_EPARSE,
                                  "empty size: use a number of bytes with an optional unit, e.g. \"64Ki\" or \"4M\"")
                     : cs_err_set(err, CS_EPARSE,
                                  "empty quantity: use a number with an optional suffix, e.g. \"10Gi\" or \"500M\"");
    const char *s = text;
    if (bytes) {
        /* The CLI read sizes with strtoull, which skips it: keep accepting that. */
        while (isspace((unsigned char)*s))
            s++;
    }
    int negative = 0;
    if (*s == '+' || *s == '-') {
        negative = *s == '-';
        s++;
    }
    if (bytes && negative)
        return cs_err_set(err, CS_EPARSE, "invalid size \"%.*s\": a number of bytes cannot be negative", CS__Q_SHOW,
                          text);
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
        return cs_err_set(err, CS_EPARSE, "invalid %s \"%.*s\": expected a number", what, CS__Q_SHOW, text);

    int dec_exp = 0; /* value = mantissa * 10^dec_exp * 2^bin_exp / 10^frac_digits */
    int bin_exp = 0;
    const char *suffix = s;
    if (*s && !((*s == 'e' || *s == 'E') && cs__exponent(s, &dec_exp)) &&
        !(bytes ? cs__byte_unit(s, &dec_exp, &bin_exp) : cs__k8s_suffix(s, &dec_exp, &bin_exp)))
        goto bad_suffix;

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
            return bytes ? cs_err_set(err, CS_EPARSE, "size \"%.*s\" is not a whole number of bytes", CS__Q_SHOW, text)
                         : cs_err_set(err, CS_EPARSE,
                                      "quantity \"%.*s\" is not a whole number; use a larger unit or no fraction",
                                      CS__Q_SHOW, text);
        num /= den;
    }
    if (num > max)
        goto too_big;
    *out = negative ? -num : num;
    return 0;

bad_suffix:
    if (bytes)
        return cs_err_set(err, CS_EPARSE,
                          "invalid size \"%.*s\": unknown unit \"%.*s\" (use k, M, G, T, P, E for powers of 1000, "
                          "Ki, Mi, Gi, Ti, Pi, Ei for powers of 1024, optionally followed by B; e.g. 64Ki, 4MB)",
                          CS__Q_SHOW, text, 16, suffix);
    return cs_err_set(err, CS_EPARSE,
                      "invalid quantity \"%.*s\": unknown suffix \"%.*s\" (use Ki, Mi, Gi, Ti, Pi, Ei, k, M, G, T, P, "
                      "E, m or an exponent like e3)",
                      CS__Q_SHOW, text, 16, suffix);
too_long:
    return cs_err_set(err, CS_EPARSE, "invalid %s \"%.*s\": too many digits", what, CS__Q_SHOW, text);
too_big:
    return bytes
               ? cs_err_set(err, CS_EPARSE, "size \"%.*s\" is too large (the maximum is 2^64-1 bytes)", CS__Q_SHOW,
                            text)
               : cs_err_set(err, CS_EPARSE, "quantity \"%.*s\" is too large (the maximum is 2^63-1)", CS__Q_SHOW, text);
}

int cs_quantity_parse(const char *text, int64_t *out, cs_err_t *err)
{
    cs__i128 v = 0;
    int rc = cs__parse(text, false, INT64_MAX, &v, err);
    if (rc == 0)
        *out = (int64_t)v;
    return rc;
}

int cs_quantity_parse_bytes(const char *text, uint64_t *out, cs_err_t *err)
{
    cs__i128 v = 0;
    int rc = cs__parse(text, true, UINT64_MAX, &v, err);
    if (rc == 0)
        *out = (uint64_t)v;
    return rc;
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
    /* Three significant digits are what a person compares; a decimal on
     * "447 GiB" would only widen table columns. */
    if (i == 0)
        snprintf(buf, len, "%" PRIu64 " B", bytes);
    else
        snprintf(buf, len, v >= 100 ? "%.0f %s" : "%.1f %s", v, names[i]);
    return buf;
}
