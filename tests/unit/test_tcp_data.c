/*
 * test_tcp_data.c - moving data on an established connection, against
 * crafted peer segments in virtual time: in-order and out-of-order
 * arrival (duplicate ACKs, the hole filled, a FIN ahead of data), ACK
 * generation (quick-ACK at the start, every second full segment, the
 * 40 ms delayed ACK), the receive window (zero window, data beyond it, the
 * update after a read), sending with Nagle / TCP_NODELAY / TCP_CORK /
 * MSG_MORE, the abortive closes: unread data (RFC 2525) and
 * SO_LINGER 0, and a read's receive timestamp (SO_TIMESTAMPNS).
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
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/tcptest.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[70000];

/* Each test starts on an established connection (active open). */
static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static int fionread(int fd)
{
	int n = -1;

	assert_int_equal(us_ioctl(fd, FIONREAD, &n), 0);
	return n;
}

/* The peer sends n bytes of BUF (from offset off of the stream). */
static void peer_data(struct tt_conn *c, size_t n)
{
	tt_peer(c, TCPHDR_ACK, BUF, n);
}

/* Linux starts in quick-ACK mode: the first 16 data segments are each
 * acknowledged at once (TCP_MAX_QUICKACKS). */
static void use_up_quickacks(struct tt_conn *c)
{
	for (int i = 0; i < 16; i++) {
		peer_data(c, 10);
		TT_EXPECT_ACK(c);
	}
	assert_int_equal(us_recv(c->fd, BUF + 60000, 1000, MSG_DONTWAIT), 160);
}

/* ---- receiving ----------------------------------------------------------- */

static void test_in_order_data(void **state)
{
	uint8_t got[3000];

	(void)state;
	tt_peer(&C, TCPHDR_ACK, BUF, 1000);
	TT_EXPECT_ACK(&C);
	tt_peer(&C, TCPHDR_ACK | TCPHDR_PSH, BUF + 1000, 1460);
	TT_EXPECT_ACK(&C);
	assert_int_equal(fionread(C.fd), 2460);
	assert_int_equal(tt_poll(C.fd), POLLIN | POLLRDNORM | POLLOUT |
			 POLLWRNORM);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 2460);
	assert_memory_equal(got, BUF, 2460);
	/* The read grew the window a little: no update of its own (Linux
	 * sends one only when it at least doubles a window at half or
	 * less of its maximum). */
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/*
 * After quick-ACK mode: a lone small segment is acknowledged by the
 * delayed-ACK timer at exactly 40 ms (Linux's TCP_DELACK_MIN / ATO_MIN);
 * two full segments are acknowledged at the second (RFC 1122 §4.2.3.2).
 */
static void test_delayed_ack(void **state)
{
	(void)state;
	use_up_quickacks(&C);
	peer_data(&C, 100);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 40000 - 1);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1);
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);

	/* (The reader keeps up: the window moves on with the data.) */
	assert_int_equal(us_recv(C.fd, BUF + 60000, 1000, MSG_DONTWAIT), 100);
	peer_data(&C, 1460);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_recv(C.fd, BUF + 60000, 2000, MSG_DONTWAIT), 1460);
	TT_EXPECT_NONE(&T);
	peer_data(&C, 1460);
	TT_EXPECT_ACK(&C);
	/* The ACK cancelled the timer. */
	ts_advance(&T, 200000);
	TT_EXPECT_NONE(&T);

	/* Data we send carries the pending ACK with it. */
	peer_data(&C, 100);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(C.fd, "reply", 5, 0), 5);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 5);
	C.rcv_nxt += 5;
	ts_advance(&T, 40000);
	TT_EXPECT_NONE(&T);
}

/*
 * A reader that is behind (Linux's __tcp_ack_snd_check): more than a full
 * segment unacknowledged is owed an ACK at once only if the window would
 * move on with it; with the data unread the free space falls under
 * rcv_ssthresh and the window would not, so the ACK waits for the timer,
 * or for the read, which sends it (tcp_cleanup_rbuf).
 */
