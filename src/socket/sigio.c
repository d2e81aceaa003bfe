/*
 * sigio.c - signal-driven I/O on ustack sockets: O_ASYNC (fcntl F_SETFL,
 * ioctl FIOASYNC), F_SETSIG / F_GETSIG, and the signals themselves, as
 * Linux sends them (net/socket.c sock_wake_async, fs/fcntl.c send_sigio
 * and send_sigio_to_task).
 *
 * The protocols tell the socket level what happened through the sock's
 * callbacks (socket.c: sock_def_readable POLL_IN, sock_def_write_space
 * POLL_OUT, sock_def_error_report POLL_ERR) and sk_wake_async (TCP: the
 * connection made POLL_OUT, a FIN POLL_IN or POLL_HUP, urgent data
 * POLL_PRI). sock_wake_async applies Linux's rules and queues a signal
 * for the socket's owner (sigurg.c) in struct ustack; us_core_unlock sends
 * the queue once the core lock is released, so that a handler may call
 * ustack. They are sent with the thread's signals blocked and delivered
 * as the mask comes back, all at once, as the kernel delivers what it
 * queued during a system call on the way back to user space: a standard
 * signal sent twice arrives once, with the first one's details, and
 * several arrive lowest number first.
 *
 * What the owner receives (Linux's send_sigio_to_task):
 *   F_SETSIG 0 (the default): SIGIO, si_code SI_KERNEL, no details;
 *   F_SETSIG n: signal n, si_code the reason (POLL_IN, POLL_OUT, POLL_MSG,
 *   POLL_ERR, POLL_PRI, POLL_HUP; SI_SIGIO for a signal with codes of its
 *   own, such as SIGSEGV), si_band the poll bits of the reason, si_fd the
 *   descriptor O_ASYNC was set through.
 * Only the kernel may put a positive si_code on a signal for another
 * process or thread (rt_sigqueueinfo refuses it with EPERM), so:
 *   - our own process (F_OWNER_PID getpid()): exact, from any thread
 *     (rt_sigqueueinfo to the sending thread's own id, which Linux allows
 *     and delivers to the whole process, as kill() to a thread id does);
 *   - a thread (F_OWNER_TID) that is the sending thread: exact;
 *   - another thread of ours, another process or a process group: the
 *     reason is lost: si_code SI_SIGIO (Linux's "queued SIGIO"), si_band
 *     and si_fd kept; SIGIO without details comes as SI_USER / SI_TKILL
 *     from our pid instead of SI_KERNEL. A process group's signal keeps
 *     its details only through a pidfd of the group's leader (Linux 6.9,
 *     PIDFD_SIGNAL_PROCESS_GROUP): without a leader or on older kernels,
 *     kill(-pgrp) with none.
 *
 * Call chain: tcp_data_queue -> sk->sk_data_ready (socket.c) ->
 * sock_wake_async -> queue ... us_core_unlock -> send_one.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/sys.h"
#include "net/sock.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)
#endif

/* At most this many signals wait for one release of the core lock; past
 * it, as past Linux's queue of real-time signals, an owner gets SIGIO
 * without details instead (send_sigio_to_task's fallback), which tells it
 * to look at every descriptor. */
#define SIGQ_MAX 4096

/* ---- F_SETSIG, O_ASYNC ------------------------------------------------- */

int sock_fcntl_sig(struct socket *sock, int cmd, long arg)
{
	if (cmd == F_GETSIG)
		return sock->sigio_sig;
	/* Linux's valid_signal(): 0 .. the kernel's _NSIG (64; glibc's
	 * _NSIG counts one more), read unsigned. */
	if ((unsigned long)arg > 64)
		return -EINVAL;
	sock->sigio_sig = (uint8_t)arg;
	return 0;
}

/*
 * Linux's sock_fasync -> fasync_helper: the descriptor is remembered for
 * si_fd as O_ASYNC turns on (setfl and ioctl_fioasync call fasync only on
 * a change: setting it again through a dup keeps the first). Turning it
 * off leaves the NOSPACE / WAITDATA marks, as Linux does.
 */
void sock_fasync(struct socket *sock, int fd, bool on)
{
	bool was = sock->f_flags & O_ASYNC;

	if (on == was)
		return;
	if (on) {
		sock->f_flags |= O_ASYNC;
		sock->async_fd = fd;
	} else {
		sock->f_flags &= ~O_ASYNC;
	}
}

/* ---- the rules --------------------------------------------------------- */

/*
 * Linux's sk_set_bit(SOCKWQ_ASYNC_NOSPACE): only with O_ASYNC
 * (SOCK_FASYNC) on. Set by a write that found no room
 * (sk_stream_wait_memory, sock_alloc_send_pskb) and by a poll that found
 * the socket not writable (tcp_poll, datagram_poll).
 */
void sock_set_nospace(struct socket *sock)
{
	if (sock->f_flags & O_ASYNC)
		sock->async_nospace = true;
}

