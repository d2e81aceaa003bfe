/*
 * test_tcp_parse.c - TCP groundwork: sequence arithmetic across the wrap,
 * header and option parsing (valid, malformed, ignored), option emission
 * byte for byte in Linux's layout, and SipHash-2-4 against the paper's
 * test vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/siphash.h"
#include "net/tcp/tcp_parse.h"
#include "net/tcp/tcp_seq.h"

static void test_seq_wrap(void **state)
{
	(void)state;
	assert_true(seq_lt(1, 2));
	assert_true(seq_lt(0xfffffff0u, 0x10));   /* across the wrap */
	assert_false(seq_lt(0x10, 0xfffffff0u));
	assert_true(seq_gt(0x10, 0xfffffff0u));
	assert_true(seq_leq(5, 5));
	assert_true(seq_geq(5, 5));
	assert_false(seq_lt(5, 5));
	assert_true(seq_between(0, 0xfffffff0u, 0x10));
	assert_true(seq_between(0xfffffff0u, 0xfffffff0u, 0x10));
	assert_true(seq_between(0x10, 0xfffffff0u, 0x10));
	assert_false(seq_between(0x11, 0xfffffff0u, 0x10));
	assert_false(seq_between(0xffffffefu, 0xfffffff0u, 0x10));
	assert_int_equal(seq_max(0xfffffff0u, 0x10), 0x10);
	assert_int_equal(seq_min(0xfffffff0u, 0x10), 0xfffffff0u);
}

/* A SYN as Linux sends it: <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>. */
static const uint8_t linux_syn[40] = {
	0x9c, 0x40, 0x00, 0x50,             /* 40000 -> 80 */
	0x00, 0x00, 0x00, 0x01,             /* seq 1 */
	0x00, 0x00, 0x00, 0x00,             /* ack 0 */
	0xa0, 0x02, 0xfa, 0xf0,             /* doff 10, SYN, win 64240 */
	0x12, 0x34, 0x00, 0x00,             /* check, urg */
	0x02, 0x04, 0x05, 0xb4,             /* mss 1460 */
	0x04, 0x02, 0x08, 0x0a,             /* sackOK, TS */
	0x00, 0x00, 0x00, 0x64,             /* tsval 100 */
	0x00, 0x00, 0x00, 0x00,             /* tsecr 0 */
	0x01, 0x03, 0x03, 0x07,             /* nop, wscale 7 */
};

static void test_parse_linux_syn(void **state)
{
	struct tcp_seg s;

	(void)state;
	assert_int_equal(tcp_parse_header(linux_syn, sizeof(linux_syn), &s),
			 US_DROP_NOT_DROPPED);
	assert_int_equal(s.sport, 40000);
	assert_int_equal(s.dport, 80);
	assert_int_equal(s.seq, 1);
	assert_int_equal(s.doff, 40);
	assert_int_equal(s.flags, TCPHDR_SYN);
	assert_int_equal(s.window, 64240);
	assert_int_equal(s.check, 0x1234);
	assert_true(s.opts.mss_ok);
	assert_int_equal(s.opts.mss, 1460);
	assert_true(s.opts.sack_ok);
	assert_true(s.opts.ts_ok);
	assert_int_equal(s.opts.tsval, 100);
	assert_int_equal(s.opts.tsecr, 0);
	assert_true(s.opts.ws_ok);
	assert_int_equal(s.opts.ws, 7);
}

static void test_emit_matches_linux(void **state)
{
	struct tcp_opts o = { 0 };
	uint8_t out[40];
	struct tcp_seg h = { 0 };
	uint8_t hdr[20];

	(void)state;
	o.mss_ok = o.sack_ok = o.ts_ok = o.ws_ok = true;
	o.mss = 1460;
	o.tsval = 100;
	o.ws = 7;
	assert_int_equal(tcp_emit_options(&o, true, out), 20);
	assert_memory_equal(out, linux_syn + 20, 20);

	h.sport = 40000;
	h.dport = 80;
	h.seq = 1;
	h.doff = 40;
	h.flags = TCPHDR_SYN;
	h.window = 64240;
	h.check = 0x1234;
	tcp_emit_header(&h, hdr);
	assert_memory_equal(hdr, linux_syn, 20);
}

static void test_emit_layouts(void **state)
{
	struct tcp_opts o = { 0 };
	uint8_t out[40];
	static const uint8_t no_ts_syn[] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2,
					     1, 3, 3, 7 };
	static const uint8_t data_ts_sack[] = {
		1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6,
		1, 1, 5, 26, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
		0, 0, 0, 5, 0, 0, 0, 6 };

	(void)state;
	/* Linux without timestamps: <mss 1460,nop,nop,sackOK,nop,wscale 7>. */
	o.mss_ok = o.sack_ok = o.ws_ok = true;
	o.mss = 1460;
	o.ws = 7;
	assert_int_equal(tcp_emit_options(&o, true, out), sizeof(no_ts_syn));
	assert_memory_equal(out, no_ts_syn, sizeof(no_ts_syn));

	/* A data segment: MSS/WS/SACK-permitted are SYN-only; 4 SACK blocks
	 * do not fit beside a timestamp, 3 do. */
	memset(&o, 0, sizeof(o));
	o.mss_ok = o.ws_ok = o.sack_ok = o.ts_ok = true;
	o.tsval = 5;
	o.tsecr = 6;
	o.nsacks = 4;
	for (int i = 0; i < 4; i++) {
		o.sacks[i].start = (uint32_t)(2 * i + 1);
		o.sacks[i].end = (uint32_t)(2 * i + 2);
	}
	assert_int_equal(tcp_emit_options(&o, false, out), 40);
	assert_memory_equal(out, data_ts_sack, 40);

	/* Without the timestamp all four fit. */
	o.ts_ok = false;
	assert_int_equal(tcp_emit_options(&o, false, out), 36);
	assert_int_equal(out[3], 34);
}

