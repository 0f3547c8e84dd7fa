/* Tests for aligned buffers, the allocator interface and the buffer pool. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "couchestor/buf.h"

Test(buf, aligned_sized_and_zeroed)
{
    size_t sizes[] = {0, 1, 4095, 4096, 4097, 1u << 20, (3u << 20) + 5};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        cs_buf_t *b = NULL;
        cr_assert_eq(cs_buf_alloc(sizes[i], CS_BUF_ZERO, &b, NULL), 0);
        cr_expect_eq((uintptr_t)b->data % CS_BUF_ALIGN, 0);
        cr_expect_eq(b->len, sizes[i]);
        cr_expect_geq(b->cap, sizes[i]);
        cr_expect_eq(b->cap % CS_BUF_ALIGN, 0);
        cr_expect(b->flags & CS_BUF_ZERO);
        for (size_t j = 0; j < b->cap; j += 511)
            cr_assert_eq(b->data[j], 0);
        memset(b->data, 0xAB, b->cap);
        cs_buf_free(&b);
        cr_expect_null(b);
    }
    cs_buf_free(NULL);
    cs_buf_t *none = NULL;
    cs_buf_free(&none);
}

Test(buf, hugepage_request_falls_back_cleanly)
{
    /* With no hugetlbfs pages configured the buffer is still usable and
     * says it is not huge-page backed; with pages it must be 2 MiB sized. */
    cs_buf_t *b = NULL;
    cr_assert_eq(cs_buf_alloc(3u << 20, CS_BUF_HUGEPAGE | CS_BUF_ZERO, &b, NULL), 0);
    cr_expect_eq((uintptr_t)b->data % CS_BUF_ALIGN, 0);
    if (b->flags & CS_BUF_HUGEPAGE)
        cr_expect_eq(b->cap % CS_BUF_HUGEPAGE_SIZE, 0);
    else
        cr_expect_eq(b->cap, 3u << 20);
    cr_expect_eq(b->data[b->len - 1], 0);
    memset(b->data, 1, b->len);
    cs_buf_free(&b);
}

Test(buf, mlock_is_best_effort)
{
    cs_buf_t *b = NULL;
    cr_assert_eq(cs_buf_alloc(8192, CS_BUF_MLOCK, &b, NULL), 0);
    b->data[0] = 1;
    cs_buf_free(&b);
}

Test(buf, impossible_size_reports_dma_allocation_failed)
{
    cs_buf_t *b = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_buf_alloc(SIZE_MAX - 10, 0, &b, &err), CS_EDMA_ALLOCATION_FAILED);
    cr_expect_null(b);
    cr_expect_str_eq(err.msg, "DmaAllocationFailed: size 18446744073709551605, reason: size overflows");
#if defined(__SANITIZE_ADDRESS__)
#define CS_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CS_TEST_ASAN 1
#endif
#endif
#ifdef CS_TEST_ASAN
    return; /* ASan aborts on impossible allocations instead of returning NULL */
#endif
    cr_expect_eq(cs_buf_alloc((size_t)1 << 62, 0, &b, &err), CS_EDMA_ALLOCATION_FAILED);
    cr_expect(strncmp(err.msg, "DmaAllocationFailed: size 4611686018427387904, reason: posix_memalign: ", 70) == 0,
              "%s", err.msg);
}

/* A custom allocator through the interface, as an SPDK one would plug in. */
typedef struct {
    int allocs, releases;
    int fail;
} counting_ctx_t;

static int counting_alloc(const cs_allocator_t *self, size_t size, unsigned flags, cs_buf_t *buf, cs_err_t *err)
{
    counting_ctx_t *c = self->ctx;
    if (c->fail)
        return cs_err_set(err, CS_EDMA_ALLOCATION_FAILED,
                          "DmaAllocationFailed: size %zu, reason: test allocator refuses", size);
    c->allocs++;
    buf->cap = (size + 4095) / 4096 * 4096;
    buf->data = aligned_alloc(4096, buf->cap ? buf->cap : 4096);
    buf->flags = 0;
    return 0;
}

static void counting_release(const cs_allocator_t *self, cs_buf_t *buf)
{
    counting_ctx_t *c = self->ctx;
    c->releases++;
    free(buf->data);
}

Test(buf, custom_allocator)
{
    counting_ctx_t ctx = {0};
    cs_allocator_t a = {.name = "counting", .alloc = counting_alloc, .release = counting_release, .ctx = &ctx};
    cs_buf_t *b = NULL;
    cr_assert_eq(cs_buf_alloc_with(&a, 10000, CS_BUF_ZERO, &b, NULL), 0);
    cr_expect_eq(b->allocator, &a);
    cr_expect_eq(b->data[9999], 0);
    cs_buf_free(&b);
    cr_expect_eq(ctx.allocs, 1);
    cr_expect_eq(ctx.releases, 1);
    ctx.fail = 1;
    cs_err_t err = {0};
    cr_expect_eq(cs_buf_alloc_with(&a, 10, 0, &b, &err), CS_EDMA_ALLOCATION_FAILED);
    cr_expect_null(b);
    cr_expect_str_eq(err.msg, "DmaAllocationFailed: size 10, reason: test allocator refuses");
    cr_expect_str_eq(cs_allocator_default()->name, "posix_memalign/hugetlb");
}

Test(bufpool, reuses_and_bounds)
{
    cs_bufpool_t *p = NULL;
    cr_assert_eq(cs_bufpool_new(65536, 2, 0, &p, NULL), 0);
    cs_buf_t *a, *b, *c;
    cr_assert_eq(cs_bufpool_get(p, &a, NULL), 0);
    cr_assert_eq(cs_bufpool_get(p, &b, NULL), 0);
    cr_assert_eq(cs_bufpool_get(p, &c, NULL), 0);
    cr_expect_eq(a->len, 65536);
    cr_expect_eq(cs_bufpool_outstanding(p), 3);
    cr_expect_eq(cs_bufpool_free(&p), CS_EBUSY);
    cr_expect_not_null(p);
    uint8_t *a_data = a->data;
    cs_bufpool_put(p, a);
    cs_bufpool_put(p, b);
    cs_bufpool_put(p, c); /* beyond max_cached: released */
    cs_bufpool_put(p, NULL);
    cr_expect_eq(cs_bufpool_outstanding(p), 0);
    cs_buf_t *d, *e;
    cr_assert_eq(cs_bufpool_get(p, &d, NULL), 0);
    cr_assert_eq(cs_bufpool_get(p, &e, NULL), 0);
    cr_expect(d->data == a_data || e->data == a_data, "a cached buffer is handed out again");
    cs_bufpool_put(p, d);
    cs_bufpool_put(p, e);
    cr_expect_eq(cs_bufpool_free(&p), 0);
    cr_expect_null(p);
    cr_expect_eq(cs_bufpool_free(&p), 0);
}
