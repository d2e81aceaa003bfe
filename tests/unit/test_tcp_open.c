/*
 * test_tcp_open.c - the opening states of RFC 9293 §3.10.7: CLOSED (the
 * reset for a port no one has, §3.10.7.1), LISTEN (§3.10.7.2: RST, ACK,
 * SYN+FIN and flagless segments, the SYN queue and accept queue bounded by
 * the backlog), SYN-SENT (§3.10.7.3: unacceptable ACKs, RST, SYN-ACK,
 * simultaneous open), the MSS option and its clamps, and malformed
 * segments dropped and counted with their reason.
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
#include <poll.h>
#include <string.h>

#include "core/checksum.h"
#include "lib/tcptest.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

static struct test_stack T;

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

/* The SYN-ACK answering c's SYN; returns its ISN. */
static uint32_t synack_iss(struct tt_conn *c)
{
	struct tt_seg s;

	assert_true(tt_pop(c->t, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_int_equal(s.th.ack, c->irs + 1);
	return s.th.seq;
}

/* ---- CLOSED (§3.10.7.1) -------------------------------------------------- */

/*
 * A segment for a port no one has: with ACK, a RST whose sequence number is
 * SEG.ACK (and no ACK bit); without, a RST|ACK with sequence 0 acknowledging
 * SEG.SEQ + SEG.LEN (SYN and FIN count). A RST is never answered.
 */
static void test_closed_port_rst(void **state)
{
	static const struct {
		uint8_t flags;
		size_t len;
	} rows[] = {
		{ TCPHDR_SYN, 0 },
		{ TCPHDR_SYN, 5 },
		{ TCPHDR_FIN, 3 },
		{ 0, 7 },
		{ TCPHDR_ACK, 0 },
		{ TCPHDR_ACK | TCPHDR_PSH, 9 },
		{ TCPHDR_FIN | TCPHDR_ACK, 0 },
		{ TCPHDR_SYN | TCPHDR_ACK, 0 },
	};
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, false);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t f = rows[i].flags;
		uint64_t drops = tt_drops(&T, US_DROP_TCP_NO_SOCKET);
		uint64_t rsts = tt_mib(&T, US_MIB_TCP_OUT_RSTS);
		uint32_t seq = 0xfffffff0u + (uint32_t)i;   /* across the wrap */
		uint32_t ack = 0x12345678u;

		tt_send(&c, f, seq, ack, "abcdefghi", rows[i].len);
		if (f & TCPHDR_ACK)
			TT_EXPECT(&c, TCPHDR_RST, ack, 0);
		else
			TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, 0,
				  seq + (uint32_t)rows[i].len +
				  ((f & TCPHDR_SYN) ? 1 : 0) +
				  ((f & TCPHDR_FIN) ? 1 : 0));
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_NO_SOCKET), drops + 1);
		assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_RSTS), rsts + 1);
	}
	tt_send(&c, TCPHDR_RST, 1, 0, NULL, 0);
	tt_send(&c, TCPHDR_RST | TCPHDR_ACK, 1, 2, NULL, 0);
	TT_EXPECT_NONE(&T);
}

/* A RST's window is 0 and it leaves from the address the segment went to. */
static void test_closed_port_rst_fields(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_send(&c, TCPHDR_SYN, 77, 0, NULL, 0);
	s = TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, 0, 78);
	assert_int_equal(s->th.window, 0);
	assert_int_equal(s->th.sport, c.us_port);
	assert_int_equal(s->len, 0);
	assert_false(s->th.opts.mss_ok);
}

/* ---- LISTEN (§3.10.7.2) -------------------------------------------------- */

