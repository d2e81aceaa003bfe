/*
 * tcp_cubic.c - CUBIC congestion control (RFC 9438), the default as on
 * Linux. After a loss the window follows W_cubic(t) = C (t - K)^3 + W_max
 * in the time t since congestion avoidance began: concave up to the
 * window of the last loss (W_max), then convex beyond it; never slower
 * than Reno would be (the Reno-friendly region). Slow start is Reno's
 * (tcp_cong.c), with HyStart++ (tcp_hystart.c).
 *
 * Time is the engine's (the `now` tcp_cong_avoid passes, st->now), so the
 * curve is deterministic under the virtual clock. Arithmetic is integer:
 * windows in segments << CUBIC_SHIFT, times in microseconds, and 128-bit
 * intermediates for the cube.
 */
#include <assert.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

#define CUBIC_ONE (1ULL << CUBIC_SHIFT)
/* RFC 9438 §5.1: C = 0.4 segments/s^3 and beta_cubic = 0.7, as fractions. */
#define CUBIC_C_NUM 4
#define CUBIC_C_DEN 10
#define CUBIC_BETA_NUM 7
#define CUBIC_BETA_DEN 10
#define USEC3_PER_SEC3 1000000000000000000ULL   /* (10^6)^3 */
/* |t - K| beyond this (4.7 hours) is clamped: the window is astronomic
 * there anyway, and the cube stays inside 128 bits. */
#define CUBIC_T_MAX_US (1LL << 34)
#define CUBIC_W_MAX ((uint64_t)UINT32_MAX << CUBIC_SHIFT)

/* §4.7 fast convergence: give up some of W_max when a loss comes before
 * the last W_max was reached, so that a newer flow gets bandwidth. Linux
 * has it on (module parameter fast_convergence). */
static const bool cubic_fast_convergence = true;

static_assert(sizeof(struct tcp_cubic_state) <=
	      sizeof(((struct tcp_sock *)0)->ca_priv), "ca_priv too small");

static struct tcp_cubic_state *cubic_state(struct sock *sk)
{
	return (struct tcp_cubic_state *)tcp_sk(sk)->ca_priv;
}

/* floor(cbrt(x)) for x < 2^126. */
static uint64_t cubic_cbrt(unsigned __int128 x)
{
	uint64_t lo = 0, hi = 1ULL << 42;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo + 1) / 2;
		unsigned __int128 m = mid;

		if (m * m * m <= x)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

uint64_t cubic_k_us(uint64_t w_max, uint64_t cwnd_epoch)
{
	unsigned __int128 x;

	if (w_max <= cwnd_epoch)
		return 0;
	/* K^3 = (W_max - cwnd_epoch) / C seconds^3, in microseconds^3. */
	x = (unsigned __int128)(w_max - cwnd_epoch) * CUBIC_C_DEN *
	    USEC3_PER_SEC3 / CUBIC_C_NUM;
	return cubic_cbrt(x >> CUBIC_SHIFT);
}

uint64_t cubic_w(uint64_t w_max, uint64_t k_us, us_time_t t_us)
{
	__int128 d = (__int128)t_us - (__int128)k_us;
	__int128 w;

	if (d > CUBIC_T_MAX_US)
		d = CUBIC_T_MAX_US;
	if (d < -CUBIC_T_MAX_US)
		d = -CUBIC_T_MAX_US;
	w = (__int128)w_max + d * d * d * CUBIC_C_NUM * (__int128)CUBIC_ONE /
			      ((__int128)CUBIC_C_DEN * USEC3_PER_SEC3);
	if (w < 0)
		return 0;
	return w > (__int128)CUBIC_W_MAX ? CUBIC_W_MAX : (uint64_t)w;
}

/* HyStart++ runs in the first slow start when the instance says so
 * (net.ipv4.tcp_cubic_hystart, standing for Linux's tcp_cubic.hystart
 * module parameter). */
static void cubic_init(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->st->sysctl.tcp_cubic_hystart &&
	    tp->snd_ssthresh == TCP_INFINITE_SSTHRESH)
		hystart_start(tp, &cubic_state(sk)->hs);
}

static void cubic_rtt_sample(struct sock *sk, uint32_t rtt_us)
{
	hystart_rtt_sample(tcp_sk(sk), &cubic_state(sk)->hs, rtt_us);
}

/*
 * §4.6 multiplicative decrease and §4.7 fast convergence. The reduction is
 * taken from cwnd, as Linux and Windows do (§4.6 allows cwnd instead of
 * flight_size); the next congestion avoidance stage starts afresh.
 */
static uint32_t cubic_ssthresh(struct sock *sk)
{
	struct tcp_cubic_state *ca = cubic_state(sk);
	uint32_t cwnd = tcp_sk(sk)->snd_cwnd;
	uint64_t w = (uint64_t)cwnd << CUBIC_SHIFT;
	uint32_t ssthresh;

	if (cubic_fast_convergence && w < ca->w_max)
		ca->w_max = w * (CUBIC_BETA_DEN + CUBIC_BETA_NUM) /
			    (2 * CUBIC_BETA_DEN);
	else
		ca->w_max = w;
	ca->cwnd_prior = cwnd;
	ca->in_epoch = 0;
	ca->hs.state = HS_OFF;   /* RFC 9406 §4.2: a loss ends slow start */
	ssthresh = (uint32_t)((uint64_t)cwnd * CUBIC_BETA_NUM / CUBIC_BETA_DEN);
	return ssthresh > 2 ? ssthresh : 2;
}

