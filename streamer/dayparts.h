/* Day-parts: running orders for parts of the day or week, in local
 * wall-clock time of a named zone, read from processed/dayparts.json.
 * Outside every part processed/playlist.m3u plays. Which part is in force
 * is a pure function of an instant, so the streamer decides each track
 * boundary from its air time alone: a restart, a standby or a second
 * streamer on the same processed/ decides the same. Contract:
 * docs/programming.md. */
#ifndef RADIO_DAYPARTS_H
#define RADIO_DAYPARTS_H

#include <stddef.h>
#include <stdint.h>

#include "tz.h"
#include "week.h"

#define DAYPARTS_MAX_BYTES (1u << 20)
#define DAYPARTS_MAX_PARTS 200

struct dayparts_part {
    char name[WEEK_NAME_MAX + 1];
    char *playlist;          /* relative to processed/ */
    struct week_span when;
};

struct dayparts {
    struct tz *zone;
    struct dayparts_part *parts;
    size_t n;
};

/* Parses dayparts.json text: format, zone, parts (names, playlist paths
 * inside processed/, days, times), refusing parts that overlap anywhere
 * in the week. On failure *d is empty. */
int dayparts_parse(const char *text, size_t len, struct dayparts *d, char *err, size_t errlen);
void dayparts_free(struct dayparts *d);

/* The part in force at Unix time t: its index, or -1 (playlist.m3u). */
int dayparts_at(const struct dayparts *d, double t);

#endif
