/*
 * tap_fault.h - seeded loss, duplication and reordering on a TAP device's
 * transmit and receive paths, for tests against the real kernel (the
 * kernel here has no netem).
 *
 * The decisions come from fault_decide() (dev/fault.h), the same dice the
 * in-memory wire uses, one generator per direction, so a seed replays the
 * same fate for the n-th frame of each direction. A lost frame is dropped
 * and counted (drop reason dev_fault_loss); a duplicated one is handed on
 * twice; a reordered one is held back for the reorder delay (1 ms by
 * default) while later frames pass it, then released by a timer of the
 * instance. Corruption, delay and rate are not applied on a TAP: a flipped
 * bit behind a checksum the kernel computes would go unnoticed, and the
 * kernel's own queues set the timing.
 *
 * Where it sits: on transmit after the capture (dev_queue_xmit ->
 * tap_xmit -> tap_fault_xmit -> write), so a capture shows frames lost on
 * the way out; on receive before it (read -> tap_fault_rx ->
 * netif_receive_skb), so frames lost on the way in never reach the
 * capture or the stack.
 */
#ifndef US_DEV_TAP_FAULT_H
#define US_DEV_TAP_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/skbuff.h"
#include "core/timer.h"
#include "dev/fault.h"

struct net_device;

/* Frames held back per direction at most; more pass through in order. */
#define TAP_FAULT_HELD_MAX 1024
/* The transmit generator is seeded with the seed, the receive one with
 * seed ^ TAP_FAULT_RX_SEED_MIX, so the two directions draw apart. */
#define TAP_FAULT_RX_SEED_MIX 0x9e3779b97f4a7c15ull

struct tap_fault_dir {
	bool on;
	struct fault_state f;
	struct sk_buff_head held;  /* held back, in order of release time */
};

struct tap_fault {
	struct net_device *dev;
	/* Writes one frame to the device now; takes ownership. */
	int (*xmit_now)(struct net_device *dev, struct sk_buff *skb);
	struct tap_fault_dir tx, rx;
	struct us_timer timer;     /* the next held frame's release */
};

/*
 * Set up the layer for dev. tx/rx may be NULL (that direction is clean);
 * a direction with every probability 0 is clean too. The two directions
 * draw from generators seeded from `seed`.
 */
void tap_fault_init(struct tap_fault *tf, struct net_device *dev,
		    int (*xmit_now)(struct net_device *dev, struct sk_buff *skb),
		    const struct fault_params *tx, const struct fault_params *rx,
		    uint64_t seed);
/* Send skb through the transmit faults. Takes ownership. 0 or -errno. */
int tap_fault_xmit(struct tap_fault *tf, struct sk_buff *skb);
/* Pass a received frame through the receive faults. Takes ownership. */
void tap_fault_rx(struct tap_fault *tf, struct sk_buff *skb);
/* Stop the timer and free every held frame. */
void tap_fault_destroy(struct tap_fault *tf);

/* True when params ask for any fault the TAP applies. */
bool tap_fault_wanted(const struct fault_params *p);

#endif
