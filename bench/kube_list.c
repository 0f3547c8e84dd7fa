/* kube_list.c: list + decode 10,000 PersistentVolumes from the API stand-in
 * into compact structs (streamed, paginated), beside the baseline of
 * fetching the same pages with libcurl alone in the same run. Prints wall
 * time, CPU time, peak-RSS growth of each and the ratios; the decode cost
 * is the difference. Target (issue 8): decoding adds <= 150 ms CPU for the
 * PV and Mayastor lists together and <= 8 MiB to peak RSS.
 *
 * Usage: bench_kube_list [count] (default 10000). Needs python3. */
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
#include "couchestor/http.h"
#include "couchestor/kube.h"
#include "couchestor/quantity.h"

#define PAGE 500

/* ---- the stand-in ----------------------------------------------------------- */

static pid_t start_standin(char *url, size_t len)
{
    const char *src = getenv("CS_SOURCE_DIR");
    char script[4096], dir[] = "/tmp/bench-kube-XXXXXX", portfile[64];
    if (!mkdtemp(dir))
        return -1;
    if (src)
        snprintf(script, sizeof script, "%s/tests/fixtures/kube-apiserver", src);
    else {
        snprintf(script, sizeof script, "%s", __FILE__);
        char *slash = strrchr(script, '/');
        if (slash)
            *slash = '\0';
        slash = strrchr(script, '/');
        if (slash)
            *slash = '\0';
        strncat(script, "/tests/fixtures/kube-apiserver", sizeof script - strlen(script) - 1);
    }
    snprintf(portfile, sizeof portfile, "%s/port", dir);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        execlp("python3", "python3", script, "--port", "0", "--port-file", portfile, "--bookmark-interval", "3600",
               (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) {
        FILE *f = fopen(portfile, "r");
        int port = 0;
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (port > 0) {
            snprintf(url, len, "http://127.0.0.1:%d", port);
            unlink(portfile);
            rmdir(dir);
            return pid;
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    return -1;
}

/* A PersistentVolume as Mayastor's CSI provisioner creates it (~3 KB). */
static void pv_json(char *buf, size_t len, int i)
{
    char uuid[40];
    snprintf(uuid, sizeof uuid, "%08x-%04x-4%03x-8%03x-%012x", 0x5eed0000u + (unsigned)i, i & 0xffff, i & 0xfff,
             (i * 7) & 0xfff, (unsigned)i * 2654435761u);
    const char *tier = i % 3 == 0 ? "hot" : i % 3 == 1 ? "warm" : "cold";
    snprintf(
        buf, len,
        "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolume\",\"metadata\":{\"name\":\"pvc-%s\","
        "\"annotations\":{\"pv.kubernetes.io/provisioned-by\":\"io.openebs.csi-mayastor\","
        "\"volume.kubernetes.io/provisioner-deletion-secret-name\":\"\","
        "\"volume.kubernetes.io/provisioner-deletion-secret-namespace\":\"\"},"
        "\"finalizers\":[\"kubernetes.io/pv-protection\",\"external-attacher/io-openebs-csi-mayastor\"],"
        "\"labels\":{\"app.kubernetes.io/name\":\"db\",\"storage-tier\":\"%s\"},"
        "\"managedFields\":[{\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
        "\"f:metadata\":{\"f:annotations\":{\".\":{},\"f:pv.kubernetes.io/provisioned-by\":{},"
        "\"f:volume.kubernetes.io/provisioner-deletion-secret-name\":{},"
        "\"f:volume.kubernetes.io/provisioner-deletion-secret-namespace\":{}}},"
        "\"f:spec\":{\"f:accessModes\":{},\"f:capacity\":{\".\":{},\"f:storage\":{}},\"f:claimRef\":{\".\":{},"
        "\"f:apiVersion\":{},\"f:kind\":{},\"f:name\":{},\"f:namespace\":{},\"f:resourceVersion\":{},\"f:uid\":{}},"
        "\"f:csi\":{\".\":{},\"f:driver\":{},\"f:fsType\":{},\"f:volumeAttributes\":{\".\":{},"
        "\"f:openebs.io/cas-type\":{},\"f:protocol\":{},\"f:repl\":{},"
        "\"f:storage.kubernetes.io/csiProvisionerIdentity\":{}},\"f:volumeHandle\":{}},"
        "\"f:nodeAffinity\":{\".\":{},\"f:required\":{}},\"f:persistentVolumeReclaimPolicy\":{},"
        "\"f:storageClassName\":{},\"f:volumeMode\":{}}},\"manager\":\"csi-provisioner\",\"operation\":\"Update\","
        "\"time\":\"2024-05-01T10:00:00Z\"},{\"apiVersion\":\"v1\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":{"
        "\"f:status\":{\"f:phase\":{}}},\"manager\":\"kube-controller-manager\",\"operation\":\"Update\","
        "\"subresource\":\"status\",\"time\":\"2024-05-01T10:00:01Z\"}]},"
        "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"capacity\":{\"storage\":\"%dGi\"},"
        "\"claimRef\":{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"name\":\"data-db-%d\","
        "\"namespace\":\"default\",\"resourceVersion\":\"%d\",\"uid\":\"%s\"},"
        "\"csi\":{\"driver\":\"io.openebs.csi-mayastor\",\"fsType\":\"ext4\",\"volumeAttributes\":{"
        "\"openebs.io/cas-type\":\"mayastor\",\"protocol\":\"nvmf\",\"repl\":\"3\","
        "\"storage.kubernetes.io/csiProvisionerIdentity\":\"1714557600000-8081-io.openebs.csi-mayastor\"},"
        "\"volumeHandle\":\"%s\"},\"nodeAffinity\":{\"required\":{\"nodeSelectorTerms\":[{\"matchExpressions\":"
        "[{\"key\":\"openebs.io/nodename\",\"operator\":\"In\",\"values\":[\"node-%d\",\"node-%d\",\"node-%d\"]}]}]}},"
        "\"persistentVolumeReclaimPolicy\":\"Delete\",\"storageClassName\":\"mayastor-%s\","
        "\"volumeMode\":\"Filesystem\"},\"status\":{\"phase\":\"Bound\","
        "\"lastPhaseTransitionTime\":\"2024-05-01T10:00:01Z\"}}",
        uuid, tier, 1 + i % 100, i, 1000 + i, uuid, uuid, i % 16, (i + 1) % 16, (i + 2) % 16, tier);
}

static int load(const char *url, int count)
{
    cs_http_options_t o = {.base_url = url, .timeout_ms = 600000};
    cs_http_client_t *h = NULL;
    cs_err_t err = {0};
    if (cs_http_client_new(&o, &h, &err) != 0)
        return -1;
    size_t cap = 1000 * 4096 + 64;
    char *body = malloc(cap), one[4096];
    for (int base = 0; base < count; base += 1000) {
        size_t n = (size_t)snprintf(body, cap, "{\"items\":[");
        for (int i = base; i < base + 1000 && i < count; i++) {
            pv_json(one, sizeof one, i);
            n += (size_t)snprintf(body + n, cap - n, "%s%s", i > base ? "," : "", one);
        }
        n += (size_t)snprintf(body + n, cap - n, "]}");
        cs_http_request_t r = {.method = "POST",
                               .path = "/_control/load",
                               .body = body,
                               .body_len = n,
                               .content_type = "application/json"};
        cs_http_response_t resp;
        if (cs_http_do(h, &r, &resp, &err) != 0 || resp.status != 200) {
            fprintf(stderr, "load failed: %s %s\n", err.msg, resp.body ? resp.body : "");
            cs_http_response_free(&resp);
            free(body);
            cs_http_client_free(h);
            return -1;
        }
        cs_http_response_free(&resp);
    }
    free(body);
    cs_http_client_free(h);
    return 0;
}

/* ---- baseline: the same pages with libcurl alone ------------------------------ */

typedef struct raw_s {
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

static size_t curl_pages(const char *url, int *pages)
{
    CURL *c = curl_easy_init();
    size_t total = 0;
    char cont[2048] = "";
    *pages = 0;
    do {
        char full[4096];
        char *esc = cs_http_escape(cont);
        snprintf(full, sizeof full, "%s/api/v1/persistentvolumes?limit=%d%s%s", url, PAGE, *cont ? "&continue=" : "",
                 *cont ? esc : "");
        free(esc);
        raw_t r = {0};
        curl_easy_setopt(c, CURLOPT_URL, full);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, raw_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        if (curl_easy_perform(c) != CURLE_OK)
            break;
        total += r.bytes;
        (*pages)++;
        /* The list's metadata comes first; no parse needed to find it. */
        const char *k = strstr(r.head, "\"continue\":\"");
        cont[0] = '\0';
        if (k) {
            k += 12;
            const char *e = strchr(k, '"');
            if (e && (size_t)(e - k) < sizeof cont)
                snprintf(cont, sizeof cont, "%.*s", (int)(e - k), k);
        }
    } while (*cont);
    curl_easy_cleanup(c);
    return total;
}

/* ---- decode: compact projection --------------------------------------------------- */

/* What the operator keeps of a PV: ~64 bytes. Strings that repeat are
 * interned in a small table owned by the benchmark. */
typedef struct pv_s {
    uint8_t uid[16];    /* from "pvc-<uuid>" */
    uint8_t handle[16]; /* spec.csi.volumeHandle */
    uint64_t rv;
    int64_t capacity;
    const char *sc;   /* interned storageClassName */
    const char *tier; /* interned storage-tier label */
    uint8_t mayastor; /* csi driver is io.openebs.csi-mayastor */
    uint8_t bound;
} pv_t;

typedef struct interns_s {
    char *v[64];
    int n;
} interns_t;

static const char *intern(interns_t *t, const char *s, size_t n)
{
    for (int i = 0; i < t->n; i++)
        if (strlen(t->v[i]) == n && memcmp(t->v[i], s, n) == 0)
            return t->v[i];
    if (t->n == 64)
        return "?";
    t->v[t->n] = strndup(s, n);
    return t->v[t->n++];
}

static int hexv(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void uuid16(const char *s, size_t n, uint8_t out[16])
{
    int k = 0;
    for (size_t i = 0; i + 1 < n && k < 16; i++) {
        if (s[i] == '-')
            continue;
        int a = hexv(s[i]), b = hexv(s[i + 1]);
        if (a < 0 || b < 0)
            break;
        out[k++] = (uint8_t)(a << 4 | b);
        i++;
    }
}

typedef struct dec_s {
    interns_t in;
    pv_t *pvs;
    size_t n, cap;
} dec_t;

static void *pv_create(void *ctx)
{
    return calloc(1, sizeof(pv_t));
}

static int pv_field(void *ctx, void *obj, const cs_kube_field_t *f)
{
    dec_t *d = ctx;
    pv_t *pv = obj;
    const cs_jstream_event_t *ev = f->ev;
    if (ev->kind == CS_JS_MAP_START || ev->kind == CS_JS_ARRAY_START) {
        /* Subtrees the operator never reads are not even looked at. */
        if (f->depth == 2 && (cs_kube_field_key_is(f, "managedFields") || cs_kube_field_key_is(f, "annotations") ||
                              cs_kube_field_key_is(f, "claimRef") || cs_kube_field_key_is(f, "nodeAffinity") ||
                              cs_kube_field_key_is(f, "finalizers")))
            return CS_KUBE_SKIP;
        if (f->depth == 3 && cs_kube_field_key_is(f, "volumeAttributes"))
            return CS_KUBE_SKIP;
        return 0;
    }
    if (ev->kind != CS_JS_STRING || f->depth < 2 || f->depth > 3)
        return 0;
    const char *k1 = cs_kube_field_key(f, 1);
    if (!k1)
        return 0;
    if (strcmp(k1, "metadata") == 0) {
        if (CS_KUBE_AT(f, "metadata", "name") && ev->text_len > 4)
            uuid16(ev->text + 4, ev->text_len - 4, pv->uid);
        else if (CS_KUBE_AT(f, "metadata", "resourceVersion"))
            pv->rv = strtoull(ev->text, NULL, 10);
        else if (CS_KUBE_AT(f, "metadata", "labels", "storage-tier"))
            pv->tier = intern(&d->in, ev->text, ev->text_len);
    } else if (strcmp(k1, "spec") == 0) {
        if (CS_KUBE_AT(f, "spec", "storageClassName"))
            pv->sc = intern(&d->in, ev->text, ev->text_len);
        else if (CS_KUBE_AT(f, "spec", "capacity", "storage")) {
            char q[32];
            snprintf(q, sizeof q, "%.*s", (int)(ev->text_len < 31 ? ev->text_len : 31), ev->text);
            cs_quantity_parse(q, &pv->capacity, NULL);
        } else if (CS_KUBE_AT(f, "spec", "csi", "driver"))
            pv->mayastor = ev->text_len == 23 && memcmp(ev->text, "io.openebs.csi-mayastor", 23) == 0;
        else if (CS_KUBE_AT(f, "spec", "csi", "volumeHandle"))
            uuid16(ev->text, ev->text_len, pv->handle);
    } else if (CS_KUBE_AT(f, "status", "phase")) {
        pv->bound = ev->text_len == 5 && memcmp(ev->text, "Bound", 5) == 0;
    }
    return 0;
}

static void pv_destroy(void *ctx, void *obj)
{
    free(obj);
}

static int pv_keep(void *ctx, void *obj)
{
    dec_t *d = ctx;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 1024;
        pv_t *v = realloc(d->pvs, cap * sizeof *v);
        if (!v) {
            free(obj);
            return CS_ENOMEM;
        }
        d->pvs = v;
        d->cap = cap;
    }
    d->pvs[d->n++] = *(pv_t *)obj;
    free(obj);
    return 0;
}

int main(int argc, char **argv)
{
    bench_machine_print();
    int count = argc > 1 ? atoi(argv[1]) : 10000;
    char url[64];
    pid_t pid = start_standin(url, sizeof url);
    if (pid < 0) {
        fprintf(stderr, "kube_list: cannot start the API stand-in (python3 tests/fixtures/kube-apiserver)\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (load(url, count) != 0) {
        kill(pid, SIGKILL);
        return 1;
    }
    cs_kube_config_t cfg = {.server = url};
    cs_kube_client_t *c = NULL;
    cs_err_t err = {0};
    if (cs_kube_client_new(&cfg, NULL, &c, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* Warm both paths (server caches, connections, page faults). */
    int pages = 0;
    curl_pages(url, &pages);

    double best_cw = 1e9, best_cc = 1e9, best_dw = 1e9, best_dc = 1e9;
    long curl_rss = 0, dec_rss = 0;
    size_t bytes = 0, items = 0;
    for (int round = 0; round < 3; round++) {
        reset_peak();
        long rss0 = status_kb("VmRSS:");
        double w0 = now_s(), c0 = cpu_s();
        bytes = curl_pages(url, &pages);
        double cw = now_s() - w0, cc = cpu_s() - c0;
        long peak = status_kb("VmHWM:") - rss0;
        if (cw < best_cw)
            best_cw = cw;
        if (cc < best_cc)
            best_cc = cc;
        if (peak > curl_rss)
            curl_rss = peak;

        dec_t d = {0};
        cs_kube_decoder_t dec = {pv_create, pv_field, NULL, pv_destroy, &d};
        cs_kube_list_options_t lo = {.limit = PAGE};
        reset_peak();
        rss0 = status_kb("VmRSS:");
        w0 = now_s();
        c0 = cpu_s();
        int rc = cs_kube_list(c, CS_KUBE_RES_PERSISTENTVOLUMES, NULL, &lo, &dec, pv_keep, &d, NULL, &err);
        double dw = now_s() - w0, dc = cpu_s() - c0;
        peak = status_kb("VmHWM:") - rss0;
        if (rc != 0) {
            fprintf(stderr, "list failed: %s\n", err.msg);
            return 1;
        }
        items = d.n;
        if (dw < best_dw)
            best_dw = dw;
        if (dc < best_dc)
            best_dc = dc;
        if (peak > dec_rss)
            dec_rss = peak;
        size_t checked = 0;
        for (size_t i = 0; i < d.n; i++)
            checked += d.pvs[i].mayastor && d.pvs[i].bound && d.pvs[i].capacity > 0 && d.pvs[i].sc && d.pvs[i].tier;
        if (checked != d.n) {
            fprintf(stderr, "decode check failed: %zu of %zu complete\n", checked, d.n);
            return 1;
        }
        free(d.pvs);
        for (int i = 0; i < d.in.n; i++)
            free(d.in.v[i]);
    }
    printf("kube_list: %zu PersistentVolumes, %.1f MiB of JSON in %d pages of %d (best of 3)\n", items,
           (double)bytes / 1048576.0, pages, PAGE);
    printf("  %-28s %9s %9s %14s\n", "", "wall", "CPU", "peak RSS +");
    printf("  %-28s %7.0fms %7.0fms %11.1fMiB\n", "curl alone (baseline)", best_cw * 1e3, best_cc * 1e3,
           (double)curl_rss / 1024.0);
    printf("  %-28s %7.0fms %7.0fms %11.1fMiB\n", "cs_kube_list + decode", best_dw * 1e3, best_dc * 1e3,
           (double)dec_rss / 1024.0);
    printf("  decoding adds %.0f ms CPU (%.2fx the transfer's CPU), %.1f MiB peak RSS; compact form %zu bytes/PV "
           "(%.2f MiB)\n",
           (best_dc - best_cc) * 1e3, best_cc > 0 ? best_dc / best_cc : 0.0, (double)(dec_rss - curl_rss) / 1024.0,
           sizeof(pv_t), (double)(items * sizeof(pv_t)) / 1048576.0);
    printf("  wall ratio decode/curl %.2fx (the stand-in serializes pages in Python; CPU is the measure)\n",
           best_cw > 0 ? best_dw / best_cw : 0.0);
    cs_kube_client_free(c);
    curl_global_cleanup();
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return 0;
}
