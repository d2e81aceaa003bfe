/*
 * wire.h - an in-memory point-to-point Ethernet link between two stack
 * instances, with seeded faults, all in virtual time.
 *
 * Each direction is a queue of frames ordered by delivery time. A frame sent
 * at time t is delivered at t + serialization (rate) + delay (+ jitter for
 * reordered frames). Loss, duplication, reordering and corruption are drawn
 * from the wire's own seeded generator, so a seed replays exactly. The two
 * instances must share one clock. A simulation loop advances the clock to
 * min(us_engine_next_event(a), us_engine_next_event(b)).
 */
#ifndef US_DEV_WIRE_H
#define US_DEV_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"

struct ustack;
struct net_device;

struct wire_params {
	uint64_t seed;
	uint32_t loss_ppm;      /* each per million frames */
	uint32_t dup_ppm;
	uint32_t reorder_ppm;   /* held back by an extra reorder_delay_us */
	uint32_t corrupt_ppm;   /* one random bit flipped */
	us_time_t delay_us;     /* one-way propagation delay */
	us_time_t reorder_delay_us; /* default 2 * delay_us + 1 ms */
	uint64_t rate_bps;      /* 0 = unlimited */
	unsigned int queue_max; /* frames in flight per direction; default 1024 */
	unsigned int mtu;       /* 0 = 1500 */
	/*
	 * Offloads (checksum, TSO: 64 KB TCP packets cross as one frame) are
	 * on unless a fault or a rate is set, which need link-sized frames;
	 * no_offload turns them off on a perfect wire too.
	 */
	bool no_offload;
};

struct wire_stats {
	uint64_t sent, delivered, lost, duplicated, reordered, corrupted, overflow;
};

/*
 * Create a wire with a device in each of a and b (named "wire0" unless
 * taken, MACs drawn from the seed). The devices are up, without IPv4
 * addresses. 0 or -errno.
 */
int wire_pair_create(struct ustack *a, struct ustack *b,
		     const struct wire_params *p, struct net_device **da,
		     struct net_device **db);
/*
 * Change the one-way delay of the direction that leaves dev, for frames
 * sent from now on (a path whose delay moves; when it shrinks, later
 * frames may overtake earlier ones). 0 or -EINVAL for a device that is
 * not a wire's.
 */
int wire_set_delay(struct net_device *dev, us_time_t delay_us);
/* The statistics of the direction that leaves dev. */
const struct wire_stats *wire_tx_stats(const struct net_device *dev);

#endif
