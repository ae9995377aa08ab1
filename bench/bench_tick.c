/* Streamer benchmark 1 (issue 3): the cost of one tick -- find the segment
 * on air, build the window and render the live playlist -- with a
 * 100-segment running order and with a 100,000-segment one, measured in the
 * same process, in interleaved rounds, so machine load hits both alike.
 * The target: the large order costs at most 1.5x the small one.
 *
 * Each timed tick is a publish (publish_every 1, window 50 by default): the
 * clock is advanced to the start of the next segment, station_tick renders
 * the playlist, and the playlist is freed, as the daemon does. Tick times
 * are computed beforehand with station_next_boundary on a separate station,
 * so the timed loop holds nothing but station_tick and free.
 *
 *   bench_tick [--ticks N] [--rounds R] [--window W] [--small S] [--large L]
 *              [--per-track K] [--only small|large]
 *
 * --only runs a single order, one round, with callgrind collection switched
 * on around the timed loop only; use it under
 *   valgrind --tool=callgrind --collect-atstart=no bench_tick --only large --ticks 2000
 * and divide the collected Ir by the tick count for a repeatable figure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_STREAMER 1
#include "bench_util.h"
#include "station.h"

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define CALLGRIND_TOGGLE_COLLECT
#endif

struct subject {
    const char *name;
    size_t segs;
    struct station st;
    double *times;        /* tick instants: warm-up, then every timed tick */
    size_t ntimes, next;
    double wall_ns[4096]; /* per round, ns per tick */
    double cpu_ns[4096];
    size_t bytes;         /* playlist bytes rendered (keeps the work observable) */
    long rss_kib;         /* after building */
};

static void prepare(struct subject *s, size_t segs, size_t per_track, size_t window, size_t ticks,
                    size_t warm)
{
    struct station_opts opts = {.window = window, .publish_every = 1, .uri_mode = STATION_URI_PATH};
    char err[512];
    struct manifest m;
    bench_make_manifest(&m, segs, per_track);
    struct order probe_order, order;
    bench_make_order(&m, &probe_order);
    bench_make_order(&m, &order);
    manifest_free(&m);
    if (probe_order.n != segs)
        bench_die("order", "unexpected segment count");

    /* The instants at which a new segment goes on air. */
    struct station probe;
    if (station_open(&probe, &opts, &probe_order, NULL, BENCH_START, err, sizeof err) != 0)
        bench_die("station_open", err);
    s->ntimes = warm + ticks;
    s->times = bench_xcalloc(s->ntimes, sizeof *s->times);
    double t = BENCH_START + 0.5;
    s->times[0] = t;
    for (size_t i = 1; i < s->ntimes; i++)
        s->times[i] = t = station_next_boundary(&probe, t);
    station_close(&probe);

    if (station_open(&s->st, &opts, &order, NULL, BENCH_START, err, sizeof err) != 0)
        bench_die("station_open", err);
    s->segs = segs;
    /* Warm-up: fill the window (the first publishes hold fewer segments). */
    for (size_t i = 0; i < warm; i++) {
        struct station_out out;
        if (station_tick(&s->st, s->times[s->next++], &out, err, sizeof err) != STATION_PUBLISH)
            bench_die("warm-up tick", err[0] ? err : "did not publish");
        free(out.playlist);
    }
    s->rss_kib = bench_status_kib("VmRSS");
}

