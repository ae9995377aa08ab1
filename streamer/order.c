#include "order.h"

#include "atomic.h"
#include "err.h"
#include "log.h"
#include "m3u8.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Bounds on what another program may write into processed/: within them
 * every prefix sum fits an int64_t and every tick stays cheap; beyond them
 * the order is refused, never trusted. */
#define ORDER_MAX_SEGMENTS 1000000          /* about 70 days of 6 s segments per loop */
#define ORDER_MAX_SEGMENT_SECONDS 3600      /* the largest target duration players accept */
#define ORDER_MAX_RATE 384000
/* How far a declared duration may stray from samples / rate: half a
 * millisecond, below what EXTINF's three decimals show. */
#define ORDER_DURATION_SLACK 0.0005

void order_free(struct order *o)
{
    for (size_t i = 0; i < o->ntracks; i++) {
        free(o->tracks[i].id);
        free(o->tracks[i].label);
        free(o->tracks[i].artwork);
    }
    for (size_t i = 0; o->segs && i < o->n; i++)
        free(o->segs[i].file);
    free(o->tracks);
    free(o->segs);
    free(o->prefix);
    free(o->tags);
    memset(o, 0, sizeof *o);
}

static char *dup_or_null(const char *s, int *bad)
{
    char *d = s ? strdup(s) : NULL;
    *bad |= s && !d;
    return d;
}

int order_copy(const struct order *src, struct order *dst, char *err, size_t errlen)
{
    *dst = *src;
    dst->segs = calloc(src->n + 1, sizeof *dst->segs);
    dst->tracks = calloc(src->ntracks + 1, sizeof *dst->tracks);
    dst->prefix = malloc((src->n + 1) * sizeof *dst->prefix);
    dst->tags = malloc((src->n + 1) * sizeof *dst->tags);
    int bad = !dst->segs || !dst->tracks || !dst->prefix || !dst->tags;
    if (bad) {
        /* Nothing of src is shared yet: free what was had. */
        free(dst->segs);
        free(dst->tracks);
        free(dst->prefix);
        free(dst->tags);
        memset(dst, 0, sizeof *dst);
        return err_set(err, errlen, "out of memory");
    }
    memcpy(dst->prefix, src->prefix, (src->n + 1) * sizeof *dst->prefix);
    memcpy(dst->tags, src->tags, (src->n + 1) * sizeof *dst->tags);
    for (size_t i = 0; i < src->n; i++) {
        dst->segs[i] = src->segs[i];
        dst->segs[i].file = dup_or_null(src->segs[i].file, &bad);
    }
    for (size_t i = 0; i < src->ntracks; i++) {
        dst->tracks[i] = src->tracks[i];
        dst->tracks[i].id = dup_or_null(src->tracks[i].id, &bad);
        dst->tracks[i].label = dup_or_null(src->tracks[i].label, &bad);
        dst->tracks[i].artwork = dup_or_null(src->tracks[i].artwork, &bad);
    }
    if (bad) {
        order_free(dst);
        return err_set(err, errlen, "out of memory");
    }
    return 0;
}

int order_build(const struct manifest *m, const struct playlist *pl, struct order *o,
                char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    if (pl->n == 0)
        return err_set(err, errlen, "the running order is empty");
    if (m->enc.sample_rate <= 0 || m->enc.sample_rate > ORDER_MAX_RATE)
        return err_set(err, errlen, "the manifest's sample rate %d is out of range (1 to %d)", m->enc.sample_rate,
                       ORDER_MAX_RATE);
    int64_t max_samples = (int64_t)m->enc.sample_rate * ORDER_MAX_SEGMENT_SECONDS;
    size_t n = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const struct manifest_track *t = manifest_find(m, pl->v[i].id);
        if (!t)
            return err_set(err, errlen, "running order entry %zu names track \"%.100s\", which the manifest lacks",
                           i + 1, pl->v[i].id);
        if (t->nsegs == 0)
            return err_set(err, errlen, "track \"%.100s\" has no segments", t->id);
        if (t->nsegs > ORDER_MAX_SEGMENTS - n)
            return err_set(err, errlen, "the running order has more than %d segments", ORDER_MAX_SEGMENTS);
        for (size_t s = 0; s < t->nsegs; s++)
            if (t->segs[s].samples < 1 || t->segs[s].samples > max_samples)
                return err_set(err, errlen, "track \"%.100s\" segment %zu lasts %lld samples (1 to %lld allowed)",
                               t->id, s, (long long)t->segs[s].samples, (long long)max_samples);
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
        const struct manifest_artwork *art = t->kind == MANIFEST_MUSIC ? manifest_artwork_pick(t, ORDER_ARTWORK_MAX_PX) : NULL;
        if (art) {
            char path[CID_MAX_STR + 8];
            snprintf(path, sizeof path, "/ipfs/%s", art->cid);
            if (m3u8_attr_safe(path) && !(ot->artwork = strdup(path))) {
                order_free(o);
                return err_set(err, errlen, "out of memory");
            }
            /* A new picture is a new order (players learn it at the next track); an order without any keeps its identity. */
            if (ot->artwork)
                crypto_hash_sha256_update(&h, (const unsigned char *)ot->artwork, strlen(ot->artwork) + 1);
        }
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
    if (o->prefix[n] * ORDER_MAX_SEGMENTS_PER_SECOND < (int64_t)n * o->rate) {
        order_free(o);
        return err_set(err, errlen, "the running order's segments average under 1/%d s",
                       ORDER_MAX_SEGMENTS_PER_SECOND);
    }
    return 0;
}

