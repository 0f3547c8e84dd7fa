/* mayastor.h: client of the Mayastor control-plane REST API (/v0, the
 * api-rest service): volumes (paginated list, get, replica count), pools
 * (list, get, labels), nodes, nexus children, rebuild history; errors with
 * their kind; endpoint discovery; and the mapping from a PersistentVolume
 * to its Mayastor volume and from a pool id to its DiskPool resource.
 *
 * Field names follow the API exactly (reference mayastor.md 1): the replica
 * topology's hyphenated "child-status", "child-status-reason",
 * "rebuild-progress", the nexus child's camelCase "rebuildProgress".
 *
 * Memory: volume lists are decoded as they arrive (jstream) into compact
 * structs: UUIDs as 16 bytes, node/pool names and label strings interned
 * once per container, equal inclusion label sets stored once, small fields
 * packed, variable parts in one arena; lists skip nexus children unless
 * asked (cs_mayastor_options_t.list_children). A container
 * (cs_mayastor_volumes_t etc.) owns everything its items point to.
 *
 * Thread safety: a cs_mayastor_t may be used by several threads at once (a
 * small pool of HTTP connections; no lock held across a request).
 * Containers are plain data: read them from any thread, free them once. */
#ifndef COUCHESTOR_MAYASTOR_H
#define COUCHESTOR_MAYASTOR_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/selector.h"

#define CS_MAYASTOR_CSI_DRIVER "io.openebs.csi-mayastor"
#define CS_MAYASTOR_DEFAULT_NAMESPACE "mayastor"
#define CS_MAYASTOR_API_REST_SELECTOR "app=api-rest"
#define CS_MAYASTOR_DISKPOOL_GROUP "openebs.io"
#define CS_MAYASTOR_DISKPOOL_VERSION "v1beta2"
#define CS_MAYASTOR_DEFAULT_PAGE_SIZE 500u
#define CS_MAYASTOR_DEFAULT_TIMEOUT_MS 15000L
#define CS_MAYASTOR_DEFAULT_MAX_VOLUMES ((size_t)1000000)

/* ------------------------------------------------------------------------ */
/* UUIDs                                                                     */

typedef struct cs_mayastor_uuid_s {
    uint8_t b[16];
} cs_mayastor_uuid_t;

/* Parses the 36-character 8-4-4-4-12 form (either case). 0 or CS_EPARSE. */
int cs_mayastor_uuid_parse(const char *text, size_t len, cs_mayastor_uuid_t *out);
/* Lower-case 36 characters + NUL into out. Returns out. */
char *cs_mayastor_uuid_format(const cs_mayastor_uuid_t *u, char out[37]);
bool cs_mayastor_uuid_eq(const cs_mayastor_uuid_t *a, const cs_mayastor_uuid_t *b);
bool cs_mayastor_uuid_is_nil(const cs_mayastor_uuid_t *u);

/* ------------------------------------------------------------------------ */
/* Enumerations. Each has NONE = 0 (field absent or null) and OTHER (a value
 * this client does not know: newer Mayastor). *_name() gives the API's
 * spelling ("Online"), "" for NONE and "?" for OTHER. */

typedef enum cs_mayastor_spec_status {
    CS_MAYASTOR_SPEC_NONE = 0,
    CS_MAYASTOR_SPEC_CREATING,
    CS_MAYASTOR_SPEC_CREATED,
    CS_MAYASTOR_SPEC_DELETING,
    CS_MAYASTOR_SPEC_DELETED,
    CS_MAYASTOR_SPEC_OTHER,
} cs_mayastor_spec_status_t;

typedef enum cs_mayastor_volume_status {
    CS_MAYASTOR_VOLUME_NONE = 0,
    CS_MAYASTOR_VOLUME_UNKNOWN,
    CS_MAYASTOR_VOLUME_ONLINE,
    CS_MAYASTOR_VOLUME_DEGRADED,
    CS_MAYASTOR_VOLUME_FAULTED,
    CS_MAYASTOR_VOLUME_SHUTDOWN,
    CS_MAYASTOR_VOLUME_OTHER,
} cs_mayastor_volume_status_t;

