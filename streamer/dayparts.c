#include "dayparts.h"

#include "err.h"
#include "json_file.h"
#include "manifest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dayparts_free(struct dayparts *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->parts[i].playlist);
    free(d->parts);
    if (d->zone)
        tz_free(d->zone);
    memset(d, 0, sizeof *d);
}

/* A path inside processed/: relative, no "..", no empty or hidden parts. */
static int inside_path(const char *p)
{
    if (!p[0] || strlen(p) > 1024)
        return 0;
    for (const char *c = p; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == '\\')
            return 0;
    const char *seg = p;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t l = slash ? (size_t)(slash - seg) : strlen(seg);
        if (l == 0 || seg[0] == '.')
            return 0;
        if (!slash)
            return 1;
        seg = slash + 1;
    }
}

static int parse_part(json_t *o, size_t i, struct dayparts_part *p, char *err, size_t errlen)
{
    json_t *name = json_object_get(o, "name"), *pl = json_object_get(o, "playlist"),
           *days = json_object_get(o, "days"), *start = json_object_get(o, "start"), *end = json_object_get(o, "end");
    if (!json_is_object(o))
        return err_set(err, errlen, "\"parts\" item %zu must be an object", i + 1);
    if (!json_is_string(name) || !week_name_ok(json_string_value(name)))
        return err_set(err, errlen, "\"parts\" item %zu: \"name\" must be 1 to %d of A-Z a-z 0-9 . _ -", i + 1,
                       WEEK_NAME_MAX);
    snprintf(p->name, sizeof p->name, "%s", json_string_value(name));
    if (!json_is_string(pl) || !inside_path(json_string_value(pl)))
        return err_set(err, errlen, "part \"%s\": \"playlist\" must be a path inside processed/", p->name);
    if (!(p->playlist = strdup(json_string_value(pl))))
        return err_set(err, errlen, "out of memory");
    if (!json_is_array(days) || json_array_size(days) == 0 || json_array_size(days) > 7)
        return err_set(err, errlen, "part \"%s\": \"days\" must list 1 to 7 of mon tue wed thu fri sat sun", p->name);
    for (size_t k = 0; k < json_array_size(days); k++) {
        int found = week_day(json_string_value(json_array_get(days, k)));
        if (found < 0 || (p->when.days & (1u << found)))
            return err_set(err, errlen, "part \"%s\": \"days\" item %zu is not a day (mon ... sun) listed once",
                           p->name, k + 1);
        p->when.days |= 1u << found;
    }
    if (!json_is_string(start) || week_parse_time(json_string_value(start), 0, &p->when.start) != 0)
        return err_set(err, errlen, "part \"%s\": \"start\" must be a local time HH:MM or HH:MM:SS before 24:00",
                       p->name);
    if (!json_is_string(end) || week_parse_time(json_string_value(end), 1, &p->when.end) != 0)
        return err_set(err, errlen, "part \"%s\": \"end\" must be a local time HH:MM or HH:MM:SS after 00:00, "
                       "up to 24:00", p->name);
    if (p->when.end == p->when.start)
        return err_set(err, errlen, "part \"%s\": \"start\" and \"end\" are the same time", p->name);
    return 0;
}

int dayparts_parse(const char *text, size_t len, struct dayparts *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    json_t *root;
    if (json_versioned_parse(text, len, DAYPARTS_FORMAT, DAYPARTS_VERSION, &root, err, errlen) != 0)
        return -1;
    int rc = -1;
    json_t *zone = json_object_get(root, "time_zone"), *parts = json_object_get(root, "parts");
    if (!json_is_string(zone)) {
        err_set(err, errlen, "\"time_zone\" must be a zone name such as \"UTC\" or \"Europe/Berlin\"");
        goto out;
    }
    if (tz_load(json_string_value(zone), &d->zone, err, errlen) != 0) {
        err_prefix(err, errlen, "\"time_zone\"");
        goto out;
    }
    if (!json_is_array(parts) || json_array_size(parts) > DAYPARTS_MAX_PARTS) {
        err_set(err, errlen, "\"parts\" must be a list of at most %d parts", DAYPARTS_MAX_PARTS);
        goto out;
    }
    if (json_array_size(parts) && !(d->parts = calloc(json_array_size(parts), sizeof *d->parts))) {
        err_set(err, errlen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(parts); i++) {
        struct dayparts_part *p = &d->parts[d->n++];
        if (parse_part(json_array_get(parts, i), i, p, err, errlen) != 0)
            goto out;
        for (size_t k = 0; k + 1 < d->n; k++) {
            if (strcmp(d->parts[k].name, p->name) == 0) {
                err_set(err, errlen, "two parts are called \"%s\"", p->name);
                goto out;
            }
            int64_t at;
            if (week_overlap(&d->parts[k].when, &p->when, &at)) {
                char t[16];
                week_time_text((int)(at % WEEK_DAY_SECONDS), t, sizeof t);
                err_set(err, errlen, "parts \"%s\" and \"%s\" overlap (both on air on %s at %s)", d->parts[k].name,
                        p->name, week_day_names[at / WEEK_DAY_SECONDS], t);
                goto out;
            }
        }
    }
    rc = 0;
out:
    json_decref(root);
    if (rc != 0)
        dayparts_free(d);
    return rc;
}

int dayparts_at(const struct dayparts *d, double t)
{
    if (!d->zone || d->n == 0)
        return -1;
    struct tz_local l;
    tz_local(d->zone, (int64_t)floor(t), &l);
    int64_t w = (int64_t)l.weekday * WEEK_DAY_SECONDS + l.seconds_of_day;
    for (size_t i = 0; i < d->n; i++)
        if (week_holds(&d->parts[i].when, w))
            return (int)i;
    return -1;
}
