/*
 * test_arp.c - ARP (RFC 826) and the neighbour cache, driven through the
 * test device: exact bytes of replies, requests and announcements; the
 * merge rule; resolution with queueing and in-order flush; retransmission
 * and failure in virtual time; queue and table bounds; REACHABLE -> STALE
 * -> removed timing; every malformed packet counted by its drop reason.
 *
 * The stack under test is 10.0.0.2/24 at TS_DEV_MAC; the peer is 10.0.0.1
 * at TS_PEER_MAC.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "lib/tcptest.h"
#include "lib/testnet.h"
#include "dev/loopback.h"
#include "net/arp.h"
#include "net/ether.h"
#include "net/tcp/tcp.h"
#include "ustack/ustack.h"
#include "stack/stack.h"

#define SEC US_USEC_PER_SEC

static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ZERO[6];
static const uint8_t OTHER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x77 };

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

/* ---- helpers ---------------------------------------------------------- */

static uint64_t drops(enum us_drop_reason r)
{
	return T.st->stats.drops[r];
}

static uint64_t mib(enum us_mib m)
{
	return T.st->stats.mib[m];
}

/* Inject an ARP packet in an Ethernet frame, padded to `pad_to` bytes. */
static void inject_arp_padded(const uint8_t *eth_dst, const uint8_t *eth_src,
			      uint16_t op, const uint8_t *sha, uint32_t spa,
			      const uint8_t *tha, uint32_t tpa, size_t pad_to)
{
	uint8_t f[64] = { 0 };
	size_t n = tb_eth(f, eth_dst, eth_src, ETH_P_ARP);

	n += tb_arp(f + n, op, sha, spa, tha, tpa);
	ts_inject(&T, f, n > pad_to ? n : pad_to);
}

static void inject_arp(const uint8_t *eth_dst, uint16_t op, const uint8_t *sha,
		       uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	inject_arp_padded(eth_dst, sha, op, sha, spa, tha, tpa, 0);
}

/* The peer asks who has 10.0.0.2: we learn it and reply (reply discarded). */
static void learn_peer(uint32_t ip, const uint8_t *mac)
{
	inject_arp(BCAST, ARPOP_REQUEST, mac, ip, ZERO, ME);
	assert_int_equal(ts_flush_tx(&T), 1);
}

/* An IPv4 packet to daddr whose IP id is `id`, with `payload` bytes. */
static struct sk_buff *ip_pkt(uint32_t daddr, uint16_t id, size_t payload)
{
	uint8_t buf[1600], data[1500];
	struct sk_buff *skb;
	size_t n;

	memset(data, (int)(id & 0xff), payload);
	n = tb_ipv4(buf, ME, daddr, 17, id, 0, 64, data, payload);
	skb = us_skb_alloc(T.st, (unsigned int)n);
	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, buf, (unsigned int)n), 0);
	return skb;
}

static int send_ip(uint32_t daddr, uint16_t id, size_t payload)
{
	return arp_output(T.st, T.dev, daddr, ip_pkt(daddr, id, payload));
}

/* Pop a frame and check it is an IPv4 packet with `id` sent to dst. */
static void expect_ip(const uint8_t *dst, uint16_t id)
{
	struct sk_buff *skb = ts_pop_tx(&T);
	const uint8_t *p;

	assert_non_null(skb);
	p = skb->data;
	assert_true(skb->len >= ETH_HLEN + 20);
	assert_memory_equal(p, dst, 6);
	assert_memory_equal(p + 6, TS_DEV_MAC, 6);
	assert_int_equal(p[12], 0x08);
	assert_int_equal(p[13], 0x00);
	assert_int_equal(p[14], 0x45);
	assert_int_equal(p[18] << 8 | p[19], id);
	skb_free(skb);
}

/* Pop a frame and compare all of it with the 42 bytes expected. */
static void expect_arp(const uint8_t *eth_dst, uint16_t op, const uint8_t *tha,
		       uint32_t spa, uint32_t tpa)
{
	uint8_t want[42];
	struct sk_buff *skb = ts_pop_tx(&T);
	size_t n;

	n = tb_eth(want, eth_dst, TS_DEV_MAC, ETH_P_ARP);
	n += tb_arp(want + n, op, TS_DEV_MAC, spa, tha, tpa);
	assert_non_null(skb);
	assert_int_equal(skb->len, n);
	assert_memory_equal(skb->data, want, n);
	skb_free(skb);
}

static void expect_no_tx(void)
{
	struct sk_buff *skb = ts_pop_tx(&T);

	if (skb) {
		skb_free(skb);
		fail_msg("unexpected frame transmitted");
	}
}

static void expect_mac(uint32_t ip, const uint8_t *mac)
{
	uint8_t got[6];

	assert_int_equal(arp_lookup(T.st, ip, got), 0);
	assert_memory_equal(got, mac, 6);
}

static void expect_unknown(uint32_t ip)
{
	uint8_t got[6];

	assert_int_equal(arp_lookup(T.st, ip, got), -ENOENT);
}

/* ---- defaults and wire format ----------------------------------------- */

