/* operator_reconcile.c: one StoragePolicy reconcile of 1,000 / 10,000
 * volumes on the test world (issue 9, "Benchmarks"): decision and status, no
 * migrations. Per pass, the steps of the operator's reconcile
 * (src/controller/reconcile_sp.c), through the same functions:
 *
 *   list    PersistentVolumes and DiskPools (cs_kube_list, streamed through
 *           cs_pv_decoder / cs_diskpool_decoder into compact projections, as
 *           the informers' initial list does);
 *   gather  cs_gather: the policy's PVs, then cs_observe (Mayastor's volumes
 *           and pools on this thread, the one Prometheus batch query on
 *           another), then the plan input;
 *   decide  cs_plan_compute;
 *   status  the status the operator builds (conditions, counts, message),
 *           cs_storage_policy_status_encode, the operator's in-memory copy of
 *           it (encode + decode), and the merge PATCH of /status.
 *
 * Two kinds of pass: "cold" lists PVs and DiskPools from the API server
 * (the informers' initial list, or a relist); "steady" takes them from the
 * already-filled cache (what every periodic reconcile does).
 *
 * Process CPU (getrusage) and wall time per phase, median [min-max] over the
 * passes, and the process's peak RSS (ru_maxrss) before and after. Beside
 * them, measured in the same run by a forked child (so that its buffers do
 * not count in this process's RSS): the same PV/DiskPool pages and Mayastor
 * pages fetched with plain libcurl (bytes discarded: the transfer floor), and
 * the same PromQL posted with plain libcurl (the raw query round trip).
 *
 * The list/query split of cs_observe is read through the Prometheus
 * client's clock hook (cs_prom_options_t.now_ns), which cs_prom_volumes_iops
 * calls first thing; the same hook advances the client's clock by 60 s per
 * pass, as the operator's 60 s requeue does (the batch the operator uses
 * never answers from the IOPS cache: every pass runs the real query, and
 * the window-coverage check when its remembered answer has expired).
 *
 * Then `couchestor operator` itself (the binary built beside this one) runs
 * against the same world with the policy in dry run for 5 reconciles, and
 * its peak RSS (VmHWM) is read: the operator's whole memory (informer
 * caches, threads, server), which the passes above do not hold. Baseline
 * for both: this binary exec'd to initialize libcurl and make one GET.
 *
 * Usage: bench_operator_reconcile [1000|10000]...  (default: both, each in
 * a process of its own (this program exec'd again) so that each has its own
 * peak RSS; or CS_BENCH_VOLUMES). CS_BENCH_PASSES (default 5), CS_BENCH_WINDOW (the
 * policy's samplingWindow, default 1m; the run waits until the window is
 * filled with samples). Starts the test world (tests/sandbox/sandbox up
 * scale-1k|scale-10k --dir TMP) and stops it at the end, on failure, and on
 * SIGINT/SIGTERM. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "couchestor/clock.h"
#include "couchestor/controller.h"
#include "couchestor/duration.h"
#include "couchestor/http.h"
#include "couchestor/log.h"

#define MAX_PASSES 64
#define PAGE 500
#define POLICY "bench-three-tier"

/* ---- clocks and memory ------------------------------------------------------ */

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* CS_BENCH_MEMTRACE=1: heap in use and RSS after each phase (stderr). */
static int g_memtrace;

static void memtrace(const char *where)
{
    if (!g_memtrace)
        return;
    struct mallinfo2 mi = mallinfo2();
    fprintf(stderr, "  mem %-28s heap in use %6.2f MiB (arena %6.2f, mmap %6.2f)  VmRSS %6.2f MiB  VmHWM %6.2f MiB\n",
            where, (double)mi.uordblks / 1048576.0, (double)mi.arena / 1048576.0, (double)mi.hblkhd / 1048576.0,
            status_kb("VmRSS:") / 1024.0, status_kb("VmHWM:") / 1024.0);
    reset_peak(); /* the next line's VmHWM is the peak of the next phase alone */
}

typedef struct {
    double wall, cpu;
} tm_t;

static tm_t tm_now(void)
{
    return (tm_t){now_s(), cpu_s()};
}

static tm_t tm_sub(tm_t a, tm_t b)
{
    return (tm_t){a.wall - b.wall, a.cpu - b.cpu};
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double med, min, max;
} stat_t;

static stat_t stat_of(const double *v, int n)
{
    double s[MAX_PASSES];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    stat_t r = {n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2, s[0], s[n - 1]};
    return r;
}

/* ---- the test world -------------------------------------------------------------- */

static char g_dir[64];
static char g_sandbox[4096];
static volatile sig_atomic_t g_up;

static void source_dir(char *out, size_t len)
{
    const char *src = getenv("CS_SOURCE_DIR");
    if (src) {
        snprintf(out, len, "%s", src);
        return;
    }
    snprintf(out, len, "%s", __FILE__); /* <src>/bench/operator_reconcile.c */
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(out, '/');
        if (slash)
            *slash = '\0';
    }
}

/* fork/execv/waitpid only: also used from the signal handler. */
static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 1); /* the launcher prints the world's environment */
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (pid < 0)
        return -1;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void world_down(void)
{
    if (!g_up)
        return;
    g_up = 0;
    char *argv[] = {g_sandbox, (char *)"down", (char *)"--dir", g_dir, NULL};
    run(argv);
}

static volatile pid_t g_child; /* the size being measured, in a child process */

static void on_signal(int sig)
{
    if (g_child > 0) { /* the child stops its world; wait for it */
        kill(g_child, sig);
        int st;
        while (waitpid(g_child, &st, 0) < 0 && errno == EINTR)
            ;
    }
    world_down();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void world_remove_dir(void)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_dir);
}

static int world_up(const char *scenario)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/bench-opr-XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return -1;
    }
    g_up = 1;
    char *argv[] = {g_sandbox, (char *)"up", (char *)scenario, (char *)"--dir", g_dir, NULL};
    return run(argv);
}

static int env_value(const char *key, char *out, size_t len)
{
    char path[512], line[4096], prefix[64];
    snprintf(path, sizeof path, "%s/env", g_dir);
    snprintf(prefix, sizeof prefix, "export %s='", key);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int rc = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            char *v = line + strlen(prefix), *q = strrchr(v, '\'');
            if (q)
                *q = '\0';
            snprintf(out, len, "%s", v);
            rc = 0;
        }
    fclose(f);
    return rc;
}

/* ---- the policy ---------------------------------------------------------------------- */

