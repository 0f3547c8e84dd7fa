/* Tests for the Kubernetes side of the Mayastor client: api-rest Service
 * discovery, PV -> volume mapping, DiskPool path and decoding, through a
 * canned GET function (no kube client needed). */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/json.h"
#include "couchestor/mayastor.h"

static json_t *J(const char *text)
{
    json_t *v = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_json_parse(text, strlen(text), "test", &v, &err), 0, "%s", err.msg);
    return v;
}

typedef struct {
    const char *path_seen_buf;
    char path[512];
    const char *reply;
    int rc;
} fake_kube_t;

static int fake_get(void *ctx, const char *path, json_t **out, cs_err_t *err)
{
    fake_kube_t *k = ctx;
    snprintf(k->path, sizeof k->path, "%s", path);
    if (k->rc)
        return cs_err_set(err, k->rc, "GET %s: 404 NotFound", path);
    *out = J(k->reply);
    return 0;
}

Test(kube, discovery_prefers_cluster_ip_and_the_http_port)
{
    fake_kube_t k = {.reply = "{\"kind\":\"ServiceList\",\"items\":[{\"metadata\":{\"name\":\"mayastor-api-rest\","
                              "\"namespace\":\"openebs\"},\"spec\":{\"clusterIP\":\"10.96.12.7\",\"ports\":["
                              "{\"name\":\"https\",\"port\":8080},{\"name\":\"http\",\"port\":8081}]}}]}"};
    char *url = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_discover_url(fake_get, &k, "openebs", &url, &err), 0, "%s", err.msg);
    cr_expect_str_eq(k.path, "/api/v1/namespaces/openebs/services?labelSelector=app%3Dapi-rest");
    cr_expect_str_eq(url, "http://10.96.12.7:8081");
    free(url);
}

