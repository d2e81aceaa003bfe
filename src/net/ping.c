/*
 * ping.c - ICMP echo ("ping") sockets, as Linux's net/ipv4/ping.c: the
 * identifier table, send, receive, ICMP errors and the protocol's struct
 * proto (see ping.h). What UDP has the same (connect, disconnect, the
 * route and size checks, the error queue) is UDP's and ip_sockglue.c's.
 */
#include "net/ping.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/checksum.h"
#include "core/iov.h"
#include "net/af_inet.h"
#include "net/icmp.h"
#include "net/icmp_errno.h"
#include "net/igmp.h"
#include "net/ipv4.h"
#include "net/ipv4_priv.h"
#include "net/udp.h"
#include "stack/stack.h"

static inline struct list_head *ping_bucket(struct ping_table *t,
					    uint16_t ident)
{
	return &t->hash[ident % PING_HTABLE_SIZE];
}

void ping_init(struct ustack *st)
{
	for (int i = 0; i < PING_HTABLE_SIZE; i++)
		list_init(&st->ping.hash[i]);
	st->ping.next_ident = 1;
}

/*
 * Is ident taken for sk? As Linux's ping_get_port: a free one is searched
 * among identifiers no socket has; one the user names is refused only when
 * a socket has it and either of the two does not allow sharing
 * (SO_REUSEADDR, which a ping socket has from the start: Linux's
 * INET_PROTOSW_REUSE). Addresses are not looked at.
 */
static bool ping_ident_inuse(struct ustack *st, const struct sock *sk,
			     uint16_t ident, bool any)
{
	struct list_head *pos;

	list_for_each(pos, ping_bucket(&st->ping, ident)) {
		struct sock *sk2 = list_entry(pos, struct sock, bind_node);

		if (sk2 == sk || sk2->num != ident)
			continue;
		if (any || !sk2->reuseaddr || !sk->reuseaddr)
			return true;
	}
	return false;
}

/* Linux's ping_get_port: ident 0 takes the next free identifier after the
 * last one given (never 0). 0 or -EADDRINUSE. */
static int ping_get_port(struct sock *sk, uint16_t ident)
{
	struct ustack *st = sk->st;

	if (ident == 0) {
		uint16_t id = st->ping.next_ident;
		uint32_t i;

		for (i = 0; i < 65536; i++, id++) {
			if (id == 0)
				id++;
			if (!ping_ident_inuse(st, sk, id, true))
				break;
		}
		if (i == 65536)
			return -EADDRINUSE;
		ident = id;
		st->ping.next_ident = (uint16_t)(id + 1);
	} else if (ping_ident_inuse(st, sk, ident, false)) {
		return -EADDRINUSE;
	}
	sk->num = ident;
	/* At the head, as Linux adds it: the lookup takes the first match,
	 * the socket bound last. */
	list_add(&sk->bind_node, ping_bucket(&st->ping, ident));
	return 0;
}

static void ping_unhash(struct sock *sk)
{
	if (!sk->num)
		return;
	list_del(&sk->bind_node);
	sk->num = 0;
	sk->sport = 0;
}

/*
 * Linux's ping_bind (ping_check_bind_addr, then the identifier): the
 * address must be one of ours or any (not a broadcast or multicast one,
 * unlike UDP's), the identifier (sin_port) is any number, 0 = picked.
 */
static int ping_bind(struct sock *sk, const struct sockaddr *uaddr, int len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	uint32_t addr;

	if (len < (int)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sin->sin_family != AF_INET &&
	    (sin->sin_family != AF_UNSPEC || sin->sin_addr.s_addr != INADDR_ANY))
		return -EAFNOSUPPORT;
	addr = sin->sin_addr.s_addr;
	/* Linux's ping_check_bind_addr: a group or a broadcast never, an
	 * address not this host's with IP_FREEBIND. */
	if (addr != INADDR_ANY) {
		enum ip_addr_type t = ip_addr_type(sk->st, addr);

		if (t == IP_ADDR_MULTICAST || t == IP_ADDR_BROADCAST ||
		    (t != IP_ADDR_LOCAL && !sk->freebind))
			return -EADDRNOTAVAIL;
	}
	if (sk->num)
		return -EINVAL;
	if (ping_get_port(sk, ntohs(sin->sin_port)) < 0)
		return -EADDRINUSE;
	sk->rcv_saddr = sk->saddr = addr;
	sk->userlocks_addr = addr != 0;
	sk->userlocks_port = sin->sin_port != 0;
	sk->sport = htons(sk->num);
	sk->daddr = 0;
	sk->dport = 0;
	return 0;
}

