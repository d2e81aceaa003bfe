/*
 * ether.c - Ethernet II framing: the layer between the device level and
 * ARP/IPv4 (see ether.h).
 *
 * Receive: netif_receive_skb -> eth_rcv -> arp_rcv / ip_rcv.
 * Send:    arp_output / arp's own packets -> eth_header_push ->
 *          dev_queue_xmit.
 *
 * Frames shorter than ETH_ZLEN are accepted: a TAP device hands up frames
 * without the padding a real NIC adds, and padding that does arrive is left
 * for IPv4 to trim by its total length (ARP reads only its 28 bytes).
 */
#include "net/ether.h"

#include <errno.h>
#include <string.h>

#include "net/arp.h"
#include "net/ipv4.h"
#include "stack/stack.h"

enum us_drop_reason eth_parse(const uint8_t *p, size_t len, struct eth_info *out)
{
	if (len < ETH_HLEN)
		return US_DROP_ETH_TOO_SHORT;
	memcpy(out->dst, p, ETH_ALEN);
	memcpy(out->src, p + ETH_ALEN, ETH_ALEN);
	out->type = (uint16_t)(p[12] << 8 | p[13]);
	return US_DROP_NOT_DROPPED;
}

void eth_emit(const struct eth_info *h, uint8_t *out)
{
	memcpy(out, h->dst, ETH_ALEN);
	memcpy(out + ETH_ALEN, h->src, ETH_ALEN);
	out[12] = (uint8_t)(h->type >> 8);
	out[13] = (uint8_t)h->type;
}

/*
 * Who the frame is for, as Linux's eth_type_trans() decides it: our own
 * address, the broadcast address, a multicast group (the I/G bit, IEEE
 * 802.3 §3.2.3), or some other station on a shared link.
 */
static uint8_t eth_classify(const struct net_device *dev, const uint8_t *dst)
{
	if (memcmp(dst, dev->dev_addr, ETH_ALEN) == 0)
		return PKT_HOST;
	if (eth_addr_is_broadcast(dst))
		return PKT_BROADCAST;
	if (eth_addr_is_multicast(dst))
		return PKT_MULTICAST;
	return PKT_OTHERHOST;
}

/* Hand the payload (skb->data past the Ethernet header) to its protocol. */
static void eth_deliver(struct ustack *st, struct sk_buff *skb)
{
	switch (skb->protocol) {
	case ETH_P_ARP:
		arp_rcv(skb);
		break;
	case ETH_P_IP:
		skb_reset_network_header(skb);
		ip_rcv(skb);
		break;
	default:
		/* IPv6, 802.1Q tags, 802.3 length fields, ...: not spoken. */
		us_drop(st, skb, US_DROP_ETH_UNKNOWN_TYPE);
		break;
	}
}

void eth_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	enum us_drop_reason reason;
	struct eth_info h;

	us_mib_inc(st, US_MIB_ETH_IN_FRAMES);
	reason = eth_parse(skb->data, skb->len, &h);
	if (reason) {
		us_drop(st, skb, reason);
		return;
	}
	skb->pkt_type = eth_classify(skb->dev, h.dst);
	if (skb->pkt_type == PKT_OTHERHOST) {
		us_drop(st, skb, US_DROP_ETH_OTHERHOST);
		return;
	}
	/* A group address is never a valid source (IEEE 802.3 §3.2.3). */
	if (eth_addr_is_multicast(h.src)) {
		us_drop(st, skb, US_DROP_ETH_BAD_SRC);
		return;
	}
	skb_reset_mac_header(skb);
	skb->protocol = h.type;
	skb_pull(skb, ETH_HLEN);
	eth_deliver(st, skb);
}

int eth_header_push(struct sk_buff *skb, const uint8_t *dst, uint16_t type)
{
	struct net_device *dev = skb->dev;
	struct eth_info h;
	uint8_t *p;

	if (!dev)
		return -EINVAL;
	p = skb_push(skb, ETH_HLEN);
	if (!p)
		return -ENOSPC;
	memcpy(h.dst, dst, ETH_ALEN);
	memcpy(h.src, dev->dev_addr, ETH_ALEN);
	h.type = type;
	eth_emit(&h, p);
	skb_reset_mac_header(skb);
	skb->protocol = type;
	if (dev->st)
		us_mib_inc(dev->st, US_MIB_ETH_OUT_FRAMES);
	return 0;
}
