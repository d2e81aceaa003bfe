/*
 * test_sock_tstamp.c - SO_TIMESTAMPING where the kernel cannot be the
 * oracle in a test (test_diff_tstamp and packetdrill's timestamping/
 * compare the rest with Linux):
 *  - SOFTWARE without RX_SOFTWARE reports a receive time only while
 *    another socket of the instance wants them (Linux's host-wide
 *    netstamp_needed_key, whose state a test cannot choose; a socket
 *    that had SO_TIMESTAMP on wants them until it closes), never under
 *    OPT_RX_FILTER; the count goes back to 0 when they close;
 *  - the times are the instance's clock: the arrival for receive, the
 *    hand-over to the device for SND;
 *  - a UDP GSO packet cut in software reports once, for its first
 *    datagram (Linux's __udp_gso_segment); one the device takes whole
 *    reports the whole packet;
 *  - a packet waiting for ARP holds its socket: closed meanwhile, the
 *    socket goes once the packet has gone, with no report and no leak
 *    (ASan);
 *  - reports that do not fit the receive buffer are dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "lib/testnet.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

static struct test_stack T;

static int setup_l3(void **state)
{
	*state = &T;
	ts_init_l3(&T, "10.0.0.2", 24);
	return 0;
}

static int setup_eth(void **state)
{
	*state = &T;
	ts_init(&T, "10.0.0.2", 24);
	return 0;
}

static int udp_bound(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void set_ts(int fd, int flags)
{
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING,
				       &flags, sizeof(flags)), 0);
}

/* A datagram from 10.0.0.1:7 to our port arrives. */
static void inject_udp(uint16_t port)
{
	uint8_t udp[8 + 5], pkt[64];
	uint16_t sp = htons(7), dp = htons(port), len = htons(sizeof(udp));

	memcpy(udp, &sp, 2);
	memcpy(udp + 2, &dp, 2);
	memcpy(udp + 4, &len, 2);
	memset(udp + 6, 0, 2);   /* no checksum (RFC 768) */
	memcpy(udp + 8, "hello", 5);
	ts_inject(&T, pkt, tb_ipv4(pkt, ts_ip("10.0.0.1"), ts_ip("10.0.0.2"),
				   IPPROTO_UDP, 1, 0, 64, udp, sizeof(udp)));
}

/* Read one datagram (or, with MSG_ERRQUEUE, one report) from fd: the
 * bytes, and the SCM_TIMESTAMPING time in microseconds of the realtime
 * clock (0: none), and the extended error when there is one. */
static ssize_t recv_ts(int fd, int flags, int64_t *ts_us,
		       struct sock_extended_err *ee)
{
	char buf[4096], ctl[256] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = us_recvmsg(fd, &m, flags | MSG_DONTWAIT);

	*ts_us = 0;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SO_TIMESTAMPING) {
			struct timespec t[3];

			memcpy(t, CMSG_DATA(c), sizeof(t));
			*ts_us = (int64_t)t[0].tv_sec * 1000000 +
				 t[0].tv_nsec / 1000;
			assert_true(t[1].tv_sec == 0 && t[2].tv_sec == 0);
		} else if (ee && c->cmsg_level == SOL_IP &&
			   c->cmsg_type == IP_RECVERR) {
			memcpy(ee, CMSG_DATA(c), sizeof(*ee));
		}
	}
	return n;
}

static int64_t now_real_us(void)
{
	return (int64_t)T.st->now + T.st->clock->realtime_offset_us;
}

static void test_netstamp_switch(void **state)
{
	int r = udp_bound(9000), o = udp_bound(9001), on = 1;
	int64_t ts;

	(void)state;
	assert_int_equal(T.st->netstamp_users, 0);
	set_ts(r, SOF_TIMESTAMPING_SOFTWARE);
	inject_udp(9000);
	assert_int_equal(recv_ts(r, 0, &ts, NULL), 5);
	assert_int_equal(ts, 0);

	/* Another socket wants them: SOFTWARE alone now reports. */
	assert_int_equal(us_setsockopt(o, SOL_SOCKET, SO_TIMESTAMP, &on,
				       sizeof(on)), 0);
	assert_int_equal(T.st->netstamp_users, 1);
	/* ... and still after it turns SO_TIMESTAMP off (Linux's
	 * SOCK_TIMESTAMP stays until the socket goes). */
	on = 0;
	assert_int_equal(us_setsockopt(o, SOL_SOCKET, SO_TIMESTAMP, &on,
				       sizeof(on)), 0);
	assert_int_equal(T.st->netstamp_users, 1);
	ts_advance(&T, 1500);
	inject_udp(9000);
	ts_advance(&T, 700);
	assert_int_equal(recv_ts(r, 0, &ts, NULL), 5);
	assert_int_equal(ts, now_real_us() - 700);   /* the arrival */
	/* ... but not under OPT_RX_FILTER. */
	set_ts(r, SOF_TIMESTAMPING_SOFTWARE | (1 << 17));
	inject_udp(9000);
	assert_int_equal(recv_ts(r, 0, &ts, NULL), 5);
	assert_int_equal(ts, 0);
	/* RX_SOFTWARE counts as wanting them, once however often set. */
	set_ts(r, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE);
	set_ts(r, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE);
	assert_int_equal(T.st->netstamp_users, 2);
	assert_int_equal(us_close(o), 0);
	assert_int_equal(T.st->netstamp_users, 1);
	set_ts(r, SOF_TIMESTAMPING_SOFTWARE);
	assert_int_equal(T.st->netstamp_users, 0);
	inject_udp(9000);
	assert_int_equal(recv_ts(r, 0, &ts, NULL), 5);
	assert_int_equal(ts, 0);
	set_ts(r, SOF_TIMESTAMPING_RX_SOFTWARE);
	assert_int_equal(us_close(r), 0);
	assert_int_equal(T.st->netstamp_users, 0);
}

