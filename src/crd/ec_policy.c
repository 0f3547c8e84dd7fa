/* ec_policy.c: the ErasureCodingPolicy custom resource: defaults, decode,
 * validation (LLD 1.1.2 plus GF(2^8)'s limit), status and encode. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "crd/crd_internal.h"

static const char *const cs__ec_spec_fields[] = {"dataShards", "parityShards", "stripeSizeBytes", "algorithm"};

const char *cs_ec_policy_phase_name(cs_ec_policy_phase_t phase)
{
    switch (phase) {
    case CS_EC_PHASE_READY:
        return "Ready";
    case CS_EC_PHASE_INVALID:
        return "Invalid";
    case CS_EC_PHASE_NONE:
        break;
    }
    return "";
}

void cs_ec_policy_spec_free(cs_ec_policy_spec_t *spec)
{
    if (!spec)
        return;
    free(spec->algorithm);
    memset(spec, 0, sizeof *spec);
}

int cs_ec_policy_spec_init(cs_ec_policy_spec_t *spec, cs_err_t *err)
{
    memset(spec, 0, sizeof *spec);
    spec->data_shards = CS_EC_DEFAULT_DATA_SHARDS;
    spec->parity_shards = CS_EC_DEFAULT_PARITY_SHARDS;
    spec->stripe_size_bytes = CS_EC_DEFAULT_STRIPE_SIZE_BYTES;
    spec->algorithm = cs__strdup(CS_EC_DEFAULT_ALGORITHM);
    if (!spec->algorithm)
        return cs_err_set(err, CS_ENOMEM, "out of memory setting ErasureCodingPolicy defaults");
    return 0;
}

void cs_ec_policy_status_free(cs_ec_policy_status_t *status)
{
    if (!status)
        return;
    free(status->message);
    memset(status, 0, sizeof *status);
}

void cs_ec_policy_free(cs_ec_policy_t *policy)
{
    if (!policy)
        return;
    cs_object_meta_free(&policy->meta);
    cs_ec_policy_spec_free(&policy->spec);
    cs_ec_policy_status_free(&policy->status);
}

double cs_ec_policy_efficiency(const cs_ec_policy_spec_t *spec)
{
    if (!spec || spec->data_shards <= 0 || spec->parity_shards <= 0 || spec->data_shards > CS_EC_MAX_TOTAL_SHARDS ||
        spec->parity_shards > CS_EC_MAX_TOTAL_SHARDS)
        return 0;
    return (double)spec->data_shards / (double)(spec->data_shards + spec->parity_shards);
}

/* ---- decode ------------------------------------------------------------- */

static void cs__ec_status_decode(cs__dec_t *d, const json_t *j, cs_ec_policy_status_t *st)
{
    char *phase = NULL;
    cs__get_str(d, j, "status", "phase", false, false, &phase);
    if (phase) {
        if (strcmp(phase, "Ready") == 0)
            st->phase = CS_EC_PHASE_READY;
        else if (strcmp(phase, "Invalid") == 0)
            st->phase = CS_EC_PHASE_INVALID;
        else {
            char shown[80];
            cs__problem(d, "status.phase: \"%s\" is not one of Ready, Invalid",
                        cs__printable(phase, 40, shown, sizeof shown));
        }
        free(phase);
    }
    cs__get_str(d, j, "status", "message", false, true, &st->message);
    cs__get_number(d, j, "status", "storageEfficiency", &st->storage_efficiency);
    if (st->storage_efficiency < 0 || st->storage_efficiency > 1) {
        cs__problem(d, "status.storageEfficiency: must lie in [0, 1]");
        st->storage_efficiency = 0;
    }
    cs__get_int(d, j, "status", "observedGeneration", 0, INT64_MAX, &st->observed_generation);
}

