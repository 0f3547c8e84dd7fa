/* tiered.c: the tiered cache manager (cache.h): lookup order, promotion,
 * write-through, demotion on L1 eviction, invalidation, metrics. */
#include "couchestor/cache.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "couchestor/clock.h"

/* L1 entry flag: L2 holds these exact bytes, so eviction need not demote. */
#define CS__F_IN_L2 1u

const double cs_cache_latency_bounds[CS_CACHE_LAT_BUCKETS] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0};

typedef struct cs__tier_ctr_s {
    _Atomic uint64_t hits, misses, errors, lat_count, lat_sum_ns;
    _Atomic uint64_t bucket[CS_CACHE_LAT_BUCKETS + 1];
} __attribute__((aligned(64))) cs__tier_ctr_t;

struct cs_cache_s {
    cs_l1_t *l1;
    cs_l2_t *l2;
    uint32_t l2_min;
    const cs_cache_tier_ops_t *l3;
    void *l3_ctx;
    cs_cache_promote_t promote;
    size_t max_value;
    uint64_t lock_seed[2];
    uint32_t nlocks;
    pthread_mutex_t *locks;
    cs__tier_ctr_t tier[4];
    _Atomic uint64_t promotions_l1, promotions_l2, demotions, demotion_failures, puts, deletes;
};

static void cs__count(cs_cache_t *c, cs_cache_tier_t t, int outcome, uint64_t t0)
{
    cs__tier_ctr_t *ctr = &c->tier[t];
    uint64_t ns = (uint64_t)cs_clock_mono_ns() - t0;
    atomic_fetch_add_explicit(outcome == 0              ? &ctr->hits
                              : outcome == CS_ENOTFOUND ? &ctr->misses
                                                        : &ctr->errors,
                              1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ctr->lat_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ctr->lat_sum_ns, ns, memory_order_relaxed);
    int b = 0;
    while (b < CS_CACHE_LAT_BUCKETS && (double)ns > cs_cache_latency_bounds[b] * 1e9)
        b++;
    atomic_fetch_add_explicit(&ctr->bucket[b], 1, memory_order_relaxed);
}

/* L1 eviction: runs under the victim's L1 shard lock (see cs_l1_evict_fn),
 * so no put or delete of the key can interleave with the demotion. */
static void cs__demote(void *ctx, const cs_l1_entry_t *e)
{
    cs_cache_t *c = ctx;
    if (!c->l2 || (cs_l1_entry_flags(e) & CS__F_IN_L2))
        return;
    size_t klen, vlen;
    const void *key = cs_l1_entry_key(e, &klen);
    const void *val = cs_l1_entry_value(e, &vlen);
    if (vlen < c->l2_min)
        return;
    if (cs_l2_put(c->l2, key, klen, val, vlen, NULL) == 0)
        atomic_fetch_add_explicit(&c->demotions, 1, memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&c->demotion_failures, 1, memory_order_relaxed);
}

int cs_cache_new(const cs_cache_config_t *cfg, cs_cache_t **out, cs_err_t *err)
{
    if (!cfg || !out)
        return cs_err_set(err, CS_EINVAL, "cache: config and out are required");
    *out = NULL;
    uint32_t nlocks = cfg->key_locks ? cfg->key_locks : CS_CACHE_KEY_LOCKS_DEFAULT;
    if ((nlocks & (nlocks - 1)) != 0 || nlocks > (1u << 20))
        return cs_err_set(err, CS_EINVAL, "cache: key_locks %u must be a power of two <= 2^20", nlocks);
    if (cfg->promote > CS_CACHE_PROMOTE_NONE)
        return cs_err_set(err, CS_EINVAL, "cache: unknown promotion policy %d", (int)cfg->promote);
    if (cfg->l3_ops && (!cfg->l3_ops->get || !cfg->l3_ops->put || !cfg->l3_ops->del))
        return cs_err_set(err, CS_EINVAL, "cache: L3 ops need get, put and del");
    cs_cache_t *c = aligned_alloc(64, (sizeof *c + 63) & ~(size_t)63);
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "cache: out of memory");
    memset(c, 0, sizeof *c);
    c->nlocks = nlocks;
    c->promote = cfg->promote;
    c->max_value = cfg->max_value ? cfg->max_value : CS_CACHE_MAX_VALUE_DEFAULT;
    c->l3 = cfg->l3_ops;
    c->l3_ctx = cfg->l3_ctx;
    int rc;
    if (getrandom(c->lock_seed, sizeof c->lock_seed, 0) != (ssize_t)sizeof c->lock_seed) {
        rc = cs_err_set(err, CS_EIO, "cache: getrandom failed");
        goto fail;
    }
    c->locks = malloc(sizeof *c->locks * nlocks);
    if (!c->locks) {
        rc = cs_err_set(err, CS_ENOMEM, "cache: out of memory for %u key locks", nlocks);
        goto fail;
    }
    for (uint32_t i = 0; i < nlocks; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    if (cfg->l2) {
        rc = cs_l2_open(cfg->l2, &c->l2, err);
        if (rc != 0)
            goto fail;
        c->l2_min = cfg->l2->min_entry_size ? cfg->l2->min_entry_size : CS_L2_MIN_ENTRY_SIZE;
    }
    cs_l1_config_t l1c = cfg->l1;
    l1c.on_evict = cs__demote;
    l1c.evict_ctx = c;
    rc = cs_l1_new(&l1c, &c->l1, err);
    if (rc != 0)
        goto fail;
    *out = c;
    return 0;
fail:
    cs_cache_free(&c);
    return rc;
}

