/*
 * tcp_reno.c - NewReno's congestion control (RFC 5681 §3.1-3.2, RFC 6582):
 * slow start counting the bytes acknowledged (RFC 3465 §2.2, with no limit
 * per ACK, as Linux) below ssthresh, one segment per window of data
 * acknowledged above it (§2.1), no growth while the window is not used
 * (tcp_is_cwnd_limited), and after a loss half the flight, of no more
 * than the window. The recovery itself (window inflation, partial ACKs)
 * is in tcp_input.c, common to every algorithm, as in Linux.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"

/*
 * RFC 5681 §3.1 equation (4): ssthresh = max(FlightSize / 2, 2 * SMSS),
 * where FlightSize leaves out what limited transmit (RFC 3042) or SACK
 * recovery's new data sent beyond the window (§3.2 step 2): no more than
 * the window. Linux takes half the window (tcp_reno_ssthresh); the two
 * agree unless less than a window was out, where half of the flight is
 * smaller.
 */
static uint32_t reno_ssthresh(struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk(sk);
	uint32_t flight = tcp_flight_segs(tp);
	uint32_t half = (flight < tp->snd_cwnd ? flight : tp->snd_cwnd) / 2;

	return half > 2 ? half : 2;
}

static void reno_cong_avoid(struct sock *sk, uint32_t acked, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);

	(void)now;
	if (!tcp_is_cwnd_limited(tp, acked))
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
