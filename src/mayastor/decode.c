/* decode.c: decoders of the small Mayastor documents (pools, nodes, nexus
 * children, rebuild history, RestJsonError) via jansson with path-aware
 * messages; results go into compact structs backed by a store. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "couchestor/json.h"
#include "mayastor/internal.h"

/* Small documents only: the HTTP layer caps the body; this caps the work. */
#define CS__SMALL_MAX ((size_t)32 * 1024 * 1024)

static int cs__parse(const char *body, size_t len, const char *what, json_t **out, cs_err_t *err)
{
    if (len > CS__SMALL_MAX)
        return cs_err_set(err, CS_ETOOBIG, "%s: %zu bytes exceed the limit of %zu", what, len, CS__SMALL_MAX);
    return cs_json_parse(body ? body : "", body ? len : 0, what, out, err);
}

/* Optional string field interned into the store; 0 or error. */
static int cs__istr(cs__mayastor_store_t *s, const json_t *o, const char *path, const char *key, const char **out,
                    cs_err_t *err)
{
    const char *v = NULL;
    int rc = cs_json_get_string(o, path, key, CS_JSON_OPTIONAL, &v, err);
    if (rc < 0)
        return rc;
    if (rc == 0 && !(*out = cs__ms_intern(s, v, strlen(v))))
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory", path);
    return 0;
}

static int cs__dstr(cs__mayastor_store_t *s, const json_t *o, const char *path, const char *key, const char **out,
                    cs_err_t *err)
{
    const char *v = NULL;
    int rc = cs_json_get_string(o, path, key, CS_JSON_OPTIONAL, &v, err);
    if (rc < 0)
        return rc;
    if (rc == 0 && !(*out = cs__ms_strdup(s, v, strlen(v))))
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory", path);
    return 0;
}

/* Optional enum from a string field. */
#define CS__ENUM_FIELD(o, path, key, parse, dst)                               \
    do {                                                                       \
        const char *t_ = NULL;                                                 \
        int r_ = cs_json_get_string(o, path, key, CS_JSON_OPTIONAL, &t_, err); \
        if (r_ < 0)                                                            \
            return r_;                                                         \
        if (r_ == 0)                                                           \
            (dst) = parse(t_, strlen(t_));                                     \
    } while (0)

static int cs__u64(const json_t *o, const char *path, const char *key, uint64_t *out, bool *present, cs_err_t *err)
{
    int64_t v = 0;
    int rc = cs_json_get_int_range(o, path, key, CS_JSON_OPTIONAL, 0, INT64_MAX, &v, err);
    if (rc < 0)
        return rc;
    if (rc == 0)
        *out = (uint64_t)v;
    if (present)
        *present = rc == 0;
    return 0;
}

static int cs__labels(cs__mayastor_store_t *s, const json_t *o, const char *path, const char *key,
                      cs_mayastor_label_t **out, uint16_t *count, cs_err_t *err)
{
    const json_t *m = NULL;
    char full[256];
    cs_json_path_join(full, sizeof full, path, key);
    int rc = cs_json_get_object(o, path, key, CS_JSON_OPTIONAL, &m, err);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    size_t n = json_object_size(m);
    if (n > CS__MS_MAX_LABELS)
        return cs_err_set(err, CS_ETOOBIG, "%s: more than %d labels", full, CS__MS_MAX_LABELS);
    if (n == 0)
        return 0;
    cs_mayastor_label_t *l = cs__ms_alloc(s, n * sizeof *l);
    if (!l)
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory", full);
    size_t i = 0;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)m, k, v)
    {
        if (!json_is_string(v))
            return cs_err_set(err, CS_EPARSE, "%s.%s: expected string, got %s", full, k, cs_json_type_name(v));
        l[i].key = cs__ms_intern(s, k, strlen(k));
        l[i].value = cs__ms_intern(s, json_string_value(v), json_string_length(v));
        if (!l[i].key || !l[i].value)
            return cs_err_set(err, CS_ENOMEM, "%s: out of memory", full);
        i++;
    }
    *out = l;
    *count = (uint16_t)n;
    return 0;
}

/* Runs fn on every element of a list body, or on the one object. */
typedef int (*cs__item_fn)(void *ctx, cs__mayastor_store_t *s, const json_t *o, const char *path, cs_err_t *err);

