/* true_peak.c against libebur128's own true-peak mode, the reference it
 * replaces: the same figures on signals with inter-sample peaks, noise,
 * clipping and impulses, at every rate band and channel count, whatever
 * the sizes of the blocks fed in. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ebur128.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "loudness.h"
#include "true_peak.h"

/* Float accumulation against libebur128's double: far below 0.001 dB. */
#define REL_TOLERANCE 1e-5

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static float noise(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / (double)(1ULL << 53) * 2.0 - 1.0);
}

enum shape { SINE_QUARTER, SINE_NEAR_NYQUIST, NOISE, CLIPPED, IMPULSES, SHAPES };

static float *make(enum shape s, int channels, size_t frames)
{
    float *x = calloc(frames * (size_t)channels, sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++) {
            double t = (double)i, v = 0;
            switch (s) {
            case SINE_QUARTER: /* samples at +-0.707 of a peak between them */
                v = 0.9 * sin(M_PI / 2 * t + M_PI / 4 + c);
                break;
            case SINE_NEAR_NYQUIST:
                v = 0.8 * sin(M_PI * 0.91 * t + 0.3 * c);
                break;
            case NOISE:
                v = 0.5 * noise();
                break;
            case CLIPPED: {
                double u = 1.6 * sin(2 * M_PI * 997.0 / 48000.0 * t + c);
                v = u > 0.95 ? 0.95 : u < -0.95 ? -0.95 : u;
                break;
            }
            default:
                v = (i % 977 == (size_t)c * 13) ? ((i / 977) % 2 ? -1.0 : 1.0) : 0.0;
            }
            x[i * (size_t)channels + (size_t)c] = (float)v;
        }
    return x;
}

static void compare(enum shape s, int channels, int rate, const size_t *blocks, size_t nblocks)
{
    const size_t frames = 20000;
    float *x = make(s, channels, frames);
    ebur128_state *ref = ebur128_init((unsigned)channels, (unsigned long)rate,
                                      EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_SAMPLE_PEAK);
    struct true_peak *tp = true_peak_new(channels, rate);
    assert_non_null(ref);
    assert_non_null(tp);
    assert_int_equal(ebur128_add_frames_float(ref, x, frames), EBUR128_SUCCESS);
    size_t at = 0;
    for (size_t k = 0; at < frames; k++) {
        size_t n = blocks[k % nblocks];
        if (n > frames - at)
            n = frames - at;
        true_peak_add(tp, x + at * (size_t)channels, n);
        at += n;
    }
    for (int c = 0; c < channels; c++) {
        double want, sample;
        assert_int_equal(ebur128_true_peak(ref, (unsigned)c, &want), EBUR128_SUCCESS);
        assert_int_equal(ebur128_sample_peak(ref, (unsigned)c, &sample), EBUR128_SUCCESS);
        double got = true_peak_channel(tp, c);
        if (fabs(got - want) > REL_TOLERANCE * want)
            fail_msg("shape %d, %d ch, %d Hz, channel %d: %.9f, libebur128 %.9f", (int)s, channels, rate, c, got,
                     want);
        assert_true(got >= sample);
    }
    true_peak_free(tp);
    ebur128_destroy(&ref);
    free(x);
}

static void agrees_with_libebur128_everywhere(void **state)
{
    (void)state;
    const size_t odd[] = {1, 7, 255, 256, 257, 1000, 3}, whole[] = {20000};
    const int rates[] = {44100, 48000, 96000, 192000};
    const int chans[] = {1, 2, 6};
    for (int s = 0; s < SHAPES; s++)
        for (size_t r = 0; r < sizeof rates / sizeof *rates; r++)
            for (size_t c = 0; c < sizeof chans / sizeof *chans; c++) {
                compare((enum shape)s, chans[c], rates[r], odd, sizeof odd / sizeof *odd);
                compare((enum shape)s, chans[c], rates[r], whole, 1);
            }
}

/* The point of oversampling: a quarter-rate sine sampled 45 degrees off
 * its crests reads 3 dB under its true peak. BS.1770's interpolator
 * ripples by about 0.1 dB that high up. */
static void finds_the_peak_between_samples(void **state)
{
    (void)state;
    float *x = make(SINE_QUARTER, 1, 48000);
    char err[128];
    struct loud_meter *m = loud_new(1, 48000, LOUD_TRUE_PEAK, err, sizeof err);
    assert_non_null(m);
    assert_int_equal(loud_add(m, x, 48000, err, sizeof err), 0);
    double sample = loud_sample_peak_db(m), truep = loud_true_peak_db(m);
    assert_true(fabs(sample - 20 * log10(0.9 * sqrt(0.5))) < 0.01);
    if (fabs(truep - 20 * log10(0.9)) >= 0.15)
        fail_msg("true peak %.3f dBTP, sample peak %.3f dBFS", truep, sample);
    loud_free(m);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(agrees_with_libebur128_everywhere),
        cmocka_unit_test(finds_the_peak_between_samples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
