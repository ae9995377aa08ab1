/* A music track's artwork through one setup run: whether what the previous
 * manifest holds still stands, making it again where not (picture found,
 * rendered, written to processed/artwork/, added to the node), and
 * deleting the files no manifest names any more. Artwork decorates a
 * track: a picture that cannot be used leaves the track airing without
 * artwork, remembered and reported, never skipped. */
#ifndef RADIO_ARTWORK_TRACK_H
#define RADIO_ARTWORK_TRACK_H

#include <stddef.h>

#include "artwork.h"
#include "ipfs.h"
#include "manifest.h"

#define ARTWORK_TRACK_DIR "artwork"

struct arttrack_ctx {
    const struct artwork_opts *opts;
    char params[65];                 /* artwork_params(opts) */
    const char *processed_dir;
    const struct ipfs_client *ipfs;
    int add_batch;
};

/* The artwork a run gives one track. */
struct arttrack {
    int stale;                       /* to be made again */
    int made;                        /* art and src hold the new artwork */
    struct manifest_artwork *art;
    size_t nart;
    struct manifest_artwork_source src;
    char why[256];                   /* why stale, for the debug log */
};

/* Whether the artwork `old` records (NULL: a new or re-cut track) still
 * stands for the source at source_path: same settings, its files in
 * place, and the same picture (an unchanged source keeps its embedded
 * one; a cover file must be the same file, unchanged; a track without a
 * usable picture is looked at again when a cover file appears). Only
 * stats files. */
void arttrack_check(const struct arttrack_ctx *c, const struct manifest_track *old, const char *source_path,
                    struct arttrack *out);

/* Makes the artwork of the track at source_path: its embedded picture, or
 * the cover file beside it when it has none or one that cannot be used. A
 * picture that cannot be used is recorded in out->src.error (returns 0);
 * -1 is the environment's (disk, node, memory), and err says why. */
int arttrack_make(const struct arttrack_ctx *c, const char *source_path, struct arttrack *out, char *err,
                  size_t errlen);

/* Moves the new artwork into t, replacing what it had. */
void arttrack_apply(struct arttrack *a, struct manifest_track *t);
void arttrack_free(struct arttrack *a);

/* Deletes the files in processed/artwork/ that m does not name. */
void arttrack_prune(const char *processed_dir, const struct manifest *m);

#endif
