/*
 * test_tcp_state.c - the RFC 9293 §3.10.7 tables, state by state, on
 * connections driven by crafted peer segments in virtual time: a fixture
 * reaches each state (active and passive, with the user's socket still
 * open or closed), then each row is tried on a fresh connection: an
 * unacceptable sequence number, RST exact / in the window / outside it,
 * SYN in a synchronized state, ACKs of unsent and of ancient data, and FIN
 * in every state with the transitions it makes, TIME_WAIT's 2 MSL, and the
 * poll mask of each state.
 *
 * The stack is 10.0.0.2; the peer 10.0.0.1. Where Linux and RFC 9293 differ
 * the test follows Linux (the reference) and says so.
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
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "lib/tcptest.h"
#include "ustack/ustack.h"

static struct test_stack T;

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

/* Every state a fixture reaches; orphan = the user closed the socket. */
enum fix {
	F_SYN_RECV, F_EST_ACTIVE, F_EST_PASSIVE, F_FIN_WAIT1, F_FIN_WAIT1_ORPHAN,
	F_FIN_WAIT2, F_FIN_WAIT2_ORPHAN, F_CLOSE_WAIT, F_CLOSING,
	F_CLOSING_ORPHAN, F_LAST_ACK, F_LAST_ACK_ORPHAN, F_TIME_WAIT,
	F_TIME_WAIT_ORPHAN, F_MAX
};

static const struct {
	const char *name;
	int state;
} fixes[F_MAX] = {
	[F_SYN_RECV] = { "SYN_RECV", TCP_SYN_RECV },
	[F_EST_ACTIVE] = { "ESTABLISHED (active)", TCP_ESTABLISHED },
	[F_EST_PASSIVE] = { "ESTABLISHED (passive)", TCP_ESTABLISHED },
	[F_FIN_WAIT1] = { "FIN_WAIT1", TCP_FIN_WAIT1 },
	[F_FIN_WAIT1_ORPHAN] = { "FIN_WAIT1 (closed)", TCP_FIN_WAIT1 },
	[F_FIN_WAIT2] = { "FIN_WAIT2", TCP_FIN_WAIT2 },
	[F_FIN_WAIT2_ORPHAN] = { "FIN_WAIT2 (closed)", TCP_FIN_WAIT2 },
	[F_CLOSE_WAIT] = { "CLOSE_WAIT", TCP_CLOSE_WAIT },
	[F_CLOSING] = { "CLOSING", TCP_CLOSING },
	[F_CLOSING_ORPHAN] = { "CLOSING (closed)", TCP_CLOSING },
	[F_LAST_ACK] = { "LAST_ACK", TCP_LAST_ACK },
	[F_LAST_ACK_ORPHAN] = { "LAST_ACK (closed)", TCP_LAST_ACK },
	[F_TIME_WAIT] = { "TIME_WAIT", TCP_TIME_WAIT },
	[F_TIME_WAIT_ORPHAN] = { "TIME_WAIT (closed)", TCP_TIME_WAIT },
};

/* A fresh stack and a connection in fixture f (the stack is torn down and
 * made again, so each row starts clean). Active opens for the closing
 * states alternate with passive ones, so both kinds are covered. */
static void enter(struct tt_conn *c, enum fix f)
{
	ts_flush_tx(&T);
	ts_destroy(&T);
	tt_stack_init(&T);
	tt_conn_init(c, &T, f != F_SYN_RECV && f != F_EST_PASSIVE && (f & 1));
	print_message("  in %s\n", fixes[f].name);
	switch (f) {
	case F_SYN_RECV:
		tt_open_synrecv(c);
		return;
	case F_EST_ACTIVE:
	case F_EST_PASSIVE:
		tt_open(c);
		return;
	default:
		break;
	}
	tt_open(c);
	switch (f) {
	case F_FIN_WAIT1:
	case F_FIN_WAIT1_ORPHAN:
		tt_to_fin_wait1(c, f == F_FIN_WAIT1_ORPHAN);
		break;
	case F_FIN_WAIT2:
	case F_FIN_WAIT2_ORPHAN:
		tt_to_fin_wait2(c, f == F_FIN_WAIT2_ORPHAN);
		break;
	case F_CLOSE_WAIT:
		tt_to_close_wait(c);
		break;
	case F_CLOSING:
	case F_CLOSING_ORPHAN:
		tt_to_closing(c, f == F_CLOSING_ORPHAN);
		break;
	case F_LAST_ACK:
	case F_LAST_ACK_ORPHAN:
		tt_to_last_ack(c, f == F_LAST_ACK_ORPHAN);
		break;
	case F_TIME_WAIT:
	case F_TIME_WAIT_ORPHAN:
		tt_to_time_wait(c, f == F_TIME_WAIT_ORPHAN);
		break;
	default:
		break;
	}
}

