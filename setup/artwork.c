#include "artwork.h"

#include "averr.h"
#include "decode.h"
#include "err.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Bumped when the rendering changes its bytes for the same settings. */
#define ARTWORK_RENDER_VERSION 1

int artwork_parse_sizes(const char *text, int min, int max, int *sizes, size_t *n, char *err, size_t errlen)
{
    *n = 0;
    const char *p = text;
    while (*p == ' ')
        p++;
    if (!*p)
        return 0;
    for (;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < min || v > max)
            return err_set(err, errlen, "\"%s\": each size is a whole number of pixels from %d to %d", text, min, max);
        if (*n == ARTWORK_MAX_SIZES)
            return err_set(err, errlen, "\"%s\": at most %d sizes", text, ARTWORK_MAX_SIZES);
        if (*n && v <= sizes[*n - 1])
            return err_set(err, errlen, "\"%s\": sizes must ascend, each once", text);
        sizes[(*n)++] = (int)v;
        p = end;
        while (*p == ' ')
            p++;
        if (!*p)
            return 0;
        if (*p != ',')
            return err_set(err, errlen, "\"%s\": sizes are separated by commas", text);
        p++;
        while (*p == ' ')
            p++;
    }
}

void artwork_params(const struct artwork_opts *o, char out[65])
{
    char canon[1024];
    int len = snprintf(canon, sizeof canon, "artwork v%d jpeg q=%d max_pixels=%lld max_bytes=%lld sizes=",
                       ARTWORK_RENDER_VERSION, o->quality, (long long)o->max_pixels, (long long)o->max_bytes);
    for (size_t i = 0; i < o->nsizes && len > 0 && (size_t)len < sizeof canon; i++)
        len += snprintf(canon + len, sizeof canon - (size_t)len, "%d,", o->sizes[i]);
    for (size_t i = 0; o->names && i < o->names->n && len > 0 && (size_t)len < sizeof canon; i++)
        len += snprintf(canon + len, sizeof canon - (size_t)len, " name=%s", o->names->v[i]);
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)canon, strnlen(canon, sizeof canon));
    sodium_bin2hex(out, 65, h, sizeof h);
}

int artwork_embedded(const char *path, int64_t max_bytes, uint8_t **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    *len = 0;
    AVFormatContext *fmt = NULL;
    int rc = decode_open_input(&fmt, path, err, errlen);
    if (rc != 0)
        return rc;
    /* The demuxers read pictures with the header; no packet needs reading. */
    const AVPacket *best = NULL;
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        const AVStream *st = fmt->streams[i];
        if (!(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
            continue;
        const AVDictionaryEntry *c = av_dict_get(st->metadata, "comment", NULL, 0);
        if (!best || (c && strcmp(c->value, "Cover (front)") == 0))
            best = &st->attached_pic;
    }
    rc = 0;
    if (best && best->size > max_bytes) {
        rc = err_set(err, errlen, "embedded picture of %d bytes, more than artwork_max_bytes", best->size);
    } else if (best) {
        *data = malloc((size_t)best->size + 1);
        if (!*data) {
            rc = err_env(err, errlen, "out of memory");
        } else {
            memcpy(*data, best->data, (size_t)best->size);
            *len = (size_t)best->size;
            rc = 1;
        }
    }
    avformat_close_input(&fmt);
    return rc;
}

static int has_image_ext(const char *name, size_t stem)
{
    static const char *const exts[] = {"jpg", "jpeg", "png"};
    if (name[stem] != '.')
        return 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(name + stem + 1, exts[i]) == 0)
            return 1;
    return 0;
}

int artwork_cover_file(const char *dir, const struct cfg_strlist *names, char *out, size_t outlen)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    size_t best = names->n;
    char found[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        for (size_t i = 0; i < names->n && i <= best; i++) {
            size_t stem = strlen(names->v[i]);
            if (strncasecmp(e->d_name, names->v[i], stem) != 0 || !has_image_ext(e->d_name, stem) ||
                strlen(e->d_name) >= sizeof found)
                continue;
            /* Two spellings of one name (Cover.jpg, cover.JPG): the
             * smaller in byte order, so every run takes the same. */
            if (i < best || strcmp(e->d_name, found) < 0) {
                best = i;
                snprintf(found, sizeof found, "%s", e->d_name);
            }
            break;
        }
    }
    closedir(d);
    if (!found[0])
        return 0;
    snprintf(out, outlen, "%s", found);
    return 1;
}

