/*
 * tcp_rack.c - RACK, Recent ACKnowledgment (RFC 8985 §6): loss detection
 * by time on SACK connections, as Linux does it with net.ipv4.tcp_recovery
 * bit 1 (the default). A segment is lost once a segment sent after it has
 * been delivered and a reordering window has passed since:
 *
 *     lost  if  xmit_ts + RACK.rtt + reo_wnd <= now,
 *           for every segment sent before RACK.xmit_ts, the latest send
 *           time of a delivered segment.
 *
 * This finds a lost retransmission, and a tail loss after one SACK (a
 * Tail Loss Probe's, tcp_tlp.c), where RFC 6675's DupThresh needs three
 * SACKed segments above a hole or waits for the RTO. Segments not yet old
 * enough set the reorder timer (§6.3), which marks them when it fires.
 * DupThresh lives on inside the window, as in Linux: until reordering has
 * been seen the window is zero in recovery or with three segments SACKed.
 * With tcp_recovery = 0, RFC 6675's IsLost and DupThresh do it all
 * (tcp_sack.c).
 *
 * Per segment RACK needs its last send time (tcp_skb_cb.sent), whether it
 * was sent again (.retrans) and the scoreboard marks (.sacked); what it
 * keeps per connection (struct tcp_rack) lives out of struct tcp_sock,
 * made with the first SACK block, recovery or timeout (tcp_undo.c keeps
 * its state there too).
 *
 * Call chain: tcp_sack_mark / tcp_sack_unlinked -> tcp_rack_delivered;
 *             tcp_sack_update -> tcp_rack_dsack; tcp_ack -> tcp_rack_ack
 *             -> tcp_sack_mark_skb_lost, tcp_sack_start_recovery;
 *             tcp_rearm_rto -> tcp_rack_rearm; tcp_retransmit_timer ->
 *             tcp_rack_timer_fire; tcp_rtt_sample -> tcp_rack_rtt_sample.
 */
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* net.ipv4.tcp_recovery bits (Linux's TCP_RACK_*). */
#define TCP_RACK_LOSS_DETECTION 0x1
#define TCP_RACK_STATIC_REO_WND 0x2
#define TCP_RACK_NO_DUPTHRESH 0x4

#define TCP_RACK_DUPTHRESH 3          /* RFC 6675 DupThresh */
#define TCP_RACK_RECOVERY_THRESH 16   /* §6.2 step 4: reo_wnd_persist */
#define TCP_RACK_MIN_RTT_WIN_US (300ull * US_USEC_PER_SEC) /* Linux's
					       tcp_min_rtt_wlen */
/* What the reorder timer adds for timer granularity (Linux's
 * TCP_TIMEOUT_MIN, as the PTO's in tcp_tlp.c). */
#define TCP_RACK_TIMER_MARGIN_US 2000

static bool tcp_rack_enabled(const struct sock *sk)
{
	return (sk->st->sysctl.tcp_recovery & TCP_RACK_LOSS_DETECTION) &&
	       tcp_sk((struct sock *)sk)->sack_ok;
}

/* Without memory for its state RACK stays off and DupThresh decides. */
bool tcp_rack_active(const struct sock *sk)
{
	const struct tcp_sack_rcv *r = tcp_sk((struct sock *)sk)->sack_rcv;

	return tcp_rack_enabled(sk) && r && r->rack.on;
}

static struct tcp_rack *tcp_rack_get(struct sock *sk, bool make)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r;

	if (!tcp_rack_enabled(sk))
		return NULL;
	r = tcp_sack_rack(sk, make);
	/* (The undo's state may have made it: tcp_undo.c.) */
	if (r && !r->started) {
		r->started = true;
		/* Before this, no segment was reordered that RACK could see;
		 * SRTT stands in for RACK.min_RTT until samples come. */
		r->fack = tp->snd_una;
		r->fack_before = tp->snd_una;
		r->end_seq = tp->snd_una;
		r->min_rtt_us = tp->srtt_us ? tp->srtt_us : UINT32_MAX;
		r->min_rtt_stamp = sk->st->now;
		r->reo_wnd_mult = 1;
		/* And for RACK.rtt, which a timeout asks before any ACK
		 * sets it (tcp_rack_sent_recently); Linux's rack.rtt_us has
		 * followed every ACK of a SACK connection, RACK's state
		 * here only the ACKs since it was made. */
		r->rtt_us = tp->srtt_us;
	}
	return r;
}

