/* What a listener hears in fetched segments: each is decoded in memory
 * with libavformat/libavcodec (any container and codec FFmpeg reads; the
 * station's are AAC in MPEG-TS), and the segments given are measured as one
 * stretch of air time with the same EBU R128 meter setup normalises with:
 * integrated and short-term loudness, true and sample peak, RMS, the
 * longest silence and the clips. */
#ifndef RADIO_HM_AUDIO_H
#define RADIO_HM_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct hm_audio_params {
    int true_peak;               /* also measure true peak */
    double short_term_step;      /* seconds between short-term readings */
    double silence_floor_lufs;   /* short-term loudness below this is silence */
    double clip_level_dbfs;      /* a sample at or above this is at full scale */
    int clip_run_samples;        /* consecutive full-scale samples that make one clip */
};

struct hm_audio_input {
    const uint8_t *data;
    size_t len;
};

/* Per input: did it decode, and how much audio came out. */
struct hm_audio_segment {
    int decoded;                 /* 1 if it yielded audio */
    double seconds;
    long bad_packets;            /* packets the decoder refused (damage) */
    char error[ERR_MSG_MAX];     /* why not, when decoded is 0 */
};

struct hm_audio_result {
    int sample_rate;
    int channels;
    double seconds;              /* audio measured, all inputs together */
    double integrated_lufs;      /* -INFINITY when gated away (silence) */
    double short_term_lufs;      /* at the end of the audio */
    double short_term_min_lufs;  /* over the audio once a full 3 s window exists */
    double short_term_max_lufs;
    double true_peak_dbtp;       /* NAN when true peak is not measured */
    double sample_peak_dbfs;
    double rms_dbfs;
    double silent_seconds;       /* longest stretch whose short-term loudness is below the floor */
    long clips;
};

/* Decodes and measures the inputs in order as consecutive audio. Fills
 * seg[i] for every input; the result covers the inputs that decoded (if
 * their formats differ, only the last format's run). Returns 0 if any
 * audio was measured, -1 (with a message) if none decoded. */
int hm_audio_analyze(const struct hm_audio_params *p, const struct hm_audio_input *in, size_t n,
                     struct hm_audio_segment *seg, struct hm_audio_result *out,
                     char *err, size_t errlen);

#endif
