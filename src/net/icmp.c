/*
 * icmp.c - ICMP for IPv4 (RFC 792, RFC 1122 §3.2.2).
 *
 * Receive: ip_local_deliver -> icmp_rcv -> echo (answered), echo reply
 *          (to its ping socket, ping.c, else st->icmp.echo_reply_cb),
 *          errors (to the err_handler of the protocol named in the quoted
 *          header; ICMP's own, icmp_err, hands them to ping.c).
 * Send:    ip_rcv / ip_local_deliver / reassembly timeout -> icmp_send ->
 *          ip_output, after the "never about" rules of RFC 1122 §3.2.2
 *          and a rate limit shaped like Linux's; icmp_echo_send for ping.
 */
#include "net/icmp.h"

#include <errno.h>
#include <string.h>

#include "core/checksum.h"
#include "net/ip_options.h"
#include "net/ipv4.h"
#include "net/ipv4_priv.h"
#include "net/ping.h"
#include "stack/stack.h"

#define NR_ICMP_TYPES 18
/* Linux's icmp_ratemask default 0x1818: the error types below. */
#define ICMP_RATEMASK ((1u << ICMP_DEST_UNREACH) | (1u << ICMP_SOURCE_QUENCH) | \
		       (1u << ICMP_TIME_EXCEEDED) | (1u << ICMP_PARAMETERPROB))
#define ICMP_XRLIM_BURST 6           /* Linux's XRLIM_BURST_FACTOR */
#define ICMP_CREDIT_UNIT 1000000ULL  /* one message of global credit */
/* RFC 1812 §4.3.2.3, which Linux applies to hosts too: an error quotes
 * as much of the datagram as fits in 576 bytes. */
#define ICMP_ERR_MAX 576
#define IPTOS_TOS_MASK 0x1e
#define IPTOS_PREC_INTERNETCONTROL 0xc0

static void icmp_put32(uint8_t *p, uint32_t v)
{
	ip_put16(p, (uint16_t)(v >> 16));
	ip_put16(p + 2, (uint16_t)v);
}

/* Error messages as Linux's icmp_pointers[].error; a type we do not know
 * is treated as one, so we never answer it. */
static bool icmp_type_is_error(unsigned int type)
{
	switch (type) {
	case ICMP_DEST_UNREACH:
	case ICMP_SOURCE_QUENCH:
	case ICMP_REDIRECT:
	case ICMP_TIME_EXCEEDED:
	case ICMP_PARAMETERPROB:
		return true;
	default:
		return type > NR_ICMP_TYPES;
	}
}

void icmp_init(struct ustack *st)
{
	struct icmp_state *ic = &st->icmp;

	memset(ic, 0, sizeof(*ic));
	ic->msgs_per_sec = 1000;
	ic->msgs_burst = 50;
	ic->global_credit = ic->msgs_burst * ICMP_CREDIT_UNIT;
	ic->global_last = st->now;
	ic->ratelimit_us = 1000 * US_USEC_PER_MS;
}

/* The header fields of a datagram quoted in, or about to be quoted by, an
 * error; the caller checked that 20 bytes are there. */
static void icmp_read_ip(const uint8_t *p, struct ipv4_info *h)
{
	memset(h, 0, sizeof(*h));
	h->ihl_bytes = (uint8_t)((p[0] & 0xfu) * 4u);
	h->tos = p[1];
	h->tot_len = ip_get16(p + 2);
	h->id = ip_get16(p + 4);
	h->frag_off = ip_get16(p + 6);
	h->ttl = p[8];
	h->protocol = p[9];
	h->check = ip_get16(p + 10);
	memcpy(&h->saddr, p + 12, 4);
	memcpy(&h->daddr, p + 16, 4);
}

/*
 * RFC 1122 §3.2.2.6: answer with the same identifier, sequence number and
 * data, from the address the request was sent to. Requests to a broadcast
 * are ignored, as Linux's icmp_echo_ignore_broadcasts=1 does (§3.2.2.6
 * allows it; answering makes a smurf amplifier).
 */
