#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "setup_config.h"

static int apply(const char *json, struct setup_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (cfg_load(NULL, setup_config_keys, setup_config_nkeys, c, err, errlen) != 0)
        return -1;
    if (cfg_apply_json(json, "t.json", setup_config_keys, setup_config_nkeys, c, err, errlen) != 0)
        return -1;
    return setup_config_check(c, "t.json", err, errlen);
}

static void defaults_match_documented_values(void **state)
{
    (void)state;
    struct setup_config c;
    char err[512];
    assert_int_equal(apply("{}", &c, err, sizeof err), 0);
    assert_true(c.segment_seconds == 6.0);
    assert_int_equal(c.bitrate_kbps, 128);
    assert_int_equal(c.sample_rate, 48000);
    assert_int_equal(c.channels, 2);
    assert_true(c.loudness_normalize);
    assert_true(c.loudness_target_lufs == -16.0);
    assert_true(c.true_peak_ceiling_dbtp == -1.0);
    assert_int_equal(c.jobs, 0);
    assert_string_equal(c.processed_dir, "processed");
    assert_string_equal(c.jingles_dir, "jingles");
    assert_true(c.audio_extensions.n > 5);
    cfg_free(setup_config_keys, setup_config_nkeys, &c);
}

static void expect_refusal(const char *json, const char *needle)
{
    struct setup_config c;
    char err[512] = "";
    assert_int_not_equal(apply(json, &c, err, sizeof err), 0);
    if (!strstr(err, needle) || !strstr(err, "t.json"))
        fail_msg("message \"%s\" lacks \"%s\" or the file name", err, needle);
    cfg_free(setup_config_keys, setup_config_nkeys, &c);
}

static void unknown_key_is_refused_by_name(void **state)
{
    (void)state;
    expect_refusal("{\"segment_secs\": 6}", "\"segment_secs\"");
}

static void wrong_type_is_refused_by_name(void **state)
{
    (void)state;
    expect_refusal("{\"bitrate_kbps\": \"128\"}", "\"bitrate_kbps\"");
    expect_refusal("{\"bitrate_kbps\": 128.5}", "\"bitrate_kbps\"");
    expect_refusal("{\"loudness_normalize\": 1}", "\"loudness_normalize\"");
    expect_refusal("{\"ipfs_api\": 5001}", "\"ipfs_api\"");
    expect_refusal("{\"audio_extensions\": [\"mp3\", 3]}", "\"audio_extensions\"");
}

static void out_of_range_is_refused_by_name(void **state)
{
    (void)state;
    expect_refusal("{\"segment_seconds\": 0.5}", "\"segment_seconds\"");
    expect_refusal("{\"channels\": 6}", "\"channels\"");
    expect_refusal("{\"jingle_every\": 0}", "\"jingle_every\"");
    expect_refusal("{\"sample_rate\": 47000}", "\"sample_rate\"");
    expect_refusal("{\"progress\": \"fancy\"}", "\"progress\"");
}

static void malformed_json_is_refused_with_line(void **state)
{
    (void)state;
    expect_refusal("{\n\"jobs\": 2,\n}", "line");
    expect_refusal("[1, 2]", "object");
    expect_refusal("{\"jobs\": 1, \"jobs\": 2}", "jobs");
}

static void valid_values_are_applied(void **state)
{
    (void)state;
    struct setup_config c;
    char err[512];
    assert_int_equal(apply("{\"segment_seconds\": 4, \"bitrate_kbps\": 96, \"jobs\": 3, "
                           "\"loudness_normalize\": false, \"_comment\": \"ignored\", "
                           "\"audio_extensions\": [\"mp3\"]}",
                           &c, err, sizeof err), 0);
    assert_true(c.segment_seconds == 4.0);
    assert_int_equal(c.bitrate_kbps, 96);
    assert_int_equal(c.jobs, 3);
    assert_false(c.loudness_normalize);
    assert_int_equal(c.audio_extensions.n, 1);
    assert_string_equal(c.audio_extensions.v[0], "mp3");
    cfg_free(setup_config_keys, setup_config_nkeys, &c);
}

static int apply_playlist(const char *json, struct playlist_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (cfg_load(NULL, playlist_config_keys, playlist_config_nkeys, c, err, errlen) != 0)
        return -1;
    if (cfg_apply_json(json, "p.json", playlist_config_keys, playlist_config_nkeys, c, err, errlen) != 0)
        return -1;
    return playlist_config_check(c, "p.json", err, errlen);
}

static void expect_playlist_refusal(const char *json, const char *needle)
{
    struct playlist_config c;
    char err[512] = "";
    assert_int_not_equal(apply_playlist(json, &c, err, sizeof err), 0);
    if (!strstr(err, needle) || !strstr(err, "p.json"))
        fail_msg("message \"%s\" lacks \"%s\" or the file name", err, needle);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
}

static void playlist_defaults_play_the_whole_folder_in_order(void **state)
{
    (void)state;
    struct playlist_config c;
    char err[512];
    assert_int_equal(apply_playlist("{}", &c, err, sizeof err), 0);
    assert_string_equal(c.source, "music");
    assert_string_equal(c.mode, "ordered");
    assert_int_equal(c.tracks.n, 0);
    assert_int_equal(c.jingles.n, 0);
    assert_int_equal(c.exclude.n, 0);
    assert_true(c.scan_subdirectories);
    assert_int_equal(c.seed, 0);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
}

