/*
 * test_ipv4.c - IPv4 receive and send (RFC 791, RFC 1122 §3.2) on the
 * layer-3 test device: the header parser on each malformed case, every
 * receive-path drop by its reason with nothing sent, padding trimmed, local
 * delivery to a test protocol, protocol unreachable with the quoted header,
 * the header ip_output writes, routing (longest prefix, gateways, our own
 * addresses through lo), the path MTUs learnt from ICMP (RFC 1191) and
 * the address classes.
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
#include <stdio.h>
#include <string.h>

#include "dev/loopback.h"
#include "ustack/ustack.h"
#include "lib/iptest.h"

static struct test_stack T;
static struct ipt_record *R;
static uint32_t ME, PEER;

static int setup(void **state)
{
	(void)state;
	ts_init_l3(&T, "10.0.0.2", 24);
	ME = ts_ip("10.0.0.2");
	PEER = ts_ip("10.0.0.1");
	R = ipt_register(&T);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ts_flush_tx(&T);
	ts_destroy(&T);
	ipt_unregister();
	return 0;
}

/* A datagram with `optlen` option bytes (a multiple of 4) and 8 bytes of
 * payload, correct lengths and checksum. Returns its length. */
static size_t mk_opts(uint8_t *buf, const uint8_t *opt, size_t optlen)
{
	size_t hlen = 20 + optlen;
	uint16_t sum;

	tb_ipv4(buf, PEER, ME, IPT_PROTO, 1, 0, 64, "payload!", 8);
	memmove(buf + hlen, buf + 20, 8);
	memcpy(buf + 20, opt, optlen);
	buf[0] = (uint8_t)(0x40 | hlen / 4);
	buf[2] = 0;
	buf[3] = (uint8_t)(hlen + 8);
	buf[10] = buf[11] = 0;
	sum = inet_csum(buf, hlen);
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	return hlen + 8;
}

static void fix_csum(uint8_t *buf)
{
	size_t hlen = (buf[0] & 0xfu) * 4u;
	uint16_t sum;

	buf[10] = buf[11] = 0;
	sum = inet_csum(buf, hlen < 20 ? 20 : hlen);
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
}

static void test_parse_valid_and_emit(void **state)
{
	uint8_t buf[64], out[20];
	struct ipv4_info h;

	(void)state;
	tb_ipv4(buf, PEER, ME, 17, 0x1234, IP_DF, 33, "abcd", 4);
	buf[1] = 0x28;
	fix_csum(buf);
	assert_int_equal(ipv4_parse(buf, 24, &h), US_DROP_NOT_DROPPED);
	assert_int_equal(h.ihl_bytes, 20);
	assert_int_equal(h.tos, 0x28);
	assert_int_equal(h.tot_len, 24);
	assert_int_equal(h.id, 0x1234);
	assert_int_equal(h.frag_off, IP_DF);
	assert_int_equal(h.ttl, 33);
	assert_int_equal(h.protocol, 17);
	assert_int_equal(h.check, ipt_get16(buf + 10));
	assert_int_equal(h.saddr, PEER);
	assert_int_equal(h.daddr, ME);
	/* emit writes back the same 20 bytes, checksum included. */
	ipv4_emit(&h, out);
	assert_memory_equal(out, buf, 20);
}

struct bad_case {
	const char *what;
	size_t len;
	void (*mutate)(uint8_t *buf);
	enum us_drop_reason reason;
};

static void m_version6(uint8_t *b) { b[0] = 0x65; fix_csum(b); }
static void m_ihl4(uint8_t *b) { b[0] = 0x44; fix_csum(b); }
static void m_ihl15(uint8_t *b) { b[0] = 0x4f; }
static void m_totlen_small(uint8_t *b) { b[2] = 0; b[3] = 19; fix_csum(b); }
static void m_totlen_big(uint8_t *b) { b[2] = 0; b[3] = 29; fix_csum(b); }
static void m_csum(uint8_t *b) { b[11] ^= 0x01; }
static void m_none(uint8_t *b) { (void)b; }

/* Each malformed header: the parser's reason, and through ip_rcv the same
 * reason counted, nothing delivered, nothing sent. */
static void test_parse_malformed(void **state)
{
	static const struct bad_case cases[] = {
		{ "19 bytes", 19, m_none, US_DROP_IP_TRUNCATED },
		{ "version 6", 28, m_version6, US_DROP_IP_BAD_VERSION },
		{ "IHL 4", 28, m_ihl4, US_DROP_IP_BAD_IHL },
		{ "IHL 15 > length", 28, m_ihl15, US_DROP_IP_BAD_IHL },
		{ "tot_len < IHL", 28, m_totlen_small, US_DROP_IP_BAD_LENGTH },
		{ "tot_len > length", 28, m_totlen_big, US_DROP_IP_BAD_LENGTH },
		{ "checksum", 28, m_csum, US_DROP_IP_BAD_CSUM },
	};
	uint8_t buf[64];
	struct ipv4_info h;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t before = ipt_drops(&T, cases[i].reason);

		tb_ipv4(buf, PEER, ME, IPT_PROTO, 7, 0, 64, "12345678", 8);
		cases[i].mutate(buf);
		print_message("case: %s\n", cases[i].what);
		assert_int_equal(ipv4_parse(buf, cases[i].len, &h), cases[i].reason);
		ts_inject(&T, buf, cases[i].len);
		assert_int_equal(ipt_drops(&T, cases[i].reason), before + 1);
	}
	assert_int_equal(R->delivered, 0);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_mib(&T, US_MIB_IP_IN_RECEIVES), 7);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_IN_DELIVERS), 0);
}

