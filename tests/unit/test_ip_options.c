/*
 * test_ip_options.c - IPv4 header options (RFC 791 §3.1) on the wire, on
 * the layer-3 test device: the parameter problems (RFC 792) for bad
 * options with the spec's pointers, none for a non-first fragment nor for
 * a datagram not ours, record route and timestamp filled in on receipt,
 * the echo of an ICMP echo request's options (`ping -R`), the header
 * ip_output writes for record route, timestamp and a loose source route,
 * and options in fragments. test_diff_ipoptions has what sockets see.
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
#include <string.h>

#include "net/ip_options.h"
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

/* A datagram to dst with these options (padded to 4) and 8 bytes of
 * payload, protocol proto, fragment field frag. Returns its length. */
static size_t mk(uint8_t *buf, uint32_t dst, uint8_t proto, uint16_t frag,
		 const uint8_t *opt, size_t optlen, const void *pay,
		 size_t paylen)
{
	size_t hlen = 20 + ((optlen + 3) & ~(size_t)3);
	uint16_t sum;

	memset(buf, 0, hlen);
	tb_ipv4(buf, PEER, dst, proto, 1, frag, 64, pay, paylen);
	memmove(buf + hlen, buf + 20, paylen);
	memset(buf + 20, 0, hlen - 20);
	memcpy(buf + 20, opt, optlen);
	buf[0] = (uint8_t)(0x40 | hlen / 4);
	buf[2] = (uint8_t)((hlen + paylen) >> 8);
	buf[3] = (uint8_t)(hlen + paylen);
	buf[10] = buf[11] = 0;
	sum = inet_csum(buf, hlen);
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	return hlen + paylen;
}

/* The spec's §2.2 table: delivered, or a parameter problem (type 12,
 * code 0) pointing at the octet at fault, the datagram dropped; the
 * problem echoes the options taken before the bad one (two RR: the
 * first, with this host's entry), and a bad CIPSO option itself (Linux's
 * __icmp_send echoes what ip_options_compile noted up to the error). */
static void test_rcv_param_problem(void **state)
{
	static const struct {
		uint8_t opt[16];
		size_t len;
		uint8_t pointer;   /* 0: delivered */
		uint8_t echo[12];  /* the problem's own options */
		size_t echo_len;
	} cases[] = {
#define NONE { 0 }, 0
		{ { 1, 1, 1, 1 }, 4, 0, NONE },
		{ { 0, 7, 3, 0x63 }, 4, 0, NONE },
		{ { 1, 7, 1, 0 }, 4, 21, NONE },             /* length 1 */
		{ { 7, 0, 0, 0 }, 4, 20, NONE },             /* length 0 */
		{ { 7, 9, 4, 0, 0, 0, 0, 0 }, 8, 20, NONE }, /* past the end */
		{ { 1, 1, 1, 7 }, 4, 23, NONE },             /* no length */
		{ { 7, 7, 3 }, 8, 22, NONE },                /* RR pointer 3 */
		{ { 7, 7, 5 }, 8, 22, NONE },                /* pointer 5 */
		{ { 7, 2, 1, 1 }, 4, 21, NONE },             /* RR length 2 */
		{ { 7, 7, 4, 0, 0, 0, 0, 1, 7, 3, 4 }, 12, 28,   /* two RR */
		  { 7, 7, 8, 10, 0, 0, 2, 0 }, 8 },
		{ { 0x44, 8, 4, 0 }, 8, 22, NONE },          /* TS pointer 4 */
		{ { 0x44, 8, 5, 1 }, 8, 22, NONE },          /* no pair room */
		{ { 0x44, 3, 5, 1 }, 4, 21, NONE },          /* TS length 3 */
		{ { 0x44, 8, 9, 0xf0 }, 8, 23, NONE },       /* overflow 15 */
		{ { 0x94, 2, 1, 1 }, 4, 21, NONE },          /* RA length 2 */
		{ { 0x86, 6, 0, 0, 0, 1 }, 8, 21,            /* CIPSO */
		  { 0x86, 6, 0, 0, 0, 1, 0, 0 }, 8 },
		{ { 0x86, 10, 0, 0, 0, 1, 1, 2, 0, 0 }, 12, 22,
		  { 0x86, 10, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0 }, 12 },
		{ { 0x83, 7, 3 }, 8, 22, NONE },             /* LSRR pointer 3 */
		{ { 7, 7, 8, 1, 2, 3, 4 }, 8, 0, NONE },     /* RR full */
		{ { 0x44, 8, 9, 0x10 }, 8, 0, NONE },        /* TS full */
		{ { 0x94, 4, 0, 0 }, 4, 0, NONE },           /* RA */
		{ { 0x82, 4, 0, 0, 25, 4, 1, 2 }, 8, 0, NONE },  /* SEC, unknown */
		{ { 0x44, 8, 5, 2 }, 8, 0, NONE },           /* TS flag 2 */
		{ { 0x44, 12, 5, 3, 10, 9, 9, 9 }, 12, 0, NONE },  /* not us */
#undef NONE
	};
	int delivered = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[128];
		size_t n = mk(buf, ME, IPT_PROTO, 0, cases[i].opt, cases[i].len,
			      "payload!", 8);
		uint64_t bad = ipt_drops(&T, US_DROP_IP_BAD_OPTIONS);
		struct sk_buff *skb;
		size_t h;

		print_message("case %zu\n", i);
		ts_advance(&T, 2000000);   /* past ICMP's rate limit */
		ts_inject(&T, buf, n);
		skb = ts_pop_tx(&T);
		if (!cases[i].pointer) {
			assert_null(skb);
			assert_int_equal(R->delivered, ++delivered);
			assert_memory_equal(R->data, "payload!", 8);
			continue;
		}
		assert_int_equal(R->delivered, delivered);
		assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_OPTIONS), bad + 1);
		assert_non_null(skb);
		assert_int_equal(skb->data[0], 0x45 + cases[i].echo_len / 4);
		if (cases[i].echo_len)
			assert_memory_equal(skb->data + 20, cases[i].echo,
					    cases[i].echo_len);
		h = 20 + cases[i].echo_len;
		assert_int_equal(skb->data[h], 12);
		assert_int_equal(skb->data[h + 1], 0);
		assert_int_equal(skb->data[h + 4], cases[i].pointer);
		/* The datagram quoted from its header. */
		assert_memory_equal(skb->data + h + 8 + 12, buf + 12, 8);
		skb_free(skb);
	}
}

