/* main.c: the couchestor command: global flags, then one subcommand; run as
 * kubectl-couchestor (a link or copy of this binary on PATH), the kubectl
 * plugin: plan, doctor, status and move with kubectl's flags. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ---- kubectl-couchestor ----------------------------------------------------- */

static void cs__plugin_usage(FILE *out)
{
    fprintf(out,
            "kubectl couchestor %s: CoucheStor, tiered storage on Mayastor\n\n"
            "Usage: kubectl couchestor COMMAND [FLAGS]\n\n"
            "Commands:\n"
            "  status     each StoragePolicy's phase, volumes per tier, migrations and conditions\n"
            "  plan       what the operator would do now for each StoragePolicy, and why\n"
            "  doctor     check that the cluster is ready for the operator; print each problem with its fix\n"
            "  move       not available yet: moves on demand come with the operator's move requests\n\n"
            "kubectl's flags:\n"
            "  --kubeconfig FILE       kubeconfig file (else $KUBECONFIG, else ~/.kube/config)\n"
            "  --context NAME          kubeconfig context\n"
            "  -n, --namespace NS      Mayastor's namespace (its DiskPools and api-rest Service)\n"
            "  -o, --output FORMAT     status: json, yaml or wide; plan and doctor: json\n\n"
            "Every `couchestor` configuration flag is accepted too (`kubectl couchestor COMMAND --help`).\n",
            CS_VERSION);
}

/* The value of a kubectl flag at argv[*i] (`-n NS`, `-nNS`, `--namespace NS`,
 * `--namespace=NS`), or NULL when argv[*i] is not that flag; *i moves past a
 * separate value. *missing is set when the value is absent. */
static const char *cs__plugin_flag(int argc, char **argv, int *i, const char *shrt, const char *lng, bool *missing)
{
    const char *a = argv[*i];
    if (!a)
        return NULL;
    size_t n = strlen(lng);
    if ((shrt && strcmp(a, shrt) == 0) || strcmp(a, lng) == 0) {
        if (*i + 1 >= argc) {
            *missing = true;
            return a;
        }
        return argv[++*i];
    }
    if (strncmp(a, lng, n) == 0 && a[n] == '=')
        return a + n + 1;
    if (shrt && strncmp(a, shrt, 2) == 0 && a[2] && a[1] != '-')
        return a + 2 + (a[2] == '=');
    return NULL;
}

/* kubectl couchestor COMMAND ...: kubectl's flags become couchestor's, then
 * the command runs as `couchestor COMMAND`. */
static int cs__plugin(int argc, char **argv)
{
    if (argc < 2) {
        cs__plugin_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        cs__plugin_usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("kubectl-couchestor %s\n", CS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "move") == 0) {
        fprintf(stderr, "kubectl couchestor move: not available yet. Moving a volume on demand needs the operator "
                        "to take move requests, which it does not do yet; today the operator moves volumes only by "
                        "their StoragePolicy (see `kubectl couchestor plan`).\n");
        return 2;
    }
    int (*fn)(int, char **) = NULL;
    if (strcmp(cmd, "status") == 0)
        fn = cs_cmd_status;
    else if (strcmp(cmd, "plan") == 0)
        fn = cs_cmd_plan;
    else if (strcmp(cmd, "doctor") == 0)
        fn = cs_cmd_doctor;
    if (!fn) {
        fprintf(stderr, "kubectl couchestor: unknown command \"%s\"\n\n", cmd);
        cs__plugin_usage(stderr);
        return 2;
    }
    bool status = fn == cs_cmd_status;
    /* every argument maps to at most one, plus "--json" for one "-o json" */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    char *owned[argc > 0 ? argc : 1];
    int nargs = 0, nowned = 0, rc = -1;
    if (!args) {
        fprintf(stderr, "kubectl couchestor: out of memory\n");
        return 1;
    }
    args[nargs++] = argv[1];
    for (int i = 2; i < argc && rc < 0; i++) {
        bool missing = false;
        const char *ns = NULL, *ctx = NULL, *fmt = NULL;
        int at = i;
        if ((ns = cs__plugin_flag(argc, argv, &i, "-n", "--namespace", &missing)) == NULL &&
            (ctx = cs__plugin_flag(argc, argv, &i, NULL, "--context", &missing)) == NULL &&
            (fmt = cs__plugin_flag(argc, argv, &i, "-o", "--output", &missing)) == NULL) {
            args[nargs++] = argv[i];
            continue;
        }
        if (missing) {
            fprintf(stderr, "kubectl couchestor %s: %s needs a value\n", cmd, argv[at]);
            rc = 2;
        } else if (fmt && !status) {
            if (strcmp(fmt, "json") == 0) {
                args[nargs++] = "--json";
            } else {
                fprintf(stderr,
                        "kubectl couchestor %s: output format \"%s\": only -o json (status has yaml and wide)\n", cmd,
                        fmt);
                rc = 2;
            }
        } else {
            const char *flag = ns ? "--mayastor-namespace=" : ctx ? "--kube-context=" : "--output=";
            const char *value = ns ? ns : ctx ? ctx : fmt;
            char *a = malloc(strlen(flag) + strlen(value) + 1);
            if (!a) {
                fprintf(stderr, "kubectl couchestor: out of memory\n");
                rc = 1;
                break;
            }
            strcpy(a, flag);
            strcat(a, value);
            owned[nowned++] = a;
            args[nargs++] = a;
        }
    }
    if (rc < 0)
        rc = fn(nargs, args);
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    free(args);
    return rc;
}

int main(int argc, char **argv)
{
    const char *self = argc > 0 && argv[0] ? strrchr(argv[0], '/') : NULL;
    self = self ? self + 1 : (argc > 0 && argv[0] ? argv[0] : "");
    if (strcmp(self, "kubectl-couchestor") == 0)
        return cs__plugin(argc, argv);
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
