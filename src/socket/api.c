/*
 * api.c - the BSD socket calls (us_socket, us_bind, ... us_ioctl): Linux's
 * net/socket.c. Each call looks the descriptor up, takes the core lock,
 * checks the user's arguments the way Linux does, calls the socket's ops,
 * and turns -errno into -1 with errno set.
 *
 * Descriptors that are not ustack sockets pass straight to the kernel, so a
 * program may mix ustack sockets with files, pipes and kernel sockets.
 *
 * Blocking happens here, not in the protocols: an operation that cannot
 * proceed returns -EAGAIN, and a blocking caller sleeps until the socket's
 * poll mask says it may (sock_wait_event), within SO_RCVTIMEO/SO_SNDTIMEO.
 */
#include "ustack/ustack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/sys.h"
#include "dev/dev_ioctl.h"
#include "net/sock.h"
#include "socket/epoll.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

/* The type bits of socket()'s type argument (Linux's SOCK_TYPE_MASK). */
#define US_SOCK_TYPE_MASK 0xf

static long set_errno(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* Look fd up and lock its stack; NULL when fd is not ours. */
static struct socket *sock_get_locked(int fd)
{
	struct socket *sock = sockfd_lookup(fd, NULL);

	if (!sock)
		return NULL;
	us_core_lock(sock->st);
	us_engine_begin(sock->st);
	return sock;
}

static void sock_put_unlock(struct socket *sock)
{
	struct ustack *st = sock->st;

	us_engine_run_pending(st);
	if (!sock->dead)
		sock_update_readiness(sock);
	/* A call may have armed a timer the runtime must now wait for. */
	us_runtime_kick(st);
	us_core_unlock(st);
	sockfd_put(sock);
}

/* Linux's move_addr_to_kernel(): the length checks, then the copy. */
static int check_user_addr(const struct sockaddr *addr, socklen_t len)
{
	if ((int)len < 0 || len > sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len && !addr)
		return -EFAULT;
	return 0;
}

/*
 * Linux's move_addr_to_user(): the full length goes back in *ulen (unless
 * the caller's is negative: EINVAL), then as much of the address as fits
 * is copied, so a missing buffer is EFAULT only when something was to be
 * copied into it. (Linux writes *ulen before the copy since 6.x; older
 * kernels left it alone on EFAULT.)
 */
static int give_user_addr(const struct sockaddr_storage *kaddr, socklen_t klen,
			  struct sockaddr *uaddr, socklen_t *ulen)
{
	int len;

	if (!ulen)
		return -EFAULT;
	len = (int)*ulen;
	if (len > (int)klen)
		len = (int)klen;
	if (len < 0)
		return -EINVAL;
	*ulen = klen;
	if (len && !uaddr)
		return -EFAULT;
	if (len)
		memcpy(uaddr, kaddr, (size_t)len);
	return 0;
}

struct wait_arg {
	struct socket *sock;
	uint32_t events;
};

static bool poll_cond(struct sock *sk, void *arg)
{
	struct wait_arg *w = arg;

	(void)sk;
	return w->sock->ops->poll(w->sock) & (w->events | POLLERR | POLLHUP);
}

/* Sleep until the socket reports one of `events` (or an error/hangup). */
static int wait_for(struct socket *sock, us_time_t *timeo, uint32_t events)
{
	struct wait_arg w = { sock, events };

	return sock_wait_retry(sock, timeo, poll_cond, &w);
}

/* ---- creating and closing ---------------------------------------------- */

int us_socket_on(struct ustack *st, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct socket *sock;
	int err = 0, fd;

	if (domain != AF_INET)
		return (int)us_sys(SYS_socket, domain, type, protocol);
	/*
	 * As Linux's __sys_socket and __sock_create: flag bits other than
	 * these two are EINVAL, and so is a type past SOCK_PACKET; type 0
	 * is left to the family, which knows no such type (ESOCKTNOSUPPORT).
	 */
	if ((type & ~US_SOCK_TYPE_MASK) & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return (int)set_errno(-EINVAL);
	type &= US_SOCK_TYPE_MASK;
	if (type > SOCK_PACKET)
		return (int)set_errno(-EINVAL);
	if (!st)
		return (int)set_errno(-ENETDOWN);
	us_core_lock(st);
	sock = sock_create(st, domain, type, protocol, flags, &err);
	if (sock) {
		sock->nonblock = flags & SOCK_NONBLOCK;
		err = fdtable_install(sock);
		if (err < 0) {
			/* Off st->sockets too, as accept's failure path. */
			sock_close_locked(sock);
			sockfd_put(sock);
			sock = NULL;
		}
	}
	/* Read under the lock: once it goes, another thread may close it. */
	fd = sock ? sock->fd : err;
	us_core_unlock(st);
	return fd >= 0 ? fd : (int)set_errno(err);
}

int us_socket(int domain, int type, int protocol)
{
	return us_socket_on(us_default_stack(), domain, type, protocol);
}

/* Tear a socket down under the core lock: blocked callers and epoll sets
 * are told (POLLNVAL), then the protocol releases its sock. */
/*
 * The number is free once the last descriptor is closed (Linux's close_fd),
 * not when the last call holding the socket ends: by then a dup2() in
 * another thread, or the next open(), may have put another file there.
 */
static void sock_drop_number(struct socket *sock)
{
	if (sock->fd >= 0) {
		us_sys_close(sock->fd);
		sock->fd = -1;
	}
}

void sock_close_locked(struct socket *sock)
{
	sock->dead = true;
	sock_forget_readiness(sock);
	list_del(&sock->node);
	us_wake_up(&sock->wq, POLLNVAL | POLLHUP | POLLERR);
	sock->ops->release(sock);
	/* Calls that looked the descriptor up before it was closed and run
	 * after it: EBADF, as if they had come after the close. */
	sock->ops = &sock_dead_ops;
	sock_drop_number(sock);
}

/*
 * close() drops one descriptor; the socket is released (FIN, linger) when
 * its last descriptor goes, as Linux's fput of the file's last reference.
 */
int us_close(int fd)
{
	struct socket *sock = sockfd_lookup(fd, NULL);
	struct ustack *st;
	bool last;

	if (!sock)
		return eventpoll_close_fd(fd) ? 0 : (int)us_sys(SYS_close, fd);
	st = sock->st;
	us_core_lock(st);
	us_engine_begin(st);
	if (!fdtable_remove_desc(fd, sock, &last)) {
		/* Another thread closed it since the lookup. */
		us_core_unlock(st);
		sockfd_put(sock);
		return (int)set_errno(-EBADF);
	}
	sockfd_put(sock);               /* the lookup's; the table's is ours */
	if (!last) {
		/* Other descriptors keep the socket: only the number goes. */
		us_sys_close(fd);
		us_core_unlock(st);
		sockfd_put(sock);
		return 0;
	}
	/* The number goes before a linger sleeps, and an epoll set or a
	 * poll() must not report it meanwhile (a new file may hold it):
	 * they drop it now, as Linux's __fput runs eventpoll_release
	 * before the linger in the protocol's close. */
	sock_drop_number(sock);
	us_wake_up(&sock->wq, POLLNVAL);
	sock_linger(sock);
	sock_close_locked(sock);
	us_engine_run_pending(st);
	us_runtime_kick(st);
	us_core_unlock(st);
	sockfd_put(sock);
	return 0;
}

/* ---- duplicating ------------------------------------------------------- */

static bool epoll_is_ours(int fd)
{
	struct us_epoll *ep = epollfd_lookup(fd);

	if (ep)
		eventpoll_put(ep);
	return ep != NULL;
}

/*
 * A duplicate is the kernel's own dup of the socket's eventfd (so the
 * number and its close-on-exec flag follow the kernel's rules, and a
 * kernel poll on it sees the same file) entered in the table for the same
 * socket. how: F_DUPFD / F_DUPFD_CLOEXEC with arg the lowest number, or
 * SYS_dup3 with arg the number and flags. A descriptor that is none of
 * ours goes to the kernel untouched; an epoll instance of ours cannot be
 * duplicated (EMFILE, as if no descriptor were left).
 */
static int sock_dup_how(int fd, int how, long arg, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	long nfd;
	int rc;

	if (!sock) {
		if (epoll_is_ours(fd))
			return (int)set_errno(-EMFILE);
		if (how == SYS_dup3)
			return (int)us_sys(SYS_dup3, fd, arg, flags);
		return (int)us_sys(SYS_fcntl, fd, how, arg);
	}
	/* Still ours under the core lock: a close cannot free the number
	 * while we duplicate it. */
	if (!fdtable_holds(fd, sock)) {
		rc = -EBADF;
	} else {
		if (how == SYS_dup3)
			nfd = us_sys(SYS_dup3, fd, arg, flags);
		else
			nfd = us_sys(SYS_fcntl, fd, how, arg);
		rc = nfd < 0 ? -errno : fdtable_install_dup((int)nfd, sock);
		if (rc == 0)
			rc = (int)nfd;
		else if (nfd >= 0)
			us_sys_close((int)nfd);
	}
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

static int sock_dup(int fd, int cmd, long arg)
{
	return sock_dup_how(fd, cmd, arg, 0);
}

int us_dup(int fd)
{
	return sock_dup(fd, F_DUPFD, 0);
}

/* dup2/dup3 onto newfd: a ustack socket or epoll instance there is closed
 * first, as the kernel closes what the number held. */
static int dup_onto(int fd, int newfd, int flags)
{
	if ((fdtable_is_ours(newfd) || epoll_is_ours(newfd)) &&
	    (fdtable_is_ours(fd) || us_sys(SYS_fcntl, fd, F_GETFD) >= 0) &&
	    us_close(newfd) < 0)
		return -1;
	return sock_dup_how(fd, SYS_dup3, newfd, flags);
}

int us_dup2(int fd, int newfd)
{
	if (fd == newfd) {
		/* Linux's dup2: fd itself, if it is open. */
		if (!fdtable_is_ours(fd) && us_sys(SYS_fcntl, fd, F_GETFD) < 0)
			return -1;
		return fd;
	}
	return dup_onto(fd, newfd, 0);
}

int us_dup3(int fd, int newfd, int flags)
{
	if (fd == newfd || (flags & ~O_CLOEXEC))
		return (int)set_errno(-EINVAL);
	return dup_onto(fd, newfd, flags);
}

/* ---- naming and connecting ---------------------------------------------- */

int us_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_bind, fd, addr, len);
	rc = check_user_addr(addr, len);
	if (rc == 0)
		rc = sock->ops->bind(sock, addr, len);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

int us_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_connect, fd, addr, len);
	rc = check_user_addr(addr, len);
	if (rc == 0)
		rc = sock->ops->connect(sock, addr, len,
					sock->nonblock ? O_NONBLOCK : 0);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

int us_listen(int fd, int backlog)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_listen, fd, backlog);
	if ((unsigned int)backlog > US_SOMAXCONN)
		backlog = US_SOMAXCONN;
	rc = sock->ops->listen(sock, backlog);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

