/* Tests for streamed decoding: list pages (metadata, continue, items into a
 * caller's projection), the generic ObjectMeta projection, and watch
 * streams (every event type, BOOKMARK, ERROR 410, events split across
 * chunks, hostile input). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/kube.h"
#include "couchestor/kube_informer.h"

/* A custom projection: name plus one spec field, as an operator keeps it. */
typedef struct pv_s {
    cs_kube_meta_t meta;
    char *driver;
    int64_t capacity_items;
} pv_t;

static void *pv_create(void *ctx)
{
    return calloc(1, sizeof(pv_t));
}

static int pv_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    pv_t *pv = obj;
    int rc = cs_kube_meta_field(&pv->meta, f);
    if (rc < 0)
        return rc;
    if (CS_KUBE_AT(f, "spec", "csi", "driver") && f->ev->kind == CS_JS_STRING) {
        free(pv->driver);
        pv->driver = strndup(f->ev->text, f->ev->text_len);
    }
    if (CS_KUBE_UNDER(f, "spec", "capacity") && f->depth == 3)
        pv->capacity_items++;
    return 0;
}

static int pv_finish(void *ctx, void *obj, cs_err_t *err)
{
    pv_t *pv = obj;
    if (!pv->meta.name)
        return cs_err_set(err, CS_EPARSE, "PersistentVolume without a name");
    return 0;
}

static void pv_destroy(void *ctx, void *obj)
{
    pv_t *pv = obj;
    cs_kube_meta_free(&pv->meta);
    free(pv->driver);
    free(pv);
}

static const cs_kube_decoder_t PV_DEC = {pv_create, pv_field, pv_finish, pv_destroy, NULL};

typedef struct items_s {
    pv_t *v[16];
    size_t n;
} items_t;

static int collect(void *ctx, void *obj)
{
    items_t *it = ctx;
    cr_assert_lt(it->n, 16);
    it->v[it->n++] = obj;
    return 0;
}

static void items_free(items_t *it)
{
    for (size_t i = 0; i < it->n; i++)
        pv_destroy(NULL, it->v[i]);
}

static const char *PAGE =
    "{\"kind\":\"PersistentVolumeList\",\"apiVersion\":\"v1\","
    "\"metadata\":{\"resourceVersion\":\"10245\",\"continue\":\"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ\","
    "\"remainingItemCount\":3},"
    "\"items\":[{\"metadata\":{\"name\":\"pvc-1\",\"uid\":\"u-1\",\"resourceVersion\":\"10\",\"generation\":2,"
    "\"creationTimestamp\":\"2024-05-01T10:00:00Z\",\"labels\":{\"storage-tier\":\"hot\",\"a\":\"b\"},"
    "\"annotations\":{\"x/y\":\"{\\\"nested\\\":[1,2]}\"}},"
    "\"spec\":{\"capacity\":{\"storage\":\"10Gi\"},\"csi\":{\"driver\":\"io.openebs.csi-mayastor\",\"volumeHandle\":"
    "\"h\"}}},"
    "{\"metadata\":{\"name\":\"pvc-2\",\"resourceVersion\":\"11\",\"deletionTimestamp\":\"2024-05-02T00:00:00Z\"},"
    "\"spec\":{\"csi\":{\"driver\":\"other\"},\"mountOptions\":[\"a\",{\"csi\":{\"driver\":\"decoy\"}}]}}]}";

static void parse_page(const char *text, size_t chunk, items_t *it, cs_kube_list_parser_t **pp)
{
    cs_kube_list_parser_t *p = NULL;
    cr_assert_eq(cs_kube_list_parser_new(&PV_DEC, collect, it, 0, 0, &p), 0);
    cs_err_t err = {0};
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        cr_assert_eq(cs_kube_list_parser_feed(p, text + off, n, &err), 0, "%s", err.msg);
    }
    cr_assert_eq(cs_kube_list_parser_finish(p, &err), 0, "%s", err.msg);
    *pp = p;
}

