#include "transcode.h"

#include "decode.h"
#include "err.h"
#include "loudness.h"
#include "segmenter.h"

#include <math.h>
#include <string.h>

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

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF included). */
static size_t utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2, cp = s[0] & 0x1F, min = 0x80;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3, cp = s[0] & 0x0F, min = 0x800;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4, cp = s[0] & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

static int is_utf8(const unsigned char *s)
{
    while (*s) {
        size_t n = utf8_seq_len(s);
        if (!n)
            return 0;
        s += n;
    }
    return 1;
}

/* Decodes one code point; non-UTF-8 text is read as Latin-1. */
static uint32_t next_code_point(const unsigned char **s, int utf8)
{
    const unsigned char *p = *s;
    size_t n = utf8 ? utf8_seq_len(p) : 1;
    uint32_t cp = n == 1 ? p[0] : (uint32_t)(p[0] & (0xFF >> (n + 1)));
    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3F);
    *s = p + n;
    return cp;
}

static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xC0 | cp >> 6);
        out[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xE0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static int is_space_or_control(uint32_t cp)
{
    return cp <= 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029;
}

/* Tags end up in #EXTINF lines and JSON: one line of valid UTF-8. Old
 * ID3v1 tags are Latin-1, hence the fallback. Control characters and line
 * breaks become single spaces; a character that does not fit whole is
 * dropped rather than cut. */
static void copy_tag(char *dst, size_t dstlen, const char *src)
{
    if (!dstlen)
        return;
    dst[0] = '\0';
    if (!src)
        return;
    const unsigned char *s = (const unsigned char *)src;
    int utf8 = is_utf8(s);
    size_t len = 0;
    int pending_space = 0;
    while (*s) {
        uint32_t cp = next_code_point(&s, utf8);
        if (is_space_or_control(cp)) {
            pending_space = len > 0;
            continue;
        }
        unsigned char buf[5];
        size_t n = 0;
        if (pending_space)
            buf[n++] = ' ';
        n += utf8_encode(cp, buf + n);
        if (len + n >= dstlen)
            break;
        memcpy(dst + len, buf, n);
        len += n;
        dst[len] = '\0';
        pending_space = 0;
    }
}

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
    copy_tag(artist, alen, a);
    copy_tag(title, tlen, find_tag(fmt, stream, "title"));
}

int tc_probe_tags(const char *path, char *artist, size_t alen, char *title, size_t tlen,
                  char *err, size_t errlen)
{
    copy_tag(artist, alen, NULL);
    copy_tag(title, tlen, NULL);
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

/* ---- passes -------------------------------------------------------------- */

/* First pass: the loudness of exactly the samples the second pass will
 * encode, measured without holding the track in memory. */
static int measure_loudness(const char *path, const struct tc_params *p, double *lufs,
                            double *true_peak, int64_t *samples, char *err, size_t errlen)
{
    struct decode_src *src = NULL;
    struct loud_meter *meter = NULL;
    int ret = -1;

    *samples = 0;
    if (decode_open(&src, path, p->sample_rate, p->channels, AV_SAMPLE_FMT_FLT,
                    err, errlen) < 0)
        goto done;
    meter = loud_new(p->channels, p->sample_rate, LOUD_TRUE_PEAK, err, errlen);
    if (!meter)
        goto done;
    for (;;) {
        uint8_t **data;
        int n;
        if (decode_next(src, &data, &n, err, errlen) < 0)
            goto done;
        if (n == 0)
            break;
        if (loud_add(meter, (const float *)data[0], (size_t)n, err, errlen) < 0)
            goto done;
        *samples += n;
    }
    *lufs = loud_integrated(meter);
    *true_peak = loud_true_peak_db(meter);
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

static int encode_track(const char *path, const struct tc_params *p, double gain_db,
                        tc_segment_cb on_segment, void *ctx, struct tc_result *out,
                        char *err, size_t errlen)
{
    struct decode_src *src = NULL;
    struct segmenter *sg = NULL;
    int ret = -1;
    float gain = (float)pow(10.0, gain_db / 20.0);

    if (decode_open(&src, path, p->sample_rate, p->channels, AV_SAMPLE_FMT_FLTP,
                    err, errlen) < 0)
        goto done;
    read_tags(decode_format(src), decode_stream_index(src), out->artist,
              sizeof out->artist, out->title, sizeof out->title);
    const struct segmenter_params sp = {p->sample_rate, p->channels, p->bitrate,
                                        p->segment_seconds, p->min_tail_seconds};
    if (segmenter_open(&sg, &sp, on_segment, ctx, err, errlen) < 0)
        goto done;
    for (;;) {
        uint8_t **data;
        int n;
        if (decode_next(src, &data, &n, err, errlen) < 0)
            goto done;
        if (n == 0)
            break;
        if (gain_db != 0.0)
            apply_gain(data, p->channels, n, gain);
        if (segmenter_write(sg, data, n, err, errlen) < 0)
            goto done;
    }
    if (segmenter_finish(sg, err, errlen) < 0)
        goto done;
    out->samples = segmenter_samples(sg);
    out->source_samples = segmenter_source_samples(sg);
    out->duration = (double)out->samples / p->sample_rate;
    out->segments = segmenter_segments(sg);
    ret = 0;
done:
    segmenter_free(&sg);
    decode_close(&src);
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

    int64_t measured_samples = 0;
    if (p->normalize) {
        if (measure_loudness(path, p, &out->measured_lufs, &out->measured_true_peak_dbtp,
                             &measured_samples, err, errlen) < 0)
            return -1;
        out->gain_db = loud_gain_for(out->measured_lufs, out->measured_true_peak_dbtp,
                                     p->target_lufs, p->true_peak_dbtp);
        out->normalized = 1;
    }
    if (encode_track(path, p, out->gain_db, on_segment, ctx, out, err, errlen) < 0)
        return -1;
    /* Both passes decode the same bytes the same way; a mismatch means the
     * measured loudness is not that of what was encoded. */
    if (p->normalize && out->source_samples != measured_samples)
        return err_set(err, errlen, "source decoded to %lld then %lld samples",
                       (long long)measured_samples, (long long)out->source_samples);
    return 0;
}
