#include "standby.h"

#include "ipns_record.h"
#include "log.h"
#include "m3u8.h"
#include "order.h"
#include "recover.h"
#include "timeline_line.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int guard_begin(void *ctx, uint64_t *floor)
{
    struct standby *sb = ctx;
    pthread_mutex_lock(&sb->mu);
    if (!sb->active) {
        pthread_mutex_unlock(&sb->mu);
        return RECORD_PUBLISHER_REFUSED;
    }
    /* Above every record seen, ours or not: a number is never signed twice. */
    if (sb->seen_seq + 1 > *floor)
        *floor = sb->seen_seq + 1;
    return 0; /* the lock is held until guard_end */
}

static void guard_end(void *ctx, uint64_t seq)
{
    struct standby *sb = ctx;
    if (seq > sb->last_signed)
        sb->last_signed = seq;
    pthread_mutex_unlock(&sb->mu);
}

/* The playlist a record points at, from the own node (the other streamer
 * gives it every Kubo target before the record). */
static int fetch_playlist(struct standby *sb, const char *cid, char **text, size_t *len, char *err, size_t errlen)
{
    char q[CID_MAX_STR + 32];
    snprintf(q, sizeof q, "arg=%%2Fipfs%%2F%s", cid);
    struct ipfs_response r;
    if (ipfs_call(&sb->ipfs, "cat", q, &r, err, errlen) != 0)
        return -1;
    if (!r.body || r.len == 0 || r.len > M3U8_MAX_BYTES) {
        ipfs_response_free(&r);
        return err_set(err, errlen, "playlist %s is empty or too large", cid);
    }
    *text = r.body;
    *len = r.len;
    r.body = NULL;
    ipfs_response_free(&r);
    return 0;
}

/* The record's value as a playlist CID ("/ipfs/<cid>"). */
static int value_cid(const struct ipns_record_view *v, char cid[CID_MAX_STR])
{
    const char *pre = "/ipfs/";
    size_t pl = strlen(pre);
    if (v->value_len <= pl || v->value_len - pl >= CID_MAX_STR || memcmp(v->value, pre, pl) != 0)
        return -1;
    memcpy(cid, v->value + pl, v->value_len - pl);
    cid[v->value_len - pl] = '\0';
    return 0;
}

static void log_seq(enum log_level lvl, const char *msg, uint64_t seq, const char *k2, const char *v2)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)seq);
    log_ev(lvl, msg, "sequence", s, k2, v2, NULL);
}

/* One read of the own node's record, and what follows from it. */
static void poll_once(struct standby *sb)
{
    uint8_t rec[IPNS_RECORD_MAX];
    size_t len = 0;
    char err[ERR_MSG_MAX] = "";
    struct ipns_record_view v;
    int have = ipfs_ipns_get(&sb->ipfs, sb->o.name, rec, sizeof rec, &len, err, sizeof err) == 1 &&
               ipns_record_verify(rec, len, sb->o.pk, 0, &v, err, sizeof err) == 0 && v.has_seq;
    char cid[CID_MAX_STR] = "";
    if (have && value_cid(&v, cid) != 0)
        have = 0, snprintf(err, sizeof err, "the record does not point at /ipfs/<cid>");
    double mono = sb->clock->mono(sb->clock->ctx), wall = sb->clock->now(sb->clock->ctx);
    int stepped_back = 0, fetch = 0;
    uint64_t seq = 0;
    pthread_mutex_lock(&sb->mu);
    snprintf(sb->v.error, sizeof sb->v.error, "%s", have ? "" : err);
    /* The record counts as standing still only over reads that worked: a
     * node back from an outage still holds the record it had before. */
    if (have)
        sb->read_mono = mono;
    else
        sb->seen_mono = mono;
    if (have && v.seq > sb->seen_seq) {
        sb->seen_seq = v.seq;
        sb->seen_mono = mono;
        sb->v.seen_sequence = v.seq;
        sb->v.seen_changed = wall;
        sb->v.seen_foreign = v.seq > sb->last_signed;
        if (sb->v.seen_foreign) {
            snprintf(sb->follow_cid, sizeof sb->follow_cid, "%s", cid);
            if (sb->active) {
                sb->active = 0;
                sb->v.stepbacks++;
                sb->v.last_stepback = wall;
                stepped_back = 1;
            }
        }
    }
    sb->v.active = sb->active;
    fetch = strcmp(sb->follow_cid, sb->fetched_cid) != 0;
    snprintf(cid, sizeof cid, "%s", sb->follow_cid);
    seq = sb->seen_seq;
    pthread_mutex_unlock(&sb->mu);
    if (stepped_back)
        log_seq(LOG_WARN, "another streamer is on air with a newer record: stepping back to standby", seq, "playlist",
                cid);
    if (!fetch)
        return;
    char *text = NULL;
    size_t tlen = 0;
    if (fetch_playlist(sb, cid, &text, &tlen, err, sizeof err) != 0) {
        /* Retried at every read: said once per playlist. */
        if (strcmp(sb->warned_cid, cid) != 0)
            log_ev(LOG_WARN, "cannot fetch the other streamer's playlist; will try again", "playlist", cid, "error",
                   err, NULL);
        snprintf(sb->warned_cid, sizeof sb->warned_cid, "%s", cid);
        return;
    }
    pthread_mutex_lock(&sb->mu);
    /* The last one fetched stays until a newer one arrives: the timeline
     * is the same, only a few segments behind. */
    free(sb->follow);
    sb->follow = text;
    sb->follow_len = tlen;
    snprintf(sb->fetched_cid, sizeof sb->fetched_cid, "%s", cid);
    pthread_mutex_unlock(&sb->mu);
}

