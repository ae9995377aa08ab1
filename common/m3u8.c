#include "m3u8.h"

#include "err.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Durations are written with millisecond precision, as players read them. */
#define M3U8_DURATION_DECIMALS 3
#define M3U8_MAX_TARGET 3600
#define M3U8_MAX_EXTINF 86400.0

void m3u8_free(struct m3u8_playlist *pl)
{
    for (size_t i = 0; i < pl->nsegs; i++) {
        free(pl->segs[i].uri);
        free(pl->segs[i].title);
    }
    free(pl->segs);
    for (size_t i = 0; i < pl->nranges; i++) {
        free(pl->ranges[i].title);
        free(pl->ranges[i].artwork);
    }
    free(pl->ranges);
    if (pl->next)
        free(pl->next->title);
    free(pl->next);
    memset(pl, 0, sizeof *pl);
}

/* Civil date of a day count since 1970-01-01 (proleptic Gregorian): done
 * by hand because gmtime_r + strftime dominate rendering a large window. */
static void civil_from_days(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

void m3u8_format_time(double unix_seconds, char out[M3U8_TIME_LEN])
{
    /* Round to the millisecond first so 59.9996 s carries into the minute. */
    long long ms = llround(unix_seconds * 1000.0);
    long long secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int frac = (int)(ms - secs * 1000);
    long long days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int sod = (int)(secs - days * 86400);
    int y, mo, d;
    civil_from_days(days, &y, &mo, &d);
    /* Years beyond 9999 do not fit the field; such times are not air times. */
    char tmp[96];
    int n = snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, mo, d, sod / 3600,
                     sod / 60 % 60, sod % 60, frac);
    if (n < 0 || n >= M3U8_TIME_LEN)
        n = 0;
    memcpy(out, tmp, (size_t)n);
    out[n] = '\0';
}

static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm needed). */
static long long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int m3u8_parse_time(const char *s, double *unix_seconds)
{
    int y, mo, d, h, mi, se;
    const char *p = s;
    if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
        digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    double frac = 0, scale = 0.1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        for (int n = 0; isdigit((unsigned char)*p); p++, n++)
            if (n < 9) {
                frac += (*p - '0') * scale;
                scale /= 10;
            }
    }
    int offset = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (digits(&p, 2, &oh))
            return -1;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && digits(&p, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return -1;
    }
    if (*p)
        return -1;
    long long days = days_from_civil(y, mo, d);
    *unix_seconds = (double)(days * 86400 + h * 3600 + mi * 60 + se - offset) + frac;
    return 0;
}

