/* cmd_status.c: `couchestor status`: each StoragePolicy's status (phase,
 * counts, conditions), as a table or as JSON/YAML. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "couchestor/config.h"
#include "couchestor/kube.h"
#include "couchestor/log.h"

extern char **environ;

typedef enum {
    CS__OUT_TABLE,
    CS__OUT_WIDE,
    CS__OUT_JSON,
    CS__OUT_YAML
} cs__out_t;

static void cs__usage(FILE *out)
{
    fprintf(out,
            "Usage: couchestor status [NAME] [-o json|yaml|wide] [FLAGS]\n\n"
            "Prints the status the operator wrote on each StoragePolicy (or the one named):\n"
            "phase, watched volumes and where they are, migrations, and the conditions that\n"
            "are not as they should be. Reads only the Kubernetes API.\n\n"
            "Flags:\n  %-36s %s\n  %-36s %s\n",
            "-o, --output json|yaml|wide", "the policies' status as JSON or YAML, or the table with every condition",
            "--json", "as -o json");
    cs_config_print_flags(out);
}

/* An integer field of the status, "-" when absent. */
static const char *cs__num(const json_t *status, const char *key, char *buf, size_t len)
{
    const json_t *v = json_object_get(status, key);
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    return buf;
}

static const char *cs__str(const json_t *obj, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s && *s ? s : def;
}

/* "Type=Status(Reason)" of each condition, comma-joined; all of them, or only
 * those not in their good state (Degraded is good when False). */
static void cs__conditions(const json_t *status, bool all, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    const json_t *conds = json_object_get(status, "conditions");
    size_t i;
    const json_t *c;
    json_array_foreach(conds, i, c)
    {
        const char *type = cs__str(c, "type", "?"), *st = cs__str(c, "status", "Unknown");
        bool good = strcmp(type, "Degraded") == 0 ? strcmp(st, "False") == 0 : strcmp(st, "True") == 0;
        if (good && !all)
            continue;
        int w = snprintf(buf + n, len - n, "%s%s=%s(%s)", n ? "," : "", type, st, cs__str(c, "reason", "-"));
        if (w < 0 || (size_t)w >= len - n)
            break;
        n += (size_t)w;
    }
    if (n == 0)
        snprintf(buf, len, "%s", json_array_size(conds) ? (all ? "-" : "ok") : "-");
}

static void cs__table(json_t *items, bool wide)
{
    printf("%-24s %-9s %7s %5s %5s %5s %6s %6s %6s  %s%s\n", "NAME", "PHASE", "WATCHED", "HOT", "WARM", "COLD",
           "ACTIVE", "MOVED", "FAILED", wide ? "LAST-RECONCILE        " : "", wide ? "CONDITIONS" : "PROBLEMS");
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it)
    {
        const json_t *st = json_object_get(it, "status");
        char b[7][24], conds[2048];
        cs__conditions(st, wide, conds, sizeof conds);
        printf("%-24s %-9s %7s %5s %5s %5s %6s %6s %6s  ", cs__str(it, "name", "?"), cs__str(st, "phase", "-"),
               cs__num(st, "watchedVolumes", b[0], 24), cs__num(st, "hotVolumes", b[1], 24),
               cs__num(st, "warmVolumes", b[2], 24), cs__num(st, "coldVolumes", b[3], 24),
               cs__num(st, "activeMigrations", b[4], 24), cs__num(st, "totalMigrations", b[5], 24),
               cs__num(st, "failedMigrations", b[6], 24));
        if (wide)
            printf("%-22s ", cs__str(st, "lastReconcileTime", "-"));
        printf("%s\n", conds);
        const char *msg = cs__str(st, "message", NULL);
        if (wide && msg)
            printf("  message: %s\n", msg);
    }
}

/* Block YAML of a JSON value; scalars as JSON (a JSON string is a YAML
 * double-quoted scalar). */
static void cs__yaml(const json_t *v, int indent, bool inline_first)
{
    size_t i;
    const char *key;
    const json_t *x;
    bool first = true;
    if (json_is_object(v) && json_object_size(v) > 0) {
        json_object_foreach((json_t *)v, key, x)
        {
            int pad = first && inline_first ? 0 : indent;
            first = false;
            json_t *kj = json_string(key);
            char *k = kj ? json_dumps(kj, JSON_ENCODE_ANY) : NULL;
            printf("%*s%s:", pad, "", k ? k : "\"?\"");
            free(k);
            json_decref(kj);
            if ((json_is_object(x) && json_object_size(x)) || (json_is_array(x) && json_array_size(x))) {
                printf("\n");
                cs__yaml(x, indent + 2, false);
            } else {
                printf(" ");
                cs__yaml(x, 0, true);
            }
        }
    } else if (json_is_array(v) && json_array_size(v) > 0) {
        json_array_foreach(v, i, x)
        {
            printf("%*s- ", first && inline_first ? 0 : indent, "");
            first = false;
            if ((json_is_object(x) && json_object_size(x)) || (json_is_array(x) && json_array_size(x)))
                cs__yaml(x, indent + 2, true);
            else
                cs__yaml(x, 0, true);
        }
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        printf("%s\n", s ? s : "null");
        free(s);
    }
}

