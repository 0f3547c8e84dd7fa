/* error.h: CoucheStor error codes and the error value that carries a message
 * a person can act on.
 *
 * Functions return int: 0 on success or a negative CS_E* code, and fill an
 * optional cs_err_t with what failed, on which object, and why. The codes and
 * their names/descriptions come from one table, CS_ERRNO_MAP, so they cannot
 * drift. The seed design's error kinds (LLD section 2) each have a code. */
#ifndef COUCHESTOR_ERROR_H
#define COUCHESTOR_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* X(NAME, value, description) */
#define CS_ERRNO_MAP(X)                                                    \
    /* generic */                                                          \
    X(INVAL, -1, "invalid argument")                                       \
    X(PARSE, -2, "parse error")                                            \
    X(NOTFOUND, -3, "not found")                                           \
    X(CONFLICT, -4, "conflict")                                            \
    X(TIMEOUT, -5, "timed out")                                            \
    X(IO, -6, "I/O error")                                                 \
    X(NOMEM, -7, "out of memory")                                          \
    X(TOOBIG, -8, "size limit exceeded")                                   \
    X(CORRUPT, -9, "data corrupted (checksum mismatch)")                   \
    X(UNSUPPORTED, -10, "not supported")                                   \
    X(EXISTS, -11, "already exists")                                       \
    X(BUSY, -12, "resource busy")                                          \
    X(CANCELED, -13, "operation canceled")                                 \
    X(INTERNAL, -14, "internal error")                                     \
    X(UNAVAILABLE, -15, "service unavailable")                             \
    X(PERM, -16, "permission denied")                                      \
    /* Kubernetes API */                                                   \
    X(KUBE, -20, "Kubernetes API error")                                   \
    X(GONE, -21, "resource version expired (410 Gone)")                    \
    /* Prometheus */                                                       \
    X(PROM_CONNECTION, -30, "Prometheus connection failed")                \
    X(PROM_QUERY, -31, "Prometheus query failed")                          \
    X(PROM_RESPONSE_PARSE, -32, "Prometheus response could not be parsed") \
    /* Mayastor */                                                         \
    X(MAYASTOR, -35, "Mayastor API error")                                 \
    /* migration */                                                        \
    X(MIGRATION_IN_PROGRESS, -40, "migration already in progress")         \
    X(MIGRATION_FAILED, -41, "migration failed")                           \
    X(MIGRATION_TIMEOUT, -42, "migration timed out")                       \
    X(NO_SUITABLE_POOL, -43, "no suitable pool")                           \
    X(REPLICA_SYNC_FAILED, -44, "replica synchronisation failed")          \
    /* erasure coding */                                                   \
    X(EC_ENCODING_FAILED, -50, "erasure encoding failed")                  \
    X(EC_RECONSTRUCTION_FAILED, -51, "erasure reconstruction failed")      \
    X(INSUFFICIENT_SHARDS, -52, "insufficient shards to reconstruct")      \
    X(EC_POLICY, -53, "invalid erasure coding policy")                     \
    X(EC_STRIPE, -54, "invalid stripe")                                    \
    X(EC_CONFIG, -55, "invalid erasure coding configuration")              \
    /* SPDK / DMA / ISA-L */                                               \
    X(DMA_ALLOCATION_FAILED, -60, "DMA buffer allocation failed")          \
    X(SPDK_INIT, -61, "SPDK initialisation failed")                        \
    X(BDEV, -62, "block device error")                                     \
    X(ISAL_MATRIX, -63, "ISA-L matrix inversion failed")                   \
    X(ISAL_ENCODING, -64, "ISA-L encoding failed")                         \
    /* hardware discovery */                                               \
    X(HARDWARE_DISCOVERY, -70, "hardware discovery failed")                \
    X(NVME_COMMAND, -71, "nvme command failed")                            \
    X(SMART, -72, "SMART query failed")                                    \
    /* compression */                                                      \
    X(COMPRESSION_FAILED, -80, "compression failed")                       \
    X(DECOMPRESSION_FAILED, -81, "decompression failed")

enum cs_errno {
    CS_OK = 0,
#define CS__ERRNO_ENUM(name, value, desc) CS_E##name = value,
    CS_ERRNO_MAP(CS__ERRNO_ENUM)
#undef CS__ERRNO_ENUM
};

#define CS_ERR_MSG_MAX 512

/* An error value. Zero-initialise it (cs_err_t err = {0};) before use. */
typedef struct cs_err_s {
    int code;                 /* 0 or a CS_E* code */
    char msg[CS_ERR_MSG_MAX]; /* what, which object, why; never empty when code != 0 */
} cs_err_t;

/* "invalid argument" etc.; "unknown error" for codes not in the table. */
const char *cs_strerror(int code);
/* "EINVAL" etc.; "EUNKNOWN" for codes not in the table. */
const char *cs_err_name(int code);

/* Records code and a printf-style message in err (if err is not NULL) and
 * returns code, so that `return cs_err_set(err, CS_EINVAL, "...")` reads well. */
int cs_err_set(cs_err_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int cs_err_vset(cs_err_t *err, int code, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));

/* Prepends context ("policy 'fast': ") to an existing message; keeps the code.
 * Returns err->code (or 0 when err is NULL). */
int cs_err_prefix(cs_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears err to "no error". NULL is a no-op. */
void cs_err_clear(cs_err_t *err);

/* Maps an errno value to the closest CS_E* code. */
int cs_err_from_errno(int errnum);

#endif
