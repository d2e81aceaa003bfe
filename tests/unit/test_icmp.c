/*
 * test_icmp.c - ICMP (RFC 792, RFC 1122 §3.2.2): echo replies byte for
 * byte, from the address the request was sent to; broadcast echoes
 * ignored; malformed messages dropped by reason; echo replies handed to the
 * callback; errors parsed and dispatched to the err_handler of the
 * protocol in the quoted header, malformed quotes refused; the "never
 * about" rules of icmp_send; the per-destination and global rate limits
 * in virtual time; the Ethernet path with ARP resolved first; and ping
 * sockets (ping.c): echo replies by identifier, ICMP errors about their
 * requests on the error queue (IP_RECVERR) or, when hard, as the
 * connected socket's error.
 *
 * The stack under test is 10.0.0.2/24; the peer is 10.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <string.h>

#include "dev/loopback.h"
#include "lib/iptest.h"
#include "ustack/ustack.h"
#include "net/arp.h"
#include "net/ether.h"

static struct test_stack T;
static struct ipt_record *R;
static uint32_t ME, PEER;

static int setup_common(bool l3)
{
	if (l3)
		ts_init_l3(&T, "10.0.0.2", 24);
	else
		ts_init(&T, "10.0.0.2", 24);
	ME = ts_ip("10.0.0.2");
	PEER = ts_ip("10.0.0.1");
	R = ipt_register(&T);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_common(true);
}

static int setup_eth(void **state)
{
	(void)state;
	return setup_common(false);
}

static int teardown(void **state)
{
	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	ipt_unregister();
	return 0;
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Inject an ICMP message from saddr to daddr. */
static void inject_icmp(uint32_t saddr, uint32_t daddr, const uint8_t *msg,
			size_t len)
{
	ipt_inject(&T, saddr, daddr, IPPROTO_ICMP_, 0x77, 0, msg, len);
}

/* Pop an IPv4 packet carrying ICMP; returns the ICMP bytes' offset. */
static struct sk_buff *pop_icmp(struct ipv4_info *h)
{
	struct sk_buff *skb = ipt_pop(&T, h);

	assert_int_equal(h->protocol, IPPROTO_ICMP_);
	assert_int_equal(inet_csum(skb->data + 20, skb->len - 20), 0);
	return skb;
}

/* RFC 1122 §3.2.2.6: same id, sequence and data, checksums valid. */
static void test_echo_reply_exact(void **state)
{
	uint8_t data[56], req[64], want[64];
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	fill(data, sizeof(data), 3);
	tb_icmp_echo(req, ICMP_ECHO, 0x1234, 7, data, sizeof(data));
	inject_icmp(PEER, ME, req, sizeof(req));
	skb = pop_icmp(&h);
	assert_int_equal(h.saddr, ME);
	assert_int_equal(h.daddr, PEER);
	assert_int_equal(h.ttl, 64);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.tot_len, 20 + 64);
	tb_icmp_echo(want, ICMP_ECHOREPLY, 0x1234, 7, data, sizeof(data));
	assert_int_equal(skb->len, 84);
	assert_memory_equal(skb->data + 20, want, 64);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_MSGS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_ECHOS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_ECHO_REPS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_MSGS), 1);
	assert_int_equal(T.st->stats.drops_total, 0);
}

static int null_xmit(struct net_device *dev, struct sk_buff *skb)
{
	(void)dev;
	skb_free(skb);
	return 0;
}

static const struct net_device_ops null_ops = { .xmit = null_xmit };

/* A request to our second address, arriving on test0, is answered from
 * that address (weak host model, as Linux). */
static void test_echo_reply_source_is_destination(void **state)
{
	struct net_device *d2 = netdev_alloc("test1", 0, &null_ops);
	uint8_t req[16];
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	assert_non_null(d2);
	d2->type = US_ARPHRD_NONE;
	d2->hard_header_len = 0;
	d2->flags = US_IFF_UP | US_IFF_NOARP;
	assert_int_equal(netdev_register(T.st, d2), 0);
	assert_int_equal(netdev_set_ipv4(d2, ts_ip("10.1.0.2"), 24), 0);
	tb_icmp_echo(req, ICMP_ECHO, 1, 2, "abcdefgh", 8);
	inject_icmp(PEER, ts_ip("10.1.0.2"), req, sizeof(req));
	skb = pop_icmp(&h);
	assert_int_equal(h.saddr, ts_ip("10.1.0.2"));
	assert_int_equal(h.daddr, PEER);
	skb_free(skb);
}

/* Linux's icmp_echo_ignore_broadcasts=1; other ICMP to a broadcast is
 * dropped too. */
