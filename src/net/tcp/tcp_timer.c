/*
 * tcp_timer.c - TCP's timers: retransmission (RFC 6298) and zero-window
 * probing (RFC 9293 §3.8.6.1) on one timer, delayed ACK (RFC 1122
 * §4.2.3.2), and keepalive (RFC 1122 §4.2.3.6) sharing a timer with the
 * FIN_WAIT2 and TIME_WAIT (2 MSL, RFC 9293 §3.10.7.4) timeouts, as Linux
 * shares them; TCP_USER_TIMEOUT (RFC 5482) bounds the first and the
 * third. All run in the engine's time (st->now).
 */
#include <errno.h>

#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

/* ---- the socket's bounds ------------------------------------------------ */

/*
 * TCP_RTO_MAX_MS, TCP_RTO_MIN_US and TCP_DELACK_MAX_US (Linux 6.15), and
 * the sysctls net.ipv4.tcp_rto_max_ms and tcp_rto_min_us a new socket
 * takes its first two from. Linux keeps them in jiffies, so they are
 * rounded up to TCP_TICK_US here too and read back as Linux reads them;
 * the floors must be two ticks to 200 ms once rounded. A socket whose
 * bounds are all the defaults keeps none (timer_bounds false).
 */
static const struct sock_ext *tcp_bounds(const struct tcp_sock *tp)
{
	return tp->timer_bounds ? sock_ext(&tp->sk, false) : NULL;
}

us_time_t tcp_rto_max(const struct tcp_sock *tp)
{
	const struct sock_ext *e = tcp_bounds(tp);

	return e ? e->rto_max_us : TCP_RTO_MAX_US;
}

us_time_t tcp_rto_min(const struct tcp_sock *tp)
{
	const struct sock_ext *e = tcp_bounds(tp);

	return e ? e->rto_min_us : TCP_RTO_MIN_TIME_US;
}

/* The delayed ACK's ceiling as set (TCP_DELACK_MAX_US reads it). */
static uint32_t tcp_delack_max_set(const struct tcp_sock *tp)
{
	const struct sock_ext *e = tcp_bounds(tp);

	return e ? e->delack_max_us : TCP_DELACK_MAX_TIME_US;
}

/* Linux's tcp_delack_max: its own, and a tick below the RTO's floor. */
us_time_t tcp_delack_max(const struct tcp_sock *tp)
{
	const struct sock_ext *e = tcp_bounds(tp);
	us_time_t floor;

	if (!e)
		return TCP_DELACK_MAX_TIME_US;
	floor = e->rto_min_us > 2 * TCP_TICK_US ? e->rto_min_us
						 : 2 * TCP_TICK_US;
	floor -= TCP_TICK_US;
	return e->delack_max_us < floor ? e->delack_max_us : floor;
}

static uint32_t tcp_round_tick(uint64_t us)
{
	uint64_t r = (us + TCP_TICK_US - 1) / TCP_TICK_US * TCP_TICK_US;

	return r > UINT32_MAX ? UINT32_MAX : (uint32_t)r;
}

static int tcp_bounds_store(struct sock *sk, uint32_t rto_max,
			    uint32_t rto_min, uint32_t delack_max)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool dfl = rto_max == TCP_RTO_MAX_US &&
		   rto_min == TCP_RTO_MIN_TIME_US &&
		   delack_max == TCP_DELACK_MAX_TIME_US;
	struct sock_ext *e = sock_ext(sk, !dfl);

	if (!e)
		return dfl ? 0 : -ENOMEM;
	e->rto_max_us = rto_max;
	e->rto_min_us = rto_min;
	e->delack_max_us = delack_max;
	tp->timer_bounds = !dfl;
	return 0;
}

int tcp_set_timer_bound(struct sock *sk, int optname, int val)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	uint32_t b[3] = { (uint32_t)tcp_rto_max(tp), (uint32_t)tcp_rto_min(tp),
			  tcp_delack_max_set(tp) };
	uint32_t us;

	if (optname == TCP_RTO_MAX_MS) {
		/* (in ms, checked before rounding, as Linux) */
		if (val < 1000 || val > 120000)
			return -EINVAL;
		b[0] = tcp_round_tick((uint64_t)val * 1000);
	} else {
		if (val < 0)
			return -EINVAL;
		us = tcp_round_tick((uint64_t)val);
		if (us < 2 * TCP_TICK_US || us > 200000)
			return -EINVAL;
		b[optname == TCP_RTO_MIN_US ? 1 : 2] = us;
	}
	return tcp_bounds_store(sk, b[0], b[1], b[2]);
}

