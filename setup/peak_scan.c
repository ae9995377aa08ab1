#include "peak_scan.h"

#include "err.h"
#include "loudness.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libebur128's interpolator (ebur128.c, interp_create): 49 taps of a
 * Hann-windowed sinc, 4x below 96 kHz, 2x below 192 kHz. The unit test
 * checks the bound against the library itself. */
#define PEAK_SCAN_TAPS 49

double peak_scan_bound(int rate)
{
    int factor = rate < 96000 ? 4 : rate < 192000 ? 2 : 0;
    if (!factor)
        return 0;
    double best = 0;
    for (int k = 0; k < factor; k++) {
        double sum = 0;
        for (int j = k; j < PEAK_SCAN_TAPS; j += factor) {
            double m = j - (PEAK_SCAN_TAPS - 1) / 2.0;
            double c = fabs(m) > 1e-6 ? sin(m * M_PI / factor) / (m * M_PI / factor) : 1.0;
            c *= 0.5 * (1 - cos(2 * M_PI * j / (PEAK_SCAN_TAPS - 1)));
            sum += fabs(c);
        }
        if (sum > best)
            best = sum;
    }
    return best;
}

int peak_scan_add(struct peak_scan *ps, const float *x, int frames, char *err, size_t errlen)
{
    for (int i = 0; i < frames; i++, ps->frames++) {
        size_t b = (size_t)(ps->frames / PEAK_SCAN_BLOCK);
        if (b >= ps->n) {
            if (b >= ps->cap) {
                size_t cap = ps->cap ? ps->cap * 2 : 1024;
                float *np = realloc(ps->peak, cap * sizeof *np);
                if (!np)
                    return err_env(err, errlen, "out of memory");
                ps->peak = np;
                ps->cap = cap;
            }
            ps->peak[b] = 0;
            ps->n = b + 1;
        }
        for (int c = 0; c < ps->channels; c++) {
            float v = fabsf(x[(size_t)i * ps->channels + c]);
            if (v > ps->peak[b])
                ps->peak[b] = v;
        }
    }
    return 0;
}

/* Feeds blocks [first, last] to a fresh meter; *max gets its true peak. */
static int measure_run(FILE *spool, const struct peak_scan *ps, size_t first, size_t last, int rate, float *buf,
                       double *max, char *err, size_t errlen)
{
    struct loud_meter *m = loud_new(ps->channels, rate, LOUD_TRUE_PEAK, err, errlen);
    if (!m)
        return ERR_ENVIRONMENT;
    int rc = 0;
    if (fseeko(spool, (off_t)first * PEAK_SCAN_BLOCK * ps->channels * (off_t)sizeof(float), SEEK_SET) != 0)
        rc = err_env(err, errlen, "seek spool: %s", strerror(errno));
    for (size_t b = first; rc == 0 && b <= last; b++) {
        size_t got = fread(buf, sizeof *buf * (size_t)ps->channels, PEAK_SCAN_BLOCK, spool);
        if (got == 0 && ferror(spool))
            rc = err_env(err, errlen, "read spool: %s", strerror(errno ? errno : EIO));
        else if (got && loud_add(m, buf, got, err, errlen) != 0)
            rc = ERR_ENVIRONMENT;
    }
    if (rc == 0) {
        double tp = loud_true_peak_db(m);
        if (tp > *max)
            *max = tp;
    }
    loud_free(m);
    return rc;
}

int peak_scan_true_peak(const struct peak_scan *ps, FILE *spool, int rate, double *dbtp, char *err, size_t errlen)
{
    *dbtp = -INFINITY;
    float top = 0;
    for (size_t b = 0; b < ps->n; b++)
        if (ps->peak[b] > top)
            top = ps->peak[b];
    if (top <= 0)
        return 0;
    double bound = peak_scan_bound(rate);
    if (bound <= 0) {
        *dbtp = 20 * log10(top);
        return 0;
    }
    float *buf = malloc(sizeof *buf * (size_t)ps->channels * PEAK_SCAN_BLOCK);
    if (!buf)
        return err_env(err, errlen, "out of memory");
    int rc = 0;
    for (size_t b = 0; rc == 0 && b < ps->n;) {
        if ((double)ps->peak[b] * bound < top) {
            b++;
            continue;
        }
        size_t end = b;
        while (end + 1 < ps->n && (double)ps->peak[end + 1] * bound >= top)
            end++;
        /* One block each side: the interpolator needs the audio around. */
        rc = measure_run(spool, ps, b ? b - 1 : 0, end + 1 < ps->n ? end + 1 : end, rate, buf, dbtp, err, errlen);
        b = end + 1;
    }
    free(buf);
    return rc;
}

void peak_scan_free(struct peak_scan *ps)
{
    free(ps->peak);
    memset(ps, 0, sizeof *ps);
}
