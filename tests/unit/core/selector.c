/* Tests for label syntax, label selectors (both forms) and matching. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "couchestor/selector.h"

static cs_labels_t labels_of(const char *const *kv)
{
    cs_labels_t l = {0};
    for (; kv[0]; kv += 2)
        cr_assert_eq(cs_labels_set(&l, kv[0], kv[1]), 0);
    return l;
}

static bool matches(const char *sel_text, const char *const *kv)
{
    cs_selector_t sel;
    cs_err_t err = {0};
    cr_assert_eq(cs_selector_parse(sel_text, &sel, &err), 0, "parse(\"%s\"): %s", sel_text, err.msg);
    cs_labels_t l = labels_of(kv);
    bool m = cs_selector_matches(&sel, &l);
    cs_labels_free(&l);
    cs_selector_free(&sel);
    return m;
}

static void parse_bad(const char *text, const char *expect)
{
    cs_selector_t sel = {0};
    cs_err_t err = {0};
    cr_assert_lt(cs_selector_parse(text, &sel, &err), 0, "parse(\"%s\") should fail", text);
    cr_expect_eq(sel.count, 0);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

static const char *const hot_nvme[] = {"storage-tier", "hot", "media-type", "nvme", NULL};
static const char *const none[] = {NULL};

Test(selector, string_form_operators)
{
    cr_expect(matches("storage-tier=hot", hot_nvme));
    cr_expect(matches("storage-tier==hot", hot_nvme));
    cr_expect_not(matches("storage-tier=cold", hot_nvme));
    cr_expect(matches("storage-tier!=cold", hot_nvme));
    cr_expect(matches("storage-tier!=cold", none), "!= matches when the key is absent");
    cr_expect(matches("storage-tier in (hot, warm)", hot_nvme));
    cr_expect_not(matches("storage-tier in (warm,cold)", hot_nvme));
    cr_expect(matches("storage-tier notin (warm,cold)", hot_nvme));
    cr_expect(matches("zone notin (a)", hot_nvme), "notin matches when the key is absent");
    cr_expect(matches("media-type", hot_nvme));
    cr_expect_not(matches("zone", hot_nvme));
    cr_expect(matches("!zone", hot_nvme));
    cr_expect_not(matches("!media-type", hot_nvme));
    cr_expect(matches("storage-tier=hot,media-type in (nvme),!zone", hot_nvme));
    cr_expect_not(matches("storage-tier=hot,media-type=ssd", hot_nvme));
    cr_expect(matches("", hot_nvme), "empty selector matches everything");
    cr_expect(matches("  ", none));
}

Test(selector, empty_value)
{
    static const char *const empty_v[] = {"a", "", NULL};
    cr_expect(matches("a=", empty_v));
    cr_expect(matches("a in (,x)", empty_v));
    cr_expect_not(matches("a=", none));
}

Test(selector, string_form_errors)
{
    parse_bad("a=b,", "expected a label key");
    parse_bad(",a", "expected a label key");
    parse_bad("a in ()", "must not be empty");
    parse_bad("a in (b", "expected ',' or ')'");
    parse_bad("a in b", "expected '('");
    parse_bad("a > 3", "not supported");
    parse_bad("a b", "expected an operator");
    parse_bad("!", "expected a label key after '!'");
    parse_bad("-bad=x", "must begin and end with an alphanumeric");
    parse_bad("a=-x", "must begin and end with an alphanumeric");
    parse_bad("a=b c", "expected ','");
    parse_bad("Example.com/x=y", "prefix must be a DNS subdomain");
    parse_bad("a/b/c=d", "at most one '/'");
}

Test(selector, key_and_value_rules)
{
    cs_err_t err = {0};
    cr_expect_eq(cs_label_key_validate("storage-tier", &err), 0);
    cr_expect_eq(cs_label_key_validate("openebs.io/created-by", &err), 0);
    cr_expect_eq(cs_label_key_validate("a", &err), 0);
    cr_expect_eq(cs_label_key_validate("A_b.c-D", &err), 0);
    char name63[64], name64[65];
    memset(name63, 'a', 63);
    name63[63] = 0;
    memset(name64, 'a', 64);
    name64[64] = 0;
    cr_expect_eq(cs_label_key_validate(name63, &err), 0);
    cr_expect_eq(cs_label_key_validate(name64, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "no more than 63") != NULL);
    cr_expect_eq(cs_label_value_validate(name63, &err), 0);
    cr_expect_eq(cs_label_value_validate(name64, &err), CS_EPARSE);
    cr_expect_eq(cs_label_value_validate("", &err), 0);
    cr_expect_eq(cs_label_key_validate("", &err), CS_EPARSE);
    cr_expect_eq(cs_label_key_validate("/x", &err), CS_EPARSE);
    cr_expect_eq(cs_label_key_validate("x/", &err), CS_EPARSE);
    cr_expect_eq(cs_label_key_validate("a..b/x", &err), CS_EPARSE);
    cr_expect_eq(cs_label_value_validate("has space", &err), CS_EPARSE);
    char prefix254[300];
    memset(prefix254, 'a', 254);
    strcpy(prefix254 + 254, "/x");
    cr_expect_eq(cs_label_key_validate(prefix254, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "253") != NULL);
}

static json_t *js(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    cr_assert_not_null(v, "bad test JSON: %s", e.text);
    return v;
}

Test(selector, structured_form)
{
    json_t *j = js("{\"matchLabels\":{\"storage-tier\":\"hot\"},"
                   "\"matchExpressions\":[{\"key\":\"media-type\",\"operator\":\"In\",\"values\":[\"nvme\",\"ssd\"]},"
                   "{\"key\":\"zone\",\"operator\":\"DoesNotExist\"}]}");
    cs_selector_t sel;
    cs_err_t err = {0};
    cr_assert_eq(cs_selector_from_json(j, "spec.hotPoolSelector", &sel, &err), 0, "%s", err.msg);
    cs_labels_t l = labels_of(hot_nvme);
    cr_expect(cs_selector_matches(&sel, &l));
    char *s = cs_selector_to_string(&sel);
    cr_expect_str_eq(s, "storage-tier=hot,media-type in (nvme,ssd),!zone");
    /* string -> parse -> same matching; structured -> JSON -> structured */
    cs_selector_t again;
    cr_assert_eq(cs_selector_parse(s, &again, &err), 0);
    cr_expect_eq(again.count, sel.count);
    json_t *back = cs_selector_to_json(&sel);
    cs_selector_t third;
    cr_assert_eq(cs_selector_from_json(back, "x", &third, &err), 0, "%s", err.msg);
    char *s3 = cs_selector_to_string(&third);
    cr_expect_str_eq(s3, s);
    free(s);
    free(s3);
    json_decref(back);
    json_decref(j);
    cs_selector_free(&sel);
    cs_selector_free(&again);
    cs_selector_free(&third);
    cs_labels_free(&l);
}

