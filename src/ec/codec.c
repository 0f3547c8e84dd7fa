/* codec.c: Reed-Solomon k+m on ISA-L: Cauchy generator, encode tables built
 * once, decode tables built per erasure pattern and kept in a bounded,
 * reference-counted LRU cache. */
#include "couchestor/ec.h"

#include <isa-l/erasure_code.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

typedef struct cs__bits {
    uint64_t w[4]; /* 256 bits: rows 0..254 */
} cs__bits_t;

typedef struct cs__dtab {
    cs__bits_t src;  /* the k rows read */
    cs__bits_t want; /* the rows produced, ascending */
    unsigned nwant;
    uint64_t last_use;
    atomic_uint refs; /* the cache holds one while listed */
    uint8_t tables[]; /* 32 * k * nwant */
} cs__dtab_t;

struct cs_ec_codec_s {
    unsigned k, m;
    uint8_t *matrix;      /* (k+m) x k */
    uint8_t *enc_tables;  /* 32 * k * m */
    pthread_mutex_t lock; /* guards the cache */
    cs__dtab_t *cache[CS_EC_DECODE_CACHE_MAX];
    unsigned ncache;
    uint64_t clock, hits, misses;
};

static void cs__bit_set(cs__bits_t *b, unsigned i)
{
    b->w[i / 64] |= (uint64_t)1 << (i % 64);
}

static bool cs__bits_eq(const cs__bits_t *a, const cs__bits_t *b)
{
    return memcmp(a->w, b->w, sizeof a->w) == 0;
}

int cs_ec_codec_new(unsigned k, unsigned m, cs_ec_codec_t **out, cs_err_t *err)
{
    if (!out)
        return cs_err_set(err, CS_EINVAL, "cs_ec_codec_new: out is NULL");
    *out = NULL;
    if (k < 1 || m < 1 || k + m > CS_EC_MAX_SHARDS)
        return cs_err_set(err, CS_EEC_CONFIG, "invalid erasure code %u+%u: need k >= 1, m >= 1 and k + m <= %d", k, m,
                          CS_EC_MAX_SHARDS);
    cs_ec_codec_t *c = calloc(1, sizeof *c);
    if (!c)
        return cs_err_set(err, CS_ENOMEM, "codec %u+%u: out of memory", k, m);
    c->k = k;
    c->m = m;
    c->matrix = malloc((size_t)(k + m) * k);
    c->enc_tables = malloc((size_t)32 * k * m);
    if (!c->matrix || !c->enc_tables) {
        free(c->matrix);
        free(c->enc_tables);
        free(c);
        return cs_err_set(err, CS_ENOMEM, "codec %u+%u: out of memory", k, m);
    }
    gf_gen_cauchy1_matrix(c->matrix, (int)(k + m), (int)k);
    ec_init_tables((int)k, (int)m, c->matrix + (size_t)k * k, c->enc_tables);
    pthread_mutex_init(&c->lock, NULL);
    *out = c;
    return 0;
}

static void cs__dtab_release(cs__dtab_t *t)
{
    if (t && atomic_fetch_sub(&t->refs, 1) == 1)
        free(t);
}

void cs_ec_codec_free(cs_ec_codec_t **codec)
{
    if (!codec || !*codec)
        return;
    cs_ec_codec_t *c = *codec;
    for (unsigned i = 0; i < c->ncache; i++)
        cs__dtab_release(c->cache[i]);
    pthread_mutex_destroy(&c->lock);
    free(c->matrix);
    free(c->enc_tables);
    free(c);
    *codec = NULL;
}

unsigned cs_ec_codec_k(const cs_ec_codec_t *codec)
{
    return codec->k;
}

unsigned cs_ec_codec_m(const cs_ec_codec_t *codec)
{
    return codec->m;
}

const uint8_t *cs_ec_codec_matrix(const cs_ec_codec_t *codec)
{
    return codec->matrix;
}

