/* One setup run: scan, decide what is stale, transcode and add the stale
 * tracks in parallel, re-add blocks a fresh node lacks, then move the new
 * versions in beside the old and switch manifest.json and playlist.m3u
 * (see finish in setup_run.c); only then delete and unpin what the new
 * manifest no longer names. A fatal error (the environment's, never a
 * file's content) leaves processed/ exactly as it was. */
#ifndef RADIO_SETUP_RUN_H
#define RADIO_SETUP_RUN_H

#include <stddef.h>

#include "err.h"
#include "page.h"
#include "setup_config.h"

struct setup_result {
    int encoded;
    int cached;
    int skipped;
    int damaged;             /* encoded, but decode errors cost some audio */
    int silent;              /* encoded, but mostly silence */
    int removed;
    int unpinned;            /* segments of the previous manifest the new one dropped */
    int reuploaded;
    int artwork_made;        /* tracks whose artwork was made again */
    int artwork_errors;      /* tracks airing without artwork since their picture is unusable */
    int playlist_written;
    int manifest_written;
    int music;               /* music entries in the running order */
    int jingles;             /* jingles in the rotation */
    int left_out;            /* named like audio, but a link to nothing, a FIFO, a folder... */
    int missing;             /* `tracks` or `jingles` entries that named no file */
    int bad_config;          /* the failure is the playlist config's (exit status 2) */
    struct page_result page;
    /* The page is added after processed/ is complete; its failure is
     * reported here instead of undoing the rest. */
    char page_error[ERR_MSG_MAX];
};

int setup_run(const struct setup_config *cfg, const struct playlist_config *pc,
              struct setup_result *res, char *err, size_t errlen);

#endif