/* Three tiers on the scale scenarios' pool labels (storage-tier hot|warm|cold,
 * media-type nvme|ssd|hdd) and their PVs (StorageClass mayastor, app=database),
 * watermarks of deploy/examples/storagepolicy-three-tier.yaml: the load cycle
 * 50..9000 IOPS puts volumes in every class (hot, warm, cold, the band). */
static json_t *policy_object(const char *window)
{
    return json_pack(
        "{s:s, s:s, s:{s:s}, s:{s:i, s:i, s:i, s:s, s:s, s:s, s:{s:{s:s}}, s:{s:{s:s, s:s}}, s:{s:{s:s, s:s}},"
        " s:{s:{s:s}, s:[{s:s, s:s, s:[s, s]}]}, s:i, s:s, s:b, s:b}}",
        "apiVersion", "storage.billyronks.io/v1", "kind", "StoragePolicy", "metadata", "name", POLICY, "spec",
        "highWatermarkIOPS", 5000, "warmWatermarkIOPS", 2000, "lowWatermarkIOPS", 500, "samplingWindow", window,
        "cooldownPeriod", "48h", "storageClassName", "mayastor", "volumeSelector", "matchLabels", "app", "database",
        "hotPoolSelector", "matchLabels", "storage-tier", "hot", "media-type", "nvme", "warmPoolSelector",
        "matchLabels", "storage-tier", "warm", "media-type", "ssd", "coldPoolSelector", "matchLabels", "storage-tier",
        "cold", "matchExpressions", "key", "media-type", "operator", "In", "values", "hdd", "ssd",
        "maxConcurrentMigrations", 3, "migrationTimeout", "45m", "enabled", 1, "dryRun", 0);
}

/* ---- the Prometheus clock hook: phase boundary and the 60 s requeue --------------- */

typedef struct {
    int64_t base_ns; /* + 60 s per pass */
} clock_t_;

static int64_t prom_clock(void *ctx)
{
    clock_t_ *c = ctx;
    return c->base_ns + cs_clock_mono_ns();
}

/* ---- one reconcile ------------------------------------------------------------------- */

enum {
    PH_PVLIST,
    PH_DPLIST,
    PH_OBSERVE,
    PH_MSLIST,
    PH_QUERY,
    PH_DECIDE,
    PH_ENCODE,
    PH_PATCH,
    PH_TOTAL,
    PH_N
};
static const char *const ph_name[PH_N] = {"list PVs (cs_kube_list)",
                                          "list DiskPools",
                                          "gather (cs_gather: select, lists || query, facts)",
                                          "  Mayastor vols+pools",
                                          "  Prometheus query (1 batch)",
                                          "decide (cs_plan_compute)",
                                          "status build+encode",
                                          "status PATCH",
                                          "total reconcile"};

typedef struct {
    cs_kube_client_t *kube;
    cs_mayastor_t *ms;
    cs_prom_t *prom;
    clock_t_ *clk;
    const char *ns;
    cs_storage_policy_spec_t *spec;
    cs_kube_decoder_t pvdec, dpdec;
    cs_kube_objects_t pvs, dps; /* the "informer cache" */
    bool patch_ok;
    /* what the last pass saw */
    size_t npv, nmine, ndp, nvol, npool, unknown;
    cs_plan_t plan_copy_counts;
    size_t reasons[32];
    size_t moves;
} ctx_t;

static void set_cond(cs_storage_policy_status_t *st, const char *type, bool ok, const char *reason, const char *msg,
                     int64_t now)
{
    cs_conditions_set(&st->conditions, type, ok ? CS_CONDITION_TRUE : CS_CONDITION_FALSE, reason, msg, 1, now, NULL);
}

/* cold: list PVs and DiskPools into a fresh cache (as an informer's initial
 * list); otherwise walk the cache. Fills t[PH_*] with wall/CPU. */
