/* decode.c: streamed decoding of objects inside larger JSON bodies: field
 * positions relative to an object, the generic ObjectMeta projection, the
 * identity (name/namespace/resourceVersion) every cache needs, and the list
 * page parser. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/rfc3339.h"
#include "kube/internal.h"

/* Most labels/annotations one object may carry here: bounds the work a
 * hostile object can cause (replacing a key is a linear scan). */
#define CS__KUBE_META_MAX_ENTRIES 1024

const char *cs_kube_field_key(const cs_kube_field_t *f, size_t d)
{
    if (d == 0 || d > f->depth)
        return NULL;
    return cs_jstream_key_at(f->js, f->base + d);
}

bool cs_kube_field_path_is(const cs_kube_field_t *f, const char *const *path, size_t n)
{
    if (f->depth != n)
        return false;
    for (size_t d = 1; d <= n; d++) {
        const char *k = cs_jstream_key_at(f->js, f->base + d);
        if (path[d - 1] == NULL) {
            if (k)
                return false;
        } else if (!k || strcmp(k, path[d - 1]) != 0) {
            return false;
        }
    }
    return true;
}

bool cs_kube_field_under(const cs_kube_field_t *f, const char *const *path, size_t n)
{
    if (f->depth <= n)
        return false;
    for (size_t d = 1; d <= n; d++) {
        const char *k = cs_jstream_key_at(f->js, f->base + d);
        if (path[d - 1] == NULL) {
            if (k)
                return false;
        } else if (!k || strcmp(k, path[d - 1]) != 0) {
            return false;
        }
    }
    return true;
}

bool cs_kube_field_key_is(const cs_kube_field_t *f, const char *key)
{
    const cs_jstream_event_t *ev = f->ev;
    return ev->key && ev->key_len == strlen(key) && memcmp(ev->key, key, ev->key_len) == 0;
}

/* ---- ObjectMeta projection --------------------------------------------------- */

void cs_kube_meta_free(cs_kube_meta_t *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->namespace);
    free(m->uid);
    free(m->resource_version);
    cs_labels_free(&m->labels);
    cs_labels_free(&m->annotations);
    memset(m, 0, sizeof *m);
}

static int cs__meta_type(const cs_kube_field_t *f, const char *want)
{
    cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: expected %s", f->ev->key ? f->ev->key : "?", want);
    return CS_EPARSE;
}

static int cs__meta_str(const cs_kube_field_t *f, char **dst)
{
    if (f->ev->kind == CS_JS_NULL)
        return 0;
    if (f->ev->kind != CS_JS_STRING)
        return cs__meta_type(f, "a string");
    if (memchr(f->ev->text, '\0', f->ev->text_len)) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: contains a NUL character", f->ev->key);
        return CS_EPARSE;
    }
    return cs__kube_set_strn(dst, f->ev->text, f->ev->text_len) ? 0 : CS_ENOMEM;
}

static int cs__meta_time(const cs_kube_field_t *f, int64_t *dst)
{
    if (f->ev->kind == CS_JS_NULL)
        return 0;
    if (f->ev->kind != CS_JS_STRING)
        return cs__meta_type(f, "a time string");
    char buf[64];
    if (f->ev->text_len >= sizeof buf) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: time string too long", f->ev->key);
        return CS_EPARSE;
    }
    memcpy(buf, f->ev->text, f->ev->text_len);
    buf[f->ev->text_len] = '\0';
    int64_t t;
    cs_err_t e = {0};
    if (cs_rfc3339_parse(buf, &t, &e) != 0) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: %s", f->ev->key, e.msg);
        return CS_EPARSE;
    }
    *dst = t;
    return 0;
}

