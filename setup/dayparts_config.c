#include "dayparts_config.h"

#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WEEK_SECONDS (DAYPARTS_WEEK_DAYS * DAYPARTS_DAY_SECONDS)
#define ALL_DAYS 0x7fu
#define WEEKDAYS 0x1fu
#define WEEKENDS 0x60u

const char *const dayparts_day_names[DAYPARTS_WEEK_DAYS] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* One part as written, checked key by key with the config's own schema. */
struct part_cfg {
    char *name;
    struct cfg_strlist days;
    char *start;
    char *end;
    struct cfg_strlist tracks;
    char *mode;
    int seed;
    struct cfg_strlist jingles;
};

#define D(name, type, def, lo, hi, choices) \
    {#name, type, offsetof(struct part_cfg, name), def, lo, hi, choices, ""}

static const struct cfg_key part_keys[] = {
    D(name, CFG_STRING, "\"\"", 0, 0, NULL),
    D(days, CFG_STRING_LIST, "[]", 0, 0, NULL),
    D(start, CFG_STRING, "\"\"", 0, 0, NULL),
    D(end, CFG_STRING, "\"\"", 0, 0, NULL),
    D(tracks, CFG_STRING_LIST, "[]", 0, 0, NULL),
    D(mode, CFG_STRING, "\"ordered\"", 0, 0, "ordered|alphabetical|shuffle"),
    D(seed, CFG_INT, "0", 0, 2147483647, NULL),
    D(jingles, CFG_STRING_LIST, "[]", 0, 0, NULL),
};
#define NPART_KEYS (sizeof part_keys / sizeof part_keys[0])

static int two_digits(const char *p, int *v)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return 0;
}

/* "HH:MM" or "HH:MM:SS", two digits each, as seconds after midnight; 24:00 only as an end. */
static int parse_time(const char *s, int is_end, int *out)
{
    size_t len = strlen(s);
    int h, m, sec = 0;
    if ((len != 5 && len != 8) || two_digits(s, &h) != 0 || s[2] != ':' || two_digits(s + 3, &m) != 0 ||
        (len == 8 && (s[5] != ':' || two_digits(s + 6, &sec) != 0)))
        return -1;
    if (h > 24 || m > 59 || sec > 59)
        return -1;
    int t = (h * 60 + m) * 60 + sec;
    if (t > DAYPARTS_DAY_SECONDS || (t == DAYPARTS_DAY_SECONDS && !is_end) || (t == 0 && is_end))
        return -1;
    *out = t;
    return 0;
}

static int name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > DAYPARTS_NAME_MAX)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '_' || *p == '-'))
            return 0;
    /* It becomes a file name in processed/dayparts/. */
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int day_bits(const char *s, unsigned *bits)
{
    for (int d = 0; d < DAYPARTS_WEEK_DAYS; d++)
        if (strcmp(s, dayparts_day_names[d]) == 0) {
            *bits = 1u << d;
            return 0;
        }
    if (strcmp(s, "daily") == 0)
        *bits = ALL_DAYS;
    else if (strcmp(s, "weekdays") == 0)
        *bits = WEEKDAYS;
    else if (strcmp(s, "weekends") == 0)
        *bits = WEEKENDS;
    else
        return -1;
    return 0;
}

static int strlist_check(const struct cfg_strlist *l, const char *key, const char *where, char *err, size_t errlen)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->v[i][0])
            return err_set(err, errlen, "%s: key \"%s\" item %zu is empty", where, key, i + 1);
    return 0;
}

static void take_list(struct cfg_strlist *to, struct cfg_strlist *from)
{
    *to = *from;
    from->v = NULL;
    from->n = 0;
}

static int part_from_cfg(struct part_cfg *pc, const char *where, struct daypart *p, char *err, size_t errlen)
{
    if (!pc->name[0])
        return err_set(err, errlen, "%s: key \"name\" is required", where);
    if (!name_ok(pc->name))
        return err_set(err, errlen,
                       "%s: key \"name\" is \"%s\": use 1 to %d of A-Z a-z 0-9 . _ - (it names a file)", where,
                       pc->name, DAYPARTS_NAME_MAX);
    snprintf(p->name, sizeof p->name, "%s", pc->name);
    if (pc->days.n == 0)
        return err_set(err, errlen, "%s: key \"days\" is required (days of the week, \"daily\", \"weekdays\" or "
                       "\"weekends\")", where);
    for (size_t i = 0; i < pc->days.n; i++) {
        unsigned bits;
        if (day_bits(pc->days.v[i], &bits) != 0)
            return err_set(err, errlen,
                           "%s: key \"days\" item %zu is \"%s\", not one of mon, tue, wed, thu, fri, sat, sun, "
                           "daily, weekdays, weekends", where, i + 1, pc->days.v[i]);
        if (p->days & bits)
            return err_set(err, errlen, "%s: key \"days\" names a day twice (item %zu, \"%s\")", where, i + 1,
                           pc->days.v[i]);
        p->days |= bits;
    }
    if (!pc->start[0])
        return err_set(err, errlen, "%s: key \"start\" is required (\"HH:MM\" or \"HH:MM:SS\")", where);
    if (parse_time(pc->start, 0, &p->start) != 0)
        return err_set(err, errlen, "%s: key \"start\" is \"%s\", not a time from \"00:00\" to before \"24:00\" "
                       "written \"HH:MM\" or \"HH:MM:SS\"", where, pc->start);
    if (!pc->end[0])
        return err_set(err, errlen, "%s: key \"end\" is required (\"HH:MM\" or \"HH:MM:SS\")", where);
    if (parse_time(pc->end, 1, &p->end) != 0)
        return err_set(err, errlen, "%s: key \"end\" is \"%s\", not a time after \"00:00\" up to \"24:00\" "
                       "written \"HH:MM\" or \"HH:MM:SS\"", where, pc->end);
    if (p->start == p->end)
        return err_set(err, errlen, "%s: keys \"start\" and \"end\" are the same time (%s): an empty part, or a "
                       "whole day? Give a different end", where, pc->start);
    if (strlist_check(&pc->tracks, "tracks", where, err, errlen) != 0 ||
        strlist_check(&pc->jingles, "jingles", where, err, errlen) != 0)
        return -1;
    p->mode = pc->mode;
    pc->mode = NULL;
    p->seed = pc->seed;
    take_list(&p->tracks, &pc->tracks);
    take_list(&p->jingles, &pc->jingles);
    return 0;
}

