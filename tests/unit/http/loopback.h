/* loopback.h: starts tests/unit/http/server.py on 127.0.0.1 for the http
 * module's test programs (a Criterion suite's .init/.fini). Header-only
 * (static functions) so each test program gets its own copy. */
#ifndef CS_TEST_HTTP_LOOPBACK_H
#define CS_TEST_HTTP_LOOPBACK_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t server_pid;
static int server_stdin = -1;
static char base_url[64];

/* The server prints its port, then serves until its stdin closes, so it
 * dies with the test process even when stop_server does not run. */
static void start_server(void)
{
    int in[2], out[2];
    cr_assert_eq(pipe(in), 0);
    cr_assert_eq(pipe(out), 0);
    server_pid = fork();
    cr_assert_geq(server_pid, 0);
    if (server_pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        char script[4096];
        snprintf(script, sizeof script, "%s/tests/unit/http/server.py", getenv("CS_SOURCE_DIR"));
        execlp("python3", "python3", script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    server_stdin = in[1];
    char line[32] = "";
    FILE *f = fdopen(out[0], "r");
    cr_assert_not_null(fgets(line, sizeof line, f), "server did not start");
    fclose(f);
    snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", atoi(line));
}

static void stop_server(void)
{
    if (server_stdin >= 0)
        close(server_stdin);
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
    }
}

#endif
