/* Tests for conditions, the migration history, times and status decoding. */
#include "crd_test.h"

#include "couchestor/duration.h"
#include "couchestor/rfc3339.h"

/* ---- conditions --------------------------------------------------------- */

Test(conditions, set_keeps_transition_time_while_status_is_unchanged)
{
    cs_conditions_t c = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "Pending", "starting", 1, 100, &err), 0, "%s",
                 err.msg);
    cr_assert_eq(c.count, 1);
    cr_expect_eq(c.items[0].last_transition_time, 100);

    /* Same status later: reason, message, generation change; time stays. */
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "InvalidSpec", "bad", 2, 200, &err), 0);
    const cs_condition_t *r = cs_conditions_find(&c, "Ready");
    cr_assert_not_null(r);
    cr_expect_eq(r->last_transition_time, 100);
    cr_expect_str_eq(r->reason, "InvalidSpec");
    cr_expect_str_eq(r->message, "bad");
    cr_expect_eq(r->observed_generation, 2);

    /* Status changes: the time moves. */
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_TRUE, "Reconciled", NULL, 3, 300, &err), 0);
    r = cs_conditions_find(&c, "Ready");
    cr_expect_eq(r->status, CS_CONDITION_TRUE);
    cr_expect_eq(r->last_transition_time, 300);
    cr_expect_null(r->message);

    cr_assert_eq(cs_conditions_set(&c, "ECPolicyResolved", CS_CONDITION_UNKNOWN, "NotChecked", "", 3, 400, &err), 0);
    cr_expect_eq(c.count, 2);
    cr_expect_null(cs_conditions_find(&c, "Missing"));
    cr_expect_null(cs_conditions_find(NULL, "Ready"));
    cs_conditions_free(&c);
    cs_conditions_free(&c);
    cs_conditions_free(NULL);
}

Test(conditions, bad_arguments_change_nothing)
{
    cs_conditions_t c = {0};
    cs_err_t err = {0};
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_TRUE, "Ok", "m", 1, 100, NULL), 0);
    cr_expect_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "not camel", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "condition Ready: reason \"not camel\" must be CamelCase (a letter, "
                              "then letters, digits, '_', ',' or ':'; at most 1024 bytes)");
    cr_expect_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "Ends,", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "1st", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_eq(cs_conditions_set(&c, "", CS_CONDITION_FALSE, "Ok", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "condition type \"\" is not a valid name");
    cr_expect_eq(cs_conditions_set(&c, "has space", CS_CONDITION_FALSE, "Ok", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_eq(cs_conditions_set(&c, "Ready", (cs_condition_status_t)7, "Ok", "m", 2, 200, &err), CS_EINVAL);
    cr_expect_eq(c.count, 1);
    cr_expect_eq(c.items[0].status, CS_CONDITION_TRUE);
    cr_expect_eq(c.items[0].last_transition_time, 100);
    cr_expect_str_eq(c.items[0].reason, "Ok");
    /* Allowed reason shapes. */
    cr_expect_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_TRUE, "A_b:c,D9", NULL, 1, 1, &err), 0);
    cr_expect_eq(cs_conditions_set(&c, "example.com/Thing", CS_CONDITION_TRUE, "X", NULL, 1, 1, &err), 0);
    cs_conditions_free(&c);
}

Test(conditions, number_of_types_is_bounded)
{
    cs_conditions_t c = {0};
    cs_err_t err = {0};
    char type[16];
    for (int i = 0; i < CS_CONDITIONS_MAX; i++) {
        snprintf(type, sizeof type, "Type%d", i);
        cr_assert_eq(cs_conditions_set(&c, type, CS_CONDITION_TRUE, "Ok", NULL, 1, 1, &err), 0);
    }
    cr_expect_eq(cs_conditions_set(&c, "OneMore", CS_CONDITION_TRUE, "Ok", NULL, 1, 1, &err), CS_ETOOBIG);
    cr_expect_str_eq(err.msg, "condition OneMore: already 16 condition types");
    /* Updating an existing type still works when full. */
    cr_expect_eq(cs_conditions_set(&c, "Type3", CS_CONDITION_FALSE, "Ok", NULL, 1, 2, &err), 0);
    cr_expect_eq(c.count, CS_CONDITIONS_MAX);
    cs_conditions_free(&c);
}

