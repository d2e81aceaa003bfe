/*
 * af_inet.h - the AF_INET family: creating INET sockets and the socket
 * operations shared by its protocols (Linux's net/ipv4/af_inet.c).
 *
 * Call chain: sock_create -> inet_create picks the protocol by type and
 * number (inetsw), allocates its sock and installs the family's proto_ops
 * (inet_dgram_ops for UDP); the ops then call into sk->prot.
 */
#ifndef US_NET_AF_INET_H
#define US_NET_AF_INET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/ip_options.h"
#include "net/sock.h"

struct ip_mc_socklist;
struct msghdr;
struct socket;
struct ustack;

extern const struct proto_ops inet_dgram_ops;

/*
 * What a datagram socket (UDP, ping) keeps past its struct sock for the IP
 * level, at the start of udp_sock and ping_sock alike. Linux keeps these
 * in inet_sock, which its TCP sockets carry too; a TCP socket of ustack
 * has no room to spare (test_tcp_mem's budget), and Linux refuses
 * IP_MULTICAST_IF for a stream socket.
 */
struct inet_dgram_sock {
	struct sock sk;                    /* first member */
	struct sk_buff_head error_queue;   /* IP_RECVERR (ip_sockglue.c) */
	int mc_index;                      /* IP_MULTICAST_IF: the device, */
	uint32_t mc_addr;                  /* and the source; 0: none */
	struct ip_mc_socklist *mc_list;    /* groups joined (igmp.c) */
};

/* sk, of a SOCK_DGRAM socket. */
static inline struct inet_dgram_sock *inet_dgram_sk(struct sock *sk)
{
	return (struct inet_dgram_sock *)sk;
}

/* Create the protocol sock under sock (sock->type set). 0 or -errno. */
int inet_create(struct socket *sock, int protocol);
/* Bind an unbound sock to an ephemeral port. 0 or -EAGAIN. */
int inet_autobind(struct sock *sk);
/* sk's ephemeral ports, *low..*high, both included (Linux's
 * inet_sk_get_local_port_range): net.ipv4.ip_local_port_range, narrowed
 * by the socket's IP_LOCAL_PORT_RANGE where each end of it lies within;
 * true when the socket has one. */
bool inet_sk_get_local_port_range(const struct sock *sk, uint32_t *low,
				  uint32_t *high);
/* Validate a user's sockaddr_in (length, family). 0 or -errno. */
int inet_check_sockaddr(const struct sockaddr *uaddr, int len);

/* Shared pieces of the proto_ops, for other INET types. */
int inet_release(struct socket *sock);
int inet_bind(struct socket *sock, const struct sockaddr *uaddr,
	      socklen_t len);
int inet_getname(struct socket *sock, struct sockaddr *uaddr, socklen_t *len,
		 int peer);
int inet_shutdown(struct socket *sock, int how);
int inet_ioctl(struct socket *sock, unsigned long cmd, void *arg);
int inet_setsockopt(struct socket *sock, int level, int optname,
		    const void *optval, socklen_t optlen);
int inet_getsockopt(struct socket *sock, int level, int optname, void *optval,
		    socklen_t *optlen);
uint32_t datagram_poll(struct socket *sock);

/* The IPPROTO_IP level options (ip_sockglue.c). */
int ip_setsockopt(struct sock *sk, int optname, const void *optval,
		  socklen_t optlen);
int ip_getsockopt(struct sock *sk, int optname, void *optval,
		  socklen_t *optlen);

/*
 * A socket's Path MTU Discovery mode (IP_MTU_DISCOVER), as Linux's
 * include/net/ip.h reads it. DF on what it sends: DO, and WANT unless the
 * path's MTU is locked (Linux also sets it on every UDP datagram under
 * PROBE, and under WANT only on those that fit the path). Takes ICMP's
 * path MTU: all but INTERFACE and OMIT. Sizes its datagrams by the path
 * MTU, not the device's: DONT, WANT, DO. May fragment them itself: DONT,
 * WANT, OMIT.
 */
static inline bool ip_dont_fragment(const struct sock *sk, bool mtu_locked)
{
	return sk->pmtudisc == IP_PMTUDISC_DO ||
	       (sk->pmtudisc == IP_PMTUDISC_WANT && !mtu_locked);
}

static inline bool ip_sk_accept_pmtu(const struct sock *sk)
{
	return sk->pmtudisc != IP_PMTUDISC_INTERFACE &&
	       sk->pmtudisc != IP_PMTUDISC_OMIT;
}

static inline bool ip_sk_use_pmtu(const struct sock *sk)
{
	return sk->pmtudisc < IP_PMTUDISC_PROBE;
}

static inline bool ip_sk_ignore_df(const struct sock *sk)
{
	return sk->pmtudisc < IP_PMTUDISC_DO ||
	       sk->pmtudisc == IP_PMTUDISC_OMIT;
}

/*
 * What the control messages of one sendmsg ask of its datagram (Linux's
 * ipcm_cookie), from ip_cmsg_send: a source address (IP_PKTINFO's
 * ipi_spec_dst), an interface (its ipi_ifindex), a TTL and a TOS (-1:
 * the socket's own).
 */
