/* The station's program: every running order processed/ offers (the main
 * playlist.m3u and one per day-part), which of them plays at each track
 * boundary, and where each order left off. The decision at a boundary
 * depends only on its air time and on the positions remembered with the
 * state, so a restart decides the same. Contract: docs/programming.md. */
#ifndef RADIO_PROGRAM_H
#define RADIO_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "dayparts.h"
#include "order.h"
#include "station.h"

/* Orders whose place is remembered: more than a week's day-parts need. */
#define PROGRAM_MAX_POSITIONS 64

struct program {
    char origin[4096];           /* where the texts came from, for messages */
    struct order_texts base;     /* manifest.json and playlist.m3u as read */
    struct dayparts dp;          /* zone NULL: no dayparts.json */
    char **part_text;            /* each part's playlist as read, until its order is built */
    size_t *part_len;
    struct order *orders;        /* [0]: playlist.m3u's order; [1 + i]: part i's */
    int rate;                    /* the manifest's sample rate */
    int max_target;              /* the largest target duration any of the orders needs */
};

/* Checks an order before the program is accepted (timing, node): 0 or -1
 * with a message. */
typedef int (*program_check_fn)(void *ctx, const struct order *o, char *err, size_t errlen);

/* Reads manifest.json, playlist.m3u, dayparts.json (optional) and the
 * day-parts' playlists, builds every order and runs `check` (may be NULL)
 * on each. Whatever the files hold, *p is either the whole program or
 * empty. */
int program_read(const char *processed_dir, program_check_fn check, void *ctx, struct program *p, char *err,
                 size_t errlen);
/* A program of one order from texts (taken over): a copy kept elsewhere. */
int program_from_texts(struct order_texts *base, const char *origin, struct program *p, char *err, size_t errlen);
void program_free(struct program *p);

/* A copy of the order of `part` (-1: playlist.m3u). */
int program_order(const struct program *p, int part, struct order *o, char *err, size_t errlen);
/* The order a starting streamer opens with: the one its remembered
 * timeline plays when processed/ still offers it, else the order of the
 * part in force at `now`. *part gets that part (-1: playlist.m3u). */
int program_opening(const struct program *p, const struct station_memory *mem, double now, struct order *o,
                    int *part, char *err, size_t errlen);
/* The part whose order has this id (-1: playlist.m3u's), or -2: none. */
int program_part_of(const struct program *p, const char *order_id);
const char *program_part_name(const struct program *p, int part);

struct program_position {
    char order[65];
    int64_t offset;              /* the order's segment index where it goes on */
};

struct program_memory {
    struct program_position v[PROGRAM_MAX_POSITIONS]; /* most recent last */
    size_t n;
};

/* Records where an order goes on (replacing an earlier place). */
void program_memory_put(struct program_memory *m, const char *order_id, int64_t offset);

/* Decides the next boundary of the running order: when the part in force
 * at its air time plays another order, that order goes on there, where it
 * left off (from its top the first time), and the current one's place is
 * remembered. Returns 1 when it switched (*at: the sequence number the
 * order starts at; save the state), 0 when the order stays, -1 on error.
 * *part gets the part in force there. */
int program_step(const struct program *p, struct program_memory *mem, struct station *st, double now, int64_t *at,
                 int *part, char *err, size_t errlen);

/* What is coming, day-part switches included: when a boundary after the
 * one decided, up to `horizon` seconds ahead, will switch orders, *out
 * gets a copy of the station's timeline with those switches made (orders
 * coming back where they left off; station IDs, decided later, are not
 * foreseen), its order naming the order on air now, as schedule.json
 * does. Returns 1 then (free *out with sched_free), 0 when the timeline
 * as it stands holds for the horizon (*out untouched), -1 on error. */
int program_forecast(const struct program *p, const struct program_memory *mem, const struct station *st,
                     double now, double horizon, struct sched *out, char *err, size_t errlen);

#endif
