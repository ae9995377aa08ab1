#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tz.h"

/* The oracle is glibc's own TZif and TZ-string reader, driven the only way
 * it can be: through the process-global TZ, which is fine in this test. */

#define ZONEINFO TZ_DIR_DEFAULT
#define T_1900 INT64_C(-2208988800)
#define T_2200 INT64_C(7258118400)
#define T_2038 INT64_C(2145916800)
#define RANDOM_PER_ZONE 400
#define MAX_ZONES 4096

static uint64_t rng_state;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static int64_t rng_instant(void)
{
    return T_1900 + (int64_t)(rng_next() % (uint64_t)(T_2200 - T_1900));
}

/* glibc applies a TZ string's rule to years before 1970 as if they were
 * 1970 (compute_change in its tzset.c), so rules are compared from 1971. */
#define T_1971 INT64_C(31536000)

static int64_t rng_instant_from(int64_t from)
{
    return from + (int64_t)(rng_next() % (uint64_t)(T_2200 - from));
}

static void oracle_zone(const char *tzvalue)
{
    assert_int_equal(setenv("TZ", tzvalue, 1), 0);
    tzset();
}

static void oracle_tm(int64_t t, struct tm *tm)
{
    time_t tt = (time_t)t;
    assert_non_null(localtime_r(&tt, tm));
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
                    .tm_hour = h, .tm_min = mi, .tm_sec = s};
    return (int64_t)timegm(&tm);
}

/* Returns 0 when tz_local agrees with glibc at t, else prints why. */
static int compare_at(const struct tz *z, const char *name, int64_t t)
{
    struct tm tm;
    oracle_tm(t, &tm);
    struct tz_local l;
    tz_local(z, t, &l);
    int64_t local_days = utc(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, 0) / 86400;
    int ok = tz_offset(z, t) == tm.tm_gmtoff && l.offset == tm.tm_gmtoff && l.t == t &&
             l.year == tm.tm_year + 1900 && l.month == tm.tm_mon + 1 && l.day == tm.tm_mday &&
             l.hour == tm.tm_hour && l.minute == tm.tm_min && l.second == tm.tm_sec &&
             l.weekday == (tm.tm_wday + 6) % 7 &&
             l.seconds_of_day == tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec &&
             l.local_days == local_days;
    if (!ok)
        print_error("%s at %lld: ours %+d %04d-%02d-%02d %02d:%02d:%02d wd%d days %lld; "
                    "glibc %+ld %04d-%02d-%02d %02d:%02d:%02d wd%d days %lld\n",
                    name, (long long)t, (int)l.offset, l.year, l.month, l.day, l.hour, l.minute,
                    l.second, l.weekday, (long long)l.local_days, (long)tm.tm_gmtoff,
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, (tm.tm_wday + 6) % 7, (long long)local_days);
    return ok ? 0 : -1;
}

/* ---- every installed zone against glibc ---- */

struct zone_list {
    char *names[MAX_ZONES];
    size_t n;
};

static int is_tzif(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return 0;
    char magic[4];
    int ok = fread(magic, 1, 4, f) == 4 && memcmp(magic, "TZif", 4) == 0;
    fclose(f);
    return ok;
}

