#include "segmenter.h"

/* Audio frames packed per PES packet: up to this many payload bytes, held
 * at most this long (the muxer waits half of max_delay). Bigger packets
 * mean fewer PES headers and less TS padding per segment. */
#define SEG_PES_PAYLOAD_BYTES "8192"
#define SEG_PES_MAX_DELAY_US 2000000

#include "averr.h"
#include "err.h"

#include <math.h>
#include <string.h>

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
    int64_t tail_min;           /* packets: a shorter last segment is not cut on its own */
    int64_t max_packets;        /* longest segment whose rounded length stays the target */

    int64_t fed;                /* samples sent to the encoder; N once finished */

    /* Packets not yet handed out: a segment is only cut once it is known
     * that the track does not end just after it. */
    AVPacket **held;
    size_t nheld, held_cap;
    int64_t held_first;         /* packet index of held[0] */

    int index;                  /* segments handed out so far */
    int finished;

    tc_segment_cb on_segment;
    void *ctx;
    segmenter_packet_fn on_packet;
    void *packet_ctx;
};

/* Boundary k of the cumulative grid, in packets: rounding each boundary,
 * not each length, is what keeps a long track from drifting. */
static int64_t boundary(const struct segmenter *sg, int k)
{
    return llround(k * sg->frames_per_segment);
}

static int open_encoder(struct segmenter *sg, int channels, int bitrate, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec)
        return err_set(err, errlen, "FFmpeg has no native aac encoder");
    AVCodecContext *enc = sg->enc = avcodec_alloc_context3(codec);
    if (!enc)
        return err_env(err, errlen, "out of memory");
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
        return err_env(err, errlen, "out of memory");
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
        return err_env(err, errlen, "out of memory");
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

/* The HLS rule is that a segment's duration, rounded to the nearest
 * second, stays within the target duration; the target is what the
 * longest regular segment rounds to. */
static int64_t longest_allowed(const struct segmenter *sg)
{
    int64_t regular = (int64_t)ceil(sg->frames_per_segment);
    long target = lround((double)regular * sg->frame_size / sg->rate);
    int64_t m = (int64_t)ceil((target + 0.5) * sg->rate / sg->frame_size);
    while (m > regular && lround((double)m * sg->frame_size / sg->rate) > target)
        m--;
    return m;
}

int segmenter_open(struct segmenter **out, const struct segmenter_params *p,
                   tc_segment_cb on_segment, void *ctx, char *err, size_t errlen)
{
    *out = NULL;
    if (p->sample_rate <= 0 || !on_segment || !(p->min_tail_seconds >= 0))
        return err_set(err, errlen, "invalid segmenter parameters");
    struct segmenter *sg = av_mallocz(sizeof *sg);
    if (!sg)
        return err_env(err, errlen, "out of memory");
    sg->rate = p->sample_rate;
    sg->on_segment = on_segment;
    sg->ctx = ctx;
    /* Whatever fails here fails for every file alike: never the input's fault. */
    if (open_encoder(sg, p->channels, p->bitrate, err, errlen) < 0 ||
        alloc_buffers(sg, err, errlen) < 0) {
        segmenter_free(&sg);
        return ERR_ENVIRONMENT;
    }
    sg->frames_per_segment = p->segment_seconds * p->sample_rate / sg->frame_size;
    if (!(sg->frames_per_segment >= 1.0) || sg->frames_per_segment > INT32_MAX) {
        segmenter_free(&sg);
        return err_set(err, errlen, "segment length %g s is not at least one AAC frame",
                       p->segment_seconds);
    }
    sg->tail_min = (int64_t)ceil(p->min_tail_seconds * p->sample_rate / sg->frame_size);
    /* Borrowing a tail's missing frames from the segment before must
     * leave that one at least as long. A tail of half a segment, which the
     * config allows, can round to a frame more than half of a segment
     * that is not a whole number of frames (1 s at 48 kHz is 46.875). */
    int64_t half = (int64_t)floor(sg->frames_per_segment) / 2;
    if (sg->tail_min > half)
        sg->tail_min = half;
    sg->max_packets = longest_allowed(sg);
    *out = sg;
    return 0;
}

static void drop_held(struct segmenter *sg, size_t n)
{
    for (size_t i = 0; i < n; i++)
        av_packet_free(&sg->held[i]);
    memmove(sg->held, sg->held + n, (sg->nheld - n) * sizeof *sg->held);
    sg->nheld -= n;
    sg->held_first += (int64_t)n;
}