static void test_broadcast_ignored(void **state)
{
	uint8_t req[16], err[64], quote[28];

	(void)state;
	tb_icmp_echo(req, ICMP_ECHO, 1, 1, "abcdefgh", 8);
	inject_icmp(PEER, ts_ip("10.0.0.255"), req, sizeof(req));
	inject_icmp(PEER, ts_ip("255.255.255.255"), req, sizeof(req));
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BROADCAST_ECHO), 2);
	tb_ipv4(quote, ME, PEER, IPT_PROTO, 1, 0, 64, "ABCDEFGH", 8);
	ipt_icmp(err, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, quote, 28);
	inject_icmp(PEER, ts_ip("10.0.0.255"), err, 36);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BROADCAST), 1);
	assert_int_equal(R->errors, 0);
	assert_null(ts_pop_tx(&T));
}

static void test_malformed(void **state)
{
	uint8_t msg[32];

	(void)state;
	tb_icmp_echo(msg, ICMP_ECHO, 1, 1, "abcdefgh", 8);
	inject_icmp(PEER, ME, msg, 4);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_TRUNCATED), 1);
	msg[12] ^= 0xff;   /* data changed after the sum was taken */
	inject_icmp(PEER, ME, msg, 16);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BAD_CSUM), 1);
	ipt_icmp(msg, 42, 0, 0, "x", 1);
	inject_icmp(PEER, ME, msg, 9);
	ipt_icmp(msg, ICMP_REDIRECT, 1, PEER, "x", 1);
	inject_icmp(PEER, ME, msg, 9);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_UNKNOWN_TYPE), 2);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_MSGS), 4);
	assert_int_equal(T.st->stats.drops_total, 4);
	assert_null(ts_pop_tx(&T));
}

struct ping_seen {
	int n;
	uint32_t from;
	uint16_t id, seq;
	uint8_t data[64];
	size_t len;
};

static void on_reply(void *arg, uint32_t from, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len)
{
	struct ping_seen *p = arg;

	p->n++;
	p->from = from;
	p->id = id;
	p->seq = seq;
	p->len = len;
	memcpy(p->data, data, len < sizeof(p->data) ? len : sizeof(p->data));
}

static void test_echo_reply_callback(void **state)
{
	struct ping_seen seen = { 0 };
	uint8_t msg[32];

	(void)state;
	tb_icmp_echo(msg, ICMP_ECHOREPLY, 0xbeef, 3, "pong1234", 8);
	inject_icmp(PEER, ME, msg, 16);     /* no callback: counted only */
	T.st->icmp.echo_reply_cb = on_reply;
	T.st->icmp.echo_reply_arg = &seen;
	inject_icmp(PEER, ME, msg, 16);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.from, PEER);
	assert_int_equal(seen.id, 0xbeef);
	assert_int_equal(seen.seq, 3);
	assert_int_equal(seen.len, 8);
	assert_memory_equal(seen.data, "pong1234", 8);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_ECHO_REPS), 2);
	assert_int_equal(T.st->stats.drops_total, 0);
	assert_null(ts_pop_tx(&T));
}

static void test_echo_send(void **state)
{
	uint8_t want[32];
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	assert_int_equal(icmp_echo_send(T.st, PEER, 0x4321, 9, "ping-data", 9), 0);
	skb = pop_icmp(&h);
	assert_int_equal(h.saddr, ME);
	assert_int_equal(h.daddr, PEER);
	tb_icmp_echo(want, ICMP_ECHO, 0x4321, 9, "ping-data", 9);
	assert_int_equal(skb->len, 20 + 17);
	assert_memory_equal(skb->data + 20, want, 17);
	skb_free(skb);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_ECHOS), 1);
	assert_int_equal(icmp_echo_send(T.st, PEER, 1, 1, NULL, 70000),
			 -EMSGSIZE);
}

/* An error about a datagram we sent with the test protocol. */
static size_t mk_error(uint8_t *buf, uint8_t type, uint8_t code,
		       uint32_t info, size_t l4_len)
{
	uint8_t quote[128], l4[64];

	fill(l4, sizeof(l4), 0x40);
	tb_ipv4(quote, ME, PEER, IPT_PROTO, 0x5555, 0, 64, l4, l4_len);
	return ipt_icmp(buf, type, code, info, quote, 20 + l4_len);
}

static void check_error(int n, int type, int code, uint32_t info,
			size_t l4_len)
{
	uint8_t l4[64];

	fill(l4, sizeof(l4), 0x40);
	assert_int_equal(R->errors, n);
	assert_int_equal(R->type, type);
	assert_int_equal(R->code, code);
	assert_int_equal(R->info, info);
	assert_int_equal(R->inner.saddr, ME);
	assert_int_equal(R->inner.daddr, PEER);
	assert_int_equal(R->inner.protocol, IPT_PROTO);
	assert_int_equal(R->inner.id, 0x5555);
	assert_int_equal(R->inner.ihl_bytes, 20);
	assert_int_equal(R->l4_len, l4_len);
	assert_memory_equal(R->l4, l4, l4_len);
}

