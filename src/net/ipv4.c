/*
 * ipv4.c - IPv4 (RFC 791, RFC 1122 §3.2): header parse and emit, the
 * receive path from the device level up to the transport protocols, the
 * send path from the transport protocols down to the neighbour layer, and
 * the address classes of this host.
 *
 * Receive: netif_receive_skb / eth_rcv -> ip_rcv -> [ip_defrag] ->
 *          ip_local_deliver -> st->ip.protos[protocol]->handler
 * Send:    transport -> ip_output -> ip_route_output -> [ip_fragment] ->
 *          ip_finish_output -> arp_output / dev_queue_xmit
 *
 * Routing lives in route.c, fragmentation and reassembly in ip_fragment.c.
 * ustack is a host: nothing here forwards.
 */
#include "net/ipv4.h"

#include <errno.h>
#include <string.h>

#include "core/checksum.h"
#include "net/arp.h"
#include "net/ether.h"
#include "net/icmp.h"
#include "net/igmp.h"
#include "net/ip_options.h"
#include "net/ipv4_priv.h"
#include "stack/stack.h"

enum us_drop_reason ipv4_parse(const uint8_t *p, size_t len, struct ipv4_info *out)
{
	unsigned int ihl, tot_len;
	if (len < IP_HLEN_MIN)
		return US_DROP_IP_TRUNCATED;
	if (p[0] >> 4 != 4)
		return US_DROP_IP_BAD_VERSION;
	ihl = (p[0] & 0xfu) * 4u;
	if (ihl < IP_HLEN_MIN || ihl > len)
		return US_DROP_IP_BAD_IHL;
	tot_len = ip_get16(p + 2);
	if (tot_len < ihl || tot_len > len)
		return US_DROP_IP_BAD_LENGTH;
	/* Devices verify transport sums at most, never this one (RFC 791
	 * §3.1: a datagram with a bad header checksum is discarded). */
	if (inet_csum(p, ihl) != 0)
		return US_DROP_IP_BAD_CSUM;
	out->ihl_bytes = (uint8_t)ihl;
	out->tos = p[1];
	out->tot_len = (uint16_t)tot_len;
	out->id = ip_get16(p + 4);
	out->frag_off = ip_get16(p + 6);
	out->ttl = p[8];
	out->protocol = p[9];
	out->check = ip_get16(p + 10);
	memcpy(&out->saddr, p + 12, 4);
	memcpy(&out->daddr, p + 16, 4);
	return US_DROP_NOT_DROPPED;
}

void ipv4_emit(const struct ipv4_info *h, uint8_t *out)
{
	unsigned int ihl = h->ihl_bytes > IP_HLEN_MIN ? h->ihl_bytes
						      : IP_HLEN_MIN;

	out[0] = (uint8_t)(0x40 | ihl / 4);
	out[1] = h->tos;
	ip_put16(out + 2, h->tot_len);
	ip_put16(out + 4, h->id);
	ip_put16(out + 6, h->frag_off);
	out[8] = h->ttl;
	out[9] = h->protocol;
	out[10] = 0;
	out[11] = 0;
	memcpy(out + 12, &h->saddr, 4);
	memcpy(out + 16, &h->daddr, 4);
	ip_put16(out + 10, inet_csum(out, ihl));
}

uint32_t ip_dev_broadcast(const struct net_device *dev)
{
	uint32_t mask = ntohl(dev->ip_mask);

	if (!dev->ip_addr || mask >= 0xfffffffeu)
		return 0;
	return dev->ip_addr | ~dev->ip_mask;
}

enum ip_addr_type ip_addr_type(struct ustack *st, uint32_t addr)
{
	struct list_head *pos;

	if (ipv4_is_zeronet(addr))
		return IP_ADDR_INVALID;
	if (ipv4_is_lbcast(addr))
		return IP_ADDR_BROADCAST;
	if (ipv4_is_multicast(addr))
		return IP_ADDR_MULTICAST;
	/* 240/4, reserved (RFC 1112 §4, RFC 5735 §3). */
	if ((ntohl(addr) >> 28) == 0xf)
		return IP_ADDR_INVALID;
	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ip_addr && addr == dev->ip_addr)
			return IP_ADDR_LOCAL;
		if (addr == ip_dev_broadcast(dev))
			return IP_ADDR_BROADCAST;
	}
	/* RFC 1122 §3.2.1.3 (g): all of 127/8 is this host, through lo. */
	if (ipv4_is_loopback(addr))
		return ip_loopback_dev(st) ? IP_ADDR_LOCAL : IP_ADDR_INVALID;
	return IP_ADDR_UNICAST;
}

