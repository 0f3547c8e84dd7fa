/* promql.c: option defaults and validation, metric-set parsing, and the
 * PromQL of the IOPS queries (names checked, label values quoted). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prom/internal.h"

void cs_prom_options_default(cs_prom_options_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->url = CS_PROM_DEFAULT_URL;
    opts->timeout_ms = CS_PROM_DEFAULT_TIMEOUT_MS;
    opts->connect_timeout_ms = 3000;
    opts->metrics = CS_PROM_DEFAULT_METRICS;
    opts->fallbacks = NULL;
    opts->label = CS_PROM_DEFAULT_LABEL;
    opts->selector = NULL;
    opts->window_ns = CS_PROM_DEFAULT_WINDOW_NS;
    opts->min_coverage = CS_PROM_DEFAULT_MIN_COVERAGE;
    opts->volume_key = CS_PROM_KEY_PV_NAME;
    opts->cache_ttl_ns = CS_PROM_DEFAULT_CACHE_TTL_NS;
    opts->cache_max_entries = CS_PROM_DEFAULT_CACHE_MAX;
    opts->max_series = CS_PROM_DEFAULT_MAX_SERIES;
}

const char *cs_prom_volume_key_name(cs_prom_volume_key_t k)
{
    return k == CS_PROM_KEY_VOLUME_HANDLE ? "volume-handle" : "pv-name";
}

int cs_prom_volume_key_parse(const char *text, cs_prom_volume_key_t *out, cs_err_t *err)
{
    if (text && strcmp(text, "pv-name") == 0) {
        *out = CS_PROM_KEY_PV_NAME;
        return 0;
    }
    if (text && strcmp(text, "volume-handle") == 0) {
        *out = CS_PROM_KEY_VOLUME_HANDLE;
        return 0;
    }
    return cs_err_set(err, CS_EINVAL,
                      "prometheus volume key: \"%.60s\" is neither pv-name (the label carries the PV name, "
                      "\"pvc-<uuid>\") nor volume-handle (it carries the CSI volume handle, for Mayastor the uuid)",
                      text ? text : "");
}

int cs__prom_metric_name_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

int cs__prom_label_name_ok(const char *s, size_t len)
{
    if (len == 0 || (len >= 2 && s[0] == '_' && s[1] == '_'))
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

void cs__prom_set_free(cs__prom_set_t *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        free(set->names[i]);
    set->count = 0;
}

static int cs__is_space(char c)
{
    return c == ' ' || c == '\t';
}

int cs__prom_set_parse(const char *text, size_t len, const char *what, cs__prom_set_t *set, cs_err_t *err)
{
    set->count = 0;
    size_t i = 0;
    for (;;) {
        size_t start = i;
        while (i < len && text[i] != '+')
            i++;
        size_t a = start, b = i;
        while (a < b && cs__is_space(text[a]))
            a++;
        while (b > a && cs__is_space(text[b - 1]))
            b--;
        if (!cs__prom_metric_name_ok(text + a, b - a)) {
            cs__prom_set_free(set);
            return cs_err_set(err, CS_EINVAL,
                              "%s: \"%.*s\" is not a valid metric name (expected counters like "
                              "volume_num_read_ops+volume_num_write_ops)",
                              what, (int)(b - a < 100 ? b - a : 100), text + a);
        }
        if (set->count == CS_PROM_MAX_SET_METRICS) {
            cs__prom_set_free(set);
            return cs_err_set(err, CS_EINVAL, "%s: more than %d metrics in one set", what, CS_PROM_MAX_SET_METRICS);
        }
        set->names[set->count] = strndup(text + a, b - a);
        if (!set->names[set->count]) {
            cs__prom_set_free(set);
            return cs_err_set(err, CS_ENOMEM, "%s: out of memory", what);
        }
        set->count++;
        if (i >= len)
            return 0;
        i++; /* skip '+' */
    }
}