static void icmp_echo(struct ustack *st, struct sk_buff *skb)
{
	struct ip_options ro;
	struct ipv4_info ih;
	struct ip_out_args a;
	struct sk_buff *reply;
	uint8_t *p;

	us_mib_inc(st, US_MIB_ICMP_IN_ECHOS);
	icmp_read_ip(skb_network_header(skb), &ih);
	/* The request's options echoed (RFC 1122 §3.2.2.6: record route
	 * and timestamp as in the request, a source route reversed;
	 * Linux's icmp_reply gives no reply when that cannot be made). */
	if (ip_options_echo(st, &ro, skb_network_header(skb)) < 0) {
		us_drop(st, skb, US_DROP_IP_BAD_OPTIONS);
		return;
	}
	reply = us_skb_alloc(st, skb->len);
	if (!reply) {
		us_drop(st, skb, US_DROP_NOMEM);
		return;
	}
	p = skb_put(reply, skb->len);
	memcpy(p, skb->data, skb->len);
	p[0] = ICMP_ECHOREPLY;
	ip_put16(p + 2, 0);
	ip_put16(p + 2, inet_csum(p, reply->len));
	skb_free(skb);
	memset(&a, 0, sizeof(a));
	a.opt = ro.optlen ? &ro : NULL;
	a.saddr = ih.daddr;
	a.daddr = ih.saddr;
	a.protocol = IPPROTO_ICMP_;
	a.tos = ih.tos;
	us_mib_inc(st, US_MIB_ICMP_OUT_MSGS);
	us_mib_inc(st, US_MIB_ICMP_OUT_ECHO_REPS);
	ip_output(st, reply, &a);
}

/* A reply to a ping socket's echo is its (Linux's ping_rcv); any other
 * goes to the stack's echo_reply_cb. */
static void icmp_echo_reply(struct ustack *st, struct sk_buff *skb)
{
	struct icmp_state *ic = &st->icmp;
	const uint8_t *p = skb->data;
	uint32_t from;

	us_mib_inc(st, US_MIB_ICMP_IN_ECHO_REPS);
	if (ping_rcv(skb))
		return;
	if (ic->echo_reply_cb) {
		memcpy(&from, skb_network_header(skb) + 12, 4);
		ic->echo_reply_cb(ic->echo_reply_arg, from, ip_get16(p + 4),
				  ip_get16(p + 6), p + ICMP_HLEN,
				  skb->len - ICMP_HLEN);
	}
	skb_free(skb);
}

/*
 * The `info` an error hands the protocol (Linux's icmp_unreach): the next
 * hop's MTU of a "fragmentation needed" (RFC 1191 §4), the pointer of a
 * parameter problem (RFC 792), else 0. False when the error is not for
 * the protocols: an unreachable code past 15, or a "fragmentation
 * needed" that net.ipv4.ip_no_pmtu_disc refuses (2: all; 3: but TCP's,
 * whose sequence check vouches for it). Mode 1 hands on 0 as the MTU,
 * which makes the path's MTU the minimum.
 */
static bool icmp_error_info(struct ustack *st, const uint8_t *p,
			    uint8_t protocol, uint32_t *info)
{
	*info = 0;
	if (p[0] == ICMP_PARAMETERPROB) {
		*info = p[4];
		return true;
	}
	if (p[0] != ICMP_DEST_UNREACH)
		return true;
	if (p[1] > ICMP_PREC_CUTOFF)
		return false;
	if (p[1] != ICMP_FRAG_NEEDED)
		return true;
	switch (st->sysctl.ip_no_pmtu_disc) {
	case 2:
		return false;
	case 3:
		if (protocol != IPPROTO_TCP)
			return false;
		/* fall through */
	case 0:
		*info = (uint32_t)p[6] << 8 | p[7];
		return true;
	default:
		return true;
	}
}

