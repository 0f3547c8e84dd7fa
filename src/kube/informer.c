/* informer.c: list + watch into a local cache with handlers, one thread per
 * informer (client-go's reflector, indexer and shared informer in one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/kube_informer.h"
#include "couchestor/log.h"
#include "kube/internal.h"

#define CS__INF_DEFAULT_BACKOFF_NS (INT64_C(800) * 1000000)
#define CS__INF_DEFAULT_BACKOFF_MAX_NS (INT64_C(30) * 1000000000)
/* client-go's reflector asks timeoutSeconds in [5, 10) minutes. */
#define CS__INF_WATCH_MIN_S 300

/* ---- objects ------------------------------------------------------------------ */

cs_kube_object_t *cs_kube_object_ref(cs_kube_object_t *obj)
{
    if (obj)
        atomic_fetch_add(&obj->refs, 1);
    return obj;
}

void cs_kube_object_unref(cs_kube_object_t *obj)
{
    if (!obj || atomic_fetch_sub(&obj->refs, 1) != 1)
        return;
    if (obj->data && obj->dec)
        obj->dec->destroy(obj->dec->ctx, obj->data);
    free(obj);
}

/* One allocation: the struct, then "ns\0name\0key\0rv\0" ("name\0rv\0"
 * for a cluster-scoped object, whose key is its name). */
static cs_kube_object_t *cs__obj_new(const cs_kube_decoder_t *dec, bool namespaced, const char *ns, const char *name,
                                     const char *rv, void *data)
{
    if (!namespaced || !ns || !*ns)
        ns = NULL;
    size_t nl = ns ? strlen(ns) + 1 : 0, ml = strlen(name) + 1, rl = strlen(rv) + 1;
    size_t kl = ns ? nl + ml : 0;
    cs_kube_object_t *o = malloc(sizeof *o + nl + ml + kl + rl);
    if (!o)
        return NULL;
    memset(o, 0, sizeof *o);
    char *p = (char *)(o + 1);
    if (ns) {
        memcpy(p, ns, nl);
        o->namespace = p;
        p += nl;
    }
    memcpy(p, name, ml);
    o->name = p;
    p += ml;
    if (ns) {
        memcpy(p, ns, nl - 1);
        p[nl - 1] = '/';
        memcpy(p + nl, name, ml);
        o->key = p;
        p += kl;
    } else {
        o->key = o->name;
    }
    memcpy(p, rv, rl);
    o->resource_version = p;
    o->data = data;
    o->dec = dec;
    atomic_init(&o->refs, 1);
    return o;
}

/* ---- informer state ----------------------------------------------------------- */

typedef struct cs__nsbucket_s {
    char *ns;
    cs_kube_object_t *head;
} cs__nsbucket_t;

struct cs_informer_s {
    cs_kube_client_t *c;
    cs_kube_resource_t resv; /* copied: callers pass compound literals */
    const cs_kube_resource_t *res;
    char *ns, *lsel, *fsel, *name;
    cs_kube_decoder_t dec;  /* the caller's */
    cs_kube_decoder_t wrap; /* list items: identity + the caller's object */
    cs_informer_handlers_t h;
    int64_t resync_ns, watch_timeout_ns, backoff0, backoff_max;
    size_t page_size;

    pthread_rwlock_t lock;   /* cache and ns_index */
    cs__kube_map_t cache;    /* key -> cs_kube_object_t* */
    cs__kube_map_t ns_index; /* namespace -> cs__nsbucket_t* */

    pthread_mutex_t mu; /* rv, synced, stats, running */
    pthread_cond_t cond;
    char rv[CS__KUBE_RV_MAX + 1];
    bool synced;
    bool running;
    cs_informer_stats_t stats;
    atomic_int stop;
    pthread_t thread;
    cs__kube_rand_t rnd; /* informer thread only */
};

/* Links o into its namespace's bucket (write lock held). */
static int cs__ns_link(cs_informer_t *inf, cs_kube_object_t *o)
{
    if (!o->namespace)
        return 0;
    cs__nsbucket_t *b = cs__kube_map_get(&inf->ns_index, o->namespace);
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || !(b->ns = cs__kube_strdup(o->namespace))) {
            free(b);
            return CS_ENOMEM;
        }
        if (cs__kube_map_put(&inf->ns_index, b->ns, b, NULL) != 0) {
            free(b->ns);
            free(b);
            return CS_ENOMEM;
        }
    }
    o->ns_prev = NULL;
    o->ns_next = b->head;
    if (b->head)
        b->head->ns_prev = o;
    b->head = o;
    return 0;
}

