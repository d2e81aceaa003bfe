/*
 * tcp_offload.c - TCP segmentation and checksum offload on the way out.
 *
 * The write queue keeps one skb per MSS-sized segment, so acknowledgement,
 * retransmission and SACK work on segments (skbs queued before the MSS
 * shrank stay as large as they were, and go out whole). A write of more than one
 * segment to a device that can segment (US_NETIF_F_TSO) is copied once
 * into one data area of up to 64 KB, and its segments are carved out of
 * that area (tcp_sendmsg_carve): they share it, in sequence order. When
 * the route's device can segment, tcp_write_xmit gathers a run of new
 * full-sized segments into one GSO packet of up to 64 KB: a fresh head
 * that holds only the headers, and the payload on its frag_list, where
 * consecutive carved segments are one piece (a clone whose window spans
 * them) and any other segment a clone of its own, so no payload is
 * copied; the device (the kernel, through the virtio-net header) cuts it
 * into segments of gso_size bytes. A carved segment sent alone goes the
 * same way, unsegmented: its headroom is its neighbour's payload. Its
 * checksum is left partial: the pseudo-header sum in the field, summed
 * from csum_start by whoever finishes it (Virtio 1.2 §5.1.6.2), as for
 * every segment to a device with US_NETIF_F_HW_CSUM.
 *
 * Call chain: tcp_sendmsg -> tcp_sendmsg_carve;
 *             tcp_write_xmit -> tcp_tso_xmit (gather) -> tcp_tso_flush ->
 *             tcp_transmit_gso -> tcp_gso_build ... tcp_v4_send_check
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/checksum.h"
#include "core/iov.h"
#include "dev/netdev.h"
#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

/* Room for the largest headers in a 64 KB IPv4 packet. */
#define TCP_GSO_MAX_PAYLOAD (65535 - 60 - 60)   /* (IP options too) */
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
		       uint32_t daddr, uint32_t nexthop)
{
	uint8_t *th = skb->data;
	uint32_t pseudo = csum_tcpudp_nofold(saddr, daddr, IPPROTO_TCP,
					     (uint16_t)skb->len, 0);

	if (skb_is_gso(skb) || skb_is_nonlinear(skb) ||
	    (tcp_route_features(st, nexthop) & US_NETIF_F_HW_CSUM)) {
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

/* A private view of a queued segment's payload for the frag_list. A
 * carved segment's area is shared by design, and nobody writes into it
 * once its bytes are queued. */
static struct sk_buff *tcp_gso_frag(struct sk_buff *skb)
{
	if (TCP_SKB_CB(skb)->carved)
		return skb_clone(skb);
	return skb_shared_data(skb) ? skb_copy(skb) : skb_clone(skb);
}

/*
 * Segments carved one after another out of one area are one run of
 * bytes: the frag already on the list grows over skb's payload instead
 * of taking a clone of each, so a 64 KB packet is one or two pieces.
 */
static bool tcp_gso_merge(struct sk_buff *head, struct sk_buff *last,
			  struct sk_buff *skb)
{
	if (!last || !TCP_SKB_CB(skb)->carved || last->head != skb->head ||
	    last->tail != skb->data)
		return false;
	last->tail = skb->tail;
	last->len += skb->len;
	head->len += skb->len;
	head->data_len += skb->len;
	return true;
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

		if (!tcp_gso_merge(head, last, skb)) {
			struct sk_buff *f = tcp_gso_frag(skb);

			if (!f) {
				skb_free(head);
				return NULL;
			}
			skb_add_frag_after(head, last, f);
			last = f;
		}
		cb->sent = sk->st->now;
		/* A write's report asked for: the packet is reported, for
		 * the last write in it (Linux has one skb for both). */
		if (skb->tx_flags & SKBTX_DEV_TSTAMP) {
			head->tx_flags = skb->tx_flags;
			head->tskey = skb->tskey;
		}
		/* PSH as tcp_transmit_skb marks it; the device keeps it on
		 * the last segment only. */
		if (tcp_push_due(sk, skb))
			cb->flags |= TCPHDR_PSH;
		*flags |= cb->flags & TCPHDR_PSH;
		skb = tcp_write_queue_next(sk, skb);
	}
	/* One carved segment alone goes as headers + payload, unsegmented. */
	if (nsegs == 1)
		return head;
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
	       (!b->max_segs || b->nsegs < b->max_segs) &&
	       (b->nsegs + 1) * mss <= TCP_GSO_MAX_PAYLOAD &&
	       !(cb->flags & (TCPHDR_SYN | TCPHDR_FIN | TCPHDR_RST));
}

bool tcp_tso_joins(struct sock *sk, struct sk_buff *skb,
		   const struct tcp_gso_batch *b)
{
	return b->nsegs && tcp_gso_can_extend(sk, skb, b);
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
		b->features = tcp_route_features(sk->st,
						 ip_sock_nexthop(sk, sk->daddr));
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

/* ---- sendmsg: large writes ---------------------------------------------- */

/*
 * A write of more than one segment to a device that segments itself goes
 * into one data area per 64 KB (Linux's size goal with TSO), cut into
 * MSS-sized segments that point into it: one allocation and one copy
 * from the user's buffer per area, and a GSO packet's payload is one run
 * of bytes (tcp_gso_merge), where a write queue of separately allocated
 * segments needs a clone of each. The queue stays MSS-granular, so
 * acknowledgement, SACK and retransmission work on it unchanged.
 */
bool tcp_sendmsg_carves(struct sock *sk, size_t left)
{
	return left > tcp_sk(sk)->mss_cache &&
	       (tcp_route_features(sk->st, ip_sock_nexthop(sk, sk->daddr)) &
		US_NETIF_F_TSO);
}

/*
 * Segments to carve for left bytes: a GSO packet's worth at most. Like
 * Linux's skb of size_goal, an area may take the send buffer past its
 * limit by up to that much once there was room for more; not cutting it
 * to the room left keeps a bulk sender's areas one size, which the skb
 * cache keeps (it holds a few sizes only).
 */
static unsigned int tcp_carve_segs(struct sock *sk, size_t left)
{
	uint32_t mss = tcp_sk(sk)->mss_cache;
	size_t segs = TCP_GSO_MAX_PAYLOAD / mss;

	if (segs > TCP_GSO_MAX_SEGS)
		segs = TCP_GSO_MAX_SEGS;
	if (segs > (left + mss - 1) / mss)
		segs = (left + mss - 1) / mss;
	return (unsigned int)segs;
}

/* Queue a carved segment of n new bytes at the tail. */
static void tcp_queue_carved(struct sock *sk, struct sk_buff *skb, uint32_t n)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	memset(cb, 0, sizeof(*cb));
	cb->seq = tp->write_seq;
	cb->end_seq = tp->write_seq + n;
	cb->flags = TCPHDR_ACK;
	cb->carved = 1;
	tcp_add_write_queue_tail(sk, skb);
	tp->write_seq += n;
	tcp_mark_push(sk, skb);
}

int tcp_sendmsg_carve(struct sock *sk, const struct msghdr *msg, size_t off,
		      size_t left)
{
	uint32_t mss = tcp_sk(sk)->mss_cache;
	unsigned int segs = tcp_carve_segs(sk, left);
	size_t n = (size_t)segs * mss, done;
	struct sk_buff *area;

	/* No headroom: no header is ever written in front of a carved
	 * segment; the last one may grow to a whole MSS in place. */
	if (!skb_pool_may_queue(&sk->st->skb_pool, n))
		return -ENOBUFS;        /* tcp_pool_ok: one segment may fit */
	area = skb_alloc(&sk->st->skb_pool, (unsigned int)n);
	if (!area)
		return -ENOBUFS;
	if (n > left)
		n = left;
	if (iov_copy_from(area->data, msg, off, n) < 0) {
		skb_free(area);
		return -EFAULT;
	}
	skb_put(area, n < mss ? (unsigned int)n : mss);
	tcp_queue_carved(sk, area, area->len);
	for (done = area->len; done < n; ) {
		uint32_t k = n - done < mss ? (uint32_t)(n - done) : mss;
		/* Each segment takes one MSS of the area's charge with it;
		 * the first keeps the rest. */
		struct sk_buff *skb = skb_clone_part(area, area->data + done,
						     k, mss);

		if (!skb)
			break;
		sk->wmem_alloc += (int)skb->truesize;
		tcp_queue_carved(sk, skb, k);
		done += k;
	}
	sk->wmem_alloc += (int)area->truesize;
	return (int)done;
}
