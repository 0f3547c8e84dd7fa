/* buf.h: 4096-byte aligned I/O buffers (the seed's DmaBuf role), optionally
 * backed by huge pages and locked in memory, behind an allocator interface so
 * that another allocator (SPDK's spdk_dma_malloc, for one) can be plugged in;
 * and a bounded, thread-safe pool of equal-sized buffers for hot paths.
 *
 * Only the default allocator (posix_memalign / mmap) is built and tested
 * here. SPDK is not available on this system and no SPDK allocator is
 * provided or claimed.
 *
 * Ownership: cs_buf_alloc() returns a buffer the caller owns and releases
 * with cs_buf_free(). A buffer taken from a pool with cs_bufpool_get() is
 * owned by the caller until it is given back with cs_bufpool_put(). */
#ifndef COUCHESTOR_BUF_H
#define COUCHESTOR_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

/* Alignment of every buffer's data, and the O_DIRECT unit used by io.h. */
#define CS_BUF_ALIGN 4096u
/* Size of the huge pages the default allocator asks for (x86-64 default). */
#define CS_BUF_HUGEPAGE_SIZE ((size_t)2 * 1024 * 1024)

/* Request flags; cs_buf_t.flags says which of them were obtained. */
enum cs_buf_flags {
    CS_BUF_HUGEPAGE = 1u << 0, /* back with hugetlbfs pages; falls back to normal pages */
    CS_BUF_MLOCK = 1u << 1,    /* lock in memory (best effort: RLIMIT_MEMLOCK may refuse) */
    CS_BUF_ZERO = 1u << 2,     /* zero the contents */
};

typedef struct cs_allocator_s cs_allocator_t;

typedef struct cs_buf_s {
    uint8_t *data;                   /* CS_BUF_ALIGN-aligned, never NULL for a live buffer */
    size_t len;                      /* the size asked for */
    size_t cap;                      /* bytes usable at data (>= len, multiple of CS_BUF_ALIGN) */
    unsigned flags;                  /* cs_buf_flags actually obtained */
    const cs_allocator_t *allocator; /* who releases it */
    void *priv;                      /* allocator's own bookkeeping */
} cs_buf_t;

/* An allocator fills buf->data, cap, flags and priv for a request of `size`
 * bytes with `flags`, or returns a negative code (CS_EDMA_ALLOCATION_FAILED)
 * with a message. release() undoes alloc(); it is called once per buffer. */
struct cs_allocator_s {
    const char *name;
    int (*alloc)(const cs_allocator_t *self, size_t size, unsigned flags, cs_buf_t *buf, cs_err_t *err);
    void (*release)(const cs_allocator_t *self, cs_buf_t *buf);
    void *ctx;
};

/* The process allocator: posix_memalign, or mmap(MAP_HUGETLB) when
 * CS_BUF_HUGEPAGE is asked for and huge pages are configured (falls back to
 * ordinary pages with a transparent-huge-page hint when they are not). */
const cs_allocator_t *cs_allocator_default(void);

/* Allocates a buffer of `size` bytes (0 allowed: one page). On failure
 * returns CS_EDMA_ALLOCATION_FAILED with "DmaAllocationFailed: size N,
 * reason: ..." and *out is left NULL. */
int cs_buf_alloc(size_t size, unsigned flags, cs_buf_t **out, cs_err_t *err);
/* Same with a given allocator (NULL = default). */
int cs_buf_alloc_with(const cs_allocator_t *allocator, size_t size, unsigned flags, cs_buf_t **out, cs_err_t *err);
/* Releases the buffer and sets *buf to NULL. NULL or *buf == NULL: no-op. */
void cs_buf_free(cs_buf_t **buf);

/* A pool of buffers of one size. Thread-safe. Buffers handed back beyond
 * max_cached are released rather than kept, so the pool's idle memory is
 * bounded by buf_size * max_cached. */
typedef struct cs_bufpool_s cs_bufpool_t;

int cs_bufpool_new(size_t buf_size, size_t max_cached, unsigned flags, cs_bufpool_t **out, cs_err_t *err);
/* A buffer of the pool's size: a cached one if any (its contents are
 * whatever its last user left), else a new allocation. */
int cs_bufpool_get(cs_bufpool_t *pool, cs_buf_t **out, cs_err_t *err);
/* Gives a buffer from cs_bufpool_get back. NULL is a no-op. */
void cs_bufpool_put(cs_bufpool_t *pool, cs_buf_t *buf);
/* Buffers currently handed out and not yet given back. */
size_t cs_bufpool_outstanding(cs_bufpool_t *pool);
/* Frees the pool and its cached buffers and sets *pool to NULL. Refuses with
 * CS_EBUSY (nothing is freed) while buffers are still handed out. NULL or
 * *pool == NULL: returns 0. */
int cs_bufpool_free(cs_bufpool_t **pool);

#endif
