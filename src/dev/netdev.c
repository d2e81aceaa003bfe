/*
 * netdev.c - device registration and the two crossings between the device
 * level and the protocol level: dev_queue_xmit (down) and
 * netif_receive_skb (up). See netdev.h.
 */
#include "dev/netdev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <stdlib.h>
#include <string.h>

#include "dev/gso.h"
#include "dev/pcap.h"
#include "net/arp.h"
#include "net/ether.h"
#include "net/ipv4.h"
#include "net/sock.h"
#include "stack/stack.h"

struct net_device *netdev_alloc(const char *name, size_t priv_size,
				const struct net_device_ops *ops)
{
	struct net_device *dev = calloc(1, sizeof(*dev) + priv_size);

	if (!dev)
		return NULL;
	list_init(&dev->list);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->type = US_ARPHRD_ETHER;
	dev->flags = US_IFF_BROADCAST | US_IFF_MULTICAST;
	dev->mtu = ETH_DATA_LEN;
	dev->min_mtu = US_MIN_MTU;
	dev->tx_queue_len = US_TX_QUEUE_LEN;
	dev->hard_header_len = ETH_HLEN;
	memset(dev->broadcast, 0xff, ETH_ALEN);
	dev->fd = -1;
	dev->ops = ops;
	dev->priv = priv_size ? (void *)(dev + 1) : NULL;
	return dev;
}

int netdev_register(struct ustack *st, struct net_device *dev)
{
	dev->st = st;
	dev->ifindex = st->next_ifindex++;
	/* A driver sized its buffers for the MTU it registers with: more
	 * only where it says so. */
	if (!dev->max_mtu)
		dev->max_mtu = dev->mtu;
	list_add_tail(&dev->list, &st->devices);
	return 0;
}

void netdev_unregister(struct net_device *dev)
{
	struct ustack *st = dev->st;

	if (st) {
		arp_flush_dev(st, dev);
		ip_route_flush_dev(st, dev);
		ip_dev_down(st, dev);
		list_del(&dev->list);
	}
	if (dev->ops->destroy)
		dev->ops->destroy(dev);
	if (dev->pcap) {
		pcap_close(dev->pcap);
		dev->pcap = NULL;
	}
	free(dev);
}

static uint32_t prefix_to_mask(int prefix_len)
{
	return prefix_len <= 0 ? 0 : htonl(~0u << (32 - prefix_len));
}

int netdev_set_ipv4(struct net_device *dev, uint32_t addr, int prefix_len)
{
	if (prefix_len < 0 || prefix_len > 32)
		return -EINVAL;
	ip_route_flush_dev(dev->st, dev);
	dev->ip_addr = addr;
	dev->ip_mask = prefix_to_mask(prefix_len);
	return ip_route_add(dev->st, addr & dev->ip_mask, prefix_len, 0, dev);
}

unsigned int netdev_get_flags(const struct net_device *dev)
{
	unsigned int flags = dev->flags & (US_IFF_UP | US_IFF_BROADCAST |
					   US_IFF_LOOPBACK | US_IFF_NOARP |
					   US_IFF_MULTICAST);

	/* Linux's lo does not say NOARP (it has no neighbours to ask). */
	if (dev->flags & US_IFF_LOOPBACK)
		flags &= ~US_IFF_NOARP;
	/* dev_get_flags: RUNNING (operationally up) and LOWER_UP (carrier)
	 * while the device is up; a device whose descriptor failed (the
	 * runtime stopped watching it) has lost its link. */
	if ((dev->flags & US_IFF_UP) && !dev->rt_unwatched)
		flags |= US_IFF_RUNNING | US_IFF_LOWER_UP;
	return flags;
}

unsigned int netdev_addr_len(const struct net_device *dev)
{
	return dev->type == US_ARPHRD_NONE ? 0 : ETH_ALEN;
}

