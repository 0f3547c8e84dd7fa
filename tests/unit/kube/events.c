/* Integration tests of the Event recorder against the API stand-in:
 * events.k8s.io/v1 fields, aggregation of repeats into series (and a new
 * Event after the window or when the old one is gone), the core/v1
 * fallback, and a bounded queue that never blocks the caller. */
#include <criterion/criterion.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube.h"
#include "couchestor/kube_events.h"
#include "kube/standin.h"

static standin_t S;

static void up(void)
{
    standin_start(&S, NULL);
    cr_assert_eq(standin_raw(&S, "POST", "/api/v1/namespaces", "{\"metadata\":{\"name\":\"ops\"}}", NULL, NULL), 201);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(events, .init = up, .fini = down, .timeout = 60);

static const cs_kube_object_ref_t PV = {
    .api_version = "v1", .kind = "PersistentVolume", .name = "pvc-1234", .uid = "8c0d6d0e-0000-4000-8000-000000000001"};
static const cs_kube_object_ref_t SP = {
    .api_version = "storage.billyronks.io/v1", .kind = "StoragePolicy", .namespace = "ops", .name = "fast"};

static cs_kube_client_t *C;

static cs_event_recorder_t *rec_beat(size_t queue_len, int64_t window_ns, int64_t heartbeat_ns)
{
    C = standin_client(&S, NULL, NULL);
    cs_event_recorder_options_t o = {.reporting_controller = "storage.billyronks.io/couchestor",
                                     .reporting_instance = "couchestor-0",
                                     .queue_len = queue_len,
                                     .aggregate_window_ns = window_ns,
                                     .series_heartbeat_ns = heartbeat_ns};
    cs_event_recorder_t *r = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_event_recorder_new(C, &o, &r, &err), 0, "%s", err.msg);
    return r;
}

/* Every repeat written at once (a heartbeat shorter than any test step). */
static cs_event_recorder_t *rec(size_t queue_len, int64_t window_ns)
{
    return rec_beat(queue_len, window_ns, 1);
}

static void done(cs_event_recorder_t *r)
{
    cs_event_recorder_free(r);
    cs_kube_client_free(C);
}

static json_t *list(const char *path)
{
    char *body = NULL;
    cr_assert_eq(standin_raw(&S, "GET", path, NULL, NULL, &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    return json_object_get(j, "items") ? j : (json_decref(j), (json_t *)NULL);
}

static const char *str(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);
    return json_string_value(b ? json_object_get(v, b) : v);
}

Test(events, events_k8s_io_fields)
{
    cs_event_recorder_t *r = rec(0, 0);
    cr_assert_eq(cs_event_record(r, &PV, CS_EVENT_NORMAL, "MigrationStarted", "Migrate", "moving %s from %s to %s",
                                 "pvc-1234", "cold", "hot"),
                 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    json_t *l = list("/apis/events.k8s.io/v1/namespaces/default/events");
    cr_assert_eq(json_array_size(json_object_get(l, "items")), 1, "a cluster-scoped object's Event goes to default");
    json_t *e = json_array_get(json_object_get(l, "items"), 0);
    cr_expect_str_eq(str(e, "reason", NULL), "MigrationStarted");
    cr_expect_str_eq(str(e, "action", NULL), "Migrate");
    cr_expect_str_eq(str(e, "note", NULL), "moving pvc-1234 from cold to hot");
    cr_expect_str_eq(str(e, "type", NULL), "Normal");
    cr_expect_str_eq(str(e, "reportingController", NULL), "storage.billyronks.io/couchestor");
    cr_expect_str_eq(str(e, "reportingInstance", NULL), "couchestor-0");
    cr_expect_str_eq(str(e, "regarding", "kind"), "PersistentVolume");
    cr_expect_str_eq(str(e, "regarding", "name"), "pvc-1234");
    cr_expect_str_eq(str(e, "regarding", "uid"), PV.uid);
    cr_expect_null(json_object_get(json_object_get(e, "regarding"), "namespace"));
    regex_t re;
    regcomp(&re, "^[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z$", REG_EXTENDED | REG_NOSUB);
    cr_expect_eq(regexec(&re, str(e, "eventTime", NULL), 0, NULL, 0), 0, "%s", str(e, "eventTime", NULL));
    regfree(&re);
    cr_expect_eq(strncmp(str(e, "metadata", "name"), "pvc-1234.", 9), 0, "%s", str(e, "metadata", "name"));
    json_decref(l);

    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_WARNING, "InvalidSpec", NULL, "%s", "bad"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    l = list("/apis/events.k8s.io/v1/namespaces/ops/events");
    e = json_array_get(json_object_get(l, "items"), 0);
    cr_expect_str_eq(str(e, "type", NULL), "Warning");
    cr_expect_str_eq(str(e, "action", NULL), "InvalidSpec", "action defaults to the reason");
    cr_expect_str_eq(str(e, "regarding", "namespace"), "ops");
    json_decref(l);
    cr_expect_eq(cs_event_record(r, &(cs_kube_object_ref_t){.kind = "X"}, CS_EVENT_NORMAL, "R", NULL, "n"), CS_EINVAL);
    done(r);
}

Test(events, repeats_become_a_series)
{
    /* The window counts from the previous write of the same Event, so it
     * must outlast one POST or PATCH on a loaded machine (400 ms may not). */
    cs_event_recorder_t *r = rec(0, 1000 * 1000000LL);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_WARNING, "ReconcileFailed", "Reconcile", "prometheus down"), 0);
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_WARNING, "ReconcileFailed", "Reconcile", "mayastor down"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.recorded, 4);
    cr_expect_eq(st.created, 2, "a different note is a different Event");
    cr_expect_eq(st.patched, 2);
    cr_expect_eq(st.failed, 0);
    json_t *l = list("/apis/events.k8s.io/v1/namespaces/ops/events");
    cr_assert_eq(json_array_size(json_object_get(l, "items")), 2);
    int with_series = 0;
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(l, "items"), i, e)
    {
        json_t *series = json_object_get(e, "series");
        if (series) {
            with_series++;
            cr_expect_eq(json_integer_value(json_object_get(series, "count")), 3);
            cr_expect_str_eq(str(e, "note", NULL), "prometheus down");
            cr_expect_not_null(json_object_get(series, "lastObservedTime"));
        }
    }
    cr_expect_eq(with_series, 1);
    json_decref(l);

    /* After the window a repeat starts a new Event. */
    int64_t until = standin_now_ms() + 1050;
    while (standin_now_ms() < until)
        standin_nap();
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_WARNING, "ReconcileFailed", "Reconcile", "prometheus down"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.created, 3);
    done(r);
}

