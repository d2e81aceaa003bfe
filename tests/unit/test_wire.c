/*
 * test_wire.c - the in-memory wire between two stack instances on one
 * virtual clock: creation (names, MACs, shared clock), delivery only after
 * the delay, serialization at a rate, 100 % loss, duplication, single-bit
 * corruption (never of the sender's buffer), reordering, the queue bound,
 * replay from a seed (and a different seed giving a different run),
 * independence of the two directions, the poll budget, and tearing down
 * either end first with frames in flight.
 *
 * What the receiving stack gets is observed through a pcap capture on its
 * device: netif_receive_skb records every frame, stamped with the engine's
 * time, before the protocol level sees it. Test frames use the IEEE local
 * experimental ethertype 0x88b5, which the stack then drops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/netdev.h"
#include "dev/wire.h"
#include "lib/pcapread.h"
#include "lib/sim.h"
#include "stack/stack.h"

#define T0 (1000 * US_USEC_PER_SEC)
#define ETHERTYPE_TEST 0x88b5
#define HDR 14

struct pair {
	struct us_clock clock;
	struct ustack *a, *b;
	struct net_device *da, *db;
	char cap_a[64], cap_b[64];  /* captures of what each device sees */
};

static struct ustack *stack_new(struct us_clock *clock, uint64_t seed)
{
	struct ustack_config cfg;
	struct ustack *st;

	ustack_config_init(&cfg);
	cfg.clock = clock;
	cfg.seed = seed;
	cfg.log_level = 0;
	st = ustack_create(&cfg);
	assert_non_null(st);
	return st;
}

static void pair_init(struct pair *p, const struct wire_params *wp)
{
	memset(p, 0, sizeof(*p));
	us_clock_init_virtual(&p->clock, T0);
	p->a = stack_new(&p->clock, 1);
	p->b = stack_new(&p->clock, 2);
	assert_int_equal(wire_pair_create(p->a, p->b, wp, &p->da, &p->db), 0);
	tp_capture(p->da, p->cap_a, sizeof(p->cap_a));
	tp_capture(p->db, p->cap_b, sizeof(p->cap_b));
}

static void pair_destroy(struct pair *p)
{
	ustack_destroy(p->a);
	ustack_destroy(p->b);
	unlink(p->cap_a);
	unlink(p->cap_b);
}

/* Move both engines to t (never back). */
static void set_time(struct pair *p, us_time_t t)
{
	us_clock_set(&p->clock, t);
	us_engine_begin(p->a);
	us_engine_begin(p->b);
}

static void run_until(struct pair *p, us_time_t until)
{
	struct ustack *stacks[2] = { p->a, p->b };

	sim_run_until(&p->clock, stacks, 2, until);
}

/* Test frame `seq` of len bytes from dev's MAC to its peer's. */
static void build_frame(uint8_t *buf, size_t len, const uint8_t *dst,
			const uint8_t *src, uint32_t seq)
{
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	buf[12] = ETHERTYPE_TEST >> 8;
	buf[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = HDR; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + i);
	memcpy(buf + HDR, &seq, sizeof(seq));
}

static uint32_t frame_seq(const uint8_t *frame)
{
	uint32_t seq;

	memcpy(&seq, frame + HDR, sizeof(seq));
	return seq;
}

/* Send test frame seq of len bytes from `from` towards `to`. */
static int send_frame(struct net_device *from, struct net_device *to,
		      uint32_t seq, size_t len)
{
	struct sk_buff *skb = us_skb_alloc(from->st, (unsigned)len);

	assert_non_null(skb);
	build_frame(skb_put(skb, (unsigned)len), len, to->dev_addr,
		    from->dev_addr, seq);
	skb->dev = from;
	return dev_queue_xmit(skb);
}

static void read_cap(struct net_device *dev, const char *path,
		     struct tp_file *f)
{
	tp_capture_read(dev, path, f);
}

