/* Fuzz target: RFC 3339 parsing (untrusted text from the API server and
 * from CRD objects). Both readers agree with each other; a parsed value
 * formats and parses back to itself; the input's first 8 bytes, read as
 * a time, survive format -> parse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/rfc3339.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* x rounded down to a multiple of m (m > 0), or false when that is below
 * INT64_MIN. */
static int floor_to(int64_t x, int64_t m, int64_t *out)
{
    int64_t r = x % m;
    if (r < 0)
        r += m;
    return !__builtin_sub_overflow(x, r, out);
}

static void check_failure(int rc, const cs_err_t *err)
{
    if (rc != CS_EPARSE || err->code != CS_EPARSE || err->msg[0] == '\0' ||
        strnlen(err->msg, sizeof err->msg) >= sizeof err->msg)
        abort();
}

static void check_text(const char *text)
{
    int64_t s = 0, ns = 0, again = 0, want = 0;
    cs_err_t err = {0}, err_ns = {0};
    int rc = cs_rfc3339_parse(text, &s, &err);
    int rc_ns = cs_rfc3339_parse_ns(text, &ns, &err_ns);
    char buf[CS_RFC3339_MICRO_SIZE];
    if (rc != 0) {
        check_failure(rc, &err);
        /* Whatever the seconds reader rejects, the nanosecond one does too. */
        if (rc_ns == 0)
            abort();
        check_failure(rc_ns, &err_ns);
        return;
    }
    if (s < CS_RFC3339_MIN || s > CS_RFC3339_MAX)
        abort();
    if (cs_rfc3339_parse(cs_rfc3339_format(s, buf, sizeof buf), &again, NULL) != 0 || again != s)
        abort();
    if (rc_ns != 0) {
        /* Only the narrower range may make the nanosecond reader refuse. */
        check_failure(rc_ns, &err_ns);
        if (!strstr(err_ns.msg, "outside the years"))
            abort();
        return;
    }
    int64_t whole = ns / INT64_C(1000000000) - (ns % INT64_C(1000000000) < 0);
    if (whole != s)
        abort();
    if (floor_to(ns, 1000, &want)) {
        if (cs_rfc3339_parse_ns(cs_rfc3339_format_micro(ns, buf, sizeof buf), &again, NULL) != 0 || again != want)
            abort();
    }
}

static void check_value(int64_t v)
{
    char buf[CS_RFC3339_MICRO_SIZE];
    int64_t back = 0, want = 0;
    const char *text = cs_rfc3339_format(v, buf, sizeof buf);
    if (v >= CS_RFC3339_MIN && v <= CS_RFC3339_MAX) {
        if (cs_rfc3339_parse(text, &back, NULL) != 0 || back != v)
            abort();
    } else if (text[0] != '\0') {
        abort();
    }
    text = cs_rfc3339_format_micro(v, buf, sizeof buf);
    if (strlen(text) != CS_RFC3339_MICRO_SIZE - 1)
        abort();
    if (floor_to(v, 1000, &want) && (cs_rfc3339_parse_ns(text, &back, NULL) != 0 || back != want))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy, so that ASan sees a read past the terminator. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    check_text(text);
    free(text);
    if (size >= sizeof(int64_t)) {
        int64_t v;
        memcpy(&v, data, sizeof v);
        check_value(v);
    }
    return 0;
}
