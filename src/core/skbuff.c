/*
 * skbuff.c - sk_buff allocation, geometry, clones and queues (see skbuff.h).
 */
#include "core/skbuff.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

/* The shared info sits right after `end`; keep it aligned. */
#define SKB_DATA_ALIGN(x) (((x) + 15u) & ~15u)

void skb_pool_init(struct skb_pool *pool, size_t limit_bytes)
{
	memset(pool, 0, sizeof(*pool));
	pool->limit_bytes = limit_bytes;
	pool->queue_limit = limit_bytes - limit_bytes / 8;
}

int skb_pool_cache_init(struct skb_pool *pool)
{
	if (pool->cache)
		return 0;
	pool->cache = calloc(1, sizeof(*pool->cache));
	return pool->cache ? 0 : -ENOMEM;
}

/*
 * The cache. A cached struct or area is poisoned under AddressSanitizer
 * (its link too: it is unpoisoned to be read), so a use after skb_free()
 * is still caught although the memory was not given back to malloc.
 */
static struct sk_buff *struct_get(struct skb_pool *pool)
{
	struct skb_cache *c = pool ? pool->cache : NULL;
	struct sk_buff *skb;

	if (!c || !c->nstructs)
		return malloc(sizeof(*skb));
	skb = c->structs;
	ASAN_UNPOISON_MEMORY_REGION(skb, sizeof(*skb));
	c->structs = skb->frag_next;
	c->nstructs--;
	/* The next struct's link is read by the next allocation, often
	 * the next instruction of a loop (a write carved into segments),
	 * and has been out of the cache since it was freed. */
	if (c->structs)
		__builtin_prefetch(&c->structs->frag_next, 1);
	return skb;
}

static void struct_put(struct skb_pool *pool, struct sk_buff *skb)
{
	struct skb_cache *c = pool ? pool->cache : NULL;

	if (!c || c->nstructs == SKB_CACHE_STRUCTS) {
		free(skb);
		return;
	}
	skb->frag_next = c->structs;
	c->structs = skb;
	c->nstructs++;
	ASAN_POISON_MEMORY_REGION(skb, sizeof(*skb));
}

/* Unlink the first area of a non-empty class. */
static void *class_take(struct skb_cache *c, struct skb_area_class *cl)
{
	void *a = cl->first;

	ASAN_UNPOISON_MEMORY_REGION(a, cl->size);
	memcpy(&cl->first, a, sizeof(void *));
	cl->count--;
	c->area_bytes -= cl->size;
	return a;
}

/* The class holding areas of `size` bytes; with `make`, a free one. */
static struct skb_area_class *area_class(struct skb_cache *c, unsigned int size,
					 bool make)
{
	struct skb_area_class *free_cl = NULL;

	for (int k = 0; k < SKB_CACHE_CLASSES; k++) {
		struct skb_area_class *cl = &c->classes[k];

		if (cl->size == size)
			return cl;
		if (!free_cl && !cl->count)
			free_cl = cl;
	}
	if (!make || !free_cl)
		return NULL;
	free_cl->size = size;
	return free_cl;
}

static void *area_get(struct skb_pool *pool, unsigned int size)
{
	struct skb_cache *c = pool ? pool->cache : NULL;
	struct skb_area_class *cl = c ? area_class(c, size, false) : NULL;
	void *a;

	if (!cl || !cl->count) {
		if (c)
			c->misses++;
		return malloc(size);
	}
	a = class_take(c, cl);
	c->hits++;
	return a;
}

static void area_put(struct skb_pool *pool, void *a, unsigned int size)
{
	struct skb_cache *c = pool ? pool->cache : NULL;
	struct skb_area_class *cl;

	if (!c || c->area_bytes + size > SKB_CACHE_MAX_BYTES ||
	    !(cl = area_class(c, size, true))) {
		free(a);
		return;
	}
	memcpy(a, &cl->first, sizeof(void *));
	cl->first = a;
	cl->count++;
	c->area_bytes += size;
	ASAN_POISON_MEMORY_REGION(a, size);
}

