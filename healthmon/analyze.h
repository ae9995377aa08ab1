/* radio-healthmon --analyze FILE...: the audio half of a round, offline.
 * The files are decoded and measured exactly as a round measures the
 * segments it fetched (in order, as consecutive air time), so an operator
 * can check a suspicious segment and the tests can compare the meter with
 * ffmpeg's. */
#ifndef RADIO_HM_ANALYZE_H
#define RADIO_HM_ANALYZE_H

#include <stddef.h>

#include "hm_config.h"

/* Prints the measurement as JSON to stdout. Returns 0 if audio was
 * measured, -1 (with a message) if no file decoded or one was unreadable. */
int hm_analyze_files(const struct hm_config *cfg, char *const *files, size_t n,
                     char *err, size_t errlen);

#endif
