/* config.c: the parameter table and the defaults < file < env < flags chain. */
#include "couchestor/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "couchestor/yaml.h"

typedef enum {
    CS__T_STRING,
    CS__T_URL,       /* http(s)://host[:port][/path] */
    CS__T_OPT_URL,   /* "" or a URL */
    CS__T_ADDR,      /* host:port */
    CS__T_DNS_LABEL, /* Kubernetes namespace name */
    CS__T_DNS_NAME,  /* Kubernetes object name (subdomain) */
    CS__T_PATH,      /* any string, "" allowed */
    CS__T_INT,
    CS__T_BOOL,
    CS__T_LOG_LEVEL,
    CS__T_PROM_KEY, /* pv-name or volume-handle */
} cs__type_t;

typedef struct {
    const char *key;
    const char *env;
    const char *flag;
    cs__type_t type;
    size_t offset;
    const char *def;
    int64_t min, max;
    const char *help;
} cs__param_t;

#define F(field) offsetof(cs_config_t, field)

static const cs__param_t cs__params[] = {
    {"prometheus_url", "PROMETHEUS_URL", "--prometheus-url", CS__T_URL, F(prometheus_url),
     "http://prometheus.monitoring.svc.cluster.local:9090", 0, 0, "Prometheus server the IOPS are read from"},
    {"max_concurrent_migrations", "MAX_CONCURRENT_MIGRATIONS", "--max-concurrent-migrations", CS__T_INT,
     F(max_concurrent_migrations), "2", 1, 1000, "migrations running at once across all policies"},
    {"migration_timeout_minutes", "MIGRATION_TIMEOUT_MINUTES", "--migration-timeout-minutes", CS__T_INT,
     F(migration_timeout_minutes), "30", 1, 10080,
     "migration timeout of policies without migrationTimeout: abandoned after this long without rebuild progress"},
    {"sync_poll_interval_seconds", "SYNC_POLL_INTERVAL_SECONDS", "--sync-poll-interval-seconds", CS__T_INT,
     F(sync_poll_interval_seconds), "10", 1, 3600, "how often a migration checks its new replica's rebuild"},
    {"dry_run", "DRY_RUN", "--dry-run", CS__T_BOOL, F(dry_run), "false", 0, 0,
     "decide and report, never change a volume"},
    {"preservation_mode", "PRESERVATION_MODE", "--preservation-mode", CS__T_BOOL, F(preservation_mode), "false", 0, 0,
     "keep the old replica after a migration"},
    {"mayastor_namespace", "MAYASTOR_NAMESPACE", "--mayastor-namespace", CS__T_DNS_LABEL, F(mayastor_namespace),
     "mayastor", 0, 0, "namespace of Mayastor and its DiskPools (its chart's release namespace)"},
    {"metrics_addr", "METRICS_ADDR", "--metrics-addr", CS__T_ADDR, F(metrics_addr), "0.0.0.0:8080", 0, 0,
     "listen address of /metrics"},
    {"health_addr", "HEALTH_ADDR", "--health-addr", CS__T_ADDR, F(health_addr), "0.0.0.0:8081", 0, 0,
     "listen address of /healthz and /readyz"},
    {"log_level", "LOG_LEVEL", "--log-level", CS__T_LOG_LEVEL, F(log_level), "info", 0, 0,
     "trace, debug, info, warn or error"},
    {"log_json", "LOG_JSON", "--log-json", CS__T_BOOL, F(log_json), "false", 0, 0, "log JSON lines instead of text"},
    {"mayastor_url", "MAYASTOR_URL", "--mayastor-url", CS__T_OPT_URL, F(mayastor_url), "", 0, 0,
     "Mayastor REST API base URL; empty = the api-rest Service in mayastor_namespace"},
    {"kubeconfig", "KUBECONFIG", "--kubeconfig", CS__T_PATH, F(kubeconfig), "", 0, 0,
     "kubeconfig file; empty = in-cluster config, else ~/.kube/config"},
    {"kube_context", "KUBE_CONTEXT", "--kube-context", CS__T_PATH, F(kube_context), "", 0, 0,
     "kubeconfig context to use; empty = its current-context (kubectl couchestor: --context)"},
    {"prometheus_iops_metrics", "PROMETHEUS_IOPS_METRICS", "--prometheus-iops-metrics", CS__T_STRING,
     F(prometheus_iops_metrics), "volume_num_read_ops+volume_num_write_ops", 0, 0,
     "counters whose rates add up to a volume's IOPS, joined by '+'"},
    {"prometheus_iops_fallbacks", "PROMETHEUS_IOPS_FALLBACKS", "--prometheus-iops-fallbacks", CS__T_PATH,
     F(prometheus_iops_fallbacks), "", 0, 0,
     "metric sets tried in order for volumes without a series, separated by ','"},
    {"prometheus_volume_label", "PROMETHEUS_VOLUME_LABEL", "--prometheus-volume-label", CS__T_STRING,
     F(prometheus_volume_label), "pv_name", 0, 0, "the label naming the volume (its PV name) in those series"},
    {"prometheus_selector", "PROMETHEUS_SELECTOR", "--prometheus-selector", CS__T_PATH, F(prometheus_selector), "", 0,
     0, "extra label matchers for every series, e.g. job=\"mayastor\""},
    {"prometheus_bearer_token_file", "PROMETHEUS_BEARER_TOKEN_FILE", "--prometheus-bearer-token-file", CS__T_PATH,
     F(prometheus_bearer_token_file), "", 0, 0, "file holding a bearer token for Prometheus behind a proxy"},
    {"prometheus_volume_key", "PROMETHEUS_VOLUME_KEY", "--prometheus-volume-key", CS__T_PROM_KEY,
     F(prometheus_volume_key), "pv-name", 0, 0,
     "what the volume label carries: pv-name (pvc-<uuid>) or volume-handle (the CSI volume handle, a uuid)"},
    {"prometheus_min_coverage_percent", "PROMETHEUS_MIN_COVERAGE_PERCENT", "--prometheus-min-coverage-percent",
     CS__T_INT, F(prometheus_min_coverage_percent), "80", 0, 99,
     "share of samplingWindow a volume's series must cover before its IOPS counts; 0 = no check"},
    {"prometheus_timeout_seconds", "PROMETHEUS_TIMEOUT_SECONDS", "--prometheus-timeout-seconds", CS__T_INT,
     F(prometheus_timeout_seconds), "10", 1, 600, "per Prometheus request, also sent as the query's timeout"},
    {"prometheus_ca_file", "PROMETHEUS_CA_FILE", "--prometheus-ca-file", CS__T_PATH, F(prometheus_ca_file), "", 0, 0,
     "PEM CA bundle to verify an https:// Prometheus"},
    {"prometheus_basic_user", "PROMETHEUS_BASIC_USER", "--prometheus-basic-user", CS__T_PATH, F(prometheus_basic_user),
     "", 0, 0, "basic-auth user for Prometheus behind a proxy"},
    {"prometheus_basic_password_file", "PROMETHEUS_BASIC_PASSWORD_FILE", "--prometheus-basic-password-file", CS__T_PATH,
     F(prometheus_basic_password_file), "", 0, 0, "file holding the basic-auth password"},
    {"prometheus_insecure_skip_verify", "PROMETHEUS_INSECURE_SKIP_VERIFY", "--prometheus-insecure-skip-verify",
     CS__T_BOOL, F(prometheus_insecure_skip_verify), "false", 0, 0,
     "do not verify Prometheus' certificate (tests only)"},
    {"leader_election", "LEADER_ELECTION", "--leader-election", CS__T_BOOL, F(leader_election), "true", 0, 0,
     "take a Lease before acting, so only one replica migrates"},
    {"lease_name", "LEASE_NAME", "--lease-name", CS__T_DNS_NAME, F(lease_name), "couchestor-operator", 0, 0,
     "name of the leader-election Lease"},
    {"lease_namespace", "LEASE_NAMESPACE", "--lease-namespace", CS__T_DNS_LABEL, F(lease_namespace),
     "couchestor-system", 0, 0, "namespace of the leader-election Lease"},
};

