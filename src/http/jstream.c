/* jstream.c: yajl event parser with a bounded key/index stack. */
#include "couchestor/jstream.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

typedef struct {
    int is_map;
    char *key;
    size_t key_len, key_cap;
    size_t index;
} cs__level_t;

struct cs_jstream_s {
    yajl_handle h;
    cs_jstream_fn fn;
    void *ctx;
    size_t max_depth, max_string;
    cs__level_t *levels; /* levels[0..depth) are the open containers */
    size_t depth;
    size_t skip_to;  /* > 0: skipping the container levels[skip_to - 1] */
    bool skip_asked; /* cs_jstream_skip() during a START callback */
    size_t fed;
    int rc; /* error from a callback or a bound */
    char msg[CS_ERR_MSG_MAX];
};

void cs_jstream_fail(cs_jstream_t *js, int code, const char *fmt, ...)
{
    if (js->rc)
        return;
    js->rc = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(js->msg, sizeof js->msg, fmt, ap);
    va_end(ap);
}

/* Fills position fields of ev for a value at the current depth. */
static void cs__position(cs_jstream_t *js, cs_jstream_event_t *ev)
{
    ev->depth = js->depth;
    ev->key = NULL;
    ev->key_len = 0;
    ev->index = 0;
    if (js->depth > 0) {
        cs__level_t *l = &js->levels[js->depth - 1];
        if (l->is_map) {
            ev->key = l->key;
            ev->key_len = l->key_len;
        } else {
            ev->index = l->index;
        }
    }
}

static void cs__after_value(cs_jstream_t *js)
{
    if (js->depth > 0 && !js->levels[js->depth - 1].is_map)
        js->levels[js->depth - 1].index++;
}

static int cs__emit(cs_jstream_t *js, cs_jstream_event_t *ev)
{
    int rc = js->fn(js->ctx, js, ev);
    if (rc < 0) {
        if (!js->rc)
            cs_jstream_fail(js, rc, "JSON stream consumer stopped at byte %zu", js->fed);
        return 0;
    }
    return 1;
}

static int cs__scalar(cs_jstream_t *js, cs_jstream_event_t *ev)
{
    cs__position(js, ev);
    int ok = cs__emit(js, ev);
    cs__after_value(js);
    return ok;
}

/* Inside a skipped container tokens only keep the bounds (depth, string
 * length: yajl still checks the syntax); no event, no key copy. */
#define CS__SKIPPING(js) ((js)->skip_to != 0)

static int cs__null(void *ctx)
{
    if (CS__SKIPPING((cs_jstream_t *)ctx))
        return 1;
    cs_jstream_event_t ev = {.kind = CS_JS_NULL};
    return cs__scalar(ctx, &ev);
}

static int cs__bool(void *ctx, int b)
{
    if (CS__SKIPPING((cs_jstream_t *)ctx))
        return 1;
    cs_jstream_event_t ev = {.kind = CS_JS_BOOL, .b = b != 0};
    return cs__scalar(ctx, &ev);
}

static int cs__number_too_long(cs_jstream_t *js, size_t len)
{
    cs_jstream_fail(js, CS_EPARSE, "JSON number of %zu characters is too long", len);
    return 0;
}

static int cs__number(void *ctx, const char *s, size_t len)
{
    cs_jstream_t *js = ctx;
    if (CS__SKIPPING(js))
        return len < 128 ? 1 : cs__number_too_long(js, len);
    cs_jstream_event_t ev = {.kind = CS_JS_NUMBER, .text = s, .text_len = len};
    /* Integers are most numbers in API bodies (sizes, counts, progress):
     * parse them directly; only reals and huge integers go to strtod. */
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    i = neg ? 1 : 0;
    uint64_t v = 0;
    bool is_int = i < len, overflow = false;
    for (; i < len; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) {
            is_int = false;
            break;
        }
        if (v > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            v = v * 10 + d;
    }
    if (is_int && !overflow && v <= (uint64_t)INT64_MAX + (neg ? 1u : 0u)) {
        ev.kind = CS_JS_INT;
        ev.i = neg ? (int64_t)(0 - v) : (int64_t)v;
        ev.d = (double)ev.i;
        return cs__scalar(js, &ev);
    }
    char buf[128];
    if (len >= sizeof buf)
        return cs__number_too_long(js, len);
    memcpy(buf, s, len);
    buf[len] = '\0';
    ev.d = strtod(buf, NULL);
    return cs__scalar(js, &ev);
}

