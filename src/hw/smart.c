/* smart.c: parser for `smartctl -j -a` (smartmontools 7.x) and the meaning
 * of smartctl's exit-status bit mask. */
#include "couchestor/hw.h"

#include <jansson.h>
#include <limits.h>
#include <string.h>

#include "hw/internal.h"

void cs__hw_health_init(cs_hw_health_info_t *h)
{
    memset(h, 0, sizeof *h);
    h->state = CS_HW_HEALTH_UNKNOWN;
    h->temperature_c = INT_MIN;
    h->percent_used = -1;
    h->media_errors = UINT64_MAX;
    h->power_on_hours = UINT64_MAX;
    h->critical_warning = -1;
    h->smartctl_exit_status = -1;
    h->smart_passed = -1;
}

void cs_hw_smart_init(cs_hw_smart_t *out)
{
    memset(out, 0, sizeof *out);
    out->rotation_rate = -1;
    out->json_exit_status = -1;
    cs__hw_health_init(&out->health);
}

static const char *const cs__smart_bits[8] = {
    "command line did not parse",
    "device open failed, or the device did not answer IDENTIFY (or is in a low-power mode)",
    "a SMART or other command to the device failed, or a SMART data structure had a bad checksum",
    "SMART status check returned \"DISK FAILING\"",
    "prefail attributes are at or below their threshold",
    "SMART status is OK, but some attributes were at or below threshold in the past",
    "the device error log contains records of errors",
    "the device self-test log contains records of errors",
};

const char *cs_hw_smart_exit_bit_meaning(int bit)
{
    if (bit < 0 || bit > 7)
        return "unknown bit";
    return cs__smart_bits[bit];
}

int cs_hw_smart_apply_exit_status(int status, cs_hw_health_info_t *health, cs_hw_reasons_t *excluded)
{
    health->smartctl_exit_status = status;
    if (status < 0 || status > 255)
        return CS_ESMART;
    if (status & 0x03)
        return CS_ESMART;
    if (status & 0x04)
        cs_hw_reason_add(&health->notes, "smartctl: %s; data may be partial", cs__smart_bits[2]);
    if (status & 0x08) {
        health->smart_passed = 0;
        cs_hw_reason_add(excluded, "SMART overall-health self-assessment FAILED");
    }
    if (status & 0x10)
        cs_hw_reason_add(excluded, "SMART %s", cs__smart_bits[4]);
    if (status & 0x80)
        cs_hw_reason_add(excluded, "SMART: %s", cs__smart_bits[7]);
    if (status & 0x20)
        cs_hw_reason_add(&health->notes, "smartctl: %s", cs__smart_bits[5]);
    if (status & 0x40)
        cs_hw_reason_add(&health->notes, "smartctl: %s", cs__smart_bits[6]);
    if (status & 0x98)
        health->state = CS_HW_HEALTH_FAILED;
    else if ((status & 0x64) && health->state != CS_HW_HEALTH_FAILED)
        health->state = CS_HW_HEALTH_WARNING;
    return 0;
}

static void cs__add_u64(uint64_t *acc, uint64_t v)
{
    if (*acc == UINT64_MAX)
        *acc = 0;
    *acc = v > UINT64_MAX - 1 - *acc ? UINT64_MAX - 1 : *acc + v;
}

static void cs__ata_attributes(const json_t *root, cs_hw_smart_t *out)
{
    const json_t *table = json_object_get(json_object_get(root, "ata_smart_attributes"), "table");
    size_t i;
    const json_t *a;
    uint64_t media = UINT64_MAX;
    json_array_foreach(table, i, a)
    {
        long long id;
        uint64_t raw;
        if (!cs__hw_json_int(json_object_get(a, "id"), 0, 255, &id))
            continue;
        if (id != 5 && id != 197 && id != 198)
            continue;
        /* Vendors pack extra counters in the high raw bytes of these
         * attributes; the low 32 bits are the count. */
        if (cs__hw_json_u64(json_object_get(json_object_get(a, "raw"), "value"), &raw))
            cs__add_u64(&media, raw & 0xffffffffu);
    }
    if (media != UINT64_MAX)
        out->health.media_errors = media;
    /* Percentage used: smartctl 7.4 "endurance_used", or the device
     * statistics page entry older versions print. */
    long long pct;
    if (cs__hw_json_int(json_object_get(json_object_get(root, "endurance_used"), "current_percent"), 0, 255, &pct)) {
        out->health.percent_used = (int)pct;
        return;
    }
    const json_t *pages = json_object_get(json_object_get(root, "ata_device_statistics"), "pages");
    const json_t *page;
    json_array_foreach(pages, i, page)
    {
        size_t j;
        const json_t *e;
        json_array_foreach(json_object_get(page, "table"), j, e)
        {
            const json_t *name = json_object_get(e, "name");
            if (json_is_string(name) && strcmp(json_string_value(name), "Percentage Used Endurance Indicator") == 0 &&
                cs__hw_json_int(json_object_get(e, "value"), 0, 255, &pct))
                out->health.percent_used = (int)pct;
        }
    }
}

