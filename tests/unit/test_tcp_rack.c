/*
 * test_tcp_rack.c - RACK loss detection (tcp_rack.c, RFC 8985 §6) with
 * crafted SACKs in virtual time. The handshake's round trip is 100 ms, so
 * RACK.min_RTT is 100 ms and the reordering window, once reordering has
 * been seen or before three segments are SACKed, is 25 ms.
 *
 * Checked: a hole SACKed around within the window is not lost and its
 * late arrival counts as reordering; the reorder timer (§6.3) marks it
 * when the window has passed, and recovery sends it; a segment sent
 * earlier than a delivered one by more than the window is lost at once,
 * on the first SACK, where DupThresh would wait for three; with three
 * SACKed every hole below the latest is lost (IsLost marks fewer); after
 * reordering was seen, three SACKed segments are no loss until the window
 * has passed, and a D-SACK doubles that window; a tail loss after a Tail Loss Probe is repaired without the
 * RTO; a lost retransmission is sent again; the walk for losses goes on
 * past a retransmission sent after RACK's segment; and net.ipv4.tcp_recovery = 0
 * brings back RFC 6675's DupThresh. And the undo of a recovery whose
 * retransmissions all come back D-SACKed (tcp_undo.c).
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
#define RTT 100000
#define REO_WND (RTT / 4)
#define MARGIN 2000       /* what the reorder timer adds (tcp_rack.c) */

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[40 * MSS];

static int setup_common(const char *recovery)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery",
					   recovery), 0);
	tt_conn_init(&C, &T, false);
	C.sack_perm = true;
	tt_open_synrecv(&C);
	ts_advance(&T, RTT);
	tt_peer(&C, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(&T);
	C.fd = us_accept4(C.lfd, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK);
	assert_true(C.fd >= 0);
	return 0;
}

static int setup(void **state)
{
	*state = &T;
	return setup_common("1");
}

static int setup_off(void **state)
{
	*state = &T;
	return setup_common("0");
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

/* The peer ACKs segment `upto` (exclusive) and SACKs segments
 * [b[k][0], b[k][1]) (0: no blocks). */
static void sack(int upto, const int (*b)[2], int n)
{
	uint8_t o[40] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK,
			  (uint8_t)(2 + 8 * n) };

	for (int i = 0; i < n; i++) {
		uint32_t s = seg(b[i][0]), e = seg(b[i][1]);

		for (int k = 0; k < 4; k++) {
			o[4 + 8 * i + k] = (uint8_t)(s >> (24 - 8 * k));
			o[8 + 8 * i + k] = (uint8_t)(e >> (24 - 8 * k));
		}
	}
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, seg(upto), o,
		    n ? 4 + 8 * (size_t)n : 0, NULL, 0);
}

static void send_segments(int from, int n)
{
	assert_int_equal(us_send(C.fd, BUF, (size_t)n * MSS, 0), n * MSS);
	for (int i = 0; i < n; i++)
		TT_EXPECT_DATA(&C, seg(from + i), MSS);
	TT_EXPECT_NONE(&T);
}

/* Advance by `at` us: nothing until its last millisecond. */
static void wait_quiet(us_time_t at)
{
	ts_advance(&T, at - 1000);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 1000);
}

/* A hole SACKed around is not lost within RACK.rtt + reo_wnd; when it
 * then arrives, that was reordering, and nothing is sent again. */
static void test_reordering_within_window(void **state)
{
	(void)state;
	send_segments(0, 4);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 2 } }, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 0);
	ts_advance(&T, REO_WND - 5000);
	sack(2, NULL, 0);   /* segment 0 came: 0 and 1 are acknowledged */
	/* Past the time segment 0 would have been lost by (RTT + reo_wnd
	 * after it was sent), before the loss probe (2 RTT from now). */
	ts_advance(&T, 2 * REO_WND);
	sack(4, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_total_retrans, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 0);
}

/* n segments; a round trip later segment 1 is SACKed, nothing more
 * comes: the reorder timer marks segment 0 lost and it is sent again. */
static void head_lost_by_timer(int n)
{
	send_segments(0, n);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 2 } }, 1);
	TT_EXPECT_NONE(&T);
	wait_quiet(REO_WND + MARGIN);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
}

/* §6.3: nothing more comes; the reorder timer fires RACK.rtt + reo_wnd
 * after the hole was sent (plus the timer's margin), marks it lost, and
 * fast recovery sends it, long before the RTO. */