static int cs__string(void *ctx, const unsigned char *s, size_t len)
{
    cs_jstream_t *js = ctx;
    if (len > js->max_string) {
        cs_jstream_fail(js, CS_ETOOBIG, "JSON string of %zu bytes exceeds the limit of %zu", len, js->max_string);
        return 0;
    }
    if (CS__SKIPPING(js))
        return 1;
    cs_jstream_event_t ev = {.kind = CS_JS_STRING, .text = (const char *)s, .text_len = len};
    return cs__scalar(js, &ev);
}

static int cs__open(cs_jstream_t *js, int is_map)
{
    if (js->depth >= js->max_depth) {
        cs_jstream_fail(js, CS_EPARSE, "JSON nesting deeper than %zu levels", js->max_depth);
        return 0;
    }
    if (CS__SKIPPING(js)) {
        js->depth++;
        return 1;
    }
    cs_jstream_event_t ev = {.kind = is_map ? CS_JS_MAP_START : CS_JS_ARRAY_START};
    cs__position(js, &ev);
    js->skip_asked = false;
    if (!cs__emit(js, &ev))
        return 0;
    if (js->skip_asked) {
        js->skip_asked = false;
        js->skip_to = ++js->depth;
        return 1;
    }
    cs__level_t *l = &js->levels[js->depth++];
    l->is_map = is_map;
    l->key_len = 0;
    if (l->key)
        l->key[0] = '\0';
    l->index = 0;
    return 1;
}

static int cs__close(cs_jstream_t *js, int is_map)
{
    if (CS__SKIPPING(js)) {
        if (js->depth-- > js->skip_to)
            return 1;
        js->skip_to = 0; /* the skipped container's END: delivered */
    } else {
        js->depth--;
    }
    cs_jstream_event_t ev = {.kind = is_map ? CS_JS_MAP_END : CS_JS_ARRAY_END};
    cs__position(js, &ev);
    int ok = cs__emit(js, &ev);
    cs__after_value(js);
    return ok;
}

static int cs__start_map(void *ctx)
{
    return cs__open(ctx, 1);
}
static int cs__end_map(void *ctx)
{
    return cs__close(ctx, 1);
}
static int cs__start_array(void *ctx)
{
    return cs__open(ctx, 0);
}
static int cs__end_array(void *ctx)
{
    return cs__close(ctx, 0);
}

static int cs__map_key(void *ctx, const unsigned char *key, size_t len)
{
    cs_jstream_t *js = ctx;
    if (len > js->max_string) {
        cs_jstream_fail(js, CS_ETOOBIG, "JSON key of %zu bytes exceeds the limit of %zu", len, js->max_string);
        return 0;
    }
    if (CS__SKIPPING(js))
        return 1;
    cs__level_t *l = &js->levels[js->depth - 1];
    if (len + 1 > l->key_cap) {
        size_t cap = l->key_cap ? l->key_cap : 32;
        while (cap < len + 1)
            cap *= 2;
        char *k = realloc(l->key, cap);
        if (!k) {
            cs_jstream_fail(js, CS_ENOMEM, "out of memory in the JSON stream parser");
            return 0;
        }
        l->key = k;
        l->key_cap = cap;
    }
    memcpy(l->key, key, len);
    l->key[len] = '\0';
    l->key_len = len;
    return 1;
}