static int accept_locked(struct socket *sock, struct sockaddr *addr,
			 socklen_t *addrlen, int flags)
{
	struct sockaddr_storage ss;
	struct socket *newsock;
	us_time_t timeo = sock_call_timeout(sock, 0, true);
	socklen_t len = sizeof(ss);
	int rc, err = 0;

	/* The address arguments are checked only once a connection was
	 * taken, and it is lost if they are bad, as in Linux's do_accept. */
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	newsock = sock_create_child(sock, &err);
	if (!newsock)
		return err;
	for (;;) {
		/*
		 * Linux's accept takes its descriptor number first, so that
		 * EMFILE leaves the connection queued; so do we whenever a
		 * connection waits or before we sleep. A nonblocking accept
		 * that finds none makes no eventfd at all.
		 */
		if (timeo != 0 || (sock->ops->poll(sock) & POLLIN)) {
			rc = sock_alloc_fd(newsock, flags);
			if (rc < 0)
				break;
		}
		rc = sock->ops->accept(sock, newsock, flags);
		if (rc != -EAGAIN || timeo == 0)
			break;
		rc = wait_for(sock, &timeo, POLLIN);
		if (rc < 0)
			break;
	}
	if (rc == 0 && addr) {
		newsock->ops->getname(newsock, (struct sockaddr *)&ss, &len, 2);
		rc = give_user_addr(&ss, len, addr, addrlen);
	}
	if (rc == 0) {
		newsock->nonblock = flags & SOCK_NONBLOCK;
		rc = sock_alloc_fd(newsock, flags);
	}
	if (rc == 0)
		rc = fdtable_install(newsock);
	if (rc < 0) {
		sock_close_locked(newsock);
		sockfd_put(newsock);
		return rc;
	}
	sock_update_readiness(newsock);
	return newsock->fd;
}