static void test_reorder_timer_marks(void **state)
{
	struct tcp_info ti;

	(void)state;
	head_lost_by_timer(4);
	ti = info();
	assert_int_equal(ti.tcpi_lost, 1);
	assert_int_equal(ti.tcpi_retrans, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	/* The repair ends recovery; segments 2 and 3 were only slower. */
	ts_advance(&T, RTT);
	sack(4, NULL, 0);
	ti = info();
	assert_int_equal(ti.tcpi_lost, 0);
	TT_EXPECT_NONE(&T);
}

/* §6.2 step 5: segment 2, sent 50 ms after segments 0 and 1, is SACKed
 * a round trip later; they are older than that by more than the window:
 * both lost on this one SACK, where DupThresh needs three. */
static void test_lost_by_time_on_one_sack(void **state)
{
	(void)state;
	send_segments(0, 2);
	ts_advance(&T, RTT / 2);
	send_segments(2, 1);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 2, 3 } }, 1);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	assert_int_equal(info().tcpi_lost, 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 0);
}

/* The same with net.ipv4.tcp_recovery = 0: one SACK is no loss (RFC 6675
 * IsLost), nothing goes until the RTO. */
static void test_recovery_off_waits(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(0, 2);
	ts_advance(&T, RTT / 2);
	send_segments(2, 1);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 2, 3 } }, 1);
	ti = info();
	assert_int_equal(ti.tcpi_lost, 0);
	wait_quiet(ti.tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 0);
}

/* Segments 1-3 and 5 of six are SACKed. Before reordering is seen, three
 * SACKed segments make RACK's window zero (DupThresh lives on in RACK, as
 * in Linux): every hole below the latest delivered segment is lost at
 * once, 0 and 4. */
static void test_dupthresh_in_rack(void **state)
{
	(void)state;
	send_segments(0, 6);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 4 }, { 5, 6 } }, 2);
	/* PRR-SSRB: four delivered, pipe 0, ssthresh 3: both go. */
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_DATA(&C, seg(4), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 2);
	assert_int_equal(info().tcpi_retrans, 2);
	ts_advance(&T, RTT);
	sack(6, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 0);
}

/* tcp_recovery = 0: RFC 6675's IsLost marks only a hole with three
 * SACKed segments above it: 0, not 4. */
static void test_recovery_off_dupthresh(void **state)
{
	(void)state;
	send_segments(0, 6);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 4 }, { 5, 6 } }, 2);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 1);
}

/* After reordering was seen (a hole filled by its first transmission),
 * three SACKs above a hole are no loss until the window has passed. */
static void test_reordering_widens(void **state)
{
	(void)state;
	send_segments(0, 2);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 2 } }, 1);
	sack(2, NULL, 0);   /* segment 0 came after segment 1 */
	TT_EXPECT_NONE(&T);
	send_segments(2, 5);
	ts_advance(&T, RTT);
	sack(2, (const int[][2]){ { 3, 6 } }, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 0);
	wait_quiet(REO_WND + MARGIN);
	TT_EXPECT_DATA(&C, seg(2), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 1);
	/* Segment 6 was sent with 2, as late as the latest SACKed: not
	 * lost. */
	assert_int_equal(info().tcpi_lost, 1);
}

/* §6.2 step 4: a D-SACK (the peer got a segment twice: the
 * retransmission was spurious) widens the window by min_RTT / 4 per
 * round: the reorder timer then waits 50 ms, not 25. */
static void test_dsack_widens_window(void **state)
{
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };

	(void)state;
	send_segments(0, 2);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 2 } }, 1);
	wait_quiet(REO_WND + MARGIN);
	TT_EXPECT_DATA(&C, seg(0), MSS);   /* sent again */
	/* The original was only late: ACK with a D-SACK of segment 0. */
	for (int k = 0; k < 4; k++) {
		o[4 + k] = (uint8_t)(seg(0) >> (24 - 8 * k));
		o[8 + k] = (uint8_t)(seg(1) >> (24 - 8 * k));
	}
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, seg(2), o, sizeof(o), NULL, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_RECV), 1);
	TT_EXPECT_NONE(&T);
	/* The window is now 2 * min_RTT / 4 (cwnd is 2 after the recovery:
	 * half the window). */
	send_segments(2, 2);
	ts_advance(&T, RTT);
	sack(2, (const int[][2]){ { 3, 4 } }, 1);
	TT_EXPECT_NONE(&T);
	wait_quiet(2 * REO_WND + MARGIN);
	TT_EXPECT_DATA(&C, seg(2), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 2);
}

/*
 * A tail loss of three segments: the ACK covers 0-6, the Tail Loss Probe
 * (tcp_tlp.c) sends segment 9 again and its SACK is the only word from
 * the peer. RACK: 7 and 8 were sent a PTO before the probe, so they are
 * lost, and recovery sends them; no RTO (with DupThresh they would wait
 * for it).
 */
