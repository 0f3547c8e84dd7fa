/* Tests for Status decoding, the errors built from failed answers (every
 * code the client maps), request paths and Kubernetes time formats. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/duration.h"
#include "couchestor/kube.h"
#include "couchestor/rfc3339.h"

#define SP CS_KUBE_RES("storage.billyronks.io", "v1", "storagepolicies", false, "StoragePolicy")

static int from(const char *verb, const cs_kube_resource_t *res, const char *ns, const char *name, long code,
                const char *body, cs_err_t *err)
{
    return cs_kube_error_from_response(verb, res, ns, name, code, body, body ? strlen(body) : 0, err);
}

Test(status, decode_full)
{
    const char *body =
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
        "\"message\":\"Widget.example.com \\\"a\\\" is invalid: spec.size: Invalid value: -1\","
        "\"reason\":\"Invalid\",\"details\":{\"name\":\"a\",\"group\":\"example.com\",\"kind\":\"Widget\","
        "\"causes\":[{\"reason\":\"FieldValueInvalid\",\"message\":\"Invalid value: -1\",\"field\":\"spec.size\"}],"
        "\"retryAfterSeconds\":3},\"code\":422}";
    cs_kube_status_t st;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_status_decode(body, strlen(body), &st, &err), 0, "%s", err.msg);
    cr_expect_eq(st.code, 422);
    cr_expect_str_eq(st.status, "Failure");
    cr_expect_str_eq(st.reason, "Invalid");
    cr_expect_str_eq(st.details_name, "a");
    cr_expect_str_eq(st.details_group, "example.com");
    cr_expect_str_eq(st.details_kind, "Widget");
    cr_expect_str_eq(st.cause_field, "spec.size");
    cr_expect_str_eq(st.cause_message, "Invalid value: -1");
    cr_expect_eq(st.retry_after_s, 3);
    cs_kube_status_free(&st);
    cr_expect_null(st.reason);
    cs_kube_status_free(NULL);
}

Test(status, decode_rejects_non_status)
{
    cs_kube_status_t st;
    cs_err_t err = {0};
    cr_expect_eq(cs_kube_status_decode("{\"kind\":\"Pod\"}", 14, &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "Status body: not a Status object (kind is not \"Status\")");
    cr_expect_eq(cs_kube_status_decode("Too many requests", 17, &st, &err), CS_EPARSE);
    cr_expect_eq(
        cs_kube_status_decode("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]", 72, &st, &err),
        CS_EPARSE);
    /* Wrong types are tolerated: a Status only explains an error. */
    cr_assert_eq(cs_kube_status_decode("{\"kind\":\"Status\",\"code\":\"x\",\"reason\":5}", 39, &st, &err), 0, "%s",
                 err.msg);
    cr_expect_eq(st.code, 0);
    cr_expect_null(st.reason);
    cr_expect_eq(st.retry_after_s, -1);
    cs_kube_status_free(&st);
}