static void cs__ns_unlink(cs_informer_t *inf, cs_kube_object_t *o)
{
    if (!o->namespace)
        return;
    cs__nsbucket_t *b = cs__kube_map_get(&inf->ns_index, o->namespace);
    if (!b)
        return;
    if (o->ns_prev)
        o->ns_prev->ns_next = o->ns_next;
    else if (b->head == o)
        b->head = o->ns_next;
    if (o->ns_next)
        o->ns_next->ns_prev = o->ns_prev;
    o->ns_prev = o->ns_next = NULL;
    if (!b->head) {
        cs__kube_map_remove(&inf->ns_index, b->ns);
        free(b->ns);
        free(b);
    }
}

static void cs__bucket_free(void *ctx, void *v)
{
    cs__nsbucket_t *b = v;
    free(b->ns);
    free(b);
}

static void cs__obj_unref_cb(void *ctx, void *v)
{
    cs_kube_object_unref(v);
}

/* ---- list item decoding ---------------------------------------------------------- */

typedef struct cs__pending_s {
    cs__kube_ident_t id;
    void *data;
} cs__pending_t;

static void *cs__wrap_create(void *ctx)
{
    cs_informer_t *inf = ctx;
    cs__pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->data = inf->dec.create(inf->dec.ctx))) {
        free(p);
        return NULL;
    }
    return p;
}

static int cs__wrap_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs_informer_t *inf = ctx;
    cs__pending_t *p = obj;
    int rc = cs__kube_ident_field(&p->id, f, f->js);
    if (rc < 0)
        return rc;
    rc = inf->dec.field(inf->dec.ctx, p->data, f);
    /* The identity lives in metadata: never let it be skipped. */
    if (rc == CS_KUBE_SKIP && f->depth == 1 && cs_kube_field_key_is(f, "metadata"))
        rc = 0;
    return rc;
}

static int cs__wrap_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs_informer_t *inf = ctx;
    cs__pending_t *p = obj;
    if (!p->id.has_name)
        return cs_err_set(err, CS_EPARSE, "object without metadata.name");
    return inf->dec.finish ? inf->dec.finish(inf->dec.ctx, p->data, err) : 0;
}

static void cs__wrap_destroy(void *ctx, void *obj)
{
    cs_informer_t *inf = ctx;
    cs__pending_t *p = obj;
    if (p->data)
        inf->dec.destroy(inf->dec.ctx, p->data);
    free(p);
}

/* ---- handler delivery --------------------------------------------------------- */

typedef enum {
    CS__EV_ADD,
    CS__EV_UPDATE,
    CS__EV_DELETE
} cs__ev_kind_t;

typedef struct cs__change_s {
    cs__ev_kind_t kind;
    cs_kube_object_t *old; /* a reference, or NULL */
    cs_kube_object_t *obj; /* a reference */
    bool unknown;
} cs__change_t;

typedef struct cs__changes_s {
    cs__change_t *v;
    size_t n, cap;
} cs__changes_t;

static int cs__changes_push(cs__changes_t *cs, cs__ev_kind_t kind, cs_kube_object_t *old, cs_kube_object_t *obj,
                            bool unknown)
{
    if (cs->n == cs->cap) {
        size_t cap = cs->cap ? cs->cap * 2 : 64;
        cs__change_t *v = realloc(cs->v, cap * sizeof *v);
        if (!v)
            return CS_ENOMEM;
        cs->v = v;
        cs->cap = cap;
    }
    cs->v[cs->n++] = (cs__change_t){kind, old, obj, unknown};
    return 0;
}

static void cs__deliver(cs_informer_t *inf, const cs__change_t *ch)
{
    const cs_informer_handlers_t *h = &inf->h;
    switch (ch->kind) {
    case CS__EV_ADD:
        if (h->on_add)
            h->on_add(h->ctx, ch->obj);
        break;
    case CS__EV_UPDATE:
        if (h->on_update)
            h->on_update(h->ctx, ch->old, ch->obj);
        break;
    case CS__EV_DELETE:
        if (h->on_delete)
            h->on_delete(h->ctx, ch->obj, ch->unknown);
        break;
    }
}

