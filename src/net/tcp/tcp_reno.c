/*
 * tcp_reno.c - NewReno's congestion control (RFC 5681 §3.1-3.2, RFC 6582):
 * slow start counting the bytes acknowledged (RFC 3465 §2.2, with no limit
 * per ACK, as Linux) below ssthresh, one segment per window of data
 * acknowledged above it (§2.1), no growth while the window is not used
 * (tcp_is_cwnd_limited), and after a loss or an ECE half the window, as
 * Linux. The recovery itself (window inflation, partial ACKs)
 * is in tcp_input.c, common to every algorithm, as in Linux.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"

/*
 * Half the window, at least two segments (Linux's tcp_reno_ssthresh).
 * RFC 5681 §3.1 equation (4) halves the FlightSize instead; the two agree
 * when a window is out, and Linux, the reference here, holds the window's
 * half also where less was out: after a timeout of a lone segment, or an
 * ECE whose ACK (RFC 3168 §6.1.2) has already taken most of the flight
 * off (which would leave a third of what the path carried).
 */
static uint32_t reno_ssthresh(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	uint32_t half = tp->snd_cwnd / 2;

	return half > 2 ? half : 2;
}

static void reno_cong_avoid(struct sock *sk, uint32_t acked, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);

	(void)now;
	if (!tcp_is_cwnd_limited(tp))
		return;
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		acked = tcp_slow_start(tp, acked);
		if (!acked)
			return;
	}
	tcp_cong_avoid_ai(tp, tp->snd_cwnd, acked);
}

const struct tcp_congestion_ops tcp_reno = {
	.name = "reno",
	.ssthresh = reno_ssthresh,
	.cong_avoid = reno_cong_avoid,
};
