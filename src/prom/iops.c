/* iops.c: per-volume IOPS (seed: cache, primary metric, fallbacks in
 * order) and the batch form (one query per metric set for every volume),
 * with a bounded TTL cache keyed by volume. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom/internal.h"

/* ---- cache (guarded by cache_lock; never held across a request) ---- */

void cs__prom_cache_free(cs_prom_t *p)
{
    for (size_t i = 0; i < p->cache_cap; i++)
        free(p->cache[i].key);
    free(p->cache);
    p->cache = NULL;
    p->cache_cap = p->cache_count = 0;
}

void cs_prom_cache_clear(cs_prom_t *p)
{
    pthread_mutex_lock(&p->cache_lock);
    cs__prom_cache_free(p);
    pthread_mutex_unlock(&p->cache_lock);
}

static cs__prom_centry_t *cs__cache_slot(cs__prom_centry_t *tab, size_t cap, const char *key, uint32_t h)
{
    size_t mask = cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        cs__prom_centry_t *e = &tab[i];
        if (!e->key || (e->hash == h && strcmp(e->key, key) == 0))
            return e;
    }
}

/* Rebuilds the table with room for `want` live entries, dropping expired
 * ones. */
static int cs__cache_rehash(cs_prom_t *p, size_t want, int64_t now)
{
    size_t cap = 64;
    while (cap < want * 2)
        cap *= 2;
    cs__prom_centry_t *tab = calloc(cap, sizeof *tab);
    if (!tab)
        return CS_ENOMEM;
    size_t count = 0;
    for (size_t i = 0; i < p->cache_cap; i++) {
        cs__prom_centry_t *e = &p->cache[i];
        if (!e->key)
            continue;
        if (e->expires_ns <= now) {
            free(e->key);
            continue;
        }
        *cs__cache_slot(tab, cap, e->key, e->hash) = *e;
        count++;
    }
    free(p->cache);
    p->cache = tab;
    p->cache_cap = cap;
    p->cache_count = count;
    return 0;
}

static int cs__cache_get(cs_prom_t *p, const char *volume, int64_t window_ns, int64_t now, cs_prom_iops_t *out)
{
    if (p->ttl_ns <= 0 || !p->cache_cap)
        return 0;
    const cs__prom_centry_t *e = cs__cache_slot(p->cache, p->cache_cap, volume, cs__prom_hash(volume, strlen(volume)));
    if (!e->key || e->window_ns != window_ns || e->expires_ns <= now)
        return 0;
    out->state = e->state;
    out->iops = e->state == CS_PROM_IOPS_KNOWN ? e->iops : NAN;
    out->source = e->source;
    out->cached = true;
    return 1;
}

/* Best effort: a value that cannot be cached is simply asked for again. */
static void cs__cache_put(cs_prom_t *p, const char *volume, int64_t window_ns, int64_t now, const cs_prom_iops_t *v)
{
    if (p->ttl_ns <= 0)
        return;
    if ((p->cache_count + 1) * 10 > p->cache_cap * 7) {
        size_t want = p->cache_count + 1;
        if (want > p->cache_max) {
            /* full: drop expired entries; if that is not enough, start over */
            if (cs__cache_rehash(p, p->cache_max, now) != 0)
                return;
            if (p->cache_count + 1 > p->cache_max)
                cs__prom_cache_free(p);
            want = p->cache_count + 1;
        }
        if ((want)*10 > p->cache_cap * 7 && cs__cache_rehash(p, want * 2, now) != 0)
            return;
    }
    uint32_t h = cs__prom_hash(volume, strlen(volume));
    cs__prom_centry_t *e = cs__cache_slot(p->cache, p->cache_cap, volume, h);
    if (!e->key) {
        e->key = strdup(volume);
        if (!e->key)
            return;
        e->hash = h;
        p->cache_count++;
    }
    e->state = v->state;
    e->iops = v->iops;
    e->source = v->source;
    e->window_ns = window_ns;
    e->expires_ns = now + p->ttl_ns;
}

