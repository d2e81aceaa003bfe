/*
 * test_tcp_offload.c - TCP output with and without the device's offloads
 * (tcp_offload.c), on an established connection over the test device.
 *
 * Checked: with TSO and checksum offload, a write of ten segments leaves
 * as one GSO packet (gso_size = MSS, gso_segs, TCPV4, the headers alone in
 * the head and every byte of the payload on the frag_list in order, PSH,
 * a partial checksum holding the pseudo-header sum of the whole length),
 * counted as ten segments sent; cut in software it gives ten segments
 * that parse with correct checksums and consecutive sequence numbers;
 * a short tail rides last in the GSO packet, and a retransmission goes
 * as one unsegmented packet of the first MSS; without TSO
 * but with checksum offload every segment has a partial checksum; with
 * no offload at all TCP sends what it sent before: whole segments with
 * their checksums. The ACKs then free every segment (no skb left over).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "core/checksum.h"
#include "dev/gso.h"
#include "lib/tcptest.h"
#include "ustack/ustack.h"

#define MSS 1460
#define HL (20 + 20)   /* the test device carries bare IPv4 packets */

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[20 * MSS];

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + i / 509);
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* The payload bytes of skb (headers of hlen bytes first), frags included. */
static size_t gather_payload(const struct sk_buff *skb, unsigned int hlen,
			     uint8_t *out)
{
	const struct sk_buff *f;
	size_t n = skb_headlen(skb) - hlen;

	memcpy(out, skb->data + hlen, n);
	skb_walk_frags(skb, f) {
		memcpy(out + n, f->data, skb_headlen(f));
		n += skb_headlen(f);
	}
	return n;
}

/* The TCP checksum of the linear packet at ip verifies. */
static bool tcp_csum_ok(const uint8_t *ip, size_t tcplen)
{
	uint32_t sa, da;

	memcpy(&sa, ip + 12, 4);
	memcpy(&da, ip + 16, 4);
	return csum_fold(csum_partial(ip + 20, tcplen, csum_tcpudp_nofold(
			sa, da, 6, (uint16_t)tcplen, 0))) == 0;
}

/* The peer ACKs everything sent. */
static void ack_all(uint32_t upto)
{
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, upto, NULL, 0);
}

static void test_tso_one_gso_packet(void **state)
{
	uint8_t got[sizeof(BUF)];
	const uint8_t *ip, *th;
	struct sk_buff_head segs;
	struct sk_buff *skb, *seg;
	uint64_t out0 = tt_mib(&T, US_MIB_TCP_OUT_SEGS);
	uint32_t seq0 = C.iss + 1, pseudo;
	uint16_t field;
	unsigned int k = 0;

	(void)state;
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_null(ts_pop_tx(&T));
	assert_true(skb_is_gso(skb));
	assert_int_equal(skb_shinfo(skb)->gso_size, MSS);
	assert_int_equal(skb_shinfo(skb)->gso_segs, 10);
	assert_int_equal(skb_shinfo(skb)->gso_type, SKB_GSO_TCPV4);
	assert_int_equal(skb_headlen(skb), HL);
	assert_int_equal(skb->len, HL + 10 * MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_SEGS) - out0, 10);
	ip = skb->data;
	th = ip + 20;
	assert_int_equal(ip[2] << 8 | ip[3], 20 + 20 + 10 * MSS);
	assert_int_equal(get32(th + 4), seq0);
	assert_int_equal(th[13], TCPHDR_ACK | TCPHDR_PSH);
	/* The partial checksum: pseudo-header sum over the whole length. */
	assert_int_equal(skb->ip_summed, CHECKSUM_PARTIAL);
	assert_int_equal(skb->csum_start, skb_headroom(skb) + 20);
	assert_int_equal(skb->csum_offset, 16);
	pseudo = csum_tcpudp_nofold(inet_addr(TT_US), inet_addr(TT_PEER), 6,
				    20 + 10 * MSS, 0);
	field = (uint16_t)(th[16] << 8 | th[17]);
	assert_int_equal(field, (uint16_t)~csum_fold(pseudo));
	assert_int_equal(gather_payload(skb, HL, got), 10 * MSS);
	assert_memory_equal(got, BUF, 10 * MSS);

	/* What the device would do: ten segments, each correct. */
	skb_queue_head_init(&segs);
	assert_int_equal(skb_gso_segment(skb, &segs), 0);
	assert_int_equal(segs.qlen, 10);
	while ((seg = skb_dequeue(&segs)) != NULL) {
		ip = seg->data;
		th = ip + 20;
		assert_int_equal(seg->len, HL + MSS);
		assert_int_equal(inet_csum(ip, 20), 0);
		assert_true(tcp_csum_ok(ip, 20 + MSS));
		assert_int_equal(get32(th + 4), seq0 + k * MSS);
		assert_memory_equal(th + 20, BUF + k * MSS, MSS);
		assert_int_equal(th[13] & TCPHDR_PSH, k == 9 ? TCPHDR_PSH : 0);
		skb_free(seg);
		k++;
	}
	skb_free(skb);
	ack_all(seq0 + 10 * MSS);
	ts_flush_tx(&T);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* A short tail rides as the GSO packet's last segment (the device cuts
 * it shorter); a retransmission goes alone, as a plain segment. */
