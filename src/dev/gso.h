/*
 * gso.h - the offloads a device lacks, done in software on the way out
 * (Linux's validate_xmit_skb): finishing a partial checksum and cutting a
 * TCP GSO packet into segments.
 *
 * Call chain: dev_queue_xmit -> dev_validate_xmit -> skb_checksum_help /
 *             skb_gso_segment -> (each segment) ops->xmit
 */
#ifndef US_DEV_GSO_H
#define US_DEV_GSO_H

#include "core/skbuff.h"

struct net_device;

/*
 * Finish a CHECKSUM_PARTIAL packet: sum from csum_start to the end (the
 * field holds the pseudo-header sum) and store the result. Linear packets
 * only. 0, or -EINVAL / -ENOMEM (the packet is then left as it was).
 */
int skb_checksum_help(struct sk_buff *skb);

/*
 * Cut a TCP/IPv4 GSO packet (data at the link header) into linear
 * packets of gso_size payload bytes each, with their own IPv4 id, TCP
 * sequence number and checksums, queued on segs in order. The flags FIN
 * and PSH stay on the last segment only and CWR on the first, as the
 * kernel's tcp_gso_segment does. 0, or -EINVAL / -ENOMEM (segs is then
 * empty); skb itself is left to the caller.
 */
int skb_gso_segment(struct sk_buff *skb, struct sk_buff_head *segs);

/* True when dev cannot send skb as it is: GSO without TSO, or a partial
 * checksum without checksum offload. */
bool dev_needs_help(const struct net_device *dev, const struct sk_buff *skb);

#endif
