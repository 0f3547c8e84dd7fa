/* selector.c: label sets, label selectors (both forms) and matching. */
#include "couchestor/selector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"

#define CS__SEL_MAX_TEXT 65536
#define CS__SEL_MAX_VALUES 1024

/* ---- label syntax ---- */

static int cs__is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A "qualified name" part: <= 63 chars of [A-Za-z0-9._-], alnum at both ends. */
static const char *cs__name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "must not be empty";
    if (n > 63)
        return "must be no more than 63 characters";
    if (!cs__is_alnum(s[0]) || !cs__is_alnum(s[n - 1]))
        return "must begin and end with an alphanumeric character";
    for (size_t i = 0; i < n; i++)
        if (!cs__is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
            return "may contain only alphanumerics, '-', '_' and '.'";
    return NULL;
}

/* DNS-1123 subdomain: <= 253, lower-case alnum labels separated by '.', '-' inside. */
static const char *cs__subdomain_problem(const char *s, size_t n)
{
    if (n == 0)
        return "prefix must not be empty";
    if (n > 253)
        return "prefix must be no more than 253 characters";
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int lower_alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return "prefix must be a DNS subdomain (lower-case labels separated by '.')";
            label = 0;
            continue;
        }
        if (!lower_alnum && c != '-')
            return "prefix must be a DNS subdomain (lower-case alphanumerics, '-' and '.')";
        if (c == '-' && label == 0)
            return "prefix labels must start with an alphanumeric character";
        label++;
    }
    if (label == 0 || s[n - 1] == '-')
        return "prefix must end with an alphanumeric character";
    return NULL;
}

int cs_label_key_validate(const char *key, cs_err_t *err)
{
    if (!key)
        return cs_err_set(err, CS_EINVAL, "label key is missing");
    size_t n = strlen(key);
    const char *slash = strchr(key, '/');
    const char *problem;
    if (slash) {
        if (strchr(slash + 1, '/'))
            return cs_err_set(err, CS_EPARSE, "label key \"%.80s\": at most one '/' is allowed", key);
        problem = cs__subdomain_problem(key, (size_t)(slash - key));
        if (!problem)
            problem = cs__name_problem(slash + 1, n - (size_t)(slash - key) - 1);
    } else {
        problem = cs__name_problem(key, n);
    }
    if (problem)
        return cs_err_set(err, CS_EPARSE, "label key \"%.80s\": %s", key, problem);
    return 0;
}

int cs_label_value_validate(const char *value, cs_err_t *err)
{
    if (!value)
        return cs_err_set(err, CS_EINVAL, "label value is missing");
    size_t n = strlen(value);
    if (n == 0)
        return 0;
    const char *problem = cs__name_problem(value, n);
    if (problem)
        return cs_err_set(err, CS_EPARSE, "label value \"%.80s\": %s", value, problem);
    return 0;
}

/* ---- label sets ---- */

const char *cs_labels_get(const cs_labels_t *labels, const char *key)
{
    if (!labels)
        return NULL;
    for (size_t i = 0; i < labels->count; i++)
        if (strcmp(labels->items[i].key, key) == 0)
            return labels->items[i].value;
    return NULL;
}

int cs_labels_set(cs_labels_t *labels, const char *key, const char *value)
{
    for (size_t i = 0; i < labels->count; i++) {
        if (strcmp(labels->items[i].key, key) == 0) {
            char *v = strdup(value);
            if (!v)
                return CS_ENOMEM;
            free(labels->items[i].value);
            labels->items[i].value = v;
            return 0;
        }
    }
    cs_label_t *items = realloc(labels->items, (labels->count + 1) * sizeof *items);
    if (!items)
        return CS_ENOMEM;
    labels->items = items;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return CS_ENOMEM;
    }
    items[labels->count].key = k;
    items[labels->count].value = v;
    labels->count++;
    return 0;
}

void cs_labels_free(cs_labels_t *labels)
{
    if (!labels)
        return;
    for (size_t i = 0; i < labels->count; i++) {
        free(labels->items[i].key);
        free(labels->items[i].value);
    }
    free(labels->items);
    labels->items = NULL;
    labels->count = 0;
}

