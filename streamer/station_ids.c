#include "station_ids.h"

#include "atomic.h"
#include "err.h"
#include "json_file.h"
#include "order.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Air times are doubles near 2e9 s: compared with a microsecond to spare. */
#define STATION_IDS_TIME_SLACK 1e-6

static void free_jingle(struct station_ids_jingle *j)
{
    for (size_t i = 0; i < j->n; i++) {
        free(j->segs[i].title);
        free(j->segs[i].track_id);
    }
    free(j->segs);
    free(j->id);
}

void station_ids_rule_free(struct station_ids_rule *r)
{
    for (size_t i = 0; i < r->njingles; i++)
        free_jingle(&r->jingles[i]);
    free(r->jingles);
    if (r->zone)
        tz_free(r->zone);
    memset(r, 0, sizeof *r);
}

int station_ids_active(const struct station_ids_rule *r)
{
    return r->njingles > 0 && (r->every > 0 || r->top_of_hour);
}

static int resolve(const struct manifest_track *t, int rate, struct station_ids_jingle *j)
{
    char label[1024];
    manifest_track_label(t, label, sizeof label);
    if (!(j->id = strdup(t->id)) || !(j->segs = calloc(t->nsegs, sizeof *j->segs)))
        return -1;
    for (size_t s = 0; s < t->nsegs; s++, j->n++) {
        struct sched_hist *h = &j->segs[s];
        snprintf(h->cid, sizeof h->cid, "%s", t->segs[s].cid);
        h->samples = t->segs[s].samples;
        h->duration = (double)t->segs[s].samples / rate;
        h->disc = s == 0;
        h->title = strdup(label);
        h->track_id = strdup(t->id);
        if (!h->title || !h->track_id) {
            j->n++;
            return -1;
        }
    }
    return 0;
}

static int number(json_t *root, const char *key, double lo, double hi, double *out, char *err, size_t errlen)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi)
        return err_set(err, errlen, "\"%s\" must be a number from %g to %g", key, lo, hi);
    *out = json_number_value(v);
    return 0;
}

