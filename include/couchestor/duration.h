/* duration.h: Go-style durations ("500ms", "90s", "1h30m", "1.5h") as
 * signed 64-bit nanoseconds. Units: ns, us (or µs), ms, s, m, h. */
#ifndef COUCHESTOR_DURATION_H
#define COUCHESTOR_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS_NSEC_PER_USEC INT64_C(1000)
#define CS_NSEC_PER_MSEC INT64_C(1000000)
#define CS_NSEC_PER_SEC INT64_C(1000000000)
#define CS_NSEC_PER_MIN (60 * CS_NSEC_PER_SEC)
#define CS_NSEC_PER_HOUR (60 * CS_NSEC_PER_MIN)

/* Parses untrusted text. Accepts "0" and sequences of <decimal><unit>
 * ("1h30m", "2.5s"); rejects empty input, a sign (durations here are never
 * negative), a missing or unknown unit, and values above INT64_MAX ns
 * (about 292 years), each with its own message. */
int cs_duration_parse(const char *text, int64_t *out_ns, cs_err_t *err);

/* Formats as Go does ("1h30m0s", "500ms", "0s") into buf; returns buf. A
 * buffer of 32 bytes always suffices. */
const char *cs_duration_format(int64_t ns, char *buf, size_t len);

#endif
