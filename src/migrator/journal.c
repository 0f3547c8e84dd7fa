/* journal.c: the migration journal <-> its JSON annotation value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "couchestor/migrator.h"

#define CS__JOURNAL_MAX 65536
/* Times and the timeout are bounded so that a deadline (a time plus
 * CS_MIG_HARD_CAP_FACTOR timeouts) cannot overflow. */
#define CS__TIME_MAX (INT64_MAX / 16)

static const char *const cs__steps[] = {"Analyze", "ScaleUp", "WaitSync", "ScaleDown", "Rollback", "Done"};

const char *cs_mig_step_name(cs_mig_step_t step)
{
    if ((size_t)step >= sizeof cs__steps / sizeof cs__steps[0])
        return "Unknown";
    return cs__steps[step];
}

static json_t *cs__strings(const char (*items)[128], size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(items[i]));
    return a;
}

static json_t *cs__steered(const cs_mig_journal_t *j)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < j->steered_count; i++)
        json_array_append_new(a, json_pack("{s:s, s:s}", "pool", j->steered[i], "value", j->steered_value[i]));
    return a;
}

int cs_mig_journal_encode(const cs_mig_journal_t *j, char **out, cs_err_t *err)
{
    *out = NULL;
    json_t *before = json_array();
    for (size_t i = 0; before && i < j->before_count; i++)
        json_array_append_new(before, json_string(j->before[i]));
    json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:o, s:s, s:s,"
                          " s:o, s:o, s:I, s:I, s:I, s:i, s:i, s:f, s:i, s:s}",
                          "version", 1, "policy", j->policy, "pv", j->pv_name, "volume", j->volume, "fromTier",
                          cs_tier_name(j->from_tier), "toTier", cs_tier_name(j->to_tier), "sourcePool", j->source_pool,
                          "targetPool", j->target_pool, "placementKey", j->placement_key, "placementValue",
                          j->placement_value, "step", cs_mig_step_name(j->step), "replicasBefore", j->replicas_before,
                          "healthyBefore", j->healthy_before, "before", before ? before : json_array(), "oldReplica",
                          j->old_replica, "newReplica", j->new_replica, "steered", cs__steered(j), "accept",
                          cs__strings(j->accept, j->accept_count), "startedMs", (json_int_t)j->started_ms, "timeoutMs",
                          (json_int_t)j->timeout_ms, "progressMs", (json_int_t)j->progress_ms, "rebuildProgress",
                          j->last_progress, "healthySeen", j->last_healthy, "triggerIOPS", j->trigger_iops,
                          "scaleDownAttempts", j->scale_down_attempts, "failure", j->failure);
    if (!o)
        return cs_err_set(err, CS_ENOMEM, "migration journal of %s: cannot encode", j->pv_name);
    *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!*out)
        return cs_err_set(err, CS_ENOMEM, "migration journal of %s: out of memory", j->pv_name);
    return 0;
}

static int cs__copy(const json_t *o, const char *key, char *dst, size_t len, cs_err_t *err)
{
    const char *s;
    int rc = cs_json_get_string(o, "journal", key, CS_JSON_REQUIRED, &s, err);
    if (rc != 0)
        return rc;
    if (strlen(s) >= len)
        return cs_err_set(err, CS_EPARSE, "journal.%s: longer than %zu bytes", key, len - 1);
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

static int cs__copy_list(const json_t *o, const char *key, char *base, size_t width, size_t max, size_t *count,
                         cs_err_t *err)
{
    const json_t *a;
    int rc = cs_json_get_array(o, "journal", key, CS_JSON_REQUIRED, &a, err);
    if (rc != 0)
        return rc;
    if (json_array_size(a) > max)
        return cs_err_set(err, CS_EPARSE, "journal.%s: more than %zu entries", key, max);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || strlen(json_string_value(v)) >= width)
            return cs_err_set(err, CS_EPARSE, "journal.%s[%zu]: expected a string shorter than %zu bytes", key, i,
                              width);
        memcpy(base + i * width, json_string_value(v), strlen(json_string_value(v)) + 1);
    }
    *count = json_array_size(a);
    return 0;
}

static int cs__copy_steered(const json_t *o, cs_mig_journal_t *out, cs_err_t *err)
{
    const json_t *a;
    int rc = cs_json_get_array(o, "journal", "steered", CS_JSON_REQUIRED, &a, err);
    if (rc != 0)
        return rc;
    if (json_array_size(a) > CS_MIG_MAX_POOLS)
        return cs_err_set(err, CS_EPARSE, "journal.steered: more than %d entries", CS_MIG_MAX_POOLS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        char path[64];
        snprintf(path, sizeof path, "journal.steered[%zu]", i);
        const json_t *e = json_array_get(a, i);
        const char *pool, *value;
        if ((rc = cs_json_get_string(e, path, "pool", 0, &pool, err)) != 0 ||
            (rc = cs_json_get_string(e, path, "value", 0, &value, err)) != 0)
            return rc;
        if (strlen(pool) >= sizeof out->steered[0] || strlen(value) >= sizeof out->steered_value[0])
            return cs_err_set(err, CS_EPARSE, "%s: pool or value too long", path);
        memcpy(out->steered[i], pool, strlen(pool) + 1);
        memcpy(out->steered_value[i], value, strlen(value) + 1);
    }
    out->steered_count = json_array_size(a);
    return 0;
}

