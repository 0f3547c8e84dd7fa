/* kube.h: Kubernetes API client: connection configuration (in-cluster or
 * kubeconfig, chosen as kubectl chooses), generic REST verbs for any
 * group/version/resource, streamed and paginated lists decoded straight
 * into the caller's compact structs, and Status errors that say verb,
 * resource, name, code, reason and message.
 *
 * Related headers: kube_informer.h (list+watch cache), kube_workqueue.h
 * (client-go work queue), kube_lease.h (leader election), kube_events.h
 * (Event recorder). docs/kube-client.md explains the semantics.
 *
 * Threads. A cs_kube_client_t is safe to use from many threads at once: it
 * keeps a small pool of HTTP connections and hands one to each request. No
 * lock is held while a request is on the network.
 *
 * Untrusted input. Every response body is bounded (max_response_bytes for
 * buffered bodies, page size for lists, max_json_depth and max_string_bytes
 * for streamed JSON); malformed or hostile JSON is an error, never a crash. */
#ifndef COUCHESTOR_KUBE_H
#define COUCHESTOR_KUBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/jstream.h"
#include "couchestor/selector.h"

/* ---- connection configuration ------------------------------------------ */

#define CS_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
/* A token file is re-read when the cached copy is older than this (and
 * after any 401), as client-go's cached file token source does. */
#define CS_KUBE_TOKEN_MAX_AGE_NS (INT64_C(60) * 1000000000)
/* Kubeconfig, token, CA and key files larger than this are refused. */
#define CS_KUBE_CONFIG_MAX_BYTES (4u << 20)

/* Everything needed to reach and authenticate to an API server. Every
 * string is owned (malloc'd) and may be NULL. Fill it with one of the
 * loaders below; release it with cs_kube_config_free. */
typedef struct cs_kube_config_s {
    char *server;           /* "https://10.96.0.1:443" */
    char *ca_file;          /* PEM bundle path, or NULL */
    char *ca_pem;           /* PEM bundle in memory (decoded -data), or NULL */
    char *client_cert_file; /* mutual TLS: files ... */
    char *client_key_file;
    char *client_cert_pem; /* ... or PEM in memory */
    char *client_key_pem;
    char *token;      /* bearer token read at load time, or NULL */
    char *token_file; /* re-read when older than 1 minute or after a 401 */
    char *username;   /* basic auth (kubeconfig only) */
    char *password;
    bool insecure_skip_verify;
    char *namespace; /* default namespace; never NULL after a load ("default") */
    char *source;    /* for messages: "in-cluster (DIR)" or "kubeconfig PATH, context NAME" */
} cs_kube_config_t;

typedef struct cs_kube_config_load_options_s {
    const char *kubeconfig; /* explicit path (a --kubeconfig flag), or NULL */
    const char *context;    /* overrides current-context, or NULL */
    const char *sa_dir;     /* service-account directory; NULL = CS_KUBE_SA_DIR */
} cs_kube_config_load_options_t;

/* Loads the configuration as kubectl chooses it: the explicit kubeconfig
 * path if given; else the files listed in $KUBECONFIG (colon-separated,
 * merged: the first file that sets a value wins); else in-cluster when
 * $KUBERNETES_SERVICE_HOST and _PORT are set; else ~/.kube/config (from
 * $HOME). opts may be NULL. On failure *out is left zeroed and err says
 * which file and which field is wrong, and what to do. */
int cs_kube_config_load(const cs_kube_config_load_options_t *opts, cs_kube_config_t *out, cs_err_t *err);

/* In-cluster configuration: $KUBERNETES_SERVICE_HOST/_PORT (IPv6 hosts are
 * bracketed), DIR/token (required, re-read as it rotates), DIR/ca.crt
 * (required), DIR/namespace (optional, "default" when absent). sa_dir NULL
 * = CS_KUBE_SA_DIR. */
int cs_kube_config_in_cluster(const char *sa_dir, cs_kube_config_t *out, cs_err_t *err);