int tcp_get_timer_bound(const struct sock *sk, int optname)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	if (optname == TCP_RTO_MAX_MS)
		return (int)(tcp_rto_max(tp) / 1000);
	if (optname == TCP_RTO_MIN_US)
		return (int)tcp_rto_min(tp);   /* (past INT_MAX: as Linux) */
	return (int)tcp_delack_max_set(tp);
}

void tcp_timer_bounds_init(struct sock *sk)
{
	const struct us_sysctl *c = &sk->st->sysctl;

	(void)tcp_bounds_store(sk,
			       tcp_round_tick((uint64_t)c->tcp_rto_max_ms * 1000),
			       tcp_round_tick((uint64_t)c->tcp_rto_min_us),
			       TCP_DELACK_MAX_TIME_US);
}

void tcp_timer_bounds_clone(struct sock *sk, const struct sock *parent)
{
	const struct tcp_sock *pp = tcp_sk((struct sock *)parent);

	(void)tcp_bounds_store(sk, (uint32_t)tcp_rto_max(pp),
			       (uint32_t)tcp_rto_min(pp), tcp_delack_max_set(pp));
}

/* (Linux's tcp_disconnect: the floor and the delayed ACK's ceiling go
 * back to the constants, not the sysctl; the RTO's ceiling stays.) */
void tcp_timer_bounds_disconnect(struct sock *sk)
{
	(void)tcp_bounds_store(sk, (uint32_t)tcp_rto_max(tcp_sk(sk)),
			       TCP_RTO_MIN_TIME_US, TCP_DELACK_MAX_TIME_US);
}

/* ---- the retransmission timer ------------------------------------------ */

/* A listener's child in SYN_RECV backs its SYN-ACK off to TCP_RTO_MAX
 * whatever its bounds: Linux 6.18's request sock does (a Fast Open
 * child, a full sock there, takes the socket's). */
us_time_t tcp_backed_off_rto(const struct tcp_sock *tp)
{
	us_time_t rto = (us_time_t)tp->rto_us << tp->backoff;
	us_time_t max = tp->sk.state == TCP_SYN_RECV && tp->parent &&
			!tp->fastopen_child ? TCP_RTO_MAX_US : tcp_rto_max(tp);

	return rto > max ? max : rto;
}

/*
 * A zero-window probe's delay (Linux's tcp_probe0_when): the RTO, never
 * under TCP_RTO_MIN whatever the socket's floor (tcp_probe0_base), shifted
 * by the backoff (at most ten times), at most the RTO's ceiling.
 */
us_time_t tcp_probe0_when(const struct tcp_sock *tp)
{
	us_time_t base = tp->rto_us > TCP_RTO_MIN_TIME_US ? tp->rto_us
							 : TCP_RTO_MIN_TIME_US;
	us_time_t when = base << (tp->backoff < 10 ? tp->backoff : 10);

	return when < tcp_rto_max(tp) ? when : tcp_rto_max(tp);
}

void tcp_reset_rto_timer_in(struct sock *sk, us_time_t delay)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->probe_timer = false;
	tp->tlp_timer = false;
	tcp_rack_timer_clear(tp);
	us_timer_mod(&sk->st->timers, &tp->retrans_timer,
		     sk->st->now + delay);
}

void tcp_reset_rto_timer(struct sock *sk)
{
	tcp_reset_rto_timer_in(sk, tcp_backed_off_rto(tcp_sk(sk)));
}

/*
 * Linux's tcp_clamp_probe0_to_user_timeout: with TCP_USER_TIMEOUT, the
 * next window probe is due no later than its end (counted from the first
 * probe), so that the abort is on time; never sooner than
 * TCP_TIMEOUT_MIN from now.
 */
static us_time_t tcp_clamp_probe0_to_user_timeout(const struct sock *sk,
						  us_time_t when)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	us_time_t ut = (us_time_t)tp->user_timeout_ms * 1000;
	us_time_t elapsed, remaining;

	if (!ut || !tp->retrans_stamp)
		return when;
	elapsed = sk->st->now - tp->retrans_stamp;
	remaining = elapsed < ut ? ut - elapsed : 0;
	if (remaining < TCP_TIMEOUT_MIN_US)
		remaining = TCP_TIMEOUT_MIN_US;
	return remaining < when ? remaining : when;
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
	us_timer_mod(&sk->st->timers, &tp->retrans_timer, sk->st->now +
		     tcp_clamp_probe0_to_user_timeout(sk,
						      tcp_probe0_when(tp)));
}

/* After an ACK: stop the timer when nothing is outstanding, else restart
 * it for the oldest unacknowledged segment (RFC 6298 §5.2-5.3). */