/* ---- values ---- */

static void cs__classify(double value, uint8_t source, cs_prom_iops_t *out)
{
    out->cached = false;
    out->source = source;
    if (isfinite(value) && value >= 0) {
        out->state = CS_PROM_IOPS_KNOWN;
        out->iops = value;
    } else {
        out->state = CS_PROM_IOPS_INVALID;
        out->iops = NAN;
    }
}

static void cs__set_state(cs_prom_iops_t *out, cs_prom_iops_state_t st)
{
    out->state = st;
    out->iops = NAN;
    out->source = 0;
    out->cached = false;
}

/* Errors of the network or of cancellation end a multi-set attempt; a query
 * error for one set lets the next set be tried. */
static int cs__fatal(int rc)
{
    return rc == CS_EPROM_CONNECTION || rc == CS_ECANCELED || rc == CS_ENOMEM;
}

int cs_prom_iops_promql(const cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, char *buf, size_t len,
                        cs_err_t *err)
{
    if (set >= p->set_count)
        return cs_err_set(err, CS_EINVAL, "metric set %zu does not exist (%zu configured)", set, p->set_count);
    return cs__prom_build_iops(&p->sets[set], p->label, p->selector, volume, window_ns > 0 ? window_ns : p->window_ns,
                               buf, len, err);
}

static int cs__run_set(cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, cs_prom_result_t *res,
                       cs_err_t *err)
{
    char q[CS_PROM_MAX_QUERY];
    int rc = cs_prom_iops_promql(p, set, volume, window_ns, q, sizeof q, err);
    if (rc)
        return rc;
    rc = cs_prom_query(p, q, p->label, res, err);
    if (rc)
        return rc;
    if (res->type != CS_PROM_RESULT_VECTOR) {
        cs_prom_result_type_t t = res->type;
        cs_prom_result_free(res);
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE, "IOPS query for metrics %s returned a %s, expected a vector",
                          p->sets[set].names[0], cs_prom_result_type_name(t));
    }
    return 0;
}

int cs_prom_iops_all(cs_prom_t *p, size_t set, int64_t window_ns, cs_prom_vector_t **out, cs_err_t *err)
{
    *out = NULL;
    cs_prom_result_t res;
    int rc = cs__run_set(p, set, NULL, window_ns, &res, err);
    if (rc)
        return rc;
    *out = res.vector;
    res.vector = NULL;
    cs_prom_result_free(&res);
    return 0;
}

int cs_prom_volume_iops(cs_prom_t *p, const char *volume, int64_t window_ns, cs_prom_iops_t *out, cs_err_t *err)
{
    cs__set_state(out, CS_PROM_IOPS_UNAVAILABLE);
    if (!volume || !*volume)
        return cs_err_set(err, CS_EINVAL, "IOPS: empty volume name");
    if (window_ns <= 0)
        window_ns = p->window_ns;
    if (window_ns < 1000000)
        return cs_err_set(err, CS_EINVAL, "IOPS of %s: window must be at least 1ms", volume);
    pthread_mutex_lock(&p->cache_lock);
    int hit = cs__cache_get(p, volume, window_ns, cs__prom_now(p), out);
    pthread_mutex_unlock(&p->cache_lock);
    if (hit)
        return 0;

    int first_rc = 0;
    cs_err_t first_err = {0};
    for (size_t s = 0; s < p->set_count; s++) {
        cs_prom_result_t res;
        cs_err_t e = {0};
        int rc = cs__run_set(p, s, volume, window_ns, &res, &e);
        if (rc) {
            if (!first_rc) {
                first_rc = rc;
                first_err = e;
            }
            if (cs__fatal(rc))
                break;
            continue;
        }
        double v;
        int found = cs_prom_vector_get(res.vector, volume, &v) == 0;
        cs_prom_result_free(&res);
        if (found) {
            cs__classify(v, (uint8_t)s, out);
            pthread_mutex_lock(&p->cache_lock);
            cs__cache_put(p, volume, window_ns, cs__prom_now(p), out);
            pthread_mutex_unlock(&p->cache_lock);
            return 0;
        }
    }
    if (first_rc) {
        /* some set could not be asked: the volume's IOPS is not known */
        cs__set_state(out, CS_PROM_IOPS_UNAVAILABLE);
        if (err)
            *err = first_err;
        return first_rc;
    }
    cs__set_state(out, CS_PROM_IOPS_NO_DATA);
    pthread_mutex_lock(&p->cache_lock);
    cs__cache_put(p, volume, window_ns, cs__prom_now(p), out);
    pthread_mutex_unlock(&p->cache_lock);
    return 0;
}

