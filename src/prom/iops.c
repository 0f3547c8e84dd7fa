/* iops.c: per-volume IOPS (seed: cache, primary metric, fallbacks in
 * order) and the batch form (two queries per metric set for every volume:
 * the rates and their window coverage), with a bounded TTL cache keyed by
 * volume that only the per-volume form reads. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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
    cs_prom_vector_free(p->covered);
    p->covered = NULL;
    pthread_mutex_unlock(&p->cache_lock);
}

/* ---- the batch's coverage memo (cache_lock held; see internal.h) ---- */

/* At most this many volumes are named in a coverage query; more are asked
 * for all at once. */
#define CS__COVER_BY_NAME 32

static double cs__now_s(const cs_prom_t *p)
{
    return (double)cs__prom_now(p) / 1e9;
}

static bool cs__memo_key(char *buf, size_t len, int64_t window_ns, const char *volume)
{
    int n = snprintf(buf, len, "%" PRId64 "/%s", window_ns, volume);
    return n > 0 && (size_t)n < len;
}

/* Whether the coverage query found volume covered recently enough that it
 * still is: a series that had a sample at t0 - c*w still had one at
 * t - c*w for t < t0 + (1-c)*w, where that sample lies inside the window. */
static bool cs__memo_covered(const cs_prom_t *p, int64_t window_ns, const char *volume, double now)
{
    if (p->min_coverage <= 0)
        return true;
    char key[512];
    double at;
    return cs__memo_key(key, sizeof key, window_ns, volume) && cs_prom_vector_get(p->covered, key, &at) == 0 &&
           now - at < (1 - p->min_coverage) * (double)window_ns / 1e9;
}

/* Best effort: a volume not noted is asked for again. */
static void cs__memo_note(cs_prom_t *p, int64_t window_ns, const char *volume, double now)
{
    if (p->covered && cs_prom_vector_count(p->covered) >= p->cache_max) {
        cs_prom_vector_free(p->covered);
        p->covered = NULL;
    }
    if (!p->covered && !(p->covered = cs__prom_vector_new()))
        return;
    char key[512];
    double at = 0;
    if (!cs__memo_key(key, sizeof key, window_ns, volume))
        return;
    if (cs_prom_vector_get(p->covered, key, &at) != 0)
        at = 0;
    (void)cs__prom_vector_add(p->covered, key, strlen(key), now - at); /* the vector adds: at + (now - at) */
}

/* The memo holds only while Prometheus has the start time it had when the
 * memo was filled: a restarted Prometheus may have lost every sample, and
 * then a series "covered" a minute ago is young again. Without a start
 * time (a proxy that hides the endpoint) the memo lasts one batch. */
