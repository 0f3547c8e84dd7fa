/* metrics.c: the metrics registry and its text exposition. */
#include "couchestor/metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    CS__COUNTER,
    CS__GAUGE,
    CS__HISTOGRAM
} cs__kind_t;

typedef struct cs__series_s {
    char *values[CS_METRICS_MAX_LABELS];
    double value; /* counter/gauge */
    double sum;   /* histogram */
    unsigned long long count;
    unsigned long long buckets[CS_METRICS_MAX_BUCKETS];
    struct cs__series_s *next;
} cs__series_t;

struct cs_metric_s {
    cs_metrics_t *reg;
    cs__kind_t kind;
    char *name, *help;
    size_t nlabels;
    char *labels[CS_METRICS_MAX_LABELS];
    size_t nbuckets;
    double bounds[CS_METRICS_MAX_BUCKETS];
    cs__series_t *series, *tail;
    size_t nseries;
    struct cs_metric_s *next;
};

struct cs_metrics_s {
    pthread_mutex_t lock;
    cs_metric_t *families, *tail;
    unsigned long long dropped;
};

cs_metrics_t *cs_metrics_new(void)
{
    cs_metrics_t *reg = calloc(1, sizeof *reg);
    if (reg)
        pthread_mutex_init(&reg->lock, NULL);
    return reg;
}

static void cs__series_free(cs__series_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(s->values[i]);
    free(s);
}

void cs_metrics_free(cs_metrics_t *reg)
{
    if (!reg)
        return;
    cs_metric_t *m = reg->families;
    while (m) {
        cs_metric_t *next = m->next;
        cs__series_t *s = m->series;
        while (s) {
            cs__series_t *sn = s->next;
            cs__series_free(s, m->nlabels);
            s = sn;
        }
        for (size_t i = 0; i < m->nlabels; i++)
            free(m->labels[i]);
        free(m->name);
        free(m->help);
        free(m);
        m = next;
    }
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

static int cs__valid_name(const char *s, int metric)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' || (metric && *p == ':') ||
                 (p != s && *p >= '0' && *p <= '9');
        if (!ok)
            return 0;
    }
    return metric || strncmp(s, "__", 2) != 0;
}

static cs_metric_t *cs__register(cs_metrics_t *reg, cs__kind_t kind, const char *name, const char *help, size_t nlabels,
                                 const char *const *label_names, size_t nbuckets, const double *bounds, cs_err_t *err)
{
    if (!cs__valid_name(name, 1)) {
        cs_err_set(err, CS_EINVAL, "metric name \"%s\" is not valid ([a-zA-Z_:][a-zA-Z0-9_:]*)", name ? name : "");
        return NULL;
    }
    if (nlabels > CS_METRICS_MAX_LABELS || nbuckets > CS_METRICS_MAX_BUCKETS) {
        cs_err_set(err, CS_EINVAL, "metric %s: too many labels or buckets", name);
        return NULL;
    }
    for (size_t i = 0; i < nlabels; i++)
        if (!cs__valid_name(label_names[i], 0) || strcmp(label_names[i], "le") == 0) {
            cs_err_set(err, CS_EINVAL, "metric %s: label name \"%s\" is not valid", name, label_names[i]);
            return NULL;
        }
    for (size_t i = 1; i < nbuckets; i++)
        if (!(bounds[i] > bounds[i - 1])) {
            cs_err_set(err, CS_EINVAL, "metric %s: bucket bounds must increase", name);
            return NULL;
        }
    pthread_mutex_lock(&reg->lock);
    for (cs_metric_t *m = reg->families; m; m = m->next)
        if (strcmp(m->name, name) == 0) {
            pthread_mutex_unlock(&reg->lock);
            cs_err_set(err, CS_EEXISTS, "metric %s is already registered", name);
            return NULL;
        }
    cs_metric_t *m = calloc(1, sizeof *m);
    if (m) {
        m->reg = reg;
        m->kind = kind;
        m->name = strdup(name);
        m->help = strdup(help ? help : "");
        m->nlabels = nlabels;
        for (size_t i = 0; i < nlabels; i++)
            m->labels[i] = strdup(label_names[i]);
        m->nbuckets = nbuckets;
        if (nbuckets)
            memcpy(m->bounds, bounds, nbuckets * sizeof *bounds);
        if (reg->tail)
            reg->tail->next = m;
        else
            reg->families = m;
        reg->tail = m;
    }
    pthread_mutex_unlock(&reg->lock);
    if (!m)
        cs_err_set(err, CS_ENOMEM, "metric %s: out of memory", name);
    return m;
}

