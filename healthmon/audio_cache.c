#include "audio_cache.h"

#include "err.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *key;                  /* NULL: free slot */
    int done;
    int rc;
    size_t n;
    struct hm_audio_segment seg[HM_AUDIO_CACHE_MAX_INPUTS];
    struct hm_audio_result result;
    char err[ERR_MSG_MAX];
};

struct hm_audio_cache {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    struct entry *v;
    size_t cap, next;
};

struct hm_audio_cache *hm_audio_cache_new(size_t capacity)
{
    struct hm_audio_cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cap = capacity ? capacity : 1;
    c->v = calloc(c->cap, sizeof *c->v);
    if (!c->v) {
        free(c);
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    return c;
}

void hm_audio_cache_free(struct hm_audio_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->cap; i++)
        free(c->v[i].key);
    free(c->v);
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct entry *find(struct hm_audio_cache *c, const char *key)
{
    for (size_t i = 0; i < c->cap; i++)
        if (c->v[i].key && strcmp(c->v[i].key, key) == 0)
            return &c->v[i];
    return NULL;
}

/* The oldest finished slot; a slot still being measured is never taken. */
static struct entry *claim(struct hm_audio_cache *c, const char *key)
{
    for (size_t tries = 0; tries < c->cap; tries++) {
        struct entry *e = &c->v[c->next];
        c->next = (c->next + 1) % c->cap;
        if (e->key && !e->done)
            continue;
        char *k = strdup(key);
        if (!k)
            return NULL;
        free(e->key);
        memset(e, 0, sizeof *e);
        e->key = k;
        return e;
    }
    return NULL;
}

static void copy_out(const struct entry *e, struct hm_audio_segment *seg, struct hm_audio_result *out,
                     char *err, size_t errlen)
{
    memcpy(seg, e->seg, e->n * sizeof *seg);
    *out = e->result;
    if (e->rc != 0)
        err_set(err, errlen, "%s", e->err);
}

int hm_audio_cache_analyze(struct hm_audio_cache *c, const char *key,
                           const struct hm_audio_params *p, const struct hm_audio_input *in,
                           size_t n, struct hm_audio_segment *seg, struct hm_audio_result *out,
                           int *shared, char *err, size_t errlen)
{
    *shared = 0;
    if (!c || !key || n > HM_AUDIO_CACHE_MAX_INPUTS)
        return hm_audio_analyze(p, in, n, seg, out, err, errlen);

    pthread_mutex_lock(&c->lock);
    struct entry *e;
    while ((e = find(c, key)) && !e->done)
        pthread_cond_wait(&c->changed, &c->lock);
    if (e && e->n == n) {
        copy_out(e, seg, out, err, errlen);
        int rc = e->rc;
        pthread_mutex_unlock(&c->lock);
        *shared = 1;
        return rc;
    }
    e = claim(c, key);
    pthread_mutex_unlock(&c->lock);
    /* No free slot (every one being measured) or no memory: measure alone. */
    if (!e)
        return hm_audio_analyze(p, in, n, seg, out, err, errlen);

    struct entry fresh = {0};
    fresh.n = n;
    fresh.rc = hm_audio_analyze(p, in, n, fresh.seg, &fresh.result, fresh.err, sizeof fresh.err);

    pthread_mutex_lock(&c->lock);
    fresh.key = e->key;
    fresh.done = 1;
    *e = fresh;
    copy_out(e, seg, out, err, errlen);
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    return fresh.rc;
}
