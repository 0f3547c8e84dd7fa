/* Tests for StoragePolicy decode, defaults, validation and encode. */
#include "crd_test.h"

#include "couchestor/config.h"
#include "couchestor/duration.h"

#define SUBJ "StoragePolicy 'fast': "

/* ---- decode and defaults ------------------------------------------------ */

/* The migration timeout a migration gets, as the controller computes it:
 * the policy's migrationTimeout when set, else the operator-wide
 * migration_timeout_minutes. */
static int64_t timeout_ms_for(const char *extra, const cs_config_t *cfg)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(extra, &p);
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_validate(&p, NULL, &err), 0, "%s", err.msg);
    int64_t ms = cs_storage_policy_migration_timeout_ms(&p.spec, cfg->migration_timeout_minutes * 60 * 1000);
    cs_storage_policy_free(&p);
    return ms;
}

Test(storage_policy, migration_timeout_defaults_to_the_operator_setting)
{
    cs_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_init(&cfg, &err), 0, "%s", err.msg);
    cr_expect_eq(timeout_ms_for(NULL, &cfg), INT64_C(30) * 60 * 1000, "built-in default: 30 minutes");
    char *envp[] = {"MIGRATION_TIMEOUT_MINUTES=7", NULL};
    cr_assert_eq(cs_config_load_env(&cfg, envp, &err), 0, "%s", err.msg);
    cr_expect_eq(timeout_ms_for(NULL, &cfg), INT64_C(7) * 60 * 1000,
                 "without migrationTimeout: the operator's 7 minutes");
    cr_expect_eq(timeout_ms_for("{\"migrationTimeout\":\"45m\"}", &cfg), INT64_C(45) * 60 * 1000,
                 "the policy's own wins");
    cr_expect_eq(timeout_ms_for("{\"migrationTimeout\":\"1h30m15s\"}", &cfg), INT64_C(5415) * 1000);
    cr_expect_eq(timeout_ms_for("{\"migrationTimeout\":\"250us\"}", &cfg), 1, "below a millisecond is not unset");
    cr_expect_eq(cs_storage_policy_migration_timeout_ms(NULL, 1234), 1234);
    cs_config_free(&cfg);
}

Test(storage_policy, absent_migration_timeout_is_not_encoded)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(NULL, &p);
    json_t *spec = NULL;
    cr_assert_eq(cs_storage_policy_spec_encode(&p.spec, &spec, NULL), 0);
    cr_expect_null(json_object_get(spec, "migrationTimeout"));
    json_decref(spec);
    cs_storage_policy_free(&p);
    cs_test_policy("{\"migrationTimeout\":\"45m\"}", &p);
    cr_assert_eq(cs_storage_policy_spec_encode(&p.spec, &spec, NULL), 0);
    cr_expect_str_eq(json_string_value(json_object_get(spec, "migrationTimeout")), "45m",
                     "a set field shows as written");
    json_decref(spec);
    cs_storage_policy_free(&p);
}

Test(storage_policy, empty_spec_gets_every_default)
{
    json_t *obj = cs_test_json("{\"metadata\":{\"name\":\"d\"},\"spec\":{}}");
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), 0, "%s", err.msg);
    json_decref(obj);
    cr_expect_eq(p.spec.high_watermark_iops, 5000);
    cr_expect_eq(p.spec.warm_watermark_iops, 2000);
    cr_expect_eq(p.spec.low_watermark_iops, 500);
    cr_expect_str_eq(p.spec.sampling_window, "1h");
    cr_expect_eq(p.spec.sampling_window_ns, CS_NSEC_PER_HOUR);
    cr_expect_str_eq(p.spec.cooldown_period, "24h");
    cr_expect_eq(p.spec.cooldown_period_ns, 24 * CS_NSEC_PER_HOUR);
    cr_expect_str_eq(p.spec.storage_class_name, "mayastor");
    cr_expect_eq(p.spec.max_concurrent_migrations, 2);
    cr_expect_null(p.spec.migration_timeout, "absent: the operator-wide default applies");
    cr_expect_eq(p.spec.migration_timeout_ns, 0);
    cr_expect(p.spec.enabled);
    cr_expect_not(p.spec.dry_run);
    cr_expect_eq(p.spec.ec_min_volume_size_bytes, INT64_C(10737418240));
    cr_expect_null(p.spec.ec_policy_ref);
    cr_expect_null(p.spec.hot_pool_selector);
    cr_expect_null(p.spec.warm_pool_selector);
    cr_expect_null(p.spec.cold_pool_selector);
    cr_expect_null(p.spec.volume_selector);
    cr_expect_eq(p.status.phase, CS_SP_PHASE_NONE);
    cs_storage_policy_free(&p);
}

