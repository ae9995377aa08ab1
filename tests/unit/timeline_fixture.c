#include "timeline_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cid.h"
#include "err.h"
#include "playlist.h"
#include "state.h"
#include "station.h"

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
        t->samples += t->segs[i].samples;
    }
    t->duration = (double)t->samples / FX_RATE;
    memset(t->source_sha256, 'a', 64);
    memcpy(t->fingerprint, m->enc.fingerprint, sizeof t->fingerprint);
}

static void encoding(struct manifest *m)
{
    m->enc = (struct manifest_encoding){FX_RATE, 2, 128000, 6.0, 0, -16, -1, "", 0.5};
    manifest_fingerprint(&m->enc, m->enc.fingerprint);
}

void fx_make_library(struct manifest *m)
{
    memset(m, 0, sizeof *m);
    encoding(m);
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
    encoding(m);
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

static void put(const char *dir, const char *name, const char *text)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", path);
    assert_int_equal(system(cmd), 0);
    *slash = '/';
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

void fx_write_manifest(const struct manifest *m, const char *dir)
{
    char *text = manifest_to_json(m);
    assert_non_null(text);
    put(dir, "manifest.json", text);
    free(text);
}

void fx_write_playlist(const char *dir, const char *name, const char *const *ids, size_t n)
{
    struct playlist pl = {0};
    for (size_t i = 0; i < n; i++)
        assert_int_equal(playlist_append(&pl, ids[i], ids[i], -1), 0);
    char *text = playlist_to_m3u(&pl);
    assert_non_null(text);
    put(dir, name, text);
    free(text);
    playlist_free(&pl);
}

void fx_write_file(const char *dir, const char *name, const char *text)
{
    put(dir, name, text);
}

void fx_log_push(struct fx_log *lg, const struct sched_item *it)
{
    if (lg->n == lg->cap) {
        lg->cap = lg->cap ? lg->cap * 2 : 1024;
        lg->v = realloc(lg->v, lg->cap * sizeof *lg->v);
        assert_non_null(lg->v);
    }
    struct fx_aired *a = &lg->v[lg->n++];
    a->seq = it->seq;
    snprintf(a->cid, sizeof a->cid, "%s", it->cid);
    a->pdt = it->pdt;
    a->duration = it->duration;
    a->disc = it->disc;
    a->disc_before = it->disc_before;
    snprintf(a->track, sizeof a->track, "%s", it->track_id);
}

void fx_check_timeline(const struct manifest *m, const struct fx_log *lg)
{
    size_t run_start = 0;
    for (size_t i = 1; i <= lg->n; i++) {
        if (i < lg->n) {
            const struct fx_aired *p = &lg->v[i - 1], *a = &lg->v[i];
            assert_int_equal(a->seq, p->seq + 1);
            assert_true(fabs(p->pdt + p->duration - a->pdt) < FX_SLACK);
            assert_int_equal(a->disc_before, p->disc_before + p->disc);
            if (strcmp(a->track, p->track) != 0)
                assert_true(a->disc);
            if (!a->disc)
                continue;
        }
        /* A whole track between run_start and i, unless cut by the log's ends. */
        if (lg->v[run_start].disc && i < lg->n) {
            const struct manifest_track *t = manifest_find(m, lg->v[run_start].track);
            assert_non_null(t);
            assert_int_equal(i - run_start, t->nsegs);
        }
        run_start = i;
    }
}

void fx_tick(struct station *st, double t, struct fx_log *lg)
{
    char err[ERR_MSG_MAX];
    int64_t before = st->newest;
    struct station_out out;
    if (station_tick(st, t, &out, err, sizeof err) != STATION_PUBLISH)
        return;
    int64_t q = before < 0 ? out.first : before + 1;
    if (lg->n)
        assert_int_equal(q, lg->v[lg->n - 1].seq + 1);
    for (; q <= out.newest; q++) {
        struct sched_item it;
        assert_int_equal(sched_item(&st->sched, q, &it), 0);
        fx_log_push(lg, &it);
    }
    free(out.playlist);
}

void fx_state_round_trip(const struct station *st, const struct station_ids_memory *im,
                         const struct program_memory *pm, struct streamer_state *out)
{
    char path[] = "/tmp/radio-fx-state-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct streamer_state ss = {0};
    assert_int_equal(station_remember(st, &ss.mem), 0);
    ss.acks = calloc(1, sizeof *ss.acks);
    ss.ids = *im;
    if (pm)
        ss.positions = *pm;
    char err[ERR_MSG_MAX];
    assert_int_equal(state_save(path, &ss, err, sizeof err), 0);
    state_free(&ss);
    assert_int_equal(state_load(path, out, err, sizeof err), 0);
    unlink(path);
}