static void test_tso_tail_and_retransmit(void **state)
{
	uint8_t got[sizeof(BUF)];
	struct sk_buff *skb;
	uint32_t seq0 = C.iss + 1;

	(void)state;
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 3 * MSS + 100, 0), 3 * MSS + 100);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb_shinfo(skb)->gso_segs, 4);
	assert_int_equal(skb_shinfo(skb)->gso_size, MSS);
	assert_int_equal(gather_payload(skb, HL, got), 3 * MSS + 100);
	assert_memory_equal(got, BUF, 3 * MSS + 100);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	/* The RTO: the first segment again, alone and not for segmenting:
	 * its headers in a buffer of their own, its payload where the write
	 * queue keeps it (the segment was carved out of the write's area). */
	ts_advance(&T, 1100000);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_null(ts_pop_tx(&T));
	assert_false(skb_is_gso(skb));
	assert_int_equal(skb_headlen(skb), HL);
	assert_int_equal(skb->len, HL + MSS);
	assert_int_equal(get32(skb->data + 20 + 4), seq0);
	assert_int_equal(gather_payload(skb, HL, got), MSS);
	assert_memory_equal(got, BUF, MSS);
	skb_free(skb);
	ts_flush_tx(&T);
	ack_all(seq0 + 3 * MSS + 100);
}

/* Checksum offload without TSO: MSS-sized segments, partial checksums. */
static void test_csum_offload_only(void **state)
{
	struct sk_buff *skb;
	int n = 0;

	(void)state;
	T.dev->features = US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 4 * MSS, 0), 4 * MSS);
	while ((skb = ts_pop_tx(&T)) != NULL) {
		assert_false(skb_is_gso(skb));
		assert_int_equal(skb->len, HL + MSS);
		assert_int_equal(skb->ip_summed, CHECKSUM_PARTIAL);
		assert_int_equal(skb_checksum_help(skb), 0);
		assert_true(tcp_csum_ok(skb->data, 20 + MSS));
		skb_free(skb);
		n++;
	}
	assert_int_equal(n, 4);
}

/* No offloads: whole segments with finished checksums, as before. */
static void test_no_offload(void **state)
{
	struct tt_seg s;
	int n = 0;

	(void)state;
	assert_int_equal(T.dev->features, 0);
	assert_int_equal(us_send(C.fd, BUF, 4 * MSS, 0), 4 * MSS);
	while (tt_pop(&T, &s)) {    /* tt_pop verifies the checksum */
		assert_int_equal(s.len, MSS);
		assert_int_equal(s.th.seq, C.iss + 1 + (uint32_t)n * MSS);
		n++;
	}
	assert_int_equal(n, 4);
}

/* A GSO packet is new data: neither counted as a retransmission nor
 * excluded from RTT samples (Karn's rule); the RTO's resend is. */
static void test_tso_not_a_retransmission(void **state)
{
	struct tcp_info ti;
	uint64_t rx0 = tt_mib(&T, US_MIB_TCP_RETRANS_SEGS);

	(void)state;
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RETRANS_SEGS), rx0);
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_total_retrans, 0);
	ts_advance(&T, 1100000);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RETRANS_SEGS), rx0 + 1);
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_total_retrans, 1);
	ack_all(C.iss + 1 + 10 * MSS);
}

/* ---- writes carved out of one area (tcp_sendmsg_carve) ------------------ */

static unsigned int count_frags(const struct sk_buff *skb)
{
	const struct sk_buff *f;
	unsigned int n = 0;

	skb_walk_frags(skb, f)
		n++;
	return n;
}

/* Pop the next packet the stack sent: its sequence number, payload bytes
 * (into out) and the number of segments it stands for. */
