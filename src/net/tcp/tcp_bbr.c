// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_bbr.c - BBR congestion control, version 1, as Linux 6.18's
 * net/ipv4/tcp_bbr.c runs it ("BBR: Congestion-Based Congestion
 * Control", Cardwell, Cheng, Gunn, Hassas Yeganeh, Jacobson, ACM Queue
 * 14(5), 2016). Written anew from Linux's behaviour; the function names
 * are Linux's so that the two can be read side by side.
 *
 * BBR does not take loss as its signal. On every ACK it updates a model
 * of the path from the delivery-rate sample (tcp_rate.c):
 *
 *   bw      = the largest delivery rate of the last 10 round trips
 *   min_rtt = the smallest RTT of the last 10 seconds
 *
 * and from it sets the pacing rate (pacing_gain x bw) and the window
 * (cwnd_gain x bw x min_rtt, plus room for ACK aggregation and TSO
 * bursts). The gains follow a state machine:
 *
 *   STARTUP    2/ln2 for both, doubling the rate each round, until three
 *              rounds in a row bring less than 25% more bw;
 *   DRAIN      pacing at ln2/2, until the flight is down to one BDP;
 *   PROBE_BW   cwnd gain 2, pacing gain cycling 5/4, 3/4, 1 x 6, one
 *              phase per min_rtt;
 *   PROBE_RTT  when min_rtt has not been seen again for 10 s: the window
 *              at 4 segments for 200 ms and a round, to measure it anew.
 *
 * A loss only shapes the window on the ACKs around it: a fast recovery
 * sends one segment per segment delivered for its first round (packet
 * conservation), and the window before it comes back when it ends. A
 * token-bucket policer is recognised by two intervals of steady delivery
 * with 20% loss; its rate is then used as bw for 48 rounds.
 *
 * Where it sits: tcp_ack -> tcp_cong_control -> bbr_main (ops
 * cong_control: the window and pacing rate are BBR's alone, PRR and
 * cong_avoid do not run); tcp_init_established -> tcp_ca_init_transfer
 * -> bbr_init; ssthresh (a loss: remember the window), undo_cwnd,
 * on_rto (Linux's set_state TCP_CA_Loss), tx_start (CA_EVENT_TX_START),
 * pacing_rate (tcp_pacing.c, TCP_INFO), get_info (TCP_CC_INFO),
 * min_tso_segs, sndbuf_expand.
 *
 * The state is larger than tcp_sock's ca_priv (72 bytes, which an idle
 * connection must not outgrow): it is allocated by bbr_init, when the
 * transfer starts (Linux's tcp_init_transfer), and its address kept in
 * ca_priv[0]. Before that, or without memory, the algorithm is Reno's
 * (tcp_cong.h: tcp_ca_controls).
 *
 * Units are Linux's: bandwidth in segments per microsecond << 24
 * (BW_SCALE: 1 ~ 715 bit/s at 1500 bytes, u32 reaches 3 Tbit/s), gains
 * in 1/256 (BBR_UNIT). Times are the instance's clock, in microseconds
 * (Linux counts some in jiffies: min_rtt_stamp, probe_rtt_done_stamp).
 */
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "net/sock.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_bbr.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

#define BW_SCALE 24
#define BW_UNIT (1ULL << BW_SCALE)
#define BBR_SCALE 8
#define BBR_UNIT (1U << BBR_SCALE)
#define USEC_PER_SEC 1000000ULL

enum bbr_mode {
	BBR_STARTUP,    /* ramp up the sending rate fast to fill the pipe */
	BBR_DRAIN,      /* drain the queue STARTUP made */
	BBR_PROBE_BW,   /* cruise at bw, probing for more and sharing */
	BBR_PROBE_RTT,  /* cut the flight to measure min_rtt anew */
};

#define CYCLE_LEN 8                 /* phases of the PROBE_BW gain cycle */

/* The parameters, Linux's (tcp_bbr.c's static consts). */
static const uint32_t bbr_bw_rtts = CYCLE_LEN + 2;    /* bw filter, rounds */
static const us_time_t bbr_min_rtt_win_us = 10 * USEC_PER_SEC;
static const us_time_t bbr_probe_rtt_mode_us = 200 * 1000;
static const uint64_t bbr_min_tso_rate = 1200000;     /* bit/s */
static const uint32_t bbr_pacing_margin_percent = 1;
/* 2/ln(2): the smallest gain that doubles the sending rate every round,
 * as slow start does; its inverse drains the queue that made in one. */
static const uint32_t bbr_high_gain = BBR_UNIT * 2885 / 1000 + 1;
static const uint32_t bbr_drain_gain = BBR_UNIT * 1000 / 2885;
static const uint32_t bbr_cwnd_gain = BBR_UNIT * 2;
static const uint32_t bbr_pacing_gain[CYCLE_LEN] = {
	BBR_UNIT * 5 / 4,       /* probe for more bw */
	BBR_UNIT * 3 / 4,       /* drain what that queued */
	BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT, BBR_UNIT,
};
static const uint32_t bbr_cycle_rand = 7;   /* random start among 7 */
static const uint32_t bbr_cwnd_min_target = 4;
static const uint32_t bbr_full_bw_thresh = BBR_UNIT * 5 / 4;
static const uint32_t bbr_full_bw_cnt = 3;
/* The long-term (policer) estimator */
static const uint32_t bbr_lt_intvl_min_rtts = 4;
static const uint32_t bbr_lt_loss_thresh = 50;        /* /256: ~20% */
static const uint32_t bbr_lt_bw_ratio = BBR_UNIT / 8;
static const uint32_t bbr_lt_bw_diff = 4000 / 8;      /* bytes/s */
static const uint32_t bbr_lt_bw_max_rtts = 48;
/* ACK aggregation */
static const uint32_t bbr_extra_acked_gain = BBR_UNIT;
static const uint32_t bbr_extra_acked_win_rtts = 5;
static const uint32_t bbr_ack_epoch_acked_reset_thresh = 1U << 20;
static const uint64_t bbr_extra_acked_max_us = 100 * 1000;
/* Linux's GSO_LEGACY_MAX_SIZE - 1 - MAX_TCP_HEADER (x86-64's 320) */
#define BBR_TSO_MAX_BYTES (65536 - 1 - 320)

/*
 * A windowed maximum over the last `win` units of time (here round
 * trips), kept as three samples: the best, and the best of the later
 * quarters and halves of the window, so that when the best ages out a
 * good one is at hand. Kathleen Nichols' algorithm, as Linux's
 * lib/win_minmax.c keeps it for BBR.
 */
struct bbr_minmax_sample {
	uint32_t t;
	uint32_t v;
};

struct bbr_minmax {
	struct bbr_minmax_sample s[3];
};

struct bbr {
	uint32_t min_rtt_us;            /* min RTT in the 10 s window */
	us_time_t min_rtt_stamp;        /* when it was taken */
	us_time_t probe_rtt_done_stamp; /* PROBE_RTT may end after; 0: not
					   yet at its flight */
	struct bbr_minmax bw;           /* max delivery rate, by round */
	uint32_t rtt_cnt;               /* packet-timed rounds so far */
	uint32_t next_rtt_delivered;    /* tp->delivered at the round's end */
	us_time_t cycle_mstamp;         /* this gain phase's start */
	uint8_t mode;                   /* enum bbr_mode */
	uint8_t prev_ca_state;          /* TCP_CA_* at the last ACK */
	bool packet_conservation;       /* first round of a recovery */
	bool round_start;               /* this ACK began a round */
	bool idle_restart;              /* sending again after idle */
	bool probe_rtt_round_done;      /* a round at PROBE_RTT's flight */
	bool lt_is_sampling;            /* taking long-term samples */
	bool lt_use_bw;                 /* lt_bw stands for bw */
	uint8_t lt_rtt_cnt;             /* rounds in the LT interval */
	uint32_t lt_bw;                 /* LT delivery rate (BW units) */
	uint32_t lt_last_delivered;     /* the LT interval's start: */
	uint32_t lt_last_stamp;         /*   delivered, time (ms), */
	uint32_t lt_last_lost;          /*   lost */
	uint16_t pacing_gain;           /* this ACK's gains, /256 */
	uint16_t cwnd_gain;
	bool full_bw_reached;           /* STARTUP filled the pipe */
	uint8_t full_bw_cnt;            /* rounds without 25% growth */
	uint8_t cycle_idx;              /* PROBE_BW's phase */
	bool has_seen_rtt;              /* the pacing rate had an RTT */
	uint32_t prior_cwnd;            /* cwnd before a recovery or
					   PROBE_RTT */
	uint32_t full_bw;               /* bw to beat by 25% */
	/* ACK aggregation */
	us_time_t ack_epoch_mstamp;     /* the sampling epoch's start */
	uint16_t extra_acked[2];        /* max excess in two windows */
	uint32_t ack_epoch_acked;       /* segments (S)ACKed in the epoch */
	uint8_t extra_acked_win_rtts;   /* age of the current window */
	uint8_t extra_acked_win_idx;    /* the current one */
	uint64_t pacing_rate;           /* bytes/s (Linux's sk_pacing_rate) */
};

/* ---- the windowed max filter --------------------------------------------- */

static uint32_t bbr_minmax_get(const struct bbr_minmax *m)
{
	return m->s[0].v;
}

static void bbr_minmax_reset(struct bbr_minmax *m, uint32_t t, uint32_t v)
{
	for (int i = 0; i < 3; i++)
		m->s[i] = (struct bbr_minmax_sample){ .t = t, .v = v };
}

/* The three samples one place up: the best gone, the new sample last. */
static void bbr_minmax_shift(struct bbr_minmax *m,
			     struct bbr_minmax_sample val)
{
	m->s[0] = m->s[1];
	m->s[1] = m->s[2];
	m->s[2] = val;
}

static void bbr_minmax_running_max(struct bbr_minmax *m, uint32_t win,
				   uint32_t t, uint32_t v)
{
	struct bbr_minmax_sample val = { .t = t, .v = v };
	uint32_t age;

	/* A new best, or all three too old: start over from this one. */
	if (v >= m->s[0].v || t - m->s[2].t > win) {
		bbr_minmax_reset(m, t, v);
		return;
	}
	if (v >= m->s[1].v)
		m->s[2] = m->s[1] = val;
	else if (v >= m->s[2].v)
		m->s[2] = val;
	/* Age the choices: past the window the best goes (and again if the
	 * second is as old); a quarter in with no second choice of its own,
	 * this sample becomes it; half-way with no third, likewise. */
	age = t - m->s[0].t;
	if (age > win) {
		bbr_minmax_shift(m, val);
		if (t - m->s[0].t > win)
			bbr_minmax_shift(m, val);
	} else if (m->s[1].t == m->s[0].t && age > win / 4) {
		m->s[2] = m->s[1] = val;
	} else if (m->s[2].t == m->s[1].t && age > win / 2) {
		m->s[2] = val;
	}
}

/* ---- state and helpers ----------------------------------------------------- */

static struct bbr *bbr_of(const struct sock *sk)
{
	return tcp_ca_state_ptr(tcp_sk((struct sock *)sk));
}

static void bbr_set_of(struct sock *sk, struct bbr *bbr)
{
	memcpy(tcp_sk(sk)->ca_priv, &bbr, sizeof(bbr));
}

/* When tp->delivered last grew (Linux's delivered_mstamp). */
static us_time_t bbr_delivered_mstamp(const struct sock *sk)
{
	const struct tcp_rate *r = tcp_sk((struct sock *)sk)->rate;

	return r ? r->delivered_at : sk->st->now;
}

/* Segments ever marked lost (Linux's tp->lost). */
static uint32_t bbr_lost(const struct tcp_sock *tp)
{
	return tp->rate ? tp->rate->lost : 0;
}

/* max(t1 - t0, 0), Linux's tcp_stamp_us_delta. */
static uint64_t bbr_us_delta(us_time_t t1, us_time_t t0)
{
	return t1 > t0 ? t1 - t0 : 0;
}

static uint32_t bbr_max_bw(const struct bbr *bbr)
{
	return bbr_minmax_get(&bbr->bw);
}

/* The bw the model uses: the policer's rate while one is assumed. */
static uint32_t bbr_bw(const struct bbr *bbr)
{
	return bbr->lt_use_bw ? bbr->lt_bw : bbr_max_bw(bbr);
}

static uint16_t bbr_extra_acked(const struct bbr *bbr)
{
	return bbr->extra_acked[0] > bbr->extra_acked[1] ? bbr->extra_acked[0]
							 : bbr->extra_acked[1];
}

/* A rate in BW units at a gain, in bytes per second, 1% below (BBR paces
 * a little under its estimate so that the queue it may have built
 * drains). The order of the operations keeps 64 bits from overflowing up
 * to 2.9 Tbit/s at the high gain, and rounds as Linux's does. */
uint64_t bbr_rate_bytes_per_sec(uint32_t mss, uint64_t rate, uint32_t gain)
{
	rate *= mss;
	rate *= gain;
	rate >>= BBR_SCALE;
	rate *= USEC_PER_SEC / 100 * (100 - bbr_pacing_margin_percent);
	return rate >> BW_SCALE;
}

static uint64_t bbr_bw_to_pacing_rate(struct sock *sk, uint32_t bw,
				      uint32_t gain)
{
	uint64_t rate = bbr_rate_bytes_per_sec(tcp_sk(sk)->mss_cache, bw, gain);
	uint64_t max = sk_max_pacing_rate(sk);

	return rate < max ? rate : max;
}

/* The first rate: high_gain x cwnd per SRTT, or per 1 ms without one. */
static void bbr_init_pacing_rate_from_rtt(struct sock *sk, struct bbr *bbr)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t rtt_us = 1000;
	uint64_t bw;

	if (tp->srtt_us) {   /* (ustack's SRTT is in us, not us << 3) */
		rtt_us = tp->srtt_us;
		bbr->has_seen_rtt = true;
	}
	bw = (uint64_t)tp->snd_cwnd * BW_UNIT / rtt_us;
	bbr->pacing_rate = bbr_bw_to_pacing_rate(sk, (uint32_t)bw,
						 bbr_high_gain);
}

