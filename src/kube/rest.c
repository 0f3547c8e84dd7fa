/* rest.c: generic REST verbs (get, create, update, patch, delete, status
 * subresource) and the streamed, paginated list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube/internal.h"

#define CS__KUBE_PATH_MAX 2048
#define CS__KUBE_LIST_DEFAULT_LIMIT 500
/* Bounds a hostile server that hands out continue tokens forever. */
#define CS__KUBE_LIST_MAX_PAGES 100000

static int cs__seg(char *buf, size_t len, size_t *used, const char *prefix, const char *seg, bool escape)
{
    char *e = escape ? cs_http_escape(seg) : NULL;
    if (escape && !e)
        return CS_ENOMEM;
    int n = snprintf(buf + *used, len - *used, "%s%s", prefix, e ? e : seg);
    free(e);
    if (n < 0 || (size_t)n >= len - *used)
        return CS_ETOOBIG;
    *used += (size_t)n;
    return 0;
}

int cs_kube_path(const cs_kube_resource_t *res, const char *ns, const char *name, const char *subresource, char *buf,
                 size_t len, cs_err_t *err)
{
    if (!res || !res->version || !*res->version || !res->plural || !*res->plural)
        return cs_err_set(err, CS_EINVAL, "resource needs a version and a plural name");
    if (subresource && (!name || !*name))
        return cs_err_set(err, CS_EINVAL, "%s: subresource %s needs an object name", res->plural, subresource);
    if ((name && !*name) || (ns && !*ns && res->namespaced))
        return cs_err_set(err, CS_EINVAL, "%s: empty name or namespace", res->plural);
    size_t used = 0;
    int rc;
    if (!len)
        return cs_err_set(err, CS_ETOOBIG, "path buffer is empty");
    buf[0] = '\0';
    if (res->group && *res->group) {
        if ((rc = cs__seg(buf, len, &used, "/apis/", res->group, false)) ||
            (rc = cs__seg(buf, len, &used, "/", res->version, false)))
            goto fail;
    } else if ((rc = cs__seg(buf, len, &used, "/api/", res->version, false))) {
        goto fail;
    }
    if (res->namespaced && ns && (rc = cs__seg(buf, len, &used, "/namespaces/", ns, true)))
        goto fail;
    if ((rc = cs__seg(buf, len, &used, "/", res->plural, false)))
        goto fail;
    if (name && (rc = cs__seg(buf, len, &used, "/", name, true)))
        goto fail;
    if (subresource && (rc = cs__seg(buf, len, &used, "/", subresource, false)))
        goto fail;
    return 0;
fail:
    return cs_err_set(err, rc, "%s: request path too long", res->plural);
}

/* Namespace for a single-object request: explicit, else the object's, else
 * the client's default. NULL for cluster-scoped resources. */
static const char *cs__ns(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj)
{
    if (!res->namespaced)
        return NULL;
    if (ns && *ns)
        return ns;
    const char *ons = json_string_value(json_object_get(json_object_get(obj, "metadata"), "namespace"));
    if (ons && *ons)
        return ons;
    return cs_kube_client_namespace(c);
}

static int cs__check(cs_kube_client_t *c, const cs_kube_resource_t *res, cs_err_t *err)
{
    if (!c || !res)
        return cs_err_set(err, CS_EINVAL, "Kubernetes request: client and resource are required");
    return 0;
}

int cs_kube_get(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name, json_t **out,
                cs_err_t *err)
{
    if (out)
        *out = NULL;
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    if (!name || !*name)
        return cs_err_set(err, CS_EINVAL, "GET %s: an object name is required", res->plural);
    ns = cs__ns(c, res, ns, NULL);
    char path[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, name, NULL, path, sizeof path, err)))
        return rc;
    cs__kube_req_t r = {.verb = "GET", .method = "GET", .res = res, .ns = ns, .name = name, .path = path};
    return cs__kube_do_json(c, &r, out, err);
}

