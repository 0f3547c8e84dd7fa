/* controller.h: the operator: StoragePolicy and ErasureCodingPolicy
 * reconcilers, the migration manager, and the cluster view they share with
 * `couchestor plan`.
 *
 * The cluster view turns what the operator reads (PersistentVolumes and
 * DiskPools from the API server, volumes and pools from Mayastor, IOPS from
 * Prometheus) into the plain inputs of cs_plan_compute, so the operator and
 * `couchestor plan` decide with the same code. */
#ifndef COUCHESTOR_CONTROLLER_H
#define COUCHESTOR_CONTROLLER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "couchestor/config.h"
#include "couchestor/crd.h"
#include "couchestor/error.h"
#include "couchestor/kube.h"
#include "couchestor/mayastor.h"
#include "couchestor/plan.h"
#include "couchestor/prom.h"
#include "couchestor/selector.h"

#define CS_DISKPOOL_RESOURCE CS_KUBE_RES("openebs.io", "v1beta2", "diskpools", true, "DiskPool")
#define CS_STORAGE_POLICY_RESOURCE CS_KUBE_RES("storage.billyronks.io", "v1", "storagepolicies", false, "StoragePolicy")
#define CS_EC_POLICY_RESOURCE \
    CS_KUBE_RES("storage.billyronks.io", "v1", "erasurecodingpolicies", false, "ErasureCodingPolicy")

/* ---- projections (compact typed copies of API objects) ------------------ */

/* The part of a PersistentVolume the operator reads. Compact and
 * read-only: name, uid, resource_version, journal, claim_name, the label
 * array and the label values live back to back in one allocation
 * (`block`); storage_class, claim_namespace and label keys may instead
 * point into a process-wide table of interned strings (a cluster has a
 * handful of StorageClasses, claim namespaces and label keys). Never
 * free or change a field on its own: cs_pv_free (or the decoder's destroy)
 * frees the whole PV. */
typedef struct cs_pv_s {
    const char *name;
    const char *uid;              /* NULL when absent */
    const char *resource_version; /* NULL when absent */
    const char *storage_class;    /* NULL when absent */
    cs_labels_t labels;           /* read-only view: not for cs_labels_set/cs_labels_free */
    const char *journal;          /* annotation couchestor.io/migration, or NULL */
    /* spec.claimRef: the claim the PV is bound to (or reserved for); both
     * NULL unless both are present. claim_namespace may be interned. */
    const char *claim_namespace;
    const char *claim_name;
    uint64_t capacity;      /* spec.capacity.storage, bytes (0 when absent) */
    int64_t last_migration; /* annotation couchestor.io/last-migration, Unix s; 0 = none */
    /* annotation couchestor.io/last-migration-target: the pool the last
     * completed migration put a replica on (may be interned), or NULL */
    const char *last_target_pool;
    int64_t retry_after; /* annotation couchestor.io/retry-after, Unix s; 0 = none */
    cs_mayastor_uuid_t volume;
    int failures;    /* annotation couchestor.io/migration-failures */
    bool mayastor;   /* spec.csi.driver is io.openebs.csi-mayastor */
    bool has_volume; /* spec.csi.volumeHandle parsed as a uuid */
    void *block;     /* the one allocation behind the strings (private) */
} cs_pv_t;

/* The part of a DiskPool the operator reads. */
typedef struct cs_diskpool_ref_s {
    char *name;
    char *namespace_;
    cs_labels_t labels;   /* metadata.labels */
    cs_labels_t topology; /* spec.topology.labelled (at most 1024 entries, strings) */
} cs_diskpool_ref_t;

/* The part of a PersistentVolumeClaim the operator reads: a policy selects
 * a volume by its bound claim's labels too (people label claims, and
 * Kubernetes does not copy their labels to the PV). Owned strings. */
typedef struct cs_pvc_s {
    char *name;
    char *namespace_;
    char *volume_name; /* spec.volumeName: the PV it is bound to, or NULL */
    cs_labels_t labels;
} cs_pvc_t;

/* The part of a Namespace the operator reads (spec.namespaceSelector). */
typedef struct cs_namespace_ref_s {
    char *name;
    cs_labels_t labels;
} cs_namespace_ref_t;

