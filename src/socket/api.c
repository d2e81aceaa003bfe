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
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "core/sys.h"
#include "net/sock.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

#define US_SOMAXCONN 4096

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
	pthread_mutex_lock(&sock->st->lock);
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
	us_runtime_wakeup(st);
	pthread_mutex_unlock(&st->lock);
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

/* Linux's move_addr_to_user(): copy what fits, report the full length. */
static int give_user_addr(const struct sockaddr_storage *kaddr, socklen_t klen,
			  struct sockaddr *uaddr, socklen_t *ulen)
{
	socklen_t len;

	if (!uaddr)
		return 0;
	if (!ulen)
		return -EFAULT;
	len = *ulen;
	if ((int)len < 0)
		return -EINVAL;
	if (len > klen)
		len = klen;
	if (len)
		memcpy(uaddr, kaddr, len);
	*ulen = klen;
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

	return sock_wait_event(sock, timeo, poll_cond, &w);
}

static us_time_t call_timeout(const struct socket *sock, int flags, bool rcv)
{
	if (sock->nonblock || (flags & MSG_DONTWAIT))
		return 0;
	return rcv ? sock->sk->rcvtimeo_us : sock->sk->sndtimeo_us;
}

/* ---- creating and closing ---------------------------------------------- */

int us_socket_on(struct ustack *st, int domain, int type, int protocol)
{
	int flags = type & (SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct socket *sock;
	int err = 0;

	if (domain != AF_INET)
		return (int)us_sys(SYS_socket, domain, type, protocol);
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (type & ~0xf)
		return (int)set_errno(-EINVAL);
	if (type <= 0 || type > SOCK_PACKET)
		return (int)set_errno(-EINVAL);
	if (!st)
		return (int)set_errno(-ENETDOWN);
	pthread_mutex_lock(&st->lock);
	sock = sock_create(st, domain, type, protocol, &err);
	if (sock) {
		sock->nonblock = flags & SOCK_NONBLOCK;
		if (!(flags & SOCK_CLOEXEC))
			us_sys(SYS_fcntl, sock->fd, F_SETFD, 0);
		err = fdtable_install(sock);
		if (err < 0) {
			sock->ops->release(sock);
			sockfd_put(sock);
			sock = NULL;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return sock ? sock->fd : (int)set_errno(err);
}

int us_socket(int domain, int type, int protocol)
{
	return us_socket_on(us_default_stack(), domain, type, protocol);
}

/* Tear a socket down under the core lock: blocked callers and epoll sets
 * are told (POLLNVAL), then the protocol releases its sock. */
void sock_close_locked(struct socket *sock)
{
	sock->dead = true;
	list_del(&sock->node);
	us_wake_up(&sock->wq, POLLNVAL | POLLHUP | POLLERR);
	sock->ops->release(sock);
}

int us_close(int fd)
{
	struct socket *sock = fdtable_remove(fd);
	struct ustack *st;

	if (!sock)
		return (int)us_sys(SYS_close, fd);
	st = sock->st;
	pthread_mutex_lock(&st->lock);
	us_engine_begin(st);
	sock_close_locked(sock);
	us_engine_run_pending(st);
	us_runtime_wakeup(st);
	pthread_mutex_unlock(&st->lock);
	sockfd_put(sock);
	return 0;
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
	us_time_t timeo = call_timeout(sock, 0, true);
	socklen_t len = sizeof(ss);
	int rc, err = 0;

	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	if (addr && !addrlen)
		return -EFAULT;
	if (addr && (int)*addrlen < 0)
		return -EINVAL;
	newsock = sock_create_child(sock, &err);
	if (!newsock)
		return err;
	for (;;) {
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
		if (!(flags & SOCK_CLOEXEC))
			us_sys(SYS_fcntl, newsock->fd, F_SETFD, 0);
		rc = fdtable_install(newsock);
	}
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
	if (!len)
		rc = -EFAULT;
	else if ((int)*len < 0)
		rc = -EINVAL;
	else
		rc = sock->ops->getname(sock, (struct sockaddr *)&ss, &klen, peer);
	if (rc == 0) {
		rc = *len && !addr ? -EFAULT : 0;
		if (rc == 0 && *len)
			rc = give_user_addr(&ss, klen, addr, len);
		else if (rc == 0)
			*len = klen;
	}
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

/* Linux's import_iovec() checks: count, pointers, total length. */
static long check_msg(const struct msghdr *msg, size_t *total)
{
	size_t sum = 0;

	if (!msg)
		return -EFAULT;
	if (msg->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (msg->msg_iovlen && !msg->msg_iov)
		return -EFAULT;
	for (size_t i = 0; i < msg->msg_iovlen; i++) {
		size_t n = msg->msg_iov[i].iov_len;

		if ((ssize_t)n < 0)
			return -EINVAL;
		if (n && !msg->msg_iov[i].iov_base)
			return -EFAULT;
		/* The total is capped as Linux caps it (MAX_RW_COUNT). */
		if (n > (size_t)INT_MAX - sum)
			n = (size_t)INT_MAX - sum;
		sum += n;
	}
	*total = sum;
	return 0;
}

static ssize_t sendmsg_locked(struct socket *sock, const struct msghdr *msg,
			      int flags)
{
	us_time_t timeo = call_timeout(sock, flags, false);
	size_t len;
	ssize_t rc = check_msg(msg, &len);

	if (rc < 0)
		return rc;
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		return -EINVAL;
	if (msg->msg_namelen > sizeof(struct sockaddr_storage))
		return -EINVAL;
	for (;;) {
		rc = sock->ops->sendmsg(sock, msg, len, flags);
		if (rc != -EAGAIN || timeo == 0)
			return rc;
		rc = wait_for(sock, &timeo, POLLOUT);
		if (rc < 0)
			return rc == -EBADF ? -EBADF : -EAGAIN;
	}
}

ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	ssize_t rc;

	if (!sock)
		return us_sys(SYS_sendmsg, fd, msg, flags);
	rc = sendmsg_locked(sock, msg, flags);
	sock_put_unlock(sock);
	return set_errno(rc);
}

ssize_t us_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *addr, socklen_t addrlen)
{
	struct iovec iov = { (void *)buf, len };
	struct msghdr msg = { 0 };
	int rc;

	if (!fdtable_is_ours(fd))
		return us_sys(SYS_sendto, fd, buf, len, flags, addr, addrlen);
	if (addr) {
		rc = check_user_addr(addr, addrlen);
		if (rc < 0)
			return set_errno(rc);
		msg.msg_name = (void *)addr;
		msg.msg_namelen = addrlen;
	}
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	return us_sendmsg(fd, &msg, flags);
}

ssize_t us_send(int fd, const void *buf, size_t len, int flags)
{
	return us_sendto(fd, buf, len, flags, NULL, 0);
}

static ssize_t recvmsg_locked(struct socket *sock, struct msghdr *msg,
			      int flags)
{
	us_time_t timeo = call_timeout(sock, flags, true);
	size_t len;
	ssize_t rc = check_msg(msg, &len);

	if (rc < 0)
		return rc;
	if (msg->msg_name && (int)msg->msg_namelen < 0)
		return -EINVAL;
	for (;;) {
		rc = sock->ops->recvmsg(sock, msg, len, flags);
		if (rc != -EAGAIN || timeo == 0)
			return rc;
		rc = wait_for(sock, &timeo, POLLIN);
		if (rc < 0)
			return rc == -EBADF ? -EBADF : -EAGAIN;
	}
}

ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags)
{
	struct socket *sock = sock_get_locked(fd);
	ssize_t rc;

	if (!sock)
		return us_sys(SYS_recvmsg, fd, msg, flags);
	if (msg && !msg->msg_name)
		msg->msg_namelen = 0;
	rc = recvmsg_locked(sock, msg, flags);
	sock_put_unlock(sock);
	return set_errno(rc);
}

ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *addr, socklen_t *addrlen)
{
	struct iovec iov = { buf, len };
	struct sockaddr_storage ss;
	struct msghdr msg = { 0 };
	ssize_t rc;
	int rc2;

	if (!fdtable_is_ours(fd))
		return us_sys(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
	if (addr) {
		if (!addrlen)
			return set_errno(-EFAULT);
		if ((int)*addrlen < 0)
			return set_errno(-EINVAL);
		msg.msg_name = &ss;
		msg.msg_namelen = sizeof(ss);
	}
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	rc = us_recvmsg(fd, &msg, flags);
	if (rc < 0 || !addr)
		return rc;
	if (msg.msg_namelen == 0) {
		*addrlen = 0;
		return rc;
	}
	rc2 = give_user_addr(&ss, msg.msg_namelen, addr, addrlen);
	return rc2 < 0 ? set_errno(rc2) : rc;
}

ssize_t us_recv(int fd, void *buf, size_t len, int flags)
{
	return us_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t us_read(int fd, void *buf, size_t len)
{
	if (!fdtable_is_ours(fd))
		return us_sys(SYS_read, fd, buf, len);
	return us_recvfrom(fd, buf, len, 0, NULL, NULL);
}

ssize_t us_write(int fd, const void *buf, size_t len)
{
	if (!fdtable_is_ours(fd))
		return us_sys(SYS_write, fd, buf, len);
	return us_sendto(fd, buf, len, 0, NULL, 0);
}

ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { 0 };

	if (!fdtable_is_ours(fd))
		return us_sys(SYS_readv, fd, iov, iovcnt);
	if (iovcnt < 0)
		return set_errno(-EINVAL);
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	return us_recvmsg(fd, &msg, 0);
}

ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct msghdr msg = { 0 };

	if (!fdtable_is_ours(fd))
		return us_sys(SYS_writev, fd, iov, iovcnt);
	if (iovcnt < 0)
		return set_errno(-EINVAL);
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = (size_t)iovcnt;
	return us_sendmsg(fd, &msg, 0);
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

static int fcntl_locked(struct socket *sock, int cmd, long arg)
{
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (sock->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		sock->nonblock = arg & O_NONBLOCK;
		return 0;
	case F_GETFD:
	case F_SETFD: {
		/* Close-on-exec is a property of the real descriptor. */
		long r = us_sys(SYS_fcntl, sock->fd, cmd, arg);

		return r < 0 ? -errno : (int)r;
	}
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
	sock = sock_get_locked(fd);
	if (!sock)
		return (int)us_sys(SYS_fcntl, fd, cmd, arg);
	rc = fcntl_locked(sock, cmd, arg);
	sock_put_unlock(sock);
	return (int)set_errno(rc);
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
	switch (request) {
	case FIONBIO:
		if (!arg) {
			rc = -EFAULT;
			break;
		}
		sock->nonblock = *(int *)arg != 0;
		rc = 0;
		break;
	case FIOCLEX:
	case FIONCLEX:
		rc = (int)us_sys(SYS_ioctl, sock->fd, request, arg) < 0 ? -errno : 0;
		break;
	default:
		rc = sock->ops->ioctl(sock, request, arg);
		break;
	}
	sock_put_unlock(sock);
	return (int)set_errno(rc);
}
