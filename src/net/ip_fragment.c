/*
 * ip_fragment.c - IPv4 fragmentation on output and reassembly on input
 * (RFC 791 §2.3 and §3.2, RFC 815, RFC 1122 §3.3.2).
 *
 * Send:    ip_output -> ip_fragment -> ip_finish_output, one new skb per
 *          fragment.
 * Receive: ip_rcv -> ip_defrag -> (the whole datagram) -> ip_local_deliver.
 *
 * A datagram being reassembled is a struct ipq keyed by (saddr, daddr, id,
 * protocol), holding its fragments sorted by offset. Overlaps are not
 * merged: as Linux does since the FragmentSmack fix (RFC 5722 §4, applied
 * to IPv4), any overlap other than an exact duplicate discards the whole
 * datagram, so no two readings of the same bytes can exist. Memory held by
 * all queues is bounded by ipq_table.mem_limit, and each queue lives at
 * most timeout_us from its first fragment. The datagram's ECN field
 * takes in every fragment's (RFC 3168 §5.3, ipq_ecn).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "net/ether.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/ipv4_priv.h"
#include "net/sock.h"
#include "stack/stack.h"

#define IPQ_MEM_LIMIT (4u << 20)  /* Linux's ipfrag_high_thresh */
#define IPQ_TIMEOUT_US (30 * US_USEC_PER_SEC)  /* Linux's ipfrag_time */

#define IPQ_ECN_MASK 3   /* the TOS byte's ECN field (RFC 3168 §5) */
#define IPQ_ECN_CE 3

#define IPOPT_EOL 0
#define IPOPT_NOP 1
#define IPOPT_COPY 0x80  /* RFC 791 §3.1: copied into every fragment */

/* Where a queued fragment's payload sits in the datagram. */
struct ipfrag_cb {
	uint32_t offset;  /* first payload byte */
	uint32_t end;     /* one past the last */
	uint32_t ihl;     /* this fragment's header length */
};

static inline struct ipfrag_cb *ipfrag_cb(struct sk_buff *skb)
{
	return (struct ipfrag_cb *)(void *)skb->cb;
}

void ip_reasm_init(struct ipq_table *t)
{
	list_init(&t->queues);
	t->count = 0;
	t->mem = 0;
	t->mem_limit = IPQ_MEM_LIMIT;
	t->timeout_us = IPQ_TIMEOUT_US;
}

/*
 * Free a queue and its fragments. Fragments are counted as dropped under
 * `reason` unless it is NOT_DROPPED (the datagram was reassembled, or the
 * stack is going away).
 */
static void ipq_kill(struct ipq *q, enum us_drop_reason reason)
{
	struct ustack *st = q->st;
	struct sk_buff *skb;

	us_timer_del(&st->timers, &q->timer);
	list_del(&q->list);
	st->ip.reasm.count--;
	st->ip.reasm.mem -= q->mem;
	while ((skb = skb_dequeue(&q->frags)) != NULL) {
		if (reason == US_DROP_NOT_DROPPED)
			skb_free(skb);
		else
			us_drop(st, skb, reason);
	}
	free(q);
}

/* A datagram that can no longer be reassembled. */
static void ipq_fail(struct ipq *q, enum us_drop_reason reason)
{
	us_mib_inc(q->st, US_MIB_IP_REASM_FAILS);
	ipq_kill(q, reason);
}

/*
 * RFC 791 §3.2 / RFC 1122 §3.3.2: the reassembly timer ran out. The
 * sender hears ICMP time exceeded (code 1) only when fragment zero
 * arrived, since only then can the error quote the transport header.
 */
static void ipq_expire(struct us_timer *t, us_time_t now)
{
	struct ipq *q = container_of(t, struct ipq, timer);
	struct sk_buff *head = skb_peek(&q->frags);

	(void)now;
	if (q->has_first && head && head->dev)
		icmp_send(head, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME, 0);
	ipq_fail(q, US_DROP_IP_REASM_TIMEOUT);
}

void ip_reasm_destroy(struct ustack *st)
{
	struct ipq_table *t = &st->ip.reasm;

	while (!list_empty(&t->queues))
		ipq_kill(list_entry(t->queues.next, struct ipq, list),
			 US_DROP_NOT_DROPPED);
}