void tcp_rearm_rto(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->snd_una == tp->snd_max) {
		if (!tp->probe_timer)
			us_timer_del(&sk->st->timers, &tp->retrans_timer);
		tp->tlp_timer = false;
		tcp_rack_timer_clear(tp);
		return;
	}
	tcp_reset_rto_timer(sk);
	tcp_tlp_schedule(sk, true);   /* RFC 8985 §7.2 */
	tcp_rack_rearm(sk);           /* RFC 8985 §6.3 */
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
	uint64_t rto, floor, ceiling;

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
	floor = tcp_rto_min(tp);
	if (rto < floor)
		rto = floor;
	rto += tp->srtt_us;
	ceiling = tcp_rto_max(tp);
	if (rto > ceiling)
		rto = ceiling;
	tp->rto_us = (uint32_t)rto;
	tp->backoff = 0;
	tcp_info_rtt(tp, r);             /* TCP_INFO's min_rtt */
	tcp_rack_rtt_sample(tp, r);      /* RACK.min_RTT */
	tcp_ca_rtt_sample(&tp->sk, r);   /* the algorithm may watch delay */
}

void tcp_write_err(struct sock *sk, int err)
{
	sk->err = err;
	if (sk->sk_socket)
		sk_error_report(sk);
	tcp_done(sk);
}

/* Has the user closed the socket (Linux's SOCK_DEAD)? A listener's child
 * that no one accepted yet has no socket either, but is no orphan. */
static bool tcp_orphan(const struct sock *sk)
{
	return !sk->sk_socket && !tcp_sk((struct sock *)sk)->parent;
}

/* The probe timer sends: the data the window has room for, else a probe
 * (Linux's tcp_send_probe0). */
static void tcp_send_probe0(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* Data went (a window too small for the next segment, or a cork):
	 * the retransmission timer takes over, its backoff reset
	 * (tcp_write_xmit). */
	if (tp->snd_wnd && tcp_write_wakeup(sk)) {
		tp->probes_out = 0;
		return;
	}
	tcp_send_probe(sk);
	tp->probes_out++;
	if (tp->backoff < 16)
		tp->backoff++;
	tp->probe_timer = true;
	us_timer_mod(&sk->st->timers, &tp->retrans_timer, sk->st->now +
		     tcp_clamp_probe0_to_user_timeout(sk,
						      tcp_probe0_when(tp)));
}

/* Linux's "alive" for an orphan at a timeout: icsk_rto, the RTO this
 * timeout waited before it backs off again, is below TCP_RTO_MAX. */
static bool tcp_orphan_alive(const struct tcp_sock *tp)
{
	return tcp_backed_off_rto(tp) < tcp_rto_max(tp);
}

/*
 * Linux's tcp_orphan_retries: how many timeouts an orphan goes through,
 * counted as tcp_retries2 counts them. net.ipv4.tcp_orphan_retries, or,
 * at its default of 0, 8 (over 100 s from an RTO of 200 ms) while the
 * connection is "alive" (its backed-off RTO still below TCP_RTO_MAX), and
 * none once it is not; none either, whatever the sysctl, when it is not
 * alive and an ICMP error told us something is wrong (err_soft).
 */
static unsigned int tcp_orphan_retries(const struct sock *sk, bool alive)
{
	unsigned int retries = (unsigned int)sk->st->sysctl.tcp_orphan_retries;

	if (sk->err_soft && !alive)
		retries = 0;
	if (retries == 0 && alive)
		retries = TCP_ORPHAN_RETRIES;
	return retries;
}

/*
 * Linux's tcp_out_of_resources, for an orphan at a timeout (RTO or zero
 * window probe): with too many orphans (net.ipv4.tcp_max_orphans) it is
 * ended now rather than let finish. The limit counts twice as strict for
 * one that sent no data for 2 * TCP_RTO_MAX or is past its retries
 * (!do_reset), and twice again after an ICMP error (err_soft). The peer
 * is told with a RST when asked (the orphan is still alive), when data
 * went within TCP_TIMEWAIT_LEN, or when the window is closed with
 * nothing in flight; otherwise it ends in silence. Linux asks its memory
 * too (tcp_out_of_memory against net.ipv4.tcp_mem); ustack has no such
 * limit.
 */
static bool tcp_out_of_resources(struct sock *sk, bool do_reset)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int64_t idle = tcp_since_data_sent(sk);
	unsigned int shift = 0;

	if (idle > (int64_t)(2 * tcp_rto_max(tp)) || !do_reset)
		shift++;
	if (sk->err_soft)
		shift++;
	if (!tcp_too_many_orphans(sk->st, shift))
		return false;
	if (idle <= (int64_t)TCP_TIMEWAIT_LEN_US ||
	    (!tp->snd_wnd && !tp->packets_out))
		do_reset = true;
	us_mib_inc(sk->st, US_MIB_TCP_ABORT_ON_MEMORY);
	if (do_reset)
		tcp_send_active_reset(sk);
	tcp_done(sk);   /* (which may free it) */
	return true;
}

