/* A seeded shuffle that gives the same permutation on every machine:
 * SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014) drives a Fisher-Yates (Durstenfeld) shuffle,
 * and bounded draws reject the biased low range instead of taking a plain
 * modulo. Only fixed-width integer arithmetic, so no platform's rand(),
 * word size or floating point can change the result. */
#ifndef RADIO_SHUFFLE_H
#define RADIO_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

/* Advances *state and returns the next 64-bit output. */
uint64_t shuffle_next(uint64_t *state);

/* A uniform draw in [0, bound); bound must be at least 1. */
uint64_t shuffle_below(uint64_t *state, uint64_t bound);

/* Permutes v[0..n) in place; the same seed and n give the same moves. */
void shuffle_longs(long *v, size_t n, uint64_t seed);

#endif
