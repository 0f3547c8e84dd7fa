/* Tests for the HTTP client against a loopback Python server. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/http.h"
#include "http/loopback.h"

TestSuite(http, .init = start_server, .fini = stop_server);

static cs_http_client_t *client(long timeout_ms, size_t max)
{
    cs_http_options_t o = {
        .base_url = base_url, .timeout_ms = timeout_ms, .max_response_bytes = max, .bearer_token = "tok123"};
    cs_http_client_t *c;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_client_new(&o, &c, &err), 0, "%s", err.msg);
    return c;
}

Test(http, get_and_post_with_headers)
{
    cs_http_client_t *c = client(0, 0);
    cs_http_response_t r;
    cs_err_t err = {0};
    cs_http_request_t get = {.method = "GET", .path = "/echo?x=1"};
    cr_assert_eq(cs_http_do(c, &get, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.status, 200);
    cr_expect_str_eq(r.content_type, "application/json");
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_not_null(j);
    cr_expect_str_eq(json_string_value(json_object_get(j, "method")), "GET");
    cr_expect_str_eq(json_string_value(json_object_get(j, "path")), "/echo?x=1");
    cr_expect_str_eq(json_string_value(json_object_get(j, "authorization")), "Bearer tok123");
    cr_expect(strncmp(json_string_value(json_object_get(j, "user_agent")), "couchestor/", 11) == 0);
    json_decref(j);
    cs_http_response_free(&r);

    const char *body = "{\"a\":1}";
    cs_http_request_t patch = {.method = "PATCH",
                               .path = "echo",
                               .content_type = "application/merge-patch+json",
                               .body = body,
                               .body_len = strlen(body)};
    cr_assert_eq(cs_http_do(c, &patch, &r, &err), 0, "%s", err.msg);
    j = json_loads(r.body, 0, NULL);
    cr_expect_str_eq(json_string_value(json_object_get(j, "method")), "PATCH");
    cr_expect_str_eq(json_string_value(json_object_get(j, "path")), "/echo", "a missing leading slash is added");
    cr_expect_str_eq(json_string_value(json_object_get(j, "body")), body);
    cr_expect_str_eq(json_string_value(json_object_get(j, "content_type")), "application/merge-patch+json");
    json_decref(j);
    cs_http_response_free(&r);

    cr_assert_eq(cs_http_client_set_token(c, "rotated"), 0);
    cr_assert_eq(cs_http_do(c, &get, &r, &err), 0);
    cr_expect(strstr(r.body, "Bearer rotated") != NULL);
    cs_http_response_free(&r);
    cs_http_client_free(c);
}

Test(http, error_status_is_a_response_not_a_failure)
{
    cs_http_client_t *c = client(0, 0);
    cs_http_response_t r;
    cs_http_request_t req = {.path = "/status/409"};
    cr_assert_eq(cs_http_do(c, &req, &r, NULL), 0);
    cr_expect_eq(r.status, 409);
    cr_expect(strstr(r.body, "status 409") != NULL);
    cs_http_response_free(&r);
    cs_http_request_t retry = {.path = "/retry"};
    cr_assert_eq(cs_http_do(c, &retry, &r, NULL), 0);
    cr_expect_eq(r.status, 429);
    cr_expect_eq(r.retry_after_s, 3);
    cr_expect_str_eq(r.content_type, "text/plain");
    cs_http_response_free(&r);
    cs_http_client_free(c);
}

Test(http, response_cap)
{
    cs_http_client_t *c = client(0, 1000);
    cs_http_response_t r;
    cs_err_t err = {0};
    cs_http_request_t ok = {.path = "/big/1000"};
    cr_expect_eq(cs_http_do(c, &ok, &r, &err), 0, "%s", err.msg);
    cr_expect_eq(r.body_len, 1000);
    cs_http_response_free(&r);
    cs_http_request_t big = {.path = "/big/1001"};
    cr_expect_eq(cs_http_do(c, &big, &r, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "larger than 1000 bytes") != NULL, "%s", err.msg);
    cs_http_response_free(&r);
    cs_http_client_free(c);
}

Test(http, timeout_and_unreachable)
{
    cs_http_client_t *c = client(300, 0);
    cs_http_response_t r;
    cs_err_t err = {0};
    cs_http_request_t slow = {.path = "/slow"};
    cr_expect_eq(cs_http_do(c, &slow, &r, &err), CS_ETIMEOUT);
    cr_expect(strstr(err.msg, "timed out") != NULL, "%s", err.msg);
    cs_http_response_free(&r);
    cs_http_client_free(c);
    cs_http_options_t o = {.base_url = "http://127.0.0.1:1", .timeout_ms = 2000};
    cr_assert_eq(cs_http_client_new(&o, &c, &err), 0);
    cs_http_request_t req = {.path = "/"};
    cr_expect_eq(cs_http_do(c, &req, &r, &err), CS_EUNAVAILABLE);
    cr_expect(strstr(err.msg, "GET http://127.0.0.1:1/") != NULL, "%s", err.msg);
    cs_http_response_free(&r);
    cs_http_client_free(c);
}

typedef struct {
    size_t bytes, lines;
    atomic_int *stop;
    size_t stop_after;
} sink_t;

static int sink(void *ctx, const char *data, size_t len)
{
    sink_t *s = ctx;
    s->bytes += len;
    for (size_t i = 0; i < len; i++)
        s->lines += data[i] == '\n';
    if (s->stop && s->lines >= s->stop_after)
        atomic_store(s->stop, 1);
    return 0;
}

Test(http, streaming_sink_and_stop)
{
    cs_http_client_t *c = client(0, 100);
    cs_http_response_t r;
    cs_err_t err = {0};
    sink_t s = {0};
    cs_http_request_t req = {.path = "/stream/500", .sink = sink, .sink_ctx = &s};
    cr_assert_eq(cs_http_do(c, &req, &r, &err), 0, "streamed bodies are not capped: %s", err.msg);
    cr_expect_eq(s.lines, 500);
    cr_expect_eq(r.body_len, 0, "streamed bodies are not buffered");
    cs_http_response_free(&r);

    atomic_int stop = 0;
    sink_t s2 = {.stop = &stop, .stop_after = 5};
    cs_http_request_t watch = {.path = "/forever", .timeout_ms = -1, .sink = sink, .sink_ctx = &s2, .stop = &stop};
    cr_expect_eq(cs_http_do(c, &watch, &r, &err), CS_ECANCELED, "%s", err.msg);
    cr_expect_geq(s2.lines, 5);
    cs_http_response_free(&r);

    /* an error status with a sink is buffered for decoding, not streamed */
    sink_t s3 = {0};
    cs_http_request_t notfound = {.path = "/status/404", .sink = sink, .sink_ctx = &s3};
    cr_assert_eq(cs_http_do(c, &notfound, &r, &err), 0);
    cr_expect_eq(r.status, 404);
    cr_expect_eq(s3.bytes, 0);
    cr_expect(strstr(r.body, "status 404") != NULL);
    cs_http_response_free(&r);
    cs_http_client_free(c);
}

static int failing_sink(void *ctx, const char *data, size_t len)
{
    return CS_EPARSE;
}

Test(http, sink_error_is_returned)
{
    cs_http_client_t *c = client(0, 0), *c2;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_client_clone(c, &c2, &err), 0);
    cs_http_response_t r;
    cs_http_request_t req = {.path = "/stream/3", .sink = failing_sink};
    cr_expect_eq(cs_http_do(c2, &req, &r, &err), CS_EPARSE);
    cs_http_response_free(&r);
    cs_http_client_free(c);
    cs_http_client_free(c2);
    cs_http_client_free(NULL);
}

Test(http, bad_base_url_and_escape)
{
    cs_http_client_t *c;
    cs_err_t err = {0};
    cs_http_options_t o = {.base_url = "ftp://x"};
    cr_expect_eq(cs_http_client_new(&o, &c, &err), CS_EINVAL);
    cr_expect(strstr(err.msg, "must start with http:// or https://") != NULL);
    char *e = cs_http_escape("openebs.io/created-by=a b&c");
    cr_expect_str_eq(e, "openebs.io%2Fcreated-by%3Da%20b%26c");
    free(e);
}
