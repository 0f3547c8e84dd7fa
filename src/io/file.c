/* file.c: batched file I/O over io_uring with a pread/pwrite fallback, and
 * O_DIRECT opening with a buffered fallback. */
#include "couchestor/io.h"

#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "couchestor/buf.h"

struct cs_io_s {
    unsigned depth;
    unsigned flags;
    bool uring;
    struct io_uring ring;
};

int cs_io_new(unsigned depth, unsigned flags, cs_io_t **out, cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_io_new: out is NULL");
    *out = NULL;
    if (depth == 0 || depth > 4096)
        return cs_err_set(err, CS_EINVAL, "cs_io_new: depth %u must be in 1..4096", depth);
    cs_io_t *io = calloc(1, sizeof *io);
    if (!io)
        return cs_err_set(err, CS_ENOMEM, "cs_io_new: out of memory");
    io->depth = depth;
    io->flags = flags;
    if (!(flags & CS_IO_NO_URING) && io_uring_queue_init(depth, &io->ring, 0) == 0)
        io->uring = true;
    *out = io;
    return 0;
}

void cs_io_free(cs_io_t **io)
{
    if (!io || !*io)
        return;
    if ((*io)->uring)
        io_uring_queue_exit(&(*io)->ring);
    free(*io);
    *io = NULL;
}

bool cs_io_uses_uring(const cs_io_t *io)
{
    return io && io->uring;
}

unsigned cs_io_flags(const cs_io_t *io)
{
    return io ? io->flags : 0;
}

int cs_file_open(const cs_io_t *io, const char *path, int flags, mode_t mode, bool want_direct, cs_file_t *f,
                 cs_err_t *err)
{
    f->fd = -1;
    f->direct = false;
    if (io && (io->flags & CS_IO_NO_DIRECT))
        want_direct = false;
    int fd = -1;
    if (want_direct) {
        fd = open(path, flags | O_CLOEXEC | O_DIRECT, mode);
        if (fd >= 0) {
            f->fd = fd;
            f->direct = true;
            return 0;
        }
        if (errno != EINVAL && errno != EOPNOTSUPP)
            return cs_err_set(err, cs_err_from_errno(errno), "open %s: %s", path, strerror(errno));
    }
    fd = open(path, flags | O_CLOEXEC, mode);
    if (fd < 0)
        return cs_err_set(err, cs_err_from_errno(errno), "open %s: %s", path, strerror(errno));
    f->fd = fd;
    return 0;
}

void cs_file_close(cs_file_t *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
    f->direct = false;
}

static bool cs__aligned(const cs_io_req_t *r)
{
    return ((uintptr_t)r->buf % CS_BUF_ALIGN) == 0 && r->len % CS_BUF_ALIGN == 0 && r->offset % CS_BUF_ALIGN == 0;
}

/* A misaligned request on an O_DIRECT file: switch that file to buffered. */
static void cs__fix_alignment(cs_io_req_t *r)
{
    if (r->op == CS_IO_FSYNC || !r->file->direct || cs__aligned(r))
        return;
    int fl = fcntl(r->file->fd, F_GETFL);
    if (fl >= 0 && fcntl(r->file->fd, F_SETFL, fl & ~O_DIRECT) == 0)
        r->file->direct = false;
}

static const char *cs__op_name(cs_io_op_t op)
{
    return op == CS_IO_READ ? "read" : op == CS_IO_WRITE ? "write" : "fsync";
}

static int cs__fail(cs_io_req_t *r, int errnum)
{
    r->result = cs_err_from_errno(errnum);
    if (r->result == 0)
        r->result = CS_EIO;
    return r->result;
}

static void cs__sync_one(cs_io_req_t *r)
{
    if (r->op == CS_IO_FSYNC) {
        if (fsync(r->file->fd) != 0)
            cs__fail(r, errno);
        return;
    }
    while (r->done < r->len) {
        ssize_t n;
        uint8_t *p = (uint8_t *)r->buf + r->done;
        size_t left = r->len - r->done;
        if (r->op == CS_IO_READ)
            n = pread(r->file->fd, p, left, (off_t)(r->offset + r->done));
        else
            n = pwrite(r->file->fd, p, left, (off_t)(r->offset + r->done));
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            cs__fail(r, errno);
            return;
        }
        if (n == 0) {
            if (r->op == CS_IO_WRITE)
                cs__fail(r, EIO);
            return; /* end of file */
        }
        r->done += (size_t)n;
    }
}

