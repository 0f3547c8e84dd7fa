/* Tests for media, tier and health classification. */
#include <criterion/criterion.h>
#include <limits.h>
#include <string.h>

#include "couchestor/hw.h"

static cs_hw_device_t dev(const char *name, int rotational, const char *model)
{
    cs_hw_device_t d;
    memset(&d, 0, sizeof d);
    snprintf(d.name, sizeof d.name, "%s", name);
    snprintf(d.model, sizeof d.model, "%s", model);
    d.rotational = rotational;
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    d.health = s.health;
    d.health.state = CS_HW_HEALTH_OK;
    return d;
}

Test(classify, media)
{
    cs_hw_device_t d = dev("nvme0n1", 0, "");
    cr_expect_eq(cs_hw_classify_media(&d, -1), CS_HW_MEDIA_NVME);
    d = dev("sda", 0, "");
    cr_expect_eq(cs_hw_classify_media(&d, -1), CS_HW_MEDIA_SSD);
    d = dev("sda", 1, "");
    cr_expect_eq(cs_hw_classify_media(&d, -1), CS_HW_MEDIA_HDD);
    cr_expect_eq(cs_hw_classify_media(&d, 0), CS_HW_MEDIA_SSD, "smartctl's rotation rate wins");
    d = dev("sda", 0, "");
    cr_expect_eq(cs_hw_classify_media(&d, 7200), CS_HW_MEDIA_HDD);
    d = dev("sda", -1, "");
    cr_expect_eq(cs_hw_classify_media(&d, -1), CS_HW_MEDIA_UNKNOWN);
}

Test(classify, default_tiers)
{
    cs_hw_device_t d = dev("nvme0n1", 0, "");
    d.media = CS_HW_MEDIA_NVME;
    cs_hw_classify_tier(&d, NULL, 0);
    cr_expect_eq(d.tier, CS_HW_TIER_HOT);
    cr_expect_str_eq(d.tier_source, "nvme");
    d.media = CS_HW_MEDIA_SSD;
    cs_hw_classify_tier(&d, NULL, 0);
    cr_expect_eq(d.tier, CS_HW_TIER_WARM);
    d.media = CS_HW_MEDIA_HDD;
    cs_hw_classify_tier(&d, NULL, 0);
    cr_expect_eq(d.tier, CS_HW_TIER_COLD);
    d.media = CS_HW_MEDIA_UNKNOWN;
    cs_hw_classify_tier(&d, NULL, 0);
    cr_expect_eq(d.tier, CS_HW_TIER_UNKNOWN);
}

Test(classify, overrides_by_name_and_model_first_match_wins)
{
    cs_hw_tier_override_t o[] = {{"sdb", CS_HW_TIER_HOT}, {"*exos*", CS_HW_TIER_WARM}, {"sd*", CS_HW_TIER_NONE}};
    cs_hw_device_t d = dev("sdb", 1, "ST16000NM001G Exos");
    d.media = CS_HW_MEDIA_HDD;
    cs_hw_classify_tier(&d, o, 3);
    cr_expect_eq(d.tier, CS_HW_TIER_HOT);
    cr_expect_str_eq(d.tier_source, "override 'sdb'");
    d = dev("sdc", 1, "ST16000NM001G EXOS X16");
    cs_hw_classify_tier(&d, o, 3);
    cr_expect_eq(d.tier, CS_HW_TIER_WARM, "model glob is case-insensitive");
    d = dev("sdd", 1, "WDC");
    cs_hw_classify_tier(&d, o, 3);
    cr_expect_eq(d.tier, CS_HW_TIER_NONE);
}

Test(classify, override_parse)
{
    char ok[] = "*EXOS*=cold";
    cs_hw_tier_override_t o;
    cs_err_t err = {0};
    cr_expect_eq(cs_hw_tier_override_parse(ok, &o, &err), 0);
    cr_expect_str_eq(o.pattern, "*EXOS*");
    cr_expect_eq(o.tier, CS_HW_TIER_COLD);
    char bad_tier[] = "sdb=lukewarm";
    cr_expect_eq(cs_hw_tier_override_parse(bad_tier, &o, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "tier override 'sdb=lukewarm': unknown tier 'lukewarm': use hot, warm, cold or none");
    char no_eq[] = "sdb";
    cr_expect_eq(cs_hw_tier_override_parse(no_eq, &o, &err), CS_EINVAL);
    char empty_pat[] = "=hot";
    cr_expect_eq(cs_hw_tier_override_parse(empty_pat, &o, &err), CS_EINVAL);
}

Test(classify, health_limits)
{
    cs_hw_config_t cfg;
    cs_hw_config_init(&cfg);
    cs_hw_device_t d = dev("nvme0n1", 0, "");
    d.health.critical_warning = 0;
    d.health.percent_used = 89;
    d.health.media_errors = 0;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_eq(d.excluded.count, 0);
    cr_expect_eq(d.health.state, CS_HW_HEALTH_OK);

    d = dev("nvme0n1", 0, "");
    d.health.percent_used = 90;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_eq(d.excluded.count, 1);
    cr_expect_str_eq(d.excluded.text[0], "endurance 90% used (limit 90%)");
    cr_expect_eq(d.health.state, CS_HW_HEALTH_FAILED);

    d = dev("nvme0n1", 0, "");
    d.health.critical_warning = 0x0c;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_str_eq(d.excluded.text[0], "NVMe critical warning 0x0c (reliability degraded by media "
                                         "or internal errors, media is read-only)");

    d = dev("sdc", 1, "");
    d.health.media_errors = 3;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_str_eq(d.excluded.text[0], "3 media errors (threshold 0)");
    d = dev("sdc", 1, "");
    d.health.media_errors = 3;
    cfg.media_error_threshold = 3;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_eq(d.excluded.count, 0, "at the threshold is allowed");

    d = dev("sdf", 1, "");
    d.health.smart_passed = 0;
    cs_hw_classify_health(&d, &cfg);
    cr_expect_str_eq(d.excluded.text[0], "SMART overall-health self-assessment FAILED");
    cr_expect_eq(d.health.state, CS_HW_HEALTH_FAILED);
}

Test(classify, reasons_are_bounded_and_deduplicated)
{
    cs_hw_reasons_t r = {0};
    for (int i = 0; i < 20; i++)
        cs_hw_reason_add(&r, "reason %d", i);
    cr_expect_eq(r.count, CS_HW_REASONS_MAX);
    cr_expect_str_eq(r.text[CS_HW_REASONS_MAX - 1], "reason 7");
    cs_hw_reasons_t s = {0};
    cs_hw_reason_add(&s, "same");
    cs_hw_reason_add(&s, "same");
    cr_expect_eq(s.count, 1);
}

Test(classify, names)
{
    cr_expect_str_eq(cs_hw_tier_name(CS_HW_TIER_WARM), "warm");
    cr_expect_str_eq(cs_hw_media_name(CS_HW_MEDIA_HDD), "hdd");
    cr_expect_str_eq(cs_hw_health_name(CS_HW_HEALTH_FAILED), "failed");
    cr_expect_str_eq(cs_hw_status_name(CS_HW_STATUS_IN_USE), "in-use");
    cr_expect_str_eq(cs_hw_tier_name((cs_hw_tier_t)99), "unknown");
}
