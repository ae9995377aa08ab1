/* The live playlist renderer must be safe whatever the manifest's titles
 * hold: RFC 8216 forbids control characters in a playlist, and hls.js ends
 * a line at U+2028 and U+2029 too, so a title could otherwise end the
 * stream (#EXT-X-ENDLIST) or insert a segment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m3u8.h"

static const char *const HOSTILE[] = {
    "Artist - Title\n#EXT-X-ENDLIST",
    "Artist - Title\r\n/ipfs/bafkreievil",
    "Artist \xE2\x80\xA8#EXT-X-ENDLIST",                 /* U+2028 LINE SEPARATOR */
    "Artist \xE2\x80\xA9#EXTINF:1,\xE2\x80\xA9/ipfs/x",   /* U+2029 PARAGRAPH SEPARATOR */
    "Artist \xC2\x85#EXT-X-ENDLIST",                     /* U+0085 NEXT LINE */
    "Bell \x07 tab \t escape \x1B[31m delete \x7F",
    "Lone lead byte \xC3 and continuation \x80 alone",
    "Overlong slash \xC0\xAF and surrogate \xED\xA0\x80 and beyond \xF4\x90\x80\x80",
    "BOM \xEF\xBB\xBF inside",
    "Fine: Ünïcödé, 日本語, 🎵 and a comma, too",
};
#define NHOSTILE (sizeof HOSTILE / sizeof *HOSTILE)

/* The text comes back through the caller's pointer: returning a local that
 * m3u8_render wrote through made gcc 12 at -O3 (inlined) warn that the text
 * might point at that dead local (-Wdangling-pointer). */
static void render_titles(const char *const *titles, size_t n, char **out, size_t *len)
{
    struct m3u8_playlist pl = {0};
    pl.target_duration = 6;
    pl.media_sequence = 100;
    pl.segs = calloc(n, sizeof *pl.segs);
    pl.nsegs = n;
    for (size_t i = 0; i < n; i++) {
        char uri[64];
        snprintf(uri, sizeof uri, "/ipfs/seg%zu?filename=segment.ts", i);
        pl.segs[i].seq = 100 + (int64_t)i;
        pl.segs[i].duration = 6.016;
        pl.segs[i].pdt = 1.8e9 + 6.0 * (double)i;
        pl.segs[i].uri = strdup(uri);
        pl.segs[i].title = strdup(titles[i]);
    }
    assert_int_equal(m3u8_render(&pl, out, len), 0);
    m3u8_free(&pl);
}

/* An independent reading of "valid UTF-8": glibc's iconv. */
static int valid_utf8(const char *s, size_t len)
{
    iconv_t cd = iconv_open("UTF-8", "UTF-8");
    assert_true(cd != (iconv_t)-1);
    char *in = (char *)s, *outbuf = malloc(len * 4 + 16), *o = outbuf;
    size_t inleft = len, outleft = len * 4 + 16;
    size_t r = iconv(cd, &in, &inleft, &o, &outleft);
    iconv_close(cd);
    free(outbuf);
    return r != (size_t)-1 && inleft == 0;
}

