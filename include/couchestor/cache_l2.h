/* cache_l2.h: L2, the local fast-disk cache tier (the seed's NVMe tier): a
 * directory of append-only segment files plus an in-memory index
 * (key -> segment, offset, sizes, CRC32C) in a sharded map.
 *
 * - Entries are values of at least min_entry_size bytes (L2_MIN_ENTRY_SIZE,
 *   4 KiB by default; smaller ones stay in L1), optionally LZ4-compressed.
 * - Every read checks CRC32C(key || value) over the bytes it returns: a
 *   mismatch (or an undecodable block) is a miss, the entry is dropped and
 *   counted in `corrupt`; wrong bytes are never returned.
 * - Survives restart: cs_l2_open() rebuilds the index from the segment
 *   records, skipping damaged records and ignoring (and truncating) a torn
 *   last record. Deletes are logged as tombstone records so a deleted key
 *   does not come back.
 * - Capacity (bytes of segment files) is enforced by evicting the oldest
 *   segment whole; its live entries that were read since they were written
 *   are first copied forward (compaction), the rest are evicted. One segment
 *   of the capacity is kept as headroom for that copy, so the files never
 *   exceed the capacity.
 * - Segment format 2 keeps record headers in a log area at the start of the
 *   file and payloads in a payload area after it, a payload of 4 KiB or more
 *   starting on a 4 KiB boundary, so an O_DIRECT read of a value reads only
 *   its own blocks. Format 1 segments (header and payload packed) from
 *   older builds are still read, and are never appended to; a segment of an
 *   unknown format makes cs_l2_open() fail with CS_EINVAL and leaves it be.
 * - No path is built from a key: files are named seg-<16 hex digits>.l2 from
 *   a counter. Directory 0700, files 0600. A LOCK file (flock) keeps a second
 *   process out of the directory.
 *
 * Thread safety: get/put/delete/stats from any number of threads. Reads run
 * in parallel (shard read lock, then a segment reference); writes are
 * serialised by one writer lock (the log is appended by one writer). */
#ifndef COUCHESTOR_CACHE_L2_H
#define COUCHESTOR_CACHE_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/compress.h"
#include "couchestor/error.h"

#define CS_L2_MIN_ENTRY_SIZE 4096u             /* L2_MIN_ENTRY_SIZE */
#define CS_L2_CAPACITY_DEFAULT (500ull << 30)  /* 500 GiB, the seed's default */
#define CS_L2_SEGMENT_SIZE_DEFAULT (64u << 20) /* 64 MiB */
#define CS_L2_SEGMENT_SIZE_MIN (64u << 10)     /* 64 KiB */
#define CS_L2_SEGMENT_SIZE_MAX (1u << 30)      /* 1 GiB: offsets fit 32 bits */

typedef enum cs_l2_read_mode {
    CS_L2_READ_MMAP = 0, /* default: copy out of a shared mapping (page cache) */
    CS_L2_READ_PREAD,    /* pread(2) into the caller's buffer path */
    CS_L2_READ_DIRECT,   /* O_DIRECT pread of the aligned blocks (bypasses the page cache) */
} cs_l2_read_mode_t;

typedef struct cs_l2_config_s {
    const char *dir;                  /* required; created (0700) if missing */
    uint64_t capacity_bytes;          /* 0 = CS_L2_CAPACITY_DEFAULT; >= 3 segments */
    uint32_t segment_size;            /* 0 = 64 MiB, clamped to capacity / 3 */
    uint32_t min_entry_size;          /* 0 = CS_L2_MIN_ENTRY_SIZE; values below are refused */
    cs_compress_config_t compression; /* default: none */
    cs_l2_read_mode_t read_mode;
    bool sync_writes; /* fdatasync after each append (default off: a
                                  cache; the page cache survives SIGKILL) */
    uint32_t shards;  /* index shards; 0 = 1024 */
} cs_l2_config_t;

typedef struct cs_l2_stats_s {
    uint64_t hits, misses;
    uint64_t corrupt; /* reads that failed the checksum or decode */
    uint64_t puts, deletes;
    uint64_t evicted_segments, evicted_entries, compacted_entries;
    uint64_t recovered_entries; /* indexed by the last open */
    uint64_t skipped_records;   /* damaged or torn records skipped by the last open */
    uint64_t bytes;             /* bytes written to segment files (headers, log
                                   records, payloads and their alignment; not
                                   the unwritten rest of a log area) */
    uint64_t live_bytes;        /* bytes of records the index points to */
    uint64_t entries;
    uint64_t segments;
    uint64_t capacity_bytes;
} cs_l2_stats_t;

typedef struct cs_l2_s cs_l2_t;

/* Opens (creating if needed) the cache directory and rebuilds the index.
 * Errors: CS_EINVAL (bad config, or a segment written in a format this build
 * does not know), CS_EBUSY (another process has it open),
 * CS_EIO / CS_EPERM from the file system, CS_ENOMEM. */
int cs_l2_open(const cs_l2_config_t *cfg, cs_l2_t **out, cs_err_t *err);
/* Closes files and frees memory; the data stays for the next open. NULL and
 * *l2 == NULL are no-ops. No other call may run. */
void cs_l2_close(cs_l2_t **l2);

/* Reads the value into buf. 0 and *vlen on a hit; CS_ENOTFOUND on a miss
 * (including a corrupt entry, which is dropped); CS_ETOOBIG when cap is too
 * small (*vlen says how much is needed); CS_EIO when the disk read fails. */
int cs_l2_get(cs_l2_t *l2, const void *key, size_t klen, void *buf, size_t cap, size_t *vlen, cs_err_t *err);
/* Length of the key's value without reading it; CS_ENOTFOUND. */
int cs_l2_value_size(cs_l2_t *l2, const void *key, size_t klen, size_t *vlen);

/* Appends the value (compressed per config) and points the index at it,
 * replacing an older one. CS_EINVAL (bad key, value below min_entry_size),
 * CS_ETOOBIG (record larger than a segment), CS_EIO. On error the index is
 * unchanged. */
int cs_l2_put(cs_l2_t *l2, const void *key, size_t klen, const void *value, size_t vlen, cs_err_t *err);
/* Logs a tombstone and drops the key: 0, CS_ENOTFOUND, or CS_EIO. */
int cs_l2_delete(cs_l2_t *l2, const void *key, size_t klen, cs_err_t *err);
/* fdatasync of the active segment. */
int cs_l2_sync(cs_l2_t *l2, cs_err_t *err);

void cs_l2_stats(cs_l2_t *l2, cs_l2_stats_t *out);

#endif
