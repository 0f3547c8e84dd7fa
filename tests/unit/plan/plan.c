/* Tests for the tiering decision: every reason, the limits, the ordering,
 * pool choice, and the defects of the original operator. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/duration.h"
#include "couchestor/plan.h"

#define GiB (UINT64_C(1) << 30)
#define NOW INT64_C(1800000000)

static cs_storage_policy_spec_t spec;
static cs_labels_t pool_labels[9];
static cs_plan_pool_t pools[9];
static size_t npools;

static cs_selector_t *sel(const char *text)
{
    cs_selector_t *s = calloc(1, sizeof *s);
    cr_assert_eq(cs_selector_parse(text, s, NULL), 0);
    return s;
}

static void add_pool(const char *id, const char *node, const char *tier, bool online, uint64_t cap, uint64_t used)
{
    cs_labels_t *l = &pool_labels[npools];
    memset(l, 0, sizeof *l);
    if (tier)
        cs_labels_set(l, "storage-tier", tier);
    pools[npools] =
        (cs_plan_pool_t){.id = id, .node = node, .labels = l, .online = online, .capacity = cap, .used = used};
    npools++;
}

/* Three tiers, three nodes each with a hot, warm and cold pool. */
static void setup(void)
{
    cr_assert_eq(cs_storage_policy_spec_init(&spec, NULL), 0);
    spec.hot_pool_selector = sel("storage-tier=hot");
    spec.warm_pool_selector = sel("storage-tier=warm");
    spec.cold_pool_selector = sel("storage-tier=cold");
    npools = 0;
    const char *nodes[] = {"n1", "n2", "n3"};
    static char ids[9][16];
    for (int n = 0; n < 3; n++) {
        const char *tiers[] = {"hot", "warm", "cold"};
        for (int t = 0; t < 3; t++) {
            snprintf(ids[n * 3 + t], sizeof ids[0], "%s-%s", tiers[t], nodes[n]);
            add_pool(ids[n * 3 + t], nodes[n], tiers[t], true, 100 * GiB, 10 * GiB);
        }
    }
}

static void teardown(void)
{
    cs_storage_policy_spec_free(&spec);
    for (size_t i = 0; i < npools; i++)
        cs_labels_free(&pool_labels[i]);
}

TestSuite(plan, .init = setup, .fini = teardown);

static cs_plan_replica_t one_replica(const char *pool, const char *node)
{
    return (cs_plan_replica_t){.pool = pool, .node = node, .online = true};
}

/* A published, Online volume of class mayastor with one replica. */
static cs_plan_volume_t vol(const char *name, const cs_plan_replica_t *r, size_t nr, double iops)
{
    return (cs_plan_volume_t){.name = name,
                              .storage_class = "mayastor",
                              .size = 10 * GiB,
                              .found = true,
                              .published = true,
                              .online = true,
                              .replica_count = nr,
                              .replicas = r,
                              .iops_known = true,
                              .iops = iops};
}

static cs_plan_input_t input(const cs_plan_volume_t *v, size_t nv)
{
    return (cs_plan_input_t){.policy_name = "p",
                             .spec = &spec,
                             .global_slots = 100,
                             .now = NOW,
                             .volume_count = nv,
                             .volumes = v,
                             .pool_count = npools,
                             .pools = pools};
}

static cs_plan_item_t single(const cs_plan_volume_t *v)
{
    cs_plan_input_t in = input(v, 1);
    cs_plan_t plan;
    cs_err_t err = {0};
    cr_assert_eq(cs_plan_compute(&in, &plan, &err), 0, "%s", err.msg);
    cr_assert_eq(plan.count, 1);
    cs_plan_item_t it = plan.items[0];
    cs_plan_free(&plan);
    return it;
}

/* The detail line of an item single(v) returned, as people see it. */
static const char *detail_of(const cs_plan_volume_t *v, const cs_plan_item_t *it)
{
    static char buf[CS_PLAN_DETAIL_MAX];
    cs_plan_input_t in = input(v, 1);
    return cs_plan_item_detail(&in, it, buf, sizeof buf);
}

static const char *item_detail(const cs_plan_input_t *in, const cs_plan_t *plan, size_t i)
{
    static char buf[CS_PLAN_DETAIL_MAX];
    return cs_plan_item_detail(in, &plan->items[i], buf, sizeof buf);
}

