/* Track artwork without a node: which cover file is taken, how a picture
 * is rendered at each size (checked by decoding the JPEG with FFmpeg's own
 * decoder), and that damaged or absurd pictures are refused with a reason,
 * cheaply. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <libavcodec/avcodec.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "artwork.h"
#include "err.h"

/* A solid grey picture of w x h, encoded by FFmpeg (MJPEG or PNG). */
static uint8_t *make_picture(enum AVCodecID id, int w, int h, size_t *len)
{
    const AVCodec *codec = avcodec_find_encoder(id);
    assert_non_null(codec);
    AVCodecContext *enc = avcodec_alloc_context3(codec);
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    enc->width = f->width = w;
    enc->height = f->height = h;
    enc->pix_fmt = f->format = id == AV_CODEC_ID_PNG ? AV_PIX_FMT_RGB24 : AV_PIX_FMT_YUVJ444P;
    enc->time_base = (AVRational){1, 1};
    assert_int_equal(avcodec_open2(enc, codec, NULL), 0);
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int p = 0; p < 3 && f->data[p]; p++)
        for (int y = 0; y < h; y++)
            memset(f->data[p] + y * f->linesize[p], 128, (size_t)(id == AV_CODEC_ID_PNG ? 3 * w : w));
    assert_int_equal(avcodec_send_frame(enc, f), 0);
    assert_int_equal(avcodec_send_frame(enc, NULL), 0);
    assert_int_equal(avcodec_receive_packet(enc, pkt), 0);
    uint8_t *out = malloc((size_t)pkt->size);
    memcpy(out, pkt->data, (size_t)pkt->size);
    *len = (size_t)pkt->size;
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&enc);
    return out;
}

static void jpeg_dims(const struct artwork_image *img, int *w, int *h)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_MJPEG);
    AVCodecContext *dec = avcodec_alloc_context3(codec);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    assert_int_equal(avcodec_open2(dec, codec, NULL), 0);
    assert_int_equal(av_new_packet(pkt, (int)img->len), 0);
    memcpy(pkt->data, img->data, img->len);
    assert_int_equal(avcodec_send_packet(dec, pkt), 0);
    assert_int_equal(avcodec_receive_frame(dec, f), 0);
    *w = f->width;
    *h = f->height;
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&dec);
}

static struct artwork_opts opts(void)
{
    struct artwork_opts o = {.sizes = {96, 256, 512}, .nsizes = 3, .quality = 3, .max_pixels = 36000000,
                             .max_bytes = 1 << 24};
    return o;
}

