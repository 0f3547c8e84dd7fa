/* store.c: the erasure-coded object store: generations of shard files over
 * N directories, atomic put, self-checking get, verify, repair, list. */
#include "couchestor/ec_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/buf.h"
#include "couchestor/clock.h"
#include "couchestor/crc32c.h"
#include "couchestor/endian.h"
#include "couchestor/io.h"

#define CS__MAX_CODECS 32
#define CS__MAX_FILES 4096 /* files per object directory considered */
#define CS__IO_DEPTH 256

struct cs_ec_store_s {
    char **dirs;
    size_t ndirs;
    cs_ec_store_opts_t opts;
    pthread_mutex_t lock; /* guards codecs */
    cs_ec_codec_t *codecs[CS__MAX_CODECS];
    unsigned ncodecs;
};

/* ---------------------------------------------------------------- helpers */

const char *cs_ec_shard_state_name(cs_ec_shard_state_t state)
{
    switch (state) {
    case CS_EC_SHARD_OK:
        return "ok";
    case CS_EC_SHARD_MISSING:
        return "missing";
    case CS_EC_SHARD_BAD_HEADER:
        return "bad-header";
    case CS_EC_SHARD_TRUNCATED:
        return "truncated";
    case CS_EC_SHARD_CORRUPT:
        return "corrupt";
    case CS_EC_SHARD_REPAIRED:
        return "repaired";
    }
    return "unknown";
}

/* snprintf into a fixed message field; truncation is acceptable there. */
static void cs__detail(char *dst, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cs__detail(char *dst, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, cap, fmt, ap);
    va_end(ap);
}

/* A printable, bounded rendering of an object name for messages. */
static const char *cs__pname(const void *name, size_t len, char *buf, size_t cap)
{
    const uint8_t *p = name;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 5 < cap; i++) {
        if (o + 8 >= cap && i + 1 < len) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\' && p[i] != '\'') {
            buf[o++] = (char)p[i];
        } else {
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", p[i]);
        }
    }
    buf[o < cap ? o : cap - 1] = '\0';
    return buf;
}

static char *cs__path(const char *dir, const char *hex, const char *file)
{
    size_t n = strlen(dir) + 34 + (file ? strlen(file) + 1 : 0) + 1;
    char *p = malloc(n);
    if (!p)
        return NULL;
    if (file)
        snprintf(p, n, "%s/%s/%s", dir, hex, file);
    else
        snprintf(p, n, "%s/%s", dir, hex);
    return p;
}

static int cs__get_codec(cs_ec_store_t *st, unsigned k, unsigned m, cs_ec_codec_t **out, bool *owned, cs_err_t *err)
{
    *owned = false;
    pthread_mutex_lock(&st->lock);
    for (unsigned i = 0; i < st->ncodecs; i++) {
        if (cs_ec_codec_k(st->codecs[i]) == k && cs_ec_codec_m(st->codecs[i]) == m) {
            *out = st->codecs[i];
            pthread_mutex_unlock(&st->lock);
            return 0;
        }
    }
    int rc = cs_ec_codec_new(k, m, out, err);
    if (rc == 0) {
        if (st->ncodecs < CS__MAX_CODECS)
            st->codecs[st->ncodecs++] = *out;
        else
            *owned = true;
    }
    pthread_mutex_unlock(&st->lock);
    return rc;
}

/* ----------------------------------------------------------- open / close */

int cs_ec_store_open(const char *const *dirs, size_t ndirs, const cs_ec_store_opts_t *opts, cs_ec_store_t **out,
                     cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_open: out is NULL");
    *out = NULL;
    if (!dirs || ndirs < 1 || ndirs > CS_EC_MAX_DIRS)
        return cs_err_set(err, CS_EINVAL, "ec store: %zu directories given, need 1..%d", ndirs, CS_EC_MAX_DIRS);
    for (size_t i = 0; i < ndirs; i++) {
        struct stat sb;
        if (!dirs[i] || !dirs[i][0])
            return cs_err_set(err, CS_EINVAL, "ec store: directory %zu is empty", i + 1);
        if (stat(dirs[i], &sb) != 0 || !S_ISDIR(sb.st_mode))
            return cs_err_set(err, CS_ENOTFOUND, "ec store: %s is not a directory: create it (one per disk)", dirs[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(dirs[i], dirs[j]) == 0)
                return cs_err_set(err, CS_EINVAL, "ec store: directory %s is listed twice", dirs[i]);
    }
    cs_ec_store_t *st = calloc(1, sizeof *st);
    if (!st)
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    st->dirs = calloc(ndirs, sizeof *st->dirs);
    if (!st->dirs)
        goto nomem;
    st->ndirs = ndirs;
    for (size_t i = 0; i < ndirs; i++) {
        size_t n = strlen(dirs[i]);
        while (n > 1 && dirs[i][n - 1] == '/')
            n--;
        st->dirs[i] = strndup(dirs[i], n);
        if (!st->dirs[i])
            goto nomem;
    }
    if (opts)
        st->opts = *opts;
    pthread_mutex_init(&st->lock, NULL);
    *out = st;
    return 0;
nomem:
    if (st->dirs)
        for (size_t i = 0; i < ndirs; i++)
            free(st->dirs[i]);
    free(st->dirs);
    free(st);
    return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
}

void cs_ec_store_close(cs_ec_store_t **store)
{
    if (!store || !*store)
        return;
    cs_ec_store_t *st = *store;
    for (unsigned i = 0; i < st->ncodecs; i++)
        cs_ec_codec_free(&st->codecs[i]);
    for (size_t i = 0; i < st->ndirs; i++)
        free(st->dirs[i]);
    free(st->dirs);
    pthread_mutex_destroy(&st->lock);
    free(st);
    *store = NULL;
}

size_t cs_ec_store_ndirs(const cs_ec_store_t *store)
{
    return store->ndirs;
}

const char *cs_ec_store_dir(const cs_ec_store_t *store, size_t i)
{
    return i < store->ndirs ? store->dirs[i] : NULL;
}

/* ------------------------------------------------------- object discovery */

typedef struct cs__file {
    int dir;
    uint64_t gen;
    unsigned idx;
    bool tmp;
    bool tomb; /* a delete's tombstone: g<generation>.tomb */
    bool used; /* the selected shard of its index */
    char fname[48];
} cs__file_t;

typedef struct cs__shard {
    bool valid;
    int dir;
    char *path;
    cs_file_t f;
    cs_buf_t *hdr;
    cs_ec_shard_header_t h;
    cs_ec_shard_state_t state;
    char detail[256];
    uint64_t bad_stripes;
} cs__shard_t;

typedef struct cs__obj {
    cs_ec_store_t *st;
    cs_io_t *io;
    uint8_t hash[16];
    char hex[33];
    bool any_dir;
    cs__file_t *files;
    size_t nfiles;
    bool selected;
    bool deleted; /* the newest generation is a tombstone */
    uint64_t gen;
    unsigned nvalid;
    cs_ec_shard_header_t ref; /* fields of the selected generation; name borrowed from a shard */
    cs__shard_t shard[CS_EC_MAX_SHARDS];
} cs__obj_t;

static bool cs__parse_fname(const char *s, uint64_t *gen, unsigned *idx, bool *tmp, bool *tomb)
{
    *tomb = false;
    *tmp = s[0] == '.';
    if (*tmp)
        s++;
    if (s[0] != 'g')
        return false;
    s++;
    uint64_t g = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        g = g << 4 | (uint64_t)v;
    }
    s += 16;
    if (!*tmp && strcmp(s, ".tomb") == 0) {
        *gen = g;
        *idx = 0;
        *tomb = true;
        return g != 0;
    }
    if (*s++ != '-')
        return false;
    unsigned x = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9' && digits < 4) {
        x = x * 10 + (unsigned)(*s++ - '0');
        digits++;
    }
    if (digits == 0 || (digits > 1 && s[-digits] == '0') || x >= CS_EC_MAX_SHARDS)
        return false;
    if (strcmp(s, *tmp ? ".tmp" : ".shard") != 0)
        return false;
    *gen = g;
    *idx = x;
    return g != 0;
}

static void cs__shard_reset(cs__shard_t *s)
{
    cs_file_close(&s->f);
    cs_buf_free(&s->hdr);
    free(s->path);
    memset(s, 0, sizeof *s);
    s->f.fd = -1;
    s->dir = -1;
}

static void cs__obj_free(cs__obj_t *o)
{
    if (!o)
        return;
    for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++)
        cs__shard_reset(&o->shard[i]);
    free(o->files);
    cs_io_free(&o->io);
    free(o);
}

