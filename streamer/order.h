/* The running order as the streamer plays it: the playlist's tracks, looked
 * up in the manifest and flattened into one loop of segments with prefix
 * sums of exact sample counts, so the segment on air at any instant is a
 * binary search away however long the catalogue is. */
#ifndef RADIO_ORDER_H
#define RADIO_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"
#include "manifest.h"
#include "playlist.h"

/* The largest artwork rendering a playlist names, in pixels: what the
 * listener page and lock screens show at most. */
#define ORDER_ARTWORK_MAX_PX 512

/* Segments per second of audio a running order may hold, on average: the
 * station's sequence floor (station.c) counts faster than any timeline. */
#define ORDER_MAX_SEGMENTS_PER_SECOND 10

struct order_seg {
    char cid[CID_MAX_STR];
    int64_t samples;
    uint32_t track;          /* index into order.tracks */
    uint8_t track_start;     /* first segment of a track or jingle */
    char *file;              /* relative to processed/, to re-add it to a node that lacks it */
};

struct order_track {
    size_t first;            /* index of its first segment */
    size_t count;
    char *id;
    char *label;             /* "Artist - Title" */
    char *artwork;           /* "/ipfs/<cid>" of its picture, or NULL */
};

struct order {
    int rate;
    size_t n;                /* segments per loop */
    struct order_seg *segs;
    int64_t *prefix;         /* n + 1 sums of samples: prefix[i] = start of segment i */
    int64_t *tags;           /* n + 1: track starts before segment i */
    size_t ntracks;
    struct order_track *tracks;
    int max_rounded;         /* largest EXTINF rounded to an integer: the target duration */
    char id[65];             /* identity of the order: same segments, same titles */
};

/* Builds the order from a manifest and a running order. Refuses an empty
 * order, a track the manifest lacks, a track without segments, and sizes
 * beyond the bounds in order.c. On failure *o is empty. */
int order_build(const struct manifest *m, const struct playlist *pl, struct order *o,
                char *err, size_t errlen);
/* What a manifest entry must agree with before it airs (whoever cut it):
 * segments of 1 sample to the longest target duration, each declaring the
 * duration its sample count gives at `rate`, a valid CID, and the track's
 * samples and duration the sum of its segments'. */
int order_check_track(const struct manifest_track *t, int rate, char *err, size_t errlen);

/* The two files of processed/ as read, kept so that an accepted order
 * can be copied into the state directory byte for byte. */
struct order_texts {
    char *manifest;          /* NUL-terminated */
    size_t manifest_len;
    char *playlist;          /* NUL-terminated */
    size_t playlist_len;
    const char *playlist_name; /* in messages, relative to processed/; NULL: playlist.m3u */
};

/* Reads processed/manifest.json and processed/playlist.m3u (regular files
 * within their size bounds). On failure *t is empty. */
int order_read(const char *processed_dir, struct order_texts *t, char *err, size_t errlen);
/* Builds the order from the texts; origin names where they came from in
 * messages. Whatever the texts hold, *o is either the order or empty. */
int order_parse(const struct order_texts *t, const char *origin, struct order *o, char *err, size_t errlen);
void order_texts_free(struct order_texts *t);
/* order_read + order_parse. Whatever the files hold, *o is either the
 * order or empty (order_free is safe on it either way). texts (may be
 * NULL) gets the files' bytes when the order is built. */
int order_load(const char *processed_dir, struct order *o, struct order_texts *texts, char *err, size_t errlen);
void order_free(struct order *o);
/* A deep copy of src into *dst (empty on failure). */
int order_copy(const struct order *src, struct order *dst, char *err, size_t errlen);

/* Index of the segment containing sample offset `pos` (0 <= pos < loop). */
size_t order_index_at(const struct order *o, int64_t pos);
/* Index of the first segment of the track after the one holding segment i
 * (n when that track is the last of the loop). */
size_t order_next_track_start(const struct order *o, size_t i);

/* The fewest samples any w consecutive segments of the loop hold: what
 * the shortest playlist of a w-segment window lists. */
int64_t order_min_span(const struct order *o, size_t w);

static inline int64_t order_loop_samples(const struct order *o) { return o->prefix[o->n]; }
static inline int64_t order_loop_tags(const struct order *o) { return o->tags[o->n]; }

#endif
