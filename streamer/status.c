#include "status.h"

#include "atomic.h"
#include "err.h"
#include "m3u8.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *when(double t)
{
    if (t <= 0)
        return json_null();
    char buf[M3U8_TIME_LEN];
    m3u8_format_time(t, buf);
    return json_string(buf);
}

void status_writer_init(struct status_writer *w, const char *path, double heartbeat)
{
    memset(w, 0, sizeof *w);
    w->path = path;
    w->heartbeat = heartbeat;
}

void status_writer_free(struct status_writer *w)
{
    free(w->last);
    w->last = NULL;
}

/* Which streamer is on air, and the takeovers and step-backs as events. */
static json_t *status_failover_json(const struct standby_view *f)
{
    return json_pack("{s:s, s:I, s:o, s:f, s:I, s:o, s:I, s:o, s:b, s:s?}", "role",
                     f->active ? "active" : "standby", "takeovers", (json_int_t)f->takeovers, "last_takeover",
                     when(f->last_takeover), "last_takeover_stood_still_seconds", f->last_takeover_wait,
                     "stepbacks", (json_int_t)f->stepbacks, "last_stepback", when(f->last_stepback),
                     "record_sequence", (json_int_t)f->seen_sequence, "record_changed", when(f->seen_changed),
                     "record_foreign", f->seen_foreign, "error", f->error[0] ? f->error : NULL);
}

static json_t *status_json(const struct status_view *v)
{
    const struct publisher_status *p = v->pub;
    json_t *root = json_object();
    json_object_set_new(root, "ipns_name", v->ipns_name && *v->ipns_name ? json_string(v->ipns_name) : json_null());
    json_object_set_new(root, "listen", json_pack("{s:s?, s:s?}", "local", v->local_url, "public", v->public_url));
    json_object_set_new(root, "started", when(v->started));
    json_object_set_new(root, "on_air", json_boolean(v->on_air));
    json_object_set_new(root, "held_by_clock", json_boolean(v->held));
    json_object_set_new(root, "target_duration", json_integer(v->target_duration));
    json_object_set_new(root, "window_segments", json_integer(v->window));
    json_object_set_new(root, "media_sequence", json_integer(v->media_sequence));
    json_object_set_new(root, "discontinuity_sequence", json_integer(v->discontinuity_sequence));
    json_object_set_new(root, "newest_sequence", json_integer(v->newest_seq));
    if (v->now_playing && v->now_playing->title) {
        const struct sched_item *n = v->now_playing;
        json_object_set_new(root, "now_playing",
                            json_pack("{s:s, s:s, s:I, s:o, s:f, s:s}", "track_id", n->track_id, "title",
                                      n->title, "sequence", (json_int_t)n->seq, "air_time", when(n->pdt),
                                      "duration", n->duration, "cid", n->cid));
    } else {
        json_object_set_new(root, "now_playing", json_null());
    }
    json_object_set_new(root, "last_publish",
                        json_pack("{s:o, s:f, s:s?, s:I, s:s?, s:o}", "time", when(p->last_ok), "latency_seconds",
                                  p->last_latency, "playlist_cid", p->last_cid[0] ? p->last_cid : NULL,
                                  "newest_sequence", (json_int_t)p->last_seq, "error",
                                  p->last_error[0] ? p->last_error : NULL, "error_time",
                                  when(p->last_error[0] ? p->last_error_time : 0)));
    json_object_set_new(root, "counts",
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "publishes", (json_int_t)p->publishes,
                                  "failures", (json_int_t)p->failures, "superseded", (json_int_t)p->superseded,
                                  "skipped_publishes", (json_int_t)v->skipped_publishes, "reloads",
                                  (json_int_t)v->reloads, "reload_errors", (json_int_t)v->reload_errors,
                                  "segments_readded", (json_int_t)p->segments_readded));
    json_object_set_new(root, "node_reachable", json_boolean(p->node_ok));
    json_object_set_new(root, "segment_check_error", p->check_error[0] ? json_string(p->check_error) : json_null());
    json_object_set_new(root, "ipns_mode", json_string(v->ipns_mode ? v->ipns_mode : "node"));
    if (v->targets) {
        json_object_set_new(root, "ipns_sequence", json_integer((json_int_t)p->ipns_seq));
        json_t *a = json_array();
        for (size_t i = 0; i < v->ntargets; i++) {
            const struct record_target_status *t = &v->targets[i];
            json_array_append_new(
                a, json_pack("{s:s, s:s, s:s, s:b, s:I, s:o, s:f, s:I, s:I, s:I, s:s?, s:o}", "url", t->url, "kind",
                             t->kind == RECORD_TARGET_KUBO ? "kubo" : "routing", "method", t->method, "ok", t->ok,
                             "sequence", (json_int_t)t->last_seq, "last_ok", when(t->last_ok), "latency_seconds",
                             t->last_latency, "puts", (json_int_t)t->puts, "failures", (json_int_t)t->failures,
                             "superseded", (json_int_t)t->superseded, "error",
                             t->last_error[0] ? t->last_error : NULL, "error_time",
                             when(t->last_error[0] ? t->last_error_time : 0)));
        }
        json_object_set_new(root, "ipns_targets", a);
    }
    json_t *took = v->have_order_from ? json_pack("{s:I, s:o}", "first_sequence", (json_int_t)v->order_from_seq,
                                                  "air_time", when(v->order_from_time))
                                      : json_null();
    json_t *ro = json_pack("{s:s, s:I, s:s?, s:o, s:o?, s:s?, s:s?}", "id", v->order_id, "segments",
                           (json_int_t)v->order_segments, "last_error", v->reload_error, "last_error_time",
                           when(v->reload_error ? v->reload_error_time : 0), "took_effect", took, "time_zone",
                           v->time_zone, "day_part", v->day_part);
    json_t *clock = json_pack("{s:s?, s:o}", "last_error", v->clock_error, "last_error_time",
                              when(v->clock_error ? v->clock_error_time : 0));
    if (json_object_set_new(root, "running_order", ro) != 0 || json_object_set_new(root, "clock", clock) != 0) {
        json_decref(root);
        return NULL;
    }
    if (v->queue && json_object_set_new(root, "queue", queue_status_json(v->queue)) != 0) {
        json_decref(root);
        return NULL;
    }
    if (v->failover && json_object_set_new(root, "failover", status_failover_json(v->failover)) != 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int status_write(struct status_writer *w, const struct status_view *v, char *err, size_t errlen)
{
    json_t *root = status_json(v);
    char *text = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (!text) {
        json_decref(root);
        return err_set(err, errlen, "out of memory");
    }
    /* Every change is written at once; an unchanged status only as a
     * heartbeat, so a disk is not worn by a file that says the same. */
    int same = w->last && strcmp(w->last, text) == 0;
    if (same && (w->heartbeat <= 0 || v->now - w->written < w->heartbeat)) {
        free(text);
        json_decref(root);
        return 0;
    }
    free(w->last);
    w->last = text;
    if (!same)
        w->changed = v->now;
    w->written = v->now;
    int rc = json_object_set_new(root, "updated", when(w->written)) != 0 ||
             json_object_set_new(root, "changed", when(w->changed)) != 0;
    char *out = rc == 0 ? json_dumps(root, JSON_INDENT(1)) : NULL;
    json_decref(root);
    if (!out)
        return err_set(err, errlen, "out of memory");
    rc = atomic_write(w->path, out, strlen(out), err, errlen);
    free(out);
    if (rc != 0) {
        /* Not on disk: the next call tries again. */
        free(w->last);
        w->last = NULL;
    }
    return rc;
}
