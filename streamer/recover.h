/* One IPNS name, one timeline: when state/state.json is lost, corrupt,
 * from another version or older than what went out, the last playlist
 * published is enough to continue without a sequence number going back or
 * changing meaning. */
#ifndef RADIO_RECOVER_H
#define RADIO_RECOVER_H

#include <stddef.h>
#include <stdint.h>

#include "ipfs.h"
#include "station.h"

/* Reads a playlist the streamer published (state/live.m3u8, or the one the
 * name resolves to) into a station memory whose window is that playlist:
 * same URIs, date-times and discontinuity numbers. Its order id matches no
 * running order, so station_open continues after its last segment. */
int recover_from_playlist(const char *text, size_t len, int rate, struct station_memory *mem, char *err,
                          size_t errlen);

/* The playlist the name points at on the node (routing/get of its
 * record, verified with the name's key, then cat), read as above: when
 * state/ is lost entirely, what listeners were last given. *has_record
 * says whether the node gave a record for the name at all, even one that
 * does not verify or points at something unusable. */
int recover_from_name(const struct ipfs_client *c, const char *name, int rate, struct station_memory *mem,
                      int *has_record, char *err, size_t errlen);

/* Newest sequence number a memory holds, -1 when none. */
int64_t recover_newest(const struct station_memory *mem);

#endif