int cs_prom_volumes_iops(cs_prom_t *p, const char *const *volumes, size_t n, int64_t window_ns, cs_prom_iops_t *out,
                         cs_err_t *err)
{
    if (window_ns <= 0)
        window_ns = p->window_ns;
    for (size_t i = 0; i < n; i++)
        cs__set_state(&out[i], CS_PROM_IOPS_UNAVAILABLE);
    if (window_ns < 1000000)
        return cs_err_set(err, CS_EINVAL, "IOPS: window must be at least 1ms");
    /* pending[i]: still to be answered */
    unsigned char *pending = malloc(n ? n : 1);
    if (!pending)
        return cs_err_set(err, CS_ENOMEM, "IOPS of %zu volumes: out of memory", n);
    size_t left = 0;
    pthread_mutex_lock(&p->cache_lock);
    int64_t now = cs__prom_now(p);
    for (size_t i = 0; i < n; i++) {
        pending[i] = volumes[i] && *volumes[i] && !cs__cache_get(p, volumes[i], window_ns, now, &out[i]);
        left += pending[i];
    }
    pthread_mutex_unlock(&p->cache_lock);

    int first_rc = 0;
    cs_err_t first_err = {0};
    for (size_t s = 0; s < p->set_count && left > 0; s++) {
        cs_prom_vector_t *vec = NULL;
        cs_err_t e = {0};
        int rc = cs_prom_iops_all(p, s, window_ns, &vec, &e);
        if (rc) {
            if (!first_rc) {
                first_rc = rc;
                first_err = e;
            }
            if (cs__fatal(rc))
                break;
            continue;
        }
        pthread_mutex_lock(&p->cache_lock);
        now = cs__prom_now(p);
        for (size_t i = 0; i < n; i++) {
            double v;
            if (!pending[i] || cs_prom_vector_get(vec, volumes[i], &v) != 0)
                continue;
            cs__classify(v, (uint8_t)s, &out[i]);
            cs__cache_put(p, volumes[i], window_ns, now, &out[i]);
            pending[i] = 0;
            left--;
        }
        if (s == 0) {
            /* The primary answer covers every volume: let other policies'
             * batches in the same TTL find theirs in the cache. */
            const char *key;
            double v;
            for (size_t k = 0; cs_prom_vector_at(vec, k, &key, &v); k++) {
                cs_prom_iops_t val;
                cs__classify(v, 0, &val);
                cs__cache_put(p, key, window_ns, now, &val);
            }
        }
        pthread_mutex_unlock(&p->cache_lock);
        cs_prom_vector_free(vec);
    }
    /* Whatever is still pending had no series in any set that answered. */
    pthread_mutex_lock(&p->cache_lock);
    now = cs__prom_now(p);
    for (size_t i = 0; i < n; i++) {
        if (!pending[i])
            continue;
        if (first_rc) {
            cs__set_state(&out[i], CS_PROM_IOPS_UNAVAILABLE);
        } else {
            cs__set_state(&out[i], CS_PROM_IOPS_NO_DATA);
            cs__cache_put(p, volumes[i], window_ns, now, &out[i]);
        }
    }
    pthread_mutex_unlock(&p->cache_lock);
    free(pending);
    /* A failure that left no volume unanswered does not fail the call. */
    if (first_rc && left > 0) {
        if (err)
            *err = first_err;
        return first_rc;
    }
    return 0;
}
