/*
 * test_tcp_timewait.c - TIME_WAIT entries (src/net/tcp/tcp_timewait.c)
 * against crafted peer segments in virtual time, case by case as Linux's
 * tcp_timewait_state_process decides them: the ACK that answers a
 * retransmitted FIN (its numbers, window and timestamps), a bare ACK that
 * restarts 2 MSL silently, RSTs in and out of sequence, PAWS (an old TSval
 * refused and answered, a RST with an old TSval let through only once
 * TS.Recent is an MSL old), a SYN reopening the pair by sequence number or
 * by timestamp, a SYN without a listener ACKed; bind() seeing the port of
 * an entry; and the memory an entry takes instead of a whole tcp_sock.
 *
 * The stack is 10.0.0.2; the peer 10.0.0.1 (lib/tcptest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "lib/tcptest.h"
#include "ustack/ustack.h"

static struct test_stack T;

/* ASan's count of heap bytes in use (the unit tests run under ASan;
 * <sanitizer/allocator_interface.h> is not always installed). */
size_t __sanitizer_get_current_allocated_bytes(void);

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

/* ---- the peer's timestamps --------------------------------------------- */

static size_t put_ts(uint8_t *p, uint32_t tsval, uint32_t tsecr)
{
	p[0] = TCPOPT_NOP;
	p[1] = TCPOPT_NOP;
	p[2] = TCPOPT_TIMESTAMP;
	p[3] = TCPOLEN_TIMESTAMP;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(tsval >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(tsecr >> (24 - 8 * i));
	}
	return 12;
}

/* A segment on c's four-tuple with a timestamp option. */
static void send_ts(struct tt_conn *c, uint8_t flags, uint32_t seq,
		    uint32_t ack, uint32_t tsval)
{
	uint8_t opt[12];

	tt_send_opt(c, flags, seq, ack, opt, put_ts(opt, tsval, 0), NULL, 0);
}

/* Active open with timestamps agreed: the SYN-ACK's TSval is tsval, so
 * TS.Recent = tsval from now. Each open takes a new ephemeral port. */
static void ts_open_fd(struct tt_conn *c, uint32_t tsval, int fd)
{
	uint8_t opt[16] = { TCPOPT_MSS, TCPOLEN_MSS, 1460 >> 8, 1460 & 0xff };
	const struct tt_seg *s;

	tt_conn_init(c, &T, true);
	c->fd = fd;
	s = tt_open_synsent(c);
	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN | TCPHDR_ACK, c->irs, c->rcv_nxt, opt,
		    4 + put_ts(opt + 4, tsval, s->th.opts.tsval), NULL, 0);
	s = TT_EXPECT_ACK(c);
	assert_true(s->th.opts.ts_ok);
}

static void ts_open(struct tt_conn *c, uint32_t tsval)
{
	ts_open_fd(c, tsval, -1);
}

/* ... then to TIME_WAIT as an orphan, the usual way (segments without
 * timestamps, which leave TS.Recent alone). */
static void ts_time_wait(struct tt_conn *c, uint32_t tsval)
{
	ts_open(c, tsval);
	tt_to_time_wait(c, true);
}

/* What the last timestamped ACK of the stack echoed. */
static uint32_t fin_again_echo(struct tt_conn *c)
{
	const struct tt_seg *s;

	tt_send(c, TCPHDR_FIN | TCPHDR_ACK, c->snd_nxt - 1, c->rcv_nxt, NULL, 0);
	s = TT_EXPECT_ACK(c);
	assert_true(s->th.opts.ts_ok);
	return s->th.opts.tsecr;
}

/* ---- cases --------------------------------------------------------------- */

/*
 * The peer's FIN again (our ACK was lost): answered at once, every time
 * (a FIN is not rate-limited), with SND.NXT/RCV.NXT, the window offered
 * last (unchanged by the FIN), TS.Recent echoed and our clock moving on.
 */