/*
 * Linux's tcp_probe_timer. RFC 1122 §4.2.2.17: a zero window is probed
 * for as long as the peer answers, however long it stays closed (every
 * acceptable ACK sets probes_out back to 0, in tcp_ack). The connection
 * ends (ETIMEDOUT, or the ICMP error heard meanwhile) after tcp_retries2
 * probes in a row went unanswered; with TCP_USER_TIMEOUT, once that long
 * has passed since the first probe, answers or not; and for an orphan,
 * after tcp_orphan_retries unanswered probes, or, once the backed-off
 * RTO reached TCP_RTO_MAX, when the backoff counts that many, answers or
 * not (at once with the sysctl at 0): no one will read what it would wait
 * for.
 */
static void tcp_probe_timer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t ut = (us_time_t)tp->user_timeout_ms * 1000;
	unsigned int max_probes =
		(unsigned int)sk->st->sysctl.tcp_retries2;

	if (!tp->send_head || tp->snd_nxt != tp->snd_una) {
		tp->probe_timer = false;
		tp->probes_out = 0;
		return;
	}
	if (!tp->retrans_stamp)
		tp->retrans_stamp = sk->st->now;
	else if (ut && sk->st->now - tp->retrans_stamp >= ut)
		goto abort;
	if (tcp_orphan(sk)) {
		/* Linux: alive while inet_csk_rto_backoff() is below
		 * TCP_RTO_MAX; once not, icsk_backoff counts the probes. */
		bool alive = tcp_orphan_alive(tp);

		max_probes = tcp_orphan_retries(sk, alive);
		if (!alive && tp->backoff >= max_probes)
			goto abort;
		if (tcp_out_of_resources(sk, true))
			return;
	}
	if (tp->probes_out < max_probes) {
		tcp_send_probe0(sk);
		return;
	}
abort:
	tcp_write_err(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
}

/*
 * Linux's tcp_model_timeout: how long `boundary` retransmissions take when
 * the RTO starts at rto_base and doubles up to rto_max (924.6 s for
 * tcp_retries2's 15 from 200 ms to TCP_RTO_MAX).
 */
static us_time_t tcp_model_timeout(unsigned int boundary, us_time_t rto_base,
				   us_time_t rto_max)
{
	unsigned int linear = 0;   /* ilog2(rto_max / rto_base) */

	while ((rto_base << (linear + 1)) <= rto_max)
		linear++;
	if (boundary <= linear)
		return ((2ull << boundary) - 1) * rto_base;
	return ((2ull << linear) - 1) * rto_base +
	       (us_time_t)(boundary - linear) * rto_max;
}

/*
 * Linux's retransmits_timed_out: a series of retransmissions has gone on
 * for timeout_us since its first (TCP_USER_TIMEOUT), or, without one, for
 * as long as `boundary` retransmissions would take from an RTO of
 * TCP_RTO_MIN. Time, not a count: an RTO kept short (RFC 6069's revert
 * for ICMP unreachables, a small SRTT) must not end the connection
 * sooner.
 */
static bool tcp_retransmits_timed_out(const struct sock *sk,
				      unsigned int boundary,
				      us_time_t timeout_us)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	if (!tp->retransmits)
		return false;
	if (!timeout_us)
		timeout_us = tcp_model_timeout(boundary, TCP_RTO_MIN_TIME_US,
					       tcp_rto_max(tp));
	return sk->st->now - tp->retrans_stamp >= timeout_us;
}

/*
 * Has the connection timed out (Linux's tcp_write_timeout)? The handshake
 * counts its retries (TCP_SYNCNT, tcp_syn_retries, tcp_synack_retries);
 * a connection of ours gives up on TCP_USER_TIMEOUT too (RFC 5482 §3.1),
 * counted from the first SYN, but a listener's child in SYN_RECV does
 * not (Linux's request sock, whose reqsk_timer_handler only counts).
 * Later, tcp_retries2 bounds the time since the first retransmission,
 * unless TCP_USER_TIMEOUT sets it (Linux counts from the first
 * retransmission, RFC 5482 from the first transmission; ustack follows
 * Linux). An orphan has tcp_orphan_retries instead of tcp_retries2, as
 * a time too (102.2 s for the default 8), and "alive" is Linux's
 * icsk_rto < TCP_RTO_MAX: the RTO this timeout waited, before it backs
 * off again. TCP_USER_TIMEOUT still decides for an orphan when set.
 */
