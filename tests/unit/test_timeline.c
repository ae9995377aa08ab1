/* The timeline rules of DESIGN.md, checked after every publish of a
 * simulated week with a fake clock: with and without restarts every few
 * hours, a new running order every day, and a clock stepping backwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m3u8.h"
#include "state.h"
#include "station.h"
#include "timeline_fixture.h"

#define RATE FX_RATE
#define WEEK (7 * 86400.0)
#define START 1795000000.0
#define TARGET 6                 /* the library's largest segment, rounded */

static const char *const ORDER_A[] = {"j1", "t1", "t2", "j2", "t3", "t4", "t5"};
static const char *const ORDER_B[] = {"j2", "t5", "t3", "j1", "t1"};
static const char *const ORDER_C[] = {"t3"};

/* --- what every published playlist must satisfy, across all publishes --- */

struct seen {
    char uri[CID_MAX_STR + 64];
    int64_t disc_number;         /* discontinuity sequence number of the segment */
    char pdt[M3U8_TIME_LEN];
};

struct checker {
    int64_t last_media_seq;
    int64_t last_newest;
    int last_full;
    int target;
    size_t publishes;
    /* Every sequence number ever published, by seq - base (a new station
     * starts at the clock's sequence floor, base). */
    int64_t base;
    int have_base;
    struct seen *seen;
    size_t nseen;
    double clock_max;
    int clock_back_restarts;     /* date-times may go back, at a discontinuity only */
};

static void check_playlist(struct checker *c, const char *text, size_t len, size_t window)
{
    struct m3u8_playlist pl;
    char err[256];
    if (m3u8_parse(text, len, &pl, err, sizeof err) != 0)
        fail_msg("own playlist does not parse: %s", err);
    assert_false(pl.endlist);
    assert_false(pl.has_playlist_type);
    assert_int_equal(pl.version, 3);
    assert_true(pl.nsegs >= 1 && pl.nsegs <= window);
    if (c->target == 0)
        c->target = pl.target_duration;
    assert_int_equal(pl.target_duration, c->target);
    /* Never backwards; and advances by exactly the segments that left. */
    assert_true(pl.media_sequence >= c->last_media_seq);
    int64_t newest = pl.segs[pl.nsegs - 1].seq;
    assert_true(newest > c->last_newest);
    /* A full window slides by exactly the segments that arrived. */
    if (c->publishes && c->last_full && pl.nsegs == window)
        assert_int_equal(pl.media_sequence - c->last_media_seq, newest - c->last_newest);
    c->last_full = pl.nsegs == window;
    int64_t disc = pl.discontinuity_sequence;
    if (!c->have_base) {
        c->base = pl.media_sequence;
        c->have_base = 1;
    }
    assert_true(pl.media_sequence >= c->base);
    for (size_t i = 0; i < pl.nsegs; i++) {
        const struct m3u8_segment *s = &pl.segs[i];
        disc += s->discontinuity;
        assert_true(isfinite(s->pdt));
        if (lround(s->duration) > pl.target_duration)
            fail_msg("seq %lld: EXTINF %.3f above target %d", (long long)s->seq, s->duration, pl.target_duration);
        if (i > 0) {
            double expect = pl.segs[i - 1].pdt + pl.segs[i - 1].duration;
            /* Date-times follow durations (to the millisecond both carry),
             * and a jump forward only where a discontinuity is marked. */
            if (!s->discontinuity)
                assert_true(fabs(s->pdt - expect) < 0.0021);
            else if (!c->clock_back_restarts)
                assert_true(s->pdt - expect > -0.0021);
        }
        char when[M3U8_TIME_LEN];
        m3u8_format_time(s->pdt, when);
        size_t at = (size_t)(s->seq - c->base);
        if (at >= c->nseen) {
            size_t n = (at + 1) * 2;
            c->seen = realloc(c->seen, n * sizeof *c->seen);
            assert_non_null(c->seen);
            memset(c->seen + c->nseen, 0, (n - c->nseen) * sizeof *c->seen);
            c->nseen = n;
        }
        struct seen *v = &c->seen[at];
        if (!v->uri[0]) {
            snprintf(v->uri, sizeof v->uri, "%s", s->uri);
            v->disc_number = disc;
            snprintf(v->pdt, sizeof v->pdt, "%s", when);
        } else {
            if (strcmp(v->uri, s->uri) != 0 || v->disc_number != disc || strcmp(v->pdt, when) != 0)
                fail_msg("seq %lld changed: uri %s -> %s, disc %lld -> %lld, pdt %s -> %s",
                         (long long)s->seq, v->uri, s->uri, (long long)v->disc_number,
                         (long long)disc, v->pdt, when);
        }
    }
    c->last_media_seq = pl.media_sequence;
    c->last_newest = newest;
    c->publishes++;
    m3u8_free(&pl);
}

