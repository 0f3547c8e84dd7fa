/* cmd_doctor.c: `couchestor doctor`: a preflight of a live cluster. Each
 * check says what it found and, when something is wrong, the one thing to
 * do about it; nothing is changed (the only writes are
 * SelfSubjectAccessReviews, which the API server does not store, and the
 * Mayastor capability probe, a DELETE that cannot match anything). docs/
 * doctor.md describes every check. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "couchestor/clock.h"
#include "couchestor/config.h"
#include "couchestor/controller.h"
#include "couchestor/labels.h"
#include "couchestor/log.h"

extern char **environ;

/* ---- the requests the operator makes, as RBAC rules -------------------------
 * One row per resource and verb: what a SelfSubjectAccessReview asks, where
 * (CLUSTER: every namespace, MAYASTOR: cfg->mayastor_namespace, LEASE:
 * cfg->lease_namespace, EVENTS: "default", where the Events about
 * cluster-scoped objects (PersistentVolumes, policies) go), when it applies
 * (ALWAYS, LEADER: leader_election on, DISCOVER: mayastor_url empty),
 * whether a denial blocks the operator (Events only lose information) and
 * the code that makes the request. docs/doctor.md cites this table;
 * deploy/operator/rbac.yaml grants it. */
#define CS__DOCTOR_ACCESS(X)                                                                                \
    X("storage.billyronks.io", "storagepolicies", "", "list", CLUSTER, ALWAYS, true, "informer")            \
    X("storage.billyronks.io", "storagepolicies", "", "watch", CLUSTER, ALWAYS, true, "informer")           \
    X("storage.billyronks.io", "storagepolicies", "status", "patch", CLUSTER, ALWAYS, true, "status")       \
    X("storage.billyronks.io", "erasurecodingpolicies", "", "list", CLUSTER, ALWAYS, true, "informer")      \
    X("storage.billyronks.io", "erasurecodingpolicies", "", "watch", CLUSTER, ALWAYS, true, "informer")     \
    X("storage.billyronks.io", "erasurecodingpolicies", "status", "patch", CLUSTER, ALWAYS, true, "status") \
    X("", "persistentvolumes", "", "list", CLUSTER, ALWAYS, true, "informer")                               \
    X("", "persistentvolumes", "", "watch", CLUSTER, ALWAYS, true, "informer")                              \
    X("", "persistentvolumes", "", "patch", CLUSTER, ALWAYS, true, "migration journal")                     \
    X("", "persistentvolumeclaims", "", "list", CLUSTER, ALWAYS, true, "informer")                          \
    X("", "persistentvolumeclaims", "", "watch", CLUSTER, ALWAYS, true, "informer")                         \
    X("", "namespaces", "", "list", CLUSTER, ALWAYS, true, "informer")                                      \
    X("", "namespaces", "", "watch", CLUSTER, ALWAYS, true, "informer")                                     \
    X("storage.k8s.io", "storageclasses", "", "get", CLUSTER, ALWAYS, true, "steerability")                 \
    X("storage.k8s.io", "storageclasses", "", "list", CLUSTER, ALWAYS, true, "steerability")                \
    X("storage.k8s.io", "storageclasses", "", "watch", CLUSTER, ALWAYS, true, "steerability")               \
    X("openebs.io", "diskpools", "", "list", MAYASTOR, ALWAYS, true, "informer")                            \
    X("openebs.io", "diskpools", "", "watch", MAYASTOR, ALWAYS, true, "informer")                           \
    X("coordination.k8s.io", "leases", "", "get", LEASE, LEADER, true, "leader election")                   \
    X("coordination.k8s.io", "leases", "", "create", LEASE, LEADER, true, "leader election")                \
    X("coordination.k8s.io", "leases", "", "update", LEASE, LEADER, true, "leader election")                \
    X("", "services", "", "list", MAYASTOR, DISCOVER, true, "api-rest discovery")                           \
    X("events.k8s.io", "events", "", "create", EVENTS, ALWAYS, false, "Events")                             \
    X("events.k8s.io", "events", "", "patch", EVENTS, ALWAYS, false, "Events")                              \
    X("", "events", "", "create", EVENTS, ALWAYS, false, "Events (core/v1 fallback)")                       \
    X("", "events", "", "patch", EVENTS, ALWAYS, false, "Events (core/v1 fallback)")

typedef enum {
    CS__WHERE_CLUSTER,
    CS__WHERE_MAYASTOR,
    CS__WHERE_LEASE,
    CS__WHERE_EVENTS
} cs__where_t;
typedef enum {
    CS__WHEN_ALWAYS,
    CS__WHEN_LEADER,
    CS__WHEN_DISCOVER
} cs__when_t;

typedef struct {
    const char *group, *resource, *sub, *verb;
    cs__where_t where;
    cs__when_t when;
    bool blocks;
    const char *why;
} cs__access_row_t;

