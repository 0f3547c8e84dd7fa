/* Tests for a pool's labels from three places (cs_pool_labels_merge): each
 * source alone, the precedence metadata.labels > REST > spec.topology.labelled,
 * the disagreements it reports, and how cs_plan_facts_build turns them into
 * the plan's pool labels and the note of the PoolLabelsConsistent condition. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "couchestor/controller.h"
#include "policy_fixture.h"

static cs_labels_t set_of(const char *k1, const char *v1, const char *k2, const char *v2)
{
    cs_labels_t l = {0};
    if (k1)
        cr_assert_eq(cs_labels_set(&l, k1, v1), 0);
    if (k2)
        cr_assert_eq(cs_labels_set(&l, k2, v2), 0);
    return l;
}

static cs_mayastor_pool_t rest_pool(const char *id, cs_mayastor_label_t *labels, uint16_t n)
{
    return (cs_mayastor_pool_t){.id = id,
                                .node = "node-1",
                                .has_spec = true,
                                .has_state = true,
                                .label_count = n,
                                .labels = labels,
                                .status = CS_MAYASTOR_STATE_ONLINE,
                                .capacity = 100u << 30};
}

Test(pool_labels, metadata_alone)
{
    cs_labels_t meta = set_of("storage-tier", "hot", "media-type", "nvme");
    cs_labels_t out = {0}, why = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&meta, NULL, NULL}, &out, &why), 0);
    cr_assert_eq(out.count, 2);
    cr_assert_str_eq(cs_labels_get(&out, "storage-tier"), "hot");
    cr_assert_str_eq(cs_labels_get(&out, "media-type"), "nvme");
    cr_assert_eq(why.count, 0);
    cs_labels_free(&out);
    cs_labels_free(&meta);
}

Test(pool_labels, topology_alone)
{
    cs_labels_t topo = set_of("storage-tier", "warm", NULL, NULL);
    cs_labels_t empty = {0}, out = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&empty, &topo, NULL}, &out, NULL), 0);
    cr_assert_eq(out.count, 1);
    cr_assert_str_eq(cs_labels_get(&out, "storage-tier"), "warm");
    cs_labels_free(&out);
    cs_labels_free(&topo);
}

Test(pool_labels, rest_alone)
{
    cs_mayastor_label_t rl[] = {{"openebs.io/created-by", "operator-diskpool"}, {"storage-tier", "cold"}};
    cs_mayastor_pool_t mp = rest_pool("pool-1", rl, 2);
    cs_labels_t empty = {0}, out = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&empty, &empty, &mp}, &out, NULL), 0);
    cr_assert_eq(out.count, 2);
    cr_assert_str_eq(cs_labels_get(&out, "storage-tier"), "cold");
    cr_assert_str_eq(cs_labels_get(&out, "openebs.io/created-by"), "operator-diskpool");
    cs_labels_free(&out);
}

Test(pool_labels, no_source)
{
    cs_labels_t out = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){NULL, NULL, NULL}, &out, NULL), 0);
    cr_assert_eq(out.count, 0);
}

Test(pool_labels, union_of_different_keys_is_no_disagreement)
{
    cs_labels_t meta = set_of("media-type", "nvme", NULL, NULL);
    cs_labels_t topo = set_of("storage-tier", "hot", "media-type", "nvme");
    cs_mayastor_label_t rl[] = {{"couchestor.io/placement", "eligible"}};
    cs_mayastor_pool_t mp = rest_pool("pool-1", rl, 1);
    cs_labels_t out = {0}, why = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&meta, &topo, &mp}, &out, &why), 0);
    cr_assert_eq(out.count, 3);
    cr_assert_str_eq(cs_labels_get(&out, "storage-tier"), "hot");
    cr_assert_str_eq(cs_labels_get(&out, "media-type"), "nvme");
    cr_assert_str_eq(cs_labels_get(&out, "couchestor.io/placement"), "eligible");
    cr_assert_eq(why.count, 0);
    cs_labels_free(&out);
    cs_labels_free(&meta);
    cs_labels_free(&topo);
}

Test(pool_labels, metadata_wins_then_rest_then_topology)
{
    cs_labels_t meta = set_of("storage-tier", "cold", NULL, NULL);
    cs_labels_t topo = set_of("storage-tier", "warm", "media-type", "ssd");
    cs_mayastor_label_t rl[] = {{"storage-tier", "hot"}, {"media-type", "nvme"}};
    cs_mayastor_pool_t mp = rest_pool("pool-1", rl, 2);
    cs_labels_t out = {0}, why = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&meta, &topo, &mp}, &out, &why), 2);
    cr_assert_str_eq(cs_labels_get(&out, "storage-tier"), "cold");
    cr_assert_str_eq(cs_labels_get(&out, "media-type"), "nvme"); /* REST over topology */
    cr_assert_eq(why.count, 2);
    cr_assert_str_eq(cs_labels_get(&why, "storage-tier"),
                     "metadata.labels \"cold\", REST \"hot\", spec.topology.labelled \"warm\"");
    cr_assert_str_eq(cs_labels_get(&why, "media-type"), "REST \"nvme\", spec.topology.labelled \"ssd\"");
    cs_labels_free(&out);
    cs_labels_free(&why);
    cs_labels_free(&meta);
    cs_labels_free(&topo);
}

