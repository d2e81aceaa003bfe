/*
 * timer.c - binary min-heap of struct us_timer (see timer.h).
 */
#include "core/timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/*
 * The timer functions, each once, shared by every instance (threads may
 * start instances at once: an entry is claimed by compare-and-swap, and
 * never changes after). The program has a dozen; running out is a bug.
 */
#define US_TIMER_FNS_MAX 64
static us_timer_fn us_timer_fns[US_TIMER_FNS_MAX];

static uint32_t us_timer_fn_index(us_timer_fn fn)
{
	for (uint32_t i = 0; i < US_TIMER_FNS_MAX; i++) {
		us_timer_fn cur = __atomic_load_n(&us_timer_fns[i],
						  __ATOMIC_ACQUIRE);

		if (!cur) {
			us_timer_fn none = NULL;

			if (__atomic_compare_exchange_n(&us_timer_fns[i], &none,
							fn, false,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE))
				return i;
			cur = none;   /* another thread took it first */
		}
		if (cur == fn)
			return i;
	}
	fprintf(stderr, "ustack: more than %d timer functions\n",
		US_TIMER_FNS_MAX);
	abort();
}

void us_timer_base_init(struct us_timer_base *b)
{
	b->heap = NULL;
	b->count = 0;
	b->cap = 0;
	b->next_seq = 0;
}

void us_timer_base_destroy(struct us_timer_base *b)
{
	for (uint32_t i = 0; i < b->count; i++)
		b->heap[i]->heap_idx = 0;
	free(b->heap);
	us_timer_base_init(b);
}

void us_timer_init(struct us_timer *t, us_timer_fn fn)
{
	t->expires = 0;
	t->seq = 0;
	t->heap_key = 0;
	t->heap_seq = 0;
	t->heap_idx = 0;
	t->fn_idx = us_timer_fn_index(fn);
}

static bool timer_before(const struct us_timer *a, const struct us_timer *b)
{
	if (a->heap_key != b->heap_key)
		return a->heap_key < b->heap_key;
	return (int32_t)(a->heap_seq - b->heap_seq) < 0;
}

/* Order t in the heap by its real expiry. */
static void timer_rekey(struct us_timer *t)
{
	t->heap_key = t->expires;
	t->heap_seq = t->seq;
}

/* A timer whose heap position is earlier than its expiry. */
static bool timer_deferred(const struct us_timer *t)
{
	return t->heap_key != t->expires || t->heap_seq != t->seq;
}

static void heap_place(struct us_timer_base *b, uint32_t i, struct us_timer *t)
{
	b->heap[i] = t;
	t->heap_idx = i + 1;
}

static void sift_up(struct us_timer_base *b, uint32_t i)
{
	struct us_timer *t = b->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!timer_before(t, b->heap[parent]))
			break;
		heap_place(b, i, b->heap[parent]);
		i = parent;
	}
	heap_place(b, i, t);
}

static void sift_down(struct us_timer_base *b, uint32_t i)
{
	struct us_timer *t = b->heap[i];

	for (;;) {
		uint32_t child = 2 * i + 1;

		if (child >= b->count)
			break;
		if (child + 1 < b->count &&
		    timer_before(b->heap[child + 1], b->heap[child]))
			child++;
		if (!timer_before(b->heap[child], t))
			break;
		heap_place(b, i, b->heap[child]);
		i = child;
	}
	heap_place(b, i, t);
}

static int heap_grow(struct us_timer_base *b)
{
	uint32_t cap = b->cap ? b->cap * 2 : 64;
	struct us_timer **heap = realloc(b->heap, cap * sizeof(*heap));

	if (!heap)
		return -ENOMEM;
	b->heap = heap;
	b->cap = cap;
	return 0;
}

int us_timer_mod(struct us_timer_base *b, struct us_timer *t, us_time_t expires)
{
	t->expires = expires;
	t->seq = b->next_seq++;
	if (us_timer_pending(t)) {
		/* Later than its place: stay, and move when the place comes
		 * up (us_timers_run, us_timer_next). */
		if (expires >= t->heap_key)
			return 0;
		timer_rekey(t);
		sift_up(b, t->heap_idx - 1);
		return 0;
	}
	timer_rekey(t);
	if (b->count == b->cap && heap_grow(b) < 0)
		return -ENOMEM;
	heap_place(b, b->count, t);
	b->count++;
	sift_up(b, b->count - 1);
	return 0;
}

void us_timer_del(struct us_timer_base *b, struct us_timer *t)
{
	uint32_t i;
	struct us_timer *last;

	if (!us_timer_pending(t))
		return;
	i = t->heap_idx - 1;
	t->heap_idx = 0;
	b->count--;
	if (i == b->count)
		return;
	last = b->heap[b->count];
	heap_place(b, i, last);
	sift_up(b, i);
	sift_down(b, last->heap_idx - 1);
}

/* Move deferred timers from the top to their real place, until the top
 * is a timer due at its key. */
static void timers_settle_top(struct us_timer_base *b)
{
	while (b->count && timer_deferred(b->heap[0])) {
		timer_rekey(b->heap[0]);
		sift_down(b, 0);
	}
}

us_time_t us_timer_next(struct us_timer_base *b)
{
	timers_settle_top(b);
	return b->count ? b->heap[0]->expires : US_TIME_NEVER;
}

unsigned us_timers_run(struct us_timer_base *b, us_time_t now)
{
	unsigned fired = 0;

	for (;;) {
		struct us_timer *t;

		timers_settle_top(b);
		if (!b->count || b->heap[0]->expires > now)
			break;
		t = b->heap[0];
		us_timer_del(b, t);
		fired++;
		__atomic_load_n(&us_timer_fns[t->fn_idx], __ATOMIC_ACQUIRE)(t, now);
	}
	return fired;
}
