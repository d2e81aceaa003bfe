/*
 * test_tcp_bbr.c - BBR (tcp_bbr.c, Linux 6.18's tcp_bbr.c) where
 * packetdrill's real clock cannot take it: the model fed rate samples
 * made by hand at chosen points of virtual time, on a real established
 * connection (its flight set by hand), through the algorithm's
 * cong_control hook as tcp_ack calls it. Covered here: the windowed max
 * filter, the rate arithmetic against figures Linux gave, the state
 * bbr_init leaves and TCP_CC_INFO, STARTUP's end (and a round with 25%
 * growth that restarts the count), DRAIN to PROBE_BW and the gain cycle,
 * PROBE_RTT after 10 s and its end, the policer estimate and its end
 * after 48 rounds, ACK aggregation, the restart from idle, undo, and the
 * connection without BBR state (Reno's path). The wire behaviour
 * (STARTUP, DRAIN, recovery, timeouts) is tests/packetdrill/bbr/, on
 * both stacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/tcptest.h"
#include "net/tcp/tcp_bbr.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#ifndef TCP_CC_INFO
#define TCP_CC_INFO 26
#endif

#define MSS 1460
#define MS 1000ULL
#define BW_UNIT (1ULL << 24)
#define STARTUP 0
#define DRAIN 1
#define PROBE_BW 2
#define PROBE_RTT 3

static struct test_stack T;
static struct tt_conn C;
static struct sock *SK;
static struct tcp_sock *TP;
static us_time_t T0;            /* when BBR started: the handshake's end */

/* A listener's child with BBR, its handshake 100 ms long. */
static int setup(void **state)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	*state = &T;
	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "bbr"), 0);
	tt_conn_init(&C, &T, false);
	C.mss = MSS;
	tt_open_synrecv(&C);
	ts_advance(&T, 100 * MS);
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	C.fd = us_accept4(C.lfd, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK);
	assert_true(C.fd >= 0);
	SK = tt_sk(C.fd);
	TP = tcp_sk(SK);
	assert_ptr_equal(TP->ca_ops, &tcp_bbr);
	assert_non_null(tcp_rate_get(TP));
	T0 = T.st->now;
	/* (Counts well above a round's flight: the model's samples go back
	 * one flight from here.) */
	TP->delivered = 1000;
	return 0;
}

/* The hand-made flight goes before the connection closes. */
static int teardown(void **state)
{
	TP->packets_out = 0;
	return ts_teardown(state);
}

static struct bbr_peek peek(void)
{
	struct bbr_peek p;

	bbr_peek(SK, &p);
	assert_true(p.present);
	return p;
}

/*
 * One ACK, now: `acked` segments newly delivered; the sample covers what
 * was delivered since the newest of them was sent, `interval` us ago,
 * when the connection had delivered `prior`.
 */
static void ack_sample(uint32_t acked, uint32_t prior, int64_t interval,
		       int64_t rtt, bool app_limited, uint32_t losses)
{
	struct rate_sample rs = { 0 };

	TP->delivered += acked;
	TP->rate->delivered_at = T.st->now;
	rs.prior_delivered = prior;
	rs.prior_mstamp = interval < 0 ? 0 : T.st->now - (us_time_t)interval;
	rs.delivered = interval < 0 ? -1 : (int32_t)(TP->delivered - prior);
	rs.interval_us = interval;
	rs.rtt_us = rtt;
	rs.acked_sacked = acked;
	rs.losses = losses;
	rs.is_app_limited = app_limited;
	rs.prior_in_flight = TP->packets_out + acked;
	tcp_bbr.cong_control(SK, &rs);
}

/*
 * A path of `pps` segments per second with `flight` segments out: every
 * 1/pps s one segment is ACKed, sent one flight earlier (so a round is
 * `flight` ACKs, and every sample reads pps). RTT samples of `rtt` us.
 */
