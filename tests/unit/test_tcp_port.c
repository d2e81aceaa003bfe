/*
 * test_tcp_port.c - the port connect() chooses and the connection table it
 * is checked in (src/net/tcp/tcp.c): RFC 6056 Algorithm 4 as Linux's
 * __inet_hash_connect runs it (ports of the range's low end's parity
 * first, successive connections to one destination walking forward
 * through the range), a four-tuple in TIME_WAIT not reused towards the
 * same destination (net.ipv4.tcp_tw_reuse's default reuses only on
 * loopback) but its port free towards another, ports held by bind()
 * skipped, EADDRNOTAVAIL once the range is used up, the connection
 * table still finding every connection after it grew, and TIME_WAIT
 * bounded by net.ipv4.tcp_max_tw_buckets.
 *
 * The stack is 10.0.0.2; the peer 10.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/tcptest.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

static struct test_stack T;

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

/* connect() a new nonblocking socket to the peer's port; returns the
 * source port of its SYN, or 0 when connect failed (errno kept). */
static uint16_t connect_port(uint16_t peer_port, int *fd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(peer_port),
				   .sin_addr.s_addr = ts_ip(TT_PEER) };
	struct tt_seg s;
	int err;

	*fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(*fd >= 0);
	if (us_connect(*fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ||
	    errno != EINPROGRESS) {
		err = errno;
		us_close(*fd);
		*fd = -1;
		errno = err;
		return 0;
	}
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN);
	return s.th.sport;
}

/* net.ipv4.ip_local_port_range, as a test on Linux would set it. */
static void set_range(uint16_t lo, uint16_t hi)
{
	char v[32];

	snprintf(v, sizeof(v), "%u %u", lo, hi);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_local_port_range",
					   v), 0);
}

/*
 * Successive connections to one destination: distinct ports in the range,
 * all of the low end's parity while that half lasts, each 2 to 16 above
 * the one before (modulo the range): the table's counter moves past the
 * port taken, plus Linux's noise of up to 7 steps of 2.
 */
static void test_connect_ports_walk_forward(void **state)
{
	enum { N = 300 };
	const int *r = T.st->sysctl.ip_local_port_range;
	uint32_t range = (uint32_t)(r[1] - r[0]) + 1;
	uint16_t port[N];
	int fd[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		port[i] = connect_port(80, &fd[i]);
		assert_true(port[i] >= r[0] && port[i] <= r[1]);
		assert_int_equal((port[i] - r[0]) % 2, 0);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(port[i], port[j]);
		if (i > 0) {
			uint32_t d = (port[i] + range - port[i - 1]) % range;

			assert_true(d >= 2 && d <= 16);
		}
	}
	for (int i = 0; i < N; i++)
		us_close(fd[i]);
}

/*
 * A four-tuple in TIME_WAIT is not taken again towards the same
 * destination; its port is, towards another. With four ports, one in
 * TIME_WAIT to :80, three more connections to :80 get the other three
 * (the odd ones once the even ones are used), and a fifth finds none:
 * EADDRNOTAVAIL, as on Linux.
 */
static void test_connect_port_time_wait(void **state)
{
	struct tt_conn c;
	uint16_t seen[4] = { 0 }, p;
	int fd[4], other;

	(void)state;
	set_range(40000, 40003);
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	tt_to_time_wait(&c, true);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	seen[0] = c.us_port;
	for (int i = 1; i < 4; i++) {
		seen[i] = connect_port(80, &fd[i]);
		assert_true(seen[i] >= 40000 && seen[i] <= 40003);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[i], seen[j]);
	}
	assert_int_equal(connect_port(80, &fd[0]), 0);
	assert_int_equal(errno, EADDRNOTAVAIL);
	/* Another destination port: a fresh four-tuple on any port. */
	p = connect_port(81, &other);
	assert_true(p >= 40000 && p <= 40003);
	us_close(other);
	for (int i = 1; i < 4; i++)
		us_close(fd[i]);
}

/* A port held by bind() is never chosen by connect(), whatever the
 * destination (Linux skips a port whose bucket bind() made). */
static void test_connect_skips_bound_port(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(40000) };
	int b, fd1, fd2, fd3;

	(void)state;
	set_range(40000, 40001);
	b = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(b >= 0);
	assert_int_equal(us_bind(b, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(connect_port(80, &fd1), 40001);
	assert_int_equal(connect_port(80, &fd2), 0);
	assert_int_equal(errno, EADDRNOTAVAIL);
	assert_int_equal(connect_port(81, &fd3), 40001);
	us_close(fd1);
	us_close(fd3);
	us_close(b);
}

/*
 * TIME_WAIT entries keep the port's kind (tcp_timewait.h keeps them on two
 * lists): one left by an accepted connection (its port came from listen)
 * is skipped by connect() like a bound port, towards any destination; one
 * left by connect() holds its port against bind() (EADDRINUSE, with
 * SO_REUSEADDR too as its socket had none) but not against connect() to
 * another destination.
 */
static void test_time_wait_port_kinds(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct tt_conn p, a;
	int one = 1, fd, fd2;

	(void)state;
	tt_conn_init(&p, &T, false);
	tt_open(&p);
	tt_to_time_wait(&p, true);
	us_close(p.lfd);
	assert_int_equal(tt_conn_state(&p), TCP_TIME_WAIT);
	set_range(p.us_port, (uint16_t)(p.us_port + 1));
	assert_int_equal(connect_port(81, &fd), p.us_port + 1);
	assert_int_equal(connect_port(82, &fd2), p.us_port + 1);
	us_close(fd);
	us_close(fd2);

	set_range(41000, 41001);
	tt_conn_init(&a, &T, true);
	tt_open(&a);
	tt_to_time_wait(&a, true);
	assert_int_equal(tt_conn_state(&a), TCP_TIME_WAIT);
	sin.sin_port = htons(a.us_port);
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EADDRINUSE);
	/* Nor with SO_REUSEADDR: the entry's socket did not set it (Linux
	 * wants it on both; checked there: EADDRINUSE both ways). */
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EADDRINUSE);
	us_close(fd);
	/* Towards another port of the peer the four-tuple is new: the port
	 * in TIME_WAIT is taken, even when it is the only one. */
	set_range(a.us_port, a.us_port);
	assert_int_equal(connect_port(90, &fd), a.us_port);
	us_close(fd);
}

