/*
 * random.h - a small seeded generator (xoshiro256**-style state seeded with
 * splitmix64), so that every random choice the stack makes (ephemeral ports,
 * ISNs, fault injection on the wire) replays from the seed.
 */
#ifndef US_CORE_RANDOM_H
#define US_CORE_RANDOM_H

#include <stdint.h>

struct us_rng {
	uint64_t s[4];
};

void us_rng_seed(struct us_rng *r, uint64_t seed);
uint64_t us_rng_next(struct us_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t us_rng_below(struct us_rng *r, uint64_t n);
/* True with probability ppm / 1,000,000. */
int us_rng_chance_ppm(struct us_rng *r, uint32_t ppm);

#endif
