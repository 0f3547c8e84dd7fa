/* Integration tests of leader election on a Lease against the API
 * stand-in: the Lease's fields, release on stop, two electors (and two
 * processes) that never both lead, takeover only after the lease expires
 * when the leader vanishes, leadership that ends at once when the renew
 * deadline passes (callbacks included, and a late renewal starting a new
 * term), and the write gate that ends writes by the renew deadline. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/http.h"
#include "couchestor/kube.h"
#include "couchestor/kube_lease.h"
#include "kube/standin.h"

static standin_t S;

static void up(void)
{
    standin_start(&S, NULL);
}

static void down(void)
{
    standin_stop(&S);
}

TestSuite(lease, .init = up, .fini = down, .timeout = 60);

#define MS (INT64_C(1000000))

typedef struct cand_s {
    cs_kube_client_t *c;
    cs_lease_elector_t *e;
    atomic_int started, stopped;
} cand_t;

static void on_started(void *ctx)
{
    atomic_fetch_add(&((cand_t *)ctx)->started, 1);
}

static void on_stopped(void *ctx)
{
    atomic_fetch_add(&((cand_t *)ctx)->stopped, 1);
}

static void cand_new(cand_t *k, const char *identity, bool keep)
{
    memset(k, 0, sizeof *k);
    k->c = standin_client(&S, NULL, NULL);
    cs_lease_options_t o = {.namespace = "kube-system",
                            .name = "couchestor",
                            .identity = identity,
                            .lease_duration_ns = 2000 * MS,
                            .renew_deadline_ns = 1200 * MS,
                            .retry_period_ns = 200 * MS,
                            .keep_on_stop = keep,
                            .on_started_leading = on_started,
                            .on_stopped_leading = on_stopped,
                            .ctx = k};
    cs_err_t err = {0};
    cr_assert_eq(cs_lease_elector_new(k->c, &o, &k->e, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_lease_elector_start(k->e, &err), 0, "%s", err.msg);
}

static void cand_free(cand_t *k)
{
    cs_lease_elector_free(k->e);
    cs_kube_client_free(k->c);
}

static json_t *lease_get(void)
{
    char *body = NULL;
    long st = standin_raw(&S, "GET", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/couchestor", NULL,
                          NULL, &body);
    json_t *j = st == 200 ? json_loads(body, 0, NULL) : NULL;
    free(body);
    return j;
}

static const char *spec_str(json_t *l, const char *k)
{
    return json_string_value(json_object_get(json_object_get(l, "spec"), k));
}

static long long spec_int(json_t *l, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(l, "spec"), k));
}

static bool is_micro_time(const char *s)
{
    regex_t re;
    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED | REG_NOSUB);
    bool ok = s && regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static bool renewed_after(const char *prev)
{
    json_t *l = lease_get();
    bool r = l && spec_str(l, "renewTime") && strcmp(spec_str(l, "renewTime"), prev) != 0;
    json_decref(l);
    return r;
}

Test(lease, acquires_renews_and_releases)
{
    cand_t a;
    cand_new(&a, "pod-a_1", false);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    /* is_leader turns true before on_started_leading runs on the elector's thread. */
    cr_expect(STANDIN_WAIT(atomic_load(&a.started) == 1, 2000), "on_started_leading was not called");
    json_t *l = lease_get();
    cr_assert_not_null(l);
    cr_expect_str_eq(spec_str(l, "holderIdentity"), "pod-a_1");
    cr_expect_eq(spec_int(l, "leaseDurationSeconds"), 2);
    cr_expect_eq(spec_int(l, "leaseTransitions"), 0);
    cr_expect(is_micro_time(spec_str(l, "acquireTime")), "%s", spec_str(l, "acquireTime"));
    cr_expect(is_micro_time(spec_str(l, "renewTime")), "%s", spec_str(l, "renewTime"));
    char renew[64], acquire[64];
    snprintf(renew, sizeof renew, "%s", spec_str(l, "renewTime"));
    snprintf(acquire, sizeof acquire, "%s", spec_str(l, "acquireTime"));
    json_decref(l);
    cr_assert(STANDIN_WAIT(renewed_after(renew), 3000), "the leader renews every retry period");
    l = lease_get();
    cr_expect_str_eq(spec_str(l, "acquireTime"), acquire, "a renewal keeps acquireTime");
    cr_expect_eq(spec_int(l, "leaseTransitions"), 0);
    json_decref(l);
    char holder[64];
    cs_lease_elector_holder(a.e, holder, sizeof holder);
    cr_expect_str_eq(holder, "pod-a_1");

    cs_lease_elector_stop(a.e);
    cr_expect_not(cs_lease_elector_is_leader(a.e));
    cr_expect_eq(atomic_load(&a.stopped), 1);
    l = lease_get();
    cr_expect_str_eq(spec_str(l, "holderIdentity"), "", "released on a clean stop");
    cr_expect_eq(spec_int(l, "leaseDurationSeconds"), 1);
    json_decref(l);
    cand_free(&a);
}

