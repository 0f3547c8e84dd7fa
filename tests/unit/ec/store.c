/* Tests for the erasure-coded store: round trips, names that are not
 * paths, overwrite atomicity by generation, missing / corrupt / truncated /
 * misplaced / foreign shards, verify, repair, list, delete. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "couchestor/ec_store.h"
#include "couchestor/io.h"

#define NDIRS 8
static char root[256];
static char dirs[NDIRS][300];
static const char *dirp[NDIRS];

static void setup(void)
{
    snprintf(root, sizeof root, "/tmp/cs-ec-store-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    for (int i = 0; i < NDIRS; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/disk%d", root, i);
        cr_assert_eq(mkdir(dirs[i], 0755), 0);
        dirp[i] = dirs[i];
    }
}

static void teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(store, .init = setup, .fini = teardown);

static uint64_t rng_state = 1;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rnd() >> 40);
    return p;
}

static cs_ec_store_t *open_store(size_t n, unsigned io_flags)
{
    cs_ec_store_t *st = NULL;
    cs_ec_store_opts_t o = {.io_flags = io_flags};
    cs_err_t err = {0};
    cr_assert_eq(cs_ec_store_open(dirp, n, &o, &st, &err), 0, "%s", err.msg);
    return st;
}

/* Path of shard idx of the object's current files ("" when none). */
static void shard_path(const char *name, unsigned idx, char *out, size_t cap)
{
    uint8_t h[16];
    char hex[33];
    cs_ec_name_hash(name, strlen(name), h);
    cs_ec_name_hex(h, hex);
    out[0] = '\0';
    for (int d = 0; d < NDIRS; d++) {
        char pat[512];
        snprintf(pat, sizeof pat, "%s/%s/g*-%u.shard", dirs[d], hex, idx);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) {
            snprintf(out, cap, "%s", g.gl_pathv[g.gl_pathc - 1]);
            globfree(&g);
            return;
        }
    }
}

static size_t count_files(const char *name)
{
    uint8_t h[16];
    char hex[33];
    cs_ec_name_hash(name, strlen(name), h);
    cs_ec_name_hex(h, hex);
    size_t n = 0;
    for (int d = 0; d < NDIRS; d++) {
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dirs[d], hex);
        DIR *dh = opendir(p);
        if (!dh)
            continue;
        struct dirent *e;
        while ((e = readdir(dh)))
            if (e->d_name[0] != '.' || strstr(e->d_name, ".tmp"))
                n++;
        closedir(dh);
    }
    return n;
}

static void flip_byte(const char *path, off_t off)
{
    int fd = open(path, O_RDWR);
    cr_assert_geq(fd, 0, "%s", path);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, off), 1);
    b ^= 0x10;
    cr_assert_eq(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void expect_get(cs_ec_store_t *st, const char *name, const uint8_t *want, size_t len, cs_ec_report_t *rep)
{
    uint8_t *got = NULL;
    size_t glen = 0;
    cs_err_t err = {0};
    int rc = cs_ec_store_get(st, name, strlen(name), SIZE_MAX, &got, &glen, rep, &err);
    cr_assert_eq(rc, 0, "get %s: %s", name, err.msg);
    cr_assert_eq(glen, len);
    cr_assert(memcmp(got, want, len) == 0, "get %s: bytes differ", name);
    free(got);
}

static cs_ec_report_t *new_report(void)
{
    return calloc(1, sizeof(cs_ec_report_t));
}

Test(store, roundtrip_sizes_and_policies)
{
    cs_ec_store_t *st = open_store(NDIRS, 0);
    size_t sizes[] = {0, 1, 3, 4095, 4096, 16384, 16385, 100000, 1u << 20};
    unsigned codes[][2] = {{4, 2}, {1, 1}, {3, 5}, {6, 2}};
    rng_state = 11;
    cs_ec_report_t *rep = new_report();
    for (size_t c = 0; c < 4; c++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            char name[64];
            snprintf(name, sizeof name, "obj-%zu-%zu", c, s);
            uint8_t *data = random_bytes(sizes[s]);
            cs_ec_policy_t pol = {.k = codes[c][0], .m = codes[c][1], .stripe_size = 16384};
            cs_err_t err = {0};
            cr_assert_eq(cs_ec_store_put(st, name, strlen(name), &pol, data, sizes[s], &err), 0, "%s", err.msg);
            expect_get(st, name, data, sizes[s], rep);
            cr_expect_eq(rep->damaged, 0);
            cr_expect_eq(rep->stripes_reconstructed, 0);
            cr_expect_eq(rep->k, codes[c][0]);
            cr_expect_eq(rep->length, sizes[s]);
            cr_expect_eq(count_files(name), codes[c][0] + codes[c][1]);
            free(data);
        }
    free(rep);
    cs_ec_store_close(&st);
    cr_expect_null(st);
    cs_ec_store_close(&st);
}

Test(store, buffered_sync_io_path)
{
    cs_ec_store_t *st = open_store(6, CS_IO_NO_URING | CS_IO_NO_DIRECT);
    rng_state = 5;
    uint8_t *data = random_bytes(300000);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 65536};
    cr_assert_eq(cs_ec_store_put(st, "x", 1, &pol, data, 300000, NULL), 0);
    expect_get(st, "x", data, 300000, NULL);
    free(data);
    cs_ec_store_close(&st);
}

