/*
 * udp.c - UDP (RFC 768, RFC 1122 §4.1): port table, receive, send, ICMP
 * errors, and the protocol's struct proto (see udp.h).
 */
#include "net/udp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/checksum.h"
#include "core/iov.h"
#include "dev/gso.h"
#include "net/af_inet.h"
#include "net/icmp.h"
#include "net/icmp_errno.h"
#include "net/igmp.h"
#include "net/ip_options.h"
#include "net/ipv4.h"
#include "stack/stack.h"

static const struct net_protocol udp_protocol;

static inline struct list_head *udp_bucket(struct udp_table *t, uint16_t port)
{
	return &t->hash[port % UDP_HTABLE_SIZE];
}

void udp_init(struct ustack *st)
{
	for (int i = 0; i < UDP_HTABLE_SIZE; i++)
		list_init(&st->udp.hash[i]);
	st->udp.count = 0;
	ip_register_protocol(st, IPPROTO_UDP, &udp_protocol);
}

/*
 * Would sk, bound to its rcv_saddr, clash with sk2 on the same port?
 * As Linux's udp_lib_lport_inuse: the addresses overlap (equal or either a
 * wildcard) and they do not both allow sharing by SO_REUSEADDR or by
 * SO_REUSEPORT (same owner: one process here).
 */
static bool udp_conflict(const struct sock *sk, const struct sock *sk2)
{
	if (sk->rcv_saddr && sk2->rcv_saddr && sk->rcv_saddr != sk2->rcv_saddr)
		return false;
	if (sk->bound_dev_if && sk2->bound_dev_if &&
	    sk->bound_dev_if != sk2->bound_dev_if)
		return false;
	if (sk->reuseaddr && sk2->reuseaddr)
		return false;
	if (sk->reuseport && sk2->reuseport)
		return false;
	return true;
}

static bool udp_port_inuse(struct ustack *st, const struct sock *sk,
			   uint16_t port)
{
	struct list_head *pos;

	list_for_each(pos, udp_bucket(&st->udp, port)) {
		struct sock *sk2 = list_entry(pos, struct sock, bind_node);

		if (sk2 != sk && sk2->num == port && udp_conflict(sk, sk2))
			return true;
	}
	return false;
}

/*
 * RFC 6056 §3.3.1 (Algorithm 1, simple port randomization): start at a
 * random port of the ephemeral range and take the first free one.
 */
static int udp_pick_port(struct ustack *st, const struct sock *sk)
{
	uint32_t lo, hi, range, offset;

	inet_sk_get_local_port_range(sk, &lo, &hi);
	range = hi - lo + 1;
	offset = (uint32_t)us_rng_below(&st->rng, range);
	for (uint32_t i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(lo + (offset + i) % range);

		if (!udp_port_inuse(st, sk, port))
			return port;
	}
	return -EADDRINUSE;
}

static void udp_unhash(struct sock *sk);

/* The SO_REUSEPORT group sk joins at bind (Linux's
 * udp_reuseport_add_sock): a socket's on the same address, port and
 * device with SO_REUSEPORT (made when it has none yet); NULL: a group of
 * its own. */
static struct sock *udp_reuseport_peer(struct ustack *st,
				       const struct sock *sk)
{
	struct list_head *pos;

	list_for_each(pos, udp_bucket(&st->udp, sk->num)) {
		struct sock *sk2 = list_entry(pos, struct sock, bind_node);

		if (reuseport_peer(sk, sk2))
			return sk2;
	}
	return NULL;
}

static int udp_get_port(struct sock *sk, uint16_t snum)
{
	struct ustack *st = sk->st;
	int port = snum;

	if (snum == 0) {
		port = udp_pick_port(st, sk);
		if (port < 0)
			return port;
	} else if (udp_port_inuse(st, sk, snum)) {
		return -EADDRINUSE;
	}
	sk->num = (uint16_t)port;
	/*
	 * At the head, as Linux adds it: of sockets that match a datagram
	 * equally well (sharing the port by SO_REUSEADDR), the lookup keeps
	 * the first, so the one bound last receives.
	 */
	list_add(&sk->bind_node, udp_bucket(&st->udp, sk->num));
	st->udp.count++;
	if (sk->reuseport) {
		int rc = reuseport_join(sk, udp_reuseport_peer(st, sk));

		if (rc < 0) {
			udp_unhash(sk);
			return rc;
		}
	}
	return 0;
}

static void udp_unhash(struct sock *sk)
{
	if (!sk->num)
		return;
	reuseport_leave(sk);
	list_del(&sk->bind_node);
	sk->st->udp.count--;
	sk->num = 0;
	sk->sport = 0;
}

/*
 * How well sk matches a datagram (Linux's compute_score): -1 when it cannot
 * take it at all, higher for more specific bindings.
 */
static int udp_score(const struct sock *sk, uint32_t saddr, uint16_t sport,
		     uint32_t daddr, uint16_t hnum, int ifindex)
{
	int score = 0;

	if (sk->num != hnum)
		return -1;
	if (sk->rcv_saddr) {
		if (sk->rcv_saddr != daddr)
			return -1;
		score += 4;
	}
	if (sk->daddr) {
		if (sk->daddr != saddr)
			return -1;
		score += 4;
	}
	if (sk->dport) {
		if (sk->dport != sport)
			return -1;
		score += 4;
	}
	if (sk->bound_dev_if) {
		if (sk->bound_dev_if != ifindex)
			return -1;
		score += 4;
	}
	/* The CPU its last packet was taken on, or SO_INCOMING_CPU's, is
	 * this one (Linux's compute_score). */
	if (sk->incoming_cpu >= 0 && sk->incoming_cpu == sched_getcpu())
		score++;
	return score;
}

/* A 32-bit mix of the flow (MurmurHash3's finalizer), whose top bits
 * reuseport_select scales to the group's size. */
static uint32_t udp_flow_mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	return h ^ (h >> 16);
}

/* The best socket for a unicast datagram; among SO_REUSEPORT sockets of
 * equal score one is chosen by a hash of the source, so a flow sticks:
 * by their group (sock_reuseport.c), whose program sees the payload of
 * skb (NULL: an ICMP error's quoted datagram, by the hash alone). */
