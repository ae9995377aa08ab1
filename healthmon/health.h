/* The health model: one round's gateway reports become the station's
 * status (ok, degraded, down) with reasons a person can act on, and the
 * JSON dashboards read (health.json and GET /health), with recent history. */
#ifndef RADIO_HM_HEALTH_H
#define RADIO_HM_HEALTH_H

#include <stddef.h>

#include "hm_config.h"
#include "probe.h"
#include "problem.h"
#include "streamer_view.h"

#define HM_MAX_REASONS 64
#define HM_REASON_MAX (HM_PROBLEM_MSG + HM_GATEWAY_NAME + 32)

struct hm_round {
    unsigned long number;           /* 1, 2, ... */
    double started_at;              /* wall clock, Unix seconds */
    double seconds;                 /* how long the round took */
    double interval;
    char ipns_name[HM_NAME_MAX];
    struct hm_problems station;     /* problems not tied to one gateway */
    struct hm_streamer_view streamer; /* the streamer beside this monitor, if its state_dir is known */
    struct hm_gateway_report *gw;
    size_t ngw;

    /* Filled by hm_health_evaluate. */
    enum hm_severity status;
    char reasons[HM_MAX_REASONS][HM_REASON_MAX];
    size_t nreasons;

    /* Counters since start, including this round. */
    unsigned long rounds_total[HM_DOWN + 1];
};

/* The station's status: the worst severity of any problem, each one a
 * reason prefixed by where it was seen. */
void hm_health_evaluate(struct hm_round *r);

/* Recent rounds, oldest first, kept as compact JSON entries. */
struct hm_history;
struct hm_history *hm_history_new(int capacity);
void hm_history_free(struct hm_history *h);
int hm_history_push(struct hm_history *h, const struct hm_round *r);

/* The health document; NULL on out of memory. Caller frees. */
char *hm_health_json(const struct hm_round *r, const struct hm_history *h);

/* The document served before the first round finished. */
char *hm_health_starting_json(double now);

/* HTTP status for GET /health: 200 ok or degraded, 503 down. */
int hm_health_http_status(enum hm_severity s);

#endif