Test(store, names_are_never_paths)
{
    cs_ec_store_t *st = open_store(6, 0);
    const char *names[] = {"../../etc/passwd",    "/abs/path",      "a/b/c", ".", "..",
                           "spaces and\nnewline", "\xff\xfe binary"};
    cs_ec_policy_t pol = {.k = 4, .m = 2};
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(cs_ec_store_put(st, names[i], strlen(names[i]), &pol, names[i], strlen(names[i]), NULL), 0);
    /* a name with NUL bytes and the longest name */
    char nul[5] = {'a', 0, 'b', 0, 'c'};
    cr_assert_eq(cs_ec_store_put(st, nul, 5, &pol, "nul", 3, NULL), 0);
    char *longname = malloc(CS_EC_NAME_MAX + 1);
    memset(longname, 'L', CS_EC_NAME_MAX + 1);
    cr_assert_eq(cs_ec_store_put(st, longname, CS_EC_NAME_MAX, &pol, "long", 4, NULL), 0);
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_store_put(st, longname, CS_EC_NAME_MAX + 1, &pol, "x", 1, &err), CS_EINVAL);
    cr_expect_eq(cs_ec_store_put(st, "", 0, &pol, "x", 1, &err), CS_EINVAL);
    /* nothing escaped the directories */
    cr_expect_neq(access("/abs/path", F_OK), 0);
    char p[512];
    snprintf(p, sizeof p, "%s/a", root);
    cr_expect_neq(access(p, F_OK), 0);

    cs_ec_entry_t *ents = NULL;
    size_t n = 0;
    cr_assert_eq(cs_ec_store_list(st, &ents, &n, NULL), 0);
    cr_assert_eq(n, 9);
    /* sorted bytewise; original names back */
    int found = 0, found_nul = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            size_t a = ents[i - 1].name_len, b = ents[i].name_len;
            int c = memcmp(ents[i - 1].name, ents[i].name, a < b ? a : b);
            cr_expect(c < 0 || (c == 0 && a < b), "list is sorted");
        }
        for (size_t j = 0; j < 7; j++)
            if (ents[i].name_len == strlen(names[j]) && memcmp(ents[i].name, names[j], ents[i].name_len) == 0) {
                found++;
                cr_expect_eq(ents[i].length, strlen(names[j]));
                cr_expect_eq(ents[i].k, 4);
                cr_expect_eq(ents[i].m, 2);
            }
        if (ents[i].name_len == 5 && memcmp(ents[i].name, nul, 5) == 0)
            found_nul++;
    }
    cr_expect_eq(found, 7);
    cr_expect_eq(found_nul, 1);
    cs_ec_entries_free(ents, n);

    uint8_t *got;
    size_t glen;
    cr_assert_eq(cs_ec_store_get(st, nul, 5, 100, &got, &glen, NULL, NULL), 0);
    cr_expect_eq(glen, 3);
    cr_expect_eq(memcmp(got, "nul", 3), 0);
    free(got);
    cr_expect_eq(cs_ec_store_get(st, nul, 5, 2, &got, &glen, NULL, &err), CS_ETOOBIG);
    cr_assert_eq(cs_ec_store_delete(st, "../../etc/passwd", 16, NULL), 0);
    cr_expect_eq(cs_ec_store_get(st, "../../etc/passwd", 16, 100, &got, &glen, NULL, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "object '../../etc/passwd' not found in 6 directories");
    cr_expect_eq(cs_ec_store_delete(st, "../../etc/passwd", 16, &err), CS_ENOTFOUND);
    free(longname);
    cs_ec_store_close(&st);
}

Test(store, policy_and_open_errors)
{
    cs_ec_store_t *st = NULL;
    cs_err_t err = {0};
    const char *bad[] = {"/nonexistent-dir"};
    cr_expect_eq(cs_ec_store_open(bad, 1, NULL, &st, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "ec store: /nonexistent-dir is not a directory: create it (one per disk)");
    const char *dup[] = {dirs[0], dirs[0]};
    cr_expect_eq(cs_ec_store_open(dup, 2, NULL, &st, &err), CS_EINVAL);
    st = open_store(4, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2};
    cr_expect_eq(cs_ec_store_put(st, "a", 1, &pol, "x", 1, &err), CS_EEC_POLICY);
    cr_expect_str_eq(err.msg, "4+2 needs 6 directories (one per shard), only 4 given");
    pol = (cs_ec_policy_t){.k = 2, .m = 1, .stripe_size = 100};
    cr_expect_eq(cs_ec_store_put(st, "a", 1, &pol, "x", 1, &err), CS_EEC_POLICY);
    cs_ec_store_close(&st);
}

Test(store, overwrite_keeps_one_generation)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 3;
    uint8_t *v1 = random_bytes(50000), *v2 = random_bytes(70000);
    cr_assert_eq(cs_ec_store_put(st, "obj", 3, &pol, v1, 50000, NULL), 0);
    cs_ec_report_t *rep = new_report();
    cr_assert_eq(cs_ec_store_stat(st, "obj", 3, rep, NULL), 0);
    uint64_t g1 = rep->generation;
    cr_assert_eq(cs_ec_store_put(st, "obj", 3, &pol, v2, 70000, NULL), 0);
    expect_get(st, "obj", v2, 70000, rep);
    cr_expect_gt(rep->generation, g1);
    cr_expect_eq(count_files("obj"), 6);
    cr_expect_eq(rep->stale_files, 0);
    free(v1);
    free(v2);
    free(rep);
    cs_ec_store_close(&st);
}

/* Files of an interrupted put: old generation complete, newer one partial.
 * Readers use the newest generation with at least k shards. */
