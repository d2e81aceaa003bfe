/*
 * tcp_input.c - segment arrival, organised as RFC 9293 §3.10.7 is: the
 * CLOSED and LISTEN cases, SYN-SENT, and the synchronized states, whose
 * checks run in the RFC's order (sequence number, RST, SYN, ACK, data,
 * FIN), each a small helper. Congestion control on ACKs follows RFC 5681
 * and NewReno (RFC 6582); RST and SYN in the window get RFC 5961 challenge
 * ACKs.
 *
 * Call chain: ip_local_deliver -> tcp_v4_rcv -> tcp_listen_input |
 *             tcp_rcv_synsent | tcp_timewait_input | tcp_rcv_state_process
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

static void tcp_drop(struct ustack *st, struct sk_buff *skb,
		     enum us_drop_reason why)
{
	us_drop(st, skb, why);
}

/* Payload bytes in the segment (skb->data at the payload). */
static uint32_t tcp_payload(const struct sk_buff *skb)
{
	return skb->len;
}

/* ---- helpers of every state --------------------------------------------- */

/* Linux's tcp_reset(): the peer reset us; the errno depends on the state. */
static void tcp_reset(struct sock *sk)
{
	int err;

	switch (sk->state) {
	case TCP_SYN_SENT:
		err = ECONNREFUSED;
		break;
	case TCP_CLOSE_WAIT:
		err = EPIPE;
		break;
	case TCP_CLOSE:
		return;
	default:
		err = ECONNRESET;
	}
	us_mib_inc(sk->st, US_MIB_TCP_ESTAB_RESETS);
	sk->err = err;
	if (sk->sk_socket)
		sk_error_report(sk);
	tcp_done(sk);
}

/*
 * Linux's __tcp_oow_rate_limited (net.ipv4.tcp_invalid_ratelimit): one ACK
 * per 500 ms at most (the sysctl's default) answers invalid segments, so
 * two ends that disagree about the sequence space cannot keep ACKing each
 * other in a loop. 0 answers every one.
 */
bool tcp_oow_limited(struct ustack *st, us_time_t *last)
{
	us_time_t limit = (us_time_t)st->sysctl.tcp_invalid_ratelimit * 1000;

	if (*last && st->now - *last < limit)
		return true;
	*last = st->now;
	return false;
}

static bool tcp_oow_rate_limited(struct sock *sk)
{
	return tcp_oow_limited(sk->st, &tcp_sk(sk)->last_oow_ack);
}

/* An out-of-window segment is answered by an ACK, within the rate limit
 * unless it carries data (Linux's tcp_oow_rate_limited: data is not part
 * of an ACK loop). */
static void tcp_send_oow_ack(struct sock *sk, const struct tcp_seg *th,
			     uint32_t seglen)
{
	if (seglen && !(th->flags & TCPHDR_SYN)) {
		/* Old data: our ACK was lost; quick ACKs again (Linux's
		 * tcp_send_dupack, tcp_enter_quickack_mode). */
		if (seq_lt(th->seq, tcp_sk(sk)->rcv_nxt))
			tcp_delack_enter_quickack(sk, TCP_MAX_QUICKACKS);
		tcp_send_ack(sk);
	} else if (!tcp_oow_rate_limited(sk)) {
		tcp_send_ack(sk);
	}
}

/* RFC 5961 §3.2 / §4.2: answer a doubtful RST or SYN with an ACK of what
 * we expect, which a genuine peer answers and a blind attacker cannot. */
static void tcp_send_challenge_ack(struct sock *sk)
{
	if (tcp_oow_rate_limited(sk))
		return;
	us_mib_inc(sk->st, US_MIB_TCP_CHALLENGE_ACKS);
	tcp_send_ack(sk);
}

static void tcp_init_established(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_set_state(sk, TCP_ESTABLISHED);
	tcp_data_sent(sk);   /* (Linux's lsndtime starts here) */
	/* (and lrcvtime: tcp_finish_connect, tcp_create_openreq_child) */
	tp->lrcvtime = tcp_now_ms(sk);
	/* Quick-ACK mode starts with the first data (tcp_delack.c): the
	 * first segments are answered at once, so the peer's slow start is
	 * not held back by delayed ACKs. */
	tp->quickacks = 0;
	tp->last_rcv = sk->st->now;
	/* RFC 6298 §5.7: a SYN sent again gave no RTT sample; data starts
	 * with an RTO of 3 s (Linux's TCP_TIMEOUT_FALLBACK). */
	if (!tp->srtt_us) {
		tp->rto_us = TCP_TIMEOUT_FALLBACK_US;
		tp->backoff = 0;
	}
	/* The SYN's (SYN-ACK's) timeouts cut ssthresh and the window for no
	 * loss of data: the transfer starts afresh, with the algorithm's
	 * state new, ssthresh infinite and the initial window, or one
	 * segment when it went more than twice and timed out (Linux's
	 * tcp_init_metrics, "ssthresh may have been reduced unnecessarily
	 * during 3WHS", and tcp_init_transfer: total_retrans > 1 and
	 * undo_marker; SYN-ACKs sent again for the peer's SYNs count in
	 * total_retrans, as req->num_retrans, but only a timeout sets
	 * undo_marker, and a spurious one clears it). */
	if (tp->total_retrans && !tp->fastopen_child) {
		/* (Not for a Fast Open child, whose transfer began at its
		 * SYN: Linux's tcp_init_transfer ran then, when nothing had
		 * been sent again.) */
		/* (Before the algorithm starts: CUBIC runs HyStart++ only
		 * from an infinite ssthresh.) */
		tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
		tp->snd_cwnd = tp->total_retrans > 1 && tp->syn_timed_out
			       ? 1 : TCP_INIT_CWND;
		tp->cwnd_acked = 0;
		tcp_reinit_congestion_control(sk);
	}
	tcp_update_mss(tp);
	/* An algorithm that reads the handshake's RTT and the MSS starts now
	 * (Linux's tcp_init_transfer); a listener's child, whose SYN-ACK's
	 * RTT the ACK in hand is about to give (tcp_ack), after it; a Fast
	 * Open child's started at its SYN (tcp_fastopen_child), and goes on
	 * (Linux's tcp_rcv_synrecv_state_fastopen). */
	if (tp->snd_una != tp->iss && !tp->tfo_child)
		tcp_ca_init_transfer(sk);
	tcp_reset_keepalive(sk);
	tcp_init_buffer_space(sk);
}

static void tcp_apply_syn_options(struct tcp_sock *tp, const struct tcp_seg *th)
{
	/* RFC 9293 §3.7.1: without the option the peer takes 536. */
	tp->peer_mss = th->opts.mss_ok && th->opts.mss ? th->opts.mss
						       : TCP_MSS_DEFAULT;
	tcp_update_mss(tp);
	tcp_sack_syn_options(tp, th);
}

/*
 * Drop acknowledged segments from the write queue. RTT is sampled from the
 * most recently sent segment this ACK covers, and only if it covers no
 * retransmitted one (Karn's algorithm, RFC 6298 §3): an ACK that a
 * retransmission provoked would otherwise count the whole timeout as
 * round-trip time, and RTO would feed on itself under loss. Returns
 * whether the ACK finished a segment; *part gets the bytes acknowledged of
 * a segment the ACK does not finish (it ends before that segment's end:
 * inside its data, or before its FIN), else 0.
 */
static bool tcp_clean_rtx_queue(struct sock *sk, uint32_t ack, uint32_t *part)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t last_sent = 0, last_tx = 0;
	bool retrans_acked = false, acked = false;
	int64_t rtt = -1;
	struct sk_buff *skb;

	*part = 0;

	while ((skb = skb_peek(&sk->write_queue)) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		/* SO_TIMESTAMPING's ACK: this ACK takes the byte a write's
		 * report is keyed by (Linux's tcp_ack_tstamp). */
		if ((skb->tx_flags & SKBTX_ACK_TSTAMP) &&
		    seq_geq(skb->tskey, cb->seq) && seq_lt(skb->tskey, ack))
			sock_tstamp_tx(sk, skb, SCM_TSTAMP_ACK, skb->tskey);
		if (seq_gt(cb->end_seq, ack)) {
			uint32_t n = ack - cb->seq;

			/* Partly acknowledged data: trim the front. */
			if (seq_gt(ack, cb->seq) && n <= skb->len &&
			    !(cb->flags & TCPHDR_SYN)) {
				skb_pull(skb, n);
				sk->write_queue.bytes -= n;
				cb->seq = ack;
				/* A SACKed segment's bytes were counted as
				 * delivered when it was SACKed: not again, and
				 * not to be taken out of this ACK's either. */
				if (cb->sacked & TCPCB_SACKED_ACKED)
					tcp_rx(tp)->sacked_acked += n;
				else
					*part = n;
			}
			break;
		}
		acked = true;
		if (cb->sent > last_tx)
			last_tx = cb->sent;
		if (cb->retrans)
			retrans_acked = true;
		else if (cb->sent)
			last_sent = cb->sent;
		tcp_sack_unlinked(tp, skb);
		if (skb == tp->send_head)
			tp->send_head = NULL;
		skb_unlink(&sk->write_queue, skb);
		sk->wmem_alloc -= (int)skb->truesize;
		skb_free(skb);
	}
	if (!tp->send_head && skb_peek(&sk->write_queue) &&
	    seq_geq(TCP_SKB_CB(skb_peek(&sk->write_queue))->seq, tp->snd_nxt))
		tp->send_head = skb_peek(&sk->write_queue);
	/* MSG_ZEROCOPY's sends whose last byte this ACK takes, after the
	 * ACK's timestamp reports (as Linux frees the buffers). */
	if (sk->zc_wait)
		sock_zc_complete(sk, ack, false);
	/* With timestamps, the echo dates the transmission the ACK answers,
	 * so a retransmission gives a valid sample too (RFC 7323 §4.2: no
	 * Karn's rule needed). The send time, when Karn allows it, is
	 * finer than the 1 ms ticks of TSval and is preferred (Linux). */
	if (last_sent && !retrans_acked)
		rtt = (int64_t)(sk->st->now - last_sent);
	else if (acked)
		rtt = tcp_ts_rtt_sample(sk, last_tx);
	if (rtt < 0)
		return acked;
	if (last_sent && !retrans_acked)
		tcp_rtt_sample(tp, (us_time_t)rtt);
	/* The ACK's rate sample, for a congestion control: this RTT unless
	 * a segment it SACKs, sent later, gave one (Linux's ca_rtt_us). */
	if (tcp_rx(tp)->rs.rtt_us < 0)
		tcp_rx(tp)->rs.rtt_us = rtt;
	return acked;
}

/* RFC 5681 §3.2 and RFC 6582 §3.2: the third duplicate ACK. The window
 * follows RFC 6937 (tcp_prr.c) instead of inflation, as in Linux; its
 * first sndcnt lets the lost segment go. */
