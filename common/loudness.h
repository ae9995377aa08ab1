/* EBU R128 loudness via libebur128 (true peak via true_peak.c, the same
 * filter), shared by setup (normalisation) and healthmon (monitoring) so
 * both measure the same way. */
#ifndef RADIO_LOUDNESS_H
#define RADIO_LOUDNESS_H

#include <stddef.h>

struct loud_meter;

enum {
    LOUD_TRUE_PEAK = 1 << 0,   /* measure true peak (4x oversampled) */
    LOUD_SHORT_TERM = 1 << 1,  /* track short-term (3 s) loudness */
    LOUD_DUAL_MONO = 1 << 2,   /* one channel played on two speakers counts as both
                                * (BS.1770 dual mono, +3 dB); ignored unless mono */
};

/* BS.1770's gating block: a clip shorter than this has no integrated loudness. */
#define LOUD_BLOCK_MS 400

/* Returns NULL on failure with a message in err. */
struct loud_meter *loud_new(int channels, int sample_rate, unsigned flags, char *err, size_t errlen);
void loud_free(struct loud_meter *m);

/* Interleaved float samples, nframes frames of `channels` samples. */
int loud_add(struct loud_meter *m, const float *interleaved, size_t nframes, char *err, size_t errlen);

/* Integrated loudness in LUFS; -INFINITY for silence. */
double loud_integrated(const struct loud_meter *m);
/* Highest true (or sample) peak over all channels, dBTP / dBFS; -INFINITY for silence. */
double loud_true_peak_db(const struct loud_meter *m);
double loud_sample_peak_db(const struct loud_meter *m);
/* Loudness of the last `ms` milliseconds (at most 400), ungated, LUFS; NAN
 * when it cannot be had. For a clip too short for integrated loudness (no
 * 400 ms gating block), the loudness of the whole clip. */
double loud_window(const struct loud_meter *m, unsigned long ms);
/* Current short-term loudness (last 3 s), LUFS. Needs LOUD_SHORT_TERM. */
double loud_short_term(const struct loud_meter *m);

/* The single gain (dB) that brings `lufs` to `target` without pushing
 * `true_peak` above `ceiling`. Silence gets 0 dB. */
double loud_gain_for(double lufs, double true_peak, double target, double ceiling);

#endif
