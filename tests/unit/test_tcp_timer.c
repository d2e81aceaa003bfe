/*
 * test_tcp_timer.c - TCP's timers in virtual time, to the microsecond:
 * SYN and SYN-ACK retransmission and their limits (ETIMEDOUT), the RTO of
 * RFC 6298 (1 s before any sample, then SRTT + max(200 ms, 4 RTTVAR) as
 * Linux bounds it, doubling on each timeout up to 120 s, kept backed off
 * until a valid sample: Karn; 3 s after a retransmitted SYN, §5.7), fast
 * retransmit on the third duplicate ACK and NewReno's partial ACKs,
 * zero-window probes with backoff, keepalive (TCP_KEEPIDLE, INTVL, CNT)
 * ending in ETIMEDOUT, in CLOSE_WAIT and FIN_WAIT2 too and quiet while
 * data is unacknowledged, and TCP_USER_TIMEOUT (RFC 5482) overriding
 * tcp_retries2 and TCP_KEEPCNT, in the handshake too, and however many
 * hours it lasts. The limits as Linux sets them: zero-window probes go on
 * while answered (RFC 1122 §4.2.2.17) and end after tcp_retries2
 * unanswered ones, an orphan's sooner; a timeout while the window is
 * closed retransmits past it and lives while answered; tcp_retries2
 * bounds the time since the first retransmission, tcp_orphan_retries an
 * orphan's; past tcp_max_orphans, a close or an orphan's timeout resets. After a go-back, the cuts at a window end moved a byte at a
 * time stop at Linux's TCPWQUEUETOOBIG bound.
 * Keepalive's idle time counts from the last acceptable segment.
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

#include "lib/tcptest.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

#define MS 1000
#define SEC US_USEC_PER_SEC

static struct test_stack T;
static uint8_t BUF[20000];

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	memset(BUF, 'd', sizeof(BUF));
	return 0;
}

static void fresh_stack(void)
{
	ts_flush_tx(&T);
	ts_destroy(&T);
	tt_stack_init(&T);
}

/* Nothing is sent until exactly `at` from now, then something is. */
static void advance_to_edge(us_time_t at)
{
	ts_advance(&T, at - 1);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1);
}

/* Active open whose SYN-ACK comes rtt later: SRTT = rtt. */
static void open_rtt(struct tt_conn *c, us_time_t rtt)
{
	static const uint8_t mss[4] = { TCPOPT_MSS, 4, 1460 >> 8, 1460 & 0xff };

	tt_conn_init(c, &T, true);
	tt_open_synsent(c);
	ts_advance(&T, rtt);
	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN | TCPHDR_ACK, c->irs, c->rcv_nxt, mss,
		    sizeof(mss), NULL, 0);
	TT_EXPECT_ACK(c);
	assert_int_equal(tt_state(c->fd), TCP_ESTABLISHED);
}

static uint32_t rto_of(int fd)
{
	struct tcp_info ti;

	tt_info(fd, &ti);
	return ti.tcpi_rto;
}

/* ---- the handshake ------------------------------------------------------- */

/* The SYN goes again at 1, 3, 7, 15, 31 and 63 s (RTO 1 s, doubling), and
 * at 127 s connect() fails with ETIMEDOUT (Linux, tcp_syn_retries = 6). */
static void test_syn_retries_then_etimedout(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct tt_conn c;
	us_time_t gap = SEC;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	/* net.ipv4.tcp_syn_linear_timeouts (4): the first four timeouts
	 * keep the RTO and count beyond the six retries; then it doubles:
	 * SYNs at 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s, ETIMEDOUT at 131 s,
	 * as Linux 6.5 and later. */
	for (int i = 0; i < 10; i++) {
		const struct tt_seg *s;

		advance_to_edge(gap);
		s = TT_EXPECT(&c, TCPHDR_SYN, c.iss, 0);
		assert_int_equal(s->th.opts.mss, 1460);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
		if (i >= 4)
			gap *= 2;
	}
	advance_to_edge(gap);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
	assert_int_equal(tt_poll(c.fd), POLLERR | POLLHUP | POLLIN | POLLRDNORM |
			 POLLRDHUP | POLLOUT | POLLWRNORM);
	sin.sin_addr.s_addr = c.peer_addr;
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)),
			 -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* A late SYN-ACK finds no one: RST. */
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.iss + 1, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.iss + 1, 0);
}

/* TCP_SYNCNT lowers the limit: 2 retries, ETIMEDOUT at 7 s (with no
 * linear timeouts, which would add theirs). */
static void test_syncnt(void **state)
{
	struct tt_conn c;
	int two = 2;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st,
					   "net.ipv4.tcp_syn_linear_timeouts",
					   "0"), 0);
	tt_conn_init(&c, &T, true);
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_SYNCNT, &two,
				       sizeof(two)), 0);
	tt_open_synsent(&c);
	advance_to_edge(SEC);
	TT_EXPECT(&c, TCPHDR_SYN, c.iss, 0);
	advance_to_edge(2 * SEC);
	TT_EXPECT(&c, TCPHDR_SYN, c.iss, 0);
	ts_advance(&T, 4 * SEC - 1);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	ts_advance(&T, 1);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
	TT_EXPECT_NONE(&T);
}

/* The SYN-ACK goes again at 1, 3, 7, 15 and 31 s; at 63 s the embryonic
 * connection is dropped without a word (Linux, tcp_synack_retries = 5). */
