/* Tests for steerability (cs_volume_steering, cs_storage_class_steering)
 * and for what cs_plan_facts_build gives the plan about placement: each
 * volume's pool topology and steering class, each pool's Mayastor labels,
 * and whether its node takes new replicas. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <string.h>

#include "couchestor/controller.h"
#include "policy_fixture.h"

#define PLACEMENT "couchestor.io/placement"

Test(steering, volume_classes)
{
    cs_mayastor_label_t tiered[] = {{"openebs.io/created-by", "operator-diskpool"}, {PLACEMENT, ""}};
    cs_mayastor_label_t legacy[] = {{"openebs.io/created-by", "operator-diskpool"}};
    cs_mayastor_label_t other[] = {{"zone", "a"}};
    cr_expect_eq(cs_volume_steering(tiered, 2, PLACEMENT), CS_PLAN_STEER_PLACEMENT);
    cr_expect_eq(cs_volume_steering(tiered + 1, 1, PLACEMENT), CS_PLAN_STEER_PLACEMENT);
    cr_expect_eq(cs_volume_steering(legacy, 1, PLACEMENT), CS_PLAN_STEER_CREATED_BY);
    cr_expect_eq(cs_volume_steering(other, 1, PLACEMENT), CS_PLAN_STEER_NONE,
                 "a label nobody removes from the other pools does not steer");
    cr_expect_eq(cs_volume_steering(NULL, 0, PLACEMENT), CS_PLAN_STEER_NONE, "no topology: every pool qualifies");
    cr_expect_str_eq(cs_plan_steering_name(CS_PLAN_STEER_CREATED_BY), "created-by");
}

static cs_plan_steering_t sc_steering(const char *json, char *why, size_t len)
{
    json_error_t je;
    json_t *sc = json_loads(json, 0, &je);
    cr_assert_not_null(sc, "%s", je.text);
    cs_plan_steering_t s = cs_storage_class_steering(sc, PLACEMENT, why, len);
    json_decref(sc);
    return s;
}

Test(steering, storage_classes)
{
    char why[256];
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"tiered\"},\"provisioner\":\"io.openebs.csi-mayastor\","
                             "\"parameters\":{\"repl\":\"1\",\"poolHasTopologyKey\":\"couchestor.io/placement\"}}",
                             why, sizeof why),
                 CS_PLAN_STEER_PLACEMENT);
    cr_expect_str_eq(why, "StorageClass tiered: poolHasTopologyKey names couchestor.io/placement: its volumes are "
                          "steerable");
    /* several keys, one per line or comma-separated, blanks around them */
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"multi\"},\"provisioner\":\"io.openebs.csi-mayastor\","
                             "\"parameters\":{\"poolHasTopologyKey\":\"zone\\n couchestor.io/placement \\n\"}}",
                             NULL, 0),
                 CS_PLAN_STEER_PLACEMENT);
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"multi\"},\"provisioner\":\"io.openebs.csi-mayastor\","
                             "\"parameters\":{\"poolHasTopologyKey\":\"zone,couchestor.io/placement\"}}",
                             NULL, 0),
                 CS_PLAN_STEER_PLACEMENT);
    /* a key that only starts like it is another key */
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"near\"},\"provisioner\":\"io.openebs.csi-mayastor\","
                             "\"parameters\":{\"poolHasTopologyKey\":\"couchestor.io/placement-x\"}}",
                             why, sizeof why),
                 CS_PLAN_STEER_CREATED_BY);
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"mayastor-1\"},\"provisioner\":\"io.openebs.csi-mayastor\","
                             "\"parameters\":{\"repl\":\"1\"}}",
                             why, sizeof why),
                 CS_PLAN_STEER_CREATED_BY);
    cr_expect(strstr(why, "StorageClass mayastor-1: no poolHasTopologyKey: couchestor.io/placement") == why, "%s", why);
    cr_expect_eq(sc_steering("{\"metadata\":{\"name\":\"gp3\"},\"provisioner\":\"ebs.csi.aws.com\"}", why, sizeof why),
                 CS_PLAN_STEER_NONE);
    cr_expect_str_eq(why, "StorageClass gp3: provisioner ebs.csi.aws.com is not Mayastor's CSI driver "
                          "(io.openebs.csi-mayastor)");
    cr_expect_eq(sc_steering("{}", why, sizeof why), CS_PLAN_STEER_NONE, "no provisioner");
}

