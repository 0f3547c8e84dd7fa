/* End-to-end discovery over fixture machines (sysfs, /proc and /dev trees)
 * with the fake nvme and smartctl tools: what is found, what is in use and
 * why, tiers, health, and how missing, hung or broken tools degrade. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/hw.h"
#include "hw/hw_test.h"

static cs_hw_inventory_t discover(const char *tree, void (*tweak)(cs_hw_config_t *))
{
    static hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, tree, &cfg);
    if (tweak)
        tweak(&cfg);
    cs_hw_inventory_t inv;
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_discover(&cfg, &inv, &err), 0, "%s", err.msg);
    return inv;
}

Test(discover, server_lists_disks_in_order_and_skips_virtual_and_partitions)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const char *want[] = {"nvme0n1", "nvme1n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf"};
    cr_assert_eq(inv.count, 8);
    for (size_t i = 0; i < 8; i++)
        cr_expect_str_eq(inv.devices[i].name, want[i]);
    cr_expect_eq(inv.nwarnings, 0, "first warning: %s", inv.nwarnings ? inv.warnings[0] : "");
    cs_hw_inventory_free(&inv);
    cr_expect_eq(inv.count, 0);
    cs_hw_inventory_free(NULL);
}

Test(discover, server_nvme_joined_to_controller_with_nvme_cli_health)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const cs_hw_device_t *d = hw_device(&inv, "nvme0n1");
    cr_expect(strstr(d->path, "/tests/fixtures/hw/server/dev/nvme0n1") != NULL, "%s", d->path);
    cr_expect_eq(d->major, 259);
    cr_expect_eq(d->minor, 0);
    cr_expect_eq(d->size_bytes, UINT64_C(3840755982336));
    cr_expect_eq(d->logical_block_size, 4096);
    cr_expect_eq(d->rotational, 0);
    cr_expect_str_eq(d->controller, "nvme0");
    cr_expect_str_eq(d->model, "SAMSUNG MZQL23T8HCLS-00A07");
    cr_expect_str_eq(d->serial, "S64HNE0T512345");
    cr_expect_str_eq(d->firmware, "GDC5602Q");
    cr_expect_str_eq(d->transport, "pcie");
    cr_expect_eq(d->numa_node, 0);
    cr_expect_str_eq(d->wwid, "eui.36344830525123450025384500000001");
    cr_expect_str_eq(d->by_id, "/dev/disk/by-id/nvme-SAMSUNG_MZQL23T8HCLS-00A07_S64HNE0T512345");
    cr_expect_eq(d->media, CS_HW_MEDIA_NVME);
    cr_expect_eq(d->tier, CS_HW_TIER_HOT);
    cr_expect_str_eq(d->health.source, "nvme-cli");
    cr_expect_eq(d->health.state, CS_HW_HEALTH_OK);
    cr_expect_eq(d->health.temperature_c, 36);
    cr_expect_eq(d->health.percent_used, 2);
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    cr_expect(d->signatures_checked);
    cr_expect(d->poolable);
    cr_expect(d->candidate);

    d = hw_device(&inv, "nvme1n1");
    cr_expect_eq(d->numa_node, 1);
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cr_expect_eq(d->health.state, CS_HW_HEALTH_FAILED);
    cr_assert_eq(d->excluded.count, 1);
    cr_expect_str_eq(d->excluded.text[0], "endurance 93% used (limit 90%)");
    cr_expect_not(d->poolable);
    cs_hw_inventory_free(&inv);
}

Test(discover, server_boot_disk_is_in_use_with_every_reason)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const cs_hw_device_t *d = hw_device(&inv, "sda");
    cr_expect_eq(d->status, CS_HW_STATUS_IN_USE);
    cr_expect_eq(d->npartitions, 3);
    const char *want[] = {"has partitions: sda1, sda2, sda3", "sda1 mounted at /boot/efi (vfat)",
                          "sda2 mounted at / (ext4)", "sda3 is active swap", "signatures found: gpt"};
    cr_assert_eq(d->in_use.count, 5);
    for (int i = 0; i < 5; i++)
        cr_expect_str_eq(d->in_use.text[i], want[i]);
    cr_expect_str_eq(d->model, "SAMSUNG MZ7LH480HAHQ-00005", "smartctl's full model, not sysfs' 16 bytes");
    cr_expect_eq(d->media, CS_HW_MEDIA_SSD);
    cr_expect_eq(d->tier, CS_HW_TIER_WARM, "the tier is still computed");
    cr_expect_not(d->candidate);
    cr_expect_not(d->poolable);
    cs_hw_inventory_free(&inv);
}

Test(discover, server_lvm_member_held_by_dm)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const cs_hw_device_t *d = hw_device(&inv, "sde");
    cr_expect_eq(d->status, CS_HW_STATUS_IN_USE);
    cr_assert_eq(d->in_use.count, 2);
    cr_expect_str_eq(d->in_use.text[0], "sde is held by dm-0 (device-mapper/LVM member)");
    cr_expect_str_eq(d->in_use.text[1], "signatures found: LVM2_member");
    cs_hw_inventory_free(&inv);
}

Test(discover, server_sata_ssd_sata_hdd_and_sas)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const cs_hw_device_t *d = hw_device(&inv, "sdb");
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    cr_expect_str_eq(d->transport, "sata");
    cr_expect_eq(d->tier, CS_HW_TIER_WARM);
    cr_expect_str_eq(d->by_id, "/dev/disk/by-id/ata-Micron_5300_MTFDDAK1T9TDS_2119300ABCDE");
    cr_expect_eq(d->health.percent_used, 4);
    cr_expect_eq(d->health.smartctl_exit_status, 0);
    d = hw_device(&inv, "sdc");
    cr_expect_eq(d->tier, CS_HW_TIER_COLD);
    cr_expect_eq(d->media, CS_HW_MEDIA_HDD);
    cr_expect_eq(d->physical_block_size, 4096);
    d = hw_device(&inv, "sdd");
    cr_expect_str_eq(d->transport, "sas");
    cr_expect_str_eq(d->model, "HGST HUH721212AL5200");
    cr_expect_str_eq(d->serial, "8DH1ABCD");
    cr_expect_str_eq(d->by_id, "/dev/disk/by-id/wwn-0x5000cca2a1b2c3d4");
    cr_expect_eq(d->tier, CS_HW_TIER_COLD);
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    cs_hw_inventory_free(&inv);
}

Test(discover, server_failing_disk_is_excluded)
{
    cs_hw_inventory_t inv = discover("server", NULL);
    const cs_hw_device_t *d = hw_device(&inv, "sdf");
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cr_expect_eq(d->health.state, CS_HW_HEALTH_FAILED);
    cr_expect_eq(d->health.smartctl_exit_status, 88);
    cr_assert_eq(d->excluded.count, 3);
    cr_expect_str_eq(d->excluded.text[0], "SMART overall-health self-assessment FAILED");
    cr_expect_str_eq(d->excluded.text[1], "SMART prefail attributes are at or below their threshold");
    cr_expect_str_eq(d->excluded.text[2], "2008 media errors (threshold 0)");
    cr_expect_str_eq(d->by_id, "", "no by-id link for sdf");
    cs_hw_inventory_free(&inv);
}

static void include_all(cs_hw_config_t *cfg)
{
    cfg->include_virtual = true;
    cfg->include_in_use = true;
}

Test(discover, include_virtual_and_in_use)
{
    cs_hw_inventory_t inv = discover("server", include_all);
    cr_expect_eq(inv.count, 12);
    const cs_hw_device_t *d = hw_device(&inv, "dm-0");
    cr_expect(d->is_virtual);
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cr_expect_not(d->candidate);
    d = hw_device(&inv, "sda");
    cr_expect(d->candidate, "in use, shown as a candidate");
    cr_expect_not(d->poolable, "but never pooled");
    d = hw_device(&inv, "sdf");
    cr_expect_not(d->candidate, "unhealthy devices are never candidates");
    cs_hw_inventory_free(&inv);
}

static const cs_hw_tier_override_t overrides[] = {{"sdc", CS_HW_TIER_WARM}, {"*micron*", CS_HW_TIER_NONE}};

static void with_overrides(cs_hw_config_t *cfg)
{
    cfg->overrides = overrides;
    cfg->noverrides = 2;
}

Test(discover, overrides)
{
    cs_hw_inventory_t inv = discover("server", with_overrides);
    const cs_hw_device_t *d = hw_device(&inv, "sdc");
    cr_expect_eq(d->tier, CS_HW_TIER_WARM);
    cr_expect_str_eq(d->tier_source, "override 'sdc'");
    cr_expect(d->poolable);
    d = hw_device(&inv, "sdb");
    cr_expect_eq(d->tier, CS_HW_TIER_NONE);
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cr_expect_str_eq(d->excluded.text[0], "tier set to none by override '*micron*'");
    cs_hw_inventory_free(&inv);
}

static void no_tools(cs_hw_config_t *cfg)
{
    cfg->nvme_path = "/nonexistent/nvme";
    cfg->smartctl_path = "/nonexistent/smartctl";
}

Test(discover, missing_tools_degrade_to_sysfs_with_warnings)
{
    cs_hw_inventory_t inv = discover("server", no_tools);
    cr_expect_eq(inv.count, 8);
    cr_expect(hw_warned(&inv, "nvme-cli not found at /nonexistent/nvme", "health unknown for nvme0n1, nvme1n1"));
    cr_expect(hw_warned(&inv, "smartctl not found at /nonexistent/smartctl",
                        "sda, sdb, sdc, sdd, sde, sdf, nvme0n1, nvme1n1"));
    const cs_hw_device_t *d = hw_device(&inv, "sdb");
    cr_expect_eq(d->health.state, CS_HW_HEALTH_UNKNOWN);
    cr_expect_str_eq(d->model, "Micron_5300_MTFD", "sysfs' truncated model");
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE, "unknown health does not exclude");
    d = hw_device(&inv, "nvme1n1");
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE, "its wear is unknown without the tools");
    d = hw_device(&inv, "sdf");
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    cs_hw_inventory_free(&inv);
}

static void smartctl_only(cs_hw_config_t *cfg)
{
    cfg->nvme_path = "/nonexistent/nvme";
}

Test(discover, nvme_health_from_smartctl_when_nvme_cli_is_missing)
{
    cs_hw_inventory_t inv = discover("server", smartctl_only);
    cr_expect(hw_warned(&inv, "nvme-cli not found", "using smartctl for nvme0n1, nvme1n1"));
    const cs_hw_device_t *d = hw_device(&inv, "nvme1n1");
    cr_expect_str_eq(d->health.source, "smartctl");
    cr_expect_eq(d->health.percent_used, 93);
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cs_hw_inventory_free(&inv);
}

static void fast_timeout(cs_hw_config_t *cfg)
{
    cfg->tool_timeout_ns = INT64_C(200000000);
}

Test(discover, hung_smartctl_times_out_per_device)
{
    setenv("FAKE_SMARTCTL_MODE", "hang", 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cs_hw_inventory_t inv = discover("server", fast_timeout);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_expect(took < 5.0, "6 devices x 200ms, took %.2fs", took);
    cr_expect(hw_warned(&inv, "smartctl on ", "/sdb: "));
    cr_expect(hw_warned(&inv, "timed out after 200ms and was killed", "health of sdb unknown"));
    const cs_hw_device_t *d = hw_device(&inv, "sdb");
    cr_expect_eq(d->health.state, CS_HW_HEALTH_UNKNOWN);
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    d = hw_device(&inv, "nvme0n1");
    cr_expect_eq(d->health.state, CS_HW_HEALTH_OK, "nvme-cli still answered");
    cs_hw_inventory_free(&inv);
}

Test(discover, garbage_from_tools)
{
    setenv("FAKE_HW_MODE", "garbage", 1);
    cs_hw_inventory_t inv = discover("server", NULL);
    cr_expect(hw_warned(&inv, "nvme-cli: `nvme list` failed: nvme list: not JSON", NULL));
    cr_expect(hw_warned(&inv, "nvme-cli on ", "nvme smart-log: not JSON"));
    cr_expect(hw_warned(&inv, "smartctl on ", "smartctl: not JSON"));
    cr_expect_eq(hw_device(&inv, "sdc")->health.state, CS_HW_HEALTH_UNKNOWN);
    cr_expect_eq(hw_device(&inv, "nvme0n1")->health.state, CS_HW_HEALTH_UNKNOWN);
    cs_hw_inventory_free(&inv);
}

Test(discover, nvme_cli_failing_with_status)
{
    setenv("FAKE_NVME_MODE", "exit:1", 1);
    cs_hw_inventory_t inv = discover("server", NULL);
    cr_expect(hw_warned(&inv, "nvme-cli on ", "exit status 1"));
    cr_expect_eq(hw_device(&inv, "nvme0n1")->health.state, CS_HW_HEALTH_UNKNOWN);
    cs_hw_inventory_free(&inv);
}

/* Every smartctl exit bit, as the process exit status. */
static cs_hw_inventory_t with_smartctl_exit(int status)
{
    char v[16];
    snprintf(v, sizeof v, "%d", status);
    setenv("FAKE_SMARTCTL_EXIT", v, 1);
    return discover("server", NULL);
}

