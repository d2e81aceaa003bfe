/*
 * test_tcp_mem.c - what an idle TCP connection costs and the state kept
 * out of it (`make bench`, idle memory): the malloc'd bytes of a socket
 * against the 1 KB budget, a listener's queues in the congestion state's
 * area (tcp.h), and the receiver's SACK blocks (tcp_sack.c), made only
 * while there is something to report, including what happens when there
 * is no memory for them: ACKs without blocks, counted, nothing leaked.
 *
 * The test is linked with -Wl,--wrap=calloc (Makefile) so that it can make
 * the stack's allocation of the SACK blocks fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tcptest.h"
#include "net/tcp/tcp_cong.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

/* ---- calloc failure injection --------------------------------------------- */

void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);

/* Fail callocs of this many bytes (0: none) while fail_left > 0. */
static size_t fail_size;
static int fail_left;

void *__wrap_calloc(size_t n, size_t size)
{
	if (fail_left > 0 && n * size == fail_size) {
		fail_left--;
		return NULL;
	}
	return __real_calloc(n, size);
}

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[8192];

static int setup(void **state)
{
	*state = &T;
	fail_size = 0;
	fail_left = 0;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, false);
	C.sack_perm = true;
	tt_open(&C);
	return 0;
}

/* The peer sends len bytes at offset off past its next sequence number. */
static const struct tt_seg *ooo(uint32_t off, uint32_t len)
{
	tt_peer_at(&C, off, TCPHDR_ACK, BUF, len);
	return TT_EXPECT_ACK(&C);
}

/* ---- the budget ------------------------------------------------------------ */

/*
 * The heap an idle established socket holds: its struct socket and its
 * tcp_sock, as malloc rounds them (usable size plus the 8-byte chunk
 * header), and the descriptor table's 16-byte slot. The target of issue 6
 * is 1 KB with the slot's share of the table's doubling; 992 keeps that.
 */
static void test_idle_socket_fits_budget(void **state)
{
	struct socket *sock = sockfd_lookup(C.fd, NULL);
	size_t bytes;

	(void)state;
	assert_non_null(sock);
	bytes = malloc_usable_size(sock) + 8 + malloc_usable_size(sock->sk) + 8;
	sockfd_put(sock);
	assert_true(bytes + 16 <= 992);
	/* Nothing else hangs off an idle connection. */
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
}

/* ---- a listener's queues in the congestion state's area -------------------- */

/*
 * TCP_CONGESTION on a listener with a child in its SYN queue switches the
 * algorithm without touching the queues: the child is accepted.
 */
static void test_listener_setsockopt_keeps_queues(void **state)
{
	struct tt_conn c;
	char name[TCP_CA_NAME_MAX];
	socklen_t len = sizeof(name);

	(void)state;
	tt_conn_init(&c, &T, false);
	c.us_port = 9100;
	c.peer_port = 41000;
	tt_open_synrecv(&c);
	assert_int_equal(us_setsockopt(c.lfd, IPPROTO_TCP, TCP_CONGESTION,
				       "reno", 4), 0);
	assert_int_equal(tt_poll(c.lfd) & POLLIN, 0);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_poll(c.lfd) & POLLIN, POLLIN);
	c.fd = us_accept4(c.lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(c.fd >= 0);
	assert_int_equal(tt_poll(c.lfd) & POLLIN, 0);
	assert_int_equal(us_getsockopt(c.lfd, IPPROTO_TCP, TCP_CONGESTION,
				       name, &len), 0);
	assert_string_equal(name, "reno");
	us_close(c.fd);
	us_close(c.lfd);
}

/* A socket that stops listening has its algorithm's state back, exactly as
 * a new socket's. */
