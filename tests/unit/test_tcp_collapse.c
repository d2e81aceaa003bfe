/*
 * test_tcp_collapse.c - short segments merged as they go again
 * (tcp_collapse.c, Linux's tcp_retrans_try_collapse), on an established
 * connection over the test device, in virtual time.
 *
 * Checked: after a timeout, short segments go again as one, its payload
 * the bytes of each in order, and the scoreboard counts one packet out,
 * lost and retransmitted (TCP_INFO), the segments merged counted in
 * tcp.retrans_collapsed; a SACKed segment stops the merge, and stays
 * SACKed; segments of a MSG_ZEROCOPY send are never merged, neither
 * into another nor another into them (Linux's skb_zcopy); carved
 * segments of one data area join without a copy or an allocation (the
 * first one's window widens), and a segment that is not theirs makes
 * the first one take an area of its own; the MSS bounds a merge. After
 * the final ACK every buffer and every byte charged is given back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/tcptest.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460
#define HL (20 + 20)   /* the test device carries bare IPv4 packets */

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[4 * MSS];
static size_t USED0;   /* the pool's bytes with nothing queued */

static int setup_common(bool sack)
{
	int one = 1;

	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	C.sack_perm = sack;
	tt_open(&C);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY, &one,
				       sizeof(one)), 0);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + i / 509);
	USED0 = T.st->skb_pool.used_bytes;
	return 0;
}

static int setup(void **state)
{
	*state = &T;
	return setup_common(false);
}

/* SACK, with the timeout alone finding the loss: no RACK, no probe. */
static int setup_sack(void **state)
{
	*state = &T;
	setup_common(true);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_early_retrans",
					   "0"), 0);
	return 0;
}

static uint32_t rel(uint32_t off)
{
	return C.iss + 1 + off;
}

/* Write n bytes of BUF from off, sent as one segment at once. */
static void write_seg(uint32_t off, uint32_t n, int flags)
{
	assert_int_equal(us_send(C.fd, BUF + off, n, flags), (ssize_t)n);
	TT_EXPECT_DATA(&C, rel(off), n);
	TT_EXPECT_NONE(&T);
}

static void ack(uint32_t upto)
{
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, rel(upto), NULL, 0);
}

/* The peer ACKs upto with one SACK block [s, e). */
static void ack_sack(uint32_t upto, uint32_t s, uint32_t e)
{
	uint32_t v[2] = { rel(s), rel(e) };
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++)
			o[4 + 4 * i + k] = (uint8_t)(v[i] >> (24 - 8 * k));
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, rel(upto), o, sizeof(o), NULL,
		    0);
}

/* Virtual time runs until the stack sends; the packet, popped. */
static struct sk_buff *next_packet(void)
{
	struct sk_buff *skb;

	for (int i = 0; i < 3000; i++) {
		skb = ts_pop_tx(&T);
		if (skb)
			return skb;
		ts_advance(&T, 1000);
	}
	fail_msg("nothing sent in 3 s");
	return NULL;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The next packet (after a timeout, if need be) is one segment holding
 * BUF[off, off + len); a GSO packet's frags count. */
static void expect_retransmission(uint32_t off, uint32_t len)
{
	struct sk_buff *skb = next_packet();
	uint8_t got[sizeof(BUF)];
	const struct sk_buff *f;
	size_t n = skb_headlen(skb) - HL;

	assert_int_equal(get32(skb->data + 20 + 4), rel(off));
	assert_false(skb_is_gso(skb));
	memcpy(got, skb->data + HL, n);
	skb_walk_frags(skb, f) {
		memcpy(got + n, f->data, skb_headlen(f));
		n += skb_headlen(f);
	}
	assert_int_equal(n, len);
	assert_memory_equal(got, BUF + off, len);
	skb_free(skb);
}

static struct tcp_info info(void)
{
	struct tcp_info ti;

	tt_info(C.fd, &ti);
	return ti;
}

/* Everything acknowledged: every buffer and byte charged comes back. */
static void ack_all_and_check(uint32_t upto)
{
	ack(upto);
	ts_flush_tx(&T);
	assert_int_equal(info().tcpi_unacked, 0);
	assert_int_equal(T.st->skb_pool.live, 0);
	assert_int_equal(T.st->skb_pool.used_bytes, USED0);
	assert_int_equal(tt_sk(C.fd)->wmem_alloc, 0);
}

/* Five 100-byte segments go again as one of 500 after the timeout. */
static void test_rto_merges(void **state)
{
	uint64_t merged0 = tt_mib(&T, US_MIB_TCP_RETRANS_COLLAPSED);
	struct tcp_info ti;

	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		write_seg(i * 100, 100, 0);
	assert_int_equal(info().tcpi_unacked, 5);
	expect_retransmission(0, 500);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_unacked, 1);
	assert_int_equal(ti.tcpi_lost, 1);
	assert_int_equal(ti.tcpi_retrans, 1);
	assert_int_equal(ti.tcpi_total_retrans, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RETRANS_COLLAPSED) - merged0, 4);
	ack_all_and_check(500);
}

/* The merge stops where the MSS would be passed: 1000 + 400, then 700. */
static void test_mss_bounds(void **state)
{
	(void)state;
	write_seg(0, 1000, 0);
	write_seg(1000, 400, 0);
	write_seg(1400, 700, 0);
	expect_retransmission(0, 1400);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_unacked, 2);
	assert_int_equal(info().tcpi_lost, 2);
	ack(1400);
	expect_retransmission(1400, 700);
	ack_all_and_check(2100);
}