void skb_pool_destroy(struct skb_pool *pool)
{
	struct skb_cache *c = pool->cache;

	if (!c)
		return;
	while (c->nstructs) {
		struct sk_buff *skb = struct_get(pool);

		free(skb);
	}
	for (int k = 0; k < SKB_CACHE_CLASSES; k++) {
		struct skb_area_class *cl = &c->classes[k];

		while (cl->count)
			free(class_take(c, cl));
	}
	free(c);
	pool->cache = NULL;
}

static bool pool_charge(struct skb_pool *pool, size_t bytes)
{
	if (!pool)
		return true;
	if (pool->limit_bytes && pool->used_bytes + bytes > pool->limit_bytes) {
		pool->alloc_fail++;
		return false;
	}
	pool->used_bytes += bytes;
	return true;
}

static void pool_uncharge(struct skb_pool *pool, size_t bytes)
{
	if (!pool)
		return;
	pool->used_bytes -= bytes;
}

static void skb_init_meta(struct sk_buff *skb, struct skb_pool *pool)
{
	memset(skb, 0, sizeof(*skb));
	list_init(&skb->list);
	skb->pool = pool;
	skb->users = 1;
	skb->mac_header = SKB_HDR_UNSET;
	skb->network_header = SKB_HDR_UNSET;
	skb->transport_header = SKB_HDR_UNSET;
}

size_t skb_truesize_of(unsigned int size)
{
	return sizeof(struct sk_buff) + SKB_DATA_ALIGN(size) +
	       sizeof(struct skb_shared_info);
}

struct sk_buff *skb_alloc(struct skb_pool *pool, unsigned int size)
{
	unsigned int data_size = SKB_DATA_ALIGN(size);
	size_t truesize = skb_truesize_of(size);
	struct sk_buff *skb;
	unsigned char *buf;

	if (size > 0xffff * 4u || !pool_charge(pool, truesize))
		return NULL;
	skb = struct_get(pool);
	buf = area_get(pool, data_size + (unsigned int)sizeof(struct skb_shared_info));
	if (!skb || !buf) {
		free(skb);
		free(buf);
		if (pool) {
			pool_uncharge(pool, truesize);
			pool->alloc_fail++;
		}
		return NULL;
	}
	skb_init_meta(skb, pool);
	if (pool) {
		pool->live++;
		pool->allocs++;
	}
	skb->truesize = (uint32_t)truesize;
	skb->head = buf;
	skb->data = buf;
	skb->tail = buf;
	skb->end = buf + data_size;
	memset(skb_shinfo(skb), 0, sizeof(struct skb_shared_info));
	skb_shinfo(skb)->dataref = 1;
	return skb;
}

struct sk_buff *skb_alloc_reserved(struct skb_pool *pool, unsigned int headroom,
				   unsigned int len)
{
	struct sk_buff *skb = skb_alloc(pool, headroom + len);

	if (skb)
		skb_reserve(skb, headroom);
	return skb;
}

static void skb_release_data(struct sk_buff *skb)
{
	struct skb_shared_info *si = skb_shinfo(skb);
	struct sk_buff *f, *next;

	if (--si->dataref)
		return;
	for (f = si->frag_list; f; f = next) {
		next = f->frag_next;
		skb_free(f);
	}
	area_put(skb->pool, skb->head,
		 (unsigned int)(skb->end - skb->head) +
		 (unsigned int)sizeof(struct skb_shared_info));
}

void skb_free(struct sk_buff *skb)
{
	if (!skb || --skb->users > 0)
		return;
	if (skb->destructor)
		skb->destructor(skb);
	skb_release_data(skb);
	pool_uncharge(skb->pool, skb->truesize);
	if (skb->pool)
		skb->pool->live--;
	struct_put(skb->pool, skb);
}

