/* The CRD manifests in deploy/crds and the C types must not drift: the
 * schema's defaults equal the C defaults (both directions), its spec fields
 * are exactly the ones C decodes, and the example manifests decode and
 * validate cleanly. Paths are relative to CS_SOURCE_DIR (set by CTest). */
#include "crd_test.h"

#include "couchestor/yaml.h"

#define MAX_MANIFEST (1024 * 1024)

static json_t *load_docs(const char *rel)
{
    const char *root = getenv("CS_SOURCE_DIR");
    cr_assert_not_null(root, "CS_SOURCE_DIR is not set (run through ctest)");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    json_t *docs = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_yaml_load_file(path, MAX_MANIFEST, &docs, &err), 0, "%s: %s", path, err.msg);
    cr_assert(json_is_array(docs) && json_array_size(docs) >= 1, "%s: no documents", path);
    return docs;
}

/* The single document of a manifest; the caller owns it. */
static json_t *load_doc(const char *rel)
{
    json_t *docs = load_docs(rel);
    cr_assert_eq(json_array_size(docs), 1, "%s: expected one document", rel);
    json_t *doc = json_incref(json_array_get(docs, 0));
    json_decref(docs);
    return doc;
}

static const json_t *version_v1(const json_t *crd)
{
    const json_t *versions = json_object_get(json_object_get(crd, "spec"), "versions");
    cr_assert_eq(json_array_size(versions), 1);
    const json_t *v = json_array_get(versions, 0);
    cr_assert_str_eq(json_string_value(json_object_get(v, "name")), "v1");
    return v;
}

static const json_t *spec_properties(const json_t *crd)
{
    const json_t *schema = json_object_get(json_object_get(version_v1(crd), "schema"), "openAPIV3Schema");
    const json_t *props = json_object_get(json_object_get(json_object_get(schema, "properties"), "spec"), "properties");
    cr_assert(json_is_object(props), "no spec properties in the schema");
    return props;
}

/* Every key of `encoded` must have an equal `default` in props, and every
 * property with a default must be in `encoded`. */
static void compare_defaults(const char *what, const json_t *props, const json_t *encoded)
{
    const char *key;
    json_t *value;
    size_t compared = 0;
    json_object_foreach((json_t *)encoded, key, value)
    {
        const json_t *def = json_object_get(json_object_get(props, key), "default");
        cr_expect_not_null(def, "%s: C defaults spec.%s but the CRD has no default for it", what, key);
        if (!def)
            continue;
        char *a = json_dumps(value, JSON_ENCODE_ANY), *b = json_dumps(def, JSON_ENCODE_ANY);
        cr_expect(json_equal(value, def), "%s: spec.%s defaults to %s in C but %s in the CRD", what, key, a, b);
        free(a);
        free(b);
        compared++;
    }
    json_object_foreach((json_t *)props, key, value)
    {
        if (json_object_get(value, "default"))
            cr_expect_not_null(json_object_get(encoded, key), "%s: the CRD defaults spec.%s but C does not", what, key);
    }
    cr_expect_gt(compared, 0);
}

static void expect_same_keys(const char *what, const json_t *props, const json_t *encoded)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)props, key, value)
        cr_expect_not_null(json_object_get(encoded, key), "%s: CRD field spec.%s is unknown to C", what, key);
    json_object_foreach((json_t *)encoded, key, value)
        cr_expect_not_null(json_object_get(props, key), "%s: C field spec.%s is not in the CRD", what, key);
}

static void expect_names(const json_t *crd, const char *plural, const char *kind)
{
    const json_t *spec = json_object_get(crd, "spec");
    char name[128];
    snprintf(name, sizeof name, "%s.%s", plural, CS_CRD_GROUP);
    cr_expect_str_eq(json_string_value(json_object_get(crd, "apiVersion")), "apiextensions.k8s.io/v1");
    cr_expect_str_eq(json_string_value(json_object_get(crd, "kind")), "CustomResourceDefinition");
    cr_expect_str_eq(json_string_value(json_object_get(json_object_get(crd, "metadata"), "name")), name);
    cr_expect_str_eq(json_string_value(json_object_get(spec, "group")), CS_CRD_GROUP);
    cr_expect_str_eq(json_string_value(json_object_get(spec, "scope")), "Cluster");
    const json_t *names = json_object_get(spec, "names");
    cr_expect_str_eq(json_string_value(json_object_get(names, "plural")), plural);
    cr_expect_str_eq(json_string_value(json_object_get(names, "kind")), kind);
    const json_t *v = version_v1(crd);
    cr_expect(json_is_true(json_object_get(v, "served")));
    cr_expect(json_is_true(json_object_get(v, "storage")));
    cr_expect(json_is_object(json_object_get(json_object_get(v, "subresources"), "status")),
              "%s: no status subresource", kind);
}

