/* One source file in, the station's AAC-in-MPEG-TS segments out.
 * Decode (any libavformat input, attached pictures ignored), resample to the
 * station format, optionally measure EBU R128 loudness and apply one gain,
 * encode AAC-LC with one encoder and one timestamp line per track, and cut at
 * AAC frame boundaries on a cumulative grid so durations never drift (see
 * segmenter.h for what a segment declares). */
#ifndef RADIO_TRANSCODE_H
#define RADIO_TRANSCODE_H

#include <stddef.h>
#include <stdint.h>

struct tc_params;
/* Drops every segment handed out so far: the track is about to be cut
 * again (with less gain). Returns 0, or negative with a message. */
typedef int (*tc_restart_cb)(void *ctx, char *err, size_t errlen);

struct tc_params {
    int sample_rate;         /* station rate, Hz */
    int channels;            /* 1 or 2 */
    int bitrate;             /* bits per second */
    double segment_seconds;  /* target segment length */
    double min_tail_seconds; /* a shorter last segment joins the one before */
    int normalize;           /* nonzero: measure and apply loudness gain */
    double target_lufs;      /* integrated loudness target */
    double true_peak_dbtp;   /* ceiling the gain must not push peaks above */
    double max_lost_seconds; /* more audio lost to damage fails the file */
    int trim_silence;        /* nonzero: cut leading and trailing silence */
    double silence_dbfs;     /* a sample frame is silent when every channel is below this */
    double silence_min_seconds; /* shorter silence at either end is kept */
    double true_peak_margin_db; /* the AAC result's true peak is checked when the
                              * planned one comes this close to the ceiling */
    tc_restart_cb on_restart; /* NULL: an overshoot is reported, not corrected */
    int true_peak_max_recuts; /* cuts again at most this often */
    const char *spool_dir;   /* where the decoded track waits between the passes
                              * (an unnamed file); NULL or "": the system's temporary folder */
};

/* One finished segment, handed to the caller as soon as it is cut. The
 * bytes are a self-contained MPEG-TS (PAT and PMT first). */
struct tc_segment {
    int index;               /* 0-based within the track */
    const uint8_t *data;     /* valid only during the callback */
    size_t size;
    int64_t samples;         /* AAC frames it holds * 1024, at sample_rate */
    double duration;         /* samples / sample_rate */
};

/* Return 0 to continue, negative to abort (transcode then fails with the
 * message the callback wrote into err). */
typedef int (*tc_segment_cb)(void *ctx, const struct tc_segment *seg, char *err, size_t errlen);

struct tc_result {
    int64_t samples;         /* the sum of its segments' samples */
    double duration;         /* samples / sample_rate */
    int64_t source_samples;  /* the source's own length, at sample_rate, after trimming */
    int64_t decoded_samples; /* the source's whole length, at sample_rate */
    double trimmed_start;    /* seconds of leading silence cut */
    double trimmed_end;      /* seconds of trailing silence cut */
    double silent_fraction;  /* of the samples that air, the share below silence_dbfs (NAN if not measured) */
    int64_t decode_errors;   /* damaged packets skipped (see decode_next) */
    double lost_seconds;     /* about how much audio they held */
    int segments;
    int normalized;          /* gain was measured and applied */
    double measured_lufs;    /* integrated loudness before gain (NAN if not measured) */
    double measured_true_peak_dbtp; /* before gain (NAN if not measured) */
    double gain_db;          /* applied (0 if not normalised) */
    double output_true_peak_dbtp; /* of the decoded AAC, when checked (else NAN) */
    int recut;               /* times cut again with less gain (the AAC overshot) */
    char artist[256];        /* from tags; empty if none */
    char title[256];         /* from tags; empty if none */
};

/* Returns 0, or negative with a message naming the problem (not the file:
 * the caller adds that). Safe to call from several threads at once. */
int tc_transcode_file(const char *path, const struct tc_params *p,
                      tc_segment_cb on_segment, void *ctx,
                      struct tc_result *out, char *err, size_t errlen);

/* Reads only the tags (artist, title) and duration; no decoding. */
int tc_probe_tags(const char *path, char *artist, size_t alen, char *title, size_t tlen,
                  char *err, size_t errlen);

#endif