Test(storage_policy, spec_init_equals_decoded_empty_spec)
{
    cs_storage_policy_spec_t a = {0};
    cr_assert_eq(cs_storage_policy_spec_init(&a, NULL), 0);
    json_t *obj = cs_test_json("{\"metadata\":{\"name\":\"d\"},\"spec\":{}}");
    cs_storage_policy_t p = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, NULL), 0);
    json_t *ja, *jb;
    cr_assert_eq(cs_storage_policy_spec_encode(&a, &ja, NULL), 0);
    cr_assert_eq(cs_storage_policy_spec_encode(&p.spec, &jb, NULL), 0);
    cr_expect(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
    json_decref(obj);
    cs_storage_policy_spec_free(&a);
    cs_storage_policy_free(&p);
}

Test(storage_policy, reads_every_field_by_its_exact_crd_name)
{
    cs_storage_policy_t p = {0};
    cs_test_policy("{\"highWatermarkIOPS\":7000,\"warmWatermarkIOPS\":3000,\"lowWatermarkIOPS\":100,"
                   "\"samplingWindow\":\"15m\",\"cooldownPeriod\":\"1h30m\","
                   "\"storageClassName\":\"mayastor-3\","
                   "\"warmPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"warm\"}},"
                   "\"volumeSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"In\","
                   "\"values\":[\"db\",\"cache\"]}]},"
                   "\"maxConcurrentMigrations\":5,\"migrationTimeout\":\"45m\",\"enabled\":false,"
                   "\"dryRun\":true,\"ecPolicyRef\":\"standard-ec\",\"ecMinVolumeSizeBytes\":1024}",
                   &p);
    cr_expect_eq(p.spec.high_watermark_iops, 7000);
    cr_expect_eq(p.spec.warm_watermark_iops, 3000);
    cr_expect_eq(p.spec.low_watermark_iops, 100);
    cr_expect_str_eq(p.spec.sampling_window, "15m");
    cr_expect_eq(p.spec.sampling_window_ns, 15 * CS_NSEC_PER_MIN);
    cr_expect_eq(p.spec.cooldown_period_ns, 90 * CS_NSEC_PER_MIN);
    cr_expect_str_eq(p.spec.storage_class_name, "mayastor-3");
    cr_expect_eq(p.spec.max_concurrent_migrations, 5);
    cr_expect_eq(p.spec.migration_timeout_ns, 45 * CS_NSEC_PER_MIN);
    cr_expect_not(p.spec.enabled);
    cr_expect(p.spec.dry_run);
    cr_expect_str_eq(p.spec.ec_policy_ref, "standard-ec");
    cr_expect_eq(p.spec.ec_min_volume_size_bytes, 1024);
    cr_assert_not_null(p.spec.hot_pool_selector);
    cr_assert_not_null(p.spec.warm_pool_selector);
    cr_assert_not_null(p.spec.volume_selector);
    cs_labels_t pool = {0};
    cs_labels_set(&pool, "storage-tier", "warm");
    cr_expect(cs_selector_matches(p.spec.warm_pool_selector, &pool));
    cr_expect_not(cs_selector_matches(p.spec.hot_pool_selector, &pool));
    cs_labels_free(&pool);
    cr_expect(cs_storage_policy_has_warm_tier(&p.spec));
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, NULL), 0);
    cs_storage_policy_free(&p);
}

/* The original read `highWatermarkIops` while its CRD said `highWatermarkIOPS`,
 * so a policy's threshold was silently the default. Here the CRD's name is
 * read and the other spelling is an error that names the right one. */
Test(storage_policy, misspelt_field_is_rejected_not_ignored)
{
    json_t *obj = cs_test_policy_json("{\"highWatermarkIops\":7000}");
    cs_storage_policy_t p = {0};
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, &problems, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.highWatermarkIops: unknown field (did you mean "
                                   "spec.highWatermarkIOPS?)");
    cr_expect_eq(problems.count, 1);
    cr_expect_str_eq(problems.subject, "StoragePolicy 'fast'");
    cr_expect_str_eq(problems.items[0], "spec.highWatermarkIops: unknown field (did you mean spec.highWatermarkIOPS?)");
    /* Decode failed: nothing is left allocated in p. */
    cr_expect_null(p.meta.name);
    cr_expect_null(p.spec.sampling_window);
    cs_crd_problems_free(&problems);
    cs_crd_problems_free(&problems);
    json_decref(obj);
}

Test(storage_policy, unknown_field_without_a_near_match)
{
    json_t *obj = cs_test_policy_json("{\"tiers\":3}");
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.tiers: unknown field");
    json_decref(obj);
}

Test(storage_policy, unknown_field_name_is_sanitised_and_bounded)
{
    json_t *obj = cs_test_policy_json(NULL);
    json_object_set_new(json_object_get(obj, "spec"), "bad\nkey", json_integer(1));
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.bad?key: unknown field");
    json_decref(obj);
}

Test(storage_policy, wrong_types_are_all_reported)
{
    json_t *obj = cs_test_policy_json("{\"highWatermarkIOPS\":\"5000\",\"enabled\":\"yes\","
                                      "\"samplingWindow\":60}");
    cs_storage_policy_t p = {0};
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, &problems, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, SUBJ "spec.highWatermarkIOPS: expected integer, got string; "
                                   "spec.samplingWindow: expected string, got integer; "
                                   "spec.enabled: expected boolean, got string");
    cr_expect_eq(problems.count, 3);
    cs_crd_problems_free(&problems);
    json_decref(obj);
}