Test(status, errors_name_verb_resource_object_code_reason_message)
{
    cs_err_t err = {0};
    const char *nf = "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                     "\"message\":\"storagepolicies.storage.billyronks.io \\\"fast\\\" not found\","
                     "\"reason\":\"NotFound\",\"details\":{\"name\":\"fast\"},\"code\":404}";
    cr_expect_eq(from("GET", SP, NULL, "fast", 404, nf, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "GET storagepolicies.storage.billyronks.io \"fast\": 404 NotFound: "
                              "storagepolicies.storage.billyronks.io \"fast\" not found");

    const char *conflict = "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Conflict\",\"code\":409,"
                           "\"message\":\"Operation cannot be fulfilled on leases.coordination.k8s.io \\\"op\\\": "
                           "the object has been modified\"}";
    cr_expect_eq(from("UPDATE", CS_KUBE_RES_LEASES, "kube-system", "op", 409, conflict, &err), CS_ECONFLICT);
    cr_expect_str_eq(err.msg, "UPDATE leases.coordination.k8s.io \"kube-system/op\": 409 Conflict: Operation "
                              "cannot be fulfilled on leases.coordination.k8s.io \"op\": the object has been modified");

    cr_expect_eq(from("CREATE", CS_KUBE_RES_PVCS, "ns1", "d", 409,
                      "{\"kind\":\"Status\",\"reason\":\"AlreadyExists\",\"message\":\"exists\",\"code\":409}", &err),
                 CS_EEXISTS);

    cr_expect_eq(from("WATCH", CS_KUBE_RES_PERSISTENTVOLUMES, NULL, NULL, 410,
                      "{\"kind\":\"Status\",\"reason\":\"Expired\",\"message\":\"too old resource version: 1 (5)\"}",
                      &err),
                 CS_EGONE);
    cr_expect_str_eq(err.msg, "WATCH persistentvolumes: 410 Expired: too old resource version: 1 (5)");

    /* The plain-text 429 of the max-in-flight filter is not a Status. */
    cr_expect_eq(from("LIST", CS_KUBE_RES_PVCS, "ns1", NULL, 429, "Too many requests, please try again later.\n", &err),
                 CS_EBUSY);
    cr_expect_str_eq(err.msg, "LIST persistentvolumeclaims in namespace \"ns1\": 429 TooManyRequests: Too many "
                              "requests, please try again later.");

    cr_expect_eq(from("GET", CS_KUBE_RES_NODES, NULL, "n1", 403, NULL, &err), CS_EPERM);
    cr_expect_str_eq(err.msg, "GET nodes \"n1\": 403 Forbidden: (no message) (check the RBAC rules of this "
                              "service account: deploy/operator/ has the ClusterRole)");
    cr_expect_eq(from("GET", CS_KUBE_RES_NODES, NULL, "n1", 401,
                      "{\"kind\":\"Status\",\"message\":\"Unauthorized\","
                      "\"reason\":\"Unauthorized\",\"code\":401}",
                      &err),
                 CS_EPERM);
    cr_expect(strstr(err.msg, "401 Unauthorized: Unauthorized (the credentials were rejected") != NULL, "%s", err.msg);

    /* An Invalid whose message does not name the field gets the first cause. */
    cr_expect_eq(from("PATCH", SP, NULL, "fast", 422,
                      "{\"kind\":\"Status\",\"reason\":\"Invalid\",\"message\":\"is invalid\","
                      "\"details\":{\"causes\":[{\"field\":\"spec.x\",\"message\":\"bad\"}]}}",
                      &err),
                 CS_EINVAL);
    cr_expect_str_eq(err.msg, "PATCH storagepolicies.storage.billyronks.io \"fast\": 422 Invalid: is invalid "
                              "(spec.x: bad)");

    /* Control bytes of a hostile body never reach the message. */
    cr_expect_eq(from("GET", CS_KUBE_RES_NODES, NULL, "n", 502, "bad\x01\x7fgateway", &err), CS_EUNAVAILABLE);
    cr_expect_str_eq(err.msg, "GET nodes \"n\": 502 Unknown: bad??gateway");
}

Test(status, code_mapping)
{
    cr_expect_eq(cs_kube_code_for_status(400, NULL), CS_EINVAL);
    cr_expect_eq(cs_kube_code_for_status(422, "Invalid"), CS_EINVAL);
    cr_expect_eq(cs_kube_code_for_status(401, NULL), CS_EPERM);
    cr_expect_eq(cs_kube_code_for_status(403, NULL), CS_EPERM);
    cr_expect_eq(cs_kube_code_for_status(404, NULL), CS_ENOTFOUND);
    cr_expect_eq(cs_kube_code_for_status(409, "Conflict"), CS_ECONFLICT);
    cr_expect_eq(cs_kube_code_for_status(409, NULL), CS_ECONFLICT);
    cr_expect_eq(cs_kube_code_for_status(409, "AlreadyExists"), CS_EEXISTS);
    cr_expect_eq(cs_kube_code_for_status(410, "Gone"), CS_EGONE);
    cr_expect_eq(cs_kube_code_for_status(429, NULL), CS_EBUSY);
    cr_expect_eq(cs_kube_code_for_status(500, NULL), CS_EUNAVAILABLE);
    cr_expect_eq(cs_kube_code_for_status(503, NULL), CS_EUNAVAILABLE);
    cr_expect_eq(cs_kube_code_for_status(504, NULL), CS_ETIMEOUT);
    cr_expect_eq(cs_kube_code_for_status(415, NULL), CS_EKUBE);
}

Test(status, paths)
{
    char buf[256];
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_path(CS_KUBE_RES_PERSISTENTVOLUMES, "ignored", "pv-1", NULL, buf, sizeof buf, &err), 0);
    cr_expect_str_eq(buf, "/api/v1/persistentvolumes/pv-1");
    cr_assert_eq(cs_kube_path(CS_KUBE_RES_LEASES, "kube-system", "op", NULL, buf, sizeof buf, &err), 0);
    cr_expect_str_eq(buf, "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/op");
    cr_assert_eq(cs_kube_path(CS_KUBE_RES_PVCS, NULL, NULL, NULL, buf, sizeof buf, &err), 0);
    cr_expect_str_eq(buf, "/api/v1/persistentvolumeclaims", "all namespaces");
    cr_assert_eq(cs_kube_path(SP, NULL, "a b/c", "status", buf, sizeof buf, &err), 0);
    cr_expect_str_eq(buf, "/apis/storage.billyronks.io/v1/storagepolicies/a%20b%2Fc/status", "escaped");
    cr_expect_eq(cs_kube_path(SP, NULL, NULL, "status", buf, sizeof buf, &err), CS_EINVAL);
    cr_expect_eq(cs_kube_path(SP, NULL, "x", NULL, buf, 10, &err), CS_ETOOBIG);
}

