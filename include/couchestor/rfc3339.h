/* rfc3339.h: RFC 3339 times as Kubernetes writes and reads them, in exact
 * integers and without the C library's time zone state.
 *
 * Written: metav1.Time ("2024-05-01T10:00:00Z": UTC, whole seconds) and
 * metav1.MicroTime ("2024-05-01T10:00:00.123456Z": UTC, exactly six
 * fractional digits), as the API server's Go code formats them.
 * Read: anything RFC 3339 allows in those fields: 'T' or 't', a fraction of
 * 1 to 9 digits, 'Z', 'z' or an offset +hh:mm / -hh:mm. The calendar is the
 * proleptic Gregorian one; leap seconds (":60") are rejected, as Go's
 * time.Parse rejects them. */
#ifndef COUCHESTOR_RFC3339_H
#define COUCHESTOR_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

/* The Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the
 * times a four-digit year can write. */
#define CS_RFC3339_MIN INT64_C(-62135596800)
#define CS_RFC3339_MAX INT64_C(253402300799)

/* Buffer sizes that always suffice, NUL included. */
#define CS_RFC3339_SIZE 21       /* "2024-05-01T10:00:00Z" */
#define CS_RFC3339_MICRO_SIZE 28 /* "2024-05-01T10:00:00.123456Z" */

/* Parses an RFC 3339 time from untrusted text into Unix seconds, rounded
 * down (the fraction is dropped, as metav1.Time keeps whole seconds). Reads
 * at most 41 bytes of text, the quote in a message included. Accepts
 * CS_RFC3339_MIN..CS_RFC3339_MAX once the offset is applied. On failure returns CS_EPARSE (CS_EINVAL when out
 * is NULL), fills err with a message that quotes the text (at most 40
 * bytes, control and non-ASCII bytes as '?') and leaves *out untouched. */
int cs_rfc3339_parse(const char *text, int64_t *out, cs_err_t *err);

/* As cs_rfc3339_parse, into Unix nanoseconds with the whole fraction: the
 * reader of MicroTime. Accepts what int64_t nanoseconds can hold,
 * 1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z. */
int cs_rfc3339_parse_ns(const char *text, int64_t *out_ns, cs_err_t *err);

/* Formats Unix seconds as metav1.Time into buf and returns buf. Writes ""
 * (when len > 0) if unix_s is outside CS_RFC3339_MIN..CS_RFC3339_MAX or len
 * is below CS_RFC3339_SIZE; returns a static "" when buf is NULL or len 0,
 * so the result can always be used as a string. */
const char *cs_rfc3339_format(int64_t unix_s, char *buf, size_t len);

/* Formats Unix nanoseconds as metav1.MicroTime (rounded down to the
 * microsecond) into buf and returns buf; "" as cs_rfc3339_format when len
 * is below CS_RFC3339_MICRO_SIZE. Every int64_t value is in range. */
const char *cs_rfc3339_format_micro(int64_t unix_ns, char *buf, size_t len);

#endif