Test(storage_policy, integral_real_is_accepted_as_integer)
{
    cs_storage_policy_t p = {0};
    cs_test_policy("{\"highWatermarkIOPS\":6000.0}", &p);
    cr_expect_eq(p.spec.high_watermark_iops, 6000);
    cs_storage_policy_free(&p);
}

Test(storage_policy, null_fields_take_defaults)
{
    cs_storage_policy_t p = {0};
    cs_test_policy("{\"highWatermarkIOPS\":null,\"volumeSelector\":null,\"ecPolicyRef\":null}", &p);
    cr_expect_eq(p.spec.high_watermark_iops, 5000);
    cr_expect_null(p.spec.volume_selector);
    cr_expect_null(p.spec.ec_policy_ref);
    cs_storage_policy_free(&p);
}

Test(storage_policy, empty_ec_policy_ref_means_none)
{
    cs_storage_policy_t p = {0};
    cs_test_policy("{\"ecPolicyRef\":\"\"}", &p);
    cr_expect_null(p.spec.ec_policy_ref);
    cs_storage_policy_free(&p);
}

Test(storage_policy, bad_selector_is_a_decode_problem_naming_the_field)
{
    json_t *obj =
        cs_test_policy_json("{\"volumeSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"Near\"}]}}");
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, SUBJ "spec.volumeSelector") == err.msg, "%s", err.msg);
    cr_expect(strstr(err.msg, "Near") != NULL, "%s", err.msg);
    json_decref(obj);

    obj = cs_test_policy_json("{\"hotPoolSelector\":\"storage-tier=hot\"}");
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, SUBJ "spec.hotPoolSelector") == err.msg, "%s", err.msg);
    json_decref(obj);
}

Test(storage_policy, object_shape_errors)
{
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    json_t *arr = json_array();
    cr_expect_eq(cs_storage_policy_decode(arr, &p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "StoragePolicy: expected a JSON object, got array");
    json_decref(arr);
    cr_expect_eq(cs_storage_policy_decode(NULL, &p, NULL, &err), CS_EINVAL);

    json_t *obj = cs_test_json("{}");
    cr_expect_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "StoragePolicy: metadata: required field is missing; "
                              "spec: required field is missing");
    json_decref(obj);

    obj = cs_test_json("{\"metadata\":{},\"spec\":{}}");
    cr_expect_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "StoragePolicy: metadata.name: required field is missing");
    json_decref(obj);

    obj = cs_test_json("{\"metadata\":{\"name\":\"\"},\"spec\":{}}");
    cr_expect_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "StoragePolicy: metadata.name must not be empty");
    json_decref(obj);

    obj = cs_test_json("{\"apiVersion\":\"v1\",\"kind\":\"ErasureCodingPolicy\","
                       "\"metadata\":{\"name\":\"x\"},\"spec\":[]}");
    cr_expect_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "StoragePolicy 'x': apiVersion: expected storage.billyronks.io/v1, "
                              "got \"v1\"; kind: expected StoragePolicy, got "
                              "\"ErasureCodingPolicy\"; spec: expected object, got array");
    json_decref(obj);
}

Test(storage_policy, metadata_is_read)
{
    json_t *obj = cs_test_json(
        "{\"metadata\":{\"name\":\"m\",\"uid\":\"0b0c7a2e-0000-4000-8000-000000000001\","
        "\"resourceVersion\":\"4711\",\"generation\":7,\"creationTimestamp\":\"2024-05-01T10:00:00Z\","
        "\"labels\":{\"team\":\"storage\"},\"annotations\":{\"note\":\"any text: even long, with spaces\"},"
        "\"managedFields\":[{\"manager\":\"kubectl\"}],\"finalizers\":[\"x\"]},\"spec\":{}}");
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), 0, "%s", err.msg);
    cr_expect_str_eq(p.meta.name, "m");
    cr_expect_str_eq(p.meta.uid, "0b0c7a2e-0000-4000-8000-000000000001");
    cr_expect_str_eq(p.meta.resource_version, "4711");
    cr_expect_eq(p.meta.generation, 7);
    cr_expect_eq(p.meta.creation_timestamp, 1714557600);
    cr_expect_str_eq(cs_labels_get(&p.meta.labels, "team"), "storage");
    cr_expect_str_eq(cs_labels_get(&p.meta.annotations, "note"), "any text: even long, with spaces");
    cs_storage_policy_free(&p);
    json_decref(obj);
}

Test(storage_policy, free_is_safe_on_null_zero_and_twice)
{
    cs_storage_policy_free(NULL);
    cs_storage_policy_spec_free(NULL);
    cs_storage_policy_status_free(NULL);
    cs_object_meta_free(NULL);
    cs_crd_problems_free(NULL);
    cs_storage_policy_t p = {0};
    cs_storage_policy_free(&p);
    cs_test_policy(NULL, &p);
    cs_storage_policy_free(&p);
    cs_storage_policy_free(&p);
    cr_expect_null(p.meta.name);
}