/* ReplicaState, and PoolStatus (same values). */
typedef enum cs_mayastor_state {
    CS_MAYASTOR_STATE_NONE = 0,
    CS_MAYASTOR_STATE_UNKNOWN,
    CS_MAYASTOR_STATE_ONLINE,
    CS_MAYASTOR_STATE_DEGRADED,
    CS_MAYASTOR_STATE_FAULTED,
    CS_MAYASTOR_STATE_OTHER,
} cs_mayastor_state_t;

/* ChildState: Degraded = rebuild in progress; Online = synced. */
typedef enum cs_mayastor_child_state {
    CS_MAYASTOR_CHILD_NONE = 0,
    CS_MAYASTOR_CHILD_UNKNOWN,
    CS_MAYASTOR_CHILD_ONLINE,
    CS_MAYASTOR_CHILD_DEGRADED,
    CS_MAYASTOR_CHILD_FAULTED,
    CS_MAYASTOR_CHILD_OTHER,
} cs_mayastor_child_state_t;

typedef enum cs_mayastor_child_reason {
    CS_MAYASTOR_REASON_NONE = 0,
    CS_MAYASTOR_REASON_OUT_OF_SPACE,
    CS_MAYASTOR_REASON_OTHER,
} cs_mayastor_child_reason_t;

typedef enum cs_mayastor_nexus_state {
    CS_MAYASTOR_NEXUS_NONE = 0,
    CS_MAYASTOR_NEXUS_UNKNOWN,
    CS_MAYASTOR_NEXUS_ONLINE,
    CS_MAYASTOR_NEXUS_DEGRADED,
    CS_MAYASTOR_NEXUS_FAULTED,
    CS_MAYASTOR_NEXUS_SHUTTING_DOWN,
    CS_MAYASTOR_NEXUS_SHUTDOWN,
    CS_MAYASTOR_NEXUS_OTHER,
} cs_mayastor_nexus_state_t;

typedef enum cs_mayastor_protocol {
    CS_MAYASTOR_PROTOCOL_NONE = 0, /* absent, or "none" */
    CS_MAYASTOR_PROTOCOL_NVMF,
    CS_MAYASTOR_PROTOCOL_ISCSI,
    CS_MAYASTOR_PROTOCOL_NBD,
    CS_MAYASTOR_PROTOCOL_OTHER,
} cs_mayastor_protocol_t;

typedef enum cs_mayastor_node_status {
    CS_MAYASTOR_NODE_NONE = 0,
    CS_MAYASTOR_NODE_UNKNOWN,
    CS_MAYASTOR_NODE_ONLINE,
    CS_MAYASTOR_NODE_OFFLINE,
    CS_MAYASTOR_NODE_OTHER,
} cs_mayastor_node_status_t;

/* spec.operation.operation: present while an operation is in progress. */
typedef enum cs_mayastor_operation {
    CS_MAYASTOR_OP_NONE = 0,
    CS_MAYASTOR_OP_CREATE,
    CS_MAYASTOR_OP_DESTROY,
    CS_MAYASTOR_OP_SHARE,
    CS_MAYASTOR_OP_UNSHARE,
    CS_MAYASTOR_OP_SET_REPLICA,
    CS_MAYASTOR_OP_REMOVE_UNUSED_REPLICA,
    CS_MAYASTOR_OP_PUBLISH,
    CS_MAYASTOR_OP_REPUBLISH,
    CS_MAYASTOR_OP_UNPUBLISH,
    CS_MAYASTOR_OP_CREATE_SNAPSHOT,
    CS_MAYASTOR_OP_DESTROY_SNAPSHOT,
    CS_MAYASTOR_OP_RESIZE,
    CS_MAYASTOR_OP_SET_VOLUME_PROPERTY,
    CS_MAYASTOR_OP_OTHER,
} cs_mayastor_operation_t;

typedef enum cs_mayastor_rebuild_state {
    CS_MAYASTOR_REBUILD_NONE = 0,
    CS_MAYASTOR_REBUILD_INIT,
    CS_MAYASTOR_REBUILD_REBUILDING,
    CS_MAYASTOR_REBUILD_STOPPED,
    CS_MAYASTOR_REBUILD_PAUSED,
    CS_MAYASTOR_REBUILD_FAILED,
    CS_MAYASTOR_REBUILD_COMPLETED,
    CS_MAYASTOR_REBUILD_OTHER,
} cs_mayastor_rebuild_state_t;