static void test_listener_stop_fresh_ca(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_UNSPEC };
	int lfd = tt_listen(&T, 9101, 5);
	int fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct tcp_sock *ltp = tcp_sk(tt_sk(lfd)), *tp = tcp_sk(tt_sk(fd));

	(void)state;
	assert_true(fd >= 0);
	assert_int_not_equal(memcmp(ltp->ca_priv, tp->ca_priv,
				    sizeof(tp->ca_priv)), 0);
	assert_int_equal(us_connect(lfd, (struct sockaddr *)&sin,
				    sizeof(sin)), 0);
	assert_int_equal(tt_state(lfd), TCP_CLOSE);
	assert_ptr_equal(ltp->ca_ops, &tcp_cubic);
	assert_memory_equal(ltp->ca_priv, tp->ca_priv, sizeof(tp->ca_priv));
	us_close(fd);
	us_close(lfd);
}

/* ---- the receiver's SACK blocks ------------------------------------------- */

static void test_sack_state_comes_and_goes(void **state)
{
	const struct tt_seg *s;

	(void)state;
	s = ooo(100, 100);
	assert_int_equal(s->th.opts.nsacks, 1);
	assert_non_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	/* The hole fills: nothing left to report, the state goes. */
	tt_peer(&C, TCPHDR_ACK, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 100);
	assert_int_equal(s->th.opts.nsacks, 0);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	/* A D-SACK alone: made for the one ACK that carries it. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt - 100, C.rcv_nxt, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 100);
	assert_int_equal(s->th.opts.nsacks, 1);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RCV_NOMEM), 0);
	assert_int_equal(us_recv(C.fd, BUF, sizeof(BUF), MSG_DONTWAIT), 200);
}

static void test_sack_state_nomem(void **state)
{
	const struct tt_seg *s;

	(void)state;
	fail_size = sizeof(struct tcp_sack_rcv);
	fail_left = 1;
	/* No memory: the ACK goes without blocks, counted. */
	s = ooo(100, 100);
	assert_int_equal(s->th.opts.nsacks, 0);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RCV_NOMEM), 1);
	/* The next out-of-order segment is reported; the run not reported
	 * is still held. */
	s = ooo(300, 100);
	assert_int_equal(s->th.opts.nsacks, 1);
	assert_int_equal(s->th.opts.sacks[0].start - C.snd_nxt, 300);
	assert_int_equal(s->th.opts.sacks[0].end - C.snd_nxt, 400);
	tt_peer(&C, TCPHDR_ACK, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 100);
	assert_int_equal(s->th.opts.nsacks, 1);
	tt_peer_at(&C, 100, TCPHDR_ACK, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 300);
	assert_int_equal(s->th.opts.nsacks, 0);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	/* A duplicate without memory for its D-SACK: a plain ACK. */
	fail_left = 1;
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.rcv_nxt, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 300);
	assert_int_equal(s->th.opts.nsacks, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RCV_NOMEM), 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_SENT), 0);
	assert_int_equal(us_recv(C.fd, BUF, sizeof(BUF), MSG_DONTWAIT), 400);
}

/* ---- the sender's RACK state (tcp_rack.c) ------------------------------- */

/* The peer ACKs bytes up to ack and SACKs [start, end) of our data. */
static void peer_sack(uint32_t ack, uint32_t start, uint32_t end)
{
	uint32_t s = C.iss + 1 + start, e = C.iss + 1 + end;
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };

	for (int k = 0; k < 4; k++) {
		o[4 + k] = (uint8_t)(s >> (24 - 8 * k));
		o[8 + k] = (uint8_t)(e >> (24 - 8 * k));
	}
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + ack, o, sizeof(o),
		    NULL, 0);
}

/* Made with the first SACK block and kept while the connection lives;
 * without memory RACK stays off and RFC 6675's DupThresh finds the loss
 * (three SACKed segments), nothing else changes. */
