/* Day-parts on a fake clock: processed/ offers a main order and parts of
 * the day and week; a simulated station runs for days, deciding each
 * boundary as the streamer does, and what it published is checked
 * against an independent reading of the schedule (plain UTC arithmetic
 * here), the timeline rules, orders resuming where they left off, station
 * IDs across switches, and restarts from the state file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dayparts.h"
#include "program.h"
#include "state.h"
#include "station.h"
#include "station_ids.h"
#include "timeline_fixture.h"
#include "upcoming.h"

#include <jansson.h>

/* Friday 2027-03-26 22:20:34.567 UTC: the run crosses a weekend and the
 * night of Sunday to Monday. */
#define START (1806098400.0 + 1234.567)
#define RUN_SECONDS (80 * 3600.0)
#define DAY 86400.0
#define HOUR 3600.0

enum part { MAIN, NIGHT, WEEKEND, LATE, NPARTS };

static const char *const ORDERS[NPARTS][3] = {
    {"t1", "t2", "t4"}, /* playlist.m3u */
    {"t5", "t3"},       /* night: Tuesday to Sunday, 00:00 to 01:00 */
    {"t2", "t5"},       /* weekend: Saturday and Sunday, 12:00 to 14:00 */
    {"t4", "t3"},       /* late: Sunday 23:00 to Monday 01:00 */
};
static const size_t ORDER_LEN[NPARTS] = {3, 2, 2, 2};

static const char DAYPARTS_UTC[] =
    "{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"time_zone\": \"UTC\", \"parts\": ["
    "{\"name\": \"night\", \"playlist\": \"dayparts/night.m3u\", \"days\": [\"tue\", \"wed\", \"thu\", \"fri\", "
    "\"sat\", \"sun\"], \"start\": \"00:00\", \"end\": \"01:00\"},"
    "{\"name\": \"weekend\", \"playlist\": \"dayparts/weekend.m3u\", \"days\": [\"sat\", \"sun\"], "
    "\"start\": \"12:00\", \"end\": \"14:00:00\"},"
    "{\"name\": \"late\", \"playlist\": \"dayparts/late.m3u\", \"days\": [\"sun\"], \"start\": \"23:00\", "
    "\"end\": \"01:00\"}]}";

/* The schedule above, read independently: which order a boundary at t plays. */
static enum part expected_part(double t)
{
    double days = floor(t / DAY), s = t - days * DAY;
    int weekday = (int)fmod(days + 3, 7); /* 1970-01-01 was a Thursday; 0 = Monday */
    if ((weekday == 6 && s >= 23 * HOUR) || (weekday == 0 && s < HOUR))
        return LATE;
    if (s < HOUR)
        return NIGHT;
    if ((weekday == 5 || weekday == 6) && s >= 12 * HOUR && s < 14 * HOUR)
        return WEEKEND;
    return MAIN;
}

struct world {
    char dir[64];
    struct manifest m;
    struct program p;
};

static int world_setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    snprintf(w->dir, sizeof w->dir, "/tmp/dayparts-XXXXXX");
    if (!w || !mkdtemp(w->dir))
        return -1;
    fx_make_library(&w->m);
    fx_write_manifest(&w->m, w->dir);
    fx_write_playlist(w->dir, "playlist.m3u", ORDERS[MAIN], ORDER_LEN[MAIN]);
    fx_write_playlist(w->dir, "dayparts/night.m3u", ORDERS[NIGHT], ORDER_LEN[NIGHT]);
    fx_write_playlist(w->dir, "dayparts/weekend.m3u", ORDERS[WEEKEND], ORDER_LEN[WEEKEND]);
    fx_write_playlist(w->dir, "dayparts/late.m3u", ORDERS[LATE], ORDER_LEN[LATE]);
    fx_write_file(w->dir, "dayparts.json", DAYPARTS_UTC);
    char err[ERR_MSG_MAX];
    if (program_read(w->dir, NULL, NULL, &w->p, err, sizeof err) != 0)
        fail_msg("%s", err);
    *state = w;
    return 0;
}

static int world_teardown(void **state)
{
    struct world *w = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", w->dir);
    int ignored = system(cmd);
    (void)ignored;
    program_free(&w->p);
    manifest_free(&w->m);
    free(w);
    return 0;
}