int ip_iif(struct ustack *st, const struct sk_buff *skb)
{
	struct net_device *dev = skb->dev, *owner;
	uint32_t daddr;

	if (!dev)
		return 0;
	if (!ip_dev_is_loopback(dev) || skb->network_header == SKB_HDR_UNSET)
		return dev->ifindex;
	if (skb->iif)
		return skb->iif;
	memcpy(&daddr, skb_network_header(skb) + 16, 4);
	owner = ip_dev_find(st, daddr);
	return owner ? owner->ifindex : dev->ifindex;
}

struct net_device *ip_dev_find(struct ustack *st, uint32_t addr)
{
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ip_addr && addr == dev->ip_addr)
			return dev;
	}
	return ipv4_is_loopback(addr) ? ip_loopback_dev(st) : NULL;
}

/*
 * RFC 1122 §3.2.1.3: a datagram whose source is a broadcast or multicast
 * address is discarded, and {0, 0} is only a source while a host learns
 * its address, which it does by broadcast (Linux accepts 0/8 sources only
 * towards 255.255.255.255). From a real device, as Linux with
 * accept_local=0, neither 127/8 nor one of our own addresses can be the
 * source: only lo carries those.
 */
static bool ip_saddr_ok(struct ustack *st, const struct ipv4_info *h,
			const struct sk_buff *skb)
{
	enum ip_addr_type t = ip_addr_type(st, h->saddr);

	if (t == IP_ADDR_BROADCAST || t == IP_ADDR_MULTICAST)
		return false;
	/* Linux's ip_route_input_mc also takes {0, 0} towards 224.0.0/24
	 * and for IGMP: the queries of a snooping switch (RFC 4541
	 * §2.1.1). */
	if (ipv4_is_zeronet(h->saddr))
		return ipv4_is_lbcast(h->daddr) ||
		       (ipv4_is_multicast(h->daddr) &&
			(ipv4_is_local_multicast(h->daddr) ||
			 h->protocol == IPPROTO_IGMP_));
	if (ip_dev_is_loopback(skb->dev) || skb->pkt_type == PKT_LOOPBACK)
		return true;
	return t != IP_ADDR_LOCAL && !ipv4_is_loopback(h->saddr);
}

/* RFC 1122 §3.2.1.3 / §3.3.6: accept what is addressed to this host, a
 * broadcast it hears, or a group it joined on the device, all hosts
 * included (RFC 1112 §6.2; IGMP too, as Linux's ip_check_mc_rcu). */
static bool ip_daddr_ok(struct ustack *st, const struct ipv4_info *h,
			const struct net_device *dev)
{
	switch (ip_addr_type(st, h->daddr)) {
	case IP_ADDR_LOCAL:
		/* 127/8 arriving on a real device is a martian. */
		return !ipv4_is_loopback(h->daddr) || ip_dev_is_loopback(dev);
	case IP_ADDR_BROADCAST:
		return true;
	case IP_ADDR_MULTICAST:
		return ip_mc_dev_joined(st, dev, h->daddr, h->saddr,
					h->protocol);
	default:
		return false;
	}
}

/* Pass a whole datagram (data and network header at the IP header) to its
 * transport protocol. */
static void ip_local_deliver(struct ustack *st, struct sk_buff *skb)
{
	const uint8_t *iph = skb_network_header(skb);
	const struct net_protocol *p = st->ip.protos[iph[9]];

	skb_pull(skb, (iph[0] & 0xfu) * 4u);
	skb_reset_transport_header(skb);
	if (!p || !p->handler) {
		/* RFC 1122 §3.2.2.1: a host SHOULD say protocol unreachable. */
		icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0);
		us_drop(st, skb, US_DROP_IP_UNKNOWN_PROTO);
		return;
	}
	us_mib_inc(st, US_MIB_IP_IN_DELIVERS);
	p->handler(skb);
}

/*
 * A datagram for this host with options (Linux's ip_rcv_options), each
 * fragment on its own: checked, and record route and timestamp filled in
 * (RFC 791 §3.1) in a header made private first. A bad option is
 * answered with a parameter problem pointing at it (RFC 792; RFC 1122
 * §3.2.2.5); a source route is dropped as Linux drops it with its
 * default accept_source_route=0 (RFC 1122 §3.3.5 lets a host refuse to
 * be a hop, and a host honouring return routes is a spoofing aid). False
 * when the datagram is gone.
 */
