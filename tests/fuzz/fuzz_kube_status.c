/* Fuzz target: Status decoding and the error built from a failed answer
 * (untrusted bytes from the API server, JSON or not). */
#include <stdint.h>
#include <string.h>

#include "couchestor/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_kube_status_t st;
    cs_err_t err = {0};
    if (cs_kube_status_decode((const char *)data, size, &st, &err) == 0)
        cs_kube_status_free(&st);
    long code = size ? 400 + data[0] % 200 : 500;
    cs_kube_error_from_response("PATCH", CS_KUBE_RES_LEASES, "ns", "name", code, (const char *)data, size, &err);
    /* The message is always a terminated string. */
    if (strnlen(err.msg, sizeof err.msg) >= sizeof err.msg)
        __builtin_trap();
    return 0;
}
