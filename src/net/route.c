/*
 * route.c - the IPv4 routing table of a host (RFC 1122 §3.3.1).
 *
 * Called by ip_output (and icmp) to choose the device, the next hop and
 * the source address of a datagram; filled by netdev_set_ipv4 (connected
 * routes) and by configuration (gateways). The table is small (a host has
 * a few routes), so longest-prefix match is a linear scan.
 *
 * Destinations that are this host never leave it: our own addresses and
 * 127/8 go through the loopback device "lo", as Linux's local table sends
 * them, and are unreachable when there is no lo.
 *
 * Path MTUs (RFC 1191): what ICMP "fragmentation needed" messages taught
 * is kept per destination in a small set-associative table (16 sets of 4,
 * the entry closest to expiry makes room) for 10 minutes (RFC 1191 §6.3,
 * Linux's ip_rt_mtu_expires), and ip_route_output reports the smaller of
 * it and the device's MTU. When an MTU falls, and when an entry expires
 * (a timer at the first expiry) or makes room, the protocols hear of it
 * (pmtu_changed: TCP sets the MSS of its connections to that destination,
 * also lowered by an error about a UDP datagram, and raised again as
 * RFC 1191 §6.3 asks a host to detect increases).
 */
#include <errno.h>
#include <string.h>

#include "net/ipv4.h"
#include "net/ipv4_priv.h"
#include "stack/stack.h"

struct net_device *ip_loopback_dev(struct ustack *st)
{
	return us_dev_get_by_name(st, "lo");
}

bool ip_dev_is_loopback(const struct net_device *dev)
{
	return (dev->flags & US_IFF_LOOPBACK) ||
	       dev->type == US_ARPHRD_LOOPBACK || strcmp(dev->name, "lo") == 0;
}

static uint32_t ip_prefix_mask(int prefix_len)
{
	return prefix_len <= 0 ? 0 : htonl(~0u << (32 - prefix_len));
}

int ip_route_add(struct ustack *st, uint32_t dst, int prefix_len,
		 uint32_t gateway, struct net_device *dev)
{
	struct ipv4_state *ip = &st->ip;
	uint32_t mask;
	struct ip_route_entry *e;

	if (prefix_len < 0 || prefix_len > 32 || !dev)
		return -EINVAL;
	mask = ip_prefix_mask(prefix_len);
	dst &= mask;
	for (int i = 0; i < ip->nroutes; i++) {
		e = &ip->routes[i];
		if (e->dst == dst && e->mask == mask && e->dev == dev)
			return -EEXIST;
	}
	if (ip->nroutes >= US_MAX_ROUTES)
		return -ENOSPC;
	e = &ip->routes[ip->nroutes++];
	e->dst = dst;
	e->mask = mask;
	e->gateway = gateway;
	e->dev = dev;
	return 0;
}

void ip_route_flush_dev(struct ustack *st, struct net_device *dev)
{
	struct ipv4_state *ip = &st->ip;
	int n = 0;

	for (int i = 0; i < ip->nroutes; i++)
		if (ip->routes[i].dev != dev)
			ip->routes[n++] = ip->routes[i];
	ip->nroutes = n;
	/* Queued fragments must not keep a pointer to a departing device. */
	ip_reasm_forget_dev(st, dev);
}

/* This host's own destinations: through lo, from the address itself (or
 * lo's for the rest of 127/8), as Linux's "local" routes do. */
/* A route's MTU through dev: no packet is longer than 65535 (Linux's
 * IP_MAX_MTU cap). */
static uint32_t ip_dev_mtu(const struct net_device *dev)
{
	return dev->mtu < IP_MAXPACKET ? dev->mtu : IP_MAXPACKET;
}

static int ip_route_local(struct ustack *st, uint32_t daddr,
			  struct ip_route *rt)
{
	struct net_device *lo = ip_loopback_dev(st);

