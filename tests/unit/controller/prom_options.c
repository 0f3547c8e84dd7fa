/* Every Prometheus parameter of the configuration reaches the client
 * (cs_prom_options_from_config): each key set away from its default changes
 * the option it names, the secret files are read, and a bad value is
 * refused with a message naming the key. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "couchestor/config.h"
#include "couchestor/controller.h"

static void load(cs_config_t *cfg, const char *text)
{
    cs_err_t err = {0};
    cr_assert_eq(cs_config_init(cfg, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_config_load_text(cfg, text, strlen(text), "test.yaml", &err), 0, "%s", err.msg);
}

static char *secret_file(const char *content)
{
    char *path = strdup("/tmp/cs-prom-secret-XXXXXX");
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

Test(prom_options, defaults)
{
    cs_config_t cfg;
    load(&cfg, "{}\n");
    cs_prom_options_t po;
    char *secrets = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_options_from_config(&cfg, &po, &secrets, &err), 0, "%s", err.msg);
    cr_expect_float_eq(po.min_coverage, 0.8, 1e-12);
    cr_expect_eq(po.timeout_ms, 10000);
    cr_expect_eq(po.volume_key, CS_PROM_KEY_PV_NAME);
    cr_expect_null(po.ca_file);
    cr_expect_null(po.basic_user);
    cr_expect_null(po.basic_password);
    cr_expect_null(po.bearer_token);
    cr_expect_not(po.insecure_skip_verify);
    cr_expect_null(secrets);
    cs_config_free(&cfg);
}

Test(prom_options, every_key_reaches_the_client)
{
    char *token = secret_file("tok123\n");
    char *password = secret_file("s3cret\n");
    char text[1024];
    snprintf(text, sizeof text,
             "prometheus_url: https://prom.example/prometheus\n"
             "prometheus_volume_key: volume-handle\n"
             "prometheus_min_coverage_percent: 50\n"
             "prometheus_timeout_seconds: 30\n"
             "prometheus_ca_file: /etc/prom/ca.pem\n"
             "prometheus_basic_user: alice\n"
             "prometheus_basic_password_file: %s\n"
             "prometheus_bearer_token_file: %s\n"
             "prometheus_insecure_skip_verify: true\n",
             password, token);
    cs_config_t cfg;
    load(&cfg, text);
    cs_prom_options_t po;
    char *secrets = NULL;
    cs_err_t err = {0};
    cr_assert_eq(cs_prom_options_from_config(&cfg, &po, &secrets, &err), 0, "%s", err.msg);
    cr_expect_str_eq(po.url, "https://prom.example/prometheus");
    cr_expect_eq(po.volume_key, CS_PROM_KEY_VOLUME_HANDLE);
    cr_expect_float_eq(po.min_coverage, 0.5, 1e-12);
    cr_expect_eq(po.timeout_ms, 30000);
    cr_expect_str_eq(po.ca_file, "/etc/prom/ca.pem");
    cr_expect_str_eq(po.basic_user, "alice");
    cr_expect_str_eq(po.basic_password, "s3cret", "trailing newline cut");
    cr_expect_str_eq(po.bearer_token, "tok123");
    cr_expect(po.insecure_skip_verify);
    /* and the client takes them */
    cs_prom_t *p = NULL;
    cr_assert_eq(cs_prom_new(&po, &p, &err), 0, "%s", err.msg);
    cr_expect_eq(cs_prom_volume_key(p), CS_PROM_KEY_VOLUME_HANDLE);
    cr_expect_float_eq(cs_prom_min_coverage(p), 0.5, 1e-12);
    cs_prom_free(p);
    free(secrets);
    cs_config_free(&cfg);
    unlink(token);
    unlink(password);
    free(token);
    free(password);
}

Test(prom_options, bad_values_name_the_key)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"prometheus_volume_key: uuid\n",
         "test.yaml:1: invalid prometheus_volume_key \"uuid\": must be pv-name (the label carries the PV name, "
         "pvc-<uuid>) or volume-handle (it carries the CSI volume handle, for Mayastor the volume uuid)"},
        {"prometheus_min_coverage_percent: 100\n", "invalid prometheus_min_coverage_percent \"100\": must be between 0 "
                                                   "and 99"},
        {"prometheus_timeout_seconds: 0\n", "invalid prometheus_timeout_seconds \"0\": must be between 1 and 600"},
        {"prometheus_insecure_skip_verify: maybe\n",
         "invalid prometheus_insecure_skip_verify \"maybe\": is not a boolean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cs_config_t cfg;
        cs_err_t err = {0};
        cr_assert_eq(cs_config_init(&cfg, &err), 0);
        cr_expect_eq(cs_config_load_text(&cfg, cases[i].text, strlen(cases[i].text), "test.yaml", &err), CS_EINVAL,
                     "case %zu", i);
        cr_expect(strstr(err.msg, cases[i].want) != NULL, "case %zu: %s", i, err.msg);
        cs_config_free(&cfg);
    }
    /* a password without a user */
    char *password = secret_file("pw");
    char text[512];
    snprintf(text, sizeof text, "prometheus_basic_password_file: %s\n", password);
    cs_config_t cfg;
    load(&cfg, text);
    cs_prom_options_t po;
    char *secrets = NULL;
    cs_err_t err = {0};
    cr_expect_eq(cs_prom_options_from_config(&cfg, &po, &secrets, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "prometheus basic auth: a password was given without a user (set prometheus_basic_user)");
    free(secrets);
    cs_config_free(&cfg);
    /* an unreadable secret file names its key */
    load(&cfg, "prometheus_basic_user: a\nprometheus_basic_password_file: /nonexistent/pw\n");
    secrets = NULL;
    cr_expect_neq(cs_prom_options_from_config(&cfg, &po, &secrets, &err), 0);
    cr_expect(strstr(err.msg, "prometheus_basic_password_file: ") == err.msg, "%s", err.msg);
    free(secrets);
    cs_config_free(&cfg);
    unlink(password);
    free(password);
}
