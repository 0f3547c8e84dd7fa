/* Tests for L2: round trips in every read mode, compression, restart,
 * tombstones, corruption, torn tails, capacity and copy-forward. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/l2_record.h"
#include "couchestor/cache_l2.h"
#include "couchestor/crc32c.h"

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-l2-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(l2, .init = setup, .fini = teardown);

static cs_l2_t *open_l2(uint64_t cap, uint32_t seg, cs_compress_algo_t algo, cs_l2_read_mode_t mode)
{
    cs_l2_config_t cfg = {.dir = dir,
                          .capacity_bytes = cap,
                          .segment_size = seg,
                          .compression = {.algorithm = algo, .min_size = 512},
                          .read_mode = mode,
                          .shards = 16};
    cs_l2_t *l2 = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_l2_open(&cfg, &l2, &err), 0, "%s", err.msg);
    return l2;
}

static void fill(uint8_t *v, size_t n, unsigned seed, bool compressible)
{
    for (size_t i = 0; i < n; i++)
        v[i] = compressible ? (uint8_t)((i / 64 + seed) & 0xff) : (uint8_t)((seed * 2654435761u + i * 40503u) >> 7);
}

static void put_key(cs_l2_t *l2, int i, size_t n, bool compressible)
{
    char key[32];
    uint8_t v[16384];
    snprintf(key, sizeof key, "object/%d", i);
    fill(v, n, (unsigned)i, compressible);
    cs_err_t err = {0};
    cr_assert_eq(cs_l2_put(l2, key, strlen(key), v, n, &err), 0, "%s", err.msg);
}

/* 0 = identical hit, 1 = miss; fails the test on wrong bytes. */
static int check_key(cs_l2_t *l2, int i, size_t n, bool compressible)
{
    char key[32];
    uint8_t want[16384], got[16384];
    snprintf(key, sizeof key, "object/%d", i);
    fill(want, n, (unsigned)i, compressible);
    size_t len = 0;
    int rc = cs_l2_get(l2, key, strlen(key), got, sizeof got, &len, NULL);
    if (rc == CS_ENOTFOUND)
        return 1;
    cr_assert_eq(rc, 0);
    cr_assert_eq(len, n);
    cr_assert_eq(memcmp(want, got, n), 0, "wrong bytes for %s", key);
    return 0;
}

Test(l2, round_trip_in_every_read_mode_and_codec)
{
    cs_l2_read_mode_t modes[] = {CS_L2_READ_MMAP, CS_L2_READ_PREAD, CS_L2_READ_DIRECT};
    for (int m = 0; m < 3; m++) {
        for (int c = 0; c < 2; c++) {
            cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, c ? CS_COMPRESS_LZ4 : CS_COMPRESS_NONE, modes[m]);
            for (int i = 0; i < 20; i++)
                put_key(l2, i + 100 * (m * 2 + c), 4096 + (size_t)i * 100, i % 2 == 0);
            for (int i = 0; i < 20; i++)
                cr_expect_eq(check_key(l2, i + 100 * (m * 2 + c), 4096 + (size_t)i * 100, i % 2 == 0), 0);
            cs_l2_stats_t st;
            cs_l2_stats(l2, &st);
            cr_expect_eq(st.corrupt, 0u);
            cs_l2_close(&l2);
            cr_expect_null(l2);
        }
    }
}

Test(l2, compression_shrinks_compressible_values)
{
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_LZ4, CS_L2_READ_MMAP);
    for (int i = 0; i < 10; i++)
        put_key(l2, i, 8192, true);
    cs_l2_stats_t st;
    cs_l2_stats(l2, &st);
    cr_expect_lt(st.live_bytes, 10u * 8192u / 4u, "live %llu", (unsigned long long)st.live_bytes);
    cs_l2_close(&l2);
}