static void test_delayed_ack_reader_behind(void **state)
{
	(void)state;
	use_up_quickacks(&C);
	for (int i = 0; i < 3; i++) {
		peer_data(&C, 1460);
		TT_EXPECT_NONE(&T);
	}
	assert_int_equal(us_recv(C.fd, BUF + 60000, 5000, MSG_DONTWAIT),
			 3 * 1460);
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 200000);
	TT_EXPECT_NONE(&T);
}

/*
 * Frames a device hands over in one batch (one TAP poll) get one ACK per
 * connection, at the end of the batch, for everything in it (Linux's
 * tcp_backlog_ack_defer); outside a batch every second full segment is
 * acknowledged at once. A segment out of order is acknowledged at once
 * even within a batch (the duplicate ACK tells of the hole).
 */
static void test_ack_per_batch(void **state)
{
	int big = 1 << 20;

	(void)state;
	/* (Room for the batch beyond rcv_ssthresh: the window offered does
	 * not shrink as the unread data piles up, so each second segment
	 * is owed its ACK; test_delayed_ack_reader_behind is the other
	 * case.) */
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_RCVBUF, &big,
				       sizeof(big)), 0);
	use_up_quickacks(&C);
	/* (A full segment's delayed ACK first: the window it offers is in
	 * segments of the peer's size, 1460, as the batch's will be.) */
	peer_data(&C, 1460);
	ts_advance(&T, 40000);
	TT_EXPECT_ACK(&C);
	assert_int_equal(us_recv(C.fd, BUF + 60000, 2000, MSG_DONTWAIT), 1460);
	us_rx_batch_begin(T.st);
	for (int i = 0; i < 6; i++)
		peer_data(&C, 1460);
	TT_EXPECT_NONE(&T);
	us_rx_batch_end(T.st);
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);
	/* Nothing is owed any more: no timer fires later. */
	ts_advance(&T, 200000);
	TT_EXPECT_NONE(&T);

	/* An empty batch, or one whose ACK went out with data: nothing. */
	us_rx_batch_begin(T.st);
	us_rx_batch_end(T.st);
	us_rx_batch_begin(T.st);
	peer_data(&C, 1460);
	peer_data(&C, 1460);
	assert_int_equal(us_send(C.fd, "reply", 5, 0), 5);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 5);
	C.rcv_nxt += 5;
	us_rx_batch_end(T.st);
	TT_EXPECT_NONE(&T);

	/* Out of order within a batch: at once, then the batch's ACK once
	 * the hole is filled. */
	us_rx_batch_begin(T.st);
	tt_peer_at(&C, 1460, TCPHDR_ACK, BUF, 1460);
	assert_int_equal(TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt)->len, 0);
	peer_data(&C, 1460);
	C.snd_nxt += 1460;
	TT_EXPECT_ACK(&C);     /* a hole filled: at once (RFC 5681 §4.2) */
	peer_data(&C, 1460);
	peer_data(&C, 1460);
	TT_EXPECT_NONE(&T);
	us_rx_batch_end(T.st);
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);
}

/* Quick-ACK at the start: each of the first segments gets its own ACK,
 * before any timer runs. */
static void test_quickack_at_start(void **state)
{
	(void)state;
	for (int i = 0; i < 16; i++) {
		peer_data(&C, 100);
		TT_EXPECT_ACK(&C);
	}
	peer_data(&C, 100);
	TT_EXPECT_NONE(&T);
}

/*
 * Out of order: each segment beyond a hole is answered at once by a
 * duplicate ACK of RCV.NXT; the segment that fills the hole is ACKed at
 * once with everything now in order (RFC 5681 §4.2), quick-ACK or not.
 */
