/*
 * sigurg.c - the owner of a socket (fcntl F_SETOWN, F_GETOWN, F_SETOWN_EX,
 * F_GETOWN_EX, as Linux's fs/fcntl.c keeps it in the file's f_owner): who
 * gets the SIGURG of the peer's urgent pointer (Linux's sk_send_sigurg)
 * and, with O_ASYNC, SIGIO (socket/sigio.c, which queues and sends both).
 *
 * ustack runs in the owner's own process, so the signal is sent with
 * kill() (a process or a process group; process group 1 through a pidfd,
 * since kill(-1) means every process) or tgkill() (a thread), or their
 * siginfo-carrying forms. It is sent only once the core lock is
 * released: a SIGURG handler commonly calls recv(MSG_OOB), which needs
 * that lock, and the thread that handled the segment is a likely one to
 * run the handler.
 *
 * Call chain: tcp_check_urg -> sk_wake_async(SOCK_WAKE_URG) =
 * sock_def_wake_async (queue in struct ustack) ... us_core_unlock
 * (sigio.c) -> kill/tgkill.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* pidfd_send_signal to the process group whose leader the pidfd names
 * (Linux 6.9; older kernels refuse the flag with EINVAL). */
#ifndef PIDFD_SIGNAL_PROCESS_GROUP
#define PIDFD_SIGNAL_PROCESS_GROUP (1U << 2)
#endif

#include "net/sock.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

/* Is there a process, thread or process group with this number (> 0)?
 * (Linux's find_vpid: any kind of id.) Process group 1 is init's, which
 * tkill finds (kill(-1) would ask about every process). */
static bool id_exists(int id)
{
	if (syscall(SYS_tkill, id, 0) == 0 || errno == EPERM)
		return true;
	return id > 1 && (kill(-id, 0) == 0 || errno == EPERM);
}

/*
 * kill() for a process group: kill(-pgrp), except for group 1, where
 * that would be every process the caller may signal. Group 1 is reached
 * through a pidfd of its leader (pid 1); a kernel without
 * PIDFD_SIGNAL_PROCESS_GROUP gets the leader alone. A check (sig 0) of
 * group 1 asks whether pid 1 exists.
 */
int sock_kill_pgrp(int pgrp, int sig)
{
	int pidfd, rc;

	if (pgrp != 1)
		return kill(-pgrp, sig);
	if (sig == 0)
		return kill(1, 0);
	pidfd = (int)syscall(SYS_pidfd_open, 1, 0);
	if (pidfd < 0)
		return kill(1, sig);
	rc = (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL,
			  PIDFD_SIGNAL_PROCESS_GROUP);
	if (rc < 0 && errno == EINVAL)
		rc = kill(1, sig);
	close(pidfd);
	return rc;
}

/* Does the owner still exist, in the role it was named for? (Linux's
 * pid_task test in f_getown: a gone owner reads as 0.) */
static bool owner_alive(const struct socket *sock)
{
	int rc;

	switch (sock->owner_type) {
	case F_OWNER_PGRP:
		rc = sock_kill_pgrp(sock->owner_pid, 0);
		break;
	case F_OWNER_TID:
		rc = (int)syscall(SYS_tkill, sock->owner_pid, 0);
		break;
	default:
		rc = kill(sock->owner_pid, 0);
		break;
	}
	return rc == 0 || errno == EPERM;
}

/* Linux's f_setown_ex/f_setown: a number that names nothing is ESRCH,
 * and a negative one never does (find_vpid finds no negative id). */
static int set_owner(struct socket *sock, int type, int pid)
{
	int saved = errno;

	if (pid < 0)
		return -ESRCH;
	if (pid && !id_exists(pid)) {
		errno = saved;
		return -ESRCH;
	}
	errno = saved;
	sock->owner_type = type;
	sock->owner_pid = pid;
	return 0;
}

int sock_fcntl_owner(struct socket *sock, int cmd, long arg)
{
	struct f_owner_ex ex;
	int who = (int)arg;
	int saved = errno;
	bool alive;

	switch (cmd) {
	case F_SETOWN:
		/* A negative number names a process group. */
		if (who == INT_MIN)
			return -EINVAL;
		if (who < 0)
			return set_owner(sock, F_OWNER_PGRP, -who);
		return set_owner(sock, F_OWNER_PID, who);
	case F_GETOWN:
		if (!sock->owner_pid)
			return 0;
		alive = owner_alive(sock);
		errno = saved;
		if (!alive)
			return 0;
		return sock->owner_type == F_OWNER_PGRP ? -sock->owner_pid
							: sock->owner_pid;
	case F_SETOWN_EX:
		if (!arg)
			return -EFAULT;
		memcpy(&ex, (const void *)arg, sizeof(ex));
		if (ex.type != F_OWNER_TID && ex.type != F_OWNER_PID &&
		    ex.type != F_OWNER_PGRP)
			return -EINVAL;
		return set_owner(sock, ex.type, ex.pid);
	case F_GETOWN_EX:
		if (!arg)
			return -EFAULT;
		ex.type = sock->owner_type;
		ex.pid = sock->owner_pid && owner_alive(sock) ? sock->owner_pid
							      : 0;
		errno = saved;
		memcpy((void *)arg, &ex, sizeof(ex));
		return 0;
	default:
		return -ENOSYS;
	}
}