void skb_add_frag_after(struct sk_buff *skb, struct sk_buff *last,
			struct sk_buff *frag)
{
	frag->frag_next = NULL;
	if (last)
		last->frag_next = frag;
	else
		skb_shinfo(skb)->frag_list = frag;
	skb->data_len += skb_headlen(frag);
	skb->len += skb_headlen(frag);
}

void skb_add_frag(struct sk_buff *skb, struct sk_buff *frag)
{
	struct sk_buff *last = skb_shinfo(skb)->frag_list;

	while (last && last->frag_next)
		last = last->frag_next;
	skb_add_frag_after(skb, last, frag);
}

struct sk_buff *skb_clone(struct sk_buff *skb)
{
	size_t truesize = sizeof(struct sk_buff);
	struct sk_buff *n;

	if (!pool_charge(skb->pool, truesize))
		return NULL;
	n = struct_get(skb->pool);
	if (!n) {
		pool_uncharge(skb->pool, truesize);
		return NULL;
	}
	memcpy(n, skb, sizeof(*n));
	list_init(&n->list);
	n->frag_next = NULL;
	/* A clone belongs to no socket: only the original is charged. */
	n->sk = NULL;
	n->destructor = NULL;
	n->users = 1;
	n->truesize = (uint32_t)truesize;
	if (n->pool) {
		n->pool->live++;
		n->pool->clones++;
	}
	skb_shinfo(skb)->dataref++;
	return n;
}

static bool skb_covers(const struct sk_buff *b, const struct sk_buff *seg)
{
	if (b->head != seg->head)
		return false;
	if (seg->data == seg->tail)
		return b->data <= seg->data && seg->data <= b->tail;
	return b->data < seg->tail && seg->data < b->tail;
}

bool skb_holds(const struct sk_buff *pkt, const struct sk_buff *seg)
{
	const struct sk_buff *f;

	if (skb_covers(pkt, seg))
		return true;
	for (f = skb_shinfo(pkt)->frag_list; f; f = f->frag_next)
		if (skb_covers(f, seg))
			return true;
	return false;
}

struct sk_buff *skb_clone_part(struct sk_buff *skb, unsigned char *data,
			       unsigned int len, uint32_t charge)
{
	struct sk_buff *n;

	if (skb->data_len || data < skb->head || data + len > skb->end ||
	    charge > skb->truesize - sizeof(struct sk_buff))
		return NULL;
	n = skb_clone(skb);
	if (!n)
		return NULL;
	n->data = data;
	n->tail = data + len;
	n->len = len;
	skb->truesize -= charge;
	n->truesize += charge;
	return n;
}

struct sk_buff *skb_copy(const struct sk_buff *skb)
{
	unsigned int size = (unsigned int)(skb->end - skb->head);
	struct sk_buff *n, *f;
	struct skb_shared_info *gso;

	/* The frag_list's bytes go after the linear ones: room for them. */
	if (skb->data_len)
		size = (unsigned int)(skb->tail - skb->head) + skb->data_len;
	n = skb_alloc(skb->pool, size);
	if (!n)
		return NULL;
	/* Copy the whole area so header offsets stay valid. */
	memcpy(n->head, skb->head, (size_t)(skb->end - skb->head) < size ?
	       (size_t)(skb->end - skb->head) : size);
	n->data = n->head + (skb->data - skb->head);
	n->tail = n->head + (skb->tail - skb->head);
	skb_walk_frags(skb, f) {
		memcpy(n->tail, f->data, skb_headlen(f));
		n->tail += skb_headlen(f);
	}
	n->len = skb->len;
	n->dev = skb->dev;
	n->tstamp = skb->tstamp;
	n->mac_header = skb->mac_header;
	n->network_header = skb->network_header;
	n->transport_header = skb->transport_header;
	n->protocol = skb->protocol;
	n->pkt_type = skb->pkt_type;
	n->ip_summed = skb->ip_summed;
	n->csum_start = skb->csum_start;
	n->csum_offset = skb->csum_offset;
	n->tx_flags = skb->tx_flags;
	n->frag_max = skb->frag_max;
	n->tskey = skb->tskey;
	n->mark = skb->mark;
	n->iif = skb->iif;
	memcpy(n->cb, skb->cb, sizeof(n->cb));
	gso = skb_shinfo(n);
	gso->gso_size = skb_shinfo(skb)->gso_size;
	gso->gso_segs = skb_shinfo(skb)->gso_segs;
	gso->gso_type = skb_shinfo(skb)->gso_type;
	return n;
}

