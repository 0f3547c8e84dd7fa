/* ec_codec: cs_ec codec throughput against raw ISA-L on the same buffers.
 * - encode GB/s for 4+2, 8+3, 10+4 at 64 KiB, 1 MiB and 16 MiB stripes vs
 *   raw ec_encode_data (target >= 0.95x) and vs memcpy of the same bytes;
 * - reconstruct 1 and 2 lost data shards of 4+2 at 1 MiB vs a raw ISA-L
 *   decode with its tables prepared once (target >= 0.9x).
 * GB/s counts data bytes (k shards). Each measurement is the best of 5. */
#include <isa-l/erasure_code.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_common.h"
#include "couchestor/buf.h"
#include "couchestor/ec.h"

/* Best-of-5 seconds per iteration of fn over enough iterations to last ~0.1 s. */
#define MEASURE(result, iters, body)                  \
    do {                                              \
        double best = 1e30;                           \
        for (int rep_ = 0; rep_ < 5; rep_++) {        \
            double t0_ = now_s();                     \
            for (int it_ = 0; it_ < (iters); it_++) { \
                body;                                 \
            }                                         \
            double dt_ = (now_s() - t0_) / (iters);   \
            if (dt_ < best)                           \
                best = dt_;                           \
        }                                             \
        (result) = best;                              \
    } while (0)

static volatile uint8_t sink;

static void bench_encode(unsigned k, unsigned m, size_t stripe)
{
    size_t len = stripe / k;
    cs_ec_codec_t *c = NULL;
    cs_ec_codec_new(k, m, &c, NULL);
    cs_buf_t *buf = NULL, *dst = NULL;
    cs_buf_alloc((k + m) * len, 0, &buf, NULL);
    cs_buf_alloc(k * len, 0, &dst, NULL);
    uint8_t *ptr[CS_EC_MAX_SHARDS];
    for (unsigned i = 0; i < k + m; i++)
        ptr[i] = buf->data + i * len;
    for (size_t i = 0; i < k * len; i++)
        buf->data[i] = (uint8_t)(i * 131 + 7);
    /* raw ISA-L: its own tables from the same Cauchy matrix */
    uint8_t *a = malloc((k + m) * k), *tbl = malloc(32 * k * m);
    gf_gen_cauchy1_matrix(a, (int)(k + m), (int)k);
    ec_init_tables((int)k, (int)m, a + k * k, tbl);
    int iters = (int)(400u * 1024 * 1024 / stripe);
    if (iters < 3)
        iters = 3;
    double t_cs, t_raw, t_cpy;
    MEASURE(t_raw, iters, ec_encode_data((int)len, (int)k, (int)m, tbl, ptr, ptr + k));
    MEASURE(t_cs, iters, cs_ec_codec_encode(c, len, (const uint8_t *const *)ptr, ptr + k));
    MEASURE(t_cpy, iters, memcpy(dst->data, buf->data, k * len); sink = dst->data[it_ % (k * len)]);
    double gb = (double)(k * len) / 1e9;
    printf("encode %2u+%u %6zu KiB  cs %6.2f GB/s  raw ISA-L %6.2f GB/s  ratio %.3f  | memcpy %6.2f "
           "GB/s  cs/memcpy %.3f\n",
           k, m, stripe / 1024, gb / t_cs, gb / t_raw, t_raw / t_cs, gb / t_cpy, t_cpy / t_cs);
    free(a);
    free(tbl);
    cs_buf_free(&buf);
    cs_buf_free(&dst);
    cs_ec_codec_free(&c);
}

/* Raw ISA-L decode as in its ec_simple_example: invert once, reuse tables. */
static void bench_reconstruct(unsigned nlost)
{
    const unsigned k = 4, m = 2, n = 6;
    size_t stripe = 1u << 20, len = stripe / k;
    cs_ec_codec_t *c = NULL;
    cs_ec_codec_new(k, m, &c, NULL);
    cs_buf_t *buf = NULL, *outb = NULL;
    cs_buf_alloc(n * len, 0, &buf, NULL);
    cs_buf_alloc(m * len, 0, &outb, NULL);
    uint8_t *ptr[6], *out[2] = {outb->data, outb->data + len};
    for (unsigned i = 0; i < n; i++)
        ptr[i] = buf->data + i * len;
    for (size_t i = 0; i < k * len; i++)
        buf->data[i] = (uint8_t)(i * 31 + 1);
    cs_ec_codec_encode(c, len, (const uint8_t *const *)ptr, ptr + k);
    unsigned lost[2] = {0, 2};
    const uint8_t *in[6];
    for (unsigned i = 0; i < n; i++)
        in[i] = ptr[i];
    for (unsigned i = 0; i < nlost; i++)
        in[lost[i]] = NULL;

    /* raw: survivors' rows, inverted; decode rows = inverse rows of the lost */
    uint8_t a[6 * 4], b[16], inv[16], d[2 * 4], tbl[32 * 4 * 2];
    gf_gen_cauchy1_matrix(a, 6, 4);
    uint8_t *src[4];
    unsigned r = 0;
    for (unsigned i = 0; i < n && r < k; i++)
        if (in[i]) {
            memcpy(b + r * k, a + i * k, k);
            src[r++] = ptr[i];
        }
    gf_invert_matrix(b, inv, (int)k);
    for (unsigned i = 0; i < nlost; i++)
        memcpy(d + i * k, inv + lost[i] * k, k);
    ec_init_tables((int)k, (int)nlost, d, tbl);
    int iters = 400;
    double t_raw, t_cs;
    MEASURE(t_raw, iters, ec_encode_data((int)len, (int)k, (int)nlost, tbl, src, out));
    if (memcmp(out[0], ptr[0], len) != 0)
        printf("raw decode wrong\n");
    memset(outb->data, 0, m * len);
    MEASURE(t_cs, iters, cs_ec_codec_reconstruct(c, len, in, lost, nlost, out, NULL));
    if (memcmp(out[0], ptr[0], len) != 0 || (nlost == 2 && memcmp(out[1], ptr[2], len) != 0))
        printf("cs reconstruct wrong\n");
    double gb = (double)stripe / 1e9;
    printf("reconstruct 4+2 1 MiB, %u lost data shard(s)  cs %6.2f GB/s  raw ISA-L %6.2f GB/s  "
           "ratio %.3f (target >= 0.9)\n",
           nlost, gb / t_cs, gb / t_raw, t_raw / t_cs);
    cs_buf_free(&buf);
    cs_buf_free(&outb);
    cs_ec_codec_free(&c);
}

int main(void)
{
    bench_machine_print();
    printf("# ec_codec: GB/s of object data; ratio = raw time / cs time (target >= 0.95 encode)\n");
    unsigned codes[3][2] = {{4, 2}, {8, 3}, {10, 4}};
    size_t stripes[3] = {64u << 10, 1u << 20, 16u << 20};
    for (int c = 0; c < 3; c++)
        for (int s = 0; s < 3; s++)
            bench_encode(codes[c][0], codes[c][1], stripes[s]);
    bench_reconstruct(1);
    bench_reconstruct(2);
    return 0;
}
