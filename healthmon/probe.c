#include "probe.h"

#include "err.h"
#include "log.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hm_gateway_init(struct hm_gateway *g, const char *base, int local, double timeout,
                    int drift_rounds, char *err, size_t errlen)
{
    memset(g, 0, sizeof *g);
    size_t l = strlen(base);
    while (l && base[l - 1] == '/')
        l--;
    if (l >= sizeof g->base)
        return err_set(err, errlen, "gateway URL too long: %.100s", base);
    memcpy(g->base, base, l);
    g->base[l] = '\0';
    const char *host = strstr(g->base, "://");
    snprintf(g->name, sizeof g->name, "%.*s", (int)sizeof g->name - 1, host ? host + 3 : g->base);
    g->local = local;
    g->timeout = timeout;
    g->drift_cap = drift_rounds;
    g->drift_energy = calloc((size_t)drift_rounds, sizeof *g->drift_energy);
    g->drift_seconds = calloc((size_t)drift_rounds, sizeof *g->drift_seconds);
    if (!g->drift_energy || !g->drift_seconds) {
        hm_gateway_free(g);
        return err_set(err, errlen, "out of memory");
    }
    if (http_client_new(&g->http, err, errlen) != 0) {
        hm_gateway_free(g);
        return -1;
    }
    return 0;
}

void hm_gateway_free(struct hm_gateway *g)
{
    http_client_free(g->http);
    hm_playlist_memory_free(&g->mem);
    free(g->drift_energy);
    free(g->drift_seconds);
    memset(g, 0, sizeof *g);
}

static void report_start(struct hm_gateway *g, struct hm_gateway_report *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", g->name);
    r->local = g->local;
    r->drift_lufs = NAN;
    r->facts.newest_pdt = NAN;
    r->facts.age = NAN;
    r->facts.age_max = NAN;
    r->facts.sequence_advanced = -1;
}

static void report_finish(struct hm_gateway *g, struct hm_gateway_report *r)
{
    r->status = HM_OK;
    for (size_t i = 0; i < r->probs.n; i++) {
        enum hm_severity s = hm_code_severity(r->probs.v[i].code, g->local);
        if (s > r->status)
            r->status = s;
        g->problem_totals[r->probs.v[i].code]++;
    }
    if (r->probs.n)
        g->failures++;
    r->failures_total = g->failures;
    memcpy(r->problem_totals, g->problem_totals, sizeof r->problem_totals);
}

void hm_probe_skipped(struct hm_gateway *g, struct hm_gateway_report *r)
{
    report_start(g, r);
    snprintf(r->url, sizeof r->url, "%.*s/ipns/", (int)(sizeof r->url - sizeof "/ipns/"), g->base);
    r->status = HM_OK;
    r->failures_total = g->failures;
    memcpy(r->problem_totals, g->problem_totals, sizeof r->problem_totals);
}

/* What the listener would see, as a problem of the right kind. */
static void transport_problem(struct hm_problems *p, const struct http_response *resp,
                              const char *what, const char *why)
{
    switch (resp->outcome) {
    case HTTP_UNREACHABLE:
        hm_problem_add(p, HM_UNREACHABLE, "%s: unreachable: %s", what, why);
        break;
    case HTTP_TIMEOUT:
        hm_problem_add(p, HM_TIMEOUT, "%s: timed out after %.1f s: %s", what, resp->seconds, why);
        break;
    default:
        hm_problem_add(p, HM_GARBAGE, "%s: broken answer (%s): %s", what,
                       http_outcome_name(resp->outcome), why);
        break;
    }
}

/* The time left for one request: its own limit, cut to the probe's budget. */
static double request_timeout(const struct hm_gateway *g, const struct clock *clk, double deadline)
{
    double left = deadline - clk->mono(clk->ctx);
    return left < g->timeout ? left : g->timeout;
}

struct block_ctx {
    struct hm_gateway *g;
    const struct hm_probe_settings *s;
    const struct clock *clk;
    double deadline;
    const char *segment_url;
};

/* A trustless-gateway raw block request for the segment's own CID: the
 * answer counts only if it says it is a raw block, because a gateway that
 * ignores the request sends the whole file instead. */