/* ---- validation: every rule, its message, its boundaries ---------------- */

Test(storage_policy_validate, base_policy_is_valid)
{
    CS_EXPECT_VALID("{}");
}

Test(storage_policy_validate, high_must_exceed_low)
{
    CS_EXPECT_INVALID("{\"highWatermarkIOPS\":100}",
                      SUBJ "spec.highWatermarkIOPS (100) must be greater than spec.lowWatermarkIOPS (500)");
    CS_EXPECT_INVALID("{\"highWatermarkIOPS\":500}",
                      SUBJ "spec.highWatermarkIOPS (500) must be greater than spec.lowWatermarkIOPS (500)");
    CS_EXPECT_VALID("{\"highWatermarkIOPS\":501}");
    CS_EXPECT_VALID("{\"highWatermarkIOPS\":1,\"lowWatermarkIOPS\":0}");
}

Test(storage_policy_validate, low_must_not_be_negative)
{
    CS_EXPECT_INVALID("{\"lowWatermarkIOPS\":-1}", SUBJ "spec.lowWatermarkIOPS (-1) must be at least 0");
    CS_EXPECT_VALID("{\"lowWatermarkIOPS\":0}");
}

Test(storage_policy_validate, warm_is_zero_or_strictly_between)
{
    const char *range = "spec.warmWatermarkIOPS (%d) must be 0 (no warm tier) or strictly between "
                        "spec.lowWatermarkIOPS (500) and spec.highWatermarkIOPS (5000)";
    char expected[CS_ERR_MSG_MAX];
    const char *sel = "\"warmPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"warm\"}}";
    char extra[512];
    int bad[] = {500, 5000, 5001, 100};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(extra, sizeof extra, "{\"warmWatermarkIOPS\":%d,%s}", bad[i], sel);
        snprintf(expected, sizeof expected, SUBJ "%s", range);
        char full[CS_ERR_MSG_MAX];
        snprintf(full, sizeof full, expected, bad[i]);
        CS_EXPECT_INVALID(extra, full);
    }
    CS_EXPECT_INVALID("{\"warmWatermarkIOPS\":-1}",
                      SUBJ "spec.warmWatermarkIOPS (-1) must be 0 (no warm tier) or strictly between "
                           "spec.lowWatermarkIOPS (500) and spec.highWatermarkIOPS (5000)");
    int good[] = {501, 2000, 4999};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(extra, sizeof extra, "{\"warmWatermarkIOPS\":%d,%s}", good[i], sel);
        CS_EXPECT_VALID(extra);
    }
    CS_EXPECT_VALID("{\"warmWatermarkIOPS\":0}");
}

Test(storage_policy_validate, warm_tier_needs_warm_pool_selector)
{
    CS_EXPECT_INVALID("{\"warmWatermarkIOPS\":2000}",
                      SUBJ "spec.warmWatermarkIOPS (2000) enables the warm tier, which needs "
                           "spec.warmPoolSelector: set it, or set spec.warmWatermarkIOPS to 0 to "
                           "disable the warm tier");
    /* A warm selector without a warm tier is allowed (and unused). */
    CS_EXPECT_VALID("{\"warmPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"warm\"}}}");
}

Test(storage_policy_validate, pool_selectors_are_required_and_not_empty)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(NULL, &p);
    cs_selector_t *hot = p.spec.hot_pool_selector, *cold = p.spec.cold_pool_selector;
    p.spec.hot_pool_selector = NULL;
    p.spec.cold_pool_selector = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, SUBJ "spec.hotPoolSelector is required: it selects the DiskPools of "
                                   "the hot tier, e.g. matchLabels {storage-tier: hot}; "
                                   "spec.coldPoolSelector is required: it selects the DiskPools of the "
                                   "cold tier, e.g. matchLabels {storage-tier: cold}");
    p.spec.hot_pool_selector = hot;
    p.spec.cold_pool_selector = cold;
    cs_storage_policy_free(&p);

    CS_EXPECT_INVALID("{\"hotPoolSelector\":{}}",
                      SUBJ "spec.hotPoolSelector must not be empty: an empty selector matches every DiskPool");
    CS_EXPECT_INVALID("{\"coldPoolSelector\":{\"matchLabels\":{}}}",
                      SUBJ "spec.coldPoolSelector must not be empty: an empty selector matches every DiskPool");
    CS_EXPECT_INVALID("{\"warmWatermarkIOPS\":1000,\"warmPoolSelector\":{}}",
                      SUBJ "spec.warmPoolSelector must not be empty: an empty selector matches every DiskPool");
    /* volumeSelector may be empty: every volume of the StorageClass. */
    CS_EXPECT_VALID("{\"volumeSelector\":{}}");
}