/* An ICMP error from src about our datagram, injected. */
static void inject_error(uint32_t src, uint8_t type, uint8_t code,
			 uint32_t info, size_t l4_len)
{
	uint8_t msg[256];

	inject_icmp(src, ME, msg, mk_error(msg, type, code, info, l4_len));
}

static void test_error_dispatch(void **state)
{
	(void)state;
	inject_error(PEER, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 8);
	check_error(1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 8);
	inject_error(PEER, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, 40);
	check_error(2, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, 40);
	inject_error(ts_ip("10.0.0.254"), ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0,
		     8);
	check_error(3, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, 8);
	/* The protocol gets the pointer of a parameter problem (Linux's
	 * icmp_unreach), not the whole word. */
	inject_error(PEER, ICMP_PARAMETERPROB, 0, 20u << 24, 12);
	check_error(4, ICMP_PARAMETERPROB, 0, 20, 12);
	inject_error(PEER, ICMP_SOURCE_QUENCH, 0, 0, 8);
	check_error(5, ICMP_SOURCE_QUENCH, 0, 0, 8);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_DEST_UNREACHS), 2);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_TIME_EXCDS), 1);
	assert_int_equal(T.st->stats.drops_total, 0);
	/* Errors are never answered. */
	assert_null(ts_pop_tx(&T));
}

/*
 * What else the protocol is handed as `info` (Linux's icmp_unreach): 0
 * for an unreachable but "fragmentation needed" (an RFC 4884 length in
 * the word is not an MTU); nothing for a code past 15; and under
 * net.ipv4.ip_no_pmtu_disc, 0 as the MTU (1), nothing (2), nothing but
 * for TCP (3).
 */
static void test_error_info(void **state)
{
	uint8_t msg[256];
	size_t n;

	(void)state;
	inject_error(PEER, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0x00200000,
		     8);
	check_error(1, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, 8);
	inject_error(PEER, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0x00200000, 8);
	check_error(2, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0, 8);
	inject_error(PEER, ICMP_DEST_UNREACH, 16, 0, 8);
	assert_int_equal(R->errors, 2);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BAD_ERROR), 1);

	n = mk_error(msg, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, 8);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "1"), 0);
	inject_icmp(PEER, ME, msg, n);
	check_error(3, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0, 8);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "2"), 0);
	inject_icmp(PEER, ME, msg, n);
	assert_int_equal(R->errors, 3);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "3"), 0);
	inject_icmp(PEER, ME, msg, n);
	assert_int_equal(R->errors, 3);   /* the test protocol is not TCP */
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BAD_ERROR), 3);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "0"), 0);
	inject_icmp(PEER, ME, msg, n);
	check_error(4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, 8);
}

/* Inject a destination unreachable quoting qlen bytes of q. */
static void inject_quote(const uint8_t *q, size_t qlen)
{
	uint8_t msg[256];

	ipt_icmp(msg, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, q, qlen);
	inject_icmp(PEER, ME, msg, 8 + qlen);
}

/* A quote that cannot be read safely reaches no protocol. */
static void test_error_malformed_quote(void **state)
{
	uint8_t q[64], l4[64];

	(void)state;
	fill(l4, sizeof(l4), 0x40);
	tb_ipv4(q, ME, PEER, IPT_PROTO, 0x5555, 0, 64, l4, 15);
	inject_quote(q, 27);      /* fewer than 8 bytes after the header */
	inject_quote(q, 19);      /* not even a whole header */
	q[0] = 0x65;              /* version 6 */
	inject_quote(q, 35);
	q[0] = 0x44;              /* IHL 4 */
	inject_quote(q, 35);
	q[0] = 0x47;              /* IHL 7: 28 + 8 > 35 */
	inject_quote(q, 35);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_BAD_ERROR), 5);
	assert_int_equal(R->errors, 0);
	/* The same quote, well formed, is dispatched. */
	q[0] = 0x45;
	inject_quote(q, 35);
	assert_int_equal(R->errors, 1);
	assert_int_equal(R->l4_len, 15);
	assert_null(ts_pop_tx(&T));
}

/* No err_handler for the quoted protocol: counted, freed, no drop. */
static void test_error_without_handler(void **state)
{
	uint8_t quote[28], msg[64];

	(void)state;
	tb_ipv4(quote, ME, PEER, 17, 1, 0, 64, "ABCDEFGH", 8);
	ipt_icmp(msg, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0, quote, 28);
	inject_icmp(PEER, ME, msg, 36);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_DEST_UNREACHS), 1);
	assert_int_equal(R->errors, 0);
	assert_int_equal(T.st->stats.drops_total, 0);
}

/* A received datagram (network header at data) for icmp_send. */
static struct sk_buff *rx_skb(uint32_t saddr, uint32_t daddr, uint8_t proto,
			      uint16_t frag_off, const void *pay, size_t len,
			      uint8_t pkt_type)
{
	struct sk_buff *skb = us_skb_alloc(T.st, (unsigned int)(20 + len));
	uint8_t *p;

	assert_non_null(skb);
	p = skb_put(skb, (unsigned int)(20 + len));
	tb_ipv4(p, saddr, daddr, proto, 1, frag_off, 64, pay, len);
	skb_reset_network_header(skb);
	skb->dev = T.dev;
	skb->pkt_type = pkt_type;
	return skb;
}

