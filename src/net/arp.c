/*
 * arp.c - the Address Resolution Protocol (RFC 826) and the neighbour cache
 * of Ethernet devices (see arp.h).
 *
 * Receive: eth_rcv -> arp_rcv -> (merge into the cache, flush packets that
 *          waited for the sender) -> reply to requests for our address.
 * Send:    ip_output -> arp_output -> eth_header_push -> dev_queue_xmit,
 *          or queue on an INCOMPLETE entry while a request is outstanding.
 *
 * Each entry moves INCOMPLETE -> REACHABLE -> STALE -> (removed), driven by
 * one timer embedded in it: while INCOMPLETE it retransmits the request
 * every retrans_us and gives up after max_probes; while REACHABLE it marks
 * the entry STALE after reachable_us; while STALE it removes the entry once
 * it has gone unused for gc_us. This is Linux's NUD machine reduced to what
 * RFC 1122 §2.3.2.1 asks for: a STALE entry stays usable and its use sends
 * a unicast poll instead of Linux's DELAY/PROBE states.
 *
 * The cache is a list: at most max_entries (256) entries, so a scan is
 * cheaper than keeping a hash table right. Time comes only from st->now.
 */
#include "net/arp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/ether.h"
#include "net/icmp.h"
#include "stack/stack.h"

#define ARP_DEF_MAX_ENTRIES 256
#define ARP_DEF_QUEUE_MAX 101
#define ARP_DEF_QUEUE_MAX_BYTES 212992
#define ARP_DEF_MAX_PROBES 3
#define ARP_DEF_RETRANS_US (1 * US_USEC_PER_SEC)
#define ARP_DEF_REACHABLE_US (30 * US_USEC_PER_SEC)
#define ARP_DEF_GC_US (60 * US_USEC_PER_SEC)

/*
 * The cache's private view of an entry: struct arp_entry (first, so that
 * code walking arp_table.entries sees plain entries) plus the times only
 * this file needs.
 */
struct arp_neigh {
	struct arp_entry e;
	us_time_t used;       /* last packet sent (or queued) through it */
	us_time_t polled;     /* last unicast poll while STALE, or NEVER */
};

static const uint8_t arp_zero_mac[ETH_ALEN];

static struct arp_neigh *arp_neigh(struct arp_entry *e)
{
	return container_of(e, struct arp_neigh, e);
}

/* Dotted quad for log lines; buf holds INET_ADDRSTRLEN bytes. */
static const char *ip_str(uint32_t ip, char *buf)
{
	return inet_ntop(AF_INET, &ip, buf, INET_ADDRSTRLEN);
}

