/* lease.c: leader election on a coordination.k8s.io/v1 Lease (client-go's
 * tryAcquireOrRenew, with its fast path for renewals). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/clock.h"
#include "couchestor/kube_lease.h"
#include "couchestor/log.h"
#include "couchestor/rfc3339.h"
#include "kube/internal.h"

struct cs_lease_elector_s {
    cs_kube_client_t *c;
    char *ns, *name, *identity;
    int64_t duration_ns, renew_ns, retry_ns;
    bool keep_on_stop;
    cs_lease_options_t cb;

    atomic_bool leading;
    atomic_llong last_ok_ns; /* start of the last successful acquire/renew */

    /* Elector thread only. */
    json_t *last; /* the Lease as we last wrote it */
    char obs_holder[256];
    char obs_rv[CS__KUBE_RV_MAX + 1];
    char obs_renew[64];
    int64_t obs_time_ns; /* when the record was seen to change (monotonic) */
    cs__kube_rand_t rnd;

    pthread_mutex_t mu; /* holder copy, running, stop signalling */
    pthread_cond_t cond;
    char holder[256];
    bool running;
    atomic_int stop;
    pthread_t thread;
};

static const cs_kube_resource_t CS__LEASES = {"coordination.k8s.io", "v1", "leases", true, "Lease"};

int64_t cs_lease_elector_remaining_ns(const cs_lease_elector_t *e)
{
    cs_lease_elector_t *m = (cs_lease_elector_t *)e;
    if (atomic_load(&m->stop) || !atomic_load(&m->leading))
        return 0;
    int64_t left = atomic_load(&m->last_ok_ns) + e->renew_ns - cs_clock_mono_ns();
    return left > 0 ? left : 0;
}

bool cs_lease_elector_is_leader(const cs_lease_elector_t *e)
{
    return cs_lease_elector_remaining_ns(e) > 0;
}

int cs_lease_write_begin(const cs_lease_elector_t *e, int64_t min_margin_ns, int64_t *token, cs_err_t *err)
{
    *token = -1;
    if (!e)
        return 0;
    if (min_margin_ns <= 0)
        min_margin_ns = CS_LEASE_MIN_WRITE_MARGIN_NS;
    int64_t now = cs_clock_mono_ns();
    int64_t left = cs_lease_elector_remaining_ns(e);
    if (left <= 0)
        return cs_err_set(err, CS_ECANCELED, "this replica does not hold the Lease: no writes");
    if (left < min_margin_ns)
        return cs_err_set(err, CS_ECANCELED,
                          "the Lease is not renewed and this replica stops leading in %lld ms, too soon for a "
                          "write (at least %lld ms): no writes",
                          (long long)(left / 1000000), (long long)(min_margin_ns / 1000000));
    int64_t deadline = now + left;
    int64_t prev = cs_http_thread_deadline(deadline);
    if (prev > 0 && prev < deadline)
        cs_http_thread_deadline(prev); /* an enclosing section ends sooner */
    *token = prev;
    return 0;
}

void cs_lease_write_end(int64_t token)
{
    if (token >= 0)
        cs_http_thread_deadline(token);
}

void cs_lease_elector_holder(cs_lease_elector_t *e, char *buf, size_t len)
{
    pthread_mutex_lock(&e->mu);
    snprintf(buf, len, "%s", e->holder);
    pthread_mutex_unlock(&e->mu);
}

/* One Lease request with a short timeout and no retries of its own: the
 * election loop is the retry. */