static void test_listen_rows(void **state)
{
	struct tt_conn c;
	uint64_t d;

	(void)state;
	tt_conn_init(&c, &T, false);
	c.lfd = tt_listen(&T, c.us_port, 8);

	/* A RST is ignored. */
	d = tt_drops(&T, US_DROP_TCP_RESET_IGNORED);
	tt_send(&c, TCPHDR_RST, 100, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RESET_IGNORED), d + 1);

	/* An ACK gets <SEQ=SEG.ACK><CTL=RST>. */
	tt_send(&c, TCPHDR_ACK, 100, 5555, "x", 1);
	TT_EXPECT(&c, TCPHDR_RST, 5555, 0);

	/* SYN+FIN is dropped (Linux: SKB_DROP_REASON_TCP_FLAGS). */
	d = tt_drops(&T, US_DROP_TCP_FLAGS);
	tt_send(&c, TCPHDR_SYN | TCPHDR_FIN, 100, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_FLAGS), d + 1);
	assert_int_equal(tt_conn_state(&c), -1);

	/* No SYN, no ACK, no RST: dropped. */
	tt_send(&c, TCPHDR_FIN, 100, 0, NULL, 0);
	tt_send(&c, 0, 100, 0, "data", 4);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_FLAGS), d + 3);

	/* A SYN with data: the SYN-ACK acknowledges the SYN only (no Fast
	 * Open), and the data is not delivered. */
	{
		struct tt_seg s;

		tt_send(&c, TCPHDR_SYN, c.irs, 0, "early", 5);
		assert_true(tt_pop(&T, &s));
		assert_int_equal(s.th.flags, TCPHDR_SYN | TCPHDR_ACK);
		assert_int_equal(s.th.ack, c.irs + 1);
		c.iss = s.th.seq;
		c.rcv_nxt = c.iss + 1;
		c.snd_nxt = c.irs + 1;
		tt_peer(&c, TCPHDR_ACK, NULL, 0);
		c.fd = us_accept(c.lfd, NULL, NULL);
		assert_true(c.fd >= 0);
		assert_int_equal(us_recv(c.fd, s.data, 10, MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
	}
}

/* A SYN-ACK answers a SYN: our ISS, ACK of the SYN, the MSS of the route
 * (1500 - 40), a window, no data. */
static void test_listen_synack_fields(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	tt_conn_init(&c, &T, false);
	s = tt_open_synrecv(&c);
	assert_int_equal(s->th.opts.mss, 1460);
	assert_true(s->th.window > 0);
	assert_false(s->th.opts.ws_ok);    /* no window scaling yet */
	assert_false(s->th.opts.sack_ok);
	assert_false(s->th.opts.ts_ok);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PASSIVE_OPENS), 1);
}

/*
 * listen(fd, 1): one connection may wait in SYN_RECV; a second SYN is
 * dropped and counted. Established connections may queue while the accept
 * queue holds no more than the backlog (Linux: ack_backlog >
 * max_ack_backlog is full), after that a SYN is dropped too, and an ACK
 * completing a handshake is dropped (the SYN-ACK will go again).
 */
