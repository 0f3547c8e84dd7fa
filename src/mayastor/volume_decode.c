/* volume_decode.c: streaming decoder of Mayastor Volume objects (a page of
 * GET /v0/volumes, or one Volume) straight into compact structs: no JSON
 * tree, uuids as 16 bytes, node/pool/label strings interned. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/jstream.h"
#include "mayastor/internal.h"

/* A Volume nests 7 levels below its own depth (inclusion labels); a list
 * adds 2. */
#define CS__VOL_MAX_DEPTH 24

struct cs_mayastor_volume_decoder_s {
    cs_jstream_t *js;
    cs_mayastor_volumes_t *out;
    bool list, keep_children, keep_uris;
    size_t max_volumes;
    int64_t next_token;
    bool top_seen, has_entries;

    bool in_vol;
    size_t vol_index; /* position in entries, for messages */
    cs_mayastor_volume_t v;
    bool has_spec_uuid, has_state_uuid;
    cs_mayastor_uuid_t state_uuid;
    bool in_rep, in_child;

    cs_mayastor_label_t *incl;
    size_t incl_n, incl_cap;
    cs_mayastor_replica_t *reps;
    size_t reps_n, reps_cap;
    cs_mayastor_child_t *kids;
    size_t kids_n, kids_cap;

    uint8_t ctx[CS__VOL_MAX_DEPTH + 1]; /* cs__ctx_t of the container open at each depth */
};

static const char *cs__kind(cs_jstream_kind_t k)
{
    switch (k) {
    case CS_JS_NULL:
        return "null";
    case CS_JS_BOOL:
        return "boolean";
    case CS_JS_INT:
        return "integer";
    case CS_JS_NUMBER:
        return "number";
    case CS_JS_STRING:
        return "string";
    case CS_JS_MAP_START:
    case CS_JS_MAP_END:
        return "object";
    case CS_JS_ARRAY_START:
    case CS_JS_ARRAY_END:
        return "array";
    }
    return "value";
}

static int cs__fail(cs_mayastor_volume_decoder_t *d, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cs__fail(cs_mayastor_volume_decoder_t *d, int code, const char *fmt, ...)
{
    char msg[CS_ERR_MSG_MAX - 32];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->list)
        cs_jstream_fail(d->js, code, "entries[%zu].%s", d->vol_index, msg);
    else
        cs_jstream_fail(d->js, code, "volume.%s", msg);
    return code;
}

static int cs__type(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, const char *path, const char *want)
{
    return cs__fail(d, CS_EPARSE, "%s: expected %s, got %s", path, want, cs__kind(ev->kind));
}

/* 1 = string present, 0 = null (absent), <0 = error */
static int cs__str(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, const char *path)
{
    if (ev->kind == CS_JS_STRING)
        return 1;
    if (ev->kind == CS_JS_NULL)
        return 0;
    return cs__type(d, ev, path, "a string");
}

static int cs__int(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, const char *path, int64_t min,
                   int64_t max, int64_t *out)
{
    if (ev->kind == CS_JS_NULL)
        return 0;
    if (ev->kind != CS_JS_INT)
        return cs__type(d, ev, path, "an integer");
    if (ev->i < min || ev->i > max)
        return cs__fail(d, CS_EPARSE, "%s: %lld is out of range [%lld, %lld]", path, (long long)ev->i, (long long)min,
                        (long long)max);
    *out = ev->i;
    return 1;
}

static int cs__bool(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, const char *path, bool *out)
{
    if (ev->kind == CS_JS_NULL)
        return 0;
    if (ev->kind != CS_JS_BOOL)
        return cs__type(d, ev, path, "a boolean");
    *out = ev->b;
    return 1;
}

static int cs__uuid(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, const char *path,
                    cs_mayastor_uuid_t *out)
{
    int rc = cs__str(d, ev, path);
    if (rc <= 0)
        return rc;
    if (cs_mayastor_uuid_parse(ev->text, ev->text_len, out) != 0)
        return cs__fail(d, CS_EPARSE, "%s: \"%.*s\" is not a uuid", path, (int)(ev->text_len < 64 ? ev->text_len : 64),
                        ev->text);
    return 1;
}