static int reconcile(ctx_t *c, bool cold, tm_t t[PH_N], cs_err_t *err)
{
    memset(t, 0, sizeof(tm_t) * PH_N);
    int64_t now = cs_clock_real_s();
    tm_t t0 = tm_now(), a = t0, b;
    if (cold) {
        /* The cache is replaced, as a relist does: free the old one first,
         * so the peak holds one cache, not two. */
        cs_kube_objects_free(&c->pvs, &c->pvdec);
        cs_kube_objects_free(&c->dps, &c->dpdec);
        memtrace(cold ? "cold pass start (cache freed)" : "steady pass start");
        cs_kube_list_options_t lo = {.limit = PAGE};
        if (cs_kube_list(c->kube, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, &lo, &c->pvdec, cs_kube_objects_add, &c->pvs,
                         NULL, err))
            return -1;
        b = tm_now();
        memtrace("after PV list");
        t[PH_PVLIST] = tm_sub(b, a);
        a = b;
        if (cs_kube_list(c->kube, CS_DISKPOOL_RESOURCE, c->ns, &lo, &c->dpdec, cs_kube_objects_add, &c->dps, NULL, err))
            return -1;
        b = tm_now();
        t[PH_DPLIST] = tm_sub(b, a);
        a = b;
    }
    if (!cold)
        memtrace("steady pass start");
    /* The operator's gather (cs_gather): the policy's PVs, cs_observe (the
     * Mayastor lists and, on a thread of its own, the Prometheus query;
     * each one's wall and thread CPU from obs) and the plan input. */
    cs_clients_t clients = {.kube = c->kube, .mayastor = c->ms, .prom = c->prom};
    cs_config_t cfg = {.max_concurrent_migrations = 10}; /* the default, none running */
    cs_gather_source_t src = {.clients = &clients,
                              .cfg = &cfg,
                              .pvs = (const cs_pv_t *const *)c->pvs.items,
                              .pv_count = c->pvs.n,
                              .diskpools = (const cs_diskpool_ref_t *const *)c->dps.items,
                              .diskpool_count = c->dps.n};
    cs_gathered_t in;
    cs_plan_t plan;
    memset(&plan, 0, sizeof plan);
    c->clk->base_ns += INT64_C(60) * 1000000000; /* the 60 s requeue: the IOPS cache has expired */
    int rc = cs_gather(&src, POLICY, c->spec, now, &in, err);
    const cs_observation_t *obsp = &in.obs;
    b = tm_now();
    memtrace("after cs_gather");
    t[PH_OBSERVE] = tm_sub(b, a);
    t[PH_MSLIST] = (tm_t){obsp->list_seconds, obsp->list_cpu_seconds};
    t[PH_QUERY] = (tm_t){obsp->query_seconds, obsp->query_cpu_seconds};
    a = b;
    if (rc != 0 || !obsp->mayastor_ok || !obsp->metrics_ok) {
        if (rc == 0)
            cs_err_set(err, CS_EUNAVAILABLE, "observe: mayastor %s, prometheus %s",
                       obsp->mayastor_ok ? "ok" : obsp->mayastor_err.err.msg,
                       obsp->metrics_ok ? "ok" : obsp->metrics_err.msg);
        cs_gathered_free(&in);
        return -1;
    }
    size_t nmine = in.pv_count;
    const cs_observation_t obs = in.obs;

    /* Decide. */
    rc = cs_plan_compute(&in.facts.in, &plan, err);
    size_t blocked = 0;
    for (size_t i = 0; rc == 0 && i < plan.count; i++)
        blocked += cs_plan_reason_blocks(plan.items[i].reason);
    b = tm_now();
    memtrace("after decide");
    t[PH_DECIDE] = tm_sub(b, a);
    a = b;

    /* Status, as the operator builds and writes it. */
    json_t *js = NULL;
    if (rc == 0) {
        cs_storage_policy_status_t st;
        memset(&st, 0, sizeof st);
        st.observed_generation = 1;
        st.last_reconcile_time = now;
        set_cond(&st, CS_CONDITION_SPEC_VALID, true, "Valid", "the spec is valid", now);
        st.phase = CS_SP_PHASE_ACTIVE;
        st.watched_volumes = (int64_t)plan.watched;
        st.hot_volumes = (int64_t)plan.hot;
        st.warm_volumes = (int64_t)plan.warm;
        st.cold_volumes = (int64_t)plan.cold;
        char msg[512], why[512];
        snprintf(msg, sizeof msg, "%zu volumes: %zu hot, %zu warm, %zu cold; %lld migrating%s", plan.watched, plan.hot,
                 plan.warm, plan.cold, 0LL, "");
        st.message = strdup(msg);
        set_cond(&st, CS_CONDITION_READY, true, "Reconciled", msg, now);
        if (obs.unknown > 0) {
            snprintf(why, sizeof why, "%zu of %zu volumes have no IOPS series; they are not moved", obs.unknown, nmine);
            set_cond(&st, "MetricsAvailable", true, "SomeSeriesMissing", why, now);
        } else {
            set_cond(&st, "MetricsAvailable", true, "Available", "every volume has an IOPS series", now);
        }
        if (blocked > 0) {
            snprintf(why, sizeof why, "%zu volumes cannot reach their tier (see their Events)", blocked);
            set_cond(&st, "Degraded", true, "VolumesBlocked", why, now);
        } else {
            set_cond(&st, "Degraded", false, "AsExpected", "every volume can reach its tier", now);
        }
        rc = cs_storage_policy_status_encode(&st, &js, err);
        /* the operator's memory of what it wrote: a copy via JSON */
        if (rc == 0) {
            cs_storage_policy_status_t copy;
            json_t *j2 = NULL;
            if (cs_storage_policy_status_encode(&st, &j2, NULL) == 0 &&
                cs_storage_policy_status_decode(j2, &copy, NULL) == 0)
                cs_storage_policy_status_free(&copy);
            json_decref(j2);
        }
        cs_storage_policy_status_free(&st);
    }
    b = tm_now();
    t[PH_ENCODE] = tm_sub(b, a);
    a = b;
    if (rc == 0 && c->patch_ok) {
        json_t *patch = json_pack("{s:o}", "status", js);
        js = NULL;
        rc = cs_kube_patch_status(c->kube, CS_STORAGE_POLICY_RESOURCE, NULL, POLICY, CS_KUBE_PATCH_MERGE, patch, NULL,
                                  err);
        json_decref(patch);
    }
    json_decref(js);
    b = tm_now();
    memtrace("after status");
    t[PH_PATCH] = tm_sub(b, a);
    t[PH_TOTAL] = tm_sub(b, t0);

    if (rc == 0) {
        c->npv = c->pvs.n;
        c->nmine = nmine;
        c->ndp = c->dps.n;
        c->nvol = obs.volumes.count;
        c->npool = obs.pools.count;
        c->unknown = obs.unknown;
        c->plan_copy_counts = (cs_plan_t){
            .watched = plan.watched, .hot = plan.hot, .warm = plan.warm, .cold = plan.cold, .moves = plan.moves};
        memset(c->reasons, 0, sizeof c->reasons);
        for (size_t i = 0; i < plan.count; i++)
            if ((size_t)plan.items[i].reason < 32)
                c->reasons[plan.items[i].reason]++;
    }
    cs_plan_free(&plan);
    cs_gathered_free(&in);
    return rc ? -1 : 0;
}

/* ---- baselines: plain libcurl, in a child process ------------------------------------ */

typedef struct {
    size_t bytes;
    char head[8192];
    size_t head_len;
} raw_t;

static size_t raw_write(char *d, size_t s, size_t n, void *ctx)
{
    raw_t *r = ctx;
    size_t len = s * n;
    if (r->head_len < sizeof r->head - 1) {
        size_t take = len < sizeof r->head - 1 - r->head_len ? len : sizeof r->head - 1 - r->head_len;
        memcpy(r->head + r->head_len, d, take);
        r->head_len += take;
        r->head[r->head_len] = '\0';
    }
    r->bytes += len;
    return len;
}

static void curl_common(CURL *h, raw_t *r, struct curl_slist *hdrs)
{
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, raw_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* as src/http/http.c */
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
}

/* Kubernetes list pages (limit/continue); the continue token is in the
 * list's metadata, first in the body. */
static long curl_kube_pages(CURL *h, const char *base, const char *path, const char *token, size_t *bytes)
{
    char auth[512], cont[4096] = "";
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    long pages = 0;
    do {
        char url[8192];
        char *esc = curl_easy_escape(h, cont, 0);
        snprintf(url, sizeof url, "%s%s?limit=%d%s%s", base, path, PAGE, *cont ? "&continue=" : "", *cont ? esc : "");
        curl_free(esc);
        raw_t r = {0};
        curl_common(h, &r, hdrs);
        curl_easy_setopt(h, CURLOPT_URL, url);
        long code = 0;
        if (curl_easy_perform(h) != CURLE_OK || (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200)) {
            pages = -1;
            break;
        }
        *bytes += r.bytes;
        pages++;
        const char *k = strstr(r.head, "\"continue\":\"");
        cont[0] = '\0';
        if (k) {
            k += 12;
            const char *e = strchr(k, '"');
            if (e && (size_t)(e - k) < sizeof cont)
                snprintf(cont, sizeof cont, "%.*s", (int)(e - k), k);
        }
    } while (*cont);
    curl_slist_free_all(hdrs);
    return pages;
}