int station_ids_parse(const char *text, size_t len, const struct manifest *m, int rate, struct station_ids_rule *r,
                      char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    json_t *root;
    if (json_versioned_parse(text, len, CLOCK_FORMAT, CLOCK_VERSION, &root, err, errlen) != 0)
        return -1;
    int rc = -1;
    json_t *ids = json_object_get(root, "station_ids");
    json_t *top = json_object_get(ids, "top_of_hour"), *jl = json_object_get(ids, "jingles");
    if (!json_is_object(ids)) {
        err_set(err, errlen, "\"station_ids\" must be an object");
        goto out;
    }
    if (number(ids, "every_seconds", 0, 24 * STATION_IDS_HOUR, &r->every, err, errlen) != 0 ||
        number(ids, "top_of_hour_before_seconds", 0, STATION_IDS_HOUR / 2, &r->top_before, err, errlen) != 0 ||
        number(ids, "top_of_hour_after_seconds", 0, STATION_IDS_HOUR / 2, &r->top_after, err, errlen) != 0)
        goto out;
    if (!json_is_boolean(top)) {
        err_set(err, errlen, "\"top_of_hour\" must be true or false");
        goto out;
    }
    r->top_of_hour = json_is_true(top);
    json_t *zone = json_object_get(root, "time_zone");
    if (zone && !json_is_string(zone)) {
        err_set(err, errlen, "\"time_zone\" must be a zone name such as \"UTC\" or \"Europe/Berlin\"");
        goto out;
    }
    if (tz_load(zone ? json_string_value(zone) : "UTC", &r->zone, err, errlen) != 0) {
        err_prefix(err, errlen, "\"time_zone\"");
        goto out;
    }
    if (!json_is_array(jl) || json_array_size(jl) > STATION_IDS_MAX_JINGLES) {
        err_set(err, errlen, "\"jingles\" must be a list of at most %d track ids", STATION_IDS_MAX_JINGLES);
        goto out;
    }
    if (json_array_size(jl) && !(r->jingles = calloc(json_array_size(jl), sizeof *r->jingles))) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(jl); i++) {
        json_t *e = json_array_get(jl, i);
        const struct manifest_track *t = json_is_string(e) ? manifest_find(m, json_string_value(e)) : NULL;
        if (!t) {
            err_set(err, errlen, "\"jingles\" item %zu names no track of manifest.json", i + 1);
            goto out;
        }
        if (t->kind != MANIFEST_JINGLE) {
            err_set(err, errlen, "\"jingles\" item %zu (%.100s) is not a jingle", i + 1, t->id);
            goto out;
        }
        if (order_check_track(t, rate, err, errlen) != 0) {
            err_prefix(err, errlen, "\"jingles\" item %zu", i + 1);
            goto out;
        }
        if (resolve(t, rate, &r->jingles[r->njingles++]) != 0) {
            err_set(err, errlen, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        station_ids_rule_free(r);
    return rc;
}

int station_ids_load(const char *processed_dir, int rate, struct station_ids_rule *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    char path[4200], mpath[4200];
    if (fs_path(path, sizeof path, err, errlen, "%s/%s", processed_dir, CLOCK_FILE) != 0 ||
        fs_path(mpath, sizeof mpath, err, errlen, "%s/manifest.json", processed_dir) != 0)
        return -1;
    if (access(path, F_OK) != 0)
        return 0;
    char *text = NULL, *mtext = NULL;
    size_t len = 0, mlen = 0;
    if (atomic_read(path, STATION_IDS_MAX_BYTES, &text, &len, err, errlen) != 0)
        return err_prefix(err, errlen, "%s", path);
    struct manifest m;
    int rc = -1;
    if (strlen(text) != len)
        err_set(err, errlen, "%s holds a NUL byte", path);
    else if (atomic_read(mpath, MANIFEST_MAX_BYTES, &mtext, &mlen, err, errlen) != 0)
        ;
    else if (strlen(mtext) != mlen)
        err_set(err, errlen, "%s holds a NUL byte", mpath);
    else if (manifest_parse(mtext, mpath, &m, err, errlen) == 0) {
        rc = station_ids_parse(text, len, &m, rate, r, err, errlen);
        if (rc != 0)
            err_prefix(err, errlen, "%s", path);
        manifest_free(&m);
    }
    free(text);
    free(mtext);
    return rc == 0 ? 1 : -1;
}

static int is_id(const struct station_ids_rule *r, const char *track)
{
    for (size_t i = 0; track && i < r->njingles; i++)
        if (strcmp(r->jingles[i].id, track) == 0)
            return 1;
    return 0;
}

/* The air time of the track start after the one at seq (its end). */
static double track_end(const struct sched *s, int64_t seq)
{
    struct sched_item it;
    double end = 0;
    for (int64_t q = seq;; q++) {
        if (sched_item(s, q, &it) != 0 || (q > seq && it.disc))
            break;
        end = it.pdt + it.duration;
    }
    return end;
}

/* The start of the track holding seq - 1, or -1 when the timeline no longer keeps it. */
static int64_t prev_track_start(const struct sched *s, int64_t seq)
{
    struct sched_item it;
    for (int64_t q = seq - 1; q >= 0; q--) {
        if (sched_item(s, q, &it) != 0)
            return -1;
        if (it.disc)
            return q;
    }
    return -1;
}

/* The top of the local hour nearest t: zones half or three quarters of an
 * hour off UTC have theirs there. */
static double nearest_hour(const struct station_ids_rule *r, double t)
{
    double off = r->zone ? tz_offset(r->zone, (int64_t)floor(t)) : 0;
    return floor((t + off) / STATION_IDS_HOUR + 0.5) * STATION_IDS_HOUR - off;
}

/* 1 when an ID belongs at the boundary `b` (air time), given the previous
 * track's start `prev` (or NAN) and the end `end` of the track that would
 * start at b. */
static int due(const struct station_ids_rule *r, const struct station_ids_memory *mem, double b, double prev,
               double end)
{
    if (!mem->have_last)
        return 1;
    /* Waiting one more track would put the next ID beyond the longest gap. */
    if (r->every > 0 && end - mem->last_id > r->every + STATION_IDS_TIME_SLACK)
        return 1;
    if (!r->top_of_hour)
        return 0;
    double h = nearest_hour(r, b), from = h - r->top_before, to = h + r->top_after;
    if (mem->last_id >= from - STATION_IDS_TIME_SLACK)
        return 0; /* this hour's ID aired already */
    if (b >= from - STATION_IDS_TIME_SLACK && b <= to + STATION_IDS_TIME_SLACK)
        return 1;
    /* The track before spanned the whole window: the first boundary after it. */
    return b > to && !isnan(prev) && prev < from && b - h < STATION_IDS_HOUR / 2;
}

int station_ids_step(const struct station_ids_rule *r, struct station_ids_memory *mem, struct station *st, double now,
                     int64_t *at, char *err, size_t errlen)
{
    *at = -1;
    if (!station_ids_active(r))
        return 0;
    struct sched *s = &st->sched;
    size_t resume;
    int64_t b = sched_insert_point(s, station_committed(st, now), &resume);
    if (b <= mem->decided)
        return 0;
    /* Station IDs that came in between (the order's own jingles, queued
     * ones) count like the ones inserted here. */
    int64_t from = mem->decided + 1 > sched_first_seq(s) ? mem->decided + 1 : sched_first_seq(s);
    struct sched_item it;
    for (int64_t q = from; q < b; q++)
        if (sched_item(s, q, &it) == 0 && it.disc && is_id(r, it.track_id) &&
            (!mem->have_last || it.pdt > mem->last_id)) {
            mem->have_last = 1;
            mem->last_id = it.pdt;
        }
    mem->decided = b;
    if (sched_item(s, b, &it) != 0)
        return err_set(err, errlen, "sequence %lld is not on the timeline", (long long)b);
    /* A last ID later than this boundary: the timeline restarted on a
     * clock stepped far back. Waiting for that time would mean none for
     * as long; the boundary counts as the first one. */
    if (mem->have_last && mem->last_id > it.pdt + STATION_IDS_TIME_SLACK)
        mem->have_last = 0;
    if (is_id(r, it.track_id)) {
        /* The running order has one here already. */
        mem->have_last = 1;
        mem->last_id = it.pdt;
        return 1;
    }
    int64_t p = prev_track_start(s, b);
    struct sched_item pi;
    int have_prev = p >= 0 && sched_item(s, p, &pi) == 0;
    if (have_prev && is_id(r, pi.track_id))
        return 1; /* never two station IDs back to back */
    if (!due(r, mem, it.pdt, have_prev ? pi.pdt : NAN, track_end(s, b)))
        return 1;
    const struct station_ids_jingle *j = &r->jingles[mem->next % r->njingles];
    if (station_insert(st, j->segs, j->n, now, at, err, errlen) != 0)
        return -1;
    mem->next++;
    mem->have_last = 1;
    mem->last_id = it.pdt;
    /* The boundary after the jingle is decided too: the order resumes there. */
    mem->decided = *at + (int64_t)j->n;
    return 1;
}
