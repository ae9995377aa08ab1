/* A synthetic library for the streamer's timeline tests: tracks of
 * alternating 6.016/5.995 s segments at 48 kHz, jingles among them, and
 * running orders built from their ids, as setup's manifest and playlist
 * would give them. */
#ifndef RADIO_TIMELINE_FIXTURE_H
#define RADIO_TIMELINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "manifest.h"
#include "order.h"
#include "schedule.h"

#define FX_RATE 48000
/* Air times are doubles near 2e9 s: compared with a microsecond to spare. */
#define FX_SLACK 1e-6

/* Adds a track of nsegs segments, the last of last_samples samples. */
void fx_add_track(struct manifest *m, const char *id, int nsegs, int64_t last_samples, int jingle);
/* j1, j2 (jingles), t1 (~3 min), t2, t3 (one 2 s segment), t4, t5; every
 * entry with the totals and fields a cut manifest carries. */
void fx_make_library(struct manifest *m);
/* j1 (one segment), t1 (7), t2 (4): segments of alternating 5.995 and
 * 6.016 s, air times that fall between milliseconds. */
void fx_make_small_library(struct manifest *m);
/* The running order of these track ids (cmocka fails the test otherwise). */
void fx_make_order(const struct manifest *m, const char *const *ids, size_t n, struct order *o);

/* processed/ files: the manifest, and a running order of these ids at
 * dir/name (folders made as needed), and any text. */
void fx_write_manifest(const struct manifest *m, const char *dir);
void fx_write_playlist(const char *dir, const char *name, const char *const *ids, size_t n);
void fx_write_file(const char *dir, const char *name, const char *text);

/* What a simulated station published, segment by segment. */
struct fx_aired {
    int64_t seq;
    char cid[CID_MAX_STR];
    double pdt, duration;
    int disc;
    int64_t disc_before;
    char track[32];
};

struct fx_log {
    struct fx_aired *v;
    size_t n, cap;
};

void fx_log_push(struct fx_log *lg, const struct sched_item *it);
struct station;
struct streamer_state;
struct station_ids_memory;
struct program_memory;
/* What a stopped streamer leaves: the station's timeline, the station-ID
 * memory and the orders' places (pm may be NULL) through state.json and
 * back, as a restart reads them. */
void fx_state_round_trip(const struct station *st, const struct station_ids_memory *im,
                         const struct program_memory *pm, struct streamer_state *out);
/* A tick at t, as the streamer's loop has it: what it newly publishes
 * goes into lg, one sequence number after the other. */
void fx_tick(struct station *st, double t, struct fx_log *lg);
/* The timeline rules over everything published: sequence numbers one by
 * one, date-times without gap, a discontinuity (and one more in the count)
 * at every track change, and every track played whole. */
void fx_check_timeline(const struct manifest *m, const struct fx_log *lg);

#endif