int cs_labels_from_json(const json_t *obj, const char *path, cs_labels_t *out, cs_err_t *err)
{
    out->count = 0;
    out->items = NULL;
    if (!obj || json_is_null(obj))
        return 0;
    if (!json_is_object(obj))
        return cs_err_set(err, CS_EPARSE, "%s: expected object, got %s", path ? path : "labels",
                          cs_json_type_name(obj));
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        int rc;
        if (!json_is_string(value)) {
            rc = cs_err_set(err, CS_EPARSE, "%s.%s: expected string, got %s", path ? path : "labels", key,
                            cs_json_type_name(value));
            goto fail;
        }
        if ((rc = cs_label_key_validate(key, err)) != 0 ||
            (rc = cs_label_value_validate(json_string_value(value), err)) != 0) {
            cs_err_prefix(err, "%s: ", path ? path : "labels");
            goto fail;
        }
        if ((rc = cs_labels_set(out, key, json_string_value(value))) != 0) {
            cs_err_set(err, rc, "out of memory reading labels");
            goto fail;
        }
        continue;
    fail:
        cs_labels_free(out);
        return rc;
    }
    return 0;
}

json_t *cs_labels_to_json(const cs_labels_t *labels)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (size_t i = 0; labels && i < labels->count; i++)
        json_object_set_new(obj, labels->items[i].key, json_string(labels->items[i].value));
    return obj;
}

/* ---- selectors ---- */

static void cs__req_free(cs_requirement_t *r)
{
    free(r->key);
    for (size_t i = 0; i < r->value_count; i++)
        free(r->values[i]);
    free(r->values);
    memset(r, 0, sizeof *r);
}

void cs_selector_free(cs_selector_t *sel)
{
    if (!sel)
        return;
    for (size_t i = 0; i < sel->count; i++)
        cs__req_free(&sel->reqs[i]);
    free(sel->reqs);
    sel->reqs = NULL;
    sel->count = 0;
}

bool cs_selector_is_empty(const cs_selector_t *sel)
{
    return !sel || sel->count == 0;
}

static cs_requirement_t *cs__sel_add(cs_selector_t *sel, const char *key, size_t key_len, cs_selector_op_t op)
{
    cs_requirement_t *reqs = realloc(sel->reqs, (sel->count + 1) * sizeof *reqs);
    if (!reqs)
        return NULL;
    sel->reqs = reqs;
    cs_requirement_t *r = &reqs[sel->count];
    memset(r, 0, sizeof *r);
    r->key = strndup(key, key_len);
    if (!r->key)
        return NULL;
    r->op = op;
    sel->count++;
    return r;
}

static int cs__req_add_value(cs_requirement_t *r, const char *v, size_t len)
{
    if (r->value_count >= CS__SEL_MAX_VALUES)
        return CS_ETOOBIG;
    char **values = realloc(r->values, (r->value_count + 1) * sizeof *values);
    if (!values)
        return CS_ENOMEM;
    r->values = values;
    values[r->value_count] = strndup(v, len);
    if (!values[r->value_count])
        return CS_ENOMEM;
    r->value_count++;
    return 0;
}

/* Lexer for the query-string form, after k8s.io/apimachinery labels.Parse. */
typedef enum {
    T_END,
    T_IDENT,
    T_NOT, /* ! */
    T_NEQ, /* != */
    T_EQ,  /* = or == */
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_CMP, /* > or < (not supported here) */
} cs__tok_t;

typedef struct {
    const char *s;
    size_t pos;
    const char *tok;
    size_t len;
} cs__lex_t;

static cs__tok_t cs__next(cs__lex_t *lx)
{
    while (lx->s[lx->pos] == ' ' || lx->s[lx->pos] == '\t' || lx->s[lx->pos] == '\n')
        lx->pos++;
    const char *p = lx->s + lx->pos;
    lx->tok = p;
    lx->len = 1;
    switch (*p) {
    case '\0':
        lx->len = 0;
        return T_END;
    case '!':
        lx->pos++;
        if (p[1] == '=') {
            lx->pos++;
            lx->len = 2;
            return T_NEQ;
        }
        return T_NOT;
    case '=':
        lx->pos++;
        if (p[1] == '=') {
            lx->pos++;
            lx->len = 2;
        }
        return T_EQ;
    case '(':
        lx->pos++;
        return T_LPAREN;
    case ')':
        lx->pos++;
        return T_RPAREN;
    case ',':
        lx->pos++;
        return T_COMMA;
    case '>':
    case '<':
        lx->pos++;
        return T_CMP;
    }
    size_t n = 0;
    while (p[n] && !strchr(" \t\n!=(),<>", p[n]))
        n++;
    lx->len = n;
    lx->pos += n;
    return T_IDENT;
}