/* --- the simulation --- */

struct sim {
    size_t window;
    double restart_every;        /* 0: never */
    double reload_every;         /* 0: never */
    double step_back_at;         /* 0: never; the clock jumps back by step_back */
    double step_back;
    double hold;                 /* clock_hold_targets */
    int restart_after_step;      /* the process restarts just after the clock steps back */
    double span;
};

static void restart(struct station *st, const struct station_opts *opts, const struct manifest *m,
                    const char *const *ids, size_t n, double now, const char *state_path)
{
    struct streamer_state ss = {0};
    char err[256];
    assert_int_equal(station_remember(st, &ss.mem), 0);
    if (state_save(state_path, &ss, err, sizeof err) != 0)
        fail_msg("%s", err);
    state_free(&ss);
    station_close(st);
    if (state_load(state_path, &ss, err, sizeof err) != 0)
        fail_msg("%s", err);
    struct order o;
    fx_make_order(m, ids, n, &o);
    if (station_open(st, opts, &o, &ss.mem, now, err, sizeof err) != 0)
        fail_msg("%s", err);
    state_free(&ss);
}

static void simulate(const struct sim *sim)
{
    struct manifest m;
    fx_make_library(&m);
    struct station_opts opts = {sim->window, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, sim->hold, 0};
    struct order o;
    fx_make_order(&m, ORDER_A, sizeof ORDER_A / sizeof *ORDER_A, &o);
    struct station st;
    char err[256];
    double now = START;
    assert_int_equal(station_open(&st, &opts, &o, NULL, now, err, sizeof err), 0);
    struct checker c = {.last_newest = -1};
    char state_path[] = "/tmp/radio-timeline-XXXXXX";
    int fd = mkstemp(state_path);
    assert_true(fd >= 0);
    const char *const *cur = ORDER_A;
    size_t ncur = sizeof ORDER_A / sizeof *ORDER_A;
    double next_restart = sim->restart_every ? START + sim->restart_every : INFINITY;
    double next_reload = sim->reload_every ? START + sim->reload_every : INFINITY;
    int stepped = 0, reloads = 0, held = 0, restarted = 0;
    /* Time as a monotonic clock counts it, which the step does not move:
     * the longest stretch without a new playlist is measured on it. */
    double mono = 0, last_publish_mono = 0, longest_gap = 0;
    c.clock_back_restarts = sim->step_back > sim->hold * TARGET;
    while (now < START + sim->span) {
        struct station_out out;
        enum station_tick_result r = station_tick(&st, now, &out, err, sizeof err);
        if (r == STATION_PUBLISH) {
            check_playlist(&c, out.playlist, out.len, sim->window);
            free(out.playlist);
            restarted += out.restarted_behind > 0;
            if (mono - last_publish_mono > longest_gap)
                longest_gap = mono - last_publish_mono;
            last_publish_mono = mono;
        } else if (r == STATION_HELD) {
            held++;
        }
        if (now >= next_restart) {
            restart(&st, &opts, &m, cur, ncur, now, state_path);
            next_restart += sim->restart_every;
        }
        if (now >= next_reload) {
            reloads++;
            cur = reloads % 3 == 1 ? ORDER_B : reloads % 3 == 2 ? ORDER_C : ORDER_A;
            ncur = cur == ORDER_B ? 5 : cur == ORDER_C ? 1 : 7;
            struct order no;
            fx_make_order(&m, cur, ncur, &no);
            if (station_reload(&st, &no, now, err, sizeof err) < 0)
                fail_msg("%s", err);
            order_free(&no);
            next_reload += sim->reload_every;
        }
        double next = station_next_boundary(&st, now);
        assert_true(next > now - sim->step_back - 1);
        double was = now;
        now = next > now ? next : now + 0.5;
        mono += now - was;
        if (sim->step_back_at && !stepped && now >= START + sim->step_back_at) {
            now -= sim->step_back;
            stepped = 1;
            if (sim->restart_after_step)
                restart(&st, &opts, &m, cur, ncur, now, state_path);
        }
    }
    if (sim->step_back_at && sim->step_back <= sim->hold * c.target) {
        /* A small step: held, and for no longer than the step. */
        assert_true(held > 0);
        assert_int_equal(restarted, 0);
    } else if (sim->step_back_at) {
        /* A step further back than the hold: the timeline went on at once. */
        assert_int_equal(restarted, 1);
    }
    /* Never off the air for longer than the hold allows, plus a segment
     * (which may last up to half a second more than the target duration). */
    if (longest_gap > (sim->hold + 1) * c.target + 0.5)
        fail_msg("%.3f s without a new playlist (hold %.0f target durations of %d s)", longest_gap, sim->hold,
                 c.target);
    assert_true(c.publishes > sim->span / 6.1 * 0.9);
    station_close(&st);
    manifest_free(&m);
    free(c.seen);
    unlink(state_path);
}