static void assert_state(struct tt_conn *c, int want)
{
	int got = tt_conn_state(c);

	if (got != want)
		print_error("state %s, expected %s\n", tt_state_name(got),
			    tt_state_name(want));
	assert_int_equal(got, want);
}

/* The fd's errno after a reset: SO_ERROR (0 for an orphan). */
static int fd_error(struct tt_conn *c)
{
	return c->fd >= 0 ? tt_so_error(c->fd) : 0;
}

static int fionread(int fd)
{
	int n = -1;

	assert_int_equal(us_ioctl(fd, FIONREAD, &n), 0);
	return n;
}

/* Our FIN is out and not yet acknowledged. */
static bool our_fin_unacked(int st)
{
	return st == TCP_FIN_WAIT1 || st == TCP_CLOSING || st == TCP_LAST_ACK;
}

/* States whose §3.10.7.4 rows are the common ones (not SYN_RECV or
 * TIME_WAIT, which have their own). */
static const enum fix synced[] = {
	F_EST_ACTIVE, F_EST_PASSIVE, F_FIN_WAIT1, F_FIN_WAIT1_ORPHAN,
	F_FIN_WAIT2, F_FIN_WAIT2_ORPHAN, F_CLOSE_WAIT, F_CLOSING,
	F_CLOSING_ORPHAN, F_LAST_ACK, F_LAST_ACK_ORPHAN,
};
#define N_SYNCED (sizeof(synced) / sizeof(synced[0]))

/* ---- the fixtures themselves -------------------------------------------- */

static void test_fixtures_reach_each_state(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int f = 0; f < F_MAX; f++) {
		enter(&c, (enum fix)f);
		assert_state(&c, fixes[f].state);
		TT_EXPECT_NONE(&T);
	}
}

/* ---- first check: sequence number (§3.10.7.4) --------------------------- */

/*
 * A segment outside the receive window is answered with an ACK of what we
 * expect and dropped, in every synchronized state including SYN_RECV and
 * TIME_WAIT (Linux's tcp_validate_incoming / tcp_timewait_state_process).
 */
static void test_unacceptable_seq_acked_and_dropped(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int f = 0; f < F_MAX; f++) {
		for (int old = 0; old < 2; old++) {
			uint64_t drops;
			/* beyond the right edge, or wholly before RCV.NXT */
			uint32_t seq;

			enter(&c, (enum fix)f);
			seq = old ? c.snd_nxt - 3000 : c.snd_nxt + 70000;
			drops = tt_drops(&T, US_DROP_TCP_INVALID_SEQ);
			tt_send(&c, TCPHDR_ACK, seq, c.rcv_nxt, "0123456789", 10);
			TT_EXPECT_ACK(&c);
			TT_EXPECT_NONE(&T);
			assert_int_equal(tt_drops(&T, US_DROP_TCP_INVALID_SEQ),
					 drops + 1);
			assert_state(&c, fixes[f].state);
			if (c.fd >= 0 && fixes[f].state != TCP_CLOSE_WAIT &&
			    fixes[f].state < TCP_TIME_WAIT)
				assert_int_equal(fionread(c.fd), 0);
		}
	}
}

/* ---- second check: RST -------------------------------------------------- */

/* RST at RCV.NXT: the connection is reset; the user sees ECONNRESET, or
 * EPIPE in CLOSE_WAIT (Linux's tcp_reset); nothing is sent back. */
static void test_rst_exact_resets(void **state)
{
	static const struct {
		enum fix f;
		int err;
	} rows[] = {
		{ F_EST_ACTIVE, ECONNRESET }, { F_EST_PASSIVE, ECONNRESET },
		{ F_FIN_WAIT1, ECONNRESET }, { F_FIN_WAIT1_ORPHAN, 0 },
		{ F_FIN_WAIT2, ECONNRESET }, { F_FIN_WAIT2_ORPHAN, 0 },
		{ F_CLOSE_WAIT, EPIPE }, { F_CLOSING, ECONNRESET },
		{ F_CLOSING_ORPHAN, 0 }, { F_LAST_ACK, ECONNRESET },
		{ F_LAST_ACK_ORPHAN, 0 },
		/* TIME_WAIT: Linux (tcp_rfc1337 = 0) lets a RST end it; the
		 * user's socket is already finished, with no error. */
		{ F_TIME_WAIT, 0 }, { F_TIME_WAIT_ORPHAN, 0 },
	};
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enter(&c, rows[i].f);
		tt_send(&c, TCPHDR_RST | TCPHDR_ACK, c.snd_nxt, c.rcv_nxt,
			NULL, 0);
		TT_EXPECT_NONE(&T);
		assert_state(&c, -1);
		if (c.fd >= 0) {
			assert_int_equal(tt_state(c.fd), TCP_CLOSE);
			assert_int_equal(fd_error(&c), rows[i].err);
			assert_int_equal(fd_error(&c), 0);   /* read once */
		}
	}
}