static struct timespec mono_deadline(double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    return ts;
}

static void *run(void *arg)
{
    struct standby *sb = arg;
    for (;;) {
        struct timespec ts = mono_deadline(sb->o.poll);
        pthread_mutex_lock(&sb->mu);
        while (!sb->stop && pthread_cond_timedwait(&sb->cv, &sb->mu, &ts) != ETIMEDOUT)
            ;
        int stop = sb->stop;
        pthread_mutex_unlock(&sb->mu);
        if (stop)
            return NULL;
        poll_once(sb);
    }
}

int standby_start(struct standby *sb, const struct standby_opts *o, const struct clock *clk, char *err,
                  size_t errlen)
{
    memset(sb, 0, sizeof *sb);
    sb->o = *o;
    sb->clock = clk;
    if (ipfs_client_init(&sb->ipfs, o->api, o->auth, err, errlen) != 0)
        return -1;
    /* A read slower than the takeover time would delay the takeover. */
    sb->ipfs.timeout = o->takeover;
    sb->ipfs.retries = 0;
    sb->guard = (struct record_guard){guard_begin, guard_end, sb};
    sb->last_signed = o->last_signed;
    sb->active = o->start_active;
    sb->seen_mono = clk->mono(clk->ctx);
    pthread_mutex_init(&sb->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&sb->cv, &ca);
    pthread_condattr_destroy(&ca);
    poll_once(sb);
    pthread_mutex_lock(&sb->mu);
    int active = sb->active;
    pthread_mutex_unlock(&sb->mu);
    log_seq(LOG_NOTICE, active ? "failover: on air" : "failover: standby, following the station's records",
            sb->seen_seq, "role", active ? "active" : "standby");
    if (pthread_create(&sb->thread, NULL, run, sb) != 0) {
        standby_stop(sb);
        return err_set(err, errlen, "cannot start the failover thread");
    }
    sb->started = 1;
    return 0;
}

/* Under the lock: a standby whose record stood still long enough goes on air. */
static void maybe_take_over(struct standby *sb)
{
    /* Only a read that came after the takeover time proves the record
     * stood still: a node that does not answer, or a routing/get slower
     * than the takeover time, must not put a second streamer on air. */
    if (sb->active || sb->read_mono - sb->seen_mono < sb->o.takeover)
        return;
    sb->active = sb->v.active = 1;
    sb->adopt = 1;
    sb->v.takeovers++;
    sb->v.last_takeover = sb->clock->now(sb->clock->ctx);
    sb->v.last_takeover_wait = sb->read_mono - sb->seen_mono;
    char w[32];
    snprintf(w, sizeof w, "%.3f", sb->v.last_takeover_wait);
    log_seq(LOG_WARN, "the station's record stopped advancing: taking over", sb->seen_seq, "stood_still_seconds", w);
}

