/* playlist.m3u: the running order, as extended M3U a person can read.
 *   #EXTM3U
 *   #EXTINF:183.456,Artist - Title
 *   <track id known to the manifest>
 * Another program may rewrite it at any time (temp file + rename). */
#ifndef RADIO_PLAYLIST_H
#define RADIO_PLAYLIST_H

#include <stddef.h>

#define PLAYLIST_MAX_BYTES (64u << 20)
#define PLAYLIST_MAX_LINE 4096

struct playlist_entry {
    char *id;
    char *label;       /* from #EXTINF, may be empty */
    double duration;   /* from #EXTINF, -1 if absent */
};

struct playlist {
    struct playlist_entry *v;
    size_t n;
};

/* Parses extended (or plain) M3U text. Lines are bounded; CRLF and a UTF-8
 * BOM are accepted; comments other than #EXTINF are ignored. */
int playlist_parse(const char *text, size_t len, const char *origin, struct playlist *pl,
                   char *err, size_t errlen);
int playlist_load(const char *path, struct playlist *pl, char *err, size_t errlen);
/* Caller frees the text. NULL on OOM. */
char *playlist_to_m3u(const struct playlist *pl);
int playlist_append(struct playlist *pl, const char *id, const char *label, double duration);
void playlist_free(struct playlist *pl);

/* The jingle rotation: a jingle, then `every` music items, then the next
 * jingle, cycling through the jingles in order. Fills order[] with indices:
 * music i as i, jingle j as -(j + 1). When there are fewer music groups than
 * jingles the music repeats so that every jingle airs once per loop.
 * Returns the count written, or -1 if order_cap is too small (call with
 * order == NULL to get the count needed). */
long playlist_interleave(size_t nmusic, size_t njingles, int every, long *order, size_t order_cap);

#endif
