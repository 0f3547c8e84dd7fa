/* events.c: the Event recorder: a bounded queue drained by one thread that
 * writes events.k8s.io/v1 (or core/v1) Events and aggregates repeats. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/duration.h"
#include "couchestor/kube_events.h"
#include "couchestor/log.h"
#include "couchestor/rfc3339.h"
#include "kube/internal.h"

#define CS__EV_NOTE_MAX 1024
#define CS__EV_ACTION_MAX 128
#define CS__EV_FLUSH_ON_FREE_NS (INT64_C(5) * 1000000000)

static const cs_kube_resource_t CS__EV_NEW = {"events.k8s.io", "v1", "events", true, "Event"};
static const cs_kube_resource_t CS__EV_CORE = {"", "v1", "events", true, "Event"};

typedef struct cs__ev_item_s {
    cs_event_type_t type;
    char *api_version, *kind, *ns, *name, *uid, *rv, *field_path;
    char *reason, *action, *note;
    bool repeating;  /* cs_event_record_repeating: one Event whatever the note, series on a heartbeat */
    int64_t when_ns; /* real time of the occurrence */
    struct cs__ev_item_s *next;
} cs__ev_item_t;

/* A written Event that later repeats can PATCH: its series count, and what
 * of it the API server has. */
typedef struct cs__ev_seen_s {
    char *key;
    char *ev_name, *ev_ns;
    int64_t count;
    int64_t written_count; /* the count the last write carried */
    int64_t first_real_ns;
    int64_t last_real_ns;    /* the last occurrence (lastObservedTime) */
    int64_t last_mono_ns;    /* the last occurrence */
    int64_t written_mono_ns; /* the last POST or PATCH of it */
    struct cs__ev_seen_s *lru_prev, *lru_next;
} cs__ev_seen_t;

struct cs_event_recorder_s {
    cs_kube_client_t *c;
    char *controller, *instance;
    size_t queue_max, cache_max;
    int64_t window_ns;    /* a repeat within this of the last occurrence joins the series */
    int64_t heartbeat_ns; /* a series is written at most this often */
    bool (*may_write)(void *ctx);
    void *may_write_ctx;

    pthread_mutex_t mu; /* queue, stats, flags */
    pthread_cond_t cond;
    cs__ev_item_t *head, *tail;
    size_t queued;
    bool busy; /* the thread is writing an item */
    bool stopping;
    pthread_t thread;
    cs_event_recorder_stats_t stats;

    /* Recorder thread only. */
    int api; /* 0 unknown, 1 events.k8s.io, 2 core */
    cs__kube_map_t seen;
    cs__ev_seen_t *lru_head, *lru_tail;
};

static void cs__item_free(cs__ev_item_t *it)
{
    if (!it)
        return;
    free(it->api_version);
    free(it->kind);
    free(it->ns);
    free(it->name);
    free(it->uid);
    free(it->rv);
    free(it->field_path);
    free(it->reason);
    free(it->action);
    free(it->note);
    free(it);
}

static void cs__seen_free(cs__ev_seen_t *s)
{
    free(s->key);
    free(s->ev_name);
    free(s->ev_ns);
    free(s);
}

static void cs__lru_unlink(cs_event_recorder_t *r, cs__ev_seen_t *s)
{
    if (s->lru_prev)
        s->lru_prev->lru_next = s->lru_next;
    else
        r->lru_head = s->lru_next;
    if (s->lru_next)
        s->lru_next->lru_prev = s->lru_prev;
    else
        r->lru_tail = s->lru_prev;
    s->lru_prev = s->lru_next = NULL;
}

static void cs__lru_front(cs_event_recorder_t *r, cs__ev_seen_t *s)
{
    s->lru_prev = NULL;
    s->lru_next = r->lru_head;
    if (r->lru_head)
        r->lru_head->lru_prev = s;
    r->lru_head = s;
    if (!r->lru_tail)
        r->lru_tail = s;
}

