/* store.c: the memory behind decoded Mayastor objects (an arena of stable
 * chunks, a string interner, the volume uuid index), UUIDs, and the enum
 * tables (API spelling <-> value). */
#include <stdlib.h>
#include <string.h>

#include "mayastor/internal.h"

#define CS__CHUNK ((size_t)64 * 1024)

typedef struct cs__chunk_s {
    struct cs__chunk_s *next;
    size_t used, cap;
    _Alignas(8) char data[];
} cs__chunk_t;

typedef struct {
    const char *s;
    uint32_t hash, len;
} cs__istr_t;

/* A distinct label set (interned strings, so equal sets are equal arrays
 * of pointers). */
typedef struct {
    const cs_mayastor_label_t *labels;
    uint32_t count, hash;
} cs__iset_t;

/* Distinct label sets remembered while decoding: enough for the sets a
 * cluster's StorageClasses give; past it a new set is simply copied. */
#define CS__MAX_SETS 1024

struct cs__mayastor_store_s {
    cs__chunk_t *chunks;
    size_t bytes;
    cs__istr_t *strs;
    size_t strs_cap, strs_count;
    cs__iset_t *sets; /* only while decoding: freed when the list is complete */
    size_t sets_cap, sets_count;
    uint32_t *index; /* volume position + 1; 0 = empty */
    size_t index_cap, indexed;
};

/* The packed structs of mayastor.h: every enum value fits its bit-field. */
_Static_assert(CS_MAYASTOR_SPEC_OTHER < 16 && CS_MAYASTOR_OP_OTHER < 16 && CS_MAYASTOR_PROTOCOL_OTHER < 16 &&
                   CS_MAYASTOR_VOLUME_OTHER < 16,
               "volume enums fit 4 bits");
_Static_assert(CS_MAYASTOR_STATE_OTHER < 256 && CS_MAYASTOR_CHILD_OTHER < 256 && CS_MAYASTOR_REASON_OTHER < 256 &&
                   CS_MAYASTOR_NEXUS_OTHER < 256,
               "replica/child/nexus enums fit 8 bits");
_Static_assert(CS__MS_MAX_LABELS < 2048 && CS__MS_MAX_REPLICAS < 2048, "volume counts fit 11 bits");
_Static_assert(CS__MS_MAX_CHILDREN <= UINT16_MAX, "child count fits 16 bits");

static uint32_t cs__hash(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    return h;
}

cs__mayastor_store_t *cs__ms_store_new(void)
{
    return calloc(1, sizeof(cs__mayastor_store_t));
}

void cs__ms_store_free(cs__mayastor_store_t *s)
{
    if (!s)
        return;
    for (cs__chunk_t *c = s->chunks, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    free(s->strs);
    free(s->sets);
    free(s->index);
    free(s);
}

size_t cs__ms_store_bytes(const cs__mayastor_store_t *s)
{
    if (!s)
        return 0;
    return sizeof *s + s->bytes + s->strs_cap * sizeof *s->strs + s->sets_cap * sizeof *s->sets +
           s->index_cap * sizeof *s->index;
}

int cs__ms_ensure_store(cs__mayastor_store_t **store)
{
    if (!*store)
        *store = cs__ms_store_new();
    return *store ? 0 : CS_ENOMEM;
}

void *cs__ms_alloc(cs__mayastor_store_t *s, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    cs__chunk_t *c = s->chunks;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > CS__CHUNK / 4 ? size : CS__CHUNK;
        cs__chunk_t *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->used = 0;
        n->cap = cap;
        s->bytes += sizeof *n + cap;
        if (c && size > CS__CHUNK / 4) {
            /* a big one-off: keep filling the current chunk afterwards */
            n->next = c->next;
            c->next = n;
            n->used = size;
            return n->data;
        }
        n->next = c;
        s->chunks = c = n;
    }
    void *p = c->data + c->used;
    c->used += size;
    return p;
}

const char *cs__ms_strdup(cs__mayastor_store_t *s, const char *text, size_t len)
{
    char *p = cs__ms_alloc(s, len + 1);
    if (!p)
        return NULL;
    memcpy(p, text, len);
    p[len] = '\0';
    return p;
}

