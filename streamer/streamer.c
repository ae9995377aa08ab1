#include "streamer.h"

#include "atomic.h"
#include "err.h"
#include "http_server.h"
#include "key_cmd.h"
#include "log.h"
#include "m3u8.h"
#include "node_check.h"
#include "order.h"
#include "order_keep.h"
#include "program.h"
#include "publisher.h"
#include "queue.h"
#include "station_ids.h"
#include "recover.h"
#include "standby.h"
#include "streamer_metrics.h"
#include "upcoming.h"
#include "state.h"
#include "station.h"
#include "status.h"
#include "timeline_line.h"
#include "watch.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct daemon {
    const struct streamer_config *cfg;
    const struct clock *clk;
    struct station st;
    struct publisher pub;
    struct record_publisher records;
    int station_key;                 /* ipns_mode station: records is running */
    struct standby standby;
    int failover;                    /* failover_role active|standby: standby is running */
    struct watch watch;
    struct http_server *metrics;     /* metrics_listen, or NULL */
    char state_path[4096];
    char status_path[4096];
    struct status_writer status;
    struct upcoming_writer upcoming; /* schedule.json, what is coming */
    int upcoming_failing;            /* its last write failed (logged once) */
    struct queue queue;              /* processed/queue.json and what it got */
    struct station_ids_rule ids_rule; /* processed/clock.json: station IDs on the clock */
    struct station_ids_memory ids;   /* and what deciding the next boundary needs */
    struct program program;          /* the running orders processed/ offers, day-parts included */
    struct program_memory positions; /* where each order left off */
    int part;                        /* the day-part of the latest boundary decided, -1: playlist.m3u */
    char program_error[ERR_MSG_MAX]; /* the last decision that failed, said once */
    char clock_error[ERR_MSG_MAX];   /* the last refused clock.json, cleared by an accepted one */
    double clock_error_time;
    int checking;                    /* on air: a new order is checked against the node too */
    struct ipfs_client check_ipfs;   /* the node checks before a change airs */
    int have_order_from;             /* the last order accepted: where it takes effect */
    int64_t order_from_seq;
    double order_from_time;
    char live_path[4096];
    char keep_path[4096];            /* the last accepted running order */
    double started;
    int on_air_logged;
    int held;
    uint64_t skipped, reloads, reload_errors;
    char reload_error[ERR_MSG_MAX];
    double reload_error_time;
    struct sched_item playing;       /* strings below are owned copies */
    char playing_title[1024], playing_track[256], playing_cid[CID_MAX_STR];
    int have_playing;
    int64_t media_seq, disc_seq;
    /* state/ shows this station published before (state, last playlist,
     * status or IPNS sequence file): a new timeline must start at the
     * sequence floor, never at 0 under the same name. A station whose
     * state/ is empty starts at 0: hls.js 1.7 slows to a halt on media
     * sequences as large as the floor's. */
    int past_life;
};

static int give_segments(struct daemon *d)
{
    const struct order *o = &d->st.sched.order;
    struct publisher_seg *v = calloc(o->n + 1, sizeof *v);
    if (!v)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < o->n; i++) {
        size_t l = strlen(d->cfg->processed_dir) + strlen(o->segs[i].file) + 2;
        char *p = malloc(l);
        if (!p) {
            rc = -1;
            break;
        }
        snprintf(p, l, "%s/%s", d->cfg->processed_dir, o->segs[i].file);
        snprintf(v[i].cid, sizeof v[i].cid, "%s", o->segs[i].cid);
        v[i].path = p;
    }
    if (rc == 0)
        rc = publisher_set_segments(&d->pub, v, o->n);
    for (size_t i = 0; i < o->n; i++)
        free(v[i].path);
    free(v);
    return rc;
}

static void save_state(struct daemon *d)
{
    struct streamer_state ss = {0};
    char err[ERR_MSG_MAX];
    struct publisher_status ps;
    publisher_status(&d->pub, &ps);
    snprintf(ss.ipns_name, sizeof ss.ipns_name, "%s", ps.name);
    if ((ss.acks = calloc(d->queue.nacks + 1, sizeof *ss.acks)) != NULL && d->queue.nacks) {
        memcpy(ss.acks, d->queue.acks, d->queue.nacks * sizeof *ss.acks);
        ss.nacks = d->queue.nacks;
    }
    ss.ids = d->ids;
    ss.positions = d->positions;
    if (!ss.acks || station_remember(&d->st, &ss.mem) != 0 ||
        publisher_ring(&d->pub, &ss.playlists, &ss.nplaylists) != 0) {
        log_ev(LOG_ERROR, "cannot snapshot the state (out of memory)", NULL);
    } else if (state_save(d->state_path, &ss, err, sizeof err) != 0) {
        log_ev(LOG_ERROR, "cannot save the state", "error", err, NULL);
    }
    state_free(&ss);
}

/* What is coming, for the program that decides what plays; a failure is
 * logged when it starts and when it ends, not at every tick. */