static void check_page(void)
{
    for (size_t chunk = 1; chunk <= 4096; chunk *= 8) {
        items_t it = {0};
        cs_kube_list_parser_t *p;
        parse_page(PAGE, chunk, &it, &p);
        cr_expect_str_eq(cs_kube_list_parser_resource_version(p), "10245");
        cr_expect_str_eq(cs_kube_list_parser_continue(p), "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ");
        cr_expect_eq(cs_kube_list_parser_items(p), 2);
        cr_assert_eq(it.n, 2);
        pv_t *a = it.v[0], *b = it.v[1];
        cr_expect_str_eq(a->meta.name, "pvc-1");
        cr_expect_str_eq(a->meta.uid, "u-1");
        cr_expect_str_eq(a->meta.resource_version, "10");
        cr_expect_eq(a->meta.generation, 2);
        cr_expect_eq(a->meta.creation_timestamp, 1714557600);
        cr_expect_eq(a->meta.deletion_timestamp, 0);
        cr_expect_str_eq(cs_labels_get(&a->meta.labels, "storage-tier"), "hot");
        cr_expect_eq(a->meta.labels.count, 2);
        cr_expect_str_eq(cs_labels_get(&a->meta.annotations, "x/y"), "{\"nested\":[1,2]}");
        cr_expect_str_eq(a->driver, "io.openebs.csi-mayastor");
        cr_expect_eq(a->capacity_items, 1);
        cr_expect_str_eq(b->meta.name, "pvc-2");
        cr_expect_null(b->meta.namespace);
        cr_expect_eq(b->meta.deletion_timestamp, 1714608000);
        cr_expect_str_eq(b->driver, "other", "a deeper spec.csi.driver elsewhere is not the field");
        items_free(&it);
        cs_kube_list_parser_free(p);
    }
}

Test(decode, list_page_in_any_chunking)
{
    check_page();
}

Test(decode, last_page_and_empty_items)
{
    items_t it = {0};
    cs_kube_list_parser_t *p;
    parse_page("{\"metadata\":{\"resourceVersion\":\"7\"},\"items\":null}", 3, &it, &p);
    cr_expect_str_eq(cs_kube_list_parser_continue(p), "");
    cr_expect_str_eq(cs_kube_list_parser_resource_version(p), "7");
    cr_expect_eq(it.n, 0);
    cs_kube_list_parser_free(p);
    parse_page("{\"items\":[],\"metadata\":{\"resourceVersion\":\"8\",\"continue\":\"\"}}", 5, &it, &p);
    cr_expect_str_eq(cs_kube_list_parser_continue(p), "");
    cr_expect_str_eq(cs_kube_list_parser_resource_version(p), "8", "metadata after items is fine");
    cs_kube_list_parser_free(p);
}

static int list_fails(const char *text, cs_err_t *err)
{
    items_t it = {0};
    cs_kube_list_parser_t *p = NULL;
    cr_assert_eq(cs_kube_list_parser_new(&PV_DEC, collect, &it, 8, 64, &p), 0);
    int rc = cs_kube_list_parser_feed(p, text, strlen(text), err);
    if (rc == 0)
        rc = cs_kube_list_parser_finish(p, err);
    items_free(&it);
    cs_kube_list_parser_free(p);
    return rc;
}

