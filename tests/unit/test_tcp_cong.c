/*
 * test_tcp_cong.c - congestion control (src/net/tcp/tcp_cong.c,
 * tcp_reno.c, tcp_cubic.c): CUBIC's curve against RFC 9438's formula at
 * chosen points in time, its reduction (beta 0.7), fast convergence, the
 * Reno-friendly region and the restart after a timeout; NewReno's growth
 * and halving; slow start counting bytes (RFC 3465) with no limit per ACK,
 * as Linux; the registry, the default
 * and the choice per socket.
 *
 * The algorithms are driven on a bare tcp_sock with an ACK clock of our
 * own: every round trip the whole window is acknowledged, one ACK per
 * segment spread over the RTT, in microseconds we choose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1000
#define ONE ((double)(1ULL << CUBIC_SHIFT))

/* RFC 9438 §4.2, in doubles: W_cubic(t) = C (t - K)^3 + W_max, C = 0.4. */
static double rfc_w(double w_max, double k_s, double t_s)
{
	double d = t_s - k_s;

	return 0.4 * d * d * d + w_max;
}

/* The cube root by Newton's method (no libm in the test build). */
static double cbrt_d(double x)
{
	double r = x > 1 ? x / 3 : 1;

	for (int i = 0; i < 200; i++)
		r = r - (r * r * r - x) / (3 * r * r);
	return r;
}

static uint64_t q(double segs)
{
	return (uint64_t)(segs * ONE);
}

static struct tcp_sock *bare_sock(const struct tcp_congestion_ops *ca)
{
	struct tcp_sock *tp = calloc(1, sizeof(*tp));

	assert_non_null(tp);
	tp->ca_ops = ca;
	tp->mss_cache = MSS;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	/* The sender fills the window (tcp_cwnd_validate's mark) unless a
	 * test says otherwise (window_use). */
	tp->is_cwnd_limited = true;
	/* No init: it reads the instance's sysctls, and the zeroed area is
	 * the start (HyStart++ off unless a test starts it). */
	return tp;
}

/* What the transmit side saw of the current window (tcp_cwnd_validate):
 * at most segs segments out, the window full if that is all of it. */
static void window_use(struct tcp_sock *tp, uint32_t segs)
{
	tp->is_cwnd_limited = segs >= tp->snd_cwnd;
	tp->max_packets_out = segs;
}

static struct tcp_cubic_state *cubic(struct tcp_sock *tp)
{
	return (struct tcp_cubic_state *)tp->ca_priv;
}

/* A loss as tcp_input.c handles one: the threshold from the algorithm, and
 * the window at the threshold once recovery is over. */
static void loss(struct tcp_sock *tp)
{
	tp->snd_max = tp->snd_una + tp->snd_cwnd * MSS;   /* cwnd-limited */
	tp->snd_ssthresh = tp->ca_ops->ssthresh(&tp->sk);
	tp->snd_cwnd = tp->snd_ssthresh;
}

/* An ACK of `acked` bytes that found the window full (what CUBIC asks
 * before it grows one). */
static void ack_full(struct tcp_sock *tp, uint32_t acked, us_time_t now)
{
	tp->snd_una = 0;
	tp->snd_max = tp->snd_cwnd * MSS > acked ? tp->snd_cwnd * MSS - acked : 0;
	tp->ca_ops->cong_avoid(&tp->sk, acked, now);
}

/* One round trip from *now: the window acknowledged one segment per ACK,
 * evenly over rtt_us. */
static void round_trip(struct tcp_sock *tp, us_time_t *now, uint32_t rtt_us)
{
	uint32_t n = tp->snd_cwnd;
	us_time_t start = *now;

	tp->is_cwnd_limited = true;
	for (uint32_t i = 1; i <= n; i++) {
		/* The window is full when each ACK comes. */
		tp->snd_max = tp->snd_una + tp->snd_cwnd * MSS;
		tp->snd_una += MSS;
		tp->ca_ops->cong_avoid(&tp->sk, MSS,
				       start + (us_time_t)rtt_us * i / n);
	}
	*now = start + rtt_us;
}

/* ---- CUBIC's curve -------------------------------------------------------- */

static void test_cubic_k_exact(void **state)
{
	(void)state;
	/* (100 - 50) / 0.4 = 125 = 5^3: K = 5 s. */
	assert_int_equal(cubic_k_us(q(100), q(50)), 5000000);
	/* (10 - 7) / 0.4 = 7.5 s^3. */
	assert_true(llabs((long long)cubic_k_us(q(10), q(7)) -
			  (long long)(cbrt_d(7.5) * 1e6)) <= 1);
	/* No W_max above the window: K = 0 (RFC 9438 §4.8). */
	assert_int_equal(cubic_k_us(q(50), q(50)), 0);
	assert_int_equal(cubic_k_us(q(40), q(50)), 0);
}