static int popcount_xor(const uint8_t *x, const uint8_t *y, size_t len)
{
	int bits = 0;

	for (size_t i = 0; i < len; i++)
		bits += __builtin_popcount((unsigned)(x[i] ^ y[i]));
	return bits;
}

/* ---- creation --------------------------------------------------------- */

static void test_create(void **state)
{
	struct wire_params wp = { .seed = 5 };
	struct net_device *xa, *xb;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	assert_string_equal(p.da->name, "wire0");
	assert_string_equal(p.db->name, "wire0");
	assert_ptr_equal(p.da->st, p.a);
	assert_ptr_equal(p.db->st, p.b);
	assert_true(p.da->flags & US_IFF_UP);
	assert_int_equal(p.da->type, US_ARPHRD_ETHER);
	assert_int_equal(p.da->mtu, 1500);
	assert_int_equal(p.da->ip_addr, 0);
	assert_int_equal(p.da->dev_addr[0] & 0x03, 0x02); /* local, unicast */
	assert_int_equal(p.db->dev_addr[0] & 0x03, 0x02);
	assert_memory_not_equal(p.da->dev_addr, p.db->dev_addr, 6);
	assert_non_null(wire_tx_stats(p.da));
	assert_ptr_not_equal(wire_tx_stats(p.da), wire_tx_stats(p.db));
	assert_ptr_equal(us_dev_get_by_name(p.a, "wire0"), p.da);

	/* A second wire between the same stacks takes the next name. */
	assert_int_equal(wire_pair_create(p.a, p.b, &wp, &xa, &xb), 0);
	assert_string_equal(xa->name, "wire1");
	assert_string_equal(xb->name, "wire1");
	/* MACs come from the seed. */
	assert_memory_equal(xa->dev_addr, p.da->dev_addr, 6);
	assert_memory_equal(xb->dev_addr, p.db->dev_addr, 6);
	pair_destroy(&p);
}

static void test_create_errors(void **state)
{
	struct us_clock c1, c2;
	struct ustack *a, *b;
	struct net_device *da = NULL, *db = NULL;
	struct net_device *plain = netdev_alloc("x", 0, NULL);
	struct wire_params wp = { .seed = 6 };
	struct pair p;

	(void)state;
	us_clock_init_virtual(&c1, T0);
	us_clock_init_virtual(&c2, T0);
	a = stack_new(&c1, 1);
	b = stack_new(&c2, 2);
	/* Delivery times only mean something on one shared clock. */
	assert_int_equal(wire_pair_create(a, b, NULL, &da, &db), -EINVAL);
	assert_null(da);
	ustack_destroy(a);
	ustack_destroy(b);
	assert_null(wire_tx_stats(plain));
	free(plain);

	/* Different seed, different MACs. */
	pair_init(&p, &wp);
	{
		struct pair q;
		struct wire_params wq = { .seed = 7 };

		pair_init(&q, &wq);
		assert_memory_not_equal(p.da->dev_addr, q.da->dev_addr, 6);
		pair_destroy(&q);
	}
	pair_destroy(&p);
}

/* ---- timing ----------------------------------------------------------- */

static void test_delivery_after_delay(void **state)
{
	struct wire_params wp = { .seed = 1, .delay_us = 5000 };
	uint8_t expect[100];
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0 + 10);
	assert_int_equal(send_frame(p.da, p.db, 77, 100), 0);
	assert_int_equal(us_engine_next_event(p.b), T0 + 10 + 5000);
	assert_int_equal(us_engine_next_event(p.a), US_TIME_NEVER);

	run_until(&p, T0 + 10 + 4999);
	assert_int_equal(p.db->stats.rx_packets, 0);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 0);
	tp_free(&f);

	run_until(&p, T0 + 10 + 5000);
	assert_int_equal(p.db->stats.rx_packets, 1);
	assert_int_equal(p.db->stats.rx_bytes, 100);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.rec[0].ts, T0 + 10 + 5000);
	build_frame(expect, 100, p.db->dev_addr, p.da->dev_addr, 77);
	assert_int_equal(f.rec[0].incl_len, 100);
	assert_memory_equal(f.rec[0].data, expect, 100);
	tp_free(&f);

	assert_int_equal(wire_tx_stats(p.da)->sent, 1);
	assert_int_equal(wire_tx_stats(p.da)->delivered, 1);
	assert_int_equal(wire_tx_stats(p.db)->sent, 0);
	assert_int_equal(us_engine_next_event(p.b), US_TIME_NEVER);
	pair_destroy(&p);
}

