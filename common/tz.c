#include "tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"

#define SECS_PER_DAY 86400
#define SECS_PER_HOUR 3600
#define TZIF_HEADER_LEN 44
/* RFC 8536 3.2: utoff in [-89999, 93599] (more than -25 h, less than 26 h). */
#define TZIF_UTOFF_MIN (-89999)
#define TZIF_UTOFF_MAX 93599
/* POSIX offsets are at most 24 hours; version 3 transition times +-167. */
#define RULE_OFFSET_HOURS_MAX 24
#define RULE_TIME_HOURS_MAX 167
#define RULE_DEFAULT_TIME (2 * SECS_PER_HOUR)
#define RULE_NAME_MIN 3
/* Unix day 0 (1970-01-01) was a Thursday. */
#define EPOCH_WEEKDAY_FROM_MONDAY 3
#define EPOCH_WEEKDAY_FROM_SUNDAY 4

struct tz_type {
    int32_t utoff;
    uint8_t isdst;
};

struct tz {
    char *name;
    size_t timecnt;
    int64_t *times;
    uint8_t *idx;
    size_t typecnt;
    struct tz_type *types;
    int has_rule;
    struct tz_rule rule;
};

/* ---- calendar ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return days[m - 1] + (m == 2 && is_leap(y));
}

/* Days since 1970-01-01 of a proleptic Gregorian date, counted in 400-year
 * eras that start on March 1 so that February's length ends a year. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t mp = (m + 9) % 12; /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t days, int64_t *y, int *m, int *d)
{
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t clamp_t(int64_t t)
{
    return t < -TZ_T_LIMIT ? -TZ_T_LIMIT : t > TZ_T_LIMIT ? TZ_T_LIMIT : t;
}

/* ---- POSIX TZ rule ---- */

static int parse_rule_name(const char **sp, char *err, size_t errlen)
{
    const char *s = *sp;
    size_t n = 0;
    if (*s == '<') {
        s++;
        while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
               (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-')
            n++;
        if (s[n] != '>')
            return err_set(err, errlen, "unterminated <...> zone abbreviation");
        *sp = s + n + 1;
    } else {
        while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))
            n++;
        *sp = s + n;
    }
    if (n < RULE_NAME_MIN)
        return err_set(err, errlen, "zone abbreviation shorter than %d characters", RULE_NAME_MIN);
    return 0;
}

static int parse_uint(const char **sp, int max_digits, int max, int *out)
{
    const char *s = *sp;
    int v = 0, n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > max_digits)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (n == 0 || v > max)
        return -1;
    *sp = s;
    *out = v;
    return 0;
}

/* [+-]h[:mm[:ss]] in seconds, hours at most max_hours. */
static int parse_hms(const char **sp, int max_hours, int32_t *out)
{
    const char *s = *sp;
    int sign = 1, h, m = 0, sec = 0;
    if (*s == '+' || *s == '-')
        sign = *s++ == '-' ? -1 : 1;
    if (parse_uint(&s, 3, max_hours, &h) != 0)
        return -1;
    if (*s == ':') {
        s++;
        if (parse_uint(&s, 2, 59, &m) != 0)
            return -1;
        if (*s == ':') {
            s++;
            if (parse_uint(&s, 2, 59, &sec) != 0)
                return -1;
        }
    }
    *sp = s;
    *out = sign * (h * SECS_PER_HOUR + m * 60 + sec);
    return 0;
}

static int parse_rule_date(const char **sp, struct tz_rule_date *d, char *err, size_t errlen)
{
    const char *s = *sp;
    memset(d, 0, sizeof *d);
    if (*s == 'J') {
        s++;
        d->kind = TZ_DATE_JULIAN1;
        if (parse_uint(&s, 3, 365, &d->day) != 0 || d->day < 1)
            return err_set(err, errlen, "bad Jn day (1-365)");
    } else if (*s == 'M') {
        s++;
        d->kind = TZ_DATE_MONTH;
        if (parse_uint(&s, 2, 12, &d->month) != 0 || d->month < 1 || *s++ != '.' ||
            parse_uint(&s, 1, 5, &d->week) != 0 || d->week < 1 || *s++ != '.' ||
            parse_uint(&s, 1, 6, &d->day) != 0)
            return err_set(err, errlen, "bad Mm.w.d date");
    } else {
        d->kind = TZ_DATE_JULIAN0;
        if (parse_uint(&s, 3, 365, &d->day) != 0)
            return err_set(err, errlen, "bad rule date");
    }
    d->time = RULE_DEFAULT_TIME;
    if (*s == '/') {
        s++;
        if (parse_hms(&s, RULE_TIME_HOURS_MAX, &d->time) != 0)
            return err_set(err, errlen, "bad transition time");
    }
    *sp = s;
    return 0;
}

