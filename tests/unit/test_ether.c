/*
 * test_ether.c - Ethernet II framing: parse/emit, the receive path's
 * checks (short frames, other hosts' frames, group source addresses,
 * unknown ethertypes, each counted by its drop reason), pkt_type
 * classification and dispatch to ARP/IPv4, and eth_header_push.
 *
 * Frames are handed to the stack through the test device. To see what
 * eth_rcv did to an skb, a test keeps one extra reference to it
 * (inject_held), so the struct outlives the layers that consume it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "lib/testnet.h"
#include "net/arp.h"
#include "net/ether.h"
#include "stack/stack.h"

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO[6];
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t STRANGER[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };

static struct test_stack T;
static uint32_t ME, PEER;

static int setup(void **state)
{
	(void)state;
	ts_init(&T, "10.0.0.2", 24);
	ME = ts_ip("10.0.0.2");
	PEER = ts_ip("10.0.0.1");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_destroy(&T);
	return 0;
}

static uint64_t drops(enum us_drop_reason r)
{
	return T.st->stats.drops[r];
}

/* An ARP request from the peer for us, inside an Ethernet frame. */
static size_t arp_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src)
{
	size_t n = tb_eth(f, dst, src, ETH_P_ARP);

	return n + tb_arp(f + n, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO, ME);
}

/* Like ts_inject, but returns the skb with a reference still held. */
static struct sk_buff *inject_held(const void *frame, size_t len)
{
	struct sk_buff *skb = skb_alloc_reserved(&T.st->skb_pool, 64,
						 (unsigned int)len);

	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, frame, (unsigned int)len), 0);
	skb->dev = T.dev;
	skb_get(skb);
	us_engine_begin(T.st);
	netif_receive_skb(skb);
	us_engine_run_until_idle(T.st);
	return skb;
}

/* Did the stack answer the ARP request? Consumes what it sent. */
static bool replied(void)
{
	struct sk_buff *skb = ts_pop_tx(&T);
	bool ok = skb && skb->len == 42 && skb->data[21] == ARPOP_REPLY;

	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	return ok;
}

static void test_parse_emit(void **state)
{
	uint8_t f[ETH_HLEN], out[ETH_HLEN];
	struct eth_info h;

	(void)state;
	tb_eth(f, TS_DEV_MAC, TS_PEER_MAC, 0x86dd);
	assert_int_equal(eth_parse(f, sizeof(f), &h), US_DROP_NOT_DROPPED);
	assert_memory_equal(h.dst, TS_DEV_MAC, 6);
	assert_memory_equal(h.src, TS_PEER_MAC, 6);
	assert_int_equal(h.type, 0x86dd);
	eth_emit(&h, out);
	assert_memory_equal(out, f, ETH_HLEN);
	assert_int_equal(eth_parse(f, ETH_HLEN - 1, &h), US_DROP_ETH_TOO_SHORT);
	assert_int_equal(eth_parse(f, 0, &h), US_DROP_ETH_TOO_SHORT);
}

static void test_short_frames(void **state)
{
	uint8_t f[64];

	(void)state;
	arp_frame(f, BCAST, TS_PEER_MAC);
	ts_inject(&T, f, 0);
	ts_inject(&T, f, 1);
	ts_inject(&T, f, ETH_HLEN - 1);
	assert_int_equal(drops(US_DROP_ETH_TOO_SHORT), 3);
	assert_int_equal(T.st->stats.mib[US_MIB_ETH_IN_FRAMES], 3);
	/* A bare header is a valid frame: ARP then finds nothing to read. */
	ts_inject(&T, f, ETH_HLEN);
	assert_int_equal(drops(US_DROP_ETH_TOO_SHORT), 3);
	assert_int_equal(drops(US_DROP_ARP_TRUNCATED), 1);
	assert_int_equal(T.st->stats.drops_total, 4);
	assert_null(ts_pop_tx(&T));
}

static void test_unknown_ethertypes(void **state)
{
	static const uint16_t types[] = {
		ETH_P_IPV6, ETH_P_8021Q, 0x88cc /* LLDP */,
		0x0040 /* an 802.3 length, not a type */,
	};
	uint8_t f[64] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tb_eth(f, TS_DEV_MAC, TS_PEER_MAC, types[i]);
		ts_inject(&T, f, sizeof(f));
	}
	assert_int_equal(drops(US_DROP_ETH_UNKNOWN_TYPE), 4);
	assert_int_equal(T.st->stats.drops_total, 4);
	assert_null(ts_pop_tx(&T));
}

static void test_otherhost_dropped(void **state)
{
	uint8_t f[64];
	size_t n = arp_frame(f, STRANGER, TS_PEER_MAC);
	struct sk_buff *skb;

	(void)state;
	/* Even an ARP request for our address, if the frame is not for us. */
	skb = inject_held(f, n);
	assert_int_equal(skb->pkt_type, PKT_OTHERHOST);
	skb_free(skb);
	assert_int_equal(drops(US_DROP_ETH_OTHERHOST), 1);
	assert_int_equal(T.st->stats.mib[US_MIB_ARP_IN_REQUESTS], 0);
	assert_null(ts_pop_tx(&T));
}

