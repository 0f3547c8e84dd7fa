/* cluster.c: projections of API objects and the plan input built from them. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/controller.h"
#include "couchestor/json.h"
#include "couchestor/migrator.h"
#include "couchestor/quantity.h"
#include "couchestor/rfc3339.h"
#include "couchestor/yaml.h"

/* ---- PersistentVolume projection ---- */

/* A cluster has a handful of StorageClasses and label keys, and 10,000s of
 * PVs repeating them: those strings are interned once per process (at most
 * CS__INTERN_MAX of them, each <= CS__INTERN_LEN bytes; the rest are stored
 * in the PV). Entries are never removed; readers need no lock (an entry is
 * written before the count that publishes it). */
#define CS__INTERN_MAX 256
#define CS__INTERN_LEN 253

typedef struct {
    const char *s;
    uint32_t len, hash;
} cs__interned_t;

static cs__interned_t cs__interned[CS__INTERN_MAX];
static _Atomic size_t cs__interned_n;
static pthread_mutex_t cs__intern_mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t cs__str_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static const char *cs__intern_find(size_t from, size_t to, const char *s, size_t n, uint32_t h)
{
    for (size_t i = from; i < to; i++)
        if (cs__interned[i].hash == h && cs__interned[i].len == n && memcmp(cs__interned[i].s, s, n) == 0)
            return cs__interned[i].s;
    return NULL;
}

/* The process-wide copy of s[0..n), or NULL when s is not interned (too
 * long, the table is full, out of memory): the caller keeps its own copy. */
static const char *cs__intern(const char *s, size_t n)
{
    if (n > CS__INTERN_LEN)
        return NULL;
    uint32_t h = cs__str_hash(s, n);
    size_t count = atomic_load_explicit(&cs__interned_n, memory_order_acquire);
    const char *found = cs__intern_find(0, count, s, n, h);
    if (found || count == CS__INTERN_MAX)
        return found;
    pthread_mutex_lock(&cs__intern_mu);
    size_t now = atomic_load_explicit(&cs__interned_n, memory_order_relaxed);
    found = cs__intern_find(count, now, s, n, h);
    if (!found && now < CS__INTERN_MAX) {
        char *copy = malloc(n + 1);
        if (copy) {
            memcpy(copy, s, n);
            copy[n] = '\0';
            cs__interned[now] = (cs__interned_t){copy, (uint32_t)n, h};
            atomic_store_explicit(&cs__interned_n, now + 1, memory_order_release);
            found = copy;
        }
    }
    pthread_mutex_unlock(&cs__intern_mu);
    return found;
}

/* Most labels/annotations one object may carry (as cs_kube_meta_field). */
#define CS__PV_MAX_ENTRIES 1024
#define CS__NO_SPAN UINT32_MAX

/* A string in the scratch buffer (NUL-terminated there). */
typedef struct {
    uint32_t off, len; /* off == CS__NO_SPAN: absent */
} cs__span_t;

typedef struct {
    cs__span_t key, value;
} cs__pv_label_t;

typedef enum {
    CS__SEC_NONE,
    CS__SEC_META,
    CS__SEC_SPEC
} cs__pv_sec1_t;
typedef enum {
    CS__SEC2_NONE,
    CS__SEC2_LABELS,
    CS__SEC2_ANNOTATIONS,
    CS__SEC2_CSI,
    CS__SEC2_CAPACITY,
    CS__SEC2_CLAIMREF
} cs__pv_sec2_t;

/* What one PV needs while it is decoded; freed (or turned into the PV's
 * one block) at finish. */
typedef struct {
    char *buf;
    size_t len, cap;
    cs__pv_label_t *labels;
    size_t label_count, label_cap;
    size_t annotation_count;
    cs__span_t name, uid, rv, sc, journal, claim_ns, claim_name, last_target;
    uint8_t sec1, sec2; /* the containers open at item depths 1 and 2 */
    bool driver_mayastor, handle_ok;
    cs_kube_meta_t meta; /* namespace, generation, timestamps: checked as ObjectMeta */
    char inline_buf[448];
    cs__pv_label_t inline_labels[4];
} cs__pv_scratch_t;

static void cs__pv_scratch_free(cs__pv_scratch_t *s)
{
    if (!s)
        return;
    if (s->buf != s->inline_buf)
        free(s->buf);
    if (s->labels != s->inline_labels)
        free(s->labels);
    cs_kube_meta_free(&s->meta);
    free(s);
}

/* During decoding pv.block is the scratch and pv.name is NULL; a finished
 * PV has its name and its block. */
static cs__pv_scratch_t *cs__pv_scratch(cs_pv_t *pv)
{
    return pv->name ? NULL : pv->block;
}

static void *cs__pv_create(void *ctx)
{
    cs_pv_t *pv = calloc(1, sizeof *pv);
    cs__pv_scratch_t *s = malloc(sizeof *s);
    if (!pv || !s) {
        free(pv);
        free(s);
        return NULL;
    }
    memset(s, 0, offsetof(cs__pv_scratch_t, inline_buf));
    s->buf = s->inline_buf;
    s->cap = sizeof s->inline_buf;
    s->labels = s->inline_labels;
    s->label_cap = sizeof s->inline_labels / sizeof *s->inline_labels;
    s->name = s->uid = s->rv = s->sc = s->journal = s->claim_ns = s->claim_name = s->last_target =
        (cs__span_t){CS__NO_SPAN, 0};
    pv->block = s;
    return pv;
}

/* Appends text (NUL-terminated) to the scratch buffer. */
static int cs__pv_keep(const cs_kube_field_t *f, cs__pv_scratch_t *s, const char *text, size_t n, cs__span_t *out)
{
    if (n + 1 > s->cap - s->len) {
        size_t cap = s->cap > 0 ? s->cap * 2 : sizeof s->inline_buf;
        while (cap - s->len < n + 1)
            cap *= 2;
        if (cap > UINT32_MAX) {
            cs_jstream_fail(f->js, CS_ETOOBIG, "PersistentVolume: more than 4 GiB of strings");
            return CS_ETOOBIG;
        }
        bool was_inline = s->buf == s->inline_buf;
        char *b = was_inline ? malloc(cap) : realloc(s->buf, cap);
        if (!b)
            return CS_ENOMEM;
        if (was_inline)
            memcpy(b, s->inline_buf, s->len);
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, n);
    s->buf[s->len + n] = '\0';
    *out = (cs__span_t){(uint32_t)s->len, (uint32_t)n};
    s->len += n + 1;
    return 0;
}