int cs__prom_sets_parse(const char *text, const char *what, cs__prom_set_t *sets, size_t max, size_t *count,
                        cs_err_t *err)
{
    *count = 0;
    if (!text)
        return 0;
    size_t len = strlen(text), i = 0;
    size_t a = 0;
    while (a < len && cs__is_space(text[a]))
        a++;
    if (a == len)
        return 0;
    for (;;) {
        size_t start = i;
        while (i < len && text[i] != ',')
            i++;
        if (*count == max) {
            for (size_t k = 0; k < *count; k++)
                cs__prom_set_free(&sets[k]);
            *count = 0;
            return cs_err_set(err, CS_EINVAL, "%s: more than %zu metric sets", what, max);
        }
        int rc = cs__prom_set_parse(text + start, i - start, what, &sets[*count], err);
        if (rc) {
            for (size_t k = 0; k < *count; k++)
                cs__prom_set_free(&sets[k]);
            *count = 0;
            return rc;
        }
        (*count)++;
        if (i >= len)
            return 0;
        i++;
    }
}

/* Extra matchers are pasted inside {...}: refuse anything that could close
 * the braces or open another expression outside a quoted value. */
int cs__prom_selector_check(const char *sel, cs_err_t *err)
{
    if (!sel)
        return 0;
    char quote = 0; /* the open quote character, or 0 */
    int esc = 0;
    for (const char *p = sel; *p; p++) {
        char c = *p;
        if ((unsigned char)c < 0x20)
            return cs_err_set(err, CS_EINVAL, "prometheus selector: control character at offset %zu",
                              (size_t)(p - sel));
        if (quote) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == quote)
                quote = 0;
            continue;
        }
        if (c == '"' || c == '\'' || c == '`') {
            quote = c;
            continue;
        }
        if (strchr("{}[]()#", c))
            return cs_err_set(err, CS_EINVAL,
                              "prometheus selector: '%c' is not allowed outside quotes (give label "
                              "matchers only, like job=\"mayastor\",namespace=\"mayastor\")",
                              c);
    }
    if (quote)
        return cs_err_set(err, CS_EINVAL, "prometheus selector: unterminated quoted value in \"%.100s\"", sel);
    return 0;
}

int cs_prom_quote(const char *s, char *buf, size_t len, size_t *pos)
{
    size_t p = *pos;
#define PUT(ch)                \
    do {                       \
        if (p + 1 >= len)      \
            return CS_ETOOBIG; \
        buf[p++] = (ch);       \
    } while (0)
    PUT('"');
    for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
        unsigned char c = *q;
        if (c == '\\' || c == '"') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else if (c < 0x20 || c == 0x7f) {
            static const char hex[] = "0123456789abcdef";
            PUT('\\');
            PUT('x');
            PUT(hex[c >> 4]);
            PUT(hex[c & 15]);
        } else {
            PUT((char)c);
        }
    }
    PUT('"');
#undef PUT
    buf[p] = '\0';
    *pos = p;
    return 0;
}

static int cs__append(char *buf, size_t len, size_t *pos, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int cs__append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    if (*pos >= len)
        return CS_ETOOBIG;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *pos)
        return CS_ETOOBIG;
    *pos += (size_t)n;
    return 0;
}

/* Prometheus durations: whole seconds as "300s", otherwise milliseconds. */
static void cs__window(int64_t ns, char *out, size_t len)
{
    int64_t ms = ns / 1000000;
    if (ms < 1)
        ms = 1;
    if (ms % 1000 == 0)
        snprintf(out, len, "%" PRId64 "s", ms / 1000);
    else
        snprintf(out, len, "%" PRId64 "ms", ms);
}

/* The matcher block "{selector,L="volume"}" (or "") every selector of a
 * query shares. */
static int cs__matchers(const char *label, const char *selector, const char *volume, char *buf, size_t len)
{
    size_t pos = 0;
    int rc = 0;
    int has_sel = selector && strspn(selector, " \t") != strlen(selector);
    buf[0] = '\0';
    if (!has_sel && !volume)
        return 0;
    rc = cs__append(buf, len, &pos, "{%s", has_sel ? selector : "");
    if (!rc && volume) {
        rc = cs__append(buf, len, &pos, "%s%s=", has_sel ? "," : "", label);
        if (!rc)
            rc = cs_prom_quote(volume, buf, len, &pos);
    }
    if (!rc)
        rc = cs__append(buf, len, &pos, "}");
    return rc;
}

