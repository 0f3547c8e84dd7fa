/* bench_compress: the cache's compression wrapper (cs_compress /
 * cs_decompress) against raw LZ4_compress_default / LZ4_decompress_safe on
 * the same buffers in the same run, interleaved in batches, over 9 rounds;
 * prints MB/s and the ratio's median and spread (target >= 0.95x).
 * Usage: bench_compress [seconds per size and direction] */
#include <lz4.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "couchestor/compress.h"

/* Text-like data: words from a small vocabulary, compresses about 2-3x. */
static void fill(char *b, size_t n)
{
    static const char *words[] = {"volume ", "replica ", "pool ",  "tier ",   "hot ",     "cold ",
                                  "nvme ",   "stripe ",  "shard ", "0x3f2a ", "rebuild ", "42 "};
    unsigned x = 1;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 12];
        for (; *w && i < n; w++)
            b[i++] = *w;
    }
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define ROUNDS 9
#define BATCH 32

int main(int argc, char **argv)
{
    bench_machine_print();
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    size_t sizes[] = {4096, 65536};
    cs_compress_config_t cfg = {.algorithm = CS_COMPRESS_LZ4, .min_size = 512};
    printf("bench_compress: %.1f s per size and direction, %d rounds; ratio = median "
           "(min..max) over rounds\n",
           secs, ROUNDS);
    printf("%-8s %-10s %12s %12s %8s\n", "size", "op", "raw MB/s", "wrapper MB/s", "ratio");
    for (int s = 0; s < 2; s++) {
        size_t n = sizes[s];
        char *src = malloc(n), *dst = malloc((size_t)LZ4_compressBound((int)n)), *out = malloc(n);
        fill(src, n);
        int cap = LZ4_compressBound((int)n);
        int clen = LZ4_compress_default(src, dst, (int)n, cap);
        volatile size_t sink = 0;
        for (int op = 0; op < 2; op++) {
            double ratio[ROUNDS], raw_rate[ROUNDS], wrap_rate[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) {
                /* Raw and wrapper batches alternate (and swap which goes
                 * first) for the whole round, so that load from other
                 * processes and cache state hit both alike. */
                double t_raw = 0, t_wrap = 0;
                long batches = 0;
                double start = now_s();
                while (now_s() - start < secs / ROUNDS) {
                    for (int w = 0; w < 2; w++) {
                        bool wrap = (w ^ (int)(batches & 1)) != 0;
                        double t0 = now_s();
                        for (int k = 0; k < BATCH; k++) {
                            if (op == 0 && !wrap) {
                                sink += (size_t)LZ4_compress_default(src, dst, (int)n, cap);
                            } else if (op == 0) {
                                size_t ol;
                                sink += (size_t)cs_compress(&cfg, src, n, dst, (size_t)cap, &ol, NULL) + ol;
                            } else if (!wrap) {
                                sink += (size_t)LZ4_decompress_safe(dst, out, clen, (int)n);
                            } else {
                                sink += (size_t)cs_decompress(CS_CODEC_LZ4, dst, (size_t)clen, out, n, n, NULL);
                            }
                        }
                        double t = now_s() - t0;
                        if (wrap)
                            t_wrap += t;
                        else
                            t_raw += t;
                    }
                    batches++;
                }
                double mb = (double)batches * BATCH * (double)n / 1e6;
                raw_rate[r] = mb / t_raw;
                wrap_rate[r] = mb / t_wrap;
                ratio[r] = wrap_rate[r] / raw_rate[r];
            }
            qsort(ratio, ROUNDS, sizeof(double), cmp_d);
            qsort(raw_rate, ROUNDS, sizeof(double), cmp_d);
            qsort(wrap_rate, ROUNDS, sizeof(double), cmp_d);
            printf("%-8zu %-10s %12.0f %12.0f %7.3fx  (%.3f..%.3f)", n, op == 0 ? "compress" : "decompress",
                   raw_rate[ROUNDS / 2], wrap_rate[ROUNDS / 2], ratio[ROUNDS / 2], ratio[0], ratio[ROUNDS - 1]);
            if (op == 0)
                printf("  compressed to %d bytes", clen);
            printf("\n");
        }
        if (memcmp(src, out, n) != 0)
            return 1;
        free(src);
        free(dst);
        free(out);
        (void)sink;
    }
    printf("target: wrapper >= 0.95x raw\n");
    return 0;
}