struct ipcm {
	uint32_t saddr;
	bool saddr_set;    /* IP_PKTINFO given: saddr, 0 = the route's */
	int oif;
	int ttl;
	int tos;
	bool gso_set;      /* a UDP_SEGMENT message: gso_size, 0 = none */
	uint16_t gso_size;
	struct sockcm sockc;  /* SO_TIMESTAMPING's, for this datagram */
	/* IP_RETOPTS: this datagram's options instead of the socket's
	 * (optlen 0: none); NULL without the message. */
	const struct ip_options *opt;
};
/* Linux's ip_cmsg_send: 0, or -EINVAL for a message that is malformed or
 * not known (-EPERM: SO_MARK, SO_PRIORITY). Levels other than SOL_IP and
 * SOL_SOCKET are the caller's. */
int ip_cmsg_send(struct sock *sk, const struct msghdr *msg, struct ipcm *ipc);

/* The control messages IP_PKTINFO, IP_TTL and IP_TOS of a received
 * datagram (or of the ICMP packet behind an error), as the socket asks. */
void ip_cmsg_recv(struct msghdr *msg, const struct sock *sk,
		  const struct sk_buff *skb);
/* A received datagram's (or error's) source into msg_name, cut to
 * msg_namelen, and *addr_len the whole sockaddr_in's length (Linux's
 * DECLARE_SOCKADDR and msg_namelen rule); nothing without msg_name. */
void ip_msg_name(struct msghdr *msg, uint32_t addr, uint16_t port,
		 int *addr_len);
static inline bool ip_cmsg_wanted(const struct sock *sk)
{
	return sk->pktinfo || sk->recvttl || sk->recvtos || sk->recvorigdst ||
	       sk->recvfragsize || sk->recvopts || sk->retopts;
}
/* When a datagram is queued: what IP_PKTINFO will report of it (Linux's
 * ipv4_pktinfo_prepare), in skb->cb. */
void ip_pktinfo_prepare(const struct sock *sk, struct sk_buff *skb);

/* IP_OPTIONS of sk in sending form (ip_options.h), or NULL. */
const struct ip_options *ip_sock_options(const struct sock *sk);
/* Where sk's packets to daddr go first: a source route's first hop
 * (IP_OPTIONS), else daddr. A TCP socket's route, its MTU and its
 * device's features are the first hop's (Linux's tcp_v4_connect routes
 * to inet_opt's faddr, as ip_queue_xmit does again). */
static inline uint32_t ip_sock_nexthop(const struct sock *sk, uint32_t daddr)
{
	return sk->ip_opt ? ip_options_first_hop(ip_sock_options(sk), daddr)
			  : daddr;
}
/* A copy of opt that a pending (corked) datagram keeps, whatever the
 * socket's options become (Linux's ip_setup_cork); NULL without memory. */
const struct ip_options *ip_options_hold(struct sock *sk,
					 const struct ip_options *opt);
/* A TCP child takes the echo of its SYN's options (skb's network
 * header) as its own (Linux's tcp_v4_save_options, then
 * tcp_v4_syn_recv_sock). */
void ip_sock_options_echo(struct sock *sk, const struct sk_buff *skb);

/* The socket's error queue, or NULL (struct proto's error_queue). */
static inline struct sk_buff_head *sock_error_queue(struct sock *sk,
						   bool make)
{
	return sk->prot->error_queue ? sk->prot->error_queue(sk, make) : NULL;
}

/* IP_UNICAST_IF's interface (0: none). */
static inline int inet_uc_index(const struct sock *sk)
{
	const struct sock_ext *e = sock_ext(sk, false);

	return e ? e->uc_index : 0;
}

/* An error waits on the socket's error queue (POLLERR). */
static inline bool sock_errors_queued(struct sock *sk)
{
	struct sk_buff_head *q = sock_error_queue(sk, false);

	return q && !skb_queue_empty(q);
}

/*
 * IP_RECVERR's error queue (the protocol's proto.error_queue), as Linux's
 * ip_icmp_error, ip_local_error and ip_recv_error. ip_icmp_error keeps a
 * copy of the ICMP message `icmp` (data at its header), its data from
 * `payload` on (the quoted transport payload), about a datagram sent to
 * daddr:port; ip_local_error an empty one (a send refused here). Both do
 * nothing unless the socket asked for IP_RECVERR.
 */
void ip_icmp_error(struct sock *sk, struct sk_buff *icmp, int err,
		   uint32_t daddr, uint16_t port, uint32_t info,
		   const uint8_t *payload);
void ip_local_error(struct sock *sk, int err, uint32_t daddr, uint16_t port,
		    uint32_t info);
/* A transmit timestamp's entry (sock_tstamp.c) onto the error queue; its
 * packet's IP control messages and offender come with it under OPT_CMSG. */
struct sock_extended_err;
void ip_tstamp_error(struct sock *sk, struct sk_buff *skb,
		     const struct sock_extended_err *ee);
/* MSG_ZEROCOPY's notice of ids lo..hi (sock_zerocopy.c): the error
 * queue's last entry takes it when it is a notice ending at lo - 1. */
void ip_zerocopy_notify(struct sock *sk, uint32_t lo, uint32_t hi);
/* A queued error's origin (SO_EE_ORIGIN_*). */
uint8_t ip_err_origin(const struct sk_buff *skb);
/* An error queue emptied, each entry's charge given back (the socket
 * goes). */
void ip_errqueue_free(struct sock *sk, struct sk_buff_head *q);
/* recvmsg(MSG_ERRQUEUE): bytes, or -EAGAIN when there is no error. */
int ip_recv_error(struct sock *sk, struct msghdr *msg, size_t len,
		  int *addr_len);

#endif
