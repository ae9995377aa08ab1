#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dayparts_config.h"
#include "dayparts_file.h"
#include "setup_config.h"
#include "tz.h"

#define HOUR 3600

static int parse(const char *list, struct dayparts_config *d, char *err, size_t errlen)
{
    return dayparts_config_parse(list, "p.json", d, err, errlen);
}

static void expect_refusal(const char *list, const char *needle1, const char *needle2)
{
    struct dayparts_config d;
    char err[1024] = "";
    if (parse(list, &d, err, sizeof err) == 0)
        fail_msg("accepted: %s", list);
    if (!strstr(err, "p.json") || !strstr(err, needle1) || (needle2 && !strstr(err, needle2)))
        fail_msg("message \"%s\" lacks the file, \"%s\" or \"%s\"", err, needle1, needle2 ? needle2 : "");
    assert_null(d.v);
}

static void a_night_and_a_weekend_part_are_read(void **state)
{
    (void)state;
    struct dayparts_config d;
    char err[1024] = "";
    int rc = parse("[{\"name\": \"night\", \"days\": [\"daily\"], \"start\": \"00:00\", \"end\": \"06:00\"},"
                   " {\"name\": \"brunch\", \"days\": [\"sun\", \"sat\"], \"start\": \"10:00\", \"end\": \"14:00:30\","
                   "  \"tracks\": [\"a.mp3\", \"b.mp3\"], \"mode\": \"shuffle\", \"seed\": 7, \"jingles\": [\"id.flac\"]}]",
                   &d, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(d.n, 2);
    assert_string_equal(d.v[0].name, "night");
    assert_int_equal(d.v[0].when.days, 0x7f);
    assert_int_equal(d.v[0].when.start, 0);
    assert_int_equal(d.v[0].when.end, 6 * HOUR);
    assert_string_equal(d.v[0].mode, "ordered");
    assert_int_equal(d.v[0].seed, 0);
    assert_int_equal(d.v[0].tracks.n, 0);
    assert_int_equal(d.v[0].jingles.n, 0);
    assert_int_equal(d.v[1].when.days, (1 << 5) | (1 << 6));
    assert_int_equal(d.v[1].when.start, 10 * HOUR);
    assert_int_equal(d.v[1].when.end, 14 * HOUR + 30);
    assert_string_equal(d.v[1].mode, "shuffle");
    assert_int_equal(d.v[1].seed, 7);
    assert_int_equal(d.v[1].tracks.n, 2);
    assert_string_equal(d.v[1].tracks.v[1], "b.mp3");
    assert_string_equal(d.v[1].jingles.v[0], "id.flac");
    dayparts_config_free(&d);
}

static void shorthands_expand(void **state)
{
    (void)state;
    struct dayparts_config d;
    char err[1024] = "";
    assert_int_equal(parse("[{\"name\": \"w\", \"days\": [\"weekdays\"], \"start\": \"09:00\", \"end\": \"10:00\"},"
                           " {\"name\": \"e\", \"days\": [\"weekends\"], \"start\": \"09:00\", \"end\": \"10:00\"},"
                           " {\"name\": \"f\", \"days\": [\"wed\", \"mon\"], \"start\": \"11:00\", \"end\": \"12:00\"}]",
                           &d, err, sizeof err), 0);
    assert_int_equal(d.v[0].when.days, 0x1f);
    assert_int_equal(d.v[1].when.days, 0x60);
    assert_int_equal(d.v[2].when.days, 0x5);
    dayparts_config_free(&d);
    assert_string_equal(week_day_names[0], "mon");
    assert_string_equal(week_day_names[6], "sun");
}

static void an_empty_list_means_no_parts(void **state)
{
    (void)state;
    struct dayparts_config d;
    char err[256];
    assert_int_equal(parse("[]", &d, err, sizeof err), 0);
    assert_int_equal(d.n, 0);
    dayparts_config_free(&d);
}

static void times_are_written_back_shortest(void **state)
{
    (void)state;
    char t[16];
    week_time_text(0, t, sizeof t);
    assert_string_equal(t, "00:00");
    week_time_text(14 * HOUR + 30, t, sizeof t);
    assert_string_equal(t, "14:00:30");
    week_time_text(24 * HOUR, t, sizeof t);
    assert_string_equal(t, "24:00");
}

static void times_and_bounds_are_checked(void **state)
{
    (void)state;
    struct dayparts_config d;
    char err[1024];
    /* 24:00 ends a part; a part may end past midnight, and run to it. */
    assert_int_equal(parse("[{\"name\": \"late\", \"days\": [\"mon\"], \"start\": \"22:00\", \"end\": \"24:00\"},"
                           " {\"name\": \"wrap\", \"days\": [\"tue\"], \"start\": \"23:00:01\", \"end\": \"02:00\"}]",
                           &d, err, sizeof err), 0);
    assert_int_equal(d.v[0].when.end, 24 * HOUR);
    assert_int_equal(d.v[1].when.start, 23 * HOUR + 1);
    dayparts_config_free(&d);
    static const char *const bad_start[] = {"24:00", "24:01", "7:00", "12:60", "12:00:60", "12:00:", "12-00",
                                            "1200", "", " 12:00", "12:00 ", "ab:cd", "25:00", "12:5"};
    for (size_t i = 0; i < sizeof bad_start / sizeof bad_start[0]; i++) {
        char list[256];
        snprintf(list, sizeof list, "[{\"name\": \"x\", \"days\": [\"mon\"], \"start\": \"%s\", \"end\": \"23:00\"}]",
                 bad_start[i]);
        expect_refusal(list, "\"start\"", "\"x\"");
    }
    static const char *const bad_end[] = {"00:00", "24:01", "24:00:01", "7:00", "12:60", "99:99"};
    for (size_t i = 0; i < sizeof bad_end / sizeof bad_end[0]; i++) {
        char list[256];
        snprintf(list, sizeof list, "[{\"name\": \"x\", \"days\": [\"mon\"], \"start\": \"01:00\", \"end\": \"%s\"}]",
                 bad_end[i]);
        expect_refusal(list, "\"end\"", "\"x\"");
    }
    expect_refusal("[{\"name\": \"x\", \"days\": [\"mon\"], \"start\": \"06:00\", \"end\": \"06:00:00\"}]", "\"start\"",
                   "\"end\"");
    expect_refusal("[{\"name\": \"x\", \"days\": [\"mon\"], \"start\": 6, \"end\": \"07:00\"}]", "\"start\"", "\"x\"");
}

static void overlaps_are_refused_anywhere_in_the_week(void **state)
{
    (void)state;
    /* The same day. */
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"10:00\"},"
                   " {\"name\": \"b\", \"days\": [\"mon\"], \"start\": \"09:59:59\", \"end\": \"11:00\"}]",
                   "overlap", "\"a\" and \"b\"");
    /* Past midnight into the next day's part. */
    expect_refusal("[{\"name\": \"late\", \"days\": [\"fri\"], \"start\": \"22:00\", \"end\": \"02:00\"},"
                   " {\"name\": \"early\", \"days\": [\"sat\"], \"start\": \"01:00\", \"end\": \"03:00\"}]",
                   "overlap", "sat at 01:00");
    /* Past Sunday midnight into Monday. */
    expect_refusal("[{\"name\": \"sunday\", \"days\": [\"sun\"], \"start\": \"23:00\", \"end\": \"00:30\"},"
                   " {\"name\": \"monday\", \"days\": [\"mon\"], \"start\": \"00:00\", \"end\": \"01:00\"}]",
                   "overlap", "mon at 00:00");
    /* A part past midnight every day meets itself only end to start. */
    struct dayparts_config d;
    char err[1024] = "";
    int rc = parse("[{\"name\": \"night\", \"days\": [\"daily\"], \"start\": \"22:00\", \"end\": \"06:00\"},"
                   " {\"name\": \"morning\", \"days\": [\"daily\"], \"start\": \"06:00\", \"end\": \"10:00\"},"
                   " {\"name\": \"evening\", \"days\": [\"daily\"], \"start\": \"18:00\", \"end\": \"22:00\"}]",
                   &d, err, sizeof err);
    if (rc != 0)
        fail_msg("parts that only touch were refused: %s", err);
    dayparts_config_free(&d);
    /* Touching across Sunday midnight is fine too. */
    rc = parse("[{\"name\": \"sun\", \"days\": [\"sun\"], \"start\": \"20:00\", \"end\": \"02:00\"},"
               " {\"name\": \"mon\", \"days\": [\"mon\"], \"start\": \"02:00\", \"end\": \"03:00\"}]",
               &d, err, sizeof err);
    if (rc != 0)
        fail_msg("parts that only touch were refused: %s", err);
    dayparts_config_free(&d);
    /* A part that runs past midnight every day meets itself. */
    rc = parse("[{\"name\": \"long\", \"days\": [\"daily\"], \"start\": \"01:00\", \"end\": \"00:30\"}]", &d, err,
               sizeof err);
    if (rc != 0)
        fail_msg("a part that ends before it starts again was refused: %s", err);
    dayparts_config_free(&d);
}