static void tlp_tail_loss(void)
{
	struct tcp_info ti;

	send_segments(0, 10);
	ts_advance(&T, RTT);
	sack(7, NULL, 0);
	ti = info();
	wait_quiet(2ull * ti.tcpi_rtt + 2000);
	TT_EXPECT_DATA(&C, seg(9), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_PROBES), 1);
	ts_advance(&T, RTT);
	sack(7, (const int[][2]){ { 9, 10 } }, 1);
}

static void test_tlp_tail_loss_repaired(void **state)
{
	(void)state;
	tlp_tail_loss();
	TT_EXPECT_DATA(&C, seg(7), MSS);
	assert_int_equal(info().tcpi_lost, 2);
	ts_advance(&T, RTT);
	sack(8, (const int[][2]){ { 9, 10 } }, 1);
	TT_EXPECT_DATA(&C, seg(8), MSS);
	ts_advance(&T, RTT);
	sack(10, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	assert_int_equal(info().tcpi_total_retrans, 3);   /* probe, 7, 8 */
}

static void test_tlp_tail_loss_recovery_off(void **state)
{
	(void)state;
	tlp_tail_loss();
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 0);
	ts_advance(&T, info().tcpi_rto);
	TT_EXPECT_DATA(&C, seg(7), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 1);
}

/* A retransmission lost too: once a segment sent after it is SACKed and
 * the window has passed, it is lost again and goes a third time
 * (DupThresh cannot see this; only the RTO would). */
static void test_lost_retransmission(void **state)
{
	(void)state;
	send_segments(0, 5);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 5 } }, 1);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	/* New data behind the retransmission; the peer SACKs it, the
	 * retransmission does not come. */
	ts_advance(&T, 10000);
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	TT_EXPECT_DATA(&C, seg(5), MSS);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 6 } }, 1);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOST_RETRANSMIT), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	ts_advance(&T, RTT);
	sack(6, NULL, 0);
	assert_int_equal(info().tcpi_lost, 0);
	assert_int_equal(info().tcpi_retrans, 0);
}

/*
 * The walk of §6.2 step 5 passes over a retransmission sent after RACK's
 * segment: segments behind it in sequence were sent before, and are
 * looked at. Segment 0 is lost by the reorder timer and sent again; then
 * segment 3, sent with segment 2, is SACKed more than a round trip and
 * a window later: segment 2 is lost at once (it would not be, were the
 * walk to stop at segment 0, the first segment sent after RACK's).
 */
static void test_walk_passes_retransmission(void **state)
{
	(void)state;
	head_lost_by_timer(8);
	ts_advance(&T, 1000);
	sack(0, (const int[][2]){ { 1, 2 }, { 3, 4 } }, 2);
	assert_int_equal(info().tcpi_lost, 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
}

/* ---- undo of a spurious recovery (tcp_undo.c) ------------------------------ */

/* The peer ACKs `upto` with a D-SACK of segment d (RFC 2883). */
static void dsack(int upto, int d)
{
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };

	for (int k = 0; k < 4; k++) {
		o[4 + k] = (uint8_t)(seg(d) >> (24 - 8 * k));
		o[8 + k] = (uint8_t)(seg(d + 1) >> (24 - 8 * k));
	}
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, seg(upto), o, sizeof(o), NULL, 0);
}

/* Ten segments; 1-3 and 5-7 SACKed: 0 and 4 are lost and sent again. */
static void start_recovery_of_two(void)
{
	send_segments(0, 10);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 4 }, { 5, 8 } }, 2);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_DATA(&C, seg(4), MSS);
	TT_EXPECT_NONE(&T);
}

/* That, then everything is ACKed and the recovery ends at ssthresh 5. */
static void recovery_of_two(void)
{
	start_recovery_of_two();
	ts_advance(&T, RTT);
	sack(10, NULL, 0);
	assert_int_equal(info().tcpi_snd_cwnd, 5);
	assert_int_equal(info().tcpi_snd_ssthresh, 5);
}

/* Both retransmissions come back as D-SACKs: none was needed, and the
 * window is what it was before (10, still in slow start). One D-SACK is
 * not enough. */
static void test_dsack_undo(void **state)
{
	(void)state;
	recovery_of_two();
	dsack(10, 0);
	assert_int_equal(info().tcpi_snd_cwnd, 5);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 0);
	dsack(10, 4);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 1);
	assert_int_equal(info().tcpi_snd_cwnd, 10);
	assert_true(info().tcpi_snd_ssthresh > 10);
	send_segments(10, 10);   /* all at once */
}

