// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_pacing.c - TCP's own pacing, as Linux paces a connection when no fq
 * qdisc does it (tcp_needs_internal_pacing): once SO_MAX_PACING_RATE gave
 * the socket a limit (sock.pacing), each segment sent moves the time the
 * next one may go on by its payload's time at the pacing rate, and data
 * waits for that time on a timer of its own.
 *
 * The pacing rate is Linux's tcp_update_pacing_rate's: 200 % of
 * cwnd * MSS per SRTT in slow start (below half ssthresh), 120 % after,
 * and never above SO_MAX_PACING_RATE; ~0 (no pacing) before an RTT is
 * known. An algorithm that chooses its own (BBR: ops->pacing_rate, which
 * also turns pacing on) replaces it, as Linux's sk_pacing_rate is then
 * the algorithm's. Linux's rules kept here (tcp_update_skb_after_send):
 *   - the first ten data segments go unpaced;
 *   - a sender idle past its time gets some back: up to half of the
 *     segment's own time (the credit);
 *   - every segment counts, retransmissions too; a segment without
 *     payload moves the time to now at most.
 * A device with TSO takes packets of at most the pacing rate's 1/1024
 * second (tcp_tso_autosize, at least two segments), so a paced burst
 * stays short. Unlike Linux, which sizes its TSO packets so for every
 * connection, ustack does it for paced ones only.
 *
 * Call chain: setsockopt(SO_MAX_PACING_RATE) -> sock_set_max_pacing_rate;
 * tcp_write_xmit -> tcp_pacing_wait (stop?) ... tcp_transmit ->
 * tcp_pacing_sent; the timer -> tcp_pace_timer -> tcp_write_xmit.
 */
#include <stdint.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

#define TCP_PACING_SS_RATIO 200      /* net.ipv4.tcp_pacing_ss_ratio, % */
#define TCP_PACING_CA_RATIO 120      /* net.ipv4.tcp_pacing_ca_ratio, % */
#define TCP_PACING_SHIFT 10          /* Linux's sk_pacing_shift: 1/1024 s */
#define TCP_TSO_RTT_LOG 9            /* net.ipv4.tcp_tso_rtt_log */
#define TCP_MIN_TSO_SEGS 2           /* net.ipv4.tcp_min_tso_segs */
#define TCP_GSO_MAX_SIZE 65536       /* Linux's sk_gso_max_size (legacy) */
#define TCP_PACING_UNPACED_SEGS 10   /* tcp_update_skb_after_send's 10 */

uint64_t tcp_pacing_rate(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t rate = UINT64_MAX, max = UINT64_MAX;
	uint32_t segs;

	if (tp->ca_ops && tp->ca_ops->pacing_rate &&
	    (rate = tp->ca_ops->pacing_rate(sk)) != 0) {
		/* (The algorithm's, capped when it was set; SO_MAX_PACING_RATE
		 * set since caps it at once, as Linux's sock_setsockopt.) */
		max = sk_max_pacing_rate(sk);
		return rate < max ? rate : max;
	}
	rate = UINT64_MAX;
	if (tp->srtt_us && sk->state != TCP_SYN_SENT &&
	    sk->state != TCP_SYN_RECV && sk->state != TCP_LISTEN) {
		segs = tp->snd_cwnd > tp->packets_out ? tp->snd_cwnd
						      : tp->packets_out;
		rate = (uint64_t)tp->mss_cache * 10000 * segs;
		rate *= tp->snd_cwnd < tp->snd_ssthresh / 2
			? TCP_PACING_SS_RATIO : TCP_PACING_CA_RATIO;
		rate /= tp->srtt_us;
	}
	if (sk->pacing)
		max = sk_max_pacing_rate(sk);
	return rate < max ? rate : max;
}

/* The timer's end: what waited may go (Linux's tcp_pace_kick, then
 * tcp_tsq_write). */
static void tcp_pace_timer(struct us_timer *t, us_time_t now)
{
	struct sock_ext *e = container_of(t, struct sock_ext, pace_timer);
	struct sock *sk = (struct sock *)e->sk;

	(void)now;
	if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN ||
	    sk->state == TCP_SYN_SENT)
		return;
	tcp_write_xmit(sk, true);
}

bool tcp_pacing_wait(struct sock *sk)
{
	struct ustack *st = sk->st;
	struct sock_ext *e = sock_ext(sk, false);
	us_time_t when;

	if (!e || e->pace_next_ns <= st->now * 1000)
		return false;
	if (!e->pace_timer_ready) {
		us_timer_init(&e->pace_timer, tcp_pace_timer);
		e->pace_timer_ready = true;
	}
	/* (The clock counts microseconds: the first one not before it.) */
	when = (e->pace_next_ns + 999) / 1000;
	if (!us_timer_pending(&e->pace_timer) ||
	    e->pace_timer.expires != when)
		us_timer_mod(&st->timers, &e->pace_timer, when);
	return true;
}

void tcp_pacing_sent(struct sock *sk, uint32_t len)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sock_ext *e = sock_ext(sk, false);
	uint64_t now = sk->st->now * 1000, prior, rate, len_ns, credit;

	if (!e)
		return;
	prior = e->pace_next_ns;
	e->pace_next_ns = prior > now ? prior : now;
	if (!len || tp->data_segs_out < TCP_PACING_UNPACED_SEGS)
		return;
	rate = tcp_pacing_rate(sk);
	if (rate == UINT64_MAX || !rate)
		return;
	len_ns = (uint64_t)len * 1000000000ULL / rate;
	credit = e->pace_next_ns - prior;
	len_ns -= credit < len_ns / 2 ? credit : len_ns / 2;
	e->pace_next_ns += len_ns;
}

unsigned int tcp_pacing_tso_segs(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t bytes = tcp_pacing_rate(sk) >> TCP_PACING_SHIFT;
	uint32_t r = tp->min_rtt_us == UINT32_MAX
		     ? UINT32_MAX : tp->min_rtt_us >> TCP_TSO_RTT_LOG;
	uint64_t segs, min = TCP_MIN_TSO_SEGS;

	if (tp->ca_ops && tp->ca_ops->min_tso_segs)
		min = tp->ca_ops->min_tso_segs(sk);   /* (Linux's tcp_tso_segs) */
	/* (A short RTT allows more: 64 KB at 512 us, half that at 1 ms...) */
	if (r < 32)
		bytes += TCP_GSO_MAX_SIZE >> r;
	if (bytes > TCP_GSO_MAX_SIZE)
		bytes = TCP_GSO_MAX_SIZE;
	segs = tp->mss_cache ? bytes / tp->mss_cache : 0;
	return segs > min ? (unsigned int)segs : (unsigned int)min;
}

void tcp_pacing_stop(struct sock *sk)
{
	struct sock_ext *e = sock_ext(sk, false);

	if (e && e->pace_timer_ready)
		us_timer_del(&sk->st->timers, &e->pace_timer);
}