#undef F

#define CS__NPARAMS (sizeof cs__params / sizeof cs__params[0])
_Static_assert(CS__NPARAMS <= CS_CONFIG_MAX_PARAMS, "grow CS_CONFIG_MAX_PARAMS");

size_t cs_config_key_count(void)
{
    return CS__NPARAMS;
}

const char *cs_config_key_name(size_t i)
{
    return i < CS__NPARAMS ? cs__params[i].key : NULL;
}

static const cs__param_t *cs__find_key(const char *key)
{
    for (size_t i = 0; i < CS__NPARAMS; i++)
        if (strcmp(cs__params[i].key, key) == 0)
            return &cs__params[i];
    return NULL;
}

static int cs__parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

static const char *cs__check_dns_label(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0)
        return "must not be empty";
    if (n > max)
        return max == 63 ? "must be at most 63 characters" : "must be at most 253 characters";
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (max > 63 && c == '.');
        if (!ok)
            return max == 63 ? "must consist of lower-case letters, digits and '-'"
                             : "must consist of lower-case letters, digits, '-' and '.'";
    }
    if (!isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
        return "must start and end with a letter or digit";
    return NULL;
}

static const char *cs__check_url(const char *s)
{
    const char *rest;
    if (strncmp(s, "http://", 7) == 0)
        rest = s + 7;
    else if (strncmp(s, "https://", 8) == 0)
        rest = s + 8;
    else
        return "must start with http:// or https://";
    if (!*rest || *rest == '/' || *rest == ':')
        return "has no host";
    for (const char *p = s; *p; p++)
        if (isspace((unsigned char)*p) || (unsigned char)*p < 0x20)
            return "must not contain spaces or control characters";
    return NULL;
}

