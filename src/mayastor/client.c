/* client.c: the Mayastor REST client: request helpers that borrow pooled
 * HTTP connections and decode error replies into kinds, paginated streaming
 * of volumes, and the pool/node/nexus/rebuild calls. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/http.h"
#include "mayastor/internal.h"

/* Small documents (pools, nodes, errors) are buffered up to this. */
#define CS__MS_MAX_BUFFERED ((size_t)16 * 1024 * 1024)

struct cs_mayastor_s {
    char *url;
    long timeout_ms;
    unsigned page_size;
    size_t max_volumes;
    unsigned list_flags; /* CS_MAYASTOR_DECODE_* for volume lists */
    const atomic_int *stop;
    /* Requests come from several threads at once (the reconcile workers,
     * one thread per migration): each borrows a connection. */
    cs_http_pool_t *conns;
};

void cs_mayastor_options_default(cs_mayastor_options_t *o)
{
    memset(o, 0, sizeof *o);
    o->timeout_ms = CS_MAYASTOR_DEFAULT_TIMEOUT_MS;
    o->connect_timeout_ms = 3000;
    o->page_size = CS_MAYASTOR_DEFAULT_PAGE_SIZE;
    o->max_volumes = CS_MAYASTOR_DEFAULT_MAX_VOLUMES;
}

void cs_mayastor_free(cs_mayastor_t *ms)
{
    if (!ms)
        return;
    cs_http_pool_free(ms->conns);
    free(ms->url);
    free(ms);
}

int cs_mayastor_new(const cs_mayastor_options_t *opts, cs_mayastor_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!opts || !opts->url || !*opts->url)
        return cs_err_set(err, CS_EINVAL, "mayastor url: empty (set MAYASTOR_URL or discover the api-rest Service)");
    if (opts->page_size > 100000)
        return cs_err_set(err, CS_EINVAL, "mayastor page size: %u is above 100000", opts->page_size);
    cs_mayastor_t *ms = calloc(1, sizeof *ms);
    if (!ms)
        return cs_err_set(err, CS_ENOMEM, "mayastor client: out of memory");
    ms->url = strdup(opts->url);
    /* "http://host:8081/v0" and "http://host:8081/" both mean the base */
    if (ms->url) {
        size_t n = strlen(ms->url);
        while (n > 0 && ms->url[n - 1] == '/')
            ms->url[--n] = '\0';
        if (n >= 3 && strcmp(ms->url + n - 3, "/v0") == 0)
            ms->url[n - 3] = '\0';
    }
    ms->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : CS_MAYASTOR_DEFAULT_TIMEOUT_MS;
    ms->page_size = opts->page_size ? opts->page_size : CS_MAYASTOR_DEFAULT_PAGE_SIZE;
    ms->max_volumes = opts->max_volumes ? opts->max_volumes : CS_MAYASTOR_DEFAULT_MAX_VOLUMES;
    ms->list_flags = opts->list_child_uris ? CS_MAYASTOR_DECODE_CHILDREN | CS_MAYASTOR_DECODE_CHILD_URIS
                     : opts->list_children ? CS_MAYASTOR_DECODE_CHILDREN
                                           : 0;
    ms->stop = opts->stop;
    if (!ms->url) {
        cs_mayastor_free(ms);
        return cs_err_set(err, CS_ENOMEM, "mayastor client: out of memory");
    }
    cs_http_options_t ho = {
        .base_url = ms->url,
        .ca_file = opts->ca_file,
        .insecure_skip_verify = opts->insecure_skip_verify,
        .bearer_token = opts->bearer_token,
        .connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms : 3000,
        .timeout_ms = ms->timeout_ms,
        .max_response_bytes = CS__MS_MAX_BUFFERED,
    };
    int rc = cs_http_pool_new(&ho, CS_HTTP_POOL_DEFAULT_IDLE, &ms->conns, err);
    if (rc) {
        cs_err_prefix(err, "mayastor url: ");
        cs_mayastor_free(ms);
        return rc;
    }
    *out = ms;
    return 0;
}

const char *cs_mayastor_url(const cs_mayastor_t *ms)
{
    return ms->url;
}

static cs_err_t *cs__e(cs_mayastor_err_t *err)
{
    return err ? &err->err : NULL;
}