/* metadata.name/uid/resourceVersion, checked as cs_kube_meta_field does. */
static int cs__pv_meta_str(const cs_kube_field_t *f, cs__pv_scratch_t *s, cs__span_t *dst)
{
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind == CS_JS_NULL)
        return 0;
    if (ev->kind != CS_JS_STRING) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: expected a string", ev->key);
        return CS_EPARSE;
    }
    if (memchr(ev->text, '\0', ev->text_len)) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: contains a NUL character", ev->key);
        return CS_EPARSE;
    }
    return cs__pv_keep(f, s, ev->text, ev->text_len, dst);
}

static bool cs__key_eq(const cs_jstream_event_t *ev, const char *lit, size_t n)
{
    return ev->key_len == n && memcmp(ev->key, lit, n) == 0;
}
#define CS__KEY(ev, lit) cs__key_eq((ev), (lit), sizeof(lit) - 1)

/* A label or annotation, checked as cs_kube_meta_field does. Labels are
 * kept (a repeated key replaces the value); of the annotations only the
 * operator's own are read. */
static int cs__pv_entry(const cs_kube_field_t *f, cs_pv_t *pv, cs__pv_scratch_t *s, bool label)
{
    const cs_jstream_event_t *ev = f->ev;
    const char *what = label ? "labels" : "annotations";
    if (ev->kind != CS_JS_STRING) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s[\"%.64s\"]: expected a string", what, ev->key ? ev->key : "");
        return CS_EPARSE;
    }
    size_t *count = label ? &s->label_count : &s->annotation_count;
    if (*count >= CS__PV_MAX_ENTRIES) {
        cs_jstream_fail(f->js, CS_ETOOBIG, "metadata.%s: more than %d entries", what, CS__PV_MAX_ENTRIES);
        return CS_ETOOBIG;
    }
    if (memchr(ev->text, '\0', ev->text_len) || memchr(ev->key, '\0', ev->key_len)) {
        cs_jstream_fail(f->js, CS_EPARSE, "metadata.%s: contains a NUL character", what);
        return CS_EPARSE;
    }
    int rc;
    if (label) {
        for (size_t i = 0; i < s->label_count; i++) {
            cs__pv_label_t *l = &s->labels[i];
            if (l->key.len == ev->key_len && memcmp(s->buf + l->key.off, ev->key, ev->key_len) == 0)
                return cs__pv_keep(f, s, ev->text, ev->text_len, &l->value);
        }
        if (s->label_count == s->label_cap) {
            size_t cap = s->label_cap > 0 ? s->label_cap * 2 : 8;
            bool was_inline = s->labels == s->inline_labels;
            cs__pv_label_t *l = was_inline ? malloc(cap * sizeof *l) : realloc(s->labels, cap * sizeof *l);
            if (!l)
                return CS_ENOMEM;
            if (was_inline)
                memcpy(l, s->inline_labels, s->label_count * sizeof *l);
            s->labels = l;
            s->label_cap = cap;
        }
        cs__pv_label_t *l = &s->labels[s->label_count];
        if ((rc = cs__pv_keep(f, s, ev->key, ev->key_len, &l->key)) != 0 ||
            (rc = cs__pv_keep(f, s, ev->text, ev->text_len, &l->value)) != 0)
            return rc;
        s->label_count++;
        return 0;
    }
    s->annotation_count++;
    if (ev->key_len < 14 || memcmp(ev->key, "couchestor.io/", 14) != 0)
        return 0;
    if (CS__KEY(ev, CS_ANNOTATION_MIGRATION))
        return cs__pv_keep(f, s, ev->text, ev->text_len, &s->journal);
    if (CS__KEY(ev, CS_ANNOTATION_LAST_TARGET))
        return cs__pv_keep(f, s, ev->text, ev->text_len, &s->last_target);
    bool last = CS__KEY(ev, CS_ANNOTATION_LAST_MIGRATION), retry = CS__KEY(ev, CS_ANNOTATION_RETRY_AFTER);
    bool failures = CS__KEY(ev, CS_ANNOTATION_FAILURES);
    if (!last && !retry && !failures)
        return 0;
    /* parsed from a NUL-terminated copy at the end of the scratch buffer,
     * which the next string overwrites */
    cs__span_t t;
    size_t mark = s->len;
    if ((rc = cs__pv_keep(f, s, ev->text, ev->text_len, &t)) != 0)
        return rc;
    const char *text = s->buf + t.off;
    if (failures) {
        long n = strtol(text, NULL, 10);
        pv->failures = n > 0 && n < 1000 ? (int)n : 0;
    } else {
        int64_t *dst = last ? &pv->last_migration : &pv->retry_after;
        if (cs_rfc3339_parse(text, dst, NULL) != 0)
            *dst = 0; /* unreadable: as if never migrated / no wait */
    }
    s->len = mark;
    return 0;
}

/* Every token of every PV passes here (10,000 PVs: ~0.5 M tokens per list):
 * the containers open at the item's depths 1 and 2 are remembered when they
 * open, so a token is a switch on its depth and key length; every subtree
 * nothing reads (metadata.managedFields, spec.nodeAffinity,
 * spec.csi.volumeAttributes, status, ...) is skipped by the stream itself. */
/* Depth 1: only metadata and spec are read. */
static int cs__pv_field_top(cs__pv_scratch_t *s, const cs_jstream_event_t *ev, bool opens, bool closes)
{
    if (closes) {
        s->sec1 = CS__SEC_NONE;
    } else if (opens) {
        if (ev->kind == CS_JS_MAP_START && CS__KEY(ev, "metadata"))
            s->sec1 = CS__SEC_META;
        else if (ev->kind == CS_JS_MAP_START && CS__KEY(ev, "spec"))
            s->sec1 = CS__SEC_SPEC;
        else
            return CS_KUBE_SKIP;
    }
    return 0;
}