/* §4.2: congestion avoidance begins. After a timeout there is no W_max
 * (§4.8): the curve starts from this window with K = 0. */
static void cubic_epoch_start(struct tcp_sock *tp,
			      struct tcp_cubic_state *ca, us_time_t now)
{
	uint64_t w = (uint64_t)tp->snd_cwnd << CUBIC_SHIFT;

	ca->in_epoch = 1;
	ca->t_epoch = now;
	ca->cwnd_epoch = tp->snd_cwnd;
	ca->w_est = w;
	ca->growth = 0;
	if (ca->w_max < w)
		ca->w_max = w;
	ca->k_us = cubic_k_us(ca->w_max, w);
}

/* §4.3: the window Reno would have, growing by alpha segments per window
 * acknowledged; alpha = 3 (1 - beta) / (1 + beta) = 9/17 until the window
 * of the last reduction is reached, then 1. True if the connection is in
 * the Reno-friendly region at time t (W_cubic(t) below the estimate). */
static bool cubic_reno_friendly(struct tcp_sock *tp,
				struct tcp_cubic_state *ca, uint64_t w_t,
				uint32_t acked)
{
	uint64_t per_window = (uint64_t)tp->snd_cwnd * tp->mss_cache;
	uint64_t inc = ((uint64_t)acked << CUBIC_SHIFT) / per_window;

	if (ca->w_est >= (uint64_t)ca->cwnd_prior << CUBIC_SHIFT)
		ca->w_est += inc;
	else
		ca->w_est += inc * 9 / 17;
	return w_t < ca->w_est;
}

static void cubic_cong_avoid(struct sock *sk, uint32_t acked, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_cubic_state *ca = cubic_state(sk);
	uint64_t cwnd = (uint64_t)tp->snd_cwnd << CUBIC_SHIFT;
	uint64_t target, w_t;
	us_time_t t;

	if (!tcp_is_cwnd_limited(tp))
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		if (ca->hs.state != HS_OFF) {
			hystart_slow_start(tp, &ca->hs, acked);
			return;
		}
		/* What passes ssthresh is congestion avoidance's (Linux). */
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	if (!ca->in_epoch)
		cubic_epoch_start(tp, ca, now);
	t = now - ca->t_epoch;
	w_t = cubic_w(ca->w_max, ca->k_us, t);
	if (cubic_reno_friendly(tp, ca, w_t, acked)) {
		/* §4.3: cwnd follows the estimate. */
		if ((ca->w_est >> CUBIC_SHIFT) > tp->snd_cwnd)
			tp->snd_cwnd = (uint32_t)(ca->w_est >> CUBIC_SHIFT);
		return;
	}
	/* §4.4-4.5: aim for the curve one RTT ahead, within [cwnd, 1.5 cwnd];
	 * each segment acknowledged adds (target - cwnd) / cwnd. */
	target = cubic_w(ca->w_max, ca->k_us, t + tp->srtt_us);
	if (target < cwnd)
		target = cwnd;
	if (target > cwnd + cwnd / 2)
		target = cwnd + cwnd / 2;
	ca->growth += (uint64_t)((unsigned __int128)(target - cwnd) * acked /
				 ((uint64_t)tp->snd_cwnd * tp->mss_cache));
	while (ca->growth >= CUBIC_ONE) {
		tp->snd_cwnd++;
		ca->growth -= CUBIC_ONE;
	}
}

/* §4.8: after a timeout the next congestion avoidance stage starts a new
 * curve from its own window, as if no W_max were known (Linux resets its
 * state on entering the Loss state). HyStart++ stays off (RFC 9406 §4.3:
 * the first slow start only). */
static void cubic_on_rto(struct sock *sk)
{
	struct tcp_cubic_state *ca = cubic_state(sk);
	uint32_t prior = ca->cwnd_prior;

	*ca = (struct tcp_cubic_state){ .cwnd_prior = prior };
}

/*
 * Linux's CA_EVENT_TX_START in cubictcp_cwnd_event: after an idle time
 * (nothing in flight) the curve's clock skips it, so that the window goes
 * on along the curve's shape from where it left it, rather than from the
 * point the idle time carried t to (§4.2's curve is a function of the time
 * since the epoch; §5.8 asks only that an application-limited window not
 * grow, which cubic_cong_avoid does).
 */
static void cubic_tx_start(struct sock *sk, us_time_t idle, us_time_t now)
{
	struct tcp_cubic_state *ca = cubic_state(sk);

	if (!ca->in_epoch)
		return;
	ca->t_epoch += idle;
	if (ca->t_epoch > now)
		ca->t_epoch = now;
}

const struct tcp_congestion_ops tcp_cubic = {
	.name = "cubic",
	.init = cubic_init,
	.rtt_sample = cubic_rtt_sample,
	.ssthresh = cubic_ssthresh,
	.cong_avoid = cubic_cong_avoid,
	.on_rto = cubic_on_rto,
	.tx_start = cubic_tx_start,
};
