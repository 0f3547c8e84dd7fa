/* log.h: leveled, thread-safe logging as text lines for people or JSON lines
 * for machines (LOG_JSON=true), each with a timestamp, level, message and
 * key/value fields.
 *
 * The sink is process-wide (it is the process's stderr, or the FILE given to
 * cs_log_configure): it is the one piece of global state, configured once by
 * main before threads start, and every write is serialised by a mutex. */
#ifndef COUCHESTOR_LOG_H
#define COUCHESTOR_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "couchestor/error.h"

typedef enum cs_log_level {
    CS_LOG_TRACE = 0,
    CS_LOG_DEBUG,
    CS_LOG_INFO,
    CS_LOG_WARN,
    CS_LOG_ERROR,
    CS_LOG_OFF,
} cs_log_level_t;

/* Sets the threshold, the format and the sink (NULL = stderr). The FILE must
 * stay open until the next call or process exit. Defaults: info, text, stderr. */
void cs_log_configure(cs_log_level_t level, bool json, FILE *out);
cs_log_level_t cs_log_get_level(void);
bool cs_log_enabled(cs_log_level_t level);

/* "trace" | "debug" | "info" | "warn" (or "warning") | "error" | "off", any case. */
int cs_log_level_parse(const char *text, cs_log_level_t *out, cs_err_t *err);
const char *cs_log_level_name(cs_log_level_t level);

/* Writes one line: msg followed by key/value string pairs, terminated by
 * NULL: cs_log(CS_LOG_INFO, "migration started", "volume", name, NULL).
 * A NULL value is written as null. Never fails; a line that cannot be
 * written is dropped. */
void cs_log(cs_log_level_t level, const char *msg, ...) __attribute__((sentinel));
/* printf-style message without fields. */
void cs_logf(cs_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define CS_TRACE(...) cs_log(CS_LOG_TRACE, __VA_ARGS__, (const char *)0)
#define CS_DEBUG(...) cs_log(CS_LOG_DEBUG, __VA_ARGS__, (const char *)0)
#define CS_INFO(...) cs_log(CS_LOG_INFO, __VA_ARGS__, (const char *)0)
#define CS_WARN(...) cs_log(CS_LOG_WARN, __VA_ARGS__, (const char *)0)
#define CS_ERROR(...) cs_log(CS_LOG_ERROR, __VA_ARGS__, (const char *)0)

#endif
