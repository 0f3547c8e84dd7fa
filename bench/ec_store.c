/* ec_store: the store's disk paths against plain file I/O on the same disk.
 * - CRC32C-verified get of an intact object (default 1 GiB, 4+2, 1 MiB
 *   stripes) vs reading its data shard files with the same chunking and I/O
 *   mode and no checks (target >= 0.8x); O_DIRECT and buffered.
 * - `couchestor ec encode` of the file into 6 directories vs `cp` of the
 *   same file plus fsync of the copy (reported).
 * The get may spread stripes over several threads (read_threads; the raw
 * read uses one), so each line also prints the CPU seconds both used.
 * Environment: CS_BENCH_DIR (default /tmp), CS_BENCH_SIZE (bytes, default
 * 1 GiB), CS_BINARY (default: couchestor beside this program),
 * CS_BENCH_READ_THREADS (the store's read_threads, default 0 = per CPU). */
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "couchestor/buf.h"
#include "couchestor/ec_shard.h"
#include "couchestor/ec_store.h"
#include "couchestor/io.h"

static int discard(void *ctx, const void *buf, size_t len, cs_err_t *err)
{
    *(size_t *)ctx += len;
    return 0;
}

typedef struct {
    int fd;
    uint64_t left;
} src_t;

static int read_src(void *ctx, void *buf, size_t len, cs_err_t *err)
{
    src_t *s = ctx;
    uint8_t *p = buf;
    while (len) {
        ssize_t n = read(s->fd, p, len);
        if (n <= 0)
            return cs_err_set(err, CS_EIO, "short source");
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads the k data shard files chunk by chunk as get does, without CRCs. */
static double raw_read(const char *root, const char *name, bool direct, size_t *bytes)
{
    uint8_t h[16];
    char hex[33];
    cs_ec_name_hash(name, strlen(name), h);
    cs_ec_name_hex(h, hex);
    cs_file_t f[4];
    cs_ec_shard_header_t hdr[4];
    cs_buf_t *hb[4];
    for (unsigned i = 0; i < 4; i++) {
        char pat[PATH_MAX + 64];
        snprintf(pat, sizeof pat, "%s/d*/%s/g*-%u.shard", root, hex, i);
        glob_t g;
        if (glob(pat, 0, NULL, &g) != 0)
            return -1;
        cs_file_open(NULL, g.gl_pathv[0], O_RDONLY, 0, direct, &f[i], NULL);
        globfree(&g);
        cs_buf_alloc(1u << 20, 0, &hb[i], NULL);
        if (pread(f[i].fd, hb[i]->data, 1u << 20, 0) < 4096 ||
            cs_ec_shard_header_parse(hb[i]->data, 1u << 20, &hdr[i], NULL) != 0)
            return -1;
    }
    cs_buf_t *buf = NULL;
    cs_buf_alloc(4 * (size_t)hdr[0].chunk_size, 0, &buf, NULL);
    double t0 = now_s();
    size_t total = 0;
    for (uint64_t j = 0; j < hdr[0].stripe_count; j++) {
        uint32_t cl = cs_ec_shard_chunk_len(&hdr[0], j);
        uint64_t off = cs_ec_shard_chunk_offset(&hdr[0], j);
        for (unsigned i = 0; i < 4; i++) {
            ssize_t n = pread(f[i].fd, buf->data + (size_t)i * cl, cl, (off_t)off);
            if (n != (ssize_t)cl)
                return -1;
        }
        uint64_t dl = cs_ec_shard_stripe_data_len(&hdr[0], j);
        total += dl;
        discard(bytes, buf->data, dl, NULL);
    }
    double dt = now_s() - t0;
    for (unsigned i = 0; i < 4; i++) {
        cs_file_close(&f[i]);
        cs_buf_free(&hb[i]);
    }
    cs_buf_free(&buf);
    *bytes = total;
    return dt;
}

static double run(char *const argv[])
{
    double t0 = now_s();
    pid_t p = fork();
    if (p == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    waitpid(p, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    bench_machine_print();
    const char *base = getenv("CS_BENCH_DIR") ? getenv("CS_BENCH_DIR") : "/tmp";
    unsigned read_threads =
        getenv("CS_BENCH_READ_THREADS") ? (unsigned)strtoul(getenv("CS_BENCH_READ_THREADS"), NULL, 0) : 0;
    uint64_t size = getenv("CS_BENCH_SIZE") ? strtoull(getenv("CS_BENCH_SIZE"), NULL, 0) : (1ULL << 30);
    char bin[PATH_MAX];
    if (getenv("CS_BINARY")) {
        snprintf(bin, sizeof bin, "%s", getenv("CS_BINARY"));
    } else {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        self[n > 0 ? n : 0] = '\0';
        snprintf(bin, sizeof bin, "%s/couchestor", dirname(self));
    }
    char root[PATH_MAX];
    snprintf(root, sizeof root, "%s/cs-bench-ec-XXXXXX", base);
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    char dirs[6][PATH_MAX + 8], dirlist[6 * (PATH_MAX + 9)] = "";
    const char *dp[6];
    for (int i = 0; i < 6; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/d%d", root, i);
        mkdir(dirs[i], 0755);
        dp[i] = dirs[i];
        strcat(dirlist, dirs[i]);
        if (i < 5)
            strcat(dirlist, ",");
    }
    /* the input file */
    char file[PATH_MAX + 8];
    snprintf(file, sizeof file, "%s/input", root);
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint8_t *chunk = malloc(1u << 20);
    uint64_t x = 88172645463325252ULL;
    for (uint64_t off = 0; off < size; off += 1u << 20) {
        for (size_t i = 0; i < (1u << 20) / 8; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            memcpy(chunk + i * 8, &x, 8);
        }
        size_t n = size - off < (1u << 20) ? (size_t)(size - off) : (1u << 20);
        if (write(fd, chunk, n) != (ssize_t)n)
            return 1;
    }
    fsync(fd);
    close(fd);
    free(chunk);
    printf("# ec_store: %llu MiB object, 4+2, 1 MiB stripes, in %s\n", (unsigned long long)(size >> 20), root);

    /* encode through the CLI vs cp + fsync */
    char *enc[] = {bin,   "ec",     "encode", "-k",     "4",     "-m", "2", "--stripe-size",
                   "1Mi", "--name", "big",    "--dirs", dirlist, file, NULL};
    double t_enc = run(enc);
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "%s/copy", root);
    double t0 = now_s();
    char *cp[] = {"/bin/cp", file, cmd, NULL};
    double t_cp = run(cp);
    int cfd = open(cmd, O_RDONLY);
    fsync(cfd);
    close(cfd);
    t_cp = now_s() - t0;
    double mib = (double)size / (1 << 20);
    if (t_enc < 0)
        printf("couchestor ec encode failed (%s)\n", bin);
    else
        printf("encode (CLI) %.0f MiB/s  cp+fsync %.0f MiB/s  ratio %.3f (writes 1.5x the bytes "
               "+ 6 fsyncs)\n",
               mib / t_enc, mib / t_cp, t_cp / t_enc);
    unlink(cmd);
    if (t_enc < 0) {
        /* still measure reads: put through the library */
        cs_ec_store_t *st = NULL;
        cs_ec_store_open(dp, 6, NULL, &st, NULL);
        src_t s = {.fd = open(file, O_RDONLY), .left = size};
        cs_ec_policy_t pol = {.k = 4, .m = 2, .stripe_size = 1u << 20};
        cs_ec_store_put_stream(st, "big", 3, &pol, size, read_src, &s, NULL);
        close(s.fd);
        cs_ec_store_close(&st);
    }

    /* get vs raw shard reads, O_DIRECT then buffered (page cache warm) */
    const char *mode_names[3] = {"O_DIRECT, io_uring", "buffered, page cache, io_uring", "buffered, page cache, pread"};
    unsigned mode_flags[3] = {0, CS_IO_NO_DIRECT, CS_IO_NO_DIRECT | CS_IO_NO_URING};
    for (int mode = 0; mode < 3; mode++) {
        cs_ec_store_opts_t o = {.io_flags = mode_flags[mode], .read_threads = read_threads};
        cs_ec_store_t *st = NULL;
        cs_ec_store_open(dp, 6, &o, &st, NULL);
        size_t got = 0, rawb = 0;
        double best_get = 1e30, best_raw = 1e30, cpu_get = 0, cpu_raw = 0;
        for (int rep = 0; rep < 3; rep++) {
            got = 0;
            double c0 = cpu_s();
            t0 = now_s();
            cs_err_t err = {0};
            if (cs_ec_store_get_stream(st, "big", 3, discard, &got, NULL, &err) != 0) {
                printf("get failed: %s\n", err.msg);
                return 1;
            }
            double tg = now_s() - t0, c1 = cpu_s();
            double tr = raw_read(root, "big", mode == 0, &rawb);
            double c2 = cpu_s();
            if (tg < best_get) {
                best_get = tg;
                cpu_get = c1 - c0;
            }
            if (tr < best_raw) {
                best_raw = tr;
                cpu_raw = c2 - c1;
            }
        }
        printf("get (%s) %.0f MiB/s  raw shard read %.0f MiB/s  ratio %.3f (target >= 0.8)"
               "  cpu s: get %.3f raw %.3f\n",
               mode_names[mode], mib / best_get, mib / best_raw, best_raw / best_get, cpu_get, cpu_raw);
        cs_ec_store_close(&st);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : 1;
}
