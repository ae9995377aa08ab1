/* What the streamer beside this monitor says of itself in
 * <state_dir>/status.json: whether it is on air and, when two streamers
 * share the station (failover), which role it has and its takeovers. */
#ifndef RADIO_HM_STREAMER_VIEW_H
#define RADIO_HM_STREAMER_VIEW_H

#include <stddef.h>

struct hm_streamer_view {
    int known;                      /* status.json was read */
    int running;                    /* 1 a streamer holds state_dir's lock, 0 none does, -1 unknown */
    int on_air;                     /* status.json says so and, when known, it runs */
    int failover;                   /* it runs with failover_role active or standby */
    int active;                     /* failover: it holds the air now */
    long takeovers;                 /* failover: times it took the air from the other */
    long stepbacks;                 /* failover: times it gave the air back */
    double last_takeover;           /* Unix seconds, NAN if never */
};

/* Reads <state_dir>/status.json into *v (zeroed, known = 0, on any error,
 * which err then names). A streamer killed outright leaves a status that
 * still says on air: whether one runs is read from the kernel's table of
 * file locks (/proc/locks), without touching the lock itself. */
int hm_streamer_read(const char *state_dir, struct hm_streamer_view *v, char *err, size_t errlen);

#endif
