/* plan.h: the tiering decision for one StoragePolicy, as one pure function.
 *
 * cs_plan_compute takes plain facts (the policy's spec, the volumes with
 * their replicas, the pools, each volume's IOPS, the migration history and
 * "now") and returns, for every volume of the policy, what the operator
 * intends to do and why: move it (with source and target pool), leave it
 * (already on the right tier, or inside the watermark band), or skip it
 * with the reason (cooldown, unknown IOPS, concurrency limit, no eligible
 * pool, unpublished volume, already migrating, dry run, ...). It performs no
 * I/O and reads no clock: the reconciler gathers the inputs and applies the
 * plan, and `couchestor plan` prints the same plan for a person.
 *
 * Input pointers are borrowed for the duration of the call; the plan keeps
 * indices into the input arrays, never pointers, so it stays valid as long
 * as the caller keeps its own arrays. */
#ifndef COUCHESTOR_PLAN_H
#define COUCHESTOR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "couchestor/crd.h"
#include "couchestor/error.h"
#include "couchestor/selector.h"

typedef struct cs_plan_pool_s {
    const char *id; /* pool id == DiskPool name */
    const char *node;
    const cs_labels_t *labels; /* the pool's labels, for the tier selectors */
    /* The labels the storage system's placement reads (Mayastor: its own
     * pool labels), matched against a volume's placement requirements;
     * NULL = none. */
    const cs_labels_t *placement_labels;
    bool online;
    bool unschedulable; /* its node takes no new replica (cordoned, draining or not Online) */
    uint64_t capacity;  /* bytes */
    uint64_t used;      /* bytes */
} cs_plan_pool_t;

/* Whether a new replica of a volume can be steered to a chosen pool. The
 * storage system picks the pool of a new replica itself, among the pools
 * whose labels satisfy the volume's placement requirements (Mayastor: the
 * pool topology its StorageClass gave it, fixed at creation). The operator
 * steers by taking a label the volume requires away from every other pool
 * for a short window (docs/operator.md, "Adopting CoucheStor"):
 * - PLACEMENT: it requires the placement label (poolHasTopologyKey:
 *   couchestor.io/placement), which the window removes from the other pools;
 * - CREATED_BY: it requires only openebs.io/created-by (every volume
 *   provisioned by Mayastor's CSI driver does): steerable by overwriting
 *   that label's value on the other pools, which the policy must allow
 *   (spec.createdBySteering): while the window is open, no other volume of
 *   any class can get a new replica on those pools;
 * - NONE: it requires no label (made outside the CSI driver, or its
 *   requirements are unknown): any pool qualifies, nothing can steer it. */
typedef enum cs_plan_steering {
    CS_PLAN_STEER_PLACEMENT = 0,
    CS_PLAN_STEER_CREATED_BY,
    CS_PLAN_STEER_NONE,
} cs_plan_steering_t;

/* "placement-label", "created-by", "none". */
const char *cs_plan_steering_name(cs_plan_steering_t s);

typedef struct cs_plan_replica_s {
    const char *pool; /* pool id */
    const char *node;
    bool online; /* replica state Online */
} cs_plan_replica_t;