/* Pace at bw x gain. Until STARTUP has filled the pipe the rate only
 * rises: a low early sample (application-limited, or a round not yet
 * full) must not slow the ramp. */
static void bbr_set_pacing_rate(struct sock *sk, struct bbr *bbr,
				uint32_t bw, uint32_t gain)
{
	uint64_t rate = bbr_bw_to_pacing_rate(sk, bw, gain);
	uint64_t max = sk_max_pacing_rate(sk);

	/* An SO_MAX_PACING_RATE set since lowers the rate at once (Linux's
	 * sock_setsockopt caps sk_pacing_rate with it). */
	if (bbr->pacing_rate > max)
		bbr->pacing_rate = max;
	if (!bbr->has_seen_rtt && tcp_sk(sk)->srtt_us)
		bbr_init_pacing_rate_from_rtt(sk, bbr);
	if (bbr->full_bw_reached || rate > bbr->pacing_rate)
		bbr->pacing_rate = rate;
}

/* TSO packets of one segment below 1.2 Mbit/s, two above (Linux's
 * min_tso_segs op). */
static uint32_t bbr_min_tso_segs_of(const struct bbr *bbr)
{
	return bbr->pacing_rate < (bbr_min_tso_rate >> 3) ? 1 : 2;
}

static uint64_t bbr_pacing_rate(struct sock *sk);

