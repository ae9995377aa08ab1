/* peak_scan: the true peak measured only where it can be equals
 * libebur128's over the whole track, and the bound it relies on is the
 * library's own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ebur128.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "peak_scan.h"

#define RATE 48000
#define TAPS 49

/* The worst case of phase 2 (a palindrome, so the filter's orientation
 * does not matter): +-1 with the signs of that phase's coefficients. The
 * library's meter must read exactly the bound. */
static void test_bound_is_libebur128s(void **state)
{
    (void)state;
    double bound = peak_scan_bound(RATE);
    assert_true(bound > 1.8 && bound < 1.9);
    float x[2 * 200] = {0};
    int n = 0;
    for (int j = 2; j < TAPS; j += 4, n++) {
        double m = j - (TAPS - 1) / 2.0;
        double c = fabs(m) > 1e-6 ? sin(m * M_PI / 4) / (m * M_PI / 4) : 1.0;
        x[2 * (50 + n)] = x[2 * (50 + n) + 1] = c >= 0 ? 1.0f : -1.0f;
    }
    ebur128_state *st = ebur128_init(2, RATE, EBUR128_MODE_TRUE_PEAK);
    assert_non_null(st);
    assert_int_equal(ebur128_add_frames_float(st, x, 200), EBUR128_SUCCESS);
    double tp;
    assert_int_equal(ebur128_true_peak(st, 0, &tp), EBUR128_SUCCESS);
    ebur128_destroy(&st);
    assert_true(fabs(tp - bound) < 1e-3 * bound);
}

/* Quiet noise, loud low tones, a quarter-rate square and the worst case
 * of the interpolator (the kinds whose true peak is far above their
 * samples): the selective scan and the full meter agree. */
static void test_selective_equals_full(void **state)
{
    (void)state;
    const int frames = RATE * 20;
    float *x = malloc(sizeof *x * 2 * (size_t)frames);
    assert_non_null(x);
    srand(7);
    for (int i = 0; i < frames; i++) {
        float v = ((float)rand() / RAND_MAX - 0.5f) * 0.05f;
        /* Loud and low: a true peak no higher than its samples. */
        if (i % (RATE * 3) < 4800)
            v = 0.3f * (float)sin(2 * M_PI * 100 * i / RATE);
        if (i > RATE * 11 && i < RATE * 11 + 64)
            v = (i / 2 % 2 ? 0.2f : -0.2f);
        x[2 * i] = v;
        x[2 * i + 1] = -0.7f * v;
    }
    /* Phase 2's worst case at 0.2: samples well under the bursts (0.3), a
     * true peak (0.37) above everything; only a right bound finds it. */
    int k = 0;
    for (int j = 2; j < TAPS; j += 4, k++) {
        double m = j - (TAPS - 1) / 2.0;
        double c = fabs(m) > 1e-6 ? sin(m * M_PI / 4) / (m * M_PI / 4) : 1.0;
        x[2 * (RATE * 15 + 10000 + k)] = x[2 * (RATE * 15 + 10000 + k) + 1] = c >= 0 ? 0.2f : -0.2f;
    }
    FILE *spool = tmpfile();
    assert_non_null(spool);
    assert_int_equal(fwrite(x, sizeof *x * 2, (size_t)frames, spool), (size_t)frames);
    fflush(spool);
    struct peak_scan ps = {.channels = 2};
    char err[256];
    for (int at = 0; at < frames; at += 1000)
        assert_int_equal(peak_scan_add(&ps, x + 2 * at, frames - at < 1000 ? frames - at : 1000, err, sizeof err), 0);
    double scanned;
    assert_int_equal(peak_scan_true_peak(&ps, spool, RATE, &scanned, err, sizeof err), 0);

    ebur128_state *st = ebur128_init(2, RATE, EBUR128_MODE_TRUE_PEAK);
    ebur128_add_frames_float(st, x, (size_t)frames);
    double a, b;
    ebur128_true_peak(st, 0, &a);
    ebur128_true_peak(st, 1, &b);
    ebur128_destroy(&st);
    double full = 20 * log10(a > b ? a : b);
    assert_true(fabs(scanned - full) < 1e-9);
    peak_scan_free(&ps);
    fclose(spool);
    free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_is_libebur128s),
        cmocka_unit_test(test_selective_equals_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
