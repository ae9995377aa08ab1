/* The running order read from processed/, which other programs rewrite while
 * the station is on air: whatever the files hold, order_load either builds
 * the order or refuses with a reason, and leaves an order that is safe to
 * free (the streamer's reload frees it on every refusal). */
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

#include "manifest.h"
#include "order.h"
#include "order_keep.h"

#define RATE 48000

struct dir {
    char path[256];
    char manifest[300];
    char playlist[300];
};

static void add_track(struct manifest *m, const char *id, int nsegs, int64_t samples)
{
    m->tracks = realloc(m->tracks, (m->ntracks + 1) * sizeof *m->tracks);
    struct manifest_track *t = &m->tracks[m->ntracks++];
    memset(t, 0, sizeof *t);
    t->id = strdup(id);
    t->artist = strdup("Artist");
    t->title = strdup(id);
    t->source = strdup(id);
    memset(t->source_sha256, 'a', 64);
    memcpy(t->fingerprint, m->enc.fingerprint, 65);
    t->nsegs = (size_t)nsegs;
    t->segs = calloc((size_t)nsegs, sizeof *t->segs);
    for (int i = 0; i < nsegs; i++) {
        char f[128], data[128];
        snprintf(f, sizeof f, "segments/%s/%d.ts", id, i);
        snprintf(data, sizeof data, "%s/%d", id, i);
        t->segs[i].file = strdup(f);
        cid_raw_from_bytes(data, strlen(data), t->segs[i].cid);
        t->segs[i].samples = samples;
        t->segs[i].duration = (double)samples / RATE;
        t->segs[i].bytes = 1000;
        t->samples += samples;
    }
    t->duration = (double)t->samples / RATE;
}

static char *manifest_text(int64_t samples)
{
    struct manifest m;
    memset(&m, 0, sizeof m);
    m.enc = (struct manifest_encoding){RATE, 2, 128000, 6.0, 0, -16, -1, "", 0.5};
    manifest_fingerprint(&m.enc, m.enc.fingerprint);
    add_track(&m, "j1", 1, samples);
    add_track(&m, "t1", 3, samples);
    char *text = manifest_to_json(&m);
    assert_non_null(text);
    manifest_free(&m);
    return text;
}

static const char GOOD_M3U[] = "#EXTM3U\n#EXTINF:6,j1\nj1\n#EXTINF:18,Artist - t1\nt1\n";

