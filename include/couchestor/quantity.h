/* quantity.h: Kubernetes resource quantities ("10Gi", "500M", "1.5Ti",
 * "1e3", "4096") as exact 64-bit integers.
 *
 * Suffixes: binary Ki Mi Gi Ti Pi Ei; decimal n u m k M G T P E; or a
 * decimal exponent e/E[+-]N. Arithmetic is exact (no floating point): a
 * value that is not a whole number ("100m", "1.5") or does not fit in int64
 * is rejected. */
#ifndef COUCHESTOR_QUANTITY_H
#define COUCHESTOR_QUANTITY_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

/* Parses untrusted text; a leading '+' or '-' is allowed. */
int cs_quantity_parse(const char *text, int64_t *out, cs_err_t *err);

/* Formats a byte count for people with the largest exact binary suffix
 * ("10Gi", "1536Mi", "4097"); returns buf. 32 bytes always suffice. */
const char *cs_quantity_format(int64_t value, char *buf, size_t len);

/* Formats a byte count approximately for people ("1.5 GiB"); returns buf. */
const char *cs_bytes_human(uint64_t bytes, char *buf, size_t len);

#endif