static void week_at_default_cadence_keeps_every_rule(void **state)
{
    (void)state;
    struct sim s = {.window = 50, .span = WEEK};
    simulate(&s);
}

static void week_with_restarts_reloads_and_a_clock_step_back(void **state)
{
    (void)state;
    struct sim s = {.window = 50, .span = WEEK, .restart_every = 3 * 3600.0 + 17, .hold = 2,
                    .reload_every = 86400.0 + 333, .step_back_at = 2.5 * 86400, .step_back = 600};
    simulate(&s);
}

/* An hour back, then a restart of the process at once: the station is not
 * held off the air for the hour, nor again after the restart. */
static void clock_an_hour_back_goes_on_at_once_across_a_restart(void **state)
{
    (void)state;
    struct sim s = {.window = 50, .span = 86400, .restart_every = 3 * 3600.0 + 17, .hold = 2,
                    .step_back_at = 0.3 * 86400, .step_back = 3600, .restart_after_step = 1};
    simulate(&s);
}

/* A few seconds back (an NTP step): held until the clock catches up, the
 * timeline untouched. */
static void clock_a_little_back_holds(void **state)
{
    (void)state;
    struct sim s = {.window = 50, .span = 86400, .hold = 2, .step_back_at = 0.3 * 86400, .step_back = 9};
    simulate(&s);
}

static void window_of_one_and_of_a_thousand(void **state)
{
    (void)state;
    struct sim one = {.window = 1, .span = 86400, .restart_every = 7200, .reload_every = 20000};
    simulate(&one);
    struct sim big = {.window = 1000, .span = 6 * 3600, .restart_every = 5000, .reload_every = 7000};
    simulate(&big);
}

static void running_order_shorter_than_the_window_loops(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct order o;
    fx_make_order(&m, ORDER_C, 1, &o); /* one 2-second segment */
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    struct station st;
    char err[256];
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    struct checker c = {.last_newest = -1};
    double now = START;
    int64_t first = -1;
    for (int i = 0; i < 500; i++) {
        struct station_out out;
        if (station_tick(&st, now, &out, err, sizeof err) == STATION_PUBLISH) {
            if (first < 0)
                first = out.newest;
            check_playlist(&c, out.playlist, out.len, 50);
            /* Every segment is a track start: all carry the tag. */
            assert_non_null(strstr(out.playlist, "#EXT-X-DISCONTINUITY\n"));
            free(out.playlist);
        }
        now = station_next_boundary(&st, now);
    }
    assert_int_equal(c.last_newest, first + 499);
    station_close(&st);
    manifest_free(&m);
    free(c.seen);
}

/* The first playlist of a new station with this window and listen delay,
 * parsed, and its text in *text when text is not NULL (the caller frees). */
