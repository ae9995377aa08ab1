/* One IPNS name, one timeline: a station that lost its state continues
 * after the last playlist it wrote, and one that lost everything starts
 * above the clock's sequence floor; either way no sequence number goes back
 * or changes its URI, date-time or discontinuity number. */
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
#include "recover.h"
#include "station.h"
#include "timeline_fixture.h"

#define RATE FX_RATE
#define START 1.8e9 /* a fixed instant: no test depends on today's date */

static void open_station_art(struct station *st, const struct station_memory *mem, double now, int art)
{
    struct manifest m;
    fx_make_small_library(&m);
    if (art) {
        struct manifest_track *t1 = (struct manifest_track *)manifest_find(&m, "t1");
        t1->nart = 1;
        t1->art = calloc(1, sizeof *t1->art);
        *t1->art = (struct manifest_artwork){.size = 96, .width = 96, .height = 96, .bytes = 10,
                                             .file = strdup("artwork/a.jpg")};
        cid_raw_from_bytes("cover", 5, t1->art->cid);
    }
    static const char *const ids[] = {"j1", "t1", "t2"};
    struct order o;
    fx_make_order(&m, ids, 3, &o);
    manifest_free(&m);
    char err[256];
    struct station_opts opts = {10, 1, STATION_URI_PATH, NULL, "?filename=segment.ts", 0, 1, 2, 0};
    if (station_open(st, &opts, &o, mem, now, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void open_station(struct station *st, const struct station_memory *mem, double now)
{
    open_station_art(st, mem, now, 0);
}

/* Runs the station from `from` to `to`, returning the last playlist. */
static char *run(struct station *st, double from, double to)
{
    char *last = NULL, err[256];
    for (double now = from; now <= to; now = station_next_boundary(st, now)) {
        struct station_out out;
        if (station_tick(st, now, &out, err, sizeof err) == STATION_PUBLISH) {
            free(last);
            last = out.playlist;
        }
    }
    assert_non_null(last);
    return last;
}

/* Every segment both list keeps its URI, date-time and discontinuity
 * number, and neither sequence goes back from a to b. */
static void check_continues(const char *a, const char *b)
{
    struct m3u8_playlist pa, pb;
    char err[256];
    assert_int_equal(m3u8_parse(a, strlen(a), &pa, err, sizeof err), 0);
    assert_int_equal(m3u8_parse(b, strlen(b), &pb, err, sizeof err), 0);
    assert_true(pb.media_sequence >= pa.media_sequence);
    assert_true(pb.discontinuity_sequence >= pa.discontinuity_sequence);
    assert_int_equal(pb.target_duration, pa.target_duration);
    assert_true(pb.segs[pb.nsegs - 1].seq > pa.segs[pa.nsegs - 1].seq);
    int64_t da = pa.discontinuity_sequence, db = pb.discontinuity_sequence;
    size_t shared = 0;
    for (size_t i = 0, j = 0; i < pa.nsegs; i++) {
        da += pa.segs[i].discontinuity;
        while (j < pb.nsegs && pb.segs[j].seq < pa.segs[i].seq)
            db += pb.segs[j++].discontinuity;
        if (j < pb.nsegs && pb.segs[j].seq == pa.segs[i].seq) {
            assert_string_equal(pb.segs[j].uri, pa.segs[i].uri);
            assert_true(fabs(pb.segs[j].pdt - pa.segs[i].pdt) < 1e-6);
            assert_int_equal(db + pb.segs[j].discontinuity, da);
            shared++;
        }
    }
    m3u8_free(&pa);
    m3u8_free(&pb);
    (void)shared;
}

static void lost_state_continues_after_the_last_playlist(void **state)
{
    (void)state;
    struct station st;
    open_station(&st, NULL, START);
    char *before = run(&st, START, START + 200);
    station_close(&st);

    /* state.json gone: only live.m3u8 is left. Back a few seconds later. */
    struct station_memory mem;
    char err[256];
    if (recover_from_playlist(before, strlen(before), RATE, &mem, err, sizeof err) != 0)
        fail_msg("%s", err);
    open_station(&st, &mem, START + 203);
    /* Every playlist after, until the recovered segments have left the window. */
    char *prev = strdup(before);
    for (double now = START + 203; now < START + 300; now = station_next_boundary(&st, now)) {
        struct station_out out;
        if (station_tick(&st, now, &out, err, sizeof err) != STATION_PUBLISH)
            continue;
        check_continues(before, out.playlist);
        check_continues(prev, out.playlist);
        free(prev);
        prev = out.playlist;
    }
    station_memory_free(&mem);
    station_close(&st);
    free(before);
    free(prev);
}

/* A station that rebuilt its history from its last playlist names the
 * same artwork on every track range that playlist had (X-ARTWORK is the
 * last attribute, so the rest of the line after it is its value). */
static void lost_state_keeps_the_artwork_of_published_ranges(void **state)
{
    (void)state;
    struct station st;
    open_station_art(&st, NULL, START, 1);
    char *before = run(&st, START, START + 20);
    station_close(&st);
    struct station_memory mem;
    char err[256];
    if (recover_from_playlist(before, strlen(before), RATE, &mem, err, sizeof err) != 0)
        fail_msg("%s", err);
    open_station_art(&st, &mem, START + 21, 1);
    char *after = run(&st, START + 21, START + 30);
    size_t shared = 0, with_art = 0;
    for (const char *p = before; (p = strstr(p, "#EXT-X-DATERANGE:")) != NULL; p++) {
        const char *id = strstr(p, "ID=\""), *eol = strchr(p, '\n');
        char key[64];
        snprintf(key, sizeof key, "%.*s,", (int)(strchr(id + 4, '"') - id + 1), id);
        const char *q = strstr(after, key);
        if (!q)
            continue;
        const char *qeol = strchr(q, '\n');
        const char *a = strstr(p, "X-ARTWORK="), *b = strstr(q, "X-ARTWORK=");
        a = a && a < eol ? a : eol;
        b = b && b < qeol ? b : qeol;
        if (eol - a != qeol - b || strncmp(a, b, (size_t)(eol - a)) != 0)
            fail_msg("range %s: artwork \"%.*s\" became \"%.*s\"", key, (int)(eol - a), a, (int)(qeol - b), b);
        shared++;
        with_art += a < eol;
    }
    if (shared < 1)
        fail_msg("no range shared:\n%s\n%s", before, after);
    if (with_art != 1)
        fail_msg("%zu ranges with artwork:\n%s\n%s", with_art, before, after);
    station_memory_free(&mem);
    station_close(&st);
    free(before);
    free(after);
}

static void lost_state_and_playlist_start_above_every_earlier_sequence(void **state)
{
    (void)state;
    struct station st;
    open_station(&st, NULL, START);
    /* A day on air, then every trace lost. */
    char *before = run(&st, START, START + 86400);
    station_close(&st);
    open_station(&st, NULL, START + 86400 + 1);
    char *after = run(&st, START + 86400 + 1, START + 86400 + 1);
    struct m3u8_playlist pa, pb;
    char err[256];
    assert_int_equal(m3u8_parse(before, strlen(before), &pa, err, sizeof err), 0);
    assert_int_equal(m3u8_parse(after, strlen(after), &pb, err, sizeof err), 0);
    assert_true(pb.media_sequence > pa.segs[pa.nsegs - 1].seq);
    assert_true(pb.discontinuity_sequence > pa.discontinuity_sequence + (int64_t)pa.nsegs);
    m3u8_free(&pa);
    m3u8_free(&pb);
    station_close(&st);
    free(before);
    free(after);
}

static void an_unusable_playlist_is_refused(void **state)
{
    (void)state;
    struct station_memory mem;
    char err[256];
    static const char *const bad[] = {
        "",
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n",
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\n/ipfs/bafkreia\n", /* no date-time */
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-PROGRAM-DATE-TIME:2027-01-15T08:00:00.000Z\n#EXTINF:6,\nhttp://x/\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(recover_from_playlist(bad[i], strlen(bad[i]), RATE, &mem, err, sizeof err), -1);
        assert_int_equal(mem.have, 0);
        assert_null(mem.window);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lost_state_continues_after_the_last_playlist),
        cmocka_unit_test(lost_state_keeps_the_artwork_of_published_ranges),
        cmocka_unit_test(lost_state_and_playlist_start_above_every_earlier_sequence),
        cmocka_unit_test(an_unusable_playlist_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