static int cs__obj_new(cs_ec_store_t *st, const uint8_t hash[16], cs__obj_t **out, cs_err_t *err)
{
    cs__obj_t *o = calloc(1, sizeof *o);
    if (!o)
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    o->st = st;
    memcpy(o->hash, hash, 16);
    cs_ec_name_hex(hash, o->hex);
    for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++) {
        o->shard[i].f.fd = -1;
        o->shard[i].dir = -1;
    }
    int rc = cs_io_new(CS__IO_DEPTH, st->opts.io_flags, &o->io, err);
    if (rc != 0) {
        free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* Lists the shard and temporary files of the object in every directory. */
static int cs__scan(cs__obj_t *o, cs_err_t *err)
{
    size_t cap = 16;
    o->files = malloc(cap * sizeof *o->files);
    o->nfiles = 0;
    if (!o->files)
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    for (size_t d = 0; d < o->st->ndirs; d++) {
        char *p = cs__path(o->st->dirs[d], o->hex, NULL);
        if (!p)
            return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
        DIR *dh = opendir(p);
        free(p);
        if (!dh)
            continue; /* absent, or the disk is gone: its shards count as missing */
        o->any_dir = true;
        struct dirent *e;
        while ((e = readdir(dh)) != NULL && o->nfiles < CS__MAX_FILES) {
            uint64_t gen;
            unsigned idx;
            bool tmp, tomb;
            if (strlen(e->d_name) >= sizeof o->files[0].fname || !cs__parse_fname(e->d_name, &gen, &idx, &tmp, &tomb))
                continue;
            if (o->nfiles == cap) {
                cap *= 2;
                cs__file_t *nf = realloc(o->files, cap * sizeof *nf);
                if (!nf) {
                    closedir(dh);
                    return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
                }
                o->files = nf;
            }
            cs__file_t *f = &o->files[o->nfiles++];
            memset(f, 0, sizeof *f);
            f->dir = (int)d;
            f->gen = gen;
            f->idx = idx;
            f->tmp = tmp;
            f->tomb = tomb;
            snprintf(f->fname, sizeof f->fname, "%s", e->d_name);
        }
        closedir(dh);
    }
    return 0;
}

/* Opens one shard file and validates its header against what the file name
 * and the rest of the generation say. Fills s (valid or state/detail). */
static void cs__open_shard(cs__obj_t *o, const cs__file_t *f, const void *name, size_t name_len, cs__shard_t *s)
{
    cs_err_t e = {0};
    s->dir = f->dir;
    s->path = cs__path(o->st->dirs[f->dir], o->hex, f->fname);
    if (!s->path) {
        s->state = CS_EC_SHARD_MISSING;
        cs__detail(s->detail, sizeof s->detail, "out of memory");
        return;
    }
    s->state = CS_EC_SHARD_BAD_HEADER;
    if (cs_file_open(o->io, s->path, O_RDONLY, 0, true, &s->f, &e) != 0) {
        s->state = CS_EC_SHARD_MISSING;
        cs__detail(s->detail, sizeof s->detail, "%s", e.msg);
        return;
    }
    if (cs_buf_alloc(4096, 0, &s->hdr, &e) != 0) {
        cs__detail(s->detail, sizeof s->detail, "%s", e.msg);
        return;
    }
    ssize_t n = pread(s->f.fd, s->hdr->data, 4096, 0);
    uint32_t hs = 0;
    if (n < 0 || cs_ec_shard_header_peek(s->hdr->data, (size_t)n, &hs, &e) != 0) {
        cs__detail(s->detail, sizeof s->detail, "%s: %s", s->path, n < 0 ? strerror(errno) : e.msg);
        return;
    }
    if (hs > 4096) {
        cs_buf_free(&s->hdr);
        if (cs_buf_alloc(hs, 0, &s->hdr, &e) != 0) {
            cs__detail(s->detail, sizeof s->detail, "%s", e.msg);
            return;
        }
        size_t got = 0;
        while (got < hs) {
            n = pread(s->f.fd, s->hdr->data + got, hs - got, (off_t)got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += (size_t)n;
        }
        n = (ssize_t)got;
    }
    if (cs_ec_shard_header_parse(s->hdr->data, (size_t)n, &s->h, &e) != 0) {
        cs__detail(s->detail, sizeof s->detail, "%s: %s", s->path, e.msg);
        return;
    }
    const cs_ec_shard_header_t *h = &s->h;
    if (memcmp(h->name_hash, o->hash, 16) != 0 ||
        (name && (h->name_len != name_len || memcmp(h->name, name, name_len) != 0))) {
        cs__detail(s->detail, sizeof s->detail, "%s: belongs to another object", s->path);
        return;
    }
    if (h->generation != f->gen || h->index != f->idx) {
        cs__detail(s->detail, sizeof s->detail, "%s: header says generation %016" PRIx64 " shard %u (misplaced file)",
                   s->path, h->generation, h->index);
        return;
    }
    if (o->ref.k) {
        const cs_ec_shard_header_t *r = &o->ref;
        if (h->k != r->k || h->m != r->m || h->object_length != r->object_length || h->stripe_size != r->stripe_size ||
            h->name_len != r->name_len || memcmp(h->name, r->name, r->name_len) != 0) {
            cs__detail(s->detail, sizeof s->detail,
                       "%s: header disagrees with the other shards of generation %016" PRIx64, s->path, f->gen);
            return;
        }
    }
    struct stat sb;
    if (fstat(s->f.fd, &sb) != 0 || (uint64_t)sb.st_size < cs_ec_shard_file_size(h)) {
        s->state = CS_EC_SHARD_TRUNCATED;
        cs__detail(s->detail, sizeof s->detail, "%s: %lld bytes, header says %" PRIu64, s->path, (long long)sb.st_size,
                   cs_ec_shard_file_size(h));
        return;
    }
    s->valid = true;
    s->state = CS_EC_SHARD_OK;
    if (!o->ref.k)
        o->ref = *h;
}

static int cs__cmp_gen_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void cs__report_init(cs_ec_report_t *rep)
{
    if (!rep)
        return;
    memset(rep, 0, sizeof *rep);
    for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++)
        rep->shard[i].dir = -1;
}

/* Picks the newest generation with at least k valid shards. name NULL:
 * whatever object the headers name (list). */
static int cs__select(cs__obj_t *o, const void *name, size_t name_len, cs_err_t *err)
{
    char pn[96];
    const char *shown = name ? cs__pname(name, name_len, pn, sizeof pn) : o->hex;
    uint64_t *gens = malloc((o->nfiles ? o->nfiles : 1) * sizeof *gens);
    if (!gens)
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    size_t ng = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        if (!o->files[i].tmp)
            gens[ng++] = o->files[i].gen;
    qsort(gens, ng, sizeof *gens, cs__cmp_gen_desc);
    unsigned best_avail = 0, best_k = 0;
    for (size_t g = 0; g < ng; g++) {
        if (g > 0 && gens[g] == gens[g - 1])
            continue;
        bool tomb = false;
        for (size_t i = 0; i < o->nfiles && !tomb; i++)
            tomb = o->files[i].tomb && o->files[i].gen == gens[g];
        if (tomb) {
            /* Deleted: whatever is older is a leftover of the delete. */
            o->deleted = true;
            break;
        }
        memset(&o->ref, 0, sizeof o->ref);
        for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++)
            cs__shard_reset(&o->shard[i]);
        o->nvalid = 0;
        for (size_t i = 0; i < o->nfiles; i++)
            o->files[i].used = false;
        for (size_t i = 0; i < o->nfiles; i++) {
            cs__file_t *f = &o->files[i];
            if (f->tmp || f->tomb || f->gen != gens[g] || o->shard[f->idx].valid)
                continue;
            cs__shard_reset(&o->shard[f->idx]);
            cs__open_shard(o, f, name, name_len, &o->shard[f->idx]);
            if (o->shard[f->idx].valid) {
                f->used = true;
                o->nvalid++;
            }
        }
        if (o->ref.k && o->nvalid >= o->ref.k) {
            /* Shards past k+m cannot belong to this code. */
            for (unsigned i = (unsigned)o->ref.k + o->ref.m; i < CS_EC_MAX_SHARDS; i++)
                cs__shard_reset(&o->shard[i]);
            for (size_t i = 0; i < o->nfiles; i++)
                if (o->files[i].idx >= (unsigned)o->ref.k + o->ref.m)
                    o->files[i].used = false;
            o->selected = true;
            o->gen = gens[g];
            free(gens);
            return 0;
        }
        if (g == 0 || o->nvalid > best_avail) {
            best_avail = o->nvalid;
            best_k = o->ref.k;
        }
    }
    free(gens);
    for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++)
        cs__shard_reset(&o->shard[i]);
    memset(&o->ref, 0, sizeof o->ref);
    if (o->deleted)
        return cs_err_set(err, CS_ENOTFOUND, "object '%s' not found (deleted)", shown);
    if (ng == 0)
        return cs_err_set(err, CS_ENOTFOUND, "object '%s' not found in %zu directories", shown, o->st->ndirs);
    if (best_k == 0)
        return cs_err_set(err, CS_EINSUFFICIENT_SHARDS,
                          "object '%s': InsufficientShards: available 0, required k (no shard "
                          "header is readable)",
                          shown);
    return cs_err_set(err, CS_EINSUFFICIENT_SHARDS, "object '%s': InsufficientShards: available %u, required %u", shown,
                      best_avail, best_k);
}

