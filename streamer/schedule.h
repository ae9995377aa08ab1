/* The station's timeline: wall-clock time to media sequence, and back.
 *
 * The current running order is laid end to end, looped forever, from an
 * anchor (a time, the media sequence of the order's first segment there, and
 * the count of discontinuities before it). Segments of an earlier order that
 * may still appear in a window are kept as history, so a change of order
 * never alters a sequence number already published: same URI, same
 * date-time, same discontinuity count, in every playlist ever published. */
#ifndef RADIO_SCHEDULE_H
#define RADIO_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "order.h"

struct sched_item {
    int64_t seq;
    const char *cid;
    int64_t samples;
    double duration;         /* samples / rate */
    double pdt;              /* scheduled air time, Unix seconds */
    int disc;                /* first segment of a track: EXT-X-DISCONTINUITY */
    int64_t disc_before;     /* discontinuities on lower sequence numbers */
    const char *title;
    const char *track_id;
    const char *artwork;     /* the track's "/ipfs/<cid>" picture, or NULL */
};

struct sched_hist {
    int64_t seq;
    char cid[CID_MAX_STR];
    int64_t samples;
    double duration;
    double pdt;
    int disc;
    int64_t disc_before;
    char *title;
    char *track_id;
    char *artwork;           /* or NULL */
};

struct sched_anchor {
    double time;
    int64_t seq;
    int64_t disc_before;
    /* The order's segment index at seq: 0 when the order starts from its
     * top there, more when it resumes where it was after queued items. */
    int64_t offset;
    char order_id[65];
};

struct sched {
    struct order order;      /* owned */
    struct sched_anchor anchor;
    struct sched_hist *hist; /* ascending, contiguous, all below anchor.seq */
    size_t nhist, cap;
};

/* Takes ownership of *o (zeroed on return). */
void sched_init(struct sched *s, struct order *o, const struct sched_anchor *a);
void sched_free(struct sched *s);

/* The segment with this sequence number; -1 when it is older than anything kept. */
int sched_item(const struct sched *s, int64_t seq, struct sched_item *out);
/* Sequence number of the segment on air at t; -1 before the known timeline. */
int64_t sched_seq_at(const struct sched *s, double t);
/* Lowest sequence number still known. */
int64_t sched_first_seq(const struct sched *s);

/* Up to `size` items ending at `newest`, oldest first; returns the count. */
size_t sched_window(const struct sched *s, int64_t newest, size_t size, struct sched_item *out);

/* Switches to order *next (taken over) at the first track start after
 * `after_seq` (the newest segment already published), keeping as history the
 * segments a window of `keep` may still show. The new order plays from its
 * segment `offset` there (a track start: 0 is its top). If the previous
 * switch has not aired yet, the new order simply replaces it at the same
 * point. */
int sched_switch(struct sched *s, struct order *next, int64_t after_seq, size_t keep, size_t offset,
                 char *err, size_t errlen);

/* Starts the current order again from its top at sequence after_seq + 1
 * and at `time` (a clock that stepped back far: the timeline goes on from
 * the new clock rather than waiting for the old one). Sequence numbers up
 * to after_seq keep what they were; later ones, never published, are
 * dropped, a pending order switch with them. */
int sched_restart(struct sched *s, int64_t after_seq, double time, size_t keep, char *err, size_t errlen);

/* Inserts n segments (queued tracks, each starting with disc set) at the
 * first track start after after_seq, or where an insert or order switch
 * still pending starts; the order then resumes at the segment it would
 * have played there. *at gets the first inserted sequence number. */
/* Where sched_insert puts what it is given: the sequence number (a track
 * start of the running order); *resume gets the order's segment index there. */
int64_t sched_insert_point(const struct sched *s, int64_t after_seq, size_t *resume);

int sched_insert(struct sched *s, const struct sched_hist *v, size_t n, int64_t after_seq, size_t keep,
                 int64_t *at, char *err, size_t errlen);

/* Forgets history below min_seq. */
void sched_prune(struct sched *s, int64_t min_seq);

/* Adds one history item (used when restoring persisted state). */
int sched_hist_push(struct sched *s, const struct sched_hist *h);

#endif