Test(events, repeats_are_written_once_per_heartbeat)
{
    /* A state reported at every reconcile: the first occurrence is
     * created, the repeats (whatever their note: client-go's key leaves it
     * out) are counted, and the series is written when its heartbeat comes
     * (here 600 ms), once, with every repeat in it. */
    cs_event_recorder_t *r = rec_beat(0, 60 * 1000000000LL, 600 * 1000000LL);
    int64_t t0 = standin_now_ms();
    for (int i = 0; i < 5; i++)
        cr_assert_eq(
            cs_event_record_repeating(r, &PV, CS_EVENT_WARNING, "NotSteerable", "Plan", "IOPS %d wants hot", i), 0);
    /* the same reason as a one-off Event is another Event */
    cr_assert_eq(cs_event_record(r, &PV, CS_EVENT_WARNING, "NotSteerable", "Plan", "IOPS 0 wants hot"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    if (standin_now_ms() - t0 < 500) { /* the heartbeat has not come yet */
        cr_expect_eq(st.created, 2, "the repeating Event and the one-off");
        cr_expect_eq(st.patched, 0, "no write per repeat");
        cr_expect_eq(st.aggregated, 4);
    }
    int64_t until = standin_now_ms() + 5000;
    do {
        standin_nap();
        cs_event_recorder_stats(r, &st);
    } while (st.patched == 0 && standin_now_ms() < until);
    cr_expect_eq(st.created, 2);
    cr_expect_eq(st.patched, 1, "one write for the four repeats");
    json_t *l = list("/apis/events.k8s.io/v1/namespaces/default/events");
    cr_assert_eq(json_array_size(json_object_get(l, "items")), 2);
    json_t *e = json_array_get(json_object_get(l, "items"), 0);
    if (!json_object_get(e, "series"))
        e = json_array_get(json_object_get(l, "items"), 1);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(e, "series"), "count")), 5);
    cr_expect_str_eq(str(e, "note", NULL), "IOPS 0 wants hot", "the first note stays");
    json_decref(l);
    /* A repeat after the series was written waits for the next heartbeat;
     * at shutdown the count not written yet is. */
    cr_assert_eq(cs_event_record_repeating(r, &PV, CS_EVENT_WARNING, "NotSteerable", "Plan", "again"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    done(r);
    l = list("/apis/events.k8s.io/v1/namespaces/default/events");
    e = json_array_get(json_object_get(l, "items"), 0);
    if (!json_object_get(e, "series"))
        e = json_array_get(json_object_get(l, "items"), 1);
    cr_expect_eq(json_integer_value(json_object_get(json_object_get(e, "series"), "count")), 6);
    json_decref(l);
}

static atomic_int leading;

static bool may_write(void *ctx)
{
    return atomic_load((atomic_int *)ctx) != 0;
}

Test(events, nothing_is_written_without_the_lease)
{
    /* Recorded while leading, written after the Lease was lost: dropped. */
    C = standin_client(&S, NULL, NULL);
    cs_event_recorder_options_t o = {.reporting_controller = "storage.billyronks.io/couchestor",
                                     .reporting_instance = "couchestor-0",
                                     .may_write = may_write,
                                     .may_write_ctx = &leading};
    cs_event_recorder_t *r = NULL;
    cs_err_t err = {0};
    atomic_store(&leading, 0);
    cr_assert_eq(cs_event_recorder_new(C, &o, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_event_record(r, &PV, CS_EVENT_NORMAL, "MigrationStarted", "Migrate", "x"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.created, 0);
    cr_expect_eq(st.dropped, 1);
    cr_expect_eq(standin_count_requests(&S, "POST", "/events"), 0, "no request reached the API server");
    atomic_store(&leading, 1);
    cr_assert_eq(cs_event_record(r, &PV, CS_EVENT_NORMAL, "MigrationStarted", "Migrate", "x"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.created, 1);
    done(r);
}

Test(events, a_deleted_event_is_created_again)
{
    cs_event_recorder_t *r = rec(0, 0);
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_NORMAL, "Scaled", NULL, "x"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    json_t *l = list("/apis/events.k8s.io/v1/namespaces/ops/events");
    char path[512];
    snprintf(path, sizeof path, "/apis/events.k8s.io/v1/namespaces/ops/events/%s",
             str(json_array_get(json_object_get(l, "items"), 0), "metadata", "name"));
    json_decref(l);
    cr_assert_eq(standin_raw(&S, "DELETE", path, NULL, NULL, NULL), 200);
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_NORMAL, "Scaled", NULL, "x"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.created, 2);
    cr_expect_eq(st.patched, 0);
    cr_expect_eq(st.failed, 0);
    done(r);
}

Test(events, falls_back_to_core_v1)
{
    standin_fault(&S, "{\"type\":\"error\",\"code\":404,\"reason\":\"NotFound\",\"path\":\"^/apis/events.k8s.io\","
                      "\"message\":\"the server could not find the requested resource\",\"count\":-1}");
    cs_event_recorder_t *r = rec(0, 0);
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_NORMAL, "MigrationCompleted", "Migrate", "done"), 0);
    cr_assert_eq(cs_event_record(r, &SP, CS_EVENT_NORMAL, "MigrationCompleted", "Migrate", "done"), 0);
    cr_assert_eq(cs_event_recorder_flush(r, 5000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    cr_expect(st.core_api);
    cr_expect_eq(st.created, 1);
    cr_expect_eq(st.patched, 1);
    json_t *l = list("/api/v1/namespaces/ops/events");
    cr_assert_eq(json_array_size(json_object_get(l, "items")), 1);
    json_t *e = json_array_get(json_object_get(l, "items"), 0);
    cr_expect_str_eq(str(e, "message", NULL), "done");
    cr_expect_str_eq(str(e, "involvedObject", "kind"), "StoragePolicy");
    cr_expect_str_eq(str(e, "involvedObject", "name"), "fast");
    cr_expect_str_eq(str(e, "source", "component"), "storage.billyronks.io/couchestor");
    cr_expect_eq(json_integer_value(json_object_get(e, "count")), 2);
    cr_expect_not_null(str(e, "lastTimestamp", NULL));
    json_decref(l);
    done(r);
}

Test(events, recording_never_blocks)
{
    standin_fault(&S, "{\"type\":\"delay\",\"seconds\":1,\"method\":\"POST\",\"path\":\"/events$\",\"count\":1}");
    cs_event_recorder_t *r = rec(2, 0);
    int64_t t0 = standin_now_ms();
    int ok = 0, busy = 0;
    for (int i = 0; i < 20; i++) {
        int rc = cs_event_record(r, &SP, CS_EVENT_NORMAL, "Tick", NULL, "tick %d", i);
        ok += rc == 0;
        busy += rc == CS_EBUSY;
    }
    cr_expect_lt(standin_now_ms() - t0, 200, "the caller never waits for the API server");
    cr_expect_geq(ok, 2);
    cr_expect_leq(ok, 3, "at most one in flight plus a full queue");
    cr_expect_eq(ok + busy, 20);
    cr_assert_eq(cs_event_recorder_flush(r, 10000000000LL), 0);
    cs_event_recorder_stats_t st;
    cs_event_recorder_stats(r, &st);
    cr_expect_eq(st.dropped, (uint64_t)busy);
    cr_expect_eq(st.created, (uint64_t)ok);
    done(r);
}
