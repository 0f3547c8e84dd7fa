/* crd.h: the StoragePolicy and ErasureCodingPolicy custom resources
 * (storage.billyronks.io/v1, cluster-scoped) as C types, with JSON decode
 * and encode, defaults and validation. deploy/crds/ holds the matching
 * CustomResourceDefinitions; a test keeps their defaults and these in step.
 * docs/crds.md describes every field.
 *
 * Ownership. Every struct here is allocated by the caller (on the stack or
 * inside another struct, zero-initialised) and owns the strings and arrays it
 * points to. A _decode or _init fills it; the matching _free releases what it
 * owns and leaves it zeroed, ready for reuse. _free(NULL) and _free of a
 * zeroed struct are no-ops. On failure a _decode leaves *out zeroed.
 * Encoders return a new jansson tree the caller owns (json_decref).
 *
 * Decode and validate. Decoding reads untrusted JSON (an object from the API
 * server, a manifest, fuzz input): it is bounded and never trusts sizes. It
 * checks the shape: types, required fields, unknown spec fields (rejected,
 * as the CRD's structural schema would prune them: a misspelt
 * `highWatermarkIops` must not silently become the default 5000), label
 * selector syntax; and it applies the defaults to absent spec fields.
 * Validation checks the values and how they relate. Both collect every
 * problem rather than stopping at the first, so that one status message can
 * list them all: into an optional cs_crd_problems_t, and joined with "; "
 * into err (whose message is cut at CS_ERR_MSG_MAX; the list keeps all).
 *
 * Status. Fields of the status subresource are written by the operator only.
 * Unknown status fields are ignored (a newer operator may have written them);
 * wrongly typed ones are decode problems like any other. */
#ifndef COUCHESTOR_CRD_H
#define COUCHESTOR_CRD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/error.h"
#include "couchestor/selector.h"

#define CS_CRD_GROUP "storage.billyronks.io"
#define CS_CRD_VERSION "v1"
#define CS_CRD_API_VERSION "storage.billyronks.io/v1"

#define CS_STORAGE_POLICY_KIND "StoragePolicy"
#define CS_STORAGE_POLICY_PLURAL "storagepolicies"
#define CS_EC_POLICY_KIND "ErasureCodingPolicy"
#define CS_EC_POLICY_PLURAL "erasurecodingpolicies"

/* StoragePolicy spec defaults (the CRD YAML carries the same values). */
#define CS_SP_DEFAULT_HIGH_WATERMARK_IOPS 5000
#define CS_SP_DEFAULT_WARM_WATERMARK_IOPS 2000
#define CS_SP_DEFAULT_LOW_WATERMARK_IOPS 500
#define CS_SP_DEFAULT_SAMPLING_WINDOW "1h"
#define CS_SP_DEFAULT_COOLDOWN_PERIOD "24h"
#define CS_SP_DEFAULT_STORAGE_CLASS_NAME "mayastor"
#define CS_SP_DEFAULT_MAX_CONCURRENT_MIGRATIONS 2
/* migrationTimeout has no default here or in the CRD: absent, the operator-wide
 * migration_timeout_minutes applies (cs_storage_policy_migration_timeout_ms). */
#define CS_SP_DEFAULT_ENABLED true
#define CS_SP_DEFAULT_DRY_RUN false
#define CS_SP_DEFAULT_EC_MIN_VOLUME_SIZE_BYTES INT64_C(10737418240)

/* StoragePolicy bounds. */
#define CS_SP_MAX_CONCURRENT_MIGRATIONS_MAX 100
#define CS_SP_MIGRATION_HISTORY_MAX 50 /* newest entries kept in status */
#define CS_CONDITIONS_MAX 16           /* distinct condition types per object */
#define CS_CONDITION_MESSAGE_MAX 32768 /* bytes, as metav1.Condition */
#define CS_CONDITION_REASON_MAX 1024