static void tcp_enter_recovery(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_undo_mark(sk);   /* (before ssthresh changes) */
	if (tp->in_cwr) {   /* (an ECE's reduction goes on, not undone) */
		tp->in_cwr = false;
		tcp_undo_forbid(sk);
	} else {
		tp->snd_ssthresh = tcp_ca_ssthresh(sk);
		tcp_prr_init(sk);
	}
	tp->in_recovery = true;
	tp->high_seq = tp->snd_max;
	tcp_reno_mark_head_lost(sk);
	us_mib_inc(sk->st, US_MIB_TCP_FAST_RETRANS);
}

static void tcp_dupack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->sack_ok) {
		tcp_sack_dupack(sk);
		return;
	}
	tp->dupacks++;
	/* A recovery held at its point (tcp_reno_recovery_ack) counts no
	 * duplicate ACK as delivered: Linux's tcp_fastretrans_alert resets
	 * its NewReno SACKs there and its window stays. In a timeout's
	 * episode none starts a fast retransmit: below its point one counts
	 * only for data sent past the point, held at the point none does
	 * (Linux's tcp_process_loss returns at tcp_try_undo_recovery). */
	if (tcp_reno_held(tp))
		return;
	if (!tp->in_recovery &&
	    (seq_lt(tp->snd_una, tp->high_seq) || tp->loss_held)) {
		if (!tp->loss_held && seq_gt(tp->snd_max, tp->high_seq))
			tcp_reno_dupack(sk);
		return;
	}
	tcp_reno_dupack(sk);   /* a segment has left the network */
	if (tp->in_recovery)
		return;
	/* RFC 5681 §3.2 step 2's three duplicate ACKs are Linux's
	 * reordering (tcp_newreno_mark_lost): 3 unless duplicate ACKs
	 * beyond the flight changed it (tcp_reno_reordering). */
	if (tp->reno_sacked >= tcp_reordering(sk) &&
	    seq_geq(tp->snd_una, tp->high_seq))
		tcp_enter_recovery(sk);
}

/*
 * NewReno's recovery (RFC 6582 §3.2) on an ACK of new data: a partial
 * ACK (step 5) finds the next hole lost too, which goes when PRR's window
 * allows. An ACK of exactly the recovery point holds the recovery, as
 * Linux's tcp_try_undo_recovery does ("until something *above* high_seq
 * is ACKed"): the three duplicate ACKs that may follow do not cover more
 * than "recover" and must start no fast retransmit (step 2); the hole is
 * filled (no segment is lost any more) and PRR keeps the window
 * (tcp_reno_held). An ACK past it ends the recovery with the window at
 * ssthresh (step 6), or where an undo left it, and returns true: the
 * window grows by this ACK too, by what it delivered (tcp_reno_cum_ack).
 */
static bool tcp_reno_recovery_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->dupacks = 0;
	if (seq_lt(tp->snd_una, tp->high_seq)) {
		tcp_reno_mark_head_lost(sk);
		return false;
	}
	if (tp->snd_una == tp->high_seq)
		return false;
	/* (An algorithm with cong_control keeps its own window: Linux's
	 * tcp_end_cwnd_reduction leaves it alone.) */
	if (!tcp_undo_reno_end(sk) && !tcp_ca_controls(tp))
		tp->snd_cwnd = tp->snd_ssthresh;
	tp->in_recovery = false;
	tcp_reno_reset(tp);
	return true;
}

/* New data was acknowledged: grow or restore the congestion window.
 * `part`: the bytes acknowledged of a segment the ACK does not finish. */
static void tcp_cong_on_ack(struct sock *sk, uint32_t acked, uint32_t part)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* The ACK that ends a recovery grows the window from ssthresh as
	 * any ACK out of one does: Linux's tcp_ack ends the recovery first
	 * (tcp_fastretrans_alert, tcp_end_cwnd_reduction) and then, no
	 * longer in a window reduction, lets tcp_cong_control raise the
	 * window by the data delivered (tcp_may_raise_cwnd,
	 * tcp_cong_avoid). */
	if (tp->in_recovery &&
	    !(tp->sack_ok ? tcp_sack_recovery_ack(sk)
			  : tcp_reno_recovery_ack(sk)))
		return;
	/* RFC 3168 §6.1.2: an ECE's reduction, or the end of one; Linux
	 * ends a recovery first, then takes an ECE in Open as a new one. */
	if (tcp_ecn_ack(sk))
		return;
	tp->dupacks = 0;
	/* (An algorithm with cong_control grows it in tcp_cong_control.) */
	if (tcp_ca_controls(tp))
		return;
	/* Slow start counts the segments the ACK finishes, as Linux counts
	 * the packets acknowledged whole: a segment not finished counts for
	 * nothing, so that a receiver that ACKs segments in parts ("ACK
	 * division", RFC 5681 §3.1) gains nothing; tcp_slow_start rounds
	 * the rest up, which counts a segment finished in part by an
	 * earlier ACK, or short, as one. */
	if (part && tp->snd_cwnd < tp->snd_ssthresh)
		acked = acked > part ? acked - part : 0;
	if (acked)
		tcp_cong_avoid(sk, acked);   /* the algorithm's growth */
}

/*
 * RFC 9293 §3.10.7.4, fifth check, for ESTABLISHED and later: update the
 * send window (SND.WL1/WL2 rule) and take what the ACK acknowledges.
 * Returns why the segment must be dropped (after an ACK) when the ACK is
 * for data not yet sent, or older than any the peer could still send
 * (RFC 5961 §5.2: below SND.UNA - MAX.SND.WND), else US_DROP_NOT_DROPPED.
 */
/* TCP_INFO's account of an ACK: what it delivered, and the reordering
 * it showed, as deep as from its lowest reordered segment to the highest
 * (S)ACKed (Linux's tcp_check_sack_reordering). */
static void tcp_ack_info(struct sock *sk, bool reneged)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rx_scratch *rx = tcp_rx(tp);

	tp->delivered += rx->delivered;
	tcp_rate_gen(sk, rx->delivered, rx->lost, reneged);
	if (rx->ece)
		tcp_info_delivered_ce(sk, rx->delivered);
	if (rx->reord) {
		const struct tcp_rack *r = tcp_sack_rack(sk, false);
		uint32_t top = r && seq_gt(r->fack, tp->snd_una) ? r->fack
								  : tp->snd_una;
		uint32_t mss = tp->mss_cache ? tp->mss_cache : 1;

		tcp_info_reordering(sk, (top - rx->reord_low + mss - 1) / mss);
	}
}

/*
 * An ACK that may have been held back by the receiver's delayed-ACK
 * timer (Linux's FLAG_ACK_MAYBE_DELAYED): it takes one segment, whole,
 * shorter than the MSS, sent once (its RTT was sampled), with nothing
 * SACKed and nothing else delivered since it went, no ECE, no D-SACK;
 * typically a lone runt. Its RTT may include the delay: a congestion
 * control that models the path (BBR's min_rtt) does not take it when
 * its filter has expired. `other`: the ACK SACKed data, or took the SYN.
 */
static bool tcp_ack_maybe_delayed(struct sock *sk, uint32_t bytes,
				  uint32_t part, uint32_t prior_sacked,
				  bool other)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_rx_scratch *rx = tcp_rx(tp);

	return rx->delivered == 1 && !part && !prior_sacked && !other &&
	       bytes < tp->mss_cache && rx->rs.rtt_us >= 0 &&
	       !rx->rs.is_retrans &&
	       rx->rs.prior_delivered + 1 == tp->delivered && !rx->ece &&
	       !rx->dsack;
}