int cs_kube_get_path(cs_kube_client_t *c, const char *path, json_t **out, cs_err_t *err)
{
    if (out)
        *out = NULL;
    if (!path || path[0] != '/')
        return cs_err_set(err, CS_EINVAL, "GET: a path starting with '/' is required");
    static const cs_kube_resource_t raw = {"", "v1", "path", false, NULL};
    cs__kube_req_t r = {.verb = "GET", .method = "GET", .res = &raw, .path = path};
    return cs__kube_do_json(c, &r, out, err);
}

static char *cs__dump(const json_t *obj)
{
    return json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
}

int cs_kube_create(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj, json_t **out,
                   cs_err_t *err)
{
    if (out)
        *out = NULL;
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    if (!json_is_object(obj))
        return cs_err_set(err, CS_EINVAL, "CREATE %s: the object must be a JSON object", res->plural);
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    if (json_object_get(meta, "resourceVersion"))
        return cs_err_set(err, CS_EINVAL, "CREATE %s \"%s\": metadata.resourceVersion must not be set on a new object",
                          res->plural, name ? name : "");
    ns = cs__ns(c, res, ns, obj);
    char path[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, NULL, NULL, path, sizeof path, err)))
        return rc;
    char *body = cs__dump(obj);
    if (!body)
        return cs_err_set(err, CS_ENOMEM, "CREATE %s: out of memory", res->plural);
    cs__kube_req_t r = {.verb = "CREATE",
                        .method = "POST",
                        .res = res,
                        .ns = ns,
                        .name = name,
                        .path = path,
                        .content_type = "application/json",
                        .body = body,
                        .body_len = strlen(body)};
    rc = cs__kube_do_json(c, &r, out, err);
    free(body);
    return rc;
}

static int cs__update(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj,
                      const char *sub, json_t **out, cs_err_t *err)
{
    if (out)
        *out = NULL;
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    const json_t *meta = json_object_get(obj, "metadata");
    const char *name = json_string_value(json_object_get(meta, "name"));
    const char *rv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!json_is_object(obj) || !name || !*name)
        return cs_err_set(err, CS_EINVAL, "UPDATE %s: the object needs metadata.name", res->plural);
    if (!rv || !*rv)
        return cs_err_set(err, CS_EINVAL,
                          "UPDATE %s \"%s\": metadata.resourceVersion is required (read the object "
                          "first; updates are conditional)",
                          res->plural, name);
    ns = cs__ns(c, res, ns, obj);
    char path[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, name, sub, path, sizeof path, err)))
        return rc;
    char *body = cs__dump(obj);
    if (!body)
        return cs_err_set(err, CS_ENOMEM, "UPDATE %s: out of memory", res->plural);
    cs__kube_req_t r = {.verb = sub ? "UPDATE status" : "UPDATE",
                        .method = "PUT",
                        .res = res,
                        .ns = ns,
                        .name = name,
                        .path = path,
                        .content_type = "application/json",
                        .body = body,
                        .body_len = strlen(body)};
    rc = cs__kube_do_json(c, &r, out, err);
    free(body);
    return rc;
}

int cs_kube_update(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj, json_t **out,
                   cs_err_t *err)
{
    return cs__update(c, res, ns, obj, NULL, out, err);
}

int cs_kube_update_status(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const json_t *obj,
                          json_t **out, cs_err_t *err)
{
    return cs__update(c, res, ns, obj, "status", out, err);
}