cs_metric_t *cs_metrics_counter(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                                const char *const *label_names, cs_err_t *err)
{
    return cs__register(reg, CS__COUNTER, name, help, label_count, label_names, 0, NULL, err);
}

cs_metric_t *cs_metrics_gauge(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                              const char *const *label_names, cs_err_t *err)
{
    return cs__register(reg, CS__GAUGE, name, help, label_count, label_names, 0, NULL, err);
}

cs_metric_t *cs_metrics_histogram(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                                  const char *const *label_names, size_t bucket_count, const double *bounds,
                                  cs_err_t *err)
{
    return cs__register(reg, CS__HISTOGRAM, name, help, label_count, label_names, bucket_count, bounds, err);
}

/* Finds or creates the series; called with the lock held. */
static cs__series_t *cs__series(cs_metric_t *m, const char *const *values, int create)
{
    for (cs__series_t *s = m->series; s; s = s->next) {
        size_t i;
        for (i = 0; i < m->nlabels; i++)
            if (strcmp(s->values[i], values[i] ? values[i] : "") != 0)
                break;
        if (i == m->nlabels)
            return s;
    }
    if (!create)
        return NULL;
    if (m->nseries >= CS_METRICS_MAX_SERIES) {
        m->reg->dropped++;
        return NULL;
    }
    cs__series_t *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    for (size_t i = 0; i < m->nlabels; i++) {
        s->values[i] = strdup(values[i] ? values[i] : "");
        if (!s->values[i]) {
            cs__series_free(s, i);
            return NULL;
        }
    }
    if (m->tail)
        m->tail->next = s;
    else
        m->series = s;
    m->tail = s;
    m->nseries++;
    return s;
}

void cs_metric_inc(cs_metric_t *m, const char *const *values, double delta)
{
    if (!m || delta < 0)
        return;
    pthread_mutex_lock(&m->reg->lock);
    cs__series_t *s = cs__series(m, values, 1);
    if (s)
        s->value += delta;
    pthread_mutex_unlock(&m->reg->lock);
}

void cs_metric_set(cs_metric_t *m, const char *const *values, double value)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->reg->lock);
    cs__series_t *s = cs__series(m, values, 1);
    if (s)
        s->value = value;
    pthread_mutex_unlock(&m->reg->lock);
}

void cs_metric_touch(cs_metric_t *m, const char *const *values)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->reg->lock);
    (void)cs__series(m, values, 1);
    pthread_mutex_unlock(&m->reg->lock);
}

void cs_metric_observe(cs_metric_t *m, const char *const *values, double value)
{
    if (!m || isnan(value))
        return;
    pthread_mutex_lock(&m->reg->lock);
    cs__series_t *s = cs__series(m, values, 1);
    if (s) {
        s->sum += value;
        s->count++;
        for (size_t i = 0; i < m->nbuckets; i++)
            if (value <= m->bounds[i])
                s->buckets[i]++;
    }
    pthread_mutex_unlock(&m->reg->lock);
}

double cs_metric_value(cs_metric_t *m, const char *const *values)
{
    if (!m)
        return 0;
    pthread_mutex_lock(&m->reg->lock);
    cs__series_t *s = cs__series(m, values, 0);
    double v = s ? (m->kind == CS__HISTOGRAM ? (double)s->count : s->value) : 0;
    pthread_mutex_unlock(&m->reg->lock);
    return v;
}

void cs_metric_remove_matching(cs_metric_t *m, const char *first)
{
    if (!m || m->nlabels == 0)
        return;
    pthread_mutex_lock(&m->reg->lock);
    cs__series_t **pp = &m->series, *prev = NULL;
    while (*pp) {
        cs__series_t *s = *pp;
        if (strcmp(s->values[0], first) == 0) {
            *pp = s->next;
            cs__series_free(s, m->nlabels);
            m->nseries--;
        } else {
            prev = s;
            pp = &s->next;
        }
    }
    m->tail = prev;
    pthread_mutex_unlock(&m->reg->lock);
}

typedef struct {
    char *buf;
    size_t len, cap;
    int failed;
} cs__out_t;

