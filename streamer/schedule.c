#include "schedule.h"

#include "err.h"

#define SCHED_SAMPLE_SLACK 0.5
#define SCHED_TIME_SLACK 1e-6

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sched_init(struct sched *s, struct order *o, const struct sched_anchor *a)
{
    memset(s, 0, sizeof *s);
    s->order = *o;
    memset(o, 0, sizeof *o);
    s->anchor = *a;
    memcpy(s->anchor.order_id, s->order.id, sizeof s->anchor.order_id);
}

static void hist_free_one(struct sched_hist *h)
{
    free(h->title);
    free(h->track_id);
    free(h->artwork);
}

void sched_free(struct sched *s)
{
    order_free(&s->order);
    for (size_t i = 0; i < s->nhist; i++)
        hist_free_one(&s->hist[i]);
    free(s->hist);
    memset(s, 0, sizeof *s);
}

int64_t sched_first_seq(const struct sched *s)
{
    return s->nhist ? s->hist[0].seq : s->anchor.seq;
}

static void from_order(const struct sched *s, int64_t seq, struct sched_item *out)
{
    const struct order *o = &s->order;
    size_t off = (size_t)s->anchor.offset;
    int64_t d = seq - s->anchor.seq + (int64_t)off;
    int64_t k = d / (int64_t)o->n;
    size_t i = (size_t)(d % (int64_t)o->n);
    const struct order_seg *g = &o->segs[i];
    out->seq = seq;
    out->cid = g->cid;
    out->samples = g->samples;
    out->duration = (double)g->samples / o->rate;
    out->pdt = s->anchor.time + (double)(k * order_loop_samples(o) + o->prefix[i] - o->prefix[off]) / o->rate;
    out->disc = g->track_start;
    out->disc_before = s->anchor.disc_before + k * order_loop_tags(o) + o->tags[i] - o->tags[off];
    out->title = o->tracks[g->track].label;
    out->track_id = o->tracks[g->track].id;
    out->artwork = o->tracks[g->track].artwork;
}

int sched_item(const struct sched *s, int64_t seq, struct sched_item *out)
{
    if (seq >= s->anchor.seq) {
        from_order(s, seq, out);
        return 0;
    }
    if (!s->nhist || seq < s->hist[0].seq || seq > s->hist[s->nhist - 1].seq)
        return -1;
    const struct sched_hist *h = &s->hist[seq - s->hist[0].seq];
    out->seq = h->seq;
    out->cid = h->cid;
    out->samples = h->samples;
    out->duration = h->duration;
    out->pdt = h->pdt;
    out->disc = h->disc;
    out->disc_before = h->disc_before;
    out->title = h->title;
    out->track_id = h->track_id;
    out->artwork = h->artwork;
    return 0;
}

int64_t sched_seq_at(const struct sched *s, double t)
{
    if (t >= s->anchor.time) {
        const struct order *o = &s->order;
        /* Rounded to the nearest sample: air times are doubles near 2e9 s,
         * whose last bit is a hundredth of a sample, so a time computed as a
         * segment's start must land in that segment, not just before it. */
        size_t off = (size_t)s->anchor.offset;
        int64_t pos = (int64_t)floor((t - s->anchor.time) * o->rate + SCHED_SAMPLE_SLACK) + o->prefix[off];
        int64_t loop = order_loop_samples(o);
        int64_t k = pos / loop;
        size_t i = order_index_at(o, pos % loop);
        return s->anchor.seq + k * (int64_t)o->n + (int64_t)i - (int64_t)off;
    }
    /* Before the anchor: the last history item already on air. */
    size_t lo = 0, hi = s->nhist;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->hist[mid].pdt <= t + SCHED_TIME_SLACK)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? s->hist[lo - 1].seq : -1;
}