static void test_cubic_k_against_rfc(void **state)
{
	static const double pts[][2] = {
		{ 100, 70 }, { 1000, 700 }, { 76.5, 63 }, { 12345.5, 8641 },
		{ 3, 2 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
		double k = cbrt_d((pts[i][0] - pts[i][1]) / 0.4) * 1e6;
		uint64_t got = cubic_k_us(q(pts[i][0]), q(pts[i][1]));

		assert_true(llabs((long long)got - (long long)k) <= 2);
	}
}

/* W_cubic at chosen t: the epoch (t = 0 gives cwnd_epoch back), the
 * concave region (t < K, below W_max), the plateau (t = K gives W_max), the
 * convex region (t > K). Within 1/1000 of a segment of the formula. */
static void test_cubic_curve_against_rfc(void **state)
{
	static const double t_s[] = { 0, 0.5, 1, 2, 3.5, 4.217, 5, 6, 8, 30 };
	double w_max = 100, epoch = 70;
	uint64_t k = cubic_k_us(q(w_max), q(epoch));
	double k_s = (double)k / 1e6;

	(void)state;
	for (size_t i = 0; i < sizeof(t_s) / sizeof(t_s[0]); i++) {
		us_time_t t = (us_time_t)(t_s[i] * 1e6);
		double want = rfc_w(w_max, k_s, t_s[i]);
		double got = (double)cubic_w(q(w_max), k, t) / ONE;

		assert_true(got - want < 0.001 && want - got < 0.001);
		if (t + 100000 < k)
			assert_true(got < w_max);
		if (t > k + 100000)
			assert_true(got > w_max);
	}
	/* The formula's own landmarks. */
	assert_true(cubic_w(q(w_max), k, 0) / ONE - epoch < 0.001);
	assert_true(cubic_w(q(w_max), k, k) == q(w_max));
	/* Far out it saturates rather than wrapping. */
	assert_true(cubic_w(q(w_max), k, 100000000000ULL) >
		    cubic_w(q(w_max), k, 1000000000ULL));
}

/* ---- CUBIC's reduction ---------------------------------------------------- */

static void test_cubic_beta(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);

	(void)state;
	tp->snd_cwnd = 100;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 70);  /* beta 0.7 */
	assert_int_equal(cubic(tp)->w_max, q(100));
	assert_int_equal(cubic(tp)->cwnd_prior, 100);
	tp->snd_cwnd = 10;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 7);
	tp->snd_cwnd = 2;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 2);   /* floor 2 */
	free(tp);
}

/* RFC 9438 §4.7: a loss below the last W_max lowers W_max to
 * cwnd (1 + beta) / 2; one above it takes cwnd. */
static void test_cubic_fast_convergence(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);

	(void)state;
	tp->snd_cwnd = 100;
	tp->ca_ops->ssthresh(&tp->sk);
	tp->snd_cwnd = 90;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 63);
	assert_int_equal(cubic(tp)->w_max, q(90) * 17 / 20);   /* 76.5 */
	tp->snd_cwnd = 120;
	tp->ca_ops->ssthresh(&tp->sk);
	assert_int_equal(cubic(tp)->w_max, q(120));
	free(tp);
}

/* ---- CUBIC's growth ------------------------------------------------------- */

/*
 * After a loss at w_loss segments, run `secs` of round trips of rtt_us and
 * check at every one that the window is where RFC 9438 puts it: the larger
 * of W_cubic(t) (§4.2; the window aims one RTT ahead, so by the end of a
 * round it may be up to W_cubic(t + 2 RTT)) and the Reno estimate W_est
 * (§4.3: alpha = 9/17 per round until the window before the loss, then
 * 1), within 2 segments and 1 %. Returns the windows at each second.
 */
static void run_curve(uint32_t w_loss, uint32_t rtt_us, int secs,
		      uint32_t *at_sec, bool *reno_seen)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	uint32_t epoch = w_loss * 7 / 10;
	double k_s = cbrt_d((w_loss - epoch) / 0.4), west = epoch;
	double rtt_s = rtt_us / 1e6;
	us_time_t now = 1000000, t0 = now;

	tp->srtt_us = rtt_us;
	tp->snd_cwnd = w_loss;
	loss(tp);
	assert_int_equal(tp->snd_cwnd, epoch);
	*reno_seen = false;
	for (int r = 0; now - t0 <= (us_time_t)secs * 1000000; r++) {
		double t = (double)(now - t0) / 1e6;
		double wc = rfc_w(w_loss, k_s, t);
		double lo = (wc > west ? wc : west) * 0.99 - 2;
		double hi_c = rfc_w(w_loss, k_s, t + 2 * rtt_s);
		double hi = (hi_c > west + 1 ? hi_c : west + 1) * 1.01 + 2;

		assert_true(tp->snd_cwnd >= lo && tp->snd_cwnd <= hi);
		if (west > wc + 1)
			*reno_seen = true;
		if ((now - t0) % 1000000 == 0)
			at_sec[(now - t0) / 1000000] = tp->snd_cwnd;
		round_trip(tp, &now, rtt_us);
		west += west >= w_loss ? 1 : 9.0 / 17;
	}
	assert_true(llabs((long long)cubic(tp)->k_us - (long long)(k_s * 1e6))
		    <= 2);
	free(tp);
}

