/* common.c: field readers, ObjectMeta and the checks both custom resources
 * share. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "couchestor/json.h"
#include "couchestor/rfc3339.h"
#include "crd/crd_internal.h"

void cs__put(json_t *obj, const char *key, json_t *value, bool *oom)
{
    if (!value || json_object_set_new(obj, key, value) != 0)
        *oom = true;
}

void cs__get_int(cs__dec_t *d, const json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                 int64_t *out)
{
    cs_err_t e = {0};
    int rc = cs_json_get_int_range(obj, path, key, CS_JSON_OPTIONAL, min, max, out, &e);
    if (rc < 0)
        cs__problem_rc(d, rc, &e);
}

void cs__get_number(cs__dec_t *d, const json_t *obj, const char *path, const char *key, double *out)
{
    cs_err_t e = {0};
    int rc = cs_json_get_number(obj, path, key, CS_JSON_OPTIONAL, out, &e);
    if (rc < 0)
        cs__problem_rc(d, rc, &e);
}

void cs__get_bool(cs__dec_t *d, const json_t *obj, const char *path, const char *key, bool *out)
{
    cs_err_t e = {0};
    int rc = cs_json_get_bool(obj, path, key, CS_JSON_OPTIONAL, out, &e);
    if (rc < 0)
        cs__problem_rc(d, rc, &e);
}

void cs__get_str(cs__dec_t *d, const json_t *obj, const char *path, const char *key, bool required, bool empty_is_null,
                 char **out)
{
    cs_err_t e = {0};
    const char *v = NULL;
    int rc = cs_json_get_string(obj, path, key, required ? CS_JSON_REQUIRED : CS_JSON_OPTIONAL, &v, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
        return;
    }
    if (rc > 0)
        return;
    if (empty_is_null && *v == '\0')
        v = NULL;
    if (!cs__set_str(out, v))
        d->oom = true;
}

void cs__get_time(cs__dec_t *d, const json_t *obj, const char *path, const char *key, int64_t *out)
{
    cs_err_t e = {0};
    const char *v = NULL;
    int rc = cs_json_get_string(obj, path, key, CS_JSON_OPTIONAL, &v, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
        return;
    }
    if (rc > 0)
        return;
    int64_t t;
    if (cs_rfc3339_parse(v, &t, &e) != 0) {
        char full[256];
        cs__problem(d, "%s: %s", cs_json_path_join(full, sizeof full, path, key), e.msg);
        return;
    }
    *out = t;
}

void cs__reject_unknown(cs__dec_t *d, const json_t *obj, const char *path, const char *const *known, size_t n_known)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        const char *hint = NULL;
        size_t i;
        for (i = 0; i < n_known; i++) {
            if (strcmp(key, known[i]) == 0)
                break;
            if (strcasecmp(key, known[i]) == 0)
                hint = known[i];
        }
        if (i < n_known)
            continue;
        char shown[100];
        cs__printable(key, 64, shown, sizeof shown);
        if (hint)
            cs__problem(d, "%s.%s: unknown field (did you mean %s.%s?)", path, shown, path, hint);
        else
            cs__problem(d, "%s.%s: unknown field", path, shown);
    }
}

void cs__get_selector(cs__dec_t *d, const json_t *obj, const char *path, const char *key, cs_selector_t **out)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return;
    char full[256];
    cs_json_path_join(full, sizeof full, path, key);
    cs_selector_t *sel = calloc(1, sizeof *sel);
    if (!sel) {
        d->oom = true;
        return;
    }
    cs_err_t e = {0};
    int rc = cs_selector_from_json(v, full, sel, &e);
    if (rc != 0) {
        cs_selector_free(sel);
        free(sel);
        cs__problem_rc(d, rc, &e);
        return;
    }
    *out = sel;
}

/* ---- ObjectMeta ------------------------------------------------------- */

void cs_object_meta_free(cs_object_meta_t *meta)
{
    if (!meta)
        return;
    free(meta->name);
    free(meta->uid);
    free(meta->resource_version);
    cs_labels_free(&meta->labels);
    cs_labels_free(&meta->annotations);
    memset(meta, 0, sizeof *meta);
}

static void cs__decode_annotations(cs__dec_t *d, const json_t *obj, cs_labels_t *out)
{
    const char *key;
    json_t *value;
    if (!json_is_object(obj)) {
        cs__problem(d, "metadata.annotations: expected object, got %s", cs_json_type_name(obj));
        return;
    }
    json_object_foreach((json_t *)obj, key, value)
    {
        if (!json_is_string(value)) {
            char shown[100];
            cs__problem(d, "metadata.annotations.%s: expected string, got %s",
                        cs__printable(key, 64, shown, sizeof shown), cs_json_type_name(value));
            continue;
        }
        if (cs_labels_set(out, key, json_string_value(value)) != 0) {
            d->oom = true;
            return;
        }
    }
}

