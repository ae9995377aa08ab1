#include "recover.h"

#include "err.h"
#include "ipns_key.h"
#include "ipns_record.h"
#include "m3u8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The CID inside a segment URI: /ipfs/<cid>[?...], or a gateway URL with that path. */
static int cid_of_uri(const char *uri, char *cid, size_t cidlen)
{
    const char *p = strstr(uri, "/ipfs/");
    if (!p)
        return -1;
    p += strlen("/ipfs/");
    size_t n = strcspn(p, "?#/");
    if (n == 0 || n >= cidlen)
        return -1;
    memcpy(cid, p, n);
    cid[n] = '\0';
    return 0;
}

int recover_from_playlist(const char *text, size_t len, int rate, struct station_memory *mem, char *err,
                          size_t errlen)
{
    memset(mem, 0, sizeof *mem);
    struct m3u8_playlist pl;
    if (m3u8_parse(text, len, &pl, err, errlen) != 0)
        return -1;
    int rc = 0;
    if (pl.nsegs == 0 || pl.target_duration < 1 || pl.media_sequence < 0 || pl.discontinuity_sequence < 0) {
        rc = err_set(err, errlen, "the playlist has no segments or no usable header");
        goto out;
    }
    mem->window = calloc(pl.nsegs, sizeof *mem->window);
    if (!mem->window) {
        rc = err_set(err, errlen, "out of memory");
        goto out;
    }
    int64_t disc_before = pl.discontinuity_sequence;
    size_t range = 0;
    for (size_t i = 0; i < pl.nsegs; i++) {
        const struct m3u8_segment *s = &pl.segs[i];
        struct sched_hist *h = &mem->window[mem->nwindow];
        if (!isfinite(s->pdt) || cid_of_uri(s->uri, h->cid, sizeof h->cid) != 0) {
            rc = err_set(err, errlen, "segment %lld has no date-time or no /ipfs/ URI", (long long)s->seq);
            goto out;
        }
        h->seq = s->seq;
        h->duration = s->duration;
        h->samples = llround(s->duration * rate);
        h->pdt = s->pdt;
        /* The header counts the tags before the first segment; each tag
         * listed counts for the segments after it. */
        h->disc = s->discontinuity;
        h->disc_before = disc_before;
        disc_before += s->discontinuity;
        h->title = strdup(s->title ? s->title : "");
        h->track_id = strdup("");
        /* Both ascend in what the streamer renders: one walk, whatever a playlist holds. */
        while (range < pl.nranges && pl.ranges[range].first_seq < s->seq)
            range++;
        const char *art = range < pl.nranges && pl.ranges[range].first_seq == s->seq ? pl.ranges[range].artwork : NULL;
        h->artwork = art ? strdup(art) : NULL;
        mem->nwindow++;
        if (!h->title || !h->track_id || (art && !h->artwork)) {
            rc = err_set(err, errlen, "out of memory");
            goto out;
        }
    }
    const struct sched_hist *last = &mem->window[mem->nwindow - 1];
    mem->have = 1;
    mem->target = pl.target_duration;
    mem->epoch = mem->window[0].pdt;
    mem->anchor.seq = last->seq + 1;
    mem->anchor.disc_before = last->disc_before + last->disc;
    mem->anchor.time = last->pdt + last->duration;
out:
    m3u8_free(&pl);
    if (rc != 0)
        station_memory_free(mem);
    return rc;
}

int64_t recover_newest(const struct station_memory *mem)
{
    if (!mem->have)
        return -1;
    if (mem->nwindow)
        return mem->window[mem->nwindow - 1].seq;
    return mem->anchor.seq - 1;
}

int recover_from_name(const struct ipfs_client *c, const char *name, int rate, struct station_memory *mem,
                      int *has_record, char *err, size_t errlen)
{
    memset(mem, 0, sizeof *mem);
    *has_record = 0;
    unsigned char pk[IPNS_KEY_PUBLIC_BYTES];
    if (ipns_key_name_public(name, pk) != 0)
        return err_set(err, errlen, "%s is not an Ed25519 IPNS name", name);
    uint8_t rec[IPNS_RECORD_MAX];
    size_t len = 0;
    if (ipfs_ipns_get(c, name, rec, sizeof rec, &len, err, errlen) <= 0)
        return -1;
    *has_record = 1;
    /* Expired or not: it is what players were last given. */
    struct ipns_record_view v;
    if (ipns_record_verify(rec, len, pk, 0, &v, err, errlen) != 0)
        return err_prefix(err, errlen, "the node's record for the name");
    char value[IPNS_VALUE_MAX + 1];
    if (!v.value || v.value_len > IPNS_VALUE_MAX)
        return err_set(err, errlen, "the name's record has no value");
    memcpy(value, v.value, v.value_len);
    value[v.value_len] = '\0';
    char cid[CID_MAX_STR], q[CID_MAX_STR + 64];
    if (cid_of_uri(value, cid, sizeof cid) != 0)
        return err_set(err, errlen, "the name points at %.200s, not at /ipfs/<cid>", value);
    snprintf(q, sizeof q, "arg=%s&length=%u", cid, M3U8_MAX_BYTES + 1);
    struct ipfs_client bounded = *c;
    bounded.max_response = M3U8_MAX_BYTES + 1;
    struct ipfs_response r;
    if (ipfs_call(&bounded, "cat", q, &r, err, errlen) != 0)
        return err_prefix(err, errlen, "reading the playlist %s", cid);
    int rc = recover_from_playlist(r.body ? r.body : "", r.len, rate, mem, err, errlen);
    ipfs_response_free(&r);
    return rc == 0 ? 0 : err_prefix(err, errlen, "the playlist %s", cid);
}