static const char *cs__check_addr(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (!colon)
        return "must be host:port, e.g. 0.0.0.0:8080 or [::]:8080";
    if (s[0] == '[' && (colon == s || colon[-1] != ']'))
        return "an IPv6 host must be in brackets, e.g. [::1]:8080";
    if (s[0] != '[' && memchr(s, ':', (size_t)(colon - s)))
        return "an IPv6 host must be in brackets, e.g. [::1]:8080";
    const char *port = colon + 1;
    if (!*port)
        return "has no port";
    long v = 0;
    for (const char *p = port; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return "port must be a number";
        v = v * 10 + (*p - '0');
        if (v > 65535)
            break;
    }
    if (v > 65535)
        return "port must be between 0 and 65535 (0: any free port)";
    return NULL;
}

/* Parses value for p into cfg; on error, message names source. */
static int cs__apply(cs_config_t *cfg, const cs__param_t *p, const char *value, const char *source, cs_err_t *err)
{
    char *field = (char *)cfg + p->offset;
    const char *problem = NULL;
    char detail[200];
    switch (p->type) {
    case CS__T_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (!*value || *end || errno || isspace((unsigned char)*value)) {
            problem = "is not an integer";
        } else if (v < p->min || v > p->max) {
            snprintf(detail, sizeof detail, "must be between %" PRId64 " and %" PRId64, p->min, p->max);
            problem = detail;
        } else {
            *(int64_t *)field = v;
        }
        break;
    }
    case CS__T_BOOL:
        if (cs__parse_bool(value, (bool *)field) != 0)
            problem = "is not a boolean (use true or false)";
        break;
    case CS__T_LOG_LEVEL:
        if (cs_log_level_parse(value, (cs_log_level_t *)field, NULL) != 0)
            problem = "is not a log level (use trace, debug, info, warn or error)";
        break;
    case CS__T_URL:
    case CS__T_OPT_URL:
        if (p->type == CS__T_OPT_URL && !*value)
            break;
        problem = cs__check_url(value);
        break;
    case CS__T_ADDR:
        problem = cs__check_addr(value);
        break;
    case CS__T_DNS_LABEL:
        problem = cs__check_dns_label(value, 63);
        break;
    case CS__T_DNS_NAME:
        problem = cs__check_dns_label(value, 253);
        break;
    case CS__T_STRING:
        if (!*value)
            problem = "must not be empty";
        break;
    case CS__T_PATH:
        break;
    case CS__T_PROM_KEY:
        if (strcmp(value, "pv-name") != 0 && strcmp(value, "volume-handle") != 0)
            problem = "must be pv-name (the label carries the PV name, pvc-<uuid>) or volume-handle (it carries "
                      "the CSI volume handle, for Mayastor the volume uuid)";
        break;
    }
    if (problem)
        return cs_err_set(err, CS_EINVAL, "%s: invalid %s \"%.200s\": %s", source, p->key, value, problem);
    if (p->type != CS__T_INT && p->type != CS__T_BOOL && p->type != CS__T_LOG_LEVEL) {
        char *copy = strdup(value);
        if (!copy)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
        free(*(char **)field);
        *(char **)field = copy;
    }
    snprintf(cfg->sources[p - cs__params], CS_CONFIG_SOURCE_MAX, "%s", source);
    return 0;
}

