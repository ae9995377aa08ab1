/* radio-streamer --status: one terminal screen of what the station is
 * doing, read from state_dir (status.json, schedule.json, the lock's pid):
 * on air or not, what plays and what comes next, the last publish and
 * every problem the streamer reports. For an operator on the machine; the
 * same facts as status.json, in words. */
#ifndef RADIO_STATUS_SCREEN_H
#define RADIO_STATUS_SCREEN_H

#include <stddef.h>
#include <stdio.h>

#include "streamer_config.h"

enum status_verdict {
    STATUS_ON_AIR = 0,
    STATUS_OFF_AIR = 1,              /* not on air, not running, stale or not publishing */
};

/* What the screen is made from: the files' texts (NULL when missing) and
 * whether a streamer process holds the state directory (1, 0, -1 unknown). */
struct status_screen_in {
    const char *status_json;
    const char *schedule_json;
    int running;
    long pid;
    double now;
};

/* Prints the screen to out; returns the verdict. */
enum status_verdict status_screen_print(const struct status_screen_in *in, const struct streamer_config *cfg,
                                        FILE *out);
/* Reads cfg->state_dir and prints its screen. */
enum status_verdict status_screen_run(const struct streamer_config *cfg, double now, FILE *out);

#endif
