/*
 * sim_slow_start.c - slow start against a receiver that sends stretch
 * ACKs, in virtual time: two instances over the in-memory wire with its
 * offloads on (a TCP packet of up to 64 KB crosses as one frame, as it
 * does through a TAP to the kernel, and as GRO merges the frames of one
 * NAPI poll at a Linux receiver), 40 ms RTT, no rate limit, the
 * receiver's buffer large enough not to matter.
 *
 * The receiver acknowledges each such packet once: one ACK for up to 44
 * segments. Slow start (RFC 5681 §3.1) is to double the window each
 * round trip; an increase limited per ACK (RFC 3465's L = 2 segments)
 * would grow it by two segments per packet instead, so that the window
 * grows by a constant factor well below two per round trip. Linux adds
 * what the ACK covers (tcp_slow_start); so does ustack.
 *
 * Checked: the sender's window after a number of round trips, and the
 * time 32 MB take. Times are virtual, so exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "dev/wire.h"
#include "lib/sim.h"
#include "stack/stack.h"

#define XFER (32u << 20)
#define PORT 5004
#define DELAY_US 20000                    /* each way */
#define RCVBUF (16 << 20)
#define ROUNDS 12

static uint32_t cwnd(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti.tcpi_snd_cwnd;
}

struct result {
	uint32_t cwnd[ROUNDS];    /* at the end of each round trip */
	us_time_t elapsed;
	size_t rcvd;
	bool bad;
};

static void run(const char *cc, struct result *r)
{
	struct us_clock clock;
	struct ustack *st[2];
	struct wire_params wp = { .seed = 7, .delay_us = DELAY_US };
	struct sim_tcp_pair p;
	int cfd, sfd, round = 0;
	struct sim_bulk bulk = { .total = XFER };
	us_time_t start, deadline;

	us_clock_init_virtual(&clock, 0);
	st[0] = sim_stack(&clock, 31);
	st[1] = sim_stack(&clock, 32);
	assert_non_null(st[0]);
	assert_non_null(st[1]);
	assert_int_equal(sim_tcp_pair(&clock, st, &wp, inet_addr("10.9.3.1"),
				      inet_addr("10.9.3.2"), PORT, RCVBUF, cc,
				      &p), 0);
	cfd = p.cfd;
	sfd = p.sfd;
	start = clock.virt;
	deadline = start + 600 * US_USEC_PER_SEC;
	while (bulk.rcvd < XFER && !bulk.bad) {
		bool did = sim_bulk_pump(cfd, sfd, &bulk);

		while (round < ROUNDS &&
		       clock.virt - start >= (us_time_t)(round + 1) * 2 * DELAY_US)
			r->cwnd[round++] = cwnd(cfd);
		if (!did && !sim_advance(&clock, st, 2, deadline))
			break;
	}
	r->elapsed = clock.virt - start;
	r->rcvd = bulk.rcvd;
	r->bad = bulk.bad;
	us_close(cfd);
	us_close(sfd);
	us_close(p.lfd);
	sim_run_until(&clock, st, 2, clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
	printf("%-6s %u bytes in %.3f s virtual; cwnd per round trip:", cc,
	       (unsigned)r->rcvd, r->elapsed / 1e6);
	for (int i = 0; i < round; i++)
		printf(" %u", r->cwnd[i]);
	printf("\n");
}

static void check(const char *cc)
{
	struct result r;

	memset(&r, 0, sizeof(r));
	run(cc, &r);
	assert_false(r.bad);
	assert_int_equal(r.rcvd, XFER);
	/* From the initial window of 10, twice the window each round trip
	 * (one ACK per packet of up to 44 segments: a limit per ACK would
	 * give 12 14 16 ...), within a sixteenth, and never more than twice,
	 * while the window is below the path's (about 1,000 segments, as
	 * the receiver's window opens). */
	for (int i = 0; i < 6; i++) {
		uint32_t twice = 10u << (i + 1);

		assert_true(r.cwnd[i] <= twice);
		assert_true(r.cwnd[i] >= twice - twice / 16);
	}
	/* 32 MB in under a second: 2.26 s with two segments per ACK. */
	assert_true(r.elapsed < US_USEC_PER_SEC);
}

static void test_reno(void **state)
{
	(void)state;
	check("reno");
}

static void test_cubic(void **state)
{
	(void)state;
	check("cubic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reno),
		cmocka_unit_test(test_cubic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
