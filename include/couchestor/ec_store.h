/* ec_store.h: a self-checking erasure-coded object store over N >= k+m
 * directories, one per disk (the failure domains).
 *
 * Layout: object NAME (any byte string of 1..CS_EC_NAME_MAX bytes, never
 * used as a path) lives in <dir>/<hex of cs_ec_name_hash(NAME)>/ on k+m of
 * the directories, one shard file per directory, named
 * g<generation as 16 hex digits>-<shard index>.shard (format: ec_shard.h).
 * Shard i goes to directory (h + i) mod N, where h comes from the name
 * hash; readers look in every directory, so a reordered --dirs list still
 * works.
 *
 * Atomicity: put writes a new generation to temporary files, fsyncs them,
 * renames them into place and fsyncs the directories, and only then removes
 * older generations. A reader uses the newest generation that has at least
 * k shards with valid headers and never mixes generations, so after a crash
 * or power loss at any point it sees the old object or the new one.
 *
 * Delete is atomic too: it first creates an empty tombstone file
 * g<generation>.tomb, newer than every generation of the object, in every
 * directory holding a file of the object and fsyncs it there; then removes
 * the shard files, then the tombstones. A reader that finds a tombstone
 * newer than any complete generation treats the object as deleted, so after
 * a crash at any point it sees the whole object or none. Leftovers of an
 * interrupted delete are removed by the next put of the name, by delete or
 * repair of the name, or by cs_ec_store_purge.
 *
 * Integrity: every chunk carries a CRC32C; a shard whose header or chunk
 * does not check out counts as missing for that stripe. Corrupt data is
 * never returned: get reconstructs from the other shards or fails.
 *
 * Concurrency: a store may be used from several threads; operations on
 * different objects are independent. Concurrent puts of the same name end
 * with one of them; repair or delete must not race a put of the same name.
 *
 * Ownership: the store copies the directory paths. Buffers returned by get
 * and list are malloc'd and owned by the caller (see each function). */
#ifndef COUCHESTOR_EC_STORE_H
#define COUCHESTOR_EC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/ec.h"
#include "couchestor/ec_shard.h"
#include "couchestor/error.h"

#define CS_EC_MAX_DIRS 255
#define CS_EC_DEFAULT_STRIPE_SIZE (1u << 20)

typedef struct cs_ec_policy_s {
    unsigned k, m;
    uint64_t stripe_size; /* requested; rounded up to k x 4096 multiple; 0 = 1 MiB */
} cs_ec_policy_t;

/* Called after each stripe with bytes done and the total. */
typedef void (*cs_ec_progress_fn)(void *ctx, uint64_t done, uint64_t total);
/* put source: fill buf with exactly len next bytes of the object. */
typedef int (*cs_ec_read_fn)(void *ctx, void *buf, size_t len, cs_err_t *err);
/* get sink: consume the next len bytes of the object. */
typedef int (*cs_ec_write_fn)(void *ctx, const void *buf, size_t len, cs_err_t *err);

typedef struct cs_ec_store_opts_s {
    unsigned io_flags;          /* CS_IO_NO_URING, CS_IO_NO_DIRECT (io.h) */
    cs_ec_progress_fn progress; /* optional */
    void *progress_ctx;
    /* Threads a get may use to read and check stripes in parallel (the
     * caller's own included): 0 = one per online CPU (at most 8), 1 = the
     * calling thread only. Helpers live only for the duration of one get of
     * an object of two or more stripes; the sink and the progress callback
     * are always called on the calling thread, in order. */
    unsigned read_threads;
} cs_ec_store_opts_t;

typedef enum cs_ec_shard_state {
    CS_EC_SHARD_OK = 0,
    CS_EC_SHARD_MISSING,    /* no file of the object's generation */
    CS_EC_SHARD_BAD_HEADER, /* header unreadable, invalid, or of another object/generation */
    CS_EC_SHARD_TRUNCATED,  /* shorter than its header says */
    CS_EC_SHARD_CORRUPT,    /* one or more chunks fail their CRC32C */
    CS_EC_SHARD_REPAIRED,   /* was damaged; rewritten by repair */
} cs_ec_shard_state_t;

const char *cs_ec_shard_state_name(cs_ec_shard_state_t state);

typedef struct cs_ec_shard_report_s {
    cs_ec_shard_state_t state;
    int dir;              /* index into the store's directories, -1 when none */
    uint64_t bad_stripes; /* chunks failing their CRC */
    char detail[256];
} cs_ec_shard_report_t;

typedef struct cs_ec_report_s {
    unsigned k, m;
    uint32_t stripe_size;
    uint64_t length, generation, stripe_count;
    unsigned damaged;               /* shards not OK when the operation started */
    uint64_t stripes_reconstructed; /* stripes decoded from parity */
    uint64_t stripes_unrecoverable; /* stripes with fewer than k good chunks */
    unsigned repaired;              /* shards rewritten */
    unsigned stale_files;           /* other generations, duplicates, temporaries */
    unsigned stale_removed;
    cs_ec_shard_report_t shard[CS_EC_MAX_SHARDS];
} cs_ec_report_t;

typedef struct cs_ec_store_s cs_ec_store_t;

