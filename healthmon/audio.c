#include "audio.h"

#include "loudness.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* libavformat reads through this buffer; its size only trades memory for
 * calls and has no effect on results. */
#define AVIO_BUFFER_BYTES 32768
/* A demuxer that keeps failing without advancing must not spin forever. */
#define MAX_CONSECUTIVE_READ_ERRORS 64
/* EBU Tech 3341: short-term loudness is a 3 s window. */
#define SHORT_TERM_WINDOW_S 3.0
/* ITU-R BS.1770: integrated loudness is gated over 400 ms blocks. */
#define GATING_BLOCK_S 0.4
/* Containers a segment can come in. Formats that open other files or
 * URLs (playlists, concat) are not among them: segment bytes are untrusted. */
#define SEGMENT_FORMATS "mpegts,aac,mp3,mov,ogg,flac,wav,matroska"

struct membuf {
    const uint8_t *p;
    size_t len, pos;
};

static int mem_read(void *opaque, uint8_t *buf, int size)
{
    struct membuf *m = opaque;
    if (m->pos >= m->len)
        return AVERROR_EOF;
    size_t n = m->len - m->pos;
    if (n > (size_t)size)
        n = (size_t)size;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    struct membuf *m = opaque;
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return (int64_t)m->len;
    case SEEK_SET: base = 0; break;
    case SEEK_CUR: base = (int64_t)m->pos; break;
    case SEEK_END: base = (int64_t)m->len; break;
    default: return AVERROR(EINVAL);
    }
    if (off > (int64_t)m->len - base || off < -base)
        return AVERROR(EINVAL);
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

/* No demuxer gets to open anything besides the bytes we hand it. */
static int refuse_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                       AVDictionary **options)
{
    (void)s, (void)pb, (void)url, (void)flags, (void)options;
    return AVERROR(EPERM);
}

struct analyzer {
    const struct hm_audio_params *p;
    struct loud_meter *m;
    int rate, channels;
    float *buf;
    size_t bufcap;           /* floats */
    int64_t frames, next_point, step, window, last_point;
    double sumsq;
    double nsamples;
    double clip_level;
    int *clip_run;
    long clips;
    double st_last, st_min, st_max;
    int st_count;
    int in_silence;
    double silence_from, longest_silence;
};

static void analyzer_reset(struct analyzer *a)
{
    loud_free(a->m);
    free(a->clip_run);
    a->m = NULL;
    a->clip_run = NULL;
    a->rate = a->channels = 0;
    a->frames = 0;
    a->sumsq = a->nsamples = 0;
    a->clips = 0;
    a->st_last = a->st_min = a->st_max = NAN;
    a->st_count = 0;
    a->in_silence = 0;
    a->silence_from = a->longest_silence = 0;
}

static int analyzer_start(struct analyzer *a, int rate, int channels, char *err, size_t errlen)
{
    analyzer_reset(a);
    a->m = loud_new(channels, rate, LOUD_SHORT_TERM | (a->p->true_peak ? LOUD_TRUE_PEAK : 0u), err,
                    errlen);
    if (!a->m)
        return -1;
    a->clip_run = calloc((size_t)channels, sizeof *a->clip_run);
    if (!a->clip_run)
        return err_set(err, errlen, "out of memory");
    a->rate = rate;
    a->channels = channels;
    a->step = (int64_t)(a->p->short_term_step * rate);
    if (a->step < 1)
        a->step = 1;
    a->window = (int64_t)(SHORT_TERM_WINDOW_S * rate);
    a->next_point = a->step;
    a->last_point = -1;
    return 0;
}

/* A short-term value at time t covers [t - 3 s, t]; a run of values below
 * the floor is silence from the start of its first window to its last. */
static void short_term_point(struct analyzer *a)
{
    if (a->frames < a->window)
        return;
    double t = (double)a->frames / a->rate;
    double st = loud_short_term(a->m);
    a->st_last = st;
    if (a->st_count++ == 0 || st < a->st_min)
        a->st_min = st;
    if (a->st_count == 1 || st > a->st_max)
        a->st_max = st;
    if (!(st >= a->p->silence_floor_lufs)) {
        if (!a->in_silence) {
            a->in_silence = 1;
            a->silence_from = t - SHORT_TERM_WINDOW_S;
        }
        if (t - a->silence_from > a->longest_silence)
            a->longest_silence = t - a->silence_from;
    } else {
        a->in_silence = 0;
    }
}