static int cs__each(const char *body, size_t len, bool list, const char *what, void *ctx, cs__mayastor_store_t **store,
                    cs__item_fn fn, cs_err_t *err)
{
    json_t *root = NULL;
    int rc = cs__parse(body, len, what, &root, err);
    if (rc)
        return rc;
    if (cs__ms_ensure_store(store)) {
        json_decref(root);
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory", what);
    }
    if (list) {
        if (!json_is_array(root)) {
            rc = cs_err_set(err, CS_EPARSE, "%s: expected an array, got %s", what, cs_json_type_name(root));
        } else {
            for (size_t i = 0; i < json_array_size(root) && rc == 0; i++) {
                char path[64];
                snprintf(path, sizeof path, "[%zu]", i);
                rc = fn(ctx, *store, json_array_get(root, i), path, err);
            }
        }
    } else {
        rc = fn(ctx, *store, root, "", err);
    }
    json_decref(root);
    return rc;
}

static int cs__want_object(const json_t *o, const char *path, const char *what, cs_err_t *err)
{
    if (json_is_object(o))
        return 0;
    return cs_err_set(err, CS_EPARSE, "%s%s: expected a %s object, got %s", *path ? path : "", *path ? "" : "reply",
                      what, cs_json_type_name(o));
}

/* ---- pools ---- */

static int cs__pool(void *ctx, cs__mayastor_store_t *s, const json_t *o, const char *path, cs_err_t *err)
{
    cs_mayastor_pools_t *out = ctx;
    int rc = cs__want_object(o, path, "Pool", err);
    if (rc)
        return rc;
    cs_mayastor_pool_t p = {0};
    char sp[96], st[96];
    cs_json_path_join(sp, sizeof sp, path, "spec");
    cs_json_path_join(st, sizeof st, path, "state");
    const char *id = NULL;
    if ((rc = cs_json_get_string(o, path, "id", CS_JSON_REQUIRED, &id, err)) < 0)
        return rc;
    if (!(p.id = cs__ms_intern(s, id, strlen(id))))
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    const json_t *spec = NULL, *state = NULL;
    if ((rc = cs_json_get_object(o, path, "spec", CS_JSON_OPTIONAL, &spec, err)) < 0)
        return rc;
    p.has_spec = rc == 0;
    if ((rc = cs_json_get_object(o, path, "state", CS_JSON_OPTIONAL, &state, err)) < 0)
        return rc;
    p.has_state = rc == 0;
    const json_t *disks = NULL;
    if (spec) {
        if ((rc = cs__istr(s, spec, sp, "node", &p.node, err)) ||
            (rc = cs__labels(s, spec, sp, "labels", &p.labels, &p.label_count, err)))
            return rc;
        CS__ENUM_FIELD(spec, sp, "status", cs__ms_spec_status, p.spec_status);
        if ((rc = cs_json_get_array(spec, sp, "disks", CS_JSON_OPTIONAL, &disks, err)) < 0)
            return rc;
    }
    if (state) {
        if (!p.node && (rc = cs__istr(s, state, st, "node", &p.node, err)))
            return rc;
        CS__ENUM_FIELD(state, st, "status", cs__ms_state, p.status);
        if ((rc = cs__u64(state, st, "capacity", &p.capacity, NULL, err)) ||
            (rc = cs__u64(state, st, "used", &p.used, NULL, err)) ||
            (rc = cs__u64(state, st, "committed", &p.committed, &p.has_committed, err)))
            return rc;
        if (!disks && (rc = cs_json_get_array(state, st, "disks", CS_JSON_OPTIONAL, &disks, err)) < 0)
            return rc;
    }
    if (disks && json_array_size(disks) > 0) {
        size_t n = json_array_size(disks);
        if (n > CS__MS_MAX_DISKS)
            return cs_err_set(err, CS_ETOOBIG, "%s: more than %d disks", sp, CS__MS_MAX_DISKS);
        p.disks = cs__ms_alloc(s, n * sizeof *p.disks);
        if (!p.disks)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            const json_t *d = json_array_get(disks, i);
            if (!json_is_string(d))
                return cs_err_set(err, CS_EPARSE, "%s.disks[%zu]: expected string, got %s", spec ? sp : st, i,
                                  cs_json_type_name(d));
            if (!(p.disks[i] = cs__ms_strdup(s, json_string_value(d), json_string_length(d))))
                return cs_err_set(err, CS_ENOMEM, "out of memory");
        }
        p.disk_count = (uint16_t)n;
    }
    cs_mayastor_pool_t *slot = cs__ms_grow((void **)&out->items, &out->count, &out->cap, sizeof *slot);
    if (!slot)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    *slot = p;
    return 0;
}

int cs_mayastor_decode_pools(const char *body, size_t len, bool list, cs_mayastor_pools_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    return cs__each(body, len, list, list ? "pool list" : "pool", out, &out->store, cs__pool, err);
}

/* ---- nodes ---- */

