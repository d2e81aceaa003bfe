/*
 * wire.c - an in-memory point-to-point Ethernet link between two stack
 * instances, with seeded faults, in virtual time (see wire.h).
 *
 * Call chain:  dev_queue_xmit -> wire_xmit -> fault_decide -> (queue)
 *              us_engine_step -> wire_poll -> netif_receive_skb (peer)
 *
 * The two devices share one struct wire. Each direction holds the frames in
 * flight, sorted by delivery time (ties in sending order). A frame in
 * flight is a private copy of its bytes, not an sk_buff: the sender's skb
 * is freed at once (it may be a clone whose data must not be corrupted in
 * place, and it is charged to the sender's pool), and the receiver builds
 * an skb from its own pool when the frame arrives. So no instance ever
 * touches another's memory accounting, and either instance may be
 * destroyed first. Memory in flight is bounded by queue_max frames per
 * direction.
 *
 * A mutex guards the shared state, because the two instances each have
 * their own core lock and could be driven by different threads.
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

struct wire_frame {
	struct list_head list;
	us_time_t deliver_at;
	uint32_t len;
	uint8_t data[];
};

/* One direction: frames sent by port `side` towards the other port. */
struct wire_dir {
	struct fault_state fault;
	struct list_head frames;  /* sorted by deliver_at */
	unsigned int qlen;
	struct wire_stats stats;
};

struct wire {
	pthread_mutex_t lock;
	struct us_rng rng;         /* MACs and the per-direction seeds */
	unsigned int queue_max;
	struct wire_dir dir[2];    /* dir[i] leaves port i */
	struct net_device *port[2]; /* NULL once that device is destroyed */
	int refs;                  /* devices still holding the wire */
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

static struct wire_frame *frame_new(const void *data, uint32_t len,
				    us_time_t deliver_at)
{
	struct wire_frame *f = malloc(sizeof(*f) + len);

	if (!f)
		return NULL;
	list_init(&f->list);
	f->deliver_at = deliver_at;
	f->len = len;
	memcpy(f->data, data, len);
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
	f = frame_new(skb->data, skb->len, at);
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
 * flight; *dup_dropped says whether a duplicate had to be dropped.
 */
static enum us_drop_reason wire_send(struct wire *w, struct wire_dir *d,
				     us_time_t now, const struct sk_buff *skb,
				     bool *dup_dropped)
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
	f = frame_new(skb->data, skb->len, v.deliver_at);
	if (!f)
		return US_DROP_NOMEM;
	if (v.corrupt) {
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

static int wire_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire *w = wp->w;
	struct ustack *st = dev->st;
	enum us_drop_reason why;
	bool dup_dropped = false;
	bool peer_gone;

	/* A frame longer than the link MTU would never cross a real one. */
	if (skb->len == 0 || skb->len > dev->mtu + dev->hard_header_len) {
		us_drop(st, skb, US_DROP_DEV_TX_ERROR);
		return -EMSGSIZE;
	}
	pthread_mutex_lock(&w->lock);
	peer_gone = !w->port[!wp->side];
	why = peer_gone ? US_DROP_DEV_DOWN :
		wire_send(w, &w->dir[wp->side], st->now, skb, &dup_dropped);
	pthread_mutex_unlock(&w->lock);

	if (dup_dropped)
		us_drop(st, NULL, US_DROP_WIRE_QUEUE_FULL);
	switch (why) {
	case US_DROP_NOT_DROPPED:
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

/* Take the first frame due by `now` off d, or NULL. */
static struct wire_frame *wire_take_due(struct wire *w, struct wire_dir *d,
					us_time_t now)
{
	struct wire_frame *f = NULL;

	pthread_mutex_lock(&w->lock);
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

/* Hand one arrived frame up the receiving stack (no wire lock held, since
 * the receive path may transmit on this same wire). */
static void wire_deliver(struct net_device *dev, struct wire_frame *f)
{
	struct sk_buff *skb = us_skb_alloc(dev->st, f->len);

	if (!skb) {
		dev->stats.rx_dropped++;
		us_drop(dev->st, NULL, US_DROP_NOMEM);
		free(f);
		return;
	}
	skb_put_data(skb, f->data, f->len);
	free(f);
	skb->dev = dev;
	netif_receive_skb(skb);
}

static int wire_poll(struct net_device *dev, int budget)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire_dir *in = &wp->w->dir[!wp->side];
	struct wire_frame *f;
	int n = 0;

	while (n < budget && (f = wire_take_due(wp->w, in, dev->st->now))) {
		wire_deliver(dev, f);
		n++;
	}
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
 * One end goes away: frames still travelling towards it are discarded,
 * and the shared state goes with the last end.
 */
static void wire_destroy(struct net_device *dev)
{
	struct wire_priv *wp = netdev_priv(dev);
	struct wire *w = wp->w;

	if (dev->pcap) {
		pcap_close(dev->pcap);
		dev->pcap = NULL;
	}
	pthread_mutex_lock(&w->lock);
	w->port[wp->side] = NULL;
	frames_free(&w->dir[!wp->side].frames);
	w->dir[!wp->side].qlen = 0;
	pthread_mutex_unlock(&w->lock);
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

static struct wire *wire_alloc(const struct wire_params *p)
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
	for (int i = 0; i < 2; i++)
		list_init(&w->dir[i].frames);
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
	w = wire_alloc(p);
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

const struct wire_stats *wire_tx_stats(const struct net_device *dev)
{
	const struct wire_priv *wp;

	if (!dev || dev->ops != &wire_ops)
		return NULL;
	wp = netdev_priv(dev);
	return &wp->w->dir[wp->side].stats;
}