static uint32_t pop_packet(uint32_t *seq, uint8_t *out, unsigned int *segs)
{
	struct sk_buff *skb = ts_pop_tx(&T);
	uint32_t n;

	assert_non_null(skb);
	*seq = get32(skb->data + 20 + 4);
	*segs = skb_is_gso(skb) ? skb_shinfo(skb)->gso_segs : 1;
	n = (uint32_t)gather_payload(skb, HL, out);
	skb_free(skb);
	return n;
}

static void tso_on(void)
{
	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
}

/* A 10-segment write: one data area and one header buffer allocated, the
 * GSO packet's payload one piece; every byte and every charge comes back
 * once it is acknowledged. */
static void test_carve_one_area(void **state)
{
	uint8_t got[sizeof(BUF)];
	struct skb_pool *pool = &T.st->skb_pool;
	uint64_t allocs0 = pool->allocs, clones0 = pool->clones;
	size_t used0 = pool->used_bytes;
	uint32_t seq0 = C.iss + 1;
	struct sk_buff *skb;

	(void)state;
	tso_on();
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(skb_shinfo(skb)->gso_segs, 10);
	assert_int_equal(count_frags(skb), 1);
	assert_int_equal(gather_payload(skb, HL, got), 10 * MSS);
	assert_memory_equal(got, BUF, 10 * MSS);
	/* The area and the head; 9 carved segments and the frag. */
	assert_int_equal(pool->allocs - allocs0, 2);
	assert_int_equal(pool->clones - clones0, 10);
	skb_free(skb);
	ack_all(seq0 + 10 * MSS);
	assert_int_equal(T.st->skb_pool.live, 0);
	assert_int_equal(pool->used_bytes, used0);
}

/* An ACK inside a carved segment trims its front; the retransmission
 * after the RTO starts at the ACK with the rest of that segment. */
static void test_carve_partial_ack(void **state)
{
	uint8_t got[sizeof(BUF)];
	uint32_t seq0 = C.iss + 1, seq;
	unsigned int segs;

	(void)state;
	tso_on();
	assert_int_equal(us_send(C.fd, BUF, 4 * MSS, 0), 4 * MSS);
	assert_int_equal(pop_packet(&seq, got, &segs), 4 * MSS);
	ack_all(seq0 + MSS + 100);
	ts_advance(&T, 1100000);
	assert_int_equal(pop_packet(&seq, got, &segs), MSS - 100);
	assert_int_equal(seq, seq0 + MSS + 100);
	assert_int_equal(segs, 1);
	assert_memory_equal(got, BUF + MSS + 100, MSS - 100);
	assert_null(ts_pop_tx(&T));
	ack_all(seq0 + 4 * MSS);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* A later write fills the unsent short tail in place (no allocation),
 * and the two segments still go as one piece of payload. */
static void test_carve_tail_grows(void **state)
{
	uint8_t got[sizeof(BUF)];
	struct skb_pool *pool = &T.st->skb_pool;
	uint32_t seq0 = C.iss + 1, seq;
	unsigned int segs;
	uint64_t allocs0;
	int one = 1, zero = 0;

	(void)state;
	tso_on();
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CORK, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_send(C.fd, BUF, 2 * MSS + 100, 0), 2 * MSS + 100);
	assert_int_equal(pop_packet(&seq, got, &segs), 2 * MSS);
	assert_int_equal(segs, 2);
	assert_null(ts_pop_tx(&T));
	allocs0 = pool->allocs;
	assert_int_equal(us_send(C.fd, BUF + 2 * MSS + 100, 500, 0), 500);
	assert_int_equal(pool->allocs, allocs0);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CORK, &zero,
				       sizeof(zero)), 0);
	assert_int_equal(pop_packet(&seq, got, &segs), 600);
	assert_int_equal(seq, seq0 + 2 * MSS);
	assert_memory_equal(got, BUF + 2 * MSS, 600);
	assert_null(ts_pop_tx(&T));
	ack_all(seq0 + 2 * MSS + 600);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* A device that lost TSO since the write: the carved segment is made
 * linear and its checksum finished in software (tt_pop checks it). */
static void test_carve_then_no_offload(void **state)
{
	uint8_t got[sizeof(BUF)];
	struct tt_seg s;
	uint32_t seq0 = C.iss + 1, seq;
	unsigned int segs;

	(void)state;
	tso_on();
	assert_int_equal(us_send(C.fd, BUF, 3 * MSS, 0), 3 * MSS);
	assert_int_equal(pop_packet(&seq, got, &segs), 3 * MSS);
	T.dev->features = 0;
	ts_advance(&T, 1100000);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.seq, seq0);
	assert_int_equal(s.len, MSS);
	assert_memory_equal(s.data, BUF, MSS);
	assert_false(tt_pop(&T, &s));
	ack_all(seq0 + 3 * MSS);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* A SACK-permitted connection, for the scoreboard over carved segments. */