int skb_unshare_data(struct sk_buff *skb)
{
	unsigned int size;
	unsigned char *buf;
	struct skb_shared_info *old;

	if (!skb_shared_data(skb))
		return 0;
	/* The frag_list belongs to the data area; callers write headers
	 * into linear packets only. */
	if (skb->data_len)
		return -EINVAL;
	size = (unsigned int)(skb->end - skb->head);
	/* The private copy of the data is charged to this skb. */
	if (!pool_charge(skb->pool, size + sizeof(struct skb_shared_info)))
		return -ENOMEM;
	buf = malloc(size + sizeof(struct skb_shared_info));
	if (!buf) {
		pool_uncharge(skb->pool, size + sizeof(struct skb_shared_info));
		return -ENOMEM;
	}
	skb->truesize += (uint32_t)(size + sizeof(struct skb_shared_info));
	old = skb_shinfo(skb);
	memcpy(buf, skb->head, size + sizeof(struct skb_shared_info));
	old->dataref--;
	skb->data = buf + (skb->data - skb->head);
	skb->tail = buf + (skb->tail - skb->head);
	skb->end = buf + size;
	skb->head = buf;
	skb_shinfo(skb)->dataref = 1;
	return 0;
}

/* A header offset (from head) once the bytes moved by delta. */
static uint16_t skb_hdr_shift(uint16_t off, long delta)
{
	return off == SKB_HDR_UNSET ? off : (uint16_t)(off + delta);
}

int skb_expand_linear(struct sk_buff *skb, unsigned int headroom,
		      unsigned int tailroom)
{
	unsigned int len = skb_headlen(skb), data_size, size;
	size_t truesize, area;
	unsigned char *buf;
	long delta;

	if (skb->data_len || headroom > 0xffff || tailroom > 0xffff * 4u ||
	    len > 0xffff * 4u)
		return -EINVAL;
	size = headroom + len + tailroom;
	data_size = SKB_DATA_ALIGN(size);
	truesize = skb_truesize_of(size);
	area = truesize - sizeof(struct sk_buff);
	if (!pool_charge(skb->pool, area))
		return -ENOMEM;
	buf = area_get(skb->pool,
		       data_size + (unsigned int)sizeof(struct skb_shared_info));
	if (!buf) {
		pool_uncharge(skb->pool, area);
		if (skb->pool)
			skb->pool->alloc_fail++;
		return -ENOMEM;
	}
	if (skb->pool)
		skb->pool->allocs++;
	memcpy(buf + headroom, skb->data, len);
	memset(buf + data_size, 0, sizeof(struct skb_shared_info));
	/* The old area: this skb's share of its charge goes (the other
	 * holders keep theirs), and its reference. */
	skb_release_data(skb);
	pool_uncharge(skb->pool, skb->truesize - sizeof(struct sk_buff));
	delta = (long)headroom - (long)(skb->data - skb->head);
	skb->mac_header = skb_hdr_shift(skb->mac_header, delta);
	skb->network_header = skb_hdr_shift(skb->network_header, delta);
	skb->transport_header = skb_hdr_shift(skb->transport_header, delta);
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		skb->csum_start = (uint16_t)(skb->csum_start + delta);
	skb->head = buf;
	skb->data = buf + headroom;
	skb->tail = skb->data + len;
	skb->end = buf + data_size;
	skb_shinfo(skb)->dataref = 1;
	skb->truesize = (uint32_t)truesize;
	return 0;
}