static void cs__reset(cs_mayastor_err_t *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

/* ---- one request ---- */

typedef struct {
    cs_mayastor_volume_decoder_t *dec;
    cs_err_t err;
    int rc;
} cs__vsink_t;

static int cs__vsink(void *ctx, const char *data, size_t len)
{
    cs__vsink_t *s = ctx;
    int rc = cs_mayastor_volume_decoder_feed(s->dec, data, len, &s->err);
    if (rc)
        s->rc = rc;
    return rc;
}

/* Performs method path; a 2xx body is streamed to vdec when given, else
 * buffered into resp. Non-2xx replies are decoded into err (CS_EMAYASTOR).
 * `what` is "GET /v0/..." for messages. */
static int cs__request(cs_mayastor_t *ms, const char *method, const char *path, cs_mayastor_volume_decoder_t *vdec,
                       cs_http_response_t *resp, cs_mayastor_err_t *err)
{
    char what[320];
    snprintf(what, sizeof what, "Mayastor %s %.280s", method, path);
    cs_http_client_t *c = NULL;
    int rc = cs_http_pool_take(ms->conns, &c, cs__e(err));
    if (rc) {
        memset(resp, 0, sizeof *resp);
        return rc;
    }
    cs__vsink_t sink = {.dec = vdec};
    cs_http_request_t req = {
        .method = method,
        .path = path,
        .sink = vdec ? cs__vsink : NULL,
        .sink_ctx = &sink,
        .stop = ms->stop,
    };
    cs_err_t herr = {0};
    rc = cs_http_do(c, &req, resp, &herr);
    cs_http_pool_give(ms->conns, c);
    if (rc) {
        if (sink.rc) {
            cs_err_set(cs__e(err), sink.rc, "%s: %s", what, sink.err.msg);
            return sink.rc;
        }
        if (err)
            err->http_status = resp->status;
        if (rc == CS_ECANCELED)
            return cs_err_set(cs__e(err), rc, "%s: canceled (shutting down)", what);
        if (rc == CS_ETOOBIG)
            return cs_err_set(cs__e(err), rc, "%s: reply larger than %zu bytes", what, CS__MS_MAX_BUFFERED);
        return cs_err_set(cs__e(err), rc,
                          "%s: Mayastor REST API at %s unreachable: %s; check "
                          "mayastor_url or the api-rest Service",
                          what, ms->url, herr.msg);
    }
    if (resp->status < 200 || resp->status > 299) {
        cs_mayastor_err_t local;
        cs_mayastor_decode_error(resp->status, resp->body, resp->body_len, what, err ? err : &local);
        return CS_EMAYASTOR;
    }
    return 0;
}

static int cs__uuid_path(char *buf, size_t len, const char *fmt, const cs_mayastor_uuid_t *id)
{
    char u[37];
    cs_mayastor_uuid_format(id, u);
    int n = snprintf(buf, len, fmt, u);
    return n > 0 && (size_t)n < len ? 0 : CS_ETOOBIG;
}

/* Decodes a buffered 2xx body with a decoder of the small documents; the
 * error names the request. */
static int cs__decoded(int rc, const char *path, cs_mayastor_err_t *err)
{
    if (rc)
        cs_err_prefix(cs__e(err), "Mayastor %s: ", path);
    return rc;
}

/* ---- volumes ---- */

static int cs__volumes_get(cs_mayastor_t *ms, const char *path, bool list, unsigned flags, cs_mayastor_volumes_t *out,
                           int64_t *next, cs_mayastor_err_t *err)
{
    cs_mayastor_volume_decoder_t *dec = NULL;
    if (cs_mayastor_volume_decoder_new_flags(out, list, flags, ms->max_volumes, &dec))
        return cs_err_set(cs__e(err), CS_ENOMEM, "Mayastor GET %s: out of memory", path);
    cs_http_response_t resp;
    int rc = cs__request(ms, "GET", path, dec, &resp, err);
    if (rc == 0) {
        cs_err_t e = {0};
        rc = cs_mayastor_volume_decoder_finish(dec, next, &e);
        if (rc)
            cs_err_set(cs__e(err), rc, "Mayastor GET %s: %s", path, e.msg);
    }
    cs_http_response_free(&resp);
    cs_mayastor_volume_decoder_free(dec);
    return rc;
}

int cs_mayastor_volumes_list(cs_mayastor_t *ms, cs_mayastor_volumes_t *out, cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    cs__reset(err);
    int64_t token = -1;
    /* Each page must advance; a server that repeats a token would loop. */
    size_t pages = 0, max_pages = ms->max_volumes / (ms->page_size ? ms->page_size : 1) + 2;
    for (;;) {
        char path[128];
        if (token < 0)
            snprintf(path, sizeof path, "/v0/volumes?max_entries=%u", ms->page_size);
        else
            snprintf(path, sizeof path, "/v0/volumes?max_entries=%u&starting_token=%" PRId64, ms->page_size, token);
        size_t before = out->count;
        int64_t next = -1;
        int rc = cs__volumes_get(ms, path, true, ms->list_flags, out, &next, err);
        if (rc)
            return rc;
        if (next < 0)
            break;
        if (out->count == before || ++pages > max_pages || next <= token)
            return cs_err_set(cs__e(err), CS_EPARSE,
                              "Mayastor GET %s: next_token %" PRId64 " does not advance the listing "
                              "(%zu volumes so far); refusing to loop",
                              path, next, out->count);
        token = next;
    }
    return cs__ms_index_volumes(out) ? cs_err_set(cs__e(err), CS_ENOMEM, "volume index: out of memory") : 0;
}

int cs_mayastor_volume_get(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id, cs_mayastor_volumes_t *out,
                           cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    cs__reset(err);
    char path[96];
    cs__uuid_path(path, sizeof path, "/v0/volumes/%s", id);
    int rc =
        cs__volumes_get(ms, path, false, CS_MAYASTOR_DECODE_CHILDREN | CS_MAYASTOR_DECODE_CHILD_URIS, out, NULL, err);
    if (rc == 0 && out->count != 1)
        rc = cs_err_set(cs__e(err), CS_EPARSE, "Mayastor GET %s: reply holds no volume", path);
    if (rc == 0)
        cs__ms_index_volumes(out);
    return rc;
}

int cs_mayastor_volume_set_replica_count(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id, unsigned n,
                                         cs_mayastor_volumes_t *out, cs_mayastor_err_t *err)
{
    cs_mayastor_volumes_t local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    cs__reset(err);
    char u[37], path[128];
    cs_mayastor_uuid_format(id, u);
    if (n < 1 || n > 255)
        return cs_err_set(cs__e(err), CS_EINVAL, "volume %s: replica count %u is outside 1..255", u, n);
    snprintf(path, sizeof path, "/v0/volumes/%s/replica_count/%u", u, n);
    cs_mayastor_volume_decoder_t *dec = NULL;
    if (cs_mayastor_volume_decoder_new(out, false, true, 1, &dec))
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    cs_http_response_t resp;
    int rc = cs__request(ms, "PUT", path, dec, &resp, err);
    if (rc == 0) {
        cs_err_t e = {0};
        rc = cs_mayastor_volume_decoder_finish(dec, NULL, &e);
        if (rc)
            cs_err_set(cs__e(err), rc, "Mayastor PUT %s: %s", path, e.msg);
    }
    cs_http_response_free(&resp);
    cs_mayastor_volume_decoder_free(dec);
    if (rc == 0)
        cs__ms_index_volumes(out);
    if (out == &local)
        cs_mayastor_volumes_free(&local);
    return rc;
}

int cs_mayastor_volume_rebuild_history(cs_mayastor_t *ms, const cs_mayastor_uuid_t *id,
                                       cs_mayastor_rebuild_history_t *out, cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    cs__reset(err);
    char path[128];
    cs__uuid_path(path, sizeof path, "/v0/volumes/%s/rebuild-history", id);
    cs_http_response_t resp;
    int rc = cs__request(ms, "GET", path, NULL, &resp, err);
    if (rc == 0)
        rc = cs__decoded(cs_mayastor_decode_rebuild_history(resp.body, resp.body_len, out, cs__e(err)), path, err);
    cs_http_response_free(&resp);
    return rc;
}

/* ---- pools ---- */

static int cs__pools_call(cs_mayastor_t *ms, const char *method, const char *path, bool list, cs_mayastor_pools_t *out,
                          cs_mayastor_err_t *err)
{
    cs_mayastor_pools_t local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    cs__reset(err);
    cs_http_response_t resp;
    int rc = cs__request(ms, method, path, NULL, &resp, err);
    /* a label DELETE may answer 204 without a body */
    if (rc == 0 && resp.body_len > 0)
        rc = cs__decoded(cs_mayastor_decode_pools(resp.body, resp.body_len, list, out, cs__e(err)), path, err);
    cs_http_response_free(&resp);
    if (out == &local)
        cs_mayastor_pools_free(&local);
    return rc;
}

int cs_mayastor_pools_list(cs_mayastor_t *ms, const cs_mayastor_uuid_t *volume, cs_mayastor_pools_t *out,
                           cs_mayastor_err_t *err)
{
    char path[96] = "/v0/pools";
    if (volume)
        cs__uuid_path(path, sizeof path, "/v0/pools?volume_id=%s", volume);
    return cs__pools_call(ms, "GET", path, true, out, err);
}

/* "/v0/pools/<escaped id><suffix>" */
static int cs__pool_path(const char *id, const char *suffix, char **out)
{
    *out = NULL;
    char *eid = cs_http_escape(id);
    if (!eid)
        return CS_ENOMEM;
    size_t n = strlen(eid) + strlen(suffix) + 16;
    *out = malloc(n);
    if (*out)
        snprintf(*out, n, "/v0/pools/%s%s", eid, suffix);
    free(eid);
    return *out ? 0 : CS_ENOMEM;
}

int cs_mayastor_pool_get(cs_mayastor_t *ms, const char *id, cs_mayastor_pools_t *out, cs_mayastor_err_t *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    cs__reset(err);
    if (!id || !*id)
        return cs_err_set(cs__e(err), CS_EINVAL, "pool get: empty pool id");
    char *path = NULL;
    if (cs__pool_path(id, "", &path))
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    int rc = cs__pools_call(ms, "GET", path, false, out, err);
    free(path);
    return rc;
}

int cs_mayastor_pool_label_put(cs_mayastor_t *ms, const char *id, const char *key, const char *value, bool overwrite,
                               cs_mayastor_pools_t *out, cs_mayastor_err_t *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    cs__reset(err);
    if (!id || !*id || !key || !*key || !value)
        return cs_err_set(cs__e(err), CS_EINVAL, "pool label put: pool id, key and value are required");
    char *ek = cs_http_escape(key), *ev = cs_http_escape(value), *path = NULL;
    int rc = CS_ENOMEM;
    if (ek && ev) {
        size_t n = strlen(ek) + strlen(ev) + 32;
        char *suffix = malloc(n);
        if (suffix) {
            snprintf(suffix, n, "/label/%s=%s%s", ek, ev, overwrite ? "?overwrite=true" : "");
            rc = cs__pool_path(id, suffix, &path);
            free(suffix);
        }
    }
    free(ek);
    free(ev);
    if (rc)
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    rc = cs__pools_call(ms, "PUT", path, false, out, err);
    free(path);
    return rc;
}

int cs_mayastor_pool_label_delete(cs_mayastor_t *ms, const char *id, const char *key, cs_mayastor_pools_t *out,
                                  cs_mayastor_err_t *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    cs__reset(err);
    if (!id || !*id || !key || !*key)
        return cs_err_set(cs__e(err), CS_EINVAL, "pool label delete: pool id and key are required");
    char *ek = cs_http_escape(key), *path = NULL;
    int rc = CS_ENOMEM;
    if (ek) {
        size_t n = strlen(ek) + 16;
        char *suffix = malloc(n);
        if (suffix) {
            snprintf(suffix, n, "/label/%s", ek);
            rc = cs__pool_path(id, suffix, &path);
            free(suffix);
        }
    }
    free(ek);
    if (rc)
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    rc = cs__pools_call(ms, "DELETE", path, false, out, err);
    free(path);
    return rc;
}

/* ---- capabilities ---- */

int cs_mayastor_capabilities(cs_mayastor_t *ms, cs_mayastor_caps_t *out, cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    cs_mayastor_err_t local = {0};
    if (!err)
        err = &local;
    /* A DELETE of a key nobody sets on a pool that cannot exist: where the
     * route exists the control plane looks the pool up and answers NotFound
     * (412 should such a pool exist: the key is absent), changing nothing. */
    int rc = cs_mayastor_pool_label_delete(ms, CS_MAYASTOR_PROBE_POOL, CS_MAYASTOR_PROBE_LABEL, NULL, err);
    if (rc == 0) {
        /* 2xx: routed (a pool of that id held the key; nothing else answers
         * 204 to this path) */
        out->pool_labels = true;
        out->probe_status = 204;
        return 0;
    }
    if (rc != CS_EMAYASTOR)
        return rc; /* no answer: unknown */
    bool mayastor_body = err->kind_text[0] != '\0';
    if (mayastor_body && (err->http_status == 404 || err->http_status == 412 || err->http_status == 400)) {
        out->pool_labels = true;
        out->probe_status = err->http_status;
        cs__reset(err);
        return 0;
    }
    if (!mayastor_body && err->http_status == 404) {
        /* actix-web's own answer for a path no route serves: a control
         * plane older than 2.7.1 */
        out->probe_status = err->http_status;
        cs__reset(err);
        return 0;
    }
    cs_err_prefix(&err->err, "Mayastor capability probe (pool-label endpoints): ");
    return rc;
}

/* ---- nodes ---- */

static int cs__nodes_call(cs_mayastor_t *ms, const char *path, bool list, cs_mayastor_nodes_t *out,
                          cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    cs__reset(err);
    cs_http_response_t resp;
    int rc = cs__request(ms, "GET", path, NULL, &resp, err);
    if (rc == 0)
        rc = cs__decoded(cs_mayastor_decode_nodes(resp.body, resp.body_len, list, out, cs__e(err)), path, err);
    cs_http_response_free(&resp);
    return rc;
}

int cs_mayastor_nodes_list(cs_mayastor_t *ms, cs_mayastor_nodes_t *out, cs_mayastor_err_t *err)
{
    return cs__nodes_call(ms, "/v0/nodes", true, out, err);
}

int cs_mayastor_node_get(cs_mayastor_t *ms, const char *id, cs_mayastor_nodes_t *out, cs_mayastor_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!id || !*id)
        return cs_err_set(cs__e(err), CS_EINVAL, "node get: empty node id");
    char *eid = cs_http_escape(id);
    if (!eid)
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    size_t n = strlen(eid) + 16;
    char *path = malloc(n);
    int rc = CS_ENOMEM;
    if (path) {
        snprintf(path, n, "/v0/nodes/%s", eid);
        rc = cs__nodes_call(ms, path, false, out, err);
    } else {
        cs_err_set(cs__e(err), rc, "out of memory");
    }
    free(eid);
    free(path);
    return rc;
}

