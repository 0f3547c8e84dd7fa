/* Tests for typed, path-aware JSON access and bounded parsing. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"

static json_t *parse(const char *text)
{
    json_t *v = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_json_parse(text, strlen(text), "test", &v, &err), 0, "%s", err.msg);
    return v;
}

Test(json, typed_getters)
{
    json_t *o = parse("{\"i\":42,\"r\":1.5,\"w\":5.0,\"b\":true,\"s\":\"x\",\"o\":{},\"a\":[],\"n\":null}");
    int64_t i = 0;
    double d = 0;
    bool b = false;
    const char *s = NULL;
    const json_t *sub = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_json_get_int(o, "spec", "i", 0, &i, &err), 0);
    cr_expect_eq(i, 42);
    cr_expect_eq(cs_json_get_int(o, "spec", "w", 0, &i, &err), 0, "an integral real is an integer");
    cr_expect_eq(i, 5);
    cr_expect_eq(cs_json_get_number(o, "spec", "r", 0, &d, &err), 0);
    cr_expect_float_eq(d, 1.5, 1e-12);
    cr_expect_eq(cs_json_get_number(o, "spec", "i", 0, &d, &err), 0);
    cr_expect_float_eq(d, 42.0, 1e-12);
    cr_expect_eq(cs_json_get_bool(o, "spec", "b", 0, &b, &err), 0);
    cr_expect(b);
    cr_expect_eq(cs_json_get_string(o, "spec", "s", 0, &s, &err), 0);
    cr_expect_str_eq(s, "x");
    cr_expect_eq(cs_json_get_object(o, "spec", "o", 0, &sub, &err), 0);
    cr_expect_eq(cs_json_get_array(o, "spec", "a", 0, &sub, &err), 0);
    json_decref(o);
}

Test(json, errors_name_the_path)
{
    json_t *o = parse("{\"dataShards\":\"4\",\"r\":1.5,\"n\":null}");
    int64_t i = 7;
    cs_err_t err = {0};
    cr_expect_eq(cs_json_get_int(o, "spec", "dataShards", 0, &i, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "spec.dataShards: expected integer, got string");
    cr_expect_eq(cs_json_get_int(o, "spec", "r", 0, &i, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "spec.r: expected integer, got number");
    cr_expect_eq(cs_json_get_int(o, "spec", "missing", 0, &i, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "spec.missing: required field is missing");
    cr_expect_eq(cs_json_get_int(o, "spec", "missing", CS_JSON_OPTIONAL, &i, &err), 1);
    cr_expect_eq(cs_json_get_int(o, "spec", "n", CS_JSON_OPTIONAL, &i, &err), 1, "null counts as absent");
    cr_expect_eq(cs_json_get_int(o, "", "n", 0, &i, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "n: required field is missing");
    cr_expect_eq(i, 7, "output untouched on error or absence");
    const char *s;
    cr_expect_eq(cs_json_get_string(o, "spec", "r", 0, &s, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "spec.r: expected string, got number");
    json_decref(o);
}

Test(json, range)
{
    json_t *o = parse("{\"k\":300}");
    int64_t v = 0;
    cs_err_t err = {0};
    cr_expect_eq(cs_json_get_int_range(o, "spec", "k", 0, 1, 255, &v, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "spec.k: 300 is out of range [1, 255]");
    cr_expect_eq(cs_json_get_int_range(o, "spec", "k", 0, 300, 300, &v, &err), 0);
    cr_expect_eq(v, 300);
    json_decref(o);
}

Test(json, parse_rejects_bad_input)
{
    json_t *v = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_json_parse("{\"a\":1,\"a\":2}", 13, "body", &v, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "body: line 1") != NULL, "%s", err.msg);
    cr_expect_eq(cs_json_parse("{", 1, "body", &v, &err), CS_EPARSE);
    cr_expect_null(v);
    /* nesting beyond the limit is refused before parsing */
    char deep[200];
    memset(deep, '[', 100);
    memset(deep + 100, ']', 100);
    cr_expect_eq(cs_json_parse(deep, sizeof deep, "body", &v, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "nesting deeper than 64") != NULL, "%s", err.msg);
    char ok[128];
    memset(ok, '[', 64);
    memset(ok + 64, ']', 64);
    cr_expect_eq(cs_json_parse(ok, sizeof ok, "body", &v, &err), 0, "%s", err.msg);
    json_decref(v);
    /* brackets inside strings do not count */
    const char *str = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}";
    cr_expect_eq(cs_json_parse(str, strlen(str), "body", &v, &err), 0, "%s", err.msg);
    json_decref(v);
}

Test(json, paths)
{
    char buf[64];
    cr_expect_str_eq(cs_json_path_join(buf, sizeof buf, "spec", "x"), "spec.x");
    cr_expect_str_eq(cs_json_path_join(buf, sizeof buf, "", "x"), "x");
    cr_expect_str_eq(cs_json_path_join(buf, sizeof buf, NULL, "x"), "x");
    cr_expect_str_eq(cs_json_path_index(buf, sizeof buf, "items", 3), "items[3]");
    cr_expect_str_eq(cs_json_type_name(NULL), "nothing");
}
