/*
 * tcp_undo.c - undoing a window reduction that was not needed, as Linux's
 * tcp_try_undo_* do: the congestion window and ssthresh go back to what
 * they were before it (the algorithm's undo_cwnd, else Reno's: the window
 * before, Linux's tcp_reno_undo_cwnd), when the peer shows that no
 * segment was lost, only reordered or delayed:
 *
 *  - by D-SACKs (RFC 2883 §4.2): it received every segment sent again
 *    twice (Linux's tcp_try_undo_dsack, and tcp_try_undo_loss for a
 *    timeout);
 *  - by timestamps, Eifel detection (RFC 3522 §2): the first ACK of the
 *    segment that went again first echoes a TSval older than that
 *    retransmission's, so it acknowledges the original (Linux's
 *    tcp_packet_delayed in tcp_try_undo_loss and tcp_try_undo_recovery).
 *    The response is Linux's, as RFC 4015 §3 allows: back to the window
 *    before; after a timeout nothing stays presumed lost, and sending
 *    goes on from SND.MAX (the scoreboard never went back to SND.UNA). A
 *    NewReno recovery undone on the ACK of exactly its recovery point
 *    holds there until an ACK passes it, as Linux's does, and then keeps
 *    the window (tcp_undo_reno_end). The one ACK examined undoes a fast
 *    recovery only if no retransmission is still out then (else
 *    timestamps give up on that episode, where Linux's
 *    tcp_try_undo_partial looks at later ACKs too; D-SACKs may still
 *    undo it).
 *  - after a timeout, by F-RTO (RFC 5682 §3.1, the SACK version, Linux's
 *    tcp_process_loss, net.ipv4.tcp_frto; without SACK too): once the
 *    timeout's retransmission is ACKed, new data goes instead of the
 *    segments presumed lost; an ACK of data sent before the timeout and
 *    never again then means it arrived (tcp_undo_frto).
 *
 * The state (which episode, how many of its retransmissions are not yet
 * D-SACKed, the first one's TSval, F-RTO's step, the ssthresh to go back
 * to) lives in RACK's allocation (struct tcp_rack), made when a recovery
 * or a timeout begins, on any connection: SACK or not, RACK on or off.
 * D-SACKs need SACK; without it timestamps and F-RTO (whose steps are
 * the same, a cumulative ACK of a segment never sent again standing for
 * the SACK, as in Linux's tcp_process_loss) are the evidence.
 *
 * Call chain: tcp_sack_enter_recovery, tcp_enter_recovery ->
 *             tcp_undo_mark; tcp_retransmit_timer -> tcp_undo_mark_loss;
 *             tcp_sack_retransmit, tcp_sack_xmit_lost (NewReno's head) ->
 *             tcp_undo_retransmitted; tcp_rack_dsack -> tcp_undo_dsack;
 *             tcp_rack_delivered (ack_orig); tcp_ack -> tcp_undo_check ->
 *             tcp_undo_frto, tcp_sack_unmark_lost;
 *             tcp_reno_recovery_ack -> tcp_undo_reno_end; tcp_write_xmit
 *             -> tcp_undo_frto_new_data.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

static struct tcp_rack *tcp_undo_state(struct sock *sk)
{
	return tcp_sack_rack(sk, false);
}

/* Made when an episode begins: with RACK's fields set if RACK is on (its
 * forward ACK is SND.UNA now, not that of the ACK that comes next). */
static struct tcp_rack *tcp_undo_make(struct sock *sk)
{
	struct tcp_rack *r = tcp_rack_make(sk);

	return r ? r : tcp_sack_rack(sk, true);
}

/* In fast recovery, or after a timeout until SND.UNA passes the
 * RecoveryPoint (RFC 6675 §5.1; Linux's CA_Recovery and CA_Loss). */
static bool tcp_undo_in_episode(const struct tcp_sock *tp)
{
	return tp->in_recovery || seq_lt(tp->snd_una, tp->high_seq);
}

/* Linux's tcp_init_undo and tcp_current_ssthresh: outside a reduction,
 * at least 3/4 of the window, so that an undo does not leave slow start
 * too early. */