/* Kubeconfig file(s): `paths` is one path or a colon-separated list merged
 * as kubectl merges $KUBECONFIG. context NULL = current-context. Relative
 * file references resolve against the directory of the file that holds
 * them. Supported user fields: token, tokenFile, client-certificate(-data),
 * client-key(-data), username/password; `exec` and `auth-provider` are
 * refused with a message saying so. */
int cs_kube_config_from_files(const char *paths, const char *context, cs_kube_config_t *out, cs_err_t *err);

/* Parses kubeconfig text from untrusted input (bounded; fuzzed). `what`
 * names it in messages; base_dir (may be NULL = ".") resolves relative
 * paths. Does not read referenced files except to check nothing. */
int cs_kube_config_parse(const char *text, size_t len, const char *what, const char *base_dir, const char *context,
                         cs_kube_config_t *out, cs_err_t *err);

/* Frees every string and zeroes cfg. NULL is a no-op. */
void cs_kube_config_free(cs_kube_config_t *cfg);

/* ---- resources ---------------------------------------------------------- */

/* A group/version/resource. group "" is the core group (/api/v1). Objects
 * that keep a resource (informers, electors) copy the struct, but its
 * strings are borrowed: they must outlive every user (string literals in
 * practice). kind is used only in messages and Event references; it may be
 * NULL. The CS_KUBE_RES_* macros are compound literals: pass them directly. */
typedef struct cs_kube_resource_s {
    const char *group;
    const char *version;
    const char *plural;
    bool namespaced;
    const char *kind;
} cs_kube_resource_t;

#define CS_KUBE_RES(g, v, p, nsd, k) (&(const cs_kube_resource_t){(g), (v), (p), (nsd), (k)})
#define CS_KUBE_RES_PERSISTENTVOLUMES CS_KUBE_RES("", "v1", "persistentvolumes", false, "PersistentVolume")
#define CS_KUBE_RES_PVCS CS_KUBE_RES("", "v1", "persistentvolumeclaims", true, "PersistentVolumeClaim")
#define CS_KUBE_RES_CONFIGMAPS CS_KUBE_RES("", "v1", "configmaps", true, "ConfigMap")
#define CS_KUBE_RES_NAMESPACES CS_KUBE_RES("", "v1", "namespaces", false, "Namespace")
#define CS_KUBE_RES_NODES CS_KUBE_RES("", "v1", "nodes", false, "Node")
#define CS_KUBE_RES_SERVICES CS_KUBE_RES("", "v1", "services", true, "Service")
#define CS_KUBE_RES_CORE_EVENTS CS_KUBE_RES("", "v1", "events", true, "Event")
#define CS_KUBE_RES_EVENTS CS_KUBE_RES("events.k8s.io", "v1", "events", true, "Event")
#define CS_KUBE_RES_LEASES CS_KUBE_RES("coordination.k8s.io", "v1", "leases", true, "Lease")
#define CS_KUBE_RES_STORAGECLASSES CS_KUBE_RES("storage.k8s.io", "v1", "storageclasses", false, "StorageClass")

/* Writes the request path of a resource into buf: "/apis/G/V[/namespaces/NS]/PLURAL[/NAME[/SUB]]"
 * (core: "/api/V/..."). ns is ignored for cluster-scoped resources; a
 * namespaced resource with ns NULL addresses all namespaces (lists only).
 * Namespace and name are percent-encoded. CS_ETOOBIG when buf is short,
 * CS_EINVAL for a missing name with a subresource or an empty segment. */
int cs_kube_path(const cs_kube_resource_t *res, const char *ns, const char *name, const char *subresource, char *buf,
                 size_t len, cs_err_t *err);

/* ---- Status objects and errors ------------------------------------------ */