static uint32_t bbr_min_tso_segs(struct sock *sk)
{
	if (!bbr_of(sk))
		return 2;
	return bbr_pacing_rate(sk) < (bbr_min_tso_rate >> 3) ? 1 : 2;
}

/* The TSO packet size the pacing rate allows (1/1024 s of it: Linux's
 * sk_pacing_shift), in segments, for the window's quantization budget. */
static uint32_t bbr_tso_segs_goal(struct sock *sk, const struct bbr *bbr)
{
	uint64_t bytes = bbr->pacing_rate >> 10;
	uint32_t mss = tcp_sk(sk)->mss_cache;
	uint32_t segs, min = bbr_min_tso_segs_of(bbr);

	if (bytes > BBR_TSO_MAX_BYTES)
		bytes = BBR_TSO_MAX_BYTES;
	segs = mss ? (uint32_t)(bytes / mss) : 0;
	if (segs < min)
		segs = min;
	return segs < 0x7f ? segs : 0x7f;
}

/* The window before a recovery or PROBE_RTT cut it, to go back to. */
static void bbr_save_cwnd(struct sock *sk, struct bbr *bbr)
{
	uint32_t cwnd = tcp_sk(sk)->snd_cwnd;

	if (bbr->prev_ca_state < TCP_CA_Recovery && bbr->mode != BBR_PROBE_RTT)
		bbr->prior_cwnd = cwnd;
	else if (cwnd > bbr->prior_cwnd)
		bbr->prior_cwnd = cwnd;
}

/* ceil(bw x min_rtt x gain): the window the path holds at that gain.
 * Without an RTT sample yet (only after timeouts of everything sent,
 * without timestamps), the initial window. */
static uint32_t bbr_bdp(const struct bbr *bbr, uint32_t bw, uint32_t gain)
{
	uint64_t w;

	if (bbr->min_rtt_us == UINT32_MAX)
		return TCP_INIT_CWND;
	w = (uint64_t)bw * bbr->min_rtt_us;
	return (uint32_t)((((w * gain) >> BBR_SCALE) + BW_UNIT - 1) / BW_UNIT);
}

/* Room for the TSO bursts in flight at both ends (three), rounded up to
 * even (fewer delayed ACKs), and 2 more at the probing phase so that it
 * rises above the BDP even when that is small. */
static uint32_t bbr_quantization_budget(struct sock *sk,
					const struct bbr *bbr, uint32_t cwnd)
{
	cwnd += 3 * bbr_tso_segs_goal(sk, bbr);
	cwnd = (cwnd + 1) & ~1U;
	if (bbr->mode == BBR_PROBE_BW && bbr->cycle_idx == 0)
		cwnd += 2;
	return cwnd;
}