static void test_out_of_order_and_fill(void **state)
{
	uint8_t got[1000];

	(void)state;
	use_up_quickacks(&C);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt + 100, C.rcv_nxt, BUF + 100, 100);
	TT_EXPECT_ACK(&C);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt + 300, C.rcv_nxt, BUF + 300, 100);
	TT_EXPECT_ACK(&C);
	/* A duplicate of a queued one: dropped and counted, still ACKed. */
	{
		uint64_t d = tt_drops(&T, US_DROP_TCP_OFO_DUP);

		tt_send(&C, TCPHDR_ACK, C.snd_nxt + 300, C.rcv_nxt, BUF + 300,
			100);
		TT_EXPECT_ACK(&C);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_OFO_DUP), d + 1);
	}
	assert_int_equal(fionread(C.fd), 0);
	/* Fill the first hole: ACK up to the second. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.rcv_nxt, BUF, 100);
	C.snd_nxt += 200;
	TT_EXPECT_ACK(&C);
	/* Fill the last one: ACK of all, at once. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.rcv_nxt, BUF + 200, 100);
	C.snd_nxt += 200;
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 400);
	assert_memory_equal(got, BUF, 400);
}

/* Overlapping retransmissions: each byte is delivered once. */
static void test_overlap_delivered_once(void **state)
{
	uint8_t got[1000];
	uint32_t base = C.snd_nxt;

	(void)state;
	tt_send(&C, TCPHDR_ACK, base, C.rcv_nxt, BUF, 100);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 100);
	tt_send(&C, TCPHDR_ACK, base + 50, C.rcv_nxt, BUF + 50, 100);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 150);
	/* Out of order, overlapping each other. */
	tt_send(&C, TCPHDR_ACK, base + 200, C.rcv_nxt, BUF + 200, 100);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 150);
	tt_send(&C, TCPHDR_ACK, base + 250, C.rcv_nxt, BUF + 250, 100);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 150);
	tt_send(&C, TCPHDR_ACK, base + 140, C.rcv_nxt, BUF + 140, 70);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 350);
	/* Entirely old: a duplicate ACK, counted (before the window we
	 * last offered: an unacceptable sequence number). */
	{
		uint64_t d = tt_drops(&T, US_DROP_TCP_INVALID_SEQ);

		tt_send(&C, TCPHDR_ACK, base + 10, C.rcv_nxt, BUF + 10, 100);
		TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, base + 350);
		assert_int_equal(tt_drops(&T, US_DROP_TCP_INVALID_SEQ), d + 1);
	}
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 350);
	assert_memory_equal(got, BUF, 350);
}

/* A FIN ahead of missing data waits for it; when the hole fills, data
 * and FIN are taken together: CLOSE_WAIT, the reader sees all, then EOF. */
static void test_fin_out_of_order(void **state)
{
	uint8_t got[300];

	(void)state;
	tt_send(&C, TCPHDR_ACK | TCPHDR_FIN, C.snd_nxt + 100, C.rcv_nxt, NULL,
		0);
	TT_EXPECT_ACK(&C);
	assert_int_equal(tt_state(C.fd), TCP_ESTABLISHED);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt + 50, C.rcv_nxt, BUF + 50, 50);
	TT_EXPECT_ACK(&C);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.rcv_nxt, BUF, 50);
	C.snd_nxt += 101;
	TT_EXPECT_ACK(&C);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(C.fd), TCP_CLOSE_WAIT);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 100);
	assert_memory_equal(got, BUF, 100);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 0);
}

/* ---- the receive window -------------------------------------------------- */

/* The window our last ACK offered. */
static uint16_t last_window;

static void expect_ack_window(struct tt_conn *c)
{
	last_window = TT_EXPECT_ACK(c)->th.window;
}

/*
 * A small receive buffer the reader does not drain: the window closes.
 * Data at RCV.NXT into a zero window is dropped and the zero window
 * announced again (Linux: TCP_ZEROWINDOW); data beyond the right edge is
 * dropped the same way (TCP_OVERWINDOW). Reading reopens the window with
 * an update.
 */
