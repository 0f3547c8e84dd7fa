/* signature.c: recognises partition tables, filesystems, volume managers and
 * RAID members from a device's first and last blocks (what blkid/wipefs
 * look for), so that a disk holding data is never offered for a pool. */
#include "couchestor/hw.h"

#include <stdio.h>
#include <string.h>

#include "couchestor/endian.h"

static bool cs__at(const uint8_t *buf, size_t len, size_t off, const void *magic, size_t mlen)
{
    return off <= len && mlen <= len - off && memcmp(buf + off, magic, mlen) == 0;
}

static bool cs__le32_at(const uint8_t *buf, size_t len, size_t off, uint32_t v)
{
    return off <= len && 4 <= len - off && cs_le32_load(buf + off) == v;
}

static void cs__add(char *out, size_t cap, int *n, const char *name)
{
    if (cap == 0)
        return;
    size_t used = strnlen(out, cap);
    snprintf(out + used, cap - used, "%s%s", *n ? ", " : "", name);
    (*n)++;
}

/* md superblock magic 0xa92b4efc at an absolute device offset that may lie in
 * head or tail. */
static bool cs__md_at(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len, uint64_t tail_offset,
                      uint64_t off)
{
    if (off + 4 <= head_len && cs__le32_at(head, head_len, (size_t)off, 0xa92b4efcu))
        return true;
    if (tail && off >= tail_offset && off - tail_offset + 4 <= tail_len)
        return cs__le32_at(tail, tail_len, (size_t)(off - tail_offset), 0xa92b4efcu);
    return false;
}

int cs_hw_signatures_detect(const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len,
                            uint64_t tail_offset, uint64_t size, char *out, size_t cap)
{
    int n = 0;
    if (cap)
        out[0] = '\0';
    if (!head)
        head_len = 0;
    if (!tail)
        tail_len = 0;

    /* Partition tables. GPT header at LBA 1 for 512- and 4096-byte sectors. */
    bool gpt = cs__at(head, head_len, 512, "EFI PART", 8) || cs__at(head, head_len, 4096, "EFI PART", 8);
    if (gpt)
        cs__add(out, cap, &n, "gpt");
    /* FAT and NTFS boot sectors also end in 55 AA: name them, not "dos". */
    bool fat = cs__at(head, head_len, 54, "FAT1", 4) || cs__at(head, head_len, 82, "FAT32   ", 8);
    bool ntfs = cs__at(head, head_len, 3, "NTFS    ", 8);
    if (fat)
        cs__add(out, cap, &n, "vfat");
    if (ntfs)
        cs__add(out, cap, &n, "ntfs");
    if (!gpt && !fat && !ntfs && head_len >= 512 && head[510] == 0x55 && head[511] == 0xaa)
        cs__add(out, cap, &n, "dos");

    /* Filesystems. */
    if (head_len >= 1082 && head[1080] == 0x53 && head[1081] == 0xef)
        cs__add(out, cap, &n, "ext4");
    if (cs__at(head, head_len, 0, "XFSB", 4))
        cs__add(out, cap, &n, "xfs");
    if (cs__at(head, head_len, 65536 + 64, "_BHRfS_M", 8))
        cs__add(out, cap, &n, "btrfs");
    /* ZFS: uberblock magic 0x00bab10c (either byte order) in the first label's
     * uberblock ring, which starts 128 KiB in. */
    if (cs__le32_at(head, head_len, 131072, 0x00bab10cu) || cs__le32_at(head, head_len, 131072, 0x0cb1ba00u))
        cs__add(out, cap, &n, "zfs_member");

    /* Volume managers, encryption, RAID, swap, Ceph. */
    for (size_t sector = 0; sector < 4; sector++) {
        if (cs__at(head, head_len, sector * 512, "LABELONE", 8) &&
            cs__at(head, head_len, sector * 512 + 24, "LVM2 ", 5)) {
            cs__add(out, cap, &n, "LVM2_member");
            break;
        }
    }
    if (cs__at(head, head_len, 0, "LUKS\xba\xbe", 6) || cs__at(head, head_len, 0, "SKUL\xba\xbe", 6))
        cs__add(out, cap, &n, "crypto_LUKS");
    if (cs__at(head, head_len, 0, "bluestore block device", 22))
        cs__add(out, cap, &n, "ceph_bluestore");
    if (cs__at(head, head_len, 4096 - 10, "SWAPSPACE2", 10) || cs__at(head, head_len, 4096 - 10, "SWAP-SPACE", 10) ||
        cs__at(head, head_len, 65536 - 10, "SWAPSPACE2", 10))
        cs__add(out, cap, &n, "swap");

    /* md: 1.1 at 0, 1.2 at 4 KiB, 1.0 near the end (8 KiB before, 4 KiB
     * aligned), 0.90 in the last 64 KiB-aligned 64 KiB. */
    bool md = cs__md_at(head, head_len, tail, tail_len, tail_offset, 0) ||
              cs__md_at(head, head_len, tail, tail_len, tail_offset, 4096);
    if (!md && size >= 131072) {
        uint64_t v10 = ((size / 512 - 16) & ~(uint64_t)7) * 512;
        uint64_t v090 = (size & ~(uint64_t)65535) - 65536;
        md = cs__md_at(head, head_len, tail, tail_len, tail_offset, v10) ||
             cs__md_at(head, head_len, tail, tail_len, tail_offset, v090);
    }
    if (md)
        cs__add(out, cap, &n, "linux_raid_member");
    return n;
}