static void tcp_undo_begin(struct sock *sk, struct tcp_rack *r, bool loss)
{
	struct tcp_sock *tp = tcp_sk(sk);

	r->undo_on = true;
	r->undo_loss = loss;
	r->undone_held = false;
	r->frto = false;
	r->frto_new = false;
	r->undo_ts_armed = false;
	r->undo_ts_taken = false;
	r->undo_marker = tp->snd_una;
	r->undo_retrans = tp->retrans_out ? (int32_t)tp->retrans_out : -1;
	r->prior_ssthresh = tcp_current_ssthresh(tp);
}

void tcp_undo_forbid(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (r)
		r->prior_ssthresh = 0;
}

void tcp_undo_mark(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_make(sk);

	if (r)
		tcp_undo_begin(sk, r, false);
}

/*
 * As Linux's tcp_enter_loss: the first timeout of an episode starts a new
 * one, with the window before it to go back to; a timeout in fast
 * recovery keeps the recovery's (the window before that), and a timeout
 * after a timeout (no ACK moved SND.UNA between) keeps the first's. Not
 * for the handshake's timeouts (a SYN-ACK sent again).
 */
void tcp_undo_mark_loss(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r;
	bool repeat;

	if (sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV)
		return;
	r = tcp_undo_make(sk);
	if (!r)
		return;
	repeat = tp->retransmits && r->undo_on && r->undo_loss;
	if (!repeat) {
		/* (A NewReno recovery held at its point is over: Linux's
		 * !after(high_seq, snd_una).) */
		if (tp->in_recovery && r->undo_on && !tcp_reno_held(tp)) {
			r->undo_loss = true;
		} else {
			tp->prior_cwnd = tp->snd_cwnd;
			tcp_undo_begin(sk, r, true);
		}
	}
	/* RFC 5682 §3.1 step 1 and §3.2, as Linux: F-RTO for a timeout that
	 * starts an episode or repeats one on the same SND.UNA, not for one
	 * in a fast recovery or after a timeout's partial ACK. */
	r->frto = sk->st->sysctl.tcp_frto &&
		  (!tcp_undo_in_episode(tp) || repeat);
	r->frto_new = false;
	r->ack_orig = false;
}

void tcp_undo_forget(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (r) {
		r->undo_on = false;
		r->frto = false;
		r->frto_new = false;
	}
}

void tcp_undo_retransmitted(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);

	if (!r || !r->undo_on || !tcp_undo_in_episode(tp))
		return;
	/* RFC 3522 §2 step (1): the TSval of the first retransmission (it
	 * went out just now, with this clock's value). */
	if (!r->undo_ts_taken) {
		r->undo_ts_taken = true;
		r->undo_ts_armed = tp->tstamp_ok;
		r->undo_seq = TCP_SKB_CB(skb)->seq;
		r->undo_tsval = tcp_ts_now(sk);
	}
	if (r->undo_retrans < 0)
		r->undo_retrans = 0;
	if (r->undo_retrans < INT32_MAX)
		r->undo_retrans++;
}

/* Segments of [start, end) that were sent again and are still queued. */
static uint32_t tcp_undo_retransmitted_in(struct sock *sk, uint32_t start,
					  uint32_t end)
{
	uint32_t mss = tcp_sk(sk)->mss_cache, segs = 0;

	for (struct sk_buff *skb = tcp_wq_head(sk);
	     skb && seq_lt(TCP_SKB_CB(skb)->seq, end);
	     skb = tcp_wq_next(sk, skb)) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		uint32_t s = seq_gt(cb->seq, start) ? cb->seq : start;
		uint32_t e = seq_lt(cb->end_seq, end) ? cb->end_seq : end;

		if (cb->retrans && seq_lt(s, e))
			segs += (e - s + mss - 1) / mss;
	}
	return segs;
}

