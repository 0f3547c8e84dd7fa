/* fake_http.h: a tiny HTTP/1.1 server on 127.0.0.1 for client unit tests.
 * One thread accepts connections and answers each request through a handler
 * the test installs; every request is recorded. Header-only (static
 * functions) so each test program gets its own copy. */
#ifndef CS_TEST_FAKE_HTTP_H
#define CS_TEST_FAKE_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define FAKE_MAX_REQ 64
#define FAKE_BODY_MAX (1 << 20)

typedef struct fake_req_s {
    char method[16];
    char path[2048];
    char *body;
    size_t body_len;
    char auth[256];
} fake_req_t;

typedef struct fake_resp_s {
    int status;
    const char *content_type;
    char *body; /* malloc'd by the handler, freed by the server */
    size_t body_len;
} fake_resp_t;

typedef void (*fake_handler_fn)(void *ctx, const fake_req_t *req, fake_resp_t *resp);

typedef struct fake_http_s {
    int fd;
    int port;
    pthread_t thread;
    atomic_int stop;
    fake_handler_fn fn;
    void *ctx;
    pthread_mutex_t lock;
    fake_req_t reqs[FAKE_MAX_REQ];
    size_t nreq;
    char url[64];
} fake_http_t;

static inline void fake_reply(fake_resp_t *r, int status, const char *body)
{
    r->status = status;
    r->body = strdup(body);
    r->body_len = strlen(body);
}

static int fake__read_request(int c, fake_req_t *req)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return -1;
    char *hdr_end = NULL;
    while (!hdr_end) {
        if (len == cap) {
            free(buf);
            return -1;
        }
        ssize_t n = read(c, buf + len, cap - len);
        if (n <= 0) {
            free(buf);
            return -1;
        }
        len += (size_t)n;
        buf[len] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
    }
    size_t hlen = (size_t)(hdr_end - buf) + 4;
    sscanf(buf, "%15s %2047s", req->method, req->path);
    size_t clen = 0;
    req->auth[0] = '\0';
    for (char *line = strstr(buf, "\r\n") + 2; line < hdr_end; line = strstr(line, "\r\n") + 2) {
        if (strncasecmp(line, "Content-Length:", 15) == 0)
            clen = strtoul(line + 15, NULL, 10);
        if (strncasecmp(line, "Authorization:", 14) == 0) {
            char *e = strstr(line, "\r\n");
            size_t n = (size_t)(e - line - 15);
            if (n >= sizeof req->auth)
                n = sizeof req->auth - 1;
            memcpy(req->auth, line + 15, n);
            req->auth[n] = '\0';
        }
    }
    if (clen > FAKE_BODY_MAX) {
        free(buf);
        return -1;
    }
    req->body = malloc(clen + 1);
    size_t have = len - hlen < clen ? len - hlen : clen;
    memcpy(req->body, buf + hlen, have);
    while (have < clen) {
        ssize_t n = read(c, req->body + have, clen - have);
        if (n <= 0)
            break;
        have += (size_t)n;
    }
    req->body[have] = '\0';
    req->body_len = have;
    free(buf);
    return 0;
}

static void fake__write_all(int c, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(c, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void *fake__thread(void *arg)
{
    fake_http_t *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        fake_req_t req = {0};
        if (fake__read_request(c, &req) == 0) {
            fake_resp_t resp = {.status = 500, .content_type = "application/json"};
            s->fn(s->ctx, &req, &resp);
            /* record before answering, so a client that has its answer
             * always sees its request counted */
            pthread_mutex_lock(&s->lock);
            char *keep = NULL;
            if (s->nreq < FAKE_MAX_REQ)
                s->reqs[s->nreq++] = req;
            else
                keep = req.body;
            pthread_mutex_unlock(&s->lock);
            free(keep);
            char head[512];
            int hn = snprintf(head, sizeof head,
                              "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n\r\n",
                              resp.status, resp.content_type ? resp.content_type : "application/json",
                              resp.body ? resp.body_len : 0);
            fake__write_all(c, head, (size_t)hn);
            if (resp.body)
                fake__write_all(c, resp.body, resp.body_len);
            free(resp.body);
        }
        close(c);
    }
    return NULL;
}

static inline fake_http_t *fake_http_start(fake_handler_fn fn, void *ctx)
{
    fake_http_t *s = calloc(1, sizeof *s);
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0)
        abort();
    socklen_t al = sizeof a;
    getsockname(s->fd, (struct sockaddr *)&a, &al);
    s->port = ntohs(a.sin_port);
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d", s->port);
    pthread_create(&s->thread, NULL, fake__thread, s);
    return s;
}

static inline size_t fake_http_count(fake_http_t *s)
{
    pthread_mutex_lock(&s->lock);
    size_t n = s->nreq;
    pthread_mutex_unlock(&s->lock);
    return n;
}

static inline void fake_http_stop(fake_http_t *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->nreq; i++)
        free(s->reqs[i].body);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* A closed port on loopback: nothing listens there. */
static inline int fake_closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t al = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &al);
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Decodes application/x-www-form-urlencoded value of key (malloc'd). */
static inline char *fake_form_value(const char *body, const char *key)
{
    size_t kl = strlen(key);
    const char *p = body;
    while (p && *p) {
        if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
            p += kl + 1;
            char *out = malloc(strlen(p) + 1), *o = out;
            while (*p && *p != '&') {
                if (*p == '%' && p[1] && p[2]) {
                    char hex[3] = {p[1], p[2], 0};
                    *o++ = (char)strtol(hex, NULL, 16);
                    p += 3;
                } else {
                    *o++ = *p == '+' ? ' ' : *p;
                    p++;
                }
            }
            *o = '\0';
            return out;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return NULL;
}

#endif