static void path(int acks, uint32_t pps, uint32_t flight, int64_t rtt)
{
	for (int i = 0; i < acks; i++) {
		ts_advance(&T, 1000000 / pps);
		TP->packets_out = flight;
		ack_sample(1, TP->delivered + 1 - flight,
			   (int64_t)flight * 1000000 / pps, rtt, false, 0);
	}
}

/* STARTUP filled at 20 segments per second, DRAIN done: PROBE_BW, with
 * a flight of 4 from here on. */
static void to_probe_bw(void)
{
	path(40, 20, 10, 500 * MS);
	path(1, 20, 4, 200 * MS);
	assert_int_equal(peek().mode, PROBE_BW);
}

/* ---- the windowed max filter ------------------------------------------ */

/*
 * The best sample holds for the window (10 rounds), then the best of
 * the later quarters takes over: after 100 at round 0 and 60 at round 3,
 * round 11 gives 60, not the newest 30. A sample above the best, or all
 * three choices out of the window, starts over.
 */
static void test_minmax_window(void **state)
{
	static const uint32_t t1[] = { 0, 1, 3, 6, 10 }, v1[] = { 100, 50, 60, 40, 30 };
	static const uint32_t t2[] = { 0, 1, 3, 6, 11 }, v2[] = { 100, 50, 60, 40, 30 };
	static const uint32_t t3[] = { 0, 5, 6 }, v3[] = { 100, 50, 200 };
	static const uint32_t t4[] = { 0, 30 }, v4[] = { 100, 10 };
	static const uint32_t t5[] = { 0, 11, 12, 13 }, v5[] = { 100, 20, 10, 5 };

	(void)state;
	assert_int_equal(bbr_minmax_test(t1, v1, 5, 10), 100);  /* in window */
	assert_int_equal(bbr_minmax_test(t2, v2, 5, 10), 60);   /* aged out */
	assert_int_equal(bbr_minmax_test(t3, v3, 3, 10), 200);  /* new best */
	assert_int_equal(bbr_minmax_test(t4, v4, 2, 10), 10);   /* all old */
	/* No later choice than the best: the newest stands in. */
	assert_int_equal(bbr_minmax_test(t5, v5, 4, 10), 20);
}

/* ---- the arithmetic, against Linux's figures --------------------------- */

/*
 * bbr_rate_bytes_per_sec as Linux 6.18 reported it through TCP_INFO on
 * this host (tests/packetdrill/bbr/): the initial rate at SRTT 100 ms
 * (bw 10 x 2^24 / 100000 = 1677), at 1 ms (no RTT: 167772), STARTUP at
 * bw 1674 and 1676, DRAIN (88), PROBE_BW's 5/4 and 1 at 20 segments/s
 * (bw 335); and TCP_CC_INFO's bytes/s for bw 335 and 334.
 */
static void test_rate_arithmetic(void **state)
{
	(void)state;
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 1677, 739), 417066);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 167772, 739), 41724593);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 1674, 739), 416320);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 1676, 739), 416818);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 335, 88), 9920);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 335, 320), 36076);
	assert_int_equal(bbr_rate_bytes_per_sec(MSS, 335, 256), 28861);
	assert_int_equal(335ULL * MSS * 1000000 >> 24, 29152);
	assert_int_equal(334ULL * MSS * 1000000 >> 24, 29065);
	/* No overflow at 2.9 Tbit/s and the high gain: 2^32 - 1 segments per
	 * us << 24 is ~256 M segments/s. */
	assert_true(bbr_rate_bytes_per_sec(MSS, UINT32_MAX, 739) >
		    bbr_rate_bytes_per_sec(MSS, UINT32_MAX / 2, 739));
}

/* ---- init and TCP_CC_INFO ----------------------------------------------- */

static void cc_info(struct us_tcp_bbr_info *bi, socklen_t want)
{
	socklen_t len = sizeof(*bi);

	memset(bi, 0xa5, sizeof(*bi));
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_CC_INFO, bi,
				       &len), 0);
	assert_int_equal(len, want);
}