int cs_config_set(cs_config_t *cfg, const char *key, const char *value, const char *source, cs_err_t *err)
{
    const cs__param_t *p = cs__find_key(key);
    if (!p)
        return cs_err_set(err, CS_EINVAL, "%s: unknown parameter \"%.100s\"", source, key);
    return cs__apply(cfg, p, value, source, err);
}

int cs_config_init(cs_config_t *cfg, cs_err_t *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < CS__NPARAMS; i++) {
        int rc = cs__apply(cfg, &cs__params[i], cs__params[i].def, "default", err);
        if (rc != 0) {
            cs_config_free(cfg);
            return rc;
        }
    }
    return 0;
}

void cs_config_free(cs_config_t *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < CS__NPARAMS; i++) {
        const cs__param_t *p = &cs__params[i];
        if (p->type != CS__T_INT && p->type != CS__T_BOOL && p->type != CS__T_LOG_LEVEL) {
            char **field = (char **)((char *)cfg + p->offset);
            free(*field);
            *field = NULL;
        }
    }
}

int cs_config_load_file(cs_config_t *cfg, const char *path, cs_err_t *err)
{
    char *text;
    size_t len;
    int rc = cs_file_read_all(path, CS_CONFIG_FILE_MAX, &text, &len, err);
    if (rc != 0)
        return cs_err_prefix(err, "config file: ");
    rc = cs_config_load_text(cfg, text, len, path, err);
    free(text);
    return rc;
}

