/* io.h: file I/O for the data plane: batches of reads, writes and fsyncs
 * submitted together through io_uring (falling back to pread/pwrite/fsync
 * when io_uring is unavailable), files opened with O_DIRECT where the file
 * system accepts it (buffered otherwise), and the durable-update helpers
 * (temporary file, fsync, rename, directory fsync).
 *
 * Ownership: a cs_io_t is owned by the thread that uses it (it is not
 * thread-safe; make one per thread). Request buffers are borrowed for the
 * duration of cs_io_run(). */
#ifndef COUCHESTOR_IO_H
#define COUCHESTOR_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "couchestor/error.h"

/* cs_io_new flags */
enum cs_io_flags {
    CS_IO_NO_URING = 1u << 0,  /* use pread/pwrite/fsync even if io_uring works */
    CS_IO_NO_DIRECT = 1u << 1, /* cs_file_open never tries O_DIRECT */
};

typedef struct cs_io_s cs_io_t;

/* Creates an I/O context with room for `depth` requests in flight (1..4096).
 * Never fails because io_uring is missing: it falls back to synchronous
 * calls. */
int cs_io_new(unsigned depth, unsigned flags, cs_io_t **out, cs_err_t *err);
/* Frees the context and sets *io to NULL; NULL is a no-op. */
void cs_io_free(cs_io_t **io);
/* True when requests go through io_uring. */
bool cs_io_uses_uring(const cs_io_t *io);
unsigned cs_io_flags(const cs_io_t *io);

/* An open file. direct says whether O_DIRECT is in effect: then every
 * request's buffer, offset and length must be multiples of CS_BUF_ALIGN
 * (cs_io_run drops O_DIRECT for a request that is not, rather than fail). */
typedef struct cs_file_s {
    int fd;
    bool direct;
} cs_file_t;

#define CS_FILE_INIT              \
    {                             \
        .fd = -1, .direct = false \
    }

/* open(2) with O_CLOEXEC; with want_direct (and the context allowing it)
 * tries O_DIRECT first and falls back to buffered I/O when the file system
 * refuses it. io may be NULL (then want_direct alone decides). */
int cs_file_open(const cs_io_t *io, const char *path, int flags, mode_t mode, bool want_direct, cs_file_t *f,
                 cs_err_t *err);
/* Closes f (fd < 0 is a no-op) and resets it to CS_FILE_INIT. */
void cs_file_close(cs_file_t *f);

typedef enum cs_io_op {
    CS_IO_READ,
    CS_IO_WRITE,
    CS_IO_FSYNC,
} cs_io_op_t;

typedef struct cs_io_req_s {
    cs_io_op_t op;
    cs_file_t *file;
    void *buf;
    size_t len;
    uint64_t offset;
    /* results */
    int result;  /* 0 or a negative CS_E* code */
    size_t done; /* bytes transferred; a read stops short only at end of file */
} cs_io_req_t;

/* Runs the n requests, submitting them together (up to the context's depth
 * at a time) and retrying short transfers and EINTR/EAGAIN. Every request's
 * result and done are filled. Returns 0 when every request succeeded, else
 * the first failing request's code (the other requests still ran); err
 * names the failing request. */
int cs_io_run(cs_io_t *io, cs_io_req_t *reqs, size_t n, cs_err_t *err);

/* Durable file-system updates. */

/* fsync of a directory, so that entries created, renamed or removed in it
 * survive power loss. */
int cs_fsync_dir(const char *dir, cs_err_t *err);
/* mkdir unless the directory exists; when created, the parent is fsynced.
 * *created (optional) says whether it was made. */
int cs_mkdir_durable(const char *path, mode_t mode, bool *created, cs_err_t *err);
/* rename(from, to) then fsync of to's directory. */
int cs_rename_durable(const char *from, const char *to, cs_err_t *err);
/* Replaces path with data atomically: writes a temporary file in the same
 * directory, fsyncs it, renames it over path and fsyncs the directory. A
 * reader (or a restart after a crash) sees the old content or the new one.
 * On failure the temporary file is removed and path is unchanged. */
int cs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, cs_err_t *err);
/* Reads a whole file of at most max bytes into a malloc'd buffer (NUL
 * appended, not counted). CS_ETOOBIG when larger. The caller frees *out. */
int cs_read_file_bounded(const char *path, size_t max, uint8_t **out, size_t *len, cs_err_t *err);

#endif
