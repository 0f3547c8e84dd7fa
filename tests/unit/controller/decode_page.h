/* decode_page.h: test helper for the controller's projections: decode a
 * Kubernetes list page with one of their decoders, fed in chunks as a
 * streamed list arrives, and keep up to 8 decoded objects. */
#ifndef CS_TEST_DECODE_PAGE_H
#define CS_TEST_DECODE_PAGE_H

#include <criterion/criterion.h>
#include <string.h>

#include "couchestor/kube.h"

typedef struct {
    void *obj[8];
    size_t n;
} decoded_t;

static int decoded_keep(void *ctx, void *obj)
{
    decoded_t *g = ctx;
    cr_assert_lt(g->n, 8);
    g->obj[g->n++] = obj;
    return 0;
}

/* Decodes page with d, `chunk` bytes at a time; the objects go to g. */
static int decode_page(const cs_kube_decoder_t *d, const char *page, size_t chunk, decoded_t *g, cs_err_t *err)
{
    cs_kube_list_parser_t *p;
    cr_assert_eq(cs_kube_list_parser_new(d, decoded_keep, g, 0, 0, &p), 0);
    size_t len = strlen(page);
    int rc = 0;
    for (size_t o = 0; o < len && rc == 0; o += chunk)
        rc = cs_kube_list_parser_feed(p, page + o, len - o < chunk ? len - o : chunk, err);
    if (rc == 0)
        rc = cs_kube_list_parser_finish(p, err);
    cs_kube_list_parser_free(p);
    return rc;
}

/* Frees the objects decode_page kept (with the decoder that made them). */
static void decoded_release(const cs_kube_decoder_t *d, decoded_t *g)
{
    for (size_t i = 0; i < g->n; i++)
        d->destroy(d->ctx, g->obj[i]);
    g->n = 0;
}

#endif
