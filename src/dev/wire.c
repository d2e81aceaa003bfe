/*
 * wire.c - an in-memory point-to-point Ethernet link between two stack
 * instances, with seeded faults, in virtual time (see wire.h).
 *
 * Call chain:  dev_queue_xmit -> wire_xmit -> fault_decide -> (queue)
 *              us_engine_step -> wire_poll -> netif_receive_skb (peer)
 *
 * The two devices share one struct wire. Each direction holds the frames in
 * flight, sorted by delivery time (ties in sending order). The receiver
 * builds an skb from its own pool when a frame arrives, and only the
 * sender frees (or counts references to) the sender's packets, so no
 * instance ever touches another's memory accounting; either instance may
 * be destroyed first (frames it sent become copies and still arrive).
 * Memory in flight is bounded by queue_max frames per direction.
 *
 * A mutex guards the shared state, because the two instances each have
 * their own core lock and could be driven by different threads.
 *
 * Offloads: a perfect wire (no fault, no rate) is what a veth pair is to
 * Linux, so its devices offer checksum offload and TSO, and a TCP GSO
 * packet of up to 64 KB crosses as one frame, its checksum left partial;
 * the frame carries that fact (WIRE_F_CSUM_VALID, the virtio-net header's
 * NEEDS_CSUM in spirit) and the receiver skips verification for it only.
 * Faults act on one link-sized frame at a time and a rate models a real
 * link's queue in frames, so with either the devices offer no offloads:
 * the sender cuts segments and computes checksums in software (gso.c)
 * and the receiver verifies every one, so a flipped bit is caught.
 * Frame buffers are recycled under the wire lock, so a steady stream
 * allocates nothing.
 *
 * On a link without faults nothing can change a frame's bytes, so the
 * frame refers to the sender's packet instead of copying it, and the
 * receiver copies it once into its own buffer, as a NIC reads a
 * transmit ring by DMA: the packet then goes back to the sender on the
 * direction's `done` list, and the sender frees it (into its own pool)
 * the next time it sends or polls, as a driver reaps transmit
 * completions. Only the sender ever frees or counts references to its
 * packets; the receiver only reads bytes that no one writes while they
 * are shared (TCP copies a segment whose data is still referenced
 * before writing headers into it). With faults, frames are copies that
 * a flipped bit may damage without touching the sender's buffer.
 */
#include "dev/wire.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dev/fault.h"
#include "dev/netdev.h"
#include "dev/pcap.h"
#include "net/ether.h"
#include "stack/stack.h"

#define WIRE_QUEUE_MAX_DEFAULT 1024
#define WIRE_NAME_TRIES 100
#define WIRE_GSO_MAX 65535      /* the largest IPv4 packet, as one frame */
#define WIRE_SPARE_MAX 256      /* recycled frame buffers kept per size */
#define WIRE_RX_CLASS_MIN 4096  /* the smallest GSO receive buffer */

/* The sender left the L4 checksum unfinished (CHECKSUM_PARTIAL): the bytes
 * never left memory, so the receiver has nothing to verify. */
#define WIRE_F_CSUM_VALID 0x1

struct wire_frame {
	struct list_head list;
	us_time_t deliver_at;
	uint32_t len;
	uint32_t cap;              /* bytes of data[] */
	uint8_t flags;             /* WIRE_F_* */
	struct sk_buff *skb;       /* the sender's packet, read in place; NULL
				      when the bytes are in data[] */
	uint8_t data[];
};

/* Frame buffers of one size waiting for reuse. */
struct wire_spares {
	struct list_head list;
	unsigned int n;
	uint32_t cap;
};

/* One direction: frames sent by port `side` towards the other port. */
struct wire_dir {
	struct fault_state fault;
	struct list_head frames;  /* sorted by deliver_at */
	unsigned int qlen;
	struct wire_stats stats;
	struct sk_buff_head done; /* the sender's packets the receiver has
				     read, for the sender to free */
};

struct wire {
	pthread_mutex_t lock;
	struct us_rng rng;         /* MACs and the per-direction seeds */
	unsigned int queue_max;
	struct wire_dir dir[2];    /* dir[i] leaves port i */
	struct net_device *port[2]; /* NULL once that device is destroyed */
	int refs;                  /* devices still holding the wire */
	uint32_t features;         /* US_NETIF_F_* of both devices */
	struct wire_spares spare[2]; /* [0] link-sized, [1] GSO-sized */
};

