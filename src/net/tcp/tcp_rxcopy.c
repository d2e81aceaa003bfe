/*
 * tcp_rxcopy.c - a stream read that copies without the core lock.
 *
 * A large read spends most of its time copying: 64 KB from one GSO
 * packet is several microseconds of memcpy. Under the core lock that
 * time is taken from the engine, which cannot read the device or send an
 * ACK meanwhile, and the two threads of a receiver (the engine reading
 * the TAP, the application copying out) run one after the other instead
 * of side by side. Linux avoids it the same way: tcp_recvmsg copies
 * under lock_sock, which owns the socket without holding its spinlock,
 * so softirq keeps taking packets while the reader copies.
 *
 * Here a read takes whole in-order skbs off the receive queue under the
 * lock (the stream bytes are the reader's from then on, as if copied:
 * copied_seq, FIONREAD and poll move at once), copies them with the lock
 * released, and retakes the lock to free them, which is when their memory
 * leaves the receive buffer and the window may open (tcp_cleanup_rbuf,
 * tcp_rcv_space_adjust), as Linux frees an skb after copying it. Each
 * call returns one contiguous run of the stream: a concurrent reader
 * takes what follows it, as if the first call had finished when it took
 * its skbs.
 *
 * Only the plain case goes this way: no MSG_PEEK or MSG_TRUNC, no urgent
 * byte pending (tcp_urgent.c cuts reads at the mark), and at least
 * TCP_RXCOPY_MIN bytes in whole skbs, so small reads (and every
 * packetdrill script's) keep the one-lock path in tcp_recvmsg.
 *
 * Called from: inet_stream_recvmsg (tcp_sockops.c), core lock held.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>

#include "core/iov.h"
#include "net/tcp/tcp.h"
#include "socket/socket.h"
#include "stack/stack.h"

/* Below this a lock round trip costs more than the copy it frees. */
#define TCP_RXCOPY_MIN (16u * 1024u)

/* Move whole skbs worth at most len bytes from the receive queue to q.
 * Returns the bytes moved (0: not the plain case; the caller reads as
 * usual). */
static size_t tcp_rxcopy_take(struct sock *sk, size_t len, int flags,
			      struct sk_buff_head *q)
{
	struct sk_buff *skb, *tmp;
	size_t taken = 0;

	if ((flags & (MSG_PEEK | MSG_TRUNC | MSG_OOB)) ||
	    tcp_sk(sk)->urg_data || sk->state == TCP_LISTEN)
		return 0;
	skb_queue_walk(&sk->receive_queue, skb) {
		if (taken + skb->len > len)
			break;
		taken += skb->len;
	}
	if (taken < TCP_RXCOPY_MIN)
		return 0;
	skb_queue_walk_safe(&sk->receive_queue, skb, tmp) {
		size_t n = skb->len;

		if (n > taken)
			break;
		taken -= n;
		skb_unlink(&sk->receive_queue, skb);
		skb_queue_tail(q, skb);
	}
	return q->bytes;
}

/* Copy q to the user, no lock held. Returns the bytes copied; *err set
 * when a bad buffer stopped it (what was not copied stays in q). */
static size_t tcp_rxcopy_copy(const struct msghdr *msg, struct sk_buff_head *q,
			      struct sk_buff_head *done, int *err)
{
	struct sk_buff *skb;
	size_t copied = 0;

	while ((skb = skb_peek(q)) != NULL) {
		if (iov_copy_to(msg, copied, skb->data, skb->len) < 0) {
			*err = -EFAULT;
			break;
		}
		copied += skb->len;
		skb_unlink(q, skb);
		skb_queue_tail(done, skb);
	}
	return copied;
}

/* Lock held again: free what was copied, put back at the head what was
 * not (in order), and let the peer know of the room made. */
static void tcp_rxcopy_finish(struct sock *sk, struct sk_buff_head *q,
			      struct sk_buff_head *done, size_t copied)
{
	struct sk_buff *skb;

	while ((skb = skb_dequeue(done)) != NULL) {
		sock_rfree(sk, skb);
		skb_free(skb);
	}
	while ((skb = skb_peek_tail(q)) != NULL) {
		skb_unlink(q, skb);
		skb_queue_head(&sk->receive_queue, skb);
	}
	if (copied) {
		tcp_rcv_space_adjust(sk);
		tcp_cleanup_rbuf(sk);
	}
}

ssize_t tcp_recvmsg_unlocked(struct socket *sock, struct msghdr *msg,
			     size_t len, int flags)
{
	struct sock *sk = sock->sk;
	struct ustack *st = sock->st;
	struct sk_buff_head q, done;
	size_t copied;
	int err = 0;

	skb_queue_head_init(&q);
	skb_queue_head_init(&done);
	if (!tcp_rxcopy_take(sk, len, flags, &q))
		return 0;
	/* The sock may be closed by another thread while we copy. */
	sock_hold(sk);
	us_core_unlock(st);
	copied = tcp_rxcopy_copy(msg, &q, &done, &err);
	pthread_mutex_lock(&st->lock);
	us_engine_begin(st);
	tcp_rxcopy_finish(sk, &q, &done, copied);
	sock_put(sk);
	return copied ? (ssize_t)copied : err;
}
