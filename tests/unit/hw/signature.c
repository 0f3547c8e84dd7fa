/* Tests for on-disk signature detection: each signature at its real offset,
 * nothing on zeros, and reads that end short. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/hw.h"

static uint8_t *head;

static void setup(void)
{
    head = calloc(1, CS_HW_SIG_HEAD);
    cr_assert(head != NULL);
}

static void teardown(void)
{
    free(head);
}

TestSuite(signature, .init = setup, .fini = teardown);

static const char *detect(size_t len)
{
    static char out[256];
    cs_hw_signatures_detect(head, len, NULL, 0, 0, 0, out, sizeof out);
    return out;
}

Test(signature, zeros_have_none)
{
    char out[64] = "x";
    cr_expect_eq(cs_hw_signatures_detect(head, CS_HW_SIG_HEAD, NULL, 0, 0, 1 << 30, out, sizeof out), 0);
    cr_expect_str_eq(out, "");
    cr_expect_eq(cs_hw_signatures_detect(NULL, 0, NULL, 0, 0, 0, out, sizeof out), 0);
}

Test(signature, partition_tables)
{
    head[510] = 0x55;
    head[511] = 0xaa;
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "dos");
    memcpy(head + 512, "EFI PART", 8);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "gpt");
    memset(head, 0, 1024);
    memcpy(head + 4096, "EFI PART", 8); /* 4Kn disk */
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "gpt");
}

Test(signature, filesystems)
{
    head[1080] = 0x53;
    head[1081] = 0xef;
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "ext4");
    memset(head, 0, 2048);
    memcpy(head, "XFSB", 4);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "xfs");
    memset(head, 0, 4);
    memcpy(head + 65600, "_BHRfS_M", 8);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "btrfs");
    memset(head + 65600, 0, 8);
    memcpy(head + 3, "NTFS    ", 8);
    head[510] = 0x55;
    head[511] = 0xaa;
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "ntfs", "an NTFS boot sector is not reported as dos");
    memset(head, 0, 512);
    memcpy(head + 82, "FAT32   ", 8);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "vfat");
    memset(head, 0, 512);
    const uint8_t zfs[4] = {0x0c, 0xb1, 0xba, 0x00};
    memcpy(head + 131072, zfs, 4);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "zfs_member");
}

Test(signature, volume_managers_raid_swap_crypto)
{
    memcpy(head + 512, "LABELONE", 8);
    memcpy(head + 536, "LVM2 001", 8);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "LVM2_member");
    memset(head, 0, 1024);
    memcpy(head, "LUKS\xba\xbe", 6);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "crypto_LUKS");
    memset(head, 0, 8);
    memcpy(head + 4086, "SWAPSPACE2", 10);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "swap");
    memset(head + 4086, 0, 10);
    const uint8_t md[4] = {0xfc, 0x4e, 0x2b, 0xa9};
    memcpy(head + 4096, md, 4); /* md 1.2 */
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "linux_raid_member");
    memset(head + 4096, 0, 4);
    memcpy(head, "bluestore block device", 22);
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "ceph_bluestore");
}

Test(signature, md_superblocks_at_the_end)
{
    uint64_t size = UINT64_C(1000204886016); /* 1 TB */
    uint8_t *tail = calloc(1, CS_HW_SIG_TAIL);
    cr_assert(tail != NULL);
    uint64_t toff = size - CS_HW_SIG_TAIL;
    char out[64];
    const uint8_t md[4] = {0xfc, 0x4e, 0x2b, 0xa9};
    uint64_t v10 = ((size / 512 - 16) & ~UINT64_C(7)) * 512;
    memcpy(tail + (v10 - toff), md, 4);
    cr_expect_eq(cs_hw_signatures_detect(head, CS_HW_SIG_HEAD, tail, CS_HW_SIG_TAIL, toff, size, out, sizeof out), 1);
    cr_expect_str_eq(out, "linux_raid_member");
    memset(tail, 0, CS_HW_SIG_TAIL);
    uint64_t v090 = (size & ~UINT64_C(65535)) - 65536;
    memcpy(tail + (v090 - toff), md, 4);
    cr_expect_eq(cs_hw_signatures_detect(head, CS_HW_SIG_HEAD, tail, CS_HW_SIG_TAIL, toff, size, out, sizeof out), 1);
    /* The same bytes when the tail was not read: nothing is claimed. */
    cr_expect_eq(cs_hw_signatures_detect(head, CS_HW_SIG_HEAD, NULL, 0, toff, size, out, sizeof out), 0);
    free(tail);
}

Test(signature, short_reads_never_look_past_the_data)
{
    memcpy(head + 512, "EFI PART", 8);
    cr_expect_str_eq(detect(519), "", "a magic cut by the end of the data does not count");
    cr_expect_str_eq(detect(520), "gpt");
}

Test(signature, several_at_once_and_small_output)
{
    head[510] = 0x55;
    head[511] = 0xaa;
    head[1080] = 0x53;
    head[1081] = 0xef;
    cr_expect_str_eq(detect(CS_HW_SIG_HEAD), "dos, ext4");
    char out[5];
    cr_expect_eq(cs_hw_signatures_detect(head, CS_HW_SIG_HEAD, NULL, 0, 0, 0, out, sizeof out), 2);
    cr_expect_str_eq(out, "dos,");
}
