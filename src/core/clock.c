/* clock.c: the process's clocks (clock.h). */
#include "couchestor/clock.h"
#include "couchestor/duration.h"

static int64_t cs__read_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * CS_NSEC_PER_SEC + ts.tv_nsec;
}

int64_t cs_clock_mono_ns(void)
{
    return cs__read_ns(CLOCK_MONOTONIC);
}

double cs_clock_mono_s(void)
{
    return (double)cs__read_ns(CLOCK_MONOTONIC) / 1e9;
}

int64_t cs_clock_real_ns(void)
{
    return cs__read_ns(CLOCK_REALTIME);
}

int64_t cs_clock_real_ms(void)
{
    return cs__read_ns(CLOCK_REALTIME) / 1000000;
}

int64_t cs_clock_real_s(void)
{
    return cs__read_ns(CLOCK_REALTIME) / CS_NSEC_PER_SEC;
}

double cs_clock_thread_cpu_s(void)
{
    return (double)cs__read_ns(CLOCK_THREAD_CPUTIME_ID) / 1e9;
}

struct timespec cs_clock_deadline(clockid_t clock, int64_t ns_from_now)
{
    if (ns_from_now < 0)
        ns_from_now = 0;
    if (ns_from_now > INT64_C(1) << 60)
        ns_from_now = INT64_C(1) << 60;
    int64_t at = cs__read_ns(clock) + ns_from_now;
    struct timespec ts = {.tv_sec = (time_t)(at / CS_NSEC_PER_SEC), .tv_nsec = (long)(at % CS_NSEC_PER_SEC)};
    return ts;
}