/* RestJsonError.kind */
#define CS_MAYASTOR_KIND_MAP(X)                         \
    X(TIMEOUT, "Timeout")                               \
    X(DESERIALIZE, "Deserialize")                       \
    X(INTERNAL, "Internal")                             \
    X(INVALID_ARGUMENT, "InvalidArgument")              \
    X(DEADLINE_EXCEEDED, "DeadlineExceeded")            \
    X(NOT_FOUND, "NotFound")                            \
    X(ALREADY_EXISTS, "AlreadyExists")                  \
    X(PERMISSION_DENIED, "PermissionDenied")            \
    X(RESOURCE_EXHAUSTED, "ResourceExhausted")          \
    X(FAILED_PRECONDITION, "FailedPrecondition")        \
    X(NOT_SHARED, "NotShared")                          \
    X(NOT_PUBLISHED, "NotPublished")                    \
    X(ALREADY_PUBLISHED, "AlreadyPublished")            \
    X(ALREADY_SHARED, "AlreadyShared")                  \
    X(ABORTED, "Aborted")                               \
    X(OUT_OF_RANGE, "OutOfRange")                       \
    X(UNIMPLEMENTED, "Unimplemented")                   \
    X(UNAVAILABLE, "Unavailable")                       \
    X(UNAUTHENTICATED, "Unauthenticated")               \
    X(UNAUTHORIZED, "Unauthorized")                     \
    X(CONFLICT, "Conflict")                             \
    X(FAILED_PERSIST, "FailedPersist")                  \
    X(DELETING, "Deleting")                             \
    X(IN_USE, "InUse")                                  \
    X(CAPACITY_LIMIT_EXCEEDED, "CapacityLimitExceeded") \
    X(NOT_ACCEPTABLE, "NotAcceptable")

typedef enum cs_mayastor_kind {
    CS_MAYASTOR_KIND_NONE = 0, /* no API error (transport failure, or success) */
#define CS__MAYASTOR_KIND_ENUM(name, text) CS_MAYASTOR_KIND_##name,
    CS_MAYASTOR_KIND_MAP(CS__MAYASTOR_KIND_ENUM)
#undef CS__MAYASTOR_KIND_ENUM
    CS_MAYASTOR_KIND_OTHER, /* a kind this client does not know, or an
                                  error body that is not RestJsonError */
} cs_mayastor_kind_t;

const char *cs_mayastor_spec_status_name(cs_mayastor_spec_status_t v);
const char *cs_mayastor_volume_status_name(cs_mayastor_volume_status_t v);
const char *cs_mayastor_state_name(cs_mayastor_state_t v);
const char *cs_mayastor_child_state_name(cs_mayastor_child_state_t v);
const char *cs_mayastor_child_reason_name(cs_mayastor_child_reason_t v);
const char *cs_mayastor_nexus_state_name(cs_mayastor_nexus_state_t v);
const char *cs_mayastor_protocol_name(cs_mayastor_protocol_t v);
const char *cs_mayastor_node_status_name(cs_mayastor_node_status_t v);
const char *cs_mayastor_operation_name(cs_mayastor_operation_t v);
const char *cs_mayastor_rebuild_state_name(cs_mayastor_rebuild_state_t v);
const char *cs_mayastor_kind_name(cs_mayastor_kind_t v);

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/* What went wrong with a call. `err` comes first, so &e.err is a cs_err_t *
 * for code that only propagates. For an error reply of the API the call
 * returns CS_EMAYASTOR and fills http_status, kind, kind_text (as sent),
 * details and message; for transport failures it returns CS_EUNAVAILABLE,
 * CS_ETIMEOUT or CS_ECANCELED with kind NONE; for an unparsable 2xx body
 * CS_EPARSE. Zero-initialise before use. */
typedef struct cs_mayastor_err_s {
    cs_err_t err;
    long http_status; /* 0 when no reply arrived */
    cs_mayastor_kind_t kind;
    char kind_text[40];
    char details[256]; /* truncated */
    char message[256]; /* truncated */
} cs_mayastor_err_t;

/* Decodes an error reply {details, message, kind} of HTTP status
 * http_status (body from outside: bounded, fuzzed). Always returns
 * CS_EMAYASTOR and fills out; a body that is not a RestJsonError gives kind
 * OTHER and the start of the body in the message. `what` names the request
 * ("PUT /v0/volumes/<id>/replica_count/3"). */
int cs_mayastor_decode_error(long http_status, const char *body, size_t len, const char *what, cs_mayastor_err_t *out);