static int cs__check_key(const char *key, size_t len, cs_err_t *err)
{
    char buf[320];
    if (len >= sizeof buf)
        return cs_err_set(err, CS_EPARSE, "label key \"%.40s...\" is too long", key);
    memcpy(buf, key, len);
    buf[len] = '\0';
    return cs_label_key_validate(buf, err);
}

static int cs__check_value(const char *v, size_t len, cs_err_t *err)
{
    char buf[80];
    if (len >= sizeof buf)
        return cs_err_set(err, CS_EPARSE, "label value \"%.40s...\": must be no more than 63 characters", v);
    memcpy(buf, v, len);
    buf[len] = '\0';
    return cs_label_value_validate(buf, err);
}

static int cs__parse_req(cs__lex_t *lx, cs_selector_t *sel, cs_err_t *err)
{
    cs__tok_t t = cs__next(lx);
    int rc;
    if (t == T_NOT) {
        t = cs__next(lx);
        if (t != T_IDENT)
            return cs_err_set(err, CS_EPARSE, "expected a label key after '!' at position %zu",
                              (size_t)(lx->tok - lx->s) + 1);
        if ((rc = cs__check_key(lx->tok, lx->len, err)) != 0)
            return rc;
        if (!cs__sel_add(sel, lx->tok, lx->len, CS_SEL_DOES_NOT_EXIST))
            return cs_err_set(err, CS_ENOMEM, "out of memory parsing a selector");
        return 0;
    }
    if (t != T_IDENT)
        return cs_err_set(err, CS_EPARSE, "expected a label key at position %zu", (size_t)(lx->tok - lx->s) + 1);
    const char *key = lx->tok;
    size_t key_len = lx->len;
    if ((rc = cs__check_key(key, key_len, err)) != 0)
        return rc;
    size_t save = lx->pos;
    t = cs__next(lx);
    if (t == T_END || t == T_COMMA) {
        lx->pos = save;
        if (!cs__sel_add(sel, key, key_len, CS_SEL_EXISTS))
            return cs_err_set(err, CS_ENOMEM, "out of memory parsing a selector");
        return 0;
    }
    if (t == T_CMP)
        return cs_err_set(err, CS_EPARSE,
                          "operator '%c' (key \"%.*s\") is not supported: use =, ==, !=, in, notin, exists or !",
                          *lx->tok, (int)key_len, key);
    if (t == T_EQ || t == T_NEQ) {
        cs_requirement_t *r = cs__sel_add(sel, key, key_len, t == T_EQ ? CS_SEL_IN : CS_SEL_NOT_IN);
        if (!r)
            return cs_err_set(err, CS_ENOMEM, "out of memory parsing a selector");
        save = lx->pos;
        t = cs__next(lx);
        const char *v = "";
        size_t vlen = 0;
        if (t == T_IDENT) {
            v = lx->tok;
            vlen = lx->len;
        } else if (t == T_END || t == T_COMMA) {
            lx->pos = save; /* "a=" means the empty value */
        } else {
            return cs_err_set(err, CS_EPARSE, "expected a value for key \"%.*s\" at position %zu", (int)key_len, key,
                              (size_t)(lx->tok - lx->s) + 1);
        }
        if ((rc = cs__check_value(v, vlen, err)) != 0)
            return rc;
        if ((rc = cs__req_add_value(r, v, vlen)) != 0)
            return cs_err_set(err, rc, "out of memory parsing a selector");
        return 0;
    }
    if (t == T_IDENT &&
        ((lx->len == 2 && memcmp(lx->tok, "in", 2) == 0) || (lx->len == 5 && memcmp(lx->tok, "notin", 5) == 0))) {
        cs_selector_op_t op = lx->len == 2 ? CS_SEL_IN : CS_SEL_NOT_IN;
        const char *opname = lx->len == 2 ? "in" : "notin";
        if (cs__next(lx) != T_LPAREN)
            return cs_err_set(err, CS_EPARSE, "expected '(' after \"%.*s %s\"", (int)key_len, key, opname);
        cs_requirement_t *r = cs__sel_add(sel, key, key_len, op);
        if (!r)
            return cs_err_set(err, CS_ENOMEM, "out of memory parsing a selector");
        for (;;) {
            t = cs__next(lx);
            if (t == T_RPAREN && r->value_count == 0)
                return cs_err_set(err, CS_EPARSE, "\"%.*s %s ()\": the set of values must not be empty", (int)key_len,
                                  key, opname);
            const char *v = "";
            size_t vlen = 0;
            if (t == T_IDENT) {
                v = lx->tok;
                vlen = lx->len;
                t = cs__next(lx);
            }
            if ((rc = cs__check_value(v, vlen, err)) != 0)
                return rc;
            if ((rc = cs__req_add_value(r, v, vlen)) != 0)
                return cs_err_set(err, rc, "selector \"%.*s %s (...)\": too many values", (int)key_len, key, opname);
            if (t == T_RPAREN)
                return 0;
            if (t != T_COMMA)
                return cs_err_set(err, CS_EPARSE, "expected ',' or ')' in the values of \"%.*s %s\"", (int)key_len, key,
                                  opname);
        }
    }
    return cs_err_set(err, CS_EPARSE, "expected an operator (=, ==, !=, in, notin) after key \"%.*s\" at position %zu",
                      (int)key_len, key, (size_t)(lx->tok - lx->s) + 1);
}

