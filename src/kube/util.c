/* util.c: interruptible sleep, monotonic condition variables, a small PRNG,
 * string helpers and the string-keyed hash map shared by the kube module. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/clock.h"
#include "couchestor/http.h"
#include "kube/internal.h"

bool cs__kube_sleep(int64_t ns, const atomic_int *stop)
{
    /* Short slices so that a stop is noticed within 10 ms. */
    int64_t end = cs_clock_mono_ns() + ns;
    for (;;) {
        if (stop && atomic_load(stop))
            return true;
        int64_t left = end - cs_clock_mono_ns();
        if (left <= 0)
            return false;
        int64_t slice = left < 10000000 ? left : 10000000;
        struct timespec ts = {slice / 1000000000, slice % 1000000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
}

void cs__kube_condattr_mono(pthread_cond_t *cond)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &a);
    pthread_condattr_destroy(&a);
}

void cs__kube_rand_seed(cs__kube_rand_t *r, uint64_t salt)
{
    uint64_t s = (uint64_t)cs_clock_real_ns() ^ (salt * 0x9E3779B97F4A7C15u);
    r->s = s ? s : 0x853c49e6748fea9bu;
}

uint64_t cs__kube_rand_next(cs__kube_rand_t *r)
{
    /* splitmix64: plenty for jitter. */
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

double cs__kube_rand_unit(cs__kube_rand_t *r)
{
    return (double)(cs__kube_rand_next(r) >> 11) / 9007199254740992.0;
}

char *cs__kube_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *cs__kube_strndup(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    if (n)
        memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

bool cs__kube_set_strn(char **dst, const char *s, size_t n)
{
    char *p = cs__kube_strndup(s, n);
    if (!p)
        return false;
    free(*dst);
    *dst = p;
    return true;
}

const char *cs__kube_printable(const char *s, size_t n, char *buf, size_t len)
{
    if (!len)
        return buf;
    size_t o = 0;
    for (size_t i = 0; s && i < n && o + 1 < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n' || ch == '\r' || ch == '\t')
            ch = ' ';
        buf[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    /* Trailing blanks from a text body ("...later.\n") read badly. */
    while (o > 0 && buf[o - 1] == ' ')
        o--;
    buf[o] = '\0';
    return buf;
}

const char *cs__kube_res_name(const cs_kube_resource_t *res, char *buf, size_t len)
{
    if (!res || !res->plural)
        snprintf(buf, len, "resource");
    else if (res->group && *res->group)
        snprintf(buf, len, "%s.%s", res->plural, res->group);
    else
        snprintf(buf, len, "%s", res->plural);
    return buf;
}

bool cs__kube_query_add(char *buf, size_t len, const char *k, const char *v)
{
    char *e = cs_http_escape(v ? v : "");
    if (!e)
        return false;
    size_t used = strlen(buf);
    int n = snprintf(buf + used, len - used, "%c%s=%s", strchr(buf, '?') ? '&' : '?', k, e);
    free(e);
    return n > 0 && (size_t)n < len - used;
}

/* ---- collected list items ---------------------------------------------------- */

int cs_kube_objects_add(void *ctx, void *obj)
{
    cs_kube_objects_t *o = ctx;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        void **items = realloc(o->items, cap * sizeof *items);
        if (!items)
            return CS_ENOMEM;
        o->items = items;
        o->cap = cap;
    }
    o->items[o->n++] = obj;
    return 0;
}

void cs_kube_objects_free(cs_kube_objects_t *o, const cs_kube_decoder_t *dec)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        dec->destroy(dec->ctx, o->items[i]);
    free(o->items);
    memset(o, 0, sizeof *o);
}

/* ---- map ------------------------------------------------------------------ */

uint64_t cs__kube_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3u;
    }
    return h ^ (h >> 29);
}

int cs__kube_map_init(cs__kube_map_t *m, size_t hint)
{
    size_t n = 16;
    while (n < hint && n < ((size_t)1 << 30))
        n <<= 1;
    m->buckets = calloc(n, sizeof(cs__kube_map_node_t *));
    if (!m->buckets)
        return CS_ENOMEM;
    m->nbuckets = n;
    m->count = 0;
    return 0;
}

static void cs__kube_map_grow(cs__kube_map_t *m)
{
    size_t n = m->nbuckets * 2;
    cs__kube_map_node_t **nb = calloc(n, sizeof(cs__kube_map_node_t *));
    if (!nb)
        return; /* keep working with longer chains */
    for (size_t i = 0; i < m->nbuckets; i++) {
        cs__kube_map_node_t *e = m->buckets[i];
        while (e) {
            cs__kube_map_node_t *next = e->next;
            size_t b = e->hash & (n - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = nb;
    m->nbuckets = n;
}

void *cs__kube_map_get(const cs__kube_map_t *m, const char *key)
{
    if (!m->buckets)
        return NULL;
    uint64_t h = cs__kube_hash(key);
    for (cs__kube_map_node_t *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->next)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e->value;
    return NULL;
}

int cs__kube_map_put(cs__kube_map_t *m, const char *key, void *value, void **old)
{
    if (old)
        *old = NULL;
    if (!m->buckets && cs__kube_map_init(m, 16) != 0)
        return CS_ENOMEM;
    uint64_t h = cs__kube_hash(key);
    size_t b = h & (m->nbuckets - 1);
    for (cs__kube_map_node_t *e = m->buckets[b]; e; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            if (old)
                *old = e->value;
            e->value = value;
            e->key = key;
            return 0;
        }
    }
    cs__kube_map_node_t *e = malloc(sizeof *e);
    if (!e)
        return CS_ENOMEM;
    e->key = key;
    e->hash = h;
    e->value = value;
    e->next = m->buckets[b];
    m->buckets[b] = e;
    if (++m->count > m->nbuckets)
        cs__kube_map_grow(m);
    return 0;
}

void *cs__kube_map_remove(cs__kube_map_t *m, const char *key)
{
    if (!m->buckets)
        return NULL;
    uint64_t h = cs__kube_hash(key);
    cs__kube_map_node_t **pp = &m->buckets[h & (m->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->next) {
        cs__kube_map_node_t *e = *pp;
        if (e->hash == h && strcmp(e->key, key) == 0) {
            void *v = e->value;
            *pp = e->next;
            free(e);
            m->count--;
            return v;
        }
    }
    return NULL;
}

void cs__kube_map_each(const cs__kube_map_t *m, void (*fn)(void *ctx, void *value), void *ctx)
{
    for (size_t i = 0; m->buckets && i < m->nbuckets; i++)
        for (cs__kube_map_node_t *e = m->buckets[i]; e; e = e->next)
            fn(ctx, e->value);
}

void cs__kube_map_free(cs__kube_map_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; m->buckets && i < m->nbuckets; i++) {
        cs__kube_map_node_t *e = m->buckets[i];
        while (e) {
            cs__kube_map_node_t *next = e->next;
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = NULL;
    m->nbuckets = 0;
    m->count = 0;
}
