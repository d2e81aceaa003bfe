/*
 * ipv4.h - the Internet Protocol, version 4 (RFC 791, RFC 1122 §3).
 *
 * Receive: netif_receive_skb / eth_rcv -> ip_rcv -> (reassembly) ->
 *          ip_local_deliver -> protocol handler (icmp_rcv, later udp, tcp).
 * Send:    protocol -> ip_output -> route -> (fragmentation) ->
 *          arp_output (Ethernet) or dev_queue_xmit (L3 device).
 *
 * ustack is a host, not a router: packets not addressed to one of its
 * addresses are dropped (US_DROP_IP_NOT_FOR_US), never forwarded.
 */
#ifndef US_NET_IPV4_H
#define US_NET_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/random.h"
#include "core/siphash.h"
#include "core/skbuff.h"
#include "core/stats.h"
#include "core/timer.h"

struct ustack;
struct net_device;

#define IPPROTO_ICMP_ 1
#define IP_HLEN_MIN 20
#define IP_HLEN_MAX 60
#define IP_MAXPACKET 65535
#define IP_DEFAULT_TTL 64
#define IP_DF 0x4000
#define IP_MF 0x2000
#define IP_OFFMASK 0x1fff

#define US_MAX_ROUTES 32

/* A parsed IPv4 header; multi-byte fields host order, addresses network. */
struct ipv4_info {
	uint8_t ihl_bytes;   /* header length incl. options */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off;   /* flags + offset in 8-byte units, as on the wire */
	uint8_t ttl;
	uint8_t protocol;
	uint16_t check;
	uint32_t saddr;
	uint32_t daddr;
};

/*
 * Parse and validate the header at p (len bytes available): version 4,
 * IHL >= 5, IHL and total length within len, header checksum. Returns 0
 * (NOT_DROPPED) or the reason. The options are ip_rcv's to check, once
 * the datagram is known to be for this host (ip_options_rcv).
 */
enum us_drop_reason ipv4_parse(const uint8_t *p, size_t len, struct ipv4_info *out);
/* Write the first 20 bytes of a header of h->ihl_bytes (20 when less;
 * the options already at out + 20) and its checksum over the whole. */
void ipv4_emit(const struct ipv4_info *h, uint8_t *out);

/* A transport protocol's entry points. */
struct net_protocol {
	/* skb->data at the transport header, network header set. Owns skb. */
	void (*handler)(struct sk_buff *skb);
	/*
	 * An ICMP error about a packet this protocol sent. `skb` is the ICMP
	 * message (data at its header, network header set), `inner` the
	 * embedded IP header, `l4` its first bytes (at least 8), `l4_len` how
	 * many. Owns nothing (a clone of skb may be kept: IP_RECVERR).
	 */
	/*
	 * Optional: the path MTU to daddr changed: it fell (an ICMP error
	 * about any protocol's packet), or went back up (what was learnt
	 * expired, or made room for another destination). A protocol that
	 * sizes its segments by it takes the new size.
	 */
	void (*pmtu_changed)(struct ustack *st, uint32_t daddr);
	void (*err_handler)(struct ustack *st, struct sk_buff *skb,
			    const struct ipv4_info *inner,
			    const uint8_t *l4, size_t l4_len, int type, int code,
			    uint32_t info);
};

struct ip_route_entry {
	uint32_t dst;      /* network byte order */
	uint32_t mask;
	uint32_t gateway;  /* 0 = directly connected */
	struct net_device *dev;
};

struct ip_route {
	struct net_device *dev;
	uint32_t nexthop;  /* the gateway, or the destination itself */
	uint32_t saddr;    /* the device's address */
	uint32_t mtu;      /* the path MTU: the device's, or less as learnt
			      (ip_pmtu_update) */
	bool mtu_locked;   /* learnt below IP_PMTU_MIN: packets go without
			      DF unless the socket insists (Linux's
			      ip_mtu_locked) */
	bool broadcast;    /* to a broadcast address (looped back too) */
};

/*
 * A path MTU learnt from an ICMP "fragmentation needed" (RFC 1191 §6.3),
 * kept per destination as Linux keeps it in a nexthop exception, and
 * forgotten after 10 minutes, when the device's MTU is tried again.
 */
#define IP_PMTU_SLOTS 64   /* 16 sets of 4 */
#define IP_PMTU_MIN 552    /* Linux's ip_rt_min_pmtu: 512 + 20 + 20 */
struct ip_pmtu {
	uint32_t daddr;    /* 0: a free slot */
	uint32_t mtu;
	bool locked;       /* reported below IP_PMTU_MIN (ip_route) */
	us_time_t expires;
};

