/*
 * tcp_timer.c - TCP's timers: retransmission (RFC 6298) and zero-window
 * probing (RFC 9293 §3.8.6.1) on one timer, delayed ACK (RFC 1122
 * §4.2.3.2), and keepalive (RFC 1122 §4.2.3.6) sharing a timer with the
 * FIN_WAIT2 and TIME_WAIT (2 MSL, RFC 9293 §3.10.7.4) timeouts, as Linux
 * shares them. All run in the engine's time (st->now).
 */
#include <errno.h>

#include "net/tcp/tcp.h"
#include "stack/stack.h"

static us_time_t tcp_backed_off_rto(const struct tcp_sock *tp)
{
	us_time_t rto = (us_time_t)tp->rto_us << tp->backoff;

	return rto > TCP_RTO_MAX_US ? TCP_RTO_MAX_US : rto;
}

void tcp_reset_rto_timer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->probe_timer = false;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer,
		     sk->st->now + tcp_backed_off_rto(tp));
}

/*
 * An ACK came while the window is probed and the next segment still does
 * not fit: the next probe is due a backed-off RTO after this ACK, not
 * after the last probe (Linux's tcp_ack_probe), so probes follow the
 * peer's latest word.
 */
void tcp_ack_probe(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->probe_timer || !us_timer_pending(&tp->retrans_timer) ||
	    !tp->send_head || tp->snd_nxt != tp->snd_una)
		return;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer,
		     sk->st->now + tcp_backed_off_rto(tp));
}

/* After an ACK: stop the timer when nothing is outstanding, else restart
 * it for the oldest unacknowledged segment (RFC 6298 §5.2-5.3). */
void tcp_rearm_rto(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->snd_una == tp->snd_max) {
		if (!tp->probe_timer)
			us_timer_del(&sk->st->timers, &tp->retrans_timer);
		return;
	}
	tcp_reset_rto_timer(sk);
}

/*
 * RFC 6298 §2.2-2.3: the first measurement sets SRTT = R, RTTVAR = R/2;
 * later ones move them by 1/8 and 1/4. RTO = SRTT + max(G, 4 RTTVAR) with
 * Linux's 200 ms (tcp_rto_min) as G, so RTO is never less than SRTT +
 * 200 ms, and at most 120 s (RFC 6298 §2.4 allows a floor below 1 s).
 * A valid measurement also ends the backoff (RFC 6298 §5.7 and Karn's
 * algorithm: until then the backed-off RTO stays).
 */
void tcp_rtt_sample(struct tcp_sock *tp, us_time_t rtt_us)
{
	uint32_t r = rtt_us > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)rtt_us;
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (tp->srtt_us == 0) {
		tp->srtt_us = r;
		tp->rttvar_us = r / 2;
	} else {
		uint32_t delta = tp->srtt_us > r ? tp->srtt_us - r : r - tp->srtt_us;

		tp->rttvar_us = (3 * tp->rttvar_us + delta) / 4;
		tp->srtt_us = (7 * tp->srtt_us + r) / 8;
	}
	rto = 4ull * tp->rttvar_us;
	if (rto < TCP_RTO_MIN_US)
		rto = TCP_RTO_MIN_US;
	rto += tp->srtt_us;
	if (rto > TCP_RTO_MAX_US)
		rto = TCP_RTO_MAX_US;
	tp->rto_us = (uint32_t)rto;
	tp->backoff = 0;
}

static void tcp_write_err(struct sock *sk, int err)
{
	sk->err = err;
	if (sk->sk_socket)
		sk->sk_error_report(sk);
	tcp_done(sk);
}

static void tcp_probe_timer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->send_head || tp->snd_nxt != tp->snd_una) {
		tp->probe_timer = false;
		return;
	}
	/* A window open, but too small for the next segment: part of it
	 * goes, and the retransmission timer takes over. */
	if (tp->snd_wnd && tcp_write_wakeup(sk)) {
		tp->probes_out = 0;
		return;
	}
	tcp_send_probe(sk);
	tp->probes_out++;
	if (tp->backoff < 16)
		tp->backoff++;
	tp->probe_timer = true;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer,
		     sk->st->now + tcp_backed_off_rto(tp));
}

/* RFC 6298 §5.4-5.7 and RFC 5681 §3.1: on a timeout, back off, shrink the
 * congestion window to one segment and send the queue again from the
 * oldest unacknowledged segment. */
