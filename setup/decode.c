#include "decode.h"

#include "averr.h"
#include "err.h"

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libswresample/swresample.h>

#include <sys/stat.h>

/* A demuxer that keeps failing without advancing must not spin forever. */
#define MAX_CONSECUTIVE_READ_ERRORS 64

struct decode_src {
    AVFormatContext *fmt;
    AVCodecContext *dec;
    SwrContext *swr;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;

    int out_rate;
    AVChannelLayout out_layout;
    enum AVSampleFormat out_fmt;

    /* What the resampler was built for; decoders may change it mid-stream. */
    int in_rate;
    AVChannelLayout in_layout;
    enum AVSampleFormat in_fmt;

    uint8_t **buf;
    int buf_samples;

    int draining;
    int done;
    int read_errors;
    int64_t damaged_reads;      /* packets the demuxer could not read, in all */
    int64_t bad_packets;
    int64_t frames;             /* decoded frames with audio */
    int64_t samples_out;
};

int decode_open_input(AVFormatContext **fmt, const char *path, char *err, size_t errlen)
{
    int ret = avformat_open_input(fmt, path, NULL, NULL);
    if (ret >= 0)
        return 0;
    /* FFmpeg says "Invalid argument" or "End of file" for an empty file. */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return err_set(err, errlen, "file is empty");
    if (ret == AVERROR(ENOENT) || ret == AVERROR(EACCES) || ret == AVERROR(EISDIR))
        return averr_set(err, errlen, "cannot open input", ret);
    return averr_set(err, errlen, "not a media file FFmpeg can read", ret);
}

static int open_input(struct decode_src *s, const char *path, const AVCodec **codec,
                      char *err, size_t errlen)
{
    int ret = decode_open_input(&s->fmt, path, err, errlen);
    if (ret < 0)
        return ret;
    ret = avformat_find_stream_info(s->fmt, NULL);
    if (ret < 0)
        return averr_set(err, errlen, "cannot read stream info", ret);

    ret = av_find_best_stream(s->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, codec, 0);
    if (ret == AVERROR_STREAM_NOT_FOUND)
        return err_set(err, errlen, "no audio stream");
    if (ret == AVERROR_DECODER_NOT_FOUND)
        return err_set(err, errlen, "no decoder for the audio stream");
    if (ret < 0)
        return averr_set(err, errlen, "cannot select audio stream", ret);
    s->stream = ret;

    /* Cover art is a video stream with one packet; nobody needs it read. */
    for (unsigned i = 0; i < s->fmt->nb_streams; i++)
        if ((int)i != s->stream)
            s->fmt->streams[i]->discard = AVDISCARD_ALL;
    return 0;
}

static int open_decoder(struct decode_src *s, const AVCodec *codec, char *err, size_t errlen)
{
    const AVStream *st = s->fmt->streams[s->stream];
    s->dec = avcodec_alloc_context3(codec);
    if (!s->dec)
        return err_env(err, errlen, "out of memory");
    int ret = avcodec_parameters_to_context(s->dec, st->codecpar);
    if (ret < 0)
        return averr_set(err, errlen, "cannot configure decoder", ret);
    /* Parallelism is across tracks, not inside one. */
    s->dec->thread_count = 1;
    s->dec->pkt_timebase = st->time_base;
    ret = avcodec_open2(s->dec, codec, NULL);
    if (ret < 0)
        return averr_set(err, errlen, "cannot open decoder", ret);
    return 0;
}

int decode_open(struct decode_src **out, const char *path, int rate, int channels,
                enum AVSampleFormat fmt, char *err, size_t errlen)
{
    *out = NULL;
    if (rate <= 0 || channels < 1 || channels > AV_NUM_DATA_POINTERS)
        return err_set(err, errlen, "unsupported output format (%d Hz, %d channels)",
                       rate, channels);

    struct decode_src *s = av_mallocz(sizeof *s);
    if (!s)
        return err_env(err, errlen, "out of memory");
    s->out_rate = rate;
    s->out_fmt = fmt;
    av_channel_layout_default(&s->out_layout, channels);
    s->in_fmt = AV_SAMPLE_FMT_NONE;
    s->pkt = av_packet_alloc();
    s->frame = av_frame_alloc();
    if (!s->pkt || !s->frame) {
        decode_close(&s);
        return err_env(err, errlen, "out of memory");
    }

    const AVCodec *codec = NULL;
    int ret = open_input(s, path, &codec, err, errlen);
    if (ret == 0)
        ret = open_decoder(s, codec, err, errlen);
    if (ret < 0) {
        decode_close(&s);
        return ret;
    }
    *out = s;
    return 0;
}

