/* Tests for the streaming JSON decoder: positions, bounds, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "couchestor/jstream.h"

typedef struct {
    char log[4096];
    size_t names;
    char last_name[64];
} trace_t;

static int trace(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    trace_t *t = ctx;
    char item[128];
    static const char *kinds[] = {"null", "bool", "int", "num", "str", "{", "}", "[", "]"};
    if (ev->key)
        snprintf(item, sizeof item, "%zu:%s=%s", ev->depth, ev->key, kinds[ev->kind]);
    else
        snprintf(item, sizeof item, "%zu:#%zu=%s", ev->depth, ev->index, kinds[ev->kind]);
    strncat(t->log, item, sizeof t->log - strlen(t->log) - 2);
    strcat(t->log, " ");
    static const char *const name_path[] = {"items", NULL, "metadata"};
    if (ev->kind == CS_JS_STRING && ev->depth == 4 && cs_jstream_path_is(js, name_path, 3) &&
        strcmp(ev->key, "name") == 0) {
        t->names++;
        snprintf(t->last_name, sizeof t->last_name, "%.*s", (int)ev->text_len, ev->text);
    }
    return 0;
}

static const char *doc = "{\"kind\":\"PVList\",\"items\":[{\"metadata\":{\"name\":\"pv-a\",\"labels\":{\"x\":\"y\"}},"
                         "\"spec\":{\"n\":42,\"f\":1.5,\"b\":true,\"z\":null}},"
                         "{\"metadata\":{\"name\":\"pv-b\"}}],\"big\":123456789012345678901234}";

Test(jstream, positions_whole_and_byte_by_byte)
{
    trace_t whole = {0}, bytes = {0};
    cs_jstream_t *js;
    cs_err_t err = {0};
    cr_assert_eq(cs_jstream_new(trace, &whole, 0, 0, false, &js), 0);
    cr_assert_eq(cs_jstream_feed(js, doc, strlen(doc), &err), 0, "%s", err.msg);
    cr_assert_eq(cs_jstream_finish(js, &err), 0, "%s", err.msg);
    cs_jstream_free(js);
    cr_assert_eq(cs_jstream_new(trace, &bytes, 0, 0, false, &js), 0);
    for (size_t i = 0; i < strlen(doc); i++)
        cr_assert_eq(cs_jstream_feed(js, doc + i, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_jstream_finish(js, &err), 0);
    cs_jstream_free(js);
    cr_expect_str_eq(whole.log, bytes.log, "chunking must not change the events");
    cr_expect_eq(whole.names, 2);
    cr_expect_str_eq(whole.last_name, "pv-b");
    cr_expect(
        strstr(
            whole.log,
            "0:#0={ 1:kind=str 1:items=[ 2:#0={ 3:metadata={ 4:name=str 4:labels={ 5:x=str 4:labels=} 3:metadata=} ") ==
            whole.log,
        "%s", whole.log);
    cr_expect(strstr(whole.log, "4:n=int 4:f=num 4:b=bool 4:z=null") != NULL, "%s", whole.log);
    cr_expect(strstr(whole.log, "2:#1={") != NULL, "%s", whole.log);
    cr_expect(strstr(whole.log, "1:big=num") != NULL, "an integer beyond int64 is a NUMBER: %s", whole.log);
}

static int count_values(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    if (ev->depth == 0 && (ev->kind == CS_JS_MAP_END))
        (*(int *)ctx)++;
    return 0;
}

Test(jstream, multiple_values_for_watch_streams)
{
    const char *s = "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n{\"type\":\"BOOKMARK\"}\n";
    int n = 0;
    cs_jstream_t *js;
    cs_err_t err = {0};
    cr_assert_eq(cs_jstream_new(count_values, &n, 0, 0, true, &js), 0);
    cr_assert_eq(cs_jstream_feed(js, s, strlen(s), &err), 0, "%s", err.msg);
    cr_assert_eq(cs_jstream_finish(js, &err), 0, "%s", err.msg);
    cs_jstream_free(js);
    cr_expect_eq(n, 3);
    /* without allow_multiple the second value is an error */
    n = 0;
    cr_assert_eq(cs_jstream_new(count_values, &n, 0, 0, false, &js), 0);
    cr_expect_eq(cs_jstream_feed(js, s, strlen(s), &err), CS_EPARSE);
    cs_jstream_free(js);
}