/* icmp_send on a crafted datagram; returns how many packets went out. */
static unsigned try_send(uint32_t saddr, uint32_t daddr, uint8_t proto,
			 uint16_t frag_off, const void *pay, size_t len,
			 uint8_t pkt_type)
{
	struct sk_buff *skb = rx_skb(saddr, daddr, proto, frag_off, pay, len,
				     pkt_type);

	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	skb_free(skb);
	return ts_flush_tx(&T);
}

/* RFC 1122 §3.2.2: never about an ICMP error, a broadcast or multicast
 * (IP or link), a non-initial fragment, or a source that is not a single
 * host. Each case has a positive control. */
static void test_never_about(void **state)
{
	uint8_t icmp_err[8] = { ICMP_DEST_UNREACH, 3 }, icmp_echo[8] = { ICMP_ECHO };
	uint8_t icmp_te[8] = { ICMP_TIME_EXCEEDED }, icmp_odd[8] = { 99 };
	const char *bad_src[] = { "0.0.0.0", "255.255.255.255", "10.0.0.255",
				  "224.1.1.1", "240.0.0.1", "127.0.0.1" };
	const char *bad_dst[] = { "10.0.0.255", "255.255.255.255", "224.0.0.1" };

	(void)state;
	/* ICMP inner: errors (and unknown types) no, queries yes. */
	assert_int_equal(try_send(PEER, ME, 1, 0, icmp_err, 8, PKT_HOST), 0);
	assert_int_equal(try_send(PEER, ME, 1, 0, icmp_te, 8, PKT_HOST), 0);
	assert_int_equal(try_send(PEER, ME, 1, 0, icmp_odd, 8, PKT_HOST), 0);
	assert_int_equal(try_send(PEER, ME, 1, 0, icmp_echo, 8, PKT_HOST), 1);
	for (size_t i = 0; i < sizeof(bad_dst) / sizeof(bad_dst[0]); i++)
		assert_int_equal(try_send(PEER, ts_ip(bad_dst[i]), 17, 0,
					  "12345678", 8, PKT_HOST), 0);
	/* Link-layer broadcast or multicast. */
	assert_int_equal(try_send(PEER, ME, 17, 0, "12345678", 8, PKT_BROADCAST), 0);
	assert_int_equal(try_send(PEER, ME, 17, 0, "12345678", 8, PKT_MULTICAST), 0);
	/* Fragments: the first yes, later ones no. */
	assert_int_equal(try_send(PEER, ME, 17, IP_MF | 1, "12345678", 8, PKT_HOST), 0);
	assert_int_equal(try_send(PEER, ME, 17, 1, "12345678", 8, PKT_HOST), 0);
	assert_int_equal(try_send(PEER, ME, 17, IP_MF, "12345678", 8, PKT_HOST), 1);
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		print_message("source %s\n", bad_src[i]);
		assert_int_equal(try_send(ts_ip(bad_src[i]), ME, 17, 0,
					  "12345678", 8, PKT_HOST), 0);
	}
	assert_int_equal(try_send(PEER, ME, 17, 0, "12345678", 8, PKT_HOST), 1);
	/* None of the refusals was a rate limit. */
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_RATELIMITED), 0);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_MSGS), 3);
}

/* With lo present 127/8 is ours: an error about a 127/8 source is sent
 * only when the datagram really came over lo. */
static void test_never_about_loopback_source(void **state)
{
	struct net_device *lo = loopback_create(T.st);
	struct sk_buff *skb;

	(void)state;
	assert_non_null(lo);
	assert_int_equal(try_send(ts_ip("127.0.0.1"), ME, 17, 0, "12345678", 8,
				  PKT_HOST), 0);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_MSGS), 0);
	skb = rx_skb(ts_ip("127.0.0.1"), ts_ip("127.0.0.1"), 17, 0, "12345678",
		     8, PKT_HOST);
	skb->dev = lo;
	icmp_send(skb, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	skb_free(skb);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_MSGS), 1);
	/* It went to lo, not to the wire. */
	assert_null(ts_pop_tx(&T));
}

/* One datagram of an unknown protocol from src: provokes an error. */
static void provoke(uint32_t src)
{
	ipt_inject(&T, src, ME, 200, 1, 0, "12345678", 8);
}

/* Linux's icmp_ratelimit 1000 ms with XRLIM_BURST_FACTOR 6, per
 * destination, credit earned by elapsed time. */