void sock_poll_nospace(struct socket *sock, uint32_t mask)
{
	struct sock *sk = sock->sk;

	if (!sk || (mask & POLLOUT))
		return;
	/* tcp_poll looks at the room only once the connection is set up
	 * and while the sending side is open; datagram_poll always. */
	if (sock->type == SOCK_STREAM &&
	    (sk->state == TCP_LISTEN || sk->state == TCP_SYN_SENT ||
	     sk->state == TCP_SYN_RECV || (sk->shutdown & SEND_SHUTDOWN)))
		return;
	sk->nospace = true;   /* (SOCK_NOSPACE: with or without O_ASYNC) */
	if (sock->f_flags & O_ASYNC)
		sock->async_nospace = true;
}

static void sigq_add(struct ustack *st, const struct socket *sock, int sig,
		     int code, int fd);

/*
 * Linux's sock_wake_async: nothing without O_ASYNC (the fasync list);
 * SOCK_WAKE_WAITD not while a read waits (SOCKWQ_ASYNC_WAITDATA);
 * SOCK_WAKE_SPACE only once after a writer ran out of room
 * (SOCKWQ_ASYNC_NOSPACE, tested and cleared); SOCK_WAKE_URG is
 * kill_fasync(SIGURG), which sends nothing for F_SETSIG 0 (SIGURG went
 * already). Then send_sigio: nothing without an owner.
 */
void sock_wake_async(struct socket *sock, int how, int band)
{
	int sig = sock->sigio_sig;

	if (!(sock->f_flags & O_ASYNC) || sock->dead)
		return;
	switch (how) {
	case SOCK_WAKE_WAITD:
		if (sock->async_waitdata)
			return;
		break;
	case SOCK_WAKE_SPACE:
		if (!sock->async_nospace)
			return;
		sock->async_nospace = false;
		break;
	case SOCK_WAKE_URG:
		if (!sig)
			return;
		break;
	default:
		break;
	}
	if (!sock->owner_pid)
		return;
	/* send_sigio_to_task: signal 0 is SIGIO without details. */
	sigq_add(sock->st, sock, sig ? sig : SIGIO, sig ? band : 0,
		 sock->async_fd);
}

/* Linux's sk_send_sigurg: SIGURG for an owner (send_sigurg), then, if
 * there was one, the O_ASYNC signal with POLL_PRI. */
void sock_def_wake_async(struct sock *sk, int how, int band)
{
	struct socket *sock = sk->sk_socket;

	if (!sock)
		return;
	if (how == SOCK_WAKE_URG) {
		if (!sock->owner_pid)
			return;
		sigq_add(sk->st, sock, SIGURG, 0, -1);
	}
	sock_wake_async(sock, how, band);
}

/* ---- the queue --------------------------------------------------------- */

static bool sigq_same_owner(const struct us_sigq *e, const struct socket *sock)
{
	return e->pid == sock->owner_pid && e->type == sock->owner_type;
}

/* Room for one more entry; false when the queue may not grow. */
static bool sigq_room(struct ustack *st)
{
	struct us_sigq *q;
	int cap;

	if (st->sigq_n < st->sigq_cap)
		return true;
	if (st->sigq_cap >= SIGQ_MAX)
		return false;
	cap = st->sigq_cap ? st->sigq_cap * 2 : 16;
	q = realloc(st->sigq, (size_t)cap * sizeof(*q));
	if (!q)
		return false;
	st->sigq = q;
	st->sigq_cap = cap;
	return true;
}

static void sigq_add(struct ustack *st, const struct socket *sock, int sig,
		     int code, int fd)
{
	struct us_sigq *e;

	/* A standard signal pending once is all its owner sees (the
	 * kernel keeps the first one's details): one entry will do.
	 * Real-time signals queue one each. */
	if (sig < SIGRTMIN)
		for (int i = 0; i < st->sigq_n; i++) {
			e = &st->sigq[i];
			if (e->sig == sig && sigq_same_owner(e, sock))
				return;
		}
	if (!sigq_room(st)) {
		/* Full: the owner's last entry becomes SIGIO without
		 * details (the kernel's fallback when a real-time signal
		 * cannot be queued), so that it looks at everything. */
		for (int i = st->sigq_n - 1; i >= 0; i--) {
			e = &st->sigq[i];
			if (sigq_same_owner(e, sock) && e->sig != SIGURG) {
				e->sig = SIGIO;
				e->code = 0;
				return;
			}
		}
		return;
	}
	e = &st->sigq[st->sigq_n++];
	e->pid = sock->owner_pid;
	e->type = sock->owner_type;
	e->sig = (uint8_t)sig;
	e->code = (uint8_t)code;
	e->fd = fd;
}

/* ---- sending ----------------------------------------------------------- */

