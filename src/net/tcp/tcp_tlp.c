/*
 * tcp_tlp.c - Tail Loss Probe (RFC 8985 §7), as Linux sends it with
 * net.ipv4.tcp_early_retrans = 3 (the default): when the last segments of
 * a flight are lost no duplicate ACK comes back, and only the RTO would
 * find the loss. A probe timeout (PTO) of about two round trips instead
 * sends one segment, new data if the window allows or else the last one
 * sent; its ACK (with SACK) then shows what is missing and fast recovery
 * repairs it. At most one probe is outstanding; if it goes unanswered the
 * RTO follows.
 *
 * Call chain: tcp_write_xmit (data sent) and tcp_rearm_rto (an ACK of new
 *             data) -> tcp_tlp_schedule; tcp_retransmit_timer ->
 *             tcp_tlp_fire; tcp_ack -> tcp_tlp_ack.
 *
 * Like Linux, probes go only on SACK connections (RACK-TLP is specified
 * for them; without SACK the probe's ACK could not say which segment
 * arrived), in the open state: not in fast recovery, not after a timeout
 * until its recovery point is reached, and not while anything is SACKed
 * or retransmitted.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

void tcp_tlp_reset(struct tcp_sock *tp)
{
	tp->tlp_high_seq = 0;
	tp->tlp_timer = false;
}

static bool tcp_tlp_allowed(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	int er = sk->st->sysctl.tcp_early_retrans;

	return (er == 3 || er == 4) && tp->sack_ok && tp->packets_out &&
	       sk->state != TCP_SYN_SENT && sk->state != TCP_SYN_RECV &&
	       !tp->in_recovery && !tp->retransmits && !tp->probe_timer &&
	       !tp->sacked_out && !tp->retrans_out && !tp->lost_out &&
	       !seq_lt(tp->snd_una, tp->high_seq);
}

/*
 * RFC 8985 §7.2: PTO = 2 * SRTT; with one segment in flight, plus the
 * worst-case delayed ACK (WCDelAckT, 200 ms: Linux adds tcp_rto_min),
 * else plus Linux's 2 ms; 1 s without an RTT sample. Never later than
 * the RTO would fire.
 */
void tcp_tlp_schedule(struct sock *sk, bool advancing_rto)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *head = skb_peek(&sk->write_queue);
	us_time_t now = sk->st->now, pto, rto_left;

	if (!tcp_tlp_allowed(sk))
		return;
	if (tp->srtt_us)
		pto = 2ull * tp->srtt_us + (tp->packets_out == 1 ?
					    tcp_rto_min(tp) : TCP_TIMEOUT_MIN_US);
	else
		pto = TCP_TIMEOUT_INIT_US;
	if (advancing_rto) {
		rto_left = tcp_backed_off_rto(tp);
	} else {
		us_time_t due = (head ? TCP_SKB_CB(head)->sent : now) +
				tcp_backed_off_rto(tp);

		rto_left = due > now ? due - now : 0;
	}
	if (rto_left && rto_left < pto)
		pto = rto_left;
	tp->tlp_timer = true;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer, now + pto);
}

static void tcp_tlp_rto_from_head(struct sock *sk)
{
	struct sk_buff *head = skb_peek(&sk->write_queue);
	us_time_t now = sk->st->now, due;

	if (!head || !TCP_SKB_CB(head)->sent)
		return;
	due = TCP_SKB_CB(head)->sent + tcp_backed_off_rto(tcp_sk(sk));
	us_timer_mod(&sk->st->timers, &tcp_sk(sk)->retrans_timer,
		     due > now ? due : now + 1);
}

/* The last segment sent (the one before send_head), or NULL. */
static struct sk_buff *tcp_tlp_last_sent(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct list_head *l = tp->send_head ? tp->send_head->list.prev
					    : sk->write_queue.list.prev;

	return l == &sk->write_queue.list ? NULL
					   : list_entry(l, struct sk_buff, list);
}

/* New data for the probe: one segment more than cwnd allows, if the
 * peer's window has room (Linux's tcp_write_xmit with push_one = 2), and
 * whatever Nagle or TCP_CORK say (Linux passes TCP_NAGLE_OFF): a short
 * segment they held back is the probe, else nothing would go before the
 * RTO. */
static bool tcp_tlp_new_data(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb = tp->send_head;
	uint32_t before = tp->packets_out;

	if (!skb || seq_gt(TCP_SKB_CB(skb)->end_seq, tp->snd_una + tp->snd_wnd))
		return false;
	tp->snd_cwnd++;
	tcp_write_xmit_nagle_off(sk);
	tp->snd_cwnd--;
	return tp->packets_out != before;
}

/* RFC 8985 §7.3: the PTO fired. */
void tcp_tlp_fire(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool fits = tp->send_head &&
		    !seq_gt(TCP_SKB_CB(tp->send_head)->end_seq,
			    tp->snd_una + tp->snd_wnd);
	struct sk_buff *last;

	tp->tlp_timer = false;
	/* At most one probe outstanding (§7.3: TLP.end_seq is set). */
	if (tp->tlp_high_seq)
		goto rearm;
	if (fits) {
		if (!tcp_tlp_new_data(sk))
			goto rearm;
		tp->tlp_retrans = false;
	} else {
		last = tcp_tlp_last_sent(sk);
		if (!last || tcp_retransmit_skb(sk, last) < 0)
			goto rearm;
		tp->tlp_retrans = true;
	}
	tp->tlp_high_seq = tp->snd_nxt;
	us_mib_inc(sk->st, US_MIB_TCP_LOSS_PROBES);
	/* §7.3: the RTO is restarted from now, for if the probe is lost. */
	tcp_reset_rto_timer(sk);
	return;
rearm:
	/* No probe: the RTO stays where the first unacknowledged segment
	 * put it (Linux's tcp_rearm_rto after a loss-probe timer). */
	tcp_reset_rto_timer(sk);
	tcp_tlp_rto_from_head(sk);
}

/*
 * RFC 8985 §7.4 (Linux's tcp_process_tlp_ack): once the ACK reaches
 * TLP.end_seq the episode is over. A probe of new data needs nothing
 * more; a retransmitted probe that the peer reports as a duplicate
 * (D-SACK) or that comes back as a bare duplicate ACK found no loss; an
 * ACK beyond TLP.end_seq means the probe repaired a loss that nothing
 * else saw, and the window is reduced as for a loss (§7.4.2).
 */
void tcp_tlp_ack(struct sock *sk, uint32_t ack, bool pure_dupack)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->tlp_high_seq || seq_lt(ack, tp->tlp_high_seq))
		return;
	if (!tp->tlp_retrans ||
	    (tcp_rx(tp)->dsack && tcp_rx(tp)->dsack_end == tp->tlp_high_seq)) {
		tp->tlp_high_seq = 0;
	} else if (seq_gt(ack, tp->tlp_high_seq)) {
		tp->snd_ssthresh = tcp_ca_ssthresh(sk);
		/* (Linux's tcp_end_cwnd_reduction: not for cong_control.) */
		if (!tcp_ca_controls(tp))
			tp->snd_cwnd = tp->snd_ssthresh;
		tp->cwnd_acked = 0;
		tp->tlp_high_seq = 0;
		tcp_ecn_queue_cwr(tp);   /* (a reduction: RFC 3168 §6.1.2) */
		us_mib_inc(sk->st, US_MIB_TCP_LOSS_PROBE_RECOVERY);
	} else if (pure_dupack) {
		tp->tlp_high_seq = 0;
	}
}
