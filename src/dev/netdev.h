/*
 * netdev.h - struct net_device: the device level.
 *
 * A device moves frames between the stack and something outside it: a TAP
 * device of the kernel, an in-memory wire to another instance, the loopback.
 * The stack calls ops->xmit to send (through dev_queue_xmit) and ops->poll to
 * receive; poll hands each frame up with netif_receive_skb(). Ethernet
 * devices carry Ethernet frames; layer-3 devices (type ARPHRD_NONE) carry
 * bare IPv4 packets.
 *
 * Call chain:  ip_output -> neigh (arp) -> dev_queue_xmit -> ops->xmit
 *              ops->poll -> netif_receive_skb -> eth_rcv / ip_rcv
 */
#ifndef US_DEV_NETDEV_H
#define US_DEV_NETDEV_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/skbuff.h"

struct ustack;
struct pcap_writer;

#define US_IFNAMSIZ 16
#define ETH_ALEN 6

/* Device types (values of Linux's ARPHRD_*). */
#define US_ARPHRD_ETHER 1
#define US_ARPHRD_LOOPBACK 772
#define US_ARPHRD_NONE 0xfffe

/* Device flags (the values of Linux's IFF_*). RUNNING and LOWER_UP are
 * never set in dev->flags: netdev_get_flags() adds them as Linux's
 * dev_get_flags does from the device's state. */
#define US_IFF_UP 0x1
#define US_IFF_BROADCAST 0x2
#define US_IFF_LOOPBACK 0x8
#define US_IFF_RUNNING 0x40
#define US_IFF_NOARP 0x80
#define US_IFF_MULTICAST 0x1000  /* joins groups (net/igmp.c) */
#define US_IFF_LOWER_UP 0x10000

/* The smallest MTU a device may be given: IPv4's 68 (RFC 791, Linux's
 * ETH_MIN_MTU), and the transmit queue length devices report (Linux's
 * DEFAULT_TX_QUEUE_LEN). */
#define US_MIN_MTU 68
#define US_TX_QUEUE_LEN 1000

/* Feature bits (Linux's NETIF_F_* in spirit). */
#define US_NETIF_F_HW_CSUM 0x1 /* device completes CHECKSUM_PARTIAL on tx */
#define US_NETIF_F_RXCSUM 0x2  /* device may mark rx CHECKSUM_UNNECESSARY */
#define US_NETIF_F_TSO 0x4     /* device segments SKB_GSO_TCPV4 on tx */
#define US_NETIF_F_GRO_HW 0x8  /* device may hand up large GSO packets */
/* UDP segmentation offload (Linux's NETIF_F_GSO_UDP_L4): the device cuts
 * SKB_GSO_UDP_L4 on tx; and on rx (with GRO_HW) it may hand up such a
 * packet, which UDP cuts again unless the socket takes it (UDP_GRO). */
#define US_NETIF_F_GSO_UDP_L4 0x10
#define US_NETIF_F_GRO_UDP_L4 0x20
/* A GSO frame this long or longer (link header included) is cut in
 * software whatever the device offers: Linux's gso_features_check against
 * GSO_LEGACY_MAX_SIZE, the gso_max_size of its lo, tun and veth. */
#define US_GSO_MAX_SIZE 65536u

struct net_device_stats {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors;
	uint64_t rx_dropped, tx_dropped;
};

struct net_device;

struct net_device_ops {
	/*
	 * Send one frame (skb->data at the link header). Takes ownership of
	 * skb whatever it returns. Returns 0 or -errno.
	 */
	int (*xmit)(struct net_device *dev, struct sk_buff *skb);
	/*
	 * Receive up to `budget` frames, handing each to netif_receive_skb().
	 * Returns how many were received; 0 when nothing is waiting.
	 */
	int (*poll)(struct net_device *dev, int budget);
	/*
	 * Optional: the time of the next frame this device will have for
	 * poll() (for in-memory devices driven in virtual time), or
	 * US_TIME_NEVER. Devices with an fd leave it NULL.
	 */
	us_time_t (*next_event)(struct net_device *dev);
	/*
	 * Optional: true while a frame the device took and has not handed
	 * on yet shares seg's data (skb_holds), so that a retransmission
	 * waits rather than send a second copy (ip_still_queued).
	 */
	bool (*holds)(const struct net_device *dev, const struct sk_buff *seg);
	/* Optional: hand on every frame taken and not yet handed on (a
	 * TAP's writer thread: wait for it), before the runtime is gone
	 * (ustack_stop). */
	void (*flush)(struct net_device *dev);
	/* Release the device's own resources (not the struct itself). */
	void (*destroy)(struct net_device *dev);
};

