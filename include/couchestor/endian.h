/* endian.h: little-endian integer loads and stores, the byte order of every
 * on-disk format of the project (EC shard headers, L2 cache segments and
 * records) and of the structures read from devices (ZFS, md superblocks).
 *
 * p may have any alignment and must point at 2, 4 or 8 readable (load) or
 * writable (store) bytes; nothing else is read or written. The byte layout
 * is the same on every host: memcpy lets the compiler emit one plain
 * (unaligned) access, and the swap is only compiled in on big-endian hosts. */
#ifndef COUCHESTOR_ENDIAN_H
#define COUCHESTOR_ENDIAN_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define CS__LE16(v) __builtin_bswap16(v)
#define CS__LE32(v) __builtin_bswap32(v)
#define CS__LE64(v) __builtin_bswap64(v)
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CS__LE16(v) (v)
#define CS__LE32(v) (v)
#define CS__LE64(v) (v)
#else
#error "endian.h: the compiler does not say the host byte order (__BYTE_ORDER__)"
#endif

static inline uint16_t cs_le16_load(const void *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return CS__LE16(v);
}

static inline uint32_t cs_le32_load(const void *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return CS__LE32(v);
}

static inline uint64_t cs_le64_load(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return CS__LE64(v);
}

static inline void cs_le16_store(void *p, uint16_t v)
{
    v = CS__LE16(v);
    memcpy(p, &v, sizeof v);
}

static inline void cs_le32_store(void *p, uint32_t v)
{
    v = CS__LE32(v);
    memcpy(p, &v, sizeof v);
}

static inline void cs_le64_store(void *p, uint64_t v)
{
    v = CS__LE64(v);
    memcpy(p, &v, sizeof v);
}

#endif
