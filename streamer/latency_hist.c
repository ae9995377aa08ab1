#include "latency_hist.h"

const double latency_hist_bounds[LATENCY_HIST_NBOUNDS] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

void latency_hist_observe(struct latency_hist *h, double seconds)
{
    for (size_t i = 0; i < LATENCY_HIST_NBOUNDS; i++)
        if (seconds <= latency_hist_bounds[i]) {
            h->in[i]++;
            break;
        }
    h->count++;
    h->sum += seconds;
}