static void write_schedule(struct daemon *d, double now)
{
    char err[ERR_MSG_MAX];
    /* A day-part switch within the horizon is shown before it is decided. */
    struct sched forecast;
    int fc = d->upcoming.horizon > 0 ? program_forecast(&d->program, &d->positions, &d->st, now, d->upcoming.horizon,
                                                        &forecast, err, sizeof err)
                                     : 0;
    int rc = fc < 0 ? -1 : upcoming_write(&d->upcoming, fc == 1 ? &forecast : &d->st.sched, now, err, sizeof err);
    if (fc == 1)
        sched_free(&forecast);
    if (rc < 0 && !d->upcoming_failing)
        log_ev(LOG_WARN, "cannot write the schedule", "path", d->upcoming.path, "error", err, NULL);
    else if (rc >= 0 && d->upcoming_failing)
        log_ev(LOG_NOTICE, "schedule written again", "path", d->upcoming.path, NULL);
    d->upcoming_failing = rc < 0;
}

static void write_status(struct daemon *d, double now)
{
    struct publisher_status ps;
    publisher_status(&d->pub, &ps);
    char local[1024] = "", pub[1024] = "";
    if (ps.name[0]) {
        snprintf(local, sizeof local, "%s/ipns/%s", d->cfg->local_gateway, ps.name);
        snprintf(pub, sizeof pub, "%s/ipns/%s", d->cfg->public_gateway, ps.name);
    }
    struct record_target_status *targets = NULL;
    size_t ntargets = 0;
    int on_air = ps.last_ok > 0;
    if (d->station_key) {
        if (record_publisher_status(&d->records, &targets, &ntargets) != 0)
            ntargets = 0;
        /* On air once a target holds a record, not when one is merely signed. */
        on_air = 0;
        for (size_t i = 0; i < ntargets; i++)
            on_air |= targets[i].last_ok > 0;
    }
    struct status_view v = {
        .ipns_name = ps.name,
        .ipns_mode = d->cfg->ipns_mode,
        .targets = targets,
        .ntargets = ntargets,
        .local_url = ps.name[0] ? local : NULL,
        .public_url = ps.name[0] ? pub : NULL,
        .now = now,
        .started = d->started,
        .on_air = on_air,
        .held = d->held,
        .target_duration = d->st.target,
        .window = d->cfg->window_segments,
        .media_sequence = d->media_seq,
        .discontinuity_sequence = d->disc_seq,
        .newest_seq = d->st.newest,
        .now_playing = d->have_playing ? &d->playing : NULL,
        .pub = &ps,
        .skipped_publishes = d->skipped,
        .reloads = d->reloads,
        .reload_errors = d->reload_errors,
        .reload_error = d->reload_error[0] ? d->reload_error : NULL,
        .reload_error_time = d->reload_error_time,
        .order_id = d->st.sched.order.id,
        .order_segments = (int64_t)d->st.sched.order.n,
        .have_order_from = d->have_order_from,
        .order_from_seq = d->order_from_seq,
        .order_from_time = d->order_from_time,
        .queue = &d->queue,
        .time_zone = d->program.dp.zone ? tz_name(d->program.dp.zone) : NULL,
        .day_part = program_part_name(&d->program, d->part),
        .clock_error = d->clock_error[0] ? d->clock_error : NULL,
        .clock_error_time = d->clock_error_time,
    };
    queue_refresh(&d->queue, &d->st.sched, now);
    struct standby_view fv;
    if (d->failover) {
        standby_status(&d->standby, &fv);
        v.failover = &fv;
        v.on_air = v.on_air && fv.active;
    }
    char err[ERR_MSG_MAX];
    if (status_write(&d->status, &v, err, sizeof err) != 0)
        log_ev(LOG_WARN, "cannot write the status file", "error", err, NULL);
    if (streamer_metrics_publish(d->metrics, &v, d->cfg) != 0)
        log_ev(LOG_WARN, "out of memory rendering the metrics", NULL);
    free(targets);
    if (ps.name[0] && !d->on_air_logged) {
        d->on_air_logged = 1;
        log_ev(LOG_NOTICE, "station name known", "ipns_name", ps.name, "local", local, "public", pub, NULL);
        printf("IPNS name: %s\nListen:    %s\n           %s\n", ps.name, local, pub);
        fflush(stdout);
    }
}

/* Whether the window, over this order, lists what players need, and no
 * playlist they read is older than they play behind its edge. */
static int check_timing(struct daemon *d, const struct order *o, char *err, size_t errlen)
{
    double shortest = (double)order_min_span(o, (size_t)d->cfg->window_segments) / o->rate;
    int target = d->st.target > o->max_rounded ? d->st.target : o->max_rounded;
    return streamer_config_check_timing(d->cfg, "the configuration", target, shortest, err, errlen);
}

/* A copy that cannot be written is logged and the station plays on: it
 * only matters at a start with processed/ broken. */
static void keep_order(struct daemon *d)
{
    char err[ERR_MSG_MAX];
    if (order_keep_save(d->keep_path, &d->program.base, err, sizeof err) != 0)
        log_ev(LOG_WARN, "cannot keep a copy of the running order", "error", err, NULL);
}