/*
 * Linux's ping_lookup: the first socket with the identifier whose bound
 * address (if any) is the packet's destination and whose device (if any)
 * is the one it came in on. As in Linux, a connected socket's peer is not
 * compared with the sender: connect() gives a default destination only.
 */
static struct sock *ping_lookup(struct ustack *st, uint16_t ident,
				uint32_t daddr, int ifindex)
{
	struct list_head *pos;

	list_for_each(pos, ping_bucket(&st->ping, ident)) {
		struct sock *sk = list_entry(pos, struct sock, bind_node);

		if (sk->num != ident)
			continue;
		if (sk->rcv_saddr && sk->rcv_saddr != daddr)
			continue;
		if (sk->bound_dev_if && sk->bound_dev_if != ifindex)
			continue;
		return sk;
	}
	return NULL;
}

bool ping_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	uint32_t daddr;
	struct sock *sk;

	memcpy(&daddr, skb_network_header(skb) + 16, 4);
	sk = ping_lookup(st, ip_get16(skb->data + 4), daddr, ip_iif(st, skb));
	if (!sk)
		return false;
	/* The whole message from its ICMP header (Linux's ping_rcv pushes
	 * it back), charged to SO_RCVBUF as any datagram. */
	skb_reset_transport_header(skb);
	/* The socket's filter, from the ICMP header (Linux's
	 * sock_queue_rcv_skb: sk_filter, a byte kept at least). */
	if (sk->filter && !sk_filter_trim(sk, skb, skb->data, 1)) {
		us_drop(st, skb, US_DROP_SOCKET_FILTER);
		return true;
	}
	ip_pktinfo_prepare(sk, skb);
	if (sock_queue_rcv_skb(sk, skb) < 0)
		us_drop(st, skb, US_DROP_SOCKET_RCVBUFF);
	return true;
}

/*
 * Linux's ping_err: the errno of each error, and whether it is hard. Without
 * IP_RECVERR only a connected socket hears of a hard one (its next call
 * fails with it); with IP_RECVERR every one is queued, its data the
 * quoted echo request from its ICMP header on, to the quoted destination
 * with port 0, and is the pending error too.
 */
void ping_err(struct ustack *st, struct sk_buff *skb,
	      const struct ipv4_info *inner, const uint8_t *l4, size_t l4_len,
	      int type, int code, uint32_t info)
{
	bool hard = false;
	uint32_t daddr;
	struct sock *sk;
	int err;

	if (l4_len < ICMP_HLEN)
		return;
	memcpy(&daddr, skb_network_header(skb) + 16, 4);
	sk = ping_lookup(st, ip_get16(l4 + 4), daddr, ip_iif(st, skb));
	if (!sk)
		return;
	switch (type) {
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
		/* Not errors, but ping wants to see them: a made-up errno. */
		err = EREMOTEIO;
		break;
	case ICMP_DEST_UNREACH:
		if (code == ICMP_FRAG_NEEDED) {
			/* Path MTU Discovery (RFC 1191), as UDP's. */
			if (ip_sk_accept_pmtu(sk))
				ip_pmtu_update(st, inner->daddr, info & 0xffff);
			if (sk->pmtudisc == IP_PMTUDISC_DONT)
				return;
			err = EMSGSIZE;
			hard = true;
			break;
		}
		/* fall through */
	default:
		/* Unreachables by Linux's icmp_err_convert table; time
		 * exceeded EHOSTUNREACH (soft), parameter problem EPROTO. */
		err = icmp_err_convert(type, code, &hard);
		break;
	}
	if (sk->recverr)
		ip_icmp_error(sk, skb, err, inner->daddr, 0, info, l4);
	else if (!hard || sk->state != TCP_ESTABLISHED)
		return;
	sock_set_error(sk, err);
}