Test(l2, refuses_small_and_huge_values_and_bad_config)
{
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    cs_err_t err = {0};
    uint8_t v[100] = {0};
    cr_expect_eq(cs_l2_put(l2, "k", 1, v, sizeof v, &err), CS_EINVAL);
    cr_expect(strstr(err.msg, "below the L2 minimum entry size of 4096") != NULL, "%s", err.msg);
    uint8_t *big = calloc(1, 2 << 20);
    cr_expect_eq(cs_l2_put(l2, "k", 1, big, 2 << 20, &err), CS_ETOOBIG);
    free(big);
    size_t n;
    uint8_t small[10];
    put_key(l2, 1, 5000, false);
    cr_expect_eq(cs_l2_get(l2, "object/1", 8, small, sizeof small, &n, NULL), CS_ETOOBIG);
    cr_expect_eq(n, 5000u);
    cr_expect_eq(cs_l2_value_size(l2, "object/1", 8, &n), 0);
    cr_expect_eq(n, 5000u);
    cs_l2_close(&l2);

    cs_l2_config_t cfg = {.dir = dir, .capacity_bytes = 100 << 10};
    cr_expect_eq(cs_l2_open(&cfg, &l2, &err), CS_EINVAL);
    cfg.dir = NULL;
    cr_expect_eq(cs_l2_open(&cfg, &l2, &err), CS_EINVAL);
}

Test(l2, second_open_of_a_directory_is_refused)
{
    cs_l2_t *a = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    cs_l2_config_t cfg = {.dir = dir, .capacity_bytes = 8 << 20, .segment_size = 1 << 20};
    cs_l2_t *b = NULL;
    cs_err_t err = {0};
    /* flock locks belong to the open file description: a second open in the
     * same process conflicts too. */
    cr_expect_eq(cs_l2_open(&cfg, &b, &err), CS_EBUSY);
    cs_l2_close(&a);
    cr_expect_eq(cs_l2_open(&cfg, &b, &err), 0, "%s", err.msg);
    cs_l2_close(&b);
}

Test(l2, files_are_private_and_named_from_a_counter)
{
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    uint8_t v[4096] = {0};
    cr_assert_eq(cs_l2_put(l2, "../../etc/passwd", 16, v, sizeof v, NULL), 0);
    cs_l2_close(&l2);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0700);
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.l2", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/LOCK", dir);
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
}

Test(l2, restart_rebuilds_the_index_and_keeps_deletes)
{
    cs_l2_t *l2 = open_l2(8 << 20, 256 << 10, CS_COMPRESS_LZ4, CS_L2_READ_MMAP);
    for (int i = 0; i < 100; i++)
        put_key(l2, i, 4096 + (size_t)(i % 5) * 1000, i % 3 == 0);
    /* Overwrite some, delete some. */
    for (int i = 0; i < 100; i += 10)
        put_key(l2, i, 6000, false);
    for (int i = 5; i < 100; i += 10)
        cr_assert_eq(cs_l2_delete(l2, (char[32]){0}, 0, NULL), CS_EINVAL);
    for (int i = 5; i < 100; i += 10) {
        char key[32];
        snprintf(key, sizeof key, "object/%d", i);
        cr_assert_eq(cs_l2_delete(l2, key, strlen(key), NULL), 0);
        cr_assert_eq(cs_l2_delete(l2, key, strlen(key), NULL), CS_ENOTFOUND);
    }
    cs_l2_stats_t before;
    cs_l2_stats(l2, &before);
    cs_l2_close(&l2);

    l2 = open_l2(8 << 20, 256 << 10, CS_COMPRESS_LZ4, CS_L2_READ_MMAP);
    cs_l2_stats_t after;
    cs_l2_stats(l2, &after);
    cr_expect_eq(after.recovered_entries, 90u);
    cr_expect_eq(after.entries, before.entries);
    cr_expect_eq(after.live_bytes, before.live_bytes);
    cr_expect_eq(after.skipped_records, 0u);
    for (int i = 0; i < 100; i++) {
        if (i % 10 == 5)
            cr_expect_eq(check_key(l2, i, 0, false), 1, "deleted key %d came back", i);
        else if (i % 10 == 0)
            cr_expect_eq(check_key(l2, i, 6000, false), 0);
        else
            cr_expect_eq(check_key(l2, i, 4096 + (size_t)(i % 5) * 1000, i % 3 == 0), 0);
    }
    /* New writes continue after the recovered ones. */
    put_key(l2, 1000, 5000, false);
    cs_l2_close(&l2);
    l2 = open_l2(8 << 20, 256 << 10, CS_COMPRESS_LZ4, CS_L2_READ_MMAP);
    cr_expect_eq(check_key(l2, 1000, 5000, false), 0);
    cr_expect_eq(check_key(l2, 1, 4096 + 1000, false), 0);
    cs_l2_close(&l2);
}

