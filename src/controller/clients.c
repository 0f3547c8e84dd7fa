/* clients.c: the three clients a decision reads (Kubernetes, Mayastor,
 * Prometheus), opened from the configuration the same way for the operator
 * and `couchestor plan`. */
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"
#include "couchestor/json.h"
#include "couchestor/log.h"
#include "couchestor/yaml.h"

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

/* The mayastor module reads the API server through a callback, not the
 * kube client's types. */
static int cs__kube_get(void *ctx, const char *path, json_t **out, cs_err_t *err)
{
    return cs_kube_get_path(ctx, path, out, err);
}

static int cs__open_kube(const cs_config_t *cfg, const cs_clients_options_t *o, cs_clients_t *c, cs_err_t *err)
{
    cs_kube_config_t kc;
    cs_kube_config_load_options_t lo = {.kubeconfig = cfg->kubeconfig && *cfg->kubeconfig ? cfg->kubeconfig : NULL};
    int rc = cs_kube_config_load(&lo, &kc, err);
    if (rc != 0)
        return rc;
    CS_INFO("Kubernetes API", "server", kc.server, "source", kc.source);
    rc = cs_kube_client_new(&kc, NULL, &c->kube, err);
    if (rc == 0 && o && o->probe)
        rc = cs_kube_client_new(&kc, o->probe, &c->probe, err);
    cs_kube_config_free(&kc);
    return rc;
}

static int cs__open_mayastor(const cs_config_t *cfg, cs_clients_t *c, cs_err_t *err)
{
    char *url = NULL;
    if (cfg->mayastor_url && *cfg->mayastor_url)
        url = strdup(cfg->mayastor_url);
    else if (cs_mayastor_discover_url(cs__kube_get, c->kube, cfg->mayastor_namespace, &url, err) != 0)
        return cs_err_prefix(err, "finding the Mayastor REST API (set --mayastor-url to skip this): ");
    if (!url)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    cs_mayastor_options_t mo;
    cs_mayastor_options_default(&mo);
    mo.url = url;
    mo.list_child_uris = false; /* at scale they cost memory, and no decision reads them */
    int rc = cs_mayastor_new(&mo, &c->mayastor, err);
    if (rc == 0)
        CS_INFO("Mayastor REST API", "url", url);
    free(url);
    return rc;
}

static int cs__open_prom(const cs_config_t *cfg, cs_clients_t *c, cs_err_t *err)
{
    cs_prom_options_t po;
    char *token = NULL;
    int rc = cs_prom_options_from_config(cfg, &po, &token, err);
    if (rc == 0)
        rc = cs_prom_new(&po, &c->prom, err);
    free(token);
    return rc;
}

int cs_clients_open(const cs_config_t *cfg, const cs_clients_options_t *opts, cs_clients_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    int rc = cs__open_kube(cfg, opts, out, err);
    if (rc == 0)
        rc = cs__open_mayastor(cfg, out, err);
    if (rc == 0)
        rc = cs__open_prom(cfg, out, err);
    if (rc != 0)
        cs_clients_close(out);
    return rc;
}

void cs_clients_close(cs_clients_t *c)
{
    if (!c)
        return;
    cs_prom_free(c->prom);
    cs_mayastor_free(c->mayastor);
    cs_kube_client_free(c->probe);
    cs_kube_client_free(c->kube);
    memset(c, 0, sizeof *c);
}
