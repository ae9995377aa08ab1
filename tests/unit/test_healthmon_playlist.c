/* Playlist rules as healthmon judges them, driven by a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "m3u8.h"
#include "playlist_check.h"
#include "problem.h"

#define T0 1795000000.0   /* 2026-11-18, an arbitrary "now" */
#define TD 6

static const struct hm_playlist_limits LIM = {3, 0.5, 3600};

/* A live window of n segments of `dur` seconds starting at media sequence
 * seq, the first aired at t; a discontinuity before index disc (or -1),
 * and the date-times jump by `jump` seconds there. */
static char *window(int64_t seq, int n, double dur, double t, int disc, double jump)
{
    size_t cap = 256 + (size_t)n * 160;
    char *s = malloc(cap);
    size_t o = (size_t)snprintf(s, cap,
                                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%d\n"
                                "#EXT-X-MEDIA-SEQUENCE:%lld\n",
                                TD, (long long)seq);
    for (int i = 0; i < n; i++) {
        if (i == disc) {
            o += (size_t)snprintf(s + o, cap - o, "#EXT-X-DISCONTINUITY\n");
        }
        if (i == disc || (disc < 0 && jump != 0 && i == n / 2))
            t += jump;
        char when[M3U8_TIME_LEN];
        m3u8_format_time(t, when);
        o += (size_t)snprintf(s + o, cap - o, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.3f,\n/ipfs/seg%lld\n",
                              when, dur, (long long)(seq + i));
        t += dur;
    }
    return s;
}

static void parse(const char *text, struct m3u8_playlist *pl)
{
    char err[256];
    if (m3u8_parse(text, strlen(text), pl, err, sizeof err) != 0)
        fail_msg("parse failed: %s", err);
}

static int check(const char *text, double now, double mono, struct hm_playlist_memory *mem,
                 struct hm_playlist_facts *f, struct hm_problems *p)
{
    struct m3u8_playlist pl;
    parse(text, &pl);
    memset(p, 0, sizeof *p);
    hm_playlist_check(&pl, now, mono, &LIM, mem, f, p);
    m3u8_free(&pl);
    return (int)p->n;
}

static void fresh_window_has_no_problems(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    /* Newest segment started 2 s ago. */
    char *pl = window(1000, 5, 6.016, T0 - 4 * 6.016 - 2, -1, 0);
    assert_int_equal(check(pl, T0, 0, &mem, &f, &p), 0);
    assert_true(fabs(f.age - 2.0) < 0.01);
    assert_int_equal(f.target_duration, TD);
    assert_int_equal(f.newest_seq, 1004);
    assert_int_equal(f.sequence_advanced, -1);
    assert_true(f.stale_after == 18.0);
    free(pl);
    hm_playlist_memory_free(&mem);
}

static void newest_date_time_older_than_three_target_durations_is_stale(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    double newest = T0 - 18.5;
    char *pl = window(1000, 5, 6.0, newest - 24, -1, 0);
    check(pl, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_STALE));
    assert_int_equal(hm_code_severity(HM_STALE, 1), HM_DOWN);
    assert_int_equal(hm_code_severity(HM_STALE, 0), HM_DEGRADED);
    /* Just inside the limit it is fresh. */
    hm_playlist_memory_free(&mem);
    check(pl, newest + 17.9, 0, &mem, &f, &p);
    assert_false(hm_problem_has(&p, HM_STALE));
    free(pl);
    hm_playlist_memory_free(&mem);
}

/* The streamer stops at t_stop: the playlist stays as it was. Rounds every
 * `interval` seconds must call it stale no later than three target
 * durations plus one interval after the stop. */
