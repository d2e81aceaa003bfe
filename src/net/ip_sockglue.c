/*
 * ip_sockglue.c - the IPPROTO_IP socket options (Linux's
 * net/ipv4/ip_sockglue.c): IP_TOS and IP_TTL so far.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/sock.h"

int ip_setsockopt(struct sock *sk, int optname, const void *optval,
		  socklen_t optlen)
{
	int val = 0;

	if (optname != IP_TOS && optname != IP_TTL)
		return -ENOPROTOOPT;
	/* Linux takes an int, or a single byte for these two. */
	if (optlen >= sizeof(int)) {
		if (!optval)
			return -EFAULT;
		memcpy(&val, optval, sizeof(int));
	} else if (optlen >= 1) {
		if (!optval)
			return -EFAULT;
		val = *(const unsigned char *)optval;
	} else {
		return -EINVAL;
	}
	switch (optname) {
	case IP_TOS:
		sk->tos = (uint8_t)val;
		return 0;
	case IP_TTL:
		if (optlen < 1)
			return -EINVAL;
		if (val != -1 && (val < 1 || val > 255))
			return -EINVAL;
		sk->ttl = val;
		return 0;
	}
	return -ENOPROTOOPT;
}

int ip_getsockopt(struct sock *sk, int optname, void *optval,
		  socklen_t *optlen)
{
	int val;
	socklen_t len = *optlen;

	switch (optname) {
	case IP_TOS:
		val = sk->tos;
		break;
	case IP_TTL:
		val = sk->ttl < 0 ? IP_DEFAULT_TTL : sk->ttl;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if ((int)len < 0)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (!optval)
		return -EFAULT;
	/* Linux answers a short buffer with one byte. */
	if (len < sizeof(int)) {
		*(unsigned char *)optval = (unsigned char)val;
		*optlen = 1;
		return 0;
	}
	memcpy(optval, &val, sizeof(int));
	*optlen = sizeof(int);
	return 0;
}