static bool ip_rcv_options(struct ustack *st, struct sk_buff *skb,
			   const struct ipv4_info *h)
{
	unsigned int pp = 0;
	bool srr = false;
	uint8_t *iph;

	if (skb_unshare_data(skb) < 0) {
		us_drop(st, skb, US_DROP_NOMEM);
		return false;
	}
	iph = skb_network_header(skb);
	if (ip_options_rcv(st, iph, ip_spec_dst(st, skb, h->saddr, h->daddr),
			   &pp, &srr) < 0) {
		icmp_send(skb, ICMP_PARAMETERPROB, 0, pp << 24);
		us_drop(st, skb, US_DROP_IP_BAD_OPTIONS);
		return false;
	}
	if (srr) {
		us_drop(st, skb, US_DROP_IP_SOURCE_ROUTE);
		return false;
	}
	return true;
}

void ip_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	enum us_drop_reason r;
	struct ipv4_info h;

	us_mib_inc(st, US_MIB_IP_IN_RECEIVES);
	skb->frag_max = 0;   /* (Linux's IPCB, cleared in ip_rcv_core) */
	r = ipv4_parse(skb->data, skb->len, &h);
	if (r != US_DROP_NOT_DROPPED) {
		us_drop(st, skb, r);
		return;
	}
	/* RFC 791 §3.1: total length bounds the datagram; anything after it
	 * is link padding (Ethernet pads frames to 60 bytes). */
	skb_trim(skb, h.tot_len);
	skb_reset_network_header(skb);
	if (!ip_saddr_ok(st, &h, skb)) {
		us_drop(st, skb, US_DROP_IP_BAD_SADDR);
		return;
	}
	if (!ip_daddr_ok(st, &h, skb->dev)) {
		us_drop(st, skb, US_DROP_IP_NOT_FOR_US);
		return;
	}
	if (h.ihl_bytes > IP_HLEN_MIN && !ip_rcv_options(st, skb, &h))
		return;
	if (h.frag_off & (IP_MF | IP_OFFMASK)) {
		skb = ip_defrag(st, skb);
		if (!skb)
			return;
	}
	ip_local_deliver(st, skb);
}

int ip_finish_output(struct ustack *st, const struct ip_route *rt,
		     struct sk_buff *skb)
{
	skb->dev = rt->dev;
	skb->protocol = ETH_P_IP;
	if (rt->dev->type == US_ARPHRD_NONE)
		return dev_queue_xmit(skb);
	return arp_output(st, rt->dev, rt->nexthop, skb);
}

/*
 * A broadcast is heard on this host too, and so is a datagram to a group
 * the outgoing device joined, unless IP_MULTICAST_LOOP is off: Linux's
 * ip_mc_output loops a copy back (dev_loopback_xmit), so a socket of ours
 * receives what another sends to the subnet or the group. The copy, whole
 * (before any fragmentation), arrives as received on the outgoing device
 * (PKT_LOOPBACK: our own source is no martian there; IP_PKTINFO and the
 * memberships see that device, as on Linux). It waits on ip.loop_q for
 * the timer due at once, so it is received at the engine's next step, not
 * inside the send.
 */
#define IP_LOOP_MAX 1000   /* as Linux's netdev_max_backlog */

static void ip_loop_local(struct ustack *st, const struct ip_route *rt,
			  const struct ip_out_args *a,
			  const struct sk_buff *skb)
{
	struct sk_buff *c;
	uint32_t saddr;

	if (ip_dev_is_loopback(rt->dev))
		return;   /* the datagram itself comes back */
	memcpy(&saddr, skb->data + 12, 4);
	if (!rt->broadcast &&
	    !(ipv4_is_multicast(a->daddr) && a->mc_loop &&
	      ip_mc_dev_joined(st, rt->dev, a->daddr, saddr, skb->data[9])))
		return;
	if (st->ip.loop_q.qlen >= IP_LOOP_MAX) {
		us_drop(st, NULL, US_DROP_IP_LOOP_FULL);
		return;
	}
	c = skb_copy(skb);
	if (!c) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	c->dev = rt->dev;
	c->pkt_type = PKT_LOOPBACK;
	/* Never on a wire: nothing to verify, a partial sum never done. */
	c->ip_summed = CHECKSUM_UNNECESSARY;
	skb_queue_tail(&st->ip.loop_q, c);
	(void)us_timer_mod(&st->timers, &st->ip.loop_timer, st->now);
}