static uint32_t bbr_inflight(struct sock *sk, const struct bbr *bbr,
			     uint32_t bw, uint32_t gain)
{
	return bbr_quantization_budget(sk, bbr, bbr_bdp(bbr, bw, gain));
}

/*
 * The flight at the next departure the pacing allows (Linux's
 * tcp_wstamp_ns, "earliest departure time"): what is in flight now, less
 * what bw delivers until then, plus the TSO burst that will go then when
 * the phase raises the flight.
 */
static uint32_t bbr_packets_in_net_at_edt(struct sock *sk,
					  const struct bbr *bbr,
					  uint32_t inflight_now)
{
	const struct sock_ext *e = sock_ext(sk, false);
	uint64_t now_ns = sk->st->now * 1000, edt_ns = now_ns;
	uint64_t delivered;
	uint32_t inflight = inflight_now;

	if (e && e->pace_next_ns > now_ns)
		edt_ns = e->pace_next_ns;
	delivered = (uint64_t)bbr_bw(bbr) * ((edt_ns - now_ns) / 1000) >>
		    BW_SCALE;
	if (bbr->pacing_gain > BBR_UNIT)
		inflight += bbr_tso_segs_goal(sk, bbr);
	return delivered >= inflight ? 0 : inflight - (uint32_t)delivered;
}

/* The window's share for ACK aggregation, once STARTUP is over: the
 * recent excess of ACKed data over bw's, at most 100 ms of bw. */
static uint32_t bbr_ack_aggregation_cwnd(const struct bbr *bbr)
{
	uint64_t max_aggr, aggr;

	if (!bbr_extra_acked_gain || !bbr->full_bw_reached)
		return 0;
	max_aggr = (uint64_t)bbr_bw(bbr) * bbr_extra_acked_max_us / BW_UNIT;
	aggr = (uint64_t)bbr_extra_acked_gain * bbr_extra_acked(bbr) >>
	       BBR_SCALE;
	return (uint32_t)(aggr < max_aggr ? aggr : max_aggr);
}

/* ---- the window ------------------------------------------------------------ */

/*
 * Losses and recovery (Linux's bbr_set_cwnd_to_recover_or_restore): the
 * segments newly lost come off the window first; the first round of a
 * fast recovery sends one segment per segment delivered (packet
 * conservation: the round starts now); leaving a recovery or a timeout's
 * loss state gives back the window before it. True while conservation
 * holds: *new_cwnd is then final.
 */
static bool bbr_set_cwnd_to_recover_or_restore(struct sock *sk,
					       struct bbr *bbr,
					       const struct rate_sample *rs,
					       uint32_t acked,
					       uint32_t *new_cwnd)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint8_t prev = bbr->prev_ca_state, state = tcp_ca_state(tp);
	uint32_t cwnd = tp->snd_cwnd;
	uint32_t flight = tcp_packets_in_flight(tp);

	if (rs->losses > 0)
		cwnd = cwnd > rs->losses + 1 ? cwnd - rs->losses : 1;
	if (state == TCP_CA_Recovery && prev != TCP_CA_Recovery) {
		bbr->packet_conservation = true;
		bbr->next_rtt_delivered = tp->delivered;
		/* (What the application, or TSO deferral, left unused goes.) */
		cwnd = flight + acked;
	} else if (prev >= TCP_CA_Recovery && state < TCP_CA_Recovery) {
		if (bbr->prior_cwnd > cwnd)
			cwnd = bbr->prior_cwnd;
		bbr->packet_conservation = false;
	}
	bbr->prev_ca_state = state;
	if (bbr->packet_conservation) {
		*new_cwnd = cwnd > flight + acked ? cwnd : flight + acked;
		return true;
	}
	*new_cwnd = cwnd;
	return false;
}

/*
 * Towards the target: cwnd_gain x BDP, plus aggregation and the TSO
 * budget. Below it the window grows by what the ACK delivered (slow
 * start, when bw grows or a loss cut it); above it, once STARTUP is over,
 * it comes down to it. In STARTUP it never comes down, and grows anyway
 * until 10 segments were delivered. Never below 4; PROBE_RTT holds 4.
 */
static void bbr_set_cwnd(struct sock *sk, struct bbr *bbr,
			 const struct rate_sample *rs, uint32_t acked,
			 uint32_t bw, uint32_t gain)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t cwnd = tp->snd_cwnd, target;

	if (acked) {
		if (!bbr_set_cwnd_to_recover_or_restore(sk, bbr, rs, acked,
							&cwnd)) {
			target = bbr_bdp(bbr, bw, gain);
			target += bbr_ack_aggregation_cwnd(bbr);
			target = bbr_quantization_budget(sk, bbr, target);
			if (bbr->full_bw_reached)
				cwnd = cwnd + acked < target ? cwnd + acked
							     : target;
			else if (cwnd < target ||
				 tp->delivered < TCP_INIT_CWND)
				cwnd += acked;
			if (cwnd < bbr_cwnd_min_target)
				cwnd = bbr_cwnd_min_target;
		}
	}
	/* (ustack has no cwnd clamp: Linux's snd_cwnd_clamp is ~0 unless a
	 * route metric sets it.) */
	tp->snd_cwnd = cwnd;
	if (bbr->mode == BBR_PROBE_RTT && tp->snd_cwnd > bbr_cwnd_min_target)
		tp->snd_cwnd = bbr_cwnd_min_target;
}

/* ---- PROBE_BW's gain cycle ------------------------------------------------- */

/* The phase ends after min_rtt at gain 1; at 5/4 also not before the
 * flight reached 5/4 BDP (or a loss says it will not); at 3/4 as soon as
 * the flight is down to the BDP. */
static bool bbr_is_next_cycle_phase(struct sock *sk, struct bbr *bbr,
				    const struct rate_sample *rs)
{
	bool is_full_length =
		bbr_us_delta(bbr_delivered_mstamp(sk), bbr->cycle_mstamp) >
		bbr->min_rtt_us;
	uint32_t inflight, bw;

	if (bbr->pacing_gain == BBR_UNIT)
		return is_full_length;
	inflight = bbr_packets_in_net_at_edt(sk, bbr, rs->prior_in_flight);
	bw = bbr_max_bw(bbr);
	if (bbr->pacing_gain > BBR_UNIT)
		return is_full_length &&
		       (rs->losses ||
			inflight >= bbr_inflight(sk, bbr, bw, bbr->pacing_gain));
	return is_full_length ||
	       inflight <= bbr_inflight(sk, bbr, bw, BBR_UNIT);
}