static void structured_bad(const char *text, const char *expect)
{
    json_t *j = js(text);
    cs_selector_t sel = {0};
    cs_err_t err = {0};
    cr_expect_lt(cs_selector_from_json(j, "spec.volumeSelector", &sel, &err), 0, "%s should fail", text);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
    cr_expect_eq(sel.count, 0);
    json_decref(j);
}

Test(selector, structured_errors)
{
    structured_bad("[]", "spec.volumeSelector: expected object, got array");
    structured_bad("{\"matchLabel\":{}}", "unknown field \"matchLabel\"");
    structured_bad("{\"matchLabels\":{\"a\":1}}", "spec.volumeSelector.matchLabels.a: expected string, got integer");
    structured_bad("{\"matchLabels\":{\"a b\":\"c\"}}", "spec.volumeSelector.matchLabels: label key");
    structured_bad("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Gt\",\"values\":[\"1\"]}]}",
                   "spec.volumeSelector.matchExpressions[0].operator: \"Gt\" is not one of");
    structured_bad("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\"}]}",
                   "matchExpressions[0].values: must be non-empty when operator is In");
    structured_bad("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}",
                   "values: must be empty when operator is Exists");
    structured_bad("{\"matchExpressions\":[{\"operator\":\"Exists\"}]}",
                   "spec.volumeSelector.matchExpressions[0].key: required field is missing");
    structured_bad("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[3]}]}",
                   "values[0]: expected string, got integer");
    structured_bad("{\"matchExpressions\":{}}", "spec.volumeSelector.matchExpressions: expected array, got object");
}

Test(selector, null_is_empty)
{
    cs_selector_t sel;
    cr_expect_eq(cs_selector_from_json(NULL, "x", &sel, NULL), 0);
    cr_expect(cs_selector_is_empty(&sel));
    json_t *n = json_null();
    cr_expect_eq(cs_selector_from_json(n, "x", &sel, NULL), 0);
    cr_expect(cs_selector_is_empty(&sel));
}

Test(selector, labels_json)
{
    json_t *j = js("{\"storage-tier\":\"hot\",\"media-type\":\"nvme\"}");
    cs_labels_t l;
    cr_assert_eq(cs_labels_from_json(j, "metadata.labels", &l, NULL), 0);
    cr_expect_eq(l.count, 2);
    cr_expect_str_eq(cs_labels_get(&l, "media-type"), "nvme");
    cr_expect_null(cs_labels_get(&l, "zone"));
    cr_expect_eq(cs_labels_set(&l, "media-type", "ssd"), 0);
    cr_expect_str_eq(cs_labels_get(&l, "media-type"), "ssd");
    cr_expect_eq(l.count, 2);
    json_t *back = cs_labels_to_json(&l);
    cr_expect_str_eq(json_string_value(json_object_get(back, "media-type")), "ssd");
    json_decref(back);
    json_decref(j);
    cs_labels_free(&l);
    cs_labels_free(&l);
    cs_labels_free(NULL);
    cs_err_t err = {0};
    j = js("{\"a\":true}");
    cr_expect_eq(cs_labels_from_json(j, "metadata.labels", &l, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "metadata.labels.a: expected string, got boolean");
    json_decref(j);
}