/* RFC 1122 §3.2.1.8: options walked safely, unknown ones skipped; the
 * parser leaves them to ip_rcv, which answers a malformed one with a
 * parameter problem pointing at it (RFC 792) and refuses source routes
 * as Linux does with accept_source_route=0 (test_ip_options has the
 * rest). */
static void test_parse_options(void **state)
{
	static const struct {
		uint8_t opt[8];
		size_t len;
		enum us_drop_reason reason;
		uint8_t pointer;
	} cases[] = {
		{ { 1, 1, 1, 0 }, 4, US_DROP_NOT_DROPPED, 0 },       /* NOP, EOL */
		{ { 0, 0x99, 0x01, 0x77 }, 4, US_DROP_NOT_DROPPED, 0 }, /* after EOL */
		{ { 0x9e, 4, 0xaa, 0xbb }, 4, US_DROP_NOT_DROPPED, 0 }, /* unknown */
		{ { 0x94, 4, 0, 0, 1, 1, 1, 1 }, 8, US_DROP_NOT_DROPPED, 0 }, /* RA */
		{ { 7, 1, 0, 0 }, 4, US_DROP_IP_BAD_OPTIONS, 20 },   /* length 1 */
		{ { 7, 0, 0, 0 }, 4, US_DROP_IP_BAD_OPTIONS, 20 },   /* length 0 */
		{ { 0x44, 8, 5, 0 }, 4, US_DROP_IP_BAD_OPTIONS, 20 }, /* past end */
		{ { 1, 1, 1, 0x9e }, 4, US_DROP_IP_BAD_OPTIONS, 23 }, /* no length */
		{ { 0x83, 3, 4, 0 }, 4, US_DROP_IP_SOURCE_ROUTE, 0 }, /* LSRR */
		{ { 1, 0x89, 3, 4 }, 4, US_DROP_IP_SOURCE_ROUTE, 0 }, /* SSRR */
	};
	int good = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[64];
		struct ipv4_info h;
		size_t n = mk_opts(buf, cases[i].opt, cases[i].len);
		uint64_t before = ipt_drops(&T, cases[i].reason);
		struct sk_buff *skb;

		print_message("option case %zu\n", i);
		assert_int_equal(ipv4_parse(buf, n, &h), US_DROP_NOT_DROPPED);
		ts_inject(&T, buf, n);
		if (cases[i].reason == US_DROP_NOT_DROPPED) {
			good++;
			assert_int_equal(R->delivered, good);
			/* The payload follows the options, not byte 20. */
			assert_int_equal(R->len, 8);
			assert_memory_equal(R->data, "payload!", 8);
			assert_int_equal(h.ihl_bytes, 20 + cases[i].len);
		} else {
			assert_int_equal(R->delivered, good);
			assert_int_equal(ipt_drops(&T, cases[i].reason), before + 1);
		}
		skb = ts_pop_tx(&T);
		if (!cases[i].pointer) {
			assert_null(skb);
			continue;
		}
		assert_non_null(skb);
		assert_int_equal(skb->data[20], 12);   /* parameter problem */
		assert_int_equal(skb->data[21], 0);
		assert_int_equal(skb->data[24], cases[i].pointer);
		skb_free(skb);
	}
}

static void test_deliver_to_protocol(void **state)
{
	uint8_t buf[64];

	(void)state;
	tb_ipv4(buf, PEER, ME, IPT_PROTO, 99, 0, 64, "transport-12", 12);
	ts_inject(&T, buf, 32);
	assert_int_equal(R->delivered, 1);
	assert_int_equal(R->len, 12);
	assert_memory_equal(R->data, "transport-12", 12);
	assert_true(R->transport_at_data);
	assert_memory_equal(R->iph, buf, 20);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_IN_RECEIVES), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_IN_DELIVERS), 1);
	assert_int_equal(T.st->stats.drops_total, 0);
	assert_null(ts_pop_tx(&T));
}

/* RFC 791: total length bounds the datagram; link padding is cut. */
static void test_padding_trimmed(void **state)
{
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	tb_ipv4(buf, PEER, ME, IPT_PROTO, 1, 0, 64, "abcd", 4);
	ts_inject(&T, buf, 46);
	assert_int_equal(R->delivered, 1);
	assert_int_equal(R->len, 4);
	assert_memory_equal(R->data, "abcd", 4);
}

/* Not ours: other hosts, a group not joined, 127/8 from a device,
 * reserved and zero addresses. All hosts (224.0.0.1) every host hears
 * (RFC 1112 §6.4). */