/* Decoders for informers and lists: objects are malloc'd cs_pv_t,
 * cs_diskpool_ref_t, cs_pvc_t, cs_namespace_ref_t, or json_t trees (small
 * objects such as policies). Each parses untrusted input within the
 * stream's bounds (fuzzed: tests/fuzz/fuzz_pv_projection.c); the claim and
 * namespace projections skip annotations, managedFields and status. */
cs_kube_decoder_t cs_pv_decoder(void);
cs_kube_decoder_t cs_diskpool_decoder(void);
cs_kube_decoder_t cs_pvc_decoder(void);
cs_kube_decoder_t cs_namespace_decoder(void);
void cs_pvc_free(cs_pvc_t *pvc);
void cs_namespace_ref_free(cs_namespace_ref_t *ns);
cs_kube_decoder_t cs_json_tree_decoder(void);
/* The tree held by an object of cs_json_tree_decoder (borrowed). */
const json_t *cs_json_tree_root(const void *data);
void cs_pv_free(cs_pv_t *pv);
/* Whether the PV was provisioned from storage_class (a policy's volumes). */
bool cs_pv_of_storage_class(const cs_pv_t *pv, const char *storage_class);
void cs_diskpool_ref_free(cs_diskpool_ref_t *d);

/* ---- the cluster view for one policy -------------------------------------- */

/* What a reconcile (or `couchestor plan`) knows. Arrays are borrowed. */
typedef struct cs_cluster_view_s {
    size_t pv_count;
    const cs_pv_t *const *pvs;
    size_t diskpool_count;
    const cs_diskpool_ref_t *const *diskpools;
    const cs_mayastor_volumes_t *volumes; /* NULL when Mayastor was unreachable */
    const cs_mayastor_pools_t *pools;     /* NULL when Mayastor was unreachable */
    const cs_mayastor_nodes_t *nodes;     /* NULL: every pool's node counts as schedulable */
    const cs_prom_iops_t *iops;           /* per pvs[i]; NULL = all unknown */
} cs_cluster_view_t;

/* What Mayastor and Prometheus say about a set of PVs, read once. */
typedef struct cs_observation_s {
    cs_mayastor_volumes_t volumes;
    cs_mayastor_pools_t pools;
    cs_mayastor_nodes_t nodes;
    bool mayastor_ok; /* the three lists (volumes, pools, nodes) answered */
    cs_mayastor_err_t mayastor_err;
    cs_prom_iops_t *iops; /* per PV, in the order given */
    bool metrics_ok;      /* the IOPS query answered */
    bool metrics_asked;   /* a query was sent (there were PVs to ask for) */
    cs_err_t metrics_err;
    cs_prom_batch_t metrics_batch; /* what each metric set answered; the outage edges */
    size_t unknown;                /* PVs without a known IOPS */
    size_t young;                  /* of them, PVs whose series does not cover the window yet */
    double seconds;                /* wall time of the whole observation */
    double list_seconds;           /* wall time of the Mayastor lists */
    double query_seconds;          /* wall time of the Prometheus query (overlaps the lists) */
    double list_cpu_seconds;       /* CPU time of each, from the thread that did it */
    double query_cpu_seconds;
} cs_observation_t;

/* Lists Mayastor's volumes, pools and nodes and asks Prometheus for the IOPS of
 * every PV over window_ns, in one batch query. The query runs on a thread
 * of its own while the calling thread lists Mayastor, so the wall time is
 * the longer of the two (prom must be usable from another thread, as
 * cs_prom_t is). Failures are recorded in obs (never "zero IOPS"), not
 * returned: 0, or CS_ENOMEM. */
int cs_observe(cs_mayastor_t *ms, cs_prom_t *prom, const cs_pv_t *const *pvs, size_t n, int64_t window_ns,
               cs_observation_t *obs);
void cs_observation_free(cs_observation_t *obs);
/* What the metrics of an observation mean for a decision, for people: the
 * StoragePolicy condition MetricsAvailable (its status, reason, message),
 * shared by the reconcile (status, Event) and `couchestor plan`. Reasons:
 * PrometheusUnavailable (a query failed: False), NoSeries (no metric set
 * matches any series: False), NoSeriesForVolumes (series exist, none for
 * these volumes: False, check the volume label and key), FallbackInUse
 * (a fallback set answers some volumes: True), SomeSeriesMissing (some
 * volumes without a series or with one younger than the window: True),
 * Available. */