/* ErasureCodingPolicy spec defaults and bounds. */
#define CS_EC_DEFAULT_DATA_SHARDS 4
#define CS_EC_DEFAULT_PARITY_SHARDS 2
#define CS_EC_DEFAULT_STRIPE_SIZE_BYTES 1048576
#define CS_EC_DEFAULT_ALGORITHM "ReedSolomon"
#define CS_EC_MAX_TOTAL_SHARDS 255           /* Reed-Solomon over GF(2^8) */
#define CS_EC_MIN_STRIPE_SIZE_BYTES 65536    /* 64 KiB */
#define CS_EC_MAX_STRIPE_SIZE_BYTES 67108864 /* 64 MiB */

/* Condition types the operator sets on a StoragePolicy. */
#define CS_CONDITION_READY "Ready"
#define CS_CONDITION_SPEC_VALID "SpecValid"
#define CS_CONDITION_EC_POLICY_RESOLVED "ECPolicyResolved"

/* ---- problem lists ------------------------------------------------------ */

/* At most this many problems are kept; further ones are counted in dropped. */
#define CS_CRD_PROBLEMS_MAX 64

/* Problems found in one object. subject names it ("StoragePolicy 'fast'");
 * each item names a field and what is wrong with it, without the subject
 * ("spec.lowWatermarkIOPS (-1) must be at least 0"). */
typedef struct cs_crd_problems_s {
    char *subject;
    size_t count;
    char **items;
    size_t dropped;
} cs_crd_problems_t;

/* "StoragePolicy 'fast': first; second (and 3 more problems)", malloc'd;
 * NULL when there are no problems or on allocation failure. */
char *cs_crd_problems_join(const cs_crd_problems_t *problems);
/* Frees the contents and leaves the list empty. NULL is a no-op. */
void cs_crd_problems_free(cs_crd_problems_t *problems);

/* ---- common pieces ------------------------------------------------------ */

/* The part of ObjectMeta the operator uses. Other metadata fields are
 * ignored on decode and not encoded. 0 means "unset" for the numbers. */
typedef struct cs_object_meta_s {
    char *name;
    char *uid;
    char *resource_version;
    int64_t generation;
    int64_t creation_timestamp; /* Unix seconds */
    cs_labels_t labels;         /* validated as Kubernetes labels */
    cs_labels_t annotations;    /* any string values */
} cs_object_meta_t;

void cs_object_meta_free(cs_object_meta_t *meta);

typedef enum cs_condition_status {
    CS_CONDITION_UNKNOWN = 0,
    CS_CONDITION_TRUE,
    CS_CONDITION_FALSE,
} cs_condition_status_t;

/* "True", "False", "Unknown". */
const char *cs_condition_status_name(cs_condition_status_t status);

/* A Kubernetes condition (metav1.Condition shape). */
typedef struct cs_condition_s {
    char *type;
    cs_condition_status_t status;
    char *reason;                 /* CamelCase, e.g. "InvalidSpec" */
    char *message;                /* for people; NULL when none */
    int64_t last_transition_time; /* Unix seconds */
    int64_t observed_generation;
} cs_condition_t;

typedef struct cs_conditions_s {
    size_t count;
    cs_condition_t *items;
} cs_conditions_t;

/* The condition of that type, or NULL. Borrowed from conds. */
const cs_condition_t *cs_conditions_find(const cs_conditions_t *conds, const char *type);
/* Sets the condition `type` (adding it when absent). lastTransitionTime
 * becomes `now` only when the status changes (or the condition is new);
 * reason, message and observedGeneration are always replaced. reason must
 * match Kubernetes' rule (a letter, then letters, digits, '_', ',' or ':',
 * not ending in ',' or ':'; at most 1024 bytes); a message longer than
 * CS_CONDITION_MESSAGE_MAX - 1 bytes is cut at a UTF-8 boundary. Errors:
 * CS_EINVAL (bad type or reason; nothing changes), CS_ETOOBIG (already
 * CS_CONDITIONS_MAX types), CS_ENOMEM (nothing changes). */
int cs_conditions_set(cs_conditions_t *conds, const char *type, cs_condition_status_t status, const char *reason,
                      const char *message, int64_t observed_generation, int64_t now, cs_err_t *err);
