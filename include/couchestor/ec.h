/* ec.h: Reed-Solomon k+m erasure codec over GF(2^8) on ISA-L, with a
 * Cauchy generator matrix (any k of the k+m shards determine the data).
 *
 * Two levels:
 * - the stripe level: caller-owned buffers of equal length, encode parity,
 *   reconstruct any chosen rows from any k surviving rows;
 * - the seed's whole-object level: bytes -> k data + m parity shards of
 *   ceil(len/k) bytes (zero padded), and back.
 *
 * Thread safety: one codec may be used from many threads at once. Encoding
 * reads only immutable tables; reconstruction shares a bounded cache of
 * decode tables per erasure pattern under a mutex.
 *
 * Errors: more than m shards missing -> CS_EINSUFFICIENT_SHARDS,
 * "InsufficientShards: available A, required K"; anything else that stops a
 * reconstruction -> CS_EEC_RECONSTRUCTION_FAILED, "EcReconstructionFailed:
 * <reason>". */
#ifndef COUCHESTOR_EC_H
#define COUCHESTOR_EC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"

#define CS_EC_MAX_SHARDS 255
/* Decode tables kept per codec (one per distinct erasure pattern). */
#define CS_EC_DECODE_CACHE_MAX 64

typedef struct cs_ec_codec_s cs_ec_codec_t;

/* A k+m codec: 1 <= k, 1 <= m, k + m <= 255. */
int cs_ec_codec_new(unsigned k, unsigned m, cs_ec_codec_t **out, cs_err_t *err);
/* Frees the codec and sets *codec to NULL; NULL is a no-op. No call on the
 * codec may be running. */
void cs_ec_codec_free(cs_ec_codec_t **codec);
unsigned cs_ec_codec_k(const cs_ec_codec_t *codec);
unsigned cs_ec_codec_m(const cs_ec_codec_t *codec);
/* The (k+m) x k generator matrix, row-major (first k rows are identity). */
const uint8_t *cs_ec_codec_matrix(const cs_ec_codec_t *codec);

/* Computes the m parity buffers from the k data buffers, each len bytes.
 * Cannot fail. */
void cs_ec_codec_encode(const cs_ec_codec_t *codec, size_t len, const uint8_t *const *data, uint8_t *const *parity);

/* Recomputes the rows listed in want (ascending, unique, each < k+m) into
 * out[0..nwant) from the rows that are present: shards[i] non-NULL means row
 * i is intact (k+m entries; rows listed in want are not read). Uses the
 * first k present rows. Buffers are len bytes; out buffers must not alias
 * shards. Fails with CS_EINSUFFICIENT_SHARDS when fewer than k rows are
 * present; nothing is written then. */
int cs_ec_codec_reconstruct(cs_ec_codec_t *codec, size_t len, const uint8_t *const *shards, const unsigned *want,
                            unsigned nwant, uint8_t *const *out, cs_err_t *err);

/* Decode-table cache statistics (for tests and benchmarks). */
void cs_ec_codec_cache_stats(cs_ec_codec_t *codec, uint64_t *hits, uint64_t *misses, unsigned *entries);

/* Whole-object encoding (the seed's EncodedData). */
typedef struct cs_ec_encoded_s {
    unsigned k, m;
    size_t shard_len;      /* ceil(original_len / k); 0 for an empty object */
    uint64_t original_len; /* bytes before padding */
    uint8_t **shards;      /* k + m buffers of shard_len bytes: data then parity */
} cs_ec_encoded_t;

/* Encodes len bytes into out (allocated here; release with
 * cs_ec_encoded_free). On failure out is left empty. */
int cs_ec_encode(const cs_ec_codec_t *codec, const void *data, size_t len, cs_ec_encoded_t *out, cs_err_t *err);
/* Frees the shards; out is left zeroed. NULL is a no-op. */
void cs_ec_encoded_free(cs_ec_encoded_t *enc);

/* Recovers exactly original_len bytes into out from k+m shards of shard_len
 * bytes where NULL marks a missing shard. The input shards are not
 * modified. shard_len must equal ceil(original_len / k). */
int cs_ec_decode(cs_ec_codec_t *codec, const uint8_t *const *shards, size_t shard_len, uint64_t original_len, void *out,
                 cs_err_t *err);

#endif