static void bbr_advance_cycle_phase(struct sock *sk, struct bbr *bbr)
{
	bbr->cycle_idx = (bbr->cycle_idx + 1) & (CYCLE_LEN - 1);
	bbr->cycle_mstamp = bbr_delivered_mstamp(sk);
}

static void bbr_update_cycle_phase(struct sock *sk, struct bbr *bbr,
				   const struct rate_sample *rs)
{
	if (bbr->mode == BBR_PROBE_BW && bbr_is_next_cycle_phase(sk, bbr, rs))
		bbr_advance_cycle_phase(sk, bbr);
}

/* PROBE_BW at a random phase, not the draining one (flows that start
 * together would otherwise probe together). */
static void bbr_reset_probe_bw_mode(struct sock *sk, struct bbr *bbr)
{
	bbr->mode = BBR_PROBE_BW;
	bbr->cycle_idx = (uint8_t)(CYCLE_LEN - 1 -
				   us_rng_below(&sk->st->rng, bbr_cycle_rand));
	bbr_advance_cycle_phase(sk, bbr);
}

static void bbr_reset_mode(struct sock *sk, struct bbr *bbr)
{
	if (!bbr->full_bw_reached)
		bbr->mode = BBR_STARTUP;
	else
		bbr_reset_probe_bw_mode(sk, bbr);
}

/* ---- the long-term (policer) estimator ------------------------------------- */

static void bbr_reset_lt_bw_sampling_interval(struct sock *sk,
					      struct bbr *bbr)
{
	struct tcp_sock *tp = tcp_sk(sk);

	bbr->lt_last_stamp = (uint32_t)(bbr_delivered_mstamp(sk) / 1000);
	bbr->lt_last_delivered = tp->delivered;
	bbr->lt_last_lost = bbr_lost(tp);
	bbr->lt_rtt_cnt = 0;
}

static void bbr_reset_lt_bw_sampling(struct sock *sk, struct bbr *bbr)
{
	bbr->lt_bw = 0;
	bbr->lt_use_bw = false;
	bbr->lt_is_sampling = false;
	bbr_reset_lt_bw_sampling_interval(sk, bbr);
}

/* An interval is done: with the one before at about the same rate (within
 * 1/8, or 4 kbit/s), a policer is assumed: its rate is their mean. */
static void bbr_lt_bw_interval_done(struct sock *sk, struct bbr *bbr,
				    uint32_t bw)
{
	if (bbr->lt_bw) {
		uint32_t diff = bw > bbr->lt_bw ? bw - bbr->lt_bw
						: bbr->lt_bw - bw;

		if ((uint64_t)diff * BBR_UNIT <=
		    (uint64_t)bbr_lt_bw_ratio * bbr->lt_bw ||
		    bbr_rate_bytes_per_sec(tcp_sk(sk)->mss_cache, diff,
					   BBR_UNIT) <= bbr_lt_bw_diff) {
			bbr->lt_bw = (bw + bbr->lt_bw) >> 1;
			bbr->lt_use_bw = true;
			bbr->pacing_gain = BBR_UNIT;   /* no more drops */
			bbr->lt_rtt_cnt = 0;
			return;
		}
	}
	bbr->lt_bw = bw;
	bbr_reset_lt_bw_sampling_interval(sk, bbr);
}

/*
 * Token-bucket policers ("An Internet-Wide Analysis of Traffic
 * Policing", SIGCOMM 2016): sampling starts at the first loss (the
 * bucket is empty then), an interval lasts 4 to 16 rounds and ends at a
 * loss with at least 20% of the delivered lost; two such intervals at a
 * steady rate give the policed rate. Application-limited samples reset
 * it (the rate would be too low). While in use, after 48 rounds of
 * PROBE_BW it is dropped and probing starts again.
 */
static void bbr_lt_bw_sampling(struct sock *sk, struct bbr *bbr,
			       const struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t lost, delivered, t;
	uint64_t bw;

	if (bbr->lt_use_bw) {
		if (bbr->mode == BBR_PROBE_BW && bbr->round_start &&
		    ++bbr->lt_rtt_cnt >= bbr_lt_bw_max_rtts) {
			bbr_reset_lt_bw_sampling(sk, bbr);
			bbr_reset_probe_bw_mode(sk, bbr);
		}
		return;
	}
	if (!bbr->lt_is_sampling) {
		if (!rs->losses)
			return;
		bbr_reset_lt_bw_sampling_interval(sk, bbr);
		bbr->lt_is_sampling = true;
	}
	if (rs->is_app_limited) {
		bbr_reset_lt_bw_sampling(sk, bbr);
		return;
	}
	if (bbr->round_start)
		bbr->lt_rtt_cnt++;
	if (bbr->lt_rtt_cnt < bbr_lt_intvl_min_rtts)
		return;
	if (bbr->lt_rtt_cnt > 4 * bbr_lt_intvl_min_rtts) {
		bbr_reset_lt_bw_sampling(sk, bbr);
		return;
	}
	if (!rs->losses)
		return;
	lost = bbr_lost(tp) - bbr->lt_last_lost;
	delivered = tp->delivered - bbr->lt_last_delivered;
	if (!delivered ||
	    ((uint64_t)lost << BBR_SCALE) <
	    (uint64_t)bbr_lt_loss_thresh * delivered)
		return;
	t = (uint32_t)(bbr_delivered_mstamp(sk) / 1000) - bbr->lt_last_stamp;
	if ((int32_t)t < 1)
		return;   /* under 1 ms: wait */
	if (t >= UINT32_MAX / 1000) {
		bbr_reset_lt_bw_sampling(sk, bbr);
		return;
	}
	bw = (uint64_t)delivered * BW_UNIT / ((uint64_t)t * 1000);
	bbr_lt_bw_interval_done(sk, bbr, (uint32_t)bw);
}

