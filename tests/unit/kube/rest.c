/* Integration tests of the REST verbs against the API stand-in: CRUD with
 * optimistic concurrency, patches, the status subresource, paginated and
 * filtered lists, 429/5xx retries (including the plain-text 429), merge
 * patch conflicts retried correctly, token rotation after a 401, and
 * bounded responses. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube.h"
#include "kube/standin.h"

static standin_t S;

static void up(void)
{
    standin_start(&S, NULL);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(rest, .init = up, .fini = down, .timeout = 60);

static json_t *cm(const char *name, const char *value)
{
    return json_pack("{s:s,s:s,s:{s:s,s:{s:s}},s:{s:s}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name",
                     name, "labels", "app", "test", "data", "v", value);
}

Test(rest, create_get_update_conflict_patch_delete)
{
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_err_t err = {0};
    json_t *obj = cm("one", "1"), *got = NULL;
    cr_assert_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", obj, &got, &err), 0, "%s", err.msg);
    const char *rv1 = json_string_value(json_object_get(json_object_get(got, "metadata"), "resourceVersion"));
    cr_assert_not_null(rv1);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(got, "metadata"), "namespace")), "default");

    cr_expect_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", obj, NULL, &err), CS_EEXISTS);
    cr_expect(strstr(err.msg, "CREATE configmaps \"default/one\": 409 AlreadyExists:") == err.msg, "%s", err.msg);
    json_decref(obj);

    /* Update with the version just read succeeds; the same version again conflicts. */
    json_t *upd = json_deep_copy(got);
    json_object_set_new(json_object_get(upd, "data"), "v", json_string("2"));
    json_t *got2 = NULL;
    cr_assert_eq(cs_kube_update(c, CS_KUBE_RES_CONFIGMAPS, NULL, upd, &got2, &err), 0, "%s", err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(got2, "data"), "v")), "2");
    cr_expect_eq(cs_kube_update(c, CS_KUBE_RES_CONFIGMAPS, NULL, upd, NULL, &err), CS_ECONFLICT);
    cr_expect(strstr(err.msg, "UPDATE configmaps \"default/one\": 409 Conflict: Operation cannot be fulfilled") ==
                  err.msg,
              "%s", err.msg);
    json_object_del(json_object_get(upd, "metadata"), "resourceVersion");
    cr_expect_eq(cs_kube_update(c, CS_KUBE_RES_CONFIGMAPS, NULL, upd, NULL, &err), CS_EINVAL);
    cr_expect(strstr(err.msg, "metadata.resourceVersion is required") != NULL, "%s", err.msg);
    json_decref(upd);

    json_t *mp = json_pack("{s:{s:s}}", "data", "w", "merged"), *got3 = NULL;
    cr_assert_eq(cs_kube_patch(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", CS_KUBE_PATCH_MERGE, mp, &got3, &err), 0,
                 "%s", err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(got3, "data"), "w")), "merged");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(got3, "data"), "v")), "2");
    json_decref(mp);
    json_decref(got3);

    json_t *jp = json_loads("[{\"op\":\"replace\",\"path\":\"/data/v\",\"value\":\"3\"}]", 0, NULL);
    cr_assert_eq(cs_kube_patch(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", CS_KUBE_PATCH_JSON, jp, &got3, &err), 0,
                 "%s", err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(got3, "data"), "v")), "3");
    json_decref(jp);
    json_decref(got3);

    json_t *stale = json_pack("{s:{s:s},s:{s:s}}", "metadata", "resourceVersion", rv1, "data", "v", "x");
    cr_expect_eq(cs_kube_patch(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", CS_KUBE_PATCH_MERGE, stale, NULL, &err),
                 CS_ECONFLICT, "a resourceVersion inside a merge patch is a precondition");
    json_decref(stale);

    cr_assert_eq(cs_kube_delete(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", &got3, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "GET configmaps \"default/one\": 404 NotFound: configmaps \"one\" not found");
    cr_expect_null(got3);
    cr_expect_eq(cs_kube_delete(c, CS_KUBE_RES_CONFIGMAPS, "default", "one", NULL, &err), CS_ENOTFOUND);
    json_decref(got);
    json_decref(got2);
    cs_kube_client_free(c);
}

#define WIDGETS CS_KUBE_RES("example.com", "v1", "widgets", true, "Widget")

static void make_crd(cs_kube_client_t *c)
{
    const char *crd =
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"widgets.example.com\"},\"spec\":{\"group\":\"example.com\",\"scope\":\"Namespaced\","
        "\"names\":{\"plural\":\"widgets\",\"singular\":\"widget\",\"kind\":\"Widget\"},"
        "\"versions\":[{\"name\":\"v1\",\"served\":true,\"storage\":true,\"subresources\":{\"status\":{}},"
        "\"schema\":{\"openAPIV3Schema\":{\"type\":\"object\",\"properties\":{"
        "\"spec\":{\"type\":\"object\",\"properties\":{\"size\":{\"type\":\"integer\"}}},"
        "\"status\":{\"type\":\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}}}]}}";
    json_t *o = json_loads(crd, 0, NULL);
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_create(c,
                                CS_KUBE_RES("apiextensions.k8s.io", "v1", "customresourcedefinitions", false,
                                            "CustomResourceDefinition"),
                                NULL, o, NULL, &err),
                 0, "%s", err.msg);
    json_decref(o);
}