/* ------------------------------------------------------------------------ */
/* Decoded objects. Strings are NUL-terminated and owned by the container
 * the object came in; NULL when the field was absent. */

typedef struct cs_mayastor_label_s {
    const char *key;
    const char *value;
} cs_mayastor_label_t;

/* Layout: the structs below are held 10,000 at a time (a volume list), so
 * small fields are packed: enum fields are 8-bit (4-bit in a volume)
 * bit-fields of their enum type, which reads and compares as the enum but
 * cannot have its address taken. Every enum value fits (checked in
 * src/mayastor/store.c). */

/* A nexus child (GET /nexuses/{id}/children, or a volume's target). */
typedef struct cs_mayastor_child_s {
    const char *uri;            /* NULL when a list was decoded without URIs */
    cs_mayastor_uuid_t replica; /* the URI's uuid= parameter; nil when absent */
    cs_mayastor_child_state_t state : 8;
    cs_mayastor_child_reason_t state_reason : 8;
    int8_t rebuild_progress; /* "rebuildProgress" 0..100; -1 when absent */
} cs_mayastor_child_t;

typedef struct cs_mayastor_nexus_s {
    cs_mayastor_uuid_t uuid;
    const char *node;
    uint64_t size;
    cs_mayastor_child_t *children; /* none in a list decoded without children */
    int32_t rebuilds;              /* rebuild jobs running */
    cs_mayastor_nexus_state_t state : 8;
    cs_mayastor_protocol_t protocol : 8;
    uint16_t child_count;
} cs_mayastor_nexus_t;

/* One entry of state.replica_topology (key = replica uuid). */
typedef struct cs_mayastor_replica_s {
    cs_mayastor_uuid_t uuid;
    const char *node;
    const char *pool;
    cs_mayastor_state_t state : 8;
    cs_mayastor_child_state_t child_status : 8;         /* "child-status"; NONE without a target */
    cs_mayastor_child_reason_t child_status_reason : 8; /* "child-status-reason" */
    int8_t rebuild_progress;                            /* "rebuild-progress"; -1 when absent */
} cs_mayastor_replica_t;

typedef struct cs_mayastor_volume_s {
    cs_mayastor_uuid_t uuid; /* spec.uuid (state.uuid if spec has none) */
    uint64_t size;           /* spec.size, bytes */
    const char *target_node; /* spec.target.node */
    /* spec.topology.pool_topology.labelled.inclusion; read-only: volumes of
     * one container with the same set share one copy */
    const cs_mayastor_label_t *inclusion;
    cs_mayastor_replica_t *replicas;            /* state.replica_topology entries */
    cs_mayastor_nexus_t target;                 /* state.target */
    uint8_t num_replicas;                       /* spec.num_replicas */
    bool self_heal : 1;                         /* spec.policy.self_heal */
    bool thin : 1;                              /* spec.thin */
    bool has_target : 1;                        /* state.target present */
    bool affinity_group : 1;                    /* spec.affinity_group present (a StatefulSet's group) */
    uint16_t inclusion_count : 11;              /* <= 1024 */
    uint16_t replica_count : 11;                /* <= 1024 */
    cs_mayastor_spec_status_t spec_status : 4;  /* spec.status */
    cs_mayastor_operation_t operation : 4;      /* spec.operation.operation */
    cs_mayastor_protocol_t target_protocol : 4; /* spec.target.protocol */
    cs_mayastor_volume_status_t status : 4;     /* state.status */
} cs_mayastor_volume_t;

typedef struct cs__mayastor_store_s cs__mayastor_store_t;

/* Volumes; free with cs_mayastor_volumes_free. */
typedef struct cs_mayastor_volumes_s {
    size_t count;
    cs_mayastor_volume_t *items;
    size_t cap;
    cs__mayastor_store_t *store; /* arena, interned strings, uuid index */
} cs_mayastor_volumes_t;

void cs_mayastor_volumes_free(cs_mayastor_volumes_t *v);
/* The volume with this uuid, or NULL. O(1) (hashed). */
const cs_mayastor_volume_t *cs_mayastor_volumes_find(const cs_mayastor_volumes_t *v, const cs_mayastor_uuid_t *uuid);
/* The replica of v with this uuid, or NULL. */
const cs_mayastor_replica_t *cs_mayastor_volume_replica(const cs_mayastor_volume_t *v,
                                                        const cs_mayastor_uuid_t *replica);