static struct sock *udp_lookup(struct ustack *st, uint32_t saddr,
			       uint16_t sport, uint32_t daddr, uint16_t dport,
			       int ifindex, const struct sk_buff *skb)
{
	uint16_t hnum = ntohs(dport);
	struct sock *best = NULL;
	int best_score = -1, matches = 0;
	uint32_t hash = ntohl(saddr) * 2654435761u ^ sport;
	struct list_head *pos;

	list_for_each(pos, udp_bucket(&st->udp, hnum)) {
		struct sock *sk = list_entry(pos, struct sock, bind_node);
		int score = udp_score(sk, saddr, sport, daddr, hnum, ifindex);

		if (score < 0)
			continue;
		if (score > best_score) {
			best = sk;
			best_score = score;
			matches = 1;
		} else if (score == best_score && sk->reuseport && best->reuseport) {
			/* Reservoir choice, deterministic from the hash. */
			matches++;
			if ((hash >> 8) % (uint32_t)matches == 0)
				best = sk;
		}
	}
	if (best && best->reuseport && best->has_ext) {
		struct sock *sk2 = reuseport_select(
			best, udp_flow_mix(hash ^ ntohl(daddr) * 40503u ^ hnum),
			skb, skb ? skb->data : NULL);

		if (sk2)
			best = sk2;
	}
	return best;
}

static enum us_drop_reason udp_validate(struct sk_buff *skb, uint16_t *ulen)
{
	const uint8_t *uh = skb->data;
	const uint8_t *iph = skb_network_header(skb);
	uint32_t saddr, daddr, sum;

	if (skb->len < UDP_HLEN)
		return US_DROP_UDP_TRUNCATED;
	*ulen = (uint16_t)(uh[4] << 8 | uh[5]);
	if (*ulen < UDP_HLEN || *ulen > skb->len)
		return US_DROP_UDP_BAD_LENGTH;
	skb_trim(skb, *ulen);
	/* RFC 768: an all-zero checksum means the sender computed none. */
	if ((uh[6] | uh[7]) == 0 || skb->ip_summed == CHECKSUM_UNNECESSARY)
		return US_DROP_NOT_DROPPED;
	memcpy(&saddr, iph + 12, 4);
	memcpy(&daddr, iph + 16, 4);
	sum = csum_tcpudp_nofold(saddr, daddr, IPPROTO_UDP, *ulen, 0);
	if (csum_fold(csum_partial(uh, *ulen, sum)) != 0)
		return US_DROP_UDP_BAD_CSUM;
	return US_DROP_NOT_DROPPED;
}

static void udp_queue_one(struct sock *sk, struct sk_buff *skb)
{
	struct ustack *st = sk->st;

	/* The socket's filter first, from the UDP header, never cutting
	 * into it (Linux's udp_queue_rcv_one_skb: a drop counts as an
	 * error and in SO_RXQ_OVFL's count). */
	if (sk->filter &&
	    !sk_filter_trim(sk, skb, skb_transport_header(skb), UDP_HLEN)) {
		sk->drops++;
		us_mib_inc(st, US_MIB_UDP_IN_ERRORS);
		us_drop(st, skb, US_DROP_SOCKET_FILTER);
		return;
	}
	if (sk->daddr)   /* (Linux's __udp_queue_rcv_skb) */
		sk_incoming_cpu_update(sk);
	ip_pktinfo_prepare(sk, skb);
	if (sock_queue_rcv_skb(sk, skb) < 0) {
		us_mib_inc(st, US_MIB_UDP_RCVBUF_ERRORS);
		us_mib_inc(st, US_MIB_UDP_IN_ERRORS);
		us_drop(st, skb, US_DROP_SOCKET_RCVBUFF);
		return;
	}
	us_mib_inc(st, US_MIB_UDP_IN_DATAGRAMS);
}

/*
 * A GSO packet (SKB_GSO_UDP_L4: from a device with GRO_UDP_L4, or a
 * UDP_SEGMENT send over lo) for a socket that did not ask for it whole
 * (Linux's udp_unexpected_gso and udp_rcv_segment): cut into its
 * datagrams, each queued as if it had come alone. skb->data is at the
 * payload.
 */
static void udp_queue_segments(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff_head segs;
	struct sk_buff *seg;
	int rc;

	skb_queue_head_init(&segs);
	skb_push(skb, (unsigned int)(skb->data - skb_network_header(skb)));
	rc = skb_gso_segment_rx(skb, &segs);
	if (rc < 0) {
		us_mib_inc(sk->st, US_MIB_UDP_IN_ERRORS);
		us_drop(sk->st, skb, rc == -ENOMEM ? US_DROP_NOMEM
						   : US_DROP_UDP_BAD_LENGTH);
		return;
	}
	while ((seg = skb_dequeue(&segs)) != NULL) {
		seg->pkt_type = skb->pkt_type;
		seg->ip_summed = CHECKSUM_UNNECESSARY;
		memcpy(seg->cb, skb->cb, sizeof(seg->cb));
		skb_pull(seg, (unsigned int)(skb_transport_header(seg) + UDP_HLEN -
					     seg->data));
		udp_queue_one(sk, seg);
	}
	skb_free(skb);
}

static void udp_queue(struct sock *sk, struct sk_buff *skb)
{
	if (skb_is_gso(skb) && !((struct udp_sock *)sk)->gro_enabled)
		udp_queue_segments(sk, skb);
	else
		udp_queue_one(sk, skb);
}

/* Broadcast and multicast: every socket on the port whose binding admits
 * the destination gets a copy (Linux's __udp4_lib_mcast_deliver and
 * __udp_v4_is_mcast_sock): for a group, one bound to no device or to the
 * one it came by, that joined the group there or takes every group
 * (IP_MULTICAST_ALL). None: counted as Linux's IgnoredMulti, no ICMP. */
static void udp_deliver_broadcast(struct ustack *st, struct sk_buff *skb,
				  uint32_t saddr, uint16_t sport,
				  uint32_t daddr, uint16_t dport)
{
	uint16_t hnum = ntohs(dport);
	int dif = ip_iif(st, skb);
	struct sock *first = NULL;
	struct list_head *pos;

	list_for_each(pos, udp_bucket(&st->udp, hnum)) {
		struct sock *sk = list_entry(pos, struct sock, bind_node);
		struct sk_buff *c;

		if (sk->num != hnum || (sk->rcv_saddr && sk->rcv_saddr != daddr) ||
		    (sk->daddr && sk->daddr != saddr) ||
		    (sk->dport && sk->dport != sport) ||
		    (sk->bound_dev_if && sk->bound_dev_if != dif) ||
		    !ip_mc_sf_allow(sk, daddr, saddr, dif))
			continue;
		if (!first) {
			first = sk;
			continue;
		}
		c = skb_clone(skb);
		if (c)
			udp_queue(sk, c);
		else
			us_drop(st, NULL, US_DROP_NOMEM);
	}
	if (first) {
		udp_queue(first, skb);
		return;
	}
	us_mib_inc(st, US_MIB_UDP_IGNORED_MULTI);
	us_drop(st, skb, US_DROP_UDP_NO_SOCKET);
}