static void test_listen_backlog_overflow(void **state)
{
	struct tt_conn a, b;
	uint64_t d, o;
	int fd;

	(void)state;
	tt_conn_init(&a, &T, false);
	a.backlog = 1;
	tt_open_synrecv(&a);
	b = a;
	b.peer_port = 40001;
	b.irs = 0x20000000;

	/* SYN queue full. */
	d = tt_drops(&T, US_DROP_TCP_LISTEN_OVERFLOW);
	o = tt_mib(&T, US_MIB_TCP_LISTEN_OVERFLOWS);
	tt_send(&b, TCPHDR_SYN, b.irs, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_LISTEN_OVERFLOW), d + 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LISTEN_OVERFLOWS), o + 1);
	assert_int_equal(tt_conn_state(&b), -1);

	/* a completes: the accept queue holds 1 (= backlog), still room for
	 * b's handshake. */
	tt_peer(&a, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&a), TCP_ESTABLISHED);
	tt_open_synrecv(&b);
	tt_peer(&b, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&b), TCP_ESTABLISHED);

	/* Two wait for accept(), over the backlog: SYNs are dropped. */
	{
		struct tt_conn x = a;

		x.peer_port = 40002;
		tt_send(&x, TCPHDR_SYN, 5, 0, NULL, 0);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_conn_state(&x), -1);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_LISTEN_OVERFLOW),
				 d + 2);
	}

	/* accept() both; then there is room again. */
	fd = us_accept(a.lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(us_close(fd), 0);
	fd = us_accept(a.lfd, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(us_accept(a.lfd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	ts_flush_tx(&T);   /* the FIN of the one closed */
	{
		struct tt_conn x = a;

		x.peer_port = 40003;
		x.irs = 0x30000000;
		tt_open_synrecv(&x);
	}
}

/* A connection on the listener of a, from peer port `port`. */
static void peer_from(struct tt_conn *x, const struct tt_conn *a,
		      uint16_t port)
{
	*x = *a;
	x->fd = -1;
	x->peer_port = port;
	x->irs = 0x01000000u * port;
}

/*
 * The final ACK when the accept queue is already over the backlog is
 * dropped and counted (Linux, tcp_abort_on_overflow = 0); the child stays
 * in SYN_RECV, its SYN-ACK goes again on the timer (1 s), and an ACK once
 * there is room completes it.
 */
static void test_listen_accept_queue_full_drops_ack(void **state)
{
	struct tt_conn a, b, x, y;
	uint64_t d;
	int fd;

	(void)state;
	tt_conn_init(&a, &T, false);
	a.backlog = 2;
	tt_open_synrecv(&a);
	peer_from(&b, &a, 40001);
	tt_open_synrecv(&b);
	tt_peer(&a, TCPHDR_ACK, NULL, 0);
	tt_peer(&b, TCPHDR_ACK, NULL, 0);
	peer_from(&x, &a, 40002);
	tt_open_synrecv(&x);
	peer_from(&y, &a, 40003);
	tt_open_synrecv(&y);
	tt_peer(&x, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&x), TCP_ESTABLISHED);

	d = tt_drops(&T, US_DROP_TCP_LISTEN_OVERFLOW);
	tt_peer(&y, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_LISTEN_OVERFLOW), d + 1);
	assert_int_equal(tt_conn_state(&y), TCP_SYN_RECV);

	fd = us_accept(a.lfd, NULL, NULL);
	assert_true(fd >= 0);
	ts_advance(&T, US_USEC_PER_SEC);
	TT_EXPECT(&y, TCPHDR_SYN | TCPHDR_ACK, y.iss, y.irs + 1);
	TT_EXPECT_NONE(&T);
	tt_peer(&y, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&y), TCP_ESTABLISHED);
	for (int i = 0; i < 3; i++) {
		int f2 = us_accept(a.lfd, NULL, NULL);

		assert_true(f2 >= 0);
		assert_int_equal(us_close(f2), 0);
	}
	assert_int_equal(us_close(fd), 0);
}

/* ---- SYN-SENT (§3.10.7.3) ------------------------------------------------ */

/* The SYN: our MSS, SACK-permitted (net.ipv4.tcp_sack is on by default,
 * as on Linux), a window; connect() in progress. */
static void test_syn_sent_syn_fields(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	int err;
	socklen_t len = sizeof(err);

	(void)state;
	tt_conn_init(&c, &T, true);
	s = tt_open_synsent(&c);
	assert_int_equal(s->th.opts.mss, 1460);
	/* MSS, SACK-permitted + timestamps, NOP window scale (all on by
	 * default, as on Linux; test_tcp_ts.c has the details). */
	assert_true(s->th.opts.sack_ok);
	assert_int_equal(s->th.doff, 40);
	assert_true(s->th.opts.ts_ok && s->th.opts.ws_ok);
	assert_true(s->th.window > 0);
	assert_true(s->ip.frag_off & 0x4000);   /* DF */
	assert_true(c.us_port >= 32768 && c.us_port <= 60999);
	assert_int_equal(us_getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_ACTIVE_OPENS), 1);
}

/*
 * An ACK outside SND.UNA < SEG.ACK =< SND.NXT: <SEQ=SEG.ACK><CTL=RST>,
 * unless the segment is itself a RST; the connection goes on.
 */
