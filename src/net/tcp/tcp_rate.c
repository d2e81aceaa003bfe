// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_rate.c - the delivery-rate sampler: how fast the path delivered
 * this connection's data lately, one sample per ACK, as Linux's
 * net/ipv4/tcp_rate.c takes it (after draft-cheng-iccrg-delivery-rate-
 * estimation). TCP_INFO reports the last sample kept (tcpi_delivery_rate
 * and its app-limited bit); a congestion control that models the path
 * (BBR) takes every one (tcp_rx(tp)->rs).
 *
 * A sample covers the segments delivered between the transmission of the
 * newest segment an ACK (S)ACKs and that ACK. Each segment, when it goes,
 * notes the connection's count of delivered segments and two times: when
 * that count last grew, and when the segment that started the current
 * send phase went. When it is (S)ACKed:
 *
 *   delivered   = tp->delivered now - the count noted
 *   send phase  = its send time - the send phase's start noted
 *   ACK phase   = now - the delivery time noted
 *   interval    = the longer phase (ACKs may come compressed, faster
 *                 than the data could have gone; data may go in a burst
 *                 faster than the path takes it)
 *
 * and the rate is delivered / interval (in segments: TCP_INFO multiplies
 * by the MSS). A sample shorter than the minimum RTT is no sample.
 *
 * Application-limited: when a write finds nothing waiting to go and
 * nothing else holding the sender back, the rate the path could give is
 * not being asked for. Segments sent until the flight now is delivered
 * are marked so, and so are the samples they give; TCP_INFO keeps such
 * a sample only if it is no lower than the one it has (a sender that
 * asks for little says nothing about the path's limit).
 *
 * Call chain: __tcp_write_xmit / tcp_transmit (a retransmission) ->
 * tcp_rate_skb_sent (inline in tcp.h: once per segment); tcp_sack_update -> tcp_rate_ack_start; tcp_sack_mark
 * / tcp_sack_unlinked -> tcp_rate_skb_delivered; tcp_ack_info ->
 * tcp_rate_gen; tcp_sendmsg -> tcp_rate_check_app_limited; tcp_get_info
 * -> tcp_rate_info.
 *
 * Memory: an idle connection holds none of the per-connection state
 * (struct tcp_rate, made with the first data; make bench's idle row); the
 * per-segment state is in struct tcp_skb_cb, the per-ACK sample in the
 * instance's scratch.
 *
 * Not as Linux: its test that nothing of the connection waits below TCP
 * (in a qdisc or the device's ring, sk_wmem_alloc) is not made: ustack
 * hands a packet to the device as it sends it. A SYN (or a Fast Open
 * SYN's data) is never stamped: Linux counts a SYN in flight before it
 * stamps it, so its ACK gives no sample either (tcpinfo/active-open).
 */
#include <stdlib.h>

#include "net/tcp/tcp.h"
#include "stack/stack.h"

struct tcp_rate *tcp_rate_make(struct tcp_sock *tp)
{
	struct tcp_rate *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	/* tcp_init_sock's: app-limited until the first stretch of data is
	 * delivered, and TCP_INFO says so before any sample. */
	r->app_limited = ~0U;
	r->rate_app_limited = true;
	tp->rate = r;
	return r;
}

void tcp_rate_free(struct tcp_sock *tp)
{
	free(tp->rate);
	tp->rate = NULL;
}

void tcp_rate_ack_start(struct tcp_sock *tp, uint32_t in_flight)
{
	struct rate_sample *rs = &tcp_rx(tp)->rs;

	*rs = (struct rate_sample){ .delivered = -1, .interval_us = -1,
				    .rtt_us = -1,
				    .prior_in_flight = in_flight };
}

/* Sent after the segment the sample has (Linux's tcp_skb_sent_after):
 * later, or at the same time and higher in sequence. */
static bool tcp_rate_newer(us_time_t t1, us_time_t t2, uint32_t end1,
			   uint32_t end2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(end1, end2));
}

void tcp_rate_skb_delivered(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct rate_sample *rs = &tcp_rx(tp)->rs;
	struct tcp_rate *r = tp->rate;

	if (!r || !cb->tx_delivered_at)
		return;
	/* Of all the segments an ACK (S)ACKs, the sample is the newest
	 * one's: the most recent send, the highest sequence. */
	if (!rs->prior_delivered ||
	    tcp_rate_newer(cb->sent, r->first_tx, cb->end_seq,
			   rs->last_end_seq)) {
		rs->prior_delivered = cb->tx_delivered;
		rs->prior_mstamp = cb->tx_delivered_at;
		rs->is_app_limited = cb->tx_app_limited;
		rs->is_retrans = cb->retrans != 0;
		rs->last_end_seq = cb->end_seq;
		/* The next send phase starts with this segment's send */
		r->first_tx = cb->sent;
		rs->interval_us = (int64_t)(r->first_tx - cb->tx_first);
	}
	/* A SACKed segment gives its sample once, not again when the
	 * cumulative ACK takes it off. */
	if (cb->sacked & TCPCB_SACKED_ACKED)
		cb->tx_delivered_at = 0;
}

void tcp_rate_gen(struct sock *sk, uint32_t delivered, uint32_t lost,
		  bool sack_reneg)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct rate_sample *rs = &tcp_rx(tp)->rs;
	struct tcp_rate *r = tp->rate;
	int64_t snd_us, ack_us;

	rs->acked_sacked = delivered;
	rs->losses = lost;
	if (!r)
		return;
	/* The application-limited stretch is over once what was in flight
	 * at its start is delivered. */
	if (r->app_limited && seq_gt(tp->delivered, r->app_limited))
		r->app_limited = 0;
	if (delivered)
		r->delivered_at = sk->st->now;
	/* No segment with a send record was (S)ACKed; or the peer reneged
	 * on SACKs, whose segments the count may hold twice. */
	if (!rs->prior_mstamp || sack_reneg) {
		rs->delivered = -1;
		rs->interval_us = -1;
		return;
	}
	rs->delivered = (int32_t)(tp->delivered - rs->prior_delivered);
	snd_us = rs->interval_us;
	ack_us = (int64_t)(sk->st->now - rs->prior_mstamp);
	rs->interval_us = snd_us > ack_us ? snd_us : ack_us;
	rs->snd_interval_us = (uint32_t)snd_us;
	rs->rcv_interval_us = (uint32_t)ack_us;
	/* Shorter than the path's round trip: a spurious retransmission
	 * (S)ACKed first, or a clock step. No sample. */
	if (rs->interval_us < (int64_t)tp->min_rtt_us) {
		rs->interval_us = -1;
		return;
	}
	/* TCP_INFO keeps the latest sample not application-limited, or an
	 * application-limited one that is no lower than the one kept. */
	if (!rs->is_app_limited ||
	    (uint64_t)rs->delivered * r->rate_interval_us >=
	    (uint64_t)r->rate_delivered * (uint64_t)rs->interval_us) {
		r->rate_delivered = (uint32_t)rs->delivered;
		r->rate_interval_us = (uint32_t)rs->interval_us;
		r->rate_app_limited = rs->is_app_limited;
	}
}

void tcp_rate_check_app_limited(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t in_flight = tcp_packets_in_flight(tp);
	struct tcp_rate *r;

	/* Less than a segment waits to go, the window is not what holds
	 * the sender back, and every segment marked lost went again. */
	if (tp->write_seq - tp->snd_nxt >= tp->mss_cache ||
	    in_flight >= tp->snd_cwnd || tp->lost_out > tp->retrans_out)
		return;
	r = tcp_rate_get(tp);
	if (r)   /* (0 means none: a count of 0 is taken as 1) */
		r->app_limited = tp->delivered + in_flight ? tp->delivered +
							     in_flight : 1;
}

uint64_t tcp_rate_info(const struct tcp_sock *tp, bool *app_limited)
{
	const struct tcp_rate *r = tp->rate;

	*app_limited = !r || r->rate_app_limited;
	if (!r || !r->rate_delivered || !r->rate_interval_us)
		return 0;
	return (uint64_t)r->rate_delivered * tp->mss_cache * 1000000u /
	       r->rate_interval_us;
}
