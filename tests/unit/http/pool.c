/* Tests for the HTTP connection pool against a loopback Python server: the
 * server reports the TCP port each request came from, so a test sees which
 * connection carried it. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "couchestor/http.h"
#include "http/loopback.h"

#if defined(__SANITIZE_ADDRESS__)
#define LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LSAN 1
#endif
#endif
#ifdef LSAN
#include <sanitizer/lsan_interface.h>
#endif

/* Whether LeakSanitizer finds memory nothing points to (never without
 * ASan). Criterion ignores the leak report at a worker's exit, so a test
 * that must show something was freed asks here. */
static int leaked(void)
{
#ifdef LSAN
    return __lsan_do_recoverable_leak_check();
#else
    return 0;
#endif
}

TestSuite(pool, .init = start_server, .fini = stop_server);

static cs_http_pool_t *pool_new(size_t max_idle)
{
    cs_http_options_t o = {.base_url = base_url, .timeout_ms = 5000, .bearer_token = "pooltok"};
    cs_http_pool_t *pool;
    cs_err_t err = {0};
    cr_assert_eq(cs_http_pool_new(&o, max_idle, &pool, &err), 0, "%s", err.msg);
    return pool;
}

/* GET /echo on c: returns the client port of the TCP connection that
 * carried it, or -1 when the request failed or was not a 200 answered
 * with our token. Safe from any thread (no Criterion assertion). */
static long echo_port(cs_http_client_t *c)
{
    cs_http_request_t req = {.method = "GET", .path = "/echo"};
    cs_http_response_t r;
    long port = -1;
    if (cs_http_do(c, &req, &r, NULL) == 0 && r.status == 200) {
        json_t *j = json_loads(r.body, 0, NULL);
        const char *auth = json_string_value(json_object_get(j, "authorization"));
        if (auth && strcmp(auth, "Bearer pooltok") == 0)
            port = (long)json_integer_value(json_object_get(j, "peer_port"));
        json_decref(j);
    }
    cs_http_response_free(&r);
    return port;
}

static cs_http_pool_stats_t stats(cs_http_pool_t *pool)
{
    cs_http_pool_stats_t s;
    cs_http_pool_stats(pool, &s);
    return s;
}

Test(pool, an_idle_connection_is_reused)
{
    cs_http_pool_t *pool = pool_new(2);
    cs_err_t err = {0};
    cs_http_client_t *a = NULL, *b = NULL;
    cr_assert_eq(cs_http_pool_take(pool, &a, &err), 0, "%s", err.msg);
    long pa = echo_port(a);
    cr_assert_gt(pa, 0, "a pooled connection carries the pool's options (token)");
    cs_http_pool_give(pool, a);
    cr_expect_eq(stats(pool).idle, 1);
    cr_expect_eq(stats(pool).out, 0);

    cr_assert_eq(cs_http_pool_take(pool, &b, &err), 0, "%s", err.msg);
    cr_expect_eq(b, a, "the idle connection is lent again");
    cr_expect_eq(echo_port(b), pa, "and its TCP connection carries the next request");
    cr_expect_eq(stats(pool).idle, 0);
    cr_expect_eq(stats(pool).out, 1);

    /* two connections out at once are two connections */
    cs_http_client_t *c = NULL;
    cr_assert_eq(cs_http_pool_take(pool, &c, &err), 0, "%s", err.msg);
    cr_expect_neq(c, b);
    long pc = echo_port(c);
    cr_expect_gt(pc, 0);
    cr_expect_neq(pc, pa);
    cr_expect_eq(stats(pool).out, 2);
    cs_http_pool_give(pool, c);
    cs_http_pool_give(pool, b);
    cs_http_pool_give(pool, NULL);
    cr_expect_eq(stats(pool).idle, 2);
    cr_expect_eq(stats(pool).out, 0);

    cs_http_client_t *top = NULL;
    cr_assert_eq(cs_http_pool_take(pool, &top, &err), 0);
    cr_expect_eq(top, b, "the connection given back last is lent first");
    cs_http_pool_give(pool, top);
    cs_http_pool_free(pool);
}

