#include "station.h"

#include "err.h"
#include "m3u8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void station_memory_free(struct station_memory *m)
{
    for (size_t i = 0; i < m->nhist; i++) {
        free(m->hist[i].title);
        free(m->hist[i].track_id);
        free(m->hist[i].artwork);
    }
    for (size_t i = 0; i < m->nwindow; i++) {
        free(m->window[i].title);
        free(m->window[i].track_id);
        free(m->window[i].artwork);
    }
    free(m->hist);
    free(m->window);
    memset(m, 0, sizeof *m);
}

static int push_all(struct sched *s, const struct sched_hist *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].seq < s->anchor.seq && sched_hist_push(s, &v[i]) != 0)
            return -1;
    return 0;
}

int64_t station_sequence_floor(double now)
{
    double f = floor((now - STATION_FLOOR_EPOCH) * ORDER_MAX_SEGMENTS_PER_SECOND);
    return f > 0 ? (int64_t)f : 0;
}

double station_published_delay(size_t window, double listen_delay, int target)
{
    double reach = ((double)window - STATION_MIN_TARGETS) * target;
    return fmax(0, fmin(listen_delay, reach));
}

/* Seconds before the segment on air at a new station's start that its first
 * window shows: the fewest whole segments listing STATION_MIN_TARGETS target
 * durations, or the listen delay plus one if longer (players start that
 * far behind the live edge, so the first listeners hear the order from its
 * start, all at the same moment), never more than the window. */
static double lead_in(const struct order *o, const struct station_opts *opts)
{
    size_t window = opts->window;
    int target = o->max_rounded > opts->min_target ? o->max_rounded : opts->min_target;
    int64_t need = (int64_t)STATION_MIN_TARGETS * target * o->rate, listed = 0, before = 0;
    /* One target duration more, so that the moment the delay names is
     * listed, not on the window's very edge. */
    double d = station_published_delay(opts->window, opts->listen_delay, target);
    int64_t delay = d > 0 ? (int64_t)ceil((d + target) * o->rate) : 0;
    if (delay > need)
        need = delay;
    for (size_t k = 0; k < window; k++) {
        listed += o->segs[k % o->n].samples;
        if (listed >= need)
            break;
        before = listed;
    }
    return (double)before / o->rate;
}

int station_open(struct station *st, const struct station_opts *opts, struct order *o,
                 const struct station_memory *mem, double now, char *err, size_t errlen)
{
    memset(st, 0, sizeof *st);
    st->opts = *opts;
    st->newest = -1;
    st->first = -1;
    st->items = calloc(opts->window ? opts->window : 1, sizeof *st->items);
    if (!st->items) {
        order_free(o);
        return err_set(err, errlen, "out of memory");
    }
    struct sched_anchor a = {0};
    if (!mem || !mem->have) {
        /* A new station: on air from now, on a whole millisecond, with its
         * timeline started early enough that the first playlist already
         * lists the players' three target durations. */
        a.time = floor((now - lead_in(o, opts)) * 1000.0) / 1000.0;
        a.seq = a.disc_before = opts->sequence_floor ? station_sequence_floor(a.time) : 0;
        st->target = o->max_rounded > opts->min_target ? o->max_rounded : opts->min_target;
        st->epoch = a.time;
        sched_init(&st->sched, o, &a);
        return 0;
    }
    st->epoch = mem->epoch;
    st->target = mem->target > o->max_rounded ? mem->target : o->max_rounded;
    if (st->target < opts->min_target)
        st->target = opts->min_target;
    const struct sched_hist *last = mem->nwindow ? &mem->window[mem->nwindow - 1] : NULL;
    int rc = 0;
    if (strcmp(mem->anchor.order_id, o->id) == 0) {
        if (mem->anchor.offset < 0 || mem->anchor.offset >= (int64_t)o->n || !o->segs[mem->anchor.offset].track_start) {
            station_close(st);
            order_free(o);
            return err_set(err, errlen, "remembered anchor offset %lld is not a track start of the order",
                           (long long)mem->anchor.offset);
        }
        sched_init(&st->sched, o, &mem->anchor);
        rc = push_all(&st->sched, mem->hist, mem->nhist);
    } else {
        /* The order changed while we were off and the old one is gone:
         * the new one starts after the last segment listeners were given. */
        a = mem->anchor;
        a.offset = 0;
        if (last) {
            a.seq = last->seq + 1;
            a.disc_before = last->disc_before + last->disc;
            a.time = last->pdt + last->duration;
        }
        if (a.time < now)
            a.time = floor(now * 1000.0) / 1000.0;
        sched_init(&st->sched, o, &a);
        rc = push_all(&st->sched, mem->window, mem->nwindow);
    }
    if (rc != 0) {
        station_close(st);
        return err_set(err, errlen, "remembered history is not contiguous");
    }
    if (last) {
        st->newest = last->seq;
        st->first = mem->window[0].seq;
    }
    return 0;
}