#define CS_CONDITION_METRICS "MetricsAvailable"
typedef struct cs_metrics_verdict_s {
    bool ok;            /* the condition's status */
    const char *reason; /* static */
    char message[1024];
} cs_metrics_verdict_t;
void cs_metrics_verdict(const cs_prom_t *prom, const cs_observation_t *obs, size_t pv_count, cs_metrics_verdict_t *out);

/* The view of pvs/diskpools with what obs saw. */
cs_cluster_view_t cs_observation_view(const cs_observation_t *obs, const cs_pv_t *const *pvs, size_t npvs,
                                      const cs_diskpool_ref_t *const *dps, size_t ndps);

/* Bytes (NUL included) of cs_plan_facts_t.label_note. */
#define CS_POOL_LABELS_NOTE_MAX 512

/* The plan input built from a view, owning its arrays. */
typedef struct cs_plan_facts_s {
    cs_plan_input_t in; /* volumes/pools point into the arrays below */
    cs_plan_volume_t *volumes;
    size_t *pv_of; /* volumes[i] describes view->pvs[pv_of[i]] */
    cs_plan_pool_t *pools;
    cs_labels_t *pool_labels; /* owned copies of each pool's tier labels */
    cs_plan_replica_t *replicas;
    const cs_mayastor_volume_t **mvol; /* per volume, NULL when not found */
    /* Each distinct pool topology of the volumes as a label set (volumes
     * point into it), and each pool's Mayastor labels. */
    cs_labels_t *placements;
    size_t placement_count;
    const cs_mayastor_label_t **placement_of; /* the Mayastor set each copy was made from */
    cs_labels_t *pool_placement_labels;
    /* Pools whose label sources (cs_pool_labels_merge) disagree on a key
     * the policy's pool selectors read, and a note naming each such pool
     * and key with the values ("" when none; cut with "..." when longer). */
    size_t label_disagreements;
    char label_note[CS_POOL_LABELS_NOTE_MAX];
} cs_plan_facts_t;

/* Fills facts->in for one policy. Volumes are the PVs of the policy's
 * StorageClass (the plan applies volumeSelector); a pool's labels are those
 * of cs_pool_labels_merge (its DiskPool's metadata.labels and
 * spec.topology.labelled, and the Mayastor pool's labels); its placement
 * labels are Mayastor's own; a pool is schedulable unless Mayastor reports
 * its node cordoned, draining or not Online. A volume's steering comes
 * from its pool topology (cs_volume_steering). */
int cs_plan_facts_build(const cs_cluster_view_t *view, const char *policy_name, const cs_storage_policy_spec_t *spec,
                        int64_t now, cs_plan_facts_t *facts, cs_err_t *err);
void cs_plan_facts_free(cs_plan_facts_t *facts);

/* How a volume whose pool topology requires these labels can be steered
 * (cs_plan_steering_t): PLACEMENT when it requires placement_key, else
 * CREATED_BY when it requires openebs.io/created-by, else NONE. */
cs_plan_steering_t cs_volume_steering(const cs_mayastor_label_t *inclusion, size_t count, const char *placement_key);

/* How the volumes a StorageClass provisions from now on can be steered:
 * PLACEMENT when its provisioner is Mayastor's CSI driver
 * (io.openebs.csi-mayastor) and parameters.poolHasTopologyKey names
 * placement_key (one key per line, or comma-separated); CREATED_BY for any
 * other class of that driver (the driver always requires
 * openebs.io/created-by); NONE for another provisioner (not Mayastor's:
 * nothing to steer). why (when not NULL) receives one line saying so.
 * sc is a StorageClass object as the API server returns it. */
cs_plan_steering_t cs_storage_class_steering(const json_t *sc, const char *placement_key, char *why, size_t len);

/* ---- a pool's labels, from three places ------------------------------------ */