int us_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_accept4, fd, addr, addrlen, flags);
	rc = accept_locked(sock, addr, addrlen, flags);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

int us_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return us_accept4(fd, addr, addrlen, 0);
}

static int getname(int fd, struct sockaddr *addr, socklen_t *len, int peer)
{
	struct socket *sock = sock_get_locked(fd);
	struct sockaddr_storage ss;
	socklen_t klen = sizeof(ss);
	int rc;

	if (!sock)
		return (int)us_sys(peer ? SYS_getpeername : SYS_getsockname, fd,
				   addr, len);
	/* As Linux's __sys_getsockname: the name first (ENOTCONN), then
	 * the user's length and buffer. */
	rc = sock->ops->getname(sock, (struct sockaddr *)&ss, &klen, peer);
	if (rc == 0)
		rc = give_user_addr(&ss, klen, addr, len);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

int us_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(fd, addr, len, 0);
}

int us_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return getname(fd, addr, len, 1);
}

int us_shutdown(int fd, int how)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_shutdown, fd, how);
	rc = sock->ops->shutdown(sock, how);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

/* ---- data --------------------------------------------------------------- */

/* The most one call moves (Linux's MAX_RW_COUNT: INT_MAX & PAGE_MASK). */
#define US_MAX_RW_COUNT 0x7ffff000UL

