/* kube.c: the Kubernetes side of Mayastor: finding the api-rest Service,
 * mapping a PersistentVolume to its Mayastor volume, and reading the
 * DiskPool resource of a pool id. Objects come through a caller-supplied
 * GET function, so this module does not depend on the kube client. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/http.h"
#include "couchestor/json.h"
#include "mayastor/internal.h"

/* ---- api-rest discovery ---- */

static int cs__service_url(const json_t *svc, char **url)
{
    const json_t *meta = json_object_get(svc, "metadata");
    const json_t *spec = json_object_get(svc, "spec");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *ns = json_string_value(json_object_get(meta, "namespace"));
    const json_t *ports = json_object_get(spec, "ports");
    if (!name || !json_is_array(ports))
        return CS_ENOTFOUND;
    json_int_t port = 0;
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *p = json_array_get(ports, i);
        const char *pname = json_string_value(json_object_get(p, "name"));
        const json_t *pn = json_object_get(p, "port");
        if (pname && strcmp(pname, "http") == 0 && json_is_integer(pn)) {
            port = json_integer_value(pn);
            break;
        }
    }
    if (port <= 0 || port > 65535)
        return CS_ENOTFOUND;
    const char *ip = json_string_value(json_object_get(spec, "clusterIP"));
    char buf[512];
    if (ip && *ip && strcmp(ip, "None") != 0 && strspn(ip, "0123456789abcdefABCDEF.:") == strlen(ip)) {
        if (strchr(ip, ':'))
            snprintf(buf, sizeof buf, "http://[%s]:%" JSON_INTEGER_FORMAT, ip, port);
        else
            snprintf(buf, sizeof buf, "http://%s:%" JSON_INTEGER_FORMAT, ip, port);
    } else {
        snprintf(buf, sizeof buf, "http://%.200s.%.200s.svc:%" JSON_INTEGER_FORMAT, name,
                 ns ? ns : CS_MAYASTOR_DEFAULT_NAMESPACE, port);
    }
    *url = strdup(buf);
    return *url ? 0 : CS_ENOMEM;
}

int cs_mayastor_url_from_services(const json_t *services, char **url, cs_err_t *err)
{
    *url = NULL;
    if (!json_is_object(services))
        return cs_err_set(err, CS_EPARSE, "api-rest discovery: expected a ServiceList object, got %s",
                          cs_json_type_name(services));
    const json_t *items = json_object_get(services, "items");
    if (!items) {
        /* one Service */
        int rc = cs__service_url(services, url);
        if (rc == CS_ENOTFOUND)
            return cs_err_set(err, rc, "api-rest discovery: the Service has no port named \"http\"");
        return rc ? cs_err_set(err, rc, "api-rest discovery: out of memory") : 0;
    }
    if (!json_is_array(items))
        return cs_err_set(err, CS_EPARSE, "api-rest discovery: items is a %s, expected an array",
                          cs_json_type_name(items));
    for (size_t i = 0; i < json_array_size(items); i++) {
        int rc = cs__service_url(json_array_get(items, i), url);
        if (rc == 0)
            return 0;
        if (rc != CS_ENOTFOUND)
            return cs_err_set(err, rc, "api-rest discovery: out of memory");
    }
    return cs_err_set(err, CS_ENOTFOUND,
                      "api-rest discovery: no Service labelled %s with a port named \"http\" (%zu "
                      "found); set MAYASTOR_URL or check MAYASTOR_NAMESPACE",
                      CS_MAYASTOR_API_REST_SELECTOR, json_array_size(items));
}

int cs_mayastor_discover_url(cs_mayastor_kube_get_fn get, void *ctx, const char *namespace_, char **url, cs_err_t *err)
{
    *url = NULL;
    if (!get)
        return cs_err_set(err, CS_EINVAL, "api-rest discovery: no Kubernetes client");
    const char *ns = namespace_ && *namespace_ ? namespace_ : CS_MAYASTOR_DEFAULT_NAMESPACE;
    char *ens = cs_http_escape(ns), *esel = cs_http_escape(CS_MAYASTOR_API_REST_SELECTOR);
    char path[512];
    int rc = 0;
    if (!ens || !esel)
        rc = cs_err_set(err, CS_ENOMEM, "api-rest discovery: out of memory");
    else
        snprintf(path, sizeof path, "/api/v1/namespaces/%.200s/services?labelSelector=%s", ens, esel);
    free(ens);
    free(esel);
    if (rc)
        return rc;
    json_t *list = NULL;
    rc = get(ctx, path, &list, err);
    if (rc) {
        cs_err_prefix(err, "api-rest discovery in namespace %s: ", ns);
        return rc;
    }
    rc = cs_mayastor_url_from_services(list, url, err);
    if (rc)
        cs_err_prefix(err, "namespace %s: ", ns);
    json_decref(list);
    return rc;
}

