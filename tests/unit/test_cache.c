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
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "cache.h"

struct fx {
    char dir[256];
    char src[512];
    struct scan_file file;
    struct manifest_track track;
    struct manifest_segment segs[2];
    char fp[65];
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void restat(struct fx *x)
{
    struct stat st;
    assert_int_equal(stat(x->src, &st), 0);
    x->file.size = st.st_size;
    x->file.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

static int setup(void **state)
{
    struct fx *x = calloc(1, sizeof *x);
    snprintf(x->dir, sizeof x->dir, "/tmp/radio-cache-XXXXXX");
    assert_non_null(mkdtemp(x->dir));
    snprintf(x->src, sizeof x->src, "%s/song.mp3", x->dir);
    write_file(x->src, "original audio bytes");
    char segdir[600];
    snprintf(segdir, sizeof segdir, "%s/segments/song", x->dir);
    assert_int_equal(fs_mkdirs(segdir, NULL, 0), 0);
    for (int i = 0; i < 2; i++) {
        char p[700];
        snprintf(p, sizeof p, "%s/%d.ts", segdir, i);
        write_file(p, i ? "segment one" : "segment zero");
        x->segs[i].file = i ? "segments/song/1.ts" : "segments/song/0.ts";
        x->segs[i].bytes = i ? 11 : 12;
    }
    x->file.path = x->src;
    x->file.relpath = "song.mp3";
    restat(x);
    struct manifest_encoding e = {48000, 2, 128000, 6, 1, -16, -1, "", 0.5};
    manifest_fingerprint(&e, x->fp);
    memcpy(x->track.fingerprint, x->fp, 65);
    x->track.source_size = x->file.size;
    x->track.source_mtime_ns = x->file.mtime_ns;
    assert_int_equal(scan_hash_file(x->src, x->track.source_sha256, NULL, 0), 0);
    x->track.segs = x->segs;
    x->track.nsegs = 2;
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    struct fx *x = *state;
    fs_remove_tree(x->dir, NULL, 0);
    free(x);
    return 0;
}

static enum cache_verdict check(struct fx *x, const struct manifest_track *old, struct cache_decision *d)
{
    cache_check(old, &x->file, x->fp, x->dir, d);
    return d->verdict;
}

static void unchanged_track_is_fresh_without_hashing(void **state)
{
    struct fx *x = *state;
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_FRESH);
    assert_false(d.hashed);
}

static void unknown_source_is_new(void **state)
{
    struct fx *x = *state;
    struct cache_decision d;
    assert_int_equal(check(x, NULL, &d), CACHE_NEW);
}

static void touched_but_identical_source_stays_fresh(void **state)
{
    struct fx *x = *state;
    x->file.mtime_ns += 5000000000LL;
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_FRESH);
    assert_true(d.hashed);
    assert_string_equal(d.sha256, x->track.source_sha256);
}

static void edited_source_is_stale(void **state)
{
    struct fx *x = *state;
    write_file(x->src, "original audio bytez");
    restat(x);
    x->file.mtime_ns += 1; /* same size, new content */
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_SOURCE_CHANGED);
}

static void changed_encoding_is_stale(void **state)
{
    struct fx *x = *state;
    struct manifest_encoding e = {48000, 2, 192000, 6, 1, -16, -1, "", 0.5};
    manifest_fingerprint(&e, x->fp);
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_ENCODING_CHANGED);
}

static void missing_segment_is_stale(void **state)
{
    struct fx *x = *state;
    char p[700];
    snprintf(p, sizeof p, "%s/segments/song/1.ts", x->dir);
    unlink(p);
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_SEGMENT_MISSING);
    assert_string_equal(d.detail, "segments/song/1.ts");
}

static void truncated_segment_is_stale(void **state)
{
    struct fx *x = *state;
    char p[700];
    snprintf(p, sizeof p, "%s/segments/song/0.ts", x->dir);
    write_file(p, "short");
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_SEGMENT_SIZE);
}

static void vanished_source_with_new_stat_is_unreadable(void **state)
{
    struct fx *x = *state;
    unlink(x->src);
    x->file.size += 1;
    struct cache_decision d;
    assert_int_equal(check(x, &x->track, &d), CACHE_UNREADABLE);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unchanged_track_is_fresh_without_hashing, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_source_is_new, setup, teardown),
        cmocka_unit_test_setup_teardown(touched_but_identical_source_stays_fresh, setup, teardown),
        cmocka_unit_test_setup_teardown(edited_source_is_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(changed_encoding_is_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_segment_is_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(truncated_segment_is_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(vanished_source_with_new_stat_is_unreadable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
