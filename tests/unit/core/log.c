/* Tests for text and JSON log lines, levels and thread safety. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "couchestor/log.h"

static char buf[1 << 16];

static FILE *capture(void)
{
    memset(buf, 0, sizeof buf);
    return fmemopen(buf, sizeof buf, "w");
}

Test(log, levels_parse_and_filter)
{
    cs_log_level_t l;
    cs_err_t err = {0};
    cr_expect_eq(cs_log_level_parse("DEBUG", &l, &err), 0);
    cr_expect_eq(l, CS_LOG_DEBUG);
    cr_expect_eq(cs_log_level_parse("warning", &l, &err), 0);
    cr_expect_eq(l, CS_LOG_WARN);
    cr_expect_eq(cs_log_level_parse("loud", &l, &err), CS_EINVAL);
    cr_expect_str_eq(err.msg, "unknown log level 'loud': use one of trace, debug, info, warn, error, off");
    FILE *f = capture();
    cs_log_configure(CS_LOG_WARN, false, f);
    CS_INFO("hidden");
    CS_WARN("shown", "volume", "pvc-1");
    fclose(f);
    cs_log_configure(CS_LOG_INFO, false, NULL);
    cr_expect(strstr(buf, "hidden") == NULL);
    cr_expect(strstr(buf, "warn  shown volume=pvc-1\n") != NULL, "%s", buf);
}

Test(log, text_quotes_awkward_values)
{
    FILE *f = capture();
    cs_log_configure(CS_LOG_TRACE, false, f);
    CS_INFO("moved", "reason", "iops above watermark", "empty", "", "none", (const char *)NULL);
    fclose(f);
    cs_log_configure(CS_LOG_INFO, false, NULL);
    cr_expect(strstr(buf, "reason=\"iops above watermark\" empty=\"\" none=null\n") != NULL, "%s", buf);
}

Test(log, json_lines)
{
    FILE *f = capture();
    cs_log_configure(CS_LOG_DEBUG, true, f);
    CS_ERROR("failed \"x\"\n", "volume", "pvc-1", "why", "tab\there");
    cs_logf(CS_LOG_DEBUG, "n=%d", 5);
    fclose(f);
    cs_log_configure(CS_LOG_INFO, false, NULL);
    char *nl = strchr(buf, '\n');
    cr_assert_not_null(nl);
    *nl = '\0';
    json_error_t je;
    json_t *j = json_loads(buf, 0, &je);
    cr_assert_not_null(j, "not JSON: %s (%s)", buf, je.text);
    cr_expect_str_eq(json_string_value(json_object_get(j, "level")), "error");
    cr_expect_str_eq(json_string_value(json_object_get(j, "msg")), "failed \"x\"\n");
    cr_expect_str_eq(json_string_value(json_object_get(j, "volume")), "pvc-1");
    cr_expect_str_eq(json_string_value(json_object_get(j, "why")), "tab\there");
    cr_expect_eq(strlen(json_string_value(json_object_get(j, "ts"))), 24);
    json_decref(j);
    json_t *j2 = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, &je);
    cr_assert_not_null(j2);
    cr_expect_str_eq(json_string_value(json_object_get(j2, "msg")), "n=5");
    json_decref(j2);
}

static void *writer(void *arg)
{
    for (int i = 0; i < 200; i++)
        CS_INFO("line", "writer", (const char *)arg);
    return NULL;
}

Test(log, concurrent_lines_never_interleave)
{
    FILE *f = capture();
    cs_log_configure(CS_LOG_INFO, true, f);
    pthread_t t[4];
    const char *names[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, writer, (void *)names[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    fclose(f);
    cs_log_configure(CS_LOG_INFO, false, NULL);
    int lines = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        cr_assert_not_null(j, "line %d is not JSON: %s", lines, line);
        json_decref(j);
        lines++;
    }
    cr_expect_eq(lines, 800);
}