static void test_rack_state(void **state)
{
	const uint32_t mss = 1460;   /* the peer's (tcptest.h) */

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 4 * mss, 0), 4 * mss);
	for (uint32_t i = 0; i < 4; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + i * mss, mss);
	fail_size = sizeof(struct tcp_sack_rcv);
	fail_left = 100;
	peer_sack(0, mss, 2 * mss);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	TT_EXPECT_NONE(&T);
	peer_sack(0, mss, 4 * mss);
	assert_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	TT_EXPECT_DATA(&C, C.iss + 1, mss);   /* DupThresh */
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RCV_NOMEM), 0);
	fail_left = 0;
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 4 * mss, NULL, 0);
	/* With memory: made by the first SACK block, kept after. */
	assert_int_equal(us_send(C.fd, BUF, 2 * mss, 0), 2 * mss);
	TT_EXPECT_DATA(&C, C.iss + 1 + 4 * mss, mss);
	TT_EXPECT_DATA(&C, C.iss + 1 + 5 * mss, mss);
	peer_sack(4 * mss, 5 * mss, 6 * mss);
	assert_non_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
	assert_true(tcp_sk(tt_sk(C.fd))->sack_rcv->rack.on);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 6 * mss, NULL, 0);
	assert_non_null(tcp_sk(tt_sk(C.fd))->sack_rcv);
}

/* ---- receive memory ------------------------------------------------------ */

/*
 * A peer that fills its window with one-byte segments, each behind a hole:
 * each holds a whole buffer, so the out-of-order queue is charged by the
 * buffer (truesize), not the byte, and stops at the receive buffer;
 * in-order data then gets room from it. Every byte is still received, in
 * order, once the holes fill.
 */
static void test_ofo_tiny_segments_bounded(void **state)
{
	enum { N = 3000 };
	static uint8_t got[2 * N + 2];
	struct sock *sk = tt_sk(C.fd);
	struct tcp_sock *tp = tcp_sk(sk);
	size_t n = 0;

	(void)state;
	for (uint32_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + 5);
	for (uint32_t i = 1; i <= N; i++) {
		tt_peer_at(&C, 2 * i, TCPHDR_ACK, BUF + 2 * i, 1);
		/* Within the buffer, but for the last one taken. */
		assert_true(sk->rmem_alloc <= sk->rcvbuf + 4096);
	}
	ts_flush_tx(&T);
	assert_true(tp->ooo_queue.qlen > 10);
	assert_true(tp->ooo_queue.qlen < N);
	assert_true(tt_drops(&T, US_DROP_TCP_OFO_DROP) > 0);
	/* Each one-byte segment came in a full frame's buffer: those held
	 * were made compact (tcp_collapse, tcp_rmem_charge). */
	assert_true(tt_mib(&T, US_MIB_TCP_RCV_COLLAPSED) >= tp->ooo_queue.qlen);
	/* The holes fill, 500 bytes at a time. */
	for (uint32_t off = 0; off < 2 * N + 2; off += 500) {
		uint32_t len = 2 * N + 2 - off < 500 ? 2 * N + 2 - off : 500;

		tt_send(&C, TCPHDR_ACK, C.snd_nxt + off, C.rcv_nxt, BUF + off,
			len);
	}
	C.snd_nxt += 2 * N + 2;
	ts_flush_tx(&T);
	while (n < sizeof(got)) {
		ssize_t r = us_recv(C.fd, got + n, sizeof(got) - n,
				    MSG_DONTWAIT);

		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_memory_equal(got, BUF, sizeof(got));
	assert_int_equal(tp->ooo_queue.qlen, 0);
	assert_int_equal(sk->rmem_alloc, 0);
}

/*
 * In-order one-byte segments the reader has not read yet share buffers
 * (Linux's tcp_try_coalesce) instead of taking one each: the queue stays
 * short, the memory within the receive buffer, and the bytes come out as
 * they went in.
 */
static void test_small_segments_coalesced(void **state)
{
	enum { N = 2000 };
	static uint8_t got[N];
	struct sock *sk = tt_sk(C.fd);

	(void)state;
	for (uint32_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 11 + 1);
	for (uint32_t i = 0; i < N; i++) {
		tt_peer(&C, TCPHDR_ACK, BUF + i, 1);
		ts_flush_tx(&T);
	}
	assert_true(sk->receive_queue.qlen < N / 10);
	assert_int_equal(sk->receive_queue.bytes, N);
	assert_true(sk->rmem_alloc <= sk->rcvbuf + 4096);
	assert_true(tt_mib(&T, US_MIB_TCP_RCV_COALESCED) >= N - N / 10);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RCVQ_FULL), 0);
	assert_int_equal(us_recv(C.fd, got, sizeof(got), MSG_DONTWAIT), N);
	assert_memory_equal(got, BUF, N);
	assert_int_equal(sk->rmem_alloc, 0);
}

