#include "publisher.h"

#include "err.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int aborting(void *ctx)
{
    struct publisher *p = ctx;
    pthread_mutex_lock(&p->mu);
    int stop = p->stop && p->deadline > 0 && p->clock->mono(p->clock->ctx) >= p->deadline;
    pthread_mutex_unlock(&p->mu);
    return stop;
}

static void free_check(struct publisher_seg *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
}

/* Deadline `seconds` from now on the monotonic clock the condition variable
 * waits on: a wall clock stepped back must not stretch a nap. */
static struct timespec mono_deadline(double seconds)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double until = (double)ts.tv_sec + ts.tv_nsec / 1e9 + seconds;
    ts.tv_sec = (time_t)until;
    ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
    return ts;
}

/* Waits up to `seconds` unless stopping or (wake_on_pending) a playlist arrives. */
static void nap(struct publisher *p, double seconds, int wake_on_pending)
{
    struct timespec ts = mono_deadline(seconds);
    pthread_mutex_lock(&p->mu);
    while (!p->stop && !(wake_on_pending && p->pending)) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &ts) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&p->mu);
}

/* Under the lock: a segment check is wanted and its backoff has passed. */
static int check_due(struct publisher *p)
{
    return p->need_check && p->ncheck && p->clock->mono(p->clock->ctx) >= p->check_at;
}

static void note_error(struct publisher *p, const char *what, const char *err)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->st.last_error, sizeof p->st.last_error, "%s: %s", what, err);
    p->st.last_error_time = p->clock->now(p->clock->ctx);
    p->st.node_ok = 0;
    p->need_check = 1; /* the node may come back empty */
    pthread_mutex_unlock(&p->mu);
    log_ev(LOG_WARN, "publish failed; will retry", "step", what, "error", err, NULL);
}

struct pinset {
    char **v;
    size_t n, cap;
};

