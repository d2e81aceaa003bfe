/*
 * test_timer.c - the timer heap: expiry order, ties in arming order,
 * re-arming, deletion, callbacks that re-arm, a randomized check against
 * a brute-force model, re-arming later without moving in the heap, and
 * ties when the 32-bit arming order wraps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/list.h"
#include "core/random.h"
#include "core/timer.h"

struct probe {
	struct us_timer t;
	int id;
	us_time_t fired_at;
	int fired;
};

static int order[64];
static int norder;
static struct us_timer_base *cur_base;

static void probe_fn(struct us_timer *t, us_time_t now)
{
	struct probe *p = container_of(t, struct probe, t);

	p->fired++;
	p->fired_at = now;
	if (norder < 64)
		order[norder++] = p->id;
}

static void setup_probes(struct probe *p, int n)
{
	norder = 0;
	for (int i = 0; i < n; i++) {
		memset(&p[i], 0, sizeof(p[i]));
		us_timer_init(&p[i].t, probe_fn);
		p[i].id = i;
	}
}

static void test_order_and_ties(void **state)
{
	struct us_timer_base b;
	struct probe p[5];

	(void)state;
	us_timer_base_init(&b);
	setup_probes(p, 5);
	us_timer_mod(&b, &p[0].t, 300);
	us_timer_mod(&b, &p[1].t, 100);
	us_timer_mod(&b, &p[2].t, 200);
	us_timer_mod(&b, &p[3].t, 100); /* ties with p1, armed later */
	us_timer_mod(&b, &p[4].t, 1000);
	assert_int_equal(us_timer_next(&b), 100);

	assert_int_equal(us_timers_run(&b, 99), 0);
	assert_int_equal(us_timers_run(&b, 250), 3);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 3);
	assert_int_equal(order[2], 2);
	/* Callbacks get the run's time, not the expiry. */
	assert_int_equal(p[1].fired_at, 250);
	assert_false(us_timer_pending(&p[1].t));
	assert_true(us_timer_pending(&p[0].t));
	assert_int_equal(us_timer_next(&b), 300);
	us_timer_base_destroy(&b);
}

static void test_mod_and_del(void **state)
{
	struct us_timer_base b;
	struct probe p[3];

	(void)state;
	us_timer_base_init(&b);
	setup_probes(p, 3);
	us_timer_mod(&b, &p[0].t, 100);
	us_timer_mod(&b, &p[1].t, 200);
	us_timer_mod(&b, &p[2].t, 300);
	/* Move the earliest to the back and the latest to the front. */
	us_timer_mod(&b, &p[0].t, 400);
	us_timer_mod(&b, &p[2].t, 50);
	assert_int_equal(us_timer_next(&b), 50);
	us_timer_del(&b, &p[1].t);
	us_timer_del(&b, &p[1].t); /* twice is harmless */
	assert_false(us_timer_pending(&p[1].t));
	assert_int_equal(us_timers_run(&b, 1000), 2);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(p[1].fired, 0);
	assert_int_equal(us_timer_next(&b), US_TIME_NEVER);
	us_timer_base_destroy(&b);
}

/* A periodic timer re-arms itself from its callback. */
struct periodic {
	struct us_timer t;
	int count;
};

static void periodic_fn(struct us_timer *t, us_time_t now)
{
	struct periodic *p = container_of(t, struct periodic, t);

	p->count++;
	if (p->count < 5)
		us_timer_mod(cur_base, t, t->expires + 10);
	(void)now;
}

static void test_rearm_from_callback(void **state)
{
	struct us_timer_base b;
	struct periodic p;

	(void)state;
	us_timer_base_init(&b);
	cur_base = &b;
	memset(&p, 0, sizeof(p));
	us_timer_init(&p.t, periodic_fn);
	us_timer_mod(&b, &p.t, 10);
	/* Expiries 10, 20, 30 are due at 35; 40 is not. */
	assert_int_equal(us_timers_run(&b, 35), 3);
	assert_int_equal(p.count, 3);
	assert_int_equal(us_timer_next(&b), 40);
	assert_int_equal(us_timers_run(&b, 1000), 2);
	assert_int_equal(p.count, 5);
	assert_false(us_timer_pending(&p.t));
	us_timer_base_destroy(&b);
}