static void test_fin_retransmit_acked(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint32_t tsval, win;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	tt_to_fin_wait2(&c, true);
	tt_peer(&c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	s = TT_EXPECT_ACK(&c);
	win = s->th.window;
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	for (int i = 0; i < 3; i++) {
		tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt,
			NULL, 0);
		s = TT_EXPECT_ACK(&c);
		assert_int_equal(s->th.window, win);
		assert_false(s->th.opts.ts_ok);
	}

	ts_time_wait(&c, 5000);
	tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt, NULL, 0);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsecr, 5000);
	tsval = s->th.opts.tsval;
	ts_advance(&T, 250000);
	assert_int_equal(fin_again_echo(&c), 5000);
	tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt, NULL, 0);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsval, tsval + 250);
}

/* A bare ACK at RCV.NXT: no answer (no ACK loop with a peer in TIME_WAIT
 * too), 2 MSL from then on, and a newer TSval becomes TS.Recent. */
static void test_bare_ack_restarts(void **state)
{
	struct tt_conn c;

	(void)state;
	ts_time_wait(&c, 5000);
	ts_advance(&T, 40 * US_USEC_PER_SEC);
	send_ts(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, 6000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(fin_again_echo(&c), 6000);
	ts_advance(&T, 60 * US_USEC_PER_SEC - 1);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	ts_advance(&T, 1);
	assert_int_equal(tt_conn_state(&c), -1);
	assert_int_equal(T.st->tcp.tw_count, 0);
}

/* RFC 1337's hazard as Linux takes it (tcp_rfc1337 = 0): a RST at
 * RCV.NXT ends TIME_WAIT; anywhere else it is ignored, unanswered. */
static void test_rst(void **state)
{
	struct tt_conn c;
	uint64_t drops;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	tt_to_time_wait(&c, true);
	drops = tt_drops(&T, US_DROP_TCP_RESET);
	tt_send(&c, TCPHDR_RST, c.snd_nxt + 1, 0, NULL, 0);
	tt_send(&c, TCPHDR_RST | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	tt_send(&c, TCPHDR_RST, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RESET), drops + 3);
	/* Gone: the next segment is answered by a RST, as CLOSED does. */
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.rcv_nxt, 0);
}

/*
 * PAWS (RFC 7323 §5.3 R1, Linux's tcp_paws_reject): a bare ACK at RCV.NXT
 * with a TSval older than TS.Recent is not taken: counted, answered (an
 * out-of-window ACK, rate-limited) and TS.Recent stays. A RST with an old
 * TSval is refused too, until TS.Recent is an MSL (60 s) old.
 */
