/* cache_l1.h: L1, the in-memory cache tier: sharded tables of immutable,
 * reference-counted entries with a byte capacity (seed default 50 GiB,
 * nothing preallocated) and CLOCK eviction per shard.
 *
 * Read path: a lookup takes no lock. Each shard's table is read under a
 * sequence lock (a writer makes the sequence odd while it changes the table;
 * a reader that saw it change looks again), and entries live in slab memory
 * that is never returned to the allocator while the cache lives, so a reader
 * racing a writer reads stale memory, never freed memory, and throws it
 * away. cs_l1_get takes its reference with one atomic increment (if the
 * entry is not already free) and returns it; cs_l1_get_copy of a value of
 * up to about 2 KiB (key included) copies under the sequence lock and takes
 * no reference. Recency is one relaxed store of the entry's CLOCK bit (only
 * when clear). Readers hold a reference: an entry evicted, replaced or
 * deleted while a reader holds it is freed only when the last reference is
 * released, even after cs_l1_free.
 *
 * Keys are hashed with a keyed 64-bit multiply-mix under a 128-bit seed
 * drawn from getrandom() per cache (docs/cache.md says what it resists).
 *
 * Memory: entries are carved from 64 KiB slabs in size classes of 64..2048
 * bytes (header, key and a small value; a larger value has its own
 * allocation). A freed entry's slot is reused by the next entry of its class;
 * slabs, and the tables a shard outgrew, are freed by cs_l1_free (the slabs
 * when the last outstanding reference is released). So L1 keeps the memory
 * of its largest population of each size class.
 *
 * Capacity: a put reserves its charge (cs_l1_charge) against the capacity
 * before linking the entry, evicting first when needed (from its own shard,
 * under the mutex the insert takes anyway; from the other shards in turn
 * only when its own is empty), so the tracked size never exceeds the
 * capacity, under any concurrency.
 *
 * Counters: hits and misses are counted in 64 stripes, given to threads in
 * turn, with a plain load and store (no atomic read-modify-write on the read
 * path). They are exact while no two running threads share a stripe, i.e.
 * while fewer than 64 threads have used L1 in this process; beyond that two
 * hits counted at the same instant on one stripe may count once.
 *
 * Thread safety: every function may be called from any thread at once,
 * except cs_l1_free(). */
#ifndef COUCHESTOR_CACHE_L1_H
#define COUCHESTOR_CACHE_L1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/cache_map.h"
#include "couchestor/error.h"

#define CS_L1_CAPACITY_DEFAULT (50ull << 30) /* 50 GiB, the seed's default */

typedef struct cs_l1_s cs_l1_t;
/* An immutable cached value. Borrowed from cs_l1_get() until
 * cs_l1_entry_release(). */
typedef struct cs_l1_entry_s cs_l1_entry_t;

/* Called for each entry evicted to make room (not for delete or replace),
 * after it is unlinked and while its shard's writer mutex is still held
 * (readers are not blocked), so that no
 * put or delete of the same key can run before the callback returns (the
 * tiered manager demotes to L2 here). It must not call into this L1. The
 * entry is valid for the duration of the call; take no reference. */
typedef void (*cs_l1_evict_fn)(void *ctx, const cs_l1_entry_t *entry);

typedef struct cs_l1_config_s {
    uint64_t capacity_bytes; /* 0 = CS_L1_CAPACITY_DEFAULT */
    uint32_t shards;         /* power of two; 0 = 1024 */
    uint64_t seed[2];        /* hash seed; zero = random */
    cs_l1_evict_fn on_evict; /* optional */
    void *evict_ctx;
} cs_l1_config_t;

typedef struct cs_l1_stats_s {
    uint64_t hits;
    uint64_t misses;
    uint64_t inserts;   /* puts that linked an entry (new or replacing) */
    uint64_t evictions; /* entries evicted for capacity */
    uint64_t bytes;     /* sum of charges of linked entries */
    uint64_t entries;   /* linked entries */
    uint64_t capacity_bytes;
} cs_l1_stats_t;

/* Bytes an entry counts against the capacity: key + value + fixed overhead. */
size_t cs_l1_charge(size_t klen, size_t vlen);

int cs_l1_new(const cs_l1_config_t *cfg, cs_l1_t **out, cs_err_t *err);
/* Frees every entry (outstanding references stay valid until released) and
 * the cache; sets *l1 to NULL. NULL is a no-op. No other call may run. */
void cs_l1_free(cs_l1_t **l1);

/* Looks the key up. On a hit returns 0 and *out holds a reference the caller
 * releases; CS_ENOTFOUND on a miss; CS_EINVAL for a bad key. */
int cs_l1_get(cs_l1_t *l1, const void *key, size_t klen, cs_l1_entry_t **out);
/* Copies the value into buf (cap bytes) and sets *vlen. CS_ENOTFOUND on a
 * miss; CS_ETOOBIG when cap < value length (then *vlen is the length; the
 * lookup counts as a hit). Only a return of 0 defines buf's contents: a
 * lookup that raced a writer and looked again may have written buf. */
int cs_l1_get_copy(cs_l1_t *l1, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen);
/* True when the key is cached; no counters change and no CLOCK bit is set. */
bool cs_l1_contains(cs_l1_t *l1, const void *key, size_t klen);

/* Copies key and value into a new entry carrying `flags` (the caller's own
 * bits) and links it, replacing any entry with the same key. Errors (no
 * operation is performed): CS_EINVAL (empty or too long key), CS_ETOOBIG
 * (charge larger than the capacity), CS_ENOMEM. */
int cs_l1_put(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen, uint32_t flags, cs_err_t *err);
/* Like cs_l1_put but leaves an existing entry alone: CS_EEXISTS then. */
int cs_l1_put_if_absent(cs_l1_t *l1, const void *key, size_t klen, const void *value, size_t vlen, uint32_t flags,
                        cs_err_t *err);
/* Unlinks the key's entry: 0, or CS_ENOTFOUND. */
int cs_l1_delete(cs_l1_t *l1, const void *key, size_t klen);

/* Entry accessors; the pointers live as long as the reference. */
const void *cs_l1_entry_value(const cs_l1_entry_t *e, size_t *vlen);
const void *cs_l1_entry_key(const cs_l1_entry_t *e, size_t *klen);
uint32_t cs_l1_entry_flags(const cs_l1_entry_t *e);
/* Drops the reference and sets *e to NULL; NULL or *e == NULL is a no-op. */
void cs_l1_entry_release(cs_l1_entry_t **e);

void cs_l1_stats(cs_l1_t *l1, cs_l1_stats_t *out);

#endif
