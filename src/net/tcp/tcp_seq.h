/*
 * tcp_seq.h - sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4).
 *
 * Sequence numbers wrap, so they are only ever compared through these
 * helpers (as OpenBSD's tcp_seq.h does): a is "before" b when the signed
 * 32-bit difference a - b is negative, which is right whenever the two are
 * less than 2^31 apart, as the window rules guarantee.
 */
#ifndef US_NET_TCP_SEQ_H
#define US_NET_TCP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool seq_leq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

static inline bool seq_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static inline bool seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* lo <= x <= hi, all modulo 2^32. */
static inline bool seq_between(uint32_t x, uint32_t lo, uint32_t hi)
{
	return hi - lo >= x - lo;
}

static inline uint32_t seq_max(uint32_t a, uint32_t b)
{
	return seq_gt(a, b) ? a : b;
}

static inline uint32_t seq_min(uint32_t a, uint32_t b)
{
	return seq_lt(a, b) ? a : b;
}

#endif