/*
 * bbr_init at the end of the handshake: STARTUP, ssthresh infinite, the
 * handshake's RTT as min_rtt, gains 0 until the first ACK, the pacing
 * rate 2.89 x 10 segments per 100 ms, pacing on. TCP_CC_INFO gives 20
 * bytes, fewer when asked for fewer, none for Reno; a null buffer with a
 * length is EFAULT.
 */
static void test_init_and_cc_info(void **state)
{
	struct us_tcp_bbr_info bi;
	struct bbr_peek p = peek();
	uint8_t small[8];
	socklen_t len = sizeof(small);
	uint8_t raw[232];
	uint64_t rate;

	(void)state;
	assert_int_equal(p.mode, STARTUP);
	assert_int_equal(p.min_rtt_us, 100 * MS);
	assert_int_equal(p.pacing_gain, 0);
	assert_int_equal(p.cwnd_gain, 0);
	assert_int_equal(p.bw, 0);
	assert_int_equal(p.pacing_rate, 417066);
	assert_true(SK->pacing);
	assert_int_equal(TP->snd_cwnd, 10);
	assert_int_equal(TP->snd_ssthresh, TCP_INFINITE_SSTHRESH);
	len = sizeof(raw);   /* TCP_INFO's tcpi_pacing_rate, at 104 */
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_INFO, raw, &len),
			 0);
	memcpy(&rate, raw + 104, 8);
	assert_int_equal(rate, 417066);
	len = sizeof(small);
	cc_info(&bi, 20);
	assert_int_equal(bi.bbr_bw_lo, 0);
	assert_int_equal(bi.bbr_bw_hi, 0);
	assert_int_equal(bi.bbr_min_rtt, 100 * MS);
	assert_int_equal(bi.bbr_pacing_gain, 0);
	assert_int_equal(bi.bbr_cwnd_gain, 0);
	/* The first ACK: 10 segments over 100 ms */
	TP->packets_out = 10;
	ts_advance(&T, 100 * MS);
	TP->packets_out = 0;
	ack_sample(10, TP->delivered, 100 * MS, 100 * MS, true, 0);
	cc_info(&bi, 20);
	assert_int_equal(bi.bbr_bw_lo, 1677ULL * MSS * 1000000 >> 24);
	assert_int_equal(bi.bbr_pacing_gain, 739);
	assert_int_equal(bi.bbr_cwnd_gain, 739);
	assert_int_equal(TP->snd_cwnd, 20);
	/* Fewer bytes asked: that many */
	memset(small, 0, sizeof(small));
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_CC_INFO, small,
				       &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(small, &bi, 8);
	len = 20;
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_CC_INFO, NULL,
				       &len), -1);
	assert_int_equal(errno, EFAULT);
	/* Reno: no report */
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CONGESTION,
				       "reno", 4), 0);
	len = 20;
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_CC_INFO, &bi,
				       &len), 0);
	assert_int_equal(len, 0);
	/* Back to BBR on the connection: it starts at once, afresh. */
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CONGESTION,
				       "bbr", 3), 0);
	p = peek();
	assert_int_equal(p.mode, STARTUP);
	assert_int_equal(p.bw, 0);
}

/* ---- STARTUP, DRAIN, PROBE_BW ------------------------------------------- */

/*
 * A path of 20 segments/s, 10 in flight: a round every 10 ACKs. The
 * first round start sets full_bw; three more without 25% growth fill
 * the pipe; a round with 25% more in between starts the count over.
 * Application-limited rounds do not count.
 */