static const cs__access_row_t cs__access[] = {
#define CS__ACCESS_ROW(g, r, s, v, where, when, blocks, why) \
    {g, r, s, v, CS__WHERE_##where, CS__WHEN_##when, blocks, why},
    CS__DOCTOR_ACCESS(CS__ACCESS_ROW)
#undef CS__ACCESS_ROW
};

/* The custom resources the operator reads: group, version, plural, and
 * what installs them. */
static const struct {
    const char *group, *version, *plural, *fix;
} cs__crds[] = {
    {"storage.billyronks.io", "v1", "storagepolicies", "kubectl apply -f deploy/crds/"},
    {"storage.billyronks.io", "v1", "erasurecodingpolicies", "kubectl apply -f deploy/crds/"},
    {"openebs.io", "v1beta2", "diskpools", "install Mayastor >= 2.7.1 (its chart installs the DiskPool CRD)"},
};

/* ---- the report ------------------------------------------------------------ */

typedef enum {
    CS__OK,
    CS__WARN,
    CS__FAIL,
    CS__SKIP
} cs__status_t;

static const char *const cs__status_name[] = {"ok", "warn", "fail", "skip"};
static const char *const cs__status_tag[] = {"[ OK ]", "[WARN]", "[FAIL]", "[SKIP]"};

#define CS__MAX_CHECKS 16

typedef struct {
    const char *id, *title;
    cs__status_t status;
    char *detail; /* malloc'd */
    char *fix;    /* malloc'd; NULL when nothing to do */
} cs__check_t;

typedef struct {
    cs__check_t items[CS__MAX_CHECKS];
    size_t n;
} cs__report_t;

static char *cs__vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    return s;
}

/* Adds a check; fix (may be NULL) is one line, printf-free. */
static void cs__add(cs__report_t *r, const char *id, const char *title, cs__status_t st, const char *fix,
                    const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void cs__add(cs__report_t *r, const char *id, const char *title, cs__status_t st, const char *fix,
                    const char *fmt, ...)
{
    if (r->n == CS__MAX_CHECKS)
        return;
    va_list ap;
    va_start(ap, fmt);
    cs__check_t *c = &r->items[r->n++];
    c->id = id;
    c->title = title;
    c->status = st;
    c->detail = cs__vfmt(fmt, ap);
    c->fix = fix && st != CS__OK && st != CS__SKIP ? strdup(fix) : NULL;
    va_end(ap);
}

static void cs__report_free(cs__report_t *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].detail);
        free(r->items[i].fix);
    }
    r->n = 0;
}

static bool cs__blocked(const cs__report_t *r)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->items[i].status == CS__FAIL)
            return true;
    return false;
}

static void cs__print(const cs__report_t *r, bool json)
{
    size_t count[4] = {0};
    for (size_t i = 0; i < r->n; i++)
        count[r->items[i].status]++;
    if (!json) {
        for (size_t i = 0; i < r->n; i++) {
            const cs__check_t *c = &r->items[i];
            printf("%s %s: %s\n", cs__status_tag[c->status], c->title, c->detail ? c->detail : "");
            if (c->fix)
                printf("       fix: %s\n", c->fix);
        }
        printf("\n%zu ok, %zu warnings, %zu failed, %zu skipped: %s\n", count[CS__OK], count[CS__WARN], count[CS__FAIL],
               count[CS__SKIP], cs__blocked(r) ? "something blocks the operator" : "nothing blocks the operator");
        return;
    }
    json_t *checks = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const cs__check_t *c = &r->items[i];
        json_array_append_new(checks, json_pack("{s:s,s:s,s:s,s:s,s:s?}", "id", c->id, "title", c->title, "status",
                                                cs__status_name[c->status], "detail", c->detail ? c->detail : "", "fix",
                                                c->fix));
    }
    json_t *doc = json_pack("{s:b,s:o,s:{s:I,s:I,s:I,s:I}}", "ok", !cs__blocked(r), "checks", checks, "summary", "ok",
                            (json_int_t)count[CS__OK], "warn", (json_int_t)count[CS__WARN], "fail",
                            (json_int_t)count[CS__FAIL], "skip", (json_int_t)count[CS__SKIP]);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(doc);
}

/* A growable text for details and fixes ("a, b, c"). */
typedef struct {
    char *s;
    size_t len, cap;
} cs__text_t;

