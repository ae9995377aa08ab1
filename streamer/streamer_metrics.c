#include "streamer_metrics.h"

#include "err.h"
#include "http_server.h"
#include "prom_text.h"

#include <stdlib.h>
#include <string.h>

#define P "radio_streamer_"
#define STATUS_OK 200
#define STATUS_UNAVAILABLE 503

static void gauge(struct prom_text *o, const char *name, const char *help, double v)
{
    prom_head(o, name, "gauge", help);
    prom_put(o, "%s ", name);
    prom_value(o, v);
}

static void counter(struct prom_text *o, const char *name, const char *help, double v)
{
    prom_head(o, name, "counter", help);
    prom_put(o, "%s ", name);
    prom_value(o, v);
}

/* One place publishes go: the node signing with its key (node mode), the
 * streamer adding and signing (station mode), or a record target. */
struct target {
    const char *url, *kind;
    int up;
    uint64_t ok, failures, superseded;
    double last_ok;
    const struct latency_hist *latency;
};

static void target_labels(struct prom_text *o, const struct target *t)
{
    prom_put(o, "{target=\"");
    prom_label(o, t->url);
    prom_put(o, "\",kind=\"%s\"", t->kind);
}

typedef double (*target_value)(const struct target *t);
static double t_up(const struct target *t) { return t->up; }
static double t_ok(const struct target *t) { return (double)t->ok; }
static double t_failures(const struct target *t) { return (double)t->failures; }
static double t_superseded(const struct target *t) { return (double)t->superseded; }
static double t_last_ok(const struct target *t) { return t->last_ok; }

static void per_target(struct prom_text *o, const struct target *t, size_t n, const char *name, const char *type,
                       const char *help, target_value fn)
{
    prom_head(o, name, type, help);
    for (size_t i = 0; i < n; i++) {
        prom_put(o, "%s", name);
        target_labels(o, &t[i]);
        prom_put(o, "} ");
        prom_value(o, fn(&t[i]));
    }
}

static void latency(struct prom_text *o, const struct target *t, size_t n)
{
    const char *name = P "publish_duration_seconds";
    prom_head(o, name, "histogram",
              "Time a successful publish took: node mode the name/publish, station mode adding and signing "
              "(kind station) and each target's put");
    for (size_t i = 0; i < n; i++) {
        const struct latency_hist *h = t[i].latency;
        uint64_t below = 0;
        for (size_t b = 0; b < LATENCY_HIST_NBOUNDS; b++) {
            below += h->in[b];
            prom_put(o, "%s_bucket", name);
            target_labels(o, &t[i]);
            prom_put(o, ",le=\"%g\"} %llu\n", latency_hist_bounds[b], (unsigned long long)below);
        }
        prom_put(o, "%s_bucket", name);
        target_labels(o, &t[i]);
        prom_put(o, ",le=\"+Inf\"} %llu\n", (unsigned long long)h->count);
        prom_put(o, "%s_sum", name);
        target_labels(o, &t[i]);
        prom_put(o, "} ");
        prom_value(o, h->sum);
        prom_put(o, "%s_count", name);
        target_labels(o, &t[i]);
        prom_put(o, "} %llu\n", (unsigned long long)h->count);
    }
}

static void publishing(struct prom_text *o, const struct status_view *v, const struct streamer_config *cfg)
{
    const struct publisher_status *p = v->pub;
    size_t n = 1 + (v->targets ? v->ntargets : 0);
    struct target *t = calloc(n, sizeof *t);
    if (!t) {
        o->oom = 1;
        return;
    }
    t[0] = (struct target){cfg->ipfs_api, v->targets ? "station" : "node", p->last_error[0] == '\0',
                           p->publishes, p->failures, p->superseded, p->last_ok, &p->latency};
    for (size_t i = 1; i < n; i++) {
        const struct record_target_status *r = &v->targets[i - 1];
        t[i] = (struct target){r->url, r->kind == RECORD_TARGET_KUBO ? "kubo" : "routing", r->ok, r->puts,
                               r->failures, r->superseded, r->last_ok, &r->latency};
    }
    per_target(o, t, n, P "publish_target_up", "gauge", "1 if the last publish to this target succeeded", t_up);
    per_target(o, t, n, P "publishes_total", "counter", "Publishes that succeeded", t_ok);
    per_target(o, t, n, P "publish_failures_total", "counter", "Publish attempts that failed (each retry counts)",
               t_failures);
    per_target(o, t, n, P "publishes_superseded_total", "counter",
               "Playlists or records replaced by a newer one before they went out (coalesced)", t_superseded);
    per_target(o, t, n, P "publish_last_success_timestamp_seconds", "gauge",
               "Unix time of the last successful publish to this target (0: none yet)", t_last_ok);
    latency(o, t, n);
    free(t);
}