static void cs__changes_run(cs_informer_t *inf, cs__changes_t *cs)
{
    for (size_t i = 0; i < cs->n; i++) {
        cs__deliver(inf, &cs->v[i]);
        cs_kube_object_unref(cs->v[i].old);
        cs_kube_object_unref(cs->v[i].obj);
    }
    free(cs->v);
    memset(cs, 0, sizeof *cs);
}

/* ---- list ------------------------------------------------------------------------ */

typedef struct cs__list_ctx_s {
    cs_informer_t *inf;
    cs__kube_map_t fresh;
} cs__list_ctx_t;

static int cs__list_item(void *ctx, void *item)
{
    cs__list_ctx_t *lc = ctx;
    cs_informer_t *inf = lc->inf;
    cs__pending_t *p = item;
    cs_kube_object_t *o = cs__obj_new(&inf->dec, inf->res->namespaced, p->id.ns, p->id.name, p->id.rv, p->data);
    if (!o) {
        cs__wrap_destroy(inf, p);
        return CS_ENOMEM;
    }
    p->data = NULL;
    free(p);
    void *old = NULL;
    if (cs__kube_map_put(&lc->fresh, o->key, o, &old) != 0) {
        cs_kube_object_unref(o);
        return CS_ENOMEM;
    }
    cs_kube_object_unref(old); /* a duplicate key in a list: the later wins */
    return 0;
}

typedef struct cs__diff_s {
    cs_informer_t *inf;
    cs__changes_t *changes;
    cs__kube_map_t *fresh;
    int rc;
} cs__diff_t;

/* For each fresh object: compare with the cached one (removing it from the
 * old cache, so that what remains there afterwards was deleted). */
static void cs__diff_one(void *ctx, void *v)
{
    cs__diff_t *d = ctx;
    cs_kube_object_t *o = v;
    if (d->rc)
        return;
    cs_kube_object_t *old = cs__kube_map_remove(&d->inf->cache, o->key);
    if (!old) {
        d->rc = cs__changes_push(d->changes, CS__EV_ADD, NULL, cs_kube_object_ref(o), false);
    } else if (strcmp(old->resource_version, o->resource_version) != 0) {
        d->rc = cs__changes_push(d->changes, CS__EV_UPDATE, old, cs_kube_object_ref(o), false);
    } else {
        /* Unchanged: keep the object the handlers already saw. */
        cs__kube_map_put(d->fresh, old->key, old, NULL);
        cs_kube_object_unref(o);
    }
}

static void cs__diff_gone(void *ctx, void *v)
{
    cs__diff_t *d = ctx;
    if (!d->rc)
        d->rc = cs__changes_push(d->changes, CS__EV_DELETE, NULL, v, true);
    else
        cs_kube_object_unref(v);
}

static void cs__relink(void *ctx, void *v)
{
    cs__diff_t *d = ctx;
    if (!d->rc)
        d->rc = cs__ns_link(d->inf, v);
}