static void expect_printer_columns(const json_t *crd, const char *const *want, size_t n)
{
    const json_t *cols = json_object_get(version_v1(crd), "additionalPrinterColumns");
    cr_assert_eq(json_array_size(cols), n);
    for (size_t i = 0; i < n; i++)
        cr_expect_str_eq(json_string_value(json_object_get(json_array_get(cols, i), "name")), want[i]);
}

Test(drift, storage_policy_defaults_match_the_crd)
{
    json_t *crd = load_doc("deploy/crds/storagepolicies.storage.billyronks.io.yaml");
    expect_names(crd, CS_STORAGE_POLICY_PLURAL, CS_STORAGE_POLICY_KIND);
    const json_t *short_names = json_object_get(json_object_get(json_object_get(crd, "spec"), "names"), "shortNames");
    cr_expect_str_eq(json_string_value(json_array_get(short_names, 0)), "sp");
    cr_expect_str_eq(json_string_value(json_array_get(short_names, 1)), "spolicy");
    const char *const cols[] = {"Phase", "Watched", "Hot", "Warm", "Cold", "Active", "Age"};
    expect_printer_columns(crd, cols, sizeof cols / sizeof cols[0]);

    /* C defaults: decode an empty spec, encode it back. */
    json_t *obj = cs_test_json("{\"metadata\":{\"name\":\"d\"},\"spec\":{}}");
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), 0, "%s", err.msg);
    json_t *encoded = NULL;
    cr_assert_eq(cs_storage_policy_spec_encode(&p.spec, &encoded, NULL), 0);
    const json_t *props = spec_properties(crd);
    compare_defaults("StoragePolicy", props, encoded);
    /* migrationTimeout has no default on either side: absent, the operator's
     * migration_timeout_minutes applies, so the CRD must not fill it in. */
    cr_expect_eq(json_object_size(encoded), 11);
    cr_expect_null(json_object_get(encoded, "migrationTimeout"));
    cr_expect_null(json_object_get(json_object_get(props, "migrationTimeout"), "default"),
                   "a schema default would hide the operator-wide migration_timeout_minutes");

    /* Field names: a spec with every optional field set encodes to exactly
     * the CRD's spec properties. */
    cs_storage_policy_t full = {0};
    cs_test_policy("{\"warmPoolSelector\":{\"matchLabels\":{\"a\":\"b\"}},"
                   "\"volumeSelector\":{},\"namespaceSelector\":{},\"ecPolicyRef\":\"x\",\"migrationTimeout\":\"45m\"}",
                   &full);
    json_t *all = NULL;
    cr_assert_eq(cs_storage_policy_spec_encode(&full.spec, &all, NULL), 0);
    expect_same_keys("StoragePolicy", props, all);

    json_decref(all);
    json_decref(encoded);
    json_decref(obj);
    json_decref(crd);
    cs_storage_policy_free(&p);
    cs_storage_policy_free(&full);
}

Test(drift, ec_policy_defaults_match_the_crd)
{
    json_t *crd = load_doc("deploy/crds/erasurecodingpolicies.storage.billyronks.io.yaml");
    expect_names(crd, CS_EC_POLICY_PLURAL, CS_EC_POLICY_KIND);
    const char *const cols[] = {"Data", "Parity", "Efficiency", "Phase", "Age"};
    expect_printer_columns(crd, cols, sizeof cols / sizeof cols[0]);

    json_t *obj = cs_test_json("{\"metadata\":{\"name\":\"d\"},\"spec\":{}}");
    cs_ec_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_policy_decode(obj, &p, NULL, &err), 0, "%s", err.msg);
    json_t *encoded = NULL;
    cr_assert_eq(cs_ec_policy_spec_encode(&p.spec, &encoded, NULL), 0);
    const json_t *props = spec_properties(crd);
    compare_defaults("ErasureCodingPolicy", props, encoded);
    expect_same_keys("ErasureCodingPolicy", props, encoded);
    cr_expect_eq(json_object_size(encoded), 4);

    /* The schema's bounds are the validator's. */
    const json_t *k = json_object_get(props, "dataShards"), *s = json_object_get(props, "stripeSizeBytes");
    cr_expect_eq(json_integer_value(json_object_get(k, "minimum")), 1);
    cr_expect_eq(json_integer_value(json_object_get(k, "maximum")), CS_EC_MAX_TOTAL_SHARDS - 1);
    cr_expect_eq(json_integer_value(json_object_get(s, "minimum")), CS_EC_MIN_STRIPE_SIZE_BYTES);
    cr_expect_eq(json_integer_value(json_object_get(s, "maximum")), CS_EC_MAX_STRIPE_SIZE_BYTES);
    const json_t *alg = json_object_get(json_object_get(props, "algorithm"), "enum");
    cr_expect_eq(json_array_size(alg), 1);
    cr_expect_str_eq(json_string_value(json_array_get(alg, 0)), CS_EC_DEFAULT_ALGORITHM);

    json_decref(encoded);
    json_decref(obj);
    json_decref(crd);
    cs_ec_policy_free(&p);
}