static bool tcp_write_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t ut = (us_time_t)tp->user_timeout_ms * 1000;
	unsigned int retry_until;

	if (sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV ||
	    tp->fastopen_child) {
		/* A listener's TCP_SYNCNT (its children's syn_retries)
		 * bounds its SYN-ACKs too (Linux's reqsk_timer_handler);
		 * a simultaneous open's SYN_RECV counts as its SYN_SENT. */
		uint8_t syncnt = tp->parent ? tp->parent->syn_retries
					    : tp->syn_retries;

		if (syncnt)
			retry_until = syncnt;
		else if (tp->fastopen_child)
			/* One more for a Fast Open child, whom a user may
			 * hold already (Linux's tcp_fastopen_synack_timer;
			 * it then hears ETIMEDOUT). */
			retry_until = (unsigned int)
				      sk->st->sysctl.tcp_synack_retries + 1;
		else if (tp->parent)
			retry_until = (unsigned int)
				      sk->st->sysctl.tcp_synack_retries;
		else
			retry_until = (unsigned int)
				      sk->st->sysctl.tcp_syn_retries;
		if (sk->state == TCP_SYN_SENT)
			retry_until += (unsigned int)
				       sk->st->sysctl.tcp_syn_linear_timeouts;
		if (tp->retransmits >= retry_until &&
		    !tcp_defer_accept_waits(tp, false))
			return true;
		/* (Not a Fast Open child's either: Linux's
		 * tcp_fastopen_synack_timer counts only.) */
		return ut && !tp->parent && !tp->fastopen_child &&
		       tcp_retransmits_timed_out(sk, retry_until, ut);
	}
	retry_until = (unsigned int)sk->st->sysctl.tcp_retries2;
	if (tcp_orphan(sk))
		retry_until = tcp_orphan_retries(sk, tcp_orphan_alive(tp));
	return tcp_retransmits_timed_out(sk, retry_until, ut);
}

/*
 * Linux's tcp_write_timeout asks, for an orphan past the handshake and
 * before its own limits, whether it may go on (tcp_out_of_resources),
 * with a RST due while it is alive or within its retries.
 */
static bool tcp_orphan_out_of_resources(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool alive;

	if (!tcp_orphan(sk) || sk->state == TCP_SYN_SENT ||
	    sk->state == TCP_SYN_RECV)
		return false;
	alive = tcp_orphan_alive(tp);
	return tcp_out_of_resources(sk, alive ||
		!tcp_retransmits_timed_out(sk, tcp_orphan_retries(sk, alive),
					   0));
}

/*
 * Linux's zero-window branch of tcp_retransmit_timer: with the peer's
 * window closed, the timeout's retransmission is a window probe too, and
 * the connection lives on while the peer answers, however many. It ends
 * (tcp_rtx_probe0_timed_out) when nothing acceptable came for twice
 * TCP_RTO_MAX (or TCP_USER_TIMEOUT, if shorter) and the retransmissions
 * went on that long; with TCP_USER_TIMEOUT, once they went on longer than
 * it, answers or not. Not for an orphan, nor in the handshake (no window
 * yet): the usual limits apply there.
 */
static bool tcp_rtx_zero_window(const struct sock *sk)
{
	return !tcp_sk((struct sock *)sk)->snd_wnd && !tcp_orphan(sk) &&
	       sk->state != TCP_SYN_SENT && sk->state != TCP_SYN_RECV;
}

static bool tcp_rtx_probe0_timed_out(const struct sock *sk,
				     const struct sk_buff *head)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	us_time_t now = sk->st->now;
	us_time_t ut = (us_time_t)tp->user_timeout_ms * 1000;
	us_time_t timeout = 2 * tcp_rto_max(tp);
	us_time_t rtx_delta = now - (tp->retransmits ? tp->retrans_stamp
						     : TCP_SKB_CB(head)->sent);

	if (ut) {
		if (rtx_delta > ut)
			return true;
		if (ut < timeout)
			timeout = ut;
	}
	if (now - tp->last_rcv <= timeout)
		return false;
	return rtx_delta > timeout;
}

/* Linux's tcp_clamp_rto_to_user_timeout: the next timeout comes no later
 * than the end of the user timeout, so that the abort is on time (not for
 * a listener's child, which has none: tcp_write_timeout). */
