/*
 * test_tcp_rate.c - the delivery-rate sampler (tcp_rate.c, Linux's
 * tcp_rate.c) at chosen points of virtual time, where packetdrill's real
 * clock cannot go: ACKs that come compressed (the send phase is the
 * longer), the newest segment chosen among those an ACK covers, a SACKed
 * segment that gives its sample once, losses counted, the rules for the
 * sample TCP_INFO keeps, and the sampler's state made with the first data
 * and gone with the connection's reset. tcpinfo/delivery-rate.pkt and the
 * other tcpinfo scripts hold the same figures against Linux. And the
 * other TCP_INFO clock a rate-limited writer meets: the time limited by
 * the send buffer (tcpinfo/sndbuf-limited.pkt against Linux).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/tcptest.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460
#define MS 1000

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[32 * MSS];

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	/* Losses by RFC 6675's DupThresh, not RACK's clock */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
	/* No tail loss probes into the quiet stretches */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "0"), 0);
	tt_conn_init(&C, &T, false);
	C.sack_perm = true;
	tt_open(&C);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY,
				       &(int){ 1 }, sizeof(int)), 0);
	return 0;
}

static struct tcp_sock *tp_of(void)
{
	return tcp_sk(tt_sk(C.fd));
}

static const struct rate_sample *rs_of(void)
{
	return &T.st->tcp.rx.rs;
}

/* Segment i (0-based, MSS each) goes now. */
static void send_seg(int i)
{
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
	TT_EXPECT_NONE(&T);
}

/* The peer ACKs the first n segments. */
static void ack_segs(int n)
{
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + (uint32_t)n * MSS,
		NULL, 0);
}

/* TCP_INFO whole (Linux 6.18's 280 bytes; glibc's struct stops at 104). */
static void info_raw(uint8_t raw[280])
{
	socklen_t len = 280;

	assert_int_equal(us_getsockopt(C.fd, IPPROTO_TCP, TCP_INFO, raw, &len),
			 0);
	assert_int_equal(len, 280);
}

/* The 8-byte field at off of what info_raw read. */
static uint64_t info_u64(const uint8_t *raw, size_t off)
{
	uint64_t v;

	memcpy(&v, raw + off, sizeof(v));
	return v;
}

/* TCP_INFO's delivery rate, bytes per second, and its app-limited bit. */
static uint64_t info_rate(bool *app_limited)
{
	uint8_t raw[280];

	info_raw(raw);
	*app_limited = raw[7] & 1;     /* tcpi_delivery_rate_app_limited */
	return info_u64(raw, 160);     /* tcpi_delivery_rate */
}

/*
 * The ACKs of B and C come 5 ms after C went, compressed; C went 100 ms
 * after A, the segment ACKed last before it. The sample is C's (the
 * newest), and its interval the send phase (100 ms), not the ACK phase
 * (5 ms): 2 segments over 100 ms, not over 5.
 */
static void test_compressed_acks_send_phase(void **state)
{
	const struct rate_sample *rs = rs_of();
	uint32_t d0;
	bool al;

	(void)state;
	d0 = tp_of()->delivered;
	assert_null(tp_of()->rate);    /* nothing before the first data */
	send_seg(0);                   /* A at 0 */
	assert_non_null(tp_of()->rate);
	ts_advance(&T, 90 * MS);
	send_seg(1);                   /* B at 90 ms */
	ts_advance(&T, 10 * MS);
	ack_segs(1);                   /* A at 100 ms: 1 over 100 ms */
	assert_int_equal(rs->delivered, 1);
	assert_int_equal(rs->interval_us, 100 * MS);
	assert_int_equal(rs->rcv_interval_us, 100 * MS);
	assert_int_equal(rs->snd_interval_us, 0);
	assert_int_equal(rs->prior_delivered, d0);
	assert_int_equal(rs->prior_in_flight, 2);
	assert_int_equal(rs->acked_sacked, 1);
	assert_true(rs->is_app_limited);   /* the write found nothing queued */
	assert_int_equal(info_rate(&al), (uint64_t)MSS * 1000000 / 100000);
	assert_true(al);
	send_seg(2);                   /* C at 100 ms */
	ts_advance(&T, 5 * MS);
	ack_segs(3);                   /* B and C at 105 ms */
	assert_int_equal(rs->delivered, 2);
	assert_int_equal(rs->prior_delivered, d0 + 1);   /* C's record */
	assert_int_equal(rs->snd_interval_us, 100 * MS);
	assert_int_equal(rs->rcv_interval_us, 5 * MS);
	assert_int_equal(rs->interval_us, 100 * MS);
	assert_int_equal(rs->rtt_us, 5 * MS);
	assert_int_equal(rs->acked_sacked, 2);
	assert_int_equal(rs->prior_in_flight, 2);
	assert_false(rs->is_retrans);
	/* App-limited, and higher than the one kept: kept. */
	assert_int_equal(info_rate(&al), 2ull * MSS * 1000000 / 100000);
	assert_true(al);
}

