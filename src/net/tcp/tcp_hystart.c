/*
 * tcp_hystart.c - HyStart++ (RFC 9406): a way out of the first slow start
 * before it overshoots into loss. Per round trip it keeps the smallest RTT
 * seen; when a round's minimum exceeds the last one's by a threshold
 * (1/8 of it, within 4-16 ms), the queue is building: slow start turns into
 * Conservative Slow Start (a quarter of the growth) for up to five rounds,
 * and then into congestion avoidance with ssthresh at the window reached.
 * If the RTT falls back below the baseline during CSS, the exit was
 * spurious and slow start resumes. CUBIC runs it, as Linux's CUBIC runs
 * HyStart (net.ipv4.tcp_cubic_hystart, on by default).
 *
 * A round is the time until what was sent when it began is acknowledged
 * (snd_nxt then, §4.2). Loss ends it all (cubic_ssthresh), as does a
 * timeout: RFC 9406 §4.3 applies it to the first slow start only.
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"

/* RFC 9406 §4.3's constants. */
#define HS_MIN_RTT_THRESH_US 4000
#define HS_MAX_RTT_THRESH_US 16000
#define HS_MIN_RTT_DIVISOR 8
#define HS_N_RTT_SAMPLE 8
#define HS_CSS_GROWTH_DIVISOR 4
#define HS_CSS_ROUNDS 5
#define HS_NONE UINT32_MAX

void hystart_start(struct tcp_sock *tp, struct hystart *hs)
{
	*hs = (struct hystart){
		.end_seq = tp->snd_nxt,
		.cur_min_us = HS_NONE,
		.last_min_us = HS_NONE,
		.css_base_us = HS_NONE,
		.state = HS_START,
	};
}

/* §4.2 "at the start of each round"; in CSS a round ended counts towards
 * CSS_ROUNDS, and the last one ends slow start. */
static void hystart_round(struct tcp_sock *tp, struct hystart *hs)
{
	/* The first round is what is in flight at the first ACK. The
	 * algorithm is set up with the socket, before its ISN: a round that
	 * began at SND.NXT then (0) never ended while the ISN lay in the
	 * upper half of the sequence space, and HyStart++ did nothing for
	 * half of all connections. (Linux sets it up once established.) */
	if (hs->state == HS_START) {
		hs->end_seq = tp->snd_nxt;
		hs->state = HS_SS;
		return;
	}
	/* The ACK of end_seq itself still belongs to the round it ends. */
	if (seq_leq(tp->snd_una, hs->end_seq))
		return;
	if (hs->state == HS_CSS && ++hs->css_rounds >= HS_CSS_ROUNDS) {
		tp->snd_ssthresh = tp->snd_cwnd;
		tp->cwnd_acked = 0;
		hs->state = HS_OFF;
		return;
	}
	hs->last_min_us = hs->cur_min_us;
	hs->cur_min_us = HS_NONE;
	hs->samples = 0;
	hs->end_seq = tp->snd_nxt;
}

void hystart_rtt_sample(struct tcp_sock *tp, struct hystart *hs,
			uint32_t rtt_us)
{
	uint32_t thresh;

	if (hs->state == HS_OFF || tp->snd_cwnd >= tp->snd_ssthresh)
		return;
	hystart_round(tp, hs);
	if (hs->state == HS_OFF)
		return;
	if (rtt_us < hs->cur_min_us)
		hs->cur_min_us = rtt_us;
	if (hs->samples < UINT16_MAX)
		hs->samples++;
	if (hs->samples < HS_N_RTT_SAMPLE || hs->cur_min_us == HS_NONE)
		return;
	if (hs->state == HS_CSS) {
		/* The delay went away: the exit was spurious. */
		if (hs->cur_min_us < hs->css_base_us) {
			hs->css_base_us = HS_NONE;
			hs->state = HS_SS;
		}
		return;
	}
	if (hs->last_min_us == HS_NONE)
		return;
	thresh = hs->last_min_us / HS_MIN_RTT_DIVISOR;
	if (thresh < HS_MIN_RTT_THRESH_US)
		thresh = HS_MIN_RTT_THRESH_US;
	if (thresh > HS_MAX_RTT_THRESH_US)
		thresh = HS_MAX_RTT_THRESH_US;
	if (hs->cur_min_us >= hs->last_min_us + thresh) {
		hs->css_base_us = hs->cur_min_us;
		hs->state = HS_CSS;
		hs->css_rounds = 0;
	}
}

void hystart_slow_start(struct tcp_sock *tp, struct hystart *hs,
			uint32_t acked)
{
	hystart_round(tp, hs);
	if (hs->state != HS_CSS) {
		if (tp->snd_cwnd < tp->snd_ssthresh)
			(void)tcp_slow_start(tp, acked);
		return;
	}
	/* §4.2: in CSS the window grows by a quarter of what slow start
	 * would add: all the ACK covers, as slow start (tcp_cong.c), where
	 * §4.3 asks L = 8 segments of a sender that does not pace. The
	 * fraction is kept in whole bytes. */
	tp->cwnd_acked += acked / HS_CSS_GROWTH_DIVISOR;
	while (tp->cwnd_acked >= tp->mss_cache) {
		tp->cwnd_acked -= tp->mss_cache;
		tp->snd_cwnd++;
	}
}
