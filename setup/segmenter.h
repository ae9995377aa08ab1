/* Station-format samples in, self-contained AAC-in-MPEG-TS segments out.
 * One AAC-LC encoder per track and one timestamp line across all of the
 * track's segments. Cuts fall on AAC frame boundaries of a cumulative grid
 * (boundary k at round(k * seconds * rate / 1024) frames), so segment
 * lengths alternate around the target and never drift. */
#ifndef RADIO_SEGMENTER_H
#define RADIO_SEGMENTER_H

#include <stddef.h>
#include <stdint.h>

#include "transcode.h"

struct segmenter;

int segmenter_open(struct segmenter **out, int sample_rate, int channels, int bitrate,
                   double segment_seconds, tc_segment_cb on_segment, void *ctx,
                   char *err, size_t errlen);

/* Float planar samples, one plane per channel; any count per call. */
int segmenter_write(struct segmenter *sg, uint8_t *const *planes, int nb_samples,
                    char *err, size_t errlen);

/* Encodes what is left, flushes the encoder and hands out the last
 * segment. Fails if no samples were written. */
int segmenter_finish(struct segmenter *sg, char *err, size_t errlen);

int64_t segmenter_samples(const struct segmenter *sg);
int segmenter_segments(const struct segmenter *sg);

void segmenter_free(struct segmenter **sg);

#endif
