/* cmd_ec.c: `couchestor ec encode|decode|verify|repair|info`: erasure-code
 * files into a set of directories (one per disk) and get them back. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "couchestor/clock.h"
#include "couchestor/ec_store.h"
#include "couchestor/io.h"
#include "couchestor/quantity.h"

#define CS__EC_USAGE                                                                              \
    "Usage:\n"                                                                                    \
    "  couchestor ec encode -k K -m M [--stripe-size SIZE] [--name NAME] --dirs D1,...,Dn FILE\n" \
    "  couchestor ec decode --dirs D1,...,Dn NAME -o OUT\n"                                       \
    "  couchestor ec verify --dirs D1,...,Dn [NAME...]\n"                                         \
    "  couchestor ec repair --dirs D1,...,Dn [NAME...]\n"                                         \
    "  couchestor ec info --dirs D1,...,Dn [NAME...]\n"                                           \
    "  couchestor ec delete --dirs D1,...,Dn NAME...\n"                                           \
    "\n"                                                                                          \
    "Each directory stands for one disk (a failure domain); N >= k+m directories.\n"              \
    "Object names are any strings; they are never used as paths. repair without NAME\n"           \
    "also finishes deletes interrupted by a crash.\n"                                             \
    "\n"                                                                                          \
    "Flags:\n"                                                                                    \
    "  -k K               data shards (1..254)\n"                                                 \
    "  -m M               parity shards (1..254, k+m <= 255 and <= number of directories)\n"      \
    "  --stripe-size SIZE object bytes per stripe, e.g. 1Mi, 64Ki, 4M (default 1Mi)\n"            \
    "  --name NAME        object name (default: the file's base name)\n"                          \
    "  --dirs D1,...,Dn   the directories, comma separated\n"                                     \
    "  -o OUT             decode output file ('-' for standard output)\n"                         \
    "  --json             one JSON document on standard output (strings are UTF-8; a\n"           \
    "                     name that is not valid UTF-8 has its invalid bytes shown as\n"          \
    "                     U+FFFD and its exact bytes in \"name_hex\")\n"                          \
    "  --no-progress      no progress bar (it is only shown when stderr is a terminal)\n"         \
    "\n"                                                                                          \
    "Exit status: 0 ok, 1 failure or damage found, 2 usage error.\n"

typedef struct cs__ec_args {
    const char *op;
    unsigned k, m;
    uint64_t stripe_size;
    const char *name;
    const char *dirs;
    const char *out;
    bool json;
    bool progress;
    unsigned io_flags;
    char **pos;
    int npos;
} cs__ec_args_t;

typedef struct cs__progress {
    bool on;
    double start, last; /* cs_clock_mono_s() */
    uint64_t total;
    const char *what;
} cs__progress_t;

/* A rate in bytes per second for people; a rate past 2^64 (a near-zero
 * elapsed time) is clamped because converting it would be undefined. */
static void cs__human_rate(double bytes_per_s, char *buf, size_t cap)
{
    cs_bytes_human(bytes_per_s < 0x1p64 ? (uint64_t)bytes_per_s : UINT64_MAX, buf, cap);
}

static void cs__progress_cb(void *ctx, uint64_t done, uint64_t total)
{
    cs__progress_t *p = ctx;
    if (!p->on)
        return;
    double now = cs_clock_mono_s();
    if (done < total && now - p->last < 0.1)
        return;
    p->last = now;
    double el = now - p->start;
    double rate = el > 0 ? (double)done / el : 0;
    double frac = total ? (double)done / (double)total : 1;
    int width = 30, fill = (int)(frac * width);
    char bar[64], r[32];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    cs__human_rate(rate, r, sizeof r);
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    fprintf(stderr, "\r%s [%s] %3.0f%% %s/s ETA %.0fs ", p->what, bar, frac * 100, r, eta);
    if (done >= total)
        fputc('\n', stderr);
    fflush(stderr);
}

static int cs__usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "couchestor ec: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", CS__EC_USAGE);
    return 2;
}

/* Length of the valid UTF-8 sequence at p (1..4), 0 when the bytes there
 * are not one (stray continuation, overlong form, surrogate, above
 * U+10FFFF, cut short). */
