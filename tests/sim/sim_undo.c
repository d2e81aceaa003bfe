/*
 * sim_undo.c - a delay spike between two instances over the in-memory
 * wire, in virtual time: a path of 50 Mbit/s and 40 ms RTT, 8 MB one way,
 * the receiver's buffer about the path's bandwidth-delay product.
 * Half a second in, the ACKs that the receiver sends during 200 ms take a
 * second longer (the path's delay jumps, then comes back; nothing is
 * lost). The sender's retransmission timer fires while they are on their
 * way: a spurious timeout, which the sender should find out and undo
 * (tcp_undo.c), as Linux does, instead of starting again from a window
 * of one segment.
 *
 * Checked, per way of finding it (the sender's counters, and its window
 * and ssthresh right after the first ACK that follows the timeout):
 *  - timestamps on (the default): Eifel detection (RFC 3522 §2), the
 *    ACK of the duplicate echoes an older TSval than the retransmission's;
 *  - timestamps off and no D-SACKs from the receiver: F-RTO (RFC 5682
 *    §3.1), that ACK covers data sent before the timeout and never again;
 *  - timestamps off, D-SACKs on, F-RTO off: the D-SACK of the one
 *    retransmission (RFC 2883 §4.2);
 *  - none of the three: nothing is undone. The timeout cut ssthresh to
 *    0.7 of the window (CUBIC) and the window to one segment; the first
 *    ACK after it covers many segments sent before, and slow start, which
 *    counts all that an ACK covers (as Linux's), takes the window up by
 *    that many at once, up to ssthresh. The undo saves no time here (the
 *    receiver's window limits the transfer), and it costs none: compared
 *    between the two runs alike in options, F-RTO's and this one
 *    (timestamps take 12 bytes of each segment, D-SACK blocks lengthen
 *    ACKs).
 * Every byte arrives in order in all four. Times are virtual, so exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "dev/wire.h"
#include "lib/sim.h"
#include "net/tcp/tcp.h"
#include "socket/socket.h"
#include "stack/stack.h"

#define XFER (8u << 20)
#define PORT 5003
#define RCVBUF 262144   /* the receiver's window about the path's BDP (250
			   KB): no queue builds up, SRTT stays near 40 ms */
#define DELAY_US 20000                        /* each way */
#define SPIKE_AT_US 500000                    /* after the transfer began */
#define SPIKE_LEN_US 200000                   /* ACKs sent during it... */
#define SPIKE_EXTRA_US (1 * US_USEC_PER_SEC)  /* ...arrive this much later */

struct run {
	const char *name;
	bool timestamps, dsack, frto;
	/* results */
	us_time_t elapsed;
	uint64_t timeouts, ts_undo, spurious_rtos, dsack_undo, loss_undo;
	uint32_t cwnd_before;     /* the sender's window just before the spike */
	uint32_t cwnd_after;      /* ... after the first ACK after the timeout */
	uint32_t ssthresh_after;  /* ... and its ssthresh then */
	size_t rcvd;
	bool bad;
};

static struct ustack *make_stack(struct us_clock *clock, uint64_t seed,
				 const struct run *r)
{
	struct ustack *st = sim_stack(clock, seed);

	assert_non_null(st);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_timestamps",
					   r->timestamps ? "1" : "0"), 0);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_dsack",
					   r->dsack ? "1" : "0"), 0);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_frto",
					   r->frto ? "2" : "0"), 0);
	return st;
}

