/*
 * siphash.h - SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast
 * short-input PRF", 2012), the keyed hash behind values an off-path
 * attacker must not predict: TCP initial sequence numbers (RFC 6528) and
 * ephemeral port offsets (RFC 6056 §3.3.3).
 */
#ifndef US_CORE_SIPHASH_H
#define US_CORE_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct us_siphash_key {
	uint64_t k0, k1;
};

uint64_t us_siphash(const struct us_siphash_key *key, const void *data,
		    size_t len);

#endif
