/* GET /metrics: the last round in the Prometheus text exposition format
 * (version 0.0.4): gauges for status, freshness, fetch latency, loudness
 * and peaks per gateway; counters for rounds and failures. */
#ifndef RADIO_HM_METRICS_H
#define RADIO_HM_METRICS_H

#include "health.h"
#include "prom_text.h"

#define HM_METRICS_CONTENT_TYPE PROM_CONTENT_TYPE

/* NULL on out of memory (or before any round: pass NULL for an empty set).
 * Caller frees. */
char *hm_metrics_text(const struct hm_round *r);

#endif
