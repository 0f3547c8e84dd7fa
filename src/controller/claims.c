/* claims.c: the PersistentVolumeClaim and Namespace projections, which a
 * policy's selection reads beside the PVs (volumeSelector on the bound
 * claim's labels, namespaceSelector on its Namespace's). */
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"

/* ---- shared: metadata without annotations or managedFields ---- */

/* A claim's annotations can be large (kubectl's last-applied-configuration)
 * and nothing here reads them; status neither. */
static int cs__meta_only(cs_kube_meta_t *m, const cs_kube_field_t *f)
{
    const cs_jstream_event_t *ev = f->ev;
    bool opens = ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START;
    if (f->depth == 1 && opens && !cs_kube_field_key_is(f, "metadata") && !cs_kube_field_key_is(f, "spec"))
        return CS_KUBE_SKIP;
    if (f->depth == 2 && opens && CS_KUBE_UNDER(f, "metadata") &&
        (cs_kube_field_key_is(f, "annotations") || cs_kube_field_key_is(f, "managedFields") ||
         cs_kube_field_key_is(f, "ownerReferences")))
        return CS_KUBE_SKIP;
    return cs_kube_meta_field(m, f);
}

/* ---- PersistentVolumeClaim ---- */

typedef struct {
    cs_pvc_t c;
    cs_kube_meta_t meta;
} cs__pvc_build_t;
_Static_assert(offsetof(cs__pvc_build_t, c) == 0, "cs_pvc_t first");

static void *cs__pvc_create(void *ctx)
{
    return calloc(1, sizeof(cs__pvc_build_t));
}

static int cs__pvc_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs__pvc_build_t *b = obj;
    const cs_jstream_event_t *ev = f->ev;
    bool opens = ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START;
    if (f->depth == 2 && CS_KUBE_UNDER(f, "spec")) {
        if (opens)
            return CS_KUBE_SKIP;
        if (ev->kind == CS_JS_STRING && cs_kube_field_key_is(f, "volumeName")) {
            free(b->c.volume_name);
            b->c.volume_name = strndup(ev->text, strnlen(ev->text, ev->text_len));
            return b->c.volume_name ? 0 : CS_ENOMEM;
        }
        return 0;
    }
    return cs__meta_only(&b->meta, f);
}

static int cs__pvc_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs__pvc_build_t *b = obj;
    b->c.name = b->meta.name;
    b->c.namespace_ = b->meta.namespace;
    b->c.labels = b->meta.labels;
    b->meta.name = b->meta.namespace = NULL;
    memset(&b->meta.labels, 0, sizeof b->meta.labels);
    cs_kube_meta_free(&b->meta);
    if (!b->c.name || !b->c.namespace_)
        return cs_err_set(err, CS_EPARSE, "PersistentVolumeClaim without metadata.name and metadata.namespace");
    return 0;
}

void cs_pvc_free(cs_pvc_t *pvc)
{
    if (!pvc)
        return;
    free(pvc->name);
    free(pvc->namespace_);
    free(pvc->volume_name);
    cs_labels_free(&pvc->labels);
    memset(pvc, 0, sizeof *pvc);
}

static void cs__pvc_destroy(void *ctx, void *obj)
{
    cs__pvc_build_t *b = obj;
    if (!b)
        return;
    cs_pvc_free(&b->c);
    cs_kube_meta_free(&b->meta);
    free(b);
}

cs_kube_decoder_t cs_pvc_decoder(void)
{
    return (cs_kube_decoder_t){
        .create = cs__pvc_create, .field = cs__pvc_field, .finish = cs__pvc_finish, .destroy = cs__pvc_destroy};
}

/* ---- Namespace ---- */

typedef struct {
    cs_namespace_ref_t n;
    cs_kube_meta_t meta;
} cs__ns_build_t;
_Static_assert(offsetof(cs__ns_build_t, n) == 0, "cs_namespace_ref_t first");

static void *cs__ns_create(void *ctx)
{
    return calloc(1, sizeof(cs__ns_build_t));
}

static int cs__ns_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    cs__ns_build_t *b = obj;
    if (f->depth == 1 && (f->ev->kind == CS_JS_MAP_START || f->ev->kind == CS_JS_ARRAY_START) &&
        cs_kube_field_key_is(f, "spec"))
        return CS_KUBE_SKIP;
    return cs__meta_only(&b->meta, f);
}

static int cs__ns_finish(void *ctx, void *obj, cs_err_t *err)
{
    cs__ns_build_t *b = obj;
    b->n.name = b->meta.name;
    b->n.labels = b->meta.labels;
    b->meta.name = NULL;
    memset(&b->meta.labels, 0, sizeof b->meta.labels);
    cs_kube_meta_free(&b->meta);
    if (!b->n.name)
        return cs_err_set(err, CS_EPARSE, "Namespace without metadata.name");
    return 0;
}

void cs_namespace_ref_free(cs_namespace_ref_t *ns)
{
    if (!ns)
        return;
    free(ns->name);
    cs_labels_free(&ns->labels);
    memset(ns, 0, sizeof *ns);
}

static void cs__ns_destroy(void *ctx, void *obj)
{
    cs__ns_build_t *b = obj;
    if (!b)
        return;
    cs_namespace_ref_free(&b->n);
    cs_kube_meta_free(&b->meta);
    free(b);
}

cs_kube_decoder_t cs_namespace_decoder(void)
{
    return (cs_kube_decoder_t){
        .create = cs__ns_create, .field = cs__ns_field, .finish = cs__ns_finish, .destroy = cs__ns_destroy};
}
