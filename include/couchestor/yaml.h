/* yaml.h: YAML documents (config files, kubeconfigs, manifests) read into
 * jansson trees with libyaml.
 *
 * Scalars become strings except where the YAML 1.2 core schema says
 * otherwise for plain (unquoted) scalars: integers, floats, true/false,
 * null/~. Anchors and aliases are rejected (a manifest has no use for them
 * and they enable "billion laughs"); nesting is bounded by
 * CS_JSON_MAX_DEPTH and input size by the caller. */
#ifndef COUCHESTOR_YAML_H
#define COUCHESTOR_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "couchestor/error.h"

/* Parses every document of untrusted text into a JSON array of documents
 * (empty documents are skipped). `what` names the input in messages, which
 * carry line and column ("deploy/crds/x.yaml:12:3: ..."). The caller owns
 * *out. */
int cs_yaml_parse(const char *text, size_t len, const char *what, json_t **out, cs_err_t *err);

/* Reads a file (at most max_bytes) and parses it as cs_yaml_parse does. */
int cs_yaml_load_file(const char *path, size_t max_bytes, json_t **out, cs_err_t *err);

/* Reads a whole file of at most max_bytes into a NUL-terminated malloc'd
 * buffer (*out, *len). CS_ETOOBIG when larger. */
int cs_file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, cs_err_t *err);

#endif