/*
 * A D-SACK above the marker stands for that many retransmissions that
 * were duplicates. Below SND.UNA the segments are gone from the queue
 * and the block is not matched against them (Linux's "dumb counting");
 * above it only segments sent again count (Linux's tcp_sacktag_one), so
 * that a duplicate the network made is no proof. A dubious D-SACK (more
 * duplicates reported than were ever sent, Linux's tcp_dsack_seen in
 * tcp_sack.c) never comes here.
 */
void tcp_undo_dsack(struct sock *sk, uint32_t start, uint32_t end)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);
	uint32_t segs;

	if (!r || !r->undo_on || r->undo_retrans <= 0 ||
	    !seq_gt(end, r->undo_marker) || !seq_lt(start, end))
		return;
	if (seq_gt(end, tp->snd_una))
		segs = tcp_undo_retransmitted_in(sk, start, end);
	else
		segs = (end - start + tp->mss_cache - 1) / tp->mss_cache;
	r->undo_retrans = segs >= (uint32_t)r->undo_retrans ? 0 :
			  r->undo_retrans - (int32_t)segs;
}

/*
 * RFC 3522 §2 steps (2)-(3), once per episode: the first ACK that
 * acknowledges the first retransmitted segment (it moves SND.UNA past its
 * start; an ACK of data above a hole echoes an older TSval by RFC 7323
 * §4.3, whatever happened, so no other is looked at), whose echo is the
 * TSval of the segment that filled the receiver's hole. Older than that
 * retransmission's: the original arrived.
 */
static bool tcp_undo_ts_delayed(struct tcp_sock *tp, struct tcp_rack *r)
{
	if (!r->undo_ts_armed || !seq_gt(tp->snd_una, r->undo_seq))
		return false;
	r->undo_ts_armed = false;
	return tcp_rx(tp)->saw_ts && tcp_rx(tp)->tsecr &&
	       (int32_t)(tcp_rx(tp)->tsecr - r->undo_tsval) < 0;
}

/* Linux's tcp_undo_cwnd_reduction. */
static void tcp_undo_apply(struct sock *sk, struct tcp_rack *r, bool frto)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t cwnd;

	if (tp->ca_ops->undo_cwnd)
		cwnd = tp->ca_ops->undo_cwnd(sk);
	else
		cwnd = tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd
						     : tp->prior_cwnd;
	/* (An ECE during the episode forbade it: Linux's prior_ssthresh 0
	 * leaves the window and ssthresh as they are.) */
	if (r->prior_ssthresh) {
		tp->snd_cwnd = cwnd;
		if (r->prior_ssthresh > tp->snd_ssthresh) {
			tp->snd_ssthresh = r->prior_ssthresh;
			tcp_ecn_withdraw_cwr(tp);
		}
	}
	tp->cwnd_acked = 0;
	/* NewReno's recovery, undone on the ACK of exactly its point, holds
	 * there (tcp_input.c, RFC 6582 §3.2 step 2), as Linux's
	 * tcp_try_undo_recovery keeps a Reno connection in CA_Recovery
	 * "until something *above* high_seq is ACKed"; the window stays when
	 * it ends (tcp_undo_reno_end). */
	if (!tp->sack_ok && tp->in_recovery && tp->snd_una == tp->high_seq)
		r->undone_held = true;
	else
		tp->in_recovery = false;
	if (tp->lost_out)
		tcp_sack_unmark_lost(sk);
	/* The episode is over: a new loss may start a fast recovery. Not
	 * without SACK after a timeout that F-RTO did not find spurious: as
	 * Linux's tcp_try_undo_loss keeps such a connection in CA_Loss, the
	 * episode lasts until SND.UNA passes its point, and duplicate ACKs
	 * of what was sent before start no false fast retransmit (RFC 6582
	 * §3.2 step 2). */
	if (seq_lt(tp->snd_una, tp->high_seq) &&
	    (tp->sack_ok || !r->undo_loss || frto))
		tp->high_seq = tp->snd_una;
	r->undo_on = false;
	r->undo_ts_armed = false;
	r->frto = false;
	if (r->undo_loss) {
		/* A new timeout starts a new episode (Linux clears
		 * icsk_retransmits): it cuts ssthresh again. */
		tp->retransmits = 0;
		us_mib_inc(sk->st, US_MIB_TCP_LOSS_UNDO);
	}
}

