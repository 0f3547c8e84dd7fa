/* yaml.c: YAML documents into jansson trees (libyaml event parser). */
#include "couchestor/yaml.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <regex.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "couchestor/json.h"

int cs_file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, cs_err_t *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_set(err, cs_err_from_errno(errno), "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return cs_err_set(err, CS_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max_bytes + 1)
                break;
            size_t ncap = cap * 2 > max_bytes + 1 ? max_bytes + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return cs_err_set(err, CS_ENOMEM, "out of memory reading %s", path);
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return cs_err_set(err, cs_err_from_errno(e), "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n > max_bytes) {
        free(buf);
        return cs_err_set(err, CS_ETOOBIG, "%s is larger than the limit of %zu bytes", path, max_bytes);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

typedef struct {
    yaml_parser_t parser;
    const char *what;
    cs_err_t *err;
} cs__yaml_t;

static int cs__yaml_fail(cs__yaml_t *y, const yaml_event_t *ev, const char *msg)
{
    size_t line = ev ? ev->start_mark.line + 1 : y->parser.problem_mark.line + 1;
    size_t col = ev ? ev->start_mark.column + 1 : y->parser.problem_mark.column + 1;
    return cs_err_set(y->err, CS_EPARSE, "%s:%zu:%zu: %s", y->what, line, col, msg);
}

static int cs__yaml_next(cs__yaml_t *y, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&y->parser, ev)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s%s%s", y->parser.problem ? y->parser.problem : "syntax error",
                 y->parser.context ? " " : "", y->parser.context ? y->parser.context : "");
        return cs__yaml_fail(y, NULL, msg);
    }
    return 0;
}

static int cs__match(const char *pattern, const char *s)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

