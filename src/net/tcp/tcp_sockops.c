/*
 * tcp_sockops.c - the socket operations of SOCK_STREAM in AF_INET
 * (Linux's inet_stream_ops: inet_stream_connect, inet_listen, inet_accept,
 * tcp_poll, and the send/receive loops that block as BSD streams do).
 *
 * Call chain: us_connect (socket/api.c) -> inet_stream_connect ->
 * tcp_prot.connect; the waits here sleep on the socket's wait queue until
 * tcp_poll says the connection moved on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "net/af_inet.h"
#include "net/tcp/tcp.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

static bool tcp_connect_done(struct sock *sk, void *arg)
{
	(void)arg;
	return sk->state != TCP_SYN_SENT && sk->state != TCP_SYN_RECV;
}

/*
 * Linux's __inet_stream_connect. fo is a write's Fast Open request
 * (tcp_sendmsg_fastopen; NULL for connect()): the SYN sent here takes its
 * data (st->tcp.fo_req, set only while the core lock is held for it), a
 * deferred connection's SYN goes now, and the call may have no address.
 */
static int connect_locked(struct socket *sock, const struct sockaddr *addr,
			  socklen_t len, int flags, struct tcp_fastopen_req *fo)
{
	struct sock *sk = sock->sk;
	us_time_t timeo;
	int err, pending = -EINPROGRESS;

	if (addr || !fo) {
		if (len < sizeof(addr->sa_family))
			return -EINVAL;
		if (addr->sa_family == AF_UNSPEC) {
			err = sk->prot->disconnect(sk, flags);
			sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
			return err;
		}
	}
	switch (sock->state) {
	case SS_CONNECTED:
		return -EISCONN;
	case SS_CONNECTING:
		/* TCP_FASTOPEN_CONNECT's connect() returned; the SYN waits
		 * for the first write, which sends it and then waits as a
		 * connect() does (EINPROGRESS when it may not); connect()
		 * says EISCONN, after the wait of a blocking call (Linux's
		 * __inet_stream_connect and tcp_sendmsg_fastopen). */
		if (tcp_sk(sk)->defer_connect) {
			pending = fo ? -EINPROGRESS : -EISCONN;
			if (fo) {
				tcp_sk(sk)->defer_connect = false;
				sk->st->tcp.fo_req = fo;
				err = tcp_send_syn(sk);
				sk->st->tcp.fo_req = NULL;
				if (err < 0) {
					tcp_done(sk);
					sock->state = SS_UNCONNECTED;
					return err;
				}
			}
			if (flags & O_NONBLOCK)
				return pending;
			break;
		}
		/* Still in progress: EALREADY; finished: report the result
		 * (0, or the error), as Linux does on a repeated connect. */
		if (!tcp_connect_done(sk, NULL) && (flags & O_NONBLOCK))
			return -EALREADY;
		/* A blocking one waits again; timed out, it says EALREADY
		 * (Linux's __inet_stream_connect sets the error before the
		 * wait). */
		pending = -EALREADY;
		break;
	case SS_UNCONNECTED:
		if (sk->state != TCP_CLOSE)
			return -EISCONN;
		sk->st->tcp.fo_req = fo;
		err = sk->prot->connect(sk, addr, (int)len);
		sk->st->tcp.fo_req = NULL;
		if (err < 0)
			return err;
		sock->state = SS_CONNECTING;
		if (tcp_sk(sk)->defer_connect)
			return 0;
		break;
	default:
		return -EINVAL;
	}
	timeo = (flags & O_NONBLOCK) ? 0 : sk->sndtimeo_us;
	if (!tcp_connect_done(sk, NULL)) {
		if (timeo == 0)
			return -EINPROGRESS;
		/* A peer on this host answers the SYN within our own write
		 * to the device (the kernel receives in the writer's
		 * context): its SYN-ACK is often queued already. Read it
		 * now rather than sleep and be woken for it, and stop
		 * reading once it is in (frames after it are left as
		 * us_runtime_drive_until says). */
		(void)us_wait_drive_for(&sock->wq, sock->st);
		err = sock_wait_event(sock, &timeo, tcp_connect_done, NULL);
		/* Interrupted, the connection goes on (Linux's EINTR; a
		 * later connect() says EALREADY or the result). */
		if (err == -EBADF || err == -EINTR)
			return err;
		if (err < 0)
			return pending;   /* Linux: SO_SNDTIMEO expired */
	}
	if (sk->state == TCP_CLOSE) {
		err = sock_error(sk);
		/* Linux's sock_error path disconnects: tcp_disconnect
		 * forgets an address the user did not bind (getsockname
		 * says 0.0.0.0 after a refused connect) and clears the
		 * shutdown bits (poll: POLLOUT|POLLHUP, no POLLIN). */
		sock->state = sk->prot->disconnect(sk, flags) ?
			      SS_DISCONNECTING : SS_UNCONNECTED;
		return err ? -err : -ECONNABORTED;
	}
	sock->state = SS_CONNECTED;
	return 0;
}

