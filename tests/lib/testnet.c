/*
 * testnet.c - the unit-test fixture and frame builders (see testnet.h).
 */
#include "testnet.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

#define TS_RX_BUF 1536u

const uint8_t TS_DEV_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
const uint8_t TS_PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct testdev_priv {
	struct sk_buff_head txq;
	const unsigned int *limit;  /* the fixture's tx_limit */
};

static int testdev_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct testdev_priv *p = netdev_priv(dev);

	if (*p->limit && p->txq.qlen >= *p->limit) {
		skb_free(skb);
		return -ENOBUFS;
	}
	skb_queue_tail(&p->txq, skb);
	return 0;
}

static void testdev_destroy(struct net_device *dev)
{
	struct testdev_priv *p = netdev_priv(dev);

	skb_queue_purge(&p->txq);
}

static const struct net_device_ops testdev_ops = {
	.xmit = testdev_xmit,
	.destroy = testdev_destroy,
};

uint32_t ts_ip(const char *dotted)
{
	struct in_addr a;
	int ok = inet_pton(AF_INET, dotted, &a);

	assert(ok == 1);
	(void)ok;
	return a.s_addr;
}

static void ts_init_common(struct test_stack *t, bool l3, const char *addr,
			   int prefix_len)
{
	struct ustack_config cfg;
	struct testdev_priv *p;
	int err;

	memset(t, 0, sizeof(*t));
	us_clock_init_virtual(&t->clock, 1000 * US_USEC_PER_SEC);
	ustack_config_init(&cfg);
	cfg.seed = 1;
	cfg.clock = &t->clock;
	/* The fixture's own test device only; tests add "lo" when they want. */
	cfg.no_loopback = 1;
	cfg.log_level = getenv("US_TEST_LOG") ? atoi(getenv("US_TEST_LOG")) : 0;
	t->st = ustack_create(&cfg);
	assert(t->st);
	t->dev = netdev_alloc("test0", sizeof(struct testdev_priv), &testdev_ops);
	assert(t->dev);
	p = netdev_priv(t->dev);
	skb_queue_head_init(&p->txq);
	t->txq = &p->txq;
	p->limit = &t->tx_limit;
	if (l3) {
		t->dev->type = US_ARPHRD_NONE;
		t->dev->hard_header_len = 0;
		t->dev->flags = US_IFF_NOARP;
	} else {
		memcpy(t->dev->dev_addr, TS_DEV_MAC, 6);
	}
	t->dev->flags |= US_IFF_UP;
	err = netdev_register(t->st, t->dev);
	assert(err == 0);
	err = netdev_set_ipv4(t->dev, ts_ip(addr), prefix_len);
	assert(err == 0);
	(void)err;
}

void ts_init(struct test_stack *t, const char *addr, int prefix_len)
{
	ts_init_common(t, false, addr, prefix_len);
}

void ts_init_l3(struct test_stack *t, const char *addr, int prefix_len)
{
	ts_init_common(t, true, addr, prefix_len);
}

void ts_destroy(struct test_stack *t)
{
	ustack_destroy(t->st);
	t->st = NULL;
}

int ts_teardown(void **state)
{
	struct test_stack *t = *state;

	assert(t);
	ts_flush_tx(t);
	ts_destroy(t);
	return 0;
}