Test(pool_labels, same_value_everywhere_agrees)
{
    cs_labels_t meta = set_of("storage-tier", "hot", NULL, NULL);
    cs_labels_t topo = set_of("storage-tier", "hot", NULL, NULL);
    cs_mayastor_label_t rl[] = {{"storage-tier", "hot"}};
    cs_mayastor_pool_t mp = rest_pool("pool-1", rl, 1);
    cs_labels_t out = {0}, why = {0};
    cr_assert_eq(cs_pool_labels_merge(&(cs_pool_label_sources_t){&meta, &topo, &mp}, &out, &why), 0);
    cr_assert_eq(out.count, 1);
    cr_assert_eq(why.count, 0);
    cs_labels_free(&out);
    cs_labels_free(&meta);
    cs_labels_free(&topo);
}

/* ---- through cs_plan_facts_build ---- */

static cs_storage_policy_t policy(bool warm)
{
    const char *text = warm ? "{\"metadata\":{\"name\":\"p\"},\"spec\":{"
                              "\"hotPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"hot\"}},"
                              "\"warmPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"warm\"}},"
                              "\"coldPoolSelector\":{\"matchExpressions\":[{\"key\":\"storage-tier\","
                              "\"operator\":\"In\",\"values\":[\"cold\"]}]}}}"
                            : "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"warmWatermarkIOPS\":0,"
                              "\"hotPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"hot\"}},"
                              "\"coldPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"cold\"}}}}";
    return policy_from_text(text);
}

Test(pool_labels, facts_use_the_merge_and_note_selector_keys_only)
{
    /* pool-a: tier only in spec.topology.labelled; pool-b: only in REST;
     * pool-c: metadata says cold, REST says hot (a selector key) and the
     * placement key differs (not a selector key); pool-d: no DiskPool */
    cs_diskpool_ref_t a = {.name = "pool-a"}, c = {.name = "pool-c"}, b = {.name = "pool-b"};
    cr_assert_eq(cs_labels_set(&a.topology, "storage-tier", "hot"), 0);
    cr_assert_eq(cs_labels_set(&b.labels, "media-type", "nvme"), 0);
    cr_assert_eq(cs_labels_set(&c.labels, "storage-tier", "cold"), 0);
    cr_assert_eq(cs_labels_set(&c.topology, "couchestor.io/placement", "eligible"), 0);
    cs_mayastor_label_t lb[] = {{"storage-tier", "warm"}};
    cs_mayastor_label_t lc[] = {{"storage-tier", "hot"}, {"couchestor.io/placement", "steered"}};
    cs_mayastor_label_t ld[] = {{"storage-tier", "cold"}};
    cs_mayastor_pool_t items[] = {rest_pool("pool-a", NULL, 0), rest_pool("pool-b", lb, 1), rest_pool("pool-c", lc, 2),
                                  rest_pool("pool-d", ld, 1)};
    cs_mayastor_pools_t pools = {.count = 4, .items = items};
    const cs_diskpool_ref_t *dps[] = {&a, &b, &c};
    cs_cluster_view_t view = {.diskpool_count = 3, .diskpools = dps, .pools = &pools};
    cs_storage_policy_t p = policy(true);
    cs_plan_facts_t f;
    cs_err_t err = {0};
    cr_assert_eq(cs_plan_facts_build(&view, "p", &p.spec, 0, &f, &err), 0, "%s", err.msg);
    cr_assert_eq(f.in.pool_count, 4);
    cr_assert_eq(cs_plan_pool_tier(&p.spec, f.in.pools[0].labels), CS_TIER_HOT);
    cr_assert_eq(cs_plan_pool_tier(&p.spec, f.in.pools[1].labels), CS_TIER_WARM);
    cr_assert_str_eq(cs_labels_get(f.in.pools[1].labels, "media-type"), "nvme");
    cr_assert_eq(cs_plan_pool_tier(&p.spec, f.in.pools[2].labels), CS_TIER_COLD);
    cr_assert_str_eq(cs_labels_get(f.in.pools[2].labels, "couchestor.io/placement"), "steered");
    cr_assert_eq(cs_plan_pool_tier(&p.spec, f.in.pools[3].labels), CS_TIER_COLD);
    cr_assert_eq(f.label_disagreements, 1);
    cr_assert_str_eq(f.label_note, "pool 'pool-c': storage-tier (metadata.labels \"cold\", REST \"hot\")");
    cs_plan_facts_free(&f);
    cs_storage_policy_free(&p);
    cs_labels_free(&a.topology);
    cs_labels_free(&b.labels);
    cs_labels_free(&c.labels);
    cs_labels_free(&c.topology);
}