/* A loss at 1000 segments, RTT 100 ms: K = cbrt(300 / 0.4) = 9.09 s. The
 * window climbs the concave side fast, is nearly flat around K, and
 * speeds up again on the convex side; Reno's estimate never catches up. */
static void test_cubic_follows_curve(void **state)
{
	uint32_t w[16] = { 0 };
	bool reno;

	(void)state;
	memset(w, 0xff, sizeof(w));
	run_curve(1000, 100000, 14, w, &reno);
	assert_false(reno);
	for (int i = 0; i <= 14; i++)
		print_message("t %d s: cwnd %u\n", i, w[i]);
	/* RFC: +88.8 in the first second, +0.8 from 8 s to 10 s, +23.4
	 * from 13 s to 14 s. */
	assert_true(w[1] - w[0] > 80);            /* concave: fast at first */
	assert_true(w[10] - w[8] < 10);           /* the plateau at W_max */
	assert_true(w[9] >= 990 && w[9] <= 1010);
	assert_true(w[14] != UINT32_MAX && w[14] - w[13] > 15); /* convex */
}

/* Linux's CA_EVENT_TX_START: an idle time of 5 s, 2 s into the curve
 * after a loss at 1000 segments (K = 9.09 s), does not count on the
 * curve: the epoch moves by it, and the next round trip grows the window
 * as one at 2 s does (a few segments), not as one 7 s into the concave
 * side would (the target then far above: half the window at once). */
static void test_cubic_idle_shifts_epoch(void **state)
{
	struct tcp_sock *tp[2];
	uint32_t before[2], growth[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		us_time_t now = 1000000, epoch;

		tp[i] = bare_sock(&tcp_cubic);
		tp[i]->srtt_us = 100000;
		tp[i]->snd_cwnd = 1000;
		loss(tp[i]);
		while (now < 3000000)
			round_trip(tp[i], &now, 100000);
		epoch = cubic(tp[i])->t_epoch;
		now += 5000000;   /* idle */
		if (i == 1) {
			tp[i]->ca_ops->tx_start(&tp[i]->sk, 5000000, now);
			assert_int_equal(cubic(tp[i])->t_epoch, epoch + 5000000);
		}
		before[i] = tp[i]->snd_cwnd;
		round_trip(tp[i], &now, 100000);
		growth[i] = tp[i]->snd_cwnd - before[i];
	}
	assert_int_equal(before[0], before[1]);
	print_message("growth after idle: %u without the shift, %u with\n",
		      growth[0], growth[1]);
	assert_true(growth[1] < 20);
	assert_true(growth[0] > 5 * growth[1]);
	/* The epoch never moves past now. */
	tp[1]->ca_ops->tx_start(&tp[1]->sk, 100000000, 20000000);
	assert_int_equal(cubic(tp[1])->t_epoch, 20000000);
	free(tp[0]);
	free(tp[1]);
}

/* A loss at 100 segments, RTT 100 ms: K = 4.2 s, but after about 5.7 s the
 * Reno estimate (back at 100 segments, now growing one per round) is above
 * the curve, and the window follows it (the Reno-friendly region). */
static void test_cubic_curve_then_reno(void **state)
{
	uint32_t w[16] = { 0 };
	bool reno;

	(void)state;
	memset(w, 0xff, sizeof(w));
	run_curve(100, 100000, 8, w, &reno);
	assert_true(reno);
	assert_true(w[8] != UINT32_MAX && w[8] - w[7] >= 9); /* one per RTT */
}

/* RFC 9438 §4.3: with a small window and this RTT the curve is slower
 * than Reno, so the window follows the Reno estimate: 9/17 segment per
 * round trip (alpha for beta 0.7) until the window before the loss is
 * reached, then one segment per round trip. */