static void put(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void put_str(const char *path, const char *s) { put(path, s, strlen(s)); }

static int dir_setup(void **state)
{
    struct dir *d = calloc(1, sizeof *d);
    snprintf(d->path, sizeof d->path, "/tmp/order-load-XXXXXX");
    if (!mkdtemp(d->path))
        return -1;
    snprintf(d->manifest, sizeof d->manifest, "%s/manifest.json", d->path);
    snprintf(d->playlist, sizeof d->playlist, "%s/playlist.m3u", d->path);
    char *m = manifest_text(288000);
    put_str(d->manifest, m);
    free(m);
    put_str(d->playlist, GOOD_M3U);
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    struct dir *d = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    int ignored = system(cmd);
    (void)ignored;
    free(d);
    return 0;
}

/* The order starts as garbage, as an uninitialised local would: a refusal
 * must still leave it safe to free. */
static void expect_refused(const struct dir *d, const char *why_contains)
{
    struct order o;
    memset(&o, 0xA5, sizeof o);
    char err[512] = "";
    assert_int_equal(order_load(d->path, &o, NULL, err, sizeof err), -1);
    if (!strstr(err, why_contains))
        fail_msg("expected \"%s\" in \"%s\"", why_contains, err);
    assert_int_equal(o.n, 0);
    assert_null(o.segs);
    order_free(&o);
}

static void valid_files_load(void **state)
{
    struct dir *d = *state;
    struct order o;
    char err[512];
    if (order_load(d->path, &o, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(o.n, 4);
    assert_int_equal(o.ntracks, 2);
    order_free(&o);
}

static void add_art(struct manifest_track *t, int size, const char *seed)
{
    t->art = realloc(t->art, (t->nart + 1) * sizeof *t->art);
    struct manifest_artwork *a = &t->art[t->nart++];
    memset(a, 0, sizeof *a);
    a->size = a->width = a->height = size;
    a->bytes = 100;
    a->file = strdup("artwork/x.jpg");
    cid_raw_from_bytes(seed, strlen(seed), a->cid);
}

/* The rendering a playlist names is the largest up to ORDER_ARTWORK_MAX_PX;
 * a manifest without artwork, or a jingle, gives none. */
static void the_order_names_the_largest_artwork_up_to_the_limit(void **state)
{
    struct dir *d = *state;
    struct manifest m;
    memset(&m, 0, sizeof m);
    m.enc = (struct manifest_encoding){RATE, 2, 128000, 6.0, 0, -16, -1, "", 0.5};
    manifest_fingerprint(&m.enc, m.enc.fingerprint);
    add_track(&m, "j1", 1, 288000);
    m.tracks[0].kind = MANIFEST_JINGLE;
    add_art(&m.tracks[0], 256, "jingle");
    add_track(&m, "t1", 3, 288000);
    add_art(&m.tracks[1], 96, "small");
    add_art(&m.tracks[1], ORDER_ARTWORK_MAX_PX, "right");
    add_art(&m.tracks[1], ORDER_ARTWORK_MAX_PX + 1, "too big");
    char *text = manifest_to_json(&m);
    assert_non_null(text);
    put_str(d->manifest, text);
    free(text);
    char want[300];
    snprintf(want, sizeof want, "/ipfs/%s", m.tracks[1].art[1].cid);
    struct order o;
    char err[512];
    if (order_load(d->path, &o, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_null(o.tracks[0].artwork);
    assert_non_null(o.tracks[1].artwork);
    assert_string_equal(o.tracks[1].artwork, want);
    char with_art[65];
    memcpy(with_art, o.id, sizeof with_art);
    order_free(&o);
    /* Without artwork: a valid order, and another identity (a new picture airs from the next track). */
    text = manifest_text(288000);
    put_str(d->manifest, text);
    free(text);
    if (order_load(d->path, &o, NULL, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_null(o.tracks[1].artwork);
    assert_string_not_equal(o.id, with_art);
    order_free(&o);
    manifest_free(&m);
}

/* Artwork only decorates a track: entries that do not hold up are dropped
 * and counted, and the order still loads. */
static void invalid_artwork_does_not_refuse_the_order(void **state)
{
    struct dir *d = *state;
    char *text = manifest_text(288000);
    static const char *const bad[] = {
        "[{\"size\": 512, \"width\": 512, \"height\": 512, \"cid\": \"not a cid\", \"bytes\": 1, \"file\": \"a.jpg\"}]",
        "[{\"size\": 512, \"width\": 513, \"height\": 512, \"cid\": \"bafkreiaa42u3e6o6w3fq5tckqkdrdqv2abce2vccj7wtbs7qxzd4k3vsmu\", \"bytes\": 1, \"file\": \"a.jpg\"}]",
        "[{\"size\": 512, \"width\": 512, \"height\": 512, \"cid\": \"bafkreiaa42u3e6o6w3fq5tckqkdrdqv2abce2vccj7wtbs7qxzd4k3vsmu\", \"bytes\": 1, \"file\": \"../a.jpg\"}]",
        "{\"size\": 512}",
        "[1, \"x\", null]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Into track t1 (the tracks are sorted: j1, t1). */
        const char *t1 = strstr(text, "\"id\": \"t1\"");
        assert_non_null(t1);
        size_t at = (size_t)(t1 - text);
        char *doc = malloc(strlen(text) + strlen(bad[i]) + 32);
        snprintf(doc, strlen(text) + strlen(bad[i]) + 32, "%.*s\"artwork\": %s, %s", (int)at, text, bad[i], text + at);
        put_str(d->manifest, doc);
        struct manifest m;
        char err[512];
        if (manifest_parse(doc, "t", &m, err, sizeof err) != 0)
            fail_msg("%zu: %s", i, err);
        assert_true(m.art_invalid > 0);
        assert_int_equal(manifest_find(&m, "t1")->nart, 0);
        manifest_free(&m);
        struct order o;
        if (order_load(d->path, &o, NULL, err, sizeof err) != 0)
            fail_msg("%zu: %s", i, err);
        assert_null(o.tracks[1].artwork);
        order_free(&o);
        free(doc);
    }
    free(text);
}

static void missing_files_are_refused(void **state)
{
    struct dir *d = *state;
    assert_int_equal(unlink(d->playlist), 0);
    expect_refused(d, "playlist.m3u");
    assert_int_equal(unlink(d->manifest), 0);
    expect_refused(d, "manifest.json");
}

static void truncated_and_invalid_json_is_refused(void **state)
{
    struct dir *d = *state;
    char *m = manifest_text(288000);
    put(d->manifest, m, strlen(m) / 2);
    expect_refused(d, "manifest.json");
    put_str(d->manifest, "");
    expect_refused(d, "manifest.json");
    put_str(d->manifest, "[1, 2, 3]");
    expect_refused(d, "manifest.json");
    put_str(d->manifest, "{\"format\": \"ipfs-radio-manifest\", \"version\": 1}");
    expect_refused(d, "manifest.json");
    free(m);
}

static void invalid_utf8_is_refused(void **state)
{
    struct dir *d = *state;
    char *m = manifest_text(288000);
    char *t = strstr(m, "\"Artist\"");
    assert_non_null(t);
    t[1] = (char)0xC3; /* a lead byte followed by ASCII */
    put_str(d->manifest, m);
    expect_refused(d, "manifest.json");
    free(m);
}

static void a_playlist_the_manifest_disagrees_with_is_refused(void **state)
{
    struct dir *d = *state;
    put_str(d->playlist, "#EXTM3U\n#EXTINF:6,x\nno-such-track\n");
    expect_refused(d, "no-such-track");
    put_str(d->playlist, "#EXTM3U\n");
    expect_refused(d, "empty");
    put(d->playlist, "#EXTM3U\nj1\0\n", 11);
    expect_refused(d, "NUL");
    char *long_line = malloc(1u << 16);
    memset(long_line, 'x', (1u << 16) - 1);
    long_line[(1u << 16) - 1] = '\0';
    put_str(d->playlist, long_line);
    free(long_line);
    expect_refused(d, "longer");
}

static void sizes_beyond_the_bounds_are_refused(void **state)
{
    struct dir *d = *state;
    /* A segment of about three hours: its EXTINF would exceed any target. */
    char *m = manifest_text((int64_t)RATE * 10000);
    put_str(d->manifest, m);
    free(m);
    expect_refused(d, "samples");
}

static void files_that_are_not_regular_are_refused(void **state)
{
    struct dir *d = *state;
    assert_int_equal(unlink(d->manifest), 0);
    /* A FIFO would block the reload forever on open. */
    assert_int_equal(mkfifo(d->manifest, 0600), 0);
    expect_refused(d, "not a regular file");
    assert_int_equal(unlink(d->manifest), 0);
    assert_int_equal(mkdir(d->manifest, 0700), 0);
    expect_refused(d, "not a regular file");
}

static void a_huge_playlist_is_refused_without_reading_it_all(void **state)
{
    struct dir *d = *state;
    /* Sparse: larger than the bound, costing no disk. */
    FILE *f = fopen(d->playlist, "wb");
    assert_non_null(f);
    assert_int_equal(fseeko(f, (off_t)PLAYLIST_MAX_BYTES + 1, SEEK_SET), 0);
    fputc('\n', f);
    assert_int_equal(fclose(f), 0);
    expect_refused(d, "larger than");
}

/* The copy in the state directory gives back the same order, byte for
 * byte; a copy cut short or not a copy at all is refused, never half used. */
static void the_kept_copy_gives_back_the_same_order(void **state)
{
    struct dir *d = *state;
    struct order o, back;
    struct order_texts t, t2;
    char err[512], keep[400];
    int missing = 0;
    snprintf(keep, sizeof keep, "%s/last-order", d->path);
    assert_int_equal(order_keep_load(keep, &t2, &missing, err, sizeof err), -1);
    assert_true(missing);
    if (order_load(d->path, &o, &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    if (order_keep_save(keep, &t, err, sizeof err) != 0)
        fail_msg("%s", err);
    /* processed/ broken afterwards: the copy does not read it. */
    put_str(d->manifest, "{ not json");
    if (order_keep_load(keep, &t2, &missing, err, sizeof err) != 0 || order_parse(&t2, d->path, &back, err, sizeof err))
        fail_msg("%s", err);
    assert_string_equal(back.id, o.id);
    assert_int_equal(t2.manifest_len, t.manifest_len);
    assert_memory_equal(t2.playlist, t.playlist, t.playlist_len);
    order_free(&back);
    order_texts_free(&t2);

    FILE *f = fopen(keep, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 60), 0);
    fclose(f);
    assert_int_equal(order_keep_load(keep, &t2, &missing, err, sizeof err), -1);
    assert_false(missing);
    put_str(keep, "ipfs-radio-last-order 1\nmanifest 99999999999999999999\nplaylist 1\n");
    assert_int_equal(order_keep_load(keep, &t2, &missing, err, sizeof err), -1);
    put_str(keep, "something else 1\nmanifest 0\nplaylist 0\n");
    assert_int_equal(order_keep_load(keep, &t2, &missing, err, sizeof err), -1);
    order_free(&o);
    order_texts_free(&t);
}

/* The shortest playlist a window gives, wherever it falls in the loop:
 * a short jingle, then a track of three long segments. */
static void the_shortest_window_is_found_wherever_it_falls(void **state)
{
    (void)state;
    struct manifest m;
    memset(&m, 0, sizeof m);
    m.enc = (struct manifest_encoding){RATE, 2, 128000, 6.0, 0, -16, -1, "", 0.5};
    manifest_fingerprint(&m.enc, m.enc.fingerprint);
    add_track(&m, "j1", 1, RATE);
    add_track(&m, "t1", 3, 6 * RATE);
    manifest_sort(&m);
    struct playlist pl = {0};
    assert_int_equal(playlist_append(&pl, "j1", "", -1), 0);
    assert_int_equal(playlist_append(&pl, "t1", "", -1), 0);
    struct order o;
    char err[256];
    if (order_build(&m, &pl, &o, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(order_min_span(&o, 1), RATE);
    assert_int_equal(order_min_span(&o, 2), 7 * RATE);
    assert_int_equal(order_min_span(&o, 3), 13 * RATE);
    /* Across the loop's end: t1's last two, j1, t1's first. */
    assert_int_equal(order_min_span(&o, 4), 19 * RATE);
    assert_int_equal(order_min_span(&o, 5), 20 * RATE);
    order_free(&o);
    playlist_free(&pl);
    manifest_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(valid_files_load, dir_setup, dir_teardown),
        cmocka_unit_test(the_shortest_window_is_found_wherever_it_falls),
        cmocka_unit_test_setup_teardown(the_kept_copy_gives_back_the_same_order, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(the_order_names_the_largest_artwork_up_to_the_limit, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(invalid_artwork_does_not_refuse_the_order, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(missing_files_are_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(truncated_and_invalid_json_is_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(invalid_utf8_is_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(a_playlist_the_manifest_disagrees_with_is_refused, dir_setup,
                                        dir_teardown),
        cmocka_unit_test_setup_teardown(sizes_beyond_the_bounds_are_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(files_that_are_not_regular_are_refused, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(a_huge_playlist_is_refused_without_reading_it_all, dir_setup,
                                        dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