/* A SACKed segment stops the merge; it is not sent again and stays
 * SACKed; the two behind it join after the next ACK. */
static void test_sacked_neighbour(void **state)
{
	struct tcp_info ti;

	(void)state;
	for (uint32_t i = 0; i < 6; i++)
		write_seg(i * 100, 100, 0);
	ack_sack(0, 300, 400);
	TT_EXPECT_NONE(&T);
	expect_retransmission(0, 300);
	TT_EXPECT_NONE(&T);
	ti = info();
	assert_int_equal(ti.tcpi_unacked, 4);   /* 0:300, 300:400, 2 more */
	assert_int_equal(ti.tcpi_sacked, 1);
	assert_int_equal(ti.tcpi_lost, 3);
	assert_int_equal(ti.tcpi_retrans, 1);
	ack_sack(300, 300, 400);
	expect_retransmission(400, 200);
	ti = info();
	assert_int_equal(ti.tcpi_unacked, 2);
	assert_int_equal(ti.tcpi_sacked, 1);
	assert_int_equal(ti.tcpi_lost, 1);
	ack_all_and_check(600);
}

/* Segments of MSG_ZEROCOPY sends go again alone; the plain ones behind
 * them merge with each other only. */
static void test_zerocopy_alone(void **state)
{
	int one = 1;

	(void)state;
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_ZEROCOPY, &one,
				       sizeof(one)), 0);
	write_seg(0, 100, 0);
	write_seg(100, 100, MSG_ZEROCOPY);
	write_seg(200, 100, MSG_ZEROCOPY);
	write_seg(300, 100, 0);
	write_seg(400, 100, 0);
	/* The plain first one takes no zero-copy one along. */
	expect_retransmission(0, 100);
	TT_EXPECT_NONE(&T);
	assert_int_equal(info().tcpi_unacked, 5);
	/* Slow start from 1 segment: the ACK makes it 2 (counted in
	 * segments, as Linux's tcp_is_cwnd_limited: 5 were out), and the
	 * two zero-copy segments go, each alone. */
	ack(100);
	expect_retransmission(100, 100);
	expect_retransmission(200, 100);
	TT_EXPECT_NONE(&T);
	ack(300);
	expect_retransmission(300, 200);
	assert_int_equal(info().tcpi_unacked, 1);
	/* (The notices wait on the error queue: buffers of their own.) */
	ack(500);
	assert_int_equal(info().tcpi_unacked, 0);
	assert_int_equal(tt_sk(C.fd)->wmem_alloc, 0);
}

/* The first segment in flight. */
static struct sk_buff *queue_head(void)
{
	return skb_peek(&tt_sk(C.fd)->write_queue);
}

/*
 * Carved segments (TSO on: one data area for the write): the short rest
 * of the second (an ACK took its front) and the short third, right
 * behind it in the same area, join by widening the first one's window:
 * it still points into the area, and the only buffer made is the one
 * for the headers that every carved segment sent alone takes.
 */
static void test_carved_widen(void **state)
{
	struct skb_pool *pool = &T.st->skb_pool;
	unsigned char *area;
	uint64_t allocs0;

	(void)state;
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 2 * MSS + 100, 0), 2 * MSS + 100);
	skb_free(next_packet());   /* one GSO packet */
	TT_EXPECT_NONE(&T);
	ack(2 * MSS - 100);
	TT_EXPECT_NONE(&T);
	allocs0 = pool->allocs;
	area = queue_head()->head;
	expect_retransmission(2 * MSS - 100, 200);
	assert_int_equal(pool->allocs - allocs0, 1);
	assert_int_equal(info().tcpi_unacked, 1);
	assert_true(TCP_SKB_CB(queue_head())->carved);
	assert_int_equal(queue_head()->len, 200);
	assert_ptr_equal(queue_head()->head, area);
	ack_all_and_check(2 * MSS + 100);
}

/* The same with a segment of a later write behind, in a buffer of its
 * own: the merged segment takes an area of its own for it (the one
 * allocation; it goes as a plain segment, no header buffer), and the
 * bytes are all there, in order. */
static void test_carved_then_own(void **state)
{
	struct skb_pool *pool = &T.st->skb_pool;
	uint64_t allocs0;

	(void)state;
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 2 * MSS + 100, 0), 2 * MSS + 100);
	skb_free(next_packet());
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(C.fd, BUF + 2 * MSS + 100, 300, 0), 300);
	skb_free(next_packet());
	TT_EXPECT_NONE(&T);
	ack(2 * MSS - 100);
	TT_EXPECT_NONE(&T);
	allocs0 = pool->allocs;
	expect_retransmission(2 * MSS - 100, 500);
	assert_int_equal(pool->allocs - allocs0, 1);
	assert_int_equal(info().tcpi_unacked, 1);
	assert_false(TCP_SKB_CB(queue_head())->carved);
	assert_int_equal(queue_head()->len, 500);
	assert_false(skb_shared_data(queue_head()));
	ack_all_and_check(2 * MSS + 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rto_merges, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_mss_bounds, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_sacked_neighbour,
						setup_sack, ts_teardown),
		cmocka_unit_test_setup_teardown(test_zerocopy_alone, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carved_widen, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carved_then_own, setup,
						ts_teardown),
	};

	return cmocka_run_group_tests_name("tcp_collapse", tests, NULL, NULL);
}
