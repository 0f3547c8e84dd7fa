/* Tests for ErasureCodingPolicy decode, defaults, validation, status and encode. */
#include "crd_test.h"

#define SUBJ "ErasureCodingPolicy 'ec': "

static int decode_ec(const char *spec, cs_ec_policy_t *out, cs_err_t *err)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"apiVersion\":\"storage.billyronks.io/v1\",\"kind\":\"ErasureCodingPolicy\","
             "\"metadata\":{\"name\":\"ec\",\"generation\":2},\"spec\":%s}",
             spec);
    json_t *j = cs_test_json(text);
    int rc = cs_ec_policy_decode(j, out, NULL, err);
    json_decref(j);
    return rc;
}

/* "" when the spec is valid, else the validation message. */
static void validate_ec(const char *spec, char *msg, size_t len)
{
    cs_ec_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(decode_ec(spec, &p, &err), 0, "%s: %s", spec, err.msg);
    int rc = cs_ec_policy_validate(&p, NULL, &err);
    snprintf(msg, len, "%s", rc == 0 ? "" : err.msg);
    cs_ec_policy_free(&p);
}

#define EXPECT_EC(spec, expected)                        \
    do {                                                 \
        char m_[CS_ERR_MSG_MAX];                         \
        validate_ec(spec, m_, sizeof m_);                \
        cr_expect_str_eq(m_, expected, "spec %s", spec); \
    } while (0)

Test(ec_policy, empty_spec_gets_every_default)
{
    cs_ec_policy_t p = {0};
    cr_assert_eq(decode_ec("{}", &p, NULL), 0);
    cr_expect_eq(p.spec.data_shards, 4);
    cr_expect_eq(p.spec.parity_shards, 2);
    cr_expect_eq(p.spec.stripe_size_bytes, 1048576);
    cr_expect_str_eq(p.spec.algorithm, "ReedSolomon");
    cr_expect_eq(p.meta.generation, 2);
    cr_expect_eq(cs_ec_policy_validate(&p, NULL, NULL), 0);
    cs_ec_policy_free(&p);
    cs_ec_policy_free(&p);
    cs_ec_policy_free(NULL);
    cs_ec_policy_spec_free(NULL);
    cs_ec_policy_status_free(NULL);
}

