/* storage_policy.c: the StoragePolicy custom resource: defaults, decode,
 * validation and encode. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/duration.h"
#include "couchestor/json.h"
#include "couchestor/rfc3339.h"
#include "crd/crd_internal.h"

static const char *const cs__sp_spec_fields[] = {
    "highWatermarkIOPS",       "warmWatermarkIOPS", "lowWatermarkIOPS",  "samplingWindow",   "cooldownPeriod",
    "storageClassName",        "hotPoolSelector",   "warmPoolSelector",  "coldPoolSelector", "volumeSelector",
    "maxConcurrentMigrations", "migrationTimeout",  "enabled",           "dryRun",           "ecPolicyRef",
    "ecMinVolumeSizeBytes",    "namespaceSelector", "createdBySteering",
};

const char *cs_storage_policy_phase_name(cs_storage_policy_phase_t phase)
{
    switch (phase) {
    case CS_SP_PHASE_PENDING:
        return "Pending";
    case CS_SP_PHASE_ACTIVE:
        return "Active";
    case CS_SP_PHASE_DISABLED:
        return "Disabled";
    case CS_SP_PHASE_ERROR:
        return "Error";
    case CS_SP_PHASE_NONE:
        break;
    }
    return "";
}

static int64_t cs__duration_ns(const char *text)
{
    int64_t ns = 0;
    if (!text || cs_duration_parse(text, &ns, NULL) != 0)
        return 0;
    return ns;
}

static void cs__selector_release(cs_selector_t **sel)
{
    if (*sel) {
        cs_selector_free(*sel);
        free(*sel);
        *sel = NULL;
    }
}

void cs_storage_policy_spec_free(cs_storage_policy_spec_t *spec)
{
    if (!spec)
        return;
    free(spec->sampling_window);
    free(spec->cooldown_period);
    free(spec->storage_class_name);
    free(spec->migration_timeout);
    free(spec->ec_policy_ref);
    cs__selector_release(&spec->hot_pool_selector);
    cs__selector_release(&spec->warm_pool_selector);
    cs__selector_release(&spec->cold_pool_selector);
    cs__selector_release(&spec->volume_selector);
    cs__selector_release(&spec->namespace_selector);
    memset(spec, 0, sizeof *spec);
}

int cs_storage_policy_spec_init(cs_storage_policy_spec_t *spec, cs_err_t *err)
{
    memset(spec, 0, sizeof *spec);
    spec->high_watermark_iops = CS_SP_DEFAULT_HIGH_WATERMARK_IOPS;
    spec->warm_watermark_iops = CS_SP_DEFAULT_WARM_WATERMARK_IOPS;
    spec->low_watermark_iops = CS_SP_DEFAULT_LOW_WATERMARK_IOPS;
    spec->max_concurrent_migrations = CS_SP_DEFAULT_MAX_CONCURRENT_MIGRATIONS;
    spec->enabled = CS_SP_DEFAULT_ENABLED;
    spec->dry_run = CS_SP_DEFAULT_DRY_RUN;
    spec->ec_min_volume_size_bytes = CS_SP_DEFAULT_EC_MIN_VOLUME_SIZE_BYTES;
    spec->sampling_window = cs__strdup(CS_SP_DEFAULT_SAMPLING_WINDOW);
    spec->cooldown_period = cs__strdup(CS_SP_DEFAULT_COOLDOWN_PERIOD);
    spec->storage_class_name = cs__strdup(CS_SP_DEFAULT_STORAGE_CLASS_NAME);
    if (!spec->sampling_window || !spec->cooldown_period || !spec->storage_class_name) {
        cs_storage_policy_spec_free(spec);
        return cs_err_set(err, CS_ENOMEM, "out of memory setting StoragePolicy defaults");
    }
    spec->sampling_window_ns = cs__duration_ns(spec->sampling_window);
    spec->cooldown_period_ns = cs__duration_ns(spec->cooldown_period);
    return 0;
}

void cs_storage_policy_status_free(cs_storage_policy_status_t *status)
{
    if (!status)
        return;
    free(status->message);
    cs_conditions_free(&status->conditions);
    cs_migration_history_free(&status->migration_history);
    free(status->ec_policy.name);
    free(status->ec_policy.message);
    memset(status, 0, sizeof *status);
}

void cs_storage_policy_free(cs_storage_policy_t *policy)
{
    if (!policy)
        return;
    cs_object_meta_free(&policy->meta);
    cs_storage_policy_spec_free(&policy->spec);
    cs_storage_policy_status_free(&policy->status);
}

bool cs_storage_policy_has_warm_tier(const cs_storage_policy_spec_t *spec)
{
    return spec && spec->warm_watermark_iops > 0;
}

int64_t cs_storage_policy_migration_timeout_ms(const cs_storage_policy_spec_t *spec, int64_t default_ms)
{
    if (!spec || !spec->migration_timeout || spec->migration_timeout_ns <= 0)
        return default_ms;
    int64_t ms = spec->migration_timeout_ns / 1000000;
    return ms > 0 ? ms : 1; /* "500us" is a timeout, not "unset" */
}

