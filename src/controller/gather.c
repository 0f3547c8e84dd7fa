/* gather.c: the gather step of a StoragePolicy decision, shared by the
 * operator's reconcile and `couchestor plan`: the policy's PVs, one
 * observation of Mayastor and Prometheus, the plan input, and the
 * migration limits. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/controller.h"
#include "migrations.h"

/* ---- observing Mayastor and Prometheus ---- */

/* The Prometheus half of cs_observe, run on a thread of its own while the
 * calling thread lists Mayastor: the two wait on different servers, so the
 * observation takes the longer of the two, not their sum. */
typedef struct {
    cs_prom_t *prom;
    const char **names;
    size_t n;
    int64_t window_ns;
    cs_prom_iops_t *iops;
    cs_prom_batch_t *batch;
    cs_err_t err;
    bool ok;
    double seconds, cpu_seconds;
} cs__iops_job_t;

static void *cs__iops_job_run(void *arg)
{
    cs__iops_job_t *j = arg;
    double t0 = cs_clock_mono_s(), c0 = cs_clock_thread_cpu_s();
    j->ok = j->n == 0 ||
            cs_prom_volumes_iops_report(j->prom, j->names, j->n, j->window_ns, j->iops, j->batch, &j->err) == 0;
    j->seconds = cs_clock_mono_s() - t0;
    j->cpu_seconds = cs_clock_thread_cpu_s() - c0;
    return NULL;
}

/* The string the exporter's volume label carries for each PV: its name
 * ("pvc-<uuid>") or its CSI volume handle (for Mayastor the bare uuid, as
 * cs_pv_t keeps it parsed), as the client was configured. A PV without a
 * handle has no key (NULL): nothing can name its series. */
static void cs__volume_keys(const cs_prom_t *prom, const cs_pv_t *const *pvs, size_t n, const char **names,
                            char (*handles)[37])
{
    bool by_handle = cs_prom_volume_key(prom) == CS_PROM_KEY_VOLUME_HANDLE;
    for (size_t i = 0; i < n; i++) {
        names[i] = pvs[i]->name;
        if (!by_handle)
            continue;
        names[i] = NULL;
        if (pvs[i]->has_volume) {
            cs_mayastor_uuid_format(&pvs[i]->volume, handles[i]);
            names[i] = handles[i];
        }
    }
}

int cs_observe(cs_mayastor_t *ms, cs_prom_t *prom, const cs_pv_t *const *pvs, size_t n, int64_t window_ns,
               cs_observation_t *obs)
{
    memset(obs, 0, sizeof *obs);
    double t0 = cs_clock_mono_s();
    obs->iops = calloc(n + 1, sizeof *obs->iops);
    const char **names = calloc(n + 1, sizeof *names);
    char(*handles)[37] = calloc(n + 1, sizeof *handles);
    if (!obs->iops || !names || !handles) {
        free(handles);
        free(names);
        free(obs->iops);
        obs->iops = NULL;
        return CS_ENOMEM;
    }
    cs__volume_keys(prom, pvs, n, names, handles);
    for (size_t i = 0; i < n; i++)
        obs->iops[i].state = CS_PROM_IOPS_UNAVAILABLE;
    cs__iops_job_t job = {
        .prom = prom, .names = names, .n = n, .window_ns = window_ns, .iops = obs->iops, .batch = &obs->metrics_batch};
    pthread_t thread;
    bool threaded = n > 0 && pthread_create(&thread, NULL, cs__iops_job_run, &job) == 0;

    double c0 = cs_clock_thread_cpu_s(), l0 = cs_clock_mono_s();
    obs->mayastor_ok = cs_mayastor_volumes_list(ms, &obs->volumes, &obs->mayastor_err) == 0 &&
                       cs_mayastor_pools_list(ms, NULL, &obs->pools, &obs->mayastor_err) == 0 &&
                       cs_mayastor_nodes_list(ms, &obs->nodes, &obs->mayastor_err) == 0;
    obs->list_seconds = cs_clock_mono_s() - l0;
    obs->list_cpu_seconds = cs_clock_thread_cpu_s() - c0;

    if (threaded)
        pthread_join(thread, NULL);
    else /* no thread to be had: the query after the lists */
        cs__iops_job_run(&job);
    obs->metrics_ok = job.ok;
    obs->metrics_err = job.err;
    obs->query_seconds = job.seconds;
    obs->query_cpu_seconds = job.cpu_seconds;
    obs->metrics_asked = n > 0;
    obs->seconds = cs_clock_mono_s() - t0;
    for (size_t i = 0; i < n; i++) {
        if (!names[i] && job.ok) /* no handle to name its series by */
            obs->iops[i].state = CS_PROM_IOPS_NO_DATA;
        obs->unknown += !cs_prom_iops_known(&obs->iops[i]);
        obs->young += obs->iops[i].state == CS_PROM_IOPS_YOUNG;
    }
    free(handles);
    free(names);
    return 0;
}

