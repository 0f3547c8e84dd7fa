/* metrics.h: a small Prometheus metrics registry (counters, gauges,
 * histograms with labels) rendered in the text exposition format 0.0.4.
 *
 * Families are registered once at start; series are created on first use
 * with their label values. Every function is thread-safe. Label values are
 * escaped on output (\\, \", \n); names are checked at registration.
 * Cardinality is bounded per family (CS_METRICS_MAX_SERIES): past it, new
 * series are dropped and counted in couchestor_metrics_dropped_series_total. */
#ifndef COUCHESTOR_METRICS_H
#define COUCHESTOR_METRICS_H

#include <stddef.h>

#include "couchestor/error.h"

#define CS_METRICS_MAX_LABELS 4
#define CS_METRICS_MAX_BUCKETS 24
#define CS_METRICS_MAX_SERIES 1000

typedef struct cs_metrics_s cs_metrics_t;
typedef struct cs_metric_s cs_metric_t;

cs_metrics_t *cs_metrics_new(void);
/* Frees the registry and every family in it. NULL is a no-op. */
void cs_metrics_free(cs_metrics_t *reg);

/* Register a family; returns NULL (and fills err) for a bad name, too many
 * labels, a duplicate name, or no memory. The family lives as long as reg.
 * label_names has label_count entries. */
cs_metric_t *cs_metrics_counter(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                                const char *const *label_names, cs_err_t *err);
cs_metric_t *cs_metrics_gauge(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                              const char *const *label_names, cs_err_t *err);
/* bounds: increasing upper bounds, without +Inf (added). */
cs_metric_t *cs_metrics_histogram(cs_metrics_t *reg, const char *name, const char *help, size_t label_count,
                                  const char *const *label_names, size_t bucket_count, const double *bounds,
                                  cs_err_t *err);

/* label_values has the family's label count entries (NULL when it has none). */
void cs_metric_inc(cs_metric_t *m, const char *const *label_values, double delta);
void cs_metric_set(cs_metric_t *m, const char *const *label_values, double value);
void cs_metric_observe(cs_metric_t *m, const char *const *label_values, double value);
/* Makes the series exist with value 0 (so rate() and alerts see the first
 * event, reference/prometheus.md section 4). */
void cs_metric_touch(cs_metric_t *m, const char *const *label_values);
/* Current value of a counter/gauge series (0 when absent); for tests. */
double cs_metric_value(cs_metric_t *m, const char *const *label_values);
/* Removes every series of the family whose first label equals value (e.g.
 * a deleted policy). */
void cs_metric_remove_matching(cs_metric_t *m, const char *first_label_value);

/* Renders every family into a malloc'd NUL-terminated text (*out, *len). */
int cs_metrics_render(cs_metrics_t *reg, char **out, size_t *len);

#endif