Test(discover, smartctl_bit0_bit1_mean_no_data)
{
    for (int status = 1; status <= 2; status++) {
        cs_hw_inventory_t inv = with_smartctl_exit(status);
        const cs_hw_device_t *d = hw_device(&inv, "sdc");
        cr_expect_eq(d->health.state, CS_HW_HEALTH_UNKNOWN, "status %d", status);
        cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
        cr_expect(hw_warned(
            &inv, status == 1 ? "exit status 1 (command line did not parse)" : "exit status 2 (device open failed",
            "health of sdc unknown"));
        cs_hw_inventory_free(&inv);
    }
}

Test(discover, smartctl_bit2_is_a_warning)
{
    cs_hw_inventory_t inv = with_smartctl_exit(4);
    const cs_hw_device_t *d = hw_device(&inv, "sdc");
    cr_expect_eq(d->health.state, CS_HW_HEALTH_WARNING);
    cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE);
    cr_expect(strstr(d->health.notes.text[0], "data may be partial") != NULL);
    cs_hw_inventory_free(&inv);
}

Test(discover, smartctl_bits_3_4_7_exclude)
{
    int bits[] = {8, 16, 128};
    for (int i = 0; i < 3; i++) {
        cs_hw_inventory_t inv = with_smartctl_exit(bits[i]);
        const cs_hw_device_t *d = hw_device(&inv, "sdc");
        cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED, "status %d", bits[i]);
        cr_expect_eq(d->health.state, CS_HW_HEALTH_FAILED);
        cr_expect_eq(d->health.smartctl_exit_status, bits[i]);
        cr_expect_not(d->poolable);
        cs_hw_inventory_free(&inv);
    }
}

