/*
 * test_tcp_tlp.c - Tail Loss Probe (tcp_tlp.c, RFC 8985 §7) with crafted
 * ACKs in virtual time: the probe timeout (§7.2: 2 * SRTT, plus the
 * worst-case delayed ACK with one segment in flight, never after the RTO),
 * what the probe sends (§7.3: new data past cwnd if the peer's window
 * allows, else the last segment), at most one probe per episode, the RTO
 * after it, and the loss detection on its ACK (§7.4: a loss repaired by
 * the probe reduces the window; a D-SACK of the probe or a bare duplicate
 * ACK shows there was none). net.ipv4.tcp_early_retrans = 0, or no SACK,
 * means no probe, as in Linux.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "lib/tcptest.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[40 * MSS];

/* A connection the peer opened, with the handshake's round trip rtt_us:
 * the first RTT sample (SRTT = R, RTTVAR = R / 2, RFC 6298 §2.2). */
static int setup_common(bool sack, const char *early_retrans,
			us_time_t rtt_us)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   early_retrans), 0);
	tt_conn_init(&C, &T, false);
	C.sack_perm = sack;
	tt_open_synrecv(&C);
	ts_advance(&T, rtt_us);
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	C.fd = us_accept4(C.lfd, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK);
	assert_true(C.fd >= 0);
	return 0;
}

static int setup(void **state)
{
	*state = &T;
	return setup_common(true, "3", 100000);
}

/* RTT 300 ms: RTO = 300 + 4 * 150 = 900 ms, so that the one-segment PTO
 * (2 * 300 + 200 = 800 ms) comes first. */
static int setup_long_rtt(void **state)
{
	*state = &T;
	return setup_common(true, "3", 300000);
}

static int setup_off(void **state)
{
	*state = &T;
	return setup_common(true, "0", 100000);
}

static int setup_nosack(void **state)
{
	*state = &T;
	return setup_common(false, "3", 100000);
}

static struct tcp_info info(void)
{
	struct tcp_info ti;

	tt_info(C.fd, &ti);
	return ti;
}

static uint32_t seg(int i)
{
	return C.iss + 1 + (uint32_t)i * MSS;
}

static void ack(int upto)
{
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, seg(upto), NULL, 0);
}

/* The peer ACKs `upto` with a D-SACK of segment d (RFC 2883). */
static void ack_dsack(int upto, int d)
{
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };
	uint32_t s = seg(d), e = seg(d + 1);

	for (int k = 0; k < 4; k++) {
		o[4 + k] = (uint8_t)(s >> (24 - 8 * k));
		o[8 + k] = (uint8_t)(e >> (24 - 8 * k));
	}
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, seg(upto), o, sizeof(o), NULL, 0);
}

/* Send n full segments; RTT samples of 100 ms come from the first ACK. */
static void send_segments(int from, int n)
{
	assert_int_equal(us_send(C.fd, BUF, (size_t)n * MSS, 0), n * MSS);
	for (int i = 0; i < n; i++)
		TT_EXPECT_DATA(&C, seg(from + i), MSS);
	TT_EXPECT_NONE(&T);
}

/* Advance to just before `at` (us from now): nothing; then at it, the
 * caller expects what comes. */
static void wait_quiet(us_time_t at)
{
	ts_advance(&T, at - 1000);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1000);
}

/* RFC 8985 §7.2: PTO = 2 * SRTT + 2 ms (Linux) with two segments out,
 * after the ACK; the probe is the last segment (no new data); then the
 * RTO comes a whole RTO after the probe, not backed off. */
