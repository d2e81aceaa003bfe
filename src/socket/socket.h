/*
 * socket.h - struct socket, the BSD socket: what a user's descriptor is.
 *
 * A struct socket is the socket level of the three: its descriptor number
 * is a real kernel file descriptor (an eventfd the stack owns), so numbers
 * never collide with files or kernel sockets, and a kernel poll/epoll on it
 * wakes when the socket becomes readable. It holds the type, the BSD state,
 * the nonblocking flag, an ops table per family and type (Linux's struct
 * proto_ops: inet_dgram_ops, later inet_stream_ops), the struct sock below
 * it, and the wait queue.
 *
 * Call chain: us_recv (api.c) -> sockfd_lookup -> sock->ops->recvmsg
 *             (af_inet.c) -> sk->prot->recvmsg (udp.c) ... and back up
 *             through sk->sk_data_ready -> sock_def_wakeup -> us_wake_up.
 */
#ifndef US_SOCKET_SOCKET_H
#define US_SOCKET_SOCKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "core/clock.h"
#include "socket/wait.h"

struct ustack;
struct sock;
struct socket;

/* BSD socket states (Linux's socket_state). */
enum socket_state {
	SS_FREE = 0,
	SS_UNCONNECTED,
	SS_CONNECTING,
	SS_CONNECTED,
	SS_DISCONNECTING,
};

/*
 * A protocol's EAGAIN that ends the call even when the call may block:
 * nothing a wait would bring makes it succeed. Linux's inet_sendmsg
 * returns inet_autobind's EAGAIN at once (an unbound datagram socket and
 * no free port in net.ipv4.ip_local_port_range), where ustack's socket
 * layer would otherwise wait for POLLOUT and try again. The caller sees
 * EAGAIN. (Above Linux's kernel-internal codes, 512 to 529.)
 */
#define EAGAIN_NOWAIT 1001

/* Operations of one family and type (Linux's struct proto_ops). Each
 * returns 0 / a byte count, or -errno. The core lock is held. */
struct proto_ops {
	int family;
	int (*release)(struct socket *sock);
	int (*bind)(struct socket *sock, const struct sockaddr *addr,
		    socklen_t len);
	int (*connect)(struct socket *sock, const struct sockaddr *addr,
		       socklen_t len, int flags);
	int (*accept)(struct socket *sock, struct socket *newsock, int flags);
	int (*getname)(struct socket *sock, struct sockaddr *addr,
		       socklen_t *len, int peer);
	/* Current readiness: POLLIN, POLLOUT, POLLERR, POLLHUP, ... */
	uint32_t (*poll)(struct socket *sock);
	int (*ioctl)(struct socket *sock, unsigned long cmd, void *arg);
	int (*listen)(struct socket *sock, int backlog);
	int (*shutdown)(struct socket *sock, int how);
	int (*setsockopt)(struct socket *sock, int level, int optname,
			  const void *optval, socklen_t optlen);
	int (*getsockopt)(struct socket *sock, int level, int optname,
			  void *optval, socklen_t *optlen);
	ssize_t (*sendmsg)(struct socket *sock, const struct msghdr *msg,
			   size_t len, int flags);
	ssize_t (*recvmsg)(struct socket *sock, struct msghdr *msg, size_t len,
			   int flags);
	/* sendmsg and recvmsg wait themselves, within the socket's timeout
	 * (a stream's do, as Linux's tcp_sendmsg and tcp_recvmsg): their
	 * EAGAIN is the call's answer. Otherwise the call waits for the
	 * poll mask and retries. */
	bool waits;
};

/*
 * The operations of a socket closed by another thread while a call held it
 * (sock_close_locked installs them, as the sock below is gone): each fails
 * with EBADF, poll reports POLLNVAL. An operation added to struct proto_ops
 * needs an entry here too.
 */
extern const struct proto_ops sock_dead_ops;

