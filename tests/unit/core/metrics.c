/* Tests for the metrics registry and its text exposition. */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "couchestor/metrics.h"

static char *render(cs_metrics_t *reg)
{
    char *text;
    size_t len;
    cr_assert_eq(cs_metrics_render(reg, &text, &len), 0);
    cr_assert_eq(strlen(text), len);
    return text;
}

Test(metrics, counters_gauges_and_escaping)
{
    cs_metrics_t *reg = cs_metrics_new();
    const char *status[] = {"status"};
    cs_metric_t *mig =
        cs_metrics_counter(reg, "couchestor_migrations_total", "Migrations by outcome.", 1, status, NULL);
    cr_assert_not_null(mig);
    const char *ok[] = {"success"}, *failed[] = {"failed"};
    cs_metric_touch(mig, failed);
    cs_metric_inc(mig, ok, 1);
    cs_metric_inc(mig, ok, 2);
    cs_metric_inc(mig, ok, -5); /* counters never go down */
    cr_expect_float_eq(cs_metric_value(mig, ok), 3, 1e-9);
    const char *pl[] = {"policy", "tier"};
    cs_metric_t *vols =
        cs_metrics_gauge(reg, "couchestor_volumes", "Volumes per tier.\nSecond line \\ ok", 2, pl, NULL);
    const char *v1[] = {"we\"ird\\po\nlicy", "hot"};
    cs_metric_set(vols, v1, 12);
    cs_metric_set(vols, v1, 7);
    const char *nan_l[] = {"p", "cold"};
    cs_metric_set(vols, nan_l, NAN);
    char *text = render(reg);
    cr_expect(strstr(text, "# HELP couchestor_migrations_total Migrations by outcome.\n"
                           "# TYPE couchestor_migrations_total counter\n"
                           "couchestor_migrations_total{status=\"failed\"} 0\n"
                           "couchestor_migrations_total{status=\"success\"} 3\n") != NULL,
              "%s", text);
    cr_expect(strstr(text, "# HELP couchestor_volumes Volumes per tier.\\nSecond line \\\\ ok\n") != NULL, "%s", text);
    cr_expect(strstr(text, "couchestor_volumes{policy=\"we\\\"ird\\\\po\\nlicy\",tier=\"hot\"} 7\n") != NULL, "%s",
              text);
    cr_expect(strstr(text, "couchestor_volumes{policy=\"p\",tier=\"cold\"} NaN\n") != NULL, "%s", text);
    cr_expect(text[strlen(text) - 1] == '\n');
    free(text);
    cs_metric_remove_matching(vols, "p");
    text = render(reg);
    cr_expect(strstr(text, "tier=\"cold\"") == NULL);
    free(text);
    cs_metrics_free(reg);
    cs_metrics_free(NULL);
}

Test(metrics, histogram)
{
    cs_metrics_t *reg = cs_metrics_new();
    double b[] = {1, 10, 60};
    cs_metric_t *h =
        cs_metrics_histogram(reg, "couchestor_migration_duration_seconds", "Wall time.", 0, NULL, 3, b, NULL);
    cr_assert_not_null(h);
    cs_metric_observe(h, NULL, 0.5);
    cs_metric_observe(h, NULL, 5);
    cs_metric_observe(h, NULL, 100);
    char *text = render(reg);
    cr_expect(strstr(text, "# TYPE couchestor_migration_duration_seconds histogram\n"
                           "couchestor_migration_duration_seconds_bucket{le=\"1\"} 1\n"
                           "couchestor_migration_duration_seconds_bucket{le=\"10\"} 2\n"
                           "couchestor_migration_duration_seconds_bucket{le=\"60\"} 2\n"
                           "couchestor_migration_duration_seconds_bucket{le=\"+Inf\"} 3\n"
                           "couchestor_migration_duration_seconds_sum 105.5\n"
                           "couchestor_migration_duration_seconds_count 3\n") != NULL,
              "%s", text);
    free(text);
    cs_metrics_free(reg);
}

Test(metrics, registration_errors)
{
    cs_metrics_t *reg = cs_metrics_new();
    cs_err_t err = {0};
    cr_expect_null(cs_metrics_counter(reg, "1bad", "", 0, NULL, &err));
    cr_expect(strstr(err.msg, "not valid") != NULL);
    const char *le[] = {"le"};
    cr_expect_null(cs_metrics_counter(reg, "x_total", "", 1, le, &err));
    const char *under[] = {"__x"};
    cr_expect_null(cs_metrics_counter(reg, "x_total", "", 1, under, &err));
    cr_expect_not_null(cs_metrics_counter(reg, "x_total", "", 0, NULL, &err));
    cr_expect_null(cs_metrics_gauge(reg, "x_total", "", 0, NULL, &err));
    cr_expect_eq(err.code, CS_EEXISTS);
    double bad[] = {2, 1};
    cr_expect_null(cs_metrics_histogram(reg, "h", "", 0, NULL, 2, bad, &err));
    cs_metrics_free(reg);
}

Test(metrics, cardinality_is_bounded)
{
    cs_metrics_t *reg = cs_metrics_new();
    const char *l[] = {"id"};
    cs_metric_t *m = cs_metrics_counter(reg, "c_total", "", 1, l, NULL);
    char id[32];
    const char *v[] = {id};
    for (int i = 0; i < CS_METRICS_MAX_SERIES + 10; i++) {
        snprintf(id, sizeof id, "%d", i);
        cs_metric_inc(m, v, 1);
    }
    char *text = render(reg);
    cr_expect(strstr(text, "couchestor_metrics_dropped_series_total 10\n") != NULL);
    free(text);
    cs_metrics_free(reg);
}

static cs_metric_t *shared;
static void *bump(void *arg)
{
    const char *v[] = {"x"};
    for (int i = 0; i < 10000; i++)
        cs_metric_inc(shared, v, 1);
    return NULL;
}

Test(metrics, concurrent_updates)
{
    cs_metrics_t *reg = cs_metrics_new();
    const char *l[] = {"k"};
    shared = cs_metrics_counter(reg, "c_total", "", 1, l, NULL);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, bump, NULL);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    const char *v[] = {"x"};
    cr_expect_float_eq(cs_metric_value(shared, v), 40000, 1e-9);
    cs_metrics_free(reg);
}