/* ---- the model -------------------------------------------------------------- */

/* Rounds, and the bw sample into the max filter: an application-limited
 * one only if it is no lower than the estimate (it says nothing about
 * the path's limit otherwise). */
static void bbr_update_bw(struct sock *sk, struct bbr *bbr,
			  const struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t bw;

	bbr->round_start = false;
	if (rs->delivered < 0 || rs->interval_us <= 0)
		return;
	if (!seq_lt(rs->prior_delivered, bbr->next_rtt_delivered)) {
		bbr->next_rtt_delivered = tp->delivered;
		bbr->rtt_cnt++;
		bbr->round_start = true;
		bbr->packet_conservation = false;
	}
	bbr_lt_bw_sampling(sk, bbr, rs);
	bw = (uint64_t)rs->delivered * BW_UNIT / (uint64_t)rs->interval_us;
	if (bw > UINT32_MAX)
		bw = UINT32_MAX;
	if (!rs->is_app_limited || bw >= bbr_max_bw(bbr))
		bbr_minmax_running_max(&bbr->bw, bbr_bw_rtts, bbr->rtt_cnt,
				       (uint32_t)bw);
}

/*
 * ACK aggregation (Wi-Fi, cable, stretch ACKs): the most data ACKed in
 * excess of what bw explains since the epoch began, kept per window of 5
 * rounds (the larger of the last two counts), at most cwnd. The epoch
 * starts again when the ACKs fall back to bw's pace, or after 2^20.
 */
static void bbr_update_ack_aggregation(struct sock *sk, struct bbr *bbr,
				       const struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t epoch_us, expected;
	uint32_t extra;

	if (!bbr_extra_acked_gain || rs->acked_sacked == 0 ||
	    rs->delivered < 0 || rs->interval_us <= 0)
		return;
	if (bbr->round_start) {
		if (bbr->extra_acked_win_rtts < 0x1f)
			bbr->extra_acked_win_rtts++;
		if (bbr->extra_acked_win_rtts >= bbr_extra_acked_win_rtts) {
			bbr->extra_acked_win_rtts = 0;
			bbr->extra_acked_win_idx ^= 1;
			bbr->extra_acked[bbr->extra_acked_win_idx] = 0;
		}
	}
	epoch_us = (uint32_t)bbr_us_delta(bbr_delivered_mstamp(sk),
					  bbr->ack_epoch_mstamp);
	expected = (uint64_t)bbr_bw(bbr) * epoch_us / BW_UNIT;
	if (bbr->ack_epoch_acked <= expected ||
	    bbr->ack_epoch_acked + rs->acked_sacked >=
	    bbr_ack_epoch_acked_reset_thresh) {
		bbr->ack_epoch_acked = 0;
		bbr->ack_epoch_mstamp = bbr_delivered_mstamp(sk);
		expected = 0;
	}
	bbr->ack_epoch_acked += rs->acked_sacked;
	if (bbr->ack_epoch_acked > 0xfffff)
		bbr->ack_epoch_acked = 0xfffff;
	extra = bbr->ack_epoch_acked - (uint32_t)expected;
	if (extra > tp->snd_cwnd)
		extra = tp->snd_cwnd;
	if (extra > bbr->extra_acked[bbr->extra_acked_win_idx])
		bbr->extra_acked[bbr->extra_acked_win_idx] = (uint16_t)extra;
}

/* STARTUP has filled the pipe when three rounds in a row (not
 * application-limited) brought less than 25% more bw. */
static void bbr_check_full_bw_reached(struct bbr *bbr,
				      const struct rate_sample *rs)
{
	uint32_t thresh;

	if (bbr->full_bw_reached || !bbr->round_start || rs->is_app_limited)
		return;
	thresh = (uint32_t)((uint64_t)bbr->full_bw * bbr_full_bw_thresh >>
			    BBR_SCALE);
	if (bbr_max_bw(bbr) >= thresh) {
		bbr->full_bw = bbr_max_bw(bbr);
		bbr->full_bw_cnt = 0;
		return;
	}
	bbr->full_bw_cnt++;
	bbr->full_bw_reached = bbr->full_bw_cnt >= bbr_full_bw_cnt;
}

/* Full: DRAIN the queue STARTUP made (ssthresh notes the flight
 * expected), until the flight at the next departure is one BDP. */
static void bbr_check_drain(struct sock *sk, struct bbr *bbr)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (bbr->mode == BBR_STARTUP && bbr->full_bw_reached) {
		bbr->mode = BBR_DRAIN;
		tp->snd_ssthresh = bbr_inflight(sk, bbr, bbr_max_bw(bbr),
						BBR_UNIT);
	}
	if (bbr->mode == BBR_DRAIN &&
	    bbr_packets_in_net_at_edt(sk, bbr, tcp_packets_in_flight(tp)) <=
	    bbr_inflight(sk, bbr, bbr_max_bw(bbr), BBR_UNIT))
		bbr_reset_probe_bw_mode(sk, bbr);
}

static void bbr_check_probe_rtt_done(struct sock *sk, struct bbr *bbr)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!bbr->probe_rtt_done_stamp ||
	    sk->st->now <= bbr->probe_rtt_done_stamp)
		return;
	bbr->min_rtt_stamp = sk->st->now;   /* the next one in 10 s */
	if (bbr->prior_cwnd > tp->snd_cwnd)
		tp->snd_cwnd = bbr->prior_cwnd;
	bbr_reset_mode(sk, bbr);
}

/*
 * min_rtt, and PROBE_RTT: a sample at or below it, or any (not from a
 * delayed ACK) once 10 s passed without one, is the new min_rtt. Past
 * those 10 s (unless sending again after idle, which drained the queue
 * already) the flight drops to 4 segments for 200 ms and a round, the
 * samples counted application-limited meanwhile; then the window before
 * comes back. Flows that share a bottleneck drain it together this way.
 */