static void test_rate_serialization(void **state)
{
	/* 8 Mbit/s = one byte per µs, so a 1000-byte frame takes 1 ms. */
	struct wire_params wp = { .seed = 1, .delay_us = 100,
				  .rate_bps = 8000000 };
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(send_frame(p.da, p.db, i, 1000), 0);
	run_until(&p, T0 + 9000);
	set_time(&p, T0 + 10000);       /* the link has gone idle */
	assert_int_equal(send_frame(p.da, p.db, 3, 500), 0);
	run_until(&p, T0 + 20000);

	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 4);
	assert_int_equal(f.rec[0].ts, T0 + 1000 + 100);
	assert_int_equal(f.rec[1].ts, T0 + 2000 + 100);
	assert_int_equal(f.rec[2].ts, T0 + 3000 + 100);
	assert_int_equal(f.rec[3].ts, T0 + 10000 + 500 + 100);
	for (int i = 0; i < 4; i++)
		assert_int_equal(frame_seq(f.rec[i].data), i);
	tp_free(&f);
	pair_destroy(&p);
}

/* ---- faults ----------------------------------------------------------- */

static void test_loss_all(void **state)
{
	struct wire_params wp = { .seed = 1, .loss_ppm = 1000000,
				  .delay_us = 10 };
	const struct wire_stats *ws;
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(send_frame(p.da, p.db, i, 64), 0);
	/* Nothing is in flight. */
	assert_int_equal(us_engine_next_event(p.b), US_TIME_NEVER);
	run_until(&p, T0 + US_USEC_PER_SEC);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 0);
	tp_free(&f);
	ws = wire_tx_stats(p.da);
	assert_int_equal(ws->sent, 50);
	assert_int_equal(ws->lost, 50);
	assert_int_equal(ws->delivered, 0);
	assert_int_equal(p.a->stats.drops[US_DROP_WIRE_LOSS], 50);
	assert_int_equal(p.db->stats.rx_packets, 0);
	/* The frames did leave the sending device. */
	assert_int_equal(p.da->stats.tx_packets, 50);
	pair_destroy(&p);
}

static void test_duplication(void **state)
{
	struct wire_params wp = { .seed = 1, .dup_ppm = 1000000,
				  .delay_us = 10 };
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(send_frame(p.da, p.db, i, 80), 0);
	run_until(&p, T0 + 1000);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 40);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(frame_seq(f.rec[2 * i].data), i);
		assert_int_equal(f.rec[2 * i + 1].incl_len, 80);
		assert_memory_equal(f.rec[2 * i].data, f.rec[2 * i + 1].data, 80);
	}
	tp_free(&f);
	assert_int_equal(wire_tx_stats(p.da)->duplicated, 20);
	assert_int_equal(wire_tx_stats(p.da)->delivered, 40);
	pair_destroy(&p);
}

/*
 * Every delivered frame differs from what was sent in exactly one bit, the
 * bit moves around, and the sender's buffer (here shared with a clone the
 * test keeps) is never touched.
 */