static void test_pto_two_in_flight(void **state)
{
	struct tcp_info ti;
	us_time_t pto;

	(void)state;
	send_segments(0, 10);
	ts_advance(&T, 100000);
	ack(8);
	TT_EXPECT_NONE(&T);
	ti = info();
	pto = 2ull * ti.tcpi_rtt + 2000;
	assert_true(pto < ti.tcpi_rto);
	wait_quiet(pto);
	TT_EXPECT_DATA(&C, seg(9), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	/* The window is untouched by a probe. */
	assert_int_equal(info().tcpi_snd_cwnd, ti.tcpi_snd_cwnd);
	wait_quiet(ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(8), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
}

/* With one segment out, the delayed-ACK allowance (WCDelAckT, 200 ms)
 * makes the PTO 2 * SRTT + 200 ms. */
static void test_pto_one_in_flight(void **state)
{
	struct tcp_info ti = info();

	(void)state;
	assert_int_equal(ti.tcpi_rtt, 300000);
	assert_int_equal(ti.tcpi_rto, 900000);
	send_segments(0, 1);
	wait_quiet(2ull * 300000 + 200000);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
}

/* Never later than the RTO (RTT 100 ms: 2 * 100 + 200 > RTO 300). */
static void test_pto_capped_by_rto(void **state)
{
	struct tcp_info ti = info();

	(void)state;
	assert_int_equal(ti.tcpi_rto, 300000);
	send_segments(0, 1);
	wait_quiet(ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	/* The RTO restarts from the probe, not backed off. */
	wait_quiet(ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
}

/* §7.3: new data goes as the probe even though cwnd is full. */
static void test_probe_new_data(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(0, 10);
	ti = info();
	assert_int_equal(ti.tcpi_snd_cwnd, 10);
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	TT_EXPECT_NONE(&T);   /* cwnd is full */
	/* No ACK since the handshake's sample: PTO from the flight. */
	wait_quiet(2ull * ti.tcpi_rtt + 2000 < ti.tcpi_rto ?
		   2ull * ti.tcpi_rtt + 2000 : ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(10), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	/* Its ACK ends the episode: no reduction. */
	ack(11);
	/* Slow start: +11, all the ACK covers (tcp_slow_start). */
	assert_int_equal(info().tcpi_snd_cwnd, 21);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBE_RECOVERY), 0);
}

/* §7.4.2: the probe repaired a loss nothing else saw (no D-SACK, and an
 * ACK past TLP.end_seq): the window is reduced as for a loss. */
static void test_probe_repairs_loss(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(0, 10);
	ts_advance(&T, 100000);
	ack(8);
	ti = info();
	ts_advance(&T, 2ull * ti.tcpi_rtt + 2000);
	TT_EXPECT_DATA(&C, seg(9), MSS);
	/* The ACK reaches TLP.end_seq: undecided until something above. */
	ack(10);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBE_RECOVERY), 0);
	ti = info();
	send_segments(10, 1);
	ack(11);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBE_RECOVERY), 1);
	/* NewReno: ssthresh = max(cwnd / 2, 2) (Linux's, though one
	 * segment was out); cwnd = ssthresh. */
	assert_true(ti.tcpi_snd_cwnd > 4);
	assert_int_equal(info().tcpi_snd_ssthresh, ti.tcpi_snd_cwnd / 2);
	assert_int_equal(info().tcpi_snd_cwnd, ti.tcpi_snd_cwnd / 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
}

/* §7.4.1: a D-SACK of the probe says the original arrived: no loss, no
 * reduction, and a later tail may be probed again. */
static void test_probe_dsack_no_loss(void **state)
{
	struct tcp_info ti;
	uint32_t cwnd;

	(void)state;
	send_segments(0, 10);
	ts_advance(&T, 100000);
	ack(8);
	ti = info();
	ts_advance(&T, 2ull * ti.tcpi_rtt + 2000);
	TT_EXPECT_DATA(&C, seg(9), MSS);
	ack_dsack(10, 9);
	cwnd = info().tcpi_snd_cwnd;
	send_segments(10, 2);
	ack(12);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBE_RECOVERY), 0);
	assert_true(info().tcpi_snd_cwnd >= cwnd);
	/* A new episode: another probe. */
	send_segments(12, 2);
	ti = info();
	ts_advance(&T, 2ull * ti.tcpi_rtt + 2000);
	TT_EXPECT_DATA(&C, seg(13), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 2);
}

/* §7.3: at most one probe outstanding. An ACK below TLP.end_seq rearms
 * the timer, but the next expiry sends nothing: the RTO follows. */
static void test_one_probe_per_episode(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(0, 10);
	ts_advance(&T, 100000);
	ack(6);
	ti = info();
	ts_advance(&T, 2ull * ti.tcpi_rtt + 2000);
	TT_EXPECT_DATA(&C, seg(9), MSS);
	ack(7);   /* not up to TLP.end_seq */
	/* The PTO expires again but sends no probe; the RTO, counted from
	 * segment 7's transmission, is overdue and follows at once. */
	wait_quiet(2ull * info().tcpi_rtt + 2000);
	ts_advance(&T, 10);
	TT_EXPECT_DATA(&C, seg(7), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
}

/* net.ipv4.tcp_early_retrans = 0, or no SACK: the RTO, no probe. */
static void test_no_probe(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(0, 10);
	ts_advance(&T, 100000);
	ack(8);
	ti = info();
	wait_quiet(ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(8), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
}

/* The knob: Linux's range 0..4. */
static void test_sysctl(void **state)
{
	char v[16];

	(void)state;
	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_early_retrans",
					   v, sizeof(v)), 0);
	assert_string_equal(v, "3");
	errno = 0;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "5"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "-1"), -1);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "4"), 0);
	ts_destroy(&T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysctl),
		cmocka_unit_test_setup_teardown(test_pto_two_in_flight, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_pto_one_in_flight,
						setup_long_rtt, ts_teardown),
		cmocka_unit_test_setup_teardown(test_pto_capped_by_rto, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_probe_new_data, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_probe_repairs_loss, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_probe_dsack_no_loss, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_one_probe_per_episode, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_probe, setup_off,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_probe, setup_nosack,
						ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
