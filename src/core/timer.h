/*
 * timer.h - one-shot timers on a binary min-heap, driven by passed-in time.
 *
 * A timer is embedded in the object it serves (an ARP entry, a reassembly
 * queue, later a TCP socket) and its callback finds the object with
 * container_of(). The facility never reads a clock: us_timers_run() fires
 * every timer whose expiry is <= the time it is given, in expiry order, ties
 * in arming order, so a run with a virtual clock replays exactly.
 *
 * Arming and deleting cost O(log n). Re-arming a pending timer later than
 * it was costs O(1): the timer keeps its place in the heap, keyed by the
 * earlier time, and moves only when that time comes (Linux's TCP keeps
 * its retransmission timer the same way, by not re-arming it on every
 * ACK). TCP pushes its RTO back on each ACK, so an ACK costs no sift.
 * Finding the next expiry is O(1) but for such moves, which is what the
 * runtime needs to arm its timerfd.
 */
#ifndef US_CORE_TIMER_H
#define US_CORE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"

struct us_timer;
typedef void (*us_timer_fn)(struct us_timer *t, us_time_t now);

/*
 * Every TCP socket embeds three of these, so a timer is 32 bytes, not 48:
 * the arming order is kept in 32 bits, compared modulo 2^32, which orders
 * ties exactly as long as the timers sharing an expiry were armed fewer
 * than 2^31 armings apart (beyond that only the order among equal expiries
 * could change; expiries themselves are always ordered exactly); and the
 * callback is an index into a table of the program's timer functions
 * (a few: each us_timer_init adds its own once), not a pointer.
 */
struct us_timer {
	us_time_t expires;
	us_time_t heap_key; /* the expiry its heap position is ordered by, */
	uint32_t heap_seq;  /* <= (expires, seq): moved up to them lazily */
	uint32_t seq;      /* arming order, breaks ties between equal expiries */
	uint32_t heap_idx; /* position in the heap + 1; 0 when not pending */
	uint32_t fn_idx;   /* its callback in the table (timer.c) */
};

struct us_timer_base {
	struct us_timer **heap;
	uint32_t count;
	uint32_t cap;
	uint32_t next_seq;  /* wraps (see struct us_timer) */
};

void us_timer_base_init(struct us_timer_base *b);
/* Frees the heap; pending timers are simply forgotten. */
void us_timer_base_destroy(struct us_timer_base *b);

void us_timer_init(struct us_timer *t, us_timer_fn fn);
/*
 * Arm t to fire at `expires` (absolute), re-arming it if pending.
 * Returns 0, or -ENOMEM when the heap could not grow (t is then not pending).
 */
int us_timer_mod(struct us_timer_base *b, struct us_timer *t, us_time_t expires);
/* Disarm t; harmless when t is not pending. */
void us_timer_del(struct us_timer_base *b, struct us_timer *t);

static inline bool us_timer_pending(const struct us_timer *t)
{
	return t->heap_idx != 0;
}

/* The earliest expiry, or US_TIME_NEVER when nothing is pending. */
us_time_t us_timer_next(struct us_timer_base *b);
/*
 * Fire every timer with expires <= now. A callback may arm or delete any
 * timer, itself included; one armed for <= now fires in this same call.
 * Returns how many fired.
 */
unsigned us_timers_run(struct us_timer_base *b, us_time_t now);

#endif
