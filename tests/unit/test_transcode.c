/* tc_transcode_file against real media: every input is made by the ffmpeg
 * CLI in a private temp dir, and every output is checked with ffprobe and
 * ffmpeg as a player would see it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ebur128.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "loudness.h"
#include "segmenter.h"
#include "transcode.h"

#define AAC_FRAME 1024
#define MAX_SEGMENTS 64
#define CMD_MAX 2048
#define OUT_MAX 65536

struct env {
    char dir[512];
};

static const struct tc_params station = {
    .sample_rate = 48000,
    .channels = 2,
    .bitrate = 128000,
    .segment_seconds = 6.0,
    .min_tail_seconds = 0.5,
    .normalize = 0,
    .target_lufs = -16.0,
    .true_peak_dbtp = -1.0,
    .max_lost_seconds = 2.0,
};

/* ---- helpers ------------------------------------------------------------- */

/* Runs a shell command, stdout and stderr captured together; returns its
 * exit status (-1 if it could not run). */
static int run(const char *cmd, char *out, size_t outlen)
{
    char full[CMD_MAX + 16];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p)
        return -1;
    size_t len = 0;
    char sink[4096];
    size_t n;
    do {
        if (len + 1 < outlen) {
            n = fread(out + len, 1, outlen - len - 1, p);
            len += n;
        } else {
            n = fread(sink, 1, sizeof sink, p);
        }
    } while (n > 0);
    if (outlen)
        out[len] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void path_in(const struct env *e, const char *name, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s", e->dir, name);
}

static void make_input(const struct env *e, const char *name, const char *args)
{
    char path[600], cmd[CMD_MAX], out[OUT_MAX];
    path_in(e, name, path, sizeof path);
    snprintf(cmd, sizeof cmd, "cd '%s' && ffmpeg -nostdin -v error -y %s '%s'", e->dir, args, path);
    int rc = run(cmd, out, sizeof out);
    if (rc != 0)
        fail_msg("could not make %s: %s", name, out);
}

static void write_file(const struct env *e, const char *name, const void *data, size_t size)
{
    char path[600];
    path_in(e, name, path, sizeof path);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

/* Deterministic bytes, so a "corrupt" input is the same on every run. */
static uint8_t noise_byte(uint32_t *state)
{
    *state = *state * 1664525u + 1013904223u;
    return (uint8_t)(*state >> 24);
}

/* Grid boundary k, in AAC packets. */
static int64_t boundary(const struct tc_params *p, int k)
{
    return llround(k * p->segment_seconds * p->sample_rate / AAC_FRAME);
}

/* The packets of each segment, from segmenter.h's definition: the grid
 * over the encoder's ceil((N + 1024) / 1024) packets, then a tail under
 * min_tail_seconds joined to the segment before while the sum rounds to
 * the target duration, else topped up from it. */
static int expected_cut(const struct tc_params *p, int64_t source_samples, int64_t *len, int max)
{
    int64_t packets = (source_samples + AAC_FRAME + AAC_FRAME - 1) / AAC_FRAME;
    int n = 0;
    for (int k = 0; boundary(p, k) < packets && n < max; k++, n++)
        len[n] = (boundary(p, k + 1) < packets ? boundary(p, k + 1) : packets) - boundary(p, k);
    int64_t tail_min = (int64_t)ceil(p->min_tail_seconds * p->sample_rate / AAC_FRAME);
    long target = lround((double)(int64_t)ceil(p->segment_seconds * p->sample_rate / AAC_FRAME) *
                         AAC_FRAME / p->sample_rate);
    if (n >= 2 && len[n - 1] < tail_min) {
        int64_t sum = len[n - 2] + len[n - 1];
        if (lround((double)sum * AAC_FRAME / p->sample_rate) <= target) {
            len[n - 2] = sum;
            n--;
        } else {
            len[n - 2] = sum - tail_min;
            len[n - 1] = tail_min;
        }
    }
    return n;
}

/* What the callback saw. Segments are written to <dir>/<name>_<k>.ts and
 * appended to <dir>/<name>_all.ts. */
struct capture {
    const struct env *env;
    const char *name;
    int count;
    int out_of_order;
    int empty;
    int fail_at;
    int64_t samples[MAX_SEGMENTS];
    double duration[MAX_SEGMENTS];
    uint64_t hash;
};

static void capture_init(struct capture *c, const struct env *e, const char *name)
{
    memset(c, 0, sizeof *c);
    c->env = e;
    c->name = name;
    c->fail_at = -1;
    c->hash = 1469598103934665603ull;
    if (name) {
        char path[600];
        snprintf(path, sizeof path, "%s/%s_all.ts", e->dir, name);
        remove(path);
    }
}

static void segment_path(const struct capture *c, int k, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s_%d.ts", c->env->dir, c->name, k);
}

static int capture_segment(void *ctx, const struct tc_segment *seg, char *err, size_t errlen)
{
    struct capture *c = ctx;
    if (seg->index == c->fail_at) {
        snprintf(err, errlen, "disk full (test)");
        return -1;
    }
    if (seg->index != c->count || c->count >= MAX_SEGMENTS)
        c->out_of_order = 1;
    if (!seg->data || seg->size == 0 || seg->samples <= 0)
        c->empty = 1;
    if (c->out_of_order || c->empty)
        return 0;
    c->samples[c->count] = seg->samples;
    c->duration[c->count] = seg->duration;
    for (size_t i = 0; i < seg->size; i++)
        c->hash = (c->hash ^ seg->data[i]) * 1099511628211ull;
    if (c->name) {
        char path[600];
        segment_path(c, c->count, path, sizeof path);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(seg->data, 1, seg->size, f) != seg->size)
            return -1;
        fclose(f);
        snprintf(path, sizeof path, "%s/%s_all.ts", c->env->dir, c->name);
        f = fopen(path, "ab");
        if (!f || fwrite(seg->data, 1, seg->size, f) != seg->size)
            return -1;
        fclose(f);
    }
    c->count++;
    return 0;
}