void ip_reasm_forget_dev(struct ustack *st, struct net_device *dev)
{
	struct list_head *pos;
	struct sk_buff *skb;

	list_for_each(pos, &st->ip.reasm.queues) {
		struct ipq *q = list_entry(pos, struct ipq, list);

		skb_queue_walk(&q->frags, skb)
			if (skb->dev == dev)
				skb->dev = NULL;
	}
}

static struct ipq *ipq_find(struct ipq_table *t, const struct ipv4_info *h)
{
	struct list_head *pos;

	list_for_each(pos, &t->queues) {
		struct ipq *q = list_entry(pos, struct ipq, list);

		if (q->id == h->id && q->saddr == h->saddr &&
		    q->daddr == h->daddr && q->protocol == h->protocol)
			return q;
	}
	return NULL;
}

/* A new queue; its timer runs from this first fragment (RFC 791 §3.2). */
static struct ipq *ipq_create(struct ustack *st, const struct ipv4_info *h)
{
	struct ipq_table *t = &st->ip.reasm;
	struct ipq *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->st = st;
	q->saddr = h->saddr;
	q->daddr = h->daddr;
	q->id = h->id;
	q->protocol = h->protocol;
	q->mem = sizeof(*q);
	skb_queue_head_init(&q->frags);
	us_timer_init(&q->timer, ipq_expire);
	if (us_timer_mod(&st->timers, &q->timer, st->now + t->timeout_us) < 0) {
		free(q);
		return NULL;
	}
	list_add_tail(&q->list, &t->queues);
	t->count++;
	t->mem += q->mem;
	return q;
}

/* The header fields of a fragment that ip_rcv has already validated. */
static void ipfrag_read(const struct sk_buff *skb, struct ipv4_info *h)
{
	const uint8_t *p = skb->data;

	memset(h, 0, sizeof(*h));
	h->ihl_bytes = (uint8_t)((p[0] & 0xfu) * 4u);
	h->tot_len = ip_get16(p + 2);
	h->id = ip_get16(p + 4);
	h->frag_off = ip_get16(p + 6);
	h->protocol = p[9];
	memcpy(&h->saddr, p + 12, 4);
	memcpy(&h->daddr, p + 16, 4);
}

/* Checks on one fragment alone. */
static enum us_drop_reason ipfrag_check(const struct ipv4_info *h)
{
	unsigned int off = (h->frag_off & IP_OFFMASK) * 8u;
	unsigned int len = h->tot_len - h->ihl_bytes;

	/* RFC 791 §3.1: the datagram, header included, fits in 65535 bytes;
	 * an offset that says otherwise is the "ping of death". */
	if (off + h->tot_len > IP_MAXPACKET)
		return US_DROP_IP_FRAG_TOO_BIG;
	/* RFC 791 §2.3: fragments other than the last carry a multiple of
	 * 8 bytes; one that does not is cut down to one (ipq_insert, as
	 * Linux's ip_frag_queue), and one that then carries nothing, like
	 * an empty fragment, has nothing to place (Linux). */
	if ((h->frag_off & IP_MF) ? len < 8 : len == 0)
		return US_DROP_IP_FRAG_BAD;
	return US_DROP_NOT_DROPPED;
}

/* The end of the data held so far (fragments are sorted, disjoint). */
static uint32_t ipq_max_end(struct ipq *q)
{
	struct sk_buff *tail = skb_peek_tail(&q->frags);

	return tail ? ipfrag_cb(tail)->end : 0;
}

/*
 * RFC 815: the last fragment fixes the datagram's length. Data beyond it,
 * or a second last fragment with another end, means the fragments do not
 * describe one datagram.
 */
static bool ipq_end_consistent(struct ipq *q, const struct ipfrag_cb *c,
			       bool more)
{
	if (!more)
		return c->end >= ipq_max_end(q) &&
		       (!q->has_last || c->end == q->total_len);
	return !q->has_last || c->end <= q->total_len;
}

/*
 * Find where fragment c goes: returns the fragment to insert after (NULL
 * for the front), or sets *reason to IP_FRAG_DUP for an exact duplicate or
 * IP_FRAG_OVERLAP for any other overlap.
 */
static struct sk_buff *ipq_find_slot(struct ipq *q, const struct ipfrag_cb *c,
				     enum us_drop_reason *reason)
{
	struct sk_buff *f, *prev = NULL;
	uint32_t run_start = 0, run_end = 0;