static const yajl_callbacks cs__callbacks = {
    .yajl_null = cs__null,
    .yajl_boolean = cs__bool,
    .yajl_number = cs__number,
    .yajl_string = cs__string,
    .yajl_start_map = cs__start_map,
    .yajl_map_key = cs__map_key,
    .yajl_end_map = cs__end_map,
    .yajl_start_array = cs__start_array,
    .yajl_end_array = cs__end_array,
};

int cs_jstream_new(cs_jstream_fn fn, void *ctx, size_t max_depth, size_t max_string, bool allow_multiple,
                   cs_jstream_t **out)
{
    *out = NULL;
    cs_jstream_t *js = calloc(1, sizeof *js);
    if (!js)
        return CS_ENOMEM;
    js->fn = fn;
    js->ctx = ctx;
    js->max_depth = max_depth ? max_depth : 64;
    js->max_string = max_string ? max_string : (size_t)1024 * 1024;
    js->levels = calloc(js->max_depth, sizeof *js->levels);
    js->h = yajl_alloc(&cs__callbacks, NULL, js);
    if (!js->levels || !js->h) {
        cs_jstream_free(js);
        return CS_ENOMEM;
    }
    if (allow_multiple)
        yajl_config(js->h, yajl_allow_multiple_values, 1);
    *out = js;
    return 0;
}

void cs_jstream_free(cs_jstream_t *js)
{
    if (!js)
        return;
    if (js->h)
        yajl_free(js->h);
    if (js->levels)
        for (size_t i = 0; i < js->max_depth; i++)
            free(js->levels[i].key);
    free(js->levels);
    free(js);
}

static int cs__status(cs_jstream_t *js, yajl_status st, const unsigned char *data, size_t len, cs_err_t *err)
{
    if (st == yajl_status_ok)
        return 0;
    if (js->rc)
        return cs_err_set(err, js->rc, "%s", js->msg);
    unsigned char *detail = yajl_get_error(js->h, 0, data, len);
    int rc = cs_err_set(err, CS_EPARSE, "malformed JSON near byte %zu: %s", js->fed,
                        detail ? (const char *)detail : "syntax error");
    if (detail)
        yajl_free_error(js->h, detail);
    js->rc = rc;
    snprintf(js->msg, sizeof js->msg, "%s", err ? err->msg : "malformed JSON");
    return rc;
}

int cs_jstream_feed(cs_jstream_t *js, const char *data, size_t len, cs_err_t *err)
{
    if (js->rc)
        return cs_err_set(err, js->rc, "%s", js->msg);
    yajl_status st = yajl_parse(js->h, (const unsigned char *)data, len);
    int rc = cs__status(js, st, (const unsigned char *)data, len, err);
    js->fed += len;
    return rc;
}

int cs_jstream_finish(cs_jstream_t *js, cs_err_t *err)
{
    if (js->rc)
        return cs_err_set(err, js->rc, "%s", js->msg);
    yajl_status st = yajl_complete_parse(js->h);
    if (st != yajl_status_ok && !js->rc)
        return cs_err_set(err, CS_EPARSE, "malformed JSON: input ended early after %zu bytes", js->fed);
    return cs__status(js, st, NULL, 0, err);
}

void cs_jstream_skip(cs_jstream_t *js)
{
    js->skip_asked = true;
}

const char *cs_jstream_key_at(const cs_jstream_t *js, size_t depth)
{
    if (depth == 0 || depth > js->depth)
        return NULL;
    const cs__level_t *l = &js->levels[depth - 1];
    return l->is_map ? (l->key ? l->key : "") : NULL;
}

bool cs_jstream_path_is(const cs_jstream_t *js, const char *const *path, size_t count)
{
    if (count > js->depth)
        return false;
    for (size_t d = 0; d < count; d++) {
        const cs__level_t *l = &js->levels[d];
        if (path[d] == NULL) {
            if (l->is_map)
                return false;
        } else if (!l->is_map || !l->key || strcmp(l->key, path[d]) != 0) {
            return false;
        }
    }
    return true;
}
