/*
 * tap_tx.h - the TAP device's writer thread: large packets are written to
 * the kernel by a thread of the device's own (see tap_tx.c).
 */
#ifndef USTACK_DEV_TAP_TX_H
#define USTACK_DEV_TAP_TX_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/skbuff.h"

struct net_device;

/* The most pieces one frame is written from: a header, the head, and a
 * GSO packet's frag_list. */
#define TAP_TX_PIECES 130
/* The largest header written in front of a frame (a virtio-net header). */
#define TAP_TX_HDR_MAX 12

/*
 * One frame as it is written: skb from skb->data, after hdr_len bytes of
 * hdr when the header could not go into the skb's headroom.
 */
struct tap_frame {
	struct sk_buff *skb;
	uint8_t hdr[TAP_TX_HDR_MAX];
	uint8_t hdr_len;
};

/* Write f in one writev() (retried on EINTR): 0, -errno, -EIO when
 * short, or -EMSGSIZE past TAP_TX_PIECES pieces. */
int tap_frame_write(int fd, const struct tap_frame *f);
/*
 * A frame whose write failed with err: dropped and counted (tx_dropped
 * too when the kernel's queue was full, as a full qdisc drops). Returns
 * -ENOBUFS for a full queue, else err. Core lock held.
 */
int tap_frame_dropped(struct net_device *dev, struct sk_buff *skb, int err);

/* Packets this large or larger, headers included, are handed to the
 * thread (tap_tx.c). */
#define TAP_TX_THREAD_MIN 16384

struct tap_tx;

/* The queue for dev's frames; its thread starts with the first frame. */
struct tap_tx *tap_tx_new(struct net_device *dev);
/* Nothing queued is still unwritten: a frame may be written at once. */
bool tap_tx_idle(const struct tap_tx *q);
/*
 * Queue f, whose skb the queue then owns (orphaned: skb_orphan): 0. Else
 * the skb stays the caller's: -ENOBUFS when the queue is full (the caller
 * drops it, as a full qdisc would), -errno when the thread cannot start
 * (nothing is queued then: the caller writes it itself). Core lock held.
 */
int tap_tx_queue(struct tap_tx *q, const struct tap_frame *f);
/* Free what the thread has written, counting the writes that failed.
 * Core lock held. */
void tap_tx_reclaim(struct tap_tx *q);
/* True while a frame queued and not yet written shares seg's data
 * (skb_holds). Core lock held. */
bool tap_tx_holds(const struct tap_tx *q, const struct sk_buff *seg);
/* Wait up to max_ms for the thread to write what is queued, then free
 * it; false if it had not. Core lock held (the thread never takes it). */
bool tap_tx_flush(struct tap_tx *q, unsigned int max_ms);
/* Let the thread write what is queued, stop it, free everything. */
void tap_tx_free(struct tap_tx *q);

#endif
