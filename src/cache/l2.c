/* l2.c: the local-disk cache tier (cache_l2.h): append-only segment files,
 * an in-memory index, checksummed reads, rebuild on open, FIFO segment
 * eviction with copy-forward of entries read since they were written. */
#include "couchestor/cache_l2.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/cache_map.h"
#include "couchestor/crc32c.h"
#include "couchestor/endian.h"
#include "couchestor/log.h"
#include "l2_record.h"

#define CS__DIRECT_ALIGN 4096u
/* Segment files a directory may hold; bounds the scan on open. */
#define CS__L2_MAX_FILES 1000000u

typedef struct cs__item_s cs__item_t;

typedef struct cs__seg_s {
    uint64_t id;
    int fd;
    int dfd; /* O_DIRECT descriptor for reads, or -1 */
    uint8_t *map;
    size_t map_len;
    _Atomic uint32_t refs; /* 1 while listed, +1 per reader */
    uint32_t version;      /* on-disk format: 1 (read only) or 2 */
    uint32_t log_area;     /* v2: where the payload area begins */
    /* Owned by the writer lock: */
    uint64_t size;     /* bytes counted against the capacity */
    uint64_t log_end;  /* end of the last record in the log */
    uint64_t data_end; /* v2: end of the payload area */
    cs__item_t **sum;  /* items whose record is in this segment (NULL = gone) */
    size_t nsum, capsum;
    struct cs__seg_s *next;
} cs__seg_t;

struct cs__item_s {
    cs_cache_node_t node;
    cs__seg_t *seg; /* changed only under the writer lock and shard write lock */
    uint32_t off;   /* the record in the log: identifies this version of the entry */
    uint32_t poff;  /* the payload */
    uint32_t plen, vlen, vcrc;
    uint32_t sum_idx;
    uint8_t codec;
    _Atomic uint8_t accessed;
    uint64_t seq;
    uint8_t key[];
};

struct cs_l2_s {
    char *dir;
    int dirfd, lockfd;
    uint32_t seg_size;
    uint32_t min_entry;
    uint32_t max_segs; /* steady state; one more during a roll */
    uint64_t capacity;
    cs_compress_config_t comp;
    cs_l2_read_mode_t read_mode;
    bool sync_writes;
    cs_cache_map_t *index;
    uint32_t nshards;

    pthread_mutex_t wlock;
    cs__seg_t *oldest, *active;
    uint32_t nsegs;
    uint64_t next_id, seq;
    uint64_t bytes, live_bytes, entries;

    _Atomic uint64_t hits, misses, corrupt, puts, deletes;
    _Atomic uint64_t evicted_segments, evicted_entries, compacted_entries;
    uint64_t recovered, skipped;
};

#define CS__ITEM(n) ((cs__item_t *)(void *)(n))

/* Bytes an entry takes on disk in the current format (record + payload). */
static inline size_t cs__item_rec_size(const cs__item_t *it)
{
    return cs__l2_rec_size(2, it->node.klen, it->plen) + it->plen;
}

/* v2 segment s with payload area ending at data_end: the bytes counted. */
static inline uint64_t cs__seg_bytes(const cs__seg_t *s)
{
    if (s->version == 1)
        return s->log_end;
    return s->log_end + (s->data_end - s->log_area);
}

static void cs__seg_name(char buf[32], uint64_t id)
{
    snprintf(buf, 32, "seg-%016" PRIx64 ".l2", id);
}

static void cs__seg_unref(cs__seg_t *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (s->map)
        munmap(s->map, s->map_len);
    if (s->dfd >= 0)
        close(s->dfd);
    if (s->fd >= 0)
        close(s->fd);
    free(s->sum);
    free(s);
}

static int cs__pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

static int cs__pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            return -EIO; /* the record lies beyond the end of the file */
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Opens the read descriptors and mapping of a segment file already open as fd. */
static int cs__seg_setup(cs_l2_t *l2, cs__seg_t *s, const char *name, uint64_t file_size, cs_err_t *err)
{
    s->map_len = file_size > l2->seg_size ? (size_t)file_size : l2->seg_size;
    /* Mapped to its full length up front: pages become readable as appends
     * extend the file; only offsets below the written size are ever read. */
    void *m = mmap(NULL, s->map_len, PROT_READ, MAP_SHARED, s->fd, 0);
    if (m == MAP_FAILED)
        return cs_err_set(err, cs_err_from_errno(errno), "L2 %s/%s: mmap: %s", l2->dir, name, strerror(errno));
    s->map = m;
    if (l2->read_mode == CS_L2_READ_DIRECT) {
        s->dfd = openat(l2->dirfd, name, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOFOLLOW);
        if (s->dfd < 0)
            CS_WARN("L2: O_DIRECT refused, reading through the page cache", "dir", l2->dir, "file", name, "error",
                    strerror(errno));
    }
    return 0;
}

static int cs__seg_create(cs_l2_t *l2, cs__seg_t **out, cs_err_t *err)
{
    char name[32];
    uint64_t id = l2->next_id;
    cs__seg_name(name, id);
    cs__seg_t *s = calloc(1, sizeof *s);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "L2: out of memory");
    s->fd = s->dfd = -1;
    s->id = id;
    atomic_init(&s->refs, 1);
    s->fd = openat(l2->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (s->fd < 0) {
        int e = errno;
        free(s);
        return cs_err_set(err, cs_err_from_errno(e), "L2 %s/%s: create: %s", l2->dir, name, strerror(e));
    }
    s->version = CS__L2_SEG_VERSION;
    s->log_area = cs__l2_log_area(l2->seg_size);
    uint8_t hdr[CS__L2_SEG_HDR];
    cs__l2_seg_header(hdr, id, s->version, s->log_area);
    int rc = cs__pwrite_all(s->fd, hdr, sizeof hdr, 0);
    if (rc != 0) {
        rc = cs_err_set(err, cs_err_from_errno(-rc), "L2 %s/%s: write header: %s", l2->dir, name, strerror(-rc));
        goto fail;
    }
    rc = cs__seg_setup(l2, s, name, CS__L2_SEG_HDR, err);
    if (rc != 0)
        goto fail;
    s->log_end = CS__L2_SEG_HDR;
    s->data_end = s->log_area;
    s->size = cs__seg_bytes(s);
    l2->next_id++;
    *out = s;
    return 0;
fail:
    close(s->fd);
    unlinkat(l2->dirfd, name, 0);
    free(s);
    return rc;
}