Test(conditions, long_message_is_cut_at_a_utf8_boundary)
{
    size_t n = CS_CONDITION_MESSAGE_MAX + 10;
    char *msg = malloc(n + 1);
    memset(msg, 'a', n);
    /* A 3-byte character straddling the limit (bytes 32766..32768). */
    msg[CS_CONDITION_MESSAGE_MAX - 2] = (char)0xE2;
    msg[CS_CONDITION_MESSAGE_MAX - 1] = (char)0x82;
    msg[CS_CONDITION_MESSAGE_MAX] = (char)0xAC;
    msg[n] = '\0';
    cs_conditions_t c = {0};
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "Long", msg, 1, 1, NULL), 0);
    cr_expect_eq(strlen(c.items[0].message), CS_CONDITION_MESSAGE_MAX - 2);
    msg[CS_CONDITION_MESSAGE_MAX - 2] = 'a';
    msg[CS_CONDITION_MESSAGE_MAX - 1] = 'a';
    cr_assert_eq(cs_conditions_set(&c, "Ready", CS_CONDITION_FALSE, "Long", msg, 1, 1, NULL), 0);
    cr_expect_eq(strlen(c.items[0].message), CS_CONDITION_MESSAGE_MAX - 1);
    cs_conditions_free(&c);
    free(msg);
}

/* ---- migration history -------------------------------------------------- */

Test(history, append_drops_the_oldest_when_full)
{
    cs_migration_history_t h = {0};
    char name[32];
    for (int i = 0; i < CS_SP_MIGRATION_HISTORY_MAX + 3; i++) {
        snprintf(name, sizeof name, "pvc-%d", i);
        cs_migration_record_t r = {.volume_name = name,
                                   .timestamp = 1000 + i,
                                   .from_tier = CS_TIER_COLD,
                                   .to_tier = CS_TIER_HOT,
                                   .trigger_iops = 6000,
                                   .duration_ns = CS_NSEC_PER_MIN,
                                   .outcome = CS_MIGRATION_SUCCEEDED,
                                   .message = i == 0 ? "x" : NULL};
        cr_assert_eq(cs_migration_history_append(&h, &r, NULL), 0);
        cr_expect_eq(h.count, (size_t)(i < CS_SP_MIGRATION_HISTORY_MAX ? i + 1 : CS_SP_MIGRATION_HISTORY_MAX));
    }
    cr_expect_str_eq(h.items[0].volume_name, "pvc-3");
    cr_expect_eq(h.items[0].timestamp, 1003);
    cr_expect_str_eq(h.items[h.count - 1].volume_name, "pvc-52");
    cs_migration_history_free(&h);
    cs_migration_history_free(&h);
    cs_migration_history_free(NULL);
    cs_migration_record_free(NULL);
}