Test(pool, keeps_at_most_max_idle)
{
    cs_http_pool_t *pool = pool_new(2);
    cs_err_t err = {0};
    cs_http_client_t *c[3];
    long port[3];
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(cs_http_pool_take(pool, &c[i], &err), 0, "%s", err.msg);
        port[i] = echo_port(c[i]);
        cr_assert_gt(port[i], 0);
    }
    cr_expect_neq(port[0], port[1]);
    cr_expect_neq(port[1], port[2]);
    cr_expect_neq(port[0], port[2]);
    cr_expect_eq(stats(pool).out, 3);
    cr_expect_eq(stats(pool).idle, 0);
    for (int i = 0; i < 3; i++)
        cs_http_pool_give(pool, c[i]);
    cr_expect_eq(stats(pool).idle, 2, "the third connection given back is freed");
    cr_expect_eq(stats(pool).out, 0);

    cs_http_client_t *d[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(cs_http_pool_take(pool, &d[i], &err), 0, "%s", err.msg);
    cr_expect_eq(d[0], c[1]);
    cr_expect_eq(d[1], c[0]);
    cr_expect_eq(echo_port(d[0]), port[1]);
    cr_expect_eq(echo_port(d[1]), port[0]);
    long fresh = echo_port(d[2]);
    cr_expect_gt(fresh, 0);
    cr_expect(fresh != port[0] && fresh != port[1], "none idle: a new connection (port %ld)", fresh);
    for (int i = 0; i < 3; i++)
        cs_http_pool_give(pool, d[i]);
    cs_http_pool_free(pool);
}

Test(pool, max_idle_default_and_limit)
{
    cs_http_pool_t *pool = pool_new(0);
    cs_err_t err = {0};
    cs_http_client_t *c[CS_HTTP_POOL_DEFAULT_IDLE + 2];
    for (size_t i = 0; i < CS_HTTP_POOL_DEFAULT_IDLE + 2; i++)
        cr_assert_eq(cs_http_pool_take(pool, &c[i], &err), 0, "%s", err.msg);
    for (size_t i = 0; i < CS_HTTP_POOL_DEFAULT_IDLE + 2; i++)
        cs_http_pool_give(pool, c[i]);
    cr_expect_eq(stats(pool).idle, 4, "max_idle 0 keeps CS_HTTP_POOL_DEFAULT_IDLE");
    cs_http_pool_free(pool);

    cs_http_options_t o = {.base_url = base_url};
    pool = (cs_http_pool_t *)1;
    cr_expect_eq(cs_http_pool_new(&o, CS_HTTP_POOL_MAX_IDLE + 1, &pool, &err), CS_EINVAL);
    cr_expect_null(pool);
    cr_expect_str_eq(err.msg, "HTTP connection pool: 65 idle connections is above the limit of 64");
    cr_assert_eq(cs_http_pool_new(&o, CS_HTTP_POOL_MAX_IDLE, &pool, &err), 0, "%s", err.msg);
    cs_http_pool_free(pool);

    cs_err_t err2 = {0};
    cs_http_options_t bad = {.base_url = "ftp://x"};
    cr_expect_eq(cs_http_pool_new(&bad, 0, &pool, &err2), CS_EINVAL, "the prototype client's error");
    cr_expect_null(pool);
    cr_expect(strstr(err2.msg, "must start with http:// or https://") != NULL, "%s", err2.msg);
    cs_http_pool_free(NULL);
}

/* ---- several threads ---- */

#define THREADS 8
#define ROUNDS 300
#define REQUEST_EVERY 15 /* 20 requests a thread: the rest is take/give only */

typedef struct {
    cs_http_pool_t *pool;
    pthread_mutex_t lock;
    cs_http_client_t *in_use[THREADS];
    atomic_int double_lends, failures, requests;
    pthread_barrier_t start;
} shared_t;

