/*
 * test_tcp_sack.c - SACK (tcp_sack.c) with crafted segments in virtual
 * time: the option's parse edge cases (RFC 2018 §3), negotiation (§2),
 * the blocks we generate and their order (§4), D-SACK (RFC 2883), and the
 * sender's scoreboard and RFC 6675 recovery (IsLost, pipe, NextSeg),
 * observed on the wire and through TCP_INFO (tcpi_sacked/lost/retrans).
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
#include "net/tcp/tcp.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[70000];

/* Each test starts on a connection the peer opened with SACK-permitted
 * (passive open: the stack accepted it). NewReno's halving is what RFC
 * 6675 §5 writes out (CUBIC's 0.7 is tested in test_tcp_cong.c). */
static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	/* RFC 6675's IsLost and DupThresh find the losses here; RACK
	 * (net.ipv4.tcp_recovery = 1) is test_tcp_rack.c's. */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
	tt_conn_init(&C, &T, false);
	C.sack_perm = true;
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

/* A SACK option with n blocks (relative to the stack's ISS + 1). */
static size_t sack_opt(uint8_t *o, const uint32_t (*b)[2], int n,
		       uint32_t base)
{
	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_SACK;
	o[3] = (uint8_t)(2 + 8 * n);
	for (int i = 0; i < n; i++) {
		uint32_t s = base + b[i][0], e = base + b[i][1];

		for (int k = 0; k < 4; k++) {
			o[4 + 8 * i + k] = (uint8_t)(s >> (24 - 8 * k));
			o[8 + 8 * i + k] = (uint8_t)(e >> (24 - 8 * k));
		}
	}
	return 4 + 8 * (size_t)n;
}

/* The peer ACKs `ack` (relative) with SACK blocks (relative). */
static void peer_sack(uint32_t ack, const uint32_t (*b)[2], int n)
{
	uint8_t o[40];
	uint32_t base = C.iss + 1;

	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, base + ack, o,
		    sack_opt(o, b, n, base), NULL, 0);
}

static struct tcp_info info(void)
{
	struct tcp_info ti;

	tt_info(C.fd, &ti);
	return ti;
}

/* Send nseg full segments and check they all left. */
static void send_segments(int nseg)
{
	assert_int_equal(us_send(C.fd, BUF, (size_t)nseg * MSS, 0), nseg * MSS);
	for (int i = 0; i < nseg; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
	TT_EXPECT_NONE(&T);
}

/* The next segment is a retransmission of segment i (0-based). */
static void expect_rexmit(int i)
{
	TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)i * MSS, MSS);
}

/* ---- parsing the option (RFC 2018 §3) ------------------------------------ */

