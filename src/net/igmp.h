/*
 * igmp.h - IPv4 multicast groups: the memberships sockets ask for
 * (IP_ADD_MEMBERSHIP, MCAST_JOIN_GROUP), the groups each device has
 * joined, and IGMP, which tells the link's routers (RFC 1112 §7, RFC 2236,
 * RFC 3376: version 3, Linux's default, and versions 1 and 2 while an
 * older querier is heard). Linux's net/ipv4/igmp.c.
 *
 * Call chains:
 *   setsockopt -> ip_setsockopt -> ip_mc_join_group -> ip_mc_inc_group
 *                 (first member on the device) -> state-change report
 *   ip_rcv -> ip_mc_dev_joined (is the group joined on the device?)
 *          -> igmp_rcv (a query: reports after a random delay)
 *          -> udp_rcv -> ip_mc_sf_allow (does this socket take it?)
 *   the IGMP timer -> reports due (retransmissions, answers to queries)
 *
 * Source filters (RFC 3678 §4.1 and §5.1, RFC 3376 §3): a membership is
 * in INCLUDE mode with the sources asked for (IP_ADD_SOURCE_MEMBERSHIP,
 * MCAST_JOIN_SOURCE_GROUP) or in EXCLUDE mode with those blocked (an
 * any-source join, IP_BLOCK_SOURCE); IP_MSFILTER and MCAST_MSFILTER set
 * or read the whole. A device's filter for a group merges its sockets' (RFC 3376
 * §3.2), and its changes are reported with source records.
 *
 * A TCP
 * socket cannot join (EPROTO, as Linux's IP_ADD_MEMBERSHIP; Linux lets
 * MCAST_JOIN_GROUP and the source options through for TCP).
 */
#ifndef US_NET_IGMP_H
#define US_NET_IGMP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct net_device;
struct sk_buff;
struct sock;
struct ustack;

#define IPPROTO_IGMP_ 2

/* A socket's membership (Linux's ip_mc_socklist), on its
 * inet_dgram_sock's mc_list. */
struct ip_mc_socklist {
	struct ip_mc_socklist *next;
	uint32_t group;
	uint32_t address;   /* the ip_mreqn's imr_address, as given */
	int ifindex;        /* the device it was joined on */
	uint8_t sfmode;     /* MCAST_INCLUDE or MCAST_EXCLUDE */
	bool has_sflist;    /* a source list was made (Linux's sflist):
			       the mode no longer switches by itself */
	unsigned int nsrc;
	uint32_t *src;      /* its sources, in the order given */
};

/* IP_ADD_MEMBERSHIP, MCAST_JOIN_GROUP: 0 or -EINVAL (not a group),
 * -ENODEV, -EADDRINUSE (joined already), -ENOBUFS (past
 * net.ipv4.igmp_max_memberships, or no memory). A datagram socket's. */
int ip_mc_join_group(struct sock *sk, struct ip_mreqn *imr);
/* IP_DROP_MEMBERSHIP, MCAST_LEAVE_GROUP: 0, -ENODEV or -EADDRNOTAVAIL. */
int ip_mc_leave_group(struct sock *sk, struct ip_mreqn *imr);
/* IP_ADD_SOURCE_MEMBERSHIP, IP_DROP_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE,
 * IP_UNBLOCK_SOURCE and their MCAST_ kin (Linux's ip_mc_source and the
 * join before it): the group, the interface's address or ifindex, the
 * source. Linux's errors: EINVAL, ENODEV, EADDRINUSE, EADDRNOTAVAIL,
 * ENOBUFS (net.ipv4.igmp_max_msf sources). */
int ip_mc_source_opt(struct sock *sk, int optname, uint32_t group,
		     uint32_t ifaddr, int ifindex, uint32_t source);
/* IP_MSFILTER and MCAST_MSFILTER set (Linux's ip_mc_msfilter): mode and
 * sources, for the device of address ifaddr or index ifindex. */
int ip_mc_msfilter(struct sock *sk, uint32_t group, uint32_t ifaddr,
		   int ifindex, uint32_t mode, const uint32_t *src,
		   uint32_t n);
/* IP_MSFILTER get (Linux's ip_mc_msfget; ifindex -1: the device of
 * ifaddr) or MCAST_MSFILTER get (ip_mc_gsfget: the membership on ifindex
 * as given, 0 matching none): the
 * mode and how many sources there are; up to *n of them into src, *n then
 * the number copied. */
int ip_mc_msfget(struct sock *sk, uint32_t group, uint32_t ifaddr,
		 int ifindex, uint32_t *mode, uint32_t *count, uint32_t *src,
		 uint32_t *n);
/* Leave every group of a socket being closed (and, for any left, being
 * destroyed). */
void ip_mc_drop_socket(struct sock *sk);
/* Whether sk takes a datagram from saddr to `group` arriving on ifindex
 * (Linux's ip_mc_sf_allow): joined there with a filter that lets saddr
 * through, or IP_MULTICAST_ALL without a membership of its own for it. */
bool ip_mc_sf_allow(const struct sock *sk, uint32_t group, uint32_t saddr,
		    int ifindex);

/* Whether dev joined group with a filter that lets saddr through, so that
 * a datagram from it on dev is for this host (Linux's ip_check_mc_rcu;
 * IGMP to a joined group whatever its source), and IP_MULTICAST_LOOP
 * copies one sent there: a membership, or all hosts (224.0.0.1). */
bool ip_mc_dev_joined(struct ustack *st, const struct net_device *dev,
		      uint32_t group, uint32_t saddr, int proto);

void igmp_rcv(struct sk_buff *skb);
void igmp_init(struct ustack *st);
void igmp_destroy(struct ustack *st);
/* dev goes away: forget its groups (sockets' memberships stay, as
 * Linux's, and a leave then finds no device). */
void ip_mc_dev_down(struct ustack *st, struct net_device *dev);

#endif