static int cs__sum_reserve(cs__seg_t *s)
{
    if (s->nsum < s->capsum)
        return 0;
    size_t cap = s->capsum ? s->capsum * 2 : 256;
    cs__item_t **n = realloc(s->sum, cap * sizeof(cs__item_t *));
    if (!n)
        return CS_ENOMEM;
    s->sum = n;
    s->capsum = cap;
    return 0;
}

static void cs__sum_add(cs__seg_t *s, cs__item_t *it)
{
    it->sum_idx = (uint32_t)s->nsum;
    s->sum[s->nsum++] = it;
}

/* Writer lock held: the item has left the index (or never entered it). */
static void cs__item_forget(cs_l2_t *l2, cs__item_t *it)
{
    it->seg->sum[it->sum_idx] = NULL;
    l2->live_bytes -= cs__item_rec_size(it);
    l2->entries--;
    free(it);
}

/* Whether v2 segment s has room for a record of loglen bytes with a payload
 * of plen bytes (0: none), then one of rlog/rplen bytes. A v1 segment never
 * takes appends. */
static bool cs__seg_fits(const cs_l2_t *l2, const cs__seg_t *s, size_t loglen, uint32_t plen, size_t rlog,
                         uint32_t rplen)
{
    if (s->version != 2 || s->log_end + loglen + rlog > s->log_area)
        return false;
    uint64_t d = s->data_end;
    if (plen)
        d = (cs__l2_payload_place(d, plen) + plen + 7u) & ~(uint64_t)7u;
    if (rplen)
        d = cs__l2_payload_place(d, rplen) + rplen;
    return d <= l2->seg_size;
}

static void cs__seg_account(cs_l2_t *l2, cs__seg_t *s)
{
    uint64_t nb = cs__seg_bytes(s);
    l2->bytes = l2->bytes + nb - s->size;
    s->size = nb;
}

/* Writer lock held, room checked: appends the log record rec[0..len). */
static int cs__seg_write_log(cs_l2_t *l2, cs__seg_t *s, const uint8_t *rec, size_t len)
{
    int rc = cs__pwrite_all(s->fd, rec, len, s->log_end);
    if (rc != 0)
        return rc; /* a partial record is overwritten by the next append,
                      or zeroed as a torn tail on open */
    s->log_end += len;
    cs__seg_account(l2, s);
    return 0;
}

/* Writer lock held, room checked (cs__seg_fits): writes a put of key to
 * segment s, the payload first so that a record never points at a payload
 * that was not written. Sets *off (record) and *poff (payload). */
static int cs__seg_write_put(cs_l2_t *l2, cs__seg_t *s, const uint8_t *key, size_t klen, uint8_t codec,
                             const void *payload, uint32_t plen, uint32_t vlen, uint32_t vcrc, uint64_t seq,
                             uint32_t *off, uint32_t *poff)
{
    uint8_t rec[CS__L2_REC_HDR_V2 + CS_CACHE_KEY_MAX + 8];
    uint64_t p = cs__l2_payload_place(s->data_end, plen);
    int rc = cs__pwrite_all(s->fd, payload, plen, p);
    if (rc != 0)
        return rc;
    cs__l2_rec_t r = {.type = CS__L2_REC_PUT,
                      .codec = codec,
                      .klen = (uint16_t)klen,
                      .plen = plen,
                      .vlen = vlen,
                      .seq = seq,
                      .vcrc = vcrc,
                      .poff = (uint32_t)p,
                      .key = key};
    size_t len = cs__l2_rec_size(2, klen, plen);
    size_t h = cs__l2_rec_header(rec, 2, &r);
    memcpy(rec + h, key, klen);
    memset(rec + h + klen, 0, len - h - klen);
    uint64_t at = s->log_end;
    s->data_end = (p + plen + 7u) & ~(uint64_t)7u;
    rc = cs__seg_write_log(l2, s, rec, len);
    if (rc != 0) {
        cs__seg_account(l2, s);
        return rc;
    }
    *off = (uint32_t)at;
    *poff = (uint32_t)p;
    return 0;
}

/* Writer lock held. Drops every entry of the oldest segment, first copying
 * forward into dst (when given) those read since written, as room allows
 * (keeping room in dst for a record of rlog/rplen bytes), then deletes the
 * file. */