Test(drift, storage_policy_schema_bounds_match_the_validator)
{
    json_t *crd = load_doc("deploy/crds/storagepolicies.storage.billyronks.io.yaml");
    const json_t *props = spec_properties(crd);
    const json_t *mcm = json_object_get(props, "maxConcurrentMigrations");
    cr_expect_eq(json_integer_value(json_object_get(mcm, "minimum")), 1);
    cr_expect_eq(json_integer_value(json_object_get(mcm, "maximum")), CS_SP_MAX_CONCURRENT_MIGRATIONS_MAX);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(props, "lowWatermarkIOPS"), "minimum")), 0);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(props, "warmWatermarkIOPS"), "minimum")), 0);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(props, "ecMinVolumeSizeBytes"), "minimum")), 0);
    const json_t *status = json_object_get(
        json_object_get(json_object_get(json_object_get(json_object_get(version_v1(crd), "schema"), "openAPIV3Schema"),
                                        "properties"),
                        "status"),
        "properties");
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(status, "migrationHistory"), "maxItems")),
                 CS_SP_MIGRATION_HISTORY_MAX);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(status, "conditions"), "maxItems")),
                 CS_CONDITIONS_MAX);
    /* Every status field C encodes is in the schema. */
    cs_storage_policy_status_t st = {0};
    st.phase = CS_SP_PHASE_ACTIVE;
    st.last_reconcile_time = 1;
    json_t *enc = NULL;
    cr_assert_eq(cs_storage_policy_status_encode(&st, &enc, NULL), 0);
    const char *key;
    json_t *value;
    json_object_foreach(enc, key, value)
        cr_expect_not_null(json_object_get(status, key), "status.%s is not in the CRD", key);
    json_decref(enc);
    json_decref(crd);
}

static void decode_and_validate_sp(const char *rel, const char *name)
{
    json_t *doc = load_doc(rel);
    cs_storage_policy_t p = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(doc, &p, NULL, &err), 0, "%s: %s", rel, err.msg);
    cr_expect_eq(cs_storage_policy_validate(&p, NULL, &err), 0, "%s: %s", rel, err.msg);
    cr_expect_str_eq(p.meta.name, name);
    /* Pools are chosen by the DiskPool labels storage-tier and media-type. */
    cs_labels_t pool = {0};
    cs_labels_set(&pool, "storage-tier", "hot");
    cs_labels_set(&pool, "media-type", "nvme");
    cr_expect(cs_selector_matches(p.spec.hot_pool_selector, &pool), "%s: hot selector", rel);
    cr_expect_not(cs_selector_matches(p.spec.cold_pool_selector, &pool), "%s: cold selector", rel);
    cs_labels_free(&pool);
    cs_labels_set(&pool, "storage-tier", "cold");
    cs_labels_set(&pool, "media-type", "hdd");
    cr_expect(cs_selector_matches(p.spec.cold_pool_selector, &pool), "%s: cold selector", rel);
    cr_expect_not(cs_selector_matches(p.spec.hot_pool_selector, &pool), "%s: hot selector", rel);
    cs_labels_free(&pool);
    json_decref(doc);
    cs_storage_policy_free(&p);
}

Test(examples, two_tier_storage_policy)
{
    decode_and_validate_sp("deploy/examples/storagepolicy-two-tier.yaml", "two-tier");
    json_t *doc = load_doc("deploy/examples/storagepolicy-two-tier.yaml");
    cs_storage_policy_t p = {0};
    cr_assert_eq(cs_storage_policy_decode(doc, &p, NULL, NULL), 0);
    cr_expect_not(cs_storage_policy_has_warm_tier(&p.spec));
    json_decref(doc);
    cs_storage_policy_free(&p);
}

Test(examples, three_tier_storage_policy_references_the_ec_example)
{
    decode_and_validate_sp("deploy/examples/storagepolicy-three-tier.yaml", "three-tier");
    json_t *doc = load_doc("deploy/examples/storagepolicy-three-tier.yaml");
    cs_storage_policy_t p = {0};
    cr_assert_eq(cs_storage_policy_decode(doc, &p, NULL, NULL), 0);
    cr_expect(cs_storage_policy_has_warm_tier(&p.spec));
    cs_labels_t pool = {0};
    cs_labels_set(&pool, "storage-tier", "warm");
    cs_labels_set(&pool, "media-type", "ssd");
    cr_expect(cs_selector_matches(p.spec.warm_pool_selector, &pool));
    cr_expect_not(cs_selector_matches(p.spec.cold_pool_selector, &pool));
    cs_labels_free(&pool);

    json_t *ecdoc = load_doc("deploy/examples/erasurecodingpolicy.yaml");
    cs_ec_policy_t ec = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_policy_decode(ecdoc, &ec, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_ec_policy_validate(&ec, NULL, &err), 0, "%s", err.msg);
    cr_expect_str_eq(p.spec.ec_policy_ref, ec.meta.name);
    json_decref(ecdoc);
    json_decref(doc);
    cs_ec_policy_free(&ec);
    cs_storage_policy_free(&p);
}
