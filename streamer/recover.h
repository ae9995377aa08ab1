/* One IPNS name, one timeline: when state/state.json is lost, corrupt,
 * from another version or older than what went out, the last playlist
 * published is enough to continue without a sequence number going back or
 * changing meaning. */
#ifndef RADIO_RECOVER_H
#define RADIO_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "station.h"

/* Reads a playlist the streamer published (state/live.m3u8, or the one the
 * name resolves to) into a station memory whose window is that playlist:
 * same URIs, date-times and discontinuity numbers. Its order id matches no
 * running order, so station_open continues after its last segment. */
int recover_from_playlist(const char *text, size_t len, int rate, struct station_memory *mem, char *err,
                          size_t errlen);

/* Newest sequence number a memory holds, -1 when none. */
int64_t recover_newest(const struct station_memory *mem);

#endif