static void transcode_ok(const struct env *e, const char *input, const struct tc_params *p,
                         struct capture *c, struct tc_result *r)
{
    char path[600], err[512] = "";
    path_in(e, input, path, sizeof path);
    int rc = tc_transcode_file(path, p, capture_segment, c, r, err, sizeof err);
    if (rc != 0)
        fail_msg("%s: %s", input, err);
    assert_false(c->out_of_order);
    assert_false(c->empty);
}

static void transcode_fails(const struct env *e, const char *input, char *err, size_t errlen)
{
    char path[600];
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, NULL);
    path_in(e, input, path, sizeof path);
    err[0] = '\0';
    assert_true(tc_transcode_file(path, &station, capture_segment, &c, &r, err, errlen) < 0);
    assert_true(strlen(err) > 0);
    assert_int_equal(c.count, 0);
}

/* The cumulative grid of transcode.h, recomputed from the definition. */
static void assert_grid(const struct capture *c, const struct tc_result *r,
                        const struct tc_params *p)
{
    int64_t len[MAX_SEGMENTS];
    int expected = expected_cut(p, r->source_samples, len, MAX_SEGMENTS);
    int64_t n = r->samples;
    assert_int_equal(n, (r->source_samples + 2 * AAC_FRAME - 1) / AAC_FRAME * AAC_FRAME);
    assert_int_equal(r->segments, expected);
    assert_int_equal(c->count, expected);

    int64_t sum = 0;
    double seconds = 0;
    for (int k = 0; k < c->count; k++) {
        assert_int_equal(c->samples[k], len[k] * AAC_FRAME);
        assert_true(fabs(c->duration[k] - (double)c->samples[k] / p->sample_rate) < 1e-12);
        sum += c->samples[k];
        seconds += c->duration[k];
    }
    assert_int_equal(sum, n);
    assert_true(fabs(seconds - (double)n / p->sample_rate) < 1e-9);
    assert_true(fabs(r->duration - (double)n / p->sample_rate) < 1e-12);
}

static double probe_double(const char *cmd)
{
    char out[OUT_MAX];
    if (run(cmd, out, sizeof out) != 0)
        fail_msg("%s: %s", cmd, out);
    return strtod(out, NULL);
}

/* Seconds of audio FFmpeg decodes from the source (encoder delay and
 * padding trimmed where the container says how much). */
static double decoded_seconds(const char *path)
{
    char cmd[CMD_MAX], out[OUT_MAX];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams a:0 -show_entries frame=nb_samples "
             "-of csv=p=0 '%s' | awk '{s += $1} END {print s}'", path);
    double samples = probe_double(cmd);
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate "
             "-of csv=p=0 '%s'", path);
    if (run(cmd, out, sizeof out) != 0)
        fail_msg("%s", out);
    return samples / strtod(out, NULL);
}

static void assert_matches_source_duration(const struct env *e, const char *input,
                                           const struct tc_result *r, int container_exact)
{
    char path[600], cmd[CMD_MAX];
    path_in(e, input, path, sizeof path);
    double frame = (double)AAC_FRAME / station.sample_rate;
    double source = (double)r->source_samples / station.sample_rate;
    assert_true(fabs(source - decoded_seconds(path)) <= frame);
    if (container_exact) {
        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -show_entries format=duration -of csv=p=0 '%s'", path);
        assert_true(fabs(source - probe_double(cmd)) <= frame);
    }
}

/* Each segment alone: decodes without a single error message, and is
 * AAC-LC in the station format. */
static void assert_segments_standalone(const struct capture *c, const struct tc_params *p)
{
    char path[600], cmd[CMD_MAX], out[OUT_MAX], want[128];
    for (int k = 0; k < c->count; k++) {
        segment_path(c, k, path, sizeof path);
        snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v error -i '%s' -f null -", path);
        int rc = run(cmd, out, sizeof out);
        if (rc != 0 || out[0])
            fail_msg("segment %d does not decode alone: %s", k, out);

        snprintf(cmd, sizeof cmd,
                 "ffprobe -v error -show_entries stream=codec_name,profile,sample_rate,channels "
                 "-of default=nw=1 '%s'", path);
        assert_int_equal(run(cmd, out, sizeof out), 0);
        assert_non_null(strstr(out, "codec_name=aac\n"));
        assert_non_null(strstr(out, "profile=LC\n"));
        snprintf(want, sizeof want, "sample_rate=%d\n", p->sample_rate);
        assert_non_null(strstr(out, want));
        snprintf(want, sizeof want, "channels=%d\n", p->channels);
        assert_non_null(strstr(out, want));
    }
}

struct packet_times {
    int count;
    int64_t first_pts, last_pts, last_duration;
    int gaps;  /* consecutive packets whose pts jump by other than the duration */
};

