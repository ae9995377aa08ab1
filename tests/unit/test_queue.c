/* processed/queue.json on a fake clock: what the parser refuses, how
 * requests resolve against the manifest, and what the timeline does with
 * them: queued tracks air from the next track boundary, contiguous, each
 * marked as a discontinuity, date-times running on without a gap, then the
 * running order goes on at the track it would have played there; a second
 * queue goes after the first; a restart from the saved state plays exactly
 * the same; acknowledgements turn to aired, or dropped when the timeline no
 * longer plays them. */
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

#include "queue.h"
#include "state.h"
#include "station.h"
#include "timeline_fixture.h"
#include "timeline_line.h"

#define START 1795000000.0

static const char *const ORDER_A[] = {"j1", "t1", "t2", "j2", "t3", "t4", "t5"};

static void refused(const char *text, const char *why)
{
    struct queue_file f;
    char err[ERR_MSG_MAX] = "";
    if (queue_parse(text, strlen(text), &f, err, sizeof err) == 0)
        fail_msg("accepted: %s", text);
    if (!strstr(err, why))
        fail_msg("refused %s with \"%s\", expected \"%s\"", text, err, why);
    assert_null(f.v);
}

static void malformed_queues_are_refused_with_a_reason(void **state)
{
    (void)state;
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": [", "not JSON");
    refused("[]", "\"format\"");
    refused("{\"format\": \"other\", \"version\": 1, \"items\": []}", "\"format\"");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 2, \"items\": [{\"id\": \"a\", \"track\": \"t1\"}]}",
            "unknown version");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": \"1\", \"items\": [{\"id\": \"a\", \"track\": \"t1\"}]}",
            "unknown version");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": []}", "\"items\"");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": [{\"id\": \"a b\", \"track\": \"t1\"}]}",
            "\"id\"");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": [{\"id\": \"a\"}]}", "\"track\"");
    refused("{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": [{\"id\": \"a\", \"track\": \"t1\"}, "
            "{\"id\": \"a\", \"track\": \"t2\"}]}", "appears twice");
    refused("{\"format\": \"ipfs-radio-queue\", \"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": "
            "[{\"id\": \"a\", \"track\": \"t1\"}]}", "not JSON");
    /* More than a file may hold. */
    char big[QUEUE_MAX_ITEMS * 40 + 200];
    size_t n = (size_t)snprintf(big, sizeof big, "{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"items\": [");
    for (int i = 0; i <= QUEUE_MAX_ITEMS; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%s{\"id\": \"r%d\", \"track\": \"t1\"}", i ? "," : "", i);
    snprintf(big + n, sizeof big - n, "]}");
    refused(big, "\"items\"");

    struct queue_file f;
    char err[ERR_MSG_MAX];
    const char *good = "{\"format\": \"ipfs-radio-queue\", \"version\": 1, \"note\": \"ignored\", \"items\": "
                       "[{\"id\": \"req-1\", \"track\": \"t3\", \"by\": \"vote\"}, {\"id\": \"req-2\", \"track\": \"j1\"}]}";
    assert_int_equal(queue_parse(good, strlen(good), &f, err, sizeof err), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(f.v[0].id, "req-1");
    assert_string_equal(f.v[1].track, "j1");
    queue_file_free(&f);
}

static struct queue_file two(const char *a, const char *b)
{
    struct queue_file f = {calloc(2, sizeof *f.v), 2};
    snprintf(f.v[0].id, sizeof f.v[0].id, "q1");
    snprintf(f.v[0].track, sizeof f.v[0].track, "%s", a);
    snprintf(f.v[1].id, sizeof f.v[1].id, "q2");
    snprintf(f.v[1].track, sizeof f.v[1].track, "%s", b);
    return f;
}

static void free_hist(struct sched_hist *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].title);
        free(v[i].track_id);
    }
    free(v);
}