static void cs__evict_oldest(cs_l2_t *l2, cs__seg_t *dst, size_t rlog, uint32_t rplen)
{
    cs__seg_t *v = l2->oldest;
    for (size_t i = 0; i < v->nsum; i++) {
        cs__item_t *it = v->sum[i];
        if (!it)
            continue;
        uint32_t shard = cs_cache_map_shard_of(l2->nshards, it->node.hash);
        bool copied = false;
        if (dst && atomic_load_explicit(&it->accessed, memory_order_relaxed) &&
            cs__seg_fits(l2, dst, cs__l2_rec_size(2, it->node.klen, it->plen), it->plen, rlog, rplen) &&
            cs__sum_reserve(dst) == 0) {
            uint64_t seq = ++l2->seq;
            uint32_t off, poff;
            if (cs__seg_write_put(l2, dst, it->key, it->node.klen, it->codec, v->map + it->poff, it->plen, it->vlen,
                                  it->vcrc, seq, &off, &poff) == 0) {
                cs_cache_map_write_lock(l2->index, shard);
                it->seg = dst;
                it->off = off;
                it->poff = poff;
                it->seq = seq;
                atomic_store_explicit(&it->accessed, 0, memory_order_relaxed);
                cs_cache_map_write_unlock(l2->index, shard);
                cs__sum_add(dst, it);
                atomic_fetch_add_explicit(&l2->compacted_entries, 1, memory_order_relaxed);
                copied = true;
            }
        }
        if (!copied) {
            cs_cache_map_write_lock(l2->index, shard);
            cs_cache_map_unlink_locked(l2->index, shard, &it->node);
            cs_cache_map_write_unlock(l2->index, shard);
            cs__item_forget(l2, it);
            atomic_fetch_add_explicit(&l2->evicted_entries, 1, memory_order_relaxed);
        }
    }
    char name[32];
    cs__seg_name(name, v->id);
    unlinkat(l2->dirfd, name, 0);
    l2->oldest = v->next;
    if (l2->active == v)
        l2->active = NULL;
    l2->nsegs--;
    l2->bytes -= v->size;
    atomic_fetch_add_explicit(&l2->evicted_segments, 1, memory_order_relaxed);
    cs__seg_unref(v);
}

/* Writer lock held: makes room in the active segment for a record of
 * loglen bytes with a payload of plen bytes (0: none), rolling to a new
 * segment (and evicting the oldest) as needed. */
static int cs__ensure_room(cs_l2_t *l2, size_t loglen, uint32_t plen, cs_err_t *err)
{
    if (l2->active && cs__seg_fits(l2, l2->active, loglen, plen, 0, 0))
        return 0;
    cs__seg_t *s = NULL;
    int rc = cs__seg_create(l2, &s, err);
    if (!s) /* set exactly when rc is 0 */
        return rc;
    if (l2->active)
        l2->active->next = s;
    else
        l2->oldest = s;
    l2->active = s;
    l2->nsegs++;
    l2->bytes += s->size;
    while (l2->nsegs > l2->max_segs && l2->oldest != s)
        cs__evict_oldest(l2, s, loglen, plen);
    return 0;
}

static int cs__sync_if(cs_l2_t *l2, cs__seg_t *s)
{
    if (l2->sync_writes && fdatasync(s->fd) != 0)
        return -errno;
    return 0;
}

/* Writer lock held: logs a tombstone for the key. */
static int cs__write_tombstone(cs_l2_t *l2, const uint8_t *key, size_t klen, cs_err_t *err)
{
    uint8_t rec[CS__L2_REC_HDR_V2 + CS_CACHE_KEY_MAX + 8];
    size_t len = cs__l2_rec_size(2, klen, 0);
    /* Room first: a roll may copy records forward, and sequence numbers
     * must grow along the log. */
    int rc = cs__ensure_room(l2, len, 0, err);
    if (rc != 0)
        return rc;
    cs__l2_rec_t r = {.type = CS__L2_REC_DEL, .klen = (uint16_t)klen, .seq = ++l2->seq, .key = key};
    size_t h = cs__l2_rec_header(rec, 2, &r);
    memcpy(rec + h, key, klen);
    memset(rec + h + klen, 0, len - h - klen);
    cs__seg_t *s = l2->active;
    rc = cs__seg_write_log(l2, s, rec, len);
    if (rc == 0)
        rc = cs__sync_if(l2, s);
    if (rc != 0)
        return cs_err_set(err, cs_err_from_errno(-rc), "L2 %s: append to segment %016" PRIx64 ": %s", l2->dir, s->id,
                          strerror(-rc));
    return 0;
}

/* Writer lock held: links a new item, replacing (and freeing) an older one. */
static void cs__index_link(cs_l2_t *l2, cs__item_t *it)
{
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, it->node.hash);
    cs_cache_node_t *old = NULL;
    cs_cache_map_write_lock(l2->index, shard);
    /* Cannot fail for lack of memory: the caller grew the table first. */
    int rc = cs_cache_map_insert_locked(l2->index, shard, &it->node, &old);
    cs_cache_map_write_unlock(l2->index, shard);
    (void)rc;
    cs__sum_add(it->seg, it);
    l2->live_bytes += cs__item_rec_size(it);
    l2->entries++;
    if (old)
        cs__item_forget(l2, CS__ITEM(old));
}

static cs__item_t *cs__item_new(const cs_l2_t *l2, const uint8_t *key, size_t klen, uint64_t h)
{
    cs__item_t *it = calloc(1, sizeof *it + klen);
    if (!it)
        return NULL;
    memcpy(it->key, key, klen);
    it->node.key = it->key;
    it->node.klen = (uint32_t)klen;
    it->node.hash = h;
    (void)l2;
    return it;
}

/* ---- open / rebuild ---- */

