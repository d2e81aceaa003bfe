/*
 * checksum.c - Internet checksum (RFC 1071, RFC 1624); see checksum.h.
 */
#include "core/checksum.h"

#include <arpa/inet.h>

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t acc = sum;

	while (len >= 2) {
		acc += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		acc += (uint32_t)p[0] << 8;
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