static const char *cs__interned(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev)
{
    const char *s = cs__ms_intern(d->out->store, ev->text, ev->text_len);
    if (!s)
        cs__fail(d, CS_ENOMEM, "out of memory");
    return s;
}

static void cs__begin_volume(cs_mayastor_volume_decoder_t *d)
{
    d->in_vol = true;
    memset(&d->v, 0, sizeof d->v);
    d->has_spec_uuid = d->has_state_uuid = false;
    d->in_rep = d->in_child = false;
    d->incl_n = d->reps_n = d->kids_n = 0;
}

static int cs__end_volume(cs_mayastor_volume_decoder_t *d)
{
    d->in_vol = false;
    cs_mayastor_volume_t *v = &d->v;
    if (!d->has_spec_uuid) {
        if (!d->has_state_uuid)
            return cs__fail(d, CS_EPARSE, "spec.uuid: required field is missing");
        v->uuid = d->state_uuid;
    }
    cs_mayastor_volumes_t *out = d->out;
    if (out->count >= d->max_volumes)
        return cs__fail(d, CS_ETOOBIG, "more than %zu volumes (the limit)", d->max_volumes);
    int rc = 0;
    cs__mayastor_store_t *s = out->store;
    v->inclusion = cs__ms_label_set(s, d->incl, d->incl_n, &rc);
    v->inclusion_count = (uint16_t)d->incl_n;
    v->replicas = cs__ms_copy(s, d->reps, d->reps_n, sizeof *d->reps, &rc);
    v->replica_count = (uint16_t)d->reps_n;
    v->target.children = cs__ms_copy(s, d->kids, d->kids_n, sizeof *d->kids, &rc);
    v->target.child_count = (uint16_t)d->kids_n;
    cs_mayastor_volume_t *slot =
        rc ? NULL : cs__ms_grow((void **)&out->items, &out->count, &out->cap, sizeof *out->items);
    if (!slot)
        return cs__fail(d, CS_ENOMEM, "out of memory");
    *slot = *v;
    d->vol_index++;
    return 0;
}

/* Grows a scratch array by one zeroed element. */
static void *cs__push(cs_mayastor_volume_decoder_t *d, void **arr, size_t *n, size_t *cap, size_t sz, size_t max,
                      const char *what)
{
    if (*n >= max) {
        cs__fail(d, CS_ETOOBIG, "%s: more than %zu entries", what, max);
        return NULL;
    }
    void *p = cs__ms_grow(arr, n, cap, sz);
    if (!p)
        cs__fail(d, CS_ENOMEM, "out of memory");
    return p;
}

/* ---- dispatch: every key is classified once, every container gets a
 * context when it opens, so an event is a switch, not a path compare ---- */

typedef enum {
    K_OTHER = 0,
    K_UUID,
    K_SIZE,
    K_NUM_REPLICAS,
    K_STATUS,
    K_THIN,
    K_AFFINITY_GROUP,
    K_POLICY,
    K_TARGET,
    K_TOPOLOGY,
    K_OPERATION,
    K_SELF_HEAL,
    K_NODE,
    K_PROTOCOL,
    K_POOL_TOPOLOGY,
    K_LABELLED,
    K_INCLUSION,
    K_STATE,
    K_REPLICA_TOPOLOGY,
    K_CHILDREN,
    K_REBUILDS,
    K_URI,
    K_STATE_REASON,
    K_REBUILD_PROGRESS_CAMEL,
    K_POOL,
    K_CHILD_STATUS,
    K_CHILD_STATUS_REASON,
    K_REBUILD_PROGRESS,
    K_SPEC,
    K_ENTRIES,
    K_NEXT_TOKEN,
} cs__key_t;

#define KEQ(lit) (len == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

