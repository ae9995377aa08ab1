#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static void fill(struct manifest *m, size_t ntracks)
{
    memset(m, 0, sizeof *m);
    m->enc = (struct manifest_encoding){48000, 2, 128000, 6.0, 1, -16, -1, "", 0.5};
    manifest_fingerprint(&m->enc, m->enc.fingerprint);
    m->playlist_options = strdup("{\"jingle_every\":4,\"mode\":\"ordered\"}");
    m->tracks = calloc(ntracks, sizeof *m->tracks);
    m->ntracks = ntracks;
    for (size_t i = 0; i < ntracks; i++) {
        struct manifest_track *t = &m->tracks[i];
        char id[64];
        /* Reverse order, to prove serialisation sorts. */
        snprintf(id, sizeof id, "track-%03zu", ntracks - i);
        t->id = strdup(id);
        t->kind = i == 0 ? MANIFEST_JINGLE : MANIFEST_MUSIC;
        t->source = strdup("Artist – Ünïcode name.flac");
        t->artist = strdup("Artist \"quoted\"");
        t->title = strdup("Title");
        t->source_size = 1234567;
        t->source_mtime_ns = 1700000000123456789LL;
        memset(t->source_sha256, 'a', 64);
        memcpy(t->fingerprint, m->enc.fingerprint, 65);
        t->normalized = i % 2;
        t->measured_lufs = -23.456789;
        t->measured_true_peak_dbtp = -0.5;
        t->gain_db = 7.456789;
        t->nsegs = 3;
        t->segs = calloc(3, sizeof *t->segs);
        int64_t total = 0;
        for (size_t s = 0; s < 3; s++) {
            char f[128];
            snprintf(f, sizeof f, "segments/%s/%zu.ts", id, s);
            t->segs[s].file = strdup(f);
            char data[48];
            snprintf(data, sizeof data, "%zu-%zu", i, s);
            cid_raw_from_bytes(data, strlen(data), t->segs[s].cid);
            t->segs[s].samples = s == 2 ? 1000 : (s ? 287744 : 288768);
            t->segs[s].duration = (double)t->segs[s].samples / 48000.0;
            t->segs[s].bytes = 100000 + (int64_t)s;
            total += t->segs[s].samples;
        }
        t->samples = total;
        t->duration = (double)total / 48000.0;
    }
}