/* A picture cut short still decodes (FFmpeg conceals the missing part as
 * grey): the end marker each format requires says whether all of it is there. */
static int check_complete(const uint8_t *d, size_t n, enum AVCodecID *codec, char *err, size_t errlen)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const uint8_t png_iend[8] = {0, 0, 0, 0, 'I', 'E', 'N', 'D'};
    if (n == 0)
        return err_set(err, errlen, "picture is empty");
    if (n >= 4 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) {
        *codec = AV_CODEC_ID_MJPEG;
        /* Some writers pad after the end marker; it must be there, near the end. */
        for (size_t i = n - 1; i > 0 && n - i < 4096; i--)
            if (d[i - 1] == 0xff && d[i] == 0xd9)
                return 0;
        return err_set(err, errlen, "JPEG picture is truncated (no end marker)");
    }
    if (n >= sizeof png_sig && memcmp(d, png_sig, sizeof png_sig) == 0) {
        *codec = AV_CODEC_ID_PNG;
        if (n >= 20 && memcmp(d + n - 12, png_iend, sizeof png_iend) == 0)
            return 0;
        return err_set(err, errlen, "PNG picture is truncated (no IEND chunk)");
    }
    return err_set(err, errlen, "picture is neither JPEG nor PNG");
}

/* The size a JPEG's frame header or a PNG's IHDR declares, read before any
 * decoder allocates for it; 0 when not found (the decoder then decides). */
static int declared_size(const uint8_t *d, size_t n, enum AVCodecID codec, int64_t *w, int64_t *h)
{
    if (codec == AV_CODEC_ID_PNG && n >= 24) {
        *w = (int64_t)d[16] << 24 | d[17] << 16 | d[18] << 8 | d[19];
        *h = (int64_t)d[20] << 24 | d[21] << 16 | d[22] << 8 | d[23];
        return 1;
    }
    for (size_t i = 2; codec == AV_CODEC_ID_MJPEG && i + 9 <= n;) {
        if (d[i] != 0xff)
            return 0;
        uint8_t m = d[i + 1];
        if (m == 0xff) {
            i++;
            continue;
        }
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc) {
            *h = d[i + 5] << 8 | d[i + 6];
            *w = d[i + 7] << 8 | d[i + 8];
            return 1;
        }
        if (m == 0xda || len < 2)
            return 0;
        i += 2 + len;
    }
    return 0;
}

