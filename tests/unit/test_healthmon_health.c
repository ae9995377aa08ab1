/* The health model: gateway findings to station status, JSON and metrics. */
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

#include "health.h"
#include "metrics.h"
#include "streamer_view.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define T0 1795000000.0

struct fixture {
    struct hm_gateway_report gw[3];
    struct hm_round r;
};

static void fine_gateway(struct hm_gateway_report *g, const char *name, int local)
{
    memset(g, 0, sizeof *g);
    snprintf(g->name, sizeof g->name, "%s", name);
    snprintf(g->url, sizeof g->url, "http://%s/ipns/k51test", name);
    g->local = local;
    g->answered = 1;
    g->http_status = 200;
    g->fetch_seconds = 0.012;
    g->bytes = 4000;
    g->parsed = 1;
    g->facts.media_sequence = 1200;
    g->facts.newest_seq = 1249;
    g->facts.target_duration = 6;
    g->facts.nsegs = 50;
    g->facts.newest_pdt = T0 - 3;
    g->facts.age = 3;
    g->facts.stale_after = 18;
    g->facts.sequence_advanced = 1;
    g->nseg = 2;
    for (int i = 0; i < 2; i++) {
        g->seg[i].seq = 1248 + i;
        snprintf(g->seg[i].uri, sizeof g->seg[i].uri, "/ipfs/bafkreiseg%d", i);
        g->seg[i].answered = 1;
        g->seg[i].http_status = 200;
        g->seg[i].integrity = HM_VERIFIED;
        g->seg[i].decoded = 1;
        g->seg[i].decoded_seconds = 6.016;
    }
    g->audio_measured = 1;
    g->audio = (struct hm_audio_result){48000, 2, 12.0, -16.2, -15.8, -18, -14, -1.3, -1.6, -19.0, 0, 0};
    g->drift_lufs = NAN;
}

static void fail_with(struct hm_gateway_report *g, enum hm_code code, const char *msg)
{
    hm_problem_add(&g->probs, code, "%s", msg);
    enum hm_severity s = hm_code_severity(code, g->local);
    if (s > g->status)
        g->status = s;
}

static void setup_round(struct fixture *f)
{
    struct hm_gateway_report *gw = f->gw;
    memset(&f->r, 0, sizeof f->r);
    fine_gateway(&gw[0], "127.0.0.1:8080", 1);
    fine_gateway(&gw[1], "ipfs.io", 0);
    fine_gateway(&gw[2], "dweb.link", 0);
    f->r.number = 7;
    f->r.started_at = T0;
    f->r.seconds = 0.4;
    f->r.interval = 10;
    snprintf(f->r.ipns_name, sizeof f->r.ipns_name, "k51test");
    f->r.gw = gw;
    f->r.ngw = 3;
}

static int make_fixture(void **state)
{
    *state = calloc(1, sizeof(struct fixture));
    return *state ? 0 : -1;
}

static int free_fixture(void **state)
{
    free(*state);
    return 0;
}

static void all_gateways_fine_is_ok_and_answers_200(void **state)
{
    struct fixture *f = *state;
    setup_round(f);
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_OK);
    assert_int_equal(f->r.nreasons, 0);
    assert_int_equal(hm_health_http_status(f->r.status), 200);
}

static void public_gateway_unreachable_while_local_is_fine_is_degraded(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    setup_round(f);
    fail_with(&gw[1], HM_UNREACHABLE, "playlist: unreachable: Could not resolve host: ipfs.io");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DEGRADED);
    assert_int_equal(f->r.nreasons, 1);
    assert_non_null(strstr(f->r.reasons[0], "public ipfs.io"));
    assert_non_null(strstr(f->r.reasons[0], "unreachable"));
    assert_int_equal(hm_health_http_status(f->r.status), 200);
}

