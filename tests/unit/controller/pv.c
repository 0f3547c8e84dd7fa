/* Tests for the compact PersistentVolume projection (cs_pv_decoder): the
 * fields the operator reads, the one-block layout, interned strings, and
 * the checks it shares with cs_kube_meta_field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"
#include "couchestor/migrator.h"
#include "decode_page.h"

static const cs_kube_decoder_t *dec(void)
{
    static cs_kube_decoder_t d;
    d = cs_pv_decoder();
    return &d;
}

static cs_pv_t *pv_at(const decoded_t *g, size_t i)
{
    return g->obj[i];
}

#define UUID "0b2c0001-1111-4222-8333-000000000007"

static const char *page =
    "{\"kind\":\"PersistentVolumeList\",\"metadata\":{\"resourceVersion\":\"77\"},\"items\":["
    "{\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"pvc-" UUID "\",\"uid\":\"u-1\",\"resourceVersion\":\"42\","
    "\"creationTimestamp\":\"2024-05-01T10:00:00Z\",\"namespace\":null,"
    "\"managedFields\":[{\"manager\":\"x\",\"fieldsV1\":{\"f:spec\":{}}}],\"finalizers\":[\"a\"],"
    "\"labels\":{\"app\":\"db\",\"storage-tier\":\"cold\",\"app\":\"db2\"},"
    "\"annotations\":{\"pv.kubernetes.io/provisioned-by\":\"io.openebs.csi-mayastor\","
    "\"" CS_ANNOTATION_MIGRATION "\":\"{\\\"step\\\":\\\"Init\\\"}\","
    "\"" CS_ANNOTATION_LAST_MIGRATION "\":\"2024-05-01T10:00:00Z\","
    "\"" CS_ANNOTATION_RETRY_AFTER "\":\"not a time\","
    "\"" CS_ANNOTATION_FAILURES "\":\"3\"}},"
    "\"spec\":{\"capacity\":{\"storage\":\"10Gi\"},\"claimRef\":{\"name\":\"c\"},"
    "\"csi\":{\"driver\":\"io.openebs.csi-mayastor\",\"volumeHandle\":\"" UUID "\","
    "\"volumeAttributes\":{\"repl\":\"3\"}},\"storageClassName\":\"mayastor-cold\"},"
    "\"status\":{\"phase\":\"Bound\"}},"
    "{\"metadata\":{\"name\":\"pv-ebs\",\"labels\":{\"storage-tier\":\"hot\"}},"
    "\"spec\":{\"csi\":{\"driver\":\"ebs.csi.aws.com\",\"volumeHandle\":\"" UUID "\"},"
    "\"storageClassName\":\"mayastor-cold\"}},"
    "{\"metadata\":{\"name\":\"bare\"}}"
    "]}";

static void check(decoded_t *g)
{
    cr_assert_eq(g->n, 3);
    const cs_pv_t *a = pv_at(g, 0), *b = pv_at(g, 1), *c = pv_at(g, 2);
    cr_expect_str_eq(a->name, "pvc-" UUID);
    cr_expect_str_eq(a->uid, "u-1");
    cr_expect_str_eq(a->resource_version, "42");
    cr_expect_str_eq(a->storage_class, "mayastor-cold");
    cr_expect(a->mayastor);
    cr_expect(a->has_volume);
    char u[37];
    cr_expect_str_eq(cs_mayastor_uuid_format(&a->volume, u), UUID);
    cr_expect_eq(a->capacity, 10ull << 30);
    cr_assert_eq(a->labels.count, 2, "a repeated label key replaces the value");
    cr_expect_str_eq(cs_labels_get(&a->labels, "app"), "db2");
    cr_expect_str_eq(cs_labels_get(&a->labels, "storage-tier"), "cold");
    cr_expect_str_eq(a->journal, "{\"step\":\"Init\"}");
    cr_expect_eq(a->last_migration, 1714557600);
    cr_expect_eq(a->retry_after, 0, "an unreadable time is no time");
    cr_expect_eq(a->failures, 3);
    /* the strings of one PV are in its block */
    const char *lo = a->block, *hi = lo + 4096;
    cr_expect(a->name >= lo && a->name < hi && a->uid >= lo && a->uid < hi && a->journal >= lo && a->journal < hi);
    cr_expect(a->labels.items[0].value >= lo && a->labels.items[0].value < hi);

    cr_expect_str_eq(b->name, "pv-ebs");
    cr_expect_null(b->uid);
    cr_expect_null(b->resource_version);
    cr_expect_null(b->journal);
    cr_expect(!b->mayastor);
    cr_expect(!b->has_volume, "only a Mayastor PV has a Mayastor volume");
    cr_expect_eq(b->capacity, 0);
    /* StorageClass names and label keys are interned: one copy */
    cr_expect_eq(b->storage_class, a->storage_class);
    cr_expect_eq(cs_labels_get(&b->labels, "storage-tier"), cs_labels_get(&b->labels, "storage-tier"));
    cr_expect_eq(b->labels.items[0].key, a->labels.items[1].key);
    cr_expect_str_eq(b->labels.items[0].value, "hot");

    cr_expect_str_eq(c->name, "bare");
    cr_expect_null(c->storage_class);
    cr_expect_eq(c->labels.count, 0);
    cr_expect_null(c->labels.items);
}