static void test_not_for_us(void **state)
{
	const char *dsts[] = { "10.0.0.99", "10.0.1.2", "192.168.1.1",
			       "239.9.9.9", "127.0.0.1", "240.0.0.1", "0.0.0.0" };
	size_t n = sizeof(dsts) / sizeof(dsts[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		ipt_inject(&T, PEER, ts_ip(dsts[i]), IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), n);
	assert_int_equal(R->delivered, 0);
	/* Never forwarded, never answered. */
	assert_null(ts_pop_tx(&T));
	ipt_inject(&T, PEER, ts_ip("224.0.0.1"), IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(R->delivered, 1);
}

/* RFC 1122 §3.2.1.3: martian sources are discarded. */
static void test_bad_saddr(void **state)
{
	const char *srcs[] = { "255.255.255.255", "10.0.0.255", "224.0.0.9",
			       "127.0.0.1", "10.0.0.2", "0.0.0.0", "0.1.2.3" };
	size_t n = sizeof(srcs) / sizeof(srcs[0]);

	(void)state;
	for (size_t i = 0; i < n; i++)
		ipt_inject(&T, ts_ip(srcs[i]), ME, IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_SADDR), n);
	assert_int_equal(R->delivered, 0);
	assert_null(ts_pop_tx(&T));
	/* 0.0.0.0 may talk to the limited broadcast (a DHCP client). */
	ipt_inject(&T, 0, ts_ip("255.255.255.255"), IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(R->delivered, 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_SADDR), n);
}

/* With lo registered, 127/8 is ours, but only over lo: from test0 it is
 * a martian both as destination and as source. */
static void test_martians_with_lo(void **state)
{
	(void)state;
	assert_non_null(loopback_create(T.st));
	ipt_inject(&T, PEER, ts_ip("127.0.0.1"), IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), 1);
	ipt_inject(&T, ts_ip("127.0.0.1"), ME, IPT_PROTO, 1, 0, "x", 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_SADDR), 1);
	assert_int_equal(R->delivered, 0);
	assert_null(ts_pop_tx(&T));
}

static void test_broadcast_delivered(void **state)
{
	(void)state;
	ipt_inject(&T, PEER, ts_ip("255.255.255.255"), IPT_PROTO, 1, 0, "a", 1);
	ipt_inject(&T, PEER, ts_ip("10.0.0.255"), IPT_PROTO, 2, 0, "b", 1);
	assert_int_equal(R->delivered, 2);
	assert_int_equal(T.st->stats.drops_total, 0);
}

/* Check an ICMP error about `orig` (olen bytes) sent to PEER. */
static void check_icmp_error(struct sk_buff *skb, const struct ipv4_info *h,
			     uint8_t type, uint8_t code, const uint8_t *orig,
			     size_t quoted)
{
	const uint8_t *icmp = skb->data + 20;

	assert_int_equal(h->protocol, IPPROTO_ICMP_);
	assert_int_equal(h->saddr, ME);
	assert_int_equal(h->daddr, PEER);
	assert_int_equal(h->ttl, 64);
	assert_int_equal(h->tos, 0xc0);
	assert_int_equal(h->tot_len, 20 + 8 + quoted);
	assert_int_equal(icmp[0], type);
	assert_int_equal(icmp[1], code);
	assert_int_equal(inet_csum(icmp, 8 + quoted), 0);
	assert_memory_equal(icmp + 8, orig, quoted);
}

/* RFC 1122 §3.2.2.1: protocol unreachable, quoting the datagram. */
static void test_unknown_protocol(void **state)
{
	uint8_t buf[1100], pay[1000];
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)i;
	tb_ipv4(buf, PEER, ME, 200, 0x4242, 0, 64, pay, 30);
	ts_inject(&T, buf, 50);
	skb = ipt_pop(&T, &h);
	/* Small datagram: all of it is quoted. */
	check_icmp_error(skb, &h, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, buf, 50);
	skb_free(skb);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_UNKNOWN_PROTO), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_PROT_UNREACHS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_ICMP_OUT_DEST_UNREACHS), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_IN_DELIVERS), 0);

	/* Large one: quoted up to a 576-byte error, as Linux does. */
	tb_ipv4(buf, PEER, ME, 200, 0x4243, 0, 64, pay, 1000);
	ts_inject(&T, buf, 1020);
	skb = ipt_pop(&T, &h);
	assert_int_equal(skb->len, 576);
	check_icmp_error(skb, &h, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, buf, 548);
	skb_free(skb);

	/* Not about a broadcast (RFC 1122 §3.2.2). */
	ipt_inject(&T, PEER, ts_ip("10.0.0.255"), 200, 1, 0, pay, 8);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_drops(&T, US_DROP_IP_UNKNOWN_PROTO), 3);
	assert_null(ts_pop_tx(&T));
}

static struct sk_buff *payload_skb(const void *data, size_t len)
{
	struct sk_buff *skb = us_skb_alloc(T.st, (unsigned int)len);

	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, data, (unsigned int)len), 0);
	return skb;
}

static void test_output_header(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO,
				 .tos = 0x10 };
	uint16_t id;
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	assert_int_equal(ip_output(T.st, payload_skb("0123456789", 10), &a), 0);
	skb = ipt_pop(&T, &h);
	id = h.id;
	assert_int_equal(h.ihl_bytes, 20);
	assert_int_equal(h.tot_len, 30);
	assert_int_equal(h.id, id);
	assert_int_equal(h.frag_off, 0);
	assert_int_equal(h.ttl, IP_DEFAULT_TTL);
	assert_int_equal(h.tos, 0x10);
	assert_int_equal(h.protocol, IPT_PROTO);
	assert_int_equal(h.saddr, ME);    /* the route's source */
	assert_int_equal(h.daddr, PEER);
	assert_memory_equal(skb->data + 20, "0123456789", 10);
	assert_ptr_equal(skb->dev, T.dev);
	skb_free(skb);

	/* Next datagram of the flow, at once: the next id. */
	assert_int_equal(ip_output(T.st, payload_skb("y", 1), &a), 0);
	skb = ipt_pop(&T, &h);
	assert_int_equal(h.id, (uint16_t)(id + 1));
	skb_free(skb);

	/* DF, own TTL, given source (another flow: its own counter). */
	a.df = true;
	a.ttl = 5;
	a.saddr = ts_ip("10.0.0.77");
	assert_int_equal(ip_output(T.st, payload_skb("x", 1), &a), 0);
	skb = ipt_pop(&T, &h);
	assert_int_equal(h.frag_off, IP_DF);
	assert_int_equal(h.ttl, 5);
	assert_int_equal(h.saddr, ts_ip("10.0.0.77"));
	skb_free(skb);
	assert_int_equal(ipt_mib(&T, US_MIB_IP_OUT_REQUESTS), 3);
}

