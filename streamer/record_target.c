#include "record_target.h"

#include "err.h"
#include "log.h"
#include "routing_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int aborting(void *ctx)
{
    struct record_target *t = ctx;
    pthread_mutex_lock(&t->mu);
    int stop = t->stop && t->deadline > 0 && t->clock->mono(t->clock->ctx) >= t->deadline;
    pthread_mutex_unlock(&t->mu);
    return stop;
}

static void job_free(struct record_job *j)
{
    if (j)
        free(j->playlist);
    free(j);
}

static struct record_job *job_copy(const struct record_job *src)
{
    struct record_job *j = malloc(sizeof *j);
    if (!j)
        return NULL;
    *j = *src;
    j->playlist = NULL;
    if (src->playlist && !(j->playlist = malloc(src->plen + 1))) {
        free(j);
        return NULL;
    }
    if (src->playlist)
        memcpy(j->playlist, src->playlist, src->plen);
    return j;
}

/* Waits up to `seconds` unless stopping or a new record arrives. */
static void nap(struct record_target *t, double seconds)
{
    /* On the monotonic clock the condition variable waits on: a wall
     * clock stepped back must not stretch a retry nap. */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    pthread_mutex_lock(&t->mu);
    while (!t->stop && !t->pending) {
        if (pthread_cond_timedwait(&t->cv, &t->mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&t->mu);
}

/* Keeps the node that got our playlists from piling them up; returns
 * whether the ring changed. */
static int ring_trim(struct record_target *t)
{
    int changed = 0;
    const char *old;
    while ((old = playlist_ring_excess(&t->ring, t->opts.keep, t->current))) {
        char cid[CID_MAX_STR], err[ERR_MSG_MAX];
        snprintf(cid, sizeof cid, "%s", old);
        if (ipfs_forget(&t->ipfs, cid, err, sizeof err) != 0) {
            log_ev(LOG_WARN, "could not delete an old playlist; will try again", "target", t->url, "cid", cid,
                   "error", err, NULL);
            break;
        }
        playlist_ring_remove(&t->ring, cid);
        changed = 1;
    }
    return changed;
}

static void ring_save(struct record_target *t)
{
    char err[ERR_MSG_MAX];
    if (playlist_ring_save(t->opts.ring_path, t->url, &t->ring, t->current, err, sizeof err) != 0)
        log_ev(LOG_WARN, "cannot save the playlists given to a target; a restart may leave them pinned there",
               "target", t->url, "error", err, NULL);
}

static int put(struct record_target *t, const struct record_job *j, char *method, size_t mlen,
               int *ring_changed, char *err, size_t errlen)
{
    if (t->opts.add_playlist && j->playlist) {
        struct ipfs_add_item it = {.data = j->playlist, .size = j->plen};
        snprintf(method, mlen, "add");
        if (ipfs_add_many(&t->ipfs, &it, 1, err, errlen) != 0)
            return -1;
        *ring_changed = 1; /* the node holds it now, whatever happens next */
        playlist_ring_push(&t->ring, it.cid);
        if (!cid_equal(it.cid, j->cid))
            return err_set(err, errlen, "the node gave the playlist CID %s, not %s", it.cid, j->cid);
        ring_trim(t);
    }
    int rc = ipfs_ipns_put(&t->ipfs, t->name, j->rec, j->len, &t->use_dht, err, errlen);
    snprintf(method, mlen, "%s", t->use_dht ? "dht/put" : "routing/put");
    if (rc == 0 && t->opts.add_playlist && strcmp(t->current, j->cid) != 0) {
        snprintf(t->current, sizeof t->current, "%s", j->cid);
        *ring_changed = 1;
        ring_trim(t);
    }
    return rc;
}

static int deliver(struct record_target *t, const struct record_job *j, char *method, size_t mlen,
                   char *err, size_t errlen)
{
    if (t->opts.kind == RECORD_TARGET_ROUTING) {
        snprintf(method, mlen, "PUT /routing/v1/ipns");
        struct routing_http_opts o = {t->opts.timeout, aborting, t};
        return routing_http_put_ipns(t->url, t->name, j->rec, j->len, &o, err, errlen);
    }
    int ring_changed = 0;
    int rc = put(t, j, method, mlen, &ring_changed, err, errlen);
    if (ring_changed && t->opts.ring_path)
        ring_save(t);
    return rc;
}

static void *run(void *arg)
{
    struct record_target *t = arg;
    double delay = t->opts.backoff;
    struct record_job *job = NULL;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        while (!t->stop && !t->pending && !job)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->stop && !t->pending && !job) {
            pthread_mutex_unlock(&t->mu);
            break;
        }
        if (t->pending) {
            if (job)
                t->st.superseded++;
            job_free(job);
            job = t->pending;
            t->pending = NULL;
        }
        pthread_mutex_unlock(&t->mu);

        char err[ERR_MSG_MAX], method[32] = "";
        double t0 = t->clock->mono(t->clock->ctx);
        int rc = deliver(t, job, method, sizeof method, err, sizeof err);
        double took = t->clock->mono(t->clock->ctx) - t0;
        pthread_mutex_lock(&t->mu);
        snprintf(t->st.method, sizeof t->st.method, "%s", method);
        t->st.ok = rc == 0;
        if (rc == 0) {
            t->st.puts++;
            t->st.last_seq = job->seq;
            t->st.last_ok = t->clock->now(t->clock->ctx);
            t->st.last_latency = took;
            latency_hist_observe(&t->st.latency, took);
            t->st.last_error[0] = '\0';
        } else {
            t->st.failures++;
            snprintf(t->st.last_error, sizeof t->st.last_error, "%s", err);
            t->st.last_error_time = t->clock->now(t->clock->ctx);
        }
        int stopping = t->stop;
        pthread_mutex_unlock(&t->mu);
        if (rc == 0) {
            job_free(job);
            job = NULL;
            delay = t->opts.backoff;
            continue;
        }
        log_ev(LOG_WARN, "IPNS record put failed; will retry", "target", t->url, "step", method, "error", err, NULL);
        if (stopping)
            break;
        nap(t, delay);
        delay = delay * 2 > t->opts.backoff_max ? t->opts.backoff_max : delay * 2;
    }
    job_free(job);
    return NULL;
}