struct buf {
    char *p;
    size_t len, cap;
    int oom;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct buf *b, const char *fmt, ...)
{
    if (b->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 + (size_t)n + 1;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0: overlong forms,
 * surrogates and code points above U+10FFFF are not valid. */
static size_t utf8_len(const unsigned char *s, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t n = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (n == 0 || s[0] > 0xF4)
        return 0;
    uint32_t c = s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* RFC 8216 forbids control characters in a playlist, and players split
 * lines on more than CR and LF: hls.js's patterns end a line at U+2028 and
 * U+2029, so a title holding one could end the stream or add a segment. */
static int title_safe(uint32_t cp)
{
    return cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F) && cp != 0x2028 && cp != 0x2029 &&
           cp != 0xFEFF;
}

/* EXTINF titles are one line of valid UTF-8 without control characters,
 * whatever the manifest says: anything else becomes a space, and a long
 * title is cut at a character boundary. In a quoted-string attribute a
 * double quote would end the value: it becomes an apostrophe. */
static void put_text(struct buf *b, const char *t, int quoted)
{
    char clean[M3U8_MAX_LINE / 2];
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)(t ? t : "");
    while (*p) {
        uint32_t cp = 0;
        size_t l = utf8_len(p, &cp);
        if (l == 0 || !title_safe(cp)) {
            if (n + 1 >= sizeof clean)
                break;
            clean[n++] = ' ';
            p += l ? l : 1;
            continue;
        }
        if (n + l >= sizeof clean)
            break;
        memcpy(clean + n, p, l);
        if (quoted && cp == '"')
            clean[n] = '\'';
        n += l;
        p += l;
    }
    clean[n] = '\0';
    put(b, "%s", clean);
}

int m3u8_attr_safe(const char *s)
{
    for (; *s; s++)
        if (*s == '"' || (unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* A track on air, for players that show what plays (hls.js, Safari) and
 * for US webcasting rules that want artist and title shown: an
 * EXT-X-DATERANGE per track, its ID fixed by the track's first media
 * sequence number, so every publish repeats it unchanged. */
static void put_daterange(struct buf *b, const struct m3u8_daterange *r)
{
    char when[M3U8_TIME_LEN];
    m3u8_format_time(r->start, when);
    put(b, "#EXT-X-DATERANGE:ID=\"track-%lld\",CLASS=\"" M3U8_TRACK_CLASS "\",START-DATE=\"%s\",DURATION=%.*f,"
        "X-TITLE=\"", (long long)r->first_seq, when, M3U8_DURATION_DECIMALS, r->duration);
    put_text(b, r->title, 1);
    put(b, "\"");
    if (r->artwork && m3u8_attr_safe(r->artwork))
        put(b, ",X-ARTWORK=\"%s\"", r->artwork);
    put(b, "\n");
}

/* The next track, announced before it airs (a date range may lie in the
 * future): its own class, so a player never takes it for the track on air,
 * and its own ID, so it never clashes with the track's tag once it airs. */
static void put_next(struct buf *b, const struct m3u8_daterange *r)
{
    char when[M3U8_TIME_LEN];
    m3u8_format_time(r->start, when);
    put(b, "#EXT-X-DATERANGE:ID=\"next-%lld\",CLASS=\"" M3U8_NEXT_CLASS "\",START-DATE=\"%s\",DURATION=%.*f,"
        "X-TITLE=\"", (long long)r->first_seq, when, M3U8_DURATION_DECIMALS, r->duration);
    put_text(b, r->title, 1);
    put(b, "\"\n");
}

int m3u8_render(const struct m3u8_playlist *pl, char **out, size_t *len)
{
    struct buf b = {malloc(4096), 0, 4096, 0};
    if (!b.p)
        return -1;
    b.p[0] = '\0';
    /* Version 3 is the lowest that allows decimal EXTINF durations;
     * PROGRAM-DATE-TIME and DISCONTINUITY-SEQUENCE need nothing higher. */
    put(&b, "#EXTM3U\n#EXT-X-VERSION:3\n");
    put(&b, "#EXT-X-TARGETDURATION:%d\n", pl->target_duration);
    put(&b, "#EXT-X-MEDIA-SEQUENCE:%lld\n", (long long)pl->media_sequence);
    put(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%lld\n", (long long)pl->discontinuity_sequence);
    if (pl->has_start)
        put(&b, "#EXT-X-START:TIME-OFFSET=%.*f\n", M3U8_DURATION_DECIMALS, pl->start_offset);
    for (size_t i = 0; i < pl->nranges; i++)
        put_daterange(&b, &pl->ranges[i]);
    if (pl->next)
        put_next(&b, pl->next);
    for (size_t i = 0; i < pl->nsegs; i++) {
        const struct m3u8_segment *s = &pl->segs[i];
        if (s->discontinuity)
            put(&b, "#EXT-X-DISCONTINUITY\n");
        char when[M3U8_TIME_LEN];
        m3u8_format_time(s->pdt, when);
        put(&b, "#EXT-X-PROGRAM-DATE-TIME:%s\n#EXTINF:%.*f,", when, M3U8_DURATION_DECIMALS, s->duration);
        put_text(&b, s->title, 0);
        put(&b, "\n%s\n", s->uri);
    }
    if (b.oom) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    if (len)
        *len = b.len;
    return 0;
}

/* --- parsing --- */

static int parse_int(const char *s, long long min, long long max, long long *out)
{
    if (!isdigit((unsigned char)*s) && *s != '-')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    while (*end == ' ' || *end == '\t')
        end++;
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int push_segment(struct m3u8_playlist *pl, const struct m3u8_segment *s)
{
    if (pl->nsegs >= M3U8_MAX_SEGMENTS)
        return -1;
    if ((pl->nsegs & (pl->nsegs - 1)) == 0) {
        size_t cap = pl->nsegs ? pl->nsegs * 2 : 8;
        struct m3u8_segment *nv = realloc(pl->segs, cap * sizeof *nv);
        if (!nv)
            return -1;
        pl->segs = nv;
    }
    pl->segs[pl->nsegs++] = *s;
    return 0;
}

/* EXT-X-START's attribute list: TIME-OFFSET is required, the others
 * (PRECISE) say nothing this program uses. */
static int parse_start(const char *attrs, double *offset)
{
    const char *p = attrs;
    while (*p) {
        if (strncmp(p, "TIME-OFFSET=", 12) == 0) {
            char *end;
            errno = 0;
            double v = strtod(p + 12, &end);
            if (end == p + 12 || errno || !isfinite(v) || (*end && *end != ','))
                return -1;
            *offset = v;
            return 0;
        }
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return -1;
}

/* The value of attribute `name` in an attribute list (quotes removed), or
 * -1 when it is absent or longer than outlen allows. */
static int attr_value(const char *attrs, const char *name, char *out, size_t outlen)
{
    size_t nl = strlen(name);
    const char *p = attrs;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq)
            return -1;
        const char *v = eq + 1, *end;
        if (*v == '"') {
            end = strchr(v + 1, '"');
            if (!end)
                return -1;
            v++;
        } else {
            end = v + strcspn(v, ",");
        }
        if ((size_t)(eq - p) == nl && strncmp(p, name, nl) == 0) {
            if ((size_t)(end - v) >= outlen)
                return -1;
            memcpy(out, v, (size_t)(end - v));
            out[end - v] = '\0';
            return 0;
        }
        p = end + (*end == '"');
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return -1;
}

/* A track range's X-ARTWORK, read back so that a streamer rebuilding its
 * history from a published playlist names the same artwork. Anything else
 * in the tag, or a tag that does not hold up, is ignored like an unknown tag. */
static int parse_track_artwork(const char *attrs, struct m3u8_playlist *pl)
{
    char id[64], art[M3U8_MAX_LINE / 2];
    long long seq;
    if (attr_value(attrs, "ID", id, sizeof id) != 0 || strncmp(id, "track-", 6) != 0 ||
        parse_int(id + 6, 0, INT64_MAX / 2, &seq) != 0 || attr_value(attrs, "X-ARTWORK", art, sizeof art) != 0 ||
        strncmp(art, "/ipfs/", 6) != 0 || !m3u8_attr_safe(art) || pl->nranges >= M3U8_MAX_SEGMENTS)
        return 0;
    if ((pl->nranges & (pl->nranges - 1)) == 0) {
        size_t cap = pl->nranges ? pl->nranges * 2 : 8;
        struct m3u8_daterange *nv = realloc(pl->ranges, cap * sizeof *nv);
        if (!nv)
            return -1;
        pl->ranges = nv;
    }
    struct m3u8_daterange *r = &pl->ranges[pl->nranges];
    memset(r, 0, sizeof *r);
    r->first_seq = seq;
    r->title = strdup("");
    r->artwork = strdup(art);
    pl->nranges++;
    return r->title && r->artwork ? 0 : -1;
}

int m3u8_parse(const char *text, size_t len, struct m3u8_playlist *pl, char *err, size_t errlen)
{
    memset(pl, 0, sizeof *pl);
    pl->target_duration = -1;
    if (len > M3U8_MAX_BYTES)
        return err_set(err, errlen, "playlist larger than %u bytes", M3U8_MAX_BYTES);
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    char line[M3U8_MAX_LINE];
    size_t pos = 0, lineno = 0;
    int seen_header = 0, pending_disc = 0;
    double pending_dur = -1, pending_pdt = NAN;
    char *pending_title = NULL;
    int64_t seq = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - text - pos) : len - pos;
        lineno++;
        if (l >= sizeof line) {
            err_set(err, errlen, "line %zu longer than %d bytes", lineno, M3U8_MAX_LINE - 1);
            goto fail;
        }
        memcpy(line, text + pos, l);
        line[l] = '\0';
        pos += l + (nl ? 1 : 0);
        if (memchr(line, '\0', l)) {
            err_set(err, errlen, "line %zu contains a NUL byte", lineno);
            goto fail;
        }
        while (l && (line[l - 1] == '\r' || line[l - 1] == ' ' || line[l - 1] == '\t'))
            line[--l] = '\0';
        if (!l)
            continue;
        if (!seen_header) {
            if (strcmp(line, "#EXTM3U") != 0) {
                err_set(err, errlen, "does not start with #EXTM3U");
                goto fail;
            }
            seen_header = 1;
            continue;
        }
        long long v;
        if (strncmp(line, "#EXT-X-VERSION:", 15) == 0) {
            if (parse_int(line + 15, 1, 100, &v)) {
                err_set(err, errlen, "line %zu: bad EXT-X-VERSION", lineno);
                goto fail;
            }
            pl->version = (int)v;
        } else if (strncmp(line, "#EXT-X-TARGETDURATION:", 22) == 0) {
            if (parse_int(line + 22, 0, M3U8_MAX_TARGET, &v)) {
                err_set(err, errlen, "line %zu: bad EXT-X-TARGETDURATION", lineno);
                goto fail;
            }
            pl->target_duration = (int)v;
        } else if (strncmp(line, "#EXT-X-MEDIA-SEQUENCE:", 22) == 0) {
            if (pl->nsegs || parse_int(line + 22, 0, INT64_MAX / 2, &v)) {
                err_set(err, errlen, "line %zu: bad or misplaced EXT-X-MEDIA-SEQUENCE", lineno);
                goto fail;
            }
            pl->media_sequence = v;
            seq = v;
        } else if (strncmp(line, "#EXT-X-DISCONTINUITY-SEQUENCE:", 30) == 0) {
            if (pl->nsegs || parse_int(line + 30, 0, INT64_MAX / 2, &v)) {
                err_set(err, errlen, "line %zu: bad or misplaced EXT-X-DISCONTINUITY-SEQUENCE", lineno);
                goto fail;
            }
            pl->discontinuity_sequence = v;
        } else if (strcmp(line, "#EXT-X-DISCONTINUITY") == 0) {
            pending_disc = 1;
        } else if (strcmp(line, "#EXT-X-ENDLIST") == 0) {
            pl->endlist = 1;
        } else if (strncmp(line, "#EXT-X-PLAYLIST-TYPE:", 21) == 0) {
            pl->has_playlist_type = 1;
        } else if (strncmp(line, "#EXT-X-START:", 13) == 0) {
            if (parse_start(line + 13, &pl->start_offset) != 0) {
                err_set(err, errlen, "line %zu: bad EXT-X-START (TIME-OFFSET)", lineno);
                goto fail;
            }
            pl->has_start = 1;
        } else if (strncmp(line, "#EXT-X-PROGRAM-DATE-TIME:", 25) == 0) {
            if (m3u8_parse_time(line + 25, &pending_pdt) != 0) {
                err_set(err, errlen, "line %zu: bad EXT-X-PROGRAM-DATE-TIME", lineno);
                goto fail;
            }
        } else if (strncmp(line, "#EXTINF:", 8) == 0) {
            char *end;
            errno = 0;
            double d = strtod(line + 8, &end);
            if (end == line + 8 || errno || !isfinite(d) || d < 0 || d > M3U8_MAX_EXTINF ||
                (*end && *end != ',')) {
                err_set(err, errlen, "line %zu: bad EXTINF", lineno);
                goto fail;
            }
            pending_dur = d;
            free(pending_title);
            pending_title = strdup(*end == ',' ? end + 1 : "");
            if (!pending_title) {
                err_set(err, errlen, "out of memory");
                goto fail;
            }
        } else if (strncmp(line, "#EXT-X-DATERANGE:", 17) == 0) {
            if (parse_track_artwork(line + 17, pl) != 0) {
                err_set(err, errlen, "out of memory");
                goto fail;
            }
        } else if (line[0] == '#') {
            continue; /* unknown tags and comments are ignored, as the spec says */
        } else {
            if (pending_dur < 0) {
                err_set(err, errlen, "line %zu: URI without EXTINF", lineno);
                goto fail;
            }
            struct m3u8_segment s = {seq++, pending_dur, strdup(line), pending_title,
                                     pending_disc, pending_pdt};
            pending_title = NULL;
            if (!s.uri || push_segment(pl, &s) != 0) {
                free(s.uri);
                free(s.title);
                err_set(err, errlen, pl->nsegs >= M3U8_MAX_SEGMENTS ? "more than %d segments"
                                                                    : "out of memory (%d)",
                        M3U8_MAX_SEGMENTS);
                goto fail;
            }
            pending_dur = -1;
            pending_disc = 0;
            pending_pdt = NAN;
        }
    }
    if (!seen_header) {
        err_set(err, errlen, "empty playlist");
        goto fail;
    }
    free(pending_title);
    return 0;
fail:
    free(pending_title);
    m3u8_free(pl);
    return -1;
}