static void test_parse_sack_lengths(void **state)
{
	uint8_t o[44] = { TCPOPT_SACK, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	struct tcp_opts out;

	(void)state;
	assert_int_equal(tcp_parse_options(o, 10, false, &out), 0);
	assert_int_equal(out.nsacks, 1);
	assert_int_equal(out.sacks[0].start, 1);
	assert_int_equal(out.sacks[0].end, 2);
	/* On a SYN a SACK option means nothing. */
	assert_int_equal(tcp_parse_options(o, 10, true, &out), 0);
	assert_int_equal(out.nsacks, 0);
	/* 2 + 8n only: 9 or 11 bytes, or no block at all, are ignored. */
	o[1] = 9;
	assert_int_equal(tcp_parse_options(o, 9, false, &out), 0);
	assert_int_equal(out.nsacks, 0);
	o[1] = 2;
	assert_int_equal(tcp_parse_options(o, 2, false, &out), 0);
	assert_int_equal(out.nsacks, 0);
	o[1] = 11;
	assert_int_equal(tcp_parse_options(o, 12, false, &out), 0);
	assert_int_equal(out.nsacks, 0);
	/* A length running past the options is malformed. */
	o[1] = 18;
	assert_int_equal(tcp_parse_options(o, 10, false, &out),
			 US_DROP_TCP_BAD_OPTIONS);
	/* Five blocks (42 bytes, more than a header holds): four kept. */
	o[1] = 42;
	for (int i = 0; i < 5; i++) {
		o[2 + 8 * i + 3] = (uint8_t)(10 * i + 1);
		o[6 + 8 * i + 3] = (uint8_t)(10 * i + 2);
	}
	assert_int_equal(tcp_parse_options(o, 42, false, &out), 0);
	assert_int_equal(out.nsacks, TCP_MAX_SACKS);
	assert_int_equal(out.sacks[3].start, 31);
}

static void test_emit_sack_room(void **state)
{
	struct tcp_opts o = { .nsacks = 4 };
	uint8_t buf[40];

	(void)state;
	for (int i = 0; i < 4; i++) {
		o.sacks[i].start = 100u * (uint32_t)i;
		o.sacks[i].end = 100u * (uint32_t)i + 50;
	}
	/* Without timestamps all four fit in 36 bytes. */
	assert_int_equal(tcp_emit_options(&o, false, buf), 36);
	assert_int_equal(buf[3], 34);
	/* With them (12 bytes), the space left holds three. */
	o.ts_ok = true;
	assert_int_equal(tcp_emit_options(&o, false, buf), 40);
	assert_int_equal(buf[15], 26);
}

/* ---- negotiation (RFC 2018 §2) -------------------------------------------- */

static void test_negotiated(void **state)
{
	struct tcp_info ti = info();

	(void)state;
	assert_true(ti.tcpi_options & TCPI_OPT_SACK);
}

static void test_not_negotiated_without_offer(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	tt_conn_init(&c, &T, false);
	c.us_port = 8081;
	s = tt_open_synrecv(&c);
	assert_false(s->th.opts.sack_ok);
	assert_int_equal(s->th.doff, 24);
}

static void test_sysctl_off_declines(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_sack", "0"), 0);
	tt_conn_init(&c, &T, false);
	c.us_port = 8082;
	c.sack_perm = true;
	s = tt_open_synrecv(&c);
	assert_false(s->th.opts.sack_ok);
}

/* ---- generating blocks (RFC 2018 §4) -------------------------------------- */

/* The peer sends len bytes at offset off past its next sequence number. */
static const struct tt_seg *ooo(uint32_t off, uint32_t len)
{
	tt_peer_at(&C, off, TCPHDR_ACK, BUF, len);
	return TT_EXPECT_ACK(&C);
}

static void expect_blocks(const struct tt_seg *s, const uint32_t (*b)[2],
			  int n)
{
	assert_int_equal(s->th.opts.nsacks, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(s->th.opts.sacks[i].start - C.snd_nxt, b[i][0]);
		assert_int_equal(s->th.opts.sacks[i].end - C.snd_nxt, b[i][1]);
	}
}

static void test_blocks_most_recent_first(void **state)
{
	(void)state;
	expect_blocks(ooo(100, 100), (const uint32_t[][2]){ { 100, 200 } }, 1);
	expect_blocks(ooo(500, 100), (const uint32_t[][2]){ { 500, 600 },
							   { 100, 200 } }, 2);
	expect_blocks(ooo(300, 100), (const uint32_t[][2]){ { 300, 400 },
							   { 500, 600 },
							   { 100, 200 } }, 3);
	/* Growing an old block brings it to the front. */
	expect_blocks(ooo(200, 50), (const uint32_t[][2]){ { 100, 250 },
							  { 300, 400 },
							  { 500, 600 } }, 3);
	/* Five runs: the oldest reported one is left out. */
	ooo(700, 100);
	expect_blocks(ooo(900, 100), (const uint32_t[][2]){ { 900, 1000 },
							   { 700, 800 },
							   { 100, 250 },
							   { 300, 400 } }, 4);
}

static void test_blocks_go_with_cumulative_ack(void **state)
{
	const struct tt_seg *s;

	(void)state;
	ooo(100, 100);
	ooo(300, 100);
	/* The hole below the first block is filled: that block is gone. */
	tt_peer(&C, TCPHDR_ACK, BUF, 200);
	s = TT_EXPECT_ACK(&C);
	expect_blocks(s, (const uint32_t[][2]){ { 100, 200 } }, 1);
	/* The last hole: the ACK covers the queued block too. */
	tt_peer(&C, TCPHDR_ACK, BUF, 100);
	s = TT_EXPECT(&C, TCPHDR_ACK, C.rcv_nxt, C.snd_nxt + 100);
	assert_int_equal(s->th.opts.nsacks, 0);
	assert_int_equal(us_recv(C.fd, BUF + 60000, 1000, MSG_DONTWAIT), 400);
}

static void test_no_blocks_on_full_data_segment(void **state)
{
	const struct tt_seg *s;

	(void)state;
	ooo(100, 100);
	/* A full-sized segment leaves no room for blocks under the MSS. */
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	s = TT_EXPECT_DATA(&C, C.rcv_nxt, MSS);
	assert_int_equal(s->th.opts.nsacks, 0);
	/* A small one carries them. */
	C.rcv_nxt += MSS;
	assert_int_equal(us_send(C.fd, BUF, 100, 0), 100);
	s = TT_EXPECT_DATA(&C, C.rcv_nxt, 100);
	assert_int_equal(s->th.opts.nsacks, 1);
}

/* ---- D-SACK (RFC 2883) ---------------------------------------------------- */

static void test_dsack_old_and_ooo(void **state)
{
	const struct tt_seg *s;

	(void)state;
	tt_peer(&C, TCPHDR_ACK, BUF, 100);
	TT_EXPECT_ACK(&C);
	/* The same 100 bytes again: below RCV.NXT, reported once. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt - 100, C.rcv_nxt, BUF, 100);
	s = TT_EXPECT_ACK(&C);
	expect_blocks(s, (const uint32_t[][2]){ { (uint32_t)-100, 0 } }, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_SENT), 1);
	/* A duplicate of queued data: D-SACK, then the block holding it. */
	ooo(200, 100);
	ooo(300, 100);
	s = ooo(250, 50);
	expect_blocks(s, (const uint32_t[][2]){ { 250, 300 }, { 200, 400 } }, 2);
	/* Off: plain blocks only. */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_dsack", "0"), 0);
	s = ooo(250, 50);
	expect_blocks(s, (const uint32_t[][2]){ { 200, 400 } }, 1);
}

/* ---- the scoreboard and RFC 6675 recovery --------------------------------- */

static void test_invalid_blocks_ignored(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(10);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + MSS, NULL, 0);
	/* Above SND.NXT, reversed, past SND.NXT at the end, below SND.UNA
	 * (as a second block; a first one there is a D-SACK): each ignored
	 * and counted, and none of these ACKs is a duplicate ACK. */
	peer_sack(MSS, (const uint32_t[][2]){ { 20 * MSS, 21 * MSS } }, 1);
	peer_sack(MSS, (const uint32_t[][2]){ { 5 * MSS, 4 * MSS } }, 1);
	peer_sack(MSS, (const uint32_t[][2]){ { 6 * MSS, 11 * MSS },
					       { 100, 200 } }, 2);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_DISCARD), 4);
	/* A D-SACK (first block below the ACK) counts apart; of a segment
	 * never sent again, it is dubious (Linux's tcp_dsack_seen). */
	peer_sack(2 * MSS, (const uint32_t[][2]){ { 0, MSS } }, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_IGNORED_DUBIOUS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_RECV), 0);
	assert_int_equal(info().tcpi_sacked, 0);
	TT_EXPECT_NONE(&T);
}

