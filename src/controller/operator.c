/* operator.c: `couchestor operator`: informers, work queue, leader
 * election, workers, the readiness probe, metrics and clean shutdown. The
 * reconcilers are in reconcile_sp.c and reconcile_ec.c. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "couchestor/duration.h"
#include "couchestor/log.h"
#include "couchestor/migrator.h"
#include "operator.h"

#define CS__REQUEUE_NS (INT64_C(60) * CS_NSEC_PER_SEC) /* the seed's periodic requeue */
#define CS__COALESCE_NS (INT64_C(2) * CS_NSEC_PER_SEC) /* PV/DiskPool churn -> one reconcile */

/* ---- shared with the reconcilers (operator.h) ---- */

bool cs__op_is_leader(cs__op_t *op)
{
    return !op->elector || cs_lease_elector_is_leader(op->elector);
}

void cs__op_count_error(cs__op_t *op, const char *target)
{
    const char *l[] = {target};
    cs_metric_inc(op->m_errors, l, 1);
}

int64_t cs__op_generation(const cs_kube_object_t *obj)
{
    const json_t *meta = json_object_get(cs_json_tree_root(obj->data), "metadata");
    return (int64_t)json_integer_value(json_object_get(meta, "generation"));
}

int cs__op_patch_status(cs__op_t *op, const cs_kube_resource_t *res, const char *name, json_t *status, cs_err_t *err)
{
    json_t *patch = json_pack("{s:O}", "status", status);
    if (!patch)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    int64_t gate; /* a slow status write of a leader must not land after its term */
    int rc = cs_lease_write_begin(op->elector, 0, &gate, err);
    if (rc == 0) {
        rc = cs_kube_patch_status(op->clients.kube, res, NULL, name, CS_KUBE_PATCH_MERGE, patch, NULL, err);
        cs_lease_write_end(gate);
        if (rc != 0)
            cs__op_count_error(op, "kubernetes");
    }
    json_decref(patch);
    return rc;
}

/* An Event about a PV. Its uid goes in involvedObject: `kubectl describe
 * pv` selects Events by involvedObject.uid and shows none without it. */
void cs__op_pv_event(cs__op_t *op, const cs_pv_t *pv, bool warning, const char *reason, const char *note)
{
    if (!op->events)
        return;
    cs_kube_object_ref_t ref = {.api_version = "v1", .kind = "PersistentVolume", .name = pv->name, .uid = pv->uid};
    cs_event_record_repeating(op->events, &ref, warning ? CS_EVENT_WARNING : CS_EVENT_NORMAL, reason, "Plan", "%s",
                              note);
}

/* ---- enqueueing and the informers' handlers ---- */

static void cs__enqueue(cs__op_t *op, const char *kind, const char *name, int64_t delay_ns)
{
    char key[300];
    snprintf(key, sizeof key, "%s/%s", kind, name);
    if (delay_ns > 0)
        cs_workqueue_add_after(op->queue, key, delay_ns);
    else
        cs_workqueue_add(op->queue, key);
}

static int cs__enqueue_sp(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    cs__enqueue(op, "sp", obj->name, CS__COALESCE_NS);
    return 0;
}

static void cs__enqueue_all_sp(cs__op_t *op)
{
    cs_informer_foreach(op->sp, NULL, cs__enqueue_sp, op);
}

static void cs__sp_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue(ctx, "sp", obj->name, 0);
}

/* Our own status writes change the object too: only a resync (old == obj)
 * or a spec change (generation) calls for a reconcile. */
static void cs__sp_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    if (old == obj || cs__op_generation(old) != cs__op_generation(obj))
        cs__enqueue(ctx, "sp", obj->name, 0);
}
static void cs__sp_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__enqueue(ctx, "sp", obj->name, 0);
}
static void cs__ec_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue(ctx, "ec", obj->name, 0);
    cs__enqueue_all_sp(ctx);
}
static void cs__ec_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    cs__ec_add(ctx, obj);
}
static void cs__ec_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__ec_add(ctx, obj);
}
static void cs__churn_add(void *ctx, const cs_kube_object_t *obj)
{
    cs__enqueue_all_sp(ctx);
}
static void cs__churn_delete(void *ctx, const cs_kube_object_t *obj, bool unknown)
{
    cs__enqueue_all_sp(ctx);
}

