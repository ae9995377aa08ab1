#include "cache.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *cache_verdict_name(enum cache_verdict v)
{
    switch (v) {
    case CACHE_FRESH: return "fresh";
    case CACHE_NEW: return "new";
    case CACHE_SOURCE_CHANGED: return "source changed";
    case CACHE_ENCODING_CHANGED: return "encoding changed";
    case CACHE_SEGMENT_MISSING: return "segment missing";
    case CACHE_SEGMENT_SIZE: return "segment size wrong";
    case CACHE_UNREADABLE: return "source unreadable";
    }
    return "?";
}

void cache_check(const struct manifest_track *old, const struct scan_file *src,
                 const char *fingerprint, const char *processed_dir, struct cache_decision *out)
{
    memset(out, 0, sizeof *out);
    if (!old) {
        out->verdict = CACHE_NEW;
        return;
    }
    if (strcmp(old->fingerprint, fingerprint) != 0) {
        out->verdict = CACHE_ENCODING_CHANGED;
        return;
    }
    if (old->source_size != src->size || old->source_mtime_ns != src->mtime_ns) {
        /* A touch or a copy changes the mtime but not the music. */
        char err[128];
        if (scan_hash_file(src->path, out->sha256, err, sizeof err) != 0) {
            out->verdict = CACHE_UNREADABLE;
            snprintf(out->detail, sizeof out->detail, "%s", err);
            return;
        }
        out->hashed = 1;
        if (strcmp(out->sha256, old->source_sha256) != 0) {
            out->verdict = CACHE_SOURCE_CHANGED;
            return;
        }
    }
    for (size_t i = 0; i < old->nsegs; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", processed_dir, old->segs[i].file);
        struct stat st;
        if (stat(path, &st) != 0) {
            out->verdict = CACHE_SEGMENT_MISSING;
            snprintf(out->detail, sizeof out->detail, "%s", old->segs[i].file);
            return;
        }
        if ((int64_t)st.st_size != old->segs[i].bytes) {
            out->verdict = CACHE_SEGMENT_SIZE;
            snprintf(out->detail, sizeof out->detail, "%s", old->segs[i].file);
            return;
        }
    }
    out->verdict = CACHE_FRESH;
}
