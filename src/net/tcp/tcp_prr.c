/*
 * tcp_prr.c - Proportional Rate Reduction (RFC 6937): the congestion
 * window during fast recovery, for SACK (RFC 6675) and NewReno (RFC 6582)
 * recovery alike, as Linux's tcp_cwnd_reduction does it (PRR-SSRB).
 *
 * Instead of dropping cwnd to ssthresh at once (a stall: nothing goes
 * until pipe has drained below it) or inflating it by one segment per
 * duplicate ACK (a burst when a partial ACK deflates it), each ACK in
 * recovery sets cwnd = pipe + sndcnt, where sndcnt is what that ACK
 * releases: in proportion to the data delivered while pipe is above
 * ssthresh, and no more than the data delivered (plus one segment,
 * slow-start reduction bound) once it is below.
 *
 * Call chain: tcp_ack -> tcp_prr_ack (after the scoreboard and the
 *             recovery state are updated, before tcp_write_xmit);
 *             tcp_sack_enter_recovery / tcp_enter_recovery -> tcp_prr_init;
 *             tcp_transmit_gso -> tcp_prr_sent.
 *
 * Without SACK, pipe comes from duplicate ACKs as Linux counts them for
 * NewReno: each one stands for a segment that left the network
 * (reno_sacked), and the first segment, once known lost, is marked so
 * (TCPCB_LOST) and is not in flight until it is sent again.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

void tcp_prr_init(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* RFC 6937 §3.1 "RecoverFS = snd.nxt - snd.una"; Linux takes the
	 * window before the reduction (prior_cwnd), which is the same when
	 * the sender was cwnd-limited, and we follow Linux. */
	tp->prior_cwnd = tp->snd_cwnd ? tp->snd_cwnd : 1;
	tp->prr_delivered = 0;
	tp->prr_out = 0;
	tp->cwnd_acked = 0;
	tcp_tlp_reset(tp);   /* the recovery takes over (Linux) */
	tcp_ecn_queue_cwr(tp);   /* (RFC 3168 §6.1.2: a reduction) */
}

uint32_t tcp_prr_sndcnt(const struct tcp_sock *tp, uint32_t pipe,
			uint32_t delivered, bool una_advanced, bool newly_lost)
{
	int64_t sndcnt;

	if (pipe > tp->snd_ssthresh) {
		/* RFC 6937 §3.1: sndcnt = CEIL(prr_delivered * ssthresh /
		 * RecoverFS) - prr_out, so that the window comes down to
		 * ssthresh in step with the data delivered. */
		uint64_t n = (uint64_t)tp->prr_delivered * tp->snd_ssthresh +
			     tp->prior_cwnd - 1;

		sndcnt = (int64_t)(n / tp->prior_cwnd) - tp->prr_out;
	} else {
		/* PRR-SSRB: MIN(ssthresh - pipe, MAX(prr_delivered -
		 * prr_out, DeliveredData) + 1 MSS). Linux adds the segment
		 * only on an ACK that moves SND.UNA and reveals no new loss
		 * (Linux's tcp_cwnd_reduction since 5.19). */
		int64_t limit = (int64_t)tp->snd_ssthresh - pipe;

		sndcnt = (int64_t)tp->prr_delivered - tp->prr_out;
		if (sndcnt < (int64_t)delivered)
			sndcnt = delivered;
		if (una_advanced && !newly_lost)
			sndcnt++;
		if (sndcnt > limit)
			sndcnt = limit;
	}
	/* The first ACK of recovery always lets the fast retransmission
	 * go (RFC 6675 §5 step 4.3, RFC 5681 §3.2 step 2). */
	if (sndcnt < (tp->prr_out ? 0 : 1))
		sndcnt = tp->prr_out ? 0 : 1;
	return (uint32_t)sndcnt;
}

/* Linux's tcp_remove_reno_sacks: a cumulative ACK without SACK covers the
 * hole and the segments the duplicate ACKs stood for; what it delivers
 * anew is the rest, at least one segment. Duplicate ACKs left beyond what
 * is still out were reordering (tcp_check_reno_reordering, with the
 * segments just acknowledged). Out of a recovery, and from its recovery
 * point on, no duplicate ACK is left standing for anything after it
 * (Linux's tcp_reset_reno_sack there). */