void cs_cache_free(cs_cache_t **cp)
{
    if (!cp || !*cp)
        return;
    cs_cache_t *c = *cp;
    /* L1 first: freeing it evicts nothing, so no demotion reaches L2. */
    cs_l1_free(&c->l1);
    cs_l2_close(&c->l2);
    if (c->locks) {
        for (uint32_t i = 0; i < c->nlocks; i++)
            pthread_mutex_destroy(&c->locks[i]);
        free(c->locks);
    }
    free(c);
    *cp = NULL;
}

static pthread_mutex_t *cs__key_lock(cs_cache_t *c, const void *key, size_t klen)
{
    return &c->locks[cs_siphash13(c->lock_seed, key, klen) & (c->nlocks - 1)];
}

static int cs__check_key(const void *key, size_t klen, cs_err_t *err)
{
    if (!key || klen == 0 || klen > CS_CACHE_KEY_MAX)
        return cs_err_set(err, CS_EINVAL, "cache: key length %zu must be 1..%u", klen, CS_CACHE_KEY_MAX);
    return 0;
}

static int cs__l1_copy(cs_cache_t *c, const void *key, size_t klen, uint8_t **data, size_t *len)
{
    cs_l1_entry_t *e = NULL;
    int rc = cs_l1_get(c->l1, key, klen, &e);
    if (rc != 0)
        return rc;
    size_t n;
    const void *v = cs_l1_entry_value(e, &n);
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy) {
        cs_l1_entry_release(&e);
        return CS_ENOMEM;
    }
    memcpy(copy, v, n);
    cs_l1_entry_release(&e);
    *data = copy;
    *len = n;
    return 0;
}

/* Key lock held. */
static int cs__l2_read(cs_cache_t *c, const void *key, size_t klen, uint8_t **data, size_t *len, cs_err_t *err)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        size_t n = 0;
        int rc = cs_l2_value_size(c->l2, key, klen, &n);
        if (rc != 0)
            return rc;
        uint8_t *buf = malloc(n ? n : 1);
        if (!buf)
            return cs_err_set(err, CS_ENOMEM, "cache: out of memory for %zu bytes", n);
        size_t got = 0;
        rc = cs_l2_get(c->l2, key, klen, buf, n, &got, err);
        if (rc == 0) {
            *data = buf;
            *len = got;
            return 0;
        }
        free(buf);
        if (rc != CS_ETOOBIG)
            return rc;
        /* Replaced by a larger value meanwhile (a demotion): size again. */
    }
    return CS_ENOTFOUND;
}

