/*
 * random.c - xoshiro256** seeded with splitmix64 (public-domain algorithms
 * by Blackman and Vigna, written here from their description).
 */
#include "core/random.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void us_rng_seed(struct us_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t us_rng_next(struct us_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t us_rng_below(struct us_rng *r, uint64_t n)
{
	/* Rejection sampling keeps it unbiased. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t v;

	do {
		v = us_rng_next(r);
	} while (v >= limit);
	return v % n;
}

int us_rng_chance_ppm(struct us_rng *r, uint32_t ppm)
{
	return ppm && us_rng_below(r, 1000000) < ppm;
}