static void sizes_parse_and_refuse_nonsense(void **state)
{
    (void)state;
    int v[ARTWORK_MAX_SIZES];
    size_t n;
    char err[256];
    assert_int_equal(artwork_parse_sizes(" 96, 256,512", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[2], 512);
    assert_int_equal(artwork_parse_sizes("", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    assert_int_not_equal(artwork_parse_sizes("256,96", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("96,96", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("8", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("5000", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("96;256", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("96,", 16, 4096, v, &n, err, sizeof err), 0);
    assert_int_not_equal(artwork_parse_sizes("16,17,18,19,20,21,22,23,24", 16, 4096, v, &n, err, sizeof err), 0);
}

/* Aspect ratio kept, never enlarged, one image per distinct size. */
static void renders_each_size_within_the_picture(void **state)
{
    (void)state;
    struct artwork_opts o = opts();
    static const struct { enum AVCodecID id; int w, h; int n; int want[3][2]; } cases[] = {
        {AV_CODEC_ID_MJPEG, 600, 400, 3, {{96, 64}, {256, 171}, {512, 341}}},
        {AV_CODEC_ID_PNG, 200, 200, 2, {{96, 96}, {200, 200}}},
        {AV_CODEC_ID_MJPEG, 300, 1000, 3, {{29, 96}, {77, 256}, {154, 512}}},
        {AV_CODEC_ID_PNG, 50, 40, 1, {{50, 40}}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len;
        uint8_t *pic = make_picture(cases[c].id, cases[c].w, cases[c].h, &len);
        struct artwork_image img[ARTWORK_MAX_SIZES];
        size_t n;
        char err[256];
        if (artwork_render(pic, len, &o, img, &n, err, sizeof err) != 0)
            fail_msg("case %zu: %s", c, err);
        assert_int_equal(n, cases[c].n);
        for (size_t i = 0; i < n; i++) {
            int w, h;
            jpeg_dims(&img[i], &w, &h);
            if (w != cases[c].want[i][0] || h != cases[c].want[i][1] || img[i].width != w || img[i].height != h)
                fail_msg("case %zu image %zu: %dx%d (says %dx%d), want %dx%d", c, i, w, h, img[i].width,
                         img[i].height, cases[c].want[i][0], cases[c].want[i][1]);
            assert_int_equal(img[i].size, w > h ? w : h);
        }
        artwork_images_free(img, n);
        free(pic);
    }
}

static void expect_refused(const uint8_t *pic, size_t len, const char *why)
{
    struct artwork_opts o = opts();
    struct artwork_image img[ARTWORK_MAX_SIZES];
    size_t n = 99;
    char err[256] = "";
    int rc = artwork_render(pic, len, &o, img, &n, err, sizeof err);
    assert_int_equal(rc, -1);
    assert_int_equal(n, 0);
    if (!strstr(err, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err);
}

static void damaged_and_absurd_pictures_are_refused(void **state)
{
    (void)state;
    size_t len;
    uint8_t *jpg = make_picture(AV_CODEC_ID_MJPEG, 300, 300, &len);
    expect_refused(jpg, 0, "empty");
    expect_refused(jpg, len / 2, "truncated");
    expect_refused((const uint8_t *)"GIF89a not supported", 20, "neither JPEG nor PNG");
    /* The frame header declares 30000x30000: refused before decoding, at once. */
    uint8_t *huge = malloc(len);
    memcpy(huge, jpg, len);
    for (size_t i = 0; i + 9 < len; i++)
        if (huge[i] == 0xff && huge[i + 1] == 0xc0) {
            huge[i + 5] = 30000 >> 8;
            huge[i + 6] = 30000 & 0xff;
            huge[i + 7] = 30000 >> 8;
            huge[i + 8] = 30000 & 0xff;
            break;
        }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    expect_refused(huge, len, "30000x30000");
    clock_gettime(CLOCK_MONOTONIC, &b);
    assert_true(b.tv_sec - a.tv_sec < 5);
    size_t plen;
    uint8_t *png = make_picture(AV_CODEC_ID_PNG, 64, 64, &plen);
    expect_refused(png, plen - 4, "truncated");
    /* PNG's IHDR: width at 16, height at 20, big-endian. */
    png[16] = png[20] = 0;
    png[17] = png[21] = 1;
    png[18] = png[22] = 0;
    png[19] = png[23] = 0;
    expect_refused(png, plen, "65536x65536");
    free(huge);
    free(jpg);
    free(png);
}

static void touch(const char *dir, const char *name)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fclose(f);
}

/* The first name in the configured order wins, in any case, with a picture extension only. */
static void cover_file_follows_the_names_in_order(void **state)
{
    (void)state;
    char dir[] = "/tmp/artwork-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *names[] = {"cover", "folder", "front"};
    struct cfg_strlist list = {names, 3};
    char out[256];
    assert_int_equal(artwork_cover_file(dir, &list, out, sizeof out), 0);
    touch(dir, "cover.txt");
    touch(dir, "covers.jpg");
    touch(dir, "FRONT.jpeg");
    assert_int_equal(artwork_cover_file(dir, &list, out, sizeof out), 1);
    assert_string_equal(out, "FRONT.jpeg");
    touch(dir, "Folder.PNG");
    assert_int_equal(artwork_cover_file(dir, &list, out, sizeof out), 1);
    assert_string_equal(out, "Folder.PNG");
    touch(dir, "cover.jpg");
    touch(dir, "Cover.JPG");
    assert_int_equal(artwork_cover_file(dir, &list, out, sizeof out), 1);
    assert_string_equal(out, "Cover.JPG");
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sizes_parse_and_refuse_nonsense),
        cmocka_unit_test(renders_each_size_within_the_picture),
        cmocka_unit_test(damaged_and_absurd_pictures_are_refused),
        cmocka_unit_test(cover_file_follows_the_names_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