static int cs__lease_do(cs_lease_elector_t *e, const char *verb, const char *method, const json_t *obj, json_t **out,
                        int64_t deadline, cs_err_t *err)
{
    char path[1024];
    int rc =
        cs_kube_path(&CS__LEASES, e->ns, strcmp(method, "POST") == 0 ? NULL : e->name, NULL, path, sizeof path, err);
    if (rc)
        return rc;
    char *body = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
    if (obj && !body)
        return cs_err_set(err, CS_ENOMEM, "lease: out of memory");
    long timeout_ms = (long)(e->retry_ns / 1000000);
    if (timeout_ms < 200)
        timeout_ms = 200;
    if (deadline > 0) {
        /* An answer after the deadline is of no use (client-go renews
         * within a context bounded by the renew deadline). */
        int64_t left_ms = (deadline - cs_clock_mono_ns()) / 1000000;
        if (left_ms <= 0) {
            free(body);
            return cs_err_set(err, CS_ETIMEOUT, "lease %s: the renew deadline passed", e->name);
        }
        if (left_ms < timeout_ms)
            timeout_ms = (long)left_ms;
    }
    cs__kube_req_t r = {.verb = verb,
                        .method = method,
                        .res = &CS__LEASES,
                        .ns = e->ns,
                        .name = e->name,
                        .path = path,
                        .content_type = body ? "application/json" : NULL,
                        .body = body,
                        .body_len = body ? strlen(body) : 0,
                        .timeout_ms = timeout_ms,
                        .max_retries = -1};
    rc = cs__kube_do_json(e->c, &r, out, err);
    free(body);
    return rc;
}

static void cs__set_holder(cs_lease_elector_t *e, const char *holder)
{
    pthread_mutex_lock(&e->mu);
    bool changed = strcmp(e->holder, holder) != 0;
    snprintf(e->holder, sizeof e->holder, "%s", holder);
    pthread_mutex_unlock(&e->mu);
    if (changed && e->cb.on_new_leader)
        e->cb.on_new_leader(e->cb.ctx, holder);
}

/* Records the Lease as observed; a change restarts the expiry clock. */
static void cs__observe(cs_lease_elector_t *e, const json_t *lease)
{
    const json_t *spec = json_object_get(lease, "spec");
    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    const char *renew = json_string_value(json_object_get(spec, "renewTime"));
    const char *rv = json_string_value(json_object_get(json_object_get(lease, "metadata"), "resourceVersion"));
    holder = holder ? holder : "";
    renew = renew ? renew : "";
    rv = rv ? rv : "";
    if (strcmp(holder, e->obs_holder) != 0 || strcmp(renew, e->obs_renew) != 0 || strcmp(rv, e->obs_rv) != 0) {
        snprintf(e->obs_holder, sizeof e->obs_holder, "%s", holder);
        snprintf(e->obs_renew, sizeof e->obs_renew, "%s", renew);
        snprintf(e->obs_rv, sizeof e->obs_rv, "%s", rv);
        e->obs_time_ns = cs_clock_mono_ns();
    }
    cs__set_holder(e, holder);
}

/* Fills spec for holding the Lease now. */
static int cs__spec_hold(cs_lease_elector_t *e, json_t *spec, bool was_mine)
{
    char now[CS_RFC3339_MICRO_SIZE];
    cs_rfc3339_format_micro(cs_clock_real_ns(), now, sizeof now);
    int64_t transitions = json_integer_value(json_object_get(spec, "leaseTransitions"));
    int rc = json_object_set_new(spec, "holderIdentity", json_string(e->identity));
    rc |= json_object_set_new(spec, "leaseDurationSeconds", json_integer((e->duration_ns + 999999999) / 1000000000));
    rc |= json_object_set_new(spec, "renewTime", json_string(now));
    if (!was_mine) {
        rc |= json_object_set_new(spec, "acquireTime", json_string(now));
        rc |= json_object_set_new(spec, "leaseTransitions", json_integer(transitions + 1));
    } else if (!json_object_get(spec, "leaseTransitions")) {
        rc |= json_object_set_new(spec, "leaseTransitions", json_integer(0));
    }
    return rc ? CS_ENOMEM : 0;
}

static void cs__keep(cs_lease_elector_t *e, json_t *written)
{
    json_decref(e->last);
    e->last = written;
    cs__observe(e, written);
}

/* client-go's tryAcquireOrRenew: true when we hold the Lease now. Every
 * request ends by deadline (monotonic ns). */