/* A claim or a Namespace matters to a selection by its labels (and a
 * claim by the PV it is bound to): other changes (status, annotations)
 * requeue nothing. */
static bool cs__labels_equal(const cs_labels_t *a, const cs_labels_t *b)
{
    if (a->count != b->count)
        return false;
    for (size_t i = 0; i < a->count; i++) {
        const char *v = cs_labels_get(b, a->items[i].key);
        if (!v || strcmp(v, a->items[i].value) != 0)
            return false;
    }
    return true;
}

static void cs__pvc_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    const cs_pvc_t *a = old->data, *b = obj->data;
    bool same_pv = (!a->volume_name && !b->volume_name) ||
                   (a->volume_name && b->volume_name && strcmp(a->volume_name, b->volume_name) == 0);
    if (old != obj && (!same_pv || !cs__labels_equal(&a->labels, &b->labels)))
        cs__enqueue_all_sp(ctx);
}

static bool cs__str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A PV matters by what the plan reads of it (cs_pv_t): an update that
 * changes only something else (status, other annotations, managedFields)
 * requeues nothing. A journal counts by its presence: its steps are the
 * migration's own writes, and the migration requeues its policy when it
 * ends. */
static void cs__pv_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    const cs_pv_t *a = old->data, *b = obj->data;
    bool same = cs__str_eq(a->storage_class, b->storage_class) && cs__labels_equal(&a->labels, &b->labels) &&
                (a->journal != NULL) == (b->journal != NULL) && cs__str_eq(a->claim_namespace, b->claim_namespace) &&
                cs__str_eq(a->claim_name, b->claim_name) && a->capacity == b->capacity &&
                a->last_migration == b->last_migration && a->retry_after == b->retry_after &&
                a->failures == b->failures && cs__str_eq(a->last_target_pool, b->last_target_pool) &&
                a->has_volume == b->has_volume && memcmp(&a->volume, &b->volume, sizeof a->volume) == 0;
    if (old != obj && !same)
        cs__enqueue_all_sp(ctx);
}

/* A DiskPool matters by its labels (metadata.labels and
 * spec.topology.labelled): the DiskPool operator rewrites its status every
 * 30 s, and each of those would otherwise reconcile every policy. */
static void cs__dp_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    const cs_diskpool_ref_t *a = old->data, *b = obj->data;
    if (old != obj && (!cs__labels_equal(&a->labels, &b->labels) || !cs__labels_equal(&a->topology, &b->topology)))
        cs__enqueue_all_sp(ctx);
}

static void cs__ns_update(void *ctx, const cs_kube_object_t *old, const cs_kube_object_t *obj)
{
    const cs_namespace_ref_t *a = old->data, *b = obj->data;
    if (old != obj && !cs__labels_equal(&a->labels, &b->labels))
        cs__enqueue_all_sp(ctx);
}

bool cs__op_pool_labels_served(cs__op_t *op, bool reachable)
{
    pthread_mutex_lock(&op->caps_lock);
    if (!reachable) {
        op->caps_pool_labels = -1; /* reconnecting: ask again */
        pthread_mutex_unlock(&op->caps_lock);
        return true;
    }
    if (op->caps_pool_labels < 0) {
        cs_mayastor_caps_t caps;
        cs_mayastor_err_t me = {0};
        if (cs_mayastor_capabilities(op->clients.mayastor, &caps, &me) == 0) {
            op->caps_pool_labels = caps.pool_labels;
            if (!caps.pool_labels)
                CS_ERROR("Mayastor has no pool-label endpoints (older than 2.7.1): no volume can be steered, so none "
                         "is moved; upgrade Mayastor to 2.7.1 or newer",
                         "url", cs_mayastor_url(op->clients.mayastor));
            else
                CS_INFO("Mayastor serves the pool-label endpoints");
        } else {
            CS_WARN("cannot probe Mayastor's pool-label endpoints; assuming they exist", "error", me.err.msg);
        }
    }
    bool served = op->caps_pool_labels != 0;
    pthread_mutex_unlock(&op->caps_lock);
    return served;
}

