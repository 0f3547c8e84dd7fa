/* policy_fixture.h: a StoragePolicy decoded from JSON text, for the
 * controller tests that build plan facts (free it with
 * cs_storage_policy_free). */
#ifndef CS_TEST_CONTROLLER_POLICY_FIXTURE_H
#define CS_TEST_CONTROLLER_POLICY_FIXTURE_H

#include <criterion/criterion.h>
#include <jansson.h>

#include "couchestor/crd.h"

static inline cs_storage_policy_t policy_from_text(const char *text)
{
    json_error_t je;
    json_t *obj = json_loads(text, 0, &je);
    cr_assert_not_null(obj, "%s", je.text);
    cs_storage_policy_t p;
    cs_err_t err = {0};
    cr_assert_eq(cs_storage_policy_decode(obj, &p, NULL, &err), 0, "%s", err.msg);
    json_decref(obj);
    return p;
}

#endif
