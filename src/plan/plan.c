/* plan.c: the pure tiering decision for one StoragePolicy. */
#include "couchestor/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/duration.h"

static const struct {
    const char *camel, *text;
    cs_plan_event_t event;
    bool blocks;
} cs__reasons[] = {
#define CS__REASON(name, camel, event, blocks, text) {camel, text, CS_PLAN_EVENT_##event, blocks},
    CS_PLAN_REASONS(CS__REASON)
#undef CS__REASON
};
#define CS__NREASONS (sizeof cs__reasons / sizeof cs__reasons[0])

const char *cs_plan_reason_name(cs_plan_reason_t reason)
{
    return (size_t)reason < CS__NREASONS ? cs__reasons[reason].camel : "Unknown";
}

const char *cs_plan_reason_text(cs_plan_reason_t reason)
{
    return (size_t)reason < CS__NREASONS ? cs__reasons[reason].text : "unknown";
}

cs_plan_event_t cs_plan_reason_event(cs_plan_reason_t reason)
{
    return (size_t)reason < CS__NREASONS ? cs__reasons[reason].event : CS_PLAN_EVENT_NONE;
}

bool cs_plan_reason_blocks(cs_plan_reason_t reason)
{
    return (size_t)reason < CS__NREASONS && cs__reasons[reason].blocks;
}

const char *cs_plan_steering_name(cs_plan_steering_t s)
{
    switch (s) {
    case CS_PLAN_STEER_PLACEMENT:
        return "placement-label";
    case CS_PLAN_STEER_CREATED_BY:
        return "created-by";
    case CS_PLAN_STEER_NONE:
        return "none";
    }
    return "unknown";
}

const char *cs_plan_action_name(cs_plan_action_t action)
{
    switch (action) {
    case CS_PLAN_MOVE:
        return "move";
    case CS_PLAN_STAY:
        return "stay";
    case CS_PLAN_SKIP:
        return "skip";
    }
    return "unknown";
}

cs_tier_t cs_plan_pool_tier(const cs_storage_policy_spec_t *spec, const cs_labels_t *labels)
{
    if (spec->hot_pool_selector && !cs_selector_is_empty(spec->hot_pool_selector) &&
        cs_selector_matches(spec->hot_pool_selector, labels))
        return CS_TIER_HOT;
    if (cs_storage_policy_has_warm_tier(spec) && spec->warm_pool_selector &&
        !cs_selector_is_empty(spec->warm_pool_selector) && cs_selector_matches(spec->warm_pool_selector, labels))
        return CS_TIER_WARM;
    if (spec->cold_pool_selector && !cs_selector_is_empty(spec->cold_pool_selector) &&
        cs_selector_matches(spec->cold_pool_selector, labels))
        return CS_TIER_COLD;
    return CS_TIER_UNKNOWN;
}

cs_tier_t cs_plan_wanted_tier(const cs_storage_policy_spec_t *spec, double iops)
{
    if (iops >= (double)spec->high_watermark_iops)
        return CS_TIER_HOT;
    if (iops <= (double)spec->low_watermark_iops)
        return CS_TIER_COLD;
    if (cs_storage_policy_has_warm_tier(spec) && iops <= (double)spec->warm_watermark_iops)
        return CS_TIER_WARM;
    return CS_TIER_UNKNOWN;
}

/* sel against the union of claim and pv, claim winning on a shared key,
 * without building the union: each requirement is matched by the selector
 * code itself against the one label its key has in the union. */
static bool cs__matches_merged(const cs_selector_t *sel, const cs_labels_t *claim, const cs_labels_t *pv)
{
    for (size_t i = 0; i < sel->count; i++) {
        const cs_requirement_t *req = &sel->reqs[i];
        const char *value = claim ? cs_labels_get(claim, req->key) : NULL;
        if (!value && pv)
            value = cs_labels_get(pv, req->key);
        cs_label_t one = {req->key, (char *)value};
        cs_labels_t set = {value ? 1 : 0, &one};
        cs_selector_t single = {1, (cs_requirement_t *)req};
        if (!cs_selector_matches(&single, &set))
            return false;
    }
    return true;
}