static void names_days_and_keys_are_checked(void **state)
{
    (void)state;
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"},"
                   " {\"name\": \"a\", \"days\": [\"tue\"], \"start\": \"08:00\", \"end\": \"09:00\"}]",
                   "\"name\"", "names must differ");
    expect_refusal("[{\"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"name\"", "required");
    expect_refusal("[{\"name\": \"a/b\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"name\"",
                   NULL);
    expect_refusal("[{\"name\": \"..\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"name\"",
                   NULL);
    expect_refusal("[{\"name\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"days\": "
                   "[\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"name\"", NULL);
    expect_refusal("[{\"name\": \"a\", \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"days\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"days\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"monday\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"days\"",
                   "monday");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"Mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"days\"",
                   NULL);
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\", \"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]",
                   "\"days\"", "twice");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"weekdays\", \"fri\"], \"start\": \"08:00\", \"end\": \"09:00\"}]",
                   "\"days\"", "twice");
    expect_refusal("[{\"name\": \"a\", \"days\": \"mon\", \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"days\"", NULL);
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"end\": \"09:00\"}]", "\"start\"", "required");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\"}]", "\"end\"", "required");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"colour\": 1}]",
                   "unknown key \"colour\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"mode\": \"random\"}]",
                   "\"mode\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"seed\": -1}]",
                   "\"seed\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"tracks\": [\"\"]}]",
                   "\"tracks\"", "\"a\"");
    expect_refusal("[{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"jingles\": \"x\"}]",
                   "\"jingles\"", "\"a\"");
    expect_refusal("[{\"name\": 5, \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\"}]", "\"name\"", "item 1");
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