Test(pool_labels, facts_note_is_bounded)
{
    enum {
        N = 40
    };
    cs_diskpool_ref_t d[N];
    const cs_diskpool_ref_t *dps[N];
    cs_mayastor_pool_t items[N];
    cs_mayastor_label_t rl[] = {{"storage-tier", "hot"}};
    char names[N][32];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "pool-%02d", i);
        d[i] = (cs_diskpool_ref_t){.name = names[i]};
        cr_assert_eq(cs_labels_set(&d[i].labels, "storage-tier", "cold"), 0);
        dps[i] = &d[i];
        items[i] = rest_pool(names[i], rl, 1);
    }
    cs_mayastor_pools_t pools = {.count = N, .items = items};
    cs_cluster_view_t view = {.diskpool_count = N, .diskpools = dps, .pools = &pools};
    cs_storage_policy_t p = policy(false);
    cs_plan_facts_t f;
    cr_assert_eq(cs_plan_facts_build(&view, "p", &p.spec, 0, &f, NULL), 0);
    cr_assert_eq(f.label_disagreements, N);
    size_t len = strlen(f.label_note);
    cr_assert_lt(len, CS_POOL_LABELS_NOTE_MAX);
    cr_assert_geq(len, CS_POOL_LABELS_NOTE_MAX - 80);
    cr_assert_str_eq(f.label_note + len - 3, "...");
    const char *first = "pool 'pool-00': storage-tier (metadata.labels \"cold\", REST \"hot\"); pool 'pool-01': ";
    cr_assert_eq(strncmp(f.label_note, first, strlen(first)), 0, "%s", f.label_note);
    cs_plan_facts_free(&f);
    cs_storage_policy_free(&p);
    for (int i = 0; i < N; i++)
        cs_labels_free(&d[i].labels);
}

Test(pool_labels, agreeing_sources_leave_no_note)
{
    cs_diskpool_ref_t a = {.name = "pool-a"};
    cr_assert_eq(cs_labels_set(&a.labels, "storage-tier", "hot"), 0);
    cr_assert_eq(cs_labels_set(&a.topology, "storage-tier", "hot"), 0);
    cs_mayastor_label_t rl[] = {{"storage-tier", "hot"}, {"couchestor.io/placement", "steered"}};
    cs_mayastor_pool_t items[] = {rest_pool("pool-a", rl, 2)};
    cs_mayastor_pools_t pools = {.count = 1, .items = items};
    const cs_diskpool_ref_t *dps[] = {&a};
    cs_cluster_view_t view = {.diskpool_count = 1, .diskpools = dps, .pools = &pools};
    cs_storage_policy_t p = policy(false);
    cs_plan_facts_t f;
    cr_assert_eq(cs_plan_facts_build(&view, "p", &p.spec, 0, &f, NULL), 0);
    cr_assert_eq(f.label_disagreements, 0);
    cr_assert_str_eq(f.label_note, "");
    cs_plan_facts_free(&f);
    cs_storage_policy_free(&p);
    cs_labels_free(&a.labels);
    cs_labels_free(&a.topology);
}
