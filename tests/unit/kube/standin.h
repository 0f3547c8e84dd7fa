/* standin.h: starts the Kubernetes API stand-in
 * (tests/fixtures/kube-apiserver) on a free loopback port for one test,
 * talks to its /_control/ endpoints, and stops it. Header-only: each
 * Criterion file of this directory is its own program.
 *
 * Every wait polls a condition until a deadline; nothing relies on a sleep
 * being long enough. */
#ifndef CS_TEST_KUBE_STANDIN_H
#define CS_TEST_KUBE_STANDIN_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "couchestor/http.h"
#include "couchestor/kube.h"

typedef struct standin_s {
    pid_t pid;
    int port;
    char url[64];
    char dir[64];
} standin_t;

static inline int64_t standin_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void standin_nap(void)
{
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
}

/* Polls cond(ctx) until true or timeout_ms passes. */
#define STANDIN_WAIT(cond, timeout_ms)                                    \
    ({                                                                    \
        int64_t standin_dl_ = standin_now_ms() + (timeout_ms);            \
        bool standin_ok_;                                                 \
        while (!(standin_ok_ = (cond)) && standin_now_ms() < standin_dl_) \
            standin_nap();                                                \
        standin_ok_;                                                      \
    })

static inline const char *standin_source_dir(void)
{
    const char *s = getenv("CS_SOURCE_DIR");
    if (s && *s)
        return s;
    /* Run by hand: this file is <src>/tests/unit/kube/standin.h. */
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s", __FILE__);
    for (int i = 0; i < 4; i++) {
        char *slash = strrchr(buf, '/');
        if (slash)
            *slash = '\0';
    }
    return buf;
}

/* Starts the stand-in; extra is a NULL-terminated argument list (may be
 * NULL). Fails the test when it does not come up within 15 s. */
static inline void standin_start(standin_t *s, const char *const *extra)
{
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/kube-standin-XXXXXX");
    cr_assert_not_null(mkdtemp(s->dir));
    char script[4200], portfile[128], logfile[128];
    snprintf(script, sizeof script, "%s/tests/fixtures/kube-apiserver", standin_source_dir());
    snprintf(portfile, sizeof portfile, "%s/port", s->dir);
    snprintf(logfile, sizeof logfile, "%s/log", s->dir);
    const char *argv[40] = {"python3", script, "--host", "127.0.0.1", "--port", "0", "--port-file", portfile};
    int argc = 8;
    for (int i = 0; extra && extra[i] && argc < 38; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid_t parent = getpid();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* Die with the test, whatever happens to it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execvp("python3", (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    int64_t deadline = standin_now_ms() + 15000;
    for (;;) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int port = 0;
            if (fscanf(f, "%d", &port) == 1 && port > 0)
                s->port = port;
            fclose(f);
            if (s->port)
                break;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            cr_assert_fail("kube-apiserver stand-in exited during start-up (see %s)", logfile);
        }
        cr_assert_lt(standin_now_ms(), deadline, "kube-apiserver stand-in did not start in 15 s");
        standin_nap();
    }
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
}

static inline void standin_stop(standin_t *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        int64_t deadline = standin_now_ms() + 3000;
        int status;
        while (waitpid(s->pid, &status, WNOHANG) == 0) {
            if (standin_now_ms() > deadline) {
                kill(s->pid, SIGKILL);
                waitpid(s->pid, &status, 0);
                break;
            }
            standin_nap();
        }
        s->pid = 0;
    }
    if (s->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "standin: could not remove %s\n", s->dir);
        s->dir[0] = '\0';
    }
}

/* A raw request to the stand-in (control endpoints, setup). Returns the
 * HTTP status; *body_out (may be NULL) receives the malloc'd body. */
static inline long standin_raw(const standin_t *s, const char *method, const char *path, const char *body,
                               const char *token, char **body_out)
{
    cs_http_options_t o = {.base_url = s->url, .bearer_token = token, .timeout_ms = 10000};
    cs_http_client_t *h = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_client_new(&o, &h, &err), 0, "%s", err.msg);
    cs_http_request_t r = {.method = method,
                           .path = path,
                           .body = body,
                           .body_len = body ? strlen(body) : 0,
                           .content_type = body ? "application/json" : NULL};
    cs_http_response_t resp;
    int rc = cs_http_do(h, &r, &resp, &err);
    cr_assert_eq(rc, 0, "%s %s: %s", method, path, err.msg);
    long status = resp.status;
    if (body_out) {
        *body_out = resp.body;
        resp.body = NULL;
    }
    cs_http_response_free(&resp);
    cs_http_client_free(h);
    return status;
}

/* POST /_control/faults with one rule (a JSON object). */
static inline void standin_fault(const standin_t *s, const char *rule)
{
    long st = standin_raw(s, "POST", "/_control/faults", rule, NULL, NULL);
    cr_assert_eq(st, 200, "adding fault %s", rule);
}

static inline cs_kube_client_t *standin_client(const standin_t *s, const char *token,
                                               const cs_kube_client_options_t *opts)
{
    cs_kube_config_t cfg = {.server = (char *)s->url, .token = (char *)token, .namespace = (char *)"default"};
    cs_kube_client_t *c = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_client_new(&cfg, opts, &c, &err), 0, "%s", err.msg);
    return c;
}

/* Number of requests the stand-in logged whose method and path match. */
static inline int standin_count_requests(const standin_t *s, const char *method, const char *path_part)
{
    char *body = NULL;
    cr_assert_eq(standin_raw(s, "GET", "/_control/requests", NULL, NULL, &body), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    cr_assert_not_null(j);
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(j, "requests"), i, r)
    {
        const char *m = json_string_value(json_object_get(r, "method"));
        const char *p = json_string_value(json_object_get(r, "path"));
        if (m && p && strcmp(m, method) == 0 && strstr(p, path_part))
            n++;
    }
    json_decref(j);
    return n;
}

#endif