static void test_defaults(void **state)
{
	const struct arp_table *a = &T.st->arp;

	(void)state;
	assert_int_equal(a->max_entries, 256);
	assert_int_equal(a->queue_max, 101);
	assert_int_equal(a->queue_max_bytes, 212992);
	assert_int_equal(a->max_probes, 3);
	assert_int_equal(a->retrans_us, 1 * SEC);
	assert_int_equal(a->reachable_us, 30 * SEC);
	assert_int_equal(a->gc_us, 60 * SEC);
	assert_int_equal(a->count, 0);
}

static void test_parse_emit_roundtrip(void **state)
{
	uint8_t raw[28], out[28];
	struct arp_pkt a;

	(void)state;
	tb_arp(raw, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	assert_int_equal(arp_parse(raw, sizeof(raw), &a), US_DROP_NOT_DROPPED);
	assert_int_equal(a.htype, 1);
	assert_int_equal(a.ptype, 0x0800);
	assert_int_equal(a.hlen, 6);
	assert_int_equal(a.plen, 4);
	assert_int_equal(a.op, ARPOP_REPLY);
	assert_memory_equal(a.sha, TS_PEER_MAC, 6);
	assert_memory_equal(a.tha, TS_DEV_MAC, 6);
	assert_int_equal(a.spa, PEER);
	assert_int_equal(a.tpa, ME);
	arp_emit(&a, out);
	assert_memory_equal(out, raw, 28);
	assert_int_equal(arp_parse(raw, 27, &a), US_DROP_ARP_TRUNCATED);
}

/* ---- receive: replies and the merge rule ------------------------------ */

static void test_reply_exact_bytes(void **state)
{
	(void)state;
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO, ME);
	/* RFC 826: to the requester, our addresses as sender, its as target. */
	expect_arp(TS_PEER_MAC, ARPOP_REPLY, TS_PEER_MAC, ME, PEER);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_IN_REQUESTS), 1);
	assert_int_equal(mib(US_MIB_ARP_OUT_REPLIES), 1);
	assert_int_equal(T.st->stats.drops_total, 0);
	/* We were the target: the sender was added. */
	expect_mac(PEER, TS_PEER_MAC);
}

static void test_padded_request_answered(void **state)
{
	(void)state;
	/* A frame padded to the Ethernet minimum, as a real NIC delivers it. */
	inject_arp_padded(TS_DEV_MAC, TS_PEER_MAC, ARPOP_REQUEST, TS_PEER_MAC,
			  PEER, ZERO, ME, ETH_ZLEN);
	expect_arp(TS_PEER_MAC, ARPOP_REPLY, TS_PEER_MAC, ME, PEER);
	expect_no_tx();
}

static void test_no_reply_for_other_target(void **state)
{
	(void)state;
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO,
		   ts_ip("10.0.0.3"));
	expect_no_tx();
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 1);
	assert_int_equal(mib(US_MIB_ARP_OUT_REPLIES), 0);
	/* Not the target, no entry: nothing learned (RFC 826 merge). */
	expect_unknown(PEER);
	assert_int_equal(T.st->arp.count, 0);
}

static void test_merge_updates_existing_entry(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	/* The peer, now at OTHER_MAC, asks for someone else: merge_flag. */
	inject_arp(BCAST, ARPOP_REQUEST, OTHER_MAC, PEER, ZERO,
		   ts_ip("10.0.0.3"));
	expect_no_tx();
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 1);
	expect_mac(PEER, OTHER_MAC);
	assert_int_equal(T.st->arp.count, 1);
}

static void test_learned_then_output_uses_mac(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	assert_int_equal(send_ip(PEER, 0x1234, 10), 0);
	expect_ip(TS_PEER_MAC, 0x1234);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 0);
	assert_int_equal(mib(US_MIB_ETH_OUT_FRAMES), 2); /* reply + packet */
}

static void test_unsolicited_reply(void **state)
{
	(void)state;
	/* A reply to us from a host we never asked: we are the target, add it. */
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_IN_REPLIES), 1);
	expect_mac(PEER, TS_PEER_MAC);
	/* A reply for another target adds nothing. */
	inject_arp(BCAST, ARPOP_REPLY, OTHER_MAC, ts_ip("10.0.0.7"), ZERO,
		   ts_ip("10.0.0.8"));
	expect_unknown(ts_ip("10.0.0.7"));
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 1);
}

static void test_probe_answered_not_learned(void **state)
{
	(void)state;
	/* RFC 5227 §2.1.1 probe for our address: sender IP 0. */
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, 0, ZERO, ME);
	expect_arp(TS_PEER_MAC, ARPOP_REPLY, TS_PEER_MAC, ME, 0);
	expect_no_tx();
	assert_int_equal(T.st->arp.count, 0);
	/* A probe for another address is not ours to answer. */
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, 0, ZERO, ts_ip("10.0.0.9"));
	expect_no_tx();
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 1);
}

/* ---- malformed and bad senders ---------------------------------------- */