static void bbr_update_min_rtt(struct sock *sk, struct bbr *bbr,
			       const struct rate_sample *rs)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t now = sk->st->now;
	bool expired = now > bbr->min_rtt_stamp + bbr_min_rtt_win_us;

	if (rs->rtt_us >= 0 &&
	    (rs->rtt_us <= bbr->min_rtt_us || (expired && !rs->is_ack_delayed))) {
		bbr->min_rtt_us = (uint32_t)rs->rtt_us;
		bbr->min_rtt_stamp = now;
	}
	if (bbr_probe_rtt_mode_us > 0 && expired && !bbr->idle_restart &&
	    bbr->mode != BBR_PROBE_RTT) {
		bbr->mode = BBR_PROBE_RTT;
		bbr_save_cwnd(sk, bbr);
		bbr->probe_rtt_done_stamp = 0;
	}
	if (bbr->mode == BBR_PROBE_RTT) {
		uint32_t flight = tcp_packets_in_flight(tp);

		if (tp->rate)   /* (Linux's tp->app_limited) */
			tp->rate->app_limited = tp->delivered + flight ?
						tp->delivered + flight : 1;
		if (!bbr->probe_rtt_done_stamp &&
		    flight <= bbr_cwnd_min_target) {
			bbr->probe_rtt_done_stamp = now + bbr_probe_rtt_mode_us;
			bbr->probe_rtt_round_done = false;
			bbr->next_rtt_delivered = tp->delivered;
		} else if (bbr->probe_rtt_done_stamp) {
			if (bbr->round_start)
				bbr->probe_rtt_round_done = true;
			if (bbr->probe_rtt_round_done)
				bbr_check_probe_rtt_done(sk, bbr);
		}
	}
	/* Sending after idle ends with the first ACK of new data. */
	if (rs->delivered > 0)
		bbr->idle_restart = false;
}

static void bbr_update_gains(struct bbr *bbr)
{
	switch (bbr->mode) {
	case BBR_STARTUP:
		bbr->pacing_gain = (uint16_t)bbr_high_gain;
		bbr->cwnd_gain = (uint16_t)bbr_high_gain;
		break;
	case BBR_DRAIN:
		bbr->pacing_gain = (uint16_t)bbr_drain_gain;
		bbr->cwnd_gain = (uint16_t)bbr_high_gain;   /* keep cwnd */
		break;
	case BBR_PROBE_BW:
		bbr->pacing_gain = (uint16_t)(bbr->lt_use_bw ? BBR_UNIT :
					bbr_pacing_gain[bbr->cycle_idx]);
		bbr->cwnd_gain = (uint16_t)bbr_cwnd_gain;
		break;
	default:   /* BBR_PROBE_RTT */
		bbr->pacing_gain = (uint16_t)BBR_UNIT;
		bbr->cwnd_gain = (uint16_t)BBR_UNIT;
		break;
	}
}

/* ---- the ops ---------------------------------------------------------------- */

/* Every ACK that finds data in flight (Linux's tcp_cong_control). */
static void bbr_main(struct sock *sk, const struct rate_sample *rs)
{
	struct bbr *bbr = bbr_of(sk);
	uint32_t bw;

	if (!bbr)
		return;
	bbr_update_bw(sk, bbr, rs);
	bbr_update_ack_aggregation(sk, bbr, rs);
	bbr_update_cycle_phase(sk, bbr, rs);
	bbr_check_full_bw_reached(bbr, rs);
	bbr_check_drain(sk, bbr);
	bbr_update_min_rtt(sk, bbr, rs);
	bbr_update_gains(bbr);
	bw = bbr_bw(bbr);
	bbr_set_pacing_rate(sk, bbr, bw, bbr->pacing_gain);
	bbr_set_cwnd(sk, bbr, rs, rs->acked_sacked, bw, bbr->cwnd_gain);
}

/*
 * The transfer starts (Linux's tcp_init_transfer -> bbr_init), or BBR is
 * chosen on a connection under way: a fresh model, ssthresh infinite,
 * min_rtt what the connection has seen (the handshake's), the first
 * pacing rate from the initial window and SRTT; the socket is paced from
 * now on (Linux's SK_PACING_NEEDED without an fq qdisc). The gains stay
 * 0 until the first ACK sets them, as Linux's do.
 */
static void bbr_init(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct bbr *bbr = bbr_of(sk);

	if (!bbr) {
		bbr = calloc(1, sizeof(*bbr));
		if (!bbr)
			return;   /* (Reno's growth then: tcp_ca_controls) */
		bbr_set_of(sk, bbr);
	} else {
		memset(bbr, 0, sizeof(*bbr));
	}
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	bbr->prev_ca_state = TCP_CA_Open;
	bbr->min_rtt_us = tp->min_rtt_us;
	bbr->min_rtt_stamp = sk->st->now;
	bbr_minmax_reset(&bbr->bw, 0, 0);
	bbr_init_pacing_rate_from_rtt(sk, bbr);
	bbr_reset_lt_bw_sampling(sk, bbr);
	bbr->mode = BBR_STARTUP;
	bbr->ack_epoch_mstamp = sk->st->now;
	/* Paced by TCP itself: its send times live in the socket's rarer
	 * state (without memory for it, unpaced). */
	if (sock_ext(sk, true))
		sk->pacing = true;
}

static void bbr_release(struct sock *sk)
{
	struct bbr *bbr = bbr_of(sk);

	free(bbr);
	bbr_set_of(sk, NULL);
}

/* Before init, or without memory: Reno's growth (tcp_reno.c). */
static void bbr_fallback_cong_avoid(struct sock *sk, uint32_t acked,
				    us_time_t now)
{
	tcp_reno.cong_avoid(sk, acked, now);
}

/* A loss: the window is remembered for when the recovery ends;
 * ssthresh does not move (Linux's bbr_ssthresh). */
static uint32_t bbr_ssthresh(struct sock *sk)
{
	struct bbr *bbr = bbr_of(sk);

	if (!bbr)
		return tcp_reno.ssthresh(sk);
	bbr_save_cwnd(sk, bbr);
	return tcp_sk(sk)->snd_ssthresh;
}

/* The reduction was spurious: the window stays (it comes back when the
 * state opens, bbr_set_cwnd_to_recover_or_restore); the pipe may not be
 * full after all, and the policer estimate starts over. */