/* ---- PersistentVolume -> volume ---- */

int cs_mayastor_pv_volume(const char *pv_name, const char *csi_driver, const char *volume_handle,
                          cs_mayastor_uuid_t *out, cs_err_t *err)
{
    const char *name = pv_name ? pv_name : "(unnamed)";
    if (!csi_driver || !*csi_driver)
        return cs_err_set(err, CS_EUNSUPPORTED, "PV %s is not a CSI volume: only %s volumes can be tiered", name,
                          CS_MAYASTOR_CSI_DRIVER);
    if (strcmp(csi_driver, CS_MAYASTOR_CSI_DRIVER) != 0)
        return cs_err_set(err, CS_EUNSUPPORTED, "PV %s is provisioned by %.100s, not %s: it cannot be tiered", name,
                          csi_driver, CS_MAYASTOR_CSI_DRIVER);
    if (!volume_handle || cs_mayastor_uuid_parse(volume_handle, strlen(volume_handle), out) != 0)
        return cs_err_set(err, CS_EPARSE, "PV %s: spec.csi.volumeHandle \"%.64s\" is not a Mayastor volume uuid", name,
                          volume_handle ? volume_handle : "");
    return 0;
}

int cs_mayastor_pv_volume_json(const json_t *pv, cs_mayastor_uuid_t *out, cs_err_t *err)
{
    const json_t *meta = json_object_get(pv, "metadata");
    const json_t *csi = json_object_get(json_object_get(pv, "spec"), "csi");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *driver = json_string_value(json_object_get(csi, "driver"));
    const char *handle = json_string_value(json_object_get(csi, "volumeHandle"));
    return cs_mayastor_pv_volume(name, driver, handle, out, err);
}

char *cs_mayastor_pv_name(const cs_mayastor_uuid_t *u, char out[41])
{
    char uuid[37];
    snprintf(out, 41, "pvc-%s", cs_mayastor_uuid_format(u, uuid));
    return out;
}

/* ---- DiskPool ---- */

int cs_mayastor_diskpool_path(const char *namespace_, const char *pool_id, char *buf, size_t len, cs_err_t *err)
{
    if (!pool_id || !*pool_id)
        return cs_err_set(err, CS_EINVAL, "DiskPool: empty pool id");
    const char *ns = namespace_ && *namespace_ ? namespace_ : CS_MAYASTOR_DEFAULT_NAMESPACE;
    char *ens = cs_http_escape(ns), *eid = cs_http_escape(pool_id);
    int rc = 0;
    if (!ens || !eid) {
        rc = cs_err_set(err, CS_ENOMEM, "DiskPool: out of memory");
    } else {
        int n = snprintf(buf, len, "/apis/%s/%s/namespaces/%s/diskpools/%s", CS_MAYASTOR_DISKPOOL_GROUP,
                         CS_MAYASTOR_DISKPOOL_VERSION, ens, eid);
        if (n < 0 || (size_t)n >= len)
            rc = cs_err_set(err, CS_ETOOBIG, "DiskPool %s: path longer than %zu bytes", pool_id, len);
    }
    free(ens);
    free(eid);
    return rc;
}

void cs_mayastor_diskpool_free(cs_mayastor_diskpool_t *d)
{
    if (!d)
        return;
    free(d->name);
    free(d->namespace_);
    free(d->node);
    for (size_t i = 0; d->disks && i < d->disk_count; i++)
        free(d->disks[i]);
    free(d->disks);
    cs_labels_free(&d->labels);
    cs_labels_free(&d->topology);
    free(d->cr_state);
    memset(d, 0, sizeof *d);
}

