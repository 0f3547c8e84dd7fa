/* Tests for the smartctl JSON parser (recordings of smartctl 7.x) and the
 * exit-status bit mask. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "couchestor/hw.h"
#include "hw/hw_test.h"

static cs_hw_smart_t parse(const char *rel)
{
    size_t len;
    char *text = hw_recorded(rel, &len);
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_smart_parse(text, len, &s, &err), 0, "%s: %s", rel, err.msg);
    free(text);
    return s;
}

Test(smart, ata_ssd)
{
    cs_hw_smart_t s = parse("smartctl/sdb.json");
    cr_expect_str_eq(s.protocol, "ATA");
    cr_expect_str_eq(s.model, "Micron_5300_MTFDDAK1T9TDS");
    cr_expect_str_eq(s.serial, "2119300ABCDE");
    cr_expect_str_eq(s.firmware, "D3MU001");
    cr_expect_eq(s.rotation_rate, 0);
    cr_expect_eq(s.json_exit_status, 0);
    cr_expect_eq(s.health.smart_passed, 1);
    cr_expect_eq(s.health.temperature_c, 31);
    cr_expect_eq(s.health.power_on_hours, 8812);
    cr_expect_eq(s.health.media_errors, 0);
    cr_expect_eq(s.health.percent_used, 4);
    cr_expect_str_eq(s.health.source, "smartctl");
    cr_expect_eq(s.health.state, CS_HW_HEALTH_OK);
}

Test(smart, ata_hdd_failing)
{
    cs_hw_smart_t s = parse("smartctl/sdf.json");
    cr_expect_eq(s.rotation_rate, 5400);
    cr_expect_eq(s.json_exit_status, 88);
    cr_expect_eq(s.health.smart_passed, 0);
    cr_expect_eq(s.health.media_errors, 1912 + 48 + 48, "attributes 5 + 197 + 198");
    cr_expect_eq(s.health.percent_used, -1);
}

Test(smart, sas_hdd)
{
    cs_hw_smart_t s = parse("smartctl/sdd.json");
    cr_expect_str_eq(s.protocol, "SCSI");
    cr_expect_str_eq(s.model, "HGST HUH721212AL5200");
    cr_expect_str_eq(s.serial, "8DH1ABCD");
    cr_expect_str_eq(s.firmware, "A3D0");
    cr_expect_eq(s.rotation_rate, 7200);
    cr_expect_eq(s.health.media_errors, 0);
    cr_expect_eq(s.health.temperature_c, 33);
    cr_expect_eq(s.health.power_on_hours, 28114);
}

Test(smart, nvme_through_smartctl)
{
    cs_hw_smart_t s = parse("smartctl/nvme1.json");
    cr_expect_str_eq(s.protocol, "NVMe");
    cr_expect_eq(s.rotation_rate, -1);
    cr_expect_eq(s.health.percent_used, 93);
    cr_expect_eq(s.health.critical_warning, 0);
    cr_expect_eq(s.health.media_errors, 0);
    cr_expect_eq(s.health.temperature_c, 38);
}

Test(smart, open_failed)
{
    cs_hw_smart_t s = parse("smartctl/open-failed.json");
    cr_expect_eq(s.json_exit_status, 2);
    cr_expect_str_eq(s.message, "Smartctl open device: /dev/sdx failed: No such device");
    cr_expect_eq(s.health.state, CS_HW_HEALTH_UNKNOWN);
    cr_expect_str_eq(s.health.source, "");
}

Test(smart, garbage_and_wrong_types)
{
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_smart_parse("smartctl 7.3 ...", 16, &s, &err), CS_EPARSE);
    cr_expect(strncmp(err.msg, "smartctl: not JSON", 18) == 0, "%s", err.msg);
    const char *odd = "{\"smart_status\":{\"passed\":\"yes\"},\"rotation_rate\":\"fast\","
                      "\"ata_smart_attributes\":{\"table\":[{\"id\":5,\"raw\":{\"value\":\"x\"}},7]},"
                      "\"temperature\":{\"current\":1e300}}";
    cr_expect_eq(cs_hw_smart_parse(odd, strlen(odd), &s, &err), 0);
    cr_expect_eq(s.health.smart_passed, -1);
    cr_expect_eq(s.rotation_rate, -1);
    cr_expect_eq(s.health.media_errors, UINT64_MAX);
    cr_expect_eq(s.health.temperature_c, INT_MIN);
}

Test(smart, exit_bit_meanings)
{
    cr_expect_str_eq(cs_hw_smart_exit_bit_meaning(0), "command line did not parse");
    cr_expect_str_eq(cs_hw_smart_exit_bit_meaning(3), "SMART status check returned \"DISK FAILING\"");
    cr_expect_str_eq(cs_hw_smart_exit_bit_meaning(7), "the device self-test log contains records of errors");
    cr_expect_str_eq(cs_hw_smart_exit_bit_meaning(8), "unknown bit");
}

Test(smart, each_exit_bit)
{
    struct {
        int status, rc;
        cs_hw_health_t state;
        int excluded, notes;
        const char *text;
    } cases[] = {
        {0, 0, CS_HW_HEALTH_OK, 0, 0, NULL},
        {1, CS_ESMART, CS_HW_HEALTH_OK, 0, 0, NULL},
        {2, CS_ESMART, CS_HW_HEALTH_OK, 0, 0, NULL},
        {4, 0, CS_HW_HEALTH_WARNING, 0, 1, "data may be partial"},
        {8, 0, CS_HW_HEALTH_FAILED, 1, 0, "SMART overall-health self-assessment FAILED"},
        {16, 0, CS_HW_HEALTH_FAILED, 1, 0, "SMART prefail attributes are at or below their threshold"},
        {32, 0, CS_HW_HEALTH_WARNING, 0, 1, "were at or below threshold in the past"},
        {64, 0, CS_HW_HEALTH_WARNING, 0, 1, "error log contains records of errors"},
        {128, 0, CS_HW_HEALTH_FAILED, 1, 0, "self-test log contains records of errors"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_hw_smart_t s;
        cs_hw_smart_init(&s);
        s.health.state = CS_HW_HEALTH_OK;
        cs_hw_reasons_t excluded = {0};
        int rc = cs_hw_smart_apply_exit_status(cases[i].status, &s.health, &excluded);
        cr_expect_eq(rc, cases[i].rc, "status %d", cases[i].status);
        if (rc != 0)
            continue;
        cr_expect_eq(s.health.state, cases[i].state, "status %d", cases[i].status);
        cr_expect_eq(excluded.count, cases[i].excluded, "status %d", cases[i].status);
        cr_expect_eq(s.health.notes.count, cases[i].notes, "status %d", cases[i].status);
        cr_expect_eq(s.health.smartctl_exit_status, cases[i].status);
        if (cases[i].text) {
            const char *got = cases[i].excluded ? excluded.text[0] : s.health.notes.text[0];
            cr_expect(strstr(got, cases[i].text) != NULL, "status %d: %s", cases[i].status, got);
        }
    }
}