static void cs__cat(cs__text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cs__cat(cs__text_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *piece = cs__vfmt(fmt, ap);
    va_end(ap);
    if (!piece)
        return;
    size_t n = strlen(piece);
    if (t->len + n + 1 > t->cap) {
        size_t cap = (t->len + n + 1) * 2;
        char *s = realloc(t->s, cap);
        if (!s) {
            free(piece);
            return;
        }
        t->s = s;
        t->cap = cap;
    }
    memcpy(t->s + t->len, piece, n + 1);
    t->len += n;
    free(piece);
}

static const char *cs__str(const cs__text_t *t)
{
    return t->s ? t->s : "";
}

/* ---- what the checks share ------------------------------------------------- */

typedef struct {
    const cs_config_t *cfg;
    cs_clients_t cl;
    cs__report_t rep;
    bool api_ok, ms_ok, prom_ok, listed;
    cs_kube_decoder_t tree, pvdec, dpdec, pvcdec, nsdec;
    cs_kube_objects_t policies, pvs, dps, pvcs, nss, scs;
    cs_storage_policy_t *pol; /* decoded policies[i]; valid[i] when it decoded and validated */
    bool *valid;
    cs_mayastor_pools_t mpools; /* when ms_ok */
} cs__doctor_t;

static void cs__doctor_free(cs__doctor_t *d)
{
    for (size_t i = 0; d->pol && i < d->policies.n; i++) /* before the list that counts them */
        cs_storage_policy_free(&d->pol[i]);
    cs_kube_objects_free(&d->policies, &d->tree);
    cs_kube_objects_free(&d->pvs, &d->pvdec);
    cs_kube_objects_free(&d->dps, &d->dpdec);
    cs_kube_objects_free(&d->pvcs, &d->pvcdec);
    cs_kube_objects_free(&d->nss, &d->nsdec);
    cs_kube_objects_free(&d->scs, &d->tree);
    free(d->pol);
    free(d->valid);
    cs_mayastor_pools_free(&d->mpools);
    cs_clients_close(&d->cl);
    cs__report_free(&d->rep);
}

/* ---- 1. the API server ------------------------------------------------------- */

static void cs__check_api(cs__doctor_t *d)
{
    const char *title = "Kubernetes API server reachable";
    cs_kube_config_t kc;
    cs_err_t err = {0};
    cs_kube_config_load_options_t lo = {
        .kubeconfig = d->cfg->kubeconfig && *d->cfg->kubeconfig ? d->cfg->kubeconfig : NULL,
        .context = d->cfg->kube_context && *d->cfg->kube_context ? d->cfg->kube_context : NULL};
    if (cs_kube_config_load(&lo, &kc, &err) != 0) {
        cs__add(&d->rep, "api", title, CS__FAIL,
                "set --kubeconfig (or KUBECONFIG) to a kubeconfig for the cluster, or run in the cluster",
                "no configuration: %s", err.msg);
        return;
    }
    /* A preflight answers fast: no retries, short timeouts. */
    cs_kube_client_options_t ko = {.timeout_ms = 10000, .connect_timeout_ms = 3000, .max_retries = -1};
    json_t *version = NULL;
    int rc = cs_kube_client_new(&kc, &ko, &d->cl.kube, &err);
    if (rc == 0)
        rc = cs_kube_get_path(d->cl.kube, "/version", &version, &err);
    if (rc == 0) {
        const char *gv = json_string_value(json_object_get(version, "gitVersion"));
        cs__add(&d->rep, "api", title, CS__OK, NULL, "%s (%s), Kubernetes %s", kc.server, kc.source, gv ? gv : "?");
        d->api_ok = true;
    } else {
        cs__add(&d->rep, "api", title, CS__FAIL,
                "check the server address and network path in the kubeconfig (kubectl version should answer)", "%s: %s",
                kc.server ? kc.server : "?", err.msg);
    }
    json_decref(version);
    cs_kube_config_free(&kc);
}

/* ---- 2. RBAC ------------------------------------------------------------------ */

static const char *cs__where_ns(const cs__doctor_t *d, cs__where_t w)
{
    switch (w) {
    case CS__WHERE_MAYASTOR:
        return d->cfg->mayastor_namespace;
    case CS__WHERE_LEASE:
        return d->cfg->lease_namespace;
    case CS__WHERE_EVENTS:
        return "default";
    case CS__WHERE_CLUSTER:
        break;
    }
    return NULL;
}

static bool cs__row_applies(const cs__doctor_t *d, const cs__access_row_t *row)
{
    switch (row->when) {
    case CS__WHEN_LEADER:
        return d->cfg->leader_election;
    case CS__WHEN_DISCOVER:
        return !d->cfg->mayastor_url || !*d->cfg->mayastor_url;
    case CS__WHEN_ALWAYS:
        break;
    }
    return true;
}

static void cs__check_rbac(cs__doctor_t *d)
{
    const char *title = "RBAC allows every request the operator makes";
    if (!d->api_ok) {
        cs__add(&d->rep, "rbac", title, CS__SKIP, NULL, "needs the API server");
        return;
    }
    cs__text_t denied = {0}, warned = {0}, rules = {0};
    size_t asked = 0, nblock = 0, nwarn = 0;
    for (size_t i = 0; i < sizeof cs__access / sizeof *cs__access; i++) {
        const cs__access_row_t *row = &cs__access[i];
        if (!cs__row_applies(d, row))
            continue;
        const char *ns = cs__where_ns(d, row->where);
        cs_kube_access_t a = {.verb = row->verb,
                              .group = row->group,
                              .resource = row->resource,
                              .subresource = row->sub,
                              .namespace_ = ns};
        cs_kube_access_result_t res;
        cs_err_t err = {0};
        int rc = cs_kube_access_review(d->cl.kube, &a, &res, &err);
        if (rc != 0) {
            cs__add(&d->rep, "rbac", title, CS__FAIL,
                    rc == CS_EPERM ? "use credentials the API server accepts (a kubeconfig for the operator's "
                                     "ServiceAccount, or run doctor in its pod)"
                                   : "check that the API server serves authorization.k8s.io/v1",
                    "SelfSubjectAccessReview failed: %s", err.msg);
            free(denied.s), free(warned.s), free(rules.s);
            return;
        }
        asked++;
        if (res.allowed)
            continue;
        cs__text_t *t = row->blocks ? &denied : &warned;
        *(row->blocks ? &nblock : &nwarn) += 1;
        cs__cat(t, "%s%s %s%s%s%s%s%s%s (%s)", t->len ? ", " : "", row->verb, row->resource, *row->sub ? "/" : "",
                row->sub, *row->group ? "." : "", row->group, ns ? " in " : "", ns ? ns : "", row->why);
        cs__cat(&rules, "%s{apiGroups: [\"%s\"], resources: [\"%s%s%s\"], verbs: [\"%s\"]%s%s}", rules.len ? ", " : "",
                row->group, row->resource, *row->sub ? "/" : "", row->sub, row->verb, ns ? " in namespace " : "",
                ns ? ns : "");
    }
    char fix[4096];
    snprintf(fix, sizeof fix,
             "kubectl apply -f deploy/operator/rbac.yaml, or grant the operator's ServiceAccount: %.3900s",
             cs__str(&rules));
    if (nblock)
        cs__add(&d->rep, "rbac", title, CS__FAIL, fix, "%zu of %zu denied: %s%s%s", nblock + nwarn, asked,
                cs__str(&denied), nwarn ? "; also " : "", cs__str(&warned));
    else if (nwarn)
        cs__add(&d->rep, "rbac", title, CS__WARN, fix, "Events cannot be written (the operator works without): %s",
                cs__str(&warned));
    else
        cs__add(&d->rep, "rbac", title, CS__OK, NULL,
                "%zu requests allowed (SelfSubjectAccessReview, for the identity doctor runs as)", asked);
    free(denied.s);
    free(warned.s);
    free(rules.s);
}

/* ---- 3. CRDs ------------------------------------------------------------------- */

/* Whether the API server serves plural in group/version, by discovery
 * (which every authenticated identity may read, unlike the CRD objects). */
static int cs__served(cs__doctor_t *d, size_t i, bool *served, cs_err_t *err)
{
    char path[160];
    snprintf(path, sizeof path, "/apis/%s/%s", cs__crds[i].group, cs__crds[i].version);
    json_t *list = NULL;
    int rc = cs_kube_get_path(d->cl.kube, path, &list, err);
    *served = false;
    if (rc == CS_ENOTFOUND)
        return 0;
    size_t k;
    json_t *r;
    json_array_foreach(json_object_get(list, "resources"), k, r)
    {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name && strcmp(name, cs__crds[i].plural) == 0)
            *served = true;
    }
    json_decref(list);
    return rc;
}