char *streamer_metrics_render(const struct status_view *v, const struct streamer_config *cfg)
{
    struct prom_text o = {0};
    const struct publisher_status *p = v->pub;
    prom_head(&o, P "build_info", "gauge", "The running radio-streamer's version");
    prom_put(&o, P "build_info{version=\"%s\"} 1\n", RADIO_VERSION);
    gauge(&o, "process_start_time_seconds", "Unix time the streamer started", v->started);
    gauge(&o, P "on_air",
          "1 if this streamer has the station on air: a publish went out (station mode: a target took a record) "
          "and, in a failover pair, it holds the air", v->on_air);
    gauge(&o, P "held_by_clock", "1 while the wall clock is behind the last published segment", v->held);
    counter(&o, P "publishes_skipped_total",
            "Segment boundaries at which no playlist was built because the clock was behind (held)",
            (double)v->skipped_publishes);
    gauge(&o, P "last_publish_timestamp_seconds", "Unix time of the last successful publish (0: none yet)",
          p->last_ok);
    gauge(&o, P "last_publish_seconds", "Time the last successful publish took", p->last_latency);
    gauge(&o, P "node_reachable", "1 if the last request to the node (ipfs_api) succeeded", p->node_ok);
    gauge(&o, P "target_duration_seconds", "EXT-X-TARGETDURATION of the station", v->target_duration);
    gauge(&o, P "media_sequence", "EXT-X-MEDIA-SEQUENCE of the newest playlist built", (double)v->media_sequence);
    gauge(&o, P "newest_media_sequence", "Media sequence number of the newest segment on air",
          (double)v->newest_seq);
    gauge(&o, P "published_media_sequence", "Newest segment of the last playlist that went out",
          (double)p->last_seq);
    gauge(&o, P "discontinuity_sequence", "EXT-X-DISCONTINUITY-SEQUENCE of the newest playlist built",
          (double)v->discontinuity_sequence);
    counter(&o, P "segments_readded_total", "Segments added to the node again because it had lost them",
            (double)p->segments_readded);
    counter(&o, P "reloads_total", "New running orders taken", (double)v->reloads);
    counter(&o, P "reloads_refused_total", "Running orders refused (the station played on with the last good one)",
            (double)v->reload_errors);
    gauge(&o, P "running_order_refused", "1 while the newest running order in processed/ is refused",
          v->reload_error != NULL);
    prom_head(&o, P "running_order_info", "gauge", "The running order on air (id: its content hash)");
    prom_put(&o, P "running_order_info{order_id=\"");
    prom_label(&o, v->order_id ? v->order_id : "");
    prom_put(&o, "\",day_part=\"");
    prom_label(&o, v->day_part ? v->day_part : "");
    prom_put(&o, "\"} 1\n");
    gauge(&o, P "clock_refused", "1 while the newest processed/clock.json is refused (station IDs keep their rule)",
          v->clock_error != NULL);
    gauge(&o, P "running_order_segments", "Segments in the running order on air", (double)v->order_segments);
    if (v->targets)
        gauge(&o, P "ipns_sequence", "Station mode: sequence number of the last record signed", (double)p->ipns_seq);
    publishing(&o, v, cfg);
    prom_head(&o, P "failover_info", "gauge", "failover_role as configured (off, active, standby)");
    prom_put(&o, P "failover_info{role=\"");
    prom_label(&o, cfg->failover_role);
    prom_put(&o, "\"} 1\n");
    if (v->failover) {
        gauge(&o, P "failover_active", "Failover: 1 if this streamer holds the air, 0 if it stands by",
              v->failover->active);
        counter(&o, P "failover_takeovers_total", "Failover: times this streamer took the air",
                (double)v->failover->takeovers);
        counter(&o, P "failover_stepbacks_total", "Failover: times this streamer gave the air back",
                (double)v->failover->stepbacks);
    }
    return prom_finish(&o);
}

int streamer_metrics_start(struct http_server **out, const struct streamer_config *cfg, char *err, size_t errlen)
{
    *out = NULL;
    if (!cfg->metrics_listen[0])
        return 0;
    /* Until the main loop's first pass (the running order loaded, the node
     * asked): a scrape then is not a station off air, it is one starting. */
    const struct http_server_doc docs[] = {{"/metrics", PROM_CONTENT_TYPE, STATUS_UNAVAILABLE, "starting\n"}};
    struct http_server_opts o = {cfg->metrics_listen, "", cfg->metrics_max_connections,
                                 cfg->metrics_connection_timeout_seconds, docs, 1};
    if (http_server_start(out, &o, err, errlen) != 0)
        return err_prefix(err, errlen, "metrics_listen");
    return 0;
}

int streamer_metrics_publish(struct http_server *s, const struct status_view *v, const struct streamer_config *cfg)
{
    if (!s)
        return 0;
    char *text = streamer_metrics_render(v, cfg);
    int rc = text ? http_server_set(s, "/metrics", STATUS_OK, text) : -1;
    free(text);
    return rc;
}