/*
 * A driver that hands each segment up in a 64 KB buffer (a GSO receive
 * buffer holding one segment): the socket's memory is reckoned in buffers,
 * its window in bytes, so the receive buffer fills long before the window
 * it offered is used. The receiver moves such data into buffers of its size
 * (Linux's tcp_collapse) rather than drop what it let in: in order first,
 * then behind a hole. Every byte comes out as it went in.
 */
static uint8_t BIG[1 << 20];

static void big_buffers_fill(bool hole)
{
	enum { SEG = 1400 };
	struct sock *sk = tt_sk(C.fd);
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t wnd = tcp_receive_window(tp);
	uint32_t off, end;
	size_t n = 0;

	for (uint32_t i = 0; i < sizeof(BIG); i++)
		BIG[i] = (uint8_t)(i * 7 + i / 251);
	T.rx_buf = 65536;
	assert_true(wnd >= 16 * SEG && wnd <= sizeof(BIG));
	end = wnd - wnd % SEG;
	/* More buffers than the receive buffer holds at 64 KB each. */
	assert_true((end / SEG) * 65536u > 2u * (uint32_t)sk->rcvbuf);
	for (off = hole ? SEG : 0; off < end; off += SEG) {
		tt_peer_at(&C, off, TCPHDR_ACK, BIG + off, SEG);
		ts_flush_tx(&T);
	}
	if (hole) {
		assert_int_equal(tp->ooo_queue.qlen * SEG, end - SEG);
		tt_peer_at(&C, 0, TCPHDR_ACK, BIG, SEG);
		ts_flush_tx(&T);
	}
	C.snd_nxt += end;
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RCVQ_FULL), 0);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_OFO_DROP), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OFO_PRUNED), 0);
	assert_true(tt_mib(&T, US_MIB_TCP_RCV_COLLAPSED) > 0);
	/* Those that came at the limit were made compact as they were
	 * taken, not by a walk of the queues each (tcp_rmem_charge): a walk
	 * per segment would cost a walk of thousands in a large buffer. */
	assert_true(tt_mib(&T, US_MIB_TCP_PRUNE_CALLED) <= 2);
	assert_int_equal(sk->receive_queue.bytes, end);
	/* Within the buffer, but for the last buffer taken past it, and
	 * the one that filled the hole (taken into an empty queue). */
	assert_true(sk->rmem_alloc <= sk->rcvbuf + 2 * (65536 + 4096));
	while (n < end) {
		ssize_t r = us_recv(C.fd, BIG + sizeof(BIG) / 2, end - n,
				    MSG_DONTWAIT);

		assert_true(r > 0);
		assert_memory_equal(BIG + sizeof(BIG) / 2, BIG + n, (size_t)r);
		n += (size_t)r;
	}
	assert_int_equal(sk->rmem_alloc, 0);
}

static void test_big_buffers_collapsed(void **state)
{
	(void)state;
	big_buffers_fill(false);
}

static void test_big_buffers_collapsed_ooo(void **state)
{
	(void)state;
	big_buffers_fill(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_socket_fits_budget,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(
			test_listener_setsockopt_keeps_queues, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_listener_stop_fresh_ca,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sack_state_comes_and_goes,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sack_state_nomem, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_rack_state, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_ofo_tiny_segments_bounded,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_small_segments_coalesced,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_big_buffers_collapsed,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_big_buffers_collapsed_ooo,
						setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