	/* Inside a run of data held (the fragments are disjoint, so a run
	 * is adjacent ones): a duplicate, perhaps cut at another MTU, that
	 * only goes itself (Linux's inet_frag_queue_insert, RFC 5722 with
	 * erratum 3089). */
	skb_queue_walk(&q->frags, f) {
		const struct ipfrag_cb *o = ipfrag_cb(f);

		if (o->offset != run_end)
			run_start = o->offset;
		run_end = o->end;
		if (run_start <= c->offset && c->end <= run_end) {
			*reason = US_DROP_IP_FRAG_DUP;
			return NULL;
		}
	}
	*reason = US_DROP_NOT_DROPPED;
	skb_queue_walk(&q->frags, f) {
		const struct ipfrag_cb *o = ipfrag_cb(f);

		if (c->offset < o->end && o->offset < c->end) {
			*reason = US_DROP_IP_FRAG_OVERLAP;
			return NULL;
		}
		if (o->offset < c->offset)
			prev = f;
	}
	return prev;
}

/*
 * May `more` bytes of fragments be held? Below the reassembly limit, and
 * with the skb pool not past the limit of queued data (skb_pool_may_queue;
 * skb is already counted): the pool's last eighth is for frames arriving,
 * so that fragments, like data queued to sockets, cannot take it all.
 */
static bool ipq_room(const struct ustack *st, size_t more)
{
	const struct ipq_table *t = &st->ip.reasm;

	return t->mem + more <= t->mem_limit &&
	       skb_pool_may_queue(&st->skb_pool, 0);
}

/*
 * Put skb in q. Returns NOT_DROPPED when queued; IP_FRAG_DUP or
 * IP_REASM_MEMLIMIT when only skb must go; any other reason when the
 * whole datagram must go.
 */
static enum us_drop_reason ipq_insert(struct ipq *q, struct sk_buff *skb,
				      const struct ipv4_info *h)
{
	struct ipq_table *t = &q->st->ip.reasm;
	struct ipfrag_cb *c = ipfrag_cb(skb);
	bool more = h->frag_off & IP_MF;
	enum us_drop_reason r;
	struct sk_buff *prev;

	c->offset = (h->frag_off & IP_OFFMASK) * 8u;
	c->end = c->offset + h->tot_len - h->ihl_bytes;
	if (more)
		c->end &= ~7u;   /* the rest is not placed (ipfrag_check) */
	c->ihl = h->ihl_bytes;
	if (!ipq_end_consistent(q, c, more))
		return US_DROP_IP_FRAG_BAD;
	prev = ipq_find_slot(q, c, &r);
	if (r != US_DROP_NOT_DROPPED)
		return r;
	if (!ipq_room(q->st, skb->truesize))
		return US_DROP_IP_REASM_MEMLIMIT;
	if (prev)
		skb_queue_after(&q->frags, prev, skb);
	else
		skb_queue_head(&q->frags, skb);
	q->meat += c->end - c->offset;
	q->ecn |= (uint8_t)(1u << (skb->data[1] & IPQ_ECN_MASK));
	q->mem += skb->truesize;
	t->mem += skb->truesize;
	if (c->offset == 0)
		q->has_first = true;
	if (!more) {
		q->has_last = true;
		q->total_len = c->end;
	}
	return US_DROP_NOT_DROPPED;
}

/*
 * RFC 3168 §5.3: the datagram's ECN field from those of its fragments
 * (each held once: a duplicate's does not count). A CE on any makes it
 * CE; not-ECT beside ECT or CE cannot be told apart from a mark lost on
 * the way, so the datagram is dropped (-1). Otherwise the first
 * fragment's field stands (0 to OR in). As Linux's ip_frag_ecn_table.
 */
static int ipq_ecn(const struct ipq *q)
{
	uint8_t not_ect = 1u << 0, ce = 1u << IPQ_ECN_CE;

	if ((q->ecn & not_ect) && (q->ecn & ~not_ect))
		return -1;
	return (q->ecn & ce) ? IPQ_ECN_CE : 0;
}

/* Copy the fragments of a complete q into one linear skb. */
static struct sk_buff *ipq_reasm(struct ipq *q, struct net_device *dev)
{
	struct ustack *st = q->st;
	struct sk_buff *head = skb_peek(&q->frags), *f, *skb;
	unsigned int hlen = ipfrag_cb(head)->ihl;
	int ecn = ipq_ecn(q);
	uint8_t *p;