static int fetch_block(void *ctx, const char *cid, uint8_t **data, size_t *len, char *why,
                       size_t whylen)
{
    struct block_ctx *b = ctx;
    (void)cid;
    char url[HTTP_URL_MAX];
    size_t l = strcspn(b->segment_url, "?#");
    if (snprintf(url, sizeof url, "%.*s?format=raw", (int)l, b->segment_url) >= (int)sizeof url)
        return err_set(why, whylen, "URL too long");
    double t = request_timeout(b->g, b->clk, b->deadline);
    if (t <= 0)
        return err_set(why, whylen, "no time left in this round for the raw block");
    struct http_get_opts o = {t, b->s->max_segment_bytes, b->s->max_redirects, HM_RAW_BLOCK_TYPE};
    struct http_response resp;
    char msg[ERR_MSG_MAX];
    int rc = http_get(b->g->http, url, &o, &resp, msg, sizeof msg);
    if (rc != 0) {
        http_response_free(&resp);
        return err_set(why, whylen, "raw block request failed: %s", msg);
    }
    if (resp.status != 200 || strcmp(resp.content_type, HM_RAW_BLOCK_TYPE) != 0) {
        err_set(why, whylen, "gateway does not serve raw blocks (HTTP %ld, %s)", resp.status,
                resp.content_type[0] ? resp.content_type : "no content type");
        http_response_free(&resp);
        return -1;
    }
    *data = (uint8_t *)resp.body;
    *len = resp.len;
    return 0;
}

static void shorten(char *out, size_t outlen, const char *s)
{
    size_t l = strlen(s);
    if (l < outlen)
        memcpy(out, s, l + 1);
    else
        snprintf(out, outlen, "%.*s...", (int)(outlen - 4), s);
}

/* Fetches and verifies one segment; keeps its bytes in *body for decoding. */
static void fetch_segment(struct hm_gateway *g, const struct hm_probe_settings *s,
                          const struct clock *clk, double deadline, const char *playlist_url,
                          const struct m3u8_segment *ms, struct hm_segment_report *sr,
                          struct http_response *body, struct hm_problems *probs)
{
    memset(body, 0, sizeof *body);
    sr->seq = ms->seq;
    sr->listed_seconds = ms->duration;
    shorten(sr->uri, sizeof sr->uri, ms->uri);
    sr->integrity = HM_UNVERIFIED;
    char what[64];
    snprintf(what, sizeof what, "segment %lld", (long long)ms->seq);

    char url[HTTP_URL_MAX], msg[ERR_MSG_MAX];
    if (http_resolve(playlist_url, ms->uri, url, sizeof url, msg, sizeof msg) != 0) {
        snprintf(sr->error, sizeof sr->error, "%s", msg);
        hm_problem_add(probs, HM_SEGMENT_UNAVAILABLE, "%s: bad URI in the playlist: %s", what, msg);
        return;
    }
    double t = request_timeout(g, clk, deadline);
    if (t <= 0) {
        snprintf(sr->error, sizeof sr->error, "no time left in this round");
        hm_problem_add(probs, HM_TIMEOUT, "%s: not fetched, the round's time for this gateway ran out",
                       what);
        return;
    }
    struct http_get_opts o = {t, s->max_segment_bytes, s->max_redirects, NULL};
    int rc = http_get(g->http, url, &o, body, msg, sizeof msg);
    sr->fetch_seconds = body->seconds;
    sr->http_status = body->status;
    if (rc != 0) {
        snprintf(sr->error, sizeof sr->error, "%s", msg);
        transport_problem(probs, body, what, msg);
        http_response_free(body);
        return;
    }
    sr->answered = 1;
    sr->bytes = body->len;
    if (body->status != 200) {
        snprintf(sr->error, sizeof sr->error, "HTTP %ld", body->status);
        hm_problem_add(probs, HM_SEGMENT_UNAVAILABLE,
                       "%s: HTTP %ld for %.200s: listeners get no audio from it; is the segment "
                       "pinned on the node, and do path-absolute URIs work on this gateway?",
                       what, body->status, url);
        http_response_free(body);
        return;
    }
    /* Room for the prefix below, so the reason is never cut. */
    char cid[CID_MAX_STR], why[HM_DETAIL_MAX - 32];
    if (hm_cid_from_url(url, cid, sizeof cid, why, sizeof why) != 0) {
        snprintf(sr->integrity_detail, sizeof sr->integrity_detail, "could not be verified: %s", why);
        return;
    }
    if (cid_to_base32(cid, sr->cid, sizeof sr->cid) != 0)
        sr->cid[0] = '\0';
    struct block_ctx bc = {g, s, clk, deadline, url};
    sr->integrity = hm_verify(cid, (const uint8_t *)body->body, body->len, fetch_block, &bc,
                              sr->integrity_detail, sizeof sr->integrity_detail);
    if (sr->integrity == HM_MISMATCH)
        hm_problem_add(probs, HM_INTEGRITY,
                       "%s: bytes do not match CID %s (%s): this gateway serves wrong content",
                       what, cid, sr->integrity_detail);
}

