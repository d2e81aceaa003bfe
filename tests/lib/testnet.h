/*
 * testnet.h - fixtures for unit tests: a stack instance on a virtual clock
 * with one test device whose transmitted frames are captured in a queue and
 * into which a test injects crafted frames; and builders for the frames.
 *
 * Typical use:
 *   struct test_stack t;
 *   ts_init(&t, "10.0.0.2", 24);          // Ethernet test device "test0"
 *   ts_inject(&t, frame, len);           // as if it arrived on the wire
 *   struct sk_buff *out = ts_pop_tx(&t); // what the stack sent, or NULL
 *   ts_advance(&t, 1000000);             // 1 s of virtual time, timers run
 *   ts_destroy(&t);
 */
#ifndef US_TESTS_TESTNET_H
#define US_TESTS_TESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/clock.h"
#include "core/skbuff.h"
#include "dev/netdev.h"
#include "stack/stack.h"

/* The test device's MAC (ustack's side) and the simulated peer's. */
extern const uint8_t TS_DEV_MAC[6];
extern const uint8_t TS_PEER_MAC[6];

struct test_stack {
	struct us_clock clock;
	struct ustack *st;
	struct net_device *dev;
	struct sk_buff_head *txq;   /* frames the stack transmitted, in order */
	/* When non-zero, a frame finding this many queued is refused with
	 * ENOBUFS (a full device queue) and freed. */
	unsigned int tx_limit;
	/* The size of the buffer ts_inject hands a frame up in (0: a
	 * full frame's, TS_RX_BUF), as a driver's receive ring. */
	unsigned int rx_buf;
};

/* Ethernet device "test0" with addr/prefix (dotted quad). Seed 1. */
void ts_init(struct test_stack *t, const char *addr, int prefix_len);
/* A layer-3 device (bare IPv4 packets, no ARP). */
void ts_init_l3(struct test_stack *t, const char *addr, int prefix_len);
void ts_destroy(struct test_stack *t);
/* cmocka's teardown for a test whose setup made *state its test_stack:
 * the frames it captured freed, then the stack. */
int ts_teardown(void **state);

/* Hand a frame to the stack as received on the device, then run the engine
 * until idle. */
void ts_inject(struct test_stack *t, const void *frame, size_t len);
/* As ts_inject, for a frame the device hands up as a UDP GSO packet of
 * datagrams of gso_size bytes (SKB_GSO_UDP_L4, its checksum taken as
 * checked), as a TAP with USO does. */
void ts_inject_udp_gso(struct test_stack *t, const void *frame, size_t len,
		       uint16_t gso_size);
/* The next transmitted frame (caller frees with skb_free), or NULL. */
struct sk_buff *ts_pop_tx(struct test_stack *t);
/* Free every captured frame; returns how many there were. */
unsigned ts_flush_tx(struct test_stack *t);
/* Advance the virtual clock and run due timers and the engine. */
void ts_advance(struct test_stack *t, us_time_t delta_us);

/* Dotted quad to network-order address (asserts validity). */
uint32_t ts_ip(const char *dotted);

/* One datagram from ustack socket fd (us_recvmsg, MSG_DONTWAIT) into buf:
 * its length, or -1 with errno; *gso is the size its SOL_UDP/UDP_GRO
 * control message gives, -1 when it has none. */
ssize_t ts_recv_gro(int fd, void *buf, size_t len, int *gso);

/*
 * Frame builders. Each writes into buf (size cap) and returns the bytes
 * written. Addresses in network order, other fields host order.
 */
size_t tb_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
	      uint16_t type);
/* An IPv4 header + payload with a correct checksum; frag_off as on the wire
 * (flags | offset/8). */
size_t tb_ipv4(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       uint16_t id, uint16_t frag_off, uint8_t ttl, const void *payload,
	       size_t len);
/* An ICMP echo request/reply (type 8 / 0) with checksum. */
size_t tb_icmp_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq,
		    const void *data, size_t len);
/* An Ethernet/IPv4 ARP packet. */
size_t tb_arp(uint8_t *buf, uint16_t op, const uint8_t *sha, uint32_t spa,
	      const uint8_t *tha, uint32_t tpa);

#endif