static void stopped_streamer_turns_stale_within_three_targets_plus_one_interval(void **state)
{
    (void)state;
    struct clock_fake fake = {T0, 0};
    struct clock clk = clock_fake_make(&fake);
    const double interval = 10;
    /* Worst case for the bound: the last segment started just before the stop. */
    double t_stop = T0 + 0.001;
    char *pl = window(500, 50, 6.0, T0 - 49 * 6.0, -1, 0);
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    double stale_at = -1;
    for (int round = 0; round < 20 && stale_at < 0; round++) {
        check(pl, clk.now(clk.ctx), clk.mono(clk.ctx), &mem, &f, &p);
        if (hm_problem_has(&p, HM_STALE))
            stale_at = clk.now(clk.ctx);
        clk.sleep(clk.ctx, interval);
    }
    assert_true(stale_at > 0);
    assert_true(stale_at - t_stop <= 3 * TD + interval);
    /* The sequence check says the same thing independently. */
    assert_true(hm_problem_has(&p, HM_SEQUENCE_STUCK));
    free(pl);

    /* Restarted: the window moves on and the problems go away. */
    double now = clk.now(clk.ctx);
    pl = window(520, 50, 6.0, now - 49 * 6.0 - 1, -1, 0);
    assert_int_equal(check(pl, now, clk.mono(clk.ctx), &mem, &f, &p), 0);
    assert_int_equal(f.sequence_advanced, 1);
    free(pl);
    hm_playlist_memory_free(&mem);
}

static void sequence_that_advances_is_reported_and_one_that_goes_back_is_a_problem(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *a = window(100, 5, 6, T0 - 26, -1, 0);
    char *b = window(101, 5, 6, T0 - 20, -1, 0);
    char *c = window(99, 5, 6, T0 - 30, -1, 0);
    check(a, T0, 0, &mem, &f, &p);
    assert_int_equal(check(b, T0 + 6, 6, &mem, &f, &p), 0);
    assert_int_equal(f.sequence_advanced, 1);
    check(c, T0 + 7, 7, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_SEQUENCE_BACK));
    assert_int_equal(f.sequence_advanced, 0);
    free(a);
    free(b);
    free(c);
    hm_playlist_memory_free(&mem);
}

/* While the streamer's window fills, EXT-X-MEDIA-SEQUENCE stays at the
 * first segment and only the newest moves: that is advancing. */
static void growing_window_counts_as_advancing(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *a = window(0, 3, 6, T0 - 14, -1, 0);
    char *b = window(0, 4, 6, T0 - 14, -1, 0);
    char *c = window(0, 4, 6, T0 - 14, -1, 0);
    check(a, T0, 0, &mem, &f, &p);
    assert_int_equal(check(b, T0 + 6, 6, &mem, &f, &p), 0);
    assert_int_equal(f.sequence_advanced, 1);
    assert_int_equal(f.newest_seq, 3);
    /* A newest segment that goes back is as wrong as a media sequence that does. */
    check(a, T0 + 7, 7, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_SEQUENCE_BACK));
    check(c, T0 + 8, 8, &mem, &f, &p);
    /* ...and one that stays put past the stale limit is stuck. */
    check(c, T0 + 30, 30, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_SEQUENCE_STUCK));
    free(a);
    free(b);
    free(c);
    hm_playlist_memory_free(&mem);
}

static void unchanged_sequence_within_the_stale_limit_is_not_a_problem(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *a = window(100, 5, 6, T0 - 26, -1, 0);
    check(a, T0, 0, &mem, &f, &p);
    assert_int_equal(check(a, T0 + 3, 3, &mem, &f, &p), 0);
    assert_int_equal(f.sequence_advanced, 0);
    assert_true(fabs(f.unchanged_for - 3) < 1e-9);
    free(a);
    hm_playlist_memory_free(&mem);
}

static void same_sequence_number_with_another_uri_is_flagged(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *a = window(100, 5, 6, T0 - 26, -1, 0);
    char *b = window(101, 5, 6, T0 - 20, -1, 0);
    /* Newest of a is 104; rename it in b. */
    char *at = strstr(b, "/ipfs/seg104");
    assert_non_null(at);
    memcpy(at, "/ipfs/segXYZ", 12);
    check(a, T0, 0, &mem, &f, &p);
    check(b, T0 + 6, 6, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_SEQUENCE_REMAPPED));
    free(a);
    free(b);
    hm_playlist_memory_free(&mem);
}

