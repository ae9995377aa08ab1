/* Station IDs on the clock, on a fake clock: a simulated station runs for
 * hours, deciding each boundary as the streamer does, and what it
 * published is checked against the rule and the timeline rules. */
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

#include "state.h"
#include "station.h"
#include "station_ids.h"
#include "timeline_fixture.h"
#include "upcoming.h"

/* Not on a whole hour: the hours the run crosses fall mid-track. */
#define START (1795000000.0 + 1234.567)
#define EVERY 600.0
#define TOP_BEFORE 150.0
#define TOP_AFTER 150.0
#define RUN_SECONDS (3 * 3600.0)
#define SLACK FX_SLACK

static const char *const MUSIC[] = {"t1", "t2", "t4", "t5", "t3"};

static void rule_from(const struct manifest *m, const char *json, struct station_ids_rule *r)
{
    char err[ERR_MSG_MAX];
    if (station_ids_parse(json, strlen(json), m, FX_RATE, r, err, sizeof err) != 0)
        fail_msg("%s", err);
}

#define RULE_JSON(every, top)                                                                               \
    "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"station_ids\": {\"every_seconds\": " every            \
    ", \"top_of_hour\": " top ", \"top_of_hour_before_seconds\": 150, \"top_of_hour_after_seconds\": 150, "  \
    "\"jingles\": [\"j1\", \"j2\"]}}"

