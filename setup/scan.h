/* Finding the sources: audio files below a folder, in a stable order, each
 * with a track id that stays the same while its path does. */
#ifndef RADIO_SCAN_H
#define RADIO_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "manifest.h"

#define SCAN_ID_MAX 96

struct scan_file {
    char *path;              /* as opened: root/relpath */
    char *relpath;           /* relative to root, '/'-separated, bytes as on disk */
    char *name;              /* relpath as one line of UTF-8 (Latin-1 read leniently): for
                              * the manifest, titles and logs; the id comes from the bytes */
    enum manifest_kind kind;
    char id[SCAN_ID_MAX];
    int64_t size;
    int64_t mtime_ns;
};

struct scan_list {
    struct scan_file *v;
    size_t n;
    size_t excluded;         /* audio files and folders an exclude pattern left out */
    size_t left_out;         /* named like audio but unusable: links to nothing, FIFOs,
                              * folders where folders are not scanned (each logged) */
};

struct scan_opts {
    const struct cfg_strlist *exts;     /* audio extensions, case-insensitive */
    int recursive;                      /* 0: the top folder only */
    const struct cfg_strlist *exclude;  /* glob patterns, or NULL */
};

/* Appends the audio files below root (sorted by relative path, hidden
 * entries and excluded ones skipped). A missing root yields nothing and
 * *missing = 1. */
int scan_dir(const char *root, enum manifest_kind kind, const struct scan_opts *opts,
             struct scan_list *out, int *missing, char *err, size_t errlen);

/* The first exclude pattern (fnmatch(3), where '*' also crosses '/') that
 * matches the path relative to the root or its last component, or NULL.
 * A folder that matches is left out whole. */
const char *scan_excluded(const char *relpath, const struct cfg_strlist *exclude);
void scan_list_free(struct scan_list *l);

/* A slug of the path plus a short hash of kind and path: readable, unique,
 * and safe in file names and URLs. */
void scan_track_id(enum manifest_kind kind, const char *relpath, char out[SCAN_ID_MAX]);

/* sha256 of a file's content, hex. A read error returns ERR_ENVIRONMENT. */
int scan_hash_file(const char *path, char out[65], char *err, size_t errlen);

#endif
