/* Fuzz target: the parsers of nvme-cli's JSON (`nvme list`, `nvme smart-log`). */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cs_hw_nvme_ns_t ns[8];
    size_t n = 0;
    cs_err_t err = {0};
    cs_hw_nvme_list_parse((const char *)data, size, ns, 8, &n, &err);
    if (n > 8)
        abort();
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    if (cs_hw_nvme_smart_parse((const char *)data, size, &s.health, &err) == 0 && s.health.critical_warning > 255)
        abort();
    return 0;
}