void decode_close(struct decode_src **sp)
{
    struct decode_src *s = *sp;
    if (!s)
        return;
    if (s->buf)
        av_freep(&s->buf[0]);
    av_freep(&s->buf);
    swr_free(&s->swr);
    av_channel_layout_uninit(&s->in_layout);
    av_channel_layout_uninit(&s->out_layout);
    av_frame_free(&s->frame);
    av_packet_free(&s->pkt);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
    av_freep(sp);
}

const AVFormatContext *decode_format(const struct decode_src *s)
{
    return s->fmt;
}

int decode_stream_index(const struct decode_src *s)
{
    return s->stream;
}

/* Sends the next packet of our stream to the decoder, or starts draining
 * it at the end of the input. Damaged packets are skipped: one bad frame
 * in a long track should cost a few milliseconds of audio, not the track. */
static int feed_decoder(struct decode_src *s, char *err, size_t errlen)
{
    for (;;) {
        int ret = av_read_frame(s->fmt, s->pkt);
        if (ret == AVERROR_EOF) {
            s->draining = 1;
            ret = avcodec_send_packet(s->dec, NULL);
            return ret < 0 ? averr_set(err, errlen, "cannot flush decoder", ret) : 0;
        }
        if (ret < 0) {
            if (ret != AVERROR_INVALIDDATA ||
                ++s->read_errors > MAX_CONSECUTIVE_READ_ERRORS)
                return averr_set(err, errlen, "cannot read input", ret);
            s->damaged_reads++;
            continue;
        }
        s->read_errors = 0;
        if (s->pkt->stream_index != s->stream) {
            av_packet_unref(s->pkt);
            continue;
        }
        ret = avcodec_send_packet(s->dec, s->pkt);
        av_packet_unref(s->pkt);
        if (ret == 0)
            return 0;
        if (ret == AVERROR(ENOMEM) || ret == AVERROR(EAGAIN))
            return averr_set(err, errlen, "decoding failed", ret);
        s->bad_packets++;
    }
}

/* 1 with a frame in s->frame, 0 at the end of the stream. */
static int next_frame(struct decode_src *s, char *err, size_t errlen)
{
    for (;;) {
        int ret = avcodec_receive_frame(s->dec, s->frame);
        if (ret == 0) {
            if (s->frame->nb_samples > 0) {
                s->frames++;
                return 1;
            }
            av_frame_unref(s->frame);
            continue;
        }
        if (ret == AVERROR_EOF)
            return 0;
        if (ret == AVERROR(ENOMEM))
            return averr_set(err, errlen, "decoding failed", ret);
        if (ret != AVERROR(EAGAIN)) {
            s->bad_packets++;
            continue;
        }
        if (s->draining)
            return err_set(err, errlen, "decoder stalled while draining");
        if ((ret = feed_decoder(s, err, errlen)) < 0)
            return ret;
    }
}

static int frame_layout(const AVFrame *f, AVChannelLayout *layout)
{
    /* Some containers only know the channel count (WAV without a mask). */
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) {
        av_channel_layout_default(layout, f->ch_layout.nb_channels);
        return 0;
    }
    return av_channel_layout_copy(layout, &f->ch_layout);
}

static int new_resampler(struct decode_src *s, const AVFrame *f, SwrContext **swr,
                         AVChannelLayout *layout, char *err, size_t errlen)
{
    int ret = frame_layout(f, layout);
    if (ret < 0)
        return averr_set(err, errlen, "bad channel layout", ret);
    ret = swr_alloc_set_opts2(swr, &s->out_layout, s->out_fmt, s->out_rate,
                              layout, f->format, f->sample_rate, 0, NULL);
    if (ret < 0)
        return averr_set(err, errlen, "cannot configure resampler", ret);
    ret = swr_init(*swr);
    if (ret < 0)
        return averr_set(err, errlen, "cannot configure resampler", ret);
    return 0;
}

static int ensure_capacity(struct decode_src *s, int samples, char *err, size_t errlen)
{
    if (samples <= s->buf_samples)
        return 0;
    if (s->buf)
        av_freep(&s->buf[0]);
    av_freep(&s->buf);
    s->buf_samples = 0;
    int ret = av_samples_alloc_array_and_samples(&s->buf, NULL, s->out_layout.nb_channels,
                                                 samples, s->out_fmt, 0);
    if (ret < 0)
        return averr_set(err, errlen, "cannot allocate sample buffer", ret);
    s->buf_samples = samples;
    return 0;
}