static cs__key_t cs__key(const char *k, size_t len)
{
    if (!k)
        return K_OTHER;
    switch (len) {
    case 4:
        return KEQ("uuid")   ? K_UUID
               : KEQ("size") ? K_SIZE
               : KEQ("thin") ? K_THIN
               : KEQ("node") ? K_NODE
               : KEQ("spec") ? K_SPEC
               : KEQ("pool") ? K_POOL
               : KEQ("uri")  ? K_URI
                             : K_OTHER;
    case 3:
        return KEQ("uri") ? K_URI : K_OTHER;
    case 5:
        return KEQ("state") ? K_STATE : K_OTHER;
    case 6:
        return KEQ("status") ? K_STATUS : KEQ("policy") ? K_POLICY : KEQ("target") ? K_TARGET : K_OTHER;
    case 7:
        return KEQ("entries") ? K_ENTRIES : K_OTHER;
    case 8:
        return KEQ("topology")   ? K_TOPOLOGY
               : KEQ("protocol") ? K_PROTOCOL
               : KEQ("labelled") ? K_LABELLED
               : KEQ("children") ? K_CHILDREN
               : KEQ("rebuilds") ? K_REBUILDS
                                 : K_OTHER;
    case 9:
        return KEQ("operation")   ? K_OPERATION
               : KEQ("self_heal") ? K_SELF_HEAL
               : KEQ("inclusion") ? K_INCLUSION
                                  : K_OTHER;
    case 10:
        return KEQ("next_token") ? K_NEXT_TOKEN : K_OTHER;
    case 12:
        return KEQ("num_replicas")   ? K_NUM_REPLICAS
               : KEQ("state_reason") ? K_STATE_REASON
               : KEQ("child-status") ? K_CHILD_STATUS
                                     : K_OTHER;
    case 13:
        return KEQ("pool_topology") ? K_POOL_TOPOLOGY : K_OTHER;
    case 14:
        return KEQ("affinity_group") ? K_AFFINITY_GROUP : K_OTHER;
    case 15:
        return KEQ("rebuildProgress") ? K_REBUILD_PROGRESS_CAMEL : K_OTHER;
    case 16:
        return KEQ("replica_topology") ? K_REPLICA_TOPOLOGY : KEQ("rebuild-progress") ? K_REBUILD_PROGRESS : K_OTHER;
    case 19:
        return KEQ("child-status-reason") ? K_CHILD_STATUS_REASON : K_OTHER;
    }
    return K_OTHER;
}
#undef KEQ

/* What the container opened at a depth is. */
typedef enum {
    C_SKIP = 0,
    C_TOP,
    C_ENTRIES,
    C_VOL,
    C_SPEC,
    C_POLICY,
    C_SPEC_TARGET,
    C_TOPOLOGY,
    C_POOL_TOPOLOGY,
    C_LABELLED,
    C_INCLUSION,
    C_OPERATION,
    C_STATE,
    C_NEXUS,
    C_CHILDREN,
    C_CHILD,
    C_REPTOPO,
    C_REPLICA,
} cs__ctx_t;

/* The context of a container with key `key` inside a container `parent`. */
static cs__ctx_t cs__child_ctx(cs__ctx_t parent, cs__key_t key, bool is_map)
{
    switch (parent) {
    case C_TOP:
        return key == K_ENTRIES && !is_map ? C_ENTRIES : C_SKIP;
    case C_ENTRIES:
        return is_map ? C_VOL : C_SKIP;
    case C_VOL:
        return !is_map ? C_SKIP : key == K_SPEC ? C_SPEC : key == K_STATE ? C_STATE : C_SKIP;
    case C_SPEC:
        if (!is_map)
            return C_SKIP;
        return key == K_POLICY      ? C_POLICY
               : key == K_TARGET    ? C_SPEC_TARGET
               : key == K_TOPOLOGY  ? C_TOPOLOGY
               : key == K_OPERATION ? C_OPERATION
                                    : C_SKIP;
    case C_TOPOLOGY:
        return is_map && key == K_POOL_TOPOLOGY ? C_POOL_TOPOLOGY : C_SKIP;
    case C_POOL_TOPOLOGY:
        return is_map && key == K_LABELLED ? C_LABELLED : C_SKIP;
    case C_LABELLED:
        return is_map && key == K_INCLUSION ? C_INCLUSION : C_SKIP;
    case C_STATE:
        if (!is_map)
            return C_SKIP;
        return key == K_TARGET ? C_NEXUS : key == K_REPLICA_TOPOLOGY ? C_REPTOPO : C_SKIP;
    case C_NEXUS:
        return !is_map && key == K_CHILDREN ? C_CHILDREN : C_SKIP;
    case C_CHILDREN:
        return is_map ? C_CHILD : C_SKIP;
    case C_REPTOPO:
        return is_map ? C_REPLICA : C_SKIP;
    default:
        return C_SKIP;
    }
}