/*
 * A blocking connect that will wait untimed, driving the engine, takes the
 * devices from the runtime thread before its SYN goes out: the SYN-ACK,
 * which a peer on this host queues inside our write of the SYN, then does
 * not wake the runtime thread for a frame this thread reads next
 * (us_runtime_claim).
 */
static int inet_stream_connect(struct socket *sock, const struct sockaddr *addr,
			       socklen_t len, int flags)
{
	struct sock *sk = sock->sk;
	bool claim;
	int err;

	claim = !(flags & O_NONBLOCK) && sock->state == SS_UNCONNECTED &&
		len >= sizeof(addr->sa_family) &&
		addr->sa_family != AF_UNSPEC &&
		sk->sndtimeo_us == US_TIME_NEVER;
	if (claim)
		us_wait_claim(sock->st);
	err = connect_locked(sock, addr, len, flags, NULL);
	/* Connected: the first exchange follows (its linger). Refused, no
	 * route, no port: the devices go back at once. */
	if (claim)
		us_wait_unclaim(sock->st, err == 0);
	return err;
}

static int inet_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;

	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		return -EINVAL;
	if (sk->state != TCP_CLOSE && sk->state != TCP_LISTEN)
		return -EINVAL;
	if (backlog < 0)
		backlog = 0;
	if (sk->state == TCP_LISTEN) {
		tcp_sk(sk)->max_backlog = backlog;
		return 0;
	}
	return tcp_listen_start(sk, backlog);
}

static int inet_accept(struct socket *sock, struct socket *newsock, int flags)
{
	struct tcp_sock *tp = tcp_sk(sock->sk);
	struct tcp_sock *child;

	if (sock->sk->state != TCP_LISTEN)
		return -EINVAL;
	if (list_empty(&tp->accept_queue))
		return -EAGAIN;
	child = list_entry(tp->accept_queue.next, struct tcp_sock, child_node);
	tcp_unlink_child(child);
	sock_graft(newsock, &child->sk);
	newsock->state = SS_CONNECTED;
	return 0;
}

/*
 * Linux's tcp_epollin_ready: SO_RCVLOWAT bytes, or fewer when no more can
 * come: the buffer is 7/8 full or the window has less than a segment left.
 */
static bool tcp_epollin_ready(const struct sock *sk, size_t readable)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	if (!readable)
		return false;
	return readable >= (size_t)(sk->rcvlowat > 0 ? sk->rcvlowat : 1) ||
	       sk->rmem_alloc > sk->rcvbuf - (sk->rcvbuf >> 3) ||
	       tcp_receive_window(tp) <= tp->rcv_mss;
}

/* Linux's tcp_poll(), state by state. */
static uint32_t tcp_poll(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	int state = sk->state;
	uint32_t mask = 0;

	if (state == TCP_LISTEN)
		return list_empty(&tp->accept_queue) ? 0 : POLLIN | POLLRDNORM;
	if (sk->shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= POLLHUP;
	if (sk->shutdown & RCV_SHUTDOWN)
		mask |= POLLIN | POLLRDNORM | POLLRDHUP;
	/* Connected, or a Fast Open child before its handshake's end */
	if (state != TCP_SYN_SENT &&
	    (state != TCP_SYN_RECV || tp->fastopen_child)) {
		size_t readable = sk->receive_queue.bytes;

		mask |= tcp_urg_poll(sk, &readable);
		if (tcp_epollin_ready(sk, readable))
			mask |= POLLIN | POLLRDNORM;
		/* Writable once the room is worth a write (Linux's
		 * __sk_stream_is_writeable: free space at least half of
		 * what is queued, a third of the buffer; with
		 * TCP_NOTSENT_LOWAT, unsent data under half the mark),
		 * not at the first free byte: a writer woken makes real
		 * progress. A blocked send waits for the same (Linux's
		 * waits for any room, but sk_stream_write_space wakes it
		 * only then). */
		if (!(sk->shutdown & SEND_SHUTDOWN)) {
			if (tcp_stream_is_writeable(sk))
				mask |= POLLOUT | POLLWRNORM;
		} else {
			mask |= POLLOUT | POLLWRNORM;
		}
	} else if (state == TCP_SYN_SENT && tp->defer_connect) {
		/* The write that sends the SYN is awaited (Linux's tcp_poll
		 * for an active Fast Open socket). */
		mask |= POLLOUT | POLLWRNORM;
	}
	if (sk->err || sock_errors_queued(sk))
		mask |= POLLERR;
	return mask;
}

/* A copy of msg's iovec advanced by `off` bytes (iov is the storage). */
static void msg_advance(const struct msghdr *msg, size_t off,
			struct msghdr *sub, struct iovec *iov)
{
	size_t k = 0;

	*sub = *msg;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		struct iovec v = msg->msg_iov[i];

		if (off >= v.iov_len) {
			off -= v.iov_len;
			continue;
		}
		v.iov_base = (char *)v.iov_base + off;
		v.iov_len -= off;
		off = 0;
		iov[k++] = v;
	}
	sub->msg_iov = iov;
	sub->msg_iovlen = k;
}