static int cs__meta_label(const cs_kube_field_t *f, cs_labels_t *set, const char *what)
{
    if (f->ev->kind != CS_JS_STRING) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s[\"%.64s\"]: expected a string", what,
                        f->ev->key ? f->ev->key : "");
        return CS_EPARSE;
    }
    if (set->count >= CS__KUBE_META_MAX_ENTRIES) {
        cs_jstream_fail(f->js, CS_ETOOBIG, "metadata.%s: more than %d entries", what, CS__KUBE_META_MAX_ENTRIES);
        return CS_ETOOBIG;
    }
    if (memchr(f->ev->text, '\0', f->ev->text_len) || strlen(f->ev->key) != f->ev->key_len) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: contains a NUL character", what);
        return CS_EPARSE;
    }
    char *v = cs__kube_strndup(f->ev->text, f->ev->text_len);
    if (!v)
        return CS_ENOMEM;
    int rc = cs_labels_set(set, f->ev->key, v);
    free(v);
    return rc == 0 ? 0 : CS_ENOMEM;
}

int cs_kube_meta_field(cs_kube_meta_t *m, const cs_kube_field_t *f)
{
    if (f->depth < 2 || !CS_KUBE_UNDER(f, "metadata"))
        return 0;
    const cs_jstream_event_t *ev = f->ev;
    if (f->depth == 2) {
        if (cs_kube_field_key_is(f, "name"))
            return cs__meta_str(f, &m->name);
        if (cs_kube_field_key_is(f, "namespace"))
            return cs__meta_str(f, &m->namespace);
        if (cs_kube_field_key_is(f, "uid"))
            return cs__meta_str(f, &m->uid);
        if (cs_kube_field_key_is(f, "resourceVersion"))
            return cs__meta_str(f, &m->resource_version);
        if (cs_kube_field_key_is(f, "generation")) {
            if (ev->kind == CS_JS_NULL)
                return 0;
            if (ev->kind != CS_JS_INT)
                return cs__meta_type(f, "an integer");
            m->generation = ev->i;
            return 0;
        }
        if (cs_kube_field_key_is(f, "creationTimestamp"))
            return cs__meta_time(f, &m->creation_timestamp);
        if (cs_kube_field_key_is(f, "deletionTimestamp"))
            return cs__meta_time(f, &m->deletion_timestamp);
        if ((cs_kube_field_key_is(f, "labels") || cs_kube_field_key_is(f, "annotations")) &&
            ev->kind != CS_JS_MAP_START && ev->kind != CS_JS_MAP_END && ev->kind != CS_JS_NULL)
            return cs__meta_type(f, "an object");
        return 0;
    }
    if (f->depth == 3 && ev->kind != CS_JS_MAP_END && ev->kind != CS_JS_ARRAY_END) {
        if (CS_KUBE_UNDER(f, "metadata", "labels"))
            return cs__meta_label(f, &m->labels, "labels");
        if (CS_KUBE_UNDER(f, "metadata", "annotations"))
            return cs__meta_label(f, &m->annotations, "annotations");
    }
    return 0;
}

static void *cs__meta_create(void *ctx)
{
    return calloc(1, sizeof(cs_kube_meta_t));
}

static int cs__meta_dec_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    return cs_kube_meta_field(obj, f);
}

static void cs__meta_destroy(void *ctx, void *obj)
{
    cs_kube_meta_free(obj);
    free(obj);
}

cs_kube_decoder_t cs_kube_meta_decoder(void)
{
    cs_kube_decoder_t d = {cs__meta_create, cs__meta_dec_field, NULL, cs__meta_destroy, NULL};
    return d;
}

/* ---- identity and Status accumulation ---------------------------------------- */