static bool cs__try(cs_lease_elector_t *e, int64_t deadline)
{
    cs_err_t err = {0};
    json_t *got = NULL;
    /* Fast path for a leader: renew the Lease we last wrote, no GET. */
    if (atomic_load(&e->leading) && e->last) {
        json_t *upd = json_deep_copy(e->last);
        if (upd && cs__spec_hold(e, json_object_get(upd, "spec"), true) == 0 &&
            cs__lease_do(e, "UPDATE", "PUT", upd, &got, deadline, &err) == 0) {
            json_decref(upd);
            cs__keep(e, got);
            return true;
        }
        json_decref(upd);
        json_decref(e->last);
        e->last = NULL;
    }
    int rc = cs__lease_do(e, "GET", "GET", NULL, &got, deadline, &err);
    if (rc == CS_ENOTFOUND) {
        char now[CS_RFC3339_MICRO_SIZE];
        cs_rfc3339_format_micro(cs_clock_real_ns(), now, sizeof now);
        json_t *obj =
            json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s,s:I,s:s,s:s,s:i}}", "apiVersion", "coordination.k8s.io/v1", "kind",
                      "Lease", "metadata", "name", e->name, "namespace", e->ns, "spec", "holderIdentity", e->identity,
                      "leaseDurationSeconds", (json_int_t)((e->duration_ns + 999999999) / 1000000000), "acquireTime",
                      now, "renewTime", now, "leaseTransitions", 0);
        rc = obj ? cs__lease_do(e, "CREATE", "POST", obj, &got, deadline, &err) : CS_ENOMEM;
        json_decref(obj);
        if (rc == 0) {
            cs__keep(e, got);
            return true;
        }
        if (rc != CS_EEXISTS)
            CS_DEBUG("lease: create failed", "lease", e->name, "error", err.msg);
        return false;
    }
    if (rc != 0) {
        CS_DEBUG("lease: get failed", "lease", e->name, "error", err.msg);
        return false;
    }
    cs__observe(e, got);
    json_t *spec = json_object_get(got, "spec");
    if (!json_is_object(spec)) {
        spec = json_object();
        json_object_set_new(got, "spec", spec);
    }
    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    bool mine = holder && strcmp(holder, e->identity) == 0;
    int64_t dur_s = json_integer_value(json_object_get(spec, "leaseDurationSeconds"));
    int64_t dur_ns = dur_s > 0 && dur_s < 86400 ? dur_s * 1000000000 : e->duration_ns;
    if (holder && *holder && !mine && e->obs_time_ns + dur_ns > cs_clock_mono_ns()) {
        json_decref(got);
        return false; /* held by another, and not expired by our clock */
    }
    if (cs__spec_hold(e, spec, mine) != 0) {
        json_decref(got);
        return false;
    }
    json_t *written = NULL;
    rc = cs__lease_do(e, "UPDATE", "PUT", got, &written, deadline, &err);
    json_decref(got);
    if (rc != 0) {
        if (rc != CS_ECONFLICT)
            CS_DEBUG("lease: update failed", "lease", e->name, "error", err.msg);
        return false;
    }
    cs__keep(e, written);
    return true;
}

/* Gives the Lease up if we hold it: holderIdentity "", duration 1 s. */
static void cs__release(cs_lease_elector_t *e)
{
    cs_err_t err = {0};
    json_t *got = NULL;
    if (cs__lease_do(e, "GET", "GET", NULL, &got, 0, &err) != 0)
        return;
    json_t *spec = json_object_get(got, "spec");
    const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
    if (holder && strcmp(holder, e->identity) == 0) {
        char now[CS_RFC3339_MICRO_SIZE];
        cs_rfc3339_format_micro(cs_clock_real_ns(), now, sizeof now);
        json_object_set_new(spec, "holderIdentity", json_string(""));
        json_object_set_new(spec, "leaseDurationSeconds", json_integer(1));
        json_object_set_new(spec, "renewTime", json_string(now));
        json_object_set_new(spec, "acquireTime", json_string(now));
        if (cs__lease_do(e, "UPDATE", "PUT", got, NULL, 0, &err) != 0)
            CS_WARN("lease: release failed; the others wait for the lease to expire", "lease", e->name, "error",
                    err.msg);
        else
            CS_INFO("lease released", "lease", e->name, "identity", e->identity);
    }
    json_decref(got);
}