static void expect_error(const char *text, size_t depth, size_t maxstr, int code, const char *msg)
{
    trace_t t = {0};
    cs_jstream_t *js;
    cs_err_t err = {0};
    cr_assert_eq(cs_jstream_new(trace, &t, depth, maxstr, false, &js), 0);
    int rc = cs_jstream_feed(js, text, strlen(text), &err);
    if (rc == 0)
        rc = cs_jstream_finish(js, &err);
    cs_jstream_free(js);
    cr_expect_eq(rc, code, "%s: got %d (%s)", text, rc, err.msg);
    cr_expect(strstr(err.msg, msg) != NULL, "message \"%s\" lacks \"%s\"", err.msg, msg);
}

Test(jstream, bounds_and_errors)
{
    expect_error("[[[[1]]]]", 3, 0, CS_EPARSE, "nesting deeper than 3 levels");
    expect_error("[\"abcdef\"]", 0, 5, CS_ETOOBIG, "JSON string of 6 bytes exceeds the limit of 5");
    expect_error("{\"abcdef\":1}", 0, 5, CS_ETOOBIG, "JSON key of 6 bytes");
    expect_error("{\"a\":}", 0, 0, CS_EPARSE, "malformed JSON");
    expect_error("{\"a\":1", 0, 0, CS_EPARSE, "input ended early");
    expect_error("[\"\xff\"]", 0, 0, CS_EPARSE, "malformed JSON");
    char digits[200];
    memset(digits, '1', sizeof digits - 1);
    digits[sizeof digits - 1] = '\0';
    expect_error(digits, 0, 0, CS_EPARSE, "too long");
}

static int stop_at_second(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    if (ev->kind == CS_JS_INT && ev->i == 2) {
        cs_jstream_fail(js, CS_EINVAL, "value %lld is not allowed", (long long)ev->i);
        return CS_EINVAL;
    }
    return 0;
}

