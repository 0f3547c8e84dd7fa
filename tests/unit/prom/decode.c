/* Tests for the Prometheus reply decoder on replies recorded from a real
 * Prometheus 2.42 (and hand-made broken ones): vectors, scalars, special
 * values, warnings, error bodies, non-JSON bodies, bounds. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "couchestor/prom.h"

/* Recorded: sum by (pv_name) (rate(volume_num_read_ops[5s]) + rate(volume_num_write_ops[5s])) */
static const char VECTOR[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                             "{\"metric\":{\"pv_name\":\"pvc-0\"},\"value\":[1795657239.518,\"15\"]},"
                             "{\"metric\":{\"pv_name\":\"pvc-1\"},\"value\":[1795657239.518,\"30\"]},"
                             "{\"metric\":{\"pv_name\":\"pvc-2\"},\"value\":[1795657239.518,\"45.5\"]}]}}";

static int decode(long status, const char *body, const char *label, cs_prom_result_t *r, cs_err_t *err)
{
    return cs_prom_decode(status, body, strlen(body), label, 0, r, err);
}

Test(decode, vector_by_label)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(decode(200, VECTOR, "pv_name", &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_VECTOR);
    cr_expect_eq(r.series, 3);
    cr_expect_eq(r.unlabeled, 0);
    cr_expect_eq(cs_prom_vector_count(r.vector), 3);
    double v = 0;
    cr_expect_eq(cs_prom_vector_get(r.vector, "pvc-1", &v), 0);
    cr_expect_float_eq(v, 30.0, 1e-12);
    cr_expect_eq(cs_prom_vector_get(r.vector, "pvc-2", &v), 0);
    cr_expect_float_eq(v, 45.5, 1e-12);
    cr_expect_eq(cs_prom_vector_get(r.vector, "pvc-9", &v), CS_ENOTFOUND);
    const char *k;
    cr_expect(cs_prom_vector_at(r.vector, 0, &k, &v));
    cr_expect_str_eq(k, "pvc-0", "insertion order");
    cr_expect_not(cs_prom_vector_at(r.vector, 3, &k, &v));
    cr_expect_float_eq(r.time, 1795657239.518, 1e-3);
    cs_prom_result_free(&r);
    cr_expect_null(r.vector);
}

Test(decode, streaming_in_one_byte_chunks_gives_the_same_result)
{
    cs_prom_decoder_t *d = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_decoder_new("pv_name", 0, &d, &err), 0);
    for (size_t i = 0; i < sizeof VECTOR - 1; i++)
        cr_assert_eq(cs_prom_decoder_feed(d, VECTOR + i, 1, &err), 0, "%s", err.msg);
    cs_prom_result_t r;
    cr_assert_eq(cs_prom_decoder_finish(d, &r, &err), 0, "%s", err.msg);
    cs_prom_decoder_free(d);
    double v = 0;
    cr_expect_eq(cs_prom_vector_get(r.vector, "pvc-0", &v), 0);
    cr_expect_float_eq(v, 15.0, 1e-12);
    cs_prom_result_free(&r);
}

Test(decode, key_order_does_not_matter_and_duplicates_are_summed)
{
    const char *body = "{\"data\":{\"result\":["
                       "{\"value\":[1,\"2\"],\"metric\":{\"node\":\"a\",\"pv_name\":\"pvc-x\"}},"
                       "{\"metric\":{\"node\":\"b\",\"pv_name\":\"pvc-x\"},\"value\":[1,\"3\"]},"
                       "{\"metric\":{\"node\":\"c\"},\"value\":[1,\"7\"]}"
                       "],\"resultType\":\"vector\"},\"status\":\"success\"}";
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(decode(200, body, "pv_name", &r, &err), 0, "%s", err.msg);
    double v = 0;
    cr_expect_eq(cs_prom_vector_get(r.vector, "pvc-x", &v), 0);
    cr_expect_float_eq(v, 5.0, 1e-12, "a volume reported by two nodes is summed");
    cr_expect_eq(r.series, 3);
    cr_expect_eq(r.unlabeled, 1);
    cr_expect_float_eq(r.unlabeled_sum, 7.0, 1e-12);
    cs_prom_result_free(&r);
}

Test(decode, empty_vector_is_success_not_error)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(
        decode(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}", "pv_name", &r, &err),
        0);
    cr_expect_eq(r.type, CS_PROM_RESULT_VECTOR);
    cr_expect_eq(cs_prom_vector_count(r.vector), 0);
    cr_expect_eq(r.series, 0);
    cs_prom_result_free(&r);
}

