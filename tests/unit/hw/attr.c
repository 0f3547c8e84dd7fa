/* Tests for the bounded sysfs attribute readers and the /proc parsers. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/hw.h"

static char tmpdir[256];

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cs-hw-attr-XXXXXX");
    cr_assert(mkdtemp(tmpdir) != NULL);
}

static void put(const char *name, const char *content, size_t len)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    cr_assert(f != NULL);
    fwrite(content, 1, len, f);
    fclose(f);
}

TestSuite(attr, .init = make_tmp);

Test(attr, parse_u64_accepts_decimal_with_whitespace)
{
    uint64_t v = 0;
    cr_expect_eq(cs_hw_attr_parse_u64("512\n", 4, &v), 0);
    cr_expect_eq(v, 512);
    cr_expect_eq(cs_hw_attr_parse_u64("  0 ", 4, &v), 0);
    cr_expect_eq(v, 0);
    cr_expect_eq(cs_hw_attr_parse_u64("18446744073709551615", 20, &v), 0);
    cr_expect_eq(v, UINT64_MAX);
}

Test(attr, parse_u64_rejects_everything_else)
{
    uint64_t v = 7;
    const char *bad[] = {
        "", " ", "abc", "-1", "+1", "0x10", "12a", "1 2", "18446744073709551616", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_expect_eq(cs_hw_attr_parse_u64(bad[i], strlen(bad[i]), &v), CS_EPARSE, "'%s'", bad[i]);
    cr_expect_eq(v, 7, "a failed parse must not touch the output");
}

Test(attr, parse_devnum)
{
    unsigned a = 0, b = 0;
    cr_expect_eq(cs_hw_attr_parse_devnum("259:12\n", 7, &a, &b), 0);
    cr_expect_eq(a, 259);
    cr_expect_eq(b, 12);
    cr_expect_eq(cs_hw_attr_parse_devnum("8-48", 4, &a, &b), CS_EPARSE);
    cr_expect_eq(cs_hw_attr_parse_devnum(":1", 2, &a, &b), CS_EPARSE);
    cr_expect_eq(cs_hw_attr_parse_devnum("1:", 2, &a, &b), CS_EPARSE);
    cr_expect_eq(cs_hw_attr_parse_devnum("99999999:1", 10, &a, &b), CS_EPARSE);
}

Test(attr, clean_trims_collapses_and_replaces_control_bytes)
{
    char out[64];
    const char in[] = "  SAMSUNG   MZ7LH480\x01\x7f  \n";
    cr_expect_eq(cs_hw_attr_clean(in, sizeof in - 1, out, sizeof out), 18);
    cr_expect_str_eq(out, "SAMSUNG MZ7LH480??");
    char tiny[4];
    cs_hw_attr_clean("abcdef", 6, tiny, sizeof tiny);
    cr_expect_str_eq(tiny, "abc");
    cs_hw_attr_clean("ab\0cd", 5, out, sizeof out);
    cr_expect_str_eq(out, "ab");
}

Test(attr, vpd80_serial)
{
    const uint8_t page[] = {0x00, 0x80, 0x00, 0x0a, ' ', ' ', '8', 'D', 'H', '1', 'A', 'B', 'C', 'D'};
    char out[32];
    cr_expect_eq(cs_hw_vpd80_serial(page, sizeof page, out, sizeof out), 0);
    cr_expect_str_eq(out, "8DH1ABCD");
    /* A length field larger than the page is clamped, not trusted. */
    const uint8_t lying[] = {0x00, 0x80, 0xff, 0xff, 'X', 'Y'};
    cr_expect_eq(cs_hw_vpd80_serial(lying, sizeof lying, out, sizeof out), 0);
    cr_expect_str_eq(out, "XY");
    const uint8_t wrong_page[] = {0x00, 0x83, 0x00, 0x02, 'X', 'Y'};
    cr_expect_eq(cs_hw_vpd80_serial(wrong_page, sizeof wrong_page, out, sizeof out), CS_EPARSE);
    cr_expect_eq(cs_hw_vpd80_serial(page, 3, out, sizeof out), CS_EPARSE);
}

