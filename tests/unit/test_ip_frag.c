/*
 * test_ip_frag.c - IPv4 fragmentation and reassembly (RFC 791 §2.3/§3.2,
 * RFC 815, RFC 1122 §3.3.2, RFC 5722 §4 as Linux applies it to IPv4): an
 * 8000-byte echo cut at MTU 1500 (offsets, MF, sizes, checksums) and put
 * back together in order, out of order, with duplicates; overlaps that
 * drop the datagram whole; the 65535-byte bound; malformed fragments; the
 * memory limit; the 30 s timeout in virtual time with ICMP time exceeded
 * only when fragment zero arrived; DF on an oversize datagram; the ECN
 * field of the datagram from its fragments' (RFC 3168 §5.3).
 *
 * The stack under test is 10.0.0.2/24 on an L3 device of MTU 1500; the
 * peer is 10.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/iptest.h"

#define PAY_LEN 8000
#define PIECE 1480          /* (1500 - 20) rounded down to 8 */
#define NPIECES 6           /* 5 * 1480 + 600 */
#define SEC US_USEC_PER_SEC

static struct test_stack T;
static struct ipt_record *R;
static uint32_t ME, PEER;
static uint8_t PAY[PAY_LEN];

static int setup(void **state)
{
	(void)state;
	ts_init_l3(&T, "10.0.0.2", 24);
	ME = ts_ip("10.0.0.2");
	PEER = ts_ip("10.0.0.1");
	R = ipt_register(&T);
	for (size_t i = 0; i < PAY_LEN; i++)
		PAY[i] = (uint8_t)(i * 31 + (i >> 8));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	ipt_unregister();
	return 0;
}

/* Inject a fragment of the test protocol from src: payload bytes
 * data[0..len) placed at byte offset off. */
static void send_frag_from(uint32_t src, uint16_t id, unsigned int off,
			   bool mf, const uint8_t *data, size_t len)
{
	ipt_inject(&T, src, ME, IPT_PROTO, id, (uint16_t)((mf ? IP_MF : 0) | off / 8),
		   data, len);
}

static void send_frag(uint16_t id, unsigned int off, bool mf,
		      const uint8_t *data, size_t len)
{
	send_frag_from(PEER, id, off, mf, data, len);
}

/* Piece i of PAY cut at PIECE bytes, as a sender at MTU 1500 would. */
static void send_piece(uint16_t id, int i)
{
	unsigned int off = (unsigned int)i * PIECE;
	size_t len = PAY_LEN - off < PIECE ? PAY_LEN - off : PIECE;

	send_frag(id, off, off + len < PAY_LEN, PAY + off, len);
}

static void expect_delivered(int n)
{
	assert_int_equal(R->delivered, n);
	assert_int_equal(R->len, PAY_LEN);
	assert_memory_equal(R->data, PAY, PAY_LEN);
	/* The rebuilt header: whole length, no fragment bits, valid sum. */
	assert_int_equal(ipt_get16(R->iph + 2), 20 + PAY_LEN);
	assert_int_equal(ipt_get16(R->iph + 6), 0);
	assert_int_equal(inet_csum(R->iph, 20), 0);
	assert_true(R->transport_at_data);
}

/*
 * Pop the fragments of one datagram, check each (RFC 791 §2.3: same id,
 * MF on all but the last, every payload but the last a multiple of 8,
 * offsets contiguous, valid header sums, standard headroom) and
 * reassemble their payload into out. Returns the payload length.
 */
static size_t pop_fragments(int expect, uint8_t *out, uint16_t *id_out)
{
	size_t total = 0;

	for (int i = 0; i < expect; i++) {
		struct ipv4_info h;
		struct sk_buff *skb = ipt_pop(&T, &h);
		size_t len = h.tot_len - 20u;
		bool last = i == expect - 1;

		if (i == 0)
			*id_out = h.id;
		assert_int_equal(h.id, *id_out);
		assert_int_equal((h.frag_off & IP_OFFMASK) * 8u, total);
		assert_int_equal(!!(h.frag_off & IP_MF), !last);
		assert_int_equal(h.frag_off & IP_DF, 0);
		assert_true(h.tot_len <= T.dev->mtu);
		if (!last) {
			/* As much as fits, rounded down to 8. */
			assert_int_equal(len % 8, 0);
			assert_int_equal(len, (T.dev->mtu - 20) & ~7u);
		}
		/* Each fragment is a new skb with the standard headroom. */
		if (expect > 1)
			assert_int_equal(skb_headroom(skb), US_SKB_MAX_HEADER);
		memcpy(out + total, skb->data + 20, len);
		total += len;
		skb_free(skb);
	}
	assert_null(ts_pop_tx(&T));
	return total;
}