static void date_time_jump_needs_a_discontinuity(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *without = window(100, 6, 6, T0 - 40, -1, 30);
    check(without, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_DISCONTINUITY));
    hm_playlist_memory_free(&mem);
    char *with = window(100, 6, 6, T0 - 40, 3, 30);
    check(with, T0, 0, &mem, &f, &p);
    assert_false(hm_problem_has(&p, HM_DISCONTINUITY));
    assert_int_equal(f.discontinuities, 1);
    /* A discontinuity without a jump (a track boundary) is fine too. */
    hm_playlist_memory_free(&mem);
    char *boundary = window(100, 6, 6, T0 - 34, 3, 0);
    assert_int_equal(check(boundary, T0, 0, &mem, &f, &p), 0);
    free(without);
    free(with);
    free(boundary);
    hm_playlist_memory_free(&mem);
}

static void target_duration_rules_are_enforced(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    const char *none = "#EXTM3U\n#EXTINF:6,\n/ipfs/a\n";
    check(none, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_TARGET_DURATION));
    hm_playlist_memory_free(&mem);

    const char *over = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:7.2,\n/ipfs/a\n";
    check(over, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_EXTINF));
    hm_playlist_memory_free(&mem);

    /* 6.4 rounds to 6: allowed by RFC 8216. */
    const char *rounds = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.4,\n/ipfs/a\n";
    check(rounds, T0, 0, &mem, &f, &p);
    assert_false(hm_problem_has(&p, HM_EXTINF));
    hm_playlist_memory_free(&mem);

    const char *zero = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:0,\n/ipfs/a\n";
    check(zero, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_EXTINF));
    hm_playlist_memory_free(&mem);

    char *a = window(100, 5, 6, T0 - 26, -1, 0);
    char *b = window(101, 5, 6, T0 - 20, -1, 0);
    char *t = strstr(b, "TARGETDURATION:6");
    t[15] = '8';
    check(a, T0, 0, &mem, &f, &p);
    check(b, T0 + 6, 6, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_TARGET_DURATION));
    free(a);
    free(b);
    hm_playlist_memory_free(&mem);
}

static void endlist_and_empty_playlists_are_not_live(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    check("#EXTM3U\n#EXT-X-TARGETDURATION:6\n", T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_NOT_LIVE));
    hm_playlist_memory_free(&mem);
    char *a = window(100, 3, 6, T0 - 14, -1, 0);
    size_t l = strlen(a);
    a = realloc(a, l + 32);
    strcpy(a + l, "#EXT-X-ENDLIST\n");
    check(a, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_NOT_LIVE));
    free(a);
    hm_playlist_memory_free(&mem);
}

static void missing_date_times_leave_freshness_to_the_sequence(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    const char *pl = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n"
                     "#EXTINF:6,\n/ipfs/a\n#EXTINF:6,\n/ipfs/b\n";
    check(pl, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_NO_DATE_TIME));
    assert_true(isnan(f.age));
    check(pl, T0 + 30, 30, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_SEQUENCE_STUCK));
    assert_int_equal(hm_code_severity(HM_SEQUENCE_STUCK, 1), HM_DOWN);
    hm_playlist_memory_free(&mem);
}

static void date_time_is_carried_forward_over_segments_without_one(void **state)
{
    (void)state;
    const char *text = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n"
                       "#EXT-X-PROGRAM-DATE-TIME:2026-11-21T00:00:00.000Z\n"
                       "#EXTINF:6.016,\n/ipfs/a\n#EXTINF:5.995,\n/ipfs/b\n#EXTINF:6,\n/ipfs/c\n";
    struct m3u8_playlist pl;
    parse(text, &pl);
    double base;
    assert_int_equal(m3u8_parse_time("2026-11-21T00:00:00.000Z", &base), 0);
    assert_true(fabs(hm_segment_pdt(&pl, 2) - (base + 12.011)) < 1e-6);
    assert_true(hm_segment_pdt(&pl, 0) == base);
    m3u8_free(&pl);
}

static void date_time_far_in_the_future_is_flagged(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *pl = window(100, 3, 6, T0 + 100, -1, 0);
    check(pl, T0, 0, &mem, &f, &p);
    assert_true(hm_problem_has(&p, HM_FUTURE));
    assert_false(hm_problem_has(&p, HM_STALE));
    free(pl);
    hm_playlist_memory_free(&mem);
}