/* What every order processed/ offers must pass before it is accepted: the
 * window's timing, a target duration that need not grow on air, and, once
 * on air, the node holding a new order's segments. */
static int check_new_order(void *ctx, const struct order *o, char *err, size_t errlen)
{
    struct daemon *d = ctx;
    if (d->checking && o->max_rounded > d->st.target)
        return err_set(err, errlen, "it has a %d s segment; the station's target duration is %d s and cannot grow "
                       "while on air (restart the streamer to allow it)", o->max_rounded, d->st.target);
    if (check_timing(d, o, err, errlen) != 0)
        return -1;
    if (!d->checking || strcmp(o->id, d->st.sched.order.id) == 0 || program_part_of(&d->program, o->id) != -2)
        return 0;
    return node_check_order(&d->check_ipfs, o, d->cfg->processed_dir, err, errlen);
}

/* processed/ refused at start: the last order accepted, if any, plays
 * until another program fixes processed/ (the watcher takes it then). */
static int start_from_kept(struct daemon *d, char *err, size_t errlen)
{
    char why[ERR_MSG_MAX], kept[ERR_MSG_MAX];
    snprintf(why, sizeof why, "%s", err);
    struct order_texts t;
    int missing = 0;
    if (order_keep_load(d->keep_path, &t, &missing, kept, sizeof kept) != 0 ||
        program_from_texts(&t, d->cfg->state_dir, &d->program, kept, sizeof kept) != 0) {
        order_texts_free(&t);
        if (missing)
            return err_set(err, errlen, "no valid running order in %s (%s), and no earlier one kept in %s",
                           d->cfg->processed_dir, why, d->cfg->state_dir);
        return err_set(err, errlen, "no valid running order in %s (%s), and the copy of the last one is unusable "
                       "(%s)", d->cfg->processed_dir, why, kept);
    }
    d->reload_errors++;
    snprintf(d->reload_error, sizeof d->reload_error, "%s", why);
    d->reload_error_time = d->started;
    log_ev(LOG_ERROR, "the running order in processed/ is refused; playing the last one accepted, kept in the "
           "state directory", "error", why, "copy", d->keep_path, NULL);
    return 0;
}

/* processed/clock.json as it is now; a refused one leaves the rule in force. */
static void load_station_ids(struct daemon *d)
{
    struct station_ids_rule r;
    char err[ERR_MSG_MAX];
    int rc = station_ids_load(d->cfg->processed_dir, d->st.sched.order.rate, &r, err, sizeof err);
    if (rc < 0) {
        /* A rewrite storm repeats one problem many times: say it once. */
        log_ev(strcmp(d->clock_error, err) == 0 ? LOG_DEBUG : LOG_ERROR,
               "clock.json refused; station IDs keep the rule they had", "error", err, NULL);
        snprintf(d->clock_error, sizeof d->clock_error, "%s", err);
        d->clock_error_time = d->clk->now(d->clk->ctx);
        return;
    }
    d->clock_error[0] = '\0';
    station_ids_rule_free(&d->ids_rule);
    d->ids_rule = r;
    char every[32], n[32];
    snprintf(every, sizeof every, "%g", r.every);
    snprintf(n, sizeof n, "%zu", r.njingles);
    if (station_ids_active(&r))
        log_ev(LOG_INFO, "station IDs on the clock", "every_seconds", every, "top_of_hour",
               r.top_of_hour ? "yes" : "no", "jingles", n, NULL);
}

/* The next track boundary gets a station ID or not, before it airs. */
static void decide_station_id(struct daemon *d, double now)
{
    char err[ERR_MSG_MAX];
    int64_t at;
    int rc = station_ids_step(&d->ids_rule, &d->ids, &d->st, now, &at, err, sizeof err);
    if (rc < 0) {
        log_ev(LOG_ERROR, "cannot put a station ID on the timeline", "error", err, NULL);
        return;
    }
    if (rc == 0 || at < 0)
        return;
    if (d->have_order_from && d->order_from_seq >= at) {
        d->order_from_seq = d->st.sched.anchor.seq;
        d->order_from_time = d->st.sched.anchor.time;
    }
    struct sched_item it = {0};
    char seq[32], when[M3U8_TIME_LEN];
    snprintf(seq, sizeof seq, "%lld", (long long)at);
    m3u8_format_time(sched_item(&d->st.sched, at, &it) == 0 ? it.pdt : 0, when);
    log_ev(LOG_INFO, "station ID scheduled at a track boundary", "track", it.track_id ? it.track_id : "", "sequence",
           seq, "at", when, NULL);
    save_state(d);
}

/* The next boundary of the running order plays the order of the part in
 * force at its air time (playlist.m3u outside day-parts); a switch is
 * acknowledged like a new order. */
