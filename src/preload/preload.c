/*
 * preload.c - libustack-preload.so's half that programs call: the libc
 * socket calls, interposed (LD_PRELOAD) so that unmodified programs run on
 * ustack (see preload.h, and the README for what is and is not covered).
 *
 * Every call on a descriptor that is not ustack's goes to the next
 * definition, libc's, untouched: files, pipes, AF_UNIX and kernel sockets
 * keep working, and so do epoll sets without ustack sockets. A socket()
 * for AF_INET makes a ustack socket on the process's instance (created
 * from the environment on first use, instance.c); other families are the
 * kernel's. An epoll instance is always ustack's (us_epoll_create1: a
 * real kernel epoll that can also hold ustack sockets), since a program
 * usually makes its epoll set before its sockets.
 *
 * The library's own calls to these names (a TAP device's read(), the
 * runtime's epoll_wait()) are linked to __wrap_* below (ld --wrap), which
 * go straight to libc: ustack never calls itself through the shim.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/sys.h"
#include "preload/preload.h"
#include "socket/epoll.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "ustack/ustack.h"

/* libc's definition of fn, looked up on first use. */
#define REAL(fn)                                                          \
	({                                                                \
		static __typeof__(fn) *real_;                             \
		if (!real_)                                               \
			real_ = (__typeof__(fn) *)shim_dlsym(#fn);        \
		real_;                                                    \
	})

/* Buffer of the sendfile() emulation. */
#define SENDFILE_CHUNK 65536

static long fail(int err)
{
	errno = err;
	return -1;
}

static bool ours(int fd)
{
	return fd >= 0 && fdtable_is_ours(fd);
}

static bool epoll_ours(int fd)
{
	return fd >= 0 && fdtable_is_epoll(fd);
}

/* A ustack descriptor in a fork() child: the clear error (instance.c). */
static long child_fail(int fd)
{
	return fail(-shim_child_error(fd));
}

/*
 * A call into ustack: the handlers of signals that came meanwhile run once
 * it has unwound (signals.c), and SHIM_CALL makes it again when the kernel
 * would have restarted it; SHIM_CALL_ONCE is for calls the kernel never
 * restarts (poll, select, epoll_wait, close).
 */
#define SHIM_CALL_(expr, restartable)                                     \
	({                                                                \
		__typeof__(expr) r_;                                      \
		shim_sig_enter();                                         \
		do                                                        \
			r_ = (expr);                                      \
		while (shim_sig_leave(r_ < 0, restartable));              \
		r_;                                                       \
	})
#define SHIM_CALL(expr) SHIM_CALL_(expr, true)
#define SHIM_CALL_ONCE(expr) SHIM_CALL_(expr, false)

/*
 * The call on a ustack descriptor, else libc's. `us` and `real` are
 * expressions: only the one chosen is evaluated.
 */
#define DISPATCH(fd, us, real)                                            \
	do {                                                              \
		if (!ours(fd))                                            \
			return real;                                      \
		if (shim_in_child())                                      \
			return child_fail(fd);                            \
		return SHIM_CALL(us);                                     \
	} while (0)

/* ---- sockets ------------------------------------------------------------ */

static int socket_us(int domain, int type, int protocol)
{
	struct ustack *st;
	int err = 0;

	st = shim_stack(&err);
	if (!st)
		return (int)fail(-err);
	return us_socket_on(st, domain, type, protocol);
}

int socket(int domain, int type, int protocol)
{
	if (domain != AF_INET)
		return REAL(socket)(domain, type, protocol);
	return SHIM_CALL(socket_us(domain, type, protocol));
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	DISPATCH(fd, us_bind(fd, addr, len), REAL(bind)(fd, addr, len));
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	DISPATCH(fd, us_connect(fd, addr, len), REAL(connect)(fd, addr, len));
}

int listen(int fd, int backlog)
{
	DISPATCH(fd, us_listen(fd, backlog), REAL(listen)(fd, backlog));
}

int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	DISPATCH(fd, us_accept4(fd, addr, len, 0), REAL(accept)(fd, addr, len));
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	DISPATCH(fd, us_accept4(fd, addr, len, flags),
		 REAL(accept4)(fd, addr, len, flags));
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	DISPATCH(fd, us_getsockname(fd, addr, len),
		 REAL(getsockname)(fd, addr, len));
}

int getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	DISPATCH(fd, us_getpeername(fd, addr, len),
		 REAL(getpeername)(fd, addr, len));
}

int shutdown(int fd, int how)
{
	DISPATCH(fd, us_shutdown(fd, how), REAL(shutdown)(fd, how));
}

int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	DISPATCH(fd, us_getsockopt(fd, level, name, val, len),
		 REAL(getsockopt)(fd, level, name, val, len));
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	DISPATCH(fd, us_setsockopt(fd, level, name, val, len),
		 REAL(setsockopt)(fd, level, name, val, len));
}

/* ---- data --------------------------------------------------------------- */

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	DISPATCH(fd, us_send(fd, buf, len, flags),
		 REAL(send)(fd, buf, len, flags));
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	DISPATCH(fd, us_sendto(fd, buf, len, flags, addr, alen),
		 REAL(sendto)(fd, buf, len, flags, addr, alen));
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	DISPATCH(fd, us_sendmsg(fd, msg, flags), REAL(sendmsg)(fd, msg, flags));
}

ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	DISPATCH(fd, us_recv(fd, buf, len, flags),
		 REAL(recv)(fd, buf, len, flags));
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
		 struct sockaddr *addr, socklen_t *alen)
{
	DISPATCH(fd, us_recvfrom(fd, buf, len, flags, addr, alen),
		 REAL(recvfrom)(fd, buf, len, flags, addr, alen));
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	DISPATCH(fd, us_recvmsg(fd, msg, flags), REAL(recvmsg)(fd, msg, flags));
}

/*
 * sendmmsg/recvmmsg: one sendmsg/recvmsg per message. As Linux does, an
 * error after the first message returns the count done so far; recvmmsg's
 * MSG_WAITFORONE makes every message after the first nonblocking. (The
 * timeout argument of recvmmsg, which Linux checks only between
 * messages, is ignored.)
 */
static int mmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
		bool rcv)
{
	bool waitforone = rcv && (flags & MSG_WAITFORONE);
	unsigned int i;

	flags &= ~MSG_WAITFORONE;
	for (i = 0; i < n; i++) {
		ssize_t r = rcv ? us_recvmsg(fd, &v[i].msg_hdr, flags)
				: us_sendmsg(fd, &v[i].msg_hdr, flags);

		if (r < 0)
			return i ? (int)i : -1;
		v[i].msg_len = (unsigned int)r;
		if (waitforone)
			flags |= MSG_DONTWAIT;
	}
	return (int)i;
}

int sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	DISPATCH(fd, mmsg(fd, v, n, flags, false),
		 REAL(sendmmsg)(fd, v, n, flags));
}

int recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags,
	     struct timespec *tmo)
{
	DISPATCH(fd, mmsg(fd, v, n, flags, true),
		 REAL(recvmmsg)(fd, v, n, flags, tmo));
}

ssize_t read(int fd, void *buf, size_t len)
{
	DISPATCH(fd, us_read(fd, buf, len), REAL(read)(fd, buf, len));
}

ssize_t write(int fd, const void *buf, size_t len)
{
	DISPATCH(fd, us_write(fd, buf, len), REAL(write)(fd, buf, len));
}

ssize_t readv(int fd, const struct iovec *iov, int n)
{
	DISPATCH(fd, us_readv(fd, iov, n), REAL(readv)(fd, iov, n));
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	DISPATCH(fd, us_writev(fd, iov, n), REAL(writev)(fd, iov, n));
}

/* _FORTIFY_SOURCE's checked forms: the check, then the call. */
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (len > buflen)
		abort();
	return read(fd, buf, len);
}

ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	if (len > buflen)
		abort();
	return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen)
{
	if (len > buflen)
		abort();
	return recvfrom(fd, buf, len, flags, addr, alen);
}

/*
 * sendfile() from a file to a ustack socket: read the file in chunks and
 * send each, as the kernel's splice-based sendfile moves pages. A short
 * send ends the call; the file offset (*off, or the file's own) says
 * exactly what was sent, so the next call resumes there.
 */