	if (ecn < 0) {
		ipq_fail(q, US_DROP_IP_FRAG_ECN);
		return NULL;
	}
	/* Later fragments may have had shorter headers than the first. */
	if (hlen + q->total_len > IP_MAXPACKET) {
		ipq_fail(q, US_DROP_IP_FRAG_TOO_BIG);
		return NULL;
	}
	skb = us_skb_alloc(st, hlen + q->total_len);
	if (!skb) {
		ipq_fail(q, US_DROP_NOMEM);
		return NULL;
	}
	p = skb_put(skb, hlen + q->total_len);
	memcpy(p, head->data, hlen);
	skb_queue_walk(&q->frags, f) {
		const struct ipfrag_cb *c = ipfrag_cb(f);
		unsigned int fragsize = c->ihl + c->end - c->offset;

		memcpy(p + hlen + c->offset, f->data + c->ihl, c->end - c->offset);
		if (fragsize > skb->frag_max)
			skb->frag_max = (uint16_t)fragsize;
	}
	p[1] |= (uint8_t)ecn;
	ip_put16(p + 2, (uint16_t)(hlen + q->total_len));
	ip_put16(p + 6, 0);
	ip_put16(p + 10, 0);
	ip_put16(p + 10, inet_csum(p, hlen));
	skb->dev = dev;
	skb->protocol = ETH_P_IP;
	skb->pkt_type = head->pkt_type;
	skb->tstamp = st->now;
	skb_reset_network_header(skb);
	us_mib_inc(st, US_MIB_IP_REASM_OKS);
	ipq_kill(q, US_DROP_NOT_DROPPED);
	return skb;
}

/* Find or make the queue for skb; NULL after dropping skb. */
static struct ipq *ipq_get(struct ustack *st, struct sk_buff *skb,
			   const struct ipv4_info *h)
{
	struct ipq_table *t = &st->ip.reasm;
	struct ipq *q = ipq_find(t, h);
	enum us_drop_reason r = ipfrag_check(h);

	/* One bad fragment spoils its datagram. */
	if (r == US_DROP_NOT_DROPPED && !q &&
	    !ipq_room(st, sizeof(*q) + skb->truesize))
		r = US_DROP_IP_REASM_MEMLIMIT;
	if (r != US_DROP_NOT_DROPPED) {
		if (q)
			ipq_kill(q, r);
		us_mib_inc(st, US_MIB_IP_REASM_FAILS);
		us_drop(st, skb, r);
		return NULL;
	}
	if (!q)
		q = ipq_create(st, h);
	if (!q) {
		us_mib_inc(st, US_MIB_IP_REASM_FAILS);
		us_drop(st, skb, US_DROP_NOMEM);
	}
	return q;
}

struct sk_buff *ip_defrag(struct ustack *st, struct sk_buff *skb)
{
	struct ipv4_info h;
	enum us_drop_reason r;
	struct ipq *q;

	us_mib_inc(st, US_MIB_IP_REASM_REQDS);
	ipfrag_read(skb, &h);
	q = ipq_get(st, skb, &h);
	if (!q)
		return NULL;
	r = ipq_insert(q, skb, &h);
	if (r == US_DROP_IP_FRAG_DUP) {
		us_drop(st, skb, r);
		return NULL;
	}
	if (r != US_DROP_NOT_DROPPED) {
		if (r != US_DROP_IP_REASM_MEMLIMIT)
			ipq_kill(q, r);
		us_mib_inc(st, US_MIB_IP_REASM_FAILS);
		us_drop(st, skb, r);
		return NULL;
	}
	if (!q->has_first || !q->has_last || q->meat != q->total_len)
		return NULL;
	return ipq_reasm(q, skb->dev);
}

/*
 * Output. The transport may have left its checksum for the device
 * (CHECKSUM_PARTIAL), but no device sums a datagram it only sees in
 * pieces: finish it in software first, as Linux's skb_checksum_help does.
 */
