/*
 * gso.h - the offloads a device lacks, done in software on the way out
 * (Linux's validate_xmit_skb): finishing a partial checksum and cutting a
 * TCP or UDP GSO packet into segments or datagrams.
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
 * Cut a TCP/IPv4 or UDP/IPv4 GSO packet (data at the link or the network
 * header) into linear packets of gso_size payload bytes each, the last
 * shorter, with their own IPv4 length, id and checksums, queued on segs
 * in order. TCP: each its sequence number; the flags FIN and PSH stay on
 * the last segment only and CWR on the first, as the kernel's
 * tcp_gso_segment does. UDP (SKB_GSO_UDP_L4): each a datagram with its
 * own length (Linux's __udp_gso_segment). 0, or -EINVAL / -ENOMEM (segs
 * is then empty); skb itself is left to the caller.
 */
int skb_gso_segment(struct sk_buff *skb, struct sk_buff_head *segs);
/* The same for a received packet whose checksum is taken as checked
 * (CHECKSUM_UNNECESSARY): the segments' L4 checksums are not computed,
 * their fields left as they came (Linux's __udp_gso_segment on the way in
 * does not sum the payload either). */
int skb_gso_segment_rx(struct sk_buff *skb, struct sk_buff_head *segs);

/* True when dev cannot send skb as it is: TCP GSO without TSO, UDP GSO
 * without GSO_UDP_L4, a GSO frame of US_GSO_MAX_SIZE or more, or a
 * partial checksum without checksum offload. */
bool dev_needs_help(const struct net_device *dev, const struct sk_buff *skb);

#endif
