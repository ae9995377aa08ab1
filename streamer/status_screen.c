#include "status_screen.h"

#include "atomic.h"
#include "err.h"
#include "m3u8.h"
#include "station.h"
#include "upcoming.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Tracks listed after the one on air: with the rest, one 24-line screen. */
#define NEXT_SHOWN 5
#define STATE_FILE_MAX (4 * 1024 * 1024)
#define SECONDS_PER_MINUTE 60
#define SECONDS_PER_HOUR 3600

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double when(json_t *o, const char *key)
{
    double t;
    const char *s = str(o, key);
    return s && m3u8_parse_time(s, &t) == 0 ? t : NAN;
}

/* "3 s", "4 min 12 s", "2 h 05 min": an age or a length for a person. */
static void span(double s, char *out, size_t n)
{
    if (isnan(s)) {
        snprintf(out, n, "?");
        return;
    }
    long v = lround(fabs(s));
    const char *sign = s < 0 ? "-" : "";
    if (v < SECONDS_PER_MINUTE)
        snprintf(out, n, "%s%ld s", sign, v);
    else if (v < SECONDS_PER_HOUR)
        snprintf(out, n, "%s%ld min %02ld s", sign, v / SECONDS_PER_MINUTE, v % SECONDS_PER_MINUTE);
    else
        snprintf(out, n, "%s%ld h %02ld min", sign, v / SECONDS_PER_HOUR, v % SECONDS_PER_HOUR / SECONDS_PER_MINUTE);
}

/* Wall-clock time of day, UTC, as the schedule's date-times are. */
static void clock_time(double t, char *out, size_t n)
{
    char iso[M3U8_TIME_LEN];
    m3u8_format_time(t, iso);
    snprintf(out, n, "%.8s", iso + 11);
}

struct problems {
    FILE *out;
    int n;
};

/* One line per problem: what, and the streamer's own words for it. */
static void problem(struct problems *p, const char *what, const char *detail)
{
    fprintf(p->out, "%-10s%s%s%s\n", p->n++ ? "" : "Problems", what, detail ? ": " : "", detail ? detail : "");
}

static void print_schedule(json_t *sched, double now, json_t *status, FILE *out)
{
    json_t *items = json_object_get(sched, "items");
    size_t i, shown = 0;
    json_t *it;
    int on = 0;
    json_array_foreach(items, i, it) {
        double at = when(it, "air_time"), dur = num(it, "duration_seconds");
        const char *title = str(it, "title");
        char a[32], b[32], c[32];
        if (!on && at <= now && now < at + dur) {
            span(now - at, a, sizeof a);
            span(dur, b, sizeof b);
            fprintf(out, "%-10s%s  (%s of %s)\n", "On air", title && *title ? title : str(it, "track"), a, b);
            on = 1;
        } else if (at > now && shown < NEXT_SHOWN) {
            clock_time(at, c, sizeof c);
            span(dur, b, sizeof b);
            fprintf(out, "%-10s%s  %s  (%s)\n", shown ? "" : "Next", c, title && *title ? title : str(it, "track"),
                    b);
            shown++;
        }
    }
    if (!on) {
        json_t *np = json_object_get(status, "now_playing");
        fprintf(out, "%-10s%s\n", "On air", str(np, "title") ? str(np, "title") : "(nothing known)");
    }
    if (!shown)
        fprintf(out, "%-10s%s\n", "Next", "(no schedule.json: schedule_horizon_seconds 0, or not written yet)");
}

static void print_problems(json_t *st, struct problems *p)
{
    json_t *lp = json_object_get(st, "last_publish");
    if (str(lp, "error"))
        problem(p, "last publish failed", str(lp, "error"));
    if (json_is_false(json_object_get(st, "node_reachable")))
        problem(p, "the IPFS node does not answer", NULL);
    if (str(st, "segment_check_error"))
        problem(p, "segments on the node", str(st, "segment_check_error"));
    json_t *ro = json_object_get(st, "running_order");
    if (str(ro, "last_error"))
        problem(p, "new running order refused (the last good one plays on)", str(ro, "last_error"));
    if (str(json_object_get(st, "clock"), "last_error"))
        problem(p, "clock.json refused (station IDs keep the rule they had)",
                str(json_object_get(st, "clock"), "last_error"));
    if (json_is_true(json_object_get(st, "held_by_clock")))
        problem(p, "held: the clock is behind the last published segment", NULL);
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(st, "ipns_targets"), i, t) {
        if (!json_is_true(json_object_get(t, "ok")) && str(t, "error")) {
            char what[600];
            snprintf(what, sizeof what, "IPNS target %s", str(t, "url") ? str(t, "url") : "?");
            problem(p, what, str(t, "error"));
        }
    }
    json_t *fo = json_object_get(st, "failover");
    if (str(fo, "error"))
        problem(p, "failover", str(fo, "error"));
}