static struct packet_times segment_packets(const struct capture *c, int k, int64_t tolerance)
{
    char path[600], cmd[CMD_MAX];
    size_t outlen = 1 << 20;
    char *out = malloc(outlen);
    assert_non_null(out);
    segment_path(c, k, path, sizeof path);
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -select_streams a:0 -show_entries packet=pts,duration "
             "-of csv=p=0 '%s'", path);
    assert_int_equal(run(cmd, out, outlen), 0);
    struct packet_times t = { 0 };
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        long long pts, dur;
        if (sscanf(line, "%lld,%lld", &pts, &dur) != 2)
            continue;
        if (t.count == 0)
            t.first_pts = pts;
        else if (llabs(pts - (t.last_pts + t.last_duration)) > tolerance)
            t.gaps++;
        t.last_pts = pts;
        t.last_duration = dur;
        t.count++;
    }
    free(out);
    return t;
}

/* Segment k holds exactly the packets it declares (ffprobe counts them),
 * starts with the packet after the previous segment's last, stamped from
 * its absolute sample count, and the timeline runs on without a gap. */
static void assert_pts_continuous(const struct capture *c, const struct tc_params *p,
                                  int64_t tolerance)
{
    struct packet_times prev = { 0 };
    int64_t first_packet = 0;
    for (int k = 0; k < c->count; k++) {
        struct packet_times t = segment_packets(c, k, tolerance);
        assert_int_equal(t.count * AAC_FRAME, c->samples[k]);
        assert_int_equal(t.gaps, 0);
        int64_t want = (first_packet * AAC_FRAME * 90000 + p->sample_rate / 2) / p->sample_rate;
        assert_int_equal(t.first_pts, want);
        if (k > 0)
            assert_true(llabs(t.first_pts - (prev.last_pts + prev.last_duration)) <= tolerance);
        prev = t;
        first_packet += t.count;
    }
}

static void measure_ebur128(const char *path, double *lufs, double *peak)
{
    char cmd[CMD_MAX];
    size_t outlen = 4 << 20;
    char *out = malloc(outlen);
    assert_non_null(out);
    snprintf(cmd, sizeof cmd,
             "ffmpeg -nostdin -nostats -hide_banner -i '%s' -af ebur128=peak=true -f null -", path);
    assert_int_equal(run(cmd, out, outlen), 0);
    const char *summary = strstr(out, "Summary:");
    assert_non_null(summary);
    const char *i = strstr(summary, "I:");
    const char *pk = strstr(summary, "Peak:");
    assert_non_null(i);
    assert_non_null(pk);
    *lufs = strtod(i + 2, NULL);
    *peak = strtod(pk + 5, NULL);
    free(out);
}

static void check_track(const struct env *e, const char *input, const char *name,
                        int container_exact, struct tc_result *r)
{
    struct capture c;
    capture_init(&c, e, name);
    transcode_ok(e, input, &station, &c, r);
    assert_grid(&c, r, &station);
    assert_matches_source_duration(e, input, r, container_exact);
    assert_segments_standalone(&c, &station);
    assert_pts_continuous(&c, &station, 0);
}

/* ---- fixtures ------------------------------------------------------------ */

static void make_corrupt_copies(const struct env *e)
{
    char path[600];
    size_t size;
    uint32_t seed = 12345;

    /* 3 KB of noise in the middle of an otherwise good MP3. */
    path_in(e, "cover.mp3", path, sizeof path);
    uint8_t *mp3 = read_file(path, &size);
    for (size_t i = size / 2; i < size / 2 + 3000; i++)
        mp3[i] = noise_byte(&seed);
    write_file(e, "damaged_middle.mp3", mp3, size);
    free(mp3);

    /* A real FLAC header followed by nothing but noise. */
    path_in(e, "hires.flac", path, sizeof path);
    uint8_t *flac = read_file(path, &size);
    size_t keep = 8192, total = 200000;
    uint8_t *garbage = malloc(total);
    assert_non_null(garbage);
    memcpy(garbage, flac, keep);
    for (size_t i = keep; i < total; i++)
        garbage[i] = noise_byte(&seed);
    write_file(e, "noise_after_header.flac", garbage, total);
    free(garbage);
    free(flac);
}

/* Two raw MP3 streams back to back: the decoder switches from 44.1 kHz
 * stereo to 22.05 kHz mono halfway through. */
static void make_format_change(const struct env *e)
{
    make_input(e, "part_a.mp3",
               "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=3 -ac 2 "
               "-c:a libmp3lame -write_xing 0 -id3v2_version 0");
    make_input(e, "part_b.mp3",
               "-f lavfi -i sine=frequency=660:sample_rate=22050:duration=3 -ac 1 "
               "-c:a libmp3lame -write_xing 0 -id3v2_version 0");
    char path[600];
    size_t a_size, b_size;
    path_in(e, "part_a.mp3", path, sizeof path);
    uint8_t *a = read_file(path, &a_size);
    path_in(e, "part_b.mp3", path, sizeof path);
    uint8_t *b = read_file(path, &b_size);
    uint8_t *ab = malloc(a_size + b_size);
    assert_non_null(ab);
    memcpy(ab, a, a_size);
    memcpy(ab + a_size, b, b_size);
    write_file(e, "format_change.mp3", ab, a_size + b_size);
    free(ab);
    free(b);
    free(a);
}