static void test_islost_and_recovery(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(10);
	/* Segments 1 and 2 SACKed: below DupThresh, nothing lost. */
	peer_sack(0, (const uint32_t[][2]){ { MSS, 3 * MSS } }, 1);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 2);
	assert_int_equal(ti.tcpi_lost, 0);
	TT_EXPECT_NONE(&T);
	/* A third: segment 0 is lost (IsLost), recovery sends it. */
	peer_sack(0, (const uint32_t[][2]){ { MSS, 4 * MSS } }, 1);
	expect_rexmit(0);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 3);
	assert_int_equal(ti.tcpi_lost, 1);
	assert_int_equal(ti.tcpi_retrans, 1);
	/* ssthresh = cwnd / 2 (RFC 6675 §5 step 4.2, Linux's); the window
	 * comes down to it by RFC 6937: this ACK delivered one segment,
	 * cwnd = pipe (10 - 3 - 1) + CEIL(1 * 5 / 10) = 7 (test_tcp_prr.c
	 * checks PRR in detail). */
	assert_int_equal(ti.tcpi_snd_ssthresh, 5);
	assert_int_equal(ti.tcpi_snd_cwnd, 7);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 1);
	/* Two more SACKed: pipe = 10 - 5 - 1 + 1 = 5 = ssthresh, so PRR
	 * releases nothing and cwnd = pipe; nothing goes. */
	peer_sack(0, (const uint32_t[][2]){ { MSS, 6 * MSS } }, 1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_snd_cwnd, 5);
	/* Everything acknowledged: recovery over, the board empty. cwnd is
	 * ssthresh, then grows by the five segments this ACK delivered (0
	 * and 6 to 9): 5 + 5 / 5 = 6, as Linux's tcp_ack raises the window
	 * once the recovery has ended (tcp_cong_control). */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 10 * MSS, NULL, 0);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 0);
	assert_int_equal(ti.tcpi_lost, 0);
	assert_int_equal(ti.tcpi_retrans, 0);
	assert_int_equal(ti.tcpi_snd_cwnd, 6);
}

