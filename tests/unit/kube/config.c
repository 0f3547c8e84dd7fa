/* Tests for connection configuration: kubeconfig variants (current context,
 * CA file/data, client certificates, tokens, insecure, merging), in-cluster
 * configuration and the kubectl order of choice, with the errors a person
 * reads when something is wrong. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/kube.h"

/* base64 of "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" */
#define PEM_B64 "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBQUEKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="

static char tmpdir[64];

static void mkd(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/kubecfgXXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void rmd(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static int parse(const char *text, const char *ctx, cs_kube_config_t *cfg, cs_err_t *err)
{
    return cs_kube_config_parse(text, strlen(text), "test.yaml", "/etc/kube", ctx, cfg, err);
}

static const char *KC_BASIC = "apiVersion: v1\n"
                              "kind: Config\n"
                              "current-context: dev\n"
                              "clusters:\n"
                              "- name: c1\n"
                              "  cluster:\n"
                              "    server: https://10.0.0.1:6443/\n"
                              "    certificate-authority: certs/ca.crt\n"
                              "- name: c2\n"
                              "  cluster:\n"
                              "    server: https://kube.example:443\n"
                              "    certificate-authority-data: " PEM_B64 "\n"
                              "- name: c3\n"
                              "  cluster:\n"
                              "    server: http://127.0.0.1:8080\n"
                              "    insecure-skip-tls-verify: true\n"
                              "users:\n"
                              "- name: tok\n"
                              "  user:\n"
                              "    token: abc.def\n"
                              "- name: cert\n"
                              "  user:\n"
                              "    client-certificate-data: " PEM_B64 "\n"
                              "    client-key-data: " PEM_B64 "\n"
                              "- name: certfile\n"
                              "  user:\n"
                              "    client-certificate: /abs/client.crt\n"
                              "    client-key: rel/client.key\n"
                              "- name: tf\n"
                              "  user:\n"
                              "    tokenFile: tokens/t\n"
                              "contexts:\n"
                              "- name: dev\n"
                              "  context: {cluster: c1, user: tok, namespace: team-a}\n"
                              "- name: prod\n"
                              "  context: {cluster: c2, user: cert}\n"
                              "- name: local\n"
                              "  context: {cluster: c3, user: certfile}\n"
                              "- name: tfile\n"
                              "  context: {cluster: c3, user: tf}\n"
                              "- name: nouser\n"
                              "  context: {cluster: c3}\n";

Test(config, kubeconfig_current_context_token_and_ca_file)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(parse(KC_BASIC, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://10.0.0.1:6443", "trailing slash dropped");
    cr_expect_str_eq(cfg.ca_file, "/etc/kube/certs/ca.crt", "relative to the file's directory");
    cr_expect_null(cfg.ca_pem);
    cr_expect_str_eq(cfg.token, "abc.def");
    cr_expect_str_eq(cfg.namespace, "team-a");
    cr_expect_not(cfg.insecure_skip_verify);
    cr_expect_str_eq(cfg.source, "kubeconfig test.yaml, context dev");
    cs_kube_config_free(&cfg);
    cr_expect_null(cfg.server, "free zeroes");
    cs_kube_config_free(&cfg);
    cs_kube_config_free(NULL);
}

Test(config, kubeconfig_data_fields_are_decoded)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(parse(KC_BASIC, "prod", &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://kube.example:443");
    cr_expect_str_eq(cfg.ca_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    cr_expect_str_eq(cfg.client_cert_pem, cfg.ca_pem);
    cr_expect_str_eq(cfg.client_key_pem, cfg.ca_pem);
    cr_expect_null(cfg.token);
    cr_expect_str_eq(cfg.namespace, "default");
    cs_kube_config_free(&cfg);
}

Test(config, kubeconfig_files_insecure_token_file_and_no_user)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(parse(KC_BASIC, "local", &cfg, &err), 0, "%s", err.msg);
    cr_expect(cfg.insecure_skip_verify);
    cr_expect_str_eq(cfg.client_cert_file, "/abs/client.crt");
    cr_expect_str_eq(cfg.client_key_file, "/etc/kube/rel/client.key");
    cs_kube_config_free(&cfg);
    cr_assert_eq(parse(KC_BASIC, "tfile", &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.token_file, "/etc/kube/tokens/t");
    cr_expect_null(cfg.token);
    cs_kube_config_free(&cfg);
    cr_assert_eq(parse(KC_BASIC, "nouser", &cfg, &err), 0, "%s", err.msg);
    cr_expect_null(cfg.token);
    cr_expect_null(cfg.client_cert_pem);
    cs_kube_config_free(&cfg);
}

Test(config, kubeconfig_errors_name_file_and_field)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_expect_eq(parse(KC_BASIC, "nope", &cfg, &err), CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: context \"nope\" is not in contexts[] (available: "
                              "\"dev\", \"prod\", \"local\", \"tfile\", \"nouser\")");
    cr_expect_null(cfg.server, "zeroed on failure");

    cr_expect_eq(parse("clusters: []\ncontexts: []\n", NULL, &cfg, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: current-context is not set; choose a context "
                              "(available: none) with --context or `kubectl config use-context NAME`");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'ftp://h'}\n",
                       NULL, &cfg, &err),
                 CS_EINVAL);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: clusters[name=x].cluster.server \"ftp://h\" must "
                              "start with https:// or http://");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x}\n"
                       "clusters:\n- name: x\n  cluster: {}\n",
                       NULL, &cfg, &err),
                 CS_EINVAL);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: clusters[name=x].cluster.server is missing");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h'}\n",
                       NULL, &cfg, &err),
                 CS_ENOTFOUND);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: context \"a\" names user \"u\", which is not in "
                              "users[] (available: none)");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h', certificate-authority-data: '!!'}\n"
                       "users:\n- name: u\n  user: {token: t}\n",
                       NULL, &cfg, &err),
                 CS_EPARSE);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: clusters[name=x].cluster.certificate-authority-data: "
                              "not valid base64");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h'}\n"
                       "users:\n- name: u\n  user: {token: 12}\n",
                       NULL, &cfg, &err),
                 CS_EPARSE);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: users[name=u].user.token: expected a string, got integer");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h'}\n"
                       "users:\n- name: u\n  user: {exec: {command: aws}}\n",
                       NULL, &cfg, &err),
                 CS_EUNSUPPORTED);
    cr_expect(strstr(err.msg, "users[name=u].user.exec: exec credential plugins are not supported") != NULL, "%s",
              err.msg);

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x, user: u}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h'}\n"
                       "users:\n- name: u\n  user: {client-certificate: c.crt}\n",
                       NULL, &cfg, &err),
                 CS_EINVAL);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: users[name=u].user: client-certificate is set without "
                              "client-key; mutual TLS needs both");

    cr_expect_eq(parse("current-context: a\ncontexts:\n- name: a\n  context: {cluster: x}\n"
                       "clusters:\n- name: x\n  cluster: {server: 'https://h', insecure-skip-tls-verify: true, "
                       "certificate-authority: ca}\n",
                       NULL, &cfg, &err),
                 CS_EINVAL);
    cr_expect(strstr(err.msg, "insecure-skip-tls-verify cannot be combined") != NULL, "%s", err.msg);

    cr_expect_eq(parse("- just\n- a list\n", NULL, &cfg, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: expected a mapping at the top level, got array");

    cr_expect_eq(parse("clusters: {a: 1}\n", NULL, &cfg, &err), CS_EPARSE);
    cr_expect_str_eq(err.msg, "kubeconfig test.yaml: clusters: expected a list, got object");

    cr_expect_eq(parse("a: [\n", NULL, &cfg, &err), CS_EPARSE);
    cr_expect(strncmp(err.msg, "kubeconfig: test.yaml:", 22) == 0, "%s", err.msg);
}

Test(config, kubeconfig_merge_first_file_wins, .init = mkd, .fini = rmd)
{
    put("a", "current-context: one\n"
             "contexts:\n- name: one\n  context: {cluster: c, user: u}\n"
             "users:\n- name: u\n  user: {token: from-a}\n");
    put("b", "current-context: two\n"
             "contexts:\n- name: one\n  context: {cluster: other, user: u}\n"
             "clusters:\n- name: c\n  cluster: {server: 'https://b.example', certificate-authority: ca.pem}\n"
             "users:\n- name: u\n  user: {token: from-b}\n");
    char paths[256];
    snprintf(paths, sizeof paths, "%s/a:%s/missing:%s/b", tmpdir, tmpdir, tmpdir);
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_config_from_files(paths, NULL, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://b.example");
    cr_expect_str_eq(cfg.token, "from-a", "the first file that defines the user wins");
    char want[128];
    snprintf(want, sizeof want, "%s/ca.pem", tmpdir);
    cr_expect_str_eq(cfg.ca_file, want, "relative to the file that holds the cluster");
    cs_kube_config_free(&cfg);

    snprintf(paths, sizeof paths, "%s/none", tmpdir);
    cr_expect_eq(cs_kube_config_from_files(paths, NULL, &cfg, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
}

static void in_cluster_files(void)
{
    mkd();
    put("token", "  tok-1\n");
    put("ca.crt", "-----BEGIN CERTIFICATE-----\n");
    put("namespace", "storage\n");
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    unsetenv("POD_NAMESPACE");
    unsetenv("KUBECONFIG");
}

Test(config, in_cluster, .init = in_cluster_files, .fini = rmd)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    cr_assert_eq(cs_kube_config_in_cluster(tmpdir, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://10.96.0.1:443");
    cr_expect_str_eq(cfg.token, "tok-1");
    char want[128];
    snprintf(want, sizeof want, "%s/token", tmpdir);
    cr_expect_str_eq(cfg.token_file, want, "kept so that a rotated token is re-read");
    snprintf(want, sizeof want, "%s/ca.crt", tmpdir);
    cr_expect_str_eq(cfg.ca_file, want);
    cr_expect_str_eq(cfg.namespace, "storage");
    cs_kube_config_free(&cfg);

    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    setenv("POD_NAMESPACE", "from-env", 1);
    cr_assert_eq(cs_kube_config_in_cluster(tmpdir, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://[fd00::1]:443", "IPv6 is bracketed");
    cr_expect_str_eq(cfg.namespace, "from-env");
    cs_kube_config_free(&cfg);
}

Test(config, in_cluster_errors, .init = in_cluster_files, .fini = rmd)
{
    cs_kube_config_t cfg;
    cs_err_t err = {0};
    char path[128];
    snprintf(path, sizeof path, "%s/ca.crt", tmpdir);
    unlink(path);
    cr_expect_eq(cs_kube_config_in_cluster(tmpdir, &cfg, &err), CS_ENOTFOUND);
    char want[256];
    snprintf(want, sizeof want, "in-cluster config: cannot read the cluster CA bundle %s: No such file or directory",
             path);
    cr_expect_str_eq(err.msg, want);

    snprintf(path, sizeof path, "%s/token", tmpdir);
    unlink(path);
    cr_expect_eq(cs_kube_config_in_cluster(tmpdir, &cfg, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "cannot read the service-account token") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, "automountServiceAccountToken") != NULL, "%s", err.msg);

    unsetenv("KUBERNETES_SERVICE_PORT");
    cr_expect_eq(cs_kube_config_in_cluster(tmpdir, &cfg, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "KUBERNETES_SERVICE_PORT must both be set") != NULL, "%s", err.msg);
}

Test(config, load_order_as_kubectl, .init = in_cluster_files, .fini = rmd)
{
    put("explicit", "current-context: e\ncontexts:\n- name: e\n  context: {cluster: c}\n"
                    "clusters:\n- name: c\n  cluster: {server: 'https://explicit'}\n");
    put("env", "current-context: e\ncontexts:\n- name: e\n  context: {cluster: c}\n"
               "clusters:\n- name: c\n  cluster: {server: 'https://env'}\n");
    mkdir(strcat(strcpy((char[128]){0}, tmpdir), "/.kube"), 0700);
    put(".kube/config", "current-context: e\ncontexts:\n- name: e\n  context: {cluster: c}\n"
                        "clusters:\n- name: c\n  cluster: {server: 'https://home'}\n");
    char explicit_path[128], env_path[128];
    snprintf(explicit_path, sizeof explicit_path, "%s/explicit", tmpdir);
    snprintf(env_path, sizeof env_path, "%s/env", tmpdir);
    setenv("KUBECONFIG", env_path, 1);
    setenv("HOME", tmpdir, 1);
    cs_kube_config_load_options_t o = {.kubeconfig = explicit_path, .sa_dir = tmpdir};
    cs_kube_config_t cfg;
    cs_err_t err = {0};

    cr_assert_eq(cs_kube_config_load(&o, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://explicit", "an explicit path comes first");
    cs_kube_config_free(&cfg);

    o.kubeconfig = NULL;
    cr_assert_eq(cs_kube_config_load(&o, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://env", "then $KUBECONFIG");
    cs_kube_config_free(&cfg);

    unsetenv("KUBECONFIG");
    cr_assert_eq(cs_kube_config_load(&o, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://10.96.0.1:443", "then in-cluster");
    cs_kube_config_free(&cfg);

    unsetenv("KUBERNETES_SERVICE_HOST");
    cr_assert_eq(cs_kube_config_load(&o, &cfg, &err), 0, "%s", err.msg);
    cr_expect_str_eq(cfg.server, "https://home", "then ~/.kube/config");
    cs_kube_config_free(&cfg);

    setenv("HOME", "/nonexistent-home", 1);
    cr_expect_eq(cs_kube_config_load(&o, &cfg, &err), CS_ENOTFOUND);
    cr_expect(strstr(err.msg, "/nonexistent-home/.kube/config does not exist; pass --kubeconfig") != NULL, "%s",
              err.msg);
}
