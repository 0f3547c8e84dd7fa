/* bench_common.h: clocks and memory readings shared by the benchmarks. */
#ifndef COUCHESTOR_BENCH_COMMON_H
#define COUCHESTOR_BENCH_COMMON_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "couchestor/clock.h"

/* Prints the machine a result belongs to, once, before any result: the
 * CPU model, how many CPUs this process may use, and the instruction-set
 * flags the code paths depend on (ISA-L and LZ4 pick their kernels by
 * them; hashes and copies run faster with them). The kind of CPU changes
 * between runs on shared machines: a number without it cannot be compared. */
static inline void bench_machine_print(void)
{
    static const char *const wanted[] = {"sse4_2", "avx",        "avx2",      "avx512f", "avx512bw", "avx512vl",
                                         "gfni",   "vpclmulqdq", "pclmulqdq", "aes",     "sha_ni",   "bmi2"};
    char model[256] = "unknown", flags[8192] = "", line[8192];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon)
            continue;
        char *v = colon + 1 + (colon[1] == ' ');
        v[strcspn(v, "\n")] = '\0';
        if (strncmp(line, "model name", 10) == 0 && strcmp(model, "unknown") == 0)
            snprintf(model, sizeof model, "%s", v);
        else if (strncmp(line, "flags", 5) == 0 && !flags[0])
            snprintf(flags, sizeof flags, " %s ", v);
    }
    if (f)
        fclose(f);
    printf("machine: %s, %ld CPUs online; flags:", model, sysconf(_SC_NPROCESSORS_ONLN));
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        char pat[32];
        snprintf(pat, sizeof pat, " %s ", wanted[i]);
        printf(" %s%s", strstr(flags, pat) ? "" : "-", wanted[i]);
    }
    printf(" (- = absent)\n");
    fflush(stdout);
}

/* Monotonic wall clock, seconds: the library's clock, so that what a
 * benchmark times and what the library reports agree. */
static inline double now_s(void)
{
    return cs_clock_mono_s();
}

/* User + system CPU of this process, seconds. */
static inline double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

/* A "Field:" of /proc/PID/status in kB (VmRSS, VmHWM, ...) of process pid
 * (0: this one), or -1. */
static inline long pid_status_kb(pid_t pid, const char *field)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    else
        snprintf(path, sizeof path, "/proc/self/status");
    FILE *f = fopen(path, "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* The same of this process. */
static inline long status_kb(const char *field)
{
    return pid_status_kb(0, field);
}

/* Resets the peak-RSS mark so each phase measures its own peak. */
static inline void reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "5", 1) != 1)
            fprintf(stderr, "cannot reset peak RSS\n");
        close(fd);
    }
}

#endif