static void cs__put(cs__out_t *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *nb = realloc(o->buf, cap);
        if (!nb) {
            o->failed = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void cs__puts(cs__out_t *o, const char *s)
{
    cs__put(o, s, strlen(s));
}

/* HELP escapes \\ and \n; label values also \". */
static void cs__escaped(cs__out_t *o, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            cs__puts(o, "\\\\");
        else if (*s == '\n')
            cs__puts(o, "\\n");
        else if (quote && *s == '"')
            cs__puts(o, "\\\"");
        else
            cs__put(o, s, 1);
    }
}

static void cs__number(cs__out_t *o, double v)
{
    char buf[64];
    if (isnan(v))
        snprintf(buf, sizeof buf, "NaN");
    else if (isinf(v))
        snprintf(buf, sizeof buf, v > 0 ? "+Inf" : "-Inf");
    else
        snprintf(buf, sizeof buf, "%.17g", v);
    cs__puts(o, buf);
}

static void cs__labels(cs__out_t *o, const cs_metric_t *m, const cs__series_t *s, const char *le)
{
    if (m->nlabels == 0 && !le)
        return;
    cs__puts(o, "{");
    for (size_t i = 0; i < m->nlabels; i++) {
        if (i)
            cs__puts(o, ",");
        cs__puts(o, m->labels[i]);
        cs__puts(o, "=\"");
        cs__escaped(o, s->values[i], 1);
        cs__puts(o, "\"");
    }
    if (le) {
        if (m->nlabels)
            cs__puts(o, ",");
        cs__puts(o, "le=\"");
        cs__puts(o, le);
        cs__puts(o, "\"");
    }
    cs__puts(o, "}");
}

int cs_metrics_render(cs_metrics_t *reg, char **out, size_t *len)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    cs__out_t o = {0};
    cs__puts(&o, "");
    pthread_mutex_lock(&reg->lock);
    for (cs_metric_t *m = reg->families; m; m = m->next) {
        cs__puts(&o, "# HELP ");
        cs__puts(&o, m->name);
        cs__puts(&o, " ");
        cs__escaped(&o, m->help, 0);
        cs__puts(&o, "\n# TYPE ");
        cs__puts(&o, m->name);
        cs__puts(&o, " ");
        cs__puts(&o, types[m->kind]);
        cs__puts(&o, "\n");
        for (cs__series_t *s = m->series; s; s = s->next) {
            if (m->kind != CS__HISTOGRAM) {
                cs__puts(&o, m->name);
                cs__labels(&o, m, s, NULL);
                cs__puts(&o, " ");
                cs__number(&o, s->value);
                cs__puts(&o, "\n");
                continue;
            }
            char le[64];
            for (size_t b = 0; b <= m->nbuckets; b++) {
                if (b < m->nbuckets)
                    snprintf(le, sizeof le, "%.17g", m->bounds[b]);
                else
                    snprintf(le, sizeof le, "+Inf");
                cs__puts(&o, m->name);
                cs__puts(&o, "_bucket");
                cs__labels(&o, m, s, le);
                cs__puts(&o, " ");
                cs__number(&o, (double)(b < m->nbuckets ? s->buckets[b] : s->count));
                cs__puts(&o, "\n");
            }
            cs__puts(&o, m->name);
            cs__puts(&o, "_sum");
            cs__labels(&o, m, s, NULL);
            cs__puts(&o, " ");
            cs__number(&o, s->sum);
            cs__puts(&o, "\n");
            cs__puts(&o, m->name);
            cs__puts(&o, "_count");
            cs__labels(&o, m, s, NULL);
            cs__puts(&o, " ");
            cs__number(&o, (double)s->count);
            cs__puts(&o, "\n");
        }
    }
    unsigned long long dropped = reg->dropped;
    pthread_mutex_unlock(&reg->lock);
    cs__puts(&o, "# HELP couchestor_metrics_dropped_series_total Series not created because a family reached its "
                 "cardinality bound.\n# TYPE couchestor_metrics_dropped_series_total counter\n"
                 "couchestor_metrics_dropped_series_total ");
    cs__number(&o, (double)dropped);
    cs__puts(&o, "\n");
    if (o.failed) {
        free(o.buf);
        return CS_ENOMEM;
    }
    *out = o.buf;
    *len = o.len;
    return 0;
}