/* Pointers `offset` samples into the output buffer. */
static void buffer_at(const struct decode_src *s, int offset, uint8_t **planes)
{
    int planar = av_sample_fmt_is_planar(s->out_fmt);
    int n = planar ? s->out_layout.nb_channels : 1;
    int step = av_get_bytes_per_sample(s->out_fmt) * (planar ? 1 : s->out_layout.nb_channels);
    for (int i = 0; i < n; i++)
        planes[i] = s->buf[i] + (ptrdiff_t)offset * step;
}

static int input_changed(const struct decode_src *s, const AVFrame *f)
{
    if (!s->swr || f->format != s->in_fmt || f->sample_rate != s->in_rate)
        return 1;
    AVChannelLayout layout = { 0 };
    if (frame_layout(f, &layout) < 0)
        return 1;
    int changed = av_channel_layout_compare(&layout, &s->in_layout) != 0;
    av_channel_layout_uninit(&layout);
    return changed;
}

/* Resamples s->frame (or, with flush, whatever the resampler still
 * holds) into the output buffer; returns the number of samples made. */
static int convert(struct decode_src *s, int flush, char *err, size_t errlen)
{
    const AVFrame *f = flush ? NULL : s->frame;
    SwrContext *next = NULL;
    AVChannelLayout next_layout = { 0 };
    int made = 0, ret;

    /* A format change builds a new resampler, but the old one still holds
     * the tail of the previous format: drain it first, then continue. */
    if (f && input_changed(s, f)) {
        if ((ret = new_resampler(s, f, &next, &next_layout, err, errlen)) < 0)
            goto done;
    }
    SwrContext *cur = next ? next : s->swr;
    if (!cur) {
        ret = 0;
        goto done;
    }
    int need = (next && s->swr ? swr_get_out_samples(s->swr, 0) : 0) +
               swr_get_out_samples(cur, f ? f->nb_samples : 0);
    if ((ret = ensure_capacity(s, need, err, errlen)) < 0)
        goto done;

    uint8_t *planes[AV_NUM_DATA_POINTERS];
    if (next && s->swr) {
        buffer_at(s, 0, planes);
        made = swr_convert(s->swr, planes, s->buf_samples, NULL, 0);
        if (made < 0) {
            ret = averr_set(err, errlen, "resampling failed", made);
            goto done;
        }
    }
    if (next) {
        swr_free(&s->swr);
        s->swr = next;
        next = NULL;
        av_channel_layout_uninit(&s->in_layout);
        s->in_layout = next_layout;
        next_layout = (AVChannelLayout){ 0 };
        s->in_fmt = f->format;
        s->in_rate = f->sample_rate;
    }
    buffer_at(s, made, planes);
    int n = swr_convert(s->swr, planes, s->buf_samples - made,
                        f ? (const uint8_t **)f->extended_data : NULL,
                        f ? f->nb_samples : 0);
    if (n < 0) {
        ret = averr_set(err, errlen, "resampling failed", n);
        goto done;
    }
    ret = made + n;
done:
    swr_free(&next);
    av_channel_layout_uninit(&next_layout);
    return ret;
}

int decode_next(struct decode_src *s, uint8_t ***data, int *nb_samples, char *err, size_t errlen)
{
    *data = NULL;
    *nb_samples = 0;
    while (!s->done) {
        int ret = next_frame(s, err, errlen);
        if (ret < 0)
            return ret;
        if (ret == 0)
            s->done = 1;
        int n = convert(s, ret == 0, err, errlen);
        av_frame_unref(s->frame);
        if (n < 0)
            return n;
        if (n > 0) {
            s->samples_out += n;
            *data = s->buf;
            *nb_samples = n;
            return 0;
        }
    }
    if (s->samples_out == 0) {
        if (s->bad_packets)
            return err_set(err, errlen, "no audio could be decoded (%lld damaged packets)",
                           (long long)s->bad_packets);
        return err_set(err, errlen, "no audio could be decoded");
    }
    return 0;
}

void decode_damage(const struct decode_src *s, int64_t *errors, double *lost_seconds)
{
    *errors = s->bad_packets + s->damaged_reads;
    *lost_seconds = 0;
    if (*errors == 0 || s->frames == 0)
        return;
    double decoded = (double)s->samples_out / s->out_rate;
    /* Each damaged packet cost about one average frame; where the
     * container states its length, the shortfall says it better (a
     * demuxer resyncing over noise skips more than it counts). */
    double per_frame = decoded / (double)s->frames;
    double lost = (double)*errors * per_frame;
    if (s->fmt->duration != AV_NOPTS_VALUE && s->fmt->duration > 0) {
        double stated = (double)s->fmt->duration / AV_TIME_BASE;
        if (stated - decoded > lost)
            lost = stated - decoded;
    }
    *lost_seconds = lost;
}