int cs_ec_policy_decode(const json_t *obj, cs_ec_policy_t *out, cs_crd_problems_t *problems, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (problems)
        cs_crd_problems_free(problems);
    if (!obj || !json_is_object(obj))
        return cs_err_set(err, CS_EINVAL, "ErasureCodingPolicy: expected a JSON object, got %s",
                          cs_json_type_name(obj));
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    const json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    if (cs__problems_set_subject(&local, CS_EC_POLICY_KIND, json_string_value(name)) != 0)
        d.oom = true;
    cs__decode_header(&d, obj, CS_EC_POLICY_KIND, &out->meta);

    cs_err_t e = {0};
    const json_t *spec = NULL;
    int rc = cs_json_get_object(obj, "", "spec", CS_JSON_REQUIRED, &spec, &e);
    if (rc < 0)
        cs__problem_rc(&d, rc, &e);
    if (cs_ec_policy_spec_init(&out->spec, NULL) != 0) {
        d.oom = true;
    } else if (spec) {
        cs__reject_unknown(&d, spec, "spec", cs__ec_spec_fields,
                           sizeof cs__ec_spec_fields / sizeof cs__ec_spec_fields[0]);
        cs__get_int(&d, spec, "spec", "dataShards", INT64_MIN, INT64_MAX, &out->spec.data_shards);
        cs__get_int(&d, spec, "spec", "parityShards", INT64_MIN, INT64_MAX, &out->spec.parity_shards);
        cs__get_int(&d, spec, "spec", "stripeSizeBytes", INT64_MIN, INT64_MAX, &out->spec.stripe_size_bytes);
        cs__get_str(&d, spec, "spec", "algorithm", false, false, &out->spec.algorithm);
    }

    const json_t *status = NULL;
    rc = cs_json_get_object(obj, "", "status", CS_JSON_OPTIONAL, &status, &e);
    if (rc < 0)
        cs__problem_rc(&d, rc, &e);
    else if (rc == 0)
        cs__ec_status_decode(&d, status, &out->status);

    rc = cs__problems_finish(&d, problems, CS_EPARSE, err);
    if (rc != 0)
        cs_ec_policy_free(out);
    return rc;
}

int cs_ec_policy_status_decode(const json_t *status, cs_ec_policy_status_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!status || !json_is_object(status))
        return cs_err_set(err, CS_EPARSE, "status: expected object, got %s", cs_json_type_name(status));
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    cs__ec_status_decode(&d, status, out);
    int rc = cs__problems_finish(&d, NULL, CS_EPARSE, err);
    if (rc != 0)
        cs_ec_policy_status_free(out);
    return rc;
}

/* ---- validate ----------------------------------------------------------- */

int cs_ec_policy_spec_validate(const cs_ec_policy_spec_t *spec, const char *name, cs_crd_problems_t *problems,
                               cs_err_t *err)
{
    if (problems)
        cs_crd_problems_free(problems);
    if (!spec)
        return cs_err_set(err, CS_EINVAL, "ErasureCodingPolicy: no spec given");
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    if (cs__problems_set_subject(&local, CS_EC_POLICY_KIND, name) != 0)
        d.oom = true;
    int64_t k = spec->data_shards, m = spec->parity_shards;
    if (k < 1)
        cs__problem(&d, "spec.dataShards (%" PRId64 ") must be at least 1", k);
    if (m < 1)
        cs__problem(&d, "spec.parityShards (%" PRId64 ") must be at least 1", m);
    if (k >= 1 && m >= 1 && (k > CS_EC_MAX_TOTAL_SHARDS || m > CS_EC_MAX_TOTAL_SHARDS - k))
        cs__problem(&d,
                    "spec.dataShards + spec.parityShards (%" PRId64 " + %" PRId64 ") must be at "
                    "most %d: Reed-Solomon over GF(2^8) has %d distinct shard positions",
                    k, m, CS_EC_MAX_TOTAL_SHARDS, CS_EC_MAX_TOTAL_SHARDS);
    if (spec->stripe_size_bytes < CS_EC_MIN_STRIPE_SIZE_BYTES || spec->stripe_size_bytes > CS_EC_MAX_STRIPE_SIZE_BYTES)
        cs__problem(&d,
                    "spec.stripeSizeBytes (%" PRId64 ") must be between %d (64 KiB) and %d "
                    "(64 MiB)",
                    spec->stripe_size_bytes, CS_EC_MIN_STRIPE_SIZE_BYTES, CS_EC_MAX_STRIPE_SIZE_BYTES);
    if (!spec->algorithm || strcmp(spec->algorithm, CS_EC_DEFAULT_ALGORITHM) != 0) {
        char shown[80];
        cs__problem(&d, "spec.algorithm (\"%s\") is not supported: the only algorithm is %s",
                    cs__printable(spec->algorithm, 40, shown, sizeof shown), CS_EC_DEFAULT_ALGORITHM);
    }
    return cs__problems_finish(&d, problems, CS_EINVAL, err);
}