struct stream_wait {
	struct socket *sock;
	uint32_t events;
};

static bool stream_cond(struct sock *sk, void *arg)
{
	struct stream_wait *w = arg;

	(void)sk;
	return tcp_poll(w->sock) & (w->events | POLLERR | POLLHUP);
}

/*
 * What a blocked read waits for: any data (SO_RCVLOWAT and MSG_WAITALL only
 * set how much the read gathers before it returns, as in Linux's
 * tcp_recvmsg, which sleeps in sk_wait_data), an error or the end.
 */
static bool stream_data(struct sock *sk, void *arg)
{
	return !skb_queue_empty(&sk->receive_queue) || stream_cond(sk, arg);
}

/*
 * A write with MSG_FASTOPEN, or the first after TCP_FASTOPEN_CONNECT's
 * connect() (Linux's tcp_sendmsg_fastopen): the connection starts here,
 * its SYN carrying what it can of the data (tcp_fastopen.c); *syn gets
 * that count. 0 when the write goes on (connected, or waiting to be);
 * else the error, -EINPROGRESS for a connection under way.
 */
static int tcp_sendmsg_fastopen(struct socket *sock, const struct msghdr *msg,
				size_t len, bool nonblock, size_t *syn)
{
	struct sock *sk = sock->sk;
	struct tcp_fastopen_req req = { sk, msg, len, 0 };
	const struct sockaddr *addr = msg->msg_name;
	int err;

	*syn = 0;
	if (!(sk->st->sysctl.tcp_fastopen & US_TFO_CLIENT_ENABLE) ||
	    (addr && msg->msg_namelen >= sizeof(addr->sa_family) &&
	     addr->sa_family == AF_UNSPEC))
		return -EOPNOTSUPP;
	err = connect_locked(sock, addr, msg->msg_namelen,
			     nonblock ? O_NONBLOCK : 0, &req);
	/* A connection that failed took its SYN's data with it (Linux's
	 * tcp_disconnect frees the request): the error alone. */
	if (!err || err == -EINPROGRESS)
		*syn = req.copied;
	return err;
}

/*
 * A blocking stream send takes all the data (Linux's tcp_sendmsg waits for
 * buffer space), a nonblocking one what fits. Bytes already taken are
 * returned even if an error follows.
 *
 * A blocking write of more than one segment (a bulk sender) takes the
 * devices from the runtime thread, as a blocking connect does, and keeps
 * them a linger after it (us_wait_claim, us_wait_unclaim): the peer's ACKs
 * then wait in the device for this thread, which reads them all at its
 * next write (or as it waits for room), where the runtime thread would be
 * woken for each and wait for the core lock this thread holds while it
 * copies and writes. Reading them in one go also frees more of the window
 * at once, for larger GSO packets.
 */
