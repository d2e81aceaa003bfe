/*
 * tcp_sack.c - selective acknowledgments: negotiation (RFC 2018 §2), the
 * blocks a receiver reports (RFC 2018 §4, D-SACK per RFC 2883), and the
 * sender's scoreboard and loss recovery (RFC 6675), kept in Linux's terms:
 * per-segment marks on the write queue (TCPCB_*) and segment counts in
 * struct tcp_sock, from which pipe is computed. A connection without SACK
 * keeps the same scoreboard, as Linux's does: a timeout marks its
 * segments lost and they go again from here, lowest first; only the
 * SACKed marks stay empty (its duplicate ACKs are counted instead,
 * tcp_prr.c's reno_sacked).
 *
 * Receive side: tcp_data_queue -> tcp_sack_ofo_event / tcp_dsack_set /
 *               tcp_sack_rcv_update; tcp_out_from_sock -> tcp_sack_fill.
 * Send side:    tcp_ack -> tcp_sack_update -> tcp_sack_dupack |
 *               tcp_sack_recovery_ack; tcp_write_xmit -> tcp_sack_xmit_lost;
 *               tcp_retransmit_timer -> tcp_sack_enter_loss.
 */
#include <stdlib.h>
#include <string.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

/* RFC 6675 §2 DupThresh, Linux's tcp_reordering default. */
#define TCP_DUPTHRESH 3

static void tcp_sack_rcv_free(struct tcp_sock *tp)
{
	free(tp->sack_rcv);
	tp->sack_rcv = NULL;
}

void tcp_sack_init(struct tcp_sock *tp)
{
	tp->sack_ok = false;
	tcp_sack_rcv_free(tp);
	tp->packets_out = 0;
	tp->sacked_out = 0;
	tp->lost_out = 0;
	tp->retrans_out = 0;
	tcp_reno_reset(tp);
	tcp_tlp_reset(tp);   /* (connect(AF_UNSPEC) reuses the socket) */
}

void tcp_sack_destroy(struct tcp_sock *tp)
{
	tcp_sack_rcv_free(tp);
}

/* ---- negotiation (RFC 2018 §2) ------------------------------------------ */

bool tcp_sack_syn_perm(const struct sock *sk)
{
	/* Our SYN offers SACK when net.ipv4.tcp_sack is on; a SYN-ACK only
	 * answers an offer. */
	if (sk->state == TCP_SYN_SENT)
		return sk->st->sysctl.tcp_sack != 0;
	return tcp_sk((struct sock *)sk)->sack_ok;
}

void tcp_sack_syn_options(struct tcp_sock *tp, const struct tcp_seg *th)
{
	tp->sack_ok = th->opts.sack_ok && tp->sk.st->sysctl.tcp_sack;
}

/* ---- receiving: the blocks we report ------------------------------------ */

/*
 * The receiver's blocks live out of the socket (tcp.h), made when there is
 * something to report and freed when there is nothing left. Without memory
 * for them the ACKs go out without SACK blocks, counted: RFC 2018 §4 lets
 * a receiver send fewer blocks than it has, and the sender recovers without
 * them (RFC 6675 §5.1: its scoreboard just learns less).
 */
static struct tcp_sack_rcv *tcp_sack_rcv_get(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->sack_rcv) {
		tp->sack_rcv = calloc(1, sizeof(*tp->sack_rcv));
		if (!tp->sack_rcv)
			us_mib_inc(sk->st, US_MIB_TCP_SACK_RCV_NOMEM);
	}
	return tp->sack_rcv;
}

static void tcp_sack_rcv_trim(struct tcp_sock *tp)
{
	const struct tcp_sack_rcv *r = tp->sack_rcv;

	if (r && !r->num_sacks && !r->dsack_pending && !r->rack.on)
		tcp_sack_rcv_free(tp);
}

/* The sender's RACK state shares the receiver's allocation (tcp.h).
 * Without memory RACK stays off (DupThresh decides, tcp_rack.c). */