/*
 * RFC 1122 §3.2.2: an error quotes the IP header of the datagram that
 * caused it and at least 8 bytes after it; the transport protocol named
 * there decides what the error means (§4.1.3.3 UDP, §4.2.3.9 TCP). The
 * quote comes from anyone, so it is checked before it is read.
 */
static void icmp_error_rcv(struct ustack *st, struct sk_buff *skb)
{
	const uint8_t *p = skb->data, *in = p + ICMP_HLEN;
	size_t avail = skb->len - ICMP_HLEN;
	const struct net_protocol *proto;
	struct ipv4_info inner;
	uint32_t info;

	if (avail < IP_HLEN_MIN || in[0] >> 4 != 4 || (in[0] & 0xfu) < 5 ||
	    avail < (in[0] & 0xfu) * 4u + 8) {
		us_drop(st, skb, US_DROP_ICMP_BAD_ERROR);
		return;
	}
	icmp_read_ip(in, &inner);
	if (!icmp_error_info(st, p, inner.protocol, &info)) {
		us_drop(st, skb, US_DROP_ICMP_BAD_ERROR);
		return;
	}
	proto = st->ip.protos[inner.protocol];
	if (proto && proto->err_handler)
		proto->err_handler(st, skb, &inner, in + inner.ihl_bytes,
				   avail - inner.ihl_bytes, p[0], p[1], info);
	skb_free(skb);
}

/* Types this host does not act on (redirect: RFC 1122 §3.2.2.2 would
 * need a routing cache; timestamp, information, address mask, router
 * discovery) are dropped as unknown, like truly unknown ones. A redirect
 * about an ICMP message is still news for a ping socket (Linux's
 * icmp_redirect -> icmp_socket_deliver -> ping_err: EREMOTEIO on its error
 * queue); TCP and UDP only update a route there, so here they hear
 * nothing. */
static void icmp_dispatch(struct ustack *st, struct sk_buff *skb)
{
	switch (skb->data[0]) {
	case ICMP_ECHO:
		icmp_echo(st, skb);
		break;
	case ICMP_ECHOREPLY:
		icmp_echo_reply(st, skb);
		break;
	case ICMP_DEST_UNREACH:
		us_mib_inc(st, US_MIB_ICMP_IN_DEST_UNREACHS);
		icmp_error_rcv(st, skb);
		break;
	case ICMP_TIME_EXCEEDED:
		us_mib_inc(st, US_MIB_ICMP_IN_TIME_EXCDS);
		icmp_error_rcv(st, skb);
		break;
	case ICMP_PARAMETERPROB:
	case ICMP_SOURCE_QUENCH:
		icmp_error_rcv(st, skb);
		break;
	case ICMP_REDIRECT:
		if (skb->len >= ICMP_HLEN + IP_HLEN_MIN &&
		    skb->data[ICMP_HLEN + 9] == IPPROTO_ICMP) {
			icmp_error_rcv(st, skb);
			break;
		}
		us_drop(st, skb, US_DROP_ICMP_UNKNOWN_TYPE);
		break;
	default:
		us_drop(st, skb, US_DROP_ICMP_UNKNOWN_TYPE);
		break;
	}
}

void icmp_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	uint32_t daddr;

	us_mib_inc(st, US_MIB_ICMP_IN_MSGS);
	if (skb->len < ICMP_HLEN) {
		us_drop(st, skb, US_DROP_ICMP_TRUNCATED);
		return;
	}
	/* RFC 792: the checksum covers the whole message. */
	if (skb->ip_summed != CHECKSUM_UNNECESSARY &&
	    inet_csum(skb->data, skb->len) != 0) {
		us_drop(st, skb, US_DROP_ICMP_BAD_CSUM);
		return;
	}
	memcpy(&daddr, skb_network_header(skb) + 16, 4);
	if (ip_addr_type(st, daddr) != IP_ADDR_LOCAL) {
		/* Sent to a broadcast: Linux ignores echoes (see icmp_echo)
		 * and everything else but timestamp/address mask requests,
		 * so a spoofed error cannot reach every host at once. */
		us_drop(st, skb, skb->data[0] == ICMP_ECHO ?
			US_DROP_ICMP_BROADCAST_ECHO : US_DROP_ICMP_BROADCAST);
		return;
	}
	icmp_dispatch(st, skb);
}