static void test_synack_retries(void **state)
{
	struct tt_conn c;
	us_time_t gap = SEC;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open_synrecv(&c);
	for (int i = 0; i < 5; i++) {
		advance_to_edge(gap);
		TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.iss, c.irs + 1);
		TT_EXPECT_NONE(&T);
		gap *= 2;
	}
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_conn_state(&c), TCP_SYN_RECV);
	ts_advance(&T, 1);
	assert_int_equal(tt_conn_state(&c), -1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_accept(c.lfd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
}

/*
 * TCP_USER_TIMEOUT bounds the handshake too (Linux's tcp_write_timeout in
 * SYN_SENT), from the first SYN: with 3000 ms, SYNs at 0 and 1 s, and at
 * 3 s connect() fails with ETIMEDOUT instead of sending the third. A
 * listener's child keeps its SYN-ACK retries (Linux's request sock knows
 * no user timeout).
 */
static void test_user_timeout_synsent(void **state)
{
	struct tt_conn c, p;
	int v = 3000;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st,
					   "net.ipv4.tcp_syn_linear_timeouts",
					   "0"), 0);
	tt_conn_init(&c, &T, true);
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT,
				       &v, sizeof(v)), 0);
	tt_open_synsent(&c);
	advance_to_edge(SEC);
	TT_EXPECT(&c, TCPHDR_SYN, c.iss, 0);
	ts_advance(&T, 2 * SEC - 1);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);

	tt_conn_init(&p, &T, false);
	p.lfd = tt_listen(&T, p.us_port, 8);
	assert_int_equal(us_setsockopt(p.lfd, IPPROTO_TCP, TCP_USER_TIMEOUT,
				       &v, sizeof(v)), 0);
	tt_open_synrecv(&p);
	advance_to_edge(SEC);
	TT_EXPECT(&p, TCPHDR_SYN | TCPHDR_ACK, p.iss, p.irs + 1);
	advance_to_edge(2 * SEC);
	TT_EXPECT(&p, TCPHDR_SYN | TCPHDR_ACK, p.iss, p.irs + 1);
	advance_to_edge(4 * SEC);
	TT_EXPECT(&p, TCPHDR_SYN | TCPHDR_ACK, p.iss, p.irs + 1);
	assert_int_equal(tt_conn_state(&p), TCP_SYN_RECV);
}

/* ---- the retransmission timer -------------------------------------------- */

/*
 * RTT 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + max(200, 200) = 300 ms.
 * Unacknowledged data goes again at 300 ms, then 600, 1200, 2400 ms after
 * each previous try (RFC 6298 §5.5), the same bytes each time.
 */
static void test_rto_backoff(void **state)
{
	struct tt_conn c;
	us_time_t gap = 300 * MS;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(rto_of(c.fd), 300000);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	for (int i = 0; i < 4; i++) {
		advance_to_edge(gap);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
		TT_EXPECT_NONE(&T);
		gap *= 2;
	}
	{
		struct tcp_info ti;

		tt_info(c.fd, &ti);
		assert_int_equal(ti.tcpi_backoff, 4);
		assert_int_equal(ti.tcpi_total_retrans, 4);
	}
	/* Acknowledged: no more. */
	c.rcv_nxt += 100;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	ts_advance(&T, 10 * SEC);
	TT_EXPECT_NONE(&T);
}

/* A small RTT: RTO is SRTT + 200 ms (Linux's tcp_rto_min acts as RFC
 * 6298's G), here 10 + 200 = 210 ms, not the bare 200 ms floor. */
static void test_rto_small_rtt(void **state)
{
	struct tt_conn c;

	(void)state;
	open_rtt(&c, 10 * MS);
	assert_int_equal(rto_of(c.fd), 210000);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	advance_to_edge(210 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
}

/*
 * Karn's algorithm (RFC 6298 §3, §5): the ACK of a retransmitted segment
 * gives no RTT sample, and the backed-off RTO stays for the next data;
 * the first valid sample ends the backoff and updates SRTT/RTTVAR by
 * 1/8 and 1/4: SRTT 90, RTTVAR 57.5, RTO 90 + 230 = 320 ms.
 */
static void test_karn(void **state)
{
	struct tt_conn c;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	advance_to_edge(300 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	ts_advance(&T, 50 * MS);
	c.rcv_nxt += 100;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);        /* ambiguous: no sample */
	TT_EXPECT_NONE(&T);

	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	advance_to_edge(600 * MS);                /* still backed off */
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	c.rcv_nxt += 100;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);

	/* A segment sent once, acknowledged 20 ms later: a sample. */
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	ts_advance(&T, 20 * MS);
	c.rcv_nxt += 100;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(rto_of(c.fd), 320000);
	{
		struct tcp_info ti;

		tt_info(c.fd, &ti);
		assert_int_equal(ti.tcpi_backoff, 0);
		assert_int_equal(ti.tcpi_rtt, 90000);
		assert_int_equal(ti.tcpi_rttvar, 57500);
	}
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	advance_to_edge(320 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
}

/* RFC 6298 §5.7: after a retransmitted SYN there is no RTT sample, and
 * data starts with an RTO of 3 s (Linux's TCP_TIMEOUT_FALLBACK). */
static void test_rto_3s_after_syn_retransmit(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	advance_to_edge(SEC);
	TT_EXPECT(&c, TCPHDR_SYN, c.iss, 0);
	ts_advance(&T, 100 * MS);
	c.snd_nxt = c.irs + 1;
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(rto_of(c.fd), 3000000);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	advance_to_edge(3 * SEC);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
}

/* The timer restarts when an ACK acknowledges new data (RFC 6298 §5.3):
 * what is still outstanding times out one RTO after that ACK. */
static void test_rto_restarts_on_ack(void **state)
{
	struct tt_conn c;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_send(c.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 1460);
	ts_advance(&T, 100 * MS);
	assert_int_equal(us_send(c.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&c, c.rcv_nxt + 1460, 1460);
	ts_advance(&T, 100 * MS);
	c.rcv_nxt += 1460;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);    /* first acked: RTT 200 ms */
	/* SRTT 112.5, RTTVAR 62.5: RTO 112.5 + 250 = 362.5 ms from now. */
	assert_int_equal(rto_of(c.fd), 362500);
	advance_to_edge(362500);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 1460);
}