static ssize_t stream_sendmsg(struct socket *sock, const struct msghdr *msg,
			      size_t len, int flags)
{
	struct sock *sk = sock->sk;
	us_time_t timeo = sock_call_timeout(sock, flags, false);
	struct stream_wait w = { sock, POLLOUT };
	struct iovec *iov = NULL;
	struct msghdr sub;
	size_t done = 0;
	bool claim;
	int rc;

	if ((flags & MSG_FASTOPEN) || tcp_sk(sk)->defer_connect) {
		/* Under way, with data in the SYN: that count (Linux's
		 * tcp_sendmsg_locked); connected (a blocking call waited):
		 * the rest is sent as any write's. */
		rc = tcp_sendmsg_fastopen(sock, msg, len, timeo == 0, &done);
		if (rc == -EINPROGRESS && done)
			return (ssize_t)done;
		if (rc < 0)
			return rc;
		if (done >= len)
			return (ssize_t)done;
	}
	/* Is the sender application-limited? Asked once per call, before
	 * any wait (Linux's tcp_sendmsg_locked asks before it waits for a
	 * connection or for room): a writer woken with room again is not. */
	tcp_rate_check_app_limited(sk);
	if (msg->msg_iovlen) {
		iov = malloc(msg->msg_iovlen * sizeof(*iov));
		if (!iov)
			return -ENOBUFS;
	}
	claim = timeo == US_TIME_NEVER && sk->state == TCP_ESTABLISHED &&
		len > tcp_sk(sk)->mss_cache;
	if (claim) {
		/* Taken since this thread's last write (its linger): what
		 * came meanwhile is ours to read. */
		if (us_runtime_taken(sock->st))
			(void)us_runtime_drive(sock->st);
		us_wait_claim(sock->st);
	}
	for (;;) {
		/* An error after some bytes went is for the next call: the
		 * count now (Linux's tcp_sendmsg_locked, do_error with
		 * copied), the error kept, not taken by another try. */
		if (done && sk->err) {
			rc = 0;
			break;
		}
		msg_advance(msg, done, &sub, iov);
		rc = sk->prot->sendmsg(sk, &sub, len - done, flags);
		if (rc > 0) {
			done += (size_t)rc;
			if (done >= len)
				break;
			continue;
		}
		if (rc == 0 && len == 0)
			break;
		/* Out of room (not the wait for a connection): Linux's
		 * sk_stream_wait_memory marks it for POLL_OUT, blocking or
		 * not. */
		if (rc == -EAGAIN && (sk->state == TCP_ESTABLISHED ||
				      sk->state == TCP_CLOSE_WAIT))
			sock_set_nospace(sock);
		if (rc != -EAGAIN || timeo == 0)
			break;
		rc = sock_wait_retry(sock, &timeo, stream_cond, &w);
		if (rc < 0)
			break;
	}
	free(iov);
	/* A write that stopped short is marked where it stopped (Linux's
	 * tcp_sendmsg_locked, at out:), as its whole would have been. */
	if (done && done < len && (sk->tsflags || msg->msg_controllen)) {
		struct sockcm sockc;

		sockcm_init(&sockc, sk);
		if (sock_cmsg_send(sk, msg, &sockc) == 0 && sockc.tsflags)
			tcp_tx_timestamp(sk, &sockc);
	}
	/* A linger only after a write that went well (as connect). */
	if (claim)
		us_wait_unclaim(sock->st, rc >= 0);
	return done ? (ssize_t)done : rc;
}

/*
 * MSG_ZEROCOPY (sock_zerocopy.c): a send that queued bytes takes an id,
 * which completes when its last byte is acknowledged; with no record to
 * be had, ENOBUFS before anything else (Linux's tcp_sendmsg_locked).
 */
static ssize_t inet_stream_sendmsg(struct socket *sock, const struct msghdr *msg,
				   size_t len, int flags)
{
	struct sock *sk = sock->sk;
	struct tcp_sock *tp = tcp_sk(sk);
	struct zc_send z;
	ssize_t rc;
	int err;

	if (!(flags & MSG_ZEROCOPY) || !sk->zerocopy)
		return stream_sendmsg(sock, msg, len, flags);
	err = sock_zc_start(sk, flags, len,
			    tp->send_head ? &tp->write_seq : NULL, &z);
	if (err)
		return err;
	rc = stream_sendmsg(sock, msg, len, flags);
	sock_zc_sent(sk, &z, rc > 0 ? (size_t)rc : 0, tp->write_seq);
	/* (Acknowledged already, as over lo; or the connection ended while
	 * the send waited, its data dropped with it.) */
	sock_zc_complete(sk, tp->snd_una, sk->state == TCP_CLOSE);
	return rc;
}

struct peek_wait {
	struct stream_wait w;
	size_t start;               /* where the peeks start (SO_PEEK_OFF) */
	size_t seen;                /* bytes the last peek found */
};