struct tcp_rack *tcp_sack_rack(struct sock *sk, bool make)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sack_rcv *r = tp->sack_rcv;

	if (r && r->rack.on)
		return &r->rack;
	if (!make)
		return NULL;
	if (!r && !(r = tp->sack_rcv = calloc(1, sizeof(*r))))
		return NULL;
	r->rack.on = true;
	return &r->rack;
}

void tcp_sack_rack_drop(struct tcp_sock *tp)
{
	if (!tp->sack_rcv)
		return;
	memset(&tp->sack_rcv->rack, 0, sizeof(tp->sack_rcv->rack));
	tcp_sack_rcv_trim(tp);
}

/* The run of contiguous out-of-order data that holds seq, if any. The
 * queue is sorted by sequence; segments may overlap. */
static bool tcp_ofo_run(struct tcp_sock *tp, uint32_t seq,
			struct tcp_sack_block *b)
{
	struct sk_buff *skb = skb_peek(&tp->ooo_queue);
	bool open = false;

	for (; skb; skb = skb_queue_next(&tp->ooo_queue, skb)) {
		const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (open && seq_gt(cb->seq, b->end)) {
			if (seq_geq(seq, b->start) && seq_lt(seq, b->end))
				return true;
			open = false;
		}
		if (!open) {
			b->start = cb->seq;
			b->end = cb->end_seq;
			open = true;
		} else if (seq_gt(cb->end_seq, b->end)) {
			b->end = cb->end_seq;
		}
	}
	return open && seq_geq(seq, b->start) && seq_lt(seq, b->end);
}

/*
 * RFC 2018 §4: the first block holds the segment that arrived last (when
 * it went to the out-of-order queue), then the blocks reported before, most
 * recent first, each grown to the run of data it is now part of; blocks
 * the cumulative ACK has passed are gone.
 */
static void tcp_sack_rebuild(struct sock *sk, bool newest, uint32_t seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sack_rcv *r = tp->sack_rcv;
	struct tcp_sack_block old[TCP_MAX_SACKS], b;
	uint8_t n_old = r->num_sacks, n = 0;

	memcpy(old, r->selective_acks, sizeof(old));
	if (newest && tcp_ofo_run(tp, seq, &b))
		r->selective_acks[n++] = b;
	for (uint8_t i = 0; i < n_old && n < TCP_MAX_SACKS; i++) {
		bool dup = false;

		/* A run only grows by merging, so the one holding the old
		 * block's last octet is what that block became. */
		if (!tcp_ofo_run(tp, old[i].end - 1, &b))
			continue;
		for (uint8_t j = 0; j < n; j++)
			dup |= r->selective_acks[j].start == b.start;
		if (!dup)
			r->selective_acks[n++] = b;
	}
	r->num_sacks = n;
	tcp_sack_rcv_trim(tp);
}

void tcp_sack_ofo_event(struct sock *sk, uint32_t seq)
{
	if (tcp_sk(sk)->sack_ok && tcp_sack_rcv_get(sk))
		tcp_sack_rebuild(sk, true, seq);
}

/*
 * A segment appended behind everything out of order: when it continues
 * the most recent block (the run at the tail), that block only grows, and
 * no walk of the queue is needed; else as tcp_sack_ofo_event.
 */
void tcp_sack_ofo_append(struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	struct tcp_sack_rcv *r = tcp_sk(sk)->sack_rcv;

	if (tcp_sk(sk)->sack_ok && r && r->num_sacks &&
	    r->selective_acks[0].end == seq) {
		r->selective_acks[0].end = end_seq;
		return;
	}
	tcp_sack_ofo_event(sk, seq);
}

void tcp_sack_rcv_update(struct sock *sk)
{
	const struct tcp_sack_rcv *r = tcp_sk(sk)->sack_rcv;

	if (tcp_sk(sk)->sack_ok && r && r->num_sacks)
		tcp_sack_rebuild(sk, false, 0);
}