typedef struct watch_s {
    cand_t *a, *b;
    atomic_int stop;
    atomic_int overlaps;
    atomic_long samples;
} watch_t;

static void *sampler(void *arg)
{
    watch_t *w = arg;
    while (!atomic_load(&w->stop)) {
        bool x = cs_lease_elector_is_leader(w->a->e);
        bool y = cs_lease_elector_is_leader(w->b->e);
        if (x && y)
            atomic_fetch_add(&w->overlaps, 1);
        atomic_fetch_add(&w->samples, 1);
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static bool someone_leads(cand_t *a, cand_t *b)
{
    return cs_lease_elector_is_leader(a->e) || cs_lease_elector_is_leader(b->e);
}

Test(lease, two_electors_never_both_lead)
{
    cand_t a, b;
    cand_new(&a, "pod-a", false);
    cand_new(&b, "pod-b", false);
    watch_t w = {.a = &a, .b = &b};
    pthread_t t;
    pthread_create(&t, NULL, sampler, &w);
    cr_assert(STANDIN_WAIT(someone_leads(&a, &b), 5000));
    /* Both keep campaigning for a while (the sampler checks safety). */
    int64_t until = standin_now_ms() + 1500;
    while (standin_now_ms() < until)
        standin_nap();
    cr_assert(STANDIN_WAIT(someone_leads(&a, &b), 5000));
    cand_t *leader = cs_lease_elector_is_leader(a.e) ? &a : &b;
    cand_t *other = leader == &a ? &b : &a;
    /* A clean stop releases: the other takes over without waiting for expiry. */
    int64_t t0 = standin_now_ms();
    cs_lease_elector_stop(leader->e);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(other->e), 5000));
    cr_expect_lt(standin_now_ms() - t0, 1500, "released, so no lease expiry (2 s) to wait for");
    json_t *l = lease_get();
    cr_expect_eq(spec_int(l, "leaseTransitions"), 1);
    json_decref(l);
    /* The first comes back as a candidate and stays one. */
    cs_err_t err = {0};
    cr_assert_eq(cs_lease_elector_start(leader->e, &err), 0, "%s", err.msg);
    until = standin_now_ms() + 1000;
    while (standin_now_ms() < until)
        standin_nap();
    atomic_store(&w.stop, 1);
    pthread_join(t, NULL);
    cr_expect_eq(atomic_load(&w.overlaps), 0);
    cr_expect_gt(atomic_load(&w.samples), 100);
    cand_free(&a);
    cand_free(&b);
}

