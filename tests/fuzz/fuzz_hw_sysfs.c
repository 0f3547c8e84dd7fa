/* Fuzz target: every parser of bytes the hw module reads from sysfs, /proc
 * and the first blocks of a device (attributes, VPD page 0x80, mountinfo,
 * swaps, on-disk signatures). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    uint64_t v;
    unsigned a, b;
    char out[CS_HW_TEXT_MAX];
    cs_hw_attr_parse_u64(text, size, &v);
    cs_hw_attr_parse_devnum(text, size, &a, &b);
    cs_hw_attr_clean(text, size, out, sizeof out);
    cs_hw_vpd80_serial(data, size, out, sizeof out);

    static cs_hw_mount_t mounts[16];
    size_t n, bad;
    cs_hw_mountinfo_parse(text, size, mounts, 16, &n, &bad);
    if (n > 16)
        abort();
    for (size_t i = 0; i < n; i++)
        if (strnlen(mounts[i].target, sizeof mounts[i].target) == sizeof mounts[i].target)
            abort(); /* always NUL-terminated */
    static char swaps[8][CS_HW_PATH_MAX];
    cs_hw_swaps_parse(text, size, swaps, 8, &n);
    if (n > 8)
        abort();

    /* The input as the head of a device and, split, as head and tail. */
    char sigs[CS_HW_REASON_MAX];
    cs_hw_signatures_detect(data, size, NULL, 0, 0, size, sigs, sizeof sigs);
    size_t half = size / 2;
    cs_hw_signatures_detect(data, half, data + half, size - half, 0, (uint64_t)size << 20, sigs, sizeof sigs);
    cs_hw_signatures_detect(data, half, data + half, size - half, half, size, sigs, sizeof sigs);
    return 0;
}