/* Bytes of a request from the peer for us, then one field overwritten. */
static size_t bad_frame(uint8_t *f, size_t off, const void *val, size_t vlen)
{
	size_t n = tb_eth(f, BCAST, TS_PEER_MAC, ETH_P_ARP);

	n += tb_arp(f + n, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO, ME);
	memcpy(f + ETH_HLEN + off, val, vlen);
	return n;
}

static void inject_expect_drop(const uint8_t *f, size_t len,
			       enum us_drop_reason r, const char *what)
{
	uint64_t before = drops(r), total = T.st->stats.drops_total;

	ts_inject(&T, f, len);
	if (drops(r) != before + 1 || T.st->stats.drops_total != total + 1)
		fail_msg("%s: not dropped as %s", what, us_drop_reason_name(r));
	expect_no_tx();
}

static void test_malformed_counted(void **state)
{
	static const struct {
		size_t off;
		uint8_t val[2];
		size_t vlen;
		const char *what;
	} fmt[] = {
		{ 0, { 0x00, 0x06 }, 2, "htype 6 (IEEE 802)" },
		{ 2, { 0x86, 0xdd }, 2, "ptype IPv6" },
		{ 4, { 8 }, 1, "hlen 8" },
		{ 5, { 16 }, 1, "plen 16" },
		{ 6, { 0x00, 0x03 }, 2, "op 3 (RARP)" },
		{ 6, { 0x00, 0x00 }, 2, "op 0" },
	};
	uint8_t f[64];
	size_t n;

	(void)state;
	n = bad_frame(f, 0, "", 0);
	inject_expect_drop(f, n - 1, US_DROP_ARP_TRUNCATED, "27 bytes");
	inject_expect_drop(f, ETH_HLEN + 8, US_DROP_ARP_TRUNCATED, "8 bytes");
	for (size_t i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		n = bad_frame(f, fmt[i].off, fmt[i].val, fmt[i].vlen);
		inject_expect_drop(f, n, US_DROP_ARP_BAD_FORMAT, fmt[i].what);
	}
	assert_int_equal(drops(US_DROP_ARP_TRUNCATED), 2);
	assert_int_equal(drops(US_DROP_ARP_BAD_FORMAT), 6);
	assert_int_equal(T.st->arp.count, 0);
}

static void test_bad_sender_counted(void **state)
{
	static const uint8_t mcast_mac[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	struct {
		uint16_t op;
		const uint8_t *sha;
		uint32_t spa;
		const char *what;
	} c[] = {
		{ ARPOP_REQUEST, BCAST, PEER, "broadcast sha" },
		{ ARPOP_REQUEST, mcast_mac, PEER, "multicast sha" },
		{ ARPOP_REQUEST, ZERO, PEER, "zero sha" },
		{ ARPOP_REQUEST, TS_DEV_MAC, PEER, "our own sha" },
		{ ARPOP_REQUEST, TS_PEER_MAC, ts_ip("255.255.255.255"), "bcast" },
		{ ARPOP_REQUEST, TS_PEER_MAC, ts_ip("10.0.0.255"), "subnet bcast" },
		{ ARPOP_REQUEST, TS_PEER_MAC, ts_ip("224.0.0.1"), "mcast spa" },
		{ ARPOP_REQUEST, TS_PEER_MAC, ME, "our address, other MAC" },
		{ ARPOP_REPLY, TS_PEER_MAC, ME, "reply claiming our address" },
		{ ARPOP_REPLY, TS_PEER_MAC, 0, "reply from 0.0.0.0" },
	};
	uint8_t f[64];

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		/* Ethernet source stays valid: only the ARP sender is bad. */
		size_t n = tb_eth(f, BCAST, TS_PEER_MAC, ETH_P_ARP);

		n += tb_arp(f + n, c[i].op, c[i].sha, c[i].spa, ZERO, ME);
		inject_expect_drop(f, n, US_DROP_ARP_BAD_SENDER, c[i].what);
	}
	assert_int_equal(drops(US_DROP_ARP_BAD_SENDER), 10);
	assert_int_equal(T.st->arp.count, 0);
	assert_int_equal(mib(US_MIB_ARP_OUT_REPLIES), 0);
}

static void test_conflict_does_not_poison_entry(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	/* Someone claims the peer is at a broadcast MAC: refused, unchanged. */
	inject_arp_padded(BCAST, OTHER_MAC, ARPOP_REPLY, BCAST, PEER, ZERO, ME, 0);
	assert_int_equal(drops(US_DROP_ARP_BAD_SENDER), 1);
	expect_mac(PEER, TS_PEER_MAC);
}

/* ---- resolution ------------------------------------------------------- */