/* D-SACKs of data below SND.UNA are not matched against what was sent
 * again (it is gone from the queue): each one above the recovery's start
 * counts for one retransmission, as in Linux ("dumb counting"). */
static void test_dsack_undo_counts_segments(void **state)
{
	(void)state;
	recovery_of_two();
	dsack(10, 9);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 0);
	dsack(10, 8);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 1);
	dsack(10, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 1);
	assert_int_equal(info().tcpi_snd_cwnd, 10);
}

/* A D-SACK inside the window of a segment never sent again (the network
 * duplicated it) proves nothing about the retransmissions: it does not
 * count (Linux's tcp_sacktag_one), so the D-SACK of segment 0 does not
 * undo. That of segment 4 is then a third duplicate reported for two
 * retransmissions: dubious (Linux's tcp_dsack_seen), no undo either. */
static void test_dsack_undo_in_window_needs_retransmission(void **state)
{
	(void)state;
	start_recovery_of_two();
	sack(0, (const int[][2]){ { 8, 9 }, { 5, 9 }, { 1, 4 } }, 3);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_RECV), 1);
	ts_flush_tx(&T);
	ts_advance(&T, RTT);
	sack(10, NULL, 0);
	dsack(10, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 0);
	assert_int_equal(info().tcpi_snd_cwnd, 5);
	dsack(10, 4);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_IGNORED_DUBIOUS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 0);
	assert_int_equal(info().tcpi_snd_cwnd, 5);
}

/* tcp_recovery = 0: no RACK, and the undo works all the same, as Linux's
 * (tcp_try_undo_dsack does not depend on RACK). The ACK that ends the
 * recovery sets cwnd to ssthresh, 5, and grows it by the seven segments
 * it delivered, 0 and 4 to 9: 6; the D-SACK of the one retransmission
 * then gives the 10 back. */
static void test_dsack_undo_without_rack(void **state)
{
	(void)state;
	send_segments(0, 10);
	ts_advance(&T, RTT);
	sack(0, (const int[][2]){ { 1, 4 } }, 1);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	ts_advance(&T, RTT);
	sack(10, NULL, 0);
	assert_int_equal(info().tcpi_snd_cwnd, 6);
	dsack(10, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 1);
	assert_int_equal(info().tcpi_snd_cwnd, 10);
}

/* Twenty segments written, ten sent; they time out (no Tail Loss Probe
 * first) and the first goes again with a window of one; 10 ms later its
 * ACK comes. */
static void timeout_of_ten(void)
{
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "0"), 0);
	assert_int_equal(us_send(C.fd, BUF, 20 * MSS, 0), 20 * MSS);
	for (int i = 0; i < 10; i++)
		TT_EXPECT_DATA(&C, seg(i), MSS);
	ts_advance(&T, info().tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_snd_cwnd, 1);
	ts_advance(&T, 10000);
	sack(1, NULL, 0);
}

/*
 * F-RTO (RFC 5682 §3.1, tcp_undo.c; on by default, as Linux's
 * tcp_frto=2), without timestamps: after the timeout of ten (step 1),
 * the ACK of the first lets two new segments go instead of the nine
 * presumed lost (step 2b).
 */
static void frto_start(void)
{
	timeout_of_ten();
	TT_EXPECT_DATA(&C, seg(10), MSS);
	TT_EXPECT_DATA(&C, seg(11), MSS);
	TT_EXPECT_NONE(&T);
}

/* Step 3b: the next ACK acknowledges the original second segment, never
 * sent again: the timeout was spurious and is undone, before the window
 * grows by that ACK (Linux's order): 10, then 11. Ten are in flight and
 * none is sent again: one new segment goes. */
static void test_frto_spurious_timeout(void **state)
{
	(void)state;
	frto_start();
	sack(2, NULL, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SPURIOUS_RTOS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_UNDO), 1);
	assert_int_equal(info().tcpi_snd_cwnd, 11);
	assert_true(info().tcpi_snd_ssthresh > 11);
	TT_EXPECT_DATA(&C, seg(12), MSS);
	TT_EXPECT_NONE(&T);
}

/* Step 3a: a duplicate ACK SACKing a new segment only: the loss was
 * real, the segments presumed lost go again; a later SACK of an original
 * (it was reordered) undoes nothing any more. */
