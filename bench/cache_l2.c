/* bench_cache_l2: L2 4 KiB hits per second, page cache warm (mmap reads, and
 * pread reads for comparison) and cold (O_DIRECT), each beside raw pread of
 * the same records' offsets in the same files, measured interleaved (each
 * thread alternates batches of L2 gets and raw reads) in 5 rounds; prints
 * the median and the spread of the ratio.
 * Usage: bench_cache_l2 [seconds per round] [entries] */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_common.h"
#include "cache/l2_record.h"
#include "couchestor/cache_l2.h"

#define VLEN 4096
#define MAXSEG 64

static double secs = 1.0;
static uint32_t n_entries = 65536;
static char dir[64];
/* raw baseline: per entry, segment index and payload offset */
static int seg_fd[MAXSEG], seg_dfd[MAXSEG];
static uint8_t *ent_seg;
static uint64_t *ent_off;

static void key_of(char *k, uint32_t i)
{
    snprintf(k, 24, "blk/%016u", i);
}

typedef enum {
    L2_GET,
    RAW_PREAD,
    RAW_DIRECT
} kind_t;
/* One worker alternates batches of its two kinds for the whole run, timing
 * each batch, so that both see the same disk, host cache and load. */
typedef struct ctx_s {
    kind_t kind[2];
    cs_l2_t *l2;
    int tid;
    uint64_t ops[2], bad;
    double t[2];
} ctx_t;

static int one(kind_t kind, cs_l2_t *l2, uint8_t *buf, uint32_t i)
{
    if (kind == L2_GET) {
        char k[24];
        key_of(k, i);
        size_t len;
        return cs_l2_get(l2, k, strlen(k), buf, 2 * VLEN, &len, NULL) == 0 && len == VLEN;
    }
    if (kind == RAW_PREAD)
        return pread(seg_fd[ent_seg[i]], buf, VLEN, (off_t)ent_off[i]) == VLEN;
    /* The payload's first 4 KiB block: a v2 4 KiB payload is exactly it. */
    return pread(seg_dfd[ent_seg[i]], buf, VLEN, (off_t)(ent_off[i] & ~4095ull)) == VLEN;
}

static void *worker(void *arg)
{
    ctx_t *c = arg;
    uint8_t *buf;
    if (posix_memalign((void **)&buf, 4096, 2 * VLEN) != 0)
        return NULL;
    uint32_t x = 2463534242u + (uint32_t)c->tid * 977u;
    double t0 = now_s();
    for (uint64_t batch = 0; now_s() - t0 < secs; batch++) {
        int w = (int)((batch + (uint64_t)c->tid) & 1);
        double b0 = now_s();
        for (int b = 0; b < 16; b++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            if (!one(c->kind[w], c->l2, buf, x % n_entries))
                c->bad++;
        }
        c->t[w] += now_s() - b0;
        c->ops[w] += 16;
    }
    free(buf);
    return NULL;
}

/* Rates (ops/s summed over threads) of two kinds measured interleaved. */
static void run(kind_t a, kind_t b, cs_l2_t *l2, int threads, double rate[2])
{
    pthread_t th[2];
    ctx_t c[2];
    for (int i = 0; i < threads; i++) {
        c[i] = (ctx_t){.kind = {a, b}, .l2 = l2, .tid = i};
        pthread_create(&th[i], NULL, worker, &c[i]);
    }
    rate[0] = rate[1] = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        if (c[i].bad)
            fprintf(stderr, "bench: %llu failed reads\n", (unsigned long long)c[i].bad);
        for (int k = 0; k < 2; k++)
            rate[k] += (double)c[i].ops[k] / c[i].t[k];
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Bytes this process has read from storage (/proc/self/io read_bytes). */
static unsigned long long io_read_bytes(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    unsigned long long v = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "read_bytes: %llu", &v) == 1)
            break;
    if (f)
        fclose(f);
    return v;
}

#define ROUNDS 5
/* ROUNDS interleaved runs; prints the median rates and the ratio's median,
 * minimum and maximum over the rounds. */
static void report(const char *name, kind_t raw, cs_l2_t *l2, int threads)
{
    double ra[ROUNDS], rb[ROUNDS], ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double rate[2];
        run(L2_GET, raw, l2, threads, rate);
        ra[r] = rate[0];
        rb[r] = rate[1];
        ratio[r] = rate[0] / rate[1];
    }
    qsort(ra, ROUNDS, sizeof(double), cmp_d);
    qsort(rb, ROUNDS, sizeof(double), cmp_d);
    qsort(ratio, ROUNDS, sizeof(double), cmp_d);
    printf("%-34s %8d %12.0f %12.0f %6.2fx  (%.2f..%.2f)\n", name, threads, ra[ROUNDS / 2], rb[ROUNDS / 2],
           ratio[ROUNDS / 2], ratio[0], ratio[ROUNDS - 1]);
}

static cs_l2_t *open_l2(cs_l2_read_mode_t mode)
{
    cs_l2_config_t cfg = {.dir = dir, .capacity_bytes = 4ull << 30, .segment_size = 64u << 20, .read_mode = mode};
    cs_l2_t *l2 = NULL;
    cs_err_t err = {0};
    if (cs_l2_open(&cfg, &l2, &err) != 0) {
        fprintf(stderr, "open: %s\n", err.msg);
        exit(1);
    }
    return l2;
}