void cs_conditions_free(cs_conditions_t *conds);

/* ---- StoragePolicy ------------------------------------------------------ */

typedef enum cs_tier {
    CS_TIER_UNKNOWN = 0,
    CS_TIER_HOT,
    CS_TIER_WARM,
    CS_TIER_COLD,
} cs_tier_t;

/* "hot", "warm", "cold", "unknown": the values of the DiskPool label
 * storage-tier, and of fromTier/toTier in the migration history. */
const char *cs_tier_name(cs_tier_t tier);
/* Exact, lower-case names only. CS_EPARSE otherwise. */
int cs_tier_parse(const char *text, cs_tier_t *out, cs_err_t *err);

typedef struct cs_storage_policy_spec_s {
    int64_t high_watermark_iops; /* hot at or above this IOPS */
    int64_t warm_watermark_iops; /* 0 = no warm tier */
    int64_t low_watermark_iops;  /* cold at or below this IOPS */
    char *sampling_window;       /* Go duration text as written, e.g. "1h" */
    char *cooldown_period;
    char *storage_class_name;
    cs_selector_t *hot_pool_selector; /* NULL when absent */
    cs_selector_t *warm_pool_selector;
    cs_selector_t *cold_pool_selector;
    cs_selector_t *volume_selector;    /* NULL: every volume of the class; matched against the PV's
                                       labels merged with its bound PVC's (the PVC's win) */
    cs_selector_t *namespace_selector; /* NULL: any namespace; else only volumes whose bound PVC's
                                          Namespace has matching labels (a PV without one never) */
    int64_t max_concurrent_migrations;
    char *migration_timeout; /* NULL when absent: the operator-wide default applies */
    bool enabled;
    bool dry_run;
    /* Volumes whose pool topology requires only openebs.io/created-by may be
     * moved by overwriting that label on the other pools for the placement
     * window (see cs_plan_steering_t for the cost). Default false. */
    bool created_by_steering;
    char *ec_policy_ref; /* ErasureCodingPolicy name; NULL when absent */
    int64_t ec_min_volume_size_bytes;
    /* The three duration texts in nanoseconds, derived by decode and
     * _spec_init; 0 where the text does not parse (validation says why) or,
     * for migration_timeout, is absent. */
    int64_t sampling_window_ns;
    int64_t cooldown_period_ns;
    int64_t migration_timeout_ns;
} cs_storage_policy_spec_t;

typedef enum cs_storage_policy_phase {
    CS_SP_PHASE_NONE = 0, /* no status yet; not encoded */
    CS_SP_PHASE_PENDING,
    CS_SP_PHASE_ACTIVE,
    CS_SP_PHASE_DISABLED,
    CS_SP_PHASE_ERROR,
} cs_storage_policy_phase_t;

/* "Pending", "Active", "Disabled", "Error" ("" for NONE). */
const char *cs_storage_policy_phase_name(cs_storage_policy_phase_t phase);

typedef enum cs_migration_outcome {
    CS_MIGRATION_SUCCEEDED = 0,
    CS_MIGRATION_FAILED,
    CS_MIGRATION_TIMED_OUT,
    CS_MIGRATION_ABORTED, /* rolled back, e.g. after an operator restart */
    CS_MIGRATION_DRY_RUN, /* decided but not executed (spec.dryRun) */
} cs_migration_outcome_t;

/* "Succeeded", "Failed", "TimedOut", "Aborted", "DryRun". */
const char *cs_migration_outcome_name(cs_migration_outcome_t outcome);

/* One entry of status.migrationHistory. */
typedef struct cs_migration_record_s {
    char *volume_name;
    int64_t timestamp; /* Unix seconds, when the migration ended */
    cs_tier_t from_tier;
    cs_tier_t to_tier;
    double trigger_iops; /* the IOPS that triggered it */
    int64_t duration_ns; /* encoded as a Go duration, "4m12s" */
    cs_migration_outcome_t outcome;
    char *message; /* why it failed; NULL when none */
} cs_migration_record_t;