static int group_setup(void **state)
{
    av_log_set_level(AV_LOG_QUIET);
    struct env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(e->dir, sizeof e->dir, "%s/test_transcode.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(e->dir)) {
        free(e);
        return -1;
    }
    *state = e;

    static const char meta_mp3[] = ";FFMETADATA1\nartist=Test Artist\ntitle=Two\\\nLines\n";
    static const char meta_flac[] = ";FFMETADATA1\ntitle=Caf\xe9\n";
    write_file(e, "meta_mp3.txt", meta_mp3, sizeof meta_mp3 - 1);
    write_file(e, "meta_flac.txt", meta_flac, sizeof meta_flac - 1);

    make_input(e, "cover.png", "-f lavfi -i color=c=red:size=64x64 -frames:v 1");
    make_input(e, "cover.mp3",
               "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=20 -i cover.png "
               "-i meta_mp3.txt -map 0:a -map 1:v -map_metadata 2 -ac 2 -c:v mjpeg "
               "-disposition:v attached_pic -c:a libmp3lame -b:a 128k");
    make_input(e, "hires.flac",
               "-f lavfi -i sine=frequency=1000:sample_rate=96000:duration=13 -ac 2 "
               "-c:a flac -sample_fmt s32 -bits_per_raw_sample 24");
    make_input(e, "mono8k.wav",
               "-f lavfi -i sine=frequency=300:sample_rate=8000:duration=7 -c:a pcm_s16le");
    make_input(e, "surround.wav",
               "-f lavfi -i anoisesrc=color=pink:sample_rate=48000:amplitude=0.3:duration=9 "
               "-af 'pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0' -c:a pcm_s32le");
    make_input(e, "vorbis.ogg",
               "-f lavfi -i sine=frequency=500:sample_rate=44100:duration=8 -ac 2 "
               "-c:a libvorbis -metadata ARTIST=Vorbis\\ Band -metadata TITLE=Ogg");
    make_input(e, "opus.opus",
               "-f lavfi -i sine=frequency=500:sample_rate=48000:duration=8 -ac 2 -c:a libopus");
    make_input(e, "aac.m4a",
               "-f lavfi -i sine=frequency=500:sample_rate=44100:duration=8 -ac 2 -c:a aac "
               "-metadata album_artist=Album\\ Only -metadata title=M4A");
    make_input(e, "latin1.flac",
               "-f lavfi -i sine=sample_rate=44100:duration=1 -i meta_flac.txt -map 0:a "
               "-map_metadata 1 -c:a flac");
    make_input(e, "short.wav",
               "-f lavfi -i sine=frequency=500:sample_rate=44100:duration=2 -ac 2 -c:a pcm_f32le");
    make_input(e, "on_boundary.wav",
               "-f lavfi -i sine=sample_rate=48000:duration=10 -af atrim=end_sample=287744 "
               "-c:a pcm_s16le");
    make_input(e, "past_boundary.wav",
               "-f lavfi -i sine=sample_rate=48000:duration=10 -af atrim=end_sample=287745 "
               "-c:a pcm_s16le");
    make_input(e, "minute.flac",
               "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=61.3 -c:a flac");
    make_input(e, "quiet.flac",
               "-f lavfi -i anoisesrc=color=pink:sample_rate=44100:amplitude=0.17:seed=7:duration=20 "
               "-ac 2 -c:a flac");
    /* Rare full-scale bursts over a quiet tone: reaching -16 LUFS would
     * clip, so the true-peak ceiling decides the gain. */
    make_input(e, "peaky.wav",
               "-f lavfi -i "
               "'aevalsrc=0.05*sin(2*PI*440*t)+0.95*sin(2*PI*3000*t)*lt(mod(t\\,1)\\,0.002)|"
               "0.05*sin(2*PI*440*t)+0.95*sin(2*PI*3000*t)*lt(mod(t\\,1)\\,0.002):s=48000:d=20' "
               "-c:a pcm_f32le");
    make_input(e, "silence.wav", "-f lavfi -i anullsrc=r=44100:cl=stereo -t 3 -c:a pcm_s16le");
    make_input(e, "video_only.mkv", "-f lavfi -i color=c=blue:size=64x64:duration=2 -c:v mpeg4");
    write_file(e, "empty.mp3", "", 0);
    static const char text[] = "This is a shopping list, not a song.\nMilk\nEggs\n";
    write_file(e, "text.mp3", text, sizeof text - 1);
    make_corrupt_copies(e);
    make_format_change(e);
    return 0;
}

static int group_teardown(void **state)
{
    struct env *e = *state;
    if (!e)
        return 0;
    if (!getenv("TEST_KEEP_TMP")) {
        DIR *d = opendir(e->dir);
        if (d) {
            struct dirent *de;
            char path[1024];
            while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                    continue;
                snprintf(path, sizeof path, "%s/%s", e->dir, de->d_name);
                unlink(path);
            }
            closedir(d);
        }
        rmdir(e->dir);
    }
    free(e);
    return 0;
}

/* ---- behaviour: formats and the grid ------------------------------------- */

static void mp3_with_cover_art_is_cut_on_the_grid(void **state)
{
    struct tc_result r;
    /* MP3's container duration counts the encoder delay and padding that
     * the decoder trims, so only the decoded length is comparable. */
    check_track(*state, "cover.mp3", "cover", 0, &r);
    assert_int_equal(r.source_samples, 20 * 48000);
    assert_int_equal(r.segments, 4);
}

static void hires_flac_is_resampled_to_station_rate(void **state)
{
    struct tc_result r;
    check_track(*state, "hires.flac", "hires", 1, &r);
    assert_int_equal(r.source_samples, 13 * 48000);
}

static void mono_8k_wav_becomes_station_stereo(void **state)
{
    struct tc_result r;
    check_track(*state, "mono8k.wav", "mono8k", 1, &r);
    assert_int_equal(r.source_samples, 7 * 48000);
}

static void surround_wav_is_downmixed(void **state)
{
    struct tc_result r;
    check_track(*state, "surround.wav", "surround", 1, &r);
    assert_int_equal(r.source_samples, 9 * 48000);
}

