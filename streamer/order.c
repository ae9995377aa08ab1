#include "order.h"

#include "err.h"

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void order_free(struct order *o)
{
    for (size_t i = 0; i < o->ntracks; i++) {
        free(o->tracks[i].id);
        free(o->tracks[i].label);
    }
    for (size_t i = 0; o->segs && i < o->n; i++)
        free(o->segs[i].file);
    free(o->tracks);
    free(o->segs);
    free(o->prefix);
    free(o->tags);
    memset(o, 0, sizeof *o);
}

int order_build(const struct manifest *m, const struct playlist *pl, struct order *o,
                char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (pl->n == 0)
        return err_set(err, errlen, "the running order is empty");
    if (m->enc.sample_rate <= 0)
        return err_set(err, errlen, "the manifest has no sample rate");
    size_t n = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const struct manifest_track *t = manifest_find(m, pl->v[i].id);
        if (!t)
            return err_set(err, errlen, "running order entry %zu names track \"%.100s\", which the manifest lacks",
                           i + 1, pl->v[i].id);
        if (t->nsegs == 0)
            return err_set(err, errlen, "track \"%.100s\" has no segments", t->id);
        n += t->nsegs;
    }
    o->rate = m->enc.sample_rate;
    o->n = n;
    o->ntracks = pl->n;
    o->segs = calloc(n, sizeof *o->segs);
    o->prefix = calloc(n + 1, sizeof *o->prefix);
    o->tags = calloc(n + 1, sizeof *o->tags);
    o->tracks = calloc(pl->n, sizeof *o->tracks);
    if (!o->segs || !o->prefix || !o->tags || !o->tracks) {
        order_free(o);
        return err_set(err, errlen, "out of memory");
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    size_t k = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const struct manifest_track *t = manifest_find(m, pl->v[i].id);
        struct order_track *ot = &o->tracks[i];
        char label[1024];
        manifest_track_label(t, label, sizeof label);
        ot->first = k;
        ot->count = t->nsegs;
        ot->id = strdup(t->id);
        ot->label = strdup(label);
        if (!ot->id || !ot->label) {
            order_free(o);
            return err_set(err, errlen, "out of memory");
        }
        crypto_hash_sha256_update(&h, (const unsigned char *)label, strlen(label) + 1);
        for (size_t s = 0; s < t->nsegs; s++, k++) {
            struct order_seg *os = &o->segs[k];
            memcpy(os->cid, t->segs[s].cid, sizeof os->cid);
            os->samples = t->segs[s].samples;
            os->track = (uint32_t)i;
            os->track_start = s == 0;
            if (!(os->file = strdup(t->segs[s].file))) {
                order_free(o);
                return err_set(err, errlen, "out of memory");
            }
            o->prefix[k + 1] = o->prefix[k] + os->samples;
            o->tags[k + 1] = o->tags[k] + os->track_start;
            int rounded = (int)lround((double)os->samples / o->rate);
            if (rounded > o->max_rounded)
                o->max_rounded = rounded;
            crypto_hash_sha256_update(&h, (const unsigned char *)os->cid, strlen(os->cid) + 1);
            crypto_hash_sha256_update(&h, (const unsigned char *)&os->samples, sizeof os->samples);
        }
    }
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&h, digest);
    sodium_bin2hex(o->id, sizeof o->id, digest, sizeof digest);
    if (o->max_rounded < 1)
        o->max_rounded = 1;
    return 0;
}

int order_load(const char *processed_dir, struct order *o, char *err, size_t errlen)
{
    char mpath[4096], ppath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", processed_dir);
    snprintf(ppath, sizeof ppath, "%s/playlist.m3u", processed_dir);
    struct manifest m;
    struct playlist pl;
    if (manifest_load(mpath, &m, err, errlen) != 0)
        return -1;
    if (playlist_load(ppath, &pl, err, errlen) != 0) {
        manifest_free(&m);
        return -1;
    }
    int rc = order_build(&m, &pl, o, err, errlen);
    if (rc != 0)
        err_prefix(err, errlen, "%s", ppath);
    playlist_free(&pl);
    manifest_free(&m);
    return rc;
}

size_t order_index_at(const struct order *o, int64_t pos)
{
    /* The last i with prefix[i] <= pos. */
    size_t lo = 0, hi = o->n;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->prefix[mid] <= pos)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

size_t order_next_track_start(const struct order *o, size_t i)
{
    const struct order_track *t = &o->tracks[o->segs[i].track];
    return t->first + t->count;
}