/* Where the part is on air, as up to two spans of the week [from, to) per day it starts on. */
struct span {
    int from, to;
    size_t part;
};

static size_t part_spans(const struct daypart *p, size_t idx, struct span *out)
{
    size_t n = 0;
    int len = p->end > p->start ? p->end - p->start : DAYPARTS_DAY_SECONDS - p->start + p->end;
    for (int d = 0; d < DAYPARTS_WEEK_DAYS; d++) {
        if (!(p->days & (1u << d)))
            continue;
        int from = d * DAYPARTS_DAY_SECONDS + p->start, to = from + len;
        if (to <= WEEK_SECONDS) {
            out[n++] = (struct span){from, to, idx};
        } else {
            /* Past Sunday midnight: the rest is Monday's. */
            out[n++] = (struct span){from, WEEK_SECONDS, idx};
            out[n++] = (struct span){0, to - WEEK_SECONDS, idx};
        }
    }
    return n;
}

static int check_overlaps(const struct dayparts *d, const char *origin, char *err, size_t errlen)
{
    struct span *s = calloc(d->n * (DAYPARTS_WEEK_DAYS + 1) + 1, sizeof *s);
    if (!s)
        return err_env(err, errlen, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < d->n; i++)
        n += part_spans(&d->v[i], i, s + n);
    int rc = 0;
    for (size_t a = 0; a < n && rc == 0; a++)
        for (size_t b = a + 1; b < n && rc == 0; b++) {
            if (s[a].part == s[b].part || s[a].from >= s[b].to || s[b].from >= s[a].to)
                continue;
            int at = s[a].from > s[b].from ? s[a].from : s[b].from;
            char t[16];
            dayparts_time_text(at % DAYPARTS_DAY_SECONDS, t, sizeof t);
            size_t first = s[a].part < s[b].part ? s[a].part : s[b].part;
            size_t second = s[a].part < s[b].part ? s[b].part : s[a].part;
            rc = err_set(err, errlen, "%s: key \"dayparts\": parts \"%s\" and \"%s\" overlap (both on air on %s at "
                         "%s)", origin, d->v[first].name, d->v[second].name,
                         dayparts_day_names[at / DAYPARTS_DAY_SECONDS], t);
        }
    free(s);
    return rc;
}

int dayparts_parse(const char *list_json, const char *origin, struct dayparts *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *list = json_loads(list_json, JSON_REJECT_DUPLICATES, &je);
    if (!list || !json_is_array(list)) {
        json_decref(list);
        return err_set(err, errlen, "%s: key \"dayparts\" must be a list of objects", origin);
    }
    size_t n = json_array_size(list);
    out->v = calloc(n + 1, sizeof *out->v);
    if (!out->v) {
        json_decref(list);
        return err_env(err, errlen, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        json_t *o = json_array_get(list, i);
        const char *nm = json_string_value(json_object_get(o, "name"));
        char where[512];
        if (nm)
            snprintf(where, sizeof where, "%s: dayparts item %zu (\"%.64s\")", origin, i + 1, nm);
        else
            snprintf(where, sizeof where, "%s: dayparts item %zu", origin, i + 1);
        char *text = json_is_object(o) ? json_dumps(o, JSON_COMPACT) : NULL;
        if (!text) {
            rc = err_set(err, errlen, "%s: must be an object", where);
            break;
        }
        struct part_cfg pc = {0};
        rc = cfg_load(NULL, part_keys, NPART_KEYS, &pc, err, errlen);
        if (rc == 0)
            rc = cfg_apply_json(text, where, part_keys, NPART_KEYS, &pc, err, errlen);
        if (rc == 0)
            rc = part_from_cfg(&pc, where, &out->v[out->n], err, errlen);
        out->n++;
        cfg_free(part_keys, NPART_KEYS, &pc);
        free(text);
        for (size_t k = 0; rc == 0 && k + 1 < out->n; k++)
            if (strcmp(out->v[k].name, out->v[out->n - 1].name) == 0)
                rc = err_set(err, errlen, "%s: key \"name\": \"%s\" is also item %zu's name; names must differ",
                             where, out->v[k].name, k + 1);
    }
    json_decref(list);
    if (rc == 0)
        rc = check_overlaps(out, origin, err, errlen);
    if (rc != 0)
        dayparts_free(out);
    return rc;
}

static void free_list(struct cfg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

void dayparts_free(struct dayparts *d)
{
    for (size_t i = 0; d->v && i < d->n; i++) {
        free_list(&d->v[i].tracks);
        free_list(&d->v[i].jingles);
        free(d->v[i].mode);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

void dayparts_time_text(int seconds, char *out, size_t outlen)
{
    int h = seconds / 3600, m = seconds / 60 % 60, s = seconds % 60;
    if (s)
        snprintf(out, outlen, "%02d:%02d:%02d", h, m, s);
    else
        snprintf(out, outlen, "%02d:%02d", h, m);
}