static void cs__seen_drop(cs_event_recorder_t *r, cs__ev_seen_t *s)
{
    cs__lru_unlink(r, s);
    cs__kube_map_remove(&r->seen, s->key);
    cs__seen_free(s);
}

/* Cuts s at max bytes without splitting a UTF-8 sequence. */
static void cs__utf8_cut(char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    s[max] = '\0';
}

/* "type|reason|action|apiVersion|kind|ns|name|uid|note" */
/* Two occurrences are one Event (a series) when their type, action,
 * reason, regarding object and note are the same; for a repeating Event
 * (cs_event_record_repeating) the note is left out, as client-go's events
 * recorder leaves it out of its eventKey: a note with numbers that change
 * at every reconcile does not make a new Event each time, and the series
 * keeps its first note. The two kinds never share a key. */
static char *cs__key(const cs__ev_item_t *it)
{
    const char *note = it->repeating ? "" : it->note;
    size_t n = 64 + strlen(it->reason) + strlen(it->action) + strlen(it->kind) + strlen(it->name) + strlen(note) +
               (it->ns ? strlen(it->ns) : 0) + (it->uid ? strlen(it->uid) : 0) +
               (it->api_version ? strlen(it->api_version) : 0) + (it->field_path ? strlen(it->field_path) : 0);
    char *k = malloc(n);
    if (k)
        snprintf(k, n, "%c%d|%s|%s|%s|%s|%s|%s|%s|%s|%s", it->repeating ? 'R' : 'E', (int)it->type, it->reason,
                 it->action, it->api_version ? it->api_version : "", it->kind, it->ns ? it->ns : "", it->name,
                 it->uid ? it->uid : "", it->field_path ? it->field_path : "", note);
    return k;
}

static json_t *cs__ref_json(const cs__ev_item_t *it)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (it->api_version)
        json_object_set_new(o, "apiVersion", json_string(it->api_version));
    json_object_set_new(o, "kind", json_string(it->kind));
    if (it->ns)
        json_object_set_new(o, "namespace", json_string(it->ns));
    json_object_set_new(o, "name", json_string(it->name));
    if (it->uid)
        json_object_set_new(o, "uid", json_string(it->uid));
    if (it->rv)
        json_object_set_new(o, "resourceVersion", json_string(it->rv));
    if (it->field_path)
        json_object_set_new(o, "fieldPath", json_string(it->field_path));
    return o;
}

static const char *cs__type_name(cs_event_type_t t)
{
    return t == CS_EVENT_WARNING ? "Warning" : "Normal";
}

/* Finds out once whether events.k8s.io/v1 is served. */
static void cs__discover(cs_event_recorder_t *r)
{
    if (r->api)
        return;
    cs__kube_req_t q = {.verb = "GET", .method = "GET", .res = &CS__EV_NEW, .path = "/apis/events.k8s.io/v1"};
    cs_http_response_t resp;
    cs_err_t err = {0};
    int rc = cs__kube_do(r->c, &q, &resp, &err);
    cs_http_response_free(&resp);
    if (rc == 0)
        r->api = 1;
    else if (rc == CS_ENOTFOUND) {
        r->api = 2;
        CS_INFO("events: events.k8s.io/v1 is not served; writing core/v1 Events");
    }
    /* Other failures: decide on the next event. */
    pthread_mutex_lock(&r->mu);
    r->stats.core_api = r->api == 2;
    pthread_mutex_unlock(&r->mu);
}

