/* mayastor_list.c: list + decode 10,000 Mayastor volumes from the REST
 * simulator (paginated, streamed into compact structs) beside the baseline
 * of fetching the same pages with libcurl alone in the same run. Prints
 * wall and CPU time of each, the CPU the decoding adds, the ratio, the
 * peak-RSS growth and the bytes the decoded list holds. Target (issue 8):
 * decoding adds <= 150 ms CPU for the PV and Mayastor lists together and
 * <= 8 MiB to peak RSS.
 *
 * Usage: bench_mayastor_list [count] (default 10000; or CS_BENCH_VOLUMES).
 * Starts tests/fixtures/mayastor-sim itself (python3) unless MAYASTOR_URL
 * points at a running one, and stops it. */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "couchestor/mayastor.h"

#define PAGE 500
#define RUNS 3

static void source_dir(char *out, size_t len)
{
    const char *src = getenv("CS_SOURCE_DIR");
    if (src) {
        snprintf(out, len, "%s", src);
        return;
    }
    snprintf(out, len, "%s", __FILE__); /* <src>/bench/mayastor_list.c */
    for (int i = 0; i < 2; i++) {
        char *slash = strrchr(out, '/');
        if (slash)
            *slash = '\0';
    }
}

/* ---- the simulator ---------------------------------------------------------- */

static pid_t start_sim(int count, char *url, size_t len, char *dir)
{
    char src[2048], script[4096], scen[4096], portfile[4096];
    source_dir(src, sizeof src);
    snprintf(script, sizeof script, "%s/tests/fixtures/mayastor-sim", src);
    snprintf(scen, sizeof scen, "%s/scenario.json", dir);
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    FILE *f = fopen(scen, "w");
    if (!f)
        return -1;
    /* 2 replicas per volume on 6 nodes: ~2.4 KB of JSON per volume, as a
     * real cluster's (23 MB for 10,000 in DESIGN.md) */
    fprintf(f, "{\"name\":\"bench-list\",\"nodes\":[\"n1\",\"n2\",\"n3\",\"n4\",\"n5\",\"n6\"],\"pools\":[");
    for (int i = 1; i <= 6; i++)
        fprintf(f,
                "%s{\"id\":\"pool-%d\",\"node\":\"n%d\",\"capacity\":\"100Ti\",\"labels\":{\"storage-tier\":\"%s\"}}",
                i > 1 ? "," : "", i, i,
                i <= 2   ? "hot"
                : i <= 4 ? "warm"
                         : "cold");
    fprintf(f,
            "],\"volumeSets\":[{\"count\":%d,\"size\":\"1Gi\",\"replicas\":2,\"poolsCycle\":"
            "[[\"pool-1\",\"pool-3\"],[\"pool-2\",\"pool-5\"],[\"pool-4\",\"pool-6\"]]}]}\n",
            count);
    fclose(f);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execlp("python3", "python3", script, "--port", "0", "--port-file", portfile, "--scenario", scen, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 24000; i++) { /* 120 s */
        int port = 0;
        f = fopen(portfile, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(url, len, "http://127.0.0.1:%d", port);
            return pid;
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid)
            return -1;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

/* ---- baseline: the same pages with libcurl alone ------------------------------ */

static size_t discard(char *data, size_t size, size_t nmemb, void *ctx)
{
    (void)data;
    *(size_t *)ctx += size * nmemb;
    return size * nmemb;
}

/* Real Mayastor's next_token is the offset of the next entry, so the pages
 * are known without parsing them. */
static int curl_pages(const char *base, int count, size_t *bytes)
{
    CURL *h = curl_easy_init();
    if (!h)
        return -1;
    *bytes = 0;
    int rc = 0;
    for (int tok = 0; tok < count && rc == 0; tok += PAGE) {
        char url[512];
        if (tok == 0)
            snprintf(url, sizeof url, "%s/v0/volumes?max_entries=%d", base, PAGE);
        else
            snprintf(url, sizeof url, "%s/v0/volumes?max_entries=%d&starting_token=%d", base, PAGE, tok);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, bytes);
        long code = 0;
        if (curl_easy_perform(h) != CURLE_OK || (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code), code != 200))
            rc = -1;
    }
    curl_easy_cleanup(h);
    return rc;
}