static ssize_t sendfile_us(int out, int in, off_t *off, size_t count)
{
	char *buf = malloc(SENDFILE_CHUNK);
	off_t pos = off ? *off : 0;
	ssize_t done = 0, got, sent = 0;

	if (!buf)
		return fail(ENOMEM);
	while ((size_t)done < count) {
		size_t want = count - (size_t)done;

		if (want > SENDFILE_CHUNK)
			want = SENDFILE_CHUNK;
		got = off ? pread(in, buf, want, pos) : REAL(read)(in, buf, want);
		if (got <= 0) {
			sent = got;
			break;
		}
		sent = us_send(out, buf, (size_t)got, 0);
		if (sent > 0) {
			done += sent;
			pos += sent;
		}
		/* The file's own offset went past what was not sent. */
		if (!off && sent < got)
			lseek(in, -(off_t)(got - (sent > 0 ? sent : 0)),
			      SEEK_CUR);
		if (sent < got)
			break;
	}
	free(buf);
	if (off)
		*off = pos;
	if (done > 0)
		return done;
	return sent < 0 ? -1 : 0;
}

ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
	if (shim_in_child() && (ours(out) || ours(in)))
		return child_fail(ours(out) ? out : in);
	if (ours(in))
		return fail(EINVAL);    /* Linux: a socket is no source */
	if (ours(out))
		return SHIM_CALL(sendfile_us(out, in, off, count));
	return REAL(sendfile)(out, in, off, count);
}

ssize_t sendfile64(int out, int in, off_t *off, size_t count)
{
	return sendfile(out, in, off, count);
}

/* splice() with a ustack socket at either end is not supported. */
ssize_t splice(int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
	       unsigned int flags)
{
	if (ours(in) || ours(out))
		return fail(EINVAL);
	return REAL(splice)(in, off_in, out, off_out, len, flags);
}

/* ---- descriptors -------------------------------------------------------- */

int close(int fd)
{
	if (!ours(fd) && !epoll_ours(fd))
		return REAL(close)(fd);
	if (!shim_in_child())
		return SHIM_CALL_ONCE(us_close(fd));
	/* A child: the parent's socket stays as it is; forget our copy
	 * (unless the memory is the parent's, after vfork). */
	if (shim_child_owns_copy() && !fdtable_remove(fd))
		fdtable_remove_epoll(fd);
	return REAL(close)(fd);
}

/*
 * close_range() and closefrom() (Python's os.closerange, daemons closing
 * what they inherited): the ustack sockets and epoll instances in the
 * range are closed as close() closes them (a FIN, the socket released),
 * then libc closes the rest. With CLOSE_RANGE_CLOEXEC nothing is closed
 * now: libc marks the kernel descriptors, ours among them.
 */
static void close_ours_in_range(unsigned int first, unsigned int last)
{
	unsigned int end = (unsigned int)fdtable_size();

	if (last >= end)
		last = end ? end - 1 : 0;
	for (unsigned int fd = first; end && fd <= last; fd++)
		if (ours((int)fd) || epoll_ours((int)fd))
			(void)close((int)fd);
}

int close_range(unsigned int first, unsigned int last, int flags)
{
	if (first <= last && !(flags & CLOSE_RANGE_CLOEXEC))
		close_ours_in_range(first, last);
	return REAL(close_range)(first, last, flags);
}

void closefrom(int lowfd)
{
	if (lowfd >= 0)
		close_ours_in_range((unsigned int)lowfd, ~0u);
	REAL(closefrom)(lowfd);
}

/*
 * Duplicating a ustack socket gives a new kernel descriptor for the same
 * socket (us_dup: released at the last close). An epoll instance of ours
 * cannot be duplicated (EMFILE, as if no descriptor were left: programs
 * handle that). Duplicating another descriptor onto a ustack number
 * closes what the number held first, as dup2() does.
 */
static int dup_onto(int newfd)
{
	if (ours(newfd) || epoll_ours(newfd))
		return close(newfd);
	return 0;
}

int dup(int fd)
{
	if (epoll_ours(fd))
		return (int)fail(EMFILE);
	if (!ours(fd))
		return REAL(dup)(fd);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL(us_dup(fd));
}

int dup2(int fd, int newfd)
{
	if (epoll_ours(fd))
		return fd == newfd ? fd : (int)fail(EMFILE);
	if (ours(fd) && shim_in_child())
		return fd == newfd ? fd : (int)child_fail(fd);
	if (ours(fd))
		return SHIM_CALL(us_dup2(fd, newfd));
	if (fd != newfd && fcntl(fd, F_GETFD) >= 0 && dup_onto(newfd) < 0)
		return -1;
	return REAL(dup2)(fd, newfd);
}