/* Retransmissions stop after tcp_retries2 (15) timeouts with ETIMEDOUT;
 * the RTO doubles up to its 120 s ceiling on the way. */
static void test_rto_limit_etimedout(void **state)
{
	struct tt_conn c;
	us_time_t gap = 300 * MS;
	char b;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	for (int i = 0; i < 15; i++) {
		advance_to_edge(gap);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
		gap = gap * 2 > 120 * SEC ? 120 * SEC : gap * 2;
	}
	assert_int_equal(gap, 120 * SEC);
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(us_recv(c.fd, &b, 1, 0), -1);
	assert_int_equal(errno, ETIMEDOUT);
}

/* 10 bytes go, then close(): the FIN behind them; an orphan from now on. */
static void close_with_data(struct tt_conn *c)
{
	assert_int_equal(us_send(c->fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(c, c->rcv_nxt, 10);
	assert_int_equal(us_close(c->fd), 0);
	c->fd = -1;
	TT_EXPECT(c, TCPHDR_FIN | TCPHDR_ACK, c->rcv_nxt + 10, c->snd_nxt);
}

/* The data and the FIN behind it go again as one segment (Linux's
 * tcp_retrans_try_collapse). */
static void expect_data_fin(struct tt_conn *c, uint32_t len)
{
	const struct tt_seg *s = TT_EXPECT(c, TCPHDR_FIN | TCPHDR_PSH |
					   TCPHDR_ACK, c->rcv_nxt, c->snd_nxt);

	assert_int_equal(s->len, len);
}

/*
 * An orphan with data in flight: 10 bytes sent, then close(), the FIN
 * behind them; the peer is silent. Its retransmissions (RTO 300 ms,
 * doubling) are counted as tcp_retries2's are, but against Linux's
 * tcp_orphan_retries: `n` retransmissions go (the data with the FIN
 * merged in), and the next timeout ends it, in silence (no RST, as
 * Linux's tcp_write_err).
 */
static void orphan_retransmits(int n)
{
	struct tt_conn c;
	us_time_t gap = 300 * MS;

	open_rtt(&c, 100 * MS);
	close_with_data(&c);
	TT_EXPECT_NONE(&T);
	for (int i = 0; i < n; i++) {
		advance_to_edge(gap);
		expect_data_fin(&c, 10);
		TT_EXPECT_NONE(&T);
		gap = gap * 2 > 120 * SEC ? 120 * SEC : gap * 2;
	}
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT1);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/*
 * net.ipv4.tcp_orphan_retries at its default, 0: 8 while the connection
 * is alive, as a time (Linux's retransmits_timed_out with
 * tcp_model_timeout(8, TCP_RTO_MIN)): 102.2 s since the first
 * retransmission. Retransmissions at 0.3 s and then 0.6, 1.8, 4.2, 9.0,
 * 18.6, 37.8 and 76.2 s after it (8 in all); the next timeout, at 153 s,
 * is past 102.2 s and ends the orphan (an open socket goes on to 15:
 * test_rto_limit_etimedout). Set to 3: 3 backed off from 200 ms, 3.0 s:
 * retransmissions at 0.3 s, then 0.6 and 1.8 s after it; the end at
 * 4.2 s.
 */
static void test_rto_orphan_retries(void **state)
{
	(void)state;
	orphan_retransmits(8);
	fresh_stack();
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_orphan_retries",
					   "3"), 0);
	orphan_retransmits(3);
}

/* ---- fast retransmit ----------------------------------------------------- */

/*
 * RFC 5681 §3.2 / RFC 6582: the third duplicate ACK retransmits the first
 * unacknowledged segment at once (not the first or second); a partial ACK
 * in recovery retransmits the next hole; the ACK of everything ends
 * recovery. Run on connections whose ISS lies in both halves of the
 * sequence space, as the comparisons wrap.
 */
static void fast_retransmit_once(struct tt_conn *c)
{
	uint32_t una = c->rcv_nxt;
	uint64_t fr = tt_mib(&T, US_MIB_TCP_FAST_RETRANS);

	assert_int_equal(us_send(c->fd, BUF, 5 * 1460, 0), 5 * 1460);
	for (int i = 0; i < 5; i++)
		TT_EXPECT_DATA(c, una + 1460u * (uint32_t)i, 1460);
	/* Segment 1 lost; 2..4 arrive: three duplicate ACKs. */
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_DATA(c, una, 1460);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FAST_RETRANS), fr + 1);
	/* A fourth: no more retransmission. */
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	{
		struct tt_seg s;

		while (tt_pop(&T, &s))
			assert_int_not_equal(s.th.seq, una);
	}
	/* Partial ACK up to segment 3 (3 was lost too): resent at once. */
	c->rcv_nxt = una + 2 * 1460;
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_DATA(c, una + 2 * 1460, 1460);
	/* Everything acknowledged: done, nothing more goes. */
	c->rcv_nxt = una + 5 * 1460;
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	ts_advance(&T, 10 * SEC);
	TT_EXPECT_NONE(&T);
}

static void test_fast_retransmit(void **state)
{
	struct tt_conn c;
	int done[2] = { 0, 0 };

	(void)state;
	for (uint16_t port = 40000; port < 40064 && !(done[0] && done[1]);
	     port++) {
		int half;

		fresh_stack();
		tt_conn_init(&c, &T, false);
		c.peer_port = port;
		tt_open(&c);
		half = (c.iss & 0x80000000u) != 0;
		if (done[half])
			continue;
		print_message("ISS %#x\n", c.iss);
		fast_retransmit_once(&c);
		done[half] = 1;
	}
	assert_true(done[0] && done[1]);
}