struct wire_priv {
	struct wire *w;
	int side;                  /* 0 or 1 */
};

static const struct net_device_ops wire_ops;

static void frames_free(struct list_head *frames)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, frames) {
		list_del(pos);
		free(list_entry(pos, struct wire_frame, list));
	}
}

/* Insert after the last frame due no later than f, keeping FIFO on ties. */
static void dir_enqueue(struct wire_dir *d, struct wire_frame *f)
{
	struct list_head *pos = d->frames.prev;

	while (pos != &d->frames &&
	       list_entry(pos, struct wire_frame, list)->deliver_at > f->deliver_at)
		pos = pos->prev;
	list_add(&f->list, pos);
	d->qlen++;
}

/* A buffer for a frame of len bytes, recycled if one waits. Lock held. */
static struct wire_frame *frame_get(struct wire *w, uint32_t len)
{
	struct wire_spares *sp = &w->spare[len > w->spare[0].cap];
	struct wire_frame *f;

	if (sp->n) {
		f = list_entry(sp->list.next, struct wire_frame, list);
		list_del(&f->list);
		sp->n--;
		return f;
	}
	f = malloc(sizeof(*f) + sp->cap);
	if (f)
		f->cap = sp->cap;
	return f;
}

/* Keep f for reuse, or free it. Lock held. */
static void frame_put(struct wire *w, struct wire_frame *f)
{
	struct wire_spares *sp = &w->spare[f->cap > w->spare[0].cap];

	if (sp->n >= WIRE_SPARE_MAX || f->cap != sp->cap) {
		free(f);
		return;
	}
	list_add(&f->list, &sp->list);
	sp->n++;
}

/* A packet's bytes: the linear part, then a GSO packet's frag_list. */
static void copy_skb_bytes(uint8_t *to, const struct sk_buff *skb)
{
	const struct sk_buff *frag;
	uint32_t off = skb_headlen(skb);

	memcpy(to, skb->data, off);
	skb_walk_frags(skb, frag) {
		uint32_t n = (uint32_t)(frag->tail - frag->data);

		memcpy(to + off, frag->data, n);
		off += n;
	}
}

static uint8_t frame_flags(const struct sk_buff *skb)
{
	return skb->ip_summed == CHECKSUM_PARTIAL ? WIRE_F_CSUM_VALID : 0;
}

/* A frame for skb's bytes, with room for `cap` of them; not filled yet. */
static struct wire_frame *frame_start(struct wire *w,
				      const struct sk_buff *skb, uint32_t cap,
				      us_time_t deliver_at)
{
	struct wire_frame *f = frame_get(w, cap);

	if (!f)
		return NULL;
	list_init(&f->list);
	f->deliver_at = deliver_at;
	f->len = skb->len;
	f->flags = frame_flags(skb);
	f->skb = NULL;
	return f;
}

/* A frame that refers to skb (which it then owns) instead of a copy. */
static struct wire_frame *frame_ref(struct wire *w, struct sk_buff *skb,
				    us_time_t deliver_at)
{
	struct wire_frame *f = frame_start(w, skb, 0, deliver_at);

	if (f)
		f->skb = skb;
	return f;
}

static struct wire_frame *frame_new(struct wire *w, const struct sk_buff *skb,
				    us_time_t deliver_at)
{
	struct wire_frame *f = frame_start(w, skb, skb->len, deliver_at);

	if (f)
		copy_skb_bytes(f->data, skb);
	return f;
}

/*
 * The duplicate is one more frame in flight, subject to the same bound.
 * Returns false when it did not fit (the caller counts the drop).
 */
static bool wire_add_duplicate(struct wire *w, struct wire_dir *d,
			       const struct sk_buff *skb, us_time_t at)
{
	struct wire_frame *f;

	d->stats.duplicated++;
	if (d->qlen >= w->queue_max) {
		d->stats.overflow++;
		return false;
	}
	f = frame_new(w, skb, at);
	if (!f) {
		d->stats.overflow++;
		return false;
	}
	dir_enqueue(d, f);
	return true;
}