static void test_bad_source(void **state)
{
	uint8_t f[64];

	(void)state;
	ts_inject(&T, f, arp_frame(f, BCAST, BCAST));
	ts_inject(&T, f, arp_frame(f, TS_DEV_MAC, MCAST));
	assert_int_equal(drops(US_DROP_ETH_BAD_SRC), 2);
	assert_int_equal(T.st->stats.mib[US_MIB_ARP_IN_REQUESTS], 0);
	assert_null(ts_pop_tx(&T));
}

/* Send an ARP request to dst and check how eth_rcv classified it. */
static void check_class(const uint8_t *dst, uint8_t pkt_type)
{
	uint8_t f[64];
	size_t n = arp_frame(f, dst, TS_PEER_MAC);
	struct sk_buff *skb = inject_held(f, n);

	assert_int_equal(skb->pkt_type, pkt_type);
	assert_int_equal(skb->protocol, ETH_P_ARP);
	/* The mac header is where the frame began; data is past it. */
	assert_int_equal(skb->mac_header, 64);
	assert_ptr_equal(skb->data, skb_mac_header(skb) + ETH_HLEN);
	skb_free(skb);
	/* Unpadded (42-byte) frames are fine: ARP answered. */
	assert_true(replied());
}

static void test_classification(void **state)
{
	(void)state;
	check_class(TS_DEV_MAC, PKT_HOST);
	check_class(BCAST, PKT_BROADCAST);
	check_class(MCAST, PKT_MULTICAST);
	assert_int_equal(T.st->stats.drops_total, 0);
	assert_int_equal(T.st->stats.mib[US_MIB_ETH_IN_FRAMES], 3);
}

static void test_ipv4_dispatch(void **state)
{
	uint8_t f[128], icmp[64];
	size_t n = tb_eth(f, TS_DEV_MAC, TS_PEER_MAC, ETH_P_IP);
	struct sk_buff *skb;
	size_t ilen = tb_icmp_echo(icmp, 8, 1, 1, "ping", 4);

	(void)state;
	n += tb_ipv4(f + n, PEER, ME, 1, 1, 0, 64, icmp, ilen);
	skb = inject_held(f, n);
	/* Only the IPv4 branch sets the network header, right after ours. */
	assert_int_equal(skb->protocol, ETH_P_IP);
	assert_int_equal(skb->pkt_type, PKT_HOST);
	assert_int_equal(skb->mac_header, 64);
	assert_int_equal(skb->network_header, 64 + ETH_HLEN);
	skb_free(skb);
	for (int r = US_DROP_ETH_TOO_SHORT; r <= US_DROP_ETH_BAD_SRC; r++)
		assert_int_equal(drops((enum us_drop_reason)r), 0);
	ts_flush_tx(&T);
}

static void test_header_push(void **state)
{
	static const uint8_t want[ETH_HLEN] = {
		0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
		0x08, 0x00,
	};
	struct sk_buff *skb = us_skb_alloc(T.st, 20);
	struct sk_buff *tight;

	(void)state;
	assert_non_null(skb);
	assert_non_null(skb_put(skb, 20));
	skb->dev = T.dev;
	assert_int_equal(eth_header_push(skb, TS_PEER_MAC, ETH_P_IP), 0);
	assert_int_equal(skb->len, 34);
	assert_memory_equal(skb->data, want, ETH_HLEN);
	assert_ptr_equal(skb_mac_header(skb), skb->data);
	assert_int_equal(skb->protocol, ETH_P_IP);
	assert_int_equal(T.st->stats.mib[US_MIB_ETH_OUT_FRAMES], 1);
	skb_free(skb);

	/* 13 bytes of headroom: refused, skb untouched. */
	tight = skb_alloc_reserved(&T.st->skb_pool, ETH_HLEN - 1, 20);
	assert_non_null(tight);
	assert_non_null(skb_put(tight, 20));
	tight->dev = T.dev;
	assert_int_equal(eth_header_push(tight, TS_PEER_MAC, ETH_P_IP), -ENOSPC);
	assert_int_equal(tight->len, 20);
	assert_int_equal(T.st->stats.mib[US_MIB_ETH_OUT_FRAMES], 1);
	skb_free(tight);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_parse_emit),
		T_(test_short_frames),
		T_(test_unknown_ethertypes),
		T_(test_otherhost_dropped),
		T_(test_bad_source),
		T_(test_classification),
		T_(test_ipv4_dispatch),
		T_(test_header_push),
	};
#undef T_

	return cmocka_run_group_tests_name("ether", tests, NULL, NULL);
}
