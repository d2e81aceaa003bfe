/*
 * socket.c - creating sockets, the default wake-up callbacks, readiness
 * on the descriptor, and blocking waits (see socket.h).
 */
#include "socket/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>

#include "core/sys.h"
#include "net/af_inet.h"
#include "net/sock.h"
#include "stack/runtime.h"
#include "stack/stack.h"

static struct socket *sock_alloc(struct ustack *st, int type, int *err)
{
	struct socket *sock = calloc(1, sizeof(*sock));

	if (!sock) {
		*err = -ENOMEM;
		return NULL;
	}
	sock->fd = -1;
	sock->type = type;
	sock->state = SS_UNCONNECTED;
	sock->st = st;
	atomic_init(&sock->refcnt, 1);
	us_wait_queue_init(&sock->wq);
	list_add_tail(&sock->node, &st->sockets);
	return sock;
}

/* What the eventfd shows: readable while a poll would not block. */
static bool sock_ready(struct socket *sock)
{
	uint32_t mask = sock->sk ? sock->ops->poll(sock) : POLLNVAL;

	return mask & (POLLIN | POLLPRI | POLLERR | POLLHUP | POLLRDHUP);
}

int sock_alloc_fd(struct socket *sock, int flags)
{
	bool ready = sock->sk && sock_ready(sock);
	int fd;

	if (sock->fd >= 0)
		return 0;
	/*
	 * Made in one call with the user's close-on-exec flag and already
	 * signalled when the socket is ready (a new TCP socket polls
	 * POLLOUT|POLLHUP on Linux): no fcntl, no first write.
	 */
	fd = eventfd(ready ? 1 : 0, EFD_NONBLOCK |
				    (flags & SOCK_CLOEXEC ? EFD_CLOEXEC : 0));
	if (fd < 0)
		return -errno;
	sock->fd = fd;
	sock->evfd_ready = ready;
	return 0;
}

static void sock_free_unused(struct socket *sock)
{
	list_del(&sock->node);
	us_wait_queue_destroy(&sock->wq);
	if (sock->fd >= 0)
		us_sys_close(sock->fd);
	free(sock);
}

struct socket *sock_create(struct ustack *st, int family, int type,
			   int protocol, int flags, int *err)
{
	struct socket *sock;
	int rc;

	if (family != AF_INET) {
		*err = -EAFNOSUPPORT;
		return NULL;
	}
	sock = sock_alloc(st, type, err);
	if (!sock)
		return NULL;
	rc = inet_create(sock, protocol);
	if (rc < 0) {
		sock_free_unused(sock);
		*err = rc;
		return NULL;
	}
	rc = sock_alloc_fd(sock, flags);
	if (rc < 0) {
		sock_close_locked(sock);
		sockfd_put(sock);
		*err = rc;
		return NULL;
	}
	return sock;
}

struct socket *sock_create_child(struct socket *listener, int *err)
{
	struct socket *sock = sock_alloc(listener->st, listener->type, err);

	if (sock)
		sock->ops = listener->ops;
	return sock;
}

void sock_update_readiness(struct socket *sock)
{
	bool ready = sock_ready(sock);
	uint64_t v = 1;

	/* No descriptor yet (a child accept() has not handed out): no one
	 * can watch it; accept() signals it once it is made. */
	if (ready == sock->evfd_ready || sock->fd < 0)
		return;
	/* A kernel poll on the descriptor sees POLLIN exactly while ready. */
	if (ready)
		(void)!us_sys_write(sock->fd, &v, sizeof(v));
	else
		(void)!us_sys_read(sock->fd, &v, sizeof(v));
	sock->evfd_ready = ready;
}

/*
 * The eventfd follows a socket's readiness when the core lock is released,
 * not at each wake-up: a reply that arrives and is read while one thread
 * holds the lock (a blocked recv driving the engine) then costs no write
 * and read of the eventfd, and a kernel poller, which can only look when
 * the lock is free, sees the same thing.
 */