Test(rest, status_subresource_keeps_generation)
{
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    make_crd(c);
    cs_err_t err = {0};
    json_t *w = json_pack("{s:s,s:s,s:{s:s},s:{s:i}}", "apiVersion", "example.com/v1", "kind", "Widget", "metadata",
                          "name", "w1", "spec", "size", 1);
    json_t *got = NULL;
    cr_assert_eq(cs_kube_create(c, WIDGETS, "default", w, &got, &err), 0, "%s", err.msg);
    json_decref(w);
    json_object_set_new(got, "status", json_pack("{s:s,s:i}", "phase", "Active", "observedGeneration", 1));
    json_t *after = NULL;
    cr_assert_eq(cs_kube_update_status(c, WIDGETS, NULL, got, &after, &err), 0, "%s", err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(after, "status"), "phase")), "Active");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(after, "metadata"), "generation")), 1);
    json_t *sp = json_pack("{s:{s:s}}", "status", "phase", "Error");
    json_decref(after);
    cr_assert_eq(cs_kube_patch_status(c, WIDGETS, "default", "w1", CS_KUBE_PATCH_MERGE, sp, &after, &err), 0, "%s",
                 err.msg);
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(after, "status"), "phase")), "Error");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(after, "metadata"), "generation")), 1);
    json_decref(after);
    cr_expect_eq(cs_kube_patch(c, WIDGETS, "default", "w1", CS_KUBE_PATCH_STRATEGIC, sp, NULL, &err), CS_EKUBE);
    cr_expect(strstr(err.msg, "415 UnsupportedMediaType") != NULL, "%s", err.msg);
    json_decref(sp);
    json_t *bad = json_pack("{s:{s:s}}", "spec", "size", "big");
    cr_expect_eq(cs_kube_patch(c, WIDGETS, "default", "w1", CS_KUBE_PATCH_MERGE, bad, NULL, &err), CS_EINVAL);
    cr_expect(strstr(err.msg, "PATCH widgets.example.com \"default/w1\": 422 Invalid:") == err.msg, "%s", err.msg);
    json_decref(bad);
    json_decref(got);
    cs_kube_client_free(c);
}

typedef struct names_s {
    int n;
    char seen[64][32];
} names_t;

static int collect_name(void *ctx, void *obj)
{
    names_t *ns = ctx;
    cs_kube_meta_t *m = obj;
    cr_assert_lt(ns->n, 64);
    snprintf(ns->seen[ns->n++], 32, "%s", m->name);
    cs_kube_meta_free(m);
    free(m);
    return 0;
}

static void load_configmaps(int n)
{
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "cm-%02d", i);
        json_t *o =
            json_pack("{s:s,s:s,s:{s:s,s:s,s:{s:s}}}", "apiVersion", "v1", "kind", "ConfigMap", "metadata", "name",
                      name, "namespace", i % 2 ? "odd" : "default", "labels", "parity", i % 2 ? "odd" : "even");
        json_array_append_new(items, o);
    }
    json_t *ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1", "kind", "Namespace", "metadata", "name", "odd");
    json_array_insert_new(items, 0, ns);
    json_t *body = json_pack("{s:o}", "items", items);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    cr_assert_eq(standin_raw(&S, "POST", "/_control/load", text, NULL, NULL), 200);
    free(text);
}

