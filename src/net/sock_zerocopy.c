/*
 * sock_zerocopy.c - SO_ZEROCOPY and MSG_ZEROCOPY's completion notices
 * (Linux's msg_zerocopy_*, Documentation/networking/msg_zerocopy.rst).
 *
 * A send with MSG_ZEROCOPY on a socket with SO_ZEROCOPY tells the sender,
 * through the error queue, when its buffer is no longer the stack's: a
 * notice with a range of send ids, counted per socket from 0. ustack
 * always copies the user's data, as Linux does for a packet it loops back
 * (lo), so every notice says SO_EE_CODE_ZEROCOPY_COPIED; what a program
 * sees is Linux's: the ids, when each completes, how ranges merge, and
 * ENOBUFS when too many notices are outstanding.
 *
 *  - An id is taken by a send of more than 0 bytes (a UDP datagram's
 *    length counts its header: every datagram takes one) that queues
 *    something; one that fails with nothing queued gives it back.
 *  - TCP: the id completes when every byte of its send is acknowledged,
 *    or when the connection ends while the socket is open (Linux purges
 *    its write queue: the buffers are freed). Consecutive sends whose
 *    data waits unsent at the tail of the queue share one record, up to
 *    512 KB (msg_zerocopy_realloc), and complete together.
 *  - UDP: the id completes as the datagram leaves, so the notice comes
 *    before any ICMP error the datagram provokes; a corked datagram's
 *    sends complete together when it goes.
 *  - A notice extends the error queue's last entry when that is a notice
 *    whose range ends just before it (skb_zerocopy_notify_extend).
 *  - A record costs 832 bytes of net.core.optmem_max (Linux's skb in
 *    sk_omem_alloc) from its send until it merges or is read; a send
 *    that needs a new one while 576 more would pass the limit fails
 *    with ENOBUFS and queues nothing (sock_omalloc).
 *  - A closed socket gets no notices.
 *
 * Not modelled: the locked-memory limit Linux charges pinned pages to
 * (RLIMIT_MEMLOCK without CAP_IPC_LOCK), since nothing is pinned here;
 * and the data of a later plain send that Linux puts in the same buffer
 * as a zerocopy send's, which delays that send's notice until it too is
 * acknowledged (here the notice comes with the send's own last byte).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/errqueue.h>

#include "net/af_inet.h"
#include "net/sock.h"
#include "stack/stack.h"

#define ZC_RECORD_BYTES 832      /* one record's charge */
#define ZC_NEW_BYTES 576         /* what a new record must find room for */
#define ZC_MERGE_BYTES (512u << 10)   /* a record's bytes at most */
#define ZC_MERGE_IDS (USHRT_MAX - 1)  /* and its ids (Linux's u16 len) */

int sock_zerocopy_set(struct sock *sk, int val)
{
	/* TCP and UDP alone (Linux's sk_setsockopt), then 0 or 1. */
	if (!sk_is_tcp_or_udp(sk))
		return -EOPNOTSUPP;
	if (val != 0 && val != 1)
		return -EINVAL;
	sk->zerocopy = val;
	return 0;
}

/* The records that hold optmem: sends not yet complete, and notices not
 * yet read or merged (on the error queue). */
static size_t zc_records(struct sock *sk, const struct sock_ext *e)
{
	struct sk_buff_head *q = sock_error_queue(sk, false);
	struct sk_buff *skb;
	size_t n = e ? e->zc_n : 0;

	if (q)
		skb_queue_walk(q, skb)
			n += ip_err_origin(skb) == SO_EE_ORIGIN_ZEROCOPY;
	return n + sk->zc_corked;
}

size_t sock_zc_optmem(struct sock *sk)
{
	return zc_records(sk, sock_ext(sk, false)) * ZC_RECORD_BYTES;
}

int sock_zc_start(struct sock *sk, int flags, size_t len,
		  const uint32_t *tail, struct zc_send *z)
{
	const struct sock_ext *e;
	const struct sock_zc_range *last;

	memset(z, 0, sizeof(*z));
	if (!(flags & MSG_ZEROCOPY) || !sk->zerocopy || !len)
		return 0;
	e = sock_ext(sk, false);
	last = e && e->zc_n ? &e->zc[e->zc_n - 1] : NULL;
	/* The record whose data waits unsent at the tail takes this send
	 * too while its ids run on and it stays under 512 KB. */
	z->merge = tail && last && last->end == *tail &&
		   last->hi + 1 == e->zckey &&
		   last->hi - last->lo + 1 < ZC_MERGE_IDS &&
		   last->bytes + len <= ZC_MERGE_BYTES;
	if (!z->merge &&
	    zc_records(sk, e) * ZC_RECORD_BYTES + ZC_NEW_BYTES >
	    (size_t)sk->st->sysctl.optmem_max)
		return -ENOBUFS;
	z->on = true;
	return 0;
}

uint32_t sock_zc_take_id(struct sock *sk)
{
	struct sock_ext *e = sock_ext(sk, true);

	/* (Without memory for the counter: id 0, as a fresh socket's.) */
	return e ? e->zckey++ : 0;
}

void sock_zc_sent(struct sock *sk, const struct zc_send *z, size_t bytes,
		  uint32_t end)
{
	struct sock_ext *e;
	struct sock_zc_range *r;
	uint32_t id;

	if (!z->on || !bytes)
		return;
	id = sock_zc_take_id(sk);
	e = sock_ext(sk, false);
	if (!e)
		return;
	if (z->merge && e->zc_n) {
		r = &e->zc[e->zc_n - 1];
		r->hi = id;
		r->bytes += (uint32_t)bytes;
		r->end = end;
		return;
	}
	if (e->zc_n == e->zc_cap) {
		uint16_t cap = e->zc_cap ? (uint16_t)(2 * e->zc_cap) : 4;

		r = realloc(e->zc, cap * sizeof(*r));
		if (!r) {
			/* No room to wait: complete it now. */
			ip_zerocopy_notify(sk, id, id);
			return;
		}
		e->zc = r;
		e->zc_cap = cap;
	}
	e->zc[e->zc_n++] = (struct sock_zc_range){ id, id, (uint32_t)bytes,
						   end };
	sk->zc_wait = true;
}

void sock_zc_complete(struct sock *sk, uint32_t upto, bool all)
{
	struct sock_ext *e = sk->zc_wait ? sock_ext(sk, false) : NULL;
	uint16_t i = 0;

	if (!e)
		return;
	while (i < e->zc_n &&
	       (all || (int32_t)(upto - e->zc[i].end) >= 0)) {
		/* A closed socket's are dropped (Linux's SOCK_DEAD). */
		if (sk->sk_socket)
			ip_zerocopy_notify(sk, e->zc[i].lo, e->zc[i].hi);
		i++;
	}
	if (!i)
		return;
	e->zc_n = (uint16_t)(e->zc_n - i);
	memmove(e->zc, e->zc + i, e->zc_n * sizeof(*e->zc));
	sk->zc_wait = e->zc_n != 0;
}
