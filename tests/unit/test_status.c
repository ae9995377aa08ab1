/* state/status.json is written when something in it changes, and an
 * unchanged status at most once a heartbeat: a station on air for months
 * must not rewrite and fsync the same file every loop. Judged from the
 * file: its "updated" time says when it was last written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m3u8.h"
#include "status.h"

#define T0 1800000000.0
#define HEARTBEAT 60.0

struct fixture {
    char dir[64];
    char path[128];
    struct publisher_status pub;
    struct status_view v;
    struct status_writer w;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/radio-status-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/status.json", f->dir);
    f->v = (struct status_view){.ipns_name = "k51test", .ipns_mode = "node", .now = T0, .started = T0,
                                .on_air = 1, .target_duration = 6, .window = 50, .media_sequence = 10,
                                .newest_seq = 59, .pub = &f->pub, .order_id = "abc", .order_segments = 100};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    status_writer_free(&f->w);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

/* The file's "updated" time, as Unix seconds. */
static double updated(const char *path)
{
    json_t *j = json_load_file(path, 0, NULL);
    assert_non_null(j);
    char want[M3U8_TIME_LEN];
    const char *s = json_string_value(json_object_get(j, "updated"));
    assert_non_null(s);
    double t = -1;
    for (double c = T0; c < T0 + 1000; c += 1) {
        m3u8_format_time(c, want);
        if (strcmp(want, s) == 0) {
            t = c;
            break;
        }
    }
    json_decref(j);
    return t;
}

static void write_at(struct fixture *f, double now)
{
    char err[256];
    f->v.now = now;
    assert_int_equal(status_write(&f->w, &f->v, err, sizeof err), 0);
}

static void unchanged_status_is_not_rewritten_over_a_quiet_period(void **state)
{
    struct fixture *f = *state;
    status_writer_init(&f->w, f->path, HEARTBEAT);
    write_at(f, T0);
    assert_true(updated(f->path) == T0);
    /* The daemon's loop wakes every two seconds; nothing changes. */
    for (double t = T0 + 2; t < T0 + HEARTBEAT; t += 2)
        write_at(f, t);
    assert_true(updated(f->path) == T0);
}

static void a_change_is_written_at_once(void **state)
{
    struct fixture *f = *state;
    status_writer_init(&f->w, f->path, HEARTBEAT);
    write_at(f, T0);
    write_at(f, T0 + 2);
    f->v.newest_seq++;
    write_at(f, T0 + 4);
    assert_true(updated(f->path) == T0 + 4);
    json_t *j = json_load_file(f->path, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "newest_sequence")), 60);
    json_decref(j);
}

static void unchanged_status_is_written_once_a_heartbeat(void **state)
{
    struct fixture *f = *state;
    status_writer_init(&f->w, f->path, HEARTBEAT);
    write_at(f, T0);
    write_at(f, T0 + HEARTBEAT - 1);
    assert_true(updated(f->path) == T0);
    write_at(f, T0 + HEARTBEAT);
    assert_true(updated(f->path) == T0 + HEARTBEAT);
}

static void heartbeat_zero_writes_only_changes(void **state)
{
    struct fixture *f = *state;
    status_writer_init(&f->w, f->path, 0);
    write_at(f, T0);
    write_at(f, T0 + 10 * HEARTBEAT);
    assert_true(updated(f->path) == T0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(unchanged_status_is_not_rewritten_over_a_quiet_period, setup, teardown),
        cmocka_unit_test_setup_teardown(a_change_is_written_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(unchanged_status_is_written_once_a_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown(heartbeat_zero_writes_only_changes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