static void cs__check_crds(cs__doctor_t *d)
{
    const char *title = "CustomResourceDefinitions installed";
    if (!d->api_ok) {
        cs__add(&d->rep, "crds", title, CS__SKIP, NULL, "needs the API server");
        return;
    }
    cs__text_t missing = {0};
    const char *fix = NULL;
    for (size_t i = 0; i < sizeof cs__crds / sizeof *cs__crds; i++) {
        bool served;
        cs_err_t err = {0};
        if (cs__served(d, i, &served, &err) != 0) {
            cs__add(&d->rep, "crds", title, CS__FAIL, "check the API server (kubectl api-resources)",
                    "discovery of %s/%s failed: %s", cs__crds[i].group, cs__crds[i].version, err.msg);
            free(missing.s);
            return;
        }
        if (!served) {
            cs__cat(&missing, "%s%s.%s", missing.len ? ", " : "", cs__crds[i].plural, cs__crds[i].group);
            if (!fix)
                fix = cs__crds[i].fix;
        }
    }
    if (missing.len)
        cs__add(&d->rep, "crds", title, CS__FAIL, fix, "not served: %s", cs__str(&missing));
    else
        cs__add(&d->rep, "crds", title, CS__OK, NULL,
                "storagepolicies and erasurecodingpolicies.storage.billyronks.io, diskpools.openebs.io");
    free(missing.s);
}

/* ---- 4. Mayastor --------------------------------------------------------------- */

static int cs__kube_get(void *ctx, const char *path, json_t **out, cs_err_t *err)
{
    return cs_kube_get_path(ctx, path, out, err);
}

static void cs__check_mayastor(cs__doctor_t *d)
{
    const char *title = "Mayastor REST API reachable", *ctitle = "Mayastor has the pool-label endpoints (>= 2.7.1)";
    char *url = NULL;
    cs_err_t err = {0};
    if (d->cfg->mayastor_url && *d->cfg->mayastor_url)
        url = strdup(d->cfg->mayastor_url);
    else if (!d->api_ok)
        snprintf(err.msg, sizeof err.msg, "discovering the api-rest Service needs the API server");
    else if (cs_mayastor_discover_url(cs__kube_get, d->cl.kube, d->cfg->mayastor_namespace, &url, &err) != 0)
        url = NULL;
    cs_mayastor_options_t mo;
    cs_mayastor_options_default(&mo);
    mo.url = url;
    mo.timeout_ms = 10000;
    if (!url || cs_mayastor_new(&mo, &d->cl.mayastor, &err) != 0) {
        cs__add(&d->rep, "mayastor", title, CS__FAIL,
                "set --mayastor-url (MAYASTOR_URL) to the api-rest Service, port 8081, or --mayastor-namespace to "
                "where Mayastor runs",
                "no Mayastor endpoint: %s", err.msg);
        cs__add(&d->rep, "mayastor-labels", ctitle, CS__SKIP, NULL, "needs the Mayastor REST API");
        free(url);
        return;
    }
    free(url);
    cs_mayastor_err_t merr = {0};
    if (cs_mayastor_pools_list(d->cl.mayastor, NULL, &d->mpools, &merr) != 0) {
        cs__add(&d->rep, "mayastor", title, CS__FAIL,
                "check that the api-rest pods run in mayastor_namespace and mayastor_url points at them (kubectl -n "
                "<mayastor_namespace> get pods -l app=api-rest)",
                "%s", merr.err.msg);
        cs__add(&d->rep, "mayastor-labels", ctitle, CS__SKIP, NULL, "needs the Mayastor REST API");
        return;
    }
    d->ms_ok = true;
    cs__add(&d->rep, "mayastor", title, CS__OK, NULL, "%s: %zu pools", cs_mayastor_url(d->cl.mayastor),
            d->mpools.count);
    cs_mayastor_caps_t caps;
    if (cs_mayastor_capabilities(d->cl.mayastor, &caps, &merr) != 0)
        cs__add(&d->rep, "mayastor-labels", ctitle, CS__WARN,
                "run doctor again; if it persists, check the api-rest logs", "capability unknown: %s", merr.err.msg);
    else if (!caps.pool_labels)
        cs__add(&d->rep, "mayastor-labels", ctitle, CS__FAIL,
                "upgrade Mayastor to 2.7.1 or newer: the operator steers new replicas by pool labels",
                "PUT/DELETE /v0/pools/{id}/label/{key} are not served (HTTP %ld without a Mayastor error body): "
                "Mayastor 2.7.0 or older",
                caps.probe_status);
    else
        cs__add(&d->rep, "mayastor-labels", ctitle, CS__OK, NULL,
                "the label route answers (HTTP %ld, Mayastor error body)", caps.probe_status);
}

