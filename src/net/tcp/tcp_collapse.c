/*
 * tcp_collapse.c - short segments merged as they go again (Linux's
 * tcp_retrans_try_collapse and tcp_collapse_retrans, which
 * __tcp_retransmit_skb calls; net.ipv4.tcp_retrans_collapse, on by
 * default).
 *
 * A segment sent again that is shorter than it may be (the MSS, or the
 * peer's window from its start when that is less) takes along the
 * segments in flight behind it, in order, while all of them fit: ten
 * 100-byte writes sent as ten segments go again after a timeout as one
 * of 1000 bytes. Linux's conditions, each a reason to stop:
 *  - the knob is 0, or the segment is a SYN;
 *  - the next segment is SACKed (the peer has it; Linux: "some
 *    heuristics for collapsing over SACK'd could be invented"), longer
 *    than one MSS (Linux's pcount > 1: queued before the MSS fell), or a
 *    copy of it still waits in this host, for ARP or in a device's
 *    queue (Linux's skb_cloned; ip_still_queued here);
 *  - either holds bytes of a MSG_ZEROCOPY send (Linux's skb_shift moves
 *    no pages that belong to the user: skb_zcopy);
 *  - the bytes would pass the room, or the segment would end past the
 *    peer's window.
 * A bare FIN behind joins too, its flag with it. Urgent data does not
 * stop it: the urgent pointer is written as the merged segment goes.
 *
 * The merged segment keeps its own place, send time and marks; what it
 * takes from each one behind is its end, its flags (PSH, FIN), the
 * largest count of transmissions (RACK, Karn) and its transmit-timestamp
 * request (Linux's tcp_skb_collapse_tstamp: the key of the later
 * bytes). Each segment merged leaves the scoreboard as Linux's
 * tcp_adjust_pcount(next, 1) takes it out: one packet less in flight,
 * one less lost or retransmitted if it was, and without SACK one
 * duplicate ACK less (they stand for segments delivered).
 *
 * The bytes: carved segments next to each other in one data area
 * (tcp_sendmsg_carve) join by widening the first one's window over the
 * next, no copy; otherwise they are copied behind the first one, into
 * its own tailroom, or into an area of its own made for the merge
 * (skb_expand_linear, as Linux's skb_unclone before it).
 *
 * Call chain: tcp_retransmit_skb (tcp_output.c) -> tcp_retrans_try_collapse
 *             -> tcp_collapse_retrans
 */
#include <errno.h>
#include <string.h>

#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* May skb join the segment ahead of it (Linux's tcp_can_collapse and
 * tcp_skb_can_collapse)? */
static bool tcp_can_collapse(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return false;
	if (skb->len > tcp_sk(sk)->mss_cache || cb->zerocopy)
		return false;
	return !ip_still_queued(sk->st, sk->daddr, skb);
}

/* Carved out of the same area, right behind to's bytes? */
static bool tcp_collapse_adjacent(const struct sk_buff *to,
				  const struct sk_buff *skb)
{
	return TCP_SKB_CB(to)->carved && TCP_SKB_CB(skb)->carved &&
	       to->head == skb->head && to->tail == skb->data;
}

/*
 * Put skb's bytes behind to's. A carved neighbour's are there already:
 * to's window widens over them and takes their share of the area's
 * charge. Else they are copied into to's tailroom when it is to's own
 * (not a carved segment's neighbours, not shared with a copy in flight),
 * or to gets an area of its own first, with room up to the MSS.
 */
static int tcp_collapse_bytes(struct sock *sk, struct sk_buff *to,
			      struct sk_buff *skb)
{
	uint32_t mss = tcp_sk(sk)->mss_cache;
	int before;

