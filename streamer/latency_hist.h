/* How long publishes took, as a Prometheus histogram: counts per upper
 * bound, cumulative when rendered. Not locked itself: it lives in a
 * status struct and is fed and copied under that struct's lock. */
#ifndef RADIO_LATENCY_HIST_H
#define RADIO_LATENCY_HIST_H

#include <stddef.h>
#include <stdint.h>

/* The bounds are part of the metric's definition, not a setting: series
 * with other bounds do not add up across streamers or restarts. They span
 * a local node (tens of milliseconds) to a DHT put (minutes). */
#define LATENCY_HIST_NBOUNDS 12
extern const double latency_hist_bounds[LATENCY_HIST_NBOUNDS];

struct latency_hist {
    uint64_t in[LATENCY_HIST_NBOUNDS];  /* observations <= bound[i] and > bound[i-1] */
    uint64_t count;                     /* all, those above the last bound too */
    double sum;
};

void latency_hist_observe(struct latency_hist *h, double seconds);

#endif
