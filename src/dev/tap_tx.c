/*
 * tap_tx.c - the TAP device's writer thread (see tap_tx.h).
 *
 * Writing a large TSO packet to a TAP is the costliest step of a bulk
 * send: tun copies the payload into buffers of its own (tun_get_user),
 * and the kernel receives the packet inside that same writev(), running
 * its TCP receive path and waking the receiving process. A sending
 * thread that does this itself spends about two thirds of its time in
 * that system call (perf, bulk ustack -> kernel sink); a kernel sender
 * over a veth pair hands its skb over without the copy. So a TAP hands
 * its large packets to a thread of the device's own, which writes them
 * while the sender's thread reads ACKs and copies the next data in: the
 * two halves of a send run on two CPUs.
 *
 * The queue is a ring with one producer, the holder of the core lock
 * (every transmit runs under it), and one consumer, the thread. Its
 * three counters only grow, freed <= done <= head:
 *
 *   [done, head)   queued, not yet written (the thread's to read)
 *   [freed, done)  written, waiting to be freed under the core lock
 *                  (skb_free touches the instance's skb cache and the
 *                  data counts TCP's queue shares: lock-held state)
 *
 * The thread only reads the frames it writes, and nobody writes to them
 * meanwhile: a GSO packet's struct, head and frag_list clones are its
 * own, and the payload they share with TCP's write queue is sent data,
 * which TCP never writes; a small frame queued behind a packet may have
 * its headers in an area it shares with TCP's queue (a segment), which
 * TCP copies before it writes there again (tcp_transmit: any area with
 * another reference). A frame is orphaned when queued (its socket's
 * claim on it ends: a UDP datagram's send-buffer space comes back at
 * once), as tun does with what it queues, since it is freed later, at
 * the next poll or queueing.
 *
 * Order: tap.c queues a packet of TAP_TX_THREAD_MIN bytes or more
 * (headers included), and any frame while the queue still has one
 * unwritten (tap_tx_idle), so frames leave in the order they were sent;
 * a small frame on an idle queue is written at once by the sender, with
 * no hand-off (requests, responses, ACKs). The threshold is a judgment,
 * not a measurement: waking the thread costs an eventfd write here and a
 * context switch there, which a short packet's copy in tun does not
 * repay, and a bulk sender's packets are larger (tens of KB).
 *
 * Wake-ups: the thread sleeps in read() on an eventfd when it finds the
 * queue empty, after saying so (`asleep`); the producer writes the
 * eventfd only then. Each side publishes before it looks (sequentially
 * consistent): either the thread sees the new head, or the producer sees
 * it asleep. A write that finds it awake after all leaves the eventfd
 * readable; the next sleep then returns at once and looks again.
 */
#include "dev/tap_tx.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/sys.h"
#include "dev/netdev.h"
#include "stack/runtime.h"
#include "stack/stack.h"

/*
 * A power of two. A queued packet is 16 KB at least and a socket's unsent
 * and unacknowledged data at most tcp_wmem[2] (4 MB): 256 packets; four
 * times that leaves room for other connections' frames and several bulk
 * senders before a full queue drops (32 bytes a slot).
 */
#define TAP_TX_SLOTS 1024

struct tap_tx_slot {
	struct tap_frame f;
	int err;            /* the write's result (the thread's) */
};

struct tap_tx {
	struct net_device *dev;
	struct tap_tx_slot slot[TAP_TX_SLOTS];
	atomic_uint head;   /* the producer's */
	atomic_uint done;   /* the thread's */
	unsigned int freed; /* the producer's */
	atomic_bool asleep;
	atomic_bool stopping;
	bool started;
	int fd;             /* the TAP, as it was when the thread started */
	int evfd;
	pthread_t thread;
};

/* Fill iov for f; returns the count, or -EMSGSIZE past TAP_TX_PIECES. */
static int tap_frame_iov(const struct tap_frame *f, struct iovec *iov)
{
	const struct sk_buff *frag;
	int cnt = 0;

	if (f->hdr_len) {
		iov[cnt].iov_base = (void *)f->hdr;
		iov[cnt++].iov_len = f->hdr_len;
	}
	iov[cnt].iov_base = f->skb->data;
	iov[cnt++].iov_len = skb_headlen(f->skb);
	/* A GSO packet's payload goes from the segments where TCP keeps it:
	 * the kernel's copy into its own buffer is the only one. */
	skb_walk_frags(f->skb, frag) {
		if (cnt == TAP_TX_PIECES)
			return -EMSGSIZE;
		iov[cnt].iov_base = frag->data;
		iov[cnt++].iov_len = skb_headlen(frag);
	}
	return cnt;
}

int tap_frame_write(int fd, const struct tap_frame *f)
{
	struct iovec iov[TAP_TX_PIECES];
	int cnt = tap_frame_iov(f, iov);
	size_t total = 0;
	ssize_t n;

	if (cnt < 0)
		return cnt;
	for (int i = 0; i < cnt; i++)
		total += iov[i].iov_len;
	do
		n = writev(fd, iov, cnt);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == total ? 0 : -EIO;
}

