/*
 * test_tcp_urgent.c - TCP urgent data against crafted peer segments in
 * virtual time (tcp_urgent.c). Receiving: the pointer as Linux reads it
 * (one past the urgent byte; 0 naming the segment's first byte), a
 * pointer beyond the window waiting for its data, URG on a SYN, URG in a
 * retransmitted segment, sequence numbers that wrap, and hostile pointers
 * (backwards, far ahead, repeated on every segment) that never corrupt the
 * stream and are counted. Sending: the URG flag and pointer on data, on
 * ACKs and on window probes, past Nagle and cork, and the 0xFFFF pointer
 * of a segment more than 64 KB before the urgent byte.
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
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/tcptest.h"
#include "ustack/ustack.h"

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[70000];
static volatile sig_atomic_t sigurgs;

static void on_sigurg(int sig)
{
	(void)sig;
	sigurgs++;
}

static void open_conn(uint32_t peer_isn)
{
	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	C.irs = peer_isn;
	tt_open(&C);
	assert_int_equal(us_fcntl(C.fd, F_SETOWN, getpid()), 0);
	sigurgs = 0;
}

static int setup(void **state)
{
	struct sigaction sa;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigurg;
	sigaction(SIGURG, &sa, NULL);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)('a' + i % 26);
	open_conn(0x10000000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	signal(SIGURG, SIG_DFL);
	return 0;
}

/* A segment from the peer at seq with URG and the given pointer. */
static void peer_urg_at(struct tt_conn *c, uint32_t seq, uint8_t flags,
			uint16_t urg_ptr, const void *data, size_t len)
{
	struct tt_out o = {
		.saddr = c->peer_addr, .daddr = c->us_addr,
		.sport = c->peer_port, .dport = c->us_port,
		.seq = seq, .ack = c->rcv_nxt, .flags = flags, .win = c->win,
		.data = data, .len = len, .urg_ptr = urg_ptr,
	};

	tt_inject(c->t, &o);
}

/* The peer's next segment, with URG and pointer. */
static void peer_urg(struct tt_conn *c, uint16_t urg_ptr, const void *data,
		     size_t len)
{
	peer_urg_at(c, c->snd_nxt, TCPHDR_ACK | TCPHDR_URG, urg_ptr, data, len);
	c->snd_nxt += (uint32_t)len;
}

static int atmark(int fd)
{
	int v = -1;

	assert_int_equal(us_ioctl(fd, SIOCATMARK, &v), 0);
	return v;
}

static int oob(int fd)
{
	char b = 0;
	ssize_t n = us_recv(fd, &b, 1, MSG_OOB);

	return n == 1 ? (unsigned char)b : n == 0 ? -2 : -errno;
}

/* Read what is there (up to the mark), as a string. */
static const char *readstr(int fd)
{
	static char s[4096];
	ssize_t n = us_recv(fd, s, sizeof(s) - 1, MSG_DONTWAIT);

	s[n > 0 ? n : 0] = 0;
	return s;
}

static uint64_t mib(enum us_mib m)
{
	return tt_mib(&T, m);
}

/* ---- receiving ----------------------------------------------------------- */

static void test_urg_in_order(void **state)
{
	(void)state;
	peer_urg(&C, 4, "abcX", 4);
	TT_EXPECT_ACK(&C);
	assert_true(tt_poll(C.fd) & POLLPRI);
	assert_int_equal(sigurgs, 1);
	assert_int_equal(atmark(C.fd), 0);
	assert_string_equal(readstr(C.fd), "abc");
	assert_int_equal(atmark(C.fd), 1);
	assert_int_equal(oob(C.fd), 'X');
	assert_int_equal(oob(C.fd), -EINVAL);
	assert_false(tt_poll(C.fd) & POLLPRI);
	assert_int_equal(mib(US_MIB_TCP_URG_RCVD), 1);
}

/* A pointer of 0 with URG: Linux takes it to name the segment's first
 * byte (it subtracts one only from a nonzero pointer). */