static enum us_drop_reason tcp_ack(struct sock *sk, const struct sk_buff *skb,
				   const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t seq = TCP_SKB_CB(skb)->seq;
	uint32_t ack = th->ack;
	uint32_t nwin = tcp_peer_window(tp, th);   /* RFC 7323 §2.3 */
	bool wnd_update = false;
	uint32_t acked, sacked, part, prior_una, prior_sacked;
	bool finished, reneged, held, syn_acked;

	if (seq_gt(ack, tp->snd_max))
		return US_DROP_TCP_ACK_UNSENT;
	if (seq_lt(ack, tp->snd_una - tp->max_window))
		return US_DROP_TCP_TOO_OLD_ACK;
	if (seq_lt(ack, tp->snd_una))
		return US_DROP_NOT_DROPPED;   /* old: the data still counts */
	/* RFC 3168 §6.1.3: CWR ends our echo, from an acceptable ACK only
	 * (Linux's tcp_ecn_accept_cwr in tcp_ack) */
	if (th->flags & TCPHDR_CWR)
		tcp_ecn_accept_cwr(sk, tcp_payload(skb));
	/* RFC 3168 §6.1.2: an ECE counts while data is in flight (Linux's
	 * FLAG_ECE, and its !prior_packets return) */
	tcp_rx(tp)->ece = tp->ecn_ok && (th->flags & TCPHDR_ECE) &&
			  !(th->flags & TCPHDR_SYN) && tp->packets_out &&
			  tp->snd_una != tp->iss;   /* (our SYN-ACK's: none) */
	if (tcp_rx(tp)->ece)
		tcp_undo_forbid(sk);   /* (Linux's prior_ssthresh 0, first) */
	/* In the window, with an acceptable ACK (Linux's ordering). The
	 * path works: an ICMP error kept for a timeout is forgotten. The
	 * peer is there: the probes it answers are not counted against it
	 * (RFC 1122 §4.2.2.17: a zero window is probed as long as it
	 * answers), and keepalive's idle time starts again (Linux's
	 * icsk_probes_out and rcv_tstamp in tcp_ack). */
	sk->err_soft = 0;
	tp->probes_out = 0;
	tp->last_rcv = sk->st->now;
	tcp_ts_update_recent(tp, seq);
	/* The window update rule as Linux has it (tcp_may_update_window):
	 * any ACK that moves SND.UNA updates the window, whatever its SEQ
	 * (a peer's retransmission of data we lacked, carrying a newer ACK
	 * and a smaller window: RFC 9293's SND.WL1 test kept the older,
	 * larger window, and we sent past the peer's); so does a newer SEQ;
	 * a segment no newer that acknowledges nothing new may open or
	 * close the window but not shrink it, so a reordered duplicate ACK
	 * cannot take window back. */
	if (seq_gt(ack, tp->snd_una) || seq_lt(tp->snd_wl1, seq) ||
	    (tp->snd_wl1 == seq && (nwin > tp->snd_wnd || nwin == 0))) {
		/* An ACK that takes this path is no duplicate ACK, whether
		 * the window changes or not (Linux's FLAG_WIN_UPDATE): one
		 * newer than any segment taken, without data (a Fast Open
		 * child's handshake ACK, its SND.WL1 the SYN's), and one
		 * that holds a zero window again (window/zero-window-acks-
		 * not-dupacks: no fast retransmit while the peer's buffer
		 * is full). */
		wnd_update = true;
		/* The window opens after timeouts against it closed: those
		 * were window probes the peer answered, no series toward
		 * tcp_retries2 (Linux's zero-window branch of
		 * tcp_retransmit_timer counts none): the next timeout starts
		 * one of its own, and retransmits. */
		if (!tp->snd_wnd && nwin && tp->retransmits &&
		    sk->state != TCP_SYN_SENT && sk->state != TCP_SYN_RECV)
			tp->retransmits = 0;
		tp->snd_wnd = nwin;
		tp->snd_wl1 = seq;
		tp->snd_wl2 = ack;
		if (tp->snd_wnd > tp->max_window) {
			tp->max_window = tp->snd_wnd;
			tcp_update_mss(tp);   /* half of it bounds the MSS */
		}
	}
	acked = ack - tp->snd_una;
	sacked = tcp_sack_update(sk, th);
	if (acked == 0) {
		/* RFC 5681 §2: a duplicate ACK carries no data, does not move
		 * the window, and comes while data is outstanding. With SACK
		 * (RFC 6675 §2) it must SACK data not SACKed before, so that
		 * ACKs with stale or bogus blocks count for nothing (as in
		 * Linux). */
		bool pure = tcp_payload(skb) == 0 && !wnd_update &&
			    !(th->flags & (TCPHDR_SYN | TCPHDR_FIN)) &&
			    tp->snd_una != tp->snd_max;

		if (tp->sack_ok ? sacked != 0 : pure)
			tcp_dupack(sk);
		/* A reduction not needed is undone, before RACK looks for
		 * losses (it may end recovery). A D-SACK alone is no
		 * duplicate ACK for F-RTO (Linux's FLAG_DSACKING_ACK). */
		tcp_undo_check(sk, (sacked ? TCP_ACK_SACKED_NEW : 0) |
				   (pure && !tcp_rx(tp)->dsack ? TCP_ACK_DUP : 0));
		tcp_rack_ack(sk);   /* RFC 8985 §6.2: losses by time */
		tcp_tlp_ack(sk, ack, !sacked && !tcp_payload(skb) &&
			    !wnd_update);   /* RFC 8985 §7.4 */
		tcp_ecn_ack(sk);   /* RFC 3168 §6.1.2 */
		tcp_prr_ack(sk, false);   /* RFC 6937: cwnd in recovery */
		tcp_ack_info(sk, false);
		/* (Linux's no_queue: nothing was in flight, no call.) */
		if (tp->packets_out)
			tcp_cong_control(sk);
		return US_DROP_NOT_DROPPED;
	}
	/* RFC 5681 §3.1: the window grows by the data acknowledged. The ACK
	 * that ends SYN-RECEIVED acknowledges our SYN, which is no data: the
	 * transfer starts at the initial window (Linux's tcp_init_transfer). */
	syn_acked = tp->snd_una == tp->iss;
	if (syn_acked)
		acked--;
	prior_una = tp->snd_una;
	tcp_snd_una_update(tp, ack);
	if (seq_lt(tp->snd_nxt, ack))
		tp->snd_nxt = ack;
	/* (The backoff ends with an RTT sample, not with any ACK: Karn.) */
	prior_sacked = tp->sacked_out;
	finished = tcp_clean_rtx_queue(sk, ack, &part);
	tp->retransmits = 0;
	tp->retrans_stamp = 0;
	reneged = tcp_sack_reneged(sk);
	acked = tcp_sack_newly_delivered(tp, acked);
	/* (The ACK of our SYN alone delivers no data to count.) */
	if (!tp->sack_ok && acked)
		acked = tcp_reno_cum_ack(sk, acked);
	/* A reduction not needed is undone first, as Linux's
	 * tcp_fastretrans_alert does before tcp_cong_control: the window
	 * grows by this ACK from the one given back. */
	if (!reneged)
		tcp_undo_check(sk, TCP_ACK_UNA_ADVANCED |
				   (sacked ? TCP_ACK_SACKED_NEW : 0));
	if (acked) {
		tcp_cong_on_ack(sk, acked, part);
		tcp_sndbuf_expand(sk);
	} else if (!tp->in_recovery) {
		tcp_ecn_ack(sk);
	}
	/* RFC 6675 §5: a cumulative ACK that SACKs new data is a DupAck
	 * too, counted after the reset above. Not when the peer reneged:
	 * its scoreboard is in doubt, and Linux's tcp_fastretrans_alert
	 * stops at tcp_check_sack_reneging, before loss detection. */
	if (sacked && !reneged)
		tcp_dupack(sk);
	if (!reneged)
		tcp_rack_ack(sk);   /* RFC 8985 §6.2: losses by time */
	tcp_tlp_ack(sk, ack, false);   /* RFC 8985 §7.4 */
	tcp_prr_ack(sk, true);   /* RFC 6937: cwnd in recovery */
	tcp_ack_info(sk, reneged);
	tcp_rx(tp)->rs.is_ack_delayed =
		tcp_ack_maybe_delayed(sk, ack - prior_una, part, prior_sacked,
				      sacked || syn_acked);
	if (tp->snd_una == tp->write_seq)
		tcp_chrono_stop(sk, TCP_CHRONO_BUSY);
	/* Out of any episode (judged before this ACK), the recovery point
	 * (RFC 6582's "recover") follows SND.UNA: compared modulo 2^32, a
	 * value left 2^31 behind reads as ahead, and no loss would start a
	 * recovery for the next 2 GiB (Linux compares high_seq only inside
	 * an episode). */
	held = !tp->sack_ok && !tp->in_recovery &&
	       seq_lt(prior_una, tp->high_seq) && tp->snd_una == tp->high_seq;
	if (!tp->in_recovery && !seq_lt(prior_una, tp->high_seq))
		tp->high_seq = tp->snd_una;
	tp->loss_held = held;   /* (an ACK past the point ends it) */
	if (!tp->in_recovery && !seq_lt(tp->snd_una, tp->high_seq)) {
		tcp_undo_episode_over(sk);
		if (!held)
			tcp_info_loss_over(sk);
	}
	/* The algorithm that sets the window itself, last, when the ACK's
	 * recovery state is settled (Linux's tcp_cong_control after
	 * tcp_fastretrans_alert). Not for the ACK of our SYN (or SYN-ACK):
	 * Linux's child has nothing in flight then (its request sent the
	 * SYN-ACK), and its active side runs it before the algorithm's
	 * init, which then starts afresh. A child's algorithm starts here,
	 * with the SYN-ACK's RTT (tcp_init_established). (A Fast Open
	 * child's SND.UNA is past its SYN-ACK from the start.) */
	if (!syn_acked)
		tcp_cong_control(sk);
	else
		tcp_ca_init_transfer(sk);
	/* RFC 6298 §5.3 restarts the timer on every ACK of new data. Linux
	 * (tcp_clean_rtx_queue's FLAG_SET_XMIT_TIMER) restarts it only when
	 * a segment is acknowledged whole, so that a receiver that ACKs a
	 * segment in parts cannot put its timeout off; ustack does the same.
	 * An ACK of everything stops it. */
	if (reneged) {
		/* RFC 2018 §8: the ACK points at data the peer SACKed, so it
		 * dropped it (or its scoreboard is briefly odd). As Linux's
		 * tcp_check_sack_reneging: max(SRTT/2, 10 ms) for more ACKs
		 * to set things right, then the timeout forgets the SACKs
		 * (tcp_sack_enter_loss) and sends the head again, rather than
		 * a whole RTO with the peer's hole left unfilled. */
		us_time_t delay = tp->srtt_us / 2;

		tcp_reset_rto_timer_in(sk, delay > TCP_RENEG_DELAY_MIN_US ?
					   delay : TCP_RENEG_DELAY_MIN_US);
	} else if (finished || tp->snd_una == tp->snd_max) {
		tcp_rearm_rto(sk);
	}
	return US_DROP_NOT_DROPPED;
}

/* All we sent, FIN included, is acknowledged. */
static bool tcp_fin_acked(const struct tcp_sock *tp)
{
	return tp->snd_una == tp->write_seq && tp->snd_max == tp->write_seq;
}

/* ---- receiving data and FIN --------------------------------------------- */

/* A buffer at least twice what its data needs (tcp_collapse). */
static bool tcp_skb_loose(const struct sk_buff *skb)
{
	return !skb_is_nonlinear(skb) &&
	       skb->truesize >= 2 * skb_truesize_of(skb->len);
}

/*
 * skb's data in a buffer of its size, rounded up to a power of two (so
 * that the instance's skb cache, which keeps a few sizes, serves them; the
 * copy is then never loose itself), with its control block and stamp.
 * NULL without memory.
 */
static struct sk_buff *tcp_rcv_copy(struct sock *sk, const struct sk_buff *skb)
{
	struct sk_buff *n = skb_alloc(&sk->st->skb_pool,
				      skb_size_class(skb->len, 64));

	if (!n)
		return NULL;
	skb_put_data(n, skb->data, skb->len);
	memcpy(n->cb, skb->cb, sizeof(n->cb));
	n->tstamp = skb->tstamp;
	us_mib_inc(sk->st, US_MIB_TCP_RCV_COLLAPSED);
	return n;
}

/*
 * Charge skb to sk's receive memory: the receive queue and the
 * out-of-order queue both count (Linux's skb_set_owner_r). A loose buffer
 * that takes the socket past its receive buffer is copied into a compact
 * one first, as Linux collapses under pressure (tcp_prune_queue): a peer
 * whose small segments each arrive at the limit then costs one copy each,
 * not a walk of the queues each. One taken while there is room is left
 * for tcp_collapse, which rcv_loose tells to look. Returns the buffer
 * charged: skb, or its copy (skb freed).
 */
static struct sk_buff *tcp_rmem_charge(struct sock *sk, struct sk_buff *skb)
{
	if (tcp_skb_loose(skb)) {
		struct sk_buff *n = NULL;

		if (sk->rmem_alloc + (int)skb->truesize > sk->rcvbuf)
			n = tcp_rcv_copy(sk, skb);
		if (n) {
			skb_free(skb);
			skb = n;
		} else {
			tcp_sk(sk)->rcv_loose = true;
		}
	}
	skb->sk = sk;
	sk->rmem_alloc += (int)skb->truesize;
	return skb;
}

static void tcp_rmem_free(struct sock *sk, struct sk_buff *skb)
{
	sock_rfree(sk, skb);
	skb_free(skb);
}

/*
 * In-order data goes onto the end of the last queued buffer when it fits
 * there (Linux's tcp_try_coalesce): a peer's small segments then share
 * buffers instead of costing one each, and the receive buffer holds what
 * the window let in. Only between linear buffers whose data no other skb
 * shares. tcp_try_coalesce frees skb (uncharged if it was charged).
 */
#define TCP_COALESCE_MAX 1024
static struct sk_buff *tcp_coalesce_target(struct sock *sk,
					   const struct sk_buff *skb)
{
	struct sk_buff *tail = skb_peek_tail(&sk->receive_queue);

	/* Small segments only: a full one costs little more than its data
	 * (a copy of it would only cost time: bulk receive with GRO's
	 * 64 KB buffers measured no faster, often slower, copying). */
	if (!tail || skb->len > TCP_COALESCE_MAX || skb_is_nonlinear(skb) ||
	    skb_is_nonlinear(tail) || skb_shared_data(tail) ||
	    skb->len > skb_tailroom(tail))
		return NULL;
	return tail;
}