static void test_zero_window(void **state)
{
	struct tt_conn c;
	int rcvbuf = 8192;
	size_t total = 0;
	uint64_t d;

	(void)state;
	tt_conn_init(&c, &T, true);
	c.peer_port = 81;
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				       sizeof(rcvbuf)), 0);
	tt_open(&c);
	last_window = 1;
	for (int i = 0; i < 100 && last_window; i++) {
		size_t n = last_window < 536 ? last_window : 536;

		/* The ACK of the handshake offered the first window. */
		if (i == 0)
			n = 536;
		peer_data(&c, n);
		total += n;
		/* (A small window has few quick ACKs, as Linux's: then the
		 * delayed ACK.) */
		if (!T.txq->qlen)
			ts_advance(&T, 40000);
		expect_ack_window(&c);
	}
	assert_int_equal(last_window, 0);
	assert_int_equal(fionread(c.fd), (int)total);

	d = tt_drops(&T, US_DROP_TCP_ZERO_WINDOW);
	peer_data(&c, 1);
	c.snd_nxt -= 1;     /* not taken */
	assert_int_equal(TT_EXPECT_ACK(&c)->th.window, 0);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_ZERO_WINDOW), d + 1);
	assert_int_equal(fionread(c.fd), (int)total);

	/* A window probe without data (seq RCV.NXT - 1): an ACK. */
	tt_send(&c, TCPHDR_ACK, c.snd_nxt - 1, c.rcv_nxt, NULL, 0);
	assert_int_equal(TT_EXPECT_ACK(&c)->th.window, 0);

	/* The reader drains: a window update. */
	assert_int_equal(us_recv(c.fd, BUF + 50000, 20000, 0), (int)total);
	assert_true(TT_EXPECT_ACK(&c)->th.window > 0);
	TT_EXPECT_NONE(&T);
}

/*
 * A read into an iovec with a bad piece stops at the segment the piece
 * falls in: the bytes before it are returned, and the rest is read next,
 * in order and once.
 */
static void test_large_read_bad_iovec(void **state)
{
	static uint8_t got[40000];
	struct iovec iov[2] = { { got, 20000 }, { NULL, 20000 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 2 };

	(void)state;
	for (int i = 0; i < 30; i++) {
		tt_peer(&C, TCPHDR_ACK, BUF + i * 1000, 1000);
		ts_flush_tx(&T);
	}
	assert_int_equal(fionread(C.fd), 30000);
	assert_int_equal(us_recvmsg(C.fd, &msg, 0), 20000);
	assert_memory_equal(got, BUF, 20000);
	assert_int_equal(fionread(C.fd), 10000);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 10000);
	assert_memory_equal(got, BUF + 20000, 10000);
	assert_int_equal(fionread(C.fd), 0);
	/* Nothing of the first read was freed twice or lost: one more
	 * segment reads as usual. */
	tt_peer(&C, TCPHDR_ACK, BUF + 30000, 20000);
	ts_flush_tx(&T);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 20000);
	assert_memory_equal(got, BUF + 30000, 20000);
}

static void test_data_beyond_window(void **state)
{
	uint64_t d;
	uint16_t wnd;

	(void)state;
	tt_peer(&C, TCPHDR_ACK, BUF, 10);
	wnd = TT_EXPECT_ACK(&C)->th.window;
	d = tt_drops(&T, US_DROP_TCP_OVERWINDOW);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt + wnd, C.rcv_nxt, BUF, 10);
	TT_EXPECT_ACK(&C);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_OVERWINDOW), d + 1);
	/* Starting inside and running past the edge is taken (as Linux,
	 * which trims nothing but memory). */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt + wnd - 5, C.rcv_nxt, BUF, 10);
	TT_EXPECT_ACK(&C);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_OVERWINDOW), d + 1);
}

/* ---- sending: Nagle, TCP_NODELAY, TCP_CORK, MSG_MORE ---------------------- */

static void ack_all(struct tt_conn *c)
{
	tt_peer(c, TCPHDR_ACK, NULL, 0);
}