/* Depth 2 under metadata: name, uid, resourceVersion, labels, annotations. */
static int cs__pv_field_meta(const cs_kube_field_t *f, cs__pv_scratch_t *s, bool opens)
{
    const cs_jstream_event_t *ev = f->ev;
    switch (ev->key_len) {
    case 4:
        if (CS__KEY(ev, "name"))
            return cs__pv_meta_str(f, s, &s->name);
        break;
    case 3:
        if (CS__KEY(ev, "uid"))
            return cs__pv_meta_str(f, s, &s->uid);
        break;
    case 15:
        if (CS__KEY(ev, "resourceVersion"))
            return cs__pv_meta_str(f, s, &s->rv);
        break;
    case 6:
    case 11:
        if (CS__KEY(ev, "labels") || CS__KEY(ev, "annotations")) {
            if (ev->kind == CS_JS_MAP_START) {
                s->sec2 = ev->key_len == 6 ? CS__SEC2_LABELS : CS__SEC2_ANNOTATIONS;
                return 0;
            }
            return cs_kube_meta_field(&s->meta, f); /* null, or the type error */
        }
        break;
    case 9:
    case 10:
    case 17: {
        /* namespace, generation, creation/deletionTimestamp: not kept, but a
         * PV where they are wrong is as rejected as with cs_kube_meta_field
         * (which ignores other keys) */
        int rc = cs_kube_meta_field(&s->meta, f);
        if (rc)
            return rc;
        break;
    }
    default:
        break;
    }
    return opens ? CS_KUBE_SKIP : 0;
}

/* Depth 2 under spec: csi, capacity, claimRef, storageClassName. */
static int cs__pv_field_spec(const cs_kube_field_t *f, cs__pv_scratch_t *s, bool opens)
{
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind == CS_JS_MAP_START && CS__KEY(ev, "csi"))
        s->sec2 = CS__SEC2_CSI;
    else if (ev->kind == CS_JS_MAP_START && CS__KEY(ev, "capacity"))
        s->sec2 = CS__SEC2_CAPACITY;
    else if (ev->kind == CS_JS_MAP_START && CS__KEY(ev, "claimRef"))
        s->sec2 = CS__SEC2_CLAIMREF;
    else if (opens)
        return CS_KUBE_SKIP;
    else if (ev->kind == CS_JS_STRING && CS__KEY(ev, "storageClassName"))
        /* as a C string: up to a NUL, as it always was */
        return cs__pv_keep(f, s, ev->text, strnlen(ev->text, ev->text_len), &s->sc);
    return 0;
}

/* spec.csi.driver and spec.csi.volumeHandle. */
static void cs__pv_field_csi(const cs_jstream_event_t *ev, cs_pv_t *pv, cs__pv_scratch_t *s)
{
    if (ev->kind != CS_JS_STRING)
        return;
    if (CS__KEY(ev, "driver")) {
        size_t n = strnlen(ev->text, ev->text_len);
        s->driver_mayastor = n == strlen(CS_MAYASTOR_CSI_DRIVER) && memcmp(ev->text, CS_MAYASTOR_CSI_DRIVER, n) == 0;
    } else if (CS__KEY(ev, "volumeHandle")) {
        s->handle_ok = cs_mayastor_uuid_parse(ev->text, strnlen(ev->text, ev->text_len), &pv->volume) == 0;
    }
}

/* spec.claimRef.namespace and .name: the claim the PV is bound to (its
 * labels and its Namespace's count in a policy's selection). Kept as C
 * strings, up to a NUL, as storageClassName. */
static int cs__pv_field_claim(const cs_kube_field_t *f, cs__pv_scratch_t *s)
{
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind != CS_JS_STRING)
        return 0;
    if (CS__KEY(ev, "namespace"))
        return cs__pv_keep(f, s, ev->text, strnlen(ev->text, ev->text_len), &s->claim_ns);
    if (CS__KEY(ev, "name"))
        return cs__pv_keep(f, s, ev->text, strnlen(ev->text, ev->text_len), &s->claim_name);
    return 0;
}

/* spec.capacity.storage, parsed in the scratch space and not kept. */
static int cs__pv_field_capacity(const cs_kube_field_t *f, cs_pv_t *pv, cs__pv_scratch_t *s)
{
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind != CS_JS_STRING || !CS__KEY(ev, "storage"))
        return 0;
    cs__span_t t;
    size_t mark = s->len;
    int rc = cs__pv_keep(f, s, ev->text, ev->text_len, &t);
    if (rc)
        return rc;
    int64_t cap;
    pv->capacity = cs_quantity_parse(s->buf + t.off, &cap, NULL) == 0 && cap > 0 ? (uint64_t)cap : 0;
    s->len = mark;
    return 0;
}

/* Depth 3: the entries of the section depth 2 opened. */
static int cs__pv_field_entry(const cs_kube_field_t *f, cs_pv_t *pv, cs__pv_scratch_t *s, bool opens)
{
    switch (s->sec2) {
    case CS__SEC2_LABELS:
        return cs__pv_entry(f, pv, s, true);
    case CS__SEC2_ANNOTATIONS:
        return cs__pv_entry(f, pv, s, false);
    case CS__SEC2_CSI:
        if (opens)
            return CS_KUBE_SKIP;
        cs__pv_field_csi(f->ev, pv, s);
        return 0;
    case CS__SEC2_CAPACITY:
        return opens ? CS_KUBE_SKIP : cs__pv_field_capacity(f, pv, s);
    case CS__SEC2_CLAIMREF:
        return opens ? CS_KUBE_SKIP : cs__pv_field_claim(f, s);
    default:
        return 0;
    }
}

static int cs__pv_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs_pv_t *pv = obj;
    cs__pv_scratch_t *s = cs__pv_scratch(pv);
    const cs_jstream_event_t *ev = f->ev;
    bool opens = ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START;
    bool closes = ev->kind == CS_JS_MAP_END || ev->kind == CS_JS_ARRAY_END;
    if (!s)
        return 0;
    switch (f->depth) {
    case 1:
        return cs__pv_field_top(s, ev, opens, closes);
    case 2:
        if (closes) {
            s->sec2 = CS__SEC2_NONE;
            return 0;
        }
        if (s->sec1 == CS__SEC_META)
            return cs__pv_field_meta(f, s, opens);
        return s->sec1 == CS__SEC_SPEC ? cs__pv_field_spec(f, s, opens) : 0;
    case 3:
        return closes ? 0 : cs__pv_field_entry(f, pv, s, opens);
    default:
        return 0;
    }
}

static size_t cs__span_size(cs__span_t sp)
{
    return sp.off == CS__NO_SPAN ? 0 : (size_t)sp.len + 1;
}

static const char *cs__span_put(const cs__pv_scratch_t *s, cs__span_t sp, char **at)
{
    if (sp.off == CS__NO_SPAN)
        return NULL;
    char *p = *at;
    memcpy(p, s->buf + sp.off, (size_t)sp.len + 1);
    *at += sp.len + 1;
    return p;
}

/* Turns the scratch into the PV's one block: the label array, then the
 * strings back to back. */
