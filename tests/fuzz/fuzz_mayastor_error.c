/* Fuzz target: Mayastor RestJsonError decoding ({details, message, kind}). */
#include <stdint.h>
#include <string.h>

#include "couchestor/mayastor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_mayastor_err_t e;
    cs_mayastor_decode_error(412, (const char *)data, size, "PUT /v0/volumes/x/replica_count/2", &e);
    /* the decoded strings are always terminated */
    (void)strlen(e.kind_text);
    (void)strlen(e.details);
    (void)strlen(e.message);
    (void)strlen(e.err.msg);
    (void)cs_mayastor_kind_name(e.kind);
    return 0;
}
