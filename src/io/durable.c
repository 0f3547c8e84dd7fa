/* durable.c: crash-safe file-system updates: directory fsync, durable mkdir
 * and rename, atomic whole-file replacement, bounded whole-file reads. */
#include "couchestor/io.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/clock.h"
#include "couchestor/duration.h"

int cs_fsync_dir(const char *dir, cs_err_t *err)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_set(err, cs_err_from_errno(errno), "open directory %s: %s", dir, strerror(errno));
    int rc = 0;
    if (fsync(fd) != 0 && errno != EINVAL)
        rc = cs_err_set(err, CS_EIO, "fsync directory %s: %s", dir, strerror(errno));
    close(fd);
    return rc;
}

/* The directory part of path ("." when there is none). */
static void cs__dirname(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(out, cap, ".");
        return;
    }
    size_t n = (size_t)(slash - path);
    if (n == 0)
        n = 1; /* "/name" */
    if (n >= cap)
        n = cap - 1;
    memcpy(out, path, n);
    out[n] = '\0';
}

int cs_mkdir_durable(const char *path, mode_t mode, bool *created, cs_err_t *err)
{
    if (created)
        *created = false;
    if (mkdir(path, mode) != 0) {
        if (errno != EEXIST)
            return cs_err_set(err, cs_err_from_errno(errno), "mkdir %s: %s", path, strerror(errno));
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            return cs_err_set(err, CS_EEXISTS, "%s exists and is not a directory", path);
        return 0;
    }
    if (created)
        *created = true;
    char parent[PATH_MAX];
    cs__dirname(path, parent, sizeof parent);
    return cs_fsync_dir(parent, err);
}

int cs_rename_durable(const char *from, const char *to, cs_err_t *err)
{
    if (rename(from, to) != 0)
        return cs_err_set(err, cs_err_from_errno(errno), "rename %s -> %s: %s", from, to, strerror(errno));
    char dir[PATH_MAX];
    cs__dirname(to, dir, sizeof dir);
    return cs_fsync_dir(dir, err);
}

int cs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, cs_err_t *err)
{
    char tmp[PATH_MAX];
    /* pid and clock nanoseconds keep apart the temporary files of writers of
     * the same path, threads of one process included. */
    int n =
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld.%ld", path, (long)getpid(), (long)(cs_clock_mono_ns() % CS_NSEC_PER_SEC));
    if (n < 0 || (size_t)n >= sizeof tmp)
        return cs_err_set(err, CS_EINVAL, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return cs_err_set(err, cs_err_from_errno(errno), "create %s: %s", tmp, strerror(errno));
    const uint8_t *p = data;
    size_t left = len;
    int rc = 0;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = cs_err_set(err, CS_EIO, "write %s: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = cs_err_set(err, CS_EIO, "fsync %s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == 0)
        rc = cs_err_set(err, CS_EIO, "close %s: %s", tmp, strerror(errno));
    if (rc == 0)
        rc = cs_rename_durable(tmp, path, err);
    if (rc != 0)
        unlink(tmp);
    return rc;
}

int cs_read_file_bounded(const char *path, size_t max, uint8_t **out, size_t *len, cs_err_t *err)
{
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cs_err_set(err, cs_err_from_errno(errno), "open %s: %s", path, strerror(errno));
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap + 1);
    int rc = 0;
    while (buf) {
        if (used == cap) {
            if (cap > max) {
                rc = cs_err_set(err, CS_ETOOBIG, "%s is larger than %zu bytes", path, max);
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = cs_err_set(err, CS_EIO, "read %s: %s", path, strerror(errno));
            break;
        }
        if (r == 0)
            break;
        used += (size_t)r;
        if (used > max) {
            rc = cs_err_set(err, CS_ETOOBIG, "%s is larger than %zu bytes", path, max);
            break;
        }
    }
    close(fd);
    if (!buf)
        return cs_err_set(err, CS_ENOMEM, "read %s: out of memory", path);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[used] = '\0';
    *out = buf;
    *len = used;
    return 0;
}
