/*
 * checksum.c - Internet checksum (RFC 1071, RFC 1624); see checksum.h.
 */
#include "core/checksum.h"

#include <arpa/inet.h>
#include <string.h>

/*
 * The sum of the 16-bit words in the machine's own order, folded to 16
 * bits. RFC 1071 §2 (B): the ones' complement sum does not depend on byte
 * order except for a swap of the result, so 8 bytes are added at a time
 * (each half into a 64-bit accumulator that cannot overflow before 16 GB)
 * and the result is swapped once at the end.
 */
static uint16_t csum_native(const uint8_t *p, size_t len)
{
	uint64_t acc = 0;

	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		acc += (w & 0xffffffffu) + (w >> 32);
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;
	uint16_t w = csum_native(p, len & ~(size_t)1);

	/* In network order the sum reads as ntohs() of the native one. */
	acc += ntohs(w);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_csum(const void *data, size_t len)
{
	return csum_fold(csum_partial(data, len, 0));
}

uint32_t csum_tcpudp_nofold(uint32_t saddr, uint32_t daddr, uint8_t proto,
			    uint16_t len, uint32_t sum)
{
	uint64_t acc = sum;
	uint32_t s = ntohl(saddr), d = ntohl(daddr);

	acc += (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff);
	acc += proto;
	acc += len;
	while (acc >> 32)
		acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint16_t csum_replace2(uint16_t check, uint16_t old, uint16_t new_)
{
	/* HC' = ~(~HC + ~m + m') */
	uint32_t sum = (uint16_t)~check;

	sum += (uint16_t)~old;
	sum += new_;
	return csum_fold(sum);
}
