/* time.c: the crd module's names for metav1.Time, kept for their callers
 * (the controller); the one implementation is in core (rfc3339.h). */
#include "couchestor/rfc3339.h"
#include "crd/crd_internal.h"

int cs_crd_time_parse(const char *text, int64_t *out, cs_err_t *err)
{
    return cs_rfc3339_parse(text, out, err);
}

const char *cs_crd_time_format(int64_t unix_seconds, char *buf, size_t len)
{
    return cs_rfc3339_format(unix_seconds, buf, len);
}
