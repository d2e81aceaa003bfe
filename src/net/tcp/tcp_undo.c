/*
 * tcp_undo.c - undoing a fast recovery that was not needed, as Linux's
 * tcp_try_undo_dsack does: when the peer reports with D-SACKs (RFC 2883
 * §4.2) that it received every segment the recovery sent again twice, no
 * segment was lost (they were reordered or delayed), and the congestion
 * window and ssthresh go back to what they were before the reduction
 * (the algorithm's undo_cwnd, else Reno's: the window before the
 * recovery, Linux's tcp_reno_undo_cwnd).
 *
 * The state (which recovery, how many of its retransmissions are not yet
 * D-SACKed, the ssthresh to go back to) lives with RACK's (struct
 * tcp_rack), so this works on SACK connections with net.ipv4.tcp_recovery
 * on. A timeout ends the chance of undo (Linux undoes those too, with
 * F-RTO or timestamps: not here), and so does the next recovery.
 *
 * Call chain: tcp_sack_enter_recovery -> tcp_undo_mark;
 *             tcp_sack_retransmit -> tcp_undo_retransmitted;
 *             tcp_rack_dsack -> tcp_undo_dsack; tcp_rack_ack ->
 *             tcp_undo_check; tcp_sack_enter_loss -> tcp_undo_forget.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

static struct tcp_rack *tcp_undo_state(struct sock *sk)
{
	return tcp_rack_active(sk) ? tcp_sack_rack(sk, false) : NULL;
}

/* Linux's tcp_current_ssthresh: outside a reduction, at least 3/4 of the
 * window, so that an undo does not leave slow start too early. */
void tcp_undo_mark(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);
	uint32_t three_quarters = (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2);

	if (!r)
		return;
	r->undo_on = true;
	r->undo_marker = tp->snd_una;
	r->undo_retrans = tp->retrans_out ? (int32_t)tp->retrans_out : -1;
	r->prior_ssthresh = tp->snd_ssthresh > three_quarters ?
			    tp->snd_ssthresh : three_quarters;
}

void tcp_undo_forget(struct sock *sk)
{
	struct tcp_rack *r = tcp_sack_rack(sk, false);

	if (r)
		r->undo_on = false;
}

void tcp_undo_retransmitted(struct sock *sk)
{
	struct tcp_rack *r = tcp_undo_state(sk);

	if (!r || !r->undo_on)
		return;
	if (r->undo_retrans < 0)
		r->undo_retrans = 0;
	if (r->undo_retrans < INT32_MAX)
		r->undo_retrans++;
}

/* A D-SACK above the marker stands for that many retransmissions that
 * were duplicates (Linux's "dumb counting": the block is not matched
 * against the segments, which may be gone from the queue). */
void tcp_undo_dsack(struct sock *sk, uint32_t start, uint32_t end)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);
	uint32_t segs;

	if (!r || !r->undo_on || r->undo_retrans <= 0 ||
	    !seq_gt(end, r->undo_marker) || !seq_lt(start, end))
		return;
	segs = (end - start + tp->mss_cache - 1) / tp->mss_cache;
	r->undo_retrans = segs >= (uint32_t)r->undo_retrans ? 0 :
			  r->undo_retrans - (int32_t)segs;
}

/*
 * Every retransmission D-SACKed: back to the window before the recovery
 * (Linux's tcp_undo_cwnd_reduction). During the recovery only once
 * nothing is still marked lost or out again, and the recovery ends there
 * (Linux's tcp_try_to_open); else on a later ACK.
 */
void tcp_undo_check(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rack *r = tcp_undo_state(sk);
	uint32_t cwnd;

	if (!r || !r->undo_on || r->undo_retrans != 0)
		return;
	if (tp->in_recovery && (tp->lost_out || tp->retrans_out))
		return;
	if (tp->ca_ops->undo_cwnd)
		cwnd = tp->ca_ops->undo_cwnd(sk);
	else
		cwnd = tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd
						     : tp->prior_cwnd;
	tp->snd_cwnd = cwnd;
	if (r->prior_ssthresh > tp->snd_ssthresh)
		tp->snd_ssthresh = r->prior_ssthresh;
	tp->cwnd_acked = 0;
	tp->in_recovery = false;
	if (seq_lt(tp->snd_una, tp->high_seq))
		tp->high_seq = tp->snd_una;
	r->undo_on = false;
	if (r->reo_wnd_persist < 16)
		r->reo_wnd_persist++;   /* (as Linux) */
	us_mib_inc(sk->st, US_MIB_TCP_DSACK_UNDO);
}