static void sock_readiness_changed(struct socket *sock)
{
	if (sock->rd_dirty || sock->dead)
		return;
	sock->rd_dirty = true;
	list_add_tail(&sock->rd_node, &sock->st->rd_dirty);
}

void sock_forget_readiness(struct socket *sock)
{
	if (!sock->rd_dirty)
		return;
	list_del(&sock->rd_node);
	sock->rd_dirty = false;
}

/*
 * A socket with a thread woken from a blocked call on it, which has not
 * run yet, is left for that thread: it takes the lock before it returns,
 * and its unlock flushes what the socket then is. A reply read for it by
 * another thread (the runtime) is then usually consumed before the
 * descriptor shows it: no write and read of the eventfd. A kernel poller
 * sees the socket as it is once that thread is done, as if it had run
 * first.
 */
void sock_flush_readiness(struct ustack *st)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &st->rd_dirty) {
		struct socket *sock = list_entry(pos, struct socket, rd_node);

		if (us_wait_woken_other(&sock->wq))
			continue;
		sock_forget_readiness(sock);
		sock_update_readiness(sock);
	}
}

static void sock_wake(struct sock *sk, uint32_t events)
{
	struct socket *sock = sk->sk_socket;

	if (!sock)
		return;
	us_wake_up(&sock->wq, events);
	sock_readiness_changed(sock);
}

/*
 * As Linux's sock_def_readable: urgent data arriving is news too; with
 * O_ASYNC, SIGIO (POLL_IN) unless a read waits in the socket. Only once
 * poll says readable: TCP wakes readers for every arrival, where Linux's
 * tcp_data_ready calls sk_data_ready only once SO_RCVLOWAT bytes are in
 * (tcp_epollin_ready), at the end of the stream, or (tcp_urg) for the
 * urgent byte.
 */
static void sock_def_readable(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	sock_wake(sk, POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND);
	if (sock && (sock->f_flags & O_ASYNC) &&
	    (sock->ops->poll(sock) & (POLLIN | POLLPRI)))
		sock_wake_async(sock, SOCK_WAKE_WAITD, POLL_IN);
}

/*
 * As Linux's sock_def_write_space and sk_stream_write_space: every band
 * of writability, so that a wait for POLLWRBAND alone is woken too. With
 * O_ASYNC, POLL_OUT if a writer ran out of room before (SOCK_WAKE_SPACE),
 * once the socket is writable as poll says it ("should agree with poll,
 * otherwise some programs break": a stream's poll says so only once the
 * room is worth a write, __sk_stream_is_writeable) and not once a
 * stream's sending side is shut down.
 */
static void sock_def_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	sock_wake(sk, POLLOUT | POLLWRNORM | POLLWRBAND);
	if (!sock || !sock->async_nospace || !(sock->f_flags & O_ASYNC) ||
	    !(sock->ops->poll(sock) & POLLOUT))
		return;
	if (sock->type == SOCK_STREAM && (sk->shutdown & SEND_SHUTDOWN))
		return;
	sock_wake_async(sock, SOCK_WAKE_SPACE, POLL_OUT);
}

/* Linux's sock_def_wakeup (sk_state_change): no signal of its own; TCP
 * sends those that go with its state changes (sk_wake_async). */