static void decide_program(struct daemon *d, double now)
{
    char err[ERR_MSG_MAX];
    int64_t at;
    int part;
    int rc = program_step(&d->program, &d->positions, &d->st, now, &at, &part, err, sizeof err);
    if (rc < 0) {
        if (strcmp(d->program_error, err) != 0)
            log_ev(LOG_ERROR, "cannot switch the running order; the current one plays on", "error", err, NULL);
        snprintf(d->program_error, sizeof d->program_error, "%s", err);
        return;
    }
    d->program_error[0] = '\0';
    int from_part = d->part;
    d->part = part;
    if (rc == 0)
        return;
    char seq[32], when[M3U8_TIME_LEN];
    snprintf(seq, sizeof seq, "%lld", (long long)at);
    m3u8_format_time(d->st.sched.anchor.time, when);
    d->reloads++;
    d->have_order_from = 1;
    d->order_from_seq = d->st.sched.anchor.seq;
    d->order_from_time = d->st.sched.anchor.time;
    const char *name = program_part_name(&d->program, part);
    if (d->program.dp.zone)
        log_ev(LOG_INFO, "running order switches at a track boundary", "part", name ? name : "(none: playlist.m3u)",
               "from_part", program_part_name(&d->program, from_part) ? program_part_name(&d->program, from_part)
                                                                       : "(none: playlist.m3u)",
               "order", d->st.sched.order.id, "from_sequence", seq, "at", when, NULL);
    else
        log_ev(LOG_INFO, "running order loaded; it starts at a track boundary", "order", d->st.sched.order.id,
               "from_sequence", seq, "at", when, NULL);
    if (give_segments(d) != 0)
        log_ev(LOG_ERROR, "out of memory handing segments to the publisher", NULL);
    save_state(d);
}

static void try_reload(struct daemon *d, double now, int forced)
{
    if (!forced && !watch_changed(&d->watch))
        return;
    watch_mark(&d->watch);
    load_station_ids(d);
    struct program p;
    char err[ERR_MSG_MAX];
    if (program_read(d->cfg->processed_dir, check_new_order, d, &p, err, sizeof err) != 0) {
        d->reload_errors++;
        /* A rewrite storm repeats one problem many times: say it once. */
        int again = strcmp(d->reload_error, err) == 0;
        snprintf(d->reload_error, sizeof d->reload_error, "%s", err);
        d->reload_error_time = now;
        log_ev(again ? LOG_DEBUG : LOG_ERROR, "new running order refused; still playing the current one", "error",
               err, NULL);
        return;
    }
    d->reload_error[0] = '\0';
    /* The copy is written when what it keeps changed, not at every
     * rewrite of processed/ (a queue, a storm). */
    int same = p.base.manifest_len == d->program.base.manifest_len &&
               p.base.playlist_len == d->program.base.playlist_len &&
               memcmp(p.base.manifest, d->program.base.manifest, p.base.manifest_len) == 0 &&
               memcmp(p.base.playlist, d->program.base.playlist, p.base.playlist_len) == 0;
    program_free(&d->program);
    d->program = p;
    if (!same)
        keep_order(d);
    uint64_t before = d->reloads;
    decide_program(d, now);
    if (d->reloads == before)
        log_ev(LOG_DEBUG, "processed/ changed but the running order did not", NULL);
}

/* What processed/queue.json newly asks for goes on the timeline; an order
 * switch still to come then takes effect after it. */
static void try_queue(struct daemon *d, double now, int forced)
{
    char err[ERR_MSG_MAX];
    if (queue_poll(&d->queue, &d->st, d->cfg->processed_dir, &d->check_ipfs, now, forced, err, sizeof err) != 1)
        return;
    if (d->have_order_from && d->order_from_seq >= d->queue.change_seq) {
        d->order_from_seq = d->st.sched.anchor.seq;
        d->order_from_time = d->st.sched.anchor.time;
    }
    save_state(d);
}

/* Failover: 1 when this streamer is on air; after a takeover, first takes
 * over the timeline of the playlist the other streamer published last. */
static int failover_on_air(struct daemon *d, double now)
{
    char *text = NULL, err[ERR_MSG_MAX];
    size_t len = 0;
    int on = standby_on_air(&d->standby, &text, &len);
    if (text) {
        /* The order the other streamer played, when processed/ offers it
         * here too (a day-part's); else the one in force now. */
        struct sched_anchor a;
        int part = timeline_line_parse(text, len, &a) == 0 ? program_part_of(&d->program, a.order_id) : -2;
        if (part == -2)
            part = dayparts_at(&d->program.dp, now);
        struct order o;
        if (program_order(&d->program, part, &o, err, sizeof err) != 0 ||
            standby_adopt_order(&d->st, &o, text, len, now, err, sizeof err) < 0)
            log_ev(LOG_ERROR, "cannot continue the other streamer's timeline; continuing this one's", "error", err,
                   NULL);
    }
    free(text);
    return on;
}

