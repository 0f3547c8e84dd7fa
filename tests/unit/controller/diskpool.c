/* Tests for the compact DiskPool projection (cs_diskpool_decoder): name,
 * namespace, metadata.labels and spec.topology.labelled (where Mayastor's
 * documentation puts a pool's labels), and what it refuses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"
#include "decode_page.h"

static const cs_kube_decoder_t *dec(void)
{
    static cs_kube_decoder_t d;
    d = cs_diskpool_decoder();
    return &d;
}

static cs_diskpool_ref_t *dp_at(const decoded_t *g, size_t i)
{
    return g->obj[i];
}

static const char *page =
    "{\"kind\":\"DiskPoolList\",\"apiVersion\":\"openebs.io/v1beta2\",\"metadata\":{\"resourceVersion\":\"9\"},"
    "\"items\":["
    "{\"metadata\":{\"name\":\"pool-hot-1\",\"namespace\":\"mayastor\",\"labels\":{\"media-type\":\"nvme\"}},"
    "\"spec\":{\"node\":\"node-1\",\"disks\":[\"/dev/nvme0n1\"],\"topology\":{\"labelled\":"
    "{\"storage-tier\":\"hot\",\"couchestor.io/placement\":\"eligible\"},\"other\":{\"x\":[1,{\"y\":2}]}}},"
    "\"status\":{\"cr_state\":\"Created\",\"pool_status\":\"Online\",\"capacity\":10}},"
    "{\"metadata\":{\"name\":\"pool-cold-1\",\"namespace\":\"mayastor\"},"
    "\"spec\":{\"node\":\"node-1\",\"disks\":[\"/dev/sdb\"],\"topology\":{\"labelled\":null}}},"
    "{\"metadata\":{\"name\":\"pool-v1beta1\",\"labels\":{\"storage-tier\":\"warm\"}},"
    "\"spec\":{\"node\":\"node-2\",\"disks\":[\"/dev/sdc\"]}}"
    "]}";

static void check(decoded_t *g)
{
    cr_assert_eq(g->n, 3);
    const cs_diskpool_ref_t *a = dp_at(g, 0), *b = dp_at(g, 1), *c = dp_at(g, 2);
    cr_assert_str_eq(a->name, "pool-hot-1");
    cr_assert_str_eq(a->namespace_, "mayastor");
    cr_assert_eq(a->labels.count, 1);
    cr_assert_str_eq(cs_labels_get(&a->labels, "media-type"), "nvme");
    cr_assert_eq(a->topology.count, 2);
    cr_assert_str_eq(cs_labels_get(&a->topology, "storage-tier"), "hot");
    cr_assert_str_eq(cs_labels_get(&a->topology, "couchestor.io/placement"), "eligible");
    cr_assert_null(cs_labels_get(&a->topology, "x"));
    cr_assert_str_eq(b->name, "pool-cold-1");
    cr_assert_eq(b->labels.count, 0);
    cr_assert_eq(b->topology.count, 0);
    cr_assert_str_eq(c->name, "pool-v1beta1");
    cr_assert_str_eq(cs_labels_get(&c->labels, "storage-tier"), "warm");
    cr_assert_eq(c->topology.count, 0);
}

Test(diskpool, topology_labelled_whole_and_byte_by_byte)
{
    size_t chunks[] = {1 << 20, 1, 7};
    for (size_t i = 0; i < sizeof chunks / sizeof *chunks; i++) {
        decoded_t g = {0};
        cs_err_t err = {0};
        cr_assert_eq(decode_page(dec(), page, chunks[i], &g, &err), 0, "chunk %zu: %s", chunks[i], err.msg);
        check(&g);
        decoded_release(dec(), &g);
    }
}

static void refused(const char *item, int code, const char *msg_part)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"items\":[%s]}", item);
    decoded_t g = {0};
    cs_err_t err = {0};
    cr_assert_eq(decode_page(dec(), buf, 1 << 20, &g, &err), code, "%s: %s", item, err.msg);
    cr_assert(strstr(err.msg, msg_part), "%s: '%s' lacks '%s'", item, err.msg, msg_part);
    cr_assert_eq(g.n, 0);
}

Test(diskpool, topology_labelled_shape_is_checked)
{
    refused("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":{\"labelled\":[\"a\"]}}}", CS_EPARSE,
            "spec.topology.labelled: expected an object");
    refused("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":{\"labelled\":\"hot\"}}}", CS_EPARSE,
            "spec.topology.labelled: expected an object");
    refused("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":{\"labelled\":{\"storage-tier\":1}}}}", CS_EPARSE,
            "spec.topology.labelled: expected string values");
    refused("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":{\"labelled\":{\"k\":{\"v\":\"x\"}}}}}", CS_EPARSE,
            "spec.topology.labelled: expected string values");
    refused("{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":{\"labelled\":{\"k\":\"a\\u0000b\"}}}}", CS_EPARSE,
            "spec.topology.labelled: contains a NUL character");
}

Test(diskpool, topology_labelled_entry_limit)
{
    /* 1024 entries are kept, the 1025th refuses the object */
    for (int extra = 0; extra < 2; extra++) {
        size_t n = 1024 + (size_t)extra, cap = 64 + n * 24;
        char *buf = malloc(cap);
        cr_assert_not_null(buf);
        size_t at = (size_t)snprintf(buf, cap,
                                     "{\"items\":[{\"metadata\":{\"name\":\"p\"},\"spec\":{\"topology\":"
                                     "{\"labelled\":{");
        for (size_t i = 0; i < n; i++)
            at += (size_t)snprintf(buf + at, cap - at, "%s\"k%zu\":\"v\"", i ? "," : "", i);
        snprintf(buf + at, cap - at, "}}}}]}");
        decoded_t g = {0};
        cs_err_t err = {0};
        int rc = decode_page(dec(), buf, 1 << 20, &g, &err);
        if (extra) {
            cr_assert_eq(rc, CS_ETOOBIG, "%s", err.msg);
            cr_assert(strstr(err.msg, "spec.topology.labelled: more than 1024 entries"), "%s", err.msg);
        } else {
            cr_assert_eq(rc, 0, "%s", err.msg);
            cr_assert_eq(dp_at(&g, 0)->topology.count, 1024);
            cr_assert_str_eq(cs_labels_get(&dp_at(&g, 0)->topology, "k1023"), "v");
        }
        decoded_release(dec(), &g);
        free(buf);
    }
}
