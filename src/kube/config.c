/* config.c: where the API server is and how to authenticate: in-cluster
 * service-account configuration or kubeconfig files, chosen as kubectl
 * chooses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "couchestor/json.h"
#include "couchestor/yaml.h"
#include "kube/internal.h"

void cs_kube_config_free(cs_kube_config_t *cfg)
{
    if (!cfg)
        return;
    free(cfg->server);
    free(cfg->ca_file);
    free(cfg->ca_pem);
    free(cfg->client_cert_file);
    free(cfg->client_key_file);
    free(cfg->client_cert_pem);
    free(cfg->client_key_pem);
    free(cfg->token);
    free(cfg->token_file);
    free(cfg->username);
    free(cfg->password);
    free(cfg->namespace);
    free(cfg->source);
    memset(cfg, 0, sizeof *cfg);
}

/* Reads a small file and trims surrounding whitespace. */
static int cs__kube_read_trimmed(const char *path, char **out, cs_err_t *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = cs_file_read_all(path, CS_KUBE_CONFIG_MAX_BYTES, &text, &len, err);
    if (rc != 0)
        return rc;
    size_t a = 0;
    while (a < len && (text[a] == ' ' || text[a] == '\n' || text[a] == '\r' || text[a] == '\t'))
        a++;
    while (len > a && (text[len - 1] == ' ' || text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == '\t'))
        len--;
    memmove(text, text + a, len - a);
    text[len - a] = '\0';
    *out = text;
    return 0;
}

/* ---- in-cluster ------------------------------------------------------------ */

int cs_kube_config_in_cluster(const char *sa_dir, cs_kube_config_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!sa_dir)
        sa_dir = CS_KUBE_SA_DIR;
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host || !port || !*port)
        return cs_err_set(err, CS_ENOTFOUND,
                          "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must "
                          "both be set (they are inside a pod); outside a cluster use a kubeconfig");
    for (const char *p = port; *p; p++)
        if (*p < '0' || *p > '9')
            return cs_err_set(err, CS_EINVAL,
                              "in-cluster config: KUBERNETES_SERVICE_PORT \"%.32s\" is not a port number", port);
    char url[512];
    bool v6 = strchr(host, ':') != NULL && host[0] != '[';
    int n = snprintf(url, sizeof url, v6 ? "https://[%s]:%s" : "https://%s:%s", host, port);
    if (n < 0 || (size_t)n >= sizeof url)
        return cs_err_set(err, CS_EINVAL, "in-cluster config: KUBERNETES_SERVICE_HOST is too long");

    char path[4096];
    int rc;
    snprintf(path, sizeof path, "%s/token", sa_dir);
    char *token = NULL;
    cs_err_t e = {0};
    if ((rc = cs__kube_read_trimmed(path, &token, &e)) != 0)
        return cs_err_set(err, rc,
                          "in-cluster config: cannot read the service-account token: %s (is "
                          "automountServiceAccountToken disabled for this pod?)",
                          e.msg);
    if (!*token) {
        free(token);
        return cs_err_set(err, CS_EINVAL, "in-cluster config: service-account token file %s is empty", path);
    }
    out->token = token;
    if (!(out->token_file = cs__kube_strdup(path)))
        goto oom;

    snprintf(path, sizeof path, "%s/ca.crt", sa_dir);
    if (access(path, R_OK) != 0) {
        int saved = errno;
        cs_kube_config_free(out);
        return cs_err_set(err, cs_err_from_errno(saved), "in-cluster config: cannot read the cluster CA bundle %s: %s",
                          path, strerror(saved));
    }
    if (!(out->ca_file = cs__kube_strdup(path)))
        goto oom;

    const char *pod_ns = getenv("POD_NAMESPACE");
    if (pod_ns && *pod_ns) {
        out->namespace = cs__kube_strdup(pod_ns);
    } else {
        snprintf(path, sizeof path, "%s/namespace", sa_dir);
        char *ns = NULL;
        if (cs__kube_read_trimmed(path, &ns, NULL) == 0 && *ns)
            out->namespace = ns;
        else {
            free(ns);
            out->namespace = cs__kube_strdup("default");
        }
    }
    if (!out->namespace)
        goto oom;
    out->server = cs__kube_strdup(url);
    char src[4200];
    snprintf(src, sizeof src, "in-cluster (%s)", sa_dir);
    out->source = cs__kube_strdup(src);
    if (!out->server || !out->source)
        goto oom;
    return 0;
