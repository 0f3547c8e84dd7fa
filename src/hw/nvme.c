/* nvme.c: parsers for nvme-cli's JSON output (`nvme list`, `nvme smart-log`). */
#include "couchestor/hw.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "hw/internal.h"

json_t *cs__hw_json_load(const char *text, size_t len, const char *what, cs_err_t *err)
{
    if (!text || len == 0)
        return cs_err_set(err, CS_EPARSE, "%s: empty output", what), NULL;
    if (len > CS__HW_JSON_MAX)
        return cs_err_set(err, CS_ETOOBIG, "%s: output of %zu bytes is larger than %zu", what, len, CS__HW_JSON_MAX),
               NULL;
    json_error_t je;
    /* Integers as reals: 128-bit NVMe counters must not fail the whole
     * document; the fields we keep fit a double's exact range in practice. */
    json_t *root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL, &je);
    if (!root)
        return cs_err_set(err, CS_EPARSE, "%s: not JSON (line %d, column %d: %s)", what, je.line, je.column, je.text),
               NULL;
    if (!json_is_object(root)) {
        json_decref(root);
        return cs_err_set(err, CS_EPARSE, "%s: expected a JSON object", what), NULL;
    }
    return root;
}

bool cs__hw_json_u64(const json_t *v, uint64_t *out)
{
    double d;
    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        /* "1,234" (some nvme-cli versions group digits) or "308 K". */
        const char *s = json_string_value(v);
        char digits[32];
        size_t n = 0;
        for (; *s && n + 1 < sizeof digits; s++) {
            if (*s >= '0' && *s <= '9')
                digits[n++] = *s;
            else if (*s == ',' && n > 0)
                continue;
            else if (n > 0)
                break;
            else if (*s != ' ')
                return false;
        }
        if (n == 0)
            return false;
        digits[n] = '\0';
        uint64_t u;
        if (cs_hw_attr_parse_u64(digits, n, &u) != 0)
            return false;
        *out = u;
        return true;
    } else {
        return false;
    }
    if (!isfinite(d) || d < 0 || d >= 18446744073709551616.0)
        return false;
    *out = (uint64_t)d;
    return true;
}

bool cs__hw_json_int(const json_t *v, long long lo, long long hi, long long *out)
{
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (!isfinite(d) || d < (double)lo || d > (double)hi)
        return false;
    *out = (long long)d;
    return true;
}

void cs__hw_json_str(const json_t *obj, const char *key, char *out, size_t cap)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        cs_hw_attr_clean(json_string_value(v), json_string_length(v), out, cap);
}

int cs_hw_nvme_list_parse(const char *text, size_t len, cs_hw_nvme_ns_t *out, size_t cap, size_t *count, cs_err_t *err)
{
    *count = 0;
    json_t *root = cs__hw_json_load(text, len, "nvme list", err);
    if (!root)
        return err ? err->code : CS_EPARSE;
    json_t *devs = json_object_get(root, "Devices");
    if (!json_is_array(devs)) {
        json_decref(root);
        return cs_err_set(err, CS_EPARSE, "nvme list: no \"Devices\" array");
    }
    size_t i;
    json_t *d;
    json_array_foreach(devs, i, d)
    {
        if (*count >= cap)
            break;
        const json_t *path = json_object_get(d, "DevicePath");
        if (!json_is_string(path))
            continue;
        const char *p = json_string_value(path);
        const char *base = strrchr(p, '/');
        base = base ? base + 1 : p;
        cs_hw_nvme_ns_t *ns = &out[*count];
        memset(ns, 0, sizeof *ns);
        cs_hw_attr_clean(base, strlen(base), ns->device, sizeof ns->device);
        if (!ns->device[0])
            continue;
        cs__hw_json_str(d, "ModelNumber", ns->model, sizeof ns->model);
        cs__hw_json_str(d, "SerialNumber", ns->serial, sizeof ns->serial);
        cs__hw_json_str(d, "Firmware", ns->firmware, sizeof ns->firmware);
        uint64_t u;
        if (cs__hw_json_u64(json_object_get(d, "PhysicalSize"), &u))
            ns->physical_size = u;
        if (cs__hw_json_u64(json_object_get(d, "SectorSize"), &u) && u <= UINT32_MAX)
            ns->sector_size = (uint32_t)u;
        (*count)++;
    }
    json_decref(root);
    return 0;
}

int cs_hw_nvme_smart_parse(const char *text, size_t len, cs_hw_health_info_t *out, cs_err_t *err)
{
    json_t *root = cs__hw_json_load(text, len, "nvme smart-log", err);
    if (!root)
        return err ? err->code : CS_EPARSE;
    int found = 0;
    uint64_t u;
    const json_t *cw = json_object_get(root, "critical_warning");
    if (json_is_object(cw))
        cw = json_object_get(cw, "value");
    if (cs__hw_json_u64(cw, &u) && u <= 255) {
        out->critical_warning = (int)u;
        found++;
    }
    if (cs__hw_json_u64(json_object_get(root, "temperature"), &u) && u < 1000) {
        /* The log reports Kelvin; a value that cannot be Kelvin is Celsius. */
        out->temperature_c = u >= 200 ? (int)u - 273 : (int)u;
        found++;
    }
    if (cs__hw_json_u64(json_object_get(root, "percent_used"), &u) && u <= 255) {
        out->percent_used = (int)u;
        found++;
    }
    if (cs__hw_json_u64(json_object_get(root, "media_errors"), &u)) {
        out->media_errors = u;
        found++;
    }
    if (cs__hw_json_u64(json_object_get(root, "power_on_hours"), &u)) {
        out->power_on_hours = u;
        found++;
    }
    json_decref(root);
    if (!found)
        return cs_err_set(err, CS_EPARSE,
                          "nvme smart-log: none of critical_warning, temperature, percent_used, "
                          "media_errors is present");
    snprintf(out->source, sizeof out->source, "nvme-cli");
    if (out->state == CS_HW_HEALTH_UNKNOWN)
        out->state = CS_HW_HEALTH_OK;
    return 0;
}