int cs_selector_parse(const char *text, cs_selector_t *out, cs_err_t *err)
{
    out->count = 0;
    out->reqs = NULL;
    if (!text)
        return cs_err_set(err, CS_EINVAL, "no selector given");
    if (strlen(text) > CS__SEL_MAX_TEXT)
        return cs_err_set(err, CS_ETOOBIG, "selector is longer than %d bytes", CS__SEL_MAX_TEXT);
    cs__lex_t lx = {.s = text};
    size_t save = lx.pos;
    if (cs__next(&lx) == T_END)
        return 0;
    lx.pos = save;
    for (;;) {
        int rc = cs__parse_req(&lx, out, err);
        if (rc != 0) {
            cs_err_prefix(err, "label selector \"%.100s\": ", text);
            cs_selector_free(out);
            return rc;
        }
        cs__tok_t t = cs__next(&lx);
        if (t == T_END)
            return 0;
        if (t != T_COMMA) {
            cs_selector_free(out);
            return cs_err_set(err, CS_EPARSE, "label selector \"%.100s\": expected ',' at position %zu", text,
                              (size_t)(lx.tok - text) + 1);
        }
    }
}

int cs_selector_from_json(const json_t *obj, const char *path, cs_selector_t *out, cs_err_t *err)
{
    out->count = 0;
    out->reqs = NULL;
    if (!obj || json_is_null(obj))
        return 0;
    const char *p = path ? path : "selector";
    char sub[256], sub2[256];
    if (!json_is_object(obj))
        return cs_err_set(err, CS_EPARSE, "%s: expected object, got %s", p, cs_json_type_name(obj));
    int rc = 0;
    const char *field;
    json_t *v;
    json_object_foreach((json_t *)obj, field, v)
    {
        if (strcmp(field, "matchLabels") != 0 && strcmp(field, "matchExpressions") != 0) {
            rc = cs_err_set(err, CS_EPARSE, "%s: unknown field \"%s\" (expected matchLabels or matchExpressions)", p,
                            field);
            goto fail;
        }
    }
    const json_t *labels = NULL, *exprs = NULL;
    if ((rc = cs_json_get_object(obj, p, "matchLabels", CS_JSON_OPTIONAL, &labels, err)) < 0)
        goto fail;
    if ((rc = cs_json_get_array(obj, p, "matchExpressions", CS_JSON_OPTIONAL, &exprs, err)) < 0)
        goto fail;
    if (labels) {
        cs_json_path_join(sub, sizeof sub, p, "matchLabels");
        json_object_foreach((json_t *)labels, field, v)
        {
            if (!json_is_string(v)) {
                rc = cs_err_set(err, CS_EPARSE, "%s.%s: expected string, got %s", sub, field, cs_json_type_name(v));
                goto fail;
            }
            if ((rc = cs_label_key_validate(field, err)) != 0 ||
                (rc = cs_label_value_validate(json_string_value(v), err)) != 0) {
                cs_err_prefix(err, "%s: ", sub);
                goto fail;
            }
            cs_requirement_t *r = cs__sel_add(out, field, strlen(field), CS_SEL_IN);
            if (!r || cs__req_add_value(r, json_string_value(v), strlen(json_string_value(v))) != 0) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory reading %s", sub);
                goto fail;
            }
        }
    }
    if (exprs) {
        size_t i;
        json_t *e;
        json_array_foreach(exprs, i, e)
        {
            cs_json_path_join(sub2, sizeof sub2, p, "matchExpressions");
            cs_json_path_index(sub, sizeof sub, sub2, i);
            const char *key, *op;
            const json_t *values = NULL;
            if (!json_is_object(e)) {
                rc = cs_err_set(err, CS_EPARSE, "%s: expected object, got %s", sub, cs_json_type_name(e));
                goto fail;
            }
            if ((rc = cs_json_get_string(e, sub, "key", CS_JSON_REQUIRED, &key, err)) < 0 ||
                (rc = cs_json_get_string(e, sub, "operator", CS_JSON_REQUIRED, &op, err)) < 0 ||
                (rc = cs_json_get_array(e, sub, "values", CS_JSON_OPTIONAL, &values, err)) < 0)
                goto fail;
            if ((rc = cs_label_key_validate(key, err)) != 0) {
                cs_err_prefix(err, "%s.key: ", sub);
                goto fail;
            }
            cs_selector_op_t sop;
            int want_values;
            if (strcmp(op, "In") == 0) {
                sop = CS_SEL_IN;
                want_values = 1;
            } else if (strcmp(op, "NotIn") == 0) {
                sop = CS_SEL_NOT_IN;
                want_values = 1;
            } else if (strcmp(op, "Exists") == 0) {
                sop = CS_SEL_EXISTS;
                want_values = 0;
            } else if (strcmp(op, "DoesNotExist") == 0) {
                sop = CS_SEL_DOES_NOT_EXIST;
                want_values = 0;
            } else {
                rc = cs_err_set(err, CS_EPARSE, "%s.operator: \"%.40s\" is not one of In, NotIn, Exists, DoesNotExist",
                                sub, op);
                goto fail;
            }
            size_t nvalues = values ? json_array_size(values) : 0;
            if (want_values && nvalues == 0) {
                rc = cs_err_set(err, CS_EPARSE, "%s.values: must be non-empty when operator is %s", sub, op);
                goto fail;
            }
            if (!want_values && nvalues != 0) {
                rc = cs_err_set(err, CS_EPARSE, "%s.values: must be empty when operator is %s", sub, op);
                goto fail;
            }
            cs_requirement_t *r = cs__sel_add(out, key, strlen(key), sop);
            if (!r) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory reading %s", sub);
                goto fail;
            }
            for (size_t j = 0; j < nvalues; j++) {
                const json_t *jv = json_array_get(values, j);
                if (!json_is_string(jv)) {
                    rc = cs_err_set(err, CS_EPARSE, "%s.values[%zu]: expected string, got %s", sub, j,
                                    cs_json_type_name(jv));
                    goto fail;
                }
                if ((rc = cs_label_value_validate(json_string_value(jv), err)) != 0) {
                    cs_err_prefix(err, "%s.values[%zu]: ", sub, j);
                    goto fail;
                }
                if ((rc = cs__req_add_value(r, json_string_value(jv), strlen(json_string_value(jv)))) != 0) {
                    cs_err_set(err, rc, "%s.values: too many values", sub);
                    goto fail;
                }
            }
        }
    }
    return 0;