static int ip_csum_help(struct sk_buff *skb)
{
	unsigned char *start, *field;
	uint16_t sum;

	if (skb_unshare_data(skb) < 0)
		return -ENOMEM;
	start = skb->head + skb->csum_start;
	field = start + skb->csum_offset;
	if (start < skb->data || field + 2 > skb->tail)
		return -EINVAL;
	sum = csum_fold(csum_partial(start, (size_t)(skb->tail - start), 0));
	/* 0 and 0xffff are the same sum; UDP reserves 0 for "none". */
	ip_put16(field, sum ? sum : 0xffff);
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/*
 * RFC 791 §3.1: options without the copy flag appear in the first
 * fragment only; later ones carry NOPs in their place so that the header
 * length stays the same.
 */
static void ip_options_fragment(uint8_t *opt, unsigned int len)
{
	unsigned int i = 0;

	while (i < len && opt[i] != IPOPT_EOL) {
		unsigned int olen;

		if (opt[i] == IPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return;
		olen = opt[i + 1];
		if (!(opt[i] & IPOPT_COPY))
			memset(opt + i, IPOPT_NOP, olen);
		i += olen;
	}
}

/* One fragment: payload bytes [off, off + n) of skb, behind a copy of its
 * header, in a new skb with the standard headroom. */
static struct sk_buff *ip_make_frag(struct ustack *st, const struct sk_buff *skb,
				    unsigned int hlen, unsigned int off,
				    unsigned int n, uint16_t flags)
{
	struct sk_buff *frag = us_skb_alloc(st, hlen + n);
	uint16_t base = ip_get16(skb->data + 6) & IP_OFFMASK;
	uint8_t *p;

	if (!frag)
		return NULL;
	p = skb_put(frag, hlen + n);
	memcpy(p, skb->data, hlen);
	if (off)
		ip_options_fragment(p + IP_HLEN_MIN, hlen - IP_HLEN_MIN);
	memcpy(p + hlen, skb->data + hlen + off, n);
	ip_put16(p + 2, (uint16_t)(hlen + n));
	ip_put16(p + 6, (uint16_t)(flags | (base + off / 8)));
	ip_put16(p + 10, 0);
	ip_put16(p + 10, inet_csum(p, hlen));
	skb_reset_network_header(frag);
	frag->protocol = ETH_P_IP;
	frag->tstamp = skb->tstamp;
	frag->mark = skb->mark;
	return frag;
}

static int ip_fragment_fail(struct ustack *st, struct sk_buff *skb,
			    enum us_drop_reason reason, int err)
{
	us_mib_inc(st, US_MIB_IP_FRAG_FAILS);
	us_drop(st, skb, reason);
	return err;
}

int ip_fragment(struct ustack *st, const struct ip_route *rt, unsigned int mtu,
		struct sk_buff *skb)
{
	unsigned int hlen = (skb->data[0] & 0xfu) * 4u;
	unsigned int total = skb->len - hlen;
	/* A fragment (of a fragment) that was not last keeps MF throughout. */
	uint16_t last_mf = ip_get16(skb->data + 6) & IP_MF;
	unsigned int per, n;
	int err;

	/* RFC 791 §2.3: every fragment but the last carries a multiple of
	 * 8 payload bytes. */
	if (mtu < hlen + 8)
		return ip_fragment_fail(st, skb, US_DROP_IP_FRAG_BAD, -EMSGSIZE);
	per = (mtu - hlen) & ~7u;
	/* The fragments are cut from one run of bytes: a packet whose data
	 * sits partly on its frag_list is made linear first (TCP hands
	 * such packets down, though it cuts its segments to the path's MTU
	 * and so never reaches here). */
	if (skb_is_nonlinear(skb)) {
		struct sk_buff *flat = skb_copy(skb);

		if (!flat)
			return ip_fragment_fail(st, skb, US_DROP_NOMEM,
						-ENOBUFS);
		skb_tstamp_move(skb, flat);
		skb_free(skb);
		skb = flat;
	}
	if (skb->ip_summed == CHECKSUM_PARTIAL && ip_csum_help(skb) < 0)
		return ip_fragment_fail(st, skb, US_DROP_NOMEM, -ENOBUFS);
	for (unsigned int off = 0; off < total; off += n) {
		struct sk_buff *frag;

		n = total - off < per ? total - off : per;
		frag = ip_make_frag(st, skb, hlen, off, n,
				    off + n < total ? IP_MF : last_mf);
		if (!frag)
			return ip_fragment_fail(st, skb, US_DROP_NOMEM, -ENOBUFS);
		/* Timestamp reports come for the first fragment, as Linux's
		 * fast path sends the datagram's own skb first. */
		if (!off && skb->tx_flags)
			skb_tstamp_move(skb, frag);
		us_mib_inc(st, US_MIB_IP_FRAG_CREATES);
		err = ip_finish_output(st, rt, frag);
		if (err < 0) {
			/* Linux stops at the first fragment that fails. */
			us_mib_inc(st, US_MIB_IP_FRAG_FAILS);
			skb_free(skb);
			return err;
		}
	}
	us_mib_inc(st, US_MIB_IP_FRAG_OKS);
	skb_free(skb);
	return 0;
}
