/* http.h: a small HTTP client over libcurl for the cluster clients
 * (Kubernetes, Prometheus, Mayastor): connection reuse, HTTP/2 where the
 * server offers it over TLS, TLS options, bearer/basic auth, a timeout on
 * every request, a response size cap, and streaming of response bodies to a
 * callback (watches, large lists) so that nothing large is buffered.
 *
 * A cs_http_client_t is one connection cache (a curl easy handle): use it
 * from one thread at a time. Threads that need their own (an informer's
 * watch) take one with cs_http_client_clone; a client shared by threads
 * lends connections from a cs_http_pool_t. */
#ifndef COUCHESTOR_HTTP_H
#define COUCHESTOR_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

typedef struct cs_http_client_s cs_http_client_t;

typedef struct cs_http_options_s {
    const char *base_url;         /* "https://10.0.0.1:6443" (no trailing slash needed) */
    const char *ca_file;          /* PEM bundle file, or NULL */
    const char *ca_pem;           /* PEM bundle in memory, or NULL */
    bool insecure_skip_verify;    /* do not verify the server's certificate */
    const char *client_cert_file; /* PEM client certificate (mutual TLS), or NULL */
    const char *client_key_file;
    const char *client_cert_pem; /* the same, in memory */
    const char *client_key_pem;
    const char *bearer_token; /* "Authorization: Bearer ..." or NULL */
    const char *basic_user;   /* basic auth, or NULL */
    const char *basic_password;
    long connect_timeout_ms;   /* 0 = 5000 */
    long timeout_ms;           /* whole-request default; 0 = 30000 */
    size_t max_response_bytes; /* buffered bodies larger than this fail; 0 = 64 MiB */
    const char *user_agent;    /* NULL = "couchestor/<version>" */
} cs_http_options_t;

/* Receives a streamed body chunk; returning non-zero aborts the transfer and
 * cs_http_do returns that value (or CS_ECANCELED when it is positive). */
typedef int (*cs_http_sink_fn)(void *ctx, const char *data, size_t len);

typedef struct cs_http_request_s {
    const char *method;       /* "GET", "POST", "PUT", "PATCH", "DELETE" */
    const char *path;         /* appended to base_url, with its query string */
    const char *content_type; /* of body, or NULL */
    const char *body;         /* request body or NULL */
    size_t body_len;
    long timeout_ms;      /* 0 = client default; -1 = no overall timeout (watches) */
    cs_http_sink_fn sink; /* stream 2xx bodies here instead of buffering */
    void *sink_ctx;
    const atomic_int *stop; /* when set non-zero, the transfer aborts (CS_ECANCELED) */
} cs_http_request_t;

typedef struct cs_http_response_s {
    long status; /* HTTP status code; 0 when no response arrived */
    char *body;  /* NUL-terminated buffered body (always for non-2xx) */
    size_t body_len;
    char content_type[128];
    long retry_after_s; /* Retry-After header in seconds, or -1 */
} cs_http_response_t;

/* Creates a client; copies every option string. Returns CS_EINVAL for a bad
 * base URL and fills err. Free with cs_http_client_free. */
int cs_http_client_new(const cs_http_options_t *opts, cs_http_client_t **out, cs_err_t *err);
/* A new client with the same options (and current token). */
int cs_http_client_clone(const cs_http_client_t *c, cs_http_client_t **out, cs_err_t *err);
void cs_http_client_free(cs_http_client_t *c);
/* Replaces the bearer token (token rotation). */
int cs_http_client_set_token(cs_http_client_t *c, const char *token);
const char *cs_http_client_base_url(const cs_http_client_t *c);

/* Performs one request. Returns 0 when a response arrived, whatever its
 * status (check resp->status); CS_EUNAVAILABLE when the server could not be
 * reached, CS_ETIMEOUT on timeout, CS_ETOOBIG when a buffered body exceeds
 * the cap, CS_ECANCELED on stop, or the sink's error. On a non-2xx status
 * with a sink, the body is buffered (bounded) instead of streamed, so the
 * caller can decode the error. resp must be freed with
 * cs_http_response_free even on failure. */
