/*
 * ether.h - Ethernet II framing (IEEE 802.3 with DIX type field).
 *
 * Receive: netif_receive_skb -> eth_rcv -> arp_rcv / ip_rcv.
 * Send:    arp (neighbour output) -> eth_header_push -> dev_queue_xmit.
 */
#ifndef US_NET_ETHER_H
#define US_NET_ETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"
#include "dev/netdev.h"

#define ETH_HLEN 14
#define ETH_ZLEN 60        /* minimum frame without FCS */
#define ETH_DATA_LEN 1500
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100

struct eth_info {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint16_t type;     /* host byte order */
};

/* Parse a frame's header. Returns US_DROP_NOT_DROPPED (0) or the reason. */
enum us_drop_reason eth_parse(const uint8_t *p, size_t len, struct eth_info *out);
/* Write the 14-byte header. */
void eth_emit(const struct eth_info *h, uint8_t *out);

static inline bool eth_addr_is_broadcast(const uint8_t *a)
{
	return (a[0] & a[1] & a[2] & a[3] & a[4] & a[5]) == 0xff;
}
static inline bool eth_addr_is_multicast(const uint8_t *a)
{
	return a[0] & 1;
}
static inline bool eth_addr_is_zero(const uint8_t *a)
{
	return !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5]);
}

/*
 * Receive an Ethernet frame (skb->data at the Ethernet header): classify
 * pkt_type, drop frames for other hosts and unknown types (counted), pull
 * the header and hand the payload to ARP or IPv4. Takes ownership.
 */
void eth_rcv(struct sk_buff *skb);
/*
 * Prepend an Ethernet header from the device's address to dst with `type`
 * (host order). Returns 0, or -ENOSPC without headroom.
 */
int eth_header_push(struct sk_buff *skb, const uint8_t *dst, uint16_t type);

#endif