static void sock_def_wakeup(struct sock *sk)
{
	sock_wake(sk, POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
}

static void sock_def_error_report(struct sock *sk)
{
	sock_wake(sk, POLLERR);
	if (sk->sk_socket)
		sock_wake_async(sk->sk_socket, SOCK_WAKE_IO, POLL_ERR);
}

/* ---- the operations of a closed socket ----------------------------------- */

static int dead_release(struct socket *sock)
{
	return 0;
}

static int dead_addr(struct socket *sock, const struct sockaddr *addr,
		     socklen_t len)
{
	return -EBADF;
}

static int dead_connect(struct socket *sock, const struct sockaddr *addr,
			socklen_t len, int flags)
{
	return -EBADF;
}

static int dead_accept(struct socket *sock, struct socket *newsock, int flags)
{
	return -EBADF;
}

static int dead_getname(struct socket *sock, struct sockaddr *addr,
			socklen_t *len, int peer)
{
	return -EBADF;
}

static uint32_t dead_poll(struct socket *sock)
{
	return POLLNVAL;
}

static int dead_ioctl(struct socket *sock, unsigned long cmd, void *arg)
{
	return -EBADF;
}

static int dead_int(struct socket *sock, int arg)
{
	return -EBADF;
}

static int dead_setsockopt(struct socket *sock, int level, int optname,
			   const void *optval, socklen_t optlen)
{
	return -EBADF;
}

static int dead_getsockopt(struct socket *sock, int level, int optname,
			   void *optval, socklen_t *optlen)
{
	return -EBADF;
}

static ssize_t dead_sendmsg(struct socket *sock, const struct msghdr *msg,
			    size_t len, int flags)
{
	return -EBADF;
}

static ssize_t dead_recvmsg(struct socket *sock, struct msghdr *msg,
			    size_t len, int flags)
{
	return -EBADF;
}

const struct proto_ops sock_dead_ops = {
	.family = AF_UNSPEC,
	.release = dead_release,
	.bind = dead_addr,
	.connect = dead_connect,
	.accept = dead_accept,
	.getname = dead_getname,
	.poll = dead_poll,
	.ioctl = dead_ioctl,
	.listen = dead_int,
	.shutdown = dead_int,
	.setsockopt = dead_setsockopt,
	.getsockopt = dead_getsockopt,
	.sendmsg = dead_sendmsg,
	.recvmsg = dead_recvmsg,
};

static const struct sock_wakeups sock_def_wakeups = {
	.data_ready = sock_def_readable,
	.write_space = sock_def_write_space,
	.state_change = sock_def_wakeup,
	.error_report = sock_def_error_report,
	.wake_async = sock_def_wake_async,
};

void sock_graft(struct socket *sock, struct sock *sk)
{
	sock->sk = sk;
	sk->sk_socket = sock;
	sk->wake = &sock_def_wakeups;
}

static void deadline_after(struct timespec *ts, us_time_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(us / US_USEC_PER_SEC);
	ts->tv_nsec += (long)(us % US_USEC_PER_SEC) * 1000;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static us_time_t until_deadline(const struct timespec *ts)
{
	struct timespec now;
	int64_t us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	us = (int64_t)(ts->tv_sec - now.tv_sec) * 1000000 +
	     (ts->tv_nsec - now.tv_nsec) / 1000;
	return us > 0 ? (us_time_t)us : 0;
}

us_time_t sock_call_timeout(const struct socket *sock, int flags, bool rcv)
{
	/* A socket closed by another thread has no sock: no waiting. */
	if (!sock->sk || sock->nonblock || (flags & MSG_DONTWAIT))
		return 0;
	return rcv ? sock->sk->rcvtimeo_us : sock->sk->sndtimeo_us;
}

/* Whether the wait is over: cond holds and, for a wait that must see a
 * change (edge), the socket was woken since it began. */
static bool wait_done(struct socket *sock, bool edge, unsigned int since,
		      bool (*cond)(struct sock *sk, void *arg), void *arg)
{
	if (edge && sock->wq.wakeups == since)
		return false;
	return cond(sock->sk, arg);
}

static int wait_event(struct socket *sock, us_time_t *timeo_us, bool edge,
		      bool (*cond)(struct sock *sk, void *arg), void *arg)
{
	struct ustack *st = sock->st;
	struct timespec deadline;
	bool timed = *timeo_us != US_TIME_NEVER;
	unsigned int since = sock->wq.wakeups;
	int rc;

	if (timed)
		deadline_after(&deadline, *timeo_us);
	while (!sock->dead && !wait_done(sock, edge, since, cond, arg)) {
		if (timed && *timeo_us == 0)
			return -EAGAIN;
		/*
		 * What this call queued (a first flight, a SYN) must not sit
		 * waiting for a timer the runtime does not know of yet: let
		 * it see the new deadline before we sleep. Loopback frames
		 * are delivered now, as the call would have on return.
		 */
		us_engine_begin(st);
		us_engine_run_pending(st);
		if (sock->dead || wait_done(sock, edge, since, cond, arg))
			break;
		/* The descriptor says what the state is while we sleep
		 * (connect: not ready in SYN_SENT, as a fresh socket was). */
		sock_update_readiness(sock);
		us_runtime_kick(st);
		rc = us_wait_sleep(&sock->wq, st,
				   timed ? &deadline : NULL);
		if (timed)
			*timeo_us = until_deadline(&deadline);
		/*
		 * A signal ends the wait with EINTR (Linux's sock_intr_errno:
		 * a handler with SA_RESTART restarted the untimed sleep in
		 * the kernel already), unless the condition came true
		 * meanwhile: then the call completes, as on Linux, where
		 * the bytes already moved are returned.
		 */
		if (rc == -EINTR && !sock->dead &&
		    !wait_done(sock, edge, since, cond, arg))
			return -EINTR;
		if (rc < 0 && rc != -EINTR && rc != -ETIMEDOUT)
			return rc;
	}
	if (sock->dead)
		return -EBADF;
	return 0;
}

int sock_wait_event(struct socket *sock, us_time_t *timeo_us,
		    bool (*cond)(struct sock *sk, void *arg), void *arg)
{
	return wait_event(sock, timeo_us, false, cond, arg);
}

/* How long a wait for a change may last before the operation is tried
 * again anyway: what failed may come right without any wake-up of this
 * socket (memory the skb pool got back from others; Linux's
 * sk_stream_wait_memory waits a short random time for the same). */
#define SOCK_RETRY_SLICE_US 200000

int sock_wait_retry(struct socket *sock, us_time_t *timeo_us,
		    bool (*cond)(struct sock *sk, void *arg), void *arg)
{
	us_time_t slice = SOCK_RETRY_SLICE_US;
	int rc;

	if (sock->dead || !cond(sock->sk, arg))
		return wait_event(sock, timeo_us, false, cond, arg);
	if (*timeo_us < slice)
		return wait_event(sock, timeo_us, true, cond, arg);
	rc = wait_event(sock, &slice, true, cond, arg);
	/* Untimed, an interrupted call restarts as the kernel's would (a
	 * slice is a timed sleep, which a handler always ends). */
	if (*timeo_us != US_TIME_NEVER)
		*timeo_us -= SOCK_RETRY_SLICE_US - slice;
	else if (rc == -EINTR && us_wait_handlers_restart())
		return 0;
	/* The slice ran out: try again (the caller's timeout is not). */
	return rc == -EAGAIN ? 0 : rc;
}

/* Linux's sk_stream_closing(): our FIN is still unacknowledged. */
static bool sk_stream_closed(struct sock *sk, void *arg)
{
	(void)arg;
	return sk->state != TCP_FIN_WAIT1 && sk->state != TCP_CLOSING &&
	       sk->state != TCP_LAST_ACK;
}

/*
 * SO_LINGER with a time (Linux's inet_release -> tcp_close(sk,
 * sk_lingertime) -> sk_stream_wait_close): the protocol starts closing
 * while the socket still exists, and close() sleeps, the core lock
 * released, until the peer acknowledged our FIN (the state left FIN_WAIT1,
 * CLOSING and LAST_ACK) or the time ran out. Either way the connection
 * then goes on as an orphan; running out of time does not reset it.
 * Linux lingers on a nonblocking socket too: inet_release does not look
 * at O_NONBLOCK (BSD would fail with EWOULDBLOCK instead).
 */
void sock_linger(struct socket *sock)
{
	struct sock *sk = sock->sk;
	us_time_t timeo;

	if (!sk || !sk->linger_on || sk->linger_sec <= 0 ||
	    !sk->prot->close_start)
		return;
	sk->prot->close_start(sk);
	timeo = (us_time_t)sk->linger_sec * US_USEC_PER_SEC;
	(void)sock_wait_event(sock, &timeo, sk_stream_closed, NULL);
}