static int pin_add(void *ctx, const char *cid)
{
    struct pinset *s = ctx;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        char **nv = realloc(s->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    return (s->v[s->n++] = strdup(cid)) ? 0 : -1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

struct missing {
    const char *cid;
    size_t index;            /* in the list given: its place in the queue */
};

static int cmp_by_cid_then_index(const void *a, const void *b)
{
    const struct missing *x = a, *y = b;
    int c = strcmp(x->cid, y->cid);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

static int cmp_index(const void *a, const void *b)
{
    const struct missing *x = a, *y = b;
    return (x->index > y->index) - (x->index < y->index);
}

/* Files per add request when re-adding segments: one request per file
 * would take minutes for a long order on a wiped node. */
#define PUBLISHER_ADD_BATCH 64
#define CHECK_INTERRUPTED 1

/* Re-adds the running order's segments the node does not hold, in the
 * order given (the on-air window first), in batches. A segment file gone
 * from processed/ is skipped and reported; the rest are still added. */
static int check_segments(struct publisher *p, char *err, size_t errlen)
{
    pthread_mutex_lock(&p->mu);
    size_t n = p->ncheck;
    struct publisher_seg *segs = calloc(n + 1, sizeof *segs);
    for (size_t i = 0; segs && i < n; i++) {
        segs[i] = p->check[i];
        segs[i].path = strdup(p->check[i].path);
    }
    pthread_mutex_unlock(&p->mu);
    if (!segs)
        return err_set(err, errlen, "out of memory");
    struct pinset pins = {0};
    int rc = ipfs_pin_ls_recursive(&p->ipfs, pin_add, &pins, err, errlen);
    /* An empty set has no array: qsort and bsearch must not see NULL. */
    if (rc == 0 && pins.n)
        qsort(pins.v, pins.n, sizeof *pins.v, cmp_str);
    /* The segments the node lacks, each once (a looped order repeats
     * them), kept in the order given. */
    struct missing *miss = calloc(n + 1, sizeof *miss);
    size_t nmiss = 0, gone = 0;
    if (!miss && rc == 0)
        rc = err_set(err, errlen, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const char *cid = segs[i].cid;
        if (!pins.n || !bsearch(&cid, pins.v, pins.n, sizeof *pins.v, cmp_str))
            miss[nmiss++] = (struct missing){cid, i};
    }
    if (rc == 0 && nmiss) {
        qsort(miss, nmiss, sizeof *miss, cmp_by_cid_then_index);
        size_t k = 0;
        for (size_t j = 0; j < nmiss; j++)
            if (k == 0 || strcmp(miss[k - 1].cid, miss[j].cid) != 0)
                miss[k++] = miss[j];
        nmiss = k;
        qsort(miss, nmiss, sizeof *miss, cmp_index);
    }
    struct ipfs_add_item *batch = calloc(PUBLISHER_ADD_BATCH, sizeof *batch);
    const char **want = calloc(PUBLISHER_ADD_BATCH, sizeof *want);
    if ((!batch || !want) && rc == 0)
        rc = err_set(err, errlen, "out of memory");
    uint64_t readded = 0;
    size_t nb = 0;
    for (size_t j = 0; rc == 0 && j <= nmiss; j++) {
        if (j < nmiss) {
            const struct publisher_seg *sg = &segs[miss[j].index];
            if (access(sg->path, R_OK) != 0) {
                gone++;
                continue;
            }
            batch[nb] = (struct ipfs_add_item){.path = sg->path};
            want[nb++] = sg->cid;
            if (nb < PUBLISHER_ADD_BATCH)
                continue;
        }
        if (nb == 0)
            continue;
        /* A new playlist goes out first; the check resumes after it. */
        pthread_mutex_lock(&p->mu);
        int interrupted = p->pending != NULL || p->stop;
        pthread_mutex_unlock(&p->mu);
        if (interrupted) {
            rc = CHECK_INTERRUPTED;
            break;
        }
        if ((rc = ipfs_add_many(&p->ipfs, batch, nb, err, errlen)) != 0)
            break;
        for (size_t b = 0; b < nb && rc == 0; b++)
            if (!cid_equal(batch[b].cid, want[b]))
                rc = err_set(err, errlen, "re-adding %s gave %s: processed/ no longer matches the manifest",
                             batch[b].path, batch[b].cid);
        readded += nb;
        nb = 0;
    }
    free(miss);
    free(batch);
    free(want);
    for (size_t i = 0; i < pins.n; i++)
        free(pins.v[i]);
    free(pins.v);
    free_check(segs, n);
    pthread_mutex_lock(&p->mu);
    p->st.segments_readded += readded;
    pthread_mutex_unlock(&p->mu);
    if (readded) {
        char cnt[32];
        snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)readded);
        log_ev(LOG_NOTICE, "the node lacked segments of the running order; re-added them from processed/",
               "segments", cnt, NULL);
    }
    if (rc == 0 && gone)
        rc = err_set(err, errlen, "%zu segment files the node lacks are missing from processed/", gone);
    return rc;
}

/* Runs a due segment check. Its failures are reported and retried with
 * their own backoff; they never hold up publishing. */
static void run_check(struct publisher *p)
{
    pthread_mutex_lock(&p->mu);
    int due = check_due(p);
    pthread_mutex_unlock(&p->mu);
    if (!due)
        return;
    char err[ERR_MSG_MAX] = "";
    int rc = check_segments(p, err, sizeof err);
    pthread_mutex_lock(&p->mu);
    if (rc == 0) {
        p->need_check = 0;
        p->check_delay = p->opts.backoff;
        p->st.check_error[0] = '\0';
    } else if (rc != CHECK_INTERRUPTED) {
        p->check_at = p->clock->mono(p->clock->ctx) + p->check_delay;
        p->check_delay = p->check_delay * 2 > p->opts.backoff_max ? p->opts.backoff_max : p->check_delay * 2;
        snprintf(p->st.check_error, sizeof p->st.check_error, "%s", err);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc != 0 && rc != CHECK_INTERRUPTED)
        log_ev(LOG_WARN, "segment check failed; publishing goes on, the check will be retried", "error", err, NULL);
}

static void trim_ring(struct publisher *p)
{
    for (;;) {
        char cid[CID_MAX_STR];
        pthread_mutex_lock(&p->mu);
        const char *old = playlist_ring_excess(&p->ring, p->opts.keep, p->st.last_cid);
        if (old)
            snprintf(cid, sizeof cid, "%s", old);
        pthread_mutex_unlock(&p->mu);
        if (!old)
            return;
        char err[ERR_MSG_MAX];
        if (ipfs_forget(&p->ipfs, cid, err, sizeof err) != 0) {
            log_ev(LOG_WARN, "could not delete an old playlist; will try again", "cid", cid, "error", err, NULL);
            return;
        }
        pthread_mutex_lock(&p->mu);
        playlist_ring_remove(&p->ring, cid);
        pthread_mutex_unlock(&p->mu);
    }
}

static int ring_push(struct publisher *p, const char *cid)
{
    pthread_mutex_lock(&p->mu);
    int rc = playlist_ring_push(&p->ring, cid);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

static void *run(void *arg)
{
    struct publisher *p = arg;
    double delay = p->opts.backoff;
    char *text = NULL;
    size_t len = 0;
    int64_t seq = -1;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && !p->pending && !text && !check_due(p)) {
            if (p->need_check && p->ncheck) {
                struct timespec ts = mono_deadline(p->check_at - p->clock->mono(p->clock->ctx));
                pthread_cond_timedwait(&p->cv, &p->mu, &ts);
            } else {
                pthread_cond_wait(&p->cv, &p->mu);
            }
        }
        if (p->stop && !p->pending && !text) {
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (p->pending) {
            if (text)
                p->st.superseded++;
            free(text);
            text = p->pending;
            len = p->pending_len;
            seq = p->pending_seq;
            p->pending = NULL;
        }
        int stopping = p->stop;
        pthread_mutex_unlock(&p->mu);

        char err[ERR_MSG_MAX];
        if (!p->key_checked) {
            char id[128];
            if (ipfs_key_ensure(&p->ipfs, p->opts.key, id, sizeof id, err, sizeof err) != 0) {
                note_error(p, "key", err);
                goto retry;
            }
            if (p->st.name[0] && strcmp(p->st.name, id) != 0)
                log_ev(LOG_WARN, "the node's key changed (new or wiped repository): the station has a new IPNS name",
                       "old", p->st.name, "new", id, NULL);
            pthread_mutex_lock(&p->mu);
            snprintf(p->st.name, sizeof p->st.name, "%s", id);
            p->key_checked = 1;
            pthread_mutex_unlock(&p->mu);
        }
        if (!text) {
            if (!stopping)
                run_check(p);
            continue;
        }
        double t0 = p->clock->mono(p->clock->ctx);
        struct ipfs_add_item it = {.data = text, .size = len};
        if (ipfs_add_many(&p->ipfs, &it, 1, err, sizeof err) != 0) {
            note_error(p, "add playlist", err);
            goto retry;
        }
        uint64_t ipns_seq = 0;
        if (p->opts.records) {
            /* Signed here and handed to every target, each on its own thread. */
            int signed_rc = record_publisher_publish(p->opts.records, it.cid, text, len, &ipns_seq, err, sizeof err);
            if (signed_rc == RECORD_PUBLISHER_REFUSED) {
                /* Another streamer is on air (failover): this playlist is not ours to publish. */
                ipfs_forget(&p->ipfs, it.cid, NULL, 0);
                free(text);
                text = NULL;
                continue;
            }
            if (signed_rc != 0) {
                ipfs_forget(&p->ipfs, it.cid, NULL, 0);
                note_error(p, "sign record", err);
                goto retry;
            }
        } else if (ipfs_name_publish(&p->ipfs, p->opts.key, it.cid, p->opts.lifetime, p->opts.ttl, err,
                                     sizeof err) != 0) {
            /* The node may have published it all the same (an answer lost
             * or cut after the work was done): its name may point here, so
             * the playlist stays, and goes with the ring once a later
             * publish succeeds. */
            ring_push(p, it.cid);
            note_error(p, "name publish", err);
            /* A node that lost its repository lost the key too: ask again. */
            pthread_mutex_lock(&p->mu);
            p->key_checked = 0;
            pthread_mutex_unlock(&p->mu);
            goto retry;
        }
        double took = p->clock->mono(p->clock->ctx) - t0;
        ring_push(p, it.cid);
        pthread_mutex_lock(&p->mu);
        p->st.publishes++;
        p->st.node_ok = 1;
        p->st.last_ok = p->clock->now(p->clock->ctx);
        p->st.last_latency = took;
        latency_hist_observe(&p->st.latency, took);
        p->st.last_seq = seq;
        p->st.ipns_seq = ipns_seq;
        snprintf(p->st.last_cid, sizeof p->st.last_cid, "%s", it.cid);
        p->st.last_error[0] = '\0';
        pthread_mutex_unlock(&p->mu);
        free(text);
        text = NULL;
        delay = p->opts.backoff;
        trim_ring(p);
        if (!stopping)
            run_check(p);
        continue;
    retry:
        pthread_mutex_lock(&p->mu);
        p->st.failures++;
        stopping = p->stop;
        pthread_mutex_unlock(&p->mu);
        if (stopping)
            break;
        nap(p, delay, 1);
        delay = delay * 2 > p->opts.backoff_max ? p->opts.backoff_max : delay * 2;
    }
    free(text);
    return NULL;
}

int publisher_start(struct publisher *p, const struct publisher_opts *o, struct ipfs_client *ipfs,
                    const struct clock *clk, char (*ring)[CID_MAX_STR], size_t nring,
                    char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->opts = *o;
    p->ipfs = *ipfs;
    memset(ipfs, 0, sizeof *ipfs);
    p->ipfs.should_abort = aborting;
    p->ipfs.abort_ctx = p;
    p->ipfs.retries = 0; /* the publisher's own loop retries, newest first */
    p->clock = clk;
    p->st.last_seq = -1;
    p->need_check = 1;
    if (o->known_name)
        snprintf(p->st.name, sizeof p->st.name, "%s", o->known_name);
    if (o->records) {
        snprintf(p->st.name, sizeof p->st.name, "%s", o->records->name);
        p->key_checked = 1; /* the station's own key: nothing to ask the node */
    }
    if (playlist_ring_set(&p->ring, ring, nring) != 0) {
        playlist_ring_free(&p->ring);
        return err_set(err, errlen, "out of memory");
    }
    p->check_delay = o->backoff;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, run, p) != 0) {
        playlist_ring_free(&p->ring);
        return err_set(err, errlen, "cannot start the publishing thread");
    }
    p->started = 1;
    return 0;
}