static void scan_samples(struct analyzer *a, const float *x, size_t nframes)
{
    for (size_t i = 0; i < nframes; i++)
        for (int c = 0; c < a->channels; c++) {
            double v = x[i * (size_t)a->channels + (size_t)c];
            a->sumsq += v * v;
            if (fabs(v) >= a->clip_level) {
                if (++a->clip_run[c] == a->p->clip_run_samples)
                    a->clips++;
            } else {
                a->clip_run[c] = 0;
            }
        }
    a->nsamples += (double)nframes * a->channels;
}

/* Whole decoded frames go to the meter, and short-term loudness is read
 * at the end of the frame that crosses each step: splitting frames at the
 * step would make the meter (and its block-wise true peak) do more work
 * for the same audio, and a frame is only ~21 ms of AAC. */
static int analyzer_feed(struct analyzer *a, const float *x, size_t nframes, char *err, size_t errlen)
{
    scan_samples(a, x, nframes);
    if (loud_add(a->m, x, nframes, err, errlen) != 0)
        return -1;
    a->frames += (int64_t)nframes;
    if (a->frames >= a->next_point) {
        short_term_point(a);
        a->last_point = a->frames;
        a->next_point = (a->frames / a->step + 1) * a->step;
    }
    return 0;
}

/* One sample of a packed or planar frame as a float; fmt is the packed
 * form of the frame's format. */
static double sample_at(const uint8_t *p, int fmt, size_t idx)
{
    switch (fmt) {
    case AV_SAMPLE_FMT_U8: return (p[idx] - 128) / 128.0;
    case AV_SAMPLE_FMT_S16: return ((const int16_t *)p)[idx] / 32768.0;
    case AV_SAMPLE_FMT_S32: return ((const int32_t *)p)[idx] / 2147483648.0;
    case AV_SAMPLE_FMT_S64: return (double)((const int64_t *)p)[idx] / 9223372036854775808.0;
    case AV_SAMPLE_FMT_FLT: return ((const float *)p)[idx];
    case AV_SAMPLE_FMT_DBL: return ((const double *)p)[idx];
    default: return 0.0;
    }
}

/* Interleaves any decoder output into floats for the meter. Float, packed
 * or planar (what AAC decodes to), is copied without conversion. */
static int frame_to_float(struct analyzer *a, const AVFrame *f, char *err, size_t errlen)
{
    size_t ch = (size_t)a->channels, n = (size_t)f->nb_samples;
    size_t need = n * ch;
    if (need > a->bufcap) {
        float *nb = realloc(a->buf, need * sizeof *nb);
        if (!nb)
            return err_set(err, errlen, "out of memory");
        a->buf = nb;
        a->bufcap = need;
    }
    if (f->format == AV_SAMPLE_FMT_FLT) {
        memcpy(a->buf, f->extended_data[0], need * sizeof *a->buf);
        return 0;
    }
    if (f->format == AV_SAMPLE_FMT_FLTP) {
        for (size_t c = 0; c < ch; c++) {
            const float *src = (const float *)f->extended_data[c];
            for (size_t i = 0; i < n; i++)
                a->buf[i * ch + c] = src[i];
        }
        return 0;
    }
    int packed = av_get_packed_sample_fmt(f->format);
    int planar = av_sample_fmt_is_planar(f->format);
    for (size_t c = 0; c < ch; c++) {
        const uint8_t *p = f->extended_data[planar ? c : 0];
        for (size_t i = 0; i < n; i++)
            a->buf[i * ch + c] = (float)sample_at(p, packed, planar ? i : i * ch + c);
    }
    return 0;
}