fail:
    cs_selector_free(out);
    return rc;
}

json_t *cs_selector_to_json(const cs_selector_t *sel)
{
    json_t *obj = json_object(), *labels = json_object(), *exprs = json_array();
    if (!obj || !labels || !exprs) {
        json_decref(obj);
        json_decref(labels);
        json_decref(exprs);
        return NULL;
    }
    static const char *const opnames[] = {"In", "NotIn", "Exists", "DoesNotExist"};
    for (size_t i = 0; sel && i < sel->count; i++) {
        const cs_requirement_t *r = &sel->reqs[i];
        if (r->op == CS_SEL_IN && r->value_count == 1 && !json_object_get(labels, r->key)) {
            json_object_set_new(labels, r->key, json_string(r->values[0]));
            continue;
        }
        json_t *e = json_pack("{s:s, s:s}", "key", r->key, "operator", opnames[r->op]);
        if (r->op == CS_SEL_IN || r->op == CS_SEL_NOT_IN) {
            json_t *vals = json_array();
            for (size_t j = 0; j < r->value_count; j++)
                json_array_append_new(vals, json_string(r->values[j]));
            json_object_set_new(e, "values", vals);
        }
        json_array_append_new(exprs, e);
    }
    if (json_object_size(labels))
        json_object_set_new(obj, "matchLabels", labels);
    else
        json_decref(labels);
    if (json_array_size(exprs))
        json_object_set_new(obj, "matchExpressions", exprs);
    else
        json_decref(exprs);
    return obj;
}

