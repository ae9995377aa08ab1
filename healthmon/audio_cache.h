/* Gateways usually serve the same segments: once bytes are verified
 * against their CIDs they are the same audio everywhere, and decoding and
 * measuring them again would give the same answer. The cache keeps the
 * last measurements by CID list and lets the gateway probes of a round
 * (and the next round) share them; a probe that finds the same
 * measurement in progress waits for it. Unverified bytes are never
 * looked up: they are measured as served. Thread-safe. */
#ifndef RADIO_HM_AUDIO_CACHE_H
#define RADIO_HM_AUDIO_CACHE_H

#include <stddef.h>

#include "audio.h"

struct hm_audio_cache;

/* capacity: measurements kept (oldest replaced first). NULL on OOM. */
struct hm_audio_cache *hm_audio_cache_new(size_t capacity);
void hm_audio_cache_free(struct hm_audio_cache *c);

/* hm_audio_analyze, sharing the result between callers that pass the
 * same key (the verified CIDs of the inputs, in order). key NULL or c
 * NULL: no sharing. n must not exceed HM_AUDIO_CACHE_MAX_INPUTS when
 * shared. *shared says whether another caller did the work. */
#define HM_AUDIO_CACHE_MAX_INPUTS 4
int hm_audio_cache_analyze(struct hm_audio_cache *c, const char *key,
                           const struct hm_audio_params *p, const struct hm_audio_input *in,
                           size_t n, struct hm_audio_segment *seg, struct hm_audio_result *out,
                           int *shared, char *err, size_t errlen);

#endif