/* Selectors built in C (not decoded) are checked too. */
Test(storage_policy_validate, selector_contents_are_checked)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(NULL, &p);
    cs_selector_t *vs = calloc(1, sizeof *vs);
    cr_assert_eq(cs_selector_parse("app in (db)", vs, NULL), 0);
    p.spec.volume_selector = vs;
    free(vs->reqs[0].key);
    vs->reqs[0].key = strdup("bad key!");
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), CS_EINVAL);
    cr_expect(strncmp(err.msg, SUBJ "spec.volumeSelector: ", strlen(SUBJ "spec.volumeSelector: ")) == 0, "%s", err.msg);
    cr_expect(strstr(err.msg, "bad key!") != NULL, "%s", err.msg);

    free(vs->reqs[0].key);
    vs->reqs[0].key = strdup("app");
    vs->reqs[0].op = CS_SEL_EXISTS;
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, SUBJ "spec.volumeSelector: requirement on \"app\" must not have values");

    vs->reqs[0].op = CS_SEL_NOT_IN;
    for (size_t i = 0; i < vs->reqs[0].value_count; i++)
        free(vs->reqs[0].values[i]);
    vs->reqs[0].value_count = 0;
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, SUBJ "spec.volumeSelector: requirement on \"app\" needs at least one value");
    cs_storage_policy_free(&p);
}

Test(storage_policy_validate, durations_must_parse_and_be_positive)
{
    CS_EXPECT_INVALID("{\"samplingWindow\":\"0\"}",
                      SUBJ "spec.samplingWindow (\"0\") must be a positive duration, e.g. \"30m\"");
    CS_EXPECT_INVALID("{\"cooldownPeriod\":\"0s\"}",
                      SUBJ "spec.cooldownPeriod (\"0s\") must be a positive duration, e.g. \"30m\"");
    CS_EXPECT_INVALID("{\"migrationTimeout\":\"0h0m\"}",
                      SUBJ "spec.migrationTimeout (\"0h0m\") must be a positive duration, e.g. \"30m\"");
    CS_EXPECT_VALID("{\"samplingWindow\":\"1ns\",\"cooldownPeriod\":\"1s\",\"migrationTimeout\":\"2h45m\"}");

    /* A text that does not parse: the parser's own message after the field. */
    const char *bad[] = {"samplingWindow", "cooldownPeriod", "migrationTimeout"};
    const char *text[] = {"1 hour", "", "-5m"};
    for (size_t i = 0; i < 3; i++) {
        char extra[128], msg[CS_ERR_MSG_MAX], prefix[128], parser[CS_ERR_MSG_MAX];
        snprintf(extra, sizeof extra, "{\"%s\":\"%s\"}", bad[i], text[i]);
        cs_test_validate(extra, msg, sizeof msg);
        cs_err_t perr = {0};
        int64_t ns;
        cr_assert_neq(cs_duration_parse(text[i], &ns, &perr), 0);
        snprintf(prefix, sizeof prefix, SUBJ "spec.%s: ", bad[i]);
        snprintf(parser, sizeof parser, "%s%s", prefix, perr.msg);
        cr_expect_str_eq(msg, parser);
    }
}

Test(storage_policy_validate, storage_class_name)
{
    CS_EXPECT_INVALID("{\"storageClassName\":\"\"}", SUBJ "spec.storageClassName must not be empty");
    CS_EXPECT_INVALID("{\"storageClassName\":\"Mayastor_SC\"}",
                      SUBJ "spec.storageClassName (\"Mayastor_SC\") is not a valid object name: "
                           "lowercase letters, digits, '-' and '.', starting and ending with a "
                           "letter or digit, at most 253 characters");
    CS_EXPECT_VALID("{\"storageClassName\":\"mayastor-nvme.3\"}");
}

Test(storage_policy_validate, max_concurrent_migrations_bounds)
{
    CS_EXPECT_INVALID("{\"maxConcurrentMigrations\":0}", SUBJ "spec.maxConcurrentMigrations (0) must be at least 1");
    CS_EXPECT_INVALID("{\"maxConcurrentMigrations\":-3}", SUBJ "spec.maxConcurrentMigrations (-3) must be at least 1");
    CS_EXPECT_VALID("{\"maxConcurrentMigrations\":1}");
    CS_EXPECT_VALID("{\"maxConcurrentMigrations\":100}");
    CS_EXPECT_INVALID("{\"maxConcurrentMigrations\":101}",
                      SUBJ "spec.maxConcurrentMigrations (101) must be at most 100");
}

Test(storage_policy_validate, ec_fields)
{
    CS_EXPECT_INVALID("{\"ecPolicyRef\":\"Standard_EC\"}",
                      SUBJ "spec.ecPolicyRef (\"Standard_EC\") is not a valid object name: lowercase "
                           "letters, digits, '-' and '.', starting and ending with a letter or "
                           "digit, at most 253 characters");
    CS_EXPECT_VALID("{\"ecPolicyRef\":\"standard-ec\"}");
    CS_EXPECT_INVALID("{\"ecMinVolumeSizeBytes\":-1}", SUBJ "spec.ecMinVolumeSizeBytes (-1) must be at least 0");
    CS_EXPECT_VALID("{\"ecMinVolumeSizeBytes\":0}");
    CS_EXPECT_VALID("{\"ecMinVolumeSizeBytes\":9223372036854775807}");
}

