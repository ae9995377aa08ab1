#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "playlist_ring.h"

static void expect(const struct playlist_ring *r, const char *want)
{
    char got[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < r->n; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? " " : "", r->v[i]);
    if (strcmp(got, want) != 0)
        fail_msg("ring \"%s\", want \"%s\"", got, want);
}

static void fill(struct playlist_ring *r, const char *cids)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", cids);
    for (char *c = strtok(buf, " "); c; c = strtok(NULL, " "))
        assert_int_equal(playlist_ring_push(r, c), 0);
}

static void a_repeated_playlist_moves_to_the_newest_place(void **state)
{
    (void)state;
    struct playlist_ring r = {0};
    fill(&r, "a b c a");
    expect(&r, "b c a");
    fill(&r, "a");
    expect(&r, "b c a");
    playlist_ring_free(&r);
}

/* The first publish after a restart renders the window of the last one
 * before it: the playlist on air must not be trimmed as the oldest. */
static void the_playlist_on_air_again_is_not_trimmed(void **state)
{
    (void)state;
    struct playlist_ring r = {0};
    fill(&r, "a b c a d");
    assert_string_equal(playlist_ring_excess(&r, 3, NULL), "b");
    playlist_ring_free(&r);
}

static void excess_skips_the_playlist_the_name_points_at(void **state)
{
    (void)state;
    struct playlist_ring r = {0};
    fill(&r, "a b c d");
    assert_null(playlist_ring_excess(&r, 4, NULL));
    assert_string_equal(playlist_ring_excess(&r, 2, NULL), "a");
    assert_string_equal(playlist_ring_excess(&r, 2, ""), "a");
    assert_string_equal(playlist_ring_excess(&r, 2, "a"), "b");
    assert_null(playlist_ring_excess(&r, 3, "a"));
    playlist_ring_remove(&r, "b");
    expect(&r, "a c d");
    playlist_ring_remove(&r, "x");
    expect(&r, "a c d");
    playlist_ring_free(&r);
}

static void a_targets_ring_survives_a_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_playlist_ring_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], err[ERR_MSG_MAX], cur[CID_MAX_STR];
    snprintf(path, sizeof path, "%s/ring.json", dir);
    struct playlist_ring r = {0}, back;
    assert_int_equal(playlist_ring_load(path, &back, cur, sizeof cur, err, sizeof err), 0);
    assert_int_equal(back.n, 0);
    assert_string_equal(cur, "");
    fill(&r, "bafyone bafytwo bafythree");
    assert_int_equal(playlist_ring_save(path, "http://node:5001", &r, "bafytwo", err, sizeof err), 0);
    assert_int_equal(playlist_ring_load(path, &back, cur, sizeof cur, err, sizeof err), 0);
    expect(&back, "bafyone bafytwo bafythree");
    assert_string_equal(cur, "bafytwo");
    playlist_ring_free(&back);

    assert_int_equal(atomic_write(path, "{\"format\": \"other\"}", 19, err, sizeof err), 0);
    assert_int_not_equal(playlist_ring_load(path, &back, cur, sizeof cur, err, sizeof err), 0);
    assert_int_equal(atomic_write(path, "not json", 8, err, sizeof err), 0);
    assert_int_not_equal(playlist_ring_load(path, &back, cur, sizeof cur, err, sizeof err), 0);
    assert_non_null(strstr(err, path));
    playlist_ring_free(&r);
    fs_remove_tree(dir, NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_repeated_playlist_moves_to_the_newest_place),
        cmocka_unit_test(the_playlist_on_air_again_is_not_trimmed),
        cmocka_unit_test(excess_skips_the_playlist_the_name_points_at),
        cmocka_unit_test(a_targets_ring_survives_a_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