	if (!skb->len)
		return 0;
	if (tcp_collapse_adjacent(to, skb)) {
		uint32_t share = skb->truesize - (uint32_t)sizeof(*skb);

		to->tail = skb->tail;
		to->len += skb->len;
		to->truesize += share;
		skb->truesize -= share;
		return 0;
	}
	if (TCP_SKB_CB(to)->carved || skb_shared_data(to) ||
	    skb_tailroom(to) < skb->len) {
		before = (int)to->truesize;
		if (skb_expand_linear(to, US_SKB_MAX_HEADER,
				      to->len + skb->len > mss ? skb->len :
				      mss - to->len) < 0)
			return -ENOBUFS;
		sk->wmem_alloc += (int)to->truesize - before;
		TCP_SKB_CB(to)->carved = 0;
	}
	memcpy(skb_put(to, skb->len), skb->data, skb->len);
	return 0;
}

/* skb leaves the scoreboard, its bytes now to's (Linux's
 * tcp_adjust_pcount with a decrement of one). */
static void tcp_collapse_uncount(struct tcp_sock *tp,
				 const struct tcp_skb_cb *cb)
{
	if (tp->packets_out)
		tp->packets_out--;
	if ((cb->sacked & TCPCB_LOST) && tp->lost_out)
		tp->lost_out--;
	if ((cb->sacked & TCPCB_SACKED_RETRANS) && tp->retrans_out)
		tp->retrans_out--;
	/* Without SACK, Linux's sacked_out is the duplicate ACKs: each
	 * stands for a segment delivered, and there is one segment less. */
	if (!tp->sack_ok && tp->reno_sacked)
		tp->reno_sacked--;
}

/* Merge the segment behind `to` into it (Linux's tcp_collapse_retrans). */
static int tcp_collapse_retrans(struct sock *sk, struct sk_buff *to,
				struct sk_buff *skb)
{
	struct tcp_skb_cb *tcb = TCP_SKB_CB(to), *cb = TCP_SKB_CB(skb);
	uint32_t len = skb->len;

	if (tcp_collapse_bytes(sk, to, skb) < 0)
		return -ENOBUFS;
	tcb->end_seq = cb->end_seq;
	tcb->flags |= cb->flags;
	if (cb->retrans > tcb->retrans)
		tcb->retrans = cb->retrans;
	if (skb->tx_flags) {
		to->tx_flags |= skb->tx_flags;
		to->tskey = skb->tskey;
	}
	tcp_collapse_uncount(tcp_sk(sk), cb);
	skb_unlink(&sk->write_queue, skb);
	sk->write_queue.bytes += len;   /* (they are to's now) */
	sk->wmem_alloc -= (int)skb->truesize;
	skb_free(skb);
	us_mib_inc(sk->st, US_MIB_TCP_RETRANS_COLLAPSED);
	return 0;
}

void tcp_retrans_try_collapse(struct sock *sk, struct sk_buff *to,
			      uint32_t space)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t wnd_end = tp->snd_una + tp->snd_wnd;
	struct sk_buff *skb, *next;

	if (!sk->st->sysctl.tcp_retrans_collapse ||
	    (TCP_SKB_CB(to)->flags & TCPHDR_SYN) || TCP_SKB_CB(to)->zerocopy ||
	    to->len >= space)
		return;
	space -= to->len;
	for (skb = tcp_wq_next(sk, to); skb; skb = next) {
		uint32_t len = skb->len;

		next = tcp_wq_next(sk, skb);
		if (!tcp_can_collapse(sk, skb) || len > space ||
		    seq_gt(TCP_SKB_CB(skb)->end_seq, wnd_end))
			break;
		if (tcp_collapse_retrans(sk, to, skb) < 0)
			break;
		space -= len;
	}
}

void tcp_mark_zerocopy(struct sock *sk, uint32_t seq)
{
	struct sk_buff *skb = skb_peek_tail(&sk->write_queue);

	/* A write's bytes are at the tail, not yet sent (tcp_sendmsg marks
	 * them before it sends). */
	while (skb && seq_gt(TCP_SKB_CB(skb)->end_seq, seq)) {
		TCP_SKB_CB(skb)->zerocopy = 1;
		if (skb == skb_peek(&sk->write_queue))
			break;
		skb = list_entry(skb->list.prev, struct sk_buff, list);
	}
}