Test(ec_policy, unknown_and_mistyped_fields)
{
    cs_ec_policy_t p = {0};
    cs_err_t err = {0};
    cr_expect_eq(decode_ec("{\"datashards\":6,\"journalConfig\":{}}", &p, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.datashards: unknown field (did you mean spec.dataShards?); "
                                   "spec.journalConfig: unknown field");
    cr_expect_eq(decode_ec("{\"dataShards\":\"4\",\"algorithm\":7}", &p, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.dataShards: expected integer, got string; "
                                   "spec.algorithm: expected string, got integer");
    json_t *j = cs_test_json("{\"kind\":\"StoragePolicy\",\"metadata\":{\"name\":\"ec\"},\"spec\":{}}");
    cr_expect_eq(cs_ec_policy_decode(j, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "kind: expected ErasureCodingPolicy, got \"StoragePolicy\"");
    json_decref(j);
    cr_expect_eq(cs_ec_policy_decode(NULL, &p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "ErasureCodingPolicy: expected a JSON object, got nothing");
}

Test(ec_policy_validate, shard_counts)
{
    EXPECT_EC("{\"dataShards\":0}", SUBJ "spec.dataShards (0) must be at least 1");
    EXPECT_EC("{\"parityShards\":0}", SUBJ "spec.parityShards (0) must be at least 1");
    EXPECT_EC("{\"dataShards\":-1,\"parityShards\":-1}",
              SUBJ "spec.dataShards (-1) must be at least 1; spec.parityShards (-1) must be at least 1");
    EXPECT_EC("{\"dataShards\":1,\"parityShards\":1}", "");
    EXPECT_EC("{\"dataShards\":254,\"parityShards\":1}", "");
    EXPECT_EC("{\"dataShards\":1,\"parityShards\":254}", "");
    EXPECT_EC("{\"dataShards\":128,\"parityShards\":127}", "");
    EXPECT_EC("{\"dataShards\":254,\"parityShards\":2}",
              SUBJ "spec.dataShards + spec.parityShards (254 + 2) must be at most 255: Reed-Solomon "
                   "over GF(2^8) has 255 distinct shard positions");
    EXPECT_EC("{\"dataShards\":9223372036854775807,\"parityShards\":9223372036854775807}",
              SUBJ "spec.dataShards + spec.parityShards (9223372036854775807 + 9223372036854775807) "
                   "must be at most 255: Reed-Solomon over GF(2^8) has 255 distinct shard positions");
}

Test(ec_policy_validate, stripe_size)
{
    EXPECT_EC("{\"stripeSizeBytes\":65535}",
              SUBJ "spec.stripeSizeBytes (65535) must be between 65536 (64 KiB) and 67108864 (64 MiB)");
    EXPECT_EC("{\"stripeSizeBytes\":65536}", "");
    EXPECT_EC("{\"stripeSizeBytes\":67108864}", "");
    EXPECT_EC("{\"stripeSizeBytes\":67108865}",
              SUBJ "spec.stripeSizeBytes (67108865) must be between 65536 (64 KiB) and 67108864 (64 MiB)");
    EXPECT_EC("{\"stripeSizeBytes\":0}",
              SUBJ "spec.stripeSizeBytes (0) must be between 65536 (64 KiB) and 67108864 (64 MiB)");
}

Test(ec_policy_validate, algorithm)
{
    EXPECT_EC("{\"algorithm\":\"LRC\"}",
              SUBJ "spec.algorithm (\"LRC\") is not supported: the only algorithm is ReedSolomon");
    EXPECT_EC("{\"algorithm\":\"reedsolomon\"}",
              SUBJ "spec.algorithm (\"reedsolomon\") is not supported: the only algorithm is ReedSolomon");
    cs_ec_policy_spec_t s = {0};
    cr_assert_eq(cs_ec_policy_spec_init(&s, NULL), 0);
    free(s.algorithm);
    s.algorithm = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_policy_spec_validate(&s, NULL, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "ErasureCodingPolicy: spec.algorithm (\"\") is not supported: the "
                              "only algorithm is ReedSolomon");
    cs_ec_policy_spec_free(&s);
}

Test(ec_policy_status, compute_ready_and_invalid)
{
    cs_ec_policy_t p = {0};
    cr_assert_eq(decode_ec("{}", &p, NULL), 0);
    cs_ec_policy_status_t st = {0};
    cr_assert_eq(cs_ec_policy_status_compute(&p, &st, NULL), 0);
    cr_expect_eq(st.phase, CS_EC_PHASE_READY);
    cr_expect_float_eq(st.storage_efficiency, 4.0 / 6.0, 1e-12);
    cr_expect_eq(st.observed_generation, 2);
    cr_expect_null(st.message);
    cs_ec_policy_free(&p);

    cr_assert_eq(decode_ec("{\"dataShards\":0,\"stripeSizeBytes\":1}", &p, NULL), 0);
    cr_assert_eq(cs_ec_policy_status_compute(&p, &st, NULL), 0);
    cr_expect_eq(st.phase, CS_EC_PHASE_INVALID);
    cr_expect_float_eq(st.storage_efficiency, 0.0, 1e-12);
    cr_expect_str_eq(st.message, SUBJ "spec.dataShards (0) must be at least 1; spec.stripeSizeBytes "
                                      "(1) must be between 65536 (64 KiB) and 67108864 (64 MiB)");
    cs_ec_policy_status_free(&st);
    cs_ec_policy_free(&p);
    cr_expect_eq(cs_ec_policy_status_compute(NULL, &st, NULL), CS_EINVAL);
}

Test(ec_policy_status, efficiency)
{
    cs_ec_policy_spec_t s = {.data_shards = 10, .parity_shards = 4};
    cr_expect_float_eq(cs_ec_policy_efficiency(&s), 10.0 / 14.0, 1e-12);
    s.parity_shards = 0;
    cr_expect_float_eq(cs_ec_policy_efficiency(&s), 0.0, 1e-12);
    cr_expect_float_eq(cs_ec_policy_efficiency(NULL), 0.0, 1e-12);
    cr_expect_str_eq(cs_ec_policy_phase_name(CS_EC_PHASE_READY), "Ready");
    cr_expect_str_eq(cs_ec_policy_phase_name(CS_EC_PHASE_INVALID), "Invalid");
    cr_expect_str_eq(cs_ec_policy_phase_name(CS_EC_PHASE_NONE), "");
}

Test(ec_policy_roundtrip, canonical_object_encodes_to_itself)
{
    const char *text = "{\"apiVersion\":\"storage.billyronks.io/v1\",\"kind\":\"ErasureCodingPolicy\","
                       "\"metadata\":{\"name\":\"wide\",\"generation\":5,\"resourceVersion\":\"9\"},"
                       "\"spec\":{\"dataShards\":10,\"parityShards\":4,\"stripeSizeBytes\":4194304,"
                       "\"algorithm\":\"ReedSolomon\"},"
                       "\"status\":{\"phase\":\"Ready\",\"message\":\"\",\"storageEfficiency\":0.7142857142857143,"
                       "\"observedGeneration\":5}}";
    json_t *in = cs_test_json(text);
    cs_ec_policy_t p = {0}, q = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_policy_decode(in, &p, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(p.status.phase, CS_EC_PHASE_READY);
    json_t *out = NULL, *again = NULL;
    cr_assert_eq(cs_ec_policy_encode(&p, &out, NULL), 0);
    cr_expect(json_equal(in, out));
    cr_assert_eq(cs_ec_policy_decode(out, &q, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_ec_policy_encode(&q, &again, NULL), 0);
    cr_expect(json_equal(out, again));
    json_t *st = NULL;
    cr_assert_eq(cs_ec_policy_status_encode(&q.status, &st, NULL), 0);
    cr_expect(json_equal(st, json_object_get(in, "status")));
    json_decref(st);
    json_decref(in);
    json_decref(out);
    json_decref(again);
    cs_ec_policy_free(&p);
    cs_ec_policy_free(&q);
}

Test(ec_policy_status, decode_errors)
{
    cs_ec_policy_status_t st = {0};
    cs_err_t err = {0};
    json_t *j = cs_test_json("{\"phase\":\"Pending\",\"storageEfficiency\":1.5}");
    cr_expect_eq(cs_ec_policy_status_decode(j, &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.phase: \"Pending\" is not one of Ready, Invalid; "
                              "status.storageEfficiency: must lie in [0, 1]");
    json_decref(j);
}