int dup3(int fd, int newfd, int flags)
{
	if (epoll_ours(fd))
		return (int)fail(fd == newfd ? EINVAL : EMFILE);
	if (ours(fd) && shim_in_child())
		return (int)(fd == newfd ? fail(EINVAL) : child_fail(fd));
	if (ours(fd))
		return SHIM_CALL(us_dup3(fd, newfd, flags));
	if (fd != newfd && fcntl(fd, F_GETFD) >= 0 && dup_onto(newfd) < 0)
		return -1;
	return REAL(dup3)(fd, newfd, flags);
}

static int do_fcntl(int (*real)(int, int, ...), int fd, int cmd, long arg)
{
	if ((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) && epoll_ours(fd))
		return (int)fail(EMFILE);
	if (!ours(fd))
		return real(fd, cmd, arg);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL(us_fcntl(fd, cmd, arg));
}

/* ---- fstat ------------------------------------------------------------- */

/*
 * A ustack socket is an eventfd to the kernel; fstat() says it is a
 * socket, as Linux's does (sockfs: S_IFSOCK | 0777, no size, st_blksize a
 * page), so programs that test S_ISSOCK (libuv's handle type, socket
 * activation checks, socat) see one. The eventfd's device, inode, owner
 * and times stand in for the socket inode's.
 */
static void stat_as_socket(struct stat *st)
{
	st->st_mode = S_IFSOCK | 0777;
	st->st_nlink = 1;
	st->st_size = 0;
	st->st_blocks = 0;
	st->st_blksize = 4096;
	st->st_rdev = 0;
}

/*
 * The kernel's newfstatat, whose struct stat is glibc's (and stat64's) on
 * 64-bit Linux, rather than libc's fstat: glibc before 2.33 exports no
 * fstat (a program calls __fxstat, below), so a lookup of it would fail
 * there, and its __fxstat is only a compat symbol after.
 */
_Static_assert(sizeof(struct stat) == sizeof(struct stat64),
	       "struct stat is the kernel's on 64-bit Linux");

static int sys_fstatat(int dirfd, const char *path, void *st, int flags)
{
	return (int)us_sys(SYS_newfstatat, dirfd, path, st, flags);
}

/* fstat of a descriptor: a negative one is EBADF, as in libc (the kernel
 * would take AT_FDCWD, -100, for the working directory). */
static int sys_fstat(int fd, void *st)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	return sys_fstatat(fd, "", st, AT_EMPTY_PATH);
}

int fstat(int fd, struct stat *st)
{
	int rc = sys_fstat(fd, st);

	if (rc == 0 && ours(fd))
		stat_as_socket(st);
	return rc;
}

int fstat64(int fd, struct stat64 *st)
{
	int rc = sys_fstat(fd, st);

	if (rc == 0 && ours(fd))
		stat_as_socket((struct stat *)st);
	return rc;
}

/* fstatat(fd, "", st, AT_EMPTY_PATH) is fstat(fd). */
static bool stat_at_fd(int fd, const char *path, int flags)
{
	return (flags & AT_EMPTY_PATH) && path && !path[0] && ours(fd);
}

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	int rc = sys_fstatat(dirfd, path, st, flags);

	if (rc == 0 && stat_at_fd(dirfd, path, flags))
		stat_as_socket(st);
	return rc;
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
	int rc = sys_fstatat(dirfd, path, st, flags);

	if (rc == 0 && stat_at_fd(dirfd, path, flags))
		stat_as_socket((struct stat *)st);
	return rc;
}

int statx(int dirfd, const char *path, int flags, unsigned int mask,
	  struct statx *stx)
{
	int rc = REAL(statx)(dirfd, path, flags, mask, stx);

	if (rc == 0 && stat_at_fd(dirfd, path, flags)) {
		stx->stx_mode = S_IFSOCK | 0777;
		stx->stx_nlink = 1;
		stx->stx_size = 0;
		stx->stx_blocks = 0;
		stx->stx_blksize = 4096;
		stx->stx_rdev_major = stx->stx_rdev_minor = 0;
	}
	return rc;
}

/* Programs built before glibc 2.33 call these (ver 1 on x86-64: the
 * layout of struct stat). */
int __fxstat(int ver, int fd, struct stat *st);
int __fxstat64(int ver, int fd, struct stat64 *st);

int __fxstat(int ver, int fd, struct stat *st)
{
	(void)ver;
	return fstat(fd, st);
}