static void cs__prep(struct io_uring_sqe *sqe, cs_io_req_t *r, size_t idx)
{
    if (r->op == CS_IO_FSYNC) {
        io_uring_prep_fsync(sqe, r->file->fd, 0);
        io_uring_sqe_set_data64(sqe, idx);
        return;
    }
    uint8_t *p = (uint8_t *)r->buf + r->done;
    size_t left = r->len - r->done;
    unsigned chunk = left > (1u << 30) ? (1u << 30) : (unsigned)left;
    if (r->op == CS_IO_READ)
        io_uring_prep_read(sqe, r->file->fd, p, chunk, r->offset + r->done);
    else if (r->op == CS_IO_WRITE)
        io_uring_prep_write(sqe, r->file->fd, p, chunk, r->offset + r->done);
    io_uring_sqe_set_data64(sqe, idx);
}

static int cs__uring_run(cs_io_t *io, cs_io_req_t *reqs, size_t n)
{
    /* Requests are queued in order; finished ones are skipped, those that
     * need another round (short transfer, EINTR) are queued again. */
    size_t next = 0, inflight = 0;
    size_t *again = malloc((n ? n : 1) * sizeof *again);
    if (!again)
        return CS_ENOMEM;
    size_t nagain = 0;
    while (next < n || inflight > 0 || nagain > 0) {
        while (inflight < io->depth && (nagain > 0 || next < n)) {
            size_t idx;
            if (nagain > 0) {
                idx = again[--nagain];
            } else {
                idx = next++;
                if (reqs[idx].op != CS_IO_FSYNC && reqs[idx].len == 0)
                    continue;
            }
            struct io_uring_sqe *sqe = io_uring_get_sqe(&io->ring);
            if (!sqe) {
                again[nagain++] = idx;
                break;
            }
            cs__prep(sqe, &reqs[idx], idx);
            inflight++;
        }
        int rc = io_uring_submit_and_wait(&io->ring, 1);
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            /* The ring itself failed: finish what is left synchronously. */
            free(again);
            return rc;
        }
        struct io_uring_cqe *cqe;
        while (io_uring_peek_cqe(&io->ring, &cqe) == 0) {
            size_t idx = (size_t)io_uring_cqe_get_data64(cqe);
            int res = cqe->res;
            io_uring_cqe_seen(&io->ring, cqe);
            inflight--;
            cs_io_req_t *r = &reqs[idx];
            if (res == -EINTR || res == -EAGAIN) {
                again[nagain++] = idx;
                continue;
            }
            if (res < 0) {
                cs__fail(r, -res);
                continue;
            }
            if (r->op == CS_IO_FSYNC)
                continue;
            if (res == 0) {
                if (r->op == CS_IO_WRITE)
                    cs__fail(r, EIO);
                continue; /* read at end of file */
            }
            r->done += (size_t)res;
            if (r->done < r->len)
                again[nagain++] = idx;
        }
    }
    free(again);
    return 0;
}

int cs_io_run(cs_io_t *io, cs_io_req_t *reqs, size_t n, cs_err_t *err)
{
    for (size_t i = 0; i < n; i++) {
        reqs[i].result = 0;
        reqs[i].done = 0;
        if (!reqs[i].file || reqs[i].file->fd < 0)
            return cs_err_set(err, CS_EINVAL, "cs_io_run: request %zu has no open file", i);
        cs__fix_alignment(&reqs[i]);
    }
    bool done = false;
    if (io && io->uring && n > 1) {
        int rc = cs__uring_run(io, reqs, n);
        done = rc == 0;
        if (!done) {
            /* Fall back for the requests the ring did not complete. */
            for (size_t i = 0; i < n; i++)
                if (reqs[i].result == 0)
                    cs__sync_one(&reqs[i]);
            done = true;
        }
    }
    if (!done)
        for (size_t i = 0; i < n; i++)
            cs__sync_one(&reqs[i]);
    for (size_t i = 0; i < n; i++) {
        if (reqs[i].result != 0)
            return cs_err_set(err, reqs[i].result, "%s of %zu bytes at offset %llu (fd %d): %s",
                              cs__op_name(reqs[i].op), reqs[i].len, (unsigned long long)reqs[i].offset,
                              reqs[i].file->fd, cs_strerror(reqs[i].result));
    }
    return 0;
}
