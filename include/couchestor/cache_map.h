/* cache_map.h: the sharded hash map under the cache tiers: a power-of-two
 * number of shards (1024 by default), shard = hash & (shards - 1), one
 * reader/writer lock per shard, keys are byte strings of at most
 * CS_CACHE_KEY_MAX bytes hashed with SipHash-1-3 under a per-map random seed
 * (so crafted keys cannot pile into one shard).
 *
 * The map is intrusive and lock-explicit: callers embed a cs_cache_node_t in
 * their own item, lock the shard the key hashes to, and call the *_locked
 * functions. This lets L1 take a reference on an item under the read lock
 * and L2 pin a segment, without copying and without a callback per lookup.
 *
 * Ownership: the map never allocates or frees items; it stores pointers to
 * nodes the caller owns. cs_cache_map_free() refuses (returns CS_EBUSY) while
 * nodes are still linked; drain it first with cs_cache_map_drain().
 *
 * Inside a shard, items live in an open-addressing table (linear probing,
 * backward-shift deletion, grown x2 at 3/4 load) that also carries a CLOCK
 * hand for eviction in slot order. */
#ifndef COUCHESTOR_CACHE_MAP_H
#define COUCHESTOR_CACHE_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

/* Longest key any cache tier accepts, in bytes. */
#define CS_CACHE_KEY_MAX 1024u
/* Default shard count (the seed's 1024). */
#define CS_CACHE_MAP_SHARDS_DEFAULT 1024u
/* Largest shard count accepted. */
#define CS_CACHE_MAP_SHARDS_MAX 65536u

/* Embedded in a caller's item. hash, key and klen are set by the caller
 * (hash with cs_cache_map_hash()) before insertion and not changed while
 * linked; key must stay valid while the node is linked. */
typedef struct cs_cache_node_s {
    uint64_t hash;
    const uint8_t *key;
    uint32_t klen;
} cs_cache_node_t;

typedef struct cs_cache_map_config_s {
    uint32_t shards;        /* power of two, 1..CS_CACHE_MAP_SHARDS_MAX; 0 = 1024 */
    uint64_t seed[2];       /* SipHash key; all zero = random (getrandom) */
    uint32_t initial_slots; /* per shard, rounded up to a power of two; 0 = 16 */
} cs_cache_map_config_t;

typedef struct cs_cache_map_s cs_cache_map_t;

/* Creates a map. cfg may be NULL (defaults). CS_EINVAL for a shard count
 * that is not a power of two or too large; CS_ENOMEM. */
int cs_cache_map_new(const cs_cache_map_config_t *cfg, cs_cache_map_t **out, cs_err_t *err);
/* Frees the map and sets *map to NULL. CS_EBUSY (no operation is performed)
 * while nodes are linked. NULL or *map == NULL is a no-op returning 0. */
int cs_cache_map_free(cs_cache_map_t **map);

/* Keyed SipHash-1-3 of the key under this map's seed. */
uint64_t cs_cache_map_hash(const cs_cache_map_t *map, const void *key, size_t klen);
uint32_t cs_cache_map_shard_count(const cs_cache_map_t *map);
static inline uint32_t cs_cache_map_shard_of(uint32_t shard_count, uint64_t hash)
{
    return (uint32_t)hash & (shard_count - 1u);
}
/* The shard index of a hash for this map. */
uint32_t cs_cache_map_shard(const cs_cache_map_t *map, uint64_t hash);

/* Per-shard locks. Readers may run together; a writer excludes all. */
void cs_cache_map_read_lock(cs_cache_map_t *map, uint32_t shard);
void cs_cache_map_read_unlock(cs_cache_map_t *map, uint32_t shard);
void cs_cache_map_write_lock(cs_cache_map_t *map, uint32_t shard);
void cs_cache_map_write_unlock(cs_cache_map_t *map, uint32_t shard);

/* The node with this key in the shard (read or write lock held), or NULL. */
cs_cache_node_t *cs_cache_map_find_locked(cs_cache_map_t *map, uint32_t shard, uint64_t hash, const void *key,
                                          size_t klen);
/* Links node (write lock held). If a node with the same key is linked, it is
 * unlinked and returned in *replaced (else *replaced = NULL). CS_ENOMEM when
 * the table cannot grow: no operation is performed. */
int cs_cache_map_insert_locked(cs_cache_map_t *map, uint32_t shard, cs_cache_node_t *node, cs_cache_node_t **replaced);
/* Unlinks and returns the node with this key (write lock held), or NULL. */
cs_cache_node_t *cs_cache_map_remove_locked(cs_cache_map_t *map, uint32_t shard, uint64_t hash, const void *key,
                                            size_t klen);
/* Unlinks exactly this node if it is linked (write lock held). */
bool cs_cache_map_unlink_locked(cs_cache_map_t *map, uint32_t shard, cs_cache_node_t *node);
/* Number of nodes in the shard (any lock held). */
size_t cs_cache_map_count_locked(const cs_cache_map_t *map, uint32_t shard);
/* Total nodes over all shards; takes each shard's read lock in turn, so the
 * result is a snapshot per shard, not of the whole map. */
size_t cs_cache_map_count(cs_cache_map_t *map);

/* CLOCK hand of a shard (write lock held): the node under the hand, moving
 * the hand forward past empty slots; NULL when the shard is empty. After
 * unlinking the returned node, call clock_hand again without advancing (a
 * node may have shifted into the slot); otherwise advance. */
cs_cache_node_t *cs_cache_map_clock_hand_locked(cs_cache_map_t *map, uint32_t shard);
void cs_cache_map_clock_advance_locked(cs_cache_map_t *map, uint32_t shard);

/* Unlinks every node of every shard, calling fn(node, ctx) after each is
 * unlinked (fn may free it). Takes each shard's write lock in turn. */
void cs_cache_map_drain(cs_cache_map_t *map, void (*fn)(cs_cache_node_t *node, void *ctx), void *ctx);
/* Calls fn for every node of one shard (lock held by the caller); fn must not
 * link or unlink. Stops early when fn returns false. */
void cs_cache_map_foreach_locked(cs_cache_map_t *map, uint32_t shard, bool (*fn)(cs_cache_node_t *node, void *ctx),
                                 void *ctx);

/* SipHash-1-3 with a 128-bit key, exposed for tests and benchmarks. */
uint64_t cs_siphash13(const uint64_t k[2], const void *data, size_t len);

#endif
