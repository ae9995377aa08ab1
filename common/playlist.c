#include "playlist.h"

#include "atomic.h"
#include "err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void playlist_free(struct playlist *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->v[i].id);
        free(pl->v[i].label);
    }
    free(pl->v);
    pl->v = NULL;
    pl->n = 0;
}

int playlist_append(struct playlist *pl, const char *id, const char *label, double duration)
{
    /* Grow in powers of two: n is a power of two exactly when full. */
    if ((pl->n & (pl->n - 1)) == 0) {
        size_t cap = pl->n ? pl->n * 2 : 1;
        struct playlist_entry *nv = realloc(pl->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        pl->v = nv;
    }
    struct playlist_entry *e = &pl->v[pl->n];
    e->id = strdup(id);
    e->label = strdup(label ? label : "");
    e->duration = duration;
    if (!e->id || !e->label) {
        free(e->id);
        free(e->label);
        return -1;
    }
    pl->n++;
    return 0;
}

static void trim(char *s)
{
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
        s[--l] = '\0';
}

int playlist_parse(const char *text, size_t len, const char *origin, struct playlist *pl,
                   char *err, size_t errlen)
{
    memset(pl, 0, sizeof *pl);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    char line[PLAYLIST_MAX_LINE];
    char label[PLAYLIST_MAX_LINE] = "";
    double dur = -1;
    size_t lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (l >= sizeof line) {
            playlist_free(pl);
            return err_set(err, errlen, "%s: line %zu is longer than %d bytes", origin, lineno,
                           PLAYLIST_MAX_LINE - 1);
        }
        memcpy(line, text + pos, l);
        line[l] = '\0';
        pos += l + (nl ? 1 : 0);
        if (memchr(line, '\0', l)) {
            playlist_free(pl);
            return err_set(err, errlen, "%s: line %zu contains a NUL byte", origin, lineno);
        }
        trim(line);
        const char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            continue;
        if (strncmp(p, "#EXTINF:", 8) == 0) {
            char *end;
            dur = strtod(p + 8, &end);
            if (end == p + 8)
                dur = -1;
            const char *comma = strchr(p + 8, ',');
            snprintf(label, sizeof label, "%s", comma ? comma + 1 : "");
            continue;
        }
        if (*p == '#')
            continue;
        if (playlist_append(pl, p, label, dur) != 0) {
            playlist_free(pl);
            return err_set(err, errlen, "out of memory");
        }
        label[0] = '\0';
        dur = -1;
    }
    return 0;
}

int playlist_load(const char *path, struct playlist *pl, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    memset(pl, 0, sizeof *pl);
    if (atomic_read(path, PLAYLIST_MAX_BYTES, &text, &len, err, errlen) != 0)
        return -1;
    int rc = playlist_parse(text, len, path, pl, err, errlen);
    free(text);
    return rc;
}

static int append_text(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t l = strlen(s);
    if (*len + l + 1 > *cap) {
        size_t nc = *cap ? *cap : 4096;
        while (nc < *len + l + 1)
            nc *= 2;
        char *nb = realloc(*buf, nc);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, l + 1);
    *len += l;
    return 0;
}

char *playlist_to_m3u(const struct playlist *pl)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (append_text(&buf, &len, &cap, "#EXTM3U\n") != 0)
        return NULL;
    for (size_t i = 0; i < pl->n; i++) {
        char line[2 * PLAYLIST_MAX_LINE];
        char label[PLAYLIST_MAX_LINE];
        snprintf(label, sizeof label, "%s", pl->v[i].label);
        for (char *c = label; *c; c++)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        snprintf(line, sizeof line, "#EXTINF:%.3f,%s\n%s\n", pl->v[i].duration, label, pl->v[i].id);
        if (append_text(&buf, &len, &cap, line) != 0) {
            free(buf);
            return NULL;
        }
    }
    return buf;
}

static int put(long *order, size_t cap, size_t *count, long v)
{
    if (order) {
        if (*count >= cap)
            return -1;
        order[*count] = v;
    }
    (*count)++;
    return 0;
}

long playlist_interleave(size_t nmusic, size_t njingles, int every, long *order, size_t order_cap)
{
    size_t per = every < 1 ? 1 : (size_t)every;
    size_t count = 0;
    if (njingles == 0) {
        for (size_t i = 0; i < nmusic; i++)
            if (put(order, order_cap, &count, (long)i) != 0)
                return -1;
        return (long)count;
    }
    size_t groups = (nmusic + per - 1) / per;
    /* Too little music for one group per jingle: repeat whole groups of
     * music so that every jingle still airs once per loop. */
    int repeat = groups < njingles;
    if (repeat)
        groups = njingles;
    size_t pos = 0;
    for (size_t g = 0; g < groups; g++) {
        if (put(order, order_cap, &count, -(long)(g % njingles) - 1) != 0)
            return -1;
        size_t take = repeat ? (per < nmusic ? per : nmusic) : (nmusic - pos < per ? nmusic - pos : per);
        for (size_t k = 0; k < take; k++, pos++)
            if (put(order, order_cap, &count, (long)(pos % nmusic)) != 0)
                return -1;
    }
    return (long)count;
}
