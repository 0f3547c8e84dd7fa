/* json.h: typed access to jansson values with path-aware errors, e.g.
 * "spec.dataShards: expected integer, got string".
 *
 * Every getter takes the JSON path of the containing object (`path`, used
 * only in messages; "" or NULL for the root) and the field name. Return
 * values: 0 when the field was present and stored in *out; 1 when it is
 * absent or null and flags has CS_JSON_OPTIONAL (*out untouched); a negative
 * CS_E* code otherwise (CS_ENOTFOUND for a missing required field, CS_EPARSE
 * for a wrong type or out-of-range value). */
#ifndef COUCHESTOR_JSON_H
#define COUCHESTOR_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS_JSON_REQUIRED 0
#define CS_JSON_OPTIONAL 1

/* Deepest nesting any parser in this project accepts from outside. */
#define CS_JSON_MAX_DEPTH 64

/* "object", "array", "string", "integer", "number", "boolean", "null". */
const char *cs_json_type_name(const json_t *value);

/* Parses untrusted text (bounded by len) into a tree; rejects nesting deeper
 * than CS_JSON_MAX_DEPTH and duplicate keys. `what` names the input in
 * messages ("config file x.json", "response of GET /api/v1/..."). The caller
 * owns *out (json_decref). */
int cs_json_parse(const char *text, size_t len, const char *what, json_t **out, cs_err_t *err);

int cs_json_get_int(const json_t *obj, const char *path, const char *key, int flags, int64_t *out, cs_err_t *err);
/* As cs_json_get_int, and the value must lie in [min, max]. */
int cs_json_get_int_range(const json_t *obj, const char *path, const char *key, int flags, int64_t min, int64_t max,
                          int64_t *out, cs_err_t *err);
/* Accepts integers and reals. */
int cs_json_get_number(const json_t *obj, const char *path, const char *key, int flags, double *out, cs_err_t *err);
int cs_json_get_bool(const json_t *obj, const char *path, const char *key, int flags, bool *out, cs_err_t *err);
/* *out is borrowed from obj: valid while obj lives and is not modified. */
int cs_json_get_string(const json_t *obj, const char *path, const char *key, int flags, const char **out,
                       cs_err_t *err);
/* *out is borrowed from obj. */
int cs_json_get_object(const json_t *obj, const char *path, const char *key, int flags, const json_t **out,
                       cs_err_t *err);
int cs_json_get_array(const json_t *obj, const char *path, const char *key, int flags, const json_t **out,
                      cs_err_t *err);

/* Joins a path and a key ("spec" + "dataShards" -> "spec.dataShards") or an
 * index ("items" + 3 -> "items[3]") into buf; truncates safely. */
const char *cs_json_path_join(char *buf, size_t len, const char *path, const char *key);
const char *cs_json_path_index(char *buf, size_t len, const char *path, size_t index);

#endif