void cs_ec_codec_encode(const cs_ec_codec_t *codec, size_t len, const uint8_t *const *data, uint8_t *const *parity)
{
    /* ISA-L takes int lengths and non-const pointer arrays. */
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        ec_encode_data(n, (int)codec->k, (int)codec->m, codec->enc_tables, (unsigned char **)(uintptr_t)data,
                       (unsigned char **)(uintptr_t)parity);
        len -= (size_t)n;
        if (len > 0) {
            /* Only objects > 1 GiB per shard get here; advance copies. */
            const uint8_t *d[CS_EC_MAX_SHARDS];
            uint8_t *p[CS_EC_MAX_SHARDS];
            for (unsigned i = 0; i < codec->k; i++)
                d[i] = data[i] + n;
            for (unsigned i = 0; i < codec->m; i++)
                p[i] = parity[i] + n;
            cs_ec_codec_encode(codec, len, d, p);
            return;
        }
    }
}

/* Builds decode tables for: sources = rows in src_rows (k of them, in
 * ascending order), outputs = want rows. */
static int cs__build_dtab(const cs_ec_codec_t *c, const unsigned *src_rows, const unsigned *want, unsigned nwant,
                          cs__dtab_t *t, cs_err_t *err)
{
    unsigned k = c->k;
    uint8_t *b = malloc((size_t)k * k);
    uint8_t *inv = malloc((size_t)k * k);
    uint8_t *rows = malloc((size_t)k * nwant);
    int rc = 0;
    if (!b || !inv || !rows) {
        rc = cs_err_set(err, CS_ENOMEM, "EcReconstructionFailed: out of memory for decode matrix");
        goto out;
    }
    for (unsigned r = 0; r < k; r++)
        memcpy(b + (size_t)r * k, c->matrix + (size_t)src_rows[r] * k, k);
    if (gf_invert_matrix(b, inv, (int)k) != 0) {
        rc = cs_err_set(err, CS_EEC_RECONSTRUCTION_FAILED,
                        "EcReconstructionFailed: the surviving rows' matrix is singular");
        goto out;
    }
    /* Row w of the generator times inv gives w in terms of the sources. */
    for (unsigned i = 0; i < nwant; i++) {
        const uint8_t *g = c->matrix + (size_t)want[i] * k;
        for (unsigned j = 0; j < k; j++) {
            uint8_t s = 0;
            for (unsigned x = 0; x < k; x++)
                s ^= gf_mul(g[x], inv[(size_t)x * k + j]);
            rows[(size_t)i * k + j] = s;
        }
    }
    ec_init_tables((int)k, (int)nwant, rows, t->tables);
out:
    free(b);
    free(inv);
    free(rows);
    return rc;
}

/* Finds or builds the tables; returns them with a reference held. */
static int cs__get_dtab(cs_ec_codec_t *c, const cs__bits_t *src, const unsigned *src_rows, const cs__bits_t *want_bits,
                        const unsigned *want, unsigned nwant, cs__dtab_t **out, cs_err_t *err)
{
    pthread_mutex_lock(&c->lock);
    for (unsigned i = 0; i < c->ncache; i++) {
        cs__dtab_t *t = c->cache[i];
        if (t->nwant == nwant && cs__bits_eq(&t->src, src) && cs__bits_eq(&t->want, want_bits)) {
            t->last_use = ++c->clock;
            atomic_fetch_add(&t->refs, 1);
            c->hits++;
            pthread_mutex_unlock(&c->lock);
            *out = t;
            return 0;
        }
    }
    c->misses++;
    pthread_mutex_unlock(&c->lock);

    /* Build outside the lock: other patterns keep decoding meanwhile. */
    cs__dtab_t *t = malloc(sizeof *t + (size_t)32 * c->k * nwant);
    if (!t)
        return cs_err_set(err, CS_ENOMEM, "EcReconstructionFailed: out of memory for decode tables");
    t->src = *src;
    t->want = *want_bits;
    t->nwant = nwant;
    atomic_init(&t->refs, 2); /* the caller's and the cache's */
    int rc = cs__build_dtab(c, src_rows, want, nwant, t, err);
    if (rc != 0) {
        free(t);
        return rc;
    }
    cs__dtab_t *evicted = NULL;
    pthread_mutex_lock(&c->lock);
    t->last_use = ++c->clock;
    if (c->ncache < CS_EC_DECODE_CACHE_MAX) {
        c->cache[c->ncache++] = t;
    } else {
        unsigned lru = 0;
        for (unsigned i = 1; i < c->ncache; i++)
            if (c->cache[i]->last_use < c->cache[lru]->last_use)
                lru = i;
        evicted = c->cache[lru];
        c->cache[lru] = t;
    }
    pthread_mutex_unlock(&c->lock);
    cs__dtab_release(evicted);
    *out = t;
    return 0;
}

