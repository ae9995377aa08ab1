/* What is coming (state_dir/schedule.json), checked against the station's
 * own timeline on a fake clock: the track on air first, then every track
 * in running order, each starting where the one before ends, up to the
 * horizon; a new running order shows from the next track boundary; the
 * file is rewritten only when what is coming changed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m3u8.h"
#include "station.h"
#include "timeline_fixture.h"
#include "upcoming.h"

#define START 1795000000.0
#define HOUR 3600.0

static const char *const ORDER_A[] = {"j1", "t1", "t2", "j2", "t3", "t4", "t5"};
static const char *const ORDER_B[] = {"t5", "j2", "t3"};

struct world {
    struct manifest m;
    struct station st;
};

static void open_station(struct world *w)
{
    fx_make_library(&w->m);
    struct order o;
    fx_make_order(&w->m, ORDER_A, 7, &o);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    char err[256];
    assert_int_equal(station_open(&w->st, &opts, &o, NULL, START, err, sizeof err), 0);
}

static void close_station(struct world *w)
{
    station_close(&w->st);
    manifest_free(&w->m);
}

static json_t *render(const struct sched *s, double now, double horizon)
{
    char *text, err[256];
    size_t len;
    assert_int_equal(upcoming_render(s, now, horizon, &text, &len, err, sizeof err), 0);
    json_error_t je;
    json_t *doc = json_loadb(text, len, 0, &je);
    if (!doc)
        fail_msg("not JSON: %s\n%s", je.text, text);
    free(text);
    assert_string_equal(json_string_value(json_object_get(doc, "format")), UPCOMING_FORMAT);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), UPCOMING_VERSION);
    return doc;
}

static double air(json_t *item)
{
    double t;
    assert_int_equal(m3u8_parse_time(json_string_value(json_object_get(item, "air_time")), &t), 0);
    return t;
}

/* Each item against the timeline itself: its first sequence number airs
 * at its air time, starts a track, and its segments add up to its length. */
static void matches_the_timeline(const struct sched *s, json_t *item)
{
    struct sched_item it;
    int64_t first = json_integer_value(json_object_get(item, "first_sequence"));
    int64_t n = json_integer_value(json_object_get(item, "segments"));
    assert_int_equal(sched_item(s, first, &it), 0);
    assert_true(it.disc);
    assert_true(fabs(it.pdt - air(item)) < 0.001);
    assert_string_equal(it.track_id, json_string_value(json_object_get(item, "track")));
    double dur = 0;
    for (int64_t k = first; k < first + n; k++) {
        assert_int_equal(sched_item(s, k, &it), 0);
        assert_true(k == first || !it.disc);
        dur += it.duration;
    }
    assert_int_equal(sched_item(s, first + n, &it), 0);
    assert_true(it.disc); /* the next track starts right after */
    assert_true(fabs(dur - json_real_value(json_object_get(item, "duration_seconds"))) < 1e-6);
}

static void the_hour_ahead_lists_every_track_in_running_order(void **state)
{
    (void)state;
    struct world w;
    open_station(&w);
    const double now = START + 1000;
    json_t *doc = render(&w.st.sched, now, HOUR);
    json_t *items = json_object_get(doc, "items");
    size_t n = json_array_size(items);
    assert_true(n > 7);
    json_t *first = json_array_get(items, 0);
    /* The track on air now comes first. */
    assert_true(air(first) <= now);
    assert_true(air(first) + json_real_value(json_object_get(first, "duration_seconds")) > now);
    /* Which one it is: the timeline's own answer. */
    struct sched_item on;
    assert_int_equal(sched_item(&w.st.sched, sched_seq_at(&w.st.sched, now), &on), 0);
    assert_string_equal(on.track_id, json_string_value(json_object_get(first, "track")));
    size_t k0 = 0;
    while (strcmp(ORDER_A[k0], on.track_id) != 0)
        k0++;
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(items, i);
        matches_the_timeline(&w.st.sched, it);
        assert_string_equal(json_string_value(json_object_get(it, "track")), ORDER_A[(k0 + i) % 7]);
        if (i > 0) {
            json_t *prev = json_array_get(items, i - 1);
            assert_true(fabs(air(prev) + json_real_value(json_object_get(prev, "duration_seconds")) - air(it)) <
                        0.001);
        }
    }
    /* Up to the horizon: the last item starts within it, the next would not. */
    json_t *last = json_array_get(items, n - 1);
    assert_true(air(last) <= now + HOUR);
    assert_true(air(last) + json_real_value(json_object_get(last, "duration_seconds")) > now + HOUR);
    json_decref(doc);
    close_station(&w);
}

