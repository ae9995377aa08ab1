/* The streamer's own Prometheus metrics (GET /metrics on metrics_listen;
 * the table of names is in docs/operating.md). The main loop renders them
 * from the status it writes to status.json, on every pass, and hands the
 * text to the HTTP server's thread: a scrape never waits for the timeline,
 * and the timeline never waits for a scraper. Counters and the latency
 * histograms come from the publishing threads' own status. */
#ifndef RADIO_STREAMER_METRICS_H
#define RADIO_STREAMER_METRICS_H

#include <stddef.h>

#include "status.h"
#include "streamer_config.h"

struct http_server;

/* Prometheus text for v (caller frees), NULL when out of memory. */
char *streamer_metrics_render(const struct status_view *v, const struct streamer_config *cfg);

/* Serves GET /metrics on cfg->metrics_listen; *out stays NULL when that
 * is empty. */
int streamer_metrics_start(struct http_server **out, const struct streamer_config *cfg, char *err, size_t errlen);
/* Renders v and makes it what /metrics answers; 0, or -1 out of memory. */
int streamer_metrics_publish(struct http_server *s, const struct status_view *v, const struct streamer_config *cfg);

#endif