/* ---- nexus children ---- */

static int cs__child_path(const cs_mayastor_uuid_t *nexus, const char *uri, char **out)
{
    char u[37];
    cs_mayastor_uuid_format(nexus, u);
    char *eu = uri ? cs_http_escape(uri) : NULL;
    if (uri && !eu)
        return CS_ENOMEM;
    size_t n = (eu ? strlen(eu) : 0) + 80;
    *out = malloc(n);
    if (*out) {
        if (eu)
            snprintf(*out, n, "/v0/nexuses/%s/children/%s", u, eu);
        else
            snprintf(*out, n, "/v0/nexuses/%s/children", u);
    }
    free(eu);
    return *out ? 0 : CS_ENOMEM;
}

static int cs__children_call(cs_mayastor_t *ms, const char *method, const cs_mayastor_uuid_t *nexus, const char *uri,
                             bool list, cs_mayastor_children_t *out, cs_mayastor_err_t *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    cs__reset(err);
    char *path = NULL;
    if (cs__child_path(nexus, uri, &path))
        return cs_err_set(cs__e(err), CS_ENOMEM, "out of memory");
    cs_http_response_t resp;
    int rc = cs__request(ms, method, path, NULL, &resp, err);
    if (rc == 0 && out) {
        rc = cs__decoded(cs_mayastor_decode_children(resp.body, resp.body_len, list, out, cs__e(err)), path, err);
    }
    cs_http_response_free(&resp);
    free(path);
    return rc;
}

int cs_mayastor_nexus_children(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, cs_mayastor_children_t *out,
                               cs_mayastor_err_t *err)
{
    return cs__children_call(ms, "GET", nexus, NULL, true, out, err);
}

int cs_mayastor_nexus_child_get(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, const char *child_uri,
                                cs_mayastor_children_t *out, cs_mayastor_err_t *err)
{
    if (!child_uri || !*child_uri) {
        memset(out, 0, sizeof *out);
        cs__reset(err);
        return cs_err_set(cs__e(err), CS_EINVAL, "nexus child get: empty child URI");
    }
    return cs__children_call(ms, "GET", nexus, child_uri, false, out, err);
}

int cs_mayastor_nexus_child_delete(cs_mayastor_t *ms, const cs_mayastor_uuid_t *nexus, const char *child_uri,
                                   cs_mayastor_err_t *err)
{
    if (!child_uri || !*child_uri) {
        cs__reset(err);
        return cs_err_set(cs__e(err), CS_EINVAL, "nexus child delete: empty child URI");
    }
    return cs__children_call(ms, "DELETE", nexus, child_uri, false, NULL, err);
}