static void flip_byte(const char *name, long off)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, off), 1);
    b ^= 0x5a;
    cr_assert_eq(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

Test(l2, flipped_payload_bytes_are_a_counted_miss_never_wrong_data)
{
    for (int c = 0; c < 2; c++) {
        cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, c ? CS_COMPRESS_LZ4 : CS_COMPRESS_NONE, CS_L2_READ_MMAP);
        put_key(l2, 7 + c, 8192, c == 1);
        put_key(l2, 100 + c, 8192, c == 1);
        /* The first payload starts the payload area, after the log area. */
        flip_byte("seg-0000000000000001.l2", (long)cs__l2_log_area(1 << 20) + 40);
        cr_expect_eq(check_key(l2, 7 + c, 8192, c == 1), 1);
        cs_l2_stats_t st;
        cs_l2_stats(l2, &st);
        cr_expect_eq(st.corrupt, 1u);
        cr_expect_eq(st.entries, 1u, "the damaged entry is dropped");
        cr_expect_eq(check_key(l2, 7 + c, 8192, c == 1), 1);
        cr_expect_eq(check_key(l2, 100 + c, 8192, c == 1), 0);
        cs_l2_close(&l2);
        /* After a restart the damaged key stays gone (tombstone). */
        l2 = open_l2(8 << 20, 1 << 20, c ? CS_COMPRESS_LZ4 : CS_COMPRESS_NONE, CS_L2_READ_MMAP);
        cr_expect_eq(check_key(l2, 7 + c, 8192, c == 1), 1);
        cr_expect_eq(check_key(l2, 100 + c, 8192, c == 1), 0);
        cs_l2_close(&l2);
        teardown();
        setup();
    }
}

Test(l2, damaged_header_and_torn_tail_are_skipped_on_open)
{
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_PREAD);
    for (int i = 0; i < 4; i++)
        put_key(l2, i, 4096, false);
    cs_l2_close(&l2);
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.l2", dir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    /* Damage the second record's header and cut the last payload in half. */
    long rec = (long)cs__l2_rec_size(2, strlen("object/0"), 4096);
    flip_byte("seg-0000000000000001.l2", 32 + rec + 9);
    cr_assert_eq(truncate(path, st.st_size - 2000), 0);
    l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_PREAD);
    cs_l2_stats_t s;
    cs_l2_stats(l2, &s);
    cr_expect_eq(s.entries, 2u);
    cr_expect_eq(s.skipped_records, 2u);
    cr_expect_eq(check_key(l2, 0, 4096, false), 0);
    cr_expect_eq(check_key(l2, 1, 4096, false), 1);
    cr_expect_eq(check_key(l2, 2, 4096, false), 0);
    cr_expect_eq(check_key(l2, 3, 4096, false), 1);
    /* Appends resume where the good data ends. */
    put_key(l2, 9, 4096, false);
    cs_l2_close(&l2);
    l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_PREAD);
    cr_expect_eq(check_key(l2, 9, 4096, false), 0);
    cr_expect_eq(check_key(l2, 2, 4096, false), 0);
    cs_l2_close(&l2);
}