static void test_corruption_one_bit(void **state)
{
	struct wire_params wp = { .seed = 1, .corrupt_ppm = 1000000,
				  .delay_us = 10 };
	struct sk_buff *kept[50];
	uint8_t expect[120];
	int first_bit = -1, moved = 0;
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 50; i++) {
		struct sk_buff *skb = us_skb_alloc(p.a, 120);

		build_frame(skb_put(skb, 120), 120, p.db->dev_addr,
			    p.da->dev_addr, i);
		skb->dev = p.da;
		kept[i] = skb_clone(skb);
		assert_int_equal(dev_queue_xmit(skb), 0);
	}
	run_until(&p, T0 + 1000);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 50);
	for (uint32_t i = 0; i < 50; i++) {
		int bit = 0;

		build_frame(expect, 120, p.db->dev_addr, p.da->dev_addr, i);
		assert_memory_equal(kept[i]->data, expect, 120);
		assert_int_equal(popcount_xor(f.rec[i].data, expect, 120), 1);
		while (f.rec[i].data[bit / 8] == expect[bit / 8])
			bit += 8;
		if (first_bit < 0)
			first_bit = bit;
		moved |= bit != first_bit;
		skb_free(kept[i]);
	}
	assert_true(moved);
	tp_free(&f);
	assert_int_equal(wire_tx_stats(p.da)->corrupted, 50);
	pair_destroy(&p);
}

static void test_reorder(void **state)
{
	struct wire_params wp = { .seed = 11, .reorder_ppm = 300000,
				  .delay_us = 1000 };
	uint64_t held = 0, out_of_order = 0;
	struct tp_file f;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	for (uint32_t i = 0; i < 100; i++) {
		set_time(&p, T0 + i * 10);
		assert_int_equal(send_frame(p.da, p.db, i, 64), 0);
	}
	run_until(&p, T0 + US_USEC_PER_SEC);
	read_cap(p.db, p.cap_b, &f);
	assert_int_equal(f.n, 100);
	for (int i = 0; i < 100; i++) {
		uint32_t seq = frame_seq(f.rec[i].data);
		us_time_t sent = T0 + seq * 10;

		/* Either on time, or held back by the default 2*delay + 1 ms. */
		if (f.rec[i].ts == sent + 1000 + 3000)
			held++;
		else
			assert_int_equal(f.rec[i].ts, sent + 1000);
		if (i > 0 && seq < frame_seq(f.rec[i - 1].data))
			out_of_order++;
	}
	tp_free(&f);
	assert_true(held > 0);
	assert_true(out_of_order > 0);
	assert_int_equal(wire_tx_stats(p.da)->reordered, held);
	pair_destroy(&p);
}

static void test_queue_bound(void **state)
{
	struct wire_params wp = { .seed = 1, .delay_us = 1000, .queue_max = 4 };
	const struct wire_stats *ws;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(send_frame(p.da, p.db, i, 64),
				 i < 4 ? 0 : -ENOBUFS);
	ws = wire_tx_stats(p.da);
	assert_int_equal(ws->sent, 10);
	assert_int_equal(ws->overflow, 6);
	assert_int_equal(p.a->stats.drops[US_DROP_WIRE_QUEUE_FULL], 6);
	assert_int_equal(p.da->stats.tx_dropped, 6);
	run_until(&p, T0 + 2000);
	assert_int_equal(ws->delivered, 4);
	assert_int_equal(p.db->stats.rx_packets, 4);
	/* Room again once the queue drained. */
	assert_int_equal(send_frame(p.da, p.db, 10, 64), 0);
	pair_destroy(&p);
}

/* A duplicate is one more frame in flight, under the same bound. */
static void test_queue_bound_counts_duplicates(void **state)
{
	struct wire_params wp = { .seed = 1, .delay_us = 1000, .queue_max = 3,
				  .dup_ppm = 1000000 };
	const struct wire_stats *ws;
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	assert_int_equal(send_frame(p.da, p.db, 0, 64), 0);  /* 2 in flight */
	assert_int_equal(send_frame(p.da, p.db, 1, 64), 0);  /* 3; dup dropped */
	assert_int_equal(send_frame(p.da, p.db, 2, 64), -ENOBUFS);
	ws = wire_tx_stats(p.da);
	assert_int_equal(ws->duplicated, 2);
	assert_int_equal(ws->overflow, 2);
	run_until(&p, T0 + 2000);
	assert_int_equal(ws->delivered, 3);
	/* Every frame is accounted for. */
	assert_int_equal(ws->sent + ws->duplicated,
			 ws->delivered + ws->lost + ws->overflow);
	pair_destroy(&p);
}

