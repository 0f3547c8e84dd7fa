/* cache.h: the tiered cache: L1 (memory, cache_l1.h) over L2 (local disk,
 * cache_l2.h) over L3 (the cold, durable copy: any store behind
 * cs_cache_tier_ops_t; cs_cache_ec_tier_ops adapts the erasure-coded object
 * store of ec_store.h).
 *
 * - get looks in L1, then L2, then L3, and promotes a lower-tier hit
 *   upwards (policy: cs_cache_promote_t).
 * - put writes through to L3 and into L1 (values too large for L1 go to
 *   L2); the key's older copies in L1 and L2 are invalidated first.
 * - an entry evicted from L1 is demoted to L2 (when it is at least L2's
 *   minimum entry size and L2 does not already hold the same bytes).
 * - delete invalidates every tier.
 * - per-tier hit/miss/error counters and get-latency histograms, exported in
 *   the Prometheus text format by cs_cache_metrics_text().
 *
 * Consistency: put, delete and the miss path of get for one key are
 * serialised by a striped key lock, and demotion runs under L1's shard lock,
 * so a get never returns a value older than the last completed put or
 * delete of its key, and a deleted value does not come back from L2 or L3.
 * L1 hits take no key lock.
 *
 * Thread safety: any mix of get/put/delete/stats from any number of threads.
 * Ownership: the cache owns its L1 and L2; the L3 context is borrowed and
 * must outlive the cache. */
#ifndef COUCHESTOR_CACHE_H
#define COUCHESTOR_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "couchestor/cache_l1.h"
#include "couchestor/cache_l2.h"
#include "couchestor/error.h"

/* An L3 store. Every function may be called from many threads at once, but
 * never concurrently for the same key. */
typedef struct cs_cache_tier_ops_s {
    const char *name; /* for messages */
    /* Reads the object into a malloc'd buffer (*data, freed by the caller
     * with free(); non-NULL even when *len is 0). CS_ENOTFOUND when absent,
     * CS_ETOOBIG when larger than max_len. */
    int (*get)(void *ctx, const void *key, size_t klen, size_t max_len, uint8_t **data, size_t *len, cs_err_t *err);
    /* Stores the object durably, replacing any previous one. */
    int (*put)(void *ctx, const void *key, size_t klen, const void *data, size_t len, cs_err_t *err);
    /* Removes the object: 0 or CS_ENOTFOUND. */
    int (*del)(void *ctx, const void *key, size_t klen, cs_err_t *err);
} cs_cache_tier_ops_t;

/* L3 on the erasure-coded object store: ctx is a cs_cache_ec_tier_t. */
struct cs_ec_store_s;
typedef struct cs_cache_ec_tier_s {
    struct cs_ec_store_s *store; /* borrowed */
    unsigned k, m;               /* policy for new objects */
    uint64_t stripe_size;        /* 0 = the store's default */
} cs_cache_ec_tier_t;
extern const cs_cache_tier_ops_t cs_cache_ec_tier_ops;

typedef enum cs_cache_tier {
    CS_CACHE_TIER_NONE = 0,
    CS_CACHE_TIER_L1 = 1,
    CS_CACHE_TIER_L2 = 2,
    CS_CACHE_TIER_L3 = 3,
} cs_cache_tier_t;

typedef enum cs_cache_promote {
    CS_CACHE_PROMOTE_ALL = 0, /* default: L2 hit -> L1; L3 hit -> L1 and L2 */
    CS_CACHE_PROMOTE_L1,      /* L2 or L3 hit -> L1 only (L2 fills by demotion) */
    CS_CACHE_PROMOTE_NONE,    /* never promote */
} cs_cache_promote_t;

#define CS_CACHE_MAX_VALUE_DEFAULT (64u << 20)
#define CS_CACHE_KEY_LOCKS_DEFAULT 4096u

typedef struct cs_cache_config_s {
    cs_l1_config_t l1;                 /* its on_evict is the cache's own */
    const cs_l2_config_t *l2;          /* NULL = no L2 */
    const cs_cache_tier_ops_t *l3_ops; /* NULL = no L3 (a pure cache) */
    void *l3_ctx;
    cs_cache_promote_t promote;
    size_t max_value;   /* largest value accepted; 0 = 64 MiB */
    uint32_t key_locks; /* power of two; 0 = 4096 */
} cs_cache_config_t;

/* Latency histogram bucket upper bounds, seconds (then +Inf). */
#define CS_CACHE_LAT_BUCKETS 8
extern const double cs_cache_latency_bounds[CS_CACHE_LAT_BUCKETS];

typedef struct cs_cache_tier_stats_s {
    uint64_t hits, misses, errors;
    uint64_t lat_count, lat_sum_ns;
    uint64_t lat_bucket[CS_CACHE_LAT_BUCKETS + 1]; /* non-cumulative; last = +Inf */
} cs_cache_tier_stats_t;

typedef struct cs_cache_stats_s {
    cs_cache_tier_stats_t tier[4]; /* indexed by cs_cache_tier_t; [0] unused */
    uint64_t promotions_l1, promotions_l2;
    uint64_t demotions, demotion_failures;
    uint64_t puts, deletes;
    cs_l1_stats_t l1;
    cs_l2_stats_t l2; /* zero without L2 */
} cs_cache_stats_t;

typedef struct cs_cache_s cs_cache_t;

int cs_cache_new(const cs_cache_config_t *cfg, cs_cache_t **out, cs_err_t *err);
/* Closes L2 (its data stays on disk) and frees L1. NULL is a no-op. */
void cs_cache_free(cs_cache_t **cache);

/* Looks the key up tier by tier. On a hit: 0, *data is a malloc'd copy of
 * *len bytes (caller frees; non-NULL even for an empty value) and *tier
 * (optional) says where it was found. CS_ENOTFOUND when no tier has it;
 * L3's error when L3 fails. */
int cs_cache_get(cs_cache_t *cache, const void *key, size_t klen, uint8_t **data, size_t *len, cs_cache_tier_t *tier,
                 cs_err_t *err);
/* Writes through to L3 (if any), then caches. On an L3 error the cache holds
 * no copy of the key (the next get asks L3). CS_EINVAL, CS_ETOOBIG. */
int cs_cache_put(cs_cache_t *cache, const void *key, size_t klen, const void *data, size_t len, cs_err_t *err);
/* Removes the key from every tier: 0, or CS_ENOTFOUND when no tier had it. */
int cs_cache_delete(cs_cache_t *cache, const void *key, size_t klen, cs_err_t *err);

void cs_cache_stats(cs_cache_t *cache, cs_cache_stats_t *out);
/* Writes the counters in Prometheus text format (names in docs/cache.md) to
 * buf (NUL-terminated). *len = bytes written, or needed with CS_ETOOBIG. */
int cs_cache_metrics_text(cs_cache_t *cache, char *buf, size_t cap, size_t *len);

#endif
