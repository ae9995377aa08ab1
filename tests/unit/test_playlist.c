#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playlist.h"

/* Renders an order as "J1 0 1 J2 2 3" for readable expectations. */
static void render(size_t nm, size_t nj, int every, char *out, size_t outlen)
{
    long n = playlist_interleave(nm, nj, every, NULL, 0);
    assert_true(n >= 0);
    long *order = calloc((size_t)n + 1, sizeof *order);
    assert_int_equal(playlist_interleave(nm, nj, every, order, (size_t)n), n);
    size_t o = 0;
    out[0] = '\0';
    for (long i = 0; i < n; i++) {
        if (order[i] < 0)
            o += (size_t)snprintf(out + o, outlen - o, "%sJ%ld", i ? " " : "", -order[i]);
        else
            o += (size_t)snprintf(out + o, outlen - o, "%s%ld", i ? " " : "", order[i]);
    }
    free(order);
}

static void expect_order(size_t nm, size_t nj, int every, const char *want)
{
    char got[1024];
    render(nm, nj, every, got, sizeof got);
    if (strcmp(got, want) != 0)
        fail_msg("music=%zu jingles=%zu N=%d: got \"%s\", want \"%s\"", nm, nj, every, got, want);
}

static void no_jingles_means_music_only(void **state)
{
    (void)state;
    expect_order(3, 0, 2, "0 1 2");
}

static void one_jingle_opens_every_group(void **state)
{
    (void)state;
    expect_order(5, 1, 2, "J1 0 1 J1 2 3 J1 4");
}

static void two_jingles_alternate(void **state)
{
    (void)state;
    expect_order(6, 2, 2, "J1 0 1 J2 2 3 J1 4 5");
}

static void three_jingles_rotate_in_order(void **state)
{
    (void)state;
    expect_order(6, 3, 1, "J1 0 J2 1 J3 2 J1 3 J2 4 J3 5");
}

static void every_n_from_1_to_5_keeps_all_music_once_in_order(void **state)
{
    (void)state;
    for (int every = 1; every <= 5; every++) {
        for (size_t nj = 0; nj <= 3; nj++) {
            size_t nm = 11;
            long n = playlist_interleave(nm, nj, every, NULL, 0);
            long *order = calloc((size_t)n, sizeof *order);
            playlist_interleave(nm, nj, every, order, (size_t)n);
            assert_true(nj == 0 || order[0] < 0); /* a jingle first */
            long next = 0, run = 0, jingle = 0;
            for (long i = 0; i < n; i++) {
                if (order[i] < 0) {
                    assert_int_equal(-order[i] - 1, jingle % (long)nj);
                    jingle++;
                    assert_true(i == 0 || run == every);
                    run = 0;
                } else {
                    assert_int_equal(order[i], next++);
                    run++;
                }
            }
            assert_int_equal(next, (long)nm);
            free(order);
        }
    }
}

static void fewer_tracks_than_n_still_airs_every_jingle(void **state)
{
    (void)state;
    expect_order(3, 1, 5, "J1 0 1 2");
    expect_order(3, 2, 5, "J1 0 1 2 J2 0 1 2");
    expect_order(1, 3, 4, "J1 0 J2 0 J3 0");
}

static void too_small_buffer_is_refused(void **state)
{
    (void)state;
    long order[3];
    assert_int_equal(playlist_interleave(5, 1, 2, order, 3), -1);
}

static void m3u_round_trips(void **state)
{
    (void)state;
    struct playlist pl = {0};
    assert_int_equal(playlist_append(&pl, "jingle-id-1234", "Station ID", 4.5), 0);
    assert_int_equal(playlist_append(&pl, "song-abcd", "Björk - Jóga, live", 301.123), 0);
    char *text = playlist_to_m3u(&pl);
    assert_non_null(text);
    assert_string_equal(text, "#EXTM3U\n#EXTINF:4.500,Station ID\njingle-id-1234\n"
                              "#EXTINF:301.123,Björk - Jóga, live\nsong-abcd\n");
    struct playlist back;
    char err[256];
    assert_int_equal(playlist_parse(text, strlen(text), "t", &back, err, sizeof err), 0);
    assert_int_equal(back.n, 2);
    assert_string_equal(back.v[1].id, "song-abcd");
    assert_string_equal(back.v[1].label, "Björk - Jóga, live");
    assert_true(back.v[1].duration > 301.12 && back.v[1].duration < 301.13);
    free(text);
    playlist_free(&pl);
    playlist_free(&back);
}

static void parser_accepts_crlf_bom_blank_lines_and_plain_m3u(void **state)
{
    (void)state;
    const char *text = "\xEF\xBB\xBF#EXTM3U\r\n\r\n#EXTINF:1.0,A\r\nid-a\r\n# a comment\r\nid-b\r\n  \r\nid-c";
    struct playlist pl;
    char err[256];
    assert_int_equal(playlist_parse(text, strlen(text), "t", &pl, err, sizeof err), 0);
    assert_int_equal(pl.n, 3);
    assert_string_equal(pl.v[0].id, "id-a");
    assert_string_equal(pl.v[0].label, "A");
    assert_string_equal(pl.v[1].id, "id-b");
    assert_true(pl.v[1].duration < 0);
    assert_string_equal(pl.v[2].id, "id-c");
    playlist_free(&pl);
}

static void parser_refuses_overlong_lines_and_nul_bytes(void **state)
{
    (void)state;
    size_t len = PLAYLIST_MAX_LINE + 10;
    char *text = malloc(len);
    memset(text, 'x', len);
    struct playlist pl;
    char err[256];
    assert_int_not_equal(playlist_parse(text, len, "t", &pl, err, sizeof err), 0);
    assert_non_null(strstr(err, "line 1"));
    const char nul[] = "#EXTM3U\nab\0cd\n";
    assert_int_not_equal(playlist_parse(nul, sizeof nul - 1, "t", &pl, err, sizeof err), 0);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_jingles_means_music_only),
        cmocka_unit_test(one_jingle_opens_every_group),
        cmocka_unit_test(two_jingles_alternate),
        cmocka_unit_test(three_jingles_rotate_in_order),
        cmocka_unit_test(every_n_from_1_to_5_keeps_all_music_once_in_order),
        cmocka_unit_test(fewer_tracks_than_n_still_airs_every_jingle),
        cmocka_unit_test(too_small_buffer_is_refused),
        cmocka_unit_test(m3u_round_trips),
        cmocka_unit_test(parser_accepts_crlf_bom_blank_lines_and_plain_m3u),
        cmocka_unit_test(parser_refuses_overlong_lines_and_nul_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