/* The RST of the embryonic connection: the child goes, quietly; the
 * listener carries on. */
static void test_rst_exact_in_syn_recv(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open_synrecv(&c);
	tt_send(&c, TCPHDR_RST, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_state(&c, -1);
	assert_int_equal(us_accept(c.lfd, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	/* The same peer may try again. */
	c.irs += 100000;
	tt_open(&c);
}

/*
 * RFC 5961 §3.2: a RST in the window but not at RCV.NXT gets a challenge
 * ACK and changes nothing. In SYN_RECV too: ustack applies RFC 5961 to the
 * embryonic connection, where Linux's request socket drops itself on any
 * in-window RST (a deliberate difference: a blind RST should not kill it).
 */
static void test_rst_in_window_challenge_ack(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int f = 0; f < F_MAX; f++) {
		uint64_t acks;

		if (fixes[f].state == TCP_TIME_WAIT)
			continue;
		enter(&c, (enum fix)f);
		acks = tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS);
		tt_send(&c, TCPHDR_RST, c.snd_nxt + 1, 0, NULL, 0);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS), acks + 1);
		assert_state(&c, fixes[f].state);
		assert_int_equal(fd_error(&c), 0);
	}
}

/* A RST outside the window is dropped without an answer. */
static void test_rst_out_of_window_dropped(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int f = 0; f < F_MAX; f++) {
		for (int old = 0; old < 2; old++) {
			uint64_t drops;

			enter(&c, (enum fix)f);
			drops = tt_drops(&T, US_DROP_TCP_INVALID_SEQ);
			tt_send(&c, TCPHDR_RST, old ? c.snd_nxt - 3000
						    : c.snd_nxt + 70000,
				0, NULL, 0);
			TT_EXPECT_NONE(&T);
			assert_state(&c, fixes[f].state);
			assert_int_equal(fd_error(&c), 0);
			if (fixes[f].state != TCP_TIME_WAIT)
				assert_int_equal(tt_drops(&T,
						 US_DROP_TCP_INVALID_SEQ),
						 drops + 1);
		}
	}
}

/*
 * After the peer's FIN, a RST may carry the FIN's own sequence number
 * (RCV.NXT - 1); Linux accepts it in CLOSE_WAIT, CLOSING and LAST_ACK
 * (tcp_reset_check), and so does ustack.
 */
static void test_rst_at_fin_seq_after_fin(void **state)
{
	static const enum fix rows[] = { F_CLOSE_WAIT, F_CLOSING,
					 F_CLOSING_ORPHAN, F_LAST_ACK,
					 F_LAST_ACK_ORPHAN };
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enter(&c, rows[i]);
		tt_send(&c, TCPHDR_RST, c.snd_nxt - 1, 0, NULL, 0);
		TT_EXPECT_NONE(&T);
		assert_state(&c, -1);
		if (c.fd >= 0)
			assert_int_equal(fd_error(&c), rows[i] == F_CLOSE_WAIT
					 ? EPIPE : ECONNRESET);
	}
}

/* ---- fourth check: SYN -------------------------------------------------- */

/* RFC 5961 §4.2: a SYN in a synchronized state, in the window or not, gets
 * a challenge ACK and is dropped. */
static void test_syn_in_synchronized_states(void **state)
{
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < N_SYNCED; i++) {
		for (int where = 0; where < 2; where++) {
			uint64_t drops, acks;

			enter(&c, synced[i]);
			drops = tt_drops(&T, US_DROP_TCP_SYN_IN_WINDOW);
			acks = tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS);
			tt_send(&c, TCPHDR_SYN, where ? c.snd_nxt + 70000
						      : c.snd_nxt + 5, 0,
				NULL, 0);
			TT_EXPECT_ACK(&c);
			TT_EXPECT_NONE(&T);
			assert_state(&c, fixes[synced[i]].state);
			assert_int_equal(fd_error(&c), 0);
			if (!where) {
				assert_int_equal(tt_drops(&T,
						 US_DROP_TCP_SYN_IN_WINDOW),
						 drops + 1);
				assert_int_equal(tt_mib(&T,
						 US_MIB_TCP_CHALLENGE_ACKS),
						 acks + 1);
			}
		}
	}
}

/* SYN_RECV: the peer's SYN again means our SYN-ACK was lost: it is sent
 * again, and the handshake still completes. */
static void test_syn_recv_retransmitted_syn(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open_synrecv(&c);
	tt_send(&c, TCPHDR_SYN, c.irs, 0, NULL, 0);
	TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.iss, c.irs + 1);
	TT_EXPECT_NONE(&T);
	assert_state(&c, TCP_SYN_RECV);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_state(&c, TCP_ESTABLISHED);
	TT_EXPECT_NONE(&T);
}