/*
 * RFC 2883 §4: the first block of the next ACK reports the duplicate
 * [seq, end_seq), clipped to what was already received in order when it
 * starts below RCV.NXT (Linux's tcp_send_dupack does the same). Only with
 * net.ipv4.tcp_dsack on, and only once.
 */
void tcp_dsack_set(struct sock *sk, uint32_t seq, uint32_t end_seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sack_rcv *r;

	if (!tp->sack_ok || !sk->st->sysctl.tcp_dsack || !seq_lt(seq, end_seq))
		return;
	r = tcp_sack_rcv_get(sk);
	if (!r)
		return;
	if (seq_lt(seq, tp->rcv_nxt) && seq_gt(end_seq, tp->rcv_nxt))
		end_seq = tp->rcv_nxt;
	r->dsack_block.start = seq;
	r->dsack_block.end = end_seq;
	r->dsack_pending = true;
}

uint8_t tcp_sack_fill(struct sock *sk, struct tcp_sack_block *out)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_sack_rcv *r = tp->sack_rcv;
	uint8_t n = 0;

	if (!tp->sack_ok || !r)
		return 0;
	if (r->dsack_pending) {
		out[n++] = r->dsack_block;
		r->dsack_pending = false;
		us_mib_inc(sk->st, US_MIB_TCP_DSACK_SENT);
	}
	for (uint8_t i = 0; i < r->num_sacks && n < TCP_MAX_SACKS; i++)
		out[n++] = r->selective_acks[i];
	tcp_sack_rcv_trim(tp);
	return n;
}

/* ---- sending: the scoreboard (RFC 6675 §4) ------------------------------ */

uint32_t tcp_sack_pipe(const struct tcp_sock *tp)
{
	int64_t pipe = (int64_t)tp->packets_out - tp->sacked_out - tp->lost_out +
		       tp->retrans_out;

	return pipe > 0 ? (uint32_t)pipe : 0;
}

/* RFC 2883 §4: the first block is a D-SACK when it lies below the
 * cumulative ACK or inside the second block. */
static bool tcp_sack_is_dsack(const struct tcp_opts *o, uint32_t ack)
{
	const struct tcp_sack_block *b = o->sacks;

	if (seq_lt(b[0].start, ack))
		return true;
	return o->nsacks > 1 && seq_geq(b[0].start, b[1].start) &&
	       seq_leq(b[0].end, b[1].end);
}

/*
 * Linux's tcp_dsack_seen: a D-SACK is believed only if it covers no more
 * than the largest window the peer offered, and if the peer has not
 * reported more duplicate segments, all D-SACKs together, than were ever
 * sent again (total_retrans). A receiver that lies about duplicates thus
 * cannot undo a reduction (tcp_undo.c) or widen RACK's window; the block
 * is then taken as an ordinary SACK block, as in Linux.
 */
static bool tcp_dsack_seen(struct sock *sk, const struct tcp_sack_block *b)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t len = b->end - b->start, segs = 1;

	if (!seq_lt(b->start, b->end) || len > tp->max_window)
		return false;
	if (len > tp->mss_cache)
		segs = (len + tp->mss_cache - 1) / tp->mss_cache;
	/* (16 bits, stopping at 65535: from there on none is believed,
	 * failing closed where Linux's 32 bits would not stop.) */
	if (tp->dsack_dups + segs >= UINT16_MAX) {
		tp->dsack_dups = UINT16_MAX;
		return false;
	}
	tp->dsack_dups = (uint16_t)(tp->dsack_dups + segs);
	if (tp->dsack_dups > tp->total_retrans)
		return false;
	tp->delivered += segs;   /* (TCP_INFO: a spurious copy arrived) */
	return true;
}

/* A block must lie within what is outstanding: SND.UNA..SND.MAX (SND.NXT
 * never goes back, so SND.MAX is SND.NXT). */
static bool tcp_sack_block_valid(const struct tcp_sock *tp,
				 const struct tcp_sack_block *b)
{
	return seq_lt(b->start, b->end) && seq_geq(b->start, tp->snd_una) &&
	       seq_leq(b->end, tp->snd_max);
}

