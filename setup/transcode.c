#include "transcode.h"

#include "decode.h"
#include "err.h"
#include "loudness.h"
#include "segmenter.h"
#include "text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavformat/avformat.h>

static int check_params(const struct tc_params *p, char *err, size_t errlen)
{
    if (p->channels < 1 || p->channels > 2)
        return err_set(err, errlen, "station channels must be 1 or 2, not %d", p->channels);
    if (p->sample_rate <= 0)
        return err_set(err, errlen, "invalid station sample rate %d", p->sample_rate);
    if (p->bitrate <= 0)
        return err_set(err, errlen, "invalid bitrate %d", p->bitrate);
    if (!isfinite(p->segment_seconds) || p->segment_seconds <= 0)
        return err_set(err, errlen, "invalid segment length %g s", p->segment_seconds);
    if (!isfinite(p->min_tail_seconds) || p->min_tail_seconds < 0)
        return err_set(err, errlen, "invalid shortest tail %g s", p->min_tail_seconds);
    if (p->normalize && (!isfinite(p->target_lufs) || !isfinite(p->true_peak_dbtp)))
        return err_set(err, errlen, "invalid loudness target or true-peak ceiling");
    return 0;
}

/* ---- tags ---------------------------------------------------------------- */

static const char *find_tag(const AVFormatContext *fmt, int stream, const char *key)
{
    /* av_dict_get matches keys case-insensitively by default. */
    const AVDictionaryEntry *e = av_dict_get(fmt->metadata, key, NULL, 0);
    if ((!e || !e->value[0]) && stream >= 0)
        e = av_dict_get(fmt->streams[stream]->metadata, key, NULL, 0);
    return e && e->value[0] ? e->value : NULL;
}

static void read_tags(const AVFormatContext *fmt, int stream, char *artist, size_t alen,
                      char *title, size_t tlen)
{
    const char *a = find_tag(fmt, stream, "artist");
    if (!a)
        a = find_tag(fmt, stream, "album_artist");
    text_one_line(artist, alen, a);
    text_one_line(title, tlen, find_tag(fmt, stream, "title"));
}

int tc_probe_tags(const char *path, char *artist, size_t alen, char *title, size_t tlen,
                  char *err, size_t errlen)
{
    text_one_line(artist, alen, NULL);
    text_one_line(title, tlen, NULL);
    AVFormatContext *fmt = NULL;
    if (decode_open_input(&fmt, path, err, errlen) < 0)
        return -1;
    /* Without avformat_find_stream_info nothing is decoded; containers
     * that only learn their streams from packets just offer their own tags. */
    int stream = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    read_tags(fmt, stream, artist, alen, title, tlen);
    avformat_close_input(&fmt);
    return 0;
}

/* ---- the spool: the decoded track, kept on disk between the passes ------- */

/* Frames read back per step: 85 ms at 48 kHz, a few tens of KiB. */
#define SPOOL_FRAMES 4096

/* An unnamed file in dir (or the system's temporary folder): nothing is
 * left behind, whatever happens to the process. */
static FILE *spool_open(const char *dir, char *err, size_t errlen)
{
    if (!dir || !dir[0]) {
        FILE *f = tmpfile();
        if (!f)
            err_env(err, errlen, "temporary file: %s", strerror(errno));
        return f;
    }
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/spool-XXXXXX", dir) >= sizeof path) {
        err_set(err, errlen, "spool folder name too long");
        return NULL;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        err_env(err, errlen, "create %s: %s", path, strerror(errno));
        return NULL;
    }
    unlink(path);
    FILE *f = fdopen(fd, "w+b");
    if (!f) {
        err_env(err, errlen, "open spool: %s", strerror(errno));
        close(fd);
    }
    return f;
}

static int spool_write(FILE *f, const float *x, int frames, int channels, char *err, size_t errlen)
{
    size_t n = (size_t)frames * (size_t)channels;
    if (fwrite(x, sizeof *x, n, f) != n)
        return err_env(err, errlen, "write spool: %s", strerror(errno ? errno : EIO));
    return 0;
}

/* ---- passes -------------------------------------------------------------- */

/* Where the sound is: the first sample frame above the silence
 * threshold, the end of the last one, and how many frames are silent. */
struct sound_span {
    int64_t first, end, silent;
};

static void find_sound(const float *x, int channels, int n, int64_t at, float thr, struct sound_span *sp)
{
    for (int i = 0; i < n; i++) {
        int loud = 0;
        for (int c = 0; c < channels; c++)
            if (fabsf(x[(size_t)i * channels + c]) >= thr)
                loud = 1;
        if (!loud) {
            sp->silent++;
            continue;
        }
        if (sp->first < 0)
            sp->first = at + i;
        sp->end = at + i + 1;
    }
}