void station_close(struct station *st)
{
    sched_free(&st->sched);
    free(st->items);
    st->items = NULL;
}

double station_next_boundary(const struct station *st, double now)
{
    int64_t q = sched_seq_at(&st->sched, now);
    struct sched_item it;
    if (q < 0)
        return st->sched.anchor.time > now ? st->sched.anchor.time : now + 1;
    /* The next segment's own start, not this one's start plus its duration:
     * the two doubles may differ in the last bit. */
    if (sched_item(&st->sched, q + 1, &it) == 0)
        return it.pdt;
    if (sched_item(&st->sched, q, &it) == 0)
        return it.pdt + it.duration;
    return now + 1;
}

/* A DATERANGE for every track that starts in the window, with the whole
 * track's length (its later segments are known ahead). Tracks that started
 * before the window get none, and nothing beyond what a playlist itself
 * shows is named (no manifest ids): every streamer with the same window
 * renders the same tags, whatever history it keeps. */
static int track_ranges(const struct station *st, const struct sched_item *items, size_t n,
                        struct m3u8_playlist *pl)
{
    size_t starts = 0;
    for (size_t i = 0; i < n; i++)
        starts += items[i].disc != 0;
    if (starts == 0)
        return 0;
    pl->ranges = calloc(starts, sizeof *pl->ranges);
    if (!pl->ranges)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!items[i].disc)
            continue;
        struct m3u8_daterange *r = &pl->ranges[pl->nranges++];
        r->first_seq = items[i].seq;
        r->start = items[i].pdt;
        r->title = strdup(items[i].title ? items[i].title : "");
        r->artwork = items[i].artwork ? strdup(items[i].artwork) : NULL;
        if (!r->title || (items[i].artwork && !r->artwork))
            return -1;
        /* In whole milliseconds, as EXTINF shows them: a standby that
         * knows the older segments only from a playlist sums the same. */
        struct sched_item it;
        long long ms = llround(items[i].duration * 1000.0);
        for (int64_t k = items[i].seq + 1; sched_item(&st->sched, k, &it) == 0 && !it.disc; k++)
            ms += llround(it.duration * 1000.0);
        r->duration = (double)ms / 1000.0;
    }
    return 0;
}

/* The track after the one the newest segment belongs to, for "next up":
 * the schedule knows it ahead. None when the schedule cannot say. */
static int next_range(const struct station *st, const struct sched_item *newest, struct m3u8_playlist *pl)
{
    struct sched_item it;
    int64_t k = newest->seq + 1;
    while (sched_item(&st->sched, k, &it) == 0 && !it.disc)
        k++;
    if (sched_item(&st->sched, k, &it) != 0)
        return 0;
    struct m3u8_daterange *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    pl->next = r;
    r->first_seq = it.seq;
    r->start = it.pdt;
    if (!(r->title = strdup(it.title ? it.title : "")))
        return -1;
    /* Whole milliseconds, summed as the track's own tag sums them. */
    long long ms = llround(it.duration * 1000.0);
    for (int64_t j = it.seq + 1; sched_item(&st->sched, j, &it) == 0 && !it.disc; j++)
        ms += llround(it.duration * 1000.0);
    r->duration = (double)ms / 1000.0;
    return 0;
}

