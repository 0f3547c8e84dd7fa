/* crd_internal.h: helpers shared by the files of the crd module. */
#ifndef COUCHESTOR_CRD_INTERNAL_H
#define COUCHESTOR_CRD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/crd.h"

/* A decode or validation pass: problems are collected into `problems`; an
 * allocation failure anywhere sets `oom` and the pass ends with CS_ENOMEM. */
typedef struct cs__dec_s {
    cs_crd_problems_t *problems;
    bool oom;
} cs__dec_t;

char *cs__strdup(const char *s);
/* Replaces *dst with a copy of src (NULL allowed); false on allocation failure. */
bool cs__set_str(char **dst, const char *src);
/* Copies at most max bytes of untrusted text into buf for a message,
 * replacing control and non-ASCII bytes with '?'; adds "..." when cut. */
const char *cs__printable(const char *text, size_t max, char *buf, size_t len);

int cs__problems_set_subject(cs_crd_problems_t *p, const char *kind, const char *name);
void cs__problem(cs__dec_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Records a getter's failure (rc < 0, message in e) as a problem. */
void cs__problem_rc(cs__dec_t *d, int rc, const cs_err_t *e);
/* Ends a pass: on oom returns CS_ENOMEM; with problems fills err with the
 * joined list, hands the list to `out` (or frees it) and returns code;
 * otherwise frees the list and returns 0. */
int cs__problems_finish(cs__dec_t *d, cs_crd_problems_t *out, int code, cs_err_t *err);

/* Optional-field readers: absent or null leaves *out untouched; a wrong
 * type or range becomes a problem. */
void cs__get_int(cs__dec_t *d, const json_t *obj, const char *path, const char *key, int64_t min, int64_t max,
                 int64_t *out);
void cs__get_number(cs__dec_t *d, const json_t *obj, const char *path, const char *key, double *out);
void cs__get_bool(cs__dec_t *d, const json_t *obj, const char *path, const char *key, bool *out);
/* Stores a copy in *out (replacing what was there). empty_is_null: "" -> NULL. */
void cs__get_str(cs__dec_t *d, const json_t *obj, const char *path, const char *key, bool required, bool empty_is_null,
                 char **out);
void cs__get_time(cs__dec_t *d, const json_t *obj, const char *path, const char *key, int64_t *out);
/* Rejects keys of obj that are not in known[] (with a "did you mean" hint
 * for a case-insensitive match). */
void cs__reject_unknown(cs__dec_t *d, const json_t *obj, const char *path, const char *const *known, size_t n_known);
/* Reads a structured LabelSelector; null or absent leaves *out NULL. */
void cs__get_selector(cs__dec_t *d, const json_t *obj, const char *path, const char *key, cs_selector_t **out);

/* Checks apiVersion/kind (when present) and decodes metadata. */
void cs__decode_header(cs__dec_t *d, const json_t *obj, const char *kind, cs_object_meta_t *meta);
/* Adds apiVersion, kind and metadata to obj; false on allocation failure. */
bool cs__encode_header(json_t *obj, const char *kind, const cs_object_meta_t *meta);
/* The whole object of kind (apiVersion, kind, metadata, spec, status) into
 * *out; takes ownership of spec and status (either may be NULL on OOM). */
int cs__encode_object(const char *kind, const cs_object_meta_t *meta, json_t *spec, json_t *status, json_t **out,
                      cs_err_t *err);
/* A status tree into *out; status_json NULL means out of memory when
 * have_status, nothing to encode otherwise. */
int cs__encode_status(const char *kind, bool have_status, json_t *status_json, json_t **out, cs_err_t *err);

void cs__decode_conditions(cs__dec_t *d, const json_t *status, const char *path, cs_conditions_t *out);
json_t *cs__encode_conditions(const cs_conditions_t *conds);

/* json_object_set_new that records failure (NULL value or no memory). */
void cs__put(json_t *obj, const char *key, json_t *value, bool *oom);

/* Validation helpers: fills msg on failure. */
bool cs__selector_check(const cs_selector_t *sel, char *msg, size_t len);
bool cs__object_name_ok(const char *name);

#endif
