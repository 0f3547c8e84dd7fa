/* Fuzz target: the streaming JSON decoder, fed in two chunks split at a
 * data-dependent point, in single- and multi-value modes. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/jstream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    (*(size_t *)ctx)++;
    if (ev->depth > 16)
        abort(); /* the bound below must hold */
    (void)cs_jstream_key_at(js, ev->depth);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t split = size ? data[0] % (size + 1) : 0;
    for (int multi = 0; multi < 2; multi++) {
        size_t n = 0;
        cs_jstream_t *js;
        if (cs_jstream_new(count, &n, 16, 4096, multi, &js) != 0)
            return 0;
        cs_err_t err = {0};
        if (cs_jstream_feed(js, (const char *)data, split, &err) == 0 &&
            cs_jstream_feed(js, (const char *)data + split, size - split, &err) == 0)
            cs_jstream_finish(js, &err);
        cs_jstream_free(js);
    }
    return 0;
}