Test(store, interrupted_overwrite_reads_old_or_new)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 9;
    uint8_t *v1 = random_bytes(40000), *v2 = random_bytes(40000);
    cr_assert_eq(cs_ec_store_put(st, "o", 1, &pol, v1, 40000, NULL), 0);
    /* keep a copy of generation 1 */
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir %s/save && for d in %s/disk*; do cp -a $d %s/save/; done", root, root, root);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(cs_ec_store_put(st, "o", 1, &pol, v2, 40000, NULL), 0);
    /* put generation 1 back beside generation 2 (as if its removal never ran) */
    snprintf(cmd, sizeof cmd, "for d in %s/save/disk*; do cp -an $d/. %s/$(basename $d)/; done", root, root);
    cr_assert_eq(system(cmd), 0);
    cs_ec_report_t *rep = new_report();
    expect_get(st, "o", v2, 40000, rep);
    cr_expect_eq(rep->stale_files, 6);
    /* generation 2 with only k shards: still the new object */
    char p[512];
    for (unsigned i = 4; i < 6; i++) {
        snprintf(cmd, sizeof cmd, "rm %s/disk*/*/g*-%u.shard", root, i);
        shard_path("o", i, p, sizeof p); /* any file; remove the newest of index i */
        cr_assert_eq(unlink(p), 0);
    }
    expect_get(st, "o", v2, 40000, rep);
    /* generation 2 with k-1 shards: the old object */
    shard_path("o", 3, p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    expect_get(st, "o", v1, 40000, rep);
    cr_expect_eq(rep->damaged, 0);
    /* repair cleans the partial generation away */
    cr_assert_eq(cs_ec_store_repair(st, "o", 1, rep, NULL), 0);
    cr_expect_eq(rep->stale_removed, 3);
    cr_expect_eq(count_files("o"), 6);
    free(v1);
    free(v2);
    free(rep);
    cs_ec_store_close(&st);
}

Test(store, missing_shards_reconstructed_up_to_m)
{
    cs_ec_store_t *st = open_store(NDIRS, 0);
    cs_ec_policy_t pol = {.k = 5, .m = 3, .stripe_size = 20480};
    rng_state = 17;
    size_t len = 123457;
    uint8_t *v = random_bytes(len);
    cr_assert_eq(cs_ec_store_put(st, "m", 1, &pol, v, len, NULL), 0);
    cs_ec_report_t *rep = new_report();
    char p[512];
    unsigned lost[] = {0, 6, 3};
    for (unsigned l = 0; l < 3; l++) {
        shard_path("m", lost[l], p, sizeof p);
        cr_assert_eq(unlink(p), 0);
        expect_get(st, "m", v, len, rep);
        cr_expect_eq(rep->damaged, l + 1);
        cr_expect_eq(rep->shard[lost[l]].state, CS_EC_SHARD_MISSING);
        cr_expect_eq(rep->stripes_reconstructed, 7);
    }
    shard_path("m", 1, p, sizeof p);
    cr_assert_eq(unlink(p), 0);
    uint8_t *got = NULL;
    size_t glen;
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_store_get(st, "m", 1, SIZE_MAX, &got, &glen, rep, &err), CS_EINSUFFICIENT_SHARDS);
    cr_expect_null(got);
    cr_expect_str_eq(err.msg, "object 'm': InsufficientShards: available 4, required 5");
    free(v);
    free(rep);
    cs_ec_store_close(&st);
}

