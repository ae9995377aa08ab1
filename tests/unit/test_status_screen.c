/* radio-streamer --status: the screen made from a status.json written by
 * the streamer's own status writer and a schedule.json in its format, and
 * the verdict an operator's script reads from the exit code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"
#include "m3u8.h"
#include "status.h"
#include "status_screen.h"

#define T0 1800000000.0
#define TARGET 6
#define HEARTBEAT 60.0
#define LISTEN_DELAY 45.0
#define SCREEN_LINES 24

struct fixture {
    char dir[64], path[128];
    struct publisher_status pub;
    struct sched_item playing;
    struct status_view v;
    struct status_writer w;
    struct streamer_config cfg;
    char *status;
    char schedule[2048];
    char out[8192];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/radio-screen-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/status.json", f->dir);
    f->pub.last_ok = T0 - 2;
    f->pub.last_latency = 0.25;
    f->pub.publishes = 7;
    f->pub.node_ok = 1;
    f->pub.last_seq = 59;
    snprintf(f->pub.last_cid, sizeof f->pub.last_cid, "bafyplaylist");
    f->playing = (struct sched_item){.track_id = "t1", .title = "Artist 1 - Song 1", .cid = "bafyseg", .seq = 59,
                                     .pdt = T0 - 4, .duration = TARGET};
    f->v = (struct status_view){.ipns_name = "k51station", .ipns_mode = "node", .now = T0, .started = T0 - 100,
                                .on_air = 1, .target_duration = TARGET, .window = 50, .media_sequence = 10,
                                .newest_seq = 59, .pub = &f->pub, .order_id = "abcdef0123456789",
                                .order_segments = 100, .now_playing = &f->playing};
    f->cfg = (struct streamer_config){.state_dir = f->dir, .publish_every_segments = 1,
                                      .status_heartbeat_seconds = HEARTBEAT, .listen_delay_seconds = LISTEN_DELAY};
    char a[M3U8_TIME_LEN], b[M3U8_TIME_LEN], c[M3U8_TIME_LEN];
    m3u8_format_time(T0 - 30, a);
    m3u8_format_time(T0 + 90, b);
    m3u8_format_time(T0 + 94, c);
    snprintf(f->schedule, sizeof f->schedule,
             "{\"format\": \"ipfs-radio-schedule\", \"version\": 1, \"order\": \"abcdef\", \"horizon_seconds\": 3600,"
             " \"items\": ["
             "{\"track\": \"t1\", \"title\": \"Artist 1 - Song 1\", \"first_sequence\": 50, \"air_time\": \"%s\","
             " \"duration_seconds\": 120.0, \"segments\": 20},"
             "{\"track\": \"j1\", \"title\": \"Jingle\", \"first_sequence\": 70, \"air_time\": \"%s\","
             " \"duration_seconds\": 4.0, \"segments\": 1},"
             "{\"track\": \"t2\", \"title\": \"Artist 2 - Song 2\", \"first_sequence\": 71, \"air_time\": \"%s\","
             " \"duration_seconds\": 200.0, \"segments\": 34}]}", a, b, c);
    status_writer_init(&f->w, f->path, HEARTBEAT);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    status_writer_free(&f->w);
    free(f->status);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Writes the view as the streamer does, then shows it at `now`. */
static enum status_verdict show(struct fixture *f, double now, int running)
{
    char err[256];
    assert_int_equal(status_write(&f->w, &f->v, err, sizeof err), 0);
    free(f->status);
    size_t len;
    assert_int_equal(atomic_read(f->path, 1 << 20, &f->status, &len, err, sizeof err), 0);
    struct status_screen_in in = {f->status, f->schedule, running, 4242, now};
    FILE *mem = fmemopen(f->out, sizeof f->out - 1, "w");
    assert_non_null(mem);
    enum status_verdict v = status_screen_print(&in, &f->cfg, mem);
    fclose(mem);
    return v;
}

static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void on_air_shows_track_next_and_last_publish(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(show(f, T0, 1), STATUS_ON_AIR);
    assert_non_null(strstr(f->out, "ON AIR  k51station"));
    assert_non_null(strstr(f->out, "On air    Artist 1 - Song 1  (30 s of 2 min 00 s)"));
    assert_non_null(strstr(f->out, "Next      "));
    assert_non_null(strstr(f->out, "Jingle  (4 s)"));
    assert_non_null(strstr(f->out, "Artist 2 - Song 2  (3 min 20 s)"));
    assert_true(strstr(f->out, "Jingle") < strstr(f->out, "Artist 2"));
    assert_non_null(strstr(f->out, "Published 2 s ago (took 0.250 s), sequence 59, playlist bafyplaylist"));
    assert_non_null(strstr(f->out, "Problems  none"));
    assert_non_null(strstr(f->out, "pid 4242 (running)"));
    assert_true(lines(f->out) <= SCREEN_LINES);
}

static void no_process_is_off_air(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(show(f, T0, 0), STATUS_OFF_AIR);
    assert_non_null(strstr(f->out, "OFF AIR"));
    assert_non_null(strstr(f->out, "no radio-streamer runs"));
}

/* Written at T0: fresh up to a publish interval (one target duration)
 * plus three target durations, stale after. */
static void status_not_rewritten_is_stale(void **state)
{
    struct fixture *f = *state;
    f->pub.last_ok = T0;
    assert_int_equal(show(f, T0 + 4 * TARGET, 1), STATUS_ON_AIR);
    assert_int_equal(show(f, T0 + 4 * TARGET + 1, 1), STATUS_OFF_AIR);
    assert_non_null(strstr(f->out, "stale"));
}

static void not_on_air_is_off_air(void **state)
{
    struct fixture *f = *state;
    f->v.on_air = 0;
    assert_int_equal(show(f, T0, 1), STATUS_OFF_AIR);
    assert_non_null(strstr(f->out, "has not put the station on air"));
}

/* The status is fresh (the loop runs), but every publish since fails:
 * past three target durations plus the listen delay listeners stall. */
static void publishes_failing_too_long_is_off_air_with_the_error(void **state)
{
    struct fixture *f = *state;
    f->pub.last_ok = T0 - (3 * TARGET + LISTEN_DELAY) - 1;
    snprintf(f->pub.last_error, sizeof f->pub.last_error, "name publish: connection refused");
    f->v.reload_error = "playlist.m3u: line 3: unknown track";
    assert_int_equal(show(f, T0, 1), STATUS_OFF_AIR);
    assert_non_null(strstr(f->out, "no publish for longer"));
    assert_non_null(strstr(f->out, "Problems  last publish failed: name publish: connection refused"));
    assert_non_null(strstr(f->out, "new running order refused (the last good one plays on): playlist.m3u"));
    f->pub.last_ok = T0 - (3 * TARGET + LISTEN_DELAY) + 1;
    assert_int_equal(show(f, T0, 1), STATUS_ON_AIR);
}

static void missing_status_is_off_air(void **state)
{
    struct fixture *f = *state;
    struct status_screen_in in = {NULL, NULL, 0, 0, T0};
    FILE *mem = fmemopen(f->out, sizeof f->out - 1, "w");
    assert_int_equal(status_screen_print(&in, &f->cfg, mem), STATUS_OFF_AIR);
    fclose(mem);
    assert_non_null(strstr(f->out, "status.json is missing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(on_air_shows_track_next_and_last_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(no_process_is_off_air, setup, teardown),
        cmocka_unit_test_setup_teardown(status_not_rewritten_is_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(not_on_air_is_off_air, setup, teardown),
        cmocka_unit_test_setup_teardown(publishes_failing_too_long_is_off_air_with_the_error, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_status_is_off_air, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
