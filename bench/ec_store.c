/* ec_store: the store's disk paths against plain file I/O on the same disk.
 * - CRC32C-verified get of an intact object (default 1 GiB, 4+2, 1 MiB
 *   stripes) into a reused buffer (cs_ec_store_get_into) vs the fastest
 *   plain pread of its data shard files (one thread, no checks; three
 *   layouts tried) in the same run (target >= 0.8x); O_DIRECT and buffered.
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

/* How the raw read lays the bytes down: chunk by chunk into one reused
 * stripe buffer (as today's readers do), chunk by chunk straight to each
 * chunk's place in an object-sized buffer (what a get into a buffer must
 * produce), or 4 chunks per call into a reused 4-stripe buffer. */
enum {
    RAW_STRIPE,
    RAW_OBJECT,
    RAW_BIG,
    RAW_NLAYOUTS
};
static const char *const raw_names[RAW_NLAYOUTS] = {"chunks->stripe buf", "chunks->object buf", "4-chunk reads"};

/* Reads the k data shard files with plain pread as get does, without CRCs;
 * obj (layout RAW_OBJECT) is the object-sized destination. */
static double raw_read(const char *root, const char *name, bool direct, int layout, uint8_t *obj, size_t *bytes)
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
    unsigned per = layout == RAW_BIG ? 4 : 1; /* stripes per call */
    cs_buf_alloc(4 * (size_t)per * hdr[0].chunk_size, 0, &buf, NULL);
    memset(buf->data, 0, buf->cap);
    double t0 = now_s();
    size_t total = 0;
    for (uint64_t j = 0; j < hdr[0].stripe_count; j += per) {
        uint64_t last = j + per < hdr[0].stripe_count ? j + per - 1 : hdr[0].stripe_count - 1;
        uint32_t cl = cs_ec_shard_chunk_len(&hdr[0], j);
        uint64_t off = cs_ec_shard_chunk_offset(&hdr[0], j);
        size_t len = (size_t)(cs_ec_shard_chunk_offset(&hdr[0], last) - off) + cs_ec_shard_chunk_len(&hdr[0], last);
        uint64_t dl = 0;
        for (uint64_t x = j; x <= last; x++)
            dl += cs_ec_shard_stripe_data_len(&hdr[0], x);
        bool in_place = layout == RAW_OBJECT && dl == 4 * (uint64_t)cl;
        for (unsigned i = 0; i < 4; i++) {
            uint8_t *dst = in_place ? obj + j * hdr[0].stripe_size + (size_t)i * cl : buf->data + (size_t)i * len;
            ssize_t n = pread(f[i].fd, dst, len, (off_t)off);
            if (n != (ssize_t)len)
                return -1;
        }
        if (layout == RAW_OBJECT && !in_place)
            memcpy(obj + j * hdr[0].stripe_size, buf->data, dl);
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
    const char *env_dir = getenv("CS_BENCH_DIR"), *env_threads = getenv("CS_BENCH_READ_THREADS"),
               *env_size = getenv("CS_BENCH_SIZE");
    const char *base = env_dir ? env_dir : "/tmp";
    unsigned read_threads = env_threads ? (unsigned)strtoul(env_threads, NULL, 0) : 0;
    uint64_t size = env_size ? strtoull(env_size, NULL, 0) : (1ULL << 30);
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
    (void)fsync(fd);
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
    if (run(cp) < 0)
        printf("cp failed\n");
    int cfd = open(cmd, O_RDONLY);
    (void)fsync(cfd);
    close(cfd);
    double t_cp = now_s() - t0;
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

    /* get vs raw shard reads, O_DIRECT then buffered (page cache warm).
     * target: cs_ec_store_get_into a reused object-sized buffer (read_threads
     * as set, default one per CPU); baseline: the fastest of the raw layouts
     * (one thread, plain pread, no checks); also shown: the same get on one
     * thread, and get_stream to a sink that discards. Best of 3 each,
     * interleaved, so each ratio is from one run. */
    const char *mode_names[3] = {"O_DIRECT, io_uring", "buffered, page cache, io_uring", "buffered, page cache, pread"};
    unsigned mode_flags[3] = {0, CS_IO_NO_DIRECT, CS_IO_NO_DIRECT | CS_IO_NO_URING};
    cs_buf_t *obj = NULL;
    if (cs_buf_alloc(size, 0, &obj, NULL) != 0)
        return 1;
    memset(obj->data, 0, obj->cap); /* fault it in once: the reused buffer of a reader */
    enum {
        T_GET,
        T_GET1,
        T_STREAM,
        T_RAW0,
        T_N = T_RAW0 + RAW_NLAYOUTS
    };
    for (int mode = 0; mode < 3; mode++) {
        cs_ec_store_opts_t o = {.io_flags = mode_flags[mode], .read_threads = read_threads};
        cs_ec_store_opts_t o1 = {.io_flags = mode_flags[mode], .read_threads = 1};
        cs_ec_store_t *st = NULL, *st1 = NULL;
        cs_ec_store_open(dp, 6, &o, &st, NULL);
        cs_ec_store_open(dp, 6, &o1, &st1, NULL);
        double best[T_N], cpu[T_N];
        for (int i = 0; i < T_N; i++)
            best[i] = 1e30, cpu[i] = 0;
        for (int rep = 0; rep < 3; rep++) {
            for (int v = 0; v < T_N; v++) {
                size_t got = 0;
                cs_err_t err = {0};
                double c0 = cpu_s(), t = now_s();
                int rc = 0;
                if (v == T_GET || v == T_GET1)
                    rc = cs_ec_store_get_into(v == T_GET ? st : st1, "big", 3, obj->data, obj->cap, &got, NULL, &err);
                else if (v == T_STREAM)
                    rc = cs_ec_store_get_stream(st, "big", 3, discard, &got, NULL, &err);
                else if (raw_read(root, "big", mode == 0, v - T_RAW0, obj->data, &got) < 0)
                    rc = cs_err_set(&err, CS_EIO, "raw read failed");
                t = now_s() - t;
                if (rc != 0 || got != size) {
                    printf("read variant %d failed: %s\n", v, err.msg);
                    return 1;
                }
                if (t < best[v]) {
                    best[v] = t;
                    cpu[v] = cpu_s() - c0;
                }
            }
        }
        int b = T_RAW0;
        for (int v = T_RAW0; v < T_N; v++)
            if (best[v] < best[b])
                b = v;
        printf("get (%s): target get_into >= 0.8x baseline; get_into %.0f MiB/s (cpu %.3f s), baseline raw read "
               "(%s, 1 thread) %.0f MiB/s (cpu %.3f s), ratio %.3f %s\n",
               mode_names[mode], mib / best[T_GET], cpu[T_GET], raw_names[b - T_RAW0], mib / best[b], cpu[b],
               best[b] / best[T_GET], best[b] / best[T_GET] >= 0.8 ? "MET" : "NOT MET");
        printf("    raw layouts MiB/s:");
        for (int v = T_RAW0; v < T_N; v++)
            printf(" %s %.0f%s", raw_names[v - T_RAW0], mib / best[v], v + 1 < T_N ? "," : "\n");
        printf("    get_into on 1 thread %.0f MiB/s (ratio %.3f), get_stream to a discarding sink %.0f MiB/s "
               "(ratio %.3f)\n",
               mib / best[T_GET1], best[b] / best[T_GET1], mib / best[T_STREAM], best[b] / best[T_STREAM]);
        cs_ec_store_close(&st);
        cs_ec_store_close(&st1);
    }
    cs_buf_free(&obj);
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    return system(cmd) == 0 ? 0 : 1;
}