static int cs__do_list(cs_informer_t *inf, cs_err_t *err)
{
    cs__list_ctx_t lc = {inf, {0}};
    if (cs__kube_map_init(&lc.fresh, 64) != 0)
        return cs_err_set(err, CS_ENOMEM, "informer %s: out of memory", inf->name);
    cs_kube_list_options_t lo = {inf->lsel, inf->fsel, inf->page_size, NULL};
    char *rv = NULL;
    int rc = cs_kube_list(inf->c, inf->res, inf->ns, &lo, &inf->wrap, cs__list_item, &lc, &rv, err);
    if (rc == 0 && (!rv || !*rv || strlen(rv) > CS__KUBE_RV_MAX))
        rc = cs_err_set(err, CS_EPARSE, "informer %s: the list has no usable metadata.resourceVersion", inf->name);
    if (rc != 0) {
        cs__kube_map_each(&lc.fresh, cs__obj_unref_cb, NULL);
        cs__kube_map_free(&lc.fresh);
        free(rv);
        return rc;
    }
    /* Note: the diff must run on the informer's own copies; keys of
     * entries moved between maps stay valid (they live in the objects). */
    cs__changes_t changes = {0};
    pthread_rwlock_wrlock(&inf->lock);
    cs__diff_t d = {inf, &changes, &lc.fresh, 0};
    /* Iterate over a snapshot of the fresh values: diff_one may replace
     * values in `fresh` (same key), which does not change its shape. */
    cs__kube_map_each(&lc.fresh, cs__diff_one, &d);
    cs__kube_map_each(&inf->cache, cs__diff_gone, &d);
    cs__kube_map_free(&inf->cache);
    inf->cache = lc.fresh;
    cs__kube_map_each(&inf->ns_index, cs__bucket_free, NULL);
    cs__kube_map_free(&inf->ns_index);
    int drc = d.rc;
    d.rc = 0;
    cs__kube_map_each(&inf->cache, cs__relink, &d);
    pthread_rwlock_unlock(&inf->lock);
    if (drc || d.rc)
        CS_WARN("informer: out of memory while applying a list; some handlers were not called", "informer", inf->name);

    pthread_mutex_lock(&inf->mu);
    snprintf(inf->rv, sizeof inf->rv, "%s", rv);
    inf->stats.lists++;
    bool first = !inf->synced;
    pthread_mutex_unlock(&inf->mu);
    free(rv);
    cs__changes_run(inf, &changes);
    if (first) {
        /* Synced means the handlers have seen every listed object. */
        pthread_mutex_lock(&inf->mu);
        inf->synced = true;
        pthread_cond_broadcast(&inf->cond);
        pthread_mutex_unlock(&inf->mu);
        CS_DEBUG("informer synced", "informer", inf->name);
    }
    return 0;
}

/* ---- watch ------------------------------------------------------------------------- */

typedef struct cs__watch_ctx_s {
    cs_informer_t *inf;
    cs_kube_watch_parser_t *p;
    cs_err_t err;
    bool gone;
    size_t applied;
} cs__watch_ctx_t;

static void cs__set_rv(cs_informer_t *inf, const char *rv)
{
    if (!rv || !*rv)
        return;
    pthread_mutex_lock(&inf->mu);
    snprintf(inf->rv, sizeof inf->rv, "%s", rv);
    pthread_mutex_unlock(&inf->mu);
}

static int cs__watch_event(void *ctx, cs_kube_watch_event_t *ev)
{
    cs__watch_ctx_t *w = ctx;
    cs_informer_t *inf = w->inf;
    if (ev->type == CS_KUBE_WATCH_ERROR) {
        if (ev->code == 410) {
            w->gone = true;
            cs_err_set(&w->err, CS_EGONE, "watch %s: 410 %s: %s", inf->name, ev->reason, ev->message);
            return CS_EGONE;
        }
        cs_err_set(&w->err, CS_EKUBE, "watch %s: ERROR event: %ld %s: %s", inf->name, ev->code, ev->reason,
                   ev->message);
        return CS_EKUBE;
    }
    if (ev->type == CS_KUBE_WATCH_BOOKMARK) {
        cs__set_rv(inf, ev->resource_version);
        pthread_mutex_lock(&inf->mu);
        inf->stats.bookmarks++;
        pthread_mutex_unlock(&inf->mu);
        return 0;
    }
    cs_kube_object_t *o =
        cs__obj_new(&inf->dec, inf->res->namespaced, ev->namespace, ev->name, ev->resource_version, ev->obj);
    if (!o)
        return CS_ENOMEM;
    ev->obj = NULL;
    cs__change_t ch = {0};
    bool deliver = true;
    pthread_rwlock_wrlock(&inf->lock);
    if (ev->type == CS_KUBE_WATCH_DELETED) {
        cs_kube_object_t *old = cs__kube_map_remove(&inf->cache, o->key);
        if (old) {
            cs__ns_unlink(inf, old);
            cs_kube_object_unref(old);
        } else {
            deliver = false; /* never seen (or already deleted): nothing to report */
        }
        ch = (cs__change_t){CS__EV_DELETE, NULL, o, false};
    } else {
        void *prev = NULL;
        if (cs__kube_map_put(&inf->cache, o->key, o, &prev) != 0) {
            pthread_rwlock_unlock(&inf->lock);
            cs_kube_object_unref(o);
            return CS_ENOMEM;
        }
        cs_kube_object_t *old = prev;
        if (old)
            cs__ns_unlink(inf, old);
        if (cs__ns_link(inf, o) != 0)
            CS_WARN("informer: out of memory in the namespace index", "informer", inf->name);
        cs_kube_object_ref(o); /* one for the cache, one for the handler */
        if (old && strcmp(old->resource_version, o->resource_version) == 0)
            deliver = false; /* the same version again: not a change */
        ch = (cs__change_t){old ? CS__EV_UPDATE : CS__EV_ADD, old, o, false};
    }
    pthread_rwlock_unlock(&inf->lock);
    cs__set_rv(inf, ev->resource_version);
    pthread_mutex_lock(&inf->mu);
    inf->stats.events++;
    pthread_mutex_unlock(&inf->mu);
    w->applied++;
    if (deliver)
        cs__deliver(inf, &ch);
    cs_kube_object_unref(ch.old);
    cs_kube_object_unref(ch.obj);
    return 0;
}