int cs_config_load_text(cs_config_t *cfg, const char *text, size_t len, const char *path, cs_err_t *err)
{
    int rc;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return cs_err_set(err, CS_ENOMEM, "config file %s: cannot initialise the YAML parser", path);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    /* States: 0 before the mapping, 1 expecting a key, 2 expecting a value, 3 done. */
    int state = 0;
    char *key = NULL;
    size_t key_line = 0;
    rc = 0;
    while (rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            rc = cs_err_set(err, CS_EPARSE, "config file %s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                            parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML syntax error");
            break;
        }
        size_t line = ev.start_mark.line + 1;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (state == 0) {
            if (t == YAML_MAPPING_START_EVENT)
                state = 1;
            else if (!(t == YAML_SCALAR_EVENT && ev.data.scalar.length == 0))
                rc = cs_err_set(err, CS_EPARSE, "config file %s:%zu: expected a mapping of parameter: value lines",
                                path, line);
        } else if (state == 1) {
            if (t == YAML_MAPPING_END_EVENT) {
                state = 3;
            } else if (t == YAML_SCALAR_EVENT) {
                key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
                key_line = line;
                if (!key)
                    rc = cs_err_set(err, CS_ENOMEM, "out of memory");
                else if (!cs__find_key(key))
                    rc = cs_err_set(err, CS_EINVAL,
                                    "config file %s:%zu: unknown parameter \"%.100s\" (see `couchestor config --help`)",
                                    path, line, key);
                state = 2;
            } else {
                rc = cs_err_set(err, CS_EPARSE, "config file %s:%zu: expected a parameter name", path, line);
            }
        } else if (state == 2) {
            if (t == YAML_SCALAR_EVENT) {
                char source[CS_CONFIG_SOURCE_MAX];
                snprintf(source, sizeof source, "config file %.120s:%zu", path, key_line);
                const char *value = (const char *)ev.data.scalar.value;
                if (strlen(value) != ev.data.scalar.length)
                    rc = cs_err_set(err, CS_EPARSE, "%s: NUL byte in value", source);
                else
                    rc = cs_config_set(cfg, key, value, source, err);
            } else {
                rc =
                    cs_err_set(err, CS_EPARSE, "config file %s:%zu: %s must have a single value, not a list or mapping",
                               path, line, key);
            }
            free(key);
            key = NULL;
            state = 1;
        } else {
            rc = cs_err_set(err, CS_EPARSE, "config file %s:%zu: only one document is allowed", path, line);
        }
        yaml_event_delete(&ev);
    }
    free(key);
    yaml_parser_delete(&parser);
    return rc;
}

int cs_config_load_env(cs_config_t *cfg, char *const *envp, cs_err_t *err)
{
    for (size_t i = 0; i < CS__NPARAMS; i++) {
        const cs__param_t *p = &cs__params[i];
        size_t n = strlen(p->env);
        for (char *const *e = envp; e && *e; e++) {
            if (strncmp(*e, p->env, n) == 0 && (*e)[n] == '=') {
                char source[CS_CONFIG_SOURCE_MAX];
                snprintf(source, sizeof source, "environment variable %s", p->env);
                int rc = cs__apply(cfg, p, *e + n + 1, source, err);
                if (rc != 0)
                    return rc;
            }
        }
    }
    return 0;
}

static const cs__param_t *cs__find_flag(const char *arg, size_t *name_len)
{
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
    *name_len = n;
    for (size_t i = 0; i < CS__NPARAMS; i++)
        if (strlen(cs__params[i].flag) == n && strncmp(cs__params[i].flag, arg, n) == 0)
            return &cs__params[i];
    return NULL;
}

bool cs_config_is_flag(const char *flag, bool *takes_value)
{
    size_t n;
    const cs__param_t *p = cs__find_flag(flag, &n);
    if (p) {
        *takes_value = p->type != CS__T_BOOL && !flag[n];
        return true;
    }
    if (strncmp(flag, "--config", 8) == 0 && (flag[8] == '\0' || flag[8] == '=')) {
        *takes_value = flag[8] == '\0';
        return true;
    }
    return false;
}