static bool tcp_try_coalesce(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *tail = tcp_coalesce_target(sk, skb);

	if (!tail)
		return false;
	memcpy(skb_put(tail, skb->len), skb->data, skb->len);
	sk->receive_queue.bytes += skb->len;
	TCP_SKB_CB(tail)->end_seq = TCP_SKB_CB(skb)->seq + skb->len;
	tail->tstamp = skb->tstamp;
	us_mib_inc(sk->st, US_MIB_TCP_RCV_COALESCED);
	if (skb->sk == sk)
		tcp_rmem_free(sk, skb);
	else
		skb_free(skb);
	return true;
}

static void tcp_queue_rcv(struct sock *sk, struct sk_buff *skb)
{
	if (tcp_try_coalesce(sk, skb))
		return;
	if (skb->sk != sk)
		skb = tcp_rmem_charge(sk, skb);
	skb_queue_tail(&sk->receive_queue, skb);
}

/*
 * Data held in buffers far larger than itself moves into buffers of its
 * own size (Linux's tcp_collapse, from tcp_prune_queue): a driver that
 * hands up a few segments in a 64 KB receive buffer, or the peer's small
 * segments behind a hole, would otherwise fill the receive buffer while
 * the window the socket offered (tcp_space: half of the free truesize) is
 * still open, and in-window data would be dropped. One buffer becomes one
 * buffer, so each keeps its sequence range, flags and stamp; tiny in-order
 * segments are merged as they arrive instead (tcp_try_coalesce). The
 * queues are walked only when a loose buffer was queued since the last
 * walk (rcv_loose), so that a compact queue is not walked again and again.
 * False when memory ran out.
 */
static bool tcp_collapse_queue(struct sock *sk, struct sk_buff_head *q)
{
	struct sk_buff *skb, *tmp;

	skb_queue_walk_safe(q, skb, tmp) {
		struct sk_buff *n;

		if (!tcp_skb_loose(skb))
			continue;
		n = tcp_rcv_copy(sk, skb);
		if (!n)
			return false;
		skb_queue_after(q, skb, n);
		skb_unlink(q, skb);
		tcp_rmem_free(sk, skb);
		n->sk = sk;
		sk->rmem_alloc += (int)n->truesize;
	}
	return true;
}

static void tcp_collapse(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->rcv_loose)
		return;
	us_mib_inc(sk->st, US_MIB_TCP_PRUNE_CALLED);
	if (tcp_collapse_queue(sk, &sk->receive_queue) &&
	    tcp_collapse_queue(sk, &tp->ooo_queue))
		tp->rcv_loose = false;
}

/*
 * A socket past its receive buffer first collapses its queues, then frees
 * its out-of-order segments past seq, from the furthest on, until it is
 * within it again (Linux's tcp_prune_queue and tcp_prune_ofo_queue: the
 * peer sends them again). Blocks SACKed for them are withdrawn. True when
 * it is within its buffer: as in Linux's tcp_try_rmem_schedule, a buffer
 * is taken while the socket is within its own, even if that buffer then
 * takes it past (the window is reckoned in bytes, the buffer in truesize:
 * a GSO packet may cost twice its data).
 */
static bool tcp_prune_queue(struct sock *sk, uint32_t seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool pruned = false;

	/* Linux's tcp_prune_queue: the buffer grows to what is held if it
	 * may, else rcv_ssthresh falls (tcp_clamp_window); then collapse,
	 * then out-of-order data goes. */
	if (sk->rmem_alloc > sk->rcvbuf)
		tcp_clamp_window(sk);
	else if (tcp_under_memory_pressure(sk))
		tcp_adjust_rcv_ssthresh(sk);
	if (sk->rmem_alloc > sk->rcvbuf)
		tcp_collapse(sk);
	while (sk->rmem_alloc > sk->rcvbuf) {
		struct sk_buff *last = skb_peek_tail(&tp->ooo_queue);

		if (!last || !seq_gt(TCP_SKB_CB(last)->seq, seq))
			break;
		skb_unlink(&tp->ooo_queue, last);
		tcp_rmem_free(sk, last);
		us_mib_inc(sk->st, US_MIB_TCP_OFO_PRUNED);
		pruned = true;
	}
	if (pruned)
		tcp_sack_rcv_update(sk);
	return sk->rmem_alloc <= sk->rcvbuf;
}

/*
 * Room for in-order data (Linux's tcp_try_rmem_schedule): a socket past its
 * receive buffer first gives up out-of-order data, then drops what comes
 * (a peer sending in tiny segments what the window offered in bytes). The
 * first buffer of an empty queue is always taken, so that a reader is
 * never left waiting on an empty socket; data that fits in the last
 * buffer costs nothing more.
 */
static bool tcp_rmem_room(struct sock *sk, struct sk_buff *skb)
{
	if (skb_queue_empty(&sk->receive_queue) ||
	    sk->rmem_alloc <= sk->rcvbuf || tcp_coalesce_target(sk, skb))
		return true;
	return tcp_prune_queue(sk, TCP_SKB_CB(skb)->seq);
}

/* RFC 9293 §3.10.7.4, eighth check: the FIN is in order. ack_now: it
 * filled a hole (came from the out-of-order queue), which is ACKed at
 * once (RFC 5681 §4.2; Linux's ICSK_ACK_NOW). */
static void tcp_fin(struct sock *sk, bool ack_now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool delay = false;

	tcp_rcv_nxt_update(tp, tp->rcv_nxt + 1);
	sk->shutdown |= RCV_SHUTDOWN;
	tp->fin_rcvd = true;
	sock_purge_queue(sk, &tp->ooo_queue);
	tcp_sack_rcv_update(sk);
	switch (sk->state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		tcp_set_state(sk, TCP_CLOSE_WAIT);
		/* Linux's tcp_fin: interactive mode; the ACK waits the
		 * delay, for a reply or our own FIN to take it along (at
		 * once if no data came before: no delay yet, ato 0). */
		tp->pingpong = true;
		delay = !ack_now && tp->ato_ms &&
			tp->rcv_nxt - tp->rcv_wup <= tp->rcv_mss;
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN is not acknowledged yet: simultaneous close. */
		tcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2: {
		/* (An orphan's sock is gone after tcp_time_wait; a socket
		 * the user holds keeps it, closed.) */
		bool held = sk->sk_socket != NULL;

		tcp_send_ack(sk);
		tcp_time_wait(sk);
		if (held)
			sk_wake_async(sk, SOCK_WAKE_WAITD, POLL_HUP);
		return;
	}
	default:
		break;
	}
	if (delay)
		tcp_send_delayed_ack(sk);
	else
		tcp_send_ack(sk);
	if (sk->sk_socket) {
		sk_state_change(sk);
		/* Linux's tcp_fin: "Do not send POLL_HUP for half duplex
		 * close." */
		sk_wake_async(sk, SOCK_WAKE_WAITD,
				  sk->shutdown == SHUTDOWN_MASK ||
				  sk->state == TCP_CLOSE ? POLL_HUP : POLL_IN);
	}
}

/* Move segments that have become in-order from the out-of-order queue. */
static bool tcp_ofo_drain(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;
	bool fin = false;

	while ((skb = skb_peek(&tp->ooo_queue)) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		bool has_fin = cb->flags & TCPHDR_FIN;
		uint32_t data_end = cb->end_seq - (has_fin ? 1 : 0);

		if (seq_gt(cb->seq, tp->rcv_nxt))
			break;
		skb_unlink(&tp->ooo_queue, skb);
		/* Wholly behind RCV.NXT, a FIN in it too (a peer that moved
		 * its FIN): nothing new (Linux's tcp_ofo_queue). */
		if (!seq_gt(cb->end_seq, tp->rcv_nxt)) {
			tcp_rmem_free(sk, skb);
			continue;
		}
		/* (cb lives in skb: not to be read once it is freed) */
		if (seq_gt(data_end, tp->rcv_nxt)) {
			skb_pull(skb, tp->rcv_nxt - cb->seq);
			cb->seq = tp->rcv_nxt;
			tcp_rcv_nxt_update(tp, data_end);
			tcp_queue_rcv(sk, skb);
		} else {
			tcp_rmem_free(sk, skb);
		}
		if (has_fin) {
			fin = true;
			break;
		}
	}
	return fin;
}

/* A segment kept out of order grows the window too, but only with SACK:
 * without it the window stays, so that the duplicate ACKs that tell of
 * the hole are duplicates (Linux's tcp_data_queue_ofo). */
static void tcp_ofo_grow_window(struct sock *sk, const struct sk_buff *skb)
{
	if (tcp_sk(sk)->sack_ok)
		tcp_grow_window(sk, skb->len, skb->truesize);
}

/* Keep a segment from the future, in order of sequence, once. */
static void tcp_ofo_insert(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct sk_buff *it, *prev = NULL, *next;

	/* Charged as it is held (its truesize, not its payload: a segment
	 * of one byte holds a whole buffer); room is made from segments
	 * further on, else it is dropped. */
	if (!tcp_prune_queue(sk, cb->seq)) {
		tcp_drop(sk->st, skb, US_DROP_TCP_OFO_DROP);
		return;
	}
	tcp_info_ooo(sk);   /* (duplicates too, as Linux's rcv_ooopack) */
	skb = tcp_rmem_charge(sk, skb);
	cb = TCP_SKB_CB(skb);
	/* Behind a hole, segments mostly arrive in order: appending at the
	 * tail without a walk keeps a queue of thousands (a scaled window
	 * after one loss) from costing a walk per segment, and its SACK
	 * block only grows. */
	it = skb_peek_tail(&tp->ooo_queue);
	if (it && seq_leq(TCP_SKB_CB(it)->end_seq, cb->seq)) {
		skb_queue_tail(&tp->ooo_queue, skb);
		tcp_sack_ofo_append(sk, cb->seq, cb->end_seq);
		tcp_ofo_grow_window(sk, skb);
		return;
	}
	skb_queue_walk(&tp->ooo_queue, it) {
		struct tcp_skb_cb *icb = TCP_SKB_CB(it);

		if (seq_leq(icb->seq, cb->seq) && seq_geq(icb->end_seq, cb->end_seq)) {
			/* RFC 2883 §4: report the duplicate, then the
			 * block holding it. */
			tcp_dsack_set(sk, cb->seq, cb->end_seq);
			tcp_sack_ofo_event(sk, cb->seq);
			sock_rfree(sk, skb);
			tcp_drop(sk->st, skb, US_DROP_TCP_OFO_DUP);
			return;
		}
		if (seq_gt(icb->seq, cb->seq))
			break;
		prev = it;
	}
	if (prev)
		skb_queue_after(&tp->ooo_queue, prev, skb);
	else
		skb_queue_head(&tp->ooo_queue, skb);
	/* Segments the new one covers whole are of no more use (Linux's
	 * tcp_data_queue_ofo frees them). */
	while ((next = skb_queue_next(&tp->ooo_queue, skb)) != NULL &&
	       seq_leq(TCP_SKB_CB(next)->end_seq, cb->end_seq)) {
		skb_unlink(&tp->ooo_queue, next);
		sock_rfree(sk, next);
		tcp_drop(sk->st, next, US_DROP_TCP_OFO_MERGE);
	}
	tcp_sack_ofo_event(sk, cb->seq);
	tcp_ofo_grow_window(sk, skb);
}

