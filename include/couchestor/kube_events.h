/* kube_events.h: a Kubernetes Event recorder. Events are written as
 * events.k8s.io/v1 (reason, note, action, type, regarding,
 * reportingController, reportingInstance, eventTime as MicroTime), or as
 * core/v1 Events when the API server does not serve events.k8s.io/v1
 * (checked once, by discovery).
 *
 * Repeats are aggregated: the same type, reason, action, note and
 * regarding object seen again within the aggregation window (1 h) of its
 * last occurrence PATCHes that Event's series (events.k8s.io: series.count
 * and series.lastObservedTime; core: count, lastTimestamp) instead of
 * creating another Event; a PATCH that finds the Event gone creates a new
 * one. A repeating Event (cs_event_record_repeating: a state reported at
 * every reconcile while it holds) is aggregated as client-go's events
 * recorder does: whatever its note, and its series is PATCHed at most once
 * per heartbeat (30 min) and once more at shutdown, so it costs one write
 * per half hour, not one per reconcile; it keeps its first note.
 *
 * Recording never blocks the caller on the network: events go into a
 * bounded queue that a thread of the recorder drains; when the queue is
 * full the event is dropped and counted. */
#ifndef COUCHESTOR_KUBE_EVENTS_H
#define COUCHESTOR_KUBE_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/kube.h"

typedef enum cs_event_type {
    CS_EVENT_NORMAL,
    CS_EVENT_WARNING,
} cs_event_type_t;

/* The object an Event is about. Strings are borrowed for the call only.
 * name and kind are required; namespace NULL for cluster-scoped objects
 * (their Events go to namespace "default", as client-go does). */
typedef struct cs_kube_object_ref_s {
    const char *api_version;
    const char *kind;
    const char *namespace;
    const char *name;
    const char *uid;
    const char *resource_version;
    const char *field_path;
} cs_kube_object_ref_t;

typedef struct cs_event_recorder_options_s {
    const char *reporting_controller; /* e.g. "storage.billyronks.io/couchestor" (required) */
    const char *reporting_instance;   /* e.g. the pod name (required) */
    size_t queue_len;                 /* pending events; 0 = 1000 */
    int64_t aggregate_window_ns;      /* 0 = 1 h */
    int64_t series_heartbeat_ns;      /* 0 = 30 min */
    size_t cache_max;                 /* aggregation entries kept; 0 = 4096 */
    /* Asked before every write (create, series PATCH); false drops it,
     * counted in dropped: a replica that lost its Lease writes nothing,
     * Events queued while it led included. NULL = always. */
    bool (*may_write)(void *ctx);
    void *may_write_ctx;
} cs_event_recorder_options_t;

typedef struct cs_event_recorder_stats_s {
    uint64_t recorded;   /* accepted by cs_event_record */
    uint64_t dropped;    /* queue full, recorder stopping, or may_write said no */
    uint64_t created;    /* Events POSTed */
    uint64_t patched;    /* series written as PATCHes */
    uint64_t aggregated; /* repeats counted into a series without a write (yet) */
    uint64_t failed;     /* writes the API server refused or never answered */
    bool core_api;       /* true when falling back to core/v1 */
} cs_event_recorder_stats_t;

typedef struct cs_event_recorder_s cs_event_recorder_t;

/* Creates the recorder and starts its thread. The client must outlive it. */
int cs_event_recorder_new(cs_kube_client_t *c, const cs_event_recorder_options_t *opts, cs_event_recorder_t **out,
                          cs_err_t *err);
/* Writes what is queued (for at most 5 s), stops the thread and frees.
 * NULL is a no-op. */
void cs_event_recorder_free(cs_event_recorder_t *r);

/* Queues an Event; never blocks on the network. reason is CamelCase
 * ("MigrationStarted"); action says what was done ("Migrate"; may be NULL
 * = reason); the note is printf-formatted and cut at 1 kB (at a UTF-8
 * boundary). 0; CS_EBUSY when the queue is full (the Event is dropped);
 * CS_EINVAL for a missing name, kind or reason. */
int cs_event_record(cs_event_recorder_t *r, const cs_kube_object_ref_t *regarding, cs_event_type_t type,
                    const char *reason, const char *action, const char *note_fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* As cs_event_record, for a state reported again at every reconcile while
 * it holds (a volume that cannot move, and why): one Event per object,
 * type, reason and action whatever the note, its repeats counted and
 * written on the series heartbeat (see above). */
int cs_event_record_repeating(cs_event_recorder_t *r, const cs_kube_object_ref_t *regarding, cs_event_type_t type,
                              const char *reason, const char *action, const char *note_fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Waits until every queued Event has been written (or failed): 0, or
 * CS_ETIMEOUT. */
int cs_event_recorder_flush(cs_event_recorder_t *r, int64_t timeout_ns);
void cs_event_recorder_stats(cs_event_recorder_t *r, cs_event_recorder_stats_t *out);

#endif