static void the_playlist_config_checks_its_parts(void **state)
{
    (void)state;
    struct playlist_config c;
    char err[1024] = "";
    assert_int_equal(apply_playlist("{}", &c, err, sizeof err), 0);
    assert_string_equal(c.time_zone, "UTC");
    assert_string_equal(c.dayparts, "[]");
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
    static const char *const bad[] = {
        "{\"dayparts\": {}}", "{\"dayparts\": [1]}", "{\"dayparts\": [[]]}",
        "{\"dayparts\": [{\"name\": \"a\", \"days\": [\"mon\"], \"start\": \"08:00\", \"end\": \"09:00\", \"x\": 1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (apply_playlist(bad[i], &c, err, sizeof err) == 0 || !strstr(err, "p.json") ||
            !strstr(err, i < 3 ? "\"dayparts\"" : "unknown key \"x\""))
            fail_msg("%s: \"%s\"", bad[i], err);
        cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
    }
}

static void the_file_is_the_contracts_example(void **state)
{
    (void)state;
    struct dayparts_config d;
    char err[1024] = "";
    int rc = parse("[{\"name\": \"night\", \"days\": [\"daily\"], \"start\": \"00:00\", \"end\": \"06:00\", "
                   "\"mode\": \"shuffle\"},"
                   " {\"name\": \"brunch\", \"days\": [\"sun\", \"sat\"], \"start\": \"10:00:00\", "
                   "\"end\": \"14:00:30\"}]", &d, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    char *text = dayparts_file_json(&d, "Europe/Berlin");
    assert_non_null(text);
    const char *want =
        "{\n \"format\": \"ipfs-radio-dayparts\",\n \"version\": 1,\n \"time_zone\": \"Europe/Berlin\",\n"
        " \"parts\": [\n  {\n   \"name\": \"night\",\n   \"playlist\": \"dayparts/night.m3u\",\n   \"days\": [\n"
        "    \"mon\",\n    \"tue\",\n    \"wed\",\n    \"thu\",\n    \"fri\",\n    \"sat\",\n    \"sun\"\n   ],\n"
        "   \"start\": \"00:00\",\n   \"end\": \"06:00\"\n  },\n  {\n   \"name\": \"brunch\",\n"
        "   \"playlist\": \"dayparts/brunch.m3u\",\n   \"days\": [\n    \"sat\",\n    \"sun\"\n   ],\n"
        "   \"start\": \"10:00\",\n   \"end\": \"14:00:30\"\n  }\n ]\n}\n";
    assert_string_equal(text, want);
    free(text);
    dayparts_config_free(&d);
}

/* A zoneinfo folder of our own, so the test does not depend on the machine's tzdata. */
static char tzdir[256];

static void put(const char *rel, const char *content)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", tzdir, rel);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void zone_names_are_checked(void **state)
{
    (void)state;
    snprintf(tzdir, sizeof tzdir, "/tmp/test_dayparts_tz.XXXXXX");
    assert_non_null(mkdtemp(tzdir));
    char sub[512];
    snprintf(sub, sizeof sub, "%s/Europe", tzdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    /* Real zone files (tzdata is installed with the project), under names of the test's own. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cp /usr/share/zoneinfo/Europe/Berlin '%s/Europe/Berlin' && "
             "cp /usr/share/zoneinfo/Etc/GMT-14 '%s/Etc+GMT-14'", tzdir, tzdir);
    assert_int_equal(system(cmd), 0);
    put("Fake", "not a zone");
    put("Truncated", "TZif2\nrest");
    setenv("TZDIR", tzdir, 1);
    char why[256];
    struct tz *z;
    static const char *const good[] = {"UTC", "Europe/Berlin", "Etc+GMT-14"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (tz_load(good[i], &z, why, sizeof why) != 0)
            fail_msg("zone \"%s\" refused: %s", good[i], why);
        tz_free(z);
    }
    static const char *const bad[] = {"", "Europe/Nowhere", "Fake", "Truncated", "Europe", "/etc/passwd",
                                      "../Europe/Berlin", "Europe/../Europe/Berlin", "Europe//Berlin",
                                      "Europe/Berlin/", "-x", "Europe/Ber lin", "europe/berlin"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (tz_load(bad[i], &z, why, sizeof why) == 0) {
            tz_free(z);
            fail_msg("zone \"%s\" accepted", bad[i]);
        }
    struct playlist_config c;
    char err[1024] = "";
    assert_int_equal(apply_playlist("{\"time_zone\": \"Europe/Berlin\"}", &c, err, sizeof err), 0);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
    assert_int_not_equal(apply_playlist("{\"time_zone\": \"Europe/Atlantis\"}", &c, err, sizeof err), 0);
    if (!strstr(err, "p.json") || !strstr(err, "\"time_zone\"") || !strstr(err, "Europe/Atlantis"))
        fail_msg("message \"%s\" lacks the file, key or value", err);
    cfg_free(playlist_config_keys, playlist_config_nkeys, &c);
    unsetenv("TZDIR");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tzdir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_night_and_a_weekend_part_are_read),
        cmocka_unit_test(shorthands_expand),
        cmocka_unit_test(an_empty_list_means_no_parts),
        cmocka_unit_test(times_are_written_back_shortest),
        cmocka_unit_test(times_and_bounds_are_checked),
        cmocka_unit_test(overlaps_are_refused_anywhere_in_the_week),
        cmocka_unit_test(names_days_and_keys_are_checked),
        cmocka_unit_test(the_playlist_config_checks_its_parts),
        cmocka_unit_test(the_file_is_the_contracts_example),
        cmocka_unit_test(zone_names_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