Test(rest, list_paginates_and_filters)
{
    load_configmaps(25);
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_kube_decoder_t d = cs_kube_meta_decoder();
    cs_err_t err = {0};
    names_t got = {0};
    char *rv = NULL;
    standin_raw(&S, "DELETE", "/_control/requests", NULL, NULL, NULL);
    cs_kube_list_options_t lo = {.limit = 4};
    cr_assert_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, NULL, &lo, &d, collect_name, &got, &rv, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(got.n, 25);
    cr_expect_eq(standin_count_requests(&S, "GET", "/api/v1/configmaps"), 7, "25 items in pages of 4");
    cr_assert_not_null(rv);
    cr_expect_gt(strtol(rv, NULL, 10), 0);
    free(rv);

    names_t odd = {0};
    lo.label_selector = "parity=odd";
    cr_assert_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, NULL, &lo, &d, collect_name, &odd, NULL, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(odd.n, 12);
    names_t one = {0};
    lo.label_selector = NULL;
    lo.field_selector = "metadata.name=cm-03";
    cr_assert_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, "odd", &lo, &d, collect_name, &one, NULL, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(one.n, 1);
    cr_expect_str_eq(one.seen[0], "cm-03");
    names_t none = {0};
    cr_assert_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, "default", &lo, &d, collect_name, &none, NULL, &err), 0);
    cr_expect_eq(none.n, 0, "cm-03 lives in namespace odd");
    lo.field_selector = "spec.nope=1";
    cr_expect_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, NULL, &lo, &d, collect_name, &none, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "LIST configmaps: 400 BadRequest: field label not supported: spec.nope");
    cs_kube_client_free(c);
}

static int compact_after_first(void *ctx, void *obj)
{
    int *n = ctx;
    if ((*n)++ == 0) {
        /* Make the snapshot of this list too old for its continue token. */
        cr_assert_eq(standin_raw(&S, "POST", "/api/v1/namespaces/default/configmaps",
                                 "{\"metadata\":{\"name\":\"bump\"}}", NULL, NULL),
                     201);
        cr_assert_eq(standin_raw(&S, "POST", "/_control/compact", "{}", NULL, NULL), 200);
    }
    cs_kube_meta_free(obj);
    free(obj);
    return 0;
}

Test(rest, expired_continue_is_gone)
{
    load_configmaps(6);
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_kube_decoder_t d = cs_kube_meta_decoder();
    cs_err_t err = {0};
    int n = 0;
    cs_kube_list_options_t lo = {.limit = 2};
    cr_expect_eq(cs_kube_list(c, CS_KUBE_RES_CONFIGMAPS, NULL, &lo, &d, compact_after_first, &n, NULL, &err), CS_EGONE);
    cr_expect(strstr(err.msg, "LIST configmaps: 410 Expired: The provided continue parameter is too old") == err.msg,
              "%s", err.msg);
    cr_expect_eq(n, 2, "the first page was delivered");
    cs_kube_client_free(c);
}