/*
 * A SACKed segment gives its sample when it is SACKed, and none when the
 * cumulative ACK takes it off later: an ACK that delivers nothing else
 * has no sample.
 */
static void test_sacked_segment_samples_once(void **state)
{
	static const uint32_t head[1][2] = { { 0, MSS } };
	const struct rate_sample *rs = rs_of();
	bool al;

	(void)state;
	send_seg(0);
	send_seg(1);
	ts_advance(&T, 100 * MS);
	tt_send_sack(&C, 0, head, 1);  /* the head SACKed, not ACKed */
	assert_int_equal(rs->delivered, 1);
	assert_int_equal(rs->interval_us, 100 * MS);
	assert_int_equal(info_rate(&al), (uint64_t)MSS * 1000000 / 100000);
	ts_advance(&T, 50 * MS);
	ack_segs(1);                   /* takes it off: nothing new */
	assert_int_equal(rs->delivered, -1);
	assert_int_equal(rs->interval_us, -1);
	assert_int_equal(rs->acked_sacked, 0);
	assert_int_equal(info_rate(&al), (uint64_t)MSS * 1000000 / 100000);
	ts_advance(&T, 50 * MS);
	ack_segs(2);                   /* segment 1: 2 over 200 ms */
	assert_int_equal(rs->delivered, 2);
	assert_int_equal(rs->interval_us, 200 * MS);
}

/*
 * The sample's RTT (a congestion control's, BBR's min_rtt) is the newest
 * (S)ACKed segment's, as Linux's ca_rtt_us: of the segments an ACK SACKs,
 * the last sent (last_sackt), not the first, whose RTT is the ACK's other
 * sample (SRTT's); and when an ACK both SACKs and acknowledges, the
 * SACKed one, sent later.
 */
static void test_rtt_us_newest_sacked(void **state)
{
	static const uint32_t b_and_c[1][2] = { { MSS, 3 * MSS } };
	static const uint32_t e[1][2] = { { 4 * MSS, 5 * MSS } };
	const struct rate_sample *rs = rs_of();

	(void)state;
	send_seg(0);                   /* A at 0 */
	ts_advance(&T, 20 * MS);
	send_seg(1);                   /* B at 20 ms */
	ts_advance(&T, 20 * MS);
	send_seg(2);                   /* C at 40 ms */
	ts_advance(&T, 60 * MS);
	tt_send_sack(&C, 0, b_and_c, 1);   /* at 100 ms: B and C SACKed */
	assert_int_equal(rs->acked_sacked, 2);
	assert_int_equal(rs->rtt_us, 60 * MS);    /* C's, not B's 80 */
	send_seg(3);                   /* D at 100 ms */
	ts_advance(&T, 10 * MS);
	send_seg(4);                   /* E at 110 ms */
	ts_advance(&T, 30 * MS);
	tt_send_sack(&C, 3 * MSS, e, 1);   /* at 140 ms: A..C ACKed, E SACKed */
	assert_int_equal(rs->rtt_us, 30 * MS);    /* E's, not A's 140 */
}

/*
 * Of the segments one ACK covers, all sent at once, the highest in
 * sequence gives the sample. Segments SACKed three above a hole mark it
 * lost (DupThresh): the sample's losses, and the connection's count.
 */