/* Mayastor: GET /v0/volumes pages (the token is the offset of the next
 * entry, so known without parsing), then GET /v0/pools. */
static long curl_mayastor_pages(CURL *h, const char *base, size_t count, size_t *bytes)
{
    long pages = 0;
    for (size_t tok = 0; tok < count + 1; tok += PAGE) {
        char url[512];
        if (tok == 0)
            snprintf(url, sizeof url, "%s/v0/volumes?max_entries=%d", base, PAGE);
        else
            snprintf(url, sizeof url, "%s/v0/volumes?max_entries=%d&starting_token=%zu", base, PAGE, tok);
        raw_t r = {0};
        curl_common(h, &r, NULL);
        curl_easy_setopt(h, CURLOPT_URL, url);
        long code = 0;
        if (curl_easy_perform(h) != CURLE_OK || (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200))
            return -1;
        *bytes += r.bytes;
        pages++;
        if (!strstr(r.head, "\"next_token\"") && r.bytes < sizeof r.head - 1)
            break;
        if (tok + PAGE >= count)
            break;
    }
    raw_t r = {0};
    char url[512];
    snprintf(url, sizeof url, "%s/v0/pools", base);
    curl_common(h, &r, NULL);
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (curl_easy_perform(h) != CURLE_OK)
        return -1;
    *bytes += r.bytes;
    return pages + 1;
}

static int curl_prom_query(CURL *h, const char *base, const char *promql, size_t *bytes)
{
    char *q = curl_easy_escape(h, promql, 0);
    char url[512], body[8192];
    snprintf(url, sizeof url, "%s/api/v1/query", base);
    snprintf(body, sizeof body, "query=%s&timeout=10000ms", q); /* as src/prom/client.c */
    curl_free(q);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    raw_t r = {0};
    curl_common(h, &r, hdrs);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    long code = 0;
    int rc = curl_easy_perform(h) == CURLE_OK && (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code == 200) &&
                     strstr(r.head, "\"success\"")
                 ? 0
                 : -1;
    curl_easy_setopt(h, CURLOPT_POST, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_slist_free_all(hdrs);
    *bytes = r.bytes;
    return rc;
}

typedef struct {
    int ok;
    tm_t kube, ms, prom;
    size_t kube_bytes, ms_bytes, prom_bytes;
    long kube_pages, ms_pages;
} base_t;

typedef struct {
    const char *kube_url, *token, *ns, *ms_url, *prom_url, *promql;
    size_t count;
} base_args_t;

/* One round of the three baselines in a forked child (its buffers and CPU
 * are its own); results come back through a pipe. */
static int baseline_round(const base_args_t *a, base_t *out)
{
    memset(out, 0, sizeof *out);
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        base_t r = {0};
        CURL *h = curl_easy_init(), *hm = curl_easy_init(), *hp = curl_easy_init();
        /* warm each connection once (the operator keeps its connections) */
        size_t dummy = 0;
        curl_prom_query(hp, a->prom_url, "vector(1)", &dummy);
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "/api/v1/persistentvolumes");
        snprintf(p2, sizeof p2, "/apis/openebs.io/v1beta2/namespaces/%s/diskpools", a->ns);
        curl_kube_pages(h, a->kube_url, p2, a->token, &dummy);
        char purl[512];
        raw_t rr = {0};
        snprintf(purl, sizeof purl, "%s/v0/pools", a->ms_url);
        curl_common(hm, &rr, NULL);
        curl_easy_setopt(hm, CURLOPT_URL, purl);
        curl_easy_perform(hm);

        tm_t t0 = tm_now();
        long pp = curl_kube_pages(h, a->kube_url, p1, a->token, &r.kube_bytes);
        long pd = curl_kube_pages(h, a->kube_url, p2, a->token, &r.kube_bytes);
        tm_t t1 = tm_now();
        r.ms_pages = curl_mayastor_pages(hm, a->ms_url, a->count, &r.ms_bytes);
        tm_t t2 = tm_now();
        int prc = curl_prom_query(hp, a->prom_url, a->promql, &r.prom_bytes);
        tm_t t3 = tm_now();
        r.kube = tm_sub(t1, t0);
        r.ms = tm_sub(t2, t1);
        r.prom = tm_sub(t3, t2);
        r.kube_pages = pp > 0 && pd > 0 ? pp + pd : -1;
        r.ok = r.kube_pages > 0 && r.ms_pages > 0 && prc == 0;
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    if (pid < 0) {
        close(fd[0]);
        return -1;
    }
    ssize_t got = read(fd[0], out, sizeof *out);
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    return got == (ssize_t)sizeof *out && out->ok ? 0 : -1;
}

/* ---- waiting for the metrics (in a child: its buffers are not ours) ---------------- */

static int wait_metrics(const char *prom_url, size_t want, int64_t window_ns, double world_t0, double *waited)
{
    double t0 = now_s();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        cs_prom_options_t o;
        cs_prom_options_default(&o);
        o.url = prom_url;
        o.cache_ttl_ns = 0;
        o.timeout_ms = 60000;
        cs_prom_t *p = NULL;
        if (cs_prom_new(&o, &p, NULL) != 0)
            _exit(1);
        double deadline = now_s() + 300;
        size_t have = 0;
        while (now_s() < deadline) {
            cs_prom_vector_t *v = NULL;
            have = 0;
            if (cs_prom_iops_all(p, 0, window_ns, &v, NULL) == 0)
                have = cs_prom_vector_count(v);
            cs_prom_vector_free(v);
            if (have >= want)
                break;
            sleep(1);
        }
        if (have < want) {
            fprintf(stderr, "only %zu of %zu volumes have an IOPS series after 300 s\n", have, want);
            _exit(1);
        }
        /* the window full of samples (bounded: 5 min) */
        double full = world_t0 + (double)window_ns / 1e9 + 2;
        while (now_s() < full && now_s() < deadline + 300)
            sleep(1);
        cs_prom_free(p);
        _exit(0);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    *waited = now_s() - t0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* ---- printing ------------------------------------------------------------------------- */

static void print_row(const char *name, const double *w, const double *c, int n)
{
    stat_t sw = stat_of(w, n), sc = stat_of(c, n);
    printf("  %-30s %8.1f [%7.1f-%7.1f] %8.1f [%7.1f-%7.1f]\n", name, sw.med * 1e3, sw.min * 1e3, sw.max * 1e3,
           sc.med * 1e3, sc.min * 1e3, sc.max * 1e3);
}

static void print_passes(const char *title, tm_t t[][PH_N], int n, bool cold)
{
    printf("%s\n  %-30s %28s %28s\n", title, "phase (ms)", "wall median [min-max]", "CPU median [min-max]");
    for (int p = 0; p < PH_N; p++) {
        if (!cold && (p == PH_PVLIST || p == PH_DPLIST))
            continue;
        double w[MAX_PASSES], c[MAX_PASSES];
        for (int i = 0; i < n; i++) {
            w[i] = t[i][p].wall;
            c[i] = t[i][p].cpu;
        }
        print_row(ph_name[p], w, c, n);
    }
}

static double med_of(tm_t t[][PH_N], int n, int p, bool cpu)
{
    double v[MAX_PASSES];
    for (int i = 0; i < n; i++)
        v[i] = cpu ? t[i][p].cpu : t[i][p].wall;
    return stat_of(v, n).med;
}

/* The RSS floor, run as this program exec'd again ("--rss-floor URL"):
 * the same binary and libraries, libcurl initialized, one GET made with a
 * plain easy handle, nothing decoded or kept. Prints ru_maxrss in KiB. */
static int rss_floor_main(const char *url)
{
    CURL *h = curl_easy_init();
    raw_t r = {0};
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, raw_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    printf("%ld\n", maxrss_kb());
    return cc == CURLE_OK ? 0 : 1;
}

static long rss_floor_kb(const char *url)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "/proc/%d/exe --rss-floor '%s'", (int)getpid(), url);
    FILE *f = popen(cmd, "r");
    long kb = -1;
    if (f) {
        if (fscanf(f, "%ld", &kb) != 1)
            kb = -1;
        if (pclose(f) != 0)
            kb = -1;
    }
    return kb;
}

