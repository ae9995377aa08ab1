/* Whether a track's segments can be reused. A track is stale when its source
 * content or an encoding parameter that affects its bytes changed, or when
 * any of its segment files is missing or has the wrong size. */
#ifndef RADIO_CACHE_H
#define RADIO_CACHE_H

#include "manifest.h"
#include "scan.h"

enum cache_verdict {
    CACHE_FRESH,
    CACHE_NEW,
    CACHE_SOURCE_CHANGED,
    CACHE_ENCODING_CHANGED,
    CACHE_SEGMENT_MISSING,
    CACHE_SEGMENT_SIZE,
    CACHE_UNREADABLE,        /* the source could not be read to compare it */
};

struct cache_decision {
    enum cache_verdict verdict;
    /* Set when the content was hashed (size or mtime differed): the
     * caller records it, with the new mtime, if the track is fresh. */
    int hashed;
    char sha256[65];
    char detail[256];
};

/* old may be NULL (a source the manifest does not know). Only stats files,
 * unless size or mtime differ, when the content hash decides. */
void cache_check(const struct manifest_track *old, const struct scan_file *src,
                 const char *fingerprint, const char *processed_dir, struct cache_decision *out);

const char *cache_verdict_name(enum cache_verdict v);

#endif