static uint32_t bbr_undo_cwnd(struct sock *sk)
{
	struct bbr *bbr = bbr_of(sk);
	struct tcp_sock *tp = tcp_sk(sk);

	if (!bbr)
		return tp->snd_cwnd > tp->prior_cwnd ? tp->snd_cwnd
						     : tp->prior_cwnd;
	bbr->full_bw = 0;
	bbr->full_bw_cnt = 0;
	bbr_reset_lt_bw_sampling(sk, bbr);
	return tp->snd_cwnd;
}

/* A timeout: Linux's bbr_set_state(TCP_CA_Loss). It ends a round, and
 * counts as a loss for the policer estimate. */
static void bbr_on_rto(struct sock *sk)
{
	struct bbr *bbr = bbr_of(sk);
	struct rate_sample rs = { .losses = 1, .delivered = -1,
				  .interval_us = -1, .rtt_us = -1 };

	if (!bbr)
		return;
	bbr->prev_ca_state = TCP_CA_Loss;
	bbr->full_bw = 0;
	bbr->round_start = true;
	bbr_lt_bw_sampling(sk, bbr, &rs);
}

/*
 * Data goes with nothing in flight (Linux's CA_EVENT_TX_START). After an
 * application-limited idle time: a restart from idle (PROBE_RTT is not
 * entered for it, the queue drained meanwhile), a new aggregation epoch,
 * and in PROBE_BW pacing at bw, no faster (nothing says more is needed).
 */
static void bbr_tx_start(struct sock *sk, us_time_t idle, us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct bbr *bbr = bbr_of(sk);

	(void)idle;
	if (!bbr || !tp->rate || !tp->rate->app_limited)
		return;
	bbr->idle_restart = true;
	bbr->ack_epoch_mstamp = now;
	bbr->ack_epoch_acked = 0;
	if (bbr->mode == BBR_PROBE_BW)
		bbr_set_pacing_rate(sk, bbr, bbr_bw(bbr), BBR_UNIT);
	else if (bbr->mode == BBR_PROBE_RTT)
		bbr_check_probe_rtt_done(sk, bbr);
}

/* The pacing rate, or 0 when BBR has none (tcp_pacing.c's own then);
 * at most SO_MAX_PACING_RATE's, set since the last ACK or not. */
static uint64_t bbr_pacing_rate(struct sock *sk)
{
	const struct bbr *bbr = bbr_of(sk);
	uint64_t max;

	if (!bbr)
		return 0;
	max = sk_max_pacing_rate(sk);
	return bbr->pacing_rate < max ? bbr->pacing_rate : max;
}

/* TCP_CC_INFO: Linux's struct tcp_bbr_info (INET_DIAG_BBRINFO), bw in
 * bytes per second; all zero before the model exists (a listener, a
 * socket not yet connected), as Linux's state is then. */
static size_t bbr_get_info(struct sock *sk, void *buf, size_t len)
{
	const struct bbr *bbr = bbr_of(sk);
	struct us_tcp_bbr_info info = { 0 };

	if (bbr) {
		uint64_t bw = (uint64_t)bbr_bw(bbr) * tcp_sk(sk)->mss_cache *
			      USEC_PER_SEC >> BW_SCALE;

		info.bbr_bw_lo = (uint32_t)bw;
		info.bbr_bw_hi = (uint32_t)(bw >> 32);
		info.bbr_min_rtt = bbr->min_rtt_us;
		info.bbr_pacing_gain = bbr->pacing_gain;
		info.bbr_cwnd_gain = bbr->cwnd_gain;
	}
	if (len > sizeof(info))
		len = sizeof(info);
	memcpy(buf, &info, len);
	return sizeof(info);
}

/* Three windows of send buffer: BBR may slow-start in a recovery. */
static uint32_t bbr_sndbuf_expand(struct sock *sk)
{
	(void)sk;
	return 3;
}

const struct tcp_congestion_ops tcp_bbr = {
	.name = "bbr",
	.init_at_transfer = true,
	.init = bbr_init,
	.release = bbr_release,
	.cong_control = bbr_main,
	.ssthresh = bbr_ssthresh,
	.cong_avoid = bbr_fallback_cong_avoid,
	.undo_cwnd = bbr_undo_cwnd,
	.on_rto = bbr_on_rto,
	.tx_start = bbr_tx_start,
	.pacing_rate = bbr_pacing_rate,
	.min_tso_segs = bbr_min_tso_segs,
	.get_info = bbr_get_info,
	.sndbuf_expand = bbr_sndbuf_expand,
};

/* ---- for the unit tests ------------------------------------------------------ */

void bbr_peek(const struct sock *sk, struct bbr_peek *p)
{
	const struct bbr *bbr = bbr_of(sk);

	memset(p, 0, sizeof(*p));
	if (!bbr)
		return;
	p->present = true;
	p->mode = bbr->mode;
	p->bw = bbr_bw(bbr);
	p->max_bw = bbr_max_bw(bbr);
	p->min_rtt_us = bbr->min_rtt_us;
	p->rtt_cnt = bbr->rtt_cnt;
	p->pacing_gain = bbr->pacing_gain;
	p->cwnd_gain = bbr->cwnd_gain;
	p->full_bw_reached = bbr->full_bw_reached;
	p->full_bw_cnt = bbr->full_bw_cnt;
	p->cycle_idx = bbr->cycle_idx;
	p->prior_cwnd = bbr->prior_cwnd;
	p->packet_conservation = bbr->packet_conservation;
	p->lt_use_bw = bbr->lt_use_bw;
	p->lt_is_sampling = bbr->lt_is_sampling;
	p->lt_bw = bbr->lt_bw;
	p->extra_acked = bbr_extra_acked(bbr);
	p->idle_restart = bbr->idle_restart;
	p->pacing_rate = bbr->pacing_rate;
}

uint32_t bbr_minmax_test(const uint32_t *t, const uint32_t *v, size_t n,
			 uint32_t win)
{
	struct bbr_minmax m;

	bbr_minmax_reset(&m, 0, 0);
	for (size_t i = 0; i < n; i++)
		bbr_minmax_running_max(&m, win, t[i], v[i]);
	return bbr_minmax_get(&m);
}