Test(store, corruption_detected_reconstructed_repaired)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 23;
    size_t len = 100000; /* 7 stripes */
    uint8_t *v = random_bytes(len);
    cr_assert_eq(cs_ec_store_put(st, "c", 1, &pol, v, len, NULL), 0);
    char p0[512], p1[512], orig[1024];
    shard_path("c", 0, p0, sizeof p0);
    shard_path("c", 5, p1, sizeof p1);
    snprintf(orig, sizeof orig, "cp %s %s/orig0", p0, root);
    cr_assert_eq(system(orig), 0);
    /* a flipped bit in stripe 0 of shard 0 and stripe 3 of parity 5 */
    flip_byte(p0, 4096 + 17);
    flip_byte(p1, 4096 + 3 * 4096 + 100);
    cs_ec_report_t *rep = new_report();
    expect_get(st, "c", v, len, rep);
    cr_expect_eq(rep->shard[0].state, CS_EC_SHARD_CORRUPT);
    cr_expect_eq(rep->shard[0].bad_stripes, 1);
    cr_expect_eq(rep->stripes_reconstructed, 1); /* parity damage needs no decode */
    cr_assert_eq(cs_ec_store_verify(st, "c", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 2);
    cr_expect_eq(rep->shard[5].state, CS_EC_SHARD_CORRUPT);
    cr_expect_eq(rep->stripes_unrecoverable, 0);
    /* verify changed nothing */
    cr_assert_eq(cs_ec_store_verify(st, "c", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 2);
    cr_assert_eq(cs_ec_store_repair(st, "c", 1, rep, NULL), 0);
    cr_expect_eq(rep->repaired, 2);
    cr_expect_eq(rep->shard[0].state, CS_EC_SHARD_REPAIRED);
    cr_assert_eq(cs_ec_store_verify(st, "c", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 0);
    /* the rebuilt shard is byte-identical to the original */
    snprintf(orig, sizeof orig, "cmp -s %s %s/orig0", p0, root);
    cr_expect_eq(system(orig), 0);
    cr_expect_eq(count_files("c"), 6);
    free(v);
    free(rep);
    cs_ec_store_close(&st);
}

Test(store, header_damage_truncation_and_misplaced_files)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 3, .m = 3, .stripe_size = 12288};
    rng_state = 29;
    size_t len = 60000;
    uint8_t *v = random_bytes(len);
    cr_assert_eq(cs_ec_store_put(st, "h", 1, &pol, v, len, NULL), 0);
    char p[6][512];
    for (unsigned i = 0; i < 6; i++)
        shard_path("h", i, p[i], sizeof p[i]);
    flip_byte(p[0], 30); /* a header field */
    cr_assert_eq(truncate(p[1], 4096 + 4096), 0);
    /* shard 2's file swapped with shard 4's: names and headers disagree */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.x", p[2]);
    cr_assert_eq(rename(p[2], tmp), 0);
    cr_assert_eq(rename(p[4], p[2]), 0);
    cr_assert_eq(rename(tmp, p[4]), 0);
    cs_ec_report_t *rep = new_report();
    uint8_t *got = NULL;
    size_t glen;
    cs_err_t err = {0};
    /* four shards damaged of 3+3: refused, not wrong bytes */
    cr_expect_eq(cs_ec_store_get(st, "h", 1, SIZE_MAX, &got, &glen, rep, &err), CS_EINSUFFICIENT_SHARDS);
    cr_expect_str_eq(err.msg, "object 'h': InsufficientShards: available 2, required 3");
    /* swap back: three damaged of 3+3 is fine */
    cr_assert_eq(rename(p[2], tmp), 0);
    cr_assert_eq(rename(p[4], p[2]), 0);
    cr_assert_eq(rename(tmp, p[4]), 0);
    flip_byte(p[2], 4096 + 5);
    expect_get(st, "h", v, len, rep);
    cr_expect_eq(rep->shard[0].state, CS_EC_SHARD_BAD_HEADER);
    cr_expect(strstr(rep->shard[0].detail, "CRC32C mismatch") != NULL, "%s", rep->shard[0].detail);
    cr_expect_eq(rep->shard[1].state, CS_EC_SHARD_TRUNCATED);
    cr_expect_eq(rep->shard[2].state, CS_EC_SHARD_CORRUPT);
    cr_assert_eq(cs_ec_store_repair(st, "h", 1, rep, NULL), 0);
    cr_expect_eq(rep->repaired, 3);
    cr_assert_eq(cs_ec_store_verify(st, "h", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 0);
    expect_get(st, "h", v, len, rep);
    free(v);
    free(rep);
    cs_ec_store_close(&st);
}

Test(store, shards_of_another_object_or_generation_are_rejected)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 31;
    uint8_t *a = random_bytes(30000), *b = random_bytes(30000);
    cr_assert_eq(cs_ec_store_put(st, "A", 1, &pol, a, 30000, NULL), 0);
    cr_assert_eq(cs_ec_store_put(st, "B", 1, &pol, b, 30000, NULL), 0);
    char pa[512], pb[512], old[512], cmd[1200];
    /* B's shard 1 copied over A's shard 1 */
    shard_path("A", 1, pa, sizeof pa);
    shard_path("B", 1, pb, sizeof pb);
    snprintf(cmd, sizeof cmd, "cp %s %s", pb, pa);
    cr_assert_eq(system(cmd), 0);
    /* an older generation of A's shard 2 under the current name */
    shard_path("A", 2, old, sizeof old);
    snprintf(cmd, sizeof cmd, "cp %s %s/old2", old, root);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(cs_ec_store_put(st, "A", 1, &pol, a, 30000, NULL), 0);
    shard_path("A", 2, pa, sizeof pa);
    snprintf(cmd, sizeof cmd, "cp %s/old2 %s", root, pa);
    cr_assert_eq(system(cmd), 0);
    shard_path("A", 1, pa, sizeof pa);
    snprintf(cmd, sizeof cmd, "cp %s %s", pb, pa);
    cr_assert_eq(system(cmd), 0);
    cs_ec_report_t *rep = new_report();
    expect_get(st, "A", a, 30000, rep);
    cr_expect_eq(rep->shard[1].state, CS_EC_SHARD_BAD_HEADER);
    cr_expect(strstr(rep->shard[1].detail, "belongs to another object") != NULL, "%s", rep->shard[1].detail);
    cr_expect_eq(rep->shard[2].state, CS_EC_SHARD_BAD_HEADER);
    cr_expect(strstr(rep->shard[2].detail, "misplaced") != NULL, "%s", rep->shard[2].detail);
    cr_assert_eq(cs_ec_store_repair(st, "A", 1, rep, NULL), 0);
    cr_assert_eq(cs_ec_store_verify(st, "A", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 0);
    expect_get(st, "B", b, 30000, NULL);
    free(a);
    free(b);
    free(rep);
    cs_ec_store_close(&st);
}

Test(store, reordered_directories_and_repair_of_a_lost_disk)
{
    cs_ec_store_t *st = open_store(7, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 37;
    uint8_t *v = random_bytes(77777);
    cr_assert_eq(cs_ec_store_put(st, "r", 1, &pol, v, 77777, NULL), 0);
    cs_ec_store_close(&st);
    const char *rev[7];
    for (int i = 0; i < 7; i++)
        rev[i] = dirs[6 - i];
    cr_assert_eq(cs_ec_store_open(rev, 7, NULL, &st, NULL), 0);
    expect_get(st, "r", v, 77777, NULL);
    /* a whole disk emptied */
    char p[512], cmd[700];
    shard_path("r", 2, p, sizeof p);
    *strrchr(p, '/') = '\0';
    snprintf(cmd, sizeof cmd, "rm -rf %s", p);
    cr_assert_eq(system(cmd), 0);
    cs_ec_report_t *rep = new_report();
    cr_assert_eq(cs_ec_store_repair(st, "r", 1, rep, NULL), 0);
    cr_expect_eq(rep->repaired, 1);
    cr_assert_eq(cs_ec_store_verify(st, "r", 1, rep, NULL), 0);
    cr_expect_eq(rep->damaged, 0);
    expect_get(st, "r", v, 77777, rep);
    cr_expect_eq(rep->stripes_reconstructed, 0);
    free(v);
    free(rep);
    cs_ec_store_close(&st);
}

typedef struct {
    uint8_t *data;
    size_t len, off;
} sink_t;

static int sink_write(void *ctx, const void *buf, size_t len, cs_err_t *err)
{
    sink_t *s = ctx;
    if (s->off + len > s->len)
        return cs_err_set(err, CS_EIO, "sink full");
    memcpy(s->data + s->off, buf, len);
    s->off += len;
    return 0;
}

static int src_read(void *ctx, void *buf, size_t len, cs_err_t *err)
{
    sink_t *s = ctx;
    memcpy(buf, s->data + s->off, len);
    s->off += len;
    return 0;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
    uint64_t *last = ctx;
    cr_assert_geq(done, *last);
    cr_assert_leq(done, total);
    *last = done;
}

Test(store, streaming_with_progress)
{
    uint64_t last = 0;
    cs_ec_store_opts_t o = {.progress = progress, .progress_ctx = &last};
    cs_ec_store_t *st = NULL;
    cr_assert_eq(cs_ec_store_open(dirp, 6, &o, &st, NULL), 0);
    rng_state = 41;
    size_t len = 3u << 20;
    sink_t src = {.data = random_bytes(len), .len = len};
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 1u << 20};
    cr_assert_eq(cs_ec_store_put_stream(st, "s", 1, &pol, len, src_read, &src, NULL), 0);
    cr_expect_eq(last, len);
    sink_t dst = {.data = malloc(len), .len = len};
    last = 0;
    cr_assert_eq(cs_ec_store_get_stream(st, "s", 1, sink_write, &dst, NULL, NULL), 0);
    cr_expect_eq(dst.off, len);
    cr_expect_eq(memcmp(dst.data, src.data, len), 0);
    /* a failing sink stops the read with its error */
    sink_t small = {.data = malloc(10), .len = 10};
    last = 0;
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_store_get_stream(st, "s", 1, sink_write, &small, NULL, &err), CS_EIO);
    cr_expect_str_eq(err.msg, "sink full");
    free(small.data);
    free(src.data);
    free(dst.data);
    cs_ec_store_close(&st);
}