/* ---- listing what the plan reads ------------------------------------------------ */

static int cs__list_all(cs__doctor_t *d, cs_err_t *err)
{
    cs_kube_client_t *k = d->cl.kube;
    int rc =
        cs_kube_list(k, CS_STORAGE_POLICY_RESOURCE, NULL, NULL, &d->tree, cs_kube_objects_add, &d->policies, NULL, err);
    if (rc == 0)
        rc = cs_kube_list(k, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, NULL, &d->pvdec, cs_kube_objects_add, &d->pvs, NULL,
                          err);
    if (rc == 0)
        rc = cs_kube_list(k, CS_DISKPOOL_RESOURCE, d->cfg->mayastor_namespace, NULL, &d->dpdec, cs_kube_objects_add,
                          &d->dps, NULL, err);
    if (rc == 0)
        rc = cs_kube_list(k, CS_KUBE_RES_PVCS, NULL, NULL, &d->pvcdec, cs_kube_objects_add, &d->pvcs, NULL, err);
    if (rc == 0)
        rc = cs_kube_list(k, CS_KUBE_RES_NAMESPACES, NULL, NULL, &d->nsdec, cs_kube_objects_add, &d->nss, NULL, err);
    if (rc == 0)
        rc = cs_kube_list(k, CS_KUBE_RES_STORAGECLASSES, NULL, NULL, &d->tree, cs_kube_objects_add, &d->scs, NULL, err);
    if (rc != 0)
        return rc;
    d->pol = calloc(d->policies.n ? d->policies.n : 1, sizeof *d->pol);
    d->valid = calloc(d->policies.n ? d->policies.n : 1, sizeof *d->valid);
    if (!d->pol || !d->valid)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->policies.n; i++) {
        cs_crd_problems_t problems = {0};
        cs_err_t perr = {0};
        d->valid[i] =
            cs_storage_policy_decode(cs_json_tree_root(d->policies.items[i]), &d->pol[i], &problems, &perr) == 0 &&
            cs_storage_policy_validate(&d->pol[i], &problems, &perr) == 0;
        cs_crd_problems_free(&problems);
    }
    return 0;
}

static void cs__list(cs__doctor_t *d)
{
    if (!d->api_ok)
        return;
    cs_err_t err = {0};
    if (cs__list_all(d, &err) == 0) {
        d->listed = true;
        return;
    }
    cs__add(&d->rep, "list", "StoragePolicies, volumes and pools readable", CS__FAIL,
            "fix the RBAC check above, then run doctor again", "%s", err.msg);
}

static size_t cs__valid_policies(const cs__doctor_t *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->policies.n; i++)
        n += d->valid[i];
    return n;
}

/* ---- 5. tier labels of the pools ------------------------------------------------ */

static const cs_diskpool_ref_t *cs__diskpool(const cs__doctor_t *d, const char *id)
{
    for (size_t i = 0; i < d->dps.n; i++) {
        const cs_diskpool_ref_t *dp = d->dps.items[i];
        if (dp->name && strcmp(dp->name, id) == 0)
            return dp;
    }
    return NULL;
}

/* The tier a pool has for policy p (its merged labels), counted in
 * per_tier[p * 4 + tier]. Returns whether any valid policy gives it one. */
static bool cs__pool_tiered(const cs__doctor_t *d, const char *id, size_t *per_tier)
{
    const cs_diskpool_ref_t *dp = cs__diskpool(d, id);
    cs_pool_label_sources_t src = {.metadata = dp ? &dp->labels : NULL,
                                   .topology = dp ? &dp->topology : NULL,
                                   .rest = d->ms_ok ? cs_mayastor_pools_find(&d->mpools, id) : NULL};
    cs_labels_t merged = {0};
    if (cs_pool_labels_merge(&src, &merged, NULL) < 0)
        return true; /* out of memory: do not accuse the pool */
    bool tiered = false;
    for (size_t p = 0; p < d->policies.n; p++) {
        if (!d->valid[p])
            continue;
        cs_tier_t t = cs_plan_pool_tier(&d->pol[p].spec, &merged);
        per_tier[p * 4 + (size_t)t]++;
        tiered |= t != CS_TIER_UNKNOWN;
    }
    cs_labels_free(&merged);
    return tiered;
}

/* Every pool id once: the Mayastor pools, then DiskPools Mayastor lacks. */
static size_t cs__pool_ids(const cs__doctor_t *d, const char **ids, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; d->ms_ok && i < d->mpools.count && n < cap; i++)
        if (d->mpools.items[i].id)
            ids[n++] = d->mpools.items[i].id;
    for (size_t i = 0; i < d->dps.n && n < cap; i++) {
        const cs_diskpool_ref_t *dp = d->dps.items[i];
        if (dp->name && !(d->ms_ok && cs_mayastor_pools_find(&d->mpools, dp->name)))
            ids[n++] = dp->name;
    }
    return n;
}