Test(lease, vanished_leader_is_replaced_only_after_expiry)
{
    cand_t a, b;
    cand_new(&a, "pod-a", true);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    cand_new(&b, "pod-b", false);
    int64_t until = standin_now_ms() + 400;
    while (standin_now_ms() < until)
        standin_nap(); /* let b observe a's renewals */
    cr_expect_not(cs_lease_elector_is_leader(b.e));
    /* a disappears without releasing (keep_on_stop: as if killed), right
     * after a renewal seen here: that renewal was written after `seen`
     * (the start of the last read that did not have it yet), so b's clock
     * for it starts after `seen` too. (Counting from "one retry period
     * before the stop" fails when load delays a's last renewal.) */
    int64_t seen = 0, cur = standin_now_ms();
    json_t *l = lease_get();
    cr_assert_not_null(l);
    char renew[64];
    snprintf(renew, sizeof renew, "%s", spec_str(l, "renewTime"));
    json_decref(l);
    cr_assert(STANDIN_WAIT((seen = cur, cur = standin_now_ms(), renewed_after(renew)), 3000));
    cs_lease_elector_stop(a.e);
    cr_expect_not(cs_lease_elector_is_leader(a.e));
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(b.e), 5000));
    int64_t took = standin_now_ms() - seen;
    cr_expect_geq(took, 2000 - 20, "b waited for the lease to expire (%lld ms after a's last renewal)",
                  (long long)took);
    l = lease_get();
    cr_expect_str_eq(spec_str(l, "holderIdentity"), "pod-b");
    cr_expect_eq(spec_int(l, "leaseTransitions"), 1);
    json_decref(l);
    cand_free(&a);
    cand_free(&b);
}

Test(lease, leadership_ends_at_the_renew_deadline)
{
    cand_t a;
    cand_new(&a, "pod-a", false);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    /* The API server becomes unreachable for the Lease. */
    standin_fault(&S, "{\"type\":\"error\",\"code\":503,\"path\":\"/leases\",\"count\":-1}");
    int64_t t0 = standin_now_ms();
    /* The last successful renewal began before t0, so at t0 + 1200 ms the
     * elector must already say no, whatever its thread is doing. */
    while (standin_now_ms() < t0 + 1201)
        standin_nap();
    cr_expect_not(cs_lease_elector_is_leader(a.e));
    cr_assert(STANDIN_WAIT(atomic_load(&a.stopped) == 1, 3000), "on_stopped_leading was not called");
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000), "leads again once the server answers");
    cr_expect(STANDIN_WAIT(atomic_load(&a.started) == 2, 2000), "on_started_leading was not called again");
    cand_free(&a);
}

Test(lease, a_renewal_after_the_deadline_starts_a_new_term)
{
    cand_t a;
    cand_new(&a, "pod-a", false);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    cr_assert(STANDIN_WAIT(atomic_load(&a.started) == 1, 2000), "on_started_leading was not called");
    standin_fault(&S, "{\"type\":\"error\",\"code\":503,\"path\":\"/leases\",\"count\":-1}");
    cr_assert(STANDIN_WAIT(!cs_lease_elector_is_leader(a.e), 3000));
    /* The server answers again right after the renew deadline: the next
     * renewal succeeds, but this replica had already stopped leading. */
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000), "leads again once the server answers");
    cr_expect_eq(atomic_load(&a.stopped), 1, "the term that passed its renew deadline ended (on_stopped_leading)");
    cr_expect(STANDIN_WAIT(atomic_load(&a.started) == 2, 2000), "the next one began (on_started_leading)");
    cand_free(&a);
}

Test(lease, on_stopped_leading_runs_at_the_deadline)
{
    cand_t a;
    cand_new(&a, "pod-a", false);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    /* Lease requests hang: each renewal attempt runs into its timeout. */
    standin_fault(&S, "{\"type\":\"delay\",\"seconds\":5,\"path\":\"/leases\",\"count\":-1}");
    cr_assert(STANDIN_WAIT(!cs_lease_elector_is_leader(a.e), 3000));
    int64_t t0 = standin_now_ms();
    /* Not one or two slow requests later (up to 600 ms with these periods):
     * the thread wakes at the deadline (the bound leaves room for load). */
    cr_expect(STANDIN_WAIT(atomic_load(&a.stopped) == 1, 450),
              "on_stopped_leading ran %lld ms after is_leader turned false", (long long)(standin_now_ms() - t0));
    standin_raw(&S, "DELETE", "/_control/faults", NULL, NULL, NULL);
    cand_free(&a);
}