static void test_fragment_echo_8000(void **state)
{
	static uint8_t got[PAY_LEN];
	uint16_t id;

	(void)state;
	/* An 8000-byte ICMP message: 8 header + 7992 data. */
	assert_int_equal(icmp_echo_send(T.st, PEER, 0x77, 1, PAY, PAY_LEN - 8), 0);
	assert_int_equal(pop_fragments(NPIECES, got, &id), PAY_LEN);
	assert_int_equal(got[0], ICMP_ECHO);
	assert_int_equal(inet_csum(got, PAY_LEN), 0);
	assert_memory_equal(got + 8, PAY, PAY_LEN - 8);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_FRAG_OKS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_FRAG_CREATES), NPIECES);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_OUT_REQUESTS), 1);
}

/* A ping of 8000 bytes in fragments is answered with 8000 bytes in
 * fragments. */
static void test_echo_8000_end_to_end(void **state)
{
	static uint8_t req[PAY_LEN], got[PAY_LEN], want[PAY_LEN];
	uint16_t id;

	(void)state;
	tb_icmp_echo(req, ICMP_ECHO, 5, 6, PAY, PAY_LEN - 8);
	for (unsigned int off = 0; off < PAY_LEN; off += PIECE) {
		size_t len = PAY_LEN - off < PIECE ? PAY_LEN - off : PIECE;

		ipt_inject(&T, PEER, ME, IPPROTO_ICMP_, 0xabc,
			   (uint16_t)((off + len < PAY_LEN ? IP_MF : 0) | off / 8),
			   req + off, len);
	}
	assert_int_equal(ipt_mib(&T, US_MIB_IP_REASM_REQDS), NPIECES);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_REASM_OKS), 1);
	assert_int_equal(pop_fragments(NPIECES, got, &id), PAY_LEN);
	tb_icmp_echo(want, ICMP_ECHOREPLY, 5, 6, PAY, PAY_LEN - 8);
	assert_memory_equal(got, want, PAY_LEN);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(T.st->ip.reasm.mem, 0);
}

static void test_reasm_in_order(void **state)
{
	(void)state;
	for (int i = 0; i < NPIECES; i++) {
		assert_int_equal(R->delivered, 0);
		send_piece(1, i);
	}
	expect_delivered(1);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(T.st->stats.drops_total, 0);
}

static void test_reasm_out_of_order(void **state)
{
	static const int orders[][NPIECES] = {
		{ 5, 4, 3, 2, 1, 0 },
		{ 3, 0, 5, 1, 4, 2 },
		{ 5, 0, 1, 2, 3, 4 },
	};

	(void)state;
	for (int o = 0; o < 3; o++) {
		for (int i = 0; i < NPIECES; i++)
			send_piece((uint16_t)(10 + o), orders[o][i]);
		expect_delivered(o + 1);
	}
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(T.st->ip.reasm.mem, 0);
	assert_int_equal(T.st->stats.drops_total, 0);
}

/* An exact duplicate is dropped alone; the datagram survives. */
static void test_reasm_duplicates(void **state)
{
	(void)state;
	for (int i = 0; i < NPIECES - 1; i++) {
		send_piece(2, i);
		send_piece(2, i);
	}
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_DUP), NPIECES - 1);
	send_piece(2, NPIECES - 1);
	expect_delivered(1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_OVERLAP), 0);
	assert_int_equal(T.st->stats.drops_total, NPIECES - 1);
}