static int cs__dup(const json_t *o, const char *path, const char *key, int flags, char **out, cs_err_t *err)
{
    const char *s = NULL;
    int rc = cs_json_get_string(o, path, key, flags, &s, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    *out = strdup(s);
    return *out ? 0 : cs_err_set(err, CS_ENOMEM, "out of memory");
}

static int cs__u64(const json_t *o, const char *path, const char *key, uint64_t *out, cs_err_t *err)
{
    int64_t v = 0;
    int rc = cs_json_get_int_range(o, path, key, CS_JSON_OPTIONAL, 0, INT64_MAX, &v, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        *out = (uint64_t)v;
    return 0;
}

int cs_mayastor_diskpool_decode(const json_t *obj, cs_mayastor_diskpool_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(obj))
        return cs_err_set(err, CS_EPARSE, "DiskPool: expected an object, got %s", cs_json_type_name(obj));
    const json_t *meta = NULL, *spec = NULL, *status = NULL, *topo = NULL, *disks = NULL;
    int rc;
    if ((rc = cs_json_get_object(obj, "", "metadata", CS_JSON_REQUIRED, &meta, err)) < 0 ||
        (rc = cs__dup(meta, "metadata", "name", CS_JSON_REQUIRED, &out->name, err)) < 0 ||
        (rc = cs__dup(meta, "metadata", "namespace", CS_JSON_OPTIONAL, &out->namespace_, err)) < 0)
        goto fail;
    const json_t *labels = json_object_get(meta, "labels");
    if ((rc = cs_labels_from_json(labels, "metadata.labels", &out->labels, err)) < 0)
        goto fail;
    if ((rc = cs_json_get_object(obj, "", "spec", CS_JSON_OPTIONAL, &spec, err)) < 0)
        goto fail;
    if (spec) {
        if ((rc = cs__dup(spec, "spec", "node", CS_JSON_OPTIONAL, &out->node, err)) < 0 ||
            (rc = cs_json_get_array(spec, "spec", "disks", CS_JSON_OPTIONAL, &disks, err)) < 0 ||
            (rc = cs_json_get_object(spec, "spec", "topology", CS_JSON_OPTIONAL, &topo, err)) < 0)
            goto fail;
        if (topo && (rc = cs_labels_from_json(json_object_get(topo, "labelled"), "spec.topology.labelled",
                                              &out->topology, err)) < 0)
            goto fail;
        size_t n = json_array_size(disks);
        if (n > CS__MS_MAX_DISKS) {
            rc = cs_err_set(err, CS_ETOOBIG, "spec.disks: more than %d disks", CS__MS_MAX_DISKS);
            goto fail;
        }
        if (n) {
            out->disks = calloc(n, sizeof *out->disks);
            if (!out->disks) {
                rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                goto fail;
            }
            for (size_t i = 0; i < n; i++) {
                const json_t *d = json_array_get(disks, i);
                if (!json_is_string(d)) {
                    rc =
                        cs_err_set(err, CS_EPARSE, "spec.disks[%zu]: expected string, got %s", i, cs_json_type_name(d));
                    goto fail;
                }
                if (!(out->disks[i] = strdup(json_string_value(d)))) {
                    rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                    goto fail;
                }
                out->disk_count++;
            }
        }
    }
    if ((rc = cs_json_get_object(obj, "", "status", CS_JSON_OPTIONAL, &status, err)) < 0)
        goto fail;
    if (status) {
        const char *ps = NULL;
        if ((rc = cs__dup(status, "status", "cr_state", CS_JSON_OPTIONAL, &out->cr_state, err)) < 0 ||
            (rc = cs_json_get_string(status, "status", "pool_status", CS_JSON_OPTIONAL, &ps, err)) < 0 ||
            (rc = cs__u64(status, "status", "capacity", &out->capacity, err)) < 0 ||
            (rc = cs__u64(status, "status", "used", &out->used, err)) < 0 ||
            (rc = cs__u64(status, "status", "available", &out->available, err)) < 0)
            goto fail;
        if (ps)
            out->pool_status = cs__ms_state(ps, strlen(ps));
    }
    return 0;
fail:
    cs_err_prefix(err, "DiskPool %s: ", out->name ? out->name : "?");
    cs_mayastor_diskpool_free(out);
    return rc;
}

int cs_mayastor_diskpool_get(cs_mayastor_kube_get_fn get, void *ctx, const char *namespace_, const char *pool_id,
                             cs_mayastor_diskpool_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!get)
        return cs_err_set(err, CS_EINVAL, "DiskPool: no Kubernetes client");
    char path[1024];
    int rc = cs_mayastor_diskpool_path(namespace_, pool_id, path, sizeof path, err);
    if (rc)
        return rc;
    json_t *obj = NULL;
    rc = get(ctx, path, &obj, err);
    if (rc) {
        cs_err_prefix(err, "DiskPool %s in namespace %s: ", pool_id,
                      namespace_ && *namespace_ ? namespace_ : CS_MAYASTOR_DEFAULT_NAMESPACE);
        return rc;
    }
    rc = cs_mayastor_diskpool_decode(obj, out, err);
    json_decref(obj);
    return rc;
}
