/* cmd_plan.c: `couchestor plan`: what the operator would do now, and why. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "couchestor/config.h"
#include "couchestor/controller.h"
#include "couchestor/log.h"

extern char **environ;

typedef struct {
    void **items;
    size_t n, cap;
} cs__bag_t;

static int cs__bag_add(void *ctx, void *obj)
{
    cs__bag_t *b = ctx;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        void **items = realloc(b->items, cap * sizeof *items);
        if (!items)
            return CS_ENOMEM;
        b->items = items;
        b->cap = cap;
    }
    b->items[b->n++] = obj;
    return 0;
}

static void cs__bag_free(cs__bag_t *b, const cs_kube_decoder_t *dec)
{
    for (size_t i = 0; i < b->n; i++)
        dec->destroy(dec->ctx, b->items[i]);
    free(b->items);
}

static void cs__usage(FILE *out)
{
    fprintf(out,
            "Usage: couchestor plan [--policy NAME] [--json] [FLAGS]\n\n"
            "Prints, for each StoragePolicy (or the one named), what the operator would\n"
            "do now and why: per volume its IOPS, current tier, wanted tier, and the\n"
            "action or the reason for none. It reads the same cluster the operator reads\n"
            "(Kubernetes, Mayastor, Prometheus) and changes nothing.\n\n"
            "Flags:\n  %-36s %s\n  %-36s %s\n",
            "--policy NAME", "only this StoragePolicy", "--json", "one JSON document per policy");
    cs_config_print_flags(out);
}

int cs_cmd_plan(int argc, char **argv)
{
    const char *only = NULL;
    bool json = false;
    char *rest[argc > 0 ? argc : 1];
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cs__usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--policy") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "couchestor plan: --policy needs a name\n");
                return 2;
            }
            only = argv[++i];
        } else if (strncmp(argv[i], "--policy=", 9) == 0) {
            only = argv[i] + 9;
        } else {
            rest[nrest++] = argv[i];
        }
    }
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, nrest, rest, environ, &err) != 0) {
        fprintf(stderr, "couchestor plan: %s\n", err.msg);
        return 2;
    }
    cs_log_configure(cfg.log_level > CS_LOG_WARN ? cfg.log_level : CS_LOG_WARN, cfg.log_json, NULL);
    int status = 1;
    cs_kube_client_t *kube = NULL;
    cs_mayastor_t *ms = NULL;
    cs_prom_t *prom = NULL;
    char *ms_url = NULL;
    cs_kube_decoder_t tree = cs_json_tree_decoder(), pvdec = cs_pv_decoder(), dpdec = cs_diskpool_decoder();
    cs__bag_t policies = {0}, pvs = {0}, dps = {0};
    cs_kube_config_t kc;
    cs_kube_config_load_options_t lo = {.kubeconfig = *cfg.kubeconfig ? cfg.kubeconfig : NULL};
    if (cs_kube_config_load(&lo, &kc, &err) != 0)
        goto fail;
    int rc = cs_kube_client_new(&kc, NULL, &kube, &err);
    cs_kube_config_free(&kc);
    if (rc != 0)
        goto fail;
    if (*cfg.mayastor_url)
        ms_url = strdup(cfg.mayastor_url);
    else if (cs_mayastor_discover_url((cs_mayastor_kube_get_fn)cs_kube_get_path, kube, cfg.mayastor_namespace, &ms_url,
                                      &err) != 0)
        goto fail;
    cs_mayastor_options_t mo;
    cs_mayastor_options_default(&mo);
    mo.url = ms_url;
    if (cs_mayastor_new(&mo, &ms, &err) != 0)
        goto fail;
    cs_prom_options_t po;
    char *prom_token = NULL;
    rc = cs_prom_options_from_config(&cfg, &po, &prom_token, &err);
    if (rc == 0)
        rc = cs_prom_new(&po, &prom, &err);
    free(prom_token);
    if (rc != 0)
        goto fail;
    cs_kube_list_options_t one = {0};
    char field[300];
    if (only) {
        snprintf(field, sizeof field, "metadata.name=%s", only);
        one.field_selector = field;
    }
    if (cs_kube_list(kube, CS_STORAGE_POLICY_RESOURCE, NULL, &one, &tree, cs__bag_add, &policies, NULL, &err) != 0 ||
        cs_kube_list(kube, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, NULL, &pvdec, cs__bag_add, &pvs, NULL, &err) != 0 ||
        cs_kube_list(kube, CS_DISKPOOL_RESOURCE, cfg.mayastor_namespace, NULL, &dpdec, cs__bag_add, &dps, NULL, &err) !=
            0)
        goto fail;
    if (only && policies.n == 0) {
        cs_err_set(&err, CS_ENOTFOUND, "StoragePolicy '%s' not found", only);
        goto fail;
    }
    status = 0;
    for (size_t p = 0; p < policies.n; p++) {
        cs_storage_policy_t pol;
        cs_crd_problems_t problems = {0};
        cs_err_t perr = {0};
        if (cs_storage_policy_decode(cs_json_tree_root(policies.items[p]), &pol, &problems, &perr) != 0 ||
            cs_storage_policy_validate(&pol, &problems, &perr) != 0) {
            char *why = cs_crd_problems_join(&problems);
            fprintf(stderr, "couchestor plan: %s\n", why ? why : perr.msg);
            free(why);
            cs_crd_problems_free(&problems);
            cs_storage_policy_free(&pol);
            status = 1;
            continue;
        }
        cs_crd_problems_free(&problems);
        /* The PVs of this policy's StorageClass, in one IOPS query. */
        const cs_pv_t **mine = calloc(pvs.n + 1, sizeof *mine);
        size_t nmine = 0;
        for (size_t i = 0; mine && i < pvs.n; i++) {
            const cs_pv_t *pv = pvs.items[i];
            if (pv->storage_class && strcmp(pv->storage_class, pol.spec.storage_class_name) == 0)
                mine[nmine++] = pv;
        }
        cs_observation_t obs;
        cs_observe(ms, prom, mine, nmine, pol.spec.sampling_window_ns, &obs);
        if (!obs.mayastor_ok)
            fprintf(stderr, "couchestor plan: Mayastor unreachable, no volume would move: %s\n",
                    obs.mayastor_err.err.msg);
        if (!obs.metrics_ok)
            fprintf(stderr, "couchestor plan: Prometheus query failed, no volume would move: %s\n",
                    obs.metrics_err.msg);
        cs_cluster_view_t view =
            cs_observation_view(&obs, mine, nmine, (const cs_diskpool_ref_t *const *)dps.items, dps.n);
        cs_plan_facts_t facts;
        cs_plan_t plan;
        memset(&plan, 0, sizeof plan);
        if (cs_plan_facts_build(&view, pol.meta.name, &pol.spec, (int64_t)time(NULL), &facts, &perr) == 0) {
            facts.in.global_dry_run = cfg.dry_run;
            facts.in.preservation_mode = cfg.preservation_mode;
            size_t journaled = 0;
            for (size_t i = 0; i < facts.in.volume_count; i++)
                journaled += facts.volumes[i].migrating;
            facts.in.active_migrations = journaled;
            facts.in.global_slots = (size_t)cfg.max_concurrent_migrations > journaled
                                        ? (size_t)cfg.max_concurrent_migrations - journaled
                                        : 0;
            if (cs_plan_compute(&facts.in, &plan, &perr) == 0) {
                cs_plan_print(&facts, &plan, pol.meta.name, stdout, json);
                if (!json && p + 1 < policies.n)
                    printf("\n");
            }
        }
        if (perr.code) {
            fprintf(stderr, "couchestor plan: policy '%s': %s\n", pol.meta.name, perr.msg);
            status = 1;
        }
        cs_plan_free(&plan);
        cs_plan_facts_free(&facts);
        cs_observation_free(&obs);
        free(mine);
        cs_storage_policy_free(&pol);
    }
    if (policies.n == 0)
        fprintf(stderr, "couchestor plan: no StoragePolicy exists\n");
    goto done;
fail:
    fprintf(stderr, "couchestor plan: %s\n", err.msg);
    status = 1;
done:
    cs__bag_free(&policies, &tree);
    cs__bag_free(&pvs, &pvdec);
    cs__bag_free(&dps, &dpdec);
    cs_prom_free(prom);
    cs_mayastor_free(ms);
    cs_kube_client_free(kube);
    free(ms_url);
    cs_config_free(&cfg);
    return status;
}