static void test_cubic_reno_friendly(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	const uint32_t rtt = 100000;
	us_time_t now = 0;

	(void)state;
	tp->srtt_us = rtt;
	tp->snd_cwnd = 10;
	loss(tp);
	assert_int_equal(tp->snd_cwnd, 7);
	for (int r = 1; r <= 4; r++) {
		round_trip(tp, &now, rtt);
		/* W_est after r windows: 7 + r * 9/17 (its per-ACK steps are
		 * taken on the window of the moment, so allow one segment). */
		double est = 7 + r * 9.0 / 17;

		assert_true(tp->snd_cwnd + 1 >= (uint32_t)est &&
			    tp->snd_cwnd <= (uint32_t)est + 1);
		/* ... above the cubic curve at that time. */
		assert_true(cubic(tp)->w_est > cubic_w(cubic(tp)->w_max,
						       cubic(tp)->k_us,
						       now - cubic(tp)->t_epoch));
	}
	free(tp);
}

/* RFC 9438 §4.8 after a timeout: ssthresh by beta, slow start from one
 * segment, and the next avoidance stage's curve starts at its own window
 * with K = 0 (no W_max remembered). */
static void test_cubic_after_rto(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	us_time_t now = 0;

	(void)state;
	tp->srtt_us = 100000;
	tp->snd_cwnd = 40;
	tp->snd_ssthresh = tp->ca_ops->ssthresh(&tp->sk);
	tp->snd_cwnd = 1;
	tp->ca_ops->on_rto(&tp->sk);
	assert_int_equal(tp->snd_ssthresh, 28);
	assert_int_equal(cubic(tp)->w_max, 0);
	while (tp->snd_cwnd < tp->snd_ssthresh) {
		uint32_t before = tp->snd_cwnd;

		ack_full(tp, MSS, ++now);
		assert_int_equal(tp->snd_cwnd, before + 1);
	}
	ack_full(tp, MSS, ++now);
	assert_int_equal(cubic(tp)->k_us, 0);
	assert_int_equal(cubic(tp)->w_max, (uint64_t)cubic(tp)->cwnd_epoch
					   << CUBIC_SHIFT);
	assert_true(cubic(tp)->cwnd_epoch >= 28);
	free(tp);
}

/* A window the sender does not fill does not grow in congestion avoidance
 * (the peer's window holds the flight at 20 of 70 segments for 10 s),
 * and grows again once it is filled. */
static void test_cubic_not_cwnd_limited(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	us_time_t now = 0;

	(void)state;
	tp->srtt_us = 100000;
	tp->snd_cwnd = 100;
	loss(tp);
	for (int i = 0; i < 2000; i++) {
		now += 5000;
		tp->snd_max = tp->snd_una + 20 * MSS;
		window_use(tp, 20);
		tp->snd_una += MSS;
		tp->ca_ops->cong_avoid(&tp->sk, MSS, now);
	}
	assert_int_equal(tp->snd_cwnd, 70);
	round_trip(tp, &now, 100000);
	assert_true(tp->snd_cwnd > 70);
	/* In slow start it may grow to twice the flight (20), no further. */
	tp->snd_cwnd = 10;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->is_cwnd_limited = false;   /* never full: 20 out at most */
	tp->max_packets_out = 20;
	for (int i = 0; i < 100; i++) {
		tp->snd_una = 0;
		tp->snd_max = 19 * MSS;
		tp->ca_ops->cong_avoid(&tp->sk, MSS, now);
	}
	assert_int_equal(tp->snd_cwnd, 40);
	free(tp);
}

/* ---- HyStart++ (RFC 9406) ------------------------------------------------- */

/* The initial window is out. */
static void hs_begin(struct tcp_sock *tp)
{
	tp->snd_nxt = tp->snd_max = tp->snd_cwnd * MSS;
	hystart_start(tp, &cubic(tp)->hs);
}

/* One round: what is in flight is acknowledged one segment per ACK, each
 * with an RTT sample of rtt_us, and each ACK sends what the window then
 * allows (the ACK clock). Returns the window before. */
static uint32_t hs_round(struct tcp_sock *tp, us_time_t *now, uint32_t rtt_us)
{
	uint32_t n = tp->snd_cwnd, end = tp->snd_nxt;

	while (tp->snd_una != end) {
		*now += 1000;
		tp->snd_una += MSS;
		tp->ca_ops->rtt_sample(&tp->sk, rtt_us);
		tp->ca_ops->cong_avoid(&tp->sk, MSS, *now);
		tp->snd_nxt = tp->snd_max = tp->snd_una + tp->snd_cwnd * MSS;
	}
	return n;
}

/* Flat RTTs: slow start doubles per round. Then the minimum RTT of a round
 * is 20 ms above the last (the threshold is 100 / 8 = 12.5 ms): CSS, where
 * a round grows the window by a quarter; after five CSS rounds ssthresh is
 * set to the window and congestion avoidance begins. */
