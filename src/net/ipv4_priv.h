/*
 * ipv4_priv.h - what the IPv4 files (ipv4.c, route.c, ip_fragment.c,
 * icmp.c) share with each other and with nobody else: the steps of the
 * receive and send paths that cross file boundaries, and small helpers for
 * addresses and big-endian fields.
 *
 *   ip_rcv (ipv4.c) -> ip_defrag (ip_fragment.c) -> ip_local_deliver
 *   ip_output (ipv4.c) -> ip_fragment (ip_fragment.c) -> ip_finish_output
 */
#ifndef US_NET_IPV4_PRIV_H
#define US_NET_IPV4_PRIV_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "dev/netdev.h"
#include "net/ipv4.h"

struct ustack;

static inline uint16_t ip_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void ip_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Address classes by value alone (RFC 1122 §3.2.1.3, RFC 5735). */
static inline bool ipv4_is_loopback(uint32_t a)
{
	return (ntohl(a) >> 24) == 127;
}

/* 224.0.0.0/24, the groups of the local link (RFC 5771 §4). */
static inline bool ipv4_is_local_multicast(uint32_t a)
{
	return (ntohl(a) & 0xffffff00u) == 0xe0000000u;
}

static inline bool ipv4_is_multicast(uint32_t a)
{
	return (ntohl(a) >> 28) == 0xe;
}

static inline bool ipv4_is_lbcast(uint32_t a)
{
	return a == 0xffffffffu;
}

static inline bool ipv4_is_zeronet(uint32_t a)
{
	return (ntohl(a) >> 24) == 0;
}

/* route.c */
/* The device named "lo", when one is registered. */
struct net_device *ip_loopback_dev(struct ustack *st);
bool ip_dev_is_loopback(const struct net_device *dev);

/* ipv4.c */
/* Hand a finished IPv4 packet (data at the IP header) to the neighbour
 * layer or straight to an L3 device. Takes ownership. */
int ip_finish_output(struct ustack *st, const struct ip_route *rt,
		     struct sk_buff *skb);

/* ip_fragment.c */
void ip_reasm_init(struct ipq_table *t);
/* Free every queue and stop its timer. */
void ip_reasm_destroy(struct ustack *st);
/* A device is going away: forget it in queued fragments. */
void ip_reasm_forget_dev(struct ustack *st, struct net_device *dev);
/*
 * Queue a fragment (data at the IP header, trimmed to tot_len, header
 * validated). Returns the whole datagram as one new skb when this fragment
 * completed it, else NULL. Takes ownership.
 */
struct sk_buff *ip_defrag(struct ustack *st, struct sk_buff *skb);
/*
 * Split skb (data at a complete IPv4 header without DF) into fragments that
 * fit mtu (the path's, or rt->dev's) and send each via rt. Takes ownership. 0 or -errno.
 */
int ip_fragment(struct ustack *st, const struct ip_route *rt, unsigned int mtu,
		struct sk_buff *skb);

#endif