/* Random arm/re-arm/delete against a brute-force model of expiries. */
static void test_randomized_model(void **state)
{
	enum { N = 200 };
	static struct probe p[N];
	struct us_timer_base b;
	struct us_rng rng;
	us_time_t now = 0;

	(void)state;
	us_timer_base_init(&b);
	us_rng_seed(&rng, 42);
	setup_probes(p, N);
	for (int step = 0; step < 20000; step++) {
		int i = (int)us_rng_below(&rng, N);
		us_time_t model_next = US_TIME_NEVER;
		int ran = 0;

		switch (us_rng_below(&rng, 4)) {
		case 0:
		case 1:
			assert_int_equal(us_timer_mod(&b, &p[i].t,
					now + us_rng_below(&rng, 1000)), 0);
			break;
		case 2:
			us_timer_del(&b, &p[i].t);
			break;
		default:
			now += us_rng_below(&rng, 50);
			norder = 0;
			us_timers_run(&b, now);
			ran = 1;
			break;
		}
		for (int k = 0; k < N; k++) {
			if (!us_timer_pending(&p[k].t))
				continue;
			/* Nothing due may survive a run. */
			if (ran)
				assert_true(p[k].t.expires > now);
			if (p[k].t.expires < model_next)
				model_next = p[k].t.expires;
		}
		assert_int_equal(us_timer_next(&b), model_next);
	}
	us_timer_base_destroy(&b);
	for (int k = 0; k < N; k++)
		assert_false(us_timer_pending(&p[k].t));
}

/*
 * Re-arming later keeps the heap position (no sift: O(1)); the timer
 * still fires at its new time only, and a tie with a timer armed before
 * the re-arm goes to that one. Re-arming earlier moves it at once.
 */
static void test_rearm_later_is_lazy(void **state)
{
	struct us_timer_base b;
	struct probe p[3];
	uint32_t idx;

	(void)state;
	us_timer_base_init(&b);
	setup_probes(p, 3);
	us_timer_mod(&b, &p[0].t, 100);
	us_timer_mod(&b, &p[1].t, 200);
	us_timer_mod(&b, &p[2].t, 300);
	idx = p[0].t.heap_idx;
	for (us_time_t t = 110; t <= 300; t += 10) {
		us_timer_mod(&b, &p[0].t, t);     /* an ACK pushing an RTO */
		assert_int_equal(p[0].t.heap_idx, idx);
	}
	assert_int_equal(us_timer_next(&b), 200);
	assert_int_equal(us_timers_run(&b, 299), 1);
	assert_int_equal(p[1].fired, 1);
	assert_int_equal(p[0].fired, 0);
	/* p0 now expires at 300 like p2, but was re-armed after p2 was. */
	assert_int_equal(us_timers_run(&b, 300), 2);
	assert_int_equal(norder, 3);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	assert_int_equal(p[0].fired_at, 300);

	/* Earlier than its place: it moves to the top now. */
	us_timer_mod(&b, &p[1].t, 500);
	us_timer_mod(&b, &p[2].t, 600);
	us_timer_mod(&b, &p[2].t, 400);
	assert_int_equal(p[2].t.heap_idx, 1);
	assert_int_equal(us_timer_next(&b), 400);
	us_timer_base_destroy(&b);
}

/* The arming order is 32 bits and wraps: ties across the wrap still fire
 * in arming order. */
static void test_ties_across_seq_wrap(void **state)
{
	struct us_timer_base b;
	struct probe p[4];

	(void)state;
	us_timer_base_init(&b);
	b.next_seq = UINT32_MAX - 1;
	setup_probes(p, 4);
	us_timer_mod(&b, &p[2].t, 500);
	us_timer_mod(&b, &p[0].t, 500);
	us_timer_mod(&b, &p[3].t, 500);  /* armed after the wrap */
	us_timer_mod(&b, &p[1].t, 400);
	assert_true(p[3].t.seq < p[0].t.seq);
	assert_int_equal(us_timers_run(&b, 500), 4);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	assert_int_equal(order[3], 3);
	us_timer_base_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ties),
		cmocka_unit_test(test_mod_and_del),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_randomized_model),
		cmocka_unit_test(test_rearm_later_is_lazy),
		cmocka_unit_test(test_ties_across_seq_wrap),
	};

	return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