static void test_hystart_exit(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	struct hystart *hs = &cubic(tp)->hs;
	us_time_t now = 0;
	uint32_t before;

	(void)state;
	hs_begin(tp);
	for (int r = 0; r < 3; r++) {
		before = hs_round(tp, &now, 100000);
		assert_int_equal(tp->snd_cwnd, 2 * before);
		assert_int_equal(hs->state, HS_SS);
	}
	before = hs_round(tp, &now, 120000);
	assert_int_equal(hs->state, HS_CSS);
	assert_int_equal(hs->css_base_us, 120000);
	/* Eight samples to decide, then a quarter of the growth. */
	assert_true(tp->snd_cwnd > before + 7 && tp->snd_cwnd < 2 * before);
	for (int r = 0; r < 4; r++) {
		before = hs_round(tp, &now, 120000);
		assert_int_equal(hs->state, HS_CSS);
		assert_true(tp->snd_cwnd >= before + before / 4 - 1 &&
			    tp->snd_cwnd <= before + before / 4 + 1);
	}
	assert_int_equal(tp->snd_ssthresh, TCP_INFINITE_SSTHRESH);
	hs_round(tp, &now, 120000);
	assert_int_equal(hs->state, HS_OFF);
	assert_true(tp->snd_ssthresh != TCP_INFINITE_SSTHRESH);
	assert_true(tp->snd_cwnd >= tp->snd_ssthresh);
	free(tp);
}

/* HyStart++ is set up with the socket, before the ISN (snd_nxt 0): with an
 * ISN in the upper half of the sequence space its rounds must still end,
 * and the rise in RTT be seen, as in test_hystart_exit. */
static void test_hystart_isn_upper_half(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	struct hystart *hs = &cubic(tp)->hs;
	us_time_t now = 0;

	(void)state;
	tp->snd_una = tp->snd_nxt = tp->snd_max = 0;
	hystart_start(tp, hs);
	tp->snd_una = 0x90000000u;
	tp->snd_nxt = tp->snd_max = tp->snd_una + tp->snd_cwnd * MSS;
	for (int r = 0; r < 3; r++)
		hs_round(tp, &now, 100000);
	assert_int_equal(hs->state, HS_SS);
	hs_round(tp, &now, 120000);
	assert_int_equal(hs->state, HS_CSS);
	free(tp);
}

/* In CSS a stretch ACK adds a quarter of all it covers (RFC 9406 §4.2's
 * growth with no limit per ACK, as slow start has none: ustack's choice,
 * where §4.3 asks L = 8 of a sender that does not pace): one ACK for the
 * whole window grows it by a quarter, as the ACKs of a round one by one
 * do in test_hystart_exit. */
static void test_hystart_css_stretch_ack(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	struct hystart *hs = &cubic(tp)->hs;
	us_time_t now = 0;
	uint32_t before;

	(void)state;
	hs_begin(tp);
	for (int r = 0; r < 3; r++)
		hs_round(tp, &now, 100000);
	hs_round(tp, &now, 120000);
	assert_int_equal(hs->state, HS_CSS);
	before = tp->snd_cwnd;
	tp->cwnd_acked = 0;
	now += 1000;
	tp->snd_una += before * MSS;
	tp->ca_ops->rtt_sample(&tp->sk, 120000);
	tp->ca_ops->cong_avoid(&tp->sk, before * MSS, now);
	assert_int_equal(hs->state, HS_CSS);
	assert_int_equal(tp->snd_cwnd, before + before / 4);
	free(tp);
}

/* The RTT falls back below the CSS baseline: the exit was spurious, slow
 * start resumes. Under 4 ms more (the floor of the threshold) is noise. */
static void test_hystart_spurious_and_noise(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_cubic);
	struct hystart *hs = &cubic(tp)->hs;
	us_time_t now = 0;
	uint32_t before;

	(void)state;
	tp->snd_cwnd = 4;
	hs_begin(tp);
	hs_round(tp, &now, 10000);
	hs_round(tp, &now, 13900);       /* +3.9 ms: under the 4 ms floor */
	assert_int_equal(hs->state, HS_SS);
	hs_round(tp, &now, 18000);       /* +4.1 ms over 13.9 */
	assert_int_equal(hs->state, HS_CSS);
	hs_round(tp, &now, 10000);       /* back below the baseline */
	assert_int_equal(hs->state, HS_SS);
	before = hs_round(tp, &now, 10000);
	assert_int_equal(tp->snd_cwnd, 2 * before);
	/* A loss ends it for good. */
	tp->ca_ops->ssthresh(&tp->sk);
	assert_int_equal(hs->state, HS_OFF);
	free(tp);
}

