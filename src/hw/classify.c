/* classify.c: media type, suggested tier and health verdict of a device;
 * pure functions over a cs_hw_device_t. */
#include "couchestor/hw.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>

static const char *const cs__tiers[] = {"unknown", "hot", "warm", "cold", "none"};
static const char *const cs__media[] = {"unknown", "nvme", "ssd", "hdd"};
static const char *const cs__health[] = {"unknown", "ok", "warning", "failed"};
static const char *const cs__status[] = {"available", "excluded", "in-use", "unverified"};

const char *cs_hw_tier_name(cs_hw_tier_t t)
{
    return (unsigned)t <= CS_HW_TIER_NONE ? cs__tiers[t] : "unknown";
}

const char *cs_hw_media_name(cs_hw_media_t m)
{
    return (unsigned)m <= CS_HW_MEDIA_HDD ? cs__media[m] : "unknown";
}

const char *cs_hw_health_name(cs_hw_health_t h)
{
    return (unsigned)h <= CS_HW_HEALTH_FAILED ? cs__health[h] : "unknown";
}

const char *cs_hw_status_name(cs_hw_status_t s)
{
    return (unsigned)s <= CS_HW_STATUS_UNVERIFIED ? cs__status[s] : "unknown";
}

int cs_hw_tier_parse(const char *text, cs_hw_tier_t *out, cs_err_t *err)
{
    for (int t = CS_HW_TIER_HOT; text && t <= CS_HW_TIER_NONE; t++) {
        if (strcasecmp(text, cs__tiers[t]) == 0) {
            *out = (cs_hw_tier_t)t;
            return 0;
        }
    }
    return cs_err_set(err, CS_EINVAL, "unknown tier '%s': use hot, warm, cold or none", text ? text : "(null)");
}

int cs_hw_tier_override_parse(char *text, cs_hw_tier_override_t *out, cs_err_t *err)
{
    char *eq = text ? strrchr(text, '=') : NULL;
    if (!eq || eq == text || eq[1] == '\0')
        return cs_err_set(err, CS_EINVAL,
                          "tier override '%s' must be PATTERN=TIER, e.g. 'sdb=warm' or "
                          "'*EXOS*=cold'",
                          text ? text : "(null)");
    cs_hw_tier_t tier;
    int rc = cs_hw_tier_parse(eq + 1, &tier, err);
    if (rc != 0)
        return cs_err_prefix(err, "tier override '%s': ", text);
    *eq = '\0';
    out->pattern = text;
    out->tier = tier;
    return 0;
}

void cs_hw_reason_add(cs_hw_reasons_t *r, const char *fmt, ...)
{
    char buf[CS_HW_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (int i = 0; i < r->count && i < CS_HW_REASONS_MAX; i++)
        if (strcmp(r->text[i], buf) == 0)
            return;
    if (r->count >= CS_HW_REASONS_MAX)
        return;
    memcpy(r->text[r->count++], buf, sizeof buf);
}

cs_hw_media_t cs_hw_classify_media(const cs_hw_device_t *dev, int smart_rotation)
{
    if (strncmp(dev->name, "nvme", 4) == 0 || dev->controller[0])
        return CS_HW_MEDIA_NVME;
    if (smart_rotation == 0)
        return CS_HW_MEDIA_SSD;
    if (smart_rotation > 0)
        return CS_HW_MEDIA_HDD;
    if (dev->rotational == 0)
        return CS_HW_MEDIA_SSD;
    if (dev->rotational == 1)
        return CS_HW_MEDIA_HDD;
    return CS_HW_MEDIA_UNKNOWN;
}

void cs_hw_classify_tier(cs_hw_device_t *dev, const cs_hw_tier_override_t *overrides, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = overrides[i].pattern;
        if (!p)
            continue;
        if (fnmatch(p, dev->name, 0) == 0 || (dev->model[0] && fnmatch(p, dev->model, FNM_CASEFOLD) == 0)) {
            dev->tier = overrides[i].tier;
            snprintf(dev->tier_source, sizeof dev->tier_source, "override '%s'", p);
            return;
        }
    }
    switch (dev->media) {
    case CS_HW_MEDIA_NVME:
        dev->tier = CS_HW_TIER_HOT;
        snprintf(dev->tier_source, sizeof dev->tier_source, "nvme");
        break;
    case CS_HW_MEDIA_SSD:
        dev->tier = CS_HW_TIER_WARM;
        snprintf(dev->tier_source, sizeof dev->tier_source, "non-rotational");
        break;
    case CS_HW_MEDIA_HDD:
        dev->tier = CS_HW_TIER_COLD;
        snprintf(dev->tier_source, sizeof dev->tier_source, "rotational");
        break;
    default:
        dev->tier = CS_HW_TIER_UNKNOWN;
        snprintf(dev->tier_source, sizeof dev->tier_source, "rotation unknown");
        break;
    }
}

void cs_hw_classify_health(cs_hw_device_t *dev, const cs_hw_config_t *cfg)
{
    cs_hw_health_info_t *h = &dev->health;
    int before = dev->excluded.count;
    if (h->smart_passed == 0)
        cs_hw_reason_add(&dev->excluded, "SMART overall-health self-assessment FAILED");
    if (h->critical_warning > 0) {
        static const char *const bits[] = {"available spare below threshold",
                                           "temperature outside threshold",
                                           "reliability degraded by media or internal errors",
                                           "media is read-only",
                                           "volatile memory backup failed",
                                           "persistent memory region is read-only"};
        char what[CS_HW_REASON_MAX] = "";
        size_t used = 0;
        for (int b = 0; b < 6; b++)
            if (h->critical_warning & (1 << b)) {
                int w = snprintf(what + used, sizeof what - used, "%s%s", used ? ", " : "", bits[b]);
                if (w > 0 && (size_t)w < sizeof what - used)
                    used += (size_t)w;
            }
        cs_hw_reason_add(&dev->excluded, "NVMe critical warning 0x%02x (%s)", h->critical_warning,
                         used ? what : "reserved bits");
    }
    if (h->percent_used >= 0 && h->percent_used >= cfg->percent_used_limit)
        cs_hw_reason_add(&dev->excluded, "endurance %d%% used (limit %d%%)", h->percent_used, cfg->percent_used_limit);
    if (h->media_errors != UINT64_MAX && h->media_errors > cfg->media_error_threshold)
        cs_hw_reason_add(&dev->excluded, "%llu media errors (threshold %llu)", (unsigned long long)h->media_errors,
                         (unsigned long long)cfg->media_error_threshold);
    if (dev->excluded.count > before || h->smart_passed == 0)
        h->state = CS_HW_HEALTH_FAILED;
    else if (h->state == CS_HW_HEALTH_OK && h->notes.count > 0)
        h->state = CS_HW_HEALTH_WARNING;
}