/*
 * Linux's import_iovec(): the count, the array, each length, and the total
 * capped at MAX_RW_COUNT. A NULL base is no error here: as on Linux it
 * faults (EFAULT) only when the protocol copies bytes to or from it, after
 * its own checks.
 */
static long import_iov(const struct iovec *iov, size_t n, size_t *total)
{
	size_t sum = 0;

	if (n > IOV_MAX)
		return -EINVAL;
	if (n && !iov)
		return -EFAULT;
	for (size_t i = 0; i < n; i++) {
		size_t len = iov[i].iov_len;

		if ((ssize_t)len < 0)
			return -EINVAL;
		if (len > US_MAX_RW_COUNT - sum)
			len = US_MAX_RW_COUNT - sum;
		sum += len;
	}
	*total = sum;
	return 0;
}

/*
 * Linux's __copy_msghdr(): the user's msghdr as the protocol sees it. A
 * negative name length is EINVAL. For sending, a name without length is
 * no name and a longer one than any address is cut to sockaddr_storage.
 * For receiving, any name buffer gets the sender's address in `name`
 * (____sys_recvmsg), so even a zero-length one learns its length.
 * *total is the checked length of the iovecs.
 */
static long copy_msghdr(struct msghdr *k, const struct msghdr *msg,
			struct sockaddr_storage *name, bool recv, size_t *total)
{
	if (!msg)
		return -EFAULT;
	*k = *msg;
	k->msg_namelen = msg->msg_name ? msg->msg_namelen : 0;
	if ((int)k->msg_namelen < 0)
		return -EINVAL;
	if (k->msg_namelen > sizeof(*name))
		k->msg_namelen = sizeof(*name);
	if (recv && msg->msg_name) {
		k->msg_name = name;
		k->msg_namelen = sizeof(*name);
	} else if (!recv && k->msg_namelen) {
		memcpy(name, msg->msg_name, k->msg_namelen);
		k->msg_name = name;
	} else {
		k->msg_name = NULL;
	}
	if (msg->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	return import_iov(msg->msg_iov, msg->msg_iovlen, total);
}

/* Send k (names and iovecs already checked; len bytes in all). */
static ssize_t sendmsg_locked(struct socket *sock, const struct msghdr *k,
			      size_t len, int flags)
{
	us_time_t timeo = sock_call_timeout(sock, flags, false);
	ssize_t rc;

	/* The protocol sees a call that may not block as MSG_DONTWAIT, as
	 * Linux's system calls add it for O_NONBLOCK sockets. */
	if (timeo == 0)
		flags |= MSG_DONTWAIT;
	for (;;) {
		rc = sock->ops->sendmsg(sock, k, len, flags);
		if (rc == -EAGAIN_NOWAIT)
			return -EAGAIN;
		if (rc != -EAGAIN || (flags & MSG_DONTWAIT) ||
		    sock->ops->waits)
			return rc;
		rc = wait_for(sock, &timeo, POLLOUT);
		if (rc < 0)
			return rc == -EBADF || rc == -EINTR ? rc : -EAGAIN;
	}
}

ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	struct sockaddr_storage name;
	struct msghdr k;
	size_t len = 0;
	ssize_t rc;

