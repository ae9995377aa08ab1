/* Noticing that processed/ changed: another program may rewrite
 * playlist.m3u, manifest.json or clock.json at any time (temp file + rename), which
 * changes the inode, size or mtime the streamer last saw. */
#ifndef RADIO_WATCH_H
#define RADIO_WATCH_H

#include <stdint.h>

struct watch {
    char manifest[4096];
    char playlist[4096];
    char clock[4096];        /* clock.json: station IDs on the clock */
    int64_t sig[3][3];       /* inode, size, mtime ns of each */
};

void watch_init(struct watch *w, const char *processed_dir);
/* 1 if any of the files differs from what watch_mark last recorded. */
int watch_changed(const struct watch *w);
/* Records the files as they are now. */
void watch_mark(struct watch *w);

#endif
