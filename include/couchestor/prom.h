/* prom.h: Prometheus query client, the seed's MetricsWatcher (LLD 1.2): health
 * check, instant queries, per-volume IOPS with a TTL cache and fallback
 * metrics, and the batch form that reads every volume's IOPS in one query.
 *
 * IOPS of a volume is the sum of the per-second rates of one "metric set",
 * a list of counters ("volume_num_read_ops+volume_num_write_ops", the real
 * Mayastor >= 2.6 names), over a window, per value of one label ("pv_name",
 * whose value is "pvc-<volume uuid>"). When a volume has no series in the
 * primary set, the fallback sets are tried in order. A volume without a
 * sample is UNKNOWN, never zero, and so is a volume whose series is younger
 * than most of the window (rate() would under-read it): see
 * cs_prom_iops_state_t.
 *
 * Responses are decoded as they arrive (jstream) into a compact map
 * label value -> value; no JSON tree is built. Thread safety: a cs_prom_t may
 * be used from several threads at once (it keeps a small pool of HTTP
 * connections and guards its cache; no lock is held across a request). */
#ifndef COUCHESTOR_PROM_H
#define COUCHESTOR_PROM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

/* Defaults (the real Mayastor metrics exporter, reference mayastor.md 5). */
#define CS_PROM_DEFAULT_URL "http://prometheus.monitoring.svc.cluster.local:9090"
#define CS_PROM_DEFAULT_METRICS "volume_num_read_ops+volume_num_write_ops"
#define CS_PROM_DEFAULT_LABEL "pv_name"
#define CS_PROM_DEFAULT_WINDOW_NS (INT64_C(5) * 60 * 1000000000)
#define CS_PROM_DEFAULT_CACHE_TTL_NS (INT64_C(30) * 1000000000)
#define CS_PROM_DEFAULT_TIMEOUT_MS 10000L
#define CS_PROM_DEFAULT_MAX_SERIES ((size_t)1000000)
#define CS_PROM_DEFAULT_CACHE_MAX ((size_t)200000)
/* Share of the window a volume's series must cover before its IOPS is known. */
#define CS_PROM_DEFAULT_MIN_COVERAGE 0.8

/* Metric sets: at most this many counters in one set, and at most this many
 * sets (primary + fallbacks). */
#define CS_PROM_MAX_SET_METRICS 8
#define CS_PROM_MAX_SETS 8
/* Longest PromQL this client builds or sends. */
#define CS_PROM_MAX_QUERY 16384

/* ------------------------------------------------------------------------ */
/* Options                                                                   */

/* What the volume label's value is, for a Kubernetes PV: its name
 * ("pvc-<uuid>", Mayastor's exporter) or its CSI volume handle (for
 * Mayastor the bare volume uuid, as some exporters and recording rules
 * carry). The client only stores it; the caller picks the string. */
typedef enum cs_prom_volume_key {
    CS_PROM_KEY_PV_NAME = 0,
    CS_PROM_KEY_VOLUME_HANDLE,
} cs_prom_volume_key_t;

/* "pv-name", "volume-handle". */
const char *cs_prom_volume_key_name(cs_prom_volume_key_t k);
/* Parses "pv-name" or "volume-handle"; CS_EINVAL naming both otherwise. */
int cs_prom_volume_key_parse(const char *text, cs_prom_volume_key_t *out, cs_err_t *err);

/* Plain options; strings are borrowed only during cs_prom_new (copied). */
typedef struct cs_prom_options_s {
    const char *url; /* base URL of Prometheus (a path prefix is kept:
                                     "https://proxy/prometheus"); default CS_PROM_DEFAULT_URL */
    /* Auth and TLS, for Prometheus behind a proxy. All optional. */
    const char *bearer_token; /* "Authorization: Bearer ..." */
    const char *basic_user;   /* basic auth user; with basic_password */
    const char *basic_password;
    const char *ca_file;       /* PEM bundle to verify https:// */
    bool insecure_skip_verify; /* do not verify the server certificate */
    long timeout_ms;           /* per request, also sent as the query's `timeout`;
                                     default 10000 */
    long connect_timeout_ms;   /* default 3000 */

    /* IOPS. */
    const char *metrics;             /* primary metric set: counters joined by '+';
                                     default CS_PROM_DEFAULT_METRICS */
    const char *fallbacks;           /* fallback sets in order, separated by ','
                                     ("a_ops+b_ops,c_ops"); NULL or "" = none (default) */
    const char *label;               /* label naming the volume; default "pv_name" */
    const char *selector;            /* extra matchers ANDed into every selector, e.g.
                                     `job="mayastor",namespace="mayastor"`; NULL = none */
    int64_t window_ns;               /* rate() window when a call passes 0; default 5m.
                                     Use >= 4 scrape intervals. */
    double min_coverage;             /* share of the window a volume's series must
                                     cover (a sample at now - min_coverage*w, within
                                     Prometheus' 5m lookback) before its IOPS is KNOWN; until then it is
                                     YOUNG. 0 = no check; [0, 1); default 0.8 */
    cs_prom_volume_key_t volume_key; /* what the label's value is; default PV name */
    int64_t cache_ttl_ns;            /* per-volume cache lifetime; 0 = no cache; default 30s */
    size_t cache_max_entries;        /* bound of the cache; default 200,000 */
    size_t max_series;               /* most series accepted in one response; default 1,000,000 */

    /* Clock for the cache (monotonic nanoseconds); NULL = CLOCK_MONOTONIC.
     * Tests inject one. */
    int64_t (*now_ns)(void *ctx);
    void *now_ctx;
    /* When set non-zero (e.g. on shutdown), requests in flight abort with
     * CS_ECANCELED. Must outlive the client. */
    const atomic_int *stop;
} cs_prom_options_t;