/* Opens a store over ndirs existing directories (1..255). Nothing is
 * written. */
int cs_ec_store_open(const char *const *dirs, size_t ndirs, const cs_ec_store_opts_t *opts, cs_ec_store_t **out,
                     cs_err_t *err);
/* Closes the store and sets *store to NULL; NULL is a no-op. */
void cs_ec_store_close(cs_ec_store_t **store);
size_t cs_ec_store_ndirs(const cs_ec_store_t *store);
const char *cs_ec_store_dir(const cs_ec_store_t *store, size_t i);

/* Stores len bytes as object name with the policy (k + m <= ndirs),
 * replacing any previous version atomically. */
int cs_ec_store_put(cs_ec_store_t *store, const void *name, size_t name_len, const cs_ec_policy_t *policy,
                    const void *data, size_t len, cs_err_t *err);
/* Same, with the object's len bytes pulled from a source. */
int cs_ec_store_put_stream(cs_ec_store_t *store, const void *name, size_t name_len, const cs_ec_policy_t *policy,
                           uint64_t len, cs_ec_read_fn read, void *ctx, cs_err_t *err);

/* Reads the object into a malloc'd buffer (*data, caller frees; non-NULL
 * even for an empty object) of *len bytes, reconstructing missing or corrupt
 * shards; report (optional) says which shards were damaged. CS_ENOTFOUND,
 * CS_EINSUFFICIENT_SHARDS, or CS_ETOOBIG for objects larger than max_len. */
int cs_ec_store_get(cs_ec_store_t *store, const void *name, size_t name_len, size_t max_len, uint8_t **data,
                    size_t *len, cs_ec_report_t *report, cs_err_t *err);
/* Same, into the caller's buffer of cap bytes (*len = the object's
 * length): the data chunks of each full stripe are read straight to their
 * place in buf and their CRC32C checked there, so an intact object is read
 * with no copy. A buffer aligned to CS_BUF_ALIGN (buf.h) keeps O_DIRECT
 * reads in place. CS_ETOOBIG (nothing read) when the object is larger than
 * cap. On failure buf's contents are unspecified (never returned as data). */
int cs_ec_store_get_into(cs_ec_store_t *store, const void *name, size_t name_len, void *buf, size_t cap, size_t *len,
                         cs_ec_report_t *report, cs_err_t *err);
/* Same, streaming the bytes in order to a sink. On failure the sink may
 * have received a prefix of the object (never wrong bytes). */
int cs_ec_store_get_stream(cs_ec_store_t *store, const void *name, size_t name_len, cs_ec_write_fn write, void *ctx,
                           cs_ec_report_t *report, cs_err_t *err);

/* Deletes the object atomically (see above) and removes its files.
 * CS_ENOTFOUND when there is no object of that name (leftovers of an
 * earlier interrupted delete are removed then). On a failure to write the
 * tombstone nothing is deleted. Once the tombstone is durable the delete
 * has happened and returns 0, even if some file could not be removed (a
 * later delete, repair or purge removes it). */
int cs_ec_store_delete(cs_ec_store_t *store, const void *name, size_t name_len, cs_err_t *err);
/* Finishes every interrupted delete in the store: removes the files of
 * objects whose newest generation is a tombstone. *removed (optional)
 * counts the files removed. Live objects are not touched. */
int cs_ec_store_purge(cs_ec_store_t *store, unsigned *removed, cs_err_t *err);

typedef struct cs_ec_entry_s {
    uint8_t *name; /* name_len bytes, NUL appended; NULL when no header is readable */
    size_t name_len;
    char hex[33]; /* the object's directory name */
    uint64_t length, generation;
    unsigned k, m;
} cs_ec_entry_t;

/* Lists every object found in any directory, sorted by name (objects whose
 * headers are all unreadable come last, name NULL; deleted objects whose
 * leftovers remain are not listed). The caller frees with
 * cs_ec_entries_free. */
int cs_ec_store_list(cs_ec_store_t *store, cs_ec_entry_t **entries, size_t *count, cs_err_t *err);
void cs_ec_entries_free(cs_ec_entry_t *entries, size_t count);

/* Header-level state of every shard (no payload read): the `info` view. */
int cs_ec_store_stat(cs_ec_store_t *store, const void *name, size_t name_len, cs_ec_report_t *report, cs_err_t *err);
/* Reads every chunk of every shard and checks its CRC; changes nothing.
 * Returns 0 when the check ran (report->damaged, stripes_unrecoverable and
 * stale_files say what was found). */
int cs_ec_store_verify(cs_ec_store_t *store, const void *name, size_t name_len, cs_ec_report_t *report, cs_err_t *err);
/* Rewrites missing or damaged shards from the survivors (atomically per
 * shard) and removes stale files. For a deleted object with leftovers,
 * removes them (report->stale_removed) and returns CS_ENOTFOUND. CS_EINSUFFICIENT_SHARDS when some stripe
 * has fewer than k good chunks (nothing is rewritten then). */
int cs_ec_store_repair(cs_ec_store_t *store, const void *name, size_t name_len, cs_ec_report_t *report, cs_err_t *err);

#endif