/* Bytes held by the container (items, arena, interned strings, index). */
size_t cs_mayastor_volumes_memory(const cs_mayastor_volumes_t *v);

typedef struct cs_mayastor_pool_s {
    const char *id;
    const char *node; /* spec.node, else state.node */
    bool has_spec, has_state;
    cs_mayastor_spec_status_t spec_status;
    uint16_t label_count; /* spec.labels */
    cs_mayastor_label_t *labels;
    uint16_t disk_count; /* spec.disks, else state.disks */
    const char **disks;
    cs_mayastor_state_t status; /* state.status */
    uint64_t capacity, used;    /* state.capacity / used, bytes */
    bool has_committed;
    uint64_t committed; /* state.committed */
} cs_mayastor_pool_t;

typedef struct cs_mayastor_pools_s {
    size_t count;
    cs_mayastor_pool_t *items;
    size_t cap;
    cs__mayastor_store_t *store;
} cs_mayastor_pools_t;

void cs_mayastor_pools_free(cs_mayastor_pools_t *p);
const cs_mayastor_pool_t *cs_mayastor_pools_find(const cs_mayastor_pools_t *p, const char *id);
/* Value of label key on the pool, or NULL. */
const char *cs_mayastor_pool_label(const cs_mayastor_pool_t *p, const char *key);

typedef struct cs_mayastor_node_s {
    const char *id;
    const char *grpc_endpoint;        /* spec.grpcEndpoint, else state.grpcEndpoint */
    cs_mayastor_node_status_t status; /* state.status */
    bool cordoned;                    /* spec.cordondrainstate present (cordoned, draining or drained) */
    bool draining;                    /* ... drainingstate or drainedstate */
    uint16_t label_count;             /* spec.labels */
    cs_mayastor_label_t *labels;
} cs_mayastor_node_t;

typedef struct cs_mayastor_nodes_s {
    size_t count;
    cs_mayastor_node_t *items;
    size_t cap;
    cs__mayastor_store_t *store;
} cs_mayastor_nodes_t;

void cs_mayastor_nodes_free(cs_mayastor_nodes_t *n);

typedef struct cs_mayastor_children_s {
    size_t count;
    cs_mayastor_child_t *items;
    size_t cap;
    cs__mayastor_store_t *store;
} cs_mayastor_children_t;

void cs_mayastor_children_free(cs_mayastor_children_t *c);

typedef struct cs_mayastor_rebuild_record_s {
    const char *child_uri;             /* childUri */
    const char *src_uri;               /* srcUri */
    cs_mayastor_rebuild_state_t state; /* rebuildJobState */
    uint64_t blocks_total, blocks_recovered, blocks_transferred, blocks_remaining;
    uint64_t block_size;
    bool is_partial;
    const char *start_time, *end_time; /* RFC 3339 as sent */
} cs_mayastor_rebuild_record_t;

typedef struct cs_mayastor_rebuild_history_s {
    cs_mayastor_uuid_t target; /* targetUuid */
    size_t count;
    cs_mayastor_rebuild_record_t *records;
    cs__mayastor_store_t *store;
} cs_mayastor_rebuild_history_t;

void cs_mayastor_rebuild_history_free(cs_mayastor_rebuild_history_t *h);

/* ------------------------------------------------------------------------ */
/* Client                                                                    */

typedef struct cs_mayastor_options_s {
    const char *url;          /* "http://mayastor-api-rest.mayastor.svc:8081", without /v0 */
    const char *bearer_token; /* the API declares JWT bearer; charts run --no-auth */
    const char *ca_file;
    bool insecure_skip_verify;
    long timeout_ms;         /* per request; default 15000 */
    long connect_timeout_ms; /* default 3000 */
    unsigned page_size;      /* max_entries per page of GET /volumes; default 500 */
    size_t max_volumes;      /* list bound; default 1,000,000 */
    bool list_children;      /* keep the target nexus children in volume lists
                                    (single GETs always keep them); default
                                    false: target.child_count is 0 in lists, and
                                    each replica still has its "child-status"
                                    and "rebuild-progress" */
    bool list_child_uris;    /* ... and their URIs (implies list_children);
                                    default false: a child still carries its
                                    replica uuid */
    const atomic_int *stop;  /* raised -> requests abort with CS_ECANCELED */
} cs_mayastor_options_t;

