/* hw_test.h: fixture paths and configurations shared by the hw unit tests. */
#ifndef CS_TEST_HW_TEST_H
#define CS_TEST_HW_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "couchestor/hw.h"

/* Paths into tests/fixtures/hw (CTest sets CS_SOURCE_DIR). */
typedef struct hw_fixture_s {
    char sys[1024], proc[1024], dev[1024], nvme[1024], smartctl[1024], recorded[1024];
} hw_fixture_t;

static inline const char *hw_source_dir(void)
{
    const char *src = getenv("CS_SOURCE_DIR");
    cr_assert(src != NULL, "CS_SOURCE_DIR is not set: run the test through ctest");
    return src;
}

/* tree: "server", "empty" or "malformed". Fills cfg with the fixture's roots
 * and the fake tools, a short tool timeout, and default limits. */
static inline void hw_fixture(hw_fixture_t *fx, const char *tree, cs_hw_config_t *cfg)
{
    const char *src = hw_source_dir();
    snprintf(fx->sys, sizeof fx->sys, "%s/tests/fixtures/hw/%s/sys", src, tree);
    snprintf(fx->proc, sizeof fx->proc, "%s/tests/fixtures/hw/%s/proc", src, tree);
    snprintf(fx->dev, sizeof fx->dev, "%s/tests/fixtures/hw/%s/dev", src, tree);
    snprintf(fx->nvme, sizeof fx->nvme, "%s/tests/fixtures/hw/bin/nvme", src);
    snprintf(fx->smartctl, sizeof fx->smartctl, "%s/tests/fixtures/hw/bin/smartctl", src);
    snprintf(fx->recorded, sizeof fx->recorded, "%s/tests/fixtures/hw/recorded", src);
    cs_hw_config_init(cfg);
    cfg->sysfs_root = fx->sys;
    cfg->proc_root = fx->proc;
    cfg->dev_root = fx->dev;
    cfg->nvme_path = fx->nvme;
    cfg->smartctl_path = fx->smartctl;
    cfg->tool_timeout_ns = INT64_C(5000000000);
}

/* Reads a recorded tool output into a malloc'd, NUL-terminated buffer. */
static inline char *hw_recorded(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/hw/recorded/%s", hw_source_dir(), rel);
    FILE *f = fopen(path, "rb");
    cr_assert(f != NULL, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    cr_assert(buf != NULL);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static inline const cs_hw_device_t *hw_device(const cs_hw_inventory_t *inv, const char *name)
{
    for (size_t i = 0; i < inv->count; i++)
        if (strcmp(inv->devices[i].name, name) == 0)
            return &inv->devices[i];
    cr_assert_fail("device %s not in the inventory", name);
    return NULL;
}

/* True when some warning contains a and (unless NULL) b. */
static inline bool hw_warned(const cs_hw_inventory_t *inv, const char *a, const char *b)
{
    for (size_t i = 0; i < inv->nwarnings; i++)
        if (strstr(inv->warnings[i], a) && (!b || strstr(inv->warnings[i], b)))
            return true;
    return false;
}

#endif
