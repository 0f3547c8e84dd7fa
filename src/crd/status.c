/* status.c: conditions (metav1.Condition shape) and the bounded migration
 * history, the parts of a status that accumulate over time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "couchestor/rfc3339.h"
#include "crd/crd_internal.h"

const char *cs_condition_status_name(cs_condition_status_t status)
{
    switch (status) {
    case CS_CONDITION_TRUE:
        return "True";
    case CS_CONDITION_FALSE:
        return "False";
    case CS_CONDITION_UNKNOWN:
        break;
    }
    return "Unknown";
}

const char *cs_tier_name(cs_tier_t tier)
{
    switch (tier) {
    case CS_TIER_HOT:
        return "hot";
    case CS_TIER_WARM:
        return "warm";
    case CS_TIER_COLD:
        return "cold";
    case CS_TIER_UNKNOWN:
        break;
    }
    return "unknown";
}

int cs_tier_parse(const char *text, cs_tier_t *out, cs_err_t *err)
{
    static const cs_tier_t all[] = {CS_TIER_HOT, CS_TIER_WARM, CS_TIER_COLD, CS_TIER_UNKNOWN};
    for (size_t i = 0; text && i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(text, cs_tier_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    char shown[80];
    return cs_err_set(err, CS_EPARSE, "tier \"%s\" is not one of hot, warm, cold, unknown",
                      cs__printable(text, 40, shown, sizeof shown));
}

const char *cs_migration_outcome_name(cs_migration_outcome_t outcome)
{
    switch (outcome) {
    case CS_MIGRATION_SUCCEEDED:
        return "Succeeded";
    case CS_MIGRATION_FAILED:
        return "Failed";
    case CS_MIGRATION_TIMED_OUT:
        return "TimedOut";
    case CS_MIGRATION_ABORTED:
        return "Aborted";
    case CS_MIGRATION_DRY_RUN:
        return "DryRun";
    }
    return "Failed";
}

/* ---- conditions --------------------------------------------------------- */

static void cs__condition_free(cs_condition_t *c)
{
    free(c->type);
    free(c->reason);
    free(c->message);
    memset(c, 0, sizeof *c);
}

void cs_conditions_free(cs_conditions_t *conds)
{
    if (!conds)
        return;
    for (size_t i = 0; i < conds->count; i++)
        cs__condition_free(&conds->items[i]);
    free(conds->items);
    memset(conds, 0, sizeof *conds);
}

const cs_condition_t *cs_conditions_find(const cs_conditions_t *conds, const char *type)
{
    if (!conds || !type)
        return NULL;
    for (size_t i = 0; i < conds->count; i++)
        if (conds->items[i].type && strcmp(conds->items[i].type, type) == 0)
            return &conds->items[i];
    return NULL;
}

/* metav1.Condition: type is a qualified name; reason
 * ^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$ of at most 1024 bytes. */
static bool cs__condition_type_ok(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n == 0 || n > 316)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = type[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
              c == '.' || c == '/'))
            return false;
    }
    return true;
}

static bool cs__reason_ok(const char *reason)
{
    size_t n = reason ? strlen(reason) : 0;
    if (n == 0 || n > CS_CONDITION_REASON_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = reason[i];
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        bool digit = c >= '0' && c <= '9';
        if (i == 0 && !letter)
            return false;
        if (!letter && !digit && c != '_' && ((c != ',' && c != ':') || i == n - 1))
            return false;
    }
    return true;
}

/* A copy of message cut to fit CS_CONDITION_MESSAGE_MAX - 1 bytes without
 * splitting a UTF-8 sequence. */
static char *cs__message_copy(const char *message)
{
    size_t n = strlen(message);
    if (n >= CS_CONDITION_MESSAGE_MAX) {
        n = CS_CONDITION_MESSAGE_MAX - 1;
        while (n > 0 && ((unsigned char)message[n] & 0xC0) == 0x80)
            n--;
    }
    char *copy = malloc(n + 1);
    if (copy) {
        memcpy(copy, message, n);
        copy[n] = '\0';
    }
    return copy;
}