/*
 * At a timeout (Linux's tcp_timeout_mark_lost, tcp_rack_skb_timeout(tp,
 * skb, 0) > 0): skb went less than RACK.rtt ago, so its ACK may still
 * come; it is not presumed lost with the rest, RACK will judge it when a
 * later transmission is delivered (or the next timeout will).
 */
bool tcp_rack_sent_recently(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sack_rcv *sr = tcp_sk(sk)->sack_rcv;
	us_time_t sent = TCP_SKB_CB(skb)->sent;

	if (!tcp_rack_active(sk) || !sr->rack.started || !sent)
		return false;
	return sk->st->now - sent < sr->rack.rtt_us;
}

struct tcp_rack *tcp_rack_make(struct sock *sk)
{
	return tcp_rack_get(sk, true);
}

/* Linux's tcp_min_rtt filter, simplified: the least sample, forgotten
 * after the window (300 s) in favour of the current one. */
void tcp_rack_rtt_sample(struct tcp_sock *tp, uint32_t rtt_us)
{
	struct tcp_rack *r = tp->sack_rcv && tp->sack_rcv->rack.on ?
			     &tp->sack_rcv->rack : NULL;
	us_time_t now = tp->sk.st->now;

	if (!r)
		return;
	if (rtt_us <= r->min_rtt_us ||
	    now - r->min_rtt_stamp > TCP_RACK_MIN_RTT_WIN_US) {
		r->min_rtt_us = rtt_us;
		r->min_rtt_stamp = now;
	}
}

/* RACK_sent_after (§6.2): t1/seq1 was sent after t2/seq2; at the same
 * time, the higher sequence counts as later. */
static bool tcp_rack_sent_after(us_time_t t1, uint32_t seq1, us_time_t t2,
				uint32_t seq2)
{
	return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

/*
 * RFC 8985 §6.2 steps 2 and 3 for one newly delivered segment. RACK.rtt
 * is the round trip of the latest-sent segment this ACK delivered (the
 * RFC walks them in order of transmission). A retransmitted segment whose
 * ACK came sooner than min_RTT after the retransmission was probably the
 * original's; it is not used (Linux's tcp_rack_advance).
 */
void tcp_rack_delivered(struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	bool sacked = !seq_leq(cb->end_seq, tcp_sk(sk)->snd_una);
	struct tcp_rack *r = tcp_sack_rack(sk, false);
	us_time_t now = sk->st->now, rtt;

	/* F-RTO (RFC 5682 §3.1 step 3b, tcp_undo.c): data sent before the
	 * timeout and never sent again arrived. */
	if (r && r->frto && !cb->retrans &&
	    seq_leq(cb->end_seq, tcp_sk(sk)->high_seq))
		r->ack_orig = true;
	r = tcp_rack_get(sk, sacked);
	if (!r || !cb->sent)
		return;
	/* Step 3: delivered below RACK.fack (as it was before this ACK: the
	 * blocks of one ACK come in no order of sequence) and never sent
	 * again: reordered, not lost. */
	if (seq_lt(cb->end_seq, r->fack_before) && !cb->retrans) {
		struct tcp_rx_scratch *rx = tcp_rx(tcp_sk(sk));

		r->reordering_seen = true;
		if (!rx->reord || seq_lt(cb->seq, rx->reord_low))
			rx->reord_low = cb->seq;
		rx->reord = true;
	}
	if (seq_gt(cb->end_seq, r->fack))
		r->fack = cb->end_seq;
	rtt = now > cb->sent ? now - cb->sent : 0;
	if (cb->retrans && rtt < r->min_rtt_us)
		return;
	if (!r->advanced || rtt < r->rtt_us)
		r->rtt_us = (uint32_t)(rtt > UINT32_MAX ? UINT32_MAX : rtt);
	r->advanced = true;
	if (tcp_rack_sent_after(cb->sent, cb->end_seq, r->xmit_ts, r->end_seq)) {
		r->xmit_ts = cb->sent;
		r->end_seq = cb->end_seq;
	}
}

/* §6.2 step 4: a D-SACK widens the window by min_RTT / 4, at most once
 * per round trip, for the next 16 recoveries. */
void tcp_rack_dsack(struct sock *sk, uint32_t start, uint32_t end)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r;

	tcp_undo_dsack(sk, start, end);
	r = tcp_rack_get(sk, true);
	if (!r)
		return;
	if (r->dsack_round_on && !seq_lt(tp->snd_una, r->dsack_round))
		r->dsack_round_on = false;
	if (r->dsack_round_on ||
	    (sk->st->sysctl.tcp_recovery & TCP_RACK_STATIC_REO_WND))
		return;
	r->dsack_round_on = true;
	r->dsack_round = tp->snd_nxt;
	if (r->reo_wnd_mult < UINT8_MAX)
		r->reo_wnd_mult++;
	r->reo_wnd_persist = TCP_RACK_RECOVERY_THRESH;
}