static void test_frto_real_loss(void **state)
{
	(void)state;
	frto_start();
	sack(1, (const int[][2]){ { 10, 11 } }, 1);
	TT_EXPECT_DATA(&C, seg(1), MSS);
	TT_EXPECT_NONE(&T);
	sack(1, (const int[][2]){ { 10, 11 }, { 8, 9 } }, 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SPURIOUS_RTOS), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_UNDO), 0);
	assert_int_equal(info().tcpi_snd_cwnd, 2);
	ts_flush_tx(&T);
}

/*
 * After an F-RTO undo the episode is over (Linux's icsk_retransmits = 0):
 * the next timeout is a first one again and cuts ssthresh (Reno: half the
 * flight), and no F-RTO state is left behind for a later fast recovery,
 * which a SACK of an original segment must not undo.
 */
static void test_frto_undo_ends_episode(void **state)
{
	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "0"), 0);
	send_segments(0, 10);
	ts_advance(&T, info().tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	sack(0, (const int[][2]){ { 1, 10 } }, 1);   /* originals: undone */
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SPURIOUS_RTOS), 1);
	assert_int_equal(info().tcpi_snd_cwnd, 10);
	ts_flush_tx(&T);
	ts_advance(&T, info().tcpi_rto);   /* the first segment lost again */
	ts_flush_tx(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 2);
	assert_true(info().tcpi_snd_ssthresh <= 5);
	sack(10, NULL, 0);
	ts_flush_tx(&T);
	/* A real loss: 10 lost, 11-13 SACKed; recovery halves the window. */
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	ts_flush_tx(&T);
	ts_advance(&T, RTT);
	sack(10, (const int[][2]){ { 11, 14 } }, 1);
	ts_flush_tx(&T);
	sack(10, (const int[][2]){ { 11, 15 } }, 1);
	ts_flush_tx(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SPURIOUS_RTOS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_UNDO), 1);
	assert_true(info().tcpi_snd_ssthresh < 10);
}

/* net.ipv4.tcp_frto = 0: the nine presumed lost go again after the
 * first ACK, as the window (two) allows. */
static void test_frto_off(void **state)
{
	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_frto", "0"), 0);
	timeout_of_ten();
	TT_EXPECT_DATA(&C, seg(1), MSS);
	TT_EXPECT_DATA(&C, seg(2), MSS);
	TT_EXPECT_NONE(&T);
	sack(3, NULL, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SPURIOUS_RTOS), 0);
	ts_flush_tx(&T);
}

/*
 * A timeout before any SACK block made RACK's state (with the undo's):
 * its forward ACK starts at SND.UNA of that moment. The ACK of all ten
 * then delivers segments never sent again in order, which is no
 * reordering; so a later loss with three segments SACKed above it is
 * found at once (DupThresh inside RACK), not after a reordering window.
 * (Made as late as that ACK, RACK took the ACK's own SND.UNA for its
 * forward ACK, and every segment it covered looked reordered.)
 */
static void test_timeout_leaves_no_reordering(void **state)
{
	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "0"), 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_frto", "0"), 0);
	send_segments(0, 10);
	ts_advance(&T, info().tcpi_rto);
	TT_EXPECT_DATA(&C, seg(0), MSS);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, RTT);
	sack(10, NULL, 0);
	TT_EXPECT_NONE(&T);
	send_segments(10, 4);
	ts_advance(&T, RTT);
	sack(10, (const int[][2]){ { 11, 14 } }, 1);
	TT_EXPECT_DATA(&C, seg(10), MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RACK_REO_TIMEOUTS), 0);
}

/* The knob: Linux's name and range (a u8), default 1. */
static void test_sysctl(void **state)
{
	char v[16];

	(void)state;
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_recovery", v,
					   sizeof(v)), 0);
	assert_string_equal(v, "1");
	errno = 0;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "256"),
			 -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "-1"),
			 -1);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frto_spurious_timeout,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_frto_real_loss,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_frto_off, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(
			test_dsack_undo_in_window_needs_retransmission,
			setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_frto_undo_ends_episode,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_reordering_within_window,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_reorder_timer_marks,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_lost_by_time_on_one_sack,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_off_waits,
						setup_off, ts_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_off_dupthresh,
						setup_off, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dupthresh_in_rack,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_reordering_widens,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_widens_window,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_tlp_tail_loss_repaired,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_tlp_tail_loss_recovery_off,
						setup_off, ts_teardown),
		cmocka_unit_test_setup_teardown(test_lost_retransmission,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_walk_passes_retransmission,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_undo, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(
			test_dsack_undo_counts_segments, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_undo_without_rack,
						setup_off, ts_teardown),
		cmocka_unit_test_setup_teardown(
			test_timeout_leaves_no_reordering, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sysctl, setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