Test(storage_policy_validate, every_violation_is_listed)
{
    cs_storage_policy_t p = {0};
    cs_test_policy("{\"highWatermarkIOPS\":100,\"warmWatermarkIOPS\":300,\"samplingWindow\":\"0s\","
                   "\"maxConcurrentMigrations\":0,\"hotPoolSelector\":{}}",
                   &p);
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_validate(&p, &problems, &err), CS_EINVAL);
    cr_assert_eq(problems.count, 6);
    cr_expect_str_eq(problems.items[0],
                     "spec.highWatermarkIOPS (100) must be greater than spec.lowWatermarkIOPS (500)");
    cr_expect_str_eq(problems.items[1], "spec.warmWatermarkIOPS (300) must be 0 (no warm tier) or strictly between "
                                        "spec.lowWatermarkIOPS (500) and spec.highWatermarkIOPS (100)");
    cr_expect_str_eq(problems.items[2], "spec.hotPoolSelector must not be empty: an empty selector "
                                        "matches every DiskPool");
    cr_expect_str_eq(problems.items[3], "spec.warmWatermarkIOPS (300) enables the warm tier, which needs "
                                        "spec.warmPoolSelector: set it, or set spec.warmWatermarkIOPS to 0 to disable "
                                        "the warm tier");
    cr_expect_str_eq(problems.items[4], "spec.samplingWindow (\"0s\") must be a positive duration, e.g. \"30m\"");
    cr_expect_str_eq(problems.items[5], "spec.maxConcurrentMigrations (0) must be at least 1");
    char *joined = cs_crd_problems_join(&problems);
    cr_assert_not_null(joined);
    /* err carries the same text, cut to its size. */
    cr_expect_eq(strncmp(err.msg, joined, CS_ERR_MSG_MAX - 1), 0);
    cr_expect(strncmp(joined,
                      SUBJ "spec.highWatermarkIOPS (100) must be greater than "
                           "spec.lowWatermarkIOPS (500); spec.warmWatermarkIOPS (300)",
                      strlen(SUBJ) + 98) == 0,
              "%s", joined);
    free(joined);
    /* A valid policy empties a list passed in. */
    cs_storage_policy_spec_free(&p.spec);
    cs_storage_policy_t ok = {0};
    cs_test_policy(NULL, &ok);
    cr_expect_eq(cs_storage_policy_validate(&ok, &problems, NULL), 0);
    cr_expect_eq(problems.count, 0);
    cs_storage_policy_free(&ok);
    cs_storage_policy_free(&p);
}

Test(storage_policy_validate, spec_validate_without_a_name)
{
    cs_storage_policy_spec_t s = {0};
    cr_assert_eq(cs_storage_policy_spec_init(&s, NULL), 0);
    s.warm_watermark_iops = 0;
    s.hot_pool_selector = calloc(1, sizeof *s.hot_pool_selector);
    s.cold_pool_selector = calloc(1, sizeof *s.cold_pool_selector);
    cr_assert_eq(cs_selector_parse("storage-tier=hot", s.hot_pool_selector, NULL), 0);
    cr_assert_eq(cs_selector_parse("storage-tier=cold", s.cold_pool_selector, NULL), 0);
    cr_expect_eq(cs_storage_policy_spec_validate(&s, NULL, NULL, NULL), 0);
    s.low_watermark_iops = 9000;
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_spec_validate(&s, NULL, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "StoragePolicy: spec.highWatermarkIOPS (5000) must be greater than "
                              "spec.lowWatermarkIOPS (9000)");
    cr_expect_eq(cs_storage_policy_spec_validate(NULL, "x", NULL, &err), CS_EINVAL);
    cr_expect_eq(cs_storage_policy_validate(NULL, NULL, &err), CS_EINVAL);
    cs_storage_policy_spec_free(&s);
}

Test(storage_policy_validate, long_lists_are_bounded)
{
    json_t *obj = cs_test_policy_json(NULL);
    json_t *spec = json_object_get(obj, "spec");
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf(key, sizeof key, "unknown%03d", i);
        json_object_set_new(spec, key, json_integer(i));
    }
    cs_storage_policy_t p = {0};
    cs_crd_problems_t problems = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, &problems, &err), CS_EPARSE);
    cr_expect_eq(problems.count, CS_CRD_PROBLEMS_MAX);
    cr_expect_eq(problems.dropped, 100 - CS_CRD_PROBLEMS_MAX);
    char *joined = cs_crd_problems_join(&problems);
    cr_assert_not_null(joined);
    cr_expect(strstr(joined, "(and 36 more problems)") != NULL);
    free(joined);
    cr_expect_eq(strlen(err.msg), CS_ERR_MSG_MAX - 1);
    cs_crd_problems_free(&problems);
    json_decref(obj);
}

/* ---- encode and round trips --------------------------------------------- */