/* Fast recovery, or a timeout's recovery until its RecoveryPoint. */
static bool tcp_rack_recovering(const struct tcp_sock *tp)
{
	return tp->in_recovery || seq_lt(tp->snd_una, tp->high_seq);
}

/* §6.2 step 4, the end of a recovery: after 16 without a D-SACK the
 * window is back to min_RTT / 4. */
static void tcp_rack_recovery_end(struct tcp_sock *tp, struct tcp_rack *r)
{
	bool now = tcp_rack_recovering(tp);

	if (r->recovering && !now) {
		if (r->reo_wnd_persist)
			r->reo_wnd_persist--;
		if (!r->reo_wnd_persist)
			r->reo_wnd_mult = 1;
	}
	r->recovering = now;
}

/*
 * RACK_update_reo_wnd (§6.2 step 4): zero while no reordering has been
 * seen, in recovery or once DupThresh segments are SACKed (so that RACK
 * starts recovery where DupThresh would); else min_RTT / 4 times the
 * D-SACK multiplier, at most SRTT.
 */
static uint32_t tcp_rack_reo_wnd(const struct sock *sk,
				 const struct tcp_rack *r)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	uint64_t wnd;

	if (!r->reordering_seen) {
		if (tcp_rack_recovering(tp))
			return 0;
		if (tp->sacked_out >= TCP_RACK_DUPTHRESH &&
		    !(sk->st->sysctl.tcp_recovery & TCP_RACK_NO_DUPTHRESH))
			return 0;
	}
	wnd = (uint64_t)(r->min_rtt_us / 4) * r->reo_wnd_mult;
	if (tp->srtt_us && wnd > tp->srtt_us)
		wnd = tp->srtt_us;
	return wnd > UINT32_MAX ? UINT32_MAX : (uint32_t)wnd;
}

/*
 * RACK_detect_loss (§6.2 step 5): every segment sent before RACK.xmit_ts
 * and not delivered is lost once RACK.rtt + reo_wnd has passed since it
 * was sent; a lost segment already sent again counts only by its
 * retransmission. Returns how long until the next one would be (0: none).
 * The write queue is in sequence order, not in order of transmission
 * (Linux keeps a second, time-sorted list); the walk stops at the first
 * segment sent only once and not before RACK's, which in steady state is
 * the first one in the queue (it was the whole queue, per ACK: 8 % of the
 * sender's CPU in bulk transfers once a SACK had made RACK's state).
 */
