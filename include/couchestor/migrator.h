/* migrator.h: the 4-step replica migration (ANALYZE, SCALE UP, WAIT SYNC,
 * SCALE DOWN) made safe on Mayastor's real API, as a journaled state
 * machine.
 *
 * Mayastor has no "move replica" call (reference/mayastor.md section 7):
 * the control plane chooses where a new replica goes and which replica a
 * decrease removes. So a migration
 *   1. ANALYZE: checks the volume is published and Online with every replica
 *      healthy, the target pool Online with room, on a node without a
 *      replica of the volume;
 *   2. STEER + SCALE UP: inside a short, serialized placement window, removes
 *      the placement label from every pool but the target (the StorageClass
 *      requires pools to carry it: poolHasTopologyKey), raises
 *      replica_count by one, restores the labels, and verifies where the new
 *      replica landed; a replica placed elsewhere is removed again;
 *   3. WAIT SYNC: polls until the new replica's nexus child is Online with
 *      no rebuild in progress and the volume is Online, bounded by the
 *      migration timeout, a stall timeout: it counts from the last time the
 *      rebuild progressed (the new replica's rebuild progress went up, or
 *      more replicas became healthy), and CS_MIG_HARD_CAP_FACTOR times it
 *      after the start is the hard cap whatever the progress;
 *   4. SCALE DOWN (not in preservation mode): detaches the old replica's
 *      nexus child, which makes it the control plane's first victim, lowers
 *      replica_count by one, and verifies the old replica is the one that
 *      went.
 * Every step is written to the journal (an annotation on the
 * PersistentVolume) before it is taken, so that a restarted operator, or
 * the standby that takes over the Lease, resumes or rolls back cleanly. The
 * invariant: a volume never has fewer healthy replicas than before the
 * migration began, and no replica or label change is left orphaned.
 *
 * All effects go through cs_migrator_ops_t, so the same state machine runs
 * against the Mayastor client in the operator and against fakes in tests. */
#ifndef COUCHESTOR_MIGRATOR_H
#define COUCHESTOR_MIGRATOR_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/crd.h"
#include "couchestor/error.h"
#include "couchestor/labels.h"

/* PV annotations the migrator owns. */
#define CS_ANNOTATION_MIGRATION "couchestor.io/migration"           /* the journal (JSON) */
#define CS_ANNOTATION_LAST_MIGRATION "couchestor.io/last-migration" /* RFC 3339 end of the last completed one */
/* The pool the last completed migration put its new replica on. */
#define CS_ANNOTATION_LAST_TARGET "couchestor.io/last-migration-target"
/* After a failed migration: how many failed in a row, and when the next
 * attempt may start (RFC 3339); cleared by a success. */
#define CS_ANNOTATION_FAILURES "couchestor.io/migration-failures"
#define CS_ANNOTATION_RETRY_AFTER "couchestor.io/retry-after"
/* Default pool label key the StorageClass names in poolHasTopologyKey. */
#define CS_DEFAULT_PLACEMENT_KEY CS_LABEL_PLACEMENT

#define CS_MIG_MAX_REPLICAS 16
/* A migration still waiting for its rebuild this many migration timeouts
 * after it started is abandoned even while the rebuild progresses: a
 * rebuild that creeps forward never holds a migration slot for ever. */
#define CS_MIG_HARD_CAP_FACTOR 4
/* Pools a migration may steer or accept; a cluster with more labelled pools
 * is refused at ANALYZE with a message saying so. */
#define CS_MIG_MAX_POOLS 256

/* What the migrator needs to know of one replica of a volume. */
typedef struct cs_mig_replica_s {
    char uuid[40];
    char pool[128];
    char node[128];
    bool online;          /* replica state Online */
    bool in_nexus;        /* a child of the volume's nexus */
    bool child_online;    /* that child is Online */
    int rebuild_progress; /* -1 when none is reported */
    char child_uri[512];  /* the nexus child's URI, "" when not a child */
} cs_mig_replica_t;

/* What the migrator needs to know of a volume (a snapshot). */
typedef struct cs_mig_volume_s {
    char uuid[40];
    uint64_t size;
    int num_replicas; /* spec.num_replicas */
    bool online;      /* state.status == Online */
    bool published;   /* has a target nexus */
    char nexus[40];   /* target nexus uuid */
    size_t replica_count;
    cs_mig_replica_t replicas[CS_MIG_MAX_REPLICAS];
    /* spec.topology.pool_topology.labelled.inclusion: a new replica only goes
     * to pools whose labels satisfy every entry ("" value = key present). */
    size_t inclusion_count;
    char inclusion_key[8][128];
    char inclusion_value[8][128];
} cs_mig_volume_t;

