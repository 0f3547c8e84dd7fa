/* prom_batch.c: IOPS of N volumes (1,000 by default, 10,000 with an
 * argument or CS_BENCH_VOLUMES) from a real Prometheus scraping the Mayastor
 * simulator: one batch query (`sum by (pv_name) (rate(...) + rate(...))`,
 * what the operator does per policy) against N single-volume queries (what
 * the seed did, in sequence) in the same run. Prints both times and the
 * ratio.
 *
 * Starts the test world (tests/sandbox/sandbox up, no Kubernetes objects
 * beyond the stand-in) unless PROMETHEUS_URL points at a running
 * Prometheus whose series are named pvc-..., and stops it. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "couchestor/http.h"
#include "couchestor/prom.h"

#define WINDOW_NS (INT64_C(10) * 1000000000)
#define BATCH_RUNS 5

static void source_dir(char *out, size_t len)
{
    const char *src = getenv("CS_SOURCE_DIR");
    if (src) {
        snprintf(out, len, "%s", src);
        return;
    }
    snprintf(out, len, "%s", __FILE__); /* <src>/bench/prom_batch.c */
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(out, '/');
        if (slash)
            *slash = '\0';
    }
}

static int run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        /* the launcher prints the world's environment: not this program's output */
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0)
            dup2(fd, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int sandbox(const char *verb, const char *dir, const char *scenario)
{
    char src[2048], exe[4096];
    source_dir(src, sizeof src);
    snprintf(exe, sizeof exe, "%s/tests/sandbox/sandbox", src);
    char *argv_up[] = {exe, (char *)"up", (char *)scenario, (char *)"--dir", (char *)dir, NULL};
    char *argv_down[] = {exe, (char *)"down", (char *)"--dir", (char *)dir, NULL};
    return run(strcmp(verb, "up") == 0 ? argv_up : argv_down);
}

static int env_value(const char *dir, const char *key, char *out, size_t len)
{
    char path[512], line[2048], prefix[64];
    snprintf(path, sizeof path, "%s/env", dir);
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

/* The pv_name of every volume: "pvc-" + spec.uuid from the simulator. */
static char **volume_names(const char *mayastor_url, size_t *n)
{
    cs_http_options_t o = {.base_url = mayastor_url, .timeout_ms = 120000, .max_response_bytes = 1 << 30};
    cs_http_client_t *h = NULL;
    cs_err_t err = {0};
    *n = 0;
    if (cs_http_client_new(&o, &h, &err))
        return NULL;
    cs_http_request_t r = {.method = "GET", .path = "/v0/volumes?max_entries=0"};
    cs_http_response_t resp;
    char **names = NULL;
    if (cs_http_do(h, &r, &resp, &err) == 0 && resp.status == 200) {
        size_t cap = 1024;
        names = malloc(cap * sizeof *names);
        /* each volume's spec.uuid is the first "uuid" of its entry */
        for (const char *p = strstr(resp.body, "{\"spec\":{\"uuid\":\""); p && names;
             p = strstr(p + 1, "{\"spec\":{\"uuid\":\"")) {
            if (*n == cap)
                names = realloc(names, (cap *= 2) * sizeof *names);
            names[*n] = malloc(48);
            snprintf(names[*n], 48, "pvc-%.36s", p + 17);
            (*n)++;
        }
    }
    cs_http_response_free(&resp);
    cs_http_client_free(h);
    return names;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    bench_machine_print();
    int count = argc > 1 ? atoi(argv[1]) : getenv("CS_BENCH_VOLUMES") ? atoi(getenv("CS_BENCH_VOLUMES")) : 1000;
    if (count <= 0)
        count = 1000;
    char dir[] = "/tmp/bench-prom-XXXXXX", prom_url[256] = "", ms_url[256] = "";
    int started = 0;
    if (getenv("PROMETHEUS_URL") && getenv("MAYASTOR_URL")) {
        snprintf(prom_url, sizeof prom_url, "%s", getenv("PROMETHEUS_URL"));
        snprintf(ms_url, sizeof ms_url, "%s", getenv("MAYASTOR_URL"));
    } else {
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        char scen[512];
        snprintf(scen, sizeof scen, "%s/scenario.json", dir);
        FILE *f = fopen(scen, "w");
        if (!f)
            return 1;
        fprintf(f,
                "{\"name\":\"bench-prom\",\"nodes\":[\"n1\",\"n2\",\"n3\"],\"pools\":["
                "{\"id\":\"p1\",\"node\":\"n1\",\"capacity\":\"100Ti\"},{\"id\":\"p2\",\"node\":\"n2\",\"capacity\":"
                "\"100Ti\"},"
                "{\"id\":\"p3\",\"node\":\"n3\",\"capacity\":\"100Ti\"}],\"createPVs\":false,"
                "\"volumeSets\":[{\"count\":%d,\"size\":\"1Gi\",\"replicas\":1,\"loadCycle\":["
                "{\"kind\":\"steady\",\"iops\":100},{\"kind\":\"steady\",\"iops\":1500},{\"kind\":\"steady\",\"iops\":"
                "7000}]}]}\n",
                count);
        fclose(f);
        double t0 = now_s();
        started = 1;
        if (sandbox("up", dir, scen) != 0 || env_value(dir, "PROMETHEUS_URL", prom_url, sizeof prom_url) ||
            env_value(dir, "MAYASTOR_URL", ms_url, sizeof ms_url)) {
            fprintf(stderr, "the test world did not start (see %s)\n", dir);
            sandbox("down", dir, NULL);
            return 1;
        }
        printf("test world with %d volumes ready in %.1f s (Prometheus %s)\n", count, now_s() - t0, prom_url);
    }
    int rc = 1;
    size_t n = 0;
    char **names = volume_names(ms_url, &n);
    cs_prom_t *p = NULL;
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = prom_url;
    o.cache_ttl_ns = 0; /* measure queries, not the cache */
    o.timeout_ms = 60000;
    cs_err_t err = {0};
    cs_prom_iops_t *out = calloc(n ? n : 1, sizeof *out);
    if (!names || n == 0 || cs_prom_new(&o, &p, &err) != 0) {
        fprintf(stderr, "setup failed: %s\n", err.msg);
        goto done;
    }
    /* wait until every volume has a full window of samples */
    double deadline = now_s() + 120;
    size_t known = 0;
    while (now_s() < deadline) {
        known = 0;
        if (cs_prom_volumes_iops(p, (const char *const *)names, n, WINDOW_NS, out, &err) == 0)
            for (size_t i = 0; i < n; i++)
                known += cs_prom_iops_known(&out[i]);
        if (known == n)
            break;
        sleep(1);
    }
    if (known != n) {
        fprintf(stderr, "only %zu of %zu volumes have IOPS after 120 s: %s\n", known, n, err.msg);
        goto done;
    }
    /* settle: a window entirely after the first scrape */
    sleep(WINDOW_NS / 1000000000);

    double batch[BATCH_RUNS];
    for (int r = 0; r < BATCH_RUNS; r++) {
        double t0 = now_s();
        if (cs_prom_volumes_iops(p, (const char *const *)names, n, WINDOW_NS, out, &err) != 0) {
            fprintf(stderr, "batch failed: %s\n", err.msg);
            goto done;
        }
        batch[r] = now_s() - t0;
    }
    qsort(batch, BATCH_RUNS, sizeof *batch, cmp_double);
    /* the simulator lists volumes in uuid order, not the script's: check
     * that every value is within 10% of one of the scripted levels */
    size_t plausible = 0;
    static const double levels[] = {100, 1500, 7000};
    for (size_t i = 0; i < n; i++)
        for (int l = 0; l < 3; l++)
            if (cs_prom_iops_known(&out[i]) && fabs(out[i].iops - levels[l]) <= 0.1 * levels[l])
                plausible++;
    double t0 = now_s();
    size_t single_known = 0;
    for (size_t i = 0; i < n; i++) {
        cs_prom_iops_t v;
        if (cs_prom_volume_iops(p, names[i], WINDOW_NS, &v, &err) != 0) {
            fprintf(stderr, "single query failed: %s\n", err.msg);
            goto done;
        }
        single_known += cs_prom_iops_known(&v);
    }
    double singles = now_s() - t0;
    printf("volumes: %zu (batch: %zu within 10%% of their scripted IOPS; singles: %zu known), rate window 10s, "
           "1 s scrapes\n",
           n, plausible, single_known);
    printf("one batch query        : median %8.1f ms (min %.1f, max %.1f over %d runs)\n", batch[BATCH_RUNS / 2] * 1e3,
           batch[0] * 1e3, batch[BATCH_RUNS - 1] * 1e3, BATCH_RUNS);
    printf("%zu single queries : %8.1f ms in sequence (%.2f ms each)\n", n, singles * 1e3, singles * 1e3 / (double)n);
    printf("ratio singles / batch  : %.1fx\n", singles / batch[BATCH_RUNS / 2]);
    rc = 0;
done:
    cs_prom_free(p);
    free(out);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (started) {
        sandbox("down", dir, NULL);
        char path[512];
        snprintf(path, sizeof path, "rm -rf '%s'", dir);
        if (system(path) != 0)
            fprintf(stderr, "could not remove %s\n", dir);
    }
    return rc;
}