static void playlist_options_are_applied(void **state)
{
    (void)state;
    struct playlist_config c;
    char err[512];
    assert_int_equal(apply_playlist("{\"tracks\": [\"a.mp3\", \"Live/b.flac\", \"a.mp3\"], "
                                    "\"mode\": \"shuffle\", \"seed\": 42, \"scan_subdirectories\": false, "
                                    "\"exclude\": [\"*.wav\"], \"jingles\": [\"id.flac\"]}",
                                    &c, err, sizeof err), 0);
    assert_int_equal(c.tracks.n, 3);
    assert_string_equal(c.tracks.v[2], "a.mp3");
    assert_string_equal(c.mode, "shuffle");
    assert_int_equal(c.seed, 42);
    assert_false(c.scan_subdirectories);
    assert_string_equal(c.exclude.v[0], "*.wav");
    assert_string_equal(c.jingles.v[0], "id.flac");
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
}

static void bad_playlist_options_are_refused_by_name(void **state)
{
    (void)state;
    expect_playlist_refusal("{\"order\": \"shuffle\"}", "\"order\"");
    expect_playlist_refusal("{\"tracks\": \"a.mp3\"}", "\"tracks\"");
    expect_playlist_refusal("{\"tracks\": [\"a.mp3\", 7]}", "\"tracks\"");
    expect_playlist_refusal("{\"tracks\": [\"a.mp3\", \"\"]}", "\"tracks\"");
    expect_playlist_refusal("{\"mode\": \"random\"}", "\"mode\"");
    expect_playlist_refusal("{\"seed\": \"42\"}", "\"seed\"");
    expect_playlist_refusal("{\"seed\": -1}", "\"seed\"");
    expect_playlist_refusal("{\"seed\": 1.5}", "\"seed\"");
    expect_playlist_refusal("{\"seed\": 2147483648}", "\"seed\"");
    expect_playlist_refusal("{\"scan_subdirectories\": \"yes\"}", "\"scan_subdirectories\"");
    expect_playlist_refusal("{\"exclude\": [\"\"]}", "\"exclude\"");
    expect_playlist_refusal("{\"exclude\": \"*.wav\"}", "\"exclude\"");
    expect_playlist_refusal("{\"jingles\": [1]}", "\"jingles\"");
    expect_playlist_refusal("{\"source\": \"\"}", "\"source\"");
}

static void shipped_config_files_are_valid(void **state)
{
    (void)state;
    struct setup_config c = {0};
    struct playlist_config p = {0};
    char err[512] = "";
    char path[4096];
    snprintf(path, sizeof path, "%s/config/setup.config.json", RADIO_SOURCE_DIR);
    if (cfg_load(path, setup_config_keys, setup_config_nkeys, &c, err, sizeof err) != 0)
        fail_msg("%s", err);
    snprintf(path, sizeof path, "%s/config/playlist.config.json", RADIO_SOURCE_DIR);
    if (cfg_load(path, playlist_config_keys, playlist_config_nkeys, &p, err, sizeof err) != 0 ||
        playlist_config_check(&p, path, err, sizeof err) != 0)
        fail_msg("%s", err);
    cfg_free(setup_config_keys, setup_config_nkeys, &c);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &p);
}

static void missing_file_is_an_error_naming_it(void **state)
{
    (void)state;
    struct setup_config c = {0};
    char err[512] = "";
    assert_int_not_equal(cfg_load("/nonexistent/x.json", setup_config_keys, setup_config_nkeys, &c,
                                  err, sizeof err), 0);
    assert_non_null(strstr(err, "/nonexistent/x.json"));
    cfg_free(setup_config_keys, setup_config_nkeys, &c);
}

static void readme_documents_every_key(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/README.md", RADIO_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    for (size_t i = 0; i < setup_config_nkeys; i++) {
        char row[256];
        snprintf(row, sizeof row, "| `%s` |", setup_config_keys[i].name);
        if (!strstr(text, row))
            fail_msg("README lacks a row for setup key %s", setup_config_keys[i].name);
    }
    for (size_t i = 0; i < playlist_config_nkeys; i++) {
        char row[256];
        snprintf(row, sizeof row, "| `%s` |", playlist_config_keys[i].name);
        if (!strstr(text, row))
            fail_msg("README lacks a row for playlist key %s", playlist_config_keys[i].name);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_match_documented_values),
        cmocka_unit_test(unknown_key_is_refused_by_name),
        cmocka_unit_test(wrong_type_is_refused_by_name),
        cmocka_unit_test(out_of_range_is_refused_by_name),
        cmocka_unit_test(malformed_json_is_refused_with_line),
        cmocka_unit_test(valid_values_are_applied),
        cmocka_unit_test(playlist_defaults_play_the_whole_folder_in_order),
        cmocka_unit_test(playlist_options_are_applied),
        cmocka_unit_test(bad_playlist_options_are_refused_by_name),
        cmocka_unit_test(shipped_config_files_are_valid),
        cmocka_unit_test(missing_file_is_an_error_naming_it),
        cmocka_unit_test(readme_documents_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
