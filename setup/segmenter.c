#include "segmenter.h"

/* Audio frames packed per PES packet: up to this many payload bytes, held
 * at most this long (the muxer waits half of max_delay). Bigger packets
 * mean fewer PES headers and less TS padding per segment. */
#define SEG_PES_PAYLOAD_BYTES "8192"
#define SEG_PES_MAX_DELAY_US 2000000

#include "averr.h"
#include "err.h"

#include <math.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>

struct segmenter {
    AVCodecContext *enc;
    AVCodecParameters *par;     /* handed to every segment's muxer */
    AVAudioFifo *fifo;
    AVFrame *frame;
    AVPacket *pkt;

    int rate;
    int frame_size;
    double frames_per_segment;  /* segment_seconds * rate / frame_size */

    int64_t fed;                /* samples sent to the encoder; N once finished */
    int64_t packets;            /* encoder packets placed so far */

    AVFormatContext *mux;       /* the segment being written, if any */
    int index;                  /* segments handed out so far */
    int64_t seg_start, seg_end; /* its grid boundaries, in source samples */
    int finished;

    tc_segment_cb on_segment;
    void *ctx;
};

/* Boundary k of the cumulative grid: rounding each boundary, not each
 * length, is what keeps a long track from drifting. */
static int64_t boundary(const struct segmenter *sg, int k)
{
    return llround(k * sg->frames_per_segment) * sg->frame_size;
}

static int open_encoder(struct segmenter *sg, int channels, int bitrate, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec)
        return err_set(err, errlen, "FFmpeg has no native aac encoder");
    AVCodecContext *enc = sg->enc = avcodec_alloc_context3(codec);
    if (!enc)
        return err_set(err, errlen, "out of memory");
    enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    enc->sample_rate = sg->rate;
    av_channel_layout_default(&enc->ch_layout, channels);
    enc->bit_rate = bitrate;
    enc->profile = FF_PROFILE_AAC_LOW;
    enc->time_base = (AVRational){ 1, sg->rate };
    /* Parallelism is across tracks, not inside one. */
    enc->thread_count = 1;
    int ret = avcodec_open2(enc, codec, NULL);
    if (ret < 0) {
        averr_set(err, errlen, "cannot open AAC encoder", ret);
        return err_prefix(err, errlen, "%d Hz, %d channels, %d bit/s", sg->rate, channels,
                          bitrate);
    }
    /* The segment timeline assumes exactly one frame of encoder priming,
     * and the muxer needs the AudioSpecificConfig to write ADTS headers. */
    if (enc->frame_size <= 0 || enc->initial_padding != enc->frame_size ||
        enc->extradata_size < 2)
        return err_set(err, errlen, "unexpected AAC encoder setup (frame %d, delay %d)",
                       enc->frame_size, enc->initial_padding);
    sg->frame_size = enc->frame_size;

    sg->par = avcodec_parameters_alloc();
    if (!sg->par)
        return err_set(err, errlen, "out of memory");
    ret = avcodec_parameters_from_context(sg->par, enc);
    if (ret < 0)
        return averr_set(err, errlen, "cannot copy encoder parameters", ret);
    return 0;
}

static int alloc_buffers(struct segmenter *sg, char *err, size_t errlen)
{
    const AVCodecContext *enc = sg->enc;
    sg->fifo = av_audio_fifo_alloc(enc->sample_fmt, enc->ch_layout.nb_channels,
                                   2 * enc->frame_size);
    sg->frame = av_frame_alloc();
    sg->pkt = av_packet_alloc();
    if (!sg->fifo || !sg->frame || !sg->pkt)
        return err_set(err, errlen, "out of memory");
    sg->frame->nb_samples = enc->frame_size;
    sg->frame->format = enc->sample_fmt;
    sg->frame->sample_rate = enc->sample_rate;
    int ret = av_channel_layout_copy(&sg->frame->ch_layout, &enc->ch_layout);
    if (ret >= 0)
        ret = av_frame_get_buffer(sg->frame, 0);
    if (ret < 0)
        return averr_set(err, errlen, "cannot allocate audio frame", ret);
    return 0;
}

