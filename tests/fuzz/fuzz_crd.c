/* Fuzz target for the custom resources: untrusted JSON is parsed, decoded as
 * both a StoragePolicy and an ErasureCodingPolicy, validated, encoded and
 * decoded again, and freed. Invariants checked: a successful decode always
 * encodes, and what it encodes decodes to an equal encoding. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/crd.h"
#include "couchestor/json.h"

#define CS_FUZZ_MAX_INPUT (256 * 1024)

static void cs__fuzz_storage_policy(const json_t *root)
{
    cs_storage_policy_t p = {0};
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    if (cs_storage_policy_decode(root, &p, &problems, &err) != 0) {
        free(cs_crd_problems_join(&problems));
        cs_crd_problems_free(&problems);
        return;
    }
    (void)cs_storage_policy_validate(&p, &problems, &err);
    free(cs_crd_problems_join(&problems));
    cs_crd_problems_free(&problems);

    json_t *enc = NULL;
    if (cs_storage_policy_encode(&p, &enc, &err) != 0)
        abort();
    cs_storage_policy_t q = {0};
    if (cs_storage_policy_decode(enc, &q, NULL, &err) != 0)
        abort();
    json_t *again = NULL;
    if (cs_storage_policy_encode(&q, &again, &err) != 0 || !json_equal(enc, again))
        abort();
    if (!cs_storage_policy_status_equal(&p.status, &q.status))
        abort();
    json_decref(again);
    json_decref(enc);
    cs_storage_policy_free(&q);
    cs_storage_policy_free(&p);
}

static void cs__fuzz_ec_policy(const json_t *root)
{
    cs_ec_policy_t p = {0};
    cs_err_t err = {0};
    if (cs_ec_policy_decode(root, &p, NULL, &err) != 0)
        return;
    cs_ec_policy_status_t st = {0};
    if (cs_ec_policy_status_compute(&p, &st, &err) != 0)
        abort();
    cs_ec_policy_status_free(&p.status);
    p.status = st;
    json_t *enc = NULL;
    if (cs_ec_policy_encode(&p, &enc, &err) != 0)
        abort();
    cs_ec_policy_t q = {0};
    if (cs_ec_policy_decode(enc, &q, NULL, &err) != 0)
        abort();
    json_t *again = NULL;
    if (cs_ec_policy_encode(&q, &again, &err) != 0 || !json_equal(enc, again))
        abort();
    json_decref(again);
    json_decref(enc);
    cs_ec_policy_free(&q);
    cs_ec_policy_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CS_FUZZ_MAX_INPUT)
        return 0;
    json_t *root = NULL;
    if (cs_json_parse((const char *)data, size, "fuzz input", &root, NULL) != 0)
        return 0;
    cs__fuzz_storage_policy(root);
    cs__fuzz_ec_policy(root);
    /* The status subresource alone. */
    cs_storage_policy_status_t st = {0};
    if (cs_storage_policy_status_decode(json_object_get(root, "status"), &st, NULL) == 0)
        cs_storage_policy_status_free(&st);
    json_decref(root);
    return 0;
}