/* ---- NewReno and slow start ------------------------------------------------ */

/*
 * Slow start (RFC 5681 §3.1) counting bytes (RFC 3465 §2.2): per ACK, the
 * segments it covers, with no limit per ACK, as Linux's tcp_slow_start (a
 * stretch ACK of 8 adds 8, where RFC 3465 §2.3's L = 2 would add 2). Each
 * ACK covers at most the window (ack_full keeps the rest in flight).
 */
static void test_slow_start_abc(void **state)
{
	const struct tcp_congestion_ops *algos[] = { &tcp_reno, &tcp_cubic };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct tcp_sock *tp = bare_sock(algos[i]);

		ack_full(tp, MSS, 0);
		assert_int_equal(tp->snd_cwnd, 11);
		ack_full(tp, 2 * MSS, 0);   /* delayed ACK */
		assert_int_equal(tp->snd_cwnd, 13);
		ack_full(tp, 8 * MSS, 0);   /* stretch ACK */
		assert_int_equal(tp->snd_cwnd, 21);
		ack_full(tp, 100, 0);       /* part of one */
		assert_int_equal(tp->snd_cwnd, 22);
		ack_full(tp, 22 * MSS, 0);  /* the whole window at once */
		assert_int_equal(tp->snd_cwnd, 44);
		ack_full(tp, 44 * MSS, 0);  /* a whole TSO packet's ACK */
		assert_int_equal(tp->snd_cwnd, 88);
		free(tp);
	}
}

/* A stretch ACK in slow start stops at ssthresh and gives the rest to
 * congestion avoidance (Linux's tcp_slow_start and tcp_cong_avoid_ai). */
static void test_slow_start_stretch_to_ssthresh(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_reno);

	(void)state;
	tp->snd_cwnd = 12;
	tp->snd_ssthresh = 16;
	/* The whole window of 12: 4 to ssthresh, then 8 segments' worth at
	 * a window of 16, not a whole one yet; 8 more make it one. */
	ack_full(tp, 12 * MSS, 0);
	assert_int_equal(tp->snd_cwnd, 16);
	assert_int_equal(tp->cwnd_acked, 8 * MSS);
	ack_full(tp, 8 * MSS, 0);
	assert_int_equal(tp->snd_cwnd, 17);
	assert_int_equal(tp->cwnd_acked, 0);
	free(tp);
}

/* A window not used does not grow (Linux's tcp_is_cwnd_limited, which
 * tcp_reno_cong_avoid asks as CUBIC does): in slow start with half of it
 * or less in flight, in congestion avoidance with less than all of it. */
static void test_reno_not_cwnd_limited(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_reno);

	(void)state;
	tp->snd_una = 0;
	window_use(tp, 4);                  /* 4 of 10 out at most */
	tp->ca_ops->cong_avoid(&tp->sk, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 10);
	window_use(tp, 5);                  /* 5 of 10: half */
	tp->ca_ops->cong_avoid(&tp->sk, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 10);
	window_use(tp, 6);                  /* 6 of 10: more */
	tp->ca_ops->cong_avoid(&tp->sk, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 11);
	tp->snd_ssthresh = 11;
	window_use(tp, 10);                 /* 10 of 11 */
	for (int i = 0; i < 20; i++)
		tp->ca_ops->cong_avoid(&tp->sk, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 11);
	assert_int_equal(tp->cwnd_acked, 0);
	free(tp);
}

/* What the transmit side keeps of a window's use (Linux's
 * tcp_cwnd_validate): full once is full until SND.UNA passes the
 * window's end; else the most segments out, counted whatever their
 * size. */
static void test_cwnd_validate_windows(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_reno);

	(void)state;
	tp->is_cwnd_limited = false;
	tp->snd_una = 1000;
	tp->snd_nxt = 1000 + 10 * MSS;
	tp->packets_out = 10;
	tcp_cwnd_validate(&tp->sk, true);   /* 10 of 10 */
	assert_true(tp->is_cwnd_limited);
	assert_int_equal(tp->cwnd_usage_seqnum, 1000 + 10 * MSS);
	tp->snd_una += 5 * MSS;
	tp->packets_out = 5;
	tcp_cwnd_validate(&tp->sk, false);  /* same window: still full */
	assert_true(tp->is_cwnd_limited);
	assert_true(tcp_is_cwnd_limited(tp));
	tp->snd_una = 1000 + 10 * MSS;      /* the next window */
	tp->snd_nxt = tp->snd_una + 300;    /* three runts */
	tp->packets_out = 3;
	tcp_cwnd_validate(&tp->sk, false);
	assert_false(tp->is_cwnd_limited);
	assert_int_equal(tp->max_packets_out, 3);
	assert_false(tcp_is_cwnd_limited(tp));   /* 10 >= 2 x 3 */
	tp->snd_una += 100;
	tp->snd_nxt += 300;
	tp->packets_out = 5;
	tcp_cwnd_validate(&tp->sk, false);  /* more out: kept */
	assert_int_equal(tp->max_packets_out, 5);
	assert_int_equal(tp->cwnd_usage_seqnum, tp->snd_nxt);
	assert_false(tcp_is_cwnd_limited(tp));   /* 10 < 2 x 5: no */
	tp->packets_out = 6;
	tcp_cwnd_validate(&tp->sk, false);
	assert_true(tcp_is_cwnd_limited(tp));    /* 10 < 12 */
	/* Congestion avoidance grows only a window that was full. */
	tp->snd_ssthresh = 5;
	assert_false(tcp_is_cwnd_limited(tp));
	free(tp);
}