static int cs__patch(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                     const char *sub, cs_kube_patch_type_t type, const json_t *patch, json_t **out, cs_err_t *err)
{
    if (out)
        *out = NULL;
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    if (!name || !*name)
        return cs_err_set(err, CS_EINVAL, "PATCH %s: an object name is required", res->plural);
    const char *ctype;
    switch (type) {
    case CS_KUBE_PATCH_MERGE:
        ctype = "application/merge-patch+json";
        if (!json_is_object(patch))
            return cs_err_set(err, CS_EINVAL, "PATCH %s \"%s\": a merge patch must be a JSON object", res->plural,
                              name);
        break;
    case CS_KUBE_PATCH_JSON:
        ctype = "application/json-patch+json";
        if (!json_is_array(patch))
            return cs_err_set(err, CS_EINVAL, "PATCH %s \"%s\": a JSON patch must be an array", res->plural, name);
        break;
    case CS_KUBE_PATCH_STRATEGIC:
        ctype = "application/strategic-merge-patch+json";
        if (!json_is_object(patch))
            return cs_err_set(err, CS_EINVAL, "PATCH %s \"%s\": a strategic merge patch must be a JSON object",
                              res->plural, name);
        break;
    default:
        return cs_err_set(err, CS_EINVAL, "PATCH %s: unknown patch type %d", res->plural, (int)type);
    }
    ns = cs__ns(c, res, ns, NULL);
    char path[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, name, sub, path, sizeof path, err)))
        return rc;
    char *body = cs__dump(patch);
    if (!body)
        return cs_err_set(err, CS_ENOMEM, "PATCH %s: out of memory", res->plural);
    cs__kube_req_t r = {.verb = sub ? "PATCH status" : "PATCH",
                        .method = "PATCH",
                        .res = res,
                        .ns = ns,
                        .name = name,
                        .path = path,
                        .content_type = ctype,
                        .body = body,
                        .body_len = strlen(body)};
    rc = cs__kube_do_json(c, &r, out, err);
    free(body);
    return rc;
}

int cs_kube_patch(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                  cs_kube_patch_type_t type, const json_t *patch, json_t **out, cs_err_t *err)
{
    return cs__patch(c, res, ns, name, NULL, type, patch, out, err);
}

int cs_kube_patch_status(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                         cs_kube_patch_type_t type, const json_t *patch, json_t **out, cs_err_t *err)
{
    return cs__patch(c, res, ns, name, "status", type, patch, out, err);
}

int cs_kube_delete(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const char *name,
                   const char *precondition_rv, cs_err_t *err)
{
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    if (!name || !*name)
        return cs_err_set(err, CS_EINVAL, "DELETE %s: an object name is required", res->plural);
    ns = cs__ns(c, res, ns, NULL);
    char path[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, name, NULL, path, sizeof path, err)))
        return rc;
    json_t *opts =
        json_pack("{s:s,s:s,s:s}", "kind", "DeleteOptions", "apiVersion", "v1", "propagationPolicy", "Background");
    if (opts && precondition_rv)
        json_object_set_new(opts, "preconditions", json_pack("{s:s}", "resourceVersion", precondition_rv));
    char *body = opts ? cs__dump(opts) : NULL;
    json_decref(opts);
    if (!body)
        return cs_err_set(err, CS_ENOMEM, "DELETE %s: out of memory", res->plural);
    cs__kube_req_t r = {.verb = "DELETE",
                        .method = "DELETE",
                        .res = res,
                        .ns = ns,
                        .name = name,
                        .path = path,
                        .content_type = "application/json",
                        .body = body,
                        .body_len = strlen(body)};
    rc = cs__kube_do_json(c, &r, NULL, err);
    free(body);
    return rc;
}

int cs_kube_retry_on_conflict(int attempts, int (*fn)(void *ctx, cs_err_t *err), void *ctx, cs_err_t *err)
{
    if (attempts <= 0)
        attempts = 5;
    cs__kube_rand_t r;
    cs__kube_rand_seed(&r, (uintptr_t)&r);
    int rc = CS_ECONFLICT;
    for (int i = 0; i < attempts; i++) {
        if (i > 0)
            cs__kube_sleep(10000000 + (int64_t)(cs__kube_rand_unit(&r) * 1000000), NULL);
        rc = fn(ctx, err);
        if (rc != CS_ECONFLICT)
            return rc;
    }
    if (err)
        cs_err_prefix(err, "still conflicting after %d attempts: ", attempts);
    return rc;
}

/* ---- list ------------------------------------------------------------------- */

typedef struct cs__list_sink_s {
    cs_kube_list_parser_t *p;
    cs_err_t err;
    size_t bytes, cap;
} cs__list_sink_t;

static int cs__list_feed(void *ctx, const char *data, size_t len)
{
    cs__list_sink_t *s = ctx;
    s->bytes += len;
    if (s->bytes > s->cap) {
        cs_err_set(&s->err, CS_ETOOBIG, "list page larger than %zu bytes", s->cap);
        return CS_ETOOBIG;
    }
    return cs_kube_list_parser_feed(s->p, data, len, &s->err);
}