/* Seeded random damage: never wrong bytes. */
Test(store, property_random_damage)
{
    const char *env = getenv("CS_TEST_SEED");
    /* A fixed seed keeps CI deterministic; CS_TEST_SEED explores others. */
    uint64_t seed = env ? strtoull(env, NULL, 0) : UINT64_C(20261126);
    fprintf(stderr, "store property seed %llu (rerun with CS_TEST_SEED=%llu)\n", (unsigned long long)seed,
            (unsigned long long)seed);
    rng_state = seed ? seed : 1;
    cs_ec_store_t *st = open_store(NDIRS, 0);
    cs_ec_report_t *rep = new_report();
    for (int it = 0; it < 25; it++) {
        unsigned m = 1 + (unsigned)(rnd() % 3), k = 1 + (unsigned)(rnd() % (NDIRS - m));
        size_t len = (size_t)(rnd() % 200000);
        cs_ec_policy_t pol = {.k = k, .m = m, .stripe_size = 4096u << (rnd() % 4)};
        uint8_t *v = random_bytes(len);
        char name[32];
        snprintf(name, sizeof name, "p%d", it);
        cs_err_t err = {0};
        cr_assert_eq(cs_ec_store_put(st, name, strlen(name), &pol, v, len, &err), 0, "%s", err.msg);
        unsigned damage = (unsigned)(rnd() % (m + 2)); /* sometimes more than m */
        bool used[CS_EC_MAX_SHARDS] = {0};
        unsigned unlinked = 0;
        for (unsigned d = 0; d < damage; d++) {
            unsigned i = (unsigned)(rnd() % (k + m));
            if (used[i])
                continue;
            used[i] = true;
            char p[512];
            shard_path(name, i, p, sizeof p);
            struct stat sb;
            cr_assert_eq(stat(p, &sb), 0);
            switch (rnd() % 3) {
            case 0:
                unlink(p);
                unlinked++;
                break;
            case 1:
                flip_byte(p, (off_t)(rnd() % (uint64_t)sb.st_size));
                break;
            default:
                cr_assert_eq(truncate(p, (off_t)(rnd() % (uint64_t)sb.st_size)), 0);
                break;
            }
        }
        uint8_t *got = NULL;
        size_t glen = 0;
        int rc = cs_ec_store_get(st, name, strlen(name), SIZE_MAX, &got, &glen, rep, &err);
        if (rc == 0) {
            cr_assert_eq(glen, len, "seed %llu it %d", (unsigned long long)seed, it);
            cr_assert(memcmp(got, v, len) == 0, "seed %llu it %d: wrong bytes", (unsigned long long)seed, it);
            free(got);
            cr_assert_eq(cs_ec_store_repair(st, name, strlen(name), rep, &err), 0, "%s", err.msg);
            cr_assert_eq(cs_ec_store_verify(st, name, strlen(name), rep, NULL), 0);
            cr_assert_eq(rep->damaged, 0);
        } else if (rc == CS_ENOTFOUND) {
            /* Every shard file gone: nothing on disk says the object existed. */
            cr_assert_eq(unlinked, k + m, "seed %llu it %d: not found with %u of %u files left: %s",
                         (unsigned long long)seed, it, k + m - unlinked, k + m, err.msg);
        } else {
            cr_assert_eq(rc, CS_EINSUFFICIENT_SHARDS, "seed %llu it %d: %s", (unsigned long long)seed, it, err.msg);
            unsigned really = 0;
            for (unsigned i = 0; i < k + m; i++)
                really += used[i];
            cr_assert_gt(really, m, "seed %llu it %d: refused with %u damaged", (unsigned long long)seed, it, really);
        }
        free(v);
    }
    free(rep);
    cs_ec_store_close(&st);
}