static void test_parse_options_rules(void **state)
{
	struct tcp_opts o;
	/* Bad lengths: zero, one, past the end. */
	static const uint8_t zero_len[] = { 8, 0, 1, 1 };
	static const uint8_t one_len[] = { 30, 1, 1, 1 };
	static const uint8_t past_end[] = { 1, 1, 8, 10, 0, 0, 0, 1 };
	static const uint8_t lone_kind[] = { 1, 1, 1, 30 };
	/* Wrong length for its kind: ignored, not fatal (as Linux). */
	static const uint8_t mss_len3[] = { 2, 3, 5, 1 };
	/* Unknown kind 30 with a good length, then EOL ends parsing. */
	static const uint8_t unknown[] = { 30, 4, 9, 9, 2, 4, 2, 0, 0, 2, 4, 3,
					   0, 0, 0, 0 };
	static const uint8_t big_ws[] = { 1, 3, 3, 15 };
	static const uint8_t sack_2[] = { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2,
					  0, 0, 0, 3, 0, 0, 0, 4 };
	static const uint8_t sack_bad[] = { 1, 1, 5, 14, 0, 0, 0, 1, 0, 0, 0,
					    2, 0, 0, 0, 3 };

	(void)state;
	assert_int_equal(tcp_parse_options(zero_len, 4, false, &o),
			 US_DROP_TCP_BAD_OPTIONS);
	assert_int_equal(tcp_parse_options(one_len, 4, false, &o),
			 US_DROP_TCP_BAD_OPTIONS);
	assert_int_equal(tcp_parse_options(past_end, 8, false, &o),
			 US_DROP_TCP_BAD_OPTIONS);
	assert_int_equal(tcp_parse_options(lone_kind, 4, false, &o),
			 US_DROP_TCP_BAD_OPTIONS);
	assert_int_equal(tcp_parse_options(mss_len3, 4, true, &o), 0);
	assert_false(o.mss_ok);
	assert_int_equal(tcp_parse_options(unknown, sizeof(unknown), true, &o), 0);
	assert_true(o.mss_ok);
	assert_int_equal(o.mss, 512);
	/* Nothing after the EOL is read. */
	assert_int_equal(tcp_parse_options(unknown, sizeof(unknown), true, &o), 0);
	assert_int_equal(o.mss, 512);
	/* MSS only counts on a SYN. */
	assert_int_equal(tcp_parse_options(unknown, sizeof(unknown), false, &o), 0);
	assert_false(o.mss_ok);
	/* RFC 7323 §2.3: a shift above 14 is taken as 14. */
	assert_int_equal(tcp_parse_options(big_ws, 4, true, &o), 0);
	assert_int_equal(o.ws, 14);
	assert_int_equal(tcp_parse_options(sack_2, sizeof(sack_2), false, &o), 0);
	assert_int_equal(o.nsacks, 2);
	assert_int_equal(o.sacks[1].start, 3);
	assert_int_equal(o.sacks[1].end, 4);
	assert_int_equal(tcp_parse_options(sack_bad, sizeof(sack_bad), false, &o),
			 0);
	assert_int_equal(o.nsacks, 0);
}

static void test_parse_header_errors(void **state)
{
	uint8_t h[60];
	struct tcp_seg s;

	(void)state;
	memcpy(h, linux_syn, 40);
	assert_int_equal(tcp_parse_header(h, 19, &s), US_DROP_TCP_TRUNCATED);
	h[12] = 0x40;   /* doff 16 < 20 */
	assert_int_equal(tcp_parse_header(h, 40, &s), US_DROP_TCP_BAD_DOFF);
	h[12] = 0xb0;   /* doff 44 > 40 available */
	assert_int_equal(tcp_parse_header(h, 40, &s), US_DROP_TCP_BAD_DOFF);
	h[12] = 0x50;   /* doff 20: no options, payload follows */
	assert_int_equal(tcp_parse_header(h, 40, &s), 0);
	assert_false(s.opts.mss_ok);
}

static void test_siphash_vectors(void **state)
{
	/* The paper's appendix: key 00..0f; messages 00.., empty and 15 B. */
	struct us_siphash_key k = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
	uint8_t m[16];

	(void)state;
	for (int i = 0; i < 16; i++)
		m[i] = (uint8_t)i;
	assert_true(us_siphash(&k, m, 0) == 0x726fdb47dd0e0e31ULL);
	assert_true(us_siphash(&k, m, 15) == 0xa129ca6149be45e5ULL);
	/* Every byte and the length matter. */
	assert_true(us_siphash(&k, m, 14) != us_siphash(&k, m, 15));
	m[3] ^= 1;
	assert_true(us_siphash(&k, m, 15) != 0xa129ca6149be45e5ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_parse_linux_syn),
		cmocka_unit_test(test_emit_matches_linux),
		cmocka_unit_test(test_emit_layouts),
		cmocka_unit_test(test_parse_options_rules),
		cmocka_unit_test(test_parse_header_errors),
		cmocka_unit_test(test_siphash_vectors),
	};

	return cmocka_run_group_tests_name("tcp_parse", tests, NULL, NULL);
}
