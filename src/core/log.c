/* log.c: the process-wide log sink: text or JSON lines under one mutex. */
#include "couchestor/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "couchestor/clock.h"
#include "couchestor/rfc3339.h"

static pthread_mutex_t cs__log_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int cs__log_level = CS_LOG_INFO;
static bool cs__log_json;
static FILE *cs__log_out;

static const char *const cs__level_names[] = {"trace", "debug", "info", "warn", "error", "off"};

void cs_log_configure(cs_log_level_t level, bool json, FILE *out)
{
    pthread_mutex_lock(&cs__log_lock);
    atomic_store(&cs__log_level, (int)level);
    cs__log_json = json;
    cs__log_out = out;
    pthread_mutex_unlock(&cs__log_lock);
}

cs_log_level_t cs_log_get_level(void)
{
    return (cs_log_level_t)atomic_load(&cs__log_level);
}

bool cs_log_enabled(cs_log_level_t level)
{
    return level != CS_LOG_OFF && (int)level >= atomic_load(&cs__log_level);
}

const char *cs_log_level_name(cs_log_level_t level)
{
    if ((int)level < 0 || level > CS_LOG_OFF)
        return "unknown";
    return cs__level_names[level];
}

int cs_log_level_parse(const char *text, cs_log_level_t *out, cs_err_t *err)
{
    if (text) {
        for (int i = 0; i <= CS_LOG_OFF; i++) {
            if (strcasecmp(text, cs__level_names[i]) == 0) {
                *out = (cs_log_level_t)i;
                return 0;
            }
        }
        if (strcasecmp(text, "warning") == 0) {
            *out = CS_LOG_WARN;
            return 0;
        }
    }
    return cs_err_set(err, CS_EINVAL, "unknown log level '%s': use one of trace, debug, info, warn, error, off",
                      text ? text : "(null)");
}

/* RFC 3339 in UTC with milliseconds: "2024-05-01T10:00:00.123Z". */
static void cs__timestamp(char *buf, size_t len)
{
    int64_t ms = cs_clock_real_ms();
    size_t n = strlen(cs_rfc3339_format(ms / 1000, buf, len));
    if (n > 0) /* the seconds' "Z" becomes ".mmmZ" */
        snprintf(buf + n - 1, len - (n - 1), ".%03dZ", (int)(ms % 1000));
}

static void cs__json_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Text values are quoted when they hold spaces, quotes or '=' so a line
 * stays splittable. */
static void cs__text_value(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    if (*s && strpbrk(s, " \t\n\"=") == NULL) {
        fputs(s, f);
        return;
    }
    cs__json_string(f, s);
}

static void cs__vlog(cs_log_level_t level, const char *msg, va_list ap)
{
    char ts[40];
    cs__timestamp(ts, sizeof ts);
    pthread_mutex_lock(&cs__log_lock);
    FILE *f = cs__log_out ? cs__log_out : stderr;
    if (cs__log_json) {
        fprintf(f, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, cs_log_level_name(level));
        cs__json_string(f, msg);
        const char *key;
        while ((key = va_arg(ap, const char *)) != NULL) {
            const char *value = va_arg(ap, const char *);
            fputc(',', f);
            cs__json_string(f, key);
            fputc(':', f);
            cs__json_string(f, value);
        }
        fputs("}\n", f);
    } else {
        fprintf(f, "%s %-5s %s", ts, cs_log_level_name(level), msg ? msg : "");
        const char *key;
        while ((key = va_arg(ap, const char *)) != NULL) {
            const char *value = va_arg(ap, const char *);
            fprintf(f, " %s=", key);
            cs__text_value(f, value);
        }
        fputc('\n', f);
    }
    fflush(f);
    pthread_mutex_unlock(&cs__log_lock);
}

void cs_log(cs_log_level_t level, const char *msg, ...)
{
    if (!cs_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, msg);
    cs__vlog(level, msg, ap);
    va_end(ap);
}

static void cs__log_nofields(cs_log_level_t level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    cs__vlog(level, msg, ap);
    va_end(ap);
}

void cs_logf(cs_log_level_t level, const char *fmt, ...)
{
    if (!cs_log_enabled(level))
        return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cs__log_nofields(level, buf, (const char *)NULL);
}