typedef struct cs_plan_volume_s {
    const char *name;          /* PersistentVolume name (pvc-<uuid>) */
    const char *storage_class; /* spec.storageClassName of the PV */
    const cs_labels_t *labels; /* PV labels */
    /* The labels of the PersistentVolumeClaim bound to the PV (its
     * spec.claimRef names the claim and the claim's spec.volumeName names
     * the PV), and of that claim's Namespace; NULL when the PV has no bound
     * claim (the Namespace's: also when the Namespace is unknown). */
    const cs_labels_t *claim_labels;
    const cs_labels_t *namespace_labels;
    uint64_t size; /* bytes */
    size_t replica_count;
    const cs_plan_replica_t *replicas;
    /* The labels a pool must carry to hold a replica of it (key -> value,
     * "" = the key alone; Mayastor: pool_topology.labelled.inclusion); NULL
     * = every pool qualifies. */
    const cs_labels_t *placement;
    cs_plan_steering_t steering;
    /* The policy that decides for this volume when it is not this one (an
     * older policy selects it too: see cs_plan_volume_owner); NULL = this
     * one. */
    const char *owner;
    int64_t last_migration_end; /* Unix seconds; 0 = never migrated */
    /* The pool the last completed migration put a replica on, or NULL:
     * a volume whose replicas are on several tiers is finishing that move
     * only while it still wants that pool's tier. */
    const char *last_target_pool;
    int64_t retry_after;   /* Unix seconds; a failed migration backs off until then */
    int64_t refused_until; /* Unix seconds; a refused migration is held until then */
    double iops;
    bool iops_known;     /* false: no series, or Prometheus unreachable */
    bool iops_young;     /* not known because its series covers too little of samplingWindow yet */
    bool found;          /* the Mayastor volume exists */
    bool published;      /* has a target (nexus) */
    bool online;         /* Mayastor volume status Online */
    bool migrating;      /* an unfinished migration is journaled on the PV */
    bool affinity_group; /* in a storage-system affinity group (Mayastor: a StatefulSet's volumes) */
    bool busy;           /* the storage system runs an operation of its own on it */
} cs_plan_volume_t;

typedef struct cs_plan_input_s {
    const char *policy_name;
    const cs_storage_policy_spec_t *spec;
    bool global_dry_run;      /* the operator's --dry-run */
    bool preservation_mode;   /* old replicas are kept: one replica on the
                                   wanted tier is enough */
    bool created_by_steering; /* the policy allows CS_PLAN_STEER_CREATED_BY moves */
    bool no_label_endpoints;  /* the storage system cannot change pool labels (Mayastor < 2.7.1): nothing moves */
    size_t active_migrations; /* already running for this policy */
    size_t global_slots;      /* how many more may start across all policies */
    int64_t now;              /* Unix seconds */
    size_t volume_count;
    const cs_plan_volume_t *volumes;
    size_t pool_count;
    const cs_plan_pool_t *pools;
} cs_plan_input_t;

typedef enum cs_plan_action {
    CS_PLAN_MOVE, /* start a migration now */
    CS_PLAN_STAY, /* nothing to do */
    CS_PLAN_SKIP, /* it should move, but may not now (see reason) */
} cs_plan_action_t;

/* How a reason reaches people beyond the plan: no Event, or an Event of
 * this type on the volume's PersistentVolume when the volume is skipped. */
typedef enum cs_plan_event {
    CS_PLAN_EVENT_NONE,
    CS_PLAN_EVENT_NORMAL,
    CS_PLAN_EVENT_WARNING,
} cs_plan_event_t;

/* Every property of a reason, in one place:
 * X(NAME, CamelCase (the Event reason), event (cs_plan_event_t without its
 *   prefix), blocks (the volume cannot reach its tier until someone acts:
 *   counted in the policy's Degraded condition), text) */