int order_check_track(const struct manifest_track *t, int rate, char *err, size_t errlen)
{
    if (t->nsegs == 0)
        return err_set(err, errlen, "track \"%.100s\" has no segments", t->id);
    int64_t sum = 0;
    for (size_t s = 0; s < t->nsegs; s++) {
        const struct manifest_segment *g = &t->segs[s];
        if (g->samples < 1 || g->samples > (int64_t)rate * ORDER_MAX_SEGMENT_SECONDS)
            return err_set(err, errlen, "track \"%.100s\" segment %zu lasts %lld samples", t->id, s,
                           (long long)g->samples);
        double want = (double)g->samples / rate;
        if (fabs(g->duration - want) > ORDER_DURATION_SLACK)
            return err_set(err, errlen,
                           "track \"%.100s\" segment %zu declares %.6f s but holds %lld samples (%.6f s at %d Hz)",
                           t->id, s, g->duration, (long long)g->samples, want, rate);
        sum += g->samples;
    }
    if (t->samples != sum)
        return err_set(err, errlen, "track \"%.100s\" declares %lld samples, its segments hold %lld", t->id,
                       (long long)t->samples, (long long)sum);
    if (fabs(t->duration - (double)sum / rate) > ORDER_DURATION_SLACK)
        return err_set(err, errlen, "track \"%.100s\" declares %.6f s, its segments last %.6f s", t->id,
                       t->duration, (double)sum / rate);
    return 0;
}

/* A FIFO or device under processed/ would block or never end a read. */
static int regular_file(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(err, errlen, "%s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(err, errlen, "%s is not a regular file", path);
    return 0;
}

void order_texts_free(struct order_texts *t)
{
    free(t->manifest);
    free(t->playlist);
    memset(t, 0, sizeof *t);
}

int order_read(const char *processed_dir, struct order_texts *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    char mpath[4096], ppath[4096];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", processed_dir);
    snprintf(ppath, sizeof ppath, "%s/playlist.m3u", processed_dir);
    if (regular_file(mpath, err, errlen) != 0 || regular_file(ppath, err, errlen) != 0 ||
        atomic_read(mpath, MANIFEST_MAX_BYTES, &t->manifest, &t->manifest_len, err, errlen) != 0 ||
        atomic_read(ppath, PLAYLIST_MAX_BYTES, &t->playlist, &t->playlist_len, err, errlen) != 0) {
        order_texts_free(t);
        return -1;
    }
    return 0;
}

int order_parse(const struct order_texts *t, const char *origin, struct order *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    char mname[4200], pname[4200];
    snprintf(mname, sizeof mname, "%s/manifest.json", origin);
    snprintf(pname, sizeof pname, "%s/%s", origin, t->playlist_name ? t->playlist_name : "playlist.m3u");
    /* manifest_parse reads up to a NUL: one inside the text would hide
     * what follows it, so such a text is refused rather than cut short. */
    if (!t->manifest || strlen(t->manifest) != t->manifest_len)
        return err_set(err, errlen, "%s holds a NUL byte", mname);
    struct manifest m;
    struct playlist pl;
    if (manifest_parse(t->manifest, mname, &m, err, errlen) != 0)
        return -1;
    if (m.art_invalid) {
        char n[32];
        snprintf(n, sizeof n, "%zu", m.art_invalid);
        log_ev(LOG_WARN, "invalid artwork entries ignored; those tracks air without them", "entries", n, "first",
               m.art_invalid_why, NULL);
    }
    if (playlist_parse(t->playlist ? t->playlist : "", t->playlist_len, pname, &pl, err, errlen) != 0) {
        manifest_free(&m);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < pl.n; i++) {
        const struct manifest_track *mt = manifest_find(&m, pl.v[i].id);
        if (mt && m.enc.sample_rate > 0 && m.enc.sample_rate <= ORDER_MAX_RATE &&
            order_check_track(mt, m.enc.sample_rate, err, errlen) != 0) {
            err_prefix(err, errlen, "%s", mname);
            rc = -1;
        }
    }
    if (rc == 0 && (rc = order_build(&m, &pl, o, err, errlen)) != 0)
        err_prefix(err, errlen, "%s", pname);
    playlist_free(&pl);
    manifest_free(&m);
    return rc;
}

int order_load(const char *processed_dir, struct order *o, struct order_texts *texts, char *err, size_t errlen)
{
    /* Zeroed first: a caller may free the order whatever the outcome. */
    memset(o, 0, sizeof *o);
    struct order_texts t;
    if (order_read(processed_dir, &t, err, errlen) != 0)
        return -1;
    int rc = order_parse(&t, processed_dir, o, err, errlen);
    if (rc == 0 && texts)
        *texts = t;
    else
        order_texts_free(&t);
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

int64_t order_min_span(const struct order *o, size_t w)
{
    int64_t loop = order_loop_samples(o), full = (int64_t)(w / o->n) * loop, best = INT64_MAX;
    size_t rem = w % o->n;
    for (size_t i = 0; i < o->n; i++) {
        int64_t part = i + rem <= o->n ? o->prefix[i + rem] - o->prefix[i]
                                       : loop - o->prefix[i] + o->prefix[i + rem - o->n];
        if (full + part < best)
            best = full + part;
    }
    return best;
}
