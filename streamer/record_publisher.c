#include "record_publisher.h"

#include "atomic.h"
#include "err.h"
#include "log.h"
#include "record_lookup.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One file per node, named by a hash of its URL (any URL makes a valid
 * file name); the file itself holds the URL for whoever reads it. */
static int ring_path(const struct record_publisher_opts *o, const char *url, char *out, size_t outlen,
                     char *err, size_t errlen)
{
    size_t len = strlen(url);
    while (len && url[len - 1] == '/')
        len--;
    unsigned char h[8];
    char hex[2 * sizeof h + 1];
    crypto_generichash(h, sizeof h, (const unsigned char *)url, len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    return fs_path(out, outlen, err, errlen, "%s/target-playlists-%s.json", o->state_dir, hex);
}

static int add_target(struct record_publisher *rp, const struct record_publisher_opts *o,
                      enum record_target_kind kind, const char *url, const struct clock *clk,
                      char *err, size_t errlen)
{
    int primary = kind == RECORD_TARGET_KUBO && ipfs_same_api(url, o->primary_api);
    char path[4096];
    if (kind == RECORD_TARGET_KUBO && !primary && ring_path(o, url, path, sizeof path, err, errlen) != 0)
        return -1;
    struct record_target_opts to = {
        .kind = kind,
        .url = url,
        .auth = primary ? o->auth : NULL, /* the primary's credentials go to the primary only */
        .name = rp->name,
        .timeout = o->timeout,
        .backoff = o->backoff,
        .backoff_max = o->backoff_max,
        .add_playlist = kind == RECORD_TARGET_KUBO && !primary,
        .keep = o->keep,
        .ring_path = kind == RECORD_TARGET_KUBO && !primary ? path : NULL,
    };
    if (record_target_start(&rp->targets[rp->ntargets], &to, clk, err, errlen) != 0)
        return -1;
    rp->ntargets++;
    return 0;
}

int record_publisher_start(struct record_publisher *rp, const struct record_publisher_opts *o,
                           const struct clock *clk, char *err, size_t errlen)
{
    memset(rp, 0, sizeof *rp);
    rp->clock = clk;
    rp->lifetime = o->lifetime;
    rp->ttl = o->ttl;
    int created = 0;
    if (ipns_key_open(o->key_path, &rp->key, &created, err, errlen) != 0) {
        ipns_key_wipe(&rp->key);
        return -1;
    }
    ipns_key_name(rp->key.pk, rp->name, sizeof rp->name);
    if (created)
        log_ev(LOG_NOTICE, "created the station key; back it up: it is the station's name", "file", o->key_path,
               "ipns_name", rp->name, NULL);
    if (ipns_seq_load(&rp->seq, o->seq_path, rp->name, err, errlen) != 0) {
        ipns_key_wipe(&rp->key);
        return -1;
    }
    if (o->lookup_timeout > 0) {
        struct record_lookup_opts lo = {o->kubo, o->routing, o->primary_api, o->auth, o->lookup_timeout};
        uint64_t held = record_lookup_highest(&lo, rp->name, rp->key.pk);
        rp->floor = held && held < UINT64_MAX ? held + 1 : 0;
    }
    size_t nk = o->kubo->n ? o->kubo->n : 1;
    rp->targets = calloc(nk + o->routing->n, sizeof *rp->targets);
    if (!rp->targets) {
        ipns_key_wipe(&rp->key);
        return err_set(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < nk; i++) {
        const char *url = o->kubo->n ? o->kubo->v[i] : o->primary_api;
        if (add_target(rp, o, RECORD_TARGET_KUBO, url, clk, err, errlen) != 0)
            goto fail;
    }
    for (size_t i = 0; i < o->routing->n; i++)
        if (add_target(rp, o, RECORD_TARGET_ROUTING, o->routing->v[i], clk, err, errlen) != 0)
            goto fail;
    return 0;
fail:
    record_publisher_free(rp);
    return -1;
}

int record_publisher_publish(struct record_publisher *rp, const char *cid, const char *playlist, size_t len,
                             uint64_t *seq, char *err, size_t errlen)
{
    struct record_job *j = calloc(1, sizeof *j);
    if (!j)
        return err_set(err, errlen, "out of memory");
    char value[CID_MAX_STR + 8];
    snprintf(value, sizeof value, "/ipfs/%s", cid);
    double now = rp->clock->now(rp->clock->ctx);
    struct ipns_record_fields f = {.value = value, .ttl_ns = (uint64_t)(rp->ttl * 1e9)};
    int rc = -1;
    if (ipns_record_validity(now + rp->lifetime, f.validity) != 0) {
        err_set(err, errlen, "the clock gives no valid record expiry");
        goto out;
    }
    uint64_t floor = rp->floor;
    if (rp->guard && rp->guard->begin(rp->guard->ctx, &floor) != 0) {
        rc = RECORD_PUBLISHER_REFUSED;
        goto out;
    }
    int signed_ok = ipns_seq_next(&rp->seq, now, floor, &f.seq, err, errlen) == 0;
    if (rp->guard)
        rp->guard->end(rp->guard->ctx, signed_ok ? f.seq : 0);
    if (!signed_ok)
        goto out;
    int n = ipns_record_build(&rp->key, &f, j->rec, sizeof j->rec, err, errlen);
    if (n < 0)
        goto out;
    j->len = (size_t)n;
    j->seq = f.seq;
    snprintf(j->cid, sizeof j->cid, "%s", cid);
    j->playlist = (char *)playlist; /* each target takes its own copy */
    j->plen = len;
    /* Failed only if no target took it: the others announce the playlist,
     * which the caller would otherwise delete. A target that missed it
     * reports that in its own status. */
    size_t taken = 0;
    for (size_t i = 0; i < rp->ntargets; i++)
        taken += record_target_submit(&rp->targets[i], j) == 0;
    if (taken == 0) {
        err_set(err, errlen, "out of memory: no target took the record");
        goto out;
    }
    rc = 0;
    *seq = f.seq;
out:
    free(j);
    return rc;
}

int record_publisher_status(struct record_publisher *rp, struct record_target_status **out, size_t *n)
{
    *out = calloc(rp->ntargets + 1, sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < rp->ntargets; i++)
        record_target_status(&rp->targets[i], &(*out)[i]);
    *n = rp->ntargets;
    return 0;
}

void record_publisher_stop(struct record_publisher *rp, double grace)
{
    /* Stop them all at once, so the grace is shared, not summed. */
    for (size_t i = 0; i < rp->ntargets; i++) {
        struct record_target *t = &rp->targets[i];
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        t->deadline = rp->clock->mono(rp->clock->ctx) + grace;
        pthread_cond_broadcast(&t->cv);
        pthread_mutex_unlock(&t->mu);
    }
    for (size_t i = 0; i < rp->ntargets; i++)
        record_target_stop(&rp->targets[i], grace);
}

void record_publisher_free(struct record_publisher *rp)
{
    for (size_t i = 0; i < rp->ntargets; i++)
        record_target_free(&rp->targets[i]);
    free(rp->targets);
    rp->targets = NULL;
    rp->ntargets = 0;
    ipns_key_wipe(&rp->key);
}