static void test_ratelimit_per_destination(void **state)
{
	uint32_t other = ts_ip("10.0.0.3");

	(void)state;
	for (int i = 0; i < 10; i++)
		provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 6);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_RATELIMITED), 4);
	assert_int_equal(ipt_drops(&T, US_DROP_ICMP_RATELIMIT), 4);
	/* Another destination has its own bucket. */
	for (int i = 0; i < 7; i++)
		provoke(other);
	assert_int_equal(ts_flush_tx(&T), 6);
	/* One per second after the burst: not a microsecond early. */
	ts_advance(&T, US_USEC_PER_SEC - 1);
	provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 0);
	ts_advance(&T, 1);
	provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 1);
	provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 0);
	ts_advance(&T, US_USEC_PER_SEC);
	provoke(PEER);
	provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 1);
	/* A long silence refills the burst, never more than 6. */
	ts_advance(&T, 60 * US_USEC_PER_SEC);
	for (int i = 0; i < 10; i++)
		provoke(PEER);
	assert_int_equal(ts_flush_tx(&T), 6);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_RATELIMITED),
			 4 + 1 + 1 + 1 + 1 + 4);
}

/* Linux's icmp_msgs_per_sec 1000, icmp_msgs_burst 50, for all
 * destinations together; echo replies and "fragmentation needed" are
 * exempt. */
static void test_ratelimit_global(void **state)
{
	uint8_t req[16];
	int sent = 0;

	(void)state;
	for (uint32_t i = 3; i < 63; i++)
		provoke(htonl(0x0a000000u + i));   /* 60 destinations */
	assert_int_equal(ts_flush_tx(&T), 50);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_RATELIMITED), 10);
	/* 1 ms buys one message at 1000/s. */
	ts_advance(&T, 1000);
	provoke(htonl(0x0a000000u + 70));
	provoke(htonl(0x0a000000u + 71));
	assert_int_equal(ts_flush_tx(&T), 1);
	/* Echo replies are never limited. */
	tb_icmp_echo(req, ICMP_ECHO, 1, 1, "abcdefgh", 8);
	for (int i = 0; i < 100; i++)
		inject_icmp(PEER, ME, req, 16);
	assert_int_equal(ts_flush_tx(&T), 100);
	/* Nor is path MTU discovery's "fragmentation needed". */
	for (int i = 0; i < 10; i++) {
		struct sk_buff *in = rx_skb(PEER, ME, 17, 0, "12345678", 8, PKT_HOST);
		struct sk_buff *out;
		struct ipv4_info h;

		icmp_send(in, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400);
		skb_free(in);
		out = pop_icmp(&h);
		assert_int_equal(out->data[20], ICMP_DEST_UNREACH);
		assert_int_equal(out->data[21], ICMP_FRAG_NEEDED);
		assert_int_equal(ipt_get16(out->data + 26), 1400);
		skb_free(out);
		sent++;
	}
	assert_int_equal(sent, 10);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_RATELIMITED), 11);
}

/* Ethernet: the reply waits for ARP, then goes to the peer's MAC; a
 * short frame's padding is not echoed. */
static void test_ethernet_echo(void **state)
{
	uint8_t frame[60], arp[28];
	struct sk_buff *skb;
	struct ipv4_info h;
	size_t n;

	(void)state;
	memset(frame, 0, sizeof(frame));
	tb_icmp_echo(arp, ICMP_ECHO, 0x99, 1, "hi", 2);
	n = tb_eth(frame, TS_DEV_MAC, TS_PEER_MAC, ETH_P_IP);
	n += tb_ipv4(frame + n, PEER, ME, IPPROTO_ICMP_, 1, 0, 64, arp, 10);
	ts_inject(&T, frame, 60);   /* 44 bytes of frame, 16 of padding */
	/* Unresolved: an ARP request for the peer goes out first. */
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(ipt_get16(skb->data + 12), ETH_P_ARP);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	n = tb_eth(frame, TS_DEV_MAC, TS_PEER_MAC, ETH_P_ARP);
	tb_arp(arp, ARPOP_REPLY, TS_PEER_MAC, PEER, TS_DEV_MAC, ME);
	memcpy(frame + n, arp, 28);
	ts_inject(&T, frame, n + 28);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_memory_equal(skb->data, TS_PEER_MAC, 6);
	assert_memory_equal(skb->data + 6, TS_DEV_MAC, 6);
	assert_int_equal(ipt_get16(skb->data + 12), ETH_P_IP);
	assert_int_equal(ipv4_parse(skb->data + 14, skb->len - 14, &h), 0);
	assert_int_equal(h.tot_len, 30);
	assert_int_equal(h.saddr, ME);
	assert_int_equal(h.daddr, PEER);
	assert_int_equal(skb->data[34], ICMP_ECHOREPLY);
	assert_int_equal(inet_csum(skb->data + 34, 10), 0);
	assert_memory_equal(skb->data + 42, "hi", 2);
	skb_free(skb);

	/* Resolved now: the next reply goes at once. */
	tb_icmp_echo(arp, ICMP_ECHO, 0x99, 2, "again", 5);
	n = tb_eth(frame, TS_DEV_MAC, TS_PEER_MAC, ETH_P_IP);
	n += tb_ipv4(frame + n, PEER, ME, IPPROTO_ICMP_, 2, 0, 64, arp, 13);
	ts_inject(&T, frame, n);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_memory_equal(skb->data, TS_PEER_MAC, 6);
	assert_int_equal(skb->len, 14 + 20 + 13);
	skb_free(skb);
}