int publisher_submit(struct publisher *p, const char *text, size_t len, int64_t newest_seq)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, text, len);
    copy[len] = '\0';
    pthread_mutex_lock(&p->mu);
    if (p->pending) {
        free(p->pending);
        p->st.superseded++;
    }
    p->pending = copy;
    p->pending_len = len;
    p->pending_seq = newest_seq;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

int publisher_set_segments(struct publisher *p, const struct publisher_seg *segs, size_t n)
{
    struct publisher_seg *v = calloc(n + 1, sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < n; i++) {
        v[i] = segs[i];
        if (!(v[i].path = strdup(segs[i].path))) {
            free_check(v, i);
            return -1;
        }
    }
    pthread_mutex_lock(&p->mu);
    free_check(p->check, p->ncheck);
    p->check = v;
    p->ncheck = n;
    p->need_check = 1;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}

void publisher_status(struct publisher *p, struct publisher_status *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

int publisher_ring(struct publisher *p, char (**ring)[CID_MAX_STR], size_t *n)
{
    pthread_mutex_lock(&p->mu);
    *n = p->ring.n;
    *ring = malloc((p->ring.n + 1) * sizeof **ring);
    if (*ring && p->ring.n)
        memcpy(*ring, p->ring.v, p->ring.n * sizeof **ring);
    pthread_mutex_unlock(&p->mu);
    return *ring ? 0 : -1;
}

void publisher_stop(struct publisher *p, double grace)
{
    if (!p->started)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    p->deadline = p->clock->mono(p->clock->ctx) + grace;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->started = 0;
}

void publisher_free(struct publisher *p)
{
    if (p->started)
        publisher_stop(p, 0);
    free(p->pending);
    free_check(p->check, p->ncheck);
    playlist_ring_free(&p->ring);
    ipfs_client_free(&p->ipfs);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}
