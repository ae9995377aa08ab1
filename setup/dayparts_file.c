#include "dayparts_file.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void dayparts_file_playlist(const struct dayparts_config_part *p, char *rel, size_t len)
{
    snprintf(rel, len, DAYPARTS_DIR "/%s.m3u", p->name);
}

static json_t *part_json(const struct dayparts_config_part *p)
{
    json_t *days = week_days_json(p->when.days);
    char rel[WEEK_NAME_MAX + 32], start[16], end[16];
    dayparts_file_playlist(p, rel, sizeof rel);
    week_time_text(p->when.start, start, sizeof start);
    week_time_text(p->when.end, end, sizeof end);
    return json_pack("{s:s, s:s, s:o, s:s, s:s}", "name", p->name, "playlist", rel, "days", days, "start", start,
                     "end", end);
}

char *dayparts_file_json(const struct dayparts_config *d, const char *time_zone)
{
    json_t *parts = json_array();
    for (size_t i = 0; parts && i < d->n; i++)
        if (json_array_append_new(parts, part_json(&d->v[i])) != 0) {
            json_decref(parts);
            parts = NULL;
        }
    json_t *o = json_pack("{s:s, s:i, s:s, s:o}", "format", DAYPARTS_FORMAT, "version", DAYPARTS_VERSION,
                          "time_zone", time_zone, "parts", parts);
    char *s = o ? json_dumps(o, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!s)
        return NULL;
    /* Ends in a newline like the other files setup writes. */
    size_t len = strlen(s);
    char *t = realloc(s, len + 2);
    if (!t) {
        free(s);
        return NULL;
    }
    memcpy(t + len, "\n", 2);
    return t;
}

void dayparts_file_prune(const char *processed_dir, const struct dayparts_config *d)
{
    char dir[4096];
    if ((size_t)snprintf(dir, sizeof dir, "%s/" DAYPARTS_DIR, processed_dir) >= sizeof dir)
        return;
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    struct dirent *e;
    while ((e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        int named = 0;
        for (size_t i = 0; i < d->n && !named; i++) {
            char rel[WEEK_NAME_MAX + 32];
            dayparts_file_playlist(&d->v[i], rel, sizeof rel);
            named = strcmp(rel + strlen(DAYPARTS_DIR "/"), e->d_name) == 0;
        }
        char p[4096 + 256];
        if (!named && (size_t)snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < sizeof p)
            unlink(p);
    }
    closedir(dh);
    if (d->n == 0)
        rmdir(dir);
}