	if (!lo)
		return -ENETUNREACH;
	rt->dev = lo;
	rt->nexthop = daddr;
	rt->saddr = daddr;
	rt->mtu = ip_dev_mtu(lo);
	rt->mtu_locked = false;
	rt->broadcast = false;
	if (ipv4_is_loopback(daddr) && lo->ip_addr)
		rt->saddr = lo->ip_addr;
	return 0;
}

/* The most specific route through a device that is up (through `only`,
 * when it is not NULL); ties go to the route added first. */
static const struct ip_route_entry *ip_route_lpm(struct ustack *st,
						 uint32_t daddr,
						 const struct net_device *only)
{
	const struct ip_route_entry *best = NULL;

	for (int i = 0; i < st->ip.nroutes; i++) {
		const struct ip_route_entry *e = &st->ip.routes[i];

		if ((daddr & e->mask) != e->dst || !(e->dev->flags & US_IFF_UP) ||
		    (only && e->dev != only))
			continue;
		if (!best || ntohl(e->mask) > ntohl(best->mask))
			best = e;
	}
	return best;
}

/* A source for a device without an address of its own: another device's,
 * one on a wire before lo's (Linux's inet_select_addr looks further). */
static uint32_t ip_any_saddr(struct ustack *st)
{
	struct net_device *lo = ip_loopback_dev(st);
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ip_addr && dev != lo)
			return dev->ip_addr;
	}
	return lo ? lo->ip_addr : 0;
}

/* The route out of dev to daddr through gateway (0: on the link). */
static void ip_route_fill(struct ustack *st, struct net_device *dev,
			  uint32_t gateway, uint32_t daddr,
			  enum ip_addr_type type, struct ip_route *rt)
{
	uint32_t pmtu;
	bool locked;

	rt->dev = dev;
	/* A broadcast or multicast datagram goes to the link's group
	 * address, never through a gateway, even when only the default
	 * route matched it (255.255.255.255; Linux's RTN_BROADCAST and
	 * RTN_MULTICAST routes have no gateway). */
	rt->broadcast = type == IP_ADDR_BROADCAST;
	rt->nexthop = gateway && !rt->broadcast &&
		      type != IP_ADDR_MULTICAST ? gateway : daddr;
	rt->saddr = dev->ip_addr ? dev->ip_addr : ip_any_saddr(st);
	rt->mtu = ip_dev_mtu(dev);
	pmtu = ip_pmtu_get(st, daddr, &locked);
	rt->mtu_locked = false;
	if (pmtu && pmtu <= rt->mtu) {
		rt->mtu = pmtu;
		rt->mtu_locked = locked;
	}
}

int ip_route_output(struct ustack *st, uint32_t daddr, struct ip_route *rt)
{
	const struct ip_route_entry *e;
	enum ip_addr_type type = ip_addr_type(st, daddr);

	switch (type) {
	case IP_ADDR_LOCAL:
		return ip_route_local(st, daddr, rt);
	case IP_ADDR_INVALID:
		/* 0/8, class E, 127/8 without lo: never put on a wire. */
		return -ENETUNREACH;
	default:
		break;
	}
	e = ip_route_lpm(st, daddr, NULL);
	if (!e)
		return -ENETUNREACH;
	ip_route_fill(st, e->dev, e->gateway, daddr, type, rt);
	return 0;
}

/*
 * Out of the device oif (SO_BINDTODEVICE, IP_UNICAST_IF, IP_PKTINFO's
 * interface), as Linux's ip_route_output_key_hash_rcu with flowi4_oif:
 * ENODEV without that device, ENETUNREACH when it is down; a group or
 * the limited broadcast straight out of it; one of our addresses locally
 * when the device has it (its local route is the device's; lo has 127/8);
 * else a route through that device, and when none has the destination,
 * the destination taken to be on its link ("the routing tables are
 * wrong", as Linux says, and sends there).
 */
int ip_route_output_oif(struct ustack *st, uint32_t daddr, int oif,
			struct ip_route *rt)
{
	enum ip_addr_type type = ip_addr_type(st, daddr);
	const struct ip_route_entry *e;
	struct net_device *dev;

