/* Every parameter parsed is used: each key of the configuration table, set
 * to a value other than its default through a config file, a variable or a
 * flag, changes the cs_config_t field of the same name and nothing else.
 * (That every field is read outside src/core/config.c is checked by
 * tests/integration/config/check_config_fields.py.) */
#include <criterion/criterion.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/config.h"

/* A valid value other than the default, per key. A key added to the table
 * without a line here fails `every_key_has_a_test_value`. */
static const struct {
    const char *key, *value;
} other_values[] = {
    {"prometheus_url", "http://prom.example:9091"},
    {"max_concurrent_migrations", "9"},
    {"migration_timeout_minutes", "45"},
    {"sync_poll_interval_seconds", "3"},
    {"dry_run", "true"},
    {"preservation_mode", "true"},
    {"mayastor_namespace", "openebs"},
    {"metrics_addr", "127.0.0.1:9100"},
    {"health_addr", "127.0.0.1:9101"},
    {"log_level", "debug"},
    {"log_json", "true"},
    {"mayastor_url", "http://api-rest.openebs:8081"},
    {"kubeconfig", "/etc/kube/config"},
    {"kube_context", "staging"},
    {"prometheus_iops_metrics", "a_ops+b_ops"},
    {"prometheus_iops_fallbacks", "c_ops,d_ops"},
    {"prometheus_volume_label", "volume"},
    {"prometheus_selector", "job=\"mayastor\""},
    {"prometheus_bearer_token_file", "/var/run/token"},
    {"prometheus_volume_key", "volume-handle"},
    {"prometheus_min_coverage_percent", "50"},
    {"prometheus_timeout_seconds", "30"},
    {"prometheus_ca_file", "/etc/prom/ca.pem"},
    {"prometheus_basic_user", "alice"},
    {"prometheus_basic_password_file", "/var/run/password"},
    {"prometheus_insecure_skip_verify", "true"},
    {"leader_election", "false"},
    {"lease_name", "tiering"},
    {"lease_namespace", "storage"},
};
#define N_OTHER (sizeof other_values / sizeof other_values[0])

static const char *other_value(const char *key)
{
    for (size_t i = 0; i < N_OTHER; i++)
        if (strcmp(other_values[i].key, key) == 0)
            return other_values[i].value;
    return NULL;
}

/* The struct's fields by their own names (not through the table), as JSON,
 * so a key writing the wrong field, or a second one, shows. */
static json_t *fields(const cs_config_t *c)
{
#define S(f) json_string(c->f ? c->f : "(null)")
    json_t *j = json_pack(
        "{s:o, s:I, s:I, s:I, s:b, s:b, s:o, s:o, s:o, s:i, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:b, s:o, s:o}",
        "prometheus_url", S(prometheus_url), "max_concurrent_migrations", (json_int_t)c->max_concurrent_migrations,
        "migration_timeout_minutes", (json_int_t)c->migration_timeout_minutes, "sync_poll_interval_seconds",
        (json_int_t)c->sync_poll_interval_seconds, "dry_run", c->dry_run, "preservation_mode", c->preservation_mode,
        "mayastor_namespace", S(mayastor_namespace), "metrics_addr", S(metrics_addr), "health_addr", S(health_addr),
        "log_level", (int)c->log_level, "log_json", c->log_json, "mayastor_url", S(mayastor_url), "kubeconfig",
        S(kubeconfig), "prometheus_iops_metrics", S(prometheus_iops_metrics), "prometheus_iops_fallbacks",
        S(prometheus_iops_fallbacks), "prometheus_volume_label", S(prometheus_volume_label), "prometheus_selector",
        S(prometheus_selector), "prometheus_bearer_token_file", S(prometheus_bearer_token_file), "leader_election",
        c->leader_election, "lease_name", S(lease_name), "lease_namespace", S(lease_namespace));
    /* json_pack takes at most so many arguments in one call: the rest here */
    json_t *more = json_pack(
        "{s:o, s:I, s:I, s:o, s:o, s:o, s:b, s:o}", "prometheus_volume_key", S(prometheus_volume_key),
        "prometheus_min_coverage_percent", (json_int_t)c->prometheus_min_coverage_percent, "prometheus_timeout_seconds",
        (json_int_t)c->prometheus_timeout_seconds, "prometheus_ca_file", S(prometheus_ca_file), "prometheus_basic_user",
        S(prometheus_basic_user), "prometheus_basic_password_file", S(prometheus_basic_password_file),
        "prometheus_insecure_skip_verify", c->prometheus_insecure_skip_verify, "kube_context", S(kube_context));
    json_object_update(j, more);
    json_decref(more);
    return j;
#undef S
}