Test(decode, special_values)
{
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                       "{\"metric\":{\"pv_name\":\"nan\"},\"value\":[1,\"NaN\"]},"
                       "{\"metric\":{\"pv_name\":\"pinf\"},\"value\":[1,\"+Inf\"]},"
                       "{\"metric\":{\"pv_name\":\"ninf\"},\"value\":[1,\"-Inf\"]},"
                       "{\"metric\":{\"pv_name\":\"exp\"},\"value\":[1,\"1e+06\"]},"
                       "{\"metric\":{\"pv_name\":\"long\"},\"value\":[1,\"0.6861999999999999\"]},"
                       "{\"metric\":{\"pv_name\":\"esc\\\"q\\\\\\n\"},\"value\":[1,\"-0\"]}]}}";
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(decode(200, body, "pv_name", &r, &err), 0, "%s", err.msg);
    double v;
    cs_prom_vector_get(r.vector, "nan", &v);
    cr_expect(isnan(v));
    cs_prom_vector_get(r.vector, "pinf", &v);
    cr_expect(isinf(v) && v > 0);
    cs_prom_vector_get(r.vector, "ninf", &v);
    cr_expect(isinf(v) && v < 0);
    cs_prom_vector_get(r.vector, "exp", &v);
    cr_expect_float_eq(v, 1e6, 1e-9);
    cs_prom_vector_get(r.vector, "long", &v);
    cr_expect_float_eq(v, 0.6861999999999999, 1e-15);
    cr_expect_eq(cs_prom_vector_get(r.vector, "esc\"q\\\n", &v), 0, "label values are unescaped");
    cs_prom_result_free(&r);
}

Test(decode, scalar_results)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    /* Recorded: 1/0 and scalar(vector(0)/0) */
    cr_assert_eq(
        decode(200,
               "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1795657239.567,\"+Inf\"]}}",
               NULL, &r, &err),
        0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_SCALAR);
    cr_expect(isinf(r.scalar));
    cr_expect_float_eq(r.time, 1795657239.567, 1e-3);
    cr_expect_null(r.vector);
    cs_prom_result_free(&r);
    cr_assert_eq(
        decode(200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1795657239.575,\"NaN\"]}}",
               NULL, &r, &err),
        0);
    cr_expect(isnan(r.scalar));
    cs_prom_result_free(&r);
}

Test(decode, string_and_matrix_are_recognised)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(
        decode(200,
               "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[1795657239.599,\"hello\"]}}",
               NULL, &r, &err),
        0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_STRING);
    cs_prom_result_free(&r);
    const char *matrix =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[{\"metric\":{\"__name__\":"
        "\"volume_num_read_ops\",\"pv_name\":\"pvc-0\"},\"values\":[[1795657236.800,\"129\"],"
        "[1795657237.800,\"139\"]]},{\"metric\":{\"pv_name\":\"pvc-1\"},\"values\":[[1795657236.800,\"259\"]]}]}}";
    cr_assert_eq(decode(200, matrix, "pv_name", &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.type, CS_PROM_RESULT_MATRIX);
    cr_expect_eq(r.series, 2);
    cs_prom_result_free(&r);
}

Test(decode, warnings_are_kept)
{
    const char *body = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]},"
                       "\"warnings\":[\"PromQL info: metric might not be a counter\",\"second\"]}";
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(decode(200, body, "pv_name", &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.warning_count, 2);
    cr_expect_str_eq(r.warning, "PromQL info: metric might not be a counter");
    cs_prom_result_free(&r);
}

Test(decode, error_bodies_become_query_errors)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    /* Recorded: rate(volume_num_read_ops[5s */
    cr_expect_eq(decode(400,
                        "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": "
                        "1:28: parse error: unclosed left parenthesis\"}",
                        "pv_name", &r, &err),
                 CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg, "Prometheus rejected the query (HTTP 400, errorType bad_data): invalid "
                              "parameter \"query\": 1:28: parse error: unclosed left parenthesis");
    cr_expect_eq(r.type, CS_PROM_RESULT_NONE);
    /* Recorded: rate({__name__=~"a|b"}[5s]) */
    cr_expect_eq(decode(422,
                        "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"vector cannot contain metrics "
                        "with the same labelset\"}",
                        "pv_name", &r, &err),
                 CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg, "Prometheus rejected the query (HTTP 422, errorType execution): vector "
                              "cannot contain metrics with the same labelset");
    cr_expect_eq(
        decode(
            503,
            "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out in expression evaluation\"}",
            "pv_name", &r, &err),
        CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg, "Prometheus rejected the query (HTTP 503, errorType timeout): query "
                              "timed out in expression evaluation");
    /* an error envelope even with 200 (some proxies) */
    cr_expect_eq(
        decode(200, "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"boom\"}", "pv_name", &r, &err),
        CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg, "Prometheus rejected the query (HTTP 200, errorType internal): boom");
}