static struct tcp_info info(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

static uint32_t snd_una(int fd)
{
	int err;
	struct socket *sock = sockfd_lookup(fd, &err);
	uint32_t una;

	assert_non_null(sock);
	una = tcp_sk(sock->sk)->snd_una;
	sockfd_put(sock);
	return una;
}

static void run_transfer(struct run *r)
{
	struct us_clock clock;
	struct ustack *st[2];
	struct wire_params wp = { .seed = 5, .delay_us = DELAY_US,
				  .rate_bps = 50000000 };
	struct sim_tcp_pair p;
	int cfd, sfd, phase = 0;
	uint32_t una = 0;
	struct sim_bulk bulk = { .total = XFER };
	us_time_t start, deadline;

	us_clock_init_virtual(&clock, 0);
	st[0] = make_stack(&clock, 21, r);
	st[1] = make_stack(&clock, 22, r);
	assert_int_equal(sim_tcp_pair(&clock, st, &wp, inet_addr("10.9.2.1"),
				      inet_addr("10.9.2.2"), PORT, RCVBUF, NULL,
				      &p), 0);
	cfd = p.cfd;
	sfd = p.sfd;
	start = clock.virt;
	deadline = start + 600 * US_USEC_PER_SEC;
	while (bulk.rcvd < XFER && !bulk.bad) {
		bool did = sim_bulk_pump(cfd, sfd, &bulk);
		us_time_t t = clock.virt - start;

		/* The spike: the receiver's ACKs (p.db's direction) late. */
		if (phase == 0 && t >= SPIKE_AT_US) {
			r->cwnd_before = info(cfd).tcpi_snd_cwnd;
			assert_int_equal(wire_set_delay(p.db, DELAY_US +
							SPIKE_EXTRA_US), 0);
			phase = 1;
		} else if (phase == 1 && t >= SPIKE_AT_US + SPIKE_LEN_US) {
			assert_int_equal(wire_set_delay(p.db, DELAY_US), 0);
			phase = 2;
		} else if (phase == 2 &&
			   st[0]->stats.mib[US_MIB_TCP_TIMEOUTS] > 0) {
			una = snd_una(cfd);
			phase = 3;
		} else if (phase == 3 && snd_una(cfd) != una) {
			struct tcp_info ti = info(cfd);

			r->cwnd_after = ti.tcpi_snd_cwnd;
			r->ssthresh_after = ti.tcpi_snd_ssthresh;
			phase = 4;
		}
		if (!did && !sim_advance(&clock, st, 2, deadline))
			break;
	}
	r->elapsed = clock.virt - start;
	r->rcvd = bulk.rcvd;
	r->bad = bulk.bad;
	r->timeouts = st[0]->stats.mib[US_MIB_TCP_TIMEOUTS];
	r->ts_undo = st[0]->stats.mib[US_MIB_TCP_TS_UNDO];
	r->spurious_rtos = st[0]->stats.mib[US_MIB_TCP_SPURIOUS_RTOS];
	r->dsack_undo = st[0]->stats.mib[US_MIB_TCP_DSACK_UNDO];
	r->loss_undo = st[0]->stats.mib[US_MIB_TCP_LOSS_UNDO];
	us_close(cfd);
	us_close(sfd);
	us_close(p.lfd);
	sim_run_until(&clock, st, 2, clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
	printf("%-28s %u bytes in %.6f s virtual; timeouts %llu, undone: "
	       "ts %llu frto %llu dsack %llu (loss_undo %llu); cwnd %u before "
	       "the spike, %u after the timeout's first ACK (ssthresh %u)\n",
	       r->name, (unsigned)r->rcvd, r->elapsed / 1e6,
	       (unsigned long long)r->timeouts, (unsigned long long)r->ts_undo,
	       (unsigned long long)r->spurious_rtos,
	       (unsigned long long)r->dsack_undo,
	       (unsigned long long)r->loss_undo, r->cwnd_before, r->cwnd_after,
	       r->ssthresh_after);
}

static void test_delay_spike(void **state)
{
	struct run eifel = { .name = "timestamps (Eifel)", .timestamps = true,
			     .dsack = true, .frto = true };
	struct run frto = { .name = "F-RTO, no timestamps", .frto = true };
	struct run dsack = { .name = "D-SACK only", .dsack = true };
	struct run none = { .name = "none of them" };
	struct run *runs[] = { &eifel, &frto, &dsack, &none };

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_transfer(runs[i]);
		assert_false(runs[i]->bad);
		assert_int_equal(runs[i]->rcvd, XFER);
		assert_true(runs[i]->timeouts >= 1);
	}
	assert_true(eifel.ts_undo >= 1 && eifel.loss_undo >= 1);
	assert_true(frto.spurious_rtos >= 1 && frto.loss_undo >= 1);
	assert_int_equal(frto.ts_undo, 0);
	assert_true(dsack.dsack_undo >= 1 && dsack.loss_undo >= 1);
	assert_int_equal(dsack.ts_undo + dsack.spurious_rtos, 0);
	assert_int_equal(none.loss_undo + none.ts_undo + none.spurious_rtos +
			 none.dsack_undo, 0);
	/* Undone at once: the window before the spike, or more, and the
	 * ssthresh before it (still slow start, no loss seen yet). */
	for (size_t i = 0; i < 3; i++) {
		assert_true(runs[i]->cwnd_after >= runs[i]->cwnd_before);
		assert_true(runs[i]->ssthresh_after > runs[i]->cwnd_before);
	}
	/* Not undone: the reduction of a loss stays. */
	assert_true(none.ssthresh_after <= none.cwnd_before * 7 / 10 + 1);
	assert_true(none.cwnd_after <= none.ssthresh_after);
	assert_true(frto.elapsed <= none.elapsed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_spike),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
