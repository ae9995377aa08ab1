#include "shuffle.h"

uint64_t shuffle_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t shuffle_below(uint64_t *state, uint64_t bound)
{
    /* 2^64 mod bound: the outputs below it would make small values likelier. */
    uint64_t floor = (0 - bound) % bound;
    for (;;) {
        uint64_t r = shuffle_next(state);
        if (r >= floor)
            return r % bound;
    }
}

void shuffle_longs(long *v, size_t n, uint64_t seed)
{
    uint64_t state = seed;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)shuffle_below(&state, (uint64_t)i);
        long t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
