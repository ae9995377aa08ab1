/* The timeline's anchor, carried in every published playlist as a comment
 * line (players ignore lines that start with '#' but not '#EXT'). A standby
 * streamer with the same processed/ reads it back from the record it
 * receives and computes, from then on, the very playlists the active one
 * would have published: the anchor is all the timeline is a function of
 * besides the running order. */
#ifndef RADIO_TIMELINE_LINE_H
#define RADIO_TIMELINE_LINE_H

#include <stddef.h>

#include "schedule.h"

#define TIMELINE_LINE_TAG "#RADIO-TIMELINE:"
#define TIMELINE_LINE_MAX 256

/* The line, newline included, into out (TIMELINE_LINE_MAX bytes). The time
 * is written with 17 significant digits: it reads back as the same double. */
void timeline_line_format(const struct sched_anchor *a, char out[TIMELINE_LINE_MAX]);

/* Appends the line to a playlist text (malloc'd, NUL-terminated); on
 * failure the text is freed and *text is NULL. */
int timeline_line_append(char **text, size_t *len, const struct sched_anchor *a);

/* Finds the line in a playlist; 0 with *a filled, -1 when there is none or
 * it is malformed. */
int timeline_line_parse(const char *text, size_t len, struct sched_anchor *a);

#endif