static int decode_picture(const uint8_t *data, size_t len, const struct artwork_opts *o, AVFrame *frame,
                          char *err, size_t errlen)
{
    enum AVCodecID id = AV_CODEC_ID_NONE;
    if (check_complete(data, len, &id, err, errlen) != 0)
        return -1;
    if (len > (size_t)o->max_bytes || len > INT32_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return err_set(err, errlen, "picture of %zu bytes, more than artwork_max_bytes", len);
    int64_t dw = 0, dh = 0;
    if (declared_size(data, len, id, &dw, &dh) && dw * dh > o->max_pixels)
        return err_set(err, errlen, "picture declares %lldx%lld pixels, more than artwork_max_pixels (%lld)",
                       (long long)dw, (long long)dh, (long long)o->max_pixels);
    const AVCodec *codec = avcodec_find_decoder(id);
    AVCodecContext *dec = codec ? avcodec_alloc_context3(codec) : NULL;
    AVPacket *pkt = av_packet_alloc();
    int rc = 0;
    if (!dec || !pkt || av_new_packet(pkt, (int)len) < 0) {
        rc = err_env(err, errlen, "out of memory (or no %s decoder)", avcodec_get_name(id));
        goto out;
    }
    memcpy(pkt->data, data, len);
    /* Checked when the header is read, before any picture buffer is
     * allocated: a header declaring 30000x30000 costs nothing. */
    dec->max_pixels = o->max_pixels;
    dec->err_recognition = AV_EF_EXPLODE;
    int ret = avcodec_open2(dec, codec, NULL);
    if (ret < 0) {
        rc = averr_set(err, errlen, "cannot open the picture decoder", ret);
        goto out;
    }
    if ((ret = avcodec_send_packet(dec, pkt)) < 0 || (ret = avcodec_send_packet(dec, NULL)) < 0 ||
        (ret = avcodec_receive_frame(dec, frame)) < 0) {
        rc = ret == AVERROR(ENOMEM) ? err_env(err, errlen, "out of memory decoding the picture")
                                    : averr_set(err, errlen, "picture cannot be decoded", ret);
        goto out;
    }
    if (frame->width < 1 || frame->height < 1)
        rc = err_set(err, errlen, "picture has no pixels");
out:
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
    return rc;
}

static int encode_jpeg(const AVFrame *src, int w, int h, int quality, struct artwork_image *img, char *err,
                       size_t errlen)
{
    const enum AVPixelFormat pix = AV_PIX_FMT_YUVJ420P;
    const AVCodec *codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    AVFrame *dst = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    struct SwsContext *sws = NULL;
    int rc = 0, ret;
    if (!enc || !dst || !pkt) {
        rc = err_env(err, errlen, "out of memory (or no JPEG encoder)");
        goto out;
    }
    dst->format = pix;
    dst->width = w;
    dst->height = h;
    /* Area averaging: every source pixel counts, so a shrunk cover stays
     * sharp without ringing around text. */
    sws = sws_getContext(src->width, src->height, src->format, w, h, pix, SWS_AREA | SWS_ACCURATE_RND, NULL, NULL,
                         NULL);
    if (!sws) {
        rc = err_set(err, errlen, "cannot scale a %s picture", av_get_pix_fmt_name(src->format));
        goto out;
    }
    if (av_frame_get_buffer(dst, 0) < 0) {
        rc = err_env(err, errlen, "out of memory");
        goto out;
    }
    if ((ret = sws_scale(sws, (const uint8_t *const *)src->data, src->linesize, 0, src->height, dst->data,
                         dst->linesize)) < 0) {
        rc = averr_set(err, errlen, "cannot scale the picture", ret);
        goto out;
    }
    enc->width = w;
    enc->height = h;
    enc->pix_fmt = pix;
    enc->time_base = (AVRational){1, 1};
    enc->flags |= AV_CODEC_FLAG_QSCALE;
    enc->global_quality = FF_QP2LAMBDA * quality;
    dst->quality = enc->global_quality;
    dst->pts = 0;
    if ((ret = avcodec_open2(enc, codec, NULL)) < 0 || (ret = avcodec_send_frame(enc, dst)) < 0 ||
        (ret = avcodec_send_frame(enc, NULL)) < 0 || (ret = avcodec_receive_packet(enc, pkt)) < 0) {
        rc = ret == AVERROR(ENOMEM) ? err_env(err, errlen, "out of memory") : averr_set(err, errlen, "JPEG encoder", ret);
        goto out;
    }
    if (!(img->data = malloc((size_t)pkt->size))) {
        rc = err_env(err, errlen, "out of memory");
        goto out;
    }
    memcpy(img->data, pkt->data, (size_t)pkt->size);
    img->len = (size_t)pkt->size;
    img->width = w;
    img->height = h;
    img->size = w > h ? w : h;
out:
    sws_freeContext(sws);
    av_packet_free(&pkt);
    av_frame_free(&dst);
    avcodec_free_context(&enc);
    return rc;
}

int artwork_render(const uint8_t *data, size_t len, const struct artwork_opts *o,
                   struct artwork_image *out, size_t *nout, char *err, size_t errlen)
{
    *nout = 0;
    AVFrame *frame = av_frame_alloc();
    if (!frame)
        return err_env(err, errlen, "out of memory");
    int rc = decode_picture(data, len, o, frame, err, errlen);
    int longer = frame->width > frame->height ? frame->width : frame->height;
    for (size_t i = 0; rc == 0 && i < o->nsizes; i++) {
        int s = o->sizes[i] < longer ? o->sizes[i] : longer;
        if (*nout && out[*nout - 1].size == s)
            break;
        /* Rounded, at least one pixel: a 1000x10 banner still has a height. */
        int w = (int)(((int64_t)frame->width * s + longer / 2) / longer);
        int h = (int)(((int64_t)frame->height * s + longer / 2) / longer);
        struct artwork_image *img = &out[*nout];
        memset(img, 0, sizeof *img);
        rc = encode_jpeg(frame, w > 0 ? w : 1, h > 0 ? h : 1, o->quality, img, err, errlen);
        if (rc == 0)
            (*nout)++;
    }
    av_frame_free(&frame);
    if (rc != 0) {
        artwork_images_free(out, *nout);
        *nout = 0;
    }
    return rc;
}

void artwork_images_free(struct artwork_image *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].data);
        v[i].data = NULL;
    }
}