static void vorbis_opus_and_m4a_inputs_transcode(void **state)
{
    struct tc_result r;
    check_track(*state, "vorbis.ogg", "vorbis", 1, &r);
    check_track(*state, "opus.opus", "opus", 1, &r);
    check_track(*state, "aac.m4a", "m4a", 1, &r);
}

static void short_track_is_one_short_segment(void **state)
{
    struct tc_result r;
    check_track(*state, "short.wav", "short", 1, &r);
    assert_int_equal(r.segments, 1);
    assert_int_equal(r.source_samples, 2 * 48000);
}

/* 281 frames of source are 282 packets with the priming: the packet past
 * the grid's first boundary is a tail, and joins the first segment. */
static void track_ending_on_a_boundary_has_no_tiny_segment(void **state)
{
    struct tc_result r;
    check_track(*state, "on_boundary.wav", "on_boundary", 1, &r);
    assert_int_equal(r.source_samples, boundary(&station, 1) * AAC_FRAME);
    assert_int_equal(r.samples, (boundary(&station, 1) + 1) * AAC_FRAME);
    assert_int_equal(r.segments, 1);

    check_track(*state, "past_boundary.wav", "past_boundary", 1, &r);
    assert_int_equal(r.segments, 1);
}

static void segment_durations_sum_to_source_duration(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, NULL);
    transcode_ok(e, "minute.flac", &station, &c, &r);
    assert_grid(&c, &r, &station);
    assert_matches_source_duration(e, "minute.flac", &r, 1);

    /* No drift: every cut is within half an AAC frame of k * 6 s. */
    int64_t cut = 0;
    for (int k = 0; k < c.count; k++) {
        assert_true(fabs((double)cut / station.sample_rate - k * station.segment_seconds) <=
                    0.5 * AAC_FRAME / station.sample_rate + 1e-9);
        cut += c.samples[k];
    }
    /* At 48 kHz a 6 s grid alternates 281 and 282 frames. */
    assert_int_equal(c.samples[0], 281 * AAC_FRAME);
    assert_int_equal(c.samples[1], 282 * AAC_FRAME);
}

/* Straight into the segmenter, for speed: every tail length from none to
 * past the threshold, after one and after two whole segments, and tracks
 * shorter than the threshold. */
static void tails_of_every_length_around_the_threshold(void **state)
{
    (void)state;
    const struct segmenter_params sp = {station.sample_rate, station.channels, station.bitrate,
                                        station.segment_seconds, station.min_tail_seconds};
    int64_t tail_min = (int64_t)ceil(sp.min_tail_seconds * sp.sample_rate / AAC_FRAME);
    static float silence[AAC_FRAME];
    uint8_t *planes[2] = {(uint8_t *)silence, (uint8_t *)silence};
    int checked_merge = 0, checked_borrow = 0;
    for (int whole = 0; whole <= 2; whole++) {
        for (int64_t tail = whole ? 0 : 1; tail <= tail_min + 3; tail++) {
            int64_t packets = boundary(&station, whole) + tail;
            /* N source samples make ceil((N + 1024) / 1024) packets. */
            int64_t n = (packets - 2) * AAC_FRAME + 1;
            if (n < 1)
                continue;
            struct capture c;
            capture_init(&c, NULL, NULL);
            struct segmenter *sg = NULL;
            char err[256] = "";
            assert_int_equal(segmenter_open(&sg, &sp, capture_segment, &c, err, sizeof err), 0);
            for (int64_t left = n; left > 0; left -= AAC_FRAME)
                assert_int_equal(segmenter_write(sg, planes, left < AAC_FRAME ? (int)left : AAC_FRAME,
                                                 err, sizeof err), 0);
            assert_int_equal(segmenter_finish(sg, err, sizeof err), 0);
            struct tc_result r = {.samples = segmenter_samples(sg),
                                  .source_samples = segmenter_source_samples(sg),
                                  .segments = segmenter_segments(sg)};
            r.duration = (double)r.samples / sp.sample_rate;
            segmenter_free(&sg);
            assert_int_equal(r.samples, packets * AAC_FRAME);
            assert_grid(&c, &r, &station);
            for (int k = 0; k < c.count; k++) {
                if (c.count > 1)
                    assert_true(c.samples[k] >= tail_min * AAC_FRAME);
                assert_true(lround(c.duration[k]) <= lround(station.segment_seconds));
            }
            if (whole && tail && tail < tail_min) {
                int64_t last = c.samples[c.count - 1] / AAC_FRAME;
                checked_merge += last > tail_min;
                checked_borrow += last == tail_min;
            }
        }
    }
    /* Both ways of absorbing a tail were exercised. */
    assert_true(checked_merge > 0);
    assert_true(checked_borrow > 0);
}

static void pts_run_on_across_segments(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "continuity");
    transcode_ok(e, "cover.mp3", &station, &c, &r);
    /* 1024 samples are exactly 1920 ticks of 90 kHz at 48 kHz. */
    assert_pts_continuous(&c, &station, 0);
}

static void station_44100_mono_keeps_grid_and_timestamps(void **state)
{
    const struct env *e = *state;
    struct tc_params p = station;
    p.sample_rate = 44100;
    p.channels = 1;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "mono44");
    transcode_ok(e, "minute.flac", &p, &c, &r);
    assert_grid(&c, &r, &p);
    assert_segments_standalone(&c, &p);
    /* A frame is 2089.8 ticks here: demuxers interpolate packets inside a
     * PES to whole ticks, so allow the rounding of a few frames. */
    assert_pts_continuous(&c, &p, 3);
}