/* YAML 1.2 core schema resolution of a plain scalar. */
static json_t *cs__plain_scalar(const char *s)
{
    if (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    if (cs__match("^[-+]?[0-9]+$", s)) {
        errno = 0;
        long long v = strtoll(s, NULL, 10);
        if (errno == 0)
            return json_integer(v);
        return json_string(s); /* out of int64 range: keep the text */
    }
    if (cs__match("^0x[0-9a-fA-F]+$", s)) {
        errno = 0;
        long long v = strtoll(s + 2, NULL, 16);
        return errno == 0 ? json_integer(v) : json_string(s);
    }
    if (cs__match("^0o[0-7]+$", s)) {
        errno = 0;
        long long v = strtoll(s + 2, NULL, 8);
        return errno == 0 ? json_integer(v) : json_string(s);
    }
    if (cs__match("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?$", s)) {
        double d = strtod(s, NULL);
        if (isfinite(d))
            return json_real(d);
    }
    return json_string(s);
}

static int cs__yaml_node(cs__yaml_t *y, yaml_event_t *ev, int depth, json_t **out);

static int cs__yaml_children(cs__yaml_t *y, json_t *container, int is_map, int depth)
{
    for (;;) {
        yaml_event_t ev;
        if (cs__yaml_next(y, &ev) != 0)
            return CS_EPARSE;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        if (is_map) {
            if (ev.type != YAML_SCALAR_EVENT) {
                int rc = cs__yaml_fail(y, &ev, "mapping keys must be plain strings");
                yaml_event_delete(&ev);
                return rc;
            }
            char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            yaml_mark_t mark = ev.start_mark;
            yaml_event_delete(&ev);
            if (!key)
                return cs_err_set(y->err, CS_ENOMEM, "%s: out of memory", y->what);
            if (json_object_get(container, key)) {
                cs_err_set(y->err, CS_EPARSE, "%s:%zu:%zu: duplicate key \"%.80s\"", y->what, mark.line + 1,
                           mark.column + 1, key);
                free(key);
                return CS_EPARSE;
            }
            yaml_event_t vev;
            if (cs__yaml_next(y, &vev) != 0) {
                free(key);
                return CS_EPARSE;
            }
            json_t *value = NULL;
            int rc = cs__yaml_node(y, &vev, depth + 1, &value);
            if (rc == 0)
                json_object_set_new(container, key, value);
            free(key);
            if (rc != 0)
                return rc;
        } else {
            json_t *value = NULL;
            int rc = cs__yaml_node(y, &ev, depth + 1, &value);
            if (rc != 0)
                return rc;
            json_array_append_new(container, value);
        }
    }
}

/* Converts the node starting with ev (consumed) into *out. */
static int cs__yaml_node(cs__yaml_t *y, yaml_event_t *ev, int depth, json_t **out)
{
    int rc = 0;
    if (depth > CS_JSON_MAX_DEPTH) {
        rc = cs__yaml_fail(y, ev, "nesting is too deep");
        yaml_event_delete(ev);
        return rc;
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        rc = cs__yaml_fail(y, ev, "aliases (*name) are not supported");
        break;
    case YAML_SCALAR_EVENT: {
        if (ev->data.scalar.anchor) {
            rc = cs__yaml_fail(y, ev, "anchors (&name) are not supported");
            break;
        }
        const char *text = (const char *)ev->data.scalar.value;
        if (strlen(text) != ev->data.scalar.length) {
            rc = cs__yaml_fail(y, ev, "NUL byte in a scalar");
            break;
        }
        const char *tag = (const char *)ev->data.scalar.tag;
        bool str_tag = tag && strcmp(tag, YAML_STR_TAG) == 0;
        if (!str_tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
            *out = cs__plain_scalar(text);
        else
            *out = json_string(text);
        if (!*out)
            rc = cs__yaml_fail(y, ev, "scalar is not valid UTF-8");
        break;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        if ((is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor)) {
            rc = cs__yaml_fail(y, ev, "anchors (&name) are not supported");
            break;
        }
        json_t *c = is_map ? json_object() : json_array();
        if (!c) {
            rc = cs_err_set(y->err, CS_ENOMEM, "%s: out of memory", y->what);
            break;
        }
        rc = cs__yaml_children(y, c, is_map, depth);
        if (rc != 0)
            json_decref(c);
        else
            *out = c;
        break;
    }
    default:
        rc = cs__yaml_fail(y, ev, "unexpected YAML event");
    }
    yaml_event_delete(ev);
    return rc;
}

int cs_yaml_parse(const char *text, size_t len, const char *what, json_t **out, cs_err_t *err)
{
    *out = NULL;
    cs__yaml_t y = {.what = what ? what : "YAML input", .err = err};
    if (!yaml_parser_initialize(&y.parser))
        return cs_err_set(err, CS_ENOMEM, "%s: cannot initialise the YAML parser", y.what);
    yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
    json_t *docs = json_array();
    int rc = docs ? 0 : CS_ENOMEM;
    int done = 0;
    while (rc == 0 && !done) {
        yaml_event_t ev;
        if ((rc = cs__yaml_next(&y, &ev)) != 0)
            break;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = 1;
            yaml_event_delete(&ev);
            break;
        case YAML_DOCUMENT_START_EVENT: {
            yaml_event_delete(&ev);
            yaml_event_t first;
            if ((rc = cs__yaml_next(&y, &first)) != 0)
                break;
            json_t *doc = NULL;
            if ((rc = cs__yaml_node(&y, &first, 1, &doc)) != 0)
                break;
            yaml_event_t end;
            if ((rc = cs__yaml_next(&y, &end)) != 0) {
                json_decref(doc);
                break;
            }
            yaml_event_delete(&end);
            if (json_is_null(doc))
                json_decref(doc); /* empty document ("---" alone) */
            else
                json_array_append_new(docs, doc);
            break;
        }
        default:
            yaml_event_delete(&ev);
        }
    }
    yaml_parser_delete(&y.parser);
    if (rc != 0) {
        json_decref(docs);
        return rc;
    }
    *out = docs;
    return 0;
}

int cs_yaml_load_file(const char *path, size_t max_bytes, json_t **out, cs_err_t *err)
{
    char *text;
    size_t len;
    *out = NULL;
    int rc = cs_file_read_all(path, max_bytes, &text, &len, err);
    if (rc != 0)
        return rc;
    rc = cs_yaml_parse(text, len, path, out, err);
    free(text);
    return rc;
}