static int cs__id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool cs__parse_seg_name(const char *name, uint64_t *id)
{
    if (strlen(name) != 4 + 16 + 3 || strncmp(name, "seg-", 4) != 0 || strcmp(name + 20, ".l2") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char c = name[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    *id = v;
    return true;
}

/* Applies one parsed record found at off in segment s to the index. */
static int cs__apply(cs_l2_t *l2, cs__seg_t *s, uint64_t off, const cs__l2_rec_t *r)
{
    uint64_t h = cs_cache_map_hash(l2->index, r->key, r->klen);
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    cs__item_t *cur = CS__ITEM(cs_cache_map_find_locked(l2->index, shard, h, r->key, r->klen));
    if (cur && cur->seq >= r->seq)
        return 0;
    if (r->type == CS__L2_REC_DEL) {
        if (cur) {
            cs_cache_map_unlink_locked(l2->index, shard, &cur->node);
            cs__item_forget(l2, cur);
        }
        return 0;
    }
    cs__item_t *it = cs__item_new(l2, r->key, r->klen, h);
    if (!it || cs__sum_reserve(s) != 0) {
        free(it);
        return CS_ENOMEM;
    }
    it->seg = s;
    it->off = (uint32_t)off;
    it->poff = r->poff;
    it->plen = r->plen;
    it->vlen = r->vlen;
    it->vcrc = r->vcrc;
    it->codec = r->codec;
    it->seq = r->seq;
    cs_cache_node_t *old = NULL;
    if (cs_cache_map_insert_locked(l2->index, shard, &it->node, &old) != 0) {
        free(it);
        return CS_ENOMEM;
    }
    cs__sum_add(s, it);
    l2->live_bytes += cs__item_rec_size(it);
    l2->entries++;
    if (old)
        cs__item_forget(l2, CS__ITEM(old));
    return 0;
}

/* Largest v2 log record: what a torn append can leave past the log's end. */
#define CS__L2_REC_MAX_V2 (CS__L2_REC_HDR_V2 + CS_CACHE_KEY_MAX + 8u)

/* v2: zeroes leftovers of torn or damaged records in [from, to) of the log
 * area, so that the next append starts on a clean end of log. */
static int cs__zero_log_tail(cs__seg_t *s, uint64_t from, uint64_t to)
{
    bool dirty = false;
    for (uint64_t i = from; i < to && !dirty; i++)
        dirty = s->map[i] != 0;
    if (!dirty)
        return 0;
    static const uint8_t zeros[4096];
    while (from < to) {
        size_t n = to - from < sizeof zeros ? (size_t)(to - from) : sizeof zeros;
        int rc = cs__pwrite_all(s->fd, zeros, n, from);
        if (rc != 0)
            return rc;
        from += n;
    }
    return 0;
}

/* Scans segment s (mapped, file_size bytes) and indexes its records. Sets
 * the log end to the end of the last good record: v1 truncates a torn tail,
 * v2 zeroes it and truncates payload bytes no record points at. */
static int cs__scan_segment(cs_l2_t *l2, cs__seg_t *s, uint64_t file_size)
{
    const uint32_t ver = s->version, magic = cs__l2_rec_magic(ver);
    const size_t hdr = ver == 1 ? CS__L2_REC_HDR_V1 : CS__L2_REC_HDR_V2;
    /* v1 records fill the file; v2 records the log area. */
    const uint64_t limit = ver == 1 || file_size < s->log_area ? file_size : s->log_area;
    uint64_t off = CS__L2_SEG_HDR, end = CS__L2_SEG_HDR, last_put_off = 0;
    uint64_t data_end = s->log_area;
    uint64_t last_seq = 0;
    bool have_last_put = false, torn = false;
    cs__l2_rec_t r, last_put = {0};
    while (off + 4 <= limit) {
        uint32_t w = cs_le32_load(s->map + off);
        if (ver != 1 && w == 0)
            break; /* the end of the log */
        int p = cs__l2_rec_parse(s->map + off, (size_t)(limit - off), ver, &r);
        if (p == CS__L2_PARSE_OK && (r.seq <= last_seq || r.vlen > l2->seg_size))
            p = CS__L2_PARSE_BAD;
        if (p == CS__L2_PARSE_OK && ver != 1 && r.type == CS__L2_REC_PUT &&
            (r.poff < s->log_area || (uint64_t)r.poff + r.plen > file_size)) {
            /* A good record whose payload never reached the file: torn. */
            l2->skipped++;
            last_seq = r.seq;
            have_last_put = false;
            off += r.total;
            continue;
        }
        if (p == CS__L2_PARSE_OK) {
            if (ver == 1) {
                r.poff = (uint32_t)(off + hdr + r.klen);
            } else if (r.type == CS__L2_REC_PUT) {
                r.payload = s->map + r.poff;
                uint64_t pe = ((uint64_t)r.poff + r.plen + 7u) & ~(uint64_t)7u;
                if (pe > data_end)
                    data_end = pe;
            }
            int rc = cs__apply(l2, s, off, &r);
            if (rc != 0)
                return rc;
            last_seq = r.seq;
            if (l2->seq < r.seq)
                l2->seq = r.seq;
            if (r.type == CS__L2_REC_PUT) {
                last_put = r;
                last_put_off = off;
                have_last_put = true;
            } else {
                have_last_put = false;
            }
            off += r.total;
            end = off;
            continue;
        }
        if (p == CS__L2_PARSE_TRUNCATED) {
            torn = true;
            break;
        }
        /* A damaged record: resynchronise at the next 8-byte boundary that
         * holds a valid header with a later sequence number. */
        l2->skipped++;
        off = (off + 8) & ~(uint64_t)7;
        while (off + hdr <= limit) {
            w = cs_le32_load(s->map + off);
            if (w == magic)
                break;
            off += 8;
        }
    }
    if (ver == 1 ? (end < file_size && off < file_size) : torn)
        l2->skipped++; /* a torn tail */
    /* The last record is the one a crash can have torn: check its value. */
    if (have_last_put && last_put_off + last_put.total == end) {
        uint8_t *tmp = malloc(last_put.vlen ? last_put.vlen : 1);
        int vrc = tmp ? cs__l2_rec_verify(&last_put, tmp, last_put.vlen, NULL) : CS_ENOMEM;
        free(tmp);
        if (vrc == CS_ENOMEM)
            return vrc;
        if (vrc != 0) {
            uint64_t h = cs_cache_map_hash(l2->index, last_put.key, last_put.klen);
            uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
            cs__item_t *cur = CS__ITEM(cs_cache_map_find_locked(l2->index, shard, h, last_put.key, last_put.klen));
            if (cur && cur->seg == s && cur->off == last_put_off) {
                cs_cache_map_unlink_locked(l2->index, shard, &cur->node);
                cs__item_forget(l2, cur);
            }
            l2->skipped++;
            end = last_put_off;
        }
    }
    if (ver == 1) {
        if (end < file_size && ftruncate(s->fd, (off_t)end) != 0)
            return cs_err_from_errno(errno);
        s->log_end = end;
        s->size = end;
        return 0;
    }
    /* Whatever lies between the last good record and where the scan stopped
     * (plus one record beyond) was torn or damaged. */
    uint64_t to = (off > end ? off : end) + CS__L2_REC_MAX_V2;
    int rc = cs__zero_log_tail(s, end, to < limit ? to : limit);
    if (rc != 0)
        return cs_err_from_errno(-rc);
    if (file_size > data_end && ftruncate(s->fd, (off_t)data_end) != 0)
        return cs_err_from_errno(errno);
    s->log_end = end;
    s->data_end = data_end;
    s->size = cs__seg_bytes(s);
    return 0;
}

static int cs__open_segment(cs_l2_t *l2, uint64_t id, cs_err_t *err)
{
    char name[32];
    cs__seg_name(name, id);
    cs__seg_t *s = calloc(1, sizeof *s);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "L2: out of memory");
    s->fd = s->dfd = -1;
    s->id = id;
    atomic_init(&s->refs, 1);
    s->fd = openat(l2->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) != 0) {
        int e = errno;
        cs__seg_unref(s);
        return cs_err_set(err, cs_err_from_errno(e), "L2 %s/%s: open: %s", l2->dir, name, strerror(e));
    }
    cs__l2_seg_info_t info = {0};
    uint8_t hdr[CS__L2_SEG_HDR];
    int hrc = CS_ECORRUPT;
    bool ok = S_ISREG(st.st_mode) && (uint64_t)st.st_size <= CS_L2_SEGMENT_SIZE_MAX &&
              st.st_size >= (off_t)CS__L2_SEG_HDR && cs__pread_all(s->fd, hdr, sizeof hdr, 0) == 0 &&
              (hrc = cs__l2_seg_header_check(hdr, sizeof hdr, &info)) == 0 && info.id == id;
    if (hrc == CS_EINVAL) {
        /* Written by a newer build: do not destroy what it may still read. */
        uint32_t v = cs_le32_load(hdr + 16);
        cs__seg_unref(s);
        return cs_err_set(err, CS_EINVAL,
                          "L2 %s/%s: segment format version %u is not known to this build "
                          "(it reads versions 1 and 2); open the directory with the build "
                          "that wrote it, or delete the directory to start an empty cache",
                          l2->dir, name, v);
    }
    if (!ok) {
        CS_WARN("L2: removing a segment file that is not valid", "dir", l2->dir, "file", name);
        cs__seg_unref(s);
        unlinkat(l2->dirfd, name, 0);
        l2->skipped++;
        return 0;
    }
    s->version = info.version;
    s->log_area = info.log_area;
    int rc = cs__seg_setup(l2, s, name, (uint64_t)st.st_size, err);
    if (rc != 0) {
        cs__seg_unref(s);
        return rc;
    }
    rc = cs__scan_segment(l2, s, (uint64_t)st.st_size);
    if (rc != 0) {
        /* Items already linked point at s; keep it listed so close frees them. */
        rc = cs_err_set(err, rc, "L2 %s/%s: rebuilding the index: %s", l2->dir, name, cs_strerror(rc));
    }
    if (l2->active)
        l2->active->next = s;
    else
        l2->oldest = s;
    l2->active = s;
    l2->nsegs++;
    l2->bytes += s->size;
    return rc;
}

