/* clock.h: the process's clocks, in one place: monotonic time for intervals
 * and deadlines, wall time for what is written down (journals, status,
 * file names), thread CPU time for benchmarks and phase metrics.
 *
 * Each call reads the clock once and cannot fail (clock_gettime on these
 * clock ids fails only for an invalid id). Values are in the unit the name
 * says; nanoseconds fit int64_t until the year 2262. */
#ifndef COUCHESTOR_CLOCK_H
#define COUCHESTOR_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Monotonic time (CLOCK_MONOTONIC): never jumps; for intervals and deadlines. */
int64_t cs_clock_mono_ns(void);
/* Monotonic time in seconds, as a double: for durations reported to people. */
double cs_clock_mono_s(void);
/* Wall time (CLOCK_REALTIME) since the Unix epoch. */
int64_t cs_clock_real_ns(void);
int64_t cs_clock_real_ms(void);
int64_t cs_clock_real_s(void);
/* CPU time of the calling thread, in seconds. */
double cs_clock_thread_cpu_s(void);

/* A timespec of `clock` that lies ns_from_now in the future (ns_from_now
 * below 0 counts as 0, above 2^60 as 2^60): the absolute deadline of
 * pthread_cond_timedwait for a condition variable on that clock. */
struct timespec cs_clock_deadline(clockid_t clock, int64_t ns_from_now);

#endif
