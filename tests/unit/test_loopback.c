/*
 * test_loopback.c - the loopback device: its identity (name, flags, type,
 * MTU, zero MAC, 127.0.0.1/8), transmit only queues and the next poll
 * delivers (never inside xmit), next_event keeps a virtual-time engine
 * stepping while frames wait, order and poll budget, received frames
 * marked checksum-verified, a sender's shared buffer never handed up
 * for writing, the queue bound, and teardown with frames queued.
 *
 * Received frames are observed through a pcap capture on "lo", which
 * netif_receive_skb feeds before the protocol level runs. A capture on lo
 * records each frame twice, out and in; records alternate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "dev/loopback.h"
#include "dev/netdev.h"
#include "lib/pcapread.h"
#include "net/ether.h"
#include "stack/stack.h"

#define T0 (1000 * US_USEC_PER_SEC)
#define ETHERTYPE_TEST 0x88b5

struct lo_fixture {
	struct us_clock clock;
	struct ustack *st;
	struct net_device *lo;
	char cap[64];
};

static struct lo_fixture F;

/*
 * White-box view of loopback.c's private data (its queue is the first and
 * only member), to look at what xmit queued before poll hands it up.
 */
struct lo_priv_view {
	struct sk_buff_head rxq;
};

static struct sk_buff_head *lo_queue(void)
{
	return &((struct lo_priv_view *)netdev_priv(F.lo))->rxq;
}

static int setup(void **state)
{
	struct ustack_config cfg;

	(void)state;
	memset(&F, 0, sizeof(F));
	us_clock_init_virtual(&F.clock, T0);
	ustack_config_init(&cfg);
	cfg.clock = &F.clock;
	cfg.seed = 1;
	cfg.log_level = 0;
	cfg.no_loopback = 1;  /* this test creates "lo" itself */
	F.st = ustack_create(&cfg);
	if (!F.st)
		return -1;
	F.lo = loopback_create(F.st);
	if (!F.lo)
		return -1;
	tp_capture(F.lo, F.cap, sizeof(F.cap));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ustack_destroy(F.st);
	unlink(F.cap);
	return 0;
}

static struct sk_buff *test_frame(uint32_t seq, unsigned len)
{
	struct sk_buff *skb = us_skb_alloc(F.st, len);
	uint8_t *p;

	assert_non_null(skb);
	p = skb_put(skb, len);
	memset(p, 0, 12);                     /* zero MACs, as on lo */
	p[12] = ETHERTYPE_TEST >> 8;
	p[13] = ETHERTYPE_TEST & 0xff;
	for (unsigned i = 14; i < len; i++)
		p[i] = (uint8_t)(seq + i);
	memcpy(p + 14, &seq, 4);
	skb->dev = F.lo;
	return skb;
}

static uint32_t rec_seq(const struct tp_record *r)
{
	uint32_t seq;

	memcpy(&seq, r->data + 14, 4);
	return seq;
}

static void test_identity(void **state)
{
	(void)state;
	assert_string_equal(F.lo->name, "lo");
	assert_int_equal(F.lo->flags,
			 US_IFF_LOOPBACK | US_IFF_NOARP | US_IFF_UP);
	assert_int_equal(F.lo->type, US_ARPHRD_LOOPBACK);
	assert_int_equal(F.lo->mtu, 65536);
	assert_int_equal(F.lo->hard_header_len, ETH_HLEN);
	assert_true(eth_addr_is_zero(F.lo->dev_addr));
	assert_int_equal(F.lo->ip_addr, htonl(0x7f000001));
	assert_int_equal(F.lo->ip_mask, htonl(0xff000000));
	assert_int_equal(F.lo->fd, -1);
	assert_ptr_equal(us_dev_get_by_name(F.st, "lo"), F.lo);
	/* Only one per instance. */
	errno = 0;
	assert_null(loopback_create(F.st));
	assert_int_equal(errno, EEXIST);
}

/* Sent now, handed up on the next poll, not inside xmit. */
static void test_xmit_queues_poll_delivers(void **state)
{
	struct tp_file f;

	(void)state;
	assert_int_equal(us_engine_next_event(F.st), US_TIME_NEVER);
	assert_int_equal(dev_queue_xmit(test_frame(1, 100)), 0);
	assert_int_equal(F.lo->stats.tx_packets, 1);
	assert_int_equal(F.lo->stats.rx_packets, 0);
	/* Waiting frames make the engine's next event "now". */
	assert_int_equal(us_engine_next_event(F.st), T0);
	assert_int_equal(F.lo->ops->next_event(F.lo), F.st->now);

	assert_int_equal(F.lo->ops->poll(F.lo, 64), 1);
	assert_int_equal(F.lo->stats.rx_packets, 1);
	assert_int_equal(F.lo->stats.rx_bytes, 100);
	assert_int_equal(us_engine_next_event(F.st), US_TIME_NEVER);
	assert_int_equal(F.lo->ops->poll(F.lo, 64), 0);

	tp_capture_read(F.lo, F.cap, &f);
	assert_int_equal(f.n, 2);          /* out, then in */
	assert_int_equal(f.rec[1].incl_len, 100);
	assert_memory_equal(f.rec[0].data, f.rec[1].data, 100);
	assert_int_equal(rec_seq(&f.rec[1]), 1);
	tp_free(&f);
}