int cs_kube_list(cs_kube_client_t *c, const cs_kube_resource_t *res, const char *ns, const cs_kube_list_options_t *opts,
                 const cs_kube_decoder_t *dec, cs_kube_item_fn item_fn, void *item_ctx, char **rv_out, cs_err_t *err)
{
    if (rv_out)
        *rv_out = NULL;
    int rc = cs__check(c, res, err);
    if (rc)
        return rc;
    static const cs_kube_list_options_t none = {0};
    if (!opts)
        opts = &none;
    if (!res->namespaced)
        ns = NULL;
    char base[CS__KUBE_PATH_MAX];
    if ((rc = cs_kube_path(res, ns, NULL, NULL, base, sizeof base, err)))
        return rc;
    char rname[160];
    cs__kube_res_name(res, rname, sizeof rname);
    size_t limit = opts->limit ? opts->limit : CS__KUBE_LIST_DEFAULT_LIMIT;
    char *cont = NULL;
    char *rv = NULL;
    size_t pages = 0;
    do {
        char path[CS__KUBE_PATH_MAX + 4096];
        snprintf(path, sizeof path, "%s", base);
        char lim[32];
        snprintf(lim, sizeof lim, "%zu", limit);
        bool ok = cs__kube_query_add(path, sizeof path, "limit", lim);
        if (opts->label_selector && *opts->label_selector)
            ok = ok && cs__kube_query_add(path, sizeof path, "labelSelector", opts->label_selector);
        if (opts->field_selector && *opts->field_selector)
            ok = ok && cs__kube_query_add(path, sizeof path, "fieldSelector", opts->field_selector);
        if (cont)
            ok = ok && cs__kube_query_add(path, sizeof path, "continue", cont);
        else if (opts->resource_version && *opts->resource_version)
            ok = ok && cs__kube_query_add(path, sizeof path, "resourceVersion", opts->resource_version);
        if (!ok) {
            rc = cs_err_set(err, CS_ETOOBIG, "LIST %s: selectors or continue token too long", rname);
            break;
        }
        cs__list_sink_t s = {0};
        s.cap = c->opts.max_response_bytes * 4;
        rc = cs_kube_list_parser_new(dec, item_fn, item_ctx, c->opts.max_json_depth, c->opts.max_string_bytes, &s.p);
        if (rc != 0) {
            cs_err_set(err, rc, "LIST %s: %s", rname,
                       rc == CS_EINVAL ? "decoder needs create, field and destroy" : "out of memory");
            break;
        }
        cs__kube_req_t r = {
            .verb = "LIST", .method = "GET", .res = res, .ns = ns, .path = path, .sink = cs__list_feed, .sink_ctx = &s};
        cs_http_response_t resp;
        rc = cs__kube_do(c, &r, &resp, err);
        cs_http_response_free(&resp);
        if (rc == 0)
            rc = cs_kube_list_parser_finish(s.p, &s.err);
        if (rc != 0 && s.err.code) {
            /* The parser's or the consumer's reason beats "stopped the transfer". */
            cs_err_set(err, s.err.code, "LIST %s: %s", rname, s.err.msg);
            rc = s.err.code;
        }
        if (rc == 0) {
            const char *prv = cs_kube_list_parser_resource_version(s.p);
            const char *pc = cs_kube_list_parser_continue(s.p);
            if (!rv && !(rv = cs__kube_strdup(prv)))
                rc = cs_err_set(err, CS_ENOMEM, "LIST %s: out of memory", rname);
            free(cont);
            cont = *pc ? cs__kube_strdup(pc) : NULL;
            if (*pc && !cont)
                rc = cs_err_set(err, CS_ENOMEM, "LIST %s: out of memory", rname);
        }
        cs_kube_list_parser_free(s.p);
        if (rc != 0)
            break;
        if (++pages >= CS__KUBE_LIST_MAX_PAGES) {
            rc = cs_err_set(err, CS_ETOOBIG, "LIST %s: more than %d pages", rname, CS__KUBE_LIST_MAX_PAGES);
            break;
        }
    } while (cont);
    free(cont);
    if (rc == 0 && rv_out)
        *rv_out = rv;
    else
        free(rv);
    return rc;
}
