/* Streamer benchmark 2 (issue 3): resident memory over a simulated day.
 *
 * One process plays a station for 24 simulated hours with a fake clock, as
 * the daemon's loop does, minus the network: at every segment boundary
 * station_tick renders the live playlist, the playlist is written to a live
 * copy (atomic_write), its CID is pushed on a ring of published playlists
 * trimmed to keep_playlists (default 20), and the state is persisted
 * (station_remember + state_save to a temp file, atomically, with fsync).
 * VmRSS is read from /proc/self/status at every simulated hour. The target:
 * flat -- no growth between hour 1 and hour 24 (asserted: under 1 MiB).
 *
 *   bench_day [--hours H] [--window W] [--segs N] [--per-track K] [--keep K]
 *             [--reload-hours H] [--dir DIR]
 *
 * --reload-hours H swaps in another running order (the same tracks,
 * reversed, and back) every H simulated hours as the daemon does when
 * playlist.m3u is rewritten: order_load from DIR/processed (manifest.json
 * and playlist.m3u written there at the start), then station_reload.
 * Exit status 3 when the growth is 1 MiB or more. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#define BENCH_STREAMER 1
#include "bench_util.h"
#include "state.h"
#include "station.h"

static void usage(void)
{
    fprintf(stderr, "usage: bench_day [--hours H] [--window W] [--segs N] [--per-track K] [--keep K]\n"
                    "                 [--reload-hours H] [--dir DIR]\n");
    exit(2);
}

/* Writes DIR/processed/playlist.m3u: the tracks in id order, or reversed. */
static void write_playlist(const struct manifest *m, const char *processed, int reversed)
{
    struct playlist pl = {0};
    for (size_t k = 0; k < m->ntracks; k++) {
        const struct manifest_track *t = &m->tracks[reversed ? m->ntracks - 1 - k : k];
        char label[200];
        manifest_track_label(t, label, sizeof label);
        if (playlist_append(&pl, t->id, label, t->duration) != 0)
            bench_die("playlist_append", "out of memory");
    }
    char *text = playlist_to_m3u(&pl);
    char path[4200], err[512];
    snprintf(path, sizeof path, "%s/playlist.m3u", processed);
    if (!text || atomic_write(path, text, strlen(text), err, sizeof err) != 0)
        bench_die("write playlist.m3u", text ? err : "out of memory");
    free(text);
    playlist_free(&pl);
}

