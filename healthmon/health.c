#include "health.h"

#include "m3u8.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Significant digits of reals in the JSON: enough for milliseconds on
 * fetch times and hundredths of a LU on loudness, without float noise. */
#define JSON_DIGITS 7
#define HTTP_OK_STATUS 200
#define HTTP_DOWN_STATUS 503

static void add_reason(struct hm_round *r, const char *where, const char *msg)
{
    if (r->nreasons >= HM_MAX_REASONS)
        return;
    snprintf(r->reasons[r->nreasons++], HM_REASON_MAX, "%s%s%s", where, where[0] ? ": " : "", msg);
}

void hm_health_evaluate(struct hm_round *r)
{
    r->status = HM_OK;
    r->nreasons = 0;
    /* Worst first, so the top reason is the one to fix first. */
    for (int sev = HM_DOWN; sev > HM_OK; sev--) {
        for (size_t i = 0; i < r->station.n; i++)
            if (hm_code_severity(r->station.v[i].code, 1) == (enum hm_severity)sev)
                add_reason(r, "", r->station.v[i].msg);
        for (size_t g = 0; g < r->ngw; g++) {
            const struct hm_gateway_report *gr = &r->gw[g];
            char where[HM_GATEWAY_NAME + 16];
            snprintf(where, sizeof where, "%s %s", gr->local ? "local" : "public", gr->name);
            for (size_t i = 0; i < gr->probs.n; i++)
                if (hm_code_severity(gr->probs.v[i].code, gr->local) == (enum hm_severity)sev)
                    add_reason(r, where, gr->probs.v[i].msg);
        }
    }
    for (size_t i = 0; i < r->station.n; i++)
        if (hm_code_severity(r->station.v[i].code, 1) > r->status)
            r->status = hm_code_severity(r->station.v[i].code, 1);
    for (size_t g = 0; g < r->ngw; g++)
        if (r->gw[g].status > r->status)
            r->status = r->gw[g].status;
}

int hm_health_http_status(enum hm_severity s)
{
    return s == HM_DOWN ? HTTP_DOWN_STATUS : HTTP_OK_STATUS;
}

static json_t *num(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *when(double t)
{
    if (!isfinite(t))
        return json_null();
    char s[M3U8_TIME_LEN];
    m3u8_format_time(t, s);
    return json_string(s);
}

static json_t *problems_json(const struct hm_problems *p, int local)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < p->n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "code", hm_code_name(p->v[i].code),
                                           "severity",
                                           hm_severity_name(hm_code_severity(p->v[i].code, local)),
                                           "message", p->v[i].msg));
    return a;
}

static json_t *playlist_json(const struct hm_gateway_report *g)
{
    const struct hm_playlist_facts *f = &g->facts;
    json_t *o = json_pack("{s:o, s:o, s:I}", "http_status",
                          g->answered ? json_integer(g->http_status) : json_null(),
                          "fetch_seconds", g->answered ? num(g->fetch_seconds) : json_null(),
                          "bytes", (json_int_t)g->bytes);
    if (!o || !g->parsed)
        return o;
    json_object_set_new(o, "media_sequence", json_integer(f->media_sequence));
    json_object_set_new(o, "newest_media_sequence", json_integer(f->newest_seq));
    json_object_set_new(o, "sequence_advanced",
                        f->sequence_advanced < 0 ? json_null() : json_boolean(f->sequence_advanced));
    json_object_set_new(o, "target_duration",
                        f->target_duration < 0 ? json_null() : json_integer(f->target_duration));
    json_object_set_new(o, "segments", json_integer((json_int_t)f->nsegs));
    json_object_set_new(o, "discontinuities", json_integer((json_int_t)f->discontinuities));
    json_object_set_new(o, "newest_program_date_time", when(f->newest_pdt));
    json_object_set_new(o, "age_seconds", num(f->age));
    json_object_set_new(o, "age_max_seconds", num(f->age_max));
    json_object_set_new(o, "listen_delay_seconds", num(f->listen_delay));
    json_object_set_new(o, "stale_after_seconds", num(f->stale_after));
    return o;
}

static json_t *segment_json(const struct hm_segment_report *s)
{
    json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:I, s:s, s:s, s:b, s:o, s:o}",
                          "media_sequence", (json_int_t)s->seq, "uri", s->uri,
                          "cid", s->cid[0] ? json_string(s->cid) : json_null(),
                          "http_status", s->http_status ? json_integer(s->http_status) : json_null(),
                          "fetch_seconds", num(s->fetch_seconds), "bytes", (json_int_t)s->bytes,
                          "integrity", hm_integrity_name(s->integrity),
                          "integrity_detail", s->integrity_detail, "decoded", s->decoded,
                          "decoded_seconds", s->decoded ? num(s->decoded_seconds) : json_null(),
                          "listed_seconds", num(s->listed_seconds));
    if (o && s->error[0])
        json_object_set_new(o, "error", json_string(s->error));
    return o;
}

static json_t *audio_json(const struct hm_gateway_report *g)
{
    if (!g->audio_measured)
        return json_null();
    const struct hm_audio_result *a = &g->audio;
    return json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:i, s:b}",
                     "sample_rate", a->sample_rate, "channels", a->channels,
                     "seconds", num(a->seconds), "integrated_lufs", num(a->integrated_lufs),
                     "short_term_lufs", num(a->short_term_lufs),
                     "short_term_min_lufs", num(a->short_term_min_lufs),
                     "short_term_max_lufs", num(a->short_term_max_lufs),
                     "true_peak_dbtp", num(a->true_peak_dbtp),
                     "sample_peak_dbfs", num(a->sample_peak_dbfs), "rms_dbfs", num(a->rms_dbfs),
                     "silent_seconds", num(a->silent_seconds), "clips", (json_int_t)a->clips,
                     "drift_lufs", num(g->drift_lufs), "drift_measurements", g->drift_rounds,
                     "shared_measurement", g->audio_shared);
}