static int cs__pv_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs_pv_t *pv = obj;
    cs__pv_scratch_t *s = cs__pv_scratch(pv);
    if (!s)
        return 0;
    if (s->name.off == CS__NO_SPAN)
        return cs_err_set(err, CS_EPARSE, "PersistentVolume without metadata.name");
    const char *sc = s->sc.off == CS__NO_SPAN ? NULL : cs__intern(s->buf + s->sc.off, s->sc.len);
    /* a claim is both of its names; a namespace repeats across PVs */
    if (s->claim_ns.off == CS__NO_SPAN || s->claim_name.off == CS__NO_SPAN)
        s->claim_ns = s->claim_name = (cs__span_t){CS__NO_SPAN, 0};
    const char *cns = s->claim_ns.off == CS__NO_SPAN ? NULL : cs__intern(s->buf + s->claim_ns.off, s->claim_ns.len);
    /* a pool id repeats across PVs too */
    const char *lt =
        s->last_target.off == CS__NO_SPAN ? NULL : cs__intern(s->buf + s->last_target.off, s->last_target.len);
    const char *keys[CS__PV_MAX_ENTRIES];
    size_t size = s->label_count * sizeof(cs_label_t) + cs__span_size(s->name) + cs__span_size(s->uid) +
                  cs__span_size(s->rv) + cs__span_size(s->journal) + (sc ? 0 : cs__span_size(s->sc)) +
                  cs__span_size(s->claim_name) + (cns ? 0 : cs__span_size(s->claim_ns)) +
                  (lt ? 0 : cs__span_size(s->last_target));
    for (size_t i = 0; i < s->label_count; i++) {
        const cs__pv_label_t *l = &s->labels[i];
        keys[i] = cs__intern(s->buf + l->key.off, l->key.len);
        size += (keys[i] ? 0 : cs__span_size(l->key)) + cs__span_size(l->value);
    }
    char *block = malloc(size);
    if (!block)
        return cs_err_set(err, CS_ENOMEM, "PersistentVolume: out of memory");
    cs_label_t *labels = (cs_label_t *)(void *)block;
    char *at = block + s->label_count * sizeof(cs_label_t);
    for (size_t i = 0; i < s->label_count; i++) {
        labels[i].key = keys[i] ? (char *)keys[i] : (char *)cs__span_put(s, s->labels[i].key, &at);
        labels[i].value = (char *)cs__span_put(s, s->labels[i].value, &at);
    }
    pv->labels = (cs_labels_t){s->label_count, s->label_count ? labels : NULL};
    pv->uid = cs__span_put(s, s->uid, &at);
    pv->resource_version = cs__span_put(s, s->rv, &at);
    pv->journal = cs__span_put(s, s->journal, &at);
    pv->storage_class = sc ? sc : cs__span_put(s, s->sc, &at);
    pv->claim_namespace = cns ? cns : cs__span_put(s, s->claim_ns, &at);
    pv->claim_name = cs__span_put(s, s->claim_name, &at);
    pv->last_target_pool = lt ? lt : cs__span_put(s, s->last_target, &at);
    pv->mayastor = s->driver_mayastor;
    pv->has_volume = pv->mayastor && s->handle_ok;
    if (!pv->has_volume)
        memset(&pv->volume, 0, sizeof pv->volume);
    pv->name = cs__span_put(s, s->name, &at); /* last: from here on the PV is built */
    pv->block = block;
    cs__pv_scratch_free(s);
    return 0;
}

void cs_pv_free(cs_pv_t *pv)
{
    if (!pv)
        return;
    if (pv->name)
        free(pv->block);
    else
        cs__pv_scratch_free(pv->block);
    memset(pv, 0, sizeof *pv);
}

static void cs__pv_destroy(void *ctx, void *obj)
{
    cs_pv_t *pv = obj;
    if (!pv)
        return;
    cs_pv_free(pv);
    free(pv);
}

cs_kube_decoder_t cs_pv_decoder(void)
{
    return (cs_kube_decoder_t){
        .create = cs__pv_create, .field = cs__pv_field, .finish = cs__pv_finish, .destroy = cs__pv_destroy};
}

/* ---- DiskPool projection ---- */

typedef struct {
    cs_diskpool_ref_t d;
    cs_kube_meta_t meta;
} cs__dp_build_t;
_Static_assert(offsetof(cs__dp_build_t, d) == 0, "cs_diskpool_ref_t first");

static void *cs__dp_create(void *ctx)
{
    return calloc(1, sizeof(cs__dp_build_t));
}

/* Most entries of spec.topology.labelled (as of metadata.labels). */
#define CS__DP_MAX_TOPOLOGY 1024

static int cs__dp_fail(const cs_kube_field_t *f, int code, const char *what)
{
    cs_jstream_fail(f->js, code, "spec.topology.labelled%s", what);
    return code;
}

/* spec.topology.labelled: an object of strings (untrusted; bounded by the
 * stream's string limit and CS__DP_MAX_TOPOLOGY entries). */
static int cs__dp_topology(cs__dp_build_t *b, const cs_kube_field_t *f)
{
    const cs_jstream_event_t *ev = f->ev;
    if (f->depth == 3 && CS_KUBE_AT(f, "spec", "topology", "labelled")) {
        bool ok = ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_MAP_END || ev->kind == CS_JS_NULL;
        return ok ? 0 : cs__dp_fail(f, CS_EPARSE, ": expected an object");
    }
    if (f->depth != 4 || !CS_KUBE_UNDER(f, "spec", "topology", "labelled"))
        return 0;
    if (ev->kind != CS_JS_STRING)
        return cs__dp_fail(f, CS_EPARSE, ": expected string values");
    if (b->d.topology.count >= CS__DP_MAX_TOPOLOGY)
        return cs__dp_fail(f, CS_ETOOBIG, ": more than 1024 entries");
    if (!ev->key || strlen(ev->key) != ev->key_len || memchr(ev->text, '\0', ev->text_len))
        return cs__dp_fail(f, CS_EPARSE, ": contains a NUL character");
    char *v = malloc(ev->text_len + 1);
    if (!v)
        return CS_ENOMEM;
    memcpy(v, ev->text, ev->text_len);
    v[ev->text_len] = '\0';
    int rc = cs_labels_set(&b->d.topology, ev->key, v);
    free(v);
    return rc == 0 ? 0 : CS_ENOMEM;
}

static int cs__dp_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs__dp_build_t *b = obj;
    if (f->depth >= 3 && CS_KUBE_UNDER(f, "spec", "topology"))
        return cs__dp_topology(b, f);
    return cs_kube_meta_field(&b->meta, f);
}

