/* jstream.h: streaming JSON decoding (yajl) for large bodies: lists of
 * thousands of objects, watch streams, Prometheus vectors. Bytes are fed as
 * they arrive (e.g. from an HTTP sink); each JSON token is handed to a
 * callback together with its position (the keys/indices above it), so a
 * decoder keeps only the fields it needs, never a tree.
 *
 * Bounded: nesting deeper than max_depth and strings longer than
 * max_string are errors. Untrusted input is safe to feed. */
#ifndef COUCHESTOR_JSTREAM_H
#define COUCHESTOR_JSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

typedef enum cs_jstream_kind {
    CS_JS_NULL,
    CS_JS_BOOL,
    CS_JS_INT,    /* integer that fits int64 */
    CS_JS_NUMBER, /* any other number: see .text and .d */
    CS_JS_STRING,
    CS_JS_MAP_START,
    CS_JS_MAP_END,
    CS_JS_ARRAY_START,
    CS_JS_ARRAY_END,
} cs_jstream_kind_t;

typedef struct cs_jstream_s cs_jstream_t;

typedef struct cs_jstream_event_s {
    cs_jstream_kind_t kind;
    size_t depth;    /* 0 for the top-level value; children of it are at 1 */
    const char *key; /* key of this value in its map, or NULL in an array / top level */
    size_t key_len;
    size_t index;     /* index in its array (when key is NULL and depth > 0) */
    const char *text; /* STRING and NUMBER: bytes (not NUL-terminated) */
    size_t text_len;
    int64_t i; /* INT */
    double d;  /* NUMBER and INT */
    bool b;    /* BOOL */
} cs_jstream_event_t;

/* Returns 0 to continue, or a negative CS_E* code to stop (the code is then
 * returned by cs_jstream_feed / cs_jstream_finish). */
typedef int (*cs_jstream_fn)(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev);

/* max_depth 0 = 64; max_string 0 = 1 MiB. allow_multiple: a stream of
 * concatenated or newline-separated values (watch streams). */
int cs_jstream_new(cs_jstream_fn fn, void *ctx, size_t max_depth, size_t max_string, bool allow_multiple,
                   cs_jstream_t **out);
void cs_jstream_free(cs_jstream_t *js);
/* Feeds bytes; on a syntax error returns CS_EPARSE with the position. */
int cs_jstream_feed(cs_jstream_t *js, const char *data, size_t len, cs_err_t *err);
/* Signals the end of input: an incomplete document is CS_EPARSE. */
int cs_jstream_finish(cs_jstream_t *js, cs_err_t *err);

/* The key of the value enclosing the current event at `depth` (1 = a key of
 * the top-level map), or NULL when that level is an array. Valid during the
 * callback. */
const char *cs_jstream_key_at(const cs_jstream_t *js, size_t depth);
/* True when the enclosing keys at depths 1..n equal path[0..n) (NULL in
 * path matches any array index), n = count. */
bool cs_jstream_path_is(const cs_jstream_t *js, const char *const *path, size_t count);
/* Called from the callback of a MAP_START or ARRAY_START event: the
 * contents of that container produce no events (the cheapest way past a
 * subtree nobody reads: no key is copied, no number converted). They are
 * still checked: syntax, nesting depth, string and number lengths. The
 * container's own END event is delivered as usual. Ignored for other
 * events. */
void cs_jstream_skip(cs_jstream_t *js);
/* Lets a callback record a precise error message that feed/finish return. */
void cs_jstream_fail(cs_jstream_t *js, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