/*
 * Nagle (RFC 1122 §4.2.3.4) with Minshall's refinement, as Linux: a small
 * segment waits only while an earlier small one is unacknowledged.
 */
static void test_nagle(void **state)
{
	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 100);
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	assert_int_equal(us_send(C.fd, BUF, 50, 0), 50);
	TT_EXPECT_NONE(&T);
	C.rcv_nxt += 100;
	ack_all(&C);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 150);
	C.rcv_nxt += 150;
	ack_all(&C);
	TT_EXPECT_NONE(&T);

	/* A full segment and a tail in one write: the tail goes too, as no
	 * small segment is in flight. */
	assert_int_equal(us_send(C.fd, BUF, 2000, 0), 2000);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1460);
	TT_EXPECT_DATA(&C, C.rcv_nxt + 1460, 540);
	C.rcv_nxt += 2000;
	/* Now one is: the next small write waits for its ACK. */
	assert_int_equal(us_send(C.fd, BUF, 10, 0), 10);
	TT_EXPECT_NONE(&T);
	ack_all(&C);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 10);
}

static void test_nodelay(void **state)
{
	int one = 1;

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY, &one,
				       sizeof(one)), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(us_send(C.fd, BUF, 10, 0), 10);
		TT_EXPECT_DATA(&C, C.rcv_nxt, 10);
		C.rcv_nxt += 10;
	}
}

/* Turning TCP_NODELAY on sends what Nagle held back (Linux pushes). */
static void test_nodelay_pushes_pending(void **state)
{
	int one = 1;

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 10, 0), 10);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 10);
	C.rcv_nxt += 10;
	assert_int_equal(us_send(C.fd, BUF, 10, 0), 10);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY, &one,
				       sizeof(one)), 0);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 10);
}

/* TCP_CORK holds partial segments even with nothing in flight, sends full
 * ones, and uncorking pushes the rest. MSG_MORE holds like a cork for one
 * write. */
static void test_cork_and_msg_more(void **state)
{
	int one = 1, zero = 0;

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CORK, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_send(C.fd, BUF, 1000, 0), 1000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(C.fd, BUF, 1000, 0), 1000);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1460);
	TT_EXPECT_NONE(&T);
	C.rcv_nxt += 1460;
	ack_all(&C);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CORK, &zero,
				       sizeof(zero)), 0);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 540);
	C.rcv_nxt += 540;
	ack_all(&C);

	assert_int_equal(us_send(C.fd, BUF, 100, MSG_MORE), 100);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 200);
}

/*
 * The peer's window limits what is sent. A window smaller than a segment
 * is not filled at once (sender SWS avoidance, RFC 1122 §4.2.3.4); the
 * probe timer (one RTO: the handshake's RTT of 0 gives 200 ms + 1 us)
 * sends the part that fits, as Linux's tcp_write_wakeup does, so a peer
 * whose window never reaches a segment is not waited on forever. The
 * window's update releases the rest.
 */
static void test_send_window(void **state)
{
	(void)state;
	C.win = 1000;
	ack_all(&C);
	assert_int_equal(us_send(C.fd, BUF, 3000, 0), 3000);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 200000);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1000);
	TT_EXPECT_NONE(&T);
	C.rcv_nxt += 1000;
	C.win = 65535;
	ack_all(&C);
	/* The rest of the split segment, then the queued ones; the short
	 * last one waits for the short one in flight (Nagle, Minshall). */
	TT_EXPECT_DATA(&C, C.rcv_nxt, 460);
	TT_EXPECT_DATA(&C, C.rcv_nxt + 460, 1460);
	TT_EXPECT_NONE(&T);
	{
		int n = -1;

		assert_int_equal(us_ioctl(C.fd, SIOCOUTQ, &n), 0);
		assert_int_equal(n, 2000);
		assert_int_equal(us_ioctl(C.fd, SIOCOUTQNSD, &n), 0);
		assert_int_equal(n, 80);
	}
	C.rcv_nxt += 1920;
	ack_all(&C);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 80);
	TT_EXPECT_NONE(&T);
}

