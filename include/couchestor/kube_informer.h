/* kube_informer.h: watch-stream decoding and the informer: a local cache of
 * one resource kept current by list + watch, with add/update/delete
 * handlers, as client-go's reflector + indexer + shared informer.
 *
 * Semantics (docs/kube-client.md has the details):
 * - list (paginated) then watch from the list's resourceVersion with
 *   allowWatchBookmarks=true and timeoutSeconds; every event's
 *   resourceVersion, bookmarks included, becomes the point to resume from;
 * - a watch that ends or breaks is resumed from that point, never re-listed;
 *   only 410 (an ERROR event with code 410, reason Expired or Gone, or an
 *   HTTP 410) re-lists, after a backoff with jitter; a re-list reports the
 *   difference to the cache as adds, updates (only when the
 *   resourceVersion changed) and deletes, so no event is lost or repeated;
 * - cache reads take a read lock and never wait on the network. */
#ifndef COUCHESTOR_KUBE_INFORMER_H
#define COUCHESTOR_KUBE_INFORMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/kube.h"

/* ---- watch streams ------------------------------------------------------ */

typedef enum cs_kube_watch_type {
    CS_KUBE_WATCH_ADDED,
    CS_KUBE_WATCH_MODIFIED,
    CS_KUBE_WATCH_DELETED,
    CS_KUBE_WATCH_BOOKMARK,
    CS_KUBE_WATCH_ERROR,
} cs_kube_watch_type_t;

/* "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR". */
const char *cs_kube_watch_type_name(cs_kube_watch_type_t type);

/* One decoded watch event. Strings are valid during the callback only. */
typedef struct cs_kube_watch_event_s {
    cs_kube_watch_type_t type;
    const char *name;             /* object.metadata.name ("" for BOOKMARK/ERROR) */
    const char *namespace;        /* "" when cluster-scoped */
    const char *resource_version; /* object.metadata.resourceVersion ("" for ERROR) */
    /* ADDED/MODIFIED/DELETED: the decoder's object. The parser destroys it
     * after the callback unless the callback takes it (sets obj to NULL). */
    void *obj;
    /* ERROR: the Status fields of the object. */
    long code;
    const char *reason;
    const char *message;
} cs_kube_watch_event_t;

/* Return 0 to go on or a negative code to stop the stream. */
typedef int (*cs_kube_watch_fn)(void *ctx, cs_kube_watch_event_t *ev);

typedef struct cs_kube_watch_parser_s cs_kube_watch_parser_t;

/* A parser for a watch stream (newline-separated JSON events) from
 * untrusted bytes: bounded (max_depth, max_string: 0 = defaults) and
 * fuzzed. Each complete event goes to fn as soon as its last byte is fed.
 * An event of an unknown type, without an object, or whose object is not
 * an object with metadata.name (for ADDED/MODIFIED/DELETED) is CS_EPARSE. */
int cs_kube_watch_parser_new(const cs_kube_decoder_t *dec, cs_kube_watch_fn fn, void *ctx, size_t max_depth,
                             size_t max_string, cs_kube_watch_parser_t **out);
int cs_kube_watch_parser_feed(cs_kube_watch_parser_t *p, const char *data, size_t len, cs_err_t *err);
/* End of stream: an event cut in the middle is CS_EPARSE. */
int cs_kube_watch_parser_finish(cs_kube_watch_parser_t *p, cs_err_t *err);
size_t cs_kube_watch_parser_events(const cs_kube_watch_parser_t *p);
void cs_kube_watch_parser_free(cs_kube_watch_parser_t *p);

/* ---- cached objects ------------------------------------------------------ */

/* An object in an informer's cache: its identity and the decoder's
 * projection. Reference-counted: the cache holds one reference; a pointer
 * handed to a handler is valid during the call; cs_informer_get returns a
 * new reference that the caller drops with cs_kube_object_unref. Objects are
 * immutable once cached: an update replaces the object. */
typedef struct cs_kube_object_s {
    const char *name;
    const char *namespace; /* NULL for cluster-scoped objects */
    const char *key;       /* "namespace/name", or "name" when cluster-scoped */
    const char *resource_version;
    void *data; /* the decoder's object */
    /* private */
    atomic_int refs;
    const cs_kube_decoder_t *dec;
    struct cs_kube_object_s *ns_prev, *ns_next;
} cs_kube_object_t;

