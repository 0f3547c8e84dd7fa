/* Fuzz target: Prometheus /api/v1/query reply decoding (success and error
 * bodies, whole and split in two chunks) and sample value parsing. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    static const long statuses[] = {200, 400, 422, 503, 404, 502};
    for (size_t i = 0; i < sizeof statuses / sizeof *statuses; i++) {
        cs_prom_result_t r;
        cs_err_t err = {0};
        if (cs_prom_decode(statuses[i], body, size, "pv_name", 1000, &r, &err) == 0) {
            const char *k;
            double v;
            for (size_t j = 0; cs_prom_vector_at(r.vector, j, &k, &v); j++)
                cs_prom_vector_get(r.vector, k, &v);
        }
        cs_prom_result_free(&r);
    }
    /* streaming: the same bytes in two chunks must not behave differently */
    cs_prom_decoder_t *d = NULL;
    cs_err_t err = {0};
    if (cs_prom_decoder_new(NULL, 1000, &d, &err) == 0) {
        size_t half = size / 2;
        cs_prom_result_t r;
        if (cs_prom_decoder_feed(d, body, half, &err) == 0 &&
            cs_prom_decoder_feed(d, body + half, size - half, &err) == 0 && cs_prom_decoder_finish(d, &r, &err) == 0)
            cs_prom_result_free(&r);
        cs_prom_decoder_free(d);
    }
    double v;
    cs_prom_parse_value(body, size < 80 ? size : 80, &v);
    return 0;
}