int cs__op_hold(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_held_t *h = ctx;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        cs_kube_object_t **o = realloc(h->objs, cap * sizeof(cs_kube_object_t *));
        if (!o)
            return CS_ENOMEM;
        h->objs = o;
        const void **d = realloc(h->data, cap * sizeof(const void *));
        if (!d)
            return CS_ENOMEM;
        h->data = d;
        h->cap = cap;
    }
    h->objs[h->n] = cs_kube_object_ref((cs_kube_object_t *)obj);
    h->data[h->n++] = obj->data;
    return 0;
}

void cs__op_held_free(cs__op_held_t *h)
{
    for (size_t i = 0; i < h->n; i++)
        cs_kube_object_unref(h->objs[i]);
    free(h->objs);
    free(h->data);
    memset(h, 0, sizeof *h);
}

static void cs__migration_finished(void *ctx, const char *policy)
{
    cs__enqueue(ctx, "sp", policy, 0);
}

/* The migration manager's way to the uid of a PV (cs_migrations_options_t). */
static int cs__pv_uid(void *ctx, const char *pv_name, char *uid, size_t len)
{
    cs__op_t *op = ctx;
    cs_kube_object_t *obj = op->pv ? cs_informer_get(op->pv, NULL, pv_name) : NULL;
    const cs_pv_t *pv = obj ? obj->data : NULL;
    int rc = pv && pv->uid && strlen(pv->uid) < len ? 0 : -1;
    if (rc == 0)
        memcpy(uid, pv->uid, strlen(pv->uid) + 1);
    cs_kube_object_unref(obj);
    return rc;
}

/* Resumes every journaled migration that nothing in this process runs
 * (after a restart, a Lease takeover, or an interrupted step), whatever its
 * policy: a policy may have been disabled, edited or deleted since, and a
 * half-done migration (placement labels removed, an extra replica) must be
 * finished or rolled back regardless. */
static int cs__resume_one(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    const cs_pv_t *pv = obj->data;
    if (!pv->journal || cs_migrations_is_active(op->migrations, pv->name))
        return 0;
    cs_mig_journal_t j;
    cs_err_t err = {0};
    if (cs_mig_journal_decode(pv->journal, &j, &err) != 0) {
        CS_ERROR("unreadable migration journal: check the volume's replicas and the pools' placement label, then "
                 "remove the annotation " CS_ANNOTATION_MIGRATION,
                 "pv", pv->name, "error", err.msg);
        cs__op_pv_event(op, pv, true, "MigrationJournalInvalid", err.msg);
        return 0;
    }
    CS_INFO("resuming a journaled migration", "pv", pv->name, "step", cs_mig_step_name(j.step));
    if (cs_migrations_resume(op->migrations, &j, &err) != 0)
        CS_WARN("cannot resume the migration", "pv", pv->name, "error", err.msg);
    return 0;
}

void cs__op_resume_orphans(cs__op_t *op)
{
    cs_informer_foreach(op->pv, NULL, cs__resume_one, op);
}

/* ---- workers, leadership, readiness ---- */

static void *cs__worker(void *arg)
{
    cs__op_t *op = arg;
    for (;;) {
        char *key = NULL;
        int rc = cs_workqueue_get(op->queue, &key, -1);
        if (rc != 0 || !key)
            break;
        if (!cs__op_is_leader(op)) {
            /* A standby keeps its caches warm and does nothing else; taking
             * the Lease enqueues every policy again. */
            cs_workqueue_forget(op->queue, key);
            cs_workqueue_done(op->queue, key);
            free(key);
            continue;
        }
        const char *name = key + 3;
        if (strncmp(key, "jr/", 3) == 0) {
            /* Journals of any policy, even when no policy reconciles; once
             * the PV cache is complete, so that none is missed. */
            bool synced = cs_informer_has_synced(op->pv);
            if (synced)
                cs__op_resume_orphans(op);
            cs_workqueue_forget(op->queue, key);
            cs_workqueue_add_after(op->queue, key, synced ? CS__REQUEUE_NS : CS_NSEC_PER_SEC);
            cs_workqueue_done(op->queue, key);
            free(key);
            continue;
        }
        bool sp = strncmp(key, "sp/", 3) == 0;
        int64_t requeue_ns = 0;
        rc = sp ? cs__reconcile_sp(op, name, &requeue_ns) : cs__reconcile_ec(op, name);
        const char *l[] = {sp ? "storagepolicy" : "erasurecodingpolicy", rc >= 0 ? "success" : "error"};
        cs_metric_inc(op->m_reconcile, l, 1);
        if (rc < 0) {
            cs_workqueue_add_rate_limited(op->queue, key);
        } else {
            cs_workqueue_forget(op->queue, key);
            if (sp && rc == 0)
                cs_workqueue_add_after(op->queue, key,
                                       requeue_ns > 0 && requeue_ns < CS__REQUEUE_NS ? requeue_ns : CS__REQUEUE_NS);
        }
        cs_workqueue_done(op->queue, key);
        free(key);
    }
    return NULL;
}