/* The container that `key` inside `parent` must be, when the decoder
 * descends into it (for the type check); NULL when it is not checked. */
static const char *cs__container_path(cs__ctx_t parent, cs__key_t key, bool *want_array)
{
    *want_array = false;
    switch (parent) {
    case C_VOL:
        return key == K_SPEC ? "spec" : key == K_STATE ? "state" : NULL;
    case C_SPEC:
        return key == K_POLICY      ? "policy"
               : key == K_TARGET    ? "target"
               : key == K_TOPOLOGY  ? "topology"
               : key == K_OPERATION ? "operation"
                                    : NULL;
    case C_STATE:
        return key == K_TARGET ? "state.target" : key == K_REPLICA_TOPOLOGY ? "state.replica_topology" : NULL;
    case C_NEXUS:
        *want_array = true;
        return key == K_CHILDREN ? "state.target.children" : NULL;
    default:
        return NULL;
    }
}

static int cs__spec_field(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__key_t key)
{
    cs_mayastor_volume_t *v = &d->v;
    int64_t i = 0;
    int rc = 0;
    switch (key) {
    case K_UUID:
        rc = cs__uuid(d, ev, "spec.uuid", &v->uuid);
        if (rc > 0)
            d->has_spec_uuid = true;
        break;
    case K_SIZE:
        rc = cs__int(d, ev, "spec.size", 0, INT64_MAX, &i);
        if (rc > 0)
            v->size = (uint64_t)i;
        break;
    case K_NUM_REPLICAS:
        rc = cs__int(d, ev, "spec.num_replicas", 0, 255, &i);
        if (rc > 0)
            v->num_replicas = (uint8_t)i;
        break;
    case K_STATUS:
        rc = cs__str(d, ev, "spec.status");
        if (rc > 0)
            v->spec_status = cs__ms_spec_status(ev->text, ev->text_len);
        break;
    case K_THIN: {
        bool b = false;
        rc = cs__bool(d, ev, "spec.thin", &b);
        if (rc > 0)
            v->thin = b;
        break;
    }
    default:
        break;
    }
    return rc < 0 ? rc : 0;
}

static int cs__nexus_field(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__key_t key)
{
    cs_mayastor_nexus_t *n = &d->v.target;
    int64_t i = 0;
    int rc = 0;
    switch (key) {
    case K_UUID:
        rc = cs__uuid(d, ev, "state.target.uuid", &n->uuid);
        break;
    case K_NODE:
        rc = cs__str(d, ev, "state.target.node");
        if (rc > 0 && !(n->node = cs__interned(d, ev)))
            return CS_ENOMEM;
        break;
    case K_SIZE:
        rc = cs__int(d, ev, "state.target.size", 0, INT64_MAX, &i);
        if (rc > 0)
            n->size = (uint64_t)i;
        break;
    case K_STATE:
        rc = cs__str(d, ev, "state.target.state");
        if (rc > 0)
            n->state = cs__ms_nexus_state(ev->text, ev->text_len);
        break;
    case K_PROTOCOL:
        rc = cs__str(d, ev, "state.target.protocol");
        if (rc > 0)
            n->protocol = cs__ms_protocol(ev->text, ev->text_len);
        break;
    case K_REBUILDS:
        rc = cs__int(d, ev, "state.target.rebuilds", INT32_MIN, INT32_MAX, &i);
        if (rc > 0)
            n->rebuilds = (int32_t)i;
        break;
    default:
        break;
    }
    return rc < 0 ? rc : 0;
}

