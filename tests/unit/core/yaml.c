/* Tests for YAML documents into JSON trees. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "couchestor/yaml.h"

static json_t *parse_ok(const char *text)
{
    json_t *docs = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_yaml_parse(text, strlen(text), "t.yaml", &docs, &err), 0, "%s", err.msg);
    return docs;
}

static void parse_bad(const char *text, const char *expect)
{
    json_t *docs = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_yaml_parse(text, strlen(text), "t.yaml", &docs, &err), CS_EPARSE, "should fail: %s", text);
    cr_expect_null(docs);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

Test(yaml, scalars_resolve_like_yaml_1_2)
{
    json_t *d = parse_ok("i: 42\nneg: -7\nhex: 0x1f\noct: 0o17\nf: 1.5\nt: true\nF: False\nn: null\nt2: ~\n"
                         "s: hello\nq: \"42\"\nsq: 'true'\nyes: yes\nver: 1.2.3\nbig: 99999999999999999999\nempty:\n");
    json_t *o = json_array_get(d, 0);
    cr_expect_eq(json_integer_value(json_object_get(o, "i")), 42);
    cr_expect_eq(json_integer_value(json_object_get(o, "neg")), -7);
    cr_expect_eq(json_integer_value(json_object_get(o, "hex")), 31);
    cr_expect_eq(json_integer_value(json_object_get(o, "oct")), 15);
    cr_expect_float_eq(json_real_value(json_object_get(o, "f")), 1.5, 1e-12);
    cr_expect(json_is_true(json_object_get(o, "t")));
    cr_expect(json_is_false(json_object_get(o, "F")));
    cr_expect(json_is_null(json_object_get(o, "n")));
    cr_expect(json_is_null(json_object_get(o, "t2")));
    cr_expect(json_is_null(json_object_get(o, "empty")));
    cr_expect_str_eq(json_string_value(json_object_get(o, "s")), "hello");
    cr_expect_str_eq(json_string_value(json_object_get(o, "q")), "42");
    cr_expect_str_eq(json_string_value(json_object_get(o, "sq")), "true");
    cr_expect_str_eq(json_string_value(json_object_get(o, "yes")), "yes", "YAML 1.2: yes is a string");
    cr_expect_str_eq(json_string_value(json_object_get(o, "ver")), "1.2.3");
    cr_expect_str_eq(json_string_value(json_object_get(o, "big")), "99999999999999999999");
    json_decref(d);
}

Test(yaml, nesting_and_documents)
{
    json_t *d = parse_ok("---\napiVersion: v1\nitems:\n  - a: 1\n  - [x, y]\nflow: {k: v}\n---\n---\nkind: B\n");
    cr_expect_eq(json_array_size(d), 2, "the empty document is skipped");
    json_t *a = json_array_get(d, 0);
    cr_expect_str_eq(json_string_value(json_object_get(a, "apiVersion")), "v1");
    json_t *items = json_object_get(a, "items");
    cr_expect_eq(json_array_size(items), 2);
    cr_expect_eq(json_integer_value(json_object_get(json_array_get(items, 0), "a")), 1);
    cr_expect_str_eq(json_string_value(json_array_get(json_array_get(items, 1), 1)), "y");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(a, "flow"), "k")), "v");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(d, 1), "kind")), "B");
    json_decref(d);
}

Test(yaml, tagged_string)
{
    json_t *d = parse_ok("v: !!str 12\n");
    cr_expect_str_eq(json_string_value(json_object_get(json_array_get(d, 0), "v")), "12");
    json_decref(d);
}

Test(yaml, rejects)
{
    parse_bad("a: 1\na: 2\n", "t.yaml:2:1: duplicate key \"a\"");
    parse_bad("a: &x 1\nb: *x\n", "anchors");
    parse_bad("a: [1, 2\n", "t.yaml:");
    parse_bad("? [a]\n: 1\n", "mapping keys must be plain strings");
    char deep[400] = "";
    for (int i = 0; i < 70; i++)
        strcat(deep, "[");
    parse_bad(deep, "too deep");
}

Test(yaml, file_reading_is_bounded)
{
    char path[] = "/tmp/cs-yaml-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("key: value\n", f);
    fclose(f);
    json_t *docs = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_yaml_load_file(path, 1024, &docs, &err), 0, "%s", err.msg);
    json_decref(docs);
    cr_expect_eq(cs_yaml_load_file(path, 4, &docs, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "larger than the limit of 4 bytes") != NULL, "%s", err.msg);
    unlink(path);
    cr_expect_eq(cs_yaml_load_file(path, 1024, &docs, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "cannot open") != NULL, "%s", err.msg);
}
