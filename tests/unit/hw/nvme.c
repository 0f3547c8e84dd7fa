/* Tests for the nvme-cli JSON parsers, on recordings of nvme-cli 2.x. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "couchestor/hw.h"
#include "hw/hw_test.h"

static cs_hw_health_info_t unknown_health(void)
{
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    return s.health;
}

Test(nvme, list_recording)
{
    size_t len;
    char *text = hw_recorded("nvme/list.json", &len);
    cs_hw_nvme_ns_t ns[4];
    size_t n = 0;
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_nvme_list_parse(text, len, ns, 4, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(ns[0].device, "nvme0n1");
    cr_expect_str_eq(ns[0].model, "SAMSUNG MZQL23T8HCLS-00A07");
    cr_expect_str_eq(ns[0].serial, "S64HNE0T512345");
    cr_expect_str_eq(ns[0].firmware, "GDC5602Q");
    cr_expect_eq(ns[0].physical_size, UINT64_C(3840755982336));
    cr_expect_eq(ns[0].sector_size, 4096);
    cr_expect_str_eq(ns[1].device, "nvme1n1");
    /* cap is respected */
    cr_assert_eq(cs_hw_nvme_list_parse(text, len, ns, 1, &n, &err), 0);
    cr_expect_eq(n, 1);
    free(text);
}

Test(nvme, list_errors)
{
    cs_hw_nvme_ns_t ns[2];
    size_t n = 9;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_nvme_list_parse("", 0, ns, 2, &n, &err), CS_EPARSE);
    cr_expect_eq(n, 0);
    cr_expect_eq(cs_hw_nvme_list_parse("[1,2]", 5, ns, 2, &n, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "nvme list: expected a JSON object");
    cr_expect_eq(cs_hw_nvme_list_parse("{\"Devices\":{}}", 14, ns, 2, &n, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "nvme list: no \"Devices\" array");
    const char *partial =
        "{\"Devices\":[{\"ModelNumber\":\"x\"},{\"DevicePath\":7},{\"DevicePath\":\"/dev/nvme3n1\"}]}";
    cr_expect_eq(cs_hw_nvme_list_parse(partial, strlen(partial), ns, 2, &n, &err), 0);
    cr_expect_eq(n, 1);
    cr_expect_str_eq(ns[0].device, "nvme3n1");
    cr_expect_str_eq(ns[0].model, "");
    const char *garbage = "Segmentation fault?\n{\"Devices\": [";
    cr_expect_eq(cs_hw_nvme_list_parse(garbage, strlen(garbage), ns, 2, &n, &err), CS_EPARSE);
    cr_expect(strstr(err.msg, "nvme list: not JSON (line 1") != NULL, "%s", err.msg);
}

Test(nvme, smart_log_recording)
{
    size_t len;
    char *text = hw_recorded("nvme/smart-log/nvme0.json", &len);
    cs_hw_health_info_t h = unknown_health();
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_nvme_smart_parse(text, len, &h, &err), 0, "%s", err.msg);
    cr_expect_eq(h.critical_warning, 0);
    cr_expect_eq(h.temperature_c, 36, "309 K");
    cr_expect_eq(h.percent_used, 2);
    cr_expect_eq(h.media_errors, 0);
    cr_expect_eq(h.power_on_hours, 20455);
    cr_expect_str_eq(h.source, "nvme-cli");
    cr_expect_eq(h.state, CS_HW_HEALTH_OK);
    free(text);
}

Test(nvme, smart_log_verbose_object_128bit_and_strings)
{
    size_t len;
    char *text = hw_recorded("nvme/smart-log-verbose.json", &len);
    cs_hw_health_info_t h = unknown_health();
    cs_err_t err = {0};
    cr_assert_eq(cs_hw_nvme_smart_parse(text, len, &h, &err), 0, "%s", err.msg);
    cr_expect_eq(h.critical_warning, 6);
    cr_expect_eq(h.temperature_c, 85);
    cr_expect_eq(h.percent_used, 14);
    cr_expect_eq(h.media_errors, 17);
    cr_expect_eq(h.power_on_hours, 1234, "\"1,234\"");
    free(text);
}

Test(nvme, smart_log_without_known_fields_or_bad_values)
{
    cs_hw_health_info_t h = unknown_health();
    cs_err_t err = {0};
    const char *none = "{\"foo\": 1}";
    cr_expect_eq(cs_hw_nvme_smart_parse(none, strlen(none), &h, &err), CS_EPARSE);
    cr_expect_eq(h.state, CS_HW_HEALTH_UNKNOWN);
    const char *bad = "{\"critical_warning\": 300, \"percent_used\": -1, \"temperature\": \"hot\", "
                      "\"media_errors\": 2}";
    cr_expect_eq(cs_hw_nvme_smart_parse(bad, strlen(bad), &h, &err), 0);
    cr_expect_eq(h.critical_warning, -1, "out of range: stays unknown");
    cr_expect_eq(h.percent_used, -1);
    cr_expect_eq(h.temperature_c, INT_MIN);
    cr_expect_eq(h.media_errors, 2);
    const char *celsius = "{\"temperature\": 41}";
    cr_expect_eq(cs_hw_nvme_smart_parse(celsius, strlen(celsius), &h, &err), 0);
    cr_expect_eq(h.temperature_c, 41);
}