/* Any other overlap drops the whole datagram (FragmentSmack fix). */
static void test_reasm_overlap(void **state)
{
	(void)state;
	send_piece(3, 0);                        /* [0, 1480) */
	send_frag(3, 1000, true, PAY + 1000, 800); /* [1000, 1800) */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_OVERLAP), 2);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_REASM_FAILS), 1);
	/* The rest can no longer make a datagram. */
	for (int i = 1; i < NPIECES; i++)
		send_piece(3, i);
	assert_int_equal(R->delivered, 0);
	assert_int_equal(T.st->ip.reasm.count, 1);

	/* A fragment inside data held, even across two fragments, is a
	 * duplicate (cut at another MTU): it alone goes, the queue stays
	 * (Linux's inet_frag_queue_insert; RFC 5722, erratum 3089). */
	send_piece(4, 1);                        /* [1480, 2960) */
	send_frag(4, 1480 + 8, true, PAY, 8);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_OVERLAP), 2);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_DUP), 1);
	send_piece(4, 2);                        /* [2960, 4440) */
	send_frag(4, 2960 - 16, true, PAY, 32);  /* across the two */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_DUP), 2);
	assert_int_equal(T.st->ip.reasm.count, 2);
	/* One straddling the start of another is an overlap: the datagram
	 * goes. */
	send_piece(5, 1);
	send_frag(5, 1480 - 8, true, PAY, 16);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_OVERLAP), 4);
	/* Adjacent is not overlapping. */
	send_piece(6, 1);
	send_frag(6, 1480 - 8, true, PAY, 8);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_OVERLAP), 4);
	assert_int_equal(R->delivered, 0);
}

/* Piece i of PAY with TOS byte tos (its header sum made again). */
static void send_piece_tos(uint16_t id, int i, uint8_t tos)
{
	unsigned int off = (unsigned int)i * PIECE;
	size_t len = PAY_LEN - off < PIECE ? PAY_LEN - off : PIECE;
	static uint8_t buf[20 + PIECE];
	uint16_t sum;

	tb_ipv4(buf, PEER, ME, IPT_PROTO, id,
		(uint16_t)((off + len < PAY_LEN ? IP_MF : 0) | off / 8), 64,
		PAY + off, len);
	buf[1] = tos;
	buf[10] = buf[11] = 0;
	sum = inet_csum(buf, 20);
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	ts_inject(&T, buf, 20 + len);
}

/*
 * RFC 3168 §5.3 (Linux's ip_frag_ecn_table): a datagram is CE when any
 * fragment was, keeps the first fragment's field otherwise, and is
 * dropped, counted as a failed reassembly, when its fragments mix
 * not-ECT with ECT or CE. A duplicate's field is not counted.
 */
static void test_reasm_ecn(void **state)
{
	(void)state;
	/* CE on a later fragment only; the first's DSCP kept. */
	for (int i = 0; i < NPIECES; i++)
		send_piece_tos(20, i, i == 3 ? 0x03 : 0xb8 | 0x02);
	expect_delivered(1);
	assert_int_equal(R->iph[1], 0xb8 | 0x03);
	/* ECT(1) first, ECT(0) after: the first's. */
	for (int i = NPIECES - 1; i >= 0; i--)
		send_piece_tos(21, i, i == 0 ? 0x01 : 0x02);
	expect_delivered(2);
	assert_int_equal(R->iph[1], 0x01);
	/* A not-ECT duplicate of a fragment held: it goes alone. */
	send_piece_tos(22, 0, 0x02);
	send_piece_tos(22, 0, 0x00);
	for (int i = 1; i < NPIECES; i++)
		send_piece_tos(22, i, 0x02);
	expect_delivered(3);
	assert_int_equal(R->iph[1], 0x02);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_DUP), 1);
	/* Not-ECT beside ECT or CE: the datagram goes, its fragments
	 * counted, once complete. */
	for (int i = 0; i < NPIECES; i++)
		send_piece_tos(23, i, i == NPIECES - 1 ? 0x00 : 0x03);
	assert_int_equal(R->delivered, 3);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_ECN), NPIECES);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_REASM_FAILS), 1);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(T.st->ip.reasm.mem, 0);
	/* All not-ECT: as sent. */
	for (int i = 0; i < NPIECES; i++)
		send_piece_tos(24, i, 0x10);
	expect_delivered(4);
	assert_int_equal(R->iph[1], 0x10);
}

/* RFC 791: offset * 8 + total length past 65535 is the ping of death. */
static void test_reasm_too_big(void **state)
{
	(void)state;
	send_frag(7, 0, true, PAY, 64);           /* a queue to spoil */
	send_frag(7, 65512, false, PAY, 32);      /* 65512 + 52 > 65535 */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_TOO_BIG), 2);
	assert_int_equal(T.st->ip.reasm.count, 0);
	/* Ending exactly at 65535 is allowed. */
	send_frag(8, 65512, false, PAY, 3);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_TOO_BIG), 2);
	assert_int_equal(T.st->ip.reasm.count, 1);
	assert_int_equal(R->delivered, 0);
}