static void collect(struct zone_list *zl, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", ZONEINFO, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[1024], full[4096];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", ZONEINFO, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        /* right/ counts leap seconds (refused, checked below); localtime
         * is this machine's setting, whatever it is. */
        if (strcmp(sub, "right") == 0 || strcmp(sub, "localtime") == 0)
            continue;
        if (S_ISDIR(st.st_mode))
            collect(zl, sub);
        else if (S_ISREG(st.st_mode) && is_tzif(full)) {
            assert_true(zl->n < MAX_ZONES);
            zl->names[zl->n++] = strdup(sub);
        }
    }
    closedir(d);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void every_installed_zone_matches_glibc_1900_to_2200(void **state)
{
    (void)state;
    static struct zone_list zl;
    collect(&zl, "");
    qsort(zl.names, zl.n, sizeof zl.names[0], cmp_names);
    /* Every zone tzdata lists as current must be among those compared. */
    FILE *tab = fopen(ZONEINFO "/zone1970.tab", "r");
    assert_non_null(tab);
    char line[1024];
    size_t listed = 0;
    while (fgets(line, sizeof line, tab) != NULL) {
        if (line[0] == '#')
            continue;
        char *save = NULL, *name = strtok_r(line, "\t\n", &save);
        for (int field = 0; field < 2 && name != NULL; field++)
            name = strtok_r(NULL, "\t\n", &save);
        assert_non_null(name);
        if (bsearch(&name, zl.names, zl.n, sizeof zl.names[0], cmp_names) == NULL)
            fail_msg("%s (zone1970.tab) not found under %s", name, ZONEINFO);
        listed++;
    }
    fclose(tab);
    assert_true(listed > 300);
    unsetenv("TZDIR");
    rng_state = 1;
    int bad = 0;
    size_t checked = 0;
    for (size_t i = 0; i < zl.n; i++) {
        char err[512] = "";
        struct tz *z = NULL;
        if (tz_load(zl.names[i], &z, err, sizeof err) != 0) {
            print_error("%s: %s\n", zl.names[i], err);
            bad++;
            free(zl.names[i]);
            continue;
        }
        assert_string_equal(tz_name(z), zl.names[i]);
        char tzv[1100];
        snprintf(tzv, sizeof tzv, ":%s", zl.names[i]);
        oracle_zone(tzv);
        int zone_bad = 0;
        for (int k = 0; k < RANDOM_PER_ZONE && zone_bad < 3; k++) {
            int64_t t = rng_instant();
            /* Half of them after 2037, where the footer's rule decides. */
            if (k % 2)
                t = T_2038 + (int64_t)(rng_next() % (uint64_t)(T_2200 - T_2038));
            zone_bad += compare_at(z, zl.names[i], t) != 0;
            checked++;
        }
        const int64_t *times;
        size_t n = tz_transitions(z, &times);
        for (size_t j = 0; j < n && zone_bad < 3; j++)
            for (int64_t d = -1; d <= 1; d++) {
                zone_bad += compare_at(z, zl.names[i], times[j] + d) != 0;
                checked++;
            }
        bad += zone_bad;
        tz_free(z);
        free(zl.names[i]);
    }
    print_message("%zu zones, %zu instants compared with glibc\n", zl.n, checked);
    assert_int_equal(bad, 0);
}

/* The footer's rules decide after the file's last transition: each change
 * from 2038 to 2200, found by glibc day by day and bisected to the second. */
static void footer_transitions_2038_to_2200_match_glibc(void **state)
{
    (void)state;
    static const char *zones[] = {
        "Europe/Berlin", "America/New_York", "Australia/Sydney", "Australia/Lord_Howe",
        "America/St_Johns", "America/Nuuk", "Asia/Jerusalem", "America/Santiago",
        "Pacific/Chatham", "Africa/Cairo", "Europe/Dublin", "America/Havana",
        "Pacific/Auckland", "America/Asuncion", "Europe/London", "Asia/Gaza",
    };
    unsetenv("TZDIR");
    int bad = 0, changes = 0;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        char err[512];
        struct tz *z = NULL;
        assert_int_equal(tz_load(zones[i], &z, err, sizeof err), 0);
        char tzv[128];
        snprintf(tzv, sizeof tzv, ":%s", zones[i]);
        oracle_zone(tzv);
        struct tm tm;
        oracle_tm(T_2038, &tm);
        long prev = tm.tm_gmtoff;
        for (int64_t t = T_2038 + 86400; t < T_2200 && bad < 5; t += 86400) {
            oracle_tm(t, &tm);
            if (tm.tm_gmtoff == prev) {
                bad += tz_offset(z, t) != tm.tm_gmtoff;
                continue;
            }
            int64_t lo = t - 86400, hi = t; /* offset(lo) == prev != offset(hi) */
            while (hi - lo > 1) {
                int64_t mid = lo + (hi - lo) / 2;
                oracle_tm(mid, &tm);
                if (tm.tm_gmtoff == prev)
                    lo = mid;
                else
                    hi = mid;
            }
            changes++;
            for (int64_t d = -1; d <= 1; d++)
                bad += compare_at(z, zones[i], hi + d) != 0;
            oracle_tm(t, &tm);
            prev = tm.tm_gmtoff;
        }
        tz_free(z);
    }
    print_message("%d footer-rule changes checked\n", changes);
    assert_true(changes > 1000);
    assert_int_equal(bad, 0);
}

/* ---- hand-known values ---- */