static cs_storage_policy_t policy(void)
{
    const char *text = "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"warmWatermarkIOPS\":0,\"createdBySteering\":true,"
                       "\"hotPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"hot\"}},"
                       "\"coldPoolSelector\":{\"matchLabels\":{\"storage-tier\":\"cold\"}}}}";
    return policy_from_text(text);
}

/* Nodes and pools as Mayastor lists them, and three volumes: two of one
 * StorageClass sharing one topology set, one without a topology. */
Test(steering, facts_carry_placement_and_schedulable_nodes)
{
    cs_mayastor_err_t me = {0};
    const char *nodes_json =
        "[{\"id\":\"n1\",\"spec\":{\"id\":\"n1\",\"grpcEndpoint\":\"a:1\"},\"state\":{\"id\":\"n1\",\"status\":"
        "\"Online\"}},"
        "{\"id\":\"n2\",\"spec\":{\"id\":\"n2\",\"grpcEndpoint\":\"a:2\",\"cordondrainstate\":{\"cordonedstate\":"
        "{\"cordonlabels\":[\"maint\"]}}},\"state\":{\"id\":\"n2\",\"status\":\"Online\"}},"
        "{\"id\":\"n3\",\"spec\":{\"id\":\"n3\",\"grpcEndpoint\":\"a:3\"},\"state\":{\"id\":\"n3\",\"status\":"
        "\"Offline\"}}]";
    cs_mayastor_nodes_t nodes;
    cr_assert_eq(cs_mayastor_decode_nodes(nodes_json, strlen(nodes_json), true, &nodes, &me.err), 0, "%s", me.err.msg);
    cs_mayastor_label_t l1[] = {{"openebs.io/created-by", "operator-diskpool"}, {PLACEMENT, "eligible"}};
    cs_mayastor_pool_t items[] = {
        {.id = "p1", .node = "n1", .label_count = 2, .labels = l1, .status = CS_MAYASTOR_STATE_ONLINE},
        {.id = "p2", .node = "n2", .status = CS_MAYASTOR_STATE_ONLINE},
        {.id = "p3", .node = "n3", .status = CS_MAYASTOR_STATE_ONLINE},
        {.id = "p4", .node = "n4", .status = CS_MAYASTOR_STATE_ONLINE}};
    cs_mayastor_pools_t pools = {.count = 4, .items = items};
    cs_storage_policy_t p = policy();
    cs_plan_facts_t f;
    cs_err_t err = {0};
    cs_cluster_view_t view = {.pools = &pools, .nodes = &nodes};
    cr_assert_eq(cs_plan_facts_build(&view, "p", &p.spec, 0, &f, &err), 0, "%s", err.msg);
    cr_expect_eq(f.in.pools[0].unschedulable, false);
    cr_expect_eq(f.in.pools[1].unschedulable, true, "cordoned");
    cr_expect_eq(f.in.pools[2].unschedulable, true, "node Offline");
    cr_expect_eq(f.in.pools[3].unschedulable, true, "a node Mayastor does not list");
    cr_expect_str_eq(cs_labels_get(f.in.pools[0].placement_labels, PLACEMENT), "eligible");
    cr_expect_eq(f.in.pools[1].placement_labels->count, 0);
    cr_expect(f.in.created_by_steering, "from spec.createdBySteering");
    cs_plan_facts_free(&f);

    /* Nodes unknown (not listed): every pool counts as schedulable. */
    view.nodes = NULL;
    cr_assert_eq(cs_plan_facts_build(&view, "p", &p.spec, 0, &f, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < f.in.pool_count; i++)
        cr_expect_eq(f.in.pools[i].unschedulable, false, "%s", f.in.pools[i].id);
    cs_plan_facts_free(&f);
    cs_mayastor_nodes_free(&nodes);
    cs_storage_policy_free(&p);
}