Test(discover, smartctl_bits_5_6_are_notes)
{
    int bits[] = {32, 64};
    for (int i = 0; i < 2; i++) {
        cs_hw_inventory_t inv = with_smartctl_exit(bits[i]);
        const cs_hw_device_t *d = hw_device(&inv, "sdc");
        cr_expect_eq(d->status, CS_HW_STATUS_AVAILABLE, "status %d", bits[i]);
        cr_expect_eq(d->health.state, CS_HW_HEALTH_WARNING);
        cr_expect_eq(d->health.notes.count, 1);
        cr_expect(d->poolable);
        cs_hw_inventory_free(&inv);
    }
}

Test(discover, empty_machine)
{
    cs_hw_inventory_t inv = discover("empty", NULL);
    cr_expect_eq(inv.count, 0);
    cr_expect_eq(inv.nwarnings, 0);
    cs_hw_inventory_free(&inv);
}

static void tools_off(cs_hw_config_t *cfg)
{
    cfg->nvme_path = "";
    cfg->smartctl_path = NULL;
}

Test(discover, malformed_attributes_warn_and_never_crash)
{
    cs_hw_inventory_t inv = discover("malformed", tools_off);
    cr_assert_eq(inv.count, 4, "sda sdb sdd nvme0n1; dangling sdc and hidden nvme0c0n1 skipped");
    cr_expect(hw_warned(&inv, "sys/class/block/sdc: cannot resolve", "device skipped"));
    cr_expect(hw_warned(&inv, "sda/size: not a number: 'abc'", NULL));
    cr_expect(hw_warned(&inv, "sda/queue/rotational: unexpected value 2", NULL));
    cr_expect(hw_warned(&inv, "sdb/size: cannot read", NULL));
    cr_expect(hw_warned(&inv, "sdd/size: not a number: '99999999999999999999999'", NULL));
    cr_expect(hw_warned(&inv, "sdd/queue/logical_block_size: cannot read (size limit exceeded)", NULL));
    cr_expect(hw_warned(&inv, "sdd/dev: missing or malformed", NULL));
    cr_expect(hw_warned(&inv, "mountinfo: 3 malformed lines ignored", NULL));
    cr_expect_not(hw_warned(&inv, "not found at", NULL), "tools switched off: no tool warnings");
    const cs_hw_device_t *d = hw_device(&inv, "sda");
    cr_expect_str_eq(d->model, "BAD?MODEL? with spaces");
    cr_expect_eq(d->rotational, -1);
    cr_expect_eq(d->size_bytes, 0);
    cr_expect_eq(d->status, CS_HW_STATUS_EXCLUDED);
    cr_expect_not(d->poolable);
    cr_expect_eq(hw_device(&inv, "sdd")->size_bytes, 0);
    cs_hw_inventory_free(&inv);
}