static int setup_sack(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	/* RFC 6675's DupThresh finds the loss, as in test_tcp_sack.c (RACK,
	 * net.ipv4.tcp_recovery = 1, is test_tcp_rack.c's). */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
	tt_conn_init(&C, &T, true);
	C.sack_perm = true;
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + i / 509);
	return 0;
}

/* The peer ACKs ack with one SACK block [s, e) (relative to ISS + 1). */
static void peer_sack(uint32_t ack, uint32_t s, uint32_t e)
{
	uint32_t base = C.iss + 1, v[2] = { base + s, base + e };
	uint8_t o[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 10 };

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++)
			o[4 + 4 * i + k] = (uint8_t)(v[i] >> (24 - 8 * k));
	tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt, base + ack, o, sizeof(o),
		    NULL, 0);
}

/* One MSS lost inside a 10-segment GSO packet: the SACKs mark segments
 * of the carved area, and the retransmission is exactly the lost MSS. */
static void test_carve_sack_lost_mss(void **state)
{
	uint8_t got[sizeof(BUF)];
	struct tcp_info ti;
	uint32_t seq0 = C.iss + 1, seq;
	unsigned int segs;

	(void)state;
	tso_on();
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	assert_int_equal(pop_packet(&seq, got, &segs), 10 * MSS);
	assert_int_equal(segs, 10);
	/* Segments 0-1 arrive, 2 is lost, 3.. are SACKed one by one. */
	peer_sack(2 * MSS, 3 * MSS, 4 * MSS);
	peer_sack(2 * MSS, 3 * MSS, 5 * MSS);
	assert_null(ts_pop_tx(&T));
	peer_sack(2 * MSS, 3 * MSS, 6 * MSS);
	assert_int_equal(pop_packet(&seq, got, &segs), MSS);
	assert_int_equal(seq, seq0 + 2 * MSS);
	assert_int_equal(segs, 1);
	assert_memory_equal(got, BUF + 2 * MSS, MSS);
	assert_null(ts_pop_tx(&T));
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_sacked, 3);
	assert_int_equal(ti.tcpi_lost, 1);
	assert_int_equal(ti.tcpi_retrans, 1);
	ack_all(seq0 + 10 * MSS);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* The same with RACK (the default): one SACK above the hole is enough,
 * and the hole is again repaired by exactly the lost MSS. */
static int setup_sack_rack(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	C.sack_perm = true;
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + i / 509);
	return 0;
}

static void test_carve_rack_lost_mss(void **state)
{
	uint8_t got[sizeof(BUF)];
	uint32_t seq0 = C.iss + 1, seq;
	unsigned int segs;
	struct sk_buff *skb = NULL;

	(void)state;
	tso_on();
	assert_int_equal(us_send(C.fd, BUF, 10 * MSS, 0), 10 * MSS);
	assert_int_equal(pop_packet(&seq, got, &segs), 10 * MSS);
	ts_advance(&T, 10000);
	peer_sack(2 * MSS, 3 * MSS, 4 * MSS);
	/* Whatever else goes (a probe of the tail), the hole is repaired
	 * by exactly its MSS. */
	for (int i = 0; i < 100; i++) {
		while ((skb = ts_pop_tx(&T)) != NULL &&
		       get32(skb->data + 20 + 4) != seq0 + 2 * MSS)
			skb_free(skb);
		if (skb)
			break;
		ts_advance(&T, 1000);
	}
	assert_non_null(skb);
	assert_false(skb_is_gso(skb));
	assert_int_equal(gather_payload(skb, HL, got), MSS);
	assert_memory_equal(got, BUF + 2 * MSS, MSS);
	skb_free(skb);
	ts_flush_tx(&T);
	ack_all(seq0 + 10 * MSS);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/* A connection whose handshake took 20 ms: an RTT long enough that
 * TSO packets are sized by the pacing rate alone (tcp_tso_autosize adds
 * 64 KB >> (min RTT / 512 us), nothing from 16.4 ms on). */
static int setup_rtt(void **state)
{
	uint8_t opt[4] = { 2, 4, MSS >> 8, MSS & 0xff };

	*state = &T;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, true);
	tt_open_synsent(&C);
	ts_advance(&T, 20000);
	C.snd_nxt = C.irs + 1;
	tt_send_opt(&C, TCPHDR_SYN | TCPHDR_ACK, C.irs, C.rcv_nxt, opt,
		    sizeof(opt), NULL, 0);
	TT_EXPECT_ACK(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + i / 509);
	return 0;
}

