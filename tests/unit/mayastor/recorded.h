/* recorded.h: loads replies recorded from the Mayastor REST simulator
 * (tests/unit/mayastor/recorded/) for decoder tests. */
#ifndef CS_TEST_MAYASTOR_RECORDED_H
#define CS_TEST_MAYASTOR_RECORDED_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The file's bytes (NUL-terminated, malloc'd); *len its size. For the .txt
 * error recordings the last line is the HTTP status: it is cut off and
 * returned in *status. */
static inline char *recorded(const char *name, size_t *len, long *status)
{
    const char *src = getenv("CS_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/unit/mayastor/recorded/%s", src ? src : ".", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (is CS_SOURCE_DIR set?)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    if (status) {
        char *nl = strrchr(buf, '\n');
        cr_assert_not_null(nl);
        *status = strtol(nl + 1, NULL, 10);
        *nl = '\0';
        n = nl - buf;
    }
    *len = (size_t)n;
    return buf;
}

#endif