/* ---- decode ------------------------------------------------------------- */

static void cs__sp_spec_decode(cs__dec_t *d, const json_t *j, cs_storage_policy_spec_t *s)
{
    cs__reject_unknown(d, j, "spec", cs__sp_spec_fields, sizeof cs__sp_spec_fields / sizeof cs__sp_spec_fields[0]);
    cs__get_int(d, j, "spec", "highWatermarkIOPS", INT64_MIN, INT64_MAX, &s->high_watermark_iops);
    cs__get_int(d, j, "spec", "warmWatermarkIOPS", INT64_MIN, INT64_MAX, &s->warm_watermark_iops);
    cs__get_int(d, j, "spec", "lowWatermarkIOPS", INT64_MIN, INT64_MAX, &s->low_watermark_iops);
    cs__get_str(d, j, "spec", "samplingWindow", false, false, &s->sampling_window);
    cs__get_str(d, j, "spec", "cooldownPeriod", false, false, &s->cooldown_period);
    cs__get_str(d, j, "spec", "storageClassName", false, false, &s->storage_class_name);
    cs__get_selector(d, j, "spec", "hotPoolSelector", &s->hot_pool_selector);
    cs__get_selector(d, j, "spec", "warmPoolSelector", &s->warm_pool_selector);
    cs__get_selector(d, j, "spec", "coldPoolSelector", &s->cold_pool_selector);
    cs__get_selector(d, j, "spec", "volumeSelector", &s->volume_selector);
    cs__get_selector(d, j, "spec", "namespaceSelector", &s->namespace_selector);
    cs__get_int(d, j, "spec", "maxConcurrentMigrations", INT64_MIN, INT64_MAX, &s->max_concurrent_migrations);
    cs__get_str(d, j, "spec", "migrationTimeout", false, false, &s->migration_timeout);
    cs__get_bool(d, j, "spec", "enabled", &s->enabled);
    cs__get_bool(d, j, "spec", "dryRun", &s->dry_run);
    cs__get_bool(d, j, "spec", "createdBySteering", &s->created_by_steering);
    cs__get_str(d, j, "spec", "ecPolicyRef", false, true, &s->ec_policy_ref);
    cs__get_int(d, j, "spec", "ecMinVolumeSizeBytes", INT64_MIN, INT64_MAX, &s->ec_min_volume_size_bytes);
    s->sampling_window_ns = cs__duration_ns(s->sampling_window);
    s->cooldown_period_ns = cs__duration_ns(s->cooldown_period);
    s->migration_timeout_ns = cs__duration_ns(s->migration_timeout);
}

static bool cs__enum_lookup(const char *text, const char *(*name)(int), int first, int last, int *out)
{
    for (int v = first; v <= last; v++) {
        if (strcmp(text, name(v)) == 0) {
            *out = v;
            return true;
        }
    }
    return false;
}

static const char *cs__phase_name_int(int v)
{
    return cs_storage_policy_phase_name((cs_storage_policy_phase_t)v);
}
static const char *cs__tier_name_int(int v)
{
    return cs_tier_name((cs_tier_t)v);
}
static const char *cs__outcome_name_int(int v)
{
    return cs_migration_outcome_name((cs_migration_outcome_t)v);
}