static void open_station(const struct manifest *m, const char *const *ids, size_t n, struct station *st,
                         const struct station_memory *mem, double now)
{
    struct order o;
    fx_make_order(m, ids, n, &o);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, NULL, 0, 1, 2, 0};
    char err[256];
    if (station_open(st, &opts, &o, mem, now, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* What the streamer's loop does, segment boundary by boundary, from `from`
 * to `to`; every newly published segment goes into lg. Returns when it stopped. */
static double run(struct station *st, const struct station_ids_rule *r, struct station_ids_memory *mem, double from,
                  double to, struct fx_log *lg)
{
    char err[ERR_MSG_MAX];
    double t = from;
    while (t < to) {
        int64_t at;
        if (station_ids_step(r, mem, st, t, &at, err, sizeof err) < 0)
            fail_msg("%s", err);
        fx_tick(st, t, lg);
        t = station_next_boundary(st, t);
    }
    return t;
}

static int is_jingle(const char *track)
{
    return track[0] == 'j';
}

/* The air times of every station ID's start. */
static size_t id_starts(const struct fx_log *lg, double *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < lg->n; i++)
        if (lg->v[i].disc && is_jingle(lg->v[i].track) && n < max)
            out[n++] = lg->v[i].pdt;
    return n;
}

static void no_two_ids_back_to_back(const struct fx_log *lg)
{
    const char *prev = NULL;
    for (size_t i = 0; i < lg->n; i++) {
        if (!lg->v[i].disc)
            continue;
        if (prev && is_jingle(prev) && is_jingle(lg->v[i].track))
            fail_msg("two station IDs back to back at sequence %lld", (long long)lg->v[i].seq);
        prev = lg->v[i].track;
    }
}

/* Three hours on a fake clock under one rule and running order, checked
 * against the timeline rules and for IDs back to back; sim_end frees it. */
struct sim {
    struct manifest m;
    struct station_ids_rule r;
    struct station st;
    struct fx_log lg;
};

static void sim_run(struct sim *s, const char *rule_json, const char *const *order, size_t n)
{
    fx_make_library(&s->m);
    rule_from(&s->m, rule_json, &s->r);
    open_station(&s->m, order, n, &s->st, NULL, START);
    struct station_ids_memory mem = {.decided = -1};
    s->lg = (struct fx_log){0};
    run(&s->st, &s->r, &mem, START, START + RUN_SECONDS, &s->lg);
    fx_check_timeline(&s->m, &s->lg);
    no_two_ids_back_to_back(&s->lg);
}

static void sim_end(struct sim *s)
{
    free(s->lg.v);
    station_close(&s->st);
    station_ids_rule_free(&s->r);
    manifest_free(&s->m);
}

static void a_station_id_at_least_every_m_minutes_never_cutting_a_track(void **state)
{
    (void)state;
    struct sim s;
    sim_run(&s, RULE_JSON("600", "false"), MUSIC, 5);
    double ids[256] = {0};
    size_t n = id_starts(&s.lg, ids, 256);
    /* One at the first boundary, then one at most EVERY later each time,
     * and not needlessly early: never two within EVERY minus the longest track (t2, ~270 s). */
    assert_true(n >= (size_t)(RUN_SECONDS / EVERY) && n <= 256);
    assert_true(ids[0] - s.lg.v[0].pdt < 200);
    for (size_t i = 1; i < n; i++) {
        assert_true(ids[i] - ids[i - 1] <= EVERY + SLACK);
        assert_true(ids[i] - ids[i - 1] > EVERY - 280);
    }
    /* The rotation: j1, j2, j1, ... */
    size_t k = 0;
    for (size_t i = 0; i < s.lg.n; i++)
        if (s.lg.v[i].disc && is_jingle(s.lg.v[i].track))
            assert_string_equal(s.lg.v[i].track, k++ % 2 ? "j2" : "j1");
    sim_end(&s);
}

/* The one at the start, then exactly one per hour, inside the window
 * around each top of the hour, `shift` seconds past UTC's. */
static void one_per_hour(const char *rule_json, double shift)
{
    struct sim s;
    sim_run(&s, rule_json, MUSIC, 5);
    double ids[64] = {0};
    size_t n = id_starts(&s.lg, ids, 64);
    size_t hours = 0, in_windows = 0;
    for (double h = ceil((START - shift) / 3600) * 3600 + shift; h < START + RUN_SECONDS - TOP_AFTER; h += 3600) {
        size_t in = 0;
        for (size_t i = 0; i < n; i++)
            in += ids[i] >= h - TOP_BEFORE - SLACK && ids[i] <= h + TOP_AFTER + SLACK;
        assert_int_equal(in, 1);
        hours++;
        in_windows += in;
    }
    assert_int_equal(hours, 3);
    /* Besides those, only the first boundary's (when no window holds it). */
    assert_true(n == in_windows || (n == in_windows + 1 && ids[0] - s.lg.v[0].pdt < 300));
    sim_end(&s);
}

static void a_station_id_near_the_top_of_every_hour(void **state)
{
    (void)state;
    one_per_hour(RULE_JSON("0", "true"), 0);
}

/* India is UTC+05:30: its hours begin at half past UTC's. */
static void the_top_of_the_hour_is_the_time_zones(void **state)
{
    (void)state;
    static const char kolkata[] =
        "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"time_zone\": \"Asia/Kolkata\", \"station_ids\": "
        "{\"every_seconds\": 0, \"top_of_hour\": true, \"top_of_hour_before_seconds\": 150, "
        "\"top_of_hour_after_seconds\": 150, \"jingles\": [\"j1\", \"j2\"]}}";
    one_per_hour(kolkata, 1800);
}

static void jingles_of_the_running_order_count_and_never_two_in_a_row(void **state)
{
    (void)state;
    /* jingle_every 2, as setup bakes it into playlist.m3u. */
    static const char *const order[] = {"j1", "t1", "t3", "j2", "t4", "t2"};
    struct sim s;
    sim_run(&s, RULE_JSON("400", "false"), order, 6);
    double ids[256] = {0};
    size_t n = id_starts(&s.lg, ids, 256);
    for (size_t i = 1; i < n; i++)
        assert_true(ids[i] - ids[i - 1] <= 400 + SLACK);
    /* The order's own jingles are never more than 394 s apart: nothing
     * needs inserting (bar the first boundary), so the order's two
     * jingles per four music tracks stay as they are. */
    size_t music = 0;
    for (size_t i = 0; i < s.lg.n; i++)
        music += s.lg.v[i].disc && !is_jingle(s.lg.v[i].track);
    assert_true(music > 50);
    assert_true(n <= music / 2 + 2);
    sim_end(&s);
}

static void an_overdue_station_id_still_never_follows_another(void **state)
{
    (void)state;
    static const char *const order[] = {"j2", "t1", "t2", "t4", "j1", "t5"};
    struct sim s;
    /* Shorter than any music track: an ID is overdue at every boundary. */
    sim_run(&s, RULE_JSON("120", "true"), order, 6);
    /* And every music track has one right before it. */
    const char *prev = NULL;
    size_t music = 0;
    for (size_t i = 0; i < s.lg.n; i++) {
        if (!s.lg.v[i].disc)
            continue;
        if (prev && !is_jingle(s.lg.v[i].track)) {
            assert_true(is_jingle(prev));
            music++;
        }
        prev = s.lg.v[i].track;
    }
    assert_true(music > 30);
    sim_end(&s);
}

static void a_clock_stepped_far_back_keeps_the_rule(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station_ids_rule r;
    rule_from(&m, RULE_JSON("600", "false"), &r);
    struct station st;
    open_station(&m, MUSIC, 5, &st, NULL, START);
    struct station_ids_memory mem = {.decided = -1};
    struct fx_log before = {0}, after = {0};
    double t = run(&st, &r, &mem, START, START + 3600, &before);
    /* Two hours back: the timeline restarts on the new clock. */
    t -= 7200;
    run(&st, &r, &mem, t, t + 3600, &after);
    fx_check_timeline(&m, &after);
    no_two_ids_back_to_back(&after);
    double ids[64] = {0};
    size_t n = id_starts(&after, ids, 64);
    assert_true(n >= 5 && n <= 64);
    assert_true(ids[0] - after.v[0].pdt <= EVERY);
    for (size_t i = 1; i < n; i++)
        assert_true(ids[i] - ids[i - 1] <= EVERY + SLACK);
    free(before.v);
    free(after.v);
    station_close(&st);
    station_ids_rule_free(&r);
    manifest_free(&m);
}

static void a_restart_from_the_saved_state_decides_the_same(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station_ids_rule r;
    rule_from(&m, RULE_JSON("500", "true"), &r);
    struct station one, two;
    open_station(&m, MUSIC, 5, &one, NULL, START);
    open_station(&m, MUSIC, 5, &two, NULL, START);
    struct station_ids_memory m1 = {.decided = -1}, m2 = {.decided = -1};
    struct fx_log l1 = {0}, l2 = {0};
    run(&one, &r, &m1, START, START + RUN_SECONDS, &l1);
    /* The other stops every 25 minutes, at any instant, and starts again from its state file. */
    double t = START;
    for (int stop = 1; t < START + RUN_SECONDS; stop++) {
        double until = START + stop * 1500.0 + 7.25 * stop;
        if (until > START + RUN_SECONDS)
            until = START + RUN_SECONDS;
        t = run(&two, &r, &m2, t, until, &l2);
        struct streamer_state ss;
        fx_state_round_trip(&two, &m2, NULL, &ss);
        station_close(&two);
        open_station(&m, MUSIC, 5, &two, &ss.mem, t);
        m2 = ss.ids;
        state_free(&ss);
    }
    assert_true(l1.n > 1000);
    assert_int_equal(l2.n, l1.n);
    size_t ids = 0;
    for (size_t i = 0; i < l1.n; i++) {
        assert_int_equal(l1.v[i].seq, l2.v[i].seq);
        assert_string_equal(l1.v[i].cid, l2.v[i].cid);
        assert_true(l1.v[i].pdt == l2.v[i].pdt);
        assert_int_equal(l1.v[i].disc_before, l2.v[i].disc_before);
        ids += l1.v[i].disc && is_jingle(l1.v[i].track);
    }
    assert_true(ids >= 10);
    free(l1.v);
    free(l2.v);
    station_close(&one);
    station_close(&two);
    station_ids_rule_free(&r);
    manifest_free(&m);
}

static void schedule_json_shows_the_next_station_id(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station_ids_rule r;
    rule_from(&m, RULE_JSON("600", "false"), &r);
    struct station st;
    open_station(&m, MUSIC, 5, &st, NULL, START);
    struct station_ids_memory mem = {.decided = -1};
    struct fx_log lg = {0};
    double t = run(&st, &r, &mem, START, START + 1000, &lg);
    /* Run on until a station ID is decided and not yet on air. */
    int64_t at = -1;
    char err[ERR_MSG_MAX];
    while (at < 0) {
        t = run(&st, &r, &mem, t, t + 0.001, &lg);
        assert_true(station_ids_step(&r, &mem, &st, t, &at, err, sizeof err) >= 0);
    }
    struct sched_item it;
    assert_int_equal(sched_item(&st.sched, at, &it), 0);
    assert_true(it.pdt > t);
    char *text;
    size_t len;
    assert_int_equal(upcoming_render(&st.sched, t, 3600, &text, &len, err, sizeof err), 0);
    json_t *root = json_loadb(text, len, 0, NULL);
    assert_non_null(root);
    json_t *items = json_object_get(root, "items"), *e;
    size_t i;
    int found = 0;
    json_array_foreach(items, i, e) {
        if (json_integer_value(json_object_get(e, "first_sequence")) == at) {
            assert_string_equal(json_string_value(json_object_get(e, "track")), it.track_id);
            assert_true(is_jingle(it.track_id));
            found = 1;
        }
    }
    assert_true(found);
    json_decref(root);
    free(text);
    free(lg.v);
    station_close(&st);
    station_ids_rule_free(&r);
    manifest_free(&m);
}

static void refused(const struct manifest *m, const char *json, const char *why)
{
    struct station_ids_rule r;
    char err[ERR_MSG_MAX];
    assert_int_equal(station_ids_parse(json, strlen(json), m, FX_RATE, &r, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err);
    assert_int_equal(r.njingles, 0);
}

static void malformed_clock_files_are_refused_with_a_reason(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    refused(&m, "[]", "format");
    refused(&m, "{\"format\": \"ipfs-radio-clock\", \"version\": 2, \"station_ids\": {}}", "version");
    refused(&m, "{\"format\": \"ipfs-radio-clock\", \"version\": 1}", "station_ids");
    refused(&m, "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"station_ids\": {\"every_seconds\": -1, "
                "\"top_of_hour\": false, \"top_of_hour_before_seconds\": 0, \"top_of_hour_after_seconds\": 0, "
                "\"jingles\": []}}", "every_seconds");
    refused(&m, "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"station_ids\": {\"every_seconds\": 60, "
                "\"top_of_hour\": false, \"top_of_hour_before_seconds\": 0, \"top_of_hour_after_seconds\": 0, "
                "\"jingles\": [\"nope\"]}}", "names no track");
    refused(&m, "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"station_ids\": {\"every_seconds\": 60, "
                "\"top_of_hour\": false, \"top_of_hour_before_seconds\": 0, \"top_of_hour_after_seconds\": 0, "
                "\"jingles\": [\"j1\", \"t1\"]}}", "not a jingle");
    struct station_ids_rule r;
    rule_from(&m, RULE_JSON("60", "true"), &r);
    assert_int_equal(r.njingles, 2);
    assert_true(station_ids_active(&r));
    station_ids_rule_free(&r);
    manifest_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_clock_files_are_refused_with_a_reason),
        cmocka_unit_test(a_station_id_at_least_every_m_minutes_never_cutting_a_track),
        cmocka_unit_test(a_station_id_near_the_top_of_every_hour),
        cmocka_unit_test(the_top_of_the_hour_is_the_time_zones),
        cmocka_unit_test(jingles_of_the_running_order_count_and_never_two_in_a_row),
        cmocka_unit_test(an_overdue_station_id_still_never_follows_another),
        cmocka_unit_test(a_clock_stepped_far_back_keeps_the_rule),
        cmocka_unit_test(a_restart_from_the_saved_state_decides_the_same),
        cmocka_unit_test(schedule_json_shows_the_next_station_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
