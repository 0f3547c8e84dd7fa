/* crd_test.h: small helpers shared by the crd unit tests. */
#ifndef CS_CRD_TEST_H
#define CS_CRD_TEST_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/crd.h"

/* Parses JSON text written in a test; aborts the test on a typo. */
static inline json_t *cs_test_json(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    cr_assert_not_null(j, "test JSON does not parse: %s (line %d): %s", jerr.text, jerr.line, text);
    return j;
}

/* A valid two-tier StoragePolicy named "fast", with the fields of `extra`
 * (a JSON object as text) merged into its spec. */
static inline json_t *cs_test_policy_json(const char *extra)
{
    json_t *obj = cs_test_json("{\"apiVersion\":\"storage.billyronks.io/v1\",\"kind\":\"StoragePolicy\","
                               "\"metadata\":{\"name\":\"fast\",\"generation\":1},"
                               "\"spec\":{\"warmWatermarkIOPS\":0,"
                               "\"hotPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"hot\"}},"
                               "\"coldPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"cold\"}}}}");
    if (extra) {
        json_t *e = cs_test_json(extra);
        json_object_update(json_object_get(obj, "spec"), e);
        json_decref(e);
    }
    return obj;
}

/* Decodes cs_test_policy_json(extra), which must decode. */
static inline void cs_test_policy(const char *extra, cs_storage_policy_t *out)
{
    json_t *obj = cs_test_policy_json(extra);
    cs_err_t err = {0};
    int rc = cs_storage_policy_decode(obj, out, NULL, &err);
    json_decref(obj);
    cr_assert_eq(rc, 0, "decode of %s failed: %s", extra ? extra : "{}", err.msg);
}

/* The validation message of the policy with `extra`, or "" when it is valid. */
static inline void cs_test_validate(const char *extra, char *msg, size_t len)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(extra, &p);
    cs_err_t err = {0};
    int rc = cs_storage_policy_validate(&p, NULL, &err);
    cr_assert(rc == 0 || rc == CS_EINVAL, "unexpected code %d", rc);
    snprintf(msg, len, "%s", rc == 0 ? "" : err.msg);
    cs_storage_policy_free(&p);
}

#define CS_EXPECT_INVALID(extra, expected)                     \
    do {                                                       \
        char cs__msg[CS_ERR_MSG_MAX];                          \
        cs_test_validate(extra, cs__msg, sizeof cs__msg);      \
        cr_expect_str_eq(cs__msg, expected, "spec %s", extra); \
    } while (0)

#define CS_EXPECT_VALID(extra) CS_EXPECT_INVALID(extra, "")

#endif
