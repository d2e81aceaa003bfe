/*
 * l3pipe.h - a layer-3 test device: bare IPv4 packets in and out of memory,
 * for harnesses that play the other end of every connection (packetdrill's
 * plug-in, tests that script exact packets).
 *
 * The harness hands a packet to the stack with l3pipe_inject() as if it had
 * arrived on a wire, and takes what the stack sent with l3pipe_pop(), each
 * packet stamped with the engine time it left at. No ARP, no link header,
 * no checksum offload: what leaves is exactly what a wire would carry.
 *
 * Call chain:  dev_queue_xmit -> l3pipe_xmit -> (queue) -> l3pipe_pop
 *              l3pipe_inject -> netif_receive_skb -> ip_rcv
 */
#ifndef US_DEV_L3PIPE_H
#define US_DEV_L3PIPE_H

#include <stddef.h>

struct ustack;
struct net_device;
struct sk_buff;

/*
 * Create and register a layer-3 device called `name` (up, no ARP), with no
 * address yet (netdev_set_ipv4 gives it one). Core lock held. NULL on
 * error, with errno set.
 */
struct net_device *l3pipe_create(struct ustack *st, const char *name,
				 unsigned int mtu);
/*
 * A packet of len bytes (an IPv4 header first) arrives on dev. It is
 * copied, so the caller keeps buf. Core lock held, st->now current.
 * Returns 0, or -ENOMEM / -EINVAL (empty or longer than 64 KB).
 */
int l3pipe_inject(struct net_device *dev, const void *buf, size_t len);
/*
 * The oldest packet the stack sent and nobody took yet, or NULL. Its
 * skb->data is the IPv4 header, skb->len its length, and skb->tstamp the
 * engine time it was sent at. The caller frees it (skb_free). Core lock
 * held.
 */
struct sk_buff *l3pipe_pop(struct net_device *dev);
/* How many sent packets wait to be taken. Core lock held. */
unsigned int l3pipe_pending(const struct net_device *dev);

#endif