/* Fills opts with the defaults above. */
void cs_prom_options_default(cs_prom_options_t *opts);
/* Checks the options without connecting: URL scheme, metric and label name
 * syntax, the selector's quoting, window >= 1ms, limits. Names the bad field
 * in err ("prometheus metrics: \"volume-ops\" is not a valid metric name"). */
int cs_prom_options_validate(const cs_prom_options_t *opts, cs_err_t *err);

/* ------------------------------------------------------------------------ */
/* Results: a compact map label value -> sample value                        */

/* Label value -> value, in the order first seen. Series with the same label
 * value are summed (e.g. one volume reported by two nodes after its target
 * moved). Keys are copied into one arena; ~40 bytes per entry. */
typedef struct cs_prom_vector_s cs_prom_vector_t;

size_t cs_prom_vector_count(const cs_prom_vector_t *v);
/* 0 and *value when key is present; CS_ENOTFOUND otherwise. NULL v = empty. */
int cs_prom_vector_get(const cs_prom_vector_t *v, const char *key, double *value);
/* Entry i (0..count-1) in insertion order; false past the end. *key is
 * borrowed from v. */
bool cs_prom_vector_at(const cs_prom_vector_t *v, size_t i, const char **key, double *value);
void cs_prom_vector_free(cs_prom_vector_t *v);

typedef enum cs_prom_result_type {
    CS_PROM_RESULT_NONE = 0, /* not decoded (an error) */
    CS_PROM_RESULT_VECTOR,
    CS_PROM_RESULT_SCALAR,
    CS_PROM_RESULT_MATRIX, /* recognised, values not kept (use instant queries) */
    CS_PROM_RESULT_STRING, /* recognised, value not kept */
} cs_prom_result_type_t;

/* "vector", "scalar", "matrix", "string", "none". */
const char *cs_prom_result_type_name(cs_prom_result_type_t t);

#define CS_PROM_WARNING_MAX 256

/* A decoded query result. Caller-allocated; free the contents with
 * cs_prom_result_free. */
typedef struct cs_prom_result_s {
    cs_prom_result_type_t type;
    cs_prom_vector_t *vector; /* VECTOR: key label value -> value; never NULL for VECTOR */
    size_t series;            /* VECTOR/MATRIX: series in the result */
    size_t unlabeled;         /* VECTOR: series without the key label (not in vector);
                                   their values are summed into unlabeled_sum */
    double unlabeled_sum;
    double scalar;                     /* SCALAR: the value (NaN/+Inf/-Inf as doubles) */
    double time;                       /* SCALAR, or VECTOR's last sample: unix seconds */
    size_t warning_count;              /* "warnings" of the reply */
    char warning[CS_PROM_WARNING_MAX]; /* the first warning, truncated */
} cs_prom_result_t;

/* Frees the contents and leaves the result empty. NULL is a no-op. */
void cs_prom_result_free(cs_prom_result_t *r);

/* ------------------------------------------------------------------------ */
/* Client                                                                    */

typedef struct cs_prom_s cs_prom_t;

/* Validates and copies the options. Does not connect. Free with cs_prom_free. */
int cs_prom_new(const cs_prom_options_t *opts, cs_prom_t **out, cs_err_t *err);
/* NULL is a no-op. No request may be in flight. */
void cs_prom_free(cs_prom_t *p);
const char *cs_prom_url(const cs_prom_t *p);

/* GET /-/healthy. 0 on HTTP 200; CS_EPROM_CONNECTION when unreachable or
 * any other status (with the status and the start of the body). */