/* Reads a string field that must be one of an enum's names. */
static void cs__get_enum(cs__dec_t *d, const json_t *obj, const char *path, const char *key, const char *(*name)(int),
                         int first, int last, const char *choices, int *out)
{
    char *text = NULL;
    cs__get_str(d, obj, path, key, false, false, &text);
    if (!text)
        return;
    if (!cs__enum_lookup(text, name, first, last, out)) {
        char full[128], shown[80];
        cs__problem(d, "%s: \"%s\" is not one of %s", cs_json_path_join(full, sizeof full, path, key),
                    cs__printable(text, 40, shown, sizeof shown), choices);
    }
    free(text);
}

static void cs__history_decode(cs__dec_t *d, const json_t *status, cs_migration_history_t *h)
{
    cs_err_t e = {0};
    const json_t *arr = NULL;
    int rc = cs_json_get_array(status, "status", "migrationHistory", CS_JSON_OPTIONAL, &arr, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
        return;
    }
    if (rc > 0 || json_array_size(arr) == 0)
        return;
    /* The history is always allocated at full capacity (see append). */
    h->items = calloc(CS_SP_MIGRATION_HISTORY_MAX, sizeof *h->items);
    if (!h->items) {
        d->oom = true;
        return;
    }
    size_t n = json_array_size(arr);
    size_t first = n > CS_SP_MIGRATION_HISTORY_MAX ? n - CS_SP_MIGRATION_HISTORY_MAX : 0;
    for (size_t i = first; i < n; i++) {
        const json_t *r = json_array_get(arr, i);
        char sub[64];
        cs_json_path_index(sub, sizeof sub, "status.migrationHistory", i);
        if (!json_is_object(r)) {
            cs__problem(d, "%s: expected object, got %s", sub, cs_json_type_name(r));
            continue;
        }
        cs_migration_record_t *rec = &h->items[h->count++];
        int v;
        cs__get_str(d, r, sub, "volumeName", true, false, &rec->volume_name);
        cs__get_time(d, r, sub, "timestamp", &rec->timestamp);
        v = CS_TIER_UNKNOWN;
        cs__get_enum(d, r, sub, "fromTier", cs__tier_name_int, CS_TIER_UNKNOWN, CS_TIER_COLD,
                     "hot, warm, cold, unknown", &v);
        rec->from_tier = (cs_tier_t)v;
        v = CS_TIER_UNKNOWN;
        cs__get_enum(d, r, sub, "toTier", cs__tier_name_int, CS_TIER_UNKNOWN, CS_TIER_COLD, "hot, warm, cold, unknown",
                     &v);
        rec->to_tier = (cs_tier_t)v;
        cs__get_number(d, r, sub, "triggerIOPS", &rec->trigger_iops);
        if (rec->trigger_iops < 0) {
            cs__problem(d, "%s.triggerIOPS: must not be negative", sub);
            rec->trigger_iops = 0;
        }
        char *dur = NULL;
        cs__get_str(d, r, sub, "duration", false, false, &dur);
        if (dur && cs_duration_parse(dur, &rec->duration_ns, &e) != 0)
            cs__problem(d, "%s.duration: %s", sub, e.msg);
        free(dur);
        v = CS_MIGRATION_SUCCEEDED;
        cs__get_enum(d, r, sub, "outcome", cs__outcome_name_int, CS_MIGRATION_SUCCEEDED, CS_MIGRATION_DRY_RUN,
                     "Succeeded, Failed, TimedOut, Aborted, DryRun", &v);
        rec->outcome = (cs_migration_outcome_t)v;
        cs__get_str(d, r, sub, "message", false, true, &rec->message);
    }
}

