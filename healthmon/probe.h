/* One gateway, one round, as a listener: fetch the live playlist from
 * GATEWAY/ipns/NAME, check it, fetch the newest segment and the one before
 * it (consecutive air time, so silence and loudness are measured over a
 * stretch longer than one segment), verify them against their CIDs, decode
 * and measure them. Whatever the gateway does, the probe returns within its
 * budget with a report; a failing gateway is a finding, not an error. */
#ifndef RADIO_HM_PROBE_H
#define RADIO_HM_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "audio.h"
#include "audio_cache.h"
#include "clock.h"
#include "http_get.h"
#include "playlist_check.h"
#include "problem.h"
#include "verify.h"

#define HM_GATEWAY_NAME 128
#define HM_URI_SHOWN 512
#define HM_PROBE_SEGMENTS 2

struct hm_probe_settings {
    const char *playlist_path;      /* appended to /ipns/NAME, may be "" */
    double slow_fraction;
    long max_redirects;
    size_t max_playlist_bytes;
    size_t max_segment_bytes;
    struct hm_playlist_limits playlist;
    struct hm_audio_params audio;
    double silence_hold_seconds;
    double short_audio_tolerance;   /* seconds */
    double loudness_target_lufs;
    double loudness_tolerance_lu;
    int loudness_drift_rounds;
};

/* A gateway and what the monitor remembers about it between rounds. */
struct hm_gateway {
    char base[HTTP_URL_MAX];        /* without trailing slash */
    char name[HM_GATEWAY_NAME];     /* host[:port], for reports and metric labels */
    int local;
    double timeout;
    struct http_client *http;
    struct hm_playlist_memory mem;
    /* Loudness of the last rounds that brought new audio, for drift. */
    double *drift_energy;           /* mean square (linear) of each measurement */
    double *drift_seconds;
    int drift_cap, drift_n, drift_next;
    int64_t last_measured_seq;
    int measured_any;
    unsigned long failures;         /* rounds with any problem */
    unsigned long problem_totals[HM_CODE_COUNT];
};

struct hm_segment_report {
    int64_t seq;
    char uri[HM_URI_SHOWN];         /* as the playlist wrote it (shortened if long) */
    char cid[CID_MAX_STR];          /* the CID its URL names, canonical base32; "" if none */
    int answered;
    long http_status;
    double fetch_seconds;
    size_t bytes;
    enum hm_integrity integrity;
    char integrity_detail[HM_DETAIL_MAX];
    double listed_seconds;          /* its EXTINF */
    int decoded;
    double decoded_seconds;
    char error[ERR_MSG_MAX];
};

struct hm_gateway_report {
    char name[HM_GATEWAY_NAME];
    char url[HTTP_URL_MAX];         /* the playlist URL probed */
    int local;
    enum hm_severity status;
    struct hm_problems probs;

    int answered;
    long http_status;
    double fetch_seconds;
    size_t bytes;
    int parsed;
    struct hm_playlist_facts facts;

    struct hm_segment_report seg[HM_PROBE_SEGMENTS];
    size_t nseg;

    int audio_measured;
    int audio_shared;               /* the measurement of identical verified bytes was reused */
    struct hm_audio_result audio;
    double drift_lufs;              /* energy mean over drift_rounds, NAN until enough */
    int drift_rounds;               /* measurements in that mean */

    unsigned long failures_total;
    unsigned long problem_totals[HM_CODE_COUNT];
};

int hm_gateway_init(struct hm_gateway *g, const char *base, int local, double timeout,
                    int drift_rounds, char *err, size_t errlen);
void hm_gateway_free(struct hm_gateway *g);

/* Probes g for the station named ipns_name. Never fails: every outcome
 * is in the report. The probe ends by `deadline` (monotonic seconds).
 * cache (may be NULL) shares measurements of verified audio between
 * probes running at the same time. */
void hm_probe(struct hm_gateway *g, const char *ipns_name, const struct hm_probe_settings *s,
              const struct clock *clk, double deadline, struct hm_audio_cache *cache,
              struct hm_gateway_report *r);

/* Fills a report for a round that could not probe (e.g. no IPNS name). */
void hm_probe_skipped(struct hm_gateway *g, struct hm_gateway_report *r);

#endif