static int cs__node(void *ctx, cs__mayastor_store_t *s, const json_t *o, const char *path, cs_err_t *err)
{
    cs_mayastor_nodes_t *out = ctx;
    int rc = cs__want_object(o, path, "Node", err);
    if (rc)
        return rc;
    cs_mayastor_node_t n = {0};
    char sp[96], st[96];
    cs_json_path_join(sp, sizeof sp, path, "spec");
    cs_json_path_join(st, sizeof st, path, "state");
    const char *id = NULL;
    if ((rc = cs_json_get_string(o, path, "id", CS_JSON_REQUIRED, &id, err)) < 0)
        return rc;
    if (!(n.id = cs__ms_intern(s, id, strlen(id))))
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    const json_t *spec = NULL, *state = NULL, *cds = NULL;
    if ((rc = cs_json_get_object(o, path, "spec", CS_JSON_OPTIONAL, &spec, err)) < 0 ||
        (rc = cs_json_get_object(o, path, "state", CS_JSON_OPTIONAL, &state, err)) < 0)
        return rc;
    if (spec) {
        if ((rc = cs__dstr(s, spec, sp, "grpcEndpoint", &n.grpc_endpoint, err)) ||
            (rc = cs__labels(s, spec, sp, "labels", &n.labels, &n.label_count, err)))
            return rc;
        if ((rc = cs_json_get_object(spec, sp, "cordondrainstate", CS_JSON_OPTIONAL, &cds, err)) < 0)
            return rc;
        if (cds) {
            const json_t *x;
            n.cordoned = true;
            n.draining = ((x = json_object_get(cds, "drainingstate")) && !json_is_null(x)) ||
                         ((x = json_object_get(cds, "drainedstate")) && !json_is_null(x));
        }
    }
    if (state) {
        if (!n.grpc_endpoint && (rc = cs__dstr(s, state, st, "grpcEndpoint", &n.grpc_endpoint, err)))
            return rc;
        CS__ENUM_FIELD(state, st, "status", cs__ms_node_status, n.status);
    }
    cs_mayastor_node_t *slot = cs__ms_grow((void **)&out->items, &out->count, &out->cap, sizeof *slot);
    if (!slot)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    *slot = n;
    return 0;
}

int cs_mayastor_decode_nodes(const char *body, size_t len, bool list, cs_mayastor_nodes_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    return cs__each(body, len, list, list ? "node list" : "node", out, &out->store, cs__node, err);
}

/* ---- nexus children ---- */

static int cs__child(void *ctx, cs__mayastor_store_t *s, const json_t *o, const char *path, cs_err_t *err)
{
    cs_mayastor_children_t *out = ctx;
    int rc = cs__want_object(o, path, "Child", err);
    if (rc)
        return rc;
    cs_mayastor_child_t c = {.rebuild_progress = -1};
    const char *uri = NULL;
    if ((rc = cs_json_get_string(o, path, "uri", CS_JSON_REQUIRED, &uri, err)) < 0)
        return rc;
    size_t ulen = strlen(uri);
    if (!(c.uri = cs__ms_strdup(s, uri, ulen)))
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    cs__ms_uri_uuid(uri, ulen, &c.replica);
    CS__ENUM_FIELD(o, path, "state", cs__ms_child_state, c.state);
    CS__ENUM_FIELD(o, path, "state_reason", cs__ms_child_reason, c.state_reason);
    int64_t p = 0;
    if ((rc = cs_json_get_int_range(o, path, "rebuildProgress", CS_JSON_OPTIONAL, 0, 100, &p, err)) < 0)
        return rc;
    if (rc == 0)
        c.rebuild_progress = (int8_t)p;
    cs_mayastor_child_t *slot = cs__ms_grow((void **)&out->items, &out->count, &out->cap, sizeof *slot);
    if (!slot)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    *slot = c;
    return 0;
}

int cs_mayastor_decode_children(const char *body, size_t len, bool list, cs_mayastor_children_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    return cs__each(body, len, list, list ? "nexus children" : "nexus child", out, &out->store, cs__child, err);
}

/* ---- rebuild history ---- */

