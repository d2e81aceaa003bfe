/*
 * test_pool.c - connections whose send buffers together exceed the
 * instance's skb pool (ustack_config.mem_limit_bytes) must not take all
 * of it: the pool's last eighth is kept for arriving frames
 * (skb_pool_may_queue, tcp.c: tcp_pool_ok), so the ACKs that free sent
 * data can still be read. Before, connections with full buffers could
 * leave no buffer to read a frame into, nothing was ever acknowledged
 * again, and every connection stalled for good (nginx under wrk: 64
 * connections sending 10 MB each, 64 MB pool).
 *
 * Two instances over the in-memory wire in virtual time: the sender's
 * pool is 1 MB, its sixteen connections' send buffers grow by themselves
 * (up to tcp_wmem[2], 4 MB), the receiver does not read at first.
 * Checked: the pool's queued data stops at the limit (counted in
 * tcp.snd_pool_full); a connection poll calls writable then takes data
 * (refused ones had their buffers cut, as Linux's
 * sk_stream_moderate_sndbuf, rather than stay writable and refuse: a
 * spin); one more connection, with nothing queued, may still queue one
 * segment; no frame is dropped for want of memory; and once the receiver
 * reads, 3 MB per connection arrive whole and in order. The same with the
 * small pool on the receiving side: its receive queues stop at the limit
 * (data past it dropped, tcp_pool_full, and sent again), ACKs still read.
 * And UDP: sixteen unread sockets on a 1 MB pool (their SO_RCVBUFs add up
 * to 3.4 MB) stop at the limit too, datagrams past it dropped as
 * udp.rcvbuf_errors, none for want of a buffer to read into.
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

#include "dev/wire.h"
#include "lib/sim.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define NCONN 16
#define XFER (3u << 20)
#define POOL (1u << 20)
#define PORT 5003
#define CHUNK 16384

static uint8_t pattern(size_t off, int conn)
{
	return (uint8_t)(((off + (size_t)conn * 7919u) * 2654435761u) >> 13);
}

static uint64_t mib(struct ustack *st, enum us_mib m)
{
	return st->stats.mib[m];
}

/* Write what each sender takes, read what each receiver has. */
static bool pump(const int *cfd, const int *sfd, size_t *sent, size_t *rcvd,
		 bool read, bool *bad)
{
	static uint8_t buf[CHUNK];
	bool did = false;
	ssize_t n;

	for (int c = 0; c < NCONN; c++) {
		while (sent[c] < XFER) {
			size_t len = XFER - sent[c] < CHUNK ? XFER - sent[c] :
				     CHUNK;

			for (size_t i = 0; i < len; i++)
				buf[i] = pattern(sent[c] + i, c);
			n = us_send(cfd[c], buf, len, MSG_DONTWAIT);
			if (n <= 0)
				break;
			sent[c] += (size_t)n;
			did = true;
		}
		while (read && (n = us_recv(sfd[c], buf, sizeof(buf),
					    MSG_DONTWAIT)) > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (buf[i] != pattern(rcvd[c] + (size_t)i, c))
					*bad = true;
			rcvd[c] += (size_t)n;
			did = true;
		}
	}
	return did;
}

static size_t total(const size_t *v)
{
	size_t t = 0;

	for (int c = 0; c < NCONN; c++)
		t += v[c];
	return t;
}

/*
 * The connections from st[0] to st[1]; the small pool is st[0]'s (its
 * send queues fill it) or, with small_receives, st[1]'s (its receive
 * queues fill it: data past the limit is dropped, tcp_pool_full, and
 * sent again; the ACKs still get through).
 */
