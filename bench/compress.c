/* bench_compress: the cache's compression wrapper (cs_compress /
 * cs_decompress) against raw LZ4_compress_default / LZ4_decompress_safe on
 * the same buffers in the same run; prints MB/s and the ratio (target >=
 * 0.95x). Usage: bench_compress [seconds per run] */
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/compress.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Text-like data: words from a small vocabulary, compresses about 2-3x. */
static void fill(char *b, size_t n)
{
    static const char *words[] = {"volume ", "replica ", "pool ", "tier ", "hot ", "cold ",
                                  "nvme ", "stripe ", "shard ", "0x3f2a ", "rebuild ", "42 "};
    unsigned x = 1;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 12];
        for (; *w && i < n; w++)
            b[i++] = *w;
    }
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    size_t sizes[] = {4096, 65536};
    cs_compress_config_t cfg = {.algorithm = CS_COMPRESS_LZ4, .min_size = 512};
    printf("bench_compress: %.1f s per run\n", secs);
    printf("%-8s %-10s %12s %12s %8s\n", "size", "op", "raw MB/s", "wrapper MB/s", "ratio");
    for (int s = 0; s < 2; s++) {
        size_t n = sizes[s];
        char *src = malloc(n), *dst = malloc((size_t)LZ4_compressBound((int)n)), *out = malloc(n);
        fill(src, n);
        int cap = LZ4_compressBound((int)n);
        int clen = LZ4_compress_default(src, dst, (int)n, cap);
        volatile size_t sink = 0;
        /* Raw and wrapper batches alternate for the whole run, so that load
         * from other processes hits both alike. */
        double t_raw_c = 0, t_wrap_c = 0, t_raw_d = 0, t_wrap_d = 0;
        long batches = 0;
        double start = now();
        while (now() - start < secs) {
            double t0 = now();
            for (int k = 0; k < 32; k++)
                sink += (size_t)LZ4_compress_default(src, dst, (int)n, cap);
            double t1 = now();
            for (int k = 0; k < 32; k++) {
                size_t ol;
                sink += (size_t)cs_compress(&cfg, src, n, dst, (size_t)cap, &ol, NULL) + ol;
            }
            double t2 = now();
            for (int k = 0; k < 32; k++)
                sink += (size_t)LZ4_decompress_safe(dst, out, clen, (int)n);
            double t3 = now();
            for (int k = 0; k < 32; k++)
                sink += (size_t)cs_decompress(CS_CODEC_LZ4, dst, (size_t)clen, out, n, n, NULL);
            double t4 = now();
            t_raw_c += t1 - t0;
            t_wrap_c += t2 - t1;
            t_raw_d += t3 - t2;
            t_wrap_d += t4 - t3;
            batches++;
        }
        double bytes = (double)batches * 32 * (double)n / 1e6;
        double best[4] = {bytes / t_raw_c, bytes / t_wrap_c, bytes / t_raw_d, bytes / t_wrap_d};
        if (memcmp(src, out, n) != 0)
            return 1;
        printf("%-8zu %-10s %12.0f %12.0f %7.2fx  (compressed to %d bytes)\n", n, "compress",
               best[0], best[1], best[1] / best[0], clen);
        printf("%-8zu %-10s %12.0f %12.0f %7.2fx\n", n, "decompress", best[2], best[3],
               best[3] / best[2]);
        free(src);
        free(dst);
        free(out);
        (void)sink;
    }
    printf("target: wrapper >= 0.95x raw\n");
    return 0;
}