Test(rest, throttling_and_server_errors_are_retried)
{
    cs_kube_client_options_t o = {.max_retries = 3};
    cs_kube_client_t *c = standin_client(&S, NULL, &o);
    cs_err_t err = {0};
    json_t *got = NULL;
    standin_fault(
        &S,
        "{\"type\":\"throttle\",\"method\":\"GET\",\"path\":\"/namespaces/default$\",\"retryAfter\":0,\"count\":2}");
    standin_raw(&S, "DELETE", "/_control/requests", NULL, NULL, NULL);
    cr_assert_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), 0, "%s", err.msg);
    cr_expect_eq(standin_count_requests(&S, "GET", "/namespaces/default"), 3, "two 429s, then the answer");
    json_decref(got);

    standin_fault(
        &S,
        "{\"type\":\"throttle\",\"method\":\"GET\",\"path\":\"/namespaces/default$\",\"retryAfter\":0,\"count\":10}");
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), CS_EBUSY);
    cr_expect_str_eq(err.msg, "GET namespaces \"default\": 429 TooManyRequests: Too many requests, please try again "
                              "later. (after 3 retries)");
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);

    /* Status-shaped 429 with Retry-After: 1 is honoured (and bounded). */
    standin_fault(&S, "{\"type\":\"throttle\",\"plain\":false,\"method\":\"GET\",\"retryAfter\":1,\"count\":1}");
    int64_t t0 = standin_now_ms();
    cr_assert_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), 0, "%s", err.msg);
    cr_expect_geq(standin_now_ms() - t0, 950, "waited for Retry-After");
    json_decref(got);

    standin_fault(&S, "{\"type\":\"error\",\"code\":503,\"method\":\"GET\",\"count\":2}");
    cr_assert_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), 0, "%s", err.msg);
    json_decref(got);

    /* A create that failed with a 500 may have been applied: not retried. */
    standin_fault(&S, "{\"type\":\"error\",\"code\":500,\"method\":\"POST\",\"count\":1}");
    json_t *obj = cm("two", "2");
    cr_expect_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", obj, NULL, &err), CS_EUNAVAILABLE);
    cr_expect_str_eq(err.msg, "CREATE configmaps \"default/two\": 500 InternalError: injected fault: 500");
    cr_assert_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", obj, NULL, &err), 0, "%s", err.msg);
    json_decref(obj);
    cs_kube_client_free(c);
}

/* ---- merge patch conflicts ------------------------------------------------ */

typedef struct bump_s {
    cs_kube_client_t *c;
    int calls;
} bump_t;

/* Reads the counter, then writes counter+1 with the version read as a
 * precondition: the read-modify-write that needs retry-on-conflict. */
static int bump(void *ctx, cs_err_t *err)
{
    bump_t *b = ctx;
    b->calls++;
    json_t *cur = NULL;
    int rc = cs_kube_get(b->c, CS_KUBE_RES_CONFIGMAPS, "default", "counter", &cur, err);
    if (rc)
        return rc;
    const json_t *meta = json_object_get(cur, "metadata");
    long v = strtol(json_string_value(json_object_get(json_object_get(cur, "data"), "n")), NULL, 10);
    char next[32];
    snprintf(next, sizeof next, "%ld", v + 1);
    json_t *p = json_pack("{s:{s:O},s:{s:s}}", "metadata", "resourceVersion", json_object_get(meta, "resourceVersion"),
                          "data", "n", next);
    rc = cs_kube_patch(b->c, CS_KUBE_RES_CONFIGMAPS, "default", "counter", CS_KUBE_PATCH_MERGE, p, NULL, err);
    json_decref(p);
    json_decref(cur);
    return rc;
}

static long counter_value(cs_kube_client_t *c)
{
    json_t *cur = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_get(c, CS_KUBE_RES_CONFIGMAPS, "default", "counter", &cur, &err), 0, "%s", err.msg);
    long v = strtol(json_string_value(json_object_get(json_object_get(cur, "data"), "n")), NULL, 10);
    json_decref(cur);
    return v;
}

Test(rest, merge_patch_conflict_is_retried)
{
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_err_t err = {0};
    json_t *o = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "counter", "data", "n", "0");
    cr_assert_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", o, NULL, &err), 0, "%s", err.msg);
    json_decref(o);
    standin_fault(&S, "{\"type\":\"conflict\",\"method\":\"PATCH\",\"path\":\"/configmaps/counter$\",\"count\":2}");
    bump_t b = {c, 0};
    cr_assert_eq(cs_kube_retry_on_conflict(5, bump, &b, &err), 0, "%s", err.msg);
    cr_expect_eq(b.calls, 3, "two conflicts, then success");
    cr_expect_eq(counter_value(c), 1, "applied exactly once");

    standin_fault(&S, "{\"type\":\"conflict\",\"method\":\"PATCH\",\"path\":\"/configmaps/counter$\",\"count\":9}");
    b.calls = 0;
    cr_expect_eq(cs_kube_retry_on_conflict(3, bump, &b, &err), CS_ECONFLICT);
    cr_expect_eq(b.calls, 3);
    cr_expect(
        strstr(err.msg, "still conflicting after 3 attempts: PATCH configmaps \"default/counter\": 409 Conflict") ==
            err.msg,
        "%s", err.msg);
    cr_expect_eq(counter_value(c), 1);
    cs_kube_client_free(c);
}

