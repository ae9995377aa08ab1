/* decode_open / decode_next on inputs whose channel layout the resampler
 * must follow: a WAV that only knows its channel count, a stereo one with
 * a mask, and an MP3 that turns from stereo to mono halfway. ctest also
 * runs this under valgrind (test_decode_memcheck), which is what catches
 * a layout read before it was initialised. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libavutil/log.h>

#include "decode.h"

#define RATE 48000
#define CMD_MAX 2048

static char dir[512];

/* Runs a shell command inside the test's folder. */
static void sh(const char *line)
{
    char cmd[CMD_MAX];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s", dir, line);
    if (system(cmd) != 0)
        fail_msg("command failed: %s", cmd);
}

static int64_t decode_all(const char *name)
{
    char path[600], err[256] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct decode_src *src = NULL;
    if (decode_open(&src, path, RATE, 2, AV_SAMPLE_FMT_FLTP, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
    int64_t total = 0;
    for (;;) {
        uint8_t **data;
        int n;
        if (decode_next(src, &data, &n, err, sizeof err) != 0)
            fail_msg("%s: %s", name, err);
        if (n == 0)
            break;
        total += n;
    }
    decode_close(&src);
    return total;
}

static void layouts_are_followed_to_the_last_sample(void **state)
{
    (void)state;
    assert_int_equal(decode_all("unspec.wav"), RATE);
    assert_int_equal(decode_all("stereo.wav"), RATE);
    int64_t n = decode_all("change.mp3");
    /* Two 1 s MP3 streams: about 2 s, whatever the encoder's padding. */
    assert_true(n > 19 * RATE / 10 && n < 22 * RATE / 10);
}

static int setup(void **state)
{
    (void)state;
    av_log_set_level(AV_LOG_QUIET);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_decode.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
#define FF "ffmpeg -nostdin -v error -y "
    sh(FF "-f lavfi -i sine=sample_rate=48000:duration=1 -ac 3 -c:a pcm_s16le "
           "-write_channel_mask 0 unspec.wav");
    sh(FF "-f lavfi -i sine=sample_rate=44100:duration=1 -ac 2 -c:a pcm_s16le -ar 48000 stereo.wav");
    sh(FF "-f lavfi -i sine=sample_rate=44100:duration=1 -ac 2 -c:a libmp3lame -write_xing 0 "
           "-id3v2_version 0 a.mp3");
    sh(FF "-f lavfi -i sine=sample_rate=22050:duration=1 -ac 1 -c:a libmp3lame -write_xing 0 "
           "-id3v2_version 0 b.mp3");
    sh("cat a.mp3 b.mp3 > change.mp3");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!getenv("TEST_KEEP_TMP"))
        sh("rm -f unspec.wav stereo.wav a.mp3 b.mp3 change.mp3 && cd / && rmdir \"$OLDPWD\"");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layouts_are_followed_to_the_last_sample),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
