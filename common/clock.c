#include "clock.h"

#include <errno.h>
#include <time.h>

static double sys_now(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double sys_mono(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sys_sleep(void *ctx, double seconds)
{
    (void)ctx;
    if (seconds <= 0)
        return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

const struct clock clock_system = {sys_now, sys_mono, sys_sleep, NULL};

static double fake_now(void *ctx) { return ((struct clock_fake *)ctx)->wall; }
static double fake_mono(void *ctx) { return ((struct clock_fake *)ctx)->mono; }
static void fake_sleep(void *ctx, double s)
{
    struct clock_fake *f = ctx;
    if (s > 0) {
        f->wall += s;
        f->mono += s;
    }
}

struct clock clock_fake_make(struct clock_fake *f)
{
    struct clock c = {fake_now, fake_mono, fake_sleep, f};
    return c;
}