int record_target_start(struct record_target *t, const struct record_target_opts *o, const struct clock *clk,
                        char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->opts = *o;
    t->clock = clk;
    snprintf(t->url, sizeof t->url, "%s", o->url);
    snprintf(t->name, sizeof t->name, "%s", o->name);
    t->opts.url = t->url;
    t->opts.name = t->name;
    t->opts.auth = NULL;
    t->opts.ring_path = NULL;
    if (o->add_playlist && o->ring_path) {
        snprintf(t->ring_path, sizeof t->ring_path, "%s", o->ring_path);
        t->opts.ring_path = t->ring_path;
        /* What the run before gave this node, trimmed as new ones arrive. */
        if (playlist_ring_load(t->ring_path, &t->ring, t->current, sizeof t->current, err, errlen) != 0)
            log_ev(LOG_WARN, "cannot read the playlists given to a target before; they stay pinned there",
                   "target", o->url, "error", err, NULL);
    }
    snprintf(t->st.url, sizeof t->st.url, "%s", o->url);
    t->st.kind = o->kind;
    if (o->kind == RECORD_TARGET_KUBO) {
        if (ipfs_client_init(&t->ipfs, o->url, o->auth, err, errlen) != 0)
            return -1;
        t->ipfs.timeout = o->timeout;
        t->ipfs.retries = 0; /* this loop retries, newest record first */
        t->ipfs.should_abort = aborting;
        t->ipfs.abort_ctx = t;
    }
    pthread_mutex_init(&t->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&t->thread, NULL, run, t) != 0) {
        ipfs_client_free(&t->ipfs);
        return err_set(err, errlen, "cannot start a publishing thread for %s", o->url);
    }
    t->started = 1;
    return 0;
}

int record_target_submit(struct record_target *t, const struct record_job *job)
{
    struct record_job *j = job_copy(job);
    pthread_mutex_lock(&t->mu);
    if (!j) {
        t->st.ok = 0;
        t->st.failures++;
        snprintf(t->st.last_error, sizeof t->st.last_error, "out of memory: record %llu not queued",
                 (unsigned long long)job->seq);
        t->st.last_error_time = t->clock->now(t->clock->ctx);
        pthread_mutex_unlock(&t->mu);
        return -1;
    }
    if (t->pending) {
        job_free(t->pending);
        t->st.superseded++;
    }
    t->pending = j;
    pthread_cond_signal(&t->cv);
    pthread_mutex_unlock(&t->mu);
    return 0;
}

void record_target_status(struct record_target *t, struct record_target_status *out)
{
    pthread_mutex_lock(&t->mu);
    *out = t->st;
    pthread_mutex_unlock(&t->mu);
}

void record_target_stop(struct record_target *t, double grace)
{
    if (!t->started)
        return;
    pthread_mutex_lock(&t->mu);
    if (!t->stop) {
        t->stop = 1;
        t->deadline = t->clock->mono(t->clock->ctx) + grace;
    }
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->thread, NULL);
    t->started = 0;
}

void record_target_free(struct record_target *t)
{
    if (t->started)
        record_target_stop(t, 0);
    job_free(t->pending);
    playlist_ring_free(&t->ring);
    ipfs_client_free(&t->ipfs);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
}
