#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "record_publisher.h"

/* Nothing listens on port 9 here; no request is made in these tests. */
#define PRIMARY "http://127.0.0.1:9"
#define OTHER "http://127.0.0.2:9"
#define ROUTING "http://127.0.0.3:9"

static char dir[] = "/tmp/test_record_publisher_XXXXXX";
static char key_path[256], seq_path[256];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_record_publisher_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(key_path, sizeof key_path, "%s/station.key", dir);
    snprintf(seq_path, sizeof seq_path, "%s/ipns.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fs_remove_tree(dir, NULL, 0);
}

static void start(struct record_publisher *rp, char **kubo, size_t nkubo, const char *auth)
{
    static char *routing[] = {ROUTING};
    struct cfg_strlist k = {kubo, nkubo}, r = {routing, 1};
    struct record_publisher_opts o = {
        .key_path = key_path, .seq_path = seq_path, .state_dir = dir, .kubo = &k, .routing = &r,
        .primary_api = PRIMARY, .auth = auth, .timeout = 1, .backoff = 1, .backoff_max = 1,
        .lifetime = 3600, .ttl = 1, .keep = 2,
    };
    char err[ERR_MSG_MAX];
    if (record_publisher_start(rp, &o, &clock_system, err, sizeof err) != 0)
        fail_msg("start: %s", err);
}

/* The primary node's credentials must not leak to other operators' nodes. */
static void the_authorization_header_goes_to_the_primary_only(void **state)
{
    (void)state;
    char *kubo[] = {OTHER, PRIMARY "/"};
    struct record_publisher rp;
    start(&rp, kubo, 2, "Bearer secret");
    assert_int_equal(rp.ntargets, 3);
    assert_null(rp.targets[0].ipfs.auth);
    assert_non_null(rp.targets[1].ipfs.auth);
    assert_string_equal(rp.targets[1].ipfs.auth, "Bearer secret");
    assert_null(rp.targets[2].ipfs.auth);
    record_publisher_stop(&rp, 0);
    record_publisher_free(&rp);
}

/* Each other Kubo node's list of playlists is read back after a restart,
 * so the new run trims what the old one left there. */
static void other_kubo_targets_remember_their_playlists_across_restarts(void **state)
{
    (void)state;
    char *kubo[] = {PRIMARY, OTHER};
    struct record_publisher rp;
    start(&rp, kubo, 2, NULL);
    assert_null(rp.targets[0].opts.ring_path);
    assert_null(rp.targets[2].opts.ring_path);
    const char *path = rp.targets[1].opts.ring_path;
    assert_non_null(path);
    assert_memory_equal(path, dir, strlen(dir));
    assert_int_equal(rp.targets[1].ring.n, 0);
    struct playlist_ring r = {0};
    assert_int_equal(playlist_ring_push(&r, "bafyold"), 0);
    assert_int_equal(playlist_ring_push(&r, "bafyonair"), 0);
    char err[ERR_MSG_MAX];
    assert_int_equal(playlist_ring_save(path, OTHER, &r, "bafyonair", err, sizeof err), 0);
    playlist_ring_free(&r);
    record_publisher_stop(&rp, 0);
    record_publisher_free(&rp);

    start(&rp, kubo, 2, NULL);
    assert_int_equal(rp.targets[1].ring.n, 2);
    assert_string_equal(rp.targets[1].ring.v[0], "bafyold");
    assert_string_equal(rp.targets[1].current, "bafyonair");
    record_publisher_stop(&rp, 0);
    record_publisher_free(&rp);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(the_authorization_header_goes_to_the_primary_only, setup, teardown),
        cmocka_unit_test_setup_teardown(other_kubo_targets_remember_their_playlists_across_restarts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
