/* cluster.c: projections of API objects and the plan input built from them. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/controller.h"
#include "couchestor/json.h"
#include "couchestor/migrator.h"
#include "couchestor/quantity.h"
#include "couchestor/yaml.h"

/* ---- PersistentVolume projection ---- */

typedef struct {
    cs_pv_t pv;
    cs_kube_meta_t meta;
    char *driver;
    char *handle;
    char *capacity;
} cs__pv_build_t;

static void *cs__pv_create(void *ctx)
{
    return calloc(1, sizeof(cs__pv_build_t));
}

static int cs__take_string(const cs_kube_field_t *f, char **dst)
{
    if (f->ev->kind != CS_JS_STRING)
        return 0;
    char *s = strndup(f->ev->text, f->ev->text_len);
    if (!s)
        return CS_ENOMEM;
    free(*dst);
    *dst = s;
    return 0;
}

static bool cs__opens(const cs_kube_field_t *f)
{
    return f->ev->kind == CS_JS_MAP_START || f->ev->kind == CS_JS_ARRAY_START;
}

/* Every token of every PV passes here (10,000 PVs: ~0.5 M tokens per list),
 * so the path is looked at once per token, and the subtrees nothing reads
 * (metadata.managedFields, spec.claimRef, spec.nodeAffinity,
 * spec.csi.volumeAttributes, status, ...) are skipped whole. Only metadata
 * goes to cs_kube_meta_field, which ignores everything else. */
static int cs__pv_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs__pv_build_t *b = obj;
    if (f->depth < 2) {
        if (f->depth == 1 && cs__opens(f) && !cs_kube_field_key_is(f, "metadata") && !cs_kube_field_key_is(f, "spec"))
            return CS_KUBE_SKIP;
        return 0;
    }
    const char *k1 = cs_kube_field_key(f, 1);
    if (!k1)
        return 0;
    if (strcmp(k1, "metadata") == 0) {
        if (f->depth == 2 && cs__opens(f) &&
            (cs_kube_field_key_is(f, "managedFields") || cs_kube_field_key_is(f, "finalizers") ||
             cs_kube_field_key_is(f, "ownerReferences")))
            return CS_KUBE_SKIP;
        return cs_kube_meta_field(&b->meta, f);
    }
    if (strcmp(k1, "spec") != 0)
        return 0;
    if (f->depth == 2) {
        if (cs_kube_field_key_is(f, "storageClassName"))
            return cs__take_string(f, &b->pv.storage_class);
        if (cs__opens(f) && !cs_kube_field_key_is(f, "csi") && !cs_kube_field_key_is(f, "capacity"))
            return CS_KUBE_SKIP;
        return 0;
    }
    if (f->depth != 3)
        return 0;
    const char *k2 = cs_kube_field_key(f, 2);
    if (!k2)
        return 0;
    if (strcmp(k2, "csi") == 0) {
        if (cs_kube_field_key_is(f, "driver"))
            return cs__take_string(f, &b->driver);
        if (cs_kube_field_key_is(f, "volumeHandle"))
            return cs__take_string(f, &b->handle);
        if (cs__opens(f))
            return CS_KUBE_SKIP;
    } else if (strcmp(k2, "capacity") == 0) {
        if (cs_kube_field_key_is(f, "storage"))
            return cs__take_string(f, &b->capacity);
        if (cs__opens(f))
            return CS_KUBE_SKIP;
    }
    return 0;
}

