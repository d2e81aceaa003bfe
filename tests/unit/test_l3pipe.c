/*
 * test_l3pipe.c - the layer-3 test device (src/dev/l3pipe.c) that the
 * packetdrill plug-in drives: its identity, a packet injected is received
 * by the stack and the answer is taken with its departure time, bad
 * injections are refused, a partial checksum is finished on the way out,
 * and the transmit queue is bounded (drops counted, never grows).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/checksum.h"
#include "dev/l3pipe.h"
#include "dev/netdev.h"
#include "lib/testnet.h"
#include "stack/stack.h"

#define T0 (1000 * US_USEC_PER_SEC)

struct pipe_fixture {
	struct us_clock clock;
	struct ustack *st;
	struct net_device *dev;
	uint32_t addr, peer;
};

static struct pipe_fixture F;

static int setup(void **state)
{
	struct ustack_config cfg;

	(void)state;
	memset(&F, 0, sizeof(F));
	us_clock_init_virtual(&F.clock, T0);
	ustack_config_init(&cfg);
	cfg.seed = 1;
	cfg.clock = &F.clock;
	cfg.log_level = 0;
	F.st = ustack_create(&cfg);
	assert_non_null(F.st);
	F.addr = ts_ip("192.168.0.1");
	F.peer = ts_ip("192.0.2.1");
	pthread_mutex_lock(&F.st->lock);
	us_engine_begin(F.st);
	F.dev = l3pipe_create(F.st, "pd0", 0);
	assert_non_null(F.dev);
	assert_int_equal(netdev_set_ipv4(F.dev, F.addr, 24), 0);
	assert_int_equal(ip_route_add(F.st, 0, 0, 0, F.dev), 0);
	pthread_mutex_unlock(&F.st->lock);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ustack_destroy(F.st);
	return 0;
}

/* An ICMP echo request from the peer, as a bare IPv4 packet. */
static size_t echo_request(uint8_t *buf, uint16_t seq)
{
	uint8_t icmp[64];
	size_t n = tb_icmp_echo(icmp, 8, 0x1234, seq, "ping", 4);

	return tb_ipv4(buf, F.peer, F.addr, IPPROTO_ICMP, seq, 0, 64, icmp, n);
}

static int inject_locked(const void *buf, size_t len)
{
	int rc;

	pthread_mutex_lock(&F.st->lock);
	us_engine_begin(F.st);
	rc = l3pipe_inject(F.dev, buf, len);
	us_engine_run_pending(F.st);
	pthread_mutex_unlock(&F.st->lock);
	return rc;
}

static struct sk_buff *pop_locked(void)
{
	struct sk_buff *skb;

	pthread_mutex_lock(&F.st->lock);
	skb = l3pipe_pop(F.dev);
	pthread_mutex_unlock(&F.st->lock);
	return skb;
}

static void test_identity(void **state)
{
	(void)state;
	assert_string_equal(F.dev->name, "pd0");
	assert_int_equal(F.dev->type, US_ARPHRD_NONE);
	assert_int_equal(F.dev->hard_header_len, 0);
	assert_true(F.dev->flags & US_IFF_UP);
	assert_true(F.dev->flags & US_IFF_NOARP);
	assert_int_equal(F.dev->mtu, 1500);
	assert_int_equal(F.dev->features, 0);
	assert_int_equal(l3pipe_pending(F.dev), 0);
	assert_null(pop_locked());
}

/* Injected, received, answered; the answer is a bare IPv4 packet to the
 * peer stamped with the engine time it left at. */