void cs_mayastor_options_default(cs_mayastor_options_t *opts);

typedef struct cs_mayastor_s cs_mayastor_t;

/* Copies the options; does not connect. Free with cs_mayastor_free. */
int cs_mayastor_new(const cs_mayastor_options_t *opts, cs_mayastor_t **out, cs_err_t *err);
void cs_mayastor_free(cs_mayastor_t *ms);
const char *cs_mayastor_url(const cs_mayastor_t *ms);

/* Every call returns 0 or a negative code with err filled (see
 * cs_mayastor_err_t); `out` containers are initialised by the call and must
 * be freed by the caller even on failure (freeing an empty one is fine). */

/* GET /v0/volumes?max_entries=N[&starting_token=T] until next_token is
 * absent; every page is streamed into out. */
int cs_mayastor_volumes_list(cs_mayastor_t *ms, cs_mayastor_volumes_t *out, cs_mayastor_err_t *err);
/* GET /v0/volumes/{id}: out->count == 1. */
int cs_mayastor_volume_get(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id, cs_mayastor_volumes_t *out,
                           cs_mayastor_err_t *err);
/* PUT /v0/volumes/{id}/replica_count/{n}, n in 1..255 (Mayastor accepts a
 * change of exactly +-1). The returned volume goes to out unless out is NULL. */
int cs_mayastor_volume_set_replica_count(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id, unsigned n,
                                         cs_mayastor_volumes_t *out, cs_mayastor_err_t *err);
/* GET /v0/volumes/{id}/rebuild-history */
int cs_mayastor_volume_rebuild_history(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id,
                                       cs_mayastor_rebuild_history_t *out, cs_mayastor_err_t *err);

/* GET /v0/pools[?volume_id=U] (volume NULL = all). */
int cs_mayastor_pools_list(cs_mayastor_t *ms, const cs_mayastor_uuid_t *volume, cs_mayastor_pools_t *out,
                           cs_mayastor_err_t *err);
/* GET /v0/pools/{id}: out->count == 1. */
int cs_mayastor_pool_get(cs_mayastor_t *ms, const char *id, cs_mayastor_pools_t *out, cs_mayastor_err_t *err);
/* PUT /v0/pools/{id}/label/{key}={value}[?overwrite=true]; key and value are
 * percent-encoded ("openebs.io/created-by" -> "openebs.io%2Fcreated-by").
 * Without overwrite, another value for key is 412 FailedPrecondition. The
 * returned pool goes to out unless NULL. */
int cs_mayastor_pool_label_put(cs_mayastor_t *ms, const char *id, const char *key, const char *value, bool overwrite,
                               cs_mayastor_pools_t *out, cs_mayastor_err_t *err);
/* DELETE /v0/pools/{id}/label/{key}. An absent key is 412; the key
 * openebs.io/created-by is refused (400 InvalidArgument). */
int cs_mayastor_pool_label_delete(cs_mayastor_t *ms, const char *id, const char *key, cs_mayastor_pools_t *out,
                                  cs_mayastor_err_t *err);

/* ---- capabilities --------------------------------------------------------- */

/* What the control plane behind the client can do, by probing it. */
typedef struct cs_mayastor_caps_s {
    /* PUT/DELETE /v0/pools/{id}/label/{key} are served (Mayastor >= 2.7.1;
     * absent in 2.7.0 and older, where pool labels come only from a
     * DiskPool's spec.topology at pool creation). */
    bool pool_labels;
    long probe_status; /* HTTP status of the probe's answer */
} cs_mayastor_caps_t;

/* The pool id and label key the probe names: an id no DiskPool can have (an
 * underscore and capitals are not allowed in a Kubernetes object name, and
 * pool ids are DiskPool names) and a key nobody sets. */
#define CS_MAYASTOR_PROBE_POOL "couchestor_Capability_Probe"
#define CS_MAYASTOR_PROBE_LABEL "couchestor.io/capability-probe"

