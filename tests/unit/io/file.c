/* Tests for batched file I/O (io_uring and the synchronous fallback),
 * O_DIRECT opening and the durable file helpers. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/buf.h"
#include "couchestor/io.h"

static char dir[256];

static void mkdir_tmp(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-io-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_expect_eq(system(cmd), 0);
}

TestSuite(io, .init = mkdir_tmp, .fini = rm_tmp);

static void batch_roundtrip(unsigned flags)
{
    cs_io_t *io = NULL;
    cr_assert_eq(cs_io_new(8, flags, &io, NULL), 0);
    if (flags & CS_IO_NO_URING)
        cr_expect(!cs_io_uses_uring(io));
    enum {
        NF = 20,
        LEN = 3 * 4096
    };
    cs_file_t f[NF];
    cs_buf_t *b = NULL;
    cr_assert_eq(cs_buf_alloc((size_t)NF * LEN, 0, &b, NULL), 0);
    cs_io_req_t req[NF];
    for (int i = 0; i < NF; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/f%u-%d", dir, flags, i);
        cr_assert_eq(cs_file_open(io, path, O_RDWR | O_CREAT, 0644, true, &f[i], NULL), 0);
        if (flags & CS_IO_NO_DIRECT)
            cr_expect(!f[i].direct);
        memset(b->data + (size_t)i * LEN, 'a' + i, LEN);
        req[i] = (cs_io_req_t){
            .op = CS_IO_WRITE, .file = &f[i], .buf = b->data + (size_t)i * LEN, .len = LEN, .offset = 4096};
    }
    /* more requests than the depth: they go in several rounds */
    cr_assert_eq(cs_io_run(io, req, NF, NULL), 0);
    for (int i = 0; i < NF; i++) {
        cr_expect_eq(req[i].done, LEN);
        req[i] = (cs_io_req_t){.op = CS_IO_FSYNC, .file = &f[i]};
    }
    cr_assert_eq(cs_io_run(io, req, NF, NULL), 0);
    memset(b->data, 0, (size_t)NF * LEN);
    for (int i = 0; i < NF; i++)
        req[i] = (cs_io_req_t){
            .op = CS_IO_READ, .file = &f[i], .buf = b->data + (size_t)i * LEN, .len = LEN, .offset = 4096 * 2};
    cr_assert_eq(cs_io_run(io, req, NF, NULL), 0);
    for (int i = 0; i < NF; i++) {
        cr_expect_eq(req[i].done, 2 * 4096, "short read at end of file");
        cr_expect_eq(b->data[(size_t)i * LEN], 'a' + i);
        cr_expect_eq(b->data[(size_t)i * LEN + 2 * 4096 - 1], 'a' + i);
        cs_file_close(&f[i]);
        cr_expect_eq(f[i].fd, -1);
    }
    cs_buf_free(&b);
    cs_io_free(&io);
    cr_expect_null(io);
}

Test(io, batch_uring_direct)
{
    batch_roundtrip(0);
}

Test(io, batch_sync_buffered)
{
    batch_roundtrip(CS_IO_NO_URING | CS_IO_NO_DIRECT);
}

Test(io, misaligned_request_on_direct_file_still_works)
{
    cs_io_t *io = NULL;
    cr_assert_eq(cs_io_new(4, 0, &io, NULL), 0);
    char path[300];
    snprintf(path, sizeof path, "%s/mis", dir);
    cs_file_t f[2];
    cr_assert_eq(cs_file_open(io, path, O_RDWR | O_CREAT, 0644, true, &f[0], NULL), 0);
    snprintf(path, sizeof path, "%s/mis2", dir);
    cr_assert_eq(cs_file_open(io, path, O_RDWR | O_CREAT, 0644, true, &f[1], NULL), 0);
    char text[] = "hello, unaligned world";
    cs_io_req_t r[2] = {
        {.op = CS_IO_WRITE, .file = &f[0], .buf = text, .len = sizeof text, .offset = 3},
        {.op = CS_IO_WRITE, .file = &f[1], .buf = text, .len = 5, .offset = 0},
    };
    cr_assert_eq(cs_io_run(io, r, 2, NULL), 0);
    cr_expect(!f[0].direct);
    char back[64] = {0};
    cs_io_req_t rd = {.op = CS_IO_READ, .file = &f[0], .buf = back, .len = sizeof back, .offset = 3};
    cr_assert_eq(cs_io_run(io, &rd, 1, NULL), 0);
    cr_expect_eq(rd.done, sizeof text);
    cr_expect_str_eq(back, text);
    cs_file_close(&f[0]);
    cs_file_close(&f[1]);
    cs_io_free(&io);
}

