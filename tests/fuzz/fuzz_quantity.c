/* Fuzz target: Kubernetes quantity parsing; a parsed value must format and
 * parse back to itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = strndup((const char *)data, size);
    if (!text)
        return 0;
    int64_t v;
    cs_err_t err = {0};
    if (cs_quantity_parse(text, &v, &err) == 0) {
        char buf[32];
        int64_t again;
        cs_quantity_format(v, buf, sizeof buf);
        if (cs_quantity_parse(buf, &again, &err) != 0 || again != v)
            abort();
    } else if (err.msg[0] == '\0') {
        abort();
    }
    free(text);
    return 0;
}