static int cs__pv_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs__pv_build_t *b = obj;
    cs_pv_t *pv = &b->pv;
    pv->name = b->meta.name;
    pv->uid = b->meta.uid;
    pv->resource_version = b->meta.resource_version;
    b->meta.name = b->meta.uid = b->meta.resource_version = NULL;
    pv->labels = b->meta.labels;
    memset(&b->meta.labels, 0, sizeof b->meta.labels);
    const char *journal = cs_labels_get(&b->meta.annotations, CS_ANNOTATION_MIGRATION);
    if (journal && !(pv->journal = strdup(journal)))
        return CS_ENOMEM;
    const char *last = cs_labels_get(&b->meta.annotations, CS_ANNOTATION_LAST_MIGRATION);
    if (last && cs_crd_time_parse(last, &pv->last_migration, NULL) != 0)
        pv->last_migration = 0; /* unreadable: as if never migrated */
    const char *retry = cs_labels_get(&b->meta.annotations, CS_ANNOTATION_RETRY_AFTER);
    if (retry && cs_crd_time_parse(retry, &pv->retry_after, NULL) != 0)
        pv->retry_after = 0;
    const char *failures = cs_labels_get(&b->meta.annotations, CS_ANNOTATION_FAILURES);
    if (failures) {
        long n = strtol(failures, NULL, 10);
        pv->failures = n > 0 && n < 1000 ? (int)n : 0;
    }
    pv->mayastor = b->driver && strcmp(b->driver, CS_MAYASTOR_CSI_DRIVER) == 0;
    if (pv->mayastor && b->handle &&
        cs_mayastor_uuid_parse(b->handle, strlen(b->handle), &pv->volume) == 0)
        pv->has_volume = true;
    int64_t cap;
    if (b->capacity && cs_quantity_parse(b->capacity, &cap, NULL) == 0 && cap > 0)
        pv->capacity = (uint64_t)cap;
    cs_kube_meta_free(&b->meta);
    free(b->driver);
    free(b->handle);
    free(b->capacity);
    b->driver = b->handle = b->capacity = NULL;
    if (!pv->name)
        return cs_err_set(err, CS_EPARSE, "PersistentVolume without metadata.name");
    return 0;
}

void cs_pv_free(cs_pv_t *pv)
{
    if (!pv)
        return;
    free(pv->name);
    free(pv->uid);
    free(pv->resource_version);
    free(pv->storage_class);
    free(pv->journal);
    cs_labels_free(&pv->labels);
    memset(pv, 0, sizeof *pv);
}

static void cs__pv_destroy(void *ctx, void *obj)
{
    cs__pv_build_t *b = obj;
    if (!b)
        return;
    cs_pv_free(&b->pv);
    cs_kube_meta_free(&b->meta);
    free(b->driver);
    free(b->handle);
    free(b->capacity);
    free(b);
}

/* The cs_pv_t sits first in the build struct, so the object pointer is
 * usable as a cs_pv_t *. */
_Static_assert(offsetof(cs__pv_build_t, pv) == 0, "cs_pv_t first");

cs_kube_decoder_t cs_pv_decoder(void)
{
    return (cs_kube_decoder_t){.create = cs__pv_create, .field = cs__pv_field, .finish = cs__pv_finish,
                               .destroy = cs__pv_destroy};
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

static int cs__dp_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    return cs_kube_meta_field(&((cs__dp_build_t *)obj)->meta, f);
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
    return (cs_kube_decoder_t){.create = cs__dp_create, .field = cs__dp_field, .finish = cs__dp_finish,
                               .destroy = cs__dp_destroy};
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
    return (cs_kube_decoder_t){.create = cs__tree_create, .field = cs__tree_field, .finish = cs__tree_finish,
                               .destroy = cs__tree_destroy};
}

/* ---- the plan input ---- */

