/* decode.c: streaming decoder of Prometheus /api/v1/query replies (the
 * envelope, vector and scalar results, warnings, error bodies) into a
 * cs_prom_result_t, without building a JSON tree. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/jstream.h"
#include "prom/internal.h"

/* Prometheus replies nest 6 levels deep (matrix); leave room for extras. */
#define CS__PROM_MAX_DEPTH 16
/* Error texts embed the query; label values are short in practice. */
#define CS__PROM_MAX_STRING ((size_t)1024 * 1024)
#define CS__PROM_MAX_VALUE_TEXT 64

enum {
    ST_MISSING,
    ST_SUCCESS,
    ST_ERROR,
    ST_OTHER
};
enum {
    SHAPE_NONE,
    SHAPE_SAMPLES,
    SHAPE_PAIR
};

struct cs_prom_decoder_s {
    cs_jstream_t *js;
    locale_t c_locale;
    char *key_label;
    size_t max_series;

    int status;
    char status_text[32];
    char error_type[64];
    char error[384];
    int has_error_type, has_error;
    char result_type[16];
    int has_result_type, has_data, has_result;
    int in_data, in_result, in_sample;
    int shape;

    /* scalar/string: [t, "v"] */
    size_t pair_n;
    double pair_time, pair_value;
    int pair_value_ok;

    /* the sample being read: {"metric": {...}, "value": [t, "v"]} */
    char *s_key;
    size_t s_key_len, s_key_cap;
    int s_has_key, s_value_n, s_value_ok, s_matrix, s_histogram;
    double s_time, s_value;
    size_t matrix_series;

    cs_prom_result_t res;
};

/* ---- values ---- */

/* Go's float syntax as Prometheus writes it: [+-]digits[.digits][e[+-]digits],
 * NaN, +Inf, -Inf (also Inf). Nothing else (no hex, no spaces). */
static int cs__value_syntax_ok(const char *s, size_t n)
{
    if (n == 3 && (memcmp(s, "NaN", 3) == 0 || memcmp(s, "Inf", 3) == 0))
        return 1;
    if (n == 4 && (memcmp(s, "+Inf", 4) == 0 || memcmp(s, "-Inf", 4) == 0))
        return 1;
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, digits++;
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t exp = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, exp++;
        if (!exp)
            return 0;
    }
    return i == n;
}

static int cs__parse_value(locale_t loc, const char *text, size_t len, double *out)
{
    if (len == 0 || len >= CS__PROM_MAX_VALUE_TEXT || !cs__value_syntax_ok(text, len))
        return CS_EPARSE;
    if (len == 3 && memcmp(text, "NaN", 3) == 0) {
        *out = NAN;
        return 0;
    }
    if ((len == 3 && text[0] == 'I') || (len == 4 && text[0] == '+' && text[1] == 'I')) {
        *out = INFINITY;
        return 0;
    }
    if (len == 4 && text[0] == '-' && text[1] == 'I') {
        *out = -INFINITY;
        return 0;
    }
    char buf[CS__PROM_MAX_VALUE_TEXT];
    memcpy(buf, text, len);
    buf[len] = '\0';
    /* Out-of-range values (1e999) become +-HUGE_VAL = +-Inf, as in Go. */
    *out = strtod_l(buf, NULL, loc);
    return 0;
}

int cs_prom_parse_value(const char *text, size_t len, double *out)
{
    locale_t loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!loc)
        return CS_ENOMEM;
    int rc = cs__parse_value(loc, text, len, out);
    freelocale(loc);
    return rc;
}

const char *cs__prom_snippet(const char *body, size_t len, char *buf, size_t cap)
{
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++) {
        unsigned char c = (unsigned char)body[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            if (o > 0 && !space)
                buf[o++] = ' ';
            space = 1;
            continue;
        }
        space = 0;
        buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
        if (i + 1 < len && o + 4 >= cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
    }
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    return buf;
}

/* ---- event handling ---- */