/* Finds out whether the control plane has the pool-label endpoints, with one
 * request that changes nothing:
 *   DELETE /v0/pools/couchestor_Capability_Probe/label/couchestor.io%2Fcapability-probe
 * A control plane that routes the path answers with a Mayastor error body
 * ({"kind": "NotFound", ...}: no such pool; or 412 FailedPrecondition, no
 * such key, should the pool exist): pool_labels = true. One without the
 * route answers as actix-web does for every unrouted path, 404 with an
 * empty (or any non-Mayastor) body: pool_labels = false.
 *
 * Contract:
 * - 0: *out is filled (out->pool_labels says which). Never retried inside;
 *   the answer only changes with a Mayastor upgrade, so a caller probes at
 *   start and after a reconnect (Mayastor unreachable, then reachable
 *   again), not per reconcile, and keeps the last answer.
 * - a negative code: capability unknown (*out zeroed) and err filled as for
 *   every call: CS_EUNAVAILABLE / CS_ETIMEOUT / CS_ECANCELED when no answer
 *   came (Mayastor unreachable: probe again later), CS_EMAYASTOR for an
 *   answer that says neither (5xx, 401, ...; err->http_status and kind say
 *   which). A caller that must act on unknown should assume the endpoints
 *   are present and let the first real label call fail, rather than refuse
 *   to work.
 * - one request with the client's timeout; thread-safe like every call. */
int cs_mayastor_capabilities(cs_mayastor_t *ms, cs_mayastor_caps_t *out, cs_mayastor_err_t *err);

/* GET /v0/nodes, GET /v0/nodes/{id}. */
int cs_mayastor_nodes_list(cs_mayastor_t *ms, cs_mayastor_nodes_t *out, cs_mayastor_err_t *err);
int cs_mayastor_node_get(cs_mayastor_t *ms, const char *id, cs_mayastor_nodes_t *out, cs_mayastor_err_t *err);

/* GET /v0/nexuses/{nexus}/children */
int cs_mayastor_nexus_children(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, cs_mayastor_children_t *out,
                               cs_mayastor_err_t *err);
/* GET /v0/nexuses/{nexus}/children/{percent-encoded child uri}: count == 1. */
int cs_mayastor_nexus_child_get(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, const char *child_uri,
                                cs_mayastor_children_t *out, cs_mayastor_err_t *err);
/* DELETE /v0/nexuses/{nexus}/children/{percent-encoded child uri} (204):
 * makes that replica the first victim of the next replica-count decrease
 * (reference mayastor.md 7.4). */
int cs_mayastor_nexus_child_delete(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, const char *child_uri,
                                   cs_mayastor_err_t *err);

/* ------------------------------------------------------------------------ */
/* Decoders (advanced): bytes from outside the process, bounded and fuzzed. */

/* Streaming volume decoder: appends every volume of a body to out. list =
 * the body is a page {"entries": [...], "next_token": n}; otherwise a single
 * Volume object. Nexus children are kept; keep_uris: with their URIs. */
typedef struct cs_mayastor_volume_decoder_s cs_mayastor_volume_decoder_t;
int cs_mayastor_volume_decoder_new(cs_mayastor_volumes_t *out, bool list, bool keep_uris, size_t max_volumes,
                                   cs_mayastor_volume_decoder_t **dec);
/* What a volume decoder keeps beyond the compact volume. */
#define CS_MAYASTOR_DECODE_CHILDREN 1u   /* state.target.children (else child_count 0) */
#define CS_MAYASTOR_DECODE_CHILD_URIS 2u /* their URIs (implies CHILDREN) */
int cs_mayastor_volume_decoder_new_flags(cs_mayastor_volumes_t *out, bool list, unsigned flags, size_t max_volumes,
                                         cs_mayastor_volume_decoder_t **dec);
int cs_mayastor_volume_decoder_feed(cs_mayastor_volume_decoder_t *d, const char *data, size_t len, cs_err_t *err);
/* *next_token: the page's next_token, or -1 when absent (last page). */
int cs_mayastor_volume_decoder_finish(cs_mayastor_volume_decoder_t *d, int64_t *next_token, cs_err_t *err);
void cs_mayastor_volume_decoder_free(cs_mayastor_volume_decoder_t *d);

/* One-shot forms. cs_mayastor_decode_volumes: out is initialised (append
 * to an empty container), children kept; next_token may be NULL. */
int cs_mayastor_decode_volumes(const char *body, size_t len, bool list, bool keep_uris, cs_mayastor_volumes_t *out,
                               int64_t *next_token, cs_err_t *err);
