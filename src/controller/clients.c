/* clients.c: the three clients a decision reads (Kubernetes, Mayastor,
 * Prometheus), opened from the configuration the same way for the operator
 * and `couchestor plan`. */
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"
#include "couchestor/json.h"
#include "couchestor/log.h"
#include "couchestor/yaml.h"

/* Reads a secret file into *out (malloc'd), trailing newlines and spaces cut. */
static int cs__read_secret(const char *path, const char *key, char **out, cs_err_t *err)
{
    size_t len;
    int rc = cs_file_read_all(path, 16384, out, &len, err);
    if (rc != 0)
        return cs_err_prefix(err, "%s: ", key);
    while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r' || (*out)[len - 1] == ' '))
        (*out)[--len] = '\0';
    return 0;
}

/* The secrets the options point into, in one block: "token\0password\0". */
static int cs__prom_secrets(const cs_config_t *cfg, cs_prom_options_t *po, char **block, cs_err_t *err)
{
    char *token = NULL, *password = NULL;
    int rc = 0;
    if (cfg->prometheus_bearer_token_file && *cfg->prometheus_bearer_token_file)
        rc = cs__read_secret(cfg->prometheus_bearer_token_file, "prometheus_bearer_token_file", &token, err);
    if (rc == 0 && cfg->prometheus_basic_password_file && *cfg->prometheus_basic_password_file)
        rc = cs__read_secret(cfg->prometheus_basic_password_file, "prometheus_basic_password_file", &password, err);
    size_t tl = token ? strlen(token) : 0, pl = password ? strlen(password) : 0;
    if (rc == 0 && (token || password)) {
        *block = malloc(tl + pl + 2);
        if (!*block) {
            rc = cs_err_set(err, CS_ENOMEM, "out of memory reading the Prometheus secrets");
        } else {
            memcpy(*block, token ? token : "", tl + 1);
            memcpy(*block + tl + 1, password ? password : "", pl + 1);
            po->bearer_token = token ? *block : NULL;
            po->basic_password = password ? *block + tl + 1 : NULL;
        }
    }
    free(token);
    free(password);
    return rc;
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
    po->min_coverage = (double)cfg->prometheus_min_coverage_percent / 100.0;
    po->timeout_ms = (long)cfg->prometheus_timeout_seconds * 1000;
    if (cfg->prometheus_ca_file && *cfg->prometheus_ca_file)
        po->ca_file = cfg->prometheus_ca_file;
    if (cfg->prometheus_basic_user && *cfg->prometheus_basic_user)
        po->basic_user = cfg->prometheus_basic_user;
    po->insecure_skip_verify = cfg->prometheus_insecure_skip_verify;
    int rc = cs_prom_volume_key_parse(cfg->prometheus_volume_key, &po->volume_key, err);
    if (rc == 0)
        rc = cs__prom_secrets(cfg, po, token, err);
    return rc != 0 ? rc : cs_prom_options_validate(po, err);
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
    cs_kube_config_load_options_t lo = {.kubeconfig = cfg->kubeconfig && *cfg->kubeconfig ? cfg->kubeconfig : NULL,
                                        .context = cfg->kube_context && *cfg->kube_context ? cfg->kube_context : NULL};
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