static const char *full_policy =
    "{\"apiVersion\":\"storage.billyronks.io/v1\",\"kind\":\"StoragePolicy\","
    "\"metadata\":{\"name\":\"fast\",\"uid\":\"6f1d\",\"resourceVersion\":\"42\",\"generation\":3,"
    "\"creationTimestamp\":\"2024-05-01T10:00:00Z\",\"labels\":{\"team\":\"storage\"},"
    "\"annotations\":{\"note\":\"hello, world\"}},"
    "\"spec\":{\"highWatermarkIOPS\":6000,\"warmWatermarkIOPS\":1500,\"lowWatermarkIOPS\":250,"
    "\"samplingWindow\":\"30m\",\"cooldownPeriod\":\"12h\",\"storageClassName\":\"mayastor\","
    "\"hotPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"hot\"}},"
    "\"warmPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"warm\"}},"
    "\"coldPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"cold\"}},"
    "\"volumeSelector\":{\"matchExpressions\":[{\"key\":\"app\",\"operator\":\"NotIn\",\"values\":[\"scratch\"]}]},"
    "\"namespaceSelector\":{\"matchLabels\":{\"team\":\"storage\"}},"
    "\"maxConcurrentMigrations\":4,\"migrationTimeout\":\"45m\",\"enabled\":true,\"dryRun\":true,"
    "\"createdBySteering\":false,\"ecPolicyRef\":\"standard-ec\",\"ecMinVolumeSizeBytes\":5368709120},"
    "\"status\":{\"phase\":\"Active\",\"message\":\"watching 3 volumes\",\"watchedVolumes\":3,"
    "\"hotVolumes\":1,\"warmVolumes\":1,\"coldVolumes\":1,\"activeMigrations\":0,"
    "\"totalMigrations\":2,\"failedMigrations\":1,\"lastReconcileTime\":\"2024-05-01T11:00:00Z\","
    "\"observedGeneration\":3,"
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"Reconciled\","
    "\"message\":\"\",\"lastTransitionTime\":\"2024-05-01T10:05:00Z\",\"observedGeneration\":3},"
    "{\"type\":\"ECPolicyResolved\",\"status\":\"False\",\"reason\":\"NotFound\","
    "\"message\":\"ErasureCodingPolicy 'standard-ec' does not exist\","
    "\"lastTransitionTime\":\"2024-05-01T10:05:00Z\",\"observedGeneration\":3}],"
    "\"migrationHistory\":[{\"volumeName\":\"pvc-1\",\"timestamp\":\"2024-05-01T10:30:00Z\","
    "\"fromTier\":\"cold\",\"toTier\":\"hot\",\"triggerIOPS\":6200.5,\"duration\":\"4m12s\","
    "\"outcome\":\"Succeeded\"},{\"volumeName\":\"pvc-2\",\"timestamp\":\"2024-05-01T10:40:00Z\","
    "\"fromTier\":\"hot\",\"toTier\":\"warm\",\"triggerIOPS\":1200.0,\"duration\":\"30m0s\","
    "\"outcome\":\"TimedOut\",\"message\":\"replica did not finish rebuilding\"}],"
    "\"ecPolicy\":{\"name\":\"standard-ec\",\"resolved\":false,"
    "\"message\":\"ErasureCodingPolicy 'standard-ec' does not exist\"}}}";