	if (!sock)
		return us_sys(SYS_sendmsg, fd, msg, flags);
	rc = copy_msghdr(&k, msg, &name, false, &len);
	if (rc == 0 && k.msg_controllen > INT_MAX)
		rc = -ENOBUFS;
	if (rc == 0)
		rc = sendmsg_locked(sock, &k, len, flags);
	sock_put_unlock(sock);
	return set_errno(rc);
}

/*
 * sendto() names the destination outside a msghdr: unlike sendmsg, an
 * address of length 0 is still an address (which the protocol then finds
 * too short), as in Linux's __sys_sendto.
 */
ssize_t us_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *addr, socklen_t addrlen)
{
	struct socket *sock = sock_get_locked(fd);
	struct iovec iov = { (void *)buf, len };
	struct msghdr k = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_storage name;
	ssize_t rc = 0;

	if (!sock)
		return us_sys(SYS_sendto, fd, buf, len, flags, addr, addrlen);
	if (iov.iov_len > US_MAX_RW_COUNT)
		iov.iov_len = US_MAX_RW_COUNT;
	if (addr) {
		rc = check_user_addr(addr, addrlen);
		if (rc == 0 && addrlen)
			memcpy(&name, addr, addrlen);
		k.msg_name = &name;
		k.msg_namelen = addrlen;
	}
	if (rc == 0)
		rc = sendmsg_locked(sock, &k, iov.iov_len, flags);
	sock_put_unlock(sock);
	return set_errno(rc);
}

ssize_t us_send(int fd, const void *buf, size_t len, int flags)
{
	return us_sendto(fd, buf, len, flags, NULL, 0);
}

/* Receive into k, whose name (if any) is kernel storage with room for
 * any address. The protocol sets k->msg_namelen and k->msg_flags. */