/* ---- what the metrics mean, for people ---- */

/* Appends printf text to out->message. */
static void cs__say(cs_metrics_verdict_t *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cs__say(cs_metrics_verdict_t *out, const char *fmt, ...)
{
    size_t n = strlen(out->message);
    if (n + 1 >= sizeof out->message)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message + n, sizeof out->message - n, fmt, ap);
    va_end(ap);
}

/* "; fallback set X answers N volumes; set Y matches no series" for every
 * set past the primary that was asked. */
static void cs__say_sets(const cs_prom_t *prom, const cs_prom_batch_t *b, cs_metrics_verdict_t *out)
{
    char set[256];
    for (size_t s = 0; s < b->sets; s++) {
        if (!b->asked[s])
            continue;
        cs_prom_set_text(prom, s, set, sizeof set);
        if (b->series[s] == 0)
            cs__say(out, "; %s metric set %s matches no series", s ? "fallback" : "primary", set);
        else if (s > 0 && b->answered[s] > 0)
            cs__say(out, "; fallback metric set %s answers %zu volumes", set, b->answered[s]);
    }
}

void cs_metrics_verdict(const cs_prom_t *prom, const cs_observation_t *obs, size_t pv_count, cs_metrics_verdict_t *out)
{
    const cs_prom_batch_t *b = &obs->metrics_batch;
    memset(out, 0, sizeof *out);
    out->ok = true;
    size_t series = 0, answered = 0, fallback = 0;
    for (size_t s = 0; s < b->sets; s++) {
        series += b->series[s];
        answered += b->answered[s];
        fallback += s > 0 ? b->answered[s] : 0;
    }
    if (!obs->metrics_ok) {
        out->ok = false;
        out->reason = "PrometheusUnavailable";
        cs__say(out, "Prometheus query failed, no volume is moved: %s", obs->metrics_err.msg);
    } else if (obs->metrics_asked && series == 0) {
        out->ok = false;
        out->reason = "NoSeries";
        cs__say(out, "no metric set matches any series, no volume is moved (check prometheus_iops_metrics, "
                     "prometheus_selector and that Prometheus scrapes the exporter)");
    } else if (obs->metrics_asked && answered == 0) {
        out->ok = false;
        out->reason = "NoSeriesForVolumes";
        cs__say(out,
                "the metric sets return %zu series but none for these %zu volumes, no volume is moved (check "
                "prometheus_volume_label and prometheus_volume_key: the label carries the %s)",
                series, pv_count,
                cs_prom_volume_key(prom) == CS_PROM_KEY_VOLUME_HANDLE ? "volume handle" : "PV name, pvc-<uuid>");
    } else if (fallback > 0) {
        out->reason = "FallbackInUse";
        cs__say(out, "%zu of %zu volumes are read from a fallback metric set", fallback, pv_count);
    } else if (obs->unknown > 0) {
        out->reason = "SomeSeriesMissing";
        cs__say(out, "%zu of %zu volumes have no IOPS", obs->unknown, pv_count);
    } else {
        out->reason = "Available";
        cs__say(out, "every volume has an IOPS series covering %.0f%% of samplingWindow",
                cs_prom_min_coverage(prom) * 100);
        return;
    }
    if (out->ok && obs->unknown > 0)
        cs__say(out,
                "%s%zu without a series, %zu with a series younger than %.0f%% of samplingWindow; they are "
                "not moved",
                out->message[0] ? "; " : "", obs->unknown - obs->young, obs->young, cs_prom_min_coverage(prom) * 100);
    cs__say_sets(prom, b, out);
}