Test(plan, watermarks_decide_the_wanted_tier)
{
    cr_expect_eq(cs_plan_wanted_tier(&spec, 5000), CS_TIER_HOT, "high watermark is inclusive");
    cr_expect_eq(cs_plan_wanted_tier(&spec, 4999.9), CS_TIER_UNKNOWN, "between warm and high: band");
    cr_expect_eq(cs_plan_wanted_tier(&spec, 2000), CS_TIER_WARM, "warm watermark is inclusive");
    cr_expect_eq(cs_plan_wanted_tier(&spec, 500.1), CS_TIER_WARM);
    cr_expect_eq(cs_plan_wanted_tier(&spec, 500), CS_TIER_COLD, "low watermark is inclusive");
    cr_expect_eq(cs_plan_wanted_tier(&spec, 0), CS_TIER_COLD);
    spec.warm_watermark_iops = 0; /* two tiers */
    cr_expect_eq(cs_plan_wanted_tier(&spec, 1000), CS_TIER_UNKNOWN, "without warm, low..high is the band");
    cr_expect_eq(cs_plan_wanted_tier(&spec, 5000), CS_TIER_HOT);
    cr_expect_eq(cs_plan_wanted_tier(&spec, 10), CS_TIER_COLD);
}

Test(plan, pool_tiers_from_selectors)
{
    cr_expect_eq(cs_plan_pool_tier(&spec, &pool_labels[0]), CS_TIER_HOT);
    cr_expect_eq(cs_plan_pool_tier(&spec, &pool_labels[1]), CS_TIER_WARM);
    cr_expect_eq(cs_plan_pool_tier(&spec, &pool_labels[2]), CS_TIER_COLD);
    cs_labels_t none = {0};
    cr_expect_eq(cs_plan_pool_tier(&spec, &none), CS_TIER_UNKNOWN);
    spec.warm_watermark_iops = 0;
    cr_expect_eq(cs_plan_pool_tier(&spec, &pool_labels[1]), CS_TIER_UNKNOWN,
                 "warm pools do not count when warm is off");
}

Test(plan, promote_cold_volume_to_hot)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 7200);
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_eq(it.reason, CS_PLAN_REASON_PROMOTE);
    cr_expect_eq(it.current, CS_TIER_COLD);
    cr_expect_eq(it.wanted, CS_TIER_HOT);
    cr_expect_str_eq(pools[it.source_pool].id, "cold-n1");
    cr_expect_str_neq(pools[it.target_pool].node, "n1", "never on a node that holds a replica");
    cr_expect_str_eq(pools[it.target_pool].id, "hot-n2", "most free space, then id");
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 7200.0 >= highWatermarkIOPS 5000: cold -> hot (pool cold-n1 -> hot-n2)");
}

Test(plan, demote_hot_volume_to_cold_and_warm)
{
    cs_plan_replica_t r = one_replica("hot-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 100);
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_eq(it.reason, CS_PLAN_REASON_DEMOTE);
    cr_expect_eq(it.wanted, CS_TIER_COLD);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 100.0 <= lowWatermarkIOPS 500: hot -> cold (pool hot-n1 -> cold-n2)");
    v.iops = 1200;
    it = single(&v);
    cr_expect_eq(it.wanted, CS_TIER_WARM);
    cr_expect_eq(it.reason, CS_PLAN_REASON_DEMOTE);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 1200.0 <= warmWatermarkIOPS 2000: hot -> warm (pool hot-n1 -> warm-n2)");
    cs_plan_replica_t rc = one_replica("cold-n1", "n1");
    cs_plan_volume_t vc = vol("pvc-c", &rc, 1, 1200);
    it = single(&vc);
    cr_expect_eq(it.reason, CS_PLAN_REASON_PROMOTE);
    cr_expect_str_eq(detail_of(&vc, &it), "IOPS 1200.0 > lowWatermarkIOPS 500: cold -> warm (pool cold-n1 -> warm-n2)");
}

Test(plan, stays_in_place_and_in_band)
{
    cs_plan_replica_t r = one_replica("hot-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_STAY);
    cr_expect_eq(it.reason, CS_PLAN_REASON_IN_PLACE);
    v.iops = 3000; /* between warm and high: stays, wherever it is */
    it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_STAY);
    cr_expect_eq(it.reason, CS_PLAN_REASON_IN_BAND);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 3000.0 is between warmWatermarkIOPS 2000 and highWatermarkIOPS 5000");
}

Test(plan, unknown_iops_never_moves)
{
    /* The original scored every volume 0 IOPS when Prometheus failed, and
     * demoted them all to cold. Unknown is not zero. */
    cs_plan_replica_t r = one_replica("hot-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 0);
    v.iops_known = false;
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_SKIP);
    cr_expect_eq(it.reason, CS_PLAN_REASON_UNKNOWN_IOPS);
    cr_expect_eq(it.wanted, CS_TIER_UNKNOWN);
}

Test(plan, current_tier_is_checked)
{
    /* The original never checked where a volume already was. */
    cs_plan_replica_t hot_only = one_replica("hot-n2", "n2");
    cs_plan_volume_t v = vol("pvc-a", &hot_only, 1, 9000);
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_IN_PLACE);

    /* Replicas on two tiers: the rest of the volume follows, one replica per
     * migration, and the cooldown of the first move does not hold it back. */
    cs_plan_replica_t r[2] = {one_replica("cold-n1", "n1"), one_replica("hot-n2", "n2")};
    v = vol("pvc-a", r, 2, 9000);
    v.last_migration_end = NOW - 60;
    v.last_target_pool = "hot-n2";
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_str_eq(pools[it.source_pool].id, "cold-n1");
    cr_expect_str_eq(pools[it.target_pool].id, "hot-n3", "not n1 or n2: both hold a replica");
    cr_expect_eq(it.current, CS_TIER_UNKNOWN, "on two tiers: no single tier");

    /* In preservation mode the old replica stays on purpose: one is enough. */
    cs_plan_input_t in = input(&v, 1);
    in.preservation_mode = true;
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_IN_PLACE);
    cr_expect_str_eq(item_detail(&in, &plan, 0),
                     "IOPS 9000.0 wants hot; a replica is on hot (preservation mode keeps the others)");
    cr_expect_eq(plan.hot, 1, "counted where most replicas are, hotter on a tie");
    cs_plan_free(&plan);
}