/*
 * The Identification does not count the packets sent to others (an idle
 * scan): a flow's ids move by one per datagram, whatever other flows send
 * meanwhile (each has its own counter, but for hash collisions); a GSO
 * packet takes one per segment.
 */
static void test_output_id_per_flow(void **state)
{
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO };
	struct ip_out_args b = { .protocol = IPT_PROTO };
	struct ipv4_info h;
	uint16_t first;
	int moved = 0;

	(void)state;
	assert_int_equal(ip_output(T.st, payload_skb("a", 1), &a), 0);
	skb_free(ipt_pop(&T, &h));
	first = h.id;
	/* 50 datagrams to 50 other hosts in between. */
	for (int i = 0; i < 50; i++) {
		char dst[32];

		snprintf(dst, sizeof(dst), "10.0.0.%d", 100 + i);
		b.daddr = ts_ip(dst);
		assert_int_equal(ip_output(T.st, payload_skb("b", 1), &b), 0);
		skb_free(ipt_pop(&T, &h));
	}
	assert_int_equal(ip_output(T.st, payload_skb("a", 1), &a), 0);
	skb_free(ipt_pop(&T, &h));
	moved = (uint16_t)(h.id - first);
	assert_int_equal(moved, 1);
}

static void test_output_no_route(void **state)
{
	struct ip_out_args a = { .daddr = ts_ip("192.168.5.5"),
				 .protocol = IPT_PROTO };
	struct ipv4_info h;
	struct sk_buff *skb;

	(void)state;
	assert_int_equal(ip_output(T.st, payload_skb("x", 1), &a), -ENETUNREACH);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NO_ROUTE), 1);
	assert_null(ts_pop_tx(&T));
	/* With a default route it leaves by the gateway's device. */
	assert_int_equal(ip_route_add(T.st, 0, 0, PEER, T.dev), 0);
	assert_int_equal(ip_output(T.st, payload_skb("x", 1), &a), 0);
	skb = ipt_pop(&T, &h);
	assert_int_equal(h.daddr, ts_ip("192.168.5.5"));
	assert_int_equal(h.saddr, ME);
	skb_free(skb);
}

static void expect_route(const char *dst, struct net_device *dev,
			 const char *nexthop, uint32_t saddr)
{
	struct ip_route rt;

	print_message("route to %s\n", dst);
	assert_int_equal(ip_route_output(T.st, ts_ip(dst), &rt), 0);
	assert_ptr_equal(rt.dev, dev);
	assert_int_equal(rt.nexthop, ts_ip(nexthop));
	assert_int_equal(rt.saddr, saddr);
}

static void test_route_lpm(void **state)
{
	struct ip_route rt;

	(void)state;
	expect_route("10.0.0.7", T.dev, "10.0.0.7", ME);
	assert_int_equal(ip_route_output(T.st, ts_ip("192.168.1.5"), &rt),
			 -ENETUNREACH);
	assert_int_equal(ip_route_add(T.st, 0, 0, ts_ip("10.0.0.1"), T.dev), 0);
	expect_route("192.168.1.5", T.dev, "10.0.0.1", ME);
	assert_int_equal(ip_route_add(T.st, ts_ip("192.168.0.0"), 16,
				      ts_ip("10.0.0.3"), T.dev), 0);
	expect_route("192.168.1.5", T.dev, "10.0.0.3", ME);
	/* Host bits in dst are masked off. */
	assert_int_equal(ip_route_add(T.st, ts_ip("192.168.1.77"), 24,
				      ts_ip("10.0.0.4"), T.dev), 0);
	expect_route("192.168.1.5", T.dev, "10.0.0.4", ME);
	expect_route("192.168.2.1", T.dev, "10.0.0.3", ME);
	expect_route("8.8.8.8", T.dev, "10.0.0.1", ME);
	/* The connected /24 still beats the default route. */
	expect_route("10.0.0.9", T.dev, "10.0.0.9", ME);
	/* Broadcast and multicast never go through a gateway, though
	 * only the default route matches them. */
	expect_route("255.255.255.255", T.dev, "255.255.255.255", ME);
	expect_route("224.0.0.251", T.dev, "224.0.0.251", ME);
	expect_route("239.255.255.250", T.dev, "239.255.255.250", ME);

	assert_int_equal(ip_route_add(T.st, ts_ip("192.168.1.0"), 24,
				      ts_ip("10.0.0.5"), T.dev), -EEXIST);
	assert_int_equal(ip_route_add(T.st, 0, 33, 0, T.dev), -EINVAL);
	assert_int_equal(ip_route_add(T.st, 0, -1, 0, T.dev), -EINVAL);

	/* A device that is down carries no traffic. */
	T.dev->flags &= ~US_IFF_UP;
	assert_int_equal(ip_route_output(T.st, ts_ip("8.8.8.8"), &rt),
			 -ENETUNREACH);
	T.dev->flags |= US_IFF_UP;

	ip_route_flush_dev(T.st, T.dev);
	assert_int_equal(T.st->ip.nroutes, 0);
	assert_int_equal(ip_route_output(T.st, ts_ip("10.0.0.7"), &rt),
			 -ENETUNREACH);
}