Test(attr, read_strips_trailing_whitespace)
{
    put("model", "INTEL SSDPE2KX040T8                     \n", 41);
    char buf[64];
    cr_expect_eq(cs_hw_attr_read(tmpdir, "model", buf, sizeof buf), 19);
    cr_expect_str_eq(buf, "INTEL SSDPE2KX040T8");
}

Test(attr, read_missing_too_long_and_directory)
{
    char buf[16];
    cr_expect_eq(cs_hw_attr_read(tmpdir, "absent", buf, sizeof buf), CS_ENOTFOUND);
    put("long", "0123456789abcdefXYZ", 19);
    cr_expect_eq(cs_hw_attr_read(tmpdir, "long", buf, sizeof buf), CS_ETOOBIG);
    cr_expect_str_eq(buf, "");
    /* Exactly cap-1 bytes fits. */
    put("fits", "0123456789abcde", 15);
    cr_expect_eq(cs_hw_attr_read(tmpdir, "fits", buf, sizeof buf), 15);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/adir", tmpdir);
    cr_assert_eq(mkdir(dir, 0755), 0);
    cr_expect_eq(cs_hw_attr_read(tmpdir, "adir", buf, sizeof buf), CS_EIO);
}

Test(attr, read_does_not_block_on_a_fifo)
{
    char fifo[512];
    snprintf(fifo, sizeof fifo, "%s/fifo", tmpdir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    char buf[16];
    /* No writer: a blocking open or read would hang the test. */
    cr_expect_eq(cs_hw_attr_read(tmpdir, "fifo", buf, sizeof buf), 0);
    cr_expect_str_eq(buf, "");
}

Test(attr, mountinfo_parses_fields_and_escapes)
{
    const char text[] =
        "21 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw,errors=remount-ro\n"
        "25 21 253:0 / /srv/backup\\040data rw,relatime shared:4 master:2 - xfs /dev/mapper/vg0-backup rw\n"
        "26 21 0:45 /sub /mnt/btrfs rw - btrfs /dev/sdc1 rw,subvol=/sub\n";
    cs_hw_mount_t m[4];
    size_t n = 0, bad = 9;
    cr_assert_eq(cs_hw_mountinfo_parse(text, sizeof text - 1, m, 4, &n, &bad), 0);
    cr_assert_eq(n, 3);
    cr_expect_eq(bad, 0);
    cr_expect_eq(m[0].major, 8);
    cr_expect_eq(m[0].minor, 2);
    cr_expect_str_eq(m[0].target, "/");
    cr_expect_str_eq(m[0].fstype, "ext4");
    cr_expect_str_eq(m[0].source, "/dev/sda2");
    cr_expect_str_eq(m[1].target, "/srv/backup data");
    cr_expect_str_eq(m[1].source, "/dev/mapper/vg0-backup");
    cr_expect_eq(m[2].major, 0);
    cr_expect_str_eq(m[2].source, "/dev/sdc1");
}

Test(attr, mountinfo_skips_malformed_lines_and_respects_cap)
{
    const char text[] = "garbage\n21 1 8:0 / / rw - ext4\n\n22 1 x:y / /m rw - ext4 /dev/a rw\n"
                        "23 1 0:5 / /dev rw - devtmpfs udev rw\n24 1 0:6 / /a rw - tmpfs t rw\n";
    cs_hw_mount_t m[1];
    size_t n = 0, bad = 0;
    cs_hw_mountinfo_parse(text, sizeof text - 1, m, 1, &n, &bad);
    cr_expect_eq(n, 1);
    cr_expect_eq(bad, 3);
    cr_expect_str_eq(m[0].target, "/dev");
}

Test(attr, swaps_skips_header)
{
    const char text[] = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                        "/dev/sda3                               partition\t8388604\t0\t-2\n"
                        "/swap\\040file file 1024 0 -3\n";
    char out[4][CS_HW_PATH_MAX];
    size_t n = 0;
    cs_hw_swaps_parse(text, sizeof text - 1, out, 4, &n);
    cr_assert_eq(n, 2);
    cr_expect_str_eq(out[0], "/dev/sda3");
    cr_expect_str_eq(out[1], "/swap file");
    cs_hw_swaps_parse("Filename Type\n", 14, out, 4, &n);
    cr_expect_eq(n, 0);
}
