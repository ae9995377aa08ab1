/* Station IDs on the clock: a jingle at least every so many seconds and
 * near the top of every hour, inserted at a track boundary, on top of the
 * jingles the running order itself has. The rule comes from
 * processed/clock.json (setup writes it from the running-order config).
 * The streamer decides each boundary once, before its first segment is
 * published, from the timeline's own air times alone: the decision goes
 * on the timeline like a queued track (the order resumes where it was),
 * and what it needs to decide the next one is saved with the state, so a
 * restart decides the same. Contract: docs/programming.md. */
#ifndef RADIO_STATION_IDS_H
#define RADIO_STATION_IDS_H

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "station.h"
#include "tz.h"

#define STATION_IDS_MAX_BYTES (1u << 20)
#define STATION_IDS_MAX_JINGLES 1000
#define STATION_IDS_HOUR 3600.0

struct station_ids_jingle {
    char *id;
    struct sched_hist *segs;
    size_t n;
};

struct station_ids_rule {
    double every;                /* seconds from one ID's start to the next at most; 0: no such rule */
    int top_of_hour;             /* an ID in [hh:00 - top_before, hh:00 + top_after] */
    struct tz *zone;             /* whose hours: clock.json's time_zone, UTC without one */
    double top_before, top_after;
    struct station_ids_jingle *jingles; /* the rotation; also what counts as a station ID */
    size_t njingles;
};

/* What deciding the next boundary needs, saved in state.json. */
struct station_ids_memory {
    int have_last;               /* 0: no ID known yet (the first boundary gets one) */
    double last_id;              /* air time of the latest station ID's start */
    int64_t decided;             /* the latest boundary decided (sequence number), -1 none */
    uint64_t next;               /* rotation: the next inserted jingle is jingles[next % n] */
};

/* Parses clock.json text and resolves its jingles in m (cut at `rate`,
 * each of kind jingle and consistent). On failure *r is empty. */
int station_ids_parse(const char *text, size_t len, const struct manifest *m, int rate, struct station_ids_rule *r,
                      char *err, size_t errlen);
/* Reads processed/clock.json and manifest.json: 1 loaded, 0 no clock.json
 * (*r empty: no rule), -1 refused. */
int station_ids_load(const char *processed_dir, int rate, struct station_ids_rule *r, char *err, size_t errlen);
void station_ids_rule_free(struct station_ids_rule *r);
int station_ids_active(const struct station_ids_rule *r);

/* Decides the next track boundary not decided yet (where a queue would
 * go in: after the track on air, or after what is inserted and not yet on
 * air). Returns 1 when the memory changed (*at >= 0 when a jingle went on
 * the timeline there; save the state), 0 when there was nothing to
 * decide, -1 on error. */
int station_ids_step(const struct station_ids_rule *r, struct station_ids_memory *mem, struct station *st, double now,
                     int64_t *at, char *err, size_t errlen);

#endif
