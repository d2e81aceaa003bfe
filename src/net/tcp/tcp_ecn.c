// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_ecn.c - Explicit Congestion Notification for TCP (RFC 3168 §6.1), as
 * Linux does it with net.ipv4.tcp_ecn 1 (ask and accept) or 2 (accept
 * when asked, the default), and tcp_ecn_fallback.
 *
 * Negotiation (§6.1.1): a connecting SYN asks with ECE and CWR; a
 * listener accepts a SYN with both that came not-ECT (a network that
 * rewrites the field would mark it: Linux refuses those), and its SYN-ACK
 * says so with ECE alone. A SYN sent again goes without them (§6.1.1.1,
 * tcp_ecn_fallback), though the SYN-ACK may still agree.
 *
 * Sending (§6.1.2, §6.1.5): new data goes ECT(0), and nothing else (not
 * retransmissions, pure ACKs, probes, SYNs, a bare FIN); the first new data
 * after any reduction of the window carries CWR; while the peer's CE mark
 * is not yet answered with CWR every segment carries ECE.
 *
 * Receiving (§6.1.3): a CE mark on data (or on a bare FIN out of order)
 * makes us echo ECE until a segment with CWR and an acceptable ACK comes,
 * and ACK at once (Linux's quick ACKs, two); a not-ECT segment after ECT
 * ones is probably a retransmission: quick ACKs too. An
 * ACK with ECE while data is in flight reduces the window once per window
 * of data (§6.1.2): Linux's CWR state, ssthresh by the algorithm, the
 * window brought down by PRR (tcp_prr.c), over when an ACK passes the
 * point; in fast recovery or after a timeout it only forbids an undo.
 *
 * Not done: Accurate ECN (Linux's tcp_ecn 3-5, refused here), and Linux
 * 6.18's reading of a SYN-ACK with CWR as an AccECN answer (taken as "no
 * ECN", RFC 3168's reading); the counts of received codepoints
 * (tcpi_received_*).
 *
 * Call chain: tcp_send_syn / the listener's child -> tcp_ecn_syn_flags,
 * tcp_ecn_syn_in; tcp_rcv_synsent -> tcp_ecn_synack_in; tcp_transmit /
 * tcp_send_ctl -> tcp_ecn_out; tcp_rcv_state_process -> tcp_ecn_in;
 * tcp_ack -> tcp_ecn_accept_cwr, tcp_ecn_ack; tcp_data_queue ->
 * tcp_ecn_data_in; window reductions -> tcp_ecn_queue_cwr, an undo ->
 * tcp_ecn_withdraw_cwr.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "net/sock.h"
#include "stack/stack.h"

#define INET_ECN_MASK 3
#define INET_ECN_ECT_0 2
#define INET_ECN_CE 3

/* The SYN a connect() sends asks for ECN with net.ipv4.tcp_ecn 1; its
 * retransmissions do without, unless tcp_ecn_fallback is 0. */
uint8_t tcp_ecn_syn_flags(struct sock *sk, bool again)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!again) {
		tp->ecn_ok = sk->st->sysctl.tcp_ecn == 1;
		return tp->ecn_ok ? TCPHDR_ECE | TCPHDR_CWR : 0;
	}
	return tp->ecn_ok && !sk->st->sysctl.tcp_ecn_fallback
	       ? TCPHDR_ECE | TCPHDR_CWR : 0;
}

/* A listener's child: the SYN asked with both flags, came not-ECT (or
 * with AE or a reserved bit: an AccECN offer, answered with classic ECN),
 * and ECN is not off (Linux's tcp_ecn_create_request). ae_rsv: the header
 * byte before the flags' low four bits. */
void tcp_ecn_syn_in(struct sock *sk, uint8_t syn_flags, uint8_t ae_rsv,
		    uint8_t ip_ecn)
{
	tcp_sk(sk)->ecn_ok = sk->st->sysctl.tcp_ecn &&
			     (syn_flags & (TCPHDR_ECE | TCPHDR_CWR)) ==
			     (TCPHDR_ECE | TCPHDR_CWR) &&
			     (!ip_ecn || (ae_rsv & 0x0f));
}

/* A simultaneous open's SYN (Linux's tcp_ecn_rcv_syn): ECN stays only if
 * ours asked and it asks too. */
void tcp_ecn_simul_syn_in(struct sock *sk, uint8_t syn_flags)
{
	if ((syn_flags & (TCPHDR_ECE | TCPHDR_CWR)) !=
	    (TCPHDR_ECE | TCPHDR_CWR))
		tcp_sk(sk)->ecn_ok = false;
}

/* Our SYN asked: ECE alone agrees, anything else declines. */
void tcp_ecn_synack_in(struct sock *sk, uint8_t flags)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if ((flags & (TCPHDR_ECE | TCPHDR_CWR)) != TCPHDR_ECE)
		tp->ecn_ok = false;
}