/* A pool's labels can be set in three places: its DiskPool's metadata.labels
 * (`kubectl label diskpool`), its DiskPool's spec.topology.labelled (copied
 * by Mayastor into its own pool once, when the pool is created) and the
 * control plane's pool labels (REST, `kubectl mayastor label pool`). Each
 * may be NULL (no DiskPool, or no Mayastor pool). Borrowed. */
typedef struct cs_pool_label_sources_s {
    const cs_labels_t *metadata;
    const cs_labels_t *topology;
    const cs_mayastor_pool_t *rest;
} cs_pool_label_sources_t;

/* The pool's labels for the plan: the union of the three sources into out
 * (an empty set on entry; the caller frees it with cs_labels_free). A key
 * set in several sources with different values takes the value of the
 * first of: metadata.labels, the REST labels, spec.topology.labelled
 * (docs/operator.md says why). disagree, when not NULL (an empty set on
 * entry, freed by the caller), receives each such key with a description
 * of every source's value, e.g. `metadata.labels "cold", REST "hot"`.
 * Returns how many keys the sources disagree on (0: none), or CS_ENOMEM,
 * when out and disagree are left empty. */
int cs_pool_labels_merge(const cs_pool_label_sources_t *src, cs_labels_t *out, cs_labels_t *disagree);

/* The StoragePolicy condition that says whether every pool's label sources
 * agree on the keys the policy's pool selectors read. */
#define CS_CONDITION_POOL_LABELS "PoolLabelsConsistent"
/* Whether every volume of the policy can be steered (cs_plan_steering_t). */
#define CS_CONDITION_STEERABLE "Steerable"
/* False when an older policy selects some of the policy's volumes. */
#define CS_CONDITION_OWNS_VOLUMES "OwnsSelectedVolumes"

/* Prints a plan as a table for people or as JSON. */
void cs_plan_print(const cs_plan_facts_t *facts, const cs_plan_t *plan, const char *policy, FILE *out, bool json);

/* ---- the clients and the gather step ------------------------------------- */

/* Prometheus client options from the configuration (URL, metric sets,
 * volume label and key, selector, coverage, timeout, TLS, auth). *token
 * receives the secrets read from the bearer token and basic password files
 * (one malloc'd block the options point into; the caller frees it after
 * cs_prom_new), or NULL. */
int cs_prom_options_from_config(const cs_config_t *cfg, cs_prom_options_t *po, char **token, cs_err_t *err);

/* The clients a decision reads. Each is thread-safe (see its header). */
typedef struct cs_clients_s {
    cs_kube_client_t *kube;
    cs_kube_client_t *probe; /* only when cs_clients_options_t.probe was given */
    cs_mayastor_t *mayastor;
    cs_prom_t *prom;
} cs_clients_t;

typedef struct cs_clients_options_s {
    /* Also open a second Kubernetes client with these options (the
     * operator's readiness probe, which must answer fast and not retry);
     * NULL = none. */
    const cs_kube_client_options_t *probe;
} cs_clients_options_t;

/* Opens the clients from the configuration: Kubernetes (cfg->kubeconfig,
 * else in-cluster), Mayastor (cfg->mayastor_url, else discovered through the
 * API server in cfg->mayastor_namespace), Prometheus. opts may be NULL. On
 * failure nothing stays open, *out is zeroed and err says which client
 * failed and why. */
int cs_clients_open(const cs_config_t *cfg, const cs_clients_options_t *opts, cs_clients_t *out, cs_err_t *err);
/* Frees every client and zeroes c; c may be NULL or partly open. */
void cs_clients_close(cs_clients_t *c);

typedef struct cs_migrations_s cs_migrations_t; /* the operator's migration manager */

/* Where a decision's inputs come from. Everything is borrowed for the
 * duration of cs_gather; the PVs also for as long as the result lives. */
