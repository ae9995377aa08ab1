/* Crash-safe file replacement: write a temp file beside the target, fsync
 * it, rename over the target, fsync the directory. A reader (or a kill -9)
 * sees either the old content or the new, never a mix. */
#ifndef RADIO_ATOMIC_H
#define RADIO_ATOMIC_H

#include <stddef.h>

int atomic_write(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* Same, but the file stays readable by its owner only (0600): secrets. */
int atomic_write_private(const char *path, const void *data, size_t len, char *err, size_t errlen);
/* Same, but never replaces: if path exists, even one created a moment ago
 * by another process, it is left alone and *exists is set (returns 0). */
int atomic_create_private(const char *path, const void *data, size_t len, int *exists, char *err, size_t errlen);

/* Reads a whole regular file (NUL-terminated for convenience) up to max
 * bytes; anything else (a FIFO, a device, a folder) is refused at once. */
int atomic_read(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen);

/* Returns 1 if path holds exactly these bytes, 0 otherwise (missing too). */
int atomic_same_content(const char *path, const void *data, size_t len);

/* snprintf for paths: returns 0, or -1 (with a message) if it did not fit. */
int fs_path(char *out, size_t outlen, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* mkdir -p, mode 0755. */
int fs_mkdirs(const char *path, char *err, size_t errlen);

/* mkdir -p of the directory a file is (to be) in. */
int fs_mkdirs_parent(const char *path, char *err, size_t errlen);

/* rm -rf; missing is not an error. */
int fs_remove_tree(const char *path, char *err, size_t errlen);

/* fsync a directory so a rename inside it survives a power cut. */
int fs_sync_dir(const char *dir, char *err, size_t errlen);

#endif