/* More than the last peek found, an error or the end. */
static bool stream_more(struct sock *sk, void *arg)
{
	struct peek_wait *p = arg;

	return sk->receive_queue.bytes > p->start + p->seen ||
	       stream_cond(sk, &p->w);
}

/*
 * A read's wait for data (Linux's sk_wait_data): meanwhile, with O_ASYNC,
 * data arriving sends no SIGIO (SOCKWQ_ASYNC_WAITDATA).
 */
static int stream_wait_data(struct socket *sock, us_time_t *timeo,
			    bool (*cond)(struct sock *sk, void *arg),
			    void *arg)
{
	int rc;

	if (sock->f_flags & O_ASYNC)
		sock->async_waitdata = true;
	rc = sock_wait_retry(sock, timeo, cond, arg);
	sock->async_waitdata = false;
	return rc;
}

/*
 * A read that calls the protocol more than once (it waits, or the urgent
 * mark stops it) still returns one set of control messages, the last
 * call's (TCP's receive timestamp: Linux's tcp_recvmsg puts one, of the
 * last segment read, once the whole read is done). Each call writes from
 * the start of the control buffer; what the last one that wrote left is
 * what the caller sees.
 */
struct stream_ctl {
	void *control;
	size_t controllen;
};

static void stream_ctl_start(struct stream_ctl *c, const struct msghdr *msg)
{
	c->control = msg->msg_control;
	c->controllen = msg->msg_controllen;
}

/* The next call writes its messages from the start again. */
static void stream_ctl_reset(const struct stream_ctl *c, struct msghdr *sub)
{
	sub->msg_control = c->control;
	sub->msg_controllen = c->controllen;
	sub->msg_flags &= ~MSG_CTRUNC;
}

/* After a call that did not fail: its messages, if it wrote any, are
 * the read's. */
static void stream_ctl_take(const struct stream_ctl *c, struct msghdr *msg,
			    const struct msghdr *sub)
{
	if (sub->msg_controllen == c->controllen &&
	    !(sub->msg_flags & MSG_CTRUNC))
		return;
	msg->msg_control = sub->msg_control;
	msg->msg_controllen = sub->msg_controllen;
	msg->msg_flags = (msg->msg_flags & ~MSG_CTRUNC) |
			 (sub->msg_flags & MSG_CTRUNC);
}

/*
 * MSG_PEEK: each peek copies from the same place, the start of the queue
 * or SO_PEEK_OFF's offset into it, so a peek that must wait (MSG_WAITALL,
 * SO_RCVLOWAT) peeks again, whole, once more has come, until it has
 * `target` bytes, the stream ends, or the wait times out: then what it
 * has (Linux's tcp_recvmsg, whose peek also waits for its target). The
 * offset moves on by what the peek returns.
 */
static ssize_t stream_peek(struct socket *sock, struct msghdr *msg, size_t len,
			   int flags, size_t target, us_time_t timeo)
{
	struct sock *sk = sock->sk;
	int addr_len = 0, rc, off = sk_peek_offset(sk, flags);
	struct peek_wait p = { { sock, POLLIN }, off > 0 ? (size_t)off : 0, 0 };
	struct stream_ctl ctl;
	struct msghdr sub;

	stream_ctl_start(&ctl, msg);
	for (;;) {
		sub = *msg;
		stream_ctl_reset(&ctl, &sub);
		rc = sk->prot->recvmsg(sk, &sub, len, flags, &addr_len);
		if (rc >= 0)
			stream_ctl_take(&ctl, msg, &sub);
		if (rc > 0)
			p.seen = (size_t)rc;
		/* With data: enough, the mark, or no more to come (an
		 * error, the end, a closed connection: Linux's tcp_recvmsg
		 * returns what it has then). */
		if ((rc < 0 && rc != -EAGAIN) || rc == 0 ||
		    (rc > 0 && ((size_t)rc >= target || tcp_urg_ahead(sk) ||
				sk->err || (sk->shutdown & RCV_SHUTDOWN) ||
				sk->state == TCP_CLOSE)) ||
		    timeo == 0)
			break;
		rc = stream_wait_data(sock, &timeo, stream_more, &p);
		if (rc < 0)
			break;
	}
	if (!p.seen)
		return rc;
	sk_peek_offset_fwd(sk, (int)p.seen);
	return (ssize_t)p.seen;
}