static void test_reasm_bad_fragments(void **state)
{
	(void)state;
	/* Not last, payload under 8 bytes (RFC 791 §2.3: nothing a
	 * multiple of 8 is left to place). */
	send_frag(9, 0, true, PAY, 4);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_BAD), 1);
	assert_int_equal(T.st->ip.reasm.count, 0);
	/* Two different ends. */
	send_frag(10, 1000, false, PAY, 24);     /* ends at 1024 */
	send_frag(10, 2000, false, PAY, 24);     /* ends at 2024 */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_BAD), 3);
	assert_int_equal(T.st->ip.reasm.count, 0);
	/* Data past the end the last fragment fixed. */
	send_frag(11, 1000, false, PAY, 24);
	send_frag(11, 1024, true, PAY, 8);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_BAD), 5);
	/* A last fragment ending before data already held. */
	send_frag(12, 1024, true, PAY, 16);
	send_frag(12, 8, false, PAY, 8);         /* ends at 16 < 1040 */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_BAD), 7);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(R->delivered, 0);
	assert_null(ts_pop_tx(&T));
	/* Not last, 100 bytes: cut to 96 (Linux's ip_frag_queue), and the
	 * next fragment starting at 96 completes the datagram. */
	send_frag(13, 0, true, PAY, 100);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_BAD), 7);
	send_frag(13, 96, false, PAY + 96, 50);
	assert_int_equal(R->delivered, 1);
	assert_int_equal(R->len, 146);
	assert_memory_equal(R->data, PAY, 146);
}

/* Bounded memory: past reasm.mem_limit (4 MiB) new fragments are dropped,
 * and what is held never exceeds the limit. */
static void test_reasm_memlimit(void **state)
{
	struct ipq_table *t = &T.st->ip.reasm;
	const unsigned int n = 4000;
	unsigned int held;

	(void)state;
	assert_int_equal(t->mem_limit, 4u << 20);
	for (unsigned int i = 0; i < n; i++) {
		send_frag((uint16_t)(1000 + i), 0, true, PAY, PIECE);
		assert_true(t->mem <= t->mem_limit);
	}
	held = t->count;
	assert_true(held > 1000 && held < n);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_REASM_MEMLIMIT), n - held);
	/* A fragment of a datagram already held is refused too, and the
	 * datagram stays. */
	send_frag(1000, PIECE, true, PAY + PIECE, PIECE);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_REASM_MEMLIMIT), n - held + 1);
	assert_int_equal(t->count, held);
	assert_true(t->mem <= t->mem_limit);
	/* Everything goes at the timeout. */
	ts_advance(&T, 30 * SEC);
	assert_int_equal(t->count, 0);
	assert_int_equal(t->mem, 0);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_REASM_TIMEOUT), held);
	ts_flush_tx(&T);
	/* With memory back, reassembly works again. */
	for (int i = 0; i < NPIECES; i++)
		send_piece(1, i);
	expect_delivered(1);
}

/*
 * Held fragments stop at the skb pool's queue limit too (the pool's last
 * eighth is for arriving frames), on a pool smaller than reasm.mem_limit:
 * no frame is lost for want of a buffer (no nomem drop), and a datagram
 * that needs no reassembly is still delivered.
 */
static void test_reasm_pool_limit(void **state)
{
	struct skb_pool *pool = &T.st->skb_pool;
	const unsigned int n = 4000;

	(void)state;
	pool->limit_bytes = 2u << 20;
	pool->queue_limit = pool->limit_bytes - pool->limit_bytes / 8;
	assert_true(pool->used_bytes < pool->queue_limit);
	for (unsigned int i = 0; i < n; i++) {
		send_frag((uint16_t)(1000 + i), 0, true, PAY, PIECE);
		assert_true(pool->used_bytes <= pool->queue_limit);
	}
	assert_true(T.st->ip.reasm.count > 100);
	assert_true(ipt_drops(&T, US_DROP_IP_REASM_MEMLIMIT) > 0);
	assert_int_equal(ipt_drops(&T, US_DROP_NOMEM), 0);
	send_frag(1, 0, false, PAY, 100);
	assert_int_equal(R->delivered, 1);
	assert_int_equal(R->len, 100);
	assert_int_equal(ipt_drops(&T, US_DROP_NOMEM), 0);
}

