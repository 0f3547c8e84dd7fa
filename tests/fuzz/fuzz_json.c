/* Fuzz target: bounded JSON parsing and typed access. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *j = NULL;
    cs_err_t err = {0};
    if (cs_json_parse((const char *)data, size, "fuzz", &j, &err) != 0)
        return 0;
    int64_t i;
    double d;
    bool b;
    const char *s;
    const json_t *o;
    cs_json_get_int(j, "x", "a", CS_JSON_OPTIONAL, &i, &err);
    cs_json_get_int_range(j, "x", "a", 0, 0, 10, &i, &err);
    cs_json_get_number(j, "x", "b", CS_JSON_OPTIONAL, &d, &err);
    cs_json_get_bool(j, "x", "c", CS_JSON_OPTIONAL, &b, &err);
    cs_json_get_string(j, "x", "d", CS_JSON_OPTIONAL, &s, &err);
    cs_json_get_object(j, "x", "e", CS_JSON_OPTIONAL, &o, &err);
    cs_json_get_array(j, "x", "f", CS_JSON_OPTIONAL, &o, &err);
    json_decref(j);
    return 0;
}