/*
 * RFC 1122 §3.2.2: an ICMP error is never sent about (a) an ICMP error,
 * (b) a datagram to an IP broadcast or multicast address, (c) one sent as
 * a link-layer broadcast, (d) a non-initial fragment, (e) a datagram whose
 * source is not a single host: 0/8, broadcast, multicast, class E, or
 * 127/8 arriving from outside. Fills h with the offending header.
 */
static bool icmp_may_send(struct ustack *st, const struct sk_buff *skb,
			  struct ipv4_info *h)
{
	const uint8_t *iph;
	enum ip_addr_type t;
	size_t avail;

	if (skb->network_header == SKB_HDR_UNSET)
		return false;
	iph = skb_network_header(skb);
	if (iph >= skb->tail || (avail = (size_t)(skb->tail - iph)) < IP_HLEN_MIN)
		return false;
	icmp_read_ip(iph, h);
	if (h->ihl_bytes < IP_HLEN_MIN || h->ihl_bytes > avail)
		return false;
	if (skb->pkt_type == PKT_BROADCAST || skb->pkt_type == PKT_MULTICAST)
		return false;
	t = ip_addr_type(st, h->daddr);
	if (t == IP_ADDR_BROADCAST || t == IP_ADDR_MULTICAST)
		return false;
	if (h->frag_off & IP_OFFMASK)
		return false;
	t = ip_addr_type(st, h->saddr);
	if (t == IP_ADDR_BROADCAST || t == IP_ADDR_MULTICAST ||
	    t == IP_ADDR_INVALID)
		return false;
	if (ipv4_is_loopback(h->saddr) && !ip_dev_is_loopback(skb->dev))
		return false;
	if (h->protocol == IPPROTO_ICMP_)
		/* Unreadable inner type: do not risk answering an error. */
		return avail > h->ihl_bytes && !icmp_type_is_error(iph[h->ihl_bytes]);
	return true;
}

/* Linux's icmp_global_allow: a token bucket of msgs_per_sec, depth
 * msgs_burst, shared by every destination. Credit is in millionths of a
 * message so that one microsecond of time buys a whole number. */
static bool icmp_global_allow(struct icmp_state *ic, us_time_t now)
{
	uint64_t cap = (uint64_t)ic->msgs_burst * ICMP_CREDIT_UNIT;
	us_time_t elapsed = now > ic->global_last ? now - ic->global_last : 0;

	if (elapsed > 1000 * US_USEC_PER_SEC)
		elapsed = 1000 * US_USEC_PER_SEC;
	ic->global_credit += elapsed * ic->msgs_per_sec;
	if (ic->global_credit > cap)
		ic->global_credit = cap;
	ic->global_last = now;
	return ic->global_credit >= ICMP_CREDIT_UNIT;
}

/* The bucket of daddr, or a fresh one in place of the least recently
 * used; a new peer starts with a full burst as Linux's inet_peer does. */
static struct icmp_peer_bucket *icmp_peer_get(struct icmp_state *ic,
					      uint32_t daddr, us_time_t now)
{
	struct icmp_peer_bucket *victim = &ic->peers[0];
	uint64_t full = ICMP_XRLIM_BURST * (uint64_t)ic->ratelimit_us;

	for (int i = 0; i < ICMP_PEER_BUCKETS; i++) {
		struct icmp_peer_bucket *b = &ic->peers[i];

		if (b->daddr == daddr)
			return b;
		if (b->daddr == 0 || b->last < victim->last)
			victim = b;
		if (b->daddr == 0)
			break;
	}
	victim->daddr = daddr;
	victim->tokens_us = full > UINT32_MAX ? UINT32_MAX : (uint32_t)full;
	victim->last = now;
	return victim;
}

