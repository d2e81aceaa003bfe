/*
 * ip_sockglue.c - the IPPROTO_IP socket options and what they ask of a
 * socket (Linux's net/ipv4/ip_sockglue.c):
 *
 *  - IP_TOS (which sets SO_PRIORITY too) and IP_TTL;
 *  - IP_MTU_DISCOVER, the socket's Path MTU Discovery mode (RFC 1191;
 *    whether its packets carry DF, whether it takes ICMP's path MTU, see
 *    af_inet.h), and IP_MTU, the path MTU of a connected socket;
 *  - IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_RECVORIGDSTADDR: control
 *    messages with each datagram received (ip_cmsg_recv);
 *  - IP_FREEBIND (bind() to an address not this host's, af_inet.c),
 *    IP_BIND_ADDRESS_NO_PORT (bind() to port 0 leaves the port to
 *    connect(), af_inet.c), IP_LOCAL_PORT_RANGE (the socket's own
 *    ephemeral ports, inet_sk_get_local_port_range; kept beside the sock,
 *    sock_ext) and IP_MINTTL (TCP drops what comes with a lower TTL,
 *    tcp_input.c);
 *  - IP_RECVERR: errors kept, one per ICMP error or local failure, on the
 *    socket's error queue and read with recvmsg(MSG_ERRQUEUE), each with a
 *    struct sock_extended_err (ip_icmp_error, ip_local_error,
 *    ip_recv_error), in struct proto's error_queue: UDP's for every
 *    error, TCP's only for one that ends its handshake; TCP also takes
 *    IP_RECVERR to mean that an ICMP error on a connection is reported
 *    at once (tcp_err.c), as Linux.
 *
 *  - IP_OPTIONS, the IPv4 header options of every packet the socket
 *    sends (ip_options.c; kept beside the sock, sock_ext), and
 *    IP_RECVOPTS and IP_RETOPTS: a datagram's options, and those a reply
 *    to it should carry, as control messages;
 *
 *  - the control messages of sendmsg: IP_PKTINFO (source address,
 *    interface), IP_TTL, IP_TOS, IP_RETOPTS for one datagram
 *    (ip_cmsg_send).
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <linux/capability.h>
#include <linux/errqueue.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/iov.h"
#include "dev/dev_ioctl.h"
#include "net/af_inet.h"
#include "net/igmp.h"
#include "net/ip_options.h"
#include "net/ipv4.h"
#include "net/sock.h"
#include "stack/stack.h"

#ifndef IP_PROTOCOL
#define IP_PROTOCOL 52   /* <linux/in.h> */
#endif
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51   /* <linux/in.h>, Linux 6.3 */
#endif

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

/* The options that take an int, or one byte (Linux's list in
 * do_ip_setsockopt). */
static bool ip_opt_is_int(int optname)
{
	switch (optname) {
	case IP_TOS:
	case IP_TTL:
	case IP_MTU_DISCOVER:
	case IP_RECVERR:
	case IP_PKTINFO:
	case IP_RECVTTL:
	case IP_RECVTOS:
	case IP_MULTICAST_TTL:
	case IP_MULTICAST_LOOP:
	case IP_MULTICAST_ALL:
	case IP_FREEBIND:
	case IP_MINTTL:
	case IP_RECVORIGDSTADDR:
	case IP_BIND_ADDRESS_NO_PORT:
	case IP_LOCAL_PORT_RANGE:
	case IP_UNICAST_IF:
	case IP_TRANSPARENT:
	case IP_CHECKSUM:
	case IP_NODEFRAG:
	case IP_RECVFRAGSIZE:
	case IP_RECVERR_RFC4884:
	case IP_PROTOCOL:
	case IP_RECVOPTS:
	case IP_RETOPTS:
		return true;
	default:
		return false;
	}
}

/* An ip_mreqn, or an ip_mreq (imr_ifindex 0) when optlen is shorter:
 * Linux's do_ip_setsockopt reads either by length. optlen is at least an
 * ip_mreq's. */
static void ip_get_mreqn(struct ip_mreqn *mreq, const void *optval,
			 socklen_t optlen)
{
	memcpy(mreq, optval, optlen >= sizeof(struct ip_mreqn)
			     ? sizeof(struct ip_mreqn)
			     : sizeof(struct ip_mreq));
}

/* IP_MULTICAST_IF, as Linux's do_ip_setsockopt: an in_addr, an ip_mreq or
 * an ip_mreqn, by length. */
static int ip_set_mc_if(struct sock *sk, const void *optval, socklen_t optlen)
{
	struct ip_mreqn mreq = { 0 };
	struct net_device *dev = NULL;

	if (sk->type != SOCK_DGRAM || optlen < sizeof(struct in_addr))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	if (optlen >= sizeof(struct ip_mreq))
		ip_get_mreqn(&mreq, optval, optlen);
	else
		memcpy(&mreq.imr_address, optval, sizeof(struct in_addr));
	if (!mreq.imr_ifindex) {
		if (mreq.imr_address.s_addr == htonl(INADDR_ANY)) {
			inet_dgram_sk(sk)->mc_index = 0;
			inet_dgram_sk(sk)->mc_addr = 0;
			return 0;
		}
		dev = ip_dev_find(sk->st, mreq.imr_address.s_addr);
		if (dev)
			mreq.imr_ifindex = dev->ifindex;
	} else {
		dev = us_dev_get_by_index(sk->st, mreq.imr_ifindex);
	}
	if (!dev)
		return -EADDRNOTAVAIL;
	if (sk->bound_dev_if && mreq.imr_ifindex != sk->bound_dev_if)
		return -EINVAL;
	inet_dgram_sk(sk)->mc_index = mreq.imr_ifindex;
	inet_dgram_sk(sk)->mc_addr = mreq.imr_address.s_addr;
	return 0;
}

/*
 * IP_ADD_MEMBERSHIP and IP_DROP_MEMBERSHIP (an ip_mreq or an ip_mreqn, by
 * length), MCAST_JOIN_GROUP and MCAST_LEAVE_GROUP (a group_req), as
 * Linux's do_ip_setsockopt and ip_mcast_join_leave. A TCP socket keeps no
 * memberships: EPROTO, which Linux gives the first pair at once (it lets
 * the second through, so here a request it would refuse is refused as it
 * would be, and one it would take gets EPROTO).
 */
