/* status.c: metav1.Status decoding and the errors built from failed
 * answers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/json.h"
#include "kube/internal.h"

void cs_kube_status_free(cs_kube_status_t *st)
{
    if (!st)
        return;
    free(st->status);
    free(st->reason);
    free(st->message);
    free(st->details_name);
    free(st->details_kind);
    free(st->details_group);
    free(st->cause_field);
    free(st->cause_message);
    memset(st, 0, sizeof *st);
    st->retry_after_s = -1;
}

/* Copies obj[key] when it is a string; wrong types are ignored, as a Status
 * is read only to explain an error. */
static bool cs__st_str(const json_t *obj, const char *key, char **dst)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        return true;
    return cs__kube_set_strn(dst, json_string_value(v), json_string_length(v));
}

int cs_kube_status_decode(const char *body, size_t len, cs_kube_status_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    out->retry_after_s = -1;
    json_t *root = NULL;
    int rc = cs_json_parse(body, len, "Status body", &root, err);
    if (rc != 0)
        return rc;
    const json_t *kind = json_object_get(root, "kind");
    if (!json_is_object(root) || !json_is_string(kind) || strcmp(json_string_value(kind), "Status") != 0) {
        json_decref(root);
        return cs_err_set(err, CS_EPARSE, "Status body: not a Status object (kind is not \"Status\")");
    }
    const json_t *code = json_object_get(root, "code");
    if (json_is_integer(code) && json_integer_value(code) >= 0 && json_integer_value(code) < 1000)
        out->code = (long)json_integer_value(code);
    bool ok = cs__st_str(root, "status", &out->status) && cs__st_str(root, "reason", &out->reason) &&
              cs__st_str(root, "message", &out->message);
    const json_t *d = json_object_get(root, "details");
    if (ok && json_is_object(d)) {
        ok = cs__st_str(d, "name", &out->details_name) && cs__st_str(d, "kind", &out->details_kind) &&
             cs__st_str(d, "group", &out->details_group);
        const json_t *ra = json_object_get(d, "retryAfterSeconds");
        if (json_is_integer(ra) && json_integer_value(ra) >= 0 && json_integer_value(ra) <= 86400)
            out->retry_after_s = (long)json_integer_value(ra);
        const json_t *causes = json_object_get(d, "causes");
        const json_t *c0 = json_array_get(causes, 0);
        if (ok && json_is_object(c0))
            ok = cs__st_str(c0, "field", &out->cause_field) && cs__st_str(c0, "message", &out->cause_message);
    }
    json_decref(root);
    if (!ok) {
        cs_kube_status_free(out);
        return cs_err_set(err, CS_ENOMEM, "Status body: out of memory");
    }
    return 0;
}

int cs_kube_code_for_status(long http_status, const char *reason)
{
    switch (http_status) {
    case 400:
    case 422:
        return CS_EINVAL;
    case 401:
    case 403:
        return CS_EPERM;
    case 404:
        return CS_ENOTFOUND;
    case 409:
        return (reason && strcmp(reason, "AlreadyExists") == 0) ? CS_EEXISTS : CS_ECONFLICT;
    case 410:
        return CS_EGONE;
    case 429:
        return CS_EBUSY;
    case 504:
        return CS_ETIMEOUT;
    default:
        break;
    }
    if (http_status >= 500 && http_status <= 599)
        return CS_EUNAVAILABLE;
    return CS_EKUBE;
}

static const char *cs__reason_for_code(long code)
{
    switch (code) {
    case 400:
        return "BadRequest";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "NotFound";
    case 405:
        return "MethodNotAllowed";
    case 406:
        return "NotAcceptable";
    case 409:
        return "Conflict";
    case 410:
        return "Gone";
    case 413:
        return "RequestEntityTooLarge";
    case 415:
        return "UnsupportedMediaType";
    case 422:
        return "Invalid";
    case 429:
        return "TooManyRequests";
    case 500:
        return "InternalError";
    case 503:
        return "ServiceUnavailable";
    case 504:
        return "Timeout";
    default:
        return "Unknown";
    }
}

int cs_kube_error_from_response(const char *verb, const cs_kube_resource_t *res, const char *ns, const char *name,
                                long http_status, const char *body, size_t len, cs_err_t *err)
{
    char rname[160], target[400] = "", msg[CS_ERR_MSG_MAX];
    cs__kube_res_name(res, rname, sizeof rname);
    if (name && *name && ns && *ns && res && res->namespaced)
        snprintf(target, sizeof target, " \"%s/%s\"", ns, name);
    else if (name && *name)
        snprintf(target, sizeof target, " \"%s\"", name);
    else if (ns && *ns && res && res->namespaced)
        snprintf(target, sizeof target, " in namespace \"%s\"", ns);

    cs_kube_status_t st;
    const char *reason = NULL, *message = NULL;
    bool have_status = false;
    if (body && len > 0 && cs_kube_status_decode(body, len, &st, NULL) == 0) {
        have_status = true;
        reason = st.reason;
        message = st.message;
    }
    if (!reason || !*reason)
        reason = cs__reason_for_code(http_status);
    char quoted[CS__KUBE_BODY_QUOTE + 1];
    if (!message || !*message) {
        if (body && len > 0 && !have_status)
            message =
                cs__kube_printable(body, len < CS__KUBE_BODY_QUOTE ? len : CS__KUBE_BODY_QUOTE, quoted, sizeof quoted);
        else
            message = "(no message)";
    }
    const char *hint = "";
    if (http_status == 401)
        hint = " (the credentials were rejected: check the token, token file or client certificate)";
    else if (http_status == 403)
        hint = " (check the RBAC rules of this service account: deploy/operator/ has the ClusterRole)";
    /* Real servers name the field inside an Invalid message; add it when not. */
    char cause[300] = "";
    if (have_status && st.cause_field && *st.cause_field && !strstr(message, st.cause_field))
        snprintf(cause, sizeof cause, " (%s: %s)", st.cause_field, st.cause_message ? st.cause_message : "invalid");
    snprintf(msg, sizeof msg, "%s %s%s: %ld %s: %s%s%s", verb ? verb : "REQUEST", rname, target, http_status, reason,
             message, cause, hint);
    int code = cs_kube_code_for_status(http_status, reason);
    if (have_status)
        cs_kube_status_free(&st);
    return cs_err_set(err, code, "%s", msg);
}