typedef struct cs_mig_pool_s {
    char id[128];
    char node[128];
    bool online;
    uint64_t capacity, used;
    bool has_placement_label; /* carries the placement key */
    char placement_value[64];
} cs_mig_pool_t;

/* Effects. Every function returns 0 or a negative CS_E* code with err set.
 * ctx is the ops' own state. */
typedef struct cs_migrator_ops_s {
    void *ctx;
    int (*get_volume)(void *ctx, const char *uuid, cs_mig_volume_t *out, cs_err_t *err);
    /* Every pool (for steering), each with its value of label_key (the
     * migration's placement key); *out is malloc'd, freed by the caller. */
    int (*list_pools)(void *ctx, const char *label_key, cs_mig_pool_t **out, size_t *count, cs_err_t *err);
    /* CS_ECONFLICT when the count is already n (ReplicaCountAchieved). */
    int (*set_replica_count)(void *ctx, const char *uuid, int n, cs_err_t *err);
    int (*pool_label_put)(void *ctx, const char *pool, const char *key, const char *value, cs_err_t *err);
    /* CS_ENOTFOUND when the label is already absent. */
    int (*pool_label_delete)(void *ctx, const char *pool, const char *key, cs_err_t *err);
    int (*nexus_child_delete)(void *ctx, const char *nexus, const char *child_uri, cs_err_t *err);
    /* Writes (json != NULL) or removes (json == NULL) the journal annotation
     * of the PV; with last_migration_end > 0 also sets the last-migration
     * annotations: its end, and last_target (the pool the new replica was
     * meant for). Must be durable when it returns. */
    int (*journal_write)(void *ctx, const char *pv_name, const char *json, int64_t last_migration_end,
                         const char *last_target, cs_err_t *err);
    /* A Kubernetes Event on the PV (never fails the migration). */
    void (*event)(void *ctx, const char *pv_name, bool warning, const char *reason, const char *message);
    int64_t (*now_ms)(void *ctx);
    /* Sleeps up to ms, returning early (non-zero) when stop is set. */
    int (*sleep_ms)(void *ctx, int64_t ms, const atomic_int *stop);
    /* Serialises the placement window across migrations (and is released
     * on every path). */
    void (*placement_lock)(void *ctx);
    void (*placement_unlock)(void *ctx);
} cs_migrator_ops_t;

typedef enum cs_mig_step {
    CS_MIG_STEP_ANALYZE = 0,
    CS_MIG_STEP_SCALE_UP,   /* labels steered, replica_count n+1 being set */
    CS_MIG_STEP_WAIT_SYNC,  /* new replica placed, rebuilding */
    CS_MIG_STEP_SCALE_DOWN, /* old child detached, replica_count n being set */
    CS_MIG_STEP_ROLLBACK,   /* removing the new replica */
    CS_MIG_STEP_DONE,
} cs_mig_step_t;

const char *cs_mig_step_name(cs_mig_step_t step);

/* The journal: everything needed to resume or roll back. */
typedef struct cs_mig_journal_s {
    char policy[254];
    char pv_name[254];
    char volume[40];
    cs_tier_t from_tier, to_tier;
    char source_pool[128];
    char target_pool[128];
    char placement_key[254];
    char placement_value[64];
    cs_mig_step_t step;
    int replicas_before; /* spec.num_replicas before */
    int healthy_before;  /* healthy replicas before */
    size_t before_count;
    char before[CS_MIG_MAX_REPLICAS][40]; /* replica uuids before */
    char old_replica[40];                 /* the one to replace */
    char new_replica[40];                 /* set once placed */
    size_t steered_count;                 /* pools whose placement label was removed, */
    char steered[CS_MIG_MAX_POOLS][128];  /* with the value to put back */
    char steered_value[CS_MIG_MAX_POOLS][64];
    size_t accept_count; /* pools the new replica may land on (target tier) */
    char accept[CS_MIG_MAX_POOLS][128];
    int64_t started_ms;
    int64_t timeout_ms; /* the stall timeout; the hard cap is CS_MIG_HARD_CAP_FACTOR times it */
    /* The last time the rebuild progressed, and what it looked like then:
     * the new replica's rebuild progress (100 once in sync, -1 when none was
     * reported) and the number of healthy replicas. A journal written before
     * these existed decodes as 0, -1, -1: a resume counts from its own start
     * ("now"), and its first look at the volume counts as progress. */
    int64_t progress_ms;
    int last_progress;
    int last_healthy;
    double trigger_iops;
    int scale_down_attempts;
    char failure[256]; /* set when rolling back: why */
} cs_mig_journal_t;