static void cs__sp_status_decode(cs__dec_t *d, const json_t *j, cs_storage_policy_status_t *st)
{
    int v = CS_SP_PHASE_NONE;
    cs__get_enum(d, j, "status", "phase", cs__phase_name_int, CS_SP_PHASE_PENDING, CS_SP_PHASE_ERROR,
                 "Pending, Active, Disabled, Error", &v);
    st->phase = (cs_storage_policy_phase_t)v;
    cs__get_str(d, j, "status", "message", false, true, &st->message);
    cs__get_int(d, j, "status", "watchedVolumes", 0, INT64_MAX, &st->watched_volumes);
    cs__get_int(d, j, "status", "hotVolumes", 0, INT64_MAX, &st->hot_volumes);
    cs__get_int(d, j, "status", "warmVolumes", 0, INT64_MAX, &st->warm_volumes);
    cs__get_int(d, j, "status", "coldVolumes", 0, INT64_MAX, &st->cold_volumes);
    cs__get_int(d, j, "status", "activeMigrations", 0, INT64_MAX, &st->active_migrations);
    cs__get_int(d, j, "status", "totalMigrations", 0, INT64_MAX, &st->total_migrations);
    cs__get_int(d, j, "status", "failedMigrations", 0, INT64_MAX, &st->failed_migrations);
    cs__get_time(d, j, "status", "lastReconcileTime", &st->last_reconcile_time);
    cs__get_int(d, j, "status", "observedGeneration", 0, INT64_MAX, &st->observed_generation);
    cs__decode_conditions(d, j, "status", &st->conditions);
    cs__history_decode(d, j, &st->migration_history);

    cs_err_t e = {0};
    const json_t *ec = NULL;
    int rc = cs_json_get_object(j, "status", "ecPolicy", CS_JSON_OPTIONAL, &ec, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
    } else if (rc == 0) {
        st->ec_policy.present = true;
        cs__get_str(d, ec, "status.ecPolicy", "name", true, false, &st->ec_policy.name);
        cs__get_bool(d, ec, "status.ecPolicy", "resolved", &st->ec_policy.resolved);
        cs__get_str(d, ec, "status.ecPolicy", "message", false, true, &st->ec_policy.message);
    }
}

int cs_storage_policy_decode(const json_t *obj, cs_storage_policy_t *out, cs_crd_problems_t *problems, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (problems)
        cs_crd_problems_free(problems);
    if (!obj || !json_is_object(obj))
        return cs_err_set(err, CS_EINVAL, "StoragePolicy: expected a JSON object, got %s", cs_json_type_name(obj));
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    const json_t *name = json_object_get(json_object_get(obj, "metadata"), "name");
    if (cs__problems_set_subject(&local, CS_STORAGE_POLICY_KIND, json_string_value(name)) != 0)
        d.oom = true;
    cs__decode_header(&d, obj, CS_STORAGE_POLICY_KIND, &out->meta);

    cs_err_t e = {0};
    const json_t *spec = NULL;
    int rc = cs_json_get_object(obj, "", "spec", CS_JSON_REQUIRED, &spec, &e);
    if (rc < 0)
        cs__problem_rc(&d, rc, &e);
    if (cs_storage_policy_spec_init(&out->spec, NULL) != 0)
        d.oom = true;
    else if (spec)
        cs__sp_spec_decode(&d, spec, &out->spec);

    const json_t *status = NULL;
    rc = cs_json_get_object(obj, "", "status", CS_JSON_OPTIONAL, &status, &e);
    if (rc < 0)
        cs__problem_rc(&d, rc, &e);
    else if (rc == 0)
        cs__sp_status_decode(&d, status, &out->status);

    rc = cs__problems_finish(&d, problems, CS_EPARSE, err);
    if (rc != 0)
        cs_storage_policy_free(out);
    return rc;
}

int cs_storage_policy_status_decode(const json_t *status, cs_storage_policy_status_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!status || !json_is_object(status))
        return cs_err_set(err, CS_EPARSE, "status: expected object, got %s", cs_json_type_name(status));
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    cs__sp_status_decode(&d, status, out);
    int rc = cs__problems_finish(&d, NULL, CS_EPARSE, err);
    if (rc != 0)
        cs_storage_policy_status_free(out);
    return rc;
}

/* ---- validate ----------------------------------------------------------- */

static void cs__check_duration(cs__dec_t *d, const char *field, const char *text)
{
    cs_err_t e = {0};
    int64_t ns = 0;
    char shown[80];
    if (!text) {
        cs__problem(d, "spec.%s is required", field);
    } else if (cs_duration_parse(text, &ns, &e) != 0) {
        cs__problem(d, "spec.%s: %s", field, e.msg);
    } else if (ns <= 0) {
        cs__problem(d, "spec.%s (\"%s\") must be a positive duration, e.g. \"30m\"", field,
                    cs__printable(text, 40, shown, sizeof shown));
    }
}