/* No parameter problem for a non-first fragment, nor for a datagram not
 * for this host (dropped before its options are looked at); a source
 * route is dropped silently, a malformed one answered. */
static void test_rcv_silent_drops(void **state)
{
	static const uint8_t rr3[8] = { 7, 7, 3 };
	static const uint8_t lsrr[12] = { 0x83, 11, 12, 10, 5, 5, 5, 10, 6, 6,
					  6 };
	uint8_t buf[128];
	size_t n;

	(void)state;
	n = mk(buf, ME, IPT_PROTO, 1, rr3, 8, "payload!", 8);
	ts_inject(&T, buf, n);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_OPTIONS), 1);

	n = mk(buf, ts_ip("10.0.0.77"), IPT_PROTO, 0, rr3, 8, "payload!", 8);
	ts_inject(&T, buf, n);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), 1);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_BAD_OPTIONS), 1);

	n = mk(buf, ME, IPT_PROTO, 0, lsrr, 12, "payload!", 8);
	ts_inject(&T, buf, n);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(ipt_drops(&T, US_DROP_IP_SOURCE_ROUTE), 1);
	assert_int_equal(R->delivered, 0);
}

/* RFC 791 §3.1: on delivery, record route gets this host's address,
 * timestamps the time (and address), a full timestamp's overflow count
 * goes up, bytes after END become END. */
static void test_rcv_fill(void **state)
{
	static const uint8_t rr[12] = { 7, 11, 8, 10, 0, 0, 1 };
	static const uint8_t ts_full[8] = { 0x44, 8, 9, 0x20, 1, 2, 3, 4 };
	static const uint8_t tsa[12] = { 0x44, 12, 5, 1 };
	static const uint8_t pre[12] = { 0x44, 12, 5, 3, 10, 0, 0, 2 };
	static const uint8_t end[4] = { 0, 7, 3, 0x63 };
	uint8_t buf[128];
	uint32_t a;

	(void)state;
	ts_inject(&T, buf, mk(buf, ME, IPT_PROTO, 0, rr, 12, "payload!", 8));
	assert_int_equal(R->iph[22], 12);
	assert_memory_equal(R->iph + 27, &ME, 4);
	assert_int_equal(R->iph[31], 0);

	ts_inject(&T, buf, mk(buf, ME, IPT_PROTO, 0, ts_full, 8, "payload!",
			      8));
	assert_int_equal(R->iph[23], 0x30);

	ts_inject(&T, buf, mk(buf, ME, IPT_PROTO, 0, tsa, 12, "payload!", 8));
	assert_int_equal(R->iph[22], 13);
	assert_memory_equal(R->iph + 24, &ME, 4);

	ts_inject(&T, buf, mk(buf, ME, IPT_PROTO, 0, pre, 12, "payload!", 8));
	assert_int_equal(R->iph[22], 13);
	memcpy(&a, R->iph + 24, 4);
	assert_int_equal(a, ME);

	ts_inject(&T, buf, mk(buf, ME, IPT_PROTO, 0, end, 4, "payload!", 8));
	assert_memory_equal(R->iph + 20, "\0\0\0\0", 4);
	assert_int_equal(R->delivered, 5);
	assert_null(ts_pop_tx(&T));
}