#define CS__KEY_IS(ev, lit) \
    ((ev)->key && (ev)->key_len == sizeof(lit) - 1 && memcmp((ev)->key, lit, sizeof(lit) - 1) == 0)

static int cs__streq(const char *a, const char *lit)
{
    return a && strcmp(a, lit) == 0;
}

static const char *cs__kind_name(cs_jstream_kind_t k)
{
    switch (k) {
    case CS_JS_NULL:
        return "null";
    case CS_JS_BOOL:
        return "boolean";
    case CS_JS_INT:
    case CS_JS_NUMBER:
        return "number";
    case CS_JS_STRING:
        return "string";
    case CS_JS_MAP_START:
    case CS_JS_MAP_END:
        return "object";
    case CS_JS_ARRAY_START:
    case CS_JS_ARRAY_END:
        return "array";
    }
    return "value";
}

static int cs__fail(cs_jstream_t *js, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int cs__fail(cs_jstream_t *js, int code, const char *fmt, ...)
{
    char msg[CS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cs_jstream_fail(js, code, "%s", msg);
    return code;
}

static void cs__copy_text(char *dst, size_t cap, const cs_jstream_event_t *ev)
{
    size_t n = ev->text_len < cap - 1 ? ev->text_len : cap - 1;
    memcpy(dst, ev->text, n);
    dst[n] = '\0';
}

static int cs__begin_sample(cs_prom_decoder_t *d)
{
    d->in_sample = 1;
    d->s_has_key = 0;
    d->s_key_len = 0;
    d->s_value_n = 0;
    d->s_value_ok = 0;
    d->s_matrix = 0;
    d->s_histogram = 0;
    return 0;
}

static int cs__end_sample(cs_prom_decoder_t *d, cs_jstream_t *js, size_t index)
{
    d->in_sample = 0;
    cs_prom_result_t *r = &d->res;
    if (r->series + d->matrix_series >= d->max_series)
        return cs__fail(js, CS_ETOOBIG, "data.result has more than %zu series (the limit)", d->max_series);
    if (d->s_histogram)
        return cs__fail(js, CS_EPARSE,
                        "data.result[%zu] is a native histogram sample, which this client does "
                        "not decode (query a counter or gauge)",
                        index);
    if (d->s_matrix) {
        d->matrix_series++;
        return 0;
    }
    if (d->s_value_n != 2 || !d->s_value_ok)
        return cs__fail(js, CS_EPARSE, "data.result[%zu] has no \"value\": [<time>, \"<value>\"]", index);
    r->series++;
    r->time = d->s_time;
    if (!d->s_has_key) {
        r->unlabeled++;
        r->unlabeled_sum += d->s_value;
        return 0;
    }
    int rc = cs__prom_vector_add(r->vector, d->s_key, d->s_key_len, d->s_value);
    if (rc)
        return cs__fail(js, rc, "data.result[%zu]: %s", index, cs_strerror(rc));
    return 0;
}

/* A value inside data.result (depth >= 3). */
static int cs__on_result(cs_prom_decoder_t *d, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    size_t depth = ev->depth;
    if (depth == 3) {
        size_t idx = ev->index;
        switch (ev->kind) {
        case CS_JS_MAP_START:
            if (d->shape == SHAPE_PAIR)
                return cs__fail(js, CS_EPARSE, "data.result mixes samples and a [time, value] pair");
            d->shape = SHAPE_SAMPLES;
            return cs__begin_sample(d);
        case CS_JS_MAP_END:
            return cs__end_sample(d, js, idx);
        case CS_JS_INT:
        case CS_JS_NUMBER:
        case CS_JS_STRING:
            if (d->shape == SHAPE_SAMPLES)
                return cs__fail(js, CS_EPARSE, "data.result mixes samples and a [time, value] pair");
            d->shape = SHAPE_PAIR;
            if (idx == 0 && ev->kind != CS_JS_STRING) {
                d->pair_time = ev->d;
            } else if (idx == 1 && ev->kind == CS_JS_STRING) {
                d->pair_value_ok = cs__parse_value(d->c_locale, ev->text, ev->text_len, &d->pair_value) == 0;
            } else {
                return cs__fail(js, CS_EPARSE, "data.result[%zu]: a scalar result must be [<time>, \"<value>\"]", idx);
            }
            d->pair_n++;
            return 0;
        default:
            return cs__fail(js, CS_EPARSE, "data.result[%zu] is a %s; expected a sample object", idx,
                            cs__kind_name(ev->kind));
        }
    }
    if (!d->in_sample)
        return 0;
    const char *in = cs_jstream_key_at(js, 4); /* key of the sample's field */
    if (depth == 4) {
        if (CS__KEY_IS(ev, "metric")) {
            if (ev->kind != CS_JS_MAP_START && ev->kind != CS_JS_MAP_END && ev->kind != CS_JS_NULL)
                return cs__fail(js, CS_EPARSE, "data.result[].metric is a %s; expected an object",
                                cs__kind_name(ev->kind));
        } else if (CS__KEY_IS(ev, "value")) {
            if (ev->kind != CS_JS_ARRAY_START && ev->kind != CS_JS_ARRAY_END)
                return cs__fail(js, CS_EPARSE, "data.result[].value is a %s; expected [<time>, \"<value>\"]",
                                cs__kind_name(ev->kind));
        } else if (CS__KEY_IS(ev, "values")) {
            d->s_matrix = 1;
        } else if (CS__KEY_IS(ev, "histogram") || CS__KEY_IS(ev, "histograms")) {
            d->s_histogram = 1;
        }
        return 0;
    }
    if (depth != 5)
        return 0;
    if (cs__streq(in, "metric")) {
        if (ev->kind != CS_JS_STRING)
            return cs__fail(js, CS_EPARSE, "data.result[].metric.%s is a %s; label values are strings",
                            ev->key ? ev->key : "?", cs__kind_name(ev->kind));
        if (d->key_label && ev->key && strcmp(ev->key, d->key_label) == 0) {
            if (ev->text_len + 1 > d->s_key_cap) {
                size_t cap = d->s_key_cap ? d->s_key_cap : 64;
                while (cap < ev->text_len + 1)
                    cap *= 2;
                char *k = realloc(d->s_key, cap);
                if (!k)
                    return cs__fail(js, CS_ENOMEM, "out of memory decoding a Prometheus reply");
                d->s_key = k;
                d->s_key_cap = cap;
            }
            memcpy(d->s_key, ev->text, ev->text_len);
            d->s_key[ev->text_len] = '\0';
            d->s_key_len = ev->text_len;
            d->s_has_key = 1;
        }
    } else if (cs__streq(in, "value")) {
        if (ev->index == 0 && (ev->kind == CS_JS_INT || ev->kind == CS_JS_NUMBER)) {
            d->s_time = ev->d;
        } else if (ev->index == 1 && ev->kind == CS_JS_STRING) {
            if (cs__parse_value(d->c_locale, ev->text, ev->text_len, &d->s_value) != 0) {
                char v[CS__PROM_MAX_VALUE_TEXT];
                cs__copy_text(v, sizeof v, ev);
                return cs__fail(js, CS_EPARSE, "data.result[].value: \"%s\" is not a sample value", v);
            }
            d->s_value_ok = 1;
        } else {
            return cs__fail(js, CS_EPARSE, "data.result[].value must be [<time>, \"<value>\"]; element %zu is a %s",
                            ev->index, cs__kind_name(ev->kind));
        }
        d->s_value_n++;
    }
    return 0;
}

static int cs__on_event(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    cs_prom_decoder_t *d = ctx;
    size_t depth = ev->depth;
    if (depth == 0) {
        if (ev->kind != CS_JS_MAP_START && ev->kind != CS_JS_MAP_END)
            return cs__fail(js, CS_EPARSE, "the reply is a JSON %s, not an object", cs__kind_name(ev->kind));
        return 0;
    }
    if (depth == 1) {
        if (CS__KEY_IS(ev, "status")) {
            if (ev->kind != CS_JS_STRING)
                return cs__fail(js, CS_EPARSE, "\"status\" is a %s; expected a string", cs__kind_name(ev->kind));
            cs__copy_text(d->status_text, sizeof d->status_text, ev);
            d->status = strcmp(d->status_text, "success") == 0 ? ST_SUCCESS
                        : strcmp(d->status_text, "error") == 0 ? ST_ERROR
                                                               : ST_OTHER;
        } else if (CS__KEY_IS(ev, "errorType") && ev->kind == CS_JS_STRING) {
            cs__copy_text(d->error_type, sizeof d->error_type, ev);
            d->has_error_type = 1;
        } else if (CS__KEY_IS(ev, "error") && ev->kind == CS_JS_STRING) {
            cs__copy_text(d->error, sizeof d->error, ev);
            d->has_error = 1;
        } else if (CS__KEY_IS(ev, "warnings")) {
            if (ev->kind != CS_JS_ARRAY_START && ev->kind != CS_JS_ARRAY_END && ev->kind != CS_JS_NULL)
                return cs__fail(js, CS_EPARSE, "\"warnings\" is a %s; expected an array", cs__kind_name(ev->kind));
        } else if (CS__KEY_IS(ev, "data")) {
            if (ev->kind == CS_JS_MAP_START) {
                d->in_data = 1;
                d->has_data = 1;
            } else if (ev->kind == CS_JS_MAP_END) {
                d->in_data = 0;
            } else if (ev->kind != CS_JS_NULL) {
                return cs__fail(js, CS_EPARSE, "\"data\" is a %s; expected an object", cs__kind_name(ev->kind));
            }
        }
        return 0;
    }
    if (depth == 2) {
        const char *parent = cs_jstream_key_at(js, 1);
        if (cs__streq(parent, "warnings")) {
            if (ev->kind != CS_JS_STRING)
                return cs__fail(js, CS_EPARSE, "warnings[%zu] is a %s; expected a string", ev->index,
                                cs__kind_name(ev->kind));
            if (d->res.warning_count++ == 0)
                cs__copy_text(d->res.warning, sizeof d->res.warning, ev);
            return 0;
        }
        if (!d->in_data)
            return 0;
        if (CS__KEY_IS(ev, "resultType")) {
            if (ev->kind != CS_JS_STRING)
                return cs__fail(js, CS_EPARSE, "data.resultType is a %s; expected a string", cs__kind_name(ev->kind));
            cs__copy_text(d->result_type, sizeof d->result_type, ev);
            d->has_result_type = 1;
        } else if (CS__KEY_IS(ev, "result")) {
            if (ev->kind == CS_JS_ARRAY_START) {
                d->in_result = 1;
                d->has_result = 1;
            } else if (ev->kind == CS_JS_ARRAY_END) {
                d->in_result = 0;
            } else if (ev->kind != CS_JS_NULL) {
                return cs__fail(js, CS_EPARSE, "data.result is a %s; expected an array", cs__kind_name(ev->kind));
            }
        }
        return 0;
    }
    if (d->in_result)
        return cs__on_result(d, js, ev);
    return 0;
}

/* ---- public ---- */

int cs_prom_decoder_new(const char *key_label, size_t max_series, cs_prom_decoder_t **out, cs_err_t *err)
{
    *out = NULL;
    cs_prom_decoder_t *d = calloc(1, sizeof *d);
    if (!d)
        return cs_err_set(err, CS_ENOMEM, "Prometheus decoder: out of memory");
    d->max_series = max_series ? max_series : CS_PROM_DEFAULT_MAX_SERIES;
    d->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    d->res.vector = cs__prom_vector_new();
    if (key_label)
        d->key_label = strdup(key_label);
    if (!d->c_locale || !d->res.vector || (key_label && !d->key_label) ||
        cs_jstream_new(cs__on_event, d, CS__PROM_MAX_DEPTH, CS__PROM_MAX_STRING, false, &d->js) != 0) {
        cs_prom_decoder_free(d);
        return cs_err_set(err, CS_ENOMEM, "Prometheus decoder: out of memory");
    }
    *out = d;
    return 0;
}

void cs_prom_decoder_free(cs_prom_decoder_t *d)
{
    if (!d)
        return;
    cs_jstream_free(d->js);
    if (d->c_locale)
        freelocale(d->c_locale);
    free(d->key_label);
    free(d->s_key);
    cs_prom_result_free(&d->res);
    free(d);
}

/* Any failure to decode a 2xx reply is a response-parse error; keep
 * out-of-memory as it is. */
static int cs__parse_error(cs_err_t *err, int rc)
{
    if (rc == CS_ENOMEM)
        return rc;
    if (err) {
        err->code = CS_EPROM_RESPONSE_PARSE;
        cs_err_prefix(err, "Prometheus reply could not be parsed: ");
    }
    return CS_EPROM_RESPONSE_PARSE;
}

int cs_prom_decoder_feed(cs_prom_decoder_t *d, const char *data, size_t len, cs_err_t *err)
{
    int rc = cs_jstream_feed(d->js, data, len, err);
    return rc ? cs__parse_error(err, rc) : 0;
}

static int cs__type_of(const char *s, cs_prom_result_type_t *t)
{
    if (strcmp(s, "vector") == 0)
        *t = CS_PROM_RESULT_VECTOR;
    else if (strcmp(s, "scalar") == 0)
        *t = CS_PROM_RESULT_SCALAR;
    else if (strcmp(s, "matrix") == 0)
        *t = CS_PROM_RESULT_MATRIX;
    else if (strcmp(s, "string") == 0)
        *t = CS_PROM_RESULT_STRING;
    else
        return -1;
    return 0;
}

static int cs__query_error(const cs_prom_decoder_t *d, long http_status, cs_err_t *err)
{
    char code[32] = "";
    if (http_status)
        snprintf(code, sizeof code, "HTTP %ld, ", http_status);
    return cs_err_set(err, CS_EPROM_QUERY, "Prometheus rejected the query (%serrorType %s): %s", code,
                      d->has_error_type ? d->error_type : "(none)", d->has_error ? d->error : "(no error message)");
}

int cs__prom_decoder_finish(cs_prom_decoder_t *d, long http_status, cs_prom_result_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = cs_jstream_finish(d->js, err);
    if (rc)
        return cs__parse_error(err, rc);
    if (d->status == ST_ERROR)
        return cs__query_error(d, http_status, err);
    if (d->status == ST_MISSING)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE,
                          "Prometheus reply could not be parsed: no \"status\" field "
                          "(is the URL a Prometheus server?)");
    if (d->status == ST_OTHER)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE,
                          "Prometheus reply could not be parsed: \"status\" is \"%s\", expected "
                          "\"success\" or \"error\"",
                          d->status_text);
    if (!d->has_data || !d->has_result_type)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE,
                          "Prometheus reply could not be parsed: status success without "
                          "data.resultType");
    cs_prom_result_type_t t;
    if (cs__type_of(d->result_type, &t) != 0)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE,
                          "Prometheus reply could not be parsed: unknown data.resultType \"%s\"", d->result_type);
    if (!d->has_result)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE, "Prometheus reply could not be parsed: data.result is missing");
    const char *bad = NULL;
    switch (t) {
    case CS_PROM_RESULT_VECTOR:
        if (d->shape == SHAPE_PAIR || d->matrix_series)
            bad = "a vector result holds samples with \"value\"";
        break;
    case CS_PROM_RESULT_MATRIX:
        if (d->shape == SHAPE_PAIR || d->res.series)
            bad = "a matrix result holds series with \"values\"";
        break;
    case CS_PROM_RESULT_SCALAR:
        if (d->shape != SHAPE_PAIR || d->pair_n != 2 || !d->pair_value_ok)
            bad = "a scalar result is [<time>, \"<value>\"]";
        break;
    case CS_PROM_RESULT_STRING:
        if (d->shape != SHAPE_PAIR || d->pair_n != 2)
            bad = "a string result is [<time>, \"<text>\"]";
        break;
    case CS_PROM_RESULT_NONE:
        break;
    }
    if (bad)
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE,
                          "Prometheus reply could not be parsed: resultType is \"%s\" but the "
                          "result does not match (%s)",
                          d->result_type, bad);
    *out = d->res;
    out->type = t;
    if (t == CS_PROM_RESULT_MATRIX)
        out->series = d->matrix_series;
    if (t == CS_PROM_RESULT_SCALAR) {
        out->scalar = d->pair_value;
        out->time = d->pair_time;
    }
    if (t != CS_PROM_RESULT_VECTOR) {
        cs_prom_vector_free(out->vector);
        out->vector = NULL;
    }
    memset(&d->res, 0, sizeof d->res);
    return 0;
}

