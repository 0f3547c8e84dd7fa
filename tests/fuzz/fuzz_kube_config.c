/* Fuzz target: kubeconfig parsing (YAML from a user's file), for the
 * current context and for a named one. */
#include <stdint.h>

#include "couchestor/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    if (cs_kube_config_parse((const char *)data, size, "fuzz", "/base", NULL, &cfg, &err) == 0)
        cs_kube_config_free(&cfg);
    if (cs_kube_config_parse((const char *)data, size, "fuzz", NULL, "a", &cfg, &err) == 0)
        cs_kube_config_free(&cfg);
    return 0;
}