/* `ping -R`: the echo reply carries the request's record route with this
 * host's receive entry and its send entry; NOPs are not echoed; no DF. */
static void test_echo_reply_rr(void **state)
{
	uint8_t opt[40] = { 1, 7, 39, 4 };
	uint8_t icmp[8] = { 8, 0, 0, 0, 0, 1, 0, 1 };
	uint8_t buf[128];
	struct sk_buff *skb;
	uint16_t sum;
	size_t n;

	(void)state;
	memcpy(opt + 4, &PEER, 4);
	opt[3] = 8;
	sum = inet_csum(icmp, 8);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	n = mk(buf, ME, 1, 0, opt, 40, icmp, 8);
	ts_inject(&T, buf, n);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb->data[0], 0x4f);   /* 40 bytes of options */
	assert_int_equal(skb->data[6] & 0x40, 0);
	assert_int_equal(skb->data[20], 7);     /* RR first: NOP gone */
	assert_int_equal(skb->data[21], 39);
	assert_int_equal(skb->data[22], 16);    /* three entries */
	assert_memory_equal(skb->data + 23, &PEER, 4);
	assert_memory_equal(skb->data + 27, &ME, 4);
	assert_memory_equal(skb->data + 31, &ME, 4);
	assert_int_equal(skb->data[59], 0);     /* END padding */
	assert_int_equal(inet_csum(skb->data, 60), 0);
	assert_int_equal(skb->data[60], 0);     /* the echo reply */
	skb_free(skb);
}

/* The header ip_output builds (Linux's ip_options_build): record route
 * with the source in its slot, a loose source route to its first hop
 * with the destination in its last slot, fragments NOP-ing the options
 * without the copied flag. */
static void test_output_options(void **state)
{
	static const uint8_t rr[8] = { 7, 7, 4 };
	static const uint8_t lsrr[8] = { 0x83, 7, 4, 10, 0, 0, 9 };
	static const uint8_t mix[16] = { 7, 7, 4, 0, 0, 0, 0, 0x9e, 4, 0x11,
					 0x22, 0x94, 4, 0, 0, 1 };
	struct ip_out_args a = { .daddr = PEER, .protocol = IPT_PROTO };
	struct ip_options o;
	uint8_t pay[3000];
	struct sk_buff *skb;
	uint32_t hop = ts_ip("10.0.0.9");

	(void)state;
	assert_int_equal(ip_options_compile_sock(T.st, &o, rr, 7, false), 0);
	a.opt = &o;
	skb = us_skb_alloc(T.st, 4);
	skb_put_data(skb, "abcd", 4);
	assert_int_equal(ip_output(T.st, skb, &a), 0);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb->data[0], 0x47);
	assert_int_equal(skb->data[3], 32);
	assert_memory_equal(skb->data + 20, "\x07\x07\x08", 3);
	assert_memory_equal(skb->data + 23, &ME, 4);
	assert_int_equal(inet_csum(skb->data, 28), 0);
	assert_memory_equal(skb->data + 28, "abcd", 4);
	skb_free(skb);

	assert_int_equal(ip_options_compile_sock(T.st, &o, lsrr, 7, false),
			 -EPERM);
	assert_int_equal(ip_options_compile_sock(T.st, &o, lsrr, 7, true), 0);
	skb = us_skb_alloc(T.st, 4);
	skb_put_data(skb, "abcd", 4);
	assert_int_equal(ip_output(T.st, skb, &a), 0);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_memory_equal(skb->data + 16, &hop, 4);   /* the first hop */
	assert_memory_equal(skb->data + 20, "\x83\x07\x04", 3);
	assert_memory_equal(skb->data + 23, &PEER, 4);
	skb_free(skb);

	assert_int_equal(ip_options_compile_sock(T.st, &o, mix, 16, true), 0);
	memset(pay, 0x5a, sizeof(pay));
	skb = us_skb_alloc(T.st, 3000);
	skb_put_data(skb, pay, 3000);
	assert_int_equal(ip_output(T.st, skb, &a), 0);
	for (int i = 0; i < 3; i++) {
		skb = ts_pop_tx(&T);
		assert_non_null(skb);
		assert_int_equal(skb->data[0], 0x49);
		if (i == 0)
			assert_memory_equal(skb->data + 20, "\x07\x07\x08", 3);
		else
			assert_memory_equal(skb->data + 20,
					    "\x01\x01\x01\x01\x01\x01\x01", 7);
		assert_memory_equal(skb->data + 27, mix + 7, 9);
		assert_int_equal(inet_csum(skb->data, 36), 0);
		skb_free(skb);
	}
	assert_null(ts_pop_tx(&T));
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_rcv_param_problem),
		T_(test_rcv_silent_drops),
		T_(test_rcv_fill),
		T_(test_echo_reply_rr),
		T_(test_output_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