Test(storage_policy_roundtrip, canonical_object_encodes_to_itself)
{
    json_t *in = cs_test_json(full_policy);
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(in, &p, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(p.status.phase, CS_SP_PHASE_ACTIVE);
    cr_expect_eq(p.status.migration_history.count, 2);
    cr_expect_eq(p.status.migration_history.items[0].duration_ns, 252 * CS_NSEC_PER_SEC);
    cr_expect_eq(p.status.migration_history.items[1].outcome, CS_MIGRATION_TIMED_OUT);
    cr_expect_eq(p.status.migration_history.items[1].to_tier, CS_TIER_WARM);
    cr_expect(p.status.ec_policy.present);
    cr_expect_not(p.status.ec_policy.resolved);
    const cs_condition_t *ready = cs_conditions_find(&p.status.conditions, "Ready");
    cr_assert_not_null(ready);
    cr_expect_eq(ready->status, CS_CONDITION_TRUE);
    cr_expect_null(ready->message);

    json_t *out = NULL;
    cr_assert_eq(cs_storage_policy_encode(&p, &out, &err), 0);
    char *a = json_dumps(in, JSON_SORT_KEYS), *b = json_dumps(out, JSON_SORT_KEYS);
    cr_expect(json_equal(in, out), "\nin:  %s\nout: %s", a, b);
    free(a);
    free(b);

    /* decode -> encode -> decode -> encode is stable. */
    cs_storage_policy_t q = {0};
    cr_assert_eq(cs_storage_policy_decode(out, &q, NULL, &err), 0, "%s", err.msg);
    json_t *again = NULL;
    cr_assert_eq(cs_storage_policy_encode(&q, &again, &err), 0);
    cr_expect(json_equal(out, again));
    cr_expect(cs_storage_policy_status_equal(&p.status, &q.status));
    cr_expect_eq(q.spec.high_watermark_iops, p.spec.high_watermark_iops);
    cr_expect_str_eq(q.spec.ec_policy_ref, p.spec.ec_policy_ref);
    json_decref(again);
    json_decref(out);
    json_decref(in);
    cs_storage_policy_free(&q);
    cs_storage_policy_free(&p);
}

Test(storage_policy_roundtrip, sparse_object_roundtrips_through_defaults)
{
    json_t *in = cs_test_policy_json("{\"highWatermarkIOPS\":9000}");
    cs_storage_policy_t p = {0}, q = {0};
    cr_assert_eq(cs_storage_policy_decode(in, &p, NULL, NULL), 0);
    json_t *e1 = NULL, *e2 = NULL;
    cr_assert_eq(cs_storage_policy_encode(&p, &e1, NULL), 0);
    cr_assert_eq(cs_storage_policy_decode(e1, &q, NULL, NULL), 0);
    cr_assert_eq(cs_storage_policy_encode(&q, &e2, NULL), 0);
    cr_expect(json_equal(e1, e2));
    json_t *spec = json_object_get(e1, "spec");
    cr_expect_eq(json_integer_value(json_object_get(spec, "highWatermarkIOPS")), 9000);
    cr_expect_str_eq(json_string_value(json_object_get(spec, "samplingWindow")), "1h");
    cr_expect_null(json_object_get(spec, "ecPolicyRef"));
    cr_expect_null(json_object_get(spec, "volumeSelector"));
    /* An empty status: no phase, null ecPolicy, empty lists. */
    json_t *status = json_object_get(e1, "status");
    cr_expect_null(json_object_get(status, "phase"));
    cr_expect_null(json_object_get(status, "lastReconcileTime"));
    cr_expect(json_is_null(json_object_get(status, "ecPolicy")));
    cr_expect_eq(json_array_size(json_object_get(status, "conditions")), 0);
    cr_expect_str_eq(json_string_value(json_object_get(status, "message")), "");
    json_decref(e1);
    json_decref(e2);
    json_decref(in);
    cs_storage_policy_free(&p);
    cs_storage_policy_free(&q);
}

Test(storage_policy_roundtrip, encode_rejects_null)
{
    json_t *out = (json_t *)1;
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_encode(NULL, &out, &err), CS_EINVAL);
    cr_expect_null(out);
    cr_expect_eq(cs_storage_policy_spec_encode(NULL, &out, &err), CS_EINVAL);
    cr_expect_eq(cs_storage_policy_status_encode(NULL, &out, &err), CS_EINVAL);
}

Test(storage_policy, namespace_selector)
{
    cs_storage_policy_t p = {0};
    cs_test_policy(NULL, &p);
    cr_expect_null(p.spec.namespace_selector, "absent: any Namespace");
    cs_storage_policy_free(&p);
    cs_test_policy("{\"namespaceSelector\":{\"matchLabels\":{\"team\":\"a\"},\"matchExpressions\":[{\"key\":"
                   "\"env\",\"operator\":\"NotIn\",\"values\":[\"dev\"]}]}}",
                   &p);
    cr_assert_not_null(p.spec.namespace_selector);
    cr_assert_eq(p.spec.namespace_selector->count, 2);
    char *text = cs_selector_to_string(p.spec.namespace_selector);
    cr_expect_str_eq(text, "team=a,env!=dev");
    free(text);
    /* encoded back as written */
    json_t *spec = NULL;
    cr_assert_eq(cs_storage_policy_spec_encode(&p.spec, &spec, NULL), 0);
    json_t *want = cs_test_json("{\"matchLabels\":{\"team\":\"a\"},\"matchExpressions\":[{\"key\":\"env\","
                                "\"operator\":\"NotIn\",\"values\":[\"dev\"]}]}");
    cr_expect(json_equal(json_object_get(spec, "namespaceSelector"), want));
    json_decref(want);
    json_decref(spec);
    cs_storage_policy_free(&p);
    /* null is absent; empty is allowed (any Namespace, but only volumes with a bound claim) */
    cs_test_policy("{\"namespaceSelector\":null}", &p);
    cr_expect_null(p.spec.namespace_selector);
    cs_storage_policy_free(&p);
    CS_EXPECT_VALID("{\"namespaceSelector\":{}}");
    /* shape and value errors name the field */
    json_t *obj = cs_test_policy_json("{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"team\","
                                      "\"operator\":\"Near\"}]}}");
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_decode(obj, &p, NULL, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, SUBJ "spec.namespaceSelector") == err.msg, "%s", err.msg);
    json_decref(obj);
    cs_storage_policy_free(&p);
    cs_test_policy(NULL, &p);
    cs_selector_t *ns = calloc(1, sizeof *ns);
    cr_assert_eq(cs_selector_parse("team in (a)", ns, NULL), 0);
    ns->reqs[0].op = CS_SEL_EXISTS;
    p.spec.namespace_selector = ns;
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, SUBJ "spec.namespaceSelector: requirement on \"team\" must not have values");
    cs_storage_policy_free(&p);
}