/* Copies the header-level view of the selected generation into rep. */
static void cs__report_fill(const cs__obj_t *o, cs_ec_report_t *rep)
{
    if (!rep)
        return;
    rep->k = o->ref.k;
    rep->m = o->ref.m;
    rep->stripe_size = o->ref.stripe_size;
    rep->length = o->ref.object_length;
    rep->generation = o->gen;
    rep->stripe_count = o->ref.stripe_count;
    rep->damaged = 0;
    rep->stale_files = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        if (!o->files[i].used)
            rep->stale_files++;
    for (unsigned i = 0; i < (unsigned)o->ref.k + o->ref.m; i++) {
        const cs__shard_t *s = &o->shard[i];
        cs_ec_shard_report_t *r = &rep->shard[i];
        r->dir = s->dir;
        r->bad_stripes = s->bad_stripes;
        if (s->valid && s->bad_stripes == 0) {
            r->state = CS_EC_SHARD_OK;
            r->detail[0] = '\0';
            continue;
        }
        if (s->valid) {
            r->state = CS_EC_SHARD_CORRUPT;
            cs__detail(r->detail, sizeof r->detail, "%s: %" PRIu64 " chunk(s) fail CRC32C", s->path, s->bad_stripes);
        } else if (s->state == CS_EC_SHARD_OK && !s->path) {
            r->state = CS_EC_SHARD_MISSING;
            cs__detail(r->detail, sizeof r->detail, "no file of generation %016" PRIx64, o->gen);
        } else {
            r->state = s->state == CS_EC_SHARD_OK ? CS_EC_SHARD_MISSING : s->state;
            cs__detail(r->detail, sizeof r->detail, "%s", s->detail);
        }
        rep->damaged++;
    }
}

