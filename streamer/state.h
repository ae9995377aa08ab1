/* The streamer's persisted state, state/state.json: the timeline (anchor,
 * history, last published window) and the playlist objects still held on
 * the node. Written atomically after every change; a kill -9 at any moment
 * leaves either the previous file or the new one. */
#ifndef RADIO_STATE_H
#define RADIO_STATE_H

#include <stddef.h>

#include "cid.h"
#include "program.h"
#include "queue.h"
#include "station.h"
#include "station_ids.h"

#define STATE_FORMAT "ipfs-radio-streamer-state"
#define STATE_VERSION 1
#define STATE_MAX_BYTES (64u << 20)

struct streamer_state {
    struct station_memory mem;
    char ipns_name[128];
    char (*playlists)[CID_MAX_STR];  /* published playlist CIDs still pinned, oldest first */
    size_t nplaylists;
    struct queue_ack *acks;          /* queue requests acted on, oldest first */
    size_t nacks;
    struct station_ids_memory ids;   /* the clock's station IDs: what the next decision needs */
    struct program_memory positions; /* where each running order left off (day-parts) */
};

void state_free(struct streamer_state *s);
/* A missing file is a new station (returns 0 with mem.have = 0). */
int state_load(const char *path, struct streamer_state *s, char *err, size_t errlen);
int state_save(const char *path, const struct streamer_state *s, char *err, size_t errlen);
int state_push_playlist(struct streamer_state *s, const char *cid);

/* Holds an exclusive lock on state_dir/lock for the life of the process
 * (the descriptor in *fd): two streamers on one state would sign different
 * records with one sequence number. Refuses, naming the holder's pid, when
 * another process holds it. */
int state_lock(const char *state_dir, int *fd, char *err, size_t errlen);

#endif