static void test_syn_sent_bad_ack(void **state)
{
	struct tt_conn c;
	uint64_t d;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	d = tt_drops(&T, US_DROP_TCP_BAD_ACK);
	/* ACK of our ISN (nothing), and of more than we sent. */
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.iss, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.iss, 0);
	tt_send(&c, TCPHDR_ACK, c.irs, c.iss + 2, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.iss + 2, 0);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_BAD_ACK), d + 2);
	/* RST with a bad ACK: dropped silently. */
	tt_send(&c, TCPHDR_RST | TCPHDR_ACK, c.irs, c.iss + 2, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	assert_int_equal(tt_so_error(c.fd), 0);
	/* RST without ACK: dropped too. */
	tt_send(&c, TCPHDR_RST, c.irs, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	/* An acceptable ACK without SYN: dropped. */
	tt_send(&c, TCPHDR_ACK, c.irs, c.iss + 1, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	/* The handshake still completes. */
	c.snd_nxt = c.irs + 1;
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
}

/* RST|ACK acknowledging our SYN: refused. connect() reports it again, and
 * the socket is closed with POLLERR until SO_ERROR is read. */
static void test_syn_sent_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct tt_conn c;
	char b;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	tt_send(&c, TCPHDR_RST | TCPHDR_ACK, 0, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	sin.sin_addr.s_addr = c.peer_addr;
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)),
			 -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(tt_so_error(c.fd), 0);
	/* The failed connect() disconnected the socket (Linux's sock_error
	 * path calls tcp_disconnect, clearing the shutdown bits): a read
	 * says ENOTCONN, as on Linux (tests/unit/test_diff_tcp.c). */
	assert_int_equal(us_recv(c.fd, &b, 1, MSG_DONTWAIT), -1);
	assert_int_equal(errno, ENOTCONN);
}

/* SYN-ACK: established, our ACK, connect() completes, the peer's window
 * and MSS taken. */
static void test_syn_sent_synack(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	tt_conn_init(&c, &T, true);
	c.mss = 1000;
	c.win = 3000;
	tt_open(&c);
	/* The first connect() after a nonblocking one completed reports
	 * success, later ones EISCONN (Linux's __inet_stream_connect). */
	sin.sin_addr.s_addr = c.peer_addr;
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)),
			 0);
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)),
			 -1);
	assert_int_equal(errno, EISCONN);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_mss, 1000);
	/* 4000 bytes: 1000-byte segments, three fill the 3000-byte window. */
	{
		char buf[4000];

		memset(buf, 'q', sizeof(buf));
		assert_int_equal(us_send(c.fd, buf, sizeof(buf), MSG_DONTWAIT),
				 4000);
	}
	for (int i = 0; i < 3; i++) {
		TT_EXPECT_DATA(&c, c.rcv_nxt, 1000);
		c.rcv_nxt += 1000;
	}
	TT_EXPECT_NONE(&T);
}

/* connect() with the first `lost` SYNs unanswered (each timeout sent it
 * again), then the SYN-ACK (no MSS option: 536-byte segments). */
static void open_after_syn_losses(struct tt_conn *c, int lost)
{
	tt_conn_init(c, &T, true);
	tt_open_synsent(c);
	for (int i = 0; i < lost; i++) {
		ts_advance(&T, (us_time_t)US_USEC_PER_SEC << i);
		TT_EXPECT(c, TCPHDR_SYN, c->iss, 0);
		TT_EXPECT_NONE(&T);
	}
	c->snd_nxt = c->irs + 1;
	tt_send(c, TCPHDR_SYN | TCPHDR_ACK, c->irs, c->rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(c);
	assert_int_equal(tt_conn_state(c), TCP_ESTABLISHED);
}

/*
 * A SYN's timeout cut ssthresh and the window to one segment, which the
 * transfer then started with (CUBIC: ssthresh 7, in congestion avoidance
 * from the start). Linux undoes it when the connection is established
 * (tcp_init_metrics: "ssthresh may have been reduced unnecessarily during
 * 3WHS"; tcp_init_transfer: the initial window, or one segment when the
 * SYN was sent again more than once), with the algorithm started afresh.
 */
static void test_syn_timeouts_then_initial_window(void **state)
{
	static char buf[11 * 536];
	struct tt_conn c;
	struct tcp_info ti;

	struct socket *sock;
	int err;

	(void)state;
	open_after_syn_losses(&c, 1);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_ssthresh, TCP_INFINITE_SSTHRESH);
	assert_int_equal(ti.tcpi_snd_cwnd, 10);
	/* CUBIC (the default) starts afresh, HyStart++ on. */
	sock = sockfd_lookup(c.fd, &err);
	assert_non_null(sock);
	assert_int_equal(((struct tcp_cubic_state *)
			  tcp_sk(sock->sk)->ca_priv)->hs.state, HS_START);
	sockfd_put(sock);
	assert_int_equal(us_send(c.fd, buf, sizeof(buf), 0), (int)sizeof(buf));
	for (int i = 0; i < 10; i++)
		TT_EXPECT_DATA(&c, c.rcv_nxt + (uint32_t)i * 536, 536);
	TT_EXPECT_NONE(&T);
}