/* Duplicate ACKs that update the window, or carry data, are not counted
 * (RFC 5681 §2): no fast retransmit. */
static void test_not_dupacks(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	assert_int_equal(us_send(c.fd, BUF, 3000, 0), 3000);
	ts_flush_tx(&T);
	for (int i = 0; i < 3; i++) {
		c.win = (uint16_t)(60000 + i);
		tt_peer(&c, TCPHDR_ACK, NULL, 0);
	}
	TT_EXPECT_NONE(&T);
	for (int i = 0; i < 3; i++) {
		tt_peer(&c, TCPHDR_ACK, "d", 1);
		TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt + 3000, c.snd_nxt);
	}
	TT_EXPECT_NONE(&T);
}

/* ---- zero-window probes -------------------------------------------------- */

/*
 * A zero window with data waiting: probes (an ACK carrying SND.UNA - 1,
 * RFC 9293 §3.8.6.1) at one RTO (300 ms), then 600, 1200, 2400 ms apart,
 * each answered by the peer with its window still 0. When the window
 * opens, the data goes at once, and its RTO is not backed off.
 */
static void test_zero_window_probes(void **state)
{
	struct tt_conn c;
	us_time_t gap = 300 * MS;

	(void)state;
	open_rtt(&c, 100 * MS);
	c.win = 0;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_NONE(&T);
	for (int i = 0; i < 5; i++) {
		const struct tt_seg *s;

		advance_to_edge(gap);
		s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
		assert_int_equal(s->len, 0);
		TT_EXPECT_NONE(&T);
		tt_peer(&c, TCPHDR_ACK, NULL, 0);
		TT_EXPECT_NONE(&T);
		gap *= 2;
	}
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	c.win = 65535;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	TT_EXPECT_NONE(&T);
	advance_to_edge(300 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
}

/* The next backed-off interval: doubled, at most TCP_RTO_MAX (120 s). */
static us_time_t next_gap(us_time_t gap)
{
	return gap * 2 > 120 * SEC ? 120 * SEC : gap * 2;
}

/* Data waits on a zero window (RTO 300 ms): the probe timer is armed. */
static void zero_window_with_data(struct tt_conn *c)
{
	open_rtt(c, 100 * MS);
	c->win = 0;
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_send(c->fd, BUF, 100, 0), 100);
	TT_EXPECT_NONE(&T);
}

/* n probes, gap apart, backing off from gap, each answered with the
 * window still closed or not; the next gap. */
static us_time_t probes(struct tt_conn *c, int n, us_time_t gap, bool answer)
{
	for (int i = 0; i < n; i++) {
		advance_to_edge(gap);
		TT_EXPECT(c, TCPHDR_ACK, c->rcv_nxt - 1, c->snd_nxt);
		TT_EXPECT_NONE(&T);
		if (answer)
			tt_peer(c, TCPHDR_ACK, NULL, 0);
		gap = next_gap(gap);
	}
	return gap;
}

/*
 * RFC 1122 §4.2.2.17 as Linux's tcp_probe_timer has it: the window is
 * probed for as long as the peer answers (20 probes here, more than
 * tcp_retries2), every answer setting the count back; when the peer falls
 * silent, 15 probes go unanswered and the connection ends at the next
 * one's time with ETIMEDOUT, without a segment.
 */
static void test_zero_window_probes_give_up(void **state)
{
	struct tt_conn c;
	us_time_t gap;

	(void)state;
	zero_window_with_data(&c);
	gap = probes(&c, 20, 300 * MS, true);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	gap = probes(&c, 15, gap, false);
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
}

/*
 * An orphan probing a zero window (closed with its data unsent, the FIN
 * behind it) is given up sooner (Linux's tcp_orphan_retries with the
 * sysctl at 0): after 8 unanswered probes; and, answered or not, once the
 * backoff reached TCP_RTO_MAX (9 probes from 300 ms: 300 ms << 9 is more
 * than 120 s), at the time the 10th would go. With the sysctl at 10, 10
 * probes go either way: the 10th at a backoff of 9, past TCP_RTO_MAX but
 * below 10 (Linux's icsk_backoff >= max_probes).
 */
static void orphan_probing(bool answer, int n)
{
	struct tt_conn c;
	us_time_t gap;

	zero_window_with_data(&c);
	assert_int_equal(us_close(c.fd), 0);
	c.fd = -1;
	TT_EXPECT_NONE(&T);
	gap = probes(&c, n, 300 * MS, answer);
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT1);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

static void test_zero_window_probes_orphan(void **state)
{
	(void)state;
	orphan_probing(false, 8);
	fresh_stack();
	orphan_probing(true, 9);
	for (int answer = 0; answer < 2; answer++) {
		fresh_stack();
		assert_int_equal(ustack_sysctl_set(T.st,
				 "net.ipv4.tcp_orphan_retries", "10"), 0);
		orphan_probing(answer, 10);
	}
}

static void set_max_orphans(const char *v)
{
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_max_orphans",
					   v), 0);
}

/*
 * net.ipv4.tcp_max_orphans (Linux's tcp_check_oom): at 1, a first
 * orphan with data in flight finishes as usual, but a second close()
 * makes two, and that one is reset at once (RST at its SND.NXT, past
 * its data and FIN) and gone; the first's timeouts go on (one orphan is
 * not more than 1). Lowered to 0, the first is reset at its next timeout
 * (Linux's tcp_out_of_resources: alive, so the peer is told). Each
 * counts in tcp.abort_on_memory, and the count of orphans is back at 0.
 */
