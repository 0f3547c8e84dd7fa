/* cmd_plan.c: `couchestor plan`: what the operator would do now, and why. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "couchestor/clock.h"
#include "couchestor/config.h"
#include "couchestor/controller.h"
#include "couchestor/log.h"

extern char **environ;

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

/* The arguments of `couchestor plan`; the rest goes to the configuration. */
typedef struct {
    const char *only;
    bool json;
    int nrest;
    char **rest;
} cs__plan_args_t;

/* 0 to go on, 1 after --help, 2 on a usage error. */
static int cs__plan_args(int argc, char **argv, cs__plan_args_t *a)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cs__usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            a->json = true;
        } else if (strcmp(argv[i], "--policy") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "couchestor plan: --policy needs a name\n");
                return 2;
            }
            a->only = argv[++i];
        } else if (strncmp(argv[i], "--policy=", 9) == 0) {
            a->only = argv[i] + 9;
        } else {
            a->rest[a->nrest++] = argv[i];
        }
    }
    return 0;
}

/* What the plan reads from the API server, listed once for every policy. */
typedef struct {
    cs_kube_decoder_t tree, pvdec, dpdec, pvcdec, nsdec;
    cs_kube_objects_t policies, pvs, dps, pvcs, nss;
} cs__listed_t;

static int cs__list(cs_kube_client_t *kube, const cs_config_t *cfg, const char *only, cs__listed_t *l, cs_err_t *err)
{
    /* every policy, even with --policy: an older one may own some of its volumes */
    int rc = cs_kube_list(kube, CS_STORAGE_POLICY_RESOURCE, NULL, NULL, &l->tree, cs_kube_objects_add, &l->policies,
                          NULL, err);
    if (rc == 0)
        rc = cs_kube_list(kube, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, NULL, &l->pvdec, cs_kube_objects_add, &l->pvs,
                          NULL, err);
    if (rc == 0)
        rc = cs_kube_list(kube, CS_DISKPOOL_RESOURCE, cfg->mayastor_namespace, NULL, &l->dpdec, cs_kube_objects_add,
                          &l->dps, NULL, err);
    /* the claims and Namespaces the selection reads (volumeSelector, namespaceSelector) */
    if (rc == 0)
        rc = cs_kube_list(kube, CS_KUBE_RES_PVCS, NULL, NULL, &l->pvcdec, cs_kube_objects_add, &l->pvcs, NULL, err);
    if (rc == 0)
        rc = cs_kube_list(kube, CS_KUBE_RES_NAMESPACES, NULL, NULL, &l->nsdec, cs_kube_objects_add, &l->nss, NULL, err);
    bool found = false;
    for (size_t i = 0; rc == 0 && only && i < l->policies.n; i++) {
        const char *name = json_string_value(
            json_object_get(json_object_get(cs_json_tree_root(l->policies.items[i]), "metadata"), "name"));
        found = found || (name && strcmp(name, only) == 0);
    }
    if (rc == 0 && only && !found)
        rc = cs_err_set(err, CS_ENOTFOUND, "StoragePolicy '%s' not found", only);
    return rc;
}

static void cs__listed_free(cs__listed_t *l)
{
    cs_kube_objects_free(&l->policies, &l->tree);
    cs_kube_objects_free(&l->pvs, &l->pvdec);
    cs_kube_objects_free(&l->dps, &l->dpdec);
    cs_kube_objects_free(&l->pvcs, &l->pvcdec);
    cs_kube_objects_free(&l->nss, &l->nsdec);
}

/* Says what the metrics mean when it is not simply "available": a fallback
 * set in use, a set matching nothing, young series. 0, or CS_EPROM_QUERY
 * after one message when Prometheus could not be read: then no volume's
 * IOPS is known, and a plan blaming "no IOPS sample" on each volume would
 * hide the one cause. */
static int cs__plan_metrics(const cs_gather_source_t *src, const char *policy, const cs_gathered_t *in)
{
    if (!in->obs.metrics_ok) {
        fprintf(stderr,
                "couchestor plan: cannot read Prometheus at %s, so no volume's IOPS is known and no plan is "
                "printed: %s\n",
                cs_prom_url(src->clients->prom), in->obs.metrics_err.msg);
        return CS_EPROM_QUERY;
    }
    cs_metrics_verdict_t v;
    cs_metrics_verdict(src->clients->prom, &in->obs, in->pv_count, &v);
    if (strcmp(v.reason, "Available") != 0)
        fprintf(stderr, "couchestor plan: policy '%s': metrics %s: %s\n", policy, v.reason, v.message);
    return 0;
}

/* Prints the plan of one policy; 0, or 1 when it could not be made (the
 * caller stops at the first: with Prometheus unreadable, every policy
 * would wait for the same timeout and say the same). */
