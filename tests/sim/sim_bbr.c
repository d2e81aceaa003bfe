/*
 * sim_bbr.c - BBR end to end (tcp_bbr.c): two stack instances over the
 * in-memory wire, a bulk transfer through a 10 Mbit/s bottleneck with a
 * 40 ms RTT (a path of 34 segments) and a queue of 100 frames, in virtual
 * time; the sender runs BBR (TCP_CONGESTION), then CUBIC on the same path
 * for comparison.
 *
 * Checked: every byte arrives in order; BBR's model finds the path (its bw
 * within 10% of the bottleneck's 10 Mbit/s, min_rtt the 40 ms of
 * propagation and serialisation), it leaves STARTUP for PROBE_BW (through
 * DRAIN); the transfer's goodput after the first second is at least 90% of
 * the bottleneck's; and BBR keeps the queue short (the smoothed RTT at the
 * end below twice the path's), where CUBIC fills it (its SRTT is printed
 * with the rest). SEED=n sets the wire's seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "dev/wire.h"
#include "lib/sim.h"
#include "lib/tcptest.h"   /* tt_sk */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_bbr.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define XFER (12u << 20)              /* 12 MB: about 10 s at 10 Mbit/s */
#define PORT 5003
#define RATE_BPS 10000000ULL
#define DELAY_US 20000                /* one way */
#define MSS 1448

struct run {
	const char *cc;
	uint64_t seed;
	double secs, goodput_bps;         /* after the first second */
	uint32_t srtt_end_us, min_rtt_us;
	uint64_t bw_bps;                  /* BBR's estimate, bits/s */
	int mode;                         /* BBR's at the end */
	bool left_startup;
	uint64_t lost;                    /* frames the queue dropped */
	bool ok;
};

static struct tcp_info info(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

static void run_one(struct run *r)
{
	struct us_clock clock;
	struct ustack *st[2];
	struct wire_params wp = { .seed = r->seed, .delay_us = DELAY_US,
				  .rate_bps = RATE_BPS, .queue_max = 100 };
	struct sim_tcp_pair p;
	struct sim_bulk bulk = { .total = XFER };
	us_time_t start, mark = 0, deadline;
	size_t rcvd_mark = 0;
	struct bbr_peek bp;

	us_clock_init_virtual(&clock, 0);
	st[0] = sim_stack(&clock, r->seed * 2 + 1);
	st[1] = sim_stack(&clock, r->seed * 2 + 2);
	assert_non_null(st[0]);
	assert_non_null(st[1]);
	/* A receive buffer that holds three paths' worth: the window is not
	 * what limits the sender. */
	assert_int_equal(sim_tcp_pair(&clock, st, &wp, inet_addr("10.9.5.1"),
				      inet_addr("10.9.5.2"), PORT, 1 << 20,
				      r->cc, &p), 0);
	start = clock.virt;
	deadline = start + 120 * US_USEC_PER_SEC;
	while (bulk.rcvd < XFER && !bulk.bad) {
		bool did = sim_bulk_pump(p.cfd, p.sfd, &bulk);

		if (!mark && clock.virt - start >= US_USEC_PER_SEC) {
			mark = clock.virt;
			rcvd_mark = bulk.rcvd;
		}
		bbr_peek(tt_sk(p.cfd), &bp);
		if (bp.present && bp.mode != 0)
			r->left_startup = true;
		if (!did && !sim_advance(&clock, st, 2, deadline))
			break;
	}
	r->secs = (double)(clock.virt - start) / 1e6;
	r->ok = !bulk.bad && bulk.rcvd == XFER;
	if (mark && clock.virt > mark)
		r->goodput_bps = (double)(bulk.rcvd - rcvd_mark) * 8 * 1e6 /
				 (double)(clock.virt - mark);
	r->srtt_end_us = info(p.cfd).tcpi_rtt;
	bbr_peek(tt_sk(p.cfd), &bp);
	if (bp.present) {
		r->mode = bp.mode;
		r->min_rtt_us = bp.min_rtt_us;
		r->bw_bps = (uint64_t)bp.max_bw * MSS * 1000000 * 8 >> 24;
	}
	r->lost = wire_tx_stats(p.da)->overflow;
	if (!r->ok)
		printf("  %s seed %" PRIu64 ": FAILED, rcvd %zu bad %d "
		       "(replay: SEED=%" PRIu64 ")\n", r->cc, r->seed,
		       bulk.rcvd, bulk.bad, r->seed);
	us_close(p.cfd);
	us_close(p.sfd);
	us_close(p.lfd);
	sim_run_until(&clock, st, 2, clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
}

static void test_bbr_bottleneck(void **state)
{
	uint64_t seed = sim_seed("sim_bbr", 1);
	struct run bbr = { .cc = "bbr", .seed = seed };
	struct run cubic = { .cc = "cubic", .seed = seed };

	(void)state;
	run_one(&bbr);
	run_one(&cubic);
	printf("sim_bbr: bbr: %.2f s, goodput %.2f Mbit/s, bw %.2f Mbit/s, "
	       "min_rtt %u us, SRTT at the end %u us, mode %d, %" PRIu64
	       " frames dropped at the queue\n", bbr.secs,
	       bbr.goodput_bps / 1e6, (double)bbr.bw_bps / 1e6, bbr.min_rtt_us,
	       bbr.srtt_end_us, bbr.mode, bbr.lost);
	printf("sim_bbr: cubic: %.2f s, goodput %.2f Mbit/s, SRTT at the end "
	       "%u us, %" PRIu64 " frames dropped at the queue\n", cubic.secs,
	       cubic.goodput_bps / 1e6, cubic.srtt_end_us, cubic.lost);
	assert_true(bbr.ok);
	assert_true(cubic.ok);
	assert_true(bbr.left_startup);
	assert_true(bbr.mode == 2 || bbr.mode == 3);   /* PROBE_BW (or RTT) */
	/* The model: bw within 10% of the link's (the wire's rate counts
	 * the IP and TCP headers too: payload at most 1448/1500 of it) */
	assert_true(bbr.bw_bps >= RATE_BPS * 1448 / 1500 * 9 / 10 &&
		    bbr.bw_bps <= RATE_BPS * 11 / 10);
	assert_true(bbr.min_rtt_us >= 2 * DELAY_US &&
		    bbr.min_rtt_us <= 2 * DELAY_US + 5000);
	/* Near the bottleneck's rate */
	assert_true(bbr.goodput_bps >= 0.9 * RATE_BPS * 1448 / 1500);
	/* A short queue */
	assert_true(bbr.srtt_end_us < 4 * DELAY_US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bbr_bottleneck),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