int segmenter_open(struct segmenter **out, int sample_rate, int channels, int bitrate,
                   double segment_seconds, tc_segment_cb on_segment, void *ctx,
                   char *err, size_t errlen)
{
    *out = NULL;
    if (sample_rate <= 0 || !on_segment)
        return err_set(err, errlen, "invalid segmenter parameters");
    struct segmenter *sg = av_mallocz(sizeof *sg);
    if (!sg)
        return err_set(err, errlen, "out of memory");
    sg->rate = sample_rate;
    sg->on_segment = on_segment;
    sg->ctx = ctx;
    if (open_encoder(sg, channels, bitrate, err, errlen) < 0 ||
        alloc_buffers(sg, err, errlen) < 0) {
        segmenter_free(&sg);
        return -1;
    }
    sg->frames_per_segment = segment_seconds * sample_rate / sg->frame_size;
    if (!(sg->frames_per_segment >= 1.0) || sg->frames_per_segment > INT32_MAX) {
        segmenter_free(&sg);
        return err_set(err, errlen, "segment length %g s is not at least one AAC frame",
                       segment_seconds);
    }
    *out = sg;
    return 0;
}

static void discard_segment(struct segmenter *sg)
{
    if (!sg->mux)
        return;
    if (sg->mux->pb) {
        uint8_t *data = NULL;
        avio_close_dyn_buf(sg->mux->pb, &data);
        av_free(data);
        sg->mux->pb = NULL;
    }
    avformat_free_context(sg->mux);
    sg->mux = NULL;
}

void segmenter_free(struct segmenter **sgp)
{
    struct segmenter *sg = *sgp;
    if (!sg)
        return;
    discard_segment(sg);
    av_packet_free(&sg->pkt);
    av_frame_free(&sg->frame);
    if (sg->fifo)
        av_audio_fifo_free(sg->fifo);
    avcodec_parameters_free(&sg->par);
    avcodec_free_context(&sg->enc);
    av_freep(sgp);
}

/* A fresh muxer per segment, so each one starts with PAT and PMT and
 * decodes on its own. */
static int open_segment(struct segmenter *sg, char *err, size_t errlen)
{
    int ret = avformat_alloc_output_context2(&sg->mux, NULL, "mpegts", NULL);
    if (ret < 0)
        return averr_set(err, errlen, "cannot create MPEG-TS muxer", ret);
    AVStream *st = avformat_new_stream(sg->mux, NULL);
    if (!st)
        return err_set(err, errlen, "out of memory");
    ret = avcodec_parameters_copy(st->codecpar, sg->par);
    if (ret < 0)
        return averr_set(err, errlen, "cannot configure muxer", ret);
    st->time_base = sg->enc->time_base;
    ret = avio_open_dyn_buf(&sg->mux->pb);
    if (ret < 0)
        return averr_set(err, errlen, "cannot allocate segment buffer", ret);

    /* Timestamps are already non-negative and continue across segments;
     * copyts makes the muxer write them exactly as given. max_delay is how
     * long it may hold audio frames to pack several into one PES packet:
     * at zero every ~400-byte frame gets its own PES header and TS padding,
     * which more than doubles the bytes a listener downloads. */
    sg->mux->max_delay = SEG_PES_MAX_DELAY_US;
    sg->mux->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "mpegts_copyts", "1", 0);
    av_dict_set(&opts, "pes_payload_size", SEG_PES_PAYLOAD_BYTES, 0);
    ret = avformat_write_header(sg->mux, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return averr_set(err, errlen, "cannot start MPEG-TS segment", ret);

    sg->seg_start = boundary(sg, sg->index);
    sg->seg_end = boundary(sg, sg->index + 1);
    return 0;
}

static int close_segment(struct segmenter *sg, char *err, size_t errlen)
{
    int ret = av_write_trailer(sg->mux);
    if (ret < 0)
        return averr_set(err, errlen, "cannot finish MPEG-TS segment", ret);
    uint8_t *data = NULL;
    int size = avio_close_dyn_buf(sg->mux->pb, &data);
    sg->mux->pb = NULL;
    avformat_free_context(sg->mux);
    sg->mux = NULL;
    if (!data || size <= 0) {
        av_free(data);
        return err_set(err, errlen, "out of memory");
    }

    int64_t end = sg->seg_end < sg->fed ? sg->seg_end : sg->fed;
    struct tc_segment seg = {
        .index = sg->index,
        .data = data,
        .size = (size_t)size,
        .samples = end - sg->seg_start,
        .duration = (double)(end - sg->seg_start) / sg->rate,
    };
    if (err && errlen)
        err[0] = '\0';
    ret = sg->on_segment(sg->ctx, &seg, err, errlen);
    av_free(data);
    if (ret < 0) {
        if (err && errlen && !err[0])
            err_set(err, errlen, "segment %d was rejected", seg.index);
        return -1;
    }
    sg->index++;
    return 0;
}

