#include "queue.h"

#include "atomic.h"
#include "json_file.h"
#include "log.h"
#include "m3u8.h"
#include "node_check.h"
#include "order.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* How far an acknowledged air time may differ from the timeline's before
 * the item counts as no longer there: well under a millisecond. */
#define QUEUE_TIME_SLACK 1e-4

static const char *const STATE_NAMES[] = {"scheduled", "aired", "dropped"};

const char *queue_ack_state_name(enum queue_ack_state s)
{
    return STATE_NAMES[s];
}

int queue_ack_state_parse(const char *name, enum queue_ack_state *s)
{
    for (size_t i = 0; i < sizeof STATE_NAMES / sizeof *STATE_NAMES; i++)
        if (strcmp(name, STATE_NAMES[i]) == 0) {
            *s = (enum queue_ack_state)i;
            return 0;
        }
    return -1;
}

void queue_file_free(struct queue_file *q)
{
    free(q->v);
    memset(q, 0, sizeof *q);
}

static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > QUEUE_ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-", s[i]))
            return 0;
    return 1;
}

int queue_parse(const char *text, size_t len, struct queue_file *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    json_t *root;
    if (json_versioned_parse(text, len, QUEUE_FORMAT, QUEUE_VERSION, &root, err, errlen) != 0)
        return -1;
    int rc = -1;
    json_t *items = json_object_get(root, "items");
    if (!json_is_array(items) || json_array_size(items) < 1 || json_array_size(items) > QUEUE_MAX_ITEMS) {
        err_set(err, errlen, "\"items\" must be a list of 1 to %d requests", QUEUE_MAX_ITEMS);
        goto out;
    }
    size_t n = json_array_size(items);
    if (!(q->v = calloc(n, sizeof *q->v))) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(items, i);
        json_t *id = json_object_get(e, "id"), *track = json_object_get(e, "track");
        if (!json_is_object(e) || !json_is_string(id) || !valid_id(json_string_value(id))) {
            err_set(err, errlen, "item %zu: \"id\" must be 1 to %d of A-Z a-z 0-9 . _ : -", i + 1, QUEUE_ID_MAX);
            goto out;
        }
        if (!json_is_string(track) || json_string_length(track) < 1 || json_string_length(track) > QUEUE_TRACK_MAX ||
            strlen(json_string_value(track)) != json_string_length(track)) {
            err_set(err, errlen, "item %zu (%s): \"track\" must name a track of manifest.json", i + 1,
                    json_string_value(id));
            goto out;
        }
        struct queue_request *r = &q->v[i];
        snprintf(r->id, sizeof r->id, "%s", json_string_value(id));
        snprintf(r->track, sizeof r->track, "%s", json_string_value(track));
        for (size_t j = 0; j < i; j++)
            if (strcmp(q->v[j].id, r->id) == 0) {
                err_set(err, errlen, "item %zu: id \"%s\" appears twice", i + 1, r->id);
                goto out;
            }
        q->n++;
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        queue_file_free(q);
    return rc;
}

int queue_init(struct queue *q, const char *processed_dir, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < sizeof q->sig / sizeof *q->sig; i++)
        q->sig[i] = -2; /* never read: the first poll reads it */
    if (fs_path(q->manifest_path, sizeof q->manifest_path, err, errlen, "%s/manifest.json", processed_dir) != 0)
        return -1;
    return fs_path(q->path, sizeof q->path, err, errlen, "%s/%s", processed_dir, QUEUE_FILE);
}

void queue_free(struct queue *q)
{
    free(q->acks);
    q->acks = NULL;
    q->nacks = 0;
}

static const struct queue_ack *find_ack(const struct queue *q, const char *id)
{
    for (size_t i = 0; i < q->nacks; i++)
        if (strcmp(q->acks[i].id, id) == 0)
            return &q->acks[i];
    return NULL;
}

static int push_ack(struct queue *q, const struct queue_ack *a)
{
    if (q->nacks == QUEUE_REMEMBER) {
        memmove(q->acks, q->acks + 1, (q->nacks - 1) * sizeof *q->acks);
        q->nacks--;
    }
    struct queue_ack *nv = realloc(q->acks, (q->nacks + 1) * sizeof *nv);
    if (!nv)
        return -1;
    q->acks = nv;
    q->acks[q->nacks++] = *a;
    return 0;
}

int queue_restore(struct queue *q, const struct queue_ack *acks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (push_ack(q, &acks[i]) != 0)
            return -1;
    return 0;
}

static void free_segs(struct sched_hist *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].title);
        free(v[i].track_id);
    }
    free(v);
}