const char *cs__ms_intern(cs__mayastor_store_t *s, const char *text, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    if ((s->strs_count + 1) * 2 > s->strs_cap) {
        size_t cap = s->strs_cap ? s->strs_cap * 2 : 64;
        cs__istr_t *t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < s->strs_cap; i++) {
            if (!s->strs[i].s)
                continue;
            size_t j = s->strs[i].hash & (cap - 1);
            while (t[j].s)
                j = (j + 1) & (cap - 1);
            t[j] = s->strs[i];
        }
        free(s->strs);
        s->strs = t;
        s->strs_cap = cap;
    }
    uint32_t h = cs__hash(text, len);
    size_t mask = s->strs_cap - 1;
    size_t j = h & mask;
    for (; s->strs[j].s; j = (j + 1) & mask)
        if (s->strs[j].hash == h && s->strs[j].len == len && memcmp(s->strs[j].s, text, len) == 0)
            return s->strs[j].s;
    const char *copy = cs__ms_strdup(s, text, len);
    if (!copy)
        return NULL;
    s->strs[j].s = copy;
    s->strs[j].hash = h;
    s->strs[j].len = (uint32_t)len;
    s->strs_count++;
    return copy;
}

void *cs__ms_copy(cs__mayastor_store_t *s, const void *src, size_t n, size_t sz, int *rc)
{
    if (n == 0)
        return NULL;
    void *p = cs__ms_alloc(s, n * sz);
    if (!p) {
        *rc = CS_ENOMEM;
        return NULL;
    }
    memcpy(p, src, n * sz);
    return p;
}

const cs_mayastor_label_t *cs__ms_label_set(cs__mayastor_store_t *s, const cs_mayastor_label_t *labels, size_t n,
                                            int *rc)
{
    if (n == 0)
        return NULL;
    uint32_t h = cs__hash(labels, n * sizeof *labels);
    if (s->sets_cap) {
        size_t mask = s->sets_cap - 1;
        for (size_t j = h & mask; s->sets[j].labels; j = (j + 1) & mask)
            if (s->sets[j].hash == h && s->sets[j].count == n &&
                memcmp(s->sets[j].labels, labels, n * sizeof *labels) == 0)
                return s->sets[j].labels;
    }
    const cs_mayastor_label_t *copy = cs__ms_copy(s, labels, n, sizeof *labels, rc);
    if (!copy || s->sets_count >= CS__MAX_SETS)
        return copy;
    if ((s->sets_count + 1) * 2 > s->sets_cap) {
        size_t cap = s->sets_cap ? s->sets_cap * 2 : 16;
        cs__iset_t *t = calloc(cap, sizeof *t);
        if (!t)
            return copy; /* not remembered: the next equal set is copied too */
        for (size_t i = 0; i < s->sets_cap; i++) {
            if (!s->sets[i].labels)
                continue;
            size_t j = s->sets[i].hash & (cap - 1);
            while (t[j].labels)
                j = (j + 1) & (cap - 1);
            t[j] = s->sets[i];
        }
        free(s->sets);
        s->sets = t;
        s->sets_cap = cap;
    }
    size_t mask = s->sets_cap - 1, j = h & mask;
    while (s->sets[j].labels)
        j = (j + 1) & mask;
    s->sets[j] = (cs__iset_t){.labels = copy, .count = (uint32_t)n, .hash = h};
    s->sets_count++;
    return copy;
}

void *cs__ms_grow(void **items, size_t *count, size_t *cap, size_t sz)
{
    if (*count == *cap) {
        /* 1.5x: a list's final copy holds at most half again its items, and
         * the realloc that gets there touches 2.5x, not 3x */
        size_t ncap = *cap ? *cap + *cap / 2 : 16;
        void *n = realloc(*items, ncap * sz);
        if (!n)
            return NULL;
        *items = n;
        *cap = ncap;
    }
    char *p = (char *)*items + (*count)++ * sz;
    memset(p, 0, sz);
    return p;
}

/* ---- containers ---- */

int cs__ms_index_volumes(cs_mayastor_volumes_t *v)
{
    if (cs__ms_ensure_store(&v->store))
        return CS_ENOMEM;
    /* the list is complete: give back the growth slack */
    if (v->count && v->cap > v->count) {
        cs_mayastor_volume_t *items = realloc(v->items, v->count * sizeof *items);
        if (items) {
            v->items = items;
            v->cap = v->count;
        }
    }
    cs__mayastor_store_t *s = v->store;
    /* the label sets only serve decoding */
    free(s->sets);
    s->sets = NULL;
    s->sets_cap = s->sets_count = 0;
    /* load factor <= 0.75 (linear probing over random uuids) */
    size_t cap = 16;
    while (cap < v->count + v->count / 3)
        cap *= 2;
    uint32_t *idx = calloc(cap, sizeof *idx);
    if (!idx)
        return CS_ENOMEM;
    for (size_t i = 0; i < v->count; i++) {
        size_t j = cs__hash(v->items[i].uuid.b, 16) & (cap - 1);
        while (idx[j])
            j = (j + 1) & (cap - 1);
        idx[j] = (uint32_t)(i + 1);
    }
    free(s->index);
    s->index = idx;
    s->index_cap = cap;
    s->indexed = v->count;
    return 0;
}