static void tcp_clamp_rto_to_user_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t end = tp->retrans_stamp +
			(us_time_t)tp->user_timeout_ms * 1000;

	if (!tp->user_timeout_ms ||
	    (sk->state == TCP_SYN_RECV && tp->parent))
		return;
	if (end < sk->st->now + tcp_backed_off_rto(tp))
		us_timer_mod(&sk->st->timers, &tp->retrans_timer,
			     end > sk->st->now ? end : sk->st->now);
}

/*
 * A timeout's loss episode (Linux's tcp_enter_loss), before the timeout
 * is counted (tcp_undo_mark_loss asks whether it is the first; first
 * says whether it starts an episode): segments presumed lost, the window
 * cut, recovery over.
 */
static void tcp_enter_loss(struct sock *sk, bool first)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool disorder = !tp->in_recovery && !tp->in_cwr && !tp->rto_episode;

	tcp_undo_mark_loss(sk);   /* (before cwnd and ssthresh change) */
	tcp_ca_on_rto(sk, first); /* ssthresh, and a window of one segment */
	tp->in_recovery = false;
	tp->in_cwr = false;
	/* (Linux's request sock, a listener's child here, queues none) */
	if (!tcp_info_request(tp))
		tcp_ecn_queue_cwr(tp);
	/* RFC 6582 §3.2 step 6: duplicate ACKs for what was sent before the
	 * timeout must not start a fast retransmit. */
	tp->high_seq = tp->snd_max;
	tp->loss_held = false;
	tp->dupacks = 0;
	tcp_tlp_reset(tp);
	tcp_sack_enter_loss(sk);
	if (disorder)
		tcp_reordering_timeout(sk);
	/* That segment beside what is still in flight: the segments not
	 * presumed lost (RACK's recent ones) keep their room (Linux's
	 * tcp_enter_loss; 1 when everything was marked). */
	tp->snd_cwnd = tcp_packets_in_flight(tp) + 1;
}

/*
 * One timeout more in the series, and the RTO doubled once more. The
 * count stays at 255 rather than wrap to 0, which would start a new
 * series (and its clock) in the middle of this one: a TCP_USER_TIMEOUT
 * beyond 255 timeouts of 120 s (8.5 hours).
 */
static void tcp_count_timeout(struct tcp_sock *tp)
{
	if (tp->retransmits < UINT8_MAX)
		tp->retransmits++;
	if (tp->backoff < 16)
		tp->backoff++;
}

/*
 * TCP_THIN_LINEAR_TIMEOUTS (or net.ipv4.tcp_thin_linear_timeouts): a thin
 * stream, fewer than four segments out and past its first slow start,
 * keeps its RTO for its first six timeouts instead of doubling it, so a
 * lost segment of an interactive flow goes again sooner (Linux's
 * tcp_retransmit_timer, TCP_THIN_LINEAR_RETRIES; RFC 6298 §5.5 doubles
 * it).
 */
#define TCP_THIN_LINEAR_RETRIES 6

/*
 * net.ipv4.tcp_syn_linear_timeouts (Linux 6.5, 4 by default): a SYN goes
 * again after the same RTO for its first so many timeouts, which are
 * retries beyond tcp_syn_retries (tcp_write_timeout), and only then backs
 * off: SYNs at 0, 1, 2, 3, 4, 5, 7, 11, ... s, ETIMEDOUT after 131 s.
 */
static void tcp_syn_linear_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->state == TCP_SYN_SENT &&
	    tp->retransmits <=
	    (unsigned int)sk->st->sysctl.tcp_syn_linear_timeouts)
		tp->backoff = 0;
}

static void tcp_thin_linear_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->state == TCP_ESTABLISHED &&
	    (tp->thin_lto || sk->st->sysctl.tcp_thin_linear_timeouts) &&
	    tp->packets_out < 4 && tp->snd_ssthresh < TCP_INFINITE_SSTHRESH &&
	    tp->retransmits <= TCP_THIN_LINEAR_RETRIES)
		tp->backoff = 0;
}

/*
 * A Fast Open child's SYN-ACK timed out (Linux's
 * tcp_fastopen_synack_timer): it goes again alone, kept out of the flight
 * as Linux's request sock keeps it; data the child sent waits for the
 * handshake's end, and the RTO then. The second timeout starts a loss
 * episode for that data (Linux: "lower cwnd after certain SYNACK timeout
 * like tcp_init_transfer()"). A child whose SYN-ACK went unanswered past
 * its retries ends with ETIMEDOUT.
 */
static void tcp_fastopen_synack_timer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_write_timeout(sk)) {
		tcp_write_err(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
		return;
	}
	us_mib_inc(sk->st, US_MIB_TCP_TIMEOUTS);
	if (tp->retransmits == 1)
		tcp_enter_loss(sk, true);
	tcp_info_timeout(sk, false);
	tcp_count_timeout(tp);
	tcp_fastopen_send_synack(sk, NULL);
	tcp_reset_rto_timer(sk);
}

