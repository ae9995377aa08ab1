#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order_rules.h"
#include "shuffle.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A small library as the scan returns it: sorted by path. */
static const struct order_rules_item lib[] = {
    {"01 intro.mp3", "", "", 1},                       /* untagged: its file name sorts it */
    {"Live/b.flac", "abba", "Waterloo", 1},
    {"Live/c.flac", "Zappa", "Peaches", 1},
    {"a.ogg", "ABBA", "Dancing Queen", 1},
    {"broken.mp3", "", "", 0},                         /* failed to decode */
    {"d.ogg", "", "Moonlight", 1},                     /* a title but no artist */
};

/* Renders an order as "0 3 1" for readable expectations. */
static void expect(const long *picks, size_t npicks, enum order_rules_mode mode, uint64_t seed,
                   const char *want)
{
    long out[64];
    long n = order_rules_arrange(lib, NITEMS(lib), picks, npicks, mode, seed, out);
    assert_true(n >= 0);
    char got[256] = "";
    size_t o = 0;
    for (long i = 0; i < n; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%ld", i ? " " : "", out[i]);
    if (strcmp(got, want) != 0)
        fail_msg("mode %d seed %llu: got \"%s\", want \"%s\"", (int)mode, (unsigned long long)seed, got, want);
}

static void ordered_without_a_list_plays_the_folder_by_path_skipping_failures(void **state)
{
    (void)state;
    expect(NULL, 0, ORDER_RULES_ORDERED, 0, "0 1 2 3 5");
}

static void ordered_list_plays_exactly_the_list_with_duplicates(void **state)
{
    (void)state;
    const long picks[] = {5, 1, 5, 0, 1};
    expect(picks, NITEMS(picks), ORDER_RULES_ORDERED, 0, "5 1 5 0 1");
}

static void missing_and_failed_list_entries_drop_out_and_the_rest_play(void **state)
{
    (void)state;
    const long picks[] = {3, -1, 4, 2, -1};
    expect(picks, NITEMS(picks), ORDER_RULES_ORDERED, 0, "3 2");
    const long none[] = {-1, 4};
    expect(none, NITEMS(none), ORDER_RULES_ORDERED, 0, "");
}

static void alphabetical_sorts_by_artist_then_title_falling_back_to_the_file_name(void **state)
{
    (void)state;
    /* abba/ABBA: "Dancing Queen" before "Waterloo" whatever the case;
     * "01 intro" by file name, "Moonlight" by title, both among artists. */
    expect(NULL, 0, ORDER_RULES_ALPHABETICAL, 0, "0 3 1 5 2");
    const long picks[] = {2, 1, 2};
    expect(picks, NITEMS(picks), ORDER_RULES_ALPHABETICAL, 0, "1 2 2");
}

static void shuffle_is_a_permutation_of_the_playable_picks(void **state)
{
    (void)state;
    long out[64];
    long n = order_rules_arrange(lib, NITEMS(lib), NULL, 0, ORDER_RULES_SHUFFLE, 7, out);
    assert_int_equal(n, 5);
    int seen[NITEMS(lib)] = {0};
    for (long i = 0; i < n; i++)
        seen[out[i]]++;
    assert_int_equal(seen[4], 0);
    for (size_t i = 0; i < NITEMS(lib); i++)
        if (i != 4)
            assert_int_equal(seen[i], 1);
}

static void shuffle_is_the_same_every_run_and_changes_with_the_seed(void **state)
{
    (void)state;
    long a[64], b[64], c[64];
    long na = order_rules_arrange(lib, NITEMS(lib), NULL, 0, ORDER_RULES_SHUFFLE, 12345, a);
    long nb = order_rules_arrange(lib, NITEMS(lib), NULL, 0, ORDER_RULES_SHUFFLE, 12345, b);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, (size_t)na * sizeof *a);
    int differs = 0;
    for (uint64_t seed = 12346; seed < 12356; seed++) {
        long nc = order_rules_arrange(lib, NITEMS(lib), NULL, 0, ORDER_RULES_SHUFFLE, seed, c);
        assert_int_equal(nc, na);
        differs += memcmp(a, c, (size_t)na * sizeof *a) != 0;
    }
    /* 5 items have 120 orders: ten other seeds cannot all repeat this one by chance. */
    assert_true(differs >= 8);
}