static void tick(struct daemon *d, double now)
{
    struct station_out out;
    char err[ERR_MSG_MAX] = "";
    if (d->failover && !failover_on_air(d, now))
        return;
    /* The order first: a station ID decided at the same boundary goes
     * before whichever order plays after it. */
    decide_program(d, now);
    decide_station_id(d, now);
    enum station_tick_result r = station_tick(&d->st, now, &out, err, sizeof err);
    if (r == STATION_HELD) {
        if (!d->held)
            log_ev(LOG_WARN, "the clock is behind the last published segment; holding until it catches up", NULL);
        d->held = 1;
        d->skipped++;
        return;
    }
    if (r != STATION_PUBLISH) {
        if (err[0])
            log_ev(LOG_ERROR, "cannot build the playlist", "error", err, NULL);
        return;
    }
    d->held = 0;
    if (out.restarted_behind > 0) {
        char behind[32], seq[32];
        snprintf(behind, sizeof behind, "%.3f", out.restarted_behind);
        snprintf(seq, sizeof seq, "%lld", (long long)out.newest);
        log_ev(LOG_WARN, "the clock went back further than the station holds for: the timeline goes on from the "
               "new clock at the next sequence number, with a discontinuity, the running order from its top",
               "behind_seconds", behind, "sequence", seq, NULL);
    }
    if (d->failover && timeline_line_append(&out.playlist, &out.len, &d->st.sched.anchor) != 0) {
        log_ev(LOG_ERROR, "out of memory rendering the playlist", NULL);
        return;
    }
    /* On disk before it goes out: whatever instant a kill -9 comes at, the
     * next start knows at least what was published, and never goes back. */
    save_state(d);
    if (atomic_write(d->live_path, out.playlist, out.len, err, sizeof err) != 0)
        log_ev(LOG_WARN, "cannot write the live playlist copy", "error", err, NULL);
    if (publisher_submit(&d->pub, out.playlist, out.len, out.newest) != 0)
        log_ev(LOG_ERROR, "out of memory handing a playlist to the publisher", NULL);
    d->media_seq = out.media_sequence;
    d->disc_seq = out.discontinuity_sequence;
    snprintf(d->playing_title, sizeof d->playing_title, "%s", out.now_playing.title);
    snprintf(d->playing_track, sizeof d->playing_track, "%s", out.now_playing.track_id);
    snprintf(d->playing_cid, sizeof d->playing_cid, "%s", out.now_playing.cid);
    d->playing = out.now_playing;
    d->playing.title = d->playing_title;
    d->playing.track_id = d->playing_track;
    d->playing.cid = d->playing_cid;
    d->have_playing = 1;
    if (out.now_playing.disc) {
        char seq[32];
        snprintf(seq, sizeof seq, "%lld", (long long)out.newest);
        log_ev(LOG_INFO, "now playing", "title", d->playing_title, "track", d->playing_track, "sequence", seq, NULL);
    }
    free(out.playlist);
    /* The boundary after the one just published, decided at once, so the
     * schedule written next shows it. */
    decide_program(d, now);
    decide_station_id(d, now);
}

/* Sleeps until `seconds` pass or a signal arrives. */
static void wait_for(struct streamer_signals *sig, double seconds)
{
    if (seconds <= 0)
        return;
    int ms = seconds > 3600 ? 3600 * 1000 : (int)ceil(seconds * 1000);
    struct pollfd pfd = {sig->wake_fd, POLLIN, 0};
    int n = poll(&pfd, sig->wake_fd >= 0 ? 1 : 0, ms);
    if (n > 0) {
        char drain[64];
        while (read(sig->wake_fd, drain, sizeof drain) > 0)
            ;
    }
}

/* The newer of state.json and the last playlist written: a state lost,
 * corrupt, from another version, or behind what went out (a restored
 * backup) gives way to live.m3u8, so the timeline goes on after it. */
static int open_state(struct daemon *d, int rate, struct streamer_state *ss, char *err, size_t errlen)
{
    const char *traces[] = {"state.json", "state.json.unreadable", "live.m3u8", "status.json", "ipns.json"};
    for (size_t i = 0; i < sizeof traces / sizeof *traces && !d->past_life; i++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/%s", d->cfg->state_dir, traces[i]);
        d->past_life = access(p, F_OK) == 0;
    }
    if (state_load(d->state_path, ss, err, errlen) != 0) {
        char aside[4200];
        snprintf(aside, sizeof aside, "%s.unreadable", d->state_path);
        log_ev(LOG_ERROR, "state unreadable; moved aside", "error", err, "moved_to", aside, NULL);
        if (rename(d->state_path, aside) != 0)
            return err_set(err, errlen, "cannot move aside %s: %s", d->state_path, strerror(errno));
        memset(ss, 0, sizeof *ss);
    }
    char *text = NULL, why[ERR_MSG_MAX];
    size_t len = 0;
    struct station_memory live;
    if (access(d->live_path, F_OK) != 0) {
        if (!ss->mem.have)
            log_ev(LOG_NOTICE, "no state and no last playlist: a new timeline from the sequence floor", NULL);
        return 0;
    }
    if (atomic_read(d->live_path, M3U8_MAX_BYTES, &text, &len, why, sizeof why) != 0 ||
        recover_from_playlist(text, len, rate, &live, why, sizeof why) != 0) {
        free(text);
        log_ev(ss->mem.have ? LOG_WARN : LOG_ERROR, "the last playlist written is unusable", "path", d->live_path,
               "error", why, NULL);
        return 0;
    }
    free(text);
    if (recover_newest(&live) <= recover_newest(&ss->mem)) {
        station_memory_free(&live);
        return 0;
    }
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)recover_newest(&live));
    log_ev(LOG_WARN,
           ss->mem.have ? "the state is behind the last playlist written; continuing after that playlist"
                        : "no usable state; continuing after the last playlist written",
           "last_sequence", seq, NULL);
    station_memory_free(&ss->mem);
    ss->mem = live;
    return 0;
}