/* Waits ns or until stopped; true when stopped. */
static bool cs__wait(cs_lease_elector_t *e, int64_t ns)
{
    struct timespec dl = cs_clock_deadline(CLOCK_MONOTONIC, ns);
    pthread_mutex_lock(&e->mu);
    while (!atomic_load(&e->stop))
        if (pthread_cond_timedwait(&e->cond, &e->mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&e->mu);
    return atomic_load(&e->stop) != 0;
}

static void cs__stop_leading(cs_lease_elector_t *e, const char *why)
{
    atomic_store(&e->leading, false);
    json_decref(e->last);
    e->last = NULL;
    CS_WARN("lease: stopped leading", "lease", e->name, "identity", e->identity, "reason", why);
    if (e->cb.on_stopped_leading)
        e->cb.on_stopped_leading(e->cb.ctx);
}

static void *cs__run(void *arg)
{
    cs_lease_elector_t *e = arg;
    while (!atomic_load(&e->stop)) {
        if (!atomic_load(&e->leading)) {
            /* An acquisition is of use only if it is still fresh when its
             * answer arrives: is_leader counts from when it began. */
            int64_t t0 = cs_clock_mono_ns();
            if (cs__try(e, t0 + e->renew_ns) && !atomic_load(&e->stop) && cs_clock_mono_ns() - t0 < e->renew_ns) {
                atomic_store(&e->last_ok_ns, t0);
                atomic_store(&e->leading, true);
                CS_INFO("lease: started leading", "lease", e->name, "identity", e->identity);
                if (e->cb.on_started_leading)
                    e->cb.on_started_leading(e->cb.ctx);
                continue; /* renew on schedule from now */
            }
            /* client-go: JitterUntil(retryPeriod, 1.2). */
            int64_t wait = e->retry_ns + (int64_t)(cs__kube_rand_unit(&e->rnd) * 1.2 * (double)e->retry_ns);
            if (cs__wait(e, wait))
                break;
            continue;
        }
        /* Leading: renew every retry period, but wake at the renew deadline
         * at the latest, so that on_stopped_leading runs when is_leader
         * turns false, not one slow request later. */
        int64_t deadline = atomic_load(&e->last_ok_ns) + e->renew_ns;
        int64_t wait = deadline - cs_clock_mono_ns();
        if (wait > e->retry_ns)
            wait = e->retry_ns;
        if (wait > 0 && cs__wait(e, wait))
            break;
        if (atomic_load(&e->stop))
            break;
        int64_t t0 = cs_clock_mono_ns();
        if (t0 >= deadline) {
            cs__stop_leading(e, "renew deadline passed without a successful renewal");
            continue; /* campaign again at once: a later acquisition starts a new term */
        }
        bool ok = cs__try(e, deadline);
        bool other = e->obs_holder[0] && strcmp(e->obs_holder, e->identity) != 0;
        if (ok && cs_clock_mono_ns() < deadline) {
            atomic_store(&e->last_ok_ns, t0);
        } else if (ok) {
            /* The renewal's answer came after the deadline: is_leader was
             * already false, so this term ended; the next acquisition (of a
             * Lease that still names us) starts a new one. */
            cs__stop_leading(e, "the renewal succeeded only after the renew deadline");
        } else if (other) {
            cs__stop_leading(e, "another candidate holds the lease");
        } else if (cs_clock_mono_ns() >= deadline) {
            cs__stop_leading(e, "renew deadline passed without a successful renewal");
        }
    }
    if (atomic_load(&e->leading)) {
        atomic_store(&e->leading, false);
        if (!e->keep_on_stop)
            cs__release(e);
        if (e->cb.on_stopped_leading)
            e->cb.on_stopped_leading(e->cb.ctx);
    }
    return NULL;
}

int cs_lease_elector_new(cs_kube_client_t *c, const cs_lease_options_t *opts, cs_lease_elector_t **out, cs_err_t *err)
{
    *out = NULL;
    if (!c || !opts || !opts->name || !*opts->name || !opts->identity || !*opts->identity)
        return cs_err_set(err, CS_EINVAL, "leader election: a client, a lease name and an identity are required");
    if (strlen(opts->identity) >= 256)
        return cs_err_set(err, CS_EINVAL, "leader election: identity longer than 255 bytes");
    int64_t d = opts->lease_duration_ns > 0 ? opts->lease_duration_ns : CS_LEASE_DEFAULT_DURATION_NS;
    int64_t r = opts->renew_deadline_ns > 0 ? opts->renew_deadline_ns : CS_LEASE_DEFAULT_RENEW_DEADLINE_NS;
    int64_t p = opts->retry_period_ns > 0 ? opts->retry_period_ns : CS_LEASE_DEFAULT_RETRY_PERIOD_NS;
    if (d <= r)
        return cs_err_set(err, CS_EINVAL,
                          "leader election for lease %s: the lease duration (%lld ms) must be greater than "
                          "the renew deadline (%lld ms)",
                          opts->name, (long long)(d / 1000000), (long long)(r / 1000000));
    if ((double)r <= 1.2 * (double)p)
        return cs_err_set(err, CS_EINVAL,
                          "leader election for lease %s: the renew deadline (%lld ms) must be greater than "
                          "1.2 x the retry period (%lld ms)",
                          opts->name, (long long)(r / 1000000), (long long)(p / 1000000));
    cs_lease_elector_t *e = calloc(1, sizeof *e);
    if (!e)
        return cs_err_set(err, CS_ENOMEM, "leader election: out of memory");
    e->c = c;
    e->ns = cs__kube_strdup(opts->namespace && *opts->namespace ? opts->namespace : cs_kube_client_namespace(c));
    e->name = cs__kube_strdup(opts->name);
    e->identity = cs__kube_strdup(opts->identity);
    if (!e->ns || !e->name || !e->identity) {
        free(e->ns);
        free(e->name);
        free(e->identity);
        free(e);
        return cs_err_set(err, CS_ENOMEM, "leader election: out of memory");
    }
    e->duration_ns = d;
    e->renew_ns = r;
    e->retry_ns = p;
    e->keep_on_stop = opts->keep_on_stop;
    e->cb = *opts;
    e->cb.namespace = e->cb.name = e->cb.identity = NULL;
    atomic_init(&e->leading, false);
    atomic_init(&e->last_ok_ns, 0);
    atomic_init(&e->stop, 0);
    cs__kube_rand_seed(&e->rnd, (uintptr_t)e);
    pthread_mutex_init(&e->mu, NULL);
    cs__kube_condattr_mono(&e->cond);
    *out = e;
    return 0;
}

int cs_lease_elector_start(cs_lease_elector_t *e, cs_err_t *err)
{
    pthread_mutex_lock(&e->mu);
    if (e->running) {
        pthread_mutex_unlock(&e->mu);
        return cs_err_set(err, CS_EBUSY, "leader election for lease %s: already running", e->name);
    }
    atomic_store(&e->stop, 0);
    int rc = pthread_create(&e->thread, NULL, cs__run, e);
    if (rc == 0)
        e->running = true;
    pthread_mutex_unlock(&e->mu);
    if (rc != 0)
        return cs_err_set(err, cs_err_from_errno(rc), "leader election: cannot start a thread: %s", strerror(rc));
    return 0;
}

void cs_lease_elector_stop(cs_lease_elector_t *e)
{
    if (!e)
        return;
    /* Writes must stop now, not after the release round trip. */
    atomic_store(&e->stop, 1);
    pthread_mutex_lock(&e->mu);
    bool running = e->running;
    e->running = false;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->mu);
    if (running)
        pthread_join(e->thread, NULL);
    atomic_store(&e->leading, false);
}

void cs_lease_elector_free(cs_lease_elector_t *e)
{
    if (!e)
        return;
    cs_lease_elector_stop(e);
    json_decref(e->last);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->cond);
    free(e->ns);
    free(e->name);
    free(e->identity);
    free(e);
}