/* RFC 5681 §3.1: one segment per window of bytes acknowledged. */
static void test_reno_congestion_avoidance(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_reno);

	(void)state;
	tp->snd_cwnd = 10;
	tp->snd_ssthresh = 10;
	for (int i = 0; i < 9; i++)
		ack_full(tp, MSS, 0);
	ack_full(tp, MSS - 1, 0);
	assert_int_equal(tp->snd_cwnd, 10);
	ack_full(tp, 1, 0);
	assert_int_equal(tp->snd_cwnd, 11);
	/* The next step needs 11 segments' worth. */
	for (int i = 0; i < 10; i++)
		ack_full(tp, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 11);
	ack_full(tp, MSS, 0);
	assert_int_equal(tp->snd_cwnd, 12);
	/* An ACK for more than a window, two and a half (after a timeout's
	 * slow start, the cumulative ACK of what was sent before it): two
	 * more, the half kept (Linux's tcp_cong_avoid_ai, called as the
	 * algorithms call it). */
	tcp_cong_avoid_ai(tp, tp->snd_cwnd, 30 * MSS);
	assert_int_equal(tp->snd_cwnd, 14);
	assert_int_equal(tp->cwnd_acked, 6 * MSS);
	/* Credit left from a larger window turns into one segment, not
	 * into several at the smaller one. */
	tp->snd_cwnd = 4;
	tp->cwnd_acked = 13 * MSS;
	tcp_cong_avoid_ai(tp, tp->snd_cwnd, MSS);
	assert_int_equal(tp->snd_cwnd, 5);
	assert_int_equal(tp->cwnd_acked, MSS);
	free(tp);
}

/* Half the window, at least 2 segments (Linux's tcp_reno_ssthresh),
 * whatever is in flight: RFC 5681 §3.1 equation (4) would halve the
 * flight, smaller when less than a window was out. */
static void test_reno_ssthresh(void **state)
{
	struct tcp_sock *tp = bare_sock(&tcp_reno);

	(void)state;
	tp->snd_una = 1000;
	tp->snd_cwnd = 20;
	tp->snd_max = 1000 + 20 * MSS;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 10);
	/* Limited transmit's two segments beyond the window change nothing */
	tp->snd_cwnd = 10;
	tp->snd_max = 1000 + 12 * MSS;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 5);
	/* nor does a flight below the window */
	tp->snd_max = 1000 + 3 * MSS;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 5);
	tp->snd_cwnd = 5;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 2);
	tp->snd_cwnd = 3;
	assert_int_equal(tp->ca_ops->ssthresh(&tp->sk), 2);
	free(tp);
}

/* A timeout sets ssthresh (RFC 5681 §3.1) unless a fast recovery already
 * set it for this window (Linux's tcp_enter_loss): no second cut from
 * PRR's reduced window. The window is one segment either way. (A NewReno
 * recovery held at its point, SND.UNA = high_seq, has its window back:
 * packetdrill cong/reno-recover-point-no-fast-retransmit.pkt.) */
static void test_rto_in_recovery_keeps_ssthresh(void **state)
{
	const struct tcp_congestion_ops *algos[] = { &tcp_reno, &tcp_cubic };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct tcp_sock *tp = bare_sock(algos[i]);

		tp->snd_una = 0;
		tp->snd_max = 20 * MSS;
		tp->snd_cwnd = 4;             /* PRR brought it down */
		tp->snd_ssthresh = 7;
		tp->in_recovery = true;
		tp->high_seq = tp->snd_max;   /* the recovery point */
		tcp_ca_on_rto(&tp->sk, true);
		assert_int_equal(tp->snd_ssthresh, 7);
		assert_int_equal(tp->snd_cwnd, 1);
		/* Outside a recovery the timeout sets it (Reno: half of
		 * 20 segments in flight, at most the window of 20). */
		tp->in_recovery = false;
		tp->snd_cwnd = 20;
		tcp_ca_on_rto(&tp->sk, true);
		assert_int_equal(tp->snd_ssthresh, i == 0 ? 10 : 14);
		assert_int_equal(tp->snd_cwnd, 1);
		free(tp);
	}
}