static void test_too_many_orphans(void **state)
{
	struct tt_conn a, b;
	uint64_t oom = tt_mib(&T, US_MIB_TCP_ABORT_ON_MEMORY);

	(void)state;
	set_max_orphans("1");
	open_rtt(&a, 100 * MS);
	open_rtt(&b, 100 * MS);
	close_with_data(&a);
	close_with_data(&b);
	TT_EXPECT(&b, TCPHDR_RST | TCPHDR_ACK, b.rcv_nxt + 11, b.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&b), -1);
	assert_int_equal(tt_conn_state(&a), TCP_FIN_WAIT1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_ABORT_ON_MEMORY), oom + 1);
	assert_int_equal(T.st->tcp.orphans, 1);
	advance_to_edge(300 * MS);
	expect_data_fin(&a, 10);
	TT_EXPECT_NONE(&T);
	set_max_orphans("0");
	advance_to_edge(600 * MS);
	TT_EXPECT(&a, TCPHDR_RST | TCPHDR_ACK, a.rcv_nxt + 11, a.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&a), -1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_ABORT_ON_MEMORY), oom + 2);
	assert_int_equal(T.st->tcp.orphans, 0);
}

/*
 * An orphan whose FIN was acknowledged waits in FIN_WAIT2 for the peer's
 * (60 s): Linux waits in a timewait socket, which tcp_max_orphans does
 * not count. So with the limit at 1, a connection closed after one in
 * FIN_WAIT2 goes on; and with the limit at 0, close() in FIN_WAIT2 (after
 * shutdown) resets nothing.
 */
static void test_too_many_orphans_fin_wait2(void **state)
{
	struct tt_conn a, b, c;
	uint64_t oom = tt_mib(&T, US_MIB_TCP_ABORT_ON_MEMORY);

	(void)state;
	set_max_orphans("1");
	open_rtt(&a, 100 * MS);
	open_rtt(&b, 100 * MS);
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_close(a.fd), 0);
	a.fd = -1;
	TT_EXPECT(&a, TCPHDR_FIN | TCPHDR_ACK, a.rcv_nxt, a.snd_nxt);
	a.rcv_nxt++;
	tt_peer(&a, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&a), TCP_FIN_WAIT2);
	assert_int_equal(T.st->tcp.orphans, 0);
	close_with_data(&b);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&b), TCP_FIN_WAIT1);
	set_max_orphans("0");
	assert_int_equal(us_shutdown(c.fd, SHUT_WR), 0);
	TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	c.rcv_nxt++;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_close(c.fd), 0);
	c.fd = -1;
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_ABORT_ON_MEMORY), oom);
	assert_int_equal(T.st->tcp.orphans, 1);   /* b's */
}

/*
 * An orphan counts twice against tcp_max_orphans once it sent no data
 * for 2 * TCP_RTO_MAX (240 s): probing a zero window, its probes
 * answered, with tcp_orphan_retries at 15 so that they alone would go
 * on, it is reset at its first probe time past 240 s (273.3 s, after 9
 * probes) when the limit is 1 (2 > 1), and probes on at 2. An orphan
 * that finishes (its FIN acknowledged, the peer's FIN, TIME_WAIT) leaves
 * the count.
 */
static void orphan_idle(int max_orphans, bool reset)
{
	struct tt_conn c;
	us_time_t gap;
	char v[8];

	snprintf(v, sizeof(v), "%d", max_orphans);
	set_max_orphans(v);
	assert_int_equal(ustack_sysctl_set(T.st,
			 "net.ipv4.tcp_orphan_retries", "15"), 0);
	zero_window_with_data(&c);
	assert_int_equal(us_close(c.fd), 0);
	c.fd = -1;
	gap = probes(&c, 9, 300 * MS, true);
	assert_int_equal(T.st->tcp.orphans, 1);
	advance_to_edge(gap);
	if (reset) {
		TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_conn_state(&c), -1);
		assert_int_equal(T.st->tcp.orphans, 0);
		return;
	}
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	/* The window opens: data and FIN go, are acknowledged, the peer's
	 * FIN ends it in TIME_WAIT. */
	c.win = 65535;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	{
		struct tt_seg seg;

		assert_true(tt_pop(&T, &seg));   /* the data, FIN on it */
		assert_int_equal(seg.th.seq, c.rcv_nxt);
		assert_int_equal(seg.len, 100);
		assert_true(seg.th.flags & TCPHDR_FIN);
	}
	TT_EXPECT_NONE(&T);
	c.rcv_nxt += 101;
	tt_peer(&c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	assert_int_equal(T.st->tcp.orphans, 0);
}

static void test_too_many_orphans_idle(void **state)
{
	(void)state;
	orphan_idle(1, true);
	fresh_stack();
	orphan_idle(2, false);
}

/*
 * Without SACK, the peer closes its window with data in flight: each
 * timeout sends the first segment past the window (Linux's
 * __tcp_retransmit_skb, RFC 1122 §4.2.2.17), and while the peer answers
 * these the connection lives, well beyond tcp_retries2 timeouts (Linux's
 * zero-window branch of tcp_retransmit_timer). When it falls silent, the
 * connection ends at the first timeout more than 240 s (2 * TCP_RTO_MAX)
 * after its last answer: 360 s, three timeouts of 120 s.
 */
/* 1000 bytes in flight, then the peer closes its window and answers 20
 * timeouts' retransmissions (past the window) with window 0 (1473 s). */