static void test_resolve_queue_flush_in_order(void **state)
{
	(void)state;
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	assert_int_equal(send_ip(PEER, 2, 20), 0);
	assert_int_equal(send_ip(PEER, 3, 30), 0);
	/* One broadcast request, target hardware address zero. */
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_QUEUED), 3);
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 1);
	expect_unknown(PEER);

	ts_advance(&T, SEC / 2);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	expect_ip(TS_PEER_MAC, 1);
	expect_ip(TS_PEER_MAC, 2);
	expect_ip(TS_PEER_MAC, 3);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_RESOLVED), 1);
	expect_mac(PEER, TS_PEER_MAC);

	/* The retransmit timer is gone: no more requests. */
	ts_advance(&T, 5 * SEC);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 1);
	assert_int_equal(T.st->stats.drops_total, 0);

	/* REACHABLE for 30 s from the reply: used without a poll ... */
	ts_advance(&T, 25 * SEC - 1);
	assert_int_equal(send_ip(PEER, 4, 10), 0);
	expect_ip(TS_PEER_MAC, 4);
	expect_no_tx();
	/* ... and STALE from then on: the next use polls. */
	ts_advance(&T, 1);
	assert_int_equal(send_ip(PEER, 5, 10), 0);
	expect_ip(TS_PEER_MAC, 5);
	expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER);
}

static void test_request_from_target_resolves(void **state)
{
	(void)state;
	assert_int_equal(send_ip(PEER, 7, 10), 0);
	assert_int_equal(ts_flush_tx(&T), 1);
	/* The peer asks for us before answering: the merge resolves it. */
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO, ME);
	expect_ip(TS_PEER_MAC, 7);
	expect_arp(TS_PEER_MAC, ARPOP_REPLY, TS_PEER_MAC, ME, PEER);
	expect_no_tx();
}

static void test_gratuitous_resolves_pending(void **state)
{
	(void)state;
	assert_int_equal(send_ip(PEER, 9, 10), 0);
	assert_int_equal(ts_flush_tx(&T), 1);
	/* An announcement is not for us, but it updates an existing entry. */
	inject_arp(BCAST, ARPOP_REQUEST, TS_PEER_MAC, PEER, ZERO, PEER);
	expect_ip(TS_PEER_MAC, 9);
	expect_no_tx();
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 1);
}

static void test_retries_then_failure(void **state)
{
	(void)state;
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	assert_int_equal(send_ip(PEER, 2, 10), 0);
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);

	ts_advance(&T, SEC - 1);
	expect_no_tx();
	ts_advance(&T, 1);                /* t = 1 s: second request */
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	ts_advance(&T, SEC - 1);
	expect_no_tx();
	ts_advance(&T, 1);                /* t = 2 s: third and last */
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 3);

	ts_advance(&T, SEC - 1);
	assert_int_equal(T.st->arp.count, 1);
	assert_int_equal(drops(US_DROP_ARP_RESOLVE_FAILED), 0);
	ts_advance(&T, 1);                /* t = 3 s: give up */
	expect_no_tx();
	assert_int_equal(drops(US_DROP_ARP_RESOLVE_FAILED), 2);
	assert_int_equal(T.st->stats.drops_total, 2);
	assert_int_equal(T.st->arp.count, 0);
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 3);

	/* The entry is gone: the next packet starts a new resolution. */
	assert_int_equal(send_ip(PEER, 3, 10), 0);
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	assert_int_equal(T.st->arp.count, 1);
	for (int i = 0; i < 10; i++)
		ts_advance(&T, SEC);
	assert_int_equal(ts_flush_tx(&T), 2);
	assert_int_equal(drops(US_DROP_ARP_RESOLVE_FAILED), 3);
}

/* A nonblocking connect() to the peer's port 80, whose SYN waits for ARP:
 * the request is out. */
static int connect_unresolved(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(80),
				   .sin_addr.s_addr = PEER };
	int fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(us_connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
			 -1);
	assert_int_equal(errno, EINPROGRESS);
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	return fd;
}

/*
 * A connect() to a neighbour that never answers ARP fails when the ARP
 * retries run out, with EHOSTUNREACH (Linux's arp_error_report sends the
 * sender "host unreachable"), not after all its SYN retransmissions.
 */
static void test_failure_reaches_the_socket(void **state)
{
	int err = 0;
	socklen_t len = sizeof(err);
	int fd;

	(void)state;
	assert_non_null(loopback_create(T.st));
	fd = connect_unresolved();
	for (int i = 0; i < 3; i++)
		ts_advance(&T, SEC);
	assert_int_equal(drops(US_DROP_ARP_RESOLVE_FAILED), 1);
	assert_int_equal(mib(US_MIB_ICMP_OUT_DEST_UNREACHS), 1);
	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	assert_int_equal(err, EHOSTUNREACH);
	assert_int_equal(us_close(fd), 0);
	ts_flush_tx(&T);
}

static void test_queue_bound_packets(void **state)
{
	(void)state;
	T.st->arp.queue_max = 3;
	for (uint16_t id = 1; id <= 5; id++)
		assert_int_equal(send_ip(PEER, id, 10), 0);
	/* The oldest go, the newest stay (RFC 1122 §2.3.2.2, Linux). */
	assert_int_equal(drops(US_DROP_ARP_QUEUE_FULL), 2);
	assert_int_equal(ts_flush_tx(&T), 1);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	expect_ip(TS_PEER_MAC, 3);
	expect_ip(TS_PEER_MAC, 4);
	expect_ip(TS_PEER_MAC, 5);
	expect_no_tx();
}

