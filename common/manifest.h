/* manifest.json: every track and jingle, how it was encoded, and its
 * segments (file, CID, exact duration, bytes). Written by setup, read by the
 * streamer and healthmon. Serialisation is deterministic so an unchanged
 * library yields a byte-identical file. */
#ifndef RADIO_MANIFEST_H
#define RADIO_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "cid.h"

#define MANIFEST_FORMAT "ipfs-radio-manifest"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_BYTES (512u << 20)
/* processed/clock.json, setup's station-ID rule for the streamer. */
#define CLOCK_FILE "clock.json"
#define CLOCK_FORMAT "ipfs-radio-clock"
#define CLOCK_VERSION 1
/* processed/dayparts.json: running orders for parts of the day or week. */
#define DAYPARTS_FILE "dayparts.json"
#define DAYPARTS_FORMAT "ipfs-radio-dayparts"
#define DAYPARTS_VERSION 1

struct manifest_segment {
    char *file;              /* relative to processed/, e.g. segments/<id>/0.ts */
    char cid[CID_MAX_STR];
    int64_t samples;         /* AAC frames it holds * 1024, at the station rate */
    double duration;         /* samples / rate, seconds */
    int64_t bytes;
};

enum manifest_kind { MANIFEST_MUSIC, MANIFEST_JINGLE };

/* One rendering of a track's cover art (JPEG). Optional: older manifests,
 * jingles and tracks without a picture have none. */
struct manifest_artwork {
    int size;                /* the image's longer side in pixels */
    int width, height;
    char cid[CID_MAX_STR];
    int64_t bytes;
    char *file;              /* relative to processed/, e.g. artwork/<cid>.jpg */
};

/* Where a track's artwork came from, so that an unchanged picture is not
 * decoded again and an unusable one is reported again without a retry. */
struct manifest_artwork_source {
    int known;               /* 0: not recorded (an older manifest) */
    char from[16];           /* "embedded", "file" or "none" */
    char *path;              /* the cover file's name beside the track ("file" only) */
    int64_t size;
    int64_t mtime_ns;
    char sha256[65];         /* of the cover file ("file" only) */
    char params[65];         /* fingerprint of the artwork settings used */
    char *error;             /* why the picture could not be used, or NULL */
};

struct manifest_track {
    char *id;                /* stable, filesystem- and URL-safe */
    enum manifest_kind kind;
    char *source;            /* path relative to its source folder */
    int64_t source_size;
    int64_t source_mtime_ns;
    char source_sha256[65];  /* hex */
    char fingerprint[65];    /* encoding parameters this track was cut with */
    char *artist;
    char *title;
    int64_t samples;         /* the sum of its segments' samples: what airs */
    double duration;         /* samples / rate */
    int64_t source_samples;  /* the source's own length at the station rate; 0 if unknown */
    int normalized;
    double measured_lufs;    /* only when normalized */
    double measured_true_peak_dbtp;
    double gain_db;
    struct manifest_segment *segs;
    size_t nsegs;
    struct manifest_artwork *art;  /* ascending by size */
    size_t nart;
    struct manifest_artwork_source art_src;
};

struct manifest_encoding {
    int sample_rate;
    int channels;
    int bitrate;
    double segment_seconds;
    int normalize;
    double target_lufs;
    double true_peak_dbtp;
    char fingerprint[65];
    double min_tail_seconds; /* a shorter last segment was joined to the one before */
};

/* A source that could not be used, remembered so that an unchanged bad
 * file is reported again without being decoded again. */
struct manifest_skip {
    char *source;
    enum manifest_kind kind;
    int64_t size;
    int64_t mtime_ns;
    char *reason;
};

struct manifest {
    struct manifest_encoding enc;
    struct manifest_skip *skipped;
    size_t nskipped;
    char *playlist_options;  /* JSON text of the options that produced playlist.m3u, or NULL */
    struct manifest_track *tracks;
    size_t ntracks;
    /* Artwork entries the parser dropped as invalid (the tracks stay). */
    size_t art_invalid;
    char art_invalid_why[256];
};

/* The fingerprint of the parameters that affect a segment's bytes. */
void manifest_fingerprint(const struct manifest_encoding *e, char out[65]);

int manifest_load(const char *path, struct manifest *m, char *err, size_t errlen);
int manifest_parse(const char *json_text, const char *origin, struct manifest *m, char *err, size_t errlen);
/* Deterministic JSON (tracks sorted by id). Caller frees. NULL on out of
 * memory or when a text is not valid UTF-8 (never a document missing a key). */
char *manifest_to_json(const struct manifest *m);
void manifest_free(struct manifest *m);
void manifest_track_free(struct manifest_track *t);

/* Binary search by id; the tracks array must be sorted (manifest_sort). */
const struct manifest_track *manifest_find(const struct manifest *m, const char *id);
void manifest_sort(struct manifest *m);

/* The skipped entry for this source if its size and mtime still match. */
const struct manifest_skip *manifest_find_skip(const struct manifest *m, enum manifest_kind kind,
                                               const char *source, int64_t size, int64_t mtime_ns);
int manifest_add_skip(struct manifest *m, enum manifest_kind kind, const char *source,
                      int64_t size, int64_t mtime_ns, const char *reason);

void manifest_artwork_free(struct manifest_artwork *a, size_t n);
void manifest_artwork_source_free(struct manifest_artwork_source *s);

/* The largest rendering whose size is at most max_size, or NULL. */
const struct manifest_artwork *manifest_artwork_pick(const struct manifest_track *t, int max_size);

/* "Artist - Title", or the title alone, into out. */
void manifest_track_label(const struct manifest_track *t, char *out, size_t outlen);

#endif
