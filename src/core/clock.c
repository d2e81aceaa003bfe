/*
 * clock.c - monotonic and virtual clocks (see clock.h).
 */
#include "core/clock.h"

#include <time.h>

static us_time_t ts_to_us(const struct timespec *ts)
{
	return (us_time_t)ts->tv_sec * US_USEC_PER_SEC +
	       (us_time_t)ts->tv_nsec / 1000;
}

static us_time_t monotonic_now(struct us_clock *c)
{
	struct timespec ts;

	(void)c;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_to_us(&ts);
}

static us_time_t virtual_now(struct us_clock *c)
{
	return c->virt;
}

void us_clock_init_monotonic(struct us_clock *c)
{
	struct timespec mono, real;

	c->now = monotonic_now;
	c->virt = 0;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	c->realtime_offset_us = (int64_t)ts_to_us(&real) - (int64_t)ts_to_us(&mono);
}

void us_clock_init_virtual(struct us_clock *c, us_time_t start)
{
	c->now = virtual_now;
	c->virt = start;
	c->realtime_offset_us = 0;
}

void us_clock_advance(struct us_clock *c, us_time_t delta)
{
	c->virt += delta;
}

void us_clock_set(struct us_clock *c, us_time_t t)
{
	if (t > c->virt)
		c->virt = t;
}
