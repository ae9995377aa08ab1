#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic.h"
#include "err.h"
#include "scan.h"

/* Only the names matter to the scan, so empty files stand in for audio. */
static char root[] = "/tmp/radio-scan-test-XXXXXX";

static void touch(const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static int make_tree(void **state)
{
    (void)state;
    if (!mkdtemp(root))
        return -1;
    touch("a.mp3");
    touch("b demo.wav");
    touch("notes.txt");
    touch("Live/c.flac");
    touch("Live/Drafts/d.mp3");
    touch("Old/e.ogg");
    touch("Old/f.wav");
    return 0;
}

static int remove_tree(void **state)
{
    (void)state;
    return fs_remove_tree(root, NULL, 0);
}

static void expect_scan(int recursive, const char *const *patterns, size_t npatterns, const char *want,
                        size_t want_excluded)
{
    static char *ext_v[] = {"mp3", "flac", "ogg", "wav"};
    const struct cfg_strlist exts = {ext_v, 4};
    const struct cfg_strlist exclude = {(char **)patterns, npatterns};
    const struct scan_opts opts = {.exts = &exts, .recursive = recursive, .exclude = &exclude};
    struct scan_list l = {0};
    int missing = 1;
    char err[ERR_MSG_MAX];
    assert_int_equal(scan_dir(root, MANIFEST_MUSIC, &opts, &l, &missing, err, sizeof err), 0);
    assert_int_equal(missing, 0);
    char got[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < l.n; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s", i ? "|" : "", l.v[i].relpath);
    if (strcmp(got, want) != 0 || l.excluded != want_excluded)
        fail_msg("got \"%s\" (%zu excluded), want \"%s\" (%zu)", got, l.excluded, want, want_excluded);
    scan_list_free(&l);
}

static void subfolders_are_scanned_by_default_in_path_order(void **state)
{
    (void)state;
    expect_scan(1, NULL, 0, "Live/Drafts/d.mp3|Live/c.flac|Old/e.ogg|Old/f.wav|a.mp3|b demo.wav", 0);
}

static void without_subdirectories_only_the_top_folder_counts(void **state)
{
    (void)state;
    expect_scan(0, NULL, 0, "a.mp3|b demo.wav", 0);
}

static void a_name_pattern_excludes_files_in_every_folder(void **state)
{
    (void)state;
    const char *p[] = {"*.wav"};
    expect_scan(1, p, 1, "Live/Drafts/d.mp3|Live/c.flac|Old/e.ogg|a.mp3", 2);
}

static void a_folder_pattern_excludes_the_folder_whole(void **state)
{
    (void)state;
    const char *p[] = {"Drafts", "Old"};
    expect_scan(1, p, 2, "Live/c.flac|a.mp3|b demo.wav", 2);
}

static void a_path_pattern_matches_below_the_root(void **state)
{
    (void)state;
    const char *p[] = {"Live/*", "*demo*"};
    expect_scan(1, p, 2, "Old/e.ogg|Old/f.wav|a.mp3", 3);
}

static void exclusion_reports_the_matching_pattern(void **state)
{
    (void)state;
    char *v[] = {"*.flac", "Live/*"};
    const struct cfg_strlist ex = {v, 2};
    assert_string_equal(scan_excluded("Live/c.mp3", &ex), "Live/*");
    assert_string_equal(scan_excluded("x/y.flac", &ex), "*.flac");
    assert_null(scan_excluded("Lively/c.mp3", &ex));
    assert_null(scan_excluded("c.mp3", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subfolders_are_scanned_by_default_in_path_order),
        cmocka_unit_test(without_subdirectories_only_the_top_folder_counts),
        cmocka_unit_test(a_name_pattern_excludes_files_in_every_folder),
        cmocka_unit_test(a_folder_pattern_excludes_the_folder_whole),
        cmocka_unit_test(a_path_pattern_matches_below_the_root),
        cmocka_unit_test(exclusion_reports_the_matching_pattern),
    };
    return cmocka_run_group_tests(tests, make_tree, remove_tree);
}