static void *bumper(void *arg)
{
    bump_t *b = arg;
    for (int i = 0; i < 10; i++) {
        cs_err_t err = {0};
        int rc = cs_kube_retry_on_conflict(50, bump, b, &err);
        if (rc != 0) {
            fprintf(stderr, "bumper: %s\n", err.msg);
            return (void *)1;
        }
    }
    return NULL;
}

Test(rest, concurrent_writers_never_lose_an_update)
{
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_err_t err = {0};
    json_t *o = json_pack("{s:{s:s},s:{s:s}}", "metadata", "name", "counter", "data", "n", "0");
    cr_assert_eq(cs_kube_create(c, CS_KUBE_RES_CONFIGMAPS, "default", o, NULL, &err), 0, "%s", err.msg);
    json_decref(o);
    bump_t a = {c, 0}, b = {c, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, bumper, &a);
    pthread_create(&tb, NULL, bumper, &b);
    void *ra, *rb;
    pthread_join(ta, &ra);
    pthread_join(tb, &rb);
    cr_expect_null(ra);
    cr_expect_null(rb);
    cr_expect_eq(counter_value(c), 20, "every increment applied once, through conflicts");
    cs_kube_client_free(c);
}

/* ---- auth and bounds ------------------------------------------------------ */

static void up_auth(void)
{
    static const char *const args[] = {"--token", "new-token", NULL};
    standin_start(&S, args);
}

Test(rest, token_file_is_reread_after_401, .init = up_auth, .fini = down)
{
    char path[128];
    snprintf(path, sizeof path, "%s/token", S.dir);
    FILE *f = fopen(path, "w");
    fputs("old-token\n", f);
    fclose(f);
    cs_kube_config_t cfg = {.server = S.url, .token_file = path};
    cs_kube_client_t *c = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_client_new(&cfg, NULL, &c, &err), 0, "%s", err.msg);
    json_t *got = NULL;
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), CS_EPERM);
    cr_expect(strstr(err.msg, "GET namespaces \"default\": 401 Unauthorized: Unauthorized (the credentials") == err.msg,
              "%s", err.msg);
    /* The kubelet rotates the token: the next 401 makes the client re-read it. */
    f = fopen(path, "w");
    fputs("new-token\n", f);
    fclose(f);
    cr_assert_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), 0, "%s", err.msg);
    json_decref(got);
    cs_kube_client_free(c);

    cfg.token_file = NULL;
    cfg.token = (char *)"nope";
    cr_assert_eq(cs_kube_client_new(&cfg, NULL, &c, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_NAMESPACES, NULL, "default", &got, &err), CS_EPERM);
    cs_kube_client_free(c);

    cfg.token = NULL;
    cfg.token_file = (char *)"/nonexistent/token";
    cr_expect_eq(cs_kube_client_new(&cfg, NULL, &c, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "cannot read the token file: cannot open /nonexistent/token") != NULL, "%s", err.msg);
}

Test(rest, bounded_responses_and_unreachable_server)
{
    load_configmaps(3);
    cs_kube_client_options_t o = {.max_response_bytes = 64, .max_retries = -1};
    cs_kube_client_t *c = standin_client(&S, NULL, &o);
    cs_err_t err = {0};
    json_t *got = NULL;
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_CONFIGMAPS, "default", "cm-00", &got, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "response is larger than 64 bytes") != NULL, "%s", err.msg);
    cs_kube_client_free(c);

    cs_kube_config_t cfg = {.server = (char *)"http://127.0.0.1:1"};
    cr_assert_eq(cs_kube_client_new(&cfg, &o, &c, &err), 0);
    cr_expect_eq(cs_kube_get(c, CS_KUBE_RES_CONFIGMAPS, "default", "x", &got, &err), CS_EUNAVAILABLE);
    cr_expect(strstr(err.msg, "GET configmaps: GET http://127.0.0.1:1/api/v1/namespaces/default/configmaps/x:") ==
                  err.msg,
              "%s", err.msg);
    cs_kube_client_free(c);
}