static void tcp_sack_clear_marks(struct tcp_sock *tp, struct tcp_skb_cb *cb,
				 uint8_t marks)
{
	if ((cb->sacked & marks & TCPCB_LOST) && tp->lost_out)
		tp->lost_out--;
	if ((cb->sacked & marks & TCPCB_SACKED_RETRANS) && tp->retrans_out)
		tp->retrans_out--;
	if ((cb->sacked & marks & TCPCB_SACKED_ACKED) && tp->sacked_out)
		tp->sacked_out--;
	cb->sacked &= (uint8_t)~marks;
}

/* Mark the segments a block covers whole; returns how many were new.
 * *first_sent and *last_sent: the earliest and the latest transmission
 * among those sent only once (Karn), for the RTT samples (Linux's
 * first_sackt and last_sackt). */
static uint32_t tcp_sack_mark(struct sock *sk, const struct tcp_sack_block *b,
			      us_time_t *first_sent, us_time_t *last_sent)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t newly = 0;

	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (seq_geq(cb->seq, b->end))
			break;
		if (seq_lt(cb->seq, b->start) || seq_gt(cb->end_seq, b->end) ||
		    (cb->sacked & TCPCB_SACKED_ACKED))
			continue;
		if (!cb->retrans && cb->sent) {
			if (!*first_sent || cb->sent < *first_sent)
				*first_sent = cb->sent;
			if (cb->sent > *last_sent)
				*last_sent = cb->sent;
		}
		tcp_rack_delivered(sk, skb);   /* RFC 8985 §6.2 */
		tcp_sack_clear_marks(tp, cb, TCPCB_LOST | TCPCB_SACKED_RETRANS);
		cb->sacked |= TCPCB_SACKED_ACKED;
		tcp_rate_skb_delivered(sk, skb);
		tp->sacked_out++;
		tcp_rx(tp)->sacked_new += skb->len;
		tcp_rx(tp)->delivered++;
		newly++;
	}
	return newly;
}

static void tcp_sack_set_lost(struct tcp_sock *tp, struct tcp_skb_cb *cb)
{
	if (cb->sacked & (TCPCB_LOST | TCPCB_SACKED_ACKED))
		return;
	cb->sacked |= TCPCB_LOST;
	tp->lost_out++;
	tcp_rx(tp)->lost++;
	tcp_rate_lost(tp);
}

void tcp_sack_unmark_lost(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb))
		TCP_SKB_CB(skb)->sacked &= (uint8_t)~TCPCB_LOST;
	tp->lost_out = 0;
}

void tcp_sack_mark_skb_lost(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (cb->sacked & TCPCB_SACKED_ACKED)
		return;
	if (cb->sacked & TCPCB_SACKED_RETRANS) {
		/* The retransmission is lost too: it goes again. */
		tcp_sack_clear_marks(tp, cb, TCPCB_SACKED_RETRANS);
		us_mib_inc(sk->st, US_MIB_TCP_LOST_RETRANSMIT);
		if (cb->sacked & TCPCB_LOST) {
			tcp_rx(tp)->lost++;
			tcp_rate_lost(tp);
		}
	}
	tcp_sack_set_lost(tp, cb);
}

/*
 * RFC 6675 §4 IsLost(), counted in segments as Linux does: a segment not
 * SACKed is lost once DupThresh segments above it are SACKed. Walking up
 * from the head, the SACKed segments above only become fewer, so the walk
 * stops at the first segment that is not lost yet.
 */
static void tcp_sack_mark_lost(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t seen = 0;

	if (tp->sacked_out < TCP_DUPTHRESH || tcp_rack_active(sk))
		return;   /* (RACK's reordering window does it: tcp_rack.c) */
	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (cb->sacked & TCPCB_SACKED_ACKED) {
			seen++;
			continue;
		}
		if (tp->sacked_out - seen < TCP_DUPTHRESH)
			break;
		tcp_sack_set_lost(tp, cb);
	}
}