/*
 * Where an echo goes (Linux's ping_v4_sendmsg): the address given
 * (its port is no matter), else the connected peer; the control messages
 * (IP_PKTINFO, IP_TTL, IP_TOS, SOL_SOCKET's); the route and SO_BROADCAST,
 * checked on every send (Linux keeps no route at connect for ping).
 */
static int ping_flow(struct sock *sk, const struct msghdr *msg,
		     struct udp_cork *fl)
{
	const struct sockaddr_in *sin = msg->msg_name;
	struct ipcm ipc = { .ttl = -1, .tos = -1 };
	uint32_t daddr;
	int rc;

	sockcm_init(&ipc.sockc, sk);
	if (sin) {
		if (msg->msg_namelen < sizeof(*sin))
			return -EINVAL;
		if (sin->sin_family != AF_INET)
			return -EAFNOSUPPORT;
		daddr = sin->sin_addr.s_addr;
	} else {
		if (sk->state != TCP_ESTABLISHED)
			return -EDESTADDRREQ;
		daddr = sk->daddr;
	}
	if (msg->msg_controllen) {
		rc = ip_cmsg_send(sk, msg, &ipc);
		if (rc < 0)
			return rc;
	}
	return udp_flow_route(sk, &ipc, udp_dest_addr(sk, daddr), false,
			      IPPROTO_ICMP, fl);
}

/* The echo's header (Linux's ping_getfrag and push_pending_frames): the
 * user's type, code and sequence number, the socket's identifier (network
 * order), and the checksum over the whole message (RFC 792). */
static void ping_fill_header(uint8_t *p, size_t len, const uint8_t *user,
			     uint16_t ident)
{
	uint16_t sum;

	p[0] = user[0];
	p[1] = user[1];
	p[2] = p[3] = 0;
	memcpy(p + 4, &ident, 2);
	p[6] = user[6];
	p[7] = user[7];
	sum = inet_csum(p, len);
	p[2] = (uint8_t)(sum >> 8);
	p[3] = (uint8_t)sum;
}

/*
 * Linux's ping_common_sendmsg and ping_v4_sendmsg, the checks in their
 * order: the length (at most 65535, at least the ICMP header), MSG_OOB,
 * the user's header (only an echo request, code 0), the destination and
 * route, then the datagram as ip_append_data makes it (size, pending
 * error, shutdown, send buffer). The identifier is the socket's, the
 * checksum computed here; the sequence number and data are the user's.
 */