static int ip_set_membership(struct sock *sk, int optname,
			     const void *optval, socklen_t optlen)
{
	struct ip_mreqn mreq = { 0 };
	bool join = optname == IP_ADD_MEMBERSHIP ||
		    optname == MCAST_JOIN_GROUP;

	if (sk->type != SOCK_DGRAM &&
	    (optname == IP_ADD_MEMBERSHIP || optname == IP_DROP_MEMBERSHIP))
		return -EPROTO;
	if (optname == MCAST_JOIN_GROUP || optname == MCAST_LEAVE_GROUP) {
		struct group_req greq;
		struct sockaddr_in sin;

		if (optlen < sizeof(greq))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&greq, optval, sizeof(greq));
		memcpy(&sin, &greq.gr_group, sizeof(sin));
		if (sin.sin_family != AF_INET)
			return -EINVAL;
		if (sk->type != SOCK_DGRAM)
			return -EPROTO;
		mreq.imr_multiaddr = sin.sin_addr;
		mreq.imr_ifindex = (int)greq.gr_interface;
	} else {
		if (optlen < sizeof(struct ip_mreq))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		ip_get_mreqn(&mreq, optval, optlen);
	}
	return join ? ip_mc_join_group(sk, &mreq)
		    : ip_mc_leave_group(sk, &mreq);
}

/*
 * The source options (RFC 3678 §4.1.2 and §5.1.2), as Linux's
 * do_ip_setsockopt and do_mcast_group_source: an ip_mreq_source of exactly
 * its size, or a group_source_req with two AF_INET addresses
 * (EADDRNOTAVAIL otherwise). EPROTO on TCP, whose sockets keep no
 * memberships here (Linux lets them), once the request is well formed.
 */
static int ip_set_source(struct sock *sk, int optname, const void *optval,
			 socklen_t optlen)
{
	uint32_t group, ifaddr = 0, source;
	int ifindex = 0;

	if (optname == MCAST_JOIN_SOURCE_GROUP ||
	    optname == MCAST_LEAVE_SOURCE_GROUP ||
	    optname == MCAST_BLOCK_SOURCE || optname == MCAST_UNBLOCK_SOURCE) {
		struct group_source_req gsr;
		struct sockaddr_in g, src;

		if (optlen != sizeof(gsr))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&gsr, optval, sizeof(gsr));
		memcpy(&g, &gsr.gsr_group, sizeof(g));
		memcpy(&src, &gsr.gsr_source, sizeof(src));
		if (g.sin_family != AF_INET || src.sin_family != AF_INET)
			return -EADDRNOTAVAIL;
		group = g.sin_addr.s_addr;
		source = src.sin_addr.s_addr;
		ifindex = (int)gsr.gsr_interface;
	} else {
		struct ip_mreq_source mrs;

		if (optlen != sizeof(mrs))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&mrs, optval, sizeof(mrs));
		group = mrs.imr_multiaddr.s_addr;
		ifaddr = mrs.imr_interface.s_addr;
		source = mrs.imr_sourceaddr.s_addr;
	}
	if (sk->type != SOCK_DGRAM)
		return -EPROTO;
	return ip_mc_source_opt(sk, optname, group, ifaddr, ifindex, source);
}

/*
 * The checks IP_MSFILTER and MCAST_MSFILTER share (Linux's
 * do_ip_setsockopt): a header of hdr bytes at least, no more than
 * net.core.optmem_max bytes (which bounds the sources whatever
 * igmp_max_msf says) and at most net.ipv4.igmp_max_msf sources
 * (ENOBUFS), and the length must hold numsrc sources of `each` bytes
 * (EINVAL); the header is copied to out. EPROTO on TCP.
 */
static int ip_msf_check(struct sock *sk, const void *optval,
			socklen_t optlen, void *out, size_t hdr,
			const uint32_t *numsrc, size_t each)
{
	if (sk->type != SOCK_DGRAM)
		return -EPROTO;
	if (optlen < hdr)
		return -EINVAL;
	if (optlen > (socklen_t)sk->st->sysctl.optmem_max)
		return -ENOBUFS;
	if (!optval)
		return -EFAULT;
	memcpy(out, optval, hdr);
	if (*numsrc > (uint32_t)sk->st->sysctl.igmp_max_msf)
		return -ENOBUFS;
	if (hdr + *numsrc * each > optlen)
		return -EINVAL;
	return 0;
}

/* Of the `room` sources a filter read asks for, as many as its optlen of
 * a hdr-byte header and `each`-byte sources holds. */
static uint32_t ip_msf_room(uint32_t room, socklen_t optlen, size_t hdr,
			    size_t each)
{
	size_t fit = (optlen - hdr) / each;

	return room < fit ? room : (uint32_t)fit;
}

/* IP_MSFILTER (RFC 3678 §4.1.3), as Linux's do_ip_setsockopt, with the
 * checks of ip_msf_check. */
static int ip_set_msfilter(struct sock *sk, const void *optval,
			   socklen_t optlen)
{
	struct ip_msfilter msf;
	uint32_t *src = NULL;
	int rc;

	rc = ip_msf_check(sk, optval, optlen, &msf, IP_MSFILTER_SIZE(0),
			  &msf.imsf_numsrc, sizeof(uint32_t));
	if (rc < 0)
		return rc;
	if (msf.imsf_numsrc) {
		src = malloc(msf.imsf_numsrc * sizeof(*src));
		if (!src)
			return -ENOBUFS;
		memcpy(src, (const char *)optval +
			    offsetof(struct ip_msfilter, imsf_slist),
		       msf.imsf_numsrc * sizeof(*src));
	}
	rc = ip_mc_msfilter(sk, msf.imsf_multiaddr.s_addr,
			    msf.imsf_interface.s_addr, 0, msf.imsf_fmode, src,
			    msf.imsf_numsrc);
	free(src);
	return rc;
}

/*
 * IP_MSFILTER read back (Linux's ip_mc_msfget): the caller's ip_msfilter
 * names the group and how many sources it has room for; it gets the mode,
 * the number of sources and as many as fit. Linux trusts imsf_numsrc for
 * the room; ustack also keeps to the optlen given, so that it never
 * writes past the caller's buffer.
 */
static int ip_get_msfilter(struct sock *sk, void *optval, socklen_t *optlen)
{
	struct ip_msfilter msf;
	uint32_t mode, count, n, *src;
	int rc;

	if (*optlen < IP_MSFILTER_SIZE(0))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&msf, optval, IP_MSFILTER_SIZE(0));
	n = ip_msf_room(msf.imsf_numsrc, *optlen, IP_MSFILTER_SIZE(0),
			sizeof(uint32_t));
	src = malloc((n ? n : 1) * sizeof(*src));
	if (!src)
		return -ENOBUFS;
	rc = ip_mc_msfget(sk, msf.imsf_multiaddr.s_addr,
			  msf.imsf_interface.s_addr, -1, &mode, &count, src,
			  &n);
	if (rc == 0) {
		msf.imsf_fmode = mode;
		msf.imsf_numsrc = count;
		memcpy(optval, &msf, IP_MSFILTER_SIZE(0));
		memcpy((char *)optval + offsetof(struct ip_msfilter, imsf_slist),
		       src, n * sizeof(*src));
		*optlen = IP_MSFILTER_SIZE(n);
	}
	free(src);
	return rc;
}