void udp_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	const uint8_t *iph = skb_network_header(skb);
	uint32_t saddr, daddr;
	uint16_t sport, dport, ulen;
	enum us_drop_reason why;
	struct sock *sk;

	skb_reset_transport_header(skb);
	why = udp_validate(skb, &ulen);
	if (why != US_DROP_NOT_DROPPED) {
		us_mib_inc(st, why == US_DROP_UDP_BAD_CSUM ? US_MIB_UDP_CSUM_ERRORS
							  : US_MIB_UDP_IN_ERRORS);
		us_drop(st, skb, why);
		return;
	}
	memcpy(&saddr, iph + 12, 4);
	memcpy(&daddr, iph + 16, 4);
	memcpy(&sport, skb->data, 2);
	memcpy(&dport, skb->data + 2, 2);
	skb_pull(skb, UDP_HLEN);
	if (ip_addr_type(st, daddr) != IP_ADDR_LOCAL) {
		udp_deliver_broadcast(st, skb, saddr, sport, daddr, dport);
		return;
	}
	sk = udp_lookup(st, saddr, sport, daddr, dport, ip_iif(st, skb), skb);
	if (sk) {
		udp_queue(sk, skb);
		return;
	}
	/* RFC 1122 §4.1.3.1: no one listens: ICMP port unreachable. */
	us_mib_inc(st, US_MIB_UDP_NO_PORTS);
	skb_push(skb, UDP_HLEN);
	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	us_drop(st, skb, US_DROP_UDP_NO_SOCKET);
}

/*
 * An ICMP error about a datagram we sent (RFC 1122 §4.1.3.3), as Linux's
 * __udp4_lib_err. Without IP_RECVERR only a connected socket hears of it,
 * and only of hard errors: the next send or receive on it fails with the
 * errno. With IP_RECVERR every error is kept on the error queue and is
 * the socket's pending error too. "Fragmentation needed" (RFC 1191) sets
 * the path MTU, unless the socket's IP_MTU_DISCOVER ignores ICMP's, and
 * is an EMSGSIZE unless it sends without DF (IP_PMTUDISC_DONT).
 */
static void udp_err(struct ustack *st, struct sk_buff *skb,
		    const struct ipv4_info *inner, const uint8_t *l4,
		    size_t l4_len, int type, int code, uint32_t info)
{
	uint16_t sport, dport;
	bool fatal;
	struct sock *sk;
	int err;

	if (l4_len < UDP_HLEN)
		return;
	memcpy(&sport, l4, 2);
	memcpy(&dport, l4 + 2, 2);
	/* Look it up as if the quoted datagram were coming back to us. */
	/* (By the device the error came in on, as Linux's __udp4_lib_err:
	 * a socket bound to a device hears of errors that came on it.) */
	sk = udp_lookup(st, inner->daddr, dport, inner->saddr, sport,
			 skb->dev ? skb->dev->ifindex : 0, NULL);
	if (!sk)
		return;
	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED) {
			if (ip_sk_accept_pmtu(sk))
				ip_pmtu_update(st, inner->daddr, info & 0xffff);
			if (sk->pmtudisc == IP_PMTUDISC_DONT)
				return;
			err = EMSGSIZE;
			fatal = true;
			break;
		}
		err = icmp_err_convert(type, code, &fatal);
		break;
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		err = icmp_err_convert(type, code, &fatal);
		break;
	default:
		return;   /* source quench (RFC 6633), redirect */
	}
	if (sk->recverr)
		ip_icmp_error(sk, skb, err, inner->daddr, dport, info,
			      l4 + UDP_HLEN);
	else if (!fatal || sk->state != TCP_ESTABLISHED)
		return;
	sock_set_error(sk, err);
}

static const struct net_protocol udp_protocol = {
	.handler = udp_rcv,
	.err_handler = udp_err,
};

/*
 * The route of a datagram socket to daddr from saddr (0: the route's
 * choice). To a group, as Linux's udp_sendmsg, __ip4_datagram_connect and
 * ip_route_output_key_hash_rcu pick it: the device is oif (a control
 * message's), else SO_BINDTODEVICE's, else IP_MULTICAST_IF's, else the
 * one that has the source address; the source is saddr, else
 * IP_MULTICAST_IF's address, and must be one of ours (ENETUNREACH); the
 * route's saddr is that source. Else by destination, as ustack routes.
 */
static int dgram_route(struct sock *sk, int oif, uint32_t saddr,
		       uint32_t daddr, struct ip_route *rt, int *oifp)
{
	struct ustack *st = sk->st;
	int rc;

	/* A source this host does not have (bound with IP_FREEBIND before
	 * the address came): Linux's route lookup refuses it
	 * (ip_route_output_key_hash_rcu without FLOWI_FLAG_ANYSRC). */
	if (saddr && ip_addr_type(st, saddr) != IP_ADDR_LOCAL)
		return -ENETUNREACH;
	if (!IN_MULTICAST(ntohl(daddr))) {
		/* The message's interface, else SO_BINDTODEVICE's, else
		 * IP_UNICAST_IF's (Linux's ipcm_init_sk, udp_sendmsg). */
		if (!oif)
			oif = sk->bound_dev_if;
		if (!oif)
			oif = inet_uc_index(sk);
		*oifp = oif;
		rc = ip_route_output_oif(st, daddr, oif, rt);
		return rc < 0 ? rc : ip_route_check_saddr(saddr, rt);
	}
	if (!oif)
		oif = sk->bound_dev_if;
	if (!oif)
		oif = inet_dgram_sk(sk)->mc_index;
	if (!saddr)
		saddr = inet_dgram_sk(sk)->mc_addr;
	if (saddr) {
		struct net_device *dev = ip_dev_find(st, saddr);

		if (!dev || ip_addr_type(st, saddr) != IP_ADDR_LOCAL)
			return -ENETUNREACH;
		if (!oif)
			oif = dev->ifindex;
	}
	rc = oif ? ip_route_output_mc(st, daddr, oif, rt)
		 : ip_route_output(st, daddr, rt);
	if (rc == 0 && saddr)
		rt->saddr = saddr;
	if (rc == 0)
		*oifp = rt->dev->ifindex;
	return rc;
}

/*
 * A destination of 0.0.0.0 means this host, as Linux's route lookup
 * (ip_route_output_key_hash_rcu) makes it: the socket's own source
 * address if it has one, else 127.0.0.1.
 */
