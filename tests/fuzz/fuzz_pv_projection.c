/* Fuzz target: the operator's PersistentVolume, DiskPool,
 * PersistentVolumeClaim and Namespace projections (cs_pv_decoder with its
 * spec.claimRef, cs_diskpool_decoder, cs_pvc_decoder, cs_namespace_decoder)
 * behind the list parser, fed in two
 * chunks split at a data-dependent point, and behind the watch parser. The
 * PV decoder keeps offsets into a scratch buffer until an item ends and
 * interns StorageClass names and label keys process-wide: every item,
 * finished or not, must be freed exactly once. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/controller.h"
#include "couchestor/kube.h"
#include "couchestor/kube_informer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_item(void *ctx, void *obj)
{
    cs_kube_decoder_t *d = ctx;
    if (d->destroy == cs_pv_decoder().destroy) {
        /* touch every field a reconcile reads */
        const cs_pv_t *pv = obj;
        volatile size_t sum = strlen(pv->name) + (pv->storage_class ? strlen(pv->storage_class) : 0) +
                              (pv->journal ? strlen(pv->journal) : 0) + (pv->uid ? strlen(pv->uid) : 0) +
                              (pv->claim_namespace ? strlen(pv->claim_namespace) + strlen(pv->claim_name) : 0);
        for (size_t i = 0; i < pv->labels.count; i++)
            sum += strlen(pv->labels.items[i].key) + strlen(pv->labels.items[i].value);
        (void)sum;
    } else if (d->destroy == cs_pvc_decoder().destroy) {
        const cs_pvc_t *c = obj;
        volatile size_t sum = strlen(c->name) + strlen(c->namespace_) + (c->volume_name ? strlen(c->volume_name) : 0);
        for (size_t i = 0; i < c->labels.count; i++)
            sum += strlen(c->labels.items[i].key) + strlen(c->labels.items[i].value);
        (void)sum;
    } else if (d->destroy == cs_diskpool_decoder().destroy) {
        /* metadata.labels and spec.topology.labelled: the pool's tier labels */
        const cs_diskpool_ref_t *dp = obj;
        volatile size_t sum = strlen(dp->name) + (dp->namespace_ ? strlen(dp->namespace_) : 0);
        for (size_t i = 0; i < dp->labels.count; i++)
            sum += strlen(dp->labels.items[i].key) + strlen(dp->labels.items[i].value);
        for (size_t i = 0; i < dp->topology.count; i++)
            sum += strlen(dp->topology.items[i].key) + strlen(dp->topology.items[i].value);
        (void)sum;
    }
    d->destroy(d->ctx, obj);
    return 0;
}

static int on_event(void *ctx, cs_kube_watch_event_t *ev)
{
    (void)ev;
    (*(size_t *)ctx)++;
    return 0;
}

static void run(cs_kube_decoder_t dec, const uint8_t *data, size_t size)
{
    cs_err_t err = {0};
    size_t cut = size ? data[size - 1] % (size + 1) : 0;
    cs_kube_list_parser_t *lp = NULL;
    if (cs_kube_list_parser_new(&dec, on_item, &dec, 32, 4096, &lp) == 0) {
        if (cs_kube_list_parser_feed(lp, (const char *)data, cut, &err) == 0 &&
            cs_kube_list_parser_feed(lp, (const char *)data + cut, size - cut, &err) == 0)
            cs_kube_list_parser_finish(lp, &err);
        cs_kube_list_parser_free(lp);
    }
    size_t n = 0;
    cs_kube_watch_parser_t *wp = NULL;
    if (cs_kube_watch_parser_new(&dec, on_event, &n, 32, 4096, &wp) == 0) {
        err = (cs_err_t){0};
        if (cs_kube_watch_parser_feed(wp, (const char *)data, size, &err) == 0)
            cs_kube_watch_parser_finish(wp, &err);
        cs_kube_watch_parser_free(wp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(cs_pv_decoder(), data, size);
    run(cs_diskpool_decoder(), data, size);
    run(cs_pvc_decoder(), data, size);
    run(cs_namespace_decoder(), data, size);
    return 0;
}