Test(plan, hysteresis_above_the_low_watermark)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 550); /* within 10% above 500 */
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_STAY);
    cr_expect_eq(it.reason, CS_PLAN_REASON_HYSTERESIS);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 550.0 is within 10% above lowWatermarkIOPS 500: stays cold");
    v.iops = 551;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_PROMOTE);
    cs_plan_replica_t w = one_replica("warm-n1", "n1");
    v = vol("pvc-b", &w, 1, 550);
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_IN_PLACE, "a warm volume at 550 stays warm");
    v.iops = 500;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_DEMOTE);
}

Test(plan, skip_reasons_in_order)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    v.found = false;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_NOT_FOUND);
    v.found = true;
    v.migrating = true;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_ALREADY_MIGRATING);
    v.migrating = false;
    v.last_migration_end = NOW - 3600;
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_COOLDOWN);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 9000.0 wants hot; cooldown ends in 23h0m0s");
    v.last_migration_end = NOW - 24 * 3600; /* exactly over */
    cr_expect_eq(single(&v).action, CS_PLAN_MOVE);
    v.last_migration_end = 0;
    v.retry_after = NOW + 600;
    it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_BACKOFF);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 9000.0 wants hot; the last migration failed, next attempt in 10m0s");
    v.retry_after = NOW;
    cr_expect_eq(single(&v).action, CS_PLAN_MOVE, "the backoff is over at retry_after");
    v.retry_after = 0;
    v.published = false;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_UNPUBLISHED);
    v.published = true;
    v.online = false;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_NOT_ONLINE);
    v.online = true;
    cs_plan_replica_t stray = one_replica("unlabelled", "n1");
    v.replicas = &stray;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_UNKNOWN_TIER);
}

Test(plan, no_selector_for_wanted_tier)
{
    cs_selector_free(spec.hot_pool_selector);
    free(spec.hot_pool_selector);
    spec.hot_pool_selector = NULL;
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_NO_TIER_SELECTOR);
    cr_expect_str_eq(detail_of(&v, &it), "IOPS 9000.0 wants hot, but spec.hotPoolSelector is not set");
}

Test(plan, no_eligible_pool)
{
    /* replicas on all three nodes: no node is free for a new replica */
    cs_plan_replica_t r[3] = {one_replica("cold-n1", "n1"), one_replica("cold-n2", "n2"), one_replica("cold-n3", "n3")};
    cs_plan_volume_t v = vol("pvc-a", r, 3, 9000);
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_NO_ELIGIBLE_POOL);
    /* offline and full pools do not count */
    cs_plan_replica_t one = one_replica("cold-n1", "n1");
    v = vol("pvc-b", &one, 1, 9000);
    pools[3].online = false;  /* hot-n2 */
    pools[6].used = 95 * GiB; /* hot-n3: 5 GiB free < 10 GiB */
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_NO_ELIGIBLE_POOL);
    pools[6].used = 90 * GiB; /* exactly 10 GiB free */
    it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_str_eq(pools[it.target_pool].id, "hot-n3");
}