uint32_t tcp_reno_cum_ack(struct sock *sk, uint32_t acked)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t segs = tcp_rx(tp)->delivered, covered, bytes;

	if (!segs)
		return acked;
	covered = segs - 1 < tp->reno_sacked ? segs - 1 : tp->reno_sacked;
	tcp_rx(tp)->delivered = segs - covered;
	tp->reno_sacked -= covered;
	if (tcp_reno_limit(tp))
		tcp_reno_reordering(sk, tp->packets_out + segs);
	if (!tp->in_recovery || !seq_lt(tp->snd_una, tp->high_seq))
		tp->reno_sacked = 0;
	bytes = covered * tp->mss_cache;
	return acked > bytes ? acked - bytes : tp->mss_cache;
}

bool tcp_reno_held(const struct tcp_sock *tp)
{
	return !tp->sack_ok && tp->in_recovery && tp->snd_una == tp->high_seq;
}

bool tcp_reno_limit(struct tcp_sock *tp)
{
	uint32_t holes = tp->lost_out ? tp->lost_out : 1;

	if (holes > tp->packets_out)
		holes = tp->packets_out;
	if (tp->reno_sacked + holes <= tp->packets_out)
		return false;
	tp->reno_sacked = tp->packets_out - holes;
	return true;
}

void tcp_reno_dupack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t prior = tp->reno_sacked;

	tp->reno_sacked++;
	if (tcp_reno_limit(tp))
		tcp_reno_reordering(sk, tp->packets_out);
	if (tp->reno_sacked > prior)
		tcp_rx(tp)->delivered = 1;
}

void tcp_reno_mark_head_lost(struct sock *sk)
{
	struct sk_buff *head = tcp_wq_head(sk);

	/* Linux's tcp_newreno_mark_lost: not again when it is (a timeout or
	 * a fall of the MSS marked it, or its copy is out). */
	if (head && !(TCP_SKB_CB(head)->sacked & TCPCB_LOST))
		tcp_sack_mark_skb_lost(sk, head);
}

void tcp_reno_reset(struct tcp_sock *tp)
{
	tp->reno_sacked = 0;
}

uint32_t tcp_packets_in_flight(const struct tcp_sock *tp)
{
	int64_t pipe;

	if (tp->sack_ok)
		return tcp_sack_pipe(tp);   /* RFC 6675 §4 SetPipe */
	/* Linux's tcp_packets_in_flight, its sacked_out the duplicate ACKs. */
	pipe = (int64_t)tp->packets_out - tp->reno_sacked - tp->lost_out +
	       tp->retrans_out;
	return pipe > 0 ? (uint32_t)pipe : 0;
}

void tcp_prr_ack(struct sock *sk, bool una_advanced)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t pipe;

	/* (Not for an algorithm with cong_control: Linux's
	 * tcp_cong_control skips tcp_cwnd_reduction for it.) */
	if ((!tp->in_recovery && !tp->in_cwr) || !tcp_rx(tp)->delivered ||
	    tcp_ca_controls(tp))
		return;
	/* RFC 6937 §3.1: prr_delivered += DeliveredData; pipe after the
	 * ACK's marks; cwnd = pipe + sndcnt. */
	tp->prr_delivered += tcp_rx(tp)->delivered;
	pipe = tcp_packets_in_flight(tp);
	tp->snd_cwnd = pipe + tcp_prr_sndcnt(tp, pipe, tcp_rx(tp)->delivered,
					     una_advanced, tcp_rx(tp)->lost != 0);
}

void tcp_prr_sent(struct tcp_sock *tp, unsigned int nsegs)
{
	/* RFC 6937 §3.1 "prr_out += (data sent)": new data and
	 * retransmissions alike. */
	if (tp->in_recovery || tp->in_cwr)
		tp->prr_out += nsegs;
}