int cs_prom_health(cs_prom_t *p, cs_err_t *err);
/* GET /-/ready (200 once the TSDB is loaded); errors as cs_prom_health. */
int cs_prom_ready(cs_prom_t *p, cs_err_t *err);

/* Instant query: POST /api/v1/query with a form body (query, timeout).
 * key_label names the label whose value keys out->vector (NULL = none: every
 * series counts as unlabeled). On success out holds the result (free it);
 * on failure out is empty and the code is
 *   CS_EPROM_CONNECTION  Prometheus unreachable, timed out, or a gateway
 *                        (502/503/504) reply that is not Prometheus JSON;
 *   CS_EPROM_QUERY       Prometheus refused or failed the query: its HTTP
 *                        code, errorType and error are in the message, or
 *                        a non-JSON reply (404 page, 401 from a proxy);
 *   CS_EPROM_RESPONSE_PARSE  a 2xx reply that is not a valid query result;
 *   CS_ECANCELED         opts.stop was raised. */
int cs_prom_query(cs_prom_t *p, const char *promql, const char *key_label, cs_prom_result_t *out, cs_err_t *err);

/* ------------------------------------------------------------------------ */
/* IOPS                                                                      */

typedef enum cs_prom_iops_state {
    CS_PROM_IOPS_KNOWN = 0,   /* iops holds the rate */
    CS_PROM_IOPS_NO_DATA,     /* no series in any metric set: unknown, not zero */
    CS_PROM_IOPS_INVALID,     /* the value is NaN, infinite or negative: unknown */
    CS_PROM_IOPS_UNAVAILABLE, /* the query failed (Prometheus down, bad query): unknown */
    CS_PROM_IOPS_YOUNG,       /* a series, but it does not cover min_coverage of the
                                 window yet (new volume, fresh Prometheus): rate()
                                 would under-read it, so unknown */
} cs_prom_iops_state_t;

/* "known", "no-data", "invalid", "unavailable", "young". */
const char *cs_prom_iops_state_name(cs_prom_iops_state_t s);

typedef struct cs_prom_iops_s {
    cs_prom_iops_state_t state;
    double iops;    /* KNOWN: operations per second; NaN in every other state */
    uint8_t source; /* KNOWN: 0 = primary metric set, k = fallback k */
    bool cached;    /* answered from the cache */
} cs_prom_iops_t;

/* True only for KNOWN: the one state a tiering decision may use. */
static inline bool cs_prom_iops_known(const cs_prom_iops_t *v)
{
    return v->state == CS_PROM_IOPS_KNOWN;
}

/* IOPS of one volume (volume = the label value, "pvc-<uuid>"), as the seed
 * does it: cache (TTL) first, then the primary set
 * `sum by (L) (rate(m1{L="id"}[w])) + sum by (L) (rate(m2{L="id"}[w]))` and
 * its coverage (see cs_prom_volumes_iops_report), then each
 * fallback set until one has a series. window_ns 0 = the default window.
 * Returns 0 with out KNOWN, NO_DATA or INVALID; a negative code (see
 * cs_prom_query) with out UNAVAILABLE when a query failed. NO_DATA and
 * INVALID are cached too, so a volume without metrics costs one query per
 * TTL. */
int cs_prom_volume_iops(cs_prom_t *p, const char *volume, int64_t window_ns, cs_prom_iops_t *out, cs_err_t *err);

/* What one batch saw, for reports ("fallback set 1 in use", "the primary
 * set matches no series") and for logging an outage once. */
typedef struct cs_prom_batch_s {
    size_t sets;                       /* metric sets configured */
    bool asked[CS_PROM_MAX_SETS];      /* the set's query was answered */
    size_t series[CS_PROM_MAX_SETS];   /* asked: series in its answer (all volumes
                                          Prometheus has, not only these); 0 = the
                                          set matches no series at all */
    size_t answered[CS_PROM_MAX_SETS]; /* of volumes[], how many this set answered */
    size_t young;                      /* volumes[] left YOUNG */
    bool failed;                       /* a query failed (the code returned) */
    bool outage_begins;                /* this call's failure is the first after a
                                          success (or since the client was made) */
    bool outage_ends;                  /* this call succeeded after a failure */
} cs_prom_batch_t;