static void open_station(const struct program *p, struct station *st, const struct station_memory *mem, double now)
{
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, NULL, 0, 1, 2, p->max_target};
    struct order o;
    int part;
    char err[ERR_MSG_MAX];
    if (program_opening(p, mem, now, &o, &part, err, sizeof err) != 0 ||
        station_open(st, &opts, &o, mem, now, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* The streamer's loop, segment boundary by boundary: the order first, then
 * a station ID (r may be NULL), then the tick. */
static double run(struct station *st, const struct program *p, struct program_memory *pm,
                  const struct station_ids_rule *r, struct station_ids_memory *im, double from, double to,
                  struct fx_log *lg)
{
    char err[ERR_MSG_MAX];
    double t = from;
    while (t < to) {
        int64_t at;
        int part;
        if (program_step(p, pm, st, t, &at, &part, err, sizeof err) < 0)
            fail_msg("%s", err);
        if (r && station_ids_step(r, im, st, t, &at, err, sizeof err) < 0)
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

/* Every track start plays the order of the part in force at its air time,
 * and each order goes on where it left off: its tracks, taken together,
 * run through it in turn from its top. Returns the number of switches. */
static size_t check_program(const struct fx_log *lg)
{
    size_t next[NPARTS] = {0}, switches = 0, seen[NPARTS] = {0};
    enum part prev = NPARTS;
    /* The log starts mid-track (the lead-in): judged from the first start. */
    size_t i = 0;
    while (i < lg->n && !lg->v[i].disc)
        i++;
    for (; i < lg->n; i++) {
        const struct fx_aired *a = &lg->v[i];
        if (!a->disc || is_jingle(a->track))
            continue;
        enum part want = expected_part(a->pdt);
        if (strcmp(a->track, ORDERS[want][next[want] % ORDER_LEN[want]]) != 0)
            fail_msg("sequence %lld at %.3f: %s, but part %d's order goes on with %s", (long long)a->seq, a->pdt,
                     a->track, (int)want, ORDERS[want][next[want] % ORDER_LEN[want]]);
        next[want]++;
        seen[want] = 1;
        switches += prev != NPARTS && prev != want;
        prev = want;
    }
    for (int k = 0; k < NPARTS; k++)
        assert_true(seen[k]);
    return switches;
}

static void each_boundary_plays_the_part_in_force_and_orders_resume(void **state)
{
    struct world *w = *state;
    struct station st;
    open_station(&w->p, &st, NULL, START);
    struct program_memory pm = {0};
    struct fx_log lg = {0};
    run(&st, &w->p, &pm, NULL, NULL, START, START + RUN_SECONDS, &lg);
    fx_check_timeline(&w->m, &lg);
    /* Night x3 (Sat, Sun, and Tue's), weekend x2, late x1: in and out of each. */
    assert_int_equal(check_program(&lg), 2 * 6);
    free(lg.v);
    station_close(&st);
}

static void the_switch_is_the_first_boundary_at_or_after_the_scheduled_time(void **state)
{
    struct world *w = *state;
    struct station st;
    open_station(&w->p, &st, NULL, START);
    struct program_memory pm = {0};
    struct fx_log lg = {0};
    run(&st, &w->p, &pm, NULL, NULL, START, START + RUN_SECONDS, &lg);
    /* Saturday 00:00 UTC: the last track before it started before it (and
     * so played the main order to its end); the next starts at or after it. */
    const double sat = 1806105600.0;
    size_t before = 0, after = 0;
    for (size_t i = 0; i < lg.n; i++) {
        if (!lg.v[i].disc)
            continue;
        if (lg.v[i].pdt < sat)
            before = i;
        else if (!after)
            after = i;
    }
    assert_true(after > before);
    assert_true(lg.v[after].pdt - sat < 300); /* within one track of it */
    assert_string_equal(lg.v[after].track, ORDERS[NIGHT][0]);
    assert_true(strcmp(lg.v[before].track, "t5") != 0 && strcmp(lg.v[before].track, "t3") != 0);
    free(lg.v);
    station_close(&st);
}

static void rule_from(const struct manifest *m, double every, struct station_ids_rule *r)
{
    char json[512], err[ERR_MSG_MAX];
    snprintf(json, sizeof json,
             "{\"format\": \"ipfs-radio-clock\", \"version\": 1, \"station_ids\": {\"every_seconds\": %g, "
             "\"top_of_hour\": false, \"top_of_hour_before_seconds\": 0, \"top_of_hour_after_seconds\": 0, "
             "\"jingles\": [\"j1\", \"j2\"]}}",
             every);
    if (station_ids_parse(json, strlen(json), m, FX_RATE, r, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void restarts_from_the_saved_state_decide_the_same(void **state)
{
    struct world *w = *state;
    struct station_ids_rule r;
    rule_from(&w->m, 900, &r);
    struct station one, two;
    open_station(&w->p, &one, NULL, START);
    open_station(&w->p, &two, NULL, START);
    struct program_memory p1 = {0}, p2 = {0};
    struct station_ids_memory i1 = {.decided = -1}, i2 = {.decided = -1};
    struct fx_log l1 = {0}, l2 = {0};
    run(&one, &w->p, &p1, &r, &i1, START, START + RUN_SECONDS, &l1);
    /* The other stops every 25 minutes and a bit, at any instant, and
     * starts again from its state file. */
    double t = START;
    for (int stop = 1; t < START + RUN_SECONDS; stop++) {
        double until = fmin(START + stop * 1500.0 + 7.25 * stop, START + RUN_SECONDS);
        t = run(&two, &w->p, &p2, &r, &i2, t, until, &l2);
        struct streamer_state ss;
        fx_state_round_trip(&two, &i2, &p2, &ss);
        station_close(&two);
        open_station(&w->p, &two, &ss.mem, t);
        p2 = ss.positions;
        i2 = ss.ids;
        state_free(&ss);
    }
    assert_int_equal(l2.n, l1.n);
    for (size_t i = 0; i < l1.n; i++) {
        assert_int_equal(l1.v[i].seq, l2.v[i].seq);
        assert_string_equal(l1.v[i].cid, l2.v[i].cid);
        assert_true(l1.v[i].pdt == l2.v[i].pdt);
        assert_int_equal(l1.v[i].disc_before, l2.v[i].disc_before);
    }
    assert_int_equal(check_program(&l1), 2 * 6);
    free(l1.v);
    free(l2.v);
    station_close(&one);
    station_close(&two);
    station_ids_rule_free(&r);
}

static void station_ids_keep_their_rule_across_switches(void **state)
{
    struct world *w = *state;
    const double every = 600;
    struct station_ids_rule r;
    rule_from(&w->m, every, &r);
    struct station st;
    open_station(&w->p, &st, NULL, START);
    struct program_memory pm = {0};
    struct station_ids_memory im = {.decided = -1};
    struct fx_log lg = {0};
    run(&st, &w->p, &pm, &r, &im, START, START + RUN_SECONDS, &lg);
    fx_check_timeline(&w->m, &lg);
    assert_int_equal(check_program(&lg), 2 * 6);
    double last = -1;
    size_t ids = 0;
    for (size_t i = 0; i < lg.n; i++) {
        if (!lg.v[i].disc || !is_jingle(lg.v[i].track))
            continue;
        if (last >= 0 && lg.v[i].pdt - last > every + FX_SLACK)
            fail_msg("station IDs %.3f s apart at sequence %lld", lg.v[i].pdt - last, (long long)lg.v[i].seq);
        last = lg.v[i].pdt;
        ids++;
    }
    assert_true(ids >= (size_t)(RUN_SECONDS / every));
    free(lg.v);
    station_close(&st);
    station_ids_rule_free(&r);
}

/* schedule.json within an hour of a switch: what it lists is what then
 * airs, at the sequence numbers and times it gives, the switch included. */
static void the_forecast_shows_a_switch_before_it_is_decided(void **state)
{
    struct world *w = *state;
    struct station st;
    open_station(&w->p, &st, NULL, START);
    struct program_memory pm = {0};
    struct fx_log lg = {0};
    const double sat = 1806105600.0, horizon = HOUR;
    double t = run(&st, &w->p, &pm, NULL, NULL, START, sat - 40 * 60, &lg);
    struct sched fc;
    char err[ERR_MSG_MAX];
    assert_int_equal(program_forecast(&w->p, &pm, &st, t, horizon, &fc, err, sizeof err), 1);
    char *text;
    size_t len;
    assert_int_equal(upcoming_render(&fc, t, horizon, &text, &len, err, sizeof err), 0);
    assert_string_equal(fc.order.id, st.sched.order.id);
    sched_free(&fc);
    json_t *root = json_loadb(text, len, 0, NULL);
    assert_non_null(root);
    free(text);
    double later = run(&st, &w->p, &pm, NULL, NULL, t, t + horizon + 600, &lg);
    json_t *items = json_object_get(root, "items"), *it;
    size_t i, night = 0;
    assert_true(json_array_size(items) > 10);
    json_array_foreach(items, i, it) {
        int64_t seq = json_integer_value(json_object_get(it, "first_sequence"));
        const char *track = json_string_value(json_object_get(it, "track"));
        size_t k = 0;
        while (k < lg.n && lg.v[k].seq != seq)
            k++;
        assert_true(k < lg.n);
        if (!lg.v[k].disc || strcmp(lg.v[k].track, track) != 0)
            fail_msg("forecast %s at %lld; %s aired there", track, (long long)seq, lg.v[k].track);
        night += strcmp(track, "t5") == 0 || strcmp(track, "t3") == 0;
    }
    assert_true(night >= 2);
    json_decref(root);
    /* Far from any switch nothing is copied. */
    t = run(&st, &w->p, &pm, NULL, NULL, later, sat + 2 * HOUR, &lg);
    assert_int_equal(program_forecast(&w->p, &pm, &st, t, horizon, &fc, err, sizeof err), 0);
    free(lg.v);
    station_close(&st);
}

static void refused(const char *json, const char *why)
{
    struct dayparts d;
    char err[ERR_MSG_MAX] = "";
    assert_int_equal(dayparts_parse(json, strlen(json), &d, err, sizeof err), -1);
    if (!strstr(err, why))
        fail_msg("expected \"%s\" in \"%s\"", why, err);
    assert_int_equal(d.n, 0);
    assert_null(d.zone);
}

#define ONE_PART(name, playlist, days, start, end)                                                                  \
    "{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"time_zone\": \"UTC\", \"parts\": [{\"name\": " name     \
    ", \"playlist\": " playlist ", \"days\": " days ", \"start\": " start ", \"end\": " end "}]}"
#define TWO_PARTS(days1, s1, e1, days2, s2, e2)                                                                      \
    "{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"time_zone\": \"UTC\", \"parts\": ["                    \
    "{\"name\": \"a\", \"playlist\": \"a.m3u\", \"days\": " days1 ", \"start\": " s1 ", \"end\": " e1 "},"          \
    "{\"name\": \"b\", \"playlist\": \"b.m3u\", \"days\": " days2 ", \"start\": " s2 ", \"end\": " e2 "}]}"

static void bad_files_are_refused_with_a_reason(void **state)
{
    (void)state;
    refused("{\"format\": \"ipfs-radio-clock\", \"version\": 1}", "format");
    refused("{\"format\": \"ipfs-radio-dayparts\", \"version\": 2, \"time_zone\": \"UTC\", \"parts\": []}",
            "version");
    refused("{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"time_zone\": \"Nowhere/Atlantis\", "
            "\"parts\": []}", "time_zone");
    refused("{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"parts\": []}", "time_zone");
    refused(ONE_PART("\"a b\"", "\"a.m3u\"", "[\"mon\"]", "\"00:00\"", "\"01:00\""), "\"name\"");
    refused(ONE_PART("\"a\"", "\"../a.m3u\"", "[\"mon\"]", "\"00:00\"", "\"01:00\""), "inside processed/");
    refused(ONE_PART("\"a\"", "\"/etc/a.m3u\"", "[\"mon\"]", "\"00:00\"", "\"01:00\""), "inside processed/");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"monday\"]", "\"00:00\"", "\"01:00\""), "\"days\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\", \"mon\"]", "\"00:00\"", "\"01:00\""), "\"days\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[]", "\"00:00\"", "\"01:00\""), "\"days\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"7:00\"", "\"08:00\""), "\"start\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"24:00\"", "\"01:00\""), "\"start\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"12:60\"", "\"13:00\""), "\"start\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"12:00\"", "\"24:01\""), "\"end\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"12:00\"", "\"00:00\""), "\"end\"");
    refused(ONE_PART("\"a\"", "\"a.m3u\"", "[\"mon\"]", "\"12:00\"", "\"12:00:00\""), "same time");
    refused(TWO_PARTS("[\"mon\"]", "\"10:00\"", "\"12:00\"", "[\"mon\"]", "\"11:59:59\"", "\"13:00\""), "overlap");
    /* Past midnight into the next day, and past Sunday into Monday. */
    refused(TWO_PARTS("[\"mon\"]", "\"22:00\"", "\"02:00\"", "[\"tue\"]", "\"01:00\"", "\"03:00\""), "overlap");
    refused(TWO_PARTS("[\"sun\"]", "\"23:00\"", "\"00:30\"", "[\"mon\"]", "\"00:00\"", "\"06:00\""), "overlap");
}

