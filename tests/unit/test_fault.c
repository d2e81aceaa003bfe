/*
 * test_fault.c - the fault-decision layer on its own: delivery time from
 * delay and serialization at a rate, rates honoured on average, the
 * configured probabilities met, replay from a seed, five draws per frame
 * whatever is switched on (and none on a perfect link), the reorder
 * default, bit flipping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dev/fault.h"

#define T0 5000000ull

static void test_no_faults_is_delay_only(void **state)
{
	struct fault_params p = { .delay_us = 700 };
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &p, 1);
	for (int i = 0; i < 1000; i++) {
		fault_decide(&f, T0 + (us_time_t)i, 100, &v);
		assert_false(v.lost || v.duplicate || v.reorder || v.corrupt);
		assert_int_equal(v.deliver_at, T0 + (us_time_t)i + 700);
	}
}

/* A link with every probability 0 rolls no dice: the generator is left as
 * it was, while a single fault at one per million draws for every frame. */
static void test_perfect_link_draws_nothing(void **state)
{
	struct fault_params none = { .delay_us = 10, .rate_bps = 1000000 };
	struct fault_params one = { .delay_us = 10, .dup_ppm = 1 };
	struct fault_state f, g;
	struct us_rng before;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &none, 7);
	before = f.rng;
	assert_false(fault_any(&none));
	for (int i = 0; i < 100; i++) {
		fault_decide(&f, T0, 125, &v);
		assert_false(v.lost || v.duplicate || v.reorder || v.corrupt);
	}
	assert_memory_equal(&f.rng, &before, sizeof(before));
	/* The rate still applies: 100 frames of 1000 bits at 1 Mbit/s. */
	assert_int_equal(v.deliver_at, T0 + 100 * 1000 + 10);

	fault_init(&g, &one, 7);
	assert_true(fault_any(&one));
	fault_decide(&g, T0, 125, &v);
	assert_memory_not_equal(&g.rng, &before, sizeof(before));
}

static void test_serialization(void **state)
{
	/* 8 Mbit/s: one byte per µs. */
	struct fault_params p = { .delay_us = 100, .rate_bps = 8000000 };
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	assert_int_equal(fault_serialize_ns(8000000, 1000), 1000000);
	assert_int_equal(fault_serialize_ns(0, 1000), 0);
	assert_int_equal(fault_serialize_ns(1000000000, 1), 8);
	assert_int_equal(fault_serialize_ns(3, 1), 2666666667ull); /* rounds up */

	fault_init(&f, &p, 1);
	/* Back to back: each waits for the one before it. */
	fault_decide(&f, T0, 1000, &v);
	assert_int_equal(v.deliver_at, T0 + 1000 + 100);
	fault_decide(&f, T0, 500, &v);
	assert_int_equal(v.deliver_at, T0 + 1500 + 100);
	fault_decide(&f, T0 + 10, 1000, &v);
	assert_int_equal(v.deliver_at, T0 + 2500 + 100);
	/* After the link went idle, a frame starts when it is handed over. */
	fault_decide(&f, T0 + 10000, 200, &v);
	assert_int_equal(v.deliver_at, T0 + 10200 + 100);
}

/* Small frames on a fast link must not each cost a whole rounded µs. */
static void test_serialization_keeps_fractions(void **state)
{
	struct fault_params p = { .rate_bps = 1000000000 }; /* 1 Gbit/s */
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &p, 1);
	for (int i = 0; i < 1000; i++)
		fault_decide(&f, T0, 64, &v);   /* 512 ns each */
	assert_int_equal(v.deliver_at, T0 + 512);
}

static void test_rates_match_params(void **state)
{
	struct fault_params p = { .loss_ppm = 100000, .dup_ppm = 200000,
				  .reorder_ppm = 300000, .corrupt_ppm = 50000 };
	struct fault_state f;
	struct fault_verdict v;
	int lost = 0, dup = 0, reo = 0, cor = 0, n = 100000;

	(void)state;
	fault_init(&f, &p, 42);
	for (int i = 0; i < n; i++) {
		fault_decide(&f, T0, 100, &v);
		lost += v.lost;
		dup += v.duplicate;
		reo += v.reorder;
		cor += v.corrupt;
		if (v.corrupt)
			assert_true(v.corrupt_bit < 800);
	}
	/* Expected values with a generous margin (> 6 sigma). */
	assert_in_range(lost, 9000, 11000);
	/* The others are only drawn for frames not lost (90 %). */
	assert_in_range(dup, 16500, 19500);
	assert_in_range(reo, 25500, 28500);
	assert_in_range(cor, 3900, 5100);
}

