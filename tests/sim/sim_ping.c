/*
 * sim_ping.c - two stack instances ping each other over the in-memory wire
 * with 10 % loss and reordering, for 10,000 virtual seconds.
 *
 * Every second each side sends one echo request (every fifth one 3000 bytes,
 * so it is fragmented and reassembled). Checked: every reply answers a
 * request that was sent, with its data intact; the fraction answered matches
 * what the loss rate allows; and when the wire is quiet no packet buffer is
 * left anywhere (LeakSanitizer then checks the rest at exit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "dev/wire.h"
#include "lib/sim.h"
#include "net/icmp.h"
#include "stack/stack.h"

#define PINGS 10000
#define BIG_EVERY 5
#define BIG_LEN 3000
#define SMALL_LEN 56

struct pinger {
	struct ustack *st;
	struct us_timer timer;
	uint32_t peer;
	uint16_t id;
	uint16_t next_seq;
	uint32_t sent, sent_big;
	uint32_t replies, replies_big;
	uint32_t bad;              /* replies that match nothing or are corrupt */
	uint8_t answered[PINGS];   /* duplicates would show here */
};

static void fill_payload(uint8_t *buf, size_t len, uint16_t id, uint16_t seq)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 31 + seq * 7 + id);
}

static size_t ping_len(uint16_t seq)
{
	return seq % BIG_EVERY == 0 ? BIG_LEN : SMALL_LEN;
}

static void on_reply(void *arg, uint32_t from, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t len)
{
	struct pinger *p = arg;
	uint8_t expect[BIG_LEN];

	if (from != p->peer || id != p->id || seq >= p->next_seq ||
	    len != ping_len(seq)) {
		p->bad++;
		return;
	}
	fill_payload(expect, len, id, seq);
	if (memcmp(expect, data, len) != 0 || p->answered[seq]) {
		p->bad++;
		return;
	}
	p->answered[seq] = 1;
	p->replies++;
	if (len == BIG_LEN)
		p->replies_big++;
}

static void ping_tick(struct us_timer *t, us_time_t now)
{
	struct pinger *p = container_of(t, struct pinger, timer);
	uint8_t buf[BIG_LEN];
	uint16_t seq = p->next_seq++;
	size_t len = ping_len(seq);

	fill_payload(buf, len, p->id, seq);
	if (icmp_echo_send(p->st, p->peer, p->id, seq, buf, len) == 0) {
		p->sent++;
		if (len == BIG_LEN)
			p->sent_big++;
	}
	if (p->next_seq < PINGS)
		us_timer_mod(&p->st->timers, t, now + US_USEC_PER_SEC);
}

static void start_pinger(struct pinger *p, struct ustack *st, uint32_t peer,
			 uint16_t id, us_time_t first)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->peer = peer;
	p->id = id;
	st->icmp.echo_reply_cb = on_reply;
	st->icmp.echo_reply_arg = p;
	us_timer_init(&p->timer, ping_tick);
	us_timer_mod(&st->timers, &p->timer, first);
}

static void test_ping_over_lossy_wire(void **state)
{
	static struct pinger pa, pb;
	struct us_clock clock;
	struct ustack *st[2];
	struct net_device *da, *db;
	struct wire_params wp;
	uint64_t seed = sim_seed("sim_ping", 1);
	uint32_t a = inet_addr("10.9.0.1"), b = inet_addr("10.9.0.2");
	double rate_small, rate_big;

	(void)state;
	us_clock_init_virtual(&clock, 0);
	st[0] = sim_stack(&clock, seed * 2 + 1);
	st[1] = sim_stack(&clock, seed * 2 + 2);
	assert_non_null(st[0]);
	assert_non_null(st[1]);
	memset(&wp, 0, sizeof(wp));
	wp.seed = seed;
	wp.loss_ppm = 100000;      /* 10 % each way */
	wp.reorder_ppm = 100000;
	wp.delay_us = 2000;
	wp.rate_bps = 100000000;
	assert_int_equal(wire_pair_create(st[0], st[1], &wp, &da, &db), 0);
	assert_int_equal(netdev_set_ipv4(da, a, 24), 0);
	assert_int_equal(netdev_set_ipv4(db, b, 24), 0);

	start_pinger(&pa, st[0], b, 0x1111, 1000);
	start_pinger(&pb, st[1], a, 0x2222, 500000);
	sim_run_until(&clock, st, 2, (PINGS + 40) * US_USEC_PER_SEC);

	printf("a: sent %u replies %u (big %u/%u) bad %u\n", pa.sent, pa.replies,
	       pa.replies_big, pa.sent_big, pa.bad);
	printf("b: sent %u replies %u (big %u/%u) bad %u\n", pb.sent, pb.replies,
	       pb.replies_big, pb.sent_big, pb.bad);
	assert_int_equal(pa.bad, 0);
	assert_int_equal(pb.bad, 0);
	assert_true(pa.sent >= PINGS - 10);
	assert_true(pb.sent >= PINGS - 10);

	/*
	 * A small ping survives two crossings: 0.9^2 = 81 %. A big one is 3
	 * fragments each way: 0.9^6 = 53 %. Broad bounds: the point is that
	 * loss costs what it should and no more (ARP and reassembly recover).
	 */
	rate_small = (double)(pa.replies - pa.replies_big) /
		     (double)(pa.sent - pa.sent_big);
	rate_big = (double)pa.replies_big / (double)pa.sent_big;
	assert_true(rate_small > 0.77 && rate_small < 0.85);
	assert_true(rate_big > 0.47 && rate_big < 0.59);
	assert_true(wire_tx_stats(da)->reordered > 0);
	assert_true(wire_tx_stats(da)->lost > 0);

	/* Reassembly of lost fragments timed out and was counted. */
	assert_true(st[0]->stats.drops[US_DROP_IP_REASM_TIMEOUT] > 0);

	/* Once everything has settled, no packet buffer is held anywhere. */
	sim_run_until(&clock, st, 2, clock.virt + 120 * US_USEC_PER_SEC);
	assert_int_equal(st[0]->skb_pool.live, 0);
	assert_int_equal(st[1]->skb_pool.live, 0);
	assert_int_equal(st[0]->skb_pool.used_bytes, 0);

	ustack_destroy(st[0]);
	ustack_destroy(st[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_over_lossy_wire),
	};

	return cmocka_run_group_tests_name("sim_ping", tests, NULL, NULL);
}