static void test_urg_ptr_zero(void **state)
{
	(void)state;
	peer_urg(&C, 0, "abc", 3);
	assert_int_equal(atmark(C.fd), 1);
	assert_int_equal(oob(C.fd), 'a');
	assert_string_equal(readstr(C.fd), "bc");
}

/*
 * A pointer beyond the window, on a segment without data: SIGURG at once,
 * but the byte is not there (EAGAIN, no POLLPRI); the data before it is
 * read normally, and the byte is taken when it comes.
 */
static void test_urg_beyond_window(void **state)
{
	uint8_t b[6000];

	(void)state;
	peer_urg(&C, 65535, NULL, 0);
	assert_int_equal(sigurgs, 1);
	assert_int_equal(mib(US_MIB_TCP_URG_BEYOND_WND), 1);
	assert_int_equal(oob(C.fd), -EAGAIN);
	assert_false(tt_poll(C.fd) & POLLPRI);
	for (int i = 0; i < 60; i++) {
		tt_peer(&C, TCPHDR_ACK, BUF + i * 1000, 1000);
		assert_int_equal(us_recv(C.fd, b, sizeof(b), 0), 1000);
		assert_memory_equal(b, BUF + i * 1000, 1000);
	}
	assert_int_equal(oob(C.fd), -EAGAIN);
	/* 65534 bytes after the segment's seq is the urgent one. */
	tt_peer(&C, TCPHDR_ACK, BUF + 60000, 5534);
	assert_int_equal(us_recv(C.fd, b, sizeof(b), 0), 5534);
	assert_memory_equal(b, BUF + 60000, 5534);
	assert_int_equal(atmark(C.fd), 1);
	assert_int_equal(oob(C.fd), -EAGAIN);
	tt_peer(&C, TCPHDR_ACK, "!rest", 5);
	assert_true(tt_poll(C.fd) & POLLPRI);
	assert_int_equal(oob(C.fd), '!');
	assert_string_equal(readstr(C.fd), "rest");
}

/* A pointer at data already read (backwards), or not newer than the one
 * known: ignored, counted, no signal, and the stream untouched. */
static void test_urg_stale(void **state)
{
	(void)state;
	tt_peer(&C, TCPHDR_ACK, "hello", 5);
	assert_string_equal(readstr(C.fd), "hello");
	peer_urg_at(&C, C.snd_nxt - 5, TCPHDR_ACK | TCPHDR_URG, 2, "hello", 5);
	assert_int_equal(sigurgs, 0);
	assert_int_equal(mib(US_MIB_TCP_URG_STALE), 1);
	assert_int_equal(oob(C.fd), -EINVAL);
	assert_int_equal(atmark(C.fd), 0);
	/* The same pointer on every segment: one mark, one signal. */
	peer_urg(&C, 30, "0123456789", 10);
	peer_urg(&C, 20, "0123456789", 10);
	peer_urg(&C, 10, "012345678U", 10);
	assert_int_equal(sigurgs, 1);
	assert_int_equal(mib(US_MIB_TCP_URG_RCVD), 1);
	assert_int_equal(mib(US_MIB_TCP_URG_STALE), 3);
	assert_string_equal(readstr(C.fd), "0123456789012345678901234567"
			    "8");
	assert_int_equal(oob(C.fd), 'U');
	assert_string_equal(readstr(C.fd), "");
}

/* The segment holding the urgent byte sent again: nothing changes. */
static void test_urg_retransmitted(void **state)
{
	(void)state;
	peer_urg(&C, 4, "abcX", 4);
	assert_int_equal(oob(C.fd), 'X');
	assert_string_equal(readstr(C.fd), "abc");
	peer_urg_at(&C, C.snd_nxt - 4, TCPHDR_ACK | TCPHDR_URG, 4, "abcX", 4);
	TT_EXPECT_ACK(&C);
	assert_int_equal(sigurgs, 1);
	assert_int_equal(oob(C.fd), -EINVAL);
	assert_int_equal(atmark(C.fd), 1);
	/* Before the byte was read, the same. */
	peer_urg(&C, 2, "dY", 2);
	peer_urg_at(&C, C.snd_nxt - 2, TCPHDR_ACK | TCPHDR_URG, 2, "dY", 2);
	assert_int_equal(sigurgs, 2);
	assert_string_equal(readstr(C.fd), "d");
	assert_int_equal(oob(C.fd), 'Y');
}