/*
 * More connections than the table's first size times four: it grows, and
 * every one of them is still found by its four-tuple. The same for the
 * TIME_WAIT table once they are all TIME_WAIT orphans (as a connect/close
 * loop leaves them; the connection table is then empty), and a segment for
 * each still reaches its entry (a retransmitted FIN is answered with an
 * ACK).
 */
static void test_ehash_grows(void **state)
{
	enum { N = 4 * TCP_EHASH + 200 };
	const struct tcp_table *t = &T.st->tcp;
	static struct tt_conn c[N];

	(void)state;
	for (int i = 0; i < N; i++) {
		tt_conn_init(&c[i], &T, true);
		c[i].peer_port = (uint16_t)(1000 + i % 50);
		tt_open(&c[i]);
	}
	assert_true(t->ehash_mask + 1 > TCP_EHASH);
	assert_int_equal(t->ehash_count, N);
	for (int i = 0; i < N; i++)
		assert_int_equal(tt_conn_state(&c[i]), TCP_ESTABLISHED);
	for (int i = 0; i < N; i++)
		tt_to_time_wait(&c[i], true);
	assert_int_equal(t->ehash_count, 0);
	assert_int_equal(t->tw_count, N);
	assert_true(t->tw.mask + 1 > 4 * TCP_TW_HASH);
	for (int i = 0; i < N; i++) {
		assert_int_equal(tt_conn_state(&c[i]), TCP_TIME_WAIT);
		tt_send(&c[i], TCPHDR_FIN | TCPHDR_ACK, c[i].snd_nxt - 1,
			c[i].rcv_nxt, NULL, 0);
		TT_EXPECT_ACK(&c[i]);
	}
}

/*
 * net.ipv4.tcp_max_tw_buckets: with that many connections in TIME_WAIT, the
 * next one to get there ends at once (counted), as on Linux; the others
 * keep their 2 MSL, and a connection leaving TIME_WAIT makes room.
 */
static void test_time_wait_overflow(void **state)
{
	const struct tcp_table *t = &T.st->tcp;
	struct tt_conn c[4];

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_max_tw_buckets",
					   "2"), 0);
	for (int i = 0; i < 2; i++) {
		tt_conn_init(&c[i], &T, true);
		tt_open(&c[i]);
		tt_to_time_wait(&c[i], true);
	}
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TW_OVERFLOW), 0);
	/* The third: its FIN is acknowledged, and it is gone. */
	tt_conn_init(&c[2], &T, true);
	tt_open(&c[2]);
	tt_to_fin_wait2(&c[2], true);
	tt_peer(&c[2], TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	TT_EXPECT_ACK(&c[2]);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TW_OVERFLOW), 1);
	assert_int_equal(tt_conn_state(&c[0]), TCP_TIME_WAIT);
	assert_int_equal(tt_conn_state(&c[1]), TCP_TIME_WAIT);
	assert_int_equal(tt_conn_state(&c[2]), -1);
	assert_int_equal(t->tw_count, 2);
	/* A RST in sequence ends one TIME_WAIT early: room for the next. */
	tt_send(&c[0], TCPHDR_RST, c[0].snd_nxt, 0, NULL, 0);
	assert_int_equal(tt_conn_state(&c[0]), -1);
	assert_int_equal(t->tw_count, 1);
	tt_conn_init(&c[3], &T, true);
	tt_open(&c[3]);
	tt_to_time_wait(&c[3], true);
	ts_advance(&T, 1);
	assert_int_equal(tt_conn_state(&c[3]), TCP_TIME_WAIT);
	assert_int_equal(t->tw_count, 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TW_OVERFLOW), 1);
	/* 2 MSL later they are all gone. */
	ts_advance(&T, 2 * t->msl_us);
	assert_int_equal(tt_conn_state(&c[1]), -1);
	assert_int_equal(tt_conn_state(&c[3]), -1);
	assert_int_equal(t->tw_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_connect_ports_walk_forward),
		T_(test_connect_port_time_wait),
		T_(test_connect_skips_bound_port),
		T_(test_time_wait_port_kinds),
		T_(test_ehash_grows),
		T_(test_time_wait_overflow),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