static void test_nextseg_lost_before_new_data(void **state)
{
	(void)state;
	send_segments(10);
	/* Segments 0 and 2 lost; 1, 3, 4, 5 SACKed. */
	peer_sack(0, (const uint32_t[][2]){ { 3 * MSS, 6 * MSS },
					      { MSS, 2 * MSS } }, 2);
	/* IsLost(0): 4 SACKed above; IsLost(2): 3 above. The first is
	 * retransmitted at entry; pipe = 10 - 4 - 2 + 1 = 5 = cwnd. */
	expect_rexmit(0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_lost, 2);
	/* New data is queued, but NextSeg rule 1 (the lost segment 2)
	 * comes first once pipe < cwnd. */
	assert_int_equal(us_send(C.fd, BUF, MSS, 0), MSS);
	TT_EXPECT_NONE(&T);
	peer_sack(0, (const uint32_t[][2]){ { 3 * MSS, 7 * MSS },
					      { MSS, 2 * MSS } }, 2);
	expect_rexmit(2);
	TT_EXPECT_NONE(&T);
	peer_sack(0, (const uint32_t[][2]){ { 3 * MSS, 8 * MSS },
					      { MSS, 2 * MSS } }, 2);
	TT_EXPECT_DATA(&C, C.iss + 1 + 10 * MSS, MSS);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_retrans, 2);
}

static void test_rto_keeps_sack_marks(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(6);
	/* Segments 2 and 3 SACKed; then silence until the RTO. */
	peer_sack(0, (const uint32_t[][2]){ { 2 * MSS, 4 * MSS } }, 1);
	TT_EXPECT_NONE(&T);
	/* (The SACK gave an RTT sample of ~0: RTO is 200 ms.) */
	ts_advance(&T, 250000);
	expect_rexmit(0);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 2);
	assert_int_equal(ti.tcpi_lost, 4);   /* 0, 1, 4, 5 */
	assert_int_equal(ti.tcpi_snd_cwnd, 1);
	/* Segment 0 arrives: cwnd 2; 1 and 4 go, not the SACKed 2 and 3. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + MSS, NULL, 0);
	expect_rexmit(1);
	expect_rexmit(4);
	TT_EXPECT_NONE(&T);
}

/*
 * The receiver reneged: it SACKed segments 2 and 3, then acknowledged up
 * to segment 2 with no block (it dropped them, as a receiver past its
 * buffer may: RFC 2018 §8). At the timeout the head of the queue being
 * SACKed tells the marks are stale (Linux's tcp_timeout_mark_lost): they
 * are cleared and the head goes again. Kept, they left segment 2 marked
 * held for ever and the connection retransmitted nothing until it died.
 */
static void test_rto_after_reneging(void **state)
{
	struct tcp_info ti;

	(void)state;
	send_segments(4);
	peer_sack(0, (const uint32_t[][2]){ { 2 * MSS, 4 * MSS } }, 1);
	TT_EXPECT_NONE(&T);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 2 * MSS, NULL, 0);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 250000);
	expect_rexmit(2);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_sacked, 0);
	assert_int_equal(ti.tcpi_lost, 2);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RENEGING), 1);
	/* Segment 2 arrives: 3 goes. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + 3 * MSS, NULL, 0);
	expect_rexmit(3);
	TT_EXPECT_NONE(&T);
}

/*
 * RFC 6582's "recover" (high_seq) stayed where the connection or its last
 * episode began. Once SND.UNA was 2^31 past it (2 GiB without a loss),
 * "snd_una < high_seq" read true, modulo 2^32, for the next 2 GiB: no loss
 * started a recovery (no window cut, no TLP) until an RTO. The state near
 * the end of such a transfer is made by hand: high_seq 2^31 - 1000 bytes
 * behind, then an ACK of one segment takes SND.UNA across.
 */
static void test_recovery_after_2gib(void **state)
{
	struct socket *sock;
	int err;

	(void)state;
	send_segments(10);
	sock = sockfd_lookup(C.fd, &err);
	assert_non_null(sock);
	tcp_sk(sock->sk)->high_seq = tcp_sk(sock->sk)->snd_una - 0x80000000u +
				     1000;
	sockfd_put(sock);
	/* Segment 0 acknowledged; 2, 3, 4 SACKed: segment 1 is lost. */
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + MSS, NULL, 0);
	TT_EXPECT_NONE(&T);
	peer_sack(MSS, (const uint32_t[][2]){ { 2 * MSS, 5 * MSS } }, 1);
	expect_rexmit(1);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_SACK_RECOVERY), 1);
	/* (the window cut: half of 11, the first ACK's slow start) */
	assert_int_equal(info().tcpi_snd_ssthresh, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_sack_lengths),
		cmocka_unit_test(test_emit_sack_room),
		cmocka_unit_test_setup_teardown(test_negotiated, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_not_negotiated_without_offer,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sysctl_off_declines, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_blocks_most_recent_first,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_blocks_go_with_cumulative_ack,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_blocks_on_full_data_segment,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dsack_old_and_ooo, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_blocks_ignored, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_islost_and_recovery, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_nextseg_lost_before_new_data,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_rto_keeps_sack_marks, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_recovery_after_2gib, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_rto_after_reneging, setup,
						ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