static void a_new_order_shows_from_the_next_track_boundary(void **state)
{
    (void)state;
    struct world w;
    open_station(&w);
    const double now = START + 1000;
    struct station_out out;
    char err[256];
    assert_int_equal(station_tick(&w.st, now, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
    struct order b;
    fx_make_order(&w.m, ORDER_B, 3, &b);
    assert_int_equal(sched_switch(&w.st.sched, &b, w.st.newest, 50, 0, err, sizeof err), 0);
    json_t *doc = render(&w.st.sched, now, HOUR);
    json_t *items = json_object_get(doc, "items");
    /* The track on air keeps playing, then the new order from its top. */
    struct sched_item on;
    assert_int_equal(sched_item(&w.st.sched, sched_seq_at(&w.st.sched, now), &on), 0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "track")), on.track_id);
    for (size_t i = 1; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        matches_the_timeline(&w.st.sched, it);
        assert_string_equal(json_string_value(json_object_get(it, "track")), ORDER_B[(i - 1) % 3]);
    }
    json_decref(doc);
    close_station(&w);
}

/* Air time of the first track to start after t. */
static double next_track_start(const struct sched *s, double t)
{
    for (int64_t k = sched_seq_at(s, t) + 1;; k++) {
        struct sched_item it;
        assert_int_equal(sched_item(s, k, &it), 0);
        if (it.disc)
            return it.pdt;
    }
}

static void the_file_changes_only_when_what_is_coming_does(void **state)
{
    (void)state;
    struct world w;
    open_station(&w);
    char dir[] = "/tmp/radio-upcoming-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct upcoming_writer wr;
    char err[256];
    assert_int_equal(upcoming_writer_init(&wr, dir, HOUR, err, sizeof err), 0);
    double now = START + 1000;
    assert_int_equal(upcoming_write(&wr, &w.st.sched, now, err, sizeof err), 1);
    assert_int_equal(upcoming_write(&wr, &w.st.sched, now, err, sizeof err), 0);
    /* It changes when a track starts now or one enters at the horizon's end. */
    double next = next_track_start(&w.st.sched, now);
    double enters = next_track_start(&w.st.sched, now + HOUR) - HOUR;
    double quiet = fmin(next, enters) - 0.01;
    assert_true(quiet > now);
    assert_int_equal(upcoming_write(&wr, &w.st.sched, quiet, err, sizeof err), 0);
    if (enters < next) {
        assert_int_equal(upcoming_write(&wr, &w.st.sched, enters + 0.01, err, sizeof err), 1);
        next = next_track_start(&w.st.sched, enters + 0.01);
    }
    /* The next track on air: the list moved on. */
    assert_int_equal(upcoming_write(&wr, &w.st.sched, next + 0.01, err, sizeof err), 1);
    FILE *f = fopen(wr.path, "r");
    assert_non_null(f);
    json_error_t je;
    json_t *doc = json_loadf(f, 0, &je);
    fclose(f);
    assert_non_null(doc);
    assert_true(fabs(air(json_array_get(json_object_get(doc, "items"), 0)) - next) < 0.001);
    json_decref(doc);
    /* A horizon of 0 writes nothing. */
    struct upcoming_writer off;
    assert_int_equal(upcoming_writer_init(&off, dir, 0, err, sizeof err), 0);
    assert_int_equal(upcoming_write(&off, &w.st.sched, now, err, sizeof err), 0);
    upcoming_writer_free(&off);
    unlink(wr.path);
    rmdir(dir);
    upcoming_writer_free(&wr);
    close_station(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_hour_ahead_lists_every_track_in_running_order),
        cmocka_unit_test(a_new_order_shows_from_the_next_track_boundary),
        cmocka_unit_test(the_file_changes_only_when_what_is_coming_does),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