Test(pv, projection_whole_and_byte_by_byte)
{
    size_t chunks[] = {1, 7, 100000};
    for (size_t i = 0; i < 3; i++) {
        decoded_t g = {0};
        cs_err_t err = {0};
        cr_assert_eq(decode_page(dec(), page, chunks[i], &g, &err), 0, "%s", err.msg);
        check(&g);
        decoded_release(dec(), &g);
    }
}

Test(pv, rejected_like_object_meta)
{
    struct {
        const char *item;
        int code;
        const char *msg;
    } cases[] = {
        {"{\"metadata\":{\"name\":5}}", CS_EPARSE, "metadata.name: expected a string"},
        {"{\"metadata\":{\"name\":{}}}", CS_EPARSE, "metadata.name: expected a string"},
        {"{\"metadata\":{\"name\":\"a\\u0000b\"}}", CS_EPARSE, "metadata.name: contains a NUL character"},
        {"{\"metadata\":{\"name\":\"a\",\"namespace\":[]}}", CS_EPARSE, "metadata.namespace: expected a string"},
        {"{\"metadata\":{\"name\":\"a\",\"generation\":\"x\"}}", CS_EPARSE, "metadata.generation: expected an integer"},
        {"{\"metadata\":{\"name\":\"a\",\"creationTimestamp\":\"yesterday\"}}", CS_EPARSE,
         "metadata.creationTimestamp"},
        {"{\"metadata\":{\"name\":\"a\",\"labels\":[]}}", CS_EPARSE, "metadata.labels: expected an object"},
        {"{\"metadata\":{\"name\":\"a\",\"labels\":{\"k\":1}}}", CS_EPARSE,
         "metadata.labels[\"k\"]: expected a string"},
        {"{\"metadata\":{\"name\":\"a\",\"labels\":{\"k\":{}}}}", CS_EPARSE,
         "metadata.labels[\"k\"]: expected a string"},
        {"{\"metadata\":{\"name\":\"a\",\"annotations\":{\"k\\u0000\":\"v\"}}}", CS_EPARSE,
         "metadata.annotations: contains a NUL character"},
        {"{\"metadata\":{\"labels\":{\"k\":\"v\"}},\"spec\":{}}", CS_EPARSE, "PersistentVolume without metadata.name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char doc[512];
        snprintf(doc, sizeof doc, "{\"items\":[{\"metadata\":{\"name\":\"ok\"}},%s]}", cases[i].item);
        decoded_t g = {0};
        cs_err_t err = {0};
        int rc = decode_page(dec(), doc, 3, &g, &err);
        cr_expect_eq(rc, cases[i].code, "%s: got %d (%s)", cases[i].item, rc, err.msg);
        cr_expect(strstr(err.msg, cases[i].msg) != NULL, "%s: \"%s\" lacks \"%s\"", cases[i].item, err.msg,
                  cases[i].msg);
        cr_expect_eq(g.n, 1, "the item before the bad one was delivered");
        decoded_release(dec(), &g);
    }
}

Test(pv, label_limit)
{
    size_t cap = 1100 * 24 + 256;
    char *doc = malloc(cap);
    size_t n = (size_t)snprintf(doc, cap, "{\"items\":[{\"metadata\":{\"name\":\"many\",\"labels\":{");
    for (int i = 0; i < 1025; i++)
        n += (size_t)snprintf(doc + n, cap - n, "%s\"k%d\":\"v%d\"", i ? "," : "", i, i);
    snprintf(doc + n, cap - n, "}}}]}");
    decoded_t g = {0};
    cs_err_t err = {0};
    cr_expect_eq(decode_page(dec(), doc, 4096, &g, &err), CS_ETOOBIG);
    cr_expect(strstr(err.msg, "metadata.labels: more than 1024 entries") != NULL, "%s", err.msg);
    /* 1024 labels are fine, and come back in order */
    char *last = strstr(doc, ",\"k1024\"");
    cr_assert_not_null(last);
    strcpy(last, "}}}]}");
    cr_expect_eq(decode_page(dec(), doc, 4096, &g, &err), 0, "%s", err.msg);
    cr_assert_eq(g.n, 1);
    cr_expect_eq(pv_at(&g, 0)->labels.count, 1024);
    cr_expect_str_eq(pv_at(&g, 0)->labels.items[1023].key, "k1023");
    cr_expect_str_eq(cs_labels_get(&pv_at(&g, 0)->labels, "k500"), "v500");
    decoded_release(dec(), &g);
    free(doc);
}

Test(pv, free_an_unfinished_pv)
{
    const cs_kube_decoder_t *d = dec();
    cs_pv_t *pv = d->create(d->ctx);
    cr_assert_not_null(pv);
    d->destroy(d->ctx, pv); /* nothing decoded: the scratch goes too (ASan checks) */
    cs_pv_free(NULL);
}

Test(pv, claim_ref)
{
    const char *doc =
        "{\"items\":["
        "{\"metadata\":{\"name\":\"pv-1\"},\"spec\":{\"claimRef\":{\"kind\":\"PersistentVolumeClaim\","
        "\"namespace\":\"shop\",\"name\":\"orders-db\",\"uid\":\"u\",\"apiVersion\":\"v1\"},\"storageClassName\":\"m\"}"
        "},"
        "{\"metadata\":{\"name\":\"pv-2\"},\"spec\":{\"claimRef\":{\"name\":\"other\",\"namespace\":\"shop\"}}},"
        "{\"metadata\":{\"name\":\"pv-3\"},\"spec\":{\"claimRef\":{\"name\":\"half\"}}},"
        "{\"metadata\":{\"name\":\"pv-4\"},\"spec\":{\"claimRef\":{\"name\":5,\"namespace\":{\"x\":1}}}},"
        "{\"metadata\":{\"name\":\"pv-5\"},\"spec\":{\"claimRef\":null}}"
        "]}";
    size_t chunks[] = {1, 5, 100000};
    for (size_t c = 0; c < 3; c++) {
        decoded_t g = {0};
        cs_err_t err = {0};
        cr_assert_eq(decode_page(dec(), doc, chunks[c], &g, &err), 0, "%s", err.msg);
        cr_assert_eq(g.n, 5);
        cr_expect_str_eq(pv_at(&g, 0)->claim_namespace, "shop");
        cr_expect_str_eq(pv_at(&g, 0)->claim_name, "orders-db");
        cr_expect_str_eq(pv_at(&g, 0)->storage_class, "m");
        cr_expect_str_eq(pv_at(&g, 1)->claim_name, "other");
        /* the namespace is interned: one copy for every PV of it */
        cr_expect_eq(pv_at(&g, 1)->claim_namespace, pv_at(&g, 0)->claim_namespace);
        /* the claim's name is in the PV's block */
        const char *lo = pv_at(&g, 0)->block, *hi = lo + 1024;
        cr_expect(pv_at(&g, 0)->claim_name >= lo && pv_at(&g, 0)->claim_name < hi);
        /* a claim is both names, else none */
        cr_expect_null(pv_at(&g, 2)->claim_namespace);
        cr_expect_null(pv_at(&g, 2)->claim_name);
        cr_expect_null(pv_at(&g, 3)->claim_namespace);
        cr_expect_null(pv_at(&g, 3)->claim_name);
        cr_expect_null(pv_at(&g, 4)->claim_name);
        decoded_release(dec(), &g);
    }
}