/* DF on a packet: never, always, or unless the path's MTU is locked
 * (IP_PMTUDISC_WANT, Linux's ip_dont_fragment). */
enum { IP_DF_NO, IP_DF_YES, IP_DF_WANT };

struct ip_options;

/* Parameters of ip_output. */
struct ip_out_args {
	/* IPv4 options (ip_options.h) for the header, or NULL: with a
	 * source route the packet goes to its first hop, daddr in its
	 * last slot. */
	const struct ip_options *opt;
	uint32_t saddr;    /* 0 = the route's source address */
	uint32_t daddr;
	uint8_t protocol;
	uint32_t mark;     /* SO_MARK (the packet keeps it, SO_RCVMARK) */
	uint8_t ttl;       /* 0 = default (64) */
	uint8_t tos;
	uint8_t df;        /* IP_DF_*: an oversize packet with DF fails
			      EMSGSIZE */
	bool dev_mtu;      /* fragment by the device's MTU, not the path's
			      (IP_PMTUDISC_PROBE and up) */
	int oif;           /* out of this device (0: by the routes;
			      ip_route_output_oif): a group's, or what
			      SO_BINDTODEVICE / IP_UNICAST_IF asked */
	bool host_only;    /* to a group with IP_MULTICAST_TTL 0: not to
			      leave the host (Linux's ip_mc_output frees
			      it after the local copy) */
	bool mc_loop;      /* to a group: a copy for this host's members
			      (IP_MULTICAST_LOOP) */
};

/* One datagram being reassembled (RFC 791 §3.2, RFC 815). */
struct ipq {
	struct list_head list;
	struct ustack *st;
	uint32_t saddr, daddr;
	uint16_t id;
	uint8_t protocol;
	bool has_first;
	bool has_last;
	uint8_t ecn;          /* 1 << each ECN codepoint held (RFC 3168 §5.3) */
	uint32_t total_len;   /* payload length, known once the last arrived */
	uint32_t meat;        /* payload bytes held */
	size_t mem;           /* truesize held, charged to ipq_table.mem */
	struct sk_buff_head frags; /* sorted by offset, no overlaps */
	struct us_timer timer;
};

struct ipq_table {
	struct list_head queues;
	unsigned int count;
	size_t mem;
	size_t mem_limit;     /* default 4 MiB, as Linux's ipfrag_high_thresh */
	us_time_t timeout_us; /* default 30 s, as Linux's ipfrag_time */
};

#define IP_IDENTS 2048

struct ipv4_state {
	struct ip_route_entry routes[US_MAX_ROUTES];
	int nroutes;
	/* Identification (ip_select_id): one counter per bucket of
	 * (source, destination, protocol), as Linux's ip_idents. */
	struct us_siphash_key ident_key;
	struct us_rng ident_rng;   /* its own: the stack's stream is kept */
	uint16_t ident[IP_IDENTS];
	uint32_t ident_stamp[IP_IDENTS];   /* ms of its last use */
	uint8_t default_ttl;
	const struct net_protocol *protos[256];
	struct ipq_table reasm;
	struct ip_pmtu pmtu[IP_PMTU_SLOTS];
	unsigned int pmtu_count;   /* slots in use: none, no look-up */
	struct us_timer pmtu_timer; /* at the first entry's expiry */
	struct sk_buff_head loop_q;  /* copies for this host (ip_loop_local) */
	struct us_timer loop_timer;  /* due while loop_q has some */
	struct list_head mc_groups; /* the groups devices joined (igmp.c) */
	struct us_timer igmp_timer; /* at the first IGMP report due */
};

void ip_init(struct ustack *st);
void ip_destroy(struct ustack *st);

/* skb->data at the IPv4 header. Takes ownership. */
void ip_rcv(struct sk_buff *skb);
/*
 * Send skb (data at the transport header, payload complete) as IPv4:
 * route, push the header, fragment to the device MTU when needed, pass to
 * the neighbour layer. Takes ownership. Returns 0 or -errno
 * (-ENETUNREACH without a route, -EMSGSIZE with df and too big).
 */
int ip_output(struct ustack *st, struct sk_buff *skb, const struct ip_out_args *a);
/* The Identification for a datagram (and the segs-1 after it for a GSO
 * packet's segments): a keyed per-flow-bucket counter (ipv4.c). */
uint16_t ip_select_id(struct ustack *st, uint32_t saddr, uint32_t daddr,
		      uint8_t protocol, unsigned int segs);

/*
 * Whether a packet built from seg (skb_holds) still waits in this stack on
 * its way to daddr: held by the neighbour layer until the next hop
 * resolves, or by the device (its ops->holds: a TAP's writer thread not
 * done with it). TCP does not retransmit such a segment (Linux's
 * skb_still_in_host_queue): the copy would only queue up behind it.
 */