Test(plan, limits_and_priority)
{
    cs_plan_replica_t r[4] = {one_replica("cold-n1", "n1"), one_replica("cold-n1", "n1"), one_replica("hot-n1", "n1"),
                              one_replica("cold-n1", "n1")};
    cs_plan_volume_t v[4] = {vol("pvc-a", &r[0], 1, 6000), vol("pvc-b", &r[1], 1, 9000), vol("pvc-c", &r[2], 1, 10),
                             vol("pvc-d", &r[3], 1, 7000)};
    cs_plan_input_t in = input(v, 4);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    /* maxConcurrentMigrations 2: the two hottest promotions win */
    cr_expect_eq(plan.moves, 2);
    cr_expect_eq(plan.items[1].action, CS_PLAN_MOVE, "pvc-b 9000");
    cr_expect_eq(plan.items[3].action, CS_PLAN_MOVE, "pvc-d 7000");
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_POLICY_LIMIT);
    cr_expect_str_eq(item_detail(&in, &plan, 0), "IOPS 6000.0 wants hot; 2 of maxConcurrentMigrations 2 running");
    cr_expect_eq(plan.items[2].reason, CS_PLAN_REASON_POLICY_LIMIT, "demotions come after promotions");
    /* two target pools on n2/n3 are used before doubling up: room is reserved */
    cr_expect_eq(plan.watched, 4);
    cr_expect_eq(plan.cold, 3);
    cr_expect_eq(plan.hot, 1);
    cs_plan_free(&plan);

    in.active_migrations = 1;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.moves, 1, "one already running");
    cs_plan_free(&plan);

    in.active_migrations = 0;
    in.global_slots = 1;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.moves, 1);
    cr_expect_eq(plan.items[3].reason, CS_PLAN_REASON_GLOBAL_LIMIT);
    cs_plan_free(&plan);
}

Test(plan, target_room_is_reserved_within_a_plan)
{
    for (size_t i = 0; i < npools; i++)
        if (strncmp(pools[i].id, "hot", 3) == 0)
            pools[i].used = 85 * GiB; /* 15 GiB free: room for one 10 GiB volume each */
    spec.max_concurrent_migrations = 10;
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v[3] = {vol("pvc-a", &r, 1, 9000), vol("pvc-b", &r, 1, 8000), vol("pvc-c", &r, 1, 7000)};
    cs_plan_input_t in = input(v, 3);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.moves, 2, "hot-n2 and hot-n3 each take one");
    cr_expect_neq(plan.items[0].target_pool, plan.items[1].target_pool);
    cr_expect_eq(plan.items[2].reason, CS_PLAN_REASON_NO_ELIGIBLE_POOL);
    cs_plan_free(&plan);
}

Test(plan, dry_run_reports_without_moving)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    spec.dry_run = true;
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_SKIP);
    cr_expect_eq(it.reason, CS_PLAN_REASON_DRY_RUN);
    cr_expect_geq(it.target_pool, 0, "the plan still says where it would go");
    cr_expect_str_eq(detail_of(&v, &it),
                     "IOPS 9000.0 >= highWatermarkIOPS 5000: would move cold -> hot (pool cold-n1 -> hot-n2)");
    spec.dry_run = false;
    cs_plan_input_t in = input(&v, 1);
    in.global_dry_run = true;
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_DRY_RUN);
    cr_expect_eq(plan.moves, 0);
    cs_plan_free(&plan);
}

Test(plan, selection_by_class_and_selector)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_labels_t app = {0};
    cs_labels_set(&app, "app", "db");
    cs_plan_volume_t v[3] = {vol("pvc-a", &r, 1, 9000), vol("pvc-b", &r, 1, 9000), vol("pvc-c", &r, 1, 9000)};
    v[1].storage_class = "other";
    v[0].labels = &app;
    spec.volume_selector = sel("app=db");
    cs_plan_input_t in = input(v, 3);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.count, 1);
    cr_expect_eq(plan.watched, 1);
    cr_expect_eq(plan.items[0].volume, 0);
    cs_plan_free(&plan);
    cs_labels_free(&app);
}

/* The labels a selector sees: the PV's and its bound claim's (the claim's
 * value on a key both have), and for namespaceSelector the claim's
 * Namespace's. */
static cs_labels_t labels_of(const char *text)
{
    cs_labels_t l = {0};
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        cr_assert_not_null(eq);
        *eq = '\0';
        cr_assert_eq(cs_labels_set(&l, kv, eq + 1), 0);
    }
    return l;
}

static bool selected_by(const char *volume_selector, const cs_labels_t *pv, const cs_labels_t *claim)
{
    cs_selector_free(spec.volume_selector);
    free(spec.volume_selector);
    spec.volume_selector = volume_selector ? sel(volume_selector) : NULL;
    cs_plan_volume_t v = vol("pvc-a", NULL, 0, 9000);
    v.labels = pv;
    v.claim_labels = claim;
    return cs_plan_volume_selected(&spec, &v);
}