/* RFC 1191 §6.3 and Linux's __ip_rt_update_pmtu: what a "fragmentation
 * needed" taught, per destination, for 10 minutes, never above the
 * device's MTU and never below 552. */
/* A protocol that only counts what the table tells (pmtu_changed). */
static int pmtu_changed_n;
static uint32_t pmtu_changed_last;

static void count_pmtu_changed(struct ustack *st, uint32_t daddr)
{
	(void)st;
	pmtu_changed_n++;
	pmtu_changed_last = daddr;
}

static const struct net_protocol pmtu_watcher = {
	.pmtu_changed = count_pmtu_changed,
};

static void watch_pmtu(void)
{
	pmtu_changed_n = 0;
	pmtu_changed_last = 0;
	assert_int_equal(ip_register_protocol(T.st, 252, &pmtu_watcher), 0);
}

static void test_route_pmtu(void **state)
{
	uint32_t far = ts_ip("10.0.0.7"), near = ts_ip("10.0.0.8");
	struct ip_route rt;

	(void)state;
	watch_pmtu();
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_int_equal(rt.mtu, T.dev->mtu);
	/* More than the path has, or the path's own: nothing learnt. */
	assert_int_equal(ip_pmtu_update(T.st, far, T.dev->mtu + 100), 0);
	assert_int_equal(ip_pmtu_update(T.st, far, T.dev->mtu), 0);
	assert_int_equal(T.st->ip.pmtu_count, 0);

	assert_int_equal(pmtu_changed_n, 0);
	assert_int_equal(ip_pmtu_update(T.st, far, 1200), 1200);
	assert_int_equal(pmtu_changed_n, 1);   /* a fall: told */
	assert_int_equal(pmtu_changed_last, far);
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_int_equal(rt.mtu, 1200);
	assert_int_equal(ip_route_output(T.st, near, &rt), 0);
	assert_int_equal(rt.mtu, T.dev->mtu);   /* per destination */
	/* It only falls; the same value again is no news. */
	assert_int_equal(ip_pmtu_update(T.st, far, 1300), 0);
	assert_int_equal(ip_pmtu_update(T.st, far, 1200), 0);
	assert_int_equal(ip_pmtu_get(T.st, far, NULL), 1200);
	assert_int_equal(pmtu_changed_n, 1);
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_false(rt.mtu_locked);
	/* Below the minimum (or 0, from a router before RFC 1191): 552,
	 * locked (Linux's __ip_rt_update_pmtu). */
	assert_int_equal(ip_pmtu_update(T.st, far, 68), IP_PMTU_MIN);
	assert_int_equal(ip_pmtu_update(T.st, near, 0), IP_PMTU_MIN);
	assert_int_equal(T.st->ip.pmtu_count, 2);
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_int_equal(rt.mtu, IP_PMTU_MIN);
	assert_true(rt.mtu_locked);
	assert_int_equal(pmtu_changed_n, 3);
	/* Not for our own addresses, which go through lo. */
	assert_int_equal(ip_pmtu_update(T.st, ME, 1000), 0);
	/* A locked MTU stays as it is, lock and expiry too (Linux returns
	 * at once for ip_mtu_locked). */
	ts_advance(&T, 100 * 1000000ULL);
	assert_int_equal(ip_pmtu_update(T.st, far, IP_PMTU_MIN), 0);
	assert_int_equal(ip_pmtu_update(T.st, far, 300), 0);
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_true(rt.mtu_locked);

	/* Ten minutes after they were learnt the device's MTU is tried
	 * again: a timer forgets both and tells the protocols, once each. */
	ts_advance(&T, 500 * 1000000ULL - 1);
	assert_int_equal(ip_pmtu_get(T.st, far, NULL), IP_PMTU_MIN);
	assert_int_equal(pmtu_changed_n, 3);
	ts_advance(&T, 1);
	assert_int_equal(pmtu_changed_n, 5);
	assert_int_equal(T.st->ip.pmtu_count, 0);
	assert_int_equal(ip_route_output(T.st, far, &rt), 0);
	assert_int_equal(rt.mtu, T.dev->mtu);
	assert_int_equal(ip_pmtu_get(T.st, near, NULL), 0);
	ts_advance(&T, 3600 * 1000000ULL);
	assert_int_equal(pmtu_changed_n, 5);
}

/* The table holds IP_PMTU_SLOTS destinations; past that, in a full set,
 * the entry nearest to its expiry makes room. */
static void test_route_pmtu_full(void **state)
{
	char name[32];
	int learnt = 0;

	(void)state;
	watch_pmtu();
	assert_int_equal(ip_route_add(T.st, 0, 0, ts_ip("10.0.0.1"), T.dev), 0);
	for (int i = 0; i < 4 * IP_PMTU_SLOTS; i++) {
		snprintf(name, sizeof(name), "172.16.%d.%d", i / 250, i % 250 + 1);
		ts_advance(&T, 1000);
		learnt += ip_pmtu_update(T.st, ts_ip(name), 1400) == 1400;
	}
	assert_int_equal(learnt, 4 * IP_PMTU_SLOTS);
	assert_int_equal(T.st->ip.pmtu_count, IP_PMTU_SLOTS);
	/* The newest is kept, and no slot is left free. */
	snprintf(name, sizeof(name), "172.16.%d.%d", (4 * IP_PMTU_SLOTS - 1) / 250,
		 (4 * IP_PMTU_SLOTS - 1) % 250 + 1);
	assert_int_equal(ip_pmtu_get(T.st, ts_ip(name), NULL), 1400);
	for (int i = 0; i < IP_PMTU_SLOTS; i++)
		assert_true(T.st->ip.pmtu[i].daddr != 0);
	/* Each fall was told of, and each that made room, as raised. */
	assert_int_equal(pmtu_changed_n, 4 * IP_PMTU_SLOTS + 3 * IP_PMTU_SLOTS);
}

