/* Helpers shared by the C benchmarks: a synthetic manifest of music tracks
 * (segments alternating 6.016 / 5.995 s at 48 kHz, as setup cuts them),
 * a running order over it, and clocks. Header-only, static functions. */
#ifndef RADIO_BENCH_UTIL_H
#define RADIO_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cid.h"
#ifdef BENCH_STREAMER
#include "manifest.h"
#include "order.h"
#include "playlist.h"
#endif

#define BENCH_RATE 48000
#define BENCH_START 1795000000.0   /* a fixed fake "now" (2026-11-19) */

static inline void bench_die(const char *what, const char *err)
{
    fprintf(stderr, "bench: %s: %s\n", what, err ? err : "failed");
    exit(1);
}

static inline void *bench_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        bench_die("calloc", "out of memory");
    return p;
}

static inline char *bench_xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        bench_die("strdup", "out of memory");
    return p;
}

#ifdef BENCH_STREAMER
/* A library whose tracks hold `segs_per_track` segments each (the last
 * track takes the remainder) for `total_segs` segments in all. Track ids
 * are t000000, t000001, ...; CIDs are real CIDv1 raw strings of distinct
 * bytes. */
static inline void bench_make_manifest(struct manifest *m, size_t total_segs, size_t segs_per_track)
{
    memset(m, 0, sizeof *m);
    m->enc.sample_rate = BENCH_RATE;
    m->enc.channels = 2;
    m->enc.bitrate = 128000;
    m->enc.segment_seconds = 6;
    manifest_fingerprint(&m->enc, m->enc.fingerprint);
    size_t ntracks = (total_segs + segs_per_track - 1) / segs_per_track;
    m->tracks = bench_xcalloc(ntracks, sizeof *m->tracks);
    size_t left = total_segs;
    for (size_t k = 0; k < ntracks; k++) {
        struct manifest_track *t = &m->tracks[m->ntracks++];
        size_t n = left < segs_per_track ? left : segs_per_track;
        left -= n;
        char id[32], title[64], artist[64];
        snprintf(id, sizeof id, "t%06zu", k);
        snprintf(title, sizeof title, "Song Number %zu", k);
        snprintf(artist, sizeof artist, "Benchmark Band %zu", k % 97);
        t->id = bench_xstrdup(id);
        t->kind = MANIFEST_MUSIC;
        t->artist = bench_xstrdup(artist);
        t->title = bench_xstrdup(title);
        t->source = bench_xstrdup(id);
        memcpy(t->fingerprint, m->enc.fingerprint, sizeof t->fingerprint);
        memset(t->source_sha256, 'a', 64);
        t->source_size = 5000000;
        t->nsegs = n;
        t->segs = bench_xcalloc(n, sizeof *t->segs);
        for (size_t i = 0; i < n; i++) {
            char f[96], data[96];
            snprintf(f, sizeof f, "segments/%s/%zu.ts", id, i);
            snprintf(data, sizeof data, "%s/%zu", id, i);
            t->segs[i].file = bench_xstrdup(f);
            cid_raw_from_bytes(data, strlen(data), t->segs[i].cid);
            /* AAC frames of 1024 samples; the last segment of a track is shorter. */
            t->segs[i].samples = i == n - 1 && n > 1 ? 200704 : (i % 2 ? 288768 : 287744);
            t->segs[i].duration = (double)t->segs[i].samples / BENCH_RATE;
            t->segs[i].bytes = 96000;
        }
        t->samples = 0;
        for (size_t i = 0; i < n; i++)
            t->samples += t->segs[i].samples;
        t->duration = (double)t->samples / BENCH_RATE;
    }
    manifest_sort(m);
}

/* The running order: every track once, in id order. */
static inline void bench_make_order(const struct manifest *m, struct order *o)
{
    struct playlist pl = {0};
    for (size_t i = 0; i < m->ntracks; i++) {
        char label[200];
        manifest_track_label(&m->tracks[i], label, sizeof label);
        if (playlist_append(&pl, m->tracks[i].id, label, m->tracks[i].duration) != 0)
            bench_die("playlist_append", "out of memory");
    }
    char err[512];
    if (order_build(m, &pl, o, err, sizeof err) != 0)
        bench_die("order_build", err);
    playlist_free(&pl);
}

#endif /* BENCH_STREAMER */

static inline double bench_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n) (sorts v). */
static inline double bench_median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* VmRSS (or another /proc/self/status field) in KiB, -1 if unknown. */
static inline long bench_status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

#endif