size_t sched_window(const struct sched *s, int64_t newest, size_t size, struct sched_item *out)
{
    if (newest < 0 || size == 0)
        return 0;
    int64_t first = newest - (int64_t)size + 1;
    int64_t low = sched_first_seq(s);
    if (first < low)
        first = low;
    size_t n = 0;
    for (int64_t q = first; q <= newest; q++)
        if (sched_item(s, q, &out[n]) == 0)
            n++;
    return n;
}

int sched_hist_push(struct sched *s, const struct sched_hist *h)
{
    if (s->nhist && h->seq != s->hist[s->nhist - 1].seq + 1)
        return -1;
    if (s->nhist == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        struct sched_hist *nv = realloc(s->hist, cap * sizeof *nv);
        if (!nv)
            return -1;
        s->hist = nv;
        s->cap = cap;
    }
    struct sched_hist *d = &s->hist[s->nhist];
    *d = *h;
    d->title = strdup(h->title ? h->title : "");
    d->track_id = strdup(h->track_id ? h->track_id : "");
    d->artwork = h->artwork ? strdup(h->artwork) : NULL;
    if (!d->title || !d->track_id || (h->artwork && !d->artwork)) {
        hist_free_one(d);
        return -1;
    }
    s->nhist++;
    return 0;
}

void sched_prune(struct sched *s, int64_t min_seq)
{
    size_t drop = 0;
    while (drop < s->nhist && s->hist[drop].seq < min_seq)
        hist_free_one(&s->hist[drop++]);
    if (drop) {
        memmove(s->hist, s->hist + drop, (s->nhist - drop) * sizeof *s->hist);
        s->nhist -= drop;
    }
}

/* Replaces the history with the items from what a window of `keep`
 * ending at after_seq may still show up to (not including) end. */
static int keep_history(struct sched *s, int64_t after_seq, size_t keep, int64_t end, char *err, size_t errlen)
{
    int64_t lo = after_seq - (int64_t)keep + 1;
    if (lo < sched_first_seq(s))
        lo = sched_first_seq(s);
    struct sched_hist *keepv = calloc((size_t)(end - lo) + 1, sizeof *keepv);
    if (!keepv)
        return err_set(err, errlen, "out of memory");
    size_t nk = 0;
    int rc = 0;
    for (int64_t q = lo; q < end; q++) {
        struct sched_item it;
        if (sched_item(s, q, &it) != 0)
            continue;
        struct sched_hist *h = &keepv[nk];
        h->seq = it.seq;
        snprintf(h->cid, sizeof h->cid, "%s", it.cid);
        h->samples = it.samples;
        h->duration = it.duration;
        h->pdt = it.pdt;
        h->disc = it.disc;
        h->disc_before = it.disc_before;
        h->title = strdup(it.title);
        h->track_id = strdup(it.track_id);
        h->artwork = it.artwork ? strdup(it.artwork) : NULL;
        nk++;
        if (!h->title || !h->track_id || (it.artwork && !h->artwork)) {
            rc = err_set(err, errlen, "out of memory");
            break;
        }
    }
    if (rc != 0) {
        for (size_t j = 0; j < nk; j++)
            hist_free_one(&keepv[j]);
        free(keepv);
        return rc;
    }
    for (size_t j = 0; j < s->nhist; j++)
        hist_free_one(&s->hist[j]);
    free(s->hist);
    s->hist = keepv;
    s->nhist = nk;
    s->cap = (size_t)(end - lo) + 1;
    return 0;
}

/* The first track start after after_seq, in the current order; *index
 * gets its place in the order. */
static int64_t next_track_start(const struct sched *s, int64_t after_seq, size_t *index)
{
    const struct order *o = &s->order;
    int64_t off = s->anchor.offset;
    int64_t d = after_seq + 1 - s->anchor.seq + off;
    int64_t k = d / (int64_t)o->n;
    size_t i = (size_t)(d % (int64_t)o->n);
    if (!o->segs[i].track_start) {
        i = order_next_track_start(o, i);
        if (i == o->n) {
            i = 0;
            k++;
        }
    }
    *index = i;
    return s->anchor.seq + k * (int64_t)o->n + (int64_t)i - off;
}