int tz_rule_parse(const char *s, struct tz_rule *out, char *err, size_t errlen)
{
    struct tz_rule r;
    memset(&r, 0, sizeof r);
    int32_t west;
    if (parse_rule_name(&s, err, errlen) != 0)
        return err_prefix(err, errlen, "TZ rule");
    if (parse_hms(&s, RULE_OFFSET_HOURS_MAX, &west) != 0)
        return err_set(err, errlen, "TZ rule: bad standard offset");
    /* POSIX offsets count west of Greenwich; ours count east. */
    r.std_offset = -west;
    if (*s != '\0') {
        if (parse_rule_name(&s, err, errlen) != 0)
            return err_prefix(err, errlen, "TZ rule");
        r.has_dst = 1;
        r.dst_offset = r.std_offset + SECS_PER_HOUR;
        if (*s != ',' && *s != '\0') {
            if (parse_hms(&s, RULE_OFFSET_HOURS_MAX, &west) != 0)
                return err_set(err, errlen, "TZ rule: bad daylight offset");
            r.dst_offset = -west;
        }
        if (*s != ',')
            return err_set(err, errlen, "TZ rule: daylight time without ,start,end");
        s++;
        if (parse_rule_date(&s, &r.start, err, errlen) != 0)
            return err_prefix(err, errlen, "TZ rule start");
        if (*s++ != ',')
            return err_set(err, errlen, "TZ rule: no end date");
        if (parse_rule_date(&s, &r.end, err, errlen) != 0)
            return err_prefix(err, errlen, "TZ rule end");
        if (*s != '\0')
            return err_set(err, errlen, "TZ rule: trailing characters");
    }
    *out = r;
    return 0;
}

/* Unix day of the rule date in year y. */
static int64_t rule_day(const struct tz_rule_date *d, int64_t y)
{
    int64_t jan1 = days_from_civil(y, 1, 1);
    switch (d->kind) {
    case TZ_DATE_JULIAN1:
        /* Jn never counts February 29. */
        return jan1 + d->day - 1 + (is_leap(y) && d->day >= 60);
    case TZ_DATE_JULIAN0:
        return jan1 + d->day;
    case TZ_DATE_MONTH:
    default: {
        int64_t first = days_from_civil(y, d->month, 1);
        int64_t wd = ((first + EPOCH_WEEKDAY_FROM_SUNDAY) % 7 + 7) % 7;
        int64_t day = first + (d->day - wd + 7) % 7 + (int64_t)(d->week - 1) * 7;
        /* Week 5 means the last such weekday, which may be the fourth. */
        while (day >= first + month_days(y, d->month))
            day -= 7;
        return day;
    }
    }
}

int32_t tz_rule_offset(const struct tz_rule *r, int64_t t)
{
    if (!r->has_dst)
        return r->std_offset;
    t = clamp_t(t);
    int64_t y;
    int m, d;
    civil_from_days(floor_div(t + r->std_offset, SECS_PER_DAY), &y, &m, &d);
    /* Transition times may lie up to 167 h outside their day, so the
     * latest change at or before t may belong to a neighbouring year. */
    int found = 0, dst = 0;
    int64_t best = 0;
    for (int64_t yy = y - 2; yy <= y + 1; yy++) {
        int64_t start = rule_day(&r->start, yy) * SECS_PER_DAY + r->start.time - r->std_offset;
        int64_t end = rule_day(&r->end, yy) * SECS_PER_DAY + r->end.time - r->dst_offset;
        /* At a tie the start wins: that is how version 3 writes all-year DST
         * (it ends at the instant the next year's starts). */
        if (end <= t && (!found || end > best)) {
            found = 1;
            best = end;
            dst = 0;
        }
        if (start <= t && (!found || start >= best)) {
            found = 1;
            best = start;
            dst = 1;
        }
    }
    return dst ? r->dst_offset : r->std_offset;
}

/* ---- TZif ---- */

