/* buf.c: the default aligned/huge-page allocator and cs_buf_t lifetime. */
#include "couchestor/buf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CS__BUF_MMAPPED ((void *)1)

static size_t cs__round_up(size_t v, size_t to)
{
    return (v + to - 1) / to * to;
}

static int cs__default_alloc(const cs_allocator_t *self, size_t size, unsigned flags, cs_buf_t *buf, cs_err_t *err)
{
    size_t cap = cs__round_up(size ? size : 1, CS_BUF_ALIGN);
    if (cap < size)
        return cs_err_set(err, CS_EDMA_ALLOCATION_FAILED, "DmaAllocationFailed: size %zu, reason: size overflows",
                          size);
    buf->flags = 0;
    buf->priv = NULL;
    if (flags & CS_BUF_HUGEPAGE) {
        size_t hcap = cs__round_up(cap, CS_BUF_HUGEPAGE_SIZE);
        void *p = mmap(NULL, hcap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
        if (p != MAP_FAILED) {
            buf->data = p;
            buf->cap = hcap;
            buf->flags |= CS_BUF_HUGEPAGE;
            buf->priv = CS__BUF_MMAPPED;
            return 0; /* anonymous mappings are already zero */
        }
        /* No hugetlbfs pages configured: ordinary pages, with a THP hint. */
    }
    void *p = NULL;
    int rc = posix_memalign(&p, CS_BUF_ALIGN, cap);
    if (rc != 0 || !p)
        return cs_err_set(err, CS_EDMA_ALLOCATION_FAILED, "DmaAllocationFailed: size %zu, reason: posix_memalign: %s",
                          size, strerror(rc ? rc : ENOMEM));
    if ((flags & CS_BUF_HUGEPAGE) && cap >= CS_BUF_HUGEPAGE_SIZE)
        (void)madvise(p, cap, MADV_HUGEPAGE);
    if (flags & CS_BUF_ZERO)
        memset(p, 0, cap);
    buf->data = p;
    buf->cap = cap;
    return 0;
}

static void cs__default_release(const cs_allocator_t *self, cs_buf_t *buf)
{
    if (buf->flags & CS_BUF_MLOCK)
        (void)munlock(buf->data, buf->cap);
    if (buf->priv == CS__BUF_MMAPPED)
        munmap(buf->data, buf->cap);
    else
        free(buf->data);
}

static const cs_allocator_t cs__default_allocator = {
    .name = "posix_memalign/hugetlb",
    .alloc = cs__default_alloc,
    .release = cs__default_release,
    .ctx = NULL,
};

const cs_allocator_t *cs_allocator_default(void)
{
    return &cs__default_allocator;
}

int cs_buf_alloc_with(const cs_allocator_t *allocator, size_t size, unsigned flags, cs_buf_t **out, cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_buf_alloc: out is NULL");
    *out = NULL;
    if (!allocator)
        allocator = &cs__default_allocator;
    cs_buf_t *buf = calloc(1, sizeof *buf);
    if (!buf)
        return cs_err_set(err, CS_EDMA_ALLOCATION_FAILED,
                          "DmaAllocationFailed: size %zu, reason: out of memory for descriptor", size);
    int rc = allocator->alloc(allocator, size, flags, buf, err);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf->len = size;
    buf->allocator = allocator;
    if ((flags & CS_BUF_ZERO) && allocator != &cs__default_allocator)
        memset(buf->data, 0, buf->cap);
    if ((flags & CS_BUF_MLOCK) && mlock(buf->data, buf->cap) == 0)
        buf->flags |= CS_BUF_MLOCK;
    if (flags & CS_BUF_ZERO)
        buf->flags |= CS_BUF_ZERO;
    *out = buf;
    return 0;
}

int cs_buf_alloc(size_t size, unsigned flags, cs_buf_t **out, cs_err_t *err)
{
    return cs_buf_alloc_with(NULL, size, flags, out, err);
}

void cs_buf_free(cs_buf_t **buf)
{
    if (!buf || !*buf)
        return;
    cs_buf_t *b = *buf;
    b->allocator->release(b->allocator, b);
    free(b);
    *buf = NULL;
}