/* list: a JSON array of Pool, else one Pool. */
int cs_mayastor_decode_pools(const char *body, size_t len, bool list, cs_mayastor_pools_t *out, cs_err_t *err);
int cs_mayastor_decode_nodes(const char *body, size_t len, bool list, cs_mayastor_nodes_t *out, cs_err_t *err);
int cs_mayastor_decode_children(const char *body, size_t len, bool list, cs_mayastor_children_t *out, cs_err_t *err);
int cs_mayastor_decode_rebuild_history(const char *body, size_t len, cs_mayastor_rebuild_history_t *out, cs_err_t *err);

/* ------------------------------------------------------------------------ */
/* Kubernetes side: endpoint discovery, PV and DiskPool mapping.            */

/* How this module reads Kubernetes objects without depending on the kube
 * client's types: GET `path` on the API server (e.g.
 * "/api/v1/namespaces/mayastor/services?labelSelector=app%3Dapi-rest") and
 * return the JSON body in *out (the caller json_decrefs it). A 404 must be
 * CS_ENOTFOUND. */
typedef int (*cs_mayastor_kube_get_fn)(void *ctx, const char *path, json_t **out, cs_err_t *err);

/* The api-rest base URL from a ServiceList (or one Service): the first
 * Service with a port named "http" -> "http://<clusterIP>:<port>" (brackets
 * for IPv6), or "http://<name>.<namespace>.svc:<port>" for a headless one.
 * *url is malloc'd. CS_ENOTFOUND when no Service has such a port. */
int cs_mayastor_url_from_services(const json_t *services, char **url, cs_err_t *err);
/* Lists Services labelled app=api-rest in namespace (NULL = "mayastor") via
 * get and returns cs_mayastor_url_from_services of them. */
int cs_mayastor_discover_url(cs_mayastor_kube_get_fn get, void *ctx, const char *namespace_, char **url, cs_err_t *err);

/* PV -> Mayastor volume: the driver must be io.openebs.csi-mayastor and the
 * volumeHandle a uuid (= the REST volume_id). CS_EUNSUPPORTED when the PV
 * belongs to another driver (or is not CSI); CS_EPARSE for a bad handle.
 * pv_name is only used in messages (may be NULL). */
int cs_mayastor_pv_volume(const char *pv_name, const char *csi_driver, const char *volume_handle,
                          cs_mayastor_uuid_t *out, cs_err_t *err);
/* The same from a PersistentVolume object (spec.csi.driver/volumeHandle). */
int cs_mayastor_pv_volume_json(const json_t *pv, cs_mayastor_uuid_t *out, cs_err_t *err);
/* "pvc-<uuid>": the PV name Mayastor's CSI driver gives the volume, and the
 * pv_name label of its metrics (the key of Prometheus IOPS). */
char *cs_mayastor_pv_name(const cs_mayastor_uuid_t *u, char out[41]);

/* A DiskPool resource (openebs.io/v1beta2, namespaced; name = pool id). */
typedef struct cs_mayastor_diskpool_s {
    char *name;
    char *namespace_;
    char *node; /* spec.node */
    size_t disk_count;
    char **disks;                       /* spec.disks */
    cs_labels_t labels;                 /* metadata.labels */
    cs_labels_t topology;               /* spec.topology.labelled (v1beta2) */
    char *cr_state;                     /* status.cr_state: Creating|Created|Terminating, or NULL */
    cs_mayastor_state_t pool_status;    /* status.pool_status */
    uint64_t capacity, used, available; /* status, bytes */
} cs_mayastor_diskpool_t;

/* "/apis/openebs.io/v1beta2/namespaces/<ns>/diskpools/<pool id>" into buf
 * (id percent-encoded); CS_ETOOBIG when it does not fit. */
int cs_mayastor_diskpool_path(const char *namespace_, const char *pool_id, char *buf, size_t len, cs_err_t *err);
/* Decodes a DiskPool object (untrusted). out must be freed. */
int cs_mayastor_diskpool_decode(const json_t *obj, cs_mayastor_diskpool_t *out, cs_err_t *err);
/* GET the DiskPool of pool_id in namespace (NULL = "mayastor") via get. */
int cs_mayastor_diskpool_get(cs_mayastor_kube_get_fn get, void *ctx, const char *namespace_, const char *pool_id,
                             cs_mayastor_diskpool_t *out, cs_err_t *err);
void cs_mayastor_diskpool_free(cs_mayastor_diskpool_t *d);

#endif
