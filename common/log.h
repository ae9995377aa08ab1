/* One line per event on stderr: LEVEL TIME message key=value ...
 * Values containing spaces, quotes or control characters are quoted. */
#ifndef RADIO_LOG_H
#define RADIO_LOG_H

#include "err.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* Parses "debug", "info", "notice", "warn", "error"; returns -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out);

/* kv is a NULL-terminated list of key, value string pairs. */
void log_kv(enum log_level lvl, const char *msg, const char *const *kv);

/* Convenience: message formatted printf-style, with no key=value pairs. */
void log_msg(enum log_level lvl, const char *fmt, ...) ERR_PRINTF(2, 3);

/* key=value pairs are given as alternating const char * arguments ending
 * in NULL: log_ev(LOG_INFO, "track encoded", "file", path, "segments", "12", NULL). */
void log_ev(enum log_level lvl, const char *msg, ...);

#endif