static void hostile_titles_stay_one_line_of_valid_text(void **state)
{
    (void)state;
    size_t len;
    char *text = NULL;
    render_titles(HOSTILE, NHOSTILE, &text, &len);
    assert_true(valid_utf8(text, len));
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7F)
            fail_msg("control byte 0x%02x at %zu", c, i);
    }
    assert_null(strstr(text, "\xE2\x80\xA8"));
    assert_null(strstr(text, "\xE2\x80\xA9"));
    assert_null(strstr(text, "\xC2\x85"));
    assert_null(strstr(text, "\xEF\xBB\xBF"));
    assert_null(strstr(text, "\n#EXT-X-ENDLIST"));
    /* Header (5 lines) + 3 per segment, each ending in LF. */
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 5 + 3 * NHOSTILE);
    struct m3u8_playlist back;
    char err[256];
    if (m3u8_parse(text, len, &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(back.nsegs, NHOSTILE);
    assert_false(back.endlist);
    for (size_t i = 0; i < back.nsegs; i++)
        assert_int_equal(back.segs[i].seq, 100 + (int64_t)i);
    /* What was safe is kept as it was. */
    assert_string_equal(back.segs[NHOSTILE - 1].title, HOSTILE[NHOSTILE - 1]);
    assert_non_null(strstr(back.segs[0].title, "Artist - Title"));
    m3u8_free(&back);
    free(text);
}

static void a_long_title_is_cut_at_a_character_boundary(void **state)
{
    (void)state;
    size_t n = M3U8_MAX_LINE * 2;
    char *t = malloc(n * 4 + 1);
    /* Four-byte characters: a cut at a byte count splits one. */
    for (size_t i = 0; i < n; i++)
        memcpy(t + 4 * i, "\xF0\x9F\x8E\xB5", 4);
    t[4 * n] = '\0';
    const char *titles[] = {t};
    size_t len;
    char *text = NULL;
    render_titles(titles, 1, &text, &len);
    assert_true(valid_utf8(text, len));
    const char *extinf = strstr(text, "#EXTINF:");
    assert_non_null(extinf);
    assert_true((size_t)(strchr(extinf, '\n') - extinf) < M3U8_MAX_LINE);
    free(text);
    free(t);
}

/* Players that honour EXT-X-START begin listen_delay behind the newest
 * segment; without a delay the tag is left out. */
static void the_listen_delay_is_published_as_ext_x_start(void **state)
{
    (void)state;
    struct m3u8_segment seg = {.seq = 7, .duration = 6.0, .uri = "/ipfs/bafkreiexample", .title = "A - T",
                               .pdt = 1.8e9};
    struct m3u8_playlist pl = {.target_duration = 6, .media_sequence = 7, .segs = &seg, .nsegs = 1};
    char *out;
    size_t len;
    assert_int_equal(m3u8_render(&pl, &out, &len), 0);
    assert_null(strstr(out, "#EXT-X-START"));
    free(out);
    pl.has_start = 1;
    pl.start_offset = -60;
    assert_int_equal(m3u8_render(&pl, &out, &len), 0);
    const char *tag = strstr(out, "#EXT-X-START:TIME-OFFSET=-60.000\n");
    assert_non_null(tag);
    assert_true(tag < strstr(out, "#EXTINF")); /* a playlist tag, before the first segment */
    struct m3u8_playlist back;
    char err[256];
    assert_int_equal(m3u8_parse(out, len, &back, err, sizeof err), 0);
    assert_true(back.has_start);
    assert_true(back.start_offset == -60);
    m3u8_free(&back);
    free(out);
    /* What other servers write: more attributes, in any order; a missing
     * offset is an error, not a silent start at 0. */
    static const char other[] = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-START:PRECISE=YES,TIME-OFFSET=-12.5\n"
                                "#EXTINF:6,\n/ipfs/x\n";
    assert_int_equal(m3u8_parse(other, sizeof other - 1, &back, err, sizeof err), 0);
    assert_true(back.has_start && back.start_offset == -12.5);
    m3u8_free(&back);
    static const char bad[] = "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-START:PRECISE=YES\n#EXTINF:6,\n/ipfs/x\n";
    assert_int_not_equal(m3u8_parse(bad, sizeof bad - 1, &back, err, sizeof err), 0);
}

/* One EXT-X-DATERANGE per track: an ID from its first sequence number, its
 * air time and whole length, and a title that cannot end the quoted value
 * or the line, whatever the manifest says. */
static void tracks_are_rendered_as_dateranges(void **state)
{
    (void)state;
    struct m3u8_segment seg = {.seq = 7, .duration = 6.0, .uri = "/ipfs/bafkreiexample", .title = "A - T",
                               .pdt = 1.8e9};
    struct m3u8_daterange r = {.first_seq = 7, .start = 1.8e9, .duration = 183.25,
                               .title = "Say \"Hi\"\r\n#EXT-X-ENDLIST"};
    struct m3u8_playlist pl = {.target_duration = 6, .media_sequence = 7, .segs = &seg, .nsegs = 1,
                               .ranges = &r, .nranges = 1};
    char *out;
    size_t len;
    assert_int_equal(m3u8_render(&pl, &out, &len), 0);
    const char *want = "#EXT-X-DATERANGE:ID=\"track-7\",CLASS=\"" M3U8_TRACK_CLASS "\","
                       "START-DATE=\"2027-01-15T08:00:00.000Z\",DURATION=183.250,X-TITLE=\"Say 'Hi'  #EXT-X-ENDLIST\"\n";
    if (!strstr(out, want))
        fail_msg("no %s in\n%s", want, out);
    /* The title's CR LF did not start a line of its own. */
    assert_null(strstr(out, "\n#EXT-X-ENDLIST"));
    assert_true(strstr(out, "#EXT-X-DATERANGE") < strstr(out, "#EXTINF"));
    free(out);
}

/* The track's artwork as X-ARTWORK after its title; a value that could end
 * the quoted string or the line is left out, never written. */
static void artwork_is_an_attribute_of_the_track_range(void **state)
{
    (void)state;
    struct m3u8_segment seg = {.seq = 7, .duration = 6.0, .uri = "/ipfs/bafkreiexample", .title = "A - T",
                               .pdt = 1.8e9};
    struct m3u8_daterange r[3] = {
        {.first_seq = 7, .start = 1.8e9, .duration = 6, .title = "A", .artwork = "/ipfs/bafkreiart"},
        {.first_seq = 8, .start = 1.8e9 + 6, .duration = 6, .title = "B", .artwork = "/ipfs/x\",X-EVIL=\"1"},
        {.first_seq = 9, .start = 1.8e9 + 12, .duration = 6, .title = "C", .artwork = "/ipfs/x\n#EXT-X-ENDLIST"},
    };
    struct m3u8_playlist pl = {.target_duration = 6, .media_sequence = 7, .segs = &seg, .nsegs = 1,
                               .ranges = r, .nranges = 3};
    char *out;
    size_t len;
    assert_int_equal(m3u8_render(&pl, &out, &len), 0);
    if (!strstr(out, "DURATION=6.000,X-TITLE=\"A\",X-ARTWORK=\"/ipfs/bafkreiart\"\n"))
        fail_msg("no X-ARTWORK for A in\n%s", out);
    assert_non_null(strstr(out, "X-TITLE=\"B\"\n"));
    assert_non_null(strstr(out, "X-TITLE=\"C\"\n"));
    assert_null(strstr(out, "X-EVIL"));
    assert_null(strstr(out, "\n#EXT-X-ENDLIST"));
    free(out);
}

/* Parsing reads a track range's ID and X-ARTWORK back and nothing it
 * cannot trust: other ranges, broken tags and unsafe values are ignored. */
static void track_artwork_is_read_back(void **state)
{
    (void)state;
    static const char text[] =
        "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n"
        "#EXT-X-DATERANGE:ID=\"track-7\",CLASS=\"org.ipfs-radio.track\",X-TITLE=\"a, X-ARTWORK=b\",X-ARTWORK=\"/ipfs/bafyone\"\n"
        "#EXT-X-DATERANGE:ID=\"ad-1\",X-ARTWORK=\"/ipfs/bafyad\"\n"
        "#EXT-X-DATERANGE:ID=\"track-8\",X-ARTWORK=\"https://evil/x\"\n"
        "#EXT-X-DATERANGE:ID=\"track-9\",X-ARTWORK=\"/ipfs/unterminated\n"
        "#EXT-X-DATERANGE:ID=track-10,X-ARTWORK=\"/ipfs/bafyten\"\n"
        "#EXT-X-DATERANGE:garbage\n"
        "#EXTINF:6,\n/ipfs/bafyseg\n";
    struct m3u8_playlist pl;
    char err[256];
    if (m3u8_parse(text, sizeof text - 1, &pl, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(pl.nsegs, 1);
    assert_int_equal(pl.nranges, 2);
    assert_int_equal(pl.ranges[0].first_seq, 7);
    assert_string_equal(pl.ranges[0].artwork, "/ipfs/bafyone");
    assert_int_equal(pl.ranges[1].first_seq, 10);
    assert_string_equal(pl.ranges[1].artwork, "/ipfs/bafyten");
    m3u8_free(&pl);
}

/* The next track: one tag of its own class, its ID from its first sequence
 * number, after the tracks' tags and before the segments. */
static void the_next_track_is_rendered_as_its_own_daterange(void **state)
{
    (void)state;
    struct m3u8_segment seg = {.seq = 7, .duration = 6.0, .uri = "/ipfs/bafkreiexample", .title = "A - T",
                               .pdt = 1.8e9};
    struct m3u8_daterange r = {.first_seq = 7, .start = 1.8e9, .duration = 183.25, .title = "A - T"};
    struct m3u8_daterange nx = {.first_seq = 38, .start = 1.8e9 + 183.25, .duration = 60, .title = "B \"x\""};
    struct m3u8_playlist pl = {.target_duration = 6, .media_sequence = 7, .segs = &seg, .nsegs = 1,
                               .ranges = &r, .nranges = 1, .next = &nx};
    char *out;
    size_t len;
    assert_int_equal(m3u8_render(&pl, &out, &len), 0);
    const char *want = "#EXT-X-DATERANGE:ID=\"next-38\",CLASS=\"" M3U8_NEXT_CLASS "\","
                       "START-DATE=\"2027-01-15T08:03:03.250Z\",DURATION=60.000,X-TITLE=\"B 'x'\"\n";
    const char *at = strstr(out, want);
    if (!at)
        fail_msg("no %s in\n%s", want, out);
    assert_true(strstr(out, "ID=\"track-7\"") < at);
    assert_true(at < strstr(out, "#EXTINF"));
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_titles_stay_one_line_of_valid_text),
        cmocka_unit_test(a_long_title_is_cut_at_a_character_boundary),
        cmocka_unit_test(the_listen_delay_is_published_as_ext_x_start),
        cmocka_unit_test(tracks_are_rendered_as_dateranges),
        cmocka_unit_test(artwork_is_an_attribute_of_the_track_range),
        cmocka_unit_test(track_artwork_is_read_back),
        cmocka_unit_test(the_next_track_is_rendered_as_its_own_daterange),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
