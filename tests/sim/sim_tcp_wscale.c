/*
 * sim_tcp_wscale.c - large windows between two instances over the
 * in-memory wire, in virtual time: a path of 50 Mbit/s and 40 ms RTT
 * (bandwidth-delay product 250 KB, four times what 16 bits of window
 * say), 8 MB one way, the reader taking what comes.
 *
 * Checked: RFC 7323 window scaling and timestamps are agreed (TCP_INFO on
 * both ends); the sender sees a window above 64 KB; the receiver's buffer
 * grows by itself from tcp_rmem[1] (autotuning, no SO_RCVBUF) and its
 * SO_RCVBUF reads back the new size; every byte arrives in order; the
 * transfer takes less than half the virtual time that the same transfer
 * takes with window scaling off on both sides (where the window stays at
 * 64 KB at most), and SO_RCVBUF set on the receiver locks its buffer.
 *
 * Then the same over a path faster than the timestamp clock's 1 ms tick
 * (50 us each way, no rate limit): with timestamps on, the receiver's RTT
 * estimate must still come (from the time a window takes to fill, as
 * Linux's tcp_rcv_rtt_measure) and be the path's, so the buffer grows;
 * an echo there comes back in the tick that sent it and gives no sample.
 * Times are virtual, so they are exact and the same on every run.
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
#define PORT 5002

struct run {
	bool wscale;              /* tcp_window_scaling on both sides */
	int rcvbuf;               /* SO_RCVBUF on the listener, 0 = none */
	bool fast;                /* 50 us each way, no rate limit */
	/* results */
	us_time_t elapsed;
	uint32_t max_snd_wnd;     /* the largest window the sender saw */
	int rcvbuf_after;         /* the receiver's SO_RCVBUF at the end */
	struct tcp_info cli, srv;
	size_t rcvd;
	bool bad;
};

static struct ustack *make_stack(struct us_clock *clock, uint64_t seed,
				 bool wscale)
{
	struct ustack *st = sim_stack(clock, seed);

	assert_non_null(st);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_window_scaling",
					   wscale ? "1" : "0"), 0);
	return st;
}

static struct tcp_sock *fd_tcp(int fd)
{
	int err;
	struct socket *sock = sockfd_lookup(fd, &err);
	struct tcp_sock *tp;

	assert_non_null(sock);
	tp = tcp_sk(sock->sk);
	sockfd_put(sock);
	return tp;
}

static void info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len), 0);
}

