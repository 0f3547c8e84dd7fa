/* Fuzz target: the smartctl JSON parser and the exit-status interpretation. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/hw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_hw_smart_t s;
    cs_hw_smart_init(&s);
    cs_err_t err = {0};
    cs_hw_smart_parse((const char *)data, size, &s, &err);
    if (s.json_exit_status > 255 || s.health.percent_used > 255)
        abort();
    cs_hw_reasons_t excluded = {0};
    cs_hw_smart_apply_exit_status(size ? data[0] : 0, &s.health, &excluded);
    if (excluded.count > CS_HW_REASONS_MAX)
        abort();
    return 0;
}
