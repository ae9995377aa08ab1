#include "true_peak.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The interpolator of BS.1770 Annex 2 as libebur128 builds it. */
#define TP_TAPS 49
#define TP_MAX_FACTOR 4
#define TP_ZERO 0.000001
/* Frames per pass: a constant trip count lets the compiler vectorise the
 * filter at -O2. A multiple of TP_LANES. */
#define TP_CHUNK 256
#define TP_LANES 8
/* The longest delay any factor's phases use (2x: 24 samples). */
#define TP_HIST ((TP_TAPS - 1) / 2)

struct tp_phase {
    int count;
    int delay[TP_TAPS];
    float coeff[TP_TAPS];
};

struct true_peak {
    int channels, factor;
    struct tp_phase phase[TP_MAX_FACTOR];
    float *buf;    /* per channel: hist samples of history, then a chunk */
    double *peak;  /* per channel */
};

static int factor_for(int sample_rate)
{
    if (sample_rate < 96000)
        return 4;
    return sample_rate < 192000 ? 2 : 1;
}

static void build_filter(struct true_peak *tp)
{
    for (int j = 0; j < TP_TAPS; j++) {
        double m = j - (TP_TAPS - 1) / 2.0, c = 1.0;
        if (fabs(m) > TP_ZERO)
            c = sin(m * M_PI / tp->factor) / (m * M_PI / tp->factor);
        c *= 0.5 * (1 - cos(2 * M_PI * j / (TP_TAPS - 1)));
        if (fabs(c) <= TP_ZERO)
            continue;
        struct tp_phase *p = &tp->phase[j % tp->factor];
        p->delay[p->count] = j / tp->factor;
        p->coeff[p->count++] = (float)c;
    }
}

struct true_peak *true_peak_new(int channels, int sample_rate)
{
    if (channels < 1 || sample_rate < 1)
        return NULL;
    struct true_peak *tp = calloc(1, sizeof *tp);
    if (!tp)
        return NULL;
    tp->channels = channels;
    tp->factor = factor_for(sample_rate);
    build_filter(tp);
    tp->buf = calloc((size_t)channels * (TP_HIST + TP_CHUNK), sizeof *tp->buf);
    tp->peak = calloc((size_t)channels, sizeof *tp->peak);
    if (!tp->buf || !tp->peak) {
        true_peak_free(tp);
        return NULL;
    }
    return tp;
}

void true_peak_free(struct true_peak *tp)
{
    if (!tp)
        return;
    free(tp->buf);
    free(tp->peak);
    free(tp);
}

/* The largest |v[n]| of a full chunk, in lanes the compiler can keep in
 * vector registers. */
static float chunk_max(const float *v)
{
    float lane[TP_LANES] = {0};
    for (int n = 0; n < TP_CHUNK; n += TP_LANES)
        for (int l = 0; l < TP_LANES; l++) {
            float a = fabsf(v[n + l]);
            lane[l] = a > lane[l] ? a : lane[l];
        }
    float m = 0;
    for (int l = 0; l < TP_LANES; l++)
        m = lane[l] > m ? lane[l] : m;
    return m;
}

/* One channel's chunk: x holds TP_HIST samples of history, then `valid`
 * new ones (the rest of the chunk is left over and ignored). */
static float channel_chunk(const struct true_peak *tp, const float *x, int valid)
{
    float out[TP_CHUNK], best = 0;
    for (int f = 0; f < tp->factor; f++) {
        const struct tp_phase *p = &tp->phase[f];
        memset(out, 0, sizeof out);
        for (int t = 0; t < p->count; t++) {
            const float c = p->coeff[t], *src = x + TP_HIST - p->delay[t];
            for (int n = 0; n < TP_CHUNK; n++)
                out[n] += c * src[n];
        }
        for (int n = valid; n < TP_CHUNK; n++)
            out[n] = 0;
        float m = chunk_max(out);
        best = m > best ? m : best;
    }
    return best;
}

void true_peak_add(struct true_peak *tp, const float *in, size_t nframes)
{
    const int ch = tp->channels;
    while (nframes > 0) {
        int valid = nframes < TP_CHUNK ? (int)nframes : TP_CHUNK;
        for (int c = 0; c < ch; c++) {
            float *x = tp->buf + (size_t)c * (TP_HIST + TP_CHUNK), sample = 0;
            for (int n = 0; n < valid; n++) {
                float v = in[(size_t)n * ch + c];
                x[TP_HIST + n] = v;
                sample = fabsf(v) > sample ? fabsf(v) : sample;
            }
            /* The last samples never reach the filter's centre tap. */
            float m = channel_chunk(tp, x, valid);
            m = sample > m ? sample : m;
            if (m > tp->peak[c])
                tp->peak[c] = m;
            /* The newest TP_HIST samples are the next chunk's history. */
            memmove(x, x + valid, TP_HIST * sizeof *x);
        }
        in += (size_t)valid * ch;
        nframes -= (size_t)valid;
    }
}

double true_peak_channel(const struct true_peak *tp, int channel)
{
    if (channel < 0 || channel >= tp->channels)
        return 0;
    return tp->peak[channel];
}