/* Receive the copies queued so far; one looped meanwhile (a reply to a
 * reply) waits for the next run. */
static void ip_loop_fire(struct us_timer *t, us_time_t now)
{
	struct ustack *st = container_of(t, struct ustack, ip.loop_timer);
	uint32_t n = st->ip.loop_q.qlen;
	struct sk_buff *skb;

	while (n-- > 0 && (skb = skb_dequeue(&st->ip.loop_q)) != NULL) {
		skb->tstamp = now;
		skb_reset_network_header(skb);
		skb->protocol = ETH_P_IP;
		ip_rcv(skb);
	}
	if (st->ip.loop_q.qlen)
		(void)us_timer_mod(&st->timers, &st->ip.loop_timer, now);
}

void ip_dev_down(struct ustack *st, struct net_device *dev)
{
	struct sk_buff *skb, *tmp;

	skb_queue_walk_safe(&st->ip.loop_q, skb, tmp) {
		if (skb->dev != dev)
			continue;
		skb_unlink(&st->ip.loop_q, skb);
		skb_free(skb);
	}
	ip_mc_dev_down(st, dev);
}

/*
 * The Identification of a datagram from saddr to daddr (and of the `segs`
 * that a GSO packet is cut into, which take the ones after it). RFC 6864
 * §4.1 asks only for uniqueness per flow; one counter for every flow (as
 * before) told anyone how many packets this host sent to others (an idle
 * scan). So, as Linux's ip_idents_reserve: a counter per hash bucket of
 * (source, destination, protocol), with a keyed hash, which also jumps by
 * a random part of the milliseconds it lay unused.
 */
uint16_t ip_select_id(struct ustack *st, uint32_t saddr, uint32_t daddr,
		      uint8_t protocol, unsigned int segs)
{
	struct ipv4_state *ip = &st->ip;
	uint32_t k[3] = { saddr, daddr, protocol };
	size_t b = (size_t)(us_siphash(&ip->ident_key, k, sizeof(k)) %
			    IP_IDENTS);
	uint32_t now = (uint32_t)(st->now / 1000);
	uint16_t id;

	if (ip->ident_stamp[b] != now) {
		uint32_t idle = now - ip->ident_stamp[b];

		ip->ident[b] += (uint16_t)us_rng_below(&ip->ident_rng, idle);
		ip->ident_stamp[b] = now;
	}
	id = ip->ident[b];
	ip->ident[b] = (uint16_t)(id + (segs ? segs : 1));
	return id;
}

/* Push and fill the header, with a's options (RFC 791 §3.1; Linux's
 * ip_options_build) to the first hop daddr. */
static int ip_push_header(struct ustack *st, struct sk_buff *skb,
			  const struct ip_out_args *a, uint32_t saddr,
			  uint32_t daddr, bool df)
{
	unsigned int optlen = ip_options_len(a->opt);
	struct ipv4_info h;
	uint8_t *p;

	if (skb->transport_header == SKB_HDR_UNSET)
		skb_reset_transport_header(skb);
	p = skb_push(skb, IP_HLEN_MIN + optlen);
	if (!p)
		return -ENOBUFS;
	skb_reset_network_header(skb);
	memset(&h, 0, sizeof(h));
	if (optlen)
		ip_options_build(st, a->opt, p, a->daddr, saddr);
	h.ihl_bytes = (uint8_t)(IP_HLEN_MIN + optlen);
	h.tos = a->tos;
	h.tot_len = (uint16_t)skb->len;
	h.id = ip_select_id(st, saddr, daddr, a->protocol,
			    skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1);
	h.frag_off = df ? IP_DF : 0;
	h.ttl = a->ttl ? a->ttl : st->ip.default_ttl;
	h.protocol = a->protocol;
	h.saddr = saddr;
	h.daddr = daddr;
	ipv4_emit(&h, p);
	return 0;
}