static ssize_t recvmsg_locked(struct socket *sock, struct msghdr *k,
			      size_t len, int flags)
{
	us_time_t timeo = sock_call_timeout(sock, flags, true);
	ssize_t rc;

	/* Reading the error queue never waits (Linux's ip_recv_error).
	 * MSG_OOB is the protocol's: TCP's never waits (tcp_recv_urg, in
	 * the stream's own recvmsg), UDP's udp_recvmsg ignores it. */
	if (timeo == 0 || (flags & MSG_ERRQUEUE))
		flags |= MSG_DONTWAIT;
	for (;;) {
		rc = sock->ops->recvmsg(sock, k, len, flags);
		if (rc != -EAGAIN || (flags & MSG_DONTWAIT) ||
		    sock->ops->waits)
			return rc;
		rc = wait_for(sock, &timeo, POLLIN);
		if (rc < 0)
			return rc == -EBADF || rc == -EINTR ? rc : -EAGAIN;
	}
}

/*
 * As Linux's ____sys_recvmsg, only a successful call writes back, and
 * only msg_namelen (when there is a name buffer), msg_flags and
 * msg_controllen (what the protocol used of the control buffer).
 */
static ssize_t recvmsg_user(struct socket *sock, struct msghdr *msg,
			    int flags)
{
	struct sockaddr_storage name;
	struct msghdr k;
	size_t len = 0;
	ssize_t rc = copy_msghdr(&k, msg, &name, true, &len);
	int rc2;

	if (rc < 0)
		return rc;
	k.msg_flags = flags & MSG_CMSG_CLOEXEC;
	rc = recvmsg_locked(sock, &k, len, flags);
	if (rc < 0)
		return rc;
	if (msg->msg_name) {
		rc2 = give_user_addr(&name, k.msg_name ? k.msg_namelen : 0,
				     msg->msg_name, &msg->msg_namelen);
		if (rc2 < 0)
			return rc2;
	}
	msg->msg_flags = k.msg_flags;
	msg->msg_controllen -= k.msg_controllen;
	return rc;
}

ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	ssize_t rc;

	if (!sock)
		return us_sys(SYS_recvmsg, fd, msg, flags);
	rc = recvmsg_user(sock, msg, flags);
	sock_put_unlock(sock);
	return set_errno(rc);
}

/*
 * As Linux's __sys_recvfrom, the address arguments are looked at only
 * after a datagram was taken: a bad addrlen costs the datagram.
 */
ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *addr, socklen_t *addrlen)
{
	struct socket *sock = sock_get_locked(fd);
	struct iovec iov = { buf, len };
	struct msghdr k = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct sockaddr_storage name;
	ssize_t rc;
	int rc2;

	if (!sock)
		return us_sys(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
	if (iov.iov_len > US_MAX_RW_COUNT)
		iov.iov_len = US_MAX_RW_COUNT;
	if (addr) {
		k.msg_name = &name;
		k.msg_namelen = sizeof(name);
	}
	rc = recvmsg_locked(sock, &k, iov.iov_len, flags);
	if (rc >= 0 && addr) {
		rc2 = give_user_addr(&name, k.msg_namelen, addr, addrlen);
		if (rc2 < 0)
			rc = rc2;
	}
	sock_put_unlock(sock);
	return set_errno(rc);
}

ssize_t us_recv(int fd, void *buf, size_t len, int flags)
{
	return us_recvfrom(fd, buf, len, flags, NULL, NULL);
}

/*
 * read() and write() on a socket are recv() and send() without flags,
 * except that a read of nothing returns 0 at once (Linux's
 * sock_read_iter: "Match SYS5 behaviour"), while a write of nothing still
 * sends an empty datagram.
 */
ssize_t us_read(int fd, void *buf, size_t len)
{
	if (!fdtable_is_ours(fd))
		return us_sys(SYS_read, fd, buf, len);
	if (len == 0)
		return 0;
	return us_recvfrom(fd, buf, len, 0, NULL, NULL);
}

ssize_t us_write(int fd, const void *buf, size_t len)
{
	if (!fdtable_is_ours(fd))
		return us_sys(SYS_write, fd, buf, len);
	return us_sendto(fd, buf, len, 0, NULL, 0);
}

/*
 * readv() and writev(): the vector is checked as the kernel's vfs_readv
 * and vfs_writev check it (more than IOV_MAX entries, or a negative
 * count, is EINVAL), and a vector of no bytes returns 0 without reaching
 * the socket: writev sends no datagram, readv takes none.
 */
static ssize_t rw_vec(int fd, const struct iovec *iov, int iovcnt, bool rd)
{
	struct socket *sock = sock_get_locked(fd);
	struct msghdr k = { .msg_iov = (struct iovec *)iov };
	size_t len = 0;
	ssize_t rc;

	if (!sock)
		return us_sys(rd ? SYS_readv : SYS_writev, fd, iov, iovcnt);
	/* The count is an unsigned long in the system call. */
	rc = import_iov(iov, (size_t)(long)iovcnt, &len);
	k.msg_iovlen = (size_t)iovcnt;
	if (rc == 0 && len)
		rc = rd ? recvmsg_locked(sock, &k, len, 0)
			: sendmsg_locked(sock, &k, len, 0);
	sock_put_unlock(sock);
	return set_errno(rc);
}

ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt)
{
	return rw_vec(fd, iov, iovcnt, true);
}

ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt)
{
	return rw_vec(fd, iov, iovcnt, false);
}