/* A policy's tier that no pool has ("hot"), or NULL. */
static const char *cs__empty_tier(const cs__doctor_t *d, size_t p, const size_t *per_tier)
{
    const cs_storage_policy_spec_t *s = &d->pol[p].spec;
    if (!per_tier[p * 4 + CS_TIER_HOT])
        return "hot";
    if (s->warm_watermark_iops > 0 && s->warm_pool_selector && !per_tier[p * 4 + CS_TIER_WARM])
        return "warm";
    if (!per_tier[p * 4 + CS_TIER_COLD])
        return "cold";
    return NULL;
}

static void cs__check_pools(cs__doctor_t *d)
{
    const char *title = "every pool matches a tier of a StoragePolicy";
    if (!d->listed) {
        cs__add(&d->rep, "pool-tiers", title, CS__SKIP, NULL, "needs the API server");
        return;
    }
    if (cs__valid_policies(d) == 0) {
        cs__add(&d->rep, "pool-tiers", title, CS__WARN,
                "kubectl apply -f deploy/examples/storagepolicy-three-tier.yaml (edit its selectors first)",
                "no valid StoragePolicy: no tier to match (%zu policies)", d->policies.n);
        return;
    }
    size_t cap = d->mpools.count + d->dps.n + 1, *per_tier = calloc(d->policies.n * 4, sizeof *per_tier);
    const char **ids = calloc(cap, sizeof *ids);
    if (!ids || !per_tier) {
        free(ids), free(per_tier);
        return;
    }
    size_t n = cs__pool_ids(d, ids, cap), bare = 0;
    cs__text_t untiered = {0}, empty = {0};
    for (size_t i = 0; i < n; i++)
        if (!cs__pool_tiered(d, ids[i], per_tier))
            cs__cat(&untiered, "%s%s", bare++ ? ", " : "", ids[i]);
    for (size_t p = 0; p < d->policies.n; p++) {
        const char *t = d->valid[p] ? cs__empty_tier(d, p, per_tier) : NULL;
        if (t)
            cs__cat(&empty, "%s%s has no %s pool", empty.len ? "; " : "", d->pol[p].meta.name, t);
    }
    const char *fix = "label the pool with its tier, e.g. kubectl mayastor label pool POOL storage-tier=cold, or "
                      "kubectl -n NS label diskpool POOL storage-tier=cold (docs/operator.md, Adopting CoucheStor)";
    if (empty.len)
        cs__add(&d->rep, "pool-tiers", title, CS__FAIL, fix, "%s%s%s", cs__str(&empty),
                bare ? "; pools matching no tier: " : "", cs__str(&untiered));
    else if (bare)
        cs__add(&d->rep, "pool-tiers", title, CS__WARN, fix, "%zu of %zu pools match no tier selector: %s", bare, n,
                cs__str(&untiered));
    else
        cs__add(&d->rep, "pool-tiers", title, CS__OK, NULL, "%zu pools, each on a tier", n);
    free(untiered.s);
    free(empty.s);
    free(ids);
    free(per_tier);
}

/* ---- 6, 7. steerability and metrics, from the plan of every policy ------------- */

typedef struct {
    size_t watched, placement, created_by, created_by_allowed, none, not_found;
    size_t known, young, no_data, invalid, unavailable, unpublished;
    bool gathered, metrics_failed;
    char metrics_err[CS_ERR_MSG_MAX];
} cs__tally_t;

static void cs__tally_item(const cs_gathered_t *in, const cs_plan_item_t *it, bool created_by_allowed, cs__tally_t *t)
{
    const cs_plan_volume_t *v = &in->facts.in.volumes[it->volume];
    t->watched++;
    if (!v->found) {
        t->not_found++;
        return;
    }
    if (v->steering == CS_PLAN_STEER_PLACEMENT)
        t->placement++;
    else if (v->steering == CS_PLAN_STEER_CREATED_BY)
        *(created_by_allowed ? &t->created_by_allowed : &t->created_by) += 1;
    else
        t->none++;
    if (!v->published) {
        t->unpublished++; /* the exporter reports published volumes only */
        return;
    }
    const cs_prom_iops_t *io = in->obs.iops ? &in->obs.iops[in->facts.pv_of[it->volume]] : NULL;
    switch (io ? io->state : CS_PROM_IOPS_UNAVAILABLE) {
    case CS_PROM_IOPS_KNOWN:
        t->known++;
        break;
    case CS_PROM_IOPS_YOUNG:
        t->young++;
        break;
    case CS_PROM_IOPS_NO_DATA:
        t->no_data++;
        break;
    case CS_PROM_IOPS_INVALID:
        t->invalid++;
        break;
    case CS_PROM_IOPS_UNAVAILABLE:
        t->unavailable++;
        break;
    }
}

