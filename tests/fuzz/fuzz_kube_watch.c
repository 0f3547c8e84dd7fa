/* Fuzz target: watch-stream decoding into the generic ObjectMeta
 * projection, fed in two chunks split at a data-dependent point; and the
 * same bytes as a list page. */
#include <stdint.h>
#include <stdlib.h>

#include "couchestor/kube.h"
#include "couchestor/kube_informer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(void *ctx, cs_kube_watch_event_t *ev)
{
    (*(size_t *)ctx)++;
    return ev->type == CS_KUBE_WATCH_ERROR && ev->code == 7 ? CS_ECANCELED : 0;
}

static int on_item(void *ctx, void *obj)
{
    cs_kube_decoder_t *d = ctx;
    d->destroy(d->ctx, obj);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cs_kube_decoder_t dec = cs_kube_meta_decoder();
    size_t n = 0;
    cs_kube_watch_parser_t *p = NULL;
    cs_err_t err = {0};
    if (cs_kube_watch_parser_new(&dec, on_event, &n, 32, 4096, &p) != 0)
        return 0;
    size_t cut = size ? data[0] % (size + 1) : 0;
    if (cs_kube_watch_parser_feed(p, (const char *)data, cut, &err) == 0 &&
        cs_kube_watch_parser_feed(p, (const char *)data + cut, size - cut, &err) == 0)
        cs_kube_watch_parser_finish(p, &err);
    cs_kube_watch_parser_free(p);

    cs_kube_list_parser_t *lp = NULL;
    if (cs_kube_list_parser_new(&dec, on_item, &dec, 32, 4096, &lp) != 0)
        return 0;
    if (cs_kube_list_parser_feed(lp, (const char *)data, size, &err) == 0)
        cs_kube_list_parser_finish(lp, &err);
    cs_kube_list_parser_free(lp);
    return 0;
}