static size_t cs__utf8_seq(const unsigned char *p, size_t left)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, cp = c & 0x1fu, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, cp = c & 0x0fu, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

static bool cs__utf8_valid(const void *s, size_t len)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < len;) {
        size_t n = cs__utf8_seq(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* A JSON string of any bytes: valid UTF-8 is kept, each byte that is not
 * part of a valid sequence becomes U+FFFD, so the document is always valid
 * JSON (RFC 8259 requires UTF-8). */
static void cs__json_str(FILE *f, const void *s, size_t len)
{
    const unsigned char *p = s;
    fputc('"', f);
    for (size_t i = 0; i < len;) {
        unsigned char c = p[i];
        size_t n = cs__utf8_seq(p + i, len - i);
        if (n == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        if (n > 1) {
            /* Like every other write of the report, a failure stays in the
             * stream's error flag; stop rather than skip bytes of the name. */
            if (fwrite(p + i, 1, n, f) != n)
                return;
        } else if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
        i += n;
    }
    fputc('"', f);
}

/* "name":"...", plus "name_hex":"<the bytes in hex>" when the name is not
 * valid UTF-8 (the "name" string is then lossy). */
static void cs__json_name(FILE *f, const void *name, size_t len)
{
    fputs("\"name\":", f);
    cs__json_str(f, name, len);
    if (cs__utf8_valid(name, len))
        return;
    fputs(",\"name_hex\":\"", f);
    for (size_t i = 0; i < len; i++)
        fprintf(f, "%02x", ((const unsigned char *)name)[i]);
    fputc('"', f);
}

static int cs__split_dirs(const char *list, char ***out, size_t *n)
{
    char *copy = strdup(list);
    char **v = calloc(CS_EC_MAX_DIRS + 1, sizeof *v);
    if (!copy || !v) {
        free(copy);
        free(v);
        return -1;
    }
    size_t c = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (c == CS_EC_MAX_DIRS) {
            free(copy);
            free(v);
            return -1;
        }
        v[c++] = t;
    }
    v[CS_EC_MAX_DIRS] = copy; /* owner of the strings */
    *out = v;
    *n = c;
    return 0;
}

static void cs__free_dirs(char **v)
{
    if (v) {
        free(v[CS_EC_MAX_DIRS]);
        free(v);
    }
}

typedef struct cs__fdio {
    int fd;
    const char *path;
} cs__fdio_t;

static int cs__fd_read(void *ctx, void *buf, size_t len, cs_err_t *err)
{
    cs__fdio_t *f = ctx;
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = read(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return cs_err_set(err, CS_EIO, "read %s: %s", f->path, strerror(errno));
        if (n == 0)
            return cs_err_set(err, CS_ECONFLICT, "%s shrank while it was being encoded", f->path);
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int cs__fd_write(void *ctx, const void *buf, size_t len, cs_err_t *err)
{
    cs__fdio_t *f = ctx;
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(f->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return cs_err_set(err, CS_EIO, "write %s: %s", f->path, strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void cs__print_shards(const cs_ec_report_t *rep, cs_ec_store_t *st, bool all)
{
    for (unsigned i = 0; i < rep->k + rep->m; i++) {
        const cs_ec_shard_report_t *s = &rep->shard[i];
        if (!all && s->state == CS_EC_SHARD_OK)
            continue;
        printf("  shard %-3u %-10s %s%s%s\n", i, cs_ec_shard_state_name(s->state),
               s->dir >= 0 ? cs_ec_store_dir(st, (size_t)s->dir) : "-", s->detail[0] ? ": " : "", s->detail);
    }
}

static void cs__json_report(const cs_ec_report_t *rep, cs_ec_store_t *st)
{
    printf("\"k\":%u,\"m\":%u,\"length\":%" PRIu64 ",\"generation\":%" PRIu64 ",\"stripe_size\":%u,\"stripes\":%" PRIu64
           ",\"damaged\":%u,"
           "\"stripes_reconstructed\":%" PRIu64 ",\"stripes_unrecoverable\":%" PRIu64
           ",\"repaired\":%u,\"stale_files\":%u,\"stale_removed\":%u,\"shards\":[",
           rep->k, rep->m, rep->length, rep->generation, rep->stripe_size, rep->stripe_count, rep->damaged,
           rep->stripes_reconstructed, rep->stripes_unrecoverable, rep->repaired, rep->stale_files, rep->stale_removed);
    for (unsigned i = 0; i < rep->k + rep->m; i++) {
        const cs_ec_shard_report_t *s = &rep->shard[i];
        printf("%s{\"index\":%u,\"state\":\"%s\",\"dir\":", i ? "," : "", i, cs_ec_shard_state_name(s->state));
        if (s->dir >= 0) {
            const char *d = cs_ec_store_dir(st, (size_t)s->dir);
            cs__json_str(stdout, d, strlen(d));
        } else {
            fputs("null", stdout);
        }
        printf(",\"bad_stripes\":%" PRIu64 ",\"detail\":", s->bad_stripes);
        cs__json_str(stdout, s->detail, strlen(s->detail));
        putchar('}');
    }
    putchar(']');
}

static int cs__ec_encode(cs__ec_args_t *a, cs_ec_store_t *st, cs__progress_t *pr)
{
    if (a->npos != 1)
        return cs__usage_error("encode takes exactly one FILE%s", "");
    if (a->k == 0 || a->m == 0)
        return cs__usage_error("encode needs -k and -m%s", "");
    const char *file = a->pos[0];
    const char *name = a->name;
    if (!name) {
        const char *slash = strrchr(file, '/');
        name = slash ? slash + 1 : file;
        if (!*name)
            return cs__usage_error("cannot take an object name from '%s': use --name", file);
    }
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "couchestor ec encode: open %s: %s\n", file, strerror(errno));
        return 1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fprintf(stderr, "couchestor ec encode: %s is not a regular file\n", file);
        close(fd);
        return 1;
    }
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    cs_ec_policy_t pol = {.k = a->k, .m = a->m, .stripe_size = a->stripe_size};
    cs__fdio_t src = {.fd = fd, .path = file};
    cs_err_t err = {0};
    double t0 = cs_clock_mono_s();
    pr->what = "encode";
    int rc = cs_ec_store_put_stream(st, name, strlen(name), &pol, (uint64_t)sb.st_size, cs__fd_read, &src, &err);
    double secs = cs_clock_mono_s() - t0;
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "couchestor ec encode: %s\n", err.msg);
        return 1;
    }
    cs_ec_report_t *rep = calloc(1, sizeof *rep);
    if (rep)
        (void)cs_ec_store_stat(st, name, strlen(name), rep, NULL);
    if (a->json) {
        printf("{\"op\":\"encode\",");
        cs__json_name(stdout, name, strlen(name));
        printf(",\"seconds\":%.3f,", secs);
        if (rep)
            cs__json_report(rep, st);
        printf("}\n");
    } else if (rep) {
        char h[32], r[32];
        cs_bytes_human((uint64_t)sb.st_size, h, sizeof h);
        cs__human_rate(secs > 0 ? (double)sb.st_size / secs : 0, r, sizeof r);
        printf("encoded '%s': %s (%lld bytes) as %u+%u, stripe %u bytes, %" PRIu64 " stripes, generation %016" PRIx64
               ", %s/s\n",
               name, h, (long long)sb.st_size, rep->k, rep->m, rep->stripe_size, rep->stripe_count, rep->generation, r);
    }
    free(rep);
    return 0;
}

static int cs__ec_decode(cs__ec_args_t *a, cs_ec_store_t *st, cs__progress_t *pr)
{
    if (a->npos != 1 || !a->out)
        return cs__usage_error("decode takes one NAME and -o OUT%s", "");
    const char *name = a->pos[0];
    bool to_stdout = strcmp(a->out, "-") == 0;
    char tmp[PATH_MAX];
    int fd = STDOUT_FILENO;
    if (!to_stdout) {
        snprintf(tmp, sizeof tmp, "%s.tmp.%ld", a->out, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            fprintf(stderr, "couchestor ec decode: create %s: %s\n", tmp, strerror(errno));
            return 1;
        }
    }
    cs_ec_report_t *rep = calloc(1, sizeof *rep);
    if (!rep) {
        if (!to_stdout) {
            close(fd);
            unlink(tmp);
        }
        return 1;
    }
    cs__fdio_t dst = {.fd = fd, .path = to_stdout ? "standard output" : tmp};
    cs_err_t err = {0};
    pr->what = "decode";
    int rc = cs_ec_store_get_stream(st, name, strlen(name), cs__fd_write, &dst, rep, &err);
    if (!to_stdout) {
        if (rc == 0 && fsync(fd) != 0)
            rc = cs_err_set(&err, CS_EIO, "fsync %s: %s", tmp, strerror(errno));
        close(fd);
        if (rc == 0)
            rc = cs_rename_durable(tmp, a->out, &err);
        if (rc != 0)
            unlink(tmp);
    }
    if (rc != 0) {
        fprintf(stderr, "couchestor ec decode: %s\n", err.msg);
        free(rep);
        return 1;
    }
    FILE *msg = to_stdout ? stderr : stdout;
    if (a->json && !to_stdout) {
        printf("{\"op\":\"decode\",");
        cs__json_name(stdout, name, strlen(name));
        printf(",\"output\":");
        cs__json_str(stdout, a->out, strlen(a->out));
        printf(",\"reconstructed\":%s,", rep->damaged || rep->stripes_reconstructed ? "true" : "false");
        cs__json_report(rep, st);
        printf("}\n");
    } else {
        fprintf(msg, "decoded '%s': %" PRIu64 " bytes to %s\n", name, rep->length, a->out);
        if (rep->damaged || rep->stripes_reconstructed) {
            fprintf(msg,
                    "reconstructed %" PRIu64 " of %" PRIu64
                    " stripes from parity; %u damaged shard(s) (run `couchestor ec repair`):\n",
                    rep->stripes_reconstructed, rep->stripe_count, rep->damaged);
            for (unsigned i = 0; i < rep->k + rep->m; i++)
                if (rep->shard[i].state != CS_EC_SHARD_OK)
                    fprintf(msg, "  shard %u %s %s\n", i, cs_ec_shard_state_name(rep->shard[i].state),
                            rep->shard[i].detail);
        }
    }
    free(rep);
    return 0;
}

/* verify, repair, info over the named objects or all of them; delete of
 * the named ones. */
static int cs__ec_each(cs__ec_args_t *a, cs_ec_store_t *st, cs__progress_t *pr)
{
    cs_ec_entry_t *ents = NULL;
    size_t n = 0;
    cs_err_t err = {0};
    bool del = strcmp(a->op, "delete") == 0;
    if (del && a->npos == 0)
        return cs__usage_error("delete takes one or more NAMEs%s", "");
    unsigned purged = 0;
    if (a->npos == 0 && strcmp(a->op, "repair") == 0 && cs_ec_store_purge(st, &purged, &err) != 0) {
        fprintf(stderr, "couchestor ec %s: %s\n", a->op, err.msg);
        return 1;
    }
    if (a->npos == 0) {
        if (cs_ec_store_list(st, &ents, &n, &err) != 0) {
            fprintf(stderr, "couchestor ec %s: %s\n", a->op, err.msg);
            return 1;
        }
    }
    size_t count = a->npos ? (size_t)a->npos : n;
    cs_ec_report_t *rep = calloc(1, sizeof *rep);
    if (!rep) {
        cs_ec_entries_free(ents, n);
        return 1;
    }
    int status = 0;
    unsigned bad = 0;
    if (a->json)
        printf("{\"op\":\"%s\",\"objects\":[", a->op);
    for (size_t i = 0; i < count; i++) {
        const char *name;
        size_t len;
        if (a->npos) {
            name = a->pos[i];
            len = strlen(name);
        } else {
            name = (const char *)ents[i].name;
            len = ents[i].name_len;
        }
        int rc;
        cs_err_clear(&err);
        pr->what = a->op;
        if (!name) {
            rc =
                cs_err_set(&err, CS_EINSUFFICIENT_SHARDS, "object directory %s: no readable shard header", ents[i].hex);
            memset(rep, 0, sizeof *rep);
        } else if (del) {
            rc = cs_ec_store_delete(st, name, len, &err);
            memset(rep, 0, sizeof *rep);
        } else if (strcmp(a->op, "verify") == 0) {
            rc = cs_ec_store_verify(st, name, len, rep, &err);
        } else if (strcmp(a->op, "repair") == 0) {
            rc = cs_ec_store_repair(st, name, len, rep, &err);
        } else {
            rc = cs_ec_store_stat(st, name, len, rep, &err);
        }
        bool damaged =
            rc != 0 || (strcmp(a->op, "repair") != 0 && (rep->damaged > 0 || rep->stripes_unrecoverable > 0));
        if (strcmp(a->op, "info") == 0 || del)
            damaged = rc != 0;
        if (damaged) {
            bad++;
            status = 1;
        }
        const char *shown = name ? name : ents[i].hex;
        size_t shown_len = name ? len : strlen(ents[i].hex);
        if (a->json) {
            printf("%s{", i ? "," : "");
            cs__json_name(stdout, shown, shown_len);
            printf(",\"ok\":%s,", damaged ? "false" : "true");
            if (rc != 0) {
                printf("\"error\":");
                cs__json_str(stdout, err.msg, strlen(err.msg));
                printf(",\"code\":\"%s\"}", cs_err_name(rc));
                continue;
            }
            if (del) {
                printf("\"deleted\":true}");
                continue;
            }
            cs__json_report(rep, st);
            putchar('}');
            continue;
        }
        if (rc != 0) {
            printf("%s: %s\n", shown, err.msg);
            continue;
        }
        if (del) {
            printf("%s: deleted\n", shown);
        } else if (strcmp(a->op, "info") == 0) {
            printf("%s: %" PRIu64 " bytes, %u+%u, stripe %u bytes, %" PRIu64 " stripes, generation %016" PRIx64
                   ", %u damaged, %u stale file(s)\n",
                   shown, rep->length, rep->k, rep->m, rep->stripe_size, rep->stripe_count, rep->generation,
                   rep->damaged, rep->stale_files);
            cs__print_shards(rep, st, true);
        } else if (strcmp(a->op, "verify") == 0) {
            if (!damaged)
                printf("%s: ok (%u+%u, %" PRIu64 " stripes%s)\n", shown, rep->k, rep->m, rep->stripe_count,
                       rep->stale_files ? ", stale files present" : "");
            else
                printf("%s: DAMAGED: %u shard(s)%s\n", shown, rep->damaged,
                       rep->stripes_unrecoverable ? ", some stripes UNRECOVERABLE" : "");
            cs__print_shards(rep, st, false);
        } else {
            printf("%s: %s (%u shard(s) rewritten, %u stale file(s) removed)\n", shown,
                   rep->repaired ? "repaired" : "ok", rep->repaired, rep->stale_removed);
            cs__print_shards(rep, st, false);
        }
    }
    if (a->json) {
        if (del)
            printf("],\"failed\":%u}\n", bad);
        else if (strcmp(a->op, "repair") == 0 && a->npos == 0)
            printf("],\"damaged\":%u,\"purged_files\":%u}\n", bad, purged);
        else
            printf("],\"damaged\":%u}\n", bad);
    } else if (del) {
        /* one line per object already */
    } else if (count == 0) {
        printf("no objects in %zu directories\n", cs_ec_store_ndirs(st));
    } else if (strcmp(a->op, "verify") == 0) {
        printf("%zu object(s) checked, %u damaged\n", count, bad);
    }
    if (!a->json && purged > 0)
        printf("removed %u file(s) left by interrupted deletes\n", purged);
    free(rep);
    cs_ec_entries_free(ents, n);
    return status;
}

int cs_cmd_ec(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(CS__EC_USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    cs__ec_args_t a = {.op = argv[1], .progress = true};
    const char *ops[] = {"encode", "decode", "verify", "repair", "info", "delete"};
    bool known = false;
    for (size_t i = 0; i < 6; i++)
        known |= strcmp(a.op, ops[i]) == 0;
    if (!known)
        return cs__usage_error("unknown operation '%s'", a.op);
    char **pos = calloc((size_t)argc, sizeof *pos);
    if (!pos)
        return 1;
    a.pos = pos;
    int rc = 0;
    for (int i = 2; i < argc && rc == 0; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = strcmp(o, "-k") == 0 || strcmp(o, "-m") == 0 || strcmp(o, "--stripe-size") == 0 ||
                     strcmp(o, "--name") == 0 || strcmp(o, "--dirs") == 0 || strcmp(o, "-o") == 0;
        if (takes && !val) {
            rc = cs__usage_error("%s needs a value", o);
            break;
        }
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            fputs(CS__EC_USAGE, stdout);
            free(pos);
            return 0;
        } else if (strcmp(o, "-k") == 0 || strcmp(o, "-m") == 0) {
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 1 || v > 254)
                rc = cs__usage_error("-k and -m take 1..254, not '%s'", val);
            else if (o[1] == 'k')
                a.k = (unsigned)v;
            else
                a.m = (unsigned)v;
            i++;
        } else if (strcmp(o, "--stripe-size") == 0) {
            cs_err_t perr = {0};
            if (cs_quantity_parse_bytes(val, &a.stripe_size, &perr) != 0)
                rc = cs__usage_error("--stripe-size: %s", perr.msg);
            else if (a.stripe_size == 0)
                rc = cs__usage_error("--stripe-size must be more than 0 bytes, not '%s' (e.g. 1Mi, 65536)", val);
            i++;
        } else if (strcmp(o, "--name") == 0) {
            a.name = val;
            i++;
        } else if (strcmp(o, "--dirs") == 0) {
            a.dirs = val;
            i++;
        } else if (strcmp(o, "-o") == 0) {
            a.out = val;
            i++;
        } else if (strcmp(o, "--json") == 0) {
            a.json = true;
        } else if (strcmp(o, "--no-progress") == 0) {
            a.progress = false;
        } else if (strcmp(o, "--no-direct") == 0) {
            a.io_flags |= CS_IO_NO_DIRECT;
        } else if (strcmp(o, "--no-uring") == 0) {
            a.io_flags |= CS_IO_NO_URING;
        } else if (strcmp(o, "--") == 0) {
            while (++i < argc)
                pos[a.npos++] = argv[i];
        } else if (o[0] == '-' && o[1] != '\0') {
            rc = cs__usage_error("unknown flag '%s'", o);
        } else {
            pos[a.npos++] = argv[i];
        }
    }
    if (rc == 0 && !a.dirs)
        rc = cs__usage_error("--dirs D1,...,Dn is required%s", "");
    char **dirv = NULL;
    size_t nd = 0;
    if (rc == 0 && (cs__split_dirs(a.dirs, &dirv, &nd) != 0 || nd == 0))
        rc = cs__usage_error("--dirs: give 1..255 comma-separated directories, not '%s'", a.dirs);
    cs_ec_store_t *st = NULL;
    cs__progress_t pr = {.on = a.progress && isatty(STDERR_FILENO)};
    pr.start = pr.last = cs_clock_mono_s();
    if (rc == 0) {
        cs_ec_store_opts_t opts = {.io_flags = a.io_flags, .progress = cs__progress_cb, .progress_ctx = &pr};
        cs_err_t err = {0};
        if (cs_ec_store_open((const char *const *)dirv, nd, &opts, &st, &err) != 0) {
            fprintf(stderr, "couchestor ec %s: %s\n", a.op, err.msg);
            rc = err.code == CS_EINVAL ? 2 : 1;
        }
    }
    if (rc == 0) {
        if (strcmp(a.op, "encode") == 0)
            rc = cs__ec_encode(&a, st, &pr);
        else if (strcmp(a.op, "decode") == 0)
            rc = cs__ec_decode(&a, st, &pr);
        else
            rc = cs__ec_each(&a, st, &pr);
    }
    cs_ec_store_close(&st);
    cs__free_dirs(dirv);
    free(pos);
    return rc;
}
