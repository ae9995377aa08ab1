/* A synthetic library for the streamer's timeline tests: tracks of
 * alternating 6.016/5.995 s segments at 48 kHz, jingles among them, and
 * running orders built from their ids, as setup's manifest and playlist
 * would give them. */
#ifndef RADIO_TIMELINE_FIXTURE_H
#define RADIO_TIMELINE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "order.h"

#define FX_RATE 48000

/* Adds a track of nsegs segments, the last of last_samples samples. */
void fx_add_track(struct manifest *m, const char *id, int nsegs, int64_t last_samples, int jingle);
/* j1, j2 (jingles), t1 (~3 min), t2, t3 (one 2 s segment), t4, t5. */
void fx_make_library(struct manifest *m);
/* j1 (one segment), t1 (7), t2 (4): segments of alternating 5.995 and
 * 6.016 s, air times that fall between milliseconds. */
void fx_make_small_library(struct manifest *m);
/* The running order of these track ids (cmocka fails the test otherwise). */
void fx_make_order(const struct manifest *m, const char *const *ids, size_t n, struct order *o);

#endif