/* One datagram of `len` bytes to PEER:9; what went, frame by frame. */
static int udp_send_frames(int fd, size_t len, bool df[4], size_t size[4])
{
	static uint8_t buf[2000];
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9),
				  .sin_addr.s_addr = PEER };
	struct sk_buff *skb;
	int n = 0;

	if (us_sendto(fd, buf, len, 0, (struct sockaddr *)&to,
		      sizeof(to)) < 0)
		return -errno;
	while ((skb = ts_pop_tx(&T)) != NULL) {
		if (n < 4) {
			df[n] = skb->data[6] & 0x40;
			size[n] = skb->len;
		}
		n++;
		skb_free(skb);
	}
	return n;
}

/*
 * Which datagrams carry DF and where they are cut under each
 * IP_MTU_DISCOVER mode, with a path MTU of 1200 learnt on a 1500-byte
 * link (Linux's __ip_make_skb, __ip_append_data, ip_fragment): 1000
 * bytes fit the path, 1300 do not but fit the link.
 */
static void test_udp_pmtudisc_df(void **state)
{
	static const struct {
		int mode;
		bool df_small;    /* 1000 bytes: DF? */
		int big_frames;   /* 1300 bytes: frames (-EMSGSIZE: refused) */
		bool df_big;
	} want[] = {
		{ IP_PMTUDISC_DONT, false, 2, false },
		{ IP_PMTUDISC_WANT, true, 2, false },
		{ IP_PMTUDISC_DO, true, -EMSGSIZE, true },
		{ IP_PMTUDISC_PROBE, true, 1, true },
		{ IP_PMTUDISC_INTERFACE, false, 1, false },
		{ IP_PMTUDISC_OMIT, false, 1, false },
	};
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);
	size_t size[4];
	bool df[4];

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ip_pmtu_update(T.st, PEER, 1200), 1200);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
					       &want[i].mode, sizeof(int)), 0);
		assert_int_equal(udp_send_frames(fd, 1000, df, size), 1);
		assert_int_equal(df[0], want[i].df_small);
		assert_int_equal(udp_send_frames(fd, 1300, df, size),
				 want[i].big_frames);
		if (want[i].big_frames == 2) {
			/* Cut to the path: 1176 bytes of data, then the rest. */
			assert_int_equal(size[0], 1196);
			assert_int_equal(size[1], 20 + 1308 - 1176);
			assert_false(df[0] || df[1]);
		} else if (want[i].big_frames == 1) {
			assert_int_equal(size[0], 1328);
			assert_int_equal(df[0], want[i].df_big);
		}
	}
	/* Below 552 the path's MTU is locked: WANT sends without DF (and
	 * cuts at 552), DO keeps it. */
	assert_int_equal(ip_pmtu_update(T.st, PEER, 300), IP_PMTU_MIN);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
				       &want[1].mode, sizeof(int)), 0);
	assert_int_equal(udp_send_frames(fd, 500, df, size), 1);
	assert_false(df[0]);
	assert_int_equal(udp_send_frames(fd, 600, df, size), 2);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER,
				       &want[2].mode, sizeof(int)), 0);
	assert_int_equal(udp_send_frames(fd, 500, df, size), 1);
	assert_true(df[0]);
	assert_int_equal(udp_send_frames(fd, 600, df, size), -EMSGSIZE);
	assert_int_equal(us_close(fd), 0);
}

/* A datagram the device has no room for (a full queue) is lost, counted, and reported as sent, unless IP_RECVERR asks to hear
 * of it (Linux's udp_send_skb turns ENOBUFS into success otherwise). */
static void test_udp_enobufs(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9),
				  .sin_addr.s_addr = PEER };
	int fd, on = 1, refused = 0;
	uint64_t lost;

	(void)state;
	fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	/* Nobody takes the device's frames here: its queue fills. */
	T.tx_limit = 100;
	for (int i = 0; i < 150; i++) {
		ssize_t n = us_sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
				      sizeof(to));

		if (n != 1)
			fail_msg("send %d: %zd errno %d", i, n, errno);
	}
	lost = ipt_mib(&T, US_MIB_UDP_SNDBUF_ERRORS);
	assert_int_equal(lost, 50);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on,
				       sizeof(on)), 0);
	for (int i = 0; i < 10; i++)
		if (us_sendto(fd, "x", 1, 0, (struct sockaddr *)&to,
			      sizeof(to)) < 0 && errno == ENOBUFS)
			refused++;
	assert_int_equal(refused, 10);
	assert_int_equal(ipt_mib(&T, US_MIB_UDP_SNDBUF_ERRORS), lost + 10);
	assert_int_equal(ipt_mib(&T, US_MIB_UDP_OUT_DATAGRAMS), 100);
	assert_int_equal(us_close(fd), 0);
}

