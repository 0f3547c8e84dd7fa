/* Tests for the compact form of decoded volume lists: packed structs whose
 * enum bit-fields hold every value, shared inclusion label sets, lists
 * decoded without nexus children, and the items array given back its
 * growth slack when a list is complete. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/mayastor.h"

/* A page of n volumes; volume i has inclusion set `incl(i)` and one replica
 * that is also the nexus' one child. */
static char *page(size_t n, const char *(*incl)(size_t), size_t *len)
{
    size_t cap = 1024 + n * 1024, o = 0;
    char *b = malloc(cap);
    cr_assert_not_null(b);
    o += (size_t)snprintf(b + o, cap - o, "{\"entries\":[");
    for (size_t i = 0; i < n; i++) {
        o += (size_t)snprintf(
            b + o, cap - o,
            "%s{\"spec\":{\"uuid\":\"%08zx-0000-4000-8000-000000000001\",\"size\":%zu,\"num_replicas\":1,"
            "\"topology\":{\"pool_topology\":{\"labelled\":{\"inclusion\":{%s}}}}},"
            "\"state\":{\"status\":\"Online\",\"target\":{\"uuid\":\"%08zx-0000-4000-8000-000000000002\","
            "\"node\":\"n1\",\"state\":\"Online\",\"children\":[{\"uri\":\"nvmf://h/x?uuid=%08zx-0000-4000-8000-"
            "000000000003\",\"state\":\"Degraded\",\"rebuildProgress\":40}]},"
            "\"replica_topology\":{\"%08zx-0000-4000-8000-000000000003\":{\"node\":\"n1\",\"pool\":\"p1\","
            "\"state\":\"Online\",\"child-status\":\"Degraded\",\"rebuild-progress\":40}}}}",
            i ? "," : "", i, 1024 + i, incl(i), i, i, i);
        cr_assert_lt(o, cap);
    }
    o += (size_t)snprintf(b + o, cap - o, "]}");
    *len = o;
    return b;
}

static const char *two_sets(size_t i)
{
    return i % 3 == 2 ? "\"tier\":\"cold\",\"couchestor.io/placement\":\"\""
                      : "\"tier\":\"hot\",\"couchestor.io/placement\":\"\"";
}

static const char *no_set(size_t i)
{
    (void)i;
    return "";
}

Test(compact, structs_are_packed_and_hold_every_enum_value)
{
#if UINTPTR_MAX == UINT64_MAX
    cr_expect_leq(sizeof(cs_mayastor_volume_t), 104);
    cr_expect_leq(sizeof(cs_mayastor_replica_t), 40);
    cr_expect_leq(sizeof(cs_mayastor_child_t), 32);
#endif
    cs_mayastor_volume_t v;
    memset(&v, 0, sizeof v);
    v.operation = CS_MAYASTOR_OP_OTHER;
    v.spec_status = CS_MAYASTOR_SPEC_OTHER;
    v.target_protocol = CS_MAYASTOR_PROTOCOL_OTHER;
    v.status = CS_MAYASTOR_VOLUME_OTHER;
    v.replica_count = 1024;
    v.inclusion_count = 1024;
    v.has_target = v.thin = v.self_heal = true;
    v.num_replicas = 255;
    cr_expect_eq(v.operation, CS_MAYASTOR_OP_OTHER);
    cr_expect_eq(v.spec_status, CS_MAYASTOR_SPEC_OTHER);
    cr_expect_eq(v.target_protocol, CS_MAYASTOR_PROTOCOL_OTHER);
    cr_expect_eq(v.status, CS_MAYASTOR_VOLUME_OTHER);
    cr_expect_eq(v.replica_count, 1024);
    cr_expect_eq(v.inclusion_count, 1024);
    cr_expect(v.has_target && v.thin && v.self_heal);
    cr_expect_eq(v.num_replicas, 255);

    /* unknown texts decode to OTHER through the bit-fields */
    const char *body = "{\"spec\":{\"uuid\":\"11111111-1111-1111-1111-111111111111\",\"status\":\"Frozen\","
                       "\"operation\":{\"operation\":\"Teleport\"},\"target\":{\"protocol\":\"rdma\"}},"
                       "\"state\":{\"status\":\"Sleepy\",\"target\":{\"state\":\"Odd\",\"protocol\":\"tcp\"}}}";
    cs_mayastor_volumes_t vols;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_decode_volumes(body, strlen(body), false, true, &vols, NULL, &err), 0, "%s", err.msg);
    const cs_mayastor_volume_t *d = &vols.items[0];
    cr_expect_eq(d->spec_status, CS_MAYASTOR_SPEC_OTHER);
    cr_expect_eq(d->operation, CS_MAYASTOR_OP_OTHER);
    cr_expect_eq(d->target_protocol, CS_MAYASTOR_PROTOCOL_OTHER);
    cr_expect_eq(d->status, CS_MAYASTOR_VOLUME_OTHER);
    cr_expect_eq(d->target.state, CS_MAYASTOR_NEXUS_OTHER);
    cr_expect_eq(d->target.protocol, CS_MAYASTOR_PROTOCOL_OTHER);
    cs_mayastor_volumes_free(&vols);
}