Test(status, micro_time)
{
    char buf[32];
    cr_expect_str_eq(cs_rfc3339_format_micro(INT64_C(1714557600123456789), buf, sizeof buf),
                     "2024-05-01T10:00:00.123456Z");
    cr_expect_str_eq(cs_rfc3339_format_micro(0, buf, sizeof buf), "1970-01-01T00:00:00.000000Z");
    cr_expect_str_eq(cs_rfc3339_format(INT64_C(1714557600999999999) / CS_NSEC_PER_SEC, buf, sizeof buf),
                     "2024-05-01T10:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format_micro(0, buf, 10), "", "too small");
    int64_t ns = 0;
    cs_err_t err = {0};
    cr_assert_eq(cs_rfc3339_parse_ns("2024-05-01T10:00:00.123456Z", &ns, &err), 0, "%s", err.msg);
    cr_expect_eq(ns, INT64_C(1714557600123456000));
    cr_assert_eq(cs_rfc3339_parse_ns("2024-05-01T12:00:00.5+02:00", &ns, &err), 0, "%s", err.msg);
    cr_expect_eq(ns, INT64_C(1714557600500000000));
    cr_assert_eq(cs_rfc3339_parse_ns("2024-05-01T10:00:00Z", &ns, &err), 0);
    cr_expect_eq(ns, INT64_C(1714557600000000000));
    cr_expect_eq(cs_rfc3339_parse_ns("2024-05-01T10:00:00", &ns, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"2024-05-01T10:00:00\": missing zone (Z or +hh:mm)");
    cr_expect_eq(cs_rfc3339_parse_ns("2024-13-01T10:00:00Z", &ns, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse_ns("2024-05-01T10:00:00.Z", &ns, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse_ns("yesterday", &ns, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse_ns("4048-05-01T10:00:00Z", &ns, &err), CS_EPARSE, "found by fuzzing");
    cr_expect_str_eq(err.msg, "time \"4048-05-01T10:00:00Z\": outside the years 1678-2261");
}
