/* selector.h: Kubernetes label sets and label selectors, in both the
 * structured form (matchLabels + matchExpressions with In, NotIn, Exists,
 * DoesNotExist) and the query-string form ("a=b,c!=d,e in (x,y),!f"), with
 * Kubernetes' label key and value syntax rules. */
#ifndef COUCHESTOR_SELECTOR_H
#define COUCHESTOR_SELECTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "couchestor/error.h"

/* A label set: owned copies of keys and values, in insertion order. */
typedef struct cs_label_s {
    char *key;
    char *value;
} cs_label_t;

typedef struct cs_labels_s {
    size_t count;
    cs_label_t *items;
} cs_labels_t;

/* Value of key, or NULL when absent. Borrowed from labels. */
const char *cs_labels_get(const cs_labels_t *labels, const char *key);
/* Sets key to value (replacing an existing value). Copies both. */
int cs_labels_set(cs_labels_t *labels, const char *key, const char *value);
/* Reads a JSON object of string values (metadata.labels) with validation of
 * keys and values; path is used in messages. NULL or null obj = empty set. */
int cs_labels_from_json(const json_t *obj, const char *path, cs_labels_t *out, cs_err_t *err);
json_t *cs_labels_to_json(const cs_labels_t *labels);
/* Frees the contents and leaves an empty set. NULL is a no-op. */
void cs_labels_free(cs_labels_t *labels);

typedef enum cs_selector_op {
    CS_SEL_IN,            /* key=v, key==v, key in (v1,v2) */
    CS_SEL_NOT_IN,        /* key!=v, key notin (v1,v2); matches when key is absent */
    CS_SEL_EXISTS,        /* key */
    CS_SEL_DOES_NOT_EXIST /* !key */
} cs_selector_op_t;

typedef struct cs_requirement_s {
    char *key;
    cs_selector_op_t op;
    size_t value_count;
    char **values;
} cs_requirement_t;

/* A selector is the AND of its requirements; an empty one matches every
 * label set. */
typedef struct cs_selector_s {
    size_t count;
    cs_requirement_t *reqs;
} cs_selector_t;

/* Validates a label key: optional DNS-subdomain prefix (<= 253) and '/',
 * then a name of <= 63 characters [A-Za-z0-9._-] starting and ending
 * alphanumeric. */
int cs_label_key_validate(const char *key, cs_err_t *err);
/* Validates a label value: empty, or <= 63 characters like a key name. */
int cs_label_value_validate(const char *value, cs_err_t *err);

/* Parses the query-string form from untrusted text. "" is the empty
 * selector. The caller frees *out with cs_selector_free. */
int cs_selector_parse(const char *text, cs_selector_t *out, cs_err_t *err);
/* Reads a structured LabelSelector ({matchLabels, matchExpressions}); path
 * names it in messages ("spec.volumeSelector"). NULL or null obj = empty. */
int cs_selector_from_json(const json_t *obj, const char *path, cs_selector_t *out, cs_err_t *err);
/* Structured form: {"matchLabels":{...}, "matchExpressions":[...]}. */
json_t *cs_selector_to_json(const cs_selector_t *sel);
/* Query-string form, malloc'd (caller frees); NULL on allocation failure. */
char *cs_selector_to_string(const cs_selector_t *sel);
bool cs_selector_matches(const cs_selector_t *sel, const cs_labels_t *labels);
bool cs_selector_is_empty(const cs_selector_t *sel);
int cs_selector_copy(const cs_selector_t *src, cs_selector_t *dst);
/* Frees the contents and leaves an empty selector. NULL is a no-op. */
void cs_selector_free(cs_selector_t *sel);

#endif