/* 0 to go on, 1 after --help, 2 on a usage error. */
static int cs__args(int argc, char **argv, cs__out_t *out, const char **only, char **rest, int *nrest)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *fmt = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            cs__usage(stdout);
            return 1;
        } else if (strcmp(a, "--json") == 0) {
            fmt = "json";
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "couchestor status: %s needs json, yaml or wide\n", a);
                return 2;
            }
            fmt = argv[++i];
        } else if (strncmp(a, "--output=", 9) == 0 || strncmp(a, "-o=", 3) == 0) {
            fmt = strchr(a, '=') + 1;
        } else if (a[0] != '-' && !*only) {
            *only = a;
            continue;
        } else {
            bool takes_value = false;
            rest[(*nrest)++] = argv[i];
            if (cs_config_is_flag(a, &takes_value) && takes_value && i + 1 < argc)
                rest[(*nrest)++] = argv[++i]; /* its value, not a NAME */
            continue;
        }
        if (strcmp(fmt, "json") == 0)
            *out = CS__OUT_JSON;
        else if (strcmp(fmt, "yaml") == 0)
            *out = CS__OUT_YAML;
        else if (strcmp(fmt, "wide") == 0)
            *out = CS__OUT_WIDE;
        else {
            fprintf(stderr, "couchestor status: unknown output format \"%s\" (json, yaml or wide)\n", fmt);
            return 2;
        }
    }
    return 0;
}

/* The policies as [{name, status}], sorted by name, only `only` if set. */
static int cs__policies(const cs_config_t *cfg, const char *only, json_t **items, cs_err_t *err)
{
    cs_kube_config_t kc;
    cs_kube_config_load_options_t lo = {.kubeconfig = *cfg->kubeconfig ? cfg->kubeconfig : NULL,
                                        .context = *cfg->kube_context ? cfg->kube_context : NULL};
    int rc = cs_kube_config_load(&lo, &kc, err);
    if (rc != 0)
        return rc;
    cs_kube_client_t *kube = NULL;
    json_t *list = NULL;
    rc = cs_kube_client_new(&kc, NULL, &kube, err);
    cs_kube_config_free(&kc);
    if (rc == 0)
        rc = cs_kube_get_path(kube, "/apis/storage.billyronks.io/v1/storagepolicies", &list, err);
    cs_kube_client_free(kube);
    if (rc != 0)
        return rc;
    *items = json_array();
    size_t i;
    json_t *p;
    json_array_foreach(json_object_get(list, "items"), i, p)
    {
        const char *name = json_string_value(json_object_get(json_object_get(p, "metadata"), "name"));
        if (!name || (only && strcmp(name, only) != 0))
            continue;
        json_t *st = json_object_get(p, "status");
        json_t *one = json_pack("{s:s, s:o}", "name", name, "status", st ? json_incref(st) : json_object());
        size_t at = 0;
        while (at < json_array_size(*items) &&
               strcmp(json_string_value(json_object_get(json_array_get(*items, at), "name")), name) < 0)
            at++;
        json_array_insert_new(*items, at, one);
    }
    json_decref(list);
    if (only && json_array_size(*items) == 0) {
        json_decref(*items);
        *items = NULL;
        return cs_err_set(err, CS_ENOTFOUND, "StoragePolicy '%s' not found", only);
    }
    return 0;
}

int cs_cmd_status(int argc, char **argv)
{
    char *rest[argc > 0 ? argc : 1];
    int nrest = 0;
    cs__out_t out = CS__OUT_TABLE;
    const char *only = NULL;
    int status = cs__args(argc, argv, &out, &only, rest, &nrest);
    if (status != 0)
        return status == 1 ? 0 : status;
    cs_config_t cfg;
    cs_err_t err = {0};
    if (cs_config_load(&cfg, nrest, rest, environ, &err) != 0) {
        fprintf(stderr, "couchestor status: %s\n", err.msg);
        return 2;
    }
    cs_log_configure(cfg.log_level > CS_LOG_WARN ? cfg.log_level : CS_LOG_WARN, cfg.log_json, NULL);
    json_t *items = NULL;
    if (cs__policies(&cfg, only, &items, &err) != 0) {
        fprintf(stderr, "couchestor status: %s\n", err.msg);
        cs_config_free(&cfg);
        return 1;
    }
    json_t *doc = json_pack("{s:s, s:s, s:o}", "apiVersion", "v1", "kind", "List", "items", items);
    if (out == CS__OUT_JSON) {
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "{}");
        free(s);
    } else if (out == CS__OUT_YAML) {
        cs__yaml(doc, 0, false);
    } else if (json_array_size(items) == 0) {
        fprintf(stderr, "couchestor status: no StoragePolicy exists\n");
    } else {
        cs__table(items, out == CS__OUT_WIDE);
    }
    json_decref(doc);
    cs_config_free(&cfg);
    return 0;
}
