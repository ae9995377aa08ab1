#include "streamer_view.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "atomic.h"
#include "err.h"
#include "hm_config.h"
#include "m3u8.h"

static long count(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= 0 ? (long)json_integer_value(v) : 0;
}

/* 1 when a lock is held on the file `path` (the streamer's state_dir/lock,
 * flock'd for its whole life), 0 when none is, -1 when it cannot be told. */
static int lock_held(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    FILE *f = fopen("/proc/locks", "r");
    if (!f)
        return -1;
    char line[256];
    int held = 0;
    while (!held && fgets(line, sizeof line, f)) {
        unsigned maj, min;
        unsigned long long ino;
        /* "1: FLOCK  ADVISORY  WRITE 2222 fe:00:10371561 0 EOF"; waiters ("1: -> FLOCK ...") hold nothing. */
        char kind[16];
        if (sscanf(line, "%*s %15s %*s %*s %*s %x:%x:%llu", kind, &maj, &min, &ino) == 4 &&
            strcmp(kind, "->") != 0 && maj == major(st.st_dev) && min == minor(st.st_dev) &&
            ino == (unsigned long long)st.st_ino)
            held = 1;
    }
    fclose(f);
    return held;
}

int hm_streamer_read(const char *state_dir, struct hm_streamer_view *v, char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->last_takeover = NAN;
    char path[4096];
    if (fs_path(path, sizeof path, err, errlen, "%s/status.json", state_dir) != 0)
        return -1;
    char *text = NULL;
    size_t len = 0;
    char why[ERR_MSG_MAX];
    if (atomic_read(path, HM_STATUS_MAX_BYTES, &text, &len, why, sizeof why) != 0)
        return err_set(err, errlen, "%s", why);
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    free(text);
    if (!json_is_object(root)) {
        json_decref(root);
        return err_set(err, errlen, "%s: not a JSON object", path);
    }
    v->known = 1;
    char lock[4096];
    v->running = fs_path(lock, sizeof lock, NULL, 0, "%s/lock", state_dir) == 0 ? lock_held(lock) : -1;
    v->on_air = json_is_true(json_object_get(root, "on_air")) && v->running != 0;
    json_t *f = json_object_get(root, "failover");
    if (json_is_object(f)) {
        v->failover = 1;
        json_t *role = json_object_get(f, "role");
        v->active = json_is_string(role) && strcmp(json_string_value(role), "active") == 0;
        v->takeovers = count(f, "takeovers");
        v->stepbacks = count(f, "stepbacks");
        json_t *t = json_object_get(f, "last_takeover");
        double when;
        if (json_is_string(t) && m3u8_parse_time(json_string_value(t), &when) == 0)
            v->last_takeover = when;
    }
    json_decref(root);
    return 0;
}
