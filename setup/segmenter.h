/* Station-format samples in, self-contained AAC-in-MPEG-TS segments out.
 * One AAC-LC encoder per track and one timestamp line across all of the
 * track's segments. Cuts fall on the encoder's packets, on a cumulative
 * grid (boundary k at round(k * seconds * rate / 1024) packets), so segment
 * lengths alternate around the target and never drift. Every segment
 * declares the packets it holds (packets * 1024 samples): the encoder's
 * priming frame counts in the first, the last frame's padding in the last.
 * A tail shorter than min_tail_seconds joins the segment before it, or,
 * where that would round above the target duration, borrows from it. */
#ifndef RADIO_SEGMENTER_H
#define RADIO_SEGMENTER_H

#include <stddef.h>
#include <stdint.h>

#include "transcode.h"

#include <libavcodec/avcodec.h>

struct segmenter;

struct segmenter_params {
    int sample_rate;
    int channels;
    int bitrate;
    double segment_seconds;
    double min_tail_seconds;  /* at most half a segment */
};

/* Sees every AAC packet, in order, before it is held for a segment (for
 * example to decode what listeners will hear). Negative aborts. */
typedef int (*segmenter_packet_fn)(void *ctx, const AVPacket *pkt, char *err, size_t errlen);
void segmenter_watch_packets(struct segmenter *sg, segmenter_packet_fn fn, void *ctx);
/* The encoder's parameters (codec, rate, layout, extradata). */
const AVCodecParameters *segmenter_codecpar(const struct segmenter *sg);

/* Every function returns 0, or -1 or ERR_ENVIRONMENT (err.h) with a
 * message; a failing segment callback's own code is passed on. */
int segmenter_open(struct segmenter **out, const struct segmenter_params *p,
                   tc_segment_cb on_segment, void *ctx, char *err, size_t errlen);

/* Float planar samples, one plane per channel; any count per call. */
int segmenter_write(struct segmenter *sg, uint8_t *const *planes, int nb_samples,
                    char *err, size_t errlen);

/* Encodes what is left, flushes the encoder and hands out the last
 * segment. Fails if no samples were written. */
int segmenter_finish(struct segmenter *sg, char *err, size_t errlen);

/* Samples written (the source's length) and samples declared by the
 * segments handed out (whole AAC frames, priming and padding included). */
int64_t segmenter_source_samples(const struct segmenter *sg);
int64_t segmenter_samples(const struct segmenter *sg);
int segmenter_segments(const struct segmenter *sg);

void segmenter_free(struct segmenter **sg);

#endif