int tap_frame_dropped(struct net_device *dev, struct sk_buff *skb, int err)
{
	if (err == -EAGAIN || err == -EWOULDBLOCK || err == -ENOBUFS) {
		dev->stats.tx_dropped++;
		err = -ENOBUFS;
	}
	us_drop(dev->st, skb, US_DROP_DEV_TX_ERROR);
	return err;
}

struct tap_tx *tap_tx_new(struct net_device *dev)
{
	struct tap_tx *q = calloc(1, sizeof(*q));

	if (!q)
		return NULL;
	q->dev = dev;
	q->fd = -1;
	q->evfd = -1;
	return q;
}

bool tap_tx_idle(const struct tap_tx *q)
{
	return atomic_load_explicit(&q->done, memory_order_acquire) ==
	       atomic_load_explicit(&q->head, memory_order_relaxed);
}

/* The thread: write each queued frame in order, sleep when none is. */
static void *tap_tx_main(void *arg)
{
	struct tap_tx *q = arg;
	unsigned int next = atomic_load(&q->done);
	uint64_t v;

	for (;;) {
		if (atomic_load_explicit(&q->head, memory_order_acquire) !=
		    next) {
			struct tap_tx_slot *s =
				&q->slot[next % TAP_TX_SLOTS];

			s->err = tap_frame_write(q->fd, &s->f);
			atomic_store_explicit(&q->done, ++next,
					      memory_order_release);
			continue;
		}
		if (atomic_load(&q->stopping))
			break;
		atomic_store(&q->asleep, true);
		if (atomic_load(&q->head) == next && !atomic_load(&q->stopping))
			(void)!us_sys_read(q->evfd, &v, sizeof(v));
		atomic_store(&q->asleep, false);
	}
	return NULL;
}

static int tap_tx_start(struct tap_tx *q)
{
	int err;

	q->evfd = eventfd(0, EFD_CLOEXEC);
	if (q->evfd < 0)
		return -errno;
	q->fd = q->dev->fd;
	err = us_thread_spawn(&q->thread, tap_tx_main, q, "ustack-tx");
	if (err) {
		us_sys_close(q->evfd);
		q->evfd = -1;
		return err;
	}
	q->started = true;
	return 0;
}

/* Wake the thread if it said it sleeps. Only the first frame queued since
 * then writes the eventfd: clearing `asleep` here means the frames queued
 * before the thread runs again make no system call of their own. */
static void tap_tx_kick(struct tap_tx *q)
{
	uint64_t one = 1;

	if (atomic_load(&q->asleep) &&
	    atomic_exchange(&q->asleep, false))
		(void)!us_sys_write(q->evfd, &one, sizeof(one));
}

int tap_tx_queue(struct tap_tx *q, const struct tap_frame *f)
{
	unsigned int head = atomic_load_explicit(&q->head,
						 memory_order_relaxed);
	struct tap_tx_slot *s;
	int err;

	if (!q->started && (err = tap_tx_start(q)) < 0)
		return err;
	tap_tx_reclaim(q);
	if (head - q->freed == TAP_TX_SLOTS)
		return -ENOBUFS;
	skb_orphan(f->skb);
	s = &q->slot[head % TAP_TX_SLOTS];
	s->f = *f;
	s->err = 0;
	atomic_store(&q->head, head + 1);
	tap_tx_kick(q);
	return 0;
}

void tap_tx_reclaim(struct tap_tx *q)
{
	unsigned int done = atomic_load_explicit(&q->done,
						 memory_order_acquire);
	struct net_device *dev = q->dev;

	for (; q->freed != done; q->freed++) {
		struct tap_tx_slot *s = &q->slot[q->freed % TAP_TX_SLOTS];

		if (s->err == 0) {
			us_mib_inc(dev->st, US_MIB_DEV_TX_THREAD);
			skb_free(s->f.skb);
			continue;
		}
		/* tx_packets counted it when it was queued (dev_xmit_one),
		 * as Linux counts what a driver took; the failure counts
		 * here, where dev_xmit_one counts an error returned to it. */
		dev->stats.tx_errors++;
		(void)tap_frame_dropped(dev, s->f.skb, s->err);
	}
}

bool tap_tx_holds(const struct tap_tx *q, const struct sk_buff *seg)
{
	unsigned int head = atomic_load_explicit(&q->head,
						 memory_order_relaxed);

	for (unsigned int i = atomic_load_explicit(&q->done,
						   memory_order_acquire);
	     i != head; i++) {
		if (skb_holds(q->slot[i % TAP_TX_SLOTS].f.skb, seg))
			return true;
	}
	return false;
}

bool tap_tx_flush(struct tap_tx *q, unsigned int max_ms)
{
	for (unsigned int i = 0; !tap_tx_idle(q); i++) {
		if (i >= max_ms * 10)
			return false;
		usleep(100);
	}
	tap_tx_reclaim(q);
	return true;
}

void tap_tx_free(struct tap_tx *q)
{
	uint64_t one = 1;

	if (!q)
		return;
	if (q->started) {
		atomic_store(&q->stopping, true);
		(void)!us_sys_write(q->evfd, &one, sizeof(one));
		pthread_join(q->thread, NULL);
		us_sys_close(q->evfd);
	}
	tap_tx_reclaim(q);
	free(q);
}