static int cs__dp_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs__dp_build_t *b = obj;
    b->d.name = b->meta.name;
    b->d.namespace_ = b->meta.namespace;
    b->d.labels = b->meta.labels;
    b->meta.name = b->meta.namespace = NULL;
    memset(&b->meta.labels, 0, sizeof b->meta.labels);
    cs_kube_meta_free(&b->meta);
    if (!b->d.name)
        return cs_err_set(err, CS_EPARSE, "DiskPool without metadata.name");
    return 0;
}

void cs_diskpool_ref_free(cs_diskpool_ref_t *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->namespace_);
    cs_labels_free(&d->labels);
    cs_labels_free(&d->topology);
    memset(d, 0, sizeof *d);
}

static void cs__dp_destroy(void *ctx, void *obj)
{
    cs__dp_build_t *b = obj;
    if (!b)
        return;
    cs_diskpool_ref_free(&b->d);
    cs_kube_meta_free(&b->meta);
    free(b);
}

cs_kube_decoder_t cs_diskpool_decoder(void)
{
    return (cs_kube_decoder_t){
        .create = cs__dp_create, .field = cs__dp_field, .finish = cs__dp_finish, .destroy = cs__dp_destroy};
}

/* ---- JSON tree projection (small objects: policies) ---- */

typedef struct {
    json_t *root;
    json_t *stack[CS_JSON_MAX_DEPTH + 1];
    size_t depth;
} cs__tree_t;

static void *cs__tree_create(void *ctx)
{
    return calloc(1, sizeof(cs__tree_t));
}

static int cs__tree_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs__tree_t *t = obj;
    const cs_jstream_event_t *ev = f->ev;
    json_t *v = NULL;
    switch (ev->kind) {
    case CS_JS_MAP_END:
    case CS_JS_ARRAY_END:
        if (t->depth > 0)
            t->depth--;
        return 0;
    case CS_JS_NULL:
        v = json_null();
        break;
    case CS_JS_BOOL:
        v = json_boolean(ev->b);
        break;
    case CS_JS_INT:
        v = json_integer(ev->i);
        break;
    case CS_JS_NUMBER:
        v = json_real(isfinite(ev->d) ? ev->d : 0);
        break;
    case CS_JS_STRING:
        v = json_stringn_nocheck(ev->text, ev->text_len);
        break;
    case CS_JS_MAP_START:
        v = json_object();
        break;
    case CS_JS_ARRAY_START:
        v = json_array();
        break;
    }
    if (!v)
        return CS_ENOMEM;
    if (t->depth == 0) {
        if (t->root) {
            json_decref(v);
            return CS_EPARSE;
        }
        t->root = v;
    } else {
        json_t *parent = t->stack[t->depth - 1];
        int rc;
        if (json_is_object(parent)) {
            char key[512];
            size_t n = ev->key_len < sizeof key - 1 ? ev->key_len : sizeof key - 1;
            memcpy(key, ev->key ? ev->key : "", n);
            key[n] = '\0';
            rc = json_object_set_new(parent, key, v);
        } else {
            rc = json_array_append_new(parent, v);
        }
        if (rc != 0)
            return CS_ENOMEM;
    }
    if (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START) {
        if (t->depth >= CS_JSON_MAX_DEPTH)
            return CS_EPARSE;
        t->stack[t->depth++] = v;
    }
    return 0;
}

static int cs__tree_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs__tree_t *t = obj;
    if (!t->root || !json_is_object(t->root))
        return cs_err_set(err, CS_EPARSE, "expected a JSON object");
    return 0;
}

static void cs__tree_destroy(void *ctx, void *obj)
{
    cs__tree_t *t = obj;
    if (!t)
        return;
    json_decref(t->root);
    free(t);
}

const json_t *cs_json_tree_root(const void *data)
{
    return data ? ((const cs__tree_t *)data)->root : NULL;
}

cs_kube_decoder_t cs_json_tree_decoder(void)
{
    return (cs_kube_decoder_t){
        .create = cs__tree_create, .field = cs__tree_field, .finish = cs__tree_finish, .destroy = cs__tree_destroy};
}

/* ---- the plan input ---- */

void cs_plan_facts_free(cs_plan_facts_t *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->in.pool_count; i++) {
        if (f->pool_labels)
            cs_labels_free(&f->pool_labels[i]);
        if (f->pool_placement_labels)
            cs_labels_free(&f->pool_placement_labels[i]);
    }
    for (size_t i = 0; i < f->placement_count; i++)
        cs_labels_free(&f->placements[i]);
    free(f->pool_labels);
    free(f->pool_placement_labels);
    free(f->placements);
    free(f->placement_of);
    free(f->volumes);
    free(f->pv_of);
    free(f->pools);
    free(f->replicas);
    free(f->mvol);
    memset(f, 0, sizeof *f);
}

static const cs_diskpool_ref_t *cs__diskpool(const cs_cluster_view_t *view, const char *name)
{
    for (size_t i = 0; i < view->diskpool_count; i++)
        if (strcmp(view->diskpools[i]->name, name) == 0)
            return view->diskpools[i];
    return NULL;
}

bool cs_pv_of_storage_class(const cs_pv_t *pv, const char *storage_class)
{
    return pv->storage_class && storage_class && strcmp(pv->storage_class, storage_class) == 0;
}

static const cs_mayastor_volume_t *cs__mayastor_volume(const cs_cluster_view_t *view, const cs_pv_t *pv)
{
    return pv->has_volume && view->volumes ? cs_mayastor_volumes_find(view->volumes, &pv->volume) : NULL;
}

/* ---- a pool's labels ---- */

typedef enum {
    CS__SRC_METADATA,
    CS__SRC_REST,
    CS__SRC_TOPOLOGY,
    CS__SRC_COUNT
} cs__label_src_t;

static const char *const cs__src_name[CS__SRC_COUNT] = {"metadata.labels", "REST", "spec.topology.labelled"};

/* key's value in source s, or NULL. */
static const char *cs__src_get(const cs_pool_label_sources_t *src, cs__label_src_t s, const char *key)
{
    if (s == CS__SRC_METADATA)
        return src->metadata ? cs_labels_get(src->metadata, key) : NULL;
    if (s == CS__SRC_TOPOLOGY)
        return src->topology ? cs_labels_get(src->topology, key) : NULL;
    return src->rest ? cs_mayastor_pool_label(src->rest, key) : NULL;
}

