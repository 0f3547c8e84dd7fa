/* reconcile_ec.c: one ErasureCodingPolicy reconcile (LLD 1.1.2): validate
 * it and write its phase and efficiency when they changed. */
#include <stdlib.h>
#include <string.h>

#include "couchestor/log.h"
#include "operator.h"

/* The status an ErasureCodingPolicy should have: computed from a valid
 * spec, or phase Invalid with the decoder's message. */
static int cs__ec_status(const cs_kube_object_t *obj, cs_ec_policy_t *ec, cs_ec_policy_status_t *st, cs_err_t *err)
{
    if (cs_ec_policy_decode(cs_json_tree_root(obj->data), ec, NULL, err) == 0)
        return cs_ec_policy_status_compute(ec, st, err);
    st->phase = CS_EC_PHASE_INVALID;
    st->message = strdup(err->msg);
    st->observed_generation = cs__op_generation(obj);
    return 0;
}

int cs__reconcile_ec(cs__op_t *op, const char *name)
{
    cs_kube_object_t *obj = cs_informer_get(op->ec, NULL, name);
    if (!obj)
        return 0;
    cs_ec_policy_t ec;
    cs_ec_policy_status_t st;
    memset(&ec, 0, sizeof ec);
    memset(&st, 0, sizeof st);
    cs_err_t err = {0};
    json_t *js = NULL;
    int rc = cs__ec_status(obj, &ec, &st, &err);
    if (rc == 0)
        rc = cs_ec_policy_status_encode(&st, &js, &err);
    const json_t *current = json_object_get(cs_json_tree_root(obj->data), "status");
    if (rc == 0 && !(current && json_equal(current, js))) {
        rc = cs__op_patch_status(op, CS_EC_POLICY_RESOURCE, name, js, &err);
        if (rc == 0)
            CS_INFO("ErasureCodingPolicy status", "policy", name, "phase", cs_ec_policy_phase_name(st.phase));
    }
    if (rc != 0)
        CS_WARN("reconcile failed", "ecpolicy", name, "error", err.msg);
    json_decref(js);
    cs_ec_policy_status_free(&st);
    cs_ec_policy_free(&ec);
    cs_kube_object_unref(obj);
    return rc;
}