/* ---- fifth check: ACK --------------------------------------------------- */

/*
 * An ACK of data never sent (SEG.ACK > SND.NXT): RFC 9293 and RFC 5961
 * §5.2 say send an ACK and drop the segment, which Linux does since 7.1.
 * In SYN_RECV such an ACK gets a RST (§3.10.7.4, SYN-RECEIVED).
 */
static void test_ack_of_unsent_data(void **state)
{
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < N_SYNCED; i++) {
		uint64_t drops;

		enter(&c, synced[i]);
		drops = tt_drops(&T, US_DROP_TCP_ACK_UNSENT);
		tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt + 1000,
			"abcdefghij", 10);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_ACK_UNSENT), drops + 1);
		assert_state(&c, fixes[synced[i]].state);
		if (c.fd >= 0 && fixes[synced[i]].state != TCP_CLOSE_WAIT &&
		    fixes[synced[i]].state != TCP_LAST_ACK &&
		    fixes[synced[i]].state != TCP_CLOSING)
			assert_int_equal(fionread(c.fd), 0);
	}

	enter(&c, F_SYN_RECV);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt + 1000, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.rcv_nxt + 1000, 0);
	TT_EXPECT_NONE(&T);
	assert_state(&c, TCP_SYN_RECV);
	/* And one that acknowledges nothing new (our ISN): RST too. */
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.iss, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.iss, 0);
	assert_state(&c, TCP_SYN_RECV);
}

/* The stack sends n bytes on c and the peer acknowledges them. */
static void send_and_ack(struct tt_conn *c, size_t n)
{
	char buf[1000];

	assert_true(n <= sizeof(buf));
	memset(buf, 'x', n);
	assert_int_equal(us_send(c->fd, buf, n, MSG_DONTWAIT), (ssize_t)n);
	TT_EXPECT_DATA(c, c->rcv_nxt, (uint32_t)n);
	c->rcv_nxt += (uint32_t)n;
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(c->t);
}

/*
 * An old ACK (below SND.UNA) within the window the peer could have had
 * outstanding is a duplicate, and the segment's data still counts; one
 * older than SND.UNA - MAX.SND.WND is RFC 5961 §5.2's blind-injection
 * case: challenge ACK, data dropped (Linux: TCP_TOO_OLD_ACK).
 */
static void test_ack_below_snd_una(void **state)
{
	struct tt_conn c;
	char buf[16];

	(void)state;
	for (int active = 0; active < 2; active++) {
		enter(&c, active ? F_EST_ACTIVE : F_EST_PASSIVE);
		send_and_ack(&c, 100);
		tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt - 50, "old-ack", 7);
		c.snd_nxt += 7;
		TT_EXPECT_ACK(&c);
		assert_int_equal(us_recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT), 7);
		assert_memory_equal(buf, "old-ack", 7);

		tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt - 70000,
			"too-old", 7);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_int_equal(us_recv(c.fd, buf, sizeof(buf), MSG_DONTWAIT),
				 -1);
		assert_int_equal(errno, EAGAIN);
		assert_state(&c, TCP_ESTABLISHED);
	}
}

/* Without the ACK bit a segment of a synchronized state is dropped. */
static void test_no_ack_bit_dropped(void **state)
{
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < N_SYNCED; i++) {
		uint64_t drops;

		enter(&c, synced[i]);
		drops = tt_drops(&T, US_DROP_TCP_FLAGS);
		tt_send(&c, 0, c.snd_nxt, 0, "abc", 3);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_FLAGS), drops + 1);
		assert_state(&c, fixes[synced[i]].state);
	}
}

/* ---- seventh check: data in each state ----------------------------------- */

static void test_data_in_each_state(void **state)
{
	struct tt_conn c;
	char buf[16];

	(void)state;
	for (size_t i = 0; i < N_SYNCED; i++) {
		enum fix f = synced[i];
		int st = fixes[f].state;

		enter(&c, f);
		/* Acknowledging no more than the peer has seen. */
		tt_send(&c, TCPHDR_ACK, c.snd_nxt, our_fin_unacked(st)
			? c.rcv_nxt - 1 : c.rcv_nxt, "hello", 5);
		c.snd_nxt += 5;
		if (st == TCP_ESTABLISHED ||
		    ((st == TCP_FIN_WAIT1 || st == TCP_FIN_WAIT2) && c.fd >= 0)) {
			/* Received; half-closed sockets still read. */
			TT_EXPECT_ACK(&c);
			assert_int_equal(us_recv(c.fd, buf, sizeof(buf),
						 MSG_DONTWAIT), 5);
			assert_state(&c, st);
		} else if (st == TCP_FIN_WAIT1 || st == TCP_FIN_WAIT2) {
			/* RFC 1122 §4.2.2.13: nobody can read it: reset. */
			TT_EXPECT(&c, TCPHDR_RST, our_fin_unacked(st)
				  ? c.rcv_nxt - 1 : c.rcv_nxt, 0);
			assert_state(&c, -1);
		} else {
			/* After the peer's FIN: new data is ignored. */
			assert_state(&c, st);
			if (c.fd >= 0)
				assert_int_equal(fionread(c.fd), 0);
		}
		TT_EXPECT_NONE(&T);
	}
}