Test(lease, writes_end_by_the_renew_deadline)
{
    cand_t a;
    cand_new(&a, "pod-a", false);
    cr_assert(STANDIN_WAIT(cs_lease_elector_is_leader(a.e), 5000));
    int64_t left = cs_lease_elector_remaining_ns(a.e);
    cr_expect(left > 0 && left <= 1200 * MS, "%lld", (long long)left);
    int64_t tok = 0;
    cs_err_t err = {0};
    cr_expect_eq(cs_lease_write_begin(NULL, 0, &tok, &err), 0, "no leader election: no gate");
    cs_lease_write_end(tok);
    cr_expect_eq(cs_http_thread_deadline(0), 0);
    cr_expect_eq(cs_lease_write_begin(a.e, 5000 * MS, &tok, &err), CS_ECANCELED,
                 "less than the minimum margin left: refused");
    cr_expect(strstr(err.msg, "too soon for a write") != NULL, "%s", err.msg);
    cr_expect_eq(cs_http_thread_deadline(0), 0, "a refusal sets no deadline");

    /* A write the server takes 3 s to answer ends at the renew deadline. */
    standin_fault(&S, "{\"type\":\"delay\",\"seconds\":3,\"method\":\"PATCH\",\"path\":\"/persistentvolumes\"}");
    cr_assert_eq(cs_lease_write_begin(a.e, 100 * MS, &tok, &err), 0, "%s", err.msg);
    left = cs_lease_elector_remaining_ns(a.e);
    int64_t t0 = standin_now_ms();
    json_t *patch = json_pack("{s:{s:{s:s}}}", "metadata", "annotations", "a", "b");
    int rc = cs_kube_patch(a.c, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, "pv-x", CS_KUBE_PATCH_MERGE, patch, NULL, &err);
    int64_t took = standin_now_ms() - t0;
    cs_lease_write_end(tok);
    cr_expect_eq(rc, CS_ETIMEOUT, "%d: %s", rc, err.msg);
    cr_expect_leq(took, left / MS + 800, "the write took %lld ms, %lld ms were left", (long long)took,
                  (long long)(left / MS));
    cr_expect_eq(cs_http_thread_deadline(0), 0, "the section's deadline is gone after cs_lease_write_end");
    /* Outside a section, the same write waits for the server. */
    t0 = standin_now_ms();
    rc = cs_kube_patch(a.c, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, "pv-x", CS_KUBE_PATCH_MERGE, patch, NULL, &err);
    cr_expect_eq(rc, CS_ENOTFOUND, "%d: %s", rc, err.msg);
    cr_expect_geq(standin_now_ms() - t0, 2900);
    json_decref(patch);

    cs_lease_elector_stop(a.e);
    cr_expect_eq(cs_lease_elector_remaining_ns(a.e), 0);
    cr_expect_eq(cs_lease_write_begin(a.e, 0, &tok, &err), CS_ECANCELED);
    cr_expect(strstr(err.msg, "does not hold the Lease") != NULL, "%s", err.msg);
    cand_free(&a);
}

