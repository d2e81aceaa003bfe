/*
 * tcp_offload.c - TCP segmentation and checksum offload on the way out.
 *
 * The write queue keeps one skb per MSS-sized segment (what the user's
 * bytes were copied into, once), so acknowledgement, retransmission and
 * SACK work on segments as before. When the route's device can segment
 * (US_NETIF_F_TSO), tcp_write_xmit gathers a run of new full-sized
 * segments into one GSO packet of up to 64 KB: a fresh head that holds
 * only the headers, and a clone of each segment's payload on its
 * frag_list, so no payload is copied; the device (the kernel, through
 * the virtio-net header) cuts it into segments of gso_size bytes. Its
 * checksum is left partial: the pseudo-header sum in the field, summed
 * from csum_start by whoever finishes it (Virtio 1.2 §5.1.6.2), as for
 * every segment to a device with US_NETIF_F_HW_CSUM.
 *
 * Call chain: tcp_write_xmit -> tcp_tso_xmit (gather) -> tcp_tso_flush ->
 *             tcp_transmit_gso -> tcp_gso_build ... tcp_v4_send_check
 */
#include <netinet/in.h>

#include "core/checksum.h"
#include "dev/netdev.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* Room for the largest headers in a 64 KB IPv4 packet. */
#define TCP_GSO_MAX_PAYLOAD (65535 - 20 - 60)
#define TCP_GSO_MAX_SEGS 64

static uint32_t tcp_route_features(struct ustack *st, uint32_t daddr)
{
	struct ip_route rt;

	if (ip_route_output(st, daddr, &rt) < 0)
		return 0;
	return rt.dev->features;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void tcp_v4_send_check(struct ustack *st, struct sk_buff *skb, uint32_t saddr,
		       uint32_t daddr)
{
	uint8_t *th = skb->data;
	uint32_t pseudo = csum_tcpudp_nofold(saddr, daddr, IPPROTO_TCP,
					     (uint16_t)skb->len, 0);

	if (skb_is_gso(skb) ||
	    (tcp_route_features(st, daddr) & US_NETIF_F_HW_CSUM)) {
		/* The folded pseudo-header sum, counted with the length of
		 * the whole packet: the device adjusts it per segment. */
		put16(th + 16, (uint16_t)~csum_fold(pseudo));
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = (uint16_t)skb_headroom(skb);
		skb->csum_offset = 16;
		return;
	}
	put16(th + 16, 0);
	put16(th + 16, csum_fold(csum_partial(th, skb->len, pseudo)));
}

static struct sk_buff *tcp_next_queued(struct sock *sk, struct sk_buff *skb)
{
	return skb->list.next == &sk->write_queue.list ? NULL :
	       list_entry(skb->list.next, struct sk_buff, list);
}

/* A private view of a queued segment's payload for the frag_list. */
static struct sk_buff *tcp_gso_frag(struct sk_buff *skb)
{
	return skb_shared_data(skb) ? skb_copy(skb) : skb_clone(skb);
}

struct sk_buff *tcp_gso_build(struct sock *sk, struct sk_buff *first,
			      unsigned int nsegs, uint8_t *flags)
{
	struct sk_buff *head = us_skb_alloc(sk->st, 0);
	struct sk_buff *skb = first, *last = NULL;

	if (!head)
		return NULL;
	for (unsigned int i = 0; i < nsegs && skb; i++) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		struct sk_buff *f = tcp_gso_frag(skb);

		if (!f) {
			skb_free(head);
			return NULL;
		}
		skb_add_frag_after(head, last, f);
		last = f;
		cb->sent = sk->st->now;
		/* PSH as tcp_transmit_skb marks it; the device keeps it on
		 * the last segment only. */
		if (!tcp_next_queued(sk, skb))
			cb->flags |= TCPHDR_PSH;
		*flags |= cb->flags & TCPHDR_PSH;
		skb = tcp_next_queued(sk, skb);
	}
	skb_shinfo(head)->gso_size = (uint16_t)first->len;
	skb_shinfo(head)->gso_segs = (uint16_t)nsegs;
	skb_shinfo(head)->gso_type = SKB_GSO_TCPV4;
	/* The peer sees nsegs segments (Linux counts tcp_skb_pcount). */
	us_mib_add(sk->st, US_MIB_TCP_OUT_SEGS, nsegs - 1);
	return head;
}

int tcp_tso_flush(struct sock *sk, struct tcp_gso_batch *b)
{
	struct sk_buff *first = b->first;
	unsigned int nsegs = b->nsegs;

	b->first = NULL;
	b->nsegs = 0;
	if (!nsegs)
		return 0;
	return tcp_transmit_gso(sk, first, nsegs);
}

/*
 * May skb start a GSO packet: new data, exactly one MSS, no SYN/FIN? Not
 * in urgent mode either: each segment's urgent pointer counts from its
 * own sequence number, and the device would copy one header to all.
 */
static bool tcp_gso_can_start(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	return skb->len == tp->mss_cache && !seq_lt(cb->seq, tp->snd_max) &&
	       !(cb->flags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST)) &&
	       !tcp_urg_mode(tp);
}

/* May skb follow the packet being gathered? Every segment but the last
 * is a whole MSS, the sequence runs on, and 64 KB is the most. */
static bool tcp_gso_can_extend(struct sock *sk, struct sk_buff *skb,
			       const struct tcp_gso_batch *b)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t mss = tcp_sk(sk)->mss_cache;

	return !b->closed && skb->len && skb->len <= mss &&
	       cb->seq == b->end_seq && b->nsegs < TCP_GSO_MAX_SEGS &&
	       (b->nsegs + 1) * mss <= TCP_GSO_MAX_PAYLOAD &&
	       !(cb->flags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST));
}

int tcp_tso_xmit(struct sock *sk, struct sk_buff *skb, struct tcp_gso_batch *b)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	int err;

	if (b->nsegs && tcp_gso_can_extend(sk, skb, b)) {
		b->nsegs++;
		b->end_seq = cb->end_seq;
		b->closed = skb->len < tcp_sk(sk)->mss_cache;
		return 0;
	}
	err = tcp_tso_flush(sk, b);
	if (err < 0)
		return err;
	if (!b->features_known) {
		b->features = tcp_route_features(sk->st, sk->daddr);
		b->features_known = true;
	}
	if (!(b->features & US_NETIF_F_TSO) || !tcp_gso_can_start(sk, skb))
		return tcp_transmit_skb(sk, skb);
	b->first = skb;
	b->nsegs = 1;
	b->end_seq = cb->end_seq;
	b->closed = false;
	return 0;
}