/* ---- options and control ------------------------------------------------ */

int us_setsockopt(int fd, int level, int optname, const void *optval,
		  socklen_t optlen)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_setsockopt, fd, level, optname, optval,
				   optlen);
	if ((int)optlen < 0)
		rc = -EINVAL;
	else
		rc = sock->ops->setsockopt(sock, level, optname, optval, optlen);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

int us_getsockopt(int fd, int level, int optname, void *optval,
		  socklen_t *optlen)
{
	struct socket *sock = sock_get_locked(fd);
	int rc;

	if (!sock)
		return (int)us_sys(SYS_getsockopt, fd, level, optname, optval,
				   optlen);
	if (!optlen)
		rc = -EFAULT;
	else
		rc = sock->ops->getsockopt(sock, level, optname, optval, optlen);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}

static int fcntl_locked(struct socket *sock, int fd, int cmd, long arg)
{
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | sock->f_flags |
		       (sock->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		/*
		 * As Linux's setfl(): O_DIRECT is refused (a socket has no
		 * direct I/O), O_APPEND and O_NOATIME are kept though they
		 * mean nothing to a socket, and O_ASYNC (sock_fasync sets
		 * it: SIGIO, socket/sigio.c), the rest is ignored.
		 */
		if (arg & O_DIRECT)
			return -EINVAL;
		sock->nonblock = arg & O_NONBLOCK;
		sock_fasync(sock, fd, arg & O_ASYNC);
		sock->f_flags = (int)(arg & (O_APPEND | O_NOATIME)) |
				(sock->f_flags & O_ASYNC);
		return 0;
	case F_GETFD:
	case F_SETFD: {
		/* Close-on-exec is a property of the real descriptor (each
		 * dup has its own). */
		long r = us_sys(SYS_fcntl, fd, cmd, arg);

		return r < 0 ? -errno : (int)r;
	}
	case F_SETOWN:
	case F_GETOWN:
	case F_SETOWN_EX:
	case F_GETOWN_EX:
		/* Who gets SIGURG and SIGIO (socket/sigurg.c). */
		return sock_fcntl_owner(sock, cmd, arg);
	case F_SETSIG:
	case F_GETSIG:
		/* Which signal O_ASYNC sends (socket/sigio.c). */
		return sock_fcntl_sig(sock, cmd, arg);
	default:
		return -EINVAL;
	}
}

int us_fcntl(int fd, int cmd, ...)
{
	struct socket *sock;
	va_list ap;
	long arg;
	int rc;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return sock_dup(fd, cmd, arg);
	sock = sock_get_locked(fd);
	if (!sock)
		return (int)us_sys(SYS_fcntl, fd, cmd, arg);
	rc = fcntl_locked(sock, fd, cmd, arg);
	sock_put_unlock(sock);
	/* F_GETOWN cannot fail: a process group comes back negative. */
	if (cmd == F_GETOWN)
		return rc;
	return (int)set_errno(rc);
}