int cs_cache_get(cs_cache_t *c, const void *key, size_t klen, uint8_t **data, size_t *len, cs_cache_tier_t *tier,
                 cs_err_t *err)
{
    int rc = cs__check_key(key, klen, err);
    if (rc != 0)
        return rc;
    *data = NULL;
    *len = 0;
    cs_cache_tier_t found = CS_CACHE_TIER_NONE;
    uint64_t t0 = (uint64_t)cs_clock_mono_ns();
    rc = cs__l1_copy(c, key, klen, data, len);
    cs__count(c, CS_CACHE_TIER_L1, rc, t0);
    if (rc == 0) {
        found = CS_CACHE_TIER_L1;
        goto out;
    }
    if (rc != CS_ENOTFOUND)
        return cs_err_set(err, rc, "cache get: L1: %s", cs_strerror(rc));

    pthread_mutex_t *lock = cs__key_lock(c, key, klen);
    pthread_mutex_lock(lock);
    /* Another get may have promoted the key while we waited. */
    if (cs__l1_copy(c, key, klen, data, len) == 0) {
        found = CS_CACHE_TIER_L1;
        goto unlock;
    }
    if (c->l2) {
        t0 = (uint64_t)cs_clock_mono_ns();
        rc = cs__l2_read(c, key, klen, data, len, err);
        cs__count(c, CS_CACHE_TIER_L2, rc, t0);
        if (rc == 0) {
            found = CS_CACHE_TIER_L2;
            if (c->promote != CS_CACHE_PROMOTE_NONE &&
                cs_l1_put_if_absent(c->l1, key, klen, *data, *len, CS__F_IN_L2, NULL) == 0)
                atomic_fetch_add_explicit(&c->promotions_l1, 1, memory_order_relaxed);
            goto unlock;
        }
        /* An L2 failure is a miss: the next tier has the data. */
    }
    if (c->l3) {
        t0 = (uint64_t)cs_clock_mono_ns();
        rc = c->l3->get(c->l3_ctx, key, klen, c->max_value, data, len, err);
        cs__count(c, CS_CACHE_TIER_L3, rc, t0);
        if (rc != 0) {
            *data = NULL;
            *len = 0;
            if (rc != CS_ENOTFOUND)
                cs_err_prefix(err, "cache get: L3 (%s): ", c->l3->name ? c->l3->name : "?");
            goto unlock;
        }
        found = CS_CACHE_TIER_L3;
        uint32_t flags = 0;
        if (c->promote == CS_CACHE_PROMOTE_ALL && c->l2 && *len >= c->l2_min &&
            cs_l2_put(c->l2, key, klen, *data, *len, NULL) == 0) {
            flags = CS__F_IN_L2;
            atomic_fetch_add_explicit(&c->promotions_l2, 1, memory_order_relaxed);
        }
        if (c->promote != CS_CACHE_PROMOTE_NONE && cs_l1_put_if_absent(c->l1, key, klen, *data, *len, flags, NULL) == 0)
            atomic_fetch_add_explicit(&c->promotions_l1, 1, memory_order_relaxed);
        goto unlock;
    }
    rc = CS_ENOTFOUND;
unlock:
    pthread_mutex_unlock(lock);
out:
    if (found != CS_CACHE_TIER_NONE) {
        if (tier)
            *tier = found;
        return 0;
    }
    if (tier)
        *tier = CS_CACHE_TIER_NONE;
    return rc;
}

int cs_cache_put(cs_cache_t *c, const void *key, size_t klen, const void *data, size_t len, cs_err_t *err)
{
    int rc = cs__check_key(key, klen, err);
    if (rc != 0)
        return rc;
    if (!data && len)
        return cs_err_set(err, CS_EINVAL, "cache put: data is NULL");
    if (len > c->max_value)
        return cs_err_set(err, CS_ETOOBIG, "cache put: value of %zu bytes exceeds max_value %zu", len, c->max_value);
    pthread_mutex_t *lock = cs__key_lock(c, key, klen);
    pthread_mutex_lock(lock);
    /* Out of L1 first, so that the old value can no longer be demoted;
     * then out of L2 (a tombstone), so that no older copy outlives the new
     * one in L3 even across a crash. */
    cs_l1_delete(c->l1, key, klen);
    if (c->l2) {
        rc = cs_l2_delete(c->l2, key, klen, err);
        if (rc != 0 && rc != CS_ENOTFOUND) {
            cs_err_prefix(err, "cache put: invalidating L2: ");
            goto unlock;
        }
    }
    if (c->l3) {
        rc = c->l3->put(c->l3_ctx, key, klen, data, len, err);
        if (rc != 0) {
            cs_err_prefix(err, "cache put: L3 (%s): ", c->l3->name ? c->l3->name : "?");
            goto unlock;
        }
    }
    rc = cs_l1_put(c->l1, key, klen, data, len, 0, NULL);
    if (rc == CS_ETOOBIG && c->l2 && len >= c->l2_min)
        rc = cs_l2_put(c->l2, key, klen, data, len, NULL);
    /* Without L3 the cache is the only copy, so a failure to cache is the
     * put's failure; with L3 the data is safe and caching is best effort. */
    if (rc != 0 && c->l3)
        rc = 0;
    else if (rc != 0)
        cs_err_set(err, rc, "cache put: %s and no L3 is configured", cs_strerror(rc));
    if (rc == 0)
        atomic_fetch_add_explicit(&c->puts, 1, memory_order_relaxed);
unlock:
    pthread_mutex_unlock(lock);
    return rc;
}

