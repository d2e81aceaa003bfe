/*
 * tap.h - a TAP device of the Linux kernel as a ustack net_device.
 *
 * Opens /dev/net/tun with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, so every frame
 * is preceded by a virtio-net header (struct virtio_net_hdr_v1, 12 bytes,
 * TUNSETVNETHDRSZ). Offloads are on by default: checksum offload both ways,
 * TSO out (TCP packets up to 64 KB) and large TCP packets in (TUNSETOFFLOAD
 * TUN_F_CSUM | TUN_F_TSO4); no_offload turns them all off, and the kernel
 * then sends whole, checksummed frames. Attaching creates the
 * device in the calling thread's network namespace when it does not exist,
 * and brings the link up.
 */
#ifndef US_DEV_TAP_H
#define US_DEV_TAP_H

#include <stdbool.h>
#include <stdint.h>

struct ustack;
struct net_device;
struct fault_params;

struct tap_config {
	const char *ifname;     /* required */
	unsigned int mtu;       /* 0 = 1500 */
	const uint8_t *mac;     /* ustack's own MAC on this link; NULL = random
				   locally administered from the stack's rng */
	bool no_vnet_hdr;       /* true = plain frames (for tests of that path) */
	bool no_offload;        /* true = no checksum offload, TSO or large
				   received packets (the plain path, kept and
				   tested) */
	bool tx_thread;         /* true = packets of TAP_TX_THREAD_MIN bytes
				   or more are written by a thread of the
				   device's own (tap_tx.c) */
	/* Seeded faults on the frames ustack sends (tx) and receives (rx):
	 * loss, duplication and reordering (tap_fault.h). NULL = none. */
	const struct fault_params *tx_fault;
	const struct fault_params *rx_fault;
	uint64_t fault_seed;    /* 0 = drawn from the stack's generator */
};

/*
 * Open or create the TAP device, bring it up, register a net_device in st.
 * Returns the device, or NULL with *err = -errno.
 */
struct net_device *tap_create(struct ustack *st, const struct tap_config *cfg,
			      int *err);

#endif