static void tcp_retransmit_timer(struct us_timer *t, us_time_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, retrans_timer);
	struct sock *sk = &tp->sk;
	int limit = TCP_RETRIES2;
	uint32_t flight;

	(void)now;
	if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN)
		return;
	if (tp->probe_timer) {
		tcp_probe_timer(sk);
		return;
	}
	if (tp->snd_una == tp->snd_max)
		return;
	if (sk->state == TCP_SYN_SENT)
		limit = tp->syn_retries ? tp->syn_retries : TCP_SYN_RETRIES;
	else if (sk->state == TCP_SYN_RECV)
		limit = TCP_SYNACK_RETRIES;
	if (tp->retransmits >= limit) {
		tcp_write_err(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
		return;
	}
	us_mib_inc(sk->st, US_MIB_TCP_TIMEOUTS);
	flight = tp->snd_max - tp->snd_una;
	tp->snd_ssthresh = flight / 2 > 2u * tp->mss_cache ?
			   flight / 2 / tp->mss_cache : 2;
	tp->snd_cwnd = 1;
	tp->cwnd_acked = 0;
	tp->in_recovery = false;
	/* RFC 6582 §3.2 step 6: duplicate ACKs for what was sent before the
	 * timeout must not start a fast retransmit. */
	tp->high_seq = tp->snd_max;
	tp->dupacks = 0;
	tp->retransmits++;
	if (tp->backoff < 16)
		tp->backoff++;
	/* Go back: everything unacknowledged counts as unsent again. */
	tp->snd_nxt = tp->snd_una;
	tp->send_head = skb_peek(&sk->write_queue);
	tcp_write_xmit(sk, true);
	tcp_reset_rto_timer(sk);
}

static void tcp_delack_timer(struct us_timer *t, us_time_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, delack_timer);

	(void)now;
	if (tp->ack_pending)
		tcp_send_ack(&tp->sk);
}

static void tcp_keepalive_fire(struct sock *sk, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t idle = now - tp->last_rcv;
	us_time_t keepidle = (us_time_t)tp->keepidle_s * US_USEC_PER_SEC;
	us_time_t intvl = (us_time_t)tp->keepintvl_s * US_USEC_PER_SEC;

	if (!sk->keepalive || sk->state != TCP_ESTABLISHED)
		return;
	if (idle < keepidle) {
		tp->probes_out = 0;
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     tp->last_rcv + keepidle);
		return;
	}
	if (tp->probes_out >= tp->keepcnt) {
		tcp_send_active_reset(sk);
		tcp_write_err(sk, ETIMEDOUT);
		return;
	}
	tcp_send_probe(sk);
	tp->probes_out++;
	us_timer_mod(&sk->st->timers, &tp->keepalive_timer, now + intvl);
}

static void tcp_keepalive_timer(struct us_timer *t, us_time_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, keepalive_timer);
	struct sock *sk = &tp->sk;

	switch (sk->state) {
	case TCP_TIME_WAIT:
		tcp_done(sk);
		return;
	case TCP_FIN_WAIT2:
		/* An orphan that the peer never finished (Linux's
		 * tcp_fin_timeout) is let go. */
		if (!sk->sk_socket)
			tcp_done(sk);
		return;
	default:
		tcp_keepalive_fire(sk, now);
	}
}

void tcp_init_timers(struct tcp_sock *tp)
{
	us_timer_init(&tp->retrans_timer, tcp_retransmit_timer);
	us_timer_init(&tp->delack_timer, tcp_delack_timer);
	us_timer_init(&tp->keepalive_timer, tcp_keepalive_timer);
}

void tcp_clear_timers(struct tcp_sock *tp)
{
	struct us_timer_base *b = &tp->sk.st->timers;

	us_timer_del(b, &tp->retrans_timer);
	us_timer_del(b, &tp->delack_timer);
	us_timer_del(b, &tp->keepalive_timer);
	tp->probe_timer = false;
}

void tcp_reset_keepalive(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->keepalive && sk->state == TCP_ESTABLISHED)
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     tp->last_rcv +
			     (us_time_t)tp->keepidle_s * US_USEC_PER_SEC);
	else if (sk->state == TCP_ESTABLISHED)
		us_timer_del(&sk->st->timers, &tp->keepalive_timer);
}

/* Turning keepalive on arms the timer a keepalive time from now (Linux's
 * tcp_set_keepalive); turning it off stops it. */
void tcp_set_keepalive(struct sock *sk, bool on)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->state != TCP_ESTABLISHED)
		return;
	if (on && !sk->keepalive)
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     sk->st->now +
			     (us_time_t)tp->keepidle_s * US_USEC_PER_SEC);
	else if (!on)
		us_timer_del(&sk->st->timers, &tp->keepalive_timer);
}

/* RFC 9293 §3.10.7.4: TIME-WAIT lasts 2 MSL, then the connection is gone. */
void tcp_time_wait(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct us_timer_base *b = &sk->st->timers;

	tcp_set_state(sk, TCP_TIME_WAIT);
	us_timer_del(b, &tp->retrans_timer);
	us_timer_del(b, &tp->delack_timer);
	tp->probe_timer = false;
	us_timer_mod(b, &tp->keepalive_timer, sk->st->now + 2 * sk->st->tcp.msl_us);
	if (sk->sk_socket)
		sk->sk_state_change(sk);
}

/* An orphan in FIN_WAIT2 waits linger2 seconds for the peer's FIN. */
void tcp_fin_wait2_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
		     sk->st->now + (us_time_t)tp->linger2_s * US_USEC_PER_SEC);
}
