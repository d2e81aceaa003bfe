/*
 * test_checksum.c - the Internet checksum against RFC 1071's worked example
 * and known packets, odd lengths, the pseudo-header sum and the RFC 1624
 * incremental update, plus the seeded generator and the counter tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "core/checksum.h"
#include "core/random.h"
#include "core/stats.h"

static void test_rfc1071_example(void **state)
{
	/* RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2. */
	const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	/* 0001 + f203 + f4f5 + f6f7 = 2ddf0, folded with its carry: ddf2.
	 * How far csum_partial folds is its own business; the folded value
	 * is the checksum. */
	uint32_t sum = csum_partial(b, sizeof(b), 0);

	(void)state;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	assert_int_equal(sum, 0xddf2);
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)),
			 (uint16_t)~0xddf2);
}

/* RFC 1071 §4.1's loop, two bytes at a time in network order. */
static uint16_t ref_csum(const uint8_t *p, size_t len, uint32_t sum)
{
	uint64_t acc = sum;

	for (; len >= 2; p += 2, len -= 2)
		acc += (uint32_t)p[0] << 8 | p[1];
	if (len)
		acc += (uint32_t)p[0] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* The word-at-a-time sum agrees with the reference for every length and
 * alignment, with carries (0xff bytes) and a running sum passed in. */
static void test_wide_sum_matches_reference(void **state)
{
	uint8_t buf[300];
	struct us_rng rng;

	(void)state;
	us_rng_seed(&rng, 42);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)us_rng_next(&rng);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			assert_int_equal(csum_fold(csum_partial(buf + off, len,
								0x1234abcd)),
					 ref_csum(buf + off, len, 0x1234abcd));
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(csum_fold(csum_partial(buf, 257, 0xffffffffu)),
			 ref_csum(buf, 257, 0xffffffffu));
}

static void test_ipv4_header(void **state)
{
	/* A real header (from a capture) whose checksum field is 0xb861. */
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
			  0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
			  0xc0, 0xa8, 0x00, 0xc7 };

	(void)state;
	/* Verifying a correct header gives zero. */
	assert_int_equal(inet_csum(h, 20), 0);
	h[10] = h[11] = 0;
	assert_int_equal(inet_csum(h, 20), 0xb861);
	/* A flipped bit is detected. */
	h[10] = 0xb8;
	h[11] = 0x61;
	h[15] ^= 0x10;
	assert_int_not_equal(inet_csum(h, 20), 0);
}

static void test_odd_length_and_split(void **state)
{
	uint8_t buf[257];
	uint32_t whole, split;

	(void)state;
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	whole = csum_partial(buf, sizeof(buf), 0);
	/* Summing in even-sized pieces gives the same result. */
	split = csum_partial(buf, 100, 0);
	split = csum_partial(buf + 100, 157, split);
	assert_int_equal(csum_fold(whole), csum_fold(split));
	/* An odd tail is padded with a zero byte. */
	assert_int_equal(csum_fold(csum_partial("\x12", 1, 0)),
			 (uint16_t)~0x1200);
}

static void test_pseudo_header(void **state)
{
	/* UDP 10.0.0.1:1234 -> 10.0.0.2:5678, payload "hi", by hand. */
	uint8_t udp[10] = { 0x04, 0xd2, 0x16, 0x2e, 0x00, 0x0a, 0, 0, 'h', 'i' };
	uint32_t s = inet_addr("10.0.0.1"), d = inet_addr("10.0.0.2");
	uint32_t sum = csum_tcpudp_nofold(s, d, 17, 10, 0);
	uint16_t c = csum_fold(csum_partial(udp, 10, sum));

	(void)state;
	/* 0a00+0001+0a00+0002+0011+000a + 04d2+162e+000a+0000+6869 = 9791 */
	assert_int_equal(c, (uint16_t)~0x9791);
	udp[6] = (uint8_t)(c >> 8);
	udp[7] = (uint8_t)c;
	assert_int_equal(csum_fold(csum_partial(udp, 10, sum)), 0);
}

static void test_incremental(void **state)
{
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00,
			  0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01,
			  0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t check;

	(void)state;
	/* Decrement the TTL (word 0x4011 -> 0x3f11) incrementally. */
	check = csum_replace2(0xb861, 0x4011, 0x3f11);
	h[8] = 0x3f;
	h[10] = (uint8_t)(check >> 8);
	h[11] = (uint8_t)check;
	assert_int_equal(inet_csum(h, 20), 0);
}

static void test_rng_replays(void **state)
{
	struct us_rng a, b, c;
	int same = 1, differ = 0, hits = 0;

	(void)state;
	us_rng_seed(&a, 7);
	us_rng_seed(&b, 7);
	us_rng_seed(&c, 8);
	for (int i = 0; i < 1000; i++) {
		uint64_t x = us_rng_next(&a), y = us_rng_next(&b);

		same &= x == y;
		differ |= x != us_rng_next(&c);
	}
	assert_true(same);
	assert_true(differ);
	for (int i = 0; i < 10000; i++)
		assert_true(us_rng_below(&a, 10) < 10);
	for (int i = 0; i < 100000; i++)
		hits += us_rng_chance_ppm(&a, 100000);
	/* 10 % of 100000, well inside six standard deviations. */
	assert_in_range(hits, 10000 - 600, 10000 + 600);
	assert_false(us_rng_chance_ppm(&a, 0));
}

static void test_stat_names(void **state)
{
	struct us_stats s;
	char out[4096];
	FILE *f;

	(void)state;
	assert_string_equal(us_drop_reason_name(US_DROP_IP_BAD_CSUM),
			    "ip_bad_csum");
	assert_string_equal(us_mib_name(US_MIB_ICMP_IN_ECHOS), "icmp.in_echos");
	assert_string_equal(us_drop_reason_name(US_DROP_MAX), "?");
	assert_int_equal(US_DROP_NOT_DROPPED, 0);
	memset(&s, 0, sizeof(s));
	s.mib[US_MIB_ICMP_IN_ECHOS] = 3;
	s.drops[US_DROP_IP_BAD_CSUM] = 2;
	s.drops_total = 2;
	f = fmemopen(out, sizeof(out), "w");
	us_stats_print(&s, f);
	fclose(f);
	assert_non_null(strstr(out, "icmp.in_echos"));
	assert_non_null(strstr(out, "drop.ip_bad_csum"));
	/* Zero counters are not printed. */
	assert_null(strstr(out, "icmp.out_echos"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_wide_sum_matches_reference),
		cmocka_unit_test(test_ipv4_header),
		cmocka_unit_test(test_odd_length_and_split),
		cmocka_unit_test(test_pseudo_header),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_rng_replays),
		cmocka_unit_test(test_stat_names),
	};

	return cmocka_run_group_tests_name("checksum", tests, NULL, NULL);
}