int cs_mig_journal_decode(const char *text, cs_mig_journal_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return cs_err_set(err, CS_EINVAL, "migration journal: empty");
    size_t len = strlen(text);
    if (len > CS__JOURNAL_MAX)
        return cs_err_set(err, CS_ETOOBIG, "migration journal: larger than %d bytes", CS__JOURNAL_MAX);
    json_t *o;
    int rc = cs_json_parse(text, len, "migration journal", &o, err);
    if (rc != 0)
        return rc;
    int64_t version, n, h, started, timeout, attempts = 0;
    /* Absent from journals written before the stall timeout: see cs_mig_journal_t. */
    int64_t progress_ms = 0, progress = -1, healthy_seen = -1;
    const char *step, *from, *to;
    double iops = 0;
    if (!json_is_object(o)) {
        rc = cs_err_set(err, CS_EPARSE, "migration journal: expected an object");
        goto done;
    }
    if ((rc = cs_json_get_int(o, "journal", "version", 0, &version, err)) != 0)
        goto done;
    if (version != 1) {
        rc = cs_err_set(err, CS_EPARSE, "migration journal: version %lld is not supported (this operator writes 1)",
                        (long long)version);
        goto done;
    }
    if ((rc = cs__copy(o, "policy", out->policy, sizeof out->policy, err)) ||
        (rc = cs__copy(o, "pv", out->pv_name, sizeof out->pv_name, err)) ||
        (rc = cs__copy(o, "volume", out->volume, sizeof out->volume, err)) ||
        (rc = cs__copy(o, "sourcePool", out->source_pool, sizeof out->source_pool, err)) ||
        (rc = cs__copy(o, "targetPool", out->target_pool, sizeof out->target_pool, err)) ||
        (rc = cs__copy(o, "placementKey", out->placement_key, sizeof out->placement_key, err)) ||
        (rc = cs__copy(o, "placementValue", out->placement_value, sizeof out->placement_value, err)) ||
        (rc = cs__copy(o, "oldReplica", out->old_replica, sizeof out->old_replica, err)) ||
        (rc = cs__copy(o, "newReplica", out->new_replica, sizeof out->new_replica, err)) ||
        (rc = cs__copy(o, "failure", out->failure, sizeof out->failure, err)) ||
        (rc = cs__copy_list(o, "before", &out->before[0][0], sizeof out->before[0], CS_MIG_MAX_REPLICAS,
                            &out->before_count, err)) ||
        (rc = cs__copy_steered(o, out, err)) ||
        (rc = cs__copy_list(o, "accept", &out->accept[0][0], sizeof out->accept[0], CS_MIG_MAX_POOLS,
                            &out->accept_count, err)) ||
        (rc = cs_json_get_string(o, "journal", "step", 0, &step, err)) ||
        (rc = cs_json_get_string(o, "journal", "fromTier", 0, &from, err)) ||
        (rc = cs_json_get_string(o, "journal", "toTier", 0, &to, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "replicasBefore", 0, 1, 255, &n, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "healthyBefore", 0, 0, 255, &h, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "startedMs", 0, 0, CS__TIME_MAX, &started, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "timeoutMs", 0, 1, CS__TIME_MAX, &timeout, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "progressMs", CS_JSON_OPTIONAL, 0, CS__TIME_MAX, &progress_ms, err)) <
            0 ||
        (rc = cs_json_get_int_range(o, "journal", "rebuildProgress", CS_JSON_OPTIONAL, -1, 100, &progress, err)) < 0 ||
        (rc = cs_json_get_int_range(o, "journal", "healthySeen", CS_JSON_OPTIONAL, -1, 255, &healthy_seen, err)) < 0 ||
        (rc = cs_json_get_number(o, "journal", "triggerIOPS", 0, &iops, err)) ||
        (rc = cs_json_get_int_range(o, "journal", "scaleDownAttempts", CS_JSON_OPTIONAL, 0, 1000, &attempts, err)) < 0)
        goto done;
    size_t i;
    for (i = 0; i < sizeof cs__steps / sizeof cs__steps[0]; i++)
        if (strcmp(step, cs__steps[i]) == 0)
            break;
    if (i == sizeof cs__steps / sizeof cs__steps[0]) {
        rc = cs_err_set(err, CS_EPARSE, "journal.step: \"%.40s\" is not a migration step", step);
        goto done;
    }
    out->step = (cs_mig_step_t)i;
    if ((rc = cs_tier_parse(from, &out->from_tier, err)) != 0 || (rc = cs_tier_parse(to, &out->to_tier, err)) != 0) {
        cs_err_prefix(err, "migration journal: ");
        goto done;
    }
    out->replicas_before = (int)n;
    out->healthy_before = (int)h;
    out->started_ms = started;
    out->timeout_ms = timeout;
    out->trigger_iops = iops;
    out->scale_down_attempts = (int)attempts;
    out->progress_ms = progress_ms;
    out->last_progress = (int)progress;
    out->last_healthy = (int)healthy_seen;
    rc = 0;
done:
    json_decref(o);
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        if (err && strncmp(err->msg, "migration journal", 17) != 0)
            cs_err_prefix(err, "migration journal: ");
    }
    return rc;
}
