/*
 * fault.h - seeded fault decisions for a simulated link.
 *
 * A device that wants an imperfect link (the in-memory wire today, a fault
 * layer on the TAP device later) keeps one struct fault_state per direction
 * and asks fault_decide() what happens to each frame it sends: lost,
 * duplicated, held back (reordered), one bit flipped, and when it arrives
 * given the propagation delay and the serialization time at a link rate.
 * The device itself owns the frames and the queue; this module only
 * decides, so the same decisions can sit under any device.
 *
 * Call chain:  dev_queue_xmit -> ops->xmit (wire_xmit) -> fault_decide
 *
 * Every decision is drawn from the state's own generator, a fixed number of
 * draws per frame whatever the parameters are, so the n-th frame of a run
 * meets the same dice whether or not, say, corruption is switched on, and a
 * seed replays exactly. A link with every probability 0 draws nothing (the
 * parameters are fixed at fault_init, so no later frame can tell).
 */
#ifndef US_DEV_FAULT_H
#define US_DEV_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/random.h"

#define FAULT_PPM_ONE 1000000u   /* "always", in parts per million */

struct fault_params {
	uint32_t loss_ppm;        /* frame never arrives */
	uint32_t dup_ppm;         /* a second, clean copy arrives too */
	uint32_t reorder_ppm;     /* held back by reorder_delay_us */
	uint32_t corrupt_ppm;     /* one random bit flipped */
	us_time_t delay_us;       /* one-way propagation delay */
	us_time_t reorder_delay_us; /* 0 = 2 * delay_us + 1 ms */
	uint64_t rate_bps;        /* 0 = unlimited (no serialization time) */
};

struct fault_state {
	struct fault_params p;
	struct us_rng rng;
	/*
	 * When the transmitter finishes the frame it is sending, in ns of the
	 * same clock: the next frame starts no earlier. Kept in ns so that
	 * small frames on fast links do not each round up a whole µs.
	 */
	uint64_t busy_until_ns;
};

struct fault_verdict {
	bool lost;          /* nothing arrives; the other flags are false */
	bool duplicate;     /* a clean copy also arrives, at dup_at */
	bool reorder;       /* deliver_at includes reorder_delay_us */
	bool corrupt;       /* flip corrupt_bit of the frame */
	uint32_t corrupt_bit; /* bit index from the frame start, MSB first */
	us_time_t deliver_at; /* the (possibly corrupted) frame */
	us_time_t dup_at;     /* the duplicate (never held back) */
};

/* Copy p (filling defaults) and seed the generator. */
void fault_init(struct fault_state *f, const struct fault_params *p,
		uint64_t seed);
/* True when p asks for loss, duplication, reordering or corruption. */
bool fault_any(const struct fault_params *p);
/*
 * Decide the fate of a frame of len bytes (len > 0) handed to the link at
 * `now`. Occupies the link for its serialization time even when the frame
 * is then lost, as a frame lost on a real link was still sent.
 */
void fault_decide(struct fault_state *f, us_time_t now, size_t len,
		  struct fault_verdict *v);
/* Flip bit `bit` (MSB-first within each byte) of frame; bit < 8 * len. */
void fault_flip_bit(uint8_t *frame, size_t len, uint32_t bit);
/* Time in ns to clock len bytes out at rate_bps (rounded up); 0 if no rate. */
uint64_t fault_serialize_ns(uint64_t rate_bps, size_t len);

#endif