/* A decoded metav1.Status. Strings owned, may be NULL. */
typedef struct cs_kube_status_s {
    long code;    /* "code", 0 when absent */
    char *status; /* "Success" | "Failure" */
    char *reason; /* "NotFound", "Conflict", ... */
    char *message;
    char *details_name;
    char *details_kind;
    char *details_group;
    char *cause_field; /* first details.causes[] entry, if any */
    char *cause_message;
    long retry_after_s; /* details.retryAfterSeconds, or -1 */
} cs_kube_status_t;

/* Decodes a Status object from untrusted bytes (bounded, fuzzed). A body
 * that is JSON but not {"kind":"Status"} is CS_EPARSE. */
int cs_kube_status_decode(const char *body, size_t len, cs_kube_status_t *out, cs_err_t *err);
void cs_kube_status_free(cs_kube_status_t *st);

/* The code a failed answer maps to: 404 CS_ENOTFOUND; 409 CS_ECONFLICT
 * (reason AlreadyExists: CS_EEXISTS); 410 CS_EGONE; 400/422 CS_EINVAL;
 * 401/403 CS_EPERM; 429 CS_EBUSY; 504 CS_ETIMEOUT; other 5xx
 * CS_EUNAVAILABLE; anything else CS_EKUBE. */
int cs_kube_code_for_status(long http_status, const char *reason);

/* Turns a non-2xx answer into an error: decodes the body as a Status when
 * it is one (else keeps a printable prefix of it, e.g. the plain-text 429)
 * and fills err with "VERB RESOURCE \"NS/NAME\": CODE REASON: MESSAGE" plus
 * a hint where one helps (401, 403). verb is "GET", "LIST", "WATCH",
 * "CREATE", "UPDATE", "PATCH", "DELETE". Returns the code of
 * cs_kube_code_for_status. body may be NULL. */
int cs_kube_error_from_response(const char *verb, const cs_kube_resource_t *res, const char *ns, const char *name,
                                long http_status, const char *body, size_t len, cs_err_t *err);

/* ---- time ---------------------------------------------------------------- */

/* ---- streamed object decoding ------------------------------------------- */

/* One JSON token inside one object of a list or a watch stream, with its
 * position relative to that object. depth 0 is the object itself
 * (its MAP_START / MAP_END), 1 its fields ("metadata", "spec", ...). */
typedef struct cs_kube_field_s {
    const cs_jstream_event_t *ev; /* the token; ev->key is the key at `depth` */
    size_t depth;                 /* relative to the object */
    cs_jstream_t *js;             /* for cs_jstream_fail and cs_jstream_key_at */
    size_t base;                  /* absolute depth of the object in the stream */
} cs_kube_field_t;

/* Key at relative depth d (1..f->depth) of f's position, NULL where that
 * level is an array element. */
const char *cs_kube_field_key(const cs_kube_field_t *f, size_t d);
/* True when f is exactly at path[0..n) (relative depth n); a NULL path
 * element matches any array index. */
bool cs_kube_field_path_is(const cs_kube_field_t *f, const char *const *path, size_t n);
/* True when f lies strictly below path[0..n). */
bool cs_kube_field_under(const cs_kube_field_t *f, const char *const *path, size_t n);
/* True when f's own key equals key (length-checked). */
bool cs_kube_field_key_is(const cs_kube_field_t *f, const char *key);

#define CS_KUBE__PATH(...) ((const char *const[]){__VA_ARGS__})
#define CS_KUBE__PATHN(...) (sizeof(CS_KUBE__PATH(__VA_ARGS__)) / sizeof(const char *))
/* CS_KUBE_AT(f, "metadata", "name") */
#define CS_KUBE_AT(f, ...) cs_kube_field_path_is((f), CS_KUBE__PATH(__VA_ARGS__), CS_KUBE__PATHN(__VA_ARGS__))
#define CS_KUBE_UNDER(f, ...) cs_kube_field_under((f), CS_KUBE__PATH(__VA_ARGS__), CS_KUBE__PATHN(__VA_ARGS__))

/* Returned by a decoder's `field` for a MAP_START or ARRAY_START: the
 * decoder does not want that container's content (metadata.managedFields,
 * say), so none of its tokens are passed on, down to its matching END,
 * which is passed. It is still parsed (and bounded). */