static int cs__create(cs_event_recorder_t *r, const cs__ev_item_t *it, const char *ns, char *name_out, size_t name_len,
                      cs_err_t *err)
{
    char micro[CS_RFC3339_MICRO_SIZE], when[CS_RFC3339_SIZE];
    cs_rfc3339_format_micro(it->when_ns, micro, sizeof micro);
    cs_rfc3339_format(it->when_ns / CS_NSEC_PER_SEC, when, sizeof when);
    /* client-go: <regarding name>.<hex UnixNano>; cut so the whole fits 253. */
    snprintf(name_out, name_len, "%.200s.%llx", it->name, (unsigned long long)it->when_ns);
    json_t *ref = cs__ref_json(it);
    json_t *obj;
    const cs_kube_resource_t *res;
    if (r->api == 2) {
        res = &CS__EV_CORE;
        obj = json_pack("{s:s,s:s,s:{s:s,s:s},s:o,s:s,s:s,s:s,s:{s:s},s:s,s:s,s:i,s:s,s:s,s:s}", "apiVersion", "v1",
                        "kind", "Event", "metadata", "name", name_out, "namespace", ns, "involvedObject", ref, "reason",
                        it->reason, "message", it->note, "type", cs__type_name(it->type), "source", "component",
                        r->controller, "firstTimestamp", when, "lastTimestamp", when, "count", 1, "action", it->action,
                        "reportingComponent", r->controller, "reportingInstance", r->instance);
    } else {
        res = &CS__EV_NEW;
        obj = json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o}", "apiVersion", "events.k8s.io/v1",
                        "kind", "Event", "metadata", "name", name_out, "namespace", ns, "eventTime", micro,
                        "reportingController", r->controller, "reportingInstance", r->instance, "action", it->action,
                        "reason", it->reason, "note", it->note, "type", cs__type_name(it->type), "regarding", ref);
    }
    if (!obj)
        return cs_err_set(err, CS_ENOMEM, "events: out of memory");
    int rc = cs_kube_create(r->c, res, ns, obj, NULL, err);
    json_decref(obj);
    return rc;
}

/* Writes the series of s: its count and last occurrence. */
static int cs__patch(cs_event_recorder_t *r, const cs__ev_seen_t *s, cs_err_t *err)
{
    json_t *p;
    const cs_kube_resource_t *res;
    if (r->api == 2) {
        char when[CS_RFC3339_SIZE];
        cs_rfc3339_format(s->last_real_ns / CS_NSEC_PER_SEC, when, sizeof when);
        res = &CS__EV_CORE;
        p = json_pack("{s:I,s:s}", "count", (json_int_t)s->count, "lastTimestamp", when);
    } else {
        char micro[CS_RFC3339_MICRO_SIZE];
        cs_rfc3339_format_micro(s->last_real_ns, micro, sizeof micro);
        res = &CS__EV_NEW;
        p = json_pack("{s:{s:I,s:s}}", "series", "count", (json_int_t)s->count, "lastObservedTime", micro);
    }
    if (!p)
        return cs_err_set(err, CS_ENOMEM, "events: out of memory");
    int rc = cs_kube_patch(r->c, res, s->ev_ns, s->ev_name, CS_KUBE_PATCH_MERGE, p, NULL, err);
    json_decref(p);
    return rc;
}

static void cs__count(cs_event_recorder_t *r, uint64_t *field)
{
    pthread_mutex_lock(&r->mu);
    (*field)++;
    pthread_mutex_unlock(&r->mu);
}

static bool cs__may_write(cs_event_recorder_t *r)
{
    if (!r->may_write || r->may_write(r->may_write_ctx))
        return true;
    cs__count(r, &r->stats.dropped);
    return false;
}