static int render(const struct station *st, const struct sched_item *items, size_t n,
                  struct station_out *out)
{
    struct m3u8_playlist pl = {0};
    pl.target_duration = st->target;
    pl.media_sequence = items[0].seq;
    pl.discontinuity_sequence = items[0].disc_before;
    pl.segs = calloc(n, sizeof *pl.segs);
    if (!pl.segs)
        return -1;
    pl.nsegs = n;
    /* Players that honour EXT-X-START start listen_delay behind the end of
     * the playlist, which is the segment on air: where the listener page
     * plays by the date-times, so every player hears the same moment. A
     * window too short for the delay gets the furthest start that still
     * leaves players the few target durations they want listed ahead. */
    double delay = station_published_delay(st->opts.window, st->opts.listen_delay, st->target);
    pl.has_start = delay > 0;
    pl.start_offset = -delay;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct m3u8_segment *g = &pl.segs[i];
        char uri[CID_MAX_STR + 512];
        const char *suffix = st->opts.uri_suffix ? st->opts.uri_suffix : "";
        if (st->opts.uri_mode == STATION_URI_GATEWAY)
            snprintf(uri, sizeof uri, "%s/ipfs/%s%s", st->opts.gateway_base, items[i].cid, suffix);
        else
            snprintf(uri, sizeof uri, "/ipfs/%s%s", items[i].cid, suffix);
        g->seq = items[i].seq;
        g->duration = items[i].duration;
        g->pdt = items[i].pdt;
        g->discontinuity = items[i].disc;
        g->uri = strdup(uri);
        g->title = strdup(items[i].title);
        if (!g->uri || !g->title)
            rc = -1;
    }
    if (rc == 0)
        rc = track_ranges(st, items, n, &pl);
    if (rc == 0)
        rc = next_range(st, &items[n - 1], &pl);
    if (rc == 0)
        rc = m3u8_render(&pl, &out->playlist, &out->len);
    m3u8_free(&pl);
    return rc;
}

enum station_tick_result station_tick(struct station *st, double now, struct station_out *out,
                                      char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    int64_t q = sched_seq_at(&st->sched, now);
    if (q < 0 || q < st->newest) {
        if (st->newest < 0)
            return STATION_NOTHING;
        /* The clock went back. A little: hold until it catches up (players
         * ride it out on what they hold). Far (an hour, a clock reset):
         * holding that long is off the air, so the timeline goes on at the
         * next sequence number, marked as a discontinuity, on the new clock. */
        struct sched_item last;
        if (sched_item(&st->sched, st->newest, &last) != 0)
            return STATION_HELD;
        double behind = last.pdt - now;
        if (behind <= st->opts.clock_hold_targets * st->target)
            return STATION_HELD;
        if (sched_restart(&st->sched, st->newest, floor(now * 1000.0) / 1000.0, st->opts.window, err, errlen) != 0)
            return STATION_NOTHING;
        out->restarted_behind = behind;
        q = sched_seq_at(&st->sched, now);
    }
    /* A restart goes out at once, whatever the cadence: players have held
     * an unchanged playlist long enough. */
    if (!out->restarted_behind && (q == st->newest || (st->newest >= 0 && q - st->newest < st->opts.publish_every)))
        return STATION_NOTHING;
    size_t n = sched_window(&st->sched, q, st->opts.window, st->items);
    if (n == 0)
        return STATION_NOTHING;
    if (render(st, st->items, n, out) != 0) {
        err_set(err, errlen, "out of memory rendering the playlist");
        return STATION_NOTHING;
    }
    st->newest = q;
    st->first = st->items[0].seq;
    sched_prune(&st->sched, st->first);
    out->newest = q;
    out->first = st->first;
    out->media_sequence = st->items[0].seq;
    out->discontinuity_sequence = st->items[0].disc_before;
    out->now_playing = st->items[n - 1];
    out->newest_end = st->items[n - 1].pdt + st->items[n - 1].duration;
    return STATION_PUBLISH;
}