/* ---- ping sockets (ping.c) ----------------------------------------------- */

#define FAR_ADDR "10.0.0.77"

/* A ping socket with identifier id that sent one echo (seq 5, "ping!")
 * to 10.0.0.77; the packet sent is copied to pkt (28 + 5 bytes). */
static int ping_sent(uint16_t id, bool recverr, bool connected, uint8_t *pkt)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(id) };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_addr.s_addr = ts_ip(FAR_ADDR) };
	uint8_t req[13] = { ICMP_ECHO, 0, 0, 0, 0xaa, 0xbb, 0, 5,
			    'p', 'i', 'n', 'g', '!' };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK,
			      IPPROTO_ICMP);
	int on = recverr;
	struct ipv4_info h;
	struct sk_buff *skb;

	assert_true(fd >= 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on,
				       sizeof(on)), 0);
	if (connected) {
		assert_int_equal(us_connect(fd, (struct sockaddr *)&to,
					    sizeof(to)), 0);
		assert_int_equal(us_send(fd, req, sizeof(req), 0), 13);
	} else {
		assert_int_equal(us_sendto(fd, req, sizeof(req), 0,
					   (struct sockaddr *)&to, sizeof(to)),
				 13);
	}
	skb = pop_icmp(&h);
	assert_int_equal(skb->len, 20 + 13);
	assert_int_equal(h.daddr, ts_ip(FAR_ADDR));
	/* The socket's identifier in place of the user's; the rest his. */
	assert_int_equal(skb->data[20], ICMP_ECHO);
	assert_int_equal(ipt_get16(skb->data + 24), id);
	assert_int_equal(ipt_get16(skb->data + 26), 5);
	assert_memory_equal(skb->data + 28, "ping!", 5);
	memcpy(pkt, skb->data, skb->len);
	skb_free(skb);
	return fd;
}

/* An ICMP error from `from` quoting the first 28 bytes of pkt. */
static void inject_ping_error(uint32_t from, uint8_t type, uint8_t code,
			      const uint8_t *pkt)
{
	uint8_t msg[64];

	inject_icmp(from, ME, msg, ipt_icmp(msg, type, code, 0, pkt, 28));
}

static void test_ping_socket_reply(void **state)
{
	uint8_t pkt[64], rep[64], buf[64];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	int fd;

	(void)state;
	fd = ping_sent(0x1234, false, false, pkt);
	/* A reply with another identifier is not the socket's. */
	memcpy(rep, pkt + 20, 13);
	rep[0] = ICMP_ECHOREPLY;
	rep[4] = 0x43;
	rep[2] = rep[3] = 0;
	{
		uint16_t sum = inet_csum(rep, 13);

		rep[2] = (uint8_t)(sum >> 8);
		rep[3] = (uint8_t)sum;
	}
	inject_icmp(ts_ip(FAR_ADDR), ME, rep, 13);
	assert_int_equal(us_recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	/* Its own: read whole, from the sender, port 0. */
	memcpy(rep, pkt + 20, 13);
	rep[0] = ICMP_ECHOREPLY;
	rep[2] = rep[3] = 0;
	{
		uint16_t sum = inet_csum(rep, 13);

		rep[2] = (uint8_t)(sum >> 8);
		rep[3] = (uint8_t)sum;
	}
	inject_icmp(ts_ip(FAR_ADDR), ME, rep, 13);
	assert_int_equal(us_recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl), 13);
	assert_memory_equal(buf, rep, 13);
	assert_int_equal(from.sin_addr.s_addr, ts_ip(FAR_ADDR));
	assert_int_equal(from.sin_port, 0);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_IN_ECHO_REPS), 2);
	assert_int_equal(us_close(fd), 0);
	/* Closed: the identifier is free, the next reply nobody's. */
	inject_icmp(ts_ip(FAR_ADDR), ME, rep, 13);
	assert_int_equal(T.st->stats.drops_total, 0);
}

/* With IP_RECVERR every error about its echo is queued: the errno,
 * origin ICMP, type and code, the sender, the quoted ICMP header as data
 * and the echo's destination with port 0 as the name (Linux's ping_err
 * and ip_icmp_error); the pending error is the first's. */
