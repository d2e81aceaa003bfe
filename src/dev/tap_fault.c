/*
 * tap_fault.c - seeded faults on a TAP device's paths (see tap_fault.h).
 *
 * Call chain:  tap_xmit -> tap_fault_xmit -> fault_decide -> xmit_now
 *              tap_rx_one -> tap_fault_rx -> fault_decide -> netif_receive_skb
 *              us_timers_run -> tap_fault_timer -> (held frames)
 */
#include "dev/tap_fault.h"

#include <string.h>

#include "dev/netdev.h"
#include "stack/stack.h"

/* A held frame's release time, in the cb (no layer owns it here). */
struct tap_fault_cb {
	us_time_t release_at;
};

static us_time_t release_at(const struct sk_buff *skb)
{
	struct tap_fault_cb cb;

	memcpy(&cb, skb->cb, sizeof(cb));
	return cb.release_at;
}

bool tap_fault_wanted(const struct fault_params *p)
{
	return p && (p->loss_ppm || p->dup_ppm || p->reorder_ppm);
}

static void dir_init(struct tap_fault_dir *d, const struct fault_params *p,
		     uint64_t seed)
{
	struct fault_params clean = { 0 };

	skb_queue_head_init(&d->held);
	d->on = tap_fault_wanted(p);
	if (d->on) {
		/* Only what a TAP applies: no corruption, delay or rate. */
		clean.loss_ppm = p->loss_ppm;
		clean.dup_ppm = p->dup_ppm;
		clean.reorder_ppm = p->reorder_ppm;
		clean.reorder_delay_us = p->reorder_delay_us;
	}
	fault_init(&d->f, &clean, seed);
}

static void tap_fault_timer(struct us_timer *t, us_time_t now);

void tap_fault_init(struct tap_fault *tf, struct net_device *dev,
		    int (*xmit_now)(struct net_device *dev, struct sk_buff *skb),
		    const struct fault_params *tx, const struct fault_params *rx,
		    uint64_t seed)
{
	memset(tf, 0, sizeof(*tf));
	tf->dev = dev;
	tf->xmit_now = xmit_now;
	dir_init(&tf->tx, tx, seed);
	dir_init(&tf->rx, rx, seed ^ TAP_FAULT_RX_SEED_MIX);
	us_timer_init(&tf->timer, tap_fault_timer);
}

/* Arm the timer for the earliest held frame of either direction. */
static void tap_fault_arm(struct tap_fault *tf)
{
	struct sk_buff *a = skb_peek(&tf->tx.held), *b = skb_peek(&tf->rx.held);
	us_time_t next = US_TIME_NEVER;

	if (a)
		next = release_at(a);
	if (b && release_at(b) < next)
		next = release_at(b);
	if (next == US_TIME_NEVER)
		us_timer_del(&tf->dev->st->timers, &tf->timer);
	else
		us_timer_mod(&tf->dev->st->timers, &tf->timer, next);
}

/*
 * Hold skb back until `when`. The reorder delay is one constant per
 * direction and time never goes back, so appending keeps the queue in
 * release order. False when the queue is full (the caller passes it on).
 */
static bool hold(struct tap_fault *tf, struct tap_fault_dir *d,
		 struct sk_buff *skb, us_time_t when)
{
	struct tap_fault_cb cb = { .release_at = when };

	if (d->held.qlen >= TAP_FAULT_HELD_MAX)
		return false;
	memcpy(skb->cb, &cb, sizeof(cb));
	skb_queue_tail(&d->held, skb);
	tap_fault_arm(tf);
	us_mib_inc(tf->dev->st, US_MIB_DEV_FAULT_REORDERED);
	return true;
}

static void deliver_rx(struct net_device *dev, struct sk_buff *skb)
{
	memset(skb->cb, 0, sizeof(skb->cb));
	skb->dev = dev;
	netif_receive_skb(skb);
}

int tap_fault_xmit(struct tap_fault *tf, struct sk_buff *skb)
{
	struct net_device *dev = tf->dev;
	struct fault_verdict v;
	struct sk_buff *dup;

	if (!tf->tx.on)
		return tf->xmit_now(dev, skb);
	fault_decide(&tf->tx.f, dev->st->now, skb->len, &v);
	if (v.lost) {
		/* Gone on the link: the sender learns nothing of it. */
		us_drop(dev->st, skb, US_DROP_DEV_FAULT_LOSS);
		return 0;
	}
	if (v.duplicate) {
		dup = skb_copy(skb);
		if (dup) {
			us_mib_inc(dev->st, US_MIB_DEV_FAULT_DUPLICATED);
			tf->xmit_now(dev, dup);
		}
	}
	if (v.reorder && hold(tf, &tf->tx, skb, v.deliver_at))
		return 0;
	return tf->xmit_now(dev, skb);
}

void tap_fault_rx(struct tap_fault *tf, struct sk_buff *skb)
{
	struct net_device *dev = tf->dev;
	struct fault_verdict v;
	struct sk_buff *dup;

	if (!tf->rx.on) {
		deliver_rx(dev, skb);
		return;
	}
	fault_decide(&tf->rx.f, dev->st->now, skb->len, &v);
	if (v.lost) {
		dev->stats.rx_dropped++;
		us_drop(dev->st, skb, US_DROP_DEV_FAULT_LOSS);
		return;
	}
	if (v.duplicate) {
		dup = skb_copy(skb);
		if (dup) {
			us_mib_inc(dev->st, US_MIB_DEV_FAULT_DUPLICATED);
			deliver_rx(dev, dup);
		}
	}
	if (v.reorder && hold(tf, &tf->rx, skb, v.deliver_at))
		return;
	deliver_rx(dev, skb);
}

static void release_due(struct tap_fault *tf, us_time_t now)
{
	struct sk_buff *skb;

	while ((skb = skb_peek(&tf->tx.held)) && release_at(skb) <= now) {
		skb_unlink(&tf->tx.held, skb);
		tf->xmit_now(tf->dev, skb);
	}
	while ((skb = skb_peek(&tf->rx.held)) && release_at(skb) <= now) {
		skb_unlink(&tf->rx.held, skb);
		deliver_rx(tf->dev, skb);
	}
}

static void tap_fault_timer(struct us_timer *t, us_time_t now)
{
	struct tap_fault *tf = container_of(t, struct tap_fault, timer);

	release_due(tf, now);
	tap_fault_arm(tf);
}

void tap_fault_destroy(struct tap_fault *tf)
{
	/* A device that never got registered has no instance, no timer. */
	if (tf->dev && tf->dev->st)
		us_timer_del(&tf->dev->st->timers, &tf->timer);
	skb_queue_purge(&tf->tx.held);
	skb_queue_purge(&tf->rx.held);
}
