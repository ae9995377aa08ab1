#include "loudness.h"

#include "err.h"
#include "true_peak.h"

#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libebur128 writes a few constant tables from ebur128_init() without a
 * lock. Every thread writes the same values, so concurrent meters agree in
 * practice; meters themselves share no state. */
struct loud_meter {
    ebur128_state *st;
    struct true_peak *tp;
    unsigned flags;
};

/* FFmpeg's native 5.1 order is FL FR FC LFE BL BR; libebur128's default
 * map for six channels already skips channel 3 (LFE), as BS.1770 wants. */
struct loud_meter *loud_new(int channels, int sample_rate, unsigned flags, char *err, size_t errlen)
{
    if (channels < 1 || sample_rate < 1) {
        err_set(err, errlen, "loudness meter: invalid format (%d channels, %d Hz)",
                channels, sample_rate);
        return NULL;
    }
    int mode = EBUR128_MODE_I | EBUR128_MODE_SAMPLE_PEAK;
    if (flags & LOUD_SHORT_TERM)
        mode |= EBUR128_MODE_S;
    struct loud_meter *m = calloc(1, sizeof *m);
    if (!m) {
        err_set(err, errlen, "loudness meter: out of memory");
        return NULL;
    }
    m->flags = flags;
    /* libebur128's own oversampler made up three quarters of a
     * measurement's cost; true_peak.c runs the same filter vectorised
     * (test_loudness holds the two to the same figures). */
    if ((flags & LOUD_TRUE_PEAK) && !(m->tp = true_peak_new(channels, sample_rate))) {
        loud_free(m);
        err_set(err, errlen, "loudness meter: out of memory");
        return NULL;
    }
    m->st = ebur128_init((unsigned)channels, (unsigned long)sample_rate, mode);
    if (!m->st) {
        loud_free(m);
        err_set(err, errlen, "loudness meter: cannot measure %d channels at %d Hz",
                channels, sample_rate);
        return NULL;
    }
    if ((flags & LOUD_DUAL_MONO) && channels == 1 &&
        ebur128_set_channel(m->st, 0, EBUR128_DUAL_MONO) != EBUR128_SUCCESS) {
        loud_free(m);
        err_set(err, errlen, "loudness meter: cannot set dual mono");
        return NULL;
    }
    return m;
}

void loud_free(struct loud_meter *m)
{
    if (!m)
        return;
    if (m->st)
        ebur128_destroy(&m->st);
    true_peak_free(m->tp);
    free(m);
}

int loud_add(struct loud_meter *m, const float *interleaved, size_t nframes, char *err, size_t errlen)
{
    if (nframes == 0)
        return 0;
    if (ebur128_add_frames_float(m->st, interleaved, nframes) != EBUR128_SUCCESS)
        return err_set(err, errlen, "loudness meter: out of memory");
    if (m->tp)
        true_peak_add(m->tp, interleaved, nframes);
    return 0;
}

double loud_integrated(const struct loud_meter *m)
{
    double lufs;
    if (ebur128_loudness_global(m->st, &lufs) != EBUR128_SUCCESS)
        return NAN;
    return lufs;
}

static double linear_to_db(double v)
{
    return v > 0.0 ? 20.0 * log10(v) : -INFINITY;
}

static double peak_of(const struct loud_meter *m, int (*get)(ebur128_state *, unsigned, double *))
{
    double max = 0.0;
    for (unsigned c = 0; c < m->st->channels; c++) {
        double v;
        if (get(m->st, c, &v) == EBUR128_SUCCESS && v > max)
            max = v;
    }
    return max;
}

double loud_true_peak_db(const struct loud_meter *m)
{
    if (!m->tp)
        return linear_to_db(peak_of(m, ebur128_sample_peak));
    double max = 0.0;
    for (unsigned c = 0; c < m->st->channels; c++) {
        double v = true_peak_channel(m->tp, (int)c);
        max = v > max ? v : max;
    }
    return linear_to_db(max);
}

double loud_sample_peak_db(const struct loud_meter *m)
{
    return linear_to_db(peak_of(m, ebur128_sample_peak));
}

double loud_window(const struct loud_meter *m, unsigned long ms)
{
    double lufs;
    if (ms == 0 || ebur128_loudness_window(m->st, ms, &lufs) != EBUR128_SUCCESS)
        return NAN;
    return lufs;
}

double loud_short_term(const struct loud_meter *m)
{
    double lufs;
    if (!(m->flags & LOUD_SHORT_TERM) ||
        ebur128_loudness_shortterm(m->st, &lufs) != EBUR128_SUCCESS)
        return NAN;
    return lufs;
}

double loud_gain_for(double lufs, double true_peak, double target, double ceiling)
{
    /* Silence (gated away entirely) has no loudness to correct. */
    if (!isfinite(lufs))
        return 0.0;
    double gain = target - lufs;
    if (isfinite(true_peak) && ceiling - true_peak < gain)
        gain = ceiling - true_peak;
    return gain;
}