static void judge_drift(struct hm_gateway *g, const struct hm_probe_settings *s, int64_t newest,
                        struct hm_gateway_report *r)
{
    const struct hm_audio_result *a = &r->audio;
    /* Only new audio counts: the same segments measured twice would weigh double. */
    if ((!g->measured_any || newest != g->last_measured_seq) && isfinite(a->integrated_lufs)) {
        g->drift_energy[g->drift_next] = pow(10.0, a->integrated_lufs / 10.0);
        g->drift_seconds[g->drift_next] = a->seconds;
        g->drift_next = (g->drift_next + 1) % g->drift_cap;
        if (g->drift_n < g->drift_cap)
            g->drift_n++;
        g->measured_any = 1;
        g->last_measured_seq = newest;
    }
    if (g->drift_n < g->drift_cap)
        return;
    double e = 0, w = 0;
    for (int i = 0; i < g->drift_n; i++) {
        e += g->drift_energy[i] * g->drift_seconds[i];
        w += g->drift_seconds[i];
    }
    if (w <= 0)
        return;
    r->drift_lufs = 10.0 * log10(e / w);
    r->drift_rounds = g->drift_n;
    double off = r->drift_lufs - s->loudness_target_lufs;
    if (fabs(off) > s->loudness_tolerance_lu)
        hm_problem_add(&r->probs, HM_LOUDNESS_DRIFT,
                       "loudness %.1f LUFS over the last %d measurements is %.1f LU %s the station "
                       "target %.1f (tolerance %.1f LU): check setup's loudness normalisation",
                       r->drift_lufs, g->drift_n, fabs(off), off < 0 ? "below" : "above",
                       s->loudness_target_lufs, s->loudness_tolerance_lu);
}

static void measure_audio(struct hm_gateway *g, const struct hm_probe_settings *s,
                          struct hm_audio_cache *cache, struct hm_gateway_report *r,
                          struct http_response *bodies)
{
    struct hm_audio_input in[HM_PROBE_SEGMENTS];
    struct hm_audio_segment as[HM_PROBE_SEGMENTS];
    size_t idx[HM_PROBE_SEGMENTS], n = 0;
    /* The verified CIDs, in order, name the audio exactly. */
    char key[HM_PROBE_SEGMENTS * (CID_MAX_STR + 1)] = "";
    int shareable = 1;
    for (size_t i = 0; i < r->nseg; i++) {
        /* Wrong bytes are not the station's audio: measuring them would
         * report on someone else's content. */
        if (!bodies[i].body || r->seg[i].http_status != 200 || r->seg[i].integrity == HM_MISMATCH)
            continue;
        in[n].data = (const uint8_t *)bodies[i].body;
        in[n].len = bodies[i].len;
        idx[n++] = i;
        shareable &= r->seg[i].integrity == HM_VERIFIED && r->seg[i].cid[0];
        size_t kl = strlen(key);
        snprintf(key + kl, sizeof key - kl, "%s%s", n > 1 ? "+" : "", r->seg[i].cid);
    }
    if (n == 0)
        return;
    char msg[ERR_MSG_MAX];
    r->audio_measured = hm_audio_cache_analyze(cache, shareable ? key : NULL, &s->audio, in, n, as,
                                               &r->audio, &r->audio_shared, msg, sizeof msg) == 0;
    for (size_t k = 0; k < n; k++) {
        struct hm_segment_report *sr = &r->seg[idx[k]];
        sr->decoded = as[k].decoded;
        sr->decoded_seconds = as[k].seconds;
        if (!as[k].decoded) {
            snprintf(sr->error, sizeof sr->error, "%s", as[k].error);
            hm_problem_add(&r->probs, HM_UNDECODABLE,
                           "segment %lld does not decode (%s): players skip or stall on it",
                           (long long)sr->seq, as[k].error);
        } else if (sr->listed_seconds - sr->decoded_seconds > s->short_audio_tolerance) {
            hm_problem_add(&r->probs, HM_SHORT_AUDIO,
                           "segment %lld decodes to %.3f s of audio, its EXTINF says %.3f s: damaged or "
                           "cut segment, or a playlist that misstates it",
                           (long long)sr->seq, sr->decoded_seconds, sr->listed_seconds);
        }
    }
    if (!r->audio_measured)
        return;
    const struct hm_audio_result *a = &r->audio;
    if (a->silent_seconds >= s->silence_hold_seconds)
        hm_problem_add(&r->probs, HM_SILENCE,
                       "dead air: %.1f s with short-term loudness below %.0f LUFS (limit %.1f s) "
                       "in media sequence %lld..%lld: check the source audio and setup's output",
                       a->silent_seconds, s->audio.silence_floor_lufs, s->silence_hold_seconds,
                       (long long)r->seg[idx[0]].seq, (long long)r->seg[idx[n - 1]].seq);
    if (a->clips > 0)
        hm_problem_add(&r->probs, HM_CLIPPING,
                       "%ld clip(s) (%d+ samples at or above %.1f dBFS), sample peak %.1f dBFS: "
                       "lower setup's true_peak_ceiling_dbtp or check the source",
                       a->clips, s->audio.clip_run_samples, s->audio.clip_level_dbfs,
                       a->sample_peak_dbfs);
    judge_drift(g, s, r->seg[idx[n - 1]].seq, r);
}

