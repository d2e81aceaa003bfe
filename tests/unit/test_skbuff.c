/*
 * test_skbuff.c - sk_buff geometry, clones, copies, queues and the pool's
 * memory limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/skbuff.h"

static void test_geometry(void **state)
{
	struct sk_buff *skb = skb_alloc(NULL, 200);
	unsigned char *p;

	(void)state;
	assert_non_null(skb);
	assert_int_equal(skb->len, 0);
	assert_true(skb_tailroom(skb) >= 200);
	assert_int_equal(skb_headroom(skb), 0);

	assert_int_equal(skb_reserve(skb, 64), 0);
	assert_int_equal(skb_headroom(skb), 64);

	p = skb_put(skb, 10);
	assert_ptr_equal(p, skb->data);
	memset(p, 0xaa, 10);
	assert_int_equal(skb->len, 10);
	assert_ptr_equal(skb->tail, skb->data + 10);

	/* reserve is only allowed on an empty buffer */
	assert_int_equal(skb_reserve(skb, 4), -1);

	p = skb_push(skb, 14);
	assert_ptr_equal(p, skb->head + 50);
	assert_int_equal(skb->len, 24);
	assert_int_equal(skb_headroom(skb), 50);

	p = skb_pull(skb, 14);
	assert_ptr_equal(p, skb->head + 64);
	assert_int_equal(skb->len, 10);
	assert_int_equal(skb->data[0], 0xaa);

	assert_int_equal(skb_trim(skb, 4), 0);
	assert_int_equal(skb->len, 4);
	assert_ptr_equal(skb->tail, skb->data + 4);
	skb_free(skb);
}

static void test_out_of_room(void **state)
{
	struct sk_buff *skb = skb_alloc_reserved(NULL, 16, 32);
	unsigned int tailroom;

	(void)state;
	assert_non_null(skb);
	tailroom = skb_tailroom(skb);
	/* Failures leave the buffer as it was. */
	assert_null(skb_push(skb, 17));
	assert_int_equal(skb_headroom(skb), 16);
	assert_null(skb_put(skb, tailroom + 1));
	assert_int_equal(skb->len, 0);
	assert_null(skb_pull(skb, 1));
	assert_int_equal(skb_trim(skb, 1), -1);
	assert_int_equal(skb_put_data(skb, "x", tailroom + 1), -1);
	assert_non_null(skb_push(skb, 16));
	assert_null(skb_push(skb, 1));
	assert_non_null(skb_put(skb, tailroom));
	assert_null(skb_put(skb, 1));
	assert_int_equal(skb->len, 16 + tailroom);
	assert_false(skb_may_pull(skb, skb->len + 1));
	assert_true(skb_may_pull(skb, skb->len));
	skb_free(skb);
}

static void test_header_offsets(void **state)
{
	struct sk_buff *skb = skb_alloc_reserved(NULL, 64, 100);

	(void)state;
	skb_put(skb, 60);
	skb_reset_mac_header(skb);
	skb_pull(skb, 14);
	skb_reset_network_header(skb);
	skb_pull(skb, 20);
	skb_reset_transport_header(skb);
	assert_ptr_equal(skb_mac_header(skb), skb->head + 64);
	assert_ptr_equal(skb_network_header(skb), skb->head + 78);
	assert_ptr_equal(skb_transport_header(skb), skb->data);
	assert_int_equal(skb_network_offset(skb), -20);
	skb_free(skb);
}

static void test_clone_shares_data(void **state)
{
	struct skb_pool pool;
	struct sk_buff *skb, *c;

	(void)state;
	skb_pool_init(&pool, 0);
	skb = skb_alloc_reserved(&pool, 32, 64);
	skb_put_data(skb, "hello world", 11);
	assert_false(skb_shared_data(skb));
	c = skb_clone(skb);
	assert_non_null(c);
	assert_ptr_equal(c->data, skb->data);
	assert_true(skb_shared_data(skb));
	assert_true(skb_shared_data(c));
	assert_int_equal(pool.live, 2);

	/* Own metadata: pulling the clone leaves the original alone. */
	skb_pull(c, 6);
	assert_int_equal(c->len, 5);
	assert_int_equal(skb->len, 11);
	assert_memory_equal(c->data, "world", 5);

	/* Data survives the original's free. */
	skb_free(skb);
	assert_false(skb_shared_data(c));
	assert_memory_equal(c->data, "world", 5);
	skb_free(c);
	assert_int_equal(pool.live, 0);
	assert_int_equal(pool.used_bytes, 0);
}

/* A part of an area: its own window, a share of the area's charge moved
 * with it (the pool's total unchanged but for the struct), and refused
 * outside the area or for more charge than the area holds. */
