#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamer_config.h"

static int apply(const char *json, struct streamer_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (cfg_load(NULL, streamer_config_keys, streamer_config_nkeys, c, err, errlen) != 0 ||
        cfg_apply_json(json, "s.json", streamer_config_keys, streamer_config_nkeys, c, err, errlen) != 0)
        return -1;
    return streamer_config_check(c, "s.json", err, errlen);
}

static void expect_refusal(const char *json, const char *key)
{
    struct streamer_config c;
    char err[512] = "";
    assert_int_not_equal(apply(json, &c, err, sizeof err), 0);
    if (!strstr(err, key) || !strstr(err, "s.json"))
        fail_msg("message \"%s\" lacks %s or the file", err, key);
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
}

static void defaults_are_a_window_of_fifty_and_a_ttl_near_one_segment(void **state)
{
    (void)state;
    struct streamer_config c;
    char err[512];
    assert_int_equal(apply("{}", &c, err, sizeof err), 0);
    assert_int_equal(c.window_segments, 50);
    assert_int_equal(c.publish_every_segments, 1);
    assert_true(c.ipns_ttl_seconds <= 10);
    assert_string_equal(c.uri_mode, "path");
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
}

static void bad_values_are_refused_by_key(void **state)
{
    (void)state;
    expect_refusal("{\"window\": 5}", "\"window\"");
    expect_refusal("{\"window_segments\": 0}", "\"window_segments\"");
    expect_refusal("{\"window_segments\": \"50\"}", "\"window_segments\"");
    expect_refusal("{\"uri_mode\": \"subdomain\"}", "\"uri_mode\"");
    expect_refusal("{\"uri_mode\": \"gateway\", \"segment_gateway\": \"ipfs.io\"}", "\"segment_gateway\"");
    expect_refusal("{\"publish_backoff_seconds\": 10, \"publish_backoff_max_seconds\": 1}",
                   "\"publish_backoff_max_seconds\"");
    expect_refusal("{\"ipns_key\": \"\"}", "\"ipns_key\"");
    expect_refusal("{\"ipns_lifetime_seconds\": 60, \"ipns_ttl_seconds\": 61}", "\"ipns_ttl_seconds\"");
}

static void windows_and_cadences_that_stall_players_are_refused(void **state)
{
    (void)state;
    expect_refusal("{\"window_segments\": 2}", "\"window_segments\"");
    expect_refusal("{\"publish_every_segments\": 3, \"listen_delay_seconds\": 0}", "\"publish_every_segments\"");
    struct streamer_config c;
    char err[512] = "";
    /* Players that start further back tolerate a slower cadence. */
    assert_int_equal(apply("{\"publish_every_segments\": 4, \"listen_delay_seconds\": 12, \"ipns_ttl_seconds\": 6}",
                           &c, err, sizeof err), 0);
    assert_int_equal(streamer_config_check_timing(&c, "s.json", 6, 300, err, sizeof err), 0);
    c.listen_delay_seconds = 11;
    assert_int_not_equal(streamer_config_check_timing(&c, "s.json", 6, 300, err, sizeof err), 0);
    assert_non_null(strstr(err, "\"publish_every_segments\""));
    assert_non_null(strstr(err, "\"ipns_ttl_seconds\""));
    /* A delay the window cannot list is published capped, and counts so. */
    c.listen_delay_seconds = 45;
    c.window_segments = 4;
    assert_int_not_equal(streamer_config_check_timing(&c, "s.json", 6, 24, err, sizeof err), 0);
    c.window_segments = 50;
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);

    assert_int_equal(apply("{\"publish_every_segments\": 2, \"ipns_ttl_seconds\": 6, \"listen_delay_seconds\": 0}", &c, err, sizeof err), 0);
    assert_int_equal(streamer_config_check_timing(&c, "s.json", 6, 18, err, sizeof err), 0);
    /* A window whose shortest stretch of the order lists under 3 x 6 s. */
    assert_int_not_equal(streamer_config_check_timing(&c, "s.json", 6, 17.9, err, sizeof err), 0);
    assert_non_null(strstr(err, "\"window_segments\""));
    c.ipns_ttl_seconds = 7;
    assert_int_not_equal(streamer_config_check_timing(&c, "s.json", 6, 18, err, sizeof err), 0);
    assert_non_null(strstr(err, "\"ipns_ttl_seconds\""));
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
}

static void failover_needs_the_station_key_and_is_off_by_default(void **state)
{
    (void)state;
    struct streamer_config c;
    char err[512];
    assert_int_equal(apply("{}", &c, err, sizeof err), 0);
    assert_string_equal(c.failover_role, "off");
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
    assert_int_equal(apply("{\"ipns_mode\": \"station\", \"failover_role\": \"standby\"}", &c, err, sizeof err), 0);
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
    expect_refusal("{\"failover_role\": \"active\"}", "\"failover_role\"");
    expect_refusal("{\"ipns_mode\": \"station\", \"failover_role\": \"backup\"}", "\"failover_role\"");
}

static void shipped_config_and_readme_agree_with_the_keys(void **state)
{
    (void)state;
    char path[4096], err[512] = "";
    struct streamer_config c = {0};
    snprintf(path, sizeof path, "%s/config/streaming.config.json", RADIO_SOURCE_DIR);
    if (cfg_load(path, streamer_config_keys, streamer_config_nkeys, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    cfg_free(streamer_config_keys, streamer_config_nkeys, &c);
    snprintf(path, sizeof path, "%s/README.md", RADIO_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[1 << 20];
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    for (size_t i = 0; i < streamer_config_nkeys; i++) {
        char row[256];
        snprintf(row, sizeof row, "| `%s` |", streamer_config_keys[i].name);
        if (!strstr(text, row))
            fail_msg("README lacks a row for streamer key %s", streamer_config_keys[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_a_window_of_fifty_and_a_ttl_near_one_segment),
        cmocka_unit_test(bad_values_are_refused_by_key),
        cmocka_unit_test(windows_and_cadences_that_stall_players_are_refused),
        cmocka_unit_test(failover_needs_the_station_key_and_is_off_by_default),
        cmocka_unit_test(shipped_config_and_readme_agree_with_the_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