/* RFC 1122 §3.3.2: 30 s from the first fragment; ICMP time exceeded
 * (code 1) only when fragment zero had arrived. */
static void test_reasm_timeout(void **state)
{
	uint32_t other = ts_ip("10.0.0.3");
	uint8_t first[1500];
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	tb_ipv4(first, PEER, ME, IPT_PROTO, 21, IP_MF, 64, PAY, PIECE);
	send_piece(21, 0);                       /* A: has fragment zero */
	send_frag_from(other, 22, PIECE, true, PAY + PIECE, PIECE); /* B */
	ts_advance(&T, 20 * SEC);
	send_piece(21, 2);                       /* does not restart A's clock */
	ts_advance(&T, 10 * SEC - 1);
	assert_int_equal(T.st->ip.reasm.count, 2);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 1);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_REASM_TIMEOUT), 3);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_REASM_FAILS), 2);
	skb = ipt_pop(&T, &h);
	assert_int_equal(h.protocol, IPPROTO_ICMP_);
	assert_int_equal(h.saddr, ME);
	assert_int_equal(h.daddr, PEER);
	assert_int_equal(skb->data[20], ICMP_TIME_EXCEEDED);
	assert_int_equal(skb->data[21], ICMP_EXC_FRAGTIME);
	assert_int_equal(inet_csum(skb->data + 20, skb->len - 20), 0);
	/* Quoting fragment zero, as much as fits in 576 bytes. */
	assert_int_equal(skb->len, 576);
	assert_memory_equal(skb->data + 28, first, 548);
	skb_free(skb);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_TIME_EXCDS), 1);
	/* Nothing about B, which never had its first fragment. */
	assert_null(ts_pop_tx(&T));
	assert_int_equal(R->delivered, 0);
}

static struct sk_buff *payload_skb(const void *data, size_t len)
{
	struct sk_buff *skb = us_skb_alloc(T.st, (unsigned int)len);

	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, data, (unsigned int)len), 0);
	return skb;
}

/* RFC 1122 §3.3.3: DF forbids fragmenting; the sender gets EMSGSIZE. */
static void test_df_too_big(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO,
				 .df = true };
	static uint8_t got[PAY_LEN];
	uint16_t id;

	(void)state;
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 2000), &a), -EMSGSIZE);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_FRAG_NEEDED_DF), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_FRAG_FAILS), 1);
	assert_null(ts_pop_tx(&T));
	/* Exactly the MTU is not too big. */
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 1480), &a), 0);
	{
		struct ipv4_info h;
		struct sk_buff *skb = ipt_pop(&T, &h);

		assert_int_equal(h.tot_len, 1500);
		assert_int_equal(h.frag_off, IP_DF);
		skb_free(skb);
	}
	/* Without DF: two fragments, 1480 + 520. */
	a.df = false;
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 2000), &a), 0);
	assert_int_equal(pop_fragments(2, got, &id), 2000);
	assert_memory_equal(got, PAY, 2000);
	/* One byte over: 1480 + 1. */
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 1481), &a), 0);
	assert_int_equal(pop_fragments(2, got, &id), 1481);
}

/* An MTU whose payload room is not a multiple of 8: 1006 - 20 = 986,
 * so fragments carry 984 bytes. */
static void test_fragment_odd_mtu(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO };
	static uint8_t got[PAY_LEN];
	uint16_t id;

	(void)state;
	T.dev->mtu = 1006;
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 3000), &a), 0);
	assert_int_equal(pop_fragments(4, got, &id), 3000);
	assert_memory_equal(got, PAY, 3000);
	/* Too small to carry 8 bytes after the header: refused. */
	T.dev->mtu = 27;
	assert_int_equal(ip_output(T.st, payload_skb(PAY, 100), &a), -EMSGSIZE);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_mib(&T, US_MIB_IP_FRAG_FAILS), 1);
}

/* A packet whose payload sits partly on its frag_list (as TCP builds
 * segments) is cut from all of its bytes, not past its head's data. */