static int cs__watch_sink(void *ctx, const char *data, size_t len)
{
    cs__watch_ctx_t *w = ctx;
    cs_err_t e = {0};
    int rc = cs_kube_watch_parser_feed(w->p, data, len, &e);
    if (rc != 0 && !w->err.code)
        w->err = e;
    return rc;
}

/* One watch request from the current resourceVersion. Returns 0 when the
 * stream ended cleanly, CS_EGONE when a re-list is needed, CS_ECANCELED on
 * stop, another code on failure. */
static int cs__do_watch(cs_informer_t *inf, int64_t timeout_s, size_t *applied, cs_err_t *err)
{
    char path[4096 + 512];
    int rc = cs_kube_path(inf->res, inf->ns, NULL, NULL, path, sizeof path, err);
    if (rc)
        return rc;
    char rv[CS__KUBE_RV_MAX + 1], ts[32];
    pthread_mutex_lock(&inf->mu);
    snprintf(rv, sizeof rv, "%s", inf->rv);
    inf->stats.watches++;
    pthread_mutex_unlock(&inf->mu);
    snprintf(ts, sizeof ts, "%lld", (long long)timeout_s);
    bool ok = cs__kube_query_add(path, sizeof path, "watch", "1") &&
              cs__kube_query_add(path, sizeof path, "resourceVersion", rv) &&
              cs__kube_query_add(path, sizeof path, "allowWatchBookmarks", "true") &&
              cs__kube_query_add(path, sizeof path, "timeoutSeconds", ts);
    if (ok && inf->lsel)
        ok = cs__kube_query_add(path, sizeof path, "labelSelector", inf->lsel);
    if (ok && inf->fsel)
        ok = cs__kube_query_add(path, sizeof path, "fieldSelector", inf->fsel);
    if (!ok)
        return cs_err_set(err, CS_ETOOBIG, "watch %s: request path too long", inf->name);
    cs__watch_ctx_t w = {.inf = inf};
    rc = cs_kube_watch_parser_new(&inf->dec, cs__watch_event, &w, inf->c->opts.max_json_depth,
                                  inf->c->opts.max_string_bytes, &w.p);
    if (rc != 0)
        return cs_err_set(err, rc, "watch %s: out of memory", inf->name);
    cs__kube_req_t r = {.verb = "WATCH",
                        .method = "GET",
                        .res = inf->res,
                        .ns = inf->ns,
                        .path = path,
                        .timeout_ms = (long)(timeout_s + 30) * 1000,
                        .sink = cs__watch_sink,
                        .sink_ctx = &w,
                        .stop = &inf->stop,
                        .max_retries = -1};
    cs_http_response_t resp;
    rc = cs__kube_do(inf->c, &r, &resp, err);
    cs_http_response_free(&resp);
    if (rc == 0)
        rc = cs_kube_watch_parser_finish(w.p, err);
    else if (w.err.code) {
        if (err)
            *err = w.err;
        rc = w.err.code;
    }
    cs_kube_watch_parser_free(w.p);
    *applied = w.applied;
    if (atomic_load(&inf->stop))
        return CS_ECANCELED;
    if (w.gone)
        return CS_EGONE;
    return rc;
}

/* ---- resync ------------------------------------------------------------------------- */