static void cs__write(cs_event_recorder_t *r, cs__ev_item_t *it)
{
    if (!cs__may_write(r))
        return;
    cs__discover(r);
    const char *ns = it->ns && *it->ns ? it->ns : "default";
    char *key = cs__key(it);
    if (!key) {
        cs__count(r, &r->stats.failed);
        return;
    }
    int64_t now = cs_clock_mono_ns();
    cs__ev_seen_t *s = cs__kube_map_get(&r->seen, key);
    cs_err_t err = {0};
    if (s && now - s->last_mono_ns <= r->window_ns) {
        s->count++;
        s->last_mono_ns = now;
        s->last_real_ns = it->when_ns;
        cs__lru_unlink(r, s);
        cs__lru_front(r, s);
        if (it->repeating && now - s->written_mono_ns < r->heartbeat_ns) {
            /* counted; written with the series' next heartbeat */
            cs__count(r, &r->stats.aggregated);
            free(key);
            return;
        }
        int rc = cs__patch(r, s, &err);
        if (rc == 0) {
            s->written_count = s->count;
            s->written_mono_ns = now;
            cs__count(r, &r->stats.patched);
            free(key);
            return;
        }
        if (rc != CS_ENOTFOUND) {
            CS_WARN("events: cannot update a repeated Event", "error", err.msg);
            cs__count(r, &r->stats.failed);
            free(key);
            return;
        }
        cs__seen_drop(r, s); /* deleted meanwhile: start a new one */
        s = NULL;
    } else if (s) {
        cs__seen_drop(r, s); /* outside the window: a new Event */
        s = NULL;
    }
    char name[300];
    int rc = cs__create(r, it, ns, name, sizeof name, &err);
    if (rc == CS_ENOTFOUND && r->api == 1) {
        /* Discovery said yes but the resource is gone: fall back. */
        r->api = 2;
        rc = cs__create(r, it, ns, name, sizeof name, &err);
    }
    if (rc != 0) {
        CS_WARN("events: cannot create an Event", "error", err.msg);
        cs__count(r, &r->stats.failed);
        free(key);
        return;
    }
    cs__count(r, &r->stats.created);
    if (r->seen.count >= r->cache_max && r->lru_tail)
        cs__seen_drop(r, r->lru_tail);
    s = calloc(1, sizeof *s);
    if (!s || !(s->ev_name = cs__kube_strdup(name)) || !(s->ev_ns = cs__kube_strdup(ns))) {
        if (s)
            cs__seen_free(s);
        free(key);
        return;
    }
    s->key = key;
    s->count = s->written_count = 1;
    s->first_real_ns = s->last_real_ns = it->when_ns;
    s->last_mono_ns = s->written_mono_ns = now;
    if (cs__kube_map_put(&r->seen, s->key, s, NULL) != 0) {
        cs__seen_free(s);
        return;
    }
    cs__lru_front(r, s);
}

/* The heartbeat: writes each series with occurrences the API server has
 * not seen yet, once its last write is heartbeat_ns old (all of them when
 * force is set: at shutdown, within deadline); forgets series whose last
 * occurrence is older than the window. Recorder thread (or, at shutdown,
 * the only thread left). */
static void cs__heartbeat(cs_event_recorder_t *r, bool force, int64_t deadline)
{
    int64_t now = cs_clock_mono_ns();
    cs__ev_seen_t *next;
    for (cs__ev_seen_t *s = r->lru_head; s; s = next) {
        next = s->lru_next;
        if (force && cs_clock_mono_ns() >= deadline)
            return;
        if (s->count > s->written_count && (force || now - s->written_mono_ns >= r->heartbeat_ns) && cs__may_write(r)) {
            cs_err_t err = {0};
            int rc = cs__patch(r, s, &err);
            if (rc == 0) {
                s->written_count = s->count;
                s->written_mono_ns = now;
                cs__count(r, &r->stats.patched);
            } else if (rc != CS_ENOTFOUND) {
                CS_WARN("events: cannot update a repeated Event", "error", err.msg);
                cs__count(r, &r->stats.failed);
            }
        }
        if (!force && now - s->last_mono_ns > r->window_ns && s->count == s->written_count)
            cs__seen_drop(r, s);
    }
}