static int ping_sendmsg(struct sock *sk, const struct msghdr *msg,
			size_t len, int flags)
{
	struct ustack *st = sk->st;
	uint8_t h[ICMP_HLEN];
	struct udp_cork fl;
	struct sk_buff *skb;
	uint8_t *p;
	int rc;

	if (len > 0xffff)
		return -EMSGSIZE;
	if (len < ICMP_HLEN)
		return -EINVAL;
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	rc = iov_copy_from(h, msg, 0, ICMP_HLEN);
	if (rc < 0)
		return rc;
	/* Linux's ping_supported: IPv4 echo requests alone. */
	if (h[0] != ICMP_ECHO || h[1] != 0)
		return -EINVAL;
	rc = ping_flow(sk, msg, &fl);
	if (rc < 0)
		return rc;
	rc = udp_check_size(sk, &fl, len);
	if (rc < 0)
		return rc;
	rc = sock_error(sk);
	if (rc)
		return -rc;
	if (sk->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	/* Room while less than the send buffer is in use (Linux's
	 * sock_alloc_send_pskb), as UDP's. */
	if (sk->wmem_alloc >= sk->sndbuf)
		return -EAGAIN;
	skb = us_skb_alloc(st, (unsigned int)len);
	if (!skb)
		return -ENOBUFS;
	p = skb_put(skb, (unsigned int)len);
	rc = iov_copy_from(p + ICMP_HLEN, msg, ICMP_HLEN, len - ICMP_HLEN);
	if (rc < 0) {
		skb_free(skb);
		return rc;
	}
	ping_fill_header(p, len, h, sk->sport);
	if (fl.sockc.tsflags)
		skb->tx_flags = sock_tx_timestamp(sk, &fl.sockc, &skb->tskey);
	fl.args.df = udp_df(sk, &fl, len);
	skb_reset_transport_header(skb);
	sock_hold(sk);
	skb->sk = sk;
	skb->destructor = udp_wfree;
	sk->wmem_alloc += (int)skb->truesize;
	rc = ip_output(st, skb, &fl.args);
	if (rc < 0)
		return rc;
	us_mib_inc(st, US_MIB_ICMP_OUT_MSGS);
	us_mib_inc(st, US_MIB_ICMP_OUT_ECHOS);
	return (int)len;
}

/*
 * Linux's ping_recvmsg: one reply, ICMP header and data, cut to len
 * (MSG_TRUNC in msg_flags; the length returned is what was copied, even
 * under the MSG_TRUNC flag), from the address that sent it with port 0;
 * SO_TIMESTAMP and the IP control messages the socket asks for.
 */
static int ping_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			int flags, int *addr_len)
{
	struct sk_buff *skb;
	size_t copied;
	int err;

	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (flags & MSG_ERRQUEUE)
		return ip_recv_error(sk, msg, len, addr_len);
	err = sock_error(sk);
	if (err)
		return -err;
	skb = skb_peek(&sk->receive_queue);
	/* After shutdown(SHUT_RD) a call that would wait reads end of file
	 * (Linux's __skb_wait_for_more_packets), as UDP's. */
	if (!skb)
		return (sk->shutdown & RCV_SHUTDOWN) && !(flags & MSG_DONTWAIT)
		       ? 0 : -EAGAIN;
	if (!(flags & MSG_PEEK))
		skb_unlink(&sk->receive_queue, skb);
	copied = len < skb->len ? len : skb->len;
	if (copied < skb->len)
		msg->msg_flags |= MSG_TRUNC;
	err = iov_copy_to(msg, 0, skb->data, copied);
	if (err == 0) {
		uint32_t saddr;

		sock_recv_timestamp(msg, sk, skb);
		memcpy(&saddr, skb_network_header(skb) + 12, 4);
		ip_msg_name(msg, saddr, 0, addr_len);
		if (ip_cmsg_wanted(sk))
			ip_cmsg_recv(msg, sk, skb);
		err = (int)copied;
	}
	/* A reply that could not be copied out is gone all the same. */
	if (!(flags & MSG_PEEK)) {
		sock_rfree(sk, skb);
		skb_free(skb);
	}
	return err;
}

static void ping_close(struct sock *sk)
{
	ip_mc_drop_socket(sk);   /* as Linux's inet_release */
	ping_unhash(sk);
	sk->state = TCP_CLOSE;
	sock_put(sk);
}

/* Linux's ping_init_sock checks net.ipv4.ping_group_range (EACCES);
 * ustack allows every user (ping.h). The socket may share its identifier
 * from the start (INET_PROTOSW_REUSE: SO_REUSEADDR reads 1). */
static int ping_init_sock(struct sock *sk)
{
	sk->reuseaddr = true;
	return inet_dgram_init_sock(sk);
}

const struct proto ping_prot = {
	.name = "PING",
	.obj_size = sizeof(struct ping_sock),
	.init = ping_init_sock,
	.close = ping_close,
	.bind = ping_bind,
	.connect = ip4_datagram_connect,
	.disconnect = udp_disconnect,
	.sendmsg = ping_sendmsg,
	.recvmsg = ping_recvmsg,
	.get_port = ping_get_port,
	.unhash = ping_unhash,
	.destroy = inet_dgram_destroy,
	.error_queue = inet_dgram_error_queue,
};