/* Ordered to leave no padding but one int's: every socket pays for it. */
struct socket {
	int fd;                     /* the descriptor (our eventfd) */
	int type;                   /* SOCK_STREAM, SOCK_DGRAM, ... */
	enum socket_state state;
	int f_flags;                /* the other F_SETFL flags it keeps */
	bool nonblock;              /* O_NONBLOCK */
	bool dead;                  /* closed: blocked calls return EBADF */
	bool evfd_ready;            /* the eventfd is signalled (readable) */
	bool rd_dirty;              /* on st->rd_dirty */
	/* The descriptor O_ASYNC was set through: si_fd (Linux's fa_fd) */
	int async_fd;
	struct list_head rd_node;
	atomic_int refcnt;          /* the descriptors + calls in flight */
	/* F_SETOWN / F_SETOWN_EX: who gets SIGURG and SIGIO (Linux's
	 * f_owner), and F_SETSIG's signal (0: SIGIO without details) */
	int owner_pid;              /* 0 = nobody */
	uint8_t owner_type;         /* F_OWNER_TID, _PID, _PGRP */
	uint8_t sigio_sig;
	/* Linux's SOCKWQ_ASYNC_NOSPACE: a writer ran out of room (or a
	 * poll found none) with O_ASYNC set; the next write space is
	 * POLL_OUT. SOCKWQ_ASYNC_WAITDATA: a read waits in the socket, so
	 * data arriving is no SIGIO. */
	bool async_nospace;
	bool async_waitdata;
	/* dup(): descriptors (kernel dups of the eventfd) that map to this
	 * socket, Linux's file refcount; under the fd table's lock. The
	 * table holds one reference while any is left. */
	int ndesc;
	const struct proto_ops *ops;
	struct sock *sk;
	struct ustack *st;
	struct us_wait_queue wq;
	struct list_head node;      /* on ustack->sockets */
};

/*
 * Create a socket of the family/type/protocol on st, with its eventfd
 * (close-on-exec if flags has SOCK_CLOEXEC). Returns it (refcnt 1, not yet
 * in the descriptor table) or NULL with *err = -errno. Core lock held.
 */
struct socket *sock_create(struct ustack *st, int family, int type,
			   int protocol, int flags, int *err);
/*
 * A new socket for accept(): same stack, type and ops as the listener, no
 * sock yet (ops->accept grafts one) and no eventfd yet (sock_alloc_fd).
 * NULL and *err on error.
 */
struct socket *sock_create_child(struct socket *listener, int *err);
/* Give sock its eventfd, the descriptor number, if it has none yet
 * (close-on-exec if flags has SOCK_CLOEXEC). 0 or -errno. */
int sock_alloc_fd(struct socket *sock, int flags);
/* Close under the core lock: mark dead, tell waiters and epoll sets
 * (POLLNVAL: wait entries must unlink themselves), release the sock. */
void sock_close_locked(struct socket *sock);
/* close() of a socket with SO_LINGER on and a time: start the protocol's
 * close and wait, at most that time, for the peer to acknowledge it. Core
 * lock held (released while asleep); before sock_close_locked. */
void sock_linger(struct socket *sock);
/* Attach sk under sock and install the default wake-up callbacks. */
void sock_graft(struct socket *sock, struct sock *sk);
/*
 * How long a call on sock may block: 0 for a nonblocking socket, a
 * MSG_DONTWAIT call or a socket closed meanwhile, else SO_RCVTIMEO (rcv)
 * or SO_SNDTIMEO. Core lock held.
 */
us_time_t sock_call_timeout(const struct socket *sock, int flags, bool rcv);
/* Recompute readiness and signal / clear the eventfd. Core lock held. */
void sock_update_readiness(struct socket *sock);
/*
 * Core lock held, about to be released (us_core_unlock): update the
 * eventfds of the sockets whose readiness changed while it was held.
 */
void sock_flush_readiness(struct ustack *st);
/* Core lock held: take sock off that list (it is closing). */
void sock_forget_readiness(struct socket *sock);

/*
 * Sleep until cond(sk, arg) holds, the socket dies, or *timeo_us passes
 * (US_TIME_NEVER = forever, 0 = do not sleep; on return it holds what is
 * left). Core lock held (released while asleep). Returns 0 when cond holds,
 * -EAGAIN on timeout, -EBADF if the socket was closed meanwhile, -EINTR
 * when a signal interrupted the sleep (see wait.h for SA_RESTART).
 */
int sock_wait_event(struct socket *sock, us_time_t *timeo_us,
		    bool (*cond)(struct sock *sk, void *arg), void *arg);
/*
 * The same, for a call whose operation has just answered EAGAIN: when cond
 * holds already (it did not foretell the operation's success: a datagram
 * socket's POLLERR for a queued ICMP error, POLLOUT under a full buffer
 * pool), the wait lasts until the next wake-up of the socket too, as
 * Linux's waits end on a change. Without that the call would retry for
 * ever under the core lock. Such a wait lasts at most 200 ms before the
 * operation is tried again (what failed may come right with no wake-up).
 */
int sock_wait_retry(struct socket *sock, us_time_t *timeo_us,
		    bool (*cond)(struct sock *sk, void *arg), void *arg);