/*
 * Put skb's bytes on the link as the fault layer decides. Wire lock held.
 * Returns the drop reason, or US_DROP_NOT_DROPPED when the frame is in
 * flight; *kept says whether the frame took skb itself (else the caller
 * frees it), *dup_dropped whether a duplicate had to be dropped.
 */
static enum us_drop_reason wire_send(struct wire *w, struct wire_dir *d,
				     us_time_t now, struct sk_buff *skb,
				     bool *kept, bool *dup_dropped)
{
	struct fault_verdict v;
	struct wire_frame *f;

	d->stats.sent++;
	if (d->qlen >= w->queue_max) {
		d->stats.overflow++;
		return US_DROP_WIRE_QUEUE_FULL;
	}
	fault_decide(&d->fault, now, skb->len, &v);
	if (v.lost) {
		d->stats.lost++;
		return US_DROP_WIRE_LOSS;
	}
	if (!fault_any(&d->fault.p)) {
		f = frame_ref(w, skb, v.deliver_at);
		if (!f)
			return US_DROP_NOMEM;
		*kept = true;
		dir_enqueue(d, f);
		return US_DROP_NOT_DROPPED;
	}
	f = frame_new(w, skb, v.deliver_at);
	if (!f)
		return US_DROP_NOMEM;
	if (v.corrupt) {
		/* Damage on the line: whatever the sender skipped, the
		 * receiver must now check (and so catch it). */
		f->flags &= (uint8_t)~WIRE_F_CSUM_VALID;
		fault_flip_bit(f->data, f->len, v.corrupt_bit);
		d->stats.corrupted++;
	}
	if (v.reorder)
		d->stats.reordered++;
	dir_enqueue(d, f);
	if (v.duplicate)
		*dup_dropped = !wire_add_duplicate(w, d, skb, v.dup_at);
	return US_DROP_NOT_DROPPED;
}

/*
 * A frame longer than the link MTU would never cross a real one; a GSO
 * packet may, to a device that said it takes them (the peer receives it
 * whole, as a veth passes a GSO skb).
 */
static bool wire_frame_fits(const struct net_device *dev,
			    const struct sk_buff *skb)
{
	if (skb->len == 0)
		return false;
	if (skb_is_gso(skb) || skb_is_nonlinear(skb))
		return (dev->features & US_NETIF_F_TSO) &&
		       skb->len <= WIRE_GSO_MAX + dev->hard_header_len;
	return skb->len <= dev->mtu + dev->hard_header_len;
}

/* Free the packets the receiver has read (the sender's side, no wire
 * lock held: freeing may run destructors). */
static void free_done(struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(q)) != NULL)
		skb_free(skb);
}

/* Move d's finished packets to q. Wire lock held. */
static void take_done(struct wire_dir *d, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(&d->done)) != NULL)
		skb_queue_tail(q, skb);
}

static int wire_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire *w = wp->w;
	struct ustack *st = dev->st;
	struct wire_dir *d = &w->dir[wp->side];
	struct sk_buff_head done;
	enum us_drop_reason why;
	bool dup_dropped = false, kept = false;
	bool peer_gone;

	if (!wire_frame_fits(dev, skb)) {
		us_drop(st, skb, US_DROP_DEV_TX_ERROR);
		return -EMSGSIZE;
	}
	/* A packet that waits on the wire belongs to no socket any more
	 * (as veth's forwarding orphans it). */
	skb_orphan(skb);
	skb_queue_head_init(&done);
	pthread_mutex_lock(&w->lock);
	take_done(d, &done);
	peer_gone = !w->port[!wp->side];
	why = peer_gone ? US_DROP_DEV_DOWN :
		wire_send(w, d, st->now, skb, &kept, &dup_dropped);
	pthread_mutex_unlock(&w->lock);
	free_done(&done);

	if (dup_dropped)
		us_drop(st, NULL, US_DROP_WIRE_QUEUE_FULL);
	switch (why) {
	case US_DROP_NOT_DROPPED:
		if (!kept)
			skb_free(skb);
		return 0;
	case US_DROP_WIRE_LOSS:
		/* Lost on the line: the sender cannot know, so no error. */
		us_drop(st, skb, why);
		return 0;
	case US_DROP_DEV_DOWN:
		/* The other end is gone: no carrier. */
		dev->stats.tx_dropped++;
		us_drop(st, skb, why);
		return -ENOLINK;
	default:
		dev->stats.tx_dropped++;
		us_drop(st, skb, why);
		return why == US_DROP_NOMEM ? -ENOMEM : -ENOBUFS;
	}
}

