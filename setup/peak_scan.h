/* The true peak of a spooled track, measured only where it can be the
 * maximum. BS.1770's true-peak meter oversamples every sample (libebur128:
 * a 49-tap interpolator, 4x below 96 kHz), which costs more than measuring
 * loudness. But an interpolated value can exceed the samples around it by
 * at most a factor B (the largest sum of |coefficients| of one phase of the
 * interpolator: 1.864, +5.4 dB, at 4x), and the true peak is never below
 * the highest sample. So a block whose sample peak times B stays under the
 * track's highest sample cannot hold the true peak: only the other blocks
 * (with one block before and after them, so the interpolator sees
 * contiguous audio) go through the meter. Same figure, a fraction of the
 * work on music with dynamics; on dense, limited material most blocks
 * still go through. */
#ifndef RADIO_PEAK_SCAN_H
#define RADIO_PEAK_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Frames per block: 85 ms at 48 kHz. */
#define PEAK_SCAN_BLOCK 4096

struct peak_scan {
    float *peak;             /* per block, the highest |sample| of any channel */
    size_t n, cap;
    int64_t frames;
    int channels;
};

/* Interleaved float frames, in order. Returns 0, or ERR_ENVIRONMENT. */
int peak_scan_add(struct peak_scan *ps, const float *x, int frames, char *err, size_t errlen);

/* B for libebur128's true-peak interpolator at this rate (0 when it has
 * none: 192 kHz and up). */
double peak_scan_bound(int rate);

/* The true peak (dBTP, as libebur128 measures it) of the spooled track,
 * which holds ps->frames interleaved float frames from offset 0. Returns
 * 0, or ERR_ENVIRONMENT with a message. */
int peak_scan_true_peak(const struct peak_scan *ps, FILE *spool, int rate, double *dbtp, char *err, size_t errlen);

void peak_scan_free(struct peak_scan *ps);

#endif
