/* What can be wrong with the station as heard through one gateway, and
 * how bad it is: the same fault is "down" on the station's own gateway
 * (every listener path starts there) and "degraded" on a public one. */
#ifndef RADIO_HM_PROBLEM_H
#define RADIO_HM_PROBLEM_H

#include <stddef.h>

#include "err.h"

#define HM_PROBLEM_MSG 400
#define HM_MAX_PROBLEMS 24

enum hm_severity { HM_OK = 0, HM_DEGRADED = 1, HM_DOWN = 2 };

enum hm_code {
    HM_NO_NAME,             /* no IPNS name to listen to */
    HM_UNREACHABLE,         /* no connection to the gateway */
    HM_TIMEOUT,             /* connected, no answer within the time limit */
    HM_HTTP_ERROR,          /* answered with a status other than 200 */
    HM_GARBAGE,             /* answer is not a playlist, too large, or broken */
    HM_NOT_LIVE,            /* no segments, or EXT-X-ENDLIST */
    HM_STALE,               /* newest date-time too old */
    HM_FUTURE,              /* newest date-time far ahead of our clock */
    HM_NO_DATE_TIME,        /* no EXT-X-PROGRAM-DATE-TIME: freshness unknown */
    HM_SEQUENCE_STUCK,      /* media sequence did not move for too long */
    HM_SEQUENCE_BACK,       /* media sequence decreased */
    HM_SEQUENCE_REMAPPED,   /* a sequence number now names another URI */
    HM_TARGET_DURATION,     /* missing, zero, or changed */
    HM_EXTINF,              /* a duration is zero or above the target */
    HM_DISCONTINUITY,       /* date-time jump without EXT-X-DISCONTINUITY */
    HM_PLAYLIST_TYPE,       /* EXT-X-PLAYLIST-TYPE on a sliding window */
    HM_SLOW,                /* playlist answered, but slowly */
    HM_SEGMENT_UNAVAILABLE, /* a listed segment could not be fetched */
    HM_INTEGRITY,           /* bytes do not match the CID */
    HM_UNDECODABLE,         /* bytes are not audio a player can decode */
    HM_SILENCE,             /* dead air */
    HM_CLIPPING,            /* decoded audio hits full scale */
    HM_LOUDNESS_DRIFT,      /* away from the station's loudness target */
    HM_SHORT_AUDIO,         /* a segment decodes to less audio than its EXTINF says */
    HM_CODE_COUNT
};

struct hm_problem {
    enum hm_code code;
    char msg[HM_PROBLEM_MSG];
};

struct hm_problems {
    struct hm_problem v[HM_MAX_PROBLEMS];
    size_t n;
};

/* Adds a problem; past HM_MAX_PROBLEMS the rest are dropped (the first
 * ones explain the state). */
void hm_problem_add(struct hm_problems *p, enum hm_code code, const char *fmt, ...) ERR_PRINTF(3, 4);
int hm_problem_has(const struct hm_problems *p, enum hm_code code);

const char *hm_code_name(enum hm_code c);
enum hm_severity hm_code_severity(enum hm_code c, int local);
const char *hm_severity_name(enum hm_severity s);

#endif