cs_kube_object_t *cs_kube_object_ref(cs_kube_object_t *obj);
/* Drops a reference; the last one destroys the object. NULL is a no-op. */
void cs_kube_object_unref(cs_kube_object_t *obj);

/* ---- informer ---------------------------------------------------------------- */

typedef struct cs_informer_s cs_informer_t;

/* Called on the informer's thread, without any informer lock held, after
 * the cache has changed; they must not block for long (put keys on a work
 * queue). on_update is also called by the periodic resync with old == obj.
 * on_delete's final_state_unknown is true when a re-list found the object
 * gone (obj is then the last cached state). Any of them may be NULL. */
typedef struct cs_informer_handlers_s {
    void (*on_add)(void *ctx, const cs_kube_object_t *obj);
    void (*on_update)(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj);
    void (*on_delete)(void *ctx, const cs_kube_object_t *obj, bool final_state_unknown);
    void *ctx;
} cs_informer_handlers_t;

typedef struct cs_informer_options_s {
    const cs_kube_resource_t *resource; /* copied; its strings are borrowed (literals) */
    const char *namespace;              /* NULL = all namespaces (copied) */
    const char *label_selector;         /* copied */
    const char *field_selector;         /* copied */
    cs_kube_decoder_t decoder;          /* create == NULL: cs_kube_meta_decoder() */
    cs_informer_handlers_t handlers;
    int64_t resync_period_ns;   /* 0 = no resync */
    int64_t watch_timeout_ns;   /* timeoutSeconds asked; 0 = random in [5, 10) min */
    size_t page_size;           /* list limit; 0 = 500 */
    int64_t backoff_initial_ns; /* re-list/re-watch backoff; 0 = 800 ms */
    int64_t backoff_max_ns;     /* 0 = 30 s */
    const char *name;           /* for logs; NULL = the resource's plural */
} cs_informer_options_t;

typedef struct cs_informer_stats_s {
    uint64_t lists;   /* complete lists (the first and every re-list) */
    uint64_t watches; /* watch requests started */
    uint64_t relists; /* lists caused by 410 */
    uint64_t events;  /* ADDED/MODIFIED/DELETED applied from watches */
    uint64_t bookmarks;
    uint64_t errors; /* failed lists/watches (transport, HTTP, parse) */
} cs_informer_stats_t;

/* Creates an informer (not started). The client must outlive it. */
int cs_informer_new(cs_kube_client_t *c, const cs_informer_options_t *opts, cs_informer_t **out, cs_err_t *err);
/* Starts the informer's thread. CS_EBUSY when already started. */
int cs_informer_start(cs_informer_t *inf, cs_err_t *err);
/* Stops the thread (aborting a watch in flight) and waits for it. The cache
 * keeps its content. Idempotent. */
void cs_informer_stop(cs_informer_t *inf);
/* Stops and frees. NULL is a no-op. */
void cs_informer_free(cs_informer_t *inf);

/* True once the first list is in the cache and its on_add handlers have
 * returned. */
bool cs_informer_has_synced(const cs_informer_t *inf);
/* Waits until synced: 0, or CS_ETIMEOUT. */
int cs_informer_wait_synced(cs_informer_t *inf, int64_t timeout_ns);

/* A new reference to the cached object, or NULL. ns is ignored for
 * cluster-scoped resources. */
cs_kube_object_t *cs_informer_get(cs_informer_t *inf, const char *ns, const char *name);
size_t cs_informer_count(cs_informer_t *inf);
/* Calls fn for every cached object (or those of one namespace, ns != NULL)
 * under the read lock: fn must be quick and must not call the informer's
 * write paths. fn returning non-zero stops the walk; that value is
 * returned. */
int cs_informer_foreach(cs_informer_t *inf, const char *ns, int (*fn)(void *ctx, const cs_kube_object_t *obj),
                        void *ctx);
/* The resourceVersion the next watch resumes from, copied into buf. */
void cs_informer_resource_version(cs_informer_t *inf, char *buf, size_t len);
void cs_informer_stats(cs_informer_t *inf, cs_informer_stats_t *out);

#endif
