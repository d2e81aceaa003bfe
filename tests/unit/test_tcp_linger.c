/*
 * test_tcp_linger.c - close() with SO_LINGER and a time, as Linux does it
 * (inet_release -> tcp_close(sk, lingertime) -> sk_stream_wait_close):
 * close() sends the FIN and blocks until the peer acknowledged it (the
 * state leaves FIN_WAIT1, CLOSING and LAST_ACK) or the time runs out, then
 * returns 0 either way; on timeout the connection closes on as an orphan,
 * unreset. Unread data still resets at once, without waiting.
 *
 * No runtime thread runs: the peer's ACK comes from a helper thread that
 * takes the core lock and injects it while close() sleeps. Lingering is
 * measured in real time, the stack's clock stays virtual. Linux lingers on
 * a nonblocking socket too, and the fixtures' sockets are nonblocking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/tcptest.h"
#include "ustack/ustack.h"

#define MS 1000
#define SEC US_USEC_PER_SEC

static struct test_stack T;
static uint8_t BUF[1000];

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	memset(BUF, 'l', sizeof(BUF));
	return 0;
}

static void set_linger(int fd, int secs)
{
	struct linger l = { 1, secs };

	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l,
				       sizeof(l)), 0);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The peer, on its own thread: once the connection is in `when` (our FIN
 * went out), it waits delay_ms more and then sends one segment. It does
 * not use cmocka's asserts, which may only fail on the test's thread.
 */
struct peer_thread {
	pthread_t tid;
	struct tt_conn *c;
	int when;             /* the state to wait for */
	int delay_ms;
	uint8_t flags;
	uint32_t ack;         /* what it acknowledges */
	const void *data;
	size_t len;
	bool sent;            /* the segment went, while close() waited */
};

static void *peer_main(void *arg)
{
	struct peer_thread *p = arg;
	struct ustack *st = p->c->t->st;

	for (int i = 0; i < 5000; i++) {
		bool ready;

		pthread_mutex_lock(&st->lock);
		ready = tt_conn_state(p->c) == p->when;
		pthread_mutex_unlock(&st->lock);
		if (ready)
			break;
		usleep(1000);
	}
	usleep((useconds_t)p->delay_ms * 1000);
	pthread_mutex_lock(&st->lock);
	if (tt_conn_state(p->c) == p->when) {
		tt_send(p->c, p->flags, p->c->snd_nxt, p->ack, p->data, p->len);
		p->sent = true;
	}
	pthread_mutex_unlock(&st->lock);
	return NULL;
}

/* The peer sends data (if any) with its ACK. */
static void peer_start_data(struct peer_thread *p, struct tt_conn *c,
			    int when, int delay_ms, uint32_t ack,
			    const void *data, size_t len)
{
	memset(p, 0, sizeof(*p));
	p->c = c;
	p->when = when;
	p->delay_ms = delay_ms;
	p->flags = TCPHDR_ACK;
	p->ack = ack;
	p->data = data;
	p->len = len;
	assert_int_equal(pthread_create(&p->tid, NULL, peer_main, p), 0);
}

static void peer_start(struct peer_thread *p, struct tt_conn *c, int when,
		       int delay_ms, uint32_t ack)
{
	peer_start_data(p, c, when, delay_ms, ack, NULL, 0);
}

/*
 * Unacknowledged data, then close() with a 10 s linger: the FIN goes
 * behind the data and close() returns only once the peer (200 ms later)
 * acknowledged both, with 0. The orphan is in FIN_WAIT2 and goes after
 * TCP_LINGER2 (60 s) without the peer's FIN.
 */
static void test_linger_waits_for_ack(void **state)
{
	struct peer_thread p;
	struct tt_conn c;
	int64_t t0, ms;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	set_linger(c.fd, 10);
	peer_start(&p, &c, TCP_FIN_WAIT1, 200, c.rcv_nxt + 100 + 1);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	ms = now_ms() - t0;
	pthread_join(p.tid, NULL);
	assert_true(p.sent);
	assert_true(ms >= 200);
	assert_true(ms < 10000);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt + 100, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	ts_advance(&T, 60 * SEC - 1);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	ts_advance(&T, 1);
	assert_int_equal(tt_conn_state(&c), -1);
	TT_EXPECT_NONE(&T);
}

/*
 * No ACK comes: close() returns 0 after the linger time (1 s), and the
 * connection is not reset (Linux): it stays in FIN_WAIT1 as an orphan,
 * retransmits on its own, and finishes when the peer catches up.
 */