static void run_seq(uint64_t seed, const struct fault_params *p,
		    struct fault_verdict *out, int n)
{
	struct fault_state f;

	fault_init(&f, p, seed);
	for (int i = 0; i < n; i++)
		fault_decide(&f, T0 + (us_time_t)i * 10, 60 + (size_t)i % 40, &out[i]);
}

static void test_seed_replays(void **state)
{
	struct fault_params p = { .loss_ppm = 200000, .dup_ppm = 100000,
				  .reorder_ppm = 100000, .corrupt_ppm = 100000,
				  .delay_us = 10 };
	struct fault_verdict a[500], b[500], c[500];

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(c, 0, sizeof(c));
	run_seq(7, &p, a, 500);
	run_seq(7, &p, b, 500);
	run_seq(8, &p, c, 500);
	assert_memory_equal(a, b, sizeof(a));
	assert_true(memcmp(a, c, sizeof(a)) != 0);
}

/*
 * Switching corruption on must not change which frames are lost: each
 * frame consumes the same draws whatever the parameters.
 */
static void test_draws_fixed_per_frame(void **state)
{
	struct fault_params p1 = { .loss_ppm = 300000 };
	struct fault_params p2 = { .loss_ppm = 300000, .corrupt_ppm = 500000,
				   .dup_ppm = 500000 };
	struct fault_verdict a[300], b[300];
	int corrupt = 0;

	(void)state;
	run_seq(99, &p1, a, 300);
	run_seq(99, &p2, b, 300);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(a[i].lost, b[i].lost);
		corrupt += b[i].corrupt;
	}
	assert_true(corrupt > 0);
}

static void test_reorder_delay(void **state)
{
	struct fault_params p = { .reorder_ppm = FAULT_PPM_ONE, .delay_us = 300 };
	struct fault_params q = { .reorder_ppm = FAULT_PPM_ONE, .delay_us = 300,
				  .reorder_delay_us = 50 };
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &p, 1);
	assert_int_equal(f.p.reorder_delay_us, 2 * 300 + 1000);
	fault_decide(&f, T0, 100, &v);
	assert_true(v.reorder);
	assert_int_equal(v.deliver_at, T0 + 300 + 1600);
	fault_init(&f, &q, 1);
	fault_decide(&f, T0, 100, &v);
	assert_int_equal(v.deliver_at, T0 + 350);
}

static void test_lost_clears_the_rest(void **state)
{
	struct fault_params p = { .loss_ppm = FAULT_PPM_ONE,
				  .dup_ppm = FAULT_PPM_ONE,
				  .reorder_ppm = FAULT_PPM_ONE,
				  .corrupt_ppm = FAULT_PPM_ONE };
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &p, 3);
	fault_decide(&f, T0, 100, &v);
	assert_true(v.lost);
	assert_false(v.duplicate || v.reorder || v.corrupt);
}

static void test_duplicate_not_held_back(void **state)
{
	struct fault_params p = { .dup_ppm = FAULT_PPM_ONE,
				  .reorder_ppm = FAULT_PPM_ONE, .delay_us = 10,
				  .reorder_delay_us = 1000 };
	struct fault_state f;
	struct fault_verdict v;

	(void)state;
	fault_init(&f, &p, 3);
	fault_decide(&f, T0, 100, &v);
	assert_true(v.duplicate && v.reorder);
	assert_int_equal(v.dup_at, T0 + 10);
	assert_int_equal(v.deliver_at, T0 + 1010);
}

static void test_flip_bit(void **state)
{
	uint8_t f[4] = { 0 };

	(void)state;
	fault_flip_bit(f, sizeof(f), 0);
	assert_int_equal(f[0], 0x80);
	fault_flip_bit(f, sizeof(f), 31);
	assert_int_equal(f[3], 0x01);
	fault_flip_bit(f, sizeof(f), 0);
	assert_int_equal(f[0], 0);
	fault_flip_bit(f, sizeof(f), 32);   /* out of range: untouched */
	assert_int_equal(f[0] | f[1] | f[2], 0);
	assert_int_equal(f[3], 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_faults_is_delay_only),
		cmocka_unit_test(test_perfect_link_draws_nothing),
		cmocka_unit_test(test_serialization),
		cmocka_unit_test(test_serialization_keeps_fractions),
		cmocka_unit_test(test_rates_match_params),
		cmocka_unit_test(test_seed_replays),
		cmocka_unit_test(test_draws_fixed_per_frame),
		cmocka_unit_test(test_reorder_delay),
		cmocka_unit_test(test_lost_clears_the_rest),
		cmocka_unit_test(test_duplicate_not_held_back),
		cmocka_unit_test(test_flip_bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