/*
 * POLLOUT once the free room is at least half of what is queued (a third
 * of the buffer), as Linux's tcp_poll (__sk_stream_is_writeable), not at
 * the first free byte: a full send buffer is freed by ACKs, segment by
 * segment, and poll agrees with that rule at every step, with at least
 * one step where there was room but not enough.
 */
static void test_pollout_third_free(void **state)
{
	struct sock *sk = tt_sk(C.fd);
	bool room_not_writable = false, writable = false;
	struct tt_seg s;

	(void)state;
	while (us_send(C.fd, BUF, 1000, MSG_DONTWAIT) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(tt_poll(C.fd) & POLLOUT, 0);
	for (int i = 0; i < 200 && !writable; i++) {
		bool rule;

		/* Take in what went out; ACK one segment of it. */
		while (tt_pop(&T, &s))
			;
		if (seq_lt(C.rcv_nxt, tcp_sk(sk)->snd_nxt))
			C.rcv_nxt += tcp_sk(sk)->snd_nxt - C.rcv_nxt < 1460 ?
				     tcp_sk(sk)->snd_nxt - C.rcv_nxt : 1460;
		ack_all(&C);
		rule = sk->sndbuf - sk->wmem_alloc >= sk->wmem_alloc / 2;
		assert_int_equal(!!(tt_poll(C.fd) & POLLOUT), rule);
		if (!rule && sk->wmem_alloc < sk->sndbuf)
			room_not_writable = true;
		writable = rule;
	}
	assert_true(writable);
	assert_true(room_not_writable);
}

/* ---- abortive closes ----------------------------------------------------- */

/* RFC 2525 §2.17: close() with data unread sends RST, not FIN. */
static void test_close_with_unread_data_resets(void **state)
{
	(void)state;
	peer_data(&C, 10);
	TT_EXPECT_ACK(&C);
	assert_int_equal(us_close(C.fd), 0);
	TT_EXPECT(&C, TCPHDR_RST | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&C), -1);
	/* The peer's next segment finds no one. */
	peer_data(&C, 5);
	TT_EXPECT(&C, TCPHDR_RST, C.rcv_nxt, 0);
}

/* In CLOSE_WAIT too: the data before the FIN was never read. */
static void test_close_wait_unread_resets(void **state)
{
	(void)state;
	peer_data(&C, 10);
	TT_EXPECT_ACK(&C);
	tt_to_close_wait(&C);
	assert_int_equal(us_close(C.fd), 0);
	TT_EXPECT(&C, TCPHDR_RST | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	assert_int_equal(tt_conn_state(&C), -1);
}

/* SO_LINGER with 0 s: close() aborts with RST, unsent data discarded. */
static void test_linger_zero_resets(void **state)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_LINGER, &l,
				       sizeof(l)), 0);
	C.win = 0;
	ack_all(&C);
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_close(C.fd), 0);
	TT_EXPECT(&C, TCPHDR_RST | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&C), -1);
}

/* SO_LINGER 0 on a connection still in SYN_SENT: no RST (Linux's
 * tcp_disconnect sends none there), the attempt just ends. */
static void test_linger_zero_syn_sent(void **state)
{
	struct linger l = { .l_onoff = 1, .l_linger = 0 };
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, true);
	c.peer_port = 81;
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l,
				       sizeof(l)), 0);
	tt_open_synsent(&c);
	assert_int_equal(us_close(c.fd), 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/* A closed socket in TIME_WAIT is left to finish it: close() with unread
 * data sends nothing (on Linux the socket is CLOSED by then). */
static void test_close_in_time_wait_with_unread(void **state)
{
	(void)state;
	peer_data(&C, 10);
	TT_EXPECT_ACK(&C);
	tt_to_time_wait(&C, false);
	assert_int_equal(us_close(C.fd), 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&C), TCP_TIME_WAIT);
}

