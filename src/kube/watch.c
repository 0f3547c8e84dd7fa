/* watch.c: the watch-stream parser: newline-separated {"type","object"}
 * events decoded as they arrive, the object straight into the caller's
 * projection, each event handed over as soon as its last byte is fed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube_informer.h"
#include "kube/internal.h"

struct cs_kube_watch_parser_s {
    cs_jstream_t *js;
    cs_kube_decoder_t dec;
    cs_kube_watch_fn fn;
    void *ctx;
    size_t events;
    bool nonspace; /* anything but whitespace was fed */
    /* the event being decoded */
    char type[16];
    bool has_type;
    bool has_object;
    bool in_object;
    bool feed;   /* give the object's tokens to the decoder */
    size_t skip; /* > 0: the decoder skips tokens deeper than this */
    void *obj;
    int obj_rc; /* the decoder's finish result */
    char obj_msg[256];
    cs__kube_ident_t id;
    cs__kube_status_acc_t st;
};

const char *cs_kube_watch_type_name(cs_kube_watch_type_t type)
{
    switch (type) {
    case CS_KUBE_WATCH_ADDED:
        return "ADDED";
    case CS_KUBE_WATCH_MODIFIED:
        return "MODIFIED";
    case CS_KUBE_WATCH_DELETED:
        return "DELETED";
    case CS_KUBE_WATCH_BOOKMARK:
        return "BOOKMARK";
    case CS_KUBE_WATCH_ERROR:
        return "ERROR";
    }
    return "UNKNOWN";
}

static bool cs__type_parse(const char *s, cs_kube_watch_type_t *out)
{
    static const char *const names[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (cs_kube_watch_type_t)i;
            return true;
        }
    return false;
}

static void cs__reset(cs_kube_watch_parser_t *p)
{
    if (p->obj)
        p->dec.destroy(p->dec.ctx, p->obj);
    p->obj = NULL;
    p->type[0] = '\0';
    p->has_type = p->has_object = p->in_object = p->feed = false;
    p->skip = 0;
    p->obj_rc = 0;
    p->obj_msg[0] = '\0';
    memset(&p->id, 0, sizeof p->id);
    memset(&p->st, 0, sizeof p->st);
}

static int cs__fail(cs_jstream_t *js, const char *msg, size_t n)
{
    cs_jstream_fail(js, CS_EPARSE, "watch event %zu: %s", n, msg);
    return CS_EPARSE;
}

static int cs__complete(cs_kube_watch_parser_t *p, cs_jstream_t *js)
{
    size_t n = p->events;
    if (!p->has_type)
        return cs__fail(js, "no \"type\"", n);
    cs_kube_watch_type_t type;
    if (!cs__type_parse(p->type, &type)) {
        char shown[40];
        cs_jstream_fail(js, CS_EPARSE, "watch event %zu: unknown type \"%s\"", n,
                        cs__kube_printable(p->type, strlen(p->type), shown, sizeof shown));
        return CS_EPARSE;
    }
    if (!p->has_object)
        return cs__fail(js, "no \"object\"", n);
    cs_kube_watch_event_t ev = {.type = type, .name = "", .namespace = "", .resource_version = ""};
    switch (type) {
    case CS_KUBE_WATCH_ADDED:
    case CS_KUBE_WATCH_MODIFIED:
    case CS_KUBE_WATCH_DELETED:
        if (p->obj_rc < 0) {
            cs_jstream_fail(js, p->obj_rc, "watch event %zu (%s): %s", n, p->type, p->obj_msg);
            return p->obj_rc;
        }
        if (!p->obj)
            return cs__fail(js, "object was not decoded", n);
        if (!p->id.has_name)
            return cs__fail(js, "object has no metadata.name", n);
        ev.obj = p->obj;
        ev.name = p->id.name;
        ev.namespace = p->id.ns;
        ev.resource_version = p->id.rv;
        break;
    case CS_KUBE_WATCH_BOOKMARK:
        if (!p->id.has_rv)
            return cs__fail(js, "BOOKMARK without metadata.resourceVersion", n);
        ev.resource_version = p->id.rv;
        break;
    case CS_KUBE_WATCH_ERROR:
        ev.code = p->st.code;
        ev.reason = p->st.reason;
        ev.message = p->st.message;
        break;
    }
    p->obj = NULL; /* ev owns it now */
    p->events++;
    int rc = p->fn(p->ctx, &ev);
    if (ev.obj)
        p->dec.destroy(p->dec.ctx, ev.obj);
    if (rc < 0)
        cs_jstream_fail(js, rc, "watch event %zu (%s): stopped by the consumer", n, p->type);
    return rc < 0 ? rc : 0;
}