/* Linux's inet_peer_xrlim_allow: time is the token, one message costs
 * ratelimit_us of it, and at most XRLIM_BURST messages' worth is kept. */
static bool icmp_peer_allow(struct icmp_state *ic, uint32_t daddr,
			    us_time_t now)
{
	struct icmp_peer_bucket *b = icmp_peer_get(ic, daddr, now);
	uint64_t full = ICMP_XRLIM_BURST * (uint64_t)ic->ratelimit_us;
	uint64_t tokens = b->tokens_us + (now > b->last ? now - b->last : 0);
	bool ok;

	if (tokens > full)
		tokens = full;
	ok = tokens >= ic->ratelimit_us;
	if (ok)
		tokens -= ic->ratelimit_us;
	b->tokens_us = tokens > UINT32_MAX ? UINT32_MAX : (uint32_t)tokens;
	b->last = now;
	return ok;
}

/*
 * As Linux's icmpv4_global_allow + icmpv4_xrlim_allow: only the types in
 * the rate mask are limited, never the "fragmentation needed" that path
 * MTU discovery depends on (RFC 1191), and not per peer over loopback.
 * The global credit is spent only when the peer's bucket allowed.
 */
static bool icmp_rate_allow(struct ustack *st, int type, int code,
			    uint32_t daddr)
{
	struct icmp_state *ic = &st->icmp;
	struct ip_route rt;

	if (type < 0 || type > NR_ICMP_TYPES || !(ICMP_RATEMASK & (1u << type)))
		return true;
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return true;
	if (!icmp_global_allow(ic, st->now))
		return false;
	if (ip_route_output(st, daddr, &rt) < 0 || !ip_dev_is_loopback(rt.dev)) {
		if (!icmp_peer_allow(ic, daddr, st->now))
			return false;
	}
	ic->global_credit -= ICMP_CREDIT_UNIT;
	return true;
}

static void icmp_count_out(struct ustack *st, int type, int code)
{
	us_mib_inc(st, US_MIB_ICMP_OUT_MSGS);
	if (type == ICMP_DEST_UNREACH) {
		us_mib_inc(st, US_MIB_ICMP_OUT_DEST_UNREACHS);
		if (code == ICMP_PROT_UNREACH)
			us_mib_inc(st, US_MIB_ICMP_OUT_PROT_UNREACHS);
	} else if (type == ICMP_TIME_EXCEEDED) {
		us_mib_inc(st, US_MIB_ICMP_OUT_TIME_EXCDS);
	}
}

/*
 * The error message: `info` is the 32-bit word after the checksum, host
 * order (the next-hop MTU for ICMP_FRAG_NEEDED, pointer << 24 for a
 * parameter problem), then the offending datagram from its IP header, as
 * much as fits in ICMP_ERR_MAX.
 */
static struct sk_buff *icmp_build_error(struct ustack *st,
					const struct sk_buff *skb_in,
					const struct ipv4_info *h, int type,
					int code, uint32_t info,
					unsigned int optlen)
{
	const uint8_t *iph = skb_network_header(skb_in);
	size_t qlen = (size_t)(skb_in->tail - iph);
	struct sk_buff *skb;
	uint8_t *p;

	if (qlen > h->tot_len)
		qlen = h->tot_len;
	if (qlen > ICMP_ERR_MAX - IP_HLEN_MIN - optlen - ICMP_HLEN)
		qlen = ICMP_ERR_MAX - IP_HLEN_MIN - optlen - ICMP_HLEN;
	skb = us_skb_alloc(st, (unsigned int)(ICMP_HLEN + qlen));
	if (!skb)
		return NULL;
	p = skb_put(skb, (unsigned int)(ICMP_HLEN + qlen));
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)code;
	ip_put16(p + 2, 0);
	icmp_put32(p + 4, info);
	memcpy(p + ICMP_HLEN, iph, qlen);
	ip_put16(p + 2, inet_csum(p, skb->len));
	return skb;
}