static void run(bool small_receives)
{
	struct us_clock clock;
	struct ustack *st[2], *small;
	struct net_device *da, *db;
	struct wire_params wp = { .seed = 3, .delay_us = 1000,
				  .rate_bps = 1000000000 };
	uint32_t a = inet_addr("10.9.2.1"), b = inet_addr("10.9.2.2");
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(PORT),
				  .sin_addr.s_addr = b };
	int lfd, cfd[NCONN], sfd[NCONN];
	size_t sent[NCONN] = { 0 }, rcvd[NCONN] = { 0 };
	us_time_t deadline;
	bool bad = false;

	us_clock_init_virtual(&clock, 0);
	st[0] = sim_stack_pool(&clock, 21, small_receives ? 0 : POOL);
	st[1] = sim_stack_pool(&clock, 22, small_receives ? POOL : 0);
	assert_non_null(st[0]);
	assert_non_null(st[1]);
	small = st[small_receives ? 1 : 0];
	wire_pair_create(st[0], st[1], &wp, &da, &db);
	netdev_set_ipv4(da, a, 24);
	netdev_set_ipv4(db, b, 24);
	lfd = us_socket_on(st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(us_listen(lfd, NCONN), 0);
	for (int c = 0; c < NCONN; c++) {
		cfd[c] = us_socket_on(st[0], AF_INET,
				      SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_int_equal(us_connect(cfd[c], (struct sockaddr *)&sa,
					    sizeof(sa)), -1);
		assert_int_equal(errno, EINPROGRESS);
		sfd[c] = -1;
		while (sfd[c] < 0) {
			sfd[c] = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
			if (sfd[c] < 0)
				assert_true(sim_advance(&clock, st, 2,
							clock.virt +
							10 * US_USEC_PER_SEC));
		}
	}

	/* The receiver does not read: the senders fill what they can. */
	deadline = clock.virt + US_USEC_PER_SEC;
	while (pump(cfd, sfd, sent, rcvd, false, &bad) ||
	       sim_advance(&clock, st, 2, deadline))
		;
	assert_true(small->skb_pool.used_bytes <= small->skb_pool.queue_limit +
		    (1u << 16));
	if (small_receives)
		assert_true(small->stats.drops[US_DROP_TCP_POOL_FULL] > 0);
	else
		assert_true(mib(small, US_MIB_TCP_SND_POOL_FULL) > 0);
	assert_true(total(sent) < (size_t)NCONN * XFER);
	for (int c = 0; c < NCONN && !small_receives; c++) {
		struct pollfd p = { .fd = cfd[c], .events = POLLOUT };
		uint8_t more[100];

		if (us_poll(&p, 1, 0) != 1)
			continue;
		for (size_t i = 0; i < sizeof(more); i++)
			more[i] = pattern(sent[c] + i, c);
		assert_int_equal(us_send(cfd[c], more, sizeof(more),
					 MSG_DONTWAIT), sizeof(more));
		sent[c] += sizeof(more);
	}
	/* A connection with nothing queued may still queue a segment: it
	 * then has an ACK, and a write-space wake-up, to wait for. */
	if (!small_receives) {
		int x = us_socket_on(st[0], AF_INET,
				     SOCK_STREAM | SOCK_NONBLOCK, 0), y = -1;

		assert_int_equal(us_connect(x, (struct sockaddr *)&sa,
					    sizeof(sa)), -1);
		while (y < 0) {
			y = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
			if (y < 0)
				assert_true(sim_advance(&clock, st, 2,
							clock.virt +
							10 * US_USEC_PER_SEC));
		}
		assert_false(skb_pool_may_queue(&small->skb_pool, 2048));
		assert_int_equal(us_send(x, "hello", 5, MSG_DONTWAIT), 5);
		assert_int_equal(us_send(x, "again", 5, MSG_DONTWAIT), -1);
		assert_int_equal(errno, EAGAIN);
		us_close(x);
		us_close(y);
	}

	/* Now it reads: everything arrives. */
	deadline = clock.virt + 120 * US_USEC_PER_SEC;
	while (total(rcvd) < (size_t)NCONN * XFER && !bad) {
		bool did = pump(cfd, sfd, sent, rcvd, true, &bad);

		if (!did && !sim_advance(&clock, st, 2, deadline))
			break;
	}
	assert_false(bad);
	for (int c = 0; c < NCONN; c++)
		assert_int_equal(rcvd[c], XFER);
	assert_int_equal(st[0]->stats.drops[US_DROP_NOMEM], 0);
	assert_int_equal(st[1]->stats.drops[US_DROP_NOMEM], 0);

	for (int c = 0; c < NCONN; c++) {
		us_close(cfd[c]);
		us_close(sfd[c]);
	}
	us_close(lfd);
	sim_run_until(&clock, st, 2, clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
}

static void test_send_queues_leave_room_for_acks(void **state)
{
	(void)state;
	run(false);
}

static void test_receive_queues_leave_room_for_acks(void **state)
{
	(void)state;
	run(true);
}

static void test_udp_queues_leave_room(void **state)
{
	struct us_clock clock;
	struct ustack *st[2];
	struct net_device *da, *db;
	struct wire_params wp = { .seed = 4, .delay_us = 1000,
				  .rate_bps = 1000000000 };
	uint32_t a = inet_addr("10.9.3.1"), b = inet_addr("10.9.3.2");
	static uint8_t dgram[1400];
	int rfd[NCONN], sfd;

	(void)state;
	us_clock_init_virtual(&clock, 0);
	st[0] = sim_stack_pool(&clock, 31, 0);
	st[1] = sim_stack_pool(&clock, 32, POOL);
	assert_non_null(st[0]);
	assert_non_null(st[1]);
	wire_pair_create(st[0], st[1], &wp, &da, &db);
	netdev_set_ipv4(da, a, 24);
	netdev_set_ipv4(db, b, 24);
	for (int c = 0; c < NCONN; c++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(PORT + c),
					  .sin_addr.s_addr = b };

		rfd[c] = us_socket_on(st[1], AF_INET,
				      SOCK_DGRAM | SOCK_NONBLOCK, 0);
		assert_int_equal(us_bind(rfd[c], (struct sockaddr *)&sa,
					 sizeof(sa)), 0);
	}
	sfd = us_socket_on(st[0], AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	for (int round = 0; round < 200; round++) {
		for (int c = 0; c < NCONN; c++) {
			struct sockaddr_in to = { .sin_family = AF_INET,
						  .sin_port = htons(PORT + c),
						  .sin_addr.s_addr = b };

			(void)us_sendto(sfd, dgram, sizeof(dgram), 0,
					(struct sockaddr *)&to, sizeof(to));
		}
		sim_run_until(&clock, st, 2, clock.virt + 1000);
	}
	sim_run_until(&clock, st, 2, clock.virt + US_USEC_PER_SEC);
	assert_true(st[1]->skb_pool.used_bytes <=
		    st[1]->skb_pool.queue_limit + (1u << 16));
	assert_true(mib(st[1], US_MIB_UDP_RCVBUF_ERRORS) > 0);
	assert_int_equal(st[1]->stats.drops[US_DROP_NOMEM], 0);
	us_close(sfd);
	for (int c = 0; c < NCONN; c++)
		us_close(rfd[c]);
	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_queues_leave_room_for_acks),
		cmocka_unit_test(test_receive_queues_leave_room_for_acks),
		cmocka_unit_test(test_udp_queues_leave_room),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