static void test_full_bw_reached(void **state)
{
	struct bbr_peek p;

	(void)state;
	path(1, 20, 10, 500 * MS);          /* round 1: full_bw set */
	p = peek();
	assert_int_equal(p.rtt_cnt, 1);
	assert_int_equal(p.full_bw_cnt, 0);
	path(20, 20, 10, 500 * MS);         /* rounds 2, 3: no growth */
	p = peek();
	assert_int_equal(p.rtt_cnt, 3);
	assert_int_equal(p.full_bw_cnt, 2);
	assert_false(p.full_bw_reached);
	path(10, 25, 10, 400 * MS);         /* 25% more: count over */
	p = peek();
	assert_int_equal(p.full_bw_cnt, 0);
	assert_int_equal(p.mode, STARTUP);
	/* An application-limited round: the filter keeps it (no lower) but
	 * the count does not move. */
	for (int i = 0; i < 10; i++) {
		ts_advance(&T, 40 * MS);
		TP->packets_out = 10;
		ack_sample(1, TP->delivered + 1 - 10, 400 * MS, 400 * MS,
			   true, 0);
	}
	assert_int_equal(peek().full_bw_cnt, 0);
	path(30, 25, 10, 400 * MS);         /* three rounds: full */
	p = peek();
	assert_true(p.full_bw_reached);
	assert_int_equal(p.mode, DRAIN);
	assert_int_equal(p.pacing_gain, 88);
	assert_int_equal(p.cwnd_gain, 739);
	/* ssthresh: the inflight estimate at bw 25/s (419), min_rtt 100 ms:
	 * BDP 2.5 -> 3, + 3 TSO bursts of 2 (STARTUP's pacing rate, never
	 * below the initial 417 kB/s, is above 150 kB/s), rounded to even. */
	assert_int_equal(TP->snd_ssthresh, 10);
}

/* From DRAIN the flight at the next departure down to the inflight
 * estimate: PROBE_BW, at a phase other than the draining one; then a
 * phase ends after min_rtt at gain 1. */
static void test_drain_then_gain_cycle(void **state)
{
	struct bbr_peek p;
	uint32_t idx;

	(void)state;
	path(40, 20, 10, 500 * MS);
	p = peek();
	assert_int_equal(p.mode, DRAIN);
	/* The flight falls to 4 (the queue drained): PROBE_BW */
	path(1, 20, 4, 200 * MS);
	p = peek();
	assert_int_equal(p.mode, PROBE_BW);
	assert_int_not_equal(p.cycle_idx, 1);       /* never 3/4 first */
	assert_int_equal(p.cwnd_gain, 512);
	assert_int_equal(p.pacing_gain, p.cycle_idx == 0 ? 320 : 256);
	/* At gain 1 the phase lasts min_rtt (100 ms) of delivery time. */
	if (p.cycle_idx != 0) {
		idx = p.cycle_idx;
		path(2, 20, 4, 200 * MS);               /* 100 ms: not more */
		assert_int_equal(peek().cycle_idx, idx);
		path(1, 20, 4, 200 * MS);               /* 150 ms */
		assert_int_equal(peek().cycle_idx, (idx + 1) & 7);
	}
	/* Round the cycle to phase 0 (5/4): it ends only after min_rtt AND
	 * with the flight at 5/4 BDP + budget, or a loss. */
	while (peek().cycle_idx != 0)
		path(1, 20, 4, 200 * MS);
	assert_int_equal(peek().pacing_gain, 320);
	path(10, 20, 4, 200 * MS);                  /* 500 ms, flight 4 */
	assert_int_equal(peek().cycle_idx, 0);
	ts_advance(&T, 50 * MS);
	TP->packets_out = 4;
	ack_sample(1, TP->delivered + 1 - 4, 200 * MS, 200 * MS, false, 1);
	p = peek();
	assert_int_equal(p.cycle_idx, 1);           /* the loss ended it */
	assert_int_equal(p.pacing_gain, 192);
	/* 3/4 ends as soon as the flight is down to the BDP estimate. */
	path(1, 20, 4, 200 * MS);
	assert_int_equal(peek().cycle_idx, 2);
}

/* ---- PROBE_RTT ------------------------------------------------------------ */

