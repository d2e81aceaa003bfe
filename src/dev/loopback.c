/*
 * loopback.c - the loopback device "lo" (see loopback.h).
 *
 * Call chain:  dev_queue_xmit -> loopback_xmit -> (queue)
 *              us_engine_step -> loopback_poll -> netif_receive_skb
 *
 * Transmit only queues, and the next poll hands the frame up, so a reply
 * produced while a frame is being received is sent on a later poll instead
 * of nesting inside the receive path. next_event() reports "now" while
 * frames wait, which keeps a virtual-time engine stepping.
 */
#include "dev/loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "dev/netdev.h"
#include "dev/pcap.h"
#include "stack/stack.h"

#define LOOPBACK_MTU 65536
/*
 * Frames waiting for the next poll. Linux's loopback goes through the
 * per-CPU backlog, bounded by netdev_max_backlog (1000); same bound here so
 * a runaway sender cannot queue without limit.
 */
#define LOOPBACK_QUEUE_MAX 1000

struct loopback_priv {
	struct sk_buff_head rxq;
};

/*
 * The receiver may write into the frame (an echo reply built in place), so
 * it must own both the struct and the data: a frame whose struct has other
 * users is copied, one whose data is shared with a clone is unshared.
 */
static struct sk_buff *loopback_own(struct sk_buff *skb)
{
	struct sk_buff *n;

	if (skb->users > 1) {
		n = skb_copy(skb);
		skb_free(skb);
		return n;
	}
	if (skb_shared_data(skb) && skb_unshare_data(skb) < 0) {
		skb_free(skb);
		return NULL;
	}
	return skb;
}

static int loopback_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct loopback_priv *lp = netdev_priv(dev);

	if (lp->rxq.qlen >= LOOPBACK_QUEUE_MAX) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, skb, US_DROP_DEV_TX_ERROR);
		return -ENOBUFS;
	}
	skb = loopback_own(skb);
	if (!skb) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, NULL, US_DROP_NOMEM);
		return -ENOMEM;
	}
	/* The sending socket's claim ends here, as Linux's loopback_xmit
	 * orphans the skb. */
	skb_orphan(skb);
	skb_queue_tail(&lp->rxq, skb);
	return 0;
}

static void loopback_rx_prepare(struct net_device *dev, struct sk_buff *skb)
{
	skb->dev = dev;
	skb->pkt_type = PKT_HOST;
	/*
	 * The bytes never left memory, so there is nothing to verify, and a
	 * CHECKSUM_PARTIAL frame was never finished: tell the receiver not to
	 * check (Linux's loopback does the same).
	 */
	skb->ip_summed = CHECKSUM_UNNECESSARY;
	skb->mac_header = SKB_HDR_UNSET;
	skb->network_header = SKB_HDR_UNSET;
	skb->transport_header = SKB_HDR_UNSET;
}

static int loopback_poll(struct net_device *dev, int budget)
{
	struct loopback_priv *lp = netdev_priv(dev);
	struct sk_buff *skb;
	int n = 0;

	while (n < budget && (skb = skb_dequeue(&lp->rxq)) != NULL) {
		loopback_rx_prepare(dev, skb);
		netif_receive_skb(skb);
		n++;
	}
	return n;
}

static us_time_t loopback_next_event(struct net_device *dev)
{
	struct loopback_priv *lp = netdev_priv(dev);

	return skb_queue_empty(&lp->rxq) ? US_TIME_NEVER : dev->st->now;
}

static void loopback_destroy(struct net_device *dev)
{
	struct loopback_priv *lp = netdev_priv(dev);

	skb_queue_purge(&lp->rxq);
	if (dev->pcap) {
		pcap_close(dev->pcap);
		dev->pcap = NULL;
	}
}

static const struct net_device_ops loopback_ops = {
	.xmit = loopback_xmit,
	.poll = loopback_poll,
	.next_event = loopback_next_event,
	.destroy = loopback_destroy,
};

struct net_device *loopback_create(struct ustack *st)
{
	struct loopback_priv *lp;
	struct net_device *dev;

	if (us_dev_get_by_name(st, "lo")) {
		errno = EEXIST;
		return NULL;
	}
	dev = netdev_alloc("lo", sizeof(*lp), &loopback_ops);
	if (!dev) {
		errno = ENOMEM;
		return NULL;
	}
	lp = netdev_priv(dev);
	skb_queue_head_init(&lp->rxq);
	dev->type = US_ARPHRD_LOOPBACK;
	dev->flags = US_IFF_LOOPBACK | US_IFF_NOARP | US_IFF_UP;
	dev->mtu = LOOPBACK_MTU;
	/* Linux's lo has no upper bound; its frames are only queued. */
	dev->max_mtu = INT_MAX;
	/* Frames carry all-zero addresses, as on Linux's lo. */
	memset(dev->dev_addr, 0, ETH_ALEN);
	memset(dev->broadcast, 0, ETH_ALEN);
	/* Linux's lo passes UDP GSO packets whole, as here. */
	dev->features = US_NETIF_F_HW_CSUM | US_NETIF_F_RXCSUM |
			US_NETIF_F_GSO_UDP_L4;
	if (netdev_register(st, dev) < 0 ||
	    netdev_set_ipv4(dev, htonl(INADDR_LOOPBACK), 8) < 0) {
		netdev_unregister(dev);
		errno = ENOMEM;
		return NULL;
	}
	return dev;
}