bool ip_still_queued(struct ustack *st, uint32_t daddr,
		     const struct sk_buff *seg);

/* dev goes away: its looped copies and its groups with it. */
void ip_dev_down(struct ustack *st, struct net_device *dev);

int ip_register_protocol(struct ustack *st, uint8_t protocol,
			 const struct net_protocol *p);

int ip_route_add(struct ustack *st, uint32_t dst, int prefix_len,
		 uint32_t gateway, struct net_device *dev);
/* Remove every route through dev. */
void ip_route_flush_dev(struct ustack *st, struct net_device *dev);
/* Longest-prefix match. 0, or -ENETUNREACH. */
int ip_route_output(struct ustack *st, uint32_t daddr, struct ip_route *rt);
/* The same out of the device oif (0: by the routes alone), as
 * SO_BINDTODEVICE and IP_UNICAST_IF ask: -ENODEV without that device. */
int ip_route_output_oif(struct ustack *st, uint32_t daddr, int oif,
			struct ip_route *rt);
/* A source in 127/8 leaves by lo alone (Linux's __mkroute_output):
 * -EINVAL for a route out of another device, else 0. */
int ip_route_check_saddr(uint32_t saddr, const struct ip_route *rt);
/* A multicast group through the device ifindex (IP_MULTICAST_IF, or an
 * IP_PKTINFO interface): the group is the next hop. 0, or -ENETUNREACH
 * when the device is gone or down. */
int ip_route_output_mc(struct ustack *st, uint32_t group, int ifindex,
		       struct ip_route *rt);
/* The path MTU learnt for daddr and not yet expired, or 0 (and whether
 * it is locked, when `locked` is not NULL). */
uint32_t ip_pmtu_get(struct ustack *st, uint32_t daddr, bool *locked);
/* The MTU of the device the route to daddr goes through (what a path
 * MTU may only lower), or 0 without a route. */
uint32_t ip_route_dev_mtu(struct ustack *st, uint32_t daddr);
/* A device's MTU changed (SIOCSIFMTU): the protocols' pmtu_changed for
 * every destination (daddr INADDR_ANY). */
void ip_dev_mtu_changed(struct ustack *st);
/* The expiry timer (ip_init, ip_destroy). */
void ip_pmtu_init(struct ustack *st);
void ip_pmtu_destroy(struct ustack *st);
/*
 * An ICMP "fragmentation needed" reported mtu for daddr (RFC 1191 §4):
 * remember it when it is below what the path had (an MTU below
 * IP_PMTU_MIN counts as IP_PMTU_MIN, as in Linux). Returns the new path
 * MTU when it fell, else 0.
 */
uint32_t ip_pmtu_update(struct ustack *st, uint32_t daddr, uint32_t mtu);

/* Address classes as seen by this host. */
enum ip_addr_type {
	IP_ADDR_UNICAST,    /* someone else */
	IP_ADDR_LOCAL,      /* one of ours */
	IP_ADDR_BROADCAST,  /* limited or a directed broadcast of our subnets */
	IP_ADDR_MULTICAST,
	IP_ADDR_INVALID,    /* 0.0.0.0, 127/8 on a non-loopback, class E */
};
enum ip_addr_type ip_addr_type(struct ustack *st, uint32_t addr);
/* The device that has addr as its address, lo for all of 127/8 (Linux's
 * ip_dev_find, which looks in the local table), or NULL. */
struct net_device *ip_dev_find(struct ustack *st, uint32_t addr);
/*
 * The interface a received packet counts as having come in on (Linux's
 * inet_iif): its device's, but for a packet this host sent itself through
 * lo, the interface its sender asked for (SO_BINDTODEVICE, ...), else the
 * device that has its destination address (the local route's, whose
 * index Linux keeps as rt_iif), lo for 127/8 and for a group or broadcast
 * looped back. SO_BINDTODEVICE, IP_PKTINFO and the
 * lookups that match a socket's device see this one.
 */
int ip_iif(struct ustack *st, const struct sk_buff *skb);
/* The local address a reply to a datagram from saddr to daddr comes
 * from (Linux's fib_compute_spec_dst; ip_sockglue.c). */
uint32_t ip_spec_dst(struct ustack *st, const struct sk_buff *skb,
		     uint32_t saddr, uint32_t daddr);
/* The directed broadcast of dev's subnet, or 0 when it has none (/31 links
 * per RFC 3021, host routes, no address). */
uint32_t ip_dev_broadcast(const struct net_device *dev);

#endif