static struct tz *load(const char *name)
{
    char err[512] = "";
    struct tz *z = NULL;
    if (tz_load(name, &z, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
    return z;
}

static void berlin_switches_at_known_instants(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    struct tz *z = load("Europe/Berlin");
    /* 2027: last Sundays of March and October at 01:00 UTC. */
    int64_t on = utc(2027, 3, 28, 1, 0, 0), off = utc(2027, 10, 31, 1, 0, 0);
    assert_int_equal(tz_offset(z, on - 1), 3600);
    assert_int_equal(tz_offset(z, on), 7200);
    assert_int_equal(tz_offset(z, off - 1), 7200);
    assert_int_equal(tz_offset(z, off), 3600);
    struct tz_local l;
    tz_local(z, on, &l);
    assert_int_equal(l.year, 2027);
    assert_int_equal(l.month, 3);
    assert_int_equal(l.day, 28);
    assert_int_equal(l.hour, 3);
    assert_int_equal(l.minute, 0);
    assert_int_equal(l.weekday, 6);
    assert_int_equal(l.seconds_of_day, 3 * 3600);
    assert_int_equal(l.local_days, (utc(2027, 3, 28, 0, 0, 0)) / 86400);
    tz_local(z, on - 1, &l);
    assert_int_equal(l.hour, 1);
    assert_int_equal(l.minute, 59);
    assert_int_equal(l.second, 59);
    /* 2100, long after the file's transitions: March 28 and October 31
     * are again the last Sundays. */
    on = utc(2100, 3, 28, 1, 0, 0);
    off = utc(2100, 10, 31, 1, 0, 0);
    assert_int_equal(tz_offset(z, on - 1), 3600);
    assert_int_equal(tz_offset(z, on), 7200);
    assert_int_equal(tz_offset(z, off - 1), 7200);
    assert_int_equal(tz_offset(z, off), 3600);
    tz_free(z);
}

static void fixed_and_odd_offsets_are_known(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    struct tz *z = load("Asia/Kolkata");
    assert_int_equal(tz_offset(z, utc(2026, 6, 1, 0, 0, 0)), 19800);
    assert_int_equal(tz_offset(z, utc(2150, 1, 1, 0, 0, 0)), 19800);
    tz_free(z);
    z = load("Asia/Kathmandu");
    assert_int_equal(tz_offset(z, utc(2026, 6, 1, 0, 0, 0)), 20700);
    assert_int_equal(tz_offset(z, utc(2150, 1, 1, 0, 0, 0)), 20700);
    tz_free(z);
    /* Lord Howe: +10:30, and +11 in the southern summer; DST ends on the
     * first Sunday of April at 02:00 local daylight time. */
    z = load("Australia/Lord_Howe");
    assert_int_equal(tz_offset(z, utc(2027, 1, 15, 0, 0, 0)), 39600);
    assert_int_equal(tz_offset(z, utc(2027, 7, 15, 0, 0, 0)), 37800);
    int64_t end = utc(2027, 4, 3, 15, 0, 0);
    assert_int_equal(tz_offset(z, end - 1), 39600);
    assert_int_equal(tz_offset(z, end), 37800);
    tz_free(z);
    /* St John's: -3:30, DST from the second Sunday of March 02:00 local. */
    z = load("America/St_Johns");
    int64_t on = utc(2027, 3, 14, 5, 30, 0);
    assert_int_equal(tz_offset(z, on - 1), -12600);
    assert_int_equal(tz_offset(z, on), -9000);
    struct tz_local l;
    tz_local(z, on, &l);
    assert_int_equal(l.hour, 3);
    assert_int_equal(l.minute, 0);
    tz_free(z);
    /* Sydney: DST from the first Sunday of October 02:00 local standard. */
    z = load("Australia/Sydney");
    on = utc(2027, 10, 2, 16, 0, 0);
    assert_int_equal(tz_offset(z, on - 1), 36000);
    assert_int_equal(tz_offset(z, on), 39600);
    assert_int_equal(tz_offset(z, utc(2027, 1, 15, 0, 0, 0)), 39600);
    tz_free(z);
}

static int setup_tmpdir(void **state);
static int teardown_tmpdir(void **state);

static void utc_needs_no_file(void **state)
{
    (void)state;
    /* $TZDIR is the empty temporary directory. */
    const char *names[] = {"UTC", "Etc/UTC"};
    for (size_t i = 0; i < 2; i++) {
        struct tz *z = load(names[i]);
        assert_string_equal(tz_name(z), names[i]);
        struct tz_local l;
        tz_local(z, 0, &l);
        assert_int_equal(l.offset, 0);
        assert_int_equal(l.year, 1970);
        assert_int_equal(l.weekday, 3); /* a Thursday */
        tz_local(z, -1, &l);
        assert_int_equal(l.year, 1969);
        assert_int_equal(l.month, 12);
        assert_int_equal(l.day, 31);
        assert_int_equal(l.seconds_of_day, 86399);
        assert_int_equal(l.local_days, -1);
        assert_int_equal(tz_offset(z, utc(2150, 7, 1, 0, 0, 0)), 0);
        tz_free(z);
    }
    char err[256];
    struct tz *z = NULL;
    assert_int_not_equal(tz_load("Europe/Berlin", &z, err, sizeof err), 0);
    assert_null(z);
}

static void bad_names_are_refused(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    const char *bad[] = {"../etc/passwd", "/etc/localtime", "", "Nope/Nowhere",
                         "Europe//Berlin", "Europe/Berlin/", "Europe/Ber lin",
                         "Europe/./Berlin", "Europe/../Europe/Berlin", "Europe",
                         "right/Europe/Berlin"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512] = "";
        struct tz *z = (struct tz *)&err;
        if (tz_load(bad[i], &z, err, sizeof err) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_null(z);
        assert_true(err[0] != '\0');
    }
    assert_int_not_equal(tz_load(NULL, &(struct tz *){NULL}, NULL, 0), 0);
}

/* ---- hand-made files in a temporary $TZDIR ---- */

struct buf {
    unsigned char b[8192];
    size_t n;
};

static void put(struct buf *b, const void *p, size_t n)
{
    assert_true(b->n + n <= sizeof b->b);
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void put32(struct buf *b, uint32_t v)
{
    unsigned char p[4] = {v >> 24, v >> 16, v >> 8, v};
    put(b, p, 4);
}

static void put64(struct buf *b, int64_t v)
{
    put32(b, (uint32_t)((uint64_t)v >> 32));
    put32(b, (uint32_t)v);
}

static void put_header(struct buf *b, char version, uint32_t leapcnt, uint32_t timecnt,
                       uint32_t typecnt, uint32_t charcnt)
{
    put(b, "TZif", 4);
    put(b, &version, 1);
    static const unsigned char zero[15];
    put(b, zero, 15);
    put32(b, 0);
    put32(b, 0);
    put32(b, leapcnt);
    put32(b, timecnt);
    put32(b, typecnt);
    put32(b, charcnt);
}

struct spec {
    char version;            /* 0 for version 1 only */
    uint32_t leapcnt;
    size_t timecnt;
    int64_t times[4];
    unsigned char idx[4];
    size_t typecnt;
    int32_t utoff[4];
    unsigned char isdst[4];
    const char *footer;      /* without the newlines */
};

/* A TZif file as zic -b slim writes it: an empty version 1 block. */
static void build(struct buf *b, const struct spec *s)
{
    b->n = 0;
    if (s->version == 0) {
        put_header(b, 0, s->leapcnt, (uint32_t)s->timecnt, (uint32_t)s->typecnt, 4);
        for (size_t i = 0; i < s->timecnt; i++)
            put32(b, (uint32_t)s->times[i]);
    } else {
        put_header(b, s->version, 0, 0, 1, 1);
        put(b, "\0\0\0\0\0\0", 6);
        put(b, "", 1);
        put_header(b, s->version, s->leapcnt, (uint32_t)s->timecnt, (uint32_t)s->typecnt, 4);
        for (size_t i = 0; i < s->timecnt; i++)
            put64(b, s->times[i]);
    }
    put(b, s->idx, s->timecnt);
    for (size_t i = 0; i < s->typecnt; i++) {
        put32(b, (uint32_t)s->utoff[i]);
        put(b, &s->isdst[i], 1);
        put(b, "\0", 1);
    }
    put(b, "ABC", 4);
    for (uint32_t i = 0; i < s->leapcnt; i++) {
        if (s->version == 0)
            put32(b, 78796800);
        else
            put64(b, 78796800);
        put32(b, i + 1);
    }
    if (s->version != 0) {
        put(b, "\n", 1);
        put(b, s->footer, strlen(s->footer));
        put(b, "\n", 1);
    }
}

#define TMPDIR_TEMPLATE "/tmp/test_tz_XXXXXX"
static char tmpdir[sizeof TMPDIR_TEMPLATE];

static void write_file(const char *name, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static int load_tmp(const char *name, struct tz **z, char *err, size_t errlen)
{
    *z = NULL;
    return tz_load(name, z, err, errlen);
}

static int setup_tmpdir(void **state)
{
    (void)state;
    memcpy(tmpdir, TMPDIR_TEMPLATE, sizeof tmpdir);
    if (mkdtemp(tmpdir) == NULL)
        return -1;
    return setenv("TZDIR", tmpdir, 1);
}

static int teardown_tmpdir(void **state)
{
    (void)state;
    unsetenv("TZDIR");
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        char path[512];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    return rmdir(tmpdir);
}

static void slim_file_with_only_a_footer_matches_glibc(void **state)
{
    (void)state;
    setenv("TZDIR", tmpdir, 1);
    struct spec s = {.version = '3', .typecnt = 1, .utoff = {3600},
                     .footer = "CET-1CEST,M3.5.0,M10.5.0/3"};
    struct buf b;
    build(&b, &s);
    write_file("Slim", b.b, b.n);
    char err[512] = "";
    struct tz *z;
    if (load_tmp("Slim", &z, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(tz_offset(z, utc(2027, 3, 28, 1, 0, 0) - 1), 3600);
    assert_int_equal(tz_offset(z, utc(2027, 3, 28, 1, 0, 0)), 7200);
    assert_int_equal(tz_offset(z, utc(1950, 7, 1, 0, 0, 0)), 7200);
    /* RFC 8536 3.2: without transitions the footer decides at all times.
     * glibc reads such a file's type 0 instead, so the oracle is its
     * reading of the footer string itself. */
    oracle_zone(s.footer);
    rng_state = 7;
    int bad = 0;
    for (int k = 0; k < 2000 && bad < 3; k++)
        bad += compare_at(z, "Slim", rng_instant_from(T_1971)) != 0;
    assert_int_equal(bad, 0);
    tz_free(z);
}

static void version1_file_is_read(void **state)
{
    (void)state;
    struct spec s = {.version = 0, .timecnt = 2, .times = {-1000000, 1000000}, .idx = {1, 0},
                     .typecnt = 2, .utoff = {-18000, 7200}, .isdst = {0, 1}};
    struct buf b;
    build(&b, &s);
    write_file("V1", b.b, b.n);
    char err[512] = "";
    struct tz *z;
    if (load_tmp("V1", &z, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(tz_offset(z, -1000001), -18000); /* type 0 before the first */
    assert_int_equal(tz_offset(z, -1000000), 7200);
    assert_int_equal(tz_offset(z, 999999), 7200);
    assert_int_equal(tz_offset(z, 1000000), -18000);
    assert_int_equal(tz_offset(z, INT64_MAX), -18000);
    tz_free(z);
    /* The directory given beats $TZDIR and the default. */
    unsetenv("TZDIR");
    assert_int_not_equal(load_tmp("V1", &z, err, sizeof err), 0);
    if (tz_load_from(tmpdir, "V1", &z, err, sizeof err) != 0)
        fail_msg("%s", err);
    assert_int_equal(tz_offset(z, 0), 7200);
    tz_free(z);
    assert_int_equal(tz_load_from(tmpdir, "Europe/Berlin", &z, err, sizeof err), -1);
}

static void transitions_are_searched_to_the_second(void **state)
{
    (void)state;
    struct spec s = {.version = '2', .timecnt = 4, .times = {-500, 0, 10, 11},
                     .idx = {1, 2, 3, 0}, .typecnt = 4, .utoff = {0, 60, 120, 180}, .footer = ""};
    struct buf b;
    build(&b, &s);
    write_file("Steps", b.b, b.n);
    char err[512] = "";
    struct tz *z;
    if (load_tmp("Steps", &z, err, sizeof err) != 0)
        fail_msg("%s", err);
    const int64_t t[] = {-501, -500, -1, 0, 9, 10, 11, 12, INT64_MIN};
    const int32_t want[] = {0, 60, 60, 120, 120, 180, 0, 0, 0};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        assert_int_equal(tz_offset(z, t[i]), want[i]);
    tz_free(z);
}

static void broken_files_are_refused(void **state)
{
    (void)state;
    char err[512];
    struct tz *z;
    /* Every truncation of a real zone file. */
    FILE *f = fopen(ZONEINFO "/Europe/Berlin", "rb");
    assert_non_null(f);
    static unsigned char berlin[65536];
    size_t n = fread(berlin, 1, sizeof berlin, f);
    fclose(f);
    assert_true(n > 100 && n < sizeof berlin);
    write_file("Whole", berlin, n);
    assert_int_equal(load_tmp("Whole", &z, err, sizeof err), 0);
    tz_free(z);
    for (size_t len = 0; len < n; len++) {
        write_file("Cut", berlin, len);
        err[0] = '\0';
        if (load_tmp("Cut", &z, err, sizeof err) == 0)
            fail_msg("Europe/Berlin cut to %zu bytes was accepted", len);
        assert_null(z);
        assert_true(err[0] != '\0');
    }
    write_file("Text", "Europe/Berlin\n", 14);
    assert_int_not_equal(load_tmp("Text", &z, err, sizeof err), 0);
    assert_non_null(strstr(err, "not a TZif"));

    /* Larger than TZ_FILE_MAX, though the start looks right. */
    char path[512];
    snprintf(path, sizeof path, "%s/Huge", tmpdir);
    write_file("Huge", berlin, n);
    assert_int_equal(truncate(path, TZ_FILE_MAX + 1), 0);
    assert_int_not_equal(load_tmp("Huge", &z, err, sizeof err), 0);
    assert_non_null(strstr(err, "larger"));

    struct {
        const char *why;
        struct spec s;
    } cases[] = {
        {"leap seconds", {.version = '2', .leapcnt = 1, .typecnt = 1, .footer = "UTC0"}},
        {"leap seconds v1", {.version = 0, .leapcnt = 1, .typecnt = 1}},
        {"no types", {.version = '2', .typecnt = 0, .footer = "UTC0"}},
        {"type index", {.version = '2', .timecnt = 1, .idx = {1}, .typecnt = 1, .footer = ""}},
        {"not ascending", {.version = '2', .timecnt = 2, .times = {5, 5}, .typecnt = 1, .footer = ""}},
        {"descending", {.version = '2', .timecnt = 2, .times = {5, 4}, .typecnt = 1, .footer = ""}},
        {"utoff", {.version = '2', .typecnt = 1, .utoff = {93600}, .footer = ""}},
        {"utoff min", {.version = '2', .typecnt = 1, .utoff = {INT32_MIN}, .footer = ""}},
        {"isdst 2", {.version = '2', .typecnt = 1, .isdst = {2}, .footer = ""}},
        {"dst without rule", {.version = '2', .typecnt = 1, .footer = "CET-1CEST"}},
        {"bad footer", {.version = '2', .typecnt = 1, .footer = "CET-1CEST,M3.5.0,M13.5.0"}},
        {"version", {.version = '1', .typecnt = 1, .footer = "UTC0"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct buf b;
        build(&b, &cases[i].s);
        write_file("Bad", b.b, b.n);
        err[0] = '\0';
        if (load_tmp("Bad", &z, err, sizeof err) == 0)
            fail_msg("%s: accepted", cases[i].why);
        assert_true(err[0] != '\0');
    }
    /* A count far beyond the file's size. */
    struct spec ok = {.version = '2', .typecnt = 1, .footer = "UTC0"};
    struct buf b;
    build(&b, &ok);
    write_file("Good", b.b, b.n);
    assert_int_equal(load_tmp("Good", &z, err, sizeof err), 0);
    tz_free(z);
    size_t second = 44 + 6 + 1; /* the second header: after the slim v1 block */
    b.b[second + 32] = 0x7f;       /* timecnt */
    write_file("Bad", b.b, b.n);
    assert_int_not_equal(load_tmp("Bad", &z, err, sizeof err), 0);
    /* Data after the footer. */
    build(&b, &ok);
    put(&b, "x", 1);
    write_file("Bad", b.b, b.n);
    assert_int_not_equal(load_tmp("Bad", &z, err, sizeof err), 0);
    /* A directory. */
    snprintf(path, sizeof path, "%s/Dir", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_not_equal(load_tmp("Dir", &z, err, sizeof err), 0);
    assert_int_equal(rmdir(path), 0);
}

/* ---- the footer's rule strings ---- */

static void rule_strings_parse_to_known_fields(void **state)
{
    (void)state;
    char err[256];
    struct tz_rule r;
    assert_int_equal(tz_rule_parse("CET-1CEST,M3.5.0,M10.5.0/3", &r, err, sizeof err), 0);
    assert_int_equal(r.std_offset, 3600);
    assert_true(r.has_dst);
    assert_int_equal(r.dst_offset, 7200);
    assert_int_equal(r.start.kind, TZ_DATE_MONTH);
    assert_int_equal(r.start.month, 3);
    assert_int_equal(r.start.week, 5);
    assert_int_equal(r.start.day, 0);
    assert_int_equal(r.start.time, 7200);
    assert_int_equal(r.end.month, 10);
    assert_int_equal(r.end.time, 10800);

    assert_int_equal(tz_rule_parse("<+0545>-5:45", &r, err, sizeof err), 0);
    assert_int_equal(r.std_offset, 20700);
    assert_false(r.has_dst);

    assert_int_equal(tz_rule_parse("EST5EDT,M3.2.0,M11.1.0", &r, err, sizeof err), 0);
    assert_int_equal(r.std_offset, -18000);
    assert_int_equal(r.dst_offset, -14400);

    assert_int_equal(tz_rule_parse("<-02>2<-01>,M3.5.0/-1,M10.5.0/0", &r, err, sizeof err), 0);
    assert_int_equal(r.start.time, -3600);
    assert_int_equal(r.end.time, 0);

    assert_int_equal(tz_rule_parse("IST-2IDT,M3.4.4/26,M10.5.0", &r, err, sizeof err), 0);
    assert_int_equal(r.start.time, 26 * 3600);

    assert_int_equal(tz_rule_parse("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", &r, err,
                                   sizeof err), 0);
    assert_int_equal(r.std_offset, 45900);
    assert_int_equal(r.dst_offset, 49500);
    assert_int_equal(r.start.time, 9900);

    assert_int_equal(tz_rule_parse("IST-1GMT0,M10.5.0,M3.5.0/1", &r, err, sizeof err), 0);
    assert_int_equal(r.std_offset, 3600);
    assert_int_equal(r.dst_offset, 0);

    assert_int_equal(tz_rule_parse("XXX3YYY,J60/0,300/1:30:15", &r, err, sizeof err), 0);
    assert_int_equal(r.start.kind, TZ_DATE_JULIAN1);
    assert_int_equal(r.start.day, 60);
    assert_int_equal(r.end.kind, TZ_DATE_JULIAN0);
    assert_int_equal(r.end.day, 300);
    assert_int_equal(r.end.time, 5415);

    const char *bad[] = {"", "CE-1", "CET", "CET-1CEST", "CET-1CEST,M3.5.0",
                         "CET-1CEST,M13.1.0,M10.5.0", "CET-1CEST,M3.6.0,M10.5.0",
                         "CET-1CEST,M3.5.7,M10.5.0", "CET-1CEST,J0,J365", "CET-1CEST,366,J365",
                         "CET-25", "<+05", "<+05>", "CET-1CEST,M3.5.0/168,M10.5.0",
                         "CET-1 x", "CET-1CEST,M3.5.0,M10.5.0,", "CET-1:60", "CET-1CEST,M0.1.0,J1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (tz_rule_parse(bad[i], &r, err, sizeof err) == 0)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_true(err[0] != '\0');
    }
}

/* Rule strings, including forms tzdata does not use (Jn, n, times past 24 h
 * and before 0 h), against glibc's reading of the same TZ value. */
static void rule_offsets_match_glibc(void **state)
{
    (void)state;
    static const char *rules[] = {
        "CET-1CEST,M3.5.0,M10.5.0/3", "EST5EDT,M3.2.0,M11.1.0", "<+0545>-5:45",
        "AEST-10AEDT,M10.1.0,M4.1.0/3", "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "IST-2IDT,M3.4.4/26,M10.5.0", "EET-2EEST,M4.5.5/0,M10.5.4/24",
        "NST3:30NDT,M3.2.0,M11.1.0", "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
        "IST-1GMT0,M10.5.0,M3.5.0/1", "XXX3YYY,J60/0,J300/0", "XXX3YYY,59/0,300/0",
        "XXX-3YYY-4:30:15,J1/5,J365/20", "ABC-2DEF,M2.5.6/1:02:03,M9.5.6/-3:04:05",
        "AAA+4BBB+3,0/1,364/1", "CCC-14DDD-15,M1.1.0,M12.5.0/0",
    };
    rng_state = 3;
    int bad = 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char err[256];
        struct tz_rule r;
        if (tz_rule_parse(rules[i], &r, err, sizeof err) != 0)
            fail_msg("%s: %s", rules[i], err);
        oracle_zone(rules[i]);
        for (int k = 0; k < 4000 && bad < 5; k++) {
            int64_t t = rng_instant_from(T_1971);
            /* Every fourth instant within a day of a year's rule dates. */
            struct tm tm;
            oracle_tm(t, &tm);
            if (k % 4 == 0) {
                int64_t y0 = utc(tm.tm_year + 1900, 1, 1, 0, 0, 0);
                t = y0 + (int64_t)(rng_next() % (366 * 86400));
                oracle_tm(t, &tm);
            }
            if (tz_rule_offset(&r, t) != tm.tm_gmtoff) {
                print_error("%s at %lld: ours %d, glibc %ld\n", rules[i], (long long)t,
                            (int)tz_rule_offset(&r, t), (long)tm.tm_gmtoff);
                bad++;
            }
        }
    }
    assert_int_equal(bad, 0);
}

/* Rule dates tzdata does not use, against dates known by hand. */
static void julian_and_all_year_rules_give_known_dates(void **state)
{
    (void)state;
    char err[256];
    struct tz_rule r;
    /* J60 is March 1 in every year; 59 (zero-based) is February 29 in a
     * leap year and March 1 otherwise. Local time is UTC-3 (standard). */
    assert_int_equal(tz_rule_parse("XXX3YYY,J60/0,J300/0", &r, err, sizeof err), 0);
    assert_int_equal(tz_rule_offset(&r, utc(2028, 3, 1, 3, 0, 0) - 1), -10800);
    assert_int_equal(tz_rule_offset(&r, utc(2028, 3, 1, 3, 0, 0)), -7200);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 3, 1, 3, 0, 0) - 1), -10800);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 3, 1, 3, 0, 0)), -7200);
    assert_int_equal(tz_rule_parse("XXX3YYY,59/0,300/0", &r, err, sizeof err), 0);
    assert_int_equal(tz_rule_offset(&r, utc(2028, 2, 29, 3, 0, 0) - 1), -10800);
    assert_int_equal(tz_rule_offset(&r, utc(2028, 2, 29, 3, 0, 0)), -7200);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 3, 1, 3, 0, 0) - 1), -10800);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 3, 1, 3, 0, 0)), -7200);
    /* RFC 8536 3.3.1: starting January 1 00:00 and ending December 31
     * 24:00 plus the DST shift means daylight time all year. */
    assert_int_equal(tz_rule_parse("EST5EDT,0/0,J365/25", &r, err, sizeof err), 0);
    rng_state = 11;
    for (int k = 0; k < 10000; k++)
        assert_int_equal(tz_rule_offset(&r, rng_instant()), -14400);
    for (int y = 2020; y < 2040; y++)
        for (int64_t d = -1; d <= 1; d++)
            assert_int_equal(tz_rule_offset(&r, utc(y, 1, 1, 5, 0, 0) + d), -14400);
    /* Week 5 is the last such weekday: in February 2027 the fourth. */
    assert_int_equal(tz_rule_parse("XXX3YYY,M2.5.0/0,M10.5.0/0", &r, err, sizeof err), 0);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 2, 28, 3, 0, 0) - 1), -10800);
    assert_int_equal(tz_rule_offset(&r, utc(2027, 2, 28, 3, 0, 0)), -7200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rule_strings_parse_to_known_fields),
        cmocka_unit_test(julian_and_all_year_rules_give_known_dates),
        cmocka_unit_test(rule_offsets_match_glibc),
        cmocka_unit_test(bad_names_are_refused),
        cmocka_unit_test_setup_teardown(utc_needs_no_file, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test(berlin_switches_at_known_instants),
        cmocka_unit_test(fixed_and_odd_offsets_are_known),
        cmocka_unit_test_setup_teardown(slim_file_with_only_a_footer_matches_glibc, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(version1_file_is_read, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test_setup_teardown(transitions_are_searched_to_the_second, setup_tmpdir,
                                        teardown_tmpdir),
        cmocka_unit_test_setup_teardown(broken_files_are_refused, setup_tmpdir, teardown_tmpdir),
        cmocka_unit_test(footer_transitions_2038_to_2200_match_glibc),
        cmocka_unit_test(every_installed_zone_matches_glibc_1900_to_2200),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