static int cs__replica_field(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__key_t key)
{
    cs_mayastor_replica_t *r = &d->reps[d->reps_n - 1];
    int64_t i = 0;
    int rc = 0;
    switch (key) {
    case K_NODE:
    case K_POOL:
        rc = cs__str(d, ev, key == K_NODE ? "state.replica_topology.node" : "state.replica_topology.pool");
        if (rc > 0) {
            const char *s = cs__interned(d, ev);
            if (!s)
                return CS_ENOMEM;
            if (key == K_NODE)
                r->node = s;
            else
                r->pool = s;
        }
        break;
    case K_STATE:
        rc = cs__str(d, ev, "state.replica_topology.state");
        if (rc > 0)
            r->state = cs__ms_state(ev->text, ev->text_len);
        break;
    case K_CHILD_STATUS:
        rc = cs__str(d, ev, "state.replica_topology.child-status");
        if (rc > 0)
            r->child_status = cs__ms_child_state(ev->text, ev->text_len);
        break;
    case K_CHILD_STATUS_REASON:
        rc = cs__str(d, ev, "state.replica_topology.child-status-reason");
        if (rc > 0)
            r->child_status_reason = cs__ms_child_reason(ev->text, ev->text_len);
        break;
    case K_REBUILD_PROGRESS:
        rc = cs__int(d, ev, "state.replica_topology.rebuild-progress", 0, 100, &i);
        if (rc > 0)
            r->rebuild_progress = (int8_t)i;
        break;
    default:
        break;
    }
    return rc < 0 ? rc : 0;
}

static int cs__child_field(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__key_t key)
{
    cs_mayastor_child_t *c = &d->kids[d->kids_n - 1];
    int64_t i = 0;
    int rc = 0;
    switch (key) {
    case K_URI:
        rc = cs__str(d, ev, "state.target.children.uri");
        if (rc > 0) {
            cs__ms_uri_uuid(ev->text, ev->text_len, &c->replica);
            if (d->keep_uris && !(c->uri = cs__ms_strdup(d->out->store, ev->text, ev->text_len)))
                return cs__fail(d, CS_ENOMEM, "out of memory");
        }
        break;
    case K_STATE:
        rc = cs__str(d, ev, "state.target.children.state");
        if (rc > 0)
            c->state = cs__ms_child_state(ev->text, ev->text_len);
        break;
    case K_STATE_REASON:
        rc = cs__str(d, ev, "state.target.children.state_reason");
        if (rc > 0)
            c->state_reason = cs__ms_child_reason(ev->text, ev->text_len);
        break;
    case K_REBUILD_PROGRESS_CAMEL:
        rc = cs__int(d, ev, "state.target.children.rebuildProgress", 0, 100, &i);
        if (rc > 0)
            c->rebuild_progress = (int8_t)i;
        break;
    default:
        break;
    }
    return rc < 0 ? rc : 0;
}

