/* What goes on air: from the timeline and wall-clock time to the live
 * playlist text, with the rules players check enforced here: the media
 * sequence never decreases (a clock stepping back holds the station rather
 * than rewinding it), the target duration never changes, and a new running
 * order starts at a track boundary. No I/O: time comes in as an argument. */
#ifndef RADIO_STATION_H
#define RADIO_STATION_H

#include <stddef.h>
#include <stdint.h>

#include "schedule.h"

/* Target durations a playlist must list: hls.js starts this far behind the
 * live edge and stalls on a playlist shorter than that. */
#define STATION_MIN_TARGETS 3

enum station_uri_mode { STATION_URI_PATH, STATION_URI_GATEWAY };

struct station_opts {
    size_t window;               /* segments per playlist */
    int publish_every;           /* publish after this many new segments */
    enum station_uri_mode uri_mode;
    const char *gateway_base;    /* for STATION_URI_GATEWAY, no trailing slash */
    const char *uri_suffix;      /* appended to every segment URI; may be NULL */
    double listen_delay;         /* seconds behind air listeners play; 0: no EXT-X-START */
    int sequence_floor;          /* a new timeline starts at the floor (a past life was lost), not 0 */
    /* A clock behind the newest segment's start by more than this many
     * target durations restarts the timeline from the new clock; behind by
     * less, the station holds until the clock catches up. */
    double clock_hold_targets;
    /* The target duration is at least this: what the other running orders
     * the station may switch to on air (day-parts) need. */
    int min_target;
};

/* What survives a restart (see state.c for the file). */
struct station_memory {
    int have;                    /* 0: a new station */
    struct sched_anchor anchor;
    struct sched_hist *hist;     /* the timeline's history */
    size_t nhist;
    struct sched_hist *window;   /* the last published window */
    size_t nwindow;
    int target;
    double epoch;                /* when the station first went on air */
};
void station_memory_free(struct station_memory *m);

struct station {
    struct station_opts opts;
    struct sched sched;
    int target;
    double epoch;
    int64_t newest;              /* newest sequence number published, -1 before the first */
    int64_t first;               /* oldest in that playlist */
    struct sched_item *items;    /* scratch for a window */
};

/* The lowest media and discontinuity sequence a new timeline starts at:
 * it counts ORDER_MAX_SEGMENTS_PER_SECOND a second from 2020, faster than
 * any timeline advances, so a station that lost every trace of what it
 * published still never goes back under its name. */
#define STATION_FLOOR_EPOCH 1577836800.0 /* 2020-01-01T00:00:00Z */
int64_t station_sequence_floor(double now);

/* The listen delay as published (EXT-X-START): no further back than a
 * window of `window` segments can list with STATION_MIN_TARGETS target
 * durations ahead; 0 when it cannot list that many. */
double station_published_delay(size_t window, double listen_delay, int target);

/* Starts from memory (or fresh at `now`, at the sequence floor). A running order other than the
 * remembered one starts after the last published segment, at the later of
 * now and that segment's end. Takes ownership of *o. */
int station_open(struct station *st, const struct station_opts *opts, struct order *o,
                 const struct station_memory *mem, double now, char *err, size_t errlen);
void station_close(struct station *st);

enum station_tick_result {
    STATION_NOTHING,             /* no new segment on air */
    STATION_PUBLISH,             /* out holds a new playlist */
    STATION_HELD,                /* the clock is behind the last publish: holding */
};

struct station_out {
    char *playlist;              /* caller frees */
    size_t len;
    int64_t newest, first;
    int64_t media_sequence, discontinuity_sequence;
    struct sched_item now_playing;
    double newest_end;           /* when the newest segment ends */
    double restarted_behind;     /* >0: the timeline restarted; the clock was this many seconds behind */
};

enum station_tick_result station_tick(struct station *st, double now, struct station_out *out,
                                      char *err, size_t errlen);

/* The newest sequence number that can no longer change: the newest
 * published, or before the first publish the one on air at `now`. What is
 * put on the timeline goes after it. */
int64_t station_committed(const struct station *st, double now);

/* Schedules a new running order at the next track boundary: returns 1, or
 * 0 if it is the order already playing. Refuses (-1) one whose segments
 * would need a larger target duration. Takes *o unless refused. */
int station_reload(struct station *st, struct order *o, double now, char *err, size_t errlen);
/* The same, with the new order playing from its segment `offset` (a track
 * start) rather than its top: an order coming back where it left off. */
int station_switch(struct station *st, struct order *o, size_t offset, double now, char *err, size_t errlen);

/* Puts segments (whole tracks, from a queue) on air at the next track
 * boundary, or after those already queued, and the running order on
 * where it was; *at gets the first one's sequence number. Refuses
 * segments longer than the target duration allows. */
int station_insert(struct station *st, const struct sched_hist *v, size_t n, double now, int64_t *at,
                   char *err, size_t errlen);

/* When the segment on air at `now` ends: the next moment worth a tick. */
double station_next_boundary(const struct station *st, double now);

/* Snapshot for persisting. Caller frees with station_memory_free. */
int station_remember(const struct station *st, struct station_memory *mem);

#endif