int netdev_set_mtu(struct net_device *dev, int mtu)
{
	/* Linux's dev_set_mtu: the same MTU is no change; then
	 * dev_validate_mtu's range. Below 68 Linux takes IPv4 off the
	 * device (inetdev_event, NETDEV_CHANGEMTU); here it is refused. */
	if (mtu >= 0 && (unsigned int)mtu == dev->mtu)
		return 0;
	if (mtu < 0 || (unsigned int)mtu < dev->min_mtu ||
	    (unsigned int)mtu > dev->max_mtu)
		return -EINVAL;
	/* Routes take the device's MTU at each lookup and a path MTU only
	 * below it (ip_route_output), so the next packet sees the change;
	 * TCP connections take it into their MSS when the caller says so
	 * (ip_dev_mtu_changed, after SIOCSIFMTU). */
	dev->mtu = (unsigned int)mtu;
	return 0;
}

void netdev_flush_all(struct ustack *st)
{
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (dev->ops->flush)
			dev->ops->flush(dev);
	}
}

/* Capture, count and hand one frame to the driver. */
static int dev_xmit_one(struct net_device *dev, struct sk_buff *skb)
{
	unsigned int len = skb->len;
	int err;

	if (dev->pcap)
		pcap_write_skb(dev->pcap, dev->st, skb);
	if (skb_is_gso(skb))
		us_mib_inc(dev->st, US_MIB_DEV_TX_GSO);
	/* SO_TIMESTAMPING's SND: the driver has it (Linux's
	 * skb_tx_timestamp, which drivers call as they hand it on). */
	if (skb->tx_flags & SKBTX_SW_TSTAMP)
		skb_tstamp_tx(skb, SCM_TSTAMP_SND);
	err = dev->ops->xmit(dev, skb);
	if (err < 0) {
		dev->stats.tx_errors++;
		return err;
	}
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	return 0;
}

/*
 * Do in software what the device cannot (Linux's validate_xmit_skb): cut a
 * GSO packet into segments, or finish a partial checksum.
 */
static int dev_xmit_helped(struct net_device *dev, struct sk_buff *skb)
{
	struct sk_buff_head segs;
	struct sk_buff *seg;
	int err = 0;

	if (!skb_is_gso(skb)) {
		/* One packet in pieces (TCP's headers apart from a payload it
		 * shares): made linear here, as Linux's __skb_linearize. */
		if (skb_is_nonlinear(skb)) {
			struct sk_buff *lin = skb_copy(skb);

			if (lin)
				skb_tstamp_move(skb, lin);
			skb_free(skb);
			skb = lin;
		}
		if (!skb || skb_checksum_help(skb) < 0) {
			dev->stats.tx_dropped++;
			us_drop(dev->st, skb, US_DROP_DEV_GSO_FAILED);
			return -EINVAL;
		}
		us_mib_inc(dev->st, US_MIB_DEV_CSUM_HELP);
		return dev_xmit_one(dev, skb);
	}
	skb_queue_head_init(&segs);
	err = skb_gso_segment(skb, &segs);
	if (err < 0) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, skb, US_DROP_DEV_GSO_FAILED);
		return err;
	}
	skb_free(skb);
	while ((seg = skb_dequeue(&segs)) != NULL) {
		int e;

		us_mib_inc(dev->st, US_MIB_DEV_GSO_SEGMENTS);
		e = dev_xmit_one(dev, seg);
		if (e < 0 && !err)
			err = e;
	}
	return err;
}

int dev_queue_xmit(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;

	if (!(dev->flags & US_IFF_UP)) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, skb, US_DROP_DEV_DOWN);
		return -ENETDOWN;
	}
	/* SO_TIMESTAMPING's SCHED: on its way to the device's queue
	 * (Linux's __dev_queue_xmit). */
	if (skb->tx_flags & SKBTX_SCHED_TSTAMP)
		skb_tstamp_tx(skb, SCM_TSTAMP_SCHED);
	if (dev_needs_help(dev, skb))
		return dev_xmit_helped(dev, skb);
	return dev_xmit_one(dev, skb);
}

void netif_receive_skb(struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;

	/* A frame looped back from one of our sockets is no longer its,
	 * nor are its timestamp reports. */
	skb_orphan(skb);
	skb->tx_flags = 0;
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += skb->len;
	if (dev->pcap)
		pcap_write_skb(dev->pcap, dev->st, skb);
	skb->tstamp = dev->st->now;
	if (dev->type == US_ARPHRD_NONE) {
		skb_reset_network_header(skb);
		skb->protocol = ETH_P_IP;
		ip_rcv(skb);
		return;
	}
	eth_rcv(skb);
}
