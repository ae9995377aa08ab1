/* Injected time, so timelines and backoff are tested with a fake clock. */
#ifndef RADIO_CLOCK_H
#define RADIO_CLOCK_H

struct clock {
    /* Wall-clock seconds since the Unix epoch (UTC). */
    double (*now)(void *ctx);
    /* Monotonic seconds, for measuring intervals. */
    double (*mono)(void *ctx);
    /* Sleeps (or, for a fake clock, advances) by seconds. */
    void (*sleep)(void *ctx, double seconds);
    void *ctx;
};

/* The system clocks. */
extern const struct clock clock_system;

/* A fake clock for tests: time moves only when told or slept. */
struct clock_fake {
    double wall;
    double mono;
};
struct clock clock_fake_make(struct clock_fake *f);

#endif