static void cs__check_pool_selector(cs__dec_t *d, const char *field, const cs_selector_t *sel, const char *tier)
{
    char msg[CS_ERR_MSG_MAX];
    if (!sel)
        cs__problem(d,
                    "spec.%s is required: it selects the DiskPools of the %s tier, e.g. "
                    "matchLabels {storage-tier: %s}",
                    field, tier, tier);
    else if (cs_selector_is_empty(sel))
        cs__problem(d, "spec.%s must not be empty: an empty selector matches every DiskPool", field);
    else if (!cs__selector_check(sel, msg, sizeof msg))
        cs__problem(d, "spec.%s: %s", field, msg);
}

static void cs__sp_spec_validate(cs__dec_t *d, const cs_storage_policy_spec_t *s)
{
    int64_t high = s->high_watermark_iops, warm = s->warm_watermark_iops, low = s->low_watermark_iops;
    char msg[CS_ERR_MSG_MAX], shown[300];

    if (low < 0)
        cs__problem(d, "spec.lowWatermarkIOPS (%" PRId64 ") must be at least 0", low);
    if (high <= low)
        cs__problem(d,
                    "spec.highWatermarkIOPS (%" PRId64 ") must be greater than "
                    "spec.lowWatermarkIOPS (%" PRId64 ")",
                    high, low);
    if (warm != 0 && !(warm > low && warm < high))
        cs__problem(d,
                    "spec.warmWatermarkIOPS (%" PRId64 ") must be 0 (no warm tier) or strictly "
                    "between spec.lowWatermarkIOPS (%" PRId64 ") and spec.highWatermarkIOPS (%" PRId64 ")",
                    warm, low, high);

    cs__check_pool_selector(d, "hotPoolSelector", s->hot_pool_selector, "hot");
    if (cs_storage_policy_has_warm_tier(s)) {
        if (!s->warm_pool_selector)
            cs__problem(d,
                        "spec.warmWatermarkIOPS (%" PRId64 ") enables the warm tier, which needs "
                        "spec.warmPoolSelector: set it, or set spec.warmWatermarkIOPS to 0 to "
                        "disable the warm tier",
                        warm);
        else
            cs__check_pool_selector(d, "warmPoolSelector", s->warm_pool_selector, "warm");
    } else if (s->warm_pool_selector && !cs__selector_check(s->warm_pool_selector, msg, sizeof msg)) {
        cs__problem(d, "spec.warmPoolSelector: %s", msg);
    }
    cs__check_pool_selector(d, "coldPoolSelector", s->cold_pool_selector, "cold");
    if (s->volume_selector && !cs__selector_check(s->volume_selector, msg, sizeof msg))
        cs__problem(d, "spec.volumeSelector: %s", msg);
    if (s->namespace_selector && !cs__selector_check(s->namespace_selector, msg, sizeof msg))
        cs__problem(d, "spec.namespaceSelector: %s", msg);

    cs__check_duration(d, "samplingWindow", s->sampling_window);
    cs__check_duration(d, "cooldownPeriod", s->cooldown_period);
    if (s->migration_timeout) /* absent: the operator-wide migration_timeout_minutes */
        cs__check_duration(d, "migrationTimeout", s->migration_timeout);

    if (!s->storage_class_name || !*s->storage_class_name)
        cs__problem(d, "spec.storageClassName must not be empty");
    else if (!cs__object_name_ok(s->storage_class_name))
        cs__problem(d,
                    "spec.storageClassName (\"%s\") is not a valid object name: lowercase "
                    "letters, digits, '-' and '.', starting and ending with a letter or digit, "
                    "at most 253 characters",
                    cs__printable(s->storage_class_name, 253, shown, sizeof shown));

    if (s->max_concurrent_migrations < 1)
        cs__problem(d, "spec.maxConcurrentMigrations (%" PRId64 ") must be at least 1", s->max_concurrent_migrations);
    else if (s->max_concurrent_migrations > CS_SP_MAX_CONCURRENT_MIGRATIONS_MAX)
        cs__problem(d, "spec.maxConcurrentMigrations (%" PRId64 ") must be at most %d", s->max_concurrent_migrations,
                    CS_SP_MAX_CONCURRENT_MIGRATIONS_MAX);

    if (s->ec_policy_ref && !cs__object_name_ok(s->ec_policy_ref))
        cs__problem(d,
                    "spec.ecPolicyRef (\"%s\") is not a valid object name: lowercase letters, "
                    "digits, '-' and '.', starting and ending with a letter or digit, at most "
                    "253 characters",
                    cs__printable(s->ec_policy_ref, 253, shown, sizeof shown));
    if (s->ec_min_volume_size_bytes < 0)
        cs__problem(d, "spec.ecMinVolumeSizeBytes (%" PRId64 ") must be at least 0", s->ec_min_volume_size_bytes);
}