Test(decode, hostile_lists_are_errors)
{
    cs_err_t err = {0};
    cr_expect_eq(list_fails("[1,2]", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: expected a JSON object at the top level");
    cr_expect_eq(list_fails("{\"items\":{}}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: \"items\" must be an array");
    cr_expect_eq(list_fails("{\"items\":[1]}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: items[0] is not an object");
    cr_expect_eq(list_fails("{\"items\":[{\"metadata\":{}}]}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: items[0]: PersistentVolume without a name");
    cr_expect_eq(list_fails("{\"items\":[{\"metadata\":{\"name\":5}}]}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "metadata.name: expected a string");
    cr_expect_eq(list_fails("{\"items\":[{\"metadata\":{\"labels\":{\"a\":1}}}]}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "metadata.labels[\"a\"]: expected a string");
    cr_expect_eq(list_fails("{\"items\":[{\"a\":[[[[[[[[[[]]]]]]]]]]}]}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "JSON nesting deeper than 8 levels");
    cr_expect_eq(list_fails("{\"items\":[{\"metadata\":{\"name\":"
                            "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}]}",
                            &err),
                 CS_ETOOBIG);
    cr_expect_eq(list_fails("{\"items\":[{\"metadata\":{\"name\":\"a\"}}", &err), CS_EPARSE);
    cr_expect_eq(list_fails("{\"metadata\":{\"continue\":7}}", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "list: metadata.continue must be a string");
}

/* ---- watch streams ------------------------------------------------------ */

typedef struct seen_s {
    int n;
    cs_kube_watch_type_t type[16];
    char name[16][32];
    char ns[16][32];
    char rv[16][32];
    char driver[16][32];
    long code[16];
    char reason[16][32];
    int take; /* take ownership of objects */
    pv_t *kept[16];
    int nkept;
} seen_t;

static int on_event(void *ctx, cs_kube_watch_event_t *ev)
{
    seen_t *s = ctx;
    cr_assert_lt(s->n, 16);
    int i = s->n++;
    s->type[i] = ev->type;
    snprintf(s->name[i], 32, "%s", ev->name);
    snprintf(s->ns[i], 32, "%s", ev->namespace);
    snprintf(s->rv[i], 32, "%s", ev->resource_version);
    if (ev->obj) {
        pv_t *pv = ev->obj;
        snprintf(s->driver[i], 32, "%s", pv->driver ? pv->driver : "");
        if (s->take) {
            s->kept[s->nkept++] = pv;
            ev->obj = NULL;
        }
    }
    s->code[i] = ev->code;
    snprintf(s->reason[i], 32, "%s", ev->reason ? ev->reason : "");
    return 0;
}

static const char *STREAM =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
    "\"10596\"},"
    "\"spec\":{\"csi\":{\"driver\":\"d1\"}}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns1\",\"resourceVersion\":"
    "\"11020\"}}}\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"PersistentVolume\",\"apiVersion\":\"v1\",\"metadata\":{"
    "\"resourceVersion\":\"12746\","
    "\"annotations\":{\"k8s.io/initial-events-end\":\"true\"}}}}\n"
    "{\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"11100\"}},\"type\":\"DELETED\"}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"too old resource version: 100 (200)\",\"reason\":\"Expired\",\"code\":410}}\n";

static void run_stream(const char *text, size_t chunk, seen_t *s)
{
    cs_kube_watch_parser_t *p = NULL;
    cr_assert_eq(cs_kube_watch_parser_new(&PV_DEC, on_event, s, 0, 0, &p), 0);
    cs_err_t err = {0};
    size_t len = strlen(text);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        cr_assert_eq(cs_kube_watch_parser_feed(p, text + off, n, &err), 0, "%s", err.msg);
    }
    cr_assert_eq(cs_kube_watch_parser_finish(p, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_kube_watch_parser_events(p), (size_t)s->n);
    cs_kube_watch_parser_free(p);
}

Test(decode, watch_every_event_type_in_any_chunking)
{
    for (size_t chunk = 1; chunk < 2000; chunk = chunk * 3 + 1) {
        seen_t s = {0};
        run_stream(STREAM, chunk, &s);
        cr_assert_eq(s.n, 5);
        cr_expect_eq(s.type[0], CS_KUBE_WATCH_ADDED);
        cr_expect_str_eq(s.name[0], "a");
        cr_expect_str_eq(s.ns[0], "");
        cr_expect_str_eq(s.rv[0], "10596");
        cr_expect_str_eq(s.driver[0], "d1");
        cr_expect_eq(s.type[1], CS_KUBE_WATCH_MODIFIED);
        cr_expect_str_eq(s.ns[1], "ns1");
        cr_expect_str_eq(s.rv[1], "11020");
        cr_expect_eq(s.type[2], CS_KUBE_WATCH_BOOKMARK);
        cr_expect_str_eq(s.rv[2], "12746");
        cr_expect_str_eq(s.name[2], "");
        cr_expect_eq(s.type[3], CS_KUBE_WATCH_DELETED, "type after object is accepted");
        cr_expect_str_eq(s.rv[3], "11100");
        cr_expect_eq(s.type[4], CS_KUBE_WATCH_ERROR);
        cr_expect_eq(s.code[4], 410);
        cr_expect_str_eq(s.reason[4], "Expired");
    }
}

Test(decode, watch_consumer_may_keep_objects)
{
    seen_t s = {.take = 1};
    run_stream(STREAM, 64, &s);
    cr_assert_eq(s.nkept, 3);
    cr_expect_str_eq(s.kept[0]->meta.name, "a");
    cr_expect_str_eq(s.kept[1]->meta.namespace, "ns1");
    for (int i = 0; i < s.nkept; i++)
        pv_destroy(NULL, s.kept[i]);
}

Test(decode, watch_empty_stream_is_fine)
{
    seen_t s = {0};
    run_stream("", 1, &s);
    cr_expect_eq(s.n, 0);
    run_stream("\n", 1, &s);
    cr_expect_eq(s.n, 0);
}

static int watch_fails(const char *text, cs_err_t *err)
{
    seen_t s = {0};
    cs_kube_watch_parser_t *p = NULL;
    cr_assert_eq(cs_kube_watch_parser_new(&PV_DEC, on_event, &s, 16, 1024, &p), 0);
    int rc = cs_kube_watch_parser_feed(p, text, strlen(text), err);
    if (rc == 0)
        rc = cs_kube_watch_parser_finish(p, err);
    cs_kube_watch_parser_free(p);
    return rc;
}

Test(decode, watch_hostile_input)
{
    cs_err_t err = {0};
    cr_expect_eq(watch_fails("{\"type\":\"EXPLODED\",\"object\":{}}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: unknown type \"EXPLODED\"");
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\"}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: no \"object\"");
    cr_expect_eq(watch_fails("{\"object\":{}}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: no \"type\"");
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0 (ADDED): PersistentVolume without a name");
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\",\"object\":[]}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: \"object\" is not a JSON object");
    cr_expect_eq(watch_fails("{\"type\":7,\"object\":{}}\n", &err), CS_EPARSE);
    cr_expect_eq(watch_fails("\"hello\"\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: not a JSON object");
    cr_expect_eq(watch_fails("{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{}}}\n", &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "watch event 0: BOOKMARK without metadata.resourceVersion");
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}},\"object\":{}}\n", &err),
                 CS_EPARSE);
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\",\"resourceVersion\":"
                             "\"012345678901234567890123456789012345678901234567890123456789012345678901234567890123456"
                             "7890123456789012345678901234567890123456789\"}}}\n",
                             &err),
                 CS_EPARSE);
    cr_expect_str_eq(err.msg, "metadata.resourceVersion: longer than 127 bytes or holds NUL");
    cr_expect_eq(watch_fails("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n{\"type\":", &err),
                 CS_EPARSE, "a cut event is an error at the end");
    cr_expect_eq(watch_fails("{\"type\":\"ERROR\",\"object\":{\"code\":410}}}", &err), CS_EPARSE);
}

static int keep_meta(void *ctx, void *o)
{
    *(cs_kube_meta_t **)ctx = o;
    return 0;
}

Test(decode, meta_decoder)
{
    cs_kube_decoder_t d = cs_kube_meta_decoder();
    const char *obj = "{\"items\":[{\"metadata\":{\"name\":\"n\",\"namespace\":\"s\",\"uid\":\"u\","
                      "\"resourceVersion\":\"9\",\"generation\":4,\"labels\":{\"k\":\"v\"},\"annotations\":null}}]}";
    cs_kube_meta_t *got = NULL;
    cs_kube_list_parser_t *p = NULL;
    cr_expect_eq(cs_kube_list_parser_new(&d, NULL, NULL, 0, 0, &p), CS_EINVAL, "an item callback is required");
    cr_assert_eq(cs_kube_list_parser_new(&d, keep_meta, &got, 0, 0, &p), 0);
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_list_parser_feed(p, obj, strlen(obj), &err), 0, "%s", err.msg);
    cr_assert_eq(cs_kube_list_parser_finish(p, &err), 0, "%s", err.msg);
    cr_assert_not_null(got);
    cr_expect_str_eq(got->name, "n");
    cr_expect_str_eq(got->namespace, "s");
    cr_expect_str_eq(got->uid, "u");
    cr_expect_str_eq(got->resource_version, "9");
    cr_expect_eq(got->generation, 4);
    cr_expect_str_eq(cs_labels_get(&got->labels, "k"), "v");
    cr_expect_eq(got->annotations.count, 0);
    d.destroy(NULL, got);
    cs_kube_list_parser_free(p);
}

/* A decoder that skips spec.csi: its tokens never arrive, later ones do. */
static int skip_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    int *tokens = ctx;
    if (CS_KUBE_UNDER(f, "spec", "csi"))
        cr_assert_fail("a token inside a skipped container arrived");
    (*tokens)++;
    if (CS_KUBE_AT(f, "spec", "csi") && f->ev->kind == CS_JS_MAP_START)
        return CS_KUBE_SKIP;
    return pv_field(NULL, obj, f);
}

Test(decode, decoder_can_skip_subtrees)
{
    int tokens = 0;
    cs_kube_decoder_t d = {pv_create, skip_field, NULL, pv_destroy, &tokens};
    items_t it = {0};
    cs_kube_list_parser_t *p = NULL;
    cr_assert_eq(cs_kube_list_parser_new(&d, collect, &it, 0, 0, &p), 0);
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_list_parser_feed(p, PAGE, strlen(PAGE), &err), 0, "%s", err.msg);
    cr_assert_eq(cs_kube_list_parser_finish(p, &err), 0, "%s", err.msg);
    cr_assert_eq(it.n, 2);
    cr_expect_null(it.v[0]->driver, "skipped");
    cr_expect_eq(it.v[0]->capacity_items, 1, "the sibling before it was seen");
    cr_expect_str_eq(it.v[1]->meta.name, "pvc-2");
    items_free(&it);
    cs_kube_list_parser_free(p);

    seen_t s = {0};
    cs_kube_watch_parser_t *w = NULL;
    d.ctx = &tokens;
    cr_assert_eq(cs_kube_watch_parser_new(&d, on_event, &s, 0, 0, &w), 0);
    cr_assert_eq(cs_kube_watch_parser_feed(w, STREAM, strlen(STREAM), &err), 0, "%s", err.msg);
    cr_assert_eq(s.n, 5);
    cr_expect_str_eq(s.driver[0], "", "skipped in watch events too");
    cr_expect_str_eq(s.name[0], "a", "identity is kept");
    cs_kube_watch_parser_free(w);
}