int skb_reserve(struct sk_buff *skb, unsigned int len)
{
	if (skb->len || len > skb_tailroom(skb))
		return -1;
	skb->data += len;
	skb->tail += len;
	return 0;
}

unsigned char *skb_put(struct sk_buff *skb, unsigned int len)
{
	unsigned char *old = skb->tail;

	if (len > skb_tailroom(skb) || skb->data_len)
		return NULL;
	skb->tail += len;
	skb->len += len;
	return old;
}

int skb_put_data(struct sk_buff *skb, const void *src, unsigned int len)
{
	unsigned char *p = skb_put(skb, len);

	if (!p)
		return -1;
	if (len)
		memcpy(p, src, len);
	return 0;
}

unsigned char *skb_push(struct sk_buff *skb, unsigned int len)
{
	if (len > skb_headroom(skb))
		return NULL;
	skb->data -= len;
	skb->len += len;
	return skb->data;
}

unsigned char *skb_pull(struct sk_buff *skb, unsigned int len)
{
	if (len > skb_headlen(skb))
		return NULL;
	skb->data += len;
	skb->len -= len;
	return skb->data;
}

int skb_trim_frags(struct sk_buff *skb, unsigned int len)
{
	struct sk_buff *f, *next, *keep = NULL;
	unsigned int head = skb_headlen(skb), left;

	if (!skb->data_len)
		return skb_trim(skb, len);
	if (len > skb->len || skb_shared_data(skb))
		return -1;
	left = len > head ? len - head : 0;
	for (f = skb_shinfo(skb)->frag_list; f; f = f->frag_next) {
		/* (a frag's bytes are its data..tail, as every walker reads
		 * them; frags are linear) */
		unsigned int flen = (unsigned int)(f->tail - f->data);

		if (!left)
			break;
		keep = f;
		if (left <= flen) {
			f->len = left;
			f->tail = f->data + left;
			left = 0;
			f = f->frag_next;
			break;
		}
		left -= flen;
	}
	/* What follows the cut goes. */
	for (; f; f = next) {
		next = f->frag_next;
		skb_free(f);
	}
	if (keep)
		keep->frag_next = NULL;
	else
		skb_shinfo(skb)->frag_list = NULL;
	if (len < head)
		skb->tail = skb->data + len;
	skb->data_len = len > head ? len - head : 0;
	skb->len = len;
	return 0;
}

int skb_trim(struct sk_buff *skb, unsigned int len)
{
	if (len > skb->len || skb->data_len)
		return -1;
	skb->len = len;
	skb->tail = skb->data + len;
	return 0;
}

void skb_queue_head_init(struct sk_buff_head *q)
{
	list_init(&q->list);
	q->qlen = 0;
	q->bytes = 0;
}

void skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb)
{
	list_add_tail(&skb->list, &q->list);
	q->qlen++;
	q->bytes += skb->len;
}

void skb_queue_head(struct sk_buff_head *q, struct sk_buff *skb)
{
	list_add(&skb->list, &q->list);
	q->qlen++;
	q->bytes += skb->len;
}

void skb_queue_after(struct sk_buff_head *q, struct sk_buff *prev,
		     struct sk_buff *skb)
{
	list_add(&skb->list, &prev->list);
	q->qlen++;
	q->bytes += skb->len;
}

void skb_unlink(struct sk_buff_head *q, struct sk_buff *skb)
{
	list_del(&skb->list);
	q->qlen--;
	q->bytes -= skb->len;
}

struct sk_buff *skb_dequeue(struct sk_buff_head *q)
{
	struct sk_buff *skb = skb_peek(q);

	if (skb)
		skb_unlink(q, skb);
	return skb;
}

void skb_queue_purge(struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q)) != NULL)
		skb_free(skb);
}