/* After a RST the reader still gets what arrived before it, then the
 * error once, then end of stream; a writer gets EPIPE. */
static void test_reads_after_reset(void **state)
{
	uint8_t got[100];

	(void)state;
	peer_data(&C, 10);
	TT_EXPECT_ACK(&C);
	tt_peer(&C, TCPHDR_RST, NULL, 0);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 10);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), 0), 0);
	assert_int_equal(us_send(C.fd, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	TT_EXPECT_NONE(&T);
}

static int sigpipes;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

/*
 * Writing to a reset connection: the reset's own error first (ECONNRESET,
 * no signal), then EPIPE with SIGPIPE unless MSG_NOSIGNAL. In CLOSE_WAIT
 * the reset's error is EPIPE itself, and comes with SIGPIPE too (Linux's
 * sk_stream_error); the reader sees the end of the stream, not an error,
 * as the FIN came first.
 */
static void test_sigpipe_after_reset(void **state)
{
	void (*old)(int) = signal(SIGPIPE, on_sigpipe);
	uint8_t b;

	(void)state;
	sigpipes = 0;
	tt_peer(&C, TCPHDR_RST, NULL, 0);
	assert_int_equal(us_send(C.fd, "x", 1, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(sigpipes, 0);
	assert_int_equal(us_send(C.fd, "x", 1, MSG_NOSIGNAL), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(sigpipes, 0);
	assert_int_equal(us_send(C.fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(sigpipes, 1);

	tt_conn_init(&C, &T, false);
	tt_open(&C);
	tt_to_close_wait(&C);
	tt_peer(&C, TCPHDR_RST, NULL, 0);
	assert_int_equal(us_recv(C.fd, &b, 1, 0), 0);
	assert_int_equal(us_send(C.fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(sigpipes, 2);
	signal(SIGPIPE, old);
}

/*
 * SO_TIMESTAMPNS on a blocking read that takes two arrivals (MSG_WAITALL
 * of 6 bytes: 3 queued, 3 more from a thread 100 ms of real time later,
 * 1 s later on the stack's clock): one control message, the second
 * arrival's time (Linux's tcp_recv_timestamp: the last segment read).
 */
struct late_peer {
	pthread_t tid;
	bool sent;
};

static void *late_peer_main(void *arg)
{
	struct late_peer *p = arg;

	usleep(100000);
	pthread_mutex_lock(&T.st->lock);
	tt_peer(&C, TCPHDR_ACK | TCPHDR_PSH, "def", 3);
	p->sent = true;
	pthread_mutex_unlock(&T.st->lock);
	return NULL;
}

static void test_timestamp_last_segment_read(void **state)
{
	char buf[8], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, 6 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct late_peer p = { 0 };
	struct cmsghdr *c;
	int one = 1, fl;
	int64_t t[2], want;

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				       sizeof(one)), 0);
	fl = us_fcntl(C.fd, F_GETFL);
	assert_int_equal(us_fcntl(C.fd, F_SETFL, fl & ~O_NONBLOCK), 0);
	tt_peer(&C, TCPHDR_ACK | TCPHDR_PSH, "abc", 3);
	ts_advance(&T, US_USEC_PER_SEC);
	want = ((int64_t)T.st->now + T.st->clock->realtime_offset_us) * 1000;
	assert_int_equal(pthread_create(&p.tid, NULL, late_peer_main, &p), 0);
	assert_int_equal(us_recvmsg(C.fd, &m, MSG_WAITALL), 6);
	pthread_join(p.tid, NULL);
	assert_true(p.sent);
	assert_memory_equal(buf, "abcdef", 6);
	assert_int_equal(m.msg_controllen, CMSG_SPACE(sizeof(t)));
	assert_int_equal(m.msg_flags & MSG_CTRUNC, 0);
	c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_level, SOL_SOCKET);
	assert_int_equal(c->cmsg_type, SO_TIMESTAMPNS_OLD);
	memcpy(t, CMSG_DATA(c), sizeof(t));
	assert_int_equal(t[0] * 1000000000 + t[1], want);
	assert_null(CMSG_NXTHDR(&m, c));
}

/* SIGIO pending for this process (taken). */
static int sigio_taken(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };
	int n = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		n++;
	return n;
}

/*
 * TCP_NOTSENT_LOWAT with O_ASYNC: the ACK that lets the unsent data go
 * tells the owner (POLL_OUT) once that data went, as Linux's
 * tcp_check_space comes after tcp_data_snd_check. Woken before the
 * sending, the test of writability saw the old unsent count and the
 * signal waited for a later ACK.
 */
static void test_notsent_lowat_sigio(void **state)
{
	int lowat = 2000;
	sigset_t set, old;
	ssize_t n;

	(void)state;
	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &set, &old), 0);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT,
				       &lowat, sizeof(lowat)), 0);
	assert_int_equal(us_fcntl(C.fd, F_SETOWN, getpid()), 0);
	assert_int_equal(us_fcntl(C.fd, F_SETFL, O_ASYNC | O_NONBLOCK), 0);
	/* The initial window goes (ten segments), then up to the mark. */
	n = us_send(C.fd, BUF, 20000, 0);
	assert_true(n > 10 * 1460 && n < 20000);
	assert_int_equal(tt_poll(C.fd) & POLLOUT, 0);
	ts_flush_tx(&T);
	sigio_taken();
	/* All of it acknowledged: the window lets the rest go. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 10 * 1460, NULL, 0);
	assert_int_equal(tt_poll(C.fd) & POLLOUT, POLLOUT);
	assert_int_equal(sigio_taken(), 1);
	ts_flush_tx(&T);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* TCP_INFO's ACK delay (tcpi_ato, us) and the times since data went,
 * data came and an ACK came (ms), from the connection's start on, as
 * Linux's tcp_get_info gives them. */
static void test_tcp_info_times(void **state)
{
	struct tcp_info ti;

	(void)state;
	ts_advance(&T, 5000000);
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_ato, 0);
	assert_int_equal(ti.tcpi_last_data_recv, 5000);
	assert_int_equal(ti.tcpi_last_data_sent, 5000);
	assert_int_equal(ti.tcpi_last_ack_recv, 5000);
	peer_data(&C, 100);
	TT_EXPECT_ACK(&C);
	ts_advance(&T, 1200000);
	assert_int_equal(us_send(C.fd, "x", 1, 0), 1);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1);
	C.rcv_nxt += 1;
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	ts_advance(&T, 300000);
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_ato, 40000);
	assert_int_equal(ti.tcpi_last_data_recv, 1500);
	assert_int_equal(ti.tcpi_last_data_sent, 300);
	assert_int_equal(ti.tcpi_last_ack_recv, 300);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_in_order_data),
		T_(test_delayed_ack),
		T_(test_delayed_ack_reader_behind),
		T_(test_ack_per_batch),
		T_(test_quickack_at_start),
		T_(test_out_of_order_and_fill),
		T_(test_overlap_delivered_once),
		T_(test_fin_out_of_order),
		T_(test_zero_window),
		T_(test_large_read_bad_iovec),
		T_(test_data_beyond_window),
		T_(test_nagle),
		T_(test_nodelay),
		T_(test_nodelay_pushes_pending),
		T_(test_cork_and_msg_more),
		T_(test_send_window),
		T_(test_pollout_third_free),
		T_(test_close_with_unread_data_resets),
		T_(test_close_wait_unread_resets),
		T_(test_linger_zero_resets),
		T_(test_linger_zero_syn_sent),
		T_(test_close_in_time_wait_with_unread),
		T_(test_reads_after_reset),
		T_(test_sigpipe_after_reset),
		T_(test_timestamp_last_segment_read),
		T_(test_notsent_lowat_sigio),
		T_(test_tcp_info_times),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
