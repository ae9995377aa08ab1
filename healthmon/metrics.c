#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "radio_healthmon_"

static void head(struct prom_text *o, const char *name, const char *type, const char *help)
{
    prom_put(o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

typedef double (*gw_value_fn)(const struct hm_gateway_report *g, int *present);

static void per_gateway(struct prom_text *o, const struct hm_round *r, const char *name, const char *type,
                        const char *help, gw_value_fn fn)
{
    head(o, name, type, help);
    for (size_t i = 0; i < r->ngw; i++) {
        int present = 1;
        double v = fn(&r->gw[i], &present);
        if (!present)
            continue;
        prom_put(o, PREFIX "%s{gateway=\"", name);
        prom_label(o, r->gw[i].name);
        prom_put(o, "\",role=\"%s\"} ", r->gw[i].local ? "local" : "public");
        prom_value(o, v);
    }
}

static double g_status(const struct hm_gateway_report *g, int *p) { (void)p; return g->status; }
static double g_up(const struct hm_gateway_report *g, int *p)
{
    (void)p;
    return g->parsed && !hm_problem_has(&g->probs, HM_STALE) ? 1 : 0;
}
static double g_age(const struct hm_gateway_report *g, int *p)
{
    *p = isfinite(g->facts.age);
    return g->facts.age;
}

static double g_age_max(const struct hm_gateway_report *g, int *p)
{
    *p = isfinite(g->facts.age_max);
    return g->facts.age_max;
}
static double g_fetch(const struct hm_gateway_report *g, int *p)
{
    *p = g->answered;
    return g->fetch_seconds;
}
static double g_seg_fetch(const struct hm_gateway_report *g, int *p)
{
    double worst = 0;
    *p = 0;
    for (size_t i = 0; i < g->nseg; i++)
        if (g->seg[i].answered) {
            *p = 1;
            worst = fmax(worst, g->seg[i].fetch_seconds);
        }
    return worst;
}
static double g_seq(const struct hm_gateway_report *g, int *p)
{
    *p = g->parsed;
    return (double)g->facts.media_sequence;
}
#define AUDIO_GAUGE(fn, field)                                           \
    static double fn(const struct hm_gateway_report *g, int *p)           \
    {                                                                     \
        *p = g->audio_measured;                                           \
        return g->audio.field;                                            \
    }
AUDIO_GAUGE(g_integrated, integrated_lufs)
AUDIO_GAUGE(g_short_term, short_term_lufs)
static double g_true_peak(const struct hm_gateway_report *g, int *p)
{
    /* Not measured unless configured: no sample then. */
    *p = g->audio_measured && !isnan(g->audio.true_peak_dbtp);
    return g->audio.true_peak_dbtp;
}
AUDIO_GAUGE(g_sample_peak, sample_peak_dbfs)
AUDIO_GAUGE(g_rms, rms_dbfs)
AUDIO_GAUGE(g_silent, silent_seconds)
static double g_failures(const struct hm_gateway_report *g, int *p)
{
    (void)p;
    return (double)g->failures_total;
}

char *hm_metrics_text(const struct hm_round *r)
{
    struct prom_text o = {0};
    if (r) {
        head(&o, "status", "gauge", "Station status: 0 ok, 1 degraded, 2 down");
        prom_put(&o, PREFIX "status %d\n", (int)r->status);
        head(&o, "rounds_total", "counter", "Rounds finished, by the status they found");
        for (int s = HM_OK; s <= HM_DOWN; s++)
            prom_put(&o, PREFIX "rounds_total{status=\"%s\"} %lu\n", hm_severity_name((enum hm_severity)s),
                r->rounds_total[s]);
        if (r->streamer.known) {
            const struct hm_streamer_view *v = &r->streamer;
            head(&o, "streamer_on_air", "gauge", "1 if the streamer beside this monitor publishes the station");
            prom_put(&o, PREFIX "streamer_on_air %d\n", v->on_air);
            if (v->running >= 0) {
                head(&o, "streamer_running", "gauge", "1 if a radio-streamer holds the state directory's lock");
                prom_put(&o, PREFIX "streamer_running %d\n", v->running);
            }
            if (v->failover) {
                head(&o, "streamer_failover_active", "gauge",
                     "Failover: 1 if this streamer holds the air, 0 if it stands by");
                prom_put(&o, PREFIX "streamer_failover_active %d\n", v->active);
                head(&o, "streamer_takeovers_total", "counter", "Failover: times this streamer took the air");
                prom_put(&o, PREFIX "streamer_takeovers_total %ld\n", v->takeovers);
                head(&o, "streamer_stepbacks_total", "counter", "Failover: times this streamer gave the air back");
                prom_put(&o, PREFIX "streamer_stepbacks_total %ld\n", v->stepbacks);
            }
        }
        head(&o, "round_seconds", "gauge", "Wall time the last round took");
        prom_put(&o, PREFIX "round_seconds ");
        prom_value(&o, r->seconds);
        per_gateway(&o, r, "gateway_status", "gauge",
                    "What this gateway contributes: 0 ok, 1 degraded, 2 down", g_status);
        per_gateway(&o, r, "gateway_up", "gauge",
                    "1 if the gateway served a fresh, parseable playlist", g_up);
        per_gateway(&o, r, "playlist_age_seconds", "gauge",
                    "Now minus the newest EXT-X-PROGRAM-DATE-TIME", g_age);
        per_gateway(&o, r, "playlist_age_max_seconds", "gauge",
                    "The largest playlist age within playlist_age_window_seconds", g_age_max);
        per_gateway(&o, r, "playlist_fetch_seconds", "gauge", "Time to fetch the live playlist",
                    g_fetch);
        per_gateway(&o, r, "segment_fetch_seconds", "gauge",
                    "Time to fetch the slower of the segments fetched", g_seg_fetch);
        per_gateway(&o, r, "media_sequence", "gauge", "EXT-X-MEDIA-SEQUENCE", g_seq);
        per_gateway(&o, r, "loudness_integrated_lufs", "gauge",
                    "Integrated loudness of the measured segments (EBU R128)", g_integrated);
        per_gateway(&o, r, "loudness_short_term_lufs", "gauge",
                    "Short-term loudness at the end of the newest segment", g_short_term);
        per_gateway(&o, r, "true_peak_dbtp", "gauge", "True peak of the measured segments",
                    g_true_peak);
        per_gateway(&o, r, "sample_peak_dbfs", "gauge", "Sample peak of the measured segments",
                    g_sample_peak);
        per_gateway(&o, r, "rms_dbfs", "gauge", "RMS level of the measured segments", g_rms);
        per_gateway(&o, r, "silent_seconds", "gauge",
                    "Longest stretch below the silence floor in the measured segments", g_silent);
        per_gateway(&o, r, "gateway_failures_total", "counter",
                    "Rounds in which this gateway showed any problem", g_failures);
        head(&o, "problems_total", "counter", "Problems seen, by gateway and kind");
        for (size_t i = 0; i < r->ngw; i++)
            for (int c = 0; c < HM_CODE_COUNT; c++) {
                if (!r->gw[i].problem_totals[c])
                    continue;
                prom_put(&o, PREFIX "problems_total{gateway=\"");
                prom_label(&o, r->gw[i].name);
                prom_put(&o, "\",code=\"%s\"} %lu\n", hm_code_name((enum hm_code)c),
                         r->gw[i].problem_totals[c]);
            }
    }
    return prom_finish(&o);
}