/*
 * A datagram sent to a broadcast address goes on the wire and is heard on
 * this host too (Linux's ip_mc_output loops a copy back): a socket bound
 * to the port on any address receives it, once. A unicast one is not.
 */
static void test_udp_broadcast_looped_back(void **state)
{
	struct sockaddr_in any = { .sin_family = AF_INET,
				   .sin_port = htons(9999) };
	struct sockaddr_in bc = any, from;
	socklen_t fl = sizeof(from);
	char buf[16];
	int on = 1, r, s;

	(void)state;
	assert_non_null(loopback_create(T.st));
	bc.sin_addr.s_addr = ts_ip("10.0.0.255");
	r = us_socket_on(T.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	s = us_socket_on(T.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(r >= 0 && s >= 0);
	assert_int_equal(us_bind(r, (struct sockaddr *)&any, sizeof(any)), 0);
	assert_int_equal(us_setsockopt(s, SOL_SOCKET, SO_BROADCAST, &on,
				       sizeof(on)), 0);
	assert_int_equal(us_sendto(s, "hello", 5, 0, (struct sockaddr *)&bc,
				   sizeof(bc)), 5);
	assert_int_equal(ts_flush_tx(&T), 1);          /* on the wire */
	assert_int_equal(us_recvfrom(r, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl), 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(from.sin_addr.s_addr, ME);
	assert_int_equal(us_recv(r, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	/* Unicast to the peer: the wire only. */
	bc.sin_addr.s_addr = PEER;
	assert_int_equal(us_sendto(s, "x", 1, 0, (struct sockaddr *)&bc,
				   sizeof(bc)), 1);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_int_equal(us_recv(r, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(us_close(r), 0);
	assert_int_equal(us_close(s), 0);
}

/* Send "x" from fd to dst (a control message's IP_TTL when cttl >= 0):
 * the frame's TTL, source and destination, or -errno. */
static int mc_send(int fd, uint32_t dst, int cttl, uint32_t *src)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = dst };
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to),
			    .msg_iov = &iov, .msg_iovlen = 1 };
	struct sk_buff *skb;
	int ttl;

	if (cttl >= 0) {
		struct cmsghdr *c = (struct cmsghdr *)ctl;

		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_TTL;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &cttl, sizeof(int));
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
	}
	if (us_sendmsg(fd, &m, 0) < 0)
		return -errno;
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	ttl = skb->data[8];
	memcpy(src, skb->data + 12, 4);
	assert_memory_equal(skb->data + 16, &dst, 4);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	return ttl;
}

/*
 * To a group, a datagram carries IP_MULTICAST_TTL (1 by default), not
 * IP_TTL; a control message's IP_TTL goes before both. IP_MULTICAST_IF
 * picks the device and the source when no route would (Linux's
 * udp_sendmsg: the flow's oif and saddr).
 */
static void test_udp_multicast_ttl_and_if(void **state)
{
	uint32_t group = ts_ip("224.1.2.3"), src;
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);
	int v = 9;
	struct in_addr ifa = { .s_addr = ME };

	(void)state;
	assert_true(fd >= 0);
	/* No route to the group yet. */
	assert_int_equal(mc_send(fd, group, -1, &src), -ENETUNREACH);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa,
				       sizeof(ifa)), 0);
	assert_int_equal(mc_send(fd, group, -1, &src), 1);
	assert_int_equal(src, ME);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v)),
			 0);
	assert_int_equal(mc_send(fd, group, -1, &src), 1);
	assert_int_equal(mc_send(fd, PEER, -1, &src), 9);
	v = 5;
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &v,
				       sizeof(v)), 0);
	assert_int_equal(mc_send(fd, group, -1, &src), 5);
	assert_int_equal(mc_send(fd, group, 7, &src), 7);
	assert_int_equal(mc_send(fd, PEER, -1, &src), 9);
	/* Cleared, the group is unreachable again; a default route then
	 * carries it, with the multicast TTL still. */
	ifa.s_addr = 0;
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa,
				       sizeof(ifa)), 0);
	assert_int_equal(mc_send(fd, group, -1, &src), -ENETUNREACH);
	assert_int_equal(ip_route_add(T.st, 0, 0, PEER, T.dev), 0);
	assert_int_equal(mc_send(fd, group, -1, &src), 5);
	assert_int_equal(src, ME);
	assert_int_equal(us_close(fd), 0);
}

static void test_route_table_full(void **state)
{
	int n = T.st->ip.nroutes;

	(void)state;
	for (int i = n; i < US_MAX_ROUTES; i++)
		assert_int_equal(ip_route_add(T.st, htonl(0x0b000000u + ((uint32_t)i << 8)),
					      24, PEER, T.dev), 0);
	assert_int_equal(ip_route_add(T.st, ts_ip("12.0.0.0"), 8, PEER, T.dev),
			 -ENOSPC);
}

struct ping_seen {
	int n;
	uint32_t from;
	uint16_t id, seq;
	size_t len;
};

static void on_reply(void *arg, uint32_t from, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len)
{
	struct ping_seen *p = arg;

	(void)data;
	p->n++;
	p->from = from;
	p->id = id;
	p->seq = seq;
	p->len = len;
}

/* Our own addresses and 127/8 never reach the wire: through lo, or not at
 * all when there is no lo. */
