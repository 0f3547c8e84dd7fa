/* internal.h: declarations shared by the files of the prom module. */
#ifndef COUCHESTOR_PROM_INTERNAL_H
#define COUCHESTOR_PROM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/prom.h"

/* vector.c */
cs_prom_vector_t *cs__prom_vector_new(void);
/* Adds value to key (creating it at 0). 0 or CS_ENOMEM / CS_ETOOBIG. */
int cs__prom_vector_add(cs_prom_vector_t *v, const char *key, size_t len, double value);
uint32_t cs__prom_hash(const char *s, size_t len);

/* decode.c: finishes a decoder for a reply of HTTP status http_status. */
int cs__prom_decoder_finish(cs_prom_decoder_t *d, long http_status, cs_prom_result_t *out, cs_err_t *err);
/* Printable, bounded excerpt of an HTTP body for messages. */
const char *cs__prom_snippet(const char *body, size_t len, char *buf, size_t cap);

/* promql.c */
typedef struct cs__prom_set_s {
    size_t count;
    char *names[CS_PROM_MAX_SET_METRICS];
} cs__prom_set_t;

/* Parses "a+b" into set (names malloc'd); what names the option in messages. */
int cs__prom_set_parse(const char *text, size_t len, const char *what, cs__prom_set_t *set, cs_err_t *err);
void cs__prom_set_free(cs__prom_set_t *set);
/* Splits "a+b,c" into sets; *count receives how many. */
int cs__prom_sets_parse(const char *text, const char *what, cs__prom_set_t *sets, size_t max, size_t *count,
                        cs_err_t *err);
int cs__prom_selector_check(const char *sel, cs_err_t *err);
int cs__prom_build_iops(const cs__prom_set_t *set, const char *label, const char *selector, const char *volume,
                        int64_t window_ns, char *buf, size_t len, cs_err_t *err);
/* The coverage query of set (see cs_prom_volumes_iops_report); "" when
 * coverage is 0. */
int cs__prom_build_coverage(const cs__prom_set_t *set, const char *label, const char *selector, const char *volume,
                            int64_t window_ns, double coverage, char *buf, size_t len, cs_err_t *err);
/* The same for a few volumes at once (label =~ "v1|v2|..."; names escaped
 * for the regular expression). */
int cs__prom_build_coverage_of(const cs__prom_set_t *set, const char *label, const char *selector,
                               const char *const *volumes, size_t n, int64_t window_ns, double coverage, char *buf,
                               size_t len, cs_err_t *err);
int cs__prom_metric_name_ok(const char *s, size_t len);
int cs__prom_label_name_ok(const char *s, size_t len);

/* client.c / iops.c: the client. */
#include <pthread.h>

#include "couchestor/http.h"

typedef struct cs__prom_centry_s {
    char *key; /* NULL = empty slot */
    uint32_t hash;
    cs_prom_iops_state_t state;
    uint8_t source;
    double iops;
    int64_t window_ns;
    int64_t expires_ns;
} cs__prom_centry_t;

struct cs_prom_s {
    char *url;
    char *label;
    char *selector;
    long timeout_ms;
    int64_t window_ns, ttl_ns;
    double min_coverage;
    cs_prom_volume_key_t volume_key;
    /* 1 while the last batch failed: a failure that flips it starts an
     * outage, a success that flips it back ends one (logged once each). */
    atomic_int failing;
    size_t cache_max, max_series;
    int64_t (*now_ns)(void *ctx);
    void *now_ctx;
    const atomic_int *stop;
    size_t set_count;
    cs__prom_set_t sets[CS_PROM_MAX_SETS];

    /* Queries run on several threads at once (each reconcile worker's
     * cs_observe queries on a thread of its own): each borrows a connection. */
    cs_http_pool_t *conns;

    pthread_mutex_t cache_lock;
    cs__prom_centry_t *cache;
    size_t cache_cap, cache_count;
    /* Coverage memo of the batch (under cache_lock): "<window ns>/<volume>"
     * -> when (seconds of cs__prom_now) the coverage query last found the
     * volume covered. Valid for (1 - min_coverage) * window after that, and
     * only while Prometheus keeps the start time it had then (a restart may
     * have lost its data); emptied with the cache on a failure. */
    cs_prom_vector_t *covered;
    char start_time[64];
};

int64_t cs__prom_now(const cs_prom_t *p);
/* Prometheus' start time (GET /api/v1/status/runtimeinfo, "startTime") into
 * out; CS_ENOTFOUND when it cannot be read. */
int cs__prom_start_time(cs_prom_t *p, char *out, size_t len);
void cs__prom_cache_free(cs_prom_t *p);

#endif