static int cs__ident_copy(const cs_kube_field_t *f, cs_jstream_t *js, char *dst, size_t cap, bool *has,
                          const char *what)
{
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind == CS_JS_NULL)
        return 0;
    if (ev->kind != CS_JS_STRING) {
        cs_jstream_fail(js, CS_EPARSE, "metadata.%s: expected a string", what);
        return CS_EPARSE;
    }
    if (ev->text_len >= cap || memchr(ev->text, '\0', ev->text_len)) {
        cs_jstream_fail(js, CS_EPARSE, "metadata.%s: longer than %zu bytes or holds NUL", what, cap - 1);
        return CS_EPARSE;
    }
    memcpy(dst, ev->text, ev->text_len);
    dst[ev->text_len] = '\0';
    *has = ev->text_len > 0;
    return 0;
}

int cs__kube_ident_field(cs__kube_ident_t *id, const cs_kube_field_t *f, cs_jstream_t *js)
{
    if (f->depth != 2 || !CS_KUBE_UNDER(f, "metadata"))
        return 0;
    if (cs_kube_field_key_is(f, "name"))
        return cs__ident_copy(f, js, id->name, sizeof id->name, &id->has_name, "name");
    if (cs_kube_field_key_is(f, "namespace"))
        return cs__ident_copy(f, js, id->ns, sizeof id->ns, &id->has_ns, "namespace");
    if (cs_kube_field_key_is(f, "resourceVersion"))
        return cs__ident_copy(f, js, id->rv, sizeof id->rv, &id->has_rv, "resourceVersion");
    return 0;
}

void cs__kube_status_field(cs__kube_status_acc_t *st, const cs_kube_field_t *f)
{
    if (f->depth != 1)
        return;
    const cs_jstream_event_t *ev = f->ev;
    if (cs_kube_field_key_is(f, "code") && ev->kind == CS_JS_INT && ev->i >= 0 && ev->i < 1000)
        st->code = (long)ev->i;
    else if (cs_kube_field_key_is(f, "reason") && ev->kind == CS_JS_STRING)
        cs__kube_printable(ev->text, ev->text_len, st->reason, sizeof st->reason);
    else if (cs_kube_field_key_is(f, "message") && ev->kind == CS_JS_STRING)
        cs__kube_printable(ev->text, ev->text_len, st->message, sizeof st->message);
}

/* ---- list page parser ---------------------------------------------------------- */

struct cs_kube_list_parser_s {
    cs_jstream_t *js;
    const cs_kube_decoder_t *dec;
    cs_kube_item_fn item_fn;
    void *item_ctx;
    bool in_items;
    void *obj; /* item being decoded */
    size_t items;
    char *rv;
    char *cont;
};

