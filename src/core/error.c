/* error.c: code table lookups and message formatting for cs_err_t. */
#include "couchestor/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *cs_strerror(int code)
{
    if (code == 0)
        return "success";
    switch (code) {
#define CS__ERRNO_DESC(name, value, desc) \
    case value:                           \
        return desc;
        CS_ERRNO_MAP(CS__ERRNO_DESC)
#undef CS__ERRNO_DESC
    }
    return "unknown error";
}

const char *cs_err_name(int code)
{
    if (code == 0)
        return "OK";
    switch (code) {
#define CS__ERRNO_NAME(name, value, desc) \
    case value:                           \
        return "E" #name;
        CS_ERRNO_MAP(CS__ERRNO_NAME)
#undef CS__ERRNO_NAME
    }
    return "EUNKNOWN";
}

int cs_err_vset(cs_err_t *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (n <= 0)
        snprintf(err->msg, sizeof err->msg, "%s", cs_strerror(code));
    return code;
}

int cs_err_set(cs_err_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cs_err_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int cs_err_prefix(cs_err_t *err, const char *fmt, ...)
{
    if (!err)
        return 0;
    char prefix[CS_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the message right and put the prefix in front, truncating at the end. */
    size_t plen = strnlen(prefix, sizeof prefix);
    size_t mlen = strnlen(err->msg, sizeof err->msg);
    if (plen >= sizeof err->msg)
        plen = sizeof err->msg - 1;
    if (plen + mlen >= sizeof err->msg)
        mlen = sizeof err->msg - 1 - plen;
    memmove(err->msg + plen, err->msg, mlen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + mlen] = '\0';
    return err->code;
}

void cs_err_clear(cs_err_t *err)
{
    if (!err)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}

int cs_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return 0;
    case EINVAL:
        return CS_EINVAL;
    case ENOENT:
        return CS_ENOTFOUND;
    case ENOMEM:
        return CS_ENOMEM;
    case EEXIST:
        return CS_EEXISTS;
    case ETIMEDOUT:
        return CS_ETIMEOUT;
    case EACCES:
    case EPERM:
        return CS_EPERM;
    case EBUSY:
        return CS_EBUSY;
    case EFBIG:
    case E2BIG:
        return CS_ETOOBIG;
    case ENOTSUP:
        return CS_EUNSUPPORTED;
    case ECANCELED:
        return CS_ECANCELED;
    default:
        return CS_EIO;
    }
}