static void test_syn_timeouts_twice_one_segment(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	open_after_syn_losses(&c, 2);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_ssthresh, TCP_INFINITE_SSTHRESH);
	assert_int_equal(ti.tcpi_snd_cwnd, 1);
}

/*
 * Simultaneous open (RFC 9293 §3.5 figure 8): our SYN crosses the peer's;
 * we answer its SYN with a SYN-ACK of our own ISN, and its SYN-ACK (or a
 * plain ACK) completes the connection, as Linux lets it.
 */
static void test_simultaneous_open(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int by_synack = 0; by_synack < 2; by_synack++) {
		if (by_synack) {
			ts_flush_tx(&T);
			ts_destroy(&T);
			tt_stack_init(&T);
		}
		tt_conn_init(&c, &T, true);
		tt_open_synsent(&c);
		c.snd_nxt = c.irs;
		tt_peer(&c, TCPHDR_SYN, NULL, 0);
		TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.iss, c.irs + 1);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_state(c.fd), TCP_SYN_RECV);
		assert_int_equal(tt_poll(c.fd), 0);
		if (by_synack) {
			tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt,
				NULL, 0);
			TT_EXPECT_ACK(&c);
		} else {
			tt_peer(&c, TCPHDR_ACK, NULL, 0);
		}
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
		assert_int_equal(tt_poll(c.fd), POLLOUT | POLLWRNORM);
		assert_int_equal(us_send(c.fd, "hi", 2, 0), 2);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 2);
	}
}

/* ---- the MSS option ------------------------------------------------------ */

static uint16_t snd_mss(int fd)
{
	struct tcp_info ti;

	tt_info(fd, &ti);
	return (uint16_t)ti.tcpi_snd_mss;
}

/*
 * The send MSS is the peer's option, or 536 without one (RFC 9293
 * §3.7.1), no more than our route's 1460, no less than Linux's floor
 * (tcp_min_snd_mss, 48); an option of 0 counts as none.
 */
static void test_mss_option_and_clamps(void **state)
{
	static const struct {
		uint16_t peer;    /* 0 = no option */
		bool zero;        /* an option with the value 0 */
		uint16_t want;
	} rows[] = {
		{ 1460, false, 1460 }, { 0, false, 536 }, { 1000, false, 1000 },
		{ 9000, false, 1460 }, { 0, true, 536 }, { 1, false, 48 },
	};
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int active = 0; active < 2; active++) {
			uint8_t opt[4] = { TCPOPT_MSS, 4, 0, 0 };

			ts_flush_tx(&T);
			ts_destroy(&T);
			tt_stack_init(&T);
			tt_conn_init(&c, &T, active);
			c.mss = 0;
			opt[2] = (uint8_t)(rows[i].peer >> 8);
			opt[3] = (uint8_t)rows[i].peer;
			c.snd_nxt = c.irs + 1;
			if (active) {
				tt_open_synsent(&c);
				tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs,
					    c.rcv_nxt, opt,
					    rows[i].peer || rows[i].zero ? 4 : 0,
					    NULL, 0);
				TT_EXPECT_ACK(&c);
			} else {
				c.lfd = tt_listen(&T, c.us_port, 4);
				tt_send_opt(&c, TCPHDR_SYN, c.irs, 0, opt,
					    rows[i].peer || rows[i].zero ? 4 : 0,
					    NULL, 0);
				c.iss = synack_iss(&c);
				c.rcv_nxt = c.iss + 1;
				tt_peer(&c, TCPHDR_ACK, NULL, 0);
				c.fd = us_accept(c.lfd, NULL, NULL);
				assert_true(c.fd >= 0);
			}
			print_message("peer MSS %u%s, %s\n", rows[i].peer,
				      rows[i].zero ? " (0)" : "",
				      active ? "active" : "passive");
			assert_int_equal(snd_mss(c.fd), rows[i].want);
		}
	}
}

/* TCP_MAXSEG set before connect() or on the listener clamps the MSS we
 * announce and the one we send with (Linux: tcp_mss_clamp). */