Test(history, append_rejects_incomplete_records)
{
    cs_migration_history_t h = {0};
    cs_err_t err = {0};
    cs_migration_record_t r = {0};
    cr_expect_eq(cs_migration_history_append(&h, &r, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "migration record without a volume name");
    r.volume_name = "pvc-1";
    r.trigger_iops = -1;
    cr_expect_eq(cs_migration_history_append(&h, &r, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "migration record of volume pvc-1: triggerIOPS and duration must be "
                              "finite and not negative");
    cr_expect_eq(h.count, 0);
}

Test(history, names)
{
    cr_expect_str_eq(cs_tier_name(CS_TIER_HOT), "hot");
    cr_expect_str_eq(cs_tier_name(CS_TIER_WARM), "warm");
    cr_expect_str_eq(cs_tier_name(CS_TIER_COLD), "cold");
    cr_expect_str_eq(cs_tier_name(CS_TIER_UNKNOWN), "unknown");
    cs_tier_t t;
    cs_err_t err = {0};
    cr_expect_eq(cs_tier_parse("warm", &t, NULL), 0);
    cr_expect_eq(t, CS_TIER_WARM);
    cr_expect_eq(cs_tier_parse("Hot", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "tier \"Hot\" is not one of hot, warm, cold, unknown");
    cr_expect_str_eq(cs_migration_outcome_name(CS_MIGRATION_SUCCEEDED), "Succeeded");
    cr_expect_str_eq(cs_migration_outcome_name(CS_MIGRATION_FAILED), "Failed");
    cr_expect_str_eq(cs_migration_outcome_name(CS_MIGRATION_TIMED_OUT), "TimedOut");
    cr_expect_str_eq(cs_migration_outcome_name(CS_MIGRATION_ABORTED), "Aborted");
    cr_expect_str_eq(cs_migration_outcome_name(CS_MIGRATION_DRY_RUN), "DryRun");
    cr_expect_str_eq(cs_storage_policy_phase_name(CS_SP_PHASE_PENDING), "Pending");
    cr_expect_str_eq(cs_storage_policy_phase_name(CS_SP_PHASE_ACTIVE), "Active");
    cr_expect_str_eq(cs_storage_policy_phase_name(CS_SP_PHASE_DISABLED), "Disabled");
    cr_expect_str_eq(cs_storage_policy_phase_name(CS_SP_PHASE_ERROR), "Error");
    cr_expect_str_eq(cs_storage_policy_phase_name(CS_SP_PHASE_NONE), "");
    cr_expect_str_eq(cs_condition_status_name(CS_CONDITION_TRUE), "True");
    cr_expect_str_eq(cs_condition_status_name(CS_CONDITION_FALSE), "False");
    cr_expect_str_eq(cs_condition_status_name(CS_CONDITION_UNKNOWN), "Unknown");
}

/* ---- times -------------------------------------------------------------- */

Test(time, parse_boundaries_and_offsets)
{
    int64_t t = 0;
    cs_err_t err = {0};
    cr_expect_eq(cs_rfc3339_parse("1970-01-01T00:00:00Z", &t, NULL), 0);
    cr_expect_eq(t, 0);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00Z", &t, NULL), 0);
    cr_expect_eq(t, 1714557600);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T12:00:00.123456+02:00", &t, NULL), 0);
    cr_expect_eq(t, 1714557600);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01t05:30:00-04:30", &t, NULL), 0);
    cr_expect_eq(t, 1714557600);
    cr_expect_eq(cs_rfc3339_parse("0001-01-01T00:00:00Z", &t, NULL), 0);
    cr_expect_eq(t, INT64_C(-62135596800));
    cr_expect_eq(cs_rfc3339_parse("9999-12-31T23:59:59Z", &t, NULL), 0);
    cr_expect_eq(t, INT64_C(253402300799));
    cr_expect_eq(cs_rfc3339_parse("2024-02-29T00:00:00Z", &t, NULL), 0);
    cr_expect_eq(cs_rfc3339_parse("2000-02-29T00:00:00Z", &t, NULL), 0);

    cr_expect_eq(cs_rfc3339_parse("2023-02-29T00:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"2023-02-29T00:00:00Z\": date or time of day out of range");
    cr_expect_eq(cs_rfc3339_parse("1900-02-29T00:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-13-01T00:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-01-01T24:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-01-01T00:00:60Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("0000-01-01T00:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("0001-01-01T00:00:00+00:01", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"0001-01-01T00:00:00+00:01\" is outside years 0001-9999 in UTC");
    cr_expect_eq(cs_rfc3339_parse("2024-05-01 10:00:00Z", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"2024-05-01 10:00:00Z\" is not RFC 3339 (expected e.g. "
                              "\"2024-05-01T10:00:00Z\")");
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00.Z", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"2024-05-01T10:00:00.Z\": fraction must have 1 to 9 digits");
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00.1234567890Z", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00+0200", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00+24:00", &t, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "time \"2024-05-01T10:00:00+24:00\": bad UTC offset");
    cr_expect_eq(cs_rfc3339_parse("2024-05-01T10:00:00Zjunk", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse("", &t, &err), CS_EPARSE);
    cr_expect_eq(cs_rfc3339_parse(NULL, &t, &err), CS_EPARSE);
}

Test(time, format_and_round_trip)
{
    char buf[32];
    cr_expect_str_eq(cs_rfc3339_format(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format(1714557600, buf, sizeof buf), "2024-05-01T10:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format(-1, buf, sizeof buf), "1969-12-31T23:59:59Z");
    cr_expect_str_eq(cs_rfc3339_format(INT64_C(-62135596800), buf, sizeof buf), "0001-01-01T00:00:00Z");
    cr_expect_str_eq(cs_rfc3339_format(INT64_C(253402300799), buf, sizeof buf), "9999-12-31T23:59:59Z");
    cr_expect_str_eq(cs_rfc3339_format(INT64_C(253402300800), buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(INT64_MIN, buf, sizeof buf), "");
    cr_expect_str_eq(cs_rfc3339_format(0, buf, 20), "");
    cr_expect_str_eq(cs_rfc3339_format(0, buf, 21), "1970-01-01T00:00:00Z");
    /* Every day boundary over several leap cycles survives format -> parse. */
    for (int64_t t = INT64_C(-62135596800); t < INT64_C(253402300799); t += 86400 * 97 + 3601) {
        int64_t back = 0;
        cr_assert_eq(cs_rfc3339_parse(cs_rfc3339_format(t, buf, sizeof buf), &back, NULL), 0);
        cr_assert_eq(back, t, "%s", buf);
    }
}

/* ---- status decoding ---------------------------------------------------- */

static int decode_status(const char *text, cs_storage_policy_status_t *st, cs_err_t *err)
{
    json_t *j = cs_test_json(text);
    int rc = cs_storage_policy_status_decode(j, st, err);
    json_decref(j);
    return rc;
}

Test(status_decode, errors_name_the_field)
{
    cs_storage_policy_status_t st = {0};
    cs_err_t err = {0};
    cr_expect_eq(decode_status("{\"phase\":\"Running\"}", &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.phase: \"Running\" is not one of Pending, Active, Disabled, Error");
    cr_expect_eq(decode_status("{\"watchedVolumes\":-1}", &st, &err), CS_EPARSE);
    cr_expect(strncmp(err.msg, "status.watchedVolumes: ", 23) == 0, "%s", err.msg);
    cr_expect_eq(decode_status("{\"lastReconcileTime\":\"yesterday\"}", &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.lastReconcileTime: time \"yesterday\" is not RFC 3339 "
                              "(expected e.g. \"2024-05-01T10:00:00Z\")");
    cr_expect_eq(decode_status("{\"conditions\":[{\"type\":\"Ready\",\"status\":\"Maybe\"},"
                               "{\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"},7]}",
                               &st, &err),
                 CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.conditions[0].status: \"Maybe\" is not one of True, False, "
                              "Unknown; status.conditions[1].type: required field is missing; "
                              "status.conditions[2].type: condition \"Ready\" appears twice; "
                              "status.conditions[3]: expected object, got integer");
    cr_expect_eq(decode_status("{\"migrationHistory\":[{\"volumeName\":\"v\",\"fromTier\":\"lukewarm\","
                               "\"duration\":\"forever\",\"outcome\":\"Meh\",\"triggerIOPS\":-2}]}",
                               &st, &err),
                 CS_EPARSE);
    cr_expect(strstr(err.msg, "status.migrationHistory[0].fromTier: \"lukewarm\" is not one of hot, "
                              "warm, cold, unknown; ") == err.msg,
              "%s", err.msg);
    cr_expect(strstr(err.msg, "status.migrationHistory[0].triggerIOPS: must not be negative; "
                              "status.migrationHistory[0].duration: ") != NULL,
              "%s", err.msg);
    cr_expect(strstr(err.msg, "status.migrationHistory[0].outcome: \"Meh\" is not one of Succeeded, "
                              "Failed, TimedOut, Aborted, DryRun") != NULL,
              "%s", err.msg);
    cr_expect_eq(decode_status("{\"ecPolicy\":{\"resolved\":\"yes\"}}", &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.ecPolicy.name: required field is missing; "
                              "status.ecPolicy.resolved: expected boolean, got string");
    cr_expect_eq(decode_status("[]", &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status: expected object, got array");
    cr_expect_eq(st.phase, CS_SP_PHASE_NONE);
}

Test(status_decode, unknown_status_fields_are_ignored)
{
    cs_storage_policy_status_t st = {0};
    cs_err_t err = {0};
    cr_expect_eq(decode_status("{\"phase\":\"Active\",\"futureField\":{\"x\":1}}", &st, &err), 0, "%s", err.msg);
    cr_expect_eq(st.phase, CS_SP_PHASE_ACTIVE);
    cs_storage_policy_status_free(&st);
}

Test(status_decode, long_history_keeps_the_newest)
{
    json_t *status = json_object();
    json_t *arr = json_array();
    for (int i = 0; i < 60; i++) {
        char name[16];
        snprintf(name, sizeof name, "pvc-%d", i);
        json_array_append_new(arr, json_pack("{s:s}", "volumeName", name));
    }
    json_object_set_new(status, "migrationHistory", arr);
    cs_storage_policy_status_t st = {0};
    cr_assert_eq(cs_storage_policy_status_decode(status, &st, NULL), 0);
    cr_expect_eq(st.migration_history.count, CS_SP_MIGRATION_HISTORY_MAX);
    cr_expect_str_eq(st.migration_history.items[0].volume_name, "pvc-10");
    /* Appending to a decoded, full history drops the oldest again. */
    cs_migration_record_t r = {.volume_name = "pvc-60"};
    cr_assert_eq(cs_migration_history_append(&st.migration_history, &r, NULL), 0);
    cr_expect_str_eq(st.migration_history.items[0].volume_name, "pvc-11");
    cr_expect_str_eq(st.migration_history.items[49].volume_name, "pvc-60");
    cs_storage_policy_status_free(&st);
    json_decref(status);
}

Test(status_decode, too_many_conditions)
{
    json_t *status = json_object();
    json_t *arr = json_array();
    for (int i = 0; i < CS_CONDITIONS_MAX + 1; i++) {
        char type[16];
        snprintf(type, sizeof type, "T%d", i);
        json_array_append_new(arr, json_pack("{s:s,s:s}", "type", type, "status", "True"));
    }
    json_object_set_new(status, "conditions", arr);
    cs_storage_policy_status_t st = {0};
    cs_err_t err = {0};
    cr_expect_eq(cs_storage_policy_status_decode(status, &st, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "status.conditions: 17 conditions, at most 16 are allowed");
    json_decref(status);
}

Test(status_encode, round_trip_and_equality)
{
    cs_storage_policy_status_t a = {0}, b = {0};
    a.phase = CS_SP_PHASE_ERROR;
    a.message = strdup("StoragePolicy 'x': spec.lowWatermarkIOPS (-1) must be at least 0");
    a.watched_volumes = 10;
    a.observed_generation = 4;
    a.last_reconcile_time = 1714557600;
    cr_assert_eq(cs_conditions_set(&a.conditions, CS_CONDITION_READY, CS_CONDITION_FALSE, "InvalidSpec", a.message, 4,
                                   1714557600, NULL),
                 0);
    cs_migration_record_t r = {.volume_name = "pvc-9",
                               .timestamp = 1714557000,
                               .from_tier = CS_TIER_HOT,
                               .to_tier = CS_TIER_COLD,
                               .trigger_iops = 12.25,
                               .duration_ns = 90 * CS_NSEC_PER_SEC,
                               .outcome = CS_MIGRATION_DRY_RUN};
    cr_assert_eq(cs_migration_history_append(&a.migration_history, &r, NULL), 0);
    a.ec_policy.present = true;
    a.ec_policy.name = strdup("standard-ec");
    a.ec_policy.resolved = true;

    json_t *j = NULL;
    cr_assert_eq(cs_storage_policy_status_encode(&a, &j, NULL), 0);
    cr_expect_str_eq(json_string_value(json_object_get(j, "phase")), "Error");
    cr_expect_str_eq(json_string_value(json_object_get(j, "lastReconcileTime")), "2024-05-01T10:00:00Z");
    json_t *h0 = json_array_get(json_object_get(j, "migrationHistory"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(h0, "duration")), "1m30s");
    cr_expect_str_eq(json_string_value(json_object_get(h0, "outcome")), "DryRun");
    cr_expect_str_eq(json_string_value(json_object_get(h0, "fromTier")), "hot");
    json_t *c0 = json_array_get(json_object_get(j, "conditions"), 0);
    cr_expect_str_eq(json_string_value(json_object_get(c0, "status")), "False");
    cr_expect_str_eq(json_string_value(json_object_get(c0, "lastTransitionTime")), "2024-05-01T10:00:00Z");

    cr_assert_eq(cs_storage_policy_status_decode(j, &b, NULL), 0);
    cr_expect(cs_storage_policy_status_equal(&a, &b));
    b.hot_volumes = 1;
    cr_expect_not(cs_storage_policy_status_equal(&a, &b));
    cr_expect(cs_storage_policy_status_equal(NULL, NULL));
    cr_expect_not(cs_storage_policy_status_equal(&a, NULL));
    json_decref(j);
    cs_storage_policy_status_free(&a);
    cs_storage_policy_status_free(&b);
}
