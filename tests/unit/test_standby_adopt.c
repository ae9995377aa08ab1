/* A standby that adopts the playlist another streamer published goes on
 * with that streamer's very timeline: from the takeover on, both stations
 * render byte-identical playlists for the same instants, also after a
 * change of running order. Without the anchor line it continues after the
 * playlist's last segment, every listed sequence unchanged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m3u8.h"
#include "standby.h"
#include "station.h"
#include "timeline_fixture.h"
#include "timeline_line.h"

#define RATE FX_RATE
#define START 1.8e9 /* a fixed instant: no test depends on today's date */

/* The running order: j1 t1 t2, or (second) t2 t1. */
static void make_order(int second, struct order *o)
{
    struct manifest m;
    fx_make_small_library(&m);
    static const char *const first[] = {"j1", "t1", "t2"}, *const other[] = {"t2", "t1"};
    fx_make_order(&m, second ? other : first, second ? 2u : 3u, o);
    manifest_free(&m);
}

static const struct station_opts OPTS = {10, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};

static void open_station(struct station *st, double now)
{
    struct order o;
    char err[256];
    make_order(0, &o);
    if (station_open(st, &OPTS, &o, NULL, now, err, sizeof err) != 0)
        fail_msg("%s", err);
}

/* One tick; the playlist with its anchor line, as a failover streamer publishes it, or NULL. */
static char *tick(struct station *st, double now)
{
    struct station_out out;
    char err[256];
    if (station_tick(st, now, &out, err, sizeof err) != STATION_PUBLISH)
        return NULL;
    assert_int_equal(timeline_line_append(&out.playlist, &out.len, &st->sched.anchor), 0);
    return out.playlist;
}

/* Runs a station from `from` to `to`; the last playlist. */
static char *run(struct station *st, double from, double to)
{
    char *last = NULL;
    for (double now = from; now <= to; now = station_next_boundary(st, now)) {
        char *p = tick(st, now);
        if (p) {
            free(last);
            last = p;
        }
    }
    assert_non_null(last);
    return last;
}

/* From `from` to `to`, both stations publish the same bytes at the same instants. */
static void same_playlists(struct station *a, struct station *b, double from, double to)
{
    int n = 0;
    for (double now = from; now <= to; now = station_next_boundary(a, now)) {
        char *pa = tick(a, now), *pb = tick(b, now);
        if (!pa || !pb) {
            assert_null(pa);
            assert_null(pb);
            continue;
        }
        assert_string_equal(pb, pa);
        free(pa);
        free(pb);
        n++;
    }
    assert_true(n > 20);
}

static void a_standby_continues_the_other_streamers_timeline_byte_for_byte(void **state)
{
    (void)state;
    struct station a, b;
    char err[256];
    open_station(&a, START);
    char *last = run(&a, START, START + 1000.3);
    /* The standby started later on its own: another anchor, another timeline. */
    open_station(&b, START + 500);
    struct order o;
    make_order(0, &o);
    /* It takes over a few seconds after a's last playlist. */
    assert_int_equal(standby_adopt_order(&b, &o, last, strlen(last), START + 1004, err, sizeof err), 1);
    same_playlists(&a, &b, START + 1004, START + 1400);
    free(last);
    station_close(&a);
    station_close(&b);
}

static void the_timeline_is_adopted_across_a_change_of_running_order(void **state)
{
    (void)state;
    struct station a, b;
    char err[256];
    open_station(&a, START);
    free(run(&a, START, START + 300));
    struct order next;
    make_order(1, &next);
    assert_int_equal(station_reload(&a, &next, START + 300, err, sizeof err), 1);
    /* The first playlist with both orders in it: the old one's segments
     * come from the playlist (history), the new one's from the anchor. */
    char *last = NULL;
    double now = START + 300;
    for (; !last || !(a.sched.anchor.seq <= a.newest && a.first < a.sched.anchor.seq);
         now = station_next_boundary(&a, now)) {
        assert_true(now < START + 500);
        char *p = tick(&a, now);
        if (p) {
            free(last);
            last = p;
        }
    }
    open_station(&b, START + 100);
    struct order o;
    make_order(1, &o);
    assert_int_equal(standby_adopt_order(&b, &o, last, strlen(last), now + 3, err, sizeof err), 1);
    same_playlists(&a, &b, now + 3, now + 400);
    free(last);
    station_close(&a);
    station_close(&b);
}