/* The same window, with the listen delay the streamer publishes. */
static char *with_start(char *pl, const char *offset)
{
    const char *after = "#EXT-X-VERSION:3\n";
    char *at = strstr(pl, after);
    assert_non_null(at);
    size_t head = (size_t)(at - pl) + strlen(after);
    char *out = malloc(strlen(pl) + 64);
    memcpy(out, pl, head);
    sprintf(out + head, "#EXT-X-START:TIME-OFFSET=%s\n%s", offset, pl + head);
    free(pl);
    return out;
}

/* Listeners play listen_delay behind air: a playlist as old as that keeps
 * them playing, so it is not stale; one older than that is. */
static void a_published_listen_delay_sets_the_stale_limit(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    char *pl = with_start(window(1000, 10, 6.0, T0 - 9 * 6.0 - 30, -1, 0), "-45.000");
    assert_int_equal(check(pl, T0, 0, &mem, &f, &p), 0);
    assert_true(f.listen_delay == 45);
    assert_true(f.stale_after == 45);
    assert_true(fabs(f.age - 30) < 0.01);
    assert_int_equal(check(pl, T0 + 20, 20, &mem, &f, &p), 1);
    assert_int_equal(p.v[0].code, HM_STALE);
    free(pl);
    hm_playlist_memory_free(&mem);
    /* A positive offset (from the start) says nothing about air time. */
    pl = with_start(window(1000, 10, 6.0, T0 - 9 * 6.0 - 30, -1, 0), "12");
    assert_int_equal(check(pl, T0, 0, &mem, &f, &p), 1);
    assert_true(f.listen_delay == 0 && f.stale_after == 18);
    free(pl);
    hm_playlist_memory_free(&mem);
}

/* The oldest playlist a gateway served lately is what an operator sizes
 * the listen delay from: the maximum over the window, forgotten after it. */
static void the_largest_age_within_the_window_is_kept(void **state)
{
    (void)state;
    struct hm_playlist_memory mem = {0};
    struct hm_playlist_facts f;
    struct hm_problems p;
    static const double ages[] = {2, 40, 5, 3};
    static const double expect[] = {2, 40, 40, 40};
    for (size_t i = 0; i < 4; i++) {
        double mono = 10.0 * (double)i;
        char *pl = window(1000 + (int64_t)i, 5, 6.0, T0 + mono - 4 * 6.0 - ages[i], -1, 0);
        check(pl, T0 + mono, mono, &mem, &f, &p);
        assert_true(fabs(f.age_max - expect[i]) < 0.01);
        free(pl);
    }
    /* An hour after the 40 s answer, it no longer counts. */
    double mono = 10 + LIM.age_window + 1;
    char *pl = window(2000, 5, 6.0, T0 + mono - 4 * 6.0 - 4, -1, 0);
    check(pl, T0 + mono, mono, &mem, &f, &p);
    assert_true(fabs(f.age_max - 5) < 0.01); /* 20 s and 30 s rounds remain: 5 and 3, now 4 */
    free(pl);
    hm_playlist_memory_free(&mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fresh_window_has_no_problems),
        cmocka_unit_test(a_published_listen_delay_sets_the_stale_limit),
        cmocka_unit_test(the_largest_age_within_the_window_is_kept),
        cmocka_unit_test(newest_date_time_older_than_three_target_durations_is_stale),
        cmocka_unit_test(stopped_streamer_turns_stale_within_three_targets_plus_one_interval),
        cmocka_unit_test(sequence_that_advances_is_reported_and_one_that_goes_back_is_a_problem),
        cmocka_unit_test(growing_window_counts_as_advancing),
        cmocka_unit_test(unchanged_sequence_within_the_stale_limit_is_not_a_problem),
        cmocka_unit_test(same_sequence_number_with_another_uri_is_flagged),
        cmocka_unit_test(date_time_jump_needs_a_discontinuity),
        cmocka_unit_test(target_duration_rules_are_enforced),
        cmocka_unit_test(endlist_and_empty_playlists_are_not_live),
        cmocka_unit_test(missing_date_times_leave_freshness_to_the_sequence),
        cmocka_unit_test(date_time_is_carried_forward_over_segments_without_one),
        cmocka_unit_test(date_time_far_in_the_future_is_flagged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