typedef struct cs__snap_s {
    cs_kube_object_t **v;
    size_t n;
} cs__snap_t;

static void cs__snap_one(void *ctx, void *v)
{
    cs__snap_t *s = ctx;
    s->v[s->n++] = cs_kube_object_ref(v);
}

static void cs__resync(cs_informer_t *inf)
{
    if (!inf->h.on_update)
        return;
    cs__snap_t s = {0};
    pthread_rwlock_rdlock(&inf->lock);
    s.v = malloc((inf->cache.count + 1) * sizeof(cs_kube_object_t *));
    if (s.v)
        cs__kube_map_each(&inf->cache, cs__snap_one, &s);
    pthread_rwlock_unlock(&inf->lock);
    for (size_t i = 0; i < s.n; i++) {
        if (!atomic_load(&inf->stop))
            inf->h.on_update(inf->h.ctx, s.v[i], s.v[i]);
        cs_kube_object_unref(s.v[i]);
    }
    free(s.v);
}

/* ---- the thread ---------------------------------------------------------------------- */

/* Sleeps the current backoff (with jitter up to 100%), then doubles it.
 * Returns true when stopped meanwhile. */
static bool cs__backoff(cs_informer_t *inf, int64_t *cur)
{
    int64_t wait = *cur + (int64_t)(cs__kube_rand_unit(&inf->rnd) * (double)*cur);
    *cur = *cur * 2 > inf->backoff_max ? inf->backoff_max : *cur * 2;
    struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, wait);
    pthread_mutex_lock(&inf->mu);
    while (!atomic_load(&inf->stop))
        if (pthread_cond_timedwait(&inf->cond, &inf->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&inf->mu);
    return atomic_load(&inf->stop) != 0;
}

static void cs__count_error(cs_informer_t *inf)
{
    pthread_mutex_lock(&inf->mu);
    inf->stats.errors++;
    pthread_mutex_unlock(&inf->mu);
}

static void *cs__run(void *arg)
{
    cs_informer_t *inf = arg;
    bool need_list = true, relist = false;
    int64_t backoff = inf->backoff0;
    int64_t next_resync = inf->resync_ns ? cs_clock_mono_ns() + inf->resync_ns : 0;
    while (!atomic_load(&inf->stop)) {
        cs_err_t err = {0};
        if (need_list) {
            int rc = cs__do_list(inf, &err);
            if (rc == CS_ECANCELED || atomic_load(&inf->stop))
                break;
            if (rc != 0) {
                cs__count_error(inf);
                CS_WARN("informer: list failed; retrying", "informer", inf->name, "error", err.msg);
                if (cs__backoff(inf, &backoff))
                    break;
                continue;
            }
            if (relist) {
                pthread_mutex_lock(&inf->mu);
                inf->stats.relists++;
                pthread_mutex_unlock(&inf->mu);
            }
            need_list = relist = false;
            backoff = inf->backoff0;
        }
        int64_t timeout_s = inf->watch_timeout_ns / 1000000000;
        if (next_resync) {
            int64_t left = (next_resync - cs_clock_mono_ns() + 999999999) / 1000000000;
            if (left < timeout_s)
                timeout_s = left;
        }
        if (timeout_s < 1)
            timeout_s = 1;
        size_t applied = 0;
        int64_t t0 = cs_clock_mono_ns();
        int rc = cs__do_watch(inf, timeout_s, &applied, &err);
        if (rc == CS_ECANCELED || atomic_load(&inf->stop))
            break;
        if (rc == CS_EGONE) {
            /* The resourceVersion is too old: only a new list can help. */
            CS_INFO("informer: resourceVersion expired; re-listing", "informer", inf->name, "reason", err.msg);
            need_list = relist = true;
            if (cs__backoff(inf, &backoff))
                break;
        } else if (rc != 0) {
            cs__count_error(inf);
            CS_WARN("informer: watch failed; resuming", "informer", inf->name, "error", err.msg);
            if (applied)
                backoff = inf->backoff0;
            if (cs__backoff(inf, &backoff))
                break;
        } else if (applied == 0 && cs_clock_mono_ns() - t0 < 1000000000 &&
                   (!next_resync || cs_clock_mono_ns() < next_resync)) {
            /* A stream that ends at once without events: do not spin. */
            if (cs__backoff(inf, &backoff))
                break;
        } else {
            backoff = inf->backoff0;
        }
        if (next_resync && cs_clock_mono_ns() >= next_resync) {
            cs__resync(inf);
            next_resync = cs_clock_mono_ns() + inf->resync_ns;
        }
    }
    return NULL;
}

