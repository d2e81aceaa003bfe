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
static int ip_route_local(struct ustack *st, uint32_t daddr,
			  struct ip_route *rt)
{
	struct net_device *lo = ip_loopback_dev(st);

	if (!lo)
		return -ENETUNREACH;
	rt->dev = lo;
	rt->nexthop = daddr;
	rt->saddr = daddr;
	if (ipv4_is_loopback(daddr) && lo->ip_addr)
		rt->saddr = lo->ip_addr;
	return 0;
}

/* The most specific route through a device that is up; ties go to the
 * route added first. */
static const struct ip_route_entry *ip_route_lpm(struct ustack *st,
						 uint32_t daddr)
{
	const struct ip_route_entry *best = NULL;

	for (int i = 0; i < st->ip.nroutes; i++) {
		const struct ip_route_entry *e = &st->ip.routes[i];

		if ((daddr & e->mask) != e->dst || !(e->dev->flags & US_IFF_UP))
			continue;
		if (!best || ntohl(e->mask) > ntohl(best->mask))
			best = e;
	}
	return best;
}

int ip_route_output(struct ustack *st, uint32_t daddr, struct ip_route *rt)
{
	const struct ip_route_entry *e;

	switch (ip_addr_type(st, daddr)) {
	case IP_ADDR_LOCAL:
		return ip_route_local(st, daddr, rt);
	case IP_ADDR_INVALID:
		/* 0/8, class E, 127/8 without lo: never put on a wire. */
		return -ENETUNREACH;
	default:
		break;
	}
	e = ip_route_lpm(st, daddr);
	if (!e)
		return -ENETUNREACH;
	rt->dev = e->dev;
	rt->nexthop = e->gateway ? e->gateway : daddr;
	rt->saddr = e->dev->ip_addr;
	return 0;
}