/* A scalar (or null) value with key `key` inside a container `parent`. */
static int cs__scalar(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__ctx_t parent, cs__key_t key)
{
    cs_mayastor_volume_t *v = &d->v;
    int rc = 0;
    switch (parent) {
    case C_SPEC:
        return cs__spec_field(d, ev, key);
    case C_POLICY:
        if (key == K_SELF_HEAL) {
            bool b = false;
            rc = cs__bool(d, ev, "spec.policy.self_heal", &b);
            if (rc > 0)
                v->self_heal = b;
        }
        break;
    case C_SPEC_TARGET:
        if (key == K_NODE) {
            rc = cs__str(d, ev, "spec.target.node");
            if (rc > 0 && !(v->target_node = cs__interned(d, ev)))
                return CS_ENOMEM;
        } else if (key == K_PROTOCOL) {
            rc = cs__str(d, ev, "spec.target.protocol");
            if (rc > 0)
                v->target_protocol = cs__ms_protocol(ev->text, ev->text_len);
        }
        break;
    case C_OPERATION:
        if (key == K_OPERATION) {
            rc = cs__str(d, ev, "spec.operation.operation");
            if (rc > 0)
                v->operation = cs__ms_operation(ev->text, ev->text_len);
        }
        break;
    case C_INCLUSION: {
        rc = cs__str(d, ev, "spec.topology.pool_topology.labelled.inclusion");
        if (rc <= 0)
            break;
        cs_mayastor_label_t *l = cs__push(d, (void **)&d->incl, &d->incl_n, &d->incl_cap, sizeof *l, CS__MS_MAX_LABELS,
                                          "spec.topology.pool_topology.labelled.inclusion");
        if (!l)
            return CS_ENOMEM;
        l->key = cs__ms_intern(d->out->store, ev->key, ev->key_len);
        l->value = cs__interned(d, ev);
        return l->key && l->value ? 0 : cs__fail(d, CS_ENOMEM, "out of memory");
    }
    case C_STATE:
        if (key == K_UUID) {
            rc = cs__uuid(d, ev, "state.uuid", &d->state_uuid);
            if (rc > 0)
                d->has_state_uuid = true;
        } else if (key == K_STATUS) {
            rc = cs__str(d, ev, "state.status");
            if (rc > 0)
                v->status = cs__ms_volume_status(ev->text, ev->text_len);
        }
        break;
    case C_NEXUS:
        return cs__nexus_field(d, ev, key);
    case C_REPLICA:
        return cs__replica_field(d, ev, key);
    case C_CHILD:
        return cs__child_field(d, ev, key);
    case C_CHILDREN:
        return cs__type(d, ev, "state.target.children[]", "an object");
    case C_REPTOPO:
        if (ev->kind != CS_JS_NULL)
            return cs__type(d, ev, "state.replica_topology entry", "an object");
        break;
    default:
        break;
    }
    return rc < 0 ? rc : 0;
}

static int cs__open(cs_mayastor_volume_decoder_t *d, const cs_jstream_event_t *ev, cs__ctx_t parent, cs__key_t key)
{
    bool is_map = ev->kind == CS_JS_MAP_START;
    if (parent == C_TOP && key == K_ENTRIES && is_map) {
        cs_jstream_fail(d->js, CS_EPARSE, "entries: expected an array, got object");
        return CS_EPARSE;
    }
    if (parent == C_ENTRIES && !is_map) {
        cs_jstream_fail(d->js, CS_EPARSE, "entries[%zu]: expected a volume object, got array", ev->index);
        return CS_EPARSE;
    }
    bool want_array;
    const char *path = cs__container_path(parent, key, &want_array);
    if (path && is_map == want_array)
        return cs__type(d, ev, path, want_array ? "an array" : "an object");
    if (parent == C_CHILDREN && !is_map)
        return cs__type(d, ev, "state.target.children[]", "an object");
    if (parent == C_REPTOPO && !is_map)
        return cs__type(d, ev, "state.replica_topology entry", "an object");
    if (parent == C_SPEC && key == K_AFFINITY_GROUP && is_map)
        d->v.affinity_group = true; /* its id is not needed: it is skipped below */
    cs__ctx_t ctx = cs__child_ctx(parent, key, is_map);
    if (ctx == C_CHILDREN && !d->keep_children)
        ctx = C_SKIP; /* a list without children: checked by the stream, not kept */
    d->ctx[ev->depth] = (uint8_t)ctx;
    switch (ctx) {
    case C_SKIP:
        /* nothing below is read: the stream only checks it */
        cs_jstream_skip(d->js);
        break;
    case C_ENTRIES:
        d->has_entries = true;
        break;
    case C_VOL:
        cs__begin_volume(d);
        break;
    case C_NEXUS:
        d->v.has_target = true;
        break;
    case C_CHILD: {
        cs_mayastor_child_t *c = cs__push(d, (void **)&d->kids, &d->kids_n, &d->kids_cap, sizeof *c,
                                          CS__MS_MAX_CHILDREN, "state.target.children");
        if (!c)
            return CS_ETOOBIG;
        c->rebuild_progress = -1;
        break;
    }
    case C_REPLICA: {
        cs_mayastor_replica_t *r = cs__push(d, (void **)&d->reps, &d->reps_n, &d->reps_cap, sizeof *r,
                                            CS__MS_MAX_REPLICAS, "state.replica_topology");
        if (!r)
            return CS_ETOOBIG;
        r->rebuild_progress = -1;
        if (cs_mayastor_uuid_parse(ev->key, ev->key_len, &r->uuid) != 0)
            return cs__fail(d, CS_EPARSE, "state.replica_topology: key \"%.64s\" is not a replica uuid", ev->key);
        break;
    }
    default:
        break;
    }
    return 0;
}