static void test_ping_socket_errqueue(void **state)
{
	uint8_t pkt[64], buf[64];
	char ctl[256] __attribute__((aligned(8)));
	struct sockaddr_in name;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct sock_extended_err ee;
	struct sockaddr_in off;
	struct cmsghdr *c;
	socklen_t len = sizeof(int);
	int fd, err = 0;
	uint32_t router = ts_ip("10.0.0.254");

	(void)state;
	fd = ping_sent(0x1234, true, false, pkt);
	inject_ping_error(router, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, pkt);
	inject_ping_error(router, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, pkt);
	/* About another identifier: nobody's. */
	pkt[24] ^= 0xff;
	inject_ping_error(router, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, pkt);
	pkt[24] ^= 0xff;
	for (int i = 0; i < 2; i++) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &name;
		m.msg_namelen = sizeof(name);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		assert_int_equal(us_recvmsg(fd, &m, MSG_ERRQUEUE), 8);
		assert_true(m.msg_flags & MSG_ERRQUEUE);
		assert_memory_equal(buf, pkt + 20, 8);
		assert_int_equal(name.sin_addr.s_addr, ts_ip(FAR_ADDR));
		assert_int_equal(name.sin_port, 0);
		c = CMSG_FIRSTHDR(&m);
		assert_non_null(c);
		assert_int_equal(c->cmsg_level, SOL_IP);
		assert_int_equal(c->cmsg_type, IP_RECVERR);
		memcpy(&ee, CMSG_DATA(c), sizeof(ee));
		memcpy(&off, CMSG_DATA(c) + sizeof(ee), sizeof(off));
		assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP);
		assert_int_equal(ee.ee_errno, EHOSTUNREACH);
		assert_int_equal(ee.ee_type, i ? ICMP_TIME_EXCEEDED
					       : ICMP_DEST_UNREACH);
		assert_int_equal(ee.ee_code, i ? ICMP_EXC_TTL
					       : ICMP_HOST_UNREACH);
		assert_int_equal(off.sin_addr.s_addr, router);
	}
	assert_int_equal(us_recvmsg(fd, &m, MSG_ERRQUEUE), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len),
			 0);
	assert_int_equal(err, 0);
	assert_int_equal(us_close(fd), 0);
}

/* One error off the queue: its extended error and data length. */
static ssize_t read_errqueue(int fd, struct sock_extended_err *ee,
			     uint8_t *buf, size_t len)
{
	char ctl[256] __attribute__((aligned(8)));
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	ssize_t n = us_recvmsg(fd, &m, MSG_ERRQUEUE);
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IP_RECVERR);
	memcpy(ee, CMSG_DATA(c), sizeof(*ee));
	return n;
}

/*
 * IP_RECVERR_RFC4884 (RFC 4884 §4, Linux's ip_icmp_error_rfc4884): an
 * error whose length field says the original datagram was quoted in 128
 * bytes or more, an extension structure after it, gives the structure's
 * offset in the data returned (the quote after the echo's IP header: 108),
 * flagged invalid for a bad checksum or object length; nothing without
 * the option, or for a quote shorter than 128 bytes.
 */
static void test_rfc4884_extension(void **state)
{
	uint8_t pkt[64], quote[160], msg[192], buf[192];
	struct sock_extended_err ee;
	uint32_t router = ts_ip("10.0.0.254");
	int on = 1, fd;
	uint16_t sum;

	(void)state;
	fd = ping_sent(0x1234, true, false, pkt);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_RECVERR_RFC4884,
				       &on, sizeof(on)), 0);
	memset(quote, 0, sizeof(quote));
	memcpy(quote, pkt, 33);
	/* The extension header (version 2) and one object of 8 bytes. */
	quote[128] = 0x20;
	quote[132] = 0;
	quote[133] = 8;
	quote[134] = 1;
	quote[135] = 1;
	memcpy(quote + 136, "abcd", 4);
	sum = inet_csum(quote + 128, 12);
	quote[130] = (uint8_t)(sum >> 8);
	quote[131] = (uint8_t)sum;
	inject_icmp(router, ME, msg, ipt_icmp(msg, ICMP_DEST_UNREACH,
					      ICMP_HOST_UNREACH, 32u << 16,
					      quote, 140));
	quote[139] ^= 1;   /* a bad checksum */
	inject_icmp(router, ME, msg, ipt_icmp(msg, ICMP_DEST_UNREACH,
					      ICMP_HOST_UNREACH, 32u << 16,
					      quote, 140));
	quote[139] ^= 1;
	quote[133] = 12;   /* an object past the end */
	quote[130] = quote[131] = 0;   /* (no checksum: not checked) */
	inject_icmp(router, ME, msg, ipt_icmp(msg, ICMP_TIME_EXCEEDED,
					      ICMP_EXC_TTL, 32u << 16,
					      quote, 140));
	quote[133] = 8;
	/* A length under 128 bytes: not an RFC 4884 quote. */
	inject_icmp(router, ME, msg, ipt_icmp(msg, ICMP_DEST_UNREACH,
					      ICMP_HOST_UNREACH, 20u << 16,
					      quote, 140));
	assert_int_equal(read_errqueue(fd, &ee, buf, sizeof(buf)), 120);
	assert_int_equal(ee.ee_rfc4884.len, 108);
	assert_int_equal(ee.ee_rfc4884.flags, 0);
	assert_memory_equal(buf + 108 + 8, "abcd", 4);
	assert_int_equal(read_errqueue(fd, &ee, buf, sizeof(buf)), 120);
	assert_int_equal(ee.ee_rfc4884.len, 108);
	assert_int_equal(ee.ee_rfc4884.flags, SO_EE_RFC4884_FLAG_INVALID);
	assert_int_equal(read_errqueue(fd, &ee, buf, sizeof(buf)), 120);
	assert_int_equal(ee.ee_type, ICMP_TIME_EXCEEDED);
	assert_int_equal(ee.ee_rfc4884.len, 108);
	assert_int_equal(ee.ee_rfc4884.flags, SO_EE_RFC4884_FLAG_INVALID);
	assert_int_equal(read_errqueue(fd, &ee, buf, sizeof(buf)), 120);
	assert_int_equal(ee.ee_rfc4884.len, 0);
	assert_int_equal(ee.ee_rfc4884.flags, 0);
	/* Off again: the field stays 0. */
	on = 0;
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_RECVERR_RFC4884,
				       &on, sizeof(on)), 0);
	inject_icmp(router, ME, msg, ipt_icmp(msg, ICMP_DEST_UNREACH,
					      ICMP_HOST_UNREACH, 32u << 16,
					      quote, 140));
	assert_int_equal(read_errqueue(fd, &ee, buf, sizeof(buf)), 120);
	assert_int_equal(ee.ee_data, 0);
	assert_int_equal(us_close(fd), 0);
}