typedef struct {
    cs_ec_store_t *st;
    int id;
    int failures;
} worker_t;

static void *worker(void *p)
{
    worker_t *w = p;
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    for (int i = 0; i < 10; i++) {
        char name[32], body[64];
        snprintf(name, sizeof name, "t%d-%d", w->id, i % 3);
        int n = snprintf(body, sizeof body, "thread %d round %d", w->id, i);
        uint8_t *got = NULL;
        size_t glen = 0;
        if (cs_ec_store_put(w->st, name, strlen(name), &pol, body, (size_t)n, NULL) != 0 ||
            cs_ec_store_get(w->st, name, strlen(name), 100, &got, &glen, NULL, NULL) != 0 || glen != (size_t)n ||
            memcmp(got, body, glen) != 0)
            w->failures++;
        free(got);
    }
    return NULL;
}

Test(store, threads_on_one_store)
{
    cs_ec_store_t *st = open_store(6, 0);
    pthread_t t[4];
    worker_t w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (worker_t){.st = st, .id = i};
        cr_assert_eq(pthread_create(&t[i], NULL, worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        cr_expect_eq(w[i].failures, 0);
    }
    cs_ec_entry_t *e;
    size_t n;
    cr_assert_eq(cs_ec_store_list(st, &e, &n, NULL), 0);
    cr_expect_eq(n, 12);
    cs_ec_entries_free(e, n);
    cs_ec_store_close(&st);
}

/* The directory of the object's files on disk d ("" when none). */
static void object_dir(const char *name, int d, char *out, size_t cap)
{
    uint8_t h[16];
    char hex[33];
    cs_ec_name_hash(name, strlen(name), h);
    cs_ec_name_hex(h, hex);
    snprintf(out, cap, "%s/%s", dirs[d], hex);
    struct stat sb;
    if (stat(out, &sb) != 0)
        out[0] = '\0';
}

static void touch(const char *dir, const char *file)
{
    char p[700];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    cr_assert_geq(fd, 0, "%s", p);
    close(fd);
}

static bool listed(cs_ec_store_t *st, const char *name)
{
    cs_ec_entry_t *e;
    size_t n;
    cr_assert_eq(cs_ec_store_list(st, &e, &n, NULL), 0);
    bool found = false;
    for (size_t i = 0; i < n; i++)
        found |= e[i].name && strcmp((const char *)e[i].name, name) == 0;
    cs_ec_entries_free(e, n);
    return found;
}

static void expect_gone(cs_ec_store_t *st, const char *name)
{
    uint8_t *got = NULL;
    size_t glen = 0;
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_store_get(st, name, strlen(name), SIZE_MAX, &got, &glen, NULL, &err), CS_ENOTFOUND, "%s",
                 err.msg);
    cr_expect_null(got);
    cr_expect(!listed(st, name), "%s still listed", name);
}

Test(store, delete_removes_everything)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 51;
    uint8_t *v = random_bytes(50000);
    cr_assert_eq(cs_ec_store_put(st, "d", 1, &pol, v, 50000, NULL), 0);
    cr_assert_eq(cs_ec_store_put(st, "keep", 4, &pol, v, 50000, NULL), 0);
    cr_assert_eq(cs_ec_store_delete(st, "d", 1, NULL), 0);
    expect_gone(st, "d");
    cr_expect_eq(count_files("d"), 0);
    char p[400];
    for (int d = 0; d < 6; d++) {
        object_dir("d", d, p, sizeof p);
        cr_expect_str_empty(p, "object directory left: %s", p);
    }
    cs_err_t err = {0};
    cr_expect_eq(cs_ec_store_delete(st, "d", 1, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "object 'd' not found");
    expect_get(st, "keep", v, 50000, NULL);
    free(v);
    cs_ec_store_close(&st);
}

/* The states a crash can leave a delete in (tombstone written, shards
 * partly removed, tombstones partly removed): never a partial object, and
 * every path that finds the leftovers removes them. */