/*
 * F-RTO (RFC 5682 §3.1, the SACK version, as Linux's tcp_process_loss):
 * the timeout sent the first unacknowledged segment again (step 1). When
 * an ACK then moves SND.UNA, new data goes instead of the segments
 * presumed lost (step 2b). The ACK after that tells: data sent before the
 * timeout and never again (S)ACKed means it arrived and the timeout was
 * spurious (step 3b: undone); a duplicate ACK or a SACK of new data only
 * means the loss was real (step 3a: the conventional recovery goes on).
 * True when the timeout was undone.
 */
static bool tcp_undo_frto(struct sock *sk, struct tcp_rack *r,
			  unsigned int flags, bool orig)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!r->frto)
		return false;
	/* (Also on the ACK that ends the episode: Linux looks first.) */
	if (orig) {
		us_mib_inc(sk->st, US_MIB_TCP_SPURIOUS_RTOS);
		tcp_undo_apply(sk, r, true);
		return true;
	}
	if (!seq_lt(tp->snd_una, tp->high_seq) || tp->in_recovery) {
		r->frto = false;   /* the episode is over */
		return false;
	}
	if (seq_gt(tp->snd_nxt, tp->high_seq)) {
		if (flags & (TCP_ACK_SACKED_NEW | TCP_ACK_DUP))
			r->frto = false;
	} else if (flags & TCP_ACK_UNA_ADVANCED) {
		tp->high_seq = tp->snd_nxt;
		if (tp->send_head &&
		    seq_gt(tp->snd_una + tp->snd_wnd, tp->snd_nxt))
			r->frto_new = true;
		else
			r->frto = false;
	}
	return false;
}

void tcp_undo_episode_over(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->sack_ok && tp->sack_rcv)
		tcp_sack_rack_drop(tp);
}

bool tcp_undo_reno_end(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (!r || !r->undone_held)
		return false;
	r->undone_held = false;
	return true;
}

/* Every transmission asks: a pointer and a flag. */
bool tcp_undo_frto_new_data(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (!r || !r->frto_new)
		return false;
	r->frto_new = false;
	return true;
}

void tcp_undo_frto_stop(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (r)
		r->frto = false;
}

/*
 * After an ACK, in Linux's order. By timestamps: on the one ACK examined,
 * if no retransmission is still out. By F-RTO. By D-SACKs: every
 * retransmission D-SACKed, and during the episode only once nothing is
 * still marked lost or out again (the episode ends there, Linux's
 * tcp_try_to_open; Linux undoes a timeout on any ACK that moves SND.UNA
 * then); else on a later ACK. (This runs before the ACK ends a recovery:
 * one that reaches the recovery point ends the episode whatever is
 * marked, as Linux's tcp_try_undo_recovery.)
 */
void tcp_undo_check(struct sock *sk, unsigned int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);
	bool orig;

	if (!r)
		return;
	orig = r->ack_orig;
	r->ack_orig = false;
	if (!r->undo_on) {
		r->frto = false;
		return;
	}
	/* (Linux's tcp_try_undo_partial waits for no retransmission out;
	 * tcp_try_undo_loss does not, and a timeout may leave some out:
	 * tcp_sack_enter_loss.) */
	if (tcp_undo_ts_delayed(tp, r) && (r->undo_loss || !tp->retrans_out)) {
		us_mib_inc(sk->st, US_MIB_TCP_TS_UNDO);
		tcp_undo_apply(sk, r, false);
		return;
	}
	if (tcp_undo_frto(sk, r, flags, orig))
		return;
	if (r->undo_retrans != 0)
		return;
	if (seq_lt(tp->snd_una, tp->high_seq) &&
	    (tp->lost_out || tp->retrans_out))
		return;
	if (r->reo_wnd_persist < 16)
		r->reo_wnd_persist++;   /* (as Linux) */
	us_mib_inc(sk->st, US_MIB_TCP_DSACK_UNDO);
	tcp_undo_apply(sk, r, false);
}
