#include "state.h"

#include "atomic.h"
#include "err.h"
#include "json_file.h"
#include "m3u8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void state_free(struct streamer_state *s)
{
    station_memory_free(&s->mem);
    free(s->playlists);
    free(s->acks);
    memset(s, 0, sizeof *s);
}

int state_push_playlist(struct streamer_state *s, const char *cid)
{
    char (*nv)[CID_MAX_STR] = realloc(s->playlists, (s->nplaylists + 1) * sizeof *nv);
    if (!nv)
        return -1;
    s->playlists = nv;
    snprintf(s->playlists[s->nplaylists++], CID_MAX_STR, "%s", cid);
    return 0;
}

static json_t *hist_json(const struct sched_hist *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *h = json_pack("{s:I, s:s, s:I, s:f, s:f, s:b, s:I, s:s, s:s}", "seq",
                              (json_int_t)v[i].seq, "cid", v[i].cid, "samples",
                              (json_int_t)v[i].samples, "duration", v[i].duration,
                              "pdt", v[i].pdt, "disc", v[i].disc, "disc_before",
                              (json_int_t)v[i].disc_before, "title", v[i].title,
                              "track", v[i].track_id);
        /* Optional: a state written before artwork existed stays valid. */
        if (h && v[i].artwork)
            json_object_set_new(h, "artwork", json_string(v[i].artwork));
        json_array_append_new(a, h);
    }
    return a;
}

int state_save(const char *path, const struct streamer_state *s, char *err, size_t errlen)
{
    const struct station_memory *m = &s->mem;
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string(STATE_FORMAT));
    json_object_set_new(root, "version", json_integer(STATE_VERSION));
    json_object_set_new(root, "epoch", json_real(m->epoch));
    json_object_set_new(root, "target_duration", json_integer(m->target));
    json_object_set_new(root, "anchor", json_pack("{s:f, s:I, s:I, s:I, s:s}", "time", m->anchor.time,
                                                  "seq", (json_int_t)m->anchor.seq, "disc_before",
                                                  (json_int_t)m->anchor.disc_before, "offset",
                                                  (json_int_t)m->anchor.offset, "order_id",
                                                  m->anchor.order_id));
    json_object_set_new(root, "history", hist_json(m->hist, m->nhist));
    json_object_set_new(root, "window", hist_json(m->window, m->nwindow));
    json_object_set_new(root, "ipns_name", json_string(s->ipns_name));
    json_t *pls = json_array();
    for (size_t i = 0; i < s->nplaylists; i++)
        json_array_append_new(pls, json_string(s->playlists[i]));
    json_object_set_new(root, "playlists", pls);
    json_t *acks = json_array();
    int bad = !acks;
    for (size_t i = 0; !bad && i < s->nacks; i++) {
        const struct queue_ack *a = &s->acks[i];
        bad = json_array_append_new(acks, json_pack("{s:s, s:s, s:I, s:f, s:f, s:s}", "id", a->id, "track",
                                                     a->track, "first_sequence", (json_int_t)a->first_seq,
                                                     "air_time", a->air_time, "accepted", a->accepted, "state",
                                                     queue_ack_state_name(a->state))) != 0;
    }
    bad |= json_object_set_new(root, "queue", acks) != 0;
    json_t *ids = json_pack("{s:o, s:I, s:I}", "last_id", s->ids.have_last ? json_real(s->ids.last_id) : json_null(),
                            "decided", (json_int_t)s->ids.decided, "next", (json_int_t)s->ids.next);
    bad |= !ids || json_object_set_new(root, "station_ids", ids) != 0;
    json_t *pos = json_array();
    bad |= !pos;
    for (size_t i = 0; !bad && i < s->positions.n; i++)
        bad = json_array_append_new(pos, json_pack("{s:s, s:I}", "order", s->positions.v[i].order, "offset",
                                                   (json_int_t)s->positions.v[i].offset)) != 0;
    bad |= json_object_set_new(root, "order_positions", pos) != 0;
    if (bad) {
        json_decref(root);
        return err_set(err, errlen, "out of memory");
    }
    /* 17 significant digits: doubles (air times) round-trip exactly. */
    char *text = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    json_decref(root);
    if (!text)
        return err_set(err, errlen, "out of memory");
    int rc = atomic_write(path, text, strlen(text), err, errlen);
    free(text);
    return rc;
}