/* The playlist the station's name points at on its node: with state/
 * lost entirely (a new disk, a wiped volume), it is what listeners were
 * last given, and the timeline goes on after it rather than from 0 or
 * from the sequence floor. It also wins over a state restored from an
 * old backup. A node that cannot say is no error. */
static void consult_node(struct daemon *d, const struct ipfs_client *ipfs, int rate, struct streamer_state *ss)
{
    const struct streamer_config *cfg = d->cfg;
    if (cfg->recover_from_node_seconds <= 0)
        return;
    struct ipfs_client c = *ipfs;
    c.timeout = cfg->recover_from_node_seconds;
    c.retries = 0;
    char name[128], why[ERR_MSG_MAX];
    if (d->station_key) {
        snprintf(name, sizeof name, "%s", d->records.name);
    } else if (ipfs_key_ensure(&c, cfg->ipns_key, name, sizeof name, why, sizeof why) != 0) {
        log_ev(LOG_WARN, "cannot ask the node for the station's name; not recovering from it", "error", why, NULL);
        return;
    }
    struct station_memory mem;
    int has_record = 0;
    if (recover_from_name(&c, name, rate, &mem, &has_record, why, sizeof why) != 0) {
        /* A name with a record, usable or not, was used before: listeners
         * may hold sequence numbers under it, so never from 0. */
        d->past_life |= has_record;
        log_ev(has_record ? LOG_WARN : LOG_INFO, "no playlist to continue from on the node", "ipns_name", name,
               "detail", why, NULL);
        return;
    }
    d->past_life = 1;
    if (recover_newest(&mem) <= recover_newest(&ss->mem)) {
        station_memory_free(&mem);
        return;
    }
    char seq[32];
    snprintf(seq, sizeof seq, "%lld", (long long)recover_newest(&mem));
    log_ev(LOG_WARN,
           ss->mem.have ? "the state is behind the playlist the name points at; continuing after that playlist"
                        : "no state; continuing after the playlist the name points at",
           "ipns_name", name, "last_sequence", seq, NULL);
    station_memory_free(&ss->mem);
    ss->mem = mem;
}

static int start_records(struct daemon *d, const char *auth, char *err, size_t errlen)
{
    const struct streamer_config *cfg = d->cfg;
    char key_path[4096], seq_path[4096];
    if (key_cmd_path(cfg, key_path, sizeof key_path, err, errlen) != 0 ||
        fs_mkdirs_parent(key_path, err, errlen) != 0 ||
        fs_path(seq_path, sizeof seq_path, err, errlen, "%s/ipns.json", cfg->state_dir) != 0)
        return -1;
    struct record_publisher_opts ro = {
        .key_path = key_path,
        .seq_path = seq_path,
        .state_dir = cfg->state_dir,
        .kubo = &cfg->ipns_kubo_targets,
        .routing = &cfg->ipns_routing_targets,
        .primary_api = cfg->ipfs_api,
        .auth = auth,
        .timeout = cfg->ipns_target_timeout_seconds,
        .lookup_timeout = cfg->ipns_lookup_seconds,
        .backoff = cfg->publish_backoff_seconds,
        .backoff_max = cfg->publish_backoff_max_seconds,
        .lifetime = cfg->ipns_lifetime_seconds,
        .ttl = cfg->ipns_ttl_seconds,
        .keep = (size_t)cfg->keep_playlists,
    };
    if (record_publisher_start(&d->records, &ro, d->clk, err, errlen) != 0)
        return err_prefix(err, errlen, "station key");
    d->station_key = 1;
    char n[32];
    snprintf(n, sizeof n, "%zu", d->records.ntargets);
    log_ev(LOG_INFO, "publishing with the station's own key", "ipns_name", d->records.name, "targets", n, NULL);
    return 0;
}

