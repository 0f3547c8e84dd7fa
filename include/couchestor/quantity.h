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

/* Parses untrusted text; a leading '+' or '-' is allowed. On failure *out
 * is unchanged and err says what is wrong with the text. */
int cs_quantity_parse(const char *text, int64_t *out, cs_err_t *err);

/* Parses a byte count typed by a person (a command-line flag: "65536",
 * "64Ki", "4M", "4mb", "1GiB", "1.5Mi", "1e6"); untrusted text. The number
 * is read as by cs_quantity_parse (fraction, exponent, leading '+'; leading
 * white space is skipped too) but the unit is a byte unit in either case:
 * k m g t p e are powers of 1000, ki mi gi ti pi ei powers of 1024, and
 * either may be followed by B; a lone B means bytes. So "1m" is 10^6 here,
 * not one thousandth. Accepts 0 .. 2^64-1; on failure *out is unchanged and
 * err says what is wrong with the text. */
int cs_quantity_parse_bytes(const char *text, uint64_t *out, cs_err_t *err);

/* Formats a byte count for people with the largest exact binary suffix
 * ("10Gi", "1536Mi", "4097"); returns buf. 32 bytes always suffice. */
const char *cs_quantity_format(int64_t value, char *buf, size_t len);

/* Formats a byte count approximately for people, in the largest binary unit
 * that leaves at least 1: one decimal below 100, none from 100 on ("12 B",
 * "1.5 KiB", "3.5 TiB", "447 GiB"); returns buf. 32 bytes always suffice. */
const char *cs_bytes_human(uint64_t bytes, char *buf, size_t len);

#endif