int cs_http_do(cs_http_client_t *c, const cs_http_request_t *req, cs_http_response_t *resp, cs_err_t *err);
void cs_http_response_free(cs_http_response_t *resp);

/* A deadline for the requests the calling thread makes (CLOCK_MONOTONIC,
 * nanoseconds; 0 = none): while it is set, every request's timeout is
 * min(its own, the time left), and a request that would start at or after
 * it fails with CS_ETIMEOUT without being sent. Returns the previous
 * deadline, to be restored when the bounded section ends. Used for writes
 * that must not outlive a Lease (cs_lease_write_begin): the Kubernetes and
 * Mayastor clients make their requests on the caller's thread, so their
 * writes (and any retries) are bounded without a timeout parameter on each
 * of their calls. Threads that never set one are unaffected. */
int64_t cs_http_thread_deadline(int64_t deadline_mono_ns);

/* ---- connection pool ----
 *
 * A cs_http_pool_t lends connections to the threads that share one API
 * client (Prometheus, Mayastor): a thread takes a connection for a request
 * and gives it back, so each connection is used by one thread at a time and
 * its TCP/TLS session serves the next request. Take, give and stats may be
 * called from any thread at the same time; the pool's lock covers only its
 * own bookkeeping, never a request or the making of a connection. */

/* Idle connections a pool keeps when created with max_idle 0, and the most
 * it accepts. */
#define CS_HTTP_POOL_DEFAULT_IDLE 4
#define CS_HTTP_POOL_MAX_IDLE 64

typedef struct cs_http_pool_s cs_http_pool_t;

typedef struct cs_http_pool_stats_s {
    size_t idle; /* kept for reuse */
    size_t out;  /* taken and not given back yet */
} cs_http_pool_stats_t;

/* Creates a pool whose connections are clients made with opts (copied as by
 * cs_http_client_new: opts and its strings need not outlive the call). It
 * keeps at most max_idle idle connections (0 = CS_HTTP_POOL_DEFAULT_IDLE) and
 * opens no network connection yet. Returns CS_EINVAL when max_idle is above
 * CS_HTTP_POOL_MAX_IDLE, the error of cs_http_client_new for bad options
 * (CS_EINVAL for a bad base URL), or CS_ENOMEM; on failure *out is NULL,
 * err says why and nothing is allocated. Free with cs_http_pool_free. */
int cs_http_pool_new(const cs_http_options_t *opts, size_t max_idle, cs_http_pool_t **out, cs_err_t *err);

/* Lends a connection: the idle one given back last (the likeliest to still
 * be connected), or a new client with the pool's options when none is idle.
 * The pool owns it: use it from the calling thread only and give it back
 * with cs_http_pool_give exactly once, also after a failed request (curl
 * drops a broken connection and reconnects on the next request); never free
 * it with cs_http_client_free. Returns 0, or CS_ENOMEM when a new client
 * cannot be made (*out is NULL, err filled, the pool is unchanged). */
int cs_http_pool_take(cs_http_pool_t *pool, cs_http_client_t **out, cs_err_t *err);

/* Gives back a connection taken from this pool: it is kept idle while fewer
 * than max_idle are, else freed. Cannot fail; NULL is a no-op. After
 * cs_http_pool_free the connection is freed, and the last one given back
 * frees what remains of the pool. */
void cs_http_pool_give(cs_http_pool_t *pool, cs_http_client_t *c);

/* Frees the pool and its idle connections. Connections still out (a request
 * running on another thread) stay valid: the pool's remainder is freed when
 * the last of them is given back, so give back every one, before or after
 * this call. No take may start during or after this call. NULL is a no-op. */
void cs_http_pool_free(cs_http_pool_t *pool);

/* The pool's counts at the time of the call (they may change as soon as it
 * returns). */
void cs_http_pool_stats(cs_http_pool_t *pool, cs_http_pool_stats_t *out);

/* Percent-encodes s for use in a path segment or query value (malloc'd). */
char *cs_http_escape(const char *s);

#endif
