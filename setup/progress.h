/* What an operator watches during a long setup: a bar on a terminal
 * (tracks, audio hours, ETA), otherwise one log line per track. */
#ifndef RADIO_PROGRESS_H
#define RADIO_PROGRESS_H

#include <pthread.h>
#include <stdint.h>

struct progress {
    pthread_mutex_t lock;
    int bar;
    int total;
    int done;
    int64_t total_bytes;     /* source bytes: the ETA's measure of work */
    int64_t done_bytes;
    double audio_seconds;
    double started;          /* monotonic */
};

void progress_init(struct progress *p, int use_bar, int total, int64_t total_bytes);
/* A track finished (ok or skipped); duration is its audio length. */
void progress_track_done(struct progress *p, const char *label, int64_t bytes, double duration, int ok);
void progress_finish(struct progress *p);

#endif