static void test_mss_user_clamp(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	int v = 1000;

	(void)state;
	tt_conn_init(&c, &T, true);
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_MAXSEG, &v,
				       sizeof(v)), 0);
	s = tt_open_synsent(&c);
	assert_int_equal(s->th.opts.mss, 1000);

	tt_conn_init(&c, &T, false);
	c.lfd = tt_listen(&T, c.us_port, 4);
	v = 700;
	assert_int_equal(us_setsockopt(c.lfd, IPPROTO_TCP, TCP_MAXSEG, &v,
				       sizeof(v)), 0);
	s = tt_open_synrecv(&c);
	assert_int_equal(s->th.opts.mss, 700);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	c.fd = us_accept(c.lfd, NULL, NULL);
	assert_true(c.fd >= 0);
	assert_int_equal(snd_mss(c.fd), 700);
	/* Out of range: EINVAL, as Linux (TCP_MIN_MSS 88 .. MAX_TCP_WINDOW). */
	v = 87;
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_MAXSEG, &v,
				       sizeof(v)), -1);
	assert_int_equal(errno, EINVAL);
}

/* ---- bad input: dropped, counted, never answered ------------------------- */

/* Each malformed SYN to a listener: no SYN-ACK, the reason counted, the
 * listener unharmed; each to a connection: no ACK, no state change. */
static void test_malformed_segments(void **state)
{
	struct tt_conn c;
	struct tt_out o;
	uint8_t badopt[8] = { TCPOPT_NOP, TCPOPT_MSS, 8, 0, 0, 0, 0, 0 };
	uint8_t zerolen[4] = { TCPOPT_MSS, 0, 0, 0 };
	uint8_t nolen[4] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_MSS };
	uint64_t errs;

	(void)state;
	tt_conn_init(&c, &T, false);
	c.lfd = tt_listen(&T, c.us_port, 4);

	for (int i = 0; i < 7; i++) {
		uint64_t d;
		uint8_t buf[200];
		size_t n;
		enum us_drop_reason why;

		memset(&o, 0, sizeof(o));
		o.saddr = c.peer_addr;
		o.daddr = c.us_addr;
		o.sport = c.peer_port;
		o.dport = c.us_port;
		o.seq = 1000;
		o.flags = TCPHDR_SYN;
		o.win = 1000;
		switch (i) {
		case 0:  /* checksum */
			o.bad_csum = true;
			why = US_DROP_TCP_BAD_CSUM;
			break;
		case 1:  /* data offset below 5 words */
			o.doff_words = 4;
			why = US_DROP_TCP_BAD_DOFF;
			break;
		case 2:  /* data offset past the segment */
			o.doff_words = 15;
			why = US_DROP_TCP_BAD_DOFF;
			break;
		case 3:  /* an option running past the header */
			o.opt = badopt;
			o.optlen = 4;
			why = US_DROP_TCP_BAD_OPTIONS;
			break;
		case 4:  /* an option of length 0 */
			o.opt = zerolen;
			o.optlen = 4;
			why = US_DROP_TCP_BAD_OPTIONS;
			break;
		case 5:  /* a kind without its length byte */
			o.opt = nolen;
			o.optlen = 4;
			why = US_DROP_TCP_BAD_OPTIONS;
			break;
		default: /* SYN+FIN */
			o.flags = TCPHDR_SYN | TCPHDR_FIN;
			why = US_DROP_TCP_FLAGS;
			break;
		}
		print_message("malformed case %d\n", i);
		d = tt_drops(&T, why);
		errs = tt_mib(&T, US_MIB_TCP_IN_ERRS);
		n = tt_build(buf, &o);
		if (i == 1 || i == 2) {
			/* fix the checksum over the mangled offset */
			uint8_t *th = buf + 20;
			uint32_t sum;
			uint16_t cs;

			th[16] = th[17] = 0;
			sum = csum_tcpudp_nofold(o.saddr, o.daddr, IPPROTO_TCP,
						 (uint16_t)(n - 20), 0);
			cs = csum_fold(csum_partial(th, n - 20, sum));
			th[16] = (uint8_t)(cs >> 8);
			th[17] = (uint8_t)cs;
		}
		ts_inject(&T, buf, n);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, why), d + 1);
		if (why != US_DROP_TCP_FLAGS)
			assert_int_equal(tt_mib(&T, US_MIB_TCP_IN_ERRS),
					 errs + 1);
		assert_int_equal(tt_conn_state(&c), -1);
	}
	/* A segment too short for a TCP header. */
	{
		uint8_t buf[40];
		uint64_t d = tt_drops(&T, US_DROP_TCP_TRUNCATED);

		ts_inject(&T, buf, tb_ipv4(buf, c.peer_addr, c.us_addr,
					   IPPROTO_TCP, 1, 0, 64, "0123456789",
					   10));
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_TRUNCATED), d + 1);
	}
	/* The listener still works. */
	tt_open(&c);
	/* And a connection ignores a segment with a bad checksum. */
	{
		uint64_t d = tt_drops(&T, US_DROP_TCP_BAD_CSUM);

		memset(&o, 0, sizeof(o));
		o.saddr = c.peer_addr;
		o.daddr = c.us_addr;
		o.sport = c.peer_port;
		o.dport = c.us_port;
		o.seq = c.snd_nxt;
		o.ack = c.rcv_nxt;
		o.flags = TCPHDR_ACK | TCPHDR_RST;
		o.bad_csum = true;
		tt_inject(&T, &o);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_BAD_CSUM), d + 1);
		assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	}
}

