/* internal.h: what the files of the kube module share: the client's
 * internals, the request loop, sleep, a PRNG, and a string-keyed hash map. */
#ifndef COUCHESTOR_KUBE_INTERNAL_H
#define COUCHESTOR_KUBE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/http.h"
#include "couchestor/kube.h"

/* Idle HTTP connections kept for reuse by one client. */
#define CS__KUBE_POOL_MAX 8
/* Bytes of a non-JSON error body quoted in messages. */
#define CS__KUBE_BODY_QUOTE 160

struct cs_kube_client_s {
    cs_kube_config_t cfg;          /* owned copy */
    cs_kube_client_options_t opts; /* with defaults resolved; user_agent owned */
    cs_http_options_t hopts;       /* strings borrowed from cfg/opts */
    pthread_mutex_t lock;          /* pool and token; never held across I/O */
    cs_http_client_t *pool[CS__KUBE_POOL_MAX];
    uint64_t pool_gen[CS__KUBE_POOL_MAX];
    size_t pool_len;
    char *token;           /* current bearer token (owned) */
    uint64_t token_gen;    /* bumped when the token text changes */
    int64_t token_read_ns; /* monotonic time of the last file read */
    bool token_stale;      /* a 401 asked for a re-read */
};

/* One API request. `verb`, res, ns and name are for error messages. */
typedef struct cs__kube_req_s {
    const char *verb;   /* "GET", "LIST", "WATCH", "CREATE", ... */
    const char *method; /* HTTP method */
    const cs_kube_resource_t *res;
    const char *ns;
    const char *name;
    const char *path; /* with query string */
    const char *content_type;
    const char *body;
    size_t body_len;
    long timeout_ms;      /* 0 = client default; -1 = none (watch) */
    cs_http_sink_fn sink; /* stream 2xx bodies here */
    void *sink_ctx;
    int (*reset)(void *ctx); /* before a retry of a streamed request */
    const atomic_int *stop;
    int max_retries; /* -1 = none; 0 = client default */
} cs__kube_req_t;

/* Performs r with token refresh and bounded retries. 0 for a 2xx answer
 * (resp filled; the caller frees it); otherwise a negative code with err
 * filled (resp still to be freed). */
int cs__kube_do(cs_kube_client_t *c, const cs__kube_req_t *r, cs_http_response_t *resp, cs_err_t *err);
/* A request whose 2xx body is one small object: parsed into *out (may be
 * NULL to discard). */
int cs__kube_do_json(cs_kube_client_t *c, const cs__kube_req_t *r, json_t **out, cs_err_t *err);

/* ---- sleep, condition variables, randomness -------------------------------
 * Clocks are couchestor/clock.h. */
/* Sleeps ns, waking early (returns true) when *stop becomes non-zero. */
bool cs__kube_sleep(int64_t ns, const atomic_int *stop);
/* Initialises cond on CLOCK_MONOTONIC: its timed waits take deadlines from
 * cs_clock_deadline(CLOCK_MONOTONIC, ns). */
void cs__kube_condattr_mono(pthread_cond_t *cond);

typedef struct cs__kube_rand_s {
    uint64_t s;
} cs__kube_rand_t;
void cs__kube_rand_seed(cs__kube_rand_t *r, uint64_t salt);
uint64_t cs__kube_rand_next(cs__kube_rand_t *r);
/* Uniform in [0, 1). */
double cs__kube_rand_unit(cs__kube_rand_t *r);

/* ---- strings -------------------------------------------------------------- */
char *cs__kube_strdup(const char *s);
char *cs__kube_strndup(const char *s, size_t n);
/* Replaces *dst by a copy of (s, n); false on allocation failure. */
bool cs__kube_set_strn(char **dst, const char *s, size_t n);
/* Printable copy of untrusted bytes for messages (control bytes -> '?'). */
const char *cs__kube_printable(const char *s, size_t n, char *buf, size_t len);
/* "plural.group" ("pods" for core). */
const char *cs__kube_res_name(const cs_kube_resource_t *res, char *buf, size_t len);
/* Appends "&k=escaped(v)" (or "?" for the first) to buf; false when short. */
bool cs__kube_query_add(char *buf, size_t len, const char *k, const char *v);

/* ---- string-keyed hash map ------------------------------------------------
 * Keys are borrowed from the values (the caller keeps them alive as long as
 * the entry exists). Not thread-safe: the owner locks. */
typedef struct cs__kube_map_node_s {
    const char *key;
    uint64_t hash;
    void *value;
    struct cs__kube_map_node_s *next;
} cs__kube_map_node_t;

typedef struct cs__kube_map_s {
    cs__kube_map_node_t **buckets;
    size_t nbuckets;
    size_t count;
} cs__kube_map_t;

uint64_t cs__kube_hash(const char *s);
int cs__kube_map_init(cs__kube_map_t *m, size_t hint);
void *cs__kube_map_get(const cs__kube_map_t *m, const char *key);
/* Inserts or replaces; *old (may be NULL) receives the replaced value.
 * CS_ENOMEM leaves the map unchanged. */
int cs__kube_map_put(cs__kube_map_t *m, const char *key, void *value, void **old);
/* Removes and returns the value, or NULL. */
void *cs__kube_map_remove(cs__kube_map_t *m, const char *key);
/* Calls fn for every value; fn must not modify the map. */
void cs__kube_map_each(const cs__kube_map_t *m, void (*fn)(void *ctx, void *value), void *ctx);
/* Frees the table (not the values) and zeroes m. */
void cs__kube_map_free(cs__kube_map_t *m);

/* ---- streamed decoding ------------------------------------------------------
 * An object being decoded inside a larger stream: tracks its identity
 * (metadata name/namespace/resourceVersion, bounded) beside the caller's
 * projection. */
#define CS__KUBE_NAME_MAX 253
#define CS__KUBE_NS_MAX 63
#define CS__KUBE_RV_MAX 127

typedef struct cs__kube_ident_s {
    char name[CS__KUBE_NAME_MAX + 1];
    char ns[CS__KUBE_NS_MAX + 1];
    char rv[CS__KUBE_RV_MAX + 1];
    bool has_name, has_ns, has_rv;
} cs__kube_ident_t;

/* Feeds a token of the object to the identity; CS_EPARSE (via js) when a
 * field is of the wrong type or too long. */
int cs__kube_ident_field(cs__kube_ident_t *id, const cs_kube_field_t *f, cs_jstream_t *js);

/* Status tokens (ERROR watch events): code, reason, message. */
typedef struct cs__kube_status_acc_s {
    long code;
    char reason[64];
    char message[256];
} cs__kube_status_acc_t;
void cs__kube_status_field(cs__kube_status_acc_t *st, const cs_kube_field_t *f);

#endif