Test(plan, volume_selector_reads_pv_and_claim_labels)
{
    cs_labels_t none = {0}, pv_db = labels_of("app=db"), pv_web_gold = labels_of("app=web,tier=gold");
    cs_labels_t claim_db = labels_of("app=db"), pv_legacy = labels_of("legacy=true");
    /* PV labels only (no bound claim): as before */
    cr_expect(selected_by("app=db", &pv_db, NULL));
    cr_expect_not(selected_by("app=db", &none, NULL));
    /* the claim's labels only: people label claims, Kubernetes does not copy them to the PV */
    cr_expect(selected_by("app=db", &none, &claim_db));
    cr_expect(selected_by("app=db", NULL, &claim_db));
    /* a claim without labels leaves the PV's */
    cr_expect(selected_by("app=db", &pv_db, &none));
    /* both: one label set, the claim's value winning on a shared key */
    cr_expect(selected_by("app=db,tier=gold", &pv_web_gold, &claim_db));
    cr_expect_not(selected_by("app=web", &pv_web_gold, &claim_db), "the claim says app=db");
    cr_expect(selected_by("app in (db),tier", &pv_web_gold, &claim_db));
    /* exclusions see both objects: a PV marked legacy stays out whatever its claim says */
    cr_expect_not(selected_by("app=db,!legacy", &pv_legacy, &claim_db));
    cr_expect_not(selected_by("legacy notin (true)", &pv_legacy, &claim_db));
    cr_expect(selected_by("app=db,!legacy", &none, &claim_db));
    /* no selector, or an empty one: every volume of the class */
    cr_expect(selected_by(NULL, &none, NULL));
    cr_expect(selected_by("", &none, NULL));
    cs_labels_free(&none);
    cs_labels_free(&pv_db);
    cs_labels_free(&pv_web_gold);
    cs_labels_free(&claim_db);
    cs_labels_free(&pv_legacy);
}

Test(plan, namespace_selector_reads_the_claims_namespace)
{
    cs_labels_t pv_db = labels_of("app=db"), claim_db = labels_of("app=db"), team_a = labels_of("team=a");
    cs_labels_t none = {0};
    spec.volume_selector = sel("app=db");
    spec.namespace_selector = sel("team=a");
    cs_plan_volume_t v = vol("pvc-a", NULL, 0, 9000);
    v.labels = &pv_db;
    v.claim_labels = &claim_db;
    v.namespace_labels = &team_a;
    cr_expect(cs_plan_volume_selected(&spec, &v), "claim in a team=a Namespace");
    v.namespace_labels = &none;
    cr_expect_not(cs_plan_volume_selected(&spec, &v), "claim in a Namespace without team=a");
    v.namespace_labels = NULL;
    cr_expect_not(cs_plan_volume_selected(&spec, &v), "claim in an unknown Namespace");
    v.claim_labels = NULL;
    v.namespace_labels = &team_a; /* inconsistent input: no claim, so no Namespace either */
    cr_expect_not(cs_plan_volume_selected(&spec, &v), "PV without a bound claim, its labels matching");
    /* an empty namespaceSelector: any Namespace, but still only claimed volumes */
    cs_selector_free(spec.namespace_selector);
    v.namespace_labels = &none;
    cr_expect_not(cs_plan_volume_selected(&spec, &v));
    v.claim_labels = &claim_db;
    cr_expect(cs_plan_volume_selected(&spec, &v));
    /* the volumeSelector still applies */
    v.claim_labels = &none;
    v.labels = &none;
    cr_expect_not(cs_plan_volume_selected(&spec, &v));
    /* and the StorageClass */
    v.labels = &pv_db;
    v.storage_class = "other";
    cr_expect_not(cs_plan_volume_selected(&spec, &v));
    cs_labels_free(&pv_db);
    cs_labels_free(&claim_db);
    cs_labels_free(&team_a);
}

Test(plan, selection_by_claim_labels_in_the_plan)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_labels_t none = {0}, db = labels_of("app=db"), web = labels_of("app=web"), ns = labels_of("team=a");
    cs_plan_volume_t v[4] = {vol("pvc-a", &r, 1, 9000), vol("pvc-b", &r, 1, 9000), vol("pvc-c", &r, 1, 9000),
                             vol("pvc-d", &r, 1, 9000)};
    /* claim app=db, PV without labels */
    v[0].labels = &none;
    v[0].claim_labels = &db;
    v[0].namespace_labels = &ns;
    v[1].labels = &db; /* PV app=db, no claim */
    v[2].labels = &db; /* PV app=db, claim app=web: the claim wins */
    v[2].claim_labels = &web;
    v[2].namespace_labels = &ns;
    v[3].labels = &none; /* nothing */
    spec.volume_selector = sel("app=db");
    cs_plan_input_t in = input(v, 4);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_assert_eq(plan.watched, 2);
    cr_expect_eq(plan.items[0].volume, 0);
    cr_expect_eq(plan.items[1].volume, 1);
    cr_expect_eq(plan.items[0].action, CS_PLAN_MOVE);
    cs_plan_free(&plan);
    spec.namespace_selector = sel("team=a");
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_assert_eq(plan.watched, 1, "the PV without a claim is out");
    cr_expect_eq(plan.items[0].volume, 0);
    cs_plan_free(&plan);
    cs_labels_free(&db);
    cs_labels_free(&web);
    cs_labels_free(&ns);
}