void cs_mayastor_volumes_free(cs_mayastor_volumes_t *v)
{
    if (!v)
        return;
    free(v->items);
    cs__ms_store_free(v->store);
    memset(v, 0, sizeof *v);
}

const cs_mayastor_volume_t *cs_mayastor_volumes_find(const cs_mayastor_volumes_t *v, const cs_mayastor_uuid_t *uuid)
{
    if (!v || !uuid)
        return NULL;
    const cs__mayastor_store_t *s = v->store;
    if (s && s->index && s->indexed == v->count) {
        size_t mask = s->index_cap - 1;
        for (size_t j = cs__hash(uuid->b, 16) & mask; s->index[j]; j = (j + 1) & mask)
            if (memcmp(v->items[s->index[j] - 1].uuid.b, uuid->b, 16) == 0)
                return &v->items[s->index[j] - 1];
        return NULL;
    }
    for (size_t i = 0; i < v->count; i++)
        if (memcmp(v->items[i].uuid.b, uuid->b, 16) == 0)
            return &v->items[i];
    return NULL;
}

const cs_mayastor_replica_t *cs_mayastor_volume_replica(const cs_mayastor_volume_t *v,
                                                        const cs_mayastor_uuid_t *replica)
{
    if (!v || !replica)
        return NULL;
    for (size_t i = 0; i < v->replica_count; i++)
        if (memcmp(v->replicas[i].uuid.b, replica->b, 16) == 0)
            return &v->replicas[i];
    return NULL;
}

size_t cs_mayastor_volumes_memory(const cs_mayastor_volumes_t *v)
{
    if (!v)
        return 0;
    return v->cap * sizeof *v->items + cs__ms_store_bytes(v->store);
}

void cs_mayastor_pools_free(cs_mayastor_pools_t *p)
{
    if (!p)
        return;
    free(p->items);
    cs__ms_store_free(p->store);
    memset(p, 0, sizeof *p);
}

const cs_mayastor_pool_t *cs_mayastor_pools_find(const cs_mayastor_pools_t *p, const char *id)
{
    if (!p || !id)
        return NULL;
    for (size_t i = 0; i < p->count; i++)
        if (p->items[i].id && strcmp(p->items[i].id, id) == 0)
            return &p->items[i];
    return NULL;
}

const char *cs_mayastor_pool_label(const cs_mayastor_pool_t *p, const char *key)
{
    if (!p || !key)
        return NULL;
    for (size_t i = 0; i < p->label_count; i++)
        if (strcmp(p->labels[i].key, key) == 0)
            return p->labels[i].value;
    return NULL;
}

void cs_mayastor_nodes_free(cs_mayastor_nodes_t *n)
{
    if (!n)
        return;
    free(n->items);
    cs__ms_store_free(n->store);
    memset(n, 0, sizeof *n);
}

void cs_mayastor_children_free(cs_mayastor_children_t *c)
{
    if (!c)
        return;
    free(c->items);
    cs__ms_store_free(c->store);
    memset(c, 0, sizeof *c);
}

void cs_mayastor_rebuild_history_free(cs_mayastor_rebuild_history_t *h)
{
    if (!h)
        return;
    cs__ms_store_free(h->store);
    memset(h, 0, sizeof *h);
}

/* ---- uuids ---- */

/* hex digit value + 1; 0 = not a hex digit */
static const uint8_t cs__hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int cs_mayastor_uuid_parse(const char *text, size_t len, cs_mayastor_uuid_t *out)
{
    /* positions of the 16 byte pairs in 8-4-4-4-12 */
    static const uint8_t at[16] = {0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34};
    if (!text || len != 36 || text[8] != '-' || text[13] != '-' || text[18] != '-' || text[23] != '-')
        return CS_EPARSE;
    cs_mayastor_uuid_t u;
    const unsigned char *t = (const unsigned char *)text;
    for (size_t i = 0; i < 16; i++) {
        unsigned hi = cs__hexv[t[at[i]]], lo = cs__hexv[t[at[i] + 1]];
        if (!hi || !lo)
            return CS_EPARSE;
        u.b[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    *out = u;
    return 0;
}

char *cs_mayastor_uuid_format(const cs_mayastor_uuid_t *u, char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u->b[i] >> 4];
        out[o++] = hex[u->b[i] & 15];
    }
    out[o] = '\0';
    return out;
}

bool cs_mayastor_uuid_eq(const cs_mayastor_uuid_t *a, const cs_mayastor_uuid_t *b)
{
    return memcmp(a->b, b->b, 16) == 0;
}