Test(lease, options_are_validated)
{
    cs_kube_client_t *c = standin_client(&S, NULL, NULL);
    cs_lease_elector_t *e = NULL;
    cs_err_t err = {0};
    cs_lease_options_t o = {
        .name = "x", .identity = "me", .lease_duration_ns = 10000 * MS, .renew_deadline_ns = 10000 * MS};
    cr_expect_eq(cs_lease_elector_new(c, &o, &e, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "leader election for lease x: the lease duration (10000 ms) must be greater than the "
                              "renew deadline (10000 ms)");
    o.lease_duration_ns = 0;
    o.renew_deadline_ns = 2000 * MS;
    cr_expect_eq(cs_lease_elector_new(c, &o, &e, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "leader election for lease x: the renew deadline (2000 ms) must be greater than 1.2 x "
                              "the retry period (2000 ms)");
    o.renew_deadline_ns = 0;
    o.identity = NULL;
    cr_expect_eq(cs_lease_elector_new(c, &o, &e, &err), CS_EINVAL);
    o.identity = "me";
    cr_assert_eq(cs_lease_elector_new(c, &o, &e, &err), 0, "client-go defaults are valid: %s", err.msg);
    cr_expect_not(cs_lease_elector_is_leader(e));
    cs_lease_elector_free(e);
    cs_lease_elector_free(NULL);
    cs_kube_client_free(c);
}

/* ---- two processes ----------------------------------------------------------- */

/* Each process logs the monotonic times at which its elector's answer
 * changes; CLOCK_MONOTONIC is shared by the processes of one machine. */
static void log_leadership(cs_lease_elector_t *e, FILE *log, int64_t until_ms, bool *was)
{
    while (standin_now_ms() < until_ms) {
        bool now = cs_lease_elector_is_leader(e);
        if (now != *was) {
            fprintf(log, "%d %lld\n", now ? 1 : 0, (long long)standin_now_ms());
            fflush(log);
            *was = now;
        }
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

typedef struct span_s {
    long long from, to;
} span_t;

static int read_spans(const char *path, span_t *out, int max, long long end)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    int n = 0, st;
    long long t;
    while (fscanf(f, "%d %lld", &st, &t) == 2) {
        if (st == 1 && n < max)
            out[n++] = (span_t){t, end};
        else if (st == 0 && n > 0)
            out[n - 1].to = t;
    }
    fclose(f);
    return n;
}

Test(lease, two_processes_never_both_lead)
{
    char child_log[128], parent_log[128];
    snprintf(child_log, sizeof child_log, "%s/child.log", S.dir);
    snprintf(parent_log, sizeof parent_log, "%s/parent.log", S.dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* The child leads first, then dies without releasing. */
        cand_t k;
        cand_new(&k, "process-child", true);
        FILE *log = fopen(child_log, "w");
        bool was = false;
        log_leadership(k.e, log, standin_now_ms() + 2000, &was);
        /* Its last moment: a dead process leads nothing. */
        fprintf(log, "0 %lld\n", (long long)standin_now_ms());
        fclose(log);
        _exit(was ? 0 : 3); /* no release, no clean-up: a crash */
    }
    cr_assert(STANDIN_WAIT(({
                               json_t *l = lease_get();
                               bool r = l && spec_str(l, "holderIdentity") &&
                                        strcmp(spec_str(l, "holderIdentity"), "process-child") == 0;
                               json_decref(l);
                               r;
                           }),
                           5000));
    cand_t p;
    cand_new(&p, "process-parent", false);
    FILE *log = fopen(parent_log, "w");
    bool was = false;
    int status = 0;
    log_leadership(p.e, log, standin_now_ms() + 6000, &was);
    fclose(log);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child led until it died");
    cr_expect(was, "the parent took over after the child died");
    long long end = standin_now_ms();
    span_t cs_[16], ps[16];
    int nc = read_spans(child_log, cs_, 16, end);
    int np = read_spans(parent_log, ps, 16, end);
    cr_assert_geq(nc, 1);
    cr_assert_geq(np, 1);
    for (int i = 0; i < nc; i++)
        for (int j = 0; j < np; j++)
            cr_expect(cs_[i].to <= ps[j].from || ps[j].to <= cs_[i].from,
                      "child led [%lld, %lld], parent led [%lld, %lld]", cs_[i].from, cs_[i].to, ps[j].from, ps[j].to);
    cand_free(&p);
}