/* MSG_WAITALL and SO_RCVLOWAT set how much a blocking read waits for. */
static ssize_t inet_stream_recvmsg(struct socket *sock, struct msghdr *msg,
				   size_t len, int flags)
{
	struct sock *sk = sock->sk;
	us_time_t timeo = sock_call_timeout(sock, flags, true);
	size_t target = (flags & MSG_WAITALL) ? len
			: (size_t)(sk->rcvlowat > 0 ? sk->rcvlowat : 1);
	struct stream_wait w = { sock, POLLIN };
	struct iovec *iov = NULL;
	struct stream_ctl ctl;
	struct msghdr sub;
	size_t done = 0;
	int addr_len = 0, rc;

	if (target > len)
		target = len;
	/* The error queue is read once, as a datagram (ip_recv_error). */
	if (flags & MSG_ERRQUEUE) {
		msg->msg_flags = 0;
		rc = sk->prot->recvmsg(sk, msg, len, flags, &addr_len);
		msg->msg_namelen = rc >= 0 && msg->msg_name ?
				   (socklen_t)addr_len : 0;
		return rc;
	}
	/* recv(MSG_OOB) never waits (Linux's tcp_recv_urg). */
	if (flags & MSG_OOB) {
		msg->msg_flags = 0;
		msg->msg_namelen = 0;
		return sk->prot->recvmsg(sk, msg, len, flags, &addr_len);
	}
	msg->msg_flags = 0;
	msg->msg_namelen = 0;
	/* A peek always copies from the start: no iovec to advance. */
	if (flags & MSG_PEEK)
		return stream_peek(sock, msg, len, flags, target, timeo);
	stream_ctl_start(&ctl, msg);
	if (msg->msg_iovlen) {
		iov = malloc(msg->msg_iovlen * sizeof(*iov));
		if (!iov)
			return -ENOBUFS;
	}
	for (;;) {
		/* A read that has data stops at the urgent mark, even one
		 * that would wait for more (Linux's tcp_recvmsg). */
		if (done && tcp_urg_at_mark(sk))
			break;
		/* Some bytes read and none queued: an error is the next
		 * call's (Linux's tcp_recvmsg_locked breaks on copied &&
		 * sk_err, leaving it set). */
		if (done && sk->err && !sk->receive_queue.bytes)
			break;
		msg_advance(msg, done, &sub, iov);
		stream_ctl_reset(&ctl, &sub);
		rc = sk->prot->recvmsg(sk, &sub, len - done, flags, &addr_len);
		if (rc >= 0)   /* (a read of no bytes may carry some too) */
			stream_ctl_take(&ctl, msg, &sub);
		if (rc > 0) {
			done += (size_t)rc;
			if (done >= target)
				break;
			continue;
		}
		if (rc != -EAGAIN || timeo == 0)
			break;
		rc = stream_wait_data(sock, &timeo, stream_data, &w);
		if (rc < 0)
			break;
	}
	free(iov);
	if (!done)
		return rc;
	sk_peek_offset_bwd(sk, (int)done);   /* SO_PEEK_OFF */
	return (ssize_t)done;
}

static int inet_stream_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int err;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	/* (A connection in TIME_WAIT left its socket CLOSE, as Linux's
	 * does: inet_shutdown answers ENOTCONN.) */
	switch (sk->state) {
	case TCP_LISTEN:
		if (!((how + 1) & RCV_SHUTDOWN))
			return 0;
		/* fall through */
	case TCP_SYN_SENT:
		/* Linux aborts a listener or a connection attempt, and its
		 * tcp_disconnect leaves no shutdown bits behind (poll says
		 * POLLOUT|POLLHUP, not POLLIN|POLLRDHUP). */
		err = sk->prot->disconnect(sk, O_NONBLOCK);
		sock->state = err ? SS_DISCONNECTING : SS_UNCONNECTED;
		sk_state_change(sk);
		return err;
	default:
		return inet_shutdown(sock, how);
	}
}

const struct proto_ops inet_stream_ops = {
	.family = AF_INET,
	.release = inet_release,
	.bind = inet_bind,
	.connect = inet_stream_connect,
	.accept = inet_accept,
	.getname = inet_getname,
	.poll = tcp_poll,
	.ioctl = inet_ioctl,
	.listen = inet_listen,
	.shutdown = inet_stream_shutdown,
	.setsockopt = inet_setsockopt,
	.getsockopt = inet_getsockopt,
	.sendmsg = inet_stream_sendmsg,
	.recvmsg = inet_stream_recvmsg,
	.waits = true,
};