Test(plan, names_and_texts)
{
    cr_expect_str_eq(cs_plan_reason_name(CS_PLAN_REASON_NO_ELIGIBLE_POOL), "NoEligiblePool");
    cr_expect_str_eq(cs_plan_reason_name(CS_PLAN_REASON_UNKNOWN_IOPS), "UnknownIOPS");
    cr_expect_str_eq(cs_plan_reason_name(CS_PLAN_REASON_HYSTERESIS), "Hysteresis");
    cr_expect_str_eq(cs_plan_reason_name(CS_PLAN_REASON_DRY_RUN), "DryRun");
    cr_expect_str_eq(cs_plan_reason_text(CS_PLAN_REASON_COOLDOWN), "moved recently: cooldown period not over");
    cr_expect_str_eq(cs_plan_action_name(CS_PLAN_MOVE), "move");
    cs_plan_t plan;
    cr_expect_eq(cs_plan_compute(NULL, &plan, NULL), CS_EINVAL);
}

Test(plan, reason_events_and_blocking)
{
    /* A person hears of a skip that needs them (Warning), of a dry run
     * (Normal), and of nothing routine. */
    cr_expect_eq(cs_plan_reason_event(CS_PLAN_REASON_NO_ELIGIBLE_POOL), CS_PLAN_EVENT_WARNING);
    cr_expect_eq(cs_plan_reason_event(CS_PLAN_REASON_NOT_FOUND), CS_PLAN_EVENT_WARNING);
    cr_expect_eq(cs_plan_reason_event(CS_PLAN_REASON_DRY_RUN), CS_PLAN_EVENT_NORMAL);
    cr_expect_eq(cs_plan_reason_event(CS_PLAN_REASON_COOLDOWN), CS_PLAN_EVENT_NONE);
    cr_expect_eq(cs_plan_reason_event(CS_PLAN_REASON_IN_BAND), CS_PLAN_EVENT_NONE);
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_NO_ELIGIBLE_POOL));
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_UNKNOWN_TIER));
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_NOT_ONLINE));
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_NO_TIER_SELECTOR));
    cr_expect_not(cs_plan_reason_blocks(CS_PLAN_REASON_NOT_FOUND));
    cr_expect_not(cs_plan_reason_blocks(CS_PLAN_REASON_POLICY_LIMIT));
    cr_expect_str_eq(cs_plan_reason_name((cs_plan_reason_t)999), "Unknown");
    cr_expect_eq(cs_plan_reason_event((cs_plan_reason_t)999), CS_PLAN_EVENT_NONE);
    cr_expect_not(cs_plan_reason_blocks((cs_plan_reason_t)999));
}

Test(plan, every_reason_has_a_detail_line)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    cs_plan_input_t in = input(&v, 1);
    for (int reason = CS_PLAN_REASON_PROMOTE; reason <= CS_PLAN_REASON_DRY_RUN; reason++) {
        cs_plan_item_t it = {.volume = 0,
                             .reason = (cs_plan_reason_t)reason,
                             .current = CS_TIER_COLD,
                             .wanted = CS_TIER_HOT,
                             .source_pool = -1,
                             .target_pool = -1};
        char buf[CS_PLAN_DETAIL_MAX];
        const char *d = cs_plan_item_detail(&in, &it, buf, sizeof buf);
        cr_expect_eq(d, buf);
        cr_expect_gt(strlen(d), 10, "%s: '%s'", cs_plan_reason_name(it.reason), d);
    }
    /* a short buffer is cut, never overrun */
    char tiny[8];
    cs_plan_item_t it = {.reason = CS_PLAN_REASON_IN_BAND, .source_pool = -1, .target_pool = -1};
    cr_expect_eq(strlen(cs_plan_item_detail(&in, &it, tiny, sizeof tiny)), 7);
}