/* The ACK completing the handshake may carry data and even a FIN. */
static void test_syn_recv_ack_with_data_and_fin(void **state)
{
	struct tt_conn c;
	char buf[16];
	int fd;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open_synrecv(&c);
	tt_peer(&c, TCPHDR_ACK | TCPHDR_FIN, "data", 4);
	/* Data and a FIN: interactive mode, the ACK waits its 40 ms for
	 * a reply (Linux's tcp_fin, pingpong). */
	TT_EXPECT_NONE(&T);
	ts_advance(&T, TCP_DELACK_MIN_US);
	TT_EXPECT_ACK(&c);
	TT_EXPECT_NONE(&T);
	assert_state(&c, TCP_CLOSE_WAIT);
	fd = us_accept4(c.lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(tt_state(fd), TCP_CLOSE_WAIT);
	assert_int_equal(us_recv(fd, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "data", 4);
	assert_int_equal(us_recv(fd, buf, sizeof(buf), 0), 0);
	assert_int_equal(us_close(fd), 0);
}

/* ---- eighth check: FIN --------------------------------------------------- */

static void test_fin_in_established(void **state)
{
	struct tt_conn c;
	char buf[8];

	(void)state;
	for (int active = 0; active < 2; active++) {
		enter(&c, active ? F_EST_ACTIVE : F_EST_PASSIVE);
		tt_peer(&c, TCPHDR_ACK, "ab", 2);
		TT_EXPECT_ACK(&c);
		tt_peer(&c, TCPHDR_ACK | TCPHDR_FIN, "cd", 2);
		/* (The FIN's ACK waits the delay: Linux's pingpong.) */
		TT_EXPECT_NONE(&T);
		ts_advance(&T, TCP_DELACK_MIN_US);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_state(c.fd), TCP_CLOSE_WAIT);
		assert_int_equal(us_recv(c.fd, buf, sizeof(buf), 0), 4);
		assert_memory_equal(buf, "abcd", 4);
		assert_int_equal(us_recv(c.fd, buf, sizeof(buf), 0), 0);
		/* Half-closed: we may still send. */
		assert_int_equal(us_send(c.fd, "x", 1, 0), 1);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 1);
	}
}

/* FIN_WAIT1 and a FIN that also acknowledges ours: straight to TIME_WAIT. */
static void test_fin_acking_ours_in_fin_wait1(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int orphan = 0; orphan < 2; orphan++) {
		enter(&c, orphan ? F_FIN_WAIT1_ORPHAN : F_FIN_WAIT1);
		tt_peer(&c, TCPHDR_ACK | TCPHDR_FIN, NULL, 0);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_state(&c, TCP_TIME_WAIT);
	}
}

/* CLOSING: the ACK of our FIN leads to TIME_WAIT. */
static void test_closing_to_time_wait(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int orphan = 0; orphan < 2; orphan++) {
		enter(&c, orphan ? F_CLOSING_ORPHAN : F_CLOSING);
		tt_peer(&c, TCPHDR_ACK, NULL, 0);
		TT_EXPECT_NONE(&T);
		assert_state(&c, TCP_TIME_WAIT);
	}
}

/* LAST_ACK: the ACK of our FIN ends the connection; the user's socket
 * reports no error, and the port answers RST from then on. */
static void test_last_ack_to_closed(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int orphan = 0; orphan < 2; orphan++) {
		enter(&c, orphan ? F_LAST_ACK_ORPHAN : F_LAST_ACK);
		tt_peer(&c, TCPHDR_ACK, NULL, 0);
		TT_EXPECT_NONE(&T);
		assert_state(&c, -1);
		if (c.fd >= 0) {
			assert_int_equal(tt_state(c.fd), TCP_CLOSE);
			assert_int_equal(tt_so_error(c.fd), 0);
		}
		tt_peer(&c, TCPHDR_ACK, "late", 4);
		if (c.active) {
			/* The ephemeral port is free: no one is there. */
			TT_EXPECT(&c, TCPHDR_RST, c.rcv_nxt, 0);
		} else {
			/* The listener is: an ACK to a listener gets a RST
			 * just the same. */
			TT_EXPECT(&c, TCPHDR_RST, c.rcv_nxt, 0);
		}
	}
}

/*
 * A retransmitted FIN (our ACK of it was lost) is old: it is acknowledged
 * again in every state after the FIN, and the state does not change
 * (RFC 9293 first check; Linux's tcp_data_queue sends a duplicate ACK).
 */