static int cs__list_cb(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    cs_kube_list_parser_t *p = ctx;
    if (ev->depth == 0) {
        if (ev->kind != CS_JS_MAP_START && ev->kind != CS_JS_MAP_END) {
            cs_jstream_fail(js, CS_EPARSE, "list: expected a JSON object at the top level");
            return CS_EPARSE;
        }
        return 0;
    }
    if (ev->depth == 1) {
        bool is_items = ev->key && strcmp(ev->key, "items") == 0;
        if (is_items) {
            if (ev->kind == CS_JS_ARRAY_START)
                p->in_items = true;
            else if (ev->kind == CS_JS_ARRAY_END)
                p->in_items = false;
            else if (ev->kind != CS_JS_NULL) {
                cs_jstream_fail(js, CS_EPARSE, "list: \"items\" must be an array");
                return CS_EPARSE;
            }
        } else if (ev->key && strcmp(ev->key, "metadata") == 0) {
            if (ev->kind != CS_JS_MAP_START && ev->kind != CS_JS_MAP_END && ev->kind != CS_JS_NULL) {
                cs_jstream_fail(js, CS_EPARSE, "list: \"metadata\" must be an object");
                return CS_EPARSE;
            }
        } else if (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START) {
            cs_jstream_skip(js); /* nothing else of a list page is read */
        }
        return 0;
    }
    if (ev->depth == 2 && !p->in_items) {
        const char *k1 = cs_jstream_key_at(js, 1);
        if (!k1 || strcmp(k1, "metadata") != 0)
            return 0;
        char **dst = NULL;
        if (strcmp(ev->key, "resourceVersion") == 0)
            dst = &p->rv;
        else if (strcmp(ev->key, "continue") == 0)
            dst = &p->cont;
        if (!dst || ev->kind == CS_JS_NULL)
            return 0;
        if (ev->kind != CS_JS_STRING) {
            cs_jstream_fail(js, CS_EPARSE, "list: metadata.%s must be a string", ev->key);
            return CS_EPARSE;
        }
        return cs__kube_set_strn(dst, ev->text, ev->text_len) ? 0 : CS_ENOMEM;
    }
    if (!p->in_items)
        return 0;
    cs_kube_field_t f = {ev, ev->depth - 2, js, 2};
    if (ev->depth == 2) {
        if (ev->kind == CS_JS_MAP_START) {
            p->obj = p->dec->create(p->dec->ctx);
            if (!p->obj)
                return CS_ENOMEM;
        } else if (ev->kind != CS_JS_MAP_END) {
            cs_jstream_fail(js, CS_EPARSE, "list: items[%zu] is not an object", ev->index);
            return CS_EPARSE;
        }
    }
    int rc = p->dec->field(p->dec->ctx, p->obj, &f);
    if (rc < 0)
        return rc;
    if (rc == CS_KUBE_SKIP && ev->depth > 2 && (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START))
        cs_jstream_skip(js); /* no tokens until its END, which the decoder gets */
    if (ev->depth == 2 && ev->kind == CS_JS_MAP_END) {
        void *obj = p->obj;
        p->obj = NULL;
        if (p->dec->finish) {
            cs_err_t e = {0};
            rc = p->dec->finish(p->dec->ctx, obj, &e);
            if (rc < 0) {
                p->dec->destroy(p->dec->ctx, obj);
                cs_jstream_fail(js, rc, "list: items[%zu]: %s", p->items, e.msg);
                return rc;
            }
        }
        p->items++;
        rc = p->item_fn(p->item_ctx, obj);
        if (rc < 0) {
            cs_jstream_fail(js, rc, "list: the item consumer stopped at item %zu", p->items - 1);
            return rc;
        }
    }
    return 0;
}

int cs_kube_list_parser_new(const cs_kube_decoder_t *dec, cs_kube_item_fn item_fn, void *item_ctx, size_t max_depth,
                            size_t max_string, cs_kube_list_parser_t **out)
{
    *out = NULL;
    if (!dec || !dec->create || !dec->field || !dec->destroy || !item_fn)
        return CS_EINVAL;
    cs_kube_list_parser_t *p = calloc(1, sizeof *p);
    if (!p)
        return CS_ENOMEM;
    p->dec = dec;
    p->item_fn = item_fn;
    p->item_ctx = item_ctx;
    int rc = cs_jstream_new(cs__list_cb, p, max_depth, max_string, false, &p->js);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int cs_kube_list_parser_feed(cs_kube_list_parser_t *p, const char *data, size_t len, cs_err_t *err)
{
    return cs_jstream_feed(p->js, data, len, err);
}

int cs_kube_list_parser_finish(cs_kube_list_parser_t *p, cs_err_t *err)
{
    return cs_jstream_finish(p->js, err);
}

const char *cs_kube_list_parser_resource_version(const cs_kube_list_parser_t *p)
{
    return p->rv ? p->rv : "";
}

const char *cs_kube_list_parser_continue(const cs_kube_list_parser_t *p)
{
    return p->cont ? p->cont : "";
}

size_t cs_kube_list_parser_items(const cs_kube_list_parser_t *p)
{
    return p->items;
}

void cs_kube_list_parser_free(cs_kube_list_parser_t *p)
{
    if (!p)
        return;
    if (p->obj)
        p->dec->destroy(p->dec->ctx, p->obj);
    cs_jstream_free(p->js);
    free(p->rv);
    free(p->cont);
    free(p);
}
