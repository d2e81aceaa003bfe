/*
 * arp.h - the Address Resolution Protocol (RFC 826) and the neighbour cache.
 *
 * Receive: eth_rcv -> arp_rcv (learn the sender, answer requests for us).
 * Send:    ip_output -> arp_output (resolve the next hop, queue while
 *          resolving, then eth_header_push -> dev_queue_xmit).
 *
 * The cache is bounded (max_entries) and each unresolved entry holds a
 * bounded queue of packets (queue_max); beyond either bound packets are
 * dropped and counted. Entries age out; an unanswered request is retried
 * max_probes times, retrans_us apart, then its queue is dropped
 * (US_DROP_ARP_RESOLVE_FAILED).
 */
#ifndef US_NET_ARP_H
#define US_NET_ARP_H

#include <stdint.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/skbuff.h"
#include "core/stats.h"
#include "core/timer.h"
#include "dev/netdev.h"

struct ustack;

#define ARP_HLEN 28         /* Ethernet/IPv4 ARP packet */
#define ARPHRD_ETHER 1
#define ARPOP_REQUEST 1
#define ARPOP_REPLY 2

/* An ARP packet for Ethernet/IPv4, fields in host order except addresses. */
struct arp_pkt {
	uint16_t htype;
	uint16_t ptype;
	uint8_t hlen;
	uint8_t plen;
	uint16_t op;
	uint8_t sha[ETH_ALEN];
	uint32_t spa;   /* network byte order */
	uint8_t tha[ETH_ALEN];
	uint32_t tpa;   /* network byte order */
};

enum arp_state {
	ARP_INCOMPLETE = 1, /* request sent, no answer yet */
	ARP_REACHABLE = 2,  /* answered within reachable_us */
	ARP_STALE = 3,      /* old, still used; refreshed on next use */
	ARP_FAILED = 4,
};

struct arp_entry {
	struct list_head list;     /* on arp_table.entries */
	struct net_device *dev;
	uint32_t ip;               /* network byte order */
	uint8_t mac[ETH_ALEN];
	uint8_t state;             /* enum arp_state */
	uint8_t probes;            /* requests sent while INCOMPLETE */
	us_time_t updated;         /* when the mapping was last confirmed */
	struct us_timer timer;     /* retransmit while INCOMPLETE; expiry */
	struct sk_buff_head pending; /* IPv4 packets waiting for resolution */
	struct ustack *st;
};

struct arp_table {
	struct list_head entries;
	unsigned int count;
	unsigned int max_entries;  /* default 256 */
	unsigned int queue_max;    /* packets per unresolved entry, default 101
				      (Linux's unres_qlen) */
	size_t queue_max_bytes;    /* and bytes, default 212992 (Linux's
				      unres_qlen_bytes) */
	unsigned int max_probes;   /* default 3 */
	us_time_t retrans_us;      /* default 1 s */
	us_time_t reachable_us;    /* default 30 s, then STALE */
	us_time_t gc_us;           /* an unused STALE entry is removed, 60 s */
};

/* Parse an Ethernet/IPv4 ARP packet. Returns 0 (NOT_DROPPED) or a reason. */
enum us_drop_reason arp_parse(const uint8_t *p, size_t len, struct arp_pkt *out);
/* Write the 28-byte packet. */
void arp_emit(const struct arp_pkt *a, uint8_t *out);

void arp_init(struct ustack *st);
/* Free every entry and its queued packets. */
void arp_destroy(struct ustack *st);
/* Forget every entry of a device (on unregister). */
void arp_flush_dev(struct ustack *st, struct net_device *dev);

/* skb->data at the ARP header. Takes ownership. */
void arp_rcv(struct sk_buff *skb);
/*
 * Send an IPv4 packet (skb->data at the IP header) to the next hop on dev,
 * resolving it first. Takes ownership. Returns 0 (sent or queued) or -errno.
 */
int arp_output(struct ustack *st, struct net_device *dev, uint32_t nexthop,
	       struct sk_buff *skb);
/* Whether a packet built from seg (skb_holds) waits for nexthop on dev to
 * resolve. */
bool arp_holds(struct ustack *st, const struct net_device *dev,
	       uint32_t nexthop, const struct sk_buff *seg);
/* Announce dev's address (RFC 5227 §3 ARP announcement). */
int arp_send_gratuitous(struct net_device *dev);
/* Look up a resolved mapping; 0 and mac filled, or -ENOENT. */
int arp_lookup(struct ustack *st, uint32_t ip, uint8_t *mac);

#endif