static int cs__on_event(void *ctx, cs_jstream_t *js, const cs_jstream_event_t *ev)
{
    cs_mayastor_volume_decoder_t *d = ctx;
    (void)js;
    size_t depth = ev->depth;
    if (depth == 0) {
        switch (ev->kind) {
        case CS_JS_MAP_START:
            d->top_seen = true;
            d->ctx[0] = d->list ? C_TOP : C_VOL;
            if (!d->list)
                cs__begin_volume(d);
            return 0;
        case CS_JS_MAP_END:
            return d->list ? 0 : cs__end_volume(d);
        default:
            if (d->list)
                cs_jstream_fail(d->js, CS_EPARSE, "a volume page is a JSON object {\"entries\": [...]}, got %s",
                                cs__kind(ev->kind));
            else
                cs_jstream_fail(d->js, CS_EPARSE, "a volume is a JSON object, got %s", cs__kind(ev->kind));
            return CS_EPARSE;
        }
    }
    cs__ctx_t parent = (cs__ctx_t)d->ctx[depth - 1];
    if (parent == C_SKIP) {
        /* everything below a skipped container is skipped */
        if (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START)
            d->ctx[depth] = C_SKIP;
        return 0;
    }
    switch (ev->kind) {
    case CS_JS_MAP_END:
        return (cs__ctx_t)d->ctx[depth] == C_VOL ? cs__end_volume(d) : 0;
    case CS_JS_ARRAY_END:
        return 0;
    default:
        break;
    }
    cs__key_t key = cs__key(ev->key, ev->key_len);
    if (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START)
        return cs__open(d, ev, parent, key);
    if (parent == C_TOP) {
        if (key == K_ENTRIES) {
            cs_jstream_fail(d->js, CS_EPARSE, "entries: expected an array, got %s", cs__kind(ev->kind));
            return CS_EPARSE;
        }
        if (key == K_NEXT_TOKEN) {
            if (ev->kind == CS_JS_INT && ev->i >= 0) {
                d->next_token = ev->i;
            } else if (ev->kind != CS_JS_NULL) {
                cs_jstream_fail(d->js, CS_EPARSE, "next_token: expected a non-negative integer, got %s",
                                cs__kind(ev->kind));
                return CS_EPARSE;
            }
        }
        return 0;
    }
    if (parent == C_ENTRIES) {
        cs_jstream_fail(d->js, CS_EPARSE, "entries[%zu]: expected a volume object, got %s", ev->index,
                        cs__kind(ev->kind));
        return CS_EPARSE;
    }
    if (parent == C_VOL) {
        if ((key == K_SPEC || key == K_STATE) && ev->kind != CS_JS_NULL)
            return cs__type(d, ev, key == K_SPEC ? "spec" : "state", "an object");
        return 0;
    }
    /* a null where an object or array belongs is "absent" */
    if (ev->kind == CS_JS_NULL) {
        bool want_array;
        if (cs__container_path(parent, key, &want_array))
            return 0;
    } else {
        bool want_array;
        const char *path = cs__container_path(parent, key, &want_array);
        if (path)
            return cs__type(d, ev, path, want_array ? "an array" : "an object");
    }
    return cs__scalar(d, ev, parent, key);
}