static void test_clone_part(void **state)
{
	struct skb_pool pool;
	struct sk_buff *skb, *p;
	uint32_t total;
	size_t used;

	(void)state;
	skb_pool_init(&pool, 0);
	skb = skb_alloc(&pool, 4000);
	assert_non_null(skb);
	memset(skb_put(skb, 4000), 'a', 4000);
	total = skb->truesize;
	used = pool.used_bytes;
	assert_int_equal(pool.allocs, 1);
	p = skb_clone_part(skb, skb->data + 1000, 500, 500);
	assert_non_null(p);
	assert_int_equal(pool.clones, 1);
	assert_ptr_equal(p->data, skb->data + 1000);
	assert_int_equal(p->len, 500);
	assert_true(skb_shared_data(skb));
	assert_int_equal(skb->truesize + p->truesize,
			 total + sizeof(struct sk_buff));
	assert_int_equal(pool.used_bytes, used + sizeof(struct sk_buff));
	assert_null(skb_clone_part(skb, skb->end - 10, 11, 0));
	assert_null(skb_clone_part(skb, skb->data, 1, skb->truesize));
	assert_int_equal(pool.live, 2);
	/* The area outlives the buffer it was allocated with. */
	skb_free(skb);
	assert_memory_equal(p->data, "aaaa", 4);
	skb_free(p);
	assert_int_equal(pool.live, 0);
	assert_int_equal(pool.used_bytes, 0);
}

/*
 * skb_holds: what a queued packet still refers to. A clone with headers
 * pushed holds its segment, empty or not; a GSO-style head holds what its
 * frag_list covers, and not a neighbour cut from the same area; a packet
 * of another area holds nothing.
 */
static void test_holds(void **state)
{
	struct sk_buff *area, *seg2, *seg3, *head, *frag, *syn, *synx, *other;

	(void)state;
	/* Three 1000-byte segments carved out of one area. */
	area = skb_alloc(NULL, 3000);
	assert_non_null(area);
	skb_put(area, 1000);
	seg2 = skb_clone_part(area, area->data + 1000, 1000, 0);
	seg3 = skb_clone_part(area, area->data + 2000, 1000, 0);
	assert_non_null(seg2);
	assert_non_null(seg3);
	/* A packet of headers whose payload is segments 1 and 2. */
	head = skb_alloc_reserved(NULL, 64, 0);
	assert_non_null(head);
	frag = skb_clone(area);
	assert_non_null(frag);
	frag->tail = seg2->tail;
	frag->len = 2000;
	skb_add_frag(head, frag);
	assert_true(skb_holds(head, area));
	assert_true(skb_holds(head, seg2));
	assert_false(skb_holds(head, seg3));    /* touches, no overlap */
	assert_false(skb_holds(seg3, seg2));

	/* An empty segment (a SYN) and its transmitted clone. */
	syn = skb_alloc_reserved(NULL, 128, 0);
	assert_non_null(syn);
	synx = skb_clone(syn);
	assert_non_null(synx);
	skb_push(synx, 40);
	assert_true(skb_holds(synx, syn));
	assert_false(skb_holds(head, syn));
	other = skb_copy(synx);
	assert_non_null(other);
	assert_false(skb_holds(other, syn));    /* same bytes, other area */

	skb_free(other);
	skb_free(synx);
	skb_free(syn);
	skb_free(head);
	skb_free(seg3);
	skb_free(seg2);
	skb_free(area);
}

/* skb_trim_frags: a cut inside the frag_list keeps the frags before it,
 * shortens the one it falls in and frees the rest; one inside the head
 * frees them all; a shared data area is refused. */
static struct sk_buff *frag_of(const char *bytes)
{
	struct sk_buff *f = skb_alloc(NULL, 16);

	assert_non_null(f);
	assert_int_equal(skb_put_data(f, bytes, 10), 0);
	return f;
}

static void test_trim_frags(void **state)
{
	struct sk_buff *skb = skb_alloc(NULL, 64), *c;

	(void)state;
	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, "0123456789", 10), 0);
	skb_add_frag(skb, frag_of("abcdefghij"));
	skb_add_frag(skb, frag_of("ABCDEFGHIJ"));
	assert_int_equal(skb->len, 30);
	assert_int_equal(skb_trim_frags(skb, 31), -1);
	assert_int_equal(skb_trim_frags(skb, 15), 0);
	assert_int_equal(skb->len, 15);
	assert_int_equal(skb->data_len, 5);
	assert_non_null(skb_shinfo(skb)->frag_list);
	assert_null(skb_shinfo(skb)->frag_list->frag_next);
	assert_int_equal(skb_shinfo(skb)->frag_list->len, 5);
	assert_memory_equal(skb_shinfo(skb)->frag_list->data, "abcde", 5);
	c = skb_clone(skb);   /* shared now: refused */
	assert_non_null(c);
	assert_int_equal(skb_trim_frags(skb, 4), -1);
	skb_free(c);
	assert_int_equal(skb_trim_frags(skb, 4), 0);
	assert_int_equal(skb->len, 4);
	assert_int_equal(skb->data_len, 0);
	assert_null(skb_shinfo(skb)->frag_list);
	assert_memory_equal(skb->data, "0123", 4);
	skb_free(skb);
}

