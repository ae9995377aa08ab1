#include "monitor.h"

#include "atomic.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hm_monitor_init(struct hm_monitor *m, const struct hm_config *cfg, const struct clock *clk,
                    char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    m->takeovers_seen = -1;
    m->clk = *clk;
    struct hm_probe_settings *s = &m->settings;
    s->playlist_path = cfg->playlist_path;
    s->slow_fraction = cfg->slow_fraction;
    s->max_redirects = cfg->max_redirects;
    s->max_playlist_bytes = (size_t)cfg->max_playlist_kib * HM_KIB;
    s->max_segment_bytes = (size_t)cfg->max_segment_kib * HM_KIB;
    s->playlist.stale_target_durations = cfg->stale_target_durations;
    s->playlist.jump_tolerance = cfg->date_time_jump_tolerance_seconds;
    s->playlist.age_window = cfg->playlist_age_window_seconds;
    s->audio.true_peak = cfg->true_peak;
    s->audio.short_term_step = cfg->short_term_step_seconds;
    s->audio.silence_floor_lufs = cfg->silence_floor_lufs;
    s->audio.clip_level_dbfs = cfg->clip_level_dbfs;
    s->audio.clip_run_samples = cfg->clip_run_samples;
    s->silence_hold_seconds = cfg->silence_hold_seconds;
    s->short_audio_tolerance = cfg->short_audio_tolerance_seconds;
    s->loudness_target_lufs = cfg->loudness_target_lufs;
    s->loudness_tolerance_lu = cfg->loudness_tolerance_lu;
    s->loudness_drift_rounds = cfg->loudness_drift_rounds;

    size_t n = 1 + cfg->public_gateways.n;
    m->gw = calloc(n, sizeof *m->gw);
    m->reports = calloc(n, sizeof *m->reports);
    m->history = hm_history_new(cfg->history_rounds);
    /* Two rounds' worth: this round's gateways, and the last round's
     * measurements for segments still newest now. */
    m->audio_cache = hm_audio_cache_new(2 * n);
    if (!m->gw || !m->reports || !m->history || !m->audio_cache) {
        hm_monitor_free(m);
        return err_set(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *url = i == 0 ? cfg->local_gateway : cfg->public_gateways.v[i - 1];
        double timeout = i == 0 ? cfg->local_timeout_seconds : cfg->public_timeout_seconds;
        if (hm_gateway_init(&m->gw[i], url, i == 0, timeout, cfg->loudness_drift_rounds, err,
                            errlen) != 0) {
            hm_monitor_free(m);
            return -1;
        }
        m->ngw = i + 1;
    }
    return 0;
}

void hm_monitor_free(struct hm_monitor *m)
{
    for (size_t i = 0; i < m->ngw; i++)
        hm_gateway_free(&m->gw[i]);
    free(m->gw);
    free(m->reports);
    hm_history_free(m->history);
    hm_audio_cache_free(m->audio_cache);
    memset(m, 0, sizeof *m);
}

struct job {
    struct hm_monitor *m;
    size_t i;
    double deadline;
    pthread_t th;
    int started;
};

static void *probe_job(void *arg)
{
    struct job *j = arg;
    struct hm_monitor *m = j->m;
    hm_probe(&m->gw[j->i], m->round.ipns_name, &m->settings, &m->clk, j->deadline,
             m->audio_cache, &m->reports[j->i]);
    return NULL;
}

static void log_round(struct hm_monitor *m, const struct hm_round *r)
{
    char num[32], secs[32], nreasons[32];
    int changed = !m->have_status || m->last_status != r->status;
    snprintf(num, sizeof num, "%lu", r->number);
    snprintf(secs, sizeof secs, "%.3f", r->seconds);
    snprintf(nreasons, sizeof nreasons, "%zu", r->nreasons);
    enum log_level lvl = r->status == HM_OK ? LOG_INFO : r->status == HM_DEGRADED ? LOG_WARN : LOG_ERROR;
    /* Every round at info; a change of status stands out at its own level. */
    if (!changed)
        lvl = LOG_INFO;
    log_ev(lvl, changed ? "status changed" : "round done", "status", hm_severity_name(r->status),
           "round", num, "seconds", secs, "reasons", nreasons, "first_reason",
           r->nreasons ? r->reasons[0] : "", NULL);
    m->have_status = 1;
    m->last_status = r->status;
}

