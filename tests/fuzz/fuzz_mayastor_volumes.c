/* Fuzz target: Mayastor volume decoding (a list page and a single Volume,
 * whole and in two chunks). */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/mayastor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    for (int list = 0; list < 2; list++) {
        cs_mayastor_volumes_t vols;
        cs_err_t err = {0};
        int64_t next;
        if (cs_mayastor_decode_volumes(body, size, list, list == 0, &vols, &next, &err) == 0) {
            for (size_t i = 0; i < vols.count; i++) {
                const cs_mayastor_volume_t *v = &vols.items[i];
                cs_mayastor_volumes_find(&vols, &v->uuid);
                for (size_t r = 0; r < v->replica_count; r++)
                    cs_mayastor_volume_replica(v, &v->replicas[r].uuid);
            }
        }
        cs_mayastor_volumes_free(&vols);
    }
    cs_mayastor_volumes_t vols = {0};
    cs_mayastor_volume_decoder_t *d = NULL;
    if (cs_mayastor_volume_decoder_new(&vols, true, true, 100, &d) == 0) {
        cs_err_t err = {0};
        size_t half = size / 3;
        int64_t next;
        if (cs_mayastor_volume_decoder_feed(d, body, half, &err) == 0 &&
            cs_mayastor_volume_decoder_feed(d, body + half, size - half, &err) == 0)
            cs_mayastor_volume_decoder_finish(d, &next, &err);
        cs_mayastor_volume_decoder_free(d);
    }
    cs_mayastor_volumes_free(&vols);
    return 0;
}
