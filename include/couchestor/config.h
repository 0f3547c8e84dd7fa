/* config.h: the operator's configuration: every parameter of the seed design
 * (LLD section 4) plus the Mayastor endpoint, kubeconfig and leader election.
 *
 * Precedence: built-in defaults < config file (--config FILE, YAML mapping of
 * the snake_case keys below) < environment variables < command-line flags.
 * Every value remembers where it came from, and a bad value is rejected with
 * a message naming its source (flag, variable, or file and line). */
#ifndef COUCHESTOR_CONFIG_H
#define COUCHESTOR_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "couchestor/error.h"
#include "couchestor/log.h"

#define CS_CONFIG_SOURCE_MAX 160
/* Most parameters the table may hold (the size of cs_config_t.sources). */
#define CS_CONFIG_MAX_PARAMS 48
/* Config files larger than this are refused. */
#define CS_CONFIG_FILE_MAX ((size_t)1024 * 1024)

typedef struct cs_config_s {
    char *prometheus_url;                    /* PROMETHEUS_URL */
    int64_t max_concurrent_migrations;       /* MAX_CONCURRENT_MIGRATIONS: global limit */
    int64_t migration_timeout_minutes;       /* MIGRATION_TIMEOUT_MINUTES: of policies without migrationTimeout */
    int64_t sync_poll_interval_seconds;      /* SYNC_POLL_INTERVAL_SECONDS */
    bool dry_run;                            /* DRY_RUN: decide and report, never migrate */
    bool preservation_mode;                  /* PRESERVATION_MODE: keep the old replica */
    char *mayastor_namespace;                /* MAYASTOR_NAMESPACE: where DiskPools live */
    char *metrics_addr;                      /* METRICS_ADDR: host:port of /metrics */
    char *health_addr;                       /* HEALTH_ADDR: host:port of /healthz, /readyz */
    cs_log_level_t log_level;                /* LOG_LEVEL */
    bool log_json;                           /* LOG_JSON */
    char *mayastor_url;                      /* MAYASTOR_URL: "" = discover the api-rest Service */
    char *kubeconfig;                        /* KUBECONFIG: "" = in-cluster, else ~/.kube/config */
    char *kube_context;                      /* KUBE_CONTEXT: "" = the kubeconfig's current-context */
    bool leader_election;                    /* LEADER_ELECTION */
    char *lease_name;                        /* LEASE_NAME */
    char *lease_namespace;                   /* LEASE_NAMESPACE */
    char *prometheus_iops_metrics;           /* PROMETHEUS_IOPS_METRICS: counters summed, '+'-joined */
    char *prometheus_iops_fallbacks;         /* PROMETHEUS_IOPS_FALLBACKS: ','-separated sets, in order */
    char *prometheus_volume_label;           /* PROMETHEUS_VOLUME_LABEL */
    char *prometheus_selector;               /* PROMETHEUS_SELECTOR: extra matchers, e.g. job="x" */
    char *prometheus_bearer_token_file;      /* PROMETHEUS_BEARER_TOKEN_FILE */
    char *prometheus_volume_key;             /* PROMETHEUS_VOLUME_KEY: pv-name or volume-handle */
    int64_t prometheus_min_coverage_percent; /* PROMETHEUS_MIN_COVERAGE_PERCENT: of samplingWindow; 0 = off */
    int64_t prometheus_timeout_seconds;      /* PROMETHEUS_TIMEOUT_SECONDS: per request */
    char *prometheus_ca_file;                /* PROMETHEUS_CA_FILE: "" = system CAs */
    char *prometheus_basic_user;             /* PROMETHEUS_BASIC_USER: "" = no basic auth */
    char *prometheus_basic_password_file;    /* PROMETHEUS_BASIC_PASSWORD_FILE */
    bool prometheus_insecure_skip_verify;    /* PROMETHEUS_INSECURE_SKIP_VERIFY: tests only */
    char sources[CS_CONFIG_MAX_PARAMS][CS_CONFIG_SOURCE_MAX]; /* per parameter, in table order */
} cs_config_t;

/* Fills cfg with the defaults. Free with cs_config_free. */
int cs_config_init(cs_config_t *cfg, cs_err_t *err);
/* Frees the strings; NULL is a no-op. */
void cs_config_free(cs_config_t *cfg);

/* Applies a YAML config file (a mapping of parameter keys to scalars). */
int cs_config_load_file(cs_config_t *cfg, const char *path, cs_err_t *err);
/* As cs_config_load_file, from untrusted text in memory; `path` names it in
 * messages. */
int cs_config_load_text(cs_config_t *cfg, const char *text, size_t len, const char *path, cs_err_t *err);
/* Applies every known variable present in envp (NULL-terminated "K=V"). */
int cs_config_load_env(cs_config_t *cfg, char *const *envp, cs_err_t *err);
/* Sets one parameter by key from text; `source` is recorded and named in
 * errors ("flag --dry-run"). */
int cs_config_set(cs_config_t *cfg, const char *key, const char *value, const char *source, cs_err_t *err);

/* The whole sequence for a command line: defaults, then the file named by
 * --config (or COUCHESTOR_CONFIG), then envp, then the flags in argv[0..argc).
 * Flags are --name=value or --name value; booleans also bare (--dry-run).
 * An unknown flag or a positional argument is an error (CS_EINVAL).
 * On failure cfg is freed. */
int cs_config_load(cs_config_t *cfg, int argc, char **argv, char *const *envp, cs_err_t *err);

/* True when `flag` ("--dry-run" or "--dry-run=x") is one of the config flags
 * (including --config); *takes_value says whether a separate value may follow. */
bool cs_config_is_flag(const char *flag, bool *takes_value);

/* The parameter table, read-only: how many parameters there are, and the
 * key (snake_case, as in a config file) of the i-th in table order, which is
 * the order of cs_config_t.sources; NULL when i is out of range. The flag is
 * "--" and the key with '-' for '_', the variable the key in upper case. */
size_t cs_config_key_count(void);
const char *cs_config_key_name(size_t i);

/* Prints the effective configuration with each value's source, as aligned
 * text or as a JSON object {key: {value, source}}. */
void cs_config_print(const cs_config_t *cfg, FILE *out, bool json);
/* Prints the flag reference (flag, variable, default, description). */
void cs_config_print_flags(FILE *out);

#endif