	if (!oif)
		return ip_route_output(st, daddr, rt);
	dev = us_dev_get_by_index(st, oif);
	if (!dev)
		return -ENODEV;
	if (!(dev->flags & US_IFF_UP))
		return -ENETUNREACH;
	if (type == IP_ADDR_MULTICAST)
		return ip_route_output_mc(st, daddr, oif, rt);
	if (type == IP_ADDR_LOCAL &&
	    (ip_dev_find(st, daddr) == dev || ip_dev_is_loopback(dev)))
		return ip_route_local(st, daddr, rt);
	/* 0/8 is no destination (Linux's __mkroute_output: EINVAL); class
	 * E and the rest are taken to be on the link like any other. */
	if (type == IP_ADDR_INVALID && (ntohl(daddr) >> 24) == 0)
		return -EINVAL;
	e = daddr == htonl(INADDR_BROADCAST) ? NULL : ip_route_lpm(st, daddr, dev);
	/* A broadcast only where it is this device's (a subnet's out of
	 * another device is sent as to a host: Linux's RTN_BROADCAST
	 * route is the owning device's). */
	if (type == IP_ADDR_BROADCAST && daddr != htonl(INADDR_BROADCAST) &&
	    daddr != ip_dev_broadcast(dev))
		type = IP_ADDR_UNICAST;
	ip_route_fill(st, dev, e ? e->gateway : 0, daddr,
		      type == IP_ADDR_LOCAL || type == IP_ADDR_INVALID ?
		      IP_ADDR_UNICAST : type, rt);
	return 0;
}

int ip_route_check_saddr(uint32_t saddr, const struct ip_route *rt)
{
	return saddr && ipv4_is_loopback(saddr) && !ip_dev_is_loopback(rt->dev)
	       ? -EINVAL : 0;
}

int ip_route_output_mc(struct ustack *st, uint32_t group, int ifindex,
		       struct ip_route *rt)
{
	struct net_device *dev = us_dev_get_by_index(st, ifindex);

	if (!dev || !(dev->flags & US_IFF_UP))
		return -ENETUNREACH;
	rt->dev = dev;
	rt->nexthop = group;
	rt->saddr = dev->ip_addr ? dev->ip_addr : ip_any_saddr(st);
	rt->mtu = ip_dev_mtu(dev);
	rt->mtu_locked = false;
	rt->broadcast = false;
	return 0;
}

/* ---- path MTUs (RFC 1191) ----------------------------------------------- */

#define IP_PMTU_WAYS 4
#define IP_PMTU_EXPIRES_US (600 * US_USEC_PER_SEC)

static struct ip_pmtu *ip_pmtu_set(struct ustack *st, uint32_t daddr)
{
	uint32_t h = ntohl(daddr);

	h ^= h >> 16;
	h *= 0x45d9f3bu;   /* a multiplicative mix: nearby hosts spread */
	h ^= h >> 16;
	return &st->ip.pmtu[(h % (IP_PMTU_SLOTS / IP_PMTU_WAYS)) * IP_PMTU_WAYS];
}

/* Tell the protocols that the path MTU to daddr changed. */
static void ip_pmtu_changed(struct ustack *st, uint32_t daddr)
{
	for (int p = 0; p < 256; p++) {
		const struct net_protocol *np = st->ip.protos[p];

		if (np && np->pmtu_changed)
			np->pmtu_changed(st, daddr);
	}
}

void ip_dev_mtu_changed(struct ustack *st)
{
	ip_pmtu_changed(st, INADDR_ANY);
}

uint32_t ip_route_dev_mtu(struct ustack *st, uint32_t daddr)
{
	struct ip_route rt;

	if (ip_route_output(st, daddr, &rt) < 0)
		return 0;
	return ip_dev_mtu(rt.dev);
}