static void good_files_say_which_part_is_in_force(void **state)
{
    (void)state;
    struct dayparts d;
    char err[ERR_MSG_MAX];
    const char *json = TWO_PARTS("[\"sun\"]", "\"23:00\"", "\"00:30\"", "[\"mon\"]", "\"00:30\"", "\"24:00\"");
    assert_int_equal(dayparts_parse(json, strlen(json), &d, err, sizeof err), 0);
    const double monday = 1806278400.0; /* 2027-03-29T00:00:00Z */
    assert_int_equal(dayparts_at(&d, monday - HOUR - 0.001), -1);
    assert_int_equal(dayparts_at(&d, monday - HOUR), 0);
    assert_int_equal(dayparts_at(&d, monday + 1799.999), 0);
    assert_int_equal(dayparts_at(&d, monday + 1800), 1);
    assert_int_equal(dayparts_at(&d, monday + DAY - 0.001), 1);
    assert_int_equal(dayparts_at(&d, monday + DAY), -1);
    dayparts_free(&d);
}

/* Local wall-clock time in a zone with daylight saving (instants checked
 * with Python's zoneinfo): a start inside the hour skipped in spring
 * begins when the clock jumps past it, and a time inside the hour
 * repeated in autumn is in the part both times. */
static void parts_follow_the_zones_daylight_saving_time(void **state)
{
    (void)state;
    static const char json[] =
        "{\"format\": \"ipfs-radio-dayparts\", \"version\": 1, \"time_zone\": \"Europe/Berlin\", \"parts\": ["
        "{\"name\": \"skipped\", \"playlist\": \"a.m3u\", \"days\": [\"sun\"], \"start\": \"02:30\", "
        "\"end\": \"04:00\"},"
        "{\"name\": \"twice\", \"playlist\": \"b.m3u\", \"days\": [\"sun\"], \"start\": \"02:00\", "
        "\"end\": \"02:30\"}]}";
    struct dayparts d;
    char err[ERR_MSG_MAX];
    assert_int_equal(dayparts_parse(json, strlen(json), &d, err, sizeof err), 0);
    /* 2027-03-28: 01:59:59 CET, then 03:00:00 CEST; the part ends at 04:00 CEST. */
    const double spring = 1806195600.0, spring_end = 1806199200.0;
    assert_int_equal(dayparts_at(&d, spring - 0.5), -1);
    assert_int_equal(dayparts_at(&d, spring), 0);
    assert_int_equal(dayparts_at(&d, spring_end - 0.5), 0);
    assert_int_equal(dayparts_at(&d, spring_end), -1);
    /* 2027-10-31: 02:00 CEST at 00:00Z, and 02:00 CET again at 01:00Z. */
    const double first = 1824940800.0, again = 1824944400.0, half = 1800.0;
    assert_int_equal(dayparts_at(&d, first - 0.5), -1);
    assert_int_equal(dayparts_at(&d, first), 1);
    assert_int_equal(dayparts_at(&d, first + half - 0.5), 1);
    assert_int_equal(dayparts_at(&d, first + half), 0); /* 02:30 CEST: "skipped" holds 02:30 to 04:00 */
    assert_int_equal(dayparts_at(&d, again - 0.5), 0); /* 02:59:59 CEST */
    assert_int_equal(dayparts_at(&d, again), 1);
    assert_int_equal(dayparts_at(&d, again + half), 0);
    dayparts_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_files_are_refused_with_a_reason),
        cmocka_unit_test(good_files_say_which_part_is_in_force),
        cmocka_unit_test(parts_follow_the_zones_daylight_saving_time),
        cmocka_unit_test_setup_teardown(each_boundary_plays_the_part_in_force_and_orders_resume, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(the_switch_is_the_first_boundary_at_or_after_the_scheduled_time, world_setup,
                                        world_teardown),
        cmocka_unit_test_setup_teardown(station_ids_keep_their_rule_across_switches, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(restarts_from_the_saved_state_decide_the_same, world_setup, world_teardown),
        cmocka_unit_test_setup_teardown(the_forecast_shows_a_switch_before_it_is_decided, world_setup, world_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