static void test_route_local_via_lo(void **state)
{
	struct ping_seen seen = { 0 };
	struct net_device *lo;
	struct ip_route rt;

	(void)state;
	assert_int_equal(ip_route_output(T.st, ME, &rt), -ENETUNREACH);
	assert_int_equal(ip_route_output(T.st, ts_ip("127.0.0.1"), &rt),
			 -ENETUNREACH);
	assert_int_equal(ip_addr_type(T.st, ts_ip("127.0.0.1")), IP_ADDR_INVALID);
	assert_int_equal(icmp_echo_send(T.st, ME, 1, 1, "x", 1), -ENETUNREACH);
	assert_null(ts_pop_tx(&T));

	lo = loopback_create(T.st);
	assert_non_null(lo);
	expect_route("10.0.0.2", lo, "10.0.0.2", ME);
	expect_route("127.0.0.5", lo, "127.0.0.5", ts_ip("127.0.0.1"));
	assert_int_equal(ip_addr_type(T.st, ts_ip("127.0.0.5")), IP_ADDR_LOCAL);
	/* Even a default route does not take 127/8 out. */
	assert_int_equal(ip_route_add(T.st, 0, 0, PEER, T.dev), 0);
	expect_route("127.9.9.9", lo, "127.9.9.9", ts_ip("127.0.0.1"));

	/* Ping ourselves, both ways, with nothing on test0. */
	T.st->icmp.echo_reply_cb = on_reply;
	T.st->icmp.echo_reply_arg = &seen;
	assert_int_equal(icmp_echo_send(T.st, ME, 7, 1, "hello", 5), 0);
	us_engine_run_until_idle(T.st);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.from, ME);
	assert_int_equal(seen.id, 7);
	assert_int_equal(seen.len, 5);
	assert_int_equal(icmp_echo_send(T.st, ts_ip("127.0.0.1"), 7, 2, "x", 1), 0);
	us_engine_run_until_idle(T.st);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.from, ts_ip("127.0.0.1"));
	assert_int_equal(seen.seq, 2);
	assert_null(ts_pop_tx(&T));
	/* Only the first ping, before lo existed, was dropped. */
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NO_ROUTE), 1);
	assert_int_equal(T.st->stats.drops_total, 1);
}

static void test_addr_type(void **state)
{
	static const struct {
		const char *a;
		enum ip_addr_type t;
	} cases[] = {
		{ "0.0.0.0", IP_ADDR_INVALID },
		{ "0.1.2.3", IP_ADDR_INVALID },
		{ "240.0.0.1", IP_ADDR_INVALID },
		{ "127.0.0.1", IP_ADDR_INVALID },   /* no lo */
		{ "255.255.255.255", IP_ADDR_BROADCAST },
		{ "10.0.0.255", IP_ADDR_BROADCAST },
		{ "224.0.0.1", IP_ADDR_MULTICAST },
		{ "239.255.255.255", IP_ADDR_MULTICAST },
		{ "10.0.0.2", IP_ADDR_LOCAL },
		{ "10.0.0.1", IP_ADDR_UNICAST },
		{ "10.0.0.0", IP_ADDR_UNICAST },    /* {net, 0}: not a broadcast */
		{ "8.8.8.8", IP_ADDR_UNICAST },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s\n", cases[i].a);
		assert_int_equal(ip_addr_type(T.st, ts_ip(cases[i].a)), cases[i].t);
	}
	/* RFC 3021: a /31 has no broadcast address. */
	assert_int_equal(netdev_set_ipv4(T.dev, ts_ip("10.9.9.0"), 31), 0);
	assert_int_equal(ip_addr_type(T.st, ts_ip("10.9.9.1")), IP_ADDR_UNICAST);
	assert_int_equal(ip_addr_type(T.st, ts_ip("10.0.0.255")), IP_ADDR_UNICAST);
	assert_int_equal(ip_addr_type(T.st, ts_ip("10.9.9.0")), IP_ADDR_LOCAL);
}

static void test_register_protocol(void **state)
{
	static const struct net_protocol other = { .handler = ipt_handler };

	(void)state;
	assert_int_equal(ip_register_protocol(T.st, IPT_PROTO, &other), -EEXIST);
	assert_int_equal(ip_register_protocol(T.st, IPT_PROTO, &ipt_proto), 0);
	assert_non_null(T.st->ip.protos[IPPROTO_ICMP_]);
	assert_int_equal(ip_register_protocol(T.st, IPT_PROTO, NULL), 0);
	/* Unregistered: protocol unreachable again. */
	ipt_inject(&T, PEER, ME, IPT_PROTO, 1, 0, "12345678", 8);
	assert_int_equal(R->delivered, 0);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_UNKNOWN_PROTO), 1);
	assert_int_equal(ts_flush_tx(&T), 1);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T_(test_parse_valid_and_emit),
		T_(test_parse_malformed),
		T_(test_parse_options),
		T_(test_deliver_to_protocol),
		T_(test_padding_trimmed),
		T_(test_not_for_us),
		T_(test_bad_saddr),
		T_(test_martians_with_lo),
		T_(test_broadcast_delivered),
		T_(test_unknown_protocol),
		T_(test_output_header),
		T_(test_output_id_per_flow),
		T_(test_output_no_route),
		T_(test_route_lpm),
		T_(test_route_table_full),
		T_(test_route_pmtu),
		T_(test_route_pmtu_full),
		T_(test_udp_pmtudisc_df),
		T_(test_udp_enobufs),
		T_(test_udp_broadcast_looped_back),
		T_(test_udp_multicast_ttl_and_if),
		T_(test_route_local_via_lo),
		T_(test_addr_type),
		T_(test_register_protocol),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