/* UDP_SEGMENT's packet: one report, for the datagram that left first
 * when the stack cuts it, for the whole when the device takes it. */
static void gso_reports(unsigned features, ssize_t want_len)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("10.0.0.1") };
	static uint8_t payload[2500];
	struct sock_extended_err ee;
	int fd = udp_bound(9002), mss = 1000;
	int64_t ts;

	T.dev->features = features;
	set_ts(fd, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		   SOF_TIMESTAMPING_OPT_ID);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_SEGMENT, &mss,
				       sizeof(mss)), 0);
	ts_advance(&T, 2000);
	assert_int_equal(us_sendto(fd, payload, sizeof(payload), 0,
				   (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(payload));
	memset(&ee, 0, sizeof(ee));
	assert_int_equal(recv_ts(fd, MSG_ERRQUEUE, &ts, &ee), want_len);
	assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_TIMESTAMPING);
	assert_int_equal(ee.ee_info, SCM_TSTAMP_SND);
	assert_int_equal(ee.ee_data, 0);
	assert_int_equal(ts, now_real_us());
	assert_int_equal(recv_ts(fd, MSG_ERRQUEUE, &ts, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(us_close(fd), 0);
}

static void test_gso_cut_in_software(void **state)
{
	(void)state;
	gso_reports(0, 20 + 8 + 1000);
}

static void test_gso_whole(void **state)
{
	(void)state;
	gso_reports(US_NETIF_F_HW_CSUM | US_NETIF_F_GSO_UDP_L4, 20 + 8 + 2500);
}

/* A datagram waiting for ARP keeps its socket after close; it goes when
 * the peer answers, with no report and nothing left behind. */
static void test_closed_while_queued(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("10.0.0.1") };
	uint8_t arp[64];
	struct sk_buff *skb;
	int fd = udp_bound(9003);
	size_t n;

	(void)state;
	set_ts(fd, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED |
		   SOF_TIMESTAMPING_SOFTWARE);
	assert_int_equal(us_sendto(fd, "hello", 5, 0, (struct sockaddr *)&to,
				   sizeof(to)), 5);
	skb = ts_pop_tx(&T);   /* the ARP request */
	assert_non_null(skb);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_close(fd), 0);
	n = tb_eth(arp, TS_DEV_MAC, TS_PEER_MAC, 0x0806);
	n += tb_arp(arp + n, 2, TS_PEER_MAC, ts_ip("10.0.0.1"), TS_DEV_MAC,
		    ts_ip("10.0.0.2"));
	ts_inject(&T, arp, n);
	skb = ts_pop_tx(&T);   /* the datagram */
	assert_non_null(skb);
	assert_int_equal(skb->len, 14 + 20 + 8 + 5);
	skb_free(skb);
}

/* Reports that would pass SO_RCVBUF are dropped; the socket's receive
 * memory is back to nothing once they are read. */
static void test_errqueue_bounded(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("10.0.0.1") };
	int fd = udp_bound(9004), small = 1, got = 0;
	int64_t ts;

	(void)state;
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				       sizeof(small)), 0);
	set_ts(fd, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
	for (int i = 0; i < 100; i++)
		assert_int_equal(us_sendto(fd, "hello", 5, 0,
					   (struct sockaddr *)&to,
					   sizeof(to)), 5);
	ts_flush_tx(&T);
	while (recv_ts(fd, MSG_ERRQUEUE, &ts, NULL) >= 0)
		got++;
	assert_true(got > 0 && got < 100);
	assert_int_equal(us_close(fd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_netstamp_switch,
						setup_l3, ts_teardown),
		cmocka_unit_test_setup_teardown(test_gso_cut_in_software,
						setup_l3, ts_teardown),
		cmocka_unit_test_setup_teardown(test_gso_whole,
						setup_l3, ts_teardown),
		cmocka_unit_test_setup_teardown(test_closed_while_queued,
						setup_eth, ts_teardown),
		cmocka_unit_test_setup_teardown(test_errqueue_bounded,
						setup_l3, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