void cs__decode_header(cs__dec_t *d, const json_t *obj, const char *kind, cs_object_meta_t *meta)
{
    cs_err_t e = {0};
    const char *s = NULL;
    char shown[100];
    int rc = cs_json_get_string(obj, "", "apiVersion", CS_JSON_OPTIONAL, &s, &e);
    if (rc < 0)
        cs__problem_rc(d, rc, &e);
    else if (rc == 0 && strcmp(s, CS_CRD_API_VERSION) != 0)
        cs__problem(d, "apiVersion: expected %s, got \"%s\"", CS_CRD_API_VERSION,
                    cs__printable(s, 64, shown, sizeof shown));
    rc = cs_json_get_string(obj, "", "kind", CS_JSON_OPTIONAL, &s, &e);
    if (rc < 0)
        cs__problem_rc(d, rc, &e);
    else if (rc == 0 && strcmp(s, kind) != 0)
        cs__problem(d, "kind: expected %s, got \"%s\"", kind, cs__printable(s, 64, shown, sizeof shown));

    const json_t *m = NULL;
    rc = cs_json_get_object(obj, "", "metadata", CS_JSON_REQUIRED, &m, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
        return;
    }
    cs__get_str(d, m, "metadata", "name", true, false, &meta->name);
    if (meta->name && !*meta->name)
        cs__problem(d, "metadata.name must not be empty");
    cs__get_str(d, m, "metadata", "uid", false, true, &meta->uid);
    cs__get_str(d, m, "metadata", "resourceVersion", false, true, &meta->resource_version);
    cs__get_int(d, m, "metadata", "generation", 0, INT64_MAX, &meta->generation);
    cs__get_time(d, m, "metadata", "creationTimestamp", &meta->creation_timestamp);
    const json_t *labels = json_object_get(m, "labels");
    if (labels && !json_is_null(labels)) {
        rc = cs_labels_from_json(labels, "metadata.labels", &meta->labels, &e);
        if (rc != 0)
            cs__problem_rc(d, rc, &e);
    }
    const json_t *ann = json_object_get(m, "annotations");
    if (ann && !json_is_null(ann))
        cs__decode_annotations(d, ann, &meta->annotations);
}

static json_t *cs__annotations_to_json(const cs_labels_t *ann)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    for (size_t i = 0; i < ann->count; i++) {
        if (json_object_set_new(o, ann->items[i].key, json_string(ann->items[i].value)) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

bool cs__encode_header(json_t *obj, const char *kind, const cs_object_meta_t *meta)
{
    bool oom = false;
    cs__put(obj, "apiVersion", json_string(CS_CRD_API_VERSION), &oom);
    cs__put(obj, "kind", json_string(kind), &oom);
    json_t *m = json_object();
    if (!m)
        return false;
    if (meta->name)
        cs__put(m, "name", json_string(meta->name), &oom);
    if (meta->uid)
        cs__put(m, "uid", json_string(meta->uid), &oom);
    if (meta->resource_version)
        cs__put(m, "resourceVersion", json_string(meta->resource_version), &oom);
    if (meta->generation)
        cs__put(m, "generation", json_integer(meta->generation), &oom);
    if (meta->creation_timestamp) {
        char t[CS_RFC3339_SIZE];
        cs__put(m, "creationTimestamp", json_string(cs_rfc3339_format(meta->creation_timestamp, t, sizeof t)), &oom);
    }
    if (meta->labels.count)
        cs__put(m, "labels", cs_labels_to_json(&meta->labels), &oom);
    if (meta->annotations.count)
        cs__put(m, "annotations", cs__annotations_to_json(&meta->annotations), &oom);
    cs__put(obj, "metadata", m, &oom);
    return !oom;
}

/* ---- names and selectors ------------------------------------------------ */

static bool cs__lower_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* A DNS subdomain (RFC 1123), as Kubernetes requires of object names: labels of
 * lower-case alphanumerics and '-', each starting and ending with an
 * alphanumeric, joined by '.' (so no "..", ".-" or "-."). */
bool cs__object_name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool inner = i > 0 && i < n - 1;
        if (c == '.') {
            if (!inner || !cs__lower_alnum(name[i - 1]) || !cs__lower_alnum(name[i + 1]))
                return false;
        } else if (c == '-') {
            if (!inner) /* a '-' next to a '.' fails that '.' */
                return false;
        } else if (!cs__lower_alnum(c)) {
            return false;
        }
    }
    return true;
}

bool cs__selector_check(const cs_selector_t *sel, char *msg, size_t len)
{
    cs_err_t e = {0};
    for (size_t i = 0; i < sel->count; i++) {
        const cs_requirement_t *r = &sel->reqs[i];
        if (cs_label_key_validate(r->key, &e) != 0) {
            snprintf(msg, len, "%s", e.msg);
            return false;
        }
        bool wants_values = r->op == CS_SEL_IN || r->op == CS_SEL_NOT_IN;
        if (wants_values && r->value_count == 0) {
            snprintf(msg, len, "requirement on \"%.63s\" needs at least one value", r->key);
            return false;
        }
        if (!wants_values && r->value_count != 0) {
            snprintf(msg, len, "requirement on \"%.63s\" must not have values", r->key);
            return false;
        }
        for (size_t j = 0; j < r->value_count; j++) {
            if (cs_label_value_validate(r->values[j], &e) != 0) {
                snprintf(msg, len, "%s", e.msg);
                return false;
            }
        }
    }
    return true;
}

int cs__encode_object(const char *kind, const cs_object_meta_t *meta, json_t *spec, json_t *status, json_t **out,
                      cs_err_t *err)
{
    *out = NULL;
    json_t *o = json_object();
    bool oom = !o || !cs__encode_header(o, kind, meta);
    if (!oom) {
        cs__put(o, "spec", spec, &oom);
        cs__put(o, "status", status, &oom);
    } else {
        json_decref(spec);
        json_decref(status);
    }
    if (oom) {
        json_decref(o);
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory encoding", kind);
    }
    *out = o;
    return 0;
}

int cs__encode_status(const char *kind, bool have_status, json_t *status_json, json_t **out, cs_err_t *err)
{
    *out = status_json;
    if (!*out)
        return cs_err_set(err, have_status ? CS_ENOMEM : CS_EINVAL, "%s status: %s", kind,
                          have_status ? "out of memory encoding" : "nothing to encode");
    return 0;
}