/* Oldest first; never more than CS_SP_MIGRATION_HISTORY_MAX entries. */
typedef struct cs_migration_history_s {
    size_t count;
    cs_migration_record_t *items;
} cs_migration_history_t;

/* Appends a copy of rec, dropping the oldest entry when the history is
 * full. CS_EINVAL when rec has no volume name; CS_ENOMEM leaves h as it was. */
int cs_migration_history_append(cs_migration_history_t *h, const cs_migration_record_t *rec, cs_err_t *err);
void cs_migration_history_free(cs_migration_history_t *h);
void cs_migration_record_free(cs_migration_record_t *rec);

/* status.ecPolicy: whether spec.ecPolicyRef names an existing, valid
 * ErasureCodingPolicy. It only reports: Mayastor volumes are replicated,
 * never erasure-coded, so nothing acts on the reference. present is false
 * when the spec has no ecPolicyRef (encoded as null). */
typedef struct cs_ec_policy_ref_status_s {
    bool present;
    char *name;
    bool resolved;
    char *message; /* why it does not resolve; NULL when resolved */
} cs_ec_policy_ref_status_t;

typedef struct cs_storage_policy_status_s {
    cs_storage_policy_phase_t phase;
    char *message; /* why the phase is what it is; NULL when none */
    int64_t watched_volumes;
    int64_t hot_volumes;
    int64_t warm_volumes;
    int64_t cold_volumes;
    int64_t active_migrations;
    int64_t total_migrations;
    int64_t failed_migrations;
    int64_t last_reconcile_time; /* Unix seconds; 0 = never (not encoded) */
    int64_t observed_generation;
    cs_conditions_t conditions;
    cs_migration_history_t migration_history;
    cs_ec_policy_ref_status_t ec_policy;
} cs_storage_policy_status_t;

typedef struct cs_storage_policy_s {
    cs_object_meta_t meta;
    cs_storage_policy_spec_t spec;
    cs_storage_policy_status_t status;
} cs_storage_policy_t;

/* Fills spec with the defaults (no selectors, no ecPolicyRef). Frees nothing:
 * spec must be zeroed or freed. CS_ENOMEM leaves it zeroed. */
int cs_storage_policy_spec_init(cs_storage_policy_spec_t *spec, cs_err_t *err);
void cs_storage_policy_spec_free(cs_storage_policy_spec_t *spec);
void cs_storage_policy_status_free(cs_storage_policy_status_t *status);
void cs_storage_policy_free(cs_storage_policy_t *policy);

/* Decodes a whole StoragePolicy object (apiVersion and kind are checked when
 * present; metadata.name and spec are required; status is optional).
 * Errors: CS_EPARSE with every problem listed (problems filled when not
 * NULL), CS_EINVAL when obj is not an object, CS_ENOMEM. */
int cs_storage_policy_decode(const json_t *obj, cs_storage_policy_t *out, cs_crd_problems_t *problems, cs_err_t *err);
/* Decodes a status object alone (e.g. from a /status response). */
int cs_storage_policy_status_decode(const json_t *status, cs_storage_policy_status_t *out, cs_err_t *err);

/* Checks the rules listed in docs/crds.md. 0 when valid; CS_EINVAL with
 * every violation listed (problems filled when not NULL). */
int cs_storage_policy_validate(const cs_storage_policy_t *policy, cs_crd_problems_t *problems, cs_err_t *err);
/* As above for a spec alone; name is used in messages (may be NULL). */
int cs_storage_policy_spec_validate(const cs_storage_policy_spec_t *spec, const char *name, cs_crd_problems_t *problems,
                                    cs_err_t *err);

/* True when the warm tier is on: warmWatermarkIOPS > 0. */
bool cs_storage_policy_has_warm_tier(const cs_storage_policy_spec_t *spec);

/* The migration timeout of the policy in milliseconds: its migrationTimeout
 * when set (and positive), else default_ms (the operator-wide
 * migration_timeout_minutes). A spec of NULL gives default_ms. */
int64_t cs_storage_policy_migration_timeout_ms(const cs_storage_policy_spec_t *spec, int64_t default_ms);