static int known_format(int fmt)
{
    switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S32:
    case AV_SAMPLE_FMT_S64:
    case AV_SAMPLE_FMT_FLT:
    case AV_SAMPLE_FMT_DBL:
        return 1;
    default:
        return 0;
    }
}

static int use_frame(struct analyzer *a, const AVFrame *f, struct hm_audio_segment *seg,
                     char *err, size_t errlen)
{
    int channels = f->ch_layout.nb_channels;
    if (f->nb_samples <= 0)
        return 0;
    if (channels < 1 || f->sample_rate < 1 || !known_format(f->format))
        return err_set(err, errlen, "decoder produced an unusable format");
    if (channels != a->channels || f->sample_rate != a->rate) {
        /* A new format starts a new stretch of audio: loudness cannot be
         * summed across it. */
        if (analyzer_start(a, f->sample_rate, channels, err, errlen) != 0)
            return -1;
    }
    if (frame_to_float(a, f, err, errlen) != 0 ||
        analyzer_feed(a, a->buf, (size_t)f->nb_samples, err, errlen) != 0)
        return -1;
    seg->seconds += (double)f->nb_samples / f->sample_rate;
    return 0;
}

static int averr(char *err, size_t errlen, const char *what, int code)
{
    char msg[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(code, msg, sizeof msg);
    return err_set(err, errlen, "%s: %s", what, msg);
}

struct demux {
    struct membuf mem;
    AVIOContext *io;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
};

static void demux_close(struct demux *d)
{
    av_frame_free(&d->frame);
    av_packet_free(&d->pkt);
    avcodec_free_context(&d->dec);
    avformat_close_input(&d->fmt);
    if (d->io) {
        av_freep(&d->io->buffer);
        avio_context_free(&d->io);
    }
}

static int demux_open(struct demux *d, const struct hm_audio_input *in, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (in->len == 0)
        return err_set(err, errlen, "empty");
    d->mem.p = in->data;
    d->mem.len = in->len;
    uint8_t *iobuf = av_malloc(AVIO_BUFFER_BYTES);
    if (!iobuf)
        return err_set(err, errlen, "out of memory");
    d->io = avio_alloc_context(iobuf, AVIO_BUFFER_BYTES, 0, &d->mem, mem_read, NULL, mem_seek);
    d->fmt = avformat_alloc_context();
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    if (!d->io || !d->fmt || !d->pkt || !d->frame) {
        if (!d->io)
            av_free(iobuf);
        return err_set(err, errlen, "out of memory");
    }
    d->fmt->pb = d->io;
    d->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
    d->fmt->io_open = refuse_open;
    d->fmt->format_whitelist = av_strdup(SEGMENT_FORMATS);
    int ret = avformat_open_input(&d->fmt, NULL, NULL, NULL);
    if (ret < 0)
        return averr(err, errlen, "not a media segment FFmpeg can read", ret);
    ret = avformat_find_stream_info(d->fmt, NULL);
    if (ret < 0)
        return averr(err, errlen, "cannot read stream info", ret);
    const AVCodec *codec = NULL;
    ret = av_find_best_stream(d->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (ret < 0)
        return err_set(err, errlen, ret == AVERROR_DECODER_NOT_FOUND ? "no decoder for its audio"
                                                                      : "no audio stream");
    d->stream = ret;
    for (unsigned i = 0; i < d->fmt->nb_streams; i++)
        if ((int)i != d->stream)
            d->fmt->streams[i]->discard = AVDISCARD_ALL;
    d->dec = avcodec_alloc_context3(codec);
    if (!d->dec)
        return err_set(err, errlen, "out of memory");
    ret = avcodec_parameters_to_context(d->dec, d->fmt->streams[d->stream]->codecpar);
    if (ret < 0)
        return averr(err, errlen, "cannot configure decoder", ret);
    d->dec->thread_count = 1;
    d->dec->pkt_timebase = d->fmt->streams[d->stream]->time_base;
    ret = avcodec_open2(d->dec, codec, NULL);
    if (ret < 0)
        return averr(err, errlen, "cannot open decoder", ret);
    return 0;
}

static int drain_frames(struct demux *d, struct analyzer *a, struct hm_audio_segment *seg,
                        char *err, size_t errlen)
{
    for (;;) {
        int ret = avcodec_receive_frame(d->dec, d->frame);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0) {
            /* A damaged frame costs its own audio, not the segment's. */
            seg->bad_packets++;
            return 0;
        }
        ret = use_frame(a, d->frame, seg, err, errlen);
        av_frame_unref(d->frame);
        if (ret != 0)
            return -1;
    }
}

static int decode_one(struct analyzer *a, const struct hm_audio_input *in,
                      struct hm_audio_segment *seg, char *err, size_t errlen)
{
    struct demux d;
    int rc = demux_open(&d, in, err, errlen);
    int read_errors = 0;
    while (rc == 0) {
        int ret = av_read_frame(d.fmt, d.pkt);
        if (ret == AVERROR_EOF)
            break;
        if (ret < 0) {
            if (ret != AVERROR_INVALIDDATA || ++read_errors > MAX_CONSECUTIVE_READ_ERRORS)
                break;
            continue;
        }
        read_errors = 0;
        if (d.pkt->stream_index == d.stream) {
            if (avcodec_send_packet(d.dec, d.pkt) < 0)
                seg->bad_packets++;
            rc = drain_frames(&d, a, seg, err, errlen);
        }
        av_packet_unref(d.pkt);
    }
    if (rc == 0 && avcodec_send_packet(d.dec, NULL) == 0)
        rc = drain_frames(&d, a, seg, err, errlen);
    demux_close(&d);
    if (rc == 0 && seg->seconds <= 0)
        rc = err_set(err, errlen, "no audio decoded");
    return rc;
}

static void finish(struct analyzer *a, struct hm_audio_result *out)
{
    /* The short-term window always gets read at the very end too. */
    if (a->frames != a->last_point)
        short_term_point(a);
    /* Less audio than one short-term window: its integrated loudness is the
     * best measure there is (it needs only one 400 ms block), and silence
     * then covers all of it or none. */
    double integrated = loud_integrated(a->m);
    if (a->st_count == 0 && a->frames >= (int64_t)(GATING_BLOCK_S * a->rate) &&
        !(integrated >= a->p->silence_floor_lufs))
        a->longest_silence = (double)a->frames / a->rate;
    out->sample_rate = a->rate;
    out->channels = a->channels;
    out->seconds = a->rate ? (double)a->frames / a->rate : 0;
    out->integrated_lufs = integrated;
    out->short_term_lufs = a->st_last;
    out->short_term_min_lufs = a->st_min;
    out->short_term_max_lufs = a->st_max;
    out->true_peak_dbtp = a->p->true_peak ? loud_true_peak_db(a->m) : NAN;
    out->sample_peak_dbfs = loud_sample_peak_db(a->m);
    out->rms_dbfs = a->nsamples > 0 && a->sumsq > 0 ? 10.0 * log10(a->sumsq / a->nsamples) : -INFINITY;
    out->silent_seconds = a->longest_silence;
    out->clips = a->clips;
}

int hm_audio_analyze(const struct hm_audio_params *p, const struct hm_audio_input *in, size_t n,
                     struct hm_audio_segment *seg, struct hm_audio_result *out,
                     char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct analyzer a = {.p = p, .clip_level = pow(10.0, p->clip_level_dbfs / 20.0)};
    analyzer_reset(&a);
    int any = 0;
    char first_err[ERR_MSG_MAX] = "";
    for (size_t i = 0; i < n; i++) {
        memset(&seg[i], 0, sizeof seg[i]);
        if (decode_one(&a, &in[i], &seg[i], seg[i].error, sizeof seg[i].error) == 0) {
            seg[i].decoded = 1;
            any = 1;
        } else if (!first_err[0]) {
            snprintf(first_err, sizeof first_err, "%s", seg[i].error);
        }
    }
    int rc = 0;
    if (any && a.m)
        finish(&a, out);
    else
        rc = err_set(err, errlen, "no audio decoded: %s", first_err[0] ? first_err : "no input");
    analyzer_reset(&a);
    free(a.buf);
    return rc;
}