/*
 * In PROBE_BW, RTT samples above min_rtt for 10 s: PROBE_RTT, the window
 * held at 4 and the samples application-limited. Once the flight is at
 * most 4, 200 ms and a round later the window before comes back and
 * PROBE_BW goes on; min_rtt is taken anew, and its clock restarts.
 */
static void test_probe_rtt(void **state)
{
	struct bbr_peek p;
	uint32_t cwnd;

	(void)state;
	to_probe_bw();
	/* 10 s after min_rtt's sample (the handshake's, at T0) */
	while (T.st->now + 50 * MS <= T0 + 10000 * MS) {
		path(1, 20, 8, 400 * MS);
		assert_int_not_equal(peek().mode, PROBE_RTT);
	}
	cwnd = TP->snd_cwnd;
	assert_true(cwnd > 4);
	path(1, 20, 8, 400 * MS);
	p = peek();
	assert_int_equal(p.mode, PROBE_RTT);
	assert_int_equal(p.pacing_gain, 256);
	assert_int_equal(p.cwnd_gain, 256);
	assert_int_equal(p.prior_cwnd, cwnd);
	assert_int_equal(TP->snd_cwnd, 4);
	assert_int_not_equal(TP->rate->app_limited, 0);
	assert_int_equal(p.min_rtt_us, 400 * MS);   /* expired: taken anew */
	/* The flight falls to 4: 200 ms and a round (4 ACKs) to go */
	path(1, 20, 4, 150 * MS);
	path(3, 20, 4, 150 * MS);                   /* 150 ms, the round */
	assert_int_equal(peek().mode, PROBE_RTT);
	path(1, 20, 4, 150 * MS);                   /* 200 ms: not after */
	assert_int_equal(peek().mode, PROBE_RTT);
	path(1, 20, 4, 150 * MS);
	p = peek();
	assert_int_equal(p.mode, PROBE_BW);
	assert_true(TP->snd_cwnd >= cwnd);
	assert_int_equal(p.min_rtt_us, 150 * MS);
	/* Not again for 10 s */
	path(100, 20, 8, 400 * MS);
	assert_int_equal(peek().mode, PROBE_BW);
}

/* Sending again after an application-limited idle time: in PROBE_BW at
 * bw x 1; PROBE_RTT is not entered while restarting, even with min_rtt
 * expired; the first ACK of new data ends the restart. */
static void test_idle_restart(void **state)
{
	struct bbr_peek p;

	(void)state;
	to_probe_bw();
	/* Not application-limited: nothing happens */
	TP->rate->app_limited = 0;
	tcp_bbr.tx_start(SK, 1000 * MS, T.st->now);
	assert_false(peek().idle_restart);
	TP->rate->app_limited = TP->delivered;
	ts_advance(&T, 11000 * MS);
	tcp_bbr.tx_start(SK, 11000 * MS, T.st->now);
	p = peek();
	assert_true(p.idle_restart);
	assert_int_equal(p.pacing_rate,
			 bbr_rate_bytes_per_sec(MSS, p.bw, 256));
	/* An ACK with nothing delivered: no PROBE_RTT while restarting */
	TP->packets_out = 2;
	ack_sample(0, 0, -1, -1, false, 0);
	assert_int_equal(peek().mode, PROBE_BW);
	assert_true(peek().idle_restart);
	/* Data delivered: the restart is over (min_rtt taken anew: the
	 * filter had expired) */
	ts_advance(&T, 100 * MS);
	ack_sample(1, TP->delivered - 1, 100 * MS, 100 * MS, true, 0);
	assert_false(peek().idle_restart);
	assert_int_equal(peek().mode, PROBE_BW);
}

/* ---- the policer estimate --------------------------------------------------- */

/*
 * After a loss, intervals of at least 4 rounds ending at a loss with
 * 25% lost: two of them at the same delivery rate make the policer's
 * rate the bw (pacing gain 1); after 48 rounds of PROBE_BW it is dropped.
 */