/* Appends to a growable string; returns 0 or -1 on allocation failure. */
static int cs__sb_add(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t ncap = (*cap ? *cap * 2 : 64) + n;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return 0;
}

char *cs_selector_to_string(const cs_selector_t *sel)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int bad = cs__sb_add(&buf, &len, &cap, "");
    for (size_t i = 0; sel && i < sel->count && !bad; i++) {
        const cs_requirement_t *r = &sel->reqs[i];
        if (i)
            bad |= cs__sb_add(&buf, &len, &cap, ",");
        switch (r->op) {
        case CS_SEL_EXISTS:
            bad |= cs__sb_add(&buf, &len, &cap, r->key);
            break;
        case CS_SEL_DOES_NOT_EXIST:
            bad |= cs__sb_add(&buf, &len, &cap, "!");
            bad |= cs__sb_add(&buf, &len, &cap, r->key);
            break;
        case CS_SEL_IN:
        case CS_SEL_NOT_IN:
            bad |= cs__sb_add(&buf, &len, &cap, r->key);
            if (r->value_count == 1) {
                bad |= cs__sb_add(&buf, &len, &cap, r->op == CS_SEL_IN ? "=" : "!=");
                bad |= cs__sb_add(&buf, &len, &cap, r->values[0]);
            } else {
                bad |= cs__sb_add(&buf, &len, &cap, r->op == CS_SEL_IN ? " in (" : " notin (");
                for (size_t j = 0; j < r->value_count; j++) {
                    if (j)
                        bad |= cs__sb_add(&buf, &len, &cap, ",");
                    bad |= cs__sb_add(&buf, &len, &cap, r->values[j]);
                }
                bad |= cs__sb_add(&buf, &len, &cap, ")");
            }
            break;
        }
    }
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

static bool cs__req_matches(const cs_requirement_t *r, const cs_labels_t *labels)
{
    const char *v = cs_labels_get(labels, r->key);
    switch (r->op) {
    case CS_SEL_EXISTS:
        return v != NULL;
    case CS_SEL_DOES_NOT_EXIST:
        return v == NULL;
    case CS_SEL_IN:
    case CS_SEL_NOT_IN: {
        bool in = false;
        for (size_t i = 0; v && i < r->value_count && !in; i++)
            in = strcmp(v, r->values[i]) == 0;
        return r->op == CS_SEL_IN ? in : !in;
    }
    }
    return false;
}

bool cs_selector_matches(const cs_selector_t *sel, const cs_labels_t *labels)
{
    for (size_t i = 0; sel && i < sel->count; i++)
        if (!cs__req_matches(&sel->reqs[i], labels))
            return false;
    return true;
}

int cs_selector_copy(const cs_selector_t *src, cs_selector_t *dst)
{
    dst->count = 0;
    dst->reqs = NULL;
    for (size_t i = 0; src && i < src->count; i++) {
        const cs_requirement_t *r = &src->reqs[i];
        cs_requirement_t *c = cs__sel_add(dst, r->key, strlen(r->key), r->op);
        if (!c)
            goto fail;
        for (size_t j = 0; j < r->value_count; j++)
            if (cs__req_add_value(c, r->values[j], strlen(r->values[j])) != 0)
                goto fail;
    }
    return 0;
fail:
    cs_selector_free(dst);
    return CS_ENOMEM;
}
