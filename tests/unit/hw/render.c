/* Tests for the table, JSON and DiskPool renderings of an inventory. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/hw.h"
#include "hw/hw_test.h"

static cs_hw_inventory_t server(bool include_in_use)
{
    hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, "server", &cfg);
    cfg.include_in_use = include_in_use;
    cs_hw_inventory_t inv;
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_discover(&cfg, &inv, &err), 0, "%s", err.msg);
    return inv;
}

static char *render(int which, const cs_hw_inventory_t *inv, const char *node, const char *ns, int *rc, size_t *written)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert(f != NULL);
    cs_err_t err = {0};
    if (which == 0)
        *rc = cs_hw_render_table(inv, f);
    else if (which == 1)
        *rc = cs_hw_render_json(inv, f, &err);
    else
        *rc = cs_hw_render_diskpools(inv, node, ns, f, written, &err);
    fclose(f);
    return buf;
}

Test(render, table)
{
    cs_hw_inventory_t inv = server(false);
    int rc;
    char *out = render(0, &inv, NULL, NULL, &rc, NULL);
    cr_expect_eq(rc, 0);
    cr_expect(strncmp(out, "DEVICE   SIZE      MEDIA  TRANSPORT  MODEL", 42) == 0, "%s", out);
    cr_expect(strstr(out, "\nnvme0n1  3.5 TiB   nvme   pcie       SAMSUNG MZQL23T8HCLS-00A07  "
                          "S64HNE0T512345      ok      hot   available\n") != NULL,
              "%s", out);
    cr_expect(strstr(out, "  failed  -     excluded: endurance 93% used (limit 90%)\n") != NULL);
    cr_expect(strstr(out, "  ok      -     in-use: has partitions: sda1, sda2, sda3; sda1 mounted "
                          "at /boot/efi (vfat);") != NULL);
    cr_expect(strstr(out, "\n4 of 8 devices can hold a pool (hot 1, warm 1, cold 2).\n") != NULL, "%s", out);
    free(out);
    cs_hw_inventory_free(&inv);
}

Test(render, table_with_include_in_use_shows_tier_of_in_use)
{
    cs_hw_inventory_t inv = server(true);
    int rc;
    char *out = render(0, &inv, NULL, NULL, &rc, NULL);
    cr_expect(strstr(out, "  ok      warm  in-use (shown as candidate; never pooled): has partitions") != NULL, "%s",
              out);
    free(out);
    cs_hw_inventory_free(&inv);
}

Test(render, json_document)
{
    cs_hw_inventory_t inv = server(false);
    int rc;
    char *out = render(1, &inv, NULL, NULL, &rc, NULL);
    cr_assert_eq(rc, 0);
    json_error_t je;
    json_t *root = json_loads(out, 0, &je);
    cr_assert(root != NULL, "%s", je.text);
    json_t *devs = json_object_get(root, "devices");
    cr_assert_eq(json_array_size(devs), 8);
    json_t *d = json_array_get(devs, 0);
    cr_expect_str_eq(json_string_value(json_object_get(d, "name")), "nvme0n1");
    cr_expect_str_eq(json_string_value(json_object_get(d, "suggested_tier")), "hot");
    cr_expect_str_eq(json_string_value(json_object_get(d, "media_type")), "nvme");
    cr_expect_str_eq(json_string_value(json_object_get(d, "status")), "available");
    cr_expect_str_eq(json_string_value(json_object_get(d, "devnum")), "259:0");
    cr_expect_eq(json_integer_value(json_object_get(d, "size_bytes")), 3840755982336LL);
    cr_expect(json_is_true(json_object_get(d, "poolable")));
    cr_expect_str_eq(json_string_value(json_object_get(d, "stable_path")),
                     "/dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T512345");
    json_t *h = json_object_get(d, "health");
    cr_expect_eq(json_integer_value(json_object_get(h, "temperature_celsius")), 36);
    cr_expect_eq(json_integer_value(json_object_get(h, "percent_used")), 2);
    cr_expect(json_is_null(json_object_get(h, "smartctl_exit_status")));
    json_t *sda = json_array_get(devs, 2);
    cr_expect_eq(json_array_size(json_object_get(sda, "in_use_reasons")), 5);
    cr_expect_eq(json_array_size(json_object_get(sda, "partitions")), 3);
    cr_expect(json_is_false(json_object_get(sda, "candidate")));
    cr_expect_eq(json_array_size(json_object_get(root, "warnings")), 0);
    json_decref(root);
    free(out);
    cs_hw_inventory_free(&inv);
}

Test(render, diskpools_exact_manifest)
{
    cs_hw_inventory_t inv = server(true);
    int rc;
    size_t written = 0;
    char *out = render(2, &inv, "worker-1.example", "mayastor", &rc, &written);
    cr_assert_eq(rc, 0);
    cr_expect_eq(written, 4, "nvme0n1 sdb sdc sdd: never the in-use sda/sde, even with include_in_use");
    const char *first = "---\n"
                        "# nvme0n1: SAMSUNG MZQL23T8HCLS-00A07 S64HNE0T512345, 3.5 TiB, health ok, tier hot (nvme)\n"
                        "apiVersion: openebs.io/v1beta2\n"
                        "kind: DiskPool\n"
                        "metadata:\n"
                        "  name: worker-1-example-nvme0n1\n"
                        "  namespace: mayastor\n"
                        "  labels:\n"
                        "    storage-tier: hot\n"
                        "    media-type: nvme\n"
                        "spec:\n"
                        "  node: worker-1.example\n"
                        "  disks:\n"
                        "    - /dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T512345\n"
                        "  topology:\n"
                        "    labelled:\n"
                        "      storage-tier: hot\n"
                        "      media-type: nvme\n"
                        "      couchestor.io/placement: eligible\n"
                        "---\n";
    cr_expect(strncmp(out, first, strlen(first)) == 0, "%s", out);
    cr_expect(strstr(out, "name: worker-1-example-sdb\n") != NULL);
    cr_expect(strstr(out, "    storage-tier: warm\n    media-type: ssd\n") != NULL);
    cr_expect(strstr(out, "    - /dev/disk/by-id/wwn-0x5000cca2a1b2c3d4\n") != NULL);
    cr_expect(strstr(out, "sda") == NULL, "in-use disk must not appear");
    cr_expect(strstr(out, "sde") == NULL);
    cr_expect(strstr(out, "sdf") == NULL, "failing disk must not appear");
    cr_expect(strstr(out, "nvme1n1") == NULL, "worn-out disk must not appear");
    free(out);
    cs_hw_inventory_free(&inv);
}

Test(render, diskpools_name_checks)
{
    cs_hw_inventory_t inv = {0};
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_diskpool_check_names("Worker_1", "mayastor", &err), CS_EINVAL);
    cr_expect(strncmp(err.msg, "--node 'Worker_1' is not a valid Kubernetes node name", 52) == 0, "%s", err.msg);
    cr_expect_eq(cs_hw_diskpool_check_names("worker-1", "open.ebs", &err), CS_EINVAL);
    cr_expect(strncmp(err.msg, "--namespace 'open.ebs' is not a valid namespace", 46) == 0, "%s", err.msg);
    cr_expect_eq(cs_hw_diskpool_check_names("-a", "x", &err), CS_EINVAL);
    cr_expect_eq(cs_hw_diskpool_check_names("a..b", "x", &err), CS_EINVAL);
    cr_expect_eq(cs_hw_diskpool_check_names("", "x", &err), CS_EINVAL);
    cr_expect_eq(cs_hw_diskpool_check_names("ip-10-0-0-1.ec2.internal", "openebs", &err), 0);
    int rc;
    size_t written = 7;
    char *out = render(2, &inv, "BAD NODE", "mayastor", &rc, &written);
    cr_expect_eq(rc, CS_EINVAL);
    cr_expect_eq(written, 0);
    cr_expect_str_eq(out, "");
    free(out);
}

Test(render, pool_names)
{
    char name[64];
    cs_hw_pool_name("worker-1", "nvme0n1", name, sizeof name);
    cr_expect_str_eq(name, "worker-1-nvme0n1");
    cs_hw_pool_name("ip-10-0-0-1.ec2.internal", "sdb", name, sizeof name);
    cr_expect_str_eq(name, "ip-10-0-0-1-ec2-internal-sdb");
    char longnode[200];
    memset(longnode, 'a', sizeof longnode - 1);
    longnode[sizeof longnode - 1] = '\0';
    cs_hw_pool_name(longnode, "sdb", name, sizeof name);
    cr_expect_eq(strlen(name), 63);
    char other[64];
    cs_hw_pool_name(longnode, "sdc", other, sizeof other);
    cr_expect_str_neq(name, other, "truncated names stay distinct");
}