static void test_lt_policer(void **state)
{
	struct bbr_peek p;
	int i;

	(void)state;
	to_probe_bw();
	/* A round every 4 ACKs (flight 4); every 4th segment lost */
	for (i = 0; i < 48 && !peek().lt_use_bw; i++) {
		bool loss = i % 4 == 3;

		ts_advance(&T, 50 * MS);
		TP->packets_out = 4;
		if (loss)
			TP->rate->lost++;
		ack_sample(1, TP->delivered + 1 - 4, 200 * MS, 100 * MS,
			   false, loss);
		if (i == 3)
			assert_true(peek().lt_is_sampling);
	}
	p = peek();
	assert_true(p.lt_use_bw);
	assert_int_equal(p.pacing_gain, 256);
	/* 4 delivered per 200 ms: 20/s, in BW units per us */
	assert_true(p.lt_bw >= 20 * BW_UNIT / 1000000 - 1 &&
		    p.lt_bw <= 20 * BW_UNIT / 1000000 + 1);
	assert_int_equal(p.bw, p.lt_bw);
	/* 48 rounds later: probing again (RTT samples at min_rtt keep
	 * PROBE_RTT away) */
	for (i = 0; i < 47; i++) {
		path(4, 20, 4, 100 * MS);
	}
	assert_true(peek().lt_use_bw);
	path(4, 20, 4, 100 * MS);
	p = peek();
	assert_false(p.lt_use_bw);
	assert_int_equal(p.mode, PROBE_BW);
	assert_int_equal(p.lt_bw, 0);
}

/* ---- ACK aggregation -------------------------------------------------------- */

/*
 * ACKs that come in bursts beyond bw's pace: the excess over what bw
 * explains since the epoch began, at most cwnd, is remembered
 * (extra_acked) and, once STARTUP is over, added to the window's target,
 * at most 100 ms of bw. At 200 segments/s (bw 3355), 40 in flight: 12
 * segments in one ACK after 100 ms of quiet are all excess; the target
 * takes 12 more (the cap is 20): BDP 40 at gain 2 + 12 + 3 TSO bursts of
 * 2, and 2 more in the probing phase.
 */
static void test_ack_aggregation(void **state)
{
	struct bbr_peek p;
	uint32_t before, target;

	(void)state;
	path(160, 200, 40, 200 * MS);
	assert_int_equal(peek().mode, DRAIN);
	path(1, 200, 20, 100 * MS);
	p = peek();
	assert_int_equal(p.mode, PROBE_BW);
	/* (ACKs at bw's pace leave an excess of a segment or two: the
	 * expected count is rounded down) */
	assert_true(p.extra_acked <= 2);
	path(40, 200, 40, 200 * MS);   /* the window settles at its target */
	before = TP->snd_cwnd;
	ts_advance(&T, 100 * MS);
	TP->packets_out = 40;
	ack_sample(12, TP->delivered + 12 - 50, 250 * MS, 200 * MS, false, 0);
	p = peek();
	assert_int_equal(p.extra_acked, 12);
	target = 40 + 12 + 6 + (p.cycle_idx == 0 ? 2 : 0);
	assert_int_equal(TP->snd_cwnd,
			 before + 12 < target ? before + 12 : target);
	assert_true(TP->snd_cwnd > before);
}

/* ---- undo, timeouts, and no state ------------------------------------------- */

/* A spurious loss undone: the window stays (it is restored when the
 * state opens), full-pipe detection and the policer estimate start
 * over. A timeout ends a round. */
static void test_undo_and_rto(void **state)
{
	(void)state;
	path(21, 20, 10, 500 * MS);
	assert_int_equal(peek().full_bw_cnt, 2);
	TP->snd_cwnd = 17;
	assert_int_equal(tcp_bbr.undo_cwnd(SK), 17);
	assert_int_equal(peek().full_bw_cnt, 0);
	assert_int_equal(tcp_bbr.ssthresh(SK), TCP_INFINITE_SSTHRESH);
	assert_int_equal(peek().prior_cwnd, 17);
	tcp_bbr.on_rto(SK);
	assert_true(peek().lt_is_sampling);   /* (a loss for the estimate) */
}