#define GF_SLIST_OFF offsetof(struct group_filter, gf_slist)
#define GF_SS sizeof(struct sockaddr_storage)

/* A group_filter's interface as an index; past INT_MAX one no device has. */
static int gf_ifindex(const struct group_filter *gf)
{
	return gf->gf_interface > INT_MAX ? INT_MAX : (int)gf->gf_interface;
}

/* MCAST_MSFILTER (RFC 3678 §5.2.1), as Linux's ip_set_mcast_msfilter: a
 * group_filter whose group and sources are AF_INET (EADDRNOTAVAIL), with
 * IP_MSFILTER's limits. */
static int ip_set_gsfilter(struct sock *sk, const void *optval,
			   socklen_t optlen)
{
	struct group_filter gf;
	struct sockaddr_in sin;
	uint32_t *src;
	int rc;

	rc = ip_msf_check(sk, optval, optlen, &gf, GROUP_FILTER_SIZE(0),
			  &gf.gf_numsrc, GF_SS);
	if (rc < 0)
		return rc;
	memcpy(&sin, &gf.gf_group, sizeof(sin));
	if (sin.sin_family != AF_INET)
		return -EADDRNOTAVAIL;
	src = malloc((gf.gf_numsrc ? gf.gf_numsrc : 1) * sizeof(*src));
	if (!src)
		return -ENOBUFS;
	for (uint32_t i = 0; i < gf.gf_numsrc; i++) {
		struct sockaddr_in s;

		memcpy(&s, (const char *)optval + GF_SLIST_OFF + i * GF_SS,
		       sizeof(s));
		if (s.sin_family != AF_INET) {
			free(src);
			return -EADDRNOTAVAIL;
		}
		src[i] = s.sin_addr.s_addr;
	}
	rc = ip_mc_msfilter(sk, sin.sin_addr.s_addr, 0, gf_ifindex(&gf),
			    gf.gf_fmode, src, gf.gf_numsrc);
	free(src);
	return rc;
}

/* MCAST_MSFILTER read back (Linux's ip_get_mcast_msfilter and
 * ip_mc_gsfget): as IP_MSFILTER's, the sources as sockaddr_storage. */
static int ip_get_gsfilter(struct sock *sk, void *optval, socklen_t *optlen)
{
	struct group_filter gf;
	struct sockaddr_in sin;
	uint32_t mode, count, n, *src;
	int rc;

	if (*optlen < GROUP_FILTER_SIZE(0))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&gf, optval, GROUP_FILTER_SIZE(0));
	memcpy(&sin, &gf.gf_group, sizeof(sin));
	if (sin.sin_family != AF_INET)
		return -EINVAL;
	n = ip_msf_room(gf.gf_numsrc, *optlen, GROUP_FILTER_SIZE(0), GF_SS);
	src = malloc((n ? n : 1) * sizeof(*src));
	if (!src)
		return -ENOBUFS;
	rc = ip_mc_msfget(sk, sin.sin_addr.s_addr, 0, gf_ifindex(&gf), &mode,
			  &count, src, &n);
	if (rc == 0) {
		gf.gf_fmode = mode;
		gf.gf_numsrc = count;
		memcpy(optval, &gf, GROUP_FILTER_SIZE(0));
		for (uint32_t i = 0; i < n; i++) {
			struct sockaddr_storage ss;
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			memset(&ss, 0, sizeof(ss));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = src[i];
			memcpy((char *)optval + GF_SLIST_OFF + i * GF_SS, &ss,
			       sizeof(ss));
		}
		*optlen = (socklen_t)GROUP_FILTER_SIZE(n);
	}
	free(src);
	return rc;
}

/* ---- IP_OPTIONS ------------------------------------------------------- */

/* sk's option slots (sock_ext.ipopt), made with `make`; NULL without. */
static struct ip_options *ip_opt_slots(struct sock *sk, bool make)
{
	struct sock_ext *e = sock_ext(sk, make);

	if (!e)
		return NULL;
	if (!e->ipopt && make)
		e->ipopt = calloc(3, sizeof(*e->ipopt));
	return e->ipopt;
}

const struct ip_options *ip_options_hold(struct sock *sk,
					 const struct ip_options *opt)
{
	struct ip_options *slots = ip_opt_slots(sk, true);

	if (!slots)
		return NULL;
	slots[2] = *opt;
	return &slots[2];
}

const struct ip_options *ip_sock_options(const struct sock *sk)
{
	const struct sock_ext *e;

	if (!sk->ip_opt || !(e = sock_ext(sk, false)) || !e->ipopt)
		return NULL;
	return &e->ipopt[0];
}

/* Options in sending form as sk's own; 0 bytes clear them. */
static int ip_sock_set_options(struct sock *sk, const struct ip_options *o)
{
	struct ip_options *slots;

	if (!o->optlen) {
		sk->ip_opt = false;
		return 0;
	}
	slots = ip_opt_slots(sk, true);
	if (!slots)
		return -ENOMEM;
	slots[0] = *o;
	sk->ip_opt = true;
	return 0;
}

/*
 * IP_OPTIONS (Linux's do_ip_setsockopt and ip_options_get): at most 40
 * bytes, checked before they are read; a failure leaves the socket's
 * options as they were. (TCP resizes its segments: tcp_setsockopt.)
 */
static int ip_set_options(struct sock *sk, const void *optval,
			  socklen_t optlen)
{
	struct ip_options o;
	int rc;

	if (optlen > IP_OPTIONS_MAX)
		return -EINVAL;
	if (optlen && !optval)
		return -EFAULT;
	rc = ip_options_compile_sock(sk->st, &o, optval, optlen,
				     dev_capable(CAP_NET_RAW));
	return rc < 0 ? rc : ip_sock_set_options(sk, &o);
}

/* The options as set: undone (ip_options_undo), as many bytes as fit. */
static int ip_get_options(struct sock *sk, void *optval, socklen_t *optlen)
{
	const struct ip_options *cur = ip_sock_options(sk);
	struct ip_options o;
	socklen_t len = *optlen;

	if (!cur) {
		*optlen = 0;
		return 0;
	}
	o = *cur;
	ip_options_undo(&o);
	if (len > o.optlen)
		len = o.optlen;
	if (len && !optval)
		return -EFAULT;
	if (len)
		memcpy(optval, o.data, len);
	*optlen = len;
	return 0;
}

