/* Day-parts: running orders for parts of the day or week, as the playlist
 * config's `dayparts` list states them (docs/playlist.md), checked and
 * turned into days and seconds. */
#ifndef RADIO_SETUP_DAYPARTS_CONFIG_H
#define RADIO_SETUP_DAYPARTS_CONFIG_H

#include <stddef.h>

#include "config.h"

#define DAYPARTS_NAME_MAX 64
#define DAYPARTS_DAY_SECONDS 86400
#define DAYPARTS_WEEK_DAYS 7

struct daypart {
    char name[DAYPARTS_NAME_MAX + 1];
    unsigned days;                 /* bit d: the part starts on day d, 0 = Monday */
    int start, end;                /* local seconds after midnight; end <= start runs past midnight */
    struct cfg_strlist tracks;     /* as the main order's keys of the same names */
    char *mode;
    int seed;
    struct cfg_strlist jingles;
};

struct dayparts {
    struct daypart *v;
    size_t n;
};

/* "mon" .. "sun". */
extern const char *const dayparts_day_names[DAYPARTS_WEEK_DAYS];

/* Parses the `dayparts` list (JSON text of a list of objects). Refuses
 * unknown keys, wrong types, bad names, days and times, duplicate names
 * and parts that overlap anywhere in the week, naming origin (the file),
 * the part and the key. */
int dayparts_parse(const char *list_json, const char *origin, struct dayparts *out, char *err, size_t errlen);

void dayparts_free(struct dayparts *d);

/* "HH:MM", or "HH:MM:SS" when the seconds are not 0. */
void dayparts_time_text(int seconds, char *out, size_t outlen);

#endif