static void a_failing_file_does_not_reshuffle_the_rest(void **state)
{
    (void)state;
    struct order_rules_item ok[NITEMS(lib)];
    memcpy(ok, lib, sizeof ok);
    ok[4].playable = 1;
    long all[64], some[64];
    long na = order_rules_arrange(ok, NITEMS(ok), NULL, 0, ORDER_RULES_SHUFFLE, 99, all);
    long ns = order_rules_arrange(lib, NITEMS(lib), NULL, 0, ORDER_RULES_SHUFFLE, 99, some);
    assert_int_equal(na, ns + 1);
    long k = 0;
    for (long i = 0; i < na; i++)
        if (all[i] != 4)
            assert_int_equal(some[k++], all[i]);
}

static void shuffle_keeps_list_duplicates(void **state)
{
    (void)state;
    const long picks[] = {1, 1, 1, 3};
    long out[8];
    long n = order_rules_arrange(lib, NITEMS(lib), picks, NITEMS(picks), ORDER_RULES_SHUFFLE, 3, out);
    assert_int_equal(n, 4);
    int ones = 0;
    for (long i = 0; i < n; i++)
        ones += out[i] == 1;
    assert_int_equal(ones, 3);
}

/* Published SplitMix64 outputs for state 0, and permutations computed by an
 * independent implementation: what makes a seed mean the same on every machine. */
static void splitmix64_and_the_shuffle_match_known_answers(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(shuffle_next(&s) == UINT64_C(0xe220a8397b1dcdaf));
    assert_true(shuffle_next(&s) == UINT64_C(0x6e789e6aa1b965f4));
    assert_true(shuffle_next(&s) == UINT64_C(0x06c45d188009454f));
    long v[10], w42[] = {0, 9, 5, 8, 6, 4, 7, 2, 1, 3}, w43[] = {4, 2, 5, 6, 1, 3, 9, 8, 7, 0};
    for (long i = 0; i < 10; i++)
        v[i] = i;
    shuffle_longs(v, 10, 42);
    assert_memory_equal(v, w42, sizeof v);
    for (long i = 0; i < 10; i++)
        v[i] = i;
    shuffle_longs(v, 10, 43);
    assert_memory_equal(v, w43, sizeof v);
}

/* A bound just above 2^63 puts the rejection threshold (2^64 mod bound =
 * 2^63 - 1) in the middle of the outputs: about half the draws must be
 * thrown away, and a plain modulo or a threshold on the wrong side gives
 * other answers. Derived independently with Python's big integers:
 *
 *   M = 2**64
 *   def nxt(s):
 *       s = (s + 0x9e3779b97f4a7c15) % M
 *       z = ((s ^ (s >> 30)) * 0xbf58476d1ce4e5b9) % M
 *       z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) % M
 *       return s, z ^ (z >> 31)
 *   def below(s, b):
 *       while True:
 *           s, r = nxt(s)
 *           if r >= M % b: return s, r % b
 *   s = 0
 *   for _ in range(6): s, v = below(s, 2**63 + 1); print(hex(v))
 *
 * Those six results take 13 outputs: 7 rejected. */