/* ---- the operator process itself ------------------------------------------------------ */

/* `couchestor operator` (the binary beside this one) against the same
 * world, the policy in dry run so that nothing migrates: its peak RSS
 * (VmHWM) after `reconciles` StoragePolicy reconciles, each one started by
 * a spec change (cooldownPeriod 48h <-> 49h, which changes no decision).
 * This is the operator's real memory: informer caches, threads, server and
 * all, where the passes above reproduce only the reconcile's own steps. */
typedef struct {
    long hwm_kb, file_kb;
    double reconciles;
    /* Writes the operator sent to the API server during the reconciles
     * after its first (the bench's own spec changes left out), in total
     * and the largest kind, e.g. "PATCH storagepolicies/status". */
    int steady_reconciles;
    long steady_writes;
    char writes_note[256];
} opproc_t;

/* The API stand-in's write counts ("METHOD resource" -> n), or NULL. */
static json_t *kube_writes(cs_kube_client_t *kube)
{
    json_t *st = NULL;
    cs_err_t err = {0};
    if (cs_kube_get_path(kube, "/_control/state", &st, &err) != 0)
        return NULL;
    json_t *w = json_incref(json_object_get(st, "writes"));
    json_decref(st);
    return w;
}

/* The writes between two snapshots, less the bench's own (bench_patches
 * spec PATCHes of the policy); a note lists each kind. */
static long writes_between(const json_t *before, const json_t *after, long bench_patches, char *note, size_t len)
{
    long total = 0;
    size_t used = 0;
    const char *key;
    json_t *v;
    note[0] = '\0';
    json_object_foreach((json_t *)after, key, v)
    {
        long n = (long)(json_integer_value(v) - json_integer_value(json_object_get(before, key)));
        if (strcmp(key, "PATCH storagepolicies") == 0)
            n -= bench_patches;
        if (n <= 0)
            continue;
        total += n;
        int w = snprintf(note + used, len - used, "%s%s %ld", used ? ", " : "", key, n);
        if (w > 0 && (size_t)w < len - used)
            used += (size_t)w;
    }
    return total;
}

