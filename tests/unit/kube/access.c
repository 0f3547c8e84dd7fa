/* SelfSubjectAccessReview against the API stand-in: the review as the real
 * server answers it (201, status.allowed; nothing stored), the stand-in's
 * configurable deny rules (what a test uses to play a missing RBAC rule),
 * and the same rules refusing the request itself with 403. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube.h"
#include "kube/standin.h"

static standin_t S;

static void up(void)
{
    static const char *const extra[] = {"--token", "admin", "--readonly-token", "viewer", "--forbidden-token",
                                        "nobody",  NULL};
    standin_start(&S, extra);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(access, .init = up, .fini = down, .timeout = 60);

static cs_kube_access_result_t review(cs_kube_client_t *c, const char *verb, const char *group, const char *resource,
                                      const char *sub, const char *ns)
{
    cs_kube_access_t a = {.verb = verb, .group = group, .resource = resource, .subresource = sub, .namespace_ = ns};
    cs_kube_access_result_t r;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_access_review(c, &a, &r, &err), 0, "%s", err.msg);
    return r;
}

Test(access, reviews_follow_the_rules_a_test_sets)
{
    cs_kube_client_t *c = standin_client(&S, "admin", NULL);
    cs_kube_access_result_t r = review(c, "patch", "", "persistentvolumes", NULL, NULL);
    cr_expect(r.allowed);
    cr_expect_not(r.denied);
    cr_expect(strstr(r.reason, "RBAC: allowed") != NULL, "%s", r.reason);

    /* RBAC without the rule: no opinion (allowed false, denied false) */
    cr_assert_eq(standin_raw(&S, "POST", "/_control/access",
                             "{\"verb\":\"patch\",\"group\":\"\",\"resource\":\"persistentvolumes\"}", NULL, NULL),
                 200);
    /* a deny authorizer: denied true, with its reason */
    cr_assert_eq(standin_raw(&S, "POST", "/_control/faults",
                             "{\"type\":\"forbid\",\"verb\":\"*\",\"group\":\"storage.k8s.io\",\"resource\":"
                             "\"storageclasses\",\"explicit\":true,\"reason\":\"policy says no\"}",
                             NULL, NULL),
                 200);
    r = review(c, "patch", "", "persistentvolumes", NULL, NULL);
    cr_expect_not(r.allowed);
    cr_expect_not(r.denied);
    r = review(c, "get", "", "persistentvolumes", NULL, NULL);
    cr_expect(r.allowed, "only patch is denied");
    r = review(c, "list", "storage.k8s.io", "storageclasses", NULL, NULL);
    cr_expect_not(r.allowed);
    cr_expect(r.denied);
    cr_expect_str_eq(r.reason, "policy says no");

    /* the request itself is refused as the real server refuses it */
    json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "labels", "a", "b");
    cs_err_t err = {0};
    int rc = cs_kube_patch(c, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, "pv-x", CS_KUBE_PATCH_MERGE, patch, NULL, &err);
    json_decref(patch);
    cr_expect_eq(rc, CS_EPERM, "%d %s", rc, err.msg);
    cr_expect(strstr(err.msg, "cannot patch resource \"persistentvolumes\"") != NULL, "%s", err.msg);

    cr_assert_eq(standin_raw(&S, "DELETE", "/_control/access", NULL, NULL, NULL), 200);
    r = review(c, "patch", "", "persistentvolumes", NULL, NULL);
    cr_expect(r.allowed);
    cs_kube_client_free(c);
}

Test(access, every_identity_may_ask)
{
    cs_kube_client_t *ro = standin_client(&S, "viewer", NULL);
    cr_expect(review(ro, "watch", "", "persistentvolumes", NULL, NULL).allowed);
    cr_expect_not(review(ro, "patch", "storage.billyronks.io", "storagepolicies", "status", NULL).allowed);
    cs_kube_client_free(ro);
    cs_kube_client_t *no = standin_client(&S, "nobody", NULL);
    cr_expect_not(review(no, "get", "", "persistentvolumes", NULL, "default").allowed);
    cs_kube_client_free(no);
    /* without a valid token: 401, as for every request */
    cs_kube_client_t *anon = standin_client(&S, "wrong", NULL);
    cs_kube_access_t a = {.verb = "get", .resource = "persistentvolumes"};
    cs_kube_access_result_t r;
    cs_err_t err = {0};
    cr_expect_eq(cs_kube_access_review(anon, &a, &r, &err), CS_EPERM, "%s", err.msg);
    cs_kube_client_free(anon);
}

Test(access, answers_that_are_not_reviews_are_refused)
{
    cs_kube_access_result_t r;
    cs_err_t err = {0};
    const char *ok = "{\"status\":{\"allowed\":false,\"denied\":true,\"reason\":\"no\"}}";
    cr_expect_eq(cs_kube_access_review_decode(ok, strlen(ok), &r, &err), 0, "%s", err.msg);
    cr_expect(r.denied);
    const char *bad[] = {"",
                         "[]",
                         "{}",
                         "{\"status\":{}}",
                         "{\"status\":{\"allowed\":1}}",
                         "{\"status\":{\"allowed\":true,\"denied\":true}}",
                         "{\"status\":{\"allowed\":true,\"reason\":1}}",
                         "not json"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_expect_neq(cs_kube_access_review_decode(bad[i], strlen(bad[i]), &r, &err), 0, "accepted %s", bad[i]);
        cr_expect(strstr(err.msg, "SelfSubjectAccessReview") != NULL || strstr(err.msg, "JSON") != NULL, "%s", err.msg);
    }
}
