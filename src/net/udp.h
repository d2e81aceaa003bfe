/*
 * udp.h - the User Datagram Protocol (RFC 768, RFC 1122 §4.1).
 *
 * Receive: ip_local_deliver -> udp_rcv -> socket lookup (best match, as
 *          Linux scores it) -> sock_queue_rcv_skb -> sk_data_ready.
 * Send:    us_sendto -> inet_sendmsg -> udp_sendmsg -> ip_output; under
 *          UDP_CORK or MSG_MORE, udp_sendmsg adds to a pending datagram,
 *          sent by the first send without them (udp_push_pending).
 * Errors:  icmp_rcv -> udp_err -> sk->err on a connected socket (so the next
 *          call fails with ECONNREFUSED, as on Linux).
 */
#ifndef US_NET_UDP_H
#define US_NET_UDP_H

#include <stdint.h>

#include "core/list.h"
#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/sock.h"

struct ustack;
struct sk_buff;
struct ipcm;
struct ip_route;

#define UDP_HLEN 8
/* The largest payload: 65535 - 20 (IPv4 header) - 8 (UDP header). */
#define UDP_MAX_PAYLOAD 65507
#define UDP_HTABLE_SIZE 256

/*
 * Where a datagram goes and how (Linux's flowi4 and ipcm_cookie): set by
 * a send from its address, control messages and route. A datagram being
 * corked (UDP_CORK, MSG_MORE) keeps the first send's, with the datagram
 * so far (Linux's up->pending and inet->cork).
 */
struct udp_cork {
	struct sk_buff *skb;        /* UDP header's room + data; NULL: none */
	struct ip_out_args args;    /* the IP header's fields, DF at the end */
	uint16_t dport;
	uint32_t fragsize;          /* the size limit unless DF is ignored */
	uint32_t path_mtu;          /* DF under IP_PMTUDISC_WANT: fits it */
	bool mtu_locked;
	uint16_t gso_size;          /* UDP_SEGMENT: payload per datagram */
	struct sockcm sockc;        /* SO_TIMESTAMPING's for the datagram */
	/* MSG_ZEROCOPY's sends in the pending datagram, ids zc_lo..zc_hi
	 * (sock.zc_corked says there are any). */
	uint32_t zc_lo, zc_hi;
};

struct udp_sock {
	struct inet_dgram_sock inet;  /* first member: a struct sock * is a
					 udp_sock * */
	bool corkflag;                     /* UDP_CORK */
	bool gro_enabled;                  /* UDP_GRO: GSO packets whole */
	uint16_t gso_size;                 /* UDP_SEGMENT (0: off) */
	struct udp_cork cork;              /* the datagram pending, if any */
};

struct udp_table {
	struct list_head hash[UDP_HTABLE_SIZE]; /* by local port */
	unsigned int count;
};

extern const struct proto udp_prot;

void udp_init(struct ustack *st);
/* skb->data at the UDP header, network header set. Takes ownership. */
void udp_rcv(struct sk_buff *skb);

/*
 * What the ping sockets (ping.c) share with UDP, as Linux's ping_prot
 * uses ip4_datagram_connect, __udp_disconnect and ip_append_data:
 *  - ip4_datagram_connect: connect() of a datagram socket (the default
 *    destination, its route and SO_BROADCAST); udp_disconnect the
 *    connect(AF_UNSPEC) that undoes it (the protocol's unhash for an
 *    identity the user did not bind);
 *  - udp_dest_addr: a destination of 0.0.0.0 is this host;
 *  - udp_flow_route: the route of a datagram to daddr with what its
 *    control messages asked (ipc), SO_BROADCAST (not checked again for
 *    the connected peer), and fl filled: the IP header's fields of a
 *    `protocol` packet and the MTUs it is held to (0 or -errno);
 *  - udp_check_size: a datagram of `payload` bytes after the IP header
 *    fits the limits of fl (EMSGSIZE, queued under IP_RECVERR);
 *  - udp_df: whether a datagram of len bytes after the IP header goes
 *    with DF under the socket's IP_MTU_DISCOVER;
 *  - udp_wfree: the destructor of a sent skb charged to its socket;
 *  - inet_dgram_init_sock, inet_dgram_destroy, inet_dgram_error_queue:
 *    the proto's init, destroy and error_queue of the struct
 *    inet_dgram_sock both begin with (its error queue; its queues
 *    purged).
 */
int ip4_datagram_connect(struct sock *sk, const struct sockaddr *uaddr,
			 int len);
int udp_disconnect(struct sock *sk, int flags);
uint32_t udp_dest_addr(const struct sock *sk, uint32_t daddr);
int udp_flow_route(struct sock *sk, const struct ipcm *ipc, uint32_t daddr,
		   bool connected, uint8_t protocol, struct udp_cork *fl);
int udp_check_size(struct sock *sk, const struct udp_cork *fl, size_t payload);
bool udp_df(const struct sock *sk, const struct udp_cork *fl, size_t len);
void udp_wfree(struct sk_buff *skb);
int inet_dgram_init_sock(struct sock *sk);
void inet_dgram_destroy(struct sock *sk);
struct sk_buff_head *inet_dgram_error_queue(struct sock *sk, bool make);

#endif
