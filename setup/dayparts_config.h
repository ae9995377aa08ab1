/* Day-parts: running orders for parts of the day or week, as the playlist
 * config's `dayparts` list states them (docs/playlist.md), checked and
 * turned into days and seconds. */
#ifndef RADIO_SETUP_DAYPARTS_CONFIG_H
#define RADIO_SETUP_DAYPARTS_CONFIG_H

#include <stddef.h>

#include "config.h"
#include "week.h"

struct dayparts_config_part {
    char name[WEEK_NAME_MAX + 1];
    struct week_span when;         /* local days it starts on, its start and end */
    struct cfg_strlist tracks;     /* as the main order's keys of the same names */
    char *mode;
    int seed;
    struct cfg_strlist jingles;
};

struct dayparts_config {
    struct dayparts_config_part *v;
    size_t n;
};

/* Parses the `dayparts` list (JSON text of a list of objects). Refuses
 * unknown keys, wrong types, bad names, days and times, duplicate names
 * and parts that overlap anywhere in the week, naming origin (the file),
 * the part and the key. */
int dayparts_config_parse(const char *list_json, const char *origin, struct dayparts_config *out, char *err,
                          size_t errlen);

void dayparts_config_free(struct dayparts_config *d);

#endif