Test(kube, discovery_headless_ipv6_and_failures)
{
    char *url = NULL;
    cs_err_t err = {0};
    json_t *s = J("{\"metadata\":{\"name\":\"api\",\"namespace\":\"mayastor\"},\"spec\":{\"clusterIP\":\"None\","
                  "\"ports\":[{\"name\":\"http\",\"port\":8081}]}}");
    cr_assert_eq(cs_mayastor_url_from_services(s, &url, &err), 0);
    cr_expect_str_eq(url, "http://api.mayastor.svc:8081");
    free(url);
    json_decref(s);
    s = J("{\"items\":[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"clusterIP\":\"fd00::5\","
          "\"ports\":[{\"name\":\"http\",\"port\":81}]}}]}");
    cr_assert_eq(cs_mayastor_url_from_services(s, &url, &err), 0);
    cr_expect_str_eq(url, "http://[fd00::5]:81");
    free(url);
    json_decref(s);
    s = J("{\"items\":[{\"metadata\":{\"name\":\"a\"},\"spec\":{\"ports\":[{\"name\":\"https\",\"port\":8080}]}}]}");
    cr_expect_eq(cs_mayastor_url_from_services(s, &url, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "api-rest discovery: no Service labelled app=api-rest with a port named \"http\" "
                              "(1 found); set MAYASTOR_URL or check MAYASTOR_NAMESPACE");
    cr_expect_null(url);
    json_decref(s);
    fake_kube_t k = {.reply = "{\"items\":[]}"};
    cr_expect_eq(cs_mayastor_discover_url(fake_get, &k, NULL, &url, &err), CS_ENOTFOUND);
    cr_expect_str_eq(k.path, "/api/v1/namespaces/mayastor/services?labelSelector=app%3Dapi-rest");
    cr_expect_str_eq(err.msg, "namespace mayastor: api-rest discovery: no Service labelled app=api-rest with a "
                              "port named \"http\" (0 found); set MAYASTOR_URL or check MAYASTOR_NAMESPACE");
    k.rc = CS_EPERM;
    cr_expect_eq(cs_mayastor_discover_url(fake_get, &k, "x", &url, &err), CS_EPERM);
    cr_expect_str_eq(err.msg, "api-rest discovery in namespace x: GET /api/v1/namespaces/x/services?"
                              "labelSelector=app%3Dapi-rest: 404 NotFound");
}

Test(kube, pv_to_volume)
{
    cs_mayastor_uuid_t u;
    cs_err_t err = {0};
    cr_assert_eq(
        cs_mayastor_pv_volume("pvc-1", "io.openebs.csi-mayastor", "01a315f9-fef2-5f4c-b35a-3c06113475a2", &u, &err), 0);
    char s[37];
    cr_expect_str_eq(cs_mayastor_uuid_format(&u, s), "01a315f9-fef2-5f4c-b35a-3c06113475a2");
    cr_expect_eq(cs_mayastor_pv_volume("pv-ebs", "ebs.csi.aws.com", "vol-1", &u, &err), CS_EUNSUPPORTED);
    cr_expect_str_eq(err.msg, "PV pv-ebs is provisioned by ebs.csi.aws.com, not io.openebs.csi-mayastor: it "
                              "cannot be tiered");
    cr_expect_eq(cs_mayastor_pv_volume("pv-nfs", NULL, NULL, &u, &err), CS_EUNSUPPORTED);
    cr_expect_str_eq(err.msg, "PV pv-nfs is not a CSI volume: only io.openebs.csi-mayastor volumes can be tiered");
    cr_expect_eq(cs_mayastor_pv_volume("pvc-x", "io.openebs.csi-mayastor", "pvc-x", &u, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "PV pvc-x: spec.csi.volumeHandle \"pvc-x\" is not a Mayastor volume uuid");
    json_t *pv =
        J("{\"metadata\":{\"name\":\"pvc-0fef89df-1792-5cf9-85be-e3f87a6d5f1b\"},\"spec\":{\"csi\":"
          "{\"driver\":\"io.openebs.csi-mayastor\",\"volumeHandle\":\"0fef89df-1792-5cf9-85be-e3f87a6d5f1b\"}}}");
    cr_assert_eq(cs_mayastor_pv_volume_json(pv, &u, &err), 0, "%s", err.msg);
    char name[41];
    cr_expect_str_eq(cs_mayastor_pv_name(&u, name), "pvc-0fef89df-1792-5cf9-85be-e3f87a6d5f1b");
    json_decref(pv);
    pv = J("{\"metadata\":{\"name\":\"local\"},\"spec\":{\"hostPath\":{\"path\":\"/x\"}}}");
    cr_expect_eq(cs_mayastor_pv_volume_json(pv, &u, &err), CS_EUNSUPPORTED);
    json_decref(pv);
}

Test(kube, diskpool)
{
    char path[256];
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_diskpool_path(NULL, "pool-hot-1", path, sizeof path, &err), 0);
    cr_expect_str_eq(path, "/apis/openebs.io/v1beta2/namespaces/mayastor/diskpools/pool-hot-1");
    cr_expect_eq(cs_mayastor_diskpool_path("ns", "p", path, 10, &err), CS_ETOOBIG);
    cr_expect_eq(cs_mayastor_diskpool_path("ns", "", path, sizeof path, &err), CS_EINVAL);
    fake_kube_t k = {
        .reply = "{\"apiVersion\":\"openebs.io/v1beta2\",\"kind\":\"DiskPool\",\"metadata\":{\"name\":\"pool-hot-1\","
                 "\"namespace\":\"mayastor\",\"labels\":{\"storage-tier\":\"hot\"}},\"spec\":{\"node\":\"node-1\","
                 "\"disks\":[\"/dev/nvme0n1\"],\"topology\":{\"labelled\":{\"media-type\":\"nvme\"}}},"
                 "\"status\":{\"cr_state\":\"Created\",\"pool_status\":\"Online\",\"capacity\":100,\"used\":40,"
                 "\"available\":60}}"};
    cs_mayastor_diskpool_t d;
    cr_assert_eq(cs_mayastor_diskpool_get(fake_get, &k, "mayastor", "pool-hot-1", &d, &err), 0, "%s", err.msg);
    cr_expect_str_eq(k.path, "/apis/openebs.io/v1beta2/namespaces/mayastor/diskpools/pool-hot-1");
    cr_expect_str_eq(d.name, "pool-hot-1");
    cr_expect_str_eq(d.namespace_, "mayastor");
    cr_expect_str_eq(d.node, "node-1");
    cr_assert_eq(d.disk_count, 1);
    cr_expect_str_eq(d.disks[0], "/dev/nvme0n1");
    cr_expect_str_eq(cs_labels_get(&d.labels, "storage-tier"), "hot");
    cr_expect_str_eq(cs_labels_get(&d.topology, "media-type"), "nvme");
    cr_expect_str_eq(d.cr_state, "Created");
    cr_expect_eq(d.pool_status, CS_MAYASTOR_STATE_ONLINE);
    cr_expect_eq(d.capacity, 100);
    cr_expect_eq(d.used, 40);
    cr_expect_eq(d.available, 60);
    cs_mayastor_diskpool_free(&d);
    cs_mayastor_diskpool_free(&d);
    cs_mayastor_diskpool_free(NULL);
    k.reply = "{\"metadata\":{\"name\":\"p\"},\"status\":{\"capacity\":\"big\"}}";
    cr_expect_eq(cs_mayastor_diskpool_get(fake_get, &k, NULL, "p", &d, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "DiskPool p: status.capacity: expected integer, got string");
    k.rc = CS_ENOTFOUND;
    cr_expect_eq(cs_mayastor_diskpool_get(fake_get, &k, NULL, "gone", &d, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "DiskPool gone in namespace mayastor: GET "
                              "/apis/openebs.io/v1beta2/namespaces/mayastor/diskpools/gone: 404 NotFound");
}
