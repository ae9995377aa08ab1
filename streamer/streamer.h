/* The daemon: the clock drives the station, each new playlist goes to the
 * publisher, processed/ is watched for a new running order, and the state
 * and status files are kept current. */
#ifndef RADIO_STREAMER_H
#define RADIO_STREAMER_H

#include <signal.h>

#include "clock.h"
#include "streamer_config.h"

struct streamer_signals {
    volatile sig_atomic_t stop;
    volatile sig_atomic_t reload;
    int wake_fd;             /* read end of a self-pipe the signal handler writes to, or -1 */
};

/* Runs until sig->stop. Returns 0 after a clean stop, -1 if it could not
 * start (message in err). */
int streamer_run(const struct streamer_config *cfg, const struct clock *clk,
                 struct streamer_signals *sig, char *err, size_t errlen);

#endif