/* Whether the sources holding key disagree; then *why describes them. */
static bool cs__src_disagree(const cs_pool_label_sources_t *src, const char *key, char *why, size_t len)
{
    const char *first = NULL;
    bool differ = false;
    size_t at = 0;
    why[0] = '\0';
    for (int s = 0; s < CS__SRC_COUNT; s++) {
        const char *v = cs__src_get(src, (cs__label_src_t)s, key);
        if (!v)
            continue;
        differ = differ || (first && strcmp(first, v) != 0);
        first = first ? first : v;
        int n = snprintf(why + at, len - at, "%s%s \"%s\"", at ? ", " : "", cs__src_name[s], v);
        at = n < 0 || (size_t)n >= len - at ? len - 1 : at + (size_t)n;
    }
    return differ;
}

/* Sets every label of one source into out, lowest precedence first. */
static int cs__src_apply(const cs_pool_label_sources_t *src, cs__label_src_t s, cs_labels_t *out)
{
    int rc = 0;
    if (s == CS__SRC_REST) {
        for (size_t i = 0; src->rest && i < src->rest->label_count && rc == 0; i++)
            rc = cs_labels_set(out, src->rest->labels[i].key, src->rest->labels[i].value);
        return rc;
    }
    const cs_labels_t *l = s == CS__SRC_METADATA ? src->metadata : src->topology;
    for (size_t i = 0; l && i < l->count && rc == 0; i++)
        rc = cs_labels_set(out, l->items[i].key, l->items[i].value);
    return rc;
}

int cs_pool_labels_merge(const cs_pool_label_sources_t *src, cs_labels_t *out, cs_labels_t *disagree)
{
    /* lowest precedence first: a later source overwrites a key */
    int rc = cs__src_apply(src, CS__SRC_TOPOLOGY, out);
    if (rc == 0)
        rc = cs__src_apply(src, CS__SRC_REST, out);
    if (rc == 0)
        rc = cs__src_apply(src, CS__SRC_METADATA, out);
    int count = 0;
    char why[3 * 320];
    for (size_t i = 0; i < out->count && rc == 0; i++) {
        if (!cs__src_disagree(src, out->items[i].key, why, sizeof why))
            continue;
        count++;
        if (disagree)
            rc = cs_labels_set(disagree, out->items[i].key, why);
    }
    if (rc != 0) {
        cs_labels_free(out);
        cs_labels_free(disagree);
        return CS_ENOMEM;
    }
    return count;
}

/* Whether selector sel reads key. */
static bool cs__selector_reads(const cs_selector_t *sel, const char *key)
{
    for (size_t i = 0; sel && i < sel->count; i++)
        if (strcmp(sel->reqs[i].key, key) == 0)
            return true;
    return false;
}

static bool cs__policy_reads_pool_key(const cs_storage_policy_spec_t *spec, const char *key)
{
    return cs__selector_reads(spec->hot_pool_selector, key) || cs__selector_reads(spec->cold_pool_selector, key) ||
           (cs_storage_policy_has_warm_tier(spec) && cs__selector_reads(spec->warm_pool_selector, key));
}

/* Appends text to the note, or "..." once it is full. */
static void cs__note_append(char *note, size_t cap, const char *text)
{
    size_t len = strlen(note), n = strlen(text);
    if (len + n < cap) {
        memcpy(note + len, text, n + 1);
        return;
    }
    if (len >= 3 && strcmp(note + len - 3, "...") == 0)
        return;
    size_t at = len + 4 <= cap ? len : cap - 4;
    memcpy(note + at, "...", 4);
}

/* Notes the keys of disagree that the policy's pool selectors read. */
static void cs__facts_note(cs_plan_facts_t *f, const cs_storage_policy_spec_t *spec, const char *pool,
                           const cs_labels_t *disagree)
{
    bool noted = false;
    char part[1200];
    for (size_t i = 0; i < disagree->count; i++) {
        const cs_label_t *d = &disagree->items[i];
        if (!cs__policy_reads_pool_key(spec, d->key))
            continue;
        if (noted)
            snprintf(part, sizeof part, ", %s (%s)", d->key, d->value);
        else
            snprintf(part, sizeof part, "%spool '%s': %s (%s)", f->label_disagreements ? "; " : "", pool, d->key,
                     d->value);
        cs__note_append(f->label_note, sizeof f->label_note, part);
        noted = true;
    }
    f->label_disagreements += noted;
}

static int cs__labels_from_mayastor(const cs_mayastor_label_t *l, size_t n, cs_labels_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (cs_labels_set(out, l[i].key, l[i].value ? l[i].value : "") != 0)
            return CS_ENOMEM;
    return 0;
}

/* Whether Mayastor may put a new replica on the node: Online, neither
 * cordoned nor draining (reference mayastor.md 7.2: the first filters of
 * its pool choice). A node Mayastor does not list is not. */
static bool cs__node_schedulable(const cs_cluster_view_t *view, const char *node)
{
    if (!view->nodes)
        return true; /* not known: the migration's own checks decide */
    for (size_t i = 0; node && i < view->nodes->count; i++) {
        const cs_mayastor_node_t *n = &view->nodes->items[i];
        if (n->id && strcmp(n->id, node) == 0)
            return n->status == CS_MAYASTOR_NODE_ONLINE && !n->cordoned && !n->draining;
    }
    return false;
}

/* Every Mayastor pool, with the labels of cs_pool_labels_merge (its
 * DiskPool's and its own); disagreements on the keys the policy's pool
 * selectors read go into f's note. */
static int cs__facts_pools(const cs_cluster_view_t *view, const cs_storage_policy_spec_t *spec, cs_plan_facts_t *f,
                           size_t npools)
{
    for (size_t i = 0; i < npools; i++) {
        const cs_mayastor_pool_t *mp = &view->pools->items[i];
        const cs_diskpool_ref_t *dp = cs__diskpool(view, mp->id);
        cs_pool_label_sources_t src = {dp ? &dp->labels : NULL, dp ? &dp->topology : NULL, mp};
        cs_labels_t disagree = {0};
        int n = cs_pool_labels_merge(&src, &f->pool_labels[i], &disagree);
        if (n < 0)
            return n;
        if (n > 0)
            cs__facts_note(f, spec, mp->id, &disagree);
        cs_labels_free(&disagree);
        if (cs__labels_from_mayastor(mp->labels, mp->label_count, &f->pool_placement_labels[i]) != 0)
            return CS_ENOMEM;
        f->pools[i] = (cs_plan_pool_t){.id = mp->id,
                                       .node = mp->node,
                                       .labels = &f->pool_labels[i],
                                       .placement_labels = &f->pool_placement_labels[i],
                                       .unschedulable = !cs__node_schedulable(view, mp->node),
                                       .online = mp->status == CS_MAYASTOR_STATE_ONLINE,
                                       .capacity = mp->capacity,
                                       .used = mp->used};
    }
    return 0;
}