int queue_resolve(const struct queue *q, const struct queue_file *f, const struct manifest *m, int rate,
                  struct sched_hist **segs, size_t *nsegs, struct queue_request **fresh, size_t *nfresh,
                  char *err, size_t errlen)
{
    *segs = NULL;
    *nsegs = 0;
    *fresh = NULL;
    *nfresh = 0;
    if (m->enc.sample_rate != rate)
        return err_set(err, errlen, "manifest.json is cut at %d Hz, the station plays %d Hz", m->enc.sample_rate,
                       rate);
    size_t total = 0, nf = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (find_ack(q, f->v[i].id))
            continue;
        const struct manifest_track *t = manifest_find(m, f->v[i].track);
        if (!t)
            return err_set(err, errlen, "item \"%s\" names track \"%.100s\", which manifest.json lacks", f->v[i].id,
                           f->v[i].track);
        if (order_check_track(t, rate, err, errlen) != 0)
            return err_prefix(err, errlen, "item \"%s\"", f->v[i].id);
        total += t->nsegs;
        nf++;
    }
    if (nf == 0)
        return 0;
    struct sched_hist *v = calloc(total, sizeof *v);
    struct queue_request *r = calloc(nf, sizeof *r);
    if (!v || !r) {
        free(v);
        free(r);
        return err_set(err, errlen, "out of memory");
    }
    size_t k = 0, j = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (find_ack(q, f->v[i].id))
            continue;
        const struct manifest_track *t = manifest_find(m, f->v[i].track);
        char label[1024];
        manifest_track_label(t, label, sizeof label);
        r[j++] = f->v[i];
        for (size_t s = 0; s < t->nsegs; s++, k++) {
            snprintf(v[k].cid, sizeof v[k].cid, "%s", t->segs[s].cid);
            v[k].samples = t->segs[s].samples;
            v[k].duration = (double)t->segs[s].samples / rate;
            v[k].disc = s == 0;
            v[k].title = strdup(label);
            v[k].track_id = strdup(t->id);
            if (!v[k].title || !v[k].track_id) {
                free_segs(v, k + 1);
                free(r);
                return err_set(err, errlen, "out of memory");
            }
        }
    }
    *segs = v;
    *nsegs = total;
    *fresh = r;
    *nfresh = nf;
    return 0;
}