static void first_playlist(size_t window, double delay, struct m3u8_playlist *pl, char **text)
{
    struct manifest m;
    fx_make_library(&m);
    struct order o;
    fx_make_order(&m, ORDER_A, 7, &o);
    struct station_opts opts = {window, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", delay, 1, 2, 0};
    struct station st;
    char err[256];
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    struct station_out out;
    assert_int_equal(station_tick(&st, START, &out, err, sizeof err), STATION_PUBLISH);
    assert_int_equal(m3u8_parse(out.playlist, out.len, pl, err, sizeof err), 0);
    if (text)
        *text = out.playlist;
    else
        free(out.playlist);
    station_close(&st);
    manifest_free(&m);
}

static void fresh_station_first_playlist_lists_three_target_durations(void **state)
{
    (void)state;
    struct m3u8_playlist pl;
    first_playlist(50, 0, &pl, NULL);
    double listed = 0;
    for (size_t i = 0; i < pl.nsegs; i++)
        listed += pl.segs[i].duration;
    assert_true(listed >= STATION_MIN_TARGETS * pl.target_duration);
    /* Listeners three target durations behind the edge hear the order from its first segment. */
    assert_int_equal(pl.media_sequence, station_sequence_floor(pl.segs[0].pdt));
    assert_true(pl.segs[pl.nsegs - 1].pdt <= START);
    m3u8_free(&pl);
}

/* A new station's first playlist already reaches the delay back, so the
 * first listeners play air time minus the delay like every later one, and
 * hear the order from its start. */
static void fresh_station_lists_the_listen_delay(void **state)
{
    (void)state;
    const double delay = 20;
    struct m3u8_playlist pl;
    first_playlist(50, delay, &pl, NULL);
    assert_true(pl.segs[0].pdt <= START - delay);
    assert_int_equal(pl.media_sequence, station_sequence_floor(pl.segs[0].pdt));
    /* No more than needed: the segment before the delay's was not listed. */
    assert_true(pl.segs[0].pdt > START - delay - 2.0 * pl.target_duration);
    m3u8_free(&pl);
}

/* The delay is published as EXT-X-START, but never further back than a
 * window can list with three target durations still ahead of it. */
static int published_start_offset(size_t window, double delay, double *offset, int *target)
{
    struct m3u8_playlist pl;
    first_playlist(window, delay, &pl, NULL);
    int has = pl.has_start;
    *offset = pl.start_offset;
    *target = pl.target_duration;
    m3u8_free(&pl);
    return has;
}

/* Every track starting in the window has its EXT-X-DATERANGE, with the
 * whole track's length as its EXTINFs add up, also past the window's end. */
static void tracks_in_the_window_are_dateranges_of_their_whole_length(void **state)
{
    (void)state;
    struct m3u8_playlist pl;
    char *text;
    first_playlist(50, 20, &pl, &text);
    /* j1 (one segment of 150000 samples) opens the order, t1 follows: 15
     * segments of 5.995 s, 15 of 6.016 s and 4.167 s, most of it ahead. */
    assert_true(pl.segs[0].discontinuity || pl.segs[0].seq == pl.media_sequence);
    char want[256];
    snprintf(want, sizeof want, "#EXT-X-DATERANGE:ID=\"track-%lld\",CLASS=\"%s\",", (long long)pl.segs[0].seq,
             M3U8_TRACK_CLASS);
    const char *j1 = strstr(text, want);
    assert_non_null(j1);
    const char *j1_dur = strstr(j1, "DURATION=3.125,X-TITLE=\"j1\"");
    assert_non_null(j1_dur);
    assert_true(j1_dur < strchr(j1, '\n'));
    snprintf(want, sizeof want, "ID=\"track-%lld\"", (long long)pl.segs[1].seq);
    const char *t1 = strstr(text, want);
    assert_non_null(t1);
    const char *dur = strstr(t1, "DURATION=184.332,");
    assert_non_null(dur);
    assert_true(dur < strchr(t1, '\n'));
    size_t starts = 0, tags = 0;
    for (size_t i = 0; i < pl.nsegs; i++)
        starts += pl.segs[i].discontinuity || i == 0;
    for (const char *p = text; (p = strstr(p, "CLASS=\"" M3U8_TRACK_CLASS "\"")) != NULL; p++)
        tags++;
    assert_int_equal(tags, starts);
    m3u8_free(&pl);
    free(text);
}

/* The track after the one on air is announced once, with its own class and
 * an air time still to come: t2 follows t1, which has just begun. */
static void the_next_track_is_announced_with_a_future_start(void **state)
{
    (void)state;
    struct m3u8_playlist pl;
    char *text;
    first_playlist(50, 20, &pl, &text);
    const char *next = strstr(text, "#EXT-X-DATERANGE:ID=\"next-");
    assert_non_null(next);
    assert_null(strstr(next + 1, "#EXT-X-DATERANGE:ID=\"next-"));
    const char *eol = strchr(next, '\n');
    const char *cls = strstr(next, "CLASS=\"" M3U8_NEXT_CLASS "\"");
    const char *title = strstr(next, "X-TITLE=\"Artist - t2\"");
    assert_true(cls && cls < eol && title && title < eol);
    const char *sd = strstr(next, "START-DATE=\"");
    assert_true(sd && sd < eol);
    char when[M3U8_TIME_LEN] = {0};
    memcpy(when, sd + 12, 24);
    double start;
    assert_int_equal(m3u8_parse_time(when, &start), 0);
    /* t1 starts at segs[1] and lasts 184.332 s as its tag says (the sum of
     * EXTINF's rounded milliseconds, a few off the samples' sum): the next
     * tag starts where t1 ends. */
    assert_true(fabs(start - (pl.segs[1].pdt + 184.332)) < 0.01);
    assert_true(start > START);
    m3u8_free(&pl);
    free(text);
}

static void listen_delay_is_published_within_the_window(void **state)
{
    (void)state;
    double off;
    int target;
    assert_true(published_start_offset(50, 45, &off, &target));
    assert_true(fabs(off + 45) < 1e-9);
    assert_true(published_start_offset(10, 45, &off, &target));
    assert_true(45 > (10 - STATION_MIN_TARGETS) * target);
    assert_true(fabs(off + (10 - STATION_MIN_TARGETS) * target) < 1e-9);
    assert_false(published_start_offset(50, 0, &off, &target));
    assert_false(published_start_offset(STATION_MIN_TARGETS, 45, &off, &target));
}

static void new_order_starts_at_the_next_track_boundary(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct order o;
    fx_make_order(&m, ORDER_A, 7, &o);
    struct station_opts opts = {10, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    struct station st;
    char err[256];
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    double now = START + 60; /* inside t1 (j1 is ~3 s) */
    struct station_out out;
    assert_int_equal(station_tick(&st, now, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
    assert_string_equal(out.now_playing.track_id, "t1");
    struct order b;
    fx_make_order(&m, ORDER_B, 5, &b);
    assert_int_equal(station_reload(&st, &b, now, err, sizeof err), 1);
    /* Still t1 until it ends; then ORDER_B from its start: j2. */
    char track[64] = "t1";
    while (strcmp(track, "t1") == 0) {
        now = station_next_boundary(&st, now);
        if (station_tick(&st, now, &out, err, sizeof err) == STATION_PUBLISH) {
            snprintf(track, sizeof track, "%s", out.now_playing.track_id);
            if (strcmp(track, "t1") != 0) {
                assert_string_equal(track, "j2");
                assert_true(out.now_playing.disc);
            }
            free(out.playlist);
        }
    }
    station_close(&st);
    manifest_free(&m);
}

static void restart_resumes_by_wall_clock(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct order o;
    fx_make_order(&m, ORDER_A, 7, &o);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    struct station st;
    char err[256];
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    struct station_out out;
    assert_int_equal(station_tick(&st, START + 100, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
    int64_t before = out.newest;
    char path[] = "/tmp/radio-restart-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    /* Off for an hour: on return, what is on air is what the clock says. */
    restart(&st, &opts, &m, ORDER_A, 7, START + 3700, path);
    assert_int_equal(station_tick(&st, START + 3700, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
    assert_true(out.newest > before + 500);
    assert_true(out.now_playing.pdt <= START + 3700 &&
                out.now_playing.pdt + out.now_playing.duration > START + 3700);
    station_close(&st);
    manifest_free(&m);
    unlink(path);
}

/* The artwork a track's DATERANGE names stays on the tag while the track
 * is in the window: after a new running order (the track is history then)
 * and after a restart (history comes back from the saved state). */
static void artwork_in_dateranges_survives_a_reload_and_a_restart(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct manifest_track *t1 = (struct manifest_track *)manifest_find(&m, "t1");
    t1->nart = 1;
    t1->art = calloc(1, sizeof *t1->art);
    *t1->art = (struct manifest_artwork){.size = 256, .width = 256, .height = 256, .bytes = 10,
                                         .file = strdup("artwork/a.jpg")};
    cid_raw_from_bytes("cover", 5, t1->art->cid);
    char want[300];
    snprintf(want, sizeof want, "X-TITLE=\"Artist - t1\",X-ARTWORK=\"/ipfs/%s\"\n", t1->art->cid);
    struct order o, b;
    fx_make_order(&m, ORDER_A, 7, &o);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    struct station st;
    char err[256];
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    struct station_out out;
    assert_int_equal(station_tick(&st, START + 100, &out, err, sizeof err), STATION_PUBLISH);
    if (!strstr(out.playlist, want))
        fail_msg("no %s in\n%s", want, out.playlist);
    /* Only t1 has artwork: one attribute, on its range. */
    const char *first = strstr(out.playlist, "X-ARTWORK");
    assert_ptr_equal(first, strstr(strstr(out.playlist, want), "X-ARTWORK"));
    assert_null(strstr(first + 1, "X-ARTWORK"));
    free(out.playlist);
    /* ORDER_B from the end of t1 (about 187 s): t1 becomes history. */
    fx_make_order(&m, ORDER_B, 5, &b);
    assert_int_equal(station_reload(&st, &b, START + 100, err, sizeof err), 1);
    assert_int_equal(station_tick(&st, START + 200, &out, err, sizeof err), STATION_PUBLISH);
    assert_string_equal(out.now_playing.track_id, "t5"); /* j2, then t5: ORDER_B plays */
    if (!strstr(out.playlist, want))
        fail_msg("after the reload, no %s in\n%s", want, out.playlist);
    free(out.playlist);
    char path[] = "/tmp/radio-artwork-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    restart(&st, &opts, &m, ORDER_B, 5, START + 210, path);
    assert_int_equal(station_tick(&st, START + 210, &out, err, sizeof err), STATION_PUBLISH);
    if (!strstr(out.playlist, want))
        fail_msg("after the restart, no %s in\n%s", want, out.playlist);
    free(out.playlist);
    station_close(&st);
    manifest_free(&m);
    close(fd);
    unlink(path);
}

static void larger_target_duration_is_refused_while_on_air(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    fx_add_track(&m, "long", 2, 10 * RATE, 0); /* a 10 s segment */
    manifest_sort(&m);
    struct order o, big;
    fx_make_order(&m, ORDER_A, 7, &o);
    const char *ids[] = {"long"};
    fx_make_order(&m, ids, 1, &big);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    struct station st;
    char err[256] = "";
    assert_int_equal(station_open(&st, &opts, &o, NULL, START, err, sizeof err), 0);
    assert_int_not_equal(station_reload(&st, &big, START, err, sizeof err), 0);
    assert_non_null(strstr(err, "target duration"));
    order_free(&big);
    station_close(&st);
    manifest_free(&m);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(week_at_default_cadence_keeps_every_rule),
        cmocka_unit_test(week_with_restarts_reloads_and_a_clock_step_back),
        cmocka_unit_test(clock_an_hour_back_goes_on_at_once_across_a_restart),
        cmocka_unit_test(clock_a_little_back_holds),
        cmocka_unit_test(window_of_one_and_of_a_thousand),
        cmocka_unit_test(running_order_shorter_than_the_window_loops),
        cmocka_unit_test(fresh_station_first_playlist_lists_three_target_durations),
        cmocka_unit_test(new_order_starts_at_the_next_track_boundary),
        cmocka_unit_test(listen_delay_is_published_within_the_window),
        cmocka_unit_test(fresh_station_lists_the_listen_delay),
        cmocka_unit_test(tracks_in_the_window_are_dateranges_of_their_whole_length),
        cmocka_unit_test(the_next_track_is_announced_with_a_future_start),
        cmocka_unit_test(restart_resumes_by_wall_clock),
        cmocka_unit_test(artwork_in_dateranges_survives_a_reload_and_a_restart),
        cmocka_unit_test(larger_target_duration_is_refused_while_on_air),
    };
    if (getenv("TEST_FILTER"))
        cmocka_set_test_filter(getenv("TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
