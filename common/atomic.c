#include "atomic.h"

#include "err.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void dir_of(const char *path, char *out, size_t outlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    snprintf(out, outlen, "%s", dirname(tmp));
}

int fs_sync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, errlen, "open directory %s: %s", dir, strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0 && e != EINVAL)
        return err_set(err, errlen, "fsync directory %s: %s", dir, strerror(e));
    return 0;
}

static int write_all(int fd, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* replace = 0: publish with link(), which fails rather than replace a file
 * that appeared meanwhile; *exists then says so and nothing is written. */
static int write_mode(const char *path, const void *data, size_t len, mode_t mode, int replace, int *exists,
                      char *err, size_t errlen)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= sizeof tmp)
        return err_set(err, errlen, "path too long: %s", path);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return err_set(err, errlen, "create temp file for %s: %s", path, strerror(errno));
    if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return err_set(err, errlen, "write %s: %s", tmp, strerror(e));
    }
    if (fchmod(fd, mode) != 0 || close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, errlen, "finish %s: %s", tmp, strerror(e));
    }
    if (replace && rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return err_set(err, errlen, "rename %s to %s: %s", tmp, path, strerror(e));
    }
    if (!replace) {
        int rc = link(tmp, path), e = errno;
        unlink(tmp);
        if (rc != 0 && e == EEXIST) {
            *exists = 1;
            return 0;
        }
        if (rc != 0)
            return err_set(err, errlen, "link %s to %s: %s", tmp, path, strerror(e));
    }
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    return fs_sync_dir(dir, err, errlen);
}

int atomic_write(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    /* These files are meant to be read by other programs. */
    return write_mode(path, data, len, 0644, 1, NULL, err, errlen);
}

int atomic_write_private(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    /* mkstemp already creates 0600, so the secret is never readable by others. */
    return write_mode(path, data, len, 0600, 1, NULL, err, errlen);
}

int atomic_create_private(const char *path, const void *data, size_t len, int *exists, char *err, size_t errlen)
{
    *exists = 0;
    return write_mode(path, data, len, 0600, 0, exists, err, errlen);
}

int atomic_read(const char *path, size_t max, char **data, size_t *len, char *err, size_t errlen)
{
    *data = NULL;
    if (len)
        *len = 0;
    /* Opened without blocking: another program may leave a FIFO (or a
     * device) where a file should be, and a reader must never wait on it. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, errlen, "open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, errlen, "%s is not a regular file", path);
    }
    /* A file already too large is refused before a byte of it is read; the
     * loop below still bounds one that grows while being read. */
    if ((uintmax_t)st.st_size > (uintmax_t)max) {
        close(fd);
        return err_set(err, errlen, "%s is larger than %zu bytes", path, max);
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return err_set(err, errlen, "open %s: %s", path, strerror(errno));
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return err_set(err, errlen, "out of memory reading %s", path);
    }
    for (;;) {
        if (n == cap) {
            if (cap >= max) {
                free(buf);
                fclose(f);
                return err_set(err, errlen, "%s is larger than %zu bytes", path, max);
            }
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return err_set(err, errlen, "out of memory reading %s", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return err_set(err, errlen, "read %s failed", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (len)
        *len = n;
    return 0;
}

int atomic_same_content(const char *path, const void *data, size_t len)
{
    char *old = NULL;
    size_t oldlen = 0;
    if (atomic_read(path, len + 1, &old, &oldlen, NULL, 0) != 0)
        return 0;
    int same = oldlen == len && memcmp(old, data, len) == 0;
    free(old);
    return same;
}

int fs_path(char *out, size_t outlen, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, outlen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= outlen)
        return err_set(err, errlen, "path too long: %.200s...", out);
    return 0;
}

int fs_mkdirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    if ((size_t)snprintf(buf, sizeof buf, "%s", path) >= sizeof buf)
        return err_set(err, errlen, "path too long: %s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return err_set(err, errlen, "mkdir %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return err_set(err, errlen, "mkdir %s: %s", buf, strerror(errno));
    return 0;
}

int fs_mkdirs_parent(const char *path, char *err, size_t errlen)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    return fs_mkdirs(dir, err, errlen);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p) != 0 && errno != ENOENT ? -1 : 0;
}

int fs_remove_tree(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : err_set(err, errlen, "stat %s: %s", path, strerror(errno));
    if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return err_set(err, errlen, "remove %s: %s", path, strerror(errno));
    return 0;
}
