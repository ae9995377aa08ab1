/* The running order's rules from playlist.config.json, after the folder
 * scan: which file a `tracks` or `jingles` entry names, and in what order
 * the chosen music plays (as listed or by path, by artist and title, or a
 * seeded shuffle). Works on names and tags only, so it is tested without
 * audio. */
#ifndef RADIO_ORDER_RULES_H
#define RADIO_ORDER_RULES_H

#include <stddef.h>
#include <stdint.h>

enum order_rules_mode { ORDER_RULES_ORDERED, ORDER_RULES_ALPHABETICAL, ORDER_RULES_SHUFFLE };

/* The config's `mode` string; -1 for an unknown one. */
int order_rules_mode_parse(const char *name, enum order_rules_mode *mode);

enum order_rules_match { ORDER_RULES_FOUND, ORDER_RULES_MISSING, ORDER_RULES_AMBIGUOUS };

/* Which of relpaths[0..n) the list entry names. An exact relative path
 * wins; otherwise an entry without '/' is a bare file name, matched in
 * every folder. FOUND sets *index; AMBIGUOUS lists the candidates in why. */
enum order_rules_match order_rules_find(const char *const *relpaths, size_t n, const char *entry,
                                        size_t *index, char *why, size_t whylen);

/* A file the order may use. Tags may be empty; playable is 0 for a file
 * that failed (it is left out wherever it would have played). */
struct order_rules_item {
    const char *relpath;
    const char *artist;
    const char *title;
    int playable;
};

/* Writes the running order into out (room for npicks, or nitems when picks
 * is NULL) as indices into items, and returns how many it wrote. picks are
 * the list's entries as item indices (-1 for one that named nothing), or
 * NULL for every item in path order. A shuffle permutes the picks before
 * unplayable ones drop out, so a failing file does not reshuffle the rest.
 * Returns -1 when out of memory. */
long order_rules_arrange(const struct order_rules_item *items, size_t nitems, const long *picks,
                         size_t npicks, enum order_rules_mode mode, uint64_t seed, long *out);

#endif