static void bounded_draws_reject_below_the_threshold(void **state)
{
    (void)state;
    static const uint64_t want[] = {
        UINT64_C(0x6220a8397b1dcdae), UINT64_C(0x788bb8a8724c81eb), UINT64_C(0x4584133ac916ab3b),
        UINT64_C(0x73b8488c368cb0a5), UINT64_C(0x42d326e0055bdef5), UINT64_C(0x0621a03fe0bbdb7a),
    };
    uint64_t s = 0, bound = (UINT64_C(1) << 63) + 1;
    for (size_t i = 0; i < NITEMS(want); i++) {
        uint64_t got = shuffle_below(&s, bound);
        if (got != want[i])
            fail_msg("draw %zu: got %#llx, want %#llx", i, (unsigned long long)got, (unsigned long long)want[i]);
    }
    /* The state advances by a fixed step per output: 13 outputs were used. */
    assert_true(s == UINT64_C(13) * UINT64_C(0x9e3779b97f4a7c15));
    s = 0;
    assert_true(shuffle_below(&s, 1) == 0);
    assert_true(s == UINT64_C(0x9e3779b97f4a7c15)); /* bound 1 rejects nothing */
}

static const char *const paths[] = {"a.mp3", "Live/a.mp3", "Live/b.mp3", "Old/x.mp3", "Old/Deep/x.mp3"};

static void find(const char *entry, enum order_rules_match want, long want_index)
{
    size_t idx = 99;
    char why[256] = "";
    enum order_rules_match m = order_rules_find(paths, NITEMS(paths), entry, &idx, why, sizeof why);
    if (m != want)
        fail_msg("%s: match %d, want %d (%s)", entry, (int)m, (int)want, why);
    if (want == ORDER_RULES_FOUND)
        assert_int_equal((long)idx, want_index);
}

static void list_entries_are_paths_or_bare_names(void **state)
{
    (void)state;
    find("Live/b.mp3", ORDER_RULES_FOUND, 2);
    find("b.mp3", ORDER_RULES_FOUND, 2);
    find("Old/Deep/x.mp3", ORDER_RULES_FOUND, 4);
    find("a.mp3", ORDER_RULES_FOUND, 0);   /* a path below the folder beats a bare name */
    find("c.mp3", ORDER_RULES_MISSING, 0);
    find("Live/x.mp3", ORDER_RULES_MISSING, 0);
    find("live/b.mp3", ORDER_RULES_MISSING, 0);
}

static void an_ambiguous_bare_name_lists_every_candidate(void **state)
{
    (void)state;
    size_t idx;
    char why[256];
    assert_int_equal(order_rules_find(paths, NITEMS(paths), "x.mp3", &idx, why, sizeof why),
                     ORDER_RULES_AMBIGUOUS);
    assert_non_null(strstr(why, "Old/x.mp3"));
    assert_non_null(strstr(why, "Old/Deep/x.mp3"));
}

static void modes_parse_by_name(void **state)
{
    (void)state;
    enum order_rules_mode m;
    assert_int_equal(order_rules_mode_parse("shuffle", &m), 0);
    assert_int_equal(m, ORDER_RULES_SHUFFLE);
    assert_int_equal(order_rules_mode_parse("alphabetical", &m), 0);
    assert_int_equal(m, ORDER_RULES_ALPHABETICAL);
    assert_int_equal(order_rules_mode_parse("Shuffle", &m), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ordered_without_a_list_plays_the_folder_by_path_skipping_failures),
        cmocka_unit_test(ordered_list_plays_exactly_the_list_with_duplicates),
        cmocka_unit_test(missing_and_failed_list_entries_drop_out_and_the_rest_play),
        cmocka_unit_test(alphabetical_sorts_by_artist_then_title_falling_back_to_the_file_name),
        cmocka_unit_test(shuffle_is_a_permutation_of_the_playable_picks),
        cmocka_unit_test(shuffle_is_the_same_every_run_and_changes_with_the_seed),
        cmocka_unit_test(a_failing_file_does_not_reshuffle_the_rest),
        cmocka_unit_test(shuffle_keeps_list_duplicates),
        cmocka_unit_test(splitmix64_and_the_shuffle_match_known_answers),
        cmocka_unit_test(bounded_draws_reject_below_the_threshold),
        cmocka_unit_test(list_entries_are_paths_or_bare_names),
        cmocka_unit_test(an_ambiguous_bare_name_lists_every_candidate),
        cmocka_unit_test(modes_parse_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
