/*
 * tcp_timewait.h - connections in TIME_WAIT as small entries of their own
 * (Linux's inet_timewait_sock / tcp_timewait_sock), not whole tcp_socks.
 *
 * On entering TIME_WAIT (tcp_time_wait, tcp_timer.c) the connection's
 * tcp_sock is let go (tcp_done: a socket the user still holds is CLOSED,
 * as on Linux) and an entry keeps what TIME_WAIT needs: the four-tuple,
 * SND.NXT and RCV.NXT, the window, TS.Recent and the timestamp offset, the
 * port's bind flags and the 2 MSL deadline. Entries live in a table of
 * their own, looked up after the connection table (tcp_v4_rcv, connect()'s
 * port choice) and on a per-port list (bind()'s conflicts). All of them
 * wait the same 2 MSL, so one list in deadline order and one timer for
 * its head replace a timer per connection.
 *
 * Call chain: tcp_v4_rcv -> tcp_lookup_established misses ->
 *             tcp_tw_lookup -> tcp_timewait_input (tcp_input.c) ->
 *             tcp_tw_state_process (here) -> tcp_send_out.
 */
#ifndef US_NET_TCP_TCP_TIMEWAIT_H
#define US_NET_TCP_TCP_TIMEWAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "core/timer.h"

struct ustack;
struct sock;
struct sk_buff;
struct tcp_seg;

#define TCP_TW_HASH 256          /* first size of the TIME_WAIT table */
#define TCP_TW_BHASH 256         /* its by-port lists (of each kind) */

struct tcp_tw {
	struct list_head hash_node;     /* on tw.hash, by four-tuple */
	struct list_head bind_node;     /* on tw.bind, by local port */
	struct list_head expire_node;   /* on tw.expire, deadline order */
	us_time_t expires;              /* the end of 2 MSL */
	us_time_t ts_recent_stamp;      /* when TS.Recent was set */
	us_time_t last_oow_ack;         /* tcp_invalid_ratelimit */
	uint32_t laddr, faddr;          /* network order */
	uint16_t lport, fport;          /* network order */
	uint16_t num;                   /* local port, host order */
	uint8_t rcv_wscale;
	uint8_t tos;
	uint32_t snd_nxt;               /* what our ACKs carry as SEQ */
	uint32_t rcv_nxt;
	uint32_t rcv_wnd;               /* the window last offered, bytes */
	uint32_t ts_recent;             /* RFC 7323 §4.3 TS.Recent */
	uint32_t ts_offset;             /* added to our ms clock for TSval */
	int16_t ttl;                    /* -1: the stack's default */
	bool tstamp_ok;                 /* timestamps were agreed */
	bool reuseaddr, reuseport;      /* the socket's, for bind() */
	bool bound;                     /* its port came from bind() */
	int bound_dev_if;               /* SO_BINDTODEVICE's, kept */
};

struct tcp_tw_table {
	struct list_head *hash;         /* mask + 1 chains */
	uint32_t mask;
	/* By local port, apart as the sockets' bind and cbind lists are:
	 * entries whose port bind() gave, which connect() must skip, and
	 * the rest, which connect() need not walk (a connect/close loop
	 * leaves thousands there). bind() checks both. */
	struct list_head bind[TCP_TW_BHASH];
	struct list_head cbind[TCP_TW_BHASH];
	struct list_head expire;        /* oldest deadline first */
	struct us_timer timer;          /* for the head of expire */
	struct list_head hash_first[TCP_TW_HASH]; /* hash until it grows */
};

void tcp_tw_init(struct ustack *st);
void tcp_tw_exit(struct ustack *st);
/*
 * sk enters TIME_WAIT (RFC 9293 §3.10.7.4): make its entry. False without
 * one: net.ipv4.tcp_max_tw_buckets entries exist already (counted as
 * tcp.timewait_overflow, Linux's TCPTimeWaitOverflow) or no memory. The
 * caller then lets sk go (tcp_done) either way.
 */
bool tcp_tw_enter(struct sock *sk);
/* The entry for a segment from saddr:sport to daddr:dport, or NULL. */
struct tcp_tw *tcp_tw_lookup(struct ustack *st, int dif, uint32_t saddr,
			     uint16_t sport,
			     uint32_t daddr, uint16_t dport);
/*
 * A segment for tw (Linux's tcp_timewait_state_process). Returns 0 when it
 * was dealt with (skb freed), or the ISN for a new connection when it is
 * a SYN that may reopen the pair (RFC 6191): the caller hands it to a
 * listener (tcp_tw_kill first), or without one ACKs it (tcp_tw_send_ack,
 * as Linux's TCP_TW_SYN falls through to TCP_TW_ACK).
 */
uint32_t tcp_tw_state_process(struct ustack *st, struct tcp_tw *tw,
			      struct sk_buff *skb, const struct tcp_seg *th,
			      uint32_t seglen);
/* Our ACK of what we have, answering skb (Linux's tcp_v4_timewait_ack):
 * it carries the echo of skb's IP options, and is not sent when no echo
 * can be made. */
void tcp_tw_send_ack(struct ustack *st, const struct tcp_tw *tw,
		     const struct sk_buff *skb);
/* End TIME_WAIT now; tw is freed. */
void tcp_tw_kill(struct ustack *st, struct tcp_tw *tw);
/* The by-port list of port's entries whose port came from bind()
 * (bound) or from connect() (tcp.c checks bind()'s rules on both,
 * connect()'s on the first). */
struct list_head *tcp_tw_port_list(struct ustack *st, uint16_t port,
				   bool bound);

#endif