enum status_verdict status_screen_print(const struct status_screen_in *in, const struct streamer_config *cfg,
                                        FILE *out)
{
    json_t *st = in->status_json ? json_loads(in->status_json, 0, NULL) : NULL;
    if (!json_is_object(st)) {
        fprintf(out, "%-10sOFF AIR: %s/status.json is %s (has radio-streamer run with this state_dir?)\n",
                "Station", cfg->state_dir, in->status_json ? "unreadable" : "missing");
        json_decref(st);
        return STATUS_OFF_AIR;
    }
    json_t *sched = in->schedule_json ? json_loads(in->schedule_json, 0, NULL) : NULL;
    double now = in->now, target = num(st, "target_duration");
    if (!(target > 0))
        target = 1;
    double every = cfg->publish_every_segments * target;
    /* The status changes with every publish and is rewritten unchanged
     * at least every heartbeat: older than that plus some slack, nobody
     * writes it. A playlist older than players play behind its edge
     * makes them stall: that is off air for a listener. */
    double heartbeat = cfg->status_heartbeat_seconds > 0 && cfg->status_heartbeat_seconds < every
                           ? cfg->status_heartbeat_seconds : every;
    double stale_after = heartbeat + STATION_MIN_TARGETS * target;
    double stall_after = STATION_MIN_TARGETS * target + cfg->listen_delay_seconds;
    double updated = when(st, "updated");
    json_t *lp = json_object_get(st, "last_publish");
    double published = when(lp, "time");
    int on_air = json_is_true(json_object_get(st, "on_air"));
    int stale = isnan(updated) || now - updated > stale_after;
    int stalled = isnan(published) || now - published > stall_after;
    const char *why = NULL;
    if (in->running == 0)
        why = "no radio-streamer runs on this state_dir";
    else if (stale)
        why = "status.json is stale: the streamer stopped writing it";
    else if (!on_air)
        why = "the streamer has not put the station on air (yet)";
    else if (stalled)
        why = "no publish for longer than listeners play behind the playlist's edge";
    enum status_verdict verdict = why ? STATUS_OFF_AIR : STATUS_ON_AIR;

    const char *name = str(st, "ipns_name");
    fprintf(out, "%-10s%s  %s (ipns_mode %s)\n", "Station", verdict == STATUS_ON_AIR ? "ON AIR" : "OFF AIR",
            name ? name : "(name not known yet)", str(st, "ipns_mode") ? str(st, "ipns_mode") : "?");
    if (why)
        fprintf(out, "%-10s%s\n", "", why);
    json_t *listen = json_object_get(st, "listen");
    if (str(listen, "local"))
        fprintf(out, "%-10s%s\n%-10s%s\n", "Listen", str(listen, "local"), "", str(listen, "public"));
    print_schedule(sched, now, st, out);

    char a[32], b[32];
    span(now - published, a, sizeof a);
    snprintf(b, sizeof b, "%.3f s", num(lp, "latency_seconds"));
    if (isnan(published))
        fprintf(out, "%-10s%s\n", "Published", "never (this run)");
    else
        fprintf(out, "%-10s%s ago (took %s), sequence %lld, playlist %s\n", "Published", a, b,
                (long long)num(lp, "newest_sequence"), str(lp, "playlist_cid") ? str(lp, "playlist_cid") : "?");
    json_t *c = json_object_get(st, "counts"), *ro = json_object_get(st, "running_order");
    fprintf(out, "%-10s%.0f publishes, %.0f failures, %.0f coalesced, %.0f skipped; order %.12s (%.0f segments), "
            "%.0f reloads, %.0f refused\n", "Counts", num(c, "publishes"), num(c, "failures"), num(c, "superseded"),
            num(c, "skipped_publishes"), str(ro, "id") ? str(ro, "id") : "?", num(ro, "segments"),
            num(c, "reloads"), num(c, "reload_errors"));
    if (str(ro, "time_zone"))
        fprintf(out, "%-10s%s (%s)\n", "Day-part", str(ro, "day_part") ? str(ro, "day_part") : "none: playlist.m3u",
                str(ro, "time_zone"));
    json_t *fo = json_object_get(st, "failover");
    if (fo) {
        fprintf(out, "%-10s%s, %.0f takeovers, %.0f stepbacks\n", "Failover", str(fo, "role") ? str(fo, "role") : "?",
                num(fo, "takeovers"), num(fo, "stepbacks"));
    }
    struct problems p = {out, 0};
    print_problems(st, &p);
    if (!p.n)
        fprintf(out, "%-10snone\n", "Problems");
    span(now - updated, a, sizeof a);
    if (in->running > 0)
        fprintf(out, "%-10swritten %s ago by pid %ld (running)\n", "Status", a, in->pid);
    else
        fprintf(out, "%-10swritten %s ago; %s\n", "Status", a,
                in->running == 0 ? "no streamer process holds the state directory" : "process unknown");
    json_decref(sched);
    json_decref(st);
    return verdict;
}

static char *slurp(const char *dir, const char *file)
{
    char path[4200], err[ERR_MSG_MAX];
    char *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (atomic_read(path, STATE_FILE_MAX, &text, &len, err, sizeof err) != 0)
        return NULL;
    return text;
}

/* The streamer writes its pid into state_dir/lock and holds it for its
 * whole life; a pid that no longer exists is a streamer gone. */
static int streamer_running(const char *state_dir, long *pid)
{
    char *text = slurp(state_dir, "lock");
    *pid = text ? strtol(text, NULL, 10) : 0;
    free(text);
    if (*pid <= 0)
        return 0;
    if (kill((pid_t)*pid, 0) == 0)
        return 1;
    return errno == EPERM ? 1 : 0;
}

enum status_verdict status_screen_run(const struct streamer_config *cfg, double now, FILE *out)
{
    struct status_screen_in in = {.now = now};
    in.running = streamer_running(cfg->state_dir, &in.pid);
    char *status = slurp(cfg->state_dir, "status.json");
    char *sched = slurp(cfg->state_dir, UPCOMING_FILE);
    in.status_json = status;
    in.schedule_json = sched;
    enum status_verdict v = status_screen_print(&in, cfg, out);
    free(status);
    free(sched);
    return v;
}
