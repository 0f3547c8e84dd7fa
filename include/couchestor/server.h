/* server.h: the operator's HTTP endpoints: /metrics (Prometheus text
 * format) on one address, /healthz (the process is alive) and /readyz (a
 * readiness callback: caches synced and API reachable) on another, or both
 * on one when the addresses are equal. libmicrohttpd, its own threads. */
#ifndef COUCHESTOR_SERVER_H
#define COUCHESTOR_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "couchestor/error.h"
#include "couchestor/metrics.h"

typedef struct cs_server_s cs_server_t;

/* Fills reason (at most len bytes) and returns true when ready. Called from
 * the server's threads: must be thread-safe and must not block. */
typedef bool (*cs_ready_fn)(void *ctx, char *reason, size_t len);

typedef struct cs_server_options_s {
    const char *metrics_addr; /* host:port; port 0 = any free port */
    const char *health_addr;
    cs_metrics_t *metrics; /* borrowed; must outlive the server */
    cs_ready_fn ready;
    void *ready_ctx;
} cs_server_options_t;

int cs_server_start(const cs_server_options_t *opts, cs_server_t **out, cs_err_t *err);
/* The bound ports (useful with port 0). */
int cs_server_metrics_port(const cs_server_t *s);
int cs_server_health_port(const cs_server_t *s);
/* Stops listening and frees. NULL is a no-op. */
void cs_server_stop(cs_server_t *s);

#endif