int cs_ec_codec_reconstruct(cs_ec_codec_t *codec, size_t len, const uint8_t *const *shards, const unsigned *want,
                            unsigned nwant, uint8_t *const *out, cs_err_t *err)
{
    if (!codec || !shards || (nwant > 0 && (!want || !out)))
        return cs_err_set(err, CS_EINVAL, "cs_ec_codec_reconstruct: NULL argument");
    unsigned k = codec->k, n = codec->k + codec->m;
    cs__bits_t want_bits = {{0}};
    for (unsigned i = 0; i < nwant; i++) {
        if (want[i] >= n || (i > 0 && want[i] <= want[i - 1]))
            return cs_err_set(err, CS_EINVAL,
                              "EcReconstructionFailed: wanted rows must be ascending, unique and "
                              "below %u (row %u)",
                              n, want[i]);
        cs__bit_set(&want_bits, want[i]);
    }
    if (nwant == 0)
        return 0;
    unsigned src_rows[CS_EC_MAX_SHARDS] = {0};
    const uint8_t *src_ptrs[CS_EC_MAX_SHARDS];
    cs__bits_t src = {{0}};
    unsigned nsrc = 0, available = 0;
    for (unsigned i = 0; i < n; i++) {
        bool wanted = (want_bits.w[i / 64] >> (i % 64)) & 1;
        if (!shards[i] || wanted)
            continue;
        available++;
        if (nsrc < k) {
            src_rows[nsrc] = i;
            src_ptrs[nsrc] = shards[i];
            cs__bit_set(&src, i);
            nsrc++;
        }
    }
    if (nsrc < k)
        return cs_err_set(err, CS_EINSUFFICIENT_SHARDS, "InsufficientShards: available %u, required %u", available, k);
    cs__dtab_t *t = NULL;
    int rc = cs__get_dtab(codec, &src, src_rows, &want_bits, want, nwant, &t, err);
    if (rc != 0)
        return rc;
    size_t off = 0;
    while (off < len) {
        size_t left = len - off;
        int step = left > (1u << 30) ? (1 << 30) : (int)left;
        const uint8_t *s[CS_EC_MAX_SHARDS];
        uint8_t *o[CS_EC_MAX_SHARDS];
        for (unsigned i = 0; i < k; i++)
            s[i] = src_ptrs[i] + off;
        for (unsigned i = 0; i < nwant; i++)
            o[i] = out[i] + off;
        ec_encode_data(step, (int)k, (int)nwant, t->tables, (unsigned char **)(uintptr_t)s, o);
        off += (size_t)step;
    }
    cs__dtab_release(t);
    return 0;
}

void cs_ec_codec_cache_stats(cs_ec_codec_t *codec, uint64_t *hits, uint64_t *misses, unsigned *entries)
{
    pthread_mutex_lock(&codec->lock);
    if (hits)
        *hits = codec->hits;
    if (misses)
        *misses = codec->misses;
    if (entries)
        *entries = codec->ncache;
    pthread_mutex_unlock(&codec->lock);
}

void cs_ec_encoded_free(cs_ec_encoded_t *enc)
{
    if (!enc)
        return;
    if (enc->shards) {
        for (unsigned i = 0; i < enc->k + enc->m; i++)
            free(enc->shards[i]);
        free(enc->shards);
    }
    memset(enc, 0, sizeof *enc);
}