int cs__prom_build_iops(const cs__prom_set_t *set, const char *label, const char *selector, const char *volume,
                        int64_t window_ns, char *buf, size_t len, cs_err_t *err)
{
    char win[32];
    cs__window(window_ns, win, sizeof win);
    char matchers[CS_PROM_MAX_QUERY];
    int rc = cs__matchers(label, selector, volume, matchers, sizeof matchers);
    /* Plain rate(), each counter summed per volume before the counters are
     * added, so `+` matches series of one label. rate() under-reads a series
     * younger than the window (it divides by the whole window): such a
     * volume is not classified on this value but reported YOUNG, from the
     * coverage query (cs__prom_build_coverage). Summing per volume adds up
     * the nodes of a target that moved inside the window: each node's
     * series counts the IO it served, once. */
    size_t pos = 0;
    for (size_t i = 0; !rc && i < set->count; i++)
        rc = cs__append(buf, len, &pos, "%ssum by (%s) (rate(%s%s[%s]))", i ? " + " : "", label, set->names[i],
                        matchers, win);
    if (rc)
        return cs_err_set(err, CS_ETOOBIG, "PromQL for metrics %s...: longer than %zu bytes",
                          set->count ? set->names[0] : "?", len);
    return 0;
}

/* "{selector,L=~"v1|v2"}": the label matches one of volumes, each escaped
 * for the regular expression (RE2: a backslash before anything but a
 * letter or digit is literal) and then quoted for PromQL. */
static int cs__matchers_of(const char *label, const char *selector, const char *const *volumes, size_t n, char *buf,
                           size_t len)
{
    char re[CS_PROM_MAX_QUERY];
    size_t rpos = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && rpos + 1 < sizeof re)
            re[rpos++] = '|';
        for (const char *c = volumes[i]; *c; c++) {
            if (rpos + 3 >= sizeof re)
                return CS_ETOOBIG;
            if (strchr("\\.+*?()[]{}|^$", *c))
                re[rpos++] = '\\';
            re[rpos++] = *c;
        }
    }
    re[rpos] = '\0';
    size_t pos = 0;
    int has_sel = selector && strspn(selector, " \t") != strlen(selector);
    int rc = cs__append(buf, len, &pos, "{%s%s%s=~", has_sel ? selector : "", has_sel ? "," : "", label);
    if (!rc)
        rc = cs_prom_quote(re, buf, len, &pos);
    if (!rc)
        rc = cs__append(buf, len, &pos, "}");
    return rc;
}

/* A series covers the share c of window w when it already had a sample at
 * now-c*w: an instant selector with that offset (it looks back up to
 * Prometheus' lookback delta, 5m, and honours staleness, so a series older
 * than the window counts, one that appeared later does not). One sample per
 * series, far less than the rate() query reads; and unlike a range over
 * (now-w, now-c*w], never empty for an old series when (1-c)*w is shorter
 * than the scrape interval. One counter of the set stands for the set (an
 * exporter publishes them together). */
static int cs__coverage(const cs__prom_set_t *set, const char *label, const char *matchers, int64_t window_ns,
                        double coverage, char *buf, size_t len, cs_err_t *err)
{
    char offset[32];
    cs__window((int64_t)((double)window_ns * coverage), offset, sizeof offset);
    size_t pos = 0;
    if (cs__append(buf, len, &pos, "count by (%s) (%s%s offset %s)", label, set->names[0], matchers, offset))
        return cs_err_set(err, CS_ETOOBIG, "coverage PromQL for metric %s: longer than %zu bytes", set->names[0], len);
    return 0;
}

int cs__prom_build_coverage(const cs__prom_set_t *set, const char *label, const char *selector, const char *volume,
                            int64_t window_ns, double coverage, char *buf, size_t len, cs_err_t *err)
{
    if (len == 0)
        return cs_err_set(err, CS_ETOOBIG, "coverage PromQL: no room");
    buf[0] = '\0';
    if (coverage <= 0 || set->count == 0)
        return 0;
    char matchers[CS_PROM_MAX_QUERY];
    if (cs__matchers(label, selector, volume, matchers, sizeof matchers))
        return cs_err_set(err, CS_ETOOBIG, "coverage PromQL for metric %s: longer than %zu bytes", set->names[0], len);
    return cs__coverage(set, label, matchers, window_ns, coverage, buf, len, err);
}

