#include "order_keep.h"

#include "atomic.h"
#include "err.h"
#include "manifest.h"
#include "playlist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A header a person can read, then the two texts byte for byte: the
 * playlist need not be UTF-8, so it cannot travel inside JSON. */
#define HEADER_MAX 128

int order_keep_save(const char *path, const struct order_texts *t, char *err, size_t errlen)
{
    char head[HEADER_MAX];
    int hl = snprintf(head, sizeof head, "%s %d\nmanifest %zu\nplaylist %zu\n", ORDER_KEEP_FORMAT,
                      ORDER_KEEP_VERSION, t->manifest_len, t->playlist_len);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return err_set(err, errlen, "the order copy's header does not fit");
    size_t len = (size_t)hl + t->manifest_len + t->playlist_len;
    char *buf = malloc(len);
    if (!buf)
        return err_set(err, errlen, "out of memory");
    memcpy(buf, head, (size_t)hl);
    if (t->manifest_len)
        memcpy(buf + hl, t->manifest, t->manifest_len);
    if (t->playlist_len)
        memcpy(buf + hl + t->manifest_len, t->playlist, t->playlist_len);
    int rc = 0;
    if (!atomic_same_content(path, buf, len))
        rc = atomic_write(path, buf, len, err, errlen);
    free(buf);
    return rc;
}

static char *copy_text(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

int order_keep_load(const char *path, struct order_texts *t, int *missing, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    *missing = access(path, F_OK) != 0 && errno == ENOENT;
    if (*missing)
        return err_set(err, errlen, "%s does not exist", path);
    char *buf = NULL;
    size_t len = 0;
    if (atomic_read(path, HEADER_MAX + (size_t)MANIFEST_MAX_BYTES + PLAYLIST_MAX_BYTES, &buf, &len, err, errlen) !=
        0)
        return -1;
    char fmt[64];
    int version = 0;
    size_t ml = 0, pl = 0;
    if (sscanf(buf, "%63s %d manifest %zu playlist %zu", fmt, &version, &ml, &pl) != 4 ||
        strcmp(fmt, ORDER_KEEP_FORMAT) != 0 || version != ORDER_KEEP_VERSION) {
        free(buf);
        return err_set(err, errlen, "%s is not a copy of a running order (format %s %d)", path, ORDER_KEEP_FORMAT,
                       ORDER_KEEP_VERSION);
    }
    /* The header is three lines; sscanf skipped whitespace freely, so its
     * end is found by counting them, whatever the manifest starts with. */
    const char *p = buf;
    int nl = 0;
    while (nl < 3 && p < buf + len)
        nl += *p++ == '\n';
    size_t head = (size_t)(p - buf);
    if (nl < 3 || ml > MANIFEST_MAX_BYTES || pl > PLAYLIST_MAX_BYTES || head + ml + pl != len) {
        free(buf);
        return err_set(err, errlen, "%s is cut short or has bytes to spare", path);
    }
    t->manifest = copy_text(buf + head, ml);
    t->playlist = copy_text(buf + head + ml, pl);
    t->manifest_len = ml;
    t->playlist_len = pl;
    free(buf);
    if (!t->manifest || !t->playlist) {
        order_texts_free(t);
        return err_set(err, errlen, "out of memory");
    }
    return 0;
}