static void test_queue_bound_bytes(void **state)
{
	(void)state;
	T.st->arp.queue_max_bytes = 250;
	/* Each packet is 20 + 80 = 100 bytes: a third one exceeds 250. */
	assert_int_equal(send_ip(PEER, 1, 80), 0);
	assert_int_equal(send_ip(PEER, 2, 80), 0);
	assert_int_equal(drops(US_DROP_ARP_QUEUE_FULL), 0);
	assert_int_equal(send_ip(PEER, 3, 80), 0);
	assert_int_equal(drops(US_DROP_ARP_QUEUE_FULL), 1);
	/* One packet larger than the bound still displaces all and stays. */
	assert_int_equal(send_ip(PEER, 4, 400), 0);
	assert_int_equal(drops(US_DROP_ARP_QUEUE_FULL), 3);
	assert_int_equal(ts_flush_tx(&T), 1);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	expect_ip(TS_PEER_MAC, 4);
	expect_no_tx();
}

/* ---- table bound ------------------------------------------------------ */

static void test_table_full_evicts_oldest(void **state)
{
	uint32_t a = ts_ip("10.0.0.11"), b = ts_ip("10.0.0.12");
	uint32_t c = ts_ip("10.0.0.13");
	uint8_t mac_a[6] = { 2, 0, 0, 0, 0, 11 }, mac_b[6] = { 2, 0, 0, 0, 0, 12 };
	uint8_t mac_c[6] = { 2, 0, 0, 0, 0, 13 };

	(void)state;
	T.st->arp.max_entries = 2;
	learn_peer(a, mac_a);
	ts_advance(&T, SEC);
	learn_peer(b, mac_b);
	ts_advance(&T, SEC);
	/* a is confirmed again: b becomes the oldest. */
	learn_peer(a, mac_a);
	ts_advance(&T, SEC);
	learn_peer(c, mac_c);
	assert_int_equal(T.st->arp.count, 2);
	expect_mac(a, mac_a);
	expect_unknown(b);
	expect_mac(c, mac_c);
	assert_int_equal(drops(US_DROP_ARP_TABLE_FULL), 0);
}

static void test_table_full_of_incomplete(void **state)
{
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 14 };

	(void)state;
	T.st->arp.max_entries = 2;
	assert_int_equal(send_ip(ts_ip("10.0.0.11"), 1, 10), 0);
	assert_int_equal(send_ip(ts_ip("10.0.0.12"), 2, 10), 0);
	assert_int_equal(ts_flush_tx(&T), 2);
	/* Resolving entries are never evicted. */
	assert_int_equal(send_ip(ts_ip("10.0.0.13"), 3, 10), -ENOBUFS);
	assert_int_equal(drops(US_DROP_ARP_TABLE_FULL), 1);
	expect_no_tx();
	assert_int_equal(T.st->arp.count, 2);
	/* A request for us is still answered, just not learned. */
	inject_arp(BCAST, ARPOP_REQUEST, mac, ts_ip("10.0.0.14"), ZERO, ME);
	expect_arp(mac, ARPOP_REPLY, mac, ME, ts_ip("10.0.0.14"));
	expect_unknown(ts_ip("10.0.0.14"));
	assert_int_equal(T.st->arp.count, 2);
}

/* ---- ageing ----------------------------------------------------------- */

static void test_stale_poll_and_gc(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);              /* t = 0 */
	ts_advance(&T, 30 * SEC - 1);
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	expect_ip(TS_PEER_MAC, 1);                  /* still REACHABLE */
	expect_no_tx();

	ts_advance(&T, 1);                          /* t = 30 s: STALE */
	assert_int_equal(send_ip(PEER, 2, 10), 0);
	expect_ip(TS_PEER_MAC, 2);                  /* still used ... */
	expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER); /* ... polled */
	expect_no_tx();

	ts_advance(&T, SEC / 2);                    /* 30.5 s: no second poll */
	assert_int_equal(send_ip(PEER, 3, 10), 0);
	expect_ip(TS_PEER_MAC, 3);
	expect_no_tx();

	ts_advance(&T, SEC / 2);                    /* 31 s: poll again */
	assert_int_equal(send_ip(PEER, 4, 10), 0);
	expect_ip(TS_PEER_MAC, 4);
	expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER);
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 2);

	/* Last use at 31 s: removed at 91 s, not before. */
	ts_advance(&T, 60 * SEC - 1);
	expect_mac(PEER, TS_PEER_MAC);
	ts_advance(&T, 1);
	expect_unknown(PEER);
	assert_int_equal(T.st->arp.count, 0);
	expect_no_tx();
}

/*
 * A STALE neighbour that answers none of max_probes polls (one a second)
 * has moved or gone: the next packet is held and the address asked for
 * by broadcast, as for a new neighbour (RFC 1122 §2.3.2.1; Linux's PROBE
 * -> FAILED); whoever answers gets it.
 */