/*
 * Without BBR's state (its memory gone, or not yet made) a connection
 * chosen BBR runs Reno's path: an ACK of one segment out of ten does
 * not grow an unused window (BBR's STARTUP would: 11), no pacing rate
 * of BBR's, TCP_CC_INFO all zero.
 */
static void test_without_state(void **state)
{
	struct us_tcp_bbr_info bi;
	uint8_t data[MSS] = { 0 };

	(void)state;
	TP->delivered = 1;     /* (the SYN-ACK's, as the handshake left it) */
	tcp_bbr.release(SK);
	assert_false(tcp_ca_controls(TP));
	cc_info(&bi, 20);
	assert_int_equal(bi.bbr_min_rtt, 0);
	assert_int_equal(bi.bbr_pacing_gain, 0);
	assert_int_equal(us_send(C.fd, data, MSS, 0), MSS);
	TT_EXPECT_DATA(&C, C.iss + 1, MSS);
	ts_advance(&T, 100 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + MSS, NULL, 0);
	assert_int_equal(TP->snd_cwnd, 10);
	assert_int_equal(tcp_bbr.pacing_rate(SK), 0);
}

/* The same with the state: STARTUP grows the window on that ACK. */
static void test_with_state_grows(void **state)
{
	uint8_t data[MSS] = { 0 };

	(void)state;
	TP->delivered = 1;     /* (the SYN-ACK's, as the handshake left it) */
	assert_true(tcp_ca_controls(TP));
	assert_int_equal(us_send(C.fd, data, MSS, 0), MSS);
	TT_EXPECT_DATA(&C, C.iss + 1, MSS);
	ts_advance(&T, 100 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + MSS, NULL, 0);
	assert_int_equal(TP->snd_cwnd, 11);
	assert_int_equal(peek().pacing_gain, 739);
}

/* ---- the state's life: where it is made and freed ------------------ */

/* A bare stack: the sockets of these tests choose BBR themselves. */
static int setup_bare(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

static void choose(int fd, const char *name)
{
	assert_int_equal(us_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name,
				       (socklen_t)strlen(name)), 0);
}

static bool has_state(int fd)
{
	struct bbr_peek p;

	bbr_peek(tt_sk(fd), &p);
	return p.present;
}

/*
 * Chosen while the SYN is out: Linux's bbr_init runs at the
 * setsockopt and again when the transfer starts (tcp_init_transfer), so
 * the model has the handshake's RTT and MSS: min_rtt the SYN-ACK's, the
 * pacing rate 2.89 x 10 segments of 1460 bytes per 100 ms, 1% below
 * (417066 bytes/s; from the setsockopt's 1 ms and 536 bytes it would be
 * 15.3 MB/s). bbr/sockopt-synsent.pkt on both stacks.
 */
static void test_chosen_in_syn_sent(void **state)
{
	struct bbr_peek p;

	(void)state;
	tt_conn_init(&C, &T, true);
	tt_open_synsent(&C);
	choose(C.fd, "bbr");
	ts_advance(&T, 100 * MS);
	C.snd_nxt = C.irs + 1;
	tt_send_opt(&C, TCPHDR_SYN | TCPHDR_ACK, C.irs, C.rcv_nxt,
		    (const uint8_t[]){ 2, 4, MSS >> 8, MSS & 0xff }, 4, NULL, 0);
	TT_EXPECT_ACK(&C);
	bbr_peek(tt_sk(C.fd), &p);
	assert_true(p.present);
	assert_int_equal(p.min_rtt_us, 100 * MS);
	assert_int_equal(p.min_rtt_us, tcp_sk(tt_sk(C.fd))->min_rtt_us);
	assert_int_equal(p.pacing_rate, 417066);
	assert_int_equal(us_close(C.fd), 0);
	ts_flush_tx(&T);
}

