/* What is coming: the tracks due on air from the one playing now to a
 * horizon ahead, each with its first media sequence number, air time and
 * duration. It is the schedule a program deciding what plays (a scheduler,
 * a consensus engine) reads from state_dir/schedule.json; see
 * docs/programming.md. Pure: time comes in as an argument. */
#ifndef RADIO_UPCOMING_H
#define RADIO_UPCOMING_H

#include <stddef.h>

#include "schedule.h"

#define UPCOMING_FORMAT "ipfs-radio-schedule"
#define UPCOMING_VERSION 1
#define UPCOMING_FILE "schedule.json"

/* The schedule from the track on air at `now` to the first track starting
 * after now + horizon, as JSON text (*out, malloc'd). */
int upcoming_render(const struct sched *s, double now, double horizon, char **out, size_t *len, char *err,
                    size_t errlen);

/* Keeps state_dir/schedule.json current: rewritten (atomically) only when
 * what is coming changed, which is at a track boundary or a new order. */
struct upcoming_writer {
    char path[4096];
    double horizon;                 /* seconds; 0: no file */
    char *last;                     /* the text last written */
};

int upcoming_writer_init(struct upcoming_writer *w, const char *state_dir, double horizon, char *err,
                         size_t errlen);
/* 1 when the file was rewritten, 0 when unchanged, -1 on error. */
int upcoming_write(struct upcoming_writer *w, const struct sched *s, double now, char *err, size_t errlen);
void upcoming_writer_free(struct upcoming_writer *w);

#endif