int64_t station_committed(const struct station *st, double now)
{
    if (st->newest >= 0)
        return st->newest;
    int64_t after = sched_seq_at(&st->sched, now);
    return after >= 0 ? after : st->sched.anchor.seq - 1;
}

int station_reload(struct station *st, struct order *o, double now, char *err, size_t errlen)
{
    return station_switch(st, o, 0, now, err, errlen);
}

int station_switch(struct station *st, struct order *o, size_t offset, double now, char *err, size_t errlen)
{
    if (o->max_rounded > st->target)
        return err_set(err, errlen,
                       "the new running order has a %d s segment; the station's target duration is %d s "
                       "and cannot grow while on air (restart the streamer to allow it)",
                       o->max_rounded, st->target);
    if (strcmp(o->id, st->sched.order.id) == 0) {
        order_free(o);
        return 0;
    }
    int rc = sched_switch(&st->sched, o, station_committed(st, now), st->opts.window, offset, err, errlen);
    return rc == 0 ? 1 : rc;
}

int station_insert(struct station *st, const struct sched_hist *v, size_t n, double now, int64_t *at,
                   char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int rounded = (int)lround((double)v[i].samples / st->sched.order.rate);
        if (rounded > st->target)
            return err_set(err, errlen,
                           "a queued segment lasts %d s; the station's target duration is %d s and cannot grow "
                           "while on air", rounded, st->target);
    }
    return sched_insert(&st->sched, v, n, station_committed(st, now), st->opts.window, at, err, errlen);
}

static int copy_hist(struct sched_hist *d, const struct sched_item *it)
{
    memset(d, 0, sizeof *d);
    d->seq = it->seq;
    snprintf(d->cid, sizeof d->cid, "%s", it->cid);
    d->samples = it->samples;
    d->duration = it->duration;
    d->pdt = it->pdt;
    d->disc = it->disc;
    d->disc_before = it->disc_before;
    d->title = strdup(it->title);
    d->track_id = strdup(it->track_id);
    d->artwork = it->artwork ? strdup(it->artwork) : NULL;
    return d->title && d->track_id && (!it->artwork || d->artwork) ? 0 : -1;
}

int station_remember(const struct station *st, struct station_memory *mem)
{
    memset(mem, 0, sizeof *mem);
    mem->have = 1;
    mem->anchor = st->sched.anchor;
    mem->target = st->target;
    mem->epoch = st->epoch;
    const struct sched *s = &st->sched;
    mem->hist = calloc(s->nhist + 1, sizeof *mem->hist);
    size_t span = st->newest >= 0 ? (size_t)(st->newest - st->first + 1) : 0;
    mem->window = calloc(span + 1, sizeof *mem->window);
    if (!mem->hist || !mem->window) {
        station_memory_free(mem);
        return -1;
    }
    for (size_t i = 0; i < s->nhist; i++) {
        struct sched_item it;
        if (sched_item(s, s->hist[i].seq, &it) != 0 || copy_hist(&mem->hist[mem->nhist++], &it) != 0) {
            station_memory_free(mem);
            return -1;
        }
    }
    for (int64_t q = st->first; st->newest >= 0 && q <= st->newest; q++) {
        struct sched_item it;
        if (sched_item(s, q, &it) != 0)
            continue;
        if (copy_hist(&mem->window[mem->nwindow++], &it) != 0) {
            station_memory_free(mem);
            return -1;
        }
    }
    return 0;
}