int cs_prom_decoder_finish(cs_prom_decoder_t *d, cs_prom_result_t *out, cs_err_t *err)
{
    return cs__prom_decoder_finish(d, 0, out, err);
}

/* A non-2xx reply: Prometheus' own JSON error, or something in front of it. */
static int cs__http_error(long status, const char *body, size_t len, const char *key_label, cs_err_t *err)
{
    cs_prom_decoder_t *d = NULL;
    int rc = cs_prom_decoder_new(key_label, 0, &d, err);
    if (!d) /* set exactly when rc is 0 */
        return rc;
    cs_prom_result_t res;
    cs_err_t derr = {0};
    rc = cs_jstream_feed(d->js, body, len, &derr);
    if (rc == 0)
        rc = cs__prom_decoder_finish(d, status, &res, &derr);
    int status_seen = d->status;
    cs_prom_decoder_free(d);
    if (rc == CS_EPROM_QUERY && status_seen == ST_ERROR) {
        if (err)
            *err = derr;
        return rc;
    }
    if (rc == 0) {
        cs_prom_result_free(&res);
        return cs_err_set(err, CS_EPROM_QUERY,
                          "Prometheus answered HTTP %ld with a success body; treating it as a "
                          "failed query",
                          status);
    }
    char snip[160];
    cs__prom_snippet(body, len, snip, sizeof snip);
    if (status == 502 || status == 503 || status == 504)
        return cs_err_set(err, CS_EPROM_CONNECTION, "Prometheus (or a proxy in front of it) answered HTTP %ld: %s",
                          status, *snip ? snip : "(empty body)");
    const char *hint = "";
    if (status == 401 || status == 403)
        hint = " (check the Prometheus basic auth user/password or bearer token)";
    else if (status == 404)
        hint = " (is the URL the Prometheus base URL, including any path prefix?)";
    return cs_err_set(err, CS_EPROM_QUERY, "Prometheus answered HTTP %ld, not a Prometheus reply%s: %s", status, hint,
                      *snip ? snip : "(empty body)");
}

int cs_prom_decode(long http_status, const char *body, size_t len, const char *key_label, size_t max_series,
                   cs_prom_result_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!body)
        len = 0;
    if (http_status < 200 || http_status > 299)
        return cs__http_error(http_status, body ? body : "", len, key_label, err);
    cs_prom_decoder_t *d = NULL;
    int rc = cs_prom_decoder_new(key_label, max_series, &d, err);
    if (!d) /* set exactly when rc is 0 */
        return rc;
    rc = cs_prom_decoder_feed(d, body ? body : "", len, err);
    if (rc == 0)
        rc = cs__prom_decoder_finish(d, http_status, out, err);
    cs_prom_decoder_free(d);
    return rc;
}