static void test_losses_and_newest(void **state)
{
	static const uint32_t above[1][2] = { { MSS, 4 * MSS } };
	const struct rate_sample *rs = rs_of();

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 5 * MSS, 0), 5 * MSS);
	for (int i = 0; i < 5; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
	ts_advance(&T, 100 * MS);
	tt_send_sack(&C, 0, above, 1);
	assert_int_equal(rs->acked_sacked, 3);
	assert_int_equal(rs->losses, 1);
	assert_int_equal(rs->last_end_seq, C.iss + 1 + 4 * MSS);
	assert_int_equal(rs->delivered, 3);
	assert_int_equal(tp_of()->rate->lost, 1);
	/* The hole goes again: a retransmission. Its ACK's sample is the
	 * newest send: the retransmission's. */
	TT_EXPECT_DATA(&C, C.iss + 1, MSS);
	ts_advance(&T, 100 * MS);
	ack_segs(4);
	assert_true(rs->is_retrans);
	assert_int_equal(rs->acked_sacked, 1);
	assert_int_equal(rs->losses, 0);
}

/*
 * The rules for the sample kept, on tcp_rate_gen itself: one shorter
 * than the minimum RTT is none; an app-limited one lower than the one
 * kept is not kept, one not app-limited always is.
 */
static void test_gen_rules(void **state)
{
	struct tcp_sock *tp = tp_of();
	struct rate_sample *rs = &T.st->tcp.rx.rs;
	struct tcp_rate *r;
	bool al;

	(void)state;
	r = tcp_rate_get(tp);
	assert_non_null(r);
	tp->min_rtt_us = 100 * MS;
	tp->delivered = 20;
	r->rate_delivered = 10;
	r->rate_interval_us = 100 * MS;
	r->rate_app_limited = false;
	ts_advance(&T, 1000 * MS);
	/* 50 ms < min RTT: no sample, nothing kept */
	tcp_rate_ack_start(tp, 5);
	rs->prior_mstamp = T.st->now - 50 * MS;
	rs->prior_delivered = 15;
	rs->interval_us = 10 * MS;
	tcp_rate_gen(tt_sk(C.fd), 5, 0, false);
	assert_int_equal(rs->interval_us, -1);
	assert_int_equal(rs->delivered, 5);
	assert_int_equal(r->rate_delivered, 10);
	/* app-limited and lower (5 over 200 ms): not kept */
	tcp_rate_ack_start(tp, 5);
	rs->prior_mstamp = T.st->now - 200 * MS;
	rs->prior_delivered = 15;
	rs->is_app_limited = true;
	tcp_rate_gen(tt_sk(C.fd), 5, 0, false);
	assert_int_equal(rs->interval_us, 200 * MS);
	assert_int_equal(r->rate_delivered, 10);
	assert_int_equal(r->rate_interval_us, 100 * MS);
	/* not app-limited and lower: kept */
	rs->is_app_limited = false;
	rs->prior_mstamp = T.st->now - 200 * MS;
	rs->interval_us = 0;
	tcp_rate_gen(tt_sk(C.fd), 5, 0, false);
	assert_int_equal(r->rate_delivered, 5);
	assert_int_equal(r->rate_interval_us, 200 * MS);
	assert_int_equal(info_rate(&al), 5ull * MSS * 1000000 / 200000);
	assert_false(al);
	/* SACK reneging: no sample */
	tcp_rate_ack_start(tp, 5);
	rs->prior_mstamp = T.st->now - 200 * MS;
	rs->prior_delivered = 10;
	tcp_rate_gen(tt_sk(C.fd), 5, 0, true);
	assert_int_equal(rs->delivered, -1);
	assert_int_equal(r->rate_delivered, 5);
	/* the app-limited stretch ends past its mark */
	r->app_limited = 20;
	tcp_rate_gen(tt_sk(C.fd), 0, 0, false);
	assert_int_equal(r->app_limited, 20);
	tp->delivered = 21;
	tcp_rate_gen(tt_sk(C.fd), 1, 0, false);
	assert_int_equal(r->app_limited, 0);
}

/* A write with data still waiting to go (the window full) starts no
 * app-limited stretch; one into a pipe with room does, at delivered + in
 * flight. A reset connection has no sampler left. */