/* A delivered frame: its packet back to the sender, its buffer for
 * reuse. Wire lock held. */
static void frame_finish(struct wire *w, struct wire_dir *d,
			 struct wire_frame *f)
{
	if (f->skb) {
		skb_queue_tail(&d->done, f->skb);
		f->skb = NULL;
	}
	frame_put(w, f);
}

/* Finish `done` (if any), and take the first frame due by `now` off d,
 * or NULL: one lock round per frame. */
static struct wire_frame *wire_take_due(struct wire *w, struct wire_dir *d,
					us_time_t now, struct wire_frame *done)
{
	struct wire_frame *f = NULL;

	pthread_mutex_lock(&w->lock);
	if (done)
		frame_finish(w, d, done);
	if (!list_empty(&d->frames)) {
		f = list_entry(d->frames.next, struct wire_frame, list);
		if (f->deliver_at <= now) {
			list_del(&f->list);
			d->qlen--;
			d->stats.delivered++;
		} else {
			f = NULL;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return f;
}

/*
 * With offloads, every frame lands in a buffer of a few fixed sizes, as in
 * a NIC's rings, so the instance's skb cache serves all of them whatever
 * their lengths (frames of many sizes took turns at its few size classes,
 * and the losers went through malloc, faulting pages in again and again).
 * A link-sized frame gets the link's size; a GSO frame the power of two
 * that holds it, up to the largest: a burst of a few segments in a 64 KB
 * buffer would charge the socket more than ten times its data, fill the
 * receive buffer while the window was still open, and the receiver then
 * dropped in-window data (drop.tcp_rcvq_full). With a power of two a
 * buffer costs at most twice its data, what the window (tcp_space's half)
 * allows for. Without offloads, a frame gets what it needs, as it always
 * did, so the simulations' memory accounting stays as it was.
 */
static unsigned int wire_rx_size(const struct wire *w,
				 const struct wire_frame *f)
{
	unsigned int size;

	if (f->len <= w->spare[0].cap)
		return w->features ? w->spare[0].cap : f->len;
	size = skb_size_class(f->len, WIRE_RX_CLASS_MIN);
	return size < w->spare[1].cap ? size : w->spare[1].cap;
}

/*
 * Hand one arrived frame up the receiving stack (no wire lock held, since
 * the receive path may transmit on this same wire). The caller recycles f.
 */
static void wire_deliver(struct wire *w, struct net_device *dev,
			 const struct wire_frame *f)
{
	struct sk_buff *skb = us_skb_alloc(dev->st, wire_rx_size(w, f));

	if (!skb) {
		dev->stats.rx_dropped++;
		us_drop(dev->st, NULL, US_DROP_NOMEM);
		return;
	}
	if (f->skb)
		copy_skb_bytes(skb_put(skb, f->len), f->skb);
	else
		skb_put_data(skb, f->data, f->len);
	skb->dev = dev;
	/* Only a frame that says its checksum was never computed skips the
	 * check, and only on a device that accepts that (RXCSUM). */
	if ((f->flags & WIRE_F_CSUM_VALID) &&
	    (dev->features & US_NETIF_F_RXCSUM))
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	if (f->len > dev->mtu + dev->hard_header_len)
		us_mib_inc(dev->st, US_MIB_DEV_RX_GSO);
	netif_receive_skb(skb);
}

static int wire_poll(struct net_device *dev, int budget)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire_dir *in = &wp->w->dir[!wp->side];
	struct wire_frame *f = NULL;
	struct sk_buff_head done;
	int n = 0;

	while (n < budget &&
	       (f = wire_take_due(wp->w, in, dev->st->now, f))) {
		wire_deliver(wp->w, dev, f);
		n++;
	}
	/* Our own packets the peer has read go back to our pool. */
	skb_queue_head_init(&done);
	pthread_mutex_lock(&wp->w->lock);
	if (f)
		frame_finish(wp->w, in, f);
	take_done(&wp->w->dir[wp->side], &done);
	pthread_mutex_unlock(&wp->w->lock);
	free_done(&done);
	return n;
}

static us_time_t wire_next_event(struct net_device *dev)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire_dir *in = &wp->w->dir[!wp->side];
	us_time_t t = US_TIME_NEVER;

	pthread_mutex_lock(&wp->w->lock);
	if (!list_empty(&in->frames))
		t = list_entry(in->frames.next, struct wire_frame, list)->deliver_at;
	pthread_mutex_unlock(&wp->w->lock);
	return t;
}