/* Journal <-> JSON (the annotation value). Decoding reads untrusted text. */
int cs_mig_journal_encode(const cs_mig_journal_t *j, char **out, cs_err_t *err);
int cs_mig_journal_decode(const char *text, cs_mig_journal_t *out, cs_err_t *err);

typedef struct cs_mig_request_s {
    const char *policy;
    const char *pv_name;
    const char *volume; /* Mayastor volume uuid */
    const char *source_pool;
    const char *target_pool;
    const char *const *accept_pools; /* pools of the target tier, where a new */
    size_t accept_count;             /* replica is acceptable (target included) */
    cs_tier_t from_tier, to_tier;
    double trigger_iops;
    int64_t timeout_ms;        /* the stall timeout: the policy's migrationTimeout, else
                                  migration_timeout_minutes; <= 0 means 30 min */
    int64_t poll_ms;           /* syncPollInterval */
    bool preservation_mode;    /* keep the old replica */
    const char *placement_key; /* NULL = CS_DEFAULT_PLACEMENT_KEY */
} cs_mig_request_t;

/* Why cs_migration_run refused a migration before changing anything (the
 * ANALYZE checks, and steering found impossible before the first write). A
 * refusal is not a failed migration: nothing was attempted. */
typedef enum cs_mig_refusal {
    CS_MIG_REFUSAL_NONE = 0,
    CS_MIG_REFUSAL_UNPUBLISHED,             /* "unpublished": no nexus, a new replica would not rebuild */
    CS_MIG_REFUSAL_VOLUME_NOT_ONLINE,       /* "volume_not_online" */
    CS_MIG_REFUSAL_DEGRADED,                /* "degraded": a replica is unhealthy or missing */
    CS_MIG_REFUSAL_REPLICA_LIMIT,           /* "replica_limit": already 255 replicas */
    CS_MIG_REFUSAL_NOT_STEERABLE,           /* "not_steerable": topology without the placement label, or too
                                              many labelled pools to steer */
    CS_MIG_REFUSAL_NO_SOURCE_REPLICA,       /* "no_source_replica": no replica on the source pool any more */
    CS_MIG_REFUSAL_TARGET_MISSING,          /* "target_missing" */
    CS_MIG_REFUSAL_TARGET_NOT_ONLINE,       /* "target_not_online" */
    CS_MIG_REFUSAL_TARGET_FULL,             /* "target_full" */
    CS_MIG_REFUSAL_TARGET_NODE_HAS_REPLICA, /* "target_node_has_replica" */
    CS_MIG_REFUSAL_COUNT_
} cs_mig_refusal_t;

/* The snake_case name above ("none" for NONE): a metric label value. */
const char *cs_mig_refusal_name(cs_mig_refusal_t r);

typedef struct cs_mig_result_s {
    cs_migration_outcome_t outcome;
    cs_mig_step_t reached; /* last step entered */
    int64_t duration_ms;
    char message[256]; /* why, for Failed/TimedOut/Aborted */
    /* Set when cs_migration_run returned an error because it refused (then
     * nothing was changed, err says why); NONE for every other error (the
     * API could not be read, a journal write failed, ...). */
    cs_mig_refusal_t refusal;
} cs_mig_result_t;

/* Runs a new migration to the end (blocking; run it on a worker thread).
 * `stop` (may be NULL) asks it to return early, leaving the journal for a
 * later resume (outcome Aborted, reached = the step it stopped in). Returns 0
 * when the migration ran (see result->outcome) or a negative code when it
 * could not be started (nothing changed): CS_EMIGRATION_FAILED or
 * CS_ENO_SUITABLE_POOL with result->refusal saying why when it refused. */
int cs_migration_run(const cs_migrator_ops_t *ops, const cs_mig_request_t *req, const atomic_int *stop,
                     cs_mig_result_t *result, cs_err_t *err);

/* Resumes (or rolls back) a journaled migration found on a PV, e.g. after
 * a restart or a leader change. poll_ms and preservation_mode come from
 * the current configuration. */
int cs_migration_resume(const cs_migrator_ops_t *ops, const cs_mig_journal_t *journal, int64_t poll_ms,
                        bool preservation_mode, const atomic_int *stop, cs_mig_result_t *result, cs_err_t *err);

#endif