uint32_t udp_dest_addr(const struct sock *sk, uint32_t daddr)
{
	if (daddr != htonl(INADDR_ANY))
		return daddr;
	return sk->saddr ? sk->saddr : htonl(INADDR_LOOPBACK);
}

int ip4_datagram_connect(struct sock *sk, const struct sockaddr *uaddr,
			 int len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	struct ip_route rt;
	uint32_t daddr;
	int oif, rc = inet_check_sockaddr(uaddr, len);

	if (rc < 0)
		return rc;
	daddr = udp_dest_addr(sk, sin->sin_addr.s_addr);
	rc = dgram_route(sk, 0, sk->saddr, daddr, &rt, &oif);
	if (rc < 0)
		return rc;
	if (rt.broadcast && !sk->broadcast)
		return -EACCES;
	if (!sk->saddr)
		sk->saddr = rt.saddr;
	/* Its SO_REUSEPORT group: left with a new address (Linux's
	 * udp_lib_rehash), else no longer chosen from (has_conns). */
	if (!sk->rcv_saddr) {
		sk->rcv_saddr = rt.saddr;
		reuseport_leave(sk);
	} else {
		reuseport_has_conns_set(sk);
	}
	sk->daddr = daddr;
	sk->dport = sin->sin_port;
	sk->state = TCP_ESTABLISHED;
	return 0;
}

/* connect(AF_UNSPEC): as Linux's __udp_disconnect, forget the peer, and
 * the address and port too unless the user bound them (the protocol's
 * unhash: UDP's port, ping's identifier). */
int udp_disconnect(struct sock *sk, int flags)
{
	sk->state = TCP_CLOSE;
	sk->daddr = 0;
	sk->dport = 0;
	sk->bound_dev_if = 0;
	if (!sk->userlocks_addr)
		sk->saddr = sk->rcv_saddr = 0;
	if (!sk->userlocks_port)
		sk->prot->unhash(sk);
	return 0;
}

/* A sent skb's memory is charged to its socket until the device is done
 * with it (Linux's sock_wfree); it holds a reference meanwhile. */
void udp_wfree(struct sk_buff *skb)
{
	struct sock *sk = skb->sk;

	sk->wmem_alloc -= (int)skb->truesize;
	if (sk->sk_socket)
		sk_write_space(sk);
	sock_put(sk);
}

struct udp_dest {
	uint32_t daddr;
	uint16_t dport;
	bool connected;     /* to the connected peer (no address given) */
};

static int udp_sendmsg_dest(struct sock *sk, const struct msghdr *msg,
			    struct udp_dest *d)
{
	const struct sockaddr_in *sin = msg->msg_name;

	if (sin) {
		if (msg->msg_namelen < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET && sin->sin_family != AF_UNSPEC)
			return -EAFNOSUPPORT;
		if (sin->sin_port == 0)
			return -EINVAL;
		d->daddr = udp_dest_addr(sk, sin->sin_addr.s_addr);
		d->dport = sin->sin_port;
		d->connected = false;
		return 0;
	}
	if (sk->state != TCP_ESTABLISHED)
		return -EDESTADDRREQ;
	d->daddr = sk->daddr;
	d->dport = sk->dport;
	d->connected = true;
	return 0;
}

/*
 * The control messages of a sendmsg (Linux's udp_cmsg_send, then
 * ip_cmsg_send). SOL_UDP: UDP_SEGMENT with a u16 for this datagram;
 * anything else there is EINVAL. 1 when there were any (the datagram
 * leaves the connected path), else 0, or -errno.
 */
static int udp_cmsg_send(struct sock *sk, const struct msghdr *msg,
			 struct ipcm *ipc)
{
	int rc;

	if (!msg->msg_controllen)
		return 0;
	for (struct cmsghdr *c = sock_cmsg_first(msg); c;
	     c = sock_cmsg_next(msg, c)) {
		if (!sock_cmsg_ok(msg, c))
			return -EINVAL;
		if (c->cmsg_level != SOL_UDP)
			continue;
		if (c->cmsg_type != UDP_SEGMENT ||
		    c->cmsg_len != CMSG_LEN(sizeof(uint16_t)))
			return -EINVAL;
		memcpy(&ipc->gso_size, CMSG_DATA(c), sizeof(uint16_t));
		ipc->gso_set = true;
	}
	rc = ip_cmsg_send(sk, msg, ipc);
	return rc < 0 ? rc : 1;
}

/*
 * The route, with what the control messages asked (Linux's
 * ip_route_output_key_hash_rcu): a source address must be a unicast one
 * (EINVAL) and one of ours (ENETUNREACH), an interface must exist
 * (ENODEV). The device is the message's interface, SO_BINDTODEVICE's or
 * IP_UNICAST_IF's when there is one (*oifp: the one used), else the
 * routes'; to a group, dgram_route's choice; saddr is the source asked
 * for (0: the route's).
 */
static int udp_route(struct sock *sk, const struct ipcm *ipc, uint32_t saddr,
		     uint32_t daddr, struct ip_route *rt, int *oifp)
{
	struct ustack *st = sk->st;

	if (ipc->saddr) {
		uint32_t h = ntohl(ipc->saddr);

		if (IN_MULTICAST(h) || h == INADDR_BROADCAST || !(h >> 24))
			return -EINVAL;
		if (ip_addr_type(st, ipc->saddr) != IP_ADDR_LOCAL)
			return -ENETUNREACH;
	}
	if (ipc->oif && !us_dev_get_by_index(st, ipc->oif))
		return -ENODEV;
	return dgram_route(sk, ipc->oif, saddr, daddr, rt, oifp);
}

/*
 * The header, and the checksum in full; for a GSO packet the length is
 * the whole one's and the checksum is left partial (the pseudo-header sum
 * counted with that length, Linux's udp4_hwcsum): the device or gso.c
 * makes each datagram's.
 */
static void udp_fill_header(struct sk_buff *skb, const struct sock *sk,
			    uint32_t saddr, uint32_t daddr, uint16_t dport)
{
	uint16_t ulen = (uint16_t)skb->len;
	uint8_t *uh = skb->data;
	uint32_t pseudo = csum_tcpudp_nofold(saddr, daddr, IPPROTO_UDP, ulen, 0);
	uint16_t check;

	memcpy(uh, &sk->sport, 2);
	memcpy(uh + 2, &dport, 2);
	uh[4] = (uint8_t)(ulen >> 8);
	uh[5] = (uint8_t)ulen;
	uh[6] = uh[7] = 0;
	if (sk->no_check && !skb_is_gso(skb)) {
		/* SO_NO_CHECK: no checksum at all (RFC 768 allows it). */
		skb->ip_summed = CHECKSUM_NONE;
		return;
	}
	if (skb_is_gso(skb)) {
		check = (uint16_t)~csum_fold(pseudo);
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = (uint16_t)skb_headroom(skb);
		skb->csum_offset = 6;
	} else {
		check = csum_fold(csum_partial(uh, ulen, pseudo));
		/* RFC 768: a computed zero is sent as all ones. */
		if (check == 0)
			check = 0xffff;
	}
	uh[6] = (uint8_t)(check >> 8);
	uh[7] = (uint8_t)check;
}

