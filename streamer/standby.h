/* Failover between two streamers that share the station key and
 * processed/, each beside its own Kubo node, talking only through the
 * station's IPNS records (failover_role; docs/streamer.md, "Standby").
 *
 * A thread reads the record the own node holds every poll interval. A
 * record with a higher sequence than any this streamer signed is another
 * streamer's: an active streamer that sees one steps back; a standby
 * fetches its playlist, whose timeline it will continue. A standby goes on
 * air when the record has not advanced for the takeover time (decided in
 * the main loop, which wakes for it). Stepping
 * back and signing share one lock (record_guard), and a streamer signs
 * above every sequence it has seen, so no sequence is signed twice and,
 * of two streamers on air at once, the one with the lower sequence sees
 * the other's record and steps back: exactly one stays on air. */
#ifndef RADIO_STANDBY_H
#define RADIO_STANDBY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "err.h"
#include "ipfs.h"
#include "ipns_key.h"
#include "record_publisher.h"
#include "station.h"

/* The takeover time when failover_takeover_seconds is 0, in target
 * durations: the active publishes at least once a target duration. */
#define STANDBY_DEFAULT_TARGETS 2

struct standby_opts {
    const char *api;             /* the own node */
    const char *auth;            /* its Authorization header, or NULL */
    const char *name;            /* the station's IPNS name */
    const unsigned char *pk;     /* the station's public key */
    double poll;                 /* seconds between reads of the record */
    double takeover;             /* seconds the record may stand still */
    int start_active;            /* failover_role active */
    uint64_t last_signed;        /* the highest sequence this streamer signed (state/ipns.json) */
};

/* A copy for the status file. Times are Unix seconds, 0: never. */
struct standby_view {
    int active;
    uint64_t takeovers, stepbacks;
    double last_takeover, last_stepback;
    double last_takeover_wait;   /* how long the record had stood still at the last takeover */
    uint64_t seen_sequence;      /* the newest record the own node holds */
    double seen_changed;         /* when it last advanced (as seen here) */
    int seen_foreign;            /* it was signed by the other streamer */
    char error[ERR_MSG_MAX];     /* the last failed read, "" when the last one worked */
};

struct standby {
    struct standby_opts o;
    const struct clock *clock;
    struct ipfs_client ipfs;
    struct record_guard guard;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int started, stop;
    int active, adopt;           /* adopt: a takeover the main loop has not acted on */
    uint64_t last_signed, seen_seq;
    double seen_mono;            /* when the record last advanced (monotonic) */
    double read_mono;            /* when it was last read */
    char follow_cid[CID_MAX_STR];    /* the other streamer's newest playlist */
    char fetched_cid[CID_MAX_STR];   /* the newest one fetched ... */
    char *follow;                    /* ... and its text (NUL-terminated) */
    char warned_cid[CID_MAX_STR];    /* the poll thread's own: a failed fetch already logged */
    size_t follow_len;
    struct standby_view v;
};

/* Reads the own node's record once (a foreign, fresh record makes even an
 * active streamer start as standby), then starts the thread. */
int standby_start(struct standby *sb, const struct standby_opts *o, const struct clock *clk, char *err,
                  size_t errlen);
/* For the main loop: 1 when this streamer is on air. Once after each
 * takeover, *adopt (caller frees) is the other streamer's last playlist,
 * whose timeline to continue; NULL when none was seen. */
int standby_on_air(struct standby *sb, char **adopt, size_t *adopt_len);
/* Seconds until a standby takes over if the record stays still; -1 on air. */
double standby_takeover_in(struct standby *sb);
void standby_status(struct standby *sb, struct standby_view *v);
void standby_stop(struct standby *sb);

/* Continues the timeline of a playlist another streamer published: every
 * sequence it listed keeps its URI, date-time and discontinuity number.
 * With its anchor line (timeline_line.h) and the same running order, the
 * station computes exactly what the other streamer would have; without,
 * the running order starts again after the playlist's last segment. Keeps
 * *st as it was when the playlist is unusable (-1) or not ahead of it (0).
 * 1: adopted. The running order is taken over, as by station_open. */
int standby_adopt_order(struct station *st, struct order *o, const char *text, size_t len, double now,
                        char *err, size_t errlen);

#endif