int cs__prom_build_coverage_of(const cs__prom_set_t *set, const char *label, const char *selector,
                               const char *const *volumes, size_t n, int64_t window_ns, double coverage, char *buf,
                               size_t len, cs_err_t *err)
{
    if (len == 0)
        return cs_err_set(err, CS_ETOOBIG, "coverage PromQL: no room");
    buf[0] = '\0';
    if (coverage <= 0 || set->count == 0 || n == 0)
        return 0;
    char matchers[CS_PROM_MAX_QUERY];
    if (cs__matchers_of(label, selector, volumes, n, matchers, sizeof matchers))
        return cs_err_set(err, CS_ETOOBIG, "coverage PromQL for %zu volumes: longer than %zu bytes", n, len);
    return cs__coverage(set, label, matchers, window_ns, coverage, buf, len, err);
}

int cs_prom_options_validate(const cs_prom_options_t *opts, cs_err_t *err)
{
    if (!opts)
        return cs_err_set(err, CS_EINVAL, "prometheus options: NULL");
    if (!opts->url || (strncmp(opts->url, "http://", 7) != 0 && strncmp(opts->url, "https://", 8) != 0))
        return cs_err_set(err, CS_EINVAL, "prometheus url: \"%.200s\" must start with http:// or https://",
                          opts->url ? opts->url : "");
    if (opts->timeout_ms < 0 || opts->connect_timeout_ms < 0)
        return cs_err_set(err, CS_EINVAL, "prometheus timeout: must not be negative");
    if ((opts->basic_password && *opts->basic_password) && !opts->basic_user)
        return cs_err_set(err, CS_EINVAL,
                          "prometheus basic auth: a password was given without a user (set prometheus_basic_user)");
    cs__prom_set_t sets[CS_PROM_MAX_SETS];
    size_t n = 0;
    if (!opts->metrics || !*opts->metrics)
        return cs_err_set(err, CS_EINVAL, "prometheus metrics: empty (default %s)", CS_PROM_DEFAULT_METRICS);
    int rc = cs__prom_set_parse(opts->metrics, strlen(opts->metrics), "prometheus metrics", &sets[0], err);
    if (rc)
        return rc;
    cs__prom_set_free(&sets[0]);
    rc = cs__prom_sets_parse(opts->fallbacks, "prometheus fallback metrics", sets, CS_PROM_MAX_SETS - 1, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        cs__prom_set_free(&sets[i]);
    const char *label = opts->label ? opts->label : "";
    if (!cs__prom_label_name_ok(label, strlen(label)))
        return cs_err_set(err, CS_EINVAL, "prometheus label: \"%.100s\" is not a valid label name (default %s)", label,
                          CS_PROM_DEFAULT_LABEL);
    rc = cs__prom_selector_check(opts->selector, err);
    if (rc)
        return rc;
    if (opts->selector && strlen(opts->selector) > CS_PROM_MAX_QUERY / 4)
        return cs_err_set(err, CS_EINVAL, "prometheus selector: longer than %d bytes", CS_PROM_MAX_QUERY / 4);
    if (opts->window_ns < 1000000)
        return cs_err_set(err, CS_EINVAL, "prometheus window: must be at least 1ms (use >= 4 scrape intervals)");
    if (opts->cache_ttl_ns < 0)
        return cs_err_set(err, CS_EINVAL, "prometheus cache TTL: must not be negative");
    if (!(opts->min_coverage >= 0 && opts->min_coverage < 1)) /* NaN fails too */
        return cs_err_set(err, CS_EINVAL,
                          "prometheus min coverage: %g is not in [0, 1) (the share of samplingWindow a volume's "
                          "series must cover before its IOPS counts, e.g. 0.8; 0 turns the check off)",
                          opts->min_coverage);
    if (opts->volume_key != CS_PROM_KEY_PV_NAME && opts->volume_key != CS_PROM_KEY_VOLUME_HANDLE)
        return cs_err_set(err, CS_EINVAL, "prometheus volume key: %d is neither pv-name nor volume-handle",
                          (int)opts->volume_key);
    return 0;
}