static void segments_concatenated_play_as_one_stream(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "joined");
    transcode_ok(e, "hires.flac", &station, &c, &r);
    char cmd[CMD_MAX], out[OUT_MAX];
    snprintf(cmd, sizeof cmd, "ffmpeg -nostdin -v warning -i '%s/joined_all.ts' -f null -", e->dir);
    int rc = run(cmd, out, sizeof out);
    if (rc != 0 || out[0])
        fail_msg("concatenated segments: %s", out);
}

/* ---- behaviour: loudness ------------------------------------------------- */

static void quiet_track_is_normalised_to_target(void **state)
{
    const struct env *e = *state;
    struct tc_params p = station;
    p.normalize = 1;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "quiet");
    transcode_ok(e, "quiet.flac", &p, &c, &r);
    assert_grid(&c, &r, &p);
    assert_true(r.normalized);
    assert_true(fabs(r.measured_lufs - -30.0) < 1.0);
    assert_true(fabs(r.gain_db - (p.target_lufs - r.measured_lufs)) < 1e-9);

    char path[600];
    double lufs, peak;
    snprintf(path, sizeof path, "%s/quiet_all.ts", e->dir);
    measure_ebur128(path, &lufs, &peak);
    assert_true(fabs(lufs - p.target_lufs) <= 1.0);
}

static void true_peak_ceiling_limits_the_gain(void **state)
{
    const struct env *e = *state;
    struct tc_params p = station;
    p.normalize = 1;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "peaky");
    transcode_ok(e, "peaky.wav", &p, &c, &r);
    assert_true(r.measured_true_peak_dbtp > -0.5);
    assert_true(fabs(r.gain_db - (p.true_peak_dbtp - r.measured_true_peak_dbtp)) < 1e-9);
    assert_true(r.gain_db < p.target_lufs - r.measured_lufs);

    char path[600];
    double lufs, peak;
    snprintf(path, sizeof path, "%s/peaky_all.ts", e->dir);
    measure_ebur128(path, &lufs, &peak);
    assert_true(peak <= p.true_peak_dbtp + 0.5);
}

static void normalize_off_applies_no_gain_and_measures_nothing(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, NULL);
    transcode_ok(e, "quiet.flac", &station, &c, &r);
    assert_false(r.normalized);
    assert_true(r.gain_db == 0.0);
    assert_true(isnan(r.measured_lufs));
    assert_true(isnan(r.measured_true_peak_dbtp));
}

static void silent_track_gets_no_gain(void **state)
{
    const struct env *e = *state;
    struct tc_params p = station;
    p.normalize = 1;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, NULL);
    transcode_ok(e, "silence.wav", &p, &c, &r);
    assert_true(r.normalized);
    assert_true(isinf(r.measured_lufs) && r.measured_lufs < 0);
    assert_true(r.gain_db == 0.0);
    assert_int_equal(r.segments, 1);
}

static void gain_is_the_smaller_of_loudness_and_peak_headroom(void **state)
{
    (void)state;
    assert_true(fabs(loud_gain_for(-30.0, -20.0, -16.0, -1.0) - 14.0) < 1e-12);
    assert_true(fabs(loud_gain_for(-30.0, -10.0, -16.0, -1.0) - 9.0) < 1e-12);
    assert_true(fabs(loud_gain_for(-8.0, -0.1, -16.0, -1.0) - -8.0) < 1e-12);
    assert_true(loud_gain_for(-INFINITY, -INFINITY, -16.0, -1.0) == 0.0);
    assert_true(loud_gain_for(NAN, NAN, -16.0, -1.0) == 0.0);
}

/* A tone at a quarter of the rate, 45 degrees off: every sample sits at
 * 0.707 of the crest, which only oversampling can see. */
static void true_peak_matches_libebur128_and_sees_intersample_peaks(void **state)
{
    (void)state;
    const int rates[] = { 44100, 48000, 96000 };
    for (size_t ri = 0; ri < sizeof rates / sizeof rates[0]; ri++) {
        int rate = rates[ri];
        size_t n = (size_t)rate * 2;
        float *buf = malloc(n * 2 * sizeof(float));
        assert_non_null(buf);
        for (size_t i = 0; i < n; i++) {
            buf[2 * i] = (float)(0.5 * sin(2 * M_PI * (rate / 4.0) * i / rate + M_PI / 4));
            buf[2 * i + 1] = (float)(0.25 * sin(2 * M_PI * 997.0 * i / rate));
        }
        char err[256];
        struct loud_meter *m = loud_new(2, rate, LOUD_TRUE_PEAK, err, sizeof err);
        assert_non_null(m);
        ebur128_state *ref = ebur128_init(2, (unsigned long)rate, EBUR128_MODE_TRUE_PEAK);
        assert_non_null(ref);
        for (size_t off = 0; off < n; off += 3000) {
            size_t len = n - off < 3000 ? n - off : 3000;
            assert_int_equal(loud_add(m, buf + 2 * off, len, err, sizeof err), 0);
            assert_int_equal(ebur128_add_frames_float(ref, buf + 2 * off, len), EBUR128_SUCCESS);
        }
        double a, b;
        ebur128_true_peak(ref, 0, &a);
        ebur128_true_peak(ref, 1, &b);
        double ref_db = 20 * log10(a > b ? a : b);
        assert_true(fabs(loud_true_peak_db(m) - ref_db) < 0.01);
        assert_true(loud_sample_peak_db(m) < loud_true_peak_db(m) - 2.0);
        if (rate < 96000)
            assert_true(fabs(loud_true_peak_db(m) - 20 * log10(0.5)) < 0.2);
        ebur128_destroy(&ref);
        loud_free(m);
        free(buf);
    }
}