/* socket/sigurg.c: F_SETOWN, F_GETOWN, F_SETOWN_EX, F_GETOWN_EX (-errno
 * or the result); other commands -ENOSYS. */
int sock_fcntl_owner(struct socket *sock, int cmd, long arg);
/* kill(-pgrp, sig), but for group 1 (kill(-1) is every process): its
 * leader's pidfd, the whole group on Linux 6.9 and later. */
int sock_kill_pgrp(int pgrp, int sig);
/* socket/sigio.c: F_SETSIG, F_GETSIG (-errno or the result). */
int sock_fcntl_sig(struct socket *sock, int cmd, long arg);
/* O_ASYNC on or off through descriptor fd (F_SETFL, FIOASYNC: Linux's
 * sock_fasync). */
void sock_fasync(struct socket *sock, int fd, bool on);
/*
 * Linux's sock_wake_async: with O_ASYNC and an owner, queue SIGIO (or
 * the F_SETSIG signal, with si_code band, si_band and si_fd) by the
 * rules of how (SOCK_WAKE_*). Core lock held; sent once it is released.
 */
void sock_wake_async(struct socket *sock, int how, int band);
/* sk->sk_wake_async: the above, and SIGURG for SOCK_WAKE_URG. */
void sock_def_wake_async(struct sock *sk, int how, int band);
/* A user's poll found sock with this mask (Linux's tcp_poll and
 * datagram_poll note a socket that is not writable: SOCK_NOSPACE in its
 * sock, SOCKWQ_ASYNC_NOSPACE with O_ASYNC). Core lock held. */
void sock_poll_nospace(struct socket *sock, uint32_t mask);
/* The readiness a user's poll, select or epoll sees (sock->ops->poll,
 * and sock_poll_nospace). Core lock held. */
static inline uint32_t sock_poll_user(struct socket *sock)
{
	uint32_t mask = sock->ops->poll(sock);

	sock_poll_nospace(sock, mask);
	return mask;
}
/* A write found no room in the send buffer (sk_stream_wait_memory). */
void sock_set_nospace(struct socket *sock);
/* Release the core lock, then send the signals queued meanwhile. */
void us_core_unlock(struct ustack *st);
/* Send them now (a single-threaded test driving the engine itself). */
void us_sigurg_flush(struct ustack *st);

/* The process-wide descriptor table (the only global state, as the
 * kernel's fd table). */
int fdtable_install(struct socket *sock);
/* Look up fd and take a reference; NULL with *err = -EBADF or -ENOTSOCK
 * (a kernel descriptor that is not ours). */
struct socket *sockfd_lookup(int fd, int *err);
void sockfd_put(struct socket *sock);
/* Remove fd from the table; the caller gets a reference (the table's if
 * it was the socket's last descriptor). */
struct socket *fdtable_remove(int fd);
/* The same, only if fd still maps to sock; *last: it was the last
 * descriptor. The socket's core lock held (sock->fd may move). */
struct socket *fdtable_remove_desc(int fd, const struct socket *sock,
				   bool *last);
/* fd as one more descriptor of sock (a kernel dup of its eventfd). */
int fdtable_install_dup(int fd, struct socket *sock);
/* True if fd maps to sock. */
bool fdtable_holds(int fd, const struct socket *sock);
/* Remove every descriptor of sock, closing all but sock->fd; true if it
 * had any (the table's reference passes to the caller). Core lock held. */
bool fdtable_forget_socket(struct socket *sock);
/* True if fd is a ustack socket / epoll instance. These take no lock (a
 * signal handler may ask while its thread holds the table's). */
bool fdtable_is_ours(int fd);
bool fdtable_is_epoll(int fd);
/* One more than the highest descriptor the table has room for. */
int fdtable_size(void);
/* Held across fork() (pthread_atfork), so that the child's copy of the
 * table is not locked by a thread that does not exist there. */
void fdtable_fork_lock(void);
void fdtable_fork_unlock(void);
/*
 * The table's second kind of entry: an epoll instance (socket/epoll.c),
 * whose descriptor is its kernel epoll fd. The socket calls above never
 * see these entries.
 */
struct us_epoll;
int fdtable_install_epoll(int fd, struct us_epoll *ep);
/* Look fd up and take a reference (eventpoll_get); NULL if not one. */
struct us_epoll *epollfd_lookup(int fd);
/* Remove fd if it is an epoll instance; the table's reference passes to
 * the caller. */
struct us_epoll *fdtable_remove_epoll(int fd);

/* The instance us_socket() creates sockets on (the first created, unless
 * set). */
void us_set_default_stack(struct ustack *st);
struct ustack *us_default_stack(void);

#endif
