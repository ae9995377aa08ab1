#include "timeline_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cid.h"
#include "playlist.h"

void fx_add_track(struct manifest *m, const char *id, int nsegs, int64_t last_samples, int jingle)
{
    m->tracks = realloc(m->tracks, (m->ntracks + 1) * sizeof *m->tracks);
    struct manifest_track *t = &m->tracks[m->ntracks++];
    memset(t, 0, sizeof *t);
    t->id = strdup(id);
    t->kind = jingle ? MANIFEST_JINGLE : MANIFEST_MUSIC;
    t->artist = strdup(jingle ? "" : "Artist");
    t->title = strdup(id);
    t->source = strdup(id);
    t->nsegs = (size_t)nsegs;
    t->segs = calloc((size_t)nsegs, sizeof *t->segs);
    for (int i = 0; i < nsegs; i++) {
        char f[128], data[128];
        snprintf(f, sizeof f, "segments/%s/%d.ts", id, i);
        snprintf(data, sizeof data, "%s/%d", id, i);
        t->segs[i].file = strdup(f);
        cid_raw_from_bytes(data, strlen(data), t->segs[i].cid);
        t->segs[i].samples = i == nsegs - 1 ? last_samples : (i % 2 ? 288768 : 287744);
        t->segs[i].duration = (double)t->segs[i].samples / FX_RATE;
        t->segs[i].bytes = 1000;
    }
}

void fx_make_library(struct manifest *m)
{
    memset(m, 0, sizeof *m);
    m->enc.sample_rate = FX_RATE;
    fx_add_track(m, "j1", 1, 150000, 1);    /* one-segment jingle */
    fx_add_track(m, "j2", 2, 100000, 1);
    fx_add_track(m, "t1", 31, 200000, 0);   /* ~3 min */
    fx_add_track(m, "t2", 45, 287744, 0);
    fx_add_track(m, "t3", 1, 96000, 0);     /* 2 s track: one short segment */
    fx_add_track(m, "t4", 20, 50000, 0);
    fx_add_track(m, "t5", 38, 280000, 0);
    manifest_sort(m);
}

void fx_make_small_library(struct manifest *m)
{
    memset(m, 0, sizeof *m);
    m->enc.sample_rate = FX_RATE;
    const struct { const char *id; int n; } tracks[] = {{"j1", 1}, {"t1", 7}, {"t2", 4}};
    for (size_t k = 0; k < sizeof tracks / sizeof *tracks; k++)
        fx_add_track(m, tracks[k].id, tracks[k].n, (tracks[k].n - 1) % 2 ? 288768 : 287744, 0);
    manifest_sort(m);
}

void fx_make_order(const struct manifest *m, const char *const *ids, size_t n, struct order *o)
{
    struct playlist pl = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(playlist_append(&pl, ids[i], NULL, -1), 0);
    char err[256];
    if (order_build(m, &pl, o, err, sizeof err) != 0)
        fail_msg("%s", err);
    playlist_free(&pl);
}