int cs_mayastor_decode_rebuild_history(const char *body, size_t len, cs_mayastor_rebuild_history_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *root = NULL;
    int rc = cs__parse(body, len, "rebuild history", &root, err);
    if (rc)
        return rc;
    const json_t *records = NULL;
    const char *target = NULL;
    if ((rc = cs__want_object(root, "", "RebuildHistory", err)) ||
        (rc = cs_json_get_string(root, "", "targetUuid", CS_JSON_REQUIRED, &target, err)) < 0 ||
        (rc = cs_json_get_array(root, "", "records", CS_JSON_REQUIRED, &records, err)) < 0)
        goto out;
    if (cs_mayastor_uuid_parse(target, strlen(target), &out->target) != 0) {
        rc = cs_err_set(err, CS_EPARSE, "targetUuid: \"%.64s\" is not a uuid", target);
        goto out;
    }
    size_t n = json_array_size(records);
    if (n > 100000) {
        rc = cs_err_set(err, CS_ETOOBIG, "records: more than 100000 entries");
        goto out;
    }
    if (cs__ms_ensure_store(&out->store) ||
        (n && !(out->records = cs__ms_alloc(out->store, n * sizeof *out->records)))) {
        rc = cs_err_set(err, CS_ENOMEM, "rebuild history: out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *r = json_array_get(records, i);
        char path[48];
        snprintf(path, sizeof path, "records[%zu]", i);
        cs_mayastor_rebuild_record_t *rec = &out->records[i];
        memset(rec, 0, sizeof *rec);
        if ((rc = cs__want_object(r, path, "RebuildRecord", err)) ||
            (rc = cs__dstr(out->store, r, path, "childUri", &rec->child_uri, err)) ||
            (rc = cs__dstr(out->store, r, path, "srcUri", &rec->src_uri, err)) ||
            (rc = cs__dstr(out->store, r, path, "startTime", &rec->start_time, err)) ||
            (rc = cs__dstr(out->store, r, path, "endTime", &rec->end_time, err)) ||
            (rc = cs__u64(r, path, "blocksTotal", &rec->blocks_total, NULL, err)) ||
            (rc = cs__u64(r, path, "blocksRecovered", &rec->blocks_recovered, NULL, err)) ||
            (rc = cs__u64(r, path, "blocksTransferred", &rec->blocks_transferred, NULL, err)) ||
            (rc = cs__u64(r, path, "blocksRemaining", &rec->blocks_remaining, NULL, err)) ||
            (rc = cs__u64(r, path, "blockSize", &rec->block_size, NULL, err)))
            goto out;
        const char *t = NULL;
        if ((rc = cs_json_get_string(r, path, "rebuildJobState", CS_JSON_OPTIONAL, &t, err)) < 0)
            goto out;
        if (rc == 0)
            rec->state = cs__ms_rebuild_state(t, strlen(t));
        if ((rc = cs_json_get_bool(r, path, "isPartial", CS_JSON_OPTIONAL, &rec->is_partial, err)) < 0)
            goto out;
        rc = 0;
        out->count++;
    }
out:
    json_decref(root);
    return rc < 0 ? rc : 0;
}

/* ---- errors ---- */

static void cs__copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

int cs_mayastor_decode_error(long http_status, const char *body, size_t len, const char *what, cs_mayastor_err_t *out)
{
    cs_mayastor_err_t local;
    if (!out)
        out = &local;
    memset(out, 0, sizeof *out);
    out->http_status = http_status;
    if (!what)
        what = "Mayastor request";
    json_t *root = NULL;
    cs_err_t perr = {0};
    const char *kind = NULL, *details = NULL, *message = NULL;
    if (body && len > 0 && len <= (size_t)1024 * 1024 && cs_json_parse(body, len, "error", &root, &perr) == 0 &&
        json_is_object(root) && cs_json_get_string(root, "", "kind", CS_JSON_REQUIRED, &kind, &perr) == 0) {
        cs_json_get_string(root, "", "details", CS_JSON_OPTIONAL, &details, &perr);
        cs_json_get_string(root, "", "message", CS_JSON_OPTIONAL, &message, &perr);
        out->kind = cs__ms_kind(kind, strlen(kind));
        cs__copy(out->kind_text, sizeof out->kind_text, kind);
        cs__copy(out->details, sizeof out->details, details);
        cs__copy(out->message, sizeof out->message, message);
        /* details is the specific one ("The Pool 'p' was not found");
         * message is often generic: show both when they differ */
        if (details && message && *details && strcmp(details, message) != 0)
            cs_err_set(&out->err, CS_EMAYASTOR, "%s: HTTP %ld %s: %s (%s)", what, http_status, out->kind_text, message,
                       details);
        else
            cs_err_set(&out->err, CS_EMAYASTOR, "%s: HTTP %ld %s: %s", what, http_status, out->kind_text,
                       details && *details ? details
                       : message           ? message
                                           : "");
    } else {
        out->kind = CS_MAYASTOR_KIND_OTHER;
        /* not a RestJsonError (a proxy, a wrong URL): show what came back */
        char snip[160];
        size_t o = 0;
        for (size_t i = 0; body && i < len && o + 4 < sizeof snip; i++) {
            unsigned char c = (unsigned char)body[i];
            snip[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
        }
        while (o > 0 && snip[o - 1] == ' ')
            o--;
        snip[o] = '\0';
        cs__copy(out->message, sizeof out->message, snip);
        cs_err_set(&out->err, CS_EMAYASTOR, "%s: HTTP %ld, not a Mayastor error reply: %s", what, http_status,
                   *snip ? snip : "(empty body)");
    }
    json_decref(root);
    return CS_EMAYASTOR;
}
