/* processed/dayparts.json and processed/dayparts/: what the streamer
 * reads to switch running orders by the clock (docs/programming.md). */
#ifndef RADIO_SETUP_DAYPARTS_FILE_H
#define RADIO_SETUP_DAYPARTS_FILE_H

#include <stddef.h>

#include "dayparts_config.h"
#include "manifest.h"

#define DAYPARTS_DIR "dayparts"

/* The file's text; NULL when out of memory. */
char *dayparts_file_json(const struct dayparts_config *d, const char *time_zone);

/* A part's playlist, relative to processed/: "dayparts/<name>.m3u". */
void dayparts_file_playlist(const struct dayparts_config_part *p, char *rel, size_t len);

/* Deletes the files in processed/dayparts/ that no part of d names, and
 * the folder when it is left empty. Only after the dayparts.json that
 * named them is gone or replaced. */
void dayparts_file_prune(const char *processed_dir, const struct dayparts_config *d);

#endif