/*
 * RFC 1122 §4.2.3.2: ACK at least every second full segment, within
 * 500 ms (Linux: 40 ms); at once for out-of-order data and in quick-ACK
 * mode (not in pingpong mode: tcp_delack.c). As Linux's
 * __tcp_ack_snd_check: "full" is the peer's segment size (rcv_mss), and
 * more than one of them since the window was last sent is owed an ACK
 * now only if the window moves on with it (the right edge not held back
 * by a reader who is behind: its read sends the ACK then) or a reader
 * waits for SO_RCVLOWAT bytes.
 */
static bool tcp_ack_due(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	return tp->rcv_nxt - tp->rcv_wup > tp->rcv_mss &&
	       (sk->receive_queue.bytes < (size_t)sk->rcvlowat ||
		__tcp_select_window(sk) >= tp->rcv_wnd);
}

static void tcp_schedule_ack(struct sock *sk, bool now)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (now || tcp_ack_due(sk) || tcp_delack_quick(tp)) {
		if (!now && tcp_ack_defer(sk))
			return;   /* one ACK at the end of the batch */
		tcp_send_ack(sk);
		return;
	}
	tcp_send_delayed_ack(sk);
}

/* RFC 9293 §3.10.7.4, seventh and eighth checks. Takes ownership. */
static void tcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool fin = cb->flags & TCPHDR_FIN;
	bool had_ooo = !skb_queue_empty(&tp->ooo_queue), fin_filled = false;
	uint32_t len = tcp_payload(skb);
	uint32_t wnd = tcp_receive_window(tp);

	/* Whatever becomes of it, an ACK is owed (Linux's tcp_data_queue
	 * schedules one on every path). */
	if (len || fin)
		tp->ack_sched = true;
	if (seq_lt(cb->seq, tp->rcv_nxt)) {
		uint32_t data_end = cb->end_seq - (fin ? 1 : 0);

		if (seq_leq(data_end, tp->rcv_nxt) && !(fin && data_end == tp->rcv_nxt)) {
			/* Entirely old: the peer missed our ACK. */
			tcp_dsack_set(sk, cb->seq, cb->end_seq);
			tcp_delack_enter_quickack(sk, TCP_MAX_QUICKACKS);
			tcp_send_ack(sk);
			tcp_drop(sk->st, skb, US_DROP_TCP_OLD_DATA);
			return;
		}
		/* RFC 2883 §4.1.1: the old part is a duplicate. */
		tcp_dsack_set(sk, cb->seq, tp->rcv_nxt);
		skb_pull(skb, tp->rcv_nxt - cb->seq);
		len = tcp_payload(skb);
		cb->seq = tp->rcv_nxt;
	}
	/* Data the window has no room for is dropped, and the window told
	 * again (Linux's tcp_data_queue): at RCV.NXT when the window is
	 * zero (a bare FIN still counts), or from its right edge on. */
	if (len && (cb->seq == tp->rcv_nxt ? wnd == 0
					   : !seq_lt(cb->seq, tp->rcv_nxt + wnd))) {
		tcp_delack_enter_quickack(sk, TCP_MAX_QUICKACKS);
		tcp_send_ack(sk);
		tcp_drop(sk->st, skb, wnd == 0 ? US_DROP_TCP_ZERO_WINDOW
					       : US_DROP_TCP_OVERWINDOW);
		return;
	}
	/* The skb pool is past its queue limit (skbuff.h): data is not
	 * kept, so that what remains serves the frames (ACKs above all)
	 * that free memory; the peer sends it again. Linux drops so when
	 * tcp_try_rmem_schedule fails under its tcp_mem limit. */
	if (len && !skb_pool_may_queue(&sk->st->skb_pool, 0)) {
		tcp_send_ack(sk);
		tcp_drop(sk->st, skb, US_DROP_TCP_POOL_FULL);
		return;
	}
	/* In the window, its CE mark counts: data's, and an out-of-order
	 * bare FIN's too, as Linux's tcp_data_queue_ofo checks every
	 * segment it queues (an in-order one only with data:
	 * tcp_event_data_recv). */
	if (len || cb->seq != tp->rcv_nxt)
		tcp_ecn_data_in(sk, tcp_skb_ip_ecn(skb));
	if (cb->seq != tp->rcv_nxt) {
		tcp_ofo_insert(sk, skb);
		tcp_send_ack(sk);   /* a duplicate ACK tells of the hole */
		return;
	}
	if (len && !tcp_rmem_room(sk, skb)) {
		tcp_send_ack(sk);
		tcp_drop(sk->st, skb, US_DROP_TCP_RCVQ_FULL);
		return;
	}
	if (len) {
		tcp_rcv_nxt_update(tp, tp->rcv_nxt + len);
		tp->last_rcv = sk->st->now;   /* (keepalive's clock) */
		uint32_t truesize = skb->truesize;

		tcp_delack_data_recv(sk, skb, cb->flags);
		tcp_rcv_rtt_measure(sk, skb);
		tcp_queue_rcv(sk, skb);
		/* (Linux's tcp_event_data_recv, with the segment queued) */
		if (len >= 128)
			tcp_grow_window(sk, len, truesize);
	} else {
		skb_free(skb);
	}
	/* A FIN in order ends the stream: what the out-of-order queue holds
	 * past it is purged (tcp_fin), not received. */
	if (!fin && tcp_ofo_drain(sk))
		fin = fin_filled = true;
	if (had_ooo)
		tcp_sack_rcv_update(sk);
	/* RFC 5681 §4.2: ACK at once while a hole remains, and when a
	 * segment fills one. */
	if (fin) {
		tcp_fin(sk, fin_filled);
	} else {
		tcp_schedule_ack(sk, had_ooo || !skb_queue_empty(&tp->ooo_queue) ||
				 tcp_rx(tp)->ecn_ack_now);
	}
	/* A FIN alone wakes readers too (Linux's tcp_data_queue calls
	 * tcp_data_ready after tcp_fin: SOCK_DONE), with O_ASYNC a second
	 * POLL_IN after tcp_fin's. */
	if ((len || fin) && sk->sk_socket)
		sk_data_ready(sk);
}

/*
 * The data of a Fast Open SYN, or of the SYN-ACK answering ours, is taken
 * in order at once (Linux's tcp_fastopen_add_skb; RFC 7413 §4.2.2 for the
 * server, RFC 9293 §3.10.7.3 for data on a SYN-ACK). Takes ownership.
 */
static void tcp_fastopen_add_skb(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t len = tcp_payload(skb);
	bool fin = cb->flags & TCPHDR_FIN;

	cb->seq++;   /* past the SYN */
	cb->end_seq = cb->seq + len;
	cb->flags &= (uint8_t)~(TCPHDR_SYN | TCPHDR_FIN);
	if (len) {
		tcp_rcv_nxt_update(tp, cb->end_seq);
		tp->syn_data_acked = true;
		tcp_queue_rcv(sk, skb);
	} else {
		skb_free(skb);
	}
	if (fin)
		tcp_fin(sk, false);
}

/* ---- LISTEN (RFC 9293 §3.10.7.2) ---------------------------------------- */

/*
 * TCP_SAVE_SYN (Linux's tcp_reqsk_record_syn): the SYN's IP and TCP
 * headers, and its link header under 2, kept for the connection's
 * TCP_SAVED_SYN to read once. Without memory, nothing is kept.
 */
static void tcp_save_syn(struct sock *sk, const struct sk_buff *skb,
			 const struct tcp_seg *th)
{
	const unsigned char *from = skb_network_header(skb);
	const unsigned char *to = skb_transport_header(skb) + th->doff;
	struct sock_ext *e;

	if (tcp_sk(sk)->save_syn == 2 && skb->mac_header != SKB_HDR_UNSET &&
	    skb_mac_header(skb) < from)
		from = skb_mac_header(skb);
	if (to <= from || to - from > UINT16_MAX || !(e = sock_ext(sk, true)))
		return;
	free(e->saved_syn);
	e->saved_syn = malloc((size_t)(to - from));
	e->saved_syn_len = e->saved_syn ? (uint16_t)(to - from) : 0;
	if (e->saved_syn)
		memcpy(e->saved_syn, from, e->saved_syn_len);
}

static struct sock *tcp_new_child(struct sock *lsk, const struct sk_buff *skb,
				  const struct tcp_seg *th)
{
	const uint8_t *iph = skb_network_header(skb);
	struct tcp_sock *ltp = tcp_sk(lsk);
	struct ip_route rt;
	struct sock *sk;
	struct tcp_sock *tp;

	sk = tcp_create_child(lsk);
	if (!sk)
		return NULL;
	tp = tcp_sk(sk);
	memcpy(&sk->rcv_saddr, iph + 16, 4);
	memcpy(&sk->daddr, iph + 12, 4);
	sk->saddr = sk->rcv_saddr;
	sk->dport = htons(th->sport);
	if (ip_route_output_oif(sk->st, sk->daddr, sk->bound_dev_if, &rt) < 0) {
		sock_put(sk);
		return NULL;
	}
	tp->advmss = (uint16_t)(rt.mtu - 40);
	/* The SYN's IP options echoed are the child's own, on its SYN-ACK
	 * and on (Linux's tcp_v4_save_options); the listener's are not
	 * inherited. */
	ip_sock_options_echo(sk, skb);
	tp->irs = th->seq;
	tp->irs_valid = true;
	tp->rcv_nxt = th->seq + 1;
	tp->rcv_wup = tp->rcv_nxt;
	tp->iss = TCP_SKB_CB(skb)->tw_isn ? TCP_SKB_CB(skb)->tw_isn :
		  tcp_isn(sk->st, sk->rcv_saddr, sk->sport, sk->daddr, sk->dport);
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
	tp->high_seq = tp->iss;   /* RFC 6582 §3.2 step 1: recover = ISS */
	tp->write_seq = tp->iss + 1;
	tp->snd_wnd = th->window;   /* RFC 7323 §2.2: a SYN's window is unscaled */
	tp->snd_wl1 = th->seq;
	tp->snd_wl2 = tp->iss;
	tp->last_rcv = sk->st->now;
	tcp_apply_syn_options(tp, th);
	tcp_ts_init_child(sk, th);
	tcp_ecn_syn_in(sk, th->flags, skb_transport_header(skb)[12],
		       tcp_skb_ip_ecn(skb));
	tp->save_syn = ltp->save_syn;
	if (ltp->save_syn)
		tcp_save_syn(sk, skb, th);
	tcp_set_state(sk, TCP_SYN_RECV);
	/* (TCP_INFO: the SYN is its first segment in; the SYN-ACK is the
	 * request's in Linux, none of its own out) */
	tp->passive_open = true;
	tcp_info_seg_in(tp, 0);
	tp->parent = ltp;
	tp->child_queue = TCP_CHILD_SYNQ;
	list_add_tail(&tp->child_node, &ltp->syn_queue);
	ltp->syn_qlen++;
	tcp_ehash_add(sk);
	return sk;
}

/*
 * A Fast Open child (RFC 7413 §4.2.2, Linux's tcp_fastopen_create_child):
 * the SYN's data is taken, and the connection is offered to accept() at
 * once, in SYN_RECV, counted in the listener's Fast Open queue until its
 * handshake ends. Takes the SYN.
 */