Test(io, errors_name_the_request)
{
    cs_io_t *io = NULL;
    cr_assert_eq(cs_io_new(4, 0, &io, NULL), 0);
    cs_err_t err = {0};
    cs_io_t *bad = NULL;
    cr_expect_eq(cs_io_new(0, 0, &bad, &err), CS_EINVAL);
    cr_expect_null(bad);
    char path[300];
    snprintf(path, sizeof path, "%s/ro", dir);
    cs_file_t f;
    cr_assert_eq(cs_file_open(io, path, O_RDONLY | O_CREAT, 0644, false, &f, NULL), 0);
    char c = 'x';
    cs_io_req_t r[2] = {{.op = CS_IO_WRITE, .file = &f, .buf = &c, .len = 1},
                        {.op = CS_IO_WRITE, .file = &f, .buf = &c, .len = 1, .offset = 9}};
    cr_expect_eq(cs_io_run(io, r, 2, &err), CS_EIO);
    cr_expect(strstr(err.msg, "write of 1 bytes at offset 0") != NULL, "%s", err.msg);
    cr_expect_eq(cs_file_open(io, "/nonexistent/x", O_RDONLY, 0, true, &f, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "open /nonexistent/x: No such file or directory");
    cs_io_free(&io);
    cs_io_free(NULL);
}

Test(io, atomic_write_and_bounded_read)
{
    char path[300];
    snprintf(path, sizeof path, "%s/state.json", dir);
    cr_assert_eq(cs_write_file_atomic(path, "{\"v\":1}", 7, 0600, NULL), 0);
    cr_assert_eq(cs_write_file_atomic(path, "{\"v\":22}", 8, 0600, NULL), 0);
    uint8_t *data = NULL;
    size_t len = 0;
    cr_assert_eq(cs_read_file_bounded(path, 100, &data, &len, NULL), 0);
    cr_expect_eq(len, 8);
    cr_expect_str_eq((char *)data, "{\"v\":22}");
    free(data);
    cs_err_t err = {0};
    cr_expect_eq(cs_read_file_bounded(path, 7, &data, &len, &err), CS_ETOOBIG);
    cr_expect_null(data);
    cr_expect_eq(cs_read_file_bounded(path, 8, &data, &len, NULL), 0);
    free(data);
    /* no temporary files are left behind */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s | wc -l) -eq 1", dir);
    cr_expect_eq(system(cmd), 0);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0600);
    /* a write into a missing directory fails and changes nothing */
    cr_expect_eq(cs_write_file_atomic("/nonexistent/dir/f", "x", 1, 0600, &err), CS_ENOTFOUND);
}

Test(io, mkdir_and_rename_durable)
{
    char a[300], b[300], sub[300];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    bool created = false;
    cr_assert_eq(cs_mkdir_durable(sub, 0755, &created, NULL), 0);
    cr_expect(created);
    cr_assert_eq(cs_mkdir_durable(sub, 0755, &created, NULL), 0);
    cr_expect(!created);
    snprintf(a, sizeof a, "%s/a", sub);
    snprintf(b, sizeof b, "%s/b", sub);
    cr_assert_eq(cs_write_file_atomic(a, "1", 1, 0644, NULL), 0);
    cr_assert_eq(cs_rename_durable(a, b, NULL), 0);
    cr_expect_neq(access(a, F_OK), 0);
    cr_expect_eq(access(b, F_OK), 0);
    cs_err_t err = {0};
    cr_expect_eq(cs_mkdir_durable(b, 0755, NULL, &err), CS_EEXISTS);
    cr_expect_eq(cs_fsync_dir("/nonexistent", &err), CS_ENOTFOUND);
}