/* Finds every record's payload offset by walking the segment files. */
static void index_raw(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int nseg = 0;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "seg-", 4) != 0 || nseg == MAXSEG)
            continue;
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int fd = open(path, O_RDONLY);
        seg_fd[nseg] = fd;
        seg_dfd[nseg] = open(path, O_RDONLY | O_DIRECT);
        struct stat st;
        fstat(fd, &st);
        uint8_t *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
        cs__l2_seg_info_t info;
        if (cs__l2_seg_header_check(m, (size_t)st.st_size, &info) != 0) {
            munmap(m, (size_t)st.st_size);
            continue;
        }
        uint64_t off = CS__L2_SEG_HDR;
        uint64_t limit =
            info.version == 1 || (uint64_t)st.st_size < info.log_area ? (uint64_t)st.st_size : info.log_area;
        cs__l2_rec_t r;
        while (off < limit && cs__l2_rec_parse(m + off, (size_t)(limit - off), info.version, &r) == CS__L2_PARSE_OK) {
            if (r.type == CS__L2_REC_PUT) {
                char k[24] = {0};
                memcpy(k, r.key, r.klen < 23 ? r.klen : 23);
                uint32_t i = (uint32_t)strtoul(k + 4, NULL, 10);
                if (i < n_entries) {
                    ent_seg[i] = (uint8_t)nseg;
                    ent_off[i] = info.version == 1 ? (uint64_t)(r.payload - m) : r.poff;
                }
            }
            off += r.total;
        }
        munmap(m, (size_t)st.st_size);
        nseg++;
    }
    closedir(d);
}

static void drop_caches(void)
{
    sync();
    FILE *f = fopen("/proc/sys/vm/drop_caches", "w");
    if (f) {
        fputs("1\n", f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    bench_machine_print();
    if (argc > 1)
        secs = atof(argv[1]);
    if (argc > 2)
        n_entries = (uint32_t)strtoul(argv[2], NULL, 0);
    snprintf(dir, sizeof dir, "/tmp/cs-bench-l2-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    ent_seg = calloc(n_entries, 1);
    ent_off = calloc(n_entries, sizeof *ent_off);
    cs_l2_t *l2 = open_l2(CS_L2_READ_MMAP);
    uint8_t v[VLEN];
    uint32_t x = 1;
    double t0 = now_s();
    for (uint32_t i = 0; i < n_entries; i++) {
        for (int j = 0; j < VLEN; j += 4) {
            x = x * 1664525u + 1013904223u;
            memcpy(v + j, &x, 4);
        }
        char k[24];
        key_of(k, i);
        if (cs_l2_put(l2, k, strlen(k), v, VLEN, NULL) != 0)
            return 1;
    }
    double wt = now_s() - t0;
    cs_l2_sync(l2, NULL);
    cs_l2_close(&l2);
    index_raw();
    printf("bench_cache_l2: %u entries of 4 KiB (%.0f MiB) written in %.2f s (%.0f puts/s); "
           "%.1f s per run\n",
           n_entries, n_entries * 4096.0 / 1048576, wt, n_entries / wt, secs);

    printf("\n%-34s %8s %12s %12s %7s  %s\n", "mode", "threads", "L2 hits/s", "raw reads/s", "ratio",
           "(min..max of "
           "5"
           " rounds)");
    cs_l2_read_mode_t warm_modes[] = {CS_L2_READ_MMAP, CS_L2_READ_PREAD};
    const char *warm_names[] = {"warm, mmap (default)", "warm, pread"};
    for (int m = 0; m < 2; m++) {
        l2 = open_l2(warm_modes[m]);
        double warmup[2];
        run(L2_GET, RAW_PREAD, l2, 1, warmup); /* warm the page cache */
        for (int threads = 1; threads <= 2; threads++)
            report(warm_names[m], RAW_PREAD, l2, threads);
        cs_l2_close(&l2);
    }
    printf("target: warm >= 1M hits/s\n");
    drop_caches();
    l2 = open_l2(CS_L2_READ_DIRECT);
    for (int threads = 1; threads <= 2; threads++)
        report("cold, O_DIRECT (raw: 4 KiB block)", RAW_DIRECT, l2, threads);
    {
        /* What a cold hit costs the device, independent of timing noise. */
        double rate[2];
        unsigned long long b0 = io_read_bytes();
        ctx_t c = {.kind = {L2_GET, L2_GET}, .l2 = l2};
        double keep = secs;
        secs = 0.3;
        worker(&c);
        secs = keep;
        (void)rate;
        unsigned long long ops = c.ops[0] + c.ops[1];
        printf("cold, O_DIRECT: %.0f bytes read from storage per 4 KiB hit (%llu hits)\n",
               ops ? (double)(io_read_bytes() - b0) / (double)ops : 0.0, ops);
    }
    printf("target: cold >= 0.8x raw pread\n");
    cs_l2_close(&l2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : 1;
}