static void *cs__run(void *arg)
{
    cs_event_recorder_t *r = arg;
    /* The heartbeat runs every 60 s, or as often as a short heartbeat
     * asks but at most every 100 ms; never while an item is being written. */
    int64_t tick = r->heartbeat_ns < INT64_C(60) * 1000000000 ? r->heartbeat_ns : INT64_C(60) * 1000000000;
    if (tick < INT64_C(100) * 1000000)
        tick = INT64_C(100) * 1000000;
    int64_t next_beat = cs_clock_mono_ns() + tick;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->head && !r->stopping) {
            int64_t left = next_beat - cs_clock_mono_ns();
            if (left <= 0)
                break;
            struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, left);
            pthread_cond_timedwait(&r->cond, &r->mu, &dl);
        }
        if (!r->head && !r->stopping) {
            r->busy = true;
            pthread_mutex_unlock(&r->mu);
            cs__heartbeat(r, false, 0);
            next_beat = cs_clock_mono_ns() + tick;
            pthread_mutex_lock(&r->mu);
            r->busy = false;
            pthread_cond_broadcast(&r->cond);
            continue;
        }
        if (!r->head)
            break; /* stopping and drained */
        cs__ev_item_t *it = r->head;
        r->head = it->next;
        if (!r->head)
            r->tail = NULL;
        r->queued--;
        r->busy = true;
        pthread_mutex_unlock(&r->mu);
        cs__write(r, it);
        cs__item_free(it);
        pthread_mutex_lock(&r->mu);
        r->busy = false;
        pthread_cond_broadcast(&r->cond);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

int cs_event_recorder_new(cs_kube_client_t *c, const cs_event_recorder_options_t *opts, cs_event_recorder_t **out,
                          cs_err_t *err)
{
    *out = NULL;
    if (!c || !opts || !opts->reporting_controller || !*opts->reporting_controller || !opts->reporting_instance ||
        !*opts->reporting_instance)
        return cs_err_set(err, CS_EINVAL,
                          "event recorder: a client, reportingController and reportingInstance are required");
    cs_event_recorder_t *r = calloc(1, sizeof *r);
    if (!r)
        return cs_err_set(err, CS_ENOMEM, "event recorder: out of memory");
    r->c = c;
    r->controller = cs__kube_strdup(opts->reporting_controller);
    r->instance = cs__kube_strdup(opts->reporting_instance);
    r->queue_max = opts->queue_len ? opts->queue_len : 1000;
    r->cache_max = opts->cache_max ? opts->cache_max : 4096;
    r->window_ns = opts->aggregate_window_ns > 0 ? opts->aggregate_window_ns : INT64_C(3600) * 1000000000;
    r->heartbeat_ns = opts->series_heartbeat_ns > 0 ? opts->series_heartbeat_ns : INT64_C(1800) * 1000000000;
    r->may_write = opts->may_write;
    r->may_write_ctx = opts->may_write_ctx;
    if (!r->controller || !r->instance || cs__kube_map_init(&r->seen, 64) != 0) {
        free(r->controller);
        free(r->instance);
        free(r);
        return cs_err_set(err, CS_ENOMEM, "event recorder: out of memory");
    }
    pthread_mutex_init(&r->mu, NULL);
    cs__kube_condattr_mono(&r->cond);
    int e = pthread_create(&r->thread, NULL, cs__run, r);
    if (e != 0) {
        cs__kube_map_free(&r->seen);
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->cond);
        free(r->controller);
        free(r->instance);
        free(r);
        return cs_err_set(err, cs_err_from_errno(e), "event recorder: cannot start a thread: %s", strerror(e));
    }
    *out = r;
    return 0;
}

int cs_event_recorder_flush(cs_event_recorder_t *r, int64_t timeout_ns)
{
    struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, timeout_ns);
    pthread_mutex_lock(&r->mu);
    while (r->head || r->busy)
        if (pthread_cond_timedwait(&r->cond, &r->mu, &dl) == ETIMEDOUT)
            break;
    bool done = !r->head && !r->busy;
    pthread_mutex_unlock(&r->mu);
    return done ? 0 : CS_ETIMEOUT;
}