static void test_retransmitted_fin_reacked(void **state)
{
	static const enum fix rows[] = {
		F_CLOSE_WAIT, F_CLOSING, F_CLOSING_ORPHAN, F_LAST_ACK,
		F_LAST_ACK_ORPHAN, F_TIME_WAIT, F_TIME_WAIT_ORPHAN,
	};
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int st = fixes[rows[i]].state;
		uint32_t ack;

		enter(&c, rows[i]);
		/* In CLOSING and LAST_ACK the peer has not seen our FIN. */
		ack = st == TCP_CLOSING || st == TCP_LAST_ACK ? c.rcv_nxt - 1
							       : c.rcv_nxt;
		tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, ack, NULL, 0);
		TT_EXPECT_ACK(&c);
		TT_EXPECT_NONE(&T);
		assert_state(&c, st);
	}
}

/* ---- TIME_WAIT ----------------------------------------------------------- */

/* TIME_WAIT lasts exactly 2 MSL (2 x 30 s), then the connection is gone;
 * a retransmitted FIN restarts the wait. */
static void test_time_wait_2msl(void **state)
{
	struct tt_conn c;

	(void)state;
	for (int orphan = 0; orphan < 2; orphan++) {
		enter(&c, orphan ? F_TIME_WAIT_ORPHAN : F_TIME_WAIT);
		ts_advance(&T, 60 * US_USEC_PER_SEC - 1);
		assert_state(&c, TCP_TIME_WAIT);
		ts_advance(&T, 1);
		assert_state(&c, -1);
		TT_EXPECT_NONE(&T);
		if (c.fd >= 0)
			assert_int_equal(tt_state(c.fd), TCP_CLOSE);

		enter(&c, orphan ? F_TIME_WAIT_ORPHAN : F_TIME_WAIT);
		ts_advance(&T, 30 * US_USEC_PER_SEC);
		tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt,
			NULL, 0);
		TT_EXPECT_ACK(&c);
		ts_advance(&T, 60 * US_USEC_PER_SEC - 1);
		assert_state(&c, TCP_TIME_WAIT);
		ts_advance(&T, 1);
		assert_state(&c, -1);
		TT_EXPECT_NONE(&T);
	}
}

/*
 * TIME_WAIT as Linux runs it (tcp_timewait_state_process): a bare ACK at
 * RCV.NXT is taken silently (an answer could start an ACK loop with a peer
 * in TIME_WAIT too) and restarts the wait; a RST ends it only at RCV.NXT;
 * anything else is answered with an ACK.
 */
static void test_time_wait_rows(void **state)
{
	struct tt_conn c;

	(void)state;
	enter(&c, F_TIME_WAIT_ORPHAN);
	ts_advance(&T, 10 * US_USEC_PER_SEC);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 60 * US_USEC_PER_SEC - 1);
	assert_state(&c, TCP_TIME_WAIT);
	ts_advance(&T, 1);
	assert_state(&c, -1);

	/* Data: an ACK of what we have. */
	enter(&c, F_TIME_WAIT);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.rcv_nxt, "zz", 2);
	TT_EXPECT_ACK(&c);
	assert_state(&c, TCP_TIME_WAIT);

	/* A RST not at RCV.NXT is ignored; at RCV.NXT it ends TIME_WAIT. */
	tt_send(&c, TCPHDR_RST, c.snd_nxt + 1, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_state(&c, TCP_TIME_WAIT);
	tt_send(&c, TCPHDR_RST, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_state(&c, -1);

	/* An old SYN: ACK. */
	enter(&c, F_TIME_WAIT_ORPHAN);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt - 10, 0, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_state(&c, TCP_TIME_WAIT);
}

/* RFC 9293 §3.10.7.4 note / RFC 6191: a new SYN above RCV.NXT may reopen
 * the pair from TIME_WAIT when someone listens; without a listener the
 * SYN is only acknowledged, as Linux does. */
static void test_time_wait_new_syn(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	/* Passive: the listener takes the new SYN. */
	enter(&c, F_TIME_WAIT);
	assert_false(c.active);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt + 1000, 0, NULL, 0);
	s = TT_EXPECT(&c, TCPHDR_SYN | TCPHDR_ACK, c.rcv_nxt + 65537,
		      c.snd_nxt + 1001);
	(void)s;
	assert_state(&c, TCP_SYN_RECV);
	/* Active: no listener on our ephemeral port: just an ACK. */
	enter(&c, F_TIME_WAIT_ORPHAN);
	assert_true(c.active);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt + 1000, 0, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_state(&c, TCP_TIME_WAIT);
}

/*
 * ACKs that answer invalid segments are rate-limited to one per 500 ms per
 * connection (Linux's net.ipv4.tcp_invalid_ratelimit), so that two ends
 * which disagree cannot ACK each other in a loop: challenge ACKs and the
 * ACKs of out-of-window segments without data share the limit; segments
 * with data are always answered.
 */
