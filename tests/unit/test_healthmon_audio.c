/* Decoding and measuring segments in memory. Signals are synthesised here
 * as WAV bytes, so the expected values follow from the maths (EBU Tech
 * 3341 test signals); tests/integration/test_healthmon_loudness.py checks
 * the same meter against ffmpeg's on real AAC segments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "audio_cache.h"

#include <libavutil/log.h>

#define RATE 48000
#define WAV_FLOAT 3
#define WAV_PCM 1

/* Short-term read every 0.1 s, as an EBU meter shows it. */
static const struct hm_audio_params PARAMS = {1, 0.1, -50.0, -0.1, 3};

typedef double (*signal_fn)(double t, int ch, void *ctx);

struct wav {
    uint8_t *p;
    size_t len;
};

static void le(uint8_t *p, uint32_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* seconds of fn at RATE, `channels` channels, as 32-bit float (or 16-bit
 * integer) WAV bytes. */
static struct wav make_wav(signal_fn fn, void *ctx, double seconds, int channels, int fmt)
{
    size_t frames = (size_t)(seconds * RATE);
    int bytes = fmt == WAV_FLOAT ? 4 : 2;
    size_t data = frames * (size_t)channels * (size_t)bytes;
    struct wav w = {calloc(1, 44 + data), 44 + data};
    memcpy(w.p, "RIFF", 4);
    le(w.p + 4, (uint32_t)(36 + data), 4);
    memcpy(w.p + 8, "WAVEfmt ", 8);
    le(w.p + 16, 16, 4);
    le(w.p + 20, (uint32_t)fmt, 2);
    le(w.p + 22, (uint32_t)channels, 2);
    le(w.p + 24, RATE, 4);
    le(w.p + 28, (uint32_t)(RATE * channels * bytes), 4);
    le(w.p + 32, (uint32_t)(channels * bytes), 2);
    le(w.p + 34, (uint32_t)(bytes * 8), 2);
    memcpy(w.p + 36, "data", 4);
    le(w.p + 40, (uint32_t)data, 4);
    uint8_t *o = w.p + 44;
    for (size_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++) {
            double v = fn((double)i / RATE, c, ctx);
            if (fmt == WAV_FLOAT) {
                float f = (float)v;
                memcpy(o, &f, 4);
                o += 4;
            } else {
                double s = fmax(-32768, fmin(32767, round(v * 32768)));
                le(o, (uint32_t)(int32_t)s, 2);
                o += 2;
            }
        }
    return w;
}

static int analyze(struct wav *w, size_t n, struct hm_audio_segment *seg, struct hm_audio_result *r)
{
    struct hm_audio_input in[4];
    for (size_t i = 0; i < n; i++) {
        in[i].data = w[i].p;
        in[i].len = w[i].len;
    }
    char err[512];
    return hm_audio_analyze(&PARAMS, in, n, seg, r, err, sizeof err);
}

static double sine_1k(double t, int ch, void *ctx)
{
    (void)ch;
    double amp = *(double *)ctx;
    return amp * sin(2 * M_PI * 1000 * t);
}

static double silence(double t, int ch, void *ctx)
{
    (void)t, (void)ch, (void)ctx;
    return 0;
}

/* Deterministic white noise: a 64-bit LCG, scaled to +-amp. */
struct noise {
    uint64_t state;
    double amp;
};
static double noise(double t, int ch, void *ctx)
{
    (void)t, (void)ch;
    struct noise *n = ctx;
    n->state = n->state * 6364136223846793005ULL + 1442695040888963407ULL;
    return n->amp * ((double)(n->state >> 11) / 9007199254740992.0 * 2 - 1);
}

/* A chord with a slow tremolo: music-like, not a bare sine. */
static double chord(double t, int ch, void *ctx)
{
    (void)ctx;
    double a = 0.1 * (0.6 + 0.4 * sin(2 * M_PI * 0.5 * t));
    return a * (sin(2 * M_PI * 220 * t) + 0.6 * sin(2 * M_PI * 277.2 * t + ch) +
                0.5 * sin(2 * M_PI * 329.6 * t));
}

static double chord_with_gap(double t, int ch, void *ctx)
{
    double *gap = ctx;
    return t >= gap[0] && t < gap[1] ? 0 : chord(t, ch, NULL);
}

static double clipped(double t, int ch, void *ctx)
{
    (void)ch, (void)ctx;
    return fmax(-1.0, fmin(1.0, 2.0 * sin(2 * M_PI * 440 * t)));
}

static void sine_at_minus_23_dbfs_in_stereo_measures_minus_23_lufs(void **state)
{
    (void)state;
    double amp = pow(10, -23.0 / 20);
    struct wav w = make_wav(sine_1k, &amp, 6.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(seg.decoded);
    assert_int_equal(r.channels, 2);
    assert_int_equal(r.sample_rate, RATE);
    if (fabs(r.integrated_lufs - -23.0) > 0.1)
        fail_msg("integrated %.3f LUFS, want -23.0 +- 0.1", r.integrated_lufs);
    if (fabs(r.short_term_lufs - -23.0) > 0.1)
        fail_msg("short-term %.3f LUFS, want -23.0 +- 0.1", r.short_term_lufs);
    if (fabs(r.sample_peak_dbfs - -23.0) > 0.01)
        fail_msg("sample peak %.3f dBFS, want -23.0", r.sample_peak_dbfs);
    if (fabs(r.true_peak_dbtp - -23.0) > 0.1)
        fail_msg("true peak %.3f dBTP, want -23.0", r.true_peak_dbtp);
    /* RMS of a sine is 3 dB below its peak. */
    if (fabs(r.rms_dbfs - -26.01) > 0.02)
        fail_msg("rms %.3f dBFS, want -26.01", r.rms_dbfs);
    assert_true(r.silent_seconds == 0);
    assert_int_equal(r.clips, 0);
    free(w.p);
}

static void true_peak_is_left_out_unless_asked_for(void **state)
{
    (void)state;
    double amp = pow(10, -6.0 / 20);
    struct wav w = make_wav(sine_1k, &amp, 2.0, 2, WAV_FLOAT);
    struct hm_audio_input in = {w.p, w.len};
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    struct hm_audio_params p = PARAMS;
    p.true_peak = 0;
    char err[256];
    assert_int_equal(hm_audio_analyze(&p, &in, 1, &seg, &r, err, sizeof err), 0);
    assert_true(isnan(r.true_peak_dbtp));
    assert_true(fabs(r.sample_peak_dbfs - -6.0) < 0.01);
    free(w.p);
}

static void digital_silence_is_flagged_as_silent_for_its_whole_length(void **state)
{
    (void)state;
    struct wav w = make_wav(silence, NULL, 6.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(fabs(r.silent_seconds - 6.0) < 0.01);
    assert_true(isinf(r.integrated_lufs) && r.integrated_lufs < 0);
    assert_true(isinf(r.rms_dbfs));
    free(w.p);
}

static void very_quiet_noise_is_flagged_as_silent(void **state)
{
    (void)state;
    struct noise n = {42, pow(10, -66.0 / 20)};
    struct wav w = make_wav(noise, &n, 6.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(r.short_term_max_lufs < -50);
    assert_true(r.short_term_max_lufs > -80);   /* noise, not digital silence */
    assert_true(fabs(r.silent_seconds - 6.0) < 0.01);
    free(w.p);
}

static void music_is_not_silent(void **state)
{
    (void)state;
    struct wav w = make_wav(chord, NULL, 6.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(r.silent_seconds == 0);
    assert_true(r.integrated_lufs > -30 && r.integrated_lufs < -10);
    free(w.p);
}

static void short_pause_between_tracks_is_not_dead_air(void **state)
{
    (void)state;
    double gap[2] = {5.0, 7.0};
    struct wav w = make_wav(chord_with_gap, gap, 12.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(r.silent_seconds < 5.0);
    free(w.p);

    /* A long one is: silence from 3 s to 12 s. */
    double longgap[2] = {3.0, 12.0};
    w = make_wav(chord_with_gap, longgap, 12.0, 2, WAV_FLOAT);
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    if (fabs(r.silent_seconds - 9.0) > 0.35)
        fail_msg("silent %.2f s, want about 9", r.silent_seconds);
    free(w.p);
}

static void silence_spanning_two_segments_is_measured_as_one_stretch(void **state)
{
    (void)state;
    double end_gap[2] = {3.0, 6.0}, start_gap[2] = {0.0, 3.0};
    struct wav w[2] = {make_wav(chord_with_gap, end_gap, 6.0, 2, WAV_FLOAT),
                       make_wav(chord_with_gap, start_gap, 6.0, 2, WAV_FLOAT)};
    struct hm_audio_segment seg[2];
    struct hm_audio_result r;
    assert_int_equal(analyze(w, 2, seg, &r), 0);
    assert_true(seg[0].decoded && seg[1].decoded);
    assert_true(fabs(r.seconds - 12.0) < 0.01);
    if (fabs(r.silent_seconds - 6.0) > 0.35)
        fail_msg("silent %.2f s across the boundary, want about 6", r.silent_seconds);
    free(w[0].p);
    free(w[1].p);
}

static void coarser_short_term_step_finds_the_same_silence(void **state)
{
    (void)state;
    double longgap[2] = {3.0, 12.0};
    struct wav w = make_wav(chord_with_gap, longgap, 12.0, 2, WAV_FLOAT);
    struct hm_audio_input in = {w.p, w.len};
    struct hm_audio_segment seg;
    struct hm_audio_result fine, coarse;
    struct hm_audio_params p = PARAMS;
    char err[256];
    assert_int_equal(hm_audio_analyze(&p, &in, 1, &seg, &fine, err, sizeof err), 0);
    p.short_term_step = 0.5;
    assert_int_equal(hm_audio_analyze(&p, &in, 1, &seg, &coarse, err, sizeof err), 0);
    if (fabs(fine.silent_seconds - coarse.silent_seconds) > 0.5)
        fail_msg("silent %.2f s at 0.1 s steps, %.2f s at 0.5 s", fine.silent_seconds,
                 coarse.silent_seconds);
    /* Loudness itself does not depend on how often it is read. */
    assert_true(fine.integrated_lufs == coarse.integrated_lufs);
    free(w.p);
}

static void clipped_audio_is_counted_and_clean_audio_is_not(void **state)
{
    (void)state;
    struct wav w = make_wav(clipped, NULL, 1.0, 2, WAV_FLOAT);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    /* Two flat tops per cycle per channel: 440 * 2 * 2. */
    assert_int_equal(r.clips, 1760);
    free(w.p);
    double amp = pow(10, -1.0 / 20);
    w = make_wav(sine_1k, &amp, 1.0, 2, WAV_FLOAT);
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_int_equal(r.clips, 0);
    free(w.p);
}

static void integer_pcm_is_converted_and_measured(void **state)
{
    (void)state;
    double amp = pow(10, -23.0 / 20);
    struct wav w = make_wav(sine_1k, &amp, 6.0, 2, WAV_PCM);
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    assert_int_equal(analyze(&w, 1, &seg, &r), 0);
    assert_true(fabs(r.integrated_lufs - -23.0) < 0.1);
    free(w.p);
}

static void garbage_empty_and_truncated_inputs_are_reported_not_fatal(void **state)
{
    (void)state;
    double amp = 0.1;
    struct wav good = make_wav(sine_1k, &amp, 4.0, 2, WAV_FLOAT);
    struct wav junk = {malloc(50000), 50000};
    for (size_t i = 0; i < junk.len; i++)
        junk.p[i] = (uint8_t)(i * 131 + 7);
    struct wav empty = {good.p, 0};
    struct wav header_only = {good.p, 44};
    struct wav ins[4] = {junk, empty, header_only, good};
    struct hm_audio_segment seg[4];
    struct hm_audio_result r;
    assert_int_equal(analyze(ins, 4, seg, &r), 0);
    assert_false(seg[0].decoded);
    assert_true(seg[0].error[0] != '\0');
    assert_false(seg[1].decoded);
    assert_false(seg[2].decoded);
    assert_true(seg[3].decoded);
    assert_true(fabs(r.seconds - 4.0) < 0.01);

    /* Cut mid-sample: what is there is measured. */
    struct wav half = {good.p, good.len / 2 + 3};
    assert_int_equal(analyze(&half, 1, seg, &r), 0);
    assert_true(fabs(r.seconds - 2.0) < 0.01);

    /* Nothing decodable at all is an error with a reason. */
    char err[512] = "";
    struct hm_audio_input in = {junk.p, junk.len};
    assert_int_not_equal(hm_audio_analyze(&PARAMS, &in, 1, seg, &r, err, sizeof err), 0);
    assert_true(err[0] != '\0');
    free(good.p);
    free(junk.p);
}

struct cache_job {
    struct hm_audio_cache *cache;
    const char *key;
    struct hm_audio_input in;
    struct hm_audio_segment seg;
    struct hm_audio_result r;
    int shared, rc;
};

static void *cache_job(void *arg)
{
    struct cache_job *j = arg;
    char err[256];
    j->rc = hm_audio_cache_analyze(j->cache, j->key, &PARAMS, &j->in, 1, &j->seg, &j->r, &j->shared,
                                   err, sizeof err);
    return NULL;
}

static void identical_verified_audio_is_measured_once_for_all_gateways(void **state)
{
    (void)state;
    struct wav w = make_wav(chord, NULL, 4.0, 2, WAV_FLOAT);
    struct hm_audio_cache *cache = hm_audio_cache_new(4);
    enum { GATEWAYS = 3 };
    struct cache_job jobs[GATEWAYS];
    pthread_t th[GATEWAYS];
    for (int i = 0; i < GATEWAYS; i++) {
        jobs[i] = (struct cache_job){.cache = cache, .key = "bafkreiaaa+bafkreibbb", .in = {w.p, w.len}};
        assert_int_equal(pthread_create(&th[i], NULL, cache_job, &jobs[i]), 0);
    }
    int shared = 0;
    for (int i = 0; i < GATEWAYS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
        shared += jobs[i].shared;
        assert_true(jobs[i].r.integrated_lufs == jobs[0].r.integrated_lufs);
        assert_true(jobs[i].seg.decoded);
    }
    assert_int_equal(shared, GATEWAYS - 1);

    /* Another key, or none (unverified bytes), is measured on its own. */
    struct cache_job other = {.cache = cache, .key = "bafkreiccc", .in = {w.p, w.len}};
    cache_job(&other);
    assert_false(other.shared);
    struct cache_job unverified = {.cache = cache, .in = {w.p, w.len}};
    cache_job(&unverified);
    assert_false(unverified.shared);
    /* A failure is remembered like a result: the bytes will not change. */
    struct cache_job junk = {.cache = cache, .key = "bafkreijunk", .in = {(const uint8_t *)"junk", 4}};
    cache_job(&junk);
    struct cache_job junk2 = junk;
    cache_job(&junk2);
    assert_int_not_equal(junk2.rc, 0);
    assert_true(junk2.shared);
    hm_audio_cache_free(cache);
    free(w.p);
}

int main(void)
{
    /* The decoder's complaints about the junk inputs are expected. */
    av_log_set_level(AV_LOG_QUIET);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sine_at_minus_23_dbfs_in_stereo_measures_minus_23_lufs),
        cmocka_unit_test(true_peak_is_left_out_unless_asked_for),
        cmocka_unit_test(digital_silence_is_flagged_as_silent_for_its_whole_length),
        cmocka_unit_test(very_quiet_noise_is_flagged_as_silent),
        cmocka_unit_test(music_is_not_silent),
        cmocka_unit_test(short_pause_between_tracks_is_not_dead_air),
        cmocka_unit_test(silence_spanning_two_segments_is_measured_as_one_stretch),
        cmocka_unit_test(coarser_short_term_step_finds_the_same_silence),
        cmocka_unit_test(clipped_audio_is_counted_and_clean_audio_is_not),
        cmocka_unit_test(integer_pcm_is_converted_and_measured),
        cmocka_unit_test(garbage_empty_and_truncated_inputs_are_reported_not_fatal),
        cmocka_unit_test(identical_verified_audio_is_measured_once_for_all_gateways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