void cs_event_recorder_free(cs_event_recorder_t *r)
{
    if (!r)
        return;
    if (cs_event_recorder_flush(r, CS__EV_FLUSH_ON_FREE_NS) != 0)
        CS_WARN("events: some Events were not written before shutdown");
    pthread_mutex_lock(&r->mu);
    r->stopping = true;
    /* Whatever is still queued after the flush deadline is dropped. */
    cs__ev_item_t *it = r->head;
    r->head = r->tail = NULL;
    r->stats.dropped += r->queued;
    r->queued = 0;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    /* the counts of series not written yet, while the flush time lasts */
    cs__heartbeat(r, true, cs_clock_mono_ns() + CS__EV_FLUSH_ON_FREE_NS);
    while (it) {
        cs__ev_item_t *next = it->next;
        cs__item_free(it);
        it = next;
    }
    while (r->lru_head)
        cs__seen_drop(r, r->lru_head);
    cs__kube_map_free(&r->seen);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cond);
    free(r->controller);
    free(r->instance);
    free(r);
}

static bool cs__dup(const char *s, char **dst)
{
    if (!s) {
        *dst = NULL;
        return true;
    }
    *dst = strdup(s);
    return *dst != NULL;
}

static int cs__record(cs_event_recorder_t *r, const cs_kube_object_ref_t *regarding, cs_event_type_t type,
                      const char *reason, const char *action, bool repeating, const char *note_fmt, va_list ap)
{
    if (!r || !regarding || !regarding->name || !*regarding->name || !regarding->kind || !reason || !*reason)
        return CS_EINVAL;
    pthread_mutex_lock(&r->mu);
    bool full = r->stopping || r->queued >= r->queue_max;
    if (full)
        r->stats.dropped++;
    pthread_mutex_unlock(&r->mu);
    if (full)
        return CS_EBUSY;
    cs__ev_item_t *it = calloc(1, sizeof *it);
    if (!it)
        return CS_ENOMEM;
    it->repeating = repeating;
    char note[CS__EV_NOTE_MAX + 8];
    note[0] = '\0';
    if (note_fmt) {
        vsnprintf(note, sizeof note, note_fmt, ap);
        cs__utf8_cut(note, CS__EV_NOTE_MAX);
    }
    it->type = type;
    it->when_ns = cs_clock_real_ns();
    bool ok = cs__dup(regarding->api_version, &it->api_version) && cs__dup(regarding->kind, &it->kind) &&
              cs__dup(regarding->namespace, &it->ns) && cs__dup(regarding->name, &it->name) &&
              cs__dup(regarding->uid, &it->uid) && cs__dup(regarding->resource_version, &it->rv) &&
              cs__dup(regarding->field_path, &it->field_path) && cs__dup(reason, &it->reason) &&
              cs__dup(action && *action ? action : reason, &it->action) && cs__dup(note, &it->note);
    if (!ok) {
        cs__item_free(it);
        return CS_ENOMEM;
    }
    cs__utf8_cut(it->action, CS__EV_ACTION_MAX);
    pthread_mutex_lock(&r->mu);
    if (r->stopping || r->queued >= r->queue_max) {
        r->stats.dropped++;
        pthread_mutex_unlock(&r->mu);
        cs__item_free(it);
        return CS_EBUSY;
    }
    if (r->tail)
        r->tail->next = it;
    else
        r->head = it;
    r->tail = it;
    r->queued++;
    r->stats.recorded++;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->mu);
    return 0;
}

int cs_event_record(cs_event_recorder_t *r, const cs_kube_object_ref_t *regarding, cs_event_type_t type,
                    const char *reason, const char *action, const char *note_fmt, ...)
{
    va_list ap;
    va_start(ap, note_fmt);
    int rc = cs__record(r, regarding, type, reason, action, false, note_fmt, ap);
    va_end(ap);
    return rc;
}

int cs_event_record_repeating(cs_event_recorder_t *r, const cs_kube_object_ref_t *regarding, cs_event_type_t type,
                              const char *reason, const char *action, const char *note_fmt, ...)
{
    va_list ap;
    va_start(ap, note_fmt);
    int rc = cs__record(r, regarding, type, reason, action, true, note_fmt, ap);
    va_end(ap);
    return rc;
}

void cs_event_recorder_stats(cs_event_recorder_t *r, cs_event_recorder_stats_t *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
}