void cs_observation_free(cs_observation_t *obs)
{
    if (!obs)
        return;
    cs_mayastor_volumes_free(&obs->volumes);
    cs_mayastor_pools_free(&obs->pools);
    cs_mayastor_nodes_free(&obs->nodes);
    free(obs->iops);
    memset(obs, 0, sizeof *obs);
}

cs_cluster_view_t cs_observation_view(const cs_observation_t *obs, const cs_pv_t *const *pvs, size_t npvs,
                                      const cs_diskpool_ref_t *const *dps, size_t ndps)
{
    return (cs_cluster_view_t){.pv_count = npvs,
                               .pvs = pvs,
                               .diskpool_count = ndps,
                               .diskpools = dps,
                               .volumes = obs->mayastor_ok ? &obs->volumes : NULL,
                               .pools = obs->mayastor_ok ? &obs->pools : NULL,
                               .nodes = obs->mayastor_ok ? &obs->nodes : NULL,
                               .iops = obs->iops};
}

/* ---- the gather step ---- */

static int cs__select_pvs(const cs_gather_source_t *src, const char *storage_class, cs_gathered_t *g)
{
    g->pvs = calloc(src->pv_count + 1, sizeof(const cs_pv_t *));
    if (!g->pvs)
        return CS_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < src->pv_count; i++)
        if (cs_pv_of_storage_class(src->pvs[i], storage_class))
            g->pvs[n++] = src->pvs[i];
    g->pv_count = n;
    return 0;
}

/* How many migrations run, for the limits. The operator knows its own
 * (a migration it started may not have its journal in the cache yet, and
 * a refused move is held for a while); `couchestor plan` knows only the
 * journals on the PVs, of every policy. */
static void cs__count_migrations(const cs_gather_source_t *src, const char *policy, cs_plan_facts_t *f,
                                 size_t *policy_active, size_t *all_active)
{
    if (src->migrations) {
        for (size_t i = 0; i < f->in.volume_count; i++) {
            bool active;
            cs_migrations_hold(src->migrations, f->volumes[i].name, &active, &f->volumes[i].refused_until);
            f->volumes[i].migrating = f->volumes[i].migrating || active;
        }
        *policy_active = cs_migrations_active(src->migrations, policy);
        *all_active = cs_migrations_active(src->migrations, NULL);
        return;
    }
    *policy_active = *all_active = 0;
    for (size_t i = 0; i < f->in.volume_count; i++)
        *policy_active += f->volumes[i].migrating;
    for (size_t i = 0; i < src->pv_count; i++)
        *all_active += src->pvs[i]->journal != NULL;
}

/* ---- the bound claims and their Namespaces ---- */

static int cs__pvc_cmp(const void *a, const void *b)
{
    const cs_pvc_t *x = *(const cs_pvc_t *const *)a, *y = *(const cs_pvc_t *const *)b;
    int c = strcmp(x->namespace_, y->namespace_);
    return c ? c : strcmp(x->name, y->name);
}

static int cs__ns_cmp(const void *a, const void *b)
{
    const cs_namespace_ref_t *x = *(const cs_namespace_ref_t *const *)a;
    const cs_namespace_ref_t *y = *(const cs_namespace_ref_t *const *)b;
    return strcmp(x->name, y->name);
}

