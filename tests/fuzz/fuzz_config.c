/* Fuzz target: config files (YAML mapping of parameters) and the generic
 * YAML-to-JSON reader. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/config.h"
#include "couchestor/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_init(&cfg, &err) != 0)
        abort();
    if (cs_config_load_text(&cfg, (const char *)data, size, "fuzz.yaml", &err) != 0 && err.msg[0] == '\0')
        abort();
    cs_config_free(&cfg);
    json_t *docs = NULL;
    if (cs_yaml_parse((const char *)data, size, "fuzz.yaml", &docs, &err) == 0)
        json_decref(docs);
    return 0;
}