/* An urgent byte that arrives out of order is copied at once; the hole
 * filled, the stream reads around it. */
static void test_urg_out_of_order(void **state)
{
	(void)state;
	peer_urg_at(&C, C.snd_nxt + 3, TCPHDR_ACK | TCPHDR_URG, 2, "dZe", 3);
	assert_int_equal(sigurgs, 1);
	assert_true(tt_poll(C.fd) & POLLPRI);
	tt_peer(&C, TCPHDR_ACK, "abc", 3);
	C.snd_nxt += 3;
	assert_string_equal(readstr(C.fd), "abcd");
	assert_int_equal(oob(C.fd), 'Z');
	assert_string_equal(readstr(C.fd), "e");
}

/* Sequence numbers that wrap around 2^32 within the segment. */
static void test_urg_wrap(void **state)
{
	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	open_conn(0xfffffff0);
	tt_peer(&C, TCPHDR_ACK, "0123456789", 10);
	assert_string_equal(readstr(C.fd), "0123456789");
	/* seq 0xfffffffb: bytes 0xfffffffb..0x4, the urgent one at 0x2. */
	peer_urg(&C, 8, "abcdefgXij", 10);
	assert_string_equal(readstr(C.fd), "abcdefg");
	assert_int_equal(atmark(C.fd), 1);
	assert_int_equal(oob(C.fd), 'X');
	assert_string_equal(readstr(C.fd), "ij");
	/* The segment again, with a pointer before the wrap: stale. */
	peer_urg_at(&C, 0xfffffffb, TCPHDR_ACK | TCPHDR_URG, 3, "abcdefgXij",
		    10);
	assert_int_equal(mib(US_MIB_TCP_URG_STALE), 1);
	assert_int_equal(oob(C.fd), -EINVAL);
}

