#include "dayparts_config.h"

#include "err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL_DAYS 0x7fu
#define WEEKDAYS 0x1fu
#define WEEKENDS 0x60u

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

static int day_bits(const char *s, unsigned *bits)
{
    int d = week_day(s);
    if (d >= 0)
        *bits = 1u << d;
    else if (strcmp(s, "daily") == 0)
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

static int part_from_cfg(struct part_cfg *pc, const char *where, struct dayparts_config_part *p, char *err, size_t errlen)
{
    if (!pc->name[0])
        return err_set(err, errlen, "%s: key \"name\" is required", where);
    if (!week_name_ok(pc->name))
        return err_set(err, errlen,
                       "%s: key \"name\" is \"%s\": use 1 to %d of A-Z a-z 0-9 . _ - (it names a file)", where,
                       pc->name, WEEK_NAME_MAX);
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
        if (p->when.days & bits)
            return err_set(err, errlen, "%s: key \"days\" names a day twice (item %zu, \"%s\")", where, i + 1,
                           pc->days.v[i]);
        p->when.days |= bits;
    }
    if (!pc->start[0])
        return err_set(err, errlen, "%s: key \"start\" is required (\"HH:MM\" or \"HH:MM:SS\")", where);
    if (week_parse_time(pc->start, 0, &p->when.start) != 0)
        return err_set(err, errlen, "%s: key \"start\" is \"%s\", not a time from \"00:00\" to before \"24:00\" "
                       "written \"HH:MM\" or \"HH:MM:SS\"", where, pc->start);
    if (!pc->end[0])
        return err_set(err, errlen, "%s: key \"end\" is required (\"HH:MM\" or \"HH:MM:SS\")", where);
    if (week_parse_time(pc->end, 1, &p->when.end) != 0)
        return err_set(err, errlen, "%s: key \"end\" is \"%s\", not a time after \"00:00\" up to \"24:00\" "
                       "written \"HH:MM\" or \"HH:MM:SS\"", where, pc->end);
    if (p->when.start == p->when.end)
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

static int check_overlaps(const struct dayparts_config *d, const char *origin, char *err, size_t errlen)
{
    for (size_t a = 0; a < d->n; a++)
        for (size_t b = a + 1; b < d->n; b++) {
            int64_t at;
            if (!week_overlap(&d->v[a].when, &d->v[b].when, &at))
                continue;
            char t[16];
            week_time_text((int)(at % WEEK_DAY_SECONDS), t, sizeof t);
            return err_set(err, errlen, "%s: key \"dayparts\": parts \"%s\" and \"%s\" overlap (both on air on %s "
                           "at %s)", origin, d->v[a].name, d->v[b].name, week_day_names[at / WEEK_DAY_SECONDS], t);
        }
    return 0;
}

int dayparts_config_parse(const char *list_json, const char *origin, struct dayparts_config *out, char *err, size_t errlen)
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
        dayparts_config_free(out);
    return rc;
}

static void free_list(struct cfg_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
}

void dayparts_config_free(struct dayparts_config *d)
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
