/* Fuzz target: the answer of a SelfSubjectAccessReview (untrusted bytes
 * from the API server, read by `couchestor doctor`'s RBAC check). */
#include <stdint.h>
#include <string.h>

#include "couchestor/kube.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_kube_access_result_t r;
    cs_err_t err = {0};
    int rc = cs_kube_access_review_decode((const char *)data, size, &r, &err);
    /* Terminated strings; never both allowed and denied. */
    if (strnlen(r.reason, sizeof r.reason) >= sizeof r.reason ||
        strnlen(r.evaluation_error, sizeof r.evaluation_error) >= sizeof r.evaluation_error ||
        strnlen(err.msg, sizeof err.msg) >= sizeof err.msg || (rc == 0 && r.allowed && r.denied))
        __builtin_trap();
    return 0;
}
