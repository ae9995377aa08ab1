/* BS.1770 true peak: the highest absolute value of the signal oversampled
 * (4x below 96 kHz, 2x below 192 kHz, as is above) through the same
 * 49-tap Hann-windowed sinc interpolator libebur128 uses, so the figures
 * agree with it. Written for speed: planar float blocks of a fixed length
 * that the compiler vectorises, which makes normalising a library cost
 * little more than encoding it. */
#ifndef RADIO_TRUE_PEAK_H
#define RADIO_TRUE_PEAK_H

#include <stddef.h>

struct true_peak;

/* NULL when out of memory or the format is invalid. */
struct true_peak *true_peak_new(int channels, int sample_rate);
void true_peak_free(struct true_peak *tp);

/* Interleaved float samples, nframes frames. */
void true_peak_add(struct true_peak *tp, const float *interleaved, size_t nframes);

/* Highest true peak of one channel so far, linear (1.0 is full scale);
 * never below the channel's sample peak. */
double true_peak_channel(const struct true_peak *tp, int channel);

#endif