static int start_failover(struct daemon *d, const char *auth, char *err, size_t errlen)
{
    const struct streamer_config *cfg = d->cfg;
    struct standby_opts so = {
        .api = cfg->ipfs_api,
        .auth = auth,
        .name = d->records.name,
        .pk = d->records.key.pk,
        .poll = cfg->failover_poll_seconds,
        .takeover = cfg->failover_takeover_seconds > 0 ? cfg->failover_takeover_seconds
                                                       : STANDBY_DEFAULT_TARGETS * d->st.target,
        .start_active = strcmp(cfg->failover_role, "active") == 0,
        .last_signed = d->records.seq.last,
    };
    if (standby_start(&d->standby, &so, d->clk, err, errlen) != 0)
        return err_prefix(err, errlen, "failover");
    d->records.guard = &d->standby.guard;
    d->failover = 1;
    return 0;
}

static int run_locked(const struct streamer_config *cfg, const struct clock *clk, struct http_server *metrics,
                      struct streamer_signals *sig, char *err, size_t errlen)
{
    struct daemon d = {.cfg = cfg, .clk = clk, .metrics = metrics};
    d.started = clk->now(clk->ctx);
    snprintf(d.state_path, sizeof d.state_path, "%s/state.json", cfg->state_dir);
    snprintf(d.status_path, sizeof d.status_path, "%s/status.json", cfg->state_dir);
    status_writer_init(&d.status, d.status_path, cfg->status_heartbeat_seconds);
    if (upcoming_writer_init(&d.upcoming, cfg->state_dir, cfg->schedule_horizon_seconds, err, errlen) != 0)
        return -1;
    if (queue_init(&d.queue, cfg->processed_dir, err, errlen) != 0)
        return -1;
    snprintf(d.live_path, sizeof d.live_path, "%s/live.m3u8", cfg->state_dir);
    snprintf(d.keep_path, sizeof d.keep_path, "%s/%s", cfg->state_dir, ORDER_KEEP_FILE);

    /* Watching starts before the first read, so a rewrite in between is
     * seen at the first check rather than missed. */
    watch_init(&d.watch, cfg->processed_dir);
    if (program_read(cfg->processed_dir, check_new_order, &d, &d.program, err, errlen) == 0)
        keep_order(&d);
    else if (start_from_kept(&d, err, errlen) != 0)
        return -1;
    struct ipfs_client ipfs;
    const char *auth = cfg->ipfs_auth_env[0] ? getenv(cfg->ipfs_auth_env) : NULL;
    if (ipfs_client_init(&ipfs, cfg->ipfs_api, auth, err, errlen) != 0) {
        program_free(&d.program);
        return -1;
    }
    ipfs.timeout = cfg->ipfs_timeout_seconds;
    if (ipfs_client_init(&d.check_ipfs, cfg->ipfs_api, auth, err, errlen) != 0) {
        ipfs_client_free(&ipfs);
        program_free(&d.program);
        return -1;
    }
    /* A check on the station's clock: one quick answer or a refusal. */
    d.check_ipfs.timeout = cfg->queue_check_seconds;
    d.check_ipfs.retries = 0;
    if (strcmp(cfg->ipns_mode, "station") == 0 && start_records(&d, auth, err, errlen) != 0) {
        ipfs_client_free(&ipfs);
        ipfs_client_free(&d.check_ipfs);
        program_free(&d.program);
        return -1;
    }
    struct streamer_state ss;
    if (open_state(&d, d.program.rate, &ss, err, errlen) != 0)
        goto fail_client;
    consult_node(&d, &ipfs, d.program.rate, &ss);
    struct station_opts so = {
        .window = (size_t)cfg->window_segments,
        .publish_every = cfg->publish_every_segments,
        .uri_mode = strcmp(cfg->uri_mode, "gateway") == 0 ? STATION_URI_GATEWAY : STATION_URI_PATH,
        .gateway_base = cfg->segment_gateway,
        .uri_suffix = cfg->segment_uri_suffix,
        .listen_delay = cfg->listen_delay_seconds,
        .sequence_floor = d.past_life,
        .clock_hold_targets = cfg->clock_back_hold_targets,
        .min_target = d.program.max_target,
    };
    struct order o;
    if (program_opening(&d.program, &ss.mem, d.started, &o, &d.part, err, errlen) != 0)
        goto fail_state;
    if (station_open(&d.st, &so, &o, &ss.mem, d.started, err, errlen) != 0)
        goto fail_state;
    if (check_timing(&d, &d.st.sched.order, err, errlen) != 0) {
        station_close(&d.st);
        goto fail_state;
    }
    if (ss.mem.have && ss.mem.target != d.st.target)
        log_ev(LOG_WARN, "target duration grew since the last run; players reloading will adapt", NULL);
    /* The page plays listen_delay behind the newest segment and hls.js wants
     * a few target durations of playlist before that. */
    if ((double)cfg->window_segments * d.st.target < cfg->listen_delay_seconds + STATION_MIN_TARGETS * d.st.target)
        log_ev(LOG_WARN, "the window is shorter than listen_delay_seconds plus three target durations: "
               "listeners play the window's length minus three target durations behind air instead", NULL);

    if (d.station_key && strcmp(cfg->failover_role, "off") != 0 && start_failover(&d, auth, err, errlen) != 0) {
        station_close(&d.st);
        goto fail_state;
    }