static void run_transfer(struct run *r)
{
	struct us_clock clock;
	struct ustack *st[2];
	struct wire_params wp = { .seed = 7, .delay_us = 20000,
				  .rate_bps = 50000000 };
	struct sim_tcp_pair p;
	int cfd, sfd;
	struct sim_bulk bulk = { .total = XFER };
	us_time_t start, deadline;
	socklen_t len = sizeof(int);

	if (r->fast) {
		wp.delay_us = 50;
		wp.rate_bps = 0;
	}
	us_clock_init_virtual(&clock, 0);
	st[0] = make_stack(&clock, 11, r->wscale);
	st[1] = make_stack(&clock, 12, r->wscale);
	assert_int_equal(sim_tcp_pair(&clock, st, &wp, inet_addr("10.9.1.1"),
				      inet_addr("10.9.1.2"), PORT, r->rcvbuf,
				      NULL, &p), 0);
	cfd = p.cfd;
	sfd = p.sfd;
	start = clock.virt;
	deadline = start + 600 * US_USEC_PER_SEC;
	while (bulk.rcvd < XFER && !bulk.bad) {
		bool did = sim_bulk_pump(cfd, sfd, &bulk);
		uint32_t w = fd_tcp(cfd)->snd_wnd;

		if (w > r->max_snd_wnd)
			r->max_snd_wnd = w;
		if (!did && !sim_advance(&clock, st, 2, deadline))
			break;
	}
	r->elapsed = clock.virt - start;
	r->rcvd = bulk.rcvd;
	r->bad = bulk.bad;
	info(cfd, &r->cli);
	info(sfd, &r->srv);
	assert_int_equal(us_getsockopt(sfd, SOL_SOCKET, SO_RCVBUF,
				       &r->rcvbuf_after, &len), 0);
	us_close(cfd);
	us_close(sfd);
	us_close(p.lfd);
	sim_run_until(&clock, st, 2, clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
	printf("wscale %d rcvbuf %d%s: %u bytes in %.3f s virtual, max window "
	       "%u, receiver's buffer %d, rcv_space %u, rcv_rtt %u us, "
	       "wscale %u/%u\n",
	       r->wscale, r->rcvbuf, r->fast ? " fast path" : "",
	       (unsigned)r->rcvd, r->elapsed / 1e6, r->max_snd_wnd,
	       r->rcvbuf_after, r->srv.tcpi_rcv_space, r->srv.tcpi_rcv_rtt,
	       r->cli.tcpi_snd_wscale, r->cli.tcpi_rcv_wscale);
}

static void test_large_window_and_autotuning(void **state)
{
	struct run on = { .wscale = true }, off = { .wscale = false };
	struct run locked = { .wscale = true, .rcvbuf = 65536 };

	(void)state;
	run_transfer(&on);
	assert_false(on.bad);
	assert_int_equal(on.rcvd, XFER);
	assert_int_equal(on.cli.tcpi_options & (TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS),
			 TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS);
	assert_int_equal(on.srv.tcpi_options & (TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS),
			 TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS);
	assert_int_equal(on.cli.tcpi_snd_wscale, on.srv.tcpi_rcv_wscale);
	assert_int_equal(on.cli.tcpi_rcv_wscale, on.srv.tcpi_snd_wscale);
	assert_true(on.max_snd_wnd > 65535);
	/* Autotuning grew the receiver's buffer past tcp_rmem[1] and far
	 * enough for the bandwidth-delay product (250 KB of window is
	 * 500 KB of buffer at tcp_adv_win_scale 1). */
	assert_true(on.rcvbuf_after > 131072);
	assert_true(on.rcvbuf_after >= 500000);
	assert_true(on.srv.tcpi_rcv_space > 65535);

	run_transfer(&off);
	assert_false(off.bad);
	assert_int_equal(off.rcvd, XFER);
	assert_int_equal(off.cli.tcpi_options & TCPI_OPT_WSCALE, 0);
	assert_true(off.max_snd_wnd <= 65535);
	/* Scaling pays: the 64 KB window holds the transfer to 1.6 MB/s. */
	assert_true(on.elapsed * 2 < off.elapsed);

	/* SO_RCVBUF (inherited from the listener) locks the buffer, as on
	 * Linux: no autotuning; the shift only covers it. */
	run_transfer(&locked);
	assert_false(locked.bad);
	assert_int_equal(locked.rcvd, XFER);
	assert_int_equal(locked.rcvbuf_after, 2 * 65536);
	assert_true(locked.max_snd_wnd <= 65536);
	assert_int_equal(locked.srv.tcpi_rcv_wscale, 1);
}

static void test_autotuning_below_the_ts_tick(void **state)
{
	struct run fast = { .wscale = true, .fast = true };

	(void)state;
	run_transfer(&fast);
	assert_false(fast.bad);
	assert_int_equal(fast.rcvd, XFER);
	assert_int_equal(fast.srv.tcpi_options & TCPI_OPT_TIMESTAMPS,
			 TCPI_OPT_TIMESTAMPS);
	/* An estimate, and the path's (100 us round trip plus the time
	 * a window takes to cross), not the tick's 1 ms. */
	assert_true(fast.srv.tcpi_rcv_rtt > 0);
	assert_true(fast.srv.tcpi_rcv_rtt < 1000);
	/* So autotuning ran: without an estimate the buffer stays at
	 * tcp_rmem[1] and the window at 64 KB. */
	assert_true(fast.rcvbuf_after > 131072);
	assert_true(fast.max_snd_wnd > 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_large_window_and_autotuning),
		cmocka_unit_test(test_autotuning_below_the_ts_tick),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