Test(l2, capacity_is_never_exceeded_and_read_entries_are_copied_forward)
{
    uint64_t cap = 1 << 20;
    cs_l2_t *l2 = open_l2(cap, 128 << 10, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    /* Key 0 is read after every put, so it keeps its second chance. */
    put_key(l2, 0, 4096, false);
    for (int i = 1; i < 2000; i++) {
        put_key(l2, i, 4096, false);
        cr_assert_eq(check_key(l2, 0, 4096, false), 0, "hot key lost at put %d", i);
        cs_l2_stats_t st;
        cs_l2_stats(l2, &st);
        cr_assert_leq(st.bytes, cap);
    }
    cs_l2_stats_t st;
    cs_l2_stats(l2, &st);
    cr_expect_gt(st.evicted_segments, 10u);
    /* Key 0 moves forward each time its segment becomes the oldest. */
    cr_expect_geq(st.compacted_entries, st.evicted_segments / 8);
    cr_expect_geq(st.compacted_entries, 5u);
    cr_expect_gt(st.evicted_entries, 1000u);
    cr_expect_eq(check_key(l2, 1, 4096, false), 1, "a cold old key is evicted");
    cr_expect_eq(check_key(l2, 1999, 4096, false), 0);
    cs_l2_close(&l2);
    /* And it all comes back after a restart. */
    l2 = open_l2(cap, 128 << 10, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    cr_expect_eq(check_key(l2, 0, 4096, false), 0);
    cr_expect_eq(check_key(l2, 1999, 4096, false), 0);
    cs_l2_stats_t st2;
    cs_l2_stats(l2, &st2);
    cr_expect_eq(st2.entries, st.entries);
    cs_l2_close(&l2);
}

/* Walks the v2 log of a segment file: every payload of a block or more
 * starts on a 4 KiB boundary and a smaller one stays inside one block, so a
 * cold O_DIRECT read touches only the blocks of its payload. */
Test(l2, v2_payloads_are_block_aligned)
{
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_LZ4, CS_L2_READ_MMAP);
    size_t sizes[] = {4096, 4096, 5000, 8192, 4096, 6000, 4096};
    for (int i = 0; i < 7; i++)
        put_key(l2, i, sizes[i], i == 2 || i == 5); /* two compress below a block */
    cs_l2_close(&l2);
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.l2", dir);
    int fd = open(path, O_RDONLY);
    cr_assert_geq(fd, 0);
    static uint8_t buf[2 << 20];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    cs__l2_seg_info_t info;
    cr_assert_eq(cs__l2_seg_header_check(buf, (size_t)n, &info), 0);
    cr_expect_eq(info.version, 2u);
    cr_expect_eq(info.log_area, cs__l2_log_area(1 << 20));
    size_t off = CS__L2_SEG_HDR;
    int recs = 0;
    cs__l2_rec_t r;
    while (cs__l2_rec_parse(buf + off, info.log_area - off, 2, &r) == CS__L2_PARSE_OK) {
        cr_assert_eq(r.type, CS__L2_REC_PUT);
        cr_assert_leq((size_t)r.poff + r.plen, (size_t)n);
        if (r.plen >= 4096)
            cr_expect_eq(r.poff % 4096, 0u, "record %d at %u", recs, r.poff);
        else
            cr_expect_eq(r.poff / 4096, (r.poff + r.plen - 1) / 4096, "record %d crosses", recs);
        if (recs == 2 || recs == 5)
            cr_expect_eq(r.codec, CS_CODEC_LZ4);
        off += r.total;
        recs++;
    }
    cr_expect_eq(recs, 7);
    cr_expect_eq(buf[off], 0, "a zero magic ends the log");
    /* The first 4 KiB payload is the first block of the payload area. */
    l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_LZ4, CS_L2_READ_DIRECT);
    for (int i = 0; i < 7; i++)
        cr_expect_eq(check_key(l2, i, sizes[i], i == 2 || i == 5), 0, "key %d", i);
    cs_l2_close(&l2);
}

/* Writes a version-1 segment by hand (the format before payloads were
 * block aligned): it must still be read, and new writes go to v2 files. */
static void write_v1_segment(uint64_t id, int first, int count, size_t vlen)
{
    char path[128];
    snprintf(path, sizeof path, "%s/seg-%016llx.l2", dir, (unsigned long long)id);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    uint8_t hdr[CS__L2_SEG_HDR];
    cs__l2_seg_header(hdr, id, 1, 0);
    cr_assert_eq(pwrite(fd, hdr, sizeof hdr, 0), (ssize_t)sizeof hdr);
    off_t off = CS__L2_SEG_HDR;
    static uint8_t rec[16384 + 1024];
    for (int i = first; i < first + count; i++) {
        char key[32];
        size_t klen = (size_t)snprintf(key, sizeof key, "object/%d", i);
        uint8_t v[16384];
        fill(v, vlen, (unsigned)i, false);
        cs__l2_rec_t r = {.type = CS__L2_REC_PUT,
                          .codec = CS_CODEC_RAW,
                          .klen = (uint16_t)klen,
                          .plen = (uint32_t)vlen,
                          .vlen = (uint32_t)vlen,
                          .seq = (uint64_t)i + 1,
                          .vcrc = cs_crc32c(cs_crc32c(0, key, klen), v, vlen),
                          .key = (const uint8_t *)key};
        size_t total = cs__l2_rec_size(1, klen, vlen);
        memset(rec, 0, total);
        cr_assert_eq(cs__l2_rec_header(rec, 1, &r), CS__L2_REC_HDR_V1);
        memcpy(rec + CS__L2_REC_HDR_V1, key, klen);
        memcpy(rec + CS__L2_REC_HDR_V1 + klen, v, vlen);
        cr_assert_eq(pwrite(fd, rec, total, off), (ssize_t)total);
        off += (off_t)total;
    }
    close(fd);
}

