/* L2 restart after SIGKILL: a child process writes entries and acknowledges
 * each one over a pipe; the parent kills it mid-stream with SIGKILL, reopens
 * the directory and checks that every acknowledged entry (or a newer write
 * of the same key) reads back identical and nothing corrupt is returned.
 * Three rounds, each continuing on the previous round's files. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "couchestor/cache_l2.h"

#define KEYS 150
#define VLEN 4096

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cs-l2-kill-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_expect_eq(system(cmd), 0);
}

static const cs_l2_config_t *config(void)
{
    static cs_l2_config_t cfg;
    cfg = (cs_l2_config_t){.dir = dir,
                           .capacity_bytes = 64 << 20,
                           .segment_size = 256 << 10,
                           .compression = {.algorithm = CS_COMPRESS_LZ4, .min_size = 512}};
    return &cfg;
}

/* A value that names its key and version, so any mix-up is detectable. */
static void make_value(uint8_t *v, int key, uint32_t version)
{
    for (size_t i = 0; i < VLEN; i += 8) {
        uint32_t a = (uint32_t)key, b = version ^ (uint32_t)(i * 2654435761u);
        memcpy(v + i, &a, 4);
        memcpy(v + i + 4, &b, 4);
    }
}

static void child(int fd, uint32_t first_version)
{
    cs_l2_t *l2 = NULL;
    if (cs_l2_open(config(), &l2, NULL) != 0)
        _exit(2);
    uint8_t v[VLEN];
    for (uint32_t version = first_version;; version++) {
        int key = (int)(version % KEYS);
        char name[32];
        snprintf(name, sizeof name, "key-%d", key);
        make_value(v, key, version);
        if (key % 7 == 3 && version % 3 == 0) {
            int rc = cs_l2_delete(l2, name, strlen(name), NULL);
            if (rc != 0 && rc != CS_ENOTFOUND)
                _exit(3);
            version |= 0x80000000u; /* ack a delete with the top bit */
        } else if (cs_l2_put(l2, name, strlen(name), v, VLEN, NULL) != 0) {
            _exit(4);
        }
        if (write(fd, &version, sizeof version) != sizeof version)
            _exit(5);
        version &= 0x7fffffffu;
    }
}

Test(l2_restart, sigkill_mid_write_loses_no_acknowledged_entry, .init = setup, .fini = teardown)
{
    /* last acknowledged version per key; -1 none, -2 deleted */
    static int64_t acked[KEYS], deleted_at[KEYS];
    for (int k = 0; k < KEYS; k++)
        acked[k] = deleted_at[k] = -1;
    uint32_t next = 1;
    for (int round = 0; round < 3; round++) {
        int p[2];
        cr_assert_eq(pipe(p), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(p[0]);
            child(p[1], next);
        }
        close(p[1]);
        uint32_t version;
        int n = 0;
        while (n < 400 && read(p[0], &version, sizeof version) == sizeof version) {
            bool del = version & 0x80000000u;
            version &= 0x7fffffffu;
            acked[version % KEYS] = del ? -2 : (int64_t)version;
            if (del)
                deleted_at[version % KEYS] = version;
            next = version + 1;
            n++;
        }
        kill(pid, SIGKILL);
        /* Acks already in the pipe are acknowledged writes too. */
        while (read(p[0], &version, sizeof version) == sizeof version) {
            bool del = version & 0x80000000u;
            version &= 0x7fffffffu;
            acked[version % KEYS] = del ? -2 : (int64_t)version;
            if (del)
                deleted_at[version % KEYS] = version;
            next = version + 1;
        }
        close(p[0]);
        int status;
        waitpid(pid, &status, 0);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the writer must die by SIGKILL (status %d)",
                  status);
        next += 1; /* skip a version that may be half written */

        cs_l2_t *l2 = NULL;
        cs_err_t err = {0};
        cr_assert_eq(cs_l2_open(config(), &l2, &err), 0, "%s", err.msg);
        uint8_t got[VLEN], want[VLEN];
        for (int k = 0; k < KEYS; k++) {
            char name[32];
            snprintf(name, sizeof name, "key-%d", k);
            size_t len = 0;
            int rc = cs_l2_get(l2, name, strlen(name), got, sizeof got, &len, NULL);
            if (acked[k] >= 0)
                cr_assert_eq(rc, 0, "round %d: acknowledged key-%d (version %lld) is missing", round, k,
                             (long long)acked[k]);
            if (rc == CS_ENOTFOUND)
                continue;
            cr_assert_eq(rc, 0);
            cr_assert_eq(len, (size_t)VLEN);
            uint32_t key_in, version_in;
            memcpy(&key_in, got, 4);
            memcpy(&version_in, got + 4, 4);
            cr_assert_eq(key_in, (uint32_t)k, "value of key-%d names key %u", k, key_in);
            /* The stored version is the acknowledged one or a newer write
             * that reached the file before the kill. */
            cr_assert(acked[k] < 0 || (int64_t)version_in >= acked[k],
                      "key-%d: version %u older than acknowledged %lld", k, version_in, (long long)acked[k]);
            cr_assert(acked[k] != -2 || (int64_t)version_in > deleted_at[k],
                      "key-%d: version %u was deleted at %lld and came back", k, version_in, (long long)deleted_at[k]);
            make_value(want, k, version_in);
            cr_assert_eq(memcmp(got, want, VLEN), 0, "key-%d: bytes differ", k);
        }
        cs_l2_stats_t st;
        cs_l2_stats(l2, &st);
        cr_expect_eq(st.corrupt, 0u);
        cs_l2_close(&l2);
    }
}