static void test_paws(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint64_t mib = tt_mib(&T, US_MIB_TCP_PAWS_TW_REJECTED);

	(void)state;
	ts_time_wait(&c, 5000);
	send_ts(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, 4000);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsecr, 5000);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PAWS_TW_REJECTED), mib + 1);
	send_ts(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, 4001);
	TT_EXPECT_NONE(&T);             /* within 500 ms of the last answer */
	assert_int_equal(fin_again_echo(&c), 5000);

	send_ts(&c, TCPHDR_RST, c.snd_nxt, 0, 4000);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PAWS_TW_REJECTED), mib + 3);

	/* TS.Recent set at the open, TIME_WAIT entered 50 s later: a RST
	 * with an old TSval passes once TS.Recent is 60 s old. */
	ts_open(&c, 7000);
	ts_advance(&T, 50 * US_USEC_PER_SEC);
	tt_to_time_wait(&c, true);
	ts_advance(&T, 10 * US_USEC_PER_SEC - 1);
	send_ts(&c, TCPHDR_RST, c.snd_nxt, 0, 6000);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PAWS_TW_REJECTED), mib + 4);
	ts_advance(&T, 1);
	send_ts(&c, TCPHDR_RST, c.snd_nxt, 0, 6000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/*
 * A SYN may reopen the pair (RFC 6191) when a listener has the port: above
 * RCV.NXT, or below it with a newer timestamp (Linux); the new ISN starts
 * 64 KB above what the old connection sent. A SYN that is neither, or one
 * nobody listens for, is ACKed and the entry stays.
 */
static void test_syn(void **state)
{
	static struct tt_seg synack;
	struct tt_conn c;
	const struct tt_seg *s;
	uint8_t opt[16] = { TCPOPT_MSS, TCPOLEN_MSS, 1460 >> 8, 1460 & 0xff };

	(void)state;
	/* Passive, without timestamps: by sequence number. */
	tt_conn_init(&c, &T, false);
	tt_open(&c);
	tt_to_time_wait(&c, false);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt - 100, 0, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt + 1000, 0, NULL, 0);
	s = TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.rcv_nxt + 65537,
		      c.snd_nxt + 1001);
	(void)s;
	assert_int_equal(tt_conn_state(&c), TCP_SYN_RECV);
	assert_int_equal(T.st->tcp.tw_count, 0);
	/* (The listener's close resets the new child: Linux's too.) */
	us_close(c.fd);
	us_close(c.lfd);
	TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, c.rcv_nxt + 65538,
		  c.snd_nxt + 1001);

	/* Active (nobody listens on our port): ACKed, even twice at once
	 * (Linux's TCP_TW_SYN falls through to an ACK without the rate
	 * limit). */
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	tt_to_time_wait(&c, true);
	for (int i = 0; i < 2; i++) {
		tt_send(&c, TCPHDR_SYN, c.snd_nxt + 1000, 0, NULL, 0);
		TT_EXPECT_ACK(&c);
	}
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);

	/* A listener and timestamps: a SYN below RCV.NXT with a newer
	 * TSval reopens; with an older one it is refused and ACKed. */
	ts_destroy(&T);
	tt_stack_init(&T);
	tt_conn_init(&c, &T, false);
	c.lfd = tt_listen(&T, c.us_port, 8);
	c.snd_nxt = c.irs + 1;
	tt_send_opt(&c, TCPHDR_SYN, c.irs, 0, opt, 4 + put_ts(opt + 4, 5000, 0),
		    NULL, 0);
	assert_true(tt_pop(&T, &synack));
	assert_int_equal(synack.th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_true(synack.th.opts.ts_ok);
	c.iss = synack.th.seq;
	c.rcv_nxt = c.iss + 1;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	c.fd = us_accept4(c.lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(c.fd >= 0);
	tt_to_time_wait(&c, true);
	send_ts(&c, TCPHDR_SYN, c.snd_nxt - 100, 0, 4000);
	TT_EXPECT_ACK(&c);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	send_ts(&c, TCPHDR_SYN, c.snd_nxt - 100, 0, 6000);
	TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.rcv_nxt + 65537,
		  c.snd_nxt - 99);
	assert_int_equal(tt_conn_state(&c), TCP_SYN_RECV);
}

/*
 * An entry holds its port as its socket did (Linux keeps the bind bucket):
 * bind() to it fails without SO_REUSEADDR and works with it (the accepted
 * socket had it from its listener); connect() does not take the
 * four-tuple again (test_tcp_port). A socket the user still holds shows
 * CLOSED, as on Linux, and is left alone by the entry's end.
 */
static void test_port_held(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct tt_conn c;
	int one = 1, fd;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open(&c);
	tt_to_time_wait(&c, false);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
	us_close(c.fd);
	us_close(c.lfd);
	sin.sin_port = htons(c.us_port);
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	us_close(fd);
	/* 2 MSL later the port is free for anyone. */
	ts_advance(&T, 2 * T.st->tcp.msl_us);
	assert_int_equal(tt_conn_state(&c), -1);
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	us_close(fd);
}