static void tcp_fastopen_child(struct sock *lsk, struct sock *sk,
			       struct sk_buff *skb)
{
	struct tcp_sock *ltp = tcp_sk(lsk), *tp = tcp_sk(sk);

	/* It may send before the handshake ends, as Linux's child, made
	 * whole then (tcp_fastopen_create_child, tcp_init_transfer): its
	 * SYN-ACK is the request's, outside its flight (SND.UNA past it;
	 * tcp_fastopen_send_synack), its largest window the SYN's, its
	 * send buffer the initial window's. */
	tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss + 1;
	tp->snd_sml = tp->snd_una;
	tp->pushed_seq = tp->write_seq;
	tp->snd_wl2 = tp->snd_una;
	tp->max_window = tp->snd_wnd;
	tcp_update_mss(tp);
	tcp_ca_init_transfer(sk);
	tcp_sndbuf_expand(sk);
	tcp_fastopen_add_skb(sk, skb);
	tp->rcv_wup = tp->rcv_nxt;
	tp->fastopen_child = true;
	tp->tfo_child = true;
	ltp->fastopen_qlen++;
	list_del(&tp->child_node);
	ltp->syn_qlen--;
	list_add_tail(&tp->child_node, &ltp->accept_queue);
	ltp->accept_qlen++;
	tp->child_queue = TCP_CHILD_ACCEPTQ;
}

static void tcp_listen_input(struct sock *lsk, struct sk_buff *skb,
			     const struct tcp_seg *th, uint32_t seglen)
{
	struct tcp_sock *ltp = tcp_sk(lsk);
	struct ustack *st = lsk->st;
	int qmax = ltp->max_backlog > 0 ? ltp->max_backlog : 1;
	struct tcp_fastopen_cookie foc;
	struct sock *child;

	if (th->flags & TCPHDR_RST) {
		tcp_drop(st, skb, US_DROP_TCP_RESET_IGNORED);
		return;
	}
	if (th->flags & TCPHDR_ACK) {
		tcp_v4_send_reset(st, skb, th, seglen);
		tcp_drop(st, skb, US_DROP_TCP_NO_SOCKET);
		return;
	}
	/* A SYN+FIN is no way to open a connection (Linux drops it too). */
	if ((th->flags & (TCPHDR_SYN | TCPHDR_FIN)) != TCPHDR_SYN) {
		tcp_drop(st, skb, US_DROP_TCP_FLAGS);
		return;
	}
	/* Linux drops a SYN when the accept queue is over the backlog, or
	 * the SYN queue is full (we have no SYN cookies). */
	if (ltp->accept_qlen > ltp->max_backlog || ltp->syn_qlen >= qmax) {
		us_mib_inc(st, US_MIB_TCP_LISTEN_OVERFLOWS);
		tcp_drop(st, skb, US_DROP_TCP_LISTEN_OVERFLOW);
		return;
	}
	child = tcp_new_child(lsk, skb, th);
	if (!child) {
		tcp_drop(st, skb, US_DROP_NOMEM);
		return;
	}
	us_mib_inc(st, US_MIB_TCP_PASSIVE_OPENS);
	if (tcp_try_fastopen(lsk, skb, th, &foc)) {
		tcp_fastopen_child(lsk, child, skb);
		tcp_fastopen_send_synack(child, &foc);
		tcp_reset_rto_timer(child);
		if (lsk->sk_socket)
			sk_data_ready(lsk);
		return;
	}
	tcp_send_synack(child, &foc);
	skb_free(skb);
}

/* ---- SYN-SENT (RFC 9293 §3.10.7.3) -------------------------------------- */

static void tcp_rcv_synsent(struct sock *sk, struct sk_buff *skb,
			    const struct tcp_seg *th, uint32_t seglen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct ustack *st = sk->st;
	bool ack = th->flags & TCPHDR_ACK, fo_done = false;

	/* TCP_FASTOPEN_CONNECT's connection before its first write: no SYN
	 * went, so no ACK is acceptable and there is nothing to answer a
	 * SYN with (Linux's snd_una and snd_nxt are 0 then). */
	if (tp->defer_connect) {
		if (ack && !(th->flags & TCPHDR_RST))
			tcp_v4_send_reset(st, skb, th, seglen);
		tcp_drop(st, skb, US_DROP_TCP_BAD_ACK);
		return;
	}
	if (ack && (seq_leq(th->ack, tp->iss) || seq_gt(th->ack, tp->snd_max))) {
		/* The peer may hold an old half-open connection that our
		 * RST now clears: the SYN goes again soon, unless it was
		 * sent again already (Linux's tcp_rcv_synsent_state_process:
		 * "Previous FIN/ACK or RST/ACK might be ignored"). */
		if (!tp->retransmits)
			tcp_reset_rto_timer_in(sk, TCP_TIMEOUT_MIN_US);
		tcp_v4_send_reset(st, skb, th, seglen);
		tcp_drop(st, skb, US_DROP_TCP_BAD_ACK);
		return;
	}
	if (th->flags & TCPHDR_RST) {
		if (ack)
			tcp_reset(sk);
		tcp_drop(st, skb, US_DROP_TCP_RESET);
		return;
	}
	if (!(th->flags & TCPHDR_SYN)) {
		tcp_drop(st, skb, US_DROP_TCP_FLAGS);
		return;
	}
	/* A SYN without ACK (a simultaneous open) older than TS.Recent,
	 * which only a TIME_WAIT entry taken over at connect() gives here
	 * (tcp_twsk_unique), is the old connection's: PAWS drops it (RFC
	 * 7323 §5.3 R1, Linux's tcp_rcv_synsent_state_process). */
	if (!ack && tp->ts_recent_stamp && tp->ts_offered && th->opts.ts_ok &&
	    !tcp_paws_fresh(tp->ts_recent, tp->ts_recent_stamp,
			    th->opts.tsval, 0, st->now)) {
		tcp_drop(st, skb, US_DROP_TCP_RFC7323_PAWS);
		return;
	}
	tp->irs = th->seq;
	tp->irs_valid = true;
	tp->rcv_nxt = th->seq + 1;
	tp->rcv_wup = tp->rcv_nxt;
	tcp_apply_syn_options(tp, th);
	tcp_ts_synsent_options(sk, th);
	if (ack)
		tcp_ecn_synack_in(sk, th->flags);
	else   /* (a simultaneous open: the peer's SYN asks, or not) */
		tcp_ecn_simul_syn_in(sk, th->flags);
	tcp_ts_note(tp, th);
	if (ack) {
		/* Our SYN carried data (Fast Open) */
		bool syn_data = tp->snd_max != tp->iss + 1;
		uint32_t part;

		/* Data the SYN-ACK does not acknowledge stays, on its own
		 * (without memory for that, the SYN-ACK is not taken). */
		if (syn_data && seq_lt(th->ack, tp->snd_max) &&
		    tcp_fastopen_split_syn(sk, skb_peek(&sk->write_queue)) < 0) {
			tcp_drop(st, skb, US_DROP_NOMEM);
			return;
		}
		tp->snd_una = th->ack;
		tcp_clean_rtx_queue(sk, th->ack, &part);
		tp->delivered++;   /* (the SYN: TCP_INFO) */
		tp->snd_wnd = th->window;
		tp->snd_wl1 = th->seq;
		tp->snd_wl2 = th->ack;
		tp->max_window = th->window;
		tp->retransmits = 0;
		tp->retrans_stamp = 0;
		tp->backoff = 0;
		tcp_init_established(sk);
		/* (After: Fast Open data still in flight is timed by the RTO
		 * the handshake leaves, 3 s without a sample.) */
		tcp_rearm_rto(sk);
		/* Fast Open: the cookie learnt; data not acknowledged goes
		 * again with the ACK; data on the SYN-ACK is taken. */
		if ((tp->syn_fastopen || syn_data) &&
		    tcp_fastopen_synack(sk, th, syn_data)) {
			fo_done = true;
		} else if (tp->syn_fastopen || syn_data) {
			tcp_urg(sk, skb, th);
			tcp_fastopen_add_skb(sk, skb);
			skb = NULL;
		}
		/* TCP_QUICKACK 0 (pingpong mode): the ACK waits up to
		 * 200 ms for data to take it along (Linux's
		 * tcp_rcv_synsent_state_process). */
		if (!fo_done && !tcp_delack_synsent(sk))
			tcp_send_ack(sk);
		/* Linux's tcp_rcv_synsent_state_process: connected, the
		 * O_ASYNC owner hears POLL_OUT. */
		if (sk->sk_socket) {
			sk_state_change(sk);
			sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
		}
		if (skb) {
			tcp_urg(sk, skb, th); /* Linux: "step6 onward by hand" */
			skb_free(skb);
		}
		return;
	}
	/* RFC 9293 §3.5 simultaneous open: our SYN becomes a SYN-ACK. */
	tcp_set_state(sk, TCP_SYN_RECV);
	tp->snd_wnd = th->window;
	tp->snd_wl1 = th->seq;
	tcp_send_simul_synack(sk);
	skb_free(skb);
}

/*
 * The socket's filter (a child in SYN_RECV: its listener's, as Linux's
 * request sock; not a Fast Open child, a full socket there), on the
 * segment from its TCP header, never cutting into that; what it cuts off
 * is not received (Linux's tcp_filter, then tcp_v4_fill_cb). A drop
 * counts on the filtering socket. False when it dropped the segment.
 */
static bool tcp_filter(struct sock *sk, struct sk_buff *skb,
		       const struct tcp_seg *th, uint32_t *seglen)
{
	struct tcp_sock *tp = tcp_sk(sk), *parent = tp->parent;
	struct sock *fsk = sk->state == TCP_SYN_RECV && parent &&
			   !tp->fastopen_child ? &parent->sk : sk;

	if (!fsk->filter)
		return true;
	if (!sk_filter_trim(fsk, skb, skb->data - th->doff, th->doff)) {
		fsk->drops++;
		tcp_drop(sk->st, skb, US_DROP_SOCKET_FILTER);
		return false;
	}
	*seglen = skb->len + ((th->flags & TCPHDR_SYN) ? 1 : 0) +
		  ((th->flags & TCPHDR_FIN) ? 1 : 0);
	TCP_SKB_CB(skb)->end_seq = th->seq + *seglen;
	return true;
}

/* ---- TIME-WAIT ----------------------------------------------------------- */

/* A segment for a TIME_WAIT entry (tcp_timewait.c); a SYN that may reopen
 * the pair goes to the listener, as Linux's tcp_v4_rcv does with
 * TCP_TW_SYN, or is ACKed when nobody listens. */
