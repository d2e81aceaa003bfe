/*
 * clock.h - the stack's notion of time.
 *
 * The protocol core never reads the system clock. Whoever drives an engine
 * (the runtime thread, a blocked application call, a test) reads a struct
 * us_clock and passes the time in. A virtual clock makes every test
 * deterministic; the monotonic clock is used by the real runtime.
 */
#ifndef US_CORE_CLOCK_H
#define US_CORE_CLOCK_H

#include <stdint.h>

/* Microseconds since an arbitrary epoch (the clock's own). */
typedef uint64_t us_time_t;

#define US_TIME_NEVER   UINT64_MAX
#define US_USEC_PER_MS  1000ULL
#define US_USEC_PER_SEC 1000000ULL

struct us_clock {
	us_time_t (*now)(struct us_clock *c);
	/* The current time of a virtual clock; unused by the monotonic one. */
	us_time_t virt;
	/*
	 * Add this to now() to get wall-clock time (µs since 1970), for
	 * capture files. Zero for a virtual clock.
	 */
	int64_t realtime_offset_us;
};

void us_clock_init_monotonic(struct us_clock *c);
void us_clock_init_virtual(struct us_clock *c, us_time_t start);
/* Move a virtual clock forward; never backward. */
void us_clock_advance(struct us_clock *c, us_time_t delta);
void us_clock_set(struct us_clock *c, us_time_t t);

static inline us_time_t us_clock_now(struct us_clock *c)
{
	return c->now(c);
}

#endif