static void test_stale_unanswered_polls_resolve_again(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);              /* t = 0 */
	ts_advance(&T, 30 * SEC);                   /* STALE */
	for (uint16_t id = 1; id <= 3; id++) {
		assert_int_equal(send_ip(PEER, id, 10), 0);
		expect_ip(TS_PEER_MAC, id);
		expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER);
		expect_no_tx();
		ts_advance(&T, SEC / 2);
		/* Between polls: still sent, not polled. */
		assert_int_equal(send_ip(PEER, 10 + id, 10), 0);
		expect_ip(TS_PEER_MAC, 10 + id);
		expect_no_tx();
		ts_advance(&T, SEC / 2);
	}
	/* Three polls unanswered: held, and asked for by broadcast. */
	assert_int_equal(send_ip(PEER, 20, 10), 0);
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_STALE_FAILED), 1);
	/* The address answers from a new MAC: the packet goes there. */
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, OTHER_MAC, PEER, TS_DEV_MAC, ME);
	expect_ip(OTHER_MAC, 20);
	expect_no_tx();
	expect_mac(PEER, OTHER_MAC);
}

static void test_stale_confirmed_by_reply(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	ts_advance(&T, 30 * SEC);
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	expect_ip(TS_PEER_MAC, 1);
	expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	/* REACHABLE again for 30 s: no poll on use. */
	ts_advance(&T, 30 * SEC - 1);
	assert_int_equal(send_ip(PEER, 2, 10), 0);
	expect_ip(TS_PEER_MAC, 2);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 1);
	ts_advance(&T, 1);
	assert_int_equal(send_ip(PEER, 3, 10), 0);
	expect_ip(TS_PEER_MAC, 3);
	expect_arp(TS_PEER_MAC, ARPOP_REQUEST, ZERO, ME, PEER);
}

static void test_unused_entry_removed(void **state)
{
	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	ts_advance(&T, 60 * SEC - 1);
	expect_mac(PEER, TS_PEER_MAC);
	ts_advance(&T, 1);
	expect_unknown(PEER);
	assert_int_equal(T.st->arp.count, 0);
	expect_no_tx();
	/* Gone: a packet now needs a new request. */
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
}

/* ---- output without resolution ---------------------------------------- */

static void test_output_broadcast_multicast(void **state)
{
	static const uint8_t m1[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };

	(void)state;
	assert_int_equal(send_ip(ts_ip("255.255.255.255"), 1, 10), 0);
	expect_ip(BCAST, 1);
	assert_int_equal(send_ip(ts_ip("10.0.0.255"), 2, 10), 0);
	expect_ip(BCAST, 2);
	assert_int_equal(send_ip(ts_ip("224.1.2.3"), 3, 10), 0);
	expect_ip(m1, 3);
	/* Only the low 23 bits map: 239.129.2.3 shares 224.1.2.3's MAC. */
	assert_int_equal(send_ip(ts_ip("239.129.2.3"), 4, 10), 0);
	expect_ip(m1, 4);
	expect_no_tx();
	assert_int_equal(T.st->arp.count, 0);
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 0);
}

struct cap_priv {
	struct sk_buff_head txq;
};

static int cap_xmit(struct net_device *dev, struct sk_buff *skb)
{
	skb_queue_tail(&((struct cap_priv *)netdev_priv(dev))->txq, skb);
	return 0;
}

static void cap_destroy(struct net_device *dev)
{
	skb_queue_purge(&((struct cap_priv *)netdev_priv(dev))->txq);
}

static const struct net_device_ops cap_ops = {
	.xmit = cap_xmit,
	.destroy = cap_destroy,
};

static void test_noarp_device_zero_macs(void **state)
{
	struct net_device *lo = netdev_alloc("lo", sizeof(struct cap_priv),
					     &cap_ops);
	struct cap_priv *p;
	struct sk_buff *skb;

	(void)state;
	assert_non_null(lo);
	p = netdev_priv(lo);
	skb_queue_head_init(&p->txq);
	lo->type = US_ARPHRD_LOOPBACK;
	lo->flags = US_IFF_UP | US_IFF_LOOPBACK | US_IFF_NOARP;
	assert_int_equal(netdev_register(T.st, lo), 0);
	lo->ip_addr = ts_ip("127.0.0.1");

	assert_int_equal(arp_output(T.st, lo, ts_ip("127.0.0.1"),
				    ip_pkt(ts_ip("127.0.0.1"), 5, 10)), 0);
	skb = skb_dequeue(&p->txq);
	assert_non_null(skb);
	assert_int_equal(skb->len, ETH_HLEN + 30);
	assert_memory_equal(skb->data, ZERO, 6);
	assert_memory_equal(skb->data + 6, ZERO, 6);
	assert_int_equal(skb->data[12] << 8 | skb->data[13], ETH_P_IP);
	skb_free(skb);
	assert_true(skb_queue_empty(&p->txq));
	assert_int_equal(T.st->arp.count, 0);
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 0);
	/* Gratuitous ARP on a device without ARP sends nothing. */
	assert_int_equal(arp_send_gratuitous(lo), 0);
	assert_true(skb_queue_empty(&p->txq));
	expect_no_tx();
}