static void test_linger_timeout_orphan(void **state)
{
	struct tt_conn c;
	int64_t t0, ms;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	set_linger(c.fd, 1);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	ms = now_ms() - t0;
	assert_true(ms >= 1000);
	assert_true(ms < 5000);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt + 100, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT1);
	/* The retransmission timer (RTO about 200 ms here) sends the data
	 * again, the FIN merged in (Linux's tcp_retrans_try_collapse): the
	 * orphan lives on in virtual time. */
	ts_advance(&T, 3 * SEC);
	assert_int_equal(TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_PSH | TCPHDR_ACK,
				   c.rcv_nxt, c.snd_nxt)->len, 100);
	ts_flush_tx(&T);
	c.rcv_nxt += 101;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	tt_peer(&c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	TT_EXPECT_ACK(&c);
	assert_int_equal(tt_conn_state(&c), TCP_TIME_WAIT);
}

/* close() in CLOSE_WAIT: LAST_ACK until the peer's ACK of our FIN, which
 * ends the connection, and then close() returns. */
static void test_linger_last_ack(void **state)
{
	struct peer_thread p;
	struct tt_conn c;
	int64_t t0;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open(&c);
	tt_to_close_wait(&c);
	set_linger(c.fd, 10);
	peer_start(&p, &c, TCP_LAST_ACK, 100, c.rcv_nxt + 1);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	assert_true(now_ms() - t0 >= 100);
	pthread_join(p.tid, NULL);
	assert_true(p.sent);
	TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/* Data arriving while close() lingers cannot be read any more: it is
 * answered with a RST (Linux: RCV_SHUTDOWN in FIN_WAIT1), and close()
 * returns at once. */
static void test_linger_data_resets(void **state)
{
	struct peer_thread p;
	struct tt_conn c;
	int64_t t0;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	set_linger(c.fd, 10);
	peer_start_data(&p, &c, TCP_FIN_WAIT1, 100, c.rcv_nxt, "late", 4);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	assert_true(now_ms() - t0 >= 100);
	assert_true(now_ms() - t0 < 5000);
	pthread_join(p.tid, NULL);
	assert_true(p.sent);
	TT_EXPECT(&c, TCPHDR_FIN | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	/* The RST answers the segment: SEG.ACK as its sequence number. */
	TT_EXPECT(&c, TCPHDR_RST, c.rcv_nxt, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/* Unread data: the close is an abort (RST) and there is nothing to wait
 * for, whatever the linger time (Linux checks unread data first). */
static void test_linger_unread_resets_at_once(void **state)
{
	struct tt_conn c;
	int64_t t0;

	(void)state;
	tt_conn_init(&c, &T, true);
	tt_open(&c);
	tt_peer(&c, TCPHDR_ACK, "unread", 6);
	ts_flush_tx(&T);
	set_linger(c.fd, 10);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	assert_true(now_ms() - t0 < 1000);
	TT_EXPECT(&c, TCPHDR_RST | TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), -1);
}

/*
 * Nothing left unacknowledged (FIN_WAIT2 after shutdown(SHUT_WR)), and a
 * listener: close() returns at once. The FIN_WAIT2 orphan then waits for
 * the peer's FIN no longer than TCP_LINGER2 (here 5 s), as Linux's
 * tcp_close arms it for a socket that was half closed before.
 */
static void test_linger_nothing_to_wait_for(void **state)
{
	struct tt_conn c;
	int five = 5;
	int64_t t0;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open(&c);
	tt_to_fin_wait2(&c, false);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_LINGER2, &five,
				       sizeof(five)), 0);
	set_linger(c.fd, 10);
	set_linger(c.lfd, 10);
	t0 = now_ms();
	assert_int_equal(us_close(c.fd), 0);
	assert_int_equal(us_close(c.lfd), 0);
	assert_true(now_ms() - t0 < 1000);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	ts_advance(&T, 5 * SEC - 1);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT2);
	ts_advance(&T, 1);
	assert_int_equal(tt_conn_state(&c), -1);
	TT_EXPECT_NONE(&T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(fn) cmocka_unit_test_setup_teardown(fn, setup, ts_teardown)
		T_(test_linger_waits_for_ack),
		T_(test_linger_timeout_orphan),
		T_(test_linger_last_ack),
		T_(test_linger_data_resets),
		T_(test_linger_unread_resets_at_once),
		T_(test_linger_nothing_to_wait_for),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