static void bad_sysfs(cs_hw_config_t *cfg)
{
    cfg->sysfs_root = "/nonexistent-sysfs";
}

Test(discover, no_block_class_is_an_error)
{
    hw_fixture_t fx;
    cs_hw_config_t cfg;
    hw_fixture(&fx, "server", &cfg);
    bad_sysfs(&cfg);
    cs_hw_inventory_t inv;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_discover(&cfg, &inv, &err), CS_EHARDWARE_DISCOVERY);
    cr_expect_str_eq(err.msg, "cannot list block devices in /nonexistent-sysfs/class/block (not "
                              "found): is sysfs mounted there? Use --sysfs-root to point at it");
    cr_expect_eq(inv.count, 0);
    cs_hw_inventory_free(&inv);
}

static char unreadable_proc[64] = "/nonexistent-proc";

static void no_proc(cs_hw_config_t *cfg)
{
    cfg->proc_root = unreadable_proc;
}

Test(discover, unreadable_mount_table_offers_nothing)
{
    cs_hw_inventory_t inv = discover("server", no_proc);
    cr_expect(hw_warned(&inv, "cannot read /nonexistent-proc/self/mountinfo", "no device is offered"));
    for (size_t i = 0; i < inv.count; i++)
        cr_expect_not(inv.devices[i].poolable, "%s", inv.devices[i].name);
    cr_expect_eq(hw_device(&inv, "sdb")->status, CS_HW_STATUS_UNVERIFIED);
    cs_hw_inventory_free(&inv);
}

static void no_dev(cs_hw_config_t *cfg)
{
    cfg->dev_root = "/nonexistent-dev";
}

Test(discover, unreadable_device_is_unverified)
{
    cs_hw_inventory_t inv = discover("server", no_dev);
    const cs_hw_device_t *d = hw_device(&inv, "sdb");
    cr_expect_eq(d->status, CS_HW_STATUS_UNVERIFIED);
    cr_expect_not(d->signatures_checked);
    cr_expect_str_eq(d->in_use.text[0], "cannot read /nonexistent-dev/sdb to check for signatures "
                                        "(No such file or directory)");
    cr_expect_not(d->poolable);
    cs_hw_inventory_free(&inv);
}