uint32_t tcp_sack_update(struct sock *sk, const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_opts *o = &th->opts;
	us_time_t first_sent = 0, last_sent = 0;
	uint32_t newly = 0;

	tcp_rate_ack_start(tp, tcp_packets_in_flight(tp));
	tcp_rx(tp)->sacked_new = 0;
	tcp_rx(tp)->delivered = 0;   /* PRR's DeliveredData, counted anew */
	tcp_rx(tp)->lost = 0;
	tcp_rx(tp)->dsack = false;
	tcp_rx(tp)->reord = false;
	if (!tp->sack_ok || !o->nsacks)
		return 0;
	for (uint8_t i = 0; i < o->nsacks; i++) {
		bool dsack = i == 0 && tcp_sack_is_dsack(o, th->ack);

		if (dsack && !tcp_dsack_seen(sk, &o->sacks[0])) {
			us_mib_inc(sk->st, US_MIB_TCP_DSACK_IGNORED_DUBIOUS);
			dsack = false;   /* an ordinary block now */
		}
		if (dsack) {
			/* Our retransmission was not needed (RACK widens its
			 * window, tcp_undo.c may undo the reduction). */
			us_mib_inc(sk->st, US_MIB_TCP_DSACK_RECV);
			tcp_rx(tp)->dsack = true;   /* (a TLP's fate, tcp_tlp.c) */
			tcp_rx(tp)->dsack_end = o->sacks[0].end;
			tcp_rack_dsack(sk, o->sacks[0].start, o->sacks[0].end);
			continue;
		}
		if (!tcp_sack_block_valid(tp, &o->sacks[i])) {
			us_mib_inc(sk->st, US_MIB_TCP_SACK_DISCARD);
			continue;
		}
		newly += tcp_sack_mark(sk, &o->sacks[i], &first_sent,
				       &last_sent);
	}
	if (!newly)
		return 0;
	tcp_sack_mark_lost(sk);
	/* An ACK that moves nothing but SACKs data sent once is an RTT
	 * sample too, and restarts the timer (Linux's sack_rtt_us with
	 * FLAG_SET_XMIT_TIMER); a cumulative ACK takes its own sample. */
	if (first_sent && th->ack == tp->snd_una) {
		tcp_rtt_sample(tp, sk->st->now - first_sent);
		tcp_rearm_rto(sk);
	}
	/* The path's RTT as the rate sample (a congestion control) and
	 * TCP_INFO's min_rtt take it is the newest segment's the ACK SACKs,
	 * a cumulative ACK's or not (Linux's ca_rtt_us from last_sackt: it
	 * wins over the cumulatively acknowledged, sent before it); SRTT's
	 * above is the oldest's. After SRTT's, so that min_rtt's window,
	 * when it expires, restarts with this one. */
	if (last_sent) {
		us_time_t rtt = sk->st->now - last_sent;

		tcp_rx(tp)->rs.rtt_us = (int64_t)rtt;
		/* (1 us at least, and bounded, as tcp_rtt_sample takes it) */
		tcp_info_rtt(tp, rtt > UINT32_MAX / 2 ? UINT32_MAX / 2 :
				 rtt ? (uint32_t)rtt : 1);
	}
	return newly;
}

void tcp_sack_unlinked(struct tcp_sock *tp, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (skb != tp->send_head && tp->packets_out)
		tp->packets_out--;
	tcp_rate_skb_delivered(&tp->sk, skb);
	if (cb->sacked & TCPCB_SACKED_ACKED) {
		tcp_rx(tp)->sacked_acked += skb->len;
	} else {
		tcp_rx(tp)->delivered++;
		tcp_rack_delivered(&tp->sk, skb);   /* RFC 8985 §6.2 */
	}
	tcp_sack_clear_marks(tp, cb, TCPCB_LOST | TCPCB_SACKED_RETRANS |
				     TCPCB_SACKED_ACKED);
}