static void tcp_timewait_input(struct ustack *st, struct tcp_tw *tw,
			       struct sk_buff *skb, const struct tcp_seg *th,
			       uint32_t seglen)
{
	uint32_t isn = tcp_tw_state_process(st, tw, skb, th, seglen);
	struct sock *lsk;

	if (!isn)
		return;
	lsk = tcp_reuseport_listener(tcp_lookup_listener(st, tw->laddr,
							 tw->lport,
							 ip_iif(st, skb)),
				     skb, tw->faddr, tw->fport);
	if (!lsk) {
		tcp_tw_send_ack(st, tw, skb);
		tcp_drop(st, skb, US_DROP_TCP_INVALID_SEQ);
		return;
	}
	tcp_tw_kill(st, tw);
	/* The listener's IP_MINTTL, as for any segment it gets (Linux goes
	 * to tcp_v4_rcv's check with the TIME_WAIT entry gone). */
	if (skb_network_header(skb)[8] < lsk->min_ttl) {
		us_mib_inc(st, US_MIB_TCP_MINTTL_DROP);
		tcp_drop(st, skb, US_DROP_TCP_MINTTL);
		return;
	}
	if (!tcp_filter(lsk, skb, th, &seglen))
		return;
	TCP_SKB_CB(skb)->tw_isn = isn;
	tcp_listen_input(lsk, skb, th, seglen);
}

/* ---- synchronized states (RFC 9293 §3.10.7.4) --------------------------- */

/*
 * RFC 7323 §5.3 R1, before the sequence check: a segment whose timestamp
 * is older than TS.Recent is a duplicate from an earlier wrap of the
 * sequence space (or a forgery): dropped, and answered with an ACK as
 * an out-of-window segment is (Linux's tcp_validate_incoming). Returns
 * true when the segment was dropped.
 */
static bool tcp_paws_discard(struct sock *sk, struct sk_buff *skb,
			     const struct tcp_seg *th, uint32_t seglen)
{
	enum tcp_paws_verdict v = tcp_paws_check(sk, skb, th);

	if (v == TCP_PAWS_OK)
		return false;
	if (v == TCP_PAWS_REJECT) {
		if (th->flags & TCPHDR_SYN)
			tcp_send_challenge_ack(sk);
		else
			tcp_send_oow_ack(sk, th, seglen);
	}
	tcp_drop(sk->st, skb, v == TCP_PAWS_DROP ? US_DROP_TCP_RFC7323_PAWS_ACK
						 : US_DROP_TCP_RFC7323_PAWS);
	return true;
}

/* First check: is the segment in the window? (Linux's tcp_sequence). */
static bool tcp_sequence_ok(const struct tcp_sock *tp, uint32_t seq,
			    uint32_t end_seq)
{
	return !seq_lt(end_seq, tp->rcv_wup) &&
	       !seq_gt(seq, tp->rcv_nxt + tcp_receive_window(tp));
}

/* Linux's tcp_reset_check(): after the peer's FIN, its RST may carry the
 * FIN's sequence number. */
static bool tcp_rst_after_fin(const struct sock *sk, uint32_t seq)
{
	return seq == tcp_sk((struct sock *)sk)->rcv_nxt - 1 &&
	       (sk->state == TCP_CLOSE_WAIT || sk->state == TCP_CLOSING ||
		sk->state == TCP_LAST_ACK);
}

/*
 * Simultaneous open (RFC 9293 §3.5): in SYN-RECEIVED after our SYN crossed
 * the peer's, the peer's SYN-ACK acknowledging ours completes the
 * handshake like an ACK (Linux lets exactly this segment pass); any other
 * SYN is answered as a SYN in a synchronized state.
 */
static bool tcp_simultaneous_synack(const struct sock *sk,
				    const struct tcp_seg *th,
				    const struct tcp_skb_cb *cb)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return sk->state == TCP_SYN_RECV && !tp->parent &&
	       (th->flags & TCPHDR_ACK) && cb->seq == tp->irs &&
	       cb->end_seq == tp->rcv_nxt && th->ack == tp->snd_max;
}

/*
 * Linux's syn_ack_recalc: a child whose ACK came under TCP_DEFER_ACCEPT
 * sends no SYN-ACK at its timeouts (the peer is there) until the last
 * one of the deferral, which gives the peer's ACK of it a chance to
 * complete the connection; and expires only once that count and
 * tcp_synack_retries are both reached.
 */
bool tcp_defer_accept_waits(const struct tcp_sock *tp, bool resend)
{
	unsigned int defer;

	if (tp->sk.state != TCP_SYN_RECV || !tp->parent || !tp->defer_acked)
		return false;
	defer = tp->parent->defer_accept;
	return resend ? tp->retransmits + 1u < defer : tp->retransmits < defer;
}

/* SYN-RECEIVED and the ACK of our SYN: the connection is up. Returns
 * false when the segment must be dropped. */
static bool tcp_synrecv_ack(struct sock *sk, struct sk_buff *skb,
			    const struct tcp_seg *th, uint32_t seglen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sock *parent = tp->parent;
	/* (A Fast Open child's SND.UNA is past its SYN-ACK already.) */
	uint32_t una = tp->fastopen_child ? tp->iss : tp->snd_una;

	if (seq_leq(th->ack, una) || seq_gt(th->ack, tp->snd_max)) {
		tcp_v4_send_reset(sk->st, skb, th, seglen);
		tcp_drop(sk->st, skb, US_DROP_TCP_BAD_ACK);
		return false;
	}
	/* TCP_DEFER_ACCEPT (Linux's tcp_check_req): a handshake ACK
	 * without data (nor FIN) is dropped, remembered, while the SYN-ACK
	 * has timed out fewer times than the listener's count; the data
	 * that follows completes the connection, else the ACK of the last
	 * SYN-ACK sent does (tcp_timer.c). */
	if (parent && !tp->fastopen_child &&
	    tp->retransmits < parent->defer_accept &&
	    TCP_SKB_CB(skb)->end_seq == tp->irs + 1) {
		tcp_ts_update_recent(tp, TCP_SKB_CB(skb)->seq);
		tp->defer_acked = true;
		us_mib_inc(sk->st, US_MIB_TCP_DEFER_ACCEPT_DROP);
		tcp_drop(sk->st, skb, US_DROP_TCP_DEFER_ACCEPT);
		return false;
	}
	if (parent && !tp->fastopen_child &&
	    parent->accept_qlen > parent->max_backlog) {
		/* Linux drops the ACK; our SYN-ACK will be sent again, or
		 * under TCP_DEFER_ACCEPT not before its deferral's end
		 * (tcp_check_req's acked). */
		tp->defer_acked = true;
		us_mib_inc(sk->st, US_MIB_TCP_LISTEN_OVERFLOWS);
		tcp_drop(sk->st, skb, US_DROP_TCP_LISTEN_OVERFLOW);
		return false;
	}
	tp->snd_wnd = tcp_peer_window(tp, th);
	/* (A Fast Open child's SND.WL1 stays its SYN's, as Linux's
	 * tcp_init_wl at its creation: its tcp_ack takes this newer ACK for
	 * a window update, no duplicate ACK of the data it sent.) */
	if (!tp->fastopen_child)
		tp->snd_wl1 = TCP_SKB_CB(skb)->seq;
	tp->snd_wl2 = th->ack;
	tp->max_window = tp->snd_wnd;
	/* Linux's tcp_try_undo_spurious_syn: the ACK echoes the TSval of our
	 * first SYN-ACK, which thus arrived; its timeouts were spurious. */
	if (tp->syn_timed_out && tp->tstamp_ok && th->opts.ts_ok &&
	    th->opts.tsecr == tp->syn_tsval)
		tp->syn_timed_out = false;
	/* A Fast Open child's SYN-ACK, sent once, gives an RTT sample
	 * (Linux's tcp_synack_rtt_meas); others' come from their queue. */
	if (tp->fastopen_child && !tp->retransmits && !tp->srtt_us)
		tcp_rtt_sample(tp, sk->st->now - tp->retrans_stamp);
	tcp_init_established(sk);
	if (parent && !tp->fastopen_child) {   /* (the ACK that made
						  Linux's child) */
		tcp_info_synack_done(sk);
		tcp_info_seg_in(tp, tcp_payload(skb));
	} else if (!tp->fastopen_child) {
		/* A simultaneous open: the SYN-ACK's delivery beside the
		 * SYN's (Linux's tcp_rcv_state_process counts it in
		 * SYN_RECV by hand). (Not a Fast Open child's, accepted and
		 * so without a parent: tcp_fastopen_synack_done counts.) */
		tp->delivered++;
	}
	if (tp->fastopen_child) {
		/* A Fast Open child is on the accept queue, or accepted,
		 * already; its writers may go on, and data it sent is timed
		 * from now (Linux's tcp_rcv_synrecv_state_fastopen). */
		tcp_fastopen_synack_done(sk);
		if (sk->sk_socket)
			sk_state_change(sk);
	} else if (parent) {
		/* TCP_QUICKACK 0 set on the listener after listen(), as
		 * Linux's child has it when the request becomes one; and
		 * the listener's filter as it is now (sk_clone_lock). */
		tp->pingpong = parent->pingpong;
		sk_filter_clone(sk, &parent->sk);
		list_del(&tp->child_node);
		parent->syn_qlen--;
		list_add_tail(&tp->child_node, &parent->accept_queue);
		parent->accept_qlen++;
		tp->child_queue = TCP_CHILD_ACCEPTQ;
		if (parent->sk.sk_socket)
			sk_data_ready(&parent->sk);
	} else if (sk->sk_socket) {
		/* A simultaneous open (Linux's tcp_rcv_state_process in
		 * SYN_RECV: "only for marginal crossed SYN case"). */
		sk_state_change(sk);
		sk_wake_async(sk, SOCK_WAKE_IO, POLL_OUT);
	}
	return true;
}

/*
 * The ACK of an orphan's FIN (Linux's tcp_rcv_state_process in FIN_WAIT1):
 * with a negative TCP_LINGER2 it waits for nothing more; the connection
 * ends and the ACK is answered with a RST (TCPAbortOnData). False when it
 * did so (skb freed).
 */
static bool tcp_orphan_fin_wait2(struct sock *sk, struct sk_buff *skb,
				 const struct tcp_seg *th, uint32_t seglen)
{
	if (tcp_sk(sk)->linger2_s >= 0) {
		tcp_fin_wait2_timeout(sk);
		return true;
	}
	us_mib_inc(sk->st, US_MIB_TCP_ABORT_ON_LINGER);
	tcp_done(sk);
	tcp_v4_send_reset(sk->st, skb, th, seglen);
	tcp_drop(sk->st, skb, US_DROP_TCP_CLOSED);
	return false;
}

/* After the ACK: what it means in the closing states. Returns false when
 * the segment is finished with (and freed). */
static bool tcp_closing_states(struct sock *sk, struct sk_buff *skb,
			       const struct tcp_seg *th, uint32_t seglen)
{
	struct tcp_sock *tp = tcp_sk(sk);

	switch (sk->state) {
	case TCP_FIN_WAIT1:
		if (tcp_fin_acked(tp)) {
			tcp_set_state(sk, TCP_FIN_WAIT2);
			if (!sk->sk_socket)
				return tcp_orphan_fin_wait2(sk, skb, th, seglen);
			sk_state_change(sk);
		}
		return true;
	case TCP_CLOSING:
		if (tcp_fin_acked(tp)) {
			tcp_time_wait(sk);
			skb_free(skb);
			return false;
		}
		return true;
	case TCP_LAST_ACK:
		if (tcp_fin_acked(tp)) {
			skb_free(skb);
			tcp_done(sk);
			return false;
		}
		return true;
	default:
		return true;
	}
}