/* First pass: the loudness of exactly the samples the second pass will
 * encode, and where the sound starts and ends, measured without holding
 * the track in memory. */
static int measure_loudness(const char *path, const struct tc_params *p, double *lufs,
                            double *true_peak, int64_t *samples, struct sound_span *sp,
                            FILE *spool, struct tc_result *out, char *err, size_t errlen)
{
    struct decode_src *src = NULL;
    struct loud_meter *meter = NULL;
    int ret = -1;
    float thr = (float)pow(10.0, p->silence_dbfs / 20.0);

    *samples = 0;
    *sp = (struct sound_span){-1, 0, 0};
    if ((ret = decode_open(&src, path, p->sample_rate, p->channels, AV_SAMPLE_FMT_FLT,
                           err, errlen)) < 0)
        goto done;
    /* A mono station is heard on two speakers: BS.1770 counts its one
     * channel twice, or mono tracks would play about 3 dB loud. */
    if (p->normalize) {
        meter = loud_new(p->channels, p->sample_rate, LOUD_TRUE_PEAK | LOUD_DUAL_MONO, err, errlen);
        if (!meter) {
            ret = ERR_ENVIRONMENT;
            goto done;
        }
    }
    for (;;) {
        uint8_t **data;
        int n;
        if ((ret = decode_next(src, &data, &n, err, errlen)) < 0)
            goto done;
        if (n == 0)
            break;
        if (meter && loud_add(meter, (const float *)data[0], (size_t)n, err, errlen) < 0) {
            ret = ERR_ENVIRONMENT;
            goto done;
        }
        find_sound((const float *)data[0], p->channels, n, *samples, thr, sp);
        if (spool && (ret = spool_write(spool, (const float *)data[0], n, p->channels, err, errlen)) < 0)
            goto done;
        *samples += n;
    }
    if (spool) {
        if (fflush(spool) != 0) {
            ret = err_env(err, errlen, "write spool: %s", strerror(errno));
            goto done;
        }
        read_tags(decode_format(src), decode_stream_index(src), out->artist, sizeof out->artist, out->title,
                  sizeof out->title);
        decode_damage(src, &out->decode_errors, &out->lost_seconds);
    }
    if (meter) {
        *lufs = loud_integrated(meter);
        *true_peak = loud_true_peak_db(meter);
        /* A jingle under one 400 ms gating block has no integrated
         * loudness; the whole clip, ungated, stands in for it. */
        int64_t ms = *samples * 1000 / p->sample_rate;
        if (!isfinite(*lufs) && ms > 0 && ms < LOUD_BLOCK_MS)
            *lufs = loud_window(meter, (unsigned long)ms);
    }
    ret = 0;
done:
    loud_free(meter);
    decode_close(&src);
    return ret;
}

static void apply_gain(uint8_t **planes, int channels, int nb_samples, float gain)
{
    for (int c = 0; c < channels; c++) {
        float *s = (float *)planes[c];
        for (int i = 0; i < nb_samples; i++)
            s[i] *= gain;
    }
}

/* ---- what listeners hear: the AAC decoded, its true peak ---------------- */

struct tp_probe {
    AVCodecContext *dec;
    AVFrame *frame;
    struct loud_meter *meter;
    float *buf;
    int cap;
};

static void probe_free(struct tp_probe *pr)
{
    avcodec_free_context(&pr->dec);
    av_frame_free(&pr->frame);
    loud_free(pr->meter);
    free(pr->buf);
    memset(pr, 0, sizeof *pr);
}

static int probe_open(struct tp_probe *pr, const AVCodecParameters *par, int channels, int rate, char *err,
                      size_t errlen)
{
    memset(pr, 0, sizeof *pr);
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return err_env(err, errlen, "no AAC decoder");
    if (!(pr->dec = avcodec_alloc_context3(codec)) || !(pr->frame = av_frame_alloc()))
        return err_env(err, errlen, "out of memory");
    int ret = avcodec_parameters_to_context(pr->dec, par);
    if (ret >= 0) {
        pr->dec->thread_count = 1;
        ret = avcodec_open2(pr->dec, codec, NULL);
    }
    if (ret < 0)
        return err_env(err, errlen, "cannot open the AAC decoder");
    if (!(pr->meter = loud_new(channels, rate, LOUD_TRUE_PEAK, err, errlen)))
        return ERR_ENVIRONMENT;
    return 0;
}