Test(plan, a_refused_move_is_held_and_the_next_volume_gets_the_slot)
{
    cs_plan_replica_t r[2] = {one_replica("cold-n1", "n1"), one_replica("cold-n1", "n1")};
    cs_plan_volume_t v[2] = {vol("pvc-a", &r[0], 1, 9000), vol("pvc-b", &r[1], 1, 6000)};
    v[0].refused_until = NOW + 300;
    spec.max_concurrent_migrations = 1;
    cs_plan_input_t in = input(v, 2);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].action, CS_PLAN_SKIP);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_REFUSED);
    cr_expect_str_eq(cs_plan_reason_name(plan.items[0].reason), "Refused");
    cr_expect_str_eq(item_detail(&in, &plan, 0), "IOPS 9000.0 wants hot; its last migration was refused (see its "
                                                 "MigrationRefused Event), next attempt in 5m0s");
    cr_expect_eq(plan.items[1].action, CS_PLAN_MOVE, "the slot goes to the next volume");
    cs_plan_free(&plan);
    v[0].refused_until = NOW; /* the hold is over */
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].action, CS_PLAN_MOVE);
    cr_expect_eq(plan.items[1].reason, CS_PLAN_REASON_POLICY_LIMIT);
    cs_plan_free(&plan);
}

Test(plan, a_volume_on_two_tiers_waits_for_cooldown_before_going_back)
{
    /* Moved one replica hot -> cold a minute ago; now it wants hot again:
     * the replica still on hot is no licence to skip the cooldown. */
    cs_plan_replica_t r[2] = {one_replica("cold-n1", "n1"), one_replica("hot-n2", "n2")};
    cs_plan_volume_t v = vol("pvc-a", r, 2, 9000);
    v.last_migration_end = NOW - 60;
    v.last_target_pool = "cold-n1";
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_COOLDOWN);
    /* Without the record of where the last move went (an older operator):
     * the cooldown holds too. */
    v.last_target_pool = NULL;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_COOLDOWN);
    /* Still wanting the tier its last move went to: the move goes on. */
    v.iops = 100;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_COOLDOWN, "no record: it waits");
    v.last_target_pool = "cold-n1";
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_DEMOTE);
    cr_expect_str_eq(pools[it.source_pool].id, "hot-n2");
}

Test(plan, steering_is_decided_before_a_slot_is_taken)
{
    /* Ten hot volumes nothing can steer, one that can, one slot: the
     * steerable one moves, the others say why, and none takes the slot. */
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v[11];
    char names[11][16];
    for (int i = 0; i < 11; i++) {
        snprintf(names[i], sizeof names[i], "pvc-%02d", i);
        v[i] = vol(names[i], &r, 1, 90000 - i); /* the unsteerable ones are hotter */
        v[i].steering = i < 5 ? CS_PLAN_STEER_NONE : i < 10 ? CS_PLAN_STEER_CREATED_BY : CS_PLAN_STEER_PLACEMENT;
    }
    spec.max_concurrent_migrations = 1;
    cs_plan_input_t in = input(v, 11);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    for (int i = 0; i < 11; i++) {
        const cs_plan_item_t *it = &plan.items[i];
        cs_plan_reason_t want = i < 5    ? CS_PLAN_REASON_NOT_STEERABLE
                                : i < 10 ? CS_PLAN_REASON_NEEDS_CREATED_BY
                                         : CS_PLAN_REASON_PROMOTE;
        cr_expect_eq(it->reason, want, "%s: %s", names[i], cs_plan_reason_name(it->reason));
    }
    cr_expect_eq(plan.moves, 1);
    cr_expect_eq(plan.steering[CS_PLAN_STEER_NONE], 5);
    cr_expect_eq(plan.steering[CS_PLAN_STEER_CREATED_BY], 5);
    cr_expect_eq(plan.steering[CS_PLAN_STEER_PLACEMENT], 1);
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_NOT_STEERABLE));
    cr_expect_str_eq(item_detail(&in, &plan, 0),
                     "IOPS 90000.0 wants hot; its pool topology requires no pool label (StorageClass mayastor): "
                     "Mayastor may put a new replica on any pool");
    cr_expect_str_eq(item_detail(&in, &plan, 5),
                     "IOPS 89995.0 wants hot; StorageClass mayastor has no poolHasTopologyKey for the placement "
                     "label: set the policy's createdBySteering to move it");
    cs_plan_free(&plan);

    /* The policy allows created-by steering: those move (hottest first). */
    in.created_by_steering = true;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[5].reason, CS_PLAN_REASON_PROMOTE);
    cr_expect_eq(plan.items[10].reason, CS_PLAN_REASON_POLICY_LIMIT);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_NOT_STEERABLE);
    cs_plan_free(&plan);
}