/* URG on a SYN to a listener means nothing to the new connection. */
static void test_urg_on_syn(void **state)
{
	struct tt_out o;
	static struct tt_seg seg;
	const struct tt_seg *s = &seg;

	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	tt_stack_init(&T);
	tt_conn_init(&C, &T, false);
	C.lfd = tt_listen(&T, C.us_port, 8);
	memset(&o, 0, sizeof(o));
	o.saddr = C.peer_addr;
	o.daddr = C.us_addr;
	o.sport = C.peer_port;
	o.dport = C.us_port;
	o.seq = C.irs;
	o.flags = TCPHDR_SYN | TCPHDR_URG;
	o.win = 65535;
	o.urg_ptr = 1;
	tt_inject(&T, &o);
	assert_true(tt_pop(&T, &seg));
	assert_int_equal(s->th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_int_equal(s->th.urg_ptr, 0);
	C.iss = s->th.seq;
	C.snd_nxt = C.irs + 1;
	C.rcv_nxt = C.iss + 1;
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	C.fd = us_accept(C.lfd, NULL, NULL);
	assert_true(C.fd >= 0);
	tt_peer(&C, TCPHDR_ACK, "ab", 2);
	assert_int_equal(atmark(C.fd), 0);
	assert_int_equal(oob(C.fd), -EINVAL);
	assert_string_equal(readstr(C.fd), "ab");
	assert_int_equal(mib(US_MIB_TCP_URG_RCVD), 0);
}

/*
 * Hostile pointers: every segment points 0xFFFF ahead, so the mark keeps
 * moving beyond what has arrived. No byte is lost or taken out of the
 * stream until the data reaches a mark.
 */
static void test_urg_hostile_far(void **state)
{
	uint8_t b[2000];
	size_t got = 0;

	(void)state;
	for (int i = 0; i < 40; i++) {
		peer_urg(&C, 0xffff, BUF + i * 1000, 1000);
		got += (size_t)us_recv(C.fd, b, sizeof(b), MSG_DONTWAIT);
		assert_memory_equal(b, BUF + i * 1000, 1000);
	}
	assert_int_equal(got, 40000);
	assert_int_equal(sigurgs, 40);
	assert_int_equal(mib(US_MIB_TCP_URG_RCVD), 40);
	assert_int_equal(oob(C.fd), -EAGAIN);
	assert_int_equal(atmark(C.fd), 0);
	/* Pointing backwards into the segment's own data already read. */
	peer_urg_at(&C, C.snd_nxt - 1000, TCPHDR_ACK | TCPHDR_URG, 1,
		    BUF + 39000, 1000);
	assert_int_equal(mib(US_MIB_TCP_URG_STALE), 1);
	assert_int_equal(us_recv(C.fd, b, sizeof(b), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
}

/* ---- sending ------------------------------------------------------------- */

static void test_send_urg(void **state)
{
	const struct tt_seg *s;

	(void)state;
	assert_int_equal(us_send(C.fd, "abc", 3, MSG_OOB), 3);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_PSH | TCPHDR_URG, C.rcv_nxt,
		      C.snd_nxt);
	assert_int_equal(s->len, 3);
	assert_int_equal(s->th.urg_ptr, 3);   /* one past the urgent byte */
	assert_int_equal(mib(US_MIB_TCP_URG_MARKED), 1);
	/* An ACK carries it only from below it (Linux: seq < SND.UP), not
	 * once the urgent byte is sent. */
	tt_peer(&C, TCPHDR_ACK, "x", 1);
	TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt + 3, C.snd_nxt);
	C.rcv_nxt += 3;
	tt_peer(&C, TCPHDR_ACK, "y", 1);
	TT_EXPECT_ACK(&C);
	/* Nagle holds a short segment while one is unacknowledged, but not
	 * urgent data. */
	assert_int_equal(us_send(C.fd, "d", 1, 0), 1);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1);
	assert_int_equal(us_send(C.fd, "e", 1, 0), 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(C.fd, "!", 1, MSG_OOB), 1);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_PSH | TCPHDR_URG, C.rcv_nxt + 1,
		      C.snd_nxt);
	assert_int_equal(s->len, 2);
	assert_int_equal(s->th.urg_ptr, 2);
	/* Cork too. */
	C.rcv_nxt += 3;
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CORK, &(int){1},
				       sizeof(int)), 0);
	assert_int_equal(us_send(C.fd, "f", 1, MSG_OOB), 1);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_PSH | TCPHDR_URG, C.rcv_nxt,
		      C.snd_nxt);
	assert_int_equal(s->th.urg_ptr, 1);
	/* Acknowledged: no more URG. (The data sent since "y" came made
	 * the connection interactive: the ACK waits its 40 ms, as Linux's
	 * pingpong mode has it, tcp_delack.c.) */
	C.rcv_nxt += 1;
	tt_peer(&C, TCPHDR_ACK, "z", 1);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, TCP_DELACK_MIN_US);
	s = TT_EXPECT_ACK(&C);
	assert_false(s->th.flags & TCPHDR_URG);
}

/* Behind a zero window the urgent pointer goes out on the window probes:
 * one at SND.UNA, which the peer accepts, then the usual one below. */
static void test_send_urg_zero_window(void **state)
{
	const struct tt_seg *s;

	(void)state;
	C.win = 0;
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_send(C.fd, "abcd", 4, MSG_OOB), 4);
	TT_EXPECT_NONE(&T);
	/* Our ACK of the peer's data, from below the urgent byte, too. */
	tt_peer(&C, TCPHDR_ACK, "x", 1);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_URG, C.rcv_nxt, C.snd_nxt);
	assert_int_equal(s->th.urg_ptr, 4);
	for (int i = 0; i < 100 && skb_queue_empty(T.txq); i++)
		ts_advance(&T, 10000);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_URG, C.rcv_nxt, C.snd_nxt);
	assert_int_equal(s->len, 0);
	assert_int_equal(s->th.urg_ptr, 4);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_URG, C.rcv_nxt - 1, C.snd_nxt);
	assert_int_equal(s->th.urg_ptr, 5);
	TT_EXPECT_NONE(&T);
	C.win = 65535;
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	s = TT_EXPECT(&C, TCPHDR_ACK | TCPHDR_PSH | TCPHDR_URG, C.rcv_nxt,
		      C.snd_nxt);
	assert_int_equal(s->len, 4);
	assert_int_equal(s->th.urg_ptr, 4);
}