/*
 * Where a send goes (the first part of Linux's udp_sendmsg): the
 * destination, the control messages, the route, SO_BROADCAST; fl gets
 * the IP header's fields and the MTUs the datagram is held to.
 */
static int udp_flow(struct sock *sk, const struct msghdr *msg,
		    struct udp_cork *fl)
{
	struct ipcm ipc = { .ttl = -1, .tos = -1 };
	struct udp_dest d;
	int rc;

	sockcm_init(&ipc.sockc, sk);
	rc = udp_sendmsg_dest(sk, msg, &d);
	if (rc < 0)
		return rc;
	rc = udp_cmsg_send(sk, msg, &ipc);
	if (rc < 0)
		return rc;
	if (rc > 0)
		d.connected = false;   /* (Linux leaves its cached route) */
	rc = udp_flow_route(sk, &ipc, d.daddr, d.connected, IPPROTO_UDP, fl);
	fl->dport = d.dport;
	fl->gso_size = ipc.gso_set ? ipc.gso_size
				   : ((struct udp_sock *)sk)->gso_size;
	return rc;
}

int udp_flow_route(struct sock *sk, const struct ipcm *ipc, uint32_t daddr,
		   bool connected, uint8_t protocol, struct udp_cork *fl)
{
	bool mcast = IN_MULTICAST(ntohl(daddr));
	/* IP_PKTINFO's source overrides the socket's, 0 meaning the
	 * route's (Linux's ipc.addr). */
	uint32_t saddr = ipc->saddr ? ipc->saddr
			 : !ipc->saddr_set ? sk->saddr : 0;
	/* IP_RETOPTS's options for this datagram, else the socket's
	 * (Linux's ipc.opt); a source route goes by its first hop. */
	const struct ip_options *opt = ipc->opt ? ipc->opt
				       : ip_sock_options(sk);
	struct ip_route rt;
	int rc, oif = 0;

	memset(fl, 0, sizeof(*fl));
	fl->sockc = ipc->sockc;
	if (opt && opt->optlen)
		fl->args.opt = opt;
	rc = udp_route(sk, ipc, saddr, ip_options_first_hop(fl->args.opt, daddr),
		       &rt, &oif);
	if (rc < 0)
		return rc;
	/*
	 * To the connected peer, Linux sends on the route it cached at
	 * connect(), whose SO_BROADCAST check was made then: clearing
	 * SO_BROADCAST afterwards does not stop a connected socket.
	 */
	if (rt.broadcast && !sk->broadcast &&
	    !connected)
		return -EACCES;
	/* (To a group, the route's source is IP_MULTICAST_IF's address
	 * when the socket has none: dgram_route.) A group gets the
	 * socket's IP_MULTICAST_TTL, not its IP_TTL (Linux's
	 * __ip_make_skb); a control message's IP_TTL goes before both. */
	fl->args.saddr = saddr ? saddr : rt.saddr;
	fl->args.daddr = daddr;
	fl->args.protocol = protocol;
	fl->args.ttl = ipc->ttl >= 0 ? (uint8_t)ipc->ttl
		       : mcast ? sk->mc_ttl
		       : sk->ttl < 0 ? 0 : (uint8_t)sk->ttl;
	fl->args.oif = oif;   /* dgram_route's */
	fl->args.mark = ipc->sockc.mark;
	if (mcast) {
		fl->args.host_only = fl->args.ttl == 0;
		fl->args.mc_loop = sk->mc_loop;
	}
	fl->args.tos = ipc->tos >= 0 ? (uint8_t)ipc->tos : sk->tos;
	fl->args.dev_mtu = !ip_sk_use_pmtu(sk);
	fl->fragsize = ip_sk_use_pmtu(sk) ? rt.mtu : rt.dev->mtu;
	fl->path_mtu = rt.mtu;
	fl->mtu_locked = rt.mtu_locked;
	return 0;
}

/*
 * The size of a datagram of `payload` bytes (UDP header included), as
 * Linux's __ip_append_data checks it, before any pending error: at most
 * 65535 bytes in all, and under IP_MTU_DISCOVER's DO, PROBE and
 * INTERFACE, which forbid fragmenting here, at most the MTU; the error
 * goes to the error queue too, with the MTU (IP_RECVERR).
 */
int udp_check_size(struct sock *sk, const struct udp_cork *fl, size_t payload)
{
	/* With UDP_SEGMENT, the datagrams it is cut into are checked as it
	 * goes (udp_send_skb); the whole may be 64 KB (Linux's
	 * __ip_append_data: IP_MAX_MTU). */
	if (IP_HLEN_MIN + ip_options_len(fl->args.opt) + payload <=
	    (ip_sk_ignore_df(sk) || fl->gso_size ? IP_MAXPACKET
						 : fl->fragsize))
		return 0;
	ip_local_error(sk, EMSGSIZE, fl->args.daddr, sk->dport, fl->fragsize);
	return -EMSGSIZE;
}

/* A new datagram's buffer with len bytes of msg after the header's room
 * (Linux's ip_make_skb, or the first buffer of a corked one). */
static int udp_new_datagram(struct sock *sk, const struct udp_cork *fl,
			    const struct msghdr *msg, size_t len, int flags,
			    struct zc_send *z, struct sk_buff **out)
{
	struct sk_buff *skb;
	int rc;