static void local_stale_playlist_is_down_and_answers_503(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    setup_round(f);
    fail_with(&gw[0], HM_STALE, "playlist stale");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DOWN);
    assert_int_equal(hm_health_http_status(f->r.status), 503);
}

static void silence_or_undecodable_segments_on_the_local_gateway_are_down(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    setup_round(f);
    fail_with(&gw[0], HM_SILENCE, "dead air");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DOWN);
    setup_round(f);
    fail_with(&gw[0], HM_UNDECODABLE, "segment does not decode");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DOWN);
}

static void down_reasons_come_before_degraded_ones(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    setup_round(f);
    fail_with(&gw[2], HM_TIMEOUT, "public timeout");
    fail_with(&gw[0], HM_CLIPPING, "clips");
    fail_with(&gw[0], HM_STALE, "stale");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DOWN);
    assert_int_equal(f->r.nreasons, 3);
    assert_non_null(strstr(f->r.reasons[0], "stale"));
}

static void missing_ipns_name_is_down(void **state)
{
    struct fixture *f = *state;
    setup_round(f);
    f->r.ngw = 0;
    hm_problem_add(&f->r.station, HM_NO_NAME, "no IPNS name: state/status.json missing");
    hm_health_evaluate(&f->r);
    assert_int_equal(f->r.status, HM_DOWN);
    assert_non_null(strstr(f->r.reasons[0], "status.json"));
}

static void health_json_carries_status_reasons_figures_and_history(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    struct hm_history *h = hm_history_new(2);
    for (int i = 0; i < 3; i++) {
        setup_round(f);
        f->r.number = (unsigned long)i + 1;
        if (i == 2)
            fail_with(&gw[1], HM_INTEGRITY, "bytes do not match");
        hm_health_evaluate(&f->r);
        f->r.rounds_total[f->r.status] = 1;
        assert_int_equal(hm_history_push(h, &f->r), 0);
    }
    gw[0].audio.integrated_lufs = -INFINITY; /* silence has no finite loudness */
    char *text = hm_health_json(&f->r, h);
    assert_non_null(text);
    json_error_t je;
    json_t *doc = json_loads(text, 0, &je);
    if (!doc)
        fail_msg("not JSON: %s\n%s", je.text, text);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "degraded");
    assert_int_equal(json_array_size(json_object_get(doc, "reasons")), 1);
    json_t *g0 = json_array_get(json_object_get(doc, "gateways"), 0);
    assert_string_equal(json_string_value(json_object_get(g0, "role")), "local");
    json_t *pl = json_object_get(g0, "playlist");
    assert_int_equal(json_integer_value(json_object_get(pl, "media_sequence")), 1200);
    assert_true(json_is_true(json_object_get(pl, "sequence_advanced")));
    assert_true(fabs(json_real_value(json_object_get(pl, "age_seconds")) - 3) < 1e-9);
    json_t *audio = json_object_get(g0, "audio");
    assert_true(json_is_null(json_object_get(audio, "integrated_lufs")));
    assert_true(fabs(json_real_value(json_object_get(audio, "true_peak_dbtp")) - -1.3) < 1e-9);
    json_t *g1 = json_array_get(json_object_get(doc, "gateways"), 1);
    json_t *prob = json_array_get(json_object_get(g1, "problems"), 0);
    assert_string_equal(json_string_value(json_object_get(prob, "code")), "integrity");
    assert_string_equal(json_string_value(json_object_get(prob, "severity")), "degraded");
    /* History keeps the newest `capacity` rounds, oldest first. */
    json_t *hist = json_object_get(doc, "history");
    assert_int_equal(json_array_size(hist), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(hist, 0), "round")), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(hist, 1), "round")), 3);
    json_decref(doc);
    free(text);
    hm_history_free(h);
}

