/* json.c: typed, path-aware access to jansson values and bounded parsing. */
#include "couchestor/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *cs_json_type_name(const json_t *value)
{
    if (!value)
        return "nothing";
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

const char *cs_json_path_join(char *buf, size_t len, const char *path, const char *key)
{
    if (path && *path)
        snprintf(buf, len, "%s.%s", path, key);
    else
        snprintf(buf, len, "%s", key);
    return buf;
}

const char *cs_json_path_index(char *buf, size_t len, const char *path, size_t index)
{
    snprintf(buf, len, "%s[%zu]", path ? path : "", index);
    return buf;
}

/* Depth check: jansson has its own (large) limit; ours is tighter. */
static int cs__json_depth_ok(const json_t *v, int depth)
{
    if (depth > CS_JSON_MAX_DEPTH)
        return 0;
    if (json_is_object(v)) {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child)
        {
            if (!cs__json_depth_ok(child, depth + 1))
                return 0;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child)
        {
            if (!cs__json_depth_ok(child, depth + 1))
                return 0;
        }
    }
    return 1;
}

/* Cheap pre-scan so that deep input is refused before jansson recurses. */
static int cs__json_prescan_depth(const char *text, size_t len)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"')
            in_string = 1;
        else if (c == '{' || c == '[') {
            if (++depth > CS_JSON_MAX_DEPTH)
                return 0;
        } else if (c == '}' || c == ']')
            depth--;
    }
    return 1;
}

int cs_json_parse(const char *text, size_t len, const char *what, json_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!what)
        what = "JSON input";
    if (!text)
        return cs_err_set(err, CS_EINVAL, "%s: no input", what);
    if (!cs__json_prescan_depth(text, len))
        return cs_err_set(err, CS_EPARSE, "%s: nesting deeper than %d levels", what, CS_JSON_MAX_DEPTH);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!root)
        return cs_err_set(err, CS_EPARSE, "%s: line %d column %d: %s", what, jerr.line, jerr.column, jerr.text);
    if (!cs__json_depth_ok(root, 1)) {
        json_decref(root);
        return cs_err_set(err, CS_EPARSE, "%s: nesting deeper than %d levels", what, CS_JSON_MAX_DEPTH);
    }
    *out = root;
    return 0;
}

/* Looks up obj[key]; returns 1 when absent/null and optional, <0 on error.
 * *value is NULL unless 0 is returned. */
static int cs__field(const json_t *obj, const char *path, const char *key, int flags, const json_t **value,
                     cs_err_t *err)
{
    char full[256];
    *value = NULL;
    if (!obj || !json_is_object(obj)) {
        if (flags & CS_JSON_OPTIONAL)
            return 1;
        return cs_err_set(err, CS_ENOTFOUND, "%s: required field is missing",
                          cs_json_path_join(full, sizeof full, path, key));
    }
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) {
        if (flags & CS_JSON_OPTIONAL)
            return 1;
        return cs_err_set(err, CS_ENOTFOUND, "%s: required field is missing",
                          cs_json_path_join(full, sizeof full, path, key));
    }
    *value = v;
    return 0;
}

static int cs__type_error(const char *path, const char *key, const char *want, const json_t *got, cs_err_t *err)
{
    char full[256];
    return cs_err_set(err, CS_EPARSE, "%s: expected %s, got %s", cs_json_path_join(full, sizeof full, path, key), want,
                      cs_json_type_name(got));
}

int cs_json_get_int(const json_t *obj, const char *path, const char *key, int flags, int64_t *out, cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    /* A real with an integral value (1e3, 5.0) is accepted, as Kubernetes'
     * JSON decoding of int64 fields does. */
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && d >= -9.2e18 && d <= 9.2e18) {
            *out = (int64_t)d;
            return 0;
        }
    }
    return cs__type_error(path, key, "integer", v, err);
}

int cs_json_get_int_range(const json_t *obj, const char *path, const char *key, int flags, int64_t min, int64_t max,
                          int64_t *out, cs_err_t *err)
{
    int64_t value = 0;
    int rc = cs_json_get_int(obj, path, key, flags, &value, err);
    if (rc != 0)
        return rc;
    if (value < min || value > max) {
        char full[256];
        return cs_err_set(err, CS_EPARSE, "%s: %" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]",
                          cs_json_path_join(full, sizeof full, path, key), value, min, max);
    }
    *out = value;
    return 0;
}

int cs_json_get_number(const json_t *obj, const char *path, const char *key, int flags, double *out, cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (!json_is_number(v))
        return cs__type_error(path, key, "number", v, err);
    *out = json_number_value(v);
    return 0;
}

int cs_json_get_bool(const json_t *obj, const char *path, const char *key, int flags, bool *out, cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (!json_is_boolean(v))
        return cs__type_error(path, key, "boolean", v, err);
    *out = json_is_true(v);
    return 0;
}

int cs_json_get_string(const json_t *obj, const char *path, const char *key, int flags, const char **out, cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (!json_is_string(v))
        return cs__type_error(path, key, "string", v, err);
    *out = json_string_value(v);
    return 0;
}

int cs_json_get_object(const json_t *obj, const char *path, const char *key, int flags, const json_t **out,
                       cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (!json_is_object(v))
        return cs__type_error(path, key, "object", v, err);
    *out = v;
    return 0;
}

int cs_json_get_array(const json_t *obj, const char *path, const char *key, int flags, const json_t **out,
                      cs_err_t *err)
{
    const json_t *v;
    int rc = cs__field(obj, path, key, flags, &v, err);
    if (rc != 0)
        return rc;
    if (!json_is_array(v))
        return cs__type_error(path, key, "array", v, err);
    *out = v;
    return 0;
}