void cs_plan_facts_free(cs_plan_facts_t *f)
{
    if (!f)
        return;
    if (f->pool_labels)
        for (size_t i = 0; i < f->in.pool_count; i++)
            cs_labels_free(&f->pool_labels[i]);
    free(f->pool_labels);
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

int cs_plan_facts_build(const cs_cluster_view_t *view, const char *policy_name,
                        const cs_storage_policy_spec_t *spec, int64_t now, cs_plan_facts_t *f, cs_err_t *err)
{
    memset(f, 0, sizeof *f);
    size_t npools = view->pools ? view->pools->count : 0;
    size_t nrep = 0, nvol = 0;
    for (size_t i = 0; i < view->pv_count; i++) {
        const cs_pv_t *pv = view->pvs[i];
        if (!pv->storage_class || !spec->storage_class_name || strcmp(pv->storage_class, spec->storage_class_name) != 0)
            continue;
        nvol++;
        const cs_mayastor_volume_t *mv =
            pv->has_volume && view->volumes ? cs_mayastor_volumes_find(view->volumes, &pv->volume) : NULL;
        if (mv)
            nrep += mv->replica_count;
    }
    f->volumes = calloc(nvol + 1, sizeof *f->volumes);
    f->pv_of = calloc(nvol + 1, sizeof *f->pv_of);
    f->mvol = calloc(nvol + 1, sizeof *f->mvol);
    f->replicas = calloc(nrep + 1, sizeof *f->replicas);
    f->pools = calloc(npools + 1, sizeof *f->pools);
    f->pool_labels = calloc(npools + 1, sizeof *f->pool_labels);
    if (!f->volumes || !f->pv_of || !f->mvol || !f->replicas || !f->pools || !f->pool_labels) {
        cs_plan_facts_free(f);
        return cs_err_set(err, CS_ENOMEM, "policy '%s': out of memory gathering facts", policy_name);
    }
    for (size_t i = 0; i < npools; i++) {
        const cs_mayastor_pool_t *mp = &view->pools->items[i];
        const cs_diskpool_ref_t *dp = cs__diskpool(view, mp->id);
        int rc = 0;
        if (dp) {
            for (size_t l = 0; l < dp->labels.count && rc == 0; l++)
                rc = cs_labels_set(&f->pool_labels[i], dp->labels.items[l].key, dp->labels.items[l].value);
        } else {
            for (size_t l = 0; l < mp->label_count && rc == 0; l++)
                rc = cs_labels_set(&f->pool_labels[i], mp->labels[l].key, mp->labels[l].value);
        }
        if (rc != 0) {
            cs_plan_facts_free(f);
            return cs_err_set(err, CS_ENOMEM, "policy '%s': out of memory gathering facts", policy_name);
        }
        f->pools[i] = (cs_plan_pool_t){.id = mp->id, .node = mp->node, .labels = &f->pool_labels[i],
                                       .online = mp->status == CS_MAYASTOR_STATE_ONLINE,
                                       .capacity = mp->capacity, .used = mp->used};
    }
    size_t v = 0, r = 0;
    for (size_t i = 0; i < view->pv_count; i++) {
        const cs_pv_t *pv = view->pvs[i];
        if (!pv->storage_class || !spec->storage_class_name || strcmp(pv->storage_class, spec->storage_class_name) != 0)
            continue;
        const cs_mayastor_volume_t *mv =
            pv->has_volume && view->volumes ? cs_mayastor_volumes_find(view->volumes, &pv->volume) : NULL;
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
        pvv->replicas = &f->replicas[r];
        for (size_t k = 0; mv && k < mv->replica_count; k++) {
            const cs_mayastor_replica_t *rep = &mv->replicas[k];
            f->replicas[r++] = (cs_plan_replica_t){.pool = rep->pool, .node = rep->node,
                                                    .online = rep->state == CS_MAYASTOR_STATE_ONLINE};
            pvv->replica_count++;
        }
        pvv->migrating = pv->journal != NULL;
        pvv->last_migration_end = pv->last_migration;
        pvv->retry_after = pv->retry_after;
        if (view->iops && cs_prom_iops_known(&view->iops[i])) {
            pvv->iops_known = true;
            pvv->iops = view->iops[i].iops;
        }
        v++;
    }
    f->in = (cs_plan_input_t){.policy_name = policy_name, .spec = spec, .now = now, .volume_count = nvol,
                              .volumes = f->volumes, .pool_count = npools, .pools = f->pools,
                              .global_slots = SIZE_MAX};
    return 0;
}

void cs_plan_print(const cs_plan_facts_t *f, const cs_plan_t *plan, const char *policy, FILE *out, bool json)
{
    if (json) {
        json_t *items = json_array();
        for (size_t i = 0; i < plan->count; i++) {
            const cs_plan_item_t *it = &plan->items[i];
            const cs_plan_volume_t *v = &f->in.volumes[it->volume];
            json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:s, s:s}", "volume", v->name,
                                  "iops", v->iops_known ? json_real(v->iops) : json_null(), "currentTier",
                                  cs_tier_name(it->current), "wantedTier", cs_tier_name(it->wanted), "action",
                                  cs_plan_action_name(it->action), "reason", cs_plan_reason_name(it->reason),
                                  "detail", it->detail);
            if (it->source_pool >= 0)
                json_object_set_new(o, "sourcePool", json_string(f->in.pools[it->source_pool].id));
            if (it->target_pool >= 0)
                json_object_set_new(o, "targetPool", json_string(f->in.pools[it->target_pool].id));
            json_array_append_new(items, o);
        }
        json_t *doc = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o}", "policy", policy, "watched",
                                (json_int_t)plan->watched, "hot", (json_int_t)plan->hot, "warm",
                                (json_int_t)plan->warm, "cold", (json_int_t)plan->cold, "moves",
                                (json_int_t)plan->moves, "volumes", items);
        char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            fprintf(out, "%s\n", text);
        free(text);
        json_decref(doc);
        return;
    }
    fprintf(out, "policy %s: %zu volumes (hot %zu, warm %zu, cold %zu), %zu to move now\n\n", policy, plan->watched,
            plan->hot, plan->warm, plan->cold, plan->moves);
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
                cs_plan_reason_name(it->reason), it->detail);
    }
}

