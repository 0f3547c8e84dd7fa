/* access.c: SelfSubjectAccessReview: whether the client's identity may do a
 * verb on a resource, asked of the API server's authorizers (RBAC) rather
 * than found out by a 403 in the middle of a reconcile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "kube/internal.h"

#define CS__SSAR_PATH "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
/* A review answer echoes the request and adds a short status: anything
 * longer than this is not one. */
#define CS__SSAR_MAX_BODY ((size_t)64 * 1024)

static const cs_kube_resource_t cs__ssar_res = {"authorization.k8s.io", "v1", "selfsubjectaccessreviews", false,
                                                "SelfSubjectAccessReview"};

static void cs__copy(char *dst, size_t len, const char *src, size_t n)
{
    if (n >= len)
        n = len - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    /* messages only: no control bytes from outside */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)dst[i] < 0x20)
            dst[i] = '?';
}

int cs_kube_access_review_decode(const char *body, size_t len, cs_kube_access_result_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!body || len == 0)
        return cs_err_set(err, CS_EPARSE,
                          "SelfSubjectAccessReview answer: empty body (expected the review with a status)");
    if (len > CS__SSAR_MAX_BODY)
        return cs_err_set(err, CS_EPARSE, "SelfSubjectAccessReview answer: %zu bytes, more than the %zu a review takes",
                          len, CS__SSAR_MAX_BODY);
    json_t *root = NULL;
    int rc = cs_json_parse(body, len, "SelfSubjectAccessReview answer", &root, err);
    if (rc != 0)
        return rc;
    const json_t *status = json_object_get(root, "status");
    const json_t *allowed = json_object_get(status, "allowed");
    const json_t *denied = json_object_get(status, "denied");
    const json_t *reason = json_object_get(status, "reason");
    const json_t *everr = json_object_get(status, "evaluationError");
    if (!json_is_object(root) || !json_is_object(status))
        rc = cs_err_set(err, CS_EPARSE,
                        "SelfSubjectAccessReview answer: no \"status\" object (is the server an API server, and "
                        "authorization.k8s.io/v1 served?)");
    else if (!json_is_boolean(allowed))
        rc = cs_err_set(err, CS_EPARSE, "SelfSubjectAccessReview answer: status.allowed is missing or not a boolean");
    else if (denied && !json_is_boolean(denied))
        rc = cs_err_set(err, CS_EPARSE, "SelfSubjectAccessReview answer: status.denied is not a boolean");
    else if ((reason && !json_is_string(reason)) || (everr && !json_is_string(everr)))
        rc = cs_err_set(err, CS_EPARSE,
                        "SelfSubjectAccessReview answer: status.reason and status.evaluationError must be strings");
    else if (json_is_true(allowed) && json_is_true(denied))
        rc = cs_err_set(err, CS_EPARSE,
                        "SelfSubjectAccessReview answer: status says both allowed and denied (the API forbids it)");
    if (rc == 0) {
        out->allowed = json_is_true(allowed);
        out->denied = json_is_true(denied);
        if (reason)
            cs__copy(out->reason, sizeof out->reason, json_string_value(reason), json_string_length(reason));
        if (everr)
            cs__copy(out->evaluation_error, sizeof out->evaluation_error, json_string_value(everr),
                     json_string_length(everr));
    }
    json_decref(root);
    return rc;
}

static int cs__attr(json_t *ra, const char *key, const char *value)
{
    return value && *value ? json_object_set_new(ra, key, json_string(value)) : 0;
}

int cs_kube_access_review(cs_kube_client_t *c, const cs_kube_access_t *a, cs_kube_access_result_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!c || !a || !a->verb || !*a->verb || !a->resource || !*a->resource)
        return cs_err_set(err, CS_EINVAL, "SelfSubjectAccessReview: a verb and a resource are required");
    json_t *ra = json_object();
    json_t *obj = ra ? json_pack("{s:s,s:s,s:{s:o}}", "apiVersion", "authorization.k8s.io/v1", "kind",
                                 "SelfSubjectAccessReview", "spec", "resourceAttributes", ra)
                     : NULL;
    /* json_pack steals ra ("o") even on failure */
    int bad = !obj || cs__attr(ra, "verb", a->verb) || cs__attr(ra, "group", a->group ? a->group : "") ||
              cs__attr(ra, "resource", a->resource) || cs__attr(ra, "subresource", a->subresource) ||
              cs__attr(ra, "namespace", a->namespace_) || cs__attr(ra, "name", a->name);
    char *body = bad ? NULL : json_dumps(obj, JSON_COMPACT);
    json_decref(obj);
    if (!body)
        return cs_err_set(err, CS_ENOMEM, "SelfSubjectAccessReview: out of memory");
    cs__kube_req_t r = {.verb = "CREATE",
                        .method = "POST",
                        .res = &cs__ssar_res,
                        .path = CS__SSAR_PATH,
                        .content_type = "application/json",
                        .body = body,
                        .body_len = strlen(body)};
    cs_http_response_t resp;
    memset(&resp, 0, sizeof resp);
    int rc = cs__kube_do(c, &r, &resp, err);
    free(body);
    if (rc == 0) {
        rc = cs_kube_access_review_decode(resp.body, resp.body_len, out, err);
        if (rc)
            cs_err_prefix(err, "POST %s: ", CS__SSAR_PATH);
    }
    cs_http_response_free(&resp);
    return rc;
}