#define CS_PLAN_REASONS(X)                                                                                          \
    X(PROMOTE, "Promote", NONE, false, "IOPS at or above a hotter tier's watermark")                                \
    X(DEMOTE, "Demote", NONE, false, "IOPS at or below a colder tier's watermark")                                  \
    X(IN_PLACE, "InPlace", NONE, false, "already on the wanted tier")                                               \
    X(HYSTERESIS, "Hysteresis", NONE, false, "IOPS just above lowWatermarkIOPS: stays cold (hysteresis)")           \
    X(IN_BAND, "InBand", NONE, false, "IOPS between watermarks: stays where it is")                                 \
    X(UNKNOWN_IOPS, "UnknownIOPS", NONE, false, "IOPS unknown (no series, or Prometheus unreachable): never moved") \
    X(WINDOW_NOT_COVERED, "WindowNotCovered", NONE, false,                                                          \
      "its IOPS series is younger than most of samplingWindow: not judged yet")                                     \
    X(UNKNOWN_TIER, "UnknownTier", WARNING, true, "its replicas are on pools no tier selector matches")             \
    X(NOT_FOUND, "NotFound", WARNING, false, "no Mayastor volume for this PersistentVolume")                        \
    X(UNPUBLISHED, "Unpublished", WARNING, false, "not published: a new replica would not be rebuilt")              \
    X(NOT_ONLINE, "NotOnline", WARNING, true, "volume is not Online")                                               \
    X(OTHER_POLICY, "OtherPolicy", NONE, false, "an older StoragePolicy also selects it and decides for it")        \
    X(NOT_STEERABLE, "NotSteerable", WARNING, true,                                                                 \
      "its pool topology requires no pool label: nothing can steer a new replica")                                  \
    X(NEEDS_CREATED_BY, "NeedsCreatedBySteering", WARNING, true,                                                    \
      "its StorageClass lacks poolHasTopologyKey for the placement label: movable only with createdBySteering")     \
    X(NO_LABEL_ENDPOINTS, "NoPoolLabelEndpoints", NONE, true,                                                       \
      "Mayastor serves no pool-label endpoints (older than 2.7.1): nothing can steer a new replica")                \
    X(AFFINITY_GROUP, "AffinityGroup", WARNING, true,                                                               \
      "in a Mayastor affinity group: the control plane keeps at least 2 replicas and spreads the group, so a "      \
      "replica cannot be replaced one for one")                                                                     \
    X(OPERATION_IN_PROGRESS, "OperationInProgress", NONE, false,                                                    \
      "Mayastor runs an operation of its own on the volume: waiting until it ends")                                 \
    X(ALREADY_MIGRATING, "AlreadyMigrating", NONE, false, "a migration of this volume is in progress")              \
    X(COOLDOWN, "Cooldown", NONE, false, "moved recently: cooldown period not over")                                \
    X(BACKOFF, "Backoff", NONE, false, "its last migration failed: waiting before the next attempt")                \
    X(REFUSED, "Refused", NONE, false, "its last migration was refused before any change: waiting a while")         \
    X(NO_TIER_SELECTOR, "NoTierSelector", WARNING, true, "the policy has no pool selector for the wanted tier")     \
    X(NO_ELIGIBLE_POOL, "NoEligiblePool", WARNING, true,                                                            \
      "no Online pool of the wanted tier with room, on a schedulable node without a replica, that its placement "   \
      "requirements accept")                                                                                        \
    X(POLICY_LIMIT, "PolicyLimit", NONE, false, "the policy's maxConcurrentMigrations is reached")                  \
    X(GLOBAL_LIMIT, "GlobalLimit", NONE, false, "the operator's max_concurrent_migrations is reached")              \
    X(DRY_RUN, "DryRun", NORMAL, false, "dry run: would move")

typedef enum cs_plan_reason {
#define CS__PLAN_REASON_ENUM(name, camel, event, blocks, text) CS_PLAN_REASON_##name,
    CS_PLAN_REASONS(CS__PLAN_REASON_ENUM)
#undef CS__PLAN_REASON_ENUM
} cs_plan_reason_t;

/* 32 bytes: a plan of 10,000 volumes is 320 KB (the plan caps volumes and
 * pools at INT32_MAX). */
typedef struct cs_plan_item_s {
    uint32_t volume;     /* index into input volumes */
    int32_t source_pool; /* index into input pools of the replica to replace, or -1 */
    int32_t target_pool; /* index into input pools, or -1 */
    uint32_t running;    /* POLICY_LIMIT: migrations of the policy counted */
    cs_plan_action_t action;
    cs_plan_reason_t reason;
    cs_tier_t current; /* CS_TIER_UNKNOWN when mixed/unknown */
    cs_tier_t wanted;  /* CS_TIER_UNKNOWN when no decision */
    bool promote;      /* a move to a hotter tier than any replica's */
    bool partial;      /* IN_PLACE with some replicas elsewhere */
} cs_plan_item_t;

/* One line for people with the numbers behind an item's reason, e.g.
 * "IOPS 7200.0 >= highWatermarkIOPS 5000: cold -> hot (pool a -> b)",
 * formatted on demand (a plan of 10,000 volumes keeps no strings) from the
 * input the plan was computed from. Returns buf. */