void segmenter_free(struct segmenter **sgp)
{
    struct segmenter *sg = *sgp;
    if (!sg)
        return;
    if (sg->held) {
        drop_held(sg, sg->nheld);
        av_freep(&sg->held);
    }
    av_packet_free(&sg->pkt);
    av_frame_free(&sg->frame);
    if (sg->fifo)
        av_audio_fifo_free(sg->fifo);
    avcodec_parameters_free(&sg->par);
    avcodec_free_context(&sg->enc);
    av_freep(sgp);
}

static void free_muxer(AVFormatContext **mux)
{
    if (!*mux)
        return;
    if ((*mux)->pb) {
        uint8_t *data = NULL;
        avio_close_dyn_buf((*mux)->pb, &data);
        av_free(data);
        (*mux)->pb = NULL;
    }
    avformat_free_context(*mux);
    *mux = NULL;
}

/* A fresh muxer per segment, so each one starts with PAT and PMT and
 * decodes on its own. */
static int open_muxer(const struct segmenter *sg, AVFormatContext **mux, char *err, size_t errlen)
{
    int ret = avformat_alloc_output_context2(mux, NULL, "mpegts", NULL);
    if (ret < 0)
        return averr_set(err, errlen, "cannot create MPEG-TS muxer", ret);
    AVStream *st = avformat_new_stream(*mux, NULL);
    if (!st)
        return err_env(err, errlen, "out of memory");
    ret = avcodec_parameters_copy(st->codecpar, sg->par);
    if (ret < 0)
        return averr_set(err, errlen, "cannot configure muxer", ret);
    st->time_base = sg->enc->time_base;
    ret = avio_open_dyn_buf(&(*mux)->pb);
    if (ret < 0)
        return averr_set(err, errlen, "cannot allocate segment buffer", ret);

    /* Timestamps are already non-negative and continue across segments;
     * copyts makes the muxer write them exactly as given. max_delay is how
     * long it may hold audio frames to pack several into one PES packet:
     * at zero every ~400-byte frame gets its own PES header and TS padding,
     * which more than doubles the bytes a listener downloads. */
    (*mux)->max_delay = SEG_PES_MAX_DELAY_US;
    (*mux)->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
    AVDictionary *opts = NULL;
    av_dict_set(&opts, "mpegts_copyts", "1", 0);
    av_dict_set(&opts, "pes_payload_size", SEG_PES_PAYLOAD_BYTES, 0);
    ret = avformat_write_header(*mux, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return averr_set(err, errlen, "cannot start MPEG-TS segment", ret);
    return 0;
}

/* Packet j is stamped j * frame_size: the priming packet sits at 0 and
 * nothing is negative. Each timestamp is rescaled from the absolute count,
 * so rounding to the 90 kHz clock never accumulates. */
static int write_packet(const struct segmenter *sg, AVFormatContext *mux, AVPacket *pkt, int64_t j,
                        char *err, size_t errlen)
{
    AVStream *st = mux->streams[0];
    AVRational samples_tb = { 1, sg->rate };
    int64_t pts = av_rescale_q(j * sg->frame_size, samples_tb, st->time_base);
    int64_t next = av_rescale_q((j + 1) * sg->frame_size, samples_tb, st->time_base);
    pkt->pts = pkt->dts = pts;
    pkt->duration = next - pts;
    pkt->stream_index = st->index;
    int ret = av_write_frame(mux, pkt);
    if (ret < 0)
        return averr_set(err, errlen, "cannot write AAC packet", ret);
    return 0;
}

/* Muxes the first n held packets into one segment and hands it out. It
 * declares exactly what it holds, n whole AAC frames: MPEG-TS cannot tell
 * a player to drop the encoder's priming or the last frame's padding, so
 * they are part of the first and the last segment's duration. */
static int emit(struct segmenter *sg, size_t n, char *err, size_t errlen)
{
    AVFormatContext *mux = NULL;
    uint8_t *data = NULL;
    int size = 0, ret;
    if ((ret = open_muxer(sg, &mux, err, errlen)) < 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if ((ret = write_packet(sg, mux, sg->held[i], sg->held_first + (int64_t)i, err, errlen)) < 0)
            goto done;
    int r = av_write_trailer(mux);
    if (r < 0) {
        ret = averr_set(err, errlen, "cannot finish MPEG-TS segment", r);
        goto done;
    }
    size = avio_close_dyn_buf(mux->pb, &data);
    mux->pb = NULL;
    if (!data || size <= 0) {
        ret = err_env(err, errlen, "out of memory");
        goto done;
    }
    int64_t samples = (int64_t)n * sg->frame_size;
    struct tc_segment seg = {
        .index = sg->index,
        .data = data,
        .size = (size_t)size,
        .samples = samples,
        .duration = (double)samples / sg->rate,
    };
    if (err && errlen)
        err[0] = '\0';
    if ((ret = sg->on_segment(sg->ctx, &seg, err, errlen)) < 0) {
        if (err && errlen && !err[0])
            err_set(err, errlen, "segment %d was rejected", seg.index);
        goto done;
    }
    sg->index++;
    drop_held(sg, n);
    ret = 0;
done:
    av_free(data);
    free_muxer(&mux);
    return ret;
}

/* Segment k holds packets [B_k, B_k+1) of the grid; it is cut once the
 * packets after it are enough for a tail of its own, so a short tail can
 * still join it. */
static int emit_ready(struct segmenter *sg, char *err, size_t errlen)
{
    for (;;) {
        int64_t end = boundary(sg, sg->index + 1);
        if (sg->held_first + (int64_t)sg->nheld < end + sg->tail_min ||
            sg->held_first + (int64_t)sg->nheld <= end)
            return 0;
        int ret = emit(sg, (size_t)(end - sg->held_first), err, errlen);
        if (ret < 0)
            return ret;
    }
}

/* What is left at the end: the current segment, and perhaps a tail
 * shorter than tail_min. The tail joins the segment when the sum still
 * rounds to the target duration; otherwise it borrows frames from it. */
static int emit_rest(struct segmenter *sg, char *err, size_t errlen)
{
    int64_t total = (int64_t)sg->nheld;
    if (total == 0)
        return 0;
    int64_t first = boundary(sg, sg->index + 1) - sg->held_first;
    if (first >= total || total <= sg->max_packets)
        return emit(sg, (size_t)total, err, errlen);
    int64_t tail = total - first;
    if (tail < sg->tail_min)
        first = total - sg->tail_min;
    int ret = emit(sg, (size_t)first, err, errlen);
    if (ret < 0)
        return ret;
    return emit(sg, sg->nheld, err, errlen);
}

void segmenter_watch_packets(struct segmenter *sg, segmenter_packet_fn fn, void *ctx)
{
    sg->on_packet = fn;
    sg->packet_ctx = ctx;
}

const AVCodecParameters *segmenter_codecpar(const struct segmenter *sg)
{
    return sg->par;
}

static int hold_packet(struct segmenter *sg, AVPacket *pkt, char *err, size_t errlen)
{
    if (sg->on_packet) {
        int ret = sg->on_packet(sg->packet_ctx, pkt, err, errlen);
        if (ret < 0)
            return ret;
    }
    if (sg->nheld == sg->held_cap) {
        size_t cap = sg->held_cap ? sg->held_cap * 2 : 512;
        AVPacket **nv = av_realloc_array(sg->held, cap, sizeof *nv);
        if (!nv)
            return err_env(err, errlen, "out of memory");
        sg->held = nv;
        sg->held_cap = cap;
    }
    AVPacket *copy = av_packet_alloc();
    if (!copy)
        return err_env(err, errlen, "out of memory");
    av_packet_move_ref(copy, pkt);
    sg->held[sg->nheld++] = copy;
    return emit_ready(sg, err, errlen);
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
        ret = hold_packet(sg, sg->pkt, err, errlen);
        av_packet_unref(sg->pkt);
        if (ret < 0)
            return ret;
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
        if ((ret = encode(sg, sg->frame, err, errlen)) < 0)
            return ret;
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
        return err_env(err, errlen, "out of memory");
    return encode_from_fifo(sg, 0, err, errlen);
}

int segmenter_finish(struct segmenter *sg, char *err, size_t errlen)
{
    if (sg->finished)
        return err_set(err, errlen, "segmenter already finished");
    sg->finished = 1;
    int ret = encode_from_fifo(sg, 1, err, errlen);
    if (ret < 0)
        return ret;
    if (sg->fed == 0)
        return err_set(err, errlen, "no audio to encode");
    if ((ret = encode(sg, NULL, err, errlen)) < 0)
        return ret;
    return emit_rest(sg, err, errlen);
}

int64_t segmenter_source_samples(const struct segmenter *sg)
{
    return sg->fed;
}

int64_t segmenter_samples(const struct segmenter *sg)
{
    return sg->held_first * sg->frame_size;
}

int segmenter_segments(const struct segmenter *sg)
{
    return sg->index;
}
