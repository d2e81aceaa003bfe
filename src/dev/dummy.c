/*
 * dummy.c - the dummy device (see dummy.h).
 *
 * Call chain:  dev_queue_xmit -> dummy_xmit -> (counted, freed)
 */
#include "dev/dummy.h"

#include <errno.h>

#include "dev/netdev.h"
#include "stack/stack.h"

/* Every frame "goes": counted by dev_xmit_one, then freed, as Linux's
 * dummy_xmit does. */
static int dummy_xmit(struct net_device *dev, struct sk_buff *skb)
{
	(void)dev;
	skb_free(skb);
	return 0;
}

static int dummy_poll(struct net_device *dev, int budget)
{
	(void)dev;
	(void)budget;
	return 0;
}

static const struct net_device_ops dummy_ops = {
	.xmit = dummy_xmit,
	.poll = dummy_poll,
};

struct net_device *dummy_create(struct ustack *st, const char *name)
{
	struct net_device *dev = netdev_alloc(name, 0, &dummy_ops);

	if (!dev) {
		errno = ENOMEM;
		return NULL;
	}
	/* Linux's dummy_setup: no ARP, no multicast. */
	dev->flags = (dev->flags | US_IFF_NOARP | US_IFF_UP | US_IFF_RUNNING |
		      US_IFF_LOWER_UP) & ~(unsigned int)US_IFF_MULTICAST;
	if (netdev_register(st, dev) < 0) {
		netdev_unregister(dev);
		errno = ENOMEM;
		return NULL;
	}
	return dev;
}