/* Unknown options, and known ones of the wrong length, are skipped (RFC
 * 9293 §3.2 MUST-6), as Linux skips them: the SYN is answered. */
static void test_odd_options_ignored(void **state)
{
	static const uint8_t opt[12] = {
		0xfe, 4, 0xaa, 0xbb,          /* unknown kind 254 */
		TCPOPT_MSS, 3, 0x01,          /* MSS of length 3: ignored */
		TCPOPT_NOP, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_EOL, 0x55,
	};
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	tt_conn_init(&c, &T, false);
	c.lfd = tt_listen(&T, c.us_port, 4);
	c.snd_nxt = c.irs + 1;
	tt_send_opt(&c, TCPHDR_SYN, c.irs, 0, opt, sizeof(opt), NULL, 0);
	c.iss = synack_iss(&c);
	c.rcv_nxt = c.iss + 1;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	c.fd = us_accept(c.lfd, NULL, NULL);
	assert_true(c.fd >= 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_mss, 536);
}

/* The kernel's poll of a ustack descriptor (its eventfd): readable
 * exactly while the socket is ready (POLLIN, POLLHUP, ...). */
static bool kernel_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/*
 * A descriptor polled by the kernel directly follows the socket's own
 * mask: a new TCP socket is ready from socket() on (Linux: POLLOUT |
 * POLLHUP), a new UDP one is not (POLLOUT only); SYN_SENT is not
 * (Linux's mask is 0), ESTABLISHED is once data arrives.
 */
static void test_descriptor_readiness(void **state)
{
	struct tt_conn c;
	int u = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);

	(void)state;
	assert_true(u >= 0);
	assert_false(kernel_readable(u));
	us_close(u);
	tt_conn_init(&c, &T, true);
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c.fd >= 0);
	assert_int_equal(tt_poll(c.fd), POLLOUT | POLLWRNORM | POLLHUP);
	assert_true(kernel_readable(c.fd));
	tt_open_synsent(&c);
	assert_int_equal(tt_poll(c.fd), 0);
	assert_false(kernel_readable(c.fd));
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, NULL, 0);
	c.snd_nxt = c.irs + 1;
	TT_EXPECT_ACK(&c);
	assert_false(kernel_readable(c.fd));
	tt_peer(&c, TCPHDR_ACK | TCPHDR_PSH, "x", 1);
	assert_true(kernel_readable(c.fd));
	us_close(c.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_closed_port_rst),
		T_(test_closed_port_rst_fields),
		T_(test_listen_rows),
		T_(test_listen_synack_fields),
		T_(test_listen_backlog_overflow),
		T_(test_listen_accept_queue_full_drops_ack),
		T_(test_syn_sent_syn_fields),
		T_(test_syn_sent_bad_ack),
		T_(test_syn_sent_refused),
		T_(test_syn_sent_synack),
		T_(test_syn_timeouts_then_initial_window),
		T_(test_syn_timeouts_twice_one_segment),
		T_(test_simultaneous_open),
		T_(test_mss_option_and_clamps),
		T_(test_mss_user_clamp),
		T_(test_malformed_segments),
		T_(test_odd_options_ignored),
		T_(test_descriptor_readiness),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