static void test_invalid_ack_rate_limit(void **state)
{
	struct tt_conn c;
	uint64_t acks;

	(void)state;
	enter(&c, F_EST_PASSIVE);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	ts_advance(&T, 100000);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	acks = tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS);
	tt_send(&c, TCPHDR_RST, c.snd_nxt + 1, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS), acks);
	/* Data is not part of a loop: answered. */
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, "x", 1);
	TT_EXPECT_ACK(&c);
	/* 500 ms after the first, the next one is answered again. */
	ts_advance(&T, 400000 - 1);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_CHALLENGE_ACKS), acks + 1);
	assert_state(&c, TCP_ESTABLISHED);

	/* TIME_WAIT alike. */
	enter(&c, F_TIME_WAIT_ORPHAN);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 5, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 5, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	tt_send(&c, TCPHDR_FIN | TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
}

/* net.ipv4.tcp_invalid_ratelimit sets the limit: 0 answers every invalid
 * segment, N waits N ms between answers. */
static void test_invalid_ack_rate_limit_sysctl(void **state)
{
	struct tt_conn c;

	(void)state;
	enter(&c, F_EST_PASSIVE);
	assert_int_equal(ustack_sysctl_set(T.st,
			 "net.ipv4.tcp_invalid_ratelimit", "0"), 0);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	tt_send(&c, TCPHDR_SYN, c.snd_nxt, 0, NULL, 0);
	TT_EXPECT_ACK(&c);

	assert_int_equal(ustack_sysctl_set(T.st,
			 "net.ipv4.tcp_invalid_ratelimit", "100"), 0);
	ts_advance(&T, 100000);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	ts_advance(&T, 100000 - 1);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt + 70000, c.rcv_nxt, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(ustack_sysctl_set(T.st,
			 "net.ipv4.tcp_invalid_ratelimit", "-1"), -1);
	assert_int_equal(errno, EINVAL);
	assert_state(&c, TCP_ESTABLISHED);
}

/* ---- timers of the closing states --------------------------------------- */

/* An orphan in FIN_WAIT2 waits tcp_fin_timeout (60 s) for the peer's FIN,
 * then goes without a word; one the user still holds waits for ever. */
static void test_fin_wait2_timeout(void **state)
{
	struct tt_conn c;

	(void)state;
	enter(&c, F_FIN_WAIT2_ORPHAN);
	ts_advance(&T, 60 * US_USEC_PER_SEC - 1);
	assert_state(&c, TCP_FIN_WAIT2);
	ts_advance(&T, 1);
	assert_state(&c, -1);
	TT_EXPECT_NONE(&T);

	enter(&c, F_FIN_WAIT2);
	ts_advance(&T, 3600 * US_USEC_PER_SEC);
	assert_state(&c, TCP_FIN_WAIT2);
	TT_EXPECT_NONE(&T);
	/* and still finishes properly */
	tt_peer(&c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_state(&c, TCP_TIME_WAIT);
}

/*
 * The orphan's FIN_WAIT2 wait is never under 3.5 RTOs (Linux's
 * tcp_fin_time), and the RTO is the backed-off one (icsk_rto): a FIN sent
 * seven times and then ACKed gives no RTT sample (RFC 6298 §3, Karn), so
 * the backoff stays and the floor is 3.5 x 128 RTOs, past the 60 s.
 */
static void test_fin_wait2_timeout_backed_off(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	us_time_t rto, floor;
	int i;

	(void)state;
	enter(&c, F_EST_PASSIVE);
	assert_int_equal(us_getsockopt(c.fd, IPPROTO_TCP, TCP_INFO, &ti,
				       &len), 0);
	rto = ti.tcpi_rto;
	assert_true(rto >= 200000 && rto < 1000000);
	tt_to_fin_wait1(&c, true);
	for (i = 0; i < 7; i++) {
		ts_advance(&T, rto << i);
		TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt - 1,
			  c.snd_nxt);
	}
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_state(&c, TCP_FIN_WAIT2);
	floor = (rto << 7) * 4 - (rto << 7) / 2;
	assert_true(floor > 60 * US_USEC_PER_SEC);
	ts_advance(&T, floor - 1);
	assert_state(&c, TCP_FIN_WAIT2);
	ts_advance(&T, 1);
	assert_state(&c, -1);
	TT_EXPECT_NONE(&T);
}

/* An unacknowledged FIN goes again on the retransmission timer, in
 * FIN_WAIT1, CLOSING and LAST_ACK alike. */
