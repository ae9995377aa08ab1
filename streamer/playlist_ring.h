/* The playlists a node was given, oldest first, so that all but the newest
 * `keep` can be deleted from it again. The same playlist given twice (the
 * same window renders the same bytes) is one entry, moved to the newest
 * place; the playlist the node's name points at is never offered for
 * deletion. The publisher keeps its node's ring in state.json; each other
 * Kubo target keeps its own in a small file in the state directory, so a
 * restart trims what the run before left. */
#ifndef RADIO_PLAYLIST_RING_H
#define RADIO_PLAYLIST_RING_H

#include <stddef.h>

#include "cid.h"

#define PLAYLIST_RING_FORMAT "ipfs-radio-target-playlists"
#define PLAYLIST_RING_VERSION 1
#define PLAYLIST_RING_MAX_BYTES (16u << 20)

struct playlist_ring {
    char (*v)[CID_MAX_STR];      /* oldest first */
    size_t n;
};

void playlist_ring_free(struct playlist_ring *r);
/* Copies n entries in (oldest first). */
int playlist_ring_set(struct playlist_ring *r, char (*v)[CID_MAX_STR], size_t n);
int playlist_ring_push(struct playlist_ring *r, const char *cid);
/* The oldest entry beyond the newest `keep` that is not `current` (the
 * playlist the name points at; NULL or "" for none), or NULL. */
const char *playlist_ring_excess(const struct playlist_ring *r, size_t keep, const char *current);
void playlist_ring_remove(struct playlist_ring *r, const char *cid);

/* A target's ring file: the ring and the playlist its name points at.
 * A missing file is an empty ring. */
int playlist_ring_load(const char *path, struct playlist_ring *r, char *current, size_t curlen,
                       char *err, size_t errlen);
int playlist_ring_save(const char *path, const char *url, const struct playlist_ring *r, const char *current,
                       char *err, size_t errlen);

#endif