/* ---- choosing the algorithm ------------------------------------------------ */

static void test_registry(void **state)
{
	(void)state;
	assert_ptr_equal(tcp_ca_find("cubic"), &tcp_cubic);
	assert_ptr_equal(tcp_ca_find("reno"), &tcp_reno);
	assert_ptr_equal(tcp_ca_find("bbr"), &tcp_bbr);
	assert_null(tcp_ca_find("vegas"));
	assert_null(tcp_ca_find(""));
	assert_null(tcp_ca_find("cubic "));
	assert_int_equal(us_sysctl_check_congestion("reno"), 0);
	assert_int_equal(us_sysctl_check_congestion("vegas"), -ENOENT);
}

static void get_name(int fd, char *name)
{
	socklen_t len = TCP_CA_NAME_MAX;

	memset(name, 'x', TCP_CA_NAME_MAX);
	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name,
				       &len), 0);
	assert_int_equal(len, TCP_CA_NAME_MAX);
}

static int hs_state_of(int fd)
{
	int err, st;
	struct socket *sock = sockfd_lookup(fd, &err);

	assert_non_null(sock);
	st = cubic(tcp_sk(sock->sk))->hs.state;
	sockfd_put(sock);
	return st;
}

/* CUBIC is the default, as on Linux; the sysctl changes what new sockets
 * get, not the existing ones; TCP_CONGESTION changes one socket. */
static void test_default_and_choice(void **state)
{
	struct ustack_config cfg;
	struct ustack *st;
	char name[TCP_CA_NAME_MAX], want[TCP_CA_NAME_MAX] = "cubic";
	int a, b;

	(void)state;
	ustack_config_init(&cfg);
	cfg.log_level = 0;
	st = ustack_create(&cfg);
	assert_non_null(st);
	ustack_set_default(st);
	a = us_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(a >= 0);
	get_name(a, name);
	assert_memory_equal(name, want, TCP_CA_NAME_MAX);   /* NUL-padded */
	assert_int_equal(st->sysctl.tcp_cubic_hystart, 1);
	/* On, its first round waiting for the first ACK. */
	assert_int_equal(hs_state_of(a), HS_START);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	b = us_socket(AF_INET, SOCK_STREAM, 0);
	get_name(b, name);
	assert_string_equal(name, "reno");
	get_name(a, name);
	assert_string_equal(name, "cubic");
	assert_int_equal(us_setsockopt(a, IPPROTO_TCP, TCP_CONGESTION, "reno",
				       4), 0);
	get_name(a, name);
	assert_string_equal(name, "reno");
	assert_int_equal(us_setsockopt(a, IPPROTO_TCP, TCP_CONGESTION, "bic",
				       3), -1);
	assert_int_equal(errno, ENOENT);
	get_name(a, name);
	assert_string_equal(name, "reno");
	us_close(a);
	us_close(b);
	ustack_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cubic_k_exact),
		cmocka_unit_test(test_cubic_k_against_rfc),
		cmocka_unit_test(test_cubic_curve_against_rfc),
		cmocka_unit_test(test_cubic_beta),
		cmocka_unit_test(test_cubic_fast_convergence),
		cmocka_unit_test(test_cubic_follows_curve),
		cmocka_unit_test(test_cubic_curve_then_reno),
		cmocka_unit_test(test_cubic_idle_shifts_epoch),
		cmocka_unit_test(test_cubic_reno_friendly),
		cmocka_unit_test(test_cubic_after_rto),
		cmocka_unit_test(test_cubic_not_cwnd_limited),
		cmocka_unit_test(test_hystart_exit),
		cmocka_unit_test(test_hystart_isn_upper_half),
		cmocka_unit_test(test_hystart_spurious_and_noise),
		cmocka_unit_test(test_hystart_css_stretch_ack),
		cmocka_unit_test(test_slow_start_abc),
		cmocka_unit_test(test_slow_start_stretch_to_ssthresh),
		cmocka_unit_test(test_reno_not_cwnd_limited),
		cmocka_unit_test(test_cwnd_validate_windows),
		cmocka_unit_test(test_reno_congestion_avoidance),
		cmocka_unit_test(test_reno_ssthresh),
		cmocka_unit_test(test_rto_in_recovery_keeps_ssthresh),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_default_and_choice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