static void cs__tally(cs__doctor_t *d, cs__tally_t *t)
{
    cs_gather_source_t src = {.clients = &d->cl,
                              .cfg = d->cfg,
                              .pvs = (const cs_pv_t *const *)d->pvs.items,
                              .pv_count = d->pvs.n,
                              .diskpools = (const cs_diskpool_ref_t *const *)d->dps.items,
                              .diskpool_count = d->dps.n,
                              .pvcs = (const cs_pvc_t *const *)d->pvcs.items,
                              .pvc_count = d->pvcs.n,
                              .namespaces = (const cs_namespace_ref_t *const *)d->nss.items,
                              .namespace_count = d->nss.n};
    for (size_t p = 0; p < d->policies.n; p++) {
        if (!d->valid[p])
            continue;
        cs_gathered_t in;
        cs_plan_t plan;
        memset(&plan, 0, sizeof plan);
        cs_err_t err = {0};
        int rc = cs_gather(&src, d->pol[p].meta.name, &d->pol[p].spec, cs_clock_real_s(), &in, &err);
        if (rc == 0 && !in.obs.metrics_ok && !t->metrics_failed) {
            t->metrics_failed = true;
            snprintf(t->metrics_err, sizeof t->metrics_err, "%s", in.obs.metrics_err.msg);
        }
        if (rc == 0 && cs_plan_compute(&in.facts.in, &plan, &err) == 0) {
            t->gathered = true;
            for (size_t i = 0; i < plan.count; i++)
                cs__tally_item(&in, &plan.items[i], d->pol[p].spec.created_by_steering, t);
        }
        cs_plan_free(&plan);
        cs_gathered_free(&in);
    }
}

static const json_t *cs__class(const cs__doctor_t *d, const char *name)
{
    for (size_t i = 0; name && i < d->scs.n; i++) {
        const json_t *sc = cs_json_tree_root(d->scs.items[i]);
        const char *n = json_string_value(json_object_get(json_object_get(sc, "metadata"), "name"));
        if (n && strcmp(n, name) == 0)
            return sc;
    }
    return NULL;
}

/* The StorageClasses the policies name: which exist, which name the
 * placement label. */
static void cs__classes(const cs__doctor_t *d, cs__text_t *detail, bool *missing, bool *created_by_only)
{
    for (size_t p = 0; p < d->policies.n; p++) {
        const char *name = d->valid[p] ? d->pol[p].spec.storage_class_name : NULL;
        if (!name)
            continue;
        const json_t *sc = cs__class(d, name);
        char why[512] = "";
        cs_plan_steering_t steer =
            sc ? cs_storage_class_steering(sc, CS_LABEL_PLACEMENT, why, sizeof why) : CS_PLAN_STEER_NONE;
        *missing |= !sc;
        *created_by_only |= sc && steer != CS_PLAN_STEER_PLACEMENT;
        if (sc)
            cs__cat(detail, "%s%s (policy %s)", detail->len ? "; " : "", why, d->pol[p].meta.name);
        else
            cs__cat(detail, "%sStorageClass %s (policy %s): missing", detail->len ? "; " : "", name,
                    d->pol[p].meta.name);
    }
}

static void cs__check_steering(cs__doctor_t *d, const cs__tally_t *t)
{
    const char *title = "StorageClasses and watched volumes are steerable";
    if (!d->listed || cs__valid_policies(d) == 0 || !d->ms_ok || !t->gathered) {
        cs__add(&d->rep, "steering", title, CS__SKIP, NULL, "%s",
                !d->listed                   ? "needs the API server"
                : cs__valid_policies(d) == 0 ? "no valid StoragePolicy"
                : !d->ms_ok                  ? "needs the Mayastor REST API (volume topologies)"
                                             : "needs a valid Prometheus configuration (the plan reads IOPS)");
        return;
    }
    cs__text_t detail = {0};
    bool missing = false, created_by_only = false;
    cs__classes(d, &detail, &missing, &created_by_only);
    size_t movable = t->placement + t->created_by_allowed, stuck = t->created_by + t->none;
    cs__cat(&detail,
            "; %zu watched volumes: %zu steerable by the placement label, %zu with createdBySteering on, %zu need "
            "createdBySteering, %zu not steerable, %zu without a Mayastor volume",
            t->watched, t->placement, t->created_by_allowed, t->created_by, t->none, t->not_found);
    const char *fix =
        missing ? "create the StorageClass the policy names, or fix spec.storageClassName"
        : t->watched == 0
            ? "check the policy's storageClassName, volumeSelector and namespaceSelector (they select no volume)"
            : "new volumes: a StorageClass with poolHasTopologyKey: " CS_LABEL_PLACEMENT
              "; existing ones: set spec.createdBySteering: true on the policy (docs/operator.md, Adopting CoucheStor)";
    cs__status_t st = missing || (t->watched > 0 && movable == 0)       ? CS__FAIL
                      : t->watched == 0 || stuck > 0 || created_by_only ? CS__WARN
                                                                        : CS__OK;
    cs__add(&d->rep, "steering", title, st, fix, "%s", cs__str(&detail));
    free(detail.s);
}

/* ---- 8. Prometheus ------------------------------------------------------------------- */

static void cs__check_prometheus(cs__doctor_t *d)
{
    const char *title = "Prometheus reachable";
    cs_prom_options_t po;
    char *token = NULL;
    cs_err_t err = {0};
    int rc = cs_prom_options_from_config(d->cfg, &po, &token, &err);
    if (rc == 0) {
        po.timeout_ms = 10000;
        rc = cs_prom_new(&po, &d->cl.prom, &err);
    }
    free(token);
    if (rc == 0)
        rc = cs_prom_ready(d->cl.prom, &err);
    if (rc != 0) {
        cs__add(&d->rep, "prometheus", title, CS__FAIL,
                "set --prometheus-url (PROMETHEUS_URL) to a Prometheus that scrapes Mayastor's io-engine exporter",
                "%s", err.msg);
        return;
    }
    d->prom_ok = true;
    cs__add(&d->rep, "prometheus", title, CS__OK, NULL, "%s ready", cs_prom_url(d->cl.prom));
}