static void requests_resolve_against_the_manifest_or_are_refused(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct queue q;
    char err[ERR_MSG_MAX];
    assert_int_equal(queue_init(&q, "/nonexistent", err, sizeof err), 0);
    struct sched_hist *segs;
    struct queue_request *fresh;
    size_t ns, nf;
    struct queue_file f = two("t3", "nope");
    assert_int_equal(queue_resolve(&q, &f, &m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), -1);
    assert_non_null(strstr(err, "\"nope\", which manifest.json lacks"));
    snprintf(f.v[1].track, sizeof f.v[1].track, "j2");
    assert_int_equal(queue_resolve(&q, &f, &m, 44100, &segs, &ns, &fresh, &nf, err, sizeof err), -1);
    assert_non_null(strstr(err, "44100"));
    /* A segment whose declared duration is not its samples / rate. */
    struct manifest_track *j2 = (struct manifest_track *)manifest_find(&m, "j2");
    j2->segs[1].duration += 0.01;
    assert_int_equal(queue_resolve(&q, &f, &m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), -1);
    assert_non_null(strstr(err, "declares"));
    j2->segs[1].duration -= 0.01;
    j2->samples += 1024; /* a track total that is not its segments' sum */
    assert_int_equal(queue_resolve(&q, &f, &m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), -1);
    j2->samples -= 1024;
    assert_int_equal(queue_resolve(&q, &f, &m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), 0);
    assert_int_equal(nf, 2);
    assert_int_equal(ns, 1 + 2);
    assert_true(segs[0].disc && segs[1].disc && !segs[2].disc);
    assert_string_equal(segs[2].track_id, "j2");
    free_hist(segs, ns);
    free(fresh);
    /* An id already acted on is skipped: the file may keep it. */
    struct queue_ack a = {.id = "q1", .track = "t3"};
    assert_int_equal(queue_restore(&q, &a, 1), 0);
    assert_int_equal(queue_resolve(&q, &f, &m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), 0);
    assert_int_equal(nf, 1);
    assert_string_equal(fresh[0].id, "q2");
    assert_int_equal(ns, 2);
    free_hist(segs, ns);
    free(fresh);
    queue_file_free(&f);
    queue_free(&q);
    manifest_free(&m);
}