int cs_conditions_set(cs_conditions_t *conds, const char *type, cs_condition_status_t status, const char *reason,
                      const char *message, int64_t observed_generation, int64_t now, cs_err_t *err)
{
    char shown[80];
    if (!conds || !cs__condition_type_ok(type))
        return cs_err_set(err, CS_EINVAL, "condition type \"%s\" is not a valid name",
                          cs__printable(type, 64, shown, sizeof shown));
    if (status != CS_CONDITION_TRUE && status != CS_CONDITION_FALSE && status != CS_CONDITION_UNKNOWN)
        return cs_err_set(err, CS_EINVAL, "condition %s: status %d is not True, False or Unknown", type, (int)status);
    if (!cs__reason_ok(reason))
        return cs_err_set(err, CS_EINVAL,
                          "condition %s: reason \"%s\" must be CamelCase (a letter, then letters, "
                          "digits, '_', ',' or ':'; at most %d bytes)",
                          type, cs__printable(reason, 64, shown, sizeof shown), CS_CONDITION_REASON_MAX);
    char *new_reason = cs__strdup(reason);
    char *new_message = message && *message ? cs__message_copy(message) : NULL;
    if (!new_reason || (message && *message && !new_message)) {
        free(new_reason);
        free(new_message);
        return cs_err_set(err, CS_ENOMEM, "out of memory setting condition %s", type);
    }
    cs_condition_t *c = (cs_condition_t *)cs_conditions_find(conds, type);
    if (!c) {
        char *new_type = cs__strdup(type);
        cs_condition_t *items = conds->count < CS_CONDITIONS_MAX && new_type
                                    ? realloc(conds->items, (conds->count + 1) * sizeof *items)
                                    : NULL;
        if (!items) {
            int full = conds->count >= CS_CONDITIONS_MAX;
            free(new_type);
            free(new_reason);
            free(new_message);
            if (full)
                return cs_err_set(err, CS_ETOOBIG, "condition %s: already %d condition types", type, CS_CONDITIONS_MAX);
            return cs_err_set(err, CS_ENOMEM, "out of memory setting condition %s", type);
        }
        conds->items = items;
        c = &items[conds->count++];
        memset(c, 0, sizeof *c);
        c->type = new_type;
        c->status = status;
        c->last_transition_time = now;
    } else if (c->status != status) {
        c->status = status;
        c->last_transition_time = now;
    }
    free(c->reason);
    free(c->message);
    c->reason = new_reason;
    c->message = new_message;
    c->observed_generation = observed_generation;
    return 0;
}

void cs__decode_conditions(cs__dec_t *d, const json_t *status, const char *path, cs_conditions_t *out)
{
    cs_err_t e = {0};
    const json_t *arr = NULL;
    char base[64], sub[96];
    cs_json_path_join(base, sizeof base, path, "conditions");
    int rc = cs_json_get_array(status, path, "conditions", CS_JSON_OPTIONAL, &arr, &e);
    if (rc < 0) {
        cs__problem_rc(d, rc, &e);
        return;
    }
    if (rc > 0)
        return;
    if (json_array_size(arr) > CS_CONDITIONS_MAX) {
        cs__problem(d, "%s: %zu conditions, at most %d are allowed", base, json_array_size(arr), CS_CONDITIONS_MAX);
        return;
    }
    out->items = calloc(json_array_size(arr) ? json_array_size(arr) : 1, sizeof *out->items);
    if (!out->items) {
        d->oom = true;
        return;
    }
    size_t i;
    const json_t *c;
    json_array_foreach(arr, i, c)
    {
        cs_json_path_index(sub, sizeof sub, base, i);
        if (!json_is_object(c)) {
            cs__problem(d, "%s: expected object, got %s", sub, cs_json_type_name(c));
            continue;
        }
        cs_condition_t *cond = &out->items[out->count++];
        cs__get_str(d, c, sub, "type", true, false, &cond->type);
        char *st = NULL;
        cs__get_str(d, c, sub, "status", true, false, &st);
        if (st) {
            if (strcmp(st, "True") == 0)
                cond->status = CS_CONDITION_TRUE;
            else if (strcmp(st, "False") == 0)
                cond->status = CS_CONDITION_FALSE;
            else if (strcmp(st, "Unknown") == 0)
                cond->status = CS_CONDITION_UNKNOWN;
            else {
                char shown[80];
                cs__problem(d, "%s.status: \"%s\" is not one of True, False, Unknown", sub,
                            cs__printable(st, 40, shown, sizeof shown));
            }
            free(st);
        }
        cs__get_str(d, c, sub, "reason", false, true, &cond->reason);
        cs__get_str(d, c, sub, "message", false, true, &cond->message);
        cs__get_time(d, c, sub, "lastTransitionTime", &cond->last_transition_time);
        cs__get_int(d, c, sub, "observedGeneration", 0, INT64_MAX, &cond->observed_generation);
        if (cond->type && cs_conditions_find(out, cond->type) != cond)
            cs__problem(d, "%s.type: condition \"%s\" appears twice", sub, cond->type);
    }
}