Test(plan, targets_are_schedulable_pools_its_placement_accepts)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    /* Equal free space: hot-n2 is first by id. Its node is cordoned. */
    pools[3].unschedulable = true; /* hot-n2 */
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_str_eq(pools[it.target_pool].id, "hot-n3");

    /* The volume requires the placement label; only hot-n2 carries it. */
    cs_labels_t required = {0}, labelled = {0};
    cs_labels_set(&required, "couchestor.io/placement", "");
    cs_labels_set(&required, "openebs.io/created-by", "operator-diskpool");
    cs_labels_set(&labelled, "couchestor.io/placement", "eligible");
    cs_labels_set(&labelled, "openebs.io/created-by", "operator-diskpool");
    v.placement = &required;
    pools[3].placement_labels = &labelled;
    it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_NO_ELIGIBLE_POOL, "the one labelled hot pool is on a cordoned node");
    cr_expect_str_eq(detail_of(&v, &it),
                     "IOPS 9000.0 wants hot; no hot pool is Online with 10737418240 bytes free on a schedulable "
                     "node without a replica and the labels its pool topology requires");
    pools[3].unschedulable = false;
    it = single(&v);
    cr_expect_eq(it.action, CS_PLAN_MOVE);
    cr_expect_str_eq(pools[it.target_pool].id, "hot-n2");
    /* A value that differs is not the same label (created-by overwritten). */
    cs_labels_set(&labelled, "openebs.io/created-by", "couchestor-steering");
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_NO_ELIGIBLE_POOL);
    pools[3].placement_labels = NULL;
    cs_labels_free(&required);
    cs_labels_free(&labelled);
}

Test(plan, one_owner_when_policies_overlap)
{
    cs_storage_policy_spec_t other;
    cr_assert_eq(cs_storage_policy_spec_init(&other, NULL), 0);
    other.volume_selector = sel("team=db");
    cs_labels_t labels = {0};
    cs_labels_set(&labels, "team", "db");
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    v.labels = &labels;
    cs_plan_policy_ref_t refs[3] = {
        {"zz-old", NOW - 7200, &spec}, {"bb-new", NOW - 60, &other}, {"aa-old", NOW - 7200, &other}};
    cr_expect_str_eq(cs_plan_volume_owner(refs, 3, &v), "aa-old", "oldest, then first by name");
    cr_expect_str_eq(cs_plan_volume_owner(refs, 2, &v), "zz-old");
    cs_labels_set(&labels, "team", "web");
    cr_expect_str_eq(cs_plan_volume_owner(refs, 3, &v), "zz-old", "the others select team=db only");
    cr_expect_null(cs_plan_volume_owner(refs + 1, 1, &v));

    /* The policy that does not own it leaves it alone and does not count it. */
    v.owner = "aa-old";
    cs_plan_input_t in = input(&v, 1);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_OTHER_POLICY);
    cr_expect_eq(plan.items[0].action, CS_PLAN_STAY);
    cr_expect_eq(plan.watched, 0);
    cr_expect_eq(plan.other_policy, 1);
    cr_expect_eq(plan.cold, 0);
    cr_expect_str_eq(item_detail(&in, &plan, 0), "StoragePolicy aa-old selects it too and is older: it decides");
    cs_plan_free(&plan);
    cs_labels_free(&labels);
    cs_storage_policy_spec_free(&other);
}

Test(plan, a_young_series_is_not_judged_yet)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v = vol("pvc-a", &r, 1, 9000);
    v.iops_known = false;
    cr_expect_eq(single(&v).reason, CS_PLAN_REASON_UNKNOWN_IOPS);
    v.iops_young = true;
    cs_plan_item_t it = single(&v);
    cr_expect_eq(it.reason, CS_PLAN_REASON_WINDOW_NOT_COVERED);
    cr_expect_eq(it.action, CS_PLAN_SKIP);
    cr_expect_str_eq(cs_plan_reason_name(it.reason), "WindowNotCovered");
}

Test(plan, affinity_groups_and_operations_in_progress_are_refused_before_a_slot)
{
    cs_plan_replica_t r = one_replica("cold-n1", "n1");
    cs_plan_volume_t v[2] = {vol("pvc-a", &r, 1, 9500), vol("pvc-b", &r, 1, 9000)};
    v[0].affinity_group = true;
    spec.max_concurrent_migrations = 1;
    cs_plan_input_t in = input(v, 2);
    cs_plan_t plan;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_AFFINITY_GROUP);
    cr_expect(cs_plan_reason_blocks(CS_PLAN_REASON_AFFINITY_GROUP));
    cr_expect_eq(plan.items[1].reason, CS_PLAN_REASON_PROMOTE, "the slot goes to the next volume");
    cs_plan_free(&plan);
    v[0].affinity_group = false;
    v[0].busy = true;
    cr_assert_eq(cs_plan_compute(&in, &plan, NULL), 0);
    cr_expect_eq(plan.items[0].reason, CS_PLAN_REASON_OPERATION_IN_PROGRESS);
    cr_expect_eq(plan.items[1].reason, CS_PLAN_REASON_PROMOTE);
    cs_plan_free(&plan);
}
