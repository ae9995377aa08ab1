/* The week as day-parts see it: local days and times of day, spans that
 * start on some days and run past midnight if they must, and whether two
 * overlap. Setup checks what the operator wrote with it, the streamer
 * reads processed/dayparts.json with it, so both agree on every rule. */
#ifndef RADIO_WEEK_H
#define RADIO_WEEK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define WEEK_DAYS 7
#define WEEK_DAY_SECONDS 86400
#define WEEK_SECONDS ((int64_t)WEEK_DAYS * WEEK_DAY_SECONDS)
/* A part's name: it names a file in processed/dayparts/. */
#define WEEK_NAME_MAX 64

/* "mon" ... "sun": day 0 is Monday. */
extern const char *const week_day_names[WEEK_DAYS];

struct week_span {
    unsigned days;           /* bit d: starts on day d */
    int start, end;          /* local seconds after midnight; end <= start runs past midnight */
};

/* The day's index for "mon" ... "sun", or -1. */
int week_day(const char *name);
/* "HH:MM" or "HH:MM:SS", two digits each, as seconds after midnight: a
 * start from 00:00 to before 24:00, an end after 00:00 up to 24:00. */
int week_parse_time(const char *s, int is_end, int *out);
/* "HH:MM", or "HH:MM:SS" when the seconds are not 0. */
void week_time_text(int seconds, char *out, size_t len);
/* 1 to WEEK_NAME_MAX of A-Z a-z 0-9 . _ -, not "." or "..". */
int week_name_ok(const char *s);
/* The days as a JSON list of names in week order; NULL when out of memory. */
json_t *week_days_json(unsigned days);

/* Whether the span is on air at local week second w (0: Monday 00:00). */
int week_holds(const struct week_span *s, int64_t w);
/* 1 when both are on air at some second of the week (*at: one such, the
 * start of one of them), else 0. */
int week_overlap(const struct week_span *a, const struct week_span *b, int64_t *at);

#endif