void ip_sock_options_echo(struct sock *sk, const struct sk_buff *skb)
{
	struct ip_options o;

	if (ip_options_echo(sk->st, &o, skb_network_header(skb)) == 0)
		(void)ip_sock_set_options(sk, &o);
}

static void ip_errqueue_purge(struct sock *sk);

int ip_setsockopt(struct sock *sk, int optname, const void *optval,
		  socklen_t optlen)
{
	int val = 0;

	if (optname == IP_MULTICAST_IF)
		return ip_set_mc_if(sk, optval, optlen);
	if (optname == IP_ADD_MEMBERSHIP || optname == IP_DROP_MEMBERSHIP ||
	    optname == MCAST_JOIN_GROUP || optname == MCAST_LEAVE_GROUP)
		return ip_set_membership(sk, optname, optval, optlen);
	switch (optname) {
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
	case MCAST_JOIN_SOURCE_GROUP:
	case MCAST_LEAVE_SOURCE_GROUP:
	case MCAST_BLOCK_SOURCE:
	case MCAST_UNBLOCK_SOURCE:
		return ip_set_source(sk, optname, optval, optlen);
	case IP_MSFILTER:
		return ip_set_msfilter(sk, optval, optlen);
	case MCAST_MSFILTER:
		return ip_set_gsfilter(sk, optval, optlen);
	default:
		break;
	}
	if (optname == IP_OPTIONS)
		return ip_set_options(sk, optval, optlen);
	if (!ip_opt_is_int(optname))
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
	case IP_MULTICAST_TTL:
		if (sk->type == SOCK_STREAM || optlen < 1)
			return -EINVAL;
		if (val == -1)
			val = 1;
		if (val < 0 || val > 255)
			return -EINVAL;
		sk->mc_ttl = (uint8_t)val;
		return 0;
	case IP_MULTICAST_LOOP:
		if (optlen < 1)
			return -EINVAL;
		sk->mc_loop = val != 0;
		return 0;
	case IP_MULTICAST_ALL:
		if (optlen < 1 || (val != 0 && val != 1))
			return -EINVAL;
		sk->mc_all = val;
		return 0;
	case IP_MTU_DISCOVER:
		if (val < IP_PMTUDISC_DONT || val > IP_PMTUDISC_OMIT)
			return -EINVAL;
		sk->pmtudisc = (uint8_t)val;
		return 0;
	case IP_RECVERR:
		sk->recverr = val != 0;
		if (!val)
			ip_errqueue_purge(sk);
		return 0;
	case IP_PKTINFO:
		sk->pktinfo = val != 0;
		return 0;
	case IP_RECVTTL:
		sk->recvttl = val != 0;
		return 0;
	case IP_RECVTOS:
		sk->recvtos = val != 0;
		return 0;
	case IP_RECVOPTS:
		sk->recvopts = val != 0;
		return 0;
	case IP_RETOPTS:
		sk->retopts = val != 0;
		return 0;
	case IP_FREEBIND:
		if (optlen < 1)
			return -EINVAL;
		sk->freebind = val != 0;
		return 0;
	case IP_TRANSPARENT:
		/* (CAP_NET_RAW or CAP_NET_ADMIN to turn it on) */
		if (val && !dev_capable(CAP_NET_RAW) &&
		    !dev_capable_net_admin())
			return -EPERM;
		if (optlen < 1)
			return -EINVAL;
		sk->transparent = val != 0;
		return 0;
	case IP_CHECKSUM:
		sk->checksum = val != 0;
		return 0;
	case IP_NODEFRAG:
	case IP_PROTOCOL:
		/* (IP_NODEFRAG: raw sockets' alone; IP_PROTOCOL: read only) */
		return -ENOPROTOOPT;
	case IP_RECVFRAGSIZE:
		if (sk->type != SOCK_DGRAM)
			return -EINVAL;
		sk->recvfragsize = val != 0;
		return 0;
	case IP_RECVERR_RFC4884:
		if (val < 0 || val > 1)
			return -EINVAL;
		sk->recverr_rfc4884 = val;
		return 0;
	case IP_MINTTL:
		if (optlen < 1)
			return -EINVAL;
		if (val < 0 || val > 255)
			return -EINVAL;
		sk->min_ttl = (uint8_t)val;
		return 0;
	case IP_RECVORIGDSTADDR:
		sk->recvorigdst = val != 0;
		return 0;
	case IP_BIND_ADDRESS_NO_PORT:
		sk->bind_no_port = val != 0;
		return 0;
	case IP_LOCAL_PORT_RANGE: {
		/* Linux 6.3's: the low port in the low 16 bits, the high
		 * in the high ones, 0 for the instance's end; an empty
		 * range is EINVAL (do_ip_setsockopt). */
		uint32_t lo = (uint32_t)val & 0xffff, hi = (uint32_t)val >> 16;
		struct sock_ext *e;

		if (optlen != sizeof(uint32_t) || (lo && hi && lo > hi))
			return -EINVAL;
		e = sock_ext(sk, val != 0);
		if (e)
			e->local_port_range = (uint32_t)val;
		else if (val)
			return -ENOMEM;
		return 0;
	}
	case IP_UNICAST_IF: {
		/* Linux's: an interface index in network order, 0 for none;
		 * EADDRNOTAVAIL for one that does not exist, EINVAL on a
		 * socket bound to a device (no VRF here to reconcile them).
		 * Its datagrams to unicast addresses leave by it unless
		 * the socket or the message names another (dgram_route). */
		int ifindex = (int)ntohl((uint32_t)val);
		struct sock_ext *e;

		if (optlen != sizeof(int))
			return -EINVAL;
		if (ifindex && !us_dev_get_by_index(sk->st, ifindex))
			return -EADDRNOTAVAIL;
		if (ifindex && sk->bound_dev_if)
			return -EINVAL;
		e = sock_ext(sk, ifindex != 0);
		if (e)
			e->uc_index = ifindex;
		else if (ifindex)
			return -ENOMEM;
		return 0;
	}
	}
	return -ENOPROTOOPT;
}

/* Linux's IP_MTU: the path MTU of the route a connected socket caches,
 * ENOTCONN without one. TCP's goes to a source route's first hop
 * (tcp_v4_connect); a datagram socket's to its peer whatever its options
 * (ip4_datagram_connect routes to the address given). */