	rc = udp_check_size(sk, fl, UDP_HLEN + len);
	if (rc < 0)
		return rc;
	/* MSG_ZEROCOPY's record, after the size and before the rest, as
	 * Linux's __ip_append_data (the header counts: a datagram of no
	 * bytes takes an id too). */
	rc = sock_zc_start(sk, flags, UDP_HLEN + len, NULL, z);
	if (rc < 0)
		return rc;
	rc = sock_error(sk);
	if (rc)
		return -rc;
	if (sk->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	skb = us_skb_alloc(sk->st, (unsigned int)(UDP_HLEN + len));
	if (!skb)
		return -ENOBUFS;
	/* Room while less than the send buffer is in use, whatever this
	 * datagram's size (Linux's sock_alloc_send_pskb): so a socket that
	 * polls writable (less than half in use) can always send. */
	if (sk->wmem_alloc >= sk->sndbuf) {
		skb_free(skb);
		return -EAGAIN;
	}
	skb_put(skb, (unsigned int)(UDP_HLEN + len));
	rc = iov_copy_from(skb->data + UDP_HLEN, msg, 0, len);
	if (rc < 0) {
		skb_free(skb);
		return rc;
	}
	*out = skb;
	return 0;
}

/* DF (Linux's __ip_make_skb): always under DO and PROBE; under WANT
 * when the datagram fits the path, so that a larger one is fragmented
 * here instead of dropped on the way. */
bool udp_df(const struct sock *sk, const struct udp_cork *fl, size_t len)
{
	return sk->pmtudisc == IP_PMTUDISC_DO ||
	       sk->pmtudisc == IP_PMTUDISC_PROBE ||
	       (ip_dont_fragment(sk, fl->mtu_locked) &&
		IP_HLEN_MIN + ip_options_len(fl->args.opt) + len <=
		fl->path_mtu);
}

/* Linux's udp_send_skb: the header, DF (by the whole length, a GSO
 * packet's too, as Linux's __ip_make_skb: its datagrams go without DF
 * under IP_PMTUDISC_WANT), out. 0 or -errno. */
static int udp_xmit_one(struct sock *sk, struct sk_buff *skb,
			const struct udp_cork *fl)
{
	struct ustack *st = sk->st;
	struct ip_out_args args = fl->args;
	int rc;

	args.df = udp_df(sk, fl, skb->len);
	udp_fill_header(skb, sk, args.saddr, args.daddr, fl->dport);
	skb_reset_transport_header(skb);
	sock_hold(sk);
	skb->sk = sk;
	skb->destructor = udp_wfree;
	sk->wmem_alloc += (int)skb->truesize;
	rc = ip_output(st, skb, &args);
	/* A datagram the device queue had no room for is lost as on the
	 * wire, unless the user asked to hear of errors (Linux's
	 * udp_send_skb: ENOBUFS only under IP_RECVERR). */
	if (rc == -ENOBUFS) {
		us_mib_inc(st, US_MIB_UDP_SNDBUF_ERRORS);
		return sk->recverr ? rc : 0;
	}
	if (rc < 0)
		return rc;
	us_mib_inc(st, US_MIB_UDP_OUT_DATAGRAMS);
	return 0;
}

/*
 * UDP_SEGMENT (Linux's udp_send_skb with a gso_size, RFC 768 per
 * datagram): a payload larger than gso_size goes as one GSO packet
 * (SKB_GSO_UDP_L4) of datagrams of gso_size bytes, the last shorter: the
 * device cuts it (a TAP with USO: the kernel), or dev_queue_xmit does
 * (gso.c), or a local receiver takes it whole or cut (udp_queue).
 * Refused whole: EMSGSIZE if one datagram would not fit the path, EINVAL
 * past UDP_MAX_SEGMENTS (128) datagrams. A payload of gso_size or less
 * goes as it is.
 */
#define UDP_MAX_SEGMENTS 128

static int udp_send_skb(struct sock *sk, struct sk_buff *skb,
			const struct udp_cork *fl)
{
	size_t datalen = skb->len - UDP_HLEN, gso = fl->gso_size;
	struct skb_shared_info *si = skb_shinfo(skb);

	if (!gso)
		return udp_xmit_one(sk, skb, fl);
	if (IP_HLEN_MIN + ip_options_len(fl->args.opt) + UDP_HLEN +
	    (datalen < gso ? datalen : gso) > fl->fragsize) {
		skb_free(skb);
		return -EMSGSIZE;
	}
	if (datalen > gso * UDP_MAX_SEGMENTS || sk->no_check) {
		/* (Nor, as Linux's udp_send_skb, one without checksums.) */
		skb_free(skb);
		return -EINVAL;
	}
	if (datalen > gso) {
		si->gso_size = (uint16_t)gso;
		si->gso_type = SKB_GSO_UDP_L4;
		si->gso_segs = (uint16_t)((datalen + gso - 1) / gso);
	}
	return udp_xmit_one(sk, skb, fl);
}

/* ---- corking: UDP_CORK and MSG_MORE ----------------------------------- */

/* The pending datagram's MSG_ZEROCOPY sends complete together, as it
 * goes or is dropped (its buffer freed, in Linux). */
static void udp_zc_corked_done(struct sock *sk)
{
	struct udp_cork *ck = &((struct udp_sock *)sk)->cork;

	if (!sk->zc_corked)
		return;
	sk->zc_corked = false;
	if (sk->sk_socket)
		ip_zerocopy_notify(sk, ck->zc_lo, ck->zc_hi);
}

/* The pending datagram goes (Linux's udp_push_pending_frames). */
static int udp_push_pending(struct sock *sk)
{
	struct udp_cork *ck = &((struct udp_sock *)sk)->cork;
	struct sk_buff *skb = ck->skb;
	int rc;

	if (!skb)
		return 0;
	ck->skb = NULL;
	sk->wmem_alloc -= (int)skb->truesize;   /* charged again as sent */
	rc = udp_send_skb(sk, skb, ck);
	udp_zc_corked_done(sk);
	return rc;
}

/* The pending datagram is dropped (Linux's udp_flush_pending_frames). */
static void udp_flush_pending(struct sock *sk)
{
	struct udp_cork *ck = &((struct udp_sock *)sk)->cork;
	struct sk_buff *skb = ck->skb;

	if (!skb)
		return;
	ck->skb = NULL;
	sk->wmem_alloc -= (int)skb->truesize;
	skb_free(skb);
	udp_zc_corked_done(sk);
	if (sk->sk_socket)
		sk_write_space(sk);
}

/* A MSG_ZEROCOPY send's id, into the pending datagram's range. */
static void udp_zc_cork(struct sock *sk, const struct zc_send *z)
{
	struct udp_cork *ck = &((struct udp_sock *)sk)->cork;
	uint32_t id;

	if (!z->on)
		return;
	id = sock_zc_take_id(sk);
	if (!sk->zc_corked)
		ck->zc_lo = id;
	ck->zc_hi = id;
	sk->zc_corked = true;
}

/*
 * Room for need more bytes in the pending datagram: a copy into a buffer
 * twice as large (at most a whole datagram), so that many small sends
 * cost linear time. As the later buffers of Linux's __ip_append_data,
 * ENOBUFS once twice the send buffer is in use.
 */
static int udp_cork_grow(struct sock *sk, struct udp_cork *ck, size_t need)
{
	struct sk_buff *old = ck->skb, *skb;
	size_t want = old->len + need, cap = 2 * (size_t)old->len;

	if (cap > UDP_HLEN + UDP_MAX_PAYLOAD)
		cap = UDP_HLEN + UDP_MAX_PAYLOAD;
	if (cap < want)
		cap = want;
	if (sk->wmem_alloc > 2 * sk->sndbuf)
		return -ENOBUFS;
	skb = us_skb_alloc(sk->st, (unsigned int)cap);
	if (!skb)
		return -ENOBUFS;
	memcpy(skb_put(skb, old->len), old->data, old->len);
	/* (The datagram's timestamp reports, keyed by its first send.) */
	skb->tx_flags = old->tx_flags;
	skb->tskey = old->tskey;
	sk->wmem_alloc += (int)skb->truesize - (int)old->truesize;
	ck->skb = skb;
	skb_free(old);
	return 0;
}

/*
 * A send while a datagram is pending adds to it, whatever address or
 * control messages it names (Linux's udp_sendmsg goes straight to
 * do_append_data); without more to come it sends it. Any failure drops
 * the whole datagram, as Linux's does.
 */
static int udp_append(struct sock *sk, const struct msghdr *msg, size_t len,
		      int flags, bool more)
{
	struct udp_cork *ck = &((struct udp_sock *)sk)->cork;
	struct zc_send z = { false, false };
	unsigned int off;
	int rc;

	rc = udp_check_size(sk, ck, ck->skb->len + len);
	/* MSG_ZEROCOPY: the datagram's record takes the send, or a first
	 * one needs optmem (Linux's msg_zerocopy_realloc). */
	if (rc == 0 && sk->zc_corked && (flags & MSG_ZEROCOPY) &&
	    sk->zerocopy && len)
		z.on = true;
	else if (rc == 0)
		rc = sock_zc_start(sk, flags, len, NULL, &z);
	if (rc == 0 && len > skb_tailroom(ck->skb))
		rc = udp_cork_grow(sk, ck, len);
	if (rc == 0) {
		off = ck->skb->len;
		skb_put(ck->skb, (unsigned int)len);
		rc = iov_copy_from(ck->skb->data + off, msg, 0, len);
	}
	if (rc < 0) {
		udp_flush_pending(sk);
		return rc;
	}
	udp_zc_cork(sk, &z);
	if (!more)
		rc = udp_push_pending(sk);
	return rc < 0 ? rc : (int)len;
}

/* Linux's udp_sendmsg: the checks in the order Linux makes them, so errno
 * agrees; under UDP_CORK or MSG_MORE the datagram waits for more. */
static int udp_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len,
		       int flags)
{
	struct udp_sock *up = (struct udp_sock *)sk;
	bool more = up->corkflag || (flags & MSG_MORE);
	struct udp_cork fl;
	struct sk_buff *skb = NULL;
	struct zc_send z;
	uint32_t id;
	int rc;

	if (len > 0xffff)
		return -EMSGSIZE;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (up->cork.skb)
		return udp_append(sk, msg, len, flags, more);
	rc = udp_flow(sk, msg, &fl);
	if (rc == 0)
		rc = udp_new_datagram(sk, &fl, msg, len, flags, &z, &skb);
	if (rc < 0)
		return rc;
	if (fl.sockc.tsflags)
		skb->tx_flags = sock_tx_timestamp(sk, &fl.sockc, &skb->tskey);
	if (more) {
		/* Pending, and charged to the socket meanwhile, with the
		 * options it started with, whatever IP_OPTIONS or another
		 * IP_RETOPTS says meanwhile (the slots exist: opt is one). */
		if (fl.args.opt) {
			const struct ip_options *held =
				ip_options_hold(sk, fl.args.opt);

			if (held)
				fl.args.opt = held;
		}
		fl.skb = skb;
		up->cork = fl;
		sk->wmem_alloc += (int)skb->truesize;
		udp_zc_cork(sk, &z);
		return (int)len;
	}
	rc = udp_send_skb(sk, skb, &fl);
	/* MSG_ZEROCOPY: complete as the datagram has left (or was dropped
	 * on the way: its buffer is freed all the same), before any ICMP
	 * error it provokes is back. */
	if (z.on) {
		id = sock_zc_take_id(sk);
		ip_zerocopy_notify(sk, id, id);
	}
	return rc < 0 ? rc : (int)len;
}