typedef struct cs_gather_source_s {
    const cs_clients_t *clients;
    const cs_config_t *cfg;    /* dry_run, preservation_mode, max_concurrent_migrations */
    const cs_pv_t *const *pvs; /* every PV known (the gather keeps the policy's) */
    size_t pv_count;
    const cs_diskpool_ref_t *const *diskpools;
    size_t diskpool_count;
    /* Every PersistentVolumeClaim and Namespace known (any order): the
     * selection reads a PV's bound claim's labels and its Namespace's.
     * Borrowed for the duration of cs_gather only (their labels are
     * copied). None given: no PV has a bound claim. */
    const cs_pvc_t *const *pvcs;
    size_t pvc_count;
    const cs_namespace_ref_t *const *namespaces;
    size_t namespace_count;
    /* The operator's running migrations: they mark volumes migrating, hold
     * refused ones and count against the limits. NULL (`couchestor plan`):
     * the journals on the PVs count instead. */
    cs_migrations_t *migrations;
    /* Every valid, enabled StoragePolicy (cs_policy_set_build): a volume
     * another of them owns (cs_plan_volume_owner) is left to it. Borrowed
     * for as long as the result lives. None: each policy decides for every
     * volume it selects. */
    const cs_plan_policy_ref_t *policies;
    size_t policy_count;
    /* Mayastor answered that it serves no pool-label endpoints
     * (cs_mayastor_capabilities): the plan moves nothing. */
    bool no_label_endpoints;
} cs_gather_source_t;

/* The StoragePolicies that own volumes: each valid and enabled one,
 * decoded from its object (the informer's or a list's JSON). */
typedef struct cs_policy_set_s {
    size_t count;
    cs_storage_policy_t *policies;
    cs_plan_policy_ref_t *refs; /* per policy: name, creationTimestamp, spec */
} cs_policy_set_t;

/* Builds the set from n policy objects (invalid or disabled ones are left
 * out: they decide nothing). 0 or CS_ENOMEM; free with cs_policy_set_free
 * either way. */
int cs_policy_set_build(const json_t *const *objects, size_t n, cs_policy_set_t *out);
void cs_policy_set_free(cs_policy_set_t *set);

/* What one policy's decision reads, gathered once. */
typedef struct cs_gathered_s {
    const cs_pv_t **pvs; /* the PVs of the policy's StorageClass (borrowed from the source) */
    size_t pv_count;
    cs_observation_t obs;  /* what Mayastor and Prometheus said about them */
    cs_plan_facts_t facts; /* facts.in is ready for cs_plan_compute, limits included */
    /* Copies of the labels the selection reads (facts' volumes point into
     * them): per pvs[i], its bound claim's; per known Namespace, its own. */
    cs_labels_t *claim_labels;
    cs_labels_t *namespace_labels;
    size_t namespace_count;
} cs_gathered_t;

/* The gather step of a decision for policy (spec validated): selects the
 * policy's PVs, finds each one's bound claim (the claim spec.claimRef
 * names, whose spec.volumeName is the PV) and that claim's Namespace for
 * the plan's selection (cs_plan_volume_selected), observes them (cs_observe: an unreachable Mayastor or
 * Prometheus is recorded in out->obs, not returned), builds the plan input
 * fills in the configuration's dry run, preservation mode and the
 * migration slots left, and marks the volumes another policy owns. Returns 0, or CS_ENOMEM / a cs_plan_facts_build
 * error (err says which policy); out must be freed with cs_gathered_free
 * either way. */
int cs_gather(const cs_gather_source_t *src, const char *policy, const cs_storage_policy_spec_t *spec, int64_t now,
              cs_gathered_t *out, cs_err_t *err);
void cs_gathered_free(cs_gathered_t *g);

/* ---- the operator ----------------------------------------------------------- */

/* Runs `couchestor operator` until *stop becomes non-zero (SIGTERM), then
 * shuts down cleanly: stops taking work, leaves in-flight migrations
 * resumable (their journals stay on the PVs), releases the Lease. Returns 0
 * after a clean shutdown, or a negative code when it could not start. */
int cs_operator_run(const cs_config_t *cfg, const atomic_int *stop, cs_err_t *err);

/* The operator's malloc settings, applied by cs_operator_run before it
 * starts a thread (and by the benchmark that reproduces its reconcile): one
 * malloc arena for every thread. glibc otherwise gives each thread that
 * allocates an arena of its own, and memory freed in one cannot serve
 * another: at 10,000 volumes the query thread's arena alone added ~1 MiB to
 * peak RSS. Per-thread caches (tcache) still serve most small allocations
 * without the arena lock, and the operator's threads mostly wait on I/O. */
void cs_operator_malloc_setup(void);

#endif
