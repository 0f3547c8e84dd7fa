/* internal.h: helpers shared by the files of the hw module; not public. */
#ifndef COUCHESTOR_HW_INTERNAL_H
#define COUCHESTOR_HW_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "couchestor/hw.h"

/* Tool output larger than this is not parsed (the runner's cap is lower by default). */
#define CS__HW_JSON_MAX ((size_t)16 * 1024 * 1024)

/* Parses text as a JSON object; NULL (and err set, "what: ...") otherwise. */
json_t *cs__hw_json_load(const char *text, size_t len, const char *what, cs_err_t *err);
/* A non-negative number, or a decimal string ("1,234", "308 K"). */
bool cs__hw_json_u64(const json_t *v, uint64_t *out);
/* A number within [lo, hi]. */
bool cs__hw_json_int(const json_t *v, long long lo, long long hi, long long *out);
/* Copies obj[key] when it is a string, cleaned as cs_hw_attr_clean does. */
void cs__hw_json_str(const json_t *obj, const char *key, char *out, size_t cap);

/* Sets every health field to unknown. */
void cs__hw_health_init(cs_hw_health_info_t *h);

#endif