int cs_config_load(cs_config_t *cfg, int argc, char **argv, char *const *envp, cs_err_t *err)
{
    int rc = cs_config_init(cfg, err);
    if (rc != 0)
        return rc;
    /* The config file is named by --config (last one wins) or COUCHESTOR_CONFIG. */
    const char *file = NULL;
    for (char *const *e = envp; e && *e; e++)
        if (strncmp(*e, "COUCHESTOR_CONFIG=", 18) == 0 && (*e)[18])
            file = *e + 18;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0) {
            if (i + 1 >= argc || !argv[i + 1]) {
                rc = cs_err_set(err, CS_EINVAL, "flag --config: needs a file name");
                goto fail;
            }
            file = argv[++i];
        } else if (strncmp(argv[i], "--config=", 9) == 0) {
            file = argv[i] + 9;
        }
    }
    if (file && (rc = cs_config_load_file(cfg, file, err)) != 0)
        goto fail;
    if ((rc = cs_config_load_env(cfg, envp, err)) != 0)
        goto fail;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--config") == 0) {
            i++;
            continue;
        }
        if (strncmp(arg, "--config=", 9) == 0)
            continue;
        if (strncmp(arg, "--", 2) != 0) {
            rc = cs_err_set(err, CS_EINVAL, "unexpected argument \"%.100s\"", arg);
            goto fail;
        }
        size_t n;
        const cs__param_t *p = cs__find_flag(arg, &n);
        if (!p) {
            rc = cs_err_set(err, CS_EINVAL, "unknown flag %.*s (see --help)", (int)(n > 100 ? 100 : n), arg);
            goto fail;
        }
        const char *value;
        if (arg[n] == '=')
            value = arg + n + 1;
        else if (p->type == CS__T_BOOL)
            value = "true";
        else if (i + 1 < argc)
            value = argv[++i];
        else {
            rc = cs_err_set(err, CS_EINVAL, "flag %s: needs a value", p->flag);
            goto fail;
        }
        char source[CS_CONFIG_SOURCE_MAX];
        snprintf(source, sizeof source, "flag %s", p->flag);
        if ((rc = cs__apply(cfg, p, value, source, err)) != 0)
            goto fail;
    }
    return 0;
fail:
    cs_config_free(cfg);
    return rc;
}

static void cs__value_text(const cs_config_t *cfg, const cs__param_t *p, char *buf, size_t len)
{
    const char *field = (const char *)cfg + p->offset;
    switch (p->type) {
    case CS__T_INT:
        snprintf(buf, len, "%" PRId64, *(const int64_t *)field);
        break;
    case CS__T_BOOL:
        snprintf(buf, len, "%s", *(const bool *)field ? "true" : "false");
        break;
    case CS__T_LOG_LEVEL:
        snprintf(buf, len, "%s", cs_log_level_name(*(const cs_log_level_t *)field));
        break;
    default:
        snprintf(buf, len, "%s", *(char *const *)field ? *(char *const *)field : "");
    }
}

void cs_config_print(const cs_config_t *cfg, FILE *out, bool json)
{
    char value[1024];
    if (json) {
        json_t *obj = json_object();
        for (size_t i = 0; i < CS__NPARAMS; i++) {
            const cs__param_t *p = &cs__params[i];
            const char *field = (const char *)cfg + p->offset;
            json_t *v;
            if (p->type == CS__T_INT)
                v = json_integer(*(const int64_t *)field);
            else if (p->type == CS__T_BOOL)
                v = json_boolean(*(const bool *)field);
            else {
                cs__value_text(cfg, p, value, sizeof value);
                v = json_string(value);
            }
            json_object_set_new(obj, p->key, json_pack("{s:o, s:s}", "value", v, "source", cfg->sources[i]));
        }
        char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            fprintf(out, "%s\n", text);
        free(text);
        json_decref(obj);
        return;
    }
    for (size_t i = 0; i < CS__NPARAMS; i++) {
        const cs__param_t *p = &cs__params[i];
        cs__value_text(cfg, p, value, sizeof value);
        fprintf(out, "%-28s %-52s # %s\n", p->key, *value ? value : "\"\"", cfg->sources[i]);
    }
}

void cs_config_print_flags(FILE *out)
{
    fprintf(out, "  %-36s %s\n", "--config FILE", "YAML file of parameter: value lines (env COUCHESTOR_CONFIG)");
    for (size_t i = 0; i < CS__NPARAMS; i++) {
        const cs__param_t *p = &cs__params[i];
        char flag[64];
        snprintf(flag, sizeof flag, "%s%s", p->flag, p->type == CS__T_BOOL ? "[=BOOL]" : " VALUE");
        fprintf(out, "  %-36s %s\n  %-36s env %s, default \"%s\"\n", flag, p->help, "", p->env, p->def);
    }
}