Test(compact, equal_inclusion_sets_are_stored_once)
{
    size_t len;
    char *body = page(30, two_sets, &len);
    cs_mayastor_volumes_t vols;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_decode_volumes(body, len, true, false, &vols, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(vols.count, 30);
    const cs_mayastor_label_t *hot = vols.items[0].inclusion, *cold = vols.items[2].inclusion;
    cr_assert_neq(hot, cold);
    for (size_t i = 0; i < vols.count; i++) {
        const cs_mayastor_volume_t *v = &vols.items[i];
        cr_assert_eq(v->inclusion_count, 2);
        cr_expect_eq(v->inclusion, i % 3 == 2 ? cold : hot, "volume %zu shares its set", i);
        cr_expect_str_eq(v->inclusion[0].key, "tier");
        cr_expect_str_eq(v->inclusion[0].value, i % 3 == 2 ? "cold" : "hot");
        cr_expect_str_eq(v->inclusion[1].key, "couchestor.io/placement");
        cr_expect_str_eq(v->inclusion[1].value, "");
    }
    cs_mayastor_volumes_free(&vols);
    free(body);

    /* no set: no labels, no pointer */
    body = page(3, no_set, &len);
    cr_assert_eq(cs_mayastor_decode_volumes(body, len, true, false, &vols, NULL, &err), 0, "%s", err.msg);
    cr_expect_eq(vols.items[1].inclusion_count, 0);
    cr_expect_null(vols.items[1].inclusion);
    cs_mayastor_volumes_free(&vols);
    free(body);
}

Test(compact, sets_are_shared_across_pages_of_one_list)
{
    size_t len;
    char *body = page(4, two_sets, &len);
    cs_mayastor_volumes_t vols = {0};
    for (int p = 0; p < 2; p++) {
        cs_mayastor_volume_decoder_t *d = NULL;
        cs_err_t err = {0};
        cr_assert_eq(cs_mayastor_volume_decoder_new_flags(&vols, true, 0, 0, &d), 0);
        cr_assert_eq(cs_mayastor_volume_decoder_feed(d, body, len, &err), 0, "%s", err.msg);
        cr_assert_eq(cs_mayastor_volume_decoder_finish(d, NULL, &err), 0, "%s", err.msg);
        cs_mayastor_volume_decoder_free(d);
    }
    cr_assert_eq(vols.count, 8);
    cr_expect_eq(vols.items[4].inclusion, vols.items[0].inclusion, "the second page reuses the first's set");
    cr_expect_eq(vols.items[6].inclusion, vols.items[2].inclusion);
    cs_mayastor_volumes_free(&vols);
    free(body);
}

Test(compact, a_list_without_children_keeps_the_nexus_and_replica_status)
{
    size_t len;
    char *body = page(5, no_set, &len);
    cs_mayastor_volumes_t vols = {0};
    cs_mayastor_volume_decoder_t *d = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_volume_decoder_new_flags(&vols, true, 0, 0, &d), 0);
    cr_assert_eq(cs_mayastor_volume_decoder_feed(d, body, len, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_mayastor_volume_decoder_finish(d, NULL, &err), 0, "%s", err.msg);
    cs_mayastor_volume_decoder_free(d);
    cr_assert_eq(vols.count, 5);
    const cs_mayastor_volume_t *v = &vols.items[3];
    char s[37];
    cr_assert(v->has_target);
    cr_expect_str_eq(cs_mayastor_uuid_format(&v->target.uuid, s), "00000003-0000-4000-8000-000000000002");
    cr_expect_str_eq(v->target.node, "n1");
    cr_expect_eq(v->target.state, CS_MAYASTOR_NEXUS_ONLINE);
    cr_expect_eq(v->target.child_count, 0);
    cr_expect_null(v->target.children);
    cr_assert_eq(v->replica_count, 1);
    cr_expect_eq(v->replicas[0].child_status, CS_MAYASTOR_CHILD_DEGRADED);
    cr_expect_eq(v->replicas[0].rebuild_progress, 40);
    size_t small = cs_mayastor_volumes_memory(&vols);
    cs_mayastor_volumes_free(&vols);

    /* with children (and URIs, which imply them) */
    const unsigned modes[] = {CS_MAYASTOR_DECODE_CHILDREN, CS_MAYASTOR_DECODE_CHILD_URIS};
    for (size_t m = 0; m < 2; m++) {
        cr_assert_eq(cs_mayastor_volume_decoder_new_flags(&vols, true, modes[m], 0, &d), 0);
        cr_assert_eq(cs_mayastor_volume_decoder_feed(d, body, len, &err), 0, "%s", err.msg);
        cr_assert_eq(cs_mayastor_volume_decoder_finish(d, NULL, &err), 0, "%s", err.msg);
        cs_mayastor_volume_decoder_free(d);
        v = &vols.items[3];
        cr_assert_eq(v->target.child_count, 1);
        cr_expect_eq(v->target.children[0].state, CS_MAYASTOR_CHILD_DEGRADED);
        cr_expect_eq(v->target.children[0].rebuild_progress, 40);
        cr_expect_str_eq(cs_mayastor_uuid_format(&v->target.children[0].replica, s),
                         "00000003-0000-4000-8000-000000000003");
        if (m == 0)
            cr_expect_null(v->target.children[0].uri);
        else
            cr_expect_str_eq(v->target.children[0].uri, "nvmf://h/x?uuid=00000003-0000-4000-8000-000000000003");
        cs_mayastor_volumes_free(&vols);
    }
    free(body);
    cr_expect_gt(small, 0);

    /* children that are not an array are still an error; their contents
     * are only checked when kept */
    const char *bad = "{\"entries\":[{\"spec\":{\"uuid\":\"11111111-1111-1111-1111-111111111111\"},"
                      "\"state\":{\"target\":{\"children\":{}}}}]}";
    cr_assert_eq(cs_mayastor_volume_decoder_new_flags(&vols, true, 0, 0, &d), 0);
    int rc = cs_mayastor_volume_decoder_feed(d, bad, strlen(bad), &err);
    if (rc == 0)
        rc = cs_mayastor_volume_decoder_finish(d, NULL, &err);
    cr_expect_eq(rc, CS_EPARSE);
    cr_expect(strstr(err.msg, "state.target.children") != NULL, "%s", err.msg);
    cs_mayastor_volume_decoder_free(d);
    cs_mayastor_volumes_free(&vols);
    const char *odd = "{\"entries\":[{\"spec\":{\"uuid\":\"11111111-1111-1111-1111-111111111111\"},"
                      "\"state\":{\"target\":{\"children\":[{\"rebuildProgress\":500}]}}}]}";
    cr_assert_eq(cs_mayastor_volume_decoder_new_flags(&vols, true, 0, 0, &d), 0);
    err = (cs_err_t){0};
    cr_expect_eq(cs_mayastor_volume_decoder_feed(d, odd, strlen(odd), &err), 0, "%s", err.msg);
    cr_expect_eq(cs_mayastor_volume_decoder_finish(d, NULL, &err), 0, "%s", err.msg);
    cs_mayastor_volume_decoder_free(d);
    cs_mayastor_volumes_free(&vols);
}

Test(compact, a_complete_list_gives_back_its_slack_and_finds_every_volume)
{
    size_t len;
    char *body = page(1000, two_sets, &len);
    cs_mayastor_volumes_t vols;
    cs_err_t err = {0};
    cr_assert_eq(cs_mayastor_decode_volumes(body, len, true, false, &vols, NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(vols.count, 1000);
    cr_expect_eq(vols.cap, vols.count, "shrunk to fit");
    for (size_t i = 0; i < vols.count; i++)
        cr_assert_eq(cs_mayastor_volumes_find(&vols, &vols.items[i].uuid), &vols.items[i]);
    cs_mayastor_uuid_t absent;
    cs_mayastor_uuid_parse("ffffffff-0000-4000-8000-000000000001", 36, &absent);
    cr_expect_null(cs_mayastor_volumes_find(&vols, &absent));
    /* items + per volume one replica and one child, a 2048-slot index and
     * the arena's chunks: well under 200 bytes a volume */
    size_t mem = cs_mayastor_volumes_memory(&vols);
    cr_expect_geq(mem, vols.count * (sizeof(cs_mayastor_volume_t) + sizeof(cs_mayastor_replica_t)));
    cr_expect_lt(mem / vols.count, 260, "%zu bytes a volume", mem / vols.count);
    cs_mayastor_volumes_free(&vols);
    free(body);
}
