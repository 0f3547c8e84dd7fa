/* Concurrency test (also run under ThreadSanitizer): one cs_prom_t shared by
 * several threads asking for single and batch IOPS at once, with the cache
 * on; every answer must be the scripted value. Criterion's runner does not
 * start under TSan here, so a TSan build runs the same check from a plain
 * main (as tests/unit/cache/stress.c does). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "couchestor/prom.h"
#include "prom/fake_http.h"

static const char REPLY[] = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
                            "{\"metric\":{\"pv_name\":\"pvc-a\"},\"value\":[1,\"10\"]},"
                            "{\"metric\":{\"pv_name\":\"pvc-b\"},\"value\":[1,\"20\"]},"
                            "{\"metric\":{\"pv_name\":\"pvc-c\"},\"value\":[1,\"30\"]}]}}";

static void handler(void *ctx, const fake_req_t *req, fake_resp_t *resp)
{
    (void)ctx;
    (void)req;
    fake_reply(resp, 200, REPLY);
}

typedef struct {
    cs_prom_t *p;
    int id;
    int bad;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    const char *vols[] = {"pvc-a", "pvc-b", "pvc-c", "pvc-none"};
    static const double want[] = {10, 20, 30};
    for (int i = 0; i < 30; i++) {
        cs_err_t err = {0};
        if (i % 3 == w->id % 3) {
            cs_prom_iops_t out[4];
            if (cs_prom_volumes_iops(w->p, vols, 4, (1 + i % 2) * INT64_C(60000000000), out, &err) != 0)
                w->bad++;
            for (int k = 0; k < 3; k++)
                if (out[k].state != CS_PROM_IOPS_KNOWN || out[k].iops != want[k])
                    w->bad++;
            if (out[3].state != CS_PROM_IOPS_NO_DATA)
                w->bad++;
        } else {
            cs_prom_iops_t v;
            int k = (w->id + i) % 3;
            if (cs_prom_volume_iops(w->p, vols[k], 0, &v, &err) != 0 || v.state != CS_PROM_IOPS_KNOWN ||
                v.iops != want[k])
                w->bad++;
        }
        if (i % 10 == 9)
            cs_prom_cache_clear(w->p);
    }
    return NULL;
}

/* The whole run; returns the number of failures (no Criterion assertion
 * inside, so it also runs without Criterion's runner). */
static int run_stress(void)
{
    fake_http_t *srv = fake_http_start(handler, NULL);
    cs_prom_options_t o;
    cs_prom_options_default(&o);
    o.url = srv->url;
    o.cache_max_entries = 4; /* forces eviction under contention too */
    cs_prom_t *p = NULL;
    cs_err_t err = {0};
    if (cs_prom_new(&o, &p, &err) != 0) {
        fprintf(stderr, "cs_prom_new: %s\n", err.msg);
        fake_http_stop(srv);
        return 1;
    }
    pthread_t t[6];
    worker_t w[6];
    for (int i = 0; i < 6; i++) {
        w[i] = (worker_t){.p = p, .id = i};
        pthread_create(&t[i], NULL, work, &w[i]);
    }
    int failures = 0;
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        if (w[i].bad) {
            fprintf(stderr, "worker %d saw %d wrong answers\n", i, w[i].bad);
            failures++;
        }
    }
    if (fake_http_count(srv) == 0) {
        fprintf(stderr, "no request reached the server\n");
        failures++;
    }
    cs_prom_free(p);
    fake_http_stop(srv);
    return failures;
}

Test(stress, shared_client_and_cache)
{
    cr_expect_eq(run_stress(), 0);
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CS_STRESS_PLAIN_MAIN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CS_STRESS_PLAIN_MAIN 1
#endif
#ifdef CS_STRESS_PLAIN_MAIN
int main(void)
{
    int f = run_stress();
    printf("%d passed, %d failed\n", f == 0, f != 0);
    return f != 0;
}
#endif