/*
 * The requests answered above the protocol: the file's (Linux's
 * do_vfs_ioctl: FIONBIO, FIOASYNC, FIOCLEX/FIONCLEX) and the socket
 * layer's (sock_ioctl: the owner, as f_setown/f_getown). -ENOIOCTLCMD
 * for the rest.
 */
static int ioctl_file_locked(struct socket *sock, int fd,
			     unsigned long request, int *arg)
{
	switch (request) {
	case FIONBIO:
		if (!arg)
			return -EFAULT;
		sock->nonblock = *arg != 0;
		return 0;
	case FIOASYNC:
		/* ioctl_fioasync: O_ASYNC, as F_SETFL sets it. */
		if (!arg)
			return -EFAULT;
		sock_fasync(sock, fd, *arg != 0);
		return 0;
	case FIOCLEX:
	case FIONCLEX:
		return us_sys(SYS_ioctl, fd, request, arg) < 0 ? -errno : 0;
	case FIOSETOWN:
	case SIOCSPGRP:
		if (!arg)
			return -EFAULT;
		return sock_fcntl_owner(sock, F_SETOWN, *arg);
	case FIOGETOWN:
	case SIOCGPGRP:
		if (!arg)
			return -EFAULT;
		*arg = sock_fcntl_owner(sock, F_GETOWN, 0);
		return 0;
	default:
		return -ENOIOCTLCMD;
	}
}

/* The type of the socket requests (Linux's SOCK_IOC_TYPE, 0x89). */
#define US_SOCK_IOC_TYPE 0x89

/* A device request on a copy of the caller's struct ifreq, copied back
 * when it succeeded and answers something (Linux's get_user_ifreq,
 * dev_ioctl, put_user_ifreq). */
static int dev_ioctl_user(struct ustack *st, unsigned long request,
			  void *arg)
{
	struct ifreq ifr;
	bool copyout;
	int rc;

	/* Linux copies a struct ifreq in first (EFAULT), then finds no such
	 * request (ENOTTY); here the argument of a request that is none of
	 * the device's may be shorter, so it is not read. */
	if (!arg)
		return -EFAULT;
	if (!dev_ioctl_known(request))
		return -ENOTTY;
	memcpy(&ifr, arg, sizeof(ifr));
	rc = dev_ioctl(st, request, &ifr, &copyout);
	if (rc == 0 && copyout)
		memcpy(arg, &ifr, sizeof(ifr));
	return rc;
}

/*
 * The rest, as Linux's sock_ioctl and sock_do_ioctl: SIOCGIFCONF, then
 * the family's and protocol's requests, then what they call "not mine":
 * a socket request (type 0x89) goes to the device level, on any INET
 * socket, UDP or TCP; anything else is ENOTTY.
 */
static int sock_ioctl_locked(struct socket *sock, unsigned long request,
			     void *arg)
{
	int rc;

	if (request == SIOCGIFCONF && !sock->dead)
		return dev_ifconf(sock->st, arg);
	rc = sock->ops->ioctl(sock, request, arg);
	if (rc != -ENOIOCTLCMD)
		return rc;
	if (_IOC_TYPE(request) != US_SOCK_IOC_TYPE)
		return -ENOTTY;
	return dev_ioctl_user(sock->st, request, arg);
}

int us_ioctl(int fd, unsigned long request, ...)
{
	struct socket *sock;
	va_list ap;
	void *arg;
	int rc;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	sock = sock_get_locked(fd);
	if (!sock)
		return (int)us_sys(SYS_ioctl, fd, request, arg);
	/* The kernel's ioctl takes the request as an unsigned int. */
	request = (unsigned int)request;
	rc = ioctl_file_locked(sock, fd, request, arg);
	if (rc == -ENOIOCTLCMD)
		rc = sock_ioctl_locked(sock, request, arg);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}