/* ---- behaviour: tags ----------------------------------------------------- */

static void tags_are_read_and_made_single_line_utf8(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;

    capture_init(&c, e, NULL);
    transcode_ok(e, "cover.mp3", &station, &c, &r);
    assert_string_equal(r.artist, "Test Artist");
    assert_string_equal(r.title, "Two Lines");

    capture_init(&c, e, NULL);
    transcode_ok(e, "vorbis.ogg", &station, &c, &r);
    assert_string_equal(r.artist, "Vorbis Band");
    assert_string_equal(r.title, "Ogg");

    capture_init(&c, e, NULL);
    transcode_ok(e, "aac.m4a", &station, &c, &r);
    assert_string_equal(r.artist, "Album Only");
    assert_string_equal(r.title, "M4A");

    capture_init(&c, e, NULL);
    transcode_ok(e, "latin1.flac", &station, &c, &r);
    assert_string_equal(r.artist, "");
    assert_string_equal(r.title, "Caf\xc3\xa9");

    capture_init(&c, e, NULL);
    transcode_ok(e, "short.wav", &station, &c, &r);
    assert_string_equal(r.artist, "");
    assert_string_equal(r.title, "");
}

static void probe_tags_reads_tags_without_decoding(void **state)
{
    const struct env *e = *state;
    char path[600], artist[256], title[256], err[256];
    path_in(e, "cover.mp3", path, sizeof path);
    assert_int_equal(tc_probe_tags(path, artist, sizeof artist, title, sizeof title,
                                   err, sizeof err), 0);
    assert_string_equal(artist, "Test Artist");
    assert_string_equal(title, "Two Lines");

    path_in(e, "aac.m4a", path, sizeof path);
    assert_int_equal(tc_probe_tags(path, artist, sizeof artist, title, sizeof title,
                                   err, sizeof err), 0);
    assert_string_equal(artist, "Album Only");

    path_in(e, "vorbis.ogg", path, sizeof path);
    assert_int_equal(tc_probe_tags(path, artist, sizeof artist, title, sizeof title,
                                   err, sizeof err), 0);
    assert_string_equal(artist, "Vorbis Band");
    assert_string_equal(title, "Ogg");

    /* "Café" needs 6 bytes with its NUL: a 5-byte buffer drops the é whole. */
    char small[5];
    path_in(e, "latin1.flac", path, sizeof path);
    assert_int_equal(tc_probe_tags(path, artist, sizeof artist, small, sizeof small,
                                   err, sizeof err), 0);
    assert_string_equal(small, "Caf");

    path_in(e, "empty.mp3", path, sizeof path);
    assert_true(tc_probe_tags(path, artist, sizeof artist, title, sizeof title,
                              err, sizeof err) < 0);
    assert_non_null(strstr(err, "empty"));
}

/* ---- behaviour: bad input ------------------------------------------------ */

static void empty_file_fails_with_message(void **state)
{
    char err[512];
    transcode_fails(*state, "empty.mp3", err, sizeof err);
    assert_non_null(strstr(err, "empty"));
}

static void text_file_named_mp3_fails_with_message(void **state)
{
    char err[512];
    transcode_fails(*state, "text.mp3", err, sizeof err);
}

static void file_without_audio_fails_with_message(void **state)
{
    char err[512];
    transcode_fails(*state, "video_only.mkv", err, sizeof err);
    assert_non_null(strstr(err, "no audio stream"));
}

static void missing_file_fails_with_message(void **state)
{
    char err[512];
    transcode_fails(*state, "does_not_exist.flac", err, sizeof err);
    assert_non_null(strstr(err, "No such file"));
}

static void undecodable_audio_fails_with_message(void **state)
{
    char err[512];
    transcode_fails(*state, "noise_after_header.flac", err, sizeof err);
    assert_non_null(strstr(err, "no audio could be decoded"));
}

static void damaged_packets_mid_file_are_skipped(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "damaged");
    transcode_ok(e, "damaged_middle.mp3", &station, &c, &r);
    assert_grid(&c, &r, &station);
    assert_true(r.duration > 19.0 && r.duration <= 20.1);
    assert_segments_standalone(&c, &station);
    /* The damage is counted and what it cost estimated, */
    assert_true(r.decode_errors > 0);
    assert_true(r.lost_seconds > 0 && r.lost_seconds < 1.0);
    for (int k = 0; k < c.count; k++) {
        char path[600];
        segment_path(&c, k, path, sizeof path);
        remove(path);
    }
    /* and past the threshold the file fails with a message that says so. */
    struct tc_params strict = station;
    strict.max_lost_seconds = r.lost_seconds / 2;
    char path[600], err[512] = "";
    capture_init(&c, e, NULL);
    path_in(e, "damaged_middle.mp3", path, sizeof path);
    assert_true(tc_transcode_file(path, &strict, capture_segment, &c, &r, err, sizeof err) < 0);
    assert_non_null(strstr(err, "damaged"));
}

static void format_change_mid_stream_is_followed(void **state)
{
    const struct env *e = *state;
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, "format_change");
    transcode_ok(e, "format_change.mp3", &station, &c, &r);
    assert_grid(&c, &r, &station);
    /* 3 s + 3 s, plus the encoder delay and padding raw MP3 cannot signal. */
    assert_true(r.duration >= 6.0 && r.duration < 6.2);
    assert_segments_standalone(&c, &station);
}