/*
 * The flags and IP ECN field a segment goes with (Linux's tcp_ecn_send):
 * new data (payload, first transmission) ECT(0), with CWR once after a
 * reduction; everything else not-ECT; ECE while a CE waits for our peer's
 * CWR. The socket's TOS keeps the field of the last segment (Linux's
 * inet->tos: getsockopt(IP_TOS) shows it).
 */
void tcp_ecn_out(struct sock *sk, struct tcp_out *o, bool new_data)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ecn_ok || (o->flags & TCPHDR_SYN))
		return;
	o->tos &= (uint8_t)~INET_ECN_MASK;
	if (new_data) {
		o->tos |= INET_ECN_ECT_0;
		if (tp->ecn_queue_cwr) {
			tp->ecn_queue_cwr = false;
			o->flags |= TCPHDR_CWR;
		}
	}
	if (tp->ecn_demand_cwr)
		o->flags |= TCPHDR_ECE;
	sk->tos = (uint8_t)((sk->tos & ~INET_ECN_MASK) | (o->tos & INET_ECN_MASK));
}

/* The window was reduced (a recovery, a timeout, ECE): the next new data
 * says so with CWR. */
void tcp_ecn_queue_cwr(struct tcp_sock *tp)
{
	if (tp->ecn_ok)
		tp->ecn_queue_cwr = true;
}

void tcp_ecn_withdraw_cwr(struct tcp_sock *tp)
{
	tp->ecn_queue_cwr = false;
}

/* A segment the connection took (after the sequence checks): Linux 6.18
 * notes an ECT or CE segment of any kind on a connection without ECN
 * (TCPI_OPT_ECN_SEEN; tcp_ecn_received_counters). */
void tcp_ecn_in(struct sock *sk, uint8_t ip_ecn)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ecn_ok && ip_ecn)
		tp->ecn_seen = true;
}

/*
 * A CWR on a segment whose ACK tcp_ack takes (not one of data never
 * sent, nor one older than SND.UNA: Linux's tcp_ecn_accept_cwr, reached
 * past those checks) ends our echo (RFC 3168 §6.1.3), on a pure ACK too
 * (a deviation from §6.1.2's CWR on data only, for peers that send it
 * so), and data with it is ACKed at once: the sender's window may be
 * down to one segment.
 */
void tcp_ecn_accept_cwr(struct sock *sk, uint32_t payload)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ecn_ok)
		return;
	tp->ecn_demand_cwr = false;
	if (payload)
		tcp_rx(tp)->ecn_ack_now = true;
}

/* Data in the window, in order or not, or a bare FIN out of order
 * (Linux's tcp_data_ecn_check): a CE mark starts our echo, with quick
 * ACKs; not-ECT after ECT ones is probably a retransmission: quick ACKs
 * too. */
void tcp_ecn_data_in(struct sock *sk, uint8_t ip_ecn)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ecn_ok)
		return;
	switch (ip_ecn) {
	case 0:
		if (tp->ecn_seen)
			tcp_delack_enter_quickack(sk, 2);
		break;
	case INET_ECN_CE:
		if (!tp->ecn_demand_cwr) {
			tcp_delack_enter_quickack(sk, 2);
			tp->ecn_demand_cwr = true;
		}
		tp->ecn_seen = true;
		break;
	default:
		tp->ecn_seen = true;
	}
}

/* Linux's tcp_enter_cwr: in Open or Disorder, a reduction of its own. */
static void tcp_enter_cwr(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_undo_forget(sk);   /* (Linux's undo_marker 0) */
	tp->cwr_high = tp->snd_max;
	tp->snd_ssthresh = tcp_ca_ssthresh(sk);
	tcp_prr_init(sk);   /* (which queues the CWR) */
	tp->in_cwr = true;
}

/*
 * The ACK in hand (tcp_ack, after a recovery it ended, before the window
 * grows): the CWR state ends past its point (the window at ssthresh);
 * an ECE with data in flight (tcp_rx's ece: it forbade any undo at once)
 * starts a reduction out of any other, but in a timeout's loss state that
 * this ACK does not end (Linux leaves CA_Loss before it looks at ECE;
 * NewReno's holds at the point). True while the state lasts: the window
 * is PRR's, not the algorithm's.
 */
bool tcp_ecn_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool in_loss = tp->rto_episode &&
		       (seq_lt(tp->snd_una, tp->high_seq) ||
			(!tp->sack_ok && tp->snd_una == tp->high_seq));

	if (tp->in_cwr && seq_gt(tp->snd_una, tp->cwr_high)) {
		/* (An algorithm with cong_control keeps its window: Linux's
		 * tcp_end_cwnd_reduction.) */
		if (!tcp_ca_controls(tp))
			tp->snd_cwnd = tp->snd_ssthresh;
		tp->in_cwr = false;
	}
	if (tcp_rx(tp)->ece && !tp->in_recovery && !tp->in_cwr && !in_loss)
		tcp_enter_cwr(sk);
	return tp->in_cwr;
}
