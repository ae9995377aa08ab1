/* healthmon's config: defaults, refusals naming the key, and the IPNS name
 * read from the streamer's state directory. */
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
#include "hm_config.h"
#include "http_server.h"

static int apply(const char *json, struct hm_config *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (cfg_load(NULL, hm_config_keys, hm_config_nkeys, c, err, errlen) != 0)
        return -1;
    if (cfg_apply_json(json, "t.json", hm_config_keys, hm_config_nkeys, c, err, errlen) != 0)
        return -1;
    return hm_config_check(c, "t.json", err, errlen);
}

static void defaults_are_valid_and_as_documented(void **state)
{
    (void)state;
    struct hm_config c;
    char err[512];
    assert_int_equal(apply("{}", &c, err, sizeof err), 0);
    assert_string_equal(c.local_gateway, "http://127.0.0.1:8080");
    assert_int_equal(c.public_gateways.n, 2);
    assert_string_equal(c.public_gateways.v[0], "https://ipfs.io");
    assert_true(c.stale_target_durations == 3.0);
    assert_true(c.silence_floor_lufs == -50.0);
    assert_true(c.loudness_target_lufs == -16.0);
    assert_string_equal(c.state_dir, "state");
    assert_string_equal(c.ipns_name, "");
    cfg_free(hm_config_keys, hm_config_nkeys, &c);
}

static void shipped_config_file_equals_the_defaults(void **state)
{
    (void)state;
    struct hm_config a = {0}, b = {0};
    char err[512];
    assert_int_equal(cfg_load(NULL, hm_config_keys, hm_config_nkeys, &a, err, sizeof err), 0);
    if (cfg_load(RADIO_SOURCE_DIR "/config/healthmon.config.json", hm_config_keys, hm_config_nkeys,
                 &b, err, sizeof err) != 0)
        fail_msg("%s", err);
    char *da = NULL, *db = NULL;
    size_t la = 0, lb = 0;
    FILE *fa = open_memstream(&da, &la), *fb = open_memstream(&db, &lb);
    cfg_print_defaults(hm_config_keys, hm_config_nkeys, fa);
    fclose(fa);
    FILE *shipped = fopen(RADIO_SOURCE_DIR "/config/healthmon.config.json", "r");
    assert_non_null(shipped);
    int ch;
    while ((ch = fgetc(shipped)) != EOF)
        fputc(ch, fb);
    fclose(shipped);
    fclose(fb);
    assert_string_equal(da, db);
    free(da);
    free(db);
    cfg_free(hm_config_keys, hm_config_nkeys, &a);
    cfg_free(hm_config_keys, hm_config_nkeys, &b);
}

static void expect_refusal(const char *json, const char *needle)
{
    struct hm_config c;
    char err[512] = "";
    assert_int_not_equal(apply(json, &c, err, sizeof err), 0);
    if (!strstr(err, needle) || !strstr(err, "t.json"))
        fail_msg("message \"%s\" lacks \"%s\" or the file name", err, needle);
    cfg_free(hm_config_keys, hm_config_nkeys, &c);
}

static void bad_values_are_refused_naming_the_key(void **state)
{
    (void)state;
    expect_refusal("{\"interval\": 10}", "\"interval\"");
    expect_refusal("{\"interval_seconds\": 0}", "\"interval_seconds\"");
    expect_refusal("{\"public_gateways\": \"https://ipfs.io\"}", "\"public_gateways\"");
    expect_refusal("{\"public_gateways\": [\"ftp://x\"]}", "\"public_gateways\"");
    expect_refusal("{\"local_gateway\": \"127.0.0.1:8080\"}", "\"local_gateway\"");
    expect_refusal("{\"local_gateway\": \"http://gw/?x=1\"}", "\"local_gateway\"");
    expect_refusal("{\"listen\": \"8091\"}", "\"listen\"");
    expect_refusal("{\"listen\": \"127.0.0.1:99999\"}", "\"listen\"");
    expect_refusal("{\"ipns_name\": \"k51/../etc\"}", "\"ipns_name\"");
    expect_refusal("{\"ipns_name\": \"\", \"state_dir\": \"\"}", "\"state_dir\"");
    expect_refusal("{\"silence_floor_lufs\": 3}", "\"silence_floor_lufs\"");
    expect_refusal("{\"log_level\": \"loud\"}", "\"log_level\"");
}

static void listen_addresses_parse_in_all_three_forms(void **state)
{
    (void)state;
    char host[64], err[256];
    int port;
    assert_int_equal(http_parse_listen("127.0.0.1:8091", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8091);
    assert_int_equal(http_parse_listen("[::1]:0", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_int_equal(http_parse_listen(":9000", host, sizeof host, &port, err, sizeof err), 0);
    assert_string_equal(host, "");
    assert_int_not_equal(http_parse_listen("[::1]8091", host, sizeof host, &port, err, sizeof err), 0);
    assert_int_not_equal(http_parse_listen("h:", host, sizeof host, &port, err, sizeof err), 0);
}

static void ipns_name_comes_from_config_or_from_the_streamer_state(void **state)
{
    (void)state;
    char dir[] = "/tmp/hm-config-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cfgjson[512], path[600], name[HM_NAME_MAX], err[512];
    snprintf(cfgjson, sizeof cfgjson, "{\"state_dir\": \"%s\"}", dir);
    struct hm_config c;
    assert_int_equal(apply(cfgjson, &c, err, sizeof err), 0);

    /* No status.json yet: a reason that says where it looked. */
    assert_int_not_equal(hm_ipns_name(&c, name, sizeof name, err, sizeof err), 0);
    assert_non_null(strstr(err, "status.json"));

    snprintf(path, sizeof path, "%s/status.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"ipns_name\": \"k51qzi5uqu5dgutdk6i1ynyzgkqngpha5xpgia3a5qqp4jsh0u4csozksxel3r\","
          " \"target_duration\": 6}", f);
    fclose(f);
    assert_int_equal(hm_ipns_name(&c, name, sizeof name, err, sizeof err), 0);
    assert_string_equal(name, "k51qzi5uqu5dgutdk6i1ynyzgkqngpha5xpgia3a5qqp4jsh0u4csozksxel3r");

    /* A name that would escape the URL path is not used. */
    f = fopen(path, "w");
    fputs("{\"ipns_name\": \"../../ipfs/x\"}", f);
    fclose(f);
    assert_int_not_equal(hm_ipns_name(&c, name, sizeof name, err, sizeof err), 0);

    /* The config's own name wins over the state file. */
    free(c.ipns_name);
    c.ipns_name = strdup("k51configured");
    assert_int_equal(hm_ipns_name(&c, name, sizeof name, err, sizeof err), 0);
    assert_string_equal(name, "k51configured");
    cfg_free(hm_config_keys, hm_config_nkeys, &c);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_are_valid_and_as_documented),
        cmocka_unit_test(shipped_config_file_equals_the_defaults),
        cmocka_unit_test(bad_values_are_refused_naming_the_key),
        cmocka_unit_test(listen_addresses_parse_in_all_three_forms),
        cmocka_unit_test(ipns_name_comes_from_config_or_from_the_streamer_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