static void test_inject_and_take_answer(void **state)
{
	uint8_t pkt[128];
	size_t n = echo_request(pkt, 1);
	struct sk_buff *skb;
	uint32_t daddr;

	(void)state;
	us_clock_advance(&F.clock, 2500);
	assert_int_equal(inject_locked(pkt, n), 0);
	assert_int_equal(l3pipe_pending(F.dev), 1);
	skb = pop_locked();
	assert_non_null(skb);
	assert_int_equal(skb->tstamp, T0 + 2500);
	assert_int_equal(skb->len, n);
	assert_int_equal(skb->data[0], 0x45);
	assert_int_equal(skb->data[9], IPPROTO_ICMP);
	memcpy(&daddr, skb->data + 16, 4);
	assert_int_equal(daddr, F.peer);
	assert_int_equal(inet_csum(skb->data, 20), 0);
	assert_int_equal(skb->data[20], 0);                /* echo reply */
	assert_int_equal(inet_csum(skb->data + 20, skb->len - 20), 0);
	skb_free(skb);
	assert_null(pop_locked());
	assert_int_equal(F.dev->stats.rx_packets, 1);
	assert_int_equal(F.dev->stats.tx_packets, 1);
}

/* Nothing and too much are refused; a packet the stack cannot use is
 * dropped and counted, with nothing sent. */
static void test_bad_injections(void **state)
{
	static uint8_t big[70000];
	uint8_t junk[20] = { 0x45 };
	uint64_t drops = F.st->stats.drops_total;

	(void)state;
	assert_int_equal(inject_locked(junk, 0), -EINVAL);
	assert_int_equal(inject_locked(big, 65536), -EINVAL);
	assert_int_equal(inject_locked(junk, sizeof(junk)), 0);
	assert_true(F.st->stats.drops_total > drops);
	assert_int_equal(l3pipe_pending(F.dev), 0);
}

/* A partial checksum (pseudo-header sum in place) is finished by the
 * device, which offers no offload. */
static void test_partial_checksum_finished(void **state)
{
	uint8_t udp[8 + 5] = { 0x30, 0x39, 0x00, 0x35, 0x00, 13, 0, 0,
			       'h', 'e', 'l', 'l', 'o' };
	struct sk_buff *skb;
	uint16_t pseudo;
	uint32_t sum;

	(void)state;
	pthread_mutex_lock(&F.st->lock);
	us_engine_begin(F.st);
	skb = us_skb_alloc(F.st, 20 + sizeof(udp));
	assert_non_null(skb);
	skb_put(skb, (unsigned int)tb_ipv4(skb->data, F.addr, F.peer,
					   IPPROTO_UDP, 7, 0, 64, udp,
					   sizeof(udp)));
	/* The stack's half: the folded pseudo-header sum, not complemented. */
	pseudo = (uint16_t)~csum_fold(csum_tcpudp_nofold(F.addr, F.peer,
							 IPPROTO_UDP,
							 sizeof(udp), 0));
	skb->data[20 + 6] = (uint8_t)(pseudo >> 8);
	skb->data[20 + 7] = (uint8_t)pseudo;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = (uint16_t)(skb_headroom(skb) + 20);
	skb->csum_offset = 6;
	skb->dev = F.dev;
	assert_int_equal(dev_queue_xmit(skb), 0);
	skb = l3pipe_pop(F.dev);
	pthread_mutex_unlock(&F.st->lock);
	assert_non_null(skb);
	assert_int_equal(skb->ip_summed, CHECKSUM_NONE);
	sum = csum_tcpudp_nofold(F.addr, F.peer, IPPROTO_UDP, sizeof(udp), 0);
	assert_int_equal(csum_fold(csum_partial(skb->data + 20, sizeof(udp),
						sum)), 0);
	skb_free(skb);
}

/* A harness that never takes its packets cannot make the stack grow:
 * past the bound, what is sent is dropped and counted. */
static void test_queue_bound(void **state)
{
	uint8_t pkt[128];
	unsigned int sent = 4200;

	(void)state;
	for (unsigned int i = 0; i < sent; i++) {
		size_t n = echo_request(pkt, (uint16_t)i);

		assert_int_equal(inject_locked(pkt, n), 0);
	}
	assert_int_equal(l3pipe_pending(F.dev), 4096);
	assert_int_equal(F.dev->stats.tx_dropped, sent - 4096);
	/* Teardown frees what is still queued (LeakSanitizer checks). */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_and_take_answer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_injections, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_partial_checksum_finished,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