struct net_device {
	struct list_head list;  /* on ustack->devices */
	struct ustack *st;
	char name[US_IFNAMSIZ];
	int ifindex;
	unsigned int flags;     /* US_IFF_* */
	unsigned int type;      /* US_ARPHRD_* */
	uint32_t features;      /* US_NETIF_F_* */
	unsigned int mtu;       /* largest L3 packet */
	unsigned int min_mtu;   /* the range SIOCSIFMTU may set: min_mtu */
	unsigned int max_mtu;   /* (68) to max_mtu (what the driver sized
				   its buffers for: the MTU it registered
				   with, unless it says more) */
	unsigned int tx_queue_len; /* reported by SIOCGIFTXQLEN */
	unsigned int hard_header_len;  /* 14 for Ethernet, 0 for L3 */
	unsigned int needed_headroom;  /* extra, e.g. the virtio-net header */
	uint8_t dev_addr[ETH_ALEN];
	uint8_t broadcast[ETH_ALEN];
	int fd;                 /* pollable kernel fd, or -1 */
	bool rt_unwatched;      /* the runtime stopped watching fd (it
				   reported an error or hang-up) */
	uint64_t rx_empty_at;   /* the number of the last read of fd that
				   found it empty (us_rx_read_begin) */

	/* The device's IPv4 address (network byte order); 0 = none. */
	uint32_t ip_addr;
	uint32_t ip_mask;
	/* IGMP (net/igmp.c): an answer due to a general query, at
	 * igmp_query_at, and until when an older querier was heard (the
	 * device speaks its version until then). */
	bool igmp_query_due;
	us_time_t igmp_query_at;
	us_time_t igmp_v1_until, igmp_v2_until;

	struct net_device_stats stats;
	struct pcap_writer *pcap; /* every frame in and out, when set */
	const struct net_device_ops *ops;
	void *priv;
};

/*
 * Allocate a device with priv_size bytes of private data after it, with
 * defaults for an Ethernet device (mtu 1500, broadcast ff:ff:.., fd -1).
 */
struct net_device *netdev_alloc(const char *name, size_t priv_size,
				const struct net_device_ops *ops);
/* Add to the instance: assigns ifindex, links st. */
int netdev_register(struct ustack *st, struct net_device *dev);
/* Remove from the instance, call ops->destroy, free. */
void netdev_unregister(struct net_device *dev);
/* Every device's ops->flush, if it has one. Core lock held. */
void netdev_flush_all(struct ustack *st);
/* Set the IPv4 address/prefix length (and the connected route). */
int netdev_set_ipv4(struct net_device *dev, uint32_t addr, int prefix_len);
/*
 * The flags a user sees (SIOCGIFFLAGS), as Linux's dev_get_flags: the
 * device's own, with RUNNING and LOWER_UP while it is up and its link
 * works.
 */
unsigned int netdev_get_flags(const struct net_device *dev);
/* The length of the device's hardware address: 6 for Ethernet and the
 * loopback (as Linux's lo), 0 for a layer-3 device. */
unsigned int netdev_addr_len(const struct net_device *dev);
/* Change the MTU (SIOCSIFMTU): 0, or -EINVAL outside min_mtu..max_mtu. */
int netdev_set_mtu(struct net_device *dev, int mtu);

static inline void *netdev_priv(const struct net_device *dev)
{
	return dev->priv;
}

/*
 * Transmit a frame: capture it, count it, hand it to ops->xmit. Takes
 * ownership. Returns 0 or -errno.
 */
int dev_queue_xmit(struct sk_buff *skb);
/*
 * A frame arrived on skb->dev: capture it, count it, and pass it to
 * Ethernet or IPv4 by the device's type. Takes ownership.
 */
void netif_receive_skb(struct sk_buff *skb);

#endif
