/* cmd_operator.c: `couchestor operator`: runs the tiering operator. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "couchestor/config.h"
#include "couchestor/controller.h"
#include "couchestor/log.h"

extern char **environ;

static atomic_int cs__stop;

static void cs__on_signal(int sig)
{
    (void)sig;
    atomic_store(&cs__stop, 1);
}

int cs_cmd_operator(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: couchestor operator [FLAGS]\n\n"
                   "Runs the tiering operator: watches StoragePolicy and ErasureCodingPolicy\n"
                   "objects, reads each volume's IOPS from Prometheus, and moves Mayastor volumes\n"
                   "between hot, warm and cold pools with a journaled replica migration.\n"
                   "SIGTERM/SIGINT stop it cleanly (in-flight migrations stay resumable).\n\n"
                   "Flags (each also from the config file and the environment):\n");
            cs_config_print_flags(stdout);
            return 0;
        }
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, argc - 1, argv + 1, environ, &err) != 0) {
        fprintf(stderr, "couchestor operator: %s\n", err.msg);
        return 2;
    }
    cs_log_configure(cfg.log_level, cfg.log_json, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = cs__on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = cs_operator_run(&cfg, &cs__stop, &err);
    if (rc != 0)
        CS_ERROR("operator stopped", "error", err.msg);
    cs_config_free(&cfg);
    return rc == 0 ? 0 : 1;
}