cs_plan_steering_t cs_volume_steering(const cs_mayastor_label_t *inclusion, size_t count, const char *placement_key)
{
    bool created_by = false;
    for (size_t i = 0; i < count; i++) {
        if (placement_key && strcmp(inclusion[i].key, placement_key) == 0)
            return CS_PLAN_STEER_PLACEMENT;
        created_by = created_by || strcmp(inclusion[i].key, CS_LABEL_CREATED_BY) == 0;
    }
    return created_by ? CS_PLAN_STEER_CREATED_BY : CS_PLAN_STEER_NONE;
}

/* Whether the list (keys separated by newlines or commas, blanks around
 * them ignored) names key. */
static bool cs__key_listed(const char *list, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = list; *p;) {
        p += strspn(p, " \t\r\n,");
        size_t n = strcspn(p, "\r\n,");
        size_t m = n;
        while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
            m--;
        if (m == klen && memcmp(p, key, klen) == 0)
            return true;
        p += n;
    }
    return false;
}

cs_plan_steering_t cs_storage_class_steering(const json_t *sc, const char *placement_key, char *why, size_t len)
{
    const char *name = json_string_value(json_object_get(json_object_get(sc, "metadata"), "name"));
    const char *prov = json_string_value(json_object_get(sc, "provisioner"));
    const char *keys = json_string_value(json_object_get(json_object_get(sc, "parameters"), "poolHasTopologyKey"));
    name = name ? name : "?";
    char ignored[8];
    if (!why) {
        why = ignored;
        len = sizeof ignored;
    }
    if (!prov || strcmp(prov, CS_MAYASTOR_CSI_DRIVER) != 0) {
        snprintf(why, len, "StorageClass %s: provisioner %s is not Mayastor's CSI driver (%s)", name,
                 prov ? prov : "(none)", CS_MAYASTOR_CSI_DRIVER);
        return CS_PLAN_STEER_NONE;
    }
    if (keys && placement_key && cs__key_listed(keys, placement_key)) {
        snprintf(why, len, "StorageClass %s: poolHasTopologyKey names %s: its volumes are steerable", name,
                 placement_key);
        return CS_PLAN_STEER_PLACEMENT;
    }
    snprintf(why, len,
             "StorageClass %s: no poolHasTopologyKey: %s: its volumes move only with a policy's createdBySteering "
             "(add the key to a new class for new volumes)",
             name, placement_key ? placement_key : "?");
    return CS_PLAN_STEER_CREATED_BY;
}

/* The label-set copy of a volume's pool topology: volumes of one
 * StorageClass share one Mayastor set (the decoder stores equal sets
 * once), so the copies are few and found by that pointer. NULL for no
 * requirements; *rc = CS_ENOMEM on failure. */
static const cs_labels_t *cs__facts_placement(cs_plan_facts_t *f, size_t cap, const cs_mayastor_volume_t *mv, int *rc)
{
    if (!mv || !mv->inclusion_count)
        return NULL;
    for (size_t k = 0; k < f->placement_count; k++)
        if (f->placement_of[k] == mv->inclusion)
            return &f->placements[k];
    if (f->placement_count == cap) {
        *rc = CS_ENOMEM; /* cannot happen: one slot per volume */
        return NULL;
    }
    cs_labels_t *out = &f->placements[f->placement_count];
    if (cs__labels_from_mayastor(mv->inclusion, mv->inclusion_count, out) != 0) {
        cs_labels_free(out);
        *rc = CS_ENOMEM;
        return NULL;
    }
    f->placement_of[f->placement_count++] = mv->inclusion;
    return out;
}

/* volumes[v] from view->pvs[i]; its replicas go at f->replicas[*r...]. */
static void cs__facts_volume(const cs_cluster_view_t *view, size_t i, cs_plan_facts_t *f, size_t v, size_t *r)
{
    const cs_pv_t *pv = view->pvs[i];
    const cs_mayastor_volume_t *mv = cs__mayastor_volume(view, pv);
    cs_plan_volume_t *pvv = &f->volumes[v];
    f->pv_of[v] = i;
    f->mvol[v] = mv;
    pvv->name = pv->name;
    pvv->storage_class = pv->storage_class;
    pvv->labels = &pv->labels;
    pvv->size = mv ? mv->size : pv->capacity;
    pvv->found = mv != NULL;
    pvv->published = mv && mv->has_target;
    pvv->online = mv && mv->status == CS_MAYASTOR_VOLUME_ONLINE;
    pvv->affinity_group = mv && mv->affinity_group;
    pvv->busy = mv && mv->operation != CS_MAYASTOR_OP_NONE;
    pvv->replicas = &f->replicas[*r];
    for (size_t k = 0; mv && k < mv->replica_count; k++) {
        const cs_mayastor_replica_t *rep = &mv->replicas[k];
        f->replicas[(*r)++] =
            (cs_plan_replica_t){.pool = rep->pool, .node = rep->node, .online = rep->state == CS_MAYASTOR_STATE_ONLINE};
        pvv->replica_count++;
    }
    pvv->steering =
        mv ? cs_volume_steering(mv->inclusion, mv->inclusion_count, CS_LABEL_PLACEMENT) : CS_PLAN_STEER_NONE;
    pvv->migrating = pv->journal != NULL;
    pvv->last_migration_end = pv->last_migration;
    pvv->last_target_pool = pv->last_target_pool;
    pvv->retry_after = pv->retry_after;
    if (view->iops && cs_prom_iops_known(&view->iops[i])) {
        pvv->iops_known = true;
        pvv->iops = view->iops[i].iops;
    }
    pvv->iops_young = view->iops && view->iops[i].state == CS_PROM_IOPS_YOUNG;
}