double standby_takeover_in(struct standby *sb)
{
    pthread_mutex_lock(&sb->mu);
    double left = sb->active ? -1 : sb->seen_mono + sb->o.takeover - sb->clock->mono(sb->clock->ctx);
    /* Past it: the next read may confirm it. */
    if (!sb->active && left < sb->o.poll)
        left = sb->o.poll / 2;
    pthread_mutex_unlock(&sb->mu);
    return left;
}

int standby_on_air(struct standby *sb, char **adopt, size_t *adopt_len)
{
    *adopt = NULL;
    *adopt_len = 0;
    pthread_mutex_lock(&sb->mu);
    maybe_take_over(sb);
    int active = sb->active;
    if (sb->adopt && active) {
        sb->adopt = 0;
        if (sb->follow && (*adopt = malloc(sb->follow_len + 1)) != NULL) {
            memcpy(*adopt, sb->follow, sb->follow_len + 1);
            *adopt_len = sb->follow_len;
        }
    }
    pthread_mutex_unlock(&sb->mu);
    return active;
}

void standby_status(struct standby *sb, struct standby_view *v)
{
    pthread_mutex_lock(&sb->mu);
    *v = sb->v;
    v->active = sb->active;
    pthread_mutex_unlock(&sb->mu);
}

void standby_stop(struct standby *sb)
{
    if (sb->started) {
        pthread_mutex_lock(&sb->mu);
        sb->stop = 1;
        pthread_cond_broadcast(&sb->cv);
        pthread_mutex_unlock(&sb->mu);
        pthread_join(sb->thread, NULL);
        sb->started = 0;
    }
    free(sb->follow);
    sb->follow = NULL;
    ipfs_client_free(&sb->ipfs);
    pthread_mutex_destroy(&sb->mu);
    pthread_cond_destroy(&sb->cv);
}

/* A deep copy: station_memory_free frees hist and window alike. */
static int copy_hist(struct station_memory *m)
{
    m->hist = calloc(m->nwindow + 1, sizeof *m->hist);
    if (!m->hist)
        return -1;
    for (size_t i = 0; i < m->nwindow; i++) {
        struct sched_hist *h = &m->hist[m->nhist++];
        *h = m->window[i];
        h->title = strdup(m->window[i].title);
        h->track_id = strdup(m->window[i].track_id);
        h->artwork = m->window[i].artwork ? strdup(m->window[i].artwork) : NULL;
        if (!h->title || !h->track_id || (m->window[i].artwork && !h->artwork))
            return -1;
    }
    return 0;
}

int standby_adopt_order(struct station *st, struct order *order, const char *text, size_t len, double now,
                        char *err, size_t errlen)
{
    struct order o = *order;
    memset(order, 0, sizeof *order);
    struct station_memory mem;
    if (recover_from_playlist(text, len, o.rate, &mem, err, errlen) != 0) {
        order_free(&o);
        return -1;
    }
    const struct sched_hist *last = &mem.window[mem.nwindow - 1];
    if (last->seq <= st->newest) {
        station_memory_free(&mem);
        order_free(&o);
        return 0; /* this station is already as far on the timeline */
    }
    /* The anchor line gives the other streamer's exact timeline when it
     * plays the same running order and its anchor is not past the window
     * (a switch still to come would leave a gap here). The window below
     * the anchor is history; from the anchor on, the order computes it. */
    struct sched_anchor a;
    int exact = timeline_line_parse(text, len, &a) == 0 && strcmp(a.order_id, o.id) == 0 && a.seq <= last->seq + 1;
    if (exact) {
        mem.anchor = a;
        if (copy_hist(&mem) != 0) {
            station_memory_free(&mem);
            order_free(&o);
            return err_set(err, errlen, "out of memory");
        }
    }
    mem.target = mem.target > st->target ? mem.target : st->target;
    mem.epoch = st->epoch;
    struct station next;
    int rc = station_open(&next, &st->opts, &o, &mem, now, err, errlen);
    station_memory_free(&mem);
    if (rc != 0)
        return -1;
    station_close(st);
    *st = next;
    char s[32];
    snprintf(s, sizeof s, "%lld", (long long)st->newest);
    log_ev(LOG_NOTICE, exact ? "continuing the other streamer's timeline exactly"
                             : "continuing after the other streamer's last playlist (no usable anchor line)",
           "last_sequence", s, NULL);
    return 1;
}