uint32_t tcp_sack_newly_delivered(struct tcp_sock *tp, uint32_t acked)
{
	uint32_t old = tcp_rx(tp)->sacked_acked, new = tcp_rx(tp)->sacked_new;

	tcp_rx(tp)->sacked_acked = 0;
	tcp_rx(tp)->sacked_new = 0;
	return (acked > old ? acked - old : 0) + new;
}

/* ---- sending: loss recovery (RFC 6675 §5) ------------------------------- */

/*
 * RFC 6675 §5 step 4.2: ssthresh = the algorithm's threshold (NewReno:
 * half the window, at least 2 segments, as Linux; CUBIC: RFC 9438 §4.6,
 * 0.7 of the window). The window is not set to it at once: RFC 6937
 * (tcp_prr.c) brings it down over the recovery, ACK by ACK, as Linux does.
 */
static void tcp_sack_cwnd_reduce(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* Within an ECE's reduction: that one goes on (Linux's
	 * tcp_in_cwnd_reduction). */
	if (tp->in_cwr) {
		tp->in_cwr = false;
		tcp_undo_forbid(sk);   /* (Linux's prior_ssthresh stays 0) */
		return;
	}
	tp->snd_ssthresh = tcp_ca_ssthresh(sk);
	tcp_prr_init(sk);
}

static int tcp_sack_retransmit(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	int rc = tcp_retransmit_skb(sk, skb);

	if (rc == 0 && !(cb->sacked & TCPCB_SACKED_RETRANS)) {
		cb->sacked |= TCPCB_SACKED_RETRANS;
		tp->retrans_out++;
	}
	if (rc == 0)
		tcp_undo_retransmitted(sk, skb);
	return rc;
}

static void tcp_sack_enter_recovery(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *head = tcp_wq_head(sk);

	tcp_undo_mark(sk);   /* (before ssthresh changes) */
	/* Step 4.1: RecoveryPoint = HighData. */
	tp->high_seq = tp->snd_max;
	tp->in_recovery = true;
	tcp_sack_cwnd_reduce(sk);
	us_mib_inc(sk->st, US_MIB_TCP_FAST_RETRANS);
	us_mib_inc(sk->st, US_MIB_TCP_SACK_RECOVERY);
	/* Step 4.3: the segment at HighACK + 1 is presumed lost and goes
	 * again whatever pipe says: PRR's first sndcnt is at least one
	 * segment (tcp_prr_ack), and tcp_write_xmit sends it, then more as
	 * cwnd - pipe allows (step 4.5). RACK has marked what is lost
	 * already, by time, and leaves the rest alone (Linux). */
	if (head && !(TCP_SKB_CB(head)->sacked & TCPCB_SACKED_ACKED) &&
	    !tcp_rack_active(sk))
		tcp_sack_set_lost(tp, TCP_SKB_CB(head));
}

void tcp_sack_start_recovery(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->in_recovery && !seq_lt(tp->snd_una, tp->high_seq))
		tcp_sack_enter_recovery(sk);
}

static bool tcp_sack_head_lost(struct sock *sk)
{
	struct sk_buff *head = tcp_wq_head(sk);

	return head && (TCP_SKB_CB(head)->sacked & TCPCB_LOST);
}

/*
 * RFC 6675 §5: on a duplicate ACK (its §2: one that SACKs new data, or an
 * RFC 5681 duplicate), recovery starts when DupAcks reaches DupThresh or
 * IsLost(HighACK + 1), unless recovery is on already or, after a timeout,
 * HighACK has not yet passed RecoveryPoint (§5.1).
 */
void tcp_sack_dupack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->dupacks++;
	if (tp->in_recovery || seq_lt(tp->snd_una, tp->high_seq))
		return;
	/* With RACK the count of duplicate ACKs does not start recovery; a
	 * loss that RACK found does (RFC 8985 §6.2, Linux's
	 * tcp_time_to_recover). */
	if (tcp_rack_active(sk) ? tp->lost_out != 0 :
	    (tp->dupacks >= TCP_DUPTHRESH || tcp_sack_head_lost(sk)))
		tcp_sack_enter_recovery(sk);
}