static void test_fragment_nonlinear(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO };
	static uint8_t got[PAY_LEN], pat[3000];
	struct sk_buff *skb;
	uint16_t id;

	(void)state;
	/* A pattern of its own: buffers the pool hands out again may still
	 * hold PAY from other tests. */
	for (size_t i = 0; i < sizeof(pat); i++)
		pat[i] = (uint8_t)(i * 37 + 11);
	skb = payload_skb(pat, 1000);
	skb_add_frag(skb, payload_skb(pat + 1000, 1200));
	skb_add_frag(skb, payload_skb(pat + 2200, 800));
	assert_int_equal(skb->len, 3000);
	assert_true(skb_is_nonlinear(skb));
	assert_int_equal(ip_output(T.st, skb, &a), 0);
	assert_int_equal(pop_fragments(3, got, &id), 3000);
	assert_memory_equal(got, pat, 3000);
}

/* A transport that left its checksum to the device (CHECKSUM_PARTIAL)
 * has it finished in software before fragmenting, without writing into
 * data shared with a clone. */
static void test_fragment_finishes_partial_csum(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO };
	static uint8_t got[PAY_LEN];
	struct sk_buff *skb, *clone;
	uint16_t id;

	(void)state;
	skb = payload_skb(PAY, 3000);
	/* A checksum field at bytes 6-7 holding a zero pseudo-header sum. */
	skb->data[6] = skb->data[7] = 0;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = (uint16_t)(skb->data - skb->head);
	skb->csum_offset = 6;
	clone = skb_clone(skb);
	assert_non_null(clone);
	assert_int_equal(ip_output(T.st, skb, &a), 0);
	assert_int_equal(pop_fragments(3, got, &id), 3000);
	assert_int_equal(inet_csum(got, 3000), 0);
	assert_memory_equal(got + 8, PAY + 8, 3000 - 8);
	/* The clone's bytes are as they were. */
	assert_int_equal(clone->data[6], 0);
	assert_int_equal(clone->data[7], 0);
	skb_free(clone);
}

static int null_xmit(struct net_device *dev, struct sk_buff *skb)
{
	(void)dev;
	skb_free(skb);
	return 0;
}

static const struct net_device_ops null_ops = { .xmit = null_xmit };

/* Fragment zero arrived on a device that is then unregistered: the queue
 * must not touch the freed device when it times out (ASan watches). */
static void test_device_gone_before_timeout(void **state)
{
	struct net_device *d2 = netdev_alloc("test1", 0, &null_ops);
	struct sk_buff *skb;

	(void)state;
	assert_non_null(d2);
	d2->type = US_ARPHRD_NONE;
	d2->hard_header_len = 0;
	d2->flags = US_IFF_UP | US_IFF_NOARP;
	assert_int_equal(netdev_register(T.st, d2), 0);
	assert_int_equal(netdev_set_ipv4(d2, ts_ip("10.1.0.2"), 24), 0);
	skb = us_skb_alloc(T.st, 20 + 64);
	assert_non_null(skb);
	tb_ipv4(skb_put(skb, 84), ts_ip("10.1.0.1"), ts_ip("10.1.0.2"),
		IPT_PROTO, 77, IP_MF, 64, PAY, 64);
	skb->dev = d2;
	netif_receive_skb(skb);
	assert_int_equal(T.st->ip.reasm.count, 1);
	netdev_unregister(d2);
	ts_advance(&T, 30 * SEC);
	assert_int_equal(T.st->ip.reasm.count, 0);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_REASM_TIMEOUT), 1);
	assert_null(ts_pop_tx(&T));
}

/* Queues still pending at destroy are freed (ASan checks the leak). */
static void test_destroy_with_pending_queues(void **state)
{
	(void)state;
	for (int i = 0; i < 10; i++)
		send_frag((uint16_t)(300 + i), 0, true, PAY, 64);
	assert_int_equal(T.st->ip.reasm.count, 10);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_fragment_echo_8000),
		T_(test_echo_8000_end_to_end),
		T_(test_reasm_in_order),
		T_(test_reasm_out_of_order),
		T_(test_reasm_duplicates),
		T_(test_reasm_overlap),
		T_(test_reasm_ecn),
		T_(test_reasm_too_big),
		T_(test_reasm_bad_fragments),
		T_(test_reasm_memlimit),
		T_(test_reasm_pool_limit),
		T_(test_reasm_timeout),
		T_(test_df_too_big),
		T_(test_fragment_odd_mtu),
		T_(test_fragment_finishes_partial_csum),
		T_(test_fragment_nonlinear),
		T_(test_device_gone_before_timeout),
		T_(test_destroy_with_pending_queues),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
