/* server.c: /metrics, /healthz and /readyz over libmicrohttpd. */
#include "couchestor/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if MHD_VERSION < 0x00097002
typedef int cs__mhd_result;
#else
typedef enum MHD_Result cs__mhd_result;
#endif

struct cs_server_s {
    struct MHD_Daemon *metrics_d, *health_d;
    int metrics_port, health_port;
    cs_server_options_t opts;
};

static cs__mhd_result cs__reply(struct MHD_Connection *c, unsigned code, const char *ctype, char *body, size_t len,
                                enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", ctype);
    cs__mhd_result ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

static cs__mhd_result cs__handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                 const char *version, const char *upload, size_t *upload_size, void **state)
{
    const cs_server_t *s = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return cs__reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n", 19,
                         MHD_RESPMEM_PERSISTENT);
    bool serves_metrics = MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON)->daemon == s->metrics_d;
    bool serves_health =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_DAEMON)->daemon == s->health_d || s->health_d == NULL;
    if (serves_metrics && strcmp(url, "/metrics") == 0 && s->opts.metrics) {
        char *text;
        size_t len;
        if (cs_metrics_render(s->opts.metrics, &text, &len) != 0)
            return cs__reply(c, 500, "text/plain", "out of memory\n", 14, MHD_RESPMEM_PERSISTENT);
        return cs__reply(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, MHD_RESPMEM_MUST_FREE);
    }
    if (serves_health && strcmp(url, "/healthz") == 0)
        return cs__reply(c, 200, "text/plain", "ok\n", 3, MHD_RESPMEM_PERSISTENT);
    if (serves_health && strcmp(url, "/readyz") == 0) {
        char reason[256] = "";
        bool ready = s->opts.ready ? s->opts.ready(s->opts.ready_ctx, reason, sizeof reason) : false;
        char body[300];
        int n = snprintf(body, sizeof body, "%s%s%s\n", ready ? "ok" : "not ready", *reason ? ": " : "", reason);
        return cs__reply(c, ready ? 200 : 503, "text/plain", body, (size_t)n, MHD_RESPMEM_MUST_COPY);
    }
    return cs__reply(c, 404, "text/plain", "not found\n", 10, MHD_RESPMEM_PERSISTENT);
}

/* Parses "host:port" / "[v6]:port" into a sockaddr. */
static int cs__parse_addr(const char *addr, struct sockaddr_storage *ss, socklen_t *sl, cs_err_t *err)
{
    char host[256];
    memset(ss, 0, sizeof *ss);
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return cs_err_set(err, CS_EINVAL, "listen address \"%s\" must be host:port", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    int port = atoi(colon + 1);
    if (port < 0 || port > 65535)
        return cs_err_set(err, CS_EINVAL, "listen address \"%s\": bad port", addr);
    if (host[0] == '[') {
        size_t n = strlen(host);
        if (n < 2 || host[n - 1] != ']')
            return cs_err_set(err, CS_EINVAL, "listen address \"%s\": bad IPv6 host", addr);
        host[n - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
            return cs_err_set(err, CS_EINVAL, "listen address \"%s\": bad IPv6 host", addr);
        *sl = sizeof *a6;
        return 0;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (!*host)
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return cs_err_set(err, CS_EINVAL, "listen address \"%s\": host must be an IP address", addr);
    *sl = sizeof *a4;
    return 0;
}

static struct MHD_Daemon *cs__start(cs_server_t *s, const char *addr, int *port, cs_err_t *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (cs__parse_addr(addr, &ss, &sl, err) != 0)
        return NULL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_Daemon *d = MHD_start_daemon(flags, 0, NULL, NULL, (MHD_AccessHandlerCallback)cs__handle, s,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_TIMEOUT,
                                            (unsigned)10, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    if (!d) {
        cs_err_set(err, CS_EIO, "cannot listen on %s (address in use, or not permitted?)", addr);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return d;
}

int cs_server_start(const cs_server_options_t *opts, cs_server_t **out, cs_err_t *err)
{
    *out = NULL;
    cs_server_t *s = calloc(1, sizeof *s);
    if (!s)
        return cs_err_set(err, CS_ENOMEM, "server: out of memory");
    s->opts = *opts;
    s->metrics_d = cs__start(s, opts->metrics_addr, &s->metrics_port, err);
    if (!s->metrics_d) {
        free(s);
        return err ? err->code : CS_EIO;
    }
    if (strcmp(opts->metrics_addr, opts->health_addr) == 0) {
        s->health_port = s->metrics_port;
    } else {
        s->health_d = cs__start(s, opts->health_addr, &s->health_port, err);
        if (!s->health_d) {
            MHD_stop_daemon(s->metrics_d);
            free(s);
            return err ? err->code : CS_EIO;
        }
    }
    *out = s;
    return 0;
}

int cs_server_metrics_port(const cs_server_t *s)
{
    return s->metrics_port;
}

int cs_server_health_port(const cs_server_t *s)
{
    return s->health_port;
}

void cs_server_stop(cs_server_t *s)
{
    if (!s)
        return;
    if (s->health_d)
        MHD_stop_daemon(s->health_d);
    if (s->metrics_d)
        MHD_stop_daemon(s->metrics_d);
    free(s);
}