/* SOL_UDP options (Linux's udp_lib_setsockopt): UDP_CORK, whose clearing
 * sends what is pending, UDP_SEGMENT (0..65535), UDP_GRO (a GSO packet
 * is taken whole, its segment size in a control message: udp_recvmsg);
 * the rest (encapsulation, UDP-Lite's) is not done here: ENOPROTOOPT. */
static int udp_setsockopt(struct sock *sk, int level, int optname,
			  const void *optval, socklen_t optlen)
{
	struct udp_sock *up = (struct udp_sock *)sk;
	int val;

	if (level != IPPROTO_UDP)
		return -ENOPROTOOPT;
	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&val, optval, sizeof(val));
	switch (optname) {
	case UDP_CORK:
		up->corkflag = val != 0;
		/* (Linux ignores what sending it returns.) */
		if (!up->corkflag)
			(void)udp_push_pending(sk);
		return 0;
	case UDP_SEGMENT:
		if (val < 0 || val > 0xffff)
			return -EINVAL;
		up->gso_size = (uint16_t)val;
		return 0;
	case UDP_GRO:
		up->gro_enabled = val != 0;
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

/* Linux's udp_lib_getsockopt: an int, cut to the length given. */
static int udp_getsockopt(struct sock *sk, int level, int optname,
			  void *optval, socklen_t *optlen)
{
	socklen_t n = sizeof(int);
	int val;

	if (level != IPPROTO_UDP)
		return -ENOPROTOOPT;
	if ((int)*optlen < 0)
		return -EINVAL;
	switch (optname) {
	case UDP_CORK:
		val = ((struct udp_sock *)sk)->corkflag;
		break;
	case UDP_SEGMENT:
		val = ((struct udp_sock *)sk)->gso_size;
		break;
	case UDP_GRO:
		val = ((struct udp_sock *)sk)->gro_enabled;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (*optlen < n)
		n = *optlen;
	if (n && !optval)
		return -EFAULT;
	memcpy(optval, &val, n);
	*optlen = n;
	return 0;
}

static void udp_fill_name(struct msghdr *msg, const struct sk_buff *skb,
			  int *addr_len)
{
	uint32_t saddr;
	uint16_t sport;

	memcpy(&saddr, skb_network_header(skb) + 12, 4);
	memcpy(&sport, skb_transport_header(skb), 2);
	ip_msg_name(msg, saddr, sport, addr_len);
}

/* Under UDP_GRO, a GSO packet's datagram size (an int), as Linux's
 * udp_cmsg_recv; nothing for a datagram that came alone. */
static void udp_cmsg_recv(struct msghdr *msg, const struct sk_buff *skb)
{
	int gso_size = skb_shinfo(skb)->gso_size;

	if (skb_is_gso(skb))
		put_cmsg(msg, SOL_UDP, UDP_GRO, sizeof(gso_size), &gso_size);
}

/*
 * The datagram a call reads, and where in it (*off): the first, from its
 * start, unless a peek at SO_PEEK_OFF's offset, which passes over the
 * datagrams that end at or before it (Linux's __skb_try_recv_from_queue).
 * A datagram of no bytes is peeked at once, then passed over too.
 */
static struct sk_buff *udp_recv_skb(struct sock *sk, int flags, int *off)
{
	struct sk_buff *skb;
	int skip = sk_peek_offset(sk, flags);

	*off = 0;
	if (skip < 0 || !(flags & MSG_PEEK))
		return skb_peek(&sk->receive_queue);
	skb_queue_walk(&sk->receive_queue, skb) {
		if ((uint32_t)skip >= skb->len &&
		    (skip || SOCK_SKB_CB(skb)->peeked)) {
			skip -= (int)skb->len;
			continue;
		}
		if (!skb->len)
			SOCK_SKB_CB(skb)->peeked = true;
		*off = skip;
		return skb;
	}
	return NULL;
}

static int udp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		       int flags, int *addr_len)
{
	struct sk_buff *skb;
	size_t copied;
	int off, err;

	if (flags & MSG_ERRQUEUE)
		return ip_recv_error(sk, msg, len, addr_len);
	err = sock_error(sk);
	if (err)
		return -err;
	skb = udp_recv_skb(sk, flags, &off);
	/*
	 * Nothing queued after shutdown(SHUT_RD): end of file, but only for
	 * a call that would otherwise wait; one that may not (MSG_DONTWAIT,
	 * O_NONBLOCK) still gets EAGAIN, as from Linux's __skb_recv_udp,
	 * which looks at the shutdown only when it is about to sleep.
	 */
	if (!skb)
		return (sk->shutdown & RCV_SHUTDOWN) && !(flags & MSG_DONTWAIT)
		       ? 0 : -EAGAIN;
	/* What follows the offset, or as much as fits: then MSG_TRUNC if
	 * that is less than the datagram (Linux's udp_recvmsg, so a peek
	 * of exactly the rest past an offset has it too). */
	if (len > skb->len - (uint32_t)off) {
		copied = skb->len - (uint32_t)off;
	} else {
		copied = len;
		if (copied < skb->len)
			msg->msg_flags |= MSG_TRUNC;
	}
	/* As Linux's udp_recvmsg: a datagram that cannot be copied out is
	 * dropped all the same (unless only peeked at). */
	err = iov_copy_to(msg, 0, skb->data + off, copied);
	if (err == 0) {
		sock_recv_cmsgs(msg, sk, skb);
		udp_fill_name(msg, skb, addr_len);
		if (((struct udp_sock *)sk)->gro_enabled)
			udp_cmsg_recv(msg, skb);
		if (ip_cmsg_wanted(sk))
			ip_cmsg_recv(msg, sk, skb);
		err = (flags & MSG_TRUNC) ? (int)skb->len : (int)copied;
		/* SO_PEEK_OFF moves on by a peek's bytes, back by a read's
		 * (both as returned: the datagram's length under MSG_TRUNC,
		 * Linux's skb_consume_udp). */
		sk_peek_offset_bwd(sk, (flags & MSG_PEEK) ? -err : err);
	} else if (!(flags & MSG_PEEK)) {
		sk->drops++;
		us_mib_inc(sk->st, US_MIB_UDP_IN_ERRORS);
	}
	if (!(flags & MSG_PEEK)) {
		skb_unlink(&sk->receive_queue, skb);
		sock_rfree(sk, skb);
		skb_free(skb);
	}
	return err;
}

static int udp_ioctl(struct sock *sk, unsigned long cmd, int *karg)
{
	struct sk_buff *skb;

	switch (cmd) {
	case SIOCOUTQ:
		*karg = sk->wmem_alloc;
		return 0;
	case SIOCINQ:
		/* The size of the next datagram, as Linux reports it. */
		skb = skb_peek(&sk->receive_queue);
		*karg = skb ? (int)skb->len : 0;
		return 0;
	default:
		/* Not a UDP request: the device level's, or ENOTTY. */
		return -ENOIOCTLCMD;
	}
}

static void udp_close(struct sock *sk)
{
	/* What is pending goes nowhere (Linux's udp_destroy_sock); the
	 * groups are left (Linux's inet_release). */
	udp_flush_pending(sk);
	ip_mc_drop_socket(sk);
	udp_unhash(sk);
	sk->state = TCP_CLOSE;
	sock_put(sk);
}

int inet_dgram_init_sock(struct sock *sk)
{
	skb_queue_head_init(&inet_dgram_sk(sk)->error_queue);
	return 0;
}

void inet_dgram_destroy(struct sock *sk)
{
	ip_mc_drop_socket(sk);
	sock_purge_queue(sk, &sk->receive_queue);
	ip_errqueue_free(sk, &inet_dgram_sk(sk)->error_queue);
}

struct sk_buff_head *inet_dgram_error_queue(struct sock *sk, bool make)
{
	(void)make;
	return &inet_dgram_sk(sk)->error_queue;
}

static void udp_destroy(struct sock *sk)
{
	udp_flush_pending(sk);
	inet_dgram_destroy(sk);
}

const struct proto udp_prot = {
	.name = "UDP",
	.obj_size = sizeof(struct udp_sock),
	.init = inet_dgram_init_sock,
	.close = udp_close,
	.connect = ip4_datagram_connect,
	.disconnect = udp_disconnect,
	.sendmsg = udp_sendmsg,
	.recvmsg = udp_recvmsg,
	.ioctl = udp_ioctl,
	.setsockopt = udp_setsockopt,
	.getsockopt = udp_getsockopt,
	.get_port = udp_get_port,
	.unhash = udp_unhash,
	.destroy = udp_destroy,
	.error_queue = inet_dgram_error_queue,
};