static void test_mtu(void **state)
{
	struct wire_params wp = { .seed = 1 };
	struct wire_params jumbo = { .seed = 1, .mtu = 9000 };
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	assert_int_equal(send_frame(p.da, p.db, 0, 1514), 0);
	assert_int_equal(send_frame(p.da, p.db, 1, 1515), -EMSGSIZE);
	assert_int_equal(p.a->stats.drops[US_DROP_DEV_TX_ERROR], 1);
	run_until(&p, T0 + 1000);
	assert_int_equal(p.db->stats.rx_packets, 1);
	pair_destroy(&p);

	pair_init(&p, &jumbo);
	assert_int_equal(p.da->mtu, 9000);
	assert_int_equal(send_frame(p.da, p.db, 0, 9014), 0);
	run_until(&p, T0 + 1000);
	assert_int_equal(p.db->stats.rx_bytes, 9014);
	pair_destroy(&p);
}

/* ---- replay ----------------------------------------------------------- */

struct trace {
	int n;
	us_time_t ts[1000];
	uint8_t data[1000][128];
	struct wire_stats stats;
};

/* A lossy, duplicating, reordering, corrupting, rate-limited run. */
static void run_faulty(uint64_t seed, struct trace *t)
{
	struct wire_params wp = { .seed = seed, .loss_ppm = 200000,
				  .dup_ppm = 100000, .reorder_ppm = 200000,
				  .corrupt_ppm = 100000, .delay_us = 1000,
				  .rate_bps = 100000000 };
	struct tp_file f;
	struct pair p;

	pair_init(&p, &wp);
	for (uint32_t i = 0; i < 300; i++) {
		set_time(&p, T0 + i * 50);
		send_frame(p.da, p.db, i, 64 + i % 64);
	}
	run_until(&p, T0 + US_USEC_PER_SEC);
	read_cap(p.db, p.cap_b, &f);
	assert_true(f.n <= 1000);
	memset(t, 0, sizeof(*t));
	t->n = f.n;
	for (int i = 0; i < f.n; i++) {
		t->ts[i] = f.rec[i].ts;
		memcpy(t->data[i], f.rec[i].data, f.rec[i].incl_len);
	}
	t->stats = *wire_tx_stats(p.da);
	tp_free(&f);
	pair_destroy(&p);
}

static void test_seed_replays_exactly(void **state)
{
	struct trace *t1 = calloc(1, sizeof(*t1));
	struct trace *t2 = calloc(1, sizeof(*t2));
	struct trace *t3 = calloc(1, sizeof(*t3));
	const struct wire_stats *s;

	(void)state;
	run_faulty(1234, t1);
	run_faulty(1234, t2);
	run_faulty(1235, t3);
	s = &t1->stats;
	/* Every kind of fault happened. */
	assert_true(s->lost > 0 && s->duplicated > 0 && s->reordered > 0 &&
		    s->corrupted > 0);
	assert_int_equal(s->sent + s->duplicated, s->delivered + s->lost);
	assert_int_equal(t1->n, (int)s->delivered);
	/* Same seed: the same frames at the same times, bit for bit. */
	assert_int_equal(t1->n, t2->n);
	assert_memory_equal(t1->ts, t2->ts, sizeof(t1->ts));
	assert_memory_equal(t1->data, t2->data, sizeof(t1->data));
	assert_memory_equal(&t1->stats, &t2->stats, sizeof(t1->stats));
	/* Another seed: another run. */
	assert_true(t1->n != t3->n ||
		    memcmp(t1->ts, t3->ts, sizeof(t1->ts)) != 0 ||
		    memcmp(t1->data, t3->data, sizeof(t1->data)) != 0);
	free(t1);
	free(t2);
	free(t3);
}

/*
 * Each direction draws from its own generator: traffic the other way does
 * not change which frames this way are lost.
 */