int sched_switch(struct sched *s, struct order *next, int64_t after_seq, size_t keep, size_t offset,
                 char *err, size_t errlen)
{
    if (offset >= next->n || !next->segs[offset].track_start)
        return err_set(err, errlen, "segment %zu of the new order does not start a track", offset);
    if (s->anchor.seq > after_seq) {
        /* The pending order never aired: replace it at the same point. */
        order_free(&s->order);
        s->order = *next;
        memset(next, 0, sizeof *next);
        memcpy(s->anchor.order_id, s->order.id, sizeof s->anchor.order_id);
        s->anchor.offset = (int64_t)offset;
        return 0;
    }
    size_t i;
    int64_t switch_seq = next_track_start(s, after_seq, &i);
    struct sched_item at;
    from_order(s, switch_seq, &at);

    if (keep_history(s, after_seq, keep, switch_seq, err, errlen) != 0)
        return -1;
    order_free(&s->order);
    s->order = *next;
    memset(next, 0, sizeof *next);
    s->anchor.time = at.pdt;
    s->anchor.seq = switch_seq;
    s->anchor.disc_before = at.disc_before;
    s->anchor.offset = (int64_t)offset;
    memcpy(s->anchor.order_id, s->order.id, sizeof s->anchor.order_id);
    return 0;
}

int64_t sched_insert_point(const struct sched *s, int64_t after_seq, size_t *resume)
{
    if (s->anchor.seq > after_seq) {
        /* An insert or a new order not yet on air: this one goes after the
         * former, before the latter, and the order resumes as planned. */
        *resume = (size_t)s->anchor.offset;
        return s->anchor.seq;
    }
    return next_track_start(s, after_seq, resume);
}

int sched_insert(struct sched *s, const struct sched_hist *v, size_t n, int64_t after_seq, size_t keep,
                 int64_t *at_seq, char *err, size_t errlen)
{
    if (n == 0 || !v[0].disc)
        return err_set(err, errlen, "an insert must start a track");
    size_t resume;
    int64_t seq = sched_insert_point(s, after_seq, &resume);
    struct sched_item at;
    from_order(s, seq, &at);
    if (keep_history(s, after_seq, keep, seq, err, errlen) != 0)
        return -1;
    int64_t samples = 0, starts = 0;
    for (size_t j = 0; j < n; j++) {
        struct sched_hist h = v[j];
        h.seq = seq + (int64_t)j;
        h.pdt = at.pdt + (double)samples / s->order.rate;
        h.duration = (double)h.samples / s->order.rate;
        h.disc_before = at.disc_before + starts;
        if (sched_hist_push(s, &h) != 0)
            return err_set(err, errlen, "out of memory");
        samples += h.samples;
        starts += h.disc != 0;
    }
    s->anchor.time = at.pdt + (double)samples / s->order.rate;
    s->anchor.seq = seq + (int64_t)n;
    s->anchor.disc_before = at.disc_before + starts;
    s->anchor.offset = (int64_t)resume;
    *at_seq = seq;
    return 0;
}

int sched_restart(struct sched *s, int64_t after_seq, double time, size_t keep, char *err, size_t errlen)
{
    struct sched_item last;
    if (sched_item(s, after_seq, &last) != 0)
        return err_set(err, errlen, "sequence %lld is not on the timeline", (long long)after_seq);
    int64_t disc_before = last.disc_before + last.disc;
    if (keep_history(s, after_seq, keep, after_seq + 1, err, errlen) != 0)
        return -1;
    /* The order from its top: its first segment starts a track, so the
     * restart is marked EXT-X-DISCONTINUITY like any track boundary. */
    s->anchor.time = time;
    s->anchor.seq = after_seq + 1;
    s->anchor.disc_before = disc_before;
    s->anchor.offset = 0;
    return 0;
}