/* Packet j presents source samples [j*F - priming, (j+1)*F - priming) and
 * is stamped j*F: the priming packet sits at 0 and nothing is negative.
 * Each timestamp is rescaled from the absolute count, so rounding to the
 * 90 kHz clock never accumulates. */
static int place_packet(struct segmenter *sg, AVPacket *pkt, char *err, size_t errlen)
{
    int64_t j = sg->packets++;
    int64_t start = j * sg->frame_size - sg->enc->initial_padding;

    /* Packets past the last real sample are padding; they stay with the
     * last segment instead of opening an empty one. */
    if (sg->mux && start >= sg->seg_end && start < sg->fed &&
        close_segment(sg, err, errlen) < 0)
        return -1;
    if (!sg->mux && open_segment(sg, err, errlen) < 0)
        return -1;

    AVStream *st = sg->mux->streams[0];
    AVRational samples_tb = { 1, sg->rate };
    int64_t pts = av_rescale_q(j * sg->frame_size, samples_tb, st->time_base);
    int64_t next = av_rescale_q((j + 1) * sg->frame_size, samples_tb, st->time_base);
    pkt->pts = pkt->dts = pts;
    pkt->duration = next - pts;
    pkt->stream_index = st->index;
    int ret = av_write_frame(sg->mux, pkt);
    if (ret < 0)
        return averr_set(err, errlen, "cannot write AAC packet", ret);
    return 0;
}

/* frame == NULL flushes the encoder. */
static int encode(struct segmenter *sg, AVFrame *frame, char *err, size_t errlen)
{
    int ret = avcodec_send_frame(sg->enc, frame);
    if (ret < 0)
        return averr_set(err, errlen, "AAC encoding failed", ret);
    for (;;) {
        ret = avcodec_receive_packet(sg->enc, sg->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return averr_set(err, errlen, "AAC encoding failed", ret);
        ret = place_packet(sg, sg->pkt, err, errlen);
        av_packet_unref(sg->pkt);
        if (ret < 0)
            return -1;
    }
}

/* Feeds whole encoder frames from the FIFO; with `last`, also the final
 * short one. */
static int encode_from_fifo(struct segmenter *sg, int last, char *err, size_t errlen)
{
    for (;;) {
        int avail = av_audio_fifo_size(sg->fifo);
        if (avail < sg->frame_size && !(last && avail > 0))
            return 0;
        int n = avail < sg->frame_size ? avail : sg->frame_size;

        /* The encoder may still hold a reference to the previous frame. */
        sg->frame->nb_samples = sg->frame_size;
        int ret = av_frame_make_writable(sg->frame);
        if (ret < 0)
            return averr_set(err, errlen, "cannot allocate audio frame", ret);
        sg->frame->nb_samples = n;
        if (av_audio_fifo_read(sg->fifo, (void **)sg->frame->data, n) != n)
            return err_set(err, errlen, "audio FIFO read failed");
        sg->frame->pts = sg->fed;
        sg->fed += n;
        if (encode(sg, sg->frame, err, errlen) < 0)
            return -1;
    }
}

int segmenter_write(struct segmenter *sg, uint8_t *const *planes, int nb_samples,
                    char *err, size_t errlen)
{
    if (sg->finished)
        return err_set(err, errlen, "segmenter already finished");
    if (nb_samples <= 0)
        return 0;
    if (av_audio_fifo_write(sg->fifo, (void **)planes, nb_samples) != nb_samples)
        return err_set(err, errlen, "out of memory");
    return encode_from_fifo(sg, 0, err, errlen);
}

int segmenter_finish(struct segmenter *sg, char *err, size_t errlen)
{
    if (sg->finished)
        return err_set(err, errlen, "segmenter already finished");
    sg->finished = 1;
    if (encode_from_fifo(sg, 1, err, errlen) < 0)
        return -1;
    if (sg->fed == 0)
        return err_set(err, errlen, "no audio to encode");
    if (encode(sg, NULL, err, errlen) < 0)
        return -1;
    if (sg->mux && close_segment(sg, err, errlen) < 0)
        return -1;
    return 0;
}

int64_t segmenter_samples(const struct segmenter *sg)
{
    return sg->fed;
}

int segmenter_segments(const struct segmenter *sg)
{
    return sg->index;
}