static void tcp_rcv_state_process(struct sock *sk, struct sk_buff *skb,
				  const struct tcp_seg *th, uint32_t seglen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct ustack *st = sk->st;
	enum us_drop_reason why;
	uint32_t prior_una, prior_nxt;

	/* (Keepalive's clock, last_rcv, moves only for an acceptable ACK or
	 * data taken in: not for a segment the checks below refuse, which
	 * anyone off the path may send.) */
	tcp_ts_note(tp, th);
	if (tcp_paws_discard(sk, skb, th, seglen))
		return;
	if (!tcp_sequence_ok(tp, cb->seq, cb->end_seq)) {
		if (th->flags & TCPHDR_SYN) {
			tcp_send_challenge_ack(sk);
		} else if (!(th->flags & TCPHDR_RST)) {
			/* Old data again: a D-SACK (Linux's tcp_send_dupack). */
			if (seglen && seq_lt(cb->seq, tp->rcv_nxt))
				tcp_dsack_set(sk, cb->seq, cb->end_seq);
			tcp_send_oow_ack(sk, th, seglen);
		} else if (tcp_rst_after_fin(sk, cb->seq)) {
			tcp_reset(sk);
		}
		tcp_drop(st, skb, US_DROP_TCP_INVALID_SEQ);
		return;
	}
	if (th->flags & TCPHDR_RST) {
		if (cb->seq == tp->rcv_nxt || tcp_rst_after_fin(sk, cb->seq))
			tcp_reset(sk);
		else
			tcp_send_challenge_ack(sk);
		tcp_drop(st, skb, US_DROP_TCP_RESET);
		return;
	}
	if ((th->flags & TCPHDR_SYN) && !tcp_simultaneous_synack(sk, th, cb)) {
		/* A SYN-RECEIVED child seeing its SYN again: the SYN-ACK
		 * was lost, send it again. */
		if (sk->state == TCP_SYN_RECV && cb->seq == tp->irs &&
		    !tp->fastopen_child) {
			/* Its TSval is the one to echo (Linux's
			 * tcp_check_req), and one SYN-ACK per 500 ms at
			 * most answers a stream of them (Linux's
			 * tcp_oow_rate_limited there: each one sent counts
			 * in total_retrans, which bounds the D-SACKs
			 * believed). */
			tcp_ts_update_recent(tp, cb->seq);
			if (!tcp_oow_rate_limited(sk))
				tcp_retransmit_head(sk);
		} else {
			tcp_send_challenge_ack(sk);
		}
		tcp_drop(st, skb, US_DROP_TCP_SYN_IN_WINDOW);
		return;
	}
	if (!(th->flags & TCPHDR_ACK)) {
		tcp_drop(st, skb, US_DROP_TCP_FLAGS);
		return;
	}
	if (sk->state == TCP_SYN_RECV && !tcp_synrecv_ack(sk, skb, th, seglen))
		return;
	tcp_ecn_in(sk, tcp_skb_ip_ecn(skb));
	prior_una = tp->snd_una;
	prior_nxt = tp->snd_nxt;
	why = tcp_ack(sk, skb, th);
	if (why != US_DROP_NOT_DROPPED) {
		tcp_send_challenge_ack(sk);
		tcp_drop(st, skb, why);
		return;
	}
	/* A Fast Open child closed before its handshake's end (FIN_WAIT1):
	 * an acceptable ACK ends the handshake too (Linux's
	 * tcp_rcv_state_process: tcp_rcv_synrecv_state_fastopen there). */
	if (tp->fastopen_child && sk->state != TCP_SYN_RECV)
		tcp_fastopen_synack_done(sk);
	/* The ACK may have opened the window or the congestion window, in
	 * any state that still has data (or a FIN) to send. */
	tcp_write_xmit(sk, true);
	tcp_ack_probe(sk);
	/* Room freed, or unsent data gone (a window update): writers hear
	 * of it once what the ACK let go has gone (Linux's
	 * tcp_data_snd_check, then tcp_check_space), so that
	 * TCP_NOTSENT_LOWAT's test, and O_ASYNC's with it, sees it. */
	if ((tp->snd_una != prior_una || tp->snd_nxt != prior_nxt) &&
	    sk->sk_socket) {
		sk_write_space(sk);
		tcp_check_space(sk);
	}
	if (!tcp_closing_states(sk, skb, th, seglen))
		return;
	tcp_urg(sk, skb, th);   /* sixth check: URG */
	if (seglen == 0 || sk->state == TCP_CLOSE_WAIT ||
	    sk->state == TCP_CLOSING || sk->state == TCP_LAST_ACK) {
		/* Nothing to receive, or the peer's FIN came already: new
		 * data is ignored, and an old segment (the FIN again, our
		 * ACK of it lost) is acknowledged again, as Linux's
		 * tcp_data_queue does. */
		if (seglen && seq_lt(cb->seq, tp->rcv_nxt)) {
			tcp_send_ack(sk);
			tcp_drop(st, skb, US_DROP_TCP_OLD_DATA);
			return;
		}
		skb_free(skb);
		return;
	}
	if ((!sk->sk_socket || sk->shutdown == SHUTDOWN_MASK) &&
	    (sk->state == TCP_FIN_WAIT1 || sk->state == TCP_FIN_WAIT2) &&
	    seq_gt(cb->end_seq - ((cb->flags & TCPHDR_FIN) ? 1 : 0),
		   tp->rcv_nxt)) {
		/* RFC 1122 §4.2.2.13 / RFC 2525: new data for a socket the
		 * user closed (or one still lingering in close(), its
		 * shutdown already complete, as Linux's RCV_SHUTDOWN test in
		 * tcp_rcv_state_process) cannot be delivered: reset, and a
		 * lingering close() hears ECONNRESET (Linux's tcp_reset).
		 * Old data that only brings the FIN along (a retransmission
		 * the peer merged with it) is not new: the FIN is taken. */
		tcp_v4_send_reset(st, skb, th, seglen);
		tcp_reset(sk);
		tcp_drop(st, skb, US_DROP_TCP_CLOSED);
		return;
	}
	tcp_data_queue(sk, skb);
}

/* ---- entry --------------------------------------------------------------- */

static bool tcp_checksum_ok(const struct sk_buff *skb, uint32_t saddr,
			    uint32_t daddr)
{
	uint32_t sum;

	if (skb->ip_summed == CHECKSUM_UNNECESSARY)
		return true;
	sum = csum_tcpudp_nofold(saddr, daddr, IPPROTO_TCP, (uint16_t)skb->len, 0);
	return csum_fold(csum_partial(skb->data, skb->len, sum)) == 0;
}

void tcp_v4_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	const uint8_t *iph = skb_network_header(skb);
	struct tcp_seg th;
	enum us_drop_reason why;
	uint32_t saddr, daddr, seglen;
	struct sock *sk;
	struct tcp_skb_cb *cb;
	int dif;

	us_mib_inc(st, US_MIB_TCP_IN_SEGS);
	st->tcp.rx.ecn_ack_now = false;   /* (tcp_ecn_accept_cwr sets it) */
	skb_reset_transport_header(skb);
	memcpy(&saddr, iph + 12, 4);
	memcpy(&daddr, iph + 16, 4);
	why = tcp_parse_header(skb->data, skb->len, &th);
	if (why == US_DROP_NOT_DROPPED && !tcp_checksum_ok(skb, saddr, daddr))
		why = US_DROP_TCP_BAD_CSUM;
	/* TCP is unicast only (RFC 1122 §4.2.3.10). */
	if (why == US_DROP_NOT_DROPPED && ip_addr_type(st, daddr) != IP_ADDR_LOCAL)
		why = US_DROP_TCP_NOT_UNICAST;
	if (why != US_DROP_NOT_DROPPED) {
		us_mib_inc(st, US_MIB_TCP_IN_ERRS);
		tcp_drop(st, skb, why);
		return;
	}
	/* RFC 2385 §2.0: a segment signed with TCP-MD5 where no key is set up
	 * (ustack has none) is dropped unanswered; a reset could not be
	 * signed either (Linux's tcp_inbound_hash, TCPMD5Unexpected). */
	if (th.opts.md5) {
		tcp_drop(st, skb, US_DROP_TCP_MD5_UNEXPECTED);
		return;
	}
	skb_pull(skb, th.doff);
	seglen = skb->len + ((th.flags & TCPHDR_SYN) ? 1 : 0) +
		 ((th.flags & TCPHDR_FIN) ? 1 : 0);
	cb = TCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = th.seq;
	cb->end_seq = th.seq + seglen;
	cb->flags = th.flags;

	dif = ip_iif(st, skb);
	sk = tcp_lookup_established(st, saddr, htons(th.sport), daddr,
				    htons(th.dport), dif);
	if (!sk) {
		struct tcp_tw *tw = tcp_tw_lookup(st, dif, saddr,
						  htons(th.sport), daddr,
						  htons(th.dport));

		if (tw) {
			tcp_timewait_input(st, tw, skb, &th, seglen);
			return;
		}
		sk = tcp_reuseport_listener(
			tcp_lookup_listener(st, daddr, htons(th.dport), dif),
			skb, saddr, htons(th.sport));
	}
	if (!sk) {
		/* RFC 9293 §3.10.7.1: CLOSED answers with a reset. */
		tcp_v4_send_reset(st, skb, &th, seglen);
		tcp_drop(st, skb, US_DROP_TCP_NO_SOCKET);
		return;
	}
	/* IP_MINTTL (RFC 5082, GTSM): a segment that came with a lower TTL
	 * than the socket asks is dropped unanswered (Linux's tcp_v4_rcv,
	 * TCPMinTTLDrop). Not for a child still in SYN_RECV, which is
	 * Linux's request sock: tcp_check_req asks no TTL. */
	if (iph[8] < sk->min_ttl &&
	    !(sk->state == TCP_SYN_RECV && tcp_sk(sk)->parent)) {
		us_mib_inc(st, US_MIB_TCP_MINTTL_DROP);
		tcp_drop(st, skb, US_DROP_TCP_MINTTL);
		return;
	}
	if (!tcp_filter(sk, skb, &th, &seglen))
		return;
	/* TCP_INFO: a connection counts every segment it is given, bad or
	 * not (Linux's tcp_segs_in); a listener none. */
	if (sk->state != TCP_LISTEN) {
		if (!tcp_info_request(tcp_sk(sk)))
			tcp_info_seg_in(tcp_sk(sk), skb->len);
		sk_incoming_cpu_update(sk);
	}
	switch (sk->state) {
	case TCP_LISTEN:
		tcp_listen_input(sk, skb, &th, seglen);
		return;
	case TCP_SYN_SENT:
		tcp_rcv_synsent(sk, skb, &th, seglen);
		return;
	default:
		/* The sock may be done with on the way (tcp_done,
		 * tcp_time_wait) while its caller still looks at it. */
		sock_hold(sk);
		tcp_rcv_state_process(sk, skb, &th, seglen);
		sock_put(sk);
	}
}