static void test_app_limited_mark(void **state)
{
	struct tcp_sock *tp = tp_of();
	bool al;

	(void)state;
	/* 30 segments, cwnd 10: 20 wait */
	assert_int_equal(us_send(C.fd, BUF, 30 * MSS, 0), 30 * MSS);
	for (int i = 0; i < 10; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
	assert_int_equal(tp->rate->app_limited, tp->delivered);
	ts_advance(&T, 100 * MS);
	ack_segs(5);                   /* the stretch is over; 10 more go */
	assert_int_equal(tp->rate->app_limited, 0);
	while (tt_pop(&T, &(struct tt_seg){ 0 }))
		;
	assert_int_equal(us_send(C.fd, BUF, 1, 0), 1);
	assert_int_equal(tp->rate->app_limited, 0);   /* 10 segments wait */
	(void)info_rate(&al);
	assert_true(al);               /* (the sample kept: the first's) */
	/* All delivered, the last byte too: a write into the empty pipe */
	ts_advance(&T, 100 * MS);
	ack_segs(15);
	while (tt_pop(&T, &(struct tt_seg){ 0 }))
		;
	ts_advance(&T, 100 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 30 * MSS + 1, NULL, 0);
	assert_int_equal(tp->snd_una, tp->write_seq);
	assert_int_equal(tp->rate->app_limited, 0);
	assert_int_equal(us_send(C.fd, BUF, 1, 0), 1);
	assert_int_equal(tp->rate->app_limited, tp->delivered + 0);
	/* connect(AF_UNSPEC) resets the connection: a fresh sampler */
	assert_int_equal(us_connect(C.fd, &(struct sockaddr){
				.sa_family = AF_UNSPEC }, sizeof(struct sockaddr)), 0);
	assert_null(tp->rate);
	(void)info_rate(&al);
	assert_true(al);
}

/* An ACK that may have been delayed (Linux's FLAG_ACK_MAYBE_DELAYED):
 * of a lone runt, not of a full segment, not of two. */
static void test_ack_maybe_delayed(void **state)
{
	const struct rate_sample *rs = rs_of();
	uint32_t base = C.iss + 1;

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&C, base, 100);
	ts_advance(&T, 40 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base + 100, NULL, 0);
	assert_int_equal(rs->acked_sacked, 1);
	assert_true(rs->is_ack_delayed);
	/* a full segment */
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	TT_EXPECT_DATA(&C, base + 100, MSS);
	ts_advance(&T, 40 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base + 100 + MSS, NULL, 0);
	assert_int_equal(rs->acked_sacked, 1);
	assert_false(rs->is_ack_delayed);
	/* two runts in one ACK */
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&C, base + 100 + MSS, 100);
	TT_EXPECT_DATA(&C, base + 200 + MSS, 100);
	ts_advance(&T, 40 * MS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base + 300 + MSS, NULL, 0);
	assert_int_equal(rs->acked_sacked, 2);
	assert_false(rs->is_ack_delayed);
}

/* TCP_INFO's time limited by the send buffer (Linux's
 * TCP_CHRONO_SNDBUF_LIMITED): from the moment all that was queued went
 * without filling the window while the writer had found no room, to the
 * ACK that makes the socket writable again. */
static void test_sndbuf_limited(void **state)
{
	struct pollfd pfd = { .fd = C.fd, .events = POLLOUT };
	uint8_t raw[280];

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_SNDBUF,
				       &(int){ 4000 }, sizeof(int)), 0);
	assert_int_equal(us_send(C.fd, BUF, 3 * MSS, 0), 3 * MSS);
	for (int i = 0; i < 3; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
	assert_int_equal(us_poll(&pfd, 1, 0), 0);   /* no room: marked */
	assert_true(tt_sk(C.fd)->nospace);
	send_seg(3);   /* the last queued goes, cwnd not full */
	ts_advance(&T, 100 * MS);
	ack_segs(4);   /* room: the time ends */
	assert_false(tt_sk(C.fd)->nospace);
	ts_advance(&T, 50 * MS);
	info_raw(raw);
	assert_int_equal(info_u64(raw, 184), 100 * MS);   /* sndbuf_limited */
	assert_int_equal(info_u64(raw, 168), 100 * MS);   /* busy_time */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_compressed_acks_send_phase,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sacked_segment_samples_once,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_rtt_us_newest_sacked, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_losses_and_newest, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_gen_rules, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_app_limited_mark, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_sndbuf_limited, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_ack_maybe_delayed, setup,
						ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