int cs_ec_encode(const cs_ec_codec_t *codec, const void *data, size_t len, cs_ec_encoded_t *out, cs_err_t *err)
{
    if (!codec || !out || (len > 0 && !data))
        return cs_err_set(err, CS_EINVAL, "cs_ec_encode: NULL argument");
    memset(out, 0, sizeof *out);
    unsigned k = codec->k, m = codec->m;
    size_t shard_len = len / k + (len % k != 0);
    out->k = k;
    out->m = m;
    out->shard_len = shard_len;
    out->original_len = len;
    out->shards = calloc(k + m, sizeof *out->shards);
    if (!out->shards)
        goto nomem;
    const uint8_t *src = data;
    for (unsigned i = 0; i < k + m; i++) {
        out->shards[i] = malloc(shard_len ? shard_len : 1);
        if (!out->shards[i])
            goto nomem;
        if (i >= k)
            continue; /* parity: the encoder fills it */
        size_t start = (size_t)i * shard_len;
        size_t n = start >= len ? 0 : (len - start < shard_len ? len - start : shard_len);
        if (n)
            memcpy(out->shards[i], src + start, n);
        memset(out->shards[i] + n, 0, shard_len - n);
    }
    if (shard_len)
        cs_ec_codec_encode(codec, shard_len, (const uint8_t *const *)out->shards, out->shards + k);
    return 0;
nomem:
    cs_ec_encoded_free(out);
    return cs_err_set(err, CS_EEC_ENCODING_FAILED, "EcEncodingFailed: out of memory for %u+%u shards of %zu bytes", k,
                      m, shard_len);
}

int cs_ec_decode(cs_ec_codec_t *codec, const uint8_t *const *shards, size_t shard_len, uint64_t original_len, void *out,
                 cs_err_t *err)
{
    if (!codec || !shards || (original_len > 0 && !out))
        return cs_err_set(err, CS_EINVAL, "cs_ec_decode: NULL argument");
    unsigned k = codec->k, n = codec->k + codec->m;
    uint64_t expect = original_len / k + (original_len % k != 0);
    if (shard_len != expect)
        return cs_err_set(err, CS_EEC_RECONSTRUCTION_FAILED,
                          "EcReconstructionFailed: shard length %zu does not match original "
                          "length %llu with k=%u (expected %llu)",
                          shard_len, (unsigned long long)original_len, k, (unsigned long long)expect);
    unsigned available = 0, want[CS_EC_MAX_SHARDS], nwant = 0;
    for (unsigned i = 0; i < n; i++) {
        if (shards[i])
            available++;
        else if (i < k)
            want[nwant++] = i;
    }
    if (available < k)
        return cs_err_set(err, CS_EINSUFFICIENT_SHARDS, "InsufficientShards: available %u, required %u", available, k);
    uint8_t *rebuilt[CS_EC_MAX_SHARDS] = {0};
    int rc = 0;
    for (unsigned i = 0; i < nwant; i++) {
        rebuilt[i] = malloc(shard_len ? shard_len : 1);
        if (!rebuilt[i]) {
            rc = cs_err_set(err, CS_ENOMEM, "EcReconstructionFailed: out of memory");
            goto out;
        }
    }
    if (nwant > 0 && shard_len > 0) {
        rc = cs_ec_codec_reconstruct(codec, shard_len, shards, want, nwant, rebuilt, err);
        if (rc != 0)
            goto out;
    }
    uint8_t *dst = out;
    unsigned w = 0;
    for (unsigned i = 0; i < k; i++) {
        const uint8_t *s = shards[i];
        if (!s)
            s = rebuilt[w++];
        uint64_t start = (uint64_t)i * shard_len;
        if (start >= original_len)
            break;
        uint64_t cnt = original_len - start < shard_len ? original_len - start : shard_len;
        memcpy(dst + start, s, (size_t)cnt);
    }
out:
    for (unsigned i = 0; i < nwant; i++)
        free(rebuilt[i]);
    return rc;
}