static void wire_free(struct wire *w)
{
	frames_free(&w->dir[0].frames);
	frames_free(&w->dir[1].frames);
	frames_free(&w->spare[0].list);
	frames_free(&w->spare[1].list);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

static void wire_unref(struct wire *w)
{
	int refs;

	pthread_mutex_lock(&w->lock);
	refs = --w->refs;
	pthread_mutex_unlock(&w->lock);
	if (refs == 0)
		wire_free(w);
}

/*
 * Frames towards a port that goes away: discarded, the packets they refer
 * to handed back to their sender (the other end) to free. Lock held.
 */
static void wire_discard_incoming(struct wire *w, struct wire_dir *in)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &in->frames) {
		struct wire_frame *f = list_entry(pos, struct wire_frame, list);

		list_del(pos);
		if (f->skb)
			skb_queue_tail(&in->done, f->skb);
		free(f);
	}
	in->qlen = 0;
}

/*
 * Frames from a port that goes away still arrive, but its packets go with
 * it: each frame that refers to one becomes a copy (or is lost, counted,
 * if there is no memory for it), and the packet goes on `gone` for the
 * caller to free. Lock held.
 */
static void wire_detach_outgoing(struct wire_dir *out,
				 struct sk_buff_head *gone)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &out->frames) {
		struct wire_frame *f = list_entry(pos, struct wire_frame, list);
		struct wire_frame *c;

		if (!f->skb)
			continue;
		c = malloc(sizeof(*c) + f->len);
		if (c) {
			*c = *f;
			c->cap = f->len;
			c->skb = NULL;
			copy_skb_bytes(c->data, f->skb);
			list_add(&c->list, pos);
		} else {
			out->qlen--;
			out->stats.lost++;
		}
		list_del(pos);
		skb_queue_tail(gone, f->skb);
		free(f);
	}
	take_done(out, gone);
}

/*
 * One end goes away: frames still travelling towards it are discarded,
 * and the shared state goes with the last end.
 */
static void wire_destroy(struct net_device *dev)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire *w = wp->w;
	struct sk_buff_head gone;

	if (dev->pcap) {
		pcap_close(dev->pcap);
		dev->pcap = NULL;
	}
	skb_queue_head_init(&gone);
	pthread_mutex_lock(&w->lock);
	w->port[wp->side] = NULL;
	wire_discard_incoming(w, &w->dir[!wp->side]);
	wire_detach_outgoing(&w->dir[wp->side], &gone);
	pthread_mutex_unlock(&w->lock);
	free_done(&gone);
	wire_unref(w);
}

static const struct net_device_ops wire_ops = {
	.xmit = wire_xmit,
	.poll = wire_poll,
	.next_event = wire_next_event,
	.destroy = wire_destroy,
};

/* A locally administered unicast address (IEEE 802 bits 0x02 set, 0x01
 * clear), so it can never collide with a vendor-assigned one. */
