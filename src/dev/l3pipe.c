/*
 * l3pipe.c - the layer-3 test device (see l3pipe.h).
 *
 * Transmit queues the packet, stamped with the engine time; the harness
 * takes it with l3pipe_pop(). Receive is l3pipe_inject(), called by the
 * harness under the core lock: the packet goes up at once, and whatever the
 * stack answers is queued for the harness, never delivered back inside the
 * receive path.
 */
#include "dev/l3pipe.h"

#include <errno.h>
#include <string.h>

#include "dev/gso.h"
#include "dev/netdev.h"
#include "net/ether.h"
#include "stack/stack.h"

/*
 * Packets the harness has not taken yet. A harness that stops reading must
 * not make the stack grow without bound: past this many, the device drops
 * (and counts) what is sent, as a full transmit ring would.
 */
#define L3PIPE_QUEUE_MAX 4096
/* The largest IPv4 packet. */
#define L3PIPE_MAX_PACKET 65535u

struct l3pipe_priv {
	struct sk_buff_head txq;
};

static int l3pipe_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct l3pipe_priv *p = netdev_priv(dev);
	int err;

	if (p->txq.qlen >= L3PIPE_QUEUE_MAX) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, skb, US_DROP_DEV_TX_ERROR);
		return -ENOBUFS;
	}
	/* The device offers no checksum offload, so the stack should hand
	 * it only finished packets; a partial checksum that still arrives
	 * is finished here rather than sent wrong. */
	err = skb_checksum_help(skb);
	if (err < 0) {
		dev->stats.tx_dropped++;
		us_drop(dev->st, skb, err == -ENOMEM ? US_DROP_NOMEM
						    : US_DROP_DEV_TX_ERROR);
		return err;
	}
	/* The packet has left: its socket's claim on it ends here. */
	skb_orphan(skb);
	skb->tstamp = dev->st->now;
	skb_queue_tail(&p->txq, skb);
	return 0;
}

static void l3pipe_destroy(struct net_device *dev)
{
	struct l3pipe_priv *p = netdev_priv(dev);

	skb_queue_purge(&p->txq);
}

static const struct net_device_ops l3pipe_ops = {
	.xmit = l3pipe_xmit,
	.destroy = l3pipe_destroy,
};

struct net_device *l3pipe_create(struct ustack *st, const char *name,
				 unsigned int mtu)
{
	struct l3pipe_priv *p;
	struct net_device *dev;

	if (us_dev_get_by_name(st, name)) {
		errno = EEXIST;
		return NULL;
	}
	dev = netdev_alloc(name, sizeof(*p), &l3pipe_ops);
	if (!dev) {
		errno = ENOMEM;
		return NULL;
	}
	p = netdev_priv(dev);
	skb_queue_head_init(&p->txq);
	dev->type = US_ARPHRD_NONE;
	dev->hard_header_len = 0;
	dev->flags = US_IFF_NOARP | US_IFF_UP;
	dev->mtu = mtu ? mtu : ETH_DATA_LEN;
	memset(dev->dev_addr, 0, ETH_ALEN);
	memset(dev->broadcast, 0, ETH_ALEN);
	netdev_register(st, dev);
	return dev;
}

int l3pipe_inject(struct net_device *dev, const void *buf, size_t len)
{
	struct sk_buff *skb;

	if (len == 0 || len > L3PIPE_MAX_PACKET)
		return -EINVAL;
	skb = us_skb_alloc(dev->st, (unsigned int)len);
	if (!skb) {
		dev->stats.rx_dropped++;
		return -ENOMEM;
	}
	skb_put_data(skb, buf, (unsigned int)len);
	skb->dev = dev;
	skb->pkt_type = PKT_HOST;
	netif_receive_skb(skb);
	return 0;
}

struct sk_buff *l3pipe_pop(struct net_device *dev)
{
	struct l3pipe_priv *p = netdev_priv(dev);

	return skb_dequeue(&p->txq);
}

unsigned int l3pipe_pending(const struct net_device *dev)
{
	const struct l3pipe_priv *p = netdev_priv(dev);

	return p->txq.qlen;
}
