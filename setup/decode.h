/* One source file in, a stream of station-format samples out: open any
 * libavformat input, pick its best audio stream (cover art and video are
 * discarded), decode it and resample to a fixed rate, channel count and
 * sample format. Decoding the same file twice yields the same samples, so
 * a measuring pass and an encoding pass see identical audio. */
#ifndef RADIO_DECODE_H
#define RADIO_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>
#include <libavutil/samplefmt.h>

struct decode_src;

/* avformat_open_input with a message a person can act on. */
int decode_open_input(AVFormatContext **fmt, const char *path, char *err, size_t errlen);

/* Opens path for decoding to `rate` Hz, `channels` channels (FFmpeg's
 * default layout for that count), sample format `fmt`. */
int decode_open(struct decode_src **out, const char *path, int rate, int channels,
                enum AVSampleFormat fmt, char *err, size_t errlen);

/* Next chunk of converted audio: *data points at one plane per channel
 * (planar fmt) or one interleaved plane, *nb_samples per channel. The
 * buffers belong to src, may be modified in place, and stay valid until
 * the next call. *nb_samples == 0 means the end of the stream. Fails if
 * the whole stream yielded no audio. */
int decode_next(struct decode_src *src, uint8_t ***data, int *nb_samples,
                char *err, size_t errlen);

/* The opened container and the index of the stream being decoded, for
 * reading tags. */
const AVFormatContext *decode_format(const struct decode_src *src);
int decode_stream_index(const struct decode_src *src);

/* After the end of the stream: the packets that could not be read or
 * decoded (skipped, see decode_next), and an estimate of the audio they
 * held. */
void decode_damage(const struct decode_src *src, int64_t *errors, double *lost_seconds);

void decode_close(struct decode_src **src);

#endif