int cs_plan_facts_build(const cs_cluster_view_t *view, const char *policy_name, const cs_storage_policy_spec_t *spec,
                        int64_t now, cs_plan_facts_t *f, cs_err_t *err)
{
    memset(f, 0, sizeof *f);
    size_t npools = view->pools ? view->pools->count : 0;
    size_t nrep = 0, nvol = 0;
    for (size_t i = 0; i < view->pv_count; i++) {
        if (!cs_pv_of_storage_class(view->pvs[i], spec->storage_class_name))
            continue;
        nvol++;
        const cs_mayastor_volume_t *mv = cs__mayastor_volume(view, view->pvs[i]);
        nrep += mv ? mv->replica_count : 0;
    }
    f->volumes = calloc(nvol + 1, sizeof *f->volumes);
    f->pv_of = calloc(nvol + 1, sizeof *f->pv_of);
    f->mvol = calloc(nvol + 1, sizeof(const cs_mayastor_volume_t *));
    f->replicas = calloc(nrep + 1, sizeof *f->replicas);
    f->pools = calloc(npools + 1, sizeof *f->pools);
    f->pool_labels = calloc(npools + 1, sizeof *f->pool_labels);
    f->pool_placement_labels = calloc(npools + 1, sizeof *f->pool_placement_labels);
    f->placements = calloc(nvol + 1, sizeof *f->placements);
    f->placement_of = calloc(nvol + 1, sizeof(const cs_mayastor_label_t *));
    f->in.pool_count = npools; /* what cs_plan_facts_free frees, should a pool's labels fail */
    if (!f->volumes || !f->pv_of || !f->mvol || !f->replicas || !f->pools || !f->pool_labels ||
        !f->pool_placement_labels || !f->placements || !f->placement_of ||
        cs__facts_pools(view, spec, f, npools) != 0) {
        cs_plan_facts_free(f);
        return cs_err_set(err, CS_ENOMEM, "policy '%s': out of memory gathering facts", policy_name);
    }
    size_t v = 0, r = 0;
    int rc = 0;
    for (size_t i = 0; i < view->pv_count; i++)
        if (cs_pv_of_storage_class(view->pvs[i], spec->storage_class_name)) {
            f->volumes[v].placement = cs__facts_placement(f, nvol, cs__mayastor_volume(view, view->pvs[i]), &rc);
            cs__facts_volume(view, i, f, v++, &r);
        }
    if (rc != 0) {
        cs_plan_facts_free(f);
        return cs_err_set(err, CS_ENOMEM, "policy '%s': out of memory gathering facts", policy_name);
    }
    f->in = (cs_plan_input_t){.policy_name = policy_name,
                              .spec = spec,
                              .created_by_steering = spec->created_by_steering,
                              .now = now,
                              .volume_count = nvol,
                              .volumes = f->volumes,
                              .pool_count = npools,
                              .pools = f->pools,
                              .global_slots = SIZE_MAX};
    return 0;
}

void cs_plan_print(const cs_plan_facts_t *f, const cs_plan_t *plan, const char *policy, FILE *out, bool json)
{
    char detail[CS_PLAN_DETAIL_MAX];
    if (json) {
        json_t *items = json_array();
        for (size_t i = 0; i < plan->count; i++) {
            const cs_plan_item_t *it = &plan->items[i];
            const cs_plan_volume_t *v = &f->in.volumes[it->volume];
            json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "volume", v->name, "iops",
                                  v->iops_known ? json_real(v->iops) : json_null(), "currentTier",
                                  cs_tier_name(it->current), "wantedTier", cs_tier_name(it->wanted), "action",
                                  cs_plan_action_name(it->action), "reason", cs_plan_reason_name(it->reason), "detail",
                                  cs_plan_item_detail(&f->in, it, detail, sizeof detail));
            if (it->source_pool >= 0)
                json_object_set_new(o, "sourcePool", json_string(f->in.pools[it->source_pool].id));
            if (it->target_pool >= 0)
                json_object_set_new(o, "targetPool", json_string(f->in.pools[it->target_pool].id));
            json_array_append_new(items, o);
        }
        json_t *steering = json_pack(
            "{s:I, s:I, s:I}", cs_plan_steering_name(CS_PLAN_STEER_PLACEMENT),
            (json_int_t)plan->steering[CS_PLAN_STEER_PLACEMENT], cs_plan_steering_name(CS_PLAN_STEER_CREATED_BY),
            (json_int_t)plan->steering[CS_PLAN_STEER_CREATED_BY], cs_plan_steering_name(CS_PLAN_STEER_NONE),
            (json_int_t)plan->steering[CS_PLAN_STEER_NONE]);
        json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:o}", "policy", policy, "watched",
                                (json_int_t)plan->watched, "hot", (json_int_t)plan->hot, "warm", (json_int_t)plan->warm,
                                "cold", (json_int_t)plan->cold, "moves", (json_int_t)plan->moves, "steering", steering,
                                "otherPolicy", (json_int_t)plan->other_policy, "volumes", items);
        if (f->label_disagreements > 0) /* what the PoolLabelsConsistent condition says */
            json_object_set_new(
                doc, "poolLabelDisagreements",
                json_pack("{s:I, s:s}", "pools", (json_int_t)f->label_disagreements, "note", f->label_note));
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            fprintf(out, "%s\n", text);
        free(text);
        json_decref(doc);
        return;
    }
    fprintf(out, "policy %s: %zu volumes (hot %zu, warm %zu, cold %zu), %zu to move now\n", policy, plan->watched,
            plan->hot, plan->warm, plan->cold, plan->moves);
    fprintf(out, "steering: %zu by the placement label, %zu by created-by%s, %zu not steerable",
            plan->steering[CS_PLAN_STEER_PLACEMENT], plan->steering[CS_PLAN_STEER_CREATED_BY],
            f->in.created_by_steering ? "" : " (needs createdBySteering)", plan->steering[CS_PLAN_STEER_NONE]);
    if (plan->other_policy)
        fprintf(out, "; %zu left to an older policy", plan->other_policy);
    fprintf(out, "\n\n");
    fprintf(out, "%-44s %10s %-8s %-8s %-6s %s\n", "VOLUME", "IOPS", "CURRENT", "WANTED", "ACTION", "WHY");
    for (size_t i = 0; i < plan->count; i++) {
        const cs_plan_item_t *it = &plan->items[i];
        const cs_plan_volume_t *v = &f->in.volumes[it->volume];
        char iops[32];
        if (v->iops_known)
            snprintf(iops, sizeof iops, "%.1f", v->iops);
        else
            snprintf(iops, sizeof iops, "unknown");
        fprintf(out, "%-44s %10s %-8s %-8s %-6s %s: %s\n", v->name, iops, cs_tier_name(it->current),
                it->wanted == CS_TIER_UNKNOWN ? "-" : cs_tier_name(it->wanted), cs_plan_action_name(it->action),
                cs_plan_reason_name(it->reason), cs_plan_item_detail(&f->in, it, detail, sizeof detail));
    }
}