/* RFC 6675 §5: recovery ends when the cumulative ACK reaches
 * RecoveryPoint; the window is then ssthresh (RFC 5681 §3.2 step 6). A
 * partial ACK changes nothing else: pipe decides what goes next. Returns
 * whether this ACK ended the recovery. */
bool tcp_sack_recovery_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->dupacks = 0;
	if (seq_lt(tp->snd_una, tp->high_seq))
		return false;
	/* (Not an algorithm's with cong_control: Linux's
	 * tcp_end_cwnd_reduction.) */
	if (!tcp_ca_controls(tp))
		tp->snd_cwnd = tp->snd_ssthresh;
	tp->in_recovery = false;
	return true;
}

/*
 * RFC 6675 §5.1: after a timeout the SACK marks stay (segments the peer
 * holds are not sent again), and everything else unacknowledged is
 * presumed lost and retransmitted as the window allows (Linux's
 * tcp_timeout_mark_lost), but for what RACK can still judge: a segment
 * sent less than RACK.rtt ago (RFC 8985 §6.3 marks by time, and it has
 * not had its time; only with RACK on). RecoveryPoint moves to HighData
 * (the caller sets high_seq). Unless the first unacknowledged segment is
 * marked SACKed: then the receiver reneged (RFC 2018 §8: it dropped data
 * it had SACKed, as a receiver past its buffer may), the marks are stale,
 * and all go, as in Linux (is_reneg); kept, that segment would never be
 * sent again.
 */
bool tcp_sack_reneged(struct sock *sk)
{
	struct sk_buff *head = tcp_wq_head(sk);

	return head && (TCP_SKB_CB(head)->sacked & TCPCB_SACKED_ACKED);
}

void tcp_sack_enter_loss(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *head = tcp_wq_head(sk);
	bool reneg = tcp_sack_reneged(sk);

	if (reneg) {
		us_mib_inc(sk->st, US_MIB_TCP_SACK_RENEGING);
		tp->sacked_out = 0;
	}
	/* Without SACK the duplicate ACKs' estimate starts again (Linux's
	 * tcp_timeout_mark_lost). */
	tcp_reno_reset(tp);
	tp->retrans_out = 0;
	for (struct sk_buff *skb = head; skb; skb = tcp_wq_next(sk, skb)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		/* Sent within RACK.rtt, the head aside: not yet, and a
		 * retransmission of it is still in flight (Linux). */
		if (!reneg && skb != head && tcp_rack_sent_recently(sk, skb)) {
			if (cb->sacked & TCPCB_SACKED_RETRANS)
				tp->retrans_out++;
			continue;
		}
		cb->sacked &= (uint8_t)~TCPCB_SACKED_RETRANS;
		if (reneg)
			cb->sacked &= (uint8_t)~TCPCB_SACKED_ACKED;
		tcp_sack_set_lost(tp, cb);
	}
}

/*
 * RFC 6675 §4 NextSeg() rule 1, and step (C) of §5: the lowest segment
 * that is lost and not yet retransmitted goes, while cwnd - pipe is at
 * least one segment; new data (rule 2) comes after, in tcp_write_xmit.
 * Rules 3 and 4 (retransmitting what is not known lost, the rescue
 * retransmission) are left out, as in Linux. Each goes within the peer's
 * window (tcp_retransmit_skb); the first that cannot ends the round, as
 * in Linux's tcp_xmit_retransmit_queue.
 */
void tcp_sack_xmit_lost(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->lost_out)
		return;
	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (tcp_packets_in_flight(tp) >= tp->snd_cwnd)
			break;
		if ((cb->sacked & (TCPCB_SACKED_ACKED | TCPCB_SACKED_RETRANS)) ||
		    !(cb->sacked & TCPCB_LOST))
			continue;
		/* (Paced as new data is: Linux's tcp_xmit_retransmit_queue) */
		if (sk->pacing && tcp_pacing_wait(sk))
			break;
		if (tcp_sack_retransmit(sk, skb) < 0)
			break;
	}
}