/* The value of the first line of /metrics that starts with series, or -1. */
static double metric_value(int port, const char *series)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/metrics", port);
    char *body = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&body, &len);
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, mem);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode cc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    fclose(mem);
    double v = -1;
    for (char *line = body; cc == CURLE_OK && line && *line;) {
        char *nl = strchr(line, '\n');
        if (strncmp(line, series, strlen(series)) == 0 && line[strlen(series)] == ' ') {
            v = strtod(line + strlen(series) + 1, NULL);
            break;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(body);
    return v;
}

static int wait_until(double deadline_s, int port, const char *series, double at_least, double *value)
{
    while (now_s() < deadline_s) {
        *value = metric_value(port, series);
        if (*value >= at_least)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

static int operator_process(cs_kube_client_t *kube, int reconciles, opproc_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    json_t *patch = json_pack("{s:{s:b}}", "spec", "dryRun", 1);
    int rc = cs_kube_patch(kube, CS_STORAGE_POLICY_RESOURCE, NULL, POLICY, CS_KUBE_PATCH_MERGE, patch, NULL, err);
    json_decref(patch);
    if (rc != 0)
        return -1;
    char exe[4096], bin[4200], log_path[256];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return cs_err_set(err, CS_EIO, "cannot read /proc/self/exe"), -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    snprintf(bin, sizeof bin, "%s/couchestor", exe);
    snprintf(log_path, sizeof log_path, "%s/operator.log", g_dir);
    char kubeconfig[512], ms_url[256], prom_url[256], ns[64];
    if (env_value("KUBECONFIG", kubeconfig, sizeof kubeconfig) || env_value("MAYASTOR_URL", ms_url, sizeof ms_url) ||
        env_value("PROMETHEUS_URL", prom_url, sizeof prom_url) || env_value("MAYASTOR_NAMESPACE", ns, sizeof ns))
        return cs_err_set(err, CS_EIO, "the world's env file is incomplete"), -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        setenv("KUBECONFIG", kubeconfig, 1);
        setenv("MAYASTOR_URL", ms_url, 1);
        setenv("PROMETHEUS_URL", prom_url, 1);
        setenv("MAYASTOR_NAMESPACE", ns, 1);
        execl(bin, "couchestor", "operator", "--leader-election=false", "--metrics-addr", "127.0.0.1:0",
              "--health-addr", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    if (pid < 0)
        return cs_err_set(err, CS_EIO, "fork: %s", strerror(errno)), -1;
    rc = -1;
    int port = 0;
    double deadline = now_s() + 30, v = 0;
    while (!port && now_s() < deadline) { /* "metrics_port=N" in its log */
        FILE *f = fopen(log_path, "r");
        char line[1024];
        while (f && fgets(line, sizeof line, f)) {
            char *m = strstr(line, "metrics_port=");
            if (m)
                port = atoi(m + strlen("metrics_port="));
        }
        if (f)
            fclose(f);
        if (!port)
            usleep(50 * 1000);
    }
    const char *total = "couchestor_reconcile_total{kind=\"storagepolicy\",result=\"success\"}";
    if (!port || wait_until(now_s() + 120, port, total, 1, &v) != 0) {
        cs_err_set(err, CS_ETIMEOUT, "%s did not reconcile the policy (log %s)", bin, log_path);
        goto out;
    }
    /* Writes are counted from the end of the second reconcile: the first
     * one's Events are still being written (the recorder drains its queue
     * on its own thread) when the second starts. */
    json_t *w0 = NULL;
    int first = (int)v + 1;
    for (int k = (int)v; k < reconciles; k++) {
        if (k == first)
            w0 = kube_writes(kube);
        json_t *touch = json_pack("{s:{s:s}}", "spec", "cooldownPeriod", k % 2 ? "48h" : "49h");
        rc = cs_kube_patch(kube, CS_STORAGE_POLICY_RESOURCE, NULL, POLICY, CS_KUBE_PATCH_MERGE, touch, NULL, err);
        json_decref(touch);
        if (rc != 0 || wait_until(now_s() + 60, port, total, k + 1, &v) != 0) {
            if (rc == 0)
                cs_err_set(err, CS_ETIMEOUT, "the operator did not reconcile after a spec change (log %s)", log_path);
            rc = -1;
            goto out;
        }
    }
    json_t *w1 = kube_writes(kube);
    if (w0 && w1 && reconciles > first) {
        out->steady_reconciles = reconciles - first;
        out->steady_writes = writes_between(w0, w1, reconciles - first, out->writes_note, sizeof out->writes_note);
    }
    json_decref(w0);
    json_decref(w1);
    out->hwm_kb = pid_status_kb(pid, "VmHWM:");
    out->file_kb = pid_status_kb(pid, "RssFile:");
    out->reconciles = metric_value(port, "couchestor_reconcile_duration_seconds_count");
    rc = 0;
out:
    kill(pid, SIGTERM);
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return rc;
}

/* ---- one size ----------------------------------------------------------------------------- */

static int bench(int count, int passes, const char *window)
{
    const char *scenario = count == 1000 ? "scale-1k" : count == 10000 ? "scale-10k" : NULL;
    if (!scenario) {
        fprintf(stderr, "operator_reconcile: %d volumes: only 1000 (scale-1k) and 10000 (scale-10k) exist\n", count);
        return 1;
    }
    int64_t window_ns = 0;
    if (cs_duration_parse(window, &window_ns, NULL) != 0 || window_ns <= 0) {
        fprintf(stderr, "operator_reconcile: bad CS_BENCH_WINDOW '%s'\n", window);
        return 1;
    }
    printf("=== operator_reconcile: %s (%d volumes), samplingWindow %s, %d passes of each kind ===\n", scenario, count,
           window, passes);
    double t0 = now_s();
    int rc = 1;
    char kubeconfig[512] = "", kube_url[256] = "", token[256] = "", ms_url[256] = "", prom_url[256] = "", ns[64] = "";
    cs_kube_client_t *kube = NULL;
    cs_mayastor_t *ms = NULL;
    cs_prom_t *prom = NULL;
    cs_storage_policy_t pol;
    memset(&pol, 0, sizeof pol);
    ctx_t c = {0};
    clock_t_ clk = {0};
    cs_err_t err = {0};
    json_t *polobj = NULL;
    static tm_t cold[MAX_PASSES][PH_N], steady[MAX_PASSES][PH_N], first[1][PH_N];
    static base_t base[MAX_PASSES];

    if (world_up(scenario) != 0 || env_value("KUBECONFIG", kubeconfig, sizeof kubeconfig) ||
        env_value("KUBE_URL", kube_url, sizeof kube_url) || env_value("KUBE_TOKEN", token, sizeof token) ||
        env_value("MAYASTOR_URL", ms_url, sizeof ms_url) || env_value("PROMETHEUS_URL", prom_url, sizeof prom_url) ||
        env_value("MAYASTOR_NAMESPACE", ns, sizeof ns) || !*prom_url) {
        fprintf(stderr, "the test world did not start (logs in %s/logs)\n", g_dir);
        goto done;
    }
    double world_t0 = now_s();
    printf("test world up in %.1f s (%s)\n", world_t0 - t0, g_dir);

    /* Clients as the operator configures them (defaults). */
    cs_kube_config_t kc;
    cs_kube_config_load_options_t lo = {.kubeconfig = kubeconfig};
    if (cs_kube_config_load(&lo, &kc, &err) != 0)
        goto fail;
    int r = cs_kube_client_new(&kc, NULL, &kube, &err);
    cs_kube_config_free(&kc);
    if (r != 0)
        goto fail;
    cs_mayastor_options_t mo;
    cs_mayastor_options_default(&mo);
    mo.url = ms_url;
    if (cs_mayastor_new(&mo, &ms, &err) != 0)
        goto fail;
    cs_prom_options_t po;
    cs_prom_options_default(&po);
    po.url = prom_url;
    po.now_ns = prom_clock;
    po.now_ctx = &clk;
    if (cs_prom_new(&po, &prom, &err) != 0)
        goto fail;

    /* The policy: decoded and validated as the reconciler does, and created
     * on the API server so that its status can be written. */
    polobj = policy_object(window);
    cs_crd_problems_t problems = {0};
    if (!polobj || cs_storage_policy_decode(polobj, &pol, &problems, &err) != 0 ||
        cs_storage_policy_validate(&pol, &problems, &err) != 0) {
        char *why = cs_crd_problems_join(&problems);
        fprintf(stderr, "policy: %s\n", why ? why : err.msg);
        free(why);
        cs_crd_problems_free(&problems);
        goto done;
    }
    cs_crd_problems_free(&problems);
    cs_err_t cerr = {0};
    c.patch_ok = cs_kube_create(kube, CS_STORAGE_POLICY_RESOURCE, NULL, polobj, NULL, &cerr) == 0;
    if (!c.patch_ok)
        fprintf(stderr, "warning: cannot create the StoragePolicy (%s): status PATCH not measured\n", cerr.msg);

    double waited = 0;
    if (wait_metrics(prom_url, (size_t)count, window_ns, world_t0, &waited) != 0) {
        fprintf(stderr, "Prometheus has no IOPS for every volume\n");
        goto done;
    }
    printf("IOPS series for all %d volumes, samplingWindow filled: waited %.1f s\n", count, waited);

    c.kube = kube;
    c.ms = ms;
    c.prom = prom;
    c.clk = &clk;
    c.ns = ns;
    c.spec = &pol.spec;
    c.pvdec = cs_pv_decoder();
    c.dpdec = cs_diskpool_decoder();

    char floor_url[512];
    snprintf(floor_url, sizeof floor_url, "%s/-/ready", prom_url);
    long rss_floor = rss_floor_kb(floor_url);
    long rss_before = maxrss_kb(), vm_before = status_kb("VmRSS:");
    memtrace("before the first pass");
    if (reconcile(&c, true, first[0], &err) != 0)
        goto fail;
    for (int i = 0; i < passes; i++)
        if (reconcile(&c, true, cold[i], &err) != 0)
            goto fail;
    long rss_cold = maxrss_kb();
    for (int i = 0; i < passes; i++)
        if (reconcile(&c, false, steady[i], &err) != 0)
            goto fail;
    long rss_steady = maxrss_kb(), vm_after = status_kb("VmRSS:");
    opproc_t opp;
    cs_err_t operr = {0};
    int op_ok = operator_process(kube, 5, &opp, &operr) == 0;

    /* Baselines (child processes), same number of rounds. */
    char promql[4096];
    if (cs_prom_iops_promql(prom, 0, NULL, pol.spec.sampling_window_ns, promql, sizeof promql, &err) != 0)
        goto fail;
    base_args_t ba = {kube_url, token, ns, ms_url, prom_url, promql, (size_t)count};
    for (int i = 0; i < passes; i++)
        if (baseline_round(&ba, &base[i]) != 0) {
            fprintf(stderr, "baseline round %d failed\n", i);
            goto done;
        }

    /* ---- results ---- */
    printf("\nworld: %zu PVs (%zu of StorageClass mayastor), %zu DiskPools, %zu Mayastor volumes, %zu pools; "
           "%zu volumes without IOPS\n",
           c.npv, c.nmine, c.ndp, c.nvol, c.npool, c.unknown);
    printf("plan: %zu watched (hot %zu, warm %zu, cold %zu by current tier), %zu moves (maxConcurrentMigrations 3; "
           "not started)\n      reasons:",
           c.plan_copy_counts.watched, c.plan_copy_counts.hot, c.plan_copy_counts.warm, c.plan_copy_counts.cold,
           c.plan_copy_counts.moves);
    for (int k = 0; k < 32; k++)
        if (c.reasons[k])
            printf(" %s %zu", cs_plan_reason_name((cs_plan_reason_t)k), c.reasons[k]);
    printf("\nPromQL: %s\n\n", promql);
    printf("first reconcile (informer initial list, cold connections): wall %.1f ms, CPU %.1f ms\n\n",
           first[0][PH_TOTAL].wall * 1e3, first[0][PH_TOTAL].cpu * 1e3);
    print_passes("cold reconcile: PVs and DiskPools listed from the API server (initial list / relist)", cold, passes,
                 true);
    printf("\n");
    print_passes("steady reconcile: PVs and DiskPools from the informer cache (every 60 s requeue)", steady, passes,
                 false);

    double kw[MAX_PASSES], kc2[MAX_PASSES], mw[MAX_PASSES], mc[MAX_PASSES], pw[MAX_PASSES], pc[MAX_PASSES];
    for (int i = 0; i < passes; i++) {
        kw[i] = base[i].kube.wall;
        kc2[i] = base[i].kube.cpu;
        mw[i] = base[i].ms.wall;
        mc[i] = base[i].ms.cpu;
        pw[i] = base[i].prom.wall;
        pc[i] = base[i].prom.cpu;
    }
    printf("\nbaselines, same run (plain libcurl in a child process, bytes discarded)\n  %-30s %28s %28s\n",
           "fetch (ms)", "wall median [min-max]", "CPU median [min-max]");
    char label[96];
    snprintf(label, sizeof label, "PV+DiskPool pages %.1f MB/%ld", (double)base[0].kube_bytes / 1e6,
             base[0].kube_pages);
    print_row(label, kw, kc2, passes);
    snprintf(label, sizeof label, "Mayastor pages %.1f MB/%ld", (double)base[0].ms_bytes / 1e6, base[0].ms_pages);
    print_row(label, mw, mc, passes);
    snprintf(label, sizeof label, "Prometheus query %.2f MB", (double)base[0].prom_bytes / 1e6);
    print_row(label, pw, pc, passes);

    double bkw = stat_of(kw, passes).med, bkc = stat_of(kc2, passes).med, bmw = stat_of(mw, passes).med,
           bmc = stat_of(mc, passes).med, bpw = stat_of(pw, passes).med, bpc = stat_of(pc, passes).med;
    double klw = med_of(cold, passes, PH_PVLIST, false) + med_of(cold, passes, PH_DPLIST, false);
    double klc = med_of(cold, passes, PH_PVLIST, true) + med_of(cold, passes, PH_DPLIST, true);
    double mlw = med_of(cold, passes, PH_MSLIST, false), mlc = med_of(cold, passes, PH_MSLIST, true);
    double qw = med_of(cold, passes, PH_QUERY, false), qc = med_of(cold, passes, PH_QUERY, true);
    printf("\nratios (cold-pass medians / baseline medians)\n");
    printf("  PV+DiskPool list + decode / curl : wall %.2fx, CPU %.2fx (decode adds %.1f ms CPU)\n", klw / bkw,
           klc / bkc, (klc - bkc) * 1e3);
    printf("  Mayastor list + decode / curl    : wall %.2fx, CPU %.2fx (decode adds %.1f ms CPU)\n", mlw / bmw,
           mlc / bmc, (mlc - bmc) * 1e3);
    printf("  IOPS batch query / raw round trip: wall %.2fx, CPU %.2fx (decode adds %.1f ms CPU)\n", qw / bpw, qc / bpc,
           (qc - bpc) * 1e3);

    printf("\npeak RSS (ru_maxrss of this process): before %.1f MiB, after %d cold passes %.1f MiB, after %d steady "
           "passes %.1f MiB (growth %.1f MiB); VmRSS now %.1f MiB (was %.1f)\n",
           rss_before / 1024.0, passes + 1, rss_cold / 1024.0, passes, rss_steady / 1024.0,
           (rss_steady - rss_before) / 1024.0, vm_after / 1024.0, vm_before / 1024.0);
    long rss_file = status_kb("RssFile:"), rss_anon = status_kb("RssAnon:");
    printf("  of which file-backed (shared libraries: libcurl, OpenSSL, GnuTLS, libc...) %.1f MiB now, private (heap) "
           "%.1f MiB now; peak private ~ %.1f MiB\n",
           rss_file / 1024.0, rss_anon / 1024.0, (rss_steady - rss_file) / 1024.0);
    printf("  baseline, same run: this binary exec'd to initialize libcurl and make one GET, nothing else: "
           "peak RSS %.1f MiB; the reconciles' peak is %.1f MiB above it (%.2fx)\n",
           rss_floor / 1024.0, (rss_steady - rss_floor) / 1024.0, (double)rss_steady / (double)rss_floor);
    if (op_ok)
        printf(
            "\nthe operator process (couchestor operator, dry run, after %.0f reconciles): peak RSS (VmHWM) %.1f MiB, "
            "of which file-backed now %.1f MiB; %.1f MiB above the libcurl floor\n",
            opp.reconciles, opp.hwm_kb / 1024.0, opp.file_kb / 1024.0, (opp.hwm_kb - rss_floor) / 1024.0);
    if (op_ok && opp.steady_reconciles > 0)
        printf("  API writes in its %d reconciles after the first two: %ld (%.2f per reconcile; target <= 1: %s)%s%s\n",
               opp.steady_reconciles, opp.steady_writes, (double)opp.steady_writes / opp.steady_reconciles,
               opp.steady_writes <= opp.steady_reconciles ? "MET" : "MISSED", opp.writes_note[0] ? ": " : "",
               opp.writes_note);
    if (!op_ok)
        printf("\nthe operator process: not measured: %s\n", operr.msg);
    if (g_memtrace)
        printf("  (CS_BENCH_MEMTRACE resets VmHWM, which also resets ru_maxrss: the peaks above are not valid)\n");

    double sw = med_of(steady, passes, PH_TOTAL, false), sc = med_of(steady, passes, PH_TOTAL, true);
    double cw = med_of(cold, passes, PH_TOTAL, false), cc = med_of(cold, passes, PH_TOTAL, true);
    printf("\nper reconcile (median): steady wall %.1f ms, CPU %.1f ms; cold wall %.1f ms, CPU %.1f ms\n", sw * 1e3,
           sc * 1e3, cw * 1e3, cc * 1e3);
    if (count == 10000) {
        printf("targets for 10,000 (issue 9):\n");
        printf("  operator CPU <= 150 ms per reconcile : steady %.1f ms %s, cold %.1f ms %s\n", sc * 1e3,
               sc <= 0.150 ? "MET" : "MISSED", cc * 1e3, cc <= 0.150 ? "MET" : "MISSED");
        printf("  wall <= 0.5 s incl. the query       : steady %.3f s %s, cold %.3f s %s\n", sw,
               sw <= 0.5 ? "MET" : "MISSED", cw, cw <= 0.5 ? "MET" : "MISSED");
        printf("  peak RSS <= 16 MiB                  : reconcile passes %.1f MiB %s, operator process %.1f MiB %s "
               "(the libcurl floor is %.1f MiB)\n",
               rss_steady / 1024.0, rss_steady <= 16 * 1024 ? "MET" : "MISSED", op_ok ? opp.hwm_kb / 1024.0 : -1.0,
               op_ok && opp.hwm_kb <= 16 * 1024 ? "MET" : "MISSED", rss_floor / 1024.0);
    } else {
        printf("original's claim for 1,000 volumes: 68.5 s per reconcile, 120-210 MB\n");
        printf("  here: steady %.3f s (%.0fx faster), cold %.3f s (%.0fx faster); peak RSS %.1f MiB (%.0f-%.0fx "
               "smaller)\n",
               sw, 68.5 / sw, cw, 68.5 / cw, rss_steady / 1024.0, 120e6 / (rss_steady * 1024.0),
               210e6 / (rss_steady * 1024.0));
    }
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "operator_reconcile: %s\n", err.msg);
done:
    cs_kube_objects_free(&c.pvs, &c.pvdec);
    cs_kube_objects_free(&c.dps, &c.dpdec);
    cs_storage_policy_free(&pol);
    json_decref(polobj);
    cs_prom_free(prom);
    cs_mayastor_free(ms);
    cs_kube_client_free(kube);
    fflush(stdout);
    world_down();
    world_remove_dir();
    printf("\n");
    fflush(stdout);
    return rc;
}

int main(int argc, char **argv)
{
    bench_machine_print();
    char src[2048];
    source_dir(src, sizeof src);
    snprintf(g_sandbox, sizeof g_sandbox, "%s/tests/sandbox/sandbox", src);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    cs_log_configure(CS_LOG_ERROR, false, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (argc == 3 && strcmp(argv[1], "--rss-floor") == 0)
        return rss_floor_main(argv[2]);
    cs_operator_malloc_setup(); /* as the operator does */

    int counts[8], ncounts = 0;
    for (int i = 1; i < argc && ncounts < 8; i++)
        counts[ncounts++] = atoi(argv[i]);
    if (ncounts == 0 && getenv("CS_BENCH_VOLUMES"))
        counts[ncounts++] = atoi(getenv("CS_BENCH_VOLUMES"));
    if (ncounts == 0) {
        counts[ncounts++] = 1000;
        counts[ncounts++] = 10000;
    }
    g_memtrace = getenv("CS_BENCH_MEMTRACE") && atoi(getenv("CS_BENCH_MEMTRACE")) > 0;
    memtrace("start");
    int passes = getenv("CS_BENCH_PASSES") ? atoi(getenv("CS_BENCH_PASSES")) : 5;
    if (passes < 1)
        passes = 1;
    if (passes > MAX_PASSES)
        passes = MAX_PASSES;
    const char *window = getenv("CS_BENCH_WINDOW") ? getenv("CS_BENCH_WINDOW") : "1m";
    int status = 0;
    if (ncounts == 1) {
        status = bench(counts[0], passes, window);
    } else {
        /* One fresh process per size (this program again): ru_maxrss cannot
         * be reset, and a forked child would not count the library pages it
         * shares with its parent, so each size runs as an exec'd process, as
         * the operator does. */
        for (int i = 0; i < ncounts; i++) {
            fflush(stdout);
            pid_t pid = fork();
            if (pid == 0) {
                char n[16];
                snprintf(n, sizeof n, "%d", counts[i]);
                char *args[] = {argv[0], n, NULL};
                execv("/proc/self/exe", args);
                _exit(127);
            }
            int st = 0;
            g_child = pid;
            while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
            g_child = 0;
            status |= pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        }
    }
    curl_global_cleanup();
    return status;
}