oom:
    cs_kube_config_free(out);
    return cs_err_set(err, CS_ENOMEM, "in-cluster config: out of memory");
}

/* ---- kubeconfig ------------------------------------------------------------- */

typedef struct cs__kc_file_s {
    json_t *doc; /* the document (an object), owned */
    char *what;  /* file name for messages */
    char *dir;   /* directory for relative paths */
} cs__kc_file_t;

static int cs__kc_b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 (whitespace ignored, padding optional) into a
 * NUL-terminated buffer. */
static int cs__kc_b64decode(const char *in, char **out)
{
    size_t n = strlen(in);
    char *buf = malloc(n / 4 * 3 + 4);
    if (!buf)
        return CS_ENOMEM;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    bool pad = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t')
            continue;
        if (ch == '=') {
            pad = true;
            continue;
        }
        int v = cs__kc_b64val(ch);
        if (v < 0 || pad) {
            free(buf);
            return CS_EPARSE;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            buf[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (bits >= 6) { /* a single dangling sextet is not valid base64 */
        free(buf);
        return CS_EPARSE;
    }
    buf[o] = '\0';
    if (memchr(buf, '\0', o)) { /* PEM never holds NUL */
        free(buf);
        return CS_EPARSE;
    }
    *out = buf;
    return 0;
}

/* The entry named `name` in the array doc[list] (entries {name, <inner>: {}}). */
static const json_t *cs__kc_find(const json_t *doc, const char *list, const char *name)
{
    const json_t *arr = json_object_get(doc, list);
    if (!json_is_array(arr))
        return NULL;
    size_t i;
    const json_t *e;
    json_array_foreach(arr, i, e)
    {
        const json_t *n = json_object_get(e, "name");
        if (json_is_string(n) && strcmp(json_string_value(n), name) == 0)
            return e;
    }
    return NULL;
}

/* Lists the names in doc[list] of every file, for "available: ..." hints. */
static void cs__kc_names(const cs__kc_file_t *files, size_t nfiles, const char *list, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (size_t f = 0; f < nfiles; f++) {
        const json_t *arr = json_object_get(files[f].doc, list);
        size_t i;
        const json_t *e;
        json_array_foreach(arr, i, e)
        {
            const json_t *n = json_object_get(e, "name");
            if (!json_is_string(n))
                continue;
            int w = snprintf(buf + used, len - used, "%s\"%s\"", used ? ", " : "", json_string_value(n));
            if (w < 0 || (size_t)w >= len - used)
                return;
            used += (size_t)w;
        }
    }
    if (!used)
        snprintf(buf, len, "none");
}

/* Reads an optional string field; 1 when absent, 0 when read, <0 error. */
static int cs__kc_str(const cs__kc_file_t *f, const json_t *obj, const char *path, const char *key, const char **out,
                      cs_err_t *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 1;
    if (!json_is_string(v))
        return cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s.%s: expected a string, got %s", f->what, path, key,
                          cs_json_type_name(v));
    *out = json_string_value(v);
    return **out ? 0 : 1;
}

/* Joins a relative path with the file's directory. */
static char *cs__kc_path(const cs__kc_file_t *f, const char *p)
{
    if (p[0] == '/' || !f->dir || !*f->dir)
        return cs__kube_strdup(p);
    size_t n = strlen(f->dir) + strlen(p) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", f->dir, p);
    return out;
}

#define CS__KC_TRY(expr) \
    do {                 \
        rc = (expr);     \
        if (rc < 0)      \
            goto fail;   \
    } while (0)

static int cs__kc_pem(const cs__kc_file_t *f, const json_t *obj, const char *path, const char *key, char **out,
                      cs_err_t *err)
{
    const char *s = NULL;
    int rc = cs__kc_str(f, obj, path, key, &s, err);
    if (rc != 0)
        return rc;
    rc = cs__kc_b64decode(s, out);
    if (rc == CS_ENOMEM)
        return cs_err_set(err, rc, "kubeconfig %s: out of memory", f->what);
    if (rc != 0)
        return cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s.%s: not valid base64", f->what, path, key);
    if (!strstr(*out, "-----BEGIN ")) {
        free(*out);
        *out = NULL;
        return cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s.%s: decoded data is not PEM (no \"-----BEGIN\" line)",
                          f->what, path, key);
    }
    return 0;
}

static int cs__kc_file_ref(const cs__kc_file_t *f, const json_t *obj, const char *path, const char *key, char **out,
                           cs_err_t *err)
{
    const char *s = NULL;
    int rc = cs__kc_str(f, obj, path, key, &s, err);
    if (rc != 0)
        return rc;
    if (!(*out = cs__kc_path(f, s)))
        return cs_err_set(err, CS_ENOMEM, "kubeconfig %s: out of memory", f->what);
    return 0;
}

static int cs__kc_resolve(cs__kc_file_t *files, size_t nfiles, const char *context, cs_kube_config_t *out,
                          cs_err_t *err)
{
    char all[1024] = "";
    for (size_t i = 0; i < nfiles; i++) {
        size_t u = strlen(all);
        snprintf(all + u, sizeof all - u, "%s%s", i ? ":" : "", files[i].what);
    }
    int rc = 0;
    char hint[512];
    /* current-context: the first file that sets it. */
    if (!context || !*context) {
        for (size_t i = 0; i < nfiles && (!context || !*context); i++) {
            const char *cc = NULL;
            CS__KC_TRY(cs__kc_str(&files[i], files[i].doc, "", "current-context", &cc, err));
            if (rc == 0)
                context = cc;
        }
        if (!context || !*context) {
            cs__kc_names(files, nfiles, "contexts", hint, sizeof hint);
            return cs_err_set(err, CS_EINVAL,
                              "kubeconfig %s: current-context is not set; choose a context (available: "
                              "%s) with --context or `kubectl config use-context NAME`",
                              all, hint);
        }
    }
    const json_t *ctx_entry = NULL;
    const cs__kc_file_t *ctx_file = NULL;
    for (size_t i = 0; i < nfiles && !ctx_entry; i++)
        if ((ctx_entry = cs__kc_find(files[i].doc, "contexts", context)))
            ctx_file = &files[i];
    if (!ctx_entry) {
        cs__kc_names(files, nfiles, "contexts", hint, sizeof hint);
        return cs_err_set(err, CS_ENOTFOUND, "kubeconfig %s: context \"%s\" is not in contexts[] (available: %s)", all,
                          context, hint);
    }
    char path[600];
    snprintf(path, sizeof path, "contexts[name=%s].context", context);
    const json_t *ctx = json_object_get(ctx_entry, "context");
    if (!json_is_object(ctx))
        return cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s: expected an object", ctx_file->what, path);
    const char *cluster_name = NULL, *user_name = NULL, *ns = NULL;
    CS__KC_TRY(cs__kc_str(ctx_file, ctx, path, "cluster", &cluster_name, err));
    CS__KC_TRY(cs__kc_str(ctx_file, ctx, path, "user", &user_name, err));
    CS__KC_TRY(cs__kc_str(ctx_file, ctx, path, "namespace", &ns, err));
    if (!cluster_name)
        return cs_err_set(err, CS_EINVAL, "kubeconfig %s: %s.cluster is missing", ctx_file->what, path);

    const json_t *cl_entry = NULL;
    const cs__kc_file_t *cl_file = NULL;
    for (size_t i = 0; i < nfiles && !cl_entry; i++)
        if ((cl_entry = cs__kc_find(files[i].doc, "clusters", cluster_name)))
            cl_file = &files[i];
    if (!cl_entry) {
        cs__kc_names(files, nfiles, "clusters", hint, sizeof hint);
        return cs_err_set(err, CS_ENOTFOUND,
                          "kubeconfig %s: context \"%s\" names cluster \"%s\", which is not in "
                          "clusters[] (available: %s)",
                          all, context, cluster_name, hint);
    }
    snprintf(path, sizeof path, "clusters[name=%s].cluster", cluster_name);
    const json_t *cl = json_object_get(cl_entry, "cluster");
    if (!json_is_object(cl))
        return cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s: expected an object", cl_file->what, path);
    const char *server = NULL;
    CS__KC_TRY(cs__kc_str(cl_file, cl, path, "server", &server, err));
    if (!server)
        return cs_err_set(err, CS_EINVAL, "kubeconfig %s: %s.server is missing", cl_file->what, path);
    if (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0)
        return cs_err_set(err, CS_EINVAL, "kubeconfig %s: %s.server \"%.200s\" must start with https:// or http://",
                          cl_file->what, path, server);
    if (!(out->server = cs__kube_strdup(server)))
        goto oom;
    /* Strip a trailing slash: paths are appended. */
    size_t sl = strlen(out->server);
    while (sl > 0 && out->server[sl - 1] == '/')
        out->server[--sl] = '\0';
    CS__KC_TRY(cs__kc_file_ref(cl_file, cl, path, "certificate-authority", &out->ca_file, err));
    CS__KC_TRY(cs__kc_pem(cl_file, cl, path, "certificate-authority-data", &out->ca_pem, err));
    const json_t *insecure = json_object_get(cl, "insecure-skip-tls-verify");
    if (json_is_boolean(insecure))
        out->insecure_skip_verify = json_is_true(insecure);
    else if (json_is_string(insecure) && strcmp(json_string_value(insecure), "true") == 0)
        out->insecure_skip_verify = true;
    else if (json_is_string(insecure) && strcmp(json_string_value(insecure), "false") == 0)
        out->insecure_skip_verify = false;
    else if (insecure && !json_is_null(insecure)) {
        rc = cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s.insecure-skip-tls-verify: expected true or false",
                        cl_file->what, path);
        goto fail;
    }
    if (out->insecure_skip_verify && (out->ca_file || out->ca_pem)) {
        rc = cs_err_set(err, CS_EINVAL,
                        "kubeconfig %s: %s: insecure-skip-tls-verify cannot be combined with "
                        "certificate-authority(-data); remove one of them",
                        cl_file->what, path);
        goto fail;
    }

    if (user_name) {
        const json_t *u_entry = NULL;
        const cs__kc_file_t *u_file = NULL;
        for (size_t i = 0; i < nfiles && !u_entry; i++)
            if ((u_entry = cs__kc_find(files[i].doc, "users", user_name)))
                u_file = &files[i];
        if (!u_entry) {
            cs__kc_names(files, nfiles, "users", hint, sizeof hint);
            rc = cs_err_set(err, CS_ENOTFOUND,
                            "kubeconfig %s: context \"%s\" names user \"%s\", which is not in users[] "
                            "(available: %s)",
                            all, context, user_name, hint);
            goto fail;
        }
        snprintf(path, sizeof path, "users[name=%s].user", user_name);
        const json_t *u = json_object_get(u_entry, "user");
        if (u && !json_is_null(u) && !json_is_object(u)) {
            rc = cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s: expected an object", u_file->what, path);
            goto fail;
        }
        if (json_object_get(u, "exec")) {
            rc = cs_err_set(err, CS_EUNSUPPORTED,
                            "kubeconfig %s: %s.exec: exec credential plugins are not supported; use "
                            "a token, tokenFile or client certificate for this user",
                            u_file->what, path);
            goto fail;
        }
        if (json_object_get(u, "auth-provider")) {
            rc = cs_err_set(err, CS_EUNSUPPORTED,
                            "kubeconfig %s: %s.auth-provider is not supported; use a token, tokenFile "
                            "or client certificate for this user",
                            u_file->what, path);
            goto fail;
        }
        const char *s = NULL;
        CS__KC_TRY(cs__kc_str(u_file, u, path, "token", &s, err));
        if (rc == 0 && !(out->token = cs__kube_strdup(s)))
            goto oom;
        CS__KC_TRY(cs__kc_file_ref(u_file, u, path, "tokenFile", &out->token_file, err));
        CS__KC_TRY(cs__kc_file_ref(u_file, u, path, "client-certificate", &out->client_cert_file, err));
        CS__KC_TRY(cs__kc_file_ref(u_file, u, path, "client-key", &out->client_key_file, err));
        CS__KC_TRY(cs__kc_pem(u_file, u, path, "client-certificate-data", &out->client_cert_pem, err));
        CS__KC_TRY(cs__kc_pem(u_file, u, path, "client-key-data", &out->client_key_pem, err));
        s = NULL;
        CS__KC_TRY(cs__kc_str(u_file, u, path, "username", &s, err));
        if (rc == 0 && !(out->username = cs__kube_strdup(s)))
            goto oom;
        s = NULL;
        CS__KC_TRY(cs__kc_str(u_file, u, path, "password", &s, err));
        if (rc == 0 && !(out->password = cs__kube_strdup(s)))
            goto oom;
        bool has_cert = out->client_cert_file || out->client_cert_pem;
        bool has_key = out->client_key_file || out->client_key_pem;
        if (has_cert != has_key) {
            rc = cs_err_set(err, CS_EINVAL, "kubeconfig %s: %s: %s is set without %s; mutual TLS needs both",
                            u_file->what, path, has_cert ? "client-certificate" : "client-key",
                            has_cert ? "client-key" : "client-certificate");
            goto fail;
        }
        if ((out->client_cert_file && out->client_cert_pem) || (out->client_key_file && out->client_key_pem)) {
            rc = cs_err_set(err, CS_EINVAL,
                            "kubeconfig %s: %s: set either client-certificate/client-key or their "
                            "-data forms, not both",
                            u_file->what, path);
            goto fail;
        }
        if (out->username && !out->password) {
            rc = cs_err_set(err, CS_EINVAL, "kubeconfig %s: %s: username is set without password", u_file->what, path);
            goto fail;
        }
    }
    if (!(out->namespace = cs__kube_strdup(ns ? ns : "default")))
        goto oom;
    char src[1400];
    snprintf(src, sizeof src, "kubeconfig %s, context %s", all, context);
    if (!(out->source = cs__kube_strdup(src)))
        goto oom;
    return 0;
oom:
    rc = cs_err_set(err, CS_ENOMEM, "kubeconfig %s: out of memory", all);
fail:
    cs_kube_config_free(out);
    return rc;
}