/* RFC 6298 §5.4-5.7 and RFC 5681 §3.1: on a timeout, back off, mark what
 * is unacknowledged lost (RFC 6675 §5.1, with or without SACK, as Linux;
 * RACK keeps what it can still judge) and shrink the congestion window
 * to one segment beside what is still in flight: it goes again from the
 * oldest, the first even past the peer's window if that closed
 * (tcp_output.c's tcp_retransmit_skb: it probes the window then). */
static void tcp_retransmit_timer(struct us_timer *t, us_time_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, retrans_timer);
	struct sock *sk = &tp->sk;
	struct sk_buff *head;

	(void)now;
	if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN)
		return;
	if (tp->fastopen_child) {
		tcp_fastopen_synack_timer(sk);
		return;
	}
	if (tp->probe_timer) {
		tcp_probe_timer(sk);
		return;
	}
	if (tp->snd_una == tp->snd_max)
		return;
	if (tp->tlp_timer) {
		tcp_tlp_fire(sk);   /* RFC 8985 §7.3 */
		return;
	}
	if (tcp_rack_timer_fire(sk))   /* RFC 8985 §6.3 */
		return;
	if (tcp_orphan_out_of_resources(sk))
		return;
	head = skb_peek(&sk->write_queue);
	if (tcp_rtx_zero_window(sk) ? tcp_rtx_probe0_timed_out(sk, head)
				    : tcp_write_timeout(sk)) {
		tcp_write_err(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
		return;
	}
	/* TCP_DEFER_ACCEPT: the peer ACKed our SYN-ACK; the timeout is
	 * counted, and the SYN-ACK not sent (Linux's reqsk_timer_handler). */
	if (tcp_defer_accept_waits(tp, true)) {
		us_mib_inc(sk->st, US_MIB_TCP_TIMEOUTS);
		tcp_count_timeout(tp);
		tcp_reset_rto_timer(sk);
		return;
	}
	/* The head's last copy has not even left (it waits for its next hop
	 * to resolve): another would only queue behind it, and both would
	 * go once ARP answers. As in Linux, where skb_still_in_host_queue
	 * makes the retransmission -EBUSY and tcp_retransmit_timer backs
	 * off all the same, the timer doubles and nothing is sent; unlike
	 * Linux, the window is left alone (no loss was seen). */
	if (head && ip_still_queued(sk->st, sk->daddr, head)) {
		us_mib_inc(sk->st, US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES);
		if (tp->backoff < 16)
			tp->backoff++;
		tcp_reset_rto_timer(sk);
		return;
	}
	/* Linux's retrans_stamp: the first retransmission's time (the
	 * stamp tcp_retransmit_skb takes after sending), from which the
	 * timeouts count; a SYN's is its first transmission (tcp_connect). */
	if (tp->retransmits == 0 && sk->state != TCP_SYN_SENT)
		tp->retrans_stamp = sk->st->now;
	us_mib_inc(sk->st, US_MIB_TCP_TIMEOUTS);
	/* Linux's tcp_enter_loss (SYN) and a request's num_timeout
	 * (SYN-ACK) set undo_marker, which tcp_init_established asks. */
	if (sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV)
		tp->syn_timed_out = true;
	tcp_enter_loss(sk, tp->retransmits == 0);
	tcp_info_timeout(sk, tcp_rtx_zero_window(sk));
	tcp_count_timeout(tp);
	tcp_thin_linear_timeout(sk);
	tcp_syn_linear_timeout(sk);
	tcp_write_xmit(sk, true);
	tcp_reset_rto_timer(sk);
	tcp_clamp_rto_to_user_timeout(sk);
}

static void tcp_delack_timer(struct us_timer *t, us_time_t now)
{
	struct tcp_sock *tp = container_of(t, struct tcp_sock, delack_timer);

	(void)now;
	if (tcp_delack_timeout(&tp->sk))
		tcp_send_ack(&tp->sk);
}

/*
 * The states keepalive probes in (Linux's tcp_keepalive_timer): every
 * synchronized state but TIME_WAIT, including the closing ones, where the
 * peer may still vanish (CLOSE_WAIT, FIN_WAIT2 while the socket is open).
 * An orphan in FIN_WAIT2 has the FIN_WAIT2 timeout instead, and a FIN
 * unacknowledged (FIN_WAIT1, CLOSING, LAST_ACK) keeps the retransmission
 * timer in charge, as any data does.
 */