/* The streamer beside us, and a takeover it made since the last round as
 * an event in the log (its status only keeps the latest). */
static void read_streamer(struct hm_monitor *m, struct hm_round *r)
{
    char err[ERR_MSG_MAX];
    if (!m->cfg->state_dir[0] || hm_streamer_read(m->cfg->state_dir, &r->streamer, err, sizeof err) != 0)
        return;
    const struct hm_streamer_view *v = &r->streamer;
    if (v->failover && m->takeovers_seen >= 0 && v->takeovers > m->takeovers_seen) {
        char n[32];
        snprintf(n, sizeof n, "%ld", v->takeovers);
        log_ev(LOG_NOTICE, "takeover: the streamer beside this monitor took the air from the other one",
               "takeovers", n, NULL);
    }
    if (v->failover)
        m->takeovers_seen = v->takeovers;
}

const struct hm_round *hm_monitor_round(struct hm_monitor *m)
{
    struct hm_round *r = &m->round;
    const struct clock *clk = &m->clk;
    unsigned long number = r->number + 1;
    memset(r, 0, sizeof *r);
    r->number = number;
    r->started_at = clk->now(clk->ctx);
    r->interval = m->cfg->interval_seconds;
    r->gw = m->reports;
    r->ngw = m->ngw;
    double t0 = clk->mono(clk->ctx);

    char err[ERR_MSG_MAX];
    read_streamer(m, r);
    if (hm_ipns_name(m->cfg, r->ipns_name, sizeof r->ipns_name, err, sizeof err) != 0) {
        hm_problem_add(&r->station, HM_NO_NAME, "%s", err);
        for (size_t i = 0; i < m->ngw; i++)
            hm_probe_skipped(&m->gw[i], &m->reports[i]);
    } else {
        struct job one;
        struct job *jobs = calloc(m->ngw, sizeof *jobs);
        for (size_t i = 0; i < m->ngw; i++) {
            /* A gateway gets its own time limit per request, and the round
             * as a whole at most one interval (or one time limit if that is
             * longer), so rounds keep their pace whatever a gateway does. */
            double budget = fmax(m->gw[i].timeout, m->cfg->interval_seconds);
            struct job *j = jobs ? &jobs[i] : &one;
            *j = (struct job){m, i, t0 + budget, 0, 0};
            /* Without memory or threads the probes still run, one by one. */
            j->started = jobs && pthread_create(&j->th, NULL, probe_job, j) == 0;
            if (!j->started)
                probe_job(j);
        }
        for (size_t i = 0; jobs && i < m->ngw; i++)
            if (jobs[i].started)
                pthread_join(jobs[i].th, NULL);
        free(jobs);
    }
    r->seconds = clk->mono(clk->ctx) - t0;
    hm_health_evaluate(r);
    m->rounds_total[r->status]++;
    memcpy(r->rounds_total, m->rounds_total, sizeof r->rounds_total);
    if (hm_history_push(m->history, r) != 0)
        log_ev(LOG_WARN, "out of memory: round left out of the history", NULL);
    log_round(m, r);
    return r;
}

static int write_output(const char *path, const char *json, char *err, size_t errlen)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (fs_mkdirs(dir, err, errlen) != 0)
            return -1;
    }
    return atomic_write(path, json, strlen(json), err, errlen);
}

int hm_monitor_output(struct hm_monitor *m, struct hm_server *srv, char **json_out,
                      char *err, size_t errlen)
{
    if (json_out)
        *json_out = NULL;
    const struct hm_round *r = &m->round;
    char *json = hm_health_json(r, m->history);
    char *metrics = hm_metrics_text(r);
    int rc = 0;
    if (!json || !metrics) {
        rc = err_set(err, errlen, "out of memory rendering the round");
    } else {
        if (srv && hm_server_publish(srv, json, hm_health_http_status(r->status), metrics) != 0)
            rc = err_set(err, errlen, "out of memory publishing the round");
        if (rc == 0 && m->cfg->output_file[0] && write_output(m->cfg->output_file, json, err, errlen) != 0)
            rc = -1;
    }
    free(metrics);
    if (json_out && json)
        *json_out = json;
    else
        free(json);
    return rc;
}