/* IOPS of many volumes with two queries per metric set, whatever n is:
 * every volume of a policy. The batch never answers from the cache: a
 * decision must rest on a query answered now, not on one that outlived an
 * outage (a failure also empties the cache). The primary set is asked for
 * ALL volumes at once
 * (`sum by (L) (rate(m1[w])) + sum by (L) (rate(m2[w]))`) with its coverage
 * (`count by (L) (m1 offset cw)`: the volumes whose series already had a
 * sample at now-cw, c = min_coverage); a volume in the first answer and not
 * the second is YOUNG. A volume found covered stays covered for (1-c)w
 * (remembered while Prometheus keeps its start time, /api/v1/status/
 * runtimeinfo), so the coverage query asks only for the others, by name
 * when they are few (docs/prometheus.md). Then each fallback set for the
 * volumes still without a series. Returned series refresh the cache of
 * cs_prom_volume_iops. out[i] answers volumes[i]. Returns 0 when every
 * query succeeded; on a failed query the volumes it was for are
 * UNAVAILABLE and the code is returned (volumes already answered keep
 * their state). info (NULL = not wanted) says what each set did. */
int cs_prom_volumes_iops_report(cs_prom_t *p, const char *const *volumes, size_t n, int64_t window_ns,
                                cs_prom_iops_t *out, cs_prom_batch_t *info, cs_err_t *err);
/* cs_prom_volumes_iops_report without the report. */
int cs_prom_volumes_iops(cs_prom_t *p, const char *const *volumes, size_t n, int64_t window_ns, cs_prom_iops_t *out,
                         cs_err_t *err);

/* The raw batch: one query of metric set `set` (0 = primary, k = fallback k)
 * for all volumes; *out maps label value -> IOPS (free with
 * cs_prom_vector_free). No coverage check; does not use or fill the cache. */
int cs_prom_iops_all(cs_prom_t *p, size_t set, int64_t window_ns, cs_prom_vector_t **out, cs_err_t *err);

/* Number of metric sets (1 + fallbacks). */
size_t cs_prom_set_count(const cs_prom_t *p);
/* Metric set `set` as configured ("a_ops+b_ops") into buf; "" past the end. */
const char *cs_prom_set_text(const cs_prom_t *p, size_t set, char *buf, size_t len);
/* The options' volume_key and min_coverage. */
cs_prom_volume_key_t cs_prom_volume_key(const cs_prom_t *p);
double cs_prom_min_coverage(const cs_prom_t *p);

/* Builds the PromQL of metric set `set` into buf: for one volume when
 * volume is non-NULL, for all volumes otherwise. CS_ETOOBIG when it does not
 * fit; CS_EINVAL for a bad set. */
int cs_prom_iops_promql(const cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, char *buf, size_t len,
                        cs_err_t *err);
/* The coverage query of set `set` (see cs_prom_volumes_iops_report); ""
 * when min_coverage is 0. Errors as cs_prom_iops_promql. */
int cs_prom_coverage_promql(const cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, char *buf,
                            size_t len, cs_err_t *err);

/* Drops every cached value. */
void cs_prom_cache_clear(cs_prom_t *p);

/* ------------------------------------------------------------------------ */
/* Decoding (advanced): bytes from outside the process, bounded and fuzzed.   */

/* Decodes a complete /api/v1/query reply of HTTP status http_status (body
 * need not be NUL-terminated). A non-2xx reply or status "error" gives
 * CS_EPROM_QUERY (or CS_EPROM_CONNECTION for a non-JSON gateway error) with
 * the code, errorType and error in the message; a malformed 2xx gives
 * CS_EPROM_RESPONSE_PARSE. max_series 0 = CS_PROM_DEFAULT_MAX_SERIES.
 * Safe on untrusted input. */
int cs_prom_decode(long http_status, const char *body, size_t len, const char *key_label, size_t max_series,
                   cs_prom_result_t *out, cs_err_t *err);

/* The streaming form used for 2xx bodies: feed chunks as they arrive, then
 * finish. key_label is copied. */
typedef struct cs_prom_decoder_s cs_prom_decoder_t;
int cs_prom_decoder_new(const char *key_label, size_t max_series, cs_prom_decoder_t **out, cs_err_t *err);
int cs_prom_decoder_feed(cs_prom_decoder_t *d, const char *data, size_t len, cs_err_t *err);
/* Completes the document and moves the result into out (caller frees). */
int cs_prom_decoder_finish(cs_prom_decoder_t *d, cs_prom_result_t *out, cs_err_t *err);
void cs_prom_decoder_free(cs_prom_decoder_t *d);

/* Parses a Prometheus sample value ("1", "0.68", "NaN", "+Inf", "-Inf",
 * "1e+06") independently of the process locale. 0 or CS_EPARSE. */
int cs_prom_parse_value(const char *text, size_t len, double *out);

/* Appends a PromQL double-quoted string literal for s (escaping \ " and
 * control characters) to buf at *pos; CS_ETOOBIG when it does not fit. */
int cs_prom_quote(const char *s, char *buf, size_t len, size_t *pos);

#endif
