/* The streamer's /metrics text: every publishing target's figures under
 * its own labels, histograms cumulative with +Inf equal to the count, and
 * the failover and running-order state as the status file has them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamer_metrics.h"

#define T0 1800000000.0

static void has(const char *text, const char *line)
{
    if (!strstr(text, line)) {
        fprintf(stderr, "missing: %s\nin:\n%s", line, text);
        fail();
    }
}

static void node_mode_histogram_is_cumulative(void **state)
{
    (void)state;
    struct publisher_status p = {.publishes = 3, .failures = 1, .superseded = 2, .last_ok = T0, .node_ok = 1};
    latency_hist_observe(&p.latency, 0.04);
    latency_hist_observe(&p.latency, 0.3);
    latency_hist_observe(&p.latency, 1000);
    struct status_view v = {.pub = &p, .on_air = 1, .started = T0 - 10, .order_id = "ord\"1", .newest_seq = 99,
                            .target_duration = 6, .reload_errors = 2, .reload_error = "bad"};
    struct streamer_config cfg = {.ipfs_api = "http://127.0.0.1:5001", .failover_role = "off"};
    char *t = streamer_metrics_render(&v, &cfg);
    assert_non_null(t);
    const char *l = "{target=\"http://127.0.0.1:5001\",kind=\"node\"";
    char line[256];
    snprintf(line, sizeof line, "radio_streamer_publish_duration_seconds_bucket%s,le=\"0.05\"} 1\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publish_duration_seconds_bucket%s,le=\"0.25\"} 1\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publish_duration_seconds_bucket%s,le=\"0.5\"} 2\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publish_duration_seconds_bucket%s,le=\"300\"} 2\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publish_duration_seconds_bucket%s,le=\"+Inf\"} 3\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publish_failures_total%s} 1\n", l);
    has(t, line);
    snprintf(line, sizeof line, "radio_streamer_publishes_superseded_total%s} 2\n", l);
    has(t, line);
    has(t, "radio_streamer_on_air 1\n");
    has(t, "radio_streamer_last_publish_timestamp_seconds 1800000000\n");
    has(t, "process_start_time_seconds 1799999990\n");
    has(t, "radio_streamer_newest_media_sequence 99\n");
    has(t, "radio_streamer_running_order_info{order_id=\"ord\\\"1\",day_part=\"\"} 1\n");
    has(t, "radio_streamer_clock_refused 0\n");
    has(t, "radio_streamer_running_order_refused 1\n");
    has(t, "radio_streamer_reloads_refused_total 2\n");
    has(t, "radio_streamer_failover_info{role=\"off\"} 1\n");
    assert_null(strstr(t, "radio_streamer_failover_active"));
    assert_null(strstr(t, "radio_streamer_ipns_sequence"));
    free(t);
}

static void station_mode_labels_each_target_and_failover_standby(void **state)
{
    (void)state;
    struct publisher_status p = {.publishes = 5, .ipns_seq = 77};
    struct record_target_status tg[2] = {
        {.url = "http://a:5001", .kind = RECORD_TARGET_KUBO, .ok = 1, .puts = 5},
        {.url = "https://r.example", .kind = RECORD_TARGET_ROUTING, .ok = 0, .failures = 4},
    };
    struct standby_view fv = {.active = 0, .takeovers = 1, .stepbacks = 2};
    struct status_view v = {.pub = &p, .targets = tg, .ntargets = 2, .failover = &fv, .order_id = "o"};
    struct streamer_config cfg = {.ipfs_api = "http://a:5001", .failover_role = "standby"};
    char *t = streamer_metrics_render(&v, &cfg);
    assert_non_null(t);
    has(t, "radio_streamer_publishes_total{target=\"http://a:5001\",kind=\"station\"} 5\n");
    has(t, "radio_streamer_publishes_total{target=\"http://a:5001\",kind=\"kubo\"} 5\n");
    has(t, "radio_streamer_publish_target_up{target=\"https://r.example\",kind=\"routing\"} 0\n");
    has(t, "radio_streamer_publish_failures_total{target=\"https://r.example\",kind=\"routing\"} 4\n");
    has(t, "radio_streamer_ipns_sequence 77\n");
    has(t, "radio_streamer_on_air 0\n");
    has(t, "radio_streamer_failover_active 0\n");
    has(t, "radio_streamer_failover_takeovers_total 1\n");
    has(t, "radio_streamer_failover_stepbacks_total 2\n");
    has(t, "radio_streamer_failover_info{role=\"standby\"} 1\n");
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(node_mode_histogram_is_cumulative),
        cmocka_unit_test(station_mode_labels_each_target_and_failover_standby),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