int __fxstat64(int ver, int fd, struct stat64 *st)
{
	(void)ver;
	return fstat64(fd, st);
}

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags);
int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags);

int __fxstatat(int ver, int dirfd, const char *path, struct stat *st,
	       int flags)
{
	(void)ver;
	return fstatat(dirfd, path, st, flags);
}

int __fxstatat64(int ver, int dirfd, const char *path, struct stat64 *st,
		 int flags)
{
	(void)ver;
	return fstatat64(dirfd, path, st, flags);
}

/* ---- signal handlers --------------------------------------------------- */

/* Handlers run outside ustack's calls (signals.c). */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	return shim_sigaction(sig, act, old);
}

sighandler_t signal(int sig, sighandler_t handler)
{
	return shim_signal(sig, handler, SA_RESTART);
}

sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return shim_signal(sig, handler, SA_RESTART);
}

/* System V's: reset to SIG_DFL when it comes, not blocked, no restart. */
sighandler_t sysv_signal(int sig, sighandler_t handler)
{
	return shim_signal(sig, handler, SA_RESETHAND | SA_NODEFER);
}

sighandler_t __sysv_signal(int sig, sighandler_t handler)
{
	return shim_signal(sig, handler, SA_RESETHAND | SA_NODEFER);
}

/*
 * System V's sigset() (POSIX.1-2001 XSI): a handler with an empty sa_mask
 * and no flags, and sig taken out of the thread's mask; SIG_HOLD only adds
 * sig to the mask. It returns SIG_HOLD when sig was blocked before, else
 * the previous disposition. (glibc's own calls its internal sigaction,
 * which the shim does not see.)
 */
sighandler_t sigset(int sig, sighandler_t disp)
{
	struct sigaction sa, old;
	sigset_t one, was;

	sigemptyset(&one);
	if (sigaddset(&one, sig) < 0)
		return SIG_ERR;
	if (disp == SIG_HOLD) {
		if (pthread_sigmask(SIG_BLOCK, &one, &was) != 0)
			return SIG_ERR;
		if (sigismember(&was, sig))
			return SIG_HOLD;
		if (shim_sigaction(sig, NULL, &old) < 0)
			return SIG_ERR;
		return old.sa_handler;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = disp;
	sigemptyset(&sa.sa_mask);
	if (shim_sigaction(sig, &sa, &old) < 0 ||
	    pthread_sigmask(SIG_UNBLOCK, &one, &was) != 0)
		return SIG_ERR;
	return sigismember(&was, sig) ? SIG_HOLD : old.sa_handler;
}

int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(REAL(fcntl), fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(REAL(fcntl64), fd, cmd, arg);
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	DISPATCH(fd, us_ioctl(fd, req, arg), REAL(ioctl)(fd, req, arg));
}

/* ---- readiness ---------------------------------------------------------- */

/*
 * The first ustack socket in the set, else -2 when it holds an epoll
 * instance of ours (whose stale items us_poll drops first, as Linux's
 * ep_eventpoll_poll; a fork() child's poll is the kernel's), else -1.
 */
/* (fds not const: glibc declares poll's write-only, and gcc warns when
 * it goes where only reading is allowed.) */
static int poll_set_ours(struct pollfd *fds, nfds_t n)
{
	int r = -1;

	for (nfds_t i = 0; fds && i < n; i++) {
		if (ours(fds[i].fd))
			return fds[i].fd;
		if (epoll_ours(fds[i].fd))
			r = -2;
	}
	return r == -2 && shim_in_child() ? -1 : r;
}

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	int fd = poll_set_ours(fds, n);

	if (fd == -1)
		return REAL(poll)(fds, n, timeout);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL_ONCE(us_poll(fds, n, timeout));
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
	  const sigset_t *mask)
{
	int fd = poll_set_ours(fds, n);

	if (fd == -1)
		return REAL(ppoll)(fds, n, tmo, mask);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL_ONCE(us_ppoll(fds, n, tmo, mask));
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo,
		const sigset_t *mask, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, tmo, mask);
}

static int select_set_ours(int n, fd_set *r, fd_set *w, fd_set *e)
{
	int found = -1;

	if (n > FD_SETSIZE)
		n = FD_SETSIZE;
	for (int fd = 0; fd < n; fd++) {
		if (!((r && FD_ISSET(fd, r)) || (w && FD_ISSET(fd, w)) ||
		      (e && FD_ISSET(fd, e))))
			continue;
		if (ours(fd))
			return fd;
		if (epoll_ours(fd))
			found = -2;
	}
	return found == -2 && shim_in_child() ? -1 : found;
}

