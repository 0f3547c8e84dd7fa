/* main.c: the couchestor command: global flags, then one subcommand. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "couchestor/config.h"

#ifndef CS_VERSION
#define CS_VERSION "0.0.0"
#endif

extern char **environ;

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} cs__command_t;

static int cs__cmd_config(int argc, char **argv);

static const cs__command_t cs__commands[] = {
    {"config", cs__cmd_config, "print the effective configuration and where each value came from"},
#define CS_COMMAND(name, fn, summary) {#name, fn, summary},
#include "commands.def"
#undef CS_COMMAND
};

static void cs__usage(FILE *out)
{
    fprintf(out,
            "couchestor %s: tiered storage for Kubernetes on Mayastor\n\n"
            "Usage: couchestor COMMAND [FLAGS]\n"
            "       couchestor --help | --version\n\n"
            "Commands:\n",
            CS_VERSION);
    for (size_t i = 0; i < sizeof cs__commands / sizeof cs__commands[0]; i++)
        fprintf(out, "  %-10s %s\n", cs__commands[i].name, cs__commands[i].summary);
    fprintf(out, "\nRun `couchestor COMMAND --help` for the flags of a command.\n");
}

static int cs__cmd_config(int argc, char **argv)
{
    bool json = false;
    char *rest[argc > 0 ? argc : 1];
    int nrest = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("Usage: couchestor config [--json] [FLAGS]\n\n"
                   "Prints the effective configuration: built-in defaults, overridden by the\n"
                   "config file, then environment variables, then flags; each value with its\n"
                   "source.\n\nFlags:\n  %-36s %s\n",
                   "--json", "print a JSON object");
            cs_config_print_flags(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else
            rest[nrest++] = argv[i];
    }
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, nrest, rest, environ, &err) != 0) {
        fprintf(stderr, "couchestor config: %s\n", err.msg);
        return 2;
    }
    cs_config_print(&cfg, stdout, json);
    cs_config_free(&cfg);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cs__usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cs__usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("couchestor %s\n", CS_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof cs__commands / sizeof cs__commands[0]; i++)
        if (strcmp(cmd, cs__commands[i].name) == 0)
            return cs__commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "couchestor: unknown command \"%s\"\n\n", cmd);
    cs__usage(stderr);
    return 2;
}