#define CS_PLAN_DETAIL_MAX 192
const char *cs_plan_item_detail(const cs_plan_input_t *in, const cs_plan_item_t *it, char *buf, size_t len);

typedef struct cs_plan_s {
    size_t count; /* one item per volume of the policy */
    cs_plan_item_t *items;
    size_t watched;         /* volumes of the policy */
    size_t hot, warm, cold; /* by current tier (a volume on several tiers counts
                               where most of its replicas are, hotter on a tie) */
    size_t moves;           /* items with action MOVE */
    /* Watched volumes by cs_plan_steering_t (found volumes only), and by
     * another policy. */
    size_t steering[3];
    size_t other_policy;
} cs_plan_t;

/* "PROMOTE" -> "Promote" style names used in Events and JSON; and texts. */
const char *cs_plan_reason_name(cs_plan_reason_t reason);
const char *cs_plan_reason_text(cs_plan_reason_t reason);
/* Whether a skipped volume gets an Event for this reason, and of which type. */
cs_plan_event_t cs_plan_reason_event(cs_plan_reason_t reason);
/* Whether the reason keeps the volume from its tier until someone acts. */
bool cs_plan_reason_blocks(cs_plan_reason_t reason);
const char *cs_plan_action_name(cs_plan_action_t action);

/* The tier of a pool by the policy's selectors (hot, then warm when the warm
 * tier is on, then cold); CS_TIER_UNKNOWN when none matches. */
cs_tier_t cs_plan_pool_tier(const cs_storage_policy_spec_t *spec, const cs_labels_t *labels);

/* The tier a volume should be on for its IOPS (DESIGN "Tiers"): hot at or
 * above high; cold at or below low; with a warm tier, warm when
 * low < IOPS <= warm; otherwise CS_TIER_UNKNOWN (the band: stay).
 *
 * cs_plan_compute adds one more band against flapping: a cold volume goes
 * warm only above lowWatermarkIOPS * (1 + CS_PLAN_HYSTERESIS), since there
 * is no band between those two tiers otherwise. */
#define CS_PLAN_HYSTERESIS 0.10
cs_tier_t cs_plan_wanted_tier(const cs_storage_policy_spec_t *spec, double iops);

/* True when a volume belongs to the policy: its StorageClass is the
 * policy's, and
 * - volumeSelector (absent = every volume) matches its effective labels:
 *   the PV's labels and its bound claim's, the claim's value winning on a
 *   key both have (people label claims; a PV without a bound claim has its
 *   own labels only); each requirement reads the one effective value of its
 *   key, so NotIn and DoesNotExist exclude by either object's labels;
 * - namespaceSelector, when set, matches the labels of the bound claim's
 *   Namespace: a PV without a bound claim, or whose claim's Namespace is
 *   unknown, is never selected then. */
bool cs_plan_volume_selected(const cs_storage_policy_spec_t *spec, const cs_plan_volume_t *v);

/* A StoragePolicy as the ownership rule sees it. */
typedef struct cs_plan_policy_ref_s {
    const char *name;
    int64_t created; /* metadata.creationTimestamp, Unix seconds (0 = unknown: oldest) */
    const cs_storage_policy_spec_t *spec;
} cs_plan_policy_ref_t;

/* The one policy that decides for a volume several policies select: the
 * oldest (creationTimestamp), then the first by name. A policy created
 * later never takes volumes from one that already runs, and the answer
 * is the same in every reconcile and in `couchestor plan`. NULL when none
 * of the n policies selects v. */
const char *cs_plan_volume_owner(const cs_plan_policy_ref_t *policies, size_t n, const cs_plan_volume_t *v);

/* Computes the plan. Errors: CS_EINVAL (missing spec), CS_ENOMEM. The plan
 * is freed with cs_plan_free. */
int cs_plan_compute(const cs_plan_input_t *in, cs_plan_t *out, cs_err_t *err);
void cs_plan_free(cs_plan_t *plan);

#endif