static void without_the_anchor_line_the_listed_sequences_stay_as_they_were(void **state)
{
    (void)state;
    struct station a, b;
    char err[256];
    open_station(&a, START);
    char *last = run(&a, START, START + 1000.3);
    *strstr(last, TIMELINE_LINE_TAG) = '\0';
    open_station(&b, START + 500);
    struct order o;
    make_order(0, &o);
    assert_int_equal(standby_adopt_order(&b, &o, last, strlen(last), START + 1004, err, sizeof err), 1);
    char *next = run(&b, START + 1004, START + 1004);
    struct m3u8_playlist pa, pb;
    assert_int_equal(m3u8_parse(last, strlen(last), &pa, err, sizeof err), 0);
    assert_int_equal(m3u8_parse(next, strlen(next), &pb, err, sizeof err), 0);
    assert_true(pb.media_sequence >= pa.media_sequence);
    size_t shared = 0;
    for (size_t i = 0; i < pa.nsegs; i++)
        for (size_t j = 0; j < pb.nsegs; j++)
            if (pb.segs[j].seq == pa.segs[i].seq) {
                assert_string_equal(pb.segs[j].uri, pa.segs[i].uri);
                assert_true(fabs(pb.segs[j].pdt - pa.segs[i].pdt) < 1e-6);
                shared++;
            }
    assert_true(shared > 0);
    assert_true(pb.segs[pb.nsegs - 1].seq > pa.segs[pa.nsegs - 1].seq);
    m3u8_free(&pa);
    m3u8_free(&pb);
    free(last);
    free(next);
    station_close(&a);
    station_close(&b);
}

static void a_playlist_behind_the_station_is_not_adopted(void **state)
{
    (void)state;
    struct station a;
    char err[256];
    open_station(&a, START);
    char *old = run(&a, START, START + 100);
    free(run(&a, START + 100, START + 200));
    int64_t newest = a.newest;
    struct order o;
    make_order(0, &o);
    assert_int_equal(standby_adopt_order(&a, &o, old, strlen(old), START + 201, err, sizeof err), 0);
    assert_int_equal(a.newest, newest);
    free(old);
    station_close(&a);
}

static void the_anchor_line_round_trips(void **state)
{
    (void)state;
    struct sched_anchor a = {.time = 1800000123.4567891, .seq = 987654321, .disc_before = 12345}, b;
    memset(a.order_id, 'a', 64);
    char line[TIMELINE_LINE_MAX];
    timeline_line_format(&a, line);
    char text[512];
    snprintf(text, sizeof text, "#EXTM3U\n/ipfs/x\n%s", line);
    assert_int_equal(timeline_line_parse(text, strlen(text), &b), 0);
    assert_true(b.time == a.time);
    assert_int_equal(b.seq, a.seq);
    assert_int_equal(b.disc_before, a.disc_before);
    assert_string_equal(b.order_id, a.order_id);
    /* Not at a line start, or malformed: no anchor. */
    assert_int_equal(timeline_line_parse(text + 9, 3, &b), -1);
    snprintf(text, sizeof text, "x%s", line);
    assert_int_equal(timeline_line_parse(text, strlen(text), &b), -1);
    snprintf(text, sizeof text, "%sANCHOR-TIME=1,ANCHOR-SEQUENCE=-1,ANCHOR-DISCONTINUITIES=0,ORDER=%064d\n",
             TIMELINE_LINE_TAG, 0);
    assert_int_equal(timeline_line_parse(text, strlen(text), &b), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_standby_continues_the_other_streamers_timeline_byte_for_byte),
        cmocka_unit_test(the_timeline_is_adopted_across_a_change_of_running_order),
        cmocka_unit_test(without_the_anchor_line_the_listed_sequences_stay_as_they_were),
        cmocka_unit_test(a_playlist_behind_the_station_is_not_adopted),
        cmocka_unit_test(the_anchor_line_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