/*
 * connect(AF_UNSPEC) frees the state (Linux's tcp_disconnect releases
 * the algorithm; TCP_CC_INFO reads zero), and the socket may then
 * listen, its queues where the pointer was; BBR chosen again on the
 * listener, and CUBIC, touch neither. ASan watches the frees.
 */
static void test_disconnect_then_listen(void **state)
{
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	struct us_tcp_bbr_info bi;
	socklen_t len = sizeof(bi);

	(void)state;
	tt_conn_init(&C, &T, true);
	C.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	choose(C.fd, "bbr");
	assert_false(has_state(C.fd));   /* (not before the transfer) */
	tt_open(&C);
	assert_true(has_state(C.fd));
	assert_int_equal(us_connect(C.fd, (struct sockaddr *)&un, sizeof(un)),
			 0);
	ts_flush_tx(&T);
	assert_false(has_state(C.fd));
	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_CC_INFO, &bi,
				       &len), 0);
	assert_int_equal(len, 20);
	assert_int_equal(bi.bbr_min_rtt, 0);
	assert_int_equal(us_listen(C.fd, 4), 0);
	choose(C.fd, "cubic");
	choose(C.fd, "bbr");
	assert_int_equal(us_close(C.fd), 0);
	ts_flush_tx(&T);
}

/* A BBR listener's children: one accepted, one left in the queue when
 * the listener closes (reset, freed with its state). */
static void test_listener_children(void **state)
{
	struct tt_conn c2;

	(void)state;
	tt_conn_init(&C, &T, false);
	C.lfd = tt_listen(&T, 8080, 4);
	choose(C.lfd, "bbr");
	tt_open(&C);
	assert_true(has_state(C.fd));
	tt_conn_init(&c2, &T, false);
	c2.lfd = C.lfd;
	c2.peer_port = 40001;
	tt_open_synrecv(&c2);
	tt_peer(&c2, TCPHDR_ACK, NULL, 0);   /* (waits for accept()) */
	choose(C.lfd, "reno");
	choose(C.lfd, "bbr");
	assert_int_equal(us_close(C.lfd), 0);
	ts_flush_tx(&T);
	assert_int_equal(us_close(C.fd), 0);
	ts_flush_tx(&T);
}

/* Chosen and changed on an established connection: made at once, freed
 * when another algorithm takes over, made again. */
static void test_switch_established(void **state)
{
	(void)state;
	tt_conn_init(&C, &T, false);
	tt_open(&C);
	assert_false(has_state(C.fd));
	choose(C.fd, "bbr");
	assert_true(has_state(C.fd));
	assert_ptr_equal(tcp_sk(tt_sk(C.fd))->ca_ops, &tcp_bbr);
	choose(C.fd, "cubic");
	assert_false(tcp_ca_controls(tcp_sk(tt_sk(C.fd))));
	choose(C.fd, "bbr");
	assert_true(has_state(C.fd));
	assert_int_equal(us_close(C.fd), 0);
	ts_flush_tx(&T);
	assert_int_equal(us_close(C.lfd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minmax_window),
		cmocka_unit_test(test_rate_arithmetic),
		cmocka_unit_test_setup_teardown(test_init_and_cc_info, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_bw_reached, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_then_gain_cycle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_rtt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_idle_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lt_policer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_aggregation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_undo_and_rto, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_without_state, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_with_state_grows, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chosen_in_syn_sent,
						setup_bare, ts_teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_then_listen,
						setup_bare, ts_teardown),
		cmocka_unit_test_setup_teardown(test_listener_children,
						setup_bare, ts_teardown),
		cmocka_unit_test_setup_teardown(test_switch_established,
						setup_bare, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