static void zero_window_answered(struct tt_conn *c)
{
	us_time_t gap = 300 * MS;

	open_rtt(c, 100 * MS);
	assert_int_equal(us_send(c->fd, BUF, 1000, 0), 1000);
	TT_EXPECT_DATA(c, c->rcv_nxt, 1000);
	c->win = 0;
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	for (int i = 0; i < 20; i++) {
		advance_to_edge(gap);
		TT_EXPECT_DATA(c, c->rcv_nxt, 1000);
		TT_EXPECT_NONE(&T);
		tt_peer(c, TCPHDR_ACK, NULL, 0);
		gap = next_gap(gap);
	}
}

static void test_rto_zero_window(void **state)
{
	struct tt_conn c;

	(void)state;
	zero_window_answered(&c);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	for (int i = 0; i < 2; i++) {
		advance_to_edge(120 * SEC);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 1000);
	}
	ts_advance(&T, 120 * SEC - 1);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
}

/*
 * The zero-window timeouts (answered) counted as retransmissions toward
 * tcp_retries2, so once the peer opened its window with a pure window
 * update, after more than 924.6 s of them, the next timeout ended the
 * connection instead of sending the data again. In Linux the zero-window
 * branch of tcp_retransmit_timer counts nothing (icsk_retransmits stays
 * 0): the first timeout after the window opens retransmits.
 */
static void test_rto_zero_window_then_open(void **state)
{
	struct tt_conn c;

	(void)state;
	zero_window_answered(&c);
	/* The window opens; the probe's data was dropped: it goes again at
	 * the next timeout, and the connection lives. */
	c.win = 65535;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	advance_to_edge(120 * SEC);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 1000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	c.rcv_nxt += 1000;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
}

static void set_int(int fd, int level, int opt, int v)
{
	assert_int_equal(us_setsockopt(fd, level, opt, &v, sizeof(v)), 0);
}

/* ---- a go-back cut at the window's end ---------------------------------- */

/* The send-buffer memory of fd's socket and its limit. */
static void wmem_of(int fd, int *wmem_alloc, int *sndbuf)
{
	int err;
	struct socket *sock = sockfd_lookup(fd, &err);

	assert_non_null(sock);
	*wmem_alloc = sock->sk->wmem_alloc;
	*sndbuf = sock->sk->sndbuf;
	sockfd_put(sock);
}

/*
 * After a timeout (without SACK here) the segments presumed lost go again
 * cut at the peer's window end (Linux's avail_wnd in
 * __tcp_retransmit_skb). A peer whose window end then moves a byte at a
 * time, acknowledging nothing, gets one piece of a byte and no more: the
 * pieces are in flight and count against the window of two, as in Linux,
 * so the cuts stop and the queue does not grow (when ustack went back to
 * SND.UNA, each update cut a new buffer off the rest, which Linux's bound
 * on cuts, TCPWQUEUETOOBIG, tcp_fragment_sent, had to stop). Once the
 * peer acknowledges what came, with room, the rest goes.
 */
static void test_rto_window_cut_in_flight(void **state)
{
	struct tt_conn c;
	struct tt_seg s;
	int wmem, sndbuf, ones = 0;
	uint32_t una, next;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_send(c.fd, BUF, 5 * 1460, 0), 5 * 1460);
	for (int i = 0; i < 5; i++)
		TT_EXPECT_DATA(&c, c.iss + 1 + (uint32_t)i * 1460, 1460);
	set_int(c.fd, SOL_SOCKET, SO_SNDBUF, 4096);   /* sndbuf 8192 */
	ts_advance(&T, rto_of(c.fd));
	TT_EXPECT_DATA(&c, c.iss + 1, 1460);
	TT_EXPECT_NONE(&T);
	/* The first comes back with a window of 100 bytes: 100 of the
	 * second go again (cwnd 2). */
	una = c.iss + 1461;
	c.win = 100;
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, una, NULL, 0);
	TT_EXPECT_DATA(&c, una, 100);
	TT_EXPECT_NONE(&T);
	/* Then 1000 window updates of one byte each. */
	next = una + 100;
	for (int i = 0; i < 1000; i++) {
		c.win++;
		tt_send(&c, TCPHDR_ACK, c.snd_nxt, una, NULL, 0);
		while (tt_pop(&T, &s)) {
			assert_int_equal(s.th.seq, next);
			assert_int_equal(s.len, 1);
			next++;
			ones++;
		}
	}
	assert_int_equal(ones, 1);
	wmem_of(c.fd, &wmem, &sndbuf);
	assert_int_equal(sndbuf, 8192);
	assert_true(wmem <= 5 * 4096);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_WQUEUE_TOO_BIG), 0);
	/* The peer acknowledges what came, with room: the rest goes. */
	c.win = 65535;
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, next, NULL, 0);
	while (tt_pop(&T, &s)) {
		assert_int_equal(s.th.seq, next);
		next += s.len;
		tt_send(&c, TCPHDR_ACK, c.snd_nxt, next, NULL, 0);
	}
	assert_int_equal(next, c.iss + 1 + 5 * 1460);
	wmem_of(c.fd, &wmem, &sndbuf);
	assert_int_equal(wmem, 0);
}

static bool undo_state_of(int fd)
{
	int err;
	struct socket *sock = sockfd_lookup(fd, &err);
	bool held;

	assert_non_null(sock);
	held = tcp_sk(sock->sk)->sack_rcv != NULL;
	sockfd_put(sock);
	return held;
}

/*
 * Without SACK the undo's state (tcp_undo.c) lives through its episode
 * only: the timeout makes it, and the ACK that passes the recovery point
 * frees it (nothing can undo the episode then: no D-SACK comes), so a
 * connection that once lost a segment keeps no more memory than one that
 * never did.
 */