int cs_mayastor_volume_decoder_new(cs_mayastor_volumes_t *out, bool list, bool keep_uris, size_t max_volumes,
                                   cs_mayastor_volume_decoder_t **dec)
{
    unsigned flags = CS_MAYASTOR_DECODE_CHILDREN | (keep_uris ? CS_MAYASTOR_DECODE_CHILD_URIS : 0u);
    return cs_mayastor_volume_decoder_new_flags(out, list, flags, max_volumes, dec);
}

int cs_mayastor_volume_decoder_new_flags(cs_mayastor_volumes_t *out, bool list, unsigned flags, size_t max_volumes,
                                         cs_mayastor_volume_decoder_t **dec)
{
    *dec = NULL;
    if (cs__ms_ensure_store(&out->store))
        return CS_ENOMEM;
    cs_mayastor_volume_decoder_t *d = calloc(1, sizeof *d);
    if (!d)
        return CS_ENOMEM;
    d->out = out;
    d->list = list;
    d->keep_uris = (flags & CS_MAYASTOR_DECODE_CHILD_URIS) != 0;
    d->keep_children = d->keep_uris || (flags & CS_MAYASTOR_DECODE_CHILDREN) != 0;
    d->max_volumes = max_volumes ? max_volumes : CS_MAYASTOR_DEFAULT_MAX_VOLUMES;
    d->next_token = -1;
    if (cs_jstream_new(cs__on_event, d, CS__VOL_MAX_DEPTH, CS__MS_MAX_STRING, false, &d->js) != 0) {
        free(d);
        return CS_ENOMEM;
    }
    *dec = d;
    return 0;
}

void cs_mayastor_volume_decoder_free(cs_mayastor_volume_decoder_t *d)
{
    if (!d)
        return;
    cs_jstream_free(d->js);
    free(d->incl);
    free(d->reps);
    free(d->kids);
    free(d);
}

static int cs__parse_error(cs_err_t *err, int rc)
{
    if (rc == CS_ENOMEM || rc == CS_ETOOBIG)
        return rc;
    if (err)
        err->code = CS_EPARSE;
    return CS_EPARSE;
}

int cs_mayastor_volume_decoder_feed(cs_mayastor_volume_decoder_t *d, const char *data, size_t len, cs_err_t *err)
{
    int rc = cs_jstream_feed(d->js, data, len, err);
    return rc ? cs__parse_error(err, rc) : 0;
}

int cs_mayastor_volume_decoder_finish(cs_mayastor_volume_decoder_t *d, int64_t *next_token, cs_err_t *err)
{
    if (next_token)
        *next_token = -1;
    int rc = cs_jstream_finish(d->js, err);
    if (rc)
        return cs__parse_error(err, rc);
    if (d->list && !d->has_entries)
        return cs_err_set(err, CS_EPARSE, "a volume page has no \"entries\" array");
    if (!d->top_seen)
        return cs_err_set(err, CS_EPARSE, "empty volume reply");
    if (next_token)
        *next_token = d->next_token;
    return 0;
}

int cs_mayastor_decode_volumes(const char *body, size_t len, bool list, bool keep_uris, cs_mayastor_volumes_t *out,
                               int64_t *next_token, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (next_token)
        *next_token = -1;
    cs_mayastor_volume_decoder_t *d = NULL;
    int rc = cs_mayastor_volume_decoder_new(out, list, keep_uris, 0, &d);
    if (rc)
        return cs_err_set(err, rc, "volume decoder: out of memory");
    rc = cs_mayastor_volume_decoder_feed(d, body ? body : "", body ? len : 0, err);
    if (rc == 0)
        rc = cs_mayastor_volume_decoder_finish(d, next_token, err);
    cs_mayastor_volume_decoder_free(d);
    if (rc == 0)
        rc = cs__ms_index_volumes(out);
    return rc;
}