/* A redirect about a ping socket's echo reaches its error queue
 * (Linux's ping_err: EREMOTEIO, soft). */
static void test_ping_socket_redirect(void **state)
{
	uint8_t pkt[64], buf[64];
	char ctl[256] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;
	struct sock_extended_err ee;
	struct cmsghdr *c;
	int fd;

	(void)state;
	fd = ping_sent(0x1234, true, false, pkt);
	inject_ping_error(ts_ip("10.0.0.254"), ICMP_REDIRECT, 1 /* host */,
			  pkt);
	memset(&m, 0, sizeof(m));
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	assert_int_equal(us_recvmsg(fd, &m, MSG_ERRQUEUE), 8);
	c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	memcpy(&ee, CMSG_DATA(c), sizeof(ee));
	assert_int_equal(ee.ee_origin, SO_EE_ORIGIN_ICMP);
	assert_int_equal(ee.ee_errno, EREMOTEIO);
	assert_int_equal(ee.ee_type, ICMP_REDIRECT);
	assert_int_equal(ee.ee_code, 1);
	assert_int_equal(us_close(fd), 0);
}

/* Without IP_RECVERR only a connected socket hears, and only of hard
 * errors: a host unreachable or time exceeded is soft, a parameter
 * problem (EPROTO) and an administratively prohibited are hard. */
static void test_ping_socket_connected_errors(void **state)
{
	uint8_t pkt[64], buf[64];
	int fd, fd2;

	(void)state;
	fd = ping_sent(0x1234, false, true, pkt);
	inject_ping_error(PEER, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, pkt);
	inject_ping_error(PEER, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, pkt);
	assert_int_equal(us_recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	inject_ping_error(PEER, ICMP_PARAMETERPROB, 0, pkt);
	assert_int_equal(us_recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EPROTO);
	/* (A send shorter than the ICMP header would fail EINVAL first.) */
	inject_ping_error(PEER, ICMP_DEST_UNREACH, 10, pkt);
	assert_int_equal(us_send(fd, pkt + 20, 8, 0), -1);
	assert_int_equal(errno, EHOSTUNREACH);
	/* Unconnected: nothing, whatever the error. */
	fd2 = ping_sent(0x2345, false, false, pkt);
	inject_ping_error(PEER, ICMP_PARAMETERPROB, 0, pkt);
	assert_int_equal(us_recv(fd2, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(us_close(fd), 0);
	assert_int_equal(us_close(fd2), 0);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_echo_reply_exact),
		T_(test_echo_reply_source_is_destination),
		T_(test_broadcast_ignored),
		T_(test_malformed),
		T_(test_echo_reply_callback),
		T_(test_echo_send),
		T_(test_error_dispatch),
		T_(test_error_info),
		T_(test_error_malformed_quote),
		T_(test_error_without_handler),
		T_(test_never_about),
		T_(test_never_about_loopback_source),
		T_(test_ratelimit_per_destination),
		T_(test_ratelimit_global),
		T_(test_ping_socket_reply),
		T_(test_ping_socket_errqueue),
		T_(test_rfc4884_extension),
		T_(test_ping_socket_connected_errors),
		T_(test_ping_socket_redirect),
		cmocka_unit_test_setup_teardown(test_ethernet_echo, setup_eth,
						teardown),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
