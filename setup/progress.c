#include "progress.h"

#include "clock.h"
#include "log.h"

#include <stdio.h>

#define PROGRESS_BAR_WIDTH 30

void progress_init(struct progress *p, int use_bar, int total, int64_t total_bytes)
{
    pthread_mutex_init(&p->lock, NULL);
    p->bar = use_bar;
    p->total = total;
    p->done = 0;
    p->total_bytes = total_bytes;
    p->done_bytes = 0;
    p->audio_seconds = 0;
    p->started = clock_system.mono(NULL);
}

static void fmt_eta(double s, char *out, size_t outlen)
{
    if (s < 0 || s > 360000)
        snprintf(out, outlen, "--");
    else if (s >= 3600)
        snprintf(out, outlen, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
    else
        snprintf(out, outlen, "%dm%02ds", (int)s / 60, (int)s % 60);
}

static void draw(struct progress *p)
{
    double elapsed = clock_system.mono(NULL) - p->started;
    double frac = p->total_bytes > 0 ? (double)p->done_bytes / (double)p->total_bytes
                                     : (p->total ? (double)p->done / p->total : 1);
    char eta[32];
    fmt_eta(frac > 0 ? elapsed * (1 - frac) / frac : -1, eta, sizeof eta);
    int filled = (int)(frac * PROGRESS_BAR_WIDTH + 0.5);
    char bar[PROGRESS_BAR_WIDTH + 1];
    for (int i = 0; i < PROGRESS_BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[PROGRESS_BAR_WIDTH] = '\0';
    fprintf(stderr, "\r\033[K[%s] %d/%d tracks, %.2f h audio, ETA %s", bar, p->done, p->total,
            p->audio_seconds / 3600, eta);
    fflush(stderr);
}

void progress_track_done(struct progress *p, const char *label, int64_t bytes, double duration, int ok)
{
    pthread_mutex_lock(&p->lock);
    p->done++;
    p->done_bytes += bytes;
    if (ok)
        p->audio_seconds += duration;
    if (p->bar) {
        draw(p);
    } else if (ok) {
        char done[32], secs[32];
        snprintf(done, sizeof done, "%d/%d", p->done, p->total);
        snprintf(secs, sizeof secs, "%.3f", duration);
        log_ev(LOG_INFO, "track processed", "track", label, "progress", done, "seconds", secs, NULL);
    }
    pthread_mutex_unlock(&p->lock);
}

void progress_finish(struct progress *p)
{
    if (p->bar && p->total) {
        fputc('\n', stderr);
        fflush(stderr);
    }
    pthread_mutex_destroy(&p->lock);
}