static void metrics_are_prometheus_text_with_gauges_and_counters(void **state)
{
    struct fixture *f = *state;
    struct hm_gateway_report *gw = f->gw;
    setup_round(f);
    fail_with(&gw[1], HM_UNREACHABLE, "unreachable");
    gw[1].answered = gw[1].parsed = gw[1].audio_measured = 0;
    gw[1].facts.age = NAN;
    gw[1].failures_total = 4;
    gw[1].problem_totals[HM_UNREACHABLE] = 4;
    hm_health_evaluate(&f->r);
    f->r.rounds_total[HM_OK] = 10;
    f->r.rounds_total[HM_DEGRADED] = 4;
    char *m = hm_metrics_text(&f->r);
    assert_non_null(m);
    const char *want[] = {
        "# TYPE radio_healthmon_status gauge\nradio_healthmon_status 1\n",
        "# TYPE radio_healthmon_rounds_total counter\n",
        "radio_healthmon_rounds_total{status=\"ok\"} 10\n",
        "radio_healthmon_rounds_total{status=\"degraded\"} 4\n",
        "radio_healthmon_gateway_up{gateway=\"127.0.0.1:8080\",role=\"local\"} 1\n",
        "radio_healthmon_gateway_up{gateway=\"ipfs.io\",role=\"public\"} 0\n",
        "radio_healthmon_playlist_age_seconds{gateway=\"127.0.0.1:8080\",role=\"local\"} 3\n",
        "radio_healthmon_loudness_integrated_lufs{gateway=\"dweb.link\",role=\"public\"} -16.2\n",
        "radio_healthmon_true_peak_dbtp{gateway=\"127.0.0.1:8080\",role=\"local\"} -1.3\n",
        "radio_healthmon_gateway_failures_total{gateway=\"ipfs.io\",role=\"public\"} 4\n",
        "radio_healthmon_problems_total{gateway=\"ipfs.io\",code=\"unreachable\"} 4\n",
        "# TYPE radio_healthmon_playlist_fetch_seconds gauge\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(m, want[i]))
            fail_msg("metrics lack %s\n%s", want[i], m);
    /* A gateway with no figure has no sample, rather than a made-up one. */
    assert_null(strstr(m, "playlist_age_seconds{gateway=\"ipfs.io\""));
    assert_null(strstr(m, "NaN"));
    /* True peak not measured (the default): no sample either. */
    gw[2].audio.true_peak_dbtp = NAN;
    free(m);
    m = hm_metrics_text(&f->r);
    assert_null(strstr(m, "true_peak_dbtp{gateway=\"dweb.link\""));
    assert_non_null(strstr(m, "true_peak_dbtp{gateway=\"127.0.0.1:8080\""));
    free(m);
}

static void write_status(const char *dir, const char *json)
{
    char path[512];
    snprintf(path, sizeof path, "%s/status.json", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(json, fp);
    fclose(fp);
}

/* Which of two streamers holds the air, read from the streamer's own
 * status.json, in the health JSON and the metrics; none of it without one. */
static void the_streamers_role_and_takeovers_are_shown(void **state)
{
    struct fixture *f = *state;
    char dir[] = "/tmp/radio-hm-streamer-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char err[256];
    write_status(dir, "{\"on_air\": true, \"failover\": {\"role\": \"active\", \"takeovers\": 3, "
                      "\"last_takeover\": \"2026-11-18T10:00:00.000Z\", \"stepbacks\": 1}}");
    setup_round(f);
    assert_int_equal(hm_streamer_read(dir, &f->r.streamer, err, sizeof err), 0);
    hm_health_evaluate(&f->r);
    char *text = hm_health_json(&f->r, NULL);
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    json_t *fo = json_object_get(json_object_get(doc, "streamer"), "failover");
    assert_string_equal(json_string_value(json_object_get(fo, "role")), "active");
    assert_int_equal(json_integer_value(json_object_get(fo, "takeovers")), 3);
    assert_string_equal(json_string_value(json_object_get(fo, "last_takeover")), "2026-11-18T10:00:00.000Z");
    json_decref(doc);
    free(text);
    char *m = hm_metrics_text(&f->r);
    assert_non_null(strstr(m, "radio_healthmon_streamer_on_air 1\n"));
    assert_non_null(strstr(m, "radio_healthmon_streamer_failover_active 1\n"));
    assert_non_null(strstr(m, "radio_healthmon_streamer_takeovers_total 3\n"));
    assert_non_null(strstr(m, "radio_healthmon_streamer_stepbacks_total 1\n"));
    free(m);

    /* A standby: not on air, and that is its job. */
    write_status(dir, "{\"on_air\": false, \"failover\": {\"role\": \"standby\", \"takeovers\": 0, "
                      "\"last_takeover\": null, \"stepbacks\": 2}}");
    assert_int_equal(hm_streamer_read(dir, &f->r.streamer, err, sizeof err), 0);
    m = hm_metrics_text(&f->r);
    assert_non_null(strstr(m, "radio_healthmon_streamer_failover_active 0\n"));
    free(m);
    text = hm_health_json(&f->r, NULL);
    doc = json_loads(text, 0, NULL);
    fo = json_object_get(json_object_get(doc, "streamer"), "failover");
    assert_string_equal(json_string_value(json_object_get(fo, "role")), "standby");
    assert_true(json_is_null(json_object_get(fo, "last_takeover")));
    json_decref(doc);
    free(text);

    /* A streamer killed outright leaves "on_air": true behind; whether one
     * runs is whether someone holds state_dir/lock, as radio-streamer does. */
    write_status(dir, "{\"on_air\": true}");
    char lock[512];
    snprintf(lock, sizeof lock, "%s/lock", dir);
    int fd = open(lock, O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
    assert_int_equal(hm_streamer_read(dir, &f->r.streamer, err, sizeof err), 0);
    assert_int_equal(f->r.streamer.running, 1);
    assert_true(f->r.streamer.on_air);
    m = hm_metrics_text(&f->r);
    assert_non_null(strstr(m, "radio_healthmon_streamer_running 1\n"));
    free(m);
    close(fd); /* the streamer is gone */
    assert_int_equal(hm_streamer_read(dir, &f->r.streamer, err, sizeof err), 0);
    assert_int_equal(f->r.streamer.running, 0);
    assert_false(f->r.streamer.on_air);
    m = hm_metrics_text(&f->r);
    assert_non_null(strstr(m, "radio_healthmon_streamer_on_air 0\n"));
    assert_non_null(strstr(m, "radio_healthmon_streamer_running 0\n"));
    free(m);
    unlink(lock);

    /* Broken or missing: unknown, no streamer metrics at all. */
    write_status(dir, "{not json");
    assert_int_not_equal(hm_streamer_read(dir, &f->r.streamer, err, sizeof err), 0);
    m = hm_metrics_text(&f->r);
    assert_null(strstr(m, "streamer_"));
    free(m);
    text = hm_health_json(&f->r, NULL);
    assert_non_null(strstr(text, "\"streamer\": null"));
    free(text);
    char path[512];
    snprintf(path, sizeof path, "%s/status.json", dir);
    unlink(path);
    rmdir(dir);
}

static void starting_document_says_starting(void **state)
{
    (void)state;
    char *s = hm_health_starting_json(T0);
    json_t *doc = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "starting");
    json_decref(doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(all_gateways_fine_is_ok_and_answers_200, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(public_gateway_unreachable_while_local_is_fine_is_degraded, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(local_stale_playlist_is_down_and_answers_503, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(silence_or_undecodable_segments_on_the_local_gateway_are_down, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(down_reasons_come_before_degraded_ones, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(missing_ipns_name_is_down, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(health_json_carries_status_reasons_figures_and_history, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(metrics_are_prometheus_text_with_gauges_and_counters, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(the_streamers_role_and_takeovers_are_shown, make_fixture, free_fixture),
        cmocka_unit_test_setup_teardown(starting_document_says_starting, make_fixture, free_fixture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