int cs_ec_policy_validate(const cs_ec_policy_t *policy, cs_crd_problems_t *problems, cs_err_t *err)
{
    if (!policy) {
        if (problems)
            cs_crd_problems_free(problems);
        return cs_err_set(err, CS_EINVAL, "ErasureCodingPolicy: no policy given");
    }
    return cs_ec_policy_spec_validate(&policy->spec, policy->meta.name, problems, err);
}

int cs_ec_policy_status_compute(const cs_ec_policy_t *policy, cs_ec_policy_status_t *out, cs_err_t *err)
{
    cs_ec_policy_status_free(out);
    if (!policy)
        return cs_err_set(err, CS_EINVAL, "ErasureCodingPolicy: no policy given");
    cs_crd_problems_t problems = {0};
    cs_err_t verr = {0};
    int rc = cs_ec_policy_validate(policy, &problems, &verr);
    if (rc == CS_ENOMEM)
        return cs_err_set(err, rc, "%s", verr.msg);
    out->observed_generation = policy->meta.generation;
    if (rc == 0) {
        out->phase = CS_EC_PHASE_READY;
        out->storage_efficiency = cs_ec_policy_efficiency(&policy->spec);
        return 0;
    }
    out->phase = CS_EC_PHASE_INVALID;
    out->message = cs_crd_problems_join(&problems);
    cs_crd_problems_free(&problems);
    if (!out->message) {
        cs_ec_policy_status_free(out);
        return cs_err_set(err, CS_ENOMEM, "out of memory computing an ErasureCodingPolicy status");
    }
    return 0;
}

/* ---- encode ------------------------------------------------------------- */

static json_t *cs__ec_spec_json(const cs_ec_policy_spec_t *s)
{
    json_t *o = json_object();
    bool oom = !o;
    if (oom)
        return NULL;
    cs__put(o, "dataShards", json_integer(s->data_shards), &oom);
    cs__put(o, "parityShards", json_integer(s->parity_shards), &oom);
    cs__put(o, "stripeSizeBytes", json_integer(s->stripe_size_bytes), &oom);
    if (s->algorithm)
        cs__put(o, "algorithm", json_string(s->algorithm), &oom);
    if (oom) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *cs__ec_status_json(const cs_ec_policy_status_t *st)
{
    json_t *o = json_object();
    bool oom = !o;
    if (oom)
        return NULL;
    if (st->phase != CS_EC_PHASE_NONE)
        cs__put(o, "phase", json_string(cs_ec_policy_phase_name(st->phase)), &oom);
    cs__put(o, "message", json_string(st->message ? st->message : ""), &oom);
    double eff = st->storage_efficiency;
    cs__put(o, "storageEfficiency", json_real(eff >= 0 && eff <= 1 ? eff : 0), &oom);
    cs__put(o, "observedGeneration", json_integer(st->observed_generation), &oom);
    if (oom) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cs_ec_policy_spec_encode(const cs_ec_policy_spec_t *spec, json_t **out, cs_err_t *err)
{
    *out = spec ? cs__ec_spec_json(spec) : NULL;
    if (!*out)
        return cs_err_set(err, spec ? CS_ENOMEM : CS_EINVAL, "ErasureCodingPolicy spec: %s",
                          spec ? "out of memory encoding" : "nothing to encode");
    return 0;
}

int cs_ec_policy_status_encode(const cs_ec_policy_status_t *status, json_t **out, cs_err_t *err)
{
    return cs__encode_status(CS_EC_POLICY_KIND, status != NULL, status ? cs__ec_status_json(status) : NULL, out, err);
}

int cs_ec_policy_encode(const cs_ec_policy_t *policy, json_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!policy)
        return cs_err_set(err, CS_EINVAL, "ErasureCodingPolicy: nothing to encode");
    return cs__encode_object(CS_EC_POLICY_KIND, &policy->meta, cs__ec_spec_json(&policy->spec),
                             cs__ec_status_json(&policy->status), out, err);
}