static int cs__plan_one(const json_t *policy, const cs_gather_source_t *src, bool json)
{
    cs_storage_policy_t pol;
    cs_crd_problems_t problems = {0};
    cs_err_t perr = {0};
    if (cs_storage_policy_decode(policy, &pol, &problems, &perr) != 0 ||
        cs_storage_policy_validate(&pol, &problems, &perr) != 0) {
        char *why = cs_crd_problems_join(&problems);
        fprintf(stderr, "couchestor plan: %s\n", why ? why : perr.msg);
        free(why);
        cs_crd_problems_free(&problems);
        cs_storage_policy_free(&pol);
        return 1;
    }
    cs_crd_problems_free(&problems);
    cs_gathered_t in;
    cs_plan_t plan;
    memset(&plan, 0, sizeof plan);
    int rc = cs_gather(src, pol.meta.name, &pol.spec, cs_clock_real_s(), &in, &perr);
    if (!in.obs.mayastor_ok)
        fprintf(stderr, "couchestor plan: Mayastor unreachable, no volume would move: %s\n",
                in.obs.mayastor_err.err.msg);
    bool no_metrics = rc == 0 && cs__plan_metrics(src, pol.meta.name, &in) != 0;
    if (no_metrics)
        rc = CS_EPROM_QUERY;
    if (rc == 0 && in.facts.label_disagreements > 0)
        fprintf(stderr,
                "couchestor plan: policy '%s': the labels of %zu pools disagree (DiskPool metadata.labels win, "
                "then Mayastor's pool labels, then spec.topology.labelled): %s\n",
                pol.meta.name, in.facts.label_disagreements, in.facts.label_note);
    if (rc == 0)
        rc = cs_plan_compute(&in.facts.in, &plan, &perr);
    if (rc == 0)
        cs_plan_print(&in.facts, &plan, pol.meta.name, stdout, json);
    else if (!no_metrics)
        fprintf(stderr, "couchestor plan: policy '%s': %s\n", pol.meta.name, perr.msg);
    cs_plan_free(&plan);
    cs_gathered_free(&in);
    cs_storage_policy_free(&pol);
    return rc == 0 ? 0 : 1;
}

int cs_cmd_plan(int argc, char **argv)
{
    char *rest[argc > 0 ? argc : 1];
    cs__plan_args_t a = {.rest = rest};
    int status = cs__plan_args(argc, argv, &a);
    if (status != 0)
        return status == 1 ? 0 : status;
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, a.nrest, a.rest, environ, &err) != 0) {
        fprintf(stderr, "couchestor plan: %s\n", err.msg);
        return 2;
    }
    cs_log_configure(cfg.log_level > CS_LOG_WARN ? cfg.log_level : CS_LOG_WARN, cfg.log_json, NULL);
    cs_clients_t clients;
    cs__listed_t l = {.tree = cs_json_tree_decoder(),
                      .pvdec = cs_pv_decoder(),
                      .dpdec = cs_diskpool_decoder(),
                      .pvcdec = cs_pvc_decoder(),
                      .nsdec = cs_namespace_decoder()};
    status = 1;
    if (cs_clients_open(&cfg, NULL, &clients, &err) == 0 && cs__list(clients.kube, &cfg, a.only, &l, &err) == 0) {
        cs_gather_source_t src = {.clients = &clients,
                                  .cfg = &cfg,
                                  .pvs = (const cs_pv_t *const *)l.pvs.items,
                                  .pv_count = l.pvs.n,
                                  .diskpools = (const cs_diskpool_ref_t *const *)l.dps.items,
                                  .diskpool_count = l.dps.n,
                                  .pvcs = (const cs_pvc_t *const *)l.pvcs.items,
                                  .pvc_count = l.pvcs.n,
                                  .namespaces = (const cs_namespace_ref_t *const *)l.nss.items,
                                  .namespace_count = l.nss.n};
        const json_t *trees[l.policies.n + 1];
        for (size_t p = 0; p < l.policies.n; p++)
            trees[p] = cs_json_tree_root(l.policies.items[p]);
        /* one probe for every policy: a Mayastor without the pool-label
         * endpoints moves nothing */
        cs_mayastor_caps_t caps;
        cs_mayastor_err_t merr = {0};
        src.no_label_endpoints = cs_mayastor_capabilities(clients.mayastor, &caps, &merr) == 0 && !caps.pool_labels;
        if (src.no_label_endpoints)
            fprintf(stderr, "couchestor plan: Mayastor serves no pool-label endpoints (older than 2.7.1): no volume "
                            "would move; upgrade Mayastor to 2.7.1 or newer\n");
        cs_policy_set_t owners;
        status = cs_policy_set_build(trees, l.policies.n, &owners) == 0 ? 0 : 1;
        src.policies = owners.refs;
        src.policy_count = owners.count;
        size_t printed = 0;
        for (size_t p = 0; status == 0 && p < l.policies.n; p++) {
            const char *name = json_string_value(json_object_get(json_object_get(trees[p], "metadata"), "name"));
            if (a.only && (!name || strcmp(name, a.only) != 0))
                continue;
            if (!a.json && printed++ > 0)
                printf("\n");
            status |= cs__plan_one(trees[p], &src, a.json);
        }
        cs_policy_set_free(&owners);
        if (l.policies.n == 0)
            fprintf(stderr, "couchestor plan: no StoragePolicy exists\n");
    } else {
        fprintf(stderr, "couchestor plan: %s\n", err.msg);
    }
    cs__listed_free(&l);
    cs_clients_close(&clients);
    cs_config_free(&cfg);
    return status;
}