int main(int argc, char **argv)
{
    double hours = 24, reload_hours = 0;
    size_t window = 50, segs = 3000, per_track = 31, keep = 20;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(a, "--hours") == 0)
            hours = atof(v);
        else if (strcmp(a, "--window") == 0)
            window = strtoul(v, NULL, 10);
        else if (strcmp(a, "--segs") == 0)
            segs = strtoul(v, NULL, 10);
        else if (strcmp(a, "--per-track") == 0)
            per_track = strtoul(v, NULL, 10);
        else if (strcmp(a, "--keep") == 0)
            keep = strtoul(v, NULL, 10);
        else if (strcmp(a, "--reload-hours") == 0)
            reload_hours = atof(v);
        else if (strcmp(a, "--dir") == 0)
            dir = v;
        else
            usage();
    }
    if (hours < 1 || hours > 24 * 365 || !window || !segs || !per_track || !keep || reload_hours < 0)
        usage();

    char tmpl[] = "/tmp/radio-bench-day-XXXXXX";
    if (!dir && !(dir = mkdtemp(tmpl)))
        bench_die("mkdtemp", "failed");
    char state_path[4096], live_path[4096];
    snprintf(state_path, sizeof state_path, "%s/state.json", dir);
    snprintf(live_path, sizeof live_path, "%s/live.m3u8", dir);

    struct manifest m;
    bench_make_manifest(&m, segs, per_track);
    struct order o;
    bench_make_order(&m, &o);
    char processed[4096];
    snprintf(processed, sizeof processed, "%s/processed", dir);
    if (reload_hours > 0) {
        char merr[512], mpath[4200];
        char *json = manifest_to_json(&m);
        snprintf(mpath, sizeof mpath, "%s/manifest.json", processed);
        if (!json || fs_mkdirs(processed, merr, sizeof merr) != 0 ||
            atomic_write(mpath, json, strlen(json), merr, sizeof merr) != 0)
            bench_die("write manifest.json", json ? merr : "out of memory");
        free(json);
    }
    struct station_opts opts = {.window = window, .publish_every = 1, .uri_mode = STATION_URI_PATH};
    struct station st;
    char err[512];
    if (station_open(&st, &opts, &o, NULL, BENCH_START, err, sizeof err) != 0)
        bench_die("station_open", err);

    /* The publisher's ring of playlists still pinned, oldest first. */
    char(*ring)[CID_MAX_STR] = bench_xcalloc(keep + 1, sizeof *ring);
    size_t nring = 0;

    size_t nhours = (size_t)hours;
    long *rss = bench_xcalloc(nhours + 1, sizeof *rss);
    double *cpu_at = bench_xcalloc(nhours + 1, sizeof *cpu_at);
    size_t publishes = 0, reloads = 0;
    size_t max_hist = 0;
    size_t max_state_bytes = 0;
    double now = BENCH_START + 0.5, end = BENCH_START + hours * 3600;
    double next_hour = BENCH_START + 3600, next_reload = reload_hours > 0 ? BENCH_START + reload_hours * 3600 : end + 1;
    size_t hour = 0;
    rss[0] = bench_status_kib("VmRSS");
    double cpu0 = bench_clock(CLOCK_PROCESS_CPUTIME_ID), wall0 = bench_clock(CLOCK_MONOTONIC);
    while (now < end) {
        struct station_out out;
        enum station_tick_result r = station_tick(&st, now, &out, err, sizeof err);
        if (r == STATION_PUBLISH) {
            publishes++;
            if (atomic_write(live_path, out.playlist, out.len, err, sizeof err) != 0)
                bench_die("live copy", err);
            char cid[CID_MAX_STR];
            cid_raw_from_bytes(out.playlist, out.len, cid);
            free(out.playlist);
            if (nring == keep) {
                memmove(ring, ring + 1, (keep - 1) * sizeof *ring);
                nring--;
            }
            snprintf(ring[nring++], CID_MAX_STR, "%s", cid);

            struct streamer_state ss = {0};
            snprintf(ss.ipns_name, sizeof ss.ipns_name, "k51qzi5uqu5dbenchmarkname");
            if (station_remember(&st, &ss.mem) != 0)
                bench_die("station_remember", "out of memory");
            for (size_t i = 0; i < nring; i++)
                if (state_push_playlist(&ss, ring[i]) != 0)
                    bench_die("state_push_playlist", "out of memory");
            if (ss.mem.nhist > max_hist)
                max_hist = ss.mem.nhist;
            if (state_save(state_path, &ss, err, sizeof err) != 0)
                bench_die("state_save", err);
            state_free(&ss);
        } else if (err[0]) {
            bench_die("tick", err);
        }
        if (now >= next_reload) {
            struct order no;
            write_playlist(&m, processed, reloads % 2 == 0);
            if (order_load(processed, &no, NULL, err, sizeof err) != 0)
                bench_die("order_load", err);
            int rc = station_reload(&st, &no, now, err, sizeof err);
            if (rc < 0)
                bench_die("station_reload", err);
            if (rc == 0)
                order_free(&no);
            reloads++;
            next_reload += reload_hours * 3600;
        }
        now = station_next_boundary(&st, now);
        while (now >= next_hour && hour < nhours) {
            hour++;
            rss[hour] = bench_status_kib("VmRSS");
            cpu_at[hour] = bench_clock(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
            next_hour += 3600;
        }
    }
    double cpu = bench_clock(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = bench_clock(CLOCK_MONOTONIC) - wall0;
    {
        char *text = NULL;
        size_t len = 0;
        if (atomic_read(state_path, STATE_MAX_BYTES, &text, &len, err, sizeof err) == 0)
            max_state_bytes = len;
        free(text);
    }
    printf("simulated %.0f h: %zu publishes, window %zu, order %zu segments (%.1f h loop), keep %zu, "
           "reloads %zu\n",
           hours, publishes, window, segs, (double)order_loop_samples(&st.sched.order) / BENCH_RATE / 3600, keep,
           reloads);
    printf("per publish (tick + live copy + remember + state_save): cpu %.0f us, wall %.0f us; "
           "state file %zu bytes; max history kept %zu\n",
           cpu / (double)publishes * 1e6, wall / (double)publishes * 1e6, max_state_bytes, max_hist);
    printf("hour  VmRSS KiB  cpu s\n");
    for (size_t h = 0; h <= nhours; h++)
        printf("%4zu  %9ld  %5.1f\n", h, rss[h], cpu_at[h]);
    long growth = rss[nhours] - rss[1 <= nhours ? 1 : 0];
    long lo = rss[1], hi = rss[1];
    for (size_t h = 1; h <= nhours; h++) {
        if (rss[h] < lo)
            lo = rss[h];
        if (rss[h] > hi)
            hi = rss[h];
    }
    printf("VmHWM %ld KiB; growth hour 1 -> hour %zu: %ld KiB (range over hours 1..%zu: %ld..%ld KiB)\n",
           bench_status_kib("VmHWM"), nhours, growth, nhours, lo, hi);
    int flat = growth < 1024;
    printf("%s: growth %s 1 MiB\n", flat ? "FLAT" : "GROWS", flat ? "under" : "at or over");
    printf("RESULT\tday_rss_h1_kib\t%ld\n", rss[1]);
    printf("RESULT\tday_rss_hlast_kib\t%ld\n", rss[nhours]);
    printf("RESULT\tday_rss_growth_kib\t%ld\n", growth);
    printf("RESULT\tday_rss_range_kib\t%ld\n", hi - lo);
    printf("RESULT\tday_publishes\t%zu\n", publishes);
    printf("RESULT\tday_publish_cpu_us\t%.0f\n", cpu / (double)publishes * 1e6);
    printf("RESULT\tday_publish_wall_us\t%.0f\n", wall / (double)publishes * 1e6);

    station_close(&st);
    manifest_free(&m);
    free(ring);
    free(rss);
    free(cpu_at);
    unlink(state_path);
    unlink(live_path);
    if (reload_hours > 0)
        fs_remove_tree(processed, NULL, 0);
    if (dir == tmpl)
        rmdir(tmpl);
    return flat ? 0 : 3;
}
