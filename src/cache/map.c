/* map.c: the sharded, intrusive, open-addressing hash map (cache_map.h). */
#include "couchestor/cache_map.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "couchestor/endian.h"

typedef struct cs__slot_s {
    uint64_t hash;
    cs_cache_node_t *node; /* NULL = empty */
} cs__slot_t;

/* One cache line pair per shard so that two threads on different shards
 * never bounce the same line. */
typedef struct cs__shard_s {
    pthread_rwlock_t lock;
    cs__slot_t *slots;
    uint32_t mask; /* slots - 1 */
    uint32_t count;
    uint32_t hand;
} __attribute__((aligned(128))) cs__shard_t;

struct cs_cache_map_s {
    uint64_t seed[2];
    uint32_t nshards;
    cs__shard_t *shards;
};

/* ---- SipHash-1-3 ---- */

#define CS__ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define CS__SIPROUND           \
    do {                       \
        v0 += v1;              \
        v1 = CS__ROTL(v1, 13); \
        v1 ^= v0;              \
        v0 = CS__ROTL(v0, 32); \
        v2 += v3;              \
        v3 = CS__ROTL(v3, 16); \
        v3 ^= v2;              \
        v0 += v3;              \
        v3 = CS__ROTL(v3, 21); \
        v3 ^= v0;              \
        v2 += v1;              \
        v1 = CS__ROTL(v1, 17); \
        v1 ^= v2;              \
        v2 = CS__ROTL(v2, 32); \
    } while (0)

uint64_t cs_siphash13(const uint64_t k[2], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t v0 = 0x736f6d6570736575ULL ^ k[0];
    uint64_t v1 = 0x646f72616e646f6dULL ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ k[0];
    uint64_t v3 = 0x7465646279746573ULL ^ k[1];
    const uint8_t *end = in + (len & ~(size_t)7);
    for (; in != end; in += 8) {
        uint64_t m = cs_le64_load(in);
        v3 ^= m;
        CS__SIPROUND;
        v0 ^= m;
    }
    uint64_t b = ((uint64_t)len) << 56;
    switch (len & 7) {
    case 7:
        b |= ((uint64_t)in[6]) << 48; /* fall through */
    case 6:
        b |= ((uint64_t)in[5]) << 40; /* fall through */
    case 5:
        b |= ((uint64_t)in[4]) << 32; /* fall through */
    case 4:
        b |= ((uint64_t)in[3]) << 24; /* fall through */
    case 3:
        b |= ((uint64_t)in[2]) << 16; /* fall through */
    case 2:
        b |= ((uint64_t)in[1]) << 8; /* fall through */
    case 1:
        b |= ((uint64_t)in[0]);
        break;
    case 0:
        break;
    }
    v3 ^= b;
    CS__SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    CS__SIPROUND;
    CS__SIPROUND;
    CS__SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- map ---- */

static uint32_t cs__pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n && p < (1u << 30))
        p <<= 1;
    return p;
}

