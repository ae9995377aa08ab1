#include "problem.h"

#include <stdarg.h>
#include <stdio.h>

struct code_info {
    const char *name;
    enum hm_severity local, public_;
};

/* Down is what stops listeners hearing the station through its own node:
 * no fresh playlist, no segments, no audio. A fault that only public
 * gateways show leaves the station on air for some listeners. */
static const struct code_info codes[HM_CODE_COUNT] = {
    [HM_NO_NAME] = {"no_ipns_name", HM_DOWN, HM_DOWN},
    [HM_UNREACHABLE] = {"unreachable", HM_DOWN, HM_DEGRADED},
    [HM_TIMEOUT] = {"timeout", HM_DOWN, HM_DEGRADED},
    [HM_HTTP_ERROR] = {"http_error", HM_DOWN, HM_DEGRADED},
    [HM_GARBAGE] = {"garbage", HM_DOWN, HM_DEGRADED},
    [HM_NOT_LIVE] = {"not_live", HM_DOWN, HM_DEGRADED},
    [HM_STALE] = {"stale", HM_DOWN, HM_DEGRADED},
    [HM_FUTURE] = {"date_time_ahead", HM_DEGRADED, HM_DEGRADED},
    [HM_NO_DATE_TIME] = {"no_date_time", HM_DEGRADED, HM_DEGRADED},
    [HM_SEQUENCE_STUCK] = {"sequence_stuck", HM_DOWN, HM_DEGRADED},
    [HM_SEQUENCE_BACK] = {"sequence_went_back", HM_DEGRADED, HM_DEGRADED},
    [HM_SEQUENCE_REMAPPED] = {"sequence_remapped", HM_DEGRADED, HM_DEGRADED},
    [HM_TARGET_DURATION] = {"target_duration", HM_DEGRADED, HM_DEGRADED},
    [HM_EXTINF] = {"extinf", HM_DEGRADED, HM_DEGRADED},
    [HM_DISCONTINUITY] = {"discontinuity", HM_DEGRADED, HM_DEGRADED},
    [HM_PLAYLIST_TYPE] = {"playlist_type", HM_DEGRADED, HM_DEGRADED},
    [HM_SLOW] = {"slow", HM_DEGRADED, HM_DEGRADED},
    [HM_SEGMENT_UNAVAILABLE] = {"segment_unavailable", HM_DOWN, HM_DEGRADED},
    [HM_INTEGRITY] = {"integrity", HM_DOWN, HM_DEGRADED},
    [HM_UNDECODABLE] = {"undecodable", HM_DOWN, HM_DEGRADED},
    [HM_SILENCE] = {"silence", HM_DOWN, HM_DEGRADED},
    [HM_CLIPPING] = {"clipping", HM_DEGRADED, HM_DEGRADED},
    [HM_LOUDNESS_DRIFT] = {"loudness_drift", HM_DEGRADED, HM_DEGRADED},
    [HM_SHORT_AUDIO] = {"short_audio", HM_DEGRADED, HM_DEGRADED},
};

void hm_problem_add(struct hm_problems *p, enum hm_code code, const char *fmt, ...)
{
    if (p->n >= HM_MAX_PROBLEMS)
        return;
    struct hm_problem *e = &p->v[p->n++];
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

int hm_problem_has(const struct hm_problems *p, enum hm_code code)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->v[i].code == code)
            return 1;
    return 0;
}

const char *hm_code_name(enum hm_code c)
{
    return c < HM_CODE_COUNT ? codes[c].name : "?";
}

enum hm_severity hm_code_severity(enum hm_code c, int local)
{
    if (c >= HM_CODE_COUNT)
        return HM_DOWN;
    return local ? codes[c].local : codes[c].public_;
}

const char *hm_severity_name(enum hm_severity s)
{
    switch (s) {
    case HM_OK: return "ok";
    case HM_DEGRADED: return "degraded";
    case HM_DOWN: return "down";
    }
    return "?";
}