static void *hammer(void *arg)
{
    shared_t *s = arg;
    pthread_barrier_wait(&s->start);
    for (int i = 0; i < ROUNDS; i++) {
        cs_http_client_t *c = NULL;
        if (cs_http_pool_take(s->pool, &c, NULL) != 0) {
            atomic_fetch_add(&s->failures, 1);
            continue;
        }
        /* A connection lent to two threads at once would show up here. */
        pthread_mutex_lock(&s->lock);
        int slot = -1;
        for (int k = 0; k < THREADS; k++) {
            if (s->in_use[k] == c)
                atomic_fetch_add(&s->double_lends, 1);
            if (!s->in_use[k] && slot < 0)
                slot = k;
        }
        if (slot >= 0)
            s->in_use[slot] = c;
        pthread_mutex_unlock(&s->lock);
        if (i % REQUEST_EVERY == 0) {
            atomic_fetch_add(&s->requests, 1);
            if (echo_port(c) <= 0)
                atomic_fetch_add(&s->failures, 1);
        }
        pthread_mutex_lock(&s->lock);
        if (slot >= 0)
            s->in_use[slot] = NULL;
        pthread_mutex_unlock(&s->lock);
        cs_http_pool_give(s->pool, c);
    }
    return NULL;
}

Test(pool, concurrent_take_and_give)
{
    shared_t s = {.pool = pool_new(4)};
    pthread_mutex_init(&s.lock, NULL);
    pthread_barrier_init(&s.start, NULL, THREADS);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, hammer, &s), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    cr_expect_eq(atomic_load(&s.failures), 0);
    cr_expect_eq(atomic_load(&s.double_lends), 0, "no connection is lent twice at once");
    cr_expect_eq(atomic_load(&s.requests), THREADS * (ROUNDS / REQUEST_EVERY));
    cs_http_pool_stats_t st = stats(s.pool);
    cr_expect_eq(st.out, 0, "every take was matched by its give");
    cr_expect_geq(st.idle, 1);
    cr_expect_leq(st.idle, 4);
    pthread_barrier_destroy(&s.start);
    pthread_mutex_destroy(&s.lock);
    cs_http_pool_free(s.pool);
}

/* ---- free while connections are out ---- */

typedef struct {
    cs_http_pool_t *pool;
    cs_http_client_t *c;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int freed;
    long port;
} late_t;

/* Holds a connection across the pool's free, as a request still running
 * on another thread does, then uses it and gives it back. */
static void *late_giver(void *arg)
{
    late_t *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->freed)
        pthread_cond_wait(&l->cond, &l->lock);
    pthread_mutex_unlock(&l->lock);
    l->port = echo_port(l->c);
    cs_http_pool_give(l->pool, l->c);
    return NULL;
}

/* Takes three connections, gives one back, frees the pool, then uses the
 * other two (one on another thread) and gives them back. In a function of its own so that no pointer to
 * what should now be freed is left on the stack LeakSanitizer scans. */
static __attribute__((noinline)) void free_while_out(long *mine_port, long *late_port, cs_http_pool_stats_t *before)
{
    cs_http_pool_t *pool = pool_new(4);
    cs_err_t err = {0};
    cs_http_client_t *idle = NULL, *mine = NULL;
    late_t l = {.pool = pool, .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
    cr_assert_eq(cs_http_pool_take(pool, &idle, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_http_pool_take(pool, &mine, &err), 0, "%s", err.msg);
    cr_assert_eq(cs_http_pool_take(pool, &l.c, &err), 0, "%s", err.msg);
    cs_http_pool_give(pool, idle);
    *before = stats(pool);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, late_giver, &l), 0);

    cs_http_pool_free(pool);
    pthread_mutex_lock(&l.lock);
    l.freed = 1;
    pthread_cond_signal(&l.cond);
    pthread_mutex_unlock(&l.lock);
    *mine_port = echo_port(mine);
    cs_http_pool_give(pool, mine);
    pthread_join(t, NULL);
    *late_port = l.port;
}

Test(pool, free_with_connections_out)
{
    long mine_port = 0, late_port = 0;
    cs_http_pool_stats_t before;
    free_while_out(&mine_port, &late_port, &before);
    cr_expect_eq(before.idle, 1);
    cr_expect_eq(before.out, 2);
    cr_expect_gt(mine_port, 0, "a connection out is still usable after free");
    cr_expect_gt(late_port, 0, "on another thread too");
    /* The idle connection went with the free, the others and the rest of
     * the pool with the last give (a use after free would have stopped
     * ASan before this). */
    cr_expect_eq(leaked(), 0);
}