Test(store, interrupted_delete_hides_the_whole_object)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 52;
    uint8_t *v = random_bytes(40000), *w = random_bytes(30000);
    cs_ec_report_t *rep = new_report();
    for (int scenario = 0; scenario < 5; scenario++) {
        cr_assert_eq(cs_ec_store_put(st, "x", 1, &pol, v, 40000, NULL), 0);
        cr_assert_eq(cs_ec_store_stat(st, "x", 1, rep, NULL), 0);
        char tomb[48], dir[400];
        snprintf(tomb, sizeof tomb, "g%016llx.tomb", (unsigned long long)rep->generation + 1);
        /* step 1 done in one directory only: the commit point */
        object_dir("x", 0, dir, sizeof dir);
        cr_assert_str_not_empty(dir);
        touch(dir, tomb);
        if (scenario >= 1) {
            /* step 2 partly done: some shards removed */
            char sp[512];
            for (unsigned i = 0; i < 3; i++) {
                shard_path("x", i, sp, sizeof sp);
                cr_assert_eq(unlink(sp), 0);
            }
        }
        expect_gone(st, "x");
        cs_err_t err = {0};
        cr_expect_eq(cs_ec_store_stat(st, "x", 1, rep, &err), CS_ENOTFOUND);
        cr_expect_str_eq(err.msg, "object 'x' not found (deleted)");
        cr_expect_eq(cs_ec_store_verify(st, "x", 1, rep, NULL), CS_ENOTFOUND);
        cr_expect_gt(count_files("x"), 0, "verify must not change anything");
        switch (scenario) {
        case 0: /* a repeated delete finishes it */
            cr_expect_eq(cs_ec_store_delete(st, "x", 1, NULL), CS_ENOTFOUND);
            break;
        case 1: /* repair of the name finishes it */
            cr_expect_eq(cs_ec_store_repair(st, "x", 1, rep, NULL), CS_ENOTFOUND);
            cr_expect_gt(rep->stale_removed, 0);
            break;
        case 2: { /* a store-wide purge finishes it and leaves live objects */
            cr_assert_eq(cs_ec_store_put(st, "live", 4, &pol, w, 30000, NULL), 0);
            unsigned removed = 0;
            cr_expect_eq(cs_ec_store_purge(st, &removed, NULL), 0);
            cr_expect_eq(removed, 4); /* 3 shards left + the tombstone */
            expect_get(st, "live", w, 30000, NULL);
            cr_assert_eq(cs_ec_store_delete(st, "live", 4, NULL), 0);
            break;
        }
        case 3: /* a new put of the name replaces it and removes the leftovers */
            cr_assert_eq(cs_ec_store_put(st, "x", 1, &pol, w, 30000, NULL), 0);
            expect_get(st, "x", w, 30000, NULL);
            cr_expect_eq(count_files("x"), 6);
            cr_assert_eq(cs_ec_store_delete(st, "x", 1, NULL), 0);
            break;
        case 4: { /* a put that crashed after the delete: its partial
                   * generation is newer than the tombstone but incomplete */
            char sp[512], np[600];
            shard_path("x", 4, sp, sizeof sp);
            snprintf(np, sizeof np, "%s", sp);
            char *g = strrchr(np, '/') + 2; /* 16 hex digits after "/g" */
            memcpy(g, "ffffffffffffff00", 16);
            cr_assert_eq(link(sp, np), 0);
            expect_gone(st, "x");
            cr_expect_eq(cs_ec_store_delete(st, "x", 1, NULL), CS_ENOTFOUND);
            break;
        }
        }
        cr_expect_eq(count_files("x"), 0, "scenario %d left files", scenario);
        expect_gone(st, "x");
    }
    /* A tombstone older than the object (left by an earlier delete whose
     * cleanup was interrupted, then a put) does not hide it. */
    cr_assert_eq(cs_ec_store_put(st, "y", 1, &pol, v, 40000, NULL), 0);
    char dir[400];
    object_dir("y", 1, dir, sizeof dir);
    touch(dir, "g0000000000000001.tomb");
    expect_get(st, "y", v, 40000, NULL);
    cr_expect(listed(st, "y"));
    cr_assert_eq(cs_ec_store_repair(st, "y", 1, rep, NULL), 0);
    cr_expect_eq(rep->stale_removed, 1);
    cr_expect_eq(count_files("y"), 6);
    free(v);
    free(w);
    free(rep);
    cs_ec_store_close(&st);
}

/* Makes a directory refuse new entries (immutable flag as root, which
 * ignores permissions; mode 0555 otherwise), or undoes it. */
static bool lock_dir(const char *dir, bool on)
{
    if (geteuid() != 0)
        return chmod(dir, on ? 0555 : 0755) == 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return false;
    int flags = 0;
    bool ok = ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    flags = on ? flags | FS_IMMUTABLE_FL : flags & ~FS_IMMUTABLE_FL;
    ok = ok && ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    close(fd);
    return ok;
}

Test(store, delete_that_cannot_write_its_tombstone_deletes_nothing)
{
    cs_ec_store_t *st = open_store(6, 0);
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 53;
    uint8_t *v = random_bytes(20000);
    cr_assert_eq(cs_ec_store_put(st, "ro", 2, &pol, v, 20000, NULL), 0);
    char dir[400];
    object_dir("ro", 3, dir, sizeof dir);
    if (!lock_dir(dir, true)) {
        free(v);
        cs_ec_store_close(&st);
        cr_skip_test("cannot make %s refuse new files here", dir);
    }
    cs_err_t err = {0};
    int rc = cs_ec_store_delete(st, "ro", 2, &err);
    cr_assert(lock_dir(dir, false));
    cr_expect(rc == CS_EPERM, "%d %s", rc, err.msg);
    cr_expect(strstr(err.msg, "delete 'ro': cannot write its tombstone, nothing was deleted: ") == err.msg, "%s",
              err.msg);
    expect_get(st, "ro", v, 20000, NULL);
    cr_expect_eq(count_files("ro"), 6);
    cr_assert_eq(cs_ec_store_delete(st, "ro", 2, NULL), 0);
    expect_gone(st, "ro");
    free(v);
    cs_ec_store_close(&st);
}

/* A get spread over several threads returns the same bytes and the same
 * report as one on the calling thread, with damage in some stripes and an
 * unrecoverable stripe that stops it after exactly the stripes before. */