/* One GSO packet of nsegs segments from seq, or a lone segment. */
static void expect_packet(uint32_t seq, unsigned int nsegs)
{
	struct sk_buff *skb = ts_pop_tx(&T);

	assert_non_null(skb);
	assert_int_equal(get32(skb->data + 20 + 4), seq);
	assert_int_equal(skb->len, HL + nsegs * MSS);
	if (nsegs > 1)
		assert_int_equal(skb_shinfo(skb)->gso_segs, nsegs);
	skb_free(skb);
}

/* TSO and checksum offload on, SO_MAX_PACING_RATE at 100 segments a
 * second (10 ms each), and segs segments written. */
static void paced_send(unsigned int segs)
{
	uint64_t rate = 100 * MSS;

	T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_MAX_PACING_RATE,
				       &rate, sizeof(rate)), 0);
	assert_int_equal(us_send(C.fd, BUF, segs * MSS, 0),
			 (ssize_t)(segs * MSS));
}

/* The first ten segments, unpaced, in five packets of two; nothing more
 * before the peer, 20 ms later (the tenth's pacing time), ACKs them. */
static void paced_first_ten(uint32_t seq0)
{
	for (unsigned int i = 0; i < 5; i++)
		expect_packet(seq0 + i * 2 * MSS, 2);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 20000);
	ack_all(seq0 + 10 * MSS);
}

/*
 * SO_MAX_PACING_RATE over TSO (tcp_pacing.c): at 100 segments a second a
 * packet holds two segments (the rate's 1/1024 s is less than one;
 * Linux's tcp_min_tso_segs), the first ten segments go at once, and from
 * then on each packet waits its payload's time at the rate, 20 ms, on a
 * timer: an ACK that opens the window lets one packet go, the next
 * follows 20 ms later.
 */
static void test_tso_paced(void **state)
{
	uint32_t seq0 = C.iss + 1;

	(void)state;
	paced_send(20);
	paced_first_ten(seq0);
	expect_packet(seq0 + 10 * MSS, 2);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 19999);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 1);
	expect_packet(seq0 + 12 * MSS, 2);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 20000);
	expect_packet(seq0 + 14 * MSS, 2);
	ts_advance(&T, 20000);
	expect_packet(seq0 + 16 * MSS, 2);
	ts_advance(&T, 20000);
	expect_packet(seq0 + 18 * MSS, 2);
	ts_advance(&T, 20000);
	assert_null(ts_pop_tx(&T));
	ack_all(seq0 + 20 * MSS);
	ts_flush_tx(&T);
	assert_int_equal(T.st->skb_pool.live, 0);
}

/*
 * A paced packet that cannot join the one being gathered (here the
 * segment that carries the FIN) waits its time like any other: the
 * packet before it goes, then it 10 ms later (one segment's time at the
 * rate), as Linux paces skb by skb; it went at once with the one before.
 */
static void test_tso_paced_fin(void **state)
{
	uint32_t seq0 = C.iss + 1;
	struct sk_buff *skb;

	(void)state;
	paced_send(12);
	assert_int_equal(us_shutdown(C.fd, SHUT_WR), 0);
	paced_first_ten(seq0);
	expect_packet(seq0 + 10 * MSS, 1);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 9999);
	assert_null(ts_pop_tx(&T));
	ts_advance(&T, 1);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(get32(skb->data + 20 + 4), seq0 + 11 * MSS);
	assert_int_equal(skb->data[20 + 13] & TCPHDR_FIN, TCPHDR_FIN);
	skb_free(skb);
	ack_all(seq0 + 12 * MSS + 1);
	ts_flush_tx(&T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tso_one_gso_packet, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_tso_tail_and_retransmit,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_csum_offload_only, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_offload, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_tso_not_a_retransmission,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_one_area, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_partial_ack, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_tail_grows, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_then_no_offload,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_sack_lost_mss,
						setup_sack, ts_teardown),
		cmocka_unit_test_setup_teardown(test_tso_paced, setup_rtt,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_tso_paced_fin, setup_rtt,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_carve_rack_lost_mss,
						setup_sack_rack, ts_teardown),
	};

	return cmocka_run_group_tests_name("tcp_offload", tests, NULL, NULL);
}
