#include "upcoming.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "atomic.h"
#include "err.h"
#include "m3u8.h"

static json_t *air_time(double t)
{
    char buf[M3U8_TIME_LEN];
    m3u8_format_time(t, buf);
    return json_string(buf);
}

/* One track's stretch of the timeline: from its first segment (the one
 * after a discontinuity) to the last before the next. */
static json_t *track_json(const struct sched_item *first, double duration, int64_t segments)
{
    return json_pack("{s:s, s:s, s:I, s:o, s:f, s:I}", "track", first->track_id ? first->track_id : "",
                     "title", first->title ? first->title : "", "first_sequence", (json_int_t)first->seq,
                     "air_time", air_time(first->pdt), "duration_seconds", duration, "segments",
                     (json_int_t)segments);
}

int upcoming_render(const struct sched *s, double now, double horizon, char **out, size_t *len, char *err,
                    size_t errlen)
{
    *out = NULL;
    *len = 0;
    int64_t q = sched_seq_at(s, now);
    int64_t floor_seq = sched_first_seq(s);
    if (q < 0)
        q = s->anchor.seq; /* not on air yet: the timeline's start is what comes */
    struct sched_item it;
    /* Back to the start of the track on air. */
    while (q > floor_seq && sched_item(s, q, &it) == 0 && !it.disc)
        q--;
    json_t *items = json_array();
    json_t *root = items ? json_pack("{s:s, s:i, s:s, s:f, s:o}", "format", UPCOMING_FORMAT, "version",
                                     UPCOMING_VERSION, "order", s->order.id, "horizon_seconds", horizon,
                                     "items", items)
                         : NULL;
    if (!root) {
        json_decref(items);
        return err_set(err, errlen, "out of memory");
    }
    struct sched_item first = {0};
    double dur = 0;
    int64_t nseg = 0;
    int rc = 0;
    for (int64_t k = q; rc == 0 && sched_item(s, k, &it) == 0; k++) {
        if (nseg > 0 && it.disc) {
            if (json_array_append_new(items, track_json(&first, dur, nseg)) != 0)
                rc = -1;
            nseg = 0;
            dur = 0;
            /* Every track that starts within the horizon is listed. */
            if (it.pdt > now + horizon)
                break;
        }
        if (nseg == 0)
            first = it;
        dur += it.duration;
        nseg++;
    }
    if (rc == 0 && nseg > 0 && json_array_append_new(items, track_json(&first, dur, nseg)) != 0)
        rc = -1;
    if (rc == 0)
        *out = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!*out)
        return err_set(err, errlen, "out of memory");
    *len = strlen(*out);
    return 0;
}

int upcoming_writer_init(struct upcoming_writer *w, const char *state_dir, double horizon, char *err,
                         size_t errlen)
{
    memset(w, 0, sizeof *w);
    w->horizon = horizon;
    return fs_path(w->path, sizeof w->path, err, errlen, "%s/%s", state_dir, UPCOMING_FILE);
}

int upcoming_write(struct upcoming_writer *w, const struct sched *s, double now, char *err, size_t errlen)
{
    if (w->horizon <= 0)
        return 0;
    char *text;
    size_t len;
    if (upcoming_render(s, now, w->horizon, &text, &len, err, errlen) != 0)
        return -1;
    if (w->last && strcmp(w->last, text) == 0) {
        free(text);
        return 0;
    }
    if (atomic_write(w->path, text, len, err, errlen) != 0) {
        free(text);
        return -1;
    }
    free(w->last);
    w->last = text;
    return 1;
}

void upcoming_writer_free(struct upcoming_writer *w)
{
    free(w->last);
    w->last = NULL;
}