int cs_cache_delete(cs_cache_t *c, const void *key, size_t klen, cs_err_t *err)
{
    int rc = cs__check_key(key, klen, err);
    if (rc != 0)
        return rc;
    pthread_mutex_t *lock = cs__key_lock(c, key, klen);
    pthread_mutex_lock(lock);
    bool found = cs_l1_delete(c->l1, key, klen) == 0;
    if (c->l2) {
        rc = cs_l2_delete(c->l2, key, klen, err);
        if (rc == 0)
            found = true;
        else if (rc != CS_ENOTFOUND) {
            cs_err_prefix(err, "cache delete: L2: ");
            goto unlock;
        }
    }
    if (c->l3) {
        rc = c->l3->del(c->l3_ctx, key, klen, err);
        if (rc == 0)
            found = true;
        else if (rc != CS_ENOTFOUND) {
            cs_err_prefix(err, "cache delete: L3 (%s): ", c->l3->name ? c->l3->name : "?");
            goto unlock;
        }
    }
    rc = found ? 0 : CS_ENOTFOUND;
    if (found)
        atomic_fetch_add_explicit(&c->deletes, 1, memory_order_relaxed);
unlock:
    pthread_mutex_unlock(lock);
    return rc;
}

void cs_cache_stats(cs_cache_t *c, cs_cache_stats_t *out)
{
    memset(out, 0, sizeof *out);
    for (int t = 1; t <= 3; t++) {
        cs__tier_ctr_t *s = &c->tier[t];
        cs_cache_tier_stats_t *d = &out->tier[t];
        d->hits = atomic_load(&s->hits);
        d->misses = atomic_load(&s->misses);
        d->errors = atomic_load(&s->errors);
        d->lat_count = atomic_load(&s->lat_count);
        d->lat_sum_ns = atomic_load(&s->lat_sum_ns);
        for (int b = 0; b <= CS_CACHE_LAT_BUCKETS; b++)
            d->lat_bucket[b] = atomic_load(&s->bucket[b]);
    }
    out->promotions_l1 = atomic_load(&c->promotions_l1);
    out->promotions_l2 = atomic_load(&c->promotions_l2);
    out->demotions = atomic_load(&c->demotions);
    out->demotion_failures = atomic_load(&c->demotion_failures);
    out->puts = atomic_load(&c->puts);
    out->deletes = atomic_load(&c->deletes);
    cs_l1_stats(c->l1, &out->l1);
    if (c->l2)
        cs_l2_stats(c->l2, &out->l2);
}

typedef struct cs__out_s {
    char *buf;
    size_t cap, len;
} cs__out_t;