int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	int fd = select_set_ours(n, r, w, e);

	if (fd == -1)
		return REAL(select)(n, r, w, e, tv);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL_ONCE(us_select(n, r, w, e, tv));
}

int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
	    const sigset_t *mask)
{
	int fd = select_set_ours(n, r, w, e);

	if (fd == -1)
		return REAL(pselect)(n, r, w, e, ts, mask);
	if (shim_in_child())
		return (int)child_fail(fd);
	return SHIM_CALL_ONCE(us_pselect(n, r, w, e, ts, mask));
}

int epoll_create(int size)
{
	if (shim_in_child())
		return REAL(epoll_create)(size);
	return SHIM_CALL_ONCE(us_epoll_create(size));
}

int epoll_create1(int flags)
{
	if (shim_in_child())
		return REAL(epoll_create1)(flags);
	return SHIM_CALL_ONCE(us_epoll_create1(flags));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	if (!epoll_ours(epfd))
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if (shim_in_child())
		return (int)child_fail(epfd);
	return SHIM_CALL_ONCE(us_epoll_ctl(epfd, op, fd, ev));
}

int epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	if (!epoll_ours(epfd))
		return REAL(epoll_wait)(epfd, evs, max, timeout);
	if (shim_in_child())
		return (int)child_fail(epfd);
	return SHIM_CALL_ONCE(us_epoll_pwait(epfd, evs, max, timeout, NULL));
}

int epoll_pwait(int epfd, struct epoll_event *evs, int max, int timeout,
		const sigset_t *mask)
{
	if (!epoll_ours(epfd))
		return REAL(epoll_pwait)(epfd, evs, max, timeout, mask);
	if (shim_in_child())
		return (int)child_fail(epfd);
	return SHIM_CALL_ONCE(us_epoll_pwait(epfd, evs, max, timeout, mask));
}

/* epoll_pwait2's timespec, in milliseconds rounded up (never shorter). */
int epoll_pwait2(int epfd, struct epoll_event *evs, int max,
		 const struct timespec *ts, const sigset_t *mask)
{
	long long ms = -1;

	if (!epoll_ours(epfd))
		return REAL(epoll_pwait2)(epfd, evs, max, ts, mask);
	if (shim_in_child())
		return (int)child_fail(epfd);
	if (ts) {
		if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000L)
			return (int)fail(EINVAL);
		ms = (long long)ts->tv_sec * 1000 + (ts->tv_nsec + 999999) / 1000000;
		if (ms > 0x7fffffff)
			ms = 0x7fffffff;
	}
	return SHIM_CALL_ONCE(us_epoll_pwait(epfd, evs, max, (int)ms, mask));
}

/* ---- the library's own calls (ld --wrap): libc, never the shim -------- */

int __wrap_socket(int domain, int type, int protocol)
{
	return REAL(socket)(domain, type, protocol);
}

int __wrap_close(int fd)
{
	return REAL(close)(fd);
}

ssize_t __wrap_read(int fd, void *buf, size_t len)
{
	return REAL(read)(fd, buf, len);
}

ssize_t __wrap_write(int fd, const void *buf, size_t len)
{
	return REAL(write)(fd, buf, len);
}

ssize_t __wrap_readv(int fd, const struct iovec *iov, int n)
{
	return REAL(readv)(fd, iov, n);
}

ssize_t __wrap_writev(int fd, const struct iovec *iov, int n)
{
	return REAL(writev)(fd, iov, n);
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	return REAL(ioctl)(fd, req, arg);
}

int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	long arg;

	va_start(ap, cmd);
	arg = va_arg(ap, long);
	va_end(ap);
	return REAL(fcntl)(fd, cmd, arg);
}

int __wrap_poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return REAL(poll)(fds, n, timeout);
}

int __wrap_epoll_create1(int flags)
{
	return REAL(epoll_create1)(flags);
}

int __wrap_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	return REAL(epoll_ctl)(epfd, op, fd, ev);
}

int __wrap_epoll_wait(int epfd, struct epoll_event *evs, int max, int timeout)
{
	return REAL(epoll_wait)(epfd, evs, max, timeout);
}