bool cs_mayastor_uuid_is_nil(const cs_mayastor_uuid_t *u)
{
    static const cs_mayastor_uuid_t nil;
    return memcmp(u->b, nil.b, 16) == 0;
}

void cs__ms_uri_uuid(const char *uri, size_t len, cs_mayastor_uuid_t *out)
{
    memset(out, 0, sizeof *out);
    const char *q = memchr(uri, '?', len);
    if (!q)
        return;
    const char *end = uri + len;
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop - p == 5 + 36 && memcmp(p, "uuid=", 5) == 0) {
            if (cs_mayastor_uuid_parse(p + 5, 36, out) != 0)
                memset(out, 0, sizeof *out);
            return;
        }
        p = amp ? amp + 1 : end;
    }
}

/* ---- enums: index = value; [0] = NONE (""), last = OTHER ("?") ---- */

static int cs__lookup(const char *const *names, size_t count, const char *t, size_t n)
{
    for (size_t i = 1; i + 1 < count; i++)
        if (n && names[i][0] == t[0] && strlen(names[i]) == n && memcmp(names[i], t, n) == 0)
            return (int)i;
    return (int)count - 1;
}

#define CS__ENUM(fn, type, ...)                                                            \
    static const char *const fn##_names[] = {"", __VA_ARGS__, "?"};                        \
    type cs__ms_##fn(const char *t, size_t n)                                              \
    {                                                                                      \
        return (type)cs__lookup(fn##_names, sizeof fn##_names / sizeof *fn##_names, t, n); \
    }                                                                                      \
    const char *cs_mayastor_##fn##_name(type v)                                            \
    {                                                                                      \
        size_t c = sizeof fn##_names / sizeof *fn##_names;                                 \
        return (size_t)v < c ? fn##_names[v] : "?";                                        \
    }

CS__ENUM(spec_status, cs_mayastor_spec_status_t, "Creating", "Created", "Deleting", "Deleted")
CS__ENUM(volume_status, cs_mayastor_volume_status_t, "Unknown", "Online", "Degraded", "Faulted", "Shutdown")
CS__ENUM(state, cs_mayastor_state_t, "Unknown", "Online", "Degraded", "Faulted")
CS__ENUM(child_state, cs_mayastor_child_state_t, "Unknown", "Online", "Degraded", "Faulted")
CS__ENUM(child_reason, cs_mayastor_child_reason_t, "OutOfSpace")
CS__ENUM(nexus_state, cs_mayastor_nexus_state_t, "Unknown", "Online", "Degraded", "Faulted", "ShuttingDown", "Shutdown")
CS__ENUM(node_status, cs_mayastor_node_status_t, "Unknown", "Online", "Offline")
CS__ENUM(operation, cs_mayastor_operation_t, "Create", "Destroy", "Share", "Unshare", "SetReplica",
         "RemoveUnusedReplica", "Publish", "Republish", "Unpublish", "CreateSnapshot", "DestroySnapshot", "Resize",
         "SetVolumeProperty")
CS__ENUM(rebuild_state, cs_mayastor_rebuild_state_t, "Init", "Rebuilding", "Stopped", "Paused", "Failed", "Completed")

#define CS__KIND_TEXT(name, text) text,
static const char *const kind_names[] = {"", CS_MAYASTOR_KIND_MAP(CS__KIND_TEXT) "?"};
#undef CS__KIND_TEXT
cs_mayastor_kind_t cs__ms_kind(const char *t, size_t n)
{
    return (cs_mayastor_kind_t)cs__lookup(kind_names, sizeof kind_names / sizeof *kind_names, t, n);
}
const char *cs_mayastor_kind_name(cs_mayastor_kind_t v)
{
    return (size_t)v < sizeof kind_names / sizeof *kind_names ? kind_names[v] : "?";
}
_Static_assert(sizeof kind_names / sizeof *kind_names == CS_MAYASTOR_KIND_OTHER + 1, "kind table and enum agree");

/* "none" is a protocol value of its own in the API; it maps to NONE. */
static const char *const protocol_names[] = {"", "nvmf", "iscsi", "nbd", "?"};
cs_mayastor_protocol_t cs__ms_protocol(const char *t, size_t n)
{
    if (n == 4 && memcmp(t, "none", 4) == 0)
        return CS_MAYASTOR_PROTOCOL_NONE;
    return (cs_mayastor_protocol_t)cs__lookup(protocol_names, 5, t, n);
}
const char *cs_mayastor_protocol_name(cs_mayastor_protocol_t v)
{
    return (size_t)v < 5 ? (v == CS_MAYASTOR_PROTOCOL_NONE ? "none" : protocol_names[v]) : "?";
}