int cs_storage_policy_spec_validate(const cs_storage_policy_spec_t *spec, const char *name, cs_crd_problems_t *problems,
                                    cs_err_t *err)
{
    if (problems)
        cs_crd_problems_free(problems);
    if (!spec)
        return cs_err_set(err, CS_EINVAL, "StoragePolicy: no spec given");
    cs_crd_problems_t local = {0};
    cs__dec_t d = {&local, false};
    if (cs__problems_set_subject(&local, CS_STORAGE_POLICY_KIND, name) != 0)
        d.oom = true;
    cs__sp_spec_validate(&d, spec);
    return cs__problems_finish(&d, problems, CS_EINVAL, err);
}

int cs_storage_policy_validate(const cs_storage_policy_t *policy, cs_crd_problems_t *problems, cs_err_t *err)
{
    if (!policy) {
        if (problems)
            cs_crd_problems_free(problems);
        return cs_err_set(err, CS_EINVAL, "StoragePolicy: no policy given");
    }
    return cs_storage_policy_spec_validate(&policy->spec, policy->meta.name, problems, err);
}

/* ---- encode ------------------------------------------------------------- */

static json_t *cs__sp_spec_json(const cs_storage_policy_spec_t *s)
{
    json_t *o = json_object();
    bool oom = !o;
    if (oom)
        return NULL;
    cs__put(o, "highWatermarkIOPS", json_integer(s->high_watermark_iops), &oom);
    cs__put(o, "warmWatermarkIOPS", json_integer(s->warm_watermark_iops), &oom);
    cs__put(o, "lowWatermarkIOPS", json_integer(s->low_watermark_iops), &oom);
    if (s->sampling_window)
        cs__put(o, "samplingWindow", json_string(s->sampling_window), &oom);
    if (s->cooldown_period)
        cs__put(o, "cooldownPeriod", json_string(s->cooldown_period), &oom);
    if (s->storage_class_name)
        cs__put(o, "storageClassName", json_string(s->storage_class_name), &oom);
    if (s->hot_pool_selector)
        cs__put(o, "hotPoolSelector", cs_selector_to_json(s->hot_pool_selector), &oom);
    if (s->warm_pool_selector)
        cs__put(o, "warmPoolSelector", cs_selector_to_json(s->warm_pool_selector), &oom);
    if (s->cold_pool_selector)
        cs__put(o, "coldPoolSelector", cs_selector_to_json(s->cold_pool_selector), &oom);
    if (s->volume_selector)
        cs__put(o, "volumeSelector", cs_selector_to_json(s->volume_selector), &oom);
    if (s->namespace_selector)
        cs__put(o, "namespaceSelector", cs_selector_to_json(s->namespace_selector), &oom);
    cs__put(o, "maxConcurrentMigrations", json_integer(s->max_concurrent_migrations), &oom);
    if (s->migration_timeout)
        cs__put(o, "migrationTimeout", json_string(s->migration_timeout), &oom);
    cs__put(o, "enabled", json_boolean(s->enabled), &oom);
    cs__put(o, "dryRun", json_boolean(s->dry_run), &oom);
    cs__put(o, "createdBySteering", json_boolean(s->created_by_steering), &oom);
    if (s->ec_policy_ref)
        cs__put(o, "ecPolicyRef", json_string(s->ec_policy_ref), &oom);
    cs__put(o, "ecMinVolumeSizeBytes", json_integer(s->ec_min_volume_size_bytes), &oom);
    if (oom) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *cs__history_json(const cs_migration_history_t *h)
{
    json_t *arr = json_array();
    bool oom = !arr;
    for (size_t i = 0; !oom && i < h->count; i++) {
        const cs_migration_record_t *r = &h->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            oom = true;
            break;
        }
        char t[CS_RFC3339_SIZE], dur[32];
        cs__put(o, "volumeName", json_string(r->volume_name ? r->volume_name : ""), &oom);
        if (r->timestamp)
            cs__put(o, "timestamp", json_string(cs_rfc3339_format(r->timestamp, t, sizeof t)), &oom);
        cs__put(o, "fromTier", json_string(cs_tier_name(r->from_tier)), &oom);
        cs__put(o, "toTier", json_string(cs_tier_name(r->to_tier)), &oom);
        cs__put(o, "triggerIOPS", json_real(isfinite(r->trigger_iops) && r->trigger_iops >= 0 ? r->trigger_iops : 0),
                &oom);
        cs__put(o, "duration",
                json_string(cs_duration_format(r->duration_ns > 0 ? r->duration_ns : 0, dur, sizeof dur)), &oom);
        cs__put(o, "outcome", json_string(cs_migration_outcome_name(r->outcome)), &oom);
        if (r->message)
            cs__put(o, "message", json_string(r->message), &oom);
    }
    if (oom) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

static json_t *cs__sp_status_json(const cs_storage_policy_status_t *st)
{
    json_t *o = json_object();
    bool oom = !o;
    if (oom)
        return NULL;
    if (st->phase != CS_SP_PHASE_NONE)
        cs__put(o, "phase", json_string(cs_storage_policy_phase_name(st->phase)), &oom);
    cs__put(o, "message", json_string(st->message ? st->message : ""), &oom);
    cs__put(o, "watchedVolumes", json_integer(st->watched_volumes), &oom);
    cs__put(o, "hotVolumes", json_integer(st->hot_volumes), &oom);
    cs__put(o, "warmVolumes", json_integer(st->warm_volumes), &oom);
    cs__put(o, "coldVolumes", json_integer(st->cold_volumes), &oom);
    cs__put(o, "activeMigrations", json_integer(st->active_migrations), &oom);
    cs__put(o, "totalMigrations", json_integer(st->total_migrations), &oom);
    cs__put(o, "failedMigrations", json_integer(st->failed_migrations), &oom);
    if (st->last_reconcile_time) {
        char t[CS_RFC3339_SIZE];
        cs__put(o, "lastReconcileTime", json_string(cs_rfc3339_format(st->last_reconcile_time, t, sizeof t)), &oom);
    }
    cs__put(o, "observedGeneration", json_integer(st->observed_generation), &oom);
    cs__put(o, "conditions", cs__encode_conditions(&st->conditions), &oom);
    cs__put(o, "migrationHistory", cs__history_json(&st->migration_history), &oom);
    if (st->ec_policy.present) {
        json_t *ec = json_object();
        if (ec) {
            cs__put(ec, "name", json_string(st->ec_policy.name ? st->ec_policy.name : ""), &oom);
            cs__put(ec, "resolved", json_boolean(st->ec_policy.resolved), &oom);
            cs__put(ec, "message", json_string(st->ec_policy.message ? st->ec_policy.message : ""), &oom);
        }
        cs__put(o, "ecPolicy", ec, &oom);
    } else {
        cs__put(o, "ecPolicy", json_null(), &oom);
    }
    if (oom) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cs_storage_policy_spec_encode(const cs_storage_policy_spec_t *spec, json_t **out, cs_err_t *err)
{
    *out = spec ? cs__sp_spec_json(spec) : NULL;
    if (!*out)
        return cs_err_set(err, spec ? CS_ENOMEM : CS_EINVAL, "StoragePolicy spec: %s",
                          spec ? "out of memory encoding" : "nothing to encode");
    return 0;
}

int cs_storage_policy_status_encode(const cs_storage_policy_status_t *status, json_t **out, cs_err_t *err)
{
    return cs__encode_status(CS_STORAGE_POLICY_KIND, status != NULL, status ? cs__sp_status_json(status) : NULL, out,
                             err);
}

int cs_storage_policy_encode(const cs_storage_policy_t *policy, json_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!policy)
        return cs_err_set(err, CS_EINVAL, "StoragePolicy: nothing to encode");
    return cs__encode_object(CS_STORAGE_POLICY_KIND, &policy->meta, cs__sp_spec_json(&policy->spec),
                             cs__sp_status_json(&policy->status), out, err);
}

bool cs_storage_policy_status_equal(const cs_storage_policy_status_t *a, const cs_storage_policy_status_t *b)
{
    if (!a || !b)
        return a == b;
    json_t *ja = cs__sp_status_json(a), *jb = cs__sp_status_json(b);
    bool eq = ja && jb && json_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return eq;
}