int ip_output(struct ustack *st, struct sk_buff *skb, const struct ip_out_args *a)
{
	uint32_t daddr = ip_options_first_hop(a->opt, a->daddr);
	struct ip_route rt;
	unsigned int mtu;
	bool df, cut;

	us_mib_inc(st, US_MIB_IP_OUT_REQUESTS);
	skb->mark = a->mark;
	if (ip_route_output_oif(st, daddr, a->oif, &rt) < 0 ||
	    ip_route_check_saddr(a->saddr, &rt) < 0) {
		if (a->host_only) {
			skb_free(skb);
			return 0;
		}
		us_drop(st, skb, US_DROP_IP_NO_ROUTE);
		return -ENETUNREACH;
	}
	if (skb->len > IP_MAXPACKET - IP_HLEN_MIN - ip_options_len(a->opt)) {
		us_drop(st, skb, US_DROP_IP_FRAG_TOO_BIG);
		return -EMSGSIZE;
	}
	skb->iif = a->oif && ip_dev_is_loopback(rt.dev) ? a->oif : 0;
	df = a->df == IP_DF_WANT ? !rt.mtu_locked : a->df == IP_DF_YES;
	if (ip_push_header(st, skb, a, a->saddr ? a->saddr : rt.saddr, daddr,
			   df) < 0) {
		us_drop(st, skb, US_DROP_NOMEM);
		return -ENOBUFS;
	}
	/* A GSO packet is cut to size by the device or the TCP layer.
	 * Fragments fit the path MTU (RFC 1191 §3), or the device's for a
	 * socket that ignores the path's; a packet with DF is not cut, and
	 * goes unless the device cannot take it. */
	mtu = a->dev_mtu ? rt.dev->mtu : rt.mtu;
	cut = !skb_shinfo(skb)->gso_size &&
	      skb->len > (df ? rt.dev->mtu : mtu);
	if (cut && df) {
		/* RFC 1122 §3.3.3: DF forbids local fragmentation too; the
		 * sender learns the limit from EMSGSIZE. */
		us_mib_inc(st, US_MIB_IP_FRAG_FAILS);
		us_drop(st, skb, US_DROP_IP_FRAG_NEEDED_DF);
		return -EMSGSIZE;
	}
	ip_loop_local(st, &rt, a, skb);
	/* IP_MULTICAST_TTL 0: the local copy only. */
	if (a->host_only) {
		skb_free(skb);
		return 0;
	}
	return cut ? ip_fragment(st, &rt, mtu, skb)
		   : ip_finish_output(st, &rt, skb);
}

int ip_register_protocol(struct ustack *st, uint8_t protocol,
			 const struct net_protocol *p)
{
	const struct net_protocol *cur = st->ip.protos[protocol];

	/* NULL unregisters; a slot holds one protocol at a time. */
	if (p && cur && cur != p)
		return -EEXIST;
	st->ip.protos[protocol] = p;
	return 0;
}

static const struct net_protocol icmp_protocol = {
	.handler = icmp_rcv,
	.err_handler = icmp_err,
};

void ip_init(struct ustack *st)
{
	struct ipv4_state *ip = &st->ip;

	memset(ip, 0, sizeof(*ip));
	ip->default_ttl = IP_DEFAULT_TTL;
	/* Seeded random starts and key (ip_select_id), from a generator of
	 * their own that takes one draw of the stack's, as the single
	 * counter did: what else the seed decides (ISNs, ports, the
	 * simulations' runs) stays as it was. */
	us_rng_seed(&ip->ident_rng, us_rng_next(&st->rng));
	ip->ident_key.k0 = us_rng_next(&ip->ident_rng);
	ip->ident_key.k1 = us_rng_next(&ip->ident_rng);
	for (size_t i = 0; i < IP_IDENTS; i++)
		ip->ident[i] = (uint16_t)us_rng_next(&ip->ident_rng);
	ip_reasm_init(&ip->reasm);
	ip_pmtu_init(st);
	ip->protos[IPPROTO_ICMP_] = &icmp_protocol;
	skb_queue_head_init(&ip->loop_q);
	us_timer_init(&ip->loop_timer, ip_loop_fire);
	igmp_init(st);
}

void ip_destroy(struct ustack *st)
{
	us_timer_del(&st->timers, &st->ip.loop_timer);
	skb_queue_purge(&st->ip.loop_q);
	igmp_destroy(st);
	ip_pmtu_destroy(st);
	ip_reasm_destroy(st);
	st->ip.nroutes = 0;
}

bool ip_still_queued(struct ustack *st, uint32_t daddr,
		     const struct sk_buff *seg)
{
	struct ip_route rt;

	/* Nothing but seg itself refers to its data: no copy anywhere. */
	if (skb_shinfo(seg)->dataref < 2 || ip_route_output(st, daddr, &rt) < 0)
		return false;
	return arp_holds(st, rt.dev, rt.nexthop, seg) ||
	       (rt.dev->ops->holds && rt.dev->ops->holds(rt.dev, seg));
}