/* ---- observing Mayastor and Prometheus ---- */

int cs_observe(cs_mayastor_t *ms, cs_prom_t *prom, const cs_pv_t *const *pvs, size_t n, int64_t window_ns,
               cs_observation_t *obs)
{
    memset(obs, 0, sizeof *obs);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    obs->mayastor_ok = cs_mayastor_volumes_list(ms, &obs->volumes, &obs->mayastor_err) == 0 &&
                       cs_mayastor_pools_list(ms, NULL, &obs->pools, &obs->mayastor_err) == 0;
    obs->iops = calloc(n + 1, sizeof *obs->iops);
    const char **names = calloc(n + 1, sizeof *names);
    if (!obs->iops || !names) {
        free(names);
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = pvs[i]->name;
        obs->iops[i].state = CS_PROM_IOPS_UNAVAILABLE;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    obs->metrics_ok = n == 0 || cs_prom_volumes_iops(prom, names, n, window_ns, obs->iops, &obs->metrics_err) == 0;
    clock_gettime(CLOCK_MONOTONIC, &t2);
    obs->list_seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    obs->query_seconds = (double)(t2.tv_sec - t1.tv_sec) + (double)(t2.tv_nsec - t1.tv_nsec) / 1e9;
    for (size_t i = 0; i < n; i++)
        obs->unknown += !cs_prom_iops_known(&obs->iops[i]);
    free(names);
    return 0;
}

void cs_observation_free(cs_observation_t *obs)
{
    if (!obs)
        return;
    cs_mayastor_volumes_free(&obs->volumes);
    cs_mayastor_pools_free(&obs->pools);
    free(obs->iops);
    memset(obs, 0, sizeof *obs);
}

cs_cluster_view_t cs_observation_view(const cs_observation_t *obs, const cs_pv_t *const *pvs, size_t npvs,
                                      const cs_diskpool_ref_t *const *dps, size_t ndps)
{
    return (cs_cluster_view_t){.pv_count = npvs, .pvs = pvs, .diskpool_count = ndps, .diskpools = dps,
                               .volumes = obs->mayastor_ok ? &obs->volumes : NULL,
                               .pools = obs->mayastor_ok ? &obs->pools : NULL, .iops = obs->iops};
}

int cs_prom_options_from_config(const cs_config_t *cfg, cs_prom_options_t *po, char **token, cs_err_t *err)
{
    *token = NULL;
    cs_prom_options_default(po);
    po->url = cfg->prometheus_url;
    po->metrics = cfg->prometheus_iops_metrics;
    if (cfg->prometheus_iops_fallbacks && *cfg->prometheus_iops_fallbacks)
        po->fallbacks = cfg->prometheus_iops_fallbacks;
    po->label = cfg->prometheus_volume_label;
    if (cfg->prometheus_selector && *cfg->prometheus_selector)
        po->selector = cfg->prometheus_selector;
    if (cfg->prometheus_bearer_token_file && *cfg->prometheus_bearer_token_file) {
        size_t len;
        int rc = cs_file_read_all(cfg->prometheus_bearer_token_file, 16384, token, &len, err);
        if (rc != 0)
            return cs_err_prefix(err, "prometheus_bearer_token_file: ");
        while (len > 0 && ((*token)[len - 1] == '\n' || (*token)[len - 1] == '\r' || (*token)[len - 1] == ' '))
            (*token)[--len] = '\0';
        po->bearer_token = *token;
    }
    return cs_prom_options_validate(po, err);
}