static void test_fin_retransmitted(void **state)
{
	static const enum fix rows[] = { F_FIN_WAIT1, F_CLOSING, F_LAST_ACK };
	struct tt_conn c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tcp_info ti;
		int st = fixes[rows[i]].state;

		enter(&c, rows[i]);
		tt_info(c.fd, &ti);
		ts_advance(&T, ti.tcpi_rto - 1);
		TT_EXPECT_NONE(&T);
		ts_advance(&T, 1);
		TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt - 1, c.snd_nxt);
		TT_EXPECT_NONE(&T);
		assert_state(&c, st);
	}
}

/* ---- poll masks, as Linux's tcp_poll gives them ------------------------- */

#define P_OUT (POLLOUT | POLLWRNORM)
#define P_IN (POLLIN | POLLRDNORM)
#define P_EOF (POLLIN | POLLRDNORM | POLLRDHUP)

static void test_poll_mask_per_state(void **state)
{
	static const struct {
		enum fix f;
		uint32_t mask;
	} rows[] = {
		{ F_EST_ACTIVE, P_OUT },
		{ F_EST_PASSIVE, P_OUT },
		{ F_FIN_WAIT1, P_OUT },        /* SHUT_WR: writing "ready" */
		{ F_FIN_WAIT2, P_OUT },
		{ F_CLOSE_WAIT, P_EOF | P_OUT },
		{ F_CLOSING, POLLHUP | P_EOF | P_OUT },
		{ F_LAST_ACK, POLLHUP | P_EOF | P_OUT },
		{ F_TIME_WAIT, POLLHUP | P_EOF | P_OUT },
	};
	struct tt_conn c;
	int fd;

	(void)state;
	/* A new socket: CLOSED, writable and hung up. */
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(tt_poll(fd), POLLHUP | P_OUT);
	assert_int_equal(us_close(fd), 0);

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		enter(&c, rows[i].f);
		assert_int_equal(tt_poll(c.fd), rows[i].mask);
	}

	/* SYN_SENT: nothing yet. */
	enter(&c, F_SYN_RECV);
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	assert_int_equal(tt_poll(c.fd), 0);

	/* LISTEN: readable once a connection waits for accept(). */
	enter(&c, F_SYN_RECV);
	assert_int_equal(tt_poll(c.lfd), 0);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_poll(c.lfd), P_IN);

	/* ESTABLISHED with data to read. */
	enter(&c, F_EST_ACTIVE);
	tt_peer(&c, TCPHDR_ACK, "x", 1);
	assert_int_equal(tt_poll(c.fd), P_IN | P_OUT);

	/* Reset: everything, with POLLERR until SO_ERROR is read. */
	tt_peer(&c, TCPHDR_RST, NULL, 0);
	assert_int_equal(tt_poll(c.fd), POLLERR | POLLHUP | P_EOF | P_OUT);
	assert_int_equal(tt_so_error(c.fd), ECONNRESET);
	assert_int_equal(tt_poll(c.fd), POLLHUP | P_EOF | P_OUT);

	/* Refused. */
	enter(&c, F_SYN_RECV);
	tt_conn_init(&c, &T, true);
	tt_open_synsent(&c);
	tt_send(&c, TCPHDR_RST | TCPHDR_ACK, 0, c.rcv_nxt, NULL, 0);
	assert_int_equal(tt_poll(c.fd), POLLERR | POLLHUP | P_EOF | P_OUT);
	assert_int_equal(tt_so_error(c.fd), ECONNREFUSED);

	/* LAST_ACK done: closed, no error. */
	enter(&c, F_LAST_ACK);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_poll(c.fd), POLLHUP | P_EOF | P_OUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_fixtures_reach_each_state),
		T_(test_unacceptable_seq_acked_and_dropped),
		T_(test_rst_exact_resets),
		T_(test_rst_exact_in_syn_recv),
		T_(test_rst_in_window_challenge_ack),
		T_(test_rst_out_of_window_dropped),
		T_(test_rst_at_fin_seq_after_fin),
		T_(test_syn_in_synchronized_states),
		T_(test_syn_recv_retransmitted_syn),
		T_(test_ack_of_unsent_data),
		T_(test_ack_below_snd_una),
		T_(test_no_ack_bit_dropped),
		T_(test_data_in_each_state),
		T_(test_syn_recv_ack_with_data_and_fin),
		T_(test_fin_in_established),
		T_(test_fin_acking_ours_in_fin_wait1),
		T_(test_closing_to_time_wait),
		T_(test_last_ack_to_closed),
		T_(test_retransmitted_fin_reacked),
		T_(test_time_wait_2msl),
		T_(test_time_wait_rows),
		T_(test_time_wait_new_syn),
		T_(test_invalid_ack_rate_limit),
		T_(test_invalid_ack_rate_limit_sysctl),
		T_(test_fin_wait2_timeout),
		T_(test_fin_wait2_timeout_backed_off),
		T_(test_fin_retransmitted),
		T_(test_poll_mask_per_state),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