static void test_l3_device_no_header(void **state)
{
	struct test_stack l3;
	struct sk_buff *skb, *in;
	uint32_t dst;

	(void)state;
	ts_init_l3(&l3, "10.9.0.2", 24);
	dst = ts_ip("10.9.0.1");
	in = us_skb_alloc(l3.st, 20);
	assert_non_null(in);
	tb_ipv4(skb_put(in, 20), ts_ip("10.9.0.2"), dst, 17, 42, 0, 64, NULL, 0);
	assert_int_equal(arp_output(l3.st, l3.dev, dst, in), 0);
	skb = ts_pop_tx(&l3);
	assert_non_null(skb);
	assert_int_equal(skb->len, 20);
	assert_int_equal(skb->data[0], 0x45);
	skb_free(skb);
	assert_int_equal(l3.st->arp.count, 0);
	ts_destroy(&l3);
}

/* ---- announcements and teardown --------------------------------------- */

static void test_gratuitous_bytes(void **state)
{
	static const uint8_t want[42] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,         /* broadcast */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,         /* TS_DEV_MAC */
		0x08, 0x06,                                 /* ARP */
		0x00, 0x01, 0x08, 0x00, 0x06, 0x04,         /* Ethernet/IPv4 */
		0x00, 0x01,                                 /* request */
		0x02, 0x00, 0x00, 0x00, 0x00, 0x02,         /* sha */
		10, 0, 0, 2,                                /* spa */
		0, 0, 0, 0, 0, 0,                           /* tha zero */
		10, 0, 0, 2,                                /* tpa == spa */
	};
	struct sk_buff *skb;

	(void)state;
	assert_int_equal(arp_send_gratuitous(T.dev), 0);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb->len, sizeof(want));
	assert_memory_equal(skb->data, want, sizeof(want));
	skb_free(skb);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_GRATUITOUS), 1);
	assert_int_equal(T.st->arp.count, 0);
}

static void test_gratuitous_from_peer(void **state)
{
	uint32_t stranger = ts_ip("10.0.0.50");

	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	/* The peer moved to OTHER_MAC and announces it: updated. */
	inject_arp(BCAST, ARPOP_REQUEST, OTHER_MAC, PEER, ZERO, PEER);
	expect_no_tx();
	expect_mac(PEER, OTHER_MAC);
	/* An announcement from a host we do not know creates nothing. */
	inject_arp(BCAST, ARPOP_REQUEST, OTHER_MAC, stranger, ZERO, stranger);
	expect_unknown(stranger);
	assert_int_equal(drops(US_DROP_ARP_NOT_FOR_US), 2);
}

static void test_flush_dev(void **state)
{
	(void)state;
	learn_peer(ts_ip("10.0.0.5"), OTHER_MAC);
	assert_int_equal(send_ip(PEER, 1, 10), 0);
	assert_int_equal(send_ip(PEER, 2, 10), 0);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_int_equal(T.st->arp.count, 2);

	arp_flush_dev(T.st, T.dev);
	assert_int_equal(T.st->arp.count, 0);
	assert_int_equal(drops(US_DROP_DEV_DOWN), 2);
	/* Their timers went with them: nothing fires (ASan would catch it). */
	ts_advance(&T, 100 * SEC);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_ARP_OUT_REQUESTS), 1);
}

/* Pop a TCP segment to the peer (tt_pop) and check its flags. */
static const struct tt_seg *expect_tcp(uint8_t flags)
{
	static struct tt_seg seg;

	assert_true(tt_pop(&T, &seg));
	assert_int_equal(seg.th.flags, flags);
	return &seg;
}

/*
 * A SYN that waits for ARP is not sent again by its RTO (Linux's
 * skb_still_in_host_queue): the timer finds it queued and backs off
 * (2 s), as Linux does; when the reply comes, one SYN goes, not the
 * original and a copy (seen against the kernel: a TAP's first reply lost
 * while the link came up cost a second SYN, and a second RST from the
 * kernel); the backed-off timer then retransmits it, as it would any.
 */
static void test_tcp_rto_leaves_queued_syn(void **state)
{
	int fd;

	(void)state;
	fd = connect_unresolved();
	expect_no_tx();

	ts_advance(&T, SEC);        /* the SYN's RTO, ARP's second request */
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES), 1);
	ts_advance(&T, SEC / 2);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	expect_tcp(TCPHDR_SYN);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_TCP_RETRANS_SEGS), 0);
	assert_int_equal(mib(US_MIB_ARP_QUEUED), 1);

	/* Backed off: the next timeout is 2 s after the first, at 3 s. */
	ts_advance(&T, 3 * SEC / 2 - 1);
	expect_no_tx();
	ts_advance(&T, 1);
	expect_tcp(TCPHDR_SYN);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES), 1);
	assert_int_equal(mib(US_MIB_TCP_RETRANS_SEGS), 1);
	assert_int_equal(us_close(fd), 0);
}