static void wire_random_mac(struct us_rng *r, uint8_t *mac)
{
	uint64_t v = us_rng_next(r);

	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

static int wire_pick_name(struct ustack *st, char *name)
{
	for (int i = 0; i < WIRE_NAME_TRIES; i++) {
		snprintf(name, US_IFNAMSIZ, "wire%d", i);
		if (!us_dev_get_by_name(st, name))
			return 0;
	}
	return -EEXIST;
}

/*
 * What both devices offer: everything a veth does on a perfect wire,
 * nothing once a fault or a rate asks for link-sized frames (as on the
 * TAP, whose fault layer turns TSO off), or when the caller says so.
 */
static uint32_t wire_features(const struct wire_params *p,
			      const struct fault_params *fp)
{
	if (p->no_offload || fault_any(fp) || p->rate_bps)
		return 0;
	return US_NETIF_F_HW_CSUM | US_NETIF_F_RXCSUM | US_NETIF_F_TSO |
	       US_NETIF_F_GRO_HW;
}

static struct wire *wire_alloc(const struct wire_params *p, unsigned int mtu)
{
	struct fault_params fp = {
		.loss_ppm = p->loss_ppm,
		.dup_ppm = p->dup_ppm,
		.reorder_ppm = p->reorder_ppm,
		.corrupt_ppm = p->corrupt_ppm,
		.delay_us = p->delay_us,
		.reorder_delay_us = p->reorder_delay_us,
		.rate_bps = p->rate_bps,
	};
	struct wire *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	us_rng_seed(&w->rng, p->seed);
	w->queue_max = p->queue_max ? p->queue_max : WIRE_QUEUE_MAX_DEFAULT;
	w->features = wire_features(p, &fp);
	for (int i = 0; i < 2; i++) {
		list_init(&w->dir[i].frames);
		skb_queue_head_init(&w->dir[i].done);
		list_init(&w->spare[i].list);
	}
	w->spare[0].cap = mtu + ETH_HLEN;
	w->spare[1].cap = (mtu > WIRE_GSO_MAX ? mtu : WIRE_GSO_MAX) + ETH_HLEN;
	/*
	 * Each direction gets its own generator, seeded from the wire's, so
	 * that traffic one way does not change the faults met the other way.
	 */
	fault_init(&w->dir[0].fault, &fp, us_rng_next(&w->rng));
	fault_init(&w->dir[1].fault, &fp, us_rng_next(&w->rng));
	return w;
}

/* Create port `side` of w in st and register it. */
static int wire_add_port(struct wire *w, struct ustack *st, int side,
			 unsigned int mtu, struct net_device **out)
{
	char name[US_IFNAMSIZ];
	struct net_device *dev;
	struct wire_priv *wp;
	int err = wire_pick_name(st, name);

	if (err)
		return err;
	dev = netdev_alloc(name, sizeof(*wp), &wire_ops);
	if (!dev)
		return -ENOMEM;
	wp = netdev_priv(dev);
	wp->w = w;
	wp->side = side;
	dev->mtu = mtu;
	dev->flags |= US_IFF_UP;
	dev->features = w->features;
	wire_random_mac(&w->rng, dev->dev_addr);
	if (side == 1)
		while (!memcmp(dev->dev_addr, w->port[0]->dev_addr, ETH_ALEN))
			wire_random_mac(&w->rng, dev->dev_addr);
	w->port[side] = dev;
	w->refs++;
	err = netdev_register(st, dev);
	if (err) {
		dev->st = NULL;
		netdev_unregister(dev); /* wire_destroy drops the reference */
		return err;
	}
	*out = dev;
	return 0;
}

int wire_pair_create(struct ustack *a, struct ustack *b,
		     const struct wire_params *p, struct net_device **da,
		     struct net_device **db)
{
	struct wire_params defaults = { 0 };
	unsigned int mtu;
	struct wire *w;
	int err;

	if (!a || !b || !da || !db)
		return -EINVAL;
	/* Delivery times are compared against each side's engine time. */
	if (a->clock != b->clock)
		return -EINVAL;
	if (!p)
		p = &defaults;
	mtu = p->mtu ? p->mtu : ETH_DATA_LEN;
	w = wire_alloc(p, mtu);
	if (!w)
		return -ENOMEM;
	w->refs = 1; /* ours, while building */
	err = wire_add_port(w, a, 0, mtu, da);
	if (!err) {
		err = wire_add_port(w, b, 1, mtu, db);
		if (err) {
			netdev_unregister(*da);
			*da = NULL;
		}
	}
	wire_unref(w);
	return err;
}

int wire_set_delay(struct net_device *dev, us_time_t delay_us)
{
	struct wire_priv *wp;

	if (!dev || dev->ops != &wire_ops)
		return -EINVAL;
	wp = netdev_priv(dev);
	pthread_mutex_lock(&wp->w->lock);
	wp->w->dir[wp->side].fault.p.delay_us = delay_us;
	pthread_mutex_unlock(&wp->w->lock);
	return 0;
}

const struct wire_stats *wire_tx_stats(const struct net_device *dev)
{
	const struct wire_priv *wp;

	if (!dev || dev->ops != &wire_ops)
		return NULL;
	wp = netdev_priv(dev);
	return &wp->w->dir[wp->side].stats;
}