/* ---- public API ----------------------------------------------------------------------- */

int cs_informer_new(cs_kube_client_t *c, const cs_informer_options_t *opts, cs_informer_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!c || !opts || !opts->resource || !opts->resource->plural)
        return cs_err_set(err, CS_EINVAL, "informer: a client and a resource are required");
    if (opts->decoder.create && (!opts->decoder.field || !opts->decoder.destroy))
        return cs_err_set(err, CS_EINVAL, "informer %s: the decoder needs field and destroy", opts->resource->plural);
    cs_informer_t *inf = calloc(1, sizeof *inf);
    if (!inf)
        return cs_err_set(err, CS_ENOMEM, "informer: out of memory");
    inf->c = c;
    inf->resv = *opts->resource;
    inf->res = &inf->resv;
    inf->dec = opts->decoder.create ? opts->decoder : cs_kube_meta_decoder();
    inf->wrap = (cs_kube_decoder_t){cs__wrap_create, cs__wrap_field, cs__wrap_finish, cs__wrap_destroy, inf};
    inf->h = opts->handlers;
    inf->resync_ns = opts->resync_period_ns > 0 ? opts->resync_period_ns : 0;
    inf->page_size = opts->page_size;
    inf->backoff0 = opts->backoff_initial_ns > 0 ? opts->backoff_initial_ns : CS__INF_DEFAULT_BACKOFF_NS;
    inf->backoff_max = opts->backoff_max_ns > 0 ? opts->backoff_max_ns : CS__INF_DEFAULT_BACKOFF_MAX_NS;
    if (inf->backoff_max < inf->backoff0)
        inf->backoff_max = inf->backoff0;
    cs__kube_rand_seed(&inf->rnd, (uintptr_t)inf);
    inf->watch_timeout_ns =
        opts->watch_timeout_ns > 0
            ? opts->watch_timeout_ns
            : (CS__INF_WATCH_MIN_S + (int64_t)(cs__kube_rand_unit(&inf->rnd) * CS__INF_WATCH_MIN_S)) *
                  INT64_C(1000000000);
    bool ok = true;
    if (opts->resource->namespaced && opts->namespace && *opts->namespace)
        ok = (inf->ns = cs__kube_strdup(opts->namespace)) != NULL;
    if (ok && opts->label_selector && *opts->label_selector)
        ok = (inf->lsel = cs__kube_strdup(opts->label_selector)) != NULL;
    if (ok && opts->field_selector && *opts->field_selector)
        ok = (inf->fsel = cs__kube_strdup(opts->field_selector)) != NULL;
    if (ok) {
        char rn[160];
        ok = (inf->name =
                  cs__kube_strdup(opts->name ? opts->name : cs__kube_res_name(opts->resource, rn, sizeof rn))) != NULL;
    }
    if (!ok || cs__kube_map_init(&inf->cache, 64) != 0 || cs__kube_map_init(&inf->ns_index, 16) != 0) {
        cs__kube_map_free(&inf->cache);
        free(inf->ns);
        free(inf->lsel);
        free(inf->fsel);
        free(inf->name);
        free(inf);
        return cs_err_set(err, CS_ENOMEM, "informer: out of memory");
    }
    pthread_rwlock_init(&inf->lock, NULL);
    pthread_mutex_init(&inf->mu, NULL);
    cs__kube_condattr_mono(&inf->cond);
    atomic_init(&inf->stop, 0);
    *out = inf;
    return 0;
}

int cs_informer_start(cs_informer_t *inf, cs_err_t *err)
{
    pthread_mutex_lock(&inf->mu);
    if (inf->running) {
        pthread_mutex_unlock(&inf->mu);
        return cs_err_set(err, CS_EBUSY, "informer %s: already started", inf->name);
    }
    atomic_store(&inf->stop, 0);
    int e = pthread_create(&inf->thread, NULL, cs__run, inf);
    if (e == 0)
        inf->running = true;
    pthread_mutex_unlock(&inf->mu);
    if (e != 0)
        return cs_err_set(err, cs_err_from_errno(e), "informer %s: cannot start a thread: %s", inf->name, strerror(e));
    return 0;
}