bool cs_plan_volume_selected(const cs_storage_policy_spec_t *spec, const cs_plan_volume_t *v)
{
    if (!v->storage_class || !spec->storage_class_name || strcmp(v->storage_class, spec->storage_class_name) != 0)
        return false;
    if (spec->volume_selector && !cs__matches_merged(spec->volume_selector, v->claim_labels, v->labels))
        return false;
    if (spec->namespace_selector && (!v->claim_labels || !v->namespace_labels ||
                                     !cs_selector_matches(spec->namespace_selector, v->namespace_labels)))
        return false;
    return true;
}

const char *cs_plan_volume_owner(const cs_plan_policy_ref_t *policies, size_t n, const cs_plan_volume_t *v)
{
    const cs_plan_policy_ref_t *owner = NULL;
    for (size_t i = 0; i < n; i++) {
        const cs_plan_policy_ref_t *p = &policies[i];
        if (!p->spec || !p->name || !cs_plan_volume_selected(p->spec, v))
            continue;
        if (!owner || p->created < owner->created || (p->created == owner->created && strcmp(p->name, owner->name) < 0))
            owner = p;
    }
    return owner ? owner->name : NULL;
}

/* Mayastor's pool topology predicate (reference mayastor.md 7.2): every
 * requirement's key is on the pool, with the same value unless the
 * requirement's value is empty. No requirements: every pool. */
static bool cs__placement_accepts(const cs_labels_t *required, const cs_labels_t *pool)
{
    if (!required)
        return true;
    for (size_t i = 0; i < required->count; i++) {
        const char *have = pool ? cs_labels_get(pool, required->items[i].key) : NULL;
        const char *want = required->items[i].value;
        if (!have || (want && *want && strcmp(have, want) != 0))
            return false;
    }
    return true;
}

static bool cs__has_selector(const cs_storage_policy_spec_t *spec, cs_tier_t tier)
{
    const cs_selector_t *s = tier == CS_TIER_HOT ? spec->hot_pool_selector
                             : tier == CS_TIER_WARM
                                 ? (cs_storage_policy_has_warm_tier(spec) ? spec->warm_pool_selector : NULL)
                             : tier == CS_TIER_COLD ? spec->cold_pool_selector
                                                    : NULL;
    return s && !cs_selector_is_empty(s);
}

static int cs__tier_rank(cs_tier_t t)
{
    return t == CS_TIER_HOT ? 3 : t == CS_TIER_WARM ? 2 : t == CS_TIER_COLD ? 1 : 0;
}

/* Pools sorted by id for lookups by replica. */
typedef struct {
    const cs_plan_input_t *in;
    size_t *order;      /* pool indices sorted by id */
    cs_tier_t *tier;    /* per pool */
    uint64_t *reserved; /* bytes promised to moves in this plan */
} cs__pools_t;

static int cs__pool_cmp(const void *a, const void *b, void *arg)
{
    const cs_plan_pool_t *p = arg;
    return strcmp(p[*(const size_t *)a].id, p[*(const size_t *)b].id);
}