static int cs__rebuild(cs_l2_t *l2, cs_err_t *err)
{
    int dfd = dup(l2->dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return cs_err_set(err, cs_err_from_errno(errno), "L2 %s: list: %s", l2->dir, strerror(errno));
    }
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        uint64_t id;
        if (!cs__parse_seg_name(e->d_name, &id))
            continue;
        if (n == CS__L2_MAX_FILES) {
            rc = cs_err_set(err, CS_ETOOBIG, "L2 %s: more than %u segment files", l2->dir, CS__L2_MAX_FILES);
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            uint64_t *ni = realloc(ids, nc * sizeof *ni);
            if (!ni) {
                rc = cs_err_set(err, CS_ENOMEM, "L2: out of memory");
                break;
            }
            ids = ni;
            cap = nc;
        }
        ids[n++] = id;
    }
    closedir(d);
    if (rc == 0) {
        if (n > 1)
            qsort(ids, n, sizeof *ids, cs__id_cmp);
        for (size_t i = 0; i < n && rc == 0; i++) {
            rc = cs__open_segment(l2, ids[i], err);
            if (l2->next_id <= ids[i])
                l2->next_id = ids[i] + 1;
        }
    }
    free(ids);
    if (rc != 0)
        return rc;
    l2->recovered = l2->entries;
    /* A smaller capacity than last time: drop the oldest segments. */
    while (l2->nsegs > l2->max_segs)
        cs__evict_oldest(l2, NULL, 0, 0);
    return 0;
}

static void cs__free_item(cs_cache_node_t *n, void *ctx)
{
    (void)ctx;
    free(n);
}

void cs_l2_close(cs_l2_t **l2p)
{
    if (!l2p || !*l2p)
        return;
    cs_l2_t *l2 = *l2p;
    if (l2->index) {
        cs_cache_map_drain(l2->index, cs__free_item, NULL);
        cs_cache_map_free(&l2->index);
    }
    cs__seg_t *s = l2->oldest;
    while (s) {
        cs__seg_t *next = s->next;
        cs__seg_unref(s);
        s = next;
    }
    if (l2->lockfd >= 0)
        close(l2->lockfd);
    if (l2->dirfd >= 0)
        close(l2->dirfd);
    pthread_mutex_destroy(&l2->wlock);
    free(l2->dir);
    free(l2);
    *l2p = NULL;
}