/* The timer at the first expiry of what is kept, or none. */
static void ip_pmtu_arm(struct ustack *st)
{
	us_time_t first = 0;

	for (int i = 0; i < IP_PMTU_SLOTS; i++) {
		const struct ip_pmtu *e = &st->ip.pmtu[i];

		if (e->daddr && (!first || e->expires < first))
			first = e->expires;
	}
	if (first)
		us_timer_mod(&st->timers, &st->ip.pmtu_timer, first);
	else
		us_timer_del(&st->timers, &st->ip.pmtu_timer);
}

static void ip_pmtu_expire(struct us_timer *t, us_time_t now)
{
	struct ustack *st = container_of(t, struct ustack, ip.pmtu_timer);

	for (int i = 0; i < IP_PMTU_SLOTS; i++) {
		struct ip_pmtu *e = &st->ip.pmtu[i];
		uint32_t daddr = e->daddr;

		if (!daddr || e->expires > now)
			continue;
		e->daddr = 0;
		st->ip.pmtu_count--;
		ip_pmtu_changed(st, daddr);
	}
	ip_pmtu_arm(st);
}

void ip_pmtu_init(struct ustack *st)
{
	us_timer_init(&st->ip.pmtu_timer, ip_pmtu_expire);
}

void ip_pmtu_destroy(struct ustack *st)
{
	us_timer_del(&st->timers, &st->ip.pmtu_timer);
}

/* (An entry past its time that the timer has not yet taken counts as
 * gone.) */
uint32_t ip_pmtu_get(struct ustack *st, uint32_t daddr, bool *locked)
{
	struct ip_pmtu *set;

	if (locked)
		*locked = false;
	if (!st->ip.pmtu_count || !daddr)
		return 0;
	set = ip_pmtu_set(st, daddr);
	for (int i = 0; i < IP_PMTU_WAYS; i++) {
		if (set[i].daddr != daddr || set[i].expires <= st->now)
			continue;
		if (locked)
			*locked = set[i].locked;
		return set[i].mtu;
	}
	return 0;
}

uint32_t ip_pmtu_update(struct ustack *st, uint32_t daddr, uint32_t mtu)
{
	struct ip_pmtu *set = ip_pmtu_set(st, daddr), *e = NULL;
	uint32_t old, evicted = 0;
	struct ip_route rt;
	bool lock = false;

	if (!daddr || ip_route_output(st, daddr, &rt) < 0 ||
	    ip_dev_is_loopback(rt.dev))
		return 0;
	old = rt.mtu;
	/* Linux's __ip_rt_update_pmtu: never above what the path had, and
	 * never below the minimum, whatever the message claims; below it
	 * the MTU is locked: packets go without DF from then on (unless
	 * the socket insists), so that the router may fragment them. */
	if (mtu > old)
		return 0;
	if (mtu < IP_PMTU_MIN) {
		mtu = old < IP_PMTU_MIN ? old : IP_PMTU_MIN;
		lock = true;
	}
	for (int i = 0; i < IP_PMTU_WAYS && !e; i++)
		if (set[i].daddr == daddr)
			e = &set[i];
	/* A locked MTU stays as it is until it expires (Linux's
	 * __ip_rt_update_pmtu returns at once for ip_mtu_locked). */
	if (e && e->locked && e->expires > st->now)
		return 0;
	if (!e && mtu == old && !lock)
		return 0;   /* the device's MTU: nothing to remember */
	if (!e) {
		e = &set[0];
		for (int i = 0; i < IP_PMTU_WAYS; i++) {
			if (!set[i].daddr) {
				e = &set[i];
				break;
			}
			if (set[i].expires < e->expires)
				e = &set[i];
		}
		if (!e->daddr)
			st->ip.pmtu_count++;
		else
			evicted = e->daddr;
		e->daddr = daddr;
	}
	e->mtu = mtu;
	e->locked = lock;
	e->expires = st->now + IP_PMTU_EXPIRES_US;
	ip_pmtu_arm(st);
	if (evicted)
		ip_pmtu_changed(st, evicted);
	if (mtu < old)
		ip_pmtu_changed(st, daddr);
	return mtu < old ? mtu : 0;
}