static us_time_t tcp_rack_detect(struct sock *sk, struct tcp_rack *r)
{
	us_time_t now = sk->st->now, reo_wnd = tcp_rack_reo_wnd(sk, r);
	us_time_t wait = 0;

	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb)) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		us_time_t due;

		if (cb->sacked & TCPCB_SACKED_ACKED)
			continue;
		if ((cb->sacked & TCPCB_LOST) &&
		    !(cb->sacked & TCPCB_SACKED_RETRANS))
			continue;   /* lost, waiting to go again */
		if (!tcp_rack_sent_after(r->xmit_ts, r->end_seq, cb->sent,
					 cb->end_seq)) {
			/* Sent at or after RACK's segment. If this was its
			 * first transmission, so was every later one (new
			 * data goes out in sequence order; a retransmission
			 * is later still): none of them can be due. */
			if (!cb->retrans)
				break;
			continue;
		}
		due = cb->sent + r->rtt_us + reo_wnd;
		if (due <= now)
			tcp_sack_mark_skb_lost(sk, skb);
		else if (due - now > wait)
			wait = due - now;
	}
	return wait;
}

static void tcp_rack_arm(struct sock *sk, struct tcp_rack *r)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t rto_due = sk->st->now + tcp_backed_off_rto(tp);

	if (!r->reo_due || r->reo_due >= rto_due)
		return;
	tp->probe_timer = false;
	tp->tlp_timer = false;
	r->reo_timer = true;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer, r->reo_due);
}

/*
 * After an ACK's marks: when it moved RACK.xmit_ts, look for losses,
 * start recovery if one is found (through RFC 6675's path, PRR sets the
 * window), and set the reorder timer for the segments not yet due. The
 * timer replaces the RTO until it fires (Linux's ICSK_TIME_REO_TIMEOUT).
 */
void tcp_rack_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_rack_active(sk) ? tcp_rack_get(sk, false)
						 : NULL;
	us_time_t wait;

	if (!r)
		return;
	r->fack_before = r->fack;
	tcp_rack_recovery_end(tp, r);
	if (!r->advanced)
		return;
	r->advanced = false;
	wait = tcp_rack_detect(sk, r);
	if (tp->lost_out)
		tcp_sack_start_recovery(sk);
	r->reo_due = wait ? sk->st->now + wait + TCP_RACK_TIMER_MARGIN_US : 0;
	if (r->reo_due)
		tcp_rack_arm(sk, r);
	else if (r->reo_timer)
		tcp_rearm_rto(sk);
}

void tcp_rack_rearm(struct sock *sk)
{
	struct tcp_rack *r = tcp_rack_active(sk) ? tcp_rack_get(sk, false)
						 : NULL;

	if (r && r->reo_due > sk->st->now)
		tcp_rack_arm(sk, r);
}

void tcp_rack_timer_clear(struct tcp_sock *tp)
{
	if (tp->sack_rcv)
		tp->sack_rcv->rack.reo_timer = false;
}

/*
 * RFC 8985 §6.3 (Linux's tcp_rack_reo_timeout): the reorder timer fired.
 * Mark what is due now; a loss starts recovery, and PRR (tcp_prr.c)
 * takes the timer's expiry as one delivered segment (Linux's
 * tcp_cwnd_reduction with one newly acked). Lost segments go as the
 * window allows; then the RTO is back.
 */
bool tcp_rack_timer_fire(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_sack_rack(sk, false);
	uint32_t lost_before = tp->lost_out, retrans_before = tp->retrans_out;

	if (!r || !r->reo_timer)
		return false;
	r->reo_timer = false;
	r->reo_due = 0;
	if (!tcp_rack_enabled(sk)) {   /* turned off meanwhile */
		tcp_rearm_rto(sk);
		return true;
	}
	us_mib_inc(sk->st, US_MIB_TCP_RACK_REO_TIMEOUTS);
	tcp_rx(tp)->delivered = 0;
	tcp_rx(tp)->lost = 0;
	tcp_rack_detect(sk, r);
	if (tp->lost_out != lost_before || tp->retrans_out != retrans_before) {
		if (!tcp_rack_recovering(tp)) {
			tcp_sack_start_recovery(sk);
			tcp_rx(tp)->delivered = 1;
			tcp_prr_ack(sk, false);
		}
		tcp_write_xmit(sk, true);
	}
	tcp_rx(tp)->delivered = 0;
	tcp_rx(tp)->lost = 0;
	tcp_rearm_rto(sk);
	return true;
}