int cs_l2_open(const cs_l2_config_t *cfg, cs_l2_t **out, cs_err_t *err)
{
    if (!cfg || !out || !cfg->dir || !cfg->dir[0])
        return cs_err_set(err, CS_EINVAL, "L2: config.dir is required");
    *out = NULL;
    uint64_t capacity = cfg->capacity_bytes ? cfg->capacity_bytes : CS_L2_CAPACITY_DEFAULT;
    uint64_t seg = cfg->segment_size ? cfg->segment_size : CS_L2_SEGMENT_SIZE_DEFAULT;
    if (seg > capacity / 3)
        seg = capacity / 3;
    if (seg < CS_L2_SEGMENT_SIZE_MIN || seg > CS_L2_SEGMENT_SIZE_MAX)
        return cs_err_set(err, CS_EINVAL,
                          "L2 %s: capacity %llu bytes with segments of %llu bytes: segments must "
                          "be %u..%u bytes and the capacity at least 3 segments",
                          cfg->dir, (unsigned long long)capacity, (unsigned long long)seg, CS_L2_SEGMENT_SIZE_MIN,
                          CS_L2_SEGMENT_SIZE_MAX);
    if (cfg->read_mode > CS_L2_READ_DIRECT || cfg->compression.algorithm > CS_COMPRESS_LZ4)
        return cs_err_set(err, CS_EINVAL, "L2 %s: unknown read mode or compression", cfg->dir);

    cs_l2_t *l2 = calloc(1, sizeof *l2);
    if (!l2)
        return cs_err_set(err, CS_ENOMEM, "L2: out of memory");
    l2->dirfd = l2->lockfd = -1;
    pthread_mutex_init(&l2->wlock, NULL);
    l2->dir = strdup(cfg->dir);
    l2->capacity = capacity;
    l2->seg_size = (uint32_t)seg;
    /* One segment of headroom for copy-forward during a roll. */
    l2->max_segs = (uint32_t)(capacity / seg) - 1;
    l2->min_entry = cfg->min_entry_size ? cfg->min_entry_size : CS_L2_MIN_ENTRY_SIZE;
    l2->comp = cfg->compression;
    l2->read_mode = cfg->read_mode;
    l2->sync_writes = cfg->sync_writes;
    l2->next_id = 1;
    int rc;
    if (!l2->dir) {
        rc = cs_err_set(err, CS_ENOMEM, "L2: out of memory");
        goto fail;
    }
    if (mkdir(cfg->dir, 0700) != 0 && errno != EEXIST) {
        rc = cs_err_set(err, cs_err_from_errno(errno), "L2 %s: mkdir: %s", cfg->dir, strerror(errno));
        goto fail;
    }
    l2->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (l2->dirfd < 0) {
        rc = cs_err_set(err, cs_err_from_errno(errno), "L2 %s: open: %s", cfg->dir, strerror(errno));
        goto fail;
    }
    l2->lockfd = openat(l2->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (l2->lockfd < 0) {
        rc = cs_err_set(err, cs_err_from_errno(errno), "L2 %s/LOCK: %s", cfg->dir, strerror(errno));
        goto fail;
    }
    if (flock(l2->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = cs_err_set(err, CS_EBUSY, "L2 %s: in use by another process (LOCK is held)", cfg->dir);
        goto fail;
    }
    cs_cache_map_config_t mc = {.shards = cfg->shards};
    rc = cs_cache_map_new(&mc, &l2->index, err);
    if (rc != 0)
        goto fail;
    l2->nshards = cs_cache_map_shard_count(l2->index);
    rc = cs__rebuild(l2, err);
    if (rc != 0)
        goto fail;
    *out = l2;
    return 0;
fail:
    cs_l2_close(&l2);
    return rc;
}

/* ---- operations ---- */

static inline bool cs__key_ok(const void *key, size_t klen)
{
    return key && klen > 0 && klen <= CS_CACHE_KEY_MAX;
}

int cs_l2_put(cs_l2_t *l2, const void *key, size_t klen, const void *value, size_t vlen, cs_err_t *err)
{
    if (!cs__key_ok(key, klen))
        return cs_err_set(err, CS_EINVAL, "L2 put: key length %zu must be 1..%u", klen, CS_CACHE_KEY_MAX);
    if (!value || vlen < l2->min_entry)
        return cs_err_set(err, CS_EINVAL,
                          "L2 put: a value of %zu bytes is below the L2 minimum entry size of "
                          "%u bytes (it stays in L1)",
                          vlen, l2->min_entry);
    if (vlen > CS__L2_VALUE_MAX || vlen > l2->seg_size - cs__l2_log_area(l2->seg_size))
        return cs_err_set(err, CS_ETOOBIG, "L2 put: a value of %zu bytes does not fit in a segment of %u bytes", vlen,
                          l2->seg_size);
    /* Raw payloads are written straight from the caller's buffer. */
    uint8_t *cbuf = NULL;
    const uint8_t *payload = value;
    size_t plen = vlen;
    int codec = CS_CODEC_RAW;
    if (l2->comp.algorithm != CS_COMPRESS_NONE && vlen >= l2->comp.min_size) {
        size_t bound = cs_compress_bound(vlen);
        cbuf = malloc(bound);
        if (!cbuf)
            return cs_err_set(err, CS_ENOMEM, "L2 put: out of memory for %zu bytes", bound);
        codec = cs_compress(&l2->comp, value, vlen, cbuf, bound, &plen, err);
        if (codec < 0) {
            free(cbuf);
            return codec;
        }
        if (codec != CS_CODEC_RAW)
            payload = cbuf;
    }
    size_t loglen = cs__l2_rec_size(2, klen, plen);
    uint32_t vcrc = cs_crc32c(cs_crc32c(0, key, klen), value, vlen);
    uint64_t h = cs_cache_map_hash(l2->index, key, klen);
    cs__item_t *it = cs__item_new(l2, key, klen, h);
    if (!it) {
        free(cbuf);
        return cs_err_set(err, CS_ENOMEM, "L2 put: out of memory");
    }
    it->plen = (uint32_t)plen;
    it->vlen = (uint32_t)vlen;
    it->vcrc = vcrc;
    it->codec = (uint8_t)codec;

    pthread_mutex_lock(&l2->wlock);
    int rc = 0;
    uint64_t seq = 0;
    uint32_t off = 0, poff = 0;
    /* Grow the index shard before writing so that linking cannot fail. */
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    cs_cache_map_write_lock(l2->index, shard);
    cs_cache_node_t *dummy = NULL;
    rc = cs_cache_map_insert_locked(l2->index, shard, &it->node, &dummy);
    if (rc == 0) {
        /* Undo the probe insert: put the old node back or unlink ours. */
        if (dummy) {
            cs_cache_node_t *again = NULL;
            cs_cache_map_insert_locked(l2->index, shard, dummy, &again);
        } else {
            cs_cache_map_unlink_locked(l2->index, shard, &it->node);
        }
    }
    cs_cache_map_write_unlock(l2->index, shard);
    if (rc != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "L2 put: out of memory growing the index");
        goto out;
    }
    /* Room first: a roll may copy records forward, and sequence numbers
     * must grow along the log. */
    rc = cs__ensure_room(l2, loglen, (uint32_t)plen, err);
    if (rc != 0)
        goto out;
    cs__seg_t *s = l2->active;
    if (cs__sum_reserve(s) != 0) {
        rc = cs_err_set(err, CS_ENOMEM, "L2 put: out of memory");
        goto out;
    }
    seq = ++l2->seq;
    rc = cs__seg_write_put(l2, s, key, klen, (uint8_t)codec, payload, (uint32_t)plen, (uint32_t)vlen, vcrc, seq, &off,
                           &poff);
    if (rc == 0 && (rc = cs__sync_if(l2, s)) != 0) {
        /* Not durable, not acknowledged: the next append overwrites it. */
        s->log_end = off;
        cs__seg_account(l2, s);
    }
    if (rc != 0) {
        rc = cs_err_set(err, cs_err_from_errno(-rc), "L2 %s: append to segment %016" PRIx64 ": %s", l2->dir, s->id,
                        strerror(-rc));
        goto out;
    }
    it->seg = s;
    it->off = off;
    it->poff = poff;
    it->seq = seq;
    cs__index_link(l2, it);
    it = NULL;
    atomic_fetch_add_explicit(&l2->puts, 1, memory_order_relaxed);
out:
    pthread_mutex_unlock(&l2->wlock);
    free(it);
    free(cbuf);
    return rc;
}

/* Drops the entry at (seg, off) after a failed check, unless it has moved. */
static void cs__drop_corrupt(cs_l2_t *l2, const void *key, size_t klen, uint64_t h, const cs__seg_t *seg, uint32_t off)
{
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    pthread_mutex_lock(&l2->wlock);
    cs_cache_map_write_lock(l2->index, shard);
    cs__item_t *it = CS__ITEM(cs_cache_map_find_locked(l2->index, shard, h, key, klen));
    bool same = it && it->seg == seg && it->off == off;
    if (same)
        cs_cache_map_unlink_locked(l2->index, shard, &it->node);
    cs_cache_map_write_unlock(l2->index, shard);
    if (same) {
        cs__item_forget(l2, it);
        /* So that a restart cannot index an older copy of the key instead. */
        cs__write_tombstone(l2, key, klen, NULL);
    }
    pthread_mutex_unlock(&l2->wlock);
}

int cs_l2_get(cs_l2_t *l2, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen, cs_err_t *err)
{
    if (!cs__key_ok(key, klen))
        return cs_err_set(err, CS_EINVAL, "L2 get: key length %zu must be 1..%u", klen, CS_CACHE_KEY_MAX);
    uint64_t h = cs_cache_map_hash(l2->index, key, klen);
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    cs_cache_map_read_lock(l2->index, shard);
    cs__item_t *it = CS__ITEM(cs_cache_map_find_locked(l2->index, shard, h, key, klen));
    if (!it) {
        cs_cache_map_read_unlock(l2->index, shard);
        atomic_fetch_add_explicit(&l2->misses, 1, memory_order_relaxed);
        return CS_ENOTFOUND;
    }
    cs__seg_t *seg = it->seg;
    uint32_t off = it->off, plen = it->plen, len = it->vlen, vcrc = it->vcrc;
    uint64_t poff = it->poff;
    uint8_t codec = it->codec;
    if (!atomic_load_explicit(&it->accessed, memory_order_relaxed))
        atomic_store_explicit(&it->accessed, 1, memory_order_relaxed);
    *vlen = len;
    if (len > cap) {
        cs_cache_map_read_unlock(l2->index, shard);
        return CS_ETOOBIG;
    }
    int rc = 0;
    if (l2->read_mode == CS_L2_READ_MMAP) {
        /* Copy out under the shard read lock: eviction unlinks the item
         * under the write lock before the segment can be unmapped, so no
         * segment reference (a shared counter every reader would bounce)
         * is needed. */
        rc = cs_decompress((cs_codec_t)codec, seg->map + poff, plen, buf, cap, len, NULL);
        cs_cache_map_read_unlock(l2->index, shard);
        if (rc == 0 && cs_crc32c(cs_crc32c(0, key, klen), buf, len) != vcrc)
            rc = CS_ECORRUPT;
        if (rc != 0) {
            atomic_fetch_add_explicit(&l2->corrupt, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&l2->misses, 1, memory_order_relaxed);
            CS_WARN("L2: dropping an entry that failed its checksum", "dir", l2->dir);
            cs__drop_corrupt(l2, key, klen, h, seg, off);
            return CS_ENOTFOUND;
        }
        atomic_fetch_add_explicit(&l2->hits, 1, memory_order_relaxed);
        return 0;
    }
    atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
    cs_cache_map_read_unlock(l2->index, shard);
    const uint8_t *src = NULL;
    uint8_t *tmp = NULL;
    if (seg->dfd >= 0) {
        uint64_t start = poff & ~(uint64_t)(CS__DIRECT_ALIGN - 1);
        uint64_t end = (poff + plen + CS__DIRECT_ALIGN - 1) & ~(uint64_t)(CS__DIRECT_ALIGN - 1);
        if (posix_memalign((void **)&tmp, CS__DIRECT_ALIGN, (size_t)(end - start)) != 0) {
            tmp = NULL;
            rc = CS_ENOMEM;
        } else {
            /* The last block may lie past the end of the file: a short read
             * that still covers the payload is enough. */
            ssize_t n;
            do
                n = pread(seg->dfd, tmp, (size_t)(end - start), (off_t)start);
            while (n < 0 && errno == EINTR);
            if (n < 0 || (uint64_t)n < poff + plen - start)
                rc = n < 0 ? -errno : -EIO;
            src = tmp + (poff - start);
        }
    } else if (codec == CS_CODEC_RAW) {
        rc = cs__pread_all(seg->fd, buf, plen, poff);
        src = buf;
    } else {
        tmp = malloc(plen ? plen : 1);
        rc = tmp ? cs__pread_all(seg->fd, tmp, plen, poff) : CS_ENOMEM;
        src = tmp;
    }
    if (rc == CS_ENOMEM) {
        free(tmp);
        cs__seg_unref(seg);
        return cs_err_set(err, CS_ENOMEM, "L2 get: out of memory");
    }
    if (rc != 0) {
        free(tmp);
        /* The message names the segment: an eviction meanwhile may have
         * left this reference the last one, so drop it only afterwards. */
        rc = cs_err_set(err, cs_err_from_errno(-rc), "L2 get: read of segment %016" PRIx64 " at %u: %s", seg->id, off,
                        strerror(-rc));
        cs__seg_unref(seg);
        return rc;
    }
    if (src == buf)
        rc = 0; /* raw bytes were read straight into place */
    else
        rc = cs_decompress((cs_codec_t)codec, src, plen, buf, cap, len, NULL);
    if (rc == 0 && cs_crc32c(cs_crc32c(0, key, klen), buf, len) != vcrc)
        rc = CS_ECORRUPT;
    free(tmp);
    if (rc != 0) {
        atomic_fetch_add_explicit(&l2->corrupt, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&l2->misses, 1, memory_order_relaxed);
        CS_WARN("L2: dropping an entry that failed its checksum", "dir", l2->dir);
        cs__drop_corrupt(l2, key, klen, h, seg, off);
        cs__seg_unref(seg);
        return CS_ENOTFOUND;
    }
    cs__seg_unref(seg);
    atomic_fetch_add_explicit(&l2->hits, 1, memory_order_relaxed);
    return 0;
}

int cs_l2_value_size(cs_l2_t *l2, const void *key, size_t klen, size_t *vlen)
{
    if (!cs__key_ok(key, klen))
        return CS_EINVAL;
    uint64_t h = cs_cache_map_hash(l2->index, key, klen);
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    cs_cache_map_read_lock(l2->index, shard);
    cs__item_t *it = CS__ITEM(cs_cache_map_find_locked(l2->index, shard, h, key, klen));
    if (it)
        *vlen = it->vlen;
    cs_cache_map_read_unlock(l2->index, shard);
    return it ? 0 : CS_ENOTFOUND;
}

int cs_l2_delete(cs_l2_t *l2, const void *key, size_t klen, cs_err_t *err)
{
    if (!cs__key_ok(key, klen))
        return cs_err_set(err, CS_EINVAL, "L2 delete: key length %zu must be 1..%u", klen, CS_CACHE_KEY_MAX);
    uint64_t h = cs_cache_map_hash(l2->index, key, klen);
    uint32_t shard = cs_cache_map_shard_of(l2->nshards, h);
    pthread_mutex_lock(&l2->wlock);
    cs_cache_map_read_lock(l2->index, shard);
    bool present = cs_cache_map_find_locked(l2->index, shard, h, key, klen) != NULL;
    cs_cache_map_read_unlock(l2->index, shard);
    int rc = CS_ENOTFOUND;
    if (present) {
        /* The tombstone first: if it cannot be written, nothing changes. */
        rc = cs__write_tombstone(l2, key, klen, err);
        if (rc == 0) {
            cs_cache_map_write_lock(l2->index, shard);
            cs_cache_node_t *n = cs_cache_map_remove_locked(l2->index, shard, h, key, klen);
            cs_cache_map_write_unlock(l2->index, shard);
            if (n)
                cs__item_forget(l2, CS__ITEM(n));
            atomic_fetch_add_explicit(&l2->deletes, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&l2->wlock);
    return rc;
}

int cs_l2_sync(cs_l2_t *l2, cs_err_t *err)
{
    pthread_mutex_lock(&l2->wlock);
    int rc = 0;
    if (l2->active && fdatasync(l2->active->fd) != 0)
        rc = cs_err_set(err, cs_err_from_errno(errno), "L2 %s: fdatasync: %s", l2->dir, strerror(errno));
    pthread_mutex_unlock(&l2->wlock);
    return rc;
}

void cs_l2_stats(cs_l2_t *l2, cs_l2_stats_t *out)
{
    memset(out, 0, sizeof *out);
    out->hits = atomic_load(&l2->hits);
    out->misses = atomic_load(&l2->misses);
    out->corrupt = atomic_load(&l2->corrupt);
    out->puts = atomic_load(&l2->puts);
    out->deletes = atomic_load(&l2->deletes);
    out->evicted_segments = atomic_load(&l2->evicted_segments);
    out->evicted_entries = atomic_load(&l2->evicted_entries);
    out->compacted_entries = atomic_load(&l2->compacted_entries);
    pthread_mutex_lock(&l2->wlock);
    out->recovered_entries = l2->recovered;
    out->skipped_records = l2->skipped;
    out->bytes = l2->bytes;
    out->live_bytes = l2->live_bytes;
    out->entries = l2->entries;
    out->segments = l2->nsegs;
    pthread_mutex_unlock(&l2->wlock);
    out->capacity_bytes = l2->capacity;
}