static void test_undo_state_freed_after_episode(void **state)
{
	struct tt_conn c;
	uint32_t una;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_false(undo_state_of(c.fd));
	assert_int_equal(us_send(c.fd, BUF, 3 * 1460, 0), 3 * 1460);
	for (int i = 0; i < 3; i++)
		TT_EXPECT_DATA(&c, c.iss + 1 + (uint32_t)i * 1460, 1460);
	ts_advance(&T, rto_of(c.fd));
	TT_EXPECT_DATA(&c, c.iss + 1, 1460);
	TT_EXPECT_NONE(&T);
	assert_true(undo_state_of(c.fd));
	/* A partial ACK: the episode goes on, the next two go again. */
	una = c.iss + 1461;
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, una, NULL, 0);
	TT_EXPECT_DATA(&c, una, 1460);
	TT_EXPECT_DATA(&c, una + 1460, 1460);
	TT_EXPECT_NONE(&T);
	assert_true(undo_state_of(c.fd));
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, una + 2 * 1460, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_false(undo_state_of(c.fd));
}

/* ---- keepalive ----------------------------------------------------------- */

/*
 * SO_KEEPALIVE with TCP_KEEPIDLE 10 s, TCP_KEEPINTVL 2 s, TCP_KEEPCNT 3:
 * after 10 s idle a probe (SEG.SEQ = SND.UNA - 1, no data), then every
 * 2 s; an answer puts it back to sleep for 10 s from the answer; three
 * unanswered probes and at the fourth interval the connection is reset
 * with ETIMEDOUT.
 */
static void test_keepalive(void **state)
{
	struct tt_conn c;
	char b;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPINTVL, 2);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
	set_int(c.fd, SOL_SOCKET, SO_KEEPALIVE, 1);

	advance_to_edge(10 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1 * SEC);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);        /* answered */
	/* Next probe 10 s after the answer. */
	advance_to_edge(10 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	for (int i = 0; i < 2; i++) {
		advance_to_edge(2 * SEC);
		TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
		TT_EXPECT_NONE(&T);
	}
	advance_to_edge(2 * SEC);
	TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(us_recv(c.fd, &b, 1, 0), -1);
	assert_int_equal(errno, ETIMEDOUT);
}

/* Without SO_KEEPALIVE nothing is sent, however long the silence; data
 * received keeps a connection from being probed. */
static void test_keepalive_off_and_traffic(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	ts_advance(&T, 3 * 3600 * SEC);
	TT_EXPECT_NONE(&T);
	set_int(c.fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	for (int i = 0; i < 5; i++) {
		ts_advance(&T, 9 * SEC);
		tt_peer(&c, TCPHDR_ACK, "k", 1);
		TT_EXPECT_ACK(&c);
	}
	TT_EXPECT_NONE(&T);
	advance_to_edge(10 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
}

/* Keepalive 10 s / 2 s / 3 probes on, nothing to send: after 10 s of
 * silence from `since`, three probes 2 s apart, then RST and ETIMEDOUT. */
static void keepalive_runs_out(struct tt_conn *c)
{
	advance_to_edge(10 * SEC);
	TT_EXPECT(c, TCPHDR_ACK, c->rcv_nxt - 1, c->snd_nxt);
	for (int i = 0; i < 2; i++) {
		advance_to_edge(2 * SEC);
		TT_EXPECT(c, TCPHDR_ACK, c->rcv_nxt - 1, c->snd_nxt);
	}
	advance_to_edge(2 * SEC);
	TT_EXPECT(c, TCPHDR_RST | TCPHDR_ACK, c->rcv_nxt, c->snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(c), -1);
	assert_int_equal(tt_so_error(c->fd), ETIMEDOUT);
}

static void keepalive_10_2_3(int fd)
{
	set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, 2);
	set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, 3);
	set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
}

/* Linux's tcp_keepalive_timer probes in CLOSE_WAIT too: a peer that sent
 * its FIN and vanished is found out while we still hold the socket. */
static void test_keepalive_close_wait(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	keepalive_10_2_3(c.fd);
	ts_advance(&T, 5 * SEC);
	tt_to_close_wait(&c);
	keepalive_runs_out(&c);
}

/* ... and in FIN_WAIT2 with the socket open (half closed), where the
 * FIN_WAIT2 timeout does not apply; SO_KEEPALIVE set there arms it. */
static void test_keepalive_fin_wait2(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open(&c);
	tt_to_fin_wait2(&c, false);
	keepalive_10_2_3(c.fd);
	keepalive_runs_out(&c);
}

/*
 * Keepalive's idle time counts from the last acceptable ACK or data
 * (Linux's rcv_tstamp and lrcvtime), not from any segment: one out of the
 * window (answered with an ACK), or a reset out of it (answered with a
 * challenge ACK), which anyone may send, does not keep a connection whose
 * peer is gone from being probed at 10 s.
 */