static int cs__kc_load_text(const char *text, size_t len, const char *what, const char *dir, cs__kc_file_t *f,
                            cs_err_t *err)
{
    memset(f, 0, sizeof *f);
    json_t *docs = NULL;
    int rc = cs_yaml_parse(text, len, what, &docs, err);
    if (rc != 0)
        return cs_err_prefix(err, "kubeconfig: ");
    json_t *doc = json_array_get(docs, 0);
    if (!doc) {
        json_decref(docs);
        doc = json_object(); /* an empty kubeconfig defines nothing */
        if (!doc)
            return cs_err_set(err, CS_ENOMEM, "out of memory");
    } else if (!json_is_object(doc)) {
        rc = cs_err_set(err, CS_EPARSE, "kubeconfig %s: expected a mapping at the top level, got %s", what,
                        cs_json_type_name(doc));
        json_decref(docs);
        return rc;
    } else {
        json_incref(doc);
        json_decref(docs);
    }
    static const char *const lists[] = {"clusters", "users", "contexts"};
    for (size_t i = 0; i < 3; i++) {
        const json_t *l = json_object_get(doc, lists[i]);
        if (l && !json_is_null(l) && !json_is_array(l)) {
            rc = cs_err_set(err, CS_EPARSE, "kubeconfig %s: %s: expected a list, got %s", what, lists[i],
                            cs_json_type_name(l));
            json_decref(doc);
            return rc;
        }
    }
    f->doc = doc;
    f->what = cs__kube_strdup(what);
    f->dir = cs__kube_strdup(dir ? dir : ".");
    if (!f->what || !f->dir) {
        json_decref(doc);
        free(f->what);
        free(f->dir);
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    }
    return 0;
}