/* The whole object (apiVersion, kind, metadata, spec, status). */
int cs_storage_policy_encode(const cs_storage_policy_t *policy, json_t **out, cs_err_t *err);
/* Every spec field, defaults included; absent selectors and ecPolicyRef are
 * left out. */
int cs_storage_policy_spec_encode(const cs_storage_policy_spec_t *spec, json_t **out, cs_err_t *err);
/* The status object for the status subresource. Counters, observedGeneration,
 * message ("" when none), conditions and migrationHistory are always present
 * and ecPolicy is null when absent, so that used as a merge patch it replaces
 * every field; phase and lastReconcileTime are left out while unset. */
int cs_storage_policy_status_encode(const cs_storage_policy_status_t *status, json_t **out, cs_err_t *err);
/* True when both encode to equal JSON (lets a reconciler skip a no-op
 * status write). False on allocation failure. */
bool cs_storage_policy_status_equal(const cs_storage_policy_status_t *a, const cs_storage_policy_status_t *b);

/* ---- ErasureCodingPolicy ------------------------------------------------ */

typedef struct cs_ec_policy_spec_s {
    int64_t data_shards;   /* k */
    int64_t parity_shards; /* m */
    int64_t stripe_size_bytes;
    char *algorithm; /* as written; only "ReedSolomon" is valid */
} cs_ec_policy_spec_t;

typedef enum cs_ec_policy_phase {
    CS_EC_PHASE_NONE = 0, /* no status yet; not encoded */
    CS_EC_PHASE_READY,
    CS_EC_PHASE_INVALID,
} cs_ec_policy_phase_t;

/* "Ready", "Invalid" ("" for NONE). */
const char *cs_ec_policy_phase_name(cs_ec_policy_phase_t phase);

typedef struct cs_ec_policy_status_s {
    cs_ec_policy_phase_t phase;
    char *message;             /* NULL when none */
    double storage_efficiency; /* k / (k + m); 0 while invalid */
    int64_t observed_generation;
} cs_ec_policy_status_t;

typedef struct cs_ec_policy_s {
    cs_object_meta_t meta;
    cs_ec_policy_spec_t spec;
    cs_ec_policy_status_t status;
} cs_ec_policy_t;

int cs_ec_policy_spec_init(cs_ec_policy_spec_t *spec, cs_err_t *err);
void cs_ec_policy_spec_free(cs_ec_policy_spec_t *spec);
void cs_ec_policy_status_free(cs_ec_policy_status_t *status);
void cs_ec_policy_free(cs_ec_policy_t *policy);

/* As cs_storage_policy_decode, for an ErasureCodingPolicy. */
int cs_ec_policy_decode(const json_t *obj, cs_ec_policy_t *out, cs_crd_problems_t *problems, cs_err_t *err);
int cs_ec_policy_status_decode(const json_t *status, cs_ec_policy_status_t *out, cs_err_t *err);
int cs_ec_policy_validate(const cs_ec_policy_t *policy, cs_crd_problems_t *problems, cs_err_t *err);
int cs_ec_policy_spec_validate(const cs_ec_policy_spec_t *spec, const char *name, cs_crd_problems_t *problems,
                               cs_err_t *err);

/* k / (k + m), or 0 when either is not positive. */
double cs_ec_policy_efficiency(const cs_ec_policy_spec_t *spec);

/* The status the EC reconciler writes (LLD 1.1.2): phase Ready with the
 * efficiency, or Invalid with every violation in message;
 * observedGeneration = metadata.generation. Frees *out first. CS_ENOMEM. */
int cs_ec_policy_status_compute(const cs_ec_policy_t *policy, cs_ec_policy_status_t *out, cs_err_t *err);

int cs_ec_policy_encode(const cs_ec_policy_t *policy, json_t **out, cs_err_t *err);
int cs_ec_policy_spec_encode(const cs_ec_policy_spec_t *spec, json_t **out, cs_err_t *err);
/* message is always present ("" when none); phase is left out while unset. */
int cs_ec_policy_status_encode(const cs_ec_policy_status_t *status, json_t **out, cs_err_t *err);

#endif
