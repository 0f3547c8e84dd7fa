/* Tests for the PersistentVolumeClaim and Namespace projections
 * (cs_pvc_decoder, cs_namespace_decoder): what a policy's selection reads,
 * and what they leave out. */
#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/controller.h"
#include "decode_page.h"

static const char *pvcs =
    "{\"kind\":\"PersistentVolumeClaimList\",\"items\":["
    "{\"metadata\":{\"name\":\"orders-db\",\"namespace\":\"shop\",\"uid\":\"u1\",\"resourceVersion\":\"9\","
    "\"labels\":{\"app\":\"database\",\"team\":\"a\"},"
    "\"annotations\":{\"kubectl.kubernetes.io/last-applied-configuration\":\"{\\\"big\\\":1}\"},"
    "\"managedFields\":[{\"manager\":\"kubectl\"}],\"finalizers\":[\"kubernetes.io/pvc-protection\"]},"
    "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"1Gi\"}},"
    "\"storageClassName\":\"mayastor\",\"volumeName\":\"pvc-0001\"},"
    "\"status\":{\"phase\":\"Bound\",\"capacity\":{\"storage\":\"1Gi\"}}},"
    "{\"metadata\":{\"name\":\"pending\",\"namespace\":\"shop\"},\"spec\":{\"volumeName\":null}}"
    "]}";

Test(claims, pvc_projection)
{
    cs_kube_decoder_t d = cs_pvc_decoder();
    size_t chunks[] = {1, 7, 100000};
    for (size_t c = 0; c < 3; c++) {
        decoded_t g = {0};
        cs_err_t err = {0};
        cr_assert_eq(decode_page(&d, pvcs, chunks[c], &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g.n, 2);
        const cs_pvc_t *a = g.obj[0], *b = g.obj[1];
        cr_expect_str_eq(a->name, "orders-db");
        cr_expect_str_eq(a->namespace_, "shop");
        cr_expect_str_eq(a->volume_name, "pvc-0001");
        cr_assert_eq(a->labels.count, 2);
        cr_expect_str_eq(cs_labels_get(&a->labels, "app"), "database");
        cr_expect_str_eq(cs_labels_get(&a->labels, "team"), "a");
        cr_expect_str_eq(b->name, "pending");
        cr_expect_null(b->volume_name, "not bound yet");
        cr_expect_eq(b->labels.count, 0);
        decoded_release(&d, &g);
    }
}

Test(claims, pvc_rejected)
{
    cs_kube_decoder_t d = cs_pvc_decoder();
    struct {
        const char *doc;
        const char *msg;
    } cases[] = {
        {"{\"items\":[{\"metadata\":{\"namespace\":\"a\"}}]}",
         "PersistentVolumeClaim without metadata.name and metadata.namespace"},
        {"{\"items\":[{\"metadata\":{\"name\":\"a\"}}]}",
         "PersistentVolumeClaim without metadata.name and metadata.namespace"},
        {"{\"items\":[{\"metadata\":{\"name\":\"a\",\"namespace\":\"b\",\"labels\":{\"k\":1}}}]}",
         "metadata.labels[\"k\"]: expected a string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        decoded_t g = {0};
        cs_err_t err = {0};
        cr_expect_eq(decode_page(&d, cases[i].doc, 3, &g, &err), CS_EPARSE, "%s", cases[i].doc);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "\"%s\" lacks \"%s\"", err.msg, cases[i].msg);
        decoded_release(&d, &g);
    }
}

Test(claims, namespace_projection)
{
    cs_kube_decoder_t d = cs_namespace_decoder();
    const char *doc = "{\"kind\":\"NamespaceList\",\"items\":["
                      "{\"metadata\":{\"name\":\"shop\",\"labels\":{\"team\":\"a\","
                      "\"kubernetes.io/metadata.name\":\"shop\"},\"annotations\":{\"x\":\"y\"}},"
                      "\"spec\":{\"finalizers\":[\"kubernetes\"]},\"status\":{\"phase\":\"Active\"}},"
                      "{\"metadata\":{\"name\":\"bare\"}}]}";
    decoded_t g = {0};
    cs_err_t err = {0};
    cr_assert_eq(decode_page(&d, doc, 2, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(g.n, 2);
    const cs_namespace_ref_t *a = g.obj[0], *b = g.obj[1];
    cr_expect_str_eq(a->name, "shop");
    cr_expect_eq(a->labels.count, 2);
    cr_expect_str_eq(cs_labels_get(&a->labels, "team"), "a");
    cr_expect_str_eq(b->name, "bare");
    cr_expect_eq(b->labels.count, 0);
    decoded_release(&d, &g);
    cr_expect_eq(decode_page(&d, "{\"items\":[{\"metadata\":{}}]}", 100, &g, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: items[0]: Namespace without metadata.name");
    decoded_release(&d, &g);
    cs_namespace_ref_free(NULL);
    cs_pvc_free(NULL);
}