static int probe_drain(struct tp_probe *pr, char *err, size_t errlen)
{
    for (;;) {
        int ret = avcodec_receive_frame(pr->dec, pr->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return err_env(err, errlen, "decoding our own AAC failed");
        int n = pr->frame->nb_samples, ch = pr->frame->ch_layout.nb_channels;
        if (n * ch > pr->cap) {
            float *nb = realloc(pr->buf, sizeof *nb * (size_t)(n * ch));
            if (!nb)
                return err_env(err, errlen, "out of memory");
            pr->buf = nb;
            pr->cap = n * ch;
        }
        /* The native AAC decoder gives planar float. */
        for (int c = 0; c < ch; c++) {
            const float *src = (const float *)pr->frame->extended_data[c];
            for (int i = 0; i < n; i++)
                pr->buf[(size_t)i * ch + c] = src[i];
        }
        av_frame_unref(pr->frame);
        if (loud_add(pr->meter, pr->buf, (size_t)n, err, errlen) < 0)
            return ERR_ENVIRONMENT;
    }
}

static int probe_packet(void *ctx, const AVPacket *pkt, char *err, size_t errlen)
{
    struct tp_probe *pr = ctx;
    if (avcodec_send_packet(pr->dec, pkt) < 0)
        return err_env(err, errlen, "decoding our own AAC failed");
    return probe_drain(pr, err, errlen);
}

/* The next chunk of the spool, planar. */
static int spool_next(FILE *f, float *inter, float *planar, int channels, uint8_t **data, int *n,
                      char *err, size_t errlen)
{
    size_t got = fread(inter, sizeof *inter * (size_t)channels, SPOOL_FRAMES, f);
    if (got == 0 && ferror(f))
        return err_env(err, errlen, "read spool: %s", strerror(errno ? errno : EIO));
    for (int c = 0; c < channels; c++) {
        float *dst = planar + (size_t)c * SPOOL_FRAMES;
        for (size_t i = 0; i < got; i++)
            dst[i] = inter[i * (size_t)channels + (size_t)c];
        data[c] = (uint8_t *)dst;
    }
    *n = (int)got;
    return 0;
}

/* Encodes the decoded samples [from, to) (to < 0: to the end): read back
 * from the spool when there is one (tags and damage were read with it),
 * otherwise decoded here. */
static int encode_track(const char *path, const struct tc_params *p, double gain_db, int64_t from, int64_t to,
                        FILE *spool, double *heard_peak, tc_segment_cb on_segment, void *ctx, struct tc_result *out,
                        char *err, size_t errlen)
{
    int64_t at = 0;
    struct decode_src *src = NULL;
    struct segmenter *sg = NULL;
    struct tp_probe probe = {0};
    float *inter = NULL, *planar = NULL;
    uint8_t *spool_planes[AV_NUM_DATA_POINTERS];
    int ret = -1;
    float gain = (float)pow(10.0, gain_db / 20.0);

    if (spool) {
        inter = malloc(sizeof *inter * (size_t)p->channels * SPOOL_FRAMES);
        planar = malloc(sizeof *planar * (size_t)p->channels * SPOOL_FRAMES);
        if (!inter || !planar) {
            ret = err_env(err, errlen, "out of memory");
            goto done;
        }
        rewind(spool);
    } else {
        if ((ret = decode_open(&src, path, p->sample_rate, p->channels, AV_SAMPLE_FMT_FLTP,
                               err, errlen)) < 0)
            goto done;
        read_tags(decode_format(src), decode_stream_index(src), out->artist,
                  sizeof out->artist, out->title, sizeof out->title);
    }
    const struct segmenter_params sp = {p->sample_rate, p->channels, p->bitrate,
                                        p->segment_seconds, p->min_tail_seconds};
    if ((ret = segmenter_open(&sg, &sp, on_segment, ctx, err, errlen)) < 0)
        goto done;
    if (heard_peak) {
        if ((ret = probe_open(&probe, segmenter_codecpar(sg), p->channels, p->sample_rate, err, errlen)) < 0)
            goto done;
        segmenter_watch_packets(sg, probe_packet, &probe);
    }
    for (;;) {
        uint8_t **data = spool_planes;
        int n;
        if (spool)
            ret = spool_next(spool, inter, planar, p->channels, spool_planes, &n, err, errlen);
        else
            ret = decode_next(src, &data, &n, err, errlen);
        if (ret < 0)
            goto done;
        if (n == 0)
            break;
        int64_t lo = from > at ? from - at : 0;
        int64_t hi = to >= 0 && to < at + n ? to - at : n;
        at += n;
        if (hi <= lo)
            continue;
        uint8_t *planes[AV_NUM_DATA_POINTERS];
        for (int c = 0; c < p->channels; c++)
            planes[c] = data[c] + lo * (int64_t)sizeof(float);
        if (gain_db != 0.0)
            apply_gain(planes, p->channels, (int)(hi - lo), gain);
        if ((ret = segmenter_write(sg, planes, (int)(hi - lo), err, errlen)) < 0)
            goto done;
    }
    out->decoded_samples = at;
    if ((ret = segmenter_finish(sg, err, errlen)) < 0)
        goto done;
    if (heard_peak) {
        if (avcodec_send_packet(probe.dec, NULL) < 0 || (ret = probe_drain(&probe, err, errlen)) < 0) {
            ret = ret < 0 ? ret : err_env(err, errlen, "decoding our own AAC failed");
            goto done;
        }
        *heard_peak = loud_true_peak_db(probe.meter);
    }
    if (src)
        decode_damage(src, &out->decode_errors, &out->lost_seconds);
    if (out->lost_seconds > p->max_lost_seconds) {
        ret = err_set(err, errlen, "damaged: %lld decode errors, about %.1f s of audio lost (more than %g s)",
                (long long)out->decode_errors, out->lost_seconds, p->max_lost_seconds);
        goto done;
    }
    out->samples = segmenter_samples(sg);
    out->source_samples = segmenter_source_samples(sg);
    out->duration = (double)out->samples / p->sample_rate;
    out->segments = segmenter_segments(sg);
    ret = 0;
done:
    segmenter_free(&sg);
    probe_free(&probe);
    decode_close(&src);
    free(inter);
    free(planar);
    return ret;
}

int tc_transcode_file(const char *path, const struct tc_params *p,
                      tc_segment_cb on_segment, void *ctx,
                      struct tc_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->measured_lufs = NAN;
    out->measured_true_peak_dbtp = NAN;
    if (check_params(p, err, errlen) < 0)
        return -1;
    if (!on_segment)
        return err_set(err, errlen, "no segment callback");

    int64_t measured_samples = 0, from = 0, to = -1;
    int ret;
    FILE *spool = NULL;
    out->silent_fraction = NAN;
    if (p->normalize || p->trim_silence) {
        /* Decoded once: the first pass keeps what it decoded in the spool,
         * the second reads it back with the gain and the cut it decided. */
        if (!(spool = spool_open(p->spool_dir, err, errlen)))
            return ERR_ENVIRONMENT;
        struct sound_span sp;
        if ((ret = measure_loudness(path, p, &out->measured_lufs, &out->measured_true_peak_dbtp,
                                    &measured_samples, &sp, spool, out, err, errlen)) < 0) {
            fclose(spool);
            return ret;
        }
        if (p->normalize) {
            out->gain_db = loud_gain_for(out->measured_lufs, out->measured_true_peak_dbtp,
                                         p->target_lufs, p->true_peak_dbtp);
            out->normalized = 1;
        }
        /* A track with no sound at all is left whole: the silence report says it. */
        int64_t min = (int64_t)llround(p->silence_min_seconds * p->sample_rate);
        if (p->trim_silence && sp.first >= 0) {
            if (sp.first >= min)
                from = sp.first;
            if (measured_samples - sp.end >= min)
                to = sp.end;
        }
        /* Of what airs: every sample cut was silent. */
        int64_t end = to >= 0 ? to : measured_samples;
        int64_t silent = sp.silent - from - (measured_samples - end);
        out->silent_fraction = end > from ? (double)silent / (double)(end - from) : 0;
        out->trimmed_start = (double)from / p->sample_rate;
        out->trimmed_end = to >= 0 ? (double)(measured_samples - to) / p->sample_rate : 0;
    }
    /* AAC does not keep peaks where they were: a track the ceiling (nearly)
     * decides is decoded as listeners will decode it, and cut again with
     * less gain if its true peak went over. Only then a second pass. */
    out->output_true_peak_dbtp = NAN;
    int check = spool && out->normalized && isfinite(out->measured_true_peak_dbtp) &&
                out->measured_true_peak_dbtp + out->gain_db > p->true_peak_dbtp - p->true_peak_margin_db;
    double heard = NAN;
    ret = encode_track(path, p, out->gain_db, from, to, spool, check ? &heard : NULL, on_segment, ctx, out, err,
                       errlen);
    /* The overshoot does not scale with the gain (the encoder's noise
     * moves), so a cut can still be over: try again, a few times. */
    for (int k = 0; ret == 0 && check && heard > p->true_peak_dbtp && p->on_restart && k < p->true_peak_max_recuts;
         k++) {
        if ((ret = p->on_restart(ctx, err, errlen)) != 0)
            break;
        out->gain_db -= heard - p->true_peak_dbtp;
        out->recut++;
        ret = encode_track(path, p, out->gain_db, from, to, spool, &heard, on_segment, ctx, out, err, errlen);
    }
    out->output_true_peak_dbtp = heard;
    if (spool)
        fclose(spool);
    if (ret < 0)
        return ret;
    /* What was read back is what was measured; a mismatch means the spool
     * lost samples. */
    if (spool && out->decoded_samples != measured_samples)
        return err_env(err, errlen, "spool gave back %lld of %lld samples",
                       (long long)out->decoded_samples, (long long)measured_samples);
    return 0;
}