static int cs__watch_cb(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    cs_kube_watch_parser_t *p = ctx;
    if (ev->depth == 0) {
        if (ev->kind == CS_JS_MAP_START) {
            cs__reset(p);
            return 0;
        }
        if (ev->kind == CS_JS_MAP_END)
            return cs__complete(p, js);
        return cs__fail(js, "not a JSON object", p->events);
    }
    if (ev->depth == 1) {
        if (strcmp(ev->key, "type") == 0) {
            if (ev->kind != CS_JS_STRING)
                return cs__fail(js, "\"type\" is not a string", p->events);
            size_t n = ev->text_len < sizeof p->type - 1 ? ev->text_len : sizeof p->type - 1;
            memcpy(p->type, ev->text, n);
            p->type[n] = '\0';
            if (ev->text_len >= sizeof p->type || memchr(p->type, '\0', n))
                p->type[0] = '?', p->type[1] = '\0';
            p->has_type = true;
            return 0;
        }
        if (strcmp(ev->key, "object") != 0)
            return 0;
        if (ev->kind == CS_JS_MAP_START) {
            if (p->has_object)
                return cs__fail(js, "more than one \"object\"", p->events);
            p->has_object = p->in_object = true;
            cs_kube_watch_type_t t;
            /* The server writes "type" first; bookmarks and errors are not
             * objects of the watched kind, so the decoder never sees them. */
            p->feed = !(p->has_type && cs__type_parse(p->type, &t) &&
                        (t == CS_KUBE_WATCH_BOOKMARK || t == CS_KUBE_WATCH_ERROR));
            if (p->feed && !(p->obj = p->dec.create(p->dec.ctx)))
                return CS_ENOMEM;
        } else if (ev->kind != CS_JS_MAP_END) {
            return cs__fail(js, "\"object\" is not a JSON object", p->events);
        }
    } else if (!p->in_object) {
        return 0;
    }
    cs_kube_field_t f = {ev, ev->depth - 1, js, 1};
    int rc = cs__kube_ident_field(&p->id, &f, js);
    if (rc < 0)
        return rc;
    cs__kube_status_field(&p->st, &f);
    bool skipped = false;
    if (p->skip) {
        if (ev->depth > p->skip)
            skipped = true; /* inside a container the decoder skips */
        else
            p->skip = 0; /* its END */
    }
    if (!skipped && p->obj && p->obj_rc == 0) {
        rc = p->dec.field(p->dec.ctx, p->obj, &f);
        if (rc < 0)
            return rc;
        if (rc == CS_KUBE_SKIP && ev->depth > 1 && (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START))
            p->skip = ev->depth;
    }
    if (ev->depth == 1 && ev->kind == CS_JS_MAP_END) {
        p->in_object = false;
        if (p->obj && p->dec.finish) {
            cs_err_t e = {0};
            p->obj_rc = p->dec.finish(p->dec.ctx, p->obj, &e);
            if (p->obj_rc < 0)
                snprintf(p->obj_msg, sizeof p->obj_msg, "%s", e.msg[0] ? e.msg : cs_strerror(p->obj_rc));
            else
                p->obj_rc = 0;
        }
    }
    return 0;
}

int cs_kube_watch_parser_new(const cs_kube_decoder_t *dec, cs_kube_watch_fn fn, void *ctx, size_t max_depth,
                             size_t max_string, cs_kube_watch_parser_t **out)
{
    *out = NULL;
    if (!dec || !dec->create || !dec->field || !dec->destroy || !fn)
        return CS_EINVAL;
    cs_kube_watch_parser_t *p = calloc(1, sizeof *p);
    if (!p)
        return CS_ENOMEM;
    p->dec = *dec;
    p->fn = fn;
    p->ctx = ctx;
    int rc = cs_jstream_new(cs__watch_cb, p, max_depth, max_string, true, &p->js);
    if (rc != 0) {
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int cs_kube_watch_parser_feed(cs_kube_watch_parser_t *p, const char *data, size_t len, cs_err_t *err)
{
    for (size_t i = 0; !p->nonspace && i < len; i++)
        if (data[i] != ' ' && data[i] != '\n' && data[i] != '\r' && data[i] != '\t')
            p->nonspace = true;
    return cs_jstream_feed(p->js, data, len, err);
}

int cs_kube_watch_parser_finish(cs_kube_watch_parser_t *p, cs_err_t *err)
{
    /* A watch that ends before any event (timeout, no bookmarks) is fine;
     * yajl would call it a premature end. */
    if (!p->nonspace)
        return 0;
    return cs_jstream_finish(p->js, err);
}

size_t cs_kube_watch_parser_events(const cs_kube_watch_parser_t *p)
{
    return p->events;
}

void cs_kube_watch_parser_free(cs_kube_watch_parser_t *p)
{
    if (!p)
        return;
    if (p->obj)
        p->dec.destroy(p->dec.ctx, p->obj);
    cs_jstream_free(p->js);
    free(p);
}