static void cs__scsi_counters(const json_t *root, cs_hw_smart_t *out)
{
    uint64_t media = UINT64_MAX, v;
    const json_t *log = json_object_get(root, "scsi_error_counter_log");
    static const char *const dirs[] = {"read", "write", "verify"};
    for (size_t i = 0; i < 3; i++)
        if (cs__hw_json_u64(json_object_get(json_object_get(log, dirs[i]), "total_uncorrected_errors"), &v))
            cs__add_u64(&media, v);
    if (cs__hw_json_u64(json_object_get(root, "scsi_grown_defect_list"), &v))
        cs__add_u64(&media, v);
    if (media != UINT64_MAX)
        out->health.media_errors = media;
    long long pct;
    if (cs__hw_json_int(json_object_get(root, "scsi_percentage_used_endurance_indicator"), 0, 255, &pct))
        out->health.percent_used = (int)pct;
}

static void cs__nvme_log(const json_t *root, cs_hw_smart_t *out)
{
    const json_t *log = json_object_get(root, "nvme_smart_health_information_log");
    if (!json_is_object(log))
        return;
    long long v;
    uint64_t u;
    if (cs__hw_json_int(json_object_get(log, "critical_warning"), 0, 255, &v))
        out->health.critical_warning = (int)v;
    if (cs__hw_json_int(json_object_get(log, "percentage_used"), 0, 255, &v))
        out->health.percent_used = (int)v;
    if (cs__hw_json_u64(json_object_get(log, "media_errors"), &u))
        out->health.media_errors = u;
}

int cs_hw_smart_parse(const char *text, size_t len, cs_hw_smart_t *out, cs_err_t *err)
{
    json_t *root = cs__hw_json_load(text, len, "smartctl", err);
    if (!root)
        return err ? err->code : CS_EPARSE;
    const json_t *sc = json_object_get(root, "smartctl");
    long long v;
    if (cs__hw_json_int(json_object_get(sc, "exit_status"), 0, 255, &v))
        out->json_exit_status = (int)v;
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(sc, "messages"), i, m)
    {
        const json_t *sev = json_object_get(m, "severity");
        if (!out->message[0] && json_is_string(sev) && strcmp(json_string_value(sev), "error") == 0)
            cs__hw_json_str(m, "string", out->message, sizeof out->message);
    }
    cs__hw_json_str(json_object_get(root, "device"), "protocol", out->protocol, sizeof out->protocol);
    cs__hw_json_str(root, "model_name", out->model, sizeof out->model);
    if (!out->model[0])
        cs__hw_json_str(root, "scsi_model_name", out->model, sizeof out->model);
    if (!out->model[0]) {
        char vendor[64] = "", product[64] = "";
        cs__hw_json_str(root, "scsi_vendor", vendor, sizeof vendor);
        cs__hw_json_str(root, "scsi_product", product, sizeof product);
        if (!vendor[0])
            cs__hw_json_str(root, "vendor", vendor, sizeof vendor);
        if (!product[0])
            cs__hw_json_str(root, "product", product, sizeof product);
        snprintf(out->model, sizeof out->model, "%s%s%s", vendor, vendor[0] && product[0] ? " " : "", product);
    }
    cs__hw_json_str(root, "serial_number", out->serial, sizeof out->serial);
    cs__hw_json_str(root, "firmware_version", out->firmware, sizeof out->firmware);
    if (!out->firmware[0])
        cs__hw_json_str(root, "scsi_revision", out->firmware, sizeof out->firmware);
    if (!out->firmware[0])
        cs__hw_json_str(root, "revision", out->firmware, sizeof out->firmware);
    if (cs__hw_json_int(json_object_get(root, "rotation_rate"), 0, 1000000, &v))
        out->rotation_rate = (int)v;

    bool any = false;
    const json_t *passed = json_object_get(json_object_get(root, "smart_status"), "passed");
    if (json_is_boolean(passed)) {
        out->health.smart_passed = json_is_true(passed) ? 1 : 0;
        any = true;
    }
    if (cs__hw_json_int(json_object_get(json_object_get(root, "temperature"), "current"), -273, 1000, &v))
        out->health.temperature_c = (int)v;
    uint64_t u;
    if (cs__hw_json_u64(json_object_get(json_object_get(root, "power_on_time"), "hours"), &u))
        out->health.power_on_hours = u;
    cs__ata_attributes(root, out);
    cs__scsi_counters(root, out);
    cs__nvme_log(root, out);
    any = any || out->health.media_errors != UINT64_MAX || out->health.percent_used >= 0 ||
          out->health.critical_warning >= 0;
    json_decref(root);
    if (any) {
        snprintf(out->health.source, sizeof out->health.source, "smartctl");
        if (out->health.state == CS_HW_HEALTH_UNKNOWN)
            out->health.state = CS_HW_HEALTH_OK;
    }
    return 0;
}