#define CS_KUBE_SKIP 1

/* A projection of one object: the caller's compact struct, built from the
 * tokens of the object as they arrive. `create` makes an empty one (NULL on
 * allocation failure); `field` receives every token of the object, in order
 * (return 0, CS_KUBE_SKIP, or a negative CS_E* code to fail the whole decode);
 * `finish` (optional) runs after the object's last token and may reject
 * it; `destroy` frees one. ctx is passed to each. */
typedef struct cs_kube_decoder_s {
    void *(*create)(void *ctx);
    int (*field)(void *ctx, void *obj, const cs_kube_field_t *f);
    int (*finish)(void *ctx, void *obj, cs_err_t *err);
    void (*destroy)(void *ctx, void *obj);
    void *ctx;
} cs_kube_decoder_t;

/* The generic ObjectMeta projection. Owned strings (NULL when absent). */
typedef struct cs_kube_meta_s {
    char *name;
    char *namespace;
    char *uid;
    char *resource_version;
    int64_t generation;
    int64_t creation_timestamp; /* Unix seconds; 0 = absent */
    int64_t deletion_timestamp; /* Unix seconds; 0 = not being deleted */
    cs_labels_t labels;
    cs_labels_t annotations;
} cs_kube_meta_t;

/* Feeds one token to a meta projection: tokens under "metadata" fill it,
 * others are ignored. Lets a custom decoder keep metadata by calling this
 * from its `field`. Bounded by the stream's limits; CS_ENOMEM on allocation
 * failure, CS_EPARSE for a wrongly typed metadata field. */
int cs_kube_meta_field(cs_kube_meta_t *m, const cs_kube_field_t *f);
/* Frees the contents and zeroes m. NULL is a no-op. */
void cs_kube_meta_free(cs_kube_meta_t *m);
/* A decoder whose objects are malloc'd cs_kube_meta_t. */
cs_kube_decoder_t cs_kube_meta_decoder(void);

/* ---- client ------------------------------------------------------------- */

typedef struct cs_kube_client_s cs_kube_client_t;

typedef struct cs_kube_client_options_s {
    long timeout_ms;           /* every request but watches; 0 = 30000 */
    long connect_timeout_ms;   /* 0 = 5000 */
    size_t max_response_bytes; /* buffered bodies (objects, errors); 0 = 16 MiB */
    size_t max_json_depth;     /* 0 = 64 */
    size_t max_string_bytes;   /* longest JSON string in a stream; 0 = 1 MiB */
    int max_retries;           /* 429 / 5xx retries; 0 = 5; negative = none */
    long max_retry_wait_ms;    /* cap on one Retry-After wait; 0 = 10000 */
    int64_t token_max_age_ns;  /* token file re-read age; 0 = CS_KUBE_TOKEN_MAX_AGE_NS */
    const char *user_agent;    /* NULL = "couchestor/kube" */
} cs_kube_client_options_t;

/* Creates a client for cfg (copied: cfg may be freed afterwards). opts may
 * be NULL. Reads the token file once now (CS_EIO/CS_ENOTFOUND naming the
 * file when it cannot). Free with cs_kube_client_free. */
int cs_kube_client_new(const cs_kube_config_t *cfg, const cs_kube_client_options_t *opts, cs_kube_client_t **out,
                       cs_err_t *err);
/* The caller must have stopped every informer, elector and recorder that
 * uses c. NULL is a no-op. */
void cs_kube_client_free(cs_kube_client_t *c);
/* The configuration's default namespace. Valid while c lives. */
const char *cs_kube_client_namespace(const cs_kube_client_t *c);
const char *cs_kube_client_server(const cs_kube_client_t *c);