static void callback_error_stops_the_transcode(void **state)
{
    const struct env *e = *state;
    char path[600], err[512] = "";
    struct capture c;
    struct tc_result r;
    capture_init(&c, e, NULL);
    c.fail_at = 1;
    path_in(e, "cover.mp3", path, sizeof path);
    struct tc_params p = station;
    p.normalize = 1;
    assert_true(tc_transcode_file(path, &p, capture_segment, &c, &r, err, sizeof err) < 0);
    assert_string_equal(err, "disk full (test)");
    assert_int_equal(c.count, 1);
}

static void invalid_parameters_are_rejected(void **state)
{
    const struct env *e = *state;
    char path[600], err[512];
    struct capture c;
    struct tc_result r;
    path_in(e, "short.wav", path, sizeof path);
    struct tc_params bad[6];
    for (int i = 0; i < 6; i++)
        bad[i] = station;
    bad[0].channels = 3;
    bad[1].segment_seconds = 0;
    bad[2].bitrate = 0;
    bad[3].sample_rate = 0;
    bad[4].sample_rate = 12345;          /* not an AAC rate */
    bad[5].segment_seconds = 0.01;       /* shorter than one AAC frame */
    for (int i = 0; i < 6; i++) {
        capture_init(&c, e, NULL);
        err[0] = '\0';
        assert_true(tc_transcode_file(path, &bad[i], capture_segment, &c, &r, err, sizeof err) < 0);
        assert_true(strlen(err) > 0);
        assert_int_equal(c.count, 0);
    }
    err[0] = '\0';
    assert_true(tc_transcode_file(path, &station, NULL, NULL, &r, err, sizeof err) < 0);
    assert_true(strlen(err) > 0);
}

/* ---- behaviour: threads -------------------------------------------------- */

struct job {
    const struct env *env;
    const char *input;
    int normalize;
    uint64_t hash;
    int segments;
    int rc;
};

static void *run_job(void *arg)
{
    struct job *j = arg;
    char path[600], err[512];
    struct capture c;
    struct tc_result r;
    struct tc_params p = station;
    p.normalize = j->normalize;
    capture_init(&c, j->env, NULL);
    path_in(j->env, j->input, path, sizeof path);
    j->rc = tc_transcode_file(path, &p, capture_segment, &c, &r, err, sizeof err);
    j->hash = c.hash;
    j->segments = c.count;
    return NULL;
}

static void parallel_transcodes_match_serial_output(void **state)
{
    const struct env *e = *state;
    struct job jobs[] = {
        { .env = e, .input = "cover.mp3", .normalize = 1 },
        { .env = e, .input = "hires.flac", .normalize = 0 },
        { .env = e, .input = "surround.wav", .normalize = 1 },
        { .env = e, .input = "vorbis.ogg", .normalize = 0 },
    };
    enum { N = sizeof jobs / sizeof jobs[0] };
    struct job serial[N];
    for (int i = 0; i < N; i++) {
        serial[i] = jobs[i];
        run_job(&serial[i]);
        assert_int_equal(serial[i].rc, 0);
    }
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(jobs[i].rc, 0);
        assert_int_equal(jobs[i].segments, serial[i].segments);
        assert_true(jobs[i].hash == serial[i].hash);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mp3_with_cover_art_is_cut_on_the_grid),
        cmocka_unit_test(hires_flac_is_resampled_to_station_rate),
        cmocka_unit_test(mono_8k_wav_becomes_station_stereo),
        cmocka_unit_test(surround_wav_is_downmixed),
        cmocka_unit_test(vorbis_opus_and_m4a_inputs_transcode),
        cmocka_unit_test(short_track_is_one_short_segment),
        cmocka_unit_test(track_ending_on_a_boundary_has_no_tiny_segment),
        cmocka_unit_test(segment_durations_sum_to_source_duration),
        cmocka_unit_test(tails_of_every_length_around_the_threshold),
        cmocka_unit_test(pts_run_on_across_segments),
        cmocka_unit_test(station_44100_mono_keeps_grid_and_timestamps),
        cmocka_unit_test(segments_concatenated_play_as_one_stream),
        cmocka_unit_test(quiet_track_is_normalised_to_target),
        cmocka_unit_test(true_peak_ceiling_limits_the_gain),
        cmocka_unit_test(normalize_off_applies_no_gain_and_measures_nothing),
        cmocka_unit_test(silent_track_gets_no_gain),
        cmocka_unit_test(gain_is_the_smaller_of_loudness_and_peak_headroom),
        cmocka_unit_test(true_peak_matches_libebur128_and_sees_intersample_peaks),
        cmocka_unit_test(tags_are_read_and_made_single_line_utf8),
        cmocka_unit_test(probe_tags_reads_tags_without_decoding),
        cmocka_unit_test(empty_file_fails_with_message),
        cmocka_unit_test(text_file_named_mp3_fails_with_message),
        cmocka_unit_test(file_without_audio_fails_with_message),
        cmocka_unit_test(missing_file_fails_with_message),
        cmocka_unit_test(undecodable_audio_fails_with_message),
        cmocka_unit_test(damaged_packets_mid_file_are_skipped),
        cmocka_unit_test(format_change_mid_stream_is_followed),
        cmocka_unit_test(callback_error_stops_the_transcode),
        cmocka_unit_test(invalid_parameters_are_rejected),
        cmocka_unit_test(parallel_transcodes_match_serial_output),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