static int cs__labels_copy(const cs_labels_t *from, cs_labels_t *to)
{
    for (size_t i = 0; i < from->count; i++)
        if (cs_labels_set(to, from->items[i].key, from->items[i].value) != 0)
            return CS_ENOMEM;
    return 0;
}

/* The claim pv is bound to: the one its claimRef names, bound back to it. */
static const cs_pvc_t *cs__bound_claim(const cs_pvc_t **sorted, size_t n, const cs_pv_t *pv)
{
    if (!pv->claim_namespace || !pv->claim_name || n == 0)
        return NULL;
    cs_pvc_t key = {.name = (char *)pv->claim_name, .namespace_ = (char *)pv->claim_namespace};
    const cs_pvc_t *k = &key;
    const cs_pvc_t *const *hit = bsearch(&k, sorted, n, sizeof(const cs_pvc_t *), cs__pvc_cmp);
    return hit && (*hit)->volume_name && strcmp((*hit)->volume_name, pv->name) == 0 ? *hit : NULL;
}

/* The labels of Namespace name (copied once per Namespace), or NULL when
 * it is unknown; *rc becomes CS_ENOMEM when the copy fails. */
static const cs_labels_t *cs__ns_labels(const cs_namespace_ref_t **sorted, cs_gathered_t *g, bool *copied,
                                        const char *name, int *rc)
{
    cs_namespace_ref_t key = {.name = (char *)name};
    const cs_namespace_ref_t *k = &key;
    const cs_namespace_ref_t *const *hit =
        bsearch(&k, sorted, g->namespace_count, sizeof(const cs_namespace_ref_t *), cs__ns_cmp);
    if (!hit)
        return NULL;
    size_t at = (size_t)(hit - sorted);
    if (!copied[at]) {
        copied[at] = true;
        if (cs__labels_copy(&(*hit)->labels, &g->namespace_labels[at]) != 0)
            *rc = CS_ENOMEM;
    }
    return &g->namespace_labels[at];
}

/* Points each volume of the plan input at copies of its bound claim's
 * labels and its Namespace's. */
static int cs__claims(const cs_gather_source_t *src, cs_gathered_t *g)
{
    size_t npvc = src->pvcs ? src->pvc_count : 0, nns = src->namespaces ? src->namespace_count : 0;
    const cs_pvc_t **pvcs = malloc((npvc + 1) * sizeof(const cs_pvc_t *));
    const cs_namespace_ref_t **nss = malloc((nns + 1) * sizeof(const cs_namespace_ref_t *));
    bool *copied = calloc(nns + 1, sizeof *copied);
    g->claim_labels = calloc(g->pv_count + 1, sizeof *g->claim_labels);
    g->namespace_labels = calloc(nns + 1, sizeof *g->namespace_labels);
    int rc = pvcs && nss && copied && g->claim_labels && g->namespace_labels ? 0 : CS_ENOMEM;
    if (rc == 0) {
        g->namespace_count = nns;
        if (npvc > 0)
            memcpy(pvcs, src->pvcs, npvc * sizeof(const cs_pvc_t *));
        if (nns > 0)
            memcpy(nss, src->namespaces, nns * sizeof(const cs_namespace_ref_t *));
        qsort(pvcs, npvc, sizeof(const cs_pvc_t *), cs__pvc_cmp);
        qsort(nss, nns, sizeof(const cs_namespace_ref_t *), cs__ns_cmp);
    }
    for (size_t v = 0; rc == 0 && v < g->facts.in.volume_count; v++) {
        size_t i = g->facts.pv_of[v];
        const cs_pvc_t *claim = cs__bound_claim(pvcs, npvc, g->pvs[i]);
        if (!claim)
            continue;
        g->facts.volumes[v].claim_labels = &g->claim_labels[i];
        if ((rc = cs__labels_copy(&claim->labels, &g->claim_labels[i])) == 0)
            g->facts.volumes[v].namespace_labels = cs__ns_labels(nss, g, copied, claim->namespace_, &rc);
    }
    free(pvcs);
    free(nss);
    free(copied);
    return rc;
}