static bool tcp_keepalive_state(const struct sock *sk)
{
	switch (sk->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

static void tcp_keepalive_fire(struct sock *sk, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t idle = now - tp->last_rcv;
	us_time_t keepidle = (us_time_t)tp->keepidle_s * US_USEC_PER_SEC;
	us_time_t intvl = (us_time_t)tp->keepintvl_s * US_USEC_PER_SEC;
	us_time_t ut = (us_time_t)tp->user_timeout_ms * 1000;

	if (!sk->keepalive || !tcp_keepalive_state(sk))
		return;
	/* "It is alive without keepalive" (Linux): while anything is
	 * unacknowledged or unsent the retransmission or window probe
	 * timer watches the peer; look again a keepalive time later. */
	if (!skb_queue_empty(&sk->write_queue)) {
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     now + keepidle);
		return;
	}
	if (idle < keepidle) {
		tp->probes_out = 0;
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     tp->last_rcv + keepidle);
		return;
	}
	/* With TCP_USER_TIMEOUT set, it decides when the silence is too
	 * long instead of TCP_KEEPCNT, once a probe went (Linux). */
	if (ut ? idle >= ut && tp->probes_out > 0
	       : tp->probes_out >= tp->keepcnt) {
		tcp_send_active_reset(sk);
		tcp_write_err(sk, sk->err_soft ? sk->err_soft : ETIMEDOUT);
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
	case TCP_FIN_WAIT2:
		/* An orphan that the peer never finished (Linux's
		 * tcp_fin_timeout) is let go; with the socket still open,
		 * the timer is keepalive's. */
		if (!sk->sk_socket) {
			tcp_done(sk);
			return;
		}
		tcp_keepalive_fire(sk, now);
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
	if (tp->sk.pacing)
		tcp_pacing_stop(&tp->sk);
	tp->probe_timer = false;
	tp->tlp_timer = false;
}

void tcp_reset_keepalive(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* (An orphan's FIN_WAIT2 timeout shares the timer: not touched.) */
	if (!tcp_keepalive_state(sk) || (!sk->sk_socket &&
					 sk->state == TCP_FIN_WAIT2))
		return;
	if (sk->keepalive)
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     tp->last_rcv +
			     (us_time_t)tp->keepidle_s * US_USEC_PER_SEC);
	else
		us_timer_del(&sk->st->timers, &tp->keepalive_timer);
}

/* Turning keepalive on arms the timer a keepalive time from now (Linux's
 * tcp_set_keepalive); turning it off stops it. */
void tcp_set_keepalive(struct sock *sk, bool on)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tcp_keepalive_state(sk))
		return;
	if (on && !sk->keepalive)
		us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
			     sk->st->now +
			     (us_time_t)tp->keepidle_s * US_USEC_PER_SEC);
	else if (!on)
		us_timer_del(&sk->st->timers, &tp->keepalive_timer);
}

/*
 * RFC 9293 §3.10.7.4: TIME-WAIT lasts 2 MSL, then the connection is gone.
 * As Linux's tcp_time_wait: a small entry takes the four-tuple through
 * those 2 MSL (tcp_timewait.c) and the sock is done with now; a socket the
 * user still holds is CLOSED. With net.ipv4.tcp_max_tw_buckets entries
 * already (TCPTimeWaitOverflow), the connection just ends, so that a loop
 * of short connections holds bounded memory. The caller (tcp_v4_rcv)
 * holds a reference: sk stays valid until it returns.
 */
void tcp_time_wait(struct sock *sk)
{
	tcp_tw_enter(sk);
	tcp_done(sk);
}

/*
 * An orphan in FIN_WAIT2 waits for the peer's FIN as long as Linux's
 * tcp_fin_time says: TCP_LINGER2, or net.ipv4.tcp_fin_timeout when that is
 * 0, and never less than 3.5 RTOs, backed off as the FIN's was. For no
 * longer than TCP_TIMEWAIT_LEN, Linux waits in a timewait socket, which
 * net.ipv4.tcp_max_orphans does not count: nor does ustack, which keeps
 * its tcp_sock for it.
 */
void tcp_fin_wait2_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t tmo = tp->linger2_s > 0 ?
			(us_time_t)tp->linger2_s * US_USEC_PER_SEC :
			TCP_FIN_TIMEOUT_US;
	us_time_t rto = tcp_backed_off_rto(tp);   /* Linux's icsk_rto */
	us_time_t least = rto * 4 - rto / 2;

	if (tmo < least)
		tmo = least;
	if (tmo <= TCP_TIMEWAIT_LEN_US)
		tcp_orphan_uncount(sk);
	us_timer_mod(&sk->st->timers, &tp->keepalive_timer,
		     sk->st->now + tmo);
}
