/*
 * fault.c - seeded fault decisions for a simulated link (see fault.h).
 *
 * Called from a device's transmit path (wire_xmit today) once per frame.
 */
#include "dev/fault.h"

#include <string.h>

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_SEC 1000000000ull

void fault_init(struct fault_state *f, const struct fault_params *p,
		uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	if (p)
		f->p = *p;
	if (!f->p.reorder_delay_us)
		f->p.reorder_delay_us = 2 * f->p.delay_us + US_USEC_PER_MS;
	us_rng_seed(&f->rng, seed);
}

/*
 * One draw in [0, n). Plain modulo rather than us_rng_below(): rejection
 * sampling would make the number of draws per frame vary, and the bias of
 * a 64-bit value reduced mod n < 2^20 is below 2^-44.
 */
static uint64_t draw(struct fault_state *f, uint64_t n)
{
	return us_rng_next(&f->rng) % n;
}

static bool draw_ppm(struct fault_state *f, uint32_t ppm)
{
	return draw(f, FAULT_PPM_ONE) < ppm;
}

uint64_t fault_serialize_ns(uint64_t rate_bps, size_t len)
{
	uint64_t bits = (uint64_t)len * 8;

	if (!rate_bps)
		return 0;
	return (bits * NSEC_PER_SEC + rate_bps - 1) / rate_bps;
}

/*
 * The transmitter sends one frame at a time: a frame starts when both it
 * was handed over and the previous frame is out, and arrives one
 * propagation delay after its last bit left.
 */
static us_time_t link_departure(struct fault_state *f, us_time_t now,
				size_t len)
{
	uint64_t now_ns = now * NSEC_PER_USEC;
	uint64_t start = f->busy_until_ns > now_ns ? f->busy_until_ns : now_ns;

	f->busy_until_ns = start + fault_serialize_ns(f->p.rate_bps, len);
	return (f->busy_until_ns + NSEC_PER_USEC - 1) / NSEC_PER_USEC;
}

bool fault_any(const struct fault_params *p)
{
	return p && (p->loss_ppm || p->dup_ppm || p->reorder_ppm ||
		     p->corrupt_ppm);
}

void fault_decide(struct fault_state *f, us_time_t now, size_t len,
		  struct fault_verdict *v)
{
	uint64_t nbits = (uint64_t)len * 8;
	us_time_t arrive;

	memset(v, 0, sizeof(*v));
	/*
	 * A perfect link rolls no dice: every outcome would be "nothing
	 * happens", and the generator serves nothing else, so skipping the
	 * draws changes no run. With any fault on, always five draws, in
	 * this order; see fault.h.
	 */
	if (!fault_any(&f->p)) {
		v->deliver_at = v->dup_at = link_departure(f, now, len) +
					    f->p.delay_us;
		return;
	}
	v->lost = draw_ppm(f, f->p.loss_ppm);
	v->duplicate = draw_ppm(f, f->p.dup_ppm);
	v->reorder = draw_ppm(f, f->p.reorder_ppm);
	v->corrupt = draw_ppm(f, f->p.corrupt_ppm);
	v->corrupt_bit = (uint32_t)draw(f, nbits ? nbits : 1);
	if (!nbits)
		v->corrupt = false;

	arrive = link_departure(f, now, len) + f->p.delay_us;
	v->deliver_at = arrive;
	v->dup_at = arrive;
	if (v->lost) {
		v->duplicate = v->reorder = v->corrupt = false;
		return;
	}
	if (v->reorder)
		v->deliver_at += f->p.reorder_delay_us;
}

void fault_flip_bit(uint8_t *frame, size_t len, uint32_t bit)
{
	if (bit / 8 < len)
		frame[bit / 8] ^= (uint8_t)(0x80u >> (bit % 8));
}