/* ---- REST verbs ---------------------------------------------------------
 * Each returns 0 or a negative code with err filled as
 * cs_kube_error_from_response describes (or a transport error:
 * CS_EUNAVAILABLE, CS_ETIMEOUT, CS_ETOOBIG). 429 and 5xx answers (and
 * connection failures of reads) are retried up to max_retries times,
 * honouring Retry-After; a POST is retried after a 5xx only when the server
 * sent Retry-After. Where `out` is not NULL it receives the answer's object
 * (caller owns; json_decref). ns is ignored for cluster-scoped resources. */

int cs_kube_get(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name, json_t **out,
                cs_err_t *err);
/* GET of a raw API path with its query string ("/api/v1/namespaces/x/
 * services?labelSelector=app%3Dapi-rest"); the answer (a bounded buffered
 * body) is decoded into *out. For the few reads that are not one object. */
int cs_kube_get_path(cs_kube_client_t *c, const char *path, json_t **out, cs_err_t *err);
/* POST. obj must not carry metadata.resourceVersion. */
int cs_kube_create(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj, json_t **out,
                   cs_err_t *err);
/* PUT of the whole object; obj must carry metadata.resourceVersion
 * (optimistic concurrency: CS_ECONFLICT when it is stale) — CS_EINVAL
 * without it. The name is taken from obj.metadata.name. */
int cs_kube_update(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj, json_t **out,
                   cs_err_t *err);
/* PUT to the status subresource (spec and metadata changes are ignored by
 * the server; generation does not change). */
int cs_kube_update_status(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj,
                          json_t **out, cs_err_t *err);

typedef enum cs_kube_patch_type {
    CS_KUBE_PATCH_MERGE,     /* application/merge-patch+json (RFC 7386) */
    CS_KUBE_PATCH_JSON,      /* application/json-patch+json (RFC 6902) */
    CS_KUBE_PATCH_STRATEGIC, /* built-in types only; custom resources answer 415 */
} cs_kube_patch_type_t;

/* PATCH. A metadata.resourceVersion inside a merge patch is a precondition
 * (CS_ECONFLICT when stale); wrap such a patch in cs_kube_retry_on_conflict. */
int cs_kube_patch(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                  cs_kube_patch_type_t type, const json_t *patch, json_t **out, cs_err_t *err);
int cs_kube_patch_status(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                         cs_kube_patch_type_t type, const json_t *patch, json_t **out, cs_err_t *err);
/* DELETE with propagationPolicy Background; precondition_rv (may be NULL)
 * makes it conditional. Deleting a missing object is CS_ENOTFOUND. */
int cs_kube_delete(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                   const char *precondition_rv, cs_err_t *err);

/* Runs fn until it returns something other than CS_ECONFLICT, at most
 * `attempts` times (0 = 5), sleeping 10 ms (+10% jitter) between tries as
 * client-go's retry.RetryOnConflict(DefaultRetry) does. fn must re-read the
 * object each time. Returns fn's last result. */
int cs_kube_retry_on_conflict(int attempts, int (*fn)(void *ctx, cs_err_t *err), void *ctx, cs_err_t *err);

/* ---- access reviews ----------------------------------------------------------- */

/* What a SelfSubjectAccessReview asks: may the client's own identity do
 * `verb` on resource (group "" = core) [/subresource] in namespace_ (NULL
 * or "" = all namespaces / cluster-scoped) [named name]? The
 * spec.resourceAttributes of authorization.k8s.io/v1. Strings borrowed. */
typedef struct cs_kube_access_s {
    const char *verb; /* "get", "list", "watch", "create", "update", "patch", "delete" */
    const char *group;
    const char *resource; /* plural: "persistentvolumes" */
    const char *subresource;
    const char *namespace_;
    const char *name;
} cs_kube_access_t;

#define CS_KUBE_ACCESS_TEXT_MAX 256

/* status of a SubjectAccessReview. allowed and denied both false: the
 * authorizers have no opinion, which the API server treats as denied. */
typedef struct cs_kube_access_result_s {
    bool allowed;
    bool denied;                                    /* an authorizer denied explicitly */
    char reason[CS_KUBE_ACCESS_TEXT_MAX];           /* truncated; "" when absent */
    char evaluation_error[CS_KUBE_ACCESS_TEXT_MAX]; /* truncated; "" when absent */
} cs_kube_access_result_t;

/* POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews (every
 * authenticated identity may; nothing is stored) and decodes the answer's
 * status into *out (zeroed on failure). Errors as the REST verbs above. */
int cs_kube_access_review(cs_kube_client_t *c, const cs_kube_access_t *a, cs_kube_access_result_t *out, cs_err_t *err);

/* Decodes the answer of a SelfSubjectAccessReview create (untrusted bytes,
 * bounded, fuzzed: tests/fuzz/fuzz_kube_access.c). Requires a JSON object
 * whose "status" is an object with a boolean "allowed"; "denied" (bool),
 * "reason" and "evaluationError" (strings) are optional; allowed and denied
 * both true is refused (the API forbids it). CS_EPARSE with a message
 * saying what is wrong otherwise. */
int cs_kube_access_review_decode(const char *body, size_t len, cs_kube_access_result_t *out, cs_err_t *err);

/* ---- lists ---------------------------------------------------------------- */

typedef struct cs_kube_list_options_s {
    const char *label_selector;   /* query form ("a=b,c in (x)"), or NULL */
    const char *field_selector;   /* "metadata.name=x", or NULL */
    size_t limit;                 /* page size; 0 = 500 */
    const char *resource_version; /* NULL = latest (quorum read) */
} cs_kube_list_options_t;

/* Receives one decoded item and owns it from then on (free it with the
 * decoder's destroy). Return 0, or a negative code to stop the list. */
typedef int (*cs_kube_item_fn)(void *ctx, void *obj);

/* The items of one or more lists, kept as decoded: cs_kube_objects_add is
 * a cs_kube_item_fn (ctx: the cs_kube_objects_t). Start zeroed; free with
 * cs_kube_objects_free and the decoder that made the items. */
typedef struct cs_kube_objects_s {
    void **items;
    size_t n, cap;
} cs_kube_objects_t;
int cs_kube_objects_add(void *ctx, void *obj);
/* Destroys every item with dec and frees the array; zeroes o. NULL is a no-op. */
void cs_kube_objects_free(cs_kube_objects_t *o, const cs_kube_decoder_t *dec);

/* Lists a collection page by page (limit/continue), decoding every page as
 * it arrives with dec, so no page is ever buffered whole. ns NULL = all
 * namespaces. opts may be NULL. On success *rv_out (if not NULL) receives
 * the list's resourceVersion (malloc'd, caller frees). Items already
 * delivered stay delivered when a later page fails; CS_EGONE means the
 * continue token expired: list again from the start. */
int cs_kube_list(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const cs_kube_list_options_t *opts,
                 const cs_kube_decoder_t *dec, cs_kube_item_fn item_fn, void *item_ctx, char **rv_out, cs_err_t *err);

/* A parser for one list page, for callers that feed bytes themselves
 * (tests, fuzzing, benchmarks). Items go to item_fn as decoded. */
typedef struct cs_kube_list_parser_s cs_kube_list_parser_t;
int cs_kube_list_parser_new(const cs_kube_decoder_t *dec, cs_kube_item_fn item_fn, void *item_ctx, size_t max_depth,
                            size_t max_string, cs_kube_list_parser_t **out);
int cs_kube_list_parser_feed(cs_kube_list_parser_t *p, const char *data, size_t len, cs_err_t *err);
int cs_kube_list_parser_finish(cs_kube_list_parser_t *p, cs_err_t *err);
/* metadata.resourceVersion / metadata.continue of the page ("" when absent);
 * valid until the parser is freed. */
const char *cs_kube_list_parser_resource_version(const cs_kube_list_parser_t *p);
const char *cs_kube_list_parser_continue(const cs_kube_list_parser_t *p);
size_t cs_kube_list_parser_items(const cs_kube_list_parser_t *p);
void cs_kube_list_parser_free(cs_kube_list_parser_t *p);

#endif
