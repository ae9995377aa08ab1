#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "err.h"
#include "ipns_key.h"
#include "key_cmd.h"
#include "streamer_config.h"

static char dir[] = "/tmp/test_key_cmd_XXXXXX";
static struct streamer_config cfg;
static FILE *sink;

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_key_cmd_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    memset(&cfg, 0, sizeof cfg);
    if (cfg_load(NULL, streamer_config_keys, streamer_config_nkeys, &cfg, NULL, 0) != 0)
        return -1;
    free(cfg.state_dir);
    cfg.state_dir = strdup(dir);
    sink = fopen("/dev/null", "w");
    return cfg.state_dir && sink ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    fclose(sink);
    cfg_free(streamer_config_keys, streamer_config_nkeys, &cfg);
    return fs_remove_tree(dir, NULL, 0);
}

static int run(const char *a, const char *b, int force, char *err, size_t errlen)
{
    char *argv[] = {(char *)a, (char *)b, NULL};
    struct key_cmd_opts o = {NULL, force};
    return key_cmd_run(&cfg, &o, b ? 2 : 1, argv, sink, err, errlen);
}

/* Import over a key it cannot read reports why it cannot, not a mismatch. */
static void import_reports_an_unreadable_key_as_such(void **state)
{
    (void)state;
    char err[ERR_MSG_MAX], station[512], other[512];
    snprintf(station, sizeof station, "%s/station.key", dir);
    snprintf(other, sizeof other, "%s/other.key", dir);
    assert_int_equal(run("name", NULL, 0, err, sizeof err), 0);
    struct ipns_key k;
    assert_int_equal(ipns_key_generate(&k, NULL, 0), 0);
    assert_int_equal(ipns_key_save(other, &k, err, sizeof err), 0);

    assert_int_equal(chmod(station, 0644), 0);
    assert_int_not_equal(run("import", other, 0, err, sizeof err), 0);
    if (!strstr(err, "chmod 600") || strstr(err, "--force"))
        fail_msg("unreadable key: %s", err);

    assert_int_equal(atomic_write_private(station, "not a key", 9, err, sizeof err), 0);
    assert_int_not_equal(run("import", other, 0, err, sizeof err), 0);
    if (!strstr(err, "not a libp2p private key") || strstr(err, "--force"))
        fail_msg("corrupt key: %s", err);

    assert_int_equal(run("name", NULL, 0, err, sizeof err), -1); /* still corrupt: not replaced */
    assert_int_equal(run("import", other, 1, err, sizeof err), 0);
    assert_int_equal(run("import", other, 0, err, sizeof err), 0); /* the same key again */
}

static void import_refuses_a_different_key_unless_forced(void **state)
{
    (void)state;
    char err[ERR_MSG_MAX], other[512];
    snprintf(other, sizeof other, "%s/other.key", dir);
    assert_int_equal(run("name", NULL, 0, err, sizeof err), 0);
    struct ipns_key k;
    assert_int_equal(ipns_key_generate(&k, NULL, 0), 0);
    assert_int_equal(ipns_key_save(other, &k, err, sizeof err), 0);
    assert_int_not_equal(run("import", other, 0, err, sizeof err), 0);
    assert_non_null(strstr(err, "different station key"));
    assert_int_equal(run("import", other, 1, err, sizeof err), 0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(import_reports_an_unreadable_key_as_such, setup, teardown),
        cmocka_unit_test_setup_teardown(import_refuses_a_different_key_unless_forced, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