static int cs__open_object(cs_ec_store_t *st, const void *name, size_t name_len, cs__obj_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!st || !name || name_len < 1 || name_len > CS_EC_NAME_MAX)
        return cs_err_set(err, CS_EINVAL, "object name must be 1..%u bytes (got %zu)", CS_EC_NAME_MAX,
                          name ? name_len : 0);
    uint8_t hash[16];
    cs_ec_name_hash(name, name_len, hash);
    cs__obj_t *o = NULL;
    int rc = cs__obj_new(st, hash, &o, err);
    if (!o) /* set exactly when rc is 0 */
        return rc;
    rc = cs__scan(o, err);
    if (rc == 0)
        rc = cs__select(o, name, name_len, err);
    if (rc != 0) {
        cs__obj_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* --------------------------------------------------------- payload reads */

/* Reads chunk `stripe` of the listed rows into bufs[row] through io and
 * checks each against its CRC; ok[row] says which are good. Touches no
 * shared state of o except the (read-only) headers and file descriptors, so
 * several threads may call it at once, each with its own io. */
static void cs__read_chunks(cs__obj_t *o, cs_io_t *io, uint64_t stripe, const unsigned *rows, unsigned nrows,
                            uint8_t *const *bufs, bool *ok)
{
    cs_io_req_t reqs[CS_EC_MAX_SHARDS];
    uint32_t len = cs_ec_shard_chunk_len(&o->ref, stripe);
    uint64_t off = cs_ec_shard_chunk_offset(&o->ref, stripe);
    for (unsigned i = 0; i < nrows; i++) {
        cs__shard_t *s = &o->shard[rows[i]];
        reqs[i] = (cs_io_req_t){.op = CS_IO_READ, .file = &s->f, .buf = bufs[rows[i]], .len = len, .offset = off};
    }
    bool direct = false;
    for (unsigned i = 0; i < nrows; i++)
        direct |= o->shard[rows[i]].f.direct;
    if (direct) {
        /* Device reads: all shards in flight together, then the checks. */
        (void)cs_io_run(io, reqs, nrows, NULL);
    }
    for (unsigned i = 0; i < nrows; i++) {
        unsigned r = rows[i];
        /* Page-cache reads are copies: check each chunk while it is still
         * in the CPU cache rather than after the whole stripe. */
        if (!direct)
            (void)cs_io_run(io, &reqs[i], 1, NULL);
        ok[r] = reqs[i].result == 0 && reqs[i].done == len &&
                cs_crc32c(0, bufs[r], len) == cs_ec_shard_stripe_crc(&o->shard[r].h, stripe);
    }
}

/* cs__read_chunks for the single-threaded passes (verify, repair): bad
 * chunks are counted against their shard. */
static void cs__read_chunks_count(cs__obj_t *o, uint64_t stripe, const unsigned *rows, unsigned nrows,
                                  uint8_t *const *bufs, bool *ok)
{
    cs__read_chunks(o, o->io, stripe, rows, nrows, bufs, ok);
    for (unsigned i = 0; i < nrows; i++)
        if (!ok[rows[i]])
            o->shard[rows[i]].bad_stripes++;
}

static void cs__progress(cs_ec_store_t *st, uint64_t done, uint64_t total)
{
    if (st->opts.progress)
        st->opts.progress(st->opts.progress_ctx, done, total);
}

/* A get runs stripes on up to `workers` threads (the caller's and helpers),
 * each reading, checking and if need be decoding whole stripes into its own
 * slot, while the caller hands finished stripes to the sink in order. On
 * one core, a verified read costs a copy plus a CRC32C pass over the same
 * bytes; spreading stripes over cores lets the two overlap. Slots bound the
 * memory (at most CS__GET_SLOT_BUDGET, and never less than one stripe). */
#define CS__GET_MAX_WORKERS 8
#define CS__GET_MAX_SLOTS 16
#define CS__GET_SLOT_BUDGET (64u << 20)

enum {
    CS__SLOT_FREE,
    CS__SLOT_BUSY,
    CS__SLOT_DONE
};

typedef struct cs__slot {
    int state;
    uint64_t stripe;
    int rc;
    bool reconstructed;
    uint8_t *data; /* (k+m) x chunk_size bytes: data chunks first, in order */
    bool bad[CS_EC_MAX_SHARDS];
    cs_err_t err;
} cs__slot_t;

typedef struct cs__get {
    cs__obj_t *o;
    cs_ec_codec_t *codec;
    const char *pn;
    /* get into a buffer: the object's bytes go to dst. Data chunks of full
     * stripes are read straight to their place there and checked as they
     * land (no copy); only the short last stripe goes through a slot. */
    uint8_t *dst;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t next;      /* next stripe to claim */
    uint64_t delivered; /* stripes handed to the sink */
    bool stop;
    unsigned nslots;
    cs__slot_t slot[CS__GET_MAX_SLOTS];
} cs__get_t;

/* Whether stripe j's data goes straight to g->dst: a full stripe of a get
 * into a buffer. */
static bool cs__get_in_place(const cs__get_t *g, uint64_t j)
{
    const cs_ec_shard_header_t *r = &g->o->ref;
    return g->dst && cs_ec_shard_stripe_data_len(r, j) == (uint64_t)r->k * cs_ec_shard_chunk_len(r, j);
}

/* Reads stripe j's data chunks into slot->data and checks them; a chunk
 * that fails (I/O error, short, CRC) is treated as missing and rebuilt from
 * parity. Fills slot->rc/err/bad/reconstructed. */
static void cs__get_stripe(cs__get_t *g, cs_io_t *io, uint64_t j, cs__slot_t *slot)
{
    cs__obj_t *o = g->o;
    unsigned k = o->ref.k, n = k + o->ref.m;
    uint32_t cl = cs_ec_shard_chunk_len(&o->ref, j);
    uint8_t *ptr[CS_EC_MAX_SHARDS];
    bool ok[CS_EC_MAX_SHARDS] = {0};
    unsigned rows[CS_EC_MAX_SHARDS] = {0}, nrows = 0;
    slot->rc = 0;
    slot->reconstructed = false;
    memset(slot->bad, 0, n * sizeof slot->bad[0]);
    /* Data chunks land contiguously: the stripe's bytes in order, in the
     * slot, or in place in dst for a full stripe (k chunks of cl bytes are
     * exactly its data, so nothing is written past the object). */
    for (unsigned i = 0; i < n; i++)
        ptr[i] = slot->data + (size_t)i * cl;
    if (cs__get_in_place(g, j))
        for (unsigned i = 0; i < k; i++)
            ptr[i] = g->dst + j * o->ref.stripe_size + (size_t)i * cl;
    for (unsigned i = 0; i < k; i++)
        if (o->shard[i].valid)
            rows[nrows++] = i;
    cs__read_chunks(o, io, j, rows, nrows, ptr, ok);
    unsigned want[CS_EC_MAX_SHARDS], nwant = 0;
    for (unsigned i = 0; i < nrows; i++)
        slot->bad[rows[i]] = !ok[rows[i]];
    for (unsigned i = 0; i < k; i++)
        if (!ok[i])
            want[nwant++] = i;
    if (nwant == 0)
        return;
    nrows = 0;
    for (unsigned i = k; i < n; i++)
        if (o->shard[i].valid)
            rows[nrows++] = i;
    cs__read_chunks(o, io, j, rows, nrows, ptr, ok);
    for (unsigned i = 0; i < nrows; i++)
        slot->bad[rows[i]] = !ok[rows[i]];
    const uint8_t *src[CS_EC_MAX_SHARDS];
    uint8_t *outp[CS_EC_MAX_SHARDS];
    for (unsigned i = 0; i < n; i++)
        src[i] = ok[i] ? ptr[i] : NULL;
    for (unsigned i = 0; i < nwant; i++)
        outp[i] = ptr[want[i]];
    cs_err_clear(&slot->err);
    slot->rc = cs_ec_codec_reconstruct(g->codec, cl, src, want, nwant, outp, &slot->err);
    if (slot->rc != 0)
        cs_err_prefix(&slot->err, "object '%s' stripe %" PRIu64 ": ", g->pn, j);
    else
        slot->reconstructed = true;
}

/* Takes the next stripe whose slot is free. Called with g->lock held. */
static bool cs__get_claim(cs__get_t *g, uint64_t *j)
{
    if (g->stop || g->next >= g->o->ref.stripe_count || g->next >= g->delivered + g->nslots)
        return false;
    *j = g->next++;
    cs__slot_t *s = &g->slot[*j % g->nslots];
    s->state = CS__SLOT_BUSY;
    s->stripe = *j;
    return true;
}

/* Claims and runs one stripe with the lock held on entry and exit. */
static bool cs__get_work(cs__get_t *g, cs_io_t *io)
{
    uint64_t j;
    if (!cs__get_claim(g, &j))
        return false;
    cs__slot_t *s = &g->slot[j % g->nslots];
    pthread_mutex_unlock(&g->lock);
    cs__get_stripe(g, io, j, s);
    pthread_mutex_lock(&g->lock);
    s->state = CS__SLOT_DONE;
    pthread_cond_broadcast(&g->cond);
    return true;
}

typedef struct cs__helper {
    cs__get_t *g;
    cs_io_t *io;
    pthread_t tid;
    bool started;
} cs__helper_t;

static void *cs__get_helper(void *arg)
{
    cs__helper_t *h = arg;
    cs__get_t *g = h->g;
    pthread_mutex_lock(&g->lock);
    while (!g->stop && g->next < g->o->ref.stripe_count) {
        if (!cs__get_work(g, h->io))
            pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* Worker threads for a get: the store's setting, else the online CPUs (at
 * most CS__GET_MAX_WORKERS), never more than there are stripes. */
static unsigned cs__get_workers(const cs_ec_store_t *st, uint64_t stripes)
{
    unsigned w = st->opts.read_threads;
    if (w == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        w = cpus < 1 ? 1 : cpus > CS__GET_MAX_WORKERS ? CS__GET_MAX_WORKERS : (unsigned)cpus;
    }
    if (w > CS__GET_MAX_WORKERS)
        w = CS__GET_MAX_WORKERS;
    if (w > stripes)
        w = stripes ? (unsigned)stripes : 1;
    return w;
}

/* The get of an opened object (freed here): to the sink write(ctx), or
 * into dst (write NULL; dst holds the object's length). */
static int cs__get_run(cs_ec_store_t *st, cs__obj_t *o, const char *pn, cs_ec_write_fn write, void *ctx, uint8_t *dst,
                       cs_ec_report_t *rep, cs_err_t *err)
{
    int rc = 0;
    unsigned k = o->ref.k, m = o->ref.m, n = k + m;
    uint64_t count = o->ref.stripe_count;
    cs__get_t *g = calloc(1, sizeof *g);
    cs_buf_t *buf = NULL;
    bool owned = false;
    cs_ec_codec_t *codec = NULL;
    cs__helper_t helper[CS__GET_MAX_WORKERS] = {0};
    if (!g) {
        cs__obj_free(o);
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    }
    g->o = o;
    g->pn = pn;
    g->dst = write ? NULL : dst;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    unsigned workers = cs__get_workers(st, count);
    size_t slot_size = (size_t)n * o->ref.chunk_size;
    size_t fit = CS__GET_SLOT_BUDGET / slot_size;
    g->nslots = 2 * workers;
    if (g->nslots > fit)
        g->nslots = fit ? (unsigned)fit : 1;
    if (g->nslots > count)
        g->nslots = count ? (unsigned)count : 1;
    if (workers > g->nslots)
        workers = g->nslots;
    rc = cs__get_codec(st, k, m, &codec, &owned, err);
    g->codec = codec;
    if (rc == 0)
        rc = cs_buf_alloc(slot_size * g->nslots, 0, &buf, err);
    for (unsigned s = 0; rc == 0 && s < g->nslots; s++)
        g->slot[s].data = buf->data + (size_t)s * slot_size;
    /* Helpers are an optimisation: one that cannot start leaves its share
     * to the others and to this thread. */
    for (unsigned t = 1; rc == 0 && t < workers; t++) {
        helper[t].g = g;
        if (cs_io_new(CS__IO_DEPTH, st->opts.io_flags, &helper[t].io, NULL) != 0)
            continue;
        if (pthread_create(&helper[t].tid, NULL, cs__get_helper, &helper[t]) == 0)
            helper[t].started = true;
        else
            cs_io_free(&helper[t].io);
    }
    pthread_mutex_lock(&g->lock);
    while (rc == 0 && g->delivered < count) {
        cs__slot_t *s = &g->slot[g->delivered % g->nslots];
        if (s->state == CS__SLOT_DONE && s->stripe == g->delivered) {
            uint64_t j = g->delivered;
            pthread_mutex_unlock(&g->lock);
            for (unsigned i = 0; i < n; i++)
                o->shard[i].bad_stripes += s->bad[i];
            if (s->rc != 0) {
                rc = s->rc;
                if (err)
                    *err = s->err;
                if (rep)
                    rep->stripes_unrecoverable++;
            } else {
                if (s->reconstructed && rep)
                    rep->stripes_reconstructed++;
                uint64_t dl = cs_ec_shard_stripe_data_len(&o->ref, j);
                if (write)
                    rc = write(ctx, s->data, (size_t)dl, err);
                else if (!cs__get_in_place(g, j))
                    memcpy(dst + j * o->ref.stripe_size, s->data, (size_t)dl);
                cs__progress(st, j * o->ref.stripe_size + dl, o->ref.object_length);
            }
            pthread_mutex_lock(&g->lock);
            s->state = CS__SLOT_FREE;
            g->delivered++;
            pthread_cond_broadcast(&g->cond);
            continue;
        }
        if (!cs__get_work(g, o->io))
            pthread_cond_wait(&g->cond, &g->lock);
    }
    g->stop = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
    for (unsigned t = 1; t < workers; t++) {
        if (helper[t].started)
            pthread_join(helper[t].tid, NULL);
        cs_io_free(&helper[t].io);
    }
    cs__report_fill(o, rep);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
    cs_buf_free(&buf);
    if (owned)
        cs_ec_codec_free(&codec);
    cs__obj_free(o);
    return rc;
}

int cs_ec_store_get_stream(cs_ec_store_t *st, const void *name, size_t name_len, cs_ec_write_fn write, void *ctx,
                           cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    if (!write)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_get_stream: no sink");
    cs__obj_t *o;
    int rc = cs__open_object(st, name, name_len, &o, err);
    if (!o) /* set exactly when rc is 0 */
        return rc;
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    return cs__get_run(st, o, pn, write, ctx, NULL, rep, err);
}

/* Opens the object once and checks its length against the room there is;
 * *olen is its length. */
static int cs__get_open_sized(cs_ec_store_t *st, const void *name, size_t name_len, size_t room, cs__obj_t **out,
                              uint64_t *olen, cs_err_t *err)
{
    int rc = cs__open_object(st, name, name_len, out, err);
    if (!*out) /* set exactly when rc is 0 */
        return rc;
    *olen = (*out)->ref.object_length;
    if (*olen > room || *olen > SIZE_MAX - 1) {
        cs__obj_free(*out);
        *out = NULL;
        return cs_err_set(err, CS_ETOOBIG, "object is %" PRIu64 " bytes, above the limit of %zu", *olen, room);
    }
    return 0;
}

int cs_ec_store_get_into(cs_ec_store_t *st, const void *name, size_t name_len, void *buf, size_t cap, size_t *len,
                         cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    if (!len || (!buf && cap > 0))
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_get_into: NULL argument");
    *len = 0;
    cs__obj_t *o;
    uint64_t olen = 0;
    int rc = cs__get_open_sized(st, name, name_len, cap, &o, &olen, err);
    if (!o)
        return rc;
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    rc = cs__get_run(st, o, pn, NULL, NULL, buf, rep, err);
    if (rc == 0)
        *len = (size_t)olen;
    return rc;
}

int cs_ec_store_get(cs_ec_store_t *st, const void *name, size_t name_len, size_t max_len, uint8_t **data, size_t *len,
                    cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    if (!data || !len)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_get: NULL argument");
    *data = NULL;
    *len = 0;
    /* One open: the length read is the generation's that is then read. */
    cs__obj_t *o;
    uint64_t olen = 0;
    int rc = cs__get_open_sized(st, name, name_len, max_len, &o, &olen, err);
    if (!o)
        return rc;
    /* Page aligned, so that O_DIRECT reads can land in it in place. */
    void *mem = NULL;
    if (posix_memalign(&mem, CS_BUF_ALIGN, olen ? (size_t)olen : 1) != 0) {
        cs__obj_free(o);
        return cs_err_set(err, CS_ENOMEM, "out of memory for an object of %" PRIu64 " bytes", olen);
    }
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    rc = cs__get_run(st, o, pn, NULL, NULL, mem, rep, err);
    if (rc != 0) {
        free(mem);
        return rc;
    }
    *data = mem;
    *len = (size_t)olen;
    return 0;
}

/* ------------------------------------------------------------------ put */

/* Removes files of the object: with keep_gen, every file not of keep_gen
 * (and unused duplicates of it); older_than != 0 restricts removal to
 * generations below it. Directories touched are fsynced. */
static unsigned cs__remove_files(cs__obj_t *o, uint64_t keep_gen, uint64_t older_than, bool all)
{
    bool touched[CS_EC_MAX_DIRS] = {0};
    unsigned removed = 0;
    for (size_t i = 0; i < o->nfiles; i++) {
        cs__file_t *f = &o->files[i];
        bool drop;
        if (all)
            drop = true;
        else if (older_than)
            drop = f->gen < older_than;
        else
            drop = f->tmp || f->gen != keep_gen || !f->used;
        if (!drop)
            continue;
        char *p = cs__path(o->st->dirs[f->dir], o->hex, f->fname);
        if (p && unlink(p) == 0) {
            removed++;
            touched[f->dir] = true;
        }
        free(p);
    }
    for (size_t d = 0; d < o->st->ndirs; d++) {
        if (!touched[d])
            continue;
        char *p = cs__path(o->st->dirs[d], o->hex, NULL);
        if (p)
            (void)cs_fsync_dir(p, NULL);
        free(p);
    }
    return removed;
}

typedef struct cs__writer {
    unsigned idx;
    int dir;
    char *tmp, *final;
    cs_file_t f;
    uint32_t *crcs;
} cs__writer_t;

static void cs__writers_free(cs__writer_t *w, unsigned n, bool unlink_tmp)
{
    for (unsigned i = 0; i < n; i++) {
        cs_file_close(&w[i].f);
        if (unlink_tmp && w[i].tmp)
            unlink(w[i].tmp);
        free(w[i].tmp);
        free(w[i].final);
        free(w[i].crcs);
    }
}

/* Creates the temporary file of shard w->idx of generation gen in w->dir. */
static int cs__writer_open(cs__obj_t *o, cs__writer_t *w, uint64_t gen, uint64_t stripes, cs_err_t *err)
{
    char tname[48], fname[48];
    snprintf(tname, sizeof tname, ".g%016" PRIx64 "-%u.tmp", gen, w->idx);
    snprintf(fname, sizeof fname, "g%016" PRIx64 "-%u.shard", gen, w->idx);
    const char *dir = o->st->dirs[w->dir];
    char *odir = cs__path(dir, o->hex, NULL);
    w->tmp = cs__path(dir, o->hex, tname);
    w->final = cs__path(dir, o->hex, fname);
    w->crcs = calloc(stripes ? stripes : 1, sizeof *w->crcs);
    if (!odir || !w->tmp || !w->final || !w->crcs) {
        free(odir);
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    }
    int rc = cs_mkdir_durable(odir, 0755, NULL, err);
    free(odir);
    if (rc != 0)
        return rc;
    unlink(w->tmp); /* a leftover of a crashed run with the same generation */
    return cs_file_open(o->io, w->tmp, O_WRONLY | O_CREAT | O_EXCL, 0644, true, &w->f, err);
}

/* Writes the headers, fsyncs, renames into place and fsyncs directories. */
static int cs__writers_commit(cs__obj_t *o, cs__writer_t *w, unsigned nw, const cs_ec_shard_header_t *proto,
                              cs_err_t *err)
{
    cs_buf_t *hb = NULL;
    int rc = cs_buf_alloc((size_t)proto->header_size * nw, 0, &hb, err);
    if (rc != 0)
        return rc;
    cs_io_req_t *reqs = calloc(nw, sizeof *reqs);
    if (!reqs) {
        cs_buf_free(&hb);
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    }
    for (unsigned i = 0; i < nw && rc == 0; i++) {
        cs_ec_shard_header_t h = *proto;
        h.index = (uint16_t)w[i].idx;
        uint8_t *b = hb->data + (size_t)i * proto->header_size;
        rc = cs_ec_shard_header_write(&h, w[i].crcs, b, proto->header_size, err);
        reqs[i] = (cs_io_req_t){.op = CS_IO_WRITE, .file = &w[i].f, .buf = b, .len = proto->header_size, .offset = 0};
    }
    if (rc == 0)
        rc = cs_io_run(o->io, reqs, nw, err);
    for (unsigned i = 0; i < nw && rc == 0; i++)
        reqs[i] = (cs_io_req_t){.op = CS_IO_FSYNC, .file = &w[i].f};
    if (rc == 0)
        rc = cs_io_run(o->io, reqs, nw, err);
    free(reqs);
    cs_buf_free(&hb);
    if (rc != 0)
        return cs_err_prefix(err, "writing shards: ");
    for (unsigned i = 0; i < nw; i++)
        cs_file_close(&w[i].f);
    /* The commit: once k renames are durable the new generation is what
     * readers see. */
    bool touched[CS_EC_MAX_DIRS] = {0};
    for (unsigned i = 0; i < nw; i++) {
        if (rename(w[i].tmp, w[i].final) != 0)
            return cs_err_set(err, cs_err_from_errno(errno), "rename %s -> %s: %s", w[i].tmp, w[i].final,
                              strerror(errno));
        free(w[i].tmp);
        w[i].tmp = NULL;
        touched[w[i].dir] = true;
    }
    for (size_t d = 0; d < o->st->ndirs; d++) {
        if (!touched[d])
            continue;
        char *p = cs__path(o->st->dirs[d], o->hex, NULL);
        rc = p ? cs_fsync_dir(p, err) : cs_err_set(err, CS_ENOMEM, "out of memory");
        free(p);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int cs_ec_store_put_stream(cs_ec_store_t *st, const void *name, size_t name_len, const cs_ec_policy_t *policy,
                           uint64_t len, cs_ec_read_fn read, void *ctx, cs_err_t *err)
{
    if (!st || !name || name_len < 1 || name_len > CS_EC_NAME_MAX)
        return cs_err_set(err, CS_EINVAL, "object name must be 1..%u bytes (got %zu)", CS_EC_NAME_MAX,
                          name ? name_len : 0);
    if (!policy || !read)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_put: NULL policy or source");
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    unsigned k = policy->k, m = policy->m, n = k + m;
    if (k < 1 || m < 1 || n > CS_EC_MAX_SHARDS)
        return cs_err_set(err, CS_EEC_POLICY, "invalid erasure code %u+%u: need k >= 1, m >= 1, k + m <= %d", k, m,
                          CS_EC_MAX_SHARDS);
    if (n > st->ndirs)
        return cs_err_set(err, CS_EEC_POLICY, "%u+%u needs %u directories (one per shard), only %zu given", k, m, n,
                          st->ndirs);
    cs_ec_shard_header_t h = {0};
    uint64_t req = policy->stripe_size ? policy->stripe_size : CS_EC_DEFAULT_STRIPE_SIZE;
    int rc = cs_ec_layout(k, req, len, &h.chunk_size, &h.stripe_size, &h.stripe_count, err);
    if (rc != 0)
        return cs_err_prefix(err, "object '%s': ", pn);
    h.version = CS_EC_SHARD_VERSION;
    h.k = (uint16_t)k;
    h.m = (uint16_t)m;
    h.object_length = len;
    h.name = name;
    h.name_len = (uint32_t)name_len;
    h.header_size = cs_ec_shard_header_size(h.name_len, h.stripe_count);

    uint8_t hash[16];
    cs_ec_name_hash(name, name_len, hash);
    cs__obj_t *o;
    rc = cs__obj_new(st, hash, &o, err);
    if (rc != 0)
        return rc;
    rc = cs__scan(o, err);
    if (rc != 0) {
        cs__obj_free(o);
        return rc;
    }
    uint64_t maxgen = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        if (o->files[i].gen > maxgen)
            maxgen = o->files[i].gen;
    /* A different name with the same hash must not be overwritten. */
    if (o->nfiles > 0 && cs__select(o, NULL, 0, NULL) == 0 &&
        (o->ref.name_len != name_len || memcmp(o->ref.name, name, name_len) != 0)) {
        char other[96];
        cs__pname(o->ref.name, o->ref.name_len, other, sizeof other);
        rc = cs_err_set(err, CS_ECONFLICT,
                        "object '%s': its name hash %s is taken by object '%s'; choose another "
                        "name",
                        pn, o->hex, other);
        cs__obj_free(o);
        return rc;
    }
    for (unsigned i = 0; i < CS_EC_MAX_SHARDS; i++)
        cs__shard_reset(&o->shard[i]);
    memset(&o->ref, 0, sizeof o->ref);
    uint64_t gen = (uint64_t)cs_clock_real_ns();
    if (gen <= maxgen)
        gen = maxgen + 1;
    h.generation = gen;

    cs_ec_codec_t *codec = NULL;
    bool owned = false;
    cs_buf_t *buf = NULL;
    cs__writer_t *w = calloc(n, sizeof *w);
    if (!w) {
        cs__obj_free(o);
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    }
    uint64_t base = cs_le64_load(hash) % st->ndirs;
    for (unsigned i = 0; i < n; i++) {
        w[i].idx = i;
        w[i].dir = (int)((base + i) % st->ndirs);
        w[i].f.fd = -1;
    }
    rc = cs__get_codec(st, k, m, &codec, &owned, err);
    if (rc == 0)
        rc = cs_buf_alloc((size_t)n * h.chunk_size, 0, &buf, err);
    for (unsigned i = 0; i < n && rc == 0; i++)
        rc = cs__writer_open(o, &w[i], gen, h.stripe_count, err);
    for (uint64_t j = 0; rc == 0 && j < h.stripe_count; j++) {
        uint32_t cl = cs_ec_shard_chunk_len(&h, j);
        uint64_t dl = cs_ec_shard_stripe_data_len(&h, j);
        rc = read(ctx, buf->data, (size_t)dl, err);
        if (rc != 0)
            break;
        memset(buf->data + dl, 0, (size_t)k * cl - dl);
        uint8_t *ptr[CS_EC_MAX_SHARDS];
        for (unsigned i = 0; i < n; i++)
            ptr[i] = buf->data + (size_t)i * cl;
        cs_ec_codec_encode(codec, cl, (const uint8_t *const *)ptr, ptr + k);
        cs_io_req_t reqs[CS_EC_MAX_SHARDS];
        for (unsigned i = 0; i < n; i++) {
            w[i].crcs[j] = cs_crc32c(0, ptr[i], cl);
            reqs[i] = (cs_io_req_t){.op = CS_IO_WRITE,
                                    .file = &w[i].f,
                                    .buf = ptr[i],
                                    .len = cl,
                                    .offset = cs_ec_shard_chunk_offset(&h, j)};
        }
        rc = cs_io_run(o->io, reqs, n, err);
        cs__progress(st, j * h.stripe_size + dl, len);
    }
    if (rc == 0)
        rc = cs__writers_commit(o, w, n, &h, err);
    if (rc == 0)
        (void)cs__remove_files(o, 0, gen, false);
    else
        cs_err_prefix(err, "put '%s': ", pn);
    cs__writers_free(w, n, rc != 0);
    free(w);
    cs_buf_free(&buf);
    if (owned)
        cs_ec_codec_free(&codec);
    cs__obj_free(o);
    return rc;
}

typedef struct cs__memsrc {
    const uint8_t *data;
    size_t len, off;
} cs__memsrc_t;

static int cs__mem_read(void *ctx, void *buf, size_t len, cs_err_t *err)
{
    cs__memsrc_t *s = ctx;
    if (len > s->len - s->off)
        return cs_err_set(err, CS_EINTERNAL, "source shorter than declared");
    memcpy(buf, s->data + s->off, len);
    s->off += len;
    return 0;
}

int cs_ec_store_put(cs_ec_store_t *st, const void *name, size_t name_len, const cs_ec_policy_t *policy,
                    const void *data, size_t len, cs_err_t *err)
{
    if (len > 0 && !data)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_put: data is NULL");
    cs__memsrc_t src = {.data = data, .len = len, .off = 0};
    return cs_ec_store_put_stream(st, name, name_len, policy, len, cs__mem_read, &src, err);
}

/* --------------------------------------------------- verify, repair, stat */

static unsigned cs__purge_if_deleted(cs_ec_store_t *st, const uint8_t hash[16]);

int cs_ec_store_stat(cs_ec_store_t *st, const void *name, size_t name_len, cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    cs__obj_t *o;
    int rc = cs__open_object(st, name, name_len, &o, err);
    if (!o) /* set exactly when rc is 0 */
        return rc;
    cs__report_fill(o, rep);
    cs__obj_free(o);
    return 0;
}

/* Reads every chunk of every valid shard; counts bad chunks per shard and
 * stripes with fewer than k good chunks. */
static int cs__verify_pass(cs__obj_t *o, uint64_t *unrecoverable, cs_err_t *err)
{
    unsigned k = o->ref.k, n = k + o->ref.m;
    cs_buf_t *buf = NULL;
    int rc = cs_buf_alloc((size_t)n * o->ref.chunk_size, 0, &buf, err);
    if (rc != 0)
        return rc;
    *unrecoverable = 0;
    uint64_t done = 0;
    for (uint64_t j = 0; j < o->ref.stripe_count; j++) {
        uint32_t cl = cs_ec_shard_chunk_len(&o->ref, j);
        uint8_t *ptr[CS_EC_MAX_SHARDS];
        bool ok[CS_EC_MAX_SHARDS] = {0};
        unsigned rows[CS_EC_MAX_SHARDS], nrows = 0;
        for (unsigned i = 0; i < n; i++) {
            ptr[i] = buf->data + (size_t)i * cl;
            if (o->shard[i].valid)
                rows[nrows++] = i;
        }
        cs__read_chunks_count(o, j, rows, nrows, ptr, ok);
        unsigned good = 0;
        for (unsigned i = 0; i < n; i++)
            good += ok[i];
        if (good < k)
            (*unrecoverable)++;
        done += cs_ec_shard_stripe_data_len(&o->ref, j);
        cs__progress(o->st, done, o->ref.object_length);
    }
    cs_buf_free(&buf);
    return 0;
}

int cs_ec_store_verify(cs_ec_store_t *st, const void *name, size_t name_len, cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    cs__obj_t *o;
    int rc = cs__open_object(st, name, name_len, &o, err);
    if (!o) /* set exactly when rc is 0 */
        return rc;
    uint64_t unrec = 0;
    rc = cs__verify_pass(o, &unrec, err);
    cs__report_fill(o, rep);
    if (rep)
        rep->stripes_unrecoverable = unrec;
    cs__obj_free(o);
    return rc;
}

/* The directory that gets a rebuilt shard i: where its damaged file is;
 * else its placement directory, else any directory holding no shard of
 * this generation. */
static int cs__repair_dir(const cs__obj_t *o, unsigned i)
{
    if (o->shard[i].dir >= 0)
        return o->shard[i].dir;
    size_t nd = o->st->ndirs;
    bool busy[CS_EC_MAX_DIRS] = {0};
    for (unsigned x = 0; x < (unsigned)o->ref.k + o->ref.m; x++)
        if (o->shard[x].dir >= 0)
            busy[o->shard[x].dir] = true;
    uint64_t base = cs_le64_load(o->hash);
    for (size_t t = 0; t < nd; t++) {
        size_t d = (base + i + t) % nd;
        if (!busy[d])
            return (int)d;
    }
    return -1;
}

int cs_ec_store_repair(cs_ec_store_t *st, const void *name, size_t name_len, cs_ec_report_t *rep, cs_err_t *err)
{
    cs__report_init(rep);
    cs__obj_t *o;
    int rc = cs__open_object(st, name, name_len, &o, err);
    if (rc == CS_ENOTFOUND) {
        /* A delete interrupted by a crash: finish it. */
        uint8_t hash[16];
        cs_ec_name_hash(name, name_len, hash);
        unsigned removed = cs__purge_if_deleted(st, hash);
        if (rep)
            rep->stale_removed = removed;
    }
    if (!o) /* set exactly when rc is 0 */
        return rc;
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    uint64_t unrec = 0;
    rc = cs__verify_pass(o, &unrec, err);
    cs__report_fill(o, rep);
    if (rep)
        rep->stripes_unrecoverable = unrec;
    if (rc == 0 && unrec > 0)
        rc = cs_err_set(err, CS_EINSUFFICIENT_SHARDS,
                        "object '%s': InsufficientShards: %" PRIu64
                        " stripe(s) have fewer than %u good chunks; nothing was rewritten",
                        pn, unrec, o->ref.k);
    unsigned k = o->ref.k, n = k + o->ref.m;
    unsigned targets[CS_EC_MAX_SHARDS], nt = 0;
    for (unsigned i = 0; i < n && rc == 0; i++)
        if (!o->shard[i].valid || o->shard[i].bad_stripes > 0)
            targets[nt++] = i;
    cs__writer_t *w = calloc(nt ? nt : 1, sizeof *w);
    if (!w) {
        cs__obj_free(o);
        return rc != 0 ? rc : cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    }
    cs_ec_codec_t *codec = NULL;
    bool owned = false;
    cs_buf_t *buf = NULL;
    if (rc == 0 && nt > 0) {
        rc = cs__get_codec(st, k, o->ref.m, &codec, &owned, err);
        if (rc == 0)
            rc = cs_buf_alloc((size_t)(n + nt) * o->ref.chunk_size, 0, &buf, err);
        for (unsigned t = 0; t < nt && rc == 0; t++) {
            w[t].idx = targets[t];
            w[t].f.fd = -1;
            w[t].dir = cs__repair_dir(o, targets[t]);
            if (w[t].dir < 0)
                rc = cs_err_set(err, CS_EUNAVAILABLE, "object '%s': no directory free for shard %u", pn, targets[t]);
            else
                rc = cs__writer_open(o, &w[t], o->gen, o->ref.stripe_count, err);
        }
    }
    for (uint64_t j = 0; rc == 0 && nt > 0 && j < o->ref.stripe_count; j++) {
        uint32_t cl = cs_ec_shard_chunk_len(&o->ref, j);
        uint8_t *ptr[CS_EC_MAX_SHARDS];
        bool ok[CS_EC_MAX_SHARDS] = {0};
        unsigned rows[CS_EC_MAX_SHARDS], nrows = 0;
        for (unsigned i = 0; i < n; i++) {
            ptr[i] = buf->data + (size_t)i * cl;
            if (o->shard[i].valid)
                rows[nrows++] = i;
        }
        cs__read_chunks_count(o, j, rows, nrows, ptr, ok);
        const uint8_t *src[CS_EC_MAX_SHARDS];
        uint8_t *outp[CS_EC_MAX_SHARDS];
        unsigned want[CS_EC_MAX_SHARDS], nwant = 0;
        for (unsigned i = 0; i < n; i++)
            src[i] = ok[i] ? ptr[i] : NULL;
        cs_io_req_t reqs[CS_EC_MAX_SHARDS];
        for (unsigned t = 0; t < nt; t++) {
            unsigned i = targets[t];
            uint8_t *dst = buf->data + (size_t)(n + t) * cl;
            if (ok[i])
                memcpy(dst, ptr[i], cl);
            else {
                want[nwant] = i;
                outp[nwant++] = dst;
            }
            reqs[t] = (cs_io_req_t){.op = CS_IO_WRITE,
                                    .file = &w[t].f,
                                    .buf = dst,
                                    .len = cl,
                                    .offset = cs_ec_shard_chunk_offset(&o->ref, j)};
        }
        rc = cs_ec_codec_reconstruct(codec, cl, src, want, nwant, outp, err);
        if (rc != 0) {
            cs_err_prefix(err, "object '%s' stripe %" PRIu64 ": ", pn, j);
            break;
        }
        for (unsigned t = 0; t < nt; t++)
            w[t].crcs[j] = cs_crc32c(0, reqs[t].buf, cl);
        rc = cs_io_run(o->io, reqs, nt, err);
    }
    if (rc == 0 && nt > 0) {
        cs_ec_shard_header_t proto = o->ref;
        rc = cs__writers_commit(o, w, nt, &proto, err);
    }
    if (rc == 0) {
        for (unsigned t = 0; t < nt; t++) {
            /* The new files replace the damaged ones; no longer stale. */
            for (size_t i = 0; i < o->nfiles; i++)
                if (o->files[i].dir == w[t].dir && !o->files[i].tmp && !o->files[i].tomb && o->files[i].gen == o->gen &&
                    o->files[i].idx == targets[t])
                    o->files[i].used = true;
            if (rep) {
                rep->shard[targets[t]].state = CS_EC_SHARD_REPAIRED;
                rep->shard[targets[t]].dir = w[t].dir;
            }
        }
        if (rep)
            rep->repaired = nt;
        unsigned removed = cs__remove_files(o, o->gen, 0, false);
        if (rep)
            rep->stale_removed = removed;
    }
    cs__writers_free(w, nt, rc != 0);
    free(w);
    cs_buf_free(&buf);
    if (owned)
        cs_ec_codec_free(&codec);
    cs__obj_free(o);
    return rc;
}

/* -------------------------------------------------------- delete, list */

/* Finishes the delete of an object whose newest generation is a tombstone
 * (o scanned): removes every other file first, durably, and only then the
 * tombstones and the object's directories, so that a crash at any point
 * leaves a tombstone beside anything that is left. Returns the number of
 * files removed; *complete says whether nothing is left. */
static unsigned cs__purge(cs__obj_t *o, bool *complete)
{
    bool touched[CS_EC_MAX_DIRS] = {0};
    unsigned removed = 0;
    bool left = false;
    for (int pass = 0; pass < 2 && !left; pass++) {
        for (size_t i = 0; i < o->nfiles; i++) {
            cs__file_t *f = &o->files[i];
            if (f->tomb != (pass == 1))
                continue;
            char *p = cs__path(o->st->dirs[f->dir], o->hex, f->fname);
            if (p && unlink(p) == 0) {
                removed++;
                touched[f->dir] = true;
            } else if (!p || errno != ENOENT) {
                left = true;
            }
            free(p);
        }
        for (size_t d = 0; d < o->st->ndirs; d++) {
            if (!touched[d])
                continue;
            touched[d] = false;
            char *p = cs__path(o->st->dirs[d], o->hex, NULL);
            if (!p || cs_fsync_dir(p, NULL) != 0)
                left = true;
            free(p);
        }
    }
    for (size_t d = 0; d < o->st->ndirs && !left; d++) {
        char *p = cs__path(o->st->dirs[d], o->hex, NULL);
        if (p && rmdir(p) == 0)
            (void)cs_fsync_dir(o->st->dirs[d], NULL);
        free(p);
    }
    if (complete)
        *complete = !left;
    return removed;
}

/* Writes tombstone generation gen into every directory that holds a file
 * of the object (and so every directory a reader could find a shard in),
 * each durable before returning. On failure the tombstones written are
 * removed again and the object is left as it was. */
static int cs__write_tombstones(cs__obj_t *o, uint64_t gen, const char *pn, cs_err_t *err)
{
    bool has[CS_EC_MAX_DIRS] = {0}, made[CS_EC_MAX_DIRS] = {0};
    for (size_t i = 0; i < o->nfiles; i++)
        has[o->files[i].dir] = true;
    char fname[48];
    snprintf(fname, sizeof fname, "g%016" PRIx64 ".tomb", gen);
    int rc = 0;
    for (size_t d = 0; d < o->st->ndirs && rc == 0; d++) {
        if (!has[d])
            continue;
        char *p = cs__path(o->st->dirs[d], o->hex, fname);
        char *dp = cs__path(o->st->dirs[d], o->hex, NULL);
        int fd = p ? open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644) : -1;
        if (!p || !dp) {
            rc = cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
        } else if (fd < 0) {
            rc = cs_err_set(err, cs_err_from_errno(errno), "create %s: %s", p, strerror(errno));
        } else {
            made[d] = true;
            if (fsync(fd) != 0)
                rc = cs_err_set(err, CS_EIO, "fsync %s: %s", p, strerror(errno));
        }
        if (fd >= 0)
            close(fd);
        if (rc == 0)
            rc = cs_fsync_dir(dp, err);
        free(p);
        free(dp);
    }
    if (rc == 0)
        return 0;
    for (size_t d = 0; d < o->st->ndirs; d++) {
        if (!made[d])
            continue;
        char *p = cs__path(o->st->dirs[d], o->hex, fname);
        char *dp = cs__path(o->st->dirs[d], o->hex, NULL);
        if (p && unlink(p) == 0 && dp)
            (void)cs_fsync_dir(dp, NULL);
        free(p);
        free(dp);
    }
    return cs_err_prefix(err, "delete '%s': cannot write its tombstone, nothing was deleted: ", pn);
}

int cs_ec_store_delete(cs_ec_store_t *st, const void *name, size_t name_len, cs_err_t *err)
{
    if (!st || !name || name_len < 1 || name_len > CS_EC_NAME_MAX)
        return cs_err_set(err, CS_EINVAL, "object name must be 1..%u bytes (got %zu)", CS_EC_NAME_MAX,
                          name ? name_len : 0);
    char pn[96];
    cs__pname(name, name_len, pn, sizeof pn);
    uint8_t hash[16];
    cs_ec_name_hash(name, name_len, hash);
    cs__obj_t *o = NULL;
    int rc = cs__obj_new(st, hash, &o, err);
    if (rc == 0)
        rc = cs__scan(o, err);
    if (rc != 0) {
        cs__obj_free(o);
        return rc;
    }
    int sel = cs__select(o, NULL, 0, NULL);
    /* Refuse to delete another object that shares the hash. */
    if (sel == 0 && (o->ref.name_len != name_len || memcmp(o->ref.name, name, name_len) != 0)) {
        cs__obj_free(o);
        return cs_err_set(err, CS_ENOTFOUND, "object '%s' not found", pn);
    }
    bool exists = false;
    for (size_t i = 0; i < o->nfiles && !exists; i++)
        exists = !o->files[i].tmp && !o->files[i].tomb;
    if (o->deleted || !exists) {
        /* Already deleted (perhaps by a delete that was interrupted) or
         * never complete: clear what is left. */
        (void)cs__purge(o, NULL);
        cs__obj_free(o);
        return cs_err_set(err, CS_ENOTFOUND, "object '%s' not found", pn);
    }
    /* The commit point: once one tombstone newer than every generation is
     * durable, readers see no object, whatever else is left. */
    uint64_t maxgen = 0;
    for (size_t i = 0; i < o->nfiles; i++)
        if (o->files[i].gen > maxgen)
            maxgen = o->files[i].gen;
    uint64_t gen = (uint64_t)cs_clock_real_ns();
    if (gen <= maxgen)
        gen = maxgen + 1;
    rc = cs__write_tombstones(o, gen, pn, err);
    if (rc == 0) {
        free(o->files);
        o->files = NULL;
        o->nfiles = 0;
        rc = cs__scan(o, err);
    }
    if (rc == 0)
        (void)cs__purge(o, NULL); /* what is left is removed by a later delete or repair */
    cs__obj_free(o);
    return rc;
}

/* Removes the leftovers of a deleted object (directory hex); 0 when the
 * object is not a deleted one. */
static unsigned cs__purge_if_deleted(cs_ec_store_t *st, const uint8_t hash[16])
{
    cs__obj_t *o = NULL;
    unsigned removed = 0;
    (void)cs__obj_new(st, hash, &o, NULL); /* o stays NULL on failure */
    if (o && cs__scan(o, NULL) == 0 && cs__select(o, NULL, 0, NULL) == CS_ENOTFOUND && o->deleted)
        removed = cs__purge(o, NULL);
    cs__obj_free(o);
    return removed;
}

static bool cs__is_hex32(const char *s, uint8_t out[16])
{
    if (strlen(s) != 32)
        return false;
    for (int i = 0; i < 32; i++) {
        char c = s[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return false;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return true;
}

static int cs__cmp_entry(const void *a, const void *b)
{
    const cs_ec_entry_t *x = a, *y = b;
    if (!x->name || !y->name)
        return x->name ? -1 : y->name ? 1 : strcmp(x->hex, y->hex);
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return x->name_len < y->name_len ? -1 : x->name_len > y->name_len;
}

void cs_ec_entries_free(cs_ec_entry_t *entries, size_t count)
{
    if (!entries)
        return;
    for (size_t i = 0; i < count; i++)
        free(entries[i].name);
    free(entries);
}

int cs_ec_store_list(cs_ec_store_t *st, cs_ec_entry_t **entries, size_t *count, cs_err_t *err)
{
    if (!st || !entries || !count)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_list: NULL argument");
    *entries = NULL;
    *count = 0;
    size_t cap = 16, n = 0;
    cs_ec_entry_t *ents = malloc(cap * sizeof *ents);
    if (!ents)
        return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
    int rc = 0;
    for (size_t d = 0; d < st->ndirs && rc == 0; d++) {
        DIR *dh = opendir(st->dirs[d]);
        if (!dh)
            continue;
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            uint8_t hash[16];
            if (!cs__is_hex32(e->d_name, hash))
                continue;
            bool seen = false;
            for (size_t i = 0; i < n && !seen; i++)
                seen = strcmp(ents[i].hex, e->d_name) == 0;
            if (seen)
                continue;
            if (n == cap) {
                cap *= 2;
                cs_ec_entry_t *ne = realloc(ents, cap * sizeof *ne);
                if (!ne) {
                    rc = cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
                    break;
                }
                ents = ne;
            }
            cs_ec_entry_t *en = &ents[n++];
            memset(en, 0, sizeof *en);
            memcpy(en->hex, e->d_name, 33);
        }
        closedir(dh);
    }
    size_t kept = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        cs_ec_entry_t en = ents[i];
        uint8_t hash[16];
        cs__is_hex32(en.hex, hash);
        cs__obj_t *o = NULL;
        rc = cs__obj_new(st, hash, &o, err);
        if (rc == 0)
            rc = cs__scan(o, err);
        if (rc == 0 && o->nfiles > 0) {
            if (cs__select(o, NULL, 0, NULL) != 0 && o->deleted) {
                cs__obj_free(o);
                continue; /* leftovers of an interrupted delete */
            }
            if (o->selected) {
                en.name = malloc(o->ref.name_len + 1);
                if (en.name) {
                    memcpy(en.name, o->ref.name, o->ref.name_len);
                    en.name[o->ref.name_len] = 0;
                    en.name_len = o->ref.name_len;
                }
                en.length = o->ref.object_length;
                en.generation = o->gen;
                en.k = o->ref.k;
                en.m = o->ref.m;
            }
            ents[kept++] = en;
        }
        cs__obj_free(o);
    }
    if (rc != 0) {
        cs_ec_entries_free(ents, kept);
        return rc;
    }
    qsort(ents, kept, sizeof *ents, cs__cmp_entry);
    *entries = ents;
    *count = kept;
    return 0;
}

int cs_ec_store_purge(cs_ec_store_t *st, unsigned *removed, cs_err_t *err)
{
    if (removed)
        *removed = 0;
    if (!st)
        return cs_err_set(err, CS_EINVAL, "cs_ec_store_purge: store is NULL");
    for (size_t d = 0; d < st->ndirs; d++) {
        DIR *dh = opendir(st->dirs[d]);
        if (!dh)
            continue;
        /* Collect first: purging removes entries from the directory. */
        size_t n = 0, cap = 16;
        uint8_t(*hashes)[16] = malloc(cap * sizeof *hashes);
        struct dirent *e;
        while (hashes && (e = readdir(dh)) != NULL) {
            if (n == cap) {
                cap *= 2;
                uint8_t(*nh)[16] = realloc(hashes, cap * sizeof *nh);
                if (!nh)
                    break;
                hashes = nh;
            }
            if (cs__is_hex32(e->d_name, hashes[n]))
                n++;
        }
        closedir(dh);
        if (!hashes)
            return cs_err_set(err, CS_ENOMEM, "ec store: out of memory");
        for (size_t i = 0; i < n; i++) {
            unsigned r = cs__purge_if_deleted(st, hashes[i]);
            if (removed)
                *removed += r;
        }
        free(hashes);
    }
    return 0;
}