static void test_directions_independent(void **state)
{
	struct wire_params wp = { .seed = 3, .loss_ppm = 500000, .delay_us = 10 };
	uint8_t got1[100] = { 0 }, got2[100] = { 0 };
	struct tp_file f;
	struct pair p;

	(void)state;
	for (int round = 0; round < 2; round++) {
		uint8_t *got = round ? got2 : got1;

		pair_init(&p, &wp);
		for (uint32_t i = 0; i < 100; i++) {
			set_time(&p, T0 + i * 100);
			if (round)
				send_frame(p.db, p.da, i, 64);
			send_frame(p.da, p.db, i, 64);
		}
		run_until(&p, T0 + US_USEC_PER_SEC);
		read_cap(p.db, p.cap_b, &f);
		/* The capture also holds what b sent; keep what a sent. */
		for (int i = 0; i < f.n; i++)
			if (!memcmp(f.rec[i].data + 6, p.da->dev_addr, 6))
				got[frame_seq(f.rec[i].data)] = 1;
		tp_free(&f);
		pair_destroy(&p);
	}
	assert_memory_equal(got1, got2, sizeof(got1));
}

/* ---- engine interaction and teardown ---------------------------------- */

static void test_poll_budget(void **state)
{
	struct wire_params wp = { .seed = 1, .delay_us = 10 };
	struct pair p;

	(void)state;
	pair_init(&p, &wp);
	set_time(&p, T0);
	for (uint32_t i = 0; i < 10; i++)
		send_frame(p.da, p.db, i, 64);
	set_time(&p, T0 + 10);
	assert_int_equal(p.db->ops->poll(p.db, 3), 3);
	assert_int_equal(p.db->stats.rx_packets, 3);
	assert_int_equal(p.db->ops->next_event(p.db), T0 + 10);
	assert_int_equal(p.db->ops->poll(p.db, 64), 7);
	assert_int_equal(p.db->ops->poll(p.db, 64), 0);
	pair_destroy(&p);
}

/*
 * Destroying one end discards what travels towards it, keeps what it
 * already sent, and makes the other end's sends fail; the shared state is
 * freed with the second end (LeakSanitizer checks that).
 */
static void test_destroy_either_end_first(void **state)
{
	struct wire_params wp = { .seed = 1, .delay_us = 1000 };

	(void)state;
	for (int first = 0; first < 2; first++) {
		struct ustack *gone, *left;
		struct net_device *dgone, *dleft;
		struct ustack *stacks[1];
		struct pair p;

		pair_init(&p, &wp);
		set_time(&p, T0);
		for (uint32_t i = 0; i < 5; i++) {
			send_frame(p.da, p.db, i, 64);
			send_frame(p.db, p.da, i, 64);
		}
		gone = first ? p.b : p.a;
		left = first ? p.a : p.b;
		dgone = first ? p.db : p.da;
		dleft = first ? p.da : p.db;
		(void)dgone;
		ustack_destroy(gone);
		stacks[0] = left;
		sim_run_until(&p.clock, stacks, 1, T0 + 5000);
		assert_int_equal(dleft->stats.rx_packets, 5);
		assert_int_equal(send_frame(dleft, dleft, 9, 64), -ENOLINK);
		assert_int_equal(us_engine_next_event(left), US_TIME_NEVER);
		ustack_destroy(left);
		unlink(p.cap_a);
		unlink(p.cap_b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_delivery_after_delay),
		cmocka_unit_test(test_rate_serialization),
		cmocka_unit_test(test_loss_all),
		cmocka_unit_test(test_duplication),
		cmocka_unit_test(test_corruption_one_bit),
		cmocka_unit_test(test_reorder),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_queue_bound_counts_duplicates),
		cmocka_unit_test(test_mtu),
		cmocka_unit_test(test_seed_replays_exactly),
		cmocka_unit_test(test_directions_independent),
		cmocka_unit_test(test_poll_budget),
		cmocka_unit_test(test_destroy_either_end_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
