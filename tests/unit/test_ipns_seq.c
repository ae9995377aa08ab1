#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "ipns_seq.h"

#define T0 1795000000.0   /* a wall-clock time in 2026 */

static char dir[] = "/tmp/test_ipns_seq_XXXXXX";
static char path[256];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/test_ipns_seq_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/ipns.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return fs_remove_tree(dir, NULL, 0);
}

static uint64_t next_after_restart(double now)
{
    struct ipns_seq s;
    char err[256];
    uint64_t v = 0;
    assert_int_equal(ipns_seq_load(&s, path, "k51test", err, sizeof err), 0);
    assert_int_equal(ipns_seq_next(&s, now, 0, &v, err, sizeof err), 0);
    return v;
}

static void sequence_increases_across_simulated_restarts(void **state)
{
    (void)state;
    uint64_t prev = 0;
    /* Many restarts within the same millisecond, and with the clock stepped back a day. */
    for (int i = 0; i < 50; i++) {
        double now = i < 25 ? T0 : T0 - 86400;
        uint64_t v = next_after_restart(now);
        assert_true(v > prev);
        prev = v;
    }
    assert_int_equal(prev, (uint64_t)(T0 * 1000) + 49);
}

static void sequence_is_at_least_the_clock_when_state_is_lost(void **state)
{
    (void)state;
    uint64_t before = next_after_restart(T0);
    assert_int_equal(remove(path), 0);
    /* Same key on a fresh machine a second later: still outbids the old record. */
    uint64_t after = next_after_restart(T0 + 1);
    assert_true(after > before);
}

static void sequence_respects_a_floor_and_persists_it(void **state)
{
    (void)state;
    struct ipns_seq s;
    char err[256];
    uint64_t v;
    assert_int_equal(ipns_seq_load(&s, path, "k51test", err, sizeof err), 0);
    assert_int_equal(ipns_seq_next(&s, T0, UINT64_C(5000000000000), &v, err, sizeof err), 0);
    assert_int_equal(v, UINT64_C(5000000000000));
    assert_int_equal(next_after_restart(T0), UINT64_C(5000000000001));
}

static void unreadable_sequence_file_is_an_error_not_a_reset(void **state)
{
    (void)state;
    assert_int_equal(atomic_write(path, "{\"sequence\": 3}", 15, NULL, 0), 0);
    struct ipns_seq s;
    char err[256];
    assert_int_not_equal(ipns_seq_load(&s, path, "k51test", err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(sequence_increases_across_simulated_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(sequence_is_at_least_the_clock_when_state_is_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(sequence_respects_a_floor_and_persists_it, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_sequence_file_is_an_error_not_a_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