static void test_keepalive_invalid_segments(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	keepalive_10_2_3(c.fd);
	ts_advance(&T, 4 * SEC);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 200000, c.rcv_nxt, "x", 1);
	TT_EXPECT_ACK(&c);
	ts_advance(&T, 2 * SEC);
	tt_send(&c, TCPHDR_RST, c.snd_nxt + 10, 0, NULL, 0);
	TT_EXPECT_ACK(&c);
	advance_to_edge(4 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	/* An answer is acceptable: the next probe is 10 s after it. */
	ts_advance(&T, SEC);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	advance_to_edge(10 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
}

/* While data is unacknowledged the retransmission timer watches the peer
 * and keepalive sends nothing ("alive without keepalive", Linux): with
 * keepalive at 1 s / 1 s / 1 probe, only retransmissions go out, and the
 * connection lives on. */
static void test_keepalive_quiet_while_unacked(void **state)
{
	struct tt_conn c;
	struct tt_seg s;
	int n = 0;

	(void)state;
	open_rtt(&c, 100 * MS);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPIDLE, 1);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPINTVL, 1);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPCNT, 1);
	set_int(c.fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	for (int i = 0; i < 100; i++)
		ts_advance(&T, 100 * MS);
	while (tt_pop(&T, &s)) {
		assert_int_equal(s.th.flags & ~TCPHDR_PSH, TCPHDR_ACK);
		assert_int_equal(s.th.seq, c.rcv_nxt);
		assert_int_equal(s.len, 100);
		n++;
	}
	assert_true(n >= 4);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	/* Acknowledged: now the idle connection is probed. */
	c.rcv_nxt += 100;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	advance_to_edge(SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
}

/* ---- TCP_USER_TIMEOUT ----------------------------------------------------- */

/*
 * Linux: with TCP_USER_TIMEOUT 1000 ms, data unacknowledged for 1 s since
 * its first retransmission aborts the connection (ETIMEDOUT, no RST),
 * long before tcp_retries2: retransmissions at 300 and 900 ms (RTO 300,
 * doubling), the next timeout clamped from 2100 ms to exactly 1300 ms.
 * (RFC 5482 counts from the first transmission; Linux 6.18 aborts at
 * 1.4 s in packetdrill's icmp/established-soft-error-timeout.pkt, where
 * the first retransmission is at 0.4 s.)
 */
static void test_user_timeout(void **state)
{
	struct tt_conn c;
	socklen_t len = sizeof(int);
	int v = -1;
	char b;

	(void)state;
	open_rtt(&c, 100 * MS);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v,
				       sizeof(v)), -1);
	assert_int_equal(errno, EINVAL);
	set_int(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1000);
	assert_int_equal(us_getsockopt(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &v,
				       &len), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	advance_to_edge(300 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	advance_to_edge(600 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	ts_advance(&T, 400 * MS - 1);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(us_recv(c.fd, &b, 1, 0), -1);
	assert_int_equal(errno, ETIMEDOUT);
}

/*
 * A user timeout longer than tcp_retries2 would last (about 924.6 s here)
 * overrides it too: at 1000 s the connection still retransmits, and it is
 * aborted 1800 s after the first retransmission, not before. An ACK of
 * new data restarts the clock.
 */
static void test_user_timeout_beyond_retries2(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	open_rtt(&c, 100 * MS);
	set_int(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 1800 * 1000);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	/* 5 s later the ACK: the next data's clock starts afresh. */
	ts_advance(&T, 5 * SEC);
	ts_flush_tx(&T);
	c.rcv_nxt += 10;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	/* Its first retransmission comes after the backed-off RTO (the
	 * ACK gave no sample: what it acknowledged had gone again). */
	tt_info(c.fd, &ti);
	assert_true(ti.tcpi_backoff > 0);
	ts_advance(&T, (us_time_t)ti.tcpi_rto << ti.tcpi_backoff);
	for (int i = 0; i < 1799; i++)
		ts_advance(&T, SEC);
	assert_true(ts_flush_tx(&T) > 15);
	ts_advance(&T, SEC - 1);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
}

/*
 * A user timeout of 10 hours: the RTO stays at 120 s, and more than 255
 * timeouts go (tcpi_retransmits stays at 255, rather than wrap and start
 * the clock again); the connection ends exactly 10 hours after the first
 * retransmission.
 */
static void test_user_timeout_hours(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	open_rtt(&c, 100 * MS);
	set_int(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 10 * 3600 * 1000);
	assert_int_equal(us_send(c.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	advance_to_edge(300 * MS);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 10);
	for (int i = 0; i < 600; i++) {
		ts_advance(&T, 60 * SEC - (i == 599));
		ts_flush_tx(&T);
	}
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_retransmits, 255);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
}

/* Linux: with TCP_USER_TIMEOUT, keepalive gives up once the silence
 * reached it and a probe went, not after TCP_KEEPCNT probes: idle 10 s,
 * probes every 2 s, user timeout 13 s: RST at 14 s (the second probe's
 * time), though TCP_KEEPCNT is 9. */
static void test_user_timeout_keepalive(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPIDLE, 10);
	set_int(c.fd, IPPROTO_TCP, TCP_KEEPINTVL, 2);
	set_int(c.fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 13000);
	set_int(c.fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	advance_to_edge(10 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	advance_to_edge(2 * SEC);
	TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
	advance_to_edge(2 * SEC);
	TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	assert_int_equal(tt_so_error(c.fd), ETIMEDOUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_syn_retries_then_etimedout),
		T_(test_syncnt),
		T_(test_synack_retries),
		T_(test_user_timeout_synsent),
		T_(test_rto_backoff),
		T_(test_rto_small_rtt),
		T_(test_karn),
		T_(test_rto_3s_after_syn_retransmit),
		T_(test_rto_restarts_on_ack),
		T_(test_rto_limit_etimedout),
		T_(test_rto_orphan_retries),
		T_(test_fast_retransmit),
		T_(test_not_dupacks),
		T_(test_zero_window_probes),
		T_(test_zero_window_probes_give_up),
		T_(test_zero_window_probes_orphan),
		T_(test_too_many_orphans),
		T_(test_too_many_orphans_idle),
		T_(test_too_many_orphans_fin_wait2),
		T_(test_rto_zero_window),
		T_(test_rto_zero_window_then_open),
		T_(test_rto_window_cut_in_flight),
		T_(test_undo_state_freed_after_episode),
		T_(test_keepalive),
		T_(test_keepalive_off_and_traffic),
		T_(test_keepalive_close_wait),
		T_(test_keepalive_fin_wait2),
		T_(test_keepalive_quiet_while_unacked),
		T_(test_keepalive_invalid_segments),
		T_(test_user_timeout),
		T_(test_user_timeout_beyond_retries2),
		T_(test_user_timeout_hours),
		T_(test_user_timeout_keepalive),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