static void sig_of(const char *path, int64_t sig[3])
{
    struct stat st;
    if (stat(path, &st) != 0) {
        sig[0] = sig[1] = sig[2] = -1;
    } else {
        sig[0] = (int64_t)st.st_ino;
        sig[1] = (int64_t)st.st_size;
        sig[2] = (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
    }
}

/* 1 when the queue or the manifest it names tracks of differs from what
 * was last read: a queue refused for a track the manifest lacked is tried
 * again once the manifest has it. */
static int file_changed(struct queue *q, int64_t sig[6])
{
    sig_of(q->path, sig);
    sig_of(q->manifest_path, sig + 3);
    return memcmp(sig, q->sig, sizeof q->sig) != 0;
}

/* Reads, resolves, checks and inserts; -1 with err on refusal. */
static int take(struct queue *q, struct station *st, const char *processed_dir, const struct ipfs_client *c,
                double now, char *err, size_t errlen)
{
    struct stat sb;
    if (stat(q->path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return err_set(err, errlen, "%s is not a regular file", q->path);
    char *text = NULL, *mtext = NULL, mpath[4200];
    size_t len = 0, mlen = 0;
    if (atomic_read(q->path, QUEUE_MAX_BYTES, &text, &len, err, errlen) != 0)
        return -1;
    struct queue_file f;
    int rc = strlen(text) != len ? err_set(err, errlen, "holds a NUL byte") : queue_parse(text, len, &f, err, errlen);
    free(text);
    if (rc != 0)
        return err_prefix(err, errlen, "%s", q->path);
    snprintf(mpath, sizeof mpath, "%s/manifest.json", processed_dir);
    struct manifest m;
    if (atomic_read(mpath, MANIFEST_MAX_BYTES, &mtext, &mlen, err, errlen) != 0 ||
        (strlen(mtext) != mlen && err_set(err, errlen, "%s holds a NUL byte", mpath)) ||
        manifest_parse(mtext, mpath, &m, err, errlen) != 0) {
        free(mtext);
        queue_file_free(&f);
        return -1;
    }
    free(mtext);
    struct sched_hist *segs = NULL;
    struct queue_request *fresh = NULL;
    size_t nsegs = 0, nfresh = 0;
    rc = queue_resolve(q, &f, &m, st->sched.order.rate, &segs, &nsegs, &fresh, &nfresh, err, errlen);
    manifest_free(&m);
    queue_file_free(&f);
    if (rc != 0)
        return err_prefix(err, errlen, "%s", q->path);
    if (nfresh == 0)
        return 0;
    const char **cids = calloc(nsegs, sizeof *cids);
    if (!cids)
        rc = err_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < nsegs; i++)
        cids[i] = segs[i].cid;
    if (rc == 0)
        rc = node_check_pinned(c, cids, nsegs, err, errlen);
    free(cids);
    int64_t at = -1;
    if (rc == 0)
        rc = station_insert(st, segs, nsegs, now, &at, err, errlen);
    if (rc != 0) {
        err_prefix(err, errlen, "%s", q->path);
    } else {
        int64_t seq = at;
        for (size_t i = 0; i < nfresh && rc == 0; i++) {
            struct sched_item it;
            struct queue_ack a = {.first_seq = seq, .accepted = now, .state = QUEUE_SCHEDULED};
            snprintf(a.id, sizeof a.id, "%s", fresh[i].id);
            snprintf(a.track, sizeof a.track, "%s", fresh[i].track);
            if (sched_item(&st->sched, seq, &it) == 0)
                a.air_time = it.pdt;
            if (push_ack(q, &a) != 0)
                rc = err_set(err, errlen, "out of memory");
            /* The next request starts at the next track start. */
            do
                seq++;
            while (sched_item(&st->sched, seq, &it) == 0 && !it.disc);
        }
        struct sched_item first;
        q->have_change = 1;
        q->change_seq = at;
        q->change_time = sched_item(&st->sched, at, &first) == 0 ? first.pdt : 0;
        rc = rc == 0 ? 1 : rc;
    }
    free_segs(segs, nsegs);
    free(fresh);
    return rc;
}

int queue_poll(struct queue *q, struct station *st, const char *processed_dir, const struct ipfs_client *c,
               double now, int forced, char *err, size_t errlen)
{
    int64_t sig[6];
    if (!file_changed(q, sig) && !forced)
        return 0;
    memcpy(q->sig, sig, sizeof q->sig);
    if (sig[0] == -1)
        return 0; /* no queue file: nothing asked */
    int rc = take(q, st, processed_dir, c, now, err, errlen);
    if (rc > 0) {
        q->accepted++;
        q->last_error[0] = '\0';
        char seq[32], at[M3U8_TIME_LEN];
        snprintf(seq, sizeof seq, "%lld", (long long)q->change_seq);
        m3u8_format_time(q->change_time, at);
        log_ev(LOG_INFO, "queue accepted; it airs from the next track boundary, then the running order goes on "
               "where it was", "from_sequence", seq, "at", at, NULL);
    } else if (rc < 0) {
        q->refused++;
        /* A rewrite storm repeats one problem many times: say it once. */
        int again = strcmp(q->last_error, err) == 0;
        snprintf(q->last_error, sizeof q->last_error, "%s", err);
        q->last_error_time = now;
        log_ev(again ? LOG_DEBUG : LOG_ERROR, "queue refused; the station plays on", "error", err, NULL);
    }
    return rc;
}

void queue_refresh(struct queue *q, const struct sched *s, double now)
{
    for (size_t i = 0; i < q->nacks; i++) {
        struct queue_ack *a = &q->acks[i];
        if (a->state != QUEUE_SCHEDULED)
            continue;
        struct sched_item it;
        if (sched_item(s, a->first_seq, &it) != 0) {
            /* Older than the timeline keeps: it went by, or a new one began. */
            a->state = a->air_time <= now ? QUEUE_AIRED : QUEUE_DROPPED;
            continue;
        }
        if (!it.disc || strcmp(it.track_id, a->track) != 0 || fabs(it.pdt - a->air_time) > QUEUE_TIME_SLACK)
            a->state = QUEUE_DROPPED;
        else if (it.pdt <= now)
            a->state = QUEUE_AIRED;
    }
}

static json_t *time_json(double t)
{
    char buf[M3U8_TIME_LEN];
    m3u8_format_time(t, buf);
    return json_string(buf);
}

json_t *queue_status_json(const struct queue *q)
{
    json_t *items = json_array();
    size_t from = q->nacks > QUEUE_STATUS_ITEMS ? q->nacks - QUEUE_STATUS_ITEMS : 0;
    for (size_t i = from; items && i < q->nacks; i++) {
        const struct queue_ack *a = &q->acks[i];
        if (json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "id", a->id, "track",
                                                   a->track, "state", queue_ack_state_name(a->state),
                                                   "first_sequence", (json_int_t)a->first_seq, "air_time",
                                                   time_json(a->air_time), "accepted",
                                                   time_json(a->accepted))) != 0) {
            json_decref(items);
            return NULL;
        }
    }
    json_t *change = q->have_change ? json_pack("{s:I, s:o}", "first_sequence", (json_int_t)q->change_seq,
                                                "air_time", time_json(q->change_time))
                                    : json_null();
    if (!items || !change) {
        json_decref(items);
        json_decref(change);
        return NULL;
    }
    return json_pack("{s:s, s:I, s:I, s:s?, s:o, s:o, s:o}", "file", q->path, "accepted", (json_int_t)q->accepted,
                     "refused", (json_int_t)q->refused, "last_error", q->last_error[0] ? q->last_error : NULL,
                     "last_error_time", q->last_error[0] ? time_json(q->last_error_time) : json_null(),
                     "took_effect", change, "items", items);
}