json_t *cs__encode_conditions(const cs_conditions_t *conds)
{
    json_t *arr = json_array();
    bool oom = !arr;
    for (size_t i = 0; !oom && i < conds->count; i++) {
        const cs_condition_t *c = &conds->items[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) != 0) {
            oom = true;
            break;
        }
        cs__put(o, "type", json_string(c->type ? c->type : ""), &oom);
        cs__put(o, "status", json_string(cs_condition_status_name(c->status)), &oom);
        if (c->reason)
            cs__put(o, "reason", json_string(c->reason), &oom);
        cs__put(o, "message", json_string(c->message ? c->message : ""), &oom);
        if (c->last_transition_time) {
            char t[CS_RFC3339_SIZE];
            cs__put(o, "lastTransitionTime", json_string(cs_rfc3339_format(c->last_transition_time, t, sizeof t)),
                    &oom);
        }
        cs__put(o, "observedGeneration", json_integer(c->observed_generation), &oom);
    }
    if (oom) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* ---- migration history -------------------------------------------------- */

void cs_migration_record_free(cs_migration_record_t *rec)
{
    if (!rec)
        return;
    free(rec->volume_name);
    free(rec->message);
    memset(rec, 0, sizeof *rec);
}

void cs_migration_history_free(cs_migration_history_t *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++)
        cs_migration_record_free(&h->items[i]);
    free(h->items);
    memset(h, 0, sizeof *h);
}

int cs_migration_history_append(cs_migration_history_t *h, const cs_migration_record_t *rec, cs_err_t *err)
{
    if (!h || !rec || !rec->volume_name || !*rec->volume_name)
        return cs_err_set(err, CS_EINVAL, "migration record without a volume name");
    if (!isfinite(rec->trigger_iops) || rec->trigger_iops < 0 || rec->duration_ns < 0)
        return cs_err_set(err, CS_EINVAL,
                          "migration record of volume %s: triggerIOPS and duration must be finite "
                          "and not negative",
                          rec->volume_name);
    cs_migration_record_t copy = *rec;
    copy.volume_name = cs__strdup(rec->volume_name);
    copy.message = rec->message && *rec->message ? cs__strdup(rec->message) : NULL;
    if (!copy.volume_name || (rec->message && *rec->message && !copy.message)) {
        cs_migration_record_free(&copy);
        return cs_err_set(err, CS_ENOMEM, "out of memory recording a migration of %s", rec->volume_name);
    }
    if (!h->items) {
        h->items = calloc(CS_SP_MIGRATION_HISTORY_MAX, sizeof *h->items);
        if (!h->items) {
            cs_migration_record_free(&copy);
            return cs_err_set(err, CS_ENOMEM, "out of memory recording a migration of %s", rec->volume_name);
        }
        h->count = 0;
    }
    if (h->count == CS_SP_MIGRATION_HISTORY_MAX) {
        cs_migration_record_free(&h->items[0]);
        memmove(&h->items[0], &h->items[1], (h->count - 1) * sizeof h->items[0]);
        h->count--;
    }
    h->items[h->count++] = copy;
    return 0;
}