/*
 * connect() from the bound port takes a TIME_WAIT entry with timestamps
 * over, and its TS.Recent too (Linux's tcp_twsk_unique): a SYN of a
 * simultaneous open with a TSval older than the old connection's is that
 * connection's, and PAWS drops it (tcp_rcv_synsent_state_process); one
 * with a newer TSval gets the SYN-ACK.
 */
static void test_bound_connect_takes_ts_recent(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct tt_conn c, n;
	const struct tt_seg *s;
	int one = 1, fd[2];

	(void)state;
	for (int i = 0; i < 2; i++) {
		fd[i] = us_socket_on(T.st, AF_INET,
				     SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(fd[i] >= 0);
		assert_int_equal(us_setsockopt(fd[i], SOL_SOCKET,
					       SO_REUSEADDR, &one,
					       sizeof(one)), 0);
	}
	ts_open_fd(&c, 5000, fd[0]);
	tt_to_time_wait(&c, true);
	n = c;
	n.fd = fd[1];
	sin.sin_port = htons(c.us_port);
	if (us_bind(n.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		fail_msg("bind %u: errno %d", c.us_port, errno);
	s = tt_open_synsent(&n);
	assert_true(s->th.opts.ts_ok);
	n.irs = 0x20000000;
	send_ts(&n, TCPHDR_SYN, n.irs, 0, 4000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(n.fd), TCP_SYN_SENT);
	send_ts(&n, TCPHDR_SYN, n.irs, 0, 5001);
	s = TT_EXPECT(&n, TCPHDR_SYN | TCPHDR_ACK, n.iss, n.irs + 1);
	assert_int_equal(s->th.opts.tsecr, 5001);
	assert_int_equal(tt_state(n.fd), TCP_SYN_RECV);
	us_close(n.fd);
}

/*
 * Memory: connections in TIME_WAIT keep an entry each, not their
 * tcp_sock. Heap bytes per connection once N of them are TIME_WAIT
 * orphans, against the same N established (socket, tcp_sock, fd slot).
 */
static void test_memory_per_entry(void **state)
{
	enum { N = 2000 };
	static struct tt_conn c[N];
	size_t before, open, tw;

	(void)state;
	/* One connection first, so that caches of the path exist. */
	tt_conn_init(&c[0], &T, true);
	tt_open(&c[0]);
	tt_to_time_wait(&c[0], true);
	tt_send(&c[0], TCPHDR_RST, c[0].snd_nxt, 0, NULL, 0);
	ts_flush_tx(&T);
	before = __sanitizer_get_current_allocated_bytes();
	for (int i = 0; i < N; i++) {
		tt_conn_init(&c[i], &T, true);
		c[i].peer_port = (uint16_t)(1000 + i);
		tt_open(&c[i]);
	}
	ts_flush_tx(&T);
	open = __sanitizer_get_current_allocated_bytes();
	for (int i = 0; i < N; i++)
		tt_to_time_wait(&c[i], true);
	ts_flush_tx(&T);
	tw = __sanitizer_get_current_allocated_bytes();
	assert_int_equal(T.st->tcp.tw_count, N);
	print_message("bytes per connection: established %zu, TIME_WAIT %zu "
		      "(struct tcp_tw %zu, struct tcp_sock %zu)\n",
		      (open - before) / N, (tw - before) / N,
		      sizeof(struct tcp_tw), sizeof(struct tcp_sock));
	assert_true(sizeof(struct tcp_tw) <= 128);
	/* The entry, its share of the table's chains, allocator slack. */
	assert_true(tw > before);
	assert_true((tw - before) / N <= 2 * sizeof(struct tcp_tw));
	assert_true((open - before) / N > sizeof(struct tcp_sock));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, ts_teardown)
		T_(test_fin_retransmit_acked),
		T_(test_bare_ack_restarts),
		T_(test_rst),
		T_(test_paws),
		T_(test_syn),
		T_(test_bound_connect_takes_ts_recent),
		T_(test_port_held),
		T_(test_memory_per_entry),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
