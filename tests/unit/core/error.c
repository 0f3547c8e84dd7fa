/* Tests for error codes, names and messages. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "couchestor/error.h"

Test(error, every_code_has_a_name_and_description)
{
#define CHECK(name, value, desc)                     \
    cr_expect_str_eq(cs_err_name(value), "E" #name); \
    cr_expect_str_eq(cs_strerror(value), desc);      \
    cr_expect_str_neq(cs_strerror(value), "unknown error");
    CS_ERRNO_MAP(CHECK)
#undef CHECK
    cr_expect_str_eq(cs_strerror(0), "success");
    cr_expect_str_eq(cs_strerror(-9999), "unknown error");
    cr_expect_str_eq(cs_err_name(-9999), "EUNKNOWN");
}

Test(error, codes_are_unique_and_negative)
{
    int codes[] = {
#define LIST(name, value, desc) value,
        CS_ERRNO_MAP(LIST)
#undef LIST
    };
    size_t n = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < n; i++) {
        cr_expect_lt(codes[i], 0);
        for (size_t j = i + 1; j < n; j++)
            cr_expect_neq(codes[i], codes[j], "duplicate code %d", codes[i]);
    }
}

Test(error, set_returns_code_and_formats)
{
    cs_err_t err = {0};
    int rc = cs_err_set(&err, CS_EINVAL, "policy '%s': bad %d", "fast", 3);
    cr_expect_eq(rc, CS_EINVAL);
    cr_expect_eq(err.code, CS_EINVAL);
    cr_expect_str_eq(err.msg, "policy 'fast': bad 3");
    cr_expect_eq(cs_err_prefix(&err, "config: "), CS_EINVAL);
    cr_expect_str_eq(err.msg, "config: policy 'fast': bad 3");
    cs_err_clear(&err);
    cr_expect_eq(err.code, 0);
    cr_expect_str_eq(err.msg, "");
    cr_expect_eq(cs_err_set(NULL, CS_EIO, "ignored"), CS_EIO);
    cs_err_clear(NULL);
}

Test(error, long_messages_are_truncated_not_overrun)
{
    cs_err_t err = {0};
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cs_err_set(&err, CS_EPARSE, "%s", big);
    cr_expect_eq(strlen(err.msg), CS_ERR_MSG_MAX - 1);
}

Test(error, errno_mapping)
{
    cr_expect_eq(cs_err_from_errno(ENOENT), CS_ENOTFOUND);
    cr_expect_eq(cs_err_from_errno(ENOMEM), CS_ENOMEM);
    cr_expect_eq(cs_err_from_errno(EEXIST), CS_EEXISTS);
    cr_expect_eq(cs_err_from_errno(EACCES), CS_EPERM);
    cr_expect_eq(cs_err_from_errno(EIO), CS_EIO);
    cr_expect_eq(cs_err_from_errno(0), 0);
}