static int ip_sock_mtu(struct sock *sk, int *val)
{
	uint32_t to = sk->protocol == IPPROTO_TCP ?
		      ip_sock_nexthop(sk, sk->daddr) : sk->daddr;
	struct ip_route rt;

	if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN || !sk->daddr ||
	    ip_route_output(sk->st, to, &rt) < 0)
		return -ENOTCONN;
	*val = (int)rt.mtu;
	return 0;
}

int ip_getsockopt(struct sock *sk, int optname, void *optval,
		  socklen_t *optlen)
{
	int val, rc;
	socklen_t len = *optlen;

	if ((int)len < 0)
		return -EINVAL;
	if (optname == IP_MSFILTER || optname == MCAST_MSFILTER) {
		if (sk->type != SOCK_DGRAM)
			return -EPROTO;
		return optname == IP_MSFILTER ? ip_get_msfilter(sk, optval, optlen)
					      : ip_get_gsfilter(sk, optval, optlen);
	}
	switch (optname) {
	case IP_OPTIONS:
		return ip_get_options(sk, optval, optlen);
	case IP_RECVOPTS:
		val = sk->recvopts;
		break;
	case IP_RETOPTS:
		val = sk->retopts;
		break;
	case IP_TOS:
		val = sk->tos;
		break;
	case IP_TTL:
		val = sk->ttl < 0 ? IP_DEFAULT_TTL : sk->ttl;
		break;
	case IP_MTU_DISCOVER:
		val = sk->pmtudisc;
		break;
	case IP_MTU:
		rc = ip_sock_mtu(sk, &val);
		if (rc < 0)
			return rc;
		break;
	case IP_RECVERR:
		val = sk->recverr;
		break;
	case IP_PKTINFO:
		val = sk->pktinfo;
		break;
	case IP_RECVTTL:
		val = sk->recvttl;
		break;
	case IP_RECVTOS:
		val = sk->recvtos;
		break;
	case IP_FREEBIND:
		val = sk->freebind;
		break;
	case IP_TRANSPARENT:
		val = sk->transparent;
		break;
	case IP_CHECKSUM:
		val = sk->checksum;
		break;
	case IP_NODEFRAG:
		val = 0;
		break;
	case IP_RECVFRAGSIZE:
		val = sk->recvfragsize;
		break;
	case IP_RECVERR_RFC4884:
		val = sk->recverr_rfc4884;
		break;
	case IP_PROTOCOL:
		/* Linux's inet_num: the local port on TCP and UDP, the
		 * protocol on a raw socket. */
		val = sk->num;
		break;
	case IP_MINTTL:
		val = sk->min_ttl;
		break;
	case IP_RECVORIGDSTADDR:
		val = sk->recvorigdst;
		break;
	case IP_BIND_ADDRESS_NO_PORT:
		val = sk->bind_no_port;
		break;
	case IP_UNICAST_IF:
		val = (int)htonl((uint32_t)inet_uc_index(sk));
		break;
	case IP_LOCAL_PORT_RANGE: {
		const struct sock_ext *e = sock_ext(sk, false);

		val = e ? (int)e->local_port_range : 0;
		break;
	}
	case IP_MULTICAST_TTL:
		val = sk->mc_ttl;
		break;
	case IP_MULTICAST_LOOP:
		val = sk->mc_loop;
		break;
	case IP_MULTICAST_ALL:
		val = sk->mc_all;
		break;
	case IP_MULTICAST_IF: {
		/* The address alone, in as many bytes as fit (Linux). */
		uint32_t a = sk->type != SOCK_DGRAM ? 0
			     : inet_dgram_sk(sk)->mc_addr;

		if (len > sizeof(a))
			len = sizeof(a);
		if (len && !optval)
			return -EFAULT;
		memcpy(optval, &a, len);
		*optlen = len;
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
	if (len == 0)
		return 0;
	if (!optval)
		return -EFAULT;
	/* Linux answers a short buffer with one byte when the value fits
	 * in one, else with as many bytes of the int as there is room for. */
	if (len < sizeof(int) && val >= 0 && val <= 255) {
		*(unsigned char *)optval = (unsigned char)val;
		*optlen = 1;
		return 0;
	}
	if (len > sizeof(int))
		len = sizeof(int);
	memcpy(optval, &val, len);
	*optlen = len;
	return 0;
}

/* ---- control messages of a datagram sent -------------------------------- */

/* An int, or for IP_TOS also one byte, exactly (Linux). */
static int ip_cmsg_int(const struct cmsghdr *c, bool byte_ok, int *val)
{
	if (c->cmsg_len == CMSG_LEN(sizeof(int))) {
		memcpy(val, CMSG_DATA(c), sizeof(int));
		return 0;
	}
	if (byte_ok && c->cmsg_len == CMSG_LEN(1)) {
		*val = *(const unsigned char *)CMSG_DATA(c);
		return 0;
	}
	return -EINVAL;
}

/*
 * IP_RETOPTS (Linux's ip_cmsg_send): the options of this datagram in
 * place of the socket's, checked as IP_OPTIONS's, the data cut to 40
 * bytes; none at all for an empty one. Kept in the socket's second slot,
 * where a corked datagram finds them.
 */
static int ip_cmsg_retopts(struct sock *sk, const struct cmsghdr *c,
			   struct ipcm *ipc)
{
	size_t n = c->cmsg_len - CMSG_LEN(0);
	struct ip_options o, *slots;
	int rc;

	if (n > IP_OPTIONS_MAX)
		n = IP_OPTIONS_MAX;
	rc = ip_options_compile_sock(sk->st, &o, CMSG_DATA(c), n,
				     dev_capable(CAP_NET_RAW));
	if (rc < 0)
		return rc;
	slots = ip_opt_slots(sk, true);
	if (!slots)
		return -ENOBUFS;
	slots[1] = o;
	ipc->opt = &slots[1];
	return 0;
}

int ip_cmsg_send(struct sock *sk, const struct msghdr *msg, struct ipcm *ipc)
{
	struct in_pktinfo info;
	int rc, val;

	for (struct cmsghdr *c = sock_cmsg_first(msg); c;
	     c = sock_cmsg_next(msg, c)) {
		if (!sock_cmsg_ok(msg, c))
			return -EINVAL;
		if (c->cmsg_level == SOL_SOCKET) {
			rc = sock_cmsg_one(sk, c, &ipc->sockc);
			if (rc < 0)
				return rc;
			continue;
		}
		if (c->cmsg_level != SOL_IP)
			continue;
		switch (c->cmsg_type) {
		case IP_PKTINFO:
			if (c->cmsg_len != CMSG_LEN(sizeof(info)))
				return -EINVAL;
			memcpy(&info, CMSG_DATA(c), sizeof(info));
			if (info.ipi_ifindex)
				ipc->oif = info.ipi_ifindex;
			ipc->saddr = info.ipi_spec_dst.s_addr;
			ipc->saddr_set = true;
			break;
		case IP_TTL:
			if (ip_cmsg_int(c, false, &val) < 0 || val < 1 ||
			    val > 255)
				return -EINVAL;
			ipc->ttl = val;
			break;
		case IP_TOS:
			if (ip_cmsg_int(c, true, &val) < 0 || val < 0 ||
			    val > 255)
				return -EINVAL;
			ipc->tos = val;
			break;
		case IP_PROTOCOL:
			/* Checked; a UDP socket sends UDP. */
			if (ip_cmsg_int(c, false, &val) < 0 || val < 1 ||
			    val > 255)
				return -EINVAL;
			break;
		case IP_RETOPTS:
			rc = ip_cmsg_retopts(sk, c, ipc);
			if (rc < 0)
				return rc;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

/* ---- control messages of a received datagram --------------------------- */

/* What IP_PKTINFO reports besides the destination, taken when the datagram
 * is queued (Linux's PKTINFO_SKB_CB), at the start of skb->cb. */
struct ip_pktinfo_cb {
	int ifindex;
	uint32_t spec_dst;
};

#define IP_PKTINFO_CB(skb) ((struct ip_pktinfo_cb *)(skb)->cb)

/*
 * The local address a reply should come from (Linux's
 * fib_compute_spec_dst): the destination itself when it was one of ours,
 * else (a broadcast) the address this host would send to the sender from.
 */
uint32_t ip_spec_dst(struct ustack *st, const struct sk_buff *skb,
		     uint32_t saddr, uint32_t daddr)
{
	struct ip_route rt;

	if (ip_addr_type(st, daddr) == IP_ADDR_LOCAL)
		return daddr;
	if (saddr && ip_route_output(st, saddr, &rt) == 0)
		return rt.saddr;
	return skb->dev ? skb->dev->ip_addr : 0;
}

void ip_pktinfo_prepare(const struct sock *sk, struct sk_buff *skb)
{
	struct ip_pktinfo_cb *pi = IP_PKTINFO_CB(skb);
	const uint8_t *iph = skb_network_header(skb);
	uint32_t saddr, daddr;

	/* As Linux's ipv4_pktinfo_prepare: only for a socket that asks
	 * already; one that asks later gets zeros for what came before. */
	pi->ifindex = 0;
	pi->spec_dst = 0;
	if (!sk->pktinfo)
		return;
	memcpy(&saddr, iph + 12, 4);
	memcpy(&daddr, iph + 16, 4);
	pi->ifindex = ip_iif(sk->st, skb);
	pi->spec_dst = ip_spec_dst(sk->st, skb, saddr, daddr);
}

/*
 * IP_RECVOPTS: the options as received (this host's record route and
 * timestamp entries in); IP_RETOPTS: those a reply should carry, in the
 * form IP_OPTIONS takes (Linux's ip_cmsg_recv_opts and
 * ip_cmsg_recv_retopts: MSG_CTRUNC when no echo can be made).
 */
static void ip_cmsg_recv_opts(struct msghdr *msg, const struct sock *sk,
			      const uint8_t *iph)
{
	struct ip_options o;

	if (sk->recvopts)
		put_cmsg(msg, SOL_IP, IP_RECVOPTS,
			 (size_t)(iph[0] & 0xf) * 4 - IP_HLEN_MIN,
			 iph + IP_HLEN_MIN);
	if (!sk->retopts)
		return;
	if (ip_options_echo(sk->st, &o, iph) < 0) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	ip_options_undo(&o);
	put_cmsg(msg, SOL_IP, IP_RETOPTS, o.optlen, o.data);
}

void ip_cmsg_recv(struct msghdr *msg, const struct sock *sk,
		  const struct sk_buff *skb)
{
	const struct ip_pktinfo_cb *pi = IP_PKTINFO_CB(skb);
	const uint8_t *iph = skb_network_header(skb);
	struct in_pktinfo info;
	int ttl;

	/* In Linux's order: IP_PKTINFO, IP_TTL, IP_TOS. */
	if (sk->pktinfo) {
		memset(&info, 0, sizeof(info));
		info.ipi_ifindex = pi->ifindex;
		info.ipi_spec_dst.s_addr = pi->spec_dst;
		memcpy(&info.ipi_addr.s_addr, iph + 16, 4);
		put_cmsg(msg, SOL_IP, IP_PKTINFO, sizeof(info), &info);
	}
	if (sk->recvttl) {
		ttl = iph[8];
		put_cmsg(msg, SOL_IP, IP_TTL, sizeof(ttl), &ttl);
	}
	if (sk->recvtos)
		put_cmsg(msg, SOL_IP, IP_TOS, 1, iph + 1);
	if ((iph[0] & 0xf) > 5)
		ip_cmsg_recv_opts(msg, sk, iph);
	/* IP_RECVORIGDSTADDR (Linux's ip_cmsg_recv_dstaddr): the
	 * destination address and the port in the transport header's
	 * bytes 2-3, where every transport has it; none when the header is
	 * not there. */
	if (sk->recvorigdst && skb->transport_header != SKB_HDR_UNSET &&
	    skb_transport_header(skb) + 4 <= skb->tail) {
		struct sockaddr_in sin;

		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr.s_addr, iph + 16, 4);
		memcpy(&sin.sin_port, skb_transport_header(skb) + 2, 2);
		put_cmsg(msg, SOL_IP, IP_ORIGDSTADDR, sizeof(sin), &sin);
	}
	/* IP_RECVFRAGSIZE: a reassembled datagram's largest fragment. (No
	 * IP_CHECKSUM message: Linux gives one only for a datagram whose
	 * checksum was summed whole, CHECKSUM_COMPLETE, which lo never has;
	 * over a device without checksum offload it sums some in software,
	 * which ustack does not model.) */
	if (sk->recvfragsize && skb->frag_max) {
		int size = skb->frag_max;

		put_cmsg(msg, SOL_IP, IP_RECVFRAGSIZE, sizeof(size), &size);
	}
}

/* ---- the error queue (IP_RECVERR) --------------------------------------- */

/* What an error skb carries besides the data it quotes (Linux's struct
 * sock_exterr_skb), in its cb: the pktinfo first, as any datagram's. */
struct ip_exterr_cb {
	struct ip_pktinfo_cb pi;
	struct sock_extended_err ee;
	uint32_t addr;      /* the failed datagram's destination */
	uint16_t port;      /* and port, network order (0: none known) */
	bool ip_cmsgs;      /* a timestamp's packet: its IP messages */
};

#define IP_EXTERR_CB(skb) ((struct ip_exterr_cb *)(skb)->cb)

/* IP_RECVERR turned off: the errors go, the timestamp reports and
 * MSG_ZEROCOPY's notices stay (Linux's skb_errqueue_purge). */
static void ip_errqueue_purge(struct sock *sk)
{
	struct sk_buff_head *q = sock_error_queue(sk, false);
	struct sk_buff *skb, *tmp;

	if (!q)
		return;
	skb_queue_walk_safe(q, skb, tmp) {
		if (ip_err_origin(skb) == SO_EE_ORIGIN_TIMESTAMPING ||
		    ip_err_origin(skb) == SO_EE_ORIGIN_ZEROCOPY)
			continue;
		skb_unlink(q, skb);
		sock_rfree(sk, skb);
		skb_free(skb);
	}
}

/* Linux's sock_queue_err_skb: charged to the receive buffer, refused
 * when it is full. */
static void ip_queue_err(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff_head *q = sock_error_queue(sk, true);

	if (!q || sk->rmem_alloc + (int)skb->truesize >= sk->rcvbuf) {
		skb_free(skb);
		return;
	}
	sk->rmem_alloc += (int)skb->truesize;
	skb->sk = sk;
	skb_queue_tail(q, skb);
	if (sk->sk_socket)
		sk_error_report(sk);
}

/*
 * RFC 4884 §4 (IP_RECVERR_RFC4884; Linux's ip_icmp_error_rfc4884): a
 * destination unreachable, time exceeded or parameter problem message
 * may say in its byte 5 how long, in 32-bit words, the original datagram
 * it quotes is (at least 128 bytes), an extension structure following.
 * The entry then tells where that structure starts in the data it
 * returns (the quoted payload), flagged invalid when its checksum or its
 * objects' lengths are wrong (§7-8; a structure of another version is not
 * judged).
 */
static bool icmp_ext_valid(const uint8_t *ext, size_t len)
{
	size_t off = 4, olen;

	if (ext[0] >> 4 != 2)
		return true;
	if ((ext[2] | ext[3]) && inet_csum(ext, len) != 0)
		return false;
	while (off < len) {
		if (off + 4 > len)
			return false;
		olen = (size_t)ext[off] << 8 | ext[off + 1];
		if (olen < 4)
			return false;
		off += olen;
		if (off > len)
			return false;
	}
	return true;
}

static void icmp_error_rfc4884(const struct sk_buff *icmp,
			       const uint8_t *payload,
			       struct sock_ee_data_rfc4884 *out)
{
	const uint8_t *ih = icmp->data;
	size_t hlen = (size_t)(payload - (ih + 8));
	size_t quoted = (size_t)ih[5] * 4;
	size_t rest = (size_t)(icmp->tail - payload);

	if (ih[0] != ICMP_DEST_UNREACH && ih[0] != ICMP_TIME_EXCEEDED &&
	    ih[0] != ICMP_PARAMETERPROB)
		return;
	if (quoted < 128 || quoted < hlen)
		return;
	quoted -= hlen;
	if (quoted + 4 > rest)
		return;
	out->len = (uint16_t)quoted;
	if (!icmp_ext_valid(payload + quoted, rest - quoted))
		out->flags |= SO_EE_RFC4884_FLAG_INVALID;
}

/*
 * The error keeps a copy of the ICMP message from its IP header on (not a
 * clone: a clone would hold the whole receive buffer while its truesize
 * counted only itself), its data from the quoted payload on.
 */
void ip_icmp_error(struct sock *sk, struct sk_buff *icmp, int err,
		   uint32_t daddr, uint16_t port, uint32_t info,
		   const uint8_t *payload)
{
	const uint8_t *nh = skb_network_header(icmp);
	size_t n = (size_t)(icmp->tail - nh);   /* (an ICMP skb is linear) */
	struct ip_exterr_cb *cb;
	struct sk_buff *skb;

	if (!sk->recverr || !sk->prot->error_queue || payload > icmp->tail)
		return;
	skb = us_skb_alloc(sk->st, (unsigned int)n);
	if (!skb)
		return;
	memcpy(skb_put(skb, (unsigned int)n), nh, n);
	skb_reset_network_header(skb);
	skb->dev = icmp->dev;
	skb->tstamp = icmp->tstamp;
	cb = IP_EXTERR_CB(skb);
	memset(cb, 0, sizeof(*cb));
	/* (Linux's pktinfo of an error: the interface, no spec_dst.) */
	cb->pi.ifindex = icmp->dev ? icmp->dev->ifindex : 0;
	cb->ee.ee_errno = (uint32_t)err;
	cb->ee.ee_origin = SO_EE_ORIGIN_ICMP;
	cb->ee.ee_type = icmp->data[0];
	cb->ee.ee_code = icmp->data[1];
	cb->ee.ee_info = info;
	if (sk->recverr_rfc4884)
		icmp_error_rfc4884(icmp, payload, &cb->ee.ee_rfc4884);
	cb->addr = daddr;
	cb->port = port;
	/* The data is what the datagram carried, as far as it is quoted. */
	skb_pull(skb, (unsigned int)(payload - nh));
	skb_reset_transport_header(skb);
	ip_queue_err(sk, skb);
}

void ip_local_error(struct sock *sk, int err, uint32_t daddr, uint16_t port,
		    uint32_t info)
{
	struct ip_exterr_cb *cb;
	struct sk_buff *skb;

	if (!sk->recverr || !sk->prot->error_queue)
		return;
	skb = us_skb_alloc(sk->st, 0);
	if (!skb)
		return;
	skb->tstamp = sk->st->now;
	cb = IP_EXTERR_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->ee.ee_errno = (uint32_t)err;
	cb->ee.ee_origin = SO_EE_ORIGIN_LOCAL;
	cb->ee.ee_info = info;
	cb->addr = daddr;
	cb->port = port;
	ip_queue_err(sk, skb);
}

uint8_t ip_err_origin(const struct sk_buff *skb)
{
	return IP_EXTERR_CB(skb)->ee.ee_origin;
}

/* An entry off the error queue: its charge to the receive buffer back,
 * but for MSG_ZEROCOPY's notices, which hold optmem instead. */
static void ip_err_unqueue(struct sock *sk, struct sk_buff *skb)
{
	if (ip_err_origin(skb) != SO_EE_ORIGIN_ZEROCOPY)
		sock_rfree(sk, skb);
}

void ip_errqueue_free(struct sock *sk, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	if (!q)
		return;
	while ((skb = skb_dequeue(q)) != NULL) {
		ip_err_unqueue(sk, skb);
		skb_free(skb);
	}
}

/*
 * Linux's __msg_zerocopy_callback: the notice extends the last entry when
 * that is a notice whose range ends just before (its code stays), else
 * goes on the queue; not bounded by SO_RCVBUF, as it held optmem since
 * its send (sock_zerocopy.c).
 */
void ip_zerocopy_notify(struct sock *sk, uint32_t lo, uint32_t hi)
{
	struct sk_buff_head *q = sock_error_queue(sk, true);
	struct sk_buff *tail = q ? skb_peek_tail(q) : NULL;
	struct ip_exterr_cb *cb;
	struct sk_buff *skb;

	if (!q)
		return;
	if (tail && ip_err_origin(tail) == SO_EE_ORIGIN_ZEROCOPY &&
	    IP_EXTERR_CB(tail)->ee.ee_data + 1 == lo &&
	    hi - IP_EXTERR_CB(tail)->ee.ee_info < UINT32_MAX) {
		IP_EXTERR_CB(tail)->ee.ee_data = hi;
	} else {
		skb = us_skb_alloc(sk->st, 0);
		if (!skb)
			return;
		cb = IP_EXTERR_CB(skb);
		memset(cb, 0, sizeof(*cb));
		cb->ee.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
		cb->ee.ee_code = SO_EE_CODE_ZEROCOPY_COPIED;
		cb->ee.ee_info = lo;
		cb->ee.ee_data = hi;
		/* (Charged to optmem, sock_zc_optmem, not the receive
		 * buffer: ip_err_unqueue.) */
		skb_queue_tail(q, skb);
	}
	if (sk->sk_socket)
		sk_error_report(sk);
}

void ip_msg_name(struct msghdr *msg, uint32_t addr, uint16_t port,
		 int *addr_len)
{
	struct sockaddr_in sin;
	socklen_t n;

	if (!msg->msg_name)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	sin.sin_port = port;
	n = msg->msg_namelen < sizeof(sin) ? msg->msg_namelen : sizeof(sin);
	memcpy(msg->msg_name, &sin, n);
	*addr_len = sizeof(sin);
}

void ip_tstamp_error(struct sock *sk, struct sk_buff *skb,
		     const struct sock_extended_err *ee)
{
	struct ip_exterr_cb *cb = IP_EXTERR_CB(skb);
	const uint8_t *iph;

	memset(cb, 0, sizeof(*cb));
	cb->ee = *ee;
	/* The packet's own addresses as its pktinfo, and the device it
	 * left by (Linux's ipv4_datagram_support_cmsg), for OPT_CMSG to
	 * give at the read. */
	if (skb->dev && skb->network_header != SKB_HDR_UNSET &&
	    skb_network_header(skb) + IP_HLEN_MIN <= skb->tail) {
		iph = skb_network_header(skb);
		cb->ip_cmsgs = true;
		cb->pi.ifindex = skb->dev->ifindex;
		memcpy(&cb->pi.spec_dst, iph + 12, 4);
	}
	ip_queue_err(sk, skb);
}

/*
 * recvmsg(MSG_ERRQUEUE), Linux's ip_recv_error: the oldest error, its data
 * (cut to len, MSG_TRUNC), the address and port it was sent to, then the
 * control messages: SO_TIMESTAMP, the ICMP packet's own IP_PKTINFO /
 * IP_TTL / IP_TOS if asked for, and IP_RECVERR: the sock_extended_err and
 * the address of the host that sent the ICMP error (none for a local
 * error). Never waits: EAGAIN when the queue is empty.
 */
int ip_recv_error(struct sock *sk, struct msghdr *msg, size_t len,
		  int *addr_len)
{
	struct sk_buff_head *q = sock_error_queue(sk, false);
	struct {
		struct sock_extended_err ee;
		struct sockaddr_in offender;
	} errhdr;
	const struct ip_exterr_cb *cb;
	struct sk_buff *skb, *next;
	size_t copied;
	bool icmp;
	int err;

	skb = q ? skb_dequeue(q) : NULL;
	if (!skb)
		return -EAGAIN;
	ip_err_unqueue(sk, skb);
	cb = IP_EXTERR_CB(skb);
	icmp = cb->ee.ee_origin == SO_EE_ORIGIN_ICMP;
	/* Linux's sock_dequeue_err_skb: the pending error becomes the next
	 * ICMP error's, or none once the last is read; and while errors
	 * remain the socket reports itself again (an edge-triggered waiter
	 * that reads one per wake-up does not stall). */
	next = skb_peek(q);
	if (next && IP_EXTERR_CB(next)->ee.ee_origin == SO_EE_ORIGIN_ICMP)
		sk->err = (int)IP_EXTERR_CB(next)->ee.ee_errno;
	else if (icmp)
		sk->err = 0;
	if (next && sk->sk_socket)
		sk_error_report(sk);
	copied = skb->len;
	if (copied > len) {
		msg->msg_flags |= MSG_TRUNC;
		copied = len;
	}
	err = iov_copy_to(msg, 0, skb->data, copied);
	if (err < 0) {
		skb_free(skb);
		return err;
	}
	sock_put_timestamp(msg, sk, skb->tstamp,
			   cb->ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING ?
			   SOCK_TS_SRC_REPORT : SOCK_TS_SRC_ERROR);
	/* An address for an ICMP or local error, or one with a port; not
	 * for a timestamp's or a notice (Linux's
	 * ipv4_datagram_support_addr). */
	if (cb->ee.ee_origin == SO_EE_ORIGIN_ICMP ||
	    cb->ee.ee_origin == SO_EE_ORIGIN_LOCAL || cb->port)
		ip_msg_name(msg, cb->addr, cb->port, addr_len);
	memset(&errhdr, 0, sizeof(errhdr));
	errhdr.ee = cb->ee;
	if (icmp || (cb->ip_cmsgs &&
		     (sk->tsflags & SOF_TIMESTAMPING_OPT_CMSG))) {
		errhdr.offender.sin_family = AF_INET;
		memcpy(&errhdr.offender.sin_addr.s_addr,
		       skb_network_header(skb) + 12, 4);
		ip_cmsg_recv(msg, sk, skb);
	}
	put_cmsg(msg, SOL_IP, IP_RECVERR, sizeof(errhdr), &errhdr);
	msg->msg_flags |= MSG_ERRQUEUE;
	skb_free(skb);
	return (int)copied;
}