static void cs__kc_file_free(cs__kc_file_t *f)
{
    json_decref(f->doc);
    free(f->what);
    free(f->dir);
}

int cs_kube_config_parse(const char *text, size_t len, const char *what, const char *base_dir, const char *context,
                         cs_kube_config_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!what)
        what = "input";
    if (!text)
        return cs_err_set(err, CS_EINVAL, "kubeconfig %s: no input", what);
    if (len > CS_KUBE_CONFIG_MAX_BYTES)
        return cs_err_set(err, CS_ETOOBIG, "kubeconfig %s: larger than %u bytes", what, CS_KUBE_CONFIG_MAX_BYTES);
    cs__kc_file_t f;
    int rc = cs__kc_load_text(text, len, what, base_dir, &f, err);
    if (rc != 0)
        return rc;
    rc = cs__kc_resolve(&f, 1, context, out, err);
    cs__kc_file_free(&f);
    return rc;
}

#define CS__KC_MAX_FILES 16

int cs_kube_config_from_files(const char *paths, const char *context, cs_kube_config_t *out, cs_err_t *err)
{
    memset(out, 0, sizeof *out);
    if (!paths || !*paths)
        return cs_err_set(err, CS_EINVAL, "kubeconfig: no file given");
    cs__kc_file_t files[CS__KC_MAX_FILES];
    size_t n = 0;
    int rc = 0;
    char *list = cs__kube_strdup(paths);
    if (!list)
        return cs_err_set(err, CS_ENOMEM, "out of memory");
    char *save = NULL;
    for (char *p = strtok_r(list, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (!*p)
            continue;
        if (n == CS__KC_MAX_FILES) {
            rc = cs_err_set(err, CS_ETOOBIG, "kubeconfig: more than %d files in \"%.200s\"", CS__KC_MAX_FILES, paths);
            goto done;
        }
        struct stat st;
        /* kubectl skips missing files of $KUBECONFIG; an explicit single
         * path must exist. */
        if (stat(p, &st) != 0) {
            if (strchr(paths, ':'))
                continue;
            rc = cs_err_set(err, CS_ENOTFOUND, "kubeconfig %s: %s", p, strerror(errno));
            goto done;
        }
        char *text = NULL;
        size_t len = 0;
        rc = cs_file_read_all(p, CS_KUBE_CONFIG_MAX_BYTES, &text, &len, err);
        if (rc != 0) {
            cs_err_prefix(err, "kubeconfig: ");
            goto done;
        }
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", p);
        char *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        rc = cs__kc_load_text(text, len, p, dir, &files[n], err);
        free(text);
        if (rc != 0)
            goto done;
        n++;
    }
    if (n == 0) {
        rc = cs_err_set(err, CS_ENOTFOUND, "kubeconfig: none of the files \"%.300s\" exists", paths);
        goto done;
    }
    rc = cs__kc_resolve(files, n, context, out, err);
done:
    for (size_t i = 0; i < n; i++)
        cs__kc_file_free(&files[i]);
    free(list);
    return rc;
}

int cs_kube_config_load(const cs_kube_config_load_options_t *opts, cs_kube_config_t *out, cs_err_t *err)
{
    static const cs_kube_config_load_options_t none = {0};
    if (!opts)
        opts = &none;
    memset(out, 0, sizeof *out);
    if (opts->kubeconfig && *opts->kubeconfig) {
        if (strchr(opts->kubeconfig, ':'))
            return cs_err_set(err, CS_EINVAL,
                              "--kubeconfig \"%.300s\": give one file (use $KUBECONFIG to merge several)",
                              opts->kubeconfig);
        return cs_kube_config_from_files(opts->kubeconfig, opts->context, out, err);
    }
    const char *env = getenv("KUBECONFIG");
    if (env && *env)
        return cs_kube_config_from_files(env, opts->context, out, err);
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (host && *host && port && *port)
        return cs_kube_config_in_cluster(opts->sa_dir, out, err);
    const char *home = getenv("HOME");
    if (!home || !*home)
        return cs_err_set(err, CS_ENOTFOUND,
                          "no Kubernetes configuration: not in a cluster, $KUBECONFIG and $HOME are "
                          "unset; pass --kubeconfig");
    char path[4096];
    snprintf(path, sizeof path, "%s/.kube/config", home);
    struct stat st;
    if (stat(path, &st) != 0)
        return cs_err_set(err, CS_ENOTFOUND,
                          "no Kubernetes configuration: not in a cluster (KUBERNETES_SERVICE_HOST "
                          "unset), $KUBECONFIG unset and %s does not exist; pass --kubeconfig",
                          path);
    return cs_kube_config_from_files(path, opts->context, out, err);
}