static json_t *gateway_json(const struct hm_gateway_report *g)
{
    json_t *segs = json_array();
    for (size_t i = 0; segs && i < g->nseg; i++)
        json_array_append_new(segs, segment_json(&g->seg[i]));
    return json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "name", g->name, "role",
                     g->local ? "local" : "public", "url", g->url, "status",
                     hm_severity_name(g->status), "problems", problems_json(&g->probs, g->local),
                     "playlist", playlist_json(g), "segments", segs, "audio", audio_json(g));
}

static json_t *reasons_json(const struct hm_round *r)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < r->nreasons; i++)
        json_array_append_new(a, json_string(r->reasons[i]));
    return a;
}

/* One line of history: enough for a dashboard's timeline and sparklines. */
static json_t *history_entry(const struct hm_round *r)
{
    json_t *gws = json_object();
    for (size_t i = 0; gws && i < r->ngw; i++) {
        const struct hm_gateway_report *g = &r->gw[i];
        json_object_set_new(gws, g->name,
                            json_pack("{s:s, s:o, s:o, s:o, s:o}", "status",
                                      hm_severity_name(g->status), "age_seconds", num(g->facts.age),
                                      "fetch_seconds", g->answered ? num(g->fetch_seconds) : json_null(),
                                      "media_sequence",
                                      g->parsed ? json_integer(g->facts.media_sequence) : json_null(),
                                      "integrated_lufs",
                                      g->audio_measured ? num(g->audio.integrated_lufs) : json_null()));
    }
    return json_pack("{s:I, s:o, s:s, s:o, s:o}", "round", (json_int_t)r->number, "checked_at",
                     when(r->started_at), "status", hm_severity_name(r->status), "reasons",
                     reasons_json(r), "gateways", gws);
}

struct hm_history {
    json_t **v;
    int cap, n, next;
};

struct hm_history *hm_history_new(int capacity)
{
    struct hm_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->v = calloc((size_t)(capacity > 0 ? capacity : 1), sizeof *h->v);
    if (!h->v) {
        free(h);
        return NULL;
    }
    h->cap = capacity > 0 ? capacity : 1;
    return h;
}

void hm_history_free(struct hm_history *h)
{
    if (!h)
        return;
    for (int i = 0; i < h->cap; i++)
        json_decref(h->v[i]);
    free(h->v);
    free(h);
}

int hm_history_push(struct hm_history *h, const struct hm_round *r)
{
    json_t *e = history_entry(r);
    if (!e)
        return -1;
    json_decref(h->v[h->next]);
    h->v[h->next] = e;
    h->next = (h->next + 1) % h->cap;
    if (h->n < h->cap)
        h->n++;
    return 0;
}

static json_t *history_json(const struct hm_history *h)
{
    json_t *a = json_array();
    for (int i = 0; a && h && i < h->n; i++)
        json_array_append(a, h->v[(h->next - h->n + i + h->cap) % h->cap]);
    return a;
}

static char *dump(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(JSON_DIGITS)) : NULL;
    json_decref(doc);
    return s;
}

/* null when the monitor has no streamer's status to read. */
static json_t *streamer_json(const struct hm_streamer_view *v)
{
    if (!v->known)
        return json_null();
    json_t *running = v->running < 0 ? json_null() : json_boolean(v->running);
    if (!v->failover)
        return json_pack("{s:b, s:o, s:n}", "on_air", v->on_air, "running", running, "failover");
    return json_pack("{s:b, s:o, s:{s:s, s:I, s:o, s:I}}", "on_air", v->on_air, "running", running, "failover",
                     "role",
                     v->active ? "active" : "standby", "takeovers", (json_int_t)v->takeovers, "last_takeover",
                     isfinite(v->last_takeover) ? when(v->last_takeover) : json_null(), "stepbacks",
                     (json_int_t)v->stepbacks);
}

char *hm_health_json(const struct hm_round *r, const struct hm_history *h)
{
    json_t *gws = json_array();
    for (size_t i = 0; gws && i < r->ngw; i++)
        json_array_append_new(gws, gateway_json(&r->gw[i]));
    json_t *doc = json_pack(
        "{s:s, s:o, s:o, s:I, s:o, s:o, s:s, s:o, s:o, s:{s:I, s:I, s:I}, s:o}", "status",
        hm_severity_name(r->status), "reasons", reasons_json(r), "checked_at", when(r->started_at),
        "round", (json_int_t)r->number, "round_seconds", num(r->seconds), "interval_seconds",
        num(r->interval), "ipns_name", r->ipns_name, "streamer", streamer_json(&r->streamer), "gateways", gws,
        "rounds_total", "ok",
        (json_int_t)r->rounds_total[HM_OK], "degraded", (json_int_t)r->rounds_total[HM_DEGRADED],
        "down", (json_int_t)r->rounds_total[HM_DOWN], "history", history_json(h));
    return dump(doc);
}

char *hm_health_starting_json(double now)
{
    return dump(json_pack("{s:s, s:[s], s:o}", "status", "starting", "reasons",
                          "no round has finished yet", "checked_at", when(now)));
}