static int load_hist(json_t *a, struct sched_hist **out, size_t *n, const char *what,
                     char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    if (!json_is_array(a))
        return err_set(err, errlen, "\"%s\" must be a list", what);
    size_t len = json_array_size(a);
    *out = calloc(len + 1, sizeof **out);
    if (!*out)
        return err_set(err, errlen, "out of memory");
    for (size_t i = 0; i < len; i++) {
        json_t *e = json_array_get(a, i);
        struct sched_hist *h = &(*out)[i];
        json_int_t seq, samples, db;
        int disc;
        const char *cid, *title, *track;
        double dur, pdt;
        if (json_unpack(e, "{s:I, s:s, s:I, s:F, s:F, s:b, s:I, s:s, s:s}", "seq", &seq, "cid", &cid,
                        "samples", &samples, "duration", &dur, "pdt", &pdt, "disc", &disc,
                        "disc_before", &db, "title", &title, "track", &track) != 0 ||
            (i > 0 && seq != (*out)[i - 1].seq + 1) || !isfinite(pdt) || !isfinite(dur))
            return err_set(err, errlen, "\"%s\" item %zu is malformed", what, i);
        h->seq = seq;
        snprintf(h->cid, sizeof h->cid, "%s", cid);
        h->samples = samples;
        h->duration = dur;
        h->pdt = pdt;
        h->disc = disc;
        h->disc_before = db;
        h->title = strdup(title);
        h->track_id = strdup(track);
        json_t *art = json_object_get(e, "artwork");
        if (json_is_string(art) && m3u8_attr_safe(json_string_value(art)))
            h->artwork = strdup(json_string_value(art));
        (*n)++;
        if (!h->title || !h->track_id || (json_is_string(art) && m3u8_attr_safe(json_string_value(art)) && !h->artwork))
            return err_set(err, errlen, "out of memory");
    }
    return 0;
}

static int load_acks(json_t *a, struct streamer_state *s, char *err, size_t errlen)
{
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > QUEUE_REMEMBER)
        return err_set(err, errlen, "\"queue\" must be a list of at most %d items", QUEUE_REMEMBER);
    s->acks = calloc(json_array_size(a) + 1, sizeof *s->acks);
    if (!s->acks)
        return err_set(err, errlen, "out of memory");
    for (size_t i = 0; i < json_array_size(a); i++) {
        const char *id, *track, *state;
        json_int_t seq;
        double air, accepted;
        struct queue_ack *q = &s->acks[i];
        if (json_unpack(json_array_get(a, i), "{s:s, s:s, s:I, s:F, s:F, s:s}", "id", &id, "track", &track,
                        "first_sequence", &seq, "air_time", &air, "accepted", &accepted, "state", &state) != 0 ||
            strlen(id) > QUEUE_ID_MAX || strlen(track) > QUEUE_TRACK_MAX || queue_ack_state_parse(state, &q->state) != 0)
            return err_set(err, errlen, "\"queue\" item %zu is malformed", i);
        snprintf(q->id, sizeof q->id, "%s", id);
        snprintf(q->track, sizeof q->track, "%s", track);
        q->first_seq = seq;
        q->air_time = air;
        q->accepted = accepted;
        s->nacks++;
    }
    return 0;
}

/* Where each running order left off: absent in states of earlier versions. */
static int load_positions(json_t *pos, struct program_memory *out)
{
    memset(out, 0, sizeof *out);
    if (!pos)
        return 0;
    if (!json_is_array(pos) || json_array_size(pos) > PROGRAM_MAX_POSITIONS)
        return -1;
    for (size_t i = 0; i < json_array_size(pos); i++) {
        json_t *e = json_array_get(pos, i), *o = json_object_get(e, "order"), *off = json_object_get(e, "offset");
        if (!json_is_string(o) || strlen(json_string_value(o)) != 64 || !json_is_integer(off) ||
            json_integer_value(off) < 0)
            return -1;
        program_memory_put(out, json_string_value(o), json_integer_value(off));
    }
    return 0;
}