__attribute__((format(printf, 2, 3))) static void cs__emit(cs__out_t *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    int n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

int cs_cache_metrics_text(cs_cache_t *c, char *buf, size_t cap, size_t *len)
{
    cs_cache_stats_t st;
    cs_cache_stats(c, &st);
    cs__out_t o = {buf, cap, 0};
    static const char *const names[4] = {"", "l1", "l2", "l3"};
    static const struct {
        const char *name, *help;
        size_t off;
    } per_tier[] = {
        {"couchestor_cache_hits_total", "Cache gets answered by the tier.", offsetof(cs_cache_tier_stats_t, hits)},
        {"couchestor_cache_misses_total", "Cache gets the tier could not answer.",
         offsetof(cs_cache_tier_stats_t, misses)},
        {"couchestor_cache_errors_total", "Cache gets the tier failed.", offsetof(cs_cache_tier_stats_t, errors)},
    };
    for (size_t m = 0; m < sizeof per_tier / sizeof per_tier[0]; m++) {
        cs__emit(&o, "# HELP %s %s\n# TYPE %s counter\n", per_tier[m].name, per_tier[m].help, per_tier[m].name);
        for (int t = 1; t <= 3; t++) {
            uint64_t v;
            memcpy(&v, (const char *)&st.tier[t] + per_tier[m].off, sizeof v);
            cs__emit(&o, "%s{tier=\"%s\"} %llu\n", per_tier[m].name, names[t], (unsigned long long)v);
        }
    }
    cs__emit(&o, "# HELP couchestor_cache_get_duration_seconds Time a tier took to answer a "
                 "get.\n# TYPE couchestor_cache_get_duration_seconds histogram\n");
    for (int t = 1; t <= 3; t++) {
        uint64_t cum = 0;
        for (int b = 0; b <= CS_CACHE_LAT_BUCKETS; b++) {
            cum += st.tier[t].lat_bucket[b];
            if (b < CS_CACHE_LAT_BUCKETS)
                cs__emit(&o,
                         "couchestor_cache_get_duration_seconds_bucket{tier=\"%s\",le=\"%g\"} "
                         "%llu\n",
                         names[t], cs_cache_latency_bounds[b], (unsigned long long)cum);
            else
                cs__emit(&o,
                         "couchestor_cache_get_duration_seconds_bucket{tier=\"%s\",le=\"+Inf\"} "
                         "%llu\n",
                         names[t], (unsigned long long)cum);
        }
        cs__emit(&o, "couchestor_cache_get_duration_seconds_sum{tier=\"%s\"} %.9f\n", names[t],
                 (double)st.tier[t].lat_sum_ns / 1e9);
        cs__emit(&o, "couchestor_cache_get_duration_seconds_count{tier=\"%s\"} %llu\n", names[t],
                 (unsigned long long)st.tier[t].lat_count);
    }
#define CS__GAUGE2(name, help, type, v1, v2)                                                         \
    cs__emit(&o,                                                                                     \
             "# HELP " name " " help "\n# TYPE " name " " type "\n" name "{tier=\"l1\"} %llu\n" name \
             "{tier=\"l2\"} %llu\n",                                                                 \
             (unsigned long long)(v1), (unsigned long long)(v2))
#define CS__ONE(name, help, type, v) \
    cs__emit(&o, "# HELP " name " " help "\n# TYPE " name " " type "\n" name " %llu\n", (unsigned long long)(v))
    CS__GAUGE2("couchestor_cache_bytes", "Bytes held by the tier.", "gauge", st.l1.bytes, st.l2.bytes);
    CS__GAUGE2("couchestor_cache_capacity_bytes", "Configured capacity of the tier.", "gauge", st.l1.capacity_bytes,
               st.l2.capacity_bytes);
    CS__GAUGE2("couchestor_cache_entries", "Entries held by the tier.", "gauge", st.l1.entries, st.l2.entries);
    CS__GAUGE2("couchestor_cache_evictions_total",
               "Entries evicted for capacity (L1 entries, L2 entries of evicted segments).", "counter", st.l1.evictions,
               st.l2.evicted_entries);
    CS__ONE("couchestor_cache_l1_inserts_total", "Entries linked into L1.", "counter", st.l1.inserts);
    CS__ONE("couchestor_cache_l2_corrupt_total", "L2 reads that failed their checksum; the entry was dropped.",
            "counter", st.l2.corrupt);
    CS__ONE("couchestor_cache_l2_evicted_segments_total", "L2 segment files evicted.", "counter",
            st.l2.evicted_segments);
    CS__ONE("couchestor_cache_l2_compacted_entries_total", "L2 entries copied forward out of an evicted segment.",
            "counter", st.l2.compacted_entries);
    CS__ONE("couchestor_cache_l2_segments", "L2 segment files.", "gauge", st.l2.segments);
    CS__ONE("couchestor_cache_demotions_total", "L1 evictions written to L2.", "counter", st.demotions);
    CS__ONE("couchestor_cache_demotion_failures_total", "L1 evictions L2 could not take.", "counter",
            st.demotion_failures);
    cs__emit(&o,
             "# HELP couchestor_cache_promotions_total Lower-tier hits copied into a "
             "higher tier.\n# TYPE couchestor_cache_promotions_total counter\n"
             "couchestor_cache_promotions_total{to=\"l1\"} %llu\n"
             "couchestor_cache_promotions_total{to=\"l2\"} %llu\n",
             (unsigned long long)st.promotions_l1, (unsigned long long)st.promotions_l2);
    CS__ONE("couchestor_cache_puts_total", "Cache puts completed.", "counter", st.puts);
    CS__ONE("couchestor_cache_deletes_total", "Cache deletes that removed a key.", "counter", st.deletes);
#undef CS__GAUGE2
#undef CS__ONE
    *len = o.len;
    if (o.len >= cap)
        return CS_ETOOBIG;
    return 0;
}