static void manifest_round_trips_byte_identical(void **state)
{
    (void)state;
    struct manifest m;
    fill(&m, 5);
    char *a = manifest_to_json(&m);
    assert_non_null(a);
    struct manifest back;
    char err[512];
    if (manifest_parse(a, "t", &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(back.ntracks, 5);
    char *b = manifest_to_json(&back);
    assert_string_equal(a, b);
    const struct manifest_track *t = manifest_find(&back, "track-003");
    assert_non_null(t);
    assert_int_equal(t->nsegs, 3);
    assert_int_equal(t->segs[2].samples, 1000);
    assert_true(fabs(t->segs[0].duration - 288768 / 48000.0) < 1e-6);
    assert_string_equal(t->source, "Artist – Ünïcode name.flac");
    assert_string_equal(back.tracks[0].id, "track-001");
    free(a);
    free(b);
    manifest_free(&m);
    manifest_free(&back);
}

/* Every text jansson refuses fails the whole document: never a manifest
 * that silently lacks a track's title, source or skip reason. */
static void artwork_round_trips_and_older_manifests_stay_valid(void **state)
{
    (void)state;
    struct manifest m;
    fill(&m, 3);
    struct manifest_track *t = &m.tracks[1];
    t->nart = 2;
    t->art = calloc(2, sizeof *t->art);
    for (int i = 0; i < 2; i++) {
        t->art[i] = (struct manifest_artwork){.size = i ? 256 : 96, .width = i ? 256 : 96, .height = i ? 171 : 64,
                                              .bytes = 1000 + i, .file = strdup(i ? "artwork/b.jpg" : "artwork/a.jpg")};
        cid_raw_from_bytes(i ? "b" : "a", 1, t->art[i].cid);
    }
    t->art_src = (struct manifest_artwork_source){.known = 1, .from = "file", .path = strdup("Cover.JPG"),
                                                  .size = 48213, .mtime_ns = 1700000000000000001LL};
    memset(t->art_src.sha256, 'c', 64);
    memset(t->art_src.params, 'd', 64);
    m.tracks[2].art_src = (struct manifest_artwork_source){.known = 1, .from = "embedded",
                                                           .error = strdup("JPEG picture is truncated")};
    memset(m.tracks[2].art_src.params, 'd', 64);
    char *a = manifest_to_json(&m);
    assert_non_null(a);
    struct manifest back;
    char err[512];
    if (manifest_parse(a, "t", &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(back.art_invalid, 0);
    char *b = manifest_to_json(&back);
    assert_string_equal(a, b);
    const struct manifest_track *bt = manifest_find(&back, t->id);
    assert_int_equal(bt->nart, 2);
    assert_int_equal(bt->art[1].height, 171);
    assert_string_equal(bt->art_src.path, "Cover.JPG");
    assert_ptr_equal(manifest_artwork_pick(bt, 200), &bt->art[0]);
    assert_ptr_equal(manifest_artwork_pick(bt, 512), &bt->art[1]);
    assert_null(manifest_artwork_pick(bt, 50));
    assert_string_equal(manifest_find(&back, m.tracks[2].id)->art_src.error, "JPEG picture is truncated");
    /* A manifest from before artwork: no keys, no artwork, valid. */
    struct manifest old;
    fill(&old, 2);
    char *c = manifest_to_json(&old);
    assert_null(strstr(c, "artwork"));
    struct manifest oback;
    if (manifest_parse(c, "t", &oback, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(oback.tracks[1].nart, 0);
    assert_false(oback.tracks[1].art_src.known);
    free(a);
    free(b);
    free(c);
    manifest_free(&m);
    manifest_free(&back);
    manifest_free(&old);
    manifest_free(&oback);
}

static void text_that_is_not_utf8_fails_the_document(void **state)
{
    (void)state;
    static const char latin1[] = "caf\xe9";
    for (int field = 0; field < 4; field++) {
        struct manifest m;
        fill(&m, 2);
        char **slot = field == 0 ? &m.tracks[1].title : field == 1 ? &m.tracks[1].source
                    : field == 2 ? &m.tracks[0].artist : NULL;
        if (slot) {
            free(*slot);
            *slot = strdup(latin1);
        } else {
            assert_int_equal(manifest_add_skip(&m, MANIFEST_MUSIC, latin1, 1, 2, "bad"), 0);
        }
        assert_null(manifest_to_json(&m));
        manifest_free(&m);
    }
    struct manifest ok;
    fill(&ok, 2);
    ok.tracks[1].source_samples = 480000;
    char *text = manifest_to_json(&ok);
    assert_non_null(text);
    struct manifest back;
    char err[512];
    if (manifest_parse(text, "t", &back, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(back.tracks[0].source_samples + back.tracks[1].source_samples, 480000);
    assert_true(fabs(back.enc.min_tail_seconds - 0.5) < 1e-12);
    free(text);
    manifest_free(&back);
    manifest_free(&ok);
}

static void fingerprint_changes_with_each_encoding_parameter(void **state)
{
    (void)state;
    struct manifest_encoding base = {48000, 2, 128000, 6.0, 1, -16, -1, "", 0.5};
    char f0[65], f1[65];
    manifest_fingerprint(&base, f0);
    struct manifest_encoding e;
    e = base; e.sample_rate = 44100; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.channels = 1; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.bitrate = 96000; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.segment_seconds = 4; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.normalize = 0; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.target_lufs = -14; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    e = base; e.min_tail_seconds = 0; manifest_fingerprint(&e, f1); assert_string_not_equal(f0, f1);
    /* With normalisation off, the target cannot affect the bytes. */
    struct manifest_encoding off1 = base, off2 = base;
    off1.normalize = off2.normalize = 0;
    off2.target_lufs = -20;
    manifest_fingerprint(&off1, f0);
    manifest_fingerprint(&off2, f1);
    assert_string_equal(f0, f1);
}

static void expect_bad(const char *text, const char *needle)
{
    struct manifest m;
    char err[512] = "";
    assert_int_not_equal(manifest_parse(text, "bad.json", &m, err, sizeof err), 0);
    if (!strstr(err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void broken_manifests_are_refused_with_a_reason(void **state)
{
    (void)state;
    expect_bad("not json", "bad.json");
    expect_bad("{\"format\": \"other\"}", "not an");
    expect_bad("{\"format\": \"ipfs-radio-manifest\", \"version\": 99}", "version");
    struct manifest m;
    fill(&m, 1);
    char *good = manifest_to_json(&m);
    manifest_free(&m);
    /* A CID that is not one. */
    char *p = strdup(good);
    char *c = strstr(p, "\"cid\": \"b");
    assert_non_null(c);
    c[9] = '!';
    expect_bad(p, "cid");
    free(p);
    /* A segment path escaping processed/. */
    p = strdup(good);
    c = strstr(p, "segments/track");
    memcpy(c, "../../../etc/", 13);
    expect_bad(p, "inside");
    free(p);
    /* A bitrate that an int would truncate to 0. */
    c = strstr(good, "128000");
    assert_non_null(c);
    size_t at = (size_t)(c - good);
    p = malloc(strlen(good) + sizeof "4294967296");
    assert_non_null(p);
    snprintf(p, strlen(good) + sizeof "4294967296", "%.*s4294967296%s", (int)at, good, c + strlen("128000"));
    expect_bad(p, "bitrate");
    free(p);
    free(good);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(manifest_round_trips_byte_identical),
        cmocka_unit_test(artwork_round_trips_and_older_manifests_stay_valid),
        cmocka_unit_test(text_that_is_not_utf8_fails_the_document),
        cmocka_unit_test(fingerprint_changes_with_each_encoding_parameter),
        cmocka_unit_test(broken_manifests_are_refused_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
