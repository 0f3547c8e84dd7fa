/* vector.c: the compact label value -> value map of a decoded Prometheus
 * vector (keys in one arena, an insertion-ordered entry array, and an
 * open-addressing index), and the result type helpers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prom/internal.h"

/* Keys and entry counts are stored as uint32; the caller's max_series and
 * the per-string limit keep a vector far below this. */
#define CS__VEC_MAX_BYTES (UINT32_MAX / 2)

typedef struct {
    uint32_t off, len, hash;
    double value;
} cs__vec_entry_t;

struct cs_prom_vector_s {
    char *keys;
    size_t keys_len, keys_cap;
    cs__vec_entry_t *entries;
    size_t count, cap;
    uint32_t *index; /* entry + 1, 0 = empty; index_cap is a power of two */
    size_t index_cap;
};

uint32_t cs__prom_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

cs_prom_vector_t *cs__prom_vector_new(void)
{
    return calloc(1, sizeof(cs_prom_vector_t));
}

void cs_prom_vector_free(cs_prom_vector_t *v)
{
    if (!v)
        return;
    free(v->keys);
    free(v->entries);
    free(v->index);
    free(v);
}

size_t cs_prom_vector_count(const cs_prom_vector_t *v)
{
    return v ? v->count : 0;
}

static long cs__vec_find(const cs_prom_vector_t *v, const char *key, size_t len, uint32_t h)
{
    if (!v->index_cap)
        return -1;
    size_t mask = v->index_cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        uint32_t slot = v->index[i];
        if (!slot)
            return -1;
        const cs__vec_entry_t *e = &v->entries[slot - 1];
        if (e->hash == h && e->len == len && memcmp(v->keys + e->off, key, len) == 0)
            return (long)(slot - 1);
    }
}

static int cs__vec_reindex(cs_prom_vector_t *v, size_t cap)
{
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return CS_ENOMEM;
    size_t mask = cap - 1;
    for (size_t e = 0; e < v->count; e++) {
        size_t i = v->entries[e].hash & mask;
        while (idx[i])
            i = (i + 1) & mask;
        idx[i] = (uint32_t)(e + 1);
    }
    free(v->index);
    v->index = idx;
    v->index_cap = cap;
    return 0;
}

int cs__prom_vector_add(cs_prom_vector_t *v, const char *key, size_t len, double value)
{
    uint32_t h = cs__prom_hash(key, len);
    long found = cs__vec_find(v, key, len, h);
    if (found >= 0) {
        v->entries[found].value += value;
        return 0;
    }
    if (v->keys_len + len + 1 > CS__VEC_MAX_BYTES || v->count + 1 > CS__VEC_MAX_BYTES / 2)
        return CS_ETOOBIG;
    if (v->keys_len + len + 1 > v->keys_cap) {
        size_t cap = v->keys_cap ? v->keys_cap : 1024;
        while (cap < v->keys_len + len + 1)
            cap *= 2;
        char *k = realloc(v->keys, cap);
        if (!k)
            return CS_ENOMEM;
        v->keys = k;
        v->keys_cap = cap;
    }
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        cs__vec_entry_t *e = realloc(v->entries, cap * sizeof *e);
        if (!e)
            return CS_ENOMEM;
        v->entries = e;
        v->cap = cap;
    }
    /* keep the index at most half full */
    if ((v->count + 1) * 2 > v->index_cap) {
        int rc = cs__vec_reindex(v, v->index_cap ? v->index_cap * 2 : 128);
        if (rc)
            return rc;
    }
    memcpy(v->keys + v->keys_len, key, len);
    v->keys[v->keys_len + len] = '\0';
    cs__vec_entry_t *e = &v->entries[v->count];
    e->off = (uint32_t)v->keys_len;
    e->len = (uint32_t)len;
    e->hash = h;
    e->value = value;
    v->keys_len += len + 1;
    size_t mask = v->index_cap - 1, i = h & mask;
    while (v->index[i])
        i = (i + 1) & mask;
    v->index[i] = (uint32_t)(v->count + 1);
    v->count++;
    return 0;
}

int cs_prom_vector_get(const cs_prom_vector_t *v, const char *key, double *value)
{
    if (!v || !key)
        return CS_ENOTFOUND;
    size_t len = strlen(key);
    long i = cs__vec_find(v, key, len, cs__prom_hash(key, len));
    if (i < 0)
        return CS_ENOTFOUND;
    if (value)
        *value = v->entries[i].value;
    return 0;
}

bool cs_prom_vector_at(const cs_prom_vector_t *v, size_t i, const char **key, double *value)
{
    if (!v || i >= v->count)
        return false;
    if (key)
        *key = v->keys + v->entries[i].off;
    if (value)
        *value = v->entries[i].value;
    return true;
}

const char *cs_prom_result_type_name(cs_prom_result_type_t t)
{
    switch (t) {
    case CS_PROM_RESULT_VECTOR:
        return "vector";
    case CS_PROM_RESULT_SCALAR:
        return "scalar";
    case CS_PROM_RESULT_MATRIX:
        return "matrix";
    case CS_PROM_RESULT_STRING:
        return "string";
    case CS_PROM_RESULT_NONE:
        break;
    }
    return "none";
}

void cs_prom_result_free(cs_prom_result_t *r)
{
    if (!r)
        return;
    cs_prom_vector_free(r->vector);
    memset(r, 0, sizeof *r);
}

const char *cs_prom_iops_state_name(cs_prom_iops_state_t s)
{
    switch (s) {
    case CS_PROM_IOPS_KNOWN:
        return "known";
    case CS_PROM_IOPS_NO_DATA:
        return "no-data";
    case CS_PROM_IOPS_INVALID:
        return "invalid";
    case CS_PROM_IOPS_UNAVAILABLE:
        return "unavailable";
    case CS_PROM_IOPS_YOUNG:
        return "young";
    }
    return "invalid";
}
