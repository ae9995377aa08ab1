/* The rules a live HLS media playlist read from a gateway must keep for a
 * player to follow it: fresh date-times, a media sequence that moves
 * forward and keeps its URIs, a sane target duration and EXTINFs, and a
 * discontinuity wherever the date-times jump. Pure: time comes in as
 * arguments, so tests drive it with a fake clock. */
#ifndef RADIO_HM_PLAYLIST_CHECK_H
#define RADIO_HM_PLAYLIST_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "m3u8.h"
#include "problem.h"

struct hm_playlist_limits {
    double stale_target_durations;
    double jump_tolerance;          /* seconds */
    double age_window;              /* seconds of history behind age_max */
};

/* What the previous round saw on the same gateway. */
struct hm_playlist_memory {
    int valid;
    int64_t media_sequence;
    int target_duration;
    double changed_at;              /* monotonic time the sequence last moved */
    int64_t newest_seq;
    char *newest_uri;
    /* Playlist ages of the rounds within age_window: (monotonic time, age). */
    double *age_at, *age;
    size_t age_n, age_cap;
};

struct hm_playlist_facts {
    int64_t media_sequence;
    int64_t newest_seq;
    int target_duration;            /* -1 if absent */
    size_t nsegs;
    size_t discontinuities;
    double newest_pdt;              /* Unix seconds, NAN if the playlist has none */
    double age;                     /* now - newest_pdt, NAN if unknown */
    double age_max;                 /* the largest age within age_window, NAN if none */
    double listen_delay;            /* -EXT-X-START TIME-OFFSET when negative, else 0 */
    double stale_after;             /* seconds */
    int sequence_advanced;          /* newest segment moved on: 1, 0, or -1 on the first round */
    double unchanged_for;           /* seconds the newest segment has not moved */
};

/* Checks pl at wall time now (Unix seconds) and monotonic time mono,
 * adding what is wrong to probs, and remembers this round in mem. */
void hm_playlist_check(const struct m3u8_playlist *pl, double now, double mono,
                       const struct hm_playlist_limits *lim, struct hm_playlist_memory *mem,
                       struct hm_playlist_facts *f, struct hm_problems *probs);

void hm_playlist_memory_free(struct hm_playlist_memory *mem);

/* The date-time of segment i: its own, or carried forward from an earlier
 * one by adding EXTINFs, as RFC 8216 says. NAN if none precedes it. */
double hm_segment_pdt(const struct m3u8_playlist *pl, size_t i);

#endif