static int name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > TZ_NAME_MAX || name[0] == '/' || strstr(name, "..") != NULL)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '+' || c == '-' || c == '/';
        if (!ok || (c == '/' && (i + 1 == len || name[i + 1] == '/')))
            return 0;
    }
    return 1;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_header {
    int version; /* 1, 2, 3, ... */
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static int read_header(const unsigned char *p, size_t avail, struct tzif_header *h, char *err,
                       size_t errlen)
{
    if (avail < TZIF_HEADER_LEN || memcmp(p, "TZif", 4) != 0)
        return err_set(err, errlen, "not a TZif file");
    if (p[4] == 0)
        h->version = 1;
    else if (p[4] >= '2' && p[4] <= '9')
        h->version = p[4] - '0';
    else
        return err_set(err, errlen, "unknown TZif version byte 0x%02x", p[4]);
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return 0;
}

static uint64_t block_len(const struct tzif_header *h, unsigned tsize)
{
    return (uint64_t)h->timecnt * tsize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
           (uint64_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Reads the data block after header h (times of tsize bytes) into z. */
static int read_block(struct tz *z, const struct tzif_header *h, const unsigned char *p,
                      unsigned tsize, char *err, size_t errlen)
{
    if (h->typecnt == 0 || h->typecnt > 256)
        return err_set(err, errlen, "TZif: %u local time types (1-256 allowed)", h->typecnt);
    if (h->charcnt == 0)
        return err_set(err, errlen, "TZif: no abbreviation characters");
    if ((h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return err_set(err, errlen, "TZif: standard/UT indicator counts do not match the types");
    if (h->leapcnt != 0)
        return err_set(err, errlen,
                       "TZif: leap-second records (a right/ zone) are not supported: Unix time has none");
    z->timecnt = h->timecnt;
    z->typecnt = h->typecnt;
    z->times = malloc((h->timecnt ? h->timecnt : 1) * sizeof *z->times);
    z->idx = malloc(h->timecnt ? h->timecnt : 1);
    z->types = malloc(h->typecnt * sizeof *z->types);
    if (z->times == NULL || z->idx == NULL || z->types == NULL)
        return err_env(err, errlen, "out of memory");
    for (size_t i = 0; i < z->timecnt; i++, p += tsize) {
        z->times[i] = tsize == 8 ? be64(p) : (int32_t)be32(p);
        if (i > 0 && z->times[i] <= z->times[i - 1])
            return err_set(err, errlen, "TZif: transition times not ascending");
    }
    for (size_t i = 0; i < z->timecnt; i++, p++) {
        if (*p >= z->typecnt)
            return err_set(err, errlen, "TZif: transition type %u out of range", *p);
        z->idx[i] = *p;
    }
    for (size_t i = 0; i < z->typecnt; i++, p += 6) {
        int32_t utoff = (int32_t)be32(p);
        if (utoff < TZIF_UTOFF_MIN || utoff > TZIF_UTOFF_MAX)
            return err_set(err, errlen, "TZif: UT offset %ld out of range", (long)utoff);
        if (p[4] > 1)
            return err_set(err, errlen, "TZif: DST indicator %u is not 0 or 1", p[4]);
        if (p[5] >= h->charcnt)
            return err_set(err, errlen, "TZif: abbreviation index out of range");
        z->types[i].utoff = utoff;
        z->types[i].isdst = p[4];
    }
    return 0;
}

static int parse_tzif(struct tz *z, const unsigned char *buf, size_t len, char *err, size_t errlen)
{
    struct tzif_header h;
    if (read_header(buf, len, &h, err, errlen) != 0)
        return -1;
    size_t pos = TZIF_HEADER_LEN;
    uint64_t v1 = block_len(&h, 4);
    if (v1 > len - pos)
        return err_set(err, errlen, "TZif: truncated (version 1 data)");
    if (h.version == 1) {
        if (pos + v1 != len)
            return err_set(err, errlen, "TZif: data after the version 1 block");
        return read_block(z, &h, buf + pos, 4, err, errlen);
    }
    pos += (size_t)v1;
    struct tzif_header h2;
    if (read_header(buf + pos, len - pos, &h2, err, errlen) != 0)
        return err_set(err, errlen, "TZif: truncated or bad second header");
    if (h2.version != h.version)
        return err_set(err, errlen, "TZif: the two headers disagree on the version");
    pos += TZIF_HEADER_LEN;
    uint64_t v2 = block_len(&h2, 8);
    if (v2 > len - pos)
        return err_set(err, errlen, "TZif: truncated (64-bit data)");
    if (read_block(z, &h2, buf + pos, 8, err, errlen) != 0)
        return -1;
    pos += (size_t)v2;
    /* The footer: "\n" TZ string "\n", ending the file. */
    if (pos >= len || buf[pos] != '\n' || buf[len - 1] != '\n' || len - pos < 2)
        return err_set(err, errlen, "TZif: missing or truncated footer");
    size_t flen = len - pos - 2;
    const unsigned char *f = buf + pos + 1;
    if (memchr(f, '\n', flen) != NULL || memchr(f, '\0', flen) != NULL)
        return err_set(err, errlen, "TZif: malformed footer");
    if (flen == 0)
        return 0;
    char *s = malloc(flen + 1);
    if (s == NULL)
        return err_env(err, errlen, "out of memory");
    memcpy(s, f, flen);
    s[flen] = '\0';
    int rc = tz_rule_parse(s, &z->rule, err, errlen);
    free(s);
    if (rc != 0)
        return err_prefix(err, errlen, "TZif footer");
    z->has_rule = 1;
    return 0;
}

/* Reads a whole regular file of at most TZ_FILE_MAX bytes. */
static int read_zone_file(const char *path, unsigned char **out, size_t *outlen, char *err,
                          size_t errlen)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, errlen, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set(err, errlen, "%s: not a regular file", path);
    }
    if (st.st_size > TZ_FILE_MAX) {
        close(fd);
        return err_set(err, errlen, "%s: larger than %d bytes", path, TZ_FILE_MAX);
    }
    /* One byte more than allowed, to notice a file that grew meanwhile. */
    unsigned char *buf = malloc(TZ_FILE_MAX + 1);
    if (buf == NULL) {
        close(fd);
        return err_env(err, errlen, "out of memory");
    }
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, TZ_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return err_set(err, errlen, "%s: %s", path, strerror(e));
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > TZ_FILE_MAX) {
            free(buf);
            close(fd);
            return err_set(err, errlen, "%s: larger than %d bytes", path, TZ_FILE_MAX);
        }
    }
    close(fd);
    *out = buf;
    *outlen = len;
    return 0;
}

void tz_free(struct tz *z)
{
    if (z == NULL)
        return;
    free(z->name);
    free(z->times);
    free(z->idx);
    free(z->types);
    free(z);
}

int tz_load_from(const char *dir, const char *name, struct tz **out, char *err, size_t errlen)
{
    *out = NULL;
    if (name == NULL || !name_ok(name))
        return err_set(err, errlen, "time zone name \"%s\" is not a valid IANA name",
                       name ? name : "(null)");
    struct tz *z = calloc(1, sizeof *z);
    if (z == NULL || (z->name = strdup(name)) == NULL) {
        tz_free(z);
        return err_env(err, errlen, "out of memory");
    }
    if (strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0) {
        z->typecnt = 1;
        z->types = calloc(1, sizeof *z->types);
        if (z->types == NULL) {
            tz_free(z);
            return err_env(err, errlen, "out of memory");
        }
        *out = z;
        return 0;
    }
    if (dir == NULL || dir[0] == '\0') {
        dir = getenv("TZDIR");
        if (dir == NULL || dir[0] == '\0')
            dir = TZ_DIR_DEFAULT;
    }
    size_t plen = strlen(dir) + 1 + strlen(name) + 1;
    char *path = malloc(plen);
    if (path == NULL) {
        tz_free(z);
        return err_env(err, errlen, "out of memory");
    }
    snprintf(path, plen, "%s/%s", dir, name);
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_zone_file(path, &buf, &len, err, errlen);
    if (rc == 0) {
        rc = parse_tzif(z, buf, len, err, errlen);
        if (rc != 0)
            err_prefix(err, errlen, "%s", path);
    }
    free(buf);
    free(path);
    if (rc != 0) {
        tz_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

int tz_load(const char *name, struct tz **out, char *err, size_t errlen)
{
    return tz_load_from(NULL, name, out, err, errlen);
}

const char *tz_name(const struct tz *z)
{
    return z->name;
}

size_t tz_transitions(const struct tz *z, const int64_t **times)
{
    *times = z->times;
    return z->timecnt;
}

int32_t tz_offset(const struct tz *z, int64_t t)
{
    t = clamp_t(t);
    size_t n = z->timecnt;
    if (n == 0)
        return z->has_rule ? tz_rule_offset(&z->rule, t) : z->types[0].utoff;
    if (t < z->times[0])
        return z->types[0].utoff;
    if (t >= z->times[n - 1])
        return z->has_rule ? tz_rule_offset(&z->rule, t) : z->types[z->idx[n - 1]].utoff;
    /* The last transition at or before t: times[lo] <= t < times[hi]. */
    size_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->times[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->types[z->idx[lo]].utoff;
}

void tz_local(const struct tz *z, int64_t t, struct tz_local *out)
{
    t = clamp_t(t);
    memset(out, 0, sizeof *out);
    out->t = t;
    out->offset = tz_offset(z, t);
    int64_t local = t + out->offset;
    int64_t days = floor_div(local, SECS_PER_DAY);
    int sod = (int)(local - days * SECS_PER_DAY);
    int64_t y;
    civil_from_days(days, &y, &out->month, &out->day);
    out->year = (int)y;
    out->local_days = days;
    out->seconds_of_day = sod;
    out->hour = sod / SECS_PER_HOUR;
    out->minute = sod % SECS_PER_HOUR / 60;
    out->second = sod % 60;
    int64_t wd = (days + EPOCH_WEEKDAY_FROM_MONDAY) % 7;
    out->weekday = (int)(wd < 0 ? wd + 7 : wd);
}