int cs_cache_map_new(const cs_cache_map_config_t *cfg, cs_cache_map_t **out, cs_err_t *err)
{
    cs_cache_map_config_t c = {0};
    if (cfg)
        c = *cfg;
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cache map: out is NULL");
    *out = NULL;
    if (c.shards == 0)
        c.shards = CS_CACHE_MAP_SHARDS_DEFAULT;
    if (c.shards > CS_CACHE_MAP_SHARDS_MAX || (c.shards & (c.shards - 1)) != 0)
        return cs_err_set(err, CS_EINVAL, "cache map: shard count %u must be a power of two between 1 and %u", c.shards,
                          CS_CACHE_MAP_SHARDS_MAX);
    uint32_t slots = cs__pow2_at_least(c.initial_slots ? c.initial_slots : 16);
    if (slots < 4)
        slots = 4;

    cs_cache_map_t *m = calloc(1, sizeof *m);
    if (!m)
        return cs_err_set(err, CS_ENOMEM, "cache map: out of memory");
    if (c.seed[0] == 0 && c.seed[1] == 0) {
        if (getrandom(c.seed, sizeof c.seed, 0) != (ssize_t)sizeof c.seed) {
            free(m);
            return cs_err_set(err, CS_EIO, "cache map: getrandom for the hash seed failed: %s", strerror(errno));
        }
    }
    m->seed[0] = c.seed[0];
    m->seed[1] = c.seed[1];
    m->nshards = c.shards;
    if (posix_memalign((void **)&m->shards, 128, sizeof(cs__shard_t) * c.shards) != 0) {
        free(m);
        return cs_err_set(err, CS_ENOMEM, "cache map: out of memory for %u shards", c.shards);
    }
    memset(m->shards, 0, sizeof(cs__shard_t) * c.shards);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    /* Writers (put, evict) must not starve under a read-heavy load. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    uint32_t i;
    for (i = 0; i < c.shards; i++) {
        cs__shard_t *s = &m->shards[i];
        s->slots = calloc(slots, sizeof *s->slots);
        if (!s->slots)
            break;
        s->mask = slots - 1;
        pthread_rwlock_init(&s->lock, &attr);
    }
    pthread_rwlockattr_destroy(&attr);
    if (i < c.shards) {
        while (i-- > 0) {
            free(m->shards[i].slots);
            pthread_rwlock_destroy(&m->shards[i].lock);
        }
        free(m->shards);
        free(m);
        return cs_err_set(err, CS_ENOMEM, "cache map: out of memory for shard tables");
    }
    *out = m;
    return 0;
}

int cs_cache_map_free(cs_cache_map_t **map)
{
    if (!map || !*map)
        return 0;
    cs_cache_map_t *m = *map;
    for (uint32_t i = 0; i < m->nshards; i++)
        if (m->shards[i].count != 0)
            return CS_EBUSY;
    for (uint32_t i = 0; i < m->nshards; i++) {
        free(m->shards[i].slots);
        pthread_rwlock_destroy(&m->shards[i].lock);
    }
    free(m->shards);
    free(m);
    *map = NULL;
    return 0;
}

uint64_t cs_cache_map_hash(const cs_cache_map_t *map, const void *key, size_t klen)
{
    return cs_siphash13(map->seed, key, klen);
}

uint32_t cs_cache_map_shard_count(const cs_cache_map_t *map)
{
    return map->nshards;
}

uint32_t cs_cache_map_shard(const cs_cache_map_t *map, uint64_t hash)
{
    return cs_cache_map_shard_of(map->nshards, hash);
}

void cs_cache_map_read_lock(cs_cache_map_t *map, uint32_t shard)
{
    pthread_rwlock_rdlock(&map->shards[shard].lock);
}

void cs_cache_map_read_unlock(cs_cache_map_t *map, uint32_t shard)
{
    pthread_rwlock_unlock(&map->shards[shard].lock);
}

void cs_cache_map_write_lock(cs_cache_map_t *map, uint32_t shard)
{
    pthread_rwlock_wrlock(&map->shards[shard].lock);
}

void cs_cache_map_write_unlock(cs_cache_map_t *map, uint32_t shard)
{
    pthread_rwlock_unlock(&map->shards[shard].lock);
}

/* The slot index a hash starts probing at: bits above the shard bits. */
static inline uint32_t cs__home(const cs__shard_t *s, uint64_t hash)
{
    return (uint32_t)(hash >> 32) & s->mask;
}

static inline bool cs__match(const cs__slot_t *sl, uint64_t hash, const void *key, size_t klen)
{
    return sl->hash == hash && sl->node->klen == klen && memcmp(sl->node->key, key, klen) == 0;
}

cs_cache_node_t *cs_cache_map_find_locked(cs_cache_map_t *map, uint32_t shard, uint64_t hash, const void *key,
                                          size_t klen)
{
    cs__shard_t *s = &map->shards[shard];
    uint32_t i = cs__home(s, hash);
    for (;;) {
        cs__slot_t *sl = &s->slots[i];
        if (!sl->node)
            return NULL;
        if (cs__match(sl, hash, key, klen))
            return sl->node;
        i = (i + 1) & s->mask;
    }
}

static int cs__grow(cs__shard_t *s)
{
    uint32_t nslots = (s->mask + 1) * 2;
    if (nslots == 0 || nslots > (1u << 30))
        return CS_ENOMEM;
    cs__slot_t *ns = calloc(nslots, sizeof *ns);
    if (!ns)
        return CS_ENOMEM;
    uint32_t nmask = nslots - 1;
    for (uint32_t i = 0; i <= s->mask; i++) {
        cs__slot_t *sl = &s->slots[i];
        if (!sl->node)
            continue;
        uint32_t j = (uint32_t)(sl->hash >> 32) & nmask;
        while (ns[j].node)
            j = (j + 1) & nmask;
        ns[j] = *sl;
    }
    /* Keep the hand at the same relative position. */
    s->hand = (uint32_t)(((uint64_t)s->hand * nslots) / (s->mask + 1));
    free(s->slots);
    s->slots = ns;
    s->mask = nmask;
    return 0;
}

int cs_cache_map_insert_locked(cs_cache_map_t *map, uint32_t shard, cs_cache_node_t *node, cs_cache_node_t **replaced)
{
    cs__shard_t *s = &map->shards[shard];
    *replaced = NULL;
    uint32_t i = cs__home(s, node->hash);
    for (;;) {
        cs__slot_t *sl = &s->slots[i];
        if (!sl->node)
            break;
        if (cs__match(sl, node->hash, node->key, node->klen)) {
            *replaced = sl->node;
            sl->node = node;
            return 0;
        }
        i = (i + 1) & s->mask;
    }
    /* Grow at 3/4 load so that probe sequences stay short. */
    if ((uint64_t)(s->count + 1) * 4 > (uint64_t)(s->mask + 1) * 3) {
        int rc = cs__grow(s);
        if (rc != 0)
            return rc;
        i = cs__home(s, node->hash);
        while (s->slots[i].node)
            i = (i + 1) & s->mask;
    }
    s->slots[i].hash = node->hash;
    s->slots[i].node = node;
    s->count++;
    return 0;
}

/* Backward-shift deletion: no tombstones, so lookups never walk dead slots. */
static void cs__delete_slot(cs__shard_t *s, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        s->slots[i].node = NULL;
        for (;;) {
            j = (j + 1) & s->mask;
            if (!s->slots[j].node)
                goto done;
            uint32_t home = cs__home(s, s->slots[j].hash);
            /* Move j back to i unless its home lies cyclically in (i, j]. */
            bool stays = (i <= j) ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        s->slots[i] = s->slots[j];
        i = j;
    }
done:
    s->count--;
}

cs_cache_node_t *cs_cache_map_remove_locked(cs_cache_map_t *map, uint32_t shard, uint64_t hash, const void *key,
                                            size_t klen)
{
    cs__shard_t *s = &map->shards[shard];
    uint32_t i = cs__home(s, hash);
    for (;;) {
        cs__slot_t *sl = &s->slots[i];
        if (!sl->node)
            return NULL;
        if (cs__match(sl, hash, key, klen)) {
            cs_cache_node_t *n = sl->node;
            cs__delete_slot(s, i);
            return n;
        }
        i = (i + 1) & s->mask;
    }
}

bool cs_cache_map_unlink_locked(cs_cache_map_t *map, uint32_t shard, cs_cache_node_t *node)
{
    cs__shard_t *s = &map->shards[shard];
    uint32_t i = cs__home(s, node->hash);
    for (;;) {
        cs__slot_t *sl = &s->slots[i];
        if (!sl->node)
            return false;
        if (sl->node == node) {
            cs__delete_slot(s, i);
            return true;
        }
        i = (i + 1) & s->mask;
    }
}

size_t cs_cache_map_count_locked(const cs_cache_map_t *map, uint32_t shard)
{
    return map->shards[shard].count;
}

size_t cs_cache_map_count(cs_cache_map_t *map)
{
    size_t n = 0;
    for (uint32_t i = 0; i < map->nshards; i++) {
        cs_cache_map_read_lock(map, i);
        n += map->shards[i].count;
        cs_cache_map_read_unlock(map, i);
    }
    return n;
}

cs_cache_node_t *cs_cache_map_clock_hand_locked(cs_cache_map_t *map, uint32_t shard)
{
    cs__shard_t *s = &map->shards[shard];
    if (s->count == 0)
        return NULL;
    s->hand &= s->mask;
    while (!s->slots[s->hand].node)
        s->hand = (s->hand + 1) & s->mask;
    return s->slots[s->hand].node;
}

void cs_cache_map_clock_advance_locked(cs_cache_map_t *map, uint32_t shard)
{
    cs__shard_t *s = &map->shards[shard];
    s->hand = (s->hand + 1) & s->mask;
}

void cs_cache_map_drain(cs_cache_map_t *map, void (*fn)(cs_cache_node_t *node, void *ctx), void *ctx)
{
    for (uint32_t i = 0; i < map->nshards; i++) {
        cs__shard_t *s = &map->shards[i];
        cs_cache_map_write_lock(map, i);
        for (uint32_t j = 0; j <= s->mask; j++) {
            cs_cache_node_t *n = s->slots[j].node;
            if (!n)
                continue;
            s->slots[j].node = NULL;
            s->count--;
            if (fn)
                fn(n, ctx);
        }
        s->hand = 0;
        cs_cache_map_write_unlock(map, i);
    }
}

void cs_cache_map_foreach_locked(cs_cache_map_t *map, uint32_t shard, bool (*fn)(cs_cache_node_t *node, void *ctx),
                                 void *ctx)
{
    cs__shard_t *s = &map->shards[shard];
    for (uint32_t j = 0; j <= s->mask; j++)
        if (s->slots[j].node && !fn(s->slots[j].node, ctx))
            return;
}
