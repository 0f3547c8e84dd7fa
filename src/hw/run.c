/* run.c: runs an external tool with posix_spawn (no shell), a deadline and
 * a cap on the output it may produce. */
#include "couchestor/hw.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "couchestor/clock.h"

extern char **environ;

void cs_hw_run_result_free(cs_hw_run_result_t *res)
{
    if (!res)
        return;
    free(res->out);
    memset(res, 0, sizeof *res);
    res->exit_status = -1;
}

/* Kills the child's whole process group (a shell script's children hold our
 * pipes open too) and reaps the child. */
static void cs__kill_and_reap(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static void cs__fmt_timeout(int64_t ns, char *buf, size_t len)
{
    if (ns % 1000000000 == 0)
        snprintf(buf, len, "%llds", (long long)(ns / 1000000000));
    else
        snprintf(buf, len, "%lldms", (long long)(ns / 1000000));
}

int cs_hw_run(char *const argv[], int64_t timeout_ns, size_t output_max, cs_hw_run_result_t *res, cs_err_t *err)
{
    memset(res, 0, sizeof *res);
    res->exit_status = -1;
    if (!argv || !argv[0] || argv[0][0] != '/' || timeout_ns <= 0)
        return cs_err_set(err, CS_EINVAL, "tool path '%s' must be absolute and the timeout positive",
                          argv && argv[0] ? argv[0] : "(null)");
    const char *prog = argv[0];
    struct stat st;
    errno = 0;
    if (stat(prog, &st) != 0 || !S_ISREG(st.st_mode) || access(prog, X_OK) != 0)
        return cs_err_set(err, CS_ENOTFOUND, "%s: not installed or not executable (%s)", prog,
                          strerror(errno ? errno : EACCES));

    int result = 0;
    int outp[2] = {-1, -1}, errp[2] = {-1, -1};
    size_t cap = output_max + 2 < 4096 ? output_max + 2 : 4096;
    res->out = malloc(cap);
    if (!res->out)
        return cs_err_set(err, CS_ENOMEM, "%s: out of memory", prog);
    res->out[0] = '\0';
    if (pipe2(outp, O_CLOEXEC) != 0 || pipe2(errp, O_CLOEXEC) != 0) {
        result = cs_err_set(err, CS_EIO, "%s: cannot create pipe: %s", prog, strerror(errno));
        goto close_pipes;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        result = cs_err_set(err, CS_ENOMEM, "%s: out of memory", prog);
        goto close_pipes;
    }
    if (posix_spawnattr_init(&attr) != 0) {
        result = cs_err_set(err, CS_ENOMEM, "%s: out of memory", prog);
        goto destroy_fa;
    }
    sigset_t none, dflt;
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGCHLD);
    int rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, outp[1], 1);
    rc = rc ? rc : posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
    rc = rc ? rc : posix_spawnattr_setpgroup(&attr, 0);
    rc = rc ? rc : posix_spawnattr_setsigmask(&attr, &none);
    rc = rc ? rc : posix_spawnattr_setsigdefault(&attr, &dflt);
    rc = rc ? rc
            : posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc != 0) {
        result = cs_err_set(err, CS_EIO, "%s: cannot prepare spawn: %s", prog, strerror(rc));
        goto destroy_attr;
    }
    pid_t pid;
    rc = posix_spawn(&pid, prog, &fa, &attr, argv, environ);
    if (rc != 0) {
        result = cs_err_set(err, rc == ENOENT || rc == EACCES ? CS_ENOTFOUND : CS_EIO, "%s: cannot start: %s", prog,
                            strerror(rc));
        goto destroy_attr;
    }
    close(outp[1]);
    close(errp[1]);
    outp[1] = errp[1] = -1;

    int64_t deadline = cs_clock_mono_ns() + timeout_ns;
    size_t errlen = 0;
    bool out_open = true, err_open = true, killed = false;
    while (out_open || err_open) {
        int64_t left = deadline - cs_clock_mono_ns();
        if (left <= 0) {
            char t[32];
            cs__fmt_timeout(timeout_ns, t, sizeof t);
            result = cs_err_set(err, CS_ETIMEOUT, "%s: timed out after %s and was killed", prog, t);
            killed = true;
            break;
        }
        struct pollfd pfd[2] = {{.fd = out_open ? outp[0] : -1, .events = POLLIN},
                                {.fd = err_open ? errp[0] : -1, .events = POLLIN}};
        int ms = (int)(left / 1000000) + 1;
        int pr = poll(pfd, 2, ms);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            result = cs_err_set(err, CS_EIO, "%s: poll failed: %s", prog, strerror(errno));
            killed = true;
            break;
        }
        if (out_open && (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
            /* The buffer grows to output_max + 2: one byte beyond the cap
             * is enough to know the output is too big, one more for NUL. */
            if (res->out_len + 1 >= cap && cap < output_max + 2) {
                size_t ncap = cap * 2 > output_max + 2 ? output_max + 2 : cap * 2;
                char *bigger = realloc(res->out, ncap);
                if (!bigger) {
                    result = cs_err_set(err, CS_ENOMEM, "%s: out of memory", prog);
                    killed = true;
                    break;
                }
                res->out = bigger;
                cap = ncap;
            }
            ssize_t r = read(outp[0], res->out + res->out_len, cap - 1 - res->out_len);
            if (r > 0) {
                res->out_len += (size_t)r;
                if (res->out_len > output_max) {
                    result =
                        cs_err_set(err, CS_ETOOBIG, "%s: printed more than %zu bytes and was killed", prog, output_max);
                    killed = true;
                    break;
                }
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                out_open = false;
            }
        }
        if (err_open && (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))) {
            char tmp[1024];
            ssize_t r = read(errp[0], tmp, sizeof tmp);
            if (r > 0) {
                size_t keep = sizeof res->errtext - 1 - errlen;
                if (keep > (size_t)r)
                    keep = (size_t)r;
                memcpy(res->errtext + errlen, tmp, keep);
                errlen += keep;
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                err_open = false;
            }
        }
    }
    res->out[res->out_len] = '\0';
    res->errtext[errlen] = '\0';
    while (errlen > 0 && (res->errtext[errlen - 1] == '\n' || res->errtext[errlen - 1] == ' ' ||
                          res->errtext[errlen - 1] == '\r' || res->errtext[errlen - 1] == '\t'))
        res->errtext[--errlen] = '\0';

    if (killed) {
        cs__kill_and_reap(pid);
        goto destroy_attr;
    }
    /* Both pipes closed; the child may still linger (it closed stdout but did
     * not exit): wait for it until the same deadline. */
    for (;;) {
        /* WNOWAIT: the exited leader stays a zombie, so its process group id
         * cannot be reused before we kill what is left in the group. */
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int w = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
        if (w == 0 && si.si_pid == pid)
            break;
        if (w < 0 && errno != EINTR) {
            result = cs_err_set(err, CS_EIO, "%s: waitid failed: %s", prog, strerror(errno));
            cs__kill_and_reap(pid);
            goto destroy_attr;
        }
        if (cs_clock_mono_ns() >= deadline) {
            char t[32];
            cs__fmt_timeout(timeout_ns, t, sizeof t);
            cs__kill_and_reap(pid);
            result = cs_err_set(err, CS_ETIMEOUT, "%s: timed out after %s and was killed", prog, t);
            goto destroy_attr;
        }
        struct timespec nap = {0, 2000000};
        nanosleep(&nap, NULL);
    }
    /* Descendants left in the group (a script's background job) go too. */
    kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status)) {
        res->exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        res->term_signal = WTERMSIG(status);
        result = cs_err_set(err, CS_EIO, "%s: killed by signal %d", prog, res->term_signal);
    }

destroy_attr:
    posix_spawnattr_destroy(&attr);
destroy_fa:
    posix_spawn_file_actions_destroy(&fa);
close_pipes:
    for (int i = 0; i < 2; i++) {
        if (outp[i] >= 0)
            close(outp[i]);
        if (errp[i] >= 0)
            close(errp[i]);
    }
    return result;
}