void icmp_send(struct sk_buff *skb_in, int type, int code, uint32_t info)
{
	struct ip_options ro = { 0 };
	struct ip_out_args a;
	struct ipv4_info h;
	struct sk_buff *skb;
	struct ustack *st;

	if (!skb_in->dev)
		return;
	st = skb_in->dev->st;
	if (!icmp_may_send(st, skb_in, &h))
		return;
	if (!icmp_rate_allow(st, type, code, h.saddr)) {
		us_mib_inc(st, US_MIB_ICMP_OUT_RATELIMITED);
		us_drop(st, NULL, US_DROP_ICMP_RATELIMIT);
		return;
	}
	/* The datagram's options echoed, as Linux's __icmp_send; when they
	 * are what is wrong, those before the one the pointer blames (what
	 * Linux's ip_options_compile had filled in when it failed). */
	if (ip_options_echo_upto(st, &ro, skb_network_header(skb_in),
				 type == ICMP_PARAMETERPROB ? info >> 24
							    : IP_HLEN_MAX) < 0)
		return;
	skb = icmp_build_error(st, skb_in, &h, type, code, info, ro.optlen);
	if (!skb)
		return;
	memset(&a, 0, sizeof(a));
	a.opt = ro.optlen ? &ro : NULL;
	/* From the address the datagram was sent to, like Linux with
	 * icmp_errors_use_inbound_ifaddr=0; else the route's. Linux's TOS:
	 * the original's, with precedence "internetwork control". */
	a.saddr = ip_addr_type(st, h.daddr) == IP_ADDR_LOCAL ? h.daddr : 0;
	a.daddr = h.saddr;
	a.protocol = IPPROTO_ICMP_;
	a.tos = (h.tos & IPTOS_TOS_MASK) | IPTOS_PREC_INTERNETCONTROL;
	icmp_count_out(st, type, code);
	ip_output(st, skb, &a);
}

/*
 * An error about an ICMP message we sent (Linux's icmp_err): every one but
 * an echo reply (which this stack answers itself) may be a ping socket's
 * echo request.
 */
void icmp_err(struct ustack *st, struct sk_buff *skb,
	      const struct ipv4_info *inner, const uint8_t *l4, size_t l4_len,
	      int type, int code, uint32_t info)
{
	if (l4_len >= ICMP_HLEN && l4[0] != ICMP_ECHOREPLY)
		ping_err(st, skb, inner, l4, l4_len, type, code, info);
}

int icmp_echo_send(struct ustack *st, uint32_t daddr, uint16_t id, uint16_t seq,
		   const void *data, size_t len)
{
	struct ip_out_args a;
	struct sk_buff *skb;
	uint8_t *p;

	if (len > IP_MAXPACKET - IP_HLEN_MIN - ICMP_HLEN)
		return -EMSGSIZE;
	skb = us_skb_alloc(st, (unsigned int)(ICMP_HLEN + len));
	if (!skb)
		return -ENOBUFS;
	p = skb_put(skb, (unsigned int)(ICMP_HLEN + len));
	p[0] = ICMP_ECHO;
	p[1] = 0;
	ip_put16(p + 2, 0);
	ip_put16(p + 4, id);
	ip_put16(p + 6, seq);
	if (len)
		memcpy(p + ICMP_HLEN, data, len);
	ip_put16(p + 2, inet_csum(p, skb->len));
	memset(&a, 0, sizeof(a));
	a.daddr = daddr;
	a.protocol = IPPROTO_ICMP_;
	us_mib_inc(st, US_MIB_ICMP_OUT_MSGS);
	us_mib_inc(st, US_MIB_ICMP_OUT_ECHOS);
	return ip_output(st, skb, &a);
}