/* One round of n ticks; returns ns per tick (wall) and stores cpu ns. */
static void run_round(struct subject *s, size_t n, size_t round)
{
    char err[512] = "";
    size_t bytes = 0;
    int ok = 1;
    double w0 = bench_clock(CLOCK_MONOTONIC), c0 = bench_clock(CLOCK_THREAD_CPUTIME_ID);
    CALLGRIND_TOGGLE_COLLECT;
    for (size_t i = 0; i < n; i++) {
        struct station_out out;
        if (station_tick(&s->st, s->times[s->next++], &out, err, sizeof err) != STATION_PUBLISH)
            ok = 0;
        bytes += out.len;
        free(out.playlist);
    }
    CALLGRIND_TOGGLE_COLLECT;
    double c1 = bench_clock(CLOCK_THREAD_CPUTIME_ID), w1 = bench_clock(CLOCK_MONOTONIC);
    if (!ok)
        bench_die("tick", err[0] ? err : "a timed tick did not publish");
    s->bytes += bytes;
    s->wall_ns[round] = (w1 - w0) * 1e9 / (double)n;
    s->cpu_ns[round] = (c1 - c0) * 1e9 / (double)n;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_tick [--ticks N] [--rounds R] [--window W] [--small S] [--large L]\n"
                    "                  [--per-track K] [--only small|large]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    size_t ticks = 20000, rounds = 20, window = 50, small = 100, large = 100000, per_track = 31;
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--ticks") == 0)
            ticks = strtoul(v, NULL, 10);
        else if (strcmp(a, "--rounds") == 0)
            rounds = strtoul(v, NULL, 10);
        else if (strcmp(a, "--window") == 0)
            window = strtoul(v, NULL, 10);
        else if (strcmp(a, "--small") == 0)
            small = strtoul(v, NULL, 10);
        else if (strcmp(a, "--large") == 0)
            large = strtoul(v, NULL, 10);
        else if (strcmp(a, "--per-track") == 0)
            per_track = strtoul(v, NULL, 10);
        else if (strcmp(a, "--only") == 0)
            only = v;
        else
            usage();
    }
    if (only)
        rounds = 1;
    if (!ticks || !rounds || rounds > 4096 || ticks < rounds || !window || !small || !large || !per_track)
        usage();
    size_t per_round = ticks / rounds;
    size_t warm = 2 * window;

    if (only) {
        struct subject s = {.name = only};
        size_t segs = strcmp(only, "small") == 0 ? small : strcmp(only, "large") == 0 ? large : 0;
        if (!segs)
            usage();
        prepare(&s, segs, per_track, window, per_round, warm);
        run_round(&s, per_round, 0);
        printf("only=%s segments=%zu ticks=%zu wall_ns_per_tick=%.0f cpu_ns_per_tick=%.0f "
               "playlist_bytes=%zu\n",
               only, segs, per_round, s.wall_ns[0], s.cpu_ns[0], s.bytes / per_round);
#ifndef HAVE_CALLGRIND
        printf("(built without valgrind/callgrind.h: collection toggles are no-ops)\n");
#endif
        return 0;
    }

    struct subject sub[2] = {{.name = "small"}, {.name = "large"}};
    prepare(&sub[0], small, per_track, window, per_round * rounds, warm);
    prepare(&sub[1], large, per_track, window, per_round * rounds, warm);
    /* Interleave: small, large, large, small, ... so neither always goes first. */
    for (size_t r = 0; r < rounds; r++) {
        int first = (int)(r % 2);
        run_round(&sub[first], per_round, r);
        run_round(&sub[!first], per_round, r);
    }
    double ratio_wall[4096], ratio_cpu[4096];
    for (size_t r = 0; r < rounds; r++) {
        ratio_wall[r] = sub[1].wall_ns[r] / sub[0].wall_ns[r];
        ratio_cpu[r] = sub[1].cpu_ns[r] / sub[0].cpu_ns[r];
    }
    printf("window %zu, %zu publishes per order in %zu interleaved rounds of %zu\n", window,
           per_round * rounds, rounds, per_round);
    printf("%-6s %9s %12s %12s %12s %12s %14s\n", "order", "segments", "cpu ns/tick", "(min)",
           "wall ns/tick", "(min)", "playlist bytes");
    double med_cpu[2], med_wall[2];
    for (int k = 0; k < 2; k++) {
        struct subject *s = &sub[k];
        double w[4096], c[4096];
        memcpy(w, s->wall_ns, rounds * sizeof *w);
        memcpy(c, s->cpu_ns, rounds * sizeof *c);
        med_wall[k] = bench_median(w, rounds);
        med_cpu[k] = bench_median(c, rounds);
        printf("%-6s %9zu %12.0f %12.0f %12.0f %12.0f %14zu\n", s->name, s->segs, med_cpu[k], c[0],
               med_wall[k], w[0], s->bytes / (per_round * rounds));
    }
    double rc = bench_median(ratio_cpu, rounds), rw = bench_median(ratio_wall, rounds);
    printf("ratio large/small: cpu median %.3f (rounds %.3f..%.3f), wall median %.3f (rounds %.3f..%.3f)\n",
           rc, ratio_cpu[0], ratio_cpu[rounds - 1], rw, ratio_wall[0], ratio_wall[rounds - 1]);
    printf("VmRSS after building: small %ld KiB, large %ld KiB (both stations alive)\n", sub[0].rss_kib,
           sub[1].rss_kib);
    printf("RESULT\ttick_small_cpu_ns\t%.0f\n", med_cpu[0]);
    printf("RESULT\ttick_large_cpu_ns\t%.0f\n", med_cpu[1]);
    printf("RESULT\ttick_ratio_cpu\t%.3f\n", rc);
    printf("RESULT\ttick_ratio_cpu_min\t%.3f\n", ratio_cpu[0]);
    printf("RESULT\ttick_ratio_cpu_max\t%.3f\n", ratio_cpu[rounds - 1]);
    printf("RESULT\ttick_small_wall_ns\t%.0f\n", med_wall[0]);
    printf("RESULT\ttick_large_wall_ns\t%.0f\n", med_wall[1]);
    printf("RESULT\ttick_ratio_wall\t%.3f\n", rw);
    station_close(&sub[0].st);
    station_close(&sub[1].st);
    free(sub[0].times);
    free(sub[1].times);
    return 0;
}