Test(decode, non_json_bodies)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    /* Recorded: unknown path under /api/v1 */
    cr_expect_eq(decode(404, "404 page not found\n", "pv_name", &r, &err), CS_EPROM_QUERY);
    cr_expect_str_eq(err.msg, "Prometheus answered HTTP 404, not a Prometheus reply (is the URL the "
                              "Prometheus base URL, including any path prefix?): 404 page not found");
    cr_expect_eq(decode(401, "Unauthorized", "pv_name", &r, &err), CS_EPROM_QUERY);
    cr_expect(strstr(err.msg, "check the Prometheus basic auth") != NULL, "%s", err.msg);
    cr_expect_eq(decode(502, "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>", "pv_name", &r, &err),
                 CS_EPROM_CONNECTION);
    cr_expect_str_eq(err.msg, "Prometheus (or a proxy in front of it) answered HTTP 502: <html><body> "
                              "<h1>502 Bad Gateway</h1> </body></html>");
    cr_expect_eq(decode(503, "", "pv_name", &r, &err), CS_EPROM_CONNECTION);
    cr_expect_str_eq(err.msg, "Prometheus (or a proxy in front of it) answered HTTP 503: (empty body)");
    cr_expect_eq(decode(200, "Prometheus Server is Healthy.", "pv_name", &r, &err), CS_EPROM_RESPONSE_PARSE);
    cr_expect(strncmp(err.msg, "Prometheus reply could not be parsed: malformed JSON", 52) == 0, "%s", err.msg);
}

Test(decode, malformed_success_replies)
{
    static const struct {
        const char *body, *msg;
    } cases[] = {
        {"[1,2]", "Prometheus reply could not be parsed: the reply is a JSON array, not an object"},
        {"{\"data\":{\"resultType\":\"vector\",\"result\":[]}}",
         "Prometheus reply could not be parsed: no \"status\" field (is the URL a Prometheus server?)"},
        {"{\"status\":\"ok\"}",
         "Prometheus reply could not be parsed: \"status\" is \"ok\", expected \"success\" or \"error\""},
        {"{\"status\":\"success\"}", "Prometheus reply could not be parsed: status success without data.resultType"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"tensor\",\"result\":[]}}",
         "Prometheus reply could not be parsed: unknown data.resultType \"tensor\""},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}",
         "Prometheus reply could not be parsed: data.result is missing"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":{}}}",
         "Prometheus reply could not be parsed: data.result is a object; expected an array"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{}}]}}",
         "Prometheus reply could not be parsed: data.result[0] has no \"value\": [<time>, \"<value>\"]"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,2]}]}}",
         "Prometheus reply could not be parsed: data.result[].value must be [<time>, \"<value>\"]; element 1 is a "
         "number"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,"
         "\"12abc\"]}]}}",
         "Prometheus reply could not be parsed: data.result[].value: \"12abc\" is not a sample value"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"pv_name\":5},"
         "\"value\":[1,\"1\"]}]}}",
         "Prometheus reply could not be parsed: data.result[].metric.pv_name is a number; label values are strings"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[{\"metric\":{},\"value\":[1,\"1\"]}]}"
         "}",
         "Prometheus reply could not be parsed: resultType is \"scalar\" but the result does not match (a scalar "
         "result is [<time>, \"<value>\"])"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[1,\"1\"]}}",
         "Prometheus reply could not be parsed: resultType is \"vector\" but the result does not match (a vector "
         "result holds samples with \"value\")"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[",
         "Prometheus reply could not be parsed: malformed JSON: input ended early after 60 bytes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_prom_result_t r;
        cs_err_t err = {0};
        cr_expect_eq(decode(200, cases[i].body, "pv_name", &r, &err), CS_EPROM_RESPONSE_PARSE, "case %zu", i);
        cr_expect_str_eq(err.msg, cases[i].msg, "case %zu", i);
        cr_expect_eq(r.type, CS_PROM_RESULT_NONE);
        cr_expect_null(r.vector);
    }
}

Test(decode, series_limit)
{
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_decode(200, VECTOR, strlen(VECTOR), "pv_name", 2, &r, &err), CS_EPROM_RESPONSE_PARSE);
    cr_expect_str_eq(err.msg, "Prometheus reply could not be parsed: data.result has more than 2 "
                              "series (the limit)");
    cr_expect_eq(cs_prom_decode(200, VECTOR, strlen(VECTOR), "pv_name", 3, &r, &err), 0);
    cs_prom_result_free(&r);
}

Test(decode, deep_nesting_is_refused)
{
    char body[256] = "{\"status\":\"success\",\"x\":";
    for (int i = 0; i < 40; i++)
        strcat(body, "[");
    cs_prom_result_t r;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_decode(200, body, strlen(body), "pv_name", 0, &r, &err), CS_EPROM_RESPONSE_PARSE);
    cr_expect_str_eq(err.msg, "Prometheus reply could not be parsed: JSON nesting deeper than 16 levels");
}

Test(decode, parse_value)
{
    double v;
    cr_expect_eq(cs_prom_parse_value("1.5", 3, &v), 0);
    cr_expect_float_eq(v, 1.5, 1e-12);
    cr_expect_eq(cs_prom_parse_value("-2e-3", 5, &v), 0);
    cr_expect_float_eq(v, -0.002, 1e-15);
    cr_expect_eq(cs_prom_parse_value("Inf", 3, &v), 0);
    cr_expect(isinf(v));
    static const char *bad[] = {"", " 1", "1 ", "0x10", "nan", "inf", "1e", ".", "+", "1.2.3", "--1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cs_prom_parse_value(bad[i], strlen(bad[i]), &v), CS_EPARSE, "'%s'", bad[i]);
}