/* ---- Wire format ------------------------------------------------------ */

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * RFC 826 "Packet format", for ar$hrd = Ethernet and ar$pro = IPv4 only:
 * those are the only pair this stack speaks, so any other hardware or
 * protocol type, address length, or an opcode other than request/reply
 * (RARP's 3 and 4 included) is a format error here.
 */
enum us_drop_reason arp_parse(const uint8_t *p, size_t len, struct arp_pkt *out)
{
	if (len < ARP_HLEN)
		return US_DROP_ARP_TRUNCATED;
	out->htype = get_be16(p);
	out->ptype = get_be16(p + 2);
	out->hlen = p[4];
	out->plen = p[5];
	out->op = get_be16(p + 6);
	if (out->htype != ARPHRD_ETHER || out->ptype != ETH_P_IP ||
	    out->hlen != ETH_ALEN || out->plen != 4)
		return US_DROP_ARP_BAD_FORMAT;
	if (out->op != ARPOP_REQUEST && out->op != ARPOP_REPLY)
		return US_DROP_ARP_BAD_FORMAT;
	memcpy(out->sha, p + 8, ETH_ALEN);
	memcpy(&out->spa, p + 14, 4);
	memcpy(out->tha, p + 18, ETH_ALEN);
	memcpy(&out->tpa, p + 24, 4);
	return US_DROP_NOT_DROPPED;
}

void arp_emit(const struct arp_pkt *a, uint8_t *out)
{
	put_be16(out, a->htype);
	put_be16(out + 2, a->ptype);
	out[4] = a->hlen;
	out[5] = a->plen;
	put_be16(out + 6, a->op);
	memcpy(out + 8, a->sha, ETH_ALEN);
	memcpy(out + 14, &a->spa, 4);
	memcpy(out + 18, a->tha, ETH_ALEN);
	memcpy(out + 24, &a->tpa, 4);
}

/* ---- Addresses -------------------------------------------------------- */

static bool ip_is_multicast(uint32_t ip)
{
	return (ntohl(ip) & 0xf0000000u) == 0xe0000000u;
}

/*
 * The limited broadcast, or the directed broadcast of dev's subnet
 * (RFC 1122 §3.3.6). A /31 (RFC 3021) or /32 has no broadcast address.
 */
static bool ip_is_bcast_on(const struct net_device *dev, uint32_t ip)
{
	uint32_t host = ~ntohl(dev->ip_mask);

	if (ip == htonl(0xffffffffu))
		return true;
	return dev->ip_addr && host > 1 && ip == (dev->ip_addr | ~dev->ip_mask);
}

/* RFC 1112 §6.4: 01-00-5E-00-00-00 plus the group's low-order 23 bits. */
static void ip_mcast_mac(uint32_t ip, uint8_t *mac)
{
	uint32_t h = ntohl(ip);

	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((h >> 16) & 0x7f);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* ---- Sending ARP packets ---------------------------------------------- */

/* Build and send one ARP packet from dev's own addresses. */
static int arp_send(struct net_device *dev, uint16_t op, const uint8_t *eth_dst,
		    const uint8_t *tha, uint32_t spa, uint32_t tpa)
{
	struct ustack *st = dev->st;
	struct arp_pkt a = {
		.htype = ARPHRD_ETHER,
		.ptype = ETH_P_IP,
		.hlen = ETH_ALEN,
		.plen = 4,
		.op = op,
		.spa = spa,
		.tpa = tpa,
	};
	struct sk_buff *skb = us_skb_alloc(st, ARP_HLEN);

	if (!skb) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return -ENOMEM;
	}
	memcpy(a.sha, dev->dev_addr, ETH_ALEN);
	memcpy(a.tha, tha, ETH_ALEN);
	arp_emit(&a, skb_put(skb, ARP_HLEN));
	skb->dev = dev;
	if (eth_header_push(skb, eth_dst, ETH_P_ARP) < 0) {
		us_drop(st, skb, US_DROP_NOT_SPECIFIED);
		return -ENOSPC;
	}
	return dev_queue_xmit(skb);
}

/*
 * Ask for e's hardware address: broadcast while resolving, unicast to the
 * cached address when polling a STALE entry (RFC 1122 §2.3.2.1 "Unicast
 * Poll"). The target hardware address is unknown, so it is zero.
 */
static void arp_solicit(struct arp_entry *e, const uint8_t *eth_dst)
{
	struct ustack *st = e->st;
	char buf[INET_ADDRSTRLEN];

	us_mib_inc(st, US_MIB_ARP_OUT_REQUESTS);
	us_log(st, US_LOG_DEBUG, "arp: who-has %s on %s", ip_str(e->ip, buf),
	       e->dev->name);
	arp_send(e->dev, ARPOP_REQUEST, eth_dst, arp_zero_mac,
		 e->dev->ip_addr, e->ip);
}

/* ---- The cache -------------------------------------------------------- */

static struct arp_entry *arp_find(struct ustack *st,
				  const struct net_device *dev, uint32_t ip)
{
	struct list_head *pos;

	list_for_each(pos, &st->arp.entries) {
		struct arp_entry *e = list_entry(pos, struct arp_entry, list);

		if (e->ip == ip && e->dev == dev)
			return e;
	}
	return NULL;
}

/* Unlink and free e, dropping any packets still waiting on it. */
static void arp_entry_destroy(struct ustack *st, struct arp_entry *e,
			      enum us_drop_reason reason)
{
	struct sk_buff *skb;

	us_timer_del(&st->timers, &e->timer);
	list_del(&e->list);
	st->arp.count--;
	while ((skb = skb_dequeue(&e->pending)) != NULL) {
		/* No answer: the sender hears "host unreachable" from
		 * us (Linux's arp_error_report -> ipv4_link_failure), so a
		 * connect() fails with EHOSTUNREACH after the ARP
		 * retries, not after all its SYNs. */
		if (reason == US_DROP_ARP_RESOLVE_FAILED) {
			if (!skb->dev)
				skb->dev = e->dev;
			icmp_send(skb, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
		}
		us_drop(st, skb, reason);
	}
	free(arp_neigh(e));
}

/*
 * Make room for one more entry. The victim is the entry confirmed longest
 * ago among those not INCOMPLETE: an INCOMPLETE entry holds packets and an
 * outstanding request that would only be sent again.
 */
static bool arp_make_room(struct ustack *st)
{
	while (st->arp.count >= st->arp.max_entries) {
		struct arp_entry *victim = NULL;
		struct list_head *pos;

		list_for_each(pos, &st->arp.entries) {
			struct arp_entry *e;

			e = list_entry(pos, struct arp_entry, list);
			if (e->state == ARP_INCOMPLETE)
				continue;
			if (!victim || e->updated < victim->updated)
				victim = e;
		}
		if (!victim)
			return false;
		/* Only INCOMPLETE entries hold packets: nothing is dropped. */
		arp_entry_destroy(st, victim, US_DROP_NOT_SPECIFIED);
	}
	return true;
}

static void arp_timer_fn(struct us_timer *t, us_time_t now);

/*
 * A new entry in `state` whose timer fires after `timeout`, or NULL with
 * the reason in *why.
 */
static struct arp_entry *arp_entry_create(struct ustack *st,
					  struct net_device *dev, uint32_t ip,
					  uint8_t state, us_time_t timeout,
					  enum us_drop_reason *why)
{
	struct arp_neigh *n;

	if (!arp_make_room(st)) {
		*why = US_DROP_ARP_TABLE_FULL;
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		*why = US_DROP_NOMEM;
		return NULL;
	}
	us_timer_init(&n->e.timer, arp_timer_fn);
	if (us_timer_mod(&st->timers, &n->e.timer, st->now + timeout) < 0) {
		free(n);
		*why = US_DROP_NOMEM;
		return NULL;
	}
	n->e.st = st;
	n->e.dev = dev;
	n->e.ip = ip;
	n->e.state = state;
	n->e.updated = st->now;
	n->used = st->now;
	n->polled = US_TIME_NEVER;
	skb_queue_head_init(&n->e.pending);
	list_add_tail(&n->e.list, &st->arp.entries);
	st->arp.count++;
	return &n->e;
}

/* Push the Ethernet header for dst and transmit; takes ownership. */
static int arp_xmit_to(struct ustack *st, struct sk_buff *skb,
		       const uint8_t *dst)
{
	if (eth_header_push(skb, dst, ETH_P_IP) < 0) {
		us_log(st, US_LOG_ERR, "arp: no headroom on %s", skb->dev->name);
		us_drop(st, skb, US_DROP_NOT_SPECIFIED);
		return -ENOSPC;
	}
	return dev_queue_xmit(skb);
}

/* Send, in arrival order, the packets that waited for e to resolve. */
static void arp_flush_pending(struct arp_entry *e)
{
	struct ustack *st = e->st;
	struct sk_buff_head q;
	struct sk_buff *skb;
	uint8_t mac[ETH_ALEN];

	/* Detach first: nothing sent from here may see a half-drained queue. */
	memcpy(mac, e->mac, ETH_ALEN);
	skb_queue_head_init(&q);
	while ((skb = skb_dequeue(&e->pending)) != NULL)
		skb_queue_tail(&q, skb);
	while ((skb = skb_dequeue(&q)) != NULL)
		arp_xmit_to(st, skb, mac);
}

/*
 * The sender of an ARP packet told us its address: record it as REACHABLE
 * (RFC 826 merge step) and, if packets were waiting, send them now.
 */
static void arp_confirm(struct arp_entry *e, const uint8_t *mac)
{
	struct ustack *st = e->st;
	bool was_incomplete = e->state == ARP_INCOMPLETE;

	memcpy(e->mac, mac, ETH_ALEN);
	e->state = ARP_REACHABLE;
	e->probes = 0;
	e->updated = st->now;
	arp_neigh(e)->polled = US_TIME_NEVER;
	/* The timer is always pending outside its callback: no allocation. */
	(void)us_timer_mod(&st->timers, &e->timer,
			   st->now + st->arp.reachable_us);
	if (was_incomplete) {
		us_mib_inc(st, US_MIB_ARP_RESOLVED);
		arp_flush_pending(e);
	}
}

/*
 * INCOMPLETE: retransmit the request (RFC 1122 §2.3.2.1: at most one per
 * second per destination) until max_probes were sent, then give up on the
 * destination and its queued packets.
 */
static void arp_retransmit(struct arp_entry *e)
{
	struct ustack *st = e->st;
	char buf[INET_ADDRSTRLEN];

	if (e->probes >= st->arp.max_probes) {
		us_log(st, US_LOG_DEBUG, "arp: %s unresolved, %u packets dropped",
		       ip_str(e->ip, buf), e->pending.qlen);
		arp_entry_destroy(st, e, US_DROP_ARP_RESOLVE_FAILED);
		return;
	}
	e->probes++;
	arp_solicit(e, e->dev->broadcast);
	(void)us_timer_mod(&st->timers, &e->timer, st->now + st->arp.retrans_us);
}

static us_time_t arp_last_activity(struct arp_entry *e)
{
	us_time_t used = arp_neigh(e)->used;

	return used > e->updated ? used : e->updated;
}

/* REACHABLE for reachable_us: still used, but no longer trusted. */
static void arp_mark_stale(struct arp_entry *e)
{
	struct ustack *st = e->st;

	e->state = ARP_STALE;
	(void)us_timer_mod(&st->timers, &e->timer,
			   arp_last_activity(e) + st->arp.gc_us);
}

/* STALE: remove the entry once nothing used it for gc_us. */
static void arp_gc(struct arp_entry *e)
{
	struct ustack *st = e->st;
	us_time_t expires = arp_last_activity(e) + st->arp.gc_us;

	if (st->now >= expires) {
		arp_entry_destroy(st, e, US_DROP_NOT_SPECIFIED);
		return;
	}
	(void)us_timer_mod(&st->timers, &e->timer, expires);
}

static void arp_timer_fn(struct us_timer *t, us_time_t now)
{
	struct arp_entry *e = container_of(t, struct arp_entry, timer);

	(void)now; /* == e->st->now: the engine runs timers at its own time */
	switch (e->state) {
	case ARP_INCOMPLETE:
		arp_retransmit(e);
		break;
	case ARP_REACHABLE:
		arp_mark_stale(e);
		break;
	default:
		arp_gc(e);
		break;
	}
}

/* ---- Receive ---------------------------------------------------------- */

/*
 * Refuse senders that cannot be a host's unicast address on this link: a
 * group or zero hardware address, our own hardware address (a loop or a
 * spoof), a broadcast or multicast protocol address, or our own protocol
 * address (another station claims it: an address conflict, RFC 5227 §2.4;
 * like Linux we do not learn it and do not defend). Sender 0.0.0.0 is
 * accepted only in a request: that is an RFC 5227 §2.1.1 probe.
 */
static enum us_drop_reason arp_check_sender(struct net_device *dev,
					    const struct arp_pkt *a)
{
	struct ustack *st = dev->st;
	char buf[INET_ADDRSTRLEN];

	if (eth_addr_is_multicast(a->sha) || eth_addr_is_zero(a->sha) ||
	    memcmp(a->sha, dev->dev_addr, ETH_ALEN) == 0)
		return US_DROP_ARP_BAD_SENDER;
	if (a->spa == 0)
		return a->op == ARPOP_REQUEST ? US_DROP_NOT_DROPPED :
						US_DROP_ARP_BAD_SENDER;
	if (ip_is_multicast(a->spa) || ip_is_bcast_on(dev, a->spa))
		return US_DROP_ARP_BAD_SENDER;
	if (dev->ip_addr && a->spa == dev->ip_addr) {
		/* INFO, not WARN: a flood of these must not flood the log. */
		us_log(st, US_LOG_INFO, "arp: %s: our address %s claimed by "
		       "%02x:%02x:%02x:%02x:%02x:%02x", dev->name,
		       ip_str(a->spa, buf), a->sha[0], a->sha[1], a->sha[2],
		       a->sha[3], a->sha[4], a->sha[5]);
		return US_DROP_ARP_BAD_SENDER;
	}
	return US_DROP_NOT_DROPPED;
}

/*
 * RFC 826 reply: swap the sender and target fields, put our addresses in
 * the sender fields, and send it to the requester's hardware address.
 */
static void arp_reply(struct net_device *dev, const struct arp_pkt *req)
{
	us_mib_inc(dev->st, US_MIB_ARP_OUT_REPLIES);
	arp_send(dev, ARPOP_REPLY, req->sha, req->sha, dev->ip_addr, req->spa);
}

/*
 * RFC 5227 §2.1.1 probe (sender 0.0.0.0): its sender has no address yet,
 * so there is nothing to learn; if it asks for our address, answer it as
 * RFC 826 says (Linux does too), which is how the prober sees the conflict.
 */
static void arp_rcv_probe(struct sk_buff *skb, const struct arp_pkt *a)
{
	struct net_device *dev = skb->dev;

	if (!dev->ip_addr || a->tpa != dev->ip_addr) {
		us_drop(dev->st, skb, US_DROP_ARP_NOT_FOR_US);
		return;
	}
	arp_reply(dev, a);
	skb_free(skb);
}

/*
 * RFC 826 "Packet Reception", after the hardware/protocol checks of
 * arp_parse: update the sender's entry if we have one (merge_flag); if we
 * are the target, add the sender when it was not merged, and answer a
 * request. Packets for other targets only ever refresh what we have.
 */
static void arp_process(struct sk_buff *skb, const struct arp_pkt *a)
{
	struct net_device *dev = skb->dev;
	struct ustack *st = dev->st;
	struct arp_entry *e = arp_find(st, dev, a->spa);
	enum us_drop_reason why;

	if (e)
		arp_confirm(e, a->sha);
	if (!dev->ip_addr || a->tpa != dev->ip_addr) {
		us_drop(st, skb, US_DROP_ARP_NOT_FOR_US);
		return;
	}
	/* A full table costs only the learning: a request is still answered. */
	if (!e) {
		e = arp_entry_create(st, dev, a->spa, ARP_REACHABLE,
				     st->arp.reachable_us, &why);
		if (e)
			memcpy(e->mac, a->sha, ETH_ALEN);
	}
	if (a->op == ARPOP_REQUEST)
		arp_reply(dev, a);
	skb_free(skb);
}

void arp_rcv(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	struct ustack *st = dev->st;
	enum us_drop_reason reason;
	struct arp_pkt a;

	/* Only the first 28 bytes are ARP; the rest is Ethernet padding. */
	reason = arp_parse(skb->data, skb->len, &a);
	if (reason) {
		us_drop(st, skb, reason);
		return;
	}
	us_mib_inc(st, a.op == ARPOP_REQUEST ? US_MIB_ARP_IN_REQUESTS :
					       US_MIB_ARP_IN_REPLIES);
	if (dev->flags & US_IFF_NOARP) {
		us_drop(st, skb, US_DROP_ARP_NOT_FOR_US);
		return;
	}
	reason = arp_check_sender(dev, &a);
	if (reason) {
		us_drop(st, skb, reason);
		return;
	}
	if (a.spa == 0)
		arp_rcv_probe(skb, &a);
	else
		arp_process(skb, &a);
}

/* ---- Output ----------------------------------------------------------- */

/*
 * Destinations that need no resolution. Like Linux, 0.0.0.0 is sent as a
 * broadcast (it can only be the limited broadcast of an old BSD host).
 */
static bool arp_static_mac(const struct net_device *dev, uint32_t nexthop,
			   uint8_t *mac)
{
	if (nexthop == 0 || ip_is_bcast_on(dev, nexthop)) {
		memcpy(mac, dev->broadcast, ETH_ALEN);
		return true;
	}
	if (ip_is_multicast(nexthop)) {
		ip_mcast_mac(nexthop, mac);
		return true;
	}
	return false;
}

static void arp_enqueue(struct arp_entry *e, struct sk_buff *skb);

/* A known neighbour: send, and poll it if it has gone STALE. */
static int arp_output_resolved(struct arp_entry *e, struct sk_buff *skb)
{
	struct ustack *st = e->st;
	struct arp_neigh *n = arp_neigh(e);
	int err;

	n->used = st->now;
	/*
	 * STALE, and max_probes polls of the cached address went
	 * unanswered for a retrans_us each: the neighbour has moved or
	 * gone (RFC 1122 §2.3.2.1: delete the entry after N polls; Linux's
	 * PROBE -> FAILED). Resolve afresh by broadcast, holding the
	 * packet, rather than keep sending to a dead address.
	 */
	if (e->state == ARP_STALE && e->probes >= st->arp.max_probes &&
	    st->now >= n->polled + st->arp.retrans_us) {
		us_mib_inc(st, US_MIB_ARP_STALE_FAILED);
		e->state = ARP_INCOMPLETE;
		arp_enqueue(e, skb);
		e->probes = 1;
		arp_solicit(e, e->dev->broadcast);
		(void)us_timer_mod(&st->timers, &e->timer,
				   st->now + st->arp.retrans_us);
		return 0;
	}
	err = arp_xmit_to(st, skb, e->mac);
	if (e->state != ARP_STALE)
		return err;
	/* At most one poll per retrans_us, as for broadcast requests. */
	if (n->polled == US_TIME_NEVER ||
	    st->now >= n->polled + st->arp.retrans_us) {
		n->polled = st->now;
		e->probes++;
		arp_solicit(e, e->mac);
	}
	return err;
}

/*
 * Hold skb until e resolves. RFC 1122 §2.3.2.2 asks to keep at least the
 * newest packet; past either bound the oldest goes, as in Linux.
 */
static void arp_enqueue(struct arp_entry *e, struct sk_buff *skb)
{
	struct ustack *st = e->st;
	struct sk_buff_head *q = &e->pending;

	while (q->qlen && (q->qlen >= st->arp.queue_max ||
			   q->bytes + skb->len > st->arp.queue_max_bytes))
		us_drop(st, skb_dequeue(q), US_DROP_ARP_QUEUE_FULL);
	skb_queue_tail(q, skb);
	arp_neigh(e)->used = st->now;
	us_mib_inc(st, US_MIB_ARP_QUEUED);
}

/* No usable entry: start resolving (or join a resolution in progress). */
static int arp_output_unresolved(struct ustack *st, struct net_device *dev,
				 uint32_t nexthop, struct arp_entry *e,
				 struct sk_buff *skb)
{
	enum us_drop_reason why;

	if (e) {
		arp_enqueue(e, skb);
		return 0;
	}
	e = arp_entry_create(st, dev, nexthop, ARP_INCOMPLETE,
			     st->arp.retrans_us, &why);
	if (!e) {
		us_drop(st, skb, why);
		return why == US_DROP_NOMEM ? -ENOMEM : -ENOBUFS;
	}
	arp_enqueue(e, skb);
	e->probes = 1;
	arp_solicit(e, dev->broadcast);
	return 0;
}

int arp_output(struct ustack *st, struct net_device *dev, uint32_t nexthop,
	       struct sk_buff *skb)
{
	struct arp_entry *e;
	uint8_t mac[ETH_ALEN];

	skb->dev = dev;
	/* A layer-3 device carries bare IPv4: no link header at all. */
	if (dev->hard_header_len == 0)
		return dev_queue_xmit(skb);
	/* The loopback has no neighbours: zero addresses, as Linux's lo. */
	if (dev->flags & US_IFF_NOARP)
		return arp_xmit_to(st, skb, arp_zero_mac);
	if (arp_static_mac(dev, nexthop, mac))
		return arp_xmit_to(st, skb, mac);
	e = arp_find(st, dev, nexthop);
	if (e && e->state != ARP_INCOMPLETE)
		return arp_output_resolved(e, skb);
	return arp_output_unresolved(st, dev, nexthop, e, skb);
}

bool arp_holds(struct ustack *st, const struct net_device *dev,
	       uint32_t nexthop, const struct sk_buff *seg)
{
	struct arp_entry *e = arp_find(st, dev, nexthop);
	struct list_head *pos;

	if (!e || e->state != ARP_INCOMPLETE)
		return false;
	list_for_each(pos, &e->pending.list) {
		if (skb_holds(list_entry(pos, struct sk_buff, list), seg))
			return true;
	}
	return false;
}

/*
 * RFC 5227 §3 announcement: a request with our address as both sender and
 * target and a zero target hardware address, broadcast, so that every host
 * that already has us cached updates its entry (the RFC 826 merge step).
 * A device without ARP has nothing to announce.
 */
int arp_send_gratuitous(struct net_device *dev)
{
	if (!dev->ip_addr)
		return -EADDRNOTAVAIL;
	if (dev->hard_header_len == 0 || (dev->flags & US_IFF_NOARP))
		return 0;
	us_mib_inc(dev->st, US_MIB_ARP_OUT_GRATUITOUS);
	return arp_send(dev, ARPOP_REQUEST, dev->broadcast, arp_zero_mac,
			dev->ip_addr, dev->ip_addr);
}

int arp_lookup(struct ustack *st, uint32_t ip, uint8_t *mac)
{
	struct list_head *pos;

	list_for_each(pos, &st->arp.entries) {
		struct arp_entry *e = list_entry(pos, struct arp_entry, list);

		if (e->ip == ip && e->state != ARP_INCOMPLETE) {
			memcpy(mac, e->mac, ETH_ALEN);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- Setup and teardown ----------------------------------------------- */

void arp_init(struct ustack *st)
{
	struct arp_table *t = &st->arp;

	list_init(&t->entries);
	t->count = 0;
	t->max_entries = ARP_DEF_MAX_ENTRIES;
	t->queue_max = ARP_DEF_QUEUE_MAX;
	t->queue_max_bytes = ARP_DEF_QUEUE_MAX_BYTES;
	t->max_probes = ARP_DEF_MAX_PROBES;
	t->retrans_us = ARP_DEF_RETRANS_US;
	t->reachable_us = ARP_DEF_REACHABLE_US;
	t->gc_us = ARP_DEF_GC_US;
}

void arp_flush_dev(struct ustack *st, struct net_device *dev)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &st->arp.entries) {
		struct arp_entry *e = list_entry(pos, struct arp_entry, list);

		if (e->dev == dev)
			arp_entry_destroy(st, e, US_DROP_DEV_DOWN);
	}
}

void arp_destroy(struct ustack *st)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &st->arp.entries) {
		struct arp_entry *e = list_entry(pos, struct arp_entry, list);

		us_timer_del(&st->timers, &e->timer);
		list_del(&e->list);
		skb_queue_purge(&e->pending);
		free(arp_neigh(e));
	}
	st->arp.count = 0;
}
