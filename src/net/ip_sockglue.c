/*
 * ip_sockglue.c - the IPPROTO_IP socket options (Linux's
 * net/ipv4/ip_sockglue.c): IP_TOS (which sets SO_PRIORITY too) and IP_TTL
 * so far.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <string.h>

#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/sock.h"

/*
 * The priority a TOS implies (Linux's ip_tos2prio, indexed by the four
 * TOS bits): 0 best effort, 2 bulk, 4 interactive bulk, 6 interactive.
 */
static int rt_tos2priority(int tos)
{
	static const uint8_t tos2prio[16] = {
		0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4,
	};

	return tos2prio[(tos & 0x1e) >> 1];
}

/*
 * As Linux's __ip_sock_set_tos: a stream socket keeps its ECN bits, and a
 * TOS that differs from the current one (compared as ints, so 256 differs
 * from 0) sets SO_PRIORITY too.
 */
static void ip_set_tos(struct sock *sk, int val)
{
	if (sk->type == SOCK_STREAM) {
		val &= ~IPTOS_ECN_MASK;
		val |= sk->tos & IPTOS_ECN_MASK;
	}
	if (sk->tos == val)
		return;
	sk->tos = (uint8_t)val;
	sk->priority = rt_tos2priority(val);
}

int ip_setsockopt(struct sock *sk, int optname, const void *optval,
		  socklen_t optlen)
{
	int val = 0;

	if (optname != IP_TOS && optname != IP_TTL)
		return -ENOPROTOOPT;
	/*
	 * Linux takes an int, or a single byte; with no bytes at all the
	 * value is 0, which IP_TOS accepts (Linux's do_ip_setsockopt).
	 */
	if (optlen >= sizeof(int)) {
		if (!optval)
			return -EFAULT;
		memcpy(&val, optval, sizeof(int));
	} else if (optlen >= 1) {
		if (!optval)
			return -EFAULT;
		val = *(const unsigned char *)optval;
	}
	switch (optname) {
	case IP_TOS:
		ip_set_tos(sk, val);
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