int state_load(const char *path, struct streamer_state *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    json_t *root;
    if (json_file_load(path, STATE_MAX_BYTES, &root, err, errlen) != 0)
        return -1;
    if (!root)
        return 0;
    json_error_t je;
    int rc = -1;
    struct station_memory *m = &s->mem;
    const char *fmt, *order_id, *name = "";
    json_int_t ver, target, aseq, adb;
    json_int_t aoff = 0;
    double epoch, atime;
    json_t *hist, *window, *pls = NULL, *acks = NULL, *ids = NULL, *pos = NULL;
    s->ids.decided = -1;
    if (json_unpack_ex(root, &je, 0, "{s:s, s:I, s:F, s:I, s:{s:F, s:I, s:I, s?I, s:s}, s:o, s:o, s?s, s?o, s?o, s?o, s?o}",
                       "format", &fmt, "version", &ver, "epoch", &epoch, "target_duration", &target,
                       "anchor", "time", &atime, "seq", &aseq, "disc_before", &adb, "offset", &aoff,
                       "order_id", &order_id, "history", &hist, "window", &window, "ipns_name", &name,
                       "playlists", &pls, "queue", &acks, "station_ids", &ids, "order_positions", &pos) != 0) {
        err_set(err, errlen, "%s: %s", path, je.text);
        goto out;
    }
    if (strcmp(fmt, STATE_FORMAT) != 0 || ver != STATE_VERSION) {
        err_set(err, errlen, "%s: not a version %d streamer state", path, STATE_VERSION);
        goto out;
    }
    if (target < 1 || aseq < 0 || adb < 0 || aoff < 0 || !isfinite(atime) || strlen(order_id) != 64) {
        err_set(err, errlen, "%s: anchor or target out of range", path);
        goto out;
    }
    m->epoch = epoch;
    m->target = (int)target;
    m->anchor.time = atime;
    m->anchor.seq = aseq;
    m->anchor.disc_before = adb;
    m->anchor.offset = aoff;
    memcpy(m->anchor.order_id, order_id, 65);
    if (load_hist(hist, &m->hist, &m->nhist, "history", err, errlen) != 0 ||
        load_hist(window, &m->window, &m->nwindow, "window", err, errlen) != 0) {
        err_prefix(err, errlen, "%s", path);
        goto out;
    }
    snprintf(s->ipns_name, sizeof s->ipns_name, "%s", name);
    for (size_t i = 0; json_is_array(pls) && i < json_array_size(pls); i++) {
        json_t *c = json_array_get(pls, i);
        if (json_is_string(c) && state_push_playlist(s, json_string_value(c)) != 0) {
            err_set(err, errlen, "out of memory");
            goto out;
        }
    }
    if (load_acks(acks, s, err, errlen) != 0) {
        err_prefix(err, errlen, "%s", path);
        goto out;
    }
    if (ids) {
        json_t *last = json_object_get(ids, "last_id"), *dec = json_object_get(ids, "decided"),
               *next = json_object_get(ids, "next");
        if (!(json_is_null(last) || (json_is_number(last) && isfinite(json_number_value(last)))) ||
            !json_is_integer(dec) || json_integer_value(dec) < -1 || !json_is_integer(next) ||
            json_integer_value(next) < 0) {
            err_set(err, errlen, "%s: \"station_ids\" is malformed", path);
            goto out;
        }
        s->ids.have_last = json_is_number(last);
        s->ids.last_id = s->ids.have_last ? json_number_value(last) : 0;
        s->ids.decided = json_integer_value(dec);
        s->ids.next = (uint64_t)json_integer_value(next);
    }
    if (load_positions(pos, &s->positions) != 0) {
        err_set(err, errlen, "%s: \"order_positions\" is malformed", path);
        goto out;
    }
    m->have = 1;
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        state_free(s);
    return rc;
}

int state_lock(const char *state_dir, int *fd, char *err, size_t errlen)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/lock", state_dir) >= (int)sizeof path)
        return err_set(err, errlen, "state_dir path too long");
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return err_set(err, errlen, "open %s: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(*fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return err_set(err, errlen,
                           "another radio-streamer (pid %s) is using the state directory %s; "
                           "two on one state would publish one timeline twice",
                           pid[0] ? pid : "unknown", state_dir);
        return err_set(err, errlen, "lock %s: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)n, 0) != n) {
        /* The lock holds without the pid; only the refusal message loses it. */
    }
    return 0;
}
