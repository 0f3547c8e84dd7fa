/* world.h: helpers for integration tests that run against the test world
 * started by tests/sandbox/sandbox (a CTest fixture): reading its env file,
 * small JSON requests to the stand-ins' control endpoints, deadlines. */
#ifndef CS_ITEST_WORLD_H
#define CS_ITEST_WORLD_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "couchestor/http.h"
#include "couchestor/json.h"

typedef struct world_s {
    char prom_url[256];
    char mayastor_url[256];
    char control_url[256]; /* MAYASTOR_CONTROL_URL */
    char kube_url[256];
    char kube_token[256];
    char ns[128];
} world_t;

static inline int64_t world_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void world__value(const char *line, const char *key, char *out, size_t cap)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "export %s='", key);
    size_t pl = strlen(prefix);
    if (strncmp(line, prefix, pl) != 0)
        return;
    const char *v = line + pl;
    const char *end = strrchr(v, '\'');
    size_t n = end ? (size_t)(end - v) : strlen(v);
    if (n >= cap)
        n = cap - 1;
    memcpy(out, v, n);
    out[n] = '\0';
}

/* Reads $CS_WORLD_DIR/env written by `sandbox up`. */
static inline void world_load(world_t *w)
{
    memset(w, 0, sizeof *w);
    const char *dir = getenv("CS_WORLD_DIR");
    cr_assert_not_null(dir, "CS_WORLD_DIR is not set: run through ctest (the fixture starts the world)");
    char path[1024];
    snprintf(path, sizeof path, "%s/env", dir);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing: did the world fixture (sandbox up) fail? see %s", path, dir);
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        world__value(line, "PROMETHEUS_URL", w->prom_url, sizeof w->prom_url);
        world__value(line, "MAYASTOR_URL", w->mayastor_url, sizeof w->mayastor_url);
        world__value(line, "MAYASTOR_CONTROL_URL", w->control_url, sizeof w->control_url);
        world__value(line, "KUBE_URL", w->kube_url, sizeof w->kube_url);
        world__value(line, "KUBE_TOKEN", w->kube_token, sizeof w->kube_token);
        world__value(line, "MAYASTOR_NAMESPACE", w->ns, sizeof w->ns);
    }
    fclose(f);
    cr_assert(w->mayastor_url[0], "MAYASTOR_URL missing in %s", path);
}

/* method base+path with an optional JSON body; returns the decoded JSON
 * reply (or NULL for an empty one) and the status in *status. */
static inline json_t *world_request(const char *method, const char *base, const char *path, const char *body,
                                    const char *token, long *status)
{
    cs_http_options_t ho = {.base_url = base, .bearer_token = token, .timeout_ms = 20000};
    cs_http_client_t *c = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_client_new(&ho, &c, &err), 0, "%s", err.msg);
    cs_http_request_t req = {.method = method,
                             .path = path,
                             .body = body,
                             .body_len = body ? strlen(body) : 0,
                             .content_type = body ? "application/json" : NULL};
    cs_http_response_t resp;
    int rc = cs_http_do(c, &req, &resp, &err);
    cr_assert_eq(rc, 0, "%s %s%s: %s", method, base, path, err.msg);
    if (status)
        *status = resp.status;
    json_t *out = NULL;
    if (resp.body_len > 0 && resp.body[0] == '{')
        cs_json_parse(resp.body, resp.body_len, path, &out, &err);
    cs_http_response_free(&resp);
    cs_http_client_free(c);
    return out;
}

#endif