static int cs__forget_policy_metrics(void *ctx, const cs_kube_object_t *obj)
{
    cs__op_t *op = ctx;
    cs_metric_remove_matching(op->m_volumes, obj->name);
    return 0;
}

static void cs__started_leading(void *ctx)
{
    cs__op_t *op = ctx;
    atomic_store(&op->leading, 1);
    cs_metric_set(op->m_leader, NULL, 1);
    CS_INFO("acquired the Lease: reconciling", "identity", op->identity);
    cs__sp_memory_forget_all(op); /* statuses written by another leader meanwhile */
    cs_migrations_resume_starts(op->migrations);
    cs__enqueue(op, "jr", "all", 0); /* never block the elector's thread here */
    cs__enqueue_all_sp(op);
}

static void cs__stopped_leading(void *ctx)
{
    cs__op_t *op = ctx;
    atomic_store(&op->leading, 0);
    cs_metric_set(op->m_leader, NULL, 0);
    CS_WARN("lost the Lease: every write stops; migrations stay journaled for the next leader", "identity",
            op->identity);
    cs_migrations_stop_all(op->migrations);
    cs_informer_foreach(op->sp, NULL, cs__forget_policy_metrics, op);
}

static void *cs__probe_api(void *arg)
{
    cs__op_t *op = arg;
    while (!atomic_load(&op->quit)) {
        json_t *v = NULL;
        int rc = cs_kube_get_path(op->clients.probe, "/api/v1/persistentvolumes?limit=1", &v, NULL);
        json_decref(v);
        atomic_store(&op->api_ok, rc == 0);
        for (int i = 0; i < 50 && !atomic_load(&op->quit); i++)
            usleep(100 * 1000);
    }
    return NULL;
}

static bool cs__ready(void *ctx, char *reason, size_t len)
{
    cs__op_t *op = ctx;
    if (!atomic_load(&op->api_ok)) {
        snprintf(reason, len, "the Kubernetes API server is not reachable");
        return false;
    }
    if (!op->sp || !cs_informer_has_synced(op->sp) || !cs_informer_has_synced(op->pv) ||
        !cs_informer_has_synced(op->dp) || !cs_informer_has_synced(op->ec) || !cs_informer_has_synced(op->pvc) ||
        !cs_informer_has_synced(op->ns)) {
        snprintf(reason, len, "informer caches not synced yet");
        return false;
    }
    return true;
}

