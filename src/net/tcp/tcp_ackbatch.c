/*
 * tcp_ackbatch.c - one ACK per connection for a batch of received frames.
 *
 * Linux acknowledges every second full segment (RFC 1122 §4.2.3.2), but
 * segments it processes as one batch get one ACK at the batch's end: those
 * that waited in a socket's backlog while its owner ran are ACKed once,
 * from tcp_release_cb (net.ipv4.tcp_backlog_ack_defer, on by default), and
 * GRO merges the frames of one NAPI poll into one skb, which is ACKed
 * once. The TAP device hands us such a batch when its queue holds several
 * frames: the engine reads them one after the other under the core lock,
 * and nothing can read the data or see the window in between, so the ACKs
 * but the last would only tell the sender what the last tells it, each at
 * the price of a write() and of the kernel's processing of one more ACK.
 *
 * So while a device's batch is open (tcp_rx_batch_begin/end around its
 * poll), an ACK that in-order data makes due at once is held back, and at
 * the end of the batch each such connection sends one, carrying the
 * window of that moment. ACKs for out-of-order data, duplicates and FINs
 * go at once, as they tell of a hole or an end (Linux defers those from
 * the backlog too; we keep the fast path of loss recovery untouched). The
 * delayed-ACK timer is armed as well, so an ACK held back is sent within
 * 40 ms even if a batch were never closed.
 *
 * Called from: tcp_schedule_ack (tcp_input.c); the batches are opened and
 * closed by us_rx_batch_begin/end (stack.c) around tap_poll.
 */
#include "net/tcp/tcp.h"

#include "stack/stack.h"

void tcp_rx_batch_begin(struct ustack *st)
{
	st->tcp.rx_batch++;
}

/* Whether sk already has an ACK held back (a short list: no field in
 * every tcp_sock for it). */
static bool tcp_ack_is_deferred(const struct tcp_table *t,
				const struct sock *sk)
{
	for (int i = 0; i < t->ack_ndefer; i++)
		if (t->ack_defer[i] == sk)
			return true;
	return false;
}

bool tcp_ack_defer(struct sock *sk)
{
	struct tcp_table *t = &sk->st->tcp;

	if (!t->rx_batch)
		return false;
	if (tcp_ack_is_deferred(t, sk))
		return true;
	if (t->ack_ndefer == (int)(sizeof(t->ack_defer) / sizeof(t->ack_defer[0])))
		return false;
	sock_hold(sk);
	t->ack_defer[t->ack_ndefer++] = sk;
	tcp_send_delayed_ack(sk);
	return true;
}

/* The ACK held back, unless something sent since carried it (data, a
 * FIN's ACK) or the connection ended meanwhile. */
static void tcp_ack_deferred_send(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->ack_pending && sk->state != TCP_CLOSE &&
	    sk->state != TCP_LISTEN)
		tcp_send_ack(sk);
}

void tcp_rx_batch_end(struct ustack *st)
{
	struct tcp_table *t = &st->tcp;

	if (--t->rx_batch > 0)
		return;
	for (int i = 0; i < t->ack_ndefer; i++)
		tcp_ack_deferred_send(t->ack_defer[i]);
	for (int i = 0; i < t->ack_ndefer; i++)
		sock_put(t->ack_defer[i]);
	t->ack_ndefer = 0;
}
