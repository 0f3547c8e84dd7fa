/* gather.c: the gather step of a StoragePolicy decision, shared by the
 * operator's reconcile and `couchestor plan`: the policy's PVs, one
 * observation of Mayastor and Prometheus, the plan input, and the
 * migration limits. */
#include <pthread.h>
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
    cs_err_t err;
    bool ok;
    double seconds, cpu_seconds;
} cs__iops_job_t;

static void *cs__iops_job_run(void *arg)
{
    cs__iops_job_t *j = arg;
    double t0 = cs_clock_mono_s(), c0 = cs_clock_thread_cpu_s();
    j->ok = j->n == 0 || cs_prom_volumes_iops(j->prom, j->names, j->n, j->window_ns, j->iops, &j->err) == 0;
    j->seconds = cs_clock_mono_s() - t0;
    j->cpu_seconds = cs_clock_thread_cpu_s() - c0;
    return NULL;
}

int cs_observe(cs_mayastor_t *ms, cs_prom_t *prom, const cs_pv_t *const *pvs, size_t n, int64_t window_ns,
               cs_observation_t *obs)
{
    memset(obs, 0, sizeof *obs);
    double t0 = cs_clock_mono_s();
    obs->iops = calloc(n + 1, sizeof *obs->iops);
    const char **names = calloc(n + 1, sizeof *names);
    if (!obs->iops || !names) {
        free(names);
        free(obs->iops);
        obs->iops = NULL;
        return CS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        names[i] = pvs[i]->name;
        obs->iops[i].state = CS_PROM_IOPS_UNAVAILABLE;
    }
    cs__iops_job_t job = {.prom = prom, .names = names, .n = n, .window_ns = window_ns, .iops = obs->iops};
    pthread_t thread;
    bool threaded = n > 0 && pthread_create(&thread, NULL, cs__iops_job_run, &job) == 0;

    double c0 = cs_clock_thread_cpu_s(), l0 = cs_clock_mono_s();
    obs->mayastor_ok = cs_mayastor_volumes_list(ms, &obs->volumes, &obs->mayastor_err) == 0 &&
                       cs_mayastor_pools_list(ms, NULL, &obs->pools, &obs->mayastor_err) == 0;
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
    obs->seconds = cs_clock_mono_s() - t0;
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
    return (cs_cluster_view_t){.pv_count = npvs,
                               .pvs = pvs,
                               .diskpool_count = ndps,
                               .diskpools = dps,
                               .volumes = obs->mayastor_ok ? &obs->volumes : NULL,
                               .pools = obs->mayastor_ok ? &obs->pools : NULL,
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
    size_t policy_active, all_active;
    cs__count_migrations(src, policy, &g->facts, &policy_active, &all_active);
    size_t global_max = src->cfg->max_concurrent_migrations > 0 ? (size_t)src->cfg->max_concurrent_migrations : 0;
    g->facts.in.global_dry_run = src->cfg->dry_run;
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
    free(g->pvs);
    memset(g, 0, sizeof *g);
}