/* 64 KB and more before the urgent byte: 0xFFFF, "urgent data ahead". */
static void test_send_urg_far(void **state)
{
	static struct tt_seg seg;
	const struct tt_seg *s = &seg;
	uint32_t seq = C.rcv_nxt;

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 66000, MSG_OOB), 66000);
	for (int i = 0; i < 10; i++) {
		assert_true(tt_pop(&T, &seg));
		assert_int_equal(s->th.seq, seq);
		assert_int_equal(s->len, 1460);
		assert_true(s->th.flags & TCPHDR_URG);
		if (66000 - (seq - C.rcv_nxt) >= 0x10000)
			assert_int_equal(s->th.urg_ptr, 0xffff);
		else
			assert_int_equal(s->th.urg_ptr,
					 66000 - (seq - C.rcv_nxt));
		seq += 1460;
	}
}

/* ---- the owner: process group 1 ---------------------------------------- */

/*
 * As pid 1 of a new PID namespace, in process group 1, with a bystander
 * (pid 2) in a group of its own: F_SETOWN(-1) names process group 1
 * (Linux's f_setown), so the urgent byte's SIGURG must reach us and not
 * the bystander. kill(-1) would do the opposite (every process but the
 * caller and init); the namespace keeps that from reaching the machine.
 * Exit status: 0 as Linux, 3 the bystander was signalled, 4 we were not.
 */
static int pgrp1_init(void)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int ready[2], done[2], st;
	sigset_t urg;
	char c = 0;
	pid_t by;

	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	if (setpgid(0, 0) < 0 || pipe(ready) < 0 || pipe(done) < 0)
		return 1;
	sigprocmask(SIG_BLOCK, &urg, NULL);
	by = fork();
	if (by < 0)
		return 1;
	if (by == 0) {
		setpgid(0, 0);
		(void)!write(ready[1], "x", 1);
		fcntl(done[0], F_SETFL, O_NONBLOCK);
		for (;;) {
			if (sigtimedwait(&urg, NULL, &tick) == SIGURG)
				_exit(3);
			if (read(done[0], &c, 1) == 1)
				break;
		}
		tick.tv_nsec = 0;
		_exit(sigtimedwait(&urg, NULL, &tick) == SIGURG ? 3 : 0);
	}
	if (read(ready[0], &c, 1) != 1)
		return 1;
	sigprocmask(SIG_UNBLOCK, &urg, NULL);
	if (us_fcntl(C.fd, F_SETOWN, -1) < 0 || us_fcntl(C.fd, F_GETOWN) != -1)
		return 1;
	sigurgs = 0;
	peer_urg(&C, 4, "abcX", 4);
	(void)!write(done[1], "x", 1);
	if (waitpid(by, &st, 0) != by || !WIFEXITED(st))
		return 1;
	if (WEXITSTATUS(st))
		return WEXITSTATUS(st);
	return sigurgs == 1 ? 0 : 4;
}

static void test_sigurg_process_group_1(void **state)
{
	pid_t child, init;
	int st;

	(void)state;
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		/* The namespace's first child is its pid 1. */
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		init = fork();
		if (init == 0)
			_exit(pgrp1_init());
		if (init < 0 || waitpid(init, &st, 0) != init || !WIFEXITED(st))
			_exit(1);
		_exit(WEXITSTATUS(st));
	}
	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77) {
		print_message("skipped: no PID namespace\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T_(test_urg_in_order),
		T_(test_urg_ptr_zero),
		T_(test_urg_beyond_window),
		T_(test_urg_stale),
		T_(test_urg_retransmitted),
		T_(test_urg_out_of_order),
		T_(test_urg_wrap),
		T_(test_urg_on_syn),
		T_(test_urg_hostile_far),
		T_(test_send_urg),
		T_(test_send_urg_zero_window),
		T_(test_send_urg_far),
		T_(test_sigurg_process_group_1),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