static void open_station(const struct manifest *m, struct station *st, const struct station_memory *mem)
{
    struct order o;
    fx_make_order(m, ORDER_A, 7, &o);
    struct station_opts opts = {50, 1, STATION_URI_PATH, NULL, NULL, 0, 1, 2, 0};
    char err[256];
    if (station_open(st, &opts, &o, mem, START, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void publish_at(struct station *st, double now)
{
    struct station_out out;
    char err[256];
    assert_int_equal(station_tick(st, now, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
}

static void insert(struct station *st, const struct manifest *m, const char *a, const char *b, double now,
                   int64_t *at)
{
    struct queue q;
    char err[ERR_MSG_MAX];
    assert_int_equal(queue_init(&q, "/nonexistent", err, sizeof err), 0);
    struct queue_file f = two(a, b);
    struct sched_hist *segs;
    struct queue_request *fresh;
    size_t ns, nf;
    assert_int_equal(queue_resolve(&q, &f, m, FX_RATE, &segs, &ns, &fresh, &nf, err, sizeof err), 0);
    if (station_insert(st, segs, ns, now, at, err, sizeof err) != 0)
        fail_msg("%s", err);
    free_hist(segs, ns);
    free(fresh);
    queue_file_free(&f);
}

/* The timeline rules over [from, to]: contiguous sequence numbers,
 * date-times without gap or overlap, a discontinuity counted at every
 * track start; returns the track ids at the track starts, in order. */
static size_t tracks_between(const struct sched *s, int64_t from, int64_t to, const char **ids, size_t max)
{
    size_t n = 0;
    struct sched_item prev = {0}, it;
    for (int64_t k = from; k <= to; k++) {
        assert_int_equal(sched_item(s, k, &it), 0);
        assert_int_equal(it.seq, k);
        if (k > from) {
            assert_true(fabs(prev.pdt + prev.duration - it.pdt) < 1e-6);
            assert_int_equal(it.disc_before, prev.disc_before + (prev.disc ? 1 : 0));
            assert_true(it.disc || strcmp(it.track_id, prev.track_id) == 0);
        }
        if (it.disc && n < max)
            ids[n++] = it.track_id;
        prev = it;
    }
    return n;
}

static void queued_tracks_air_at_the_next_boundary_then_the_order_goes_on_where_it_was(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station plain, st;
    open_station(&m, &plain, NULL);
    open_station(&m, &st, NULL);
    const double now = START + 1000;
    publish_at(&plain, now);
    publish_at(&st, now);
    int64_t newest = st.newest, at;
    insert(&st, &m, "t3", "j2", now, &at);
    /* The first track start after what listeners were given. */
    struct sched_item it, p;
    assert_true(at > newest);
    assert_int_equal(sched_item(&plain.sched, at, &p), 0);
    assert_true(p.disc);
    for (int64_t k = newest + 1; k < at; k++) {
        assert_int_equal(sched_item(&plain.sched, k, &p), 0);
        assert_false(p.disc);
        assert_int_equal(sched_item(&st.sched, k, &it), 0);
        assert_string_equal(it.cid, p.cid); /* the track on air plays to its end */
    }
    /* Same air time and discontinuity count at the boundary as without the queue. */
    assert_int_equal(sched_item(&plain.sched, at, &p), 0);
    assert_int_equal(sched_item(&st.sched, at, &it), 0);
    assert_true(fabs(it.pdt - p.pdt) < 1e-9);
    assert_int_equal(it.disc_before, p.disc_before);
    const char *ids[8];
    size_t n = tracks_between(&st.sched, st.first, at + 400, ids, 8);
    assert_true(n >= 5);
    /* ids[0] may be the track on air at the window's start; find the queue. */
    size_t q0 = 0;
    while (q0 < n && strcmp(ids[q0], "t3") != 0)
        q0++;
    assert_true(q0 + 3 < n);
    assert_string_equal(ids[q0 + 1], "j2");
    /* Then the order at the track it would have played at `at`, and on. */
    size_t k = 0;
    while (strcmp(ORDER_A[k], p.track_id) != 0)
        k++;
    assert_string_equal(ids[q0 + 2], ORDER_A[k]);
    assert_string_equal(ids[q0 + 3], ORDER_A[(k + 1) % 7]);
    /* The order segment by segment as it was, shifted by the queue's length. */
    int64_t qsegs = 1 + 2;
    for (int64_t j = 0; j < 300; j++) {
        assert_int_equal(sched_item(&plain.sched, at + j, &p), 0);
        assert_int_equal(sched_item(&st.sched, at + qsegs + j, &it), 0);
        assert_string_equal(it.cid, p.cid);
    }
    /* Wall clock maps back to the same sequence numbers, queued or not. */
    for (int64_t j = at - 2; j < at + 200; j++) {
        assert_int_equal(sched_item(&st.sched, j, &it), 0);
        assert_int_equal(sched_seq_at(&st.sched, it.pdt), j);
        assert_int_equal(sched_seq_at(&st.sched, it.pdt + it.duration / 2), j);
    }
    station_close(&plain);
    station_close(&st);
    manifest_free(&m);
}

static void a_second_queue_goes_after_the_first_still_to_air(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station st;
    open_station(&m, &st, NULL);
    const double now = START + 1000;
    publish_at(&st, now);
    int64_t a1, a2;
    insert(&st, &m, "t3", "j2", now, &a1);
    insert(&st, &m, "j1", "t3", now, &a2);
    assert_int_equal(a2, a1 + 3);
    const char *ids[8];
    size_t n = tracks_between(&st.sched, a1, a1 + 200, ids, 8);
    assert_true(n >= 5);
    assert_string_equal(ids[0], "t3");
    assert_string_equal(ids[1], "j2");
    assert_string_equal(ids[2], "j1");
    assert_string_equal(ids[3], "t3");
    station_close(&st);
    manifest_free(&m);
}

static void a_restart_from_the_saved_state_plays_the_same_timeline(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station st, again;
    open_station(&m, &st, NULL);
    double now = START + 1000;
    publish_at(&st, now);
    int64_t at;
    insert(&st, &m, "t3", "j2", now, &at);
    /* Publish into the queue, then kill: the state file is what survives. */
    struct sched_item it;
    assert_int_equal(sched_item(&st.sched, at + 1, &it), 0);
    publish_at(&st, it.pdt + 0.1);
    char path[] = "/tmp/radio-queue-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct streamer_state ss = {0};
    assert_int_equal(station_remember(&st, &ss.mem), 0);
    ss.acks = calloc(1, sizeof *ss.acks);
    ss.nacks = 1;
    snprintf(ss.acks[0].id, sizeof ss.acks[0].id, "q1");
    snprintf(ss.acks[0].track, sizeof ss.acks[0].track, "t3");
    ss.acks[0].first_seq = at;
    char err[ERR_MSG_MAX];
    assert_int_equal(state_save(path, &ss, err, sizeof err), 0);
    state_free(&ss);
    assert_int_equal(state_load(path, &ss, err, sizeof err), 0);
    unlink(path);
    assert_int_equal(ss.nacks, 1);
    assert_string_equal(ss.acks[0].id, "q1");
    assert_int_equal(ss.acks[0].first_seq, at);
    assert_true(ss.mem.anchor.offset > 0);
    open_station(&m, &again, &ss.mem);
    state_free(&ss);
    for (int64_t k = st.first; k < at + 500; k++) {
        struct sched_item a, b;
        assert_int_equal(sched_item(&st.sched, k, &a), 0);
        assert_int_equal(sched_item(&again.sched, k, &b), 0);
        assert_string_equal(a.cid, b.cid);
        assert_true(a.pdt == b.pdt);
        assert_int_equal(a.disc, b.disc);
        assert_int_equal(a.disc_before, b.disc_before);
    }
    station_close(&st);
    station_close(&again);
    manifest_free(&m);
}

static void acknowledgements_turn_aired_or_dropped(void **state)
{
    (void)state;
    struct manifest m;
    fx_make_library(&m);
    struct station st;
    open_station(&m, &st, NULL);
    double now = START + 1000;
    publish_at(&st, now);
    int64_t at;
    insert(&st, &m, "t3", "j2", now, &at);
    struct sched_item it;
    assert_int_equal(sched_item(&st.sched, at, &it), 0);
    struct queue q;
    char err[ERR_MSG_MAX];
    assert_int_equal(queue_init(&q, "/nonexistent", err, sizeof err), 0);
    struct queue_ack a[2] = {{.id = "q1", .track = "t3", .first_seq = at, .air_time = it.pdt},
                             {.id = "q2", .track = "j2", .first_seq = at + 1, .air_time = it.pdt + it.duration}};
    assert_int_equal(queue_restore(&q, a, 2), 0);
    queue_refresh(&q, &st.sched, now);
    assert_int_equal(q.acks[0].state, QUEUE_SCHEDULED);
    queue_refresh(&q, &st.sched, it.pdt + 0.5);
    assert_int_equal(q.acks[0].state, QUEUE_AIRED);
    assert_int_equal(q.acks[1].state, QUEUE_SCHEDULED);
    /* The clock steps back an hour before j2 airs: the timeline goes on
     * from the new clock and the queued j2 is no longer on it. */
    publish_at(&st, it.pdt + 0.5);
    struct station_out out;
    assert_int_equal(station_tick(&st, it.pdt - 3600, &out, err, sizeof err), STATION_PUBLISH);
    free(out.playlist);
    queue_refresh(&q, &st.sched, it.pdt - 3600);
    assert_int_equal(q.acks[1].state, QUEUE_DROPPED);
    json_t *js = queue_status_json(&q);
    assert_non_null(js);
    json_t *items = json_object_get(js, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "state")), "aired");
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 1), "state")), "dropped");
    json_decref(js);
    queue_free(&q);
    station_close(&st);
    manifest_free(&m);
}

