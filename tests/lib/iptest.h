/*
 * iptest.h - helpers shared by the IPv4, fragmentation and ICMP unit tests
 * (test_ipv4.c, test_ip_frag.c, test_icmp.c): inject a crafted datagram on
 * the layer-3 test device, pop what the stack sent and check its header,
 * and a test transport protocol that records what IPv4 delivered to it and
 * what ICMP errors were passed to its err_handler.
 *
 * Include after <cmocka.h>. Everything is static: each test is one binary.
 */
#ifndef US_TESTS_IPTEST_H
#define US_TESTS_IPTEST_H

#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "lib/testnet.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "stack/stack.h"

#define IPT_PROTO 253   /* RFC 3692 experimental: the test protocol */
#define IPT_MAX_PKT 70000

static inline uint16_t ipt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Inject one IPv4 datagram (header built by tb_ipv4) on t's device. */
static inline void ipt_inject(struct test_stack *t, uint32_t saddr,
			      uint32_t daddr, uint8_t proto, uint16_t id,
			      uint16_t frag_off, const void *payload, size_t len)
{
	uint8_t *buf = malloc(20 + len);

	assert_non_null(buf);
	tb_ipv4(buf, saddr, daddr, proto, id, frag_off, 64, payload, len);
	ts_inject(t, buf, 20 + len);
	free(buf);
}

/*
 * Pop the next transmitted packet of an L3 device, assert that it is a
 * valid IPv4 datagram (version, lengths, header checksum) filling h.
 */
static inline struct sk_buff *ipt_pop(struct test_stack *t,
				      struct ipv4_info *h)
{
	struct sk_buff *skb = ts_pop_tx(t);

	assert_non_null(skb);
	assert_int_equal(ipv4_parse(skb->data, skb->len, h), US_DROP_NOT_DROPPED);
	assert_int_equal(h->tot_len, skb->len);
	return skb;
}

/* An ICMP message of any type with its checksum. */
static inline size_t ipt_icmp(uint8_t *buf, uint8_t type, uint8_t code,
			      uint32_t rest, const void *data, size_t len)
{
	uint16_t sum;

	buf[0] = type;
	buf[1] = code;
	buf[2] = buf[3] = 0;
	buf[4] = (uint8_t)(rest >> 24);
	buf[5] = (uint8_t)(rest >> 16);
	buf[6] = (uint8_t)(rest >> 8);
	buf[7] = (uint8_t)rest;
	if (len)
		memcpy(buf + 8, data, len);
	sum = inet_csum(buf, 8 + len);
	buf[2] = (uint8_t)(sum >> 8);
	buf[3] = (uint8_t)sum;
	return 8 + len;
}

static inline uint64_t ipt_drops(struct test_stack *t, enum us_drop_reason r)
{
	return t->st->stats.drops[r];
}

static inline uint64_t ipt_mib(struct test_stack *t, enum us_mib m)
{
	return t->st->stats.mib[m];
}

/* What the test protocol saw. */
struct ipt_record {
	int delivered;                 /* handler calls */
	size_t len;                    /* skb->len at the transport header */
	uint8_t data[IPT_MAX_PKT];     /* transport bytes */
	uint8_t iph[60];               /* the network header */
	int transport_at_data;         /* transport header == data */
	int errors;                    /* err_handler calls */
	struct ipv4_info inner;
	uint8_t l4[64];
	size_t l4_len;
	int type, code;
	uint32_t info;
};

static struct ipt_record *ipt_rec;

static inline void ipt_handler(struct sk_buff *skb)
{
	struct ipt_record *r = ipt_rec;
	const uint8_t *nh = skb_network_header(skb);

	r->delivered++;
	r->len = skb->len;
	if (skb->len <= sizeof(r->data))
		memcpy(r->data, skb->data, skb->len);
	memcpy(r->iph, nh, (nh[0] & 0xfu) * 4u);
	r->transport_at_data = skb_transport_header(skb) == skb->data;
	skb_free(skb);
}

static inline void ipt_err_handler(struct ustack *st, struct sk_buff *skb,
				   const struct ipv4_info *inner,
				   const uint8_t *l4, size_t l4_len, int type,
				   int code, uint32_t info)
{
	struct ipt_record *r = ipt_rec;

	(void)st;
	(void)skb;
	r->errors++;
	r->inner = *inner;
	r->l4_len = l4_len;
	memcpy(r->l4, l4, l4_len < sizeof(r->l4) ? l4_len : sizeof(r->l4));
	r->type = type;
	r->code = code;
	r->info = info;
}

static const struct net_protocol ipt_proto = {
	.handler = ipt_handler,
	.err_handler = ipt_err_handler,
};

/* Register the test protocol on t and give it a fresh record. */
static inline struct ipt_record *ipt_register(struct test_stack *t)
{
	ipt_rec = calloc(1, sizeof(*ipt_rec));
	assert_non_null(ipt_rec);
	assert_int_equal(ip_register_protocol(t->st, IPT_PROTO, &ipt_proto), 0);
	return ipt_rec;
}

static inline void ipt_unregister(void)
{
	free(ipt_rec);
	ipt_rec = NULL;
}

#endif