int main(int argc, char **argv)
{
    bench_machine_print();
    int count = argc > 1 ? atoi(argv[1]) : getenv("CS_BENCH_VOLUMES") ? atoi(getenv("CS_BENCH_VOLUMES")) : 10000;
    if (count <= 0)
        count = 10000;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char url[256], dir[] = "/tmp/bench-mayastor-XXXXXX";
    pid_t pid = 0;
    if (getenv("MAYASTOR_URL")) {
        snprintf(url, sizeof url, "%s", getenv("MAYASTOR_URL"));
    } else {
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
        double t0 = now_s();
        pid = start_sim(count, url, sizeof url, dir);
        if (pid < 0) {
            fprintf(stderr, "mayastor-sim did not start (python3 and tests/fixtures needed)\n");
            return 1;
        }
        printf("simulator with %d volumes ready in %.1f s at %s\n", count, now_s() - t0, url);
    }
    cs_mayastor_options_t o;
    cs_mayastor_options_default(&o);
    o.url = url;
    o.page_size = PAGE;
    o.timeout_ms = 600000;
    cs_mayastor_t *ms = NULL;
    cs_err_t e = {0};
    int rc = cs_mayastor_new(&o, &ms, &e);
    size_t bytes = 0;
    if (rc == 0 && curl_pages(url, count, &bytes) != 0) /* warm-up: the simulator caches its JSON */
        rc = -1;
    double best_curl_wall = 1e9, best_curl_cpu = 1e9, best_wall = 1e9, best_cpu = 1e9;
    long curl_peak = 0, dec_peak = 0;
    size_t decoded = 0, mem = 0;
    for (int r = 0; rc == 0 && r < RUNS; r++) {
        reset_peak();
        long hwm0 = status_kb("VmHWM:");
        double w0 = now_s(), c0 = cpu_s();
        if (curl_pages(url, count, &bytes) != 0) {
            rc = -1;
            break;
        }
        double w1 = now_s(), c1 = cpu_s();
        long hwm1 = status_kb("VmHWM:");
        if (w1 - w0 < best_curl_wall)
            best_curl_wall = w1 - w0;
        if (c1 - c0 < best_curl_cpu)
            best_curl_cpu = c1 - c0;
        if (hwm1 - hwm0 > curl_peak)
            curl_peak = hwm1 - hwm0;

        reset_peak();
        hwm0 = status_kb("VmHWM:");
        cs_mayastor_volumes_t vols;
        cs_mayastor_err_t merr = {0};
        w0 = now_s();
        c0 = cpu_s();
        rc = cs_mayastor_volumes_list(ms, &vols, &merr);
        w1 = now_s();
        c1 = cpu_s();
        hwm1 = status_kb("VmHWM:");
        if (rc) {
            fprintf(stderr, "list failed: %s\n", merr.err.msg);
            cs_mayastor_volumes_free(&vols);
            break;
        }
        decoded = vols.count;
        mem = cs_mayastor_volumes_memory(&vols);
        if (w1 - w0 < best_wall)
            best_wall = w1 - w0;
        if (c1 - c0 < best_cpu)
            best_cpu = c1 - c0;
        if (hwm1 - hwm0 > dec_peak)
            dec_peak = hwm1 - hwm0;
        cs_mayastor_volumes_free(&vols);
    }
    if (rc == 0) {
        printf("volumes: %zu decoded of %d, %.1f MB of JSON in pages of %d\n", decoded, count, bytes / 1e6, PAGE);
        printf("libcurl alone (baseline): wall %7.1f ms  cpu %6.1f ms  peak RSS +%.2f MiB\n", best_curl_wall * 1e3,
               best_curl_cpu * 1e3, curl_peak / 1024.0);
        printf("list + decode           : wall %7.1f ms  cpu %6.1f ms  peak RSS +%.2f MiB\n", best_wall * 1e3,
               best_cpu * 1e3, dec_peak / 1024.0);
        printf("decoding adds %.1f ms CPU (%.2fx the transfer's CPU), wall ratio %.2fx; peak RSS +%.2f MiB over "
               "the baseline\n",
               (best_cpu - best_curl_cpu) * 1e3, best_curl_cpu > 0 ? best_cpu / best_curl_cpu : 0,
               best_wall / best_curl_wall, (dec_peak - curl_peak) / 1024.0);
        printf("decoded list holds %.2f MiB (%.0f bytes per volume)\n", mem / 1048576.0,
               decoded ? (double)mem / (double)decoded : 0);
    }
    cs_mayastor_free(ms);
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        char p[256];
        snprintf(p, sizeof p, "%s/scenario.json", dir);
        unlink(p);
        snprintf(p, sizeof p, "%s/port", dir);
        unlink(p);
        rmdir(dir);
    }
    curl_global_cleanup();
    return rc ? 1 : 0;
}