    struct publisher_opts po = {
        .key = cfg->ipns_key,
        .lifetime = cfg->ipns_lifetime_seconds,
        .ttl = cfg->ipns_ttl_seconds,
        .backoff = cfg->publish_backoff_seconds,
        .backoff_max = cfg->publish_backoff_max_seconds,
        .keep = (size_t)cfg->keep_playlists,
        .processed_dir = cfg->processed_dir,
        .known_name = ss.ipns_name[0] ? ss.ipns_name : NULL,
        .records = d.station_key ? &d.records : NULL,
    };
    if (publisher_start(&d.pub, &po, &ipfs, clk, ss.playlists, ss.nplaylists, err, errlen) != 0) {
        if (d.failover)
            standby_stop(&d.standby);
        station_close(&d.st);
        goto fail_state;
    }
    if (queue_restore(&d.queue, ss.acks, ss.nacks) != 0)
        log_ev(LOG_ERROR, "out of memory restoring the queue's acknowledgements", NULL);
    d.ids = ss.ids;
    d.positions = ss.positions;
    if (!ss.mem.have)
        d.ids = (struct station_ids_memory){.decided = -1};
    d.checking = 1;
    load_station_ids(&d);
    state_free(&ss);
    give_segments(&d);
    char seq[32], tgt[16];
    snprintf(seq, sizeof seq, "%lld", (long long)d.st.newest);
    snprintf(tgt, sizeof tgt, "%d", d.st.target);
    log_ev(LOG_INFO, "streamer started", "order", d.st.sched.order.id, "last_sequence", seq,
           "target_duration", tgt, "api", cfg->ipfs_api, NULL);

    double next_reload = clk->mono(clk->ctx) + cfg->reload_check_seconds;
    while (!sig->stop) {
        double now = clk->now(clk->ctx);
        if (sig->reload || clk->mono(clk->ctx) >= next_reload) {
            int forced = sig->reload;
            sig->reload = 0;
            try_reload(&d, now, forced);
            try_queue(&d, now, forced);
            next_reload = clk->mono(clk->ctx) + cfg->reload_check_seconds;
        }
        tick(&d, now);
        write_status(&d, now);
        write_schedule(&d, now);
        double until = station_next_boundary(&d.st, now) - clk->now(clk->ctx);
        double reload_in = next_reload - clk->mono(clk->ctx);
        if (until > reload_in)
            until = reload_in;
        /* A standby takes over on time, not at the next segment. */
        double takeover_in = d.failover ? standby_takeover_in(&d.standby) : -1;
        if (takeover_in >= 0 && until > takeover_in)
            until = takeover_in;
        wait_for(sig, until);
    }
    log_ev(LOG_INFO, "stopping", NULL);
    /* One grace for the whole stop: the record targets get what the
     * publisher left of it (they may still take its last record). */
    double deadline = clk->mono(clk->ctx) + cfg->shutdown_grace_seconds;
    publisher_stop(&d.pub, cfg->shutdown_grace_seconds);
    if (d.station_key) {
        double left = deadline - clk->mono(clk->ctx);
        record_publisher_stop(&d.records, left > 0 ? left : 0);
    }
    save_state(&d);
    write_status(&d, clk->now(clk->ctx));
    if (d.failover)
        standby_stop(&d.standby); /* after the publisher, whose signing asks it */
    publisher_free(&d.pub);
    if (d.station_key)
        record_publisher_free(&d.records);
    station_close(&d.st);
    status_writer_free(&d.status);
    upcoming_writer_free(&d.upcoming);
    queue_free(&d.queue);
    station_ids_rule_free(&d.ids_rule);
    program_free(&d.program);
    ipfs_client_free(&d.check_ipfs);
    log_ev(LOG_INFO, "stopped; state saved", NULL);
    return 0;

fail_state:
    state_free(&ss);
fail_client:
    program_free(&d.program);
    if (d.station_key)
        record_publisher_free(&d.records);
    ipfs_client_free(&ipfs);
    ipfs_client_free(&d.check_ipfs);
    queue_free(&d.queue);
    return -1;
}

int streamer_run(const struct streamer_config *cfg, const struct clock *clk,
                 struct streamer_signals *sig, char *err, size_t errlen)
{
    int lock_fd;
    if (fs_mkdirs(cfg->state_dir, err, errlen) != 0 || state_lock(cfg->state_dir, &lock_fd, err, errlen) != 0)
        return -1;
    /* Before anything goes on air: an address that cannot be had stops the
     * start, as a bad config key does. */
    struct http_server *metrics = NULL;
    int rc = streamer_metrics_start(&metrics, cfg, err, errlen);
    if (rc == 0 && metrics) {
        char port[16];
        snprintf(port, sizeof port, "%d", http_server_port(metrics));
        log_ev(LOG_INFO, "serving /metrics", "listen", cfg->metrics_listen, "port", port, NULL);
    }
    if (rc == 0)
        rc = run_locked(cfg, clk, metrics, sig, err, errlen);
    http_server_stop(metrics);
    close(lock_fd);
    return rc;
}