static void ts_inject_gso(struct test_stack *t, const void *frame,
			  size_t len, uint16_t gso_size)
{
	/* A receive buffer as a NIC's (or the TAP's): room for a full
	 * frame whatever this one's length. */
	unsigned int size = t->rx_buf ? t->rx_buf : TS_RX_BUF;
	struct sk_buff *skb = skb_alloc_reserved(&t->st->skb_pool, 64,
						 len < size ?
						 size : (unsigned int)len);

	assert(skb);
	skb_put_data(skb, frame, (unsigned int)len);
	skb->dev = t->dev;
	if (gso_size) {
		skb_shinfo(skb)->gso_size = gso_size;
		skb_shinfo(skb)->gso_segs = 1;
		skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	us_engine_begin(t->st);
	netif_receive_skb(skb);
	us_engine_run_until_idle(t->st);
	us_sigurg_flush(t->st);
}

void ts_inject(struct test_stack *t, const void *frame, size_t len)
{
	ts_inject_gso(t, frame, len, 0);
}

void ts_inject_udp_gso(struct test_stack *t, const void *frame, size_t len,
		       uint16_t gso_size)
{
	ts_inject_gso(t, frame, len, gso_size ? gso_size : 1);
}

struct sk_buff *ts_pop_tx(struct test_stack *t)
{
	return skb_dequeue(t->txq);
}

unsigned ts_flush_tx(struct test_stack *t)
{
	unsigned n = t->txq->qlen;

	skb_queue_purge(t->txq);
	return n;
}

void ts_advance(struct test_stack *t, us_time_t delta_us)
{
	us_clock_advance(&t->clock, delta_us);
	us_engine_begin(t->st);
	us_engine_run_until_idle(t->st);
	us_sigurg_flush(t->st);
}

size_t tb_eth(uint8_t *buf, const uint8_t *dst, const uint8_t *src,
	      uint16_t type)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = (uint8_t)(type >> 8);
	buf[13] = (uint8_t)type;
	return 14;
}

size_t tb_ipv4(uint8_t *buf, uint32_t saddr, uint32_t daddr, uint8_t proto,
	       uint16_t id, uint16_t frag_off, uint8_t ttl, const void *payload,
	       size_t len)
{
	uint16_t tot = (uint16_t)(20 + len);
	uint16_t sum;

	buf[0] = 0x45;
	buf[1] = 0;
	buf[2] = (uint8_t)(tot >> 8);
	buf[3] = (uint8_t)tot;
	buf[4] = (uint8_t)(id >> 8);
	buf[5] = (uint8_t)id;
	buf[6] = (uint8_t)(frag_off >> 8);
	buf[7] = (uint8_t)frag_off;
	buf[8] = ttl;
	buf[9] = proto;
	buf[10] = buf[11] = 0;
	memcpy(buf + 12, &saddr, 4);
	memcpy(buf + 16, &daddr, 4);
	sum = inet_csum(buf, 20);
	buf[10] = (uint8_t)(sum >> 8);
	buf[11] = (uint8_t)sum;
	if (len)
		memcpy(buf + 20, payload, len);
	return 20 + len;
}

size_t tb_icmp_echo(uint8_t *buf, uint8_t type, uint16_t id, uint16_t seq,
		    const void *data, size_t len)
{
	uint16_t sum;

	buf[0] = type;
	buf[1] = 0;
	buf[2] = buf[3] = 0;
	buf[4] = (uint8_t)(id >> 8);
	buf[5] = (uint8_t)id;
	buf[6] = (uint8_t)(seq >> 8);
	buf[7] = (uint8_t)seq;
	if (len)
		memcpy(buf + 8, data, len);
	sum = inet_csum(buf, 8 + len);
	buf[2] = (uint8_t)(sum >> 8);
	buf[3] = (uint8_t)sum;
	return 8 + len;
}

size_t tb_arp(uint8_t *buf, uint16_t op, const uint8_t *sha, uint32_t spa,
	      const uint8_t *tha, uint32_t tpa)
{
	buf[0] = 0;
	buf[1] = 1;       /* Ethernet */
	buf[2] = 0x08;
	buf[3] = 0x00;    /* IPv4 */
	buf[4] = 6;
	buf[5] = 4;
	buf[6] = (uint8_t)(op >> 8);
	buf[7] = (uint8_t)op;
	memcpy(buf + 8, sha, 6);
	memcpy(buf + 14, &spa, 4);
	memcpy(buf + 18, tha, 6);
	memcpy(buf + 24, &tpa, 4);
	return 28;
}

ssize_t ts_recv_gro(int fd, void *buf, size_t len, int *gso)
{
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	ssize_t n = us_recvmsg(fd, &m, MSG_DONTWAIT);

	*gso = -1;
	if (n < 0)
		return n;
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO)
		memcpy(gso, CMSG_DATA(c), sizeof(*gso));
	return n;
}