static int fetch_playlist(struct hm_gateway *g, const struct hm_probe_settings *s,
                          const struct clock *clk, double deadline, struct hm_gateway_report *r,
                          struct http_response *resp)
{
    char msg[ERR_MSG_MAX];
    struct http_get_opts o = {request_timeout(g, clk, deadline), s->max_playlist_bytes,
                              s->max_redirects, NULL};
    int rc = http_get(g->http, r->url, &o, resp, msg, sizeof msg);
    r->fetch_seconds = resp->seconds;
    r->http_status = resp->status;
    if (rc != 0) {
        transport_problem(&r->probs, resp, "playlist", msg);
        return -1;
    }
    r->answered = 1;
    r->bytes = resp->len;
    if (resp->status != 200) {
        hm_problem_add(&r->probs, HM_HTTP_ERROR,
                       "playlist: HTTP %ld for %s: the name does not resolve here (not published "
                       "yet, record expired, or the gateway cannot reach the node)",
                       resp->status, r->url);
        return -1;
    }
    if (resp->seconds > s->slow_fraction * g->timeout)
        hm_problem_add(&r->probs, HM_SLOW,
                       "playlist took %.2f s (slow above %.2f s): listeners stall on reloads",
                       resp->seconds, s->slow_fraction * g->timeout);
    return 0;
}

void hm_probe(struct hm_gateway *g, const char *ipns_name, const struct hm_probe_settings *s,
              const struct clock *clk, double deadline, struct hm_audio_cache *cache,
              struct hm_gateway_report *r)
{
    report_start(g, r);
    struct http_response resp = {0};
    struct m3u8_playlist pl = {0};
    struct http_response bodies[HM_PROBE_SEGMENTS] = {{0}};
    if (snprintf(r->url, sizeof r->url, "%s/ipns/%s%s", g->base, ipns_name, s->playlist_path) >=
        (int)sizeof r->url) {
        hm_problem_add(&r->probs, HM_GARBAGE, "playlist URL longer than %zu bytes", sizeof r->url);
        goto done;
    }
    if (fetch_playlist(g, s, clk, deadline, r, &resp) != 0)
        goto done;
    char msg[ERR_MSG_MAX];
    if (m3u8_parse(resp.body, resp.len, &pl, msg, sizeof msg) != 0) {
        hm_problem_add(&r->probs, HM_GARBAGE, "playlist: not an HLS media playlist: %s", msg);
        goto done;
    }
    r->parsed = 1;
    hm_playlist_check(&pl, clk->now(clk->ctx), clk->mono(clk->ctx), &s->playlist, &g->mem,
                      &r->facts, &r->probs);
    /* The previous segment first: the two are consecutive air time. */
    size_t first = pl.nsegs >= HM_PROBE_SEGMENTS ? pl.nsegs - HM_PROBE_SEGMENTS : 0;
    for (size_t i = first; i < pl.nsegs; i++, r->nseg++)
        fetch_segment(g, s, clk, deadline, resp.effective_url, &pl.segs[i], &r->seg[r->nseg],
                      &bodies[r->nseg], &r->probs);
    measure_audio(g, s, cache, r, bodies);
done:
    for (size_t i = 0; i < HM_PROBE_SEGMENTS; i++)
        http_response_free(&bodies[i]);
    m3u8_free(&pl);
    http_response_free(&resp);
    report_finish(g, r);
}