static void cs__check_metrics(cs__doctor_t *d, const cs__tally_t *t)
{
    const char *title = "IOPS metrics present for the watched volumes", *ctitle = "series cover the sampling window";
    size_t expected = t->watched - t->not_found - t->unpublished, present = t->known + t->young;
    const char *why = !d->prom_ok         ? "needs Prometheus"
                      : !d->ms_ok         ? "needs the Mayastor REST API (which volumes are published)"
                      : !t->gathered      ? "needs the API server and a valid StoragePolicy"
                      : t->metrics_failed ? NULL
                      : expected == 0     ? "no published watched volume"
                                          : NULL;
    if (why || t->metrics_failed) {
        if (why)
            cs__add(&d->rep, "metrics", title, CS__SKIP, NULL, "%s", why);
        else
            cs__add(&d->rep, "metrics", title, CS__FAIL, "check prometheus_iops_metrics and prometheus_selector",
                    "the IOPS query failed: %s", t->metrics_err);
        cs__add(&d->rep, "coverage", ctitle, CS__SKIP, NULL, "needs the IOPS metrics");
        return;
    }
    const char *fix = "check that Prometheus scrapes the io-engine exporter (chart value base.metrics.enabled: true) "
                      "and prometheus_iops_metrics / prometheus_volume_label name its series";
    cs__status_t st = present == 0 ? CS__FAIL : present < expected ? CS__WARN : CS__OK;
    cs__add(&d->rep, "metrics", title, st, fix,
            "%zu of %zu published watched volumes have a series (%.0f%%): %zu known, %zu younger than the window, "
            "%zu without a series, %zu invalid",
            present, expected, 100.0 * (double)present / (double)expected, t->known, t->young,
            t->no_data + t->unavailable, t->invalid);
    if (present == 0)
        cs__add(&d->rep, "coverage", ctitle, CS__SKIP, NULL, "no series");
    else if (t->young)
        cs__add(&d->rep, "coverage", ctitle, CS__WARN,
                "wait: a series counts once it covers the share of samplingWindow the operator needs (or shorten "
                "samplingWindow)",
                "%zu of %zu series are younger than that share of the policy's samplingWindow: their IOPS stays "
                "unknown, the volumes do not move",
                t->young, present);
    else
        cs__add(&d->rep, "coverage", ctitle, CS__OK, NULL, "all %zu series cover it", present);
}

/* ---- the command ------------------------------------------------------------------------ */

static void cs__usage(FILE *out)
{
    fprintf(out,
            "Usage: couchestor doctor [--json] [FLAGS]\n\n"
            "Checks that the cluster is ready for the operator and prints one line per\n"
            "check, with the fix for each problem: API server reachable; RBAC allows\n"
            "every request the operator makes (SelfSubjectAccessReview, for the\n"
            "identity doctor runs as: run it with the operator's credentials); CRDs\n"
            "installed; Mayastor REST reachable and >= 2.7.1 (pool-label endpoints);\n"
            "pools without a tier; steerable StorageClasses and watched volumes;\n"
            "Prometheus reachable, IOPS series present and covering the window.\n"
            "Changes nothing. Exit status: 0 nothing blocks, 1 something does, 2 usage.\n\n"
            "Flags:\n  %-36s %s\n",
            "--json", "one JSON document {ok, checks[], summary}");
    cs_config_print_flags(out);
}

/* 0 to go on, 1 after --help, 2 on a usage error. */
static int cs__args(int argc, char **argv, bool *json, int *nrest, char **rest)
{
    for (int i = 1; i < argc; i++) {
        bool takes;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            cs__usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--json") == 0) {
            *json = true;
        } else if (cs_config_is_flag(argv[i], &takes)) {
            rest[(*nrest)++] = argv[i];
            if (takes && !strchr(argv[i], '=') && i + 1 < argc)
                rest[(*nrest)++] = argv[++i];
        } else {
            fprintf(stderr, "couchestor doctor: unknown argument '%s' (see couchestor doctor --help)\n", argv[i]);
            return 2;
        }
    }
    return 0;
}

int cs_cmd_doctor(int argc, char **argv)
{
    char *rest[argc > 0 ? argc : 1];
    int nrest = 0;
    bool json = false;
    int status = cs__args(argc, argv, &json, &nrest, rest);
    if (status != 0)
        return status == 1 ? 0 : status;
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, nrest, rest, environ, &err) != 0) {
        fprintf(stderr, "couchestor doctor: %s\n", err.msg);
        return 2;
    }
    /* the checklist is the output: only errors from below */
    cs_log_configure(CS_LOG_ERROR, cfg.log_json, NULL);
    cs__doctor_t d = {.cfg = &cfg,
                      .tree = cs_json_tree_decoder(),
                      .pvdec = cs_pv_decoder(),
                      .dpdec = cs_diskpool_decoder(),
                      .pvcdec = cs_pvc_decoder(),
                      .nsdec = cs_namespace_decoder()};
    cs__check_api(&d);
    cs__check_rbac(&d);
    cs__check_crds(&d);
    cs__check_mayastor(&d);
    cs__list(&d);
    cs__check_pools(&d);
    cs__check_prometheus(&d);
    cs__tally_t t = {0};
    if (d.listed && d.cl.mayastor && d.cl.prom)
        cs__tally(&d, &t);
    cs__check_steering(&d, &t);
    cs__check_metrics(&d, &t);
    cs__print(&d.rep, json);
    status = cs__blocked(&d.rep) ? 1 : 0;
    cs__doctor_free(&d);
    cs_config_free(&cfg);
    return status;
}