Test(store, parallel_get_matches_single_thread)
{
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 54;
    size_t len = 40 * 16384 + 1000; /* 41 stripes */
    uint8_t *v = random_bytes(len);
    cs_ec_store_t *st = open_store(6, 0);
    cr_assert_eq(cs_ec_store_put(st, "p", 1, &pol, v, len, NULL), 0);
    cs_ec_store_close(&st);
    char s1[512], s2[512], s5[512];
    shard_path("p", 1, s1, sizeof s1);
    shard_path("p", 2, s2, sizeof s2);
    shard_path("p", 5, s5, sizeof s5);
    /* chunk j of a shard starts at 4096 (header) + j * 4096 */
    flip_byte(s1, 4096 + 3 * 4096 + 7);
    flip_byte(s2, 4096 + 17 * 4096 + 100);
    flip_byte(s1, 4096 + 17 * 4096 + 9);
    flip_byte(s5, 4096 + 30 * 4096 + 1);
    unsigned threads[] = {1, 2, 3, 8};
    cs_ec_report_t *rep = new_report();
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        for (unsigned io = 0; io < 2; io++) {
            cs_ec_store_opts_t o = {.read_threads = threads[t], .io_flags = io ? CS_IO_NO_DIRECT | CS_IO_NO_URING : 0};
            cr_assert_eq(cs_ec_store_open(dirp, 6, &o, &st, NULL), 0);
            expect_get(st, "p", v, len, rep);
            cr_expect_eq(rep->stripes_reconstructed, 2, "threads %u", threads[t]);
            cr_expect_eq(rep->shard[1].state, CS_EC_SHARD_CORRUPT);
            cr_expect_eq(rep->shard[1].bad_stripes, 2);
            cr_expect_eq(rep->shard[2].bad_stripes, 1);
            cr_expect_eq(rep->damaged, 2); /* parity 5 is not read: its stripe 30 is fine */
            cs_ec_store_close(&st);
        }
    }
    /* a third bad chunk in stripe 17: more than m, unrecoverable */
    char s0[512];
    shard_path("p", 0, s0, sizeof s0);
    flip_byte(s0, 4096 + 17 * 4096 + 11);
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        cs_ec_store_opts_t o = {.read_threads = threads[t]};
        cr_assert_eq(cs_ec_store_open(dirp, 6, &o, &st, NULL), 0);
        sink_t dst = {.data = malloc(len), .len = len};
        cs_err_t err = {0};
        cr_expect_eq(cs_ec_store_get_stream(st, "p", 1, sink_write, &dst, rep, &err), CS_EINSUFFICIENT_SHARDS);
        cr_expect(strstr(err.msg, "object 'p' stripe 17: ") != NULL, "%s", err.msg);
        cr_expect_eq(dst.off, (size_t)17 * 16384, "threads %u: %zu bytes delivered", threads[t], dst.off);
        cr_expect_eq(memcmp(dst.data, v, dst.off), 0);
        cr_expect_eq(rep->stripes_unrecoverable, 1);
        free(dst.data);
        cs_ec_store_close(&st);
    }
    free(v);
    free(rep);
}

/* get into the caller's buffer: full stripes land in place (also at an
 * unaligned address, which drops O_DIRECT), the short last stripe through a
 * slot; corrupt data chunks are caught in place and rebuilt there; a buffer
 * too small is refused before anything is read. */
Test(store, get_into_caller_buffer)
{
    cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 16384};
    rng_state = 77;
    size_t len = 9 * 16384 + 5000; /* 10 stripes, the last one short */
    uint8_t *v = random_bytes(len);
    cs_ec_store_t *st = open_store(6, 0);
    cr_assert_eq(cs_ec_store_put(st, "i", 1, &pol, v, len, NULL), 0);
    cs_ec_store_close(&st);
    char s0[512], s3[512];
    shard_path("i", 0, s0, sizeof s0);
    shard_path("i", 3, s3, sizeof s3);
    flip_byte(s0, 4096 + 2 * 4096 + 5); /* full stripe 2, data shard 0 */
    flip_byte(s3, 4096 + 9 * 4096 + 1); /* short stripe 9, data shard 3 */
    uint8_t *mem = malloc(len + 4096 + 1);
    cs_ec_report_t *rep = new_report();
    unsigned threads[] = {1, 2, 8};
    for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
        for (unsigned io = 0; io < 2; io++) {
            cs_ec_store_opts_t o = {.read_threads = threads[t], .io_flags = io ? CS_IO_NO_DIRECT | CS_IO_NO_URING : 0};
            cr_assert_eq(cs_ec_store_open(dirp, 6, &o, &st, NULL), 0);
            for (size_t shift = 0; shift < 2; shift++) {
                uint8_t *buf = mem + shift;
                memset(buf, 0xee, len + 4096);
                size_t got = 0;
                cs_err_t err = {0};
                cr_assert_eq(cs_ec_store_get_into(st, "i", 1, buf, len + 4096, &got, rep, &err), 0, "%s", err.msg);
                cr_assert_eq(got, len);
                cr_expect(memcmp(buf, v, len) == 0, "threads %u io %u shift %zu", threads[t], io, shift);
                cr_expect_eq(buf[len], 0xee, "nothing written past the object");
                cr_expect_eq(rep->stripes_reconstructed, 2);
                cr_expect_eq(rep->shard[0].state, CS_EC_SHARD_CORRUPT);
                cr_expect_eq(rep->shard[3].bad_stripes, 1);
                cr_expect_eq(rep->damaged, 2);
            }
            size_t got = 1;
            cs_err_t err = {0};
            cr_expect_eq(cs_ec_store_get_into(st, "i", 1, mem, len - 1, &got, rep, &err), CS_ETOOBIG);
            cr_expect_eq(got, 0);
            cr_expect_eq(cs_ec_store_get_into(st, "nope", 4, mem, len, &got, rep, &err), CS_ENOTFOUND);
            cs_ec_store_close(&st);
        }
    }
    free(mem);
    free(v);
    free(rep);
}
