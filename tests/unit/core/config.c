/* Tests for the configuration chain: defaults < file < environment < flags. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "couchestor/config.h"

static char tmpfile_path[64];

static const char *write_file(const char *text)
{
    strcpy(tmpfile_path, "/tmp/cs-config-XXXXXX");
    int fd = mkstemp(tmpfile_path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return tmpfile_path;
}

Test(config, defaults_match_the_seed_design)
{
    cs_config_t c;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_init(&c, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c.prometheus_url, "http://prometheus.monitoring.svc.cluster.local:9090");
    cr_expect_eq(c.max_concurrent_migrations, 2);
    cr_expect_eq(c.migration_timeout_minutes, 30);
    cr_expect_eq(c.sync_poll_interval_seconds, 10);
    cr_expect_not(c.dry_run);
    cr_expect_not(c.preservation_mode);
    cr_expect_str_eq(c.mayastor_namespace, "mayastor");
    cr_expect_str_eq(c.metrics_addr, "0.0.0.0:8080");
    cr_expect_str_eq(c.health_addr, "0.0.0.0:8081");
    cr_expect_eq(c.log_level, CS_LOG_INFO);
    cr_expect_not(c.log_json);
    cr_expect_str_eq(c.mayastor_url, "");
    cr_expect(c.leader_election);
    cr_expect_str_eq(c.lease_name, "couchestor-operator");
    cr_expect_str_eq(c.sources[0], "default");
    cs_config_free(&c);
    cs_config_free(&c);
    cs_config_free(NULL);
}

Test(config, precedence_file_env_flags)
{
    const char *path = write_file(
        "# comment\nmax_concurrent_migrations: 5\ndry_run: true\nlog_level: debug\nmetrics_addr: \"127.0.0.1:9000\"\n");
    char *envp[] = {"MAX_CONCURRENT_MIGRATIONS=7", "LOG_LEVEL=warn", "UNRELATED=1", NULL};
    char *argv[] = {"--config", (char *)path, "--log-level=error", "--preservation-mode", NULL};
    cs_config_t c;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_load(&c, 4, argv, envp, &err), 0, "%s", err.msg);
    cr_expect_eq(c.max_concurrent_migrations, 7, "env beats file");
    cr_expect(c.dry_run, "file beats default");
    cr_expect_eq(c.log_level, CS_LOG_ERROR, "flag beats env");
    cr_expect(c.preservation_mode, "bare boolean flag is true");
    cr_expect_str_eq(c.metrics_addr, "127.0.0.1:9000");
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    cs_config_print(&c, f, false);
    fclose(f);
    cr_expect(strstr(buf, "environment variable MAX_CONCURRENT_MIGRATIONS") != NULL, "%s", buf);
    char want[128];
    snprintf(want, sizeof want, "config file %s:3", path);
    cr_expect(strstr(buf, want) != NULL, "dry_run comes from line 3: %s", buf);
    cr_expect(strstr(buf, "flag --log-level") != NULL);
    cs_config_free(&c);
    unlink(path);
}

Test(config, flag_forms)
{
    char *argv[] = {"--prometheus-url", "http://127.0.0.1:9090", "--dry-run=false", "--max-concurrent-migrations=3",
                    NULL};
    char *envp[] = {"DRY_RUN=true", NULL};
    cs_config_t c;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_load(&c, 3 + 1, argv, envp, &err), 0, "%s", err.msg);
    cr_expect_str_eq(c.prometheus_url, "http://127.0.0.1:9090");
    cr_expect_not(c.dry_run);
    cr_expect_eq(c.max_concurrent_migrations, 3);
    cs_config_free(&c);
    bool takes;
    cr_expect(cs_config_is_flag("--dry-run", &takes));
    cr_expect_not(takes);
    cr_expect(cs_config_is_flag("--log-level", &takes));
    cr_expect(takes);
    cr_expect(cs_config_is_flag("--log-level=x", &takes));
    cr_expect_not(takes);
    cr_expect(cs_config_is_flag("--config", &takes));
    cr_expect(takes);
    cr_expect_not(cs_config_is_flag("--json", &takes));
}

static void load_bad(int argc, char **argv, char **envp, const char *expect)
{
    cs_config_t c;
    cs_err_t err = {0};
    int rc = cs_config_load(&c, argc, argv, envp, &err);
    cr_assert(rc == CS_EINVAL || rc == CS_ENOTFOUND, "expected failure, got %d", rc);
    cr_expect(strstr(err.msg, expect) != NULL, "message \"%s\" lacks \"%s\"", err.msg, expect);
}

Test(config, bad_values_name_their_source)
{
    char *env_bad[] = {"MAX_CONCURRENT_MIGRATIONS=abc", NULL};
    load_bad(
        0, NULL, env_bad,
        "environment variable MAX_CONCURRENT_MIGRATIONS: invalid max_concurrent_migrations \"abc\": is not an integer");
    char *env_zero[] = {"MAX_CONCURRENT_MIGRATIONS=0", NULL};
    load_bad(0, NULL, env_zero, "must be between 1 and 1000");
    char *a1[] = {"--metrics-addr", ":99999"};
    load_bad(
        2, a1, NULL,
        "flag --metrics-addr: invalid metrics_addr \":99999\": port must be between 0 and 65535 (0: any free port)");
    char *a2[] = {"--bogus"};
    load_bad(1, a2, NULL, "unknown flag --bogus");
    char *a3[] = {"stray"};
    load_bad(1, a3, NULL, "unexpected argument \"stray\"");
    char *a4[] = {"--log-level"};
    load_bad(1, a4, NULL, "flag --log-level: needs a value");
    char *a5[] = {"--prometheus-url=ftp://x"};
    load_bad(1, a5, NULL, "must start with http:// or https://");
    char *a6[] = {"--dry-run=maybe"};
    load_bad(1, a6, NULL, "is not a boolean");
    char *a7[] = {"--mayastor-namespace=Bad_NS"};
    load_bad(1, a7, NULL, "lower-case letters, digits and '-'");
    char *a8[] = {"--health-addr=::1:80"};
    load_bad(1, a8, NULL, "IPv6 host must be in brackets");
    char *a9[] = {"--config"};
    load_bad(1, a9, NULL, "flag --config: needs a file name");
    char *a10[] = {"--config", "/nonexistent/couchestor.yaml"};
    load_bad(2, a10, NULL, "config file: cannot open /nonexistent/couchestor.yaml");
}

static void file_bad(const char *text, const char *expect)
{
    const char *path = write_file(text);
    cs_config_t c;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_init(&c, &err), 0);
    cr_expect_lt(cs_config_load_file(&c, path, &err), 0, "should fail: %s", text);
    char want[256];
    snprintf(want, sizeof want, expect, path);
    cr_expect(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
    cs_config_free(&c);
    unlink(path);
}

Test(config, bad_files_name_file_and_line)
{
    file_bad("dry_run: true\nlog_level: loud\n", "config file %s:2: invalid log_level \"loud\"");
    file_bad("a: b\n", "config file %s:1: unknown parameter \"a\"");
    file_bad("dry_run: [true]\n", "config file %s:1: dry_run must have a single value");
    file_bad("- x\n", "config file %s:1: expected a mapping");
    file_bad("dry_run: true\n---\nlog_json: true\n", "only one document is allowed");
    file_bad("dry_run: 'unterminated\n", "config file %s:");
}

Test(config, empty_file_is_fine)
{
    const char *path = write_file("# nothing set\n");
    cs_config_t c;
    cs_err_t err = {0};
    cr_assert_eq(cs_config_init(&c, &err), 0);
    cr_expect_eq(cs_config_load_file(&c, path, &err), 0, "%s", err.msg);
    cs_config_free(&c);
    unlink(path);
}

Test(config, json_output)
{
    cs_config_t c;
    cr_assert_eq(cs_config_init(&c, NULL), 0);
    char buf[8192];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    cs_config_print(&c, f, true);
    fclose(f);
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    cr_assert_not_null(j, "%s", je.text);
    json_t *m = json_object_get(j, "max_concurrent_migrations");
    cr_expect_eq(json_integer_value(json_object_get(m, "value")), 2);
    cr_expect_str_eq(json_string_value(json_object_get(m, "source")), "default");
    cr_expect(json_is_false(json_object_get(json_object_get(j, "dry_run"), "value")));
    json_decref(j);
    cs_config_free(&c);
}