static void cs__memo_check_start(cs_prom_t *p)
{
    char start[64];
    bool known = cs__prom_start_time(p, start, sizeof start) == 0;
    pthread_mutex_lock(&p->cache_lock);
    if (!known || strcmp(start, p->start_time) != 0) {
        cs_prom_vector_free(p->covered);
        p->covered = NULL;
        snprintf(p->start_time, sizeof p->start_time, "%s", known ? start : "");
    }
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

int cs_prom_coverage_promql(const cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, char *buf,
                            size_t len, cs_err_t *err)
{
    if (set >= p->set_count)
        return cs_err_set(err, CS_EINVAL, "metric set %zu does not exist (%zu configured)", set, p->set_count);
    return cs__prom_build_coverage(&p->sets[set], p->label, p->selector, volume,
                                   window_ns > 0 ? window_ns : p->window_ns, p->min_coverage, buf, len, err);
}

/* Runs one query that must answer a vector keyed by the volume label. */
static int cs__run_vector(cs_prom_t *p, const char *q, size_t set, const char *what, cs_prom_result_t *res,
                          cs_err_t *err)
{
    int rc = cs_prom_query(p, q, p->label, res, err);
    if (rc)
        return rc;
    if (res->type != CS_PROM_RESULT_VECTOR) {
        cs_prom_result_type_t t = res->type;
        cs_prom_result_free(res);
        return cs_err_set(err, CS_EPROM_RESPONSE_PARSE, "%s query for metrics %s returned a %s, expected a vector",
                          what, p->sets[set].names[0], cs_prom_result_type_name(t));
    }
    return 0;
}

static int cs__run_set(cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, cs_prom_result_t *res,
                       cs_err_t *err)
{
    char q[CS_PROM_MAX_QUERY];
    int rc = cs_prom_iops_promql(p, set, volume, window_ns, q, sizeof q, err);
    return rc ? rc : cs__run_vector(p, q, set, "IOPS", res, err);
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

/* One metric set's answer: the rates, and the volumes whose series cover
 * the window (NULL when coverage is not checked). */
typedef struct {
    cs_prom_vector_t *rate, *covered;
    size_t series;
    int64_t window_ns;
    bool by_memo;       /* coverage from the memo (cache_lock held when read) */
    unsigned char *cov; /* the batch: per volumes[i], covered (decided once, so that
                           another batch emptying the memo meanwhile changes nothing) */
} cs__answer_t;

static void cs__answer_free(cs__answer_t *a)
{
    cs_prom_vector_free(a->rate);
    cs_prom_vector_free(a->covered);
    free(a->cov);
    memset(a, 0, sizeof *a);
}

/* The rates of set (of one volume, or of all when volume is NULL) into a. */
static int cs__ask_rates(cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, cs__answer_t *a,
                         cs_err_t *err)
{
    cs_prom_result_t res;
    int rc = cs__run_set(p, set, volume, window_ns, &res, err);
    if (rc)
        return rc;
    a->rate = res.vector;
    a->series = res.series;
    res.vector = NULL;
    cs_prom_result_free(&res);
    return 0;
}

/* The rates of set, then, when any came back, their coverage. */
static int cs__ask_set(cs_prom_t *p, size_t set, const char *volume, int64_t window_ns, cs__answer_t *a, cs_err_t *err)
{
    memset(a, 0, sizeof *a);
    int rc = cs__ask_rates(p, set, volume, window_ns, a, err);
    if (rc)
        return rc;
    if (p->min_coverage <= 0 || cs_prom_vector_count(a->rate) == 0)
        return 0;
    char q[CS_PROM_MAX_QUERY];
    cs_prom_result_t res;
    rc = cs_prom_coverage_promql(p, set, volume, window_ns, q, sizeof q, err);
    if (!rc)
        rc = cs__run_vector(p, q, set, "coverage", &res, err);
    if (rc) {
        cs__answer_free(a);
        return rc;
    }
    a->covered = res.vector;
    res.vector = NULL;
    cs_prom_result_free(&res);
    return 0;
}

/* The state of key in a's answer; false when a has no series for it. */
static bool cs__answer_get(const cs_prom_t *p, const cs__answer_t *a, const char *key, uint8_t set, cs_prom_iops_t *out)
{
    double v, c;
    if (cs_prom_vector_get(a->rate, key, &v) != 0)
        return false;
    bool covered = a->by_memo ? cs__memo_covered(p, a->window_ns, key, cs__now_s(p))
                              : p->min_coverage <= 0 || cs_prom_vector_get(a->covered, key, &c) == 0;
    if (!covered) {
        cs__set_state(out, CS_PROM_IOPS_YOUNG);
        out->source = set;
        return true;
    }
    cs__classify(v, set, out);
    return true;
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
        cs__answer_t a;
        cs_err_t e = {0};
        int rc = cs__ask_set(p, s, volume, window_ns, &a, &e);
        if (rc) {
            if (!first_rc) {
                first_rc = rc;
                first_err = e;
            }
            if (cs__fatal(rc))
                break;
            continue;
        }
        bool found = cs__answer_get(p, &a, volume, (uint8_t)s, out);
        cs__answer_free(&a);
        if (found) {
            pthread_mutex_lock(&p->cache_lock);
            cs__cache_put(p, volume, window_ns, cs__prom_now(p), out);
            pthread_mutex_unlock(&p->cache_lock);
            return 0;
        }
    }
    if (first_rc) {
        /* some set could not be asked: the volume's IOPS is not known, and
         * nothing cached before the failure may stand in for it */
        cs__set_state(out, CS_PROM_IOPS_UNAVAILABLE);
        if (cs__fatal(first_rc))
            cs_prom_cache_clear(p);
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

/* The coverage of the batch's pending volumes that set s returned rates
 * for: the memo answers those it found covered within (1-c)*w, the query
 * the others, by name when they are few (the steady state: new volumes),
 * all at once otherwise. Whatever it finds covered goes into the memo. */
static int cs__batch_coverage(cs_prom_t *p, size_t s, const char *const *volumes, size_t n,
                              const unsigned char *pending, cs__answer_t *a, cs_err_t *err)
{
    const char **need = malloc((n ? n : 1) * sizeof *need);
    size_t *at = malloc((n ? n : 1) * sizeof *at);
    a->cov = calloc(n ? n : 1, 1);
    if (!need || !at || !a->cov) {
        free(need);
        free(at);
        return cs_err_set(err, CS_ENOMEM, "IOPS coverage of %zu volumes: out of memory", n);
    }
    size_t k = 0;
    double v;
    pthread_mutex_lock(&p->cache_lock);
    double now = cs__now_s(p);
    for (size_t i = 0; i < n; i++) {
        if (!pending[i] || cs_prom_vector_get(a->rate, volumes[i], &v) != 0)
            continue;
        a->cov[i] = cs__memo_covered(p, a->window_ns, volumes[i], now);
        if (!a->cov[i]) {
            at[k] = i;
            need[k++] = volumes[i];
        }
    }
    pthread_mutex_unlock(&p->cache_lock);
    int rc = 0;
    if (k > 0) {
        char q[CS_PROM_MAX_QUERY];
        cs_prom_result_t res;
        rc = k <= CS__COVER_BY_NAME ? cs__prom_build_coverage_of(&p->sets[s], p->label, p->selector, need, k,
                                                                 a->window_ns, p->min_coverage, q, sizeof q, err)
                                    : cs_prom_coverage_promql(p, s, NULL, a->window_ns, q, sizeof q, err);
        if (!rc)
            rc = cs__run_vector(p, q, s, "coverage", &res, err);
        if (!rc) {
            const char *key;
            for (size_t j = 0; j < k; j++)
                a->cov[at[j]] = cs_prom_vector_get(res.vector, need[j], &v) == 0;
            pthread_mutex_lock(&p->cache_lock);
            now = cs__now_s(p);
            for (size_t j = 0; cs_prom_vector_at(res.vector, j, &key, &v); j++)
                cs__memo_note(p, a->window_ns, key, now);
            pthread_mutex_unlock(&p->cache_lock);
            cs_prom_result_free(&res);
        }
    }
    free(need);
    free(at);
    return rc;
}

/* Set s's rates for every volume, then the coverage of the pending ones. */
static int cs__batch_set(cs_prom_t *p, size_t s, const char *const *volumes, size_t n, const unsigned char *pending,
                         int64_t window_ns, bool *start_checked, cs__answer_t *a, cs_err_t *err)
{
    memset(a, 0, sizeof *a);
    a->window_ns = window_ns;
    a->by_memo = true;
    int rc = cs__ask_rates(p, s, NULL, window_ns, a, err);
    if (rc)
        return rc;
    if (p->min_coverage > 0 && !*start_checked && cs_prom_vector_count(a->rate) > 0) {
        *start_checked = true; /* after a query that answered: an outage costs no extra wait */
        cs__memo_check_start(p);
    }
    rc = cs__batch_coverage(p, s, volumes, n, pending, a, err);
    if (rc)
        cs__answer_free(a);
    return rc;
}

/* Records set's answer for the pending volumes (and, for the primary set,
 * every volume it names into the cache). Returns how many it answered. */
static size_t cs__take_answer(cs_prom_t *p, size_t s, const cs__answer_t *a, const char *const *volumes, size_t n,
                              int64_t window_ns, unsigned char *pending, cs_prom_iops_t *out, size_t *young)
{
    size_t answered = 0;
    pthread_mutex_lock(&p->cache_lock);
    int64_t now = cs__prom_now(p);
    double v;
    for (size_t i = 0; i < n; i++) {
        if (!pending[i] || cs_prom_vector_get(a->rate, volumes[i], &v) != 0)
            continue;
        if (a->cov[i]) {
            cs__classify(v, (uint8_t)s, &out[i]);
        } else {
            cs__set_state(&out[i], CS_PROM_IOPS_YOUNG);
            out[i].source = (uint8_t)s;
        }
        cs__cache_put(p, volumes[i], window_ns, now, &out[i]);
        *young += out[i].state == CS_PROM_IOPS_YOUNG;
        pending[i] = 0;
        answered++;
    }
    if (s == 0) {
        /* The primary answer covers every volume: let cs_prom_volume_iops
         * find any of them in the cache. */
        const char *key;
        for (size_t k = 0; cs_prom_vector_at(a->rate, k, &key, &v); k++) {
            cs_prom_iops_t val;
            if (cs__answer_get(p, a, key, 0, &val) && val.state != CS_PROM_IOPS_YOUNG)
                cs__cache_put(p, key, window_ns, now, &val);
        }
    }
    pthread_mutex_unlock(&p->cache_lock);
    return answered;
}

/* The end of a batch: outage bookkeeping, and a failure empties the cache. */
static void cs__batch_outcome(cs_prom_t *p, int rc, cs_prom_batch_t *info)
{
    if (rc == CS_ECANCELED) /* shutting down: neither an outage nor its end */
        return;
    if (rc) {
        cs_prom_cache_clear(p);
        info->failed = true;
        info->outage_begins = atomic_exchange(&p->failing, 1) == 0;
    } else {
        info->outage_ends = atomic_exchange(&p->failing, 0) == 1;
    }
}

int cs_prom_volumes_iops_report(cs_prom_t *p, const char *const *volumes, size_t n, int64_t window_ns,
                                cs_prom_iops_t *out, cs_prom_batch_t *info, cs_err_t *err)
{
    cs_prom_batch_t scratch;
    if (!info)
        info = &scratch;
    memset(info, 0, sizeof *info);
    info->sets = p->set_count;
    if (window_ns <= 0)
        window_ns = p->window_ns;
    for (size_t i = 0; i < n; i++)
        cs__set_state(&out[i], CS_PROM_IOPS_UNAVAILABLE);
    if (window_ns < 1000000)
        return cs_err_set(err, CS_EINVAL, "IOPS: window must be at least 1ms");
    /* pending[i]: still to be answered. The cache is not read: see prom.h. */
    unsigned char *pending = malloc(n ? n : 1);
    if (!pending)
        return cs_err_set(err, CS_ENOMEM, "IOPS of %zu volumes: out of memory", n);
    size_t left = 0;
    for (size_t i = 0; i < n; i++) {
        pending[i] = volumes[i] && *volumes[i];
        left += pending[i];
    }

    int first_rc = 0;
    cs_err_t first_err = {0};
    bool start_checked = false;
    for (size_t s = 0; s < p->set_count && left > 0; s++) {
        cs__answer_t a;
        cs_err_t e = {0};
        int rc = cs__batch_set(p, s, volumes, n, pending, window_ns, &start_checked, &a, &e);
        if (rc) {
            if (!first_rc) {
                first_rc = rc;
                first_err = e;
            }
            if (cs__fatal(rc))
                break;
            continue;
        }
        info->asked[s] = true;
        info->series[s] = a.series;
        info->answered[s] = cs__take_answer(p, s, &a, volumes, n, window_ns, pending, out, &info->young);
        left -= info->answered[s];
        cs__answer_free(&a);
    }
    /* Whatever is still pending had no series in any set that answered. */
    pthread_mutex_lock(&p->cache_lock);
    int64_t now = cs__prom_now(p);
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
    int rc = first_rc && left > 0 ? first_rc : 0;
    cs__batch_outcome(p, rc, info);
    if (rc && err)
        *err = first_err;
    return rc;
}

int cs_prom_volumes_iops(cs_prom_t *p, const char *const *volumes, size_t n, int64_t window_ns, cs_prom_iops_t *out,
                         cs_err_t *err)
{
    return cs_prom_volumes_iops_report(p, volumes, n, window_ns, out, NULL, err);
}