/*
 * The same for any retransmission: an established connection whose
 * neighbour entry was removed (60 s unused) sends two segments, which
 * wait for ARP; the tail loss probe (RFC 8985, 2 RTT later) finds the
 * last one's copy queued and sends nothing (it would retransmit it), so
 * the reply releases the two segments once each.
 */
static void test_tcp_probe_leaves_queued_data(void **state)
{
	/* MSS 1000, SACK permitted (the probe needs SACK, as Linux's). */
	static const uint8_t opt[8] = { 2, 4, 1000 >> 8, 1000 & 0xff,
					1, 1, 4, 2 };
	static const uint8_t data[2000];
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(80) };
	struct tt_out o = { .saddr = PEER, .daddr = ME, .sport = 80,
			    .flags = TCPHDR_SYN | TCPHDR_ACK, .seq = 5000,
			    .win = 65535, .opt = opt, .optlen = sizeof(opt) };
	const struct tt_seg *s;
	uint32_t iss;
	int fd;

	(void)state;
	learn_peer(PEER, TS_PEER_MAC);
	sin.sin_addr.s_addr = PEER;
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(us_connect(fd, (struct sockaddr *)&sin, sizeof(sin)),
			 -1);
	s = expect_tcp(TCPHDR_SYN);
	iss = s->th.seq;
	o.dport = s->th.sport;
	o.ack = iss + 1;
	ts_advance(&T, 10 * 1000);                 /* RTT 10 ms */
	tt_inject(&T, &o);
	expect_tcp(TCPHDR_ACK);

	ts_advance(&T, 61 * SEC);                  /* the entry goes */
	expect_unknown(PEER);
	expect_no_tx();
	assert_int_equal(us_send(fd, data, sizeof(data), 0),
			 (ssize_t)sizeof(data));
	expect_arp(BCAST, ARPOP_REQUEST, ZERO, ME, PEER);
	expect_no_tx();
	ts_advance(&T, SEC / 2);    /* the probe is due 20 ms after */
	expect_no_tx();
	assert_true(mib(US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES) >= 1);
	assert_int_equal(mib(US_MIB_TCP_LOSS_PROBES), 0);
	inject_arp(TS_DEV_MAC, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	s = expect_tcp(TCPHDR_ACK);
	assert_int_equal(s->th.seq, iss + 1);
	assert_int_equal(s->len, 1000);
	s = expect_tcp(TCPHDR_ACK | TCPHDR_PSH);    /* the write's end */
	assert_int_equal(s->th.seq, iss + 1001);
	assert_int_equal(s->len, 1000);
	expect_no_tx();
	assert_int_equal(mib(US_MIB_TCP_RETRANS_SEGS), 0);
	assert_int_equal(mib(US_MIB_ARP_QUEUED), 2);
	assert_int_equal(us_close(fd), 0);
	ts_flush_tx(&T);
}

static void test_destroy_with_pending(void **state)
{
	struct test_stack t2;

	(void)state;
	ts_init(&t2, "10.0.0.2", 24);
	/* Teardown with queued packets and timers must leak nothing. */
	assert_int_equal(arp_output(t2.st, t2.dev, PEER, ip_pkt(PEER, 1, 10)), 0);
	assert_int_equal(arp_output(t2.st, t2.dev, ts_ip("10.0.0.9"),
				    ip_pkt(ts_ip("10.0.0.9"), 2, 10)), 0);
	assert_int_equal(t2.st->arp.count, 2);
	ts_destroy(&t2);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_defaults),
		T_(test_parse_emit_roundtrip),
		T_(test_reply_exact_bytes),
		T_(test_padded_request_answered),
		T_(test_no_reply_for_other_target),
		T_(test_merge_updates_existing_entry),
		T_(test_learned_then_output_uses_mac),
		T_(test_unsolicited_reply),
		T_(test_probe_answered_not_learned),
		T_(test_malformed_counted),
		T_(test_bad_sender_counted),
		T_(test_conflict_does_not_poison_entry),
		T_(test_resolve_queue_flush_in_order),
		T_(test_request_from_target_resolves),
		T_(test_gratuitous_resolves_pending),
		T_(test_retries_then_failure),
		T_(test_failure_reaches_the_socket),
		T_(test_queue_bound_packets),
		T_(test_queue_bound_bytes),
		T_(test_table_full_evicts_oldest),
		T_(test_table_full_of_incomplete),
		T_(test_stale_poll_and_gc),
		T_(test_stale_unanswered_polls_resolve_again),
		T_(test_stale_confirmed_by_reply),
		T_(test_unused_entry_removed),
		T_(test_output_broadcast_multicast),
		T_(test_noarp_device_zero_macs),
		T_(test_l3_device_no_header),
		T_(test_gratuitous_bytes),
		T_(test_gratuitous_from_peer),
		T_(test_flush_dev),
		T_(test_tcp_rto_leaves_queued_syn),
		T_(test_tcp_probe_leaves_queued_data),
		T_(test_destroy_with_pending),
	};
#undef T_

	return cmocka_run_group_tests_name("arp", tests, NULL, NULL);
}