int cs_gather(const cs_gather_source_t *src, const char *policy, const cs_storage_policy_spec_t *spec, int64_t now,
              cs_gathered_t *g, cs_err_t *err)
{
    memset(g, 0, sizeof *g);
    int rc = cs__select_pvs(src, spec->storage_class_name, g);
    if (rc == 0)
        rc = cs_observe(src->clients->mayastor, src->clients->prom, g->pvs, g->pv_count, spec->sampling_window_ns,
                        &g->obs);
    if (rc != 0)
        return cs_err_set(err, rc, "policy '%s': out of memory gathering its volumes", policy);
    cs_cluster_view_t view = cs_observation_view(&g->obs, g->pvs, g->pv_count, src->diskpools, src->diskpool_count);
    rc = cs_plan_facts_build(&view, policy, spec, now, &g->facts, err);
    if (rc != 0)
        return rc;
    if (cs__claims(src, g) != 0)
        return cs_err_set(err, CS_ENOMEM, "policy '%s': out of memory reading its volumes' claims", policy);
    for (size_t v = 0; src->policy_count > 0 && v < g->facts.in.volume_count; v++) {
        const char *owner = cs_plan_volume_owner(src->policies, src->policy_count, &g->facts.volumes[v]);
        if (owner && strcmp(owner, policy) != 0)
            g->facts.volumes[v].owner = owner;
    }
    size_t policy_active, all_active;
    cs__count_migrations(src, policy, &g->facts, &policy_active, &all_active);
    size_t global_max = src->cfg->max_concurrent_migrations > 0 ? (size_t)src->cfg->max_concurrent_migrations : 0;
    g->facts.in.global_dry_run = src->cfg->dry_run;
    g->facts.in.no_label_endpoints = src->no_label_endpoints;
    g->facts.in.preservation_mode = src->cfg->preservation_mode;
    g->facts.in.active_migrations = policy_active;
    g->facts.in.global_slots = global_max > all_active ? global_max - all_active : 0;
    return 0;
}

void cs_gathered_free(cs_gathered_t *g)
{
    if (!g)
        return;
    cs_plan_facts_free(&g->facts);
    cs_observation_free(&g->obs);
    for (size_t i = 0; g->claim_labels && i < g->pv_count; i++)
        cs_labels_free(&g->claim_labels[i]);
    for (size_t i = 0; g->namespace_labels && i < g->namespace_count; i++)
        cs_labels_free(&g->namespace_labels[i]);
    free(g->claim_labels);
    free(g->namespace_labels);
    free(g->pvs);
    memset(g, 0, sizeof *g);
}

/* ---- the policies that own volumes ---- */

int cs_policy_set_build(const json_t *const *objects, size_t n, cs_policy_set_t *out)
{
    memset(out, 0, sizeof *out);
    out->policies = calloc(n + 1, sizeof *out->policies);
    out->refs = calloc(n + 1, sizeof *out->refs);
    if (!out->policies || !out->refs)
        return CS_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        cs_storage_policy_t *p = &out->policies[out->count];
        int rc = cs_storage_policy_decode(objects[i], p, NULL, NULL);
        if (rc == 0)
            rc = cs_storage_policy_validate(p, NULL, NULL);
        if (rc == CS_ENOMEM) {
            cs_storage_policy_free(p);
            return CS_ENOMEM;
        }
        if (rc != 0 || !p->spec.enabled || !p->meta.name) {
            cs_storage_policy_free(p);
            continue;
        }
        out->refs[out->count] =
            (cs_plan_policy_ref_t){.name = p->meta.name, .created = p->meta.creation_timestamp, .spec = &p->spec};
        out->count++;
    }
    return 0;
}

void cs_policy_set_free(cs_policy_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; set->policies && i < set->count; i++)
        cs_storage_policy_free(&set->policies[i]);
    free(set->policies);
    free(set->refs);
    memset(set, 0, sizeof *set);
}
