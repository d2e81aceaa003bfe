/*
 * checksum.h - the Internet checksum (RFC 1071), incremental update
 * (RFC 1624) and the IPv4 pseudo-header sum used by UDP and TCP.
 *
 * Sums are kept unfolded in 32 bits (network byte order data summed as
 * 16-bit big-endian words) and folded once at the end.
 */
#ifndef US_CORE_CHECKSUM_H
#define US_CORE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Add len bytes at data to the running sum. An odd length pads with zero. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
/* Fold to 16 bits and complement: the value to store (host order). */
uint16_t csum_fold(uint32_t sum);
/* The checksum of a buffer: csum_fold(csum_partial(data, len, 0)). */
uint16_t inet_csum(const void *data, size_t len);
/*
 * Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768): saddr and daddr in
 * network byte order, proto, and the transport length.
 */
uint32_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint8_t proto,
			    uint16_t len, uint32_t sum);
/* RFC 1624 eqn. 3: update a stored checksum (host order) when a 16-bit
 * field changes from old to new (host order). */
uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new_);

#endif