Test(jstream, callback_can_stop_with_a_message)
{
    cs_jstream_t *js;
    cs_err_t err = {0};
    cr_assert_eq(cs_jstream_new(stop_at_second, NULL, 0, 0, false, &js), 0);
    cr_expect_eq(cs_jstream_feed(js, "[1,2,3]", 7, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "value 2 is not allowed");
    cr_expect_eq(cs_jstream_feed(js, "", 0, &err), CS_EINVAL, "errors are sticky");
    cs_jstream_free(js);
    cs_jstream_free(NULL);
}

static int ints(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    char *out = ctx;
    char item[64];
    if (ev->kind == CS_JS_INT)
        snprintf(item, sizeof item, "i%lld ", (long long)ev->i);
    else if (ev->kind == CS_JS_NUMBER)
        snprintf(item, sizeof item, "n%.17g ", ev->d);
    else
        return 0;
    strcat(out, item);
    return 0;
}

Test(jstream, integer_bounds)
{
    char out[512] = "";
    const char *nums = "[0,-0,7,-7,9223372036854775807,-9223372036854775808,9223372036854775808,1.5,-2e3,10E1]";
    cs_jstream_t *js;
    cr_assert_eq(cs_jstream_new(ints, out, 0, 0, false, &js), 0);
    cr_assert_eq(cs_jstream_feed(js, nums, strlen(nums), NULL), 0);
    cr_assert_eq(cs_jstream_finish(js, NULL), 0);
    cs_jstream_free(js);
    cr_expect_str_eq(out, "i0 i0 i7 i-7 i9223372036854775807 i-9223372036854775808 n9.2233720368547758e+18 "
                          "n1.5 n-2000 n100 ");
}

/* Skips every container whose key is "skip": its contents give no events,
 * its END does. */
static int skipper(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    if ((ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START) && ev->key && strcmp(ev->key, "skip") == 0)
        cs_jstream_skip(js);
    if (ev->kind == CS_JS_STRING) /* ancestors' keys stay right after a skip */
        cr_expect(ev->depth < 2 || cs_jstream_key_at(js, 1) != NULL);
    return trace(ctx, js, ev);
}

static void skip_trace(const char *text, size_t depth, size_t chunk, trace_t *t, int *rc, cs_err_t *err)
{
    cs_jstream_t *js;
    cr_assert_eq(cs_jstream_new(skipper, t, depth, 8, false, &js), 0);
    *rc = 0;
    size_t len = strlen(text);
    for (size_t o = 0; o < len && *rc == 0; o += chunk)
        *rc = cs_jstream_feed(js, text + o, len - o < chunk ? len - o : chunk, err);
    if (*rc == 0)
        *rc = cs_jstream_finish(js, err);
    cs_jstream_free(js);
}

Test(jstream, skip_mode)
{
    const char *text = "{\"a\":1,\"skip\":{\"x\":[1,{\"y\":\"z\"}],\"n\":null,\"t\":true,\"f\":1.5},"
                       "\"l\":[\"s\",{\"skip\":[[2],{}]},3],\"b\":\"end\",\"skip\":[]}";
    const char *want = "0:#0={ 1:a=int 1:skip={ 1:skip=} 1:l=[ 2:#0=str 2:#1={ 3:skip=[ 3:skip=] 2:#1=} 2:#2=int "
                       "1:l=] 1:b=str 1:skip=[ 1:skip=] 0:#0=} ";
    for (size_t chunk = 1; chunk <= strlen(text); chunk += strlen(text) - 1) {
        trace_t t = {0};
        cs_err_t err = {0};
        int rc;
        skip_trace(text, 5, chunk, &t, &rc, &err);
        cr_expect_eq(rc, 0, "%s", err.msg);
        cr_expect_str_eq(t.log, want, "chunk %zu", chunk);
    }
}

Test(jstream, skipped_contents_are_still_checked)
{
    struct {
        const char *text;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"skip\":{\"a\":[[[1]]]}}", CS_EPARSE, "nesting deeper than 4 levels"},
        {"{\"skip\":[\"123456789\"]}", CS_ETOOBIG, "JSON string of 9 bytes exceeds the limit of 8"},
        {"{\"skip\":{\"123456789\":1}}", CS_ETOOBIG, "JSON key of 9 bytes"},
        {"{\"skip\":[1,]}", CS_EPARSE, "malformed JSON"},
        {"{\"skip\":[\"\xff\"]}", CS_EPARSE, "malformed JSON"},
        {"{\"skip\":[1}", CS_EPARSE, "malformed JSON"},
        {"{\"skip\":[1,2]", CS_EPARSE, "input ended early"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        trace_t t = {0};
        cs_err_t err = {0};
        int rc;
        skip_trace(cases[i].text, 4, 1000, &t, &rc, &err);
        cr_expect_eq(rc, cases[i].code, "%s: got %d (%s)", cases[i].text, rc, err.msg);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "%s: \"%s\" lacks \"%s\"", cases[i].text, err.msg,
                  cases[i].msg);
    }
    /* a long number inside a skipped array is as refused as outside */
    char num[200] = "{\"skip\":[";
    memset(num + strlen(num), '1', 150);
    strcat(num, "]}");
    cs_jstream_t *js;
    cs_err_t err = {0};
    cr_assert_eq(cs_jstream_new(skipper, &(trace_t){0}, 0, 0, false, &js), 0);
    cr_expect_eq(cs_jstream_feed(js, num, strlen(num), &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "too long") != NULL, "%s", err.msg);
    cs_jstream_free(js);
}
