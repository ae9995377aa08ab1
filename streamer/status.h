/* state/status.json: what dashboards and healthmon read about the
 * streamer. Rewritten atomically when something in it changes. */
#ifndef RADIO_STATUS_H
#define RADIO_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "publisher.h"
#include "queue.h"
#include "record_target.h"
#include "schedule.h"
#include "standby.h"

struct status_view {
    const char *ipns_name;
    const char *ipns_mode;
    const struct record_target_status *targets;  /* station mode, else NULL */
    size_t ntargets;
    const char *local_url;
    const char *public_url;
    double now;
    double started;
    int on_air;
    int held;                        /* clock behind the last publish */
    int target_duration;
    int window;
    int64_t media_sequence;
    int64_t discontinuity_sequence;
    int64_t newest_seq;
    const struct sched_item *now_playing;  /* may be NULL */
    const struct publisher_status *pub;
    uint64_t skipped_publishes;
    uint64_t reloads;
    uint64_t reload_errors;
    const char *reload_error;        /* last refused running order, or NULL */
    double reload_error_time;
    const char *order_id;
    int64_t order_segments;
    int have_order_from;             /* the last order accepted since start: where it takes effect */
    int64_t order_from_seq;
    double order_from_time;
    const struct queue *queue;       /* may be NULL */
    const char *time_zone;           /* processed/dayparts.json's zone, or NULL: no day-parts */
    const char *day_part;            /* the part the latest boundary decided plays, or NULL: playlist.m3u */
    const char *clock_error;         /* the last refused clock.json, or NULL */
    double clock_error_time;
    const struct standby_view *failover;  /* failover_role active|standby, else NULL */
};

/* Writes only what changed: the same status again is written at most
 * every `heartbeat` seconds (0: never), with "updated" the time of the
 * last write and "changed" the time of the last change. */
struct status_writer {
    const char *path;
    double heartbeat;
    char *last;                      /* what was last written, "updated"/"changed" aside */
    double written;
    double changed;
};

void status_writer_init(struct status_writer *w, const char *path, double heartbeat);
void status_writer_free(struct status_writer *w);
int status_write(struct status_writer *w, const struct status_view *v, char *err, size_t errlen);

#endif