/* The keys whose field differs between a and b. */
static void changed_keys(const cs_config_t *a, const cs_config_t *b, char *out, size_t len)
{
    json_t *ja = fields(a), *jb = fields(b);
    cr_assert_not_null(ja);
    cr_assert_not_null(jb);
    out[0] = '\0';
    const char *key;
    json_t *v;
    json_object_foreach(ja, key, v)
    {
        if (!json_equal(v, json_object_get(jb, key))) {
            size_t n = strlen(out);
            snprintf(out + n, len - n, "%s%s", n ? "," : "", key);
        }
    }
    json_decref(ja);
    json_decref(jb);
}

Test(config_keys, every_key_has_a_test_value)
{
    size_t n = cs_config_key_count();
    cr_expect_eq(n, N_OTHER, "the table has %zu keys, this test knows %zu", n, N_OTHER);
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(other_value(cs_config_key_name(i)), "no test value for key %s: add one above",
                           cs_config_key_name(i));
    cr_expect_null(cs_config_key_name(n));
    json_t *f = fields(&(cs_config_t){0});
    cr_expect_eq(json_object_size(f), n, "fields() names every parameter field");
    for (size_t i = 0; i < n; i++)
        cr_expect_not_null(json_object_get(f, cs_config_key_name(i)), "fields() lacks %s", cs_config_key_name(i));
    json_decref(f);
}

static void flag_of(const char *key, char *out, size_t len)
{
    snprintf(out, len, "--%s", key);
    for (char *p = out + 2; *p; p++)
        if (*p == '_')
            *p = '-';
}

static void env_of(const char *key, const char *value, char *out, size_t len)
{
    size_t n = strlen(key);
    snprintf(out, len, "%s=%s", key, value);
    for (size_t i = 0; i < n && out[i]; i++)
        out[i] = (char)toupper((unsigned char)out[i]);
}

/* Loads defaults plus one setting; the caller frees *c. */
static void load_one(int how, const char *key, const char *value, cs_config_t *c)
{
    cs_err_t err = {0};
    char flag[128], assign[256], text[512];
    int rc;
    if (how == 0) { /* a config file's text */
        snprintf(text, sizeof text, "%s: '%s'\n", key, value);
        cr_assert_eq(cs_config_init(c, &err), 0, "%s", err.msg);
        rc = cs_config_load_text(c, text, strlen(text), "test.yaml", &err);
        if (rc != 0)
            cs_config_free(c);
    } else if (how == 1) { /* a variable */
        env_of(key, value, assign, sizeof assign);
        char *envp[] = {assign, NULL};
        rc = cs_config_load(c, 0, NULL, envp, &err);
    } else { /* a flag, --name=value (a boolean takes no separate value) */
        flag_of(key, flag, sizeof flag);
        snprintf(assign, sizeof assign, "%s=%s", flag, value);
        char *argv[] = {assign, NULL};
        rc = cs_config_load(c, 1, argv, NULL, &err);
    }
    cr_assert_eq(rc, 0, "%s = %s (way %d): %s", key, value, how, err.msg);
}

Test(config_keys, each_key_changes_its_field_and_only_it)
{
    static const char *const ways[] = {"config file", "environment variable", "flag"};
    cs_config_t def;
    cr_assert_eq(cs_config_init(&def, NULL), 0);
    for (size_t i = 0; i < cs_config_key_count(); i++) {
        const char *key = cs_config_key_name(i);
        const char *value = other_value(key);
        if (!value)
            continue; /* reported by every_key_has_a_test_value */
        for (int how = 0; how < 3; how++) {
            cs_config_t c;
            load_one(how, key, value, &c);
            char changed[512];
            changed_keys(&def, &c, changed, sizeof changed);
            cr_expect_str_eq(changed, key, "%s %s=%s changed [%s]", ways[how], key, value, changed);
            char want[256], name[160];
            if (how == 0)
                snprintf(want, sizeof want, "config file test.yaml:1");
            else if (how == 1) {
                env_of(key, "", name, sizeof name);
                name[strlen(name) - 1] = '\0'; /* drop the '=' */
                snprintf(want, sizeof want, "environment variable %s", name);
            } else {
                flag_of(key, name, sizeof name);
                snprintf(want, sizeof want, "flag %s", name);
            }
            cr_expect_str_eq(c.sources[i], want, "the source of %s is recorded", key);
            cs_config_free(&c);
        }
    }
    cs_config_free(&def);
}