void cs_informer_stop(cs_informer_t *inf)
{
    if (!inf)
        return;
    pthread_mutex_lock(&inf->mu);
    bool running = inf->running;
    inf->running = false;
    atomic_store(&inf->stop, 1);
    pthread_cond_broadcast(&inf->cond);
    pthread_mutex_unlock(&inf->mu);
    if (running)
        pthread_join(inf->thread, NULL);
}

void cs_informer_free(cs_informer_t *inf)
{
    if (!inf)
        return;
    cs_informer_stop(inf);
    cs__kube_map_each(&inf->cache, cs__obj_unref_cb, NULL);
    cs__kube_map_free(&inf->cache);
    cs__kube_map_each(&inf->ns_index, cs__bucket_free, NULL);
    cs__kube_map_free(&inf->ns_index);
    pthread_rwlock_destroy(&inf->lock);
    pthread_mutex_destroy(&inf->mu);
    pthread_cond_destroy(&inf->cond);
    free(inf->ns);
    free(inf->lsel);
    free(inf->fsel);
    free(inf->name);
    free(inf);
}

bool cs_informer_has_synced(const cs_informer_t *inf)
{
    cs_informer_t *m = (cs_informer_t *)inf;
    pthread_mutex_lock(&m->mu);
    bool s = m->synced;
    pthread_mutex_unlock(&m->mu);
    return s;
}

int cs_informer_wait_synced(cs_informer_t *inf, int64_t timeout_ns)
{
    struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, timeout_ns);
    pthread_mutex_lock(&inf->mu);
    while (!inf->synced)
        if (pthread_cond_timedwait(&inf->cond, &inf->mu, &dl) == ETIMEDOUT)
            break;
    bool s = inf->synced;
    pthread_mutex_unlock(&inf->mu);
    return s ? 0 : CS_ETIMEOUT;
}

cs_kube_object_t *cs_informer_get(cs_informer_t *inf, const char *ns, const char *name)
{
    if (!name)
        return NULL;
    char key[CS__KUBE_NS_MAX + CS__KUBE_NAME_MAX + 3];
    if (inf->res->namespaced && ns && *ns)
        snprintf(key, sizeof key, "%s/%s", ns, name);
    else
        snprintf(key, sizeof key, "%s", name);
    pthread_rwlock_rdlock(&inf->lock);
    cs_kube_object_t *o = cs_kube_object_ref(cs__kube_map_get(&inf->cache, key));
    pthread_rwlock_unlock(&inf->lock);
    return o;
}

size_t cs_informer_count(cs_informer_t *inf)
{
    pthread_rwlock_rdlock(&inf->lock);
    size_t n = inf->cache.count;
    pthread_rwlock_unlock(&inf->lock);
    return n;
}

int cs_informer_foreach(cs_informer_t *inf, const char *ns, int (*fn)(void *ctx, const cs_kube_object_t *obj),
                        void *ctx)
{
    int rc = 0;
    pthread_rwlock_rdlock(&inf->lock);
    if (ns) {
        const cs__nsbucket_t *b = cs__kube_map_get(&inf->ns_index, ns);
        for (const cs_kube_object_t *o = b ? b->head : NULL; o && !rc; o = o->ns_next)
            rc = fn(ctx, o);
    } else {
        for (size_t i = 0; i < inf->cache.nbuckets && !rc; i++)
            for (cs__kube_map_node_t *e = inf->cache.buckets[i]; e && !rc; e = e->next)
                rc = fn(ctx, e->value);
    }
    pthread_rwlock_unlock(&inf->lock);
    return rc;
}

void cs_informer_resource_version(cs_informer_t *inf, char *buf, size_t len)
{
    pthread_mutex_lock(&inf->mu);
    snprintf(buf, len, "%s", inf->rv);
    pthread_mutex_unlock(&inf->mu);
}

void cs_informer_stats(cs_informer_t *inf, cs_informer_stats_t *out)
{
    pthread_mutex_lock(&inf->mu);
    *out = inf->stats;
    pthread_mutex_unlock(&inf->mu);
}