/* A standby reads the anchor from the playlist: the offset an insert
 * leaves must come through, and a line without one still reads as 0. */
static void the_timeline_line_carries_the_resume_offset(void **state)
{
    (void)state;
    struct sched_anchor a = {.time = START + 0.123456789, .seq = 4242, .disc_before = 77, .offset = 31}, b;
    memset(a.order_id, 'a', 64);
    char line[TIMELINE_LINE_MAX];
    timeline_line_format(&a, line);
    assert_int_equal(timeline_line_parse(line, strlen(line), &b), 0);
    assert_int_equal(b.offset, 31);
    assert_int_equal(b.seq, 4242);
    assert_true(b.time == a.time);
    a.offset = 0;
    timeline_line_format(&a, line);
    assert_null(strstr(line, "OFFSET"));
    b.offset = 9;
    assert_int_equal(timeline_line_parse(line, strlen(line), &b), 0);
    assert_int_equal(b.offset, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_queues_are_refused_with_a_reason),
        cmocka_unit_test(requests_resolve_against_the_manifest_or_are_refused),
        cmocka_unit_test(queued_tracks_air_at_the_next_boundary_then_the_order_goes_on_where_it_was),
        cmocka_unit_test(a_second_queue_goes_after_the_first_still_to_air),
        cmocka_unit_test(a_restart_from_the_saved_state_plays_the_same_timeline),
        cmocka_unit_test(acknowledgements_turn_aired_or_dropped),
        cmocka_unit_test(the_timeline_line_carries_the_resume_offset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