static long cs__pool_find(const cs__pools_t *pools, const char *id)
{
    size_t lo = 0, hi = pools->in->pool_count;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(pools->in->pools[pools->order[mid]].id, id);
        if (c == 0)
            return (long)pools->order[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

typedef struct {
    size_t item; /* index into plan items */
    int promote; /* 1 when moving to a hotter tier */
    double iops;
    const char *name;
} cs__candidate_t;

static int cs__cand_cmp(const void *a, const void *b)
{
    const cs__candidate_t *x = a, *y = b;
    if (x->promote != y->promote)
        return y->promote - x->promote; /* promotions first: a hot volume on slow disks hurts most */
    if (x->iops != y->iops) {
        if (x->promote)
            return x->iops > y->iops ? -1 : 1; /* hottest first */
        return x->iops < y->iops ? -1 : 1;     /* coldest first */
    }
    return strcmp(x->name, y->name);
}

/* Best target pool of `wanted` for volume v: Online, on a schedulable node
 * holding no replica of v, with room for its size (after what this plan
 * already promised), and accepted by v's placement requirements as its
 * labels are now (a pool without the placement label was left out of
 * tiering by someone: the operator does not put it back in); most free
 * space first, then id. -1 when none. */
static long cs__pick_target(const cs__pools_t *pools, const cs_plan_volume_t *v, cs_tier_t wanted)
{
    const cs_plan_input_t *in = pools->in;
    long best = -1;
    uint64_t best_free = 0;
    for (size_t k = 0; k < in->pool_count; k++) {
        size_t i = pools->order[k];
        const cs_plan_pool_t *p = &in->pools[i];
        if (pools->tier[i] != wanted || !p->online || p->unschedulable ||
            !cs__placement_accepts(v->placement, p->placement_labels))
            continue;
        uint64_t used = p->used + pools->reserved[i];
        if (used > p->capacity || p->capacity - used < v->size)
            continue;
        bool node_taken = false;
        for (size_t r = 0; r < v->replica_count && !node_taken; r++)
            node_taken = v->replicas[r].node && p->node && strcmp(v->replicas[r].node, p->node) == 0;
        if (node_taken)
            continue;
        uint64_t free_bytes = p->capacity - used;
        if (best < 0 || free_bytes > best_free) {
            best = (long)i;
            best_free = free_bytes;
        }
    }
    return best;
}

void cs_plan_free(cs_plan_t *plan)
{
    if (!plan)
        return;
    free(plan->items);
    memset(plan, 0, sizeof *plan);
}

int cs_plan_compute(const cs_plan_input_t *in, cs_plan_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!in || !in->spec)
        return cs_err_set(err, CS_EINVAL, "plan: no policy spec given");
    if (in->volume_count > INT32_MAX || in->pool_count > INT32_MAX)
        return cs_err_set(err, CS_EINVAL, "plan: %zu volumes and %zu pools: at most %d of each", in->volume_count,
                          in->pool_count, INT32_MAX);
    const cs_storage_policy_spec_t *spec = in->spec;
    cs__pools_t pools = {.in = in};
    pools.order = malloc((in->pool_count + 1) * sizeof *pools.order);
    pools.tier = malloc((in->pool_count + 1) * sizeof *pools.tier);
    pools.reserved = calloc(in->pool_count + 1, sizeof *pools.reserved);
    out->items = malloc((in->volume_count + 1) * sizeof *out->items);
    cs__candidate_t *cands = malloc((in->volume_count + 1) * sizeof *cands);
    if (!pools.order || !pools.tier || !pools.reserved || !out->items || !cands) {
        free(pools.order);
        free(pools.tier);
        free(pools.reserved);
        free(cands);
        cs_plan_free(out);
        return cs_err_set(err, CS_ENOMEM, "plan for policy '%s': out of memory",
                          in->policy_name ? in->policy_name : "");
    }
    for (size_t i = 0; i < in->pool_count; i++) {
        pools.order[i] = i;
        pools.tier[i] = cs_plan_pool_tier(spec, in->pools[i].labels);
    }
    qsort_r(pools.order, in->pool_count, sizeof *pools.order, cs__pool_cmp, (void *)in->pools);

    size_t ncand = 0;
    for (size_t vi = 0; vi < in->volume_count; vi++) {
        const cs_plan_volume_t *v = &in->volumes[vi];
        if (!cs_plan_volume_selected(spec, v))
            continue;
        cs_plan_item_t *it = &out->items[out->count++];
        memset(it, 0, sizeof *it);
        it->volume = (uint32_t)vi;
        it->source_pool = -1;
        it->target_pool = -1;
        it->action = CS_PLAN_SKIP;
        out->watched++;

        /* Current tier: the tiers of the pools holding its replicas. */
        unsigned tiers = 0; /* bit per tier rank */
        int per_rank[4] = {0};
        bool unknown_pool = false;
        for (size_t r = 0; r < v->replica_count; r++) {
            long p = v->replicas[r].pool ? cs__pool_find(&pools, v->replicas[r].pool) : -1;
            cs_tier_t t = p >= 0 ? pools.tier[p] : CS_TIER_UNKNOWN;
            if (t == CS_TIER_UNKNOWN) {
                unknown_pool = true;
            } else {
                tiers |= 1u << cs__tier_rank(t);
                per_rank[cs__tier_rank(t)]++;
            }
        }
        int top_rank = 0;
        for (int rank = 3; rank >= 1; rank--)
            if (tiers & (1u << rank)) {
                top_rank = rank;
                break;
            }
        bool single = tiers && (tiers & (tiers - 1)) == 0 && !unknown_pool;
        it->current = single ? (top_rank == 3   ? CS_TIER_HOT
                                : top_rank == 2 ? CS_TIER_WARM
                                                : CS_TIER_COLD)
                             : CS_TIER_UNKNOWN;
        /* Count the volume where most of its replicas are (hotter on a tie),
         * so that hot + warm + cold covers every volume with a known tier. */
        int majority = 0, best = 0;
        for (int rank = 3; rank >= 1; rank--)
            if (per_rank[rank] > best) {
                best = per_rank[rank];
                majority = rank;
            }
        if (v->owner)
            majority = 0; /* counted by its owner */
        if (majority == 3)
            out->hot++;
        else if (majority == 2)
            out->warm++;
        else if (majority == 1)
            out->cold++;

        if (v->owner) {
            /* another policy decides: not counted as this one's */
            out->watched--;
            out->other_policy++;
            it->action = CS_PLAN_STAY;
            it->reason = CS_PLAN_REASON_OTHER_POLICY;
            continue;
        }
        if (!v->found) {
            it->reason = CS_PLAN_REASON_NOT_FOUND;
            continue;
        }
        if ((size_t)v->steering < sizeof out->steering / sizeof out->steering[0])
            out->steering[v->steering]++;
        if (v->migrating) {
            it->reason = CS_PLAN_REASON_ALREADY_MIGRATING;
            continue;
        }
        if (!v->iops_known) {
            it->reason = v->iops_young ? CS_PLAN_REASON_WINDOW_NOT_COVERED : CS_PLAN_REASON_UNKNOWN_IOPS;
            continue;
        }
        cs_tier_t wanted = cs_plan_wanted_tier(spec, v->iops);
        it->wanted = wanted;
        if (wanted == CS_TIER_UNKNOWN) {
            it->action = CS_PLAN_STAY;
            it->reason = CS_PLAN_REASON_IN_BAND;
            continue;
        }
        /* On the wanted tier: every replica there; in preservation mode (old
         * replicas are kept on purpose) one replica there is enough. */
        int on_wanted = per_rank[cs__tier_rank(wanted)];
        bool continuing = on_wanted > 0; /* part of the volume already moved */
        if (on_wanted > 0 && (in->preservation_mode || (size_t)on_wanted == v->replica_count)) {
            it->action = CS_PLAN_STAY;
            it->reason = CS_PLAN_REASON_IN_PLACE;
            it->partial = (size_t)on_wanted < v->replica_count;
            continue;
        }
        if (wanted == CS_TIER_WARM && it->current == CS_TIER_COLD &&
            v->iops <= (double)spec->low_watermark_iops * (1.0 + CS_PLAN_HYSTERESIS)) {
            it->action = CS_PLAN_STAY;
            it->reason = CS_PLAN_REASON_HYSTERESIS;
            continue;
        }
        if (!tiers) {
            it->reason = CS_PLAN_REASON_UNKNOWN_TIER;
            continue;
        }
        if (!cs__has_selector(spec, wanted)) {
            it->reason = CS_PLAN_REASON_NO_TIER_SELECTOR;
            continue;
        }
        int64_t cooldown_s = spec->cooldown_period_ns / CS_NSEC_PER_SEC;
        /* Cooldown guards tier changes, not the next replica of a change
         * already under way: the volume still wants the tier its last move
         * went to (a volume on several tiers that wants another one back
         * waits like any other). */
        if (continuing) {
            long last = v->last_target_pool ? cs__pool_find(&pools, v->last_target_pool) : -1;
            continuing = last >= 0 && pools.tier[last] == wanted;
        }
        if (!continuing && v->last_migration_end > 0 && in->now < v->last_migration_end + cooldown_s) {
            it->reason = CS_PLAN_REASON_COOLDOWN;
            continue;
        }
        if (v->retry_after > in->now) {
            it->reason = CS_PLAN_REASON_BACKOFF;
            continue;
        }
        if (v->refused_until > in->now) {
            it->reason = CS_PLAN_REASON_REFUSED;
            continue;
        }
        /* Before the limits: a volume nothing can steer never takes a
         * slot another could use. */
        if (v->steering == CS_PLAN_STEER_NONE) {
            it->reason = CS_PLAN_REASON_NOT_STEERABLE;
            continue;
        }
        if (v->steering == CS_PLAN_STEER_CREATED_BY && !in->created_by_steering) {
            it->reason = CS_PLAN_REASON_NEEDS_CREATED_BY;
            continue;
        }
        if (in->no_label_endpoints) {
            it->reason = CS_PLAN_REASON_NO_LABEL_ENDPOINTS;
            continue;
        }
        if (v->affinity_group) {
            it->reason = CS_PLAN_REASON_AFFINITY_GROUP;
            continue;
        }
        if (v->busy) {
            it->reason = CS_PLAN_REASON_OPERATION_IN_PROGRESS;
            continue;
        }
        if (!v->published) {
            it->reason = CS_PLAN_REASON_UNPUBLISHED;
            continue;
        }
        if (!v->online) {
            it->reason = CS_PLAN_REASON_NOT_ONLINE;
            continue;
        }
        /* Source: a replica whose pool is not on the wanted tier, first by pool id. */
        for (size_t r = 0; r < v->replica_count; r++) {
            long p = v->replicas[r].pool ? cs__pool_find(&pools, v->replicas[r].pool) : -1;
            if (p >= 0 && pools.tier[p] != wanted &&
                (it->source_pool < 0 || strcmp(in->pools[p].id, in->pools[it->source_pool].id) < 0))
                it->source_pool = (int32_t)p;
        }
        cands[ncand].item = out->count - 1;
        cands[ncand].promote = cs__tier_rank(wanted) > top_rank;
        cands[ncand].iops = v->iops;
        cands[ncand].name = v->name;
        ncand++;
    }

    qsort(cands, ncand, sizeof *cands, cs__cand_cmp);
    bool dry = in->global_dry_run || spec->dry_run;
    size_t started = 0;
    size_t policy_max = spec->max_concurrent_migrations > 0 ? (size_t)spec->max_concurrent_migrations : 0;
    for (size_t c = 0; c < ncand; c++) {
        cs_plan_item_t *it = &out->items[cands[c].item];
        const cs_plan_volume_t *v = &in->volumes[it->volume];
        it->promote = cands[c].promote;
        long target = cs__pick_target(&pools, v, it->wanted);
        if (target < 0) {
            it->reason = CS_PLAN_REASON_NO_ELIGIBLE_POOL;
            continue;
        }
        if (in->active_migrations + started >= policy_max) {
            it->reason = CS_PLAN_REASON_POLICY_LIMIT;
            it->running = (uint32_t)(in->active_migrations + started);
            continue;
        }
        if (started >= in->global_slots) {
            it->reason = CS_PLAN_REASON_GLOBAL_LIMIT;
            continue;
        }
        started++;
        pools.reserved[target] += v->size;
        it->target_pool = (int32_t)target;
        if (dry) {
            it->reason = CS_PLAN_REASON_DRY_RUN;
            continue;
        }
        it->action = CS_PLAN_MOVE;
        out->moves++;
        it->reason = cands[c].promote ? CS_PLAN_REASON_PROMOTE : CS_PLAN_REASON_DEMOTE;
    }
    free(cands);
    free(pools.order);
    free(pools.tier);
    free(pools.reserved);
    return 0;
}

const char *cs_plan_item_detail(const cs_plan_input_t *in, const cs_plan_item_t *it, char *buf, size_t len)
{
    const cs_storage_policy_spec_t *spec = in->spec;
    const cs_plan_volume_t *v = &in->volumes[it->volume];
    const char *want = cs_tier_name(it->wanted);
    char left[32];
    switch (it->reason) {
    case CS_PLAN_REASON_NOT_FOUND:
        snprintf(buf, len, "no Mayastor volume for PV %s", v->name);
        break;
    case CS_PLAN_REASON_ALREADY_MIGRATING:
        snprintf(buf, len, "a migration is in progress (journaled on the PV)");
        break;
    case CS_PLAN_REASON_UNKNOWN_IOPS:
        snprintf(buf, len, "no IOPS sample over samplingWindow %s", spec->sampling_window ? spec->sampling_window : "");
        break;
    case CS_PLAN_REASON_WINDOW_NOT_COVERED:
        snprintf(buf, len, "its IOPS series does not yet cover the share of samplingWindow %s the operator requires",
                 spec->sampling_window ? spec->sampling_window : "");
        break;
    case CS_PLAN_REASON_IN_BAND:
        if (cs_storage_policy_has_warm_tier(spec))
            snprintf(buf, len, "IOPS %.1f is between warmWatermarkIOPS %lld and highWatermarkIOPS %lld", v->iops,
                     (long long)spec->warm_watermark_iops, (long long)spec->high_watermark_iops);
        else
            snprintf(buf, len, "IOPS %.1f is between lowWatermarkIOPS %lld and highWatermarkIOPS %lld", v->iops,
                     (long long)spec->low_watermark_iops, (long long)spec->high_watermark_iops);
        break;
    case CS_PLAN_REASON_IN_PLACE:
        if (in->preservation_mode && it->partial)
            snprintf(buf, len, "IOPS %.1f wants %s; a replica is on %s (preservation mode keeps the others)", v->iops,
                     want, want);
        else
            snprintf(buf, len, "IOPS %.1f wants %s; every replica is on %s", v->iops, want, want);
        break;
    case CS_PLAN_REASON_HYSTERESIS:
        snprintf(buf, len, "IOPS %.1f is within %.0f%% above lowWatermarkIOPS %lld: stays cold", v->iops,
                 CS_PLAN_HYSTERESIS * 100, (long long)spec->low_watermark_iops);
        break;
    case CS_PLAN_REASON_UNKNOWN_TIER:
        snprintf(buf, len, "none of its %zu replicas is on a pool a tier selector matches", v->replica_count);
        break;
    case CS_PLAN_REASON_NO_TIER_SELECTOR:
        snprintf(buf, len, "IOPS %.1f wants %s, but spec.%sPoolSelector is not set", v->iops, want, want);
        break;
    case CS_PLAN_REASON_COOLDOWN:
        cs_duration_format((v->last_migration_end + spec->cooldown_period_ns / CS_NSEC_PER_SEC - in->now) *
                               CS_NSEC_PER_SEC,
                           left, sizeof left);
        snprintf(buf, len, "IOPS %.1f wants %s; cooldown ends in %s", v->iops, want, left);
        break;
    case CS_PLAN_REASON_BACKOFF:
        cs_duration_format((v->retry_after - in->now) * CS_NSEC_PER_SEC, left, sizeof left);
        snprintf(buf, len, "IOPS %.1f wants %s; the last migration failed, next attempt in %s", v->iops, want, left);
        break;
    case CS_PLAN_REASON_REFUSED:
        cs_duration_format((v->refused_until - in->now) * CS_NSEC_PER_SEC, left, sizeof left);
        snprintf(buf, len,
                 "IOPS %.1f wants %s; its last migration was refused (see its MigrationRefused Event), "
                 "next attempt in %s",
                 v->iops, want, left);
        break;
    case CS_PLAN_REASON_UNPUBLISHED:
        snprintf(buf, len, "IOPS %.1f wants %s; the volume has no target", v->iops, want);
        break;
    case CS_PLAN_REASON_NOT_ONLINE:
        snprintf(buf, len, "IOPS %.1f wants %s; the volume is not Online", v->iops, want);
        break;
    case CS_PLAN_REASON_NO_ELIGIBLE_POOL:
        snprintf(buf, len,
                 "IOPS %.1f wants %s; no %s pool is Online with %llu bytes free on a schedulable node without a "
                 "replica%s",
                 v->iops, want, want, (unsigned long long)v->size,
                 v->placement && v->placement->count ? " and the labels its pool topology requires" : "");
        break;
    case CS_PLAN_REASON_OTHER_POLICY:
        snprintf(buf, len, "StoragePolicy %s selects it too and is older: it decides", v->owner ? v->owner : "?");
        break;
    case CS_PLAN_REASON_NOT_STEERABLE:
        snprintf(buf, len,
                 "IOPS %.1f wants %s; its pool topology requires no pool label (StorageClass %s): Mayastor may put "
                 "a new replica on any pool",
                 v->iops, want, v->storage_class ? v->storage_class : "?");
        break;
    case CS_PLAN_REASON_NEEDS_CREATED_BY:
        snprintf(buf, len,
                 "IOPS %.1f wants %s; StorageClass %s has no poolHasTopologyKey for the placement label: set the "
                 "policy's createdBySteering to move it",
                 v->iops, want, v->storage_class ? v->storage_class : "?");
        break;
    case CS_PLAN_REASON_POLICY_LIMIT:
        snprintf(buf, len, "IOPS %.1f wants %s; %u of maxConcurrentMigrations %lld running", v->iops, want,
                 (unsigned)it->running,
                 (long long)(spec->max_concurrent_migrations > 0 ? spec->max_concurrent_migrations : 0));
        break;
    case CS_PLAN_REASON_GLOBAL_LIMIT:
        snprintf(buf, len, "IOPS %.1f wants %s; the operator-wide limit is reached", v->iops, want);
        break;
    case CS_PLAN_REASON_DRY_RUN:
    case CS_PLAN_REASON_PROMOTE:
    case CS_PLAN_REASON_DEMOTE: {
        /* The watermark that decided it. */
        const char *op = ">=", *mark_name = "highWatermarkIOPS";
        long long mark = (long long)spec->high_watermark_iops;
        if (it->wanted == CS_TIER_COLD) {
            op = "<=";
            mark_name = "lowWatermarkIOPS";
            mark = (long long)spec->low_watermark_iops;
        } else if (it->wanted == CS_TIER_WARM && it->promote) {
            op = ">";
            mark_name = "lowWatermarkIOPS";
            mark = (long long)spec->low_watermark_iops;
        } else if (it->wanted == CS_TIER_WARM) {
            op = "<=";
            mark_name = "warmWatermarkIOPS";
            mark = (long long)spec->warm_watermark_iops;
        }
        const char *from = it->source_pool >= 0 ? in->pools[it->source_pool].id : "?";
        const char *to = it->target_pool >= 0 ? in->pools[it->target_pool].id : "?";
        snprintf(buf, len, "IOPS %.1f %s %s %lld: %s%s -> %s (pool %s -> %s)", v->iops, op, mark_name, mark,
                 it->reason == CS_PLAN_REASON_DRY_RUN ? "would move " : "", cs_tier_name(it->current), want, from, to);
        break;
    }
    default:
        snprintf(buf, len, "%s", cs_plan_reason_text(it->reason));
        break;
    }
    return buf;
}