static void test_order_and_budget(void **state)
{
	struct tp_file f;

	(void)state;
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(dev_queue_xmit(test_frame(i, 60 + i)), 0);
	assert_int_equal(F.lo->ops->poll(F.lo, 4), 4);
	assert_int_equal(F.lo->stats.rx_packets, 4);
	assert_int_equal(us_engine_next_event(F.st), F.st->now);
	us_engine_run_until_idle(F.st);
	assert_int_equal(F.lo->stats.rx_packets, 10);

	tp_capture_read(F.lo, F.cap, &f);
	assert_int_equal(f.n, 20);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rec_seq(&f.rec[10 + i]), i);
		assert_int_equal(f.rec[10 + i].incl_len, 60 + i);
	}
	tp_free(&f);
}

/*
 * A frame whose data is shared with a clone the sender keeps (as TCP keeps
 * its retransmission queue) is unshared before it goes up, so whatever the
 * receiver writes cannot reach the sender's copy; one whose struct has
 * another user is copied.
 */
static void test_shared_buffers_are_not_handed_up(void **state)
{
	struct sk_buff *skb = test_frame(5, 80);
	struct sk_buff *kept = skb_clone(skb);
	struct sk_buff *held = test_frame(6, 80);
	struct sk_buff *queued;

	(void)state;
	assert_non_null(kept);
	assert_true(skb_shared_data(kept));
	assert_int_equal(dev_queue_xmit(skb), 0);
	assert_false(skb_shared_data(kept));
	skb_get(held);
	assert_int_equal(dev_queue_xmit(held), 0);
	assert_int_equal(held->users, 1);   /* our reference, untouched */

	assert_int_equal(lo_queue()->qlen, 2);
	queued = skb_peek(lo_queue());
	assert_ptr_not_equal(queued->head, kept->head);
	queued = skb_peek_tail(lo_queue());
	assert_ptr_not_equal(queued, held);
	assert_int_equal(queued->users, 1);
	skb_free(kept);
	skb_free(held);
}

/* Nothing left the memory, so the receiver is told not to verify; a
 * CHECKSUM_PARTIAL frame's unfinished checksum must not be checked. */
static void test_rx_checksum_unnecessary(void **state)
{
	struct sk_buff *skb = test_frame(7, 64);

	(void)state;
	skb->ip_summed = CHECKSUM_PARTIAL;
	assert_int_equal(dev_queue_xmit(skb), 0);
	/* Keep a reference across poll to look at what was handed up. */
	skb = skb_get(skb_peek(lo_queue()));
	assert_int_equal(F.lo->ops->poll(F.lo, 1), 1);
	assert_int_equal(skb->ip_summed, CHECKSUM_UNNECESSARY);
	assert_ptr_equal(skb->dev, F.lo);
	assert_true(F.lo->features & US_NETIF_F_RXCSUM);
	skb_free(skb);
}

static void test_queue_bound(void **state)
{
	int ok = 0, refused = 0;

	(void)state;
	for (int i = 0; i < 1100; i++) {
		int rc = dev_queue_xmit(test_frame((uint32_t)i, 60));

		if (rc == 0)
			ok++;
		else {
			assert_int_equal(rc, -ENOBUFS);
			refused++;
		}
	}
	assert_int_equal(ok, 1000);
	assert_int_equal(refused, 100);
	assert_int_equal(F.lo->stats.tx_dropped, 100);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_TX_ERROR], 100);
	us_engine_run_until_idle(F.st);
	assert_int_equal(F.lo->stats.rx_packets, 1000);
	assert_int_equal(dev_queue_xmit(test_frame(0, 60)), 0);
}

/* Queued frames are freed with the device (LeakSanitizer checks). */
static void test_destroy_with_frames_queued(void **state)
{
	(void)state;
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(dev_queue_xmit(test_frame(i, 200)), 0);
	assert_true(F.st->skb_pool.live >= 5);
}

/* A frame to 127.0.0.1 goes through the whole stack and back: an ICMP
 * echo request to ourselves is answered over lo. */
static void test_ping_self(void **state)
{
	(void)state;
	if (icmp_echo_send(F.st, htonl(0x7f000001), 1, 1, "x", 1) != 0)
		skip();
	us_engine_run_until_idle(F.st);
	assert_int_equal(F.st->stats.mib[US_MIB_ICMP_IN_ECHOS], 1);
	assert_int_equal(F.st->stats.mib[US_MIB_ICMP_IN_ECHO_REPS], 1);
	assert_int_equal(F.lo->stats.rx_packets, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xmit_queues_poll_delivers,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_budget, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_buffers_are_not_handed_up,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_checksum_unnecessary,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_destroy_with_frames_queued,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_self, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