/* Linux's band_table: the poll bits of each reason, POLL_IN .. POLL_HUP. */
static long band_of(int code)
{
	static const long band[] = {
		POLLIN | POLLRDNORM,                     /* POLL_IN */
		POLLOUT | POLLWRNORM | POLLWRBAND,       /* POLL_OUT */
		POLLIN | POLLRDNORM | POLLMSG,           /* POLL_MSG */
		POLLERR,                                 /* POLL_ERR */
		POLLPRI | POLLRDBAND,                    /* POLL_PRI */
		POLLHUP | POLLERR,                       /* POLL_HUP */
	};

	return code >= POLL_IN && code <= POLL_HUP ? band[code - POLL_IN] : ~0L;
}

/* Linux's sig_specific_sicodes: signals whose si_code means something of
 * their own get SI_SIGIO instead of the reason (SIGIO itself excepted). */
static bool sig_specific_codes(int sig)
{
	return sig == SIGILL || sig == SIGFPE || sig == SIGSEGV ||
	       sig == SIGBUS || sig == SIGTRAP || sig == SIGCHLD ||
	       sig == SIGSYS;
}

static long sys_sigqueue(pid_t pid, int sig, siginfo_t *si)
{
	return syscall(SYS_rt_sigqueueinfo, pid, sig, si);
}

/* A process group's signal with details (SI_SIGIO): through a pidfd of
 * its leader. Fails without one, or before Linux 6.9. */
static long pgrp_sigqueue(int pgrp, int sig, siginfo_t *si)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pgrp, 0);
	long rc;

	if (pidfd < 0)
		return -1;
	rc = syscall(SYS_pidfd_send_signal, pidfd, sig, si,
		     PIDFD_SIGNAL_PROCESS_GROUP);
	close(pidfd);
	return rc;
}

/*
 * The signal a failed send with siginfo falls back on. Linux's
 * send_sigio_to_task sends plain SIGIO when the F_SETSIG signal cannot be
 * queued (RLIMIT_SIGPENDING: EAGAIN), so the owner learns to look at every
 * descriptor; a kill() of the real-time signal would merge or come
 * without si_fd. Any other failure (a kernel without the pidfd process
 * group send, a process that forbids si_code) keeps the signal asked for.
 */
static int fallback_sig(const struct us_sigq *e)
{
	return e->code && errno == EAGAIN ? SIGIO : e->sig;
}

static void send_one(const struct us_sigq *e)
{
	pid_t self = getpid(), tid = us_sys_gettid();
	siginfo_t si;
	int sig;

	memset(&si, 0, sizeof(si));
	si.si_signo = e->sig;
	if (e->code) {
		si.si_code = sig_specific_codes(e->sig) ? SI_SIGIO : e->code;
		si.si_band = band_of(e->code);
		si.si_fd = e->fd;
	} else {
		si.si_code = SI_KERNEL;   /* SEND_SIG_PRIV */
	}
	switch (e->type) {
	case F_OWNER_PGRP:
		si.si_code = SI_SIGIO;
		if (!e->code)
			sock_kill_pgrp(e->pid, e->sig);
		else if (pgrp_sigqueue(e->pid, e->sig, &si) < 0)
			sock_kill_pgrp(e->pid, fallback_sig(e));
		return;
	case F_OWNER_TID:
		if (e->pid == tid &&
		    us_sys_tgsigqueue(self, tid, e->sig, &si) == 0)
			return;
		si.si_code = SI_SIGIO;
		if (e->code &&
		    us_sys_tgsigqueue(self, e->pid, e->sig, &si) == 0)
			return;
		/* A thread of this process, as a rule; any other by tkill. */
		sig = fallback_sig(e);
		if (syscall(SYS_tgkill, self, e->pid, sig) < 0)
			syscall(SYS_tkill, e->pid, sig);
		return;
	default:
		/* To the sending thread's own id: the whole process, with
		 * any si_code (Linux allows that to the caller itself). */
		if (e->pid == self && sys_sigqueue(tid, e->sig, &si) == 0)
			return;
		si.si_code = SI_SIGIO;
		if (e->code && sys_sigqueue(e->pid, e->sig, &si) == 0)
			return;
		kill(e->pid, fallback_sig(e));
		return;
	}
}

/* Take the queue, unlock if asked, then send with this thread's signals
 * blocked, and deliver them as its mask comes back. */
static void flush(struct ustack *st, bool unlock)
{
	struct us_sigq *q = st->sigq;
	int n = st->sigq_n, saved_errno = errno;
	sigset_t block, saved;
	bool blocked;

	if (n) {
		st->sigq = NULL;
		st->sigq_n = st->sigq_cap = 0;
	}
	if (unlock)
		pthread_mutex_unlock(&st->lock);
	if (!n)
		return;
	us_async_signals(&block);
	blocked = pthread_sigmask(SIG_BLOCK, &block, &saved) == 0;
	for (int i = 0; i < n; i++)
		send_one(&q[i]);
	if (blocked)
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
	free(q);
	errno = saved_errno;
}

void us_core_unlock(struct ustack *st)
{
	us_runtime_before_unlock(st);
	sock_flush_readiness(st);
	flush(st, true);
}

void us_sigurg_flush(struct ustack *st)
{
	flush(st, false);
}