Test(l2, v1_segments_are_still_read_and_never_appended_to)
{
    write_v1_segment(1, 0, 10, 4096);
    for (int mode = 0; mode < 3; mode++) {
        cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, (cs_l2_read_mode_t)mode);
        cs_l2_stats_t st;
        cs_l2_stats(l2, &st);
        cr_expect_eq(st.recovered_entries, 10u);
        cr_expect_eq(st.skipped_records, 0u);
        for (int i = 0; i < 10; i++)
            cr_expect_eq(check_key(l2, i, 4096, false), 0, "mode %d key %d", mode, i);
        cs_l2_close(&l2);
    }
    cs_l2_t *l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    put_key(l2, 3, 8192, false); /* replaces a v1 entry */
    put_key(l2, 20, 4096, false);
    cr_expect_eq(cs_l2_delete(l2, "object/4", 8, NULL), 0);
    cs_l2_stats_t st;
    cs_l2_stats(l2, &st);
    cr_expect_eq(st.segments, 2u, "the v1 segment is closed for appends");
    cs_l2_close(&l2);
    struct stat sb;
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000002.l2", dir);
    cr_assert_eq(stat(path, &sb), 0);
    l2 = open_l2(8 << 20, 1 << 20, CS_COMPRESS_NONE, CS_L2_READ_DIRECT);
    cr_expect_eq(check_key(l2, 3, 8192, false), 0);
    cr_expect_eq(check_key(l2, 4, 4096, false), 1);
    cr_expect_eq(check_key(l2, 20, 4096, false), 0);
    cr_expect_eq(check_key(l2, 9, 4096, false), 0);
    cs_l2_close(&l2);
}

Test(l2, v1_entries_are_copied_forward_into_v2)
{
    write_v1_segment(1, 0, 20, 4096);
    uint64_t cap = 1 << 20;
    cs_l2_t *l2 = open_l2(cap, 128 << 10, CS_COMPRESS_NONE, CS_L2_READ_MMAP);
    /* Key 5 is read after every put, so it earns its copy forward. */
    for (int i = 100; i < 400; i++) {
        cr_assert_eq(check_key(l2, 5, 4096, false), 0, "hot v1 key lost at put %d", i);
        put_key(l2, i, 4096, false);
    }
    cs_l2_stats_t st;
    cs_l2_stats(l2, &st);
    cr_expect_leq(st.bytes, cap);
    cr_expect_geq(st.compacted_entries, 1u);
    cr_expect_eq(check_key(l2, 5, 4096, false), 0);
    cr_expect_eq(check_key(l2, 6, 4096, false), 1, "unread v1 entries are evicted");
    cs_l2_close(&l2);
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.l2", dir);
    cr_expect_neq(access(path, F_OK), 0, "the v1 file is gone");
    l2 = open_l2(cap, 128 << 10, CS_COMPRESS_NONE, CS_L2_READ_PREAD);
    cr_expect_eq(check_key(l2, 5, 4096, false), 0);
    cs_l2_close(&l2);
}

Test(l2, an_unknown_segment_version_is_refused_with_a_clear_message)
{
    char path[128];
    snprintf(path, sizeof path, "%s/seg-0000000000000001.l2", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    cr_assert_geq(fd, 0);
    uint8_t hdr[CS__L2_SEG_HDR];
    cs__l2_seg_header(hdr, 1, 3, 4096);
    cr_assert_eq(pwrite(fd, hdr, sizeof hdr, 0), (ssize_t)sizeof hdr);
    close(fd);
    cs_l2_config_t cfg = {.dir = dir, .capacity_bytes = 8 << 20, .segment_size = 1 << 20};
    cs_l2_t *l2 = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_l2_open(&cfg, &l2, &err), CS_EINVAL);
    cr_expect_null(l2);
    cr_expect_not_null(strstr(err.msg, "segment format version 3 is not known"), "%s", err.msg);
    cr_expect_eq(access(path, F_OK), 0, "the file is left alone");
}
