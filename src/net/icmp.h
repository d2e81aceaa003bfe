/*
 * icmp.h - the Internet Control Message Protocol (RFC 792, RFC 1122 §3.2.2).
 *
 * Receive: ip_local_deliver -> icmp_rcv: echo requests answered, errors
 *          parsed and passed to the protocol that sent the packet.
 * Send:    icmp_send() builds an error about a received packet, obeying the
 *          RFC 1122 §3.2.2 "never about" rules and a rate limit like Linux's
 *          (icmp_ratelimit, icmp_ratemask, icmp_msgs_per_sec/burst).
 */
#ifndef US_NET_ICMP_H
#define US_NET_ICMP_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/skbuff.h"

struct ustack;

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12

/* Codes of ICMP_DEST_UNREACH. */
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_PREC_CUTOFF 15   /* the last code RFC 1812 defines */
/* Codes of ICMP_TIME_EXCEEDED. */
#define ICMP_EXC_TTL 0
#define ICMP_EXC_FRAGTIME 1

#define ICMP_HLEN 8

/* Called for each echo reply received (for ping tools and tests). */
typedef void (*icmp_echo_reply_fn)(void *arg, uint32_t from, uint16_t id,
				   uint16_t seq, const uint8_t *data, size_t len);

struct icmp_peer_bucket {
	uint32_t daddr;
	uint32_t tokens_us;  /* credit, in µs of ratelimit interval */
	us_time_t last;
};

#define ICMP_PEER_BUCKETS 64

struct icmp_state {
	/* Global limit: msgs_per_sec, with a burst (Linux: 1000/s, 50). */
	uint32_t msgs_per_sec;
	uint32_t msgs_burst;
	uint64_t global_credit;    /* tokens scaled by 1e6 */
	us_time_t global_last;
	/* Per-destination limit: one message per ratelimit_us, burst 6. */
	us_time_t ratelimit_us;    /* Linux icmp_ratelimit, 1000 ms */
	struct icmp_peer_bucket peers[ICMP_PEER_BUCKETS];

	icmp_echo_reply_fn echo_reply_cb;
	void *echo_reply_arg;
};

void icmp_init(struct ustack *st);
/* skb->data at the ICMP header. Takes ownership. */
void icmp_rcv(struct sk_buff *skb);
/*
 * Send an ICMP error of type/code about skb_in (a received packet whose
 * network header is set), quoting its IP header and the first 8 bytes
 * after it. Does not take ownership of skb_in. Silently does nothing where
 * RFC 1122 §3.2.2 forbids an error, and counts a rate-limited one.
 */
void icmp_send(struct sk_buff *skb_in, int type, int code, uint32_t info);
/* The err_handler of IPPROTO_ICMP: an ICMP error quoting a message of
 * ours (a ping socket's echo request: ping_err). */
struct ipv4_info;
void icmp_err(struct ustack *st, struct sk_buff *skb,
	      const struct ipv4_info *inner, const uint8_t *l4, size_t l4_len,
	      int type, int code, uint32_t info);
/* Send an echo request. 0 or -errno. */
int icmp_echo_send(struct ustack *st, uint32_t daddr, uint16_t id, uint16_t seq,
		   const void *data, size_t len);

#endif