static void test_unshare_and_copy(void **state)
{
	struct skb_pool pool;
	struct sk_buff *skb, *c, *cp;
	size_t used_before;

	(void)state;
	skb_pool_init(&pool, 0);
	skb = skb_alloc_reserved(&pool, 32, 64);
	skb_put_data(skb, "abcdef", 6);
	skb_reset_network_header(skb);
	skb->protocol = 0x0800;
	memcpy(skb->cb, "cbdata", 6);
	c = skb_clone(skb);
	used_before = pool.used_bytes;
	assert_int_equal(skb_unshare_data(c), 0);
	/* The private data is charged to the pool. */
	assert_true(pool.used_bytes > used_before + 64);
	assert_ptr_not_equal(c->data, skb->data);
	assert_false(skb_shared_data(skb));
	c->data[0] = 'X';
	assert_int_equal(skb->data[0], 'a');
	assert_int_equal(skb_headroom(c), 32);

	cp = skb_copy(skb);
	assert_non_null(cp);
	assert_ptr_not_equal(cp->data, skb->data);
	assert_memory_equal(cp->data, "abcdef", 6);
	assert_int_equal(cp->len, 6);
	assert_int_equal(skb_headroom(cp), 32);
	assert_ptr_equal(skb_network_header(cp), cp->data);
	assert_int_equal(cp->protocol, 0x0800);
	assert_memory_equal(cp->cb, "cbdata", 6);
	skb_free(cp);
	skb_free(c);
	skb_free(skb);
	assert_int_equal(pool.live, 0);
	assert_int_equal(pool.used_bytes, 0);
}

static void test_refcount(void **state)
{
	struct skb_pool pool;
	struct sk_buff *skb;

	(void)state;
	skb_pool_init(&pool, 0);
	skb = skb_alloc(&pool, 10);
	skb_get(skb);
	assert_int_equal(skb->users, 2);
	skb_free(skb);
	assert_int_equal(pool.live, 1);
	skb_free(skb);
	assert_int_equal(pool.live, 0);
	skb_free(NULL);
}

static void test_pool_limit(void **state)
{
	struct skb_pool pool;
	struct sk_buff *a, *b, *c;

	(void)state;
	skb_pool_init(&pool, 4096);
	a = skb_alloc(&pool, 1500);
	b = skb_alloc(&pool, 1500);
	assert_non_null(a);
	assert_non_null(b);
	c = skb_alloc(&pool, 1500);
	assert_null(c);
	assert_int_equal(pool.alloc_fail, 1);
	assert_true(pool.used_bytes <= 4096);
	skb_free(a);
	c = skb_alloc(&pool, 1500);
	assert_non_null(c);
	skb_free(b);
	skb_free(c);
	assert_int_equal(pool.used_bytes, 0);
}

static void test_queue(void **state)
{
	struct sk_buff_head q;
	struct sk_buff *s[4], *it;
	int i = 0;

	(void)state;
	skb_queue_head_init(&q);
	assert_true(skb_queue_empty(&q));
	assert_null(skb_peek(&q));
	assert_null(skb_dequeue(&q));
	for (int k = 0; k < 4; k++) {
		s[k] = skb_alloc(NULL, 16);
		skb_put(s[k], (unsigned)k + 1);
	}
	skb_queue_tail(&q, s[1]);
	skb_queue_tail(&q, s[3]);
	skb_queue_head(&q, s[0]);
	skb_queue_after(&q, s[1], s[2]);
	assert_int_equal(q.qlen, 4);
	assert_int_equal(q.bytes, 1 + 2 + 3 + 4);
	skb_queue_walk(&q, it)
		assert_ptr_equal(it, s[i++]);
	assert_ptr_equal(skb_peek_tail(&q), s[3]);
	skb_unlink(&q, s[2]);
	assert_int_equal(q.qlen, 3);
	assert_int_equal(q.bytes, 1 + 2 + 4);
	assert_ptr_equal(skb_dequeue(&q), s[0]);
	skb_free(s[0]);
	skb_free(s[2]);
	skb_queue_purge(&q);
	assert_true(skb_queue_empty(&q));
	assert_int_equal(q.bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_out_of_room),
		cmocka_unit_test(test_header_offsets),
		cmocka_unit_test(test_clone_shares_data),
		cmocka_unit_test(test_clone_part),
		cmocka_unit_test(test_holds),
		cmocka_unit_test(test_unshare_and_copy),
		cmocka_unit_test(test_trim_frags),
		cmocka_unit_test(test_refcount),
		cmocka_unit_test(test_pool_limit),
		cmocka_unit_test(test_queue),
	};

	return cmocka_run_group_tests_name("skbuff", tests, NULL, NULL);
}