static int cs__metrics_setup(cs__op_t *op, cs_err_t *err)
{
    op->metrics = cs_metrics_new();
    if (!op->metrics)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    const char *kr[] = {"kind", "result"}, *st[] = {"status"}, *pt[] = {"policy", "tier"}, *tg[] = {"target"},
               *ph[] = {"phase"};
    double rb[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    double mb[] = {10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
    op->m_reconcile =
        cs_metrics_counter(op->metrics, "couchestor_reconcile_total", "Reconciles by kind and result.", 2, kr, err);
    op->m_reconcile_seconds = cs_metrics_histogram(op->metrics, "couchestor_reconcile_duration_seconds",
                                                   "Wall time of a StoragePolicy reconcile.", 0, NULL, 10, rb, err);
    op->m_phase_seconds = cs_metrics_histogram(
        op->metrics, "couchestor_reconcile_phase_duration_seconds",
        "Wall time of each reconcile phase (list, query, decide, status; list and query overlap).", 1, ph, 10, rb, err);
    op->m_migrations = cs_metrics_counter(op->metrics, "couchestor_migrations_total",
                                          "Migrations by outcome (aborted = suspended, resumed later).", 1, st, err);
    op->m_active =
        cs_metrics_gauge(op->metrics, "couchestor_active_migrations", "Migrations running now.", 0, NULL, err);
    op->m_mig_seconds = cs_metrics_histogram(op->metrics, "couchestor_migration_duration_seconds",
                                             "Wall time of a migration.", 0, NULL, 10, mb, err);
    op->m_volumes =
        cs_metrics_gauge(op->metrics, "couchestor_volumes", "Volumes of a policy per current tier.", 2, pt, err);
    op->m_errors = cs_metrics_counter(op->metrics, "couchestor_request_errors_total",
                                      "Failed requests to Prometheus, Kubernetes and Mayastor.", 1, tg, err);
    op->m_leader =
        cs_metrics_gauge(op->metrics, "couchestor_leader", "1 while this replica holds the Lease.", 0, NULL, err);
    const char *rs[] = {"reason"};
    op->m_refusals = cs_metrics_counter(op->metrics, "couchestor_migration_refusals_total",
                                        "Migrations refused before any change, by reason (not failures).", 1, rs, err);
    if (!op->m_reconcile || !op->m_reconcile_seconds || !op->m_phase_seconds || !op->m_migrations || !op->m_active ||
        !op->m_mig_seconds || !op->m_volumes || !op->m_errors || !op->m_leader || !op->m_refusals)
        return err && err->code ? err->code : CS_ENOMEM;
    /* Every known series from the start, so rate() and alerts see the first event. */
    const char *outcomes[] = {"success", "failed", "aborted"};
    for (int i = 0; i < 3; i++) {
        const char *l[] = {outcomes[i]};
        cs_metric_touch(op->m_migrations, l);
    }
    for (int r = CS_MIG_REFUSAL_NONE + 1; r < CS_MIG_REFUSAL_COUNT_; r++) {
        const char *l[] = {cs_mig_refusal_name((cs_mig_refusal_t)r)};
        cs_metric_touch(op->m_refusals, l);
    }
    const char *targets[] = {"prometheus", "kubernetes", "mayastor"};
    for (int i = 0; i < 3; i++) {
        const char *l[] = {targets[i]};
        cs_metric_touch(op->m_errors, l);
    }
    const char *kinds[] = {"storagepolicy", "erasurecodingpolicy"}, *results[] = {"success", "error"};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 2; r++) {
            const char *l[] = {kinds[k], results[r]};
            cs_metric_touch(op->m_reconcile, l);
        }
    cs_metric_set(op->m_active, NULL, 0);
    cs_metric_set(op->m_leader, NULL, 0);
    return 0;
}

static int cs__informer(cs__op_t *op, const cs_kube_resource_t *res, const char *ns, cs_kube_decoder_t dec,
                        cs_informer_handlers_t h, int64_t resync, cs_informer_t **out, cs_err_t *err)
{
    cs_informer_options_t o = {
        .resource = res, .namespace = ns, .decoder = dec, .handlers = h, .resync_period_ns = resync};
    int rc = cs_informer_new(op->clients.kube, &o, out, err);
    if (rc == 0)
        rc = cs_informer_start(*out, err);
    return rc;
}

static void cs__teardown(cs__op_t *op)
{
    atomic_store(&op->quit, 1);
    if (op->prober_started)
        pthread_join(op->prober, NULL);
    if (op->queue)
        cs_workqueue_shutdown(op->queue);
    for (size_t i = 0; i < op->nworkers; i++)
        pthread_join(op->workers[i], NULL);
    if (op->migrations)
        cs_migrations_stop_all(op->migrations); /* journals stay: resumable */
    if (op->elector) {
        cs_lease_elector_stop(op->elector); /* releases the Lease */
        cs_lease_elector_free(op->elector);
    }
    cs_informer_free(op->sp);
    cs_informer_free(op->ec);
    cs_informer_free(op->pv);
    cs_informer_free(op->dp);
    cs_informer_free(op->pvc);
    cs_informer_free(op->ns);
    cs_migrations_free(op->migrations);
    if (op->events) {
        cs_event_recorder_flush(op->events, 2 * CS_NSEC_PER_SEC);
        cs_event_recorder_free(op->events);
    }
    cs_server_stop(op->server);
    cs_workqueue_free(op->queue);
    cs_clients_close(&op->clients);
    cs_metrics_free(op->metrics);
    cs__sp_memory_forget_all(op);
    pthread_mutex_destroy(&op->mem_lock);
    pthread_mutex_destroy(&op->caps_lock);
}

void cs_operator_malloc_setup(void)
{
    mallopt(M_ARENA_MAX, 1);
}

/* ---- start and stop ---- */

static int cs__open_clients(cs__op_t *op, cs_err_t *err)
{
    /* The readiness probe asks once, quickly: no retries behind its back. */
    cs_kube_client_options_t probe = {.timeout_ms = 3000, .connect_timeout_ms = 2000, .max_retries = -1};
    cs_clients_options_t co = {.probe = &probe};
    int rc = cs_clients_open(op->cfg, &co, &op->clients, err);
    if (rc == 0 && cs_prom_health(op->clients.prom, NULL) != 0)
        CS_WARN("Prometheus is not healthy yet; volumes stay put until it answers", "url", op->cfg->prometheus_url);
    return rc;
}

static bool cs__events_may_write(void *ctx)
{
    return cs__op_is_leader(ctx);
}

/* The work queue, the Event recorder, the Lease elector and the migration
 * manager (no thread runs yet). */
static int cs__new_services(cs__op_t *op, cs_err_t *err)
{
    const cs_config_t *cfg = op->cfg;
    cs_workqueue_options_t qo = {0};
    int rc = cs_workqueue_new(&qo, &op->queue, err);
    cs_event_recorder_options_t eo = {.reporting_controller = "storage.billyronks.io/couchestor",
                                      .reporting_instance = op->identity,
                                      .may_write = cs__events_may_write,
                                      .may_write_ctx = op};
    if (rc == 0)
        rc = cs_event_recorder_new(op->clients.kube, &eo, &op->events, err);
    if (rc == 0 && cfg->leader_election) {
        cs_lease_options_t lopt = {.namespace = cfg->lease_namespace,
                                   .name = cfg->lease_name,
                                   .identity = op->identity,
                                   .on_started_leading = cs__started_leading,
                                   .on_stopped_leading = cs__stopped_leading,
                                   .ctx = op};
        rc = cs_lease_elector_new(op->clients.kube, &lopt, &op->elector, err);
    }
    if (rc != 0)
        return rc;
    cs_migrations_options_t mgo = {.mayastor = op->clients.mayastor,
                                   .kube = op->clients.kube,
                                   .events = op->events,
                                   .elector = op->elector,
                                   .poll_ms = cfg->sync_poll_interval_seconds * 1000,
                                   .preservation_mode = cfg->preservation_mode,
                                   .migrations_total = op->m_migrations,
                                   .refusals = op->m_refusals,
                                   .active = op->m_active,
                                   .duration = op->m_mig_seconds,
                                   .on_finished = cs__migration_finished,
                                   .pv_uid = cs__pv_uid,
                                   .ctx = op};
    rc = cs_migrations_new(&mgo, &op->migrations, err);
    if (rc == 0 && op->elector)
        cs_migrations_stop_all(op->migrations); /* no migration before the Lease */
    return rc;
}

/* The API probe and the metrics/health server. */
static int cs__start_serving(cs__op_t *op, cs_err_t *err)
{
    atomic_store(&op->api_ok, 0);
    if (pthread_create(&op->prober, NULL, cs__probe_api, op) != 0)
        return cs_err_set(err, CS_ENOMEM, "cannot start the API probe thread");
    op->prober_started = true;
    cs_server_options_t so = {.metrics_addr = op->cfg->metrics_addr,
                              .health_addr = op->cfg->health_addr,
                              .metrics = op->metrics,
                              .ready = cs__ready,
                              .ready_ctx = op};
    int rc = cs_server_start(&so, &op->server, err);
    if (rc != 0)
        return rc;
    char mport[16], hport[16];
    snprintf(mport, sizeof mport, "%d", cs_server_metrics_port(op->server));
    snprintf(hport, sizeof hport, "%d", cs_server_health_port(op->server));
    CS_INFO("serving metrics and probes", "metrics_port", mport, "health_port", hport);
    return 0;
}

/* The informers, the workers, and the Lease (or leadership at once). */
static int cs__start_working(cs__op_t *op, cs_err_t *err)
{
    cs_informer_handlers_t sp_h = {cs__sp_add, cs__sp_update, cs__sp_delete, op};
    cs_informer_handlers_t ec_h = {cs__ec_add, cs__ec_update, cs__ec_delete, op};
    cs_informer_handlers_t pv_h = {cs__churn_add, cs__pv_update, cs__churn_delete, op};
    cs_informer_handlers_t dp_h = {cs__churn_add, cs__dp_update, cs__churn_delete, op};
    cs_informer_handlers_t pvc_h = {cs__churn_add, cs__pvc_update, cs__churn_delete, op};
    cs_informer_handlers_t ns_h = {cs__churn_add, cs__ns_update, cs__churn_delete, op};
    int rc;
    if ((rc = cs__informer(op, CS_STORAGE_POLICY_RESOURCE, NULL, cs_json_tree_decoder(), sp_h, CS__REQUEUE_NS, &op->sp,
                           err)) != 0 ||
        (rc = cs__informer(op, CS_EC_POLICY_RESOURCE, NULL, cs_json_tree_decoder(), ec_h, 0, &op->ec, err)) != 0 ||
        (rc = cs__informer(op, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, cs_pv_decoder(), pv_h, 0, &op->pv, err)) != 0 ||
        (rc = cs__informer(op, CS_DISKPOOL_RESOURCE, op->cfg->mayastor_namespace, cs_diskpool_decoder(), dp_h, 0,
                           &op->dp, err)) != 0 ||
        (rc = cs__informer(op, CS_KUBE_RES_PVCS, NULL, cs_pvc_decoder(), pvc_h, 0, &op->pvc, err)) != 0 ||
        (rc = cs__informer(op, CS_KUBE_RES_NAMESPACES, NULL, cs_namespace_decoder(), ns_h, 0, &op->ns, err)) != 0)
        return rc;
    for (; op->nworkers < CS__WORKERS; op->nworkers++)
        if (pthread_create(&op->workers[op->nworkers], NULL, cs__worker, op) != 0)
            return cs_err_set(err, CS_ENOMEM, "cannot start worker threads");
    if (!op->elector) {
        atomic_store(&op->leading, 1);
        cs_metric_set(op->m_leader, NULL, 1);
        cs__enqueue(op, "jr", "all", 0);
        return 0;
    }
    if ((rc = cs_lease_elector_start(op->elector, err)) != 0)
        return rc;
    CS_INFO("waiting for the Lease", "lease", op->cfg->lease_name, "namespace", op->cfg->lease_namespace, "identity",
            op->identity);
    return 0;
}

int cs_operator_run(const cs_config_t *cfg, const atomic_int *stop, cs_err_t *err)
{
    cs_operator_malloc_setup();
    cs__op_t *op = calloc(1, sizeof *op);
    if (!op)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    op->cfg = cfg;
    op->stop = stop;
    pthread_mutex_init(&op->mem_lock, NULL);
    pthread_mutex_init(&op->caps_lock, NULL);
    op->caps_pool_labels = -1;
    char host[100] = "couchestor";
    gethostname(host, sizeof host - 1);
    snprintf(op->identity, sizeof op->identity, "%s_%ld", host, (long)getpid());
    int rc = cs__metrics_setup(op, err);
    if (rc == 0)
        rc = cs__open_clients(op, err);
    if (rc == 0)
        rc = cs__new_services(op, err);
    if (rc == 0)
        rc = cs__start_serving(op, err);
    if (rc == 0)
        rc = cs__start_working(op, err);
    if (rc == 0) {
        CS_INFO("operator running", "dry_run", cfg->dry_run ? "true" : "false", "preservation_mode",
                cfg->preservation_mode ? "true" : "false");
        while (!atomic_load(stop))
            usleep(100 * 1000);
        CS_INFO("stopping: no new work; in-flight migrations stay journaled; releasing the Lease", (const char *)NULL);
    }
    cs__teardown(op);
    free(op);
    return rc;
}
